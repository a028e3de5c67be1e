#!/usr/bin/env python3
"""seqeval's entity-level figures on fixed tag sequences: the reference for EntityMetrics
(`bert finetune --task token-classification`'s validation figures).

usage: .venv-golden/bin/python tools/golden/seqeval_figures.py [REPO_ROOT]   (run by tools/make_golden)

Each case is (gold, predicted) sentences of IOB tags, including ill-formed ones (an I- with
no B-, an I- of another type, a B- alone, an entity at a sentence's end, empty predictions);
seqeval's default mode (IOB2, not strict): precision_score, recall_score, f1_score (micro)
and accuracy_score.

Writes Tests/BERTTests/Resources/seqeval_golden.json: [{"gold", "predicted", "precision",
"recall", "f1", "accuracy"}, …].
"""
import json
import os
import sys
import warnings

CASES = [
    ([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-LOC"]]),
    ([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "O", "O", "B-LOC"]]),
    ([["O", "I-PER", "I-PER", "O"]], [["O", "B-PER", "I-PER", "O"]]),
    ([["B-PER", "I-LOC", "O"]], [["B-PER", "I-PER", "O"]]),
    ([["B-LOC"], ["I-LOC", "O"]], [["B-LOC"], ["B-LOC", "O"]]),
    ([["O", "O", "B-MISC", "I-MISC", "I-MISC"], ["B-PER", "B-PER", "O"]],
     [["O", "O", "B-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]),
    ([["O", "O", "O"]], [["O", "B-LOC", "O"]]),
    ([["B-ORG", "O"]], [["O", "O"]]),
    ([["O", "O"]], [["O", "O"]]),
    ([["I-ORG", "B-ORG", "I-ORG", "I-LOC", "B-LOC", "O", "I-PER"]],
     [["B-ORG", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "O", "I-PER"]]),
    ([["B-PER", "I-PER", "I-PER"], ["O", "B-LOC", "I-LOC"], ["B-ORG", "O", "B-MISC"]],
     [["B-PER", "I-PER", "O"], ["O", "B-LOC", "I-LOC"], ["I-ORG", "O", "I-MISC"]]),
]


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score
    warnings.simplefilter("ignore")
    records = []
    for gold, pred in CASES:
        records.append({"gold": gold, "predicted": pred, "precision": precision_score(gold, pred), "recall": recall_score(gold, pred),
                        "f1": f1_score(gold, pred), "accuracy": accuracy_score(gold, pred)})
    with open(os.path.join(root, "Tests", "BERTTests", "Resources", "seqeval_golden.json"), "w", encoding="utf-8") as f:
        json.dump(records, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
