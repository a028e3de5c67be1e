#!/usr/bin/env python3
"""Golden files for `bert finetune --task token-classification`: transformers'
BertForTokenClassification computing its own loss (CrossEntropyLoss over the tokens whose
label is not -100) on a tiny encoder, dropout off, the recipe of tools/finetune_reference.py
(AdamW, linear warmup and decay, clipping at 1.0), as tools/golden/finetune_objectives.py.

usage: .venv-golden/bin/python tools/golden/finetune_token_classification.py [REPO_ROOT]   (run by tools/make_golden)

The encoder is the tiny random BERT of Tests/BERTTests/Resources/heads/regression (hidden 32,
2 layers, no pooler); its token classifier the seeded init of the recipe (classifier_init), as
`bert finetune` draws it. 16 rows of words with IOB tags; the label set the distinct tags sorted
by code point (as `bert finetune` orders them). Words tokenized with is_split_into_words=True,
truncation at max_length 16; the label on each word's first sub-token (word_ids), -100 on the
other sub-tokens and the specials. Batches of 8 alternating, lr 5e-4 over 20 scheduled steps
(warmup 2), 10 steps.

Writes Tests/BERTTests/Resources/token_classification_finetune_golden.json (rows, labels, ids,
aligned labels, the 10 losses, the clipped norm at step 1) and
token_classification_finetune_golden.safetensors:
  grad.NAME    every gradient after step 1 (NAME as `bert finetune` names it: token_classifier.*;
               the word table as the rows used, "embeddings.word_embeddings.weight[ids]", sorted ids)
  after.NAME   token_classifier.* after 10 steps
  head_only.after.NAME   token_classifier.* after 10 head-only steps (the encoder frozen, as
               --freeze-encoder trains), whose losses are head_only_losses in the JSON
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

SEED = 42
BATCH = 8
MAX_LENGTH = 16
STEPS = 10
TOTAL = 20
SENTENCES = [
    ("John lives in Berlin .", "B-PER O O B-LOC O"),
    ("Mary Anne Smith visited New York City yesterday", "B-PER I-PER I-PER O B-LOC I-LOC I-LOC O"),
    ("the cat sat on the mat", "O O O O O O"),
    ("Paris is lovely in spring , said Pierre", "B-LOC O O O O O O B-PER"),
    ("Café au lait in Zürich with Renée", "O O O O B-LOC O B-PER"),
    ("I-95 runs through Washington D.C.", "B-LOC O O B-LOC I-LOC"),
    ("nobody", "O"),
    ("the quick brown fox jumps over the lazy dog near the river bank of London again and again", "O O O O O O O O O O O O O O B-LOC O O O"),
]
ROWS = [(SENTENCES[i % 8][0].split(), SENTENCES[i % 8][1].split()) for i in [0, 1, 2, 3, 4, 5, 6, 7, 3, 0, 5, 1, 7, 2, 6, 4]]


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    sys.path.insert(0, os.path.join(root, "tools"))
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast, get_linear_schedule_with_warmup
    import finetune_reference as R

    torch.manual_seed(0)
    torch.set_num_threads(1)
    res = os.path.join(root, "Tests", "BERTTests", "Resources")
    model_dir = os.path.join(res, "heads", "regression")
    weights = {k: v for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()
               if not k.startswith("classifier.") and not k.startswith("pooler.")}
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    for k in ("runtime", "id2label", "label2id", "problem_type", "architectures"):
        cfg.pop(k, None)
    tok = BertTokenizerFast(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)
    labels = sorted({t for _, tags in ROWS for t in tags})
    label_id = {l: i for i, l in enumerate(labels)}

    def encode_row(words, tags):
        e = tok(words, is_split_into_words=True, truncation=True, max_length=MAX_LENGTH)
        aligned, previous = [], None
        for w in e.word_ids():
            aligned.append(-100 if w is None or w == previous else label_id[tags[w]])
            previous = w
        return e["input_ids"], aligned

    encoded = [encode_row(w, t) for w, t in ROWS]
    batches = [list(range(s, s + BATCH)) for s in range(0, len(ROWS), BATCH)]

    def batch_tensors(b):
        T = max(len(encoded[i][0]) for i in b)
        ids = torch.tensor([encoded[i][0] + [0] * (T - len(encoded[i][0])) for i in b])
        mask = torch.tensor([[1] * len(encoded[i][0]) + [0] * (T - len(encoded[i][0])) for i in b])
        y = torch.tensor([encoded[i][1] + [-100] * (T - len(encoded[i][1])) for i in b])
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}, y

    inputs = [batch_tensors(b) for b in batches]
    used = sorted({i for ids, _ in encoded for i in ids})
    config = BertConfig(**cfg, num_labels=len(labels), attn_implementation="eager")
    config.hidden_dropout_prob = 0.0
    config.attention_probs_dropout_prob = 0.0
    model = BertForTokenClassification(config)
    model.bert.load_state_dict(weights, strict=True)
    with torch.no_grad():
        model.classifier.weight.copy_(torch.tensor(R.classifier_init(len(labels), config.hidden_size, SEED)))
        model.classifier.bias.zero_()
    model.train()

    def ours(n):
        n = n[len("bert."):] if n.startswith("bert.") else n
        return "token_classifier." + n[len("classifier."):] if n.startswith("classifier.") else n

    named = [(ours(n), p) for n, p in model.named_parameters()]
    opt = torch.optim.AdamW(R.param_groups(named), lr=5e-4, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, R.warmup_steps(TOTAL), TOTAL)
    params = [p for _, p in named]
    losses, out, norm = [], {}, None
    for step in range(STEPS):
        x, y = inputs[step % len(batches)]
        loss = model(**x, labels=y).loss  # transformers' own loss
        opt.zero_grad()
        loss.backward()
        if step == 0:
            for n, p in named:
                g = p.grad.detach().clone()
                out[f"grad.{n}[ids]" if n == "embeddings.word_embeddings.weight" else f"grad.{n}"] = g[used] if n == "embeddings.word_embeddings.weight" else g
        n = torch.nn.utils.clip_grad_norm_(params, 1.0)
        if step == 0:
            norm = float(n)
        opt.step()
        sched.step()
        losses.append(loss.item())
    for n, p in named:
        if n.startswith("token_classifier."):
            out[f"after.{n}"] = p.detach().clone()

    # Head only (--freeze-encoder): the encoder's parameters frozen, dropout off, the same head
    # init, batches and schedule; only token_classifier.* train (and are clipped).
    frozen = BertForTokenClassification(config)
    frozen.bert.load_state_dict(weights, strict=True)
    with torch.no_grad():
        frozen.classifier.weight.copy_(torch.tensor(R.classifier_init(len(labels), config.hidden_size, SEED)))
        frozen.classifier.bias.zero_()
    for p in frozen.bert.parameters():
        p.requires_grad_(False)
    frozen.train()
    head = [(ours(n), p) for n, p in frozen.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(R.param_groups(head), lr=5e-4, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, R.warmup_steps(TOTAL), TOTAL)
    head_only_losses = []
    for step in range(STEPS):
        x, y = inputs[step % len(batches)]
        loss = frozen(**x, labels=y).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in head], 1.0)
        opt.step()
        sched.step()
        head_only_losses.append(loss.item())
    for n, p in head:
        out[f"head_only.after.{n}"] = p.detach().clone()

    from importlib.metadata import version
    info = {"rows": [{"tokens": w, "tags": t} for w, t in ROWS], "labels": labels, "seed": SEED, "batch_size": BATCH,
            "max_length": MAX_LENGTH, "steps": STEPS, "total_steps": TOTAL, "learning_rate": 5e-4,
            "ids": [e[0] for e in encoded], "aligned_labels": [e[1] for e in encoded], "word_ids": used,
            "losses": losses, "clip_norm_step1": norm, "head_only_losses": head_only_losses,
            "versions": {"torch": torch.__version__, "transformers": version("transformers")}}
    path = os.path.join(res, "token_classification_finetune_golden.safetensors")
    save_file({k: v.float().contiguous() for k, v in out.items()}, path)
    os.chmod(path, 0o644)
    with open(os.path.join(res, "token_classification_finetune_golden.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"finetune_token_classification.py: losses {[round(l, 5) for l in losses]}", file=sys.stderr)


if __name__ == "__main__":
    main()
