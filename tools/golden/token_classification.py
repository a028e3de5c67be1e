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

import importlib.machinery
import importlib.util
import json
import os
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

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


def load(path, name):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    import torch
    import transformers
    from safetensors.torch import save_file
    from transformers import (AlbertForTokenClassification, AutoTokenizer, BertConfig, BertForTokenClassification,
                              DistilBertForTokenClassification, ElectraForTokenClassification,
                              MPNetForTokenClassification, pipeline)
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    arch = load(os.path.join(root, "tools", "golden", "architectures.py"), "golden_architectures")
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    venv_python = os.path.join(root, ".venv", "bin", "python")
    spiece = arch.albert_spiece(root)
    base = arch.architectures(root)
    bert_vocab = arch.wordpiece_vocab(arch.BERT_SPECIALS, [])
    bert = dict(config=lambda **labels: BertConfig(vocab_size=len(bert_vocab), num_hidden_layers=2, hidden_act="gelu",
                                                   type_vocab_size=2, hidden_dropout_prob=0.0,
                                                   attention_probs_dropout_prob=0.0, pad_token_id=0,
                                                   **arch.SIZES, **labels),
                types=True, vocab=bert_vocab, tokenizer_class="BertTokenizer", pad=0)
    specs = {"bert": (bert, BertForTokenClassification), "distilbert": (base["distilbert"], DistilBertForTokenClassification),
             "albert": (base["albert"], AlbertForTokenClassification),
             "electra": (base["electra"], ElectraForTokenClassification), "mpnet": (base["mpnet"], MPNetForTokenClassification)}
    labels = dict(num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    golden = {}
    os.makedirs(os.path.join(resources, "ner"), exist_ok=True)
    for index, (model_type, (spec, cls)) in enumerate(specs.items()):
        config = spec["config"](**labels)
        config._attn_implementation = "eager"
        if model_type == "electra":
            config.classifier_dropout = 0.0
        torch.manual_seed(70 + index)
        model = cls(config)
        with torch.no_grad():
            for _, parameter in sorted(model.named_parameters()):
                parameter.add_(torch.randn_like(parameter) * arch.NOISE * 3)
        model.eval()
        out = os.path.join(resources, "ner", model_type)
        with tempfile.TemporaryDirectory() as work:
            hf = os.path.join(work, "hf")
            arch.save_hf(model, spec, hf, spiece)
            arch.convert(root, venv_python, hf, out, f"tiny-random-{model_type}-ner")
            tokenizer = AutoTokenizer.from_pretrained(hf)
        tagger = pipeline("token-classification", model=model, tokenizer=tokenizer, device="cpu")
        outputs = {s: [jsonable(tagger(text, aggregation_strategy=s)) for text in TEXTS] for s in STRATEGIES}

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
