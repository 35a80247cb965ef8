#!/usr/bin/env python3
"""Fit the regression datasets of tests/data/fit/ with statsmodels GLM and
write the peer's numbers as a test fixture (tests/data/fit/statsmodels.json).

For each dataset: coefficients, standard errors from the expected
information (statsmodels' IRLS `bse`), standard errors from the observed
information (inverse of minus `GLM.hessian(observed=True)`), the
log-likelihood and statsmodels' iteration count. IRLS runs to a tight
tolerance so that the fixture is as exact as the peer can make it.

    pip install statsmodels   # done here at run time when missing
    python3 scripts/fit/statsmodels_peer.py
"""
import json
import pathlib
import subprocess
import sys

try:
    import statsmodels.api as sm
except ImportError:  # pragma: no cover
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "statsmodels"])
    import statsmodels.api as sm
import numpy as np

DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "fit"

CASES = [
    ("logistic", "y", sm.families.Binomial()),
    ("probit", "y", sm.families.Binomial(link=sm.families.links.Probit())),
    ("probit_extreme", "y", sm.families.Binomial(link=sm.families.links.Probit())),
    ("poisson", "k", sm.families.Poisson()),
]


def load(name, response):
    raw = np.genfromtxt(DATA / f"{name}.csv", delimiter=",", names=True)
    X = np.column_stack([np.ones(len(raw)), raw["z1"], raw["z2"]])
    return X, raw[response]


def main():
    out = {"peer": f"statsmodels {sm.__version__} GLM (IRLS, tol 1e-14)", "cases": {}}
    for name, response, family in CASES:
        X, y = load(name, response)
        model = sm.GLM(y, X, family=family)
        res = model.fit(tol=1e-14, maxiter=200)
        observed = np.linalg.inv(-model.hessian(res.params, observed=True))
        out["cases"][name] = {
            "params": res.params.tolist(),
            "std_errors": res.bse.tolist(),
            "std_errors_observed": np.sqrt(np.diag(observed)).tolist(),
            "loglik": float(res.llf),
            "iterations": int(res.fit_history["iteration"]),
        }
    with open(DATA / "statsmodels.json", "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
