"""Fits and Fisher information over a Dask DataFrame, the data staying on
the workers.

Every quantity a fit sums over rows — the log-likelihood, its gradient,
the expected and the observed information, the design's Gram matrix — is
a sum over partitions. :func:`fit` keeps each partition on the worker
that holds it (prepared once for the whole fit), and for every pass of
the fit asks each worker for its partitions' sums at θ: only θ goes out,
only numbers, d-vectors and d×d matrices come back. The client adds them
in partition order and takes the step — the library's own fit
(``fimkit::fit::fit_summed``): the same Fisher-scoring iteration, line
search, restart, convergence test and standard errors as
:meth:`fimkit.Model.fit`, so the numbers are those of a fit of the whole
dataset in one process up to the order of the additions::

    import dask.dataframe as dd
    from distributed import Client
    import fimkit, fimkit.dask

    client = Client("tcp://scheduler:8786")   # or Client() on one machine
    ddf = dd.read_parquet("s3://bucket/data/*.parquet")
    m = fimkit.Model.from_file("logistic.fim")
    fit = fimkit.dask.fit(m, ddf)
    print(fit.summary())

The workers need the ``fimkit`` package (the same version); the model
travels as its source text.

Not available in parts, because they need the rows themselves: the
deviance (a saturated and a null fit; the result has none and
``summary()`` prints no deviance lines) and the separation probe on a
0/1 design (a separated dataset still fails, with the same explanation,
through the check for a log-likelihood that rises without bound).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, Optional

import numpy as np

from . import ArgumentError, FisherInformation, FitError, FitResult, Model, Theta, _columns

__all__ = ["fit", "fisher_information"]

# Worker side: the models by (source, name) and the prepared partitions
# of the fits under way by (fit, partition), in each worker process.
_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str], Model] = {}
_PARTS: dict[tuple[str, int], Any] = {}


def _model(spec: tuple[str, str]) -> Model:
    with _LOCK:
        m = _MODELS.get(spec)
    if m is None:
        m = Model(spec[0], spec[1])
        with _LOCK:
            _MODELS[spec] = m
    return m


def _spec(model: Model) -> tuple[str, str]:
    """What a worker rebuilds the model from: its source and name."""
    source, name = model._m.__reduce__()[1]
    return (source, name)


def _prepare(frame: Any, spec: tuple[str, str], fit_id: str, index: int, first_row: int) -> str:
    """Worker: prepare a partition for the fit ``fit_id`` (kept until the
    fit ends); its information kind, which every partition must share."""
    m = _model(spec)
    part = m._m.part(_columns(frame, m.inputs, first_row), first_row)
    with _LOCK:
        _PARTS[(fit_id, index)] = part
    return part.information_kind


def _sums(
    frame: Any,
    spec: tuple[str, str],
    fit_id: str,
    index: int,
    first_row: int,
    theta: np.ndarray,
    want: tuple[bool, bool, bool, bool, bool],
) -> tuple:
    """Worker: a partition's sums at θ (prepared again if the partition
    moved to a worker that has not seen it)."""
    with _LOCK:
        part = _PARTS.get((fit_id, index))
    if part is None:
        _prepare(frame, spec, fit_id, index, first_row)
        with _LOCK:
            part = _PARTS[(fit_id, index)]
    return part.sums(np.array(theta, dtype=np.float64), *want)


def _forget(fit_id: str) -> None:
    """Worker: drop a finished fit's partitions."""
    with _LOCK:
        for key in [k for k in _PARTS if k[0] == fit_id]:
            del _PARTS[key]


def _information(frame: Any, spec: tuple[str, str], first_row: int, theta: np.ndarray) -> tuple:
    """Worker: a partition's Fisher information at θ, as plain values."""
    m = _model(spec)
    cols = _columns(frame, m.inputs, first_row)
    f = m._m.fisher_information(np.array(theta, dtype=np.float64), cols)
    return (f.value, f.error, f.tier, f.method, f.warnings, f.rows)


def _client(client: Any) -> Any:
    if client is not None:
        return client
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        raise ArgumentError(
            "fimkit.dask needs a distributed Client: start one (`Client()` on this "
            "machine, `Client(\"tcp://scheduler:8786\")` for a cluster) or pass client="
        ) from None


def _frames(
    client: Any, ddf: Any, names: list[str]
) -> tuple[list[Any], list[int], list[int], list[list[str]]]:
    """The partitions of ``ddf``'s columns ``names``, computed on the
    workers and kept there (futures, in partition order), the row each
    starts at (from 0), their lengths and the workers holding each (where
    every task on a partition is then sent: the rows do not move)."""
    frames = client.compute(ddf[names].to_delayed())
    lengths = [int(n) for n in client.gather([client.submit(len, f, pure=False) for f in frames])]
    first = [sum(lengths[:i]) for i in range(len(lengths))]
    who = client.who_has(frames)
    where = [list(who.get(f.key, ())) or None for f in frames]
    return frames, first, lengths, where


