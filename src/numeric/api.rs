//! Exact log-density, score and Hessian of a model, at a point and summed
//! over data: the library's numeric entry point.
//!
//! [`ModelFunctions::new`] compiles a model's log-density once (constants
//! replaced by their values) into a [`Tape`]; every call after that
//! evaluates it with dual numbers, so derivatives are exact to `f64`
//! rounding — no finite differences, no symbolic step. Parameters θ are a
//! [`DVector`] in the model's declaration order; an observation x is a
//! [`DVector`] of the model's inputs (data variables, then covariates, in
//! declaration order, see [`ModelFunctions::input_names`]); both can also be
//! given by name.
//!
//! ```
//! use fimkit::numeric::ModelFunctions;
//! use nalgebra::dvector;
//! let src = "param mu : real\nparam sigma : positive\ndata x : real\nx ~ normal(mu, sigma)\n";
//! let model = fimkit::load(src, "normal").unwrap();
//! let f = ModelFunctions::new(&model).unwrap();
//! let (theta, x) = (dvector![0.0, 2.0], dvector![1.0]);
//! let d = f.derivatives(&theta, &x).unwrap();
//! // score of N(μ, σ): ((x − μ)/σ², −1/σ + (x − μ)²/σ³)
//! assert!((d.score[0] - 0.25).abs() < 1e-15);
//! assert!((d.score[1] - (-0.5 + 0.125)).abs() < 1e-15);
//! // Hessian: −1/σ² on the diagonal for μ
//! assert!((d.hessian[(0, 0)] + 0.25).abs() < 1e-15);
//! // errors name the parameter and its domain
//! let err = f.log_density(&dvector![0.0, -1.0], &x).unwrap_err();
//! assert_eq!(err.to_string(), "parameter `sigma` = -1 is outside its domain, positive (0, inf)");
//! ```
//!
//! Over a [`Dataset`] (read with [`DataSchema::read_csv`] or built from a
//! matrix) the rows are evaluated in parallel with rayon, in fixed chunks
//! whose partial sums are added in order, so results are reproducible:
//!
//! ```
//! use fimkit::numeric::ModelFunctions;
//! use nalgebra::{dmatrix, dvector};
//! let src = "param lambda : positive\ndata k : count\nk ~ poisson(lambda)\n";
//! let f = ModelFunctions::new(&fimkit::load(src, "poisson").unwrap()).unwrap();
//! let data = f.schema().dataset_from_matrix(&dmatrix![1.0; 3.0; 2.0]).unwrap();
//! let s = f.summary(&dvector![2.0], &data).unwrap();
//! assert_eq!(s.n_rows, 3);
//! assert!((s.gradient[0] - (6.0 / 2.0 - 3.0)).abs() < 1e-14);          // Σk/λ − n
//! assert!((s.observed_information[(0, 0)] - 6.0 / 4.0).abs() < 1e-14); // Σk/λ²
//! assert!((s.empirical_fisher[(0, 0)] - 0.5).abs() < 1e-14);           // Σ(k/λ − 1)²
//! ```
//!
//! How the derivatives are computed, chosen once per model:
//! * θ entering only through at most 4 linear forms (a GLM's `η = zᵀβ`):
//!   second-order duals in those few directions and `H = Aᵀ g'' A`
//!   ([`Tape::linear_hessian`]);
//! * otherwise stack-allocated `Dual2SVec<N>` for up to 8 parameters, and
//!   heap `Dual2Vec<Dyn>` beyond;
//! * gradient-only calls ([`ModelFunctions::loglik_gradient`], for
//!   fitting) use first-order duals.

use super::compiled::{CompileError, LinearHessian, LinearWorkspace, Tape, Workspace};
use super::data::{DataError, DataSchema, Dataset, domain_label, show};
use super::eval::{EvalError, describe, eval_f64, gradient_hessian};
use super::separable::{Separable, SeparableAt};
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Model, TermSource};
use nalgebra::{DMatrix, DVector, Dyn, U1};
use num_dual::{Derivative, Dual2SVec64, Dual2Vec, DualDVec64, DualNum, DualSVec64};
use rayon::prelude::*;
use std::fmt;

/// Rows per parallel work item.
const CHUNK: usize = 2048;

/// Rows per block of the data-separable path (its data factors, one
/// column each, stay in the L1 cache).
const SEPARABLE_BLOCK: usize = 256;

/// A failed row (from 0; `None` before any row) and why.
type RowFailure = (Option<usize>, EvalError);

/// Why a numeric evaluation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum NumericError {
    /// The model's log-density could not be compiled.
    Compile(CompileError),
    /// A vector has the wrong length.
    Dimension {
        /// `parameters` or `inputs`.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// A parameter value lies outside its domain (or is not finite).
    ParamDomain {
        /// The parameter.
        name: Name,
        /// Its value.
        value: f64,
        /// The domain, e.g. `positive (0, inf)`.
        domain: String,
    },
    /// A name given by the caller is not a parameter (or input) of the model.
    UnknownName {
        /// The name given.
        name: String,
        /// `parameter` or `data variable or covariate`.
        role: &'static str,
        /// The model's names of that kind.
        known: Vec<Name>,
    },
    /// A parameter or input was given no value.
    MissingValue {
        /// The name without a value.
        name: Name,
        /// `parameter`, `data variable` or `covariate`.
        role: &'static str,
    },
    /// An input value lies outside its support.
    Input {
        /// Data row (from 1), `None` at a single point.
        row: Option<usize>,
        /// The input.
        name: Name,
        /// Its value.
        value: f64,
        /// Why (`outside the support of `y`, {0, 1}`).
        reason: String,
    },
    /// The log-density or a derivative is not finite.
    NonFinite {
        /// Data row (from 1), `None` at a single point.
        row: Option<usize>,
        /// The model statement whose term is not finite, when found.
        term: Option<String>,
        /// Is it a derivative (the value itself being finite)?
        derivative: bool,
        /// The innermost subexpression responsible.
        error: EvalError,
    },
    /// Every row is finite but a sum over the rows overflows.
    SumOverflow {
        /// The offending sum's value.
        value: f64,
    },
    /// A row's score is finite but its outer product s sᵀ (a term of the
    /// empirical Fisher information) is not.
    OuterOverflow {
        /// Data row (from 1).
        row: usize,
        /// The row's largest score component.
        value: f64,
    },
    /// Data could not be read.
    Data(DataError),
}

