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

* frequency weights (item 5): GLMs with `freq_weights` (logistic;
  Poisson with an offset), the Normal MLE with weights in closed form;
* missing values: a GLM with `missing='drop'` on a file with empty, NA,
  NaN and N/A cells.

* predictions and residuals (item 4): `get_prediction(exog_new)
  .summary_frame()` (mean, mean_se, intervals; `which='linear'` for the
  linear predictor) at the rows of predict_new.csv, and `resid_response`,
  `resid_pearson`, `resid_deviance` on the fit's data, for the logistic
  and Poisson regressions and a Normal linear regression (statsmodels'
  Gaussian GLM: its covariance is scaled by Pearson χ²/(n − p) and its
  Pearson residuals are not divided by the scale; the test converts).

* model comparison (item 2): for nested GLM pairs on the same data,
  the likelihood-ratio statistic 2(llf_big - llf_small) with chi2.sf;
  the score (Rao) test from the small fit,
  `small.model.score_test(small.params, exog_extra=...)`; the Wald test
  `big.wald_test(R, scalar=True, use_f=False)` of the extra coefficients.

Writes the datasets it needs that scripts/fit/gen_data.py does not
(poisson_offset.csv, normal_small.csv, poisson_small.csv,
logistic_cluster.csv; logistic_weighted.csv, poisson_offset_weighted.csv,
normal_weighted.csv, logistic_na.csv, logistic_cluster_weighted.csv), with fixed seeds.

    python3 -m venv /tmp/sm && /tmp/sm/bin/pip install numpy==2.2.6 scipy==1.15.3 statsmodels==0.15.0 pandas
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


def glm_profile(y, X, family, offset, level, res, weights=None):
    """Profile-likelihood interval of every coefficient."""
    q = chi2.ppf(level, 1)
    target = res.llf - q / 2
    out = []
    for j in range(X.shape[1]):
        rest = np.delete(X, j, axis=1)

        def f(t):
            off = t * X[:, j] + (0 if offset is None else offset)
            r = sm.GLM(y, rest, family=family, offset=off,
                       freq_weights=weights).fit(tol=1e-14, maxiter=200)
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


