#!/usr/bin/env python3
"""Parquet read + fit on one machine against the Dask fit of the same data
(issue 15, item 4): a logistic regression, d = 20 (an intercept and 19
covariates), 10⁷ rows in several Parquet files.

    scripts/test      # or: pip install ./python into a venv with dask, distributed
    .venv/bin/python bench/python_dask.py [--rows 10000000] [--files 20] \
        [--dir /tmp/fimkit-bench-dask] [--keep]

Writes the dataset under --dir, in chunks of one file each (memory stays
bounded), unless it is already there with the same shape; then times

  (a) one process: `pandas.read_parquet` of the directory (read), then
      the fit the Dask path makes (the library's fit over summed parts, no
      deviance) with the whole DataFrame as one part (fit);
  (b) `fimkit.dask.fit` on a `distributed.LocalCluster` of 1 worker
      process (1 thread; the native code uses the process's rayon pool);
  (c) the same with 2 worker processes.

(b) and (c) include reading the Parquet files on the workers (the fit
computes the partitions and keeps them there); cluster start-up is timed
apart. Last, `Model.fit` on the DataFrame: the same fit plus the deviance,
whose null model is a serial iteration over the rows (minutes at 10⁷). Each fit runs once (a fit of 10⁷ rows is seconds, not
microseconds). Prints wall times, the fits' iterations and the largest
difference of (b) and (c) from (a) in estimates and standard errors.
"""
import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import fimkit
import fimkit.dask


def source(d):
    return (
        f"const d = {d - 1}\nparam b0 : real\nparam b[1..d] : real\n"
        "covariate z[1..d] : real\ndata y : {0, 1}\n"
        "y ~ bernoulli(sigmoid(b0 + sum(k in 1..d, b[k]*z[k])))\n"
    )


def write(root: Path, rows: int, files: int, d: int) -> None:
    stamp = root / "_shape"  # files starting with _ are not data to pyarrow
    shape = f"{rows} {files} {d}\n"
    if stamp.exists() and stamp.read_text() == shape:
        print(f"dataset: {root} (already written)")
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = np.random.default_rng(20261207)
    b = np.where(np.arange(d) % 2 == 0, 0.1, -0.1)
    t = time.perf_counter()
    for i in range(files):
        n = rows // files + (1 if i < rows % files else 0)
        z = 2.0 * rng.random((n, d - 1)) - 1.0
        eta = b[0] + z @ b[1:]
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.float64)
        cols = {"y": y} | {f"z[{k + 1}]": np.ascontiguousarray(z[:, k]) for k in range(d - 1)}
        pq.write_table(pa.table(cols), root / f"part-{i:03}.parquet")
    stamp.write_text(shape)
    size = sum(f.stat().st_size for f in root.glob("*.parquet"))
    print(f"dataset: {root}, {rows} rows, {files} files, {size / 2**30:.2f} GiB, written in {time.perf_counter() - t:.1f} s")


def dask_fit(m, root, workers, reference):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    t = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit=0,  # no spilling or pausing: the data fits in memory
    )
    client = Client(cluster)
    start = time.perf_counter() - t
    try:
        t = time.perf_counter()
        ddf = dd.read_parquet(str(root))
        r = fimkit.dask.fit(m, ddf, client=client)
        wall = time.perf_counter() - t
    finally:
        client.close()
        cluster.close()
    de = np.max(np.abs(r.params - reference.params))
    ds = np.max(np.abs(r.bse - reference.bse))
    print(
        f"(dask, {workers} worker process{'es' if workers > 1 else ''}) "
        f"cluster start {start:.2f} s; read + fit {wall:.2f} s, {r.iterations} iterations, "
        f"converged {r.converged}; max |Δ estimate| {de:.1e}, max |Δ se| {ds:.1e}"
    )
    return wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--dir", default="/tmp/fimkit-bench-dask")
    ap.add_argument("--keep", action="store_true", help="keep the dataset afterwards")
    a = ap.parse_args()
    root = Path(a.dir)
    print(f"load average before: {open('/proc/loadavg').read().strip()}")
    write(root, a.rows, a.files, a.d)
    m = fimkit.Model(source(a.d), "logistic_d20")

    t = time.perf_counter()
    df = pd.read_parquet(root)
    read = time.perf_counter() - t
    # The fit the Dask path makes (the library's fit over the sums of
    # parts; no deviance, whose null model needs the rows), here over the
    # whole DataFrame as one part.
    t = time.perf_counter()
    part = m._m.part(m._data(df), 0)
    one = m._m.fit_summed(m._data(df.iloc[:0]), lambda t, want: part.sums(t, *want))
    fit = time.perf_counter() - t
    del part
    print(
        f"(one process) read {read:.2f} s ({len(df)} rows); fit without the deviance "
        f"{fit:.2f} s, {one.iterations} iterations, converged {one.converged}; "
        f"total {read + fit:.2f} s"
    )
    for workers in (1, 2):
        dask_fit(m, root, workers, one)
    # Model.fit itself: the same fit plus the deviance (serial null model),
    # last because at this size the deviance dominates.
    t = time.perf_counter()
    full = m.fit(df)
    print(
        f"(one process) Model.fit with the deviance {time.perf_counter() - t:.2f} s; "
        f"max |Δ estimate| from the fit without it {np.max(np.abs(full.params - one.params)):.1e}"
    )
    print(f"load average after: {open('/proc/loadavg').read().strip()}")
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
