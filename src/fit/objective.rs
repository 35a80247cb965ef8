//! The function a fit maximises — a model's log-likelihood over a dataset —
//! with its gradient and two information matrices, computed the cheapest
//! exact way the model allows.
//!
//! * **Linear forms** (GLMs and any model whose θ enters through a few
//!   forms `a(z)ᵀθ + c(z)`, see [`super::linear`]): per row only the forms'
//!   values and a few scalars are evaluated; the information is the
//!   weighted Gram sum `Σ A_kᵀ W_kl A_l` ([`super::gram`]).
//! * **Closed form** (any other model whose expected Fisher information
//!   [`crate::fisher::derive`] finds): the per-row FIM compiled once; a
//!   model without covariates evaluates it once and multiplies by n.
//! * **No closed form**: the observed information stands in for the
//!   expected one, and [`InformationKind::Observed`] says so.
//!
//! Log-likelihood, gradient and observed information otherwise come from
//! [`crate::numeric::ModelFunctions`].

use super::diagnose::BinaryDesign;
use super::error::FitError;
use super::linear::{LinearStructure, from_forms};
use crate::fisher::{DeriveConfig, derive};
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Model, TermSource};
use crate::numeric::compiled::{Tape, load_column};
use crate::numeric::domain::{Interval, param_intervals};
use crate::numeric::eval::EvalError;
use crate::numeric::gram::{Designs, weighted_gram};
use crate::numeric::{Dataset, ModelFunctions, NumericError};
use crate::structure::Structure;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// What a fit needs from a model and data. All quantities are totals over
/// the rows (not means).
pub trait Objective: Sync {
    /// Number of parameters.
    fn dim(&self) -> usize;
    /// Number of rows.
    fn n_rows(&self) -> usize;
    /// Parameter names.
    fn param_names(&self) -> Vec<Name>;
    /// Is θ inside every parameter's domain?
    fn check(&self, theta: &DVector<f64>) -> Result<(), FitError>;
    /// Log-likelihood `ℓ(θ) = Σ log p(x_i; θ)`.
    fn loglik(&self, theta: &DVector<f64>) -> Result<f64, FitError>;
    /// `ℓ(θ)` and its gradient (the total score).
    fn loglik_gradient(&self, theta: &DVector<f64>) -> Result<(f64, DVector<f64>), FitError>;
    /// Expected (Fisher) information `Σ F_row(θ)`, or the stand-in
    /// [`Objective::information_kind`] names.
    fn expected_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError>;
    /// Observed information `−∇²ℓ(θ)`.
    fn observed_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError>;
    /// What [`Objective::expected_information`] computes.
    fn information_kind(&self) -> InformationKind;
    /// A starting point inside every domain.
    fn default_start(&self) -> DVector<f64>;
    /// Why the log-likelihood keeps increasing towards `far` (a point far
    /// along a direction of unbounded increase), when recognised.
    fn explain_unbounded(&self, far: &DVector<f64>) -> Option<String> {
        let _ = far;
        None
    }
    /// Each parameter's domain, open, ±∞ where unbounded.
    fn bounds(&self) -> Vec<Interval> {
        vec![Interval::REAL; self.dim()]
    }
    /// A binary response through one linear predictor: its design and
    /// signs, for the separation diagnosis.
    fn binary_design(&self) -> Option<BinaryDesign<'_>> {
        None
    }
    /// The model's name, for the fit's report.
    fn model_name(&self) -> String {
        String::new()
    }
    /// For each parameter, its design column's label (see
    /// [`Problem::column_labels`]); the names by default.
    fn column_labels(&self) -> Vec<String> {
        self.param_names().iter().map(|n| n.to_string()).collect()
    }
    /// The unweighted design Gram matrix of a linear-form model, for the
    /// collinearity check before a fit ([`Problem::design_gram`]).
    fn design_gram(&self) -> Option<DMatrix<f64>> {
        None
    }
    /// Deviance and null deviance at θ̂ ([`Problem::deviance`]).
    fn deviance(&self, theta: &DVector<f64>, loglik: f64) -> Option<super::result::Deviance> {
        let _ = (theta, loglik);
        None
    }
    /// `Σ w` under frequency weights; `None` without.
    fn weights_sum(&self) -> Option<f64> {
        None
    }
}

/// Why ℓ rises without bound along a direction for a 0/1 response whose
/// log-likelihood far along it is `ll`: (quasi-)complete separation.
pub(super) fn separation_words(ll: f64) -> String {
    if ll > -1e-3 {
        "the data are completely separated: a linear combination of the covariates predicts \
         the 0/1 response exactly for every row (fitted probabilities tend to 0 and 1)"
            .into()
    } else {
        "the data are quasi-completely separated: a linear combination of the covariates \
         predicts the 0/1 response exactly for some of the rows"
            .into()
    }
}

/// How the expected information is computed.
#[derive(Clone, Debug, PartialEq)]
pub enum InformationKind {
    /// Weighted Gram sums over linear forms (`m` forms).
    LinearForms {
        /// Number of forms (1 for a GLM).
        forms: usize,
    },
    /// The closed-form FIM from `fisher::derive`, per row or times n.
    ClosedForm {
        /// Evaluated per row (the FIM depends on covariates).
        per_row: bool,
    },
    /// No closed form: the observed information is used instead.
    Observed {
        /// Why there is no closed form.
        reason: String,
    },
}

impl InformationKind {
    /// Is it the expected (Fisher) information?
    pub fn is_expected(&self) -> bool {
        !matches!(self, InformationKind::Observed { .. })
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            InformationKind::LinearForms { forms: 1 } => {
                "expected, closed form, X^T W X over the linear predictor".into()
            }
            InformationKind::LinearForms { forms } => {
                format!("expected, closed form, weighted Gram sums over {forms} linear forms")
            }
            InformationKind::ClosedForm { per_row: true } => {
                "expected, closed form, summed over rows".into()
            }
            InformationKind::ClosedForm { per_row: false } => {
                "expected, closed form, n F(theta)".into()
            }
            InformationKind::Observed { reason } => {
                format!("observed information (no closed-form expectation: {reason})")
            }
        }
    }
}

