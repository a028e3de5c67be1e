#!/usr/bin/env python3
"""Golden files for two tokenizer conventions, from transformers' fast tokenizers on real
vocabularies and the hostile corpus of tools/golden/wordpiece.py (reused, not copied).

usage: .venv-golden/bin/python tools/golden/tokenizers_mpnet_albert.py [REPO_ROOT]

  mpnet   all-mpnet-base-v2's own tokenizer.json (MPNetTokenizer: WordPiece with <s> </s> <pad>
          [UNK] <mask>, RoBERTa's template, `<unk>` matched after normalization), from the
          directory tools/setup unzips into data/download/all-mpnet-base-v2 (run it first);
          the runtime.tokenizer block that reproduces it is written beside the records.
  albert  AlbertTokenizer (the fast one: transformers 5 has no other) on ALBERT-shaped copies
          of the two real unigram models in tokenizers/sentencepiece/: ALBERT's pieces <pad>
          <unk> [CLS] [SEP] [MASK] at ids 0-4 (its spm_train flags), then the model's own normal
          pieces with their scores and its normalization rules. Written to
          Tests/TokenizersTests/Resources/albert_*.model, as the tests need them.

Each record: text, pair, max_length, strategy, and ids, tokens, type_ids, offsets, or error
("sequence_too_short", "pair_required"). ALBERT records of single texts also carry, where
they differ, the ids from the sentencepiece package on the same words (transformers'
normalization and word split, sentencepiece's segmentation: "sentencepiece_ids") and from
sentencepiece 0.1.99 where it differs from 0.2.3 by an exact tie ("sentencepiece_0_1_ids"),
as tools/golden/sentencepiece_models.py does for XLM-R.

Writes Tests/TokenizersTests/Resources/mpnet_tokenizer_golden.json and albert_golden.json.
"""

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import sentencepiece as spm  # noqa: E402
from sentencepiece import sentencepiece_model_pb2 as model_pb2  # noqa: E402
from tokenizers import normalizers  # noqa: E402
from transformers import AlbertTokenizer, AutoTokenizer  # noqa: E402
from transformers.models.mpnet.tokenization_mpnet import MPNetTokenizer  # noqa: E402

from sentencepiece_models import (EXTRA_EDGE, JAPANESE, WHITE_SPACE, old_version_ids,  # noqa: E402
                                  path_score, read_lines, removed_white_space)
from wordpiece import EDGE, LONG, PAIRS, PROSE, STRATEGIES, generated_texts  # noqa: E402

# Texts about the special tokens of these two conventions.
SPECIAL_TEXTS = [
    "<s>", "</s>", "<pad>", "<mask>", "<unk>", "<UNK>", "<Unk> <uNK>", "[UNK]", "[unk]", "[CLS]", "[SEP]",
    "[MASK]", "[PAD]", "x <mask> y", "x<mask>y", "x  \t<mask>y", "<mask><mask>", " <mask> ", "a <s> b </s> c",
    "<s >", "<MASK>", "x [MASK] y", "x[MASK]y", "[CLS][SEP][MASK]", "a <unk>b<UNK>c", "<<unk>>", "<un<unk>k>",
    "<pad>[PAD]<pad>", "Ünk <ÜNK> <unk>é", "[CLS] q [SEP] a [SEP]",
]

# The ALBERT conventions' own normalizations: `` and '' become ", accents go, case folds.
ALBERT_TEXTS = [
    "``Quoted,'' he said.", "```triple''' and ``'' and '``'", "`single' `` '' ` '", "He said ``hi''.",
    "Numbers 9,000 and 1,234,567 and 3,", "a1, b2,c3,", "Iñtërnâtiônàlizætiøn", "ÀÉÎÕÜ àéîõü ÇçÑñ",
    "ﬁ ﬀ ﬃ ½ ² ㍻ ℌ Ⅻ ① ㈱ ｶﾞ", "İ ı ẞ ß Ǆ ǅ", "e\u0301 o\u0308 a\u0316\u0301",
    "ＡＢＣ　ｄｅｆ", "the  quick\u00a0brown\u3000fox", "  \t  ", "\u200b\u200c\u200d", "▁ ▁▁ ▁a",
]

