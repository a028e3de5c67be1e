#!/usr/bin/env python3
"""Tiny random *ForQuestionAnswering checkpoints, converted by tools/convert, and transformers'
question-answering pipeline on them: the reference for QuestionAnswerer.

usage: .venv-golden-qa/bin/python tools/golden/question_answering.py [REPO_ROOT]   (run by tools/make_golden)

transformers 5 has no question-answering pipeline (it points to text generation instead), so this
script runs in its own environment, .venv-golden-qa, with transformers 4.57.6, the last release that
has one (tools/make_golden makes it); started with another Python it runs itself there.

Models (architectures.py's tiny sizes, tokenizers and perturbation, seeded) for bert, distilbert,
albert, electra, mpnet, roberta and deberta-v3, converted into Tests/BERTTests/Resources/qa/TYPE/.
Each case is one call of the pipeline with question, context and options (top_k,
max_answer_len, handle_impossible_answer, max_seq_len, doc_stride: null where the pipeline's
default applies, except max_seq_len, always the converted model's length, since the tokenizer's
64 tokens pass the position table of the models whose positions start after the padding id).
The long context takes several windows (spans: how many the tokenizer made).

Writes Tests/BERTTests/Resources/qa/question_answering_golden.json:
  {TYPE: {"model": "qa/TYPE", "max_length": N,
          "cases": [{"question", "context", "top_k", "max_answer_len", "handle_impossible_answer",
                     "doc_stride", "max_seq_len", "spans", "answers": [{"score", "start", "end", "answer"}, …]}],
          "words": [{"context", "word_ids": [the fast tokenizer's word id of each context token]}]}}
(answers: the pipeline's output as a list, also where it returns a single dict).
"""

import json
import os
import subprocess
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "shared"))
import tiny  # noqa: E402  (tools/golden/shared/tiny.py)

QA_TRANSFORMERS = "4.57.6"
SHORT = "The old dog ran to the river, and the quick brown fox jumps over the lazy cat by the tree."
NAMES = "Sarah sang in the old tree while Wolfgang ran to the river in Berlin."
LONG = ("The cat sat on the mat while the old dog ran to the river. A bird sang in the tree by the river, "
        "and the quick brown fox jumps over the lazy dog. Then the fox ran to the old tree, the cat sat by the "
        "river and the dog jumps over the mat. The brown bird sang while the lazy cat ran to the tree and the "
        "old fox sat on the mat by the river. A quick dog ran over the tree and the bird sang to the cat.")
CASES = [
    dict(question="Where did the dog run?", context=SHORT),
    dict(question="Who jumps over the lazy cat?", context=SHORT, top_k=3),
    dict(question="Who sang in the tree?", context=NAMES, top_k=4),
    dict(question="where did wolfgang run", context=NAMES, max_answer_len=3, top_k=2),
    dict(question="Is the cat a bird?", context=SHORT, handle_impossible_answer=True, top_k=2),
    dict(question="Where did the fox run?", context=LONG, top_k=3),
    dict(question="what sang to the cat", context=LONG, doc_stride=8, top_k=2, handle_impossible_answer=True),
    dict(question="Where did the fox run?", context=LONG, doc_stride=24, max_answer_len=30),
]
OPTIONS = ("top_k", "max_answer_len", "handle_impossible_answer", "doc_stride")


def in_qa_environment(root):
    """Re-runs this script with .venv-golden-qa's Python when this one's transformers has no
    question-answering pipeline; returns False when it did."""
    import transformers
    if transformers.__version__ == QA_TRANSFORMERS:
        return True
    python = os.path.join(root, ".venv-golden-qa", "bin", "python")
    if not os.path.exists(python):
        sys.exit(f"question_answering.py: {python} not found (tools/make_golden makes it, with transformers=={QA_TRANSFORMERS})")
    subprocess.run([python, os.path.abspath(__file__), root], check=True)
    return False


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    if not in_qa_environment(root):
        return
    import torch
    import transformers
    from transformers import AutoTokenizer, BertForQuestionAnswering, pipeline
    from transformers import (AlbertForQuestionAnswering, DebertaV2ForQuestionAnswering, DistilBertForQuestionAnswering,
                              ElectraForQuestionAnswering, MPNetForQuestionAnswering, RobertaForQuestionAnswering)
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    arch = tiny.architectures_module(root)
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    spiece = arch.albert_spiece(root)
    base = arch.architectures(root)
    specs = {"bert": (tiny.bert_spec(arch), BertForQuestionAnswering),
             "distilbert": (base["distilbert"], DistilBertForQuestionAnswering),
             "albert": (base["albert"], AlbertForQuestionAnswering),
             "electra": (base["electra"], ElectraForQuestionAnswering),
             "mpnet": (base["mpnet"], MPNetForQuestionAnswering),
             "roberta": (base["roberta"], RobertaForQuestionAnswering),
             "deberta-v3": (base["deberta-v3"], DebertaV2ForQuestionAnswering)}
    os.makedirs(os.path.join(resources, "qa"), exist_ok=True)
    golden = {}
    for index, (key, (spec, cls)) in enumerate(specs.items()):
        model = tiny.perturbed(torch, cls, spec["config"](), seed=130 + index, noise=arch.NOISE, factor=3)
        out = os.path.join(resources, "qa", key)
        with tiny.converted(root, arch, model, spec, spiece, out, f"tiny-random-{key}-qa") as hf:
            tokenizer = AutoTokenizer.from_pretrained(hf)
        assert tokenizer.is_fast and tokenizer.padding_side == "right"
        with open(os.path.join(out, "config.json"), encoding="utf-8") as f:
            max_length = json.load(f)["runtime"]["tokenizer"]["max_length"]
        answerer = pipeline("question-answering", model=model, tokenizer=tokenizer, device="cpu")
        cases = []
        for case in CASES:
            options = {k: case[k] for k in OPTIONS if k in case}
            stride = case.get("doc_stride", min(max_length // 2, 128))
            spans = len(tokenizer(case["question"], case["context"], truncation="only_second", max_length=max_length,
                                  stride=stride, return_overflowing_tokens=True)["input_ids"])
            answers = tiny.jsonable(answerer(question=case["question"], context=case["context"], max_seq_len=max_length,
                                             **options))
            cases.append({"question": case["question"], "context": case["context"],
                          **{k: case.get(k) for k in OPTIONS}, "max_seq_len": max_length, "spans": spans,
                          "answers": answers if isinstance(answers, list) else [answers]})
        assert any(c["spans"] > 1 for c in cases), f"{key}: no context took several windows"
        words = []
        for context in dict.fromkeys(c["context"] for c in CASES):
            e = tokenizer("Who?", context).encodings[0]
            keep = [i for i, s in enumerate(e.sequence_ids) if s == 1]
            words.append({"context": context, "word_ids": [e.word_ids[i] for i in keep]})
        golden[key] = {"model": f"qa/{key}", "max_length": max_length, "cases": cases, "words": words}
    with open(os.path.join(resources, "qa", "question_answering_golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
