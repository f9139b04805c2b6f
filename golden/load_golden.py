#!/usr/bin/env python3
"""Loads a bnconform golden file with json and numpy alone (golden/README.md).

Usage: load_golden.py FILE.json
Verifies the checksum, prints every tensor's name, dtype and shape, and recomputes
the first training forward step's y in float64 with numpy as a cross-check of
the data. Exits 77 (a skip for ctest) when numpy is not installed.
"""
import hashlib
import json
import sys

try:
    import numpy as np
except ImportError:
    print("numpy is not installed: skipped")
    sys.exit(77)

# --- the README's snippet: load a golden file ------------------------------------
NP = {"f64": np.float64, "f32": np.float32, "f16": np.float16, "bf16": np.float32}

def load(path):
    text = open(path, encoding="utf-8").read()
    g = json.loads(text)
    zeroed = text.replace(g["sha256"], "0" * 64, 1)
    if hashlib.sha256(zeroed.encode()).hexdigest() != g["sha256"]:
        raise ValueError(path + ": checksum mismatch")
    return g

def array(t):  # {"dtype": ..., "values": ["0x1.8p+0", "nan", ...]} -> numpy array
    return np.array([float.fromhex(v) for v in t["values"]], dtype=NP[t["dtype"]])
# ---------------------------------------------------------------------------------

def main(path):
    g = load(path)
    problem = dict(kv.split("=") for kv in g["case"]["problem"].split(","))
    shape = [int(d) for d in problem["shape"].split("x")]
    print(g["name"], "shape", shape, "layout", problem["layout"], "dtype", problem["dtype"])
    for i, step in enumerate(g["expected"]["steps"]):
        for name, t in step["outputs"].items():
            print(f"  steps[{i}].{name}: {t['dtype']} x {len(t['values'])}")
    # Cross-check: y of the first step, if it is a training forward, from x in f64.
    step, result = g["case"]["steps"][0], g["expected"]["steps"][0]
    if step["op"] != "forward" or problem["mode"] != "train" or result["status"] != "ok":
        return 0
    x = array({"dtype": problem["dtype"], "values": step["x"]}).astype(np.float64)
    n, c, spatial = shape[0], shape[1], shape[2:]
    if problem["layout"] == "channels_last":  # memory order N, S..., C
        x = np.moveaxis(x.reshape([n] + spatial + [c]), -1, 1)
    else:
        x = x.reshape(shape)
    axes = tuple(a for a in range(x.ndim) if a != 1)
    state = g["case"].get("state", {})
    gamma = np.array([float.fromhex(v) for v in state["gamma"]]) if "gamma" in state else np.ones(c)
    beta = np.array([float.fromhex(v) for v in state["beta"]]) if "beta" in state else np.zeros(c)
    b = [1, c] + [1] * len(spatial)
    mean, var = x.mean(axis=axes).reshape(b), x.var(axis=axes).reshape(b)
    y = gamma.reshape(b) * (x - mean) / np.sqrt(var + float(problem["eps"])) + beta.reshape(b)
    expected = array(result["outputs"]["y"]).astype(np.float64)
    if problem["layout"] == "channels_last":
        expected = np.moveaxis(expected.reshape([n] + spatial + [c]), -1, 1)
    else:
        expected = expected.reshape(shape)
    unit = {"f64": 2.0**-53, "f32": 2.0**-24, "f16": 2.0**-11, "bf16": 2.0**-8}[problem["dtype"]]
    # The golden y is correctly rounded (half a unit); numpy's float64 adds a little.
    worst = np.max(np.abs(y - expected) / (np.abs(y) + 1))
    print(f"  y recomputed in float64: worst difference {worst:.3g} x (|y| + 1), "
          f"rounding unit {unit:.3g}")
    return 0 if worst <= unit + 2.0**-40 else 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
