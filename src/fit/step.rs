//! One step of each method, as pure functions of the gradient and an
//! information matrix.
//!
//! With `ℓ` the log-likelihood, `s = ∇ℓ` and `I` an information matrix
//! (expected or observed, totals over n rows), the loss is the mean
//! negative log-likelihood `L = −ℓ/n`, its gradient `−s/n`, and the mean
//! Fisher information `F̄ = I/n`. Then
//!
//! * natural gradient: `θ ← θ − α F̄⁻¹∇L = θ + α I⁻¹ s`;
//! * Fisher scoring: the same with α = 1 (and a line search);
//! * Newton: `I` the observed information;
//! * gradient descent: `θ ← θ − α ∇L = θ + α s/n`.
//!
//! A step `δ` changes the model by `KL ≈ ½ δᵀ F̄ δ` per observation; the
//! trust-region (TRPO) step picks α so that this equals ε.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

/// Smallest reciprocal condition number (of the Cholesky factor's
/// diagonal, squared) accepted without damping.
pub const MIN_RCOND: f64 = 1e-13;
/// Largest relative damping tried before the matrix is declared singular.
pub const MAX_DAMPING: f64 = 1e8;

/// The solution of `(I + λ·D) x = g`, D the diagonal of |I|.
#[derive(Clone, Debug)]
pub struct DampedSolve {
    /// `x`.
    pub x: DVector<f64>,
    /// The relative damping λ used (0 when none was needed).
    pub damping: f64,
}

/// `1/√|I_ii|` for each diagonal entry (1 where it is zero or not
/// finite): the Jacobi scaling that gives `S I S` a unit diagonal, so
/// parameters on very different scales (a rate of 10⁻¹⁰⁰ next to a shape
/// of 10⁻²) are judged alike.
fn jacobi(info: &DMatrix<f64>) -> Vec<f64> {
    (0..info.nrows())
        .map(|i| {
            let v = info[(i, i)].abs();
            let s = 1.0 / v.sqrt();
            if v > 0.0 && s.is_finite() && s > 0.0 {
                s
            } else {
                1.0
            }
        })
        .collect()
}

/// Solve `I x = g` through Cholesky of the Jacobi-scaled matrix
/// `S I S` (unit diagonal), adding Levenberg–Marquardt damping `λ·Id` to
/// it — `λ·diag|I|` to I — when it is not positive definite or is
/// ill-conditioned. Scaling first makes the solve independent of the
/// parameters' units: damping scaled by the mean diagonal would swamp a
/// parameter whose information is 10²⁰⁰ times smaller than another's and
/// freeze it (a false "converged"). λ starts from `previous/10` (damping
/// relaxes as the iterates improve) and grows tenfold until the
/// factorisation is well-conditioned. `None`: singular even with damping
/// [`MAX_DAMPING`].
///
/// ```
/// use fimkit::fit::step::damped_solve;
/// use nalgebra::{dmatrix, dvector};
/// let s = damped_solve(&dmatrix![2.0, 0.0; 0.0, 4.0], &dvector![1.0, 1.0], 0.0).unwrap();
/// assert!((s.x[0] - 0.5).abs() < 1e-15 && (s.x[1] - 0.25).abs() < 1e-15);
/// assert_eq!(s.damping, 0.0);
/// // singular: damped
/// let s = damped_solve(&dmatrix![1.0, 1.0; 1.0, 1.0], &dvector![1.0, 1.0], 0.0).unwrap();
/// assert!(s.damping > 0.0);
/// // scales 10²⁰⁰ apart: no damping needed, both coordinates move
/// let s = damped_solve(&dmatrix![1e200, 0.0; 0.0, 1.0], &dvector![1e200, 1.0], 0.0).unwrap();
/// assert_eq!(s.damping, 0.0);
/// assert!((s.x[0] - 1.0).abs() < 1e-15 && (s.x[1] - 1.0).abs() < 1e-15);
/// ```
pub fn damped_solve(info: &DMatrix<f64>, g: &DVector<f64>, previous: f64) -> Option<DampedSolve> {
    let d = info.nrows();
    if !info.iter().all(|v| v.is_finite()) || !g.iter().all(|v| v.is_finite()) {
        return None;
    }
    let s = jacobi(info);
    let scaled = DMatrix::from_fn(d, d, |i, j| info[(i, j)] * s[i] * s[j]);
    let sg = DVector::from_fn(d, |i, _| g[i] * s[i]);
    let mut lambda = if previous / 10.0 < 1e-12 {
        0.0
    } else {
        previous / 10.0
    };
    loop {
        let mut m = scaled.clone();
        for i in 0..d {
            m[(i, i)] += lambda;
        }
        if let Some(y) = well_conditioned_solve(m, &sg) {
            let x = DVector::from_fn(d, |i, _| y[i] * s[i]);
            if x.iter().all(|v| v.is_finite()) {
                return Some(DampedSolve { x, damping: lambda });
            }
        }
        lambda = if lambda == 0.0 { 1e-10 } else { lambda * 10.0 };
        if lambda > MAX_DAMPING {
            return None;
        }
    }
}

