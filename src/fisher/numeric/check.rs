//! `fimkit check`: verify a model numerically at parameter points.
//!
//! At each point (given, or drawn inside the parameters' domains) the
//! data are integrated once ([`super::moments`]) and four checks are made,
//! each with its error and tolerance:
//!
//! * **normalisation** — `∫ p = 1` (or `Σ p = 1`);
//! * **mean score** — `E[s] = 0` (first Bartlett identity), relative to `√F_ii`;
//! * **Bartlett** — `E[s sᵀ] = −E[∇² log p]` (second identity), relative
//!   to `√(F_ii F_jj)`;
//! * **closed form** — the tier-1 FIM from [`crate::fisher::derive()`], when
//!   there is one, equals the numeric `Cov[s]`.
//!
//! A support that depends on a parameter fails the **regularity** check
//! before any number is computed. Tolerances are the larger of the
//! configured one and ten times the quadrature's own error estimate.

use super::{Moments, NumericConfig, NumericError, SplitMix, in_domain, moments, plan};
use crate::fisher::{DeriveConfig, derive};
use crate::ir::expr::{Name, rational_to_f64};
use crate::ir::model::{Domain, Model};
use crate::numeric::eval::eval_f64;
use nalgebra::DMatrix;

/// Covariate values by name.
type Covariates = Vec<(Name, f64)>;

/// Options for [`check`].
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// Random points (when `at` is not given).
    pub points: usize,
    /// One given point: a value for every parameter and covariate.
    pub at: Option<Vec<(String, f64)>>,
    /// Seed for the random points.
    pub seed: u64,
    /// Tolerance of the normalisation and Bartlett checks.
    pub tol: f64,
    /// Tolerance of closed form against numeric (relative).
    pub closed_form_tol: f64,
    /// Options of the numeric integration.
    pub numeric: NumericConfig,
    /// Options of the closed-form derivation.
    pub derive: DeriveConfig,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            points: 3,
            at: None,
            seed: 1,
            tol: 1e-7,
            closed_form_tol: 1e-8,
            numeric: NumericConfig::default(),
            derive: DeriveConfig::default(),
        }
    }
}

/// What is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// The data's support does not move with a parameter.
    Regularity,
    /// ∫ p = 1.
    Normalisation,
    /// E\[s\] = 0.
    MeanScore,
    /// E[s sᵀ] = −E[∇² log p].
    Bartlett,
    /// Closed-form FIM = numeric FIM.
    ClosedForm,
    /// The log-density can be evaluated at the point.
    Evaluation,
}

impl CheckKind {
    /// A stable identifier (JSON).
    pub fn id(self) -> &'static str {
        match self {
            CheckKind::Regularity => "regularity",
            CheckKind::Normalisation => "normalisation",
            CheckKind::MeanScore => "mean_score",
            CheckKind::Bartlett => "bartlett",
            CheckKind::ClosedForm => "closed_form",
            CheckKind::Evaluation => "evaluation",
        }
    }

    /// How the check reads in a table.
    pub fn label(self) -> &'static str {
        match self {
            CheckKind::Regularity => "support free of parameters",
            CheckKind::Normalisation => "∫ p = 1",
            CheckKind::MeanScore => "E[s] = 0",
            CheckKind::Bartlett => "E[s sᵀ] = −E[∇² log p]",
            CheckKind::ClosedForm => "closed form = numeric",
            CheckKind::Evaluation => "density evaluates",
        }
    }
}

/// One check at one point.
#[derive(Clone, Debug)]
pub struct CheckRow {
    /// What.
    pub kind: CheckKind,
    /// The measured discrepancy (absolute for ∫p, relative otherwise).
    pub error: f64,
    /// The tolerance it was held to.
    pub tolerance: f64,
    /// `error ≤ tolerance`.
    pub passed: bool,
    /// A sentence for a failure (or a remark).
    pub note: Option<String>,
}

/// The checks at one parameter point.
#[derive(Clone, Debug)]
pub struct PointReport {
    /// Parameter and covariate values.
    pub values: Vec<(Name, f64)>,
    /// The checks.
    pub rows: Vec<CheckRow>,
    /// The integrals.
    pub moments: Moments,
    /// The closed form evaluated at the point, if there is one.
    pub closed_form: Option<DMatrix<f64>>,
}

/// Everything `check` found.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// Parameter names.
    pub params: Vec<Name>,
    /// Why there is no closed form (tier 1), if there is none.
    pub no_closed_form: Option<String>,
    /// Checks that fail before any point (regularity), or the reason no
    /// point could be evaluated.
    pub model_rows: Vec<CheckRow>,
    /// Per point.
    pub points: Vec<PointReport>,
}

impl CheckReport {
    /// Did every check pass (and was at least one point checked)?
    pub fn passed(&self) -> bool {
        self.model_rows.iter().all(|r| r.passed)
            && !self.points.is_empty()
            && self.points.iter().all(|p| p.rows.iter().all(|r| r.passed))
    }

