//! A closed-form Fisher information evaluated at a parameter point: the
//! numbers a user quotes (F, det F, the Cramér–Rao bound F⁻¹/N, the
//! condition number).

use super::Derivation;
use super::derive::ClosedForm;
use crate::ir::model::Model;
use crate::numeric::eval::eval_f64;
use nalgebra::DMatrix;

/// F and what follows from it, at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct FimAtPoint {
    /// F(θ) for one observation.
    pub fim: DMatrix<f64>,
    /// det F.
    pub det: f64,
    /// F⁻¹ (the Cramér–Rao bound for one observation), when F is positive
    /// definite.
    pub inverse: Option<DMatrix<f64>>,
    /// Largest over smallest eigenvalue (∞ when singular).
    pub condition: f64,
}

/// Why the numbers could not be computed.
#[derive(Clone, Debug, PartialEq)]
pub struct AtPointError(pub String);

impl std::fmt::Display for AtPointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AtPointError {}

/// Evaluate a closed form at `values` (every parameter, and every covariate
/// of a conditional model, by name; constants come from the model).
///
/// ```
/// let m = fimkit::load("param mu : real\nparam sigma : positive\ndata x : real\nx ~ normal(mu, sigma)", "n").unwrap();
/// let d = fimkit::fisher::derive(&m, &Default::default());
/// let at = fimkit::fisher::at_point::evaluate(&m, &d, &[("mu", 0.0), ("sigma", 2.0)]).unwrap();
/// assert!((at.fim[(1, 1)] - 0.5).abs() < 1e-15);
/// ```
pub fn evaluate(
    model: &Model,
    d: &Derivation,
    values: &[(&str, f64)],
) -> Result<FimAtPoint, AtPointError> {
    let cf: &ClosedForm = d
        .fisher
        .as_ref()
        .map_err(|b| AtPointError(format!("no closed form: {b}")))?;
    let lookup = |v: &str| {
        values
            .iter()
            .find(|(n, _)| *n == v)
            .map(|(_, x)| *x)
            .or_else(|| {
                model
                    .consts
                    .iter()
                    .find(|c| &*c.name == v)
                    .map(|c| c.value_f64())
            })
    };
    let n = cf.fim.len();
    let mut fim = DMatrix::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            let v = eval_f64(&cf.fim[i][j], &lookup)
                .map_err(|e| AtPointError(format!("F[{}][{}]: {e}", i + 1, j + 1)))?;
            if !v.is_finite() {
                return Err(AtPointError(format!(
                    "F[{}][{}] is {v} at this point",
                    i + 1,
                    j + 1
                )));
            }
            fim[(i, j)] = v;
        }
    }
    let eig = fim.clone().symmetric_eigen();
    let (lo, hi) = eig
        .eigenvalues
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| {
            (lo.min(x), hi.max(x.abs()))
        });
    let condition = if lo > 0.0 { hi / lo } else { f64::INFINITY };
    let det = fim.determinant();
    let inverse = if lo > 1e-14 * hi {
        fim.clone().cholesky().map(|c| c.inverse())
    } else {
        None
    };
    Ok(FimAtPoint {
        fim,
        det,
        inverse,
        condition,
    })
}
