//! The iteration: Fisher scoring, natural gradient with a KL trust region,
//! Newton and gradient descent, with line searches that keep θ inside its
//! domain, a scale-free stopping rule and diagnoses of divergence and of a
//! maximum likelihood estimate at infinity.

use super::error::FitError;
use super::objective::Objective;
use super::step::{combination, damped_solve, null_direction, quadratic_kl, trust_region_alpha};
use nalgebra::{DMatrix, DVector};

/// An optimisation method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Fisher scoring: natural-gradient steps of size 1 on the expected
    /// information, with a backtracking line search.
    FisherScoring,
    /// Natural gradient `θ − α F̄⁻¹∇L` with a KL trust region: α = `lr`
    /// (default 1), shrunk so that `½ δᵀF̄δ ≤ max_kl` (default 0.01 nats
    /// per observation), then backtracked until the loss decreases.
    Natural,
    /// Newton's method on the observed information (damped when it is not
    /// positive definite), with a line search.
    Newton,
    /// Plain gradient descent on the mean negative log-likelihood: fixed
    /// step `lr`, or, without `lr`, a backtracking line search.
    GradientDescent,
}

impl Method {
    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Method::FisherScoring => "fisher-scoring",
            Method::Natural => "natural",
            Method::Newton => "newton",
            Method::GradientDescent => "gd",
        }
    }

    /// Every method.
    pub const ALL: [Method; 4] = [
        Method::FisherScoring,
        Method::Natural,
        Method::Newton,
        Method::GradientDescent,
    ];
}

/// Options of a fit.
#[derive(Clone, Debug)]
pub struct FitConfig {
    /// The method.
    pub method: Method,
    /// Step size α (see [`Method`]); `None` for the method's default.
    pub lr: Option<f64>,
    /// Trust region for [`Method::Natural`]: the largest quadratic KL
    /// `½ δᵀF̄δ` per observation of one step. `None`: 0.01.
    pub max_kl: Option<f64>,
    /// Most iterations (steps).
    pub max_iter: usize,
    /// Convergence: stop when the Newton decrement `√(sᵀ I⁻¹ s)` — the
    /// distance to the maximum in standard-error units, to second order —
    /// is below `tol`.
    pub tol: f64,
    /// The starting point; `None` for the model's default.
    pub init: Option<DVector<f64>>,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            method: Method::FisherScoring,
            lr: None,
            max_kl: None,
            max_iter: 100,
            tol: 1e-8,
            init: None,
        }
    }
}

/// Default trust region of the natural-gradient method.
pub const DEFAULT_MAX_KL: f64 = 0.01;
/// Armijo constant of the line searches.
const ARMIJO: f64 = 1e-4;
/// Relative size of rounding in ℓ: gains below it are not measurable.
const ROUNDING: f64 = 1e-12;
/// Most halvings in a line search.
const MAX_HALVINGS: usize = 60;

/// One row of the trajectory.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceRow {
    /// Iteration (0 is the start).
    pub iteration: usize,
    /// θ after the step.
    pub theta: DVector<f64>,
    /// The loss, mean negative log-likelihood.
    pub loss: f64,
    /// Quadratic KL `½ δᵀF̄δ` of the step, per observation.
    pub kl: f64,
    /// The step size α taken.
    pub step: f64,
    /// The Newton decrement at the point before the step (`None` at the
    /// start).
    pub decrement: Option<f64>,
    /// Relative Levenberg–Marquardt damping used.
    pub damping: f64,
}

/// Why the iteration stopped with an estimate.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// The decrement fell below `tol`.
    Converged,
    /// No step improved the loss and the decrement is at rounding level:
    /// the estimate is as good as f64 allows.
    RoundingLimit,
    /// `max_iter` steps were taken first.
    MaxIterations,
    /// The line search found no improvement although the decrement is not
    /// small.
    LineSearchFailed,
    /// The iteration stopped as if converged, but the gradient test fails
    /// at the reported point when checked after the fact: the undamped
    /// Newton decrement (`None`: the information there is not positive
    /// definite) is not below the tolerance.
    GradientTest {
        /// The decrement at the reported point.
        decrement: Option<f64>,
    },
}

