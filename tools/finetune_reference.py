#!/usr/bin/env python3
"""The fine-tuning recipe of `bert finetune`, run in PyTorch / transformers: the
reference the README's figures compare against. Also imported by
tools/golden/finetune.py for the pieces both share (RNG, split, init, optimizer).

usage: .venv-golden/bin/python tools/finetune_reference.py TRAIN_CSV TEST_CSV
           [--freeze-encoder] [--epochs 3] [--learning-rate X] [--batch-size 32]
           [--max-length 128] [--seed 42] [--threads 2] [--model models/all-MiniLM-L6-v2]

The recipe (the same as Sources/BERT/Training):
- labels sorted (strings by code point) → ids 0..L-1;
- validation: the first n/10 of a seeded Fisher-Yates shuffle of the training rows
  (SplitMix64, the Swift SplitMix64 of Sources/BERT/Training/Random.swift), the rest,
  in file order, is trained on; each epoch shuffles the training rows with the same
  generator, batches are consecutive chunks;
- classifier (L, C) drawn from normal(0, 0.02) by Box-Muller on SplitMix64(seed + 1),
  bias zero, as Swift draws it, so both start from the same weights;
- AdamW (0.9, 0.999, 1e-8), weight decay 0.01 except biases and LayerNorm weights,
  linear warmup over ceil(10%) of the steps then linear decay to 0, gradient norm
  clipped at 1.0, cross-entropy;
- full: BertForSequenceClassification (pooler → dropout 0.1 → classifier), dropout 0.1
  in training; default learning rate 2e-5;
- --freeze-encoder: the sentence embedding (mean pooling, L2-normalized) computed once,
  a linear head trained on it, no dropout; default learning rate 1e-2;
- after each epoch: validation loss/accuracy/macro-F1; the best validation accuracy's
  weights are evaluated on TEST_CSV.
Prints one JSON line per epoch and a final JSON line with the test figures and times.
"""
import csv
import json
import math
import os
import sys
import time

