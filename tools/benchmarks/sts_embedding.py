#!/usr/bin/env python3
"""STS Benchmark with the bi-encoder fine-tuned: `bert evaluate --task sts` on sts-test, then
`bert finetune --task embedding --loss cosine --score-scale 5` from the model on sts-train's
(sentence1, sentence2, score) rows with sts-dev picking the best epoch, then sts-test again
(Spearman and Pearson x100 of the cosine against the gold scores). Beside it, unless
--no-reference, sentence-transformers' CosineSimilarityLoss with the same recipe (AdamW 0.9/0.999,
eps 1e-8, weight decay 0.01 except biases and LayerNorm weights, linear warmup over 10% of the
steps then linear decay, clipping at 1.0, the model's dropout, scores / 5, the best sts-dev epoch),
on the original sentence-transformers directory (tools/benchmarks/sts.py's reference_directory, or
--reference-dir); its data order is torch's shuffle, not ours. Run through tools/sts_embedding."""

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


def write_tsv(rows, path):
    def field(s):
        return '"' + s.replace('"', '""') + '"' if any(c in s for c in '"\t\n\r') else s

    with open(path, "w", encoding="utf-8") as f:
        f.write("sentence1\tsentence2\tscore\n")
        for score, a, b in rows:
            f.write(f"{field(a)}\t{field(b)}\t{score}\n")


def evaluate(bert, model, path):
    out = subprocess.run([bert, "evaluate", path, "--model", model, "--task", "sts", "--json"],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout)


def reference(directory, splits, args):
    """sentence-transformers' CosineSimilarityLoss, the recipe of `bert finetune`: sts-test before and after."""
    import numpy as np
    import torch
    from scipy.stats import pearsonr, spearmanr
    from sentence_transformers import SentenceTransformer, losses
    from transformers import get_linear_schedule_with_warmup
    import finetune_reference as R

    torch.manual_seed(args.seed)
    model = SentenceTransformer(directory, device="cpu")
    own_length = model.max_seq_length  # evaluation truncates at the model's own length, as bert evaluate does

    def figures(rows):
        model.max_seq_length = own_length
        model.eval()
        with torch.no_grad():
            a = model.encode([r[1] for r in rows], convert_to_tensor=True, batch_size=64)
            b = model.encode([r[2] for r in rows], convert_to_tensor=True, batch_size=64)
        cos = torch.nn.functional.cosine_similarity(a, b).numpy()
        gold = np.array([r[0] for r in rows])
        return {"spearman": 100 * spearmanr(cos, gold)[0], "pearson": 100 * pearsonr(cos, gold)[0]}

    before = figures(splits["test"])
    loss_fn = losses.CosineSimilarityLoss(model)
    named = list(model.named_parameters())
    train = splits["train"]
    steps_per_epoch = (len(train) + args.batch_size - 1) // args.batch_size
    total = args.epochs * steps_per_epoch
    opt = torch.optim.AdamW(R.param_groups(named), lr=args.learning_rate, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, R.warmup_steps(total), total)
    best, best_state, epochs = None, None, []
    for epoch in range(args.epochs):
        model.train()
        model.max_seq_length = args.max_length  # training truncates at --max-length, as bert finetune does
        order = torch.randperm(len(train)).tolist()
        for s in range(steps_per_epoch):
            rows = [train[i] for i in order[s * args.batch_size:(s + 1) * args.batch_size]]
            features = [model.tokenize([r[1] for r in rows]), model.tokenize([r[2] for r in rows])]
            loss = loss_fn(features, torch.tensor([r[0] / 5 for r in rows], dtype=torch.float32))
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
    return {"before": before, "after": figures(splits["test"]), "epochs": epochs}


def main():
    parser = argparse.ArgumentParser(prog="tools/sts_embedding", description=__doc__)
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="the model to start from (a name under models/ or a directory)")
    parser.add_argument("--bert", default=os.path.join(ROOT, ".build", "release", "bert"))
    parser.add_argument("--output", default=os.path.join(ROOT, "models", "sts-embedding"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=int, help="only the first N rows of each split (a quick check)")
    parser.add_argument("--no-reference", action="store_true", help="skip sentence-transformers' run")
    parser.add_argument("--reference-dir", help="the sentence-transformers directory of --model (default: sts.py's)")
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "sts-embedding"), help="where the TSV files go")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    os.makedirs(args.data, exist_ok=True)
    splits = {s: sts.read_split(s)[:args.limit] for s in ("train", "dev", "test")}
    paths = {s: os.path.join(args.data, f"{s}.tsv") for s in splits}
    for s, rows in splits.items():
        write_tsv(rows, paths[s])
    recipe = ["--task", "embedding", "--loss", "cosine", "--score-scale", "5", "--model", args.model,
              "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--learning-rate", str(args.learning_rate),
              "--max-length", str(args.max_length), "--seed", str(args.seed)]
    print(f"sts_embedding: {({s: len(r) for s, r in splits.items()})}; bert finetune {' '.join(recipe)}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    before = evaluate(args.bert, args.model, paths["test"])
    start = time.perf_counter()
    subprocess.run([args.bert, "finetune", paths["train"], "--validation", paths["dev"], "--output", args.output,
                    "--json-log", args.output + ".log.jsonl"] + recipe, check=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    after = evaluate(args.bert, args.output, paths["test"])
    result = {"benchmark": f"STS-B ({sts.PACKAGE} {sts.VERSION}) bi-encoder, CosineSimilarityLoss", "recipe": recipe,
              "train_seconds": seconds, "epochs": [json.loads(l) for l in open(args.output + ".log.jsonl")],
              "ours": {"before": before, "after": after}}
    print(f"ours   sts-test ({after['examples']} pairs): Spearman {before['spearman']:.2f} -> {after['spearman']:.2f}  "
          f"Pearson {before['pearson']:.2f} -> {after['pearson']:.2f}; fine-tuning {seconds:.0f} s")
    if not args.no_reference:
        start = time.perf_counter()
        theirs = reference(args.reference_dir or sts.reference_directory(args.model), splits, args)
        theirs["train_seconds"] = time.perf_counter() - start
        result["sentence_transformers"] = theirs
        print(f"theirs sts-test: Spearman {theirs['before']['spearman']:.2f} -> {theirs['after']['spearman']:.2f}  "
              f"Pearson {theirs['before']['pearson']:.2f} -> {theirs['after']['pearson']:.2f}; fine-tuning {theirs['train_seconds']:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
