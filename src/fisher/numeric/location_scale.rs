//! Tier 2: location–scale families, `log p(x) = −log σ + log f₀((x − μ)/σ)`.
//!
//! With `z = (x − μ)/σ` every score component is a function of `z` divided
//! by σ, so `F(μ, σ) = C/σ²` with constants
//!
//! ```text
//! C_μμ = E₀[(f₀'/f₀)²],  C_σσ = E₀[(1 + z f₀'/f₀)²],  C_μσ = E₀[(f₀'/f₀)(1 + z f₀'/f₀)]
//! ```
//!
//! under the standard density `f₀`: they are the Fisher information at
//! `μ = 0, σ = 1`, computed once by quadrature to about 13 digits and
//! recognised when they are simple ([`super::recognise`]).
//!
//! Detection substitutes `x = μ + σz` and checks that
//! `log p(μ + σz) + log σ` no longer depends on μ and σ: symbolically
//! when the difference cancels, otherwise with exact derivatives at many
//! random points (kinks such as `|σz|/σ` do not cancel symbolically).

use super::{Moments, NumericConfig, NumericError, SplitMix, moments, recognise::recognise};
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Model, Support};
use crate::numeric::eval::gradient_hessian;
use crate::symbolic::diff;
use crate::symbolic::tidy;
use nalgebra::DMatrix;

/// How the location–scale structure was established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    /// `log p(μ + σz) + log σ` is free of μ and σ after cancellation.
    Symbolic,
    /// Its derivatives in μ and σ vanish (exactly, by dual numbers) at
    /// random points, but did not cancel symbolically.
    Numeric,
}

/// A detected location–scale family and its constants.
#[derive(Clone, Debug)]
pub struct LocationScale {
    /// The data variable.
    pub data: Name,
    /// The location parameter, if any.
    pub location: Option<Name>,
    /// The scale parameter, if any.
    pub scale: Option<Name>,
    /// How the structure was established.
    pub verified: Verified,
    /// C = F at the standard point (location 0, scale 1), in parameter order.
    pub constants: DMatrix<f64>,
    /// Error estimate of C.
    pub errors: DMatrix<f64>,
    /// Each constant in closed form, when recognised.
    pub recognised: Vec<Vec<Option<Expr>>>,
    /// F(θ) symbolically (`C_ij/σ²`) when every constant was recognised.
    pub fim: Option<Vec<Vec<Expr>>>,
    /// The integrals at the standard point.
    pub moments: Moments,
}