ALBERT_MODELS = ["botchan_en_unigram_1000", "kyoto_ja_unigram_8000"]
ALBERT_SPECIALS = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
ALBERT_CONFIGS = {
    "default": {"do_lower_case": True, "keep_accents": False},
    "cased_keep_accents": {"do_lower_case": False, "keep_accents": True},
}
STRATEGIES_BY_LENGTH = {"single": (2, 3, 4, 5, 8, 16, 64), "pair": (4, 5, 6, 8, 11, 16)}


def encode(tok, text, pair, max_length, strategy):
    """One record's expectations, from a batch call (which keeps an empty pair, as tokenizers does)."""
    kwargs = {"return_offsets_mapping": True, "return_token_type_ids": True}
    if max_length is not None:
        kwargs.update(max_length=max_length, truncation=strategy)
    try:
        e = tok([text], [pair], **kwargs) if pair is not None else tok([text], **kwargs)
    except Exception as error:  # the Rust side raises plain Exception
        message = str(error)
        if "too short" in message:
            return {"error": "sequence_too_short"}
        if "Second sequence not provided" in message:
            return {"error": "pair_required"}
        raise
    ids = e["input_ids"][0]
    return {"ids": ids, "tokens": tok.convert_ids_to_tokens(ids), "type_ids": e["token_type_ids"][0],
            "offsets": [list(o) for o in e["offset_mapping"][0]]}


def jobs_for(singles, pairs, long_text):
    jobs = [(t, None, None, "longest_first") for t in singles]
    jobs += [(a, b, None, "longest_first") for a, b in pairs]
    for ml in STRATEGIES_BY_LENGTH["single"]:
        jobs += [(long_text, None, ml, s) for s in STRATEGIES]
    for a, b in pairs:
        for ml in STRATEGIES_BY_LENGTH["pair"]:
            jobs += [(a, b, ml, s) for s in STRATEGIES]
    return jobs


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------------------------------------
# MPNet

def mpnet_settings(tok, tokenizer_json):
    """The runtime.tokenizer block (ARCH_CONTRACT) that says what the tokenizer.json does; the
    script checks the parts it relies on instead of assuming them."""
    normalizer, post = tokenizer_json["normalizer"], tokenizer_json["post_processor"]
    assert normalizer["type"] == "BertNormalizer" and normalizer["clean_text"], normalizer
    assert tokenizer_json["pre_tokenizer"]["type"] == "BertPreTokenizer"
    assert post["type"] == "RobertaProcessing", post
    assert tokenizer_json["model"]["type"] == "WordPiece" and tokenizer_json["model"]["max_input_chars_per_word"] == 100
    roles = {"cls": tok.cls_token, "sep": tok.sep_token, "pad": tok.pad_token, "unk": tok.unk_token,
             "mask": tok.mask_token}
    assert post["cls"][0] == roles["cls"] and post["sep"][0] == roles["sep"]
    added = tokenizer_json["added_tokens"]
    assert all(a["special"] and not a["single_word"] and not a["rstrip"] for a in added)
    # <mask> strips the whitespace on its left (lstrip), which WordPiece drops anyway: no token
    # and no offset can show it (the records below check that).
    assert all(not a["lstrip"] or a["content"] == roles["mask"] for a in added)
    normalized = sorted(a["content"] for a in added if a["normalized"])
    raw = sorted(a["content"] for a in added if not a["normalized"])
    assert raw == sorted(roles.values()), (raw, roles)
    return {"kind": "wordpiece", "file": "vocab.txt", "do_lower_case": normalizer["lowercase"],
            "strip_accents": normalizer["strip_accents"], "tokenize_chinese_chars": normalizer["handle_chinese_chars"],
            "specials": roles, "template": "roberta", "normalized_specials": normalized}


def mpnet_golden(root):
    directory = os.path.join(root, "data", "download", "all-mpnet-base-v2")
    if not os.path.isfile(os.path.join(directory, "tokenizer.json")):
        sys.exit(f"tokenizers_mpnet_albert.py: error: {directory}/tokenizer.json is missing; run tools/setup first")
    tok = AutoTokenizer.from_pretrained(directory)
    assert isinstance(tok, MPNetTokenizer), type(tok)
    with open(os.path.join(directory, "tokenizer.json"), encoding="utf-8") as f:
        settings = mpnet_settings(tok, json.load(f))
    jobs = jobs_for(PROSE + EDGE + SPECIAL_TEXTS + generated_texts(), PAIRS, LONG)
    records = []
    for text, pair, ml, s in jobs:
        r = {"text": text, "pair": pair, "max_length": ml, "strategy": s}
        r.update(encode(tok, text, pair, ml, s))
        records.append(r)
    # The special tokens typed in the text are found: the check that the corpus exercises them.
    assert any(r.get("ids", [None])[1:2] == [tok.convert_tokens_to_ids("<unk>")] for r in records if r["text"] == "<UNK>")
    vocab = os.path.join(directory, "vocab.txt")
    return {"source": "transformers MPNetTokenizer (fast) from all-mpnet-base-v2's tokenizer.json",
            "vocabulary": "models/all-mpnet-base-v2/vocab.txt",
            "vocabulary_fallback": "data/download/all-mpnet-base-v2/vocab.txt",
            "vocabulary_sha256": sha256(vocab), "vocabulary_size": len(tok), "settings": settings,
            "records": records}


