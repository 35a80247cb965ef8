//! `fimkit._fimkit`: the native half of the `fimkit` Python package, a thin
//! layer over the library's front door ([`fimkit::Model`]). The Python half
//! (`python/fimkit/__init__.py`) turns dicts, pandas DataFrames and pyarrow
//! Tables into float64 columns; this half borrows those NumPy buffers (no
//! copy), builds the library's dataset from them with the GIL released,
//! and returns NumPy arrays that own the library's output vectors (no
//! copy either).
//!
//! Every library error becomes a Python exception whose text is the
//! library's message: a model error's `file:line:col: error[code]: ...`
//! lines with their `help:`.

use fimkit::fit::{
    FitConfig, FitError as LibFitError, FitResult, Method, PartSums, Problem, SumSource, Want,
};
use fimkit::numeric::{Dataset, NumericError};
use fimkit::render::fit::{FitTextOptions, fit_json, fit_text};
use fimkit::{Error, FisherInformation};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, ToPyArray};
use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use std::sync::Mutex;

create_exception!(
    fimkit,
    FimkitError,
    PyValueError,
    "Base of every fimkit error (a ValueError)."
);
create_exception!(
    fimkit,
    ModelError,
    FimkitError,
    "The model source has errors; the message holds each diagnostic as `file:line:col: error[code]: message`, with its help."
);
create_exception!(
    fimkit,
    ArgumentError,
    FimkitError,
    "An argument does not fit the model: a parameter point of the wrong length, an unknown or missing name, a value outside its domain, a missing column."
);
create_exception!(
    fimkit,
    DataError,
    FimkitError,
    "A data value is outside its support, missing or not a number (the row and column are named)."
);
create_exception!(
    fimkit,
    EvaluationError,
    FimkitError,
    "Exact evaluation failed: a non-finite value (the row, statement and subexpression are named)."
);
create_exception!(
    fimkit,
    NumericFimError,
    FimkitError,
    "The numeric Fisher information could not be computed."
);
create_exception!(
    fimkit,
    FitError,
    FimkitError,
    "A fit failed: no maximum, separation, a supremum on the boundary, a singular information."
);

/// The library's error as the matching Python exception, same text.
fn to_py(e: Error) -> PyErr {
    let text = e.to_string();
    match e {
        Error::Model(_) => ModelError::new_err(text),
        Error::Io { .. } => PyOSError::new_err(text),
        // A closed form that cannot be evaluated at the point: the point.
        Error::Argument(_) | Error::AtPoint(_) => ArgumentError::new_err(text),
        Error::Data(_) => DataError::new_err(text),
        // A point outside the domains, of the wrong length or with a wrong
        // name is the caller's argument; a value outside its support, data.
        Error::Evaluation(
            NumericError::Dimension { .. }
            | NumericError::OutsideDomain { .. }
            | NumericError::UnknownName { .. }
            | NumericError::MissingValue { .. },
        ) => ArgumentError::new_err(text),
        Error::Evaluation(NumericError::Input { .. }) => DataError::new_err(text),
        Error::Evaluation(_) => EvaluationError::new_err(text),
        Error::NumericFim(_) => NumericFimError::new_err(text),
        Error::NoClosedForm(_) => FimkitError::new_err(text),
        Error::Fit(_) => FitError::new_err(text),
        _ => FimkitError::new_err(text),
    }
}

/// A parameter vector from NumPy: contiguous float64, borrowed.
fn slice<'a>(a: &'a PyReadonlyArray1<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| ArgumentError::new_err(format!("{what}: not a contiguous float64 array")))
}

/// A matrix as a C-ordered NumPy array.
fn mat<'py>(py: Python<'py>, m: &fimkit::nalgebra::DMatrix<f64>) -> Bound<'py, PyArray2<f64>> {
    let (r, c) = m.shape();
    let rows: Vec<f64> = (0..r)
        .flat_map(|i| (0..c).map(move |j| m[(i, j)]))
        .collect();
    PyArray1::from_vec(py, rows)
        .reshape([r, c])
        .expect("r·c values make an r×c array")
}

