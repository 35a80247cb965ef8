//! Fitting with Fisher geometry: maximum likelihood by Fisher scoring,
//! natural gradient with a KL trust region, Newton or plain gradient
//! descent, with standard errors from the expected and the observed
//! information.
//!
//! * [`Problem`] — a model and a dataset; picks how the information is
//!   computed ([`InformationKind`]): weighted Gram sums `Σ A_kᵀ W A_l` for
//!   models linear in θ through a few forms (GLMs, [`linear`], [`crate::numeric::gram`]),
//!   the closed-form FIM of [`crate::fisher::derive()`] otherwise.
//! * [`step`] — the step formulas: damped Cholesky solves, the TRPO
//!   trust-region step size, quadratic KL.
//! * [`optimize()`] — the iteration over any [`Objective`], then the
//!   checks of its end point (`diagnose`): separation, a supremum on the
//!   domain's boundary, the undamped gradient test behind `converged`.
//! * [`fit()`] — a whole fit: checks (collinear design), iteration,
//!   standard errors, Wald intervals ([`FitResult`]).
//! * `plot` (feature `plot`) — log-likelihood contours with trajectories and the
//!   Cramér–Rao ellipse, SVG or PNG.
//!
//! ```
//! use fimkit::fit::{FitConfig, Problem, fit};
//! let src = "param lambda : positive\ndata k : count\nk ~ poisson(lambda)\n";
//! let model = fimkit::load(src, "poisson").unwrap();
//! let schema = fimkit::numeric::DataSchema::from_model(&model);
//! let data = schema.read_csv("k\n1\n3\n2\n6\n".as_bytes()).unwrap();
//! let problem = Problem::new(&model, data).unwrap();
//! let r = fit(&problem, &FitConfig::default()).unwrap();
//! assert!((r.estimates[0] - 3.0).abs() < 1e-12);               // the mean
//! assert!((r.std_errors[0].unwrap() - (3.0f64 / 4.0).sqrt()).abs() < 1e-12); // √(λ/n)
//! assert!(r.converged());
//! ```

mod diagnose;
mod error;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod linear;
mod objective;
mod optimize;
#[cfg(feature = "plot")]
pub mod plot;
mod predict;
mod profile;
mod result;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod step;
mod summed;

pub use diagnose::BinaryDesign;
pub use error::FitError;
pub use objective::{InformationKind, Objective, Problem};
pub use optimize::{
    DEFAULT_MAX_KL, FitConfig, Method, Optimum, StopReason, TraceRow, optimize, unbounded_along,
};
pub use predict::{IntervalKind, Prediction, Predictions, Quantity, Residual, Target, residuals};
pub use profile::profile_intervals;
pub use result::{
    Deviance, FitResult, ProfileInterval, Restart, Sandwich, SeKind, Z_975, spd_inverse,
    std_errors_of,
};
pub use summed::{PartSums, SumSource, Summed, Want, fit_summed};

use nalgebra::DVector;
use step::{combination, null_direction, relation};

/// Smallest eigenvalue, relative to the largest, of the unit-diagonal
/// scaled design Gram matrix or information below which it counts as
/// singular.
pub const SINGULAR_RCOND: f64 = 1e-12;

/// Fit `problem` by `config` (see [`fit_observed`]).
pub fn fit(problem: &Problem, config: &FitConfig) -> Result<FitResult, FitError> {
    fit_observed(problem, config, &mut |_| {})
}

/// Fit, showing each iteration to `observe`: check that the design (for
/// linear-form models) has independent columns, iterate from
/// `config.init` (or the default start), then compute both information
/// matrices at the estimate and the standard errors. Without
/// `config.init`, a fit from the default start that fails or does not
/// converge is made again from a start on the data's scale (a coordinate
/// search in log/logit coordinates), taken only if it converges
/// ([`FitResult::restart`] says so).
pub fn fit_observed(
    problem: &Problem,
    config: &FitConfig,
    observe: &mut dyn FnMut(&TraceRow),
) -> Result<FitResult, FitError> {
    fit_objective(problem, config, observe)
}

