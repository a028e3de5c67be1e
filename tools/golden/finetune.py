#!/usr/bin/env python3
"""Golden files for the fine-tuning tests: PyTorch / transformers running the recipe of
tools/finetune_reference.py on a small fixed batch, dropout off.

usage: .venv-golden/bin/python tools/golden/finetune.py [REPO_ROOT]

Needs data/polarity/train.csv (tools/setup) and models/all-MiniLM-L6-v2.
Full fine-tuning (BertForSequenceClassification from all-MiniLM-L6-v2's weights, the
seeded classifier init of the recipe): the first 16 training sentences, batches of 8
(rows 0-7, 8-15, alternating), max_length 32, AdamW lr 5e-5 with a linear schedule of
20 total steps (warmup 2), clipping at 1.0, 10 steps. Head-only: the same sentences'
normalized mean-pooled embeddings, a linear head, lr 1e-2, same schedule.

Writes Tests/BERTTests/Resources/finetune_golden.json (sentences, labels, ids, the 10
losses of each run, the gradient norm before clipping at step 1, the L2 norm of every
parameter's gradient after step 1) and finetune_golden.safetensors:
  full.init.classifier.{weight,bias}      the initial head
  full.grad.NAME                          the gradient after step 1 of a subset of the
                                          parameters (all biases and LayerNorm weights,
                                          the token-type table, the first 32 position rows
                                          as "embeddings.position_embeddings.weight[:32]",
                                          the used word rows as
                                          "embeddings.word_embeddings.weight[ids]" in
                                          sorted id order, layer 0's query weight, layer 5's
                                          attention output weight, the pooler
                                          and the classifier); every other gradient is
                                          checked through its norm in the JSON, to keep
                                          the file a few MB
  full.after.NAME                         classifier and pooler weights after 10 steps
  head.features                           the 16 embeddings (16, 384)
  head.init.classifier.*, head.grad.classifier.*, head.after.classifier.*
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

SEED = 42
ROWS = 16
BATCH = 8
MAX_LENGTH = 32
STEPS = 10
TOTAL = 20


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    sys.path.insert(0, os.path.join(root, "tools"))
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file
    from transformers import BertTokenizerFast, get_linear_schedule_with_warmup
    import finetune_reference as R

    torch.manual_seed(0)
    torch.set_num_threads(2)
    model_dir = os.path.join(root, "models", "all-MiniLM-L6-v2")
    data = os.path.join(root, "data", "polarity", "train.csv")
    if not os.path.isfile(data):
        sys.exit(f"finetune.py: error: {data} is missing; run tools/setup first")
    texts, raw = R.read_csv(data)
    texts, raw = texts[:ROWS], raw[:ROWS]
    labels = sorted(set(R.read_csv(data)[1]))
    y = torch.tensor([labels.index(l) for l in raw])
    tok = BertTokenizerFast(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)
    batches = [list(range(s, s + BATCH)) for s in range(0, ROWS, BATCH)]
    encoded = [tok([texts[i] for i in b], padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
               for b in batches]
    out = {}
    info = {"sentences": texts, "labels": [labels.index(l) for l in raw], "label_names": labels,
            "seed": SEED, "batch_size": BATCH, "max_length": MAX_LENGTH, "steps": STEPS, "total_steps": TOTAL,
            "ids": [tok(t, truncation=True, max_length=MAX_LENGTH)["input_ids"] for t in texts]}

    def train(params_named, forward, lr):
        opt = torch.optim.AdamW(R.param_groups(params_named), lr=lr, betas=(0.9, 0.999), eps=1e-8)
        sched = get_linear_schedule_with_warmup(opt, R.warmup_steps(TOTAL), TOTAL)
        params = [p for _, p in params_named]
        losses, grads, norm = [], None, None
        for step in range(STEPS):
            k = step % len(batches)
            loss = F.cross_entropy(forward(k), y[batches[k]])
            opt.zero_grad()
            loss.backward()
            if step == 0:
                grads = {n: p.grad.detach().clone() for n, p in params_named}
            n = torch.nn.utils.clip_grad_norm_(params, 1.0)
            if step == 0:
                norm = float(n)
            opt.step()
            sched.step()
            losses.append(loss.item())
        return losses, grads, norm

    # Full fine-tuning, dropout off.
    model = R.build_full(model_dir, labels, SEED, dropout=False)
    model.train()
    out["full.init.classifier.weight"] = model.classifier.weight.detach().clone()
    out["full.init.classifier.bias"] = model.classifier.bias.detach().clone()
    named = [(n[len("bert."):] if n.startswith("bert.") else n, p) for n, p in model.named_parameters()]
    losses, grads, norm = train(named, lambda k: model(**encoded[k]).logits, 5e-5)
    info["full"] = {"losses": losses, "clip_norm_step1": norm, "learning_rate": 5e-5,
                    "grad_norms": {n: float(g.double().norm()) for n, g in grads.items()}}
    used = sorted({int(i) for e in encoded for i in e["input_ids"].flatten().tolist()})
    info["full"]["word_ids"] = used
    for n, g in grads.items():
        keep = (g.dim() == 1 or n.startswith("embeddings.token_type") or n.startswith("pooler.") or n.startswith("classifier.")
                or n in ("encoder.layer.0.attention.self.query.weight", "encoder.layer.5.attention.output.dense.weight",
                         ))
        if keep:
            out["full.grad." + n] = g.contiguous()
    out["full.grad.embeddings.position_embeddings.weight[:32]"] = grads["embeddings.position_embeddings.weight"][:32].contiguous()
    out["full.grad.embeddings.word_embeddings.weight[ids]"] = grads["embeddings.word_embeddings.weight"][used].contiguous()
    for n, p in named:
        if n.startswith("classifier.") or n.startswith("pooler."):
            out["full.after." + n] = p.detach().clone().contiguous()

    # Head-only over the sentence embeddings.
    bert = R.build_full(model_dir, labels, SEED, dropout=False).bert.eval()
    with torch.no_grad():
        e = tok(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
        h = bert(**e).last_hidden_state
        m = e["attention_mask"].unsqueeze(-1).float()
        X = F.normalize((h * m).sum(1) / m.sum(1), p=2, dim=1)
    out["head.features"] = X.contiguous()
    head = torch.nn.Linear(X.shape[1], len(labels))
    with torch.no_grad():
        head.weight.copy_(torch.tensor(R.classifier_init(len(labels), X.shape[1], SEED)))
        head.bias.zero_()
    out["head.init.classifier.weight"] = head.weight.detach().clone()
    out["head.init.classifier.bias"] = head.bias.detach().clone()
    hnamed = [("classifier." + n, p) for n, p in head.named_parameters()]
    losses, grads, norm = train(hnamed, lambda k: head(X[batches[k]]), 1e-2)
    info["head"] = {"losses": losses, "clip_norm_step1": norm, "learning_rate": 1e-2,
                    "grad_norms": {n: float(g.double().norm()) for n, g in grads.items()}}
    for n, g in grads.items():
        out["head.grad." + n] = g.contiguous()
    for n, p in hnamed:
        out["head.after." + n] = p.detach().clone().contiguous()

    from importlib.metadata import version
    info["versions"] = {"torch": torch.__version__, "transformers": version("transformers")}
    res = os.path.join(root, "Tests", "BERTTests", "Resources")
    path = os.path.join(res, "finetune_golden.safetensors")
    save_file({k: v.float().contiguous() for k, v in out.items()}, path)
    os.chmod(path, 0o644)
    with open(os.path.join(res, "finetune_golden.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"finetune.py: full losses {[round(l, 5) for l in info['full']['losses']]}", file=sys.stderr)
    print(f"finetune.py: head losses {[round(l, 5) for l in info['head']['losses']]}", file=sys.stderr)


if __name__ == "__main__":
    main()
