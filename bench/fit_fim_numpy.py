#!/usr/bin/env python3
"""The dataset Fisher information of a GLM, Xᵀ W X with n = 10⁶ rows and
d = 50 columns, in numpy (OpenBLAS), and this machine's dgemm rate — the
yardstick for fimkit's routine (benches/fit.rs, `cargo bench --bench fit`).

For 1 and 2 BLAS threads (each in a fresh process, OPENBLAS_NUM_THREADS):

* dgemm, square 3000 × 3000: the machine's dgemm rate;
* dgemm of the Gram shape, Xᵀ X with X n × d (50 × 10⁶ times 10⁶ × 50);
* numpy's best Xᵀ W X route, S = X · √w (row scaling), then Sᵀ S — the
  time of both, w the logistic weights p(1 − p) at a fixed β.

GFLOP/s count 2·n·d² flops for a d × d Gram matrix over n rows (the full
product; a symmetric rank-k update needs half of them).

    python3 bench/fit_fim_numpy.py [--rows 1000000] [--cols 50] [--repeats 5]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def best(f, repeats):
    f()  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts), sorted(ts)[len(ts) // 2]


def worker(n, d, repeats):
    rng = np.random.default_rng(7)
    out = {}
    m = 3000
    a = rng.random((m, m))
    b = rng.random((m, m))
    t, med = best(lambda: a @ b, repeats)
    out["dgemm_square"] = (2 * m**3 / t / 1e9, 2 * m**3 / med / 1e9)
    del a, b
    # The same design as benches/fit.rs: z ~ U(−1, 1), β = 0.1·(1, −1, …).
    x = rng.uniform(-1.0, 1.0, (n, d))
    beta = 0.1 * (-1.0) ** np.arange(d)
    flops = 2 * n * d * d
    t, med = best(lambda: x.T @ x, repeats)
    out["dgemm_gram_shape"] = (flops / t / 1e9, flops / med / 1e9, t)

    def xtwx():
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        s = x * np.sqrt(p * (1.0 - p))[:, None]
        return s.T @ s

    t, med = best(xtwx, repeats)
    out["xtwx_sqrt_w"] = (flops / t / 1e9, flops / med / 1e9, t)
    w = 0.25 * np.ones(n)

    def xtwx_given_w():
        s = x * np.sqrt(w)[:, None]
        return s.T @ s

    t, med = best(xtwx_given_w, repeats)
    out["xtwx_given_w"] = (flops / t / 1e9, flops / med / 1e9, t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--worker", action="store_true")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.rows, args.cols, args.repeats)))
        return
    res = {}
    for threads in (1, 2):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        p = subprocess.run(
            [sys.executable, __file__, "--worker", "--rows", str(args.rows),
             "--cols", str(args.cols), "--repeats", str(args.repeats)],
            env=env, check=True, capture_output=True, text=True,
        )
        res[threads] = json.loads(p.stdout)
    n, d = args.rows, args.cols
    print(f"numpy {np.__version__}, n = {n}, d = {d}; GFLOP/s at 2·n·d² = "
          f"{2 * n * d * d / 1e9:.2f} GFLOP; best (median) of {args.repeats}\n")
    print("| numpy | 1 thread | 2 threads |")
    print("|---|---:|---:|")
    rows = [
        ("dgemm 3000×3000 (machine rate)", "dgemm_square"),
        (f"dgemm Xᵀ X, X {n}×{d}", "dgemm_gram_shape"),
        ("Xᵀ W X as (X√w)ᵀ(X√w), weights p(1−p) computed", "xtwx_sqrt_w"),
        ("Xᵀ W X as (X√w)ᵀ(X√w), w given", "xtwx_given_w"),
    ]
    for label, key in rows:
        cells = []
        for th in (1, 2):
            v = res[th][key]
            cell = f"{v[0]:.1f} ({v[1]:.1f}) GFLOP/s"
            if len(v) > 2:
                cell += f", {v[2] * 1e3:.0f} ms"
            cells.append(cell)
        print(f"| {label} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