/// Named columns, borrowed from their NumPy buffers.
type Columns<'py> = Vec<(String, PyReadonlyArray1<'py, f64>)>;

fn borrow<'a>(columns: &'a Columns<'_>) -> PyResult<Vec<(&'a str, &'a [f64])>> {
    columns
        .iter()
        .map(|(n, a)| Ok((n.as_str(), slice(a, &format!("column `{n}`"))?)))
        .collect()
}

/// A model file, parsed and checked once (see the Python `fimkit.Model`).
#[pyclass(module = "fimkit._fimkit", name = "Model", frozen)]
struct PyModel {
    inner: fimkit::Model,
    /// The source and the name it was read with: what a pickle carries
    /// (a Dask worker rebuilds the model from them).
    source: String,
    given_name: String,
}

#[pymethods]
impl PyModel {
    /// Parse and check a model source; `name` appears in messages.
    #[new]
    #[pyo3(signature = (source, name = "model"))]
    fn new(py: Python<'_>, source: &str, name: &str) -> PyResult<Self> {
        let inner = py
            .detach(|| fimkit::Model::from_source(source, name))
            .map_err(to_py)?;
        Ok(PyModel {
            inner,
            source: source.to_string(),
            given_name: name.to_string(),
        })
    }

    /// Read and check a model file.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        let (inner, source) = py
            .detach(|| {
                let inner = fimkit::Model::from_file(&path)?;
                let source = std::fs::read_to_string(&path).map_err(|error| Error::Io {
                    path: path.clone(),
                    error,
                })?;
                Ok::<_, Error>((inner, source))
            })
            .map_err(to_py)?;
        // The name `Model::from_file` gives: the file's stem.
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
        Ok(PyModel {
            inner,
            source,
            given_name: stem.to_string(),
        })
    }

    /// The model's source text.
    #[getter]
    fn source(&self) -> String {
        self.source.clone()
    }

    /// Pickled as its source and name: unpickling parses and checks it
    /// again (the compiled functions are rebuilt on first use).
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (Bound<'py, pyo3::types::PyType>, (String, String)) {
        let me = slf.get();
        (slf.get_type(), (me.source.clone(), me.given_name.clone()))
    }

    #[getter]
    fn name(&self) -> String {
        self.inner.name().to_string()
    }

    #[getter]
    fn params(&self) -> Vec<String> {
        self.inner.param_names()
    }

    #[getter]
    fn inputs(&self) -> Vec<String> {
        self.inner.input_names()
    }

    #[getter]
    fn covariates(&self) -> Vec<String> {
        self.inner.covariate_names()
    }

    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.inner
            .warnings()
            .iter()
            .map(|d| format!("warning[{}]: {}", d.code, d.message))
            .collect()
    }

    /// θ from (name, value) pairs, checked against the domains.
    fn theta<'py>(
        &self,
        py: Python<'py>,
        values: Vec<(String, f64)>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let named: Vec<(&str, f64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let t = self.inner.theta(&named).map_err(to_py)?;
        Ok(PyArray1::from_vec(py, t.as_slice().to_vec()))
    }

    /// The `fimkit derive --format json` document, as JSON text.
    fn derive_json(&self, py: Python<'_>) -> String {
        py.detach(|| {
            serde_json::to_string(&self.inner.derive_json()).expect("a JSON value serialises")
        })
    }

    /// The `fimkit derive --format latex` output.
    #[pyo3(signature = (standalone = false))]
    fn derive_latex(&self, py: Python<'_>, standalone: bool) -> String {
        py.detach(|| self.inner.derive_latex(standalone))
    }

    /// Every row's log-density, score (n×d) and Hessian (n×d×d); the score
    /// and Hessian are None unless asked.
    #[allow(clippy::type_complexity)]
    fn rows<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        columns: Columns<'py>,
        score: bool,
        hessian: bool,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Option<Bound<'py, PyAny>>,
        Option<Bound<'py, PyAny>>,
    )> {
        let t = slice(&theta, "theta")?;
        let cols = borrow(&columns)?;
        let r = py
            .detach(|| self.inner.rows_of_columns(t, &cols, score, hessian))
            .map_err(to_py)?;
        let (n, d) = (r.n_rows, r.n_params);
        let v = PyArray1::from_vec(py, r.log_density);
        let g = if score {
            Some(PyArray1::from_vec(py, r.score).reshape([n, d])?.into_any())
        } else {
            None
        };
        let h = if hessian {
            Some(
                PyArray1::from_vec(py, r.hessian)
                    .reshape([n, d, d])?
                    .into_any(),
            )
        } else {
            None
        };
        Ok((v, g, h))
    }

    /// Σ log p, Σ score and Σ Hessian over the rows, and the number of rows.
    #[allow(clippy::type_complexity)]
    fn sums<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        columns: Columns<'py>,
    ) -> PyResult<(
        usize,
        f64,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray2<f64>>,
    )> {
        let t = slice(&theta, "theta")?;
        let cols = borrow(&columns)?;
        let s = py
            .detach(|| {
                let data = self.inner.dataset(&cols)?;
                if t.len() != self.inner.param_names().len() {
                    // The length check with the library's message.
                    self.inner.rows(t, &data, false, false)?;
                }
                self.inner.sums(t, &data)
            })
            .map_err(to_py)?;
        Ok((
            s.n_rows,
            s.loglik,
            s.score.as_slice().to_pyarray(py),
            mat(py, &s.hessian),
        ))
    }

    /// The Fisher information at θ: of one observation (no columns), or
    /// summed over rows (the covariates' columns, or every input's).
    #[pyo3(signature = (theta, columns = None))]
    fn fisher_information<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        columns: Option<Columns<'py>>,
    ) -> PyResult<PyFisherInformation> {
        let t = slice(&theta, "theta")?;
        let cols = columns.as_ref().map(borrow).transpose()?;
        let f = py
            .detach(|| match &cols {
                None => self.inner.fisher_information(t),
                Some(cols) => {
                    let data = self.design(cols)?;
                    self.inner.fisher_information_over(t, &data)
                }
            })
            .map_err(to_py)?;
        Ok(PyFisherInformation { inner: f })
    }

    /// Maximum likelihood (see the Python `fimkit.Model.fit`).
    #[pyo3(signature = (columns, method = "scoring", init = None, tol = None, max_iter = None))]
    fn fit(
        &self,
        py: Python<'_>,
        columns: Columns<'_>,
        method: &str,
        init: Option<PyReadonlyArray1<'_, f64>>,
        tol: Option<f64>,
        max_iter: Option<usize>,
    ) -> PyResult<PyFitResult> {
        let config = self.fit_config(method, init, tol, max_iter)?;
        let cols = borrow(&columns)?;
        let r = py
            .detach(|| {
                let data = self.inner.dataset(&cols)?;
                self.inner.fit_with(data, &config)
            })
            .map_err(to_py)?;
        Ok(PyFitResult { inner: r })
    }

    /// One part of a dataset (rows `first_row + 1` on of the whole),
    /// prepared for the sums of a fit in parts ([`PyPart::sums`]): what a
    /// Dask worker keeps for its partition. Errors name rows of the whole.
    #[pyo3(signature = (columns, first_row = 0))]
    fn part(&self, py: Python<'_>, columns: Columns<'_>, first_row: usize) -> PyResult<PyPart> {
        let cols = borrow(&columns)?;
        let problem = py
            .detach(|| {
                let data = self.inner.dataset(&cols)?;
                Problem::new(self.inner.ir(), data).map_err(Error::from)
            })
            .map_err(|e| to_py(shifted(e, first_row)))?;
        Ok(PyPart { problem, first_row })
    }

    /// Maximum likelihood over a dataset in parts: `columns` are the
    /// whole dataset's columns with no rows (what the checks of names and
    /// types see), `sums(theta, want)` adds every part's
    /// [`PyPart::sums`] for `want` = (loglik, gradient, expected,
    /// observed, gram). The library's fit, step for step
    /// (`fimkit::fit::fit_summed`).
    #[pyo3(signature = (columns, sums, method = "scoring", init = None, tol = None, max_iter = None))]
    #[allow(clippy::too_many_arguments)]
    fn fit_summed(
        &self,
        py: Python<'_>,
        columns: Columns<'_>,
        sums: Py<PyAny>,
        method: &str,
        init: Option<PyReadonlyArray1<'_, f64>>,
        tol: Option<f64>,
        max_iter: Option<usize>,
    ) -> PyResult<PyFitResult> {
        let config = self.fit_config(method, init, tol, max_iter)?;
        let cols = borrow(&columns)?;
        let source = PySource {
            sums,
            failure: Mutex::new(None),
        };
        let r = py.detach(|| {
            let data = self.inner.dataset(&cols)?;
            let template = Problem::new(self.inner.ir(), data)?;
            fimkit::fit::fit_summed(&template, &source, &config).map_err(Error::from)
        });
        // A failure in the parts (a worker's exception) is raised as it was.
        if let Some(e) = source.failure.lock().ok().and_then(|mut f| f.take()) {
            return Err(e);
        }
        Ok(PyFitResult {
            inner: r.map_err(to_py)?,
        })
    }
}