def glm_case(name, response, family, columns, offset_col=None, weight_col=None, raw=None):
    if raw is None:
        raw = read(f"{name}.csv")
    X = np.column_stack([np.ones(len(raw))] + [raw[c] for c in columns])
    y = raw[response]
    offset = None if offset_col is None else np.log(raw[offset_col])
    weights = None if weight_col is None else raw[weight_col]
    model = sm.GLM(y, X, family=family, offset=offset, freq_weights=weights)
    res = model.fit(tol=1e-14, maxiter=200)
    if weights is None:
        hc0 = model.fit(tol=1e-14, maxiter=200, cov_type="HC0")
    else:
        # statsmodels' HC0 with freq_weights divides by sqrt(w): NaN for a
        # weight 0. Those rows are not in the data: leave them out.
        pos = weights > 0
        hc0 = sm.GLM(y[pos], X[pos], family=family,
                     offset=None if offset is None else offset[pos],
                     freq_weights=weights[pos]).fit(tol=1e-14, maxiter=200, cov_type="HC0")
    case = {
        "params": res.params.tolist(),
        "loglik": float(res.llf),
        "deviance": float(res.deviance),
        "null_deviance": float(res.null_deviance),
        "aic": float(res.aic),
        "bic": float(res.bic_llf),
        "nobs": int(res.nobs),
        "std_errors": res.bse.tolist(),
        "n_params": int(res.df_model + 1),
        "df_resid": int(res.df_resid),
        "sandwich_std_errors": hc0.bse.tolist(),
        "profile": {str(l): glm_profile(y, X, family, offset, l, res, weights) for l in LEVELS},
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


def normal_weighted():
    """The Normal MLE with frequency weights in closed form, and
    statsmodels' Gaussian GLM with freq_weights for the mean."""
    raw = read("normal_weighted.csv")
    x, w = raw["x"], raw["w"]
    n = w.sum()
    mu = np.sum(w * x) / n
    sigma = np.sqrt(np.sum(w * (x - mu) ** 2) / n)
    res = sm.GLM(x, np.ones((len(x), 1)), family=sm.families.Gaussian(),
                 freq_weights=w).fit(tol=1e-14)
    ll = float(np.sum(w * norm.logpdf(x, mu, sigma)))
    return {
        "params": [mu, sigma],
        "glm_mean": float(res.params[0]),
        "loglik": ll,
        "nobs": float(n),
        # Fisher information of (mu, sigma): n/sigma^2 and 2n/sigma^2.
        "std_errors": [sigma / np.sqrt(n), sigma / np.sqrt(2 * n)],
        "bic": float(2 * np.log(n) - 2 * ll),
    }


def write_missing(rng):
    """logistic.csv with missing cells: empty, NA, NaN in the model's
    columns, and NA in a column the model does not use (kept)."""
    lg = read("logistic.csv")
    n = len(lg)
    with open(DATA / "logistic_na.csv", "w") as f:
        f.write("z1,z2,y,note\n")
        spells = ["", "NA", "NaN", "nan", "N/A"]
        holes = rng.choice(n, 23, replace=False)
        for i in range(n):
            cells = [repr(float(lg["z1"][i])), repr(float(lg["z2"][i])), str(int(lg["y"][i]))]
            if i in holes:
                cells[int(rng.integers(0, 3))] = spells[int(rng.integers(0, len(spells)))]
            note = "NA" if i % 7 == 3 else "ok"
            f.write(",".join(cells + [note]) + "\n")


def logistic_na():
    """statsmodels on logistic_na.csv with missing='drop' over the
    model's columns (pandas reads empty, NA, NaN, N/A as missing)."""
    import pandas as pd
    df = pd.read_csv(DATA / "logistic_na.csv")
    X = sm.add_constant(df[["z1", "z2"]], has_constant="add")
    res = sm.GLM(df["y"], X, family=sm.families.Binomial(), missing="drop").fit(tol=1e-14)
    return {
        "params": res.params.tolist(),
        "std_errors": res.bse.tolist(),
        "loglik": float(res.llf),
        "deviance": float(res.deviance),
        "null_deviance": float(res.null_deviance),
        "nobs": int(res.nobs),
        "dropped": int(len(df) - res.nobs),
        "bic": float(res.bic_llf),
    }


def write_predict(rng):
    """Covariate rows to predict at (z1, z2, and an exposure t), and a
    Normal linear regression's data."""
    m = 7
    write("predict_new.csv", {"z1": np.r_[0.0, rng.normal(0.0, 1.5, m - 1)],
                              "z2": np.r_[0.0, rng.normal(0.5, 1.0, m - 1)],
                              "t": np.r_[1.0, rng.uniform(0.5, 5.0, m - 1)]})
    n = 60
    z1 = rng.normal(0.0, 1.0, n)
    write("normal_regression.csv", {"z1": z1, "x": 1.0 - 0.7 * z1 + rng.normal(0.0, 0.4, n)})


def prediction_case(name, response, family, columns, offset_col=None):
    """statsmodels' predictions at predict_new.csv and residuals on the data."""
    raw = read(f"{name}.csv")
    new = read("predict_new.csv")
    X = np.column_stack([np.ones(len(raw))] + [raw[c] for c in columns])
    Xn = np.column_stack([np.ones(len(new))] + [new[c] for c in columns])
    offset = None if offset_col is None else np.log(raw[offset_col])
    offn = None if offset_col is None else np.log(new[offset_col])
    res = sm.GLM(raw[response], X, family=family, offset=offset).fit(tol=1e-14, maxiter=200)
    out = {"params": res.params.tolist(), "scale": float(res.scale), "nobs": int(res.nobs)}
    for which in ("mean", "linear"):
        for level in LEVELS:
            f = res.get_prediction(Xn, offset=offn, which=which).summary_frame(alpha=1 - level)
            # Column names differ: mean, mean_se, mean_ci_* for the mean;
            # predicted, se, ci_* for the linear predictor.
            v, se, lo, hi = f.columns
            out[f"{which}_{level}"] = {
                "value": f[v].tolist(),
                "se": f[se].tolist(),
                "lower": f[lo].tolist(),
                "upper": f[hi].tolist(),
            }
    out["fitted"] = res.fittedvalues.tolist()
    out["resid_response"] = res.resid_response.tolist()
    out["resid_pearson"] = res.resid_pearson.tolist()
    out["resid_deviance"] = res.resid_deviance.tolist()
    return out


def write_compare(rng):
    """Data for `fimkit compare`: a logistic regression with three
    covariates, a Poisson regression with an exposure and two."""
    n = 400
    z1, z2, z3 = (rng.normal(0.0, 1.0, n) for _ in range(3))
    eta = 0.3 + 0.8 * z1 - 0.25 * z2 + 0.12 * z3
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    write("compare_logistic.csv", {"z1": z1, "z2": z2, "z3": z3, "y": y})
    n = 250
    z1, z2 = rng.normal(0.0, 1.0, n), rng.normal(0.0, 1.0, n)
    t = rng.uniform(0.5, 5.0, n)
    k = rng.poisson(t * np.exp(-0.5 + 0.4 * z1 + 0.1 * z2))
    write("compare_poisson.csv", {"z1": z1, "z2": z2, "t": t, "k": k})


def compare_case(name, response, family, small_cols, extra_cols, offset_col=None):
    """LR, score and Wald tests of the extra columns' coefficients = 0."""
    raw = read(f"{name}.csv")
    ones = [np.ones(len(raw))]
    Xs = np.column_stack(ones + [raw[c] for c in small_cols])
    Xe = np.column_stack([raw[c] for c in extra_cols])
    Xb = np.column_stack([Xs, Xe])
    y = raw[response]
    offset = None if offset_col is None else np.log(raw[offset_col])
    small = sm.GLM(y, Xs, family=family, offset=offset).fit(tol=1e-14, maxiter=200)
    big = sm.GLM(y, Xb, family=family, offset=offset).fit(tol=1e-14, maxiter=200)
    df = len(extra_cols)
    lr = 2 * (big.llf - small.llf)
    score, score_p, score_df = small.model.score_test(small.params, exog_extra=Xe)
    R = np.zeros((df, Xb.shape[1]))
    for i in range(df):
        R[i, Xs.shape[1] + i] = 1.0
    wald = big.wald_test(R, scalar=True, use_f=False)
    return {
        "loglik_small": float(small.llf),
        "loglik_big": float(big.llf),
        "df": df,
        "lr": float(lr),
        "lr_p": float(chi2.sf(lr, df)),
        "score": float(np.squeeze(score)),
        "score_p": float(np.squeeze(score_p)),
        "score_df": int(np.squeeze(score_df)),
        "wald": float(np.squeeze(wald.statistic)),
        "wald_p": float(np.squeeze(wald.pvalue)),
        "wald_df": int(np.squeeze(wald.df_denom)),
    }


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
    # Item 5: frequency weights and missing values, from a generator of
    # their own (the files above stay as they were).
    r5 = np.random.default_rng(1705)
    lg = read("logistic.csv")
    write("logistic_weighted.csv", {"z1": lg["z1"], "z2": lg["z2"], "y": lg["y"],
                                    "w": r5.integers(0, 5, len(lg))})
    po = read("poisson_offset.csv")
    write("poisson_offset_weighted.csv", {"z1": po["z1"], "t": po["t"], "k": po["k"],
                                          "w": r5.integers(0, 4, len(po))})
    x = r5.normal(1.0, 0.5, 40)
    write("normal_weighted.csv", {"x": x, "w": r5.integers(1, 6, len(x))})
    write_missing(r5)
    # Item 4: rows to predict at, from a generator of their own.
    write_predict(np.random.default_rng(1704))
    lc = read("logistic_cluster.csv")
    write("logistic_cluster_weighted.csv", {"z1": lc["z1"], "z2": lc["z2"], "y": lc["y"],
                                            "g": lc["g"], "w": r5.integers(1, 6, len(lc))})
    # Item 2: model comparison, from a generator of its own.
    write_compare(np.random.default_rng(1702))
    out = {
        "peer": f"statsmodels {statsmodels.__version__}, scipy {scipy.__version__} (GLM IRLS tol 1e-14; brentq xtol 1e-14)",
        "cases": {
            "logistic": glm_case("logistic_cluster", "y", sm.families.Binomial(), ["z1", "z2"]),
            "probit": glm_case("probit", "y", sm.families.Binomial(link=sm.families.links.Probit()), ["z1", "z2"]),
            "poisson": glm_case("poisson", "k", sm.families.Poisson(), ["z1", "z2"]),
            "poisson_offset": glm_case("poisson_offset", "k", sm.families.Poisson(), ["z1"], "t"),
            "normal_small": normal_small(),
            "poisson_small": poisson_small(),
            "logistic_weighted": glm_case("logistic_weighted", "y", sm.families.Binomial(),
                                          ["z1", "z2"], weight_col="w"),
            "poisson_offset_weighted": glm_case("poisson_offset_weighted", "k",
                                                sm.families.Poisson(), ["z1"], "t",
                                                weight_col="w"),
            "logistic_cluster_weighted": glm_case("logistic_cluster_weighted", "y",
                                                  sm.families.Binomial(), ["z1", "z2"],
                                                  weight_col="w"),
            "normal_weighted": normal_weighted(),
            "logistic_na": logistic_na(),
        },
        "predict": {
            "logistic": prediction_case("logistic_cluster", "y", sm.families.Binomial(), ["z1", "z2"]),
            "poisson": prediction_case("poisson", "k", sm.families.Poisson(), ["z1", "z2"]),
            "poisson_offset": prediction_case("poisson_offset", "k", sm.families.Poisson(),
                                              ["z1"], "t"),
            "normal_regression": prediction_case("normal_regression", "x",
                                                 sm.families.Gaussian(), ["z1"]),
        },
        "compare": {
            "logistic": compare_case("compare_logistic", "y", sm.families.Binomial(),
                                     ["z1"], ["z2", "z3"]),
            "poisson_exposure": compare_case("compare_poisson", "k", sm.families.Poisson(),
                                             ["z1"], ["z2"], "t"),
        },
    }
    with open(DATA / "report_peer.json", "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
