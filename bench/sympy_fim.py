#!/usr/bin/env python3
"""The SymPy recipe for a closed-form Fisher information, timed (issue 5,
item 11): symbolic Hessian of the log-density, the data's moments
substituted by hand, `simplify` on every entry.

    python3 bench/sympy_fim.py [--repeats 3] [--models gamma,beta] [--whole [--cap 60]]

Prints, per model, the CPU time of one derivation (the median of the
repeats, SymPy's cache cleared before each, so every run is cold) and the
operation count (`count_ops`) of the simplified entries. SymPy is given the
expectations; fimkit finds them itself. Run it right after the fimkit
figures (`bench/derive_cpu.sh` or `FIMKIT_DERIVE_COUNT`, see BENCHMARKS.md)
so both see the same load.

With --whole, the recipe does the whole derivation `fimkit derive` prints
(`fisher::derive`): the simplified score and Hessian, F as above, then det F,
F⁻¹ (entry by entry), the Jeffreys prior √det F and the natural gradient
F⁻¹·score, each simplified. A model that does not finish within --cap
seconds (of wall time; one run) is reported as not finished.
"""

import argparse
import signal
import statistics
import time

import sympy as sp
from sympy.core.cache import clear_cache


def fim_of(logp, params, expect):
    """-E[Hessian] with `expect` applied to each entry, simplified."""
    n = len(params)
    out = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            h = sp.diff(logp, params[i], params[j])
            out[i][j] = out[j][i] = sp.simplify(-expect(h))
    return out


def whole(logp, params, fim):
    """The rest of the whole derivation, simplified as fimkit's is: score,
    Hessian, det F, F⁻¹, Jeffreys, natural gradient. Returns every entry
    (for the operation count)."""
    n = len(params)
    score = [sp.simplify(sp.diff(logp, p)) for p in params]
    hess = [sp.simplify(sp.diff(logp, params[i], params[j])) for i in range(n) for j in range(i, n)]
    f = sp.Matrix(fim)
    det = sp.simplify(f.det(method="berkowitz"))
    inv = f.inv(method="LU")
    inv = [[sp.simplify(inv[i, j]) for j in range(n)] for i in range(n)]
    jeffreys = sp.simplify(sp.sqrt(det))
    natural = [sp.simplify(sum(inv[i][j] * score[j] for j in range(n))) for i in range(n)]
    return fim + [score, hess, [det, jeffreys], natural] + inv


def polynomial_moments(moments):
    """E[·] of a polynomial in the data: expand, then x^k -> E[x^k],
    highest powers first."""

    def expect(h):
        h = sp.expand(h)
        for (x, k), m in sorted(moments.items(), key=lambda kv: -kv[0][1]):
            h = h.subs(x**k, m)
        return sp.expand(h)

    return expect


def bernoulli():
    p = sp.Symbol("p", positive=True)
    y = sp.Symbol("y")
    logp = y * sp.log(p) + (1 - y) * sp.log(1 - p)
    return logp, [p], lambda h: h.subs(y, p)


def normal():
    mu = sp.Symbol("mu", real=True)
    s = sp.Symbol("sigma", positive=True)
    x = sp.Symbol("x", real=True)
    logp = -sp.log(s) - (x - mu) ** 2 / (2 * s**2) - sp.log(2 * sp.pi) / 2
    return logp, [mu, s], polynomial_moments({(x, 2): mu**2 + s**2, (x, 1): mu})


def gamma():
    a, b = sp.symbols("alpha beta", positive=True)
    x = sp.Symbol("x", positive=True)
    logp = a * sp.log(b) - sp.loggamma(a) + (a - 1) * sp.log(x) - b * x
    expect = lambda h: h.subs(sp.log(x), sp.digamma(a) - sp.log(b)).subs(x, a / b)
    return logp, [a, b], expect


