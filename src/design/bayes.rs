//! Bayesian (robust) D-optimal designs: the design that maximises the
//! expected log det M(ξ, θ) over samples θ₁ … θ_S of a prior,
//! Φ(ξ) = (1/S) Σ_s log det M_s(ξ).
//!
//! Φ is concave in the weights, and its directional derivative towards a
//! point x is p·(ψ(x) − 1) with ψ(x) = (1/S) Σ_s tr(M_s⁻¹ F_s(x))/p, the
//! average of the samples' D sensitivities, so Σ_i w_i ψ(x_i) = 1. The
//! weights on the candidates come from the multiplicative algorithm
//! w_i ← w_i·ψ(x_i), which increases Φ at every step (Yu 2010, Ann.
//! Statist. 38, "Monotonic convergence of a general algorithm for
//! computing optimal designs"); the equivalence theorem certifies the
//! result: ξ is optimal over the candidates iff max ψ = 1, and by
//! concavity Φ(ξ*) − Φ(ξ) ≤ p·(max ψ − 1), so the geometric-mean
//! D-efficiency exp((Φ(ξ) − Φ(ξ*))/p) is at least exp(1 − max ψ).

use super::criterion::Criterion;
use super::fim::Packed;
use super::{Certificate, Design, DesignError, Problem, weights};
use nalgebra::DMatrix;

/// Most multiplicative steps.
const MAX_STEPS: usize = 200_000;

/// Weights below this share of the largest are dropped from the support
/// (they are still counted in the certificate, which uses every
/// candidate).
const SUPPORT_SHARE: f64 = 1e-4;

/// The Bayesian D-optimal design over the candidate points (a candidate
/// file, or the box's grid) for the prior samples, one [`Problem`] per
/// sample (the same space and covariates in each).
pub fn solve(
    problems: &[Problem],
    schema: &crate::numeric::DataSchema,
) -> Result<Design, DesignError> {
    let first = problems
        .first()
        .ok_or_else(|| DesignError::Space("--prior: the file has no samples".into()))?;
    if !matches!(first.config.criterion, Criterion::D) {
        return Err(DesignError::Space(
            "--prior: only with --criterion D (the expected log det M)".into(),
        ));
    }
    let k = first.k();
    let grid = first.config.space.grid(first.config.grid);
    let stage = crate::budget::stage("design: F(θ; x) at the candidate points, per prior sample");
    let fims: Vec<Packed> = problems
        .iter()
        .map(|pr| pr.fims(&grid, schema))
        .collect::<Result<_, _>>()?;
    drop(stage);
    let n = grid.len() / k.max(1);
    let tol = first.config.tol;
    let _stage = crate::budget::stage("design: multiplicative weights for the prior");
    let mut w = vec![1.0 / n as f64; n];
    let mut psi = sensitivity(&fims, &w)?;
    let mut steps = 0;
    while steps < MAX_STEPS && max_of(&psi) - 1.0 > tol / 10.0 {
        if crate::budget::running_short() {
            break;
        }
        for (wi, &s) in w.iter_mut().zip(&psi) {
            *wi *= s;
        }
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|wi| *wi /= total);
        psi = sensitivity(&fims, &w)?;
        steps += 1;
    }
    let (arg, &max_psi) = psi
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("candidates");
    let largest = w.iter().copied().fold(0.0, f64::max);
    let mut points = Vec::new();
    let mut kept = Vec::new();
    for (i, &wi) in w.iter().enumerate() {
        if wi >= SUPPORT_SHARE * largest {
            points.push(grid[i * k..(i + 1) * k].to_vec());
            kept.push(wi);
        }
    }
    let total: f64 = kept.iter().sum();
    kept.iter_mut().for_each(|wi| *wi /= total);
    let phi = expected_log_det(&fims, &w).ok_or_else(|| {
        DesignError::Singular("the design's information matrix is singular".into())
    })?;
    let information = mean_information(&fims, &w);
    let det = information
        .clone()
        .cholesky()
        .map_or(0.0, |c| c.determinant());
    let searched = format!(
        "every one of the {n} candidate points, averaged over {} prior samples (no refinement off them)",
        problems.len()
    );
    Ok(Design {
        names: first.config.space.names().to_vec(),
        fixed: first.config.fixed.clone(),
        points,
        weights: kept,
        information,
        phi,
        value: phi,
        det,
        certificate: Certificate {
            max_sensitivity: max_psi,
            at: grid[arg * k..(arg + 1) * k].to_vec(),
            efficiency_bound: (1.0 - max_psi).exp().min(1.0),
            certified: max_psi - 1.0 <= tol,
            tol,
            searched,
        },
        method: first.fim.method().to_string(),
        candidates: n,
        iterations: steps,
        refined: false,
        prior_samples: problems.len(),
    })
}

/// ψ at every candidate: the samples' D sensitivities averaged.
fn sensitivity(fims: &[Packed], w: &[f64]) -> Result<Vec<f64>, DesignError> {
    let mut psi = vec![0.0; w.len()];
    for f in fims {
        let m = f.weighted_sum(w);
        let (_, a) = weights::functional(&Criterion::D, &m).ok_or_else(|| {
            DesignError::Singular(
                "with --prior: the candidates identify the parameters at no design for some prior sample"
                    .into(),
            )
        })?;
        for (acc, s) in psi.iter_mut().zip(weights::sensitivities(f, &a)) {
            *acc += s;
        }
    }
    let s = fims.len() as f64;
    psi.iter_mut().for_each(|v| *v /= s);
    Ok(psi)
}

fn max_of(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// (1/S) Σ_s log det M_s(w); `None` if some M_s is singular.
pub fn expected_log_det(fims: &[Packed], w: &[f64]) -> Option<f64> {
    let mut total = 0.0;
    for f in fims {
        let c = f.weighted_sum(w).cholesky()?;
        total += 2.0 * c.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
    }
    Some(total / fims.len() as f64)
}

/// (1/S) Σ_s M_s(w).
fn mean_information(fims: &[Packed], w: &[f64]) -> DMatrix<f64> {
    let mut m = fims[0].weighted_sum(w);
    for f in &fims[1..] {
        m += f.weighted_sum(w);
    }
    m / fims.len() as f64
}