def _at(where: Any) -> dict[str, Any]:
    """Run where the partition is (anywhere if that worker is gone)."""
    return {"workers": where, "allow_other_workers": True} if where else {}


def _meta(ddf: Any) -> Any:
    meta = getattr(ddf, "_meta", None)
    if meta is None or not hasattr(ddf, "to_delayed"):
        raise ArgumentError(
            f"data of type {type(ddf).__name__}: give a dask DataFrame "
            "(e.g. dask.dataframe.read_parquet)"
        )
    return meta


class _Source:
    """The sums over every partition at θ, for the native fit."""

    def __init__(self, client: Any, ddf: Any, model: Model, kind: str) -> None:
        self.client = client
        self.spec = _spec(model)
        self.fit_id = uuid.uuid4().hex
        self.frames, self.first, _, self.where = _frames(client, ddf, [n for n in model.inputs if n in ddf.columns])
        try:
            kinds = client.gather(
                [
                    client.submit(_prepare, f, self.spec, self.fit_id, i, r, pure=False, **_at(w))
                    for i, (f, r, w) in enumerate(zip(self.frames, self.first, self.where))
                ]
            )
        except BaseException:
            self.close()
            raise
        for i, k in enumerate(kinds):
            if k != kind:
                self.close()
                raise FitError(
                    f"partition {i} computes the information as `{k}`, the model as "
                    f"`{kind}`: this dataset cannot be fitted in parts; fit it in one "
                    "process (Model.fit)"
                )

    def __call__(self, theta: np.ndarray, want: tuple[bool, bool, bool, bool, bool]) -> tuple:
        c = self.client
        t = [float(v) for v in theta]  # θ travels as d numbers
        parts = c.gather(
            [
                c.submit(_sums, f, self.spec, self.fit_id, i, r, t, want, pure=False, **_at(w))
                for i, (f, r, w) in enumerate(zip(self.frames, self.first, self.where))
            ]
        )
        # Added in partition order: the same total every time.
        n, ll, g, e, o, gram = parts[0]
        for p in parts[1:]:
            n += p[0]
            ll = None if ll is None else ll + p[1]
            g = None if g is None else g + p[2]
            e = None if e is None else e + p[3]
            o = None if o is None else o + p[4]
            gram = None if gram is None else gram + p[5]
        return (n, ll, g, e, o, gram)

    def close(self) -> None:
        try:
            self.client.run(_forget, self.fit_id)
        finally:
            self.client.cancel(self.frames)


def fit(
    model: Model,
    ddf: Any,
    method: str = "scoring",
    init: Optional[Theta] = None,
    tol: Optional[float] = None,
    max_iter: Optional[int] = None,
    client: Any = None,
) -> FitResult:
    """Maximum likelihood over a dask DataFrame, as :meth:`fimkit.Model.fit`
    (same arguments and result) with the data on the workers.

    Each partition is read once and kept, with the model, on the worker
    that read it; each pass of the fit sends θ to every partition and
    brings back its sums, which the client adds in partition order before
    the step. ``client``: the ``distributed.Client`` (default: the current
    one). The result has no deviance (see the module docs).

    Raises what :meth:`fimkit.Model.fit` raises, with the same messages
    (a row is counted in the whole dataset, in partition order).
    """
    client = _client(client)
    meta = _meta(ddf)
    # The whole dataset's columns with no rows: the single-process checks
    # (a missing column, a column that is not numbers) before any work.
    columns = model._data(meta)
    template = model._m.part(columns, 0)
    start = None if init is None else model.theta(init)
    source = _Source(client, ddf, model, template.information_kind)
    try:
        return model._m.fit_summed(columns, source, method, start, tol, max_iter)
    finally:
        source.close()


def fisher_information(model: Model, theta: Theta, ddf: Any, client: Any = None) -> FisherInformation:
    """The Fisher information at θ summed over a dask DataFrame's rows, as
    :meth:`fimkit.Model.fisher_information` with data: each partition's on
    its worker (the closed form summed, or each distinct covariate row
    numerically), the values and error estimates added on the client."""
    client = _client(client)
    meta = _meta(ddf)
    t = model.theta(theta)
    model._data(meta)  # columns that are not numbers, before any work
    names = [n for n in model.inputs if n in ddf.columns]
    frames, first, lengths, where = _frames(client, ddf, names)
    spec = _spec(model)
    # Partitions with rows (an empty one has no information to add, and
    # says so in its method).
    try:
        parts = client.gather(
            [
                client.submit(_information, f, spec, r, t.tolist(), pure=False, **_at(w))
                for f, r, n, w in zip(frames, first, lengths, where)
                if n > 0
            ]
        )
    finally:
        client.cancel(frames)
    if not parts:
        raise ArgumentError("the dask DataFrame has no rows")
    return FisherInformation._sum(model.params, parts)