/// Detect the structure and compute the constants; `None` when the model
/// is not a location–scale family in its parameters.
pub fn location_scale(
    model: &Model,
    config: &NumericConfig,
) -> Option<Result<LocationScale, NumericError>> {
    let (x, support) = match model.data.as_slice() {
        [d] => (d.name.clone(), &d.support),
        _ => return None,
    };
    let (lo, hi) = match support {
        Support::Continuous { lo, hi } => (lo.clone(), hi.clone()),
        _ => return None,
    };
    if !model.covariates.is_empty() || model.params.is_empty() || model.params.len() > 2 {
        return None;
    }
    let real_line = lo.is_none() && hi.is_none();
    let half_line = lo.as_ref().is_some_and(Expr::is_zero) && hi.is_none();
    let logp = model.logp_numeric();
    let params = model.param_names();
    let candidates: Vec<(Option<Name>, Option<Name>)> = {
        let mut c = Vec::new();
        let loc = |p: &crate::ir::model::Param| p.domain.lo.is_none() && p.domain.hi.is_none();
        let scl = |p: &crate::ir::model::Param| {
            p.domain.lo.as_ref().is_some_and(Expr::is_zero) && p.domain.hi.is_none()
        };
        match model.params.as_slice() {
            [a, b] => {
                if loc(a) && scl(b) && real_line {
                    c.push((Some(a.name.clone()), Some(b.name.clone())));
                }
                if loc(b) && scl(a) && real_line {
                    c.push((Some(b.name.clone()), Some(a.name.clone())));
                }
            }
            [a] => {
                if scl(a) && (real_line || half_line) {
                    c.push((None, Some(a.name.clone())));
                }
                if loc(a) && real_line {
                    c.push((Some(a.name.clone()), None));
                }
            }
            _ => {}
        }
        c
    };
    for (location, scale) in candidates {
        let Some(verified) = detect(&logp, &x, location.as_deref(), scale.as_deref()) else {
            continue;
        };
        let standard: Vec<f64> = params
            .iter()
            .map(|p| if Some(p) == scale.as_ref() { 1.0 } else { 0.0 })
            .collect();
        let mut tight = config.clone();
        tight.rel_tol = config.rel_tol.min(1e-13);
        tight.location_scale = false;
        let m = match moments(model, &standard, &tight) {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        let n = params.len();
        let constants = m.score_cov.clone();
        let errors = m.score_cov_error.clone();
        let recognised: Vec<Vec<Option<Expr>>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        let c = constants[(i, j)];
                        let scale = (constants[(i, i)] * constants[(j, j)]).abs().sqrt();
                        if c.abs() <= 1e-12 * scale.max(1e-300) && errors[(i, j)] <= 1e-11 * scale {
                            Some(Expr::zero())
                        } else {
                            recognise(c, 1e-12)
                        }
                    })
                    .collect()
            })
            .collect();
        let fim = recognised
            .iter()
            .all(|r| r.iter().all(Option::is_some))
            .then(|| {
                recognised
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|c| {
                                let c = c.clone().expect("all recognised");
                                match &scale {
                                    Some(s) => Expr::div(c, Expr::powi(Expr::Var(s.clone()), 2)),
                                    None => c,
                                }
                            })
                            .collect()
                    })
                    .collect()
            });
        return Some(Ok(LocationScale {
            data: x,
            location,
            scale,
            verified,
            constants,
            errors,
            recognised,
            fim,
            moments: m,
        }));
    }
    None
}

/// Is `logp(x = μ + σz) + log σ` free of μ and σ?
fn detect(logp: &Expr, x: &str, location: Option<&str>, scale: Option<&str>) -> Option<Verified> {
    let z = Expr::var("_z");
    let mu = location.map_or(Expr::zero(), Expr::var);
    let sigma = scale.map_or(Expr::one(), Expr::var);
    let shifted = Expr::add2(mu.clone(), Expr::mul2(sigma.clone(), z));
    let g = Expr::add2(
        logp.substitute(&|v| (v == x).then(|| shifted.clone())),
        if scale.is_some() {
            Expr::log(sigma)
        } else {
            Expr::zero()
        },
    );
    let vars: Vec<&str> = location.into_iter().chain(scale).collect();
    if g.contains_var(x) {
        return None;
    }
    let symbolic = vars.iter().all(|v| {
        let d = diff(&g, v);
        d.is_zero()
            || tidy(&d).is_zero()
            || crate::symbolic::cancel_bounded(&d.expand(), 8).is_zero()
    });
    if symbolic {
        return Some(Verified::Symbolic);
    }
    // Exact derivatives at random points.
    let mut rng = SplitMix(0xC0FFEE);
    let mut checked = 0;
    for _ in 0..64 {
        let zv = 6.0 * rng.next_f64() - 3.0;
        let mv = 4.0 * rng.next_f64() - 2.0;
        let sv = (2.0 * rng.next_f64() - 1.0).exp();
        let env = |name: &str| match name {
            "_z" => Some(zv),
            n if Some(n) == location => Some(mv),
            n if Some(n) == scale => Some(sv),
            _ => None,
        };
        match gradient_hessian(&g, &vars, &env) {
            Ok((v, grad, _)) => {
                let size = 1.0 + v.abs();
                if grad.iter().any(|d| d.abs() > 1e-12 * size) {
                    return None;
                }
                checked += 1;
            }
            Err(_) => continue,
        }
    }
    (checked >= 32).then_some(Verified::Numeric)
}
