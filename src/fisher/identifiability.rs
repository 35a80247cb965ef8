//! Rank and null directions of a Fisher information matrix.
//!
//! A symbolic determinant that is identically zero proves singularity, but
//! says nothing of the direction; and for large models no determinant is
//! formed at all. So F is also evaluated at a typical point inside the
//! parameter domains and its eigen-decomposition gives the numeric rank and
//! the directions along which the model does not change.

use super::matrix::Matrix;
use super::wide::{Wide, eval_entry};
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Domain, Model};
use crate::numeric::domain::Interval;
use crate::numeric::eval::eval_f64;
use nalgebra::DMatrix;

/// A rank-deficient Fisher information.
#[derive(Clone, Debug, PartialEq)]
pub struct Singularity {
    /// Numeric rank at the typical point.
    pub rank: usize,
    /// Number of parameters.
    pub dim: usize,
    /// Directions in parameter space (one per missing rank) along which the
    /// log-density does not change to second order; the largest component
    /// of each is ±1.
    pub null_directions: Vec<Vec<f64>>,
    /// The point where F was evaluated.
    pub at: Vec<(Name, f64)>,
}

/// Relative size below which an eigenvalue of the scaled F (unit
/// diagonal) counts as zero.
const RANK_TOLERANCE: f64 = 1e-10;

/// A point inside a domain, away from special values (0, 1, symmetric
/// points) so that accidental cancellations are unlikely.
pub fn typical_value(domain: &Domain, model: &Model, salt: usize) -> f64 {
    let jitter = 0.0137 * salt as f64;
    let interval = Interval::of(model, domain);
    match (interval.lower(), interval.upper()) {
        (None, None) => 0.37 + 0.21 * salt as f64,
        (Some(lo), None) => lo + 1.3 + 0.17 * salt as f64,
        (None, Some(hi)) => hi - 1.3 - 0.17 * salt as f64,
        (Some(lo), Some(hi)) => lo + (hi - lo) * (0.29 + jitter).min(0.8),
    }
}

/// Values for every parameter and constant at a typical point. Parameters
/// in (0, 1) share a small total so that probabilities such as
/// `1 - p1 - p2 - ...` stay positive.
pub fn typical_point(model: &Model, params: &[(Name, Domain)]) -> Vec<(Name, f64)> {
    typical_point_salted(model, params, 0)
}

/// [`typical_point`] moved by `salt` (another point of the same kind).
pub fn typical_point_salted(
    model: &Model,
    params: &[(Name, Domain)],
    salt: usize,
) -> Vec<(Name, f64)> {
    let is_unit = |d: &Domain| {
        d.lo.as_ref().is_some_and(Expr::is_zero) && d.hi.as_ref().is_some_and(Expr::is_one)
    };
    let units = params.iter().filter(|(_, d)| is_unit(d)).count().max(1) as f64;
    let mut at: Vec<(Name, f64)> = params
        .iter()
        .enumerate()
        .map(|(i, (n, d))| {
            let v = if is_unit(d) {
                (0.29 + 0.07 * salt as f64 + 0.013 * i as f64) / (units + 0.5)
            } else {
                typical_value(d, model, i + 3 * salt)
            };
            (n.clone(), v)
        })
        .collect();
    at.extend(model.consts.iter().map(|c| (c.name.clone(), c.value_f64())));
    at
}

/// How the two closed-form formulas compare.
#[derive(Clone, Debug, PartialEq)]
pub enum Agreement {
    /// Equal after symbolic simplification.
    Symbolic,
    /// Equal at typical points to this relative difference.
    Numeric {
        /// Points compared.
        points: usize,
        /// Largest relative difference.
        max_rel: f64,
    },
    /// Different: a bug in a table or in the engine, reported as an error.
    Disagree {
        /// Entry (row, column).
        entry: (usize, usize),
        /// The two values.
        values: (f64, f64),
    },
    /// The formulas could not be evaluated at the points tried. Never part
    /// of a reported closed form: `fisher::derive` refuses it
    /// ([`super::Blocker::Unchecked`]).
    Unverified,
    /// The Hessian involves no data, so F = −H exactly with no expectation
    /// to take; no second formula exists because the data's distribution
    /// matched no exponential family.
    DataFreeHessian,
}

/// [`typical_point_salted`] with typical values of the covariates too (a
/// regression's F at one design point).
pub fn typical_point_with_covariates(
    model: &Model,
    params: &[(Name, Domain)],
    salt: usize,
) -> Vec<(Name, f64)> {
    let mut at = typical_point_salted(model, params, salt);
    at.extend(model.covariates.iter().enumerate().map(|(i, c)| {
        (
            c.name.clone(),
            typical_value(&c.domain, model, 2 * i + 5 * salt + 1),
        )
    }));
    at
}

