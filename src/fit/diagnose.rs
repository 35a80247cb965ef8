//! After the iteration: is the reported point a maximum? Every method's end
//! point goes through the same checks, so no method can report a false
//! optimum:
//!
//! * **Separation** (a binary response through one linear predictor): the
//!   design and the 0/1 response are fitted with the logistic loss, which
//!   is tail-safe, and a direction along which it rises without bound is
//!   checked row by row (every row on its side of the hyperplane). The MLE
//!   exists for a logit, a probit or any other link exactly when it exists
//!   for the logit (Albert and Anderson 1984), so this decides it for the
//!   user's link without evaluating it in the tails.
//! * **Boundary MLEs**: each bounded parameter is moved towards the bound
//!   its score points at, in coordinates where the bound is at infinity
//!   (`log(θ − lo)`, `logit`): if the log-likelihood rises all the way to
//!   where θ reaches the bound in floating point, the supremum is on the
//!   boundary (p → 1 for Bernoulli data that are all ones, λ → 0 for
//!   Poisson zeros, σ → 0 for identical rows).
//! * **The gradient test** at the reported point, with no damping:
//!   converged only if the Newton decrement `√(sᵀI⁻¹s)` is below the
//!   tolerance there.
//! * **Robust starts**: a coordinate search over those same unbounded
//!   coordinates, doubling steps, puts every parameter on the data's scale
//!   (a rate of 10⁻⁹ or 10⁻¹⁰⁰) before Fisher scoring takes over.

use super::error::FitError;
use super::objective::Objective;
use super::optimize::{FitConfig, Method, Optimum, StopReason, optimize_plain};
use crate::ir::expr::Name;
use crate::numeric::domain::Interval;
use nalgebra::{DMatrix, DVector};

/// A binary response through one linear predictor: the design, row-major
/// `n × d`, and each row's sign `2y − 1`.
pub struct BinaryDesign<'a> {
    /// `n × d`, row-major.
    pub x: &'a [f64],
    /// `±1` per row.
    pub sign: Vec<f64>,
    /// Rows.
    pub n: usize,
    /// Columns (parameters).
    pub d: usize,
}

/// A parameter's coordinate with its bounds sent to infinity.
#[derive(Clone, Copy, Debug)]
struct Coord {
    lo: f64,
    hi: f64,
}

impl Coord {
    fn to_phi(self, t: f64) -> f64 {
        match (self.lo.is_finite(), self.hi.is_finite()) {
            (false, false) => t,
            (true, false) => (t - self.lo).ln(),
            (false, true) => -(self.hi - t).ln(),
            (true, true) => {
                let u = (t - self.lo) / (self.hi - self.lo);
                u.ln() - (-u).ln_1p()
            }
        }
    }

    fn theta_at(self, p: f64) -> f64 {
        match (self.lo.is_finite(), self.hi.is_finite()) {
            (false, false) => p,
            (true, false) => self.lo + p.exp(),
            (false, true) => self.hi - (-p).exp(),
            (true, true) => {
                let u = if p >= 0.0 {
                    1.0 / (1.0 + (-p).exp())
                } else {
                    let e = p.exp();
                    e / (1.0 + e)
                };
                self.lo + (self.hi - self.lo) * u
            }
        }
    }

    /// Is `t` strictly inside?
    fn inside(self, t: f64) -> bool {
        Interval {
            lo: self.lo,
            hi: self.hi,
        }
        .contains(t)
    }
}

fn coords(obj: &dyn Objective) -> Vec<Coord> {
    obj.bounds()
        .into_iter()
        .map(|Interval { lo, hi }| Coord { lo, hi })
        .collect()
}

/// Most doublings along a ray.
const RAY_DOUBLINGS: usize = 11;
/// Strict increases needed before a ray that reaches a bound counts.
const MIN_RISES: usize = 3;
/// Strict increases needed before a log-likelihood that cannot be
/// evaluated any more counts as the end of a rising ray: the parameter
/// has moved e^(2⁶) ≈ 10²⁷ times closer to its bound.
const BREAKDOWN_RISES: usize = 6;

