//! Optimality criteria on the information matrix M(ξ) = Σ wᵢ F(θ; xᵢ):
//! the concave value each algorithm maximises, and the sensitivity
//! function of the General Equivalence Theorem.
//!
//! Each criterion is written as an information function Φ that is concave
//! and positively homogeneous of degree one in M ((det M)^{1/p},
//! 1/tr M⁻¹, 1/cᵀM⁻¹c, (det C_s)^{1/s}, λ_min). Its supergradient at M
//! is a matrix A/r (r > 0), and the sensitivity of a point is
//! ψ(x) = ⟨A, F(x)⟩ / r. For any design ξ* with M* = M(ξ*):
//! Φ(M*) ≤ ⟨∇Φ(M), M*⟩ = Φ(M) · ∫ψ dξ* ≤ Φ(M) · max ψ, so the efficiency
//! Φ(M)/Φ(M*) of ξ is at least 1 / max_x ψ(x) (Pukelsheim 1993, §5–7;
//! for D this is Atwood's p / max d(x, ξ)). ψ = 1 on the support of an
//! optimal design and max ψ = 1 certifies optimality.
//!
//! | criterion | A | r |
//! |---|---|---|
//! | D | M⁻¹ | p |
//! | A | M⁻² | tr M⁻¹ |
//! | c | M⁻¹ccᵀM⁻¹ | cᵀM⁻¹c |
//! | Ds | M⁻¹ − [M_rr⁻¹ padded] | s |
//! | E | vvᵀ (v: unit eigenvector of λ_min) | λ_min |

use nalgebra::{DMatrix, DVector};

/// An optimality criterion.
#[derive(Clone, Debug, PartialEq)]
pub enum Criterion {
    /// D: maximise det M (the volume of the confidence ellipsoid).
    D,
    /// A: minimise tr M⁻¹ (the mean variance of the estimates).
    A,
    /// E: maximise the smallest eigenvalue of M.
    E,
    /// Ds: maximise det of the information for a subset of the parameters
    /// (indices), the others nuisance.
    Ds(Vec<usize>),
    /// c: minimise cᵀM⁻¹c (the variance of the estimate of cᵀθ).
    C(DVector<f64>),
}

/// What the criterion says about one M.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The concave, degree-one information function Φ(M) (larger is better).
    pub phi: f64,
    /// The supergradient's matrix A (ψ(x) = ⟨A, F(x)⟩ / r).
    pub a: DMatrix<f64>,
    /// The normaliser r (p, tr M⁻¹, cᵀM⁻¹c, s, λ_min).
    pub r: f64,
}