/// A model and a dataset, ready to fit.
#[derive(Debug)]
pub struct Problem {
    functions: ModelFunctions,
    data: Dataset,
    engine: Engine,
    /// The model's data are 0/1 (for the separation diagnosis).
    binary_response: bool,
    /// Default start: 0 for real parameters, 1 for positive ones, the
    /// middle of a bounded interval, one inside a half-bounded one.
    start: DVector<f64>,
    /// Each parameter's domain, when its ends are constants.
    bounds: Vec<Interval>,
    /// The 0/1 response's column in the dataset, when the model has
    /// exactly one data variable and it is binary.
    response: Option<usize>,
    /// A GLM family with a saturated model, for the deviance.
    glm: Option<GlmFamily>,
    /// Frequency weights, one per row (finite, ≥ 0), and their sum.
    weights: Option<(Vec<f64>, f64)>,
}

/// A model that is one `y ~ family(...)` statement through one linear
/// predictor, of a family whose saturated model is one mean per row and
/// has no dispersion parameter.
#[derive(Debug)]
struct GlmFamily {
    kind: GlmKind,
    /// The response's column in the dataset.
    response: usize,
}

#[derive(Debug)]
enum GlmKind {
    Bernoulli,
    Poisson,
    /// The number of trials, in covariates and constants.
    Binomial(Expr),
}

impl GlmKind {
    fn name(&self) -> &'static str {
        match self {
            GlmKind::Bernoulli => "bernoulli",
            GlmKind::Poisson => "poisson",
            GlmKind::Binomial(_) => "binomial",
        }
    }
}

/// `x log y` with `0 log 0 = 0`.
fn xlogy(x: f64, y: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x * y.ln() }
}

/// Log-density of `y` for the family with mean-parameter `mu` (a
/// probability for Bernoulli and binomial, the mean for Poisson) and
/// `trials` (binomial).
fn family_logp(kind: &GlmKind, y: f64, mu: f64, trials: f64) -> f64 {
    use crate::numeric::special::lgamma;
    match kind {
        GlmKind::Bernoulli => xlogy(y, mu) + xlogy(1.0 - y, 1.0 - mu),
        GlmKind::Poisson => xlogy(y, mu) - mu - lgamma(y + 1.0),
        GlmKind::Binomial(_) => {
            lgamma(trials + 1.0) - lgamma(y + 1.0) - lgamma(trials - y + 1.0)
                + xlogy(y, mu)
                + xlogy(trials - y, 1.0 - mu)
        }
    }
}

#[derive(Debug)]
enum Engine {
    Linear(Box<LinearEngine>),
    ClosedForm { tape: Tape, per_row: bool },
    Observed { reason: String },
}

/// The GLM fast path's precomputed state.
#[derive(Debug)]
struct LinearEngine {
    structure: LinearStructure,
    /// Per form: the n × d design, row-major.
    designs: Vec<Vec<f64>>,
    /// Per form: the offsets (n), `None` when all are zero.
    offsets: Vec<Option<Vec<f64>>>,
    /// Outputs: log p, then ∂/∂η_k. Inputs: η, then the model's inputs.
    value_grad: Tape,
    /// Outputs: −∂²/∂η_k∂η_l (k ≤ l).
    observed: Tape,
    /// Outputs: E[−∂²/∂η_k∂η_l] (k ≤ l). Inputs: η, then only the
    /// model's inputs the weights use (their columns in the dataset).
    expected: Option<(Tape, Vec<usize>)>,
}

/// A per-row failure: the row (from 0) and the error.
type RowErr = (usize, EvalError);

impl Problem {
    /// Prepare a fit of `model` to `data` (read with the model's schema,
    /// e.g. [`crate::numeric::DataSchema::read_csv`]).
    pub fn new(model: &Model, data: Dataset) -> Result<Problem, FitError> {
        Problem::with_structure(model, data, &Structure::new())
    }

    /// [`Problem::new`] with `model`'s [`Structure`] (`model`'s own): its
    /// separable split for the numeric functions, its linear forms for the
    /// GLM fast path.
    pub(crate) fn with_structure(
        model: &Model,
        data: Dataset,
        structure: &Structure,
    ) -> Result<Problem, FitError> {
        let functions = ModelFunctions::with_structure(model, structure)?;
        if data.names() != functions.input_names().as_slice() {
            return Err(FitError::Config(
                "the dataset's columns are not the model's inputs".into(),
            ));
        }
        let binary_response = model.terms.iter().any(
            |t| matches!(&t.source, TermSource::Family { family, .. } if *family == "bernoulli"),
        ) || (!model.data.is_empty()
            && model.data.iter().all(|d| d.support.is_binary()));
        let start = default_start(model);
        let bounds = param_intervals(model);
        let response = (binary_response && model.data.len() == 1)
            .then(|| data.names().iter().position(|n| *n == model.data[0].name))
            .flatten();
        let linear = if functions.schema().has_moving_support() {
            None
        } else {
            structure
                .linear_forms(model)
                .and_then(|forms| from_forms(model, forms))
        };
        let engine = match linear.and_then(|s| LinearEngine::new(s, &functions, &data).ok()) {
            Some(e) => Engine::Linear(Box::new(e)),
            None => closed_form_engine(model, &functions),
        };
        let glm = match &engine {
            Engine::Linear(e) if e.structure.m() == 1 => glm_family(model, &data),
            _ => None,
        };
        Ok(Problem {
            functions,
            data,
            engine,
            binary_response,
            start,
            bounds,
            response,
            glm,
            weights: None,
        })
    }