/// Compare two matrices numerically at three typical points (covariates
/// included).
pub fn compare_numerically(
    model: &Model,
    a: &Matrix,
    b: &Matrix,
    params: &[(Name, Domain)],
) -> Agreement {
    let n = a.len();
    let mut points = 0;
    let mut max_rel: f64 = 0.0;
    for salt in 0..3 {
        let at = typical_point_with_covariates(model, params, salt);
        let lookup = |v: &str| at.iter().find(|(n, _)| &**n == v).map(|(_, x)| *x);
        let mut ok = true;
        for i in 0..n {
            for j in 0..n {
                match (eval_f64(&a[i][j], &lookup), eval_f64(&b[i][j], &lookup)) {
                    (Ok(x), Ok(y)) => {
                        let rel = (x - y).abs() / x.abs().max(y.abs()).max(1e-300);
                        let abs_small = (x - y).abs() < 1e-12;
                        if rel > 1e-9 && !abs_small {
                            return Agreement::Disagree {
                                entry: (i, j),
                                values: (x, y),
                            };
                        }
                        if !abs_small {
                            max_rel = max_rel.max(rel);
                        }
                    }
                    _ => ok = false,
                }
            }
        }
        if ok {
            points += 1;
        }
    }
    if points == 0 {
        Agreement::Unverified
    } else {
        Agreement::Numeric { points, max_rel }
    }
}

/// Numeric rank of `fim` at a typical point; `None` when F has full rank
/// there (or cannot be evaluated).
pub fn singularity(model: &Model, fim: &Matrix, params: &[(Name, Domain)]) -> Option<Singularity> {
    let n = params.len();
    if n == 0 {
        return None;
    }
    let at = typical_point(model, params);
    let lookup = |v: &str| at.iter().find(|(n, _)| &**n == v).map(|(_, x)| *x);
    // Entries with a wide exponent (μ^1000000 at μ = 0.37 is 1e-863584,
    // not 0), and the rank decided on the scaled matrix
    // S = D^{-1/2} F D^{-1/2} (D = diag F) with a relative tolerance.
    let mut f = vec![vec![Wide::ZERO; n]; n];
    for (i, row) in f.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = eval_entry(&fim[i][j], &lookup).ok()?;
        }
    }
    let half: Vec<Wide> = (0..n)
        .map(|i| {
            if f[i][i].signum() > 0.0 {
                f[i][i].sqrt().unwrap_or(Wide::from_f64(1.0))
            } else {
                Wide::from_f64(1.0)
            }
        })
        .collect();
    let m = DMatrix::from_fn(n, n, |i, j| (f[i][j] / (half[i] * half[j])).to_f64());
    if m.iter().any(|x| !x.is_finite()) {
        return None;
    }
    // A diagonal matrix (a model of independent means) is its own
    // eigendecomposition: no O(n³) solve for a 1,000-parameter model.
    let diagonal = (0..n).all(|i| (0..n).all(|j| i == j || m[(i, j)] == 0.0));
    let eig = if diagonal {
        nalgebra::SymmetricEigen {
            eigenvalues: m.diagonal(),
            eigenvectors: DMatrix::identity(n, n),
        }
    } else {
        m.symmetric_eigen()
    };
    let scale = eig.eigenvalues.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
    if scale == 0.0 {
        return Some(Singularity {
            rank: 0,
            dim: n,
            null_directions: unit_vectors(n),
            at: at[..n].to_vec(),
        });
    }
    let null: Vec<usize> = (0..n)
        .filter(|&k| eig.eigenvalues[k].abs() <= RANK_TOLERANCE * scale)
        .collect();
    if null.is_empty() {
        return None;
    }
    let null_directions =
        null.iter()
            .map(|&k| {
                // u is S's null vector; F's is D^{-1/2} u.
                let v: Vec<Wide> = eig
                    .eigenvectors
                    .column(k)
                    .iter()
                    .zip(&half)
                    .map(|(&u, h)| Wide::from_f64(u) / *h)
                    .collect();
                let big = v.iter().copied().fold(Wide::ZERO, |a, b| {
                    if b.log2_abs() > a.log2_abs() { b } else { a }
                });
                v.iter().map(|x| clean((*x / big).to_f64())).collect()
            })
            .collect();
    Some(Singularity {
        rank: n - null.len(),
        dim: n,
        null_directions,
        at: at[..n].to_vec(),
    })
}

fn unit_vectors(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect()
}

/// Snap values within 1e-9 of a simple fraction (denominator ≤ 12) to it.
fn clean(x: f64) -> f64 {
    for q in 1..=12 {
        let p = (x * q as f64).round();
        if (x - p / q as f64).abs() < 1e-9 {
            return p / q as f64;
        }
    }
    x
}

/// A direction as `(1, -1)`-style text with simple fractions.
pub fn direction_text(v: &[f64]) -> String {
    let show = |x: f64| {
        for q in 1..=12i64 {
            let p = (x * q as f64).round();
            if (x - p / q as f64).abs() < 1e-12 {
                return if q == 1 {
                    format!("{}", p as i64)
                } else {
                    format!("{}/{q}", p as i64)
                };
            }
        }
        format!("{x:.4}")
    };
    format!(
        "({})",
        v.iter().map(|&x| show(x)).collect::<Vec<_>>().join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_print_as_fractions() {
        assert_eq!(direction_text(&[1.0, -1.0, 0.5]), "(1, -1, 1/2)");
    }
}
