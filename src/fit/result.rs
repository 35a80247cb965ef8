//! What a fit reports: estimates, standard errors from the expected and
//! the observed information, Wald intervals and tests, the log-likelihood
//! and how the iteration ended.

use super::objective::InformationKind;
use super::optimize::{Method, StopReason, TraceRow};
use crate::ir::expr::Name;
use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

/// The 0.975 quantile of the standard normal distribution.
pub const Z_975: f64 = 1.959_963_984_540_054;

/// A fitted model.
#[derive(Clone, Debug)]
pub struct FitResult {
    /// The model's name.
    pub model: String,
    /// Parameter names (the order of every vector below).
    pub params: Vec<Name>,
    /// Design column of each parameter for linear-form models (`z1`,
    /// `(intercept)`), else the parameter's name.
    pub columns: Vec<String>,
    /// The method used.
    pub method: Method,
    /// θ̂.
    pub estimates: DVector<f64>,
    /// Standard errors from the expected (Fisher) information,
    /// `√diag(I(θ̂)⁻¹)`; `None` where it is not positive definite.
    pub std_errors: Vec<Option<f64>>,
    /// Standard errors from the observed information `−∇²ℓ(θ̂)`.
    pub std_errors_observed: Vec<Option<f64>>,
    /// `I(θ̂)` (expected, or its stand-in: see `information`).
    pub expected_information: DMatrix<f64>,
    /// `−∇²ℓ(θ̂)`.
    pub observed_information: DMatrix<f64>,
    /// `I(θ̂)⁻¹`, when positive definite: the Cramér–Rao / Wald covariance.
    pub covariance: Option<DMatrix<f64>>,
    /// How the expected information was computed.
    pub information: InformationKind,
    /// `ℓ(θ̂)`.
    pub loglik: f64,
    /// Number of rows.
    pub n_rows: usize,
    /// `Σ w` when fitted with frequency weights ([`super::Problem::with_weights`]).
    pub weights_sum: Option<f64>,
    /// Steps taken.
    pub iterations: usize,
    /// Why the iteration stopped.
    pub stop: StopReason,
    /// The convergence tolerance used.
    pub tol: f64,
    /// The last Newton decrement (distance to the maximum in standard
    /// errors, to second order).
    pub decrement: f64,
    /// The trajectory.
    pub trace: Vec<TraceRow>,
    /// Set when the default start failed and the fit was made again from
    /// a start on the data's scale.
    pub restart: Option<Restart>,
    /// Deviance and null deviance, for a GLM family with a saturated
    /// model (Bernoulli, binomial, Poisson through one linear predictor).
    pub deviance: Option<Deviance>,
    /// Confidence level of [`FitResult::intervals`] (0.95 by default).
    pub level: f64,
    /// Profile-likelihood intervals at [`FitResult::level`], when asked
    /// for ([`super::profile_intervals`]); Wald intervals otherwise.
    pub profile: Option<Vec<ProfileInterval>>,
    /// Which standard errors z, p and Wald intervals use.
    pub se: SeKind,
    /// The sandwich covariance `F⁻¹ (Σ sᵢsᵢᵀ) F⁻¹` (sums over clusters
    /// with `--cluster`), when asked for ([`super::sandwich`]).
    pub sandwich: Option<Sandwich>,
}

/// Which standard errors the Wald quantities use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SeKind {
    /// The expected (Fisher) information, else the observed one.
    #[default]
    Expected,
    /// The observed information `−∇²ℓ(θ̂)`.
    Observed,
    /// The sandwich (robust, Huber–White) covariance.
    Sandwich,
}

impl SeKind {
    /// The name on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            SeKind::Expected => "expected",
            SeKind::Observed => "observed",
            SeKind::Sandwich => "sandwich",
        }
    }
}

/// A sandwich covariance and how it was made.
#[derive(Clone, Debug, PartialEq)]
pub struct Sandwich {
    /// `B (Σ_g u_g u_gᵀ) B`, `B` the inverse information, `u_g` the score
    /// summed over cluster g (over one row without clusters).
    pub covariance: DMatrix<f64>,
    /// Its standard errors.
    pub std_errors: Vec<Option<f64>>,
    /// The cluster column and the number of clusters, with `--cluster`.
    pub clusters: Option<(String, usize)>,
}

/// A profile-likelihood interval: each end where `2(ℓ̂ − ℓ_p(θ_j))`
/// equals the χ²₁ quantile of the level, `None` where the profile does
/// not fall that far inside the parameter's domain (the reason in `note`).
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileInterval {
    /// Lower end.
    pub lower: Option<f64>,
    /// Upper end.
    pub upper: Option<f64>,
    /// Why an end is missing.
    pub note: Option<String>,
}

/// Deviance `2(ℓ_sat − ℓ(θ̂))` against the saturated model (one mean per
/// row), and the null deviance of the intercept-only model (with the
/// same offset), as R's `glm` and statsmodels' `GLM` report them.
#[derive(Clone, Debug, PartialEq)]
pub struct Deviance {
    /// The family (`bernoulli`, `binomial`, `poisson`).
    pub family: &'static str,
    /// Σ sup over the mean of log p(y_i): the saturated log-likelihood.
    pub saturated_loglik: f64,
    /// `2(ℓ_sat − ℓ(θ̂))`.
    pub deviance: f64,
    /// `2(ℓ_sat − ℓ_null)`; `None` (with `null_note`) when the model has
    /// no intercept or the null fit failed.
    pub null_deviance: Option<f64>,
    /// Why there is no null deviance.
    pub null_note: Option<String>,
}