/// How a ray from θ ended.
enum Ray {
    /// ℓ rose at every point until the parameters listed reached their
    /// bounds in floating point (or it rose over every doubling).
    Unbounded { saturated: Vec<usize> },
    /// ℓ did not keep rising.
    Bounded,
}

/// Walk `φ(θ) + t·u`, t = 1, 2, 4, … (2¹⁰), in the unbounded coordinates.
/// `Unbounded` when ℓ rises strictly at every point and either the walk
/// reaches a bound (some θ_i rounds to it, `min_rises` rises first) or
/// finishes every doubling. With `breakdown` set, ℓ that can no longer be
/// evaluated (σ² underflows near σ = 0) after [`BREAKDOWN_RISES`] rises
/// also ends the walk as unbounded, towards the bounds of the moving
/// parameters.
fn ray(
    obj: &dyn Objective,
    theta: &DVector<f64>,
    u: &DVector<f64>,
    min_rises: usize,
    breakdown: bool,
) -> Ray {
    ray_profiled(obj, theta, u, min_rises, breakdown, false)
}

/// [`ray`]; with `profile`, the parameters that do not move along `u` are
/// re-fitted at every point ([`polish`]), so the walk follows the profile
/// log-likelihood of the moving ones (σ → 0 needs μ at the mean).
fn ray_profiled(
    obj: &dyn Objective,
    theta: &DVector<f64>,
    u: &DVector<f64>,
    min_rises: usize,
    breakdown: bool,
    profile: bool,
) -> Ray {
    let cs = coords(obj);
    let fixed: Vec<bool> = u.iter().map(|&v| v != 0.0).collect();
    let mut cur = theta.clone();
    if profile {
        cur = polish(obj, &cur, &fixed);
    }
    let mut prev = match obj.loglik(&cur) {
        Ok(v) if v.is_finite() => v,
        _ => return Ray::Bounded,
    };
    let phi: Vec<f64> = cur.iter().zip(&cs).map(|(&t, c)| c.to_phi(t)).collect();
    let mut t = 1.0;
    for rises in 0..RAY_DOUBLINGS {
        let mut point = cur.clone();
        for i in 0..theta.len() {
            if u[i] != 0.0 {
                point[i] = cs[i].theta_at(phi[i] + t * u[i]);
            }
        }
        let saturated: Vec<usize> = (0..theta.len())
            .filter(|&i| u[i] != 0.0 && !cs[i].inside(point[i]))
            .collect();
        if !saturated.is_empty() {
            return if rises >= min_rises && saturated.iter().all(|&i| at_bound(cs[i], point[i])) {
                Ray::Unbounded { saturated }
            } else {
                Ray::Bounded
            };
        }
        if profile {
            point = polish(obj, &point, &fixed);
        }
        let v = match obj.loglik(&point) {
            Ok(v) if v.is_finite() => v,
            _ if breakdown && rises >= BREAKDOWN_RISES => {
                let moving: Vec<usize> = (0..theta.len())
                    .filter(|&i| u[i] != 0.0 && (cs[i].lo.is_finite() || cs[i].hi.is_finite()))
                    .collect();
                return if moving.is_empty() {
                    Ray::Bounded
                } else {
                    Ray::Unbounded { saturated: moving }
                };
            }
            _ => return Ray::Bounded,
        };
        if v <= prev {
            return Ray::Bounded;
        }
        prev = v;
        cur = point;
        t *= 2.0;
    }
    Ray::Unbounded { saturated: vec![] }
}

/// Up to four Fisher-scoring steps on the parameters not `fixed`, each
/// kept only if it stays in the domain and raises ℓ (halving the step up
/// to 20 times). Returns θ unchanged where nothing improves.
fn polish(obj: &dyn Objective, theta: &DVector<f64>, fixed: &[bool]) -> DVector<f64> {
    let free: Vec<usize> = (0..theta.len()).filter(|&i| !fixed[i]).collect();
    if free.is_empty() {
        return theta.clone();
    }
    let mut cur = theta.clone();
    for _ in 0..4 {
        let (Ok((ll, g)), Ok(info)) = (obj.loglik_gradient(&cur), obj.expected_information(&cur))
        else {
            break;
        };
        let k = free.len();
        let sub = DMatrix::from_fn(k, k, |a, b| info[(free[a], free[b])]);
        let sg = DVector::from_fn(k, |a, _| g[free[a]]);
        let Some(step) = super::step::damped_solve(&sub, &sg, 0.0) else {
            break;
        };
        let mut alpha = 1.0;
        let mut improved = false;
        for _ in 0..20 {
            let mut trial = cur.clone();
            for (a, &i) in free.iter().enumerate() {
                trial[i] += alpha * step.x[a];
            }
            if obj.check(&trial).is_ok()
                && let Ok(v) = obj.loglik(&trial)
                && v > ll
            {
                cur = trial;
                improved = true;
                break;
            }
            alpha /= 2.0;
        }
        if !improved {
            break;
        }
    }
    cur
}

