#!/usr/bin/env python3
"""Masked-LM domain adaptation, measured: continued pre-training of all-MiniLM-L6-v2's encoder by
`bert finetune --task mlm` on the Rotten Tomatoes review snippets that tools/setup fetched
(data/sentiment/train.csv's texts that are not Pang & Lee sentences of data/polarity), with a new
masked-LM head (the checkpoint has none: dense from the recipe's seeded draw, LayerNorm one and
zero, the decoder tied to the word embeddings, bias zero), a seeded 5% of the snippets held out.

Reported:
- held-out masked-token loss: ours by `bert evaluate --task mlm` (our masks, the run's seed);
  and, on one set of masks drawn by transformers' DataCollatorForLanguageModeling (torch seed 0),
  every model evaluated by BertForMaskedLM: the original encoder with the new, untrained head
  ("before"), ours after, and PyTorch's after the same recipe (below);
- Pang & Lee test accuracy (data/polarity/test.csv, 800 sentences) of a classifier fine-tuned by
  `bert finetune` on data/polarity/train.csv from the original encoder and from the adapted one,
  the same recipe for both.

PyTorch's run (unless --no-reference): BertForMaskedLM from the same weights (models/NAME, which
tools/convert renamed from the sentence-transformers directory),
the same new head, DataCollatorForLanguageModeling's masks (mlm_probability 0.15, drawn anew per
batch), dropout 0.1, AdamW 0.9/0.999, eps 1e-8, weight decay 0.01 except biases and LayerNorm
weights, linear warmup over 10% of the steps then linear decay, clipping at 1.0, torch's shuffle,
the best epoch by held-out loss. Run through tools/mlm_adapt; CPU-heavy, run it on a quiet machine."""

import argparse
import csv
import json
import math
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import sts  # noqa: E402

ROOT = sts.ROOT


def key(text):
    return re.sub(r"[^a-z0-9]", "", text.lower())


def read_texts(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)]


def corpus(seed, limit):
    """The snippets (sentiment train minus every Pang & Lee sentence), one per line, shuffled; 5% held out."""
    pang_lee = {key(t) for s in ("train", "test") for t in read_texts(os.path.join(ROOT, "data", "polarity", f"{s}.csv"))}
    seen, snippets = set(), []
    for t in read_texts(os.path.join(ROOT, "data", "sentiment", "train.csv")):
        k = key(t)
        if k and k not in pang_lee and k not in seen and "\n" not in t:
            seen.add(k)
            snippets.append(t)
    random.Random(seed).shuffle(snippets)
    snippets = snippets[:limit] if limit else snippets
    held = max(1, len(snippets) // 20)
    return snippets[held:], snippets[:held]


def bert(args, *argv):
    return subprocess.run([args.bert, *argv], check=True, capture_output=True, text=True, cwd=ROOT).stdout


def hf_masked_lm(weights_dir, tensors=None, seed=42):
    """BertForMaskedLM with all-MiniLM-L6-v2's config: the encoder from `tensors` (canonical names,
    ours or converted) and their mlm.* head, or the new head `bert finetune` draws when they have none."""
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForMaskedLM
    import finetune_reference as R

    cfg = json.load(open(os.path.join(weights_dir, "config.json")))
    for k in ("runtime", "id2label", "label2id", "problem_type", "architectures", "num_labels"):
        cfg.pop(k, None)
    model = BertForMaskedLM(BertConfig(**cfg))
    tensors = tensors if tensors is not None else load_file(os.path.join(weights_dir, "model.safetensors"))
    names = {"mlm.dense.weight": "cls.predictions.transform.dense.weight", "mlm.dense.bias": "cls.predictions.transform.dense.bias",
             "mlm.LayerNorm.weight": "cls.predictions.transform.LayerNorm.weight",
             "mlm.LayerNorm.bias": "cls.predictions.transform.LayerNorm.bias", "mlm.bias": "cls.predictions.bias"}
    state = {names.get(k, "bert." + k): v for k, v in tensors.items() if not k.startswith(("pooler.", "classifier.")) and not k.endswith("position_ids")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    model.tie_weights()
    if not any(k.startswith("mlm.") for k in tensors):
        C = model.config.hidden_size
        with torch.no_grad():
            p = model.cls.predictions
            p.transform.dense.weight.copy_(torch.tensor(R.classifier_init(C, C, seed)))
            p.transform.dense.bias.zero_()
            p.transform.LayerNorm.weight.fill_(1)
            p.transform.LayerNorm.bias.zero_()
            p.bias.zero_()
    return model


def held_out_batches(tokenizer, texts, max_length):
    """One fixed set of masks over the held-out lines, drawn by transformers' collator (torch seed 0)."""
    import torch
    from transformers import DataCollatorForLanguageModeling
    torch.manual_seed(0)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15)
    ids = [tokenizer(t, truncation=True, max_length=max_length)["input_ids"] for t in texts]
    return [collator([{"input_ids": i} for i in ids[s:s + 32]]) for s in range(0, len(ids), 32)]


def hf_loss(model, batches):
    import torch
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for b in batches:
            n = int((b["labels"] != -100).sum())
            total += float(model(**b).loss) * n
            count += n
    return total / count


def reference(args, directory, tokenizer, train, batches):
    """PyTorch's continued pre-training with the recipe of `bert finetune --task mlm`."""
    import torch
    from transformers import DataCollatorForLanguageModeling, get_linear_schedule_with_warmup
    import finetune_reference as R

    torch.manual_seed(args.seed)
    model = hf_masked_lm(directory, seed=args.seed)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15)
    ids = [tokenizer(t, truncation=True, max_length=args.max_length)["input_ids"] for t in train]
    named = [(n, p) for n, p in model.named_parameters()]
    steps_per_epoch = (len(ids) + args.batch_size - 1) // args.batch_size
    total = args.epochs * steps_per_epoch
    opt = torch.optim.AdamW(R.param_groups(named), lr=args.learning_rate, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, R.warmup_steps(total), total)
    best, best_state, epochs = None, None, []
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(ids)).tolist()
        for s in range(steps_per_epoch):
            b = collator([{"input_ids": ids[i]} for i in order[s * args.batch_size:(s + 1) * args.batch_size]])
            loss = model(**b).loss
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
            opt.step()
            sched.step()
        held = hf_loss(model, batches)
        epochs.append({"epoch": epoch + 1, "held_out_loss": held})
        print(f"mlm_adapt: PyTorch epoch {epoch + 1}: held-out loss {held:.4f}", file=sys.stderr)
        if best is None or held < best:
            best, best_state = held, {k: v.clone() for k, v in model.state_dict().items()}
    return {"held_out_loss": best, "epochs": epochs}


