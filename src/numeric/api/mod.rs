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
//! How the derivatives are computed, chosen once per model in one place
//! ([`ModelFunctions::engine`]):
//! * a log-density `Σ c_k(θ) g_k(x)` as written (the model's
//!   [`Structure`]'s separable split): the coefficients' derivatives once
//!   per θ, the data factors per row ([`Separable`]);
//! * θ entering only through at most 4 linear forms (a GLM's `η = zᵀβ`):
//!   second-order duals in those few directions and `H = Aᵀ g'' A`
//!   ([`crate::numeric::linear`]);
//! * otherwise stack-allocated `Dual2SVec<N>` for up to 8 parameters, and
//!   heap `Dual2Vec<Dyn>` beyond;
//! * gradient-only calls ([`ModelFunctions::loglik_gradient`], for
//!   fitting) use first-order duals.

use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Model, TermSource};
use crate::numeric::compiled::{CompileError, Tape, Workspace};
use crate::numeric::data::{DataError, DataSchema, Dataset, domain_label, show};
use crate::numeric::derivatives::DerivativeTape;
use crate::numeric::domain::Interval;
use crate::numeric::eval::{EvalError, describe, eval_f64, gradient_hessian};
use crate::numeric::linear::{LinearHessian, LinearWorkspace};
use crate::numeric::separable::{Separable, SeparableAt};
use crate::structure::Structure;
use nalgebra::{DMatrix, DVector, Dyn, U1};
use num_dual::{Derivative, Dual2SVec64, Dual2Vec, DualDVec64, DualNum, DualSVec64};
use rayon::prelude::*;
use std::fmt;
use std::sync::OnceLock;

mod engines;
pub(crate) use engines::CHUNK;
mod error;

use error::*;
pub use error::{NumericError, Wording};

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

/// A parameter's domain as numbers.
#[derive(Clone, Debug)]
struct ParamInfo {
    name: Name,
    interval: Interval,
    label: String,
}

/// How Hessians are computed for this model.
#[derive(Clone, Debug)]
enum Strategy {
    /// `Σ c_k(θ) g_k(x)`: coefficients' derivatives once per θ.
    Separable(Box<Separable>),
    /// θ through a few linear forms, the structure's row forms.
    Linear(Box<LinearHessian>),
    /// No structure: compiled symbolic derivatives when they are cheaper
    /// than duals (built on first use: deriving a model does not need
    /// them), else second-order duals.
    Dense(OnceLock<Option<Box<DerivativeTape>>>),
}

impl Strategy {
    /// The one place the row engine is chosen: the separable engine when
    /// the structure has a separable split (and its data factors compile),
    /// else the linear engine when the structure's row forms are at most
    /// 4 (fewer than the parameters), else compiled derivatives or dense
    /// duals ([`ModelFunctions::derivative_tape`]).
    fn choose(
        model: &Model,
        structure: &Structure,
        logp: &Expr,
        params: &[Name],
        inputs: &[Name],
    ) -> Strategy {
        let split = structure.separable(model);
        if let Some(s) = split.and_then(|split| Separable::from_split(split, params, inputs, logp))
        {
            return Strategy::Separable(Box::new(s));
        }
        // The log-density compiled, so its rewriting in η does too; should
        // a coefficient not (a constant folded differently), the dense
        // engine computes the same numbers.
        let linear = structure
            .row_forms(model)
            .and_then(|forms| LinearHessian::from_forms(forms, params.len(), inputs).ok())
            .flatten();
        linear.map_or(Strategy::Dense(OnceLock::new()), |lh| {
            Strategy::Linear(Box::new(lh))
        })
    }
}