def beta():
    a, b = sp.symbols("alpha beta", positive=True)
    x = sp.Symbol("x", positive=True)
    logp = (
        (a - 1) * sp.log(x)
        + (b - 1) * sp.log(1 - x)
        - (sp.loggamma(a) + sp.loggamma(b) - sp.loggamma(a + b))
    )
    expect = lambda h: h.subs(
        {
            sp.log(x): sp.digamma(a) - sp.digamma(a + b),
            sp.log(1 - x): sp.digamma(b) - sp.digamma(a + b),
        }
    )
    return logp, [a, b], expect


def dirichlet(k):
    a = sp.symbols(f"alpha1:{k + 1}", positive=True)
    x = sp.symbols(f"x1:{k + 1}", positive=True)
    logp = (
        sum((ai - 1) * sp.log(xi) for ai, xi in zip(a, x))
        + sp.loggamma(sum(a))
        - sum(sp.loggamma(ai) for ai in a)
    )
    total = sum(a)
    expect = lambda h: h.subs({sp.log(xi): sp.digamma(ai) - sp.digamma(total) for ai, xi in zip(a, x)})
    return logp, list(a), expect


def multinomial(k, n=20):
    p = sp.symbols(f"p1:{k}", positive=True)
    x = sp.symbols(f"x1:{k + 1}", nonnegative=True)
    last = 1 - sum(p)
    logp = sum(xi * sp.log(pi) for xi, pi in zip(x, p)) + x[-1] * sp.log(last)
    means = {xi: n * pi for xi, pi in zip(x, p)}
    means[x[-1]] = n * last
    return logp, list(p), lambda h: h.subs(means)


def mvn_diag(d):
    mu = sp.symbols(f"mu1:{d + 1}", real=True)
    s = sp.symbols(f"s1:{d + 1}", positive=True)
    x = sp.symbols(f"x1:{d + 1}", real=True)
    logp = sum(
        -sp.log(si) - (xi - mi) ** 2 / (2 * si**2) for xi, mi, si in zip(x, mu, s)
    )
    moments = {}
    for xi, mi, si in zip(x, mu, s):
        moments[(xi, 2)] = mi**2 + si**2
        moments[(xi, 1)] = mi
    return logp, list(mu) + list(s), polynomial_moments(moments)


# Each model gives its log-density, its parameters and E[·] of a Hessian
# entry (the moments SymPy is told).
MODELS = {
    "bernoulli": bernoulli,
    "normal": normal,
    "gamma": gamma,
    "beta": beta,
    "dirichlet_k3": lambda: dirichlet(3),
    "dirichlet_k10": lambda: dirichlet(10),
    "multinomial_k10": lambda: multinomial(10),
    "mvn_diag_d10": lambda: mvn_diag(10),
}


def out_of_time(_signum, _frame):
    """SIGALRM: the --cap of one model is spent."""
    raise TimeoutError


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--whole", action="store_true", help="the whole derivation, not F alone")
    ap.add_argument("--cap", type=float, default=60.0, help="--whole: seconds per model")
    args = ap.parse_args()
    if args.whole:
        signal.signal(signal.SIGALRM, out_of_time)
    print(f"sympy {sp.__version__}" + (" (whole derivation)" if args.whole else ""))
    print(f"{'model':<16} {'cpu ms':>10} {'ops':>8}  runs (ms)")
    for name in args.models.split(","):
        times = []
        result = None
        for _ in range(args.repeats):
            clear_cache()
            t0 = time.process_time()
            if args.whole:
                signal.setitimer(signal.ITIMER_REAL, args.cap)
            try:
                logp, params, expect = MODELS[name]()
                result = fim_of(logp, params, expect)
                if args.whole:
                    result = whole(logp, params, result)
            except TimeoutError:
                print(f"{name:<16} not finished in {args.cap:.0f} s", flush=True)
                result = None
                break
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            times.append((time.process_time() - t0) * 1e3)
        if result is None:
            continue
        ops = sum(sp.count_ops(e) for row in result for e in row)
        runs = " ".join(f"{t:.0f}" for t in times)
        print(f"{name:<16} {statistics.median(times):>10.1f} {ops:>8}  {runs}", flush=True)


if __name__ == "__main__":
    main()