impl StopReason {
    /// A sentence for reports.
    pub fn describe(&self, tol: f64) -> String {
        match self {
            StopReason::Converged => {
                format!("converged: Newton decrement below {tol:e} standard errors")
            }
            StopReason::RoundingLimit => {
                "converged: no further improvement possible in floating point".into()
            }
            StopReason::MaxIterations => "not converged: reached the iteration limit".into(),
            StopReason::LineSearchFailed => {
                "not converged: the line search found no improvement".into()
            }
            StopReason::GradientTest {
                decrement: Some(nu),
            } => format!(
                "not converged: the gradient test fails at the reported point (Newton decrement {} standard errors, tolerance {tol:e})",
                crate::number::fmt_sig(*nu, 3)
            ),
            StopReason::GradientTest { decrement: None } => "not converged: the gradient test cannot be made at the reported point (the information there is not positive definite)".into(),
        }
    }

    /// Does it count as converged?
    pub fn converged(&self) -> bool {
        matches!(self, StopReason::Converged | StopReason::RoundingLimit)
    }
}

/// The end point of an iteration.
#[derive(Clone, Debug)]
pub struct Optimum {
    /// The estimate.
    pub theta: DVector<f64>,
    /// `ℓ(θ̂)`.
    pub loglik: f64,
    /// Steps taken.
    pub iterations: usize,
    /// Why it stopped.
    pub stop: StopReason,
    /// The last Newton decrement.
    pub decrement: f64,
    /// The trajectory, start included.
    pub trace: Vec<TraceRow>,
    /// The gradient (total score) at [`Optimum::theta`].
    pub gradient: DVector<f64>,
    /// The expected information at [`Optimum::theta`] when the iteration
    /// already computed it (so a fit need not compute it again).
    pub expected_information: Option<DMatrix<f64>>,
}

/// Iterate from `start` with `config`; `observe` sees every trace row as
/// it is made (progress bars). The end point is then checked whatever the
/// method (`fit::diagnose`): separation and boundary suprema are
/// errors, and [`StopReason::converged`] holds only if the gradient test
/// holds at the returned θ.
pub fn optimize(
    obj: &dyn Objective,
    start: DVector<f64>,
    config: &FitConfig,
    observe: &mut dyn FnMut(&TraceRow),
) -> Result<Optimum, FitError> {
    let outcome = optimize_plain(obj, start, config, observe);
    super::diagnose::certify(obj, config, outcome)
}