/// Did the mapped value reach a finite bound (rather than overflow)?
fn at_bound(c: Coord, t: f64) -> bool {
    (c.lo.is_finite() && t <= c.lo) || (c.hi.is_finite() && t >= c.hi)
}

/// The bound parameter `i` heads for.
fn bound_of(c: Coord, t: f64) -> f64 {
    if c.lo.is_finite() && (!c.hi.is_finite() || (t - c.lo).abs() < (c.hi - t).abs()) {
        c.lo
    } else {
        c.hi
    }
}

fn boundary_error(
    names: &[Name],
    theta: &DVector<f64>,
    cs: &[Coord],
    params: &[usize],
    iterations: usize,
) -> FitError {
    FitError::Boundary {
        params: params
            .iter()
            .map(|&i| (names[i].clone(), bound_of(cs[i], theta[i])))
            .collect(),
        iterations,
    }
}

/// Each bounded parameter moved alone towards the bound its score points
/// at: a boundary MLE when ℓ rises all the way (or θ_i is already at the
/// bound in floating point and the score still points there).
/// `profile`: re-fit the other parameters along the way (needed where the
/// iteration stopped short; at a claimed maximum they are fitted already).
fn boundary_by_coordinate(
    obj: &dyn Objective,
    theta: &DVector<f64>,
    grad: &DVector<f64>,
    iterations: usize,
    profile: bool,
) -> Option<FitError> {
    let cs = coords(obj);
    let names = obj.param_names();
    let d = theta.len();
    for i in 0..d {
        let c = cs[i];
        let toward = if grad[i] > 0.0 {
            c.hi
        } else if grad[i] < 0.0 {
            c.lo
        } else {
            continue;
        };
        if !toward.is_finite() {
            continue;
        }
        let sign = grad[i].signum();
        let mut u = DVector::zeros(d);
        u[i] = sign;
        let phi = c.to_phi(theta[i]);
        // Already at the bound in floating point: one unit further rounds
        // onto it.
        if !c.inside(c.theta_at(phi + sign)) && at_bound(c, c.theta_at(phi + sign)) {
            return Some(boundary_error(&names, theta, &cs, &[i], iterations));
        }
        if let Ray::Unbounded { saturated } = ray_profiled(obj, theta, &u, MIN_RISES, true, profile)
            && saturated == [i]
        {
            return Some(boundary_error(&names, theta, &cs, &[i], iterations));
        }
    }
    None
}

/// The recent direction of travel, in the unbounded coordinates: a
/// supremum at infinity or on the boundary of several parameters at once.
pub(super) fn unbounded_trajectory(
    obj: &dyn Objective,
    trace: &[super::optimize::TraceRow],
    iterations: usize,
) -> Option<FitError> {
    if trace.len() < 6 {
        return None;
    }
    let cs = coords(obj);
    let last = &trace[trace.len() - 1].theta;
    let back = &trace[trace.len() - 6].theta;
    let phi = |t: &DVector<f64>| DVector::from_fn(t.len(), |i, _| cs[i].to_phi(t[i]));
    let u = phi(last) - phi(back);
    if !u.iter().all(|v| v.is_finite()) || u.norm() <= 1e-12 * (1.0 + phi(last).norm()) {
        return None;
    }
    let names = obj.param_names();
    match ray(obj, last, &u, MIN_RISES, false) {
        Ray::Bounded => None,
        Ray::Unbounded { saturated } if saturated.is_empty() => {
            // Every doubling rose: the original diagnosis (it also names
            // separation) decides, on the original coordinates.
            let far = super::optimize::unbounded_along(obj, last, &(last - back))?;
            Some(FitError::NoMle {
                direction: super::step::direction(&(last - back), &names),
                explanation: obj.explain_unbounded(&far),
                iterations,
            })
        }
        Ray::Unbounded { saturated } => {
            Some(boundary_error(&names, last, &cs, &saturated, iterations))
        }
    }
}

