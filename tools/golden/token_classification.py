#!/usr/bin/env python3
"""Tiny random *ForTokenClassification checkpoints, converted by tools/convert, and transformers'
token-classification pipeline on them with every aggregation strategy: the reference for
TokenTagger and TokenClassifierHead.

usage: .venv-golden/bin/python tools/golden/token_classification.py [REPO_ROOT]   (run by tools/make_golden)

Models (architectures.py's tiny sizes, tokenizers and perturbation, seeded) for bert, distilbert,
albert, electra and mpnet, with the CoNLL-2003 labels below, converted into
Tests/BERTTests/Resources/ner/TYPE/. The texts are real sentences with names of people, places
and organisations; words outside the tiny vocabularies split into sub-words (WordPiece: letters
with ##; ALBERT: its 400 pieces) or become [UNK].

Writes Tests/BERTTests/Resources/ner/token_classification_golden.json:
  {TYPE: {"model": "ner/TYPE", "texts": [...], "pipeline": {STRATEGY: [output per text]}},
   ...}, STRATEGY none, simple, first, average, max
and ner/TYPE_head.safetensors: input (N, C) random hidden states, logits (N, L), dinput,
grad.token_classifier.weight and grad.token_classifier.bias for a mean cross-entropy over labels
("labels" in the JSON, per TYPE under "head").
"""

import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "shared"))
import tiny  # noqa: E402  (tools/golden/shared/tiny.py)

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
TEXTS = [
    "My name is Wolfgang and I live in Berlin.",
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "The European Union fined Google over its Android software.",
    "the old dog ran to the river by the tree.",
    "Sarah works for the United Nations in New York!",
]
STRATEGIES = ["none", "simple", "first", "average", "max"]
HEAD_ROWS = 7


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    import torch
    import transformers
    from safetensors.torch import save_file
    from transformers import (AlbertForTokenClassification, AutoTokenizer, BertForTokenClassification,
                              DistilBertForTokenClassification, ElectraForTokenClassification,
                              MPNetForTokenClassification, pipeline)
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    arch = tiny.architectures_module(root)
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    spiece = arch.albert_spiece(root)
    base = arch.architectures(root)
    specs = {"bert": (tiny.bert_spec(arch), BertForTokenClassification), "distilbert": (base["distilbert"], DistilBertForTokenClassification),
             "albert": (base["albert"], AlbertForTokenClassification),
             "electra": (base["electra"], ElectraForTokenClassification), "mpnet": (base["mpnet"], MPNetForTokenClassification)}
    labels = tiny.label_fields(LABELS)
    golden = {}
    os.makedirs(os.path.join(resources, "ner"), exist_ok=True)
    for index, (model_type, (spec, cls)) in enumerate(specs.items()):
        config = spec["config"](**labels)
        if model_type == "electra":
            config.classifier_dropout = 0.0
        model = tiny.perturbed(torch, cls, config, seed=70 + index, noise=arch.NOISE, factor=3)
        out = os.path.join(resources, "ner", model_type)
        with tiny.converted(root, arch, model, spec, spiece, out, f"tiny-random-{model_type}-ner") as hf:
            tokenizer = AutoTokenizer.from_pretrained(hf)
        tagger = pipeline("token-classification", model=model, tokenizer=tokenizer, device="cpu")
        outputs = {s: [tiny.jsonable(tagger(text, aggregation_strategy=s)) for text in TEXTS] for s in STRATEGIES}

        torch.manual_seed(170 + index)
        x = torch.randn(HEAD_ROWS, config.hidden_size, requires_grad=True)
        targets = torch.randint(0, len(LABELS), (HEAD_ROWS,))
        model.zero_grad()
        logits = model.classifier(model.dropout(x)) if hasattr(model, "dropout") else model.classifier(x)
        loss = torch.nn.functional.cross_entropy(logits, targets)
        loss.backward()
        save_file({"input": x.detach(), "logits": logits.detach().contiguous(), "dinput": x.grad.detach(),
                   "grad.token_classifier.weight": model.classifier.weight.grad.detach().contiguous(),
                   "grad.token_classifier.bias": model.classifier.bias.grad.detach().contiguous()},
                  os.path.join(resources, "ner", f"{model_type}_head.safetensors"))
        golden[model_type] = {"model": f"ner/{model_type}", "texts": TEXTS, "pipeline": outputs,
                              "head": {"rows": HEAD_ROWS, "labels": targets.tolist(), "loss": loss.item()}}
    with open(os.path.join(resources, "ner", "token_classification_golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
