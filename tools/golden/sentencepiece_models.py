#!/usr/bin/env python3
"""Golden file for the SentencePiece tokenizer tests.

usage: .venv-golden/bin/python tools/golden/sentencepiece_models.py [REPO_ROOT]

Two references, each on real models:
  plain    the sentencepiece Python package (0.2.3) on the three test models of its source
           distribution (tokenizers/sentencepiece/*.model): ids of every line of botchan.txt
           and of the multilingual and edge-case texts, pieces, and character offsets;
  xlmr     transformers' XLMRobertaTokenizer built from the rebuilt XLM-R model that
           tools/convert writes for multilingual-e5-small (models/multilingual-e5-small/
           sentencepiece.bpe.model; run tools/setup first): ids, tokens and offsets of single
           texts and pairs, truncated with every strategy.

Writes Tests/TokenizersTests/Resources/sentencepiece_golden.json. botchan.txt lines are
referred to by number (lines split at "\\n" only, so each keeps its "\\r"), not copied.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

# (Not named sentencepiece.py: as the script's folder comes first on sys.path, that name would
# hide the package from this script and from transformers.)
import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
from transformers import XLMRobertaTokenizer  # noqa: E402
from wordpiece import EDGE, PAIRS, PROSE  # noqa: E402  the WordPiece corpus, reused

MODELS = ["botchan_en_unigram_1000", "botchan_en_bpe_1000", "kyoto_ja_unigram_8000"]

JAPANESE = [
    "吾輩は猫である。名前はまだ無い。",
    "どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。",
    "親譲りの無鉄砲で小供の時から損ばかりしている。",
    "京都大学の研究者は、自然言語処理の新しい手法を提案した。",
    "１２３４５ＡＢＣ ｱｲｳｴｵ ㈱ ㌔ ①②③ ﾊﾟﾋﾟﾌﾟ",
    "東京タワーの高さは333メートルです。",
    "今日は2024年1月15日（月）、天気は晴れ☀です！",
    "「こんにちは」と彼女は言った。『さようなら』",
]

EXTRA_EDGE = [
    "  leading spaces", "trailing spaces   ", "  both  ", "many     inner     spaces",
    "\u3000ideographic\u3000space\u3000", "tab\tseparated\tvalues", "line\nbreak", "crlf\r\n",
    "\u1680ogham\u1680space", "nel\u0085next", "line\u2028separator\u2029paragraph",
    "zwj a\u200db zwnj a\u200cb zwsp a\u200bb", "nbsp\u00a0here", "narrow\u202fnbsp",
    "▁ already ▁▁ metaspace", "▁", "▁▁▁",
    "<s>", "</s>", "<pad>", "<unk>", "<mask>", "x <mask> y", "x<mask>y", "a <s> b </s> c",
    "<mask><mask>", " <mask> ", "<s >", "<MASK>",
    "\U0001F468\u200d\U0001F469\u200d\U0001F467", "🇯🇵🇫🇷", "😀😀😀 smile",
    "ℌ𝔢𝔩𝔩𝔬 ﬁ ﬂ Ⅻ ½ ² ㍻", "ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ", "e\u0301 a\u0308 n\u0303 (decomposed)",
    "Ǆ ǅ ǆ İ ı ß ẞ", "\u0000nul", "\ufeffbom", "a" * 300, "ab" * 200, "漢" * 200,
    "Ünïcödé wörds: naïve façade", "1234567890 3.14159 -42 1e10 0x1F",
]

STRATEGIES = ["longest_first", "only_first", "only_second"]

# Unicode White_Space, which tokenizers' WhitespaceSplit splits at (Rust's char::is_whitespace).
WHITE_SPACE = re.compile("[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
XLMR_SPECIALS = re.compile("<s>|</s>|<pad>|<unk>|<mask>")


def read_lines(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def char_offsets(text, begin, end):
    """Byte offsets into text's UTF-8 → offsets in code points (Python string indices)."""
    data = text.encode("utf-8")
    return [len(data[:begin].decode("utf-8")), len(data[:end].decode("utf-8"))]


# Debian's libsentencepiece is 0.1.97, older than the package above. The unigram models of the
# 0.1.9x line return a different segmentation of the same score where two segmentations tie
# exactly in float32 (the unigram code is the same in 0.1.99 and 0.2.0; the tie goes the other
# way). The newest 0.1.9x on PyPI, 0.1.99, is the second reference for those lines only.
OLD_VERSION = "0.1.99"
OLD_SCRIPT = """
import json, sys
import sentencepiece as spm
assert spm.__version__ == sys.argv[1], spm.__version__
jobs = json.load(sys.stdin)
out = {}
for path, texts in jobs.items():
    sp = spm.SentencePieceProcessor(model_file=path)
    out[path] = [sp.encode(t) for t in texts]
json.dump(out, sys.stdout)
"""