def classify(args, model, output):
    recipe = ["--model", model, "--epochs", str(args.classifier_epochs), "--seed", str(args.seed), "--max-length", "128"]
    bert(args, "finetune", os.path.join(ROOT, "data", "polarity", "train.csv"), "--output", output, *recipe)
    return json.loads(bert(args, "evaluate", os.path.join(ROOT, "data", "polarity", "test.csv"), "--model", output, "--json"))


def main():
    parser = argparse.ArgumentParser(prog="tools/mlm_adapt", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--bert", default=os.path.join(ROOT, ".build", "release", "bert"))
    parser.add_argument("--output", default=os.path.join(ROOT, "models", "mlm-adapted"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--classifier-epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=int, help="only the first N snippets (a quick check)")
    parser.add_argument("--no-reference", action="store_true", help="skip PyTorch's run")
    parser.add_argument("--no-classifiers", action="store_true", help="skip the Pang & Lee classifiers")
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mlm-adapt"))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    from transformers import BertTokenizerFast
    from safetensors.torch import load_file

    os.makedirs(args.data, exist_ok=True)
    train, held = corpus(args.seed, args.limit)
    paths = {"train": os.path.join(args.data, "train.txt"), "held_out": os.path.join(args.data, "held_out.txt")}
    for name, lines in (("train", train), ("held_out", held)):
        with open(paths[name], "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    source = os.path.join(ROOT, "models", args.model)
    tokenizer = BertTokenizerFast(os.path.join(source, "vocab.txt"), do_lower_case=True)
    batches = held_out_batches(tokenizer, held, args.max_length)
    recipe = ["--task", "mlm", "--model", args.model, "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
              "--learning-rate", str(args.learning_rate), "--max-length", str(args.max_length), "--seed", str(args.seed)]
    print(f"mlm_adapt: {len(train)} snippets to train on, {len(held)} held out; bert finetune {' '.join(recipe)}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    before = hf_loss(hf_masked_lm(source, seed=args.seed), batches)
    start = time.perf_counter()
    subprocess.run([args.bert, "finetune", paths["train"], "--validation", paths["held_out"], "--output", args.output,
                    "--json-log", args.output + ".log.jsonl"] + recipe, check=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    ours_eval = json.loads(bert(args, "evaluate", paths["held_out"], "--task", "mlm", "--model", args.output, "--seed", str(args.seed),
                                "--max-length", str(args.max_length), "--json"))
    after = hf_loss(hf_masked_lm(args.output, load_file(os.path.join(args.output, "model.safetensors"))), batches)
    result = {"benchmark": "masked-LM adaptation of all-MiniLM-L6-v2 on Rotten Tomatoes snippets", "recipe": recipe,
              "snippets": {"train": len(train), "held_out": len(held)}, "train_seconds": seconds,
              "epochs": [json.loads(l) for l in open(args.output + ".log.jsonl")],
              "held_out_loss_collator_masks": {"before_new_head": before, "ours": after},
              "ours_evaluate": ours_eval}
    print(f"held-out masked-token loss (transformers' masks): before (new head) {before:.4f}, ours after {after:.4f} "
          f"(perplexity {math.exp(before):.1f} -> {math.exp(after):.1f}); bert evaluate --task mlm: {ours_eval['loss']:.4f}; "
          f"training {seconds:.0f} s")
    if not args.no_reference:
        start = time.perf_counter()
        theirs = reference(args, source, tokenizer, train, batches)
        theirs["train_seconds"] = time.perf_counter() - start
        result["pytorch"] = theirs
        result["held_out_loss_collator_masks"]["pytorch"] = theirs["held_out_loss"]
        print(f"PyTorch after the same recipe: {theirs['held_out_loss']:.4f} (perplexity {math.exp(theirs['held_out_loss']):.1f}); "
              f"training {theirs['train_seconds']:.0f} s")
    if not args.no_classifiers:
        original = classify(args, args.model, os.path.join(ROOT, "models", "pl-original"))
        adapted = classify(args, args.output, os.path.join(ROOT, "models", "pl-adapted"))
        result["pang_lee_test"] = {"original": original, "adapted": adapted}
        print(f"Pang & Lee test accuracy: from the original encoder {original['accuracy']:.4f}, from the adapted one {adapted['accuracy']:.4f} "
              f"(macro-F1 {original['macro_f1']:.4f} / {adapted['macro_f1']:.4f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
