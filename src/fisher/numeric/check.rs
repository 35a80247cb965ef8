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

use super::{Moments, NumericConfig, NumericError, SplitMix, moments, plan};
use crate::fisher::{DeriveConfig, derive};
use crate::ir::expr::{Name, rational_to_f64};
use crate::ir::model::{Domain, Model};
use crate::numeric::domain::Interval;
use crate::numeric::eval::eval_f64;
use nalgebra::DMatrix;

/// Named intermediates of a derivation (its `definitions`).
type Definitions = Vec<(Name, crate::ir::Expr)>;

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
    /// `error ≤ tolerance`, with an error bar small enough to tell.
    pub passed: bool,
    /// Neither passed nor failed: the integrals' error bar (their own
    /// estimate, or the disagreement of two independent rules) is too
    /// wide to tell, or the adaptive rule did not converge.
    pub undecided: bool,
    /// A sentence for a failure (or a remark).
    pub note: Option<String>,
}

/// How wide a relative error bar may be for a check to pass: beyond it
/// the check says it could not decide.
pub const DECIDE_LIMIT: f64 = 1e-4;

/// One check's outcome from its measured discrepancy `err`, the
/// integrals' own error estimate `est` and the disagreement `delta`
/// between two independent rules: failed when `err` exceeds the
/// tolerance (the configured one, widened to the error bar), passed when
/// it does not and the error bar is narrow, otherwise undecided.
fn decide(
    kind: CheckKind,
    err: f64,
    est: f64,
    delta: f64,
    converged: bool,
    tol: f64,
    slack: f64,
) -> CheckRow {
    let bar = (slack * est).max(3.0 * delta);
    let tolerance = tol.max(bar);
    let failed = err.is_nan() || err > tolerance;
    // An unconverged adaptive rule still decides when its estimate and
    // the second rule's agreement are both narrow (a 2-D nested rule that
    // stops at its piece limit with 1e-10 accuracy).
    let undecided = !failed && bar > DECIDE_LIMIT;
    CheckRow {
        kind,
        error: err,
        tolerance,
        passed: !failed && !undecided,
        undecided,
        note: undecided.then(|| {
            if converged {
                format!(
                    "could not decide: the discrepancy {err:.1e} lies inside the integrals' error \
                     bar {bar:.1e} (their estimate, or the difference between two independent \
                     rules), which is wider than {DECIDE_LIMIT:.0e}"
                )
            } else {
                format!(
                    "could not decide: the adaptive integration did not converge (discrepancy \
                     {err:.1e}, error bar {bar:.1e}); an oscillating or very peaked density?"
                )
            }
        }),
    }
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

    /// Number of checks that could not be decided.
    pub fn undecided(&self) -> usize {
        self.model_rows
            .iter()
            .chain(self.points.iter().flat_map(|p| p.rows.iter()))
            .filter(|r| r.undecided)
            .count()
    }

    /// Number of checks and of failures (undecided checks not counted as
    /// failures).
    pub fn counts(&self) -> (usize, usize) {
        let rows = self
            .model_rows
            .iter()
            .chain(self.points.iter().flat_map(|p| p.rows.iter()));
        let (mut n, mut failed) = (0, 0);
        for r in rows {
            n += 1;
            if !r.passed && !r.undecided {
                failed += 1;
            }
        }
        (n, failed)
    }
}