    /// The same problem with frequency weights: row i counts `w[i]`
    /// times in every sum over the rows (log-likelihood, score, both
    /// informations, deviance, sandwich), as if repeated; `n` in BIC and
    /// the degrees of freedom is `Σ w` (statsmodels' `freq_weights`).
    /// Each weight must be finite and ≥ 0, and their sum positive.
    pub fn with_weights(mut self, w: Vec<f64>) -> Result<Problem, FitError> {
        if w.len() != self.n_rows() {
            return Err(FitError::Config(format!(
                "{} weights for {} rows",
                w.len(),
                self.n_rows()
            )));
        }
        if let Some((i, v)) = w
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
        {
            return Err(FitError::Config(format!(
                "row {}: the weight {v} is not a finite number ≥ 0",
                i + 1
            )));
        }
        let total: f64 = w.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(FitError::Config(
                "the weights sum to 0 (or overflow): there is nothing to fit".into(),
            ));
        }
        self.weights = Some((w, total));
        Ok(self)
    }

    /// The frequency weights, when given.
    pub fn weights(&self) -> Option<&[f64]> {
        self.weights.as_ref().map(|(w, _)| w.as_slice())
    }

    /// The number of observations: `Σ w` with frequency weights, else
    /// the number of rows.
    pub fn n_obs(&self) -> f64 {
        self.weights
            .as_ref()
            .map_or(self.n_rows() as f64, |(_, t)| *t)
    }

    /// Weight of row `r` (1 without weights).
    fn weight(&self, r: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |(w, _)| w[r])
    }

    /// Deviance and null deviance at `theta` (whose log-likelihood is
    /// `loglik`), for a GLM family with a saturated model; `None` for any
    /// other model. The null model is the intercept alone, with the
    /// model's offsets and any covariates outside the linear predictor
    /// (an exposure `t·exp(η)`): a one-parameter Newton iteration in the
    /// linear predictor, from the estimate's intercept.
    pub fn deviance(&self, theta: &DVector<f64>, loglik: f64) -> Option<super::result::Deviance> {
        let glm = self.glm.as_ref()?;
        let Engine::Linear(e) = &self.engine else {
            return None;
        };
        let n = self.n_rows();
        let names = self.data.names();
        let mut ys = Vec::with_capacity(n);
        let mut trials = Vec::with_capacity(n);
        for r in 0..n {
            let x = self.data.row(r)?;
            ys.push(x[glm.response]);
            trials.push(match &glm.kind {
                GlmKind::Binomial(t) => crate::numeric::eval::eval_f64(t, &|v| {
                    names.iter().position(|n| **n == *v).map(|j| x[j])
                })
                .ok()?,
                _ => 1.0,
            });
        }
        let saturated: f64 = ys
            .iter()
            .zip(&trials)
            .enumerate()
            .map(|(r, (&y, &t))| {
                let mu = match glm.kind {
                    GlmKind::Poisson => y,
                    _ => y / t,
                };
                let w = self.weight(r);
                if w == 0.0 {
                    0.0
                } else {
                    w * family_logp(&glm.kind, y, mu, t)
                }
            })
            .sum();
        let deviance = 2.0 * (saturated - loglik);
        if !(saturated.is_finite() && deviance.is_finite()) {
            return None;
        }
        let intercept = e.structure.forms[0].coeffs.iter().position(|c| c.is_one());
        let null = match intercept {
            None => Err("the model has no intercept".to_string()),
            Some(i) => e.null_loglik(&self.data, self.weights(), theta[i]),
        };
        let (null_deviance, null_note) = match null {
            Ok(l) if f64::is_finite(l) => (Some(2.0 * (saturated - l)), None),
            Ok(_) => (
                None,
                Some("the null model's log-likelihood is not finite".into()),
            ),
            Err(why) => (None, Some(why)),
        };
        Some(super::result::Deviance {
            family: glm.kind.name(),
            saturated_loglik: saturated,
            deviance: deviance.max(0.0),
            null_deviance: null_deviance.map(|d| d.max(0.0)),
            null_note,
        })
    }

    /// The linear predictor `aᵀθ + c` (coefficients and offset, constants
    /// substituted) of a model whose log-density depends on θ through one
    /// linear form (a GLM); `None` otherwise.
    pub fn linear_predictor(&self) -> Option<(Vec<Expr>, Expr)> {
        match &self.engine {
            Engine::Linear(e) if e.structure.m() == 1 => {
                let f = &e.structure.forms[0];
                Some((f.coeffs.clone(), f.offset.clone()))
            }
            _ => None,
        }
    }

    /// Per-row deviance residuals `sign(y − μ)√(2(log p(y; y) − log p(y; μ)))`
    /// at the fitted means `mu` (one per row, the response's mean: n·p for
    /// a binomial), for the families of [`Problem::deviance`]; `None` for
    /// any other model. Frequency weights do not enter: a row of weight w
    /// stands for w rows with the same residual.
    pub fn deviance_residuals(&self, mu: &[f64]) -> Option<Result<Vec<f64>, String>> {
        let glm = self.glm.as_ref()?;
        let names = self.data.names();
        let one = |r: usize| -> Result<f64, String> {
            let x = self.data.row(r).ok_or("a row is missing")?;
            let y = x[glm.response];
            let t = match &glm.kind {
                GlmKind::Binomial(t) => crate::numeric::eval::eval_f64(t, &|v| {
                    names.iter().position(|n| **n == *v).map(|j| x[j])
                })
                .map_err(|e| format!("row {}: the number of trials: {e}", r + 1))?,
                _ => 1.0,
            };
            let (sat, fit) = match glm.kind {
                GlmKind::Poisson => (y, mu[r]),
                _ => (y / t, mu[r] / t),
            };
            let d = 2.0 * (family_logp(&glm.kind, y, sat, t) - family_logp(&glm.kind, y, fit, t));
            if !d.is_finite() {
                return Err(format!(
                    "row {}: the deviance term at the fitted mean {} is not finite",
                    r + 1,
                    mu[r]
                ));
            }
            Ok(d.max(0.0).sqrt().copysign(y - mu[r]))
        };
        Some((0..self.n_rows()).map(one).collect())
    }

    /// The compiled model.
    pub fn functions(&self) -> &ModelFunctions {
        &self.functions
    }

    /// The data.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// Are the model's data binary (a Bernoulli-type response)?
    pub fn binary_response(&self) -> bool {
        self.binary_response
    }

    /// For each parameter, the label of its design column when the model
    /// has linear-form structure (`z1`, `(intercept)`), else its name.
    pub fn column_labels(&self) -> Vec<String> {
        let names = self.functions.param_names();
        match &self.engine {
            Engine::Linear(e) => (0..names.len())
                .map(|i| {
                    let cols: Vec<String> = e
                        .structure
                        .forms
                        .iter()
                        .map(|f| &f.coeffs[i])
                        .filter(|c| !c.is_zero())
                        .map(|c| {
                            if c.is_one() {
                                "(intercept)".to_string()
                            } else {
                                crate::ir::text::render(c, &Default::default())
                            }
                        })
                        .collect();
                    if cols.is_empty() || e.structure.m() > 1 {
                        names[i].to_string()
                    } else {
                        cols.join("/")
                    }
                })
                .collect(),
            _ => names.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// The unweighted Gram matrix `Σ_k A_kᵀ A_k` of the design (GLM
    /// structure only; rows of frequency weight 0 left out): singular
    /// exactly when columns are collinear.
    pub fn design_gram(&self) -> Option<DMatrix<f64>> {
        let Engine::Linear(e) = &self.engine else {
            return None;
        };
        let d = self.dim();
        let n = self.n_rows();
        let m = e.structure.m();
        let mut total = DMatrix::zeros(d, d);
        for k in 0..m {
            let forms = [e.designs[k].as_slice()];
            let g = weighted_gram(
                Designs {
                    forms: &forms,
                    n,
                    d,
                },
                |rows, w| {
                    // Rows of weight 0 are not in the data.
                    for (slot, r) in w[0].iter_mut().zip(rows) {
                        *slot = if self.weight(r) == 0.0 { 0.0 } else { 1.0 };
                    }
                    Ok::<(), ()>(())
                },
            )
            .ok()?;
            total += g;
        }
        Some(total)
    }

    /// With frequency weights, outside the linear-form engine: the
    /// weighted sums `Σ w_i log p_i`, `Σ w_i s_i` and (when `hessian`)
    /// `Σ w_i H_i`, rows of weight 0 left out. Any row that is not finite
    /// is the model's error, as without weights.
    fn weighted_sums(
        &self,
        theta: &DVector<f64>,
        hessian: bool,
    ) -> Result<(f64, DVector<f64>, DMatrix<f64>), FitError> {
        let d = self.dim();
        let w = self.weights().unwrap_or(&[]);
        let (v, g, h) = self.functions.fold_rows(
            theta,
            &self.data,
            || {
                (
                    0.0,
                    vec![0.0; d],
                    vec![0.0; if hessian { d * d } else { 0 }],
                )
            },
            |acc, r| {
                let wr = w.get(r.row).copied().unwrap_or(1.0);
                if wr == 0.0 {
                    return;
                }
                acc.0 += wr * r.log_density;
                acc.1
                    .iter_mut()
                    .zip(r.score)
                    .for_each(|(a, s)| *a += wr * s);
                if hessian {
                    acc.2
                        .iter_mut()
                        .zip(r.hessian)
                        .for_each(|(a, s)| *a += wr * s);
                }
            },
            |mut a, b| {
                a.0 += b.0;
                a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y);
                a.2.iter_mut().zip(&b.2).for_each(|(x, y)| *x += y);
                a
            },
        )?;
        let h = if hessian {
            let h = DMatrix::from_row_slice(d, d, &h);
            (&h + h.transpose()) * 0.5
        } else {
            DMatrix::zeros(d, d)
        };
        let g = DVector::from_vec(g);
        if !(v.is_finite() && g.iter().all(|x| x.is_finite()) && h.iter().all(|x| x.is_finite())) {
            return Err(FitError::Numeric(NumericError::SumOverflow {
                value: if v.is_finite() { f64::INFINITY } else { v },
            }));
        }
        Ok((v, g, h))
    }

    /// The error for a failed row: the model's own diagnosis (which names
    /// the row and the statement).
    fn row_failure(&self, theta: &DVector<f64>, (row, e): RowErr) -> FitError {
        match self.functions.summary(theta, &self.data) {
            Err(err) => FitError::Numeric(err),
            Ok(_) => FitError::Numeric(NumericError::NonFinite {
                row: Some(row + 1),
                term: None,
                derivative: false,
                error: e,
            }),
        }
    }
}

