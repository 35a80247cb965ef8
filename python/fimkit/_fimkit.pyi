"""Type stubs of fimkit's native module (python/src/lib.rs)."""

from typing import Callable, Optional

import numpy as np
import numpy.typing as npt

__version__: str

class FimkitError(ValueError): ...
class ModelError(FimkitError): ...
class ArgumentError(FimkitError): ...
class DataError(FimkitError): ...
class EvaluationError(FimkitError): ...
class NumericFimError(FimkitError): ...
class FitError(FimkitError): ...

Columns = list[tuple[str, npt.NDArray[np.float64]]]

class Model:
    def __init__(self, source: str, name: str = "model") -> None: ...
    @staticmethod
    def from_file(path: str) -> Model: ...
    @property
    def name(self) -> str: ...
    @property
    def params(self) -> list[str]: ...
    @property
    def inputs(self) -> list[str]: ...
    @property
    def covariates(self) -> list[str]: ...
    @property
    def warnings(self) -> list[str]: ...
    def theta(self, values: list[tuple[str, float]]) -> npt.NDArray[np.float64]: ...
    def derive_json(self) -> str: ...
    def derive_latex(self, standalone: bool = False) -> str: ...
    def rows(
        self, theta: npt.NDArray[np.float64], columns: Columns, score: bool, hessian: bool
    ) -> tuple[
        npt.NDArray[np.float64],
        Optional[npt.NDArray[np.float64]],
        Optional[npt.NDArray[np.float64]],
    ]: ...
    def sums(
        self, theta: npt.NDArray[np.float64], columns: Columns
    ) -> tuple[int, float, npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    def fisher_information(
        self, theta: npt.NDArray[np.float64], columns: Optional[Columns] = None
    ) -> FisherInformation: ...
    def fit(
        self,
        columns: Columns,
        method: str = "scoring",
        init: Optional[npt.NDArray[np.float64]] = None,
        tol: Optional[float] = None,
        max_iter: Optional[int] = None,
    ) -> FitResult: ...
    @property
    def source(self) -> str:
        """The source text (a pickle carries it and the name)."""
    def part(self, columns: Columns, first_row: int = 0) -> Part:
        """One part of a dataset (its rows counted from ``first_row`` in
        messages), prepared for a fit in parts (``fimkit.dask``)."""
    def fit_summed(
        self,
        columns: Columns,
        sums: Callable[
            [npt.NDArray[np.float64], tuple[bool, bool, bool, bool, bool]], SumsTuple
        ],
        method: str = "scoring",
        init: Optional[npt.NDArray[np.float64]] = None,
        tol: Optional[float] = None,
        max_iter: Optional[int] = None,
    ) -> FitResult:
        """The library's fit over a dataset in parts: ``columns`` with no
        rows, ``sums(theta, (loglik, gradient, expected, observed, gram))``
        every part's ``Part.sums`` added. An exception of ``sums`` is raised
        as it was."""

# (rows, loglik, gradient, expected information, observed information,
# design Gram): each None unless asked for.
SumsTuple = tuple[
    int,
    Optional[float],
    Optional[npt.NDArray[np.float64]],
    Optional[npt.NDArray[np.float64]],
    Optional[npt.NDArray[np.float64]],
    Optional[npt.NDArray[np.float64]],
]

class Part:
    """One part of a dataset for a fit in parts (``Model.part``)."""
    @property
    def n_rows(self) -> int: ...
    @property
    def information_kind(self) -> str:
        """How the part computes the expected information."""
    def sums(
        self,
        theta: npt.NDArray[np.float64],
        loglik: bool = False,
        gradient: bool = False,
        expected: bool = False,
        observed: bool = False,
        gram: bool = False,
    ) -> SumsTuple:
        """The part's sums at θ, each None unless asked for."""

class FisherInformation:
    """A Fisher information with how it was computed."""
    @staticmethod
    def _sum(params: list[str], parts: list[tuple]) -> FisherInformation:
        """The parts' values and errors added (``fimkit.dask``)."""
    @property
    def value(self) -> npt.NDArray[np.float64]:
        """F(θ), d×d, in the order of ``params``."""
    @property
    def error(self) -> npt.NDArray[np.float64]:
        """Error estimate of each entry (zeros for a closed form)."""
    @property
    def method(self) -> str:
        """"closed form", or the numeric rule used."""
    @property
    def tier(self) -> int:
        """1 closed form, 2 location–scale, 3 numeric."""
    @property
    def is_closed_form(self) -> bool: ...
    @property
    def params(self) -> list[str]: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def rows(self) -> Optional[tuple[int, int]]:
        """Summed over data: (rows, distinct covariate rows computed)."""
    def cramer_rao(self) -> Optional[npt.NDArray[np.float64]]:
        """F⁻¹, or None when F is not positive definite."""

class FitResult:
    """A maximum-likelihood fit (statsmodels-like names)."""
    @property
    def params(self) -> npt.NDArray[np.float64]:
        """θ̂, in the order of ``param_names``."""
    @property
    def param_names(self) -> list[str]: ...
    @property
    def bse(self) -> npt.NDArray[np.float64]:
        """Standard errors √diag(cov); NaN only where the information is not positive definite."""
    @property
    def bse_observed(self) -> npt.NDArray[np.float64]:
        """Standard errors from the observed information."""
    @property
    def cov(self) -> Optional[npt.NDArray[np.float64]]:
        """I(θ̂)⁻¹, or None when not positive definite."""
    @property
    def information(self) -> npt.NDArray[np.float64]:
        """The expected information at θ̂, summed over the rows."""
    @property
    def observed_information(self) -> npt.NDArray[np.float64]: ...
    @property
    def loglik(self) -> float: ...
    @property
    def converged(self) -> bool:
        """True only if the gradient test holds at θ̂."""
    @property
    def iterations(self) -> int: ...
    @property
    def stop_reason(self) -> str: ...
    @property
    def nobs(self) -> int: ...
    @property
    def method(self) -> str: ...
    @property
    def aic(self) -> float: ...
    @property
    def bic(self) -> float: ...
    def summary(self, ascii: bool = False) -> str:
        """The report ``fimkit fit`` prints."""
    def to_json(self) -> str:
        """The ``fimkit fit --format json`` document."""
