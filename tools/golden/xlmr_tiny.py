#!/usr/bin/env python3
"""A tiny XLM-RoBERTa model and its golden hidden states, for what differs from BERT: position
ids that start after the padding index (pad_token_id + 1), one token type, layer_norm_eps 1e-5,
the "roberta." prefix and the SentencePiece tokenizer in tools/convert.

usage: .venv-golden/bin/python tools/golden/xlmr_tiny.py [REPO_ROOT]

A random XLMRobertaForMaskedLM (seeded, 2 layers, hidden 32) with the vocabulary of
tokenizers/sentencepiece/botchan_en_unigram_1000.model in XLM-R's numbering is saved as a
Hugging Face directory and converted by tools/convert (with .venv) into
Tests/BERTTests/Resources/tiny-xlmr/. transformers' XLMRobertaModel on the same weights gives
tiny_xlmr_golden.json (sentences, ids) and tiny_xlmr_golden.safetensors ("hidden.K": (T_K, 32),
each sentence alone). The converter keeps the lm_head; transformers' fill-mask pipeline (top 5) on
the same XLMRobertaForMaskedLM gives tiny_xlmr_fill_mask_golden.json (texts, pipeline).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

FILL_MASK_TEXTS = ["I am a <mask>.", "Botchan went to the <mask> to teach mathematics.", "He did <mask> like it <mask> all."]
SENTENCES = [
    "I am a cat.",
    "Botchan went to the country to teach mathematics, and he did not like it at all.",
    "Hello <mask> world",
    "",
    "The quick brown fox jumps over the lazy dog; naïve café, 1234.",
]


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    import numpy as np
    import torch
    import transformers
    from safetensors.numpy import save_file
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaModel, XLMRobertaTokenizer

    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    spm_model = os.path.join(root, "tokenizers", "sentencepiece", "botchan_en_unigram_1000.model")
    config = XLMRobertaConfig(vocab_size=1002, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=64, max_position_embeddings=40, type_vocab_size=1,
                              pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5,
                              hidden_act="gelu", initializer_range=0.3)
    out = os.path.join(root, "Tests", "BERTTests", "Resources", "tiny-xlmr")
    with tempfile.TemporaryDirectory() as hf:
        XLMRobertaForMaskedLM(config).eval().save_pretrained(hf)  # "roberta." prefix and an lm_head
        shutil.copy(spm_model, os.path.join(hf, "sentencepiece.bpe.model"))
        with open(os.path.join(hf, "tokenizer_config.json"), "w") as f:
            json.dump({"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 38}, f)
        tokenizer = XLMRobertaTokenizer.from_pretrained(hf)
        model = XLMRobertaModel.from_pretrained(hf, add_pooling_layer=False, attn_implementation="eager").eval()
        # The converter keeps the lm_head: transformers' fill-mask pipeline on it is the
        # reference for XLM-R's masked-LM head and <mask> decoding (FillMaskGoldenTests).
        from transformers import XLMRobertaTokenizerFast, pipeline
        masked_lm = XLMRobertaForMaskedLM.from_pretrained(hf, attn_implementation="eager").eval()
        fill = pipeline("fill-mask", model=masked_lm, tokenizer=XLMRobertaTokenizerFast.from_pretrained(hf), device="cpu")
        fill_mask = {"texts": FILL_MASK_TEXTS, "pipeline": [fill(t, top_k=5) for t in FILL_MASK_TEXTS]}
        subprocess.run([os.path.join(root, ".venv", "bin", "python"), os.path.join(root, "tools", "convert"),
                        hf, out, "--name", "tiny random xlm-roberta (tools/golden/xlmr_tiny.py)"], check=True)
    ids = [tokenizer(s, truncation=True, max_length=38)["input_ids"] for s in SENTENCES]  # the last is cut
    tensors = {}
    with torch.no_grad():
        for k, sentence_ids in enumerate(ids):
            input_ids = torch.tensor([sentence_ids])
            hidden = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).last_hidden_state
            tensors[f"hidden.{k}"] = hidden[0].numpy().astype(np.float32)
    resources = os.path.dirname(out)
    with open(os.path.join(resources, "tiny_xlmr_golden.json"), "w", encoding="utf-8") as f:
        json.dump({"generated_by": "tools/golden/xlmr_tiny.py", "sentences": SENTENCES, "ids": ids}, f, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(resources, "tiny_xlmr_fill_mask_golden.json"), "w", encoding="utf-8") as f:
        json.dump(fill_mask, f, indent=1, ensure_ascii=False)
        f.write("\n")
    path = os.path.join(resources, "tiny_xlmr_golden.safetensors")
    save_file(tensors, path, metadata={"generated_by": "tools/golden/xlmr_tiny.py"})
    os.chmod(path, 0o644)
    print(f"xlmr_tiny.py: wrote {os.path.relpath(out, root)} and tiny_xlmr_golden.*: {len(SENTENCES)} sentences",
          file=sys.stderr)


if __name__ == "__main__":
    main()