impl fmt::Display for NumericError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumericError::Compile(e) => write!(f, "cannot compile the log-density: {e}"),
            NumericError::Dimension {
                what,
                expected,
                got,
            } => write!(f, "expected {expected} {what}, got {got}"),
            NumericError::ParamDomain {
                name,
                value,
                domain,
            } => {
                if value.is_finite() {
                    write!(
                        f,
                        "parameter `{name}` = {} is outside its domain, {domain}",
                        show(*value)
                    )
                } else {
                    write!(
                        f,
                        "parameter `{name}` = {value} is not a finite number (domain {domain})"
                    )
                }
            }
            NumericError::UnknownName { name, role, known } => {
                let list: Vec<&str> = known.iter().map(|n| &**n).collect();
                write!(f, "`{name}` is not a {role} of the model")?;
                if list.is_empty() {
                    write!(f, " (it has none)")
                } else {
                    write!(f, " (expected one of: {})", list.join(", "))
                }
            }
            NumericError::MissingValue { name, role } => {
                write!(f, "no value given for the {role} `{name}`")
            }
            NumericError::Input {
                row,
                name,
                value,
                reason,
            } => {
                if let Some(r) = row {
                    write!(f, "row {r}: ")?;
                }
                if value.is_finite() {
                    write!(f, "`{name}` = {} is {reason}", show(*value))
                } else {
                    write!(f, "`{name}` = {value} is not a finite number")
                }
            }
            NumericError::NonFinite {
                row,
                term,
                derivative,
                error,
            } => {
                if let Some(r) = row {
                    write!(f, "row {r}: ")?;
                }
                if let Some(t) = term {
                    write!(f, "in `{t}`: ")?;
                }
                match error {
                    EvalError::NonFinite { expr, value } if *derivative => {
                        write!(f, "the derivatives of `{expr}` are not finite ({value})")
                    }
                    _ => write!(f, "{error}"),
                }
            }
            NumericError::SumOverflow { value } => write!(
                f,
                "the sum over the rows is not finite ({value}) although every row is"
            ),
            NumericError::OuterOverflow { row, value } => write!(
                f,
                "row {row}: the score reaches {value:e}, and its outer product s sᵀ overflows \
                 f64: the empirical Fisher information Σ s sᵀ cannot be represented (the \
                 log-likelihood, its gradient and the observed information are finite)"
            ),
            NumericError::Data(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for NumericError {}

impl From<DataError> for NumericError {
    fn from(e: DataError) -> Self {
        NumericError::Data(e)
    }
}

/// Value, score and Hessian of the log-density at one observation.
#[derive(Clone, Debug, PartialEq)]
pub struct PointDerivatives {
    /// `log p(x; θ)`.
    pub log_density: f64,
    /// `∇_θ log p`.
    pub score: DVector<f64>,
    /// `∇²_θ log p`.
    pub hessian: DMatrix<f64>,
}

/// Sums over a dataset at one parameter point.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSummary {
    /// Number of rows.
    pub n_rows: usize,
    /// Total log-likelihood `Σ log p(x_i; θ)`.
    pub loglik: f64,
    /// Its gradient `Σ s_i`.
    pub gradient: DVector<f64>,
    /// Observed information `−Σ ∇² log p(x_i; θ)`.
    pub observed_information: DMatrix<f64>,
    /// Empirical Fisher information `Σ s_i s_iᵀ`.
    pub empirical_fisher: DMatrix<f64>,
}

/// One row's derivatives, as handed to [`ModelFunctions::fold_rows`].
#[derive(Clone, Copy, Debug)]
pub struct RowDerivatives<'a> {
    /// Row index, from 0.
    pub row: usize,
    /// `log p(x_row; θ)`.
    pub log_density: f64,
    /// The score, length d.
    pub score: &'a [f64],
    /// The Hessian, d×d row-major (it is symmetric).
    pub hessian: &'a [f64],
}

/// Sums over the rows of a data set, from [`ModelFunctions::sum_rows`].
#[derive(Clone, Debug, PartialEq)]
pub struct RowSums {
    /// Number of rows.
    pub n_rows: usize,
    /// Log-likelihood `Σ log p(x_i; θ)`.
    pub loglik: f64,
    /// `Σ ∇ log p(x_i; θ)`.
    pub score: DVector<f64>,
    /// `Σ ∇² log p(x_i; θ)` (minus the observed information).
    pub hessian: DMatrix<f64>,
}

/// A block of evaluated rows (internal to the folds).
struct Block<'a> {
    /// Index of the block's first row.
    first: usize,
    /// Values, one per row.
    v: &'a [f64],
    /// Scores, d per row.
    g: &'a [f64],
    /// Hessians, d² per row, or one d² shared by every row.
    h: &'a [f64],
    shared: bool,
}

/// A parameter's domain as numbers.
#[derive(Clone, Debug)]
struct ParamInfo {
    name: Name,
    lo: f64,
    hi: f64,
    label: String,
}

/// How Hessians are computed for this model.
#[derive(Clone, Debug)]
enum Strategy {
    /// `Σ c_k(θ) g_k(x)`: coefficients' derivatives once per θ.
    Separable(Box<Separable>),
    Linear(LinearHessian),
    Dense,
}

/// A model's log-density compiled for exact numeric derivatives.
#[derive(Clone, Debug)]
pub struct ModelFunctions {
    name: String,
    params: Vec<ParamInfo>,
    schema: DataSchema,
    logp: Expr,
    /// Each statement's term (constants substituted) and how to name it.
    terms: Vec<(String, Expr)>,
    tape: Tape,
    strategy: Strategy,
}

/// How a model statement is named in errors.
fn term_label(source: &TermSource, logp: &Expr) -> String {
    match source {
        TermSource::Family { family, data, .. } => {
            let lhs = if data.len() == 1 {
                data[0].to_string()
            } else {
                let base = data[0].split('[').next().unwrap_or(&data[0]);
                base.to_string()
            };
            format!("{lhs} ~ {family}(...)")
        }
        TermSource::Raw => format!("logp += {}", describe(logp)),
    }
}

