//! Fisher information for every model: numerically with an error estimate
//! (tier 3), or semi-closed for location–scale families (tier 2).
//!
//! F(θ) is the covariance of the score `s = ∇_θ log p(x; θ)`. At a
//! parameter point, [`moments`] integrates (or sums) over the data
//!
//! ```text
//! Z = ∫ p,   E[s],   E[s sᵀ],   −E[∇² log p]
//! ```
//!
//! with exact scores and Hessians from dual numbers on a compiled tape, so
//! the only error is the quadrature's, and it is estimated. The data split
//! into independent groups (`log p = c(θ) + Σ_g log p_g(x_g; θ)`), each
//! integrated on its own: adaptive Gauss–Kronrod for continuous variables
//! (nested when one's range depends on another, as on a simplex), exact
//! enumeration for finite supports, summation with a geometric tail bound
//! for counts, and randomized quasi-Monte Carlo (with a standard error)
//! for groups with more than [`NumericConfig::max_quadrature_dim`]
//! continuous dimensions.
//!
//! [`numeric_fim`] turns the moments into the Fisher information and
//! refuses to print a number when it would be wrong: a support that moves
//! with a parameter ([`NumericError::Irregular`]) or a log-density whose
//! normalising constant depends on a parameter
//! ([`NumericError::NotNormalised`]). When the two Bartlett forms
//! `E[s sᵀ]` and `−E[∇² log p]` disagree (a kink such as `|x − μ|`) the
//! covariance of the score is reported, with a warning.
//!
//! [`location_scale`] detects `log p = −log σ + log f₀((x − μ)/σ)`
//! symbolically; then F = C/σ² with constants C computed to 12+ digits and
//! recognised when simple (rationals, π², Euler's γ).
//!
//! ```
//! let src = "param mu : real\nparam sigma : positive\ndata x : real\n\
//!            logp += -log(pi) - log(sigma) - log(1 + ((x - mu)/sigma)^2)";
//! let model = fimkit::load(src, "cauchy").unwrap();
//! let f = fimkit::fisher::numeric_fim(&model, &[0.5, 2.0], &Default::default()).unwrap();
//! assert!((f.value[(0, 0)] - 1.0 / 8.0).abs() < 1e-10);
//! assert!((f.value[(1, 1)] - 1.0 / 8.0).abs() < 1e-10);
//! assert_eq!(f.tier, fimkit::fisher::numeric::Tier::LocationScale);
//! ```

pub mod check;
mod design;
mod integrate;
mod location_scale;
mod plan;
mod point;
pub mod recognise;

pub use design::{DesignFim, numeric_fim_over};
pub use integrate::SplitMix;
pub use location_scale::{LocationScale, Verified, location_scale};
pub use plan::irregular;

use crate::ir::expr::Name;
use crate::ir::model::Model;
use crate::numeric::NumericError;
use crate::numeric::Wording;
use crate::numeric::domain::Interval;
use crate::numeric::eval::gradient_hessian;
use crate::numeric::quadrature::QuadConfig;
use nalgebra::{DMatrix, DVector};
use point::Layout;

/// Options for [`numeric_fim`] and [`moments`].
#[derive(Clone, Debug)]
pub struct NumericConfig {
    /// Relative tolerance of every adaptive quadrature and sum, on the
    /// scale of each moment (see the module docs).
    pub rel_tol: f64,
    /// Values of the model's covariates, by name.
    pub covariates: Vec<(Name, f64)>,
    /// Groups with more continuous dimensions than this use Monte Carlo
    /// (default 2: a 2-D nested rule takes about a second at full
    /// accuracy, a 3-D one some tens of seconds).
    pub max_quadrature_dim: usize,
    /// Monte Carlo: points per random shift.
    pub mc_points: usize,
    /// Monte Carlo: random shifts (the standard error comes from them).
    pub mc_shifts: usize,
    /// Seed for Monte Carlo shifts.
    pub seed: u64,
    /// Use the location–scale form (tier 2) when it is detected.
    pub location_scale: bool,
    /// How far ∫p may be from 1 (beyond the quadrature error) and E\[s\]
    /// from 0 (relative to √F_ii) before the model is not normalised.
    pub identity_tol: f64,
    /// Limits of the adaptive algorithms.
    pub quad: QuadConfig,
}

impl Default for NumericConfig {
    fn default() -> Self {
        NumericConfig {
            rel_tol: 1e-10,
            covariates: Vec::new(),
            max_quadrature_dim: 2,
            mc_points: 16384,
            mc_shifts: 16,
            seed: 0x5EED,
            location_scale: true,
            identity_tol: 1e-7,
            quad: QuadConfig::default(),
        }
    }
}

