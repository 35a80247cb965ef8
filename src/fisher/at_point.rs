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
    Ok(summarize(fim))
}

/// The Fisher information of a whole dataset of covariate rows: the sum of
/// the closed-form per-row F(θ, z) over the rows (the FIM conditional on
/// the covariates). `theta` holds the parameters by name; the covariates
/// come from `data` (a dataset of the model's schema, see
/// [`crate::numeric::DataSchema`]).
pub fn evaluate_dataset(
    model: &Model,
    d: &Derivation,
    theta: &[(&str, f64)],
    data: &crate::numeric::Dataset,
) -> Result<FimAtPoint, AtPointError> {
    use crate::numeric::compiled::Tape;
    let cf: &ClosedForm = d
        .fisher
        .as_ref()
        .map_err(|b| AtPointError(format!("no closed form: {b}")))?;
    if data.names().is_empty() {
        // No covariates (a design of rows alone): n identical rows.
        let one = evaluate(model, d, theta)?;
        return Ok(summarize(one.fim * data.n_rows() as f64));
    }
    let n = cf.fim.len();
    let entries: Vec<crate::ir::expr::Expr> = (0..n)
        .flat_map(|i| (i..n).map(move |j| (i, j)))
        .map(|(i, j)| model.substitute_consts(&cf.fim[i][j]))
        .collect();
    let columns: Vec<crate::ir::expr::Name> = data.names().to_vec();
    let tape =
        Tape::compile(&entries, &d.params, &columns).map_err(|e| AtPointError(e.to_string()))?;
    let params: Vec<f64> = d
        .params
        .iter()
        .map(|p| {
            theta
                .iter()
                .find(|(n, _)| *n == &**p)
                .map(|(_, v)| *v)
                .ok_or_else(|| AtPointError(format!("no value for {p}")))
        })
        .collect::<Result<_, _>>()?;
    let per_row = tape
        .par_map_rows::<f64, Vec<f64>, _>(&params, data.values(), |t, ws| {
            (0..entries.len()).map(|k| t.output(ws, k)).collect()
        })
        .map_err(|e| AtPointError(e.to_string()))?;
    let mut fim = DMatrix::<f64>::zeros(n, n);
    for row in per_row {
        let mut k = 0;
        for i in 0..n {
            for j in i..n {
                fim[(i, j)] += row[k];
                if i != j {
                    fim[(j, i)] += row[k];
                }
                k += 1;
            }
        }
    }
    if fim.iter().any(|v| !v.is_finite()) {
        return Err(AtPointError(
            "the summed Fisher information is not finite".into(),
        ));
    }
    Ok(summarize(fim))
}

/// det, Cholesky inverse and condition number of a symmetric matrix.
pub(crate) fn summarize(fim: DMatrix<f64>) -> FimAtPoint {
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
    FimAtPoint {
        fim,
        det,
        inverse,
        condition,
    }
}