/// Which row engine computes a model's scores and Hessians, chosen once
/// per model ([`ModelFunctions::engine`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// `log p = Σ c_k(θ) g_k(x)` as written ([`crate::structure::separable`]):
    /// the coefficients' derivatives once per θ, the data factors per row.
    Separable {
        /// The number of coefficients `c_k`, the constant factor's included.
        coefficients: usize,
    },
    /// θ through a few linear forms ([`crate::numeric::linear`]): per row the
    /// derivatives in the forms only.
    Linear {
        /// The number of forms.
        forms: usize,
    },
    /// The symbolic score and Hessian compiled into one tape
    /// ([`crate::numeric::derivatives`]), a block of rows at a time.
    Derivatives {
        /// Instructions per row.
        instructions: usize,
    },
    /// Second-order dual numbers in every direction.
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
        ModelFunctions::with_structure(model, &Structure::new())
    }

    /// [`ModelFunctions::new`] with `model`'s [`Structure`] (`model`'s
    /// own: the front door and the fit keep one and share it).
    pub(crate) fn with_structure(
        model: &Model,
        structure: &Structure,
    ) -> Result<ModelFunctions, NumericError> {
        let schema = DataSchema::from_model(model);
        let logp = model.logp_numeric();
        let names: Vec<Name> = model.param_names();
        let inputs = schema.names();
        let tape = Tape::compile(std::slice::from_ref(&logp), &names, &inputs)
            .map_err(NumericError::Compile)?;
        let params = model
            .params
            .iter()
            .map(|p| ParamInfo {
                name: p.name.clone(),
                interval: Interval::of(model, &p.domain),
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
        let strategy = Strategy::choose(model, structure, &logp, &names, &inputs);
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

    /// Which row engine computes scores and Hessians.
    pub fn engine(&self) -> Engine {
        match &self.strategy {
            Strategy::Separable(s) => Engine::Separable {
                coefficients: s.factors(),
            },
            Strategy::Linear(lh) => Engine::Linear { forms: lh.forms() },
            Strategy::Dense(_) => match self.derivative_tape() {
                Some(dt) => Engine::Derivatives {
                    instructions: dt.instructions(),
                },
                None => Engine::Dense,
            },
        }
    }

    /// A model without structure: its symbolic score and Hessian compiled
    /// once, on first use, if that is cheaper per row than the dense
    /// engine's duals (at most `1 + d + d²` times the dual tape's
    /// instructions: a dual instruction carries that many numbers).
    pub(super) fn derivative_tape(&self) -> Option<&DerivativeTape> {
        let Strategy::Dense(cell) = &self.strategy else {
            return None;
        };
        cell.get_or_init(|| {
            let d = self.params.len();
            let (plain, _, per_row) = self.tape.instruction_counts();
            let budget = (plain + per_row).saturating_mul(1 + d + d * d);
            let names = self.param_names();
            DerivativeTape::new(&self.logp, &names, &self.schema.names(), budget).map(Box::new)
        })
        .as_deref()
    }

    /// Does the model use the linear-form Hessian (θ entering through a few
    /// linear forms)? The number of forms, if so.
    pub fn linear_forms(&self) -> Option<usize> {
        match self.engine() {
            Engine::Linear { forms } => Some(forms),
            _ => None,
        }
    }

    /// Is the log-density data-separable, `Σ_k c_k(θ) g_k(x)` term by term
    /// (see [`Separable`])? The number of coefficients `c_k`, if so.
    pub fn separable_factors(&self) -> Option<usize> {
        match self.engine() {
            Engine::Separable { coefficients } => Some(coefficients),
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
                wording: Wording::Evaluation,
            });
        }
        for (p, &v) in self.params.iter().zip(theta.iter()) {
            if !p.interval.contains(v) {
                return Err(NumericError::OutsideDomain {
                    param: p.name.clone(),
                    value: v,
                    domain: p.label.clone(),
                    wording: Wording::Evaluation,
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
                wording: Wording::Evaluation,
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
                wording: Wording::Evaluation,
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

    /// Log-likelihood, gradient, observed information and empirical Fisher
    /// over the rows.
    pub fn summary(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
    ) -> Result<DataSummary, NumericError> {
        let d = self.params.len();
        let sym =
            |m: &[f64], sign: f64| DMatrix::from_fn(d, d, |i, j| sign * m[i.min(j) * d + i.max(j)]);
        let finite = |m: &DMatrix<f64>| m.iter().all(|v| v.is_finite());
        let checked = |out: DataSummary| {
            if !(out.loglik.is_finite()
                && out.gradient.iter().all(|v| v.is_finite())
                && finite(&out.observed_information)
                && finite(&out.empirical_fisher))
            {
                // Every row is finite (checked) but a sum overflows.
                return Err(sum_overflow(out.loglik));
            }
            Ok(out)
        };
        if let Strategy::Linear(lh) = &self.strategy {
            // Linear forms: both matrices by the Gram kernel.
            self.check_params(theta)?;
            self.check_data(theta, data)?;
            let s = self.sum_linear(lh, theta, data, true)?;
            if let Some((row, value)) = s.first_overflow {
                return Err(NumericError::OuterOverflow { row, value });
            }
            return checked(DataSummary {
                n_rows: data.n_rows(),
                loglik: s.v,
                gradient: DVector::from_vec(s.g),
                observed_information: sym(&s.h, -1.0),
                empirical_fisher: sym(&s.outer.unwrap_or_default(), 1.0),
            });
        }
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
        checked(DataSummary {
            n_rows: data.n_rows(),
            loglik: acc.v,
            gradient: DVector::from_vec(acc.g),
            observed_information: sym(&acc.h, -1.0),
            empirical_fisher: sym(&acc.f, 1.0),
        })
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
                    let (v, g, h) = acc;
                    // Σ_k c_k(θ)·Σ_i g_k(x_i): the factors' column sums,
                    // then the coefficients' derivatives once a block.
                    if let Some((bv, bg, bh)) = at.block_sums(sep, x, n, w) {
                        *v += bv;
                        g.iter_mut().zip(&bg).for_each(|(a, x)| *a += x);
                        h.iter_mut().zip(&bh).for_each(|(a, x)| *a += x);
                        return Ok(());
                    }
                    let shared = at.hessian_is_shared();
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
        } else if let Strategy::Linear(lh) = &self.strategy {
            let s = self.sum_linear(lh, theta, data, false)?;
            (s.v, s.g, s.h)
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
            wording: Wording::Evaluation,
        })?);
    }
    Ok(DVector::from_vec(vals))
}