MASK64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self):  # [0, 1), 53 bits
        return (self.next() >> 11) * (1.0 / (1 << 53))

    def below(self, n):
        return self.next() % n

    def normal(self):
        u1 = 1.0 - self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def split(n, seed):
    """(train indices in file order, validation indices in shuffled order)."""
    rng = SplitMix64(seed)
    order = list(range(n))
    rng.shuffle(order)
    k = max(1, n // 10)
    val = order[:k]
    held = set(val)
    return [i for i in range(n) if i not in held], val, rng


def classifier_init(labels, hidden, seed):
    rng = SplitMix64(seed + 1)
    return [[0.02 * rng.normal() for _ in range(hidden)] for _ in range(labels)]


def warmup_steps(total):
    return math.ceil(0.1 * total)


def param_groups(named, weight_decay=0.01):
    decay, no_decay = [], []
    for name, p in named:
        if not p.requires_grad:
            continue
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def load_encoder_weights(model_dir):
    from safetensors.torch import load_file
    return load_file(os.path.join(model_dir, "model.safetensors"))


def build_full(model_dir, labels, seed, dropout):
    import torch
    from transformers import BertConfig, BertForSequenceClassification
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    cfg.pop("runtime", None)
    config = BertConfig(**cfg, num_labels=len(labels), id2label=dict(enumerate(labels)),
                        label2id={l: i for i, l in enumerate(labels)}, attn_implementation="eager")
    if not dropout:
        config.hidden_dropout_prob = 0.0
        config.attention_probs_dropout_prob = 0.0
    model = BertForSequenceClassification(config)
    model.bert.load_state_dict(load_encoder_weights(model_dir), strict=True)
    with torch.no_grad():
        model.classifier.weight.copy_(torch.tensor(classifier_init(len(labels), config.hidden_size, seed)))
        model.classifier.bias.zero_()
    return model


def metrics(pred, gold, n_labels):
    acc = sum(p == g for p, g in zip(pred, gold)) / len(gold)
    f1s = []
    for c in range(n_labels):
        tp = sum(p == c and g == c for p, g in zip(pred, gold))
        fp = sum(p == c and g != c for p, g in zip(pred, gold))
        fn = sum(p != c and g == c for p, g in zip(pred, gold))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return acc, sum(f1s) / n_labels


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return
    opts = {"--epochs": "3", "--batch-size": "32", "--max-length": "128", "--seed": "42", "--threads": "2",
            "--model": "models/all-MiniLM-L6-v2", "--learning-rate": None}
    freeze = "--freeze-encoder" in args
    args = [a for a in args if a != "--freeze-encoder"]
    pos = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            pos.append(args[i])
            i += 1
    if len(pos) != 2:
        sys.exit("finetune_reference.py: error: expected TRAIN_CSV TEST_CSV (see --help)")
    import torch
    import torch.nn.functional as F
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    torch.set_num_threads(int(opts["--threads"]))
    epochs, bs, max_len, seed = int(opts["--epochs"]), int(opts["--batch-size"]), int(opts["--max-length"]), int(opts["--seed"])
    lr = float(opts["--learning-rate"] or (1e-2 if freeze else 2e-5))
    model_dir = opts["--model"]
    torch.manual_seed(seed)

    texts, raw = read_csv(pos[0])
    test_texts, test_raw = read_csv(pos[1])
    labels = sorted(set(raw))
    y = [labels.index(l) for l in raw]
    test_y = [labels.index(l) for l in test_raw]
    train_idx, val_idx, rng = split(len(texts), seed)
    tok = AutoTokenizer.from_pretrained(model_dir) if os.path.exists(os.path.join(model_dir, "tokenizer.json")) else None
    if tok is None:
        from transformers import BertTokenizerFast
        tok = BertTokenizerFast(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)

    def enc(batch_texts):
        return tok(batch_texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")

    start = time.time()
    if freeze:
        enc_model = build_full(model_dir, labels, seed, dropout=False).bert.eval()

        def features(ts):
            out = []
            with torch.no_grad():
                for s in range(0, len(ts), 64):
                    e = enc(ts[s:s + 64])
                    h = enc_model(input_ids=e["input_ids"], attention_mask=e["attention_mask"],
                                  token_type_ids=e["token_type_ids"]).last_hidden_state
                    m = e["attention_mask"].unsqueeze(-1).float()
                    v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
                    out.append(F.normalize(v, p=2, dim=1))
            return torch.cat(out)

        X, TX = features(texts), features(test_texts)
        feature_time = time.time() - start
        head = torch.nn.Linear(X.shape[1], len(labels))
        with torch.no_grad():
            head.weight.copy_(torch.tensor(classifier_init(len(labels), X.shape[1], seed)))
            head.bias.zero_()
        named = list(head.named_parameters())

        def logits_of(idx, train):
            return head(X[idx])

        def test_logits():
            return head(TX)
        modules = [head]
    else:
        model = build_full(model_dir, labels, seed, dropout=True)
        feature_time = 0.0
        named = [(n, p) for n, p in model.named_parameters()]

        def logits_of(idx, train):
            model.train(train)
            e = enc([texts[i] for i in idx])
            return model(**e).logits

        def test_logits():
            model.eval()
            out = []
            with torch.no_grad():
                for s in range(0, len(test_texts), 64):
                    out.append(model(**enc(test_texts[s:s + 64])).logits)
            return torch.cat(out)
        modules = [model]

    opt = torch.optim.AdamW(param_groups(named), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    steps_per_epoch = math.ceil(len(train_idx) / bs)
    total = epochs * steps_per_epoch
    sched = get_linear_schedule_with_warmup(opt, warmup_steps(total), total)
    params = [p for _, p in named]

    def evaluate(idx_or_none):
        with torch.no_grad():
            if idx_or_none is None:
                lg, gold = test_logits(), test_y
            else:
                lg = torch.cat([logits_of(idx_or_none[s:s + 64], False) for s in range(0, len(idx_or_none), 64)])
                gold = [y[i] for i in idx_or_none]
            loss = F.cross_entropy(lg, torch.tensor(gold)).item()
            acc, f1 = metrics(lg.argmax(1).tolist(), gold, len(labels))
        return loss, acc, f1

    best, best_state = -1.0, None
    train_start = time.time()
    for epoch in range(epochs):
        order = list(train_idx)
        rng.shuffle(order)
        total_loss, n = 0.0, 0
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]
            lg = logits_of(idx, True)
            loss = F.cross_entropy(lg, torch.tensor([y[i] for i in idx]))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            total_loss += loss.item() * len(idx)
            n += len(idx)
        vloss, vacc, vf1 = evaluate(val_idx)
        print(json.dumps({"epoch": epoch + 1, "train_loss": total_loss / n, "validation_loss": vloss,
                          "accuracy": vacc, "macro_f1": vf1, "seconds": time.time() - train_start}), flush=True)
        if vacc > best:
            best = vacc
            best_state = [{k: v.clone() for k, v in m.state_dict().items()} for m in modules]
    for m, st in zip(modules, best_state):
        m.load_state_dict(st)
    tloss, tacc, tf1 = evaluate(None)
    print(json.dumps({"test_loss": tloss, "test_accuracy": tacc, "test_macro_f1": tf1,
                      "mode": "head-only" if freeze else "full", "learning_rate": lr, "epochs": epochs,
                      "train_rows": len(train_idx), "validation_rows": len(val_idx), "threads": int(opts["--threads"]),
                      "feature_seconds": feature_time, "train_seconds": time.time() - train_start,
                      "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