/// The model as a GLM family with a saturated model: one `~` statement
/// of `bernoulli`, `poisson` or `binomial` (trials free of parameters)
/// and nothing else.
fn glm_family(model: &Model, data: &Dataset) -> Option<GlmFamily> {
    let [term] = model.terms.as_slice() else {
        return None;
    };
    let TermSource::Family {
        family,
        data: ys,
        args,
    } = &term.source
    else {
        return None;
    };
    let [y] = ys.as_slice() else {
        return None;
    };
    let response = data.names().iter().position(|n| n == y)?;
    let kind = match *family {
        "bernoulli" => GlmKind::Bernoulli,
        "poisson" => GlmKind::Poisson,
        "binomial" => {
            let trials = model.substitute_consts(args.first()?.scalar()?);
            if model.params.iter().any(|p| trials.contains_var(&p.name)) {
                return None;
            }
            GlmKind::Binomial(trials)
        }
        _ => return None,
    };
    Some(GlmFamily { kind, response })
}

/// A point inside every parameter's domain. Parameters in (0, 1) start
/// at 1/(u + 1), u the number of them, so probabilities that must sum
/// below 1 (`categorical([p1, p2, 1 - p1 - p2])`) start inside.
fn default_start(model: &Model) -> DVector<f64> {
    let bounds: Vec<(Option<f64>, Option<f64>)> = param_intervals(model)
        .into_iter()
        .map(|iv| (iv.lower(), iv.upper()))
        .collect();
    let is_unit = |b: &(Option<f64>, Option<f64>)| *b == (Some(0.0), Some(1.0));
    let units = bounds.iter().filter(|b| is_unit(b)).count();
    DVector::from_iterator(
        bounds.len(),
        bounds.iter().map(|b| match *b {
            _ if is_unit(b) => 1.0 / (units as f64 + 1.0),
            (None, None) => 0.0,
            (Some(lo), None) => lo + 1.0,
            (None, Some(hi)) => hi - 1.0,
            (Some(lo), Some(hi)) => 0.5 * (lo + hi),
        }),
    )
}