/// The iteration alone, without the checks of its end point.
pub(super) fn optimize_plain(
    obj: &dyn Objective,
    start: DVector<f64>,
    config: &FitConfig,
    observe: &mut dyn FnMut(&TraceRow),
) -> Result<Optimum, FitError> {
    validate(config, obj.dim(), &start)?;
    let n = obj.n_rows();
    let nf = n.max(1) as f64;
    let names = obj.param_names();
    obj.check(&start).map_err(|e| match e {
        FitError::Numeric(e) => FitError::StartOutsideDomain(e),
        e => e,
    })?;
    let mut theta = start;
    let (mut ll, mut grad) = obj.loglik_gradient(&theta)?;
    let mut trace = vec![TraceRow {
        iteration: 0,
        theta: theta.clone(),
        loss: -ll / nf,
        kl: 0.0,
        step: 0.0,
        decrement: None,
        damping: 0.0,
    }];
    observe(&trace[0]);
    let mut damping = 0.0;
    let mut gd_alpha: f64 = 1.0;
    let mut decrement = f64::INFINITY;
    let mut worse_streak = 0usize;
    let mut best_loss = -ll / nf;
    for it in 1..=config.max_iter {
        let info = match config.method {
            Method::Newton => obj.observed_information(&theta)?,
            _ => obj.expected_information(&theta)?,
        };
        let solved =
            damped_solve(&info, &grad, damping).ok_or_else(|| singular(&info, &theta, &names))?;
        damping = solved.damping;
        let nu2 = grad.dot(&solved.x);
        decrement = nu2.max(0.0).sqrt();
        let expected = (config.method != Method::Newton).then_some(&info);
        if decrement < config.tol {
            return Ok(Optimum {
                theta,
                loglik: ll,
                iterations: it - 1,
                stop: StopReason::Converged,
                decrement,
                trace,
                gradient: grad,
                expected_information: expected.cloned(),
            });
        }
        let direction = match config.method {
            Method::GradientDescent => &grad / nf,
            _ => solved.x.clone(),
        };
        let (alpha0, search) = match config.method {
            Method::FisherScoring | Method::Newton => (config.lr.unwrap_or(1.0), true),
            Method::Natural => {
                let lr = config.lr.unwrap_or(1.0);
                let eps = config.max_kl.unwrap_or(DEFAULT_MAX_KL);
                (trust_region_alpha(&info, &direction, n, eps, lr), true)
            }
            Method::GradientDescent => match config.lr {
                Some(lr) => (lr, false),
                None => ((gd_alpha * 2.0).min(1e12), true),
            },
        };
        let slope = grad.dot(&direction);
        let mut alpha = alpha0;
        let mut accepted: Option<(DVector<f64>, f64)> = None;
        // The gradient at the first trial, which is usually accepted
        // (Fisher scoring, Newton): one pass over the data instead of two.
        let mut first_grad: Option<DVector<f64>> = None;
        for halving in 0..MAX_HALVINGS {
            let trial = &theta + &direction * alpha;
            // Near the maximum the predicted gain falls below the rounding
            // of ℓ: the function values cannot judge the step, the
            // gradient can; accept it unless ℓ clearly gets worse.
            // (Newton-type steps only: a gradient step is not
            // self-scaling, and would wander at the rounding level.)
            let rounding = ROUNDING * (1.0 + ll.abs());
            let newton_type = config.method != Method::GradientDescent;
            if search && !newton_type && alpha * slope < f64::EPSILON * (1.0 + ll.abs()) {
                // A gradient step too small to change ℓ in f64.
                break;
            }
            let value = |trial: &DVector<f64>, grad: &mut Option<DVector<f64>>| {
                if halving == 0 && newton_type {
                    let (v, g) = obj.loglik_gradient(trial)?;
                    *grad = Some(g);
                    Ok::<f64, FitError>(v)
                } else {
                    *grad = None;
                    obj.loglik(trial)
                }
            };
            if obj.check(&trial).is_ok()
                && let Ok(v) = value(&trial, &mut first_grad)
                && (!search
                    // A gradient step must really improve ℓ (a step that
                    // leaves it equal would be repeated forever).
                    || (v >= ll + ARMIJO * alpha * slope && (newton_type || v > ll))
                    || (newton_type && alpha * slope < rounding && v >= ll - rounding))
            {
                accepted = Some((trial, v));
                break;
            }
            alpha /= 2.0;
        }
        let Some((next, v_next)) = accepted else {
            // Nothing improves: at the rounding limit, or stuck.
            let stop = if decrement < 1e-4_f64.max(config.tol) {
                StopReason::RoundingLimit
            } else {
                StopReason::LineSearchFailed
            };
            return Ok(Optimum {
                theta,
                loglik: ll,
                iterations: it - 1,
                stop,
                decrement,
                trace,
                gradient: grad,
                expected_information: expected.cloned(),
            });
        };
        let kl = quadratic_kl(&info, &(&direction * alpha), n);
        if config.method == Method::GradientDescent {
            gd_alpha = alpha;
        }
        theta = next;
        match first_grad.take() {
            Some(g) => {
                ll = v_next;
                grad = g;
            }
            None => {
                let (l2, g2) = obj.loglik_gradient(&theta)?;
                ll = l2;
                grad = g2;
            }
        }
        let loss = -ll / nf;
        let row = TraceRow {
            iteration: it,
            theta: theta.clone(),
            loss,
            kl,
            step: alpha,
            decrement: Some(decrement),
            damping,
        };
        observe(&row);
        trace.push(row);
        // Divergence: only fixed steps can make the loss grow.
        if !search && loss > best_loss + ROUNDING * (1.0 + best_loss.abs()) {
            worse_streak += 1;
        } else {
            worse_streak = 0;
        }
        best_loss = best_loss.min(loss);
        if worse_streak >= 10 || !loss.is_finite() {
            return Err(FitError::Diverged {
                detail: format!(
                    "the loss (mean negative log-likelihood) grew from {} to {} over the last {worse_streak} steps; use a smaller --lr or a line-searched method",
                    short(best_loss),
                    short(loss)
                ),
                iterations: it,
            });
        }
        if it >= 20 && it % 20 == 0 {
            check_unbounded(obj, &trace, it, &names)?;
        }
    }
    check_unbounded(obj, &trace, config.max_iter, &names)?;
    Ok(Optimum {
        theta,
        loglik: ll,
        iterations: config.max_iter,
        stop: StopReason::MaxIterations,
        decrement,
        trace,
        gradient: grad,
        expected_information: None,
    })
}