def old_version_ids(root, jobs):
    """{model path: [ids per text]} from sentencepiece 0.1.99, unpacked from its PyPI wheel into
    .golden-cache/sentencepiece-0.1.99 (git-ignored, downloaded once)."""
    target = os.path.join(root, ".golden-cache", f"sentencepiece-{OLD_VERSION}")
    if not os.path.isdir(os.path.join(target, "sentencepiece")):
        with tempfile.TemporaryDirectory() as download:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                            "-d", download, f"sentencepiece=={OLD_VERSION}"], check=True)
            wheel = [f for f in os.listdir(download) if f.endswith(".whl")][0]
            with zipfile.ZipFile(os.path.join(download, wheel)) as z:
                z.extractall(target)
    env = {**os.environ, "PYTHONPATH": target}
    result = subprocess.run([sys.executable, "-c", OLD_SCRIPT, OLD_VERSION], input=json.dumps(jobs),
                            capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout)


def path_score(sp, ids):
    """The float32 score of a segmentation, summed left to right as the Viterbi does."""
    total = np.float32(0)
    unk = np.float32(min(sp.get_score(i) for i in range(sp.get_piece_size()) if not sp.is_control(i)) - 10)
    for i in ids:
        total = np.float32(total + (unk if i == sp.unk_id() else np.float32(sp.get_score(i))))
    return total