/// An error in a part, with its rows counted in the whole dataset.
fn shifted(e: Error, rows: usize) -> Error {
    match e {
        Error::Data(mut d) => {
            d.shift_rows(rows);
            Error::Data(d)
        }
        Error::Evaluation(mut n) => {
            n.shift_rows(rows);
            Error::Evaluation(n)
        }
        Error::Fit(LibFitError::Numeric(mut n)) => {
            n.shift_rows(rows);
            Error::Fit(LibFitError::Numeric(n))
        }
        e => e,
    }
}

/// The sums of a dataset in parts, from a Python callable.
struct PySource {
    sums: Py<PyAny>,
    /// The callable's exception, raised once the fit has stopped.
    failure: Mutex<Option<PyErr>>,
}

/// What the callable returns: rows, ℓ, gradient, expected and observed
/// information, design Gram (each None unless asked for).
type SumsTuple<'py> = (
    usize,
    Option<f64>,
    Option<PyReadonlyArray1<'py, f64>>,
    Option<PyReadonlyArray2<'py, f64>>,
    Option<PyReadonlyArray2<'py, f64>>,
    Option<PyReadonlyArray2<'py, f64>>,
);

fn dmatrix(a: &PyReadonlyArray2<'_, f64>) -> fimkit::nalgebra::DMatrix<f64> {
    let v = a.as_array();
    let (r, c) = v.dim();
    fimkit::nalgebra::DMatrix::from_fn(r, c, |i, j| v[[i, j]])
}