impl NumericConfig {
    /// θ and the settings for checking a closed form at a typical point
    /// `at` (every parameter and covariate by name): the covariates' values
    /// from `at`, and no tier 2, so the numeric route integrates the density
    /// itself (and finds it unnormalised if it is). A parameter missing
    /// from `at` is NaN, which the route refuses.
    pub fn at_point(model: &Model, at: &[(Name, f64)]) -> (Vec<f64>, NumericConfig) {
        let lookup = |v: &str| at.iter().find(|(n, _)| &**n == v).map(|(_, x)| *x);
        let theta = model
            .params
            .iter()
            .map(|p| lookup(&p.name).unwrap_or(f64::NAN))
            .collect();
        let config = NumericConfig {
            covariates: model
                .covariates
                .iter()
                .filter_map(|c| lookup(&c.name).map(|x| (c.name.clone(), x)))
                .collect(),
            location_scale: false,
            ..Default::default()
        };
        (theta, config)
    }
}

/// Which route produced a Fisher information.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// Location–scale structure: F = C/σ², C numeric.
    LocationScale,
    /// Quadrature, summation or Monte Carlo at the point.
    Numeric,
}

impl Tier {
    /// 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            Tier::LocationScale => 2,
            Tier::Numeric => 3,
        }
    }
}

/// Integrals over the data at one parameter point, each with its error
/// estimate; expectations are under the normalised density `p/Z`.
#[derive(Clone, Debug)]
pub struct Moments {
    /// Parameter names, the order of θ.
    pub params: Vec<Name>,
    /// θ.
    pub theta: Vec<f64>,
    /// Z = ∫ exp(log p) over the data (1 for a normalised model).
    pub normaliser: f64,
    /// Error of Z.
    pub normaliser_error: f64,
    /// E\[s\].
    pub mean_score: DVector<f64>,
    /// Error of E\[s\].
    pub mean_score_error: DVector<f64>,
    /// Cov\[s\], the Fisher information by definition.
    pub score_cov: DMatrix<f64>,
    /// Error of Cov\[s\].
    pub score_cov_error: DMatrix<f64>,
    /// E[s sᵀ] = Cov\[s\] + E\[s\] E\[s\]ᵀ.
    pub score_outer: DMatrix<f64>,
    /// −E[∇² log p].
    pub neg_hessian: DMatrix<f64>,
    /// Error of −E[∇² log p].
    pub neg_hessian_error: DMatrix<f64>,
    /// How the data were integrated.
    pub method: String,
    /// Every adaptive step met its tolerance.
    pub converged: bool,
    /// Monte Carlo was used (errors are standard errors).
    pub monte_carlo: bool,
    /// Log-density evaluations (each with its exact gradient and Hessian).
    pub evaluations: usize,
}

impl Moments {
    /// `max_i |E\[s_i\]| / √F_ii` (0 when F_ii = 0 and E\[s_i\] = 0).
    pub fn mean_score_relative(&self) -> (f64, f64) {
        let n = self.params.len();
        let mut worst = (0.0f64, 0.0f64);
        for i in 0..n {
            let d = self.diag(i);
            let r = rel(self.mean_score[i].abs(), d.sqrt());
            let e = rel(self.mean_score_error[i], d.sqrt());
            if r > worst.0 {
                worst = (r, e);
            }
        }
        worst
    }

    fn diag(&self, i: usize) -> f64 {
        self.score_cov[(i, i)]
            .abs()
            .max(self.neg_hessian[(i, i)].abs())
    }

    /// `max_ij |a_ij − b_ij| / √(d_i d_j)` with `d` the diagonal of F.
    pub fn relative_difference(&self, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        let n = self.params.len();
        let mut worst = 0.0f64;
        for i in 0..n {
            for j in 0..n {
                let s = (self.diag(i) * self.diag(j)).sqrt();
                worst = worst.max(rel((a[(i, j)] - b[(i, j)]).abs(), s));
            }
        }
        worst
    }

    /// Largest relative error estimate of Cov\[s\] and −E\[H\] (relative to
    /// √(d_i d_j)).
    pub fn relative_error(&self) -> f64 {
        let n = self.params.len();
        let mut worst = 0.0f64;
        for i in 0..n {
            for j in 0..n {
                let s = (self.diag(i) * self.diag(j)).sqrt();
                let e = self.score_cov_error[(i, j)].max(self.neg_hessian_error[(i, j)]);
                worst = worst.max(rel(e, s));
            }
        }
        worst
    }
}

