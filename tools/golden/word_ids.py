#!/usr/bin/env python3
"""tokenizers' word ids on the committed tokenizer.json files: the reference for
TokenizerJSON.wordIndices(offsets:in:), which question answering widens its spans with.

usage: .venv-golden/bin/python tools/golden/word_ids.py [REPO_ROOT]   (run by tools/make_golden)

Each file of Tests/TokenizersTests/Resources/tokenizer_json/ encodes each text below (one
sequence, special tokens added); for its tokens that are not special, Encoding.word_ids.

Writes Tests/TokenizersTests/Resources/tokenizer_json_word_ids_golden.json:
  [{"tokenizer": NAME, "text": TEXT, "offsets": [[start, end], …], "word_ids": [...]}, …]
(offsets and word ids of the non-special tokens, in order).
"""

import json
import os
import sys

TEXTS = [
    "The old dog ran to the river, and (the) quick fox.",
    "don't stop: it's 3.14159 o'clock!",
    "  leading,   inner\tand trailing spaces  ",
    "Ünïcödé naïve café 😍 東京 ok",
    "a<mask>b <mask> c",
    "",
]


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    from tokenizers import Tokenizer
    folder = os.path.join(root, "Tests", "TokenizersTests", "Resources", "tokenizer_json")
    records = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        tokenizer = Tokenizer.from_file(os.path.join(folder, name))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        for text in TEXTS:
            e = tokenizer.encode(text)
            keep = [i for i, special in enumerate(e.special_tokens_mask) if not special]
            records.append({"tokenizer": name[:-len(".json")], "text": text,
                            "offsets": [list(e.offsets[i]) for i in keep], "word_ids": [e.word_ids[i] for i in keep]})
    with open(os.path.join(root, "Tests", "TokenizersTests", "Resources", "tokenizer_json_word_ids_golden.json"), "w",
              encoding="utf-8") as f:
        json.dump(records, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
