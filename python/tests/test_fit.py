"""Fisher information and fits: against textbook closed forms, a NumPy
IRLS written here, and the `fimkit fit --format json` command."""

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

import fimkit
from conftest import EXAMPLES, TEXTBOOK
from test_numbers import logistic_data


def test_closed_form_information_has_method_and_zero_error():
    m = fimkit.Model.from_file(EXAMPLES / "gamma.fim")
    a, b = 2.0, 1.5
    f = m.fisher_information({"alpha": a, "beta": b})
    assert f.method == "closed form" and f.tier == 1 and f.is_closed_form
    trigamma2 = np.pi**2 / 6 - 1
    np.testing.assert_allclose(f.value, [[trigamma2, -1 / b], [-1 / b, a / b**2]], rtol=1e-14)
    assert f.error.shape == (2, 2) and not f.error.any()
    np.testing.assert_allclose(f.cramer_rao(), np.linalg.inv(f.value), rtol=1e-12)
    assert f.params == ["alpha", "beta"]


def test_numeric_information_has_its_method_and_error():
    # Cauchy: location–scale, F = diag(1, 1)/(2 s²), no closed form.
    m = fimkit.Model(
        "param mu : real\nparam s : positive\ndata x : real\n"
        "logp += -log(pi) - log(s) - log(1 + ((x - mu)/s)^2)\n"
    )
    f = m.fisher_information([0.0, 2.0])
    assert not f.is_closed_form and f.tier in (2, 3) and f.method != "closed form"
    np.testing.assert_allclose(f.value, np.eye(2) / 8, atol=1e-9)
    assert f.error.max() < 1e-8


def test_information_over_a_design_is_the_sum_of_p_q_z_zt():
    m = fimkit.Model.from_file(TEXTBOOK / "logistic_regression.fim")
    d = logistic_data(2000)
    theta = np.array([0.2, -0.7, 0.4])
    Z = np.column_stack([np.ones(2000), d["z1"], d["z2"]])
    w = 1 / (1 + np.exp(-Z @ theta))
    want = (Z * (w * (1 - w))[:, None]).T @ Z
    for data in (d, {"z1": d["z1"], "z2": d["z2"]}, pd.DataFrame(d)):
        f = m.fisher_information(theta, data)
        np.testing.assert_allclose(f.value, want, rtol=1e-12)
        assert f.rows[0] == 2000
    with pytest.raises(fimkit.ArgumentError, match="covariates"):
        m.fisher_information(theta)


def test_information_over_rows_without_covariates_is_n_times_f():
    m = fimkit.Model.from_file(EXAMPLES / "gamma.fim")
    f1 = m.fisher_information([2.0, 1.5]).value
    f = m.fisher_information([2.0, 1.5], {"x": np.ones(7)})
    np.testing.assert_allclose(f.value, 7 * f1, rtol=1e-14)
    with pytest.raises(fimkit.ArgumentError, match="no covariates"):
        m.fisher_information([2.0, 1.5], {"y": np.ones(7)})


def irls(X, y, iterations=50):
    beta = np.zeros(X.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-X @ beta))
        info = (X * (p * (1 - p))[:, None]).T @ X
        beta = beta + np.linalg.solve(info, X.T @ (y - p))
    p = 1 / (1 + np.exp(-X @ beta))
    info = (X * (p * (1 - p))[:, None]).T @ X
    ll = np.sum(y * np.log(p) + (1 - y) * np.log1p(-p))
    return beta, np.linalg.inv(info), ll


@pytest.mark.parametrize("method", ["scoring", "natural", "newton"])
def test_logistic_fit_equals_irls(method):
    m = fimkit.Model.from_file(TEXTBOOK / "logistic_regression.fim")
    d = logistic_data(20_000, seed=7)
    X = np.column_stack([np.ones(20_000), d["z1"], d["z2"]])
    beta, cov, ll = irls(X, d["y"])
    r = m.fit(pd.DataFrame(d), method=method, max_iter=10_000)
    assert r.converged and r.iterations > 0 and r.method in method.replace("scoring", "fisher-scoring")
    assert r.param_names == ["b0", "b1", "b2"]
    np.testing.assert_allclose(r.params, beta, rtol=0, atol=1e-8)
    np.testing.assert_allclose(r.cov, cov, rtol=1e-6)
    np.testing.assert_allclose(r.bse, np.sqrt(np.diag(cov)), rtol=1e-6)
    assert r.loglik == pytest.approx(ll, rel=1e-12)
    assert r.nobs == 20_000
    text = r.summary()
    assert "b1" in text and "converged" in text


def test_poisson_fit_equals_the_command(fimkit_bin, tmp_path):
    m = fimkit.Model.from_file(TEXTBOOK / "poisson_regression.fim")
    rng = np.random.default_rng(3)
    z = rng.normal(size=3000)
    k = rng.poisson(np.exp(0.4 + 0.3 * z)).astype(np.float64)
    path = tmp_path / "pois.csv"
    pd.DataFrame({"k": k, "z": z}).to_csv(path, index=False, float_format="%.17g")
    out = subprocess.run(
        [str(fimkit_bin), "fit", str(TEXTBOOK / "poisson_regression.fim"), "--data", str(path), "--format", "json"],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    r = m.fit({"k": k, "z": z})
    assert json.loads(r.to_json())["estimates"] == cli["estimates"]
    mine = json.loads(r.to_json())
    for key in ("estimates", "std_errors", "loglik", "converged", "iterations"):
        if key in cli:
            assert mine[key] == cli[key], key
    assert r.loglik == cli["loglik"]


def test_fit_errors():
    m = fimkit.Model.from_file(TEXTBOOK / "logistic_regression.fim")
    # Complete separation: y = 1 exactly when z1 > 0.
    z1 = np.linspace(-1, 1, 200)
    sep = {"y": (z1 > 0).astype(float), "z1": z1, "z2": np.cos(7 * z1)}
    with pytest.raises(fimkit.FitError, match="separat"):
        m.fit(sep)
    with pytest.raises(fimkit.ArgumentError, match="unknown method"):
        m.fit(logistic_data(100), method="bfgs")
    with pytest.raises(fimkit.ArgumentError, match="init"):
        m.fit(logistic_data(100), init=[0.0])
    # Too few steps: a result that says it did not converge.
    r = m.fit(logistic_data(5000), method="gd", max_iter=2)
    assert not r.converged and r.iterations == 2