fn rel(x: f64, scale: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else if scale == 0.0 {
        f64::INFINITY
    } else {
        x / scale
    }
}

/// A Fisher information found without a closed form.
#[derive(Clone, Debug)]
pub struct NumericFim {
    /// Parameter names, the order of θ.
    pub params: Vec<Name>,
    /// F(θ) for one observation: the covariance of the score.
    pub value: DMatrix<f64>,
    /// Error estimate of each entry (a standard error for Monte Carlo).
    pub error: DMatrix<f64>,
    /// The route, e.g. "adaptive Gauss–Kronrod (G7/K15)".
    pub method: String,
    /// Tier 2 or 3.
    pub tier: Tier,
    /// Every adaptive step met its tolerance.
    pub converged: bool,
    /// Things the user should know (a constant missing from the density
    /// that does not depend on θ; the Bartlett forms disagreeing).
    pub warnings: Vec<String>,
    /// The integrals behind the value (for tier 2, at the standard point).
    pub moments: Moments,
    /// The location–scale structure, for tier 2.
    pub location_scale: Option<LocationScale>,
}

fn validate(
    model: &Model,
    theta: &[f64],
    config: &NumericConfig,
) -> Result<Vec<f64>, NumericError> {
    if theta.len() != model.params.len() {
        return Err(NumericError::Dimension {
            what: "parameters",
            expected: model.params.len(),
            got: theta.len(),
            wording: Wording::NumericFim,
        });
    }
    for (p, &v) in model.params.iter().zip(theta) {
        if !Interval::of(model, &p.domain).contains(v) {
            return Err(NumericError::OutsideDomain {
                param: p.name.clone(),
                value: v,
                domain: p.domain.label.clone(),
                wording: Wording::NumericFim,
            });
        }
    }
    model
        .covariates
        .iter()
        .map(|c| {
            config
                .covariates
                .iter()
                .find(|(n, _)| *n == c.name)
                .map(|(_, v)| *v)
                .ok_or_else(|| NumericError::missing_covariate(&c.name))
        })
        .collect()
}

/// The integrals over the data at θ: Z, E\[s\], Cov\[s\], −E[∇² log p], with
/// error estimates. No policy: an unnormalised model gives its numbers.
pub fn moments(
    model: &Model,
    theta: &[f64],
    config: &NumericConfig,
) -> Result<Moments, NumericError> {
    let covs = validate(model, theta, config)?;
    let plan = plan::plan(model)?;
    let params = model.param_names();
    let n = params.len();
    let layout = Layout { p: n };
    // The data-free part c(θ).
    let cov_names: Vec<Name> = model.covariates.iter().map(|c| c.name.clone()).collect();
    let env = |name: &str| {
        if let Some(k) = params.iter().position(|p| &**p == name) {
            return Some(theta[k]);
        }
        cov_names.iter().position(|c| &**c == name).map(|k| covs[k])
    };
    let (c0, cg, ch) =
        gradient_hessian(&plan.constant, &params, &env).map_err(|error| NumericError::Eval {
            error,
            at: "the parameter point (terms without data)".into(),
        })?;
    let mut log_z = c0;
    let mut rel_z_err = 0.0;
    let mut mean = cg.clone();
    let mut mean_err = DVector::zeros(n);
    let mut cov = DMatrix::zeros(n, n);
    let mut cov_err = DMatrix::zeros(n, n);
    let mut neg_h = -ch;
    let mut neg_h_err = DMatrix::zeros(n, n);
    let mut methods: Vec<String> = Vec::new();
    let mut converged = true;
    let mut monte_carlo = false;
    let mut evaluations = 0;
    for g in &plan.groups {
        let r = integrate::integrate_group(g, &params, theta, &covs, config)?;
        evaluations += r.evaluations;
        converged &= r.converged;
        monte_carlo |= r.method.contains("Monte Carlo");
        if !methods.contains(&r.method) {
            methods.push(r.method.clone());
        }
        let v = &r.moments.value;
        let e = &r.moments.error;
        let z = v[0];
        if z <= 0.0 || !z.is_finite() {
            return Err(NumericError::Unsupported(format!(
                "the density integrates to {z} over the data; it must be positive somewhere"
            )));
        }
        let ez = e[0] / z;
        log_z += z.ln();
        rel_z_err += ez;
        let m: Vec<f64> = (0..n).map(|i| v[layout.score(i)] / z).collect();
        let me: Vec<f64> = (0..n)
            .map(|i| e[layout.score(i)] / z + m[i].abs() * ez)
            .collect();
        for i in 0..n {
            mean[i] += m[i];
            mean_err[i] += me[i];
            for j in 0..n {
                let s = v[layout.outer(i, j)] / z;
                let se = e[layout.outer(i, j)] / z + s.abs() * ez;
                cov[(i, j)] += s - m[i] * m[j];
                cov_err[(i, j)] += se + m[i].abs() * me[j] + m[j].abs() * me[i];
                let h = v[layout.hess(i, j)] / z;
                neg_h[(i, j)] -= h;
                neg_h_err[(i, j)] += e[layout.hess(i, j)] / z + h.abs() * ez;
            }
        }
    }
    let z = log_z.exp();
    let outer = &cov + &mean * mean.transpose();
    Ok(Moments {
        params,
        theta: theta.to_vec(),
        normaliser: z,
        normaliser_error: z * rel_z_err,
        mean_score: mean,
        mean_score_error: mean_err,
        score_cov: cov,
        score_cov_error: cov_err,
        score_outer: outer,
        neg_hessian: neg_h,
        neg_hessian_error: neg_h_err,
        method: if methods.is_empty() {
            "no data to integrate".into()
        } else {
            methods.join("; ")
        },
        converged,
        monte_carlo,
        evaluations,
    })
}

