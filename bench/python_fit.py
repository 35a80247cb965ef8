#!/usr/bin/env python3
"""A logistic-regression fit from Python (issue 15, item 4): the fimkit
package's `Model.fit` against statsmodels' GLM (IRLS, each weighted
least-squares step by SVD) and its `Logit` (Newton, a linear solve a step)
on the same NumPy arrays, n = 100,000 rows, d = 20 (an intercept and 19 covariates).

    scripts/test && .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/python_fit.py [--rows 100000] [--repeats 7]

Both start from their defaults (fimkit: β = 0; statsmodels: its IRLS
start from the response) and stop by their own rule (fimkit: Newton
decrement < 1e-8 with the undamped gradient test; statsmodels: relative
deviance change < 1e-8, then `tol=1e-12` to compare estimates at the same
optimum). Data: x ~ N(0, 1), β = 0.1·(1, −1, 1, …), y ~ Bernoulli,
fixed seed. Each contender's time is the fit from in-memory arrays (the
model or design built beforehand; statsmodels' `GLM(...)` construction is
included since it is part of a fit call there). Prints median and best
wall time and the median CPU time of the process (all threads).
"""
import argparse
import numpy as np
import statsmodels.api as sm

import fimkit
from timing import timed  # bench/timing.py


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    n, d = a.rows, a.d
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, d - 1))
    beta = np.where(np.arange(d) % 2 == 0, 0.1, -0.1)
    eta = beta[0] + X @ beta[1:]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.float64)
    source = (
        f"const d = {d - 1}\nparam b0 : real\nparam b[1..d] : real\n"
        "covariate x[1..d] : real\ndata y : {0, 1}\n"
        "y ~ bernoulli(sigmoid(b0 + sum(k in 1..d, b[k]*x[k])))\n"
    )
    m = fimkit.Model(source, "logistic")
    columns = {"y": y} | {f"x[{k + 1}]": np.ascontiguousarray(X[:, k]) for k in range(d - 1)}
    Xc = sm.add_constant(X)

    def fimkit_fit():
        return m.fit(columns)

    def statsmodels_fit():
        return sm.GLM(y, Xc, family=sm.families.Binomial()).fit()

    def statsmodels_logit():
        return sm.Logit(y, Xc).fit(method="newton", disp=0)

    f, fmed, fbest, fcpu = timed(fimkit_fit, a.repeats)
    s, smed, sbest, scpu = timed(statsmodels_fit, a.repeats)
    lg, lmed, lbest, lcpu = timed(statsmodels_logit, a.repeats)
    tight = sm.GLM(y, Xc, family=sm.families.Binomial()).fit(tol=1e-12)
    assert f.converged, f.stop_reason
    diff = np.max(np.abs(np.asarray(f.params) - tight.params))
    bse = np.max(np.abs(np.asarray(f.bse) - tight.bse) / tight.bse)
    print(f"n = {n}, d = {d}; fimkit {f.iterations} iterations, statsmodels {s.fit_history['iteration']}")
    print(f"max |β_fimkit − β_statsmodels(tol 1e-12)| = {diff:.1e}; max relative SE difference {bse:.1e}")
    print(f"{'contender':<34} {'median s':>9} {'best s':>9} {'CPU s':>7}")
    print(f"{'fimkit Model.fit (scoring)':<34} {fmed:9.3f} {fbest:9.3f} {fcpu:7.3f}")
    print(f"{'statsmodels GLM Binomial IRLS':<34} {smed:9.3f} {sbest:9.3f} {scpu:7.3f}")
    print(f"{'statsmodels Logit Newton':<34} {lmed:9.3f} {lbest:9.3f} {lcpu:7.3f}")
    ldiff = np.max(np.abs(np.asarray(f.params) - lg.params))
    print(f"max |β_fimkit − β_Logit| = {ldiff:.1e}")
    print(f"fimkit / statsmodels GLM: {fmed / smed:.2f}× wall, {fcpu / scpu:.2f}× CPU")
    print(f"fimkit / statsmodels Logit: {fmed / lmed:.2f}× wall, {fcpu / lcpu:.2f}× CPU")


if __name__ == "__main__":
    main()