fn short(v: f64) -> String {
    format!("{v:.6}")
}

fn validate(config: &FitConfig, d: usize, start: &DVector<f64>) -> Result<(), FitError> {
    if start.len() != d {
        return Err(FitError::Config(format!(
            "the starting point has {} values for {d} parameters",
            start.len()
        )));
    }
    if let Some(lr) = config.lr
        && !(lr > 0.0 && lr.is_finite())
    {
        return Err(FitError::Config(format!(
            "the learning rate must be a positive number, not {lr}"
        )));
    }
    if let Some(k) = config.max_kl
        && !(k > 0.0 && k.is_finite())
    {
        return Err(FitError::Config(format!(
            "--max-kl must be a positive number, not {k}"
        )));
    }
    if !(config.tol > 0.0 && config.tol.is_finite()) {
        return Err(FitError::Config(format!(
            "the tolerance must be a positive number, not {}",
            config.tol
        )));
    }
    Ok(())
}

fn singular(
    info: &DMatrix<f64>,
    theta: &DVector<f64>,
    names: &[crate::ir::expr::Name],
) -> FitError {
    let at = names
        .iter()
        .zip(theta.iter())
        .map(|(n, v)| format!("{n} = {}", crate::numeric::data::show(*v)))
        .collect::<Vec<_>>()
        .join(", ");
    if !info.iter().all(|v| v.is_finite()) {
        return FitError::Diverged {
            detail: format!("the information matrix is not finite at {at}"),
            iterations: 0,
        };
    }
    let (v, _) = null_direction(info);
    FitError::Singular {
        at,
        combination: combination(&v, names),
    }
}

/// A maximum at infinity: from the last iterate, keep going along the
/// recent direction of travel; if the log-likelihood increases all the way
/// to 1024 times that distance, the supremum is not attained.
fn check_unbounded(
    obj: &dyn Objective,
    trace: &[TraceRow],
    iterations: usize,
    names: &[crate::ir::expr::Name],
) -> Result<(), FitError> {
    if trace.len() < 6 {
        return Ok(());
    }
    let last = &trace[trace.len() - 1].theta;
    let back = &trace[trace.len() - 6].theta;
    let u = last - back;
    if u.norm() <= 1e-12 * (1.0 + last.norm()) {
        return Ok(());
    }
    let Some(far) = unbounded_along(obj, last, &u) else {
        return Ok(());
    };
    Err(FitError::NoMle {
        direction: super::step::direction(&u, names),
        explanation: obj.explain_unbounded(&far),
        iterations,
    })
}

/// The far point of the ray `θ + t u`, t = 1, 2, 4, …, 1024, when `ℓ`
/// increases along all of it (ties allowed once f64 saturates) and ends
/// strictly higher.
pub fn unbounded_along(
    obj: &dyn Objective,
    theta: &DVector<f64>,
    u: &DVector<f64>,
) -> Option<DVector<f64>> {
    let mut prev = obj.loglik(theta).ok()?;
    let first = prev;
    let mut t = 1.0;
    let mut point = theta.clone();
    while t <= 1024.0 {
        point = theta + u * t;
        obj.check(&point).ok()?;
        let v = obj.loglik(&point).ok()?;
        if v < prev {
            return None;
        }
        prev = v;
        t *= 2.0;
    }
    (prev > first).then_some(point)
}