impl SumSource for PySource {
    fn sums(
        &self,
        theta: &fimkit::nalgebra::DVector<f64>,
        want: Want,
    ) -> Result<PartSums, LibFitError> {
        Python::attach(|py| {
            let t = PyArray1::from_slice(py, theta.as_slice());
            let flags = (
                want.loglik,
                want.gradient,
                want.expected,
                want.observed,
                want.gram,
            );
            let got = self.sums.call1(py, (t, flags)).and_then(|r| {
                let (n, ll, g, e, o, gram): SumsTuple<'_> = r.bind(py).extract()?;
                Ok(PartSums {
                    n_rows: n,
                    loglik: ll,
                    gradient: g.map(|g| {
                        fimkit::nalgebra::DVector::from_iterator(
                            g.len().unwrap_or(0),
                            g.as_array().iter().copied(),
                        )
                    }),
                    expected: e.as_ref().map(dmatrix),
                    observed: o.as_ref().map(dmatrix),
                    gram: gram.as_ref().map(dmatrix),
                })
            });
            got.map_err(|e| {
                let text = e.to_string();
                if let Ok(mut f) = self.failure.lock() {
                    f.get_or_insert(e);
                }
                LibFitError::Config(format!("the sums over the parts failed: {text}"))
            })
        })
    }
}

/// One part of a dataset for a fit in parts (see `Model.part`).
#[pyclass(module = "fimkit._fimkit", name = "Part", frozen)]
struct PyPart {
    problem: Problem,
    first_row: usize,
}