/// The closed-form engine, or the observed-information stand-in.
fn closed_form_engine(model: &Model, functions: &ModelFunctions) -> Engine {
    let config = DeriveConfig {
        max_symbolic_inverse: 0,
        simplify: None,
        ..DeriveConfig::default()
    };
    let derivation = derive(model, &config);
    let definitions = derivation.definitions_with_consts(model);
    let cf = match derivation.fisher {
        Ok(cf) => cf,
        Err(b) => {
            return Engine::Observed {
                reason: b.to_string(),
            };
        }
    };
    let d = cf.fim.len();
    let mut entries = Vec::with_capacity(d * (d + 1) / 2);
    for i in 0..d {
        for j in i..d {
            entries.push(model.substitute_consts(&cf.fim[i][j]));
        }
    }
    let params = functions.param_names();
    let inputs = functions.input_names();
    // A linear predictor in covariates makes every entry per row.
    let per_row = entries
        .iter()
        .chain(definitions.iter().map(|(_, e)| e))
        .any(|e| e.free_vars().iter().any(|v| inputs.contains(v)));
    let mut names: Vec<Name> = params.clone();
    names.extend(inputs);
    match Tape::compile_with_definitions(&entries, &definitions, &[] as &[&str], &names) {
        Ok(tape) => Engine::ClosedForm { tape, per_row },
        Err(e) => Engine::Observed {
            reason: format!("the closed form does not compile: {e}"),
        },
    }
}

impl LinearEngine {
    fn new(
        structure: LinearStructure,
        functions: &ModelFunctions,
        data: &Dataset,
    ) -> Result<LinearEngine, FitError> {
        let inputs = functions.input_names();
        let d = functions.param_names().len();
        let m = structure.m();
        let n = data.n_rows();
        let w = inputs.len();
        let compile = |exprs: &[Expr], extra: &[Name]| {
            let mut names: Vec<Name> = extra.to_vec();
            names.extend(inputs.iter().cloned());
            Tape::compile(exprs, &[] as &[&str], &names)
                .map_err(|e| FitError::Numeric(NumericError::Compile(e)))
        };
        // Coefficients and offsets per row.
        let mut coef_exprs = Vec::with_capacity(m * (d + 1));
        for f in &structure.forms {
            coef_exprs.extend(f.coeffs.iter().cloned());
            coef_exprs.push(f.offset.clone());
        }
        let coef_tape = compile(&coef_exprs, &[])?;
        let width = m * (d + 1);
        let mut coefs = vec![0.0; n * width];
        coefs
            .par_chunks_mut(width * 1024)
            .enumerate()
            .try_for_each(|(c, chunk)| {
                // The chunk as one block; row by row when it fails, for the
                // first failing row.
                let (first, len) = (c * 1024, chunk.len() / width);
                let rows = &data.values()[first * w..(first + len) * w];
                let mut block = coef_tape.block_workspace(len);
                if coef_tape.eval_block(rows, len, &mut block).is_ok() {
                    for k in 0..width {
                        let col = &coef_tape.block_output(&block, k)[..len];
                        for (out, &v) in chunk.chunks_mut(width).zip(col) {
                            out[k] = v;
                        }
                    }
                    return Ok(());
                }
                let mut ws = coef_tape.workspace::<f64>();
                for (i, out) in chunk.chunks_mut(width).enumerate() {
                    let r = first + i;
                    let x = data.row(r).unwrap_or(&[]);
                    coef_tape.eval_row(x, &mut ws).map_err(|e| (r, e))?;
                    for (k, o) in out.iter_mut().enumerate() {
                        *o = coef_tape.output(&ws, k);
                    }
                }
                Ok::<(), RowErr>(())
            })
            .map_err(|(r, e)| {
                FitError::Numeric(NumericError::NonFinite {
                    row: Some(r + 1),
                    term: Some("a covariate coefficient of the linear predictor".into()),
                    derivative: false,
                    error: e,
                })
            })?;
        let mut designs = vec![vec![0.0; n * d]; m];
        let mut offsets = vec![vec![0.0; n]; m];
        for r in 0..n {
            let row = &coefs[r * width..(r + 1) * width];
            for k in 0..m {
                let part = &row[k * (d + 1)..(k + 1) * (d + 1)];
                designs[k][r * d..(r + 1) * d].copy_from_slice(&part[..d]);
                offsets[k][r] = part[d];
            }
        }
        let offsets = offsets
            .into_iter()
            .map(|o| {
                if o.iter().all(|&v| v == 0.0) {
                    None
                } else {
                    Some(o)
                }
            })
            .collect();
        let mut vg = vec![structure.logp.clone()];
        vg.extend(structure.gradient.iter().cloned());
        let value_grad = compile(&vg, &structure.eta)?;
        let observed = compile(&structure.neg_hessian, &structure.eta)?;
        let expected = match &structure.weights {
            Some(ws) => {
                // Only the inputs the weights read (often none: p(1 − p)
                // depends on η alone), so a block copies no unused columns.
                let used: Vec<usize> = (0..inputs.len())
                    .filter(|&j| ws.iter().any(|e| e.contains_var(&inputs[j])))
                    .collect();
                let mut names: Vec<Name> = structure.eta.to_vec();
                names.extend(used.iter().map(|&j| inputs[j].clone()));
                let tape = Tape::compile(ws, &[] as &[&str], &names)
                    .map_err(|e| FitError::Numeric(NumericError::Compile(e)))?;
                Some((tape, used))
            }
            None => None,
        };
        Ok(LinearEngine {
            structure,
            designs,
            offsets,
            value_grad,
            observed,
            expected,
        })
    }

    /// The intercept-only model's log-likelihood `max_c Σ g(c + o_i)`
    /// (one form, its offsets `o`): Newton's method on `c` with step
    /// halving, from `c = start` (else 0, else 1, whichever is finite),
    /// until the Newton decrement is negligible against ℓ's rounding or
    /// the relative step is.
    fn null_loglik(
        &self,
        data: &Dataset,
        weights: Option<&[f64]>,
        start: f64,
    ) -> Result<f64, String> {
        self.null_fit(data, weights, start).map(|(v, _)| v)
    }

