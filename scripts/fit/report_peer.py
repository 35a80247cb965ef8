#!/usr/bin/env python3
"""Reference numbers for the report of `fimkit fit` (issue #17), from
statsmodels and scipy on the same data: tests/data/fit/report_peer.json.

* deviance, null deviance, log-likelihood, AIC, BIC (`bic_llf`), number
  of observations and parameters of statsmodels' GLM;
* profile-likelihood intervals at 0.95 and 0.9: each end where
  2(llf - llf_p) = chi2_1 quantile, llf_p(b_j = t) a statsmodels GLM of
  the other columns with b_j x_j as an offset, the end by scipy's brentq;
  for the small Normal and Poisson samples the profile in closed form;
* sandwich standard errors: statsmodels GLM `cov_type='HC0'` and
  `cov_type='cluster'` (without the small-sample correction).

Writes the datasets it needs that scripts/fit/gen_data.py does not
(poisson_offset.csv, normal_small.csv, poisson_small.csv,
logistic_cluster.csv), with a fixed seed.

    python3 -m venv /tmp/sm && /tmp/sm/bin/pip install numpy==2.2.6 scipy==1.15.3 statsmodels==0.15.0
    /tmp/sm/bin/python scripts/fit/report_peer.py
"""
import json
import pathlib

import numpy as np
import scipy
import statsmodels
import statsmodels.api as sm
from scipy.optimize import brentq
from scipy.stats import chi2, norm

DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "fit"
LEVELS = [0.95, 0.9]


def write(name, cols):
    names = list(cols)
    n = len(cols[names[0]])
    with open(DATA / name, "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            row = []
            for c in names:
                v = float(cols[c][i])
                row.append(str(int(v)) if c in ("y", "k", "g", "w") else repr(v))
            f.write(",".join(row) + "\n")


def read(name):
    return np.genfromtxt(DATA / name, delimiter=",", names=True)


def glm_profile(y, X, family, offset, level, res):
    """Profile-likelihood interval of every coefficient."""
    q = chi2.ppf(level, 1)
    target = res.llf - q / 2
    out = []
    for j in range(X.shape[1]):
        rest = np.delete(X, j, axis=1)

        def f(t):
            off = t * X[:, j] + (0 if offset is None else offset)
            r = sm.GLM(y, rest, family=family, offset=off).fit(tol=1e-14, maxiter=200)
            return r.llf - target

        b, se = res.params[j], res.bse[j]
        ends = []
        for sign in (-1, 1):
            k = 1
            while f(b + sign * k * se) > 0:
                k *= 2
            lo, hi = sorted((b + sign * k * se / 2 if k > 1 else b, b + sign * k * se))
            ends.append(brentq(f, lo, hi, xtol=1e-14, rtol=1e-14))
        out.append(ends)
    return out


def glm_case(name, response, family, columns, offset_col=None):
    raw = read(f"{name}.csv")
    X = np.column_stack([np.ones(len(raw))] + [raw[c] for c in columns])
    y = raw[response]
    offset = None if offset_col is None else np.log(raw[offset_col])
    model = sm.GLM(y, X, family=family, offset=offset)
    res = model.fit(tol=1e-14, maxiter=200)
    hc0 = model.fit(tol=1e-14, maxiter=200, cov_type="HC0")
    case = {
        "params": res.params.tolist(),
        "loglik": float(res.llf),
        "deviance": float(res.deviance),
        "null_deviance": float(res.null_deviance),
        "aic": float(res.aic),
        "bic": float(res.bic_llf),
        "nobs": int(res.nobs),
        "n_params": int(res.df_model + 1),
        "df_resid": int(res.df_resid),
        "sandwich_std_errors": hc0.bse.tolist(),
        "profile": {str(l): glm_profile(y, X, family, offset, l, res) for l in LEVELS},
        "wald": {
            str(l): [[b - norm.ppf(0.5 + l / 2) * s, b + norm.ppf(0.5 + l / 2) * s]
                     for b, s in zip(res.params, res.bse)]
            for l in LEVELS
        },
    }
    if "g" in raw.dtype.names:
        cl = model.fit(tol=1e-14, maxiter=200, cov_type="cluster",
                       cov_kwds={"groups": raw["g"].astype(int), "use_correction": False})
        case["cluster_std_errors"] = cl.bse.tolist()
    return case


def normal_small():
    x = read("normal_small.csv")["x"]
    n = len(x)
    mu, s2 = x.mean(), x.var()
    ll = lambda m, s: float(np.sum(norm.logpdf(x, m, s)))
    llhat = ll(mu, np.sqrt(s2))
    prof = {}
    for l in LEVELS:
        target = llhat - chi2.ppf(l, 1) / 2
        fmu = lambda m: ll(m, np.sqrt(np.mean((x - m) ** 2))) - target
        fsig = lambda s: ll(mu, s) - target
        sd = np.sqrt(s2)
        prof[str(l)] = [
            [brentq(fmu, mu - 20 * sd, mu, xtol=1e-14, rtol=1e-14),
             brentq(fmu, mu, mu + 20 * sd, xtol=1e-14, rtol=1e-14)],
            [brentq(fsig, sd * 1e-3, sd, xtol=1e-14, rtol=1e-14),
             brentq(fsig, sd, sd * 100, xtol=1e-14, rtol=1e-14)],
        ]
    return {"params": [mu, np.sqrt(s2)], "loglik": llhat, "profile": prof}


def poisson_small():
    k = read("poisson_small.csv")["k"]
    n, lam = len(k), k.mean()
    from scipy.special import gammaln
    ll = lambda l: float(np.sum(k * np.log(l) - l - gammaln(k + 1)))
    prof = {}
    for l in LEVELS:
        target = ll(lam) - chi2.ppf(l, 1) / 2
        f = lambda t: ll(t) - target
        prof[str(l)] = [[brentq(f, lam * 1e-6, lam, xtol=1e-15, rtol=1e-14),
                         brentq(f, lam, lam * 100, xtol=1e-14, rtol=1e-14)]]
    return {"params": [lam], "loglik": ll(lam), "profile": prof}


def main():
    rng = np.random.default_rng(17)
    n = 300
    z1 = rng.normal(0.0, 1.0, n)
    t = rng.uniform(0.5, 5.0, n)
    k = rng.poisson(t * np.exp(-0.4 + 0.6 * z1))
    write("poisson_offset.csv", {"z1": z1, "t": t, "k": k})
    write("normal_small.csv", {"x": rng.normal(1.0, 0.5, 8)})
    write("poisson_small.csv", {"k": np.array([0, 1, 0, 2, 0, 0])})
    lg = read("logistic.csv")
    write("logistic_cluster.csv", {"z1": lg["z1"], "z2": lg["z2"], "y": lg["y"],
                                   "g": rng.integers(0, 25, len(lg))})
    out = {
        "peer": f"statsmodels {statsmodels.__version__}, scipy {scipy.__version__} (GLM IRLS tol 1e-14; brentq xtol 1e-14)",
        "cases": {
            "logistic": glm_case("logistic_cluster", "y", sm.families.Binomial(), ["z1", "z2"]),
            "probit": glm_case("probit", "y", sm.families.Binomial(link=sm.families.links.Probit()), ["z1", "z2"]),
            "poisson": glm_case("poisson", "k", sm.families.Poisson(), ["z1", "z2"]),
            "poisson_offset": glm_case("poisson_offset", "k", sm.families.Poisson(), ["z1"], "t"),
            "normal_small": normal_small(),
            "poisson_small": poisson_small(),
        },
    }
    with open(DATA / "report_peer.json", "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