impl ModelFunctions {
    /// Compile `model`'s log-density (constants substituted).
    pub fn new(model: &Model) -> Result<ModelFunctions, NumericError> {
        let schema = DataSchema::from_model(model);
        let logp = model.logp_numeric();
        let names: Vec<Name> = model.param_names();
        let inputs = schema.names();
        let tape = Tape::compile(std::slice::from_ref(&logp), &names, &inputs)
            .map_err(NumericError::Compile)?;
        let bound = |e: &Option<Expr>, inf: f64| match e {
            None => inf,
            Some(e) => eval_f64(&model.substitute_consts(e), &|_| None).unwrap_or(f64::NAN),
        };
        let params = model
            .params
            .iter()
            .map(|p| ParamInfo {
                name: p.name.clone(),
                lo: bound(&p.domain.lo, f64::NEG_INFINITY),
                hi: bound(&p.domain.hi, f64::INFINITY),
                label: domain_label(&p.domain),
            })
            .collect();
        let terms = model
            .terms
            .iter()
            .map(|t| {
                (
                    term_label(&t.source, &t.logp),
                    model.substitute_consts(&t.logp),
                )
            })
            .collect();
        let strategy = if let Some(s) = Separable::detect(&logp, &names, &inputs) {
            Strategy::Separable(Box::new(s))
        } else {
            match tape.linear_hessian() {
                Some(lh) => Strategy::Linear(lh),
                None => Strategy::Dense,
            }
        };
        Ok(ModelFunctions {
            name: model.name.clone(),
            params,
            schema,
            logp,
            terms,
            tape,
            strategy,
        })
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Parameter names: the order of θ.
    pub fn param_names(&self) -> Vec<Name> {
        self.params.iter().map(|p| p.name.clone()).collect()
    }

    /// Input names (data variables, then covariates): the order of x.
    pub fn input_names(&self) -> Vec<Name> {
        self.schema.names()
    }

    /// The inputs and their supports; reads and checks data.
    pub fn schema(&self) -> &DataSchema {
        &self.schema
    }

    /// The log-density that is evaluated (constants substituted).
    pub fn log_density_expr(&self) -> &Expr {
        &self.logp
    }

    /// The compiled tape (output 0 is the log-density).
    pub fn tape(&self) -> &Tape {
        &self.tape
    }

    /// Does the model use the linear-form Hessian (θ entering through a few
    /// linear forms)? The number of forms, if so.
    pub fn linear_forms(&self) -> Option<usize> {
        match &self.strategy {
            Strategy::Linear(lh) => Some(lh.forms()),
            _ => None,
        }
    }

    /// Is the log-density data-separable, `Σ_k c_k(θ) g_k(x)` term by term
    /// (see [`Separable`])? The number of coefficients `c_k`, if so.
    pub fn separable_factors(&self) -> Option<usize> {
        match &self.strategy {
            Strategy::Separable(s) => Some(s.factors()),
            _ => None,
        }
    }

    /// θ from `name = value` pairs (every parameter exactly once).
    pub fn params_by_name(&self, values: &[(&str, f64)]) -> Result<DVector<f64>, NumericError> {
        let names = self.param_names();
        by_name(&names, values, "parameter", |_| "parameter")
    }

    /// x from `name = value` pairs (every data variable and covariate).
    pub fn inputs_by_name(&self, values: &[(&str, f64)]) -> Result<DVector<f64>, NumericError> {
        let names = self.input_names();
        by_name(&names, values, "data variable or covariate", |i| {
            if self.schema.is_covariate(i) {
                "covariate"
            } else {
                "data variable"
            }
        })
    }

    /// Check θ: its length, finiteness and every parameter's domain.
    pub fn check_params(&self, theta: &DVector<f64>) -> Result<(), NumericError> {
        if theta.len() != self.params.len() {
            return Err(NumericError::Dimension {
                what: "parameters",
                expected: self.params.len(),
                got: theta.len(),
            });
        }
        for (p, &v) in self.params.iter().zip(theta.iter()) {
            if !(v.is_finite() && v > p.lo && v < p.hi) {
                return Err(NumericError::ParamDomain {
                    name: p.name.clone(),
                    value: v,
                    domain: p.label.clone(),
                });
            }
        }
        Ok(())
    }

    /// The value of parameter `name` in θ (for moving supports).
    fn param_env<'a>(&'a self, theta: &'a DVector<f64>) -> impl Fn(&str) -> Option<f64> + 'a {
        move |name: &str| {
            self.params
                .iter()
                .position(|p| &*p.name == name)
                .map(|i| theta[i])
        }
    }

    /// Check one observation against the supports (given θ).
    fn check_point(&self, theta: &DVector<f64>, x: &DVector<f64>) -> Result<(), NumericError> {
        let w = self.schema.width();
        if x.len() != w {
            return Err(NumericError::Dimension {
                what: "inputs",
                expected: w,
                got: x.len(),
            });
        }
        let env = self.param_env(theta);
        self.schema
            .check_row(x.as_slice(), Some(&env))
            .map_err(|(i, reason)| NumericError::Input {
                row: None,
                name: self.schema.names()[i].clone(),
                value: x[i],
                reason,
            })
    }

    /// Check the dataset's moving supports (bounds that depend on θ).
    fn check_data(&self, theta: &DVector<f64>, data: &Dataset) -> Result<(), NumericError> {
        if data.names() != self.schema.names().as_slice() {
            return Err(NumericError::Dimension {
                what: "data columns",
                expected: self.schema.width(),
                got: data.names().len(),
            });
        }
        if self.schema.has_moving_support() {
            let env = self.param_env(theta);
            for r in 0..data.n_rows() {
                let row = data.row(r).unwrap_or(&[]);
                self.schema
                    .check_row(row, Some(&env))
                    .map_err(|(i, reason)| NumericError::Input {
                        row: Some(r + 1),
                        name: self.schema.names()[i].clone(),
                        value: row[i],
                        reason,
                    })?;
            }
        }
        Ok(())
    }

    /// `log p(x; θ)`.
    pub fn log_density(&self, theta: &DVector<f64>, x: &DVector<f64>) -> Result<f64, NumericError> {
        self.check_params(theta)?;
        self.check_point(theta, x)?;
        let mut ws = self.tape.workspace::<f64>();
        self.tape
            .eval(theta.as_slice(), x.as_slice(), &mut ws)
            .map_err(|e| self.non_finite(None, theta, x.as_slice(), e))?;
        Ok(self.tape.output(&ws, 0))
    }

    /// The score `∇_θ log p(x; θ)`.
    pub fn score(
        &self,
        theta: &DVector<f64>,
        x: &DVector<f64>,
    ) -> Result<DVector<f64>, NumericError> {
        Ok(self.derivatives(theta, x)?.score)
    }

    /// The Hessian `∇²_θ log p(x; θ)`.
    pub fn hessian(
        &self,
        theta: &DVector<f64>,
        x: &DVector<f64>,
    ) -> Result<DMatrix<f64>, NumericError> {
        Ok(self.derivatives(theta, x)?.hessian)
    }

    /// Value, score and Hessian at one observation.
    pub fn derivatives(
        &self,
        theta: &DVector<f64>,
        x: &DVector<f64>,
    ) -> Result<PointDerivatives, NumericError> {
        self.check_params(theta)?;
        self.check_point(theta, x)?;
        let d = self.params.len();
        let mut g = vec![0.0; d];
        let mut h = vec![0.0; d * d];
        let v = self
            .with_engine(theta.as_slice(), |e| {
                e.row(&self.tape, x.as_slice(), &mut g, &mut h)
            })
            .and_then(|r| r)
            .map_err(|e| self.non_finite(None, theta, x.as_slice(), e))?;
        self.check_derivatives(None, theta, x.as_slice(), &g, &h)?;
        Ok(PointDerivatives {
            log_density: v,
            score: DVector::from_vec(g),
            hessian: DMatrix::from_row_slice(d, d, &h),
        })
    }

    /// Total log-likelihood over the rows (plain `f64`).
    pub fn loglik(&self, theta: &DVector<f64>, data: &Dataset) -> Result<f64, NumericError> {
        self.check_params(theta)?;
        self.check_data(theta, data)?;
        let parts = self.par_chunks(data, |rows| {
            let mut ws = self.tape.workspace::<f64>();
            self.tape
                .set_params(theta.as_slice(), &mut ws)
                .map_err(|e| (None, e))?;
            let mut s = 0.0;
            for r in rows {
                let x = data.row(r).unwrap_or(&[]);
                self.tape.eval_row(x, &mut ws).map_err(|e| (Some(r), e))?;
                s += self.tape.output(&ws, 0);
            }
            Ok(s)
        });
        let parts = parts.map_err(|(r, e)| self.row_error(r, theta, data, e))?;
        Ok(parts.iter().sum())
    }

    /// Total log-likelihood and its gradient (first-order dual numbers:
    /// cheaper than [`ModelFunctions::summary`], for fitting).
    pub fn loglik_gradient(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
    ) -> Result<(f64, DVector<f64>), NumericError> {
        self.check_params(theta)?;
        self.check_data(theta, data)?;
        let d = self.params.len();
        let parts = match d {
            1 => self.gradient_static::<1>(theta, data),
            2 => self.gradient_static::<2>(theta, data),
            3 => self.gradient_static::<3>(theta, data),
            4 => self.gradient_static::<4>(theta, data),
            5 => self.gradient_static::<5>(theta, data),
            6 => self.gradient_static::<6>(theta, data),
            7 => self.gradient_static::<7>(theta, data),
            8 => self.gradient_static::<8>(theta, data),
            _ => self.gradient_dyn(theta, data),
        };
        let parts = parts.map_err(|(r, e)| self.row_error(r, theta, data, e))?;
        let mut value = 0.0;
        let mut grad = DVector::zeros(d);
        for (v, g) in parts {
            value += v;
            grad += g;
        }
        if !(value.is_finite() && grad.iter().all(|v| v.is_finite())) {
            return Err(sum_overflow(value));
        }
        Ok((value, grad))
    }

    fn gradient_static<const N: usize>(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
    ) -> Result<Vec<(f64, DVector<f64>)>, RowFailure> {
        let seeds: Vec<DualSVec64<N>> = (0..N)
            .map(|i| DualSVec64::<N>::from_re(theta[i]).derivative(i))
            .collect();
        self.gradient_rows(&seeds, data, |o: &DualSVec64<N>, g: &mut DVector<f64>| {
            let Some(e) = &o.eps.0 else { return true };
            for i in 0..N {
                g[i] += e[i];
            }
            e.iter().all(|v| v.is_finite())
        })
    }

    fn gradient_dyn(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
    ) -> Result<Vec<(f64, DVector<f64>)>, RowFailure> {
        let d = theta.len();
        let seeds: Vec<DualDVec64> = (0..d)
            .map(|i| DualDVec64::from_re(theta[i]).derivative(d, i))
            .collect();
        self.gradient_rows(&seeds, data, |o: &DualDVec64, g: &mut DVector<f64>| {
            let Some(e) = &o.eps.0 else { return true };
            *g += e;
            e.iter().all(|v| v.is_finite())
        })
    }

    fn gradient_rows<D: DualNum<Primitive = f64> + Send + Sync>(
        &self,
        seeds: &[D],
        data: &Dataset,
        add: impl Fn(&D, &mut DVector<f64>) -> bool + Sync,
    ) -> Result<Vec<(f64, DVector<f64>)>, RowFailure> {
        let mut base = self.tape.workspace::<D>();
        self.tape
            .set_params(seeds, &mut base)
            .map_err(|e| (None, e))?;
        let d = seeds.len();
        self.par_chunks(data, |rows| {
            let mut ws = base.clone();
            let mut v = 0.0;
            let mut g = DVector::zeros(d);
            for r in rows {
                let x = data.row(r).unwrap_or(&[]);
                self.tape.eval_row(x, &mut ws).map_err(|e| (Some(r), e))?;
                let o = self.tape.output(&ws, 0);
                v += o.re();
                if !add(&o, &mut g) {
                    return Err((
                        Some(r),
                        EvalError::NonFinite {
                            expr: format!("derivatives of {}", describe(&self.logp)),
                            value: f64::INFINITY,
                        },
                    ));
                }
            }
            Ok((v, g))
        })
    }

    /// Log-likelihood, gradient, observed information and empirical Fisher
    /// over the rows.
    pub fn summary(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
    ) -> Result<DataSummary, NumericError> {
        let d = self.params.len();
        struct Acc {
            v: f64,
            g: Vec<f64>,
            h: Vec<f64>,
            f: Vec<f64>,
            // The first row whose s sᵀ overflows, and its largest |s_k|.
            outer: Option<(usize, f64)>,
        }
        let acc = self.fold_rows(
            theta,
            data,
            || Acc {
                v: 0.0,
                g: vec![0.0; d],
                h: vec![0.0; d * d],
                f: vec![0.0; d * d],
                outer: None,
            },
            |acc, r| {
                acc.v += r.log_density;
                if acc.outer.is_none() {
                    let big = r.score.iter().fold(0.0f64, |a, s| a.max(s.abs()));
                    if !(big * big).is_finite() {
                        acc.outer = Some((r.row + 1, big));
                    }
                }
                for k in 0..d {
                    acc.g[k] += r.score[k];
                    let sk = r.score[k];
                    let (hrow, frow) = (
                        &mut acc.h[k * d..(k + 1) * d],
                        &mut acc.f[k * d..(k + 1) * d],
                    );
                    let src = &r.hessian[k * d..(k + 1) * d];
                    for l in k..d {
                        hrow[l] += src[l];
                        frow[l] += sk * r.score[l];
                    }
                }
            },
            |mut a, b| {
                a.v += b.v;
                a.g.iter_mut().zip(&b.g).for_each(|(x, y)| *x += y);
                a.h.iter_mut().zip(&b.h).for_each(|(x, y)| *x += y);
                a.f.iter_mut().zip(&b.f).for_each(|(x, y)| *x += y);
                a.outer = a.outer.or(b.outer);
                a
            },
        )?;
        if let Some((row, value)) = acc.outer {
            return Err(NumericError::OuterOverflow { row, value });
        }
        let sym =
            |m: &[f64], sign: f64| DMatrix::from_fn(d, d, |i, j| sign * m[i.min(j) * d + i.max(j)]);
        let out = DataSummary {
            n_rows: data.n_rows(),
            loglik: acc.v,
            gradient: DVector::from_vec(acc.g),
            observed_information: sym(&acc.h, -1.0),
            empirical_fisher: sym(&acc.f, 1.0),
        };
        let finite = |m: &DMatrix<f64>| m.iter().all(|v| v.is_finite());
        if !(out.loglik.is_finite()
            && out.gradient.iter().all(|v| v.is_finite())
            && finite(&out.observed_information)
            && finite(&out.empirical_fisher))
        {
            // Every row is finite (checked) but a sum overflows.
            return Err(sum_overflow(out.loglik));
        }
        Ok(out)
    }

    /// Evaluate every row's value, score and Hessian and fold them: `init`
    /// makes an accumulator per chunk of rows, `fold` adds a row to it
    /// (rows of a chunk in order), `reduce` joins the chunks' accumulators
    /// in row order. Chunks run in parallel.
    ///
    /// ```
    /// use fimkit::numeric::ModelFunctions;
    /// use nalgebra::{dmatrix, dvector};
    /// let src = "param p : unit\ndata y : {0, 1}\ny ~ bernoulli(p)\n";
    /// let f = ModelFunctions::new(&fimkit::load(src, "b").unwrap()).unwrap();
    /// let data = f.schema().dataset_from_matrix(&dmatrix![1.0; 0.0; 1.0]).unwrap();
    /// // the largest |score| over the rows
    /// let m = f.fold_rows(&dvector![0.25], &data, || 0.0f64,
    ///     |m, r| *m = m.max(r.score[0].abs()), |a, b| a.max(b)).unwrap();
    /// assert_eq!(m, 4.0);
    /// ```
    pub fn fold_rows<T, I, F, R>(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
        init: I,
        fold: F,
        reduce: R,
    ) -> Result<T, NumericError>
    where
        T: Send,
        I: Fn() -> T + Sync,
        F: Fn(&mut T, &RowDerivatives) + Sync,
        R: FnMut(T, T) -> T,
    {
        let d = self.params.len();
        let dd = d * d;
        if let Some((sep, at)) = self.separable_at(theta, data)? {
            // Each row straight from the coefficients to `fold`.
            return self.fold_separable(
                theta,
                data,
                at,
                init,
                |acc, at, first, x, n, w| {
                    at.each_row(sep, x, n, w, |i, v, g, h| {
                        let row = RowDerivatives {
                            row: first + i,
                            log_density: v,
                            score: g,
                            hessian: h,
                        };
                        fold(acc, &row);
                    })
                },
                reduce,
            );
        }
        self.fold_blocks(
            theta,
            data,
            init,
            |acc, b| {
                for i in 0..b.v.len() {
                    let hi = if b.shared { 0 } else { i * dd };
                    let row = RowDerivatives {
                        row: b.first + i,
                        log_density: b.v[i],
                        score: &b.g[i * d..(i + 1) * d],
                        hessian: &b.h[hi..hi + dd],
                    };
                    fold(acc, &row);
                }
            },
            reduce,
        )
    }

    /// The sums over the rows of the log-density, the score and the
    /// Hessian: the log-likelihood, its gradient and minus the observed
    /// information, as [`ModelFunctions::fold_rows`] would sum them but
    /// cheaper — when the Hessian does not depend on the data (a Gamma,
    /// say) a block of `n` rows adds `n·H` rather than `H` n times.
    ///
    /// ```
    /// use fimkit::numeric::ModelFunctions;
    /// use nalgebra::{dmatrix, dvector};
    /// let src = "param mu : real\ndata y : real\ny ~ normal(mu, 1)\n";
    /// let f = ModelFunctions::new(&fimkit::load(src, "n").unwrap()).unwrap();
    /// let data = f.schema().dataset_from_matrix(&dmatrix![1.0; 2.0; 4.0]).unwrap();
    /// let s = f.sum_rows(&dvector![2.0], &data).unwrap();
    /// assert_eq!((s.n_rows, s.score[0], s.hessian[(0, 0)]), (3, 1.0, -3.0));
    /// ```
    pub fn sum_rows(&self, theta: &DVector<f64>, data: &Dataset) -> Result<RowSums, NumericError> {
        let d = self.params.len();
        let dd = d * d;
        let zero = || (0.0, vec![0.0; d], vec![0.0; dd]);
        let sums = if let Some((sep, at)) = self.separable_at(theta, data)? {
            self.fold_separable(
                theta,
                data,
                at,
                zero,
                |acc: &mut (f64, Vec<f64>, Vec<f64>), at, _, x, n, w| {
                    let shared = at.hessian_is_shared();
                    let (v, g, h) = acc;
                    at.each_row(sep, x, n, w, |_, rv, rg, rh| {
                        *v += rv;
                        for (a, x) in g.iter_mut().zip(rg) {
                            *a += x;
                        }
                        if !shared {
                            for (a, x) in h.iter_mut().zip(rh) {
                                *a += x;
                            }
                        }
                    })?;
                    if shared {
                        let m = n as f64;
                        for (a, x) in h.iter_mut().zip(at.shared_hessian()) {
                            *a += m * x;
                        }
                    }
                    Ok(())
                },
                |mut a, b| {
                    a.0 += b.0;
                    a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y);
                    a.2.iter_mut().zip(&b.2).for_each(|(x, y)| *x += y);
                    a
                },
            )?
        } else {
            self.sum_blocks(theta, data, d)?
        };
        let (v, g, h) = sums;
        let out = RowSums {
            n_rows: data.n_rows(),
            loglik: v,
            score: DVector::from_vec(g),
            // Symmetric: row-major = column-major.
            hessian: DMatrix::from_vec(d, d, h),
        };
        if !(out.loglik.is_finite()
            && out
                .score
                .iter()
                .chain(out.hessian.iter())
                .all(|v| v.is_finite()))
        {
            // Every row is finite (checked) but a sum overflows.
            return Err(sum_overflow(out.loglik));
        }
        Ok(out)
    }