/// A random value inside a domain, away from its ends.
fn draw(model: &Model, d: &Domain, rng: &mut SplitMix) -> f64 {
    let u = rng.next_f64();
    let interval = Interval::of(model, d);
    match (interval.lower(), interval.upper()) {
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
        undecided: false,
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
        Ok(cf) => Some((cf.fim.clone(), derivation.definitions.clone())),
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
                    // An independent second rule: other nodes (each panel
                    // first cut in 7), another Monte Carlo seed.
                    let second = NumericConfig {
                        seed: numeric.seed ^ 0x9E37_79B9_7F4A_7C15,
                        quad: crate::numeric::quadrature::QuadConfig {
                            initial_split: 7,
                            ..numeric.quad
                        },
                        ..numeric.clone()
                    };
                    let m2 = moments(model, &theta, &second).ok();
                    report
                        .points
                        .push(point_report(model, config, &closed, m, m2, &covs));
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
            let overflow = matches!(
                &last_error,
                Some(NumericError::Eval {
                    error: crate::numeric::eval::EvalError::NonFinite { value, .. },
                    at,
                }) if value.is_infinite() && at != "the parameter point"
            );
            let msg = last_error.map_or_else(|| "no point".to_string(), |e| e.to_string());
            let mut row = failed_row(CheckKind::Evaluation, msg.clone());
            if overflow {
                // An overflow far out in the data (σ = 1e200 sends the
                // quadrature's nodes to 1e224): not a fault of the model,
                // a limit of f64; no verdict either way.
                row.undecided = true;
                row.note = Some(format!(
                    "could not decide: {msg}; the integration reaches data values whose \
                     log-density overflows f64 (rescale the data, e.g. to a unit scale)"
                ));
            }
            report.model_rows.push(row);
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
        if !Interval::of(model, &p.domain).contains(v) {
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
    closed: &Option<(Vec<Vec<crate::ir::Expr>>, Definitions)>,
    m: Moments,
    m2: Option<Moments>,
    covs: &[(Name, f64)],
) -> PointReport {
    let mut rows = Vec::new();
    let slack = if m.monte_carlo { 5.0 } else { 10.0 };
    // Without a second result the rules cannot be compared: an infinite
    // disagreement, so nothing passes unconfirmed.
    let converged = m.converged && m2.as_ref().is_none_or(|b| b.converged);
    let delta = |f: &dyn Fn(&Moments) -> f64| m2.as_ref().map_or(f64::INFINITY, f);
    // E[s] = 0 first: it tells a constant normaliser from one that
    // depends on θ.
    let (r, e) = m.mean_score_relative();
    let d_score = delta(&|b: &Moments| {
        (0..m.params.len())
            .map(|i| {
                let scale = m.score_cov[(i, i)]
                    .abs()
                    .max(m.neg_hessian[(i, i)].abs())
                    .sqrt();
                let d = (m.mean_score[i] - b.mean_score[i]).abs();
                if d == 0.0 { 0.0 } else { d / scale }
            })
            .fold(0.0, f64::max)
    });
    let mut mean = decide(
        CheckKind::MeanScore,
        r,
        e,
        d_score,
        converged,
        config.tol,
        slack,
    );
    if !mean.passed && !mean.undecided {
        let parts: Vec<String> = m
            .params
            .iter()
            .zip(m.mean_score.iter())
            .map(|(p, v)| {
                let v = if v.abs() < 1e-12 { 0.0 } else { *v };
                format!("E[∂/∂{p}] = {v:.6e}")
            })
            .collect();
        mean.note = Some(format!(
            "{}: the normalising constant depends on the parameters",
            parts.join(", ")
        ));
    }
    // ∫ p = 1, relative to ∫ p.
    let err = (m.normaliser - 1.0).abs();
    let d_norm = delta(&|b: &Moments| (m.normaliser - b.normaliser).abs());
    let mut norm = decide(
        CheckKind::Normalisation,
        err,
        m.normaliser_error,
        d_norm,
        converged,
        config.tol,
        slack,
    );
    if !norm.passed && !norm.undecided {
        if mean.passed && m.normaliser.is_finite() && m.normaliser > 0.0 {
            // ∫ p = Z with ∇Z = Z·E[s] = 0: a constant factor, which the
            // score, the Hessian and F do not see (the language allows
            // leaving out constants such as −log(2π)/2).
            norm.passed = true;
            norm.note = Some(format!(
                "normalised up to a constant factor {}: the Fisher information is unaffected",
                constant_text(m.normaliser, slack * m.normaliser_error + 3.0 * d_norm)
            ));
        } else if mean.undecided && m.normaliser.is_finite() && m.normaliser > 0.0 {
            // A constant left out is allowed; one that depends on θ is
            // not, and E[s] could not tell which.
            norm.undecided = true;
            norm.note = Some(format!(
                "could not decide: the density integrates to {:.6} (± {:.1e}), not 1, and \
                 whether that factor depends on the parameters (E[s] = 0) could not be decided",
                m.normaliser, m.normaliser_error
            ));
        } else {
            norm.note = Some(format!(
                "the density integrates to {:.12}, not 1 (± {:.1e})",
                m.normaliser, m.normaliser_error
            ));
        }
    }
    rows.push(norm);
    rows.push(mean);
    // E[s sᵀ] = −E[H]
    let rel_err = m.relative_error();
    let d = m.relative_difference(&m.score_outer, &m.neg_hessian);
    let d_bart = delta(&|b: &Moments| {
        m.relative_difference(&m.score_outer, &b.score_outer)
            .max(m.relative_difference(&m.neg_hessian, &b.neg_hessian))
    });
    let mut bart = decide(
        CheckKind::Bartlett,
        d,
        rel_err,
        d_bart,
        converged,
        config.tol,
        slack,
    );
    if !bart.passed && !bart.undecided {
        bart.note = Some(
            "E[s sᵀ] and −E[∇² log p] differ: the log-density is not normalised or not twice \
             differentiable in the parameters (a kink such as |x − μ|)"
                .to_string(),
        );
    }
    rows.push(bart);
    let d_cov = delta(&|b: &Moments| m.relative_difference(&m.score_cov, &b.score_cov));
    // closed form = numeric
    let closed_value = closed.as_ref().and_then(|(fim, definitions)| {
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
        let env = match crate::fisher::predictor::bind(definitions, &env) {
            Ok(env) => env,
            Err(e) => {
                rows.push(failed_row(
                    CheckKind::ClosedForm,
                    format!("the linear predictor cannot be evaluated here: {e}"),
                ));
                return None;
            }
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
        let mut row = decide(
            CheckKind::ClosedForm,
            d,
            rel_err,
            d_cov,
            converged,
            config.closed_form_tol,
            slack,
        );
        if !row.passed && !row.undecided {
            row.note = Some(format!(
                "the closed-form FIM {} differs from the numeric one {}",
                show(cf),
                show(&m.score_cov)
            ));
        }
        rows.push(row);
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

/// A constant normaliser as text: `2.5066 = √(2π)` when it is a power of
/// √(2π), of π or of 2 times a small rational (within `tol`), else the
/// number.
fn constant_text(z: f64, tol: f64) -> String {
    let tol = tol.max(1e-10 * z);
    let two_pi = 2.0 * std::f64::consts::PI;
    let mut best: Option<(f64, String)> = None;
    for k in -24i32..=24 {
        if k == 0 {
            continue;
        }
        let (value, name) = (
            two_pi.powf(k as f64 / 2.0),
            match k {
                1 => "√(2π)".to_string(),
                2 => "2π".to_string(),
                -1 => "1/√(2π)".to_string(),
                -2 => "1/(2π)".to_string(),
                k if k % 2 == 0 => format!("(2π)^{}", k / 2),
                k => format!("(2π)^({k}/2)"),
            },
        );
        // z = r · (2π)^(k/2) with r a small rational.
        if let Some((p, q)) = super::recognise::rational(z / value, 12, tol / z)
            && (1..=12).contains(&p)
        {
            let r = match (p, q) {
                (1, 1) => String::new(),
                (p, 1) => format!("{p}·"),
                (p, q) => format!("{p}/{q}·"),
            };
            let err = (z - value * p as f64 / q as f64).abs();
            if best.as_ref().is_none_or(|(e, _)| err < *e) && (p, q) != (0, 1) {
                best = Some((err, format!("{r}{name}")));
            }
        }
    }
    // Five significant digits.
    let digits = (4 - z.log10().floor() as i32).clamp(0, 12) as usize;
    let num = format!("{z:.digits$}");
    let num = num.trim_end_matches('0').trim_end_matches('.');
    match best {
        Some((_, name)) => format!("{num} = {name}"),
        None => num.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_narrow_error_bar_is_needed_to_pass() {
        let d =
            |err, est, delta| decide(CheckKind::Normalisation, err, est, delta, true, 1e-7, 10.0);
        // Agreeing rules, tiny estimate: decided either way.
        assert!(d(1e-12, 1e-13, 1e-14).passed);
        let r = d(0.5, 1e-13, 1e-14);
        assert!(!r.passed && !r.undecided);
        // The rule's own estimate is small, but a second rule disagrees:
        // the estimate was fooled, nothing is claimed.
        let r = d(1e-9, 1e-13, 1e-3);
        assert!(!r.passed && r.undecided, "{r:?}");
        // A huge own estimate no longer widens the tolerance into an "ok".
        let r = d(0.5, 0.3, 0.0);
        assert!(!r.passed && r.undecided, "{r:?}");
        // No second result: infinite disagreement, undecided.
        let r = d(1e-12, 1e-13, f64::INFINITY);
        assert!(!r.passed && r.undecided, "{r:?}");
        // Clearly outside even the widest bar: failed.
        let r = d(5.0, 0.1, 0.1);
        assert!(!r.passed && !r.undecided, "{r:?}");
    }

    #[test]
    fn constant_normalisers_are_named() {
        let tau = 2.0 * std::f64::consts::PI;
        assert_eq!(constant_text(tau.sqrt(), 1e-12), "2.5066 = √(2π)");
        assert_eq!(constant_text(tau.powi(6), 1e-6), "61529 = (2π)^6");
        assert_eq!(
            constant_text(2.0 * tau.powf(1.5), 1e-12),
            "31.499 = 2·(2π)^(3/2)"
        );
        assert_eq!(constant_text(0.123456789, 1e-12), "0.12346");
    }
}