/// `m⁻¹ g` when `m` is positive definite with a Cholesky factor whose
/// diagonal ratio, squared, exceeds [`MIN_RCOND`].
fn well_conditioned_solve(m: DMatrix<f64>, g: &DVector<f64>) -> Option<DVector<f64>> {
    let d = m.nrows();
    let ch = Cholesky::<f64, Dyn>::new(m)?;
    let l = ch.l_dirty();
    let diag: Vec<f64> = (0..d).map(|i| l[(i, i)]).collect();
    let max = diag.iter().cloned().fold(0.0, f64::max);
    let min = diag.iter().cloned().fold(f64::INFINITY, f64::min);
    if max > 0.0 && (min / max).powi(2) > MIN_RCOND {
        let x = ch.solve(g);
        x.iter().all(|v| v.is_finite()).then_some(x)
    } else {
        None
    }
}

/// The Newton decrement `√(gᵀ I⁻¹ g)` with no damping — the distance to
/// the maximum in standard errors, to second order — or `None` when `I`
/// (Jacobi-scaled) is not positive definite and well-conditioned, so the
/// decrement cannot certify a maximum.
///
/// ```
/// use fimkit::fit::step::newton_decrement;
/// use nalgebra::{dmatrix, dvector};
/// let nu = newton_decrement(&dmatrix![4.0, 0.0; 0.0, 1e200], &dvector![2.0, 1e100]).unwrap();
/// assert!((nu - 2.0f64.sqrt()).abs() < 1e-15);
/// assert_eq!(newton_decrement(&dmatrix![1.0, 1.0; 1.0, 1.0], &dvector![1.0, 0.0]), None);
/// ```
pub fn newton_decrement(info: &DMatrix<f64>, g: &DVector<f64>) -> Option<f64> {
    let d = info.nrows();
    if !info.iter().all(|v| v.is_finite()) || !g.iter().all(|v| v.is_finite()) {
        return None;
    }
    let s = jacobi(info);
    let scaled = DMatrix::from_fn(d, d, |i, j| info[(i, j)] * s[i] * s[j]);
    let sg = DVector::from_fn(d, |i, _| g[i] * s[i]);
    let y = well_conditioned_solve(scaled, &sg)?;
    let nu2 = sg.dot(&y);
    (nu2.is_finite()).then(|| nu2.max(0.0).sqrt())
}

/// The quadratic KL estimate `½ δᵀ (I/n) δ` of a step, per observation.
pub fn quadratic_kl(info: &DMatrix<f64>, delta: &DVector<f64>, n: usize) -> f64 {
    0.5 * delta.dot(&(info * delta)) / n.max(1) as f64
}

/// The trust-region step size: α with `½ α² δᵀ(I/n)δ = ε`, capped at
/// `max_alpha` (a natural-gradient step never exceeds the full Fisher
/// step it is scaled from, so the iteration converges).
///
/// ```
/// use fimkit::fit::step::trust_region_alpha;
/// use nalgebra::{dmatrix, dvector};
/// let info = dmatrix![100.0];  // n = 100 rows, F̄ = 1
/// // a unit step has KL ½; ε = 0.02 needs α = 0.2
/// let a = trust_region_alpha(&info, &dvector![1.0], 100, 0.02, 1.0);
/// assert!((a - 0.2).abs() < 1e-15);
/// ```
pub fn trust_region_alpha(
    info: &DMatrix<f64>,
    delta: &DVector<f64>,
    n: usize,
    max_kl: f64,
    max_alpha: f64,
) -> f64 {
    let kl1 = quadratic_kl(info, delta, n);
    if kl1 <= 0.0 || !kl1.is_finite() {
        return max_alpha;
    }
    (max_kl / kl1).sqrt().min(max_alpha)
}

/// A null direction of a symmetric matrix (the eigenvector of its
/// smallest eigenvalue) and that eigenvalue relative to the largest.
pub fn null_direction(m: &DMatrix<f64>) -> (DVector<f64>, f64) {
    let d = m.nrows();
    // Scale to unit diagonal so units of the parameters do not matter.
    let s: Vec<f64> = (0..d)
        .map(|i| {
            let v = m[(i, i)].abs();
            if v > 0.0 { 1.0 / v.sqrt() } else { 1.0 }
        })
        .collect();
    let scaled = DMatrix::from_fn(d, d, |i, j| m[(i, j)] * s[i] * s[j]);
    let eig = scaled.symmetric_eigen();
    let (mut imin, mut vmax) = (0, 0.0f64);
    for i in 0..d {
        if eig.eigenvalues[i] < eig.eigenvalues[imin] {
            imin = i;
        }
        vmax = vmax.max(eig.eigenvalues[i].abs());
    }
    let v = DVector::from_fn(d, |i, _| eig.eigenvectors[(i, imin)] * s[i]);
    let rel = if vmax > 0.0 {
        eig.eigenvalues[imin] / vmax
    } else {
        0.0
    };
    (v, rel)
}