# ---------------------------------------------------------------------------------------------
# ALBERT

def albert_model(source, target):
    """An ALBERT-shaped copy of a unigram model: ALBERT's specials first, as spm_train's
    --pad_id=0 --unk_id=1 --bos_id=-1 --eos_id=-1 --control_symbols=[CLS],[SEP],[MASK] lays
    them out, then the model's normal pieces in their order, scores and normalizer kept."""
    m = model_pb2.ModelProto()
    with open(source, "rb") as f:
        m.ParseFromString(f.read())
    assert m.trainer_spec.model_type == model_pb2.TrainerSpec.UNIGRAM
    piece = model_pb2.ModelProto.SentencePiece
    out = model_pb2.ModelProto()
    out.CopyFrom(m)
    del out.pieces[:]
    for content, kind in zip(ALBERT_SPECIALS, [piece.CONTROL, piece.UNKNOWN, piece.CONTROL, piece.CONTROL, piece.CONTROL]):
        p = out.pieces.add()
        p.piece, p.score, p.type = content, 0.0, kind
    for p in m.pieces:
        if p.type == piece.NORMAL:
            out.pieces.add().CopyFrom(p)
    spec = out.trainer_spec
    spec.pad_id, spec.unk_id, spec.bos_id, spec.eos_id = 0, 1, -1, -1
    del spec.control_symbols[:]
    spec.control_symbols.extend(["[CLS]", "[SEP]", "[MASK]"])
    with open(target, "wb") as f:
        f.write(out.SerializeToString())


ALBERT_SPECIAL_PATTERN = re.compile("|".join(re.escape(s) for s in sorted(ALBERT_SPECIALS, key=len, reverse=True)))


def albert_prenormalizer(config):
    """transformers' normalizers before the model's own (Precompiled), which sentencepiece applies."""
    steps = [normalizers.Replace("``", '"'), normalizers.Replace("''", '"')]
    if not config["keep_accents"]:
        steps += [normalizers.NFKD(), normalizers.StripAccents()]
    if config["do_lower_case"]:
        steps.append(normalizers.Lowercase())
    return normalizers.Sequence(steps)


def albert_words(text, prenormalize, removed):
    """What the Swift side hands sentencepiece: (special token, True) as typed in the text, and
    (word, False) for the rest, pre-normalized and cut at White_Space (but not at what the
    model's normalization removes)."""
    at = 0
    for m in list(ALBERT_SPECIAL_PATTERN.finditer(text)) + [None]:
        segment = prenormalize.normalize_str(text[at:m.start() if m else len(text)])
        if removed:
            segment = "".join(c for c in segment if c not in removed)
        for word in WHITE_SPACE.split(segment):
            if word:
                yield word, False
        if m:
            yield m.group(), True
            at = m.end()


