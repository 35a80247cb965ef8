#!/usr/bin/env python3
"""Logistic regression by Fisher scoring, n = 100,000 rows, d = 20
parameters (an intercept and 19 covariates): `fimkit fit` against
statsmodels GLM (IRLS) and a plain numpy Fisher-scoring loop, on the same
CSV file in the same run. Prints a table.

The data are simulated with a fixed seed and written to /tmp (not
committed), with the model file:

    python3 bench/fit_peers.py                     # generate if missing, run, print
    python3 bench/fit_peers.py --repeats 5 --fimkit target/release/fimkit

Every contender's time is the whole job from the CSV file on disk: reading
it (fimkit: its own CSV reader inside `fimkit fit`, process start
included; Python: pandas.read_csv) plus the fit. The fit alone is shown
too for the Python contenders. Each is run `--repeats` times, the median
and the best are shown. All three start from β = 0 and stop on a
comparable rule: fimkit and numpy when the Newton decrement
√(gᵀ F⁻¹ g) < 1e-8, statsmodels by its default (relative deviance change
< 1e-8). The estimates are compared at the end.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
N, D = 100_000, 20
SEED = 20261122


def model_source(d):
    return (
        "# Logistic regression, intercept + {k} covariates (bench/fit_peers.py).\n"
        "const k = {k}\n"
        "param b0 : real\n"
        "param b[1..k] : real\n"
        "covariate z[1..k] : real\n"
        "data y : {{0, 1}}\n"
        "y ~ bernoulli(sigmoid(b0 + sum(j in 1..k, b[j]*z[j])))\n"
    ).format(k=d - 1)


def generate(csv, fim, n, d):
    rng = np.random.default_rng(SEED)
    z = rng.normal(0.0, 1.0, (n, d - 1))
    beta = 0.6 * (-1.0) ** np.arange(d) / np.sqrt(np.arange(1, d + 1))
    eta = beta[0] + z @ beta[1:]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(np.int64)
    header = ",".join([f"z[{j}]" for j in range(1, d)] + ["y"])
    with open(csv, "w") as f:
        f.write(header + "\n")
        fmt = ",".join(["%.17g"] * (d - 1)) + ",%d"
        np.savetxt(f, np.column_stack([z, y]), fmt=fmt)
    fim.write_text(model_source(d))


def read(csv):
    import pandas as pd

    df = pd.read_csv(csv)
    y = df["y"].to_numpy(dtype=np.float64)
    z = df.drop(columns="y").to_numpy(dtype=np.float64)
    x = np.empty((z.shape[0], z.shape[1] + 1))
    x[:, 0] = 1.0
    x[:, 1:] = z
    return x, y


def numpy_fisher_scoring(x, y, tol=1e-8, max_iter=100):
    """β ← β + (Xᵀ W X)⁻¹ Xᵀ (y − p): the textbook loop, BLAS for the
    products, a Cholesky solve; stops on the Newton decrement."""
    beta = np.zeros(x.shape[1])
    for it in range(1, max_iter + 1):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1.0 - p)
        g = x.T @ (y - p)
        xs = x * np.sqrt(w)[:, None]
        f = xs.T @ xs
        c = np.linalg.cholesky(f)
        step = np.linalg.solve(c.T, np.linalg.solve(c, g))
        dec = float(np.sqrt(g @ step))
        if dec < tol:
            return beta, it - 1
        beta = beta + step
    return beta, max_iter


def statsmodels_glm(x, y):
    import statsmodels.api as sm

    r = sm.GLM(y, x, family=sm.families.Binomial()).fit(method="IRLS")
    return np.asarray(r.params), int(r.fit_history["iteration"])


CPU = []  # CPU seconds (user + system, all threads) of each timed call


def cpu_now():
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(f, repeats):
    """Wall times of `repeats` calls; their CPU times go to CPU[-1]."""
    times, cpus, out = [], [], None
    for _ in range(repeats):
        c0, t0 = cpu_now(), time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
        cpus.append(cpu_now() - c0)
    CPU.append(cpus)
    return out, times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="/tmp/fimkit_bench_fit")
    ap.add_argument("--fimkit", default=str(ROOT / "target" / "release" / "fimkit"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--regenerate", action="store_true")
    args = ap.parse_args()

    out = pathlib.Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    csv, fim = out / f"logistic_n{N}_d{D}.csv", out / f"logistic_d{D}.fim"
    if args.regenerate or not csv.exists() or not fim.exists():
        t0 = time.perf_counter()
        generate(csv, fim, N, D)
        print(f"generated {csv} ({csv.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)

    import pandas
    import statsmodels

    rows = []

    def fimkit_run():
        p = subprocess.run(
            [args.fimkit, "fit", str(fim), "--data", str(csv), "--format", "json"],
            check=True, capture_output=True, text=True,
        )
        return json.loads(p.stdout)

    def add(a, b):
        return [u + v for u, v in zip(a, b)]

    res, t_fk = timed(fimkit_run, args.repeats)
    c_fk = CPU[-1]
    fk_beta = np.array([res["estimates"][name] for name in res["parameters"]])
    rows.append(("fimkit fit (fisher-scoring)", res["iterations"], t_fk, None, c_fk))

    (x, y), t_read = timed(lambda: read(csv), args.repeats)
    c_read = CPU[-1]
    (np_beta, np_it), t_np = timed(lambda: numpy_fisher_scoring(x, y), args.repeats)
    rows.append(("numpy Fisher-scoring loop", np_it, add(t_read, t_np), t_np,
                 add(c_read, CPU[-1])))
    (sm_beta, sm_it), t_sm = timed(lambda: statsmodels_glm(x, y), args.repeats)
    rows.append((f"statsmodels {statsmodels.__version__} GLM (IRLS)", sm_it,
                 add(t_read, t_sm), t_sm, add(c_read, CPU[-1])))

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default (all cores)")
    print(f"\nlogistic regression, n = {N}, d = {D}, CSV {csv.stat().st_size / 1e6:.1f} MB; "
          f"numpy {np.__version__}, pandas {pandas.__version__}, BLAS threads: {threads}; "
          f"{args.repeats} runs each, median (best)\n")
    try:
        load = "load average %.1f" % os.getloadavg()[0]
    except OSError:
        load = ""
    print(f"{os.cpu_count()} cores, {load}\n")
    print("| contender | iterations | wall, CSV → estimate (s) | fit only, wall (s) "
          "| CPU, CSV → estimate (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, it, tot, fit, cpu in rows:
        fit_s = "—" if fit is None else f"{statistics.median(fit):.3f} ({min(fit):.3f})"
        print(f"| {name} | {it} | {statistics.median(tot):.3f} ({min(tot):.3f}) | {fit_s} "
              f"| {statistics.median(cpu):.3f} ({min(cpu):.3f}) |")
    print(f"\nCSV read with pandas (part of the Python totals): "
          f"{statistics.median(t_read):.3f} s (best {min(t_read):.3f})")
    fk = statistics.median(t_fk)
    print(f"fimkit / statsmodels: {fk / statistics.median(rows[2][2]):.2f}, "
          f"fimkit / numpy: {fk / statistics.median(rows[1][2]):.2f} (wall totals, medians); "
          f"CPU: {statistics.median(c_fk) / statistics.median(rows[2][4]):.2f} and "
          f"{statistics.median(c_fk) / statistics.median(rows[1][4]):.2f}")
    print(f"max |β_fimkit − β_statsmodels| = {np.abs(fk_beta - sm_beta).max():.2e}, "
          f"max |β_fimkit − β_numpy| = {np.abs(fk_beta - np_beta).max():.2e}")


if __name__ == "__main__":
    main()