/// The logistic loss on a binary design: the probe for separation.
struct LogisticProbe<'a> {
    design: &'a BinaryDesign<'a>,
    names: Vec<Name>,
}

/// `log σ(z)` without overflow.
fn log_sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        -(-z).exp().ln_1p()
    } else {
        z - z.exp().ln_1p()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl LogisticProbe<'_> {
    fn row(&self, r: usize) -> &[f64] {
        &self.design.x[r * self.design.d..(r + 1) * self.design.d]
    }

    fn eta(&self, theta: &DVector<f64>, r: usize) -> f64 {
        self.row(r)
            .iter()
            .zip(theta.iter())
            .map(|(a, b)| a * b)
            .sum()
    }

    /// `Σ log σ(s η)` and, with `grad`, its gradient: fixed chunks of rows
    /// in parallel, added in row order (reproducible).
    fn sums(&self, theta: &DVector<f64>, grad: bool) -> (f64, DVector<f64>) {
        use rayon::prelude::*;
        const CH: usize = 4096;
        let (n, d) = (self.design.n, self.design.d);
        let parts: Vec<(f64, Vec<f64>)> = (0..n.div_ceil(CH))
            .into_par_iter()
            .map(|c| {
                let mut v = 0.0;
                let mut g = vec![0.0; if grad { d } else { 0 }];
                for r in c * CH..((c + 1) * CH).min(n) {
                    let z = self.design.sign[r] * self.eta(theta, r);
                    v += log_sigmoid(z);
                    if grad {
                        let w = self.design.sign[r] * sigmoid(-z);
                        for (gi, a) in g.iter_mut().zip(self.row(r)) {
                            *gi += w * a;
                        }
                    }
                }
                (v, g)
            })
            .collect();
        let mut total = 0.0;
        let mut g = DVector::zeros(d);
        for (v, part) in parts {
            total += v;
            if grad {
                g += DVector::from_vec(part);
            }
        }
        (total, g)
    }
}

impl Objective for LogisticProbe<'_> {
    fn dim(&self) -> usize {
        self.design.d
    }
    fn n_rows(&self) -> usize {
        self.design.n
    }
    fn param_names(&self) -> Vec<Name> {
        self.names.clone()
    }
    fn check(&self, theta: &DVector<f64>) -> Result<(), FitError> {
        if theta.iter().all(|v| v.is_finite()) {
            Ok(())
        } else {
            Err(FitError::Config("not finite".into()))
        }
    }
    fn loglik(&self, theta: &DVector<f64>) -> Result<f64, FitError> {
        Ok(self.sums(theta, false).0)
    }
    fn loglik_gradient(&self, theta: &DVector<f64>) -> Result<(f64, DVector<f64>), FitError> {
        Ok(self.sums(theta, true))
    }
    fn expected_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
        let forms = [self.design.x];
        crate::numeric::gram::weighted_gram(
            crate::numeric::gram::Designs {
                forms: &forms,
                n: self.design.n,
                d: self.design.d,
            },
            |rows, w| {
                for (slot, r) in w[0].iter_mut().zip(rows) {
                    let e = self.eta(theta, r);
                    *slot = sigmoid(e) * sigmoid(-e);
                }
                Ok::<(), FitError>(())
            },
        )
    }
    fn observed_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
        self.expected_information(theta)
    }
    fn information_kind(&self) -> super::objective::InformationKind {
        super::objective::InformationKind::LinearForms { forms: 1 }
    }
    fn default_start(&self) -> DVector<f64> {
        DVector::zeros(self.design.d)
    }
}

