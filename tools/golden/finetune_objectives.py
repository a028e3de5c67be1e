#!/usr/bin/env python3
"""Golden files for fine-tuning's regression and multi-label objectives: transformers'
BertForSequenceClassification computing its own loss (problem_type "regression": MSE of
the one output; "multi_label_classification": BCEWithLogits over every label) on a tiny
encoder, dropout off, the recipe of tools/finetune_reference.py (AdamW, linear warmup
and decay, clipping at 1.0).

usage: .venv-golden/bin/python tools/golden/finetune_objectives.py [REPO_ROOT]   (run by tools/make_golden)

The encoder is the tiny random BERT of Tests/BERTTests/Resources/heads/regression
(tools/golden/heads.py; hidden 32, 2 layers); its classifier is replaced by the seeded
init of the recipe (classifier_init), as `bert finetune` draws it. 16 rows of fixed
sentence pairs (the regression rows are a cross-encoder's: text and text_pair), batches
of 8 alternating, max_length 32, lr 5e-4 over 20 scheduled steps (warmup 2), 10 steps.
Head-only: a Linear on the encoder's mean-pooled embeddings (the checkpoint's pooling,
not normalized), lr 1e-2, F.mse_loss / F.binary_cross_entropy_with_logits.

Writes Tests/BERTTests/Resources/objectives_golden.json (rows, targets, ids, per task
the 10 losses, the clipped norm at step 1) and objectives_golden.safetensors:
  TASK.full.grad.NAME     (TASK: regression, multi_label) every gradient after step 1 (the word table as the rows used,
                          "embeddings.word_embeddings.weight[ids]", sorted ids)
  TASK.full.after.NAME    the classifier and pooler after 10 steps
  TASK.head.features, TASK.head.grad.classifier.*, TASK.head.after.classifier.*
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

SEED = 42
BATCH = 8
MAX_LENGTH = 32
STEPS = 10
TOTAL = 20
FIRST = ["I loved this movie, it was wonderful.", "The plot was dull and the acting worse.",
         "An ordinary film: some good scenes, some bad ones.", "What a waste of two hours!",
         "Café au lait, naïve résumé — accents everywhere.", "Short.",
         "The cat sat on the mat while the dog slept by the door, and nobody noticed the rain.",
         "Time well spent."]
SECOND = ["It was great.", "I enjoyed it a lot.", "Mixed feelings.", "Time well spent.", "Plain text.",
          "A much longer second sentence that goes on for a while to exercise truncation and padding.",
          "Animals at home.", "Empty first."]
ROWS = [(FIRST[i % 8], SECOND[(3 * i + 1) % 8]) for i in range(16)]
SCORES = [round((i * 7 % 11) / 2, 1) for i in range(16)]  # 0 … 5
LABELS = ["action", "comedy", "drama", "horror"]
MULTI = [[LABELS[k] for k in range(4) if (i * 5 + k * 3) % 7 < 3] for i in range(16)]


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    sys.path.insert(0, os.path.join(root, "tools"))
    import torch
    import torch.nn.functional as F
    from safetensors.torch import load_file, save_file
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast, get_linear_schedule_with_warmup
    import finetune_reference as R

    torch.manual_seed(0)
    torch.set_num_threads(1)
    res = os.path.join(root, "Tests", "BERTTests", "Resources")
    model_dir = os.path.join(res, "heads", "regression")
    weights = {k: v for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items() if not k.startswith("classifier.")}
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    for k in ("runtime", "id2label", "label2id", "problem_type"):
        cfg.pop(k, None)
    tok = BertTokenizerFast(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)
    batches = [list(range(s, s + BATCH)) for s in range(0, len(ROWS), BATCH)]

    def encode(rows):
        return tok([a for a, _ in rows], [b for _, b in rows], padding=True, truncation="longest_first",
                   max_length=MAX_LENGTH, return_tensors="pt")

    encoded = [encode([ROWS[i] for i in b]) for b in batches]
    info = {"rows": [list(r) for r in ROWS], "scores": SCORES, "labels": LABELS, "label_lists": MULTI,
            "seed": SEED, "batch_size": BATCH, "max_length": MAX_LENGTH, "steps": STEPS, "total_steps": TOTAL,
            "ids": [tok(a, b, truncation="longest_first", max_length=MAX_LENGTH)["input_ids"] for a, b in ROWS]}
    out = {}
    used = sorted({int(i) for e in encoded for i in e["input_ids"].flatten().tolist()})
    info["word_ids"] = used

    def train(named, loss_of, lr):
        opt = torch.optim.AdamW(R.param_groups(named), lr=lr, betas=(0.9, 0.999), eps=1e-8)
        sched = get_linear_schedule_with_warmup(opt, R.warmup_steps(TOTAL), TOTAL)
        params = [p for _, p in named]
        losses, grads, norm = [], None, None
        for step in range(STEPS):
            loss = loss_of(step % len(batches))
            opt.zero_grad()
            loss.backward()
            if step == 0:
                grads = {n: p.grad.detach().clone() for n, p in named}
            n = torch.nn.utils.clip_grad_norm_(params, 1.0)
            if step == 0:
                norm = float(n)
            opt.step()
            sched.step()
            losses.append(loss.item())
        return losses, grads, norm

    tasks = {
        "regression": ("regression", 1, torch.tensor(SCORES, dtype=torch.float32).unsqueeze(1)),
        "multi_label": ("multi_label_classification", 4,
                  torch.tensor([[1.0 if l in m else 0.0 for l in LABELS] for m in MULTI])),
    }
    for task, (problem, L, y) in tasks.items():
        config = BertConfig(**cfg, num_labels=L, problem_type=problem, attn_implementation="eager")
        config.hidden_dropout_prob = 0.0
        config.attention_probs_dropout_prob = 0.0
        model = BertForSequenceClassification(config)
        model.bert.load_state_dict(weights, strict=True)
        with torch.no_grad():
            model.classifier.weight.copy_(torch.tensor(R.classifier_init(L, config.hidden_size, SEED)))
            model.classifier.bias.zero_()
        model.train()
        named = [(n[len("bert."):] if n.startswith("bert.") else n, p) for n, p in model.named_parameters()]
        # transformers' own loss: labels of shape (B,) for regression with one output, (B, L) multi-hot.
        target = (lambda k: y[batches[k]].squeeze(1)) if L == 1 else (lambda k: y[batches[k]])
        losses, grads, norm = train(named, lambda k: model(**encoded[k], labels=target(k)).loss, 5e-4)
        info[task] = {"full": {"losses": losses, "clip_norm_step1": norm, "learning_rate": 5e-4}}
        for n, g in grads.items():
            if n == "embeddings.word_embeddings.weight":
                out[f"{task}.full.grad.{n}[ids]"] = g[used].contiguous()
            else:
                out[f"{task}.full.grad.{n}"] = g.contiguous()
        for n, p in named:
            if n.startswith("classifier.") or n.startswith("pooler."):
                out[f"{task}.full.after.{n}"] = p.detach().clone()

        # Head-only: a Linear over the mean-pooled embeddings (the checkpoint says mean, not normalized).
        bert = model.bert
        bert.load_state_dict(weights, strict=True)
        bert.eval()
        with torch.no_grad():
            e = encode(ROWS)
            h = bert(**e).last_hidden_state
            m = e["attention_mask"].unsqueeze(-1).float()
            X = (h * m).sum(1) / m.sum(1)
        out[f"{task}.head.features"] = X.contiguous()
        head = torch.nn.Linear(X.shape[1], L)
        with torch.no_grad():
            head.weight.copy_(torch.tensor(R.classifier_init(L, X.shape[1], SEED)))
            head.bias.zero_()
        hnamed = [("classifier." + n, p) for n, p in head.named_parameters()]
        if L == 1:
            loss_of = lambda k: F.mse_loss(head(X[batches[k]]).squeeze(1), y[batches[k]].squeeze(1))
        else:
            loss_of = lambda k: F.binary_cross_entropy_with_logits(head(X[batches[k]]), y[batches[k]])
        losses, grads, norm = train(hnamed, loss_of, 1e-2)
        info[task]["head"] = {"losses": losses, "clip_norm_step1": norm, "learning_rate": 1e-2}
        for n, g in grads.items():
            out[f"{task}.head.grad.{n}"] = g.contiguous()
        for n, p in hnamed:
            out[f"{task}.head.after.{n}"] = p.detach().clone()
        print(f"finetune_objectives.py: {task} full losses {[round(l, 5) for l in info[task]['full']['losses']]}", file=sys.stderr)

    from importlib.metadata import version
    info["versions"] = {"torch": torch.__version__, "transformers": version("transformers")}
    path = os.path.join(res, "objectives_golden.safetensors")
    save_file({k: v.float().contiguous() for k, v in out.items()}, path)
    os.chmod(path, 0o644)
    with open(os.path.join(res, "objectives_golden.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