#[pymethods]
impl PyPart {
    /// Rows in the part.
    #[getter]
    fn n_rows(&self) -> usize {
        use fimkit::fit::Objective;
        self.problem.n_rows()
    }

    /// How the part computes the expected information (every part of a
    /// dataset and the whole must say the same).
    #[getter]
    fn information_kind(&self) -> String {
        use fimkit::fit::Objective;
        self.problem.information_kind().describe()
    }

    /// The part's sums at θ: (rows, ℓ, gradient, expected information,
    /// observed information, design Gram), each None unless asked for.
    #[pyo3(signature = (theta, loglik = false, gradient = false, expected = false, observed = false, gram = false))]
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn sums<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        loglik: bool,
        gradient: bool,
        expected: bool,
        observed: bool,
        gram: bool,
    ) -> PyResult<(
        usize,
        Option<f64>,
        Option<Bound<'py, PyArray1<f64>>>,
        Option<Bound<'py, PyArray2<f64>>>,
        Option<Bound<'py, PyArray2<f64>>>,
        Option<Bound<'py, PyArray2<f64>>>,
    )> {
        let t = fimkit::nalgebra::DVector::from_column_slice(slice(&theta, "theta")?);
        let want = Want {
            loglik,
            gradient,
            expected,
            observed,
            gram,
        };
        let s = py
            .detach(|| self.problem.part_sums(&t, want))
            .map_err(|e| to_py(shifted(Error::Fit(e), self.first_row)))?;
        Ok((
            s.n_rows,
            s.loglik,
            s.gradient.map(|g| g.as_slice().to_pyarray(py)),
            s.expected.map(|m| mat(py, &m)),
            s.observed.map(|m| mat(py, &m)),
            s.gram.map(|m| mat(py, &m)),
        ))
    }
}

impl PyModel {
    /// A fit's options from the Python arguments, checked.
    fn fit_config(
        &self,
        method: &str,
        init: Option<PyReadonlyArray1<'_, f64>>,
        tol: Option<f64>,
        max_iter: Option<usize>,
    ) -> PyResult<FitConfig> {
        let method = match method {
            "scoring" | "fisher-scoring" => Method::FisherScoring,
            "natural" => Method::Natural,
            "newton" => Method::Newton,
            "gd" => Method::GradientDescent,
            other => {
                return Err(ArgumentError::new_err(format!(
                    "unknown method `{other}`: use \"scoring\", \"natural\", \"newton\" or \"gd\""
                )));
            }
        };
        let mut config = FitConfig {
            method,
            ..FitConfig::default()
        };
        if let Some(init) = &init {
            let t = slice(init, "init")?;
            let d = self.inner.param_names().len();
            if t.len() != d {
                return Err(ArgumentError::new_err(format!(
                    "init: the model has {d} parameters, {} values were given",
                    t.len()
                )));
            }
            config.init = Some(fimkit::nalgebra::DVector::from_column_slice(t));
        }
        if let Some(tol) = tol {
            if !(tol > 0.0 && tol.is_finite()) {
                return Err(ArgumentError::new_err(format!(
                    "tol = {tol}: give a positive tolerance"
                )));
            }
            config.tol = tol;
        }
        if let Some(m) = max_iter {
            config.max_iter = m;
        }
        Ok(config)
    }

    /// The rows a Fisher information is summed over: every input when all
    /// are given (a model without covariates needs them to count its
    /// rows), else the covariates alone.
    fn design(&self, cols: &[(&str, &[f64])]) -> Result<Dataset, Error> {
        let inputs = self.inner.input_names();
        let covariates = self.inner.covariate_names();
        let has = |n: &String| cols.iter().any(|(c, _)| c == n);
        if inputs.iter().all(has) {
            let mine: Vec<(&str, &[f64])> = cols
                .iter()
                .filter(|(c, _)| inputs.iter().any(|n| n == c))
                .copied()
                .collect();
            return self.inner.dataset(&mine);
        }
        if covariates.is_empty() {
            return Err(Error::Argument(fimkit::ArgumentError::Other(format!(
                "the model has no covariates: give data with every input ({}) to sum the \
                 information over its rows, or no data for one observation's",
                inputs.join(", ")
            ))));
        }
        let mine: Vec<(&str, &[f64])> = cols
            .iter()
            .filter(|(c, _)| covariates.iter().any(|n| n == c))
            .copied()
            .collect();
        self.inner.design(&mine)
    }
}