/// Does the binary design separate? Fisher scoring on the logistic loss
/// from 0; when it finds a direction of unbounded increase, every row's
/// margin `(2y − 1)·xᵀu` is checked: all ≥ 0 (up to rounding) is
/// separation, complete when all are > 0. `None`: not separated, or not
/// decided within the probe's iterations. `iterations`: the fit's, for
/// the message (else the probe's).
pub(super) fn separation(obj: &dyn Objective, iterations: Option<usize>) -> Option<FitError> {
    let design = obj.binary_design()?;
    if design.n == 0 || design.d == 0 {
        return None;
    }
    let names = obj.param_names();
    let probe = LogisticProbe {
        design: &design,
        names: names.clone(),
    };
    let config = FitConfig {
        method: Method::FisherScoring,
        max_iter: 200,
        ..FitConfig::default()
    };
    let start = DVector::zeros(design.d);
    let mut rows: Vec<DVector<f64>> = Vec::new();
    let outcome = optimize_plain(&probe, start, &config, &mut |r| rows.push(r.theta.clone()));
    let probe_iterations = match &outcome {
        Ok(o) => o.iterations,
        Err(FitError::NoMle { iterations, .. }) => *iterations,
        Err(_) => rows.len().saturating_sub(1),
    };
    // Candidate directions: where the probe's iterates went (recently,
    // lately, in all). Its stopping rule is not the judge — under
    // quasi-separation the score and the information vanish together and
    // the probe "converges" — each candidate is checked row by row.
    let last = rows.last()?;
    let candidates = [
        last - &rows[rows.len().saturating_sub(6)],
        last - &rows[rows.len().saturating_sub(2)],
        last.clone(),
    ];
    let (u, complete) = candidates
        .into_iter()
        .find_map(|u| separates(&design, &u).map(|c| (u, c)))?;
    let explanation = if complete {
        "the data are completely separated: a linear combination of the covariates predicts \
         the 0/1 response exactly for every row (fitted probabilities tend to 0 and 1)"
    } else {
        "the data are quasi-completely separated: a linear combination of the covariates \
         predicts the 0/1 response exactly for some of the rows"
    };
    Some(FitError::NoMle {
        direction: super::step::direction(&u, &names),
        explanation: Some(explanation.into()),
        iterations: iterations.unwrap_or(probe_iterations),
    })
}

/// Is `u` a separating direction: every row's margin `(2y − 1)·xᵀu` ≥ 0
/// and some > 0 (relative to the largest `Σ_j |x_j u_j|`, 10⁻¹⁰)? Then ℓ
/// rises strictly along `u` from any θ, for any link: the MLE does not
/// exist. `Some(true)`: every margin > 0 (complete separation).
fn separates(design: &BinaryDesign, u: &DVector<f64>) -> Option<bool> {
    if !u.iter().all(|v| v.is_finite()) {
        return None;
    }
    let (n, d) = (design.n, design.d);
    let mut margins = Vec::with_capacity(n);
    let mut scale = 0.0f64;
    for r in 0..n {
        let a = &design.x[r * d..(r + 1) * d];
        let m: f64 = a.iter().zip(u.iter()).map(|(x, v)| x * v).sum();
        let size: f64 = a.iter().zip(u.iter()).map(|(x, v)| (x * v).abs()).sum();
        scale = scale.max(size);
        margins.push(design.sign[r] * m);
    }
    if scale.is_nan() || scale <= 0.0 {
        return None;
    }
    let tol = 1e-10 * scale;
    if margins.iter().any(|&m| m < -tol) || margins.iter().all(|&m| m <= tol) {
        return None;
    }
    Some(margins.iter().all(|&m| m > tol))
}

/// The largest `|η|` of the linear predictor at θ (binary designs).
fn max_abs_eta(design: &BinaryDesign, theta: &DVector<f64>) -> f64 {
    (0..design.n)
        .map(|r| {
            design.x[r * design.d..(r + 1) * design.d]
                .iter()
                .zip(theta.iter())
                .map(|(a, b)| a * b)
                .sum::<f64>()
                .abs()
        })
        .fold(0.0, f64::max)
}

/// Beyond this `|η|` a fitted probability is within 10⁻⁸ of 0 or 1 for a
/// logit (and far closer for a probit): a converged fit there may be a
/// separated one, so the probe decides.
const EXTREME_ETA: f64 = 18.0;