impl Criterion {
    /// Its name as written on the command line.
    pub fn label(&self, params: &[String]) -> String {
        match self {
            Criterion::D => "D".into(),
            Criterion::A => "A".into(),
            Criterion::E => "E".into(),
            Criterion::Ds(s) => format!(
                "Ds:{}",
                s.iter()
                    .map(|&i| params[i].as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Criterion::C(c) => format!(
                "c:{}",
                c.iter()
                    .map(|v| crate::number::fmt_sig(*v, 6))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    /// The criterion's conventional value: det M (D), tr M⁻¹ (A), λ_min
    /// (E), det C_s (Ds), cᵀM⁻¹c (c).
    pub fn conventional(&self, m: &DMatrix<f64>) -> Option<f64> {
        let e = self.evaluate(m)?;
        Some(match self {
            Criterion::D => e.phi.powi(m.nrows() as i32),
            Criterion::Ds(s) => e.phi.powi(s.len() as i32),
            Criterion::A | Criterion::C(_) => 1.0 / e.phi,
            Criterion::E => e.phi,
        })
    }

    /// Φ(M) only (`None` when M is singular for the criterion).
    pub fn phi(&self, m: &DMatrix<f64>) -> Option<f64> {
        match self {
            Criterion::D => {
                let l = m.clone().cholesky()?;
                let p = m.nrows() as f64;
                let log_det: f64 = l.l_dirty().diagonal().iter().map(|d| 2.0 * d.ln()).sum();
                let v = (log_det / p).exp();
                (v.is_finite() && v > 0.0).then_some(v)
            }
            _ => self.evaluate(m).map(|e| e.phi),
        }
    }

    /// Φ(M), its supergradient and normaliser; `None` when M is singular
    /// (not positive definite) where the criterion needs it regular.
    pub fn evaluate(&self, m: &DMatrix<f64>) -> Option<Evaluation> {
        let p = m.nrows();
        let scale = m.diagonal().iter().fold(0.0f64, |a, &b| a.max(b.abs()));
        if scale.is_nan() || scale <= 0.0 || !scale.is_finite() {
            return None;
        }
        let out = match self {
            Criterion::D => {
                let chol = m.clone().cholesky()?;
                let log_det: f64 = chol.l_dirty().diagonal().iter().map(|d| 2.0 * d.ln()).sum();
                Evaluation {
                    phi: (log_det / p as f64).exp(),
                    a: chol.inverse(),
                    r: p as f64,
                }
            }
            Criterion::A => {
                let inv = m.clone().cholesky()?.inverse();
                let tr = inv.trace();
                Evaluation {
                    phi: 1.0 / tr,
                    a: &inv * &inv,
                    r: tr,
                }
            }
            Criterion::C(c) => {
                let chol = m.clone().cholesky()?;
                let u = chol.solve(c);
                let v = c.dot(&u);
                if v.is_nan() || v <= 0.0 {
                    return None;
                }
                Evaluation {
                    phi: 1.0 / v,
                    a: &u * u.transpose(),
                    r: v,
                }
            }
            Criterion::Ds(s) => {
                let chol = m.clone().cholesky()?;
                let inv = chol.inverse();
                let rest: Vec<usize> = (0..p).filter(|i| !s.contains(i)).collect();
                let mut a = inv.clone();
                if !rest.is_empty() {
                    let mrr = m.select_rows(&rest).select_columns(&rest);
                    let rinv = mrr.cholesky()?.inverse();
                    for (a_i, &i) in rest.iter().enumerate() {
                        for (a_j, &j) in rest.iter().enumerate() {
                            a[(i, j)] -= rinv[(a_i, a_j)];
                        }
                    }
                }
                // C_s⁻¹ is the s-block of M⁻¹.
                let cinv = inv.select_rows(s).select_columns(s);
                let log_det_c = -cinv
                    .cholesky()?
                    .l_dirty()
                    .diagonal()
                    .iter()
                    .map(|d| 2.0 * d.ln())
                    .sum::<f64>();
                Evaluation {
                    phi: (log_det_c / s.len() as f64).exp(),
                    a,
                    r: s.len() as f64,
                }
            }
            Criterion::E => {
                let eig = m.clone().symmetric_eigen();
                let (k, &lmin) = eig
                    .eigenvalues
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.total_cmp(b.1))?;
                if lmin.is_nan() || lmin <= scale * 1e-13 {
                    return None;
                }
                let v = eig.eigenvectors.column(k).into_owned();
                Evaluation {
                    phi: lmin,
                    a: &v * v.transpose(),
                    r: lmin,
                }
            }
        };
        (out.phi.is_finite() && out.phi > 0.0 && out.r.is_finite() && out.r > 0.0).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The directional derivative of Φ at M toward F equals Φ(M)·(ψ − 1),
    /// ψ = ⟨A, F⟩/r: checked by finite differences for each criterion.
    #[test]
    fn the_sensitivity_is_the_directional_derivative() {
        let m = DMatrix::from_row_slice(3, 3, &[3.0, 0.5, 0.2, 0.5, 2.0, 0.3, 0.2, 0.3, 1.5]);
        let f = DMatrix::from_row_slice(3, 3, &[1.0, 0.7, 0.1, 0.7, 0.8, 0.2, 0.1, 0.2, 0.4]);
        for crit in [
            Criterion::D,
            Criterion::A,
            Criterion::E,
            Criterion::Ds(vec![1, 2]),
            Criterion::C(DVector::from_vec(vec![1.0, -2.0, 0.5])),
        ] {
            let e = crit.evaluate(&m).expect("regular");
            let psi = (e.a.component_mul(&f)).sum() / e.r;
            let h = 1e-6;
            let up = crit.phi(&(&m * (1.0 - h) + &f * h)).expect("phi");
            let down = crit.phi(&(&m * (1.0 + h) - &f * h)).expect("phi");
            let fd = (up - down) / (2.0 * h);
            let want = e.phi * (psi - 1.0);
            assert!(
                (fd - want).abs() < 1e-7 * e.phi.max(1.0),
                "{crit:?}: fd {fd} want {want}"
            );
        }
    }
}