    /// [`LinearEngine::null_loglik`] and the number of Newton steps.
    fn null_fit(
        &self,
        data: &Dataset,
        weights: Option<&[f64]>,
        start: f64,
    ) -> Result<(f64, usize), String> {
        let n = data.n_rows();
        let offsets = self.offsets[0].as_deref();
        // Chunks of rows in parallel, their sums added in chunk order (the
        // same total whatever the threads; one chunk below 4096 rows).
        const CH: usize = 4096;
        let chunk = |rows: std::ops::Range<usize>, c: f64, second: bool| {
            let (mut v, mut g, mut h) = (0.0, 0.0, 0.0);
            let eta = |_: usize, r: usize| c + offsets.map_or(0.0, |o| o[r]);
            let wr = |r: usize| weights.map_or(1.0, |w| w[r]);
            rows_in_blocks(
                &self.value_grad,
                (data, weights),
                rows.clone(),
                1,
                eta,
                |r, out| {
                    v += wr(r) * out(0);
                    g += wr(r) * out(1);
                },
            )
            .ok()?;
            if second {
                rows_in_blocks(&self.observed, (data, weights), rows, 1, eta, |r, out| {
                    h += wr(r) * out(0);
                })
                .ok()?;
            }
            Some((v, g, h))
        };
        let eval = |c: f64, second: bool| -> Option<(f64, f64, f64)> {
            let parts: Vec<Option<(f64, f64, f64)>> = (0..n.div_ceil(CH))
                .into_par_iter()
                .map(|k| chunk(k * CH..((k + 1) * CH).min(n), c, second))
                .collect();
            let (mut v, mut g, mut h) = (0.0, 0.0, 0.0);
            for p in parts {
                let (pv, pg, ph) = p?;
                (v, g, h) = (v + pv, g + pg, h + ph);
            }
            (v.is_finite() && g.is_finite() && h.is_finite()).then_some((v, g, h))
        };
        let fail = || "the intercept-only fit with the offset failed".to_string();
        let (mut c, (mut v, mut g, mut h)) = [start, 0.0, 1.0]
            .into_iter()
            .find_map(|c| eval(c, true).map(|e| (c, e)))
            .ok_or_else(fail)?;
        for step_no in 1..=200 {
            if h <= 0.0 {
                return Err(fail());
            }
            let step = g / h;
            let mut t = 1.0;
            let mut next = None;
            for _ in 0..60 {
                let c1 = c + t * step;
                if let Some((v1, _, _)) = eval(c1, false)
                    && v1 >= v - 1e-12 * v.abs()
                {
                    next = Some(c1);
                    break;
                }
                t *= 0.5;
            }
            let c1 = next.ok_or_else(fail)?;
            let done = (c1 - c).abs() <= 1e-14 * c.abs().max(1.0);
            c = c1;
            (v, g, h) = eval(c, true).ok_or_else(fail)?;
            // The Newton decrement g²/h is twice the gain left: below the
            // rounding of a sum of n log-densities (≈ 1e-13·|ℓ| at 10⁶
            // rows) the steps chase rounding noise in g, and at 10⁶ rows
            // they did so for all 200 iterations.
            if done || g * g < 1e-24 * h || g * g <= 1e-13 * h * v.abs().max(1.0) {
                return Ok((v, step_no));
            }
        }
        Err(fail())
    }

    /// η_k of row r at θ.
    fn eta(&self, k: usize, theta: &[f64], r: usize) -> f64 {
        let d = theta.len();
        let mut eta = dot(&self.designs[k][r * d..(r + 1) * d], theta);
        if let Some(o) = &self.offsets[k] {
            eta += o[r];
        }
        eta
    }

    /// Log-likelihood and gradient, in fixed chunks added in order.
    fn value_grad(
        &self,
        theta: &[f64],
        data: &Dataset,
        weights: Option<&[f64]>,
        with_grad: bool,
    ) -> Result<(f64, DVector<f64>), RowErr> {
        let d = theta.len();
        let m = self.structure.m();
        let n = data.n_rows();
        const CH: usize = 4096;
        let tape = &self.value_grad;
        let parts: Vec<(f64, Vec<f64>)> = (0..n.div_ceil(CH))
            .into_par_iter()
            .map(|c| {
                let mut v = 0.0;
                let mut g = vec![0.0; if with_grad { d } else { 0 }];
                let rows = c * CH..((c + 1) * CH).min(n);
                let eta = |k: usize, r: usize| self.eta(k, theta, r);
                rows_in_blocks(tape, (data, weights), rows, m, eta, |r, out| {
                    let wr = weights.map_or(1.0, |w| w[r]);
                    v += wr * out(0);
                    if with_grad {
                        for k in 0..m {
                            let gk = wr * out(1 + k);
                            let a = &self.designs[k][r * d..(r + 1) * d];
                            for (gi, ai) in g.iter_mut().zip(a) {
                                *gi += gk * ai;
                            }
                        }
                    }
                })?;
                Ok((v, g))
            })
            .collect::<Result<_, RowErr>>()?;
        let mut total = 0.0;
        let mut grad = DVector::zeros(d);
        for (v, g) in parts {
            total += v;
            if with_grad {
                grad += DVector::from_vec(g);
            }
        }
        Ok((total, grad))
    }

    /// `Σ A_kᵀ diag(W_kl) A_l` with W from `tape` (upper-triangle
    /// outputs; inputs η, then the dataset columns `used`), evaluated a
    /// chunk of rows at a time: η as one product per form, the weights
    /// with [`Tape::eval_block`].
    fn information(
        &self,
        tape: &Tape,
        used: &[usize],
        theta: &[f64],
        data: &Dataset,
        weights: Option<&[f64]>,
    ) -> Result<DMatrix<f64>, RowErr> {
        let d = theta.len();
        let m = self.structure.m();
        let pairs = m * (m + 1) / 2;
        let width = m + used.len();
        let forms: Vec<&[f64]> = self.designs.iter().map(|v| v.as_slice()).collect();
        weighted_gram(
            Designs {
                forms: &forms,
                n: data.n_rows(),
                d,
            },
            |rows, w| {
                let len = rows.len();
                let mut inputs = vec![0.0; len * width];
                for (i, r) in rows.clone().enumerate() {
                    let slot = &mut inputs[i * width..(i + 1) * width];
                    for (k, s) in slot[..m].iter_mut().enumerate() {
                        let mut eta = dot(&self.designs[k][r * d..(r + 1) * d], theta);
                        if let Some(o) = &self.offsets[k] {
                            eta += o[r];
                        }
                        *s = eta;
                    }
                    if !used.is_empty() {
                        let x = data.row(r).unwrap_or(&[]);
                        for (s, &j) in slot[m..].iter_mut().zip(used) {
                            *s = x.get(j).copied().unwrap_or(f64::NAN);
                        }
                    }
                }
                // Frequency weights scale each row's W; a row of weight
                // 0 is not in the data (whatever its W).
                let scale = |w: &mut [Vec<f64>]| {
                    if let Some(fw) = weights {
                        for (i, r) in rows.clone().enumerate() {
                            for wp in w.iter_mut().take(pairs) {
                                wp[i] = if fw[r] == 0.0 { 0.0 } else { fw[r] * wp[i] };
                            }
                        }
                    }
                };
                let mut ws = tape.block_workspace(len);
                if tape.eval_block(&inputs, len, &mut ws).is_ok() {
                    for (p, wp) in w.iter_mut().enumerate().take(pairs) {
                        wp[..len].copy_from_slice(&tape.block_output(&ws, p)[..len]);
                    }
                    scale(w);
                    return Ok(());
                }
                // Some row fails: find the first, row by row.
                let mut rw = tape.workspace::<f64>();
                for (i, r) in rows.clone().enumerate() {
                    if weights.is_some_and(|fw| fw[r] == 0.0) {
                        for wp in w.iter_mut().take(pairs) {
                            wp[i] = 0.0;
                        }
                        continue;
                    }
                    tape.eval_row(&inputs[i * width..(i + 1) * width], &mut rw)
                        .map_err(|e| (r, e))?;
                    for (p, wp) in w.iter_mut().enumerate().take(pairs) {
                        wp[i] = tape.output(&rw, p);
                    }
                }
                scale(w);
                Ok(())
            },
        )
    }
}