/// Check an iteration's end point (see the module docs). An `Ok` optimum
/// has an honest [`StopReason`]: converged only if the gradient test holds
/// at θ; an `Err` names separation or a boundary.
pub(super) fn certify(
    obj: &dyn Objective,
    config: &FitConfig,
    outcome: Result<Optimum, FitError>,
) -> Result<Optimum, FitError> {
    let mut opt = match outcome {
        Ok(o) => o,
        Err(
            e @ (FitError::Config(_)
            | FitError::StartOutsideDomain(_)
            | FitError::NoMle { .. }
            | FitError::Boundary { .. }),
        ) => return Err(e),
        Err(e) => {
            // A failure on the way (a tail that overflows, a singular
            // information): separation explains it when present.
            return Err(separation(obj, None).unwrap_or(e));
        }
    };
    let it = opt.iterations;
    let claimed = opt.stop.converged();
    if let Some(design) = obj.binary_design()
        && (!claimed || max_abs_eta(&design, &opt.theta) > EXTREME_ETA)
        && let Some(e) = separation(obj, Some(it))
    {
        return Err(e);
    }
    let grad = opt.gradient.clone();
    if let Some(e) = boundary_by_coordinate(obj, &opt.theta, &grad, it, !claimed) {
        return Err(e);
    }
    if let Some(e) = unbounded_trajectory(obj, &opt.trace, it) {
        return Err(e);
    }
    if claimed {
        let info = match (config.method, &opt.expected_information) {
            (Method::Newton, _) => obj.observed_information(&opt.theta)?,
            (_, Some(i)) => i.clone(),
            (_, None) => obj.expected_information(&opt.theta)?,
        };
        let limit = match opt.stop {
            StopReason::RoundingLimit => config.tol.max(1e-4),
            _ => config.tol,
        };
        match super::step::newton_decrement(&info, &grad) {
            Some(nu) if nu < limit => {}
            nu => {
                opt.decrement = nu.unwrap_or(f64::INFINITY);
                opt.stop = StopReason::GradientTest { decrement: nu };
            }
        }
    }
    Ok(opt)
}

/// A start on the data's scale: from `start`, each parameter with a
/// bounded domain in turn is moved in its unbounded coordinate (`log`,
/// `logit`) by steps ±1, ±2, ±4, … while ℓ improves, then by halved steps
/// down to 1/8; three rounds, at most [`SCAN_BUDGET`] evaluations of ℓ.
/// Parameters of 10⁻¹⁰⁰ or 10⁹ are found in a few dozen evaluations each.
/// `None` when no parameter is bounded (the default start is then as good
/// as any) or ℓ is nowhere finite. Also returns ℓ at the start found.
pub(super) fn scaled_start(
    obj: &dyn Objective,
    start: &DVector<f64>,
) -> Option<(DVector<f64>, f64)> {
    let cs = coords(obj);
    let d = start.len();
    let scaled: Vec<usize> = (0..d)
        .filter(|&i| cs[i].lo.is_finite() || cs[i].hi.is_finite())
        .collect();
    if scaled.is_empty() {
        return None;
    }
    let mut phi: Vec<f64> = start.iter().zip(&cs).map(|(&t, c)| c.to_phi(t)).collect();
    let theta_of = |phi: &[f64]| DVector::from_fn(d, |i, _| cs[i].theta_at(phi[i]));
    let evals = std::cell::Cell::new(0usize);
    let value = |phi: &[f64]| -> Option<f64> {
        evals.set(evals.get() + 1);
        let t = theta_of(phi);
        obj.check(&t).ok()?;
        obj.loglik(&t).ok().filter(|v| v.is_finite())
    };
    let mut best = value(&phi).unwrap_or(f64::NEG_INFINITY);
    'rounds: for _ in 0..3 {
        for &i in &scaled {
            let mut base = 1.0;
            while base >= 0.125 {
                let mut moved = false;
                for dir in [1.0, -1.0] {
                    let mut step = base;
                    for _ in 0..64 {
                        if evals.get() >= SCAN_BUDGET {
                            break 'rounds;
                        }
                        let mut trial = phi.clone();
                        trial[i] += dir * step;
                        match value(&trial) {
                            Some(v) if v > best => {
                                best = v;
                                phi = trial;
                                moved = true;
                                step *= 2.0;
                            }
                            _ => break,
                        }
                    }
                }
                if !moved {
                    base /= 2.0;
                }
            }
        }
    }
    best.is_finite().then(|| (theta_of(&phi), best))
}