def albert_golden(root):
    resources = os.path.join(root, "Tests", "TokenizersTests", "Resources")
    botchan = read_lines(os.path.join(root, "tokenizers", "sentencepiece", "botchan.txt"))
    out = {}
    for name in ALBERT_MODELS:
        path = os.path.join(resources, f"albert_{name}.model")
        albert_model(os.path.join(root, "tokenizers", "sentencepiece", name + ".model"), path)
        sp = spm.SentencePieceProcessor(model_file=path)
        removed = removed_white_space(sp)
        singles = PROSE + EDGE + EXTRA_EDGE + JAPANESE + SPECIAL_TEXTS + ALBERT_TEXTS + botchan[:300]
        jobs = {"default": jobs_for(singles, PAIRS, LONG),
                "cased_keep_accents": jobs_for(PROSE[:80] + EDGE + EXTRA_EDGE + SPECIAL_TEXTS + ALBERT_TEXTS, PAIRS[:6], LONG)}
        configs = {}
        for config_name, config in ALBERT_CONFIGS.items():
            with tempfile.TemporaryDirectory() as alone:  # the model file alone: nothing else to second-guess
                shutil.copy(path, os.path.join(alone, "spiece.model"))
                tok = AlbertTokenizer.from_pretrained(alone, **config)
            assert [tok.convert_tokens_to_ids(s) for s in ALBERT_SPECIALS] == [0, 1, 2, 3, 4]
            prenormalize = albert_prenormalizer(config)
            words = sorted({w for t, pair, ml, _ in jobs[config_name] if pair is None and ml is None
                            for w, special in albert_words(t, prenormalize, removed) if not special})
            old = dict(zip(words, old_version_ids(root, {path: words})[path]))
            records, disagreements = [], []
            for text, pair, ml, s in jobs[config_name]:
                r = {"text": text, "pair": pair, "max_length": ml, "strategy": s}
                r.update(encode(tok, text, pair, ml, s))
                if pair is None and ml is None:
                    def ids_with(segment):
                        ids = [2]
                        for w, special in albert_words(text, prenormalize, removed):
                            ids += [ALBERT_SPECIALS.index(w)] if special else segment(w)
                        return ids + [3]
                    new = ids_with(sp.encode)
                    if new != r["ids"]:
                        r["sentencepiece_ids"] = new
                        disagreements.append(text)
                    before = ids_with(old.__getitem__)
                    if before != new:
                        # A tie: the same score, or the same pieces in another order (whose float32
                        # running sums may round apart).
                        if path_score(sp, before) != path_score(sp, new) and sorted(before) != sorted(new):
                            sys.exit(f"tokenizers_mpnet_albert.py: error: {text!r}: sentencepiece 0.1.99 and "
                                     f"{spm.__version__} differ beyond a tie")
                        r["sentencepiece_0_1_ids"] = before
                records.append(r)
            configs[config_name] = {"settings": config, "records": records,
                                    "sentencepiece_disagreements": disagreements}
        out[name] = {"model": f"Tests/TokenizersTests/Resources/albert_{name}.model", "sha256": sha256(path),
                     "source_model": f"tokenizers/sentencepiece/{name}.model", "piece_count": sp.get_piece_size(),
                     "configs": configs}
    return out


def write(path, golden, list_key):
    """One record a line, for readable diffs."""
    dump = lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n")
        items = []
        for key, value in golden.items():
            if key == list_key:
                items.append(f'{dump(key)}:[\n' + ",\n".join(dump(r) for r in value) + "\n]")
            else:
                items.append(f"{dump(key)}:{dump(value)}")
        f.write(",\n".join(items) + "\n}\n")


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    resources = os.path.join(root, "Tests", "TokenizersTests", "Resources")
    mpnet = mpnet_golden(root)
    path = os.path.join(resources, "mpnet_tokenizer_golden.json")
    write(path, mpnet, "records")
    print(f"wrote {os.path.relpath(path, root)}: {len(mpnet['records'])} records", file=sys.stderr)
    albert = albert_golden(root)
    path = os.path.join(resources, "albert_golden.json")
    dump = lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    with open(path, "w", encoding="utf-8") as f:  # one record a line
        f.write('{"source":"transformers AlbertTokenizer (fast) on ALBERT-shaped copies of tokenizers/sentencepiece models",\n"models":{\n')
        models = []
        for name, m in albert.items():
            head = {k: v for k, v in m.items() if k != "configs"}
            configs = []
            for c, body in m["configs"].items():
                configs.append(f'{dump(c)}:{{"settings":{dump(body["settings"])},'
                               f'"sentencepiece_disagreements":{dump(body["sentencepiece_disagreements"])},"records":[\n'
                               + ",\n".join(dump(r) for r in body["records"]) + "\n]}")
            models.append(f'{dump(name)}:{dump(head)[:-1]},"configs":{{\n' + ",\n".join(configs) + "\n}}")
        f.write(",\n".join(models) + "\n}}\n")
    with open(path, encoding="utf-8") as f:
        json.load(f)
    for name, m in albert.items():
        for c, body in m["configs"].items():
            print(f"wrote {os.path.relpath(path, root)}: {name} {c}: {len(body['records'])} records, "
                  f"{len(body['sentencepiece_disagreements'])} where sentencepiece segments differently", file=sys.stderr)


if __name__ == "__main__":
    main()
