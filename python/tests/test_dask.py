"""fimkit.dask: fits and Fisher information over a partitioned Parquet
dataset on a distributed LocalCluster of two worker processes, against
the single-process Model.fit / Model.fisher_information on the same rows."""

import pickle

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster

import fimkit
import fimkit.dask
from conftest import EXAMPLES

# Rows per file: unequal, one file empty.
SIZES = [700, 1300, 0, 400, 1600]


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def regression(kind: str, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z1 = rng.normal(size=n)
    z2 = rng.uniform(-1.0, 2.0, size=n)
    eta = 0.3 - 0.8 * z1 + 0.5 * z2
    if kind == "logistic":
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(np.float64)
        return pd.DataFrame({"z1": z1, "z2": z2, "y": y})
    k = rng.poisson(np.exp(eta)).astype(np.int64)  # an integer column
    return pd.DataFrame({"z1": z1, "z2": z2, "k": k})


def write_parts(df: pd.DataFrame, root) -> list[pd.DataFrame]:
    """`df` cut into files of SIZES rows under `root`; the pieces, in order."""
    root.mkdir()
    pieces, start = [], 0
    for i, size in enumerate(SIZES):
        piece = df.iloc[start : start + size].reset_index(drop=True)
        pq.write_table(pa.Table.from_pandas(piece, preserve_index=False), root / f"part-{i:02}.parquet")
        pieces.append(piece)
        start += size
    return pieces


def close(a, b, tol=1e-10):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    assert np.all(np.abs(a - b) <= tol * (1 + np.abs(b))), (a, b, np.max(np.abs(a - b)))


@pytest.mark.parametrize(
    "kind,model_file", [("logistic", "logistic_regression.fim"), ("poisson", "poisson_regression.fim")]
)
def test_a_fit_on_the_cluster_is_the_single_process_fit(client, tmp_path, kind, model_file):
    m = fimkit.Model.from_file(EXAMPLES / model_file)
    df = regression(kind, sum(SIZES), seed=7)
    write_parts(df, tmp_path / kind)
    ddf = dd.read_parquet(str(tmp_path / kind))
    assert ddf.npartitions >= 4  # several partitions really travel to the workers

    one = m.fit(df)
    many = fimkit.dask.fit(m, ddf, client=client)
    assert one.converged and many.converged
    assert many.iterations == one.iterations
    assert many.nobs == one.nobs == len(df)
    assert many.param_names == one.param_names
    close(many.params, one.params)
    close(many.bse, one.bse)
    close(many.cov, one.cov)
    close(many.bse_observed, one.bse_observed)
    close(many.information, one.information)
    close(many.loglik, one.loglik)
    close([many.aic, many.bic], [one.aic, one.bic])
    assert many.stop_reason == one.stop_reason
    # The report: the same, less the deviance (it needs the rows).
    want = [line for line in one.summary().splitlines() if "deviance" not in line]
    assert len(want) < len(one.summary().splitlines())
    assert many.summary().splitlines() == want

    # Newton's method too (observed information with every step).
    close(fimkit.dask.fit(m, ddf, method="newton", client=client).params, m.fit(df, method="newton").params)


def test_the_information_on_the_cluster_is_the_single_process_one(client, tmp_path):
    m = fimkit.Model.from_file(EXAMPLES / "logistic_regression.fim")
    df = regression("logistic", sum(SIZES), seed=11)
    write_parts(df, tmp_path / "info")
    ddf = dd.read_parquet(str(tmp_path / "info"))
    theta = {"b0": 0.2, "b1": -1.0, "b2": 0.4}
    one = m.fisher_information(theta, df)
    many = fimkit.dask.fisher_information(m, theta, ddf, client=client)
    close(many.value, one.value)
    assert many.method == one.method == "closed form" and many.tier == 1
    assert many.params == one.params
    assert many.rows == one.rows == (len(df), len(df))


def test_a_numeric_information_adds_values_and_errors(client, tmp_path):
    # No closed form: each partition integrates numerically, with errors.
    m = fimkit.Model(
        "param mu : real\nparam s : positive\ndata x : real\n"
        "logp += -log(pi) - log(s) - log(1 + ((x - mu)/s)^2)\n"
    )
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.standard_cauchy(size=sum(SIZES))})
    write_parts(df, tmp_path / "cauchy")
    ddf = dd.read_parquet(str(tmp_path / "cauchy"))
    one = m.fisher_information([0.0, 2.0], df)
    many = fimkit.dask.fisher_information(m, [0.0, 2.0], ddf, client=client)
    assert not many.is_closed_form and many.method == one.method
    close(many.value, one.value)
    close(many.error, one.error, tol=1e-6)


def test_errors_are_the_single_process_errors(client, tmp_path):
    m = fimkit.Model.from_file(EXAMPLES / "logistic_regression.fim")
    df = regression("logistic", sum(SIZES), seed=5)
    # A value outside the support in the fourth file: its row is counted
    # in the whole dataset, as in one process.
    bad = df.copy()
    bad.loc[2100, "y"] = 2.0
    write_parts(bad, tmp_path / "bad")
    ddf = dd.read_parquet(str(tmp_path / "bad"))
    with pytest.raises(fimkit.FimkitError) as single:
        m.fit(bad)
    with pytest.raises(type(single.value)) as distributed:
        fimkit.dask.fit(m, ddf, client=client)
    assert str(distributed.value) == str(single.value)
    assert "2101" in str(single.value)

    # A missing column.
    write_parts(df, tmp_path / "good")
    ddf = dd.read_parquet(str(tmp_path / "good")).drop(columns=["z2"])
    with pytest.raises(fimkit.FimkitError) as single:
        m.fit(df.drop(columns=["z2"]))
    with pytest.raises(type(single.value)) as distributed:
        fimkit.dask.fit(m, ddf, client=client)
    assert str(distributed.value) == str(single.value)
    with pytest.raises(type(single.value)):
        fimkit.dask.fisher_information(m, [0.0, 0.0, 0.0], ddf, client=client)

    # Not a dask DataFrame.
    with pytest.raises(fimkit.ArgumentError, match="dask DataFrame"):
        fimkit.dask.fit(m, df, client=client)


def test_a_model_pickles_as_its_source():
    m = fimkit.Model.from_file(EXAMPLES / "logistic_regression.fim")
    again = pickle.loads(pickle.dumps(m))
    assert again.params == m.params and again.inputs == m.inputs and again.name == m.name
    assert again.source == m.source == (EXAMPLES / "logistic_regression.fim").read_text()
    assert again.derive() == m.derive()


def test_an_unaligned_buffer_is_read():
    # What unpickling can give a worker: float64 values at an odd address.
    m = fimkit.Model("param l : positive\ndata k : count\nk ~ poisson(l)\n")
    raw = np.zeros(8 * 10 + 1, dtype=np.uint8)
    k = np.frombuffer(raw.data, dtype=np.float64, offset=1, count=10)
    assert not k.flags.aligned
    assert m.log_density([1.0], {"k": k}, reduce=True) == -10.0
