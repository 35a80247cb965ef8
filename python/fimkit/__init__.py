"""fimkit: Fisher information from a model file.

A model file (the fimkit language) is parsed and checked once; then you ask
for exact log-densities, scores and Hessians over data, the derived formulas
(score, Hessian, closed-form Fisher information), the Fisher information at
a point (closed form where there is one, else numeric, with its error) and
maximum-likelihood fits with standard errors::

    import fimkit, pandas as pd
    m = fimkit.Model.from_file("logistic.fim")
    df = pd.read_parquet("data.parquet")
    fit = m.fit(df)
    print(fit.summary())

Data is a dict of NumPy arrays, a pandas DataFrame or a pyarrow Table (or a
NumPy structured array), with a column for each of the model's inputs
(``model.inputs``); other columns are ignored. float64 columns stored
contiguously are not copied: the native module reads their buffers in place
(other columns are converted to float64 first). Computation runs with the
GIL released.

Every error is a :class:`FimkitError` (a ``ValueError``) carrying the
library's message; a model with errors raises :class:`ModelError` whose text
holds every diagnostic as ``file:line:col: error[code]: message`` with its
``help:``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, Union

import numpy as np

from . import _fimkit
from ._fimkit import (
    ArgumentError,
    DataError,
    EvaluationError,
    FimkitError,
    FisherInformation,
    FitError,
    FitResult,
    ModelError,
    NumericFimError,
)

__all__ = [
    "Model",
    "FisherInformation",
    "FitResult",
    "FimkitError",
    "ModelError",
    "ArgumentError",
    "DataError",
    "EvaluationError",
    "NumericFimError",
    "FitError",
    "sympify",
]
__version__: str = _fimkit.__version__

Theta = Union[Mapping[str, float], Sequence[float], np.ndarray]
Data = Any  # dict of arrays | pandas.DataFrame | pyarrow.Table | structured ndarray


def _float_column(values: Any, name: str) -> np.ndarray:
    """A 1-D contiguous float64 array; the same buffer when it already is one."""
    a = np.asarray(values)
    if a.dtype != np.float64:
        if a.dtype.kind not in "fiub":
            raise DataError(
                f"column `{name}` has values of type {a.dtype}, not numbers"
            )
        a = a.astype(np.float64)
    if a.ndim != 1:
        raise ArgumentError(
            f"column `{name}` has shape {a.shape}: give one value a row (1-D)"
        )
    a = np.ascontiguousarray(a)
    if not a.flags.aligned:
        # A buffer at an address that is not a multiple of 8 (an
        # unpickled or memory-mapped one) cannot be read in place.
        a = a.copy()
    return a


def _arrow_column(table: Any, name: str, first_row: int = 0) -> np.ndarray:
    col = table.column(name)
    if col.null_count:
        # The first missing value, by row (counted from 1, as the CLI does).
        mask = np.concatenate(
            [c.is_null().to_numpy(zero_copy_only=False) for c in col.chunks]
        )
        row = int(np.argmax(mask)) + 1 + first_row
        raise DataError(
            f"column `{name}`, row {row}: the value is missing "
            f"({col.null_count} missing in all)"
        )
    chunks = [c.to_numpy(zero_copy_only=False) for c in col.chunks]
    if not chunks:
        return np.zeros(0)
    values = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    return _float_column(values, name)


def _columns(
    data: Data, names: Sequence[str], first_row: int = 0
) -> list[tuple[str, np.ndarray]]:
    """The columns of ``names`` that ``data`` has, as float64 arrays.
    ``first_row``: rows before ``data`` in a larger dataset (a partition's
    place), added to the row a message names."""
    if data is None:
        raise ArgumentError("no data")
    module = type(data).__module__.split(".")[0]
    out: list[tuple[str, np.ndarray]] = []
    if module == "pyarrow" and hasattr(data, "column_names"):
        have = set(data.column_names)
        for n in names:
            if n in have:
                out.append((n, _arrow_column(data, n, first_row)))
        return out
    if module == "pandas" and hasattr(data, "columns"):
        have = set(map(str, data.columns))
        for n in names:
            if n in have:
                col = data[n]
                if str(col.dtype) not in ("float64",) and col.hasnans:
                    row = int(np.argmax(col.isna().to_numpy())) + 1 + first_row
                    raise DataError(f"column `{n}`, row {row}: the value is missing")
                try:
                    values = col.to_numpy(dtype=np.float64, copy=False)
                except (TypeError, ValueError) as e:
                    raise DataError(f"column `{n}`: {e}") from None
                out.append((n, _float_column(values, n)))
        return out
    if isinstance(data, np.ndarray) and data.dtype.names:
        for n in names:
            if n in data.dtype.names:
                out.append((n, _float_column(data[n], n)))
        return out
    if isinstance(data, Mapping):
        for n in names:
            if n in data:
                out.append((n, _float_column(data[n], n)))
        return out
    raise ArgumentError(
        f"data of type {type(data).__name__}: give a dict of arrays, a pandas "
        "DataFrame or a pyarrow Table"
    )


class Model:
    """A checked model: parse and resolve once, then ask for anything.

    ``Model(source)`` reads a model from a string, ``Model.from_file(path)``
    from a file. Parameter vectors are in the order of :attr:`params`; a
    parameter point may also be a dict by name.
    """

    _m: _fimkit.Model

    def __init__(self, source: str, name: str = "model") -> None:
        """Parse and check a model source; ``name`` appears in messages.

        Raises :class:`ModelError` (with ``line:col`` and help) on errors.
        """
        self._m = _fimkit.Model(source, name)

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike[str]]) -> "Model":
        """Read and check a model file (messages show the path)."""
        obj = cls.__new__(cls)
        obj._m = _fimkit.Model.from_file(os.fspath(path))
        return obj

    @property
    def name(self) -> str:
        """The model's name."""
        return self._m.name

    @property
    def source(self) -> str:
        """The model's source text (what a pickle of the model carries)."""
        return self._m.source

    @property
    def params(self) -> list[str]:
        """Parameter names: the order of every parameter vector."""
        return self._m.params

    @property
    def inputs(self) -> list[str]:
        """Input names (data variables, then covariates): the columns data needs."""
        return self._m.inputs

    @property
    def covariates(self) -> list[str]:
        """Covariate names: the columns a design needs."""
        return self._m.covariates

    @property
    def warnings(self) -> list[str]:
        """Warnings found while reading the model."""
        return self._m.warnings

    def __repr__(self) -> str:
        return f"fimkit.Model({self.name!r}, params={self.params}, inputs={self.inputs})"

    # -- formulas ---------------------------------------------------------

    def derive(self) -> dict[str, Any]:
        """The derivation as the ``fimkit derive --format json`` document.

        ``score``, ``hessian`` and ``fim`` hold ASCII expression strings
        (``^`` for powers; ``sympy.sympify`` reads them), ``fim`` is absent
        and ``fim_blocker`` says why when there is no closed form;
        ``formulas`` holds every expression with its text, Unicode, LaTeX
        and tree.
        """
        return json.loads(self._m.derive_json())

    def derive_latex(self, standalone: bool = False) -> str:
        """The derivation in LaTeX (``align*``), or a whole document."""
        return self._m.derive_latex(standalone)

    # -- numbers ----------------------------------------------------------

    def theta(self, values: Theta) -> np.ndarray:
        """A parameter vector (float64, in :attr:`params` order) from a dict
        by name or a sequence; a dict is checked against the domains."""
        if isinstance(values, Mapping):
            return self._m.theta([(str(k), float(v)) for k, v in values.items()])
        a = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
        if a.ndim != 1:
            raise ArgumentError(f"theta has shape {a.shape}: give a 1-D vector")
        return a

    def _data(self, data: Data) -> list[tuple[str, np.ndarray]]:
        return _columns(data, self.inputs)

    def log_density(self, theta: Theta, data: Data, reduce: bool = False) -> Union[np.ndarray, float]:
        """``log p(x_i; θ)`` for every row (shape ``(n,)``), or with
        ``reduce=True`` the log-likelihood, their sum."""
        t, cols = self.theta(theta), self._data(data)
        if reduce:
            return self._m.sums(t, cols)[1]
        return self._m.rows(t, cols, False, False)[0]

    def score(self, theta: Theta, data: Data, reduce: bool = False) -> np.ndarray:
        """The exact score ``∇_θ log p(x_i; θ)`` for every row (shape
        ``(n, d)``), or with ``reduce=True`` its sum (shape ``(d,)``)."""
        t, cols = self.theta(theta), self._data(data)
        if reduce:
            return self._m.sums(t, cols)[2]
        return self._m.rows(t, cols, True, False)[1]

    def hessian(self, theta: Theta, data: Data, reduce: bool = False) -> np.ndarray:
        """The exact Hessian ``∇²_θ log p(x_i; θ)`` for every row (shape
        ``(n, d, d)``), or with ``reduce=True`` its sum (``(d, d)``, minus
        the observed information)."""
        t, cols = self.theta(theta), self._data(data)
        if reduce:
            return self._m.sums(t, cols)[3]
        return self._m.rows(t, cols, False, True)[2]

    def derivatives(
        self, theta: Theta, data: Data
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every row's log-density ``(n,)``, score ``(n, d)`` and Hessian
        ``(n, d, d)`` in one pass over the data (what ``log_density``,
        ``score`` and ``hessian`` give one at a time)."""
        v, g, h = self._m.rows(self.theta(theta), self._data(data), True, True)
        return v, g, h

    def fisher_information(self, theta: Theta, data: Data = None) -> FisherInformation:
        """The Fisher information at θ.

        Without data: of one observation (a model with covariates needs
        data). With data: summed over its rows — the closed form summed, or
        each distinct covariate row numerically; responses are not used, so
        a design of the covariates alone will do. The result's ``method``
        says how it was computed ("closed form", or the numeric rule) and
        ``error`` holds each entry's error estimate (zeros for a closed
        form).
        """
        t = self.theta(theta)
        if data is None:
            return self._m.fisher_information(t, None)
        return self._m.fisher_information(t, self._data(data))

    def fit(
        self,
        data: Data,
        method: str = "scoring",
        init: Theta | None = None,
        tol: float | None = None,
        max_iter: int | None = None,
    ) -> FitResult:
        """Maximum likelihood over ``data``.

        ``method``: ``"scoring"`` (Fisher scoring, the default),
        ``"natural"`` (natural gradient with a KL trust region),
        ``"newton"`` (observed information) or ``"gd"``. ``init`` is a
        starting point (dict or vector), ``tol`` the convergence tolerance
        on the Newton decrement, ``max_iter`` the most steps. A fit that
        fails (separation, a supremum on the boundary, no maximum) raises
        :class:`FitError`; one that stops early has ``converged`` False.
        """
        cols = self._data(data)
        start = None if init is None else self.theta(init)
        return self._m.fit(cols, method, start, tol, max_iter)


_INDEXED = None


def sympify(text: str) -> Any:
    """A fimkit expression string (``Model.derive()``'s ASCII formulas) as a
    SymPy expression whose symbols are named as in the model.

    This is ``sympy.sympify`` with fimkit's names and functions in its
    namespace: ``alpha[1]`` becomes the symbol ``alpha[1]``, a name that is a
    Python keyword (``lambda``) the symbol of that name; ``sigmoid``,
    ``Phi``, ``lgamma``, ``digamma``, ``trigamma``, ``polygamma``,
    ``lbeta``, ``besseli``, ``indicator``, ``abs``, ``eulergamma``, ``e``
    and ``pi`` their SymPy meanings. Needs SymPy.
    """
    import keyword
    import re

    import sympy as sp

    x, y = sp.symbols("x y")
    names: dict[str, Any] = {
        "sigmoid": sp.Lambda(x, 1 / (1 + sp.exp(-x))),
        "Phi": sp.Lambda(x, (1 + sp.erf(x / sp.sqrt(2))) / 2),
        "lgamma": sp.loggamma,
        "digamma": sp.digamma,
        "trigamma": sp.Lambda(x, sp.polygamma(1, x)),
        "polygamma": sp.polygamma,
        "lbeta": sp.Lambda((x, y), sp.log(sp.beta(x, y))),
        "besseli": sp.besseli,
        "indicator": sp.Lambda((x, y), sp.Piecewise((1, sp.Eq(x, y)), (0, True))),
        "abs": sp.Abs,
        "log1p": sp.Lambda(x, sp.log(1 + x)),
        "expm1": sp.Lambda(x, sp.exp(x) - 1),
        "eulergamma": sp.EulerGamma,
        "e": sp.E,
        "pi": sp.pi,
    }
    # Indexed names and Python keywords: a placeholder each, bound to the
    # symbol of the model's name.
    counter = [0]

    def placeholder(name: str) -> str:
        key = f"_fimkit_name_{counter[0]}"
        counter[0] += 1
        names[key] = sp.Symbol(name)
        return key

    text = re.sub(
        r"\b([A-Za-z_][A-Za-z_0-9]*\[[0-9, ]+\])",
        lambda m: placeholder(m.group(1).replace(" ", "")),
        text,
    )
    # Every other name not called is a symbol, so that `beta`, `gamma`, `E`
    # or `S` are the model's names and not SymPy's functions or singletons.
    constants = {"pi", "e", "eulergamma"}

    def symbol(m: "re.Match[str]") -> str:
        name = m.group(1)
        if name.startswith("_fimkit_name_") or name in constants:
            return name
        if keyword.iskeyword(name):
            return placeholder(name)
        names.setdefault(name, sp.Symbol(name))
        return name

    text = re.sub(r"\b([A-Za-z_][A-Za-z_0-9]*)\b(?!\s*\()", symbol, text)
    return sp.sympify(text, locals=names, convert_xor=True)