    /// Number of checks and of failures.
    pub fn counts(&self) -> (usize, usize) {
        let rows = self
            .model_rows
            .iter()
            .chain(self.points.iter().flat_map(|p| p.rows.iter()));
        let (mut n, mut failed) = (0, 0);
        for r in rows {
            n += 1;
            if !r.passed {
                failed += 1;
            }
        }
        (n, failed)
    }
}

fn end(model: &Model, e: &Option<crate::ir::Expr>) -> Option<f64> {
    e.as_ref()
        .and_then(|e| eval_f64(&model.substitute_consts(e), &|_| None).ok())
}

/// A random value inside a domain, away from its ends.
fn draw(model: &Model, d: &Domain, rng: &mut SplitMix) -> f64 {
    let u = rng.next_f64();
    match (end(model, &d.lo), end(model, &d.hi)) {
        (Some(a), Some(b)) => a + (b - a) * (0.1 + 0.8 * u),
        (Some(a), None) => a + (0.5f64.ln() + u * (2.5f64.ln() - 0.5f64.ln())).exp(),
        (None, Some(b)) => b - (0.5f64.ln() + u * (2.5f64.ln() - 0.5f64.ln())).exp(),
        (None, None) => 3.0 * u - 1.5,
    }
}

fn failed_row(kind: CheckKind, note: String) -> CheckRow {
    CheckRow {
        kind,
        error: f64::INFINITY,
        tolerance: 0.0,
        passed: false,
        note: Some(note),
    }
}

/// Check a model at `config.points` random points (or at `config.at`).
pub fn check(model: &Model, config: &CheckConfig) -> CheckReport {
    let _stage = crate::budget::stage("checking the identities numerically");
    let params = model.param_names();
    let mut report = CheckReport {
        params: params.clone(),
        no_closed_form: None,
        model_rows: Vec::new(),
        points: Vec::new(),
    };
    if let Some(e) = plan::irregular(model) {
        report
            .model_rows
            .push(failed_row(CheckKind::Regularity, e.to_string()));
        return report;
    }
    let derivation = derive(model, &config.derive);
    let closed = match &derivation.fisher {
        Ok(cf) => Some(cf.fim.clone()),
        Err(b) => {
            report.no_closed_form = Some(b.to_string());
            None
        }
    };
    let mut rng = SplitMix(config.seed);
    let wanted = if config.at.is_some() {
        1
    } else {
        config.points.max(1)
    };
    for _ in 0..wanted {
        let mut last_error: Option<NumericError> = None;
        let tries = if config.at.is_some() { 1 } else { 40 };
        let mut done = false;
        for _ in 0..tries {
            let (theta, covs) = match &config.at {
                Some(at) => match given_point(model, at) {
                    Ok(p) => p,
                    Err(msg) => {
                        report
                            .model_rows
                            .push(failed_row(CheckKind::Evaluation, msg));
                        return report;
                    }
                },
                None => (
                    model
                        .params
                        .iter()
                        .map(|p| draw(model, &p.domain, &mut rng))
                        .collect::<Vec<f64>>(),
                    model
                        .covariates
                        .iter()
                        .map(|c| (c.name.clone(), draw(model, &c.domain, &mut rng)))
                        .collect::<Vec<(Name, f64)>>(),
                ),
            };
            let numeric = NumericConfig {
                covariates: covs.clone(),
                ..config.numeric.clone()
            };
            match moments(model, &theta, &numeric) {
                Ok(m) => {
                    report
                        .points
                        .push(point_report(model, config, &closed, m, &covs));
                    done = true;
                    break;
                }
                // A random point where the density cannot be evaluated
                // (parameters jointly outside the model's domain, such as
                // p1 + p2 > 1): draw another.
                Err(e @ NumericError::Eval { .. }) if config.at.is_none() => last_error = Some(e),
                Err(e) => {
                    last_error = Some(e);
                    break;
                }
            }
        }
        if !done {
            let msg = last_error.map_or_else(|| "no point".to_string(), |e| e.to_string());
            report
                .model_rows
                .push(failed_row(CheckKind::Evaluation, msg));
            return report;
        }
    }
    report
}

fn given_point(model: &Model, at: &[(String, f64)]) -> Result<(Vec<f64>, Covariates), String> {
    let get = |n: &str| at.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
    for (k, _) in at {
        let known = model.params.iter().any(|p| &*p.name == k)
            || model.covariates.iter().any(|c| &*c.name == k);
        if !known {
            return Err(format!(
                "`{k}` is neither a parameter nor a covariate of the model"
            ));
        }
    }
    let mut theta = Vec::new();
    for p in &model.params {
        let v = get(&p.name).ok_or_else(|| format!("--at needs a value for `{}`", p.name))?;
        if !in_domain(model, &p.domain, v) {
            return Err(format!(
                "`{}` = {v} is outside its domain {}",
                p.name, p.domain.label
            ));
        }
        theta.push(v);
    }
    let mut covs = Vec::new();
    for c in &model.covariates {
        let v = get(&c.name)
            .ok_or_else(|| format!("--at needs a value for the covariate `{}`", c.name))?;
        covs.push((c.name.clone(), v));
    }
    Ok((theta, covs))
}

