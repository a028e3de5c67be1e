#!/usr/bin/env python3
"""Tiny random NLI-shaped *ForSequenceClassification checkpoints (3 labels: entailment, neutral,
contradiction), converted by tools/convert, and transformers' zero-shot-classification pipeline on
them: the reference for ZeroShotClassifier.

usage: .venv-golden/bin/python tools/golden/zero_shot.py [REPO_ROOT]   (run by tools/make_golden)

Models (architectures.py's tiny sizes, tokenizers and perturbation, seeded) for bert, distilbert,
albert, electra, mpnet, roberta and deberta-v3, converted into Tests/BERTTests/Resources/nli/TYPE/.
Half of them name their labels entailment, neutral, contradiction (entailment id 0, so the pipeline
takes the last label as contradiction), the others contradiction, neutral, entailment (entailment
id 2, contradiction 0), as MNLI checkpoints do one way or the other.

Each case is a call of the pipeline: texts, candidate_labels (a list, or the comma-separated string
the pipeline splits), hypothesis_template (null: the pipeline's default) and multi_label; one case
has a single label (then the pipeline scores entailment against contradiction, as multi_label
does). Where the model takes the tokenizer's 64 tokens (no position offset), one text is longer
than that: the pipeline truncates the premise only (only_first). ALBERT's tokenizer is given back
the token_type_ids that transformers 5 leaves out of its model_input_names (see below).

Writes Tests/BERTTests/Resources/nli/zero_shot_golden.json:
  {TYPE: {"model": "nli/TYPE", "labels": [id2label in id order],
          "cases": [{"texts", "candidate_labels", "hypothesis_template", "multi_label",
                     "pipeline": [{"sequence", "labels", "scores"} per text]}]}}
"""

import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "shared"))
import tiny  # noqa: E402  (tools/golden/shared/tiny.py)

ENTAILMENT_FIRST = ["entailment", "neutral", "contradiction"]
ENTAILMENT_LAST = ["contradiction", "neutral", "entailment"]
TEXTS = [
    "The cat sat on the mat.",
    "A dog ran over the lazy fox and the bird sang in the old tree.",
    "Dogs like to swim in rivers on hot days.",
    "the quick brown fox ran to the river",
]
LONG = ("the old dog ran to the river by the tree while a bird sang and the quick brown fox jumps over "
        "the lazy cat on the mat, and the dog ran to the old tree by the river and the bird sang in the tree "
        "while the cat sat on the mat")
CASES = [
    dict(candidate_labels=["animals", "politics", "the river"], hypothesis_template=None, multi_label=False),
    dict(candidate_labels=["animals", "politics", "the river"], hypothesis_template=None, multi_label=True),
    dict(candidate_labels=" dog, cat ,, bird ,tree", hypothesis_template="The topic is {}.", multi_label=False),
    dict(candidate_labels=["a bird"], hypothesis_template="This text is about {}!", multi_label=False),
]


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    import torch
    import transformers
    from transformers import AutoTokenizer, BertForSequenceClassification, pipeline
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    arch = tiny.architectures_module(root)
    convert = tiny.convert_module(root)
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    spiece = arch.albert_spiece(root)
    base = arch.architectures(root)
    specs = {"bert": (tiny.bert_spec(arch), BertForSequenceClassification)}
    for key in ("distilbert", "albert", "electra", "mpnet", "roberta", "deberta-v3"):
        specs[key] = (base[key], base[key]["classifier"])
    os.makedirs(os.path.join(resources, "nli"), exist_ok=True)
    golden = {}
    for index, (key, (spec, cls)) in enumerate(specs.items()):
        labels = ENTAILMENT_FIRST if index % 2 == 0 else ENTAILMENT_LAST
        config = spec["config"](**tiny.label_fields(labels))
        if key == "electra":
            config.classifier_dropout = 0.0
        model = tiny.perturbed(torch, cls, config, seed=110 + index, noise=arch.NOISE, factor=3)
        out = os.path.join(resources, "nli", key)
        with tiny.converted(root, arch, model, spec, spiece, out, f"tiny-random-{key}-nli") as hf:
            tokenizer = AutoTokenizer.from_pretrained(hf)
        if key == "albert":
            # transformers 5's AlbertTokenizer leaves token_type_ids out of model_input_names, so its
            # pipelines give ALBERT's hypothesis segment id 0; ALBERT was trained with 1 there, as
            # transformers 4 passed it and the runtime gives it (architectures.py's pair): restore it.
            tokenizer.model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
        classifier = pipeline("zero-shot-classification", model=model, tokenizer=tokenizer, device="cpu")
        assert classifier.entailment_id == labels.index("entailment")
        offset = convert.position_offset(json.load(open(os.path.join(out, "config.json"))))
        texts = TEXTS + ([LONG] if offset == 0 else [])
        if offset == 0:
            assert len(tokenizer(LONG, "This example is animals.")["input_ids"]) > tokenizer.model_max_length
        cases = []
        for case in CASES:
            options = {"candidate_labels": case["candidate_labels"], "multi_label": case["multi_label"]}
            if case["hypothesis_template"] is not None:
                options["hypothesis_template"] = case["hypothesis_template"]
            outputs = [tiny.jsonable(classifier(text, **options)) for text in texts]
            cases.append({"texts": texts, **case, "pipeline": outputs})
        golden[key] = {"model": f"nli/{key}", "labels": labels, "cases": cases}
    with open(os.path.join(resources, "nli", "zero_shot_golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
