#!/usr/bin/env python3
"""Golden files for `bert finetune --task embedding`: sentence-transformers' own loss classes
(MultipleNegativesRankingLoss on pairs and on triplets, CoSENTLoss, CosineSimilarityLoss) training
a SentenceTransformer (Transformer + mean Pooling, as the checkpoint's runtime config says, not
normalized) on a tiny encoder, dropout off, the recipe of tools/finetune_reference.py that
`bert finetune` runs (AdamW with its weight-decay groups, linear warmup and decay, clipping at 1.0).

usage: .venv-golden/bin/python tools/golden/finetune_embedding.py [REPO_ROOT]   (run by tools/make_golden)

The encoder is the tiny random BERT of Tests/BERTTests/Resources/heads/regression (hidden 32,
2 layers; its classifier and pooler unused). 16 rows, batches of 8 alternating, max_length 32,
lr 5e-4 over 20 scheduled steps (warmup 2), 10 steps. Scores: 0 … 5 for CoSENT, the same / 5
(0 … 1) for CosineSimilarityLoss.

Writes Tests/BERTTests/Resources/embedding_objectives_golden.json (rows, scores, ids, per loss the
10 losses and the clipped norm at step 1) and embedding_objectives_golden.safetensors:
  LOSS.grad.NAME   every encoder gradient after step 1 (the word table as the rows used,
                   "embeddings.word_embeddings.weight[ids]", sorted ids)
"""
import json
import os
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

BATCH = 8
MAX_LENGTH = 32
STEPS = 10
TOTAL = 20
LR = 5e-4
FIRST = ["I loved this movie, it was wonderful.", "The plot was dull and the acting worse.",
         "An ordinary film: some good scenes, some bad ones.", "What a waste of two hours!",
         "Café au lait, naïve résumé — accents everywhere.", "Short.",
         "The cat sat on the mat while the dog slept by the door, and nobody noticed the rain.",
         "Time well spent."]
SECOND = ["It was great.", "I enjoyed it a lot.", "Mixed feelings.", "A fine evening out.", "Plain text.",
          "A much longer second sentence that goes on for a while to exercise truncation and padding.",
          "Animals at home.", "Empty first."]
THIRD = ["Nothing to do with it.", "Rain all day.", "Numbers: 1, 2, 3.", "Quiet.",
         "A third text, the hard negative.", "Elsewhere entirely.", "Bread and butter.", "The end."]
ROWS = [(FIRST[i % 8], SECOND[(3 * i + 1) % 8], THIRD[(5 * i + 2) % 8]) for i in range(16)]
SCORES = [round((i * 7 % 11) / 2, 1) for i in range(16)]  # 0 … 5


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    sys.path.insert(0, os.path.join(root, "tools"))
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import BertConfig, BertModel, BertTokenizerFast, get_linear_schedule_with_warmup
    from sentence_transformers import SentenceTransformer, losses
    from sentence_transformers.models import Pooling, Transformer
    import finetune_reference as R

    torch.manual_seed(0)
    torch.set_num_threads(1)
    res = os.path.join(root, "Tests", "BERTTests", "Resources")
    model_dir = os.path.join(res, "heads", "regression")
    weights = {k: v for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items() if not k.startswith("classifier.")}
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    assert cfg["runtime"]["pooling"] == "mean" and not cfg["runtime"]["normalize"]
    for k in ("runtime", "id2label", "label2id", "problem_type", "architectures"):
        cfg.pop(k, None)
    tmp = tempfile.mkdtemp()
    tok = BertTokenizerFast(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)
    batches = [list(range(s, s + BATCH)) for s in range(0, len(ROWS), BATCH)]

    def fresh():
        config = BertConfig(**cfg, attn_implementation="eager")
        config.hidden_dropout_prob = 0.0
        config.attention_probs_dropout_prob = 0.0
        bert = BertModel(config)
        bert.load_state_dict(weights, strict=True)
        bert.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        transformer = Transformer(tmp, max_seq_length=MAX_LENGTH)
        model = SentenceTransformer(modules=[transformer, Pooling(config.hidden_size, "mean")], device="cpu")
        model.train()
        return model, transformer.auto_model

    info = {"rows": [list(r) for r in ROWS], "scores": SCORES, "batch_size": BATCH, "max_length": MAX_LENGTH,
            "steps": STEPS, "total_steps": TOTAL, "learning_rate": LR,
            "ids": [[tok(t, truncation=True, max_length=MAX_LENGTH)["input_ids"] for t in r] for r in ROWS]}
    used = sorted({i for r in info["ids"] for t in r for i in t})
    info["word_ids"] = used
    out = {}
    runs = {"mnrl_pairs": (2, lambda m: losses.MultipleNegativesRankingLoss(m), None),
            "mnrl_triplets": (3, lambda m: losses.MultipleNegativesRankingLoss(m), None),
            "cosent": (2, lambda m: losses.CoSENTLoss(m), torch.tensor(SCORES)),
            "cosine": (2, lambda m: losses.CosineSimilarityLoss(m), torch.tensor(SCORES) / 5)}
    for name, (K, make, labels) in runs.items():
        model, bert = fresh()
        loss_fn = make(model)
        assert loss_fn.scale == 20.0 if hasattr(loss_fn, "scale") else True
        named = list(bert.named_parameters())
        opt = torch.optim.AdamW(R.param_groups(named), lr=LR, betas=(0.9, 0.999), eps=1e-8)
        sched = get_linear_schedule_with_warmup(opt, R.warmup_steps(TOTAL), TOTAL)
        params = [p for _, p in named]
        history, norm = [], None
        for step in range(STEPS):
            b = batches[step % len(batches)]
            features = [model.tokenize([ROWS[i][k] for i in b]) for k in range(K)]
            y = labels[b] if labels is not None else None
            loss = loss_fn(features, y)
            opt.zero_grad()
            loss.backward()
            if step == 0:
                for n, p in named:
                    if p.grad is None:
                        continue  # the pooler: sentence embeddings do not read it
                    g = p.grad.detach()
                    if n == "embeddings.word_embeddings.weight":
                        out[f"{name}.grad.{n}[ids]"] = g[used].contiguous()
                    else:
                        out[f"{name}.grad.{n}"] = g.contiguous().clone()
            n = torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], 1.0)
            if step == 0:
                norm = float(n)
            opt.step()
            sched.step()
            history.append(loss.item())
        info[name] = {"losses": history, "clip_norm_step1": norm, "columns": K}
        print(f"finetune_embedding.py: {name} losses {[round(l, 5) for l in history]}", file=sys.stderr)

    from importlib.metadata import version
    info["versions"] = {"torch": torch.__version__, "transformers": version("transformers"),
                        "sentence-transformers": version("sentence-transformers")}
    path = os.path.join(res, "embedding_objectives_golden.safetensors")
    save_file({k: v.float().contiguous() for k, v in out.items()}, path)
    os.chmod(path, 0o644)
    with open(os.path.join(res, "embedding_objectives_golden.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