/// A Fisher information with how it was computed.
#[pyclass(module = "fimkit._fimkit", name = "FisherInformation", frozen)]
struct PyFisherInformation {
    inner: FisherInformation,
}

#[pymethods]
impl PyFisherInformation {
    /// F(θ), d×d, in the order of `params`.
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        mat(py, &self.inner.value)
    }

    /// Error estimate of each entry (zeros for a closed form).
    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        mat(py, &self.inner.error)
    }

    /// How it was computed: "closed form", or the numeric rule.
    #[getter]
    fn method(&self) -> String {
        self.inner.method.description().to_string()
    }

    /// 1 closed form, 2 location–scale, 3 numeric.
    #[getter]
    fn tier(&self) -> u8 {
        self.inner.method.tier()
    }

    #[getter]
    fn is_closed_form(&self) -> bool {
        self.inner.is_closed_form()
    }

    #[getter]
    fn params(&self) -> Vec<String> {
        self.inner.params.clone()
    }

    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings.clone()
    }

    /// Summed over a dataset: (rows, distinct covariate rows computed).
    #[getter]
    fn rows(&self) -> Option<(usize, usize)> {
        self.inner.rows
    }

    /// F⁻¹ (the Cramér–Rao bound of what F is the information of), or None
    /// when F is not positive definite.
    fn cramer_rao<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray2<f64>>> {
        self.inner.cramer_rao().map(|m| mat(py, &m))
    }

    /// The Fisher information of a dataset in parts: the parts' values
    /// and error estimates added (each part's `(value, error, tier,
    /// method, warnings, rows)`, in `params` order); every part must have
    /// been computed the same way.
    #[staticmethod]
    #[allow(clippy::type_complexity)]
    fn _sum(
        params: Vec<String>,
        parts: Vec<(
            PyReadonlyArray2<'_, f64>,
            PyReadonlyArray2<'_, f64>,
            u8,
            String,
            Vec<String>,
            Option<(usize, usize)>,
        )>,
    ) -> PyResult<PyFisherInformation> {
        let d = params.len();
        let mut value = fimkit::nalgebra::DMatrix::zeros(d, d);
        let mut error = fimkit::nalgebra::DMatrix::zeros(d, d);
        let mut warnings: Vec<String> = Vec::new();
        let mut rows: Option<(usize, usize)> = None;
        let mut how: Option<(u8, String)> = None;
        for (v, e, tier, method, w, r) in &parts {
            let (v, e) = (dmatrix(v), dmatrix(e));
            if v.shape() != (d, d) || e.shape() != (d, d) {
                return Err(ArgumentError::new_err(format!(
                    "a part's information is {}×{}, the model has {d} parameters",
                    v.nrows(),
                    v.ncols()
                )));
            }
            match &how {
                None => how = Some((*tier, method.clone())),
                Some((t, m)) if t == tier && m == method => {}
                Some((_, m)) => {
                    return Err(FimkitError::new_err(format!(
                        "the parts' information was computed in different ways ({m}; {method}): not added"
                    )));
                }
            }
            value += v;
            error += e;
            for x in w {
                if !warnings.contains(x) {
                    warnings.push(x.clone());
                }
            }
            if let Some((a, b)) = r {
                let (ra, rb) = rows.unwrap_or((0, 0));
                rows = Some((ra + a, rb + b));
            }
        }
        let Some((tier, method)) = how else {
            return Err(ArgumentError::new_err("no parts to add"));
        };
        let method = match tier {
            1 => fimkit::FimMethod::ClosedForm,
            2 => fimkit::FimMethod::LocationScale { method },
            _ => fimkit::FimMethod::Numeric { method },
        };
        Ok(PyFisherInformation {
            inner: FisherInformation {
                params,
                value,
                error,
                method,
                warnings,
                rows,
                numeric: None,
            },
        })
    }

    fn __repr__(&self) -> String {
        let m = &self.inner.value;
        let rows: Vec<Vec<f64>> = (0..m.nrows())
            .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
            .collect();
        format!(
            "FisherInformation(params={:?}, method={:?}, value={rows:?})",
            self.inner.params,
            self.inner.method.description(),
        )
    }
}