/// [`fit_observed`] over any [`Objective`]: a [`Problem`], or a
/// [`Summed`] whose sums over the rows are made elsewhere (the partitions
/// of a distributed dataset). The same steps, checks and result.
pub fn fit_objective(
    problem: &dyn Objective,
    config: &FitConfig,
    observe: &mut dyn FnMut(&TraceRow),
) -> Result<FitResult, FitError> {
    let _stage = crate::budget::stage("fitting");
    let names = problem.param_names();
    let columns = problem.column_labels();
    if let Some(gram) = problem.design_gram() {
        check_collinear(&gram, &names, &columns)?;
    }
    let (opt, restart) = match &config.init {
        Some(start) => (optimize(problem, start.clone(), config, observe)?, None),
        None => {
            let start = problem.default_start();
            let first = optimize(problem, start.clone(), config, observe);
            match first {
                Ok(o) if o.stop.converged() => (o, None),
                first => {
                    // The default start is on the wrong scale for these
                    // data (a rate of 10⁻⁹, an outlier of 10¹⁰⁰), or the
                    // data have no MLE: a start on the data's scale
                    // decides. Its fit is taken only if it converges.
                    let retry = diagnose::scaled_start(problem, &start)
                        .filter(|(_, ll)| match &first {
                            // Only a start better than where the first
                            // fit stopped is worth a second fit.
                            Ok(o) => *ll > o.loglik,
                            Err(_) => true,
                        })
                        .and_then(|(s, _)| {
                            let o = optimize(problem, s.clone(), config, &mut |_| {}).ok()?;
                            o.stop.converged().then_some((o, s))
                        });
                    match (retry, first) {
                        (Some((o, s)), first) => {
                            let why = match &first {
                                Ok(o) => o.stop.describe(config.tol),
                                Err(e) => e.to_string(),
                            };
                            (o, Some(Restart { start: s, why }))
                        }
                        (None, first) => (first?, None),
                    }
                }
            }
        }
    };
    let expected = match &opt.expected_information {
        Some(i) => i.clone(),
        None => problem.expected_information(&opt.theta)?,
    };
    let observed = problem.observed_information(&opt.theta)?;
    let covariance = spd_inverse(&expected);
    // No gradient test possible: a singular information is the reason.
    let untestable = opt.stop == StopReason::GradientTest { decrement: None };
    if (covariance.is_none() && opt.stop.converged()) || untestable {
        let (v, rel) = null_direction(&expected);
        if rel < SINGULAR_RCOND {
            return Err(FitError::Singular {
                at: "the estimate".into(),
                combination: combination(&v, &names),
            });
        }
    }
    let d = names.len();
    let obs_cov = spd_inverse(&observed);
    let deviance = problem.deviance(&opt.theta, opt.loglik);
    Ok(FitResult {
        model: problem.model_name(),
        params: names,
        columns,
        method: config.method,
        std_errors: std_errors_of(covariance.as_ref(), d),
        std_errors_observed: std_errors_of(obs_cov.as_ref(), d),
        estimates: opt.theta,
        expected_information: expected,
        observed_information: observed,
        covariance,
        information: problem.information_kind(),
        loglik: opt.loglik,
        n_rows: problem.n_rows(),
        weights_sum: problem.weights_sum(),
        iterations: opt.iterations,
        stop: opt.stop,
        tol: config.tol,
        decrement: opt.decrement,
        trace: opt.trace,
        restart,
        deviance,
        level: 0.95,
        profile: None,
        se: SeKind::Expected,
        sandwich: None,
    })
}