    /// [`ModelFunctions::sum_rows`] through the row engines, a block at a
    /// time.
    fn sum_blocks(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
        d: usize,
    ) -> Result<(f64, Vec<f64>, Vec<f64>), NumericError> {
        let dd = d * d;
        let zero = || (0.0, vec![0.0; d], vec![0.0; dd]);
        self.fold_blocks(
            theta,
            data,
            zero,
            |acc, b| {
                let n = b.v.len();
                for i in 0..n {
                    acc.0 += b.v[i];
                    for (a, x) in acc.1.iter_mut().zip(&b.g[i * d..(i + 1) * d]) {
                        *a += x;
                    }
                }
                if b.shared {
                    let m = n as f64;
                    for (a, x) in acc.2.iter_mut().zip(&b.h[..dd]) {
                        *a += m * x;
                    }
                } else {
                    for hi in b.h[..n * dd].chunks_exact(dd.max(1)) {
                        for (a, x) in acc.2.iter_mut().zip(hi) {
                            *a += x;
                        }
                    }
                }
            },
            |mut a, b| {
                a.0 += b.0;
                a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y);
                a.2.iter_mut().zip(&b.2).for_each(|(x, y)| *x += y);
                a
            },
        )
    }

    /// The parameters and data checked; then, for a data-separable model
    /// whose coefficients are finite at θ, the split and its coefficients
    /// there (otherwise the general engines are used).
    fn separable_at(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
    ) -> Result<Option<(&Separable, SeparableAt)>, NumericError> {
        self.check_params(theta)?;
        self.check_data(theta, data)?;
        Ok(match &self.strategy {
            Strategy::Separable(sep) => sep.at(theta.as_slice()).map(|at| (&**sep, at)),
            _ => None,
        })
    }

    /// The data-separable path of [`ModelFunctions::fold_rows`] and
    /// [`ModelFunctions::sum_rows`]: chunks of rows in parallel (one copy
    /// of `at` per rayon task), each chunk a block at a time through
    /// `block(acc, at, first row, rows, n, width)`, chunks reduced in row
    /// order. Parameters and data are already checked.
    fn fold_separable<T, I, B, R>(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
        at: SeparableAt,
        init: I,
        block: B,
        reduce: R,
    ) -> Result<T, NumericError>
    where
        T: Send,
        I: Fn() -> T + Sync,
        B: Fn(
                &mut T,
                &mut SeparableAt,
                usize,
                &[f64],
                usize,
                usize,
            ) -> Result<(), (usize, EvalError)>
            + Sync,
        R: FnMut(T, T) -> T,
    {
        let w = data.names().len();
        let n_rows = data.n_rows();
        let parts = (0..n_rows.div_ceil(CHUNK))
            .into_par_iter()
            .map_init(
                || at.clone(),
                |at, c| {
                    let rows = c * CHUNK..((c + 1) * CHUNK).min(n_rows);
                    let mut acc = init();
                    let mut r0 = rows.start;
                    while r0 < rows.end {
                        let n = SEPARABLE_BLOCK.min(rows.end - r0);
                        let x = &data.values()[r0 * w..(r0 + n) * w];
                        block(&mut acc, at, r0, x, n, w).map_err(|(i, e)| (Some(r0 + i), e))?;
                        r0 += n;
                    }
                    Ok(acc)
                },
            )
            .collect::<Result<Vec<T>, RowFailure>>()
            .map_err(|(r, e)| self.row_error(r, theta, data, e))?;
        let mut it = parts.into_iter();
        let first = it.next().unwrap_or_else(&init);
        Ok(it.fold(first, reduce))
    }

    /// The engine behind [`ModelFunctions::fold_rows`] and
    /// [`ModelFunctions::sum_rows`]: rows are evaluated a block at a time
    /// and handed to `fold` a block at a time, in row order within a
    /// chunk; chunks run in parallel and are reduced in row order.
    /// Parameters and data are already checked.
    fn fold_blocks<T, I, F, R>(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
        init: I,
        fold: F,
        reduce: R,
    ) -> Result<T, NumericError>
    where
        T: Send,
        I: Fn() -> T + Sync,
        F: Fn(&mut T, Block<'_>) + Sync,
        R: FnMut(T, T) -> T,
    {
        let d = self.params.len();
        let w = data.names().len();
        // The buffers of a block stay within 32 kB (one L1 cache).
        let block = (4096 / (1 + d + d * d)).clamp(1, 256);
        let parts = self
            .with_engine(theta.as_slice(), |engine| {
                let engine: &dyn RowEngineDyn = &*engine;
                // One engine and one set of buffers per rayon task, reused
                // for all its chunks and blocks.
                let n_rows = data.n_rows();
                let buffers = || {
                    (
                        engine.boxed(),
                        vec![0.0; block],
                        vec![0.0; block * d],
                        vec![0.0; block * d * d],
                    )
                };
                (0..n_rows.div_ceil(CHUNK))
                    .into_par_iter()
                    .map_init(buffers, |(e, v, g, h), c| {
                        let rows = c * CHUNK..((c + 1) * CHUNK).min(n_rows);
                        let mut acc = init();
                        let mut r0 = rows.start;
                        while r0 < rows.end {
                            let n = block.min(rows.end - r0);
                            let x = &data.values()[r0 * w..(r0 + n) * w];
                            let shared = e
                                .block(&self.tape, x, n, w, v, g, h)
                                .map_err(|(i, err)| (Some(r0 + i), err))?;
                            let b = Block {
                                first: r0,
                                v: &v[..n],
                                g: &g[..n * d],
                                h,
                                shared,
                            };
                            fold(&mut acc, b);
                            r0 += n;
                        }
                        Ok(acc)
                    })
                    .collect::<Result<Vec<T>, (Option<usize>, EvalError)>>()
            })
            .map_err(|e| self.row_error(None, theta, data, e))?
            .map_err(|(r, e)| self.row_error(r, theta, data, e))?;
        let mut it = parts.into_iter();
        let first = it.next().unwrap_or_else(&init);
        Ok(it.fold(first, reduce))
    }

    /// Run `work` over fixed chunks of row indices in parallel; results in
    /// chunk order.
    fn par_chunks<T, W>(
        &self,
        data: &Dataset,
        work: W,
    ) -> Result<Vec<T>, (Option<usize>, EvalError)>
    where
        T: Send,
        W: Fn(std::ops::Range<usize>) -> Result<T, (Option<usize>, EvalError)> + Sync,
    {
        let n = data.n_rows();
        let chunks = n.div_ceil(CHUNK);
        (0..chunks)
            .into_par_iter()
            .map(|c| work(c * CHUNK..((c + 1) * CHUNK).min(n)))
            .collect()
    }

    /// Build the row engine for θ and hand it to `f`.
    fn with_engine<T>(
        &self,
        theta: &[f64],
        f: impl FnOnce(&mut dyn RowEngineDyn) -> T,
    ) -> Result<T, EvalError> {
        match &self.strategy {
            Strategy::Separable(sep) => match sep.at(theta) {
                Some(at) => Ok(f(&mut SeparableEngine { sep, at })),
                None => Self::dense_engine(&self.tape, theta, f),
            },
            Strategy::Linear(lh) => {
                let mut e = LinearEngine {
                    lh,
                    ws: lh.workspace(&self.tape),
                    theta: theta.to_vec(),
                };
                Ok(f(&mut e))
            }
            Strategy::Dense => Self::dense_engine(&self.tape, theta, f),
        }
    }

    /// The general engine: second-order duals in every direction.
    fn dense_engine<T>(
        tape: &Tape,
        theta: &[f64],
        f: impl FnOnce(&mut dyn RowEngineDyn) -> T,
    ) -> Result<T, EvalError> {
        match theta.len() {
            1 => Ok(f(&mut StaticEngine::<1>::new(tape, theta)?)),
            2 => Ok(f(&mut StaticEngine::<2>::new(tape, theta)?)),
            3 => Ok(f(&mut StaticEngine::<3>::new(tape, theta)?)),
            4 => Ok(f(&mut StaticEngine::<4>::new(tape, theta)?)),
            5 => Ok(f(&mut StaticEngine::<5>::new(tape, theta)?)),
            6 => Ok(f(&mut StaticEngine::<6>::new(tape, theta)?)),
            7 => Ok(f(&mut StaticEngine::<7>::new(tape, theta)?)),
            8 => Ok(f(&mut StaticEngine::<8>::new(tape, theta)?)),
            _ => Ok(f(&mut DynEngine::new(tape, theta)?)),
        }
    }

    /// Name the culprit of a failed row.
    fn row_error(
        &self,
        row: Option<usize>,
        theta: &DVector<f64>,
        data: &Dataset,
        e: EvalError,
    ) -> NumericError {
        let x = row.and_then(|r| data.row(r)).unwrap_or(&[]);
        self.non_finite(row.map(|r| r + 1), theta, x, e)
    }

    /// A [`NumericError::NonFinite`] naming the statement whose term fails;
    /// for a derivative, also the innermost subexpression responsible.
    fn non_finite(
        &self,
        row: Option<usize>,
        theta: &DVector<f64>,
        x: &[f64],
        e: EvalError,
    ) -> NumericError {
        let inputs = self.schema.names();
        let env = |name: &str| {
            self.params
                .iter()
                .position(|p| &*p.name == name)
                .map(|i| theta[i])
                .or_else(|| {
                    inputs
                        .iter()
                        .position(|n| &**n == name)
                        .and_then(|i| x.get(i).copied())
                })
        };
        let names = self.param_names();
        let derivative = matches!(&e, EvalError::NonFinite { expr, .. }
            if expr.starts_with("derivatives"));
        let mut error = e;
        let mut term = None;
        for (label, t) in &self.terms {
            let bad = if derivative {
                !derivatives_finite(t, &names, &env)
            } else {
                eval_f64(t, &env).is_err()
            };
            if bad {
                term = Some(label.clone());
                if derivative {
                    let culprit = innermost_bad_derivative(t, &names, &env);
                    let value = gradient_hessian(culprit, &names, &env)
                        .ok()
                        .and_then(|(_, g, h)| {
                            g.iter().chain(h.iter()).copied().find(|v| !v.is_finite())
                        })
                        .unwrap_or(f64::NAN);
                    error = EvalError::NonFinite {
                        expr: describe(culprit),
                        value,
                    };
                }
                break;
            }
        }
        NumericError::NonFinite {
            row,
            term,
            derivative,
            error,
        }
    }

    /// Report non-finite derivatives at a point.
    fn check_derivatives(
        &self,
        row: Option<usize>,
        theta: &DVector<f64>,
        x: &[f64],
        g: &[f64],
        h: &[f64],
    ) -> Result<(), NumericError> {
        match g.iter().chain(h).copied().find(|v| !v.is_finite()) {
            None => Ok(()),
            Some(value) => Err(self.non_finite(
                row,
                theta,
                x,
                EvalError::NonFinite {
                    expr: format!("derivatives of {}", describe(&self.logp)),
                    value,
                },
            )),
        }
    }
}