/// A direction as a readable combination `b1 − 0.5·b2`, scaled so the
/// largest coefficient is ±1 (signs kept); coefficients below 10⁻³ of it are dropped.
pub fn combination(v: &DVector<f64>, names: &[impl AsRef<str>]) -> String {
    let max = v.amax();
    if max == 0.0 {
        return "0".into();
    }
    let mut out = String::new();
    for (i, &c) in v.iter().enumerate() {
        let c = c / max;
        if c.abs() < 1e-3 {
            continue;
        }
        let name = names[i].as_ref();
        let mag = c.abs();
        let coef = if (mag - 1.0).abs() < 1e-9 {
            String::new()
        } else {
            format!("{}·", trim(mag))
        };
        if out.is_empty() {
            if c < 0.0 {
                out.push('−');
            }
        } else {
            out.push_str(if c < 0.0 { " − " } else { " + " });
        }
        out.push_str(&coef);
        out.push_str(name);
    }
    out
}

/// A linear relation `Σ v_i x_i` with its first coefficient positive (the
/// sign of a relation `… = 0` is arbitrary).
pub fn relation(v: &DVector<f64>, names: &[impl AsRef<str>]) -> String {
    let first = v
        .iter()
        .copied()
        .find(|c| c.abs() >= 1e-3 * v.amax())
        .unwrap_or(1.0);
    combination(&(v * first.signum()), names)
}

/// A direction as `(b0, b1) ∝ (0.5, −1)`, the largest component ±1.
pub fn direction(v: &DVector<f64>, names: &[impl AsRef<str>]) -> String {
    let max = v.amax();
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    let comps: Vec<String> = v
        .iter()
        .map(|&c| {
            let c = if max > 0.0 { c / max } else { c };
            let t = if c.abs() < 1e-4 {
                "0".to_string()
            } else {
                trim(c.abs())
            };
            if c < 0.0 && t != "0" {
                format!("−{t}")
            } else {
                t
            }
        })
        .collect();
    format!("({}) ∝ ({})", names.join(", "), comps.join(", "))
}

fn trim(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{dmatrix, dvector};

    #[test]
    fn combination_reads_like_algebra() {
        assert_eq!(
            combination(&dvector![0.5, -1.0, 0.0], &["a", "b", "c"]),
            "0.5·a − b"
        );
        assert_eq!(combination(&dvector![-2.0, 1.0], &["a", "b"]), "−a + 0.5·b");
    }

    #[test]
    fn relations_and_directions() {
        assert_eq!(relation(&dvector![-1.0, 0.5], &["z1", "z2"]), "z1 − 0.5·z2");
        assert_eq!(
            direction(&dvector![-0.02, 2.0], &["b0", "b1"]),
            "(b0, b1) ∝ (−0.01, 1)"
        );
    }

    #[test]
    fn null_direction_of_collinear_gram() {
        // columns x and 2x
        let g = dmatrix![1.0, 2.0; 2.0, 4.0];
        let (v, rel) = null_direction(&g);
        assert!(rel.abs() < 1e-12);
        assert!((v[0] / v[1] + 2.0).abs() < 1e-9);
    }

    #[test]
    fn damping_grows_until_well_conditioned() {
        // nearly collinear: ill-conditioned whatever the units
        let m = dmatrix![1.0, 1.0; 1.0, 1.0 + 1e-15];
        let s = damped_solve(&m, &dvector![1.0, 1.0], 0.0).unwrap();
        assert!(s.damping > 0.0);
        assert!(s.x.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn units_do_not_cause_damping() {
        // A diagonal information with entries 10²⁰ apart is well
        // conditioned once scaled: no damping, the exact Newton step
        // (scaling by the mean diagonal used to damp the small one to 0).
        let m = dmatrix![1.0, 0.0; 0.0, 1e-20];
        let s = damped_solve(&m, &dvector![1.0, 1e-20], 0.0).unwrap();
        assert_eq!(s.damping, 0.0);
        assert!((s.x[0] - 1.0).abs() < 1e-15 && (s.x[1] - 1.0).abs() < 1e-15);
        assert!((newton_decrement(&m, &dvector![0.0, 1e-10]).unwrap() - 1.0).abs() < 1e-15);
    }
}
