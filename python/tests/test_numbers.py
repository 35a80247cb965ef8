"""Exact log-densities, scores and Hessians over data: against analytic
formulas and finite differences, per row and summed, from a dict of NumPy
arrays, a pandas DataFrame and a pyarrow Table; data errors; the GIL."""

import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import fimkit
from conftest import TEXTBOOK

NORMAL = "param mu : real\nparam sigma : positive\ndata x : real\nx ~ normal(mu, sigma)\n"


def logistic_data(n, seed=1):
    rng = np.random.default_rng(seed)
    z1, z2 = rng.normal(size=n), rng.normal(size=n)
    p = 1 / (1 + np.exp(-(0.3 - 0.8 * z1 + 0.5 * z2)))
    return {"y": (rng.random(n) < p).astype(np.float64), "z1": z1, "z2": z2}


def test_normal_against_the_formulas():
    m = fimkit.Model(NORMAL)
    x = np.array([-1.5, 0.0, 0.25, 3.0])
    mu, s = 0.5, 1.7
    r = (x - mu) / s
    lp = m.log_density({"mu": mu, "sigma": s}, {"x": x})
    np.testing.assert_allclose(lp, -0.5 * np.log(2 * np.pi) - np.log(s) - r**2 / 2, rtol=1e-15)
    g = m.score([mu, s], {"x": x})
    assert g.shape == (4, 2)
    np.testing.assert_allclose(g[:, 0], r / s, rtol=1e-14)
    np.testing.assert_allclose(g[:, 1], (r**2 - 1) / s, rtol=1e-14)
    h = m.hessian([mu, s], {"x": x})
    assert h.shape == (4, 2, 2)
    np.testing.assert_allclose(h[:, 0, 0], -1 / s**2, rtol=1e-15)
    np.testing.assert_allclose(h[:, 0, 1], -2 * r / s**2, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(h[:, 1, 0], h[:, 0, 1], rtol=0)
    np.testing.assert_allclose(h[:, 1, 1], (1 - 3 * r**2) / s**2, rtol=1e-14)
    # All three in one pass.
    v3, g3, h3 = m.derivatives([mu, s], {"x": x})
    np.testing.assert_array_equal(v3, lp)
    np.testing.assert_array_equal(g3, g)
    np.testing.assert_array_equal(h3, h)
    # reduce=True: the sums.
    assert m.log_density([mu, s], {"x": x}, reduce=True) == pytest.approx(lp.sum(), rel=1e-15)
    np.testing.assert_allclose(m.score([mu, s], {"x": x}, reduce=True), g.sum(0), rtol=1e-14)
    np.testing.assert_allclose(m.hessian([mu, s], {"x": x}, reduce=True), h.sum(0), rtol=1e-14)


def test_logistic_hessian_is_minus_p_q_z_zt_and_score_matches_finite_differences():
    m = fimkit.Model.from_file(TEXTBOOK / "logistic_regression.fim")
    d = logistic_data(5000)
    theta = np.array([0.2, -0.7, 0.4])
    Z = np.column_stack([np.ones(5000), d["z1"], d["z2"]])
    p = 1 / (1 + np.exp(-Z @ theta))
    h = m.hessian(theta, d)
    np.testing.assert_allclose(h, -(p * (1 - p))[:, None, None] * Z[:, :, None] * Z[:, None, :], rtol=1e-12, atol=1e-15)
    g = m.score(theta, d)
    np.testing.assert_allclose(g, (d["y"] - p)[:, None] * Z, rtol=1e-12, atol=1e-15)
    # The score is the derivative of the log-density (central differences).
    eps = 1e-6
    for k in range(3):
        e = np.zeros(3)
        e[k] = eps
        fd = (m.log_density(theta + e, d) - m.log_density(theta - e, d)) / (2 * eps)
        np.testing.assert_allclose(g[:, k], fd, rtol=1e-6, atol=1e-8)


def test_dict_pandas_and_arrow_give_the_same_numbers():
    m = fimkit.Model.from_file(TEXTBOOK / "logistic_regression.fim")
    d = logistic_data(3000)
    df = pd.DataFrame(d | {"other": ["a"] * 3000})  # extra columns are ignored
    table = pa.table(d)
    chunked = pa.concat_tables([pa.table({k: v[:1000] for k, v in d.items()}),
                                pa.table({k: v[1000:] for k, v in d.items()})])
    ints = dict(d, y=d["y"].astype(np.int64))  # converted to float64
    theta = {"b0": 0.1, "b1": -0.5, "b2": 0.3}
    want = m.hessian(theta, d)
    for data in (df, table, chunked, ints, df[["z2", "y", "z1"]]):
        np.testing.assert_array_equal(m.hessian(theta, data), want)
    structured = np.zeros(3000, dtype=[("y", "f8"), ("z1", "f8"), ("z2", "f8")])
    for k in d:
        structured[k] = d[k]
    np.testing.assert_array_equal(m.hessian(theta, structured), want)


def test_float64_contiguous_columns_are_not_copied():
    d = logistic_data(100)
    names = ["y", "z1", "z2"]
    for data, source in [
        (d, lambda n: d[n]),
        (pd.DataFrame(d), None),
        (pa.table(d), None),
    ]:
        cols = fimkit._columns(data, names)
        assert [n for n, _ in cols] == names
        for n, a in cols:
            assert a.dtype == np.float64 and a.flags.c_contiguous
            if source is not None:
                assert a is source(n) or np.shares_memory(a, source(n))
        if isinstance(data, pa.Table):
            for n, a in cols:
                buf = data.column(n).chunk(0).buffers()[1]
                assert a.__array_interface__["data"][0] == buf.address
        if isinstance(data, pd.DataFrame):
            for n, a in cols:
                assert np.shares_memory(a, data[n].to_numpy())
    # A strided view is made contiguous (a copy), and still right.
    m = fimkit.Model(NORMAL)
    x = np.arange(20, dtype=np.float64)
    np.testing.assert_array_equal(m.log_density([0, 1], {"x": x[::2]}), m.log_density([0, 1], {"x": x[::2].copy()}))


def test_data_errors_name_the_row_and_column():
    m = fimkit.Model.from_file(TEXTBOOK / "poisson_regression.fim")
    z = np.zeros(5)
    with pytest.raises(fimkit.DataError, match=r"row 3.*`k`|`k`.*row 3"):
        m.log_density([0, 0], {"k": np.array([1, 2, 2.5, 0, 1.0]), "z": z})
    with pytest.raises(fimkit.DataError, match=r"row 2"):
        m.log_density([0, 0], {"k": np.array([1, np.nan, 2, 0, 1.0]), "z": z})
    with pytest.raises(fimkit.DataError, match=r"column `k`, row 4: the value is missing"):
        m.log_density([0, 0], pa.table({"k": pa.array([1, 2, 0, None, 1], pa.float64()), "z": z}))
    with pytest.raises(fimkit.DataError, match=r"column `k`, row 2: the value is missing"):
        m.log_density([0, 0], pd.DataFrame({"k": pd.array([1, None, 0, 1, 1], dtype="Int64"), "z": z}))
    with pytest.raises(fimkit.ArgumentError, match="no column for the input `z`"):
        m.log_density([0, 0], {"k": np.ones(5)})
    with pytest.raises(fimkit.ArgumentError, match="has 4 values"):
        m.log_density([0, 0], {"k": np.ones(5), "z": np.zeros(4)})
    with pytest.raises(fimkit.DataError, match="not numbers"):
        m.log_density([0, 0], {"k": np.array(["a"] * 5), "z": z})


def test_theta_errors():
    m = fimkit.Model(NORMAL)
    x = {"x": np.ones(3)}
    with pytest.raises(fimkit.ArgumentError, match="2 parameters"):
        m.hessian([0.0], x)
    with pytest.raises(fimkit.ArgumentError, match="sigma"):
        m.hessian([0.0, -1.0], x)
    with pytest.raises(fimkit.ArgumentError, match="sigam"):
        m.hessian({"mu": 0.0, "sigam": 1.0}, x)
    for reduce in (False, True):
        with pytest.raises(fimkit.ArgumentError):
            m.score([0.0, 1.0, 2.0], x, reduce=reduce)


def test_the_gil_is_released_during_computation():
    m = fimkit.Model.from_file(TEXTBOOK / "logistic_regression.fim")
    d = logistic_data(400_000)
    window = {}

    def work():
        window["start"] = time.perf_counter()
        m.hessian([0.1, 0.2, 0.3], d)
        window["end"] = time.perf_counter()

    t = threading.Thread(target=work)
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
    t.join()
    inside = [s for s in ticks if window["start"] < s < window["end"]]
    # Held, the main thread could not run at all between start and end.
    assert len(inside) > 100, (len(inside), window["end"] - window["start"])