def plain_golden(root, botchan, texts):
    out = {}
    for name in MODELS:
        path = os.path.join(root, "tokenizers", "sentencepiece", name + ".model")
        sp = spm.SentencePieceProcessor(model_file=path)
        # The Japanese model gets the multilingual texts only: botchan.txt is English.
        ids = [sp.encode(t) for t in (texts if name.startswith("kyoto") else botchan + texts)]
        inputs = texts if name.startswith("kyoto") else botchan + texts
        old = old_version_ids(root, {path: inputs})[path]
        ties = {}
        for k, (new, before) in enumerate(zip(ids, old)):
            if new != before:
                if path_score(sp, new) != path_score(sp, before):
                    sys.exit(f"sentencepiece_models.py: error: {name} line {k}: {OLD_VERSION} and {spm.__version__} differ beyond a tie")
                ties[str(k)] = before
        offsets = []
        for t in texts:
            proto = sp.encode(t, return_type="proto")
            offsets.append([char_offsets(t, p.begin, p.end) for p in proto.pieces])
        out[name] = {
            "file": f"tokenizers/sentencepiece/{name}.model",
            "pieces": [sp.id_to_piece(i) for i in range(sp.get_piece_size())],
            "unk_id": sp.unk_id(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(), "pad_id": sp.pad_id(),
            "ids": ids,
            # line index -> sentencepiece 0.1.99's ids, where they differ from the above by a tie
            "ties": ties,
            "offsets": offsets,
        }
    return out


def xlmr_encode(tok, text, pair, max_length, strategy):
    kwargs = {"return_offsets_mapping": True}
    if max_length is not None:
        kwargs.update(max_length=max_length, truncation=strategy)
    try:
        e = tok([text], [pair], **kwargs) if pair is not None else tok([text], **kwargs)
    except Exception as error:
        message = str(error)
        if "too short" in message:
            return {"error": "sequence_too_short"}
        if "Second sequence not provided" in message:
            return {"error": "pair_required"}
        raise
    ids = e["input_ids"][0]
    return {"ids": ids, "tokens": tok.convert_ids_to_tokens(ids),
            "offsets": [list(o) for o in e["offset_mapping"][0]]}


def words(text, removed):
    """transformers' XLM-R pre-tokenization of raw text: special tokens, then words split at
    White_Space, but not at the characters the normalization removes (`removed`): transformers
    splits after normalizing."""
    at = 0
    for m in list(XLMR_SPECIALS.finditer(text)) + [None]:
        segment = text[at:m.start() if m else len(text)]
        for word in WHITE_SPACE.split("".join(c for c in segment if c not in removed) if removed else segment):
            if word:
                yield word
        if m:
            yield m.group()
            at = m.end()


def removed_white_space(sp):
    """The White_Space characters the model's normalization removes."""
    return {c for c in map(chr, [9, 10, 11, 12, 13, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
                                 0x202F, 0x205F, 0x3000]) if sp.encode("a" + c + "b") == sp.encode("ab")}


def sentencepiece_words(sp, text, encode, removed):
    """XLM-R ids with sentencepiece's segmentation of each word (encode: word -> model ids)."""
    ids = [0]
    specials = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": sp.get_piece_size() + 1}
    for word in words(text, removed):
        if word in specials:
            ids.append(specials[word])
        else:
            ids += [3 if i == 0 else i + 1 for i in encode(word)]
    return ids + [2]


def xlmr_golden(root, botchan):
    model = os.path.join(root, "models", "multilingual-e5-small", "sentencepiece.bpe.model")
    if not os.path.isfile(model):
        sys.exit(f"sentencepiece_models.py: error: {model} is missing; run tools/setup first")
    with tempfile.TemporaryDirectory() as alone:  # the tokenizer file alone: no config.json to second-guess
        shutil.copy(model, alone)
        tok = XLMRobertaTokenizer.from_pretrained(alone)
    sp = spm.SentencePieceProcessor(model_file=model)
    jobs = [(t, None, None, "longest_first") for t in PROSE + EDGE + EXTRA_EDGE + JAPANESE + botchan[:400]]
    jobs += [(a, b, None, "longest_first") for a, b in PAIRS]
    long = PROSE[3]
    for ml in (2, 3, 4, 5, 8, 16, 64):
        for s in STRATEGIES:
            jobs.append((long, None, ml, s))
    for a, b in PAIRS:
        for ml in (4, 5, 6, 8, 11, 16):
            for s in STRATEGIES:
                jobs.append((a, b, ml, s))
    removed = removed_white_space(sp)
    singles = sorted({t for t, pair, ml, _ in jobs if pair is None and ml is None})
    vocabulary = sorted({w for t in singles for w in words(t, removed)})
    old = dict(zip(vocabulary, old_version_ids(root, {model: vocabulary})[model]))
    records, spm_disagreements = [], []
    for text, pair, ml, s in jobs:
        r = {"text": text, "pair": pair, "max_length": ml, "strategy": s}
        r.update(xlmr_encode(tok, text, pair, ml, s))
        if pair is None and ml is None:
            # The sentencepiece package on the same words: transformers' conventions (special
            # tokens typed in the text, words split at White_Space), sentencepiece's segmentation.
            new = sentencepiece_words(sp, text, sp.encode, removed)
            if new != r["ids"]:
                r["sentencepiece_ids"] = new
                spm_disagreements.append(text)
            before = sentencepiece_words(sp, text, old.__getitem__, removed)
            if before != new:  # a tie, checked as for the plain models
                if path_score(sp, [i - 1 for i in before if i > 3]) != path_score(sp, [i - 1 for i in new if i > 3]):
                    sys.exit(f"sentencepiece_models.py: error: {text!r}: {OLD_VERSION} and {spm.__version__} differ beyond a tie")
                r["sentencepiece_0_1_ids"] = before
            direct = [0] + [3 if i == 0 else i + 1 for i in sp.encode(text)] + [2]
            r["plain_sentencepiece_agrees"] = direct == r["ids"]
        records.append(r)
    with open(model, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {"model": "models/multilingual-e5-small/sentencepiece.bpe.model", "sha256": digest,
            "removed_white_space": sorted(f"U+{ord(c):04X}" for c in removed),
            "vocabulary_size": len(tok), "records": records,
            "sentencepiece_disagreements": spm_disagreements}


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    botchan = read_lines(os.path.join(root, "tokenizers", "sentencepiece", "botchan.txt"))
    texts = PROSE + EDGE + EXTRA_EDGE + JAPANESE
    golden = {
        "source": f"sentencepiece {spm.__version__} (plain); transformers XLMRobertaTokenizer (xlmr)",
        "botchan": "tokenizers/sentencepiece/botchan.txt",
        "botchan_lines": len(botchan),
        "texts": texts,
        "plain": plain_golden(root, botchan, texts),
        "xlmr": xlmr_golden(root, botchan),
    }
    out = os.path.join(root, "Tests", "TokenizersTests", "Resources", "sentencepiece_golden.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    x = golden["xlmr"]
    print(f"wrote {os.path.relpath(out, root)}: {len(botchan)} botchan lines + {len(texts)} texts on "
          f"{len(MODELS)} models; {len(x['records'])} XLM-R records "
          f"({len(x['sentencepiece_disagreements'])} texts where sentencepiece's segmentation differs)", file=sys.stderr)


if __name__ == "__main__":
    main()