/// Every row is finite but a sum over the rows is not.
fn sum_overflow(loglik: f64) -> NumericError {
    NumericError::SumOverflow {
        value: if loglik.is_finite() {
            f64::INFINITY
        } else {
            loglik
        },
    }
}

/// Are the value, gradient and Hessian of `e` finite?
fn derivatives_finite(e: &Expr, names: &[Name], env: &dyn Fn(&str) -> Option<f64>) -> bool {
    gradient_hessian(e, names, env).is_ok()
}

/// The innermost subexpression of `e` whose derivatives are not finite
/// while its children's are.
fn innermost_bad_derivative<'a>(
    e: &'a Expr,
    names: &[Name],
    env: &dyn Fn(&str) -> Option<f64>,
) -> &'a Expr {
    let kids: Vec<&Expr> = match e {
        Expr::Pow(b, x) => vec![&**b, &**x],
        _ => e.children().iter().collect(),
    };
    for k in kids {
        if !derivatives_finite(k, names, env) {
            return innermost_bad_derivative(k, names, env);
        }
    }
    e
}

/// Values in `names` order from `name = value` pairs.
fn by_name(
    names: &[Name],
    values: &[(&str, f64)],
    role: &'static str,
    role_of: impl Fn(usize) -> &'static str,
) -> Result<DVector<f64>, NumericError> {
    let mut out = vec![None; names.len()];
    for (name, v) in values {
        let Some(i) = names.iter().position(|n| &**n == *name) else {
            return Err(NumericError::UnknownName {
                name: name.to_string(),
                role,
                known: names.to_vec(),
            });
        };
        out[i] = Some(*v);
    }
    let mut vals = Vec::with_capacity(names.len());
    for (i, v) in out.into_iter().enumerate() {
        vals.push(v.ok_or_else(|| NumericError::MissingValue {
            name: names[i].clone(),
            role: role_of(i),
        })?);
    }
    Ok(DVector::from_vec(vals))
}