/// Rows `rows` of `data` through `tape` (its data: `m` linear
/// predictors, `eta(k, r)` for form k of row r, then the dataset's
/// columns), a block of rows at a time (the tape's instructions over every
/// row of a block, the same numbers as row by row): `each(r, out)` for
/// every row in order, `out(k)` its output k, except rows of weight 0,
/// which are not in the data. A block that fails is rerun row by row for
/// its first failing row and the message.
fn rows_in_blocks(
    tape: &Tape,
    (data, weights): (&Dataset, Option<&[f64]>),
    rows: std::ops::Range<usize>,
    m: usize,
    eta: impl Fn(usize, usize) -> f64,
    mut each: impl FnMut(usize, &dyn Fn(usize) -> f64),
) -> Result<(), RowErr> {
    const BLOCK: usize = 128;
    let w = data.names().len();
    let dropped = |r: usize| weights.is_some_and(|w| w[r] == 0.0);
    let mut block = tape.block_workspace(BLOCK.min(rows.len()));
    let mut ws = tape.workspace::<f64>();
    let mut buf = vec![0.0; m + w];
    let read = tape.data_read();
    for s in rows.clone().step_by(BLOCK) {
        let rows = s..(s + BLOCK).min(rows.end);
        let len = rows.len();
        for &j in &read {
            let col = &mut tape.block_data_mut(&mut block, j)[..len];
            if j < m {
                for (slot, r) in col.iter_mut().zip(rows.clone()) {
                    *slot = eta(j, r);
                }
            } else {
                load_column(col, &data.values()[rows.start * w..], w, j - m);
            }
        }
        if tape.eval_filled_block(len, &mut block).is_ok() {
            for (i, r) in rows.enumerate() {
                if !dropped(r) {
                    each(r, &|k| tape.block_output(&block, k)[i]);
                }
            }
            continue;
        }
        for r in rows.filter(|&r| !dropped(r)) {
            for (k, slot) in buf[..m].iter_mut().enumerate() {
                *slot = eta(k, r);
            }
            buf[m..].copy_from_slice(data.row(r).unwrap_or(&[]));
            tape.eval_row(&buf, &mut ws).map_err(|e| (r, e))?;
            each(r, &|k| tape.output(&ws, k));
        }
    }
    Ok(())
}

/// `Σ a_i b_i` with eight independent partial sums (vectorises).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

impl Objective for Problem {
    fn dim(&self) -> usize {
        self.functions.param_names().len()
    }

    fn n_rows(&self) -> usize {
        self.data.n_rows()
    }

    fn param_names(&self) -> Vec<Name> {
        self.functions.param_names()
    }

    fn check(&self, theta: &DVector<f64>) -> Result<(), FitError> {
        self.functions
            .check_params(theta)
            .map_err(FitError::Numeric)
    }

    fn loglik(&self, theta: &DVector<f64>) -> Result<f64, FitError> {
        match &self.engine {
            Engine::Linear(e) => {
                self.check(theta)?;
                e.value_grad(theta.as_slice(), &self.data, self.weights(), false)
                    .map(|(v, _)| v)
                    .map_err(|re| self.row_failure(theta, re))
            }
            _ if self.weights.is_some() => Ok(self.weighted_sums(theta, false)?.0),
            _ => Ok(self.functions.loglik(theta, &self.data)?),
        }
    }

    fn loglik_gradient(&self, theta: &DVector<f64>) -> Result<(f64, DVector<f64>), FitError> {
        match &self.engine {
            Engine::Linear(e) => {
                self.check(theta)?;
                e.value_grad(theta.as_slice(), &self.data, self.weights(), true)
                    .map_err(|re| self.row_failure(theta, re))
            }
            _ if self.weights.is_some() => {
                let (v, g, _) = self.weighted_sums(theta, false)?;
                Ok((v, g))
            }
            _ => Ok(self.functions.loglik_gradient(theta, &self.data)?),
        }
    }

