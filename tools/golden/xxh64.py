#!/usr/bin/env python3
"""Golden file for the XXH64 checksum kernel (Sources/Kernels/XXH64.swift).

usage: .venv-golden/bin/python tools/golden/xxh64.py [REPO_ROOT]

Reference: the xxhash package (Python bindings of the reference C library). Inputs are
generated, not stored: message k of length n has bytes (i * 131 + n * 7 + k) % 256 for i in
0..<n, so the Swift test rebuilds them. Lengths cover every tail size around the 32-byte
stripe and the 4- and 8-byte steps, and a few long inputs; seeds 0 and a large one.

Writes Tests/KernelsTests/Resources/xxh64_golden.json.
"""

import json
import os
import sys

import xxhash

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
lengths = list(range(0, 100)) + [127, 128, 129, 1000, 4096 + 7, 65536 + 31]
cases = []
for seed in [0, 0x9E3779B97F4A7C15]:
    for k, n in enumerate(lengths):
        data = bytes((i * 131 + n * 7 + k) % 256 for i in range(n))
        cases.append({"length": n, "k": k, "seed": str(seed), "digest": xxhash.xxh64_hexdigest(data, seed=seed)})
out = os.path.join(root, "Tests", "KernelsTests", "Resources", "xxh64_golden.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump({"reference": f"xxhash {xxhash.VERSION} (libxxhash {xxhash.XXHASH_VERSION})", "cases": cases}, f, indent=1)
    f.write("\n")
print(f"wrote {out}: {len(cases)} cases")