fn point_report(
    model: &Model,
    config: &CheckConfig,
    closed: &Option<Vec<Vec<crate::ir::Expr>>>,
    m: Moments,
    covs: &[(Name, f64)],
) -> PointReport {
    let mut rows = Vec::new();
    let slack = if m.monte_carlo { 5.0 } else { 10.0 };
    // ∫ p = 1
    let err = (m.normaliser - 1.0).abs();
    let tol = config.tol.max(slack * m.normaliser_error);
    rows.push(CheckRow {
        kind: CheckKind::Normalisation,
        error: err,
        tolerance: tol,
        passed: err <= tol,
        note: (err > tol).then(|| {
            format!(
                "the density integrates to {:.12}, not 1 (± {:.1e})",
                m.normaliser, m.normaliser_error
            )
        }),
    });
    // E[s] = 0
    let (r, e) = m.mean_score_relative();
    let tol = config.tol.max(slack * e);
    rows.push(CheckRow {
        kind: CheckKind::MeanScore,
        error: r,
        tolerance: tol,
        passed: r <= tol,
        note: (r > tol).then(|| {
            let parts: Vec<String> = m
                .params
                .iter()
                .zip(m.mean_score.iter())
                .map(|(p, v)| {
                    let v = if v.abs() < 1e-12 { 0.0 } else { *v };
                    format!("E[∂/∂{p}] = {v:.6e}")
                })
                .collect();
            format!(
                "{}: the normalising constant depends on the parameters",
                parts.join(", ")
            )
        }),
    });
    // E[s sᵀ] = −E[H]
    let rel_err = m.relative_error();
    let d = m.relative_difference(&m.score_outer, &m.neg_hessian);
    let tol = config.tol.max(slack * rel_err);
    rows.push(CheckRow {
        kind: CheckKind::Bartlett,
        error: d,
        tolerance: tol,
        passed: d <= tol,
        note: (d > tol).then(|| {
            "E[s sᵀ] and −E[∇² log p] differ: the log-density is not normalised or not twice \
             differentiable in the parameters (a kink such as |x − μ|)"
                .to_string()
        }),
    });
    // closed form = numeric
    let closed_value = closed.as_ref().and_then(|fim| {
        let params = &m.params;
        let env = |name: &str| {
            if let Some(k) = params.iter().position(|p| &**p == name) {
                return Some(m.theta[k]);
            }
            if let Some(v) = model.const_value(name) {
                return Some(rational_to_f64(v));
            }
            covs.iter().find(|(n, _)| &**n == name).map(|(_, v)| *v)
        };
        let n = params.len();
        let mut out = DMatrix::zeros(n, n);
        for i in 0..n {
            for j in 0..n {
                match eval_f64(&fim[i][j], &env) {
                    Ok(v) => out[(i, j)] = v,
                    Err(e) => {
                        let data: Vec<String> = fim[i][j]
                            .free_vars()
                            .into_iter()
                            .filter(|v| model.data_var(v).is_some())
                            .map(|v| format!("`{v}`"))
                            .collect();
                        let note = if data.is_empty() {
                            format!("the closed form cannot be evaluated here: {e}")
                        } else {
                            format!(
                                "the closed-form FIM still contains the data ({}): the tier-1 \
                                 expectation over the data is incomplete",
                                data.join(", ")
                            )
                        };
                        rows.push(failed_row(CheckKind::ClosedForm, note));
                        return None;
                    }
                }
            }
        }
        Some(out)
    });
    if let Some(cf) = &closed_value {
        let d = m.relative_difference(cf, &m.score_cov);
        let tol = config.closed_form_tol.max(slack * rel_err);
        rows.push(CheckRow {
            kind: CheckKind::ClosedForm,
            error: d,
            tolerance: tol,
            passed: d <= tol,
            note: (d > tol).then(|| {
                format!(
                    "the closed-form FIM {} differs from the numeric one {}",
                    show(cf),
                    show(&m.score_cov)
                )
            }),
        });
    }
    let mut values: Vec<(Name, f64)> = m
        .params
        .iter()
        .cloned()
        .zip(m.theta.iter().copied())
        .collect();
    values.extend(covs.iter().cloned());
    PointReport {
        values,
        rows,
        moments: m,
        closed_form: closed_value,
    }
}

fn show(m: &DMatrix<f64>) -> String {
    let rows: Vec<String> = (0..m.nrows())
        .map(|i| {
            let r: Vec<String> = (0..m.ncols())
                .map(|j| {
                    let v = m[(i, j)];
                    // No "-0.0000000000" for rounding noise.
                    let v = if v.abs() < 5e-11 { 0.0 } else { v };
                    format!("{v:.10}")
                })
                .collect();
            format!("[{}]", r.join(", "))
        })
        .collect();
    format!("[{}]", rows.join(", "))
}