    fn expected_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
        self.check(theta)?;
        match &self.engine {
            Engine::Linear(e) => match &e.expected {
                Some((tape, used)) => e
                    .information(tape, used, theta.as_slice(), &self.data, self.weights())
                    .map_err(|re| self.row_failure(theta, re)),
                None => self.observed_information(theta),
            },
            Engine::ClosedForm { tape, per_row } => {
                let d = self.dim();
                let w = self.data.names().len();
                let upper_to_full = |u: &[f64]| {
                    let mut f = DMatrix::zeros(d, d);
                    let mut k = 0;
                    for i in 0..d {
                        for j in i..d {
                            f[(i, j)] = u[k];
                            f[(j, i)] = u[k];
                            k += 1;
                        }
                    }
                    f
                };
                let outputs = d * (d + 1) / 2;
                let eval_at = |row: &[f64],
                               ws: &mut crate::numeric::compiled::Workspace<f64>,
                               buf: &mut Vec<f64>|
                 -> Result<Vec<f64>, EvalError> {
                    buf[..d].copy_from_slice(theta.as_slice());
                    buf[d..].copy_from_slice(row);
                    tape.eval_row(buf, ws)?;
                    Ok((0..outputs).map(|k| tape.output(ws, k)).collect())
                };
                if !per_row {
                    let mut ws = tape.workspace::<f64>();
                    let mut buf = vec![0.0; d + w];
                    let zeros = vec![0.0; w];
                    let row = self.data.row(0).unwrap_or(&zeros);
                    let u = eval_at(row, &mut ws, &mut buf)
                        .map_err(|e| self.row_failure(theta, (0, e)))?;
                    return Ok(upper_to_full(&u) * self.n_obs());
                }
                let n = self.n_rows();
                const CH: usize = 2048;
                let parts: Vec<Vec<f64>> = (0..n.div_ceil(CH))
                    .into_par_iter()
                    .map(|c| {
                        let mut ws = tape.workspace::<f64>();
                        let mut buf = vec![0.0; d + w];
                        let mut acc = vec![0.0; outputs];
                        for r in c * CH..((c + 1) * CH).min(n) {
                            let wr = self.weight(r);
                            if wr == 0.0 {
                                continue;
                            }
                            let row = self.data.row(r).unwrap_or(&[]);
                            let u = eval_at(row, &mut ws, &mut buf).map_err(|e| (r, e))?;
                            acc.iter_mut().zip(u).for_each(|(a, v)| *a += wr * v);
                        }
                        Ok(acc)
                    })
                    .collect::<Result<_, RowErr>>()
                    .map_err(|re| self.row_failure(theta, re))?;
                let mut total = vec![0.0; outputs];
                for p in parts {
                    total.iter_mut().zip(p).for_each(|(a, v)| *a += v);
                }
                Ok(upper_to_full(&total))
            }
            Engine::Observed { .. } => self.observed_information(theta),
        }
    }

    fn observed_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
        match &self.engine {
            Engine::Linear(e) => {
                self.check(theta)?;
                let all: Vec<usize> = (0..self.data.names().len()).collect();
                e.information(
                    &e.observed,
                    &all,
                    theta.as_slice(),
                    &self.data,
                    self.weights(),
                )
                .map_err(|re| self.row_failure(theta, re))
            }
            _ if self.weights.is_some() => Ok(-self.weighted_sums(theta, true)?.2),
            _ => Ok(self
                .functions
                .summary(theta, &self.data)?
                .observed_information),
        }
    }

    fn default_start(&self) -> DVector<f64> {
        self.start.clone()
    }

    fn explain_unbounded(&self, far: &DVector<f64>) -> Option<String> {
        if !self.binary_response {
            return None;
        }
        Some(separation_words(self.loglik(far).ok()?))
    }

    fn model_name(&self) -> String {
        self.functions.name().to_string()
    }

    fn column_labels(&self) -> Vec<String> {
        Problem::column_labels(self)
    }

    fn design_gram(&self) -> Option<DMatrix<f64>> {
        Problem::design_gram(self)
    }

    fn deviance(&self, theta: &DVector<f64>, loglik: f64) -> Option<super::result::Deviance> {
        Problem::deviance(self, theta, loglik)
    }

    fn weights_sum(&self) -> Option<f64> {
        self.weights().map(|_| self.n_obs())
    }

    fn bounds(&self) -> Vec<Interval> {
        self.bounds.clone()
    }

    fn binary_design(&self) -> Option<BinaryDesign<'_>> {
        let Engine::Linear(e) = &self.engine else {
            return None;
        };
        let col = self.response?;
        if e.structure.m() != 1 {
            return None;
        }
        let n = self.n_rows();
        let sign = (0..n)
            .map(|r| {
                let y = self.data.row(r).and_then(|x| x.get(col)).copied();
                if y == Some(1.0) { 1.0 } else { -1.0 }
            })
            .collect();
        Some(BinaryDesign {
            x: &e.designs[0],
            sign,
            n,
            d: self.dim(),
        })
    }

    fn information_kind(&self) -> InformationKind {
        match &self.engine {
            Engine::Linear(e) => match e.expected {
                Some(_) => InformationKind::LinearForms {
                    forms: e.structure.m(),
                },
                None => InformationKind::Observed {
                    reason: "the expectation over the response has no closed form".into(),
                },
            },
            Engine::ClosedForm { per_row, .. } => InformationKind::ClosedForm { per_row: *per_row },
            Engine::Observed { reason } => InformationKind::Observed {
                reason: reason.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::DataSchema;

    /// The null model's fit behind the deviance stops within a few Newton
    /// steps at 10⁶ rows (it used to chase the rounding noise of the
    /// summed gradient for all 200), at the closed form: for a logistic
    /// regression the intercept-only maximum is n·(ȳ log ȳ + (1−ȳ) log(1−ȳ)).
    #[test]
    fn the_null_fit_stops_at_the_closed_form_on_a_million_rows() {
        let model = crate::load(
            "param b0 : real\nparam b1 : real\ncovariate x : real\ndata y : {0, 1}\n\
             y ~ bernoulli(sigmoid(b0 + b1*x))\n",
            "l",
        )
        .expect("model");
        let n = 1_000_000;
        let schema = DataSchema::from_model(&model);
        let x_first = schema.names().first().is_some_and(|nm| &**nm == "x");
        let mut values = Vec::with_capacity(2 * n);
        let mut ones = 0usize;
        for i in 0..n {
            let y = ((i * 7919) % 1000 < 537) as u8 as f64;
            ones += y as usize;
            let x = ((i * 31) % 1999) as f64 / 1000.0 - 1.0;
            values.extend(if x_first { [x, y] } else { [y, x] });
        }
        let data = schema.dataset_from_rows(values).expect("data");
        let problem = Problem::new(&model, data).expect("problem");
        let Engine::Linear(e) = &problem.engine else {
            panic!("a logistic regression takes the linear engine");
        };
        let (v, steps) = e.null_fit(&problem.data, None, 0.3).expect("null fit");
        let p = ones as f64 / n as f64;
        let want = n as f64 * (p * p.ln() + (1.0 - p) * (1.0 - p).ln());
        assert!((v - want).abs() <= 1e-11 * want.abs(), "{v} vs {want}");
        assert!(steps <= 8, "{steps} Newton steps");
    }
}
