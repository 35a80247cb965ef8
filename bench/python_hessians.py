#!/usr/bin/env python3
"""Per-row exact Hessians from Python (issue 15, item 4): the fimkit
package's `Model.hessian(theta, data)` against JAX's
`jit(vmap(hessian(logp)))` on the same NumPy arrays. The Rust API's figure
for the same work is `cargo bench --bench hessians -- logistic_d10`
(`fimkit_rows`: `Model::rows` on a dataset; `fimkit_columns_rows`: from
named columns, what the Python call does).

    scripts/test                # or: pip install ./python into a venv with jax
    .venv/bin/python bench/python_hessians.py [--rows 1000000] [--repeats 5]

Workload (benches/hessians.rs, bench/jax_hessians.py): logistic regression,
d = 10, b = 0.1*(1, -1, ...), z ~ U(-1, 1), y ~ Bernoulli(sigmoid(b'z)),
float64. Every contender returns every row's log-density, score (n, d) and
Hessian (n, d, d). Prints the median and best of the repeats, in seconds
and rows per second, and the median CPU time of the process (all threads);
JAX's compile time is excluded (a warm-up call).
"""
import argparse

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import fimkit  # noqa: E402
from timing import timed  # noqa: E402  (bench/timing.py)


def logistic_source(d):
    return (
        f"const d = {d}\nparam b[1..d] : real\ncovariate z[1..d] : real\n"
        "data y : {0, 1}\ny ~ bernoulli(sigmoid(sum(k in 1..d, b[k]*z[k])))\n"
    )


def logp(theta, y, z):
    eta = jnp.dot(theta, z)
    return y * eta - jax.nn.softplus(eta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--d", type=int, default=10)
    a = ap.parse_args()
    n, d = a.rows, a.d
    rng = np.random.default_rng(1)
    b = np.where(np.arange(d) % 2 == 0, 0.1, -0.1)
    Z = 2.0 * rng.random((n, d)) - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-(Z @ b)))).astype(np.float64)
    m = fimkit.Model(logistic_source(d), "logistic")
    columns = {"y": y} | {f"z[{k + 1}]": np.ascontiguousarray(Z[:, k]) for k in range(d)}

    def fimkit_call():
        return m.derivatives(b, columns)

    def fimkit_hessian():
        return m.hessian(b, columns)

    one = lambda t, y, z: (logp(t, y, z), jax.grad(logp)(t, y, z), jax.hessian(logp)(t, y, z))  # noqa: E731
    jfn = jax.jit(jax.vmap(one, in_axes=(None, 0, 0)))
    jb, jy, jz = jnp.asarray(b), jnp.asarray(y), jnp.asarray(Z)
    jax.block_until_ready(jfn(jb, jy, jz))  # compile
    hfn = jax.jit(jax.vmap(jax.hessian(logp), in_axes=(None, 0, 0)))
    jax.block_until_ready(hfn(jb, jy, jz))

    def jax_hessian():
        return jax.block_until_ready(hfn(jb, jy, jz))

    def jax_on_device():
        return jax.block_until_ready(jfn(jb, jy, jz))

    def jax_from_numpy():
        return jax.block_until_ready(jfn(jnp.asarray(b), jnp.asarray(y), jnp.asarray(Z)))

    h = fimkit_hessian()
    jh = np.asarray(jax_on_device()[2])
    err = np.max(np.abs(h - jh)) / np.max(np.abs(jh))
    print(f"n = {n}, d = {d}; fimkit vs JAX Hessians: max relative difference {err:.1e}")
    print(f"{'contender':<44} {'median s':>9} {'best s':>9} {'M rows/s':>9} {'CPU s':>7}")
    for name, f in [
        ("fimkit .hessian (Hessians only)", fimkit_hessian),
        ("JAX jit(vmap(hessian)), device arrays", jax_hessian),
        ("fimkit .derivatives (value, score, Hessian)", fimkit_call),
        ("JAX jit(vmap(value, grad, hessian)), device", jax_on_device),
        ("JAX the same, from NumPy arrays", jax_from_numpy),
    ]:
        _, med, best, cpu = timed(f, a.repeats)
        print(f"{name:<44} {med:9.3f} {best:9.3f} {n / med / 1e6:9.2f} {cpu:7.3f}")


if __name__ == "__main__":
    main()
