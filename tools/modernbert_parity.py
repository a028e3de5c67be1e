#!/usr/bin/env python3
"""A random ModernBERT-base-sized encoder (ModernBertConfig's defaults: 22 layers, hidden 768, 12 heads,
GeGLU 1152, every third layer global, a 128-token local window, rope bases 160,000 and 10,000), seeded,
converted by tools/convert, and `bert embed` on a long input (about 2,000 tokens: many windows, positions
where float32 rotary angles are large) and a short one, against transformers' ModernBertModel (eager
attention) in float32 and float64: the mean-pooled embeddings' largest differences. A check at full size,
beside the tiny checkpoints' goldens; needs .venv-golden, the tokenizers' training data and a built bert.

usage: .venv-golden/bin/python tools/modernbert_parity.py [BERT_BINARY]   (default .build/release/bert)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import ModernBertConfig, ModernBertModel

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TOKENIZER = os.path.join(ROOT, "Tests", "TokenizersTests", "Resources", "tokenizer_json", "nfc.json")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "bert")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    tok = Tokenizer.from_file(TOKENIZER)
    config = ModernBertConfig(pad_token_id=tok.token_to_id("[PAD]"), cls_token_id=1, sep_token_id=2, bos_token_id=1,
                              eos_token_id=2)
    config._attn_implementation = "eager"
    model = ModernBertModel(config).eval()
    with open(os.path.join(ROOT, "tokenizers", "sentencepiece", "botchan.txt"), encoding="utf-8") as f:
        lines = [line for line in f.read().split("\n") if line.strip()]
    texts = [" ".join(lines[:80]), " ".join(lines[200:203])]
    with tempfile.TemporaryDirectory() as work:
        hf, out = os.path.join(work, "hf"), os.path.join(work, "out")
        model.save_pretrained(hf)
        shutil.copyfile(TOKENIZER, os.path.join(hf, "tokenizer.json"))
        with open(os.path.join(hf, "tokenizer_config.json"), "w") as f:
            json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "pad_token": "[PAD]", "cls_token": "[CLS]",
                       "sep_token": "[SEP]", "unk_token": "[UNK]", "mask_token": "[MASK]", "model_max_length": 8192}, f)
        subprocess.run([os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "tools", "convert"), hf, out],
                       check=True, stdout=subprocess.DEVNULL)
        ours = subprocess.run([binary, "embed", "--model", out], input="\n".join(texts) + "\n", capture_output=True,
                              text=True, check=True).stdout.strip().split("\n")
    twin = ModernBertModel(config).double().eval()
    twin.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    for text, line in zip(texts, ours):
        ids = torch.tensor([tok.encode(text).ids])
        with torch.no_grad():
            theirs = model(input_ids=ids).last_hidden_state[0].double().mean(0).numpy()
            exact = twin(input_ids=ids).last_hidden_state[0].mean(0).numpy()
        mine = np.array(json.loads(line), dtype=np.float64)
        print(f"{ids.shape[1]} tokens: max |ours - torch float32| {np.abs(mine - theirs).max():.3g}, "
              f"|torch float32 - float64| {np.abs(theirs - exact).max():.3g}, |ours - float64| {np.abs(mine - exact).max():.3g} "
              f"(largest |value| {np.abs(theirs).max():.3g})")


if __name__ == "__main__":
    main()