/// The sandwich covariance of the fit `r` of `problem`: `B M B` with
/// the bread `B` the inverse observed information `(−∇²ℓ)⁻¹` — under a
/// misspecified model the expected information computed from the model
/// is not `E[−∇²ℓ]`, the observed one estimates it either way — (the
/// expected one where the observed one is not positive definite) and the meat
/// `M = Σ_g u_g u_gᵀ`, `u_g` the score summed over the rows of cluster g
/// (`clusters[i]` the cluster of row i; each row its own cluster
/// without). No small-sample factor: statsmodels' `cov_type="HC0"`, and
/// `"cluster"` with `use_correction=False`. With frequency weights a row
/// of weight w stands for w rows: it adds `w s sᵀ` to the meat without
/// clusters, `w s` to its cluster's score with them.
pub fn sandwich(
    problem: &Problem,
    r: &FitResult,
    clusters: Option<(&str, &[usize])>,
) -> Result<Sandwich, FitError> {
    let d = r.params.len();
    let bread = spd_inverse(&r.observed_information)
        .or_else(|| r.covariance.clone())
        .ok_or_else(|| FitError::Singular {
            at: "the estimate".into(),
            combination: "the information is not positive definite".into(),
        })?;
    let n = problem.n_rows();
    let groups = clusters.map_or(n, |(_, c)| c.iter().max().map_or(0, |m| m + 1));
    let mut u = vec![0.0; groups * d];
    let rows: Vec<Vec<f64>> = problem.functions().fold_rows(
        &r.estimates,
        problem.data(),
        Vec::new,
        |acc: &mut Vec<Vec<f64>>, row| acc.push(row.score.to_vec()),
        |mut a, b| {
            a.extend(b);
            a
        },
    )?;
    let w = problem.weights();
    let mut meat = nalgebra::DMatrix::zeros(d, d);
    for (i, s) in rows.iter().enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        if wi == 0.0 {
            continue;
        }
        match clusters {
            Some((_, c)) => {
                let g = c[i];
                for (k, v) in s.iter().enumerate() {
                    u[g * d + k] += wi * v;
                }
            }
            // Each row its own cluster: w copies add w s sᵀ.
            None if w.is_some() => {
                let si = nalgebra::DVector::from_column_slice(s);
                meat += &si * si.transpose() * wi;
            }
            None => u[i * d..(i + 1) * d].copy_from_slice(s),
        }
    }
    for g in 0..groups {
        let ug = nalgebra::DVector::from_column_slice(&u[g * d..(g + 1) * d]);
        meat += &ug * ug.transpose();
    }
    let covariance = &bread * meat * &bread;
    let covariance = (&covariance + covariance.transpose()) * 0.5;
    Ok(Sandwich {
        std_errors: std_errors_of(Some(&covariance), d),
        covariance,
        clusters: clusters.map(|(name, _)| (name.to_string(), groups)),
    })
}

/// Collinear design columns: an error naming them.
fn check_collinear(
    gram: &nalgebra::DMatrix<f64>,
    names: &[crate::ir::expr::Name],
    columns: &[String],
) -> Result<(), FitError> {
    let d = names.len();
    // A column that is zero in every row.
    if let Some(i) = (0..d).find(|&i| gram[(i, i)] == 0.0) {
        return Err(FitError::Collinear {
            columns: vec![columns[i].clone()],
            params: vec![names[i].clone()],
            combination: format!("{} is zero in every row", columns[i]),
        });
    }
    let (v, rel) = null_direction(gram);
    if rel >= SINGULAR_RCOND {
        return Ok(());
    }
    let max = v.amax();
    let involved: Vec<usize> = (0..d).filter(|&i| v[i].abs() > 1e-6 * max).collect();
    let sub = DVector::from_iterator(involved.len(), involved.iter().map(|&i| v[i]));
    let sub_cols: Vec<&str> = involved.iter().map(|&i| columns[i].as_str()).collect();
    Err(FitError::Collinear {
        columns: involved.iter().map(|&i| columns[i].clone()).collect(),
        params: involved.iter().map(|&i| names[i].clone()).collect(),
        combination: format!("{} = 0 in every row", relation(&sub, &sub_cols)),
    })
}
