#!/usr/bin/env python3
"""Golden files for `bert finetune --task mlm`: transformers' BertForMaskedLM computing its own
loss (CrossEntropyLoss over the tokens whose label is not -100) on masks drawn by transformers'
DataCollatorForLanguageModeling (mlm_probability 0.15, 80% [MASK], 10% random, 10% kept), dropout
off, the recipe of tools/finetune_reference.py (AdamW, linear warmup and decay, clipping at 1.0).

usage: .venv-golden/bin/python tools/golden/finetune_mlm.py [REPO_ROOT]   (run by tools/make_golden)

Two cases:
  head      Tests/BERTTests/Resources/mlm/bert, a tiny random BertForMaskedLM converted by
            tools/convert: its own head (mlm.*, the decoder tied to the word embeddings).
  new_head  the encoder of Tests/BERTTests/Resources/heads/regression (a checkpoint without a
            masked-LM head, as all-MiniLM-L6-v2): a new head as `bert finetune` makes one, dense
            weight from the recipe's seeded draw (classifier_init(E, C, seed)), its bias zero,
            LayerNorm one and zero, the decoder tied, its bias zero.
Each: 16 lines, tokenized with truncation at max_length 16, masked once by the collator (torch
seed 0) in batches of 8; lr 5e-4 over 20 scheduled steps (warmup 2), 10 steps, the two batches
alternating with the same masks.

Writes Tests/BERTTests/Resources/mlm_finetune_golden.json ({case: model, texts, ids, masked ids,
labels, the 10 losses, the clipped norm at step 1}) and mlm_finetune_golden.safetensors:
  CASE.grad.NAME    every gradient after step 1 (NAME as `bert finetune` names it: mlm.dense.*,
                    mlm.LayerNorm.*, mlm.bias; the tied decoder's adds into embeddings.word_embeddings.weight)
  CASE.after.NAME   the head's tensors after 10 steps
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
LR = 5e-4
# The tiny vocabulary's words (mlm/bert/vocab.txt), sub-words and punctuation included.
TINY = [
    "the cat sat on the mat.", "a dog ran over the lazy fox!", "the quick brown fox jumps over the lazy dog",
    "a bird sang in the old tree by the river", "the dog ran to the river while a bird sang.",
    "the old cat sat by the tree, and the dog ran", "a quick bird ran to the mat?", "the lazy dog sat",
    "brown cats sang in the river", "the fox and the bird ran over the old tree by the river to the mat",
    "a cat", "the tree by the river, the mat by the tree.", "quick, quick!", "the old dog and the old cat sat on the old mat",
    "birds sang while the fox ran", "the river ran by the old tree",
]
ENGLISH = [
    "John lives in Berlin.", "Mary Anne Smith visited New York City yesterday", "the cat sat on the mat",
    "Paris is lovely in spring, said Pierre", "Café au lait in Zürich with Renée", "I-95 runs through Washington D.C.",
    "nobody", "the quick brown fox jumps over the lazy dog near the river bank of London again and again",
    "a gorgeous, witty, seductive movie.", "the film is strictly routine.", "it's a charming and often affecting journey.",
    "unflinchingly bleak and desperate", "the story is familiar but the telling is fresh", "ten minutes in, I was bored",
    "a masterpiece four years in the making", "it never finds its footing",
]
CASES = {"head": ("mlm/bert", TINY), "new_head": ("heads/regression", ENGLISH)}


def ours(n):
    n = n[len("bert."):] if n.startswith("bert.") else n
    for hf, mine in (("cls.predictions.transform.dense.", "mlm.dense."), ("cls.predictions.transform.LayerNorm.", "mlm.LayerNorm."),
                     ("cls.predictions.bias", "mlm.bias")):
        if n.startswith(hf):
            return mine + n[len(hf):]
    return n


def run_case(root, name, model_dir, texts):
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast, DataCollatorForLanguageModeling, get_linear_schedule_with_warmup
    import finetune_reference as R

    torch.manual_seed(0)
    res = os.path.join(root, "Tests", "BERTTests", "Resources")
    path = os.path.join(res, model_dir)
    weights = load_file(os.path.join(path, "model.safetensors"))
    cfg = json.load(open(os.path.join(path, "config.json")))
    for k in ("runtime", "id2label", "label2id", "problem_type", "architectures", "num_labels"):
        cfg.pop(k, None)
    config = BertConfig(**cfg, attn_implementation="eager")
    config.hidden_dropout_prob = 0.0
    config.attention_probs_dropout_prob = 0.0
    model = BertForMaskedLM(config)
    state = {}
    for k, v in weights.items():
        if k.startswith(("classifier.", "pooler.")):
            continue
        if k.startswith("mlm."):
            state[{"mlm.dense.weight": "cls.predictions.transform.dense.weight", "mlm.dense.bias": "cls.predictions.transform.dense.bias",
                   "mlm.LayerNorm.weight": "cls.predictions.transform.LayerNorm.weight",
                   "mlm.LayerNorm.bias": "cls.predictions.transform.LayerNorm.bias", "mlm.bias": "cls.predictions.bias"}[k]] = v
        else:
            state["bert." + k] = v
    new_head = not any(k.startswith("mlm.") for k in weights)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    allowed = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}
    if new_head:
        allowed |= {"cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias", "cls.predictions.bias",
                    "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias"}
    assert set(missing) <= allowed, missing
    model.tie_weights()
    if new_head:
        with torch.no_grad():
            p = model.cls.predictions
            p.transform.dense.weight.copy_(torch.tensor(R.classifier_init(config.hidden_size, config.hidden_size, SEED)))
            p.transform.dense.bias.zero_()
            p.transform.LayerNorm.weight.fill_(1)
            p.transform.LayerNorm.bias.zero_()
            p.bias.zero_()
    assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr(), "decoder not tied"
    model.train()

    tok = BertTokenizerFast(os.path.join(path, "vocab.txt"), do_lower_case=True)
    ids = [tok(t, truncation=True, max_length=MAX_LENGTH)["input_ids"] for t in texts]
    collator = DataCollatorForLanguageModeling(tok, mlm=True, mlm_probability=0.15)
    masked, labels, inputs = [], [], []
    for start in range(0, len(texts), BATCH):
        rows = list(range(start, start + BATCH))
        b = collator([{"input_ids": ids[i]} for i in rows])
        for j, i in enumerate(rows):
            n = len(ids[i])
            masked.append(b["input_ids"][j][:n].tolist())
            labels.append(b["labels"][j][:n].tolist())
            assert all(x == -100 for x in b["labels"][j][n:].tolist())
        assert (b["labels"] != -100).any(), "a batch without a masked token"
        inputs.append({"input_ids": b["input_ids"], "attention_mask": b["attention_mask"],
                       "token_type_ids": torch.zeros_like(b["input_ids"])})
        inputs[-1]["labels"] = b["labels"]

    named = [(ours(n), p) for n, p in model.named_parameters()]
    assert len({n for n, _ in named}) == len(named)
    opt = torch.optim.AdamW(R.param_groups(named), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, R.warmup_steps(TOTAL), TOTAL)
    params = [p for _, p in named]
    losses, out, norm = [], {}, None
    for step in range(STEPS):
        x = inputs[step % len(inputs)]
        loss = model(**x).loss  # transformers' own loss
        opt.zero_grad()
        loss.backward()
        if step == 0:
            for n, p in named:
                out[f"{name}.grad.{n}"] = p.grad.detach().clone()
        n = torch.nn.utils.clip_grad_norm_(params, 1.0)
        if step == 0:
            norm = float(n)
        opt.step()
        sched.step()
        losses.append(loss.item())
    for n, p in named:
        if n.startswith("mlm."):
            out[f"{name}.after.{n}"] = p.detach().clone()
    info = {"model": model_dir, "texts": texts, "ids": ids, "masked_ids": masked, "labels": labels, "losses": losses,
            "clip_norm_step1": norm, "new_head": new_head, "parameters": len(named)}
    print(f"finetune_mlm.py: {name}: losses {[round(l, 5) for l in losses]}", file=sys.stderr)
    return info, out


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    sys.path.insert(0, os.path.join(root, "tools"))
    import torch
    from importlib.metadata import version
    torch.set_num_threads(1)
    info, tensors = {"seed": SEED, "batch_size": BATCH, "max_length": MAX_LENGTH, "steps": STEPS, "total_steps": TOTAL,
                     "learning_rate": LR, "versions": {"torch": torch.__version__, "transformers": version("transformers")}}, {}
    info["cases"] = {}
    for name, (model_dir, texts) in CASES.items():
        case, out = run_case(root, name, model_dir, texts)
        info["cases"][name] = case
        tensors.update(out)
    from safetensors.torch import save_file
    res = os.path.join(root, "Tests", "BERTTests", "Resources")
    path = os.path.join(res, "mlm_finetune_golden.safetensors")
    save_file({k: v.float().contiguous() for k, v in tensors.items()}, path)
    os.chmod(path, 0o644)
    with open(os.path.join(res, "mlm_finetune_golden.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