/// A second start after the default one failed.
#[derive(Clone, Debug)]
pub struct Restart {
    /// The start used (found by a coordinate search in unbounded
    /// coordinates: `log θ` for positive parameters, `logit` for
    /// intervals).
    pub start: DVector<f64>,
    /// How the fit from the default start ended.
    pub why: String,
}

/// `M⁻¹` through Cholesky, `None` when `M` is not positive definite.
pub fn spd_inverse(m: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    if !m.iter().all(|v| v.is_finite()) {
        return None;
    }
    let ch = Cholesky::<f64, Dyn>::new(m.clone())?;
    let inv = ch.inverse();
    inv.iter().all(|v| v.is_finite()).then_some(inv)
}

/// Square roots of a covariance's diagonal (`None` for a non-positive
/// entry).
pub fn std_errors_of(cov: Option<&DMatrix<f64>>, d: usize) -> Vec<Option<f64>> {
    (0..d)
        .map(|i| {
            cov.and_then(|c| {
                let v = c[(i, i)];
                (v > 0.0 && v.is_finite()).then(|| v.sqrt())
            })
        })
        .collect()
}

impl FitResult {
    /// Did the iteration converge?
    pub fn converged(&self) -> bool {
        self.stop.converged()
    }

    /// The standard errors the Wald quantities use ([`FitResult::se`]):
    /// by default the expected information's, else the observed one's.
    pub fn wald_std_errors(&self) -> Vec<Option<f64>> {
        match (self.se, &self.sandwich) {
            (SeKind::Observed, _) => self.std_errors_observed.clone(),
            (SeKind::Sandwich, Some(s)) => s.std_errors.clone(),
            (SeKind::Sandwich, None) => vec![None; self.params.len()],
            (SeKind::Expected, _) => self
                .std_errors
                .iter()
                .zip(&self.std_errors_observed)
                .map(|(e, o)| e.or(*o))
                .collect(),
        }
    }

    /// The covariance of θ̂ behind [`FitResult::wald_std_errors`]: the
    /// inverse expected information (else the inverse observed one), the
    /// inverse observed information, or the sandwich, as [`FitResult::se`]
    /// says; `None` where that matrix is not positive definite.
    pub fn wald_covariance(&self) -> Option<DMatrix<f64>> {
        match (self.se, &self.sandwich) {
            (SeKind::Observed, _) => spd_inverse(&self.observed_information),
            (SeKind::Sandwich, s) => s.as_ref().map(|s| s.covariance.clone()),
            (SeKind::Expected, _) => self
                .covariance
                .clone()
                .or_else(|| spd_inverse(&self.observed_information)),
        }
    }

    /// 95% Wald intervals `θ̂ ± 1.96·SE`.
    pub fn wald_intervals(&self) -> Vec<Option<(f64, f64)>> {
        self.wald_intervals_at(0.95)
    }

    /// Wald intervals `θ̂ ± z·SE` at `level`, `z = Φ⁻¹((1 + level)/2)`.
    pub fn wald_intervals_at(&self, level: f64) -> Vec<Option<(f64, f64)>> {
        let z = if level == 0.95 {
            Z_975
        } else {
            crate::numeric::special::normal_quantile(0.5 + 0.5 * level)
        };
        self.wald_std_errors()
            .iter()
            .zip(self.estimates.iter())
            .map(|(se, &b)| se.map(|s| (b - z * s, b + z * s)))
            .collect()
    }

    /// The intervals the report shows: profile-likelihood ones when
    /// computed, else Wald, at [`FitResult::level`]; each end `None`
    /// where it does not exist.
    pub fn intervals(&self) -> Vec<(Option<f64>, Option<f64>)> {
        match &self.profile {
            Some(p) => p.iter().map(|i| (i.lower, i.upper)).collect(),
            None => self
                .wald_intervals_at(self.level)
                .into_iter()
                .map(|c| (c.map(|c| c.0), c.map(|c| c.1)))
                .collect(),
        }
    }

    /// Wald statistics `θ̂ / SE`.
    pub fn z_values(&self) -> Vec<Option<f64>> {
        self.wald_std_errors()
            .iter()
            .zip(self.estimates.iter())
            .map(|(se, &b)| se.map(|s| b / s))
            .collect()
    }

    /// Two-sided p-values `P(|Z| > |z|)` of the Wald tests of θ = 0.
    pub fn p_values(&self) -> Vec<Option<f64>> {
        self.z_values()
            .iter()
            .map(|z| z.map(|z| crate::numeric::special::erfc(z.abs() / std::f64::consts::SQRT_2)))
            .collect()
    }

    /// Akaike's information criterion `2d − 2ℓ`.
    pub fn aic(&self) -> f64 {
        2.0 * self.params.len() as f64 - 2.0 * self.loglik
    }

    /// Schwarz's Bayesian information criterion `d·ln n − 2ℓ` (R's
    /// `BIC`, statsmodels' `bic_llf`), n = [`FitResult::n_obs`].
    pub fn bic(&self) -> f64 {
        self.params.len() as f64 * self.n_obs().ln() - 2.0 * self.loglik
    }

    /// The number of observations: `Σ w` with frequency weights
    /// (statsmodels' `nobs` with `freq_weights`), else the rows.
    pub fn n_obs(&self) -> f64 {
        self.weights_sum.unwrap_or(self.n_rows as f64)
    }
}
