//! Profile-likelihood intervals: for each parameter θ_j, the values where
//! the profile log-likelihood `ℓ_p(t) = max over the others of ℓ(θ_j = t)`
//! falls `q/2` below `ℓ(θ̂)`, `q` the χ²₁ quantile of the level (R's
//! `confint` for a `glm`, by MASS). Each `ℓ_p(t)` is a fit of the other
//! parameters ([`Fixed`]), warm-started from the last one; each end is
//! bracketed by steps of growing size from the Wald end and then found by
//! the Illinois method (regula falsi that cannot stall).

use super::error::FitError;
use super::objective::{InformationKind, Objective};
use super::optimize::{FitConfig, Method, optimize};
use super::result::{FitResult, ProfileInterval};
use crate::ir::expr::Name;
use crate::numeric::domain::Interval;
use nalgebra::{DMatrix, DVector};

/// `obj` with parameter `j` held at `value`: an objective in the others.
struct Fixed<'a> {
    inner: &'a dyn Objective,
    j: usize,
    value: f64,
}

impl Fixed<'_> {
    fn full(&self, rest: &DVector<f64>) -> DVector<f64> {
        let d = self.inner.dim();
        DVector::from_iterator(
            d,
            (0..d).map(|i| match i.cmp(&self.j) {
                std::cmp::Ordering::Less => rest[i],
                std::cmp::Ordering::Equal => self.value,
                std::cmp::Ordering::Greater => rest[i - 1],
            }),
        )
    }

    fn drop_vec(&self, v: &DVector<f64>) -> DVector<f64> {
        v.clone().remove_row(self.j)
    }

    fn drop_mat(&self, m: DMatrix<f64>) -> DMatrix<f64> {
        m.remove_row(self.j).remove_column(self.j)
    }
}

impl Objective for Fixed<'_> {
    fn dim(&self) -> usize {
        self.inner.dim() - 1
    }
    fn n_rows(&self) -> usize {
        self.inner.n_rows()
    }
    fn param_names(&self) -> Vec<Name> {
        let mut names = self.inner.param_names();
        names.remove(self.j);
        names
    }
    fn check(&self, theta: &DVector<f64>) -> Result<(), FitError> {
        self.inner.check(&self.full(theta))
    }
    fn loglik(&self, theta: &DVector<f64>) -> Result<f64, FitError> {
        self.inner.loglik(&self.full(theta))
    }
    fn loglik_gradient(&self, theta: &DVector<f64>) -> Result<(f64, DVector<f64>), FitError> {
        let (v, g) = self.inner.loglik_gradient(&self.full(theta))?;
        Ok((v, self.drop_vec(&g)))
    }
    fn expected_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
        Ok(self.drop_mat(self.inner.expected_information(&self.full(theta))?))
    }
    fn observed_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
        Ok(self.drop_mat(self.inner.observed_information(&self.full(theta))?))
    }
    fn information_kind(&self) -> InformationKind {
        self.inner.information_kind()
    }
    fn default_start(&self) -> DVector<f64> {
        self.drop_vec(&self.inner.default_start())
    }
    fn bounds(&self) -> Vec<Interval> {
        let mut b = self.inner.bounds();
        b.remove(self.j);
        b
    }
}

/// Most evaluations of the profile for one end of one interval.
const MAX_EVALS: usize = 200;

/// The profile log-likelihood at `θ_j = t`, warm-started from `rest`
/// (updated to the new optimum).
fn profile_at(
    obj: &dyn Objective,
    j: usize,
    t: f64,
    rest: &mut DVector<f64>,
    tol: f64,
) -> Result<f64, String> {
    let d = obj.dim();
    if d == 1 {
        let theta = DVector::from_element(1, t);
        obj.check(&theta).map_err(|e| e.to_string())?;
        return obj.loglik(&theta).map_err(|e| e.to_string());
    }
    let fixed = Fixed {
        inner: obj,
        j,
        value: t,
    };
    let config = FitConfig {
        method: Method::FisherScoring,
        max_iter: 500,
        tol,
        init: Some(rest.clone()),
        ..FitConfig::default()
    };
    let opt = optimize(&fixed, rest.clone(), &config, &mut |_| {}).map_err(|e| e.to_string())?;
    if !opt.stop.converged() {
        return Err(format!(
            "the fit of the other parameters at {} = {t} did not converge",
            obj.param_names()[j]
        ));
    }
    *rest = opt.theta;
    Ok(opt.loglik)
}