/// Apply the policy: refuse a parameter-dependent normalisation, warn
/// about a constant one and about Bartlett forms that disagree.
fn judge(m: &Moments, config: &NumericConfig) -> Result<Vec<String>, NumericError> {
    let mut warnings = Vec::new();
    let (ms, ms_err) = m.mean_score_relative();
    let z_off = (m.normaliser - 1.0).abs();
    let z_bad = z_off > config.identity_tol.max(10.0 * m.normaliser_error);
    let s_bad = ms > config.identity_tol.max(10.0 * ms_err);
    if s_bad {
        return Err(NumericError::NotNormalised {
            integral: m.normaliser,
            error: m.normaliser_error,
            mean_score: m.mean_score.iter().copied().collect(),
            params: m.params.clone(),
        });
    }
    if z_bad {
        warnings.push(format!(
            "the density integrates to {:.12}, not 1; the missing constant does not depend on \
             the parameters, so this is the Fisher information of the normalised density",
            m.normaliser
        ));
    }
    let diff = m.relative_difference(&m.score_cov, &m.neg_hessian);
    if diff > config.identity_tol.max(10.0 * m.relative_error()) {
        warnings.push(format!(
            "E[s sᵀ] and −E[∇² log p] differ (by {diff:.2e} relative): the log-density is not \
             twice differentiable in the parameters everywhere (a kink such as |x − μ|); \
             reported is the covariance of the score, the Fisher information by definition"
        ));
    }
    if !m.converged {
        warnings.push(
            "an adaptive step did not meet its tolerance; the error estimate is what was reached"
                .into(),
        );
    }
    Ok(warnings)
}

/// The expected Fisher information of one observation at θ, without a
/// closed form: tier 2 when the model is a location–scale family (and
/// [`NumericConfig::location_scale`] is on), tier 3 otherwise.
pub fn numeric_fim(
    model: &Model,
    theta: &[f64],
    config: &NumericConfig,
) -> Result<NumericFim, NumericError> {
    let _stage = crate::budget::stage("computing the Fisher information numerically");
    validate(model, theta, config)?;
    if let Some(e) = plan::irregular(model) {
        return Err(e);
    }
    if config.location_scale
        && let Some(ls) = location_scale(model, config)
    {
        let ls = ls?;
        let factor = match &ls.scale {
            Some(s) => {
                let k = model
                    .params
                    .iter()
                    .position(|p| &p.name == s)
                    .expect("scale is a parameter");
                theta[k].powi(-2)
            }
            None => 1.0,
        };
        let warnings = judge(&ls.moments, config)?;
        return Ok(NumericFim {
            params: model.param_names(),
            value: &ls.constants * factor,
            error: &ls.errors * factor,
            method: format!(
                "location–scale (tier 2): F = C/{}², C by {}",
                ls.scale.as_deref().unwrap_or("1"),
                ls.moments.method
            ),
            tier: Tier::LocationScale,
            converged: ls.moments.converged,
            warnings,
            moments: ls.moments.clone(),
            location_scale: Some(ls),
        });
    }
    let m = moments(model, theta, config)?;
    let warnings = judge(&m, config)?;
    Ok(NumericFim {
        params: m.params.clone(),
        value: m.score_cov.clone(),
        error: m.score_cov_error.clone(),
        method: format!("numeric (tier 3): {}", m.method),
        tier: Tier::Numeric,
        converged: m.converged,
        warnings,
        moments: m,
        location_scale: None,
    })
}