/// Per-row value, score and Hessian for a fixed θ (object-safe, cloneable
/// through [`RowEngineDyn::boxed`]).
trait RowEngineDyn: Send + Sync {
    fn row(
        &mut self,
        tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError>;
    /// `n` rows of width `w` (row-major in `x`): values into `v[..n]`,
    /// scores into `g[..n·d]`, Hessians into `h[..n·d²]` (or `true` when
    /// every row's Hessian is the same, in `h[..d²]`); on failure the
    /// first failing row's index in the block.
    #[expect(clippy::too_many_arguments, reason = "output buffers")]
    fn block(
        &mut self,
        tape: &Tape,
        x: &[f64],
        n: usize,
        w: usize,
        v: &mut [f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<bool, (usize, EvalError)> {
        let d = if n == 0 { 0 } else { g.len() / v.len() };
        for i in 0..n {
            v[i] = self
                .row(
                    tape,
                    &x[i * w..(i + 1) * w],
                    &mut g[i * d..(i + 1) * d],
                    &mut h[i * d * d..(i + 1) * d * d],
                )
                .map_err(|e| (i, e))?;
        }
        Ok(false)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_>;
}

/// A non-finite derivative is an error (named later by term).
fn all_finite(tape: &Tape, g: &[f64], h: &[f64]) -> Result<(), EvalError> {
    match g.iter().chain(h).copied().find(|v| !v.is_finite()) {
        None => Ok(()),
        Some(value) => Err(EvalError::NonFinite {
            expr: format!("derivatives of {}", describe(&tape.exprs()[0])),
            value,
        }),
    }
}

#[derive(Clone)]
struct StaticEngine<const N: usize> {
    ws: Workspace<Dual2SVec64<N>>,
}

impl<const N: usize> StaticEngine<N> {
    fn new(tape: &Tape, theta: &[f64]) -> Result<Self, EvalError> {
        let seeds: Vec<Dual2SVec64<N>> = (0..N)
            .map(|i| Dual2SVec64::<N>::from_re(theta[i]).derivative(i))
            .collect();
        let mut ws = tape.workspace();
        tape.set_params(&seeds, &mut ws)?;
        Ok(StaticEngine { ws })
    }
}

impl<const N: usize> RowEngineDyn for StaticEngine<N> {
    fn row(
        &mut self,
        tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError> {
        tape.eval_row(x, &mut self.ws)?;
        let o = tape.output(&self.ws, 0);
        match o.v1.0 {
            Some(v) => g.copy_from_slice(v.as_slice()),
            None => g.fill(0.0),
        }
        match o.v2.0 {
            // Symmetric: column-major = row-major.
            Some(m) => h.copy_from_slice(m.as_slice()),
            None => h.fill(0.0),
        }
        all_finite(tape, g, h)?;
        Ok(o.re)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_> {
        Box::new(self.clone())
    }
}

#[derive(Clone)]
struct DynEngine {
    ws: Workspace<Dual2Vec<f64, Dyn>>,
}

impl DynEngine {
    fn new(tape: &Tape, theta: &[f64]) -> Result<Self, EvalError> {
        let d = theta.len();
        let seeds: Vec<Dual2Vec<f64, Dyn>> = (0..d)
            .map(|i| {
                let mut s = Dual2Vec::<f64, Dyn>::from_re(theta[i]);
                s.v1 = Derivative::derivative_generic(U1, Dyn(d), i);
                s
            })
            .collect();
        let mut ws = tape.workspace();
        tape.set_params(&seeds, &mut ws)?;
        Ok(DynEngine { ws })
    }
}

impl RowEngineDyn for DynEngine {
    fn row(
        &mut self,
        tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError> {
        tape.eval_row(x, &mut self.ws)?;
        let o = tape.output(&self.ws, 0);
        match &o.v1.0 {
            Some(v) => g.copy_from_slice(v.as_slice()),
            None => g.fill(0.0),
        }
        match &o.v2.0 {
            Some(m) => h.copy_from_slice(m.as_slice()),
            None => h.fill(0.0),
        }
        all_finite(tape, g, h)?;
        Ok(o.re)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_> {
        Box::new(self.clone())
    }
}

#[derive(Clone)]
struct LinearEngine<'a> {
    lh: &'a LinearHessian,
    ws: LinearWorkspace,
    theta: Vec<f64>,
}

impl RowEngineDyn for LinearEngine<'_> {
    fn row(
        &mut self,
        tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError> {
        self.lh.eval_row(tape, &self.theta, x, &mut self.ws, g, h)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_> {
        Box::new(self.clone())
    }
}

#[derive(Clone)]
struct SeparableEngine<'a> {
    sep: &'a Separable,
    at: SeparableAt,
}

impl RowEngineDyn for SeparableEngine<'_> {
    fn row(
        &mut self,
        _tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError> {
        self.at.row(self.sep, x, g, h)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_> {
        Box::new(self.clone())
    }
}