/// A maximum-likelihood fit.
#[pyclass(module = "fimkit._fimkit", name = "FitResult", frozen)]
struct PyFitResult {
    inner: FitResult,
}

fn or_nan(v: &[Option<f64>]) -> Vec<f64> {
    v.iter().map(|x| x.unwrap_or(f64::NAN)).collect()
}

#[pymethods]
impl PyFitResult {
    /// θ̂, in the order of `param_names`.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.estimates.as_slice().to_pyarray(py)
    }

    #[getter]
    fn param_names(&self) -> Vec<String> {
        self.inner.params.iter().map(|p| p.to_string()).collect()
    }

    /// Standard errors √diag(cov); NaN only where the information is not
    /// positive definite (then `cov` is None and `summary()` says so).
    #[getter]
    fn bse<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, or_nan(&self.inner.wald_std_errors()))
    }

    /// Standard errors from the observed information −∇²ℓ(θ̂).
    #[getter]
    fn bse_observed<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, or_nan(&self.inner.std_errors_observed))
    }

    /// The covariance of θ̂: I(θ̂)⁻¹, or None when not positive definite.
    #[getter]
    fn cov<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray2<f64>>> {
        self.inner.wald_covariance().map(|m| mat(py, &m))
    }

    /// The expected (Fisher) information at θ̂, summed over the rows.
    #[getter]
    fn information<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        mat(py, &self.inner.expected_information)
    }

    /// The observed information −∇²ℓ(θ̂).
    #[getter]
    fn observed_information<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        mat(py, &self.inner.observed_information)
    }

    /// ℓ(θ̂).
    #[getter]
    fn loglik(&self) -> f64 {
        self.inner.loglik
    }

    /// True only if the gradient test holds at θ̂.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations
    }

    /// Why the iteration stopped, in words.
    #[getter]
    fn stop_reason(&self) -> String {
        self.inner.stop.describe(self.inner.tol)
    }

    #[getter]
    fn nobs(&self) -> usize {
        self.inner.n_rows
    }

    #[getter]
    fn method(&self) -> String {
        self.inner.method.name().to_string()
    }

    #[getter]
    fn aic(&self) -> f64 {
        self.inner.aic()
    }

    #[getter]
    fn bic(&self) -> f64 {
        self.inner.bic()
    }

    /// The report `fimkit fit` prints.
    #[pyo3(signature = (ascii = false))]
    fn summary(&self, ascii: bool) -> String {
        let opts = FitTextOptions {
            ascii,
            ..FitTextOptions::default()
        };
        fit_text(&self.inner, &opts)
    }

    /// The `fimkit fit --format json` document, as JSON text.
    fn to_json(&self) -> String {
        serde_json::to_string(&fit_json(&self.inner, &FitTextOptions::default()))
            .expect("a JSON value serialises")
    }

    fn __repr__(&self) -> String {
        format!(
            "FitResult(param_names={:?}, params={:?}, converged={})",
            self.param_names(),
            self.inner.estimates.as_slice(),
            if self.inner.converged() {
                "True"
            } else {
                "False"
            }
        )
    }
}

#[pymodule]
fn _fimkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyModel>()?;
    m.add_class::<PyFisherInformation>()?;
    m.add_class::<PyFitResult>()?;
    m.add_class::<PyPart>()?;
    m.add("FimkitError", py.get_type::<FimkitError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("ArgumentError", py.get_type::<ArgumentError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("EvaluationError", py.get_type::<EvaluationError>())?;
    m.add("NumericFimError", py.get_type::<NumericFimError>())?;
    m.add("FitError", py.get_type::<FitError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
