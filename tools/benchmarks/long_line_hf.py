"""Hugging Face's tokenizer on tools/bad_inputs' 100 MB line, for the README's comparison.

The same line as bad_inputs ("a" × 100,000,000, no spaces: one word), tokenized by
transformers' BertTokenizerFast (the Rust `tokenizers`) from the model's vocab.txt with
truncation to 512 tokens, as `bert embed` does before its forward pass. Prints the wall time
of the call, the peak RSS of the process and the tokens it gave.

    .venv-golden/bin/python tools/benchmarks/long_line_hf.py [--model models/all-MiniLM-L6-v2] [--bytes N]
"""
import argparse
import os
import platform
import resource
import time

import tokenizers
import transformers
from transformers import BertTokenizerFast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/all-MiniLM-L6-v2", help="a model directory with vocab.txt")
    parser.add_argument("--bytes", type=int, default=100_000_000, help="length of the line")
    args = parser.parse_args()
    vocab = os.path.join(args.model, "vocab.txt")
    tokenizer = BertTokenizerFast(vocab_file=vocab, do_lower_case=True)
    line = "a" * args.bytes
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    encoding = tokenizer(line, truncation=True, max_length=512)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")
    print(f"line of {args.bytes:,} bytes: {seconds:.1f} s, peak RSS {peak / 1024:.0f} MB "
          f"({before / 1024:.0f} MB before the call), {len(encoding['input_ids'])} tokens: "
          f"{tokenizer.convert_ids_to_tokens(encoding['input_ids'])}")


if __name__ == "__main__":
    main()
