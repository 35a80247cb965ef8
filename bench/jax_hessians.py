#!/usr/bin/env python3
"""Per-sample exact Hessians with JAX, the workloads of benches/hessians.rs.

    python3 -m venv /tmp/jaxenv && /tmp/jaxenv/bin/pip install "jax[cpu]"
    /tmp/jaxenv/bin/python bench/jax_hessians.py [--rows 1000000] [--repeats 5] [--only gamma,pk]

Workloads (float64, as fimkit):
  gamma         Gamma(alpha, beta) log-density, theta = (2, 1.5), x ~ U(0.05, 3.05)
  logistic_d10  logistic regression, d = 10, b = 0.1*(1, -1, ...), z ~ U(-1, 1)
  logistic_d50  the same with d = 50
  pk            one-compartment PK, oral dose 100, additive error:
                theta = (ka, ke, V, sigma) = (1.5, 0.2, 10, 0.5),
                t ~ U(0.25, 24.25), y = C(t) + sigma N(0, 1)

For each: jit(vmap(f, in_axes=(None, 0))) over batches of rows, where f
returns the log-density, the score and the Hessian (jax.hessian) of one row,
as fimkit and the hand-written code do, in two variants, each timed after a
warm-up call (compilation excluded):
  materialized  the (batch,), (batch, d) and (batch, d, d) arrays are produced
  summed        the three summed over the batch inside jit (what fimkit's
                fold over rows does; XLA may fuse and hoist: a Gamma Hessian
                does not depend on x and is then computed once)
Prints rows per second (best and median of the repeats). Not needed by
cargo test.
"""
import argparse
import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.scipy.special import gammaln  # noqa: E402


def gamma_logp(theta, x):
    a, b = theta[0], theta[1]
    return a * jnp.log(b) - gammaln(a) + (a - 1.0) * jnp.log(x) - b * x


def logistic_logp(theta, row):
    y, z = row[0], row[1:]
    eta = jnp.dot(theta, z)
    return y * eta - jax.nn.softplus(eta)


def pk_logp(theta, row):
    t, y = row[0], row[1]
    ka, ke, v, s = theta[0], theta[1], theta[2], theta[3]
    c = 100.0 * ka / (v * (ka - ke)) * (jnp.exp(-ke * t) - jnp.exp(-ka * t))
    return -0.5 * jnp.log(2.0 * jnp.pi) - jnp.log(s) - 0.5 * ((y - c) / s) ** 2


def workloads(n, rng):
    x = 0.05 + 3.0 * rng.random(n)
    yield "gamma", gamma_logp, jnp.array([2.0, 1.5]), jnp.asarray(x)
    for d in (10, 50):
        b = np.where(np.arange(d) % 2 == 0, 0.1, -0.1)
        z = 2.0 * rng.random((n, d)) - 1.0
        p = 1.0 / (1.0 + np.exp(-(z @ b)))
        y = (rng.random(n) < p).astype(np.float64)
        yield f"logistic_d{d}", logistic_logp, jnp.asarray(b), jnp.asarray(np.column_stack([y, z]))
    theta = np.array([1.5, 0.2, 10.0, 0.5])
    t = 0.25 + 24.0 * rng.random(n)
    ka, ke, v, s = theta
    c = 100.0 * ka / (v * (ka - ke)) * (np.exp(-ke * t) - np.exp(-ka * t))
    y = c + s * rng.standard_normal(n)
    yield "pk", pk_logp, jnp.asarray(theta), jnp.asarray(np.column_stack([t, y]))


def time_rows(fn, theta, data, batch, repeats):
    n = data.shape[0]
    batches = [data[i : i + batch] for i in range(0, n, batch)]
    jax.block_until_ready(fn(theta, batches[0]))  # compile
    if len(batches[-1]) != batch:
        jax.block_until_ready(fn(theta, batches[-1]))
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for bt in batches:
            jax.block_until_ready(fn(theta, bt))
        rates.append(n / (time.perf_counter() - t0))
    return max(rates), statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", default="", help="comma-separated workload names (default: all)")
    args = ap.parse_args()
    rng = np.random.default_rng(12345)
    print(f"jax {jax.__version__}, devices {jax.devices()}, rows {args.rows}")
    only = {w for w in args.only.split(",") if w}
    for name, logp, theta, data in workloads(args.rows, rng):
        if only and name not in only:
            continue
        d = theta.shape[0]
        batch = int(min(100_000, max(1_000, 25_000_000 // (d * d))))
        def row(t, x, logp=logp):
            return logp(t, x), jax.grad(logp)(t, x), jax.hessian(logp)(t, x)

        per_sample = jax.vmap(row, in_axes=(None, 0))
        materialized = jax.jit(per_sample)
        summed = jax.jit(
            lambda t, b, f=per_sample: jax.tree_util.tree_map(lambda a: a.sum(axis=0), f(t, b))
        )
        for variant, fn in (("materialized", materialized), ("summed", summed)):
            best, med = time_rows(fn, theta, data, batch, args.repeats)
            print(f"{name:14s} {variant:12s} batch {batch:6d}  best {best / 1e6:7.3f} M rows/s  median {med / 1e6:7.3f} M rows/s")


if __name__ == "__main__":
    main()
