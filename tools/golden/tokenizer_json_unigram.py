#!/usr/bin/env python3
"""Golden files for the tokenizer.json Unigram model and the Metaspace pre-tokenizer and
decoder, from the `tokenizers` library on Unigram tokenizers it trains here (UnigramTrainer)
on the same text as tools/golden/tokenizer_json.py, whose records, texts and jobs it reuses.

usage: .venv-golden/bin/python tools/golden/tokenizer_json_unigram.py [REPO_ROOT]

Writes Tests/TokenizersTests/Resources/tokenizer_json/NAME.json:

  unigram           XLM-R's shape without its Precompiled normalizer: NFKC, Metaspace (prepend
                    always, split), Unigram with <unk>, <s> $A </s> / <s> $A </s> </s> $B </s>,
                    <mask> with lstrip, the Metaspace decoder.
  unigram_fallback  Unigram with byte_fallback (the 256 <0xXX> pieces in its vocabulary),
                    Metaspace prepend "first" and no split, a Replace and a Prepend normalizer
                    (Llama's shape), an alphabet limited so that unknown scalars fall back.
  xlmr_normalizer   XLM-R's own normalizer and pre-tokenizer, as transformers 5 converts
                    multilingual-e5-small's sentencepiece.bpe.model (models/multilingual-e5-small,
                    from tools/setup) into a tokenizer.json: the Precompiled charsmap of its
                    nmt_nfkc rules, WhitespaceSplit then Metaspace; a Unigram of 1500 pieces that
                    tokenizers trains behind them (the real 250,002-piece file is 17 MB).

  split_removed, split_merged, split_contiguous
                    one Unigram (trained behind WhitespaceSplit, Punctuation, Digits) behind three
                    pre-tokenizer Sequences that use every split behaviour: Split on a String
                    (Removed; MergedWithNext; Contiguous with invert), Punctuation
                    (MergedWithPrevious; MergedWithNext; Contiguous; Removed), Digits (individual
                    or in runs).

and Tests/TokenizersTests/Resources/tokenizer_json_unigram_golden.json (the same record format).
UnigramTrainer is not deterministic between runs (its pieces' scores move in the last digits), so
each run rewrites the files; the records always come from the files as written in the same run.
"""

import base64
import json
import os
import shutil
import sys
import tempfile

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_json import BOTCHAN, SENTENCES, jobs_for, write_golden  # noqa: E402
from wordpiece import read_lines  # noqa: E402


def make_tokenizers(corpus, root):
    toks = {}
    t = Tokenizer(models.Unigram())
    t.normalizer = normalizers.NFKC()
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    t.train_from_iterator(corpus, trainer=trainers.UnigramTrainer(
        vocab_size=1500, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], unk_token="<unk>",
        show_progress=False))
    t.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)])
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", t.token_to_id("<s>")), ("</s>", t.token_to_id("</s>"))])
    t.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    toks["unigram"] = t

    t = Tokenizer(models.Unigram())
    t.normalizer = normalizers.Sequence([normalizers.Replace(" ", "▁"), normalizers.Prepend("▁")])
    t.train_from_iterator(corpus, trainer=trainers.UnigramTrainer(
        vocab_size=800, special_tokens=["<unk>", "<s>", "</s>"], unk_token="<unk>", max_piece_length=8,
        initial_alphabet=[], show_progress=False))
    spec = json.loads(t.to_str())
    spec["model"]["byte_fallback"] = True
    vocab = spec["model"]["vocab"]
    present = {piece for piece, _ in vocab}
    lowest = min(score for _, score in vocab)
    vocab += [[f"<0x{b:02X}>", lowest - 1.0] for b in range(256) if f"<0x{b:02X}>" not in present]
    t = Tokenizer.from_str(json.dumps(spec))
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B",
        special_tokens=[("<s>", t.token_to_id("<s>"))])
    t.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    toks["unigram_fallback"] = t

    real = xlmr_spec(root)
    t = Tokenizer(models.Unigram())
    t.normalizer = normalizers.Precompiled(base64.b64decode(real["normalizer"]["precompiled_charsmap"])) \
        if real["normalizer"]["type"] == "Precompiled" else None
    spec = json.loads(t.to_str())
    spec["normalizer"] = real["normalizer"]
    spec["pre_tokenizer"] = real["pre_tokenizer"]
    t = Tokenizer.from_str(json.dumps(spec))
    t.train_from_iterator(corpus, trainer=trainers.UnigramTrainer(
        vocab_size=1500, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>", show_progress=False))
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", t.token_to_id("<s>")), ("</s>", t.token_to_id("</s>"))])
    spec = json.loads(t.to_str())
    spec["decoder"] = real["decoder"]
    toks["xlmr_normalizer"] = Tokenizer.from_str(json.dumps(spec))

    t = Tokenizer(models.Unigram())
    t.normalizer = normalizers.NFKC()
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
                                               pre_tokenizers.Digits(individual_digits=True)])
    t.train_from_iterator(corpus, trainer=trainers.UnigramTrainer(
        vocab_size=1000, special_tokens=["[CLS]", "[SEP]", "[UNK]"], unk_token="[UNK]", show_progress=False))
    t.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", t.token_to_id("[CLS]")), ("[SEP]", t.token_to_id("[SEP]"))])
    trained = json.loads(t.to_str())
    P = pre_tokenizers
    for name, pre in (
            ("split_removed", P.Sequence([P.Split(" ", "removed"), P.Punctuation("merged_with_previous"), P.Digits(False)])),
            ("split_merged", P.Sequence([P.Split(" ", "merged_with_next"), P.Punctuation("merged_with_next"), P.Digits(True)])),
            ("split_contiguous", P.Sequence([P.Split("e", "contiguous", invert=True), P.Punctuation("contiguous"),
                                             P.Split(" ", "isolated"), P.Punctuation("removed")]))):
        variant = Tokenizer.from_str(json.dumps(trained))
        variant.pre_tokenizer = pre
        toks[name] = variant
    return toks


def xlmr_spec(root):
    """The tokenizer.json transformers makes of multilingual-e5-small's sentencepiece model."""
    from transformers import XLMRobertaTokenizer
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(root, "models", "multilingual-e5-small", "sentencepiece.bpe.model"), d)
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump({"tokenizer_class": "XLMRobertaTokenizer"}, f)
        return json.loads(XLMRobertaTokenizer.from_pretrained(d).backend_tokenizer.to_str())


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    botchan = read_lines(os.path.join(root, BOTCHAN))
    corpus = botchan + read_lines(os.path.join(root, SENTENCES))
    out_dir = os.path.join(root, "Tests", "TokenizersTests", "Resources", "tokenizer_json")
    os.makedirs(out_dir, exist_ok=True)
    toks = {}
    for name, tok in make_tokenizers(corpus, root).items():
        text = json.dumps(json.loads(tok.to_str()), ensure_ascii=False, indent=None, separators=(",", ":"))
        with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
            f.write(text + "\n")
        toks[name] = Tokenizer.from_str(text)  # the file as written is the reference
    # With the truncation jobs of the byte-level files.
    write_golden(root, "tokenizer_json_unigram_golden.json", toks, lambda name: jobs_for("roberta", botchan))

if __name__ == "__main__":
    main()