/// Profile-likelihood intervals at `level` (0 < level < 1) for every
/// parameter of the converged fit `r` of `obj`.
pub fn profile_intervals(obj: &dyn Objective, r: &FitResult, level: f64) -> Vec<ProfileInterval> {
    let z = crate::numeric::special::normal_quantile(0.5 + 0.5 * level);
    // The χ²₁ quantile is z²: the ends are where ℓ_p = ℓ̂ − z²/2.
    let target = r.loglik - 0.5 * z * z;
    let ses = r.wald_std_errors();
    let bounds = obj.bounds();
    let tol = r.tol.min(1e-8);
    (0..obj.dim())
        .map(|j| {
            let se = ses[j].unwrap_or(0.1 * r.estimates[j].abs().max(1.0));
            let mut notes = Vec::new();
            let mut end = |dir: f64| match one_end(obj, r, j, dir, se * z, target, bounds[j], tol) {
                Ok(v) => Some(v),
                Err(why) => {
                    notes.push(format!(
                        "{} end of {}: {why}",
                        if dir < 0.0 { "lower" } else { "upper" },
                        r.params[j]
                    ));
                    None
                }
            };
            let lower = end(-1.0);
            let upper = end(1.0);
            ProfileInterval {
                lower,
                upper,
                note: (!notes.is_empty()).then(|| notes.join("; ")),
            }
        })
        .collect()
}

/// One end of θ_j's interval in direction `dir` (±1): bracket the
/// crossing of `ℓ_p = target`, then Illinois.
#[allow(clippy::too_many_arguments)]
fn one_end(
    obj: &dyn Objective,
    r: &FitResult,
    j: usize,
    dir: f64,
    wald: f64,
    target: f64,
    Interval { lo, hi }: Interval,
    tol: f64,
) -> Result<f64, String> {
    let est = r.estimates[j];
    let mut rest = r.estimates.clone().remove_row(j);
    let limit = if dir < 0.0 { lo } else { hi };
    let mut evals = 0;
    let mut f = |t: f64, rest: &mut DVector<f64>| -> Result<f64, String> {
        evals += 1;
        if evals > MAX_EVALS {
            return Err("no crossing found within 200 profile fits".into());
        }
        Ok(profile_at(obj, j, t, rest, tol)? - target)
    };
    // Bracket: (a, fa > 0) inside, (b, fb ≤ 0) outside.
    let (mut a, mut fa) = (est, r.loglik - target);
    let mut b;
    let mut fb;
    let mut k = 0;
    loop {
        // Steps of 1, 2, 4, ... Wald half-widths; towards a finite end of
        // the domain, halving the distance left instead of crossing it.
        let mut t = est + dir * wald * 2f64.powi(k);
        if limit.is_finite() && (t - limit) * dir >= 0.0 {
            t = a + 0.5 * (limit - a);
        }
        if t == a {
            return Err("the profile stays above the level up to the domain's boundary".into());
        }
        let mut trial = rest.clone();
        let ft = f(t, &mut trial)?;
        if ft <= 0.0 {
            (b, fb) = (t, ft);
            break;
        }
        (a, fa, rest) = (t, ft, trial);
        k += 1;
        if k > 60 {
            return Err("the profile stays above the level as far as it was followed".into());
        }
    }
    // Illinois: keep a bracket, halve the stale end's value.
    let mut side = 0;
    for _ in 0..MAX_EVALS {
        let t = b - fb * (b - a) / (fb - fa);
        let t = if (t - a) * (t - b) < 0.0 {
            t
        } else {
            0.5 * (a + b)
        };
        if (b - a).abs() <= 1e-12 * (wald.abs() + t.abs()) || fb == 0.0 {
            break;
        }
        let mut trial = rest.clone();
        let ft = f(t, &mut trial)?;
        if ft > 0.0 {
            (a, fa, rest) = (t, ft, trial);
            if side == -1 {
                fb *= 0.5;
            }
            side = -1;
        } else {
            (b, fb) = (t, ft);
            if side == 1 {
                fa *= 0.5;
            }
            side = 1;
        }
        if ft.abs() <= 1e-13 * target.abs().max(1.0) {
            return Ok(t);
        }
    }
    Ok(if fa.abs() < fb.abs() { a } else { b })
}