/// Most evaluations of ℓ in [`scaled_start`].
const SCAN_BUDGET: usize = 400;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_round_trip_and_send_bounds_to_infinity() {
        for (lo, hi, t) in [
            (0.0, f64::INFINITY, 1e-100),
            (0.0, f64::INFINITY, 3.0),
            (0.0, 1.0, 0.25),
            (-2.0, 5.0, 4.9),
            (f64::NEG_INFINITY, 0.0, -7.0),
            (f64::NEG_INFINITY, f64::INFINITY, -3.5),
        ] {
            let c = Coord { lo, hi };
            let back = c.theta_at(c.to_phi(t));
            assert!(
                (back - t).abs() <= 1e-12 * t.abs().max(1.0),
                "{lo} {hi} {t}"
            );
        }
        let unit = Coord { lo: 0.0, hi: 1.0 };
        assert_eq!(unit.theta_at(800.0), 1.0);
        assert!(!unit.inside(unit.theta_at(800.0)));
        assert!(at_bound(unit, unit.theta_at(-800.0)));
    }

    /// ℓ(θ) = −½ Σ (θ_i − 3)², information the identity.
    struct Quadratic;

    impl Objective for Quadratic {
        fn dim(&self) -> usize {
            2
        }
        fn n_rows(&self) -> usize {
            1
        }
        fn param_names(&self) -> Vec<Name> {
            vec!["a".into(), "b".into()]
        }
        fn check(&self, _: &DVector<f64>) -> Result<(), FitError> {
            Ok(())
        }
        fn loglik(&self, t: &DVector<f64>) -> Result<f64, FitError> {
            Ok(-0.5 * t.iter().map(|v| (v - 3.0).powi(2)).sum::<f64>())
        }
        fn loglik_gradient(&self, t: &DVector<f64>) -> Result<(f64, DVector<f64>), FitError> {
            Ok((self.loglik(t)?, t.map(|v| 3.0 - v)))
        }
        fn expected_information(&self, _: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
            Ok(DMatrix::identity(2, 2))
        }
        fn observed_information(&self, _: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
            Ok(DMatrix::identity(2, 2))
        }
        fn information_kind(&self) -> super::super::objective::InformationKind {
            super::super::objective::InformationKind::ClosedForm { per_row: false }
        }
        fn default_start(&self) -> DVector<f64> {
            DVector::zeros(2)
        }
    }

    fn claimed(theta: DVector<f64>, stop: StopReason) -> Optimum {
        Optimum {
            theta: theta.clone(),
            loglik: 0.0,
            iterations: 1,
            stop,
            decrement: 0.0,
            trace: vec![],
            gradient: Quadratic.loglik_gradient(&theta).unwrap().1,
            expected_information: None,
        }
    }

    #[test]
    fn a_claimed_convergence_is_checked_at_the_point() {
        let config = FitConfig::default();
        // Claimed at (0, 0), where the decrement is √18: refused.
        let o = certify(
            &Quadratic,
            &config,
            Ok(claimed(DVector::zeros(2), StopReason::Converged)),
        )
        .unwrap();
        match o.stop {
            StopReason::GradientTest {
                decrement: Some(nu),
            } => {
                assert!((nu - 18f64.sqrt()).abs() < 1e-12)
            }
            s => panic!("{s:?}"),
        }
        assert!(!o.stop.converged());
        // The rounding limit allows 1e-4 standard errors, not more.
        let near = DVector::from_vec(vec![3.0 + 5e-5, 3.0]);
        let o = certify(
            &Quadratic,
            &config,
            Ok(claimed(near, StopReason::RoundingLimit)),
        )
        .unwrap();
        assert_eq!(o.stop, StopReason::RoundingLimit);
        let off = DVector::from_vec(vec![3.0 + 2e-4, 3.0]);
        let o = certify(
            &Quadratic,
            &config,
            Ok(claimed(off, StopReason::RoundingLimit)),
        )
        .unwrap();
        assert!(!o.stop.converged());
        // At the maximum: kept.
        let o = certify(
            &Quadratic,
            &config,
            Ok(claimed(
                DVector::from_element(2, 3.0),
                StopReason::Converged,
            )),
        )
        .unwrap();
        assert_eq!(o.stop, StopReason::Converged);
    }

    #[test]
    fn scaled_start_finds_the_scale_of_each_parameter() {
        // ℓ = −(log a − log 1e-90)² − (b − 1e6)²/1e10, a > 0.
        struct Scales;
        impl Objective for Scales {
            fn dim(&self) -> usize {
                2
            }
            fn n_rows(&self) -> usize {
                1
            }
            fn param_names(&self) -> Vec<Name> {
                vec!["a".into(), "b".into()]
            }
            fn check(&self, t: &DVector<f64>) -> Result<(), FitError> {
                if t[0] > 0.0 {
                    Ok(())
                } else {
                    Err(FitError::Config("a > 0".into()))
                }
            }
            fn loglik(&self, t: &DVector<f64>) -> Result<f64, FitError> {
                Ok(-(t[0].ln() + 90.0 * 10f64.ln()).powi(2) - (t[1] - 1e6).powi(2) / 1e10)
            }
            fn loglik_gradient(&self, _: &DVector<f64>) -> Result<(f64, DVector<f64>), FitError> {
                unreachable!()
            }
            fn expected_information(&self, _: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
                unreachable!()
            }
            fn observed_information(&self, _: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
                unreachable!()
            }
            fn information_kind(&self) -> super::super::objective::InformationKind {
                super::super::objective::InformationKind::ClosedForm { per_row: false }
            }
            fn default_start(&self) -> DVector<f64> {
                DVector::from_vec(vec![1.0, 0.0])
            }
            fn bounds(&self) -> Vec<Interval> {
                vec![
                    Interval {
                        lo: 0.0,
                        hi: f64::INFINITY,
                    },
                    Interval::REAL,
                ]
            }
        }
        // Only the bounded parameter is searched: b stays where it was.
        let (s, _) = scaled_start(&Scales, &DVector::from_vec(vec![1.0, 0.0])).unwrap();
        assert!((s[0].log10() + 90.0).abs() < 0.1, "{s}");
        assert_eq!(s[1], 0.0);
    }

    #[test]
    fn separating_directions_are_checked_row_by_row() {
        // rows (1, z): z = −2, −1, 0, 1, 2
        let x = [1.0, -2.0, 1.0, -1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 2.0];
        let design = |y: [f64; 5]| BinaryDesign {
            x: &x,
            sign: y.iter().map(|&v| 2.0 * v - 1.0).collect(),
            n: 5,
            d: 2,
        };
        let u = DVector::from_vec(vec![0.0, 1.0]);
        // y = 1 exactly when z > 0: complete, along z − 0.5.
        let tilted = DVector::from_vec(vec![-0.5, 1.0]);
        let complete = design([0.0, 0.0, 0.0, 1.0, 1.0]);
        assert_eq!(separates(&complete, &tilted), Some(true));
        // along z alone the row at z = 0 is on the hyperplane.
        assert_eq!(separates(&complete, &u), Some(false));
        // the row at z = 0 is on the hyperplane: quasi-complete.
        assert_eq!(
            separates(&design([0.0, 0.0, 1.0, 1.0, 1.0]), &u),
            Some(false)
        );
        // overlap: not separated along u (nor along any direction).
        assert_eq!(separates(&design([0.0, 1.0, 0.0, 1.0, 0.0]), &u), None);
        // a direction orthogonal to every row proves nothing.
        let xs = [1.0, 0.0, 2.0, 0.0];
        let d = BinaryDesign {
            x: &xs,
            sign: vec![1.0, -1.0],
            n: 2,
            d: 2,
        };
        assert_eq!(separates(&d, &u), None);
    }

    #[test]
    fn log_sigmoid_is_finite_in_both_tails() {
        assert!((log_sigmoid(-1000.0) + 1000.0).abs() < 1e-12);
        assert!(log_sigmoid(1000.0) == 0.0);
        assert!((log_sigmoid(0.0) + std::f64::consts::LN_2).abs() < 1e-15);
    }
}
