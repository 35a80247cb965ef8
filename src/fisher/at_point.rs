//! A closed-form Fisher information evaluated at a parameter point: the
//! numbers a user quotes (F, det F, the Cramér–Rao bound F⁻¹/N, the
//! condition number).

use super::Derivation;
use super::derive::ClosedForm;
use super::expectation::Blocker;
use super::wide::{Wide, eval_entry};
use crate::ir::expr::Name;
use crate::ir::model::Model;
use crate::numeric::compiled::CompileError;
use crate::numeric::eval::EvalError;
use nalgebra::DMatrix;

/// F and what follows from it, at one point.
///
/// Rank is decided on the scaled matrix S = D^{-1/2} F D^{-1/2}
/// (D = diag F, so S has a unit diagonal) with a relative tolerance: a
/// Fisher information that is merely small or large (σ = 1e200) is not
/// singular. Entries, det F and F⁻¹ that leave f64's range are kept in
/// [`Wide`] numbers ([`FimAtPoint::wide`]) and printed in scientific
/// notation; inside the range every number is the plain f64 computation.
#[derive(Clone, Debug, PartialEq)]
pub struct FimAtPoint {
    /// F(θ) for one observation (the nearest f64: 0 or ∞ where an entry
    /// leaves the range, see `wide`).
    pub fim: DMatrix<f64>,
    /// det F (the nearest f64; `wide.det` when it leaves the range; 0 unless
    /// `verdict` is regular).
    pub det: f64,
    /// F⁻¹ (the Cramér–Rao bound for one observation), when F is positive
    /// definite (and its entries fit in f64; else see `wide`).
    pub inverse: Option<DMatrix<f64>>,
    /// Largest over smallest eigenvalue (∞ when singular or beyond f64).
    pub condition: f64,
    /// Regular, singular, or not decidable in double precision.
    pub verdict: Verdict,
    /// The numbers with a wide exponent, when some leave f64's range.
    pub wide: Option<WideNumbers>,
}

/// What F's rank is at the point.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Positive definite: the scaled matrix's smallest eigenvalue is
    /// clearly above rounding.
    Regular,
    /// Singular: a parameter carries no information (a zero row), or the
    /// symbolic derivation proved F singular and the numbers agree.
    Singular {
        /// Numeric rank.
        rank: usize,
    },
    /// The scaled matrix's smallest eigenvalue is at the rounding level:
    /// F may be singular here or only ill-conditioned beyond double
    /// precision (a Gamma at α = 1e300); fimkit does not say which.
    Undecided {
        /// Smallest eigenvalue of the scaled F (unit diagonal).
        scaled_min_eigenvalue: f64,
    },
    /// A negative diagonal or eigenvalue: not a Fisher information.
    NotPositive,
}

/// F, det F and F⁻¹ with a wide exponent.
#[derive(Clone, Debug, PartialEq)]
pub struct WideNumbers {
    /// F's entries.
    pub fim: Vec<Vec<Wide>>,
    /// det F (zero unless the verdict is regular).
    pub det: Wide,
    /// F⁻¹, when F is regular.
    pub inverse: Option<Vec<Vec<Wide>>>,
}

/// Why the numbers could not be computed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AtPointError {
    /// The derivation has no closed-form Fisher information.
    NoClosedForm(Blocker),
    /// A named linear predictor could not be evaluated at the point.
    Predictor(EvalError),
    /// The entry F\[row\]\[col\] could not be evaluated (not finite, or a
    /// name without a value).
    Entry {
        /// The row, from 1.
        row: usize,
        /// The column, from 1.
        col: usize,
        /// Why.
        error: EvalError,
    },
    /// A parameter was given no value.
    MissingValue(Name),
    /// F's entries could not be compiled to be evaluated over the rows.
    Compile(CompileError),
    /// A row of the dataset gives a value that is not finite.
    Rows(EvalError),
    /// A row's Fisher information is not finite (found while summing with
    /// a wide exponent).
    RowNotFinite,
}

impl std::fmt::Display for AtPointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AtPointError::NoClosedForm(b) => write!(f, "no closed form: {b}"),
            AtPointError::Predictor(e) => write!(f, "the linear predictor: {e}"),
            AtPointError::Entry { row, col, error } => write!(f, "F[{row}][{col}]: {error}"),
            AtPointError::MissingValue(p) => write!(f, "no value for {p}"),
            AtPointError::Compile(e) => e.fmt(f),
            AtPointError::Rows(e) => e.fmt(f),
            AtPointError::RowNotFinite => f.write_str("a row's Fisher information is not finite"),
        }
    }
}

impl std::error::Error for AtPointError {
    /// The evaluator's or the compiler's error behind the failure.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AtPointError::Predictor(e) | AtPointError::Entry { error: e, .. } => Some(e),
            AtPointError::Rows(e) => Some(e),
            AtPointError::Compile(e) => Some(e),
            AtPointError::NoClosedForm(_)
            | AtPointError::MissingValue(_)
            | AtPointError::RowNotFinite => None,
        }
    }
}

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
        .map_err(|b| AtPointError::NoClosedForm(b.clone()))?;
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
    let lookup =
        super::predictor::bind(&d.definitions, &lookup).map_err(AtPointError::Predictor)?;
    let n = cf.fim.len();
    let mut fim = vec![vec![Wide::ZERO; n]; n];
    for (i, row) in fim.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = eval_entry(&cf.fim[i][j], &lookup).map_err(|error| AtPointError::Entry {
                row: i + 1,
                col: j + 1,
                error,
            })?;
        }
    }
    Ok(summarize_wide(fim, cf.singular))
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
        .map_err(|b| AtPointError::NoClosedForm(b.clone()))?;
    if data.names().is_empty() {
        // No covariates (a design of rows alone): n identical rows.
        let one = evaluate(model, d, theta)?;
        let rows = Wide::from_f64(data.n_rows() as f64);
        let fim = match &one.wide {
            Some(w) => w.fim.clone(),
            None => to_wide(&one.fim),
        };
        let fim = fim
            .into_iter()
            .map(|r| r.into_iter().map(|x| x * rows).collect())
            .collect();
        return Ok(summarize_wide(fim, cf.singular));
    }
    let n = cf.fim.len();
    let entries: Vec<crate::ir::expr::Expr> = (0..n)
        .flat_map(|i| (i..n).map(move |j| (i, j)))
        .map(|(i, j)| model.substitute_consts(&cf.fim[i][j]))
        .collect();
    let columns: Vec<crate::ir::expr::Name> = data.names().to_vec();
    let definitions = d.definitions_with_consts(model);
    let tape = Tape::compile_with_definitions(&entries, &definitions, &d.params, &columns)
        .map_err(AtPointError::Compile)?;
    let params: Vec<f64> = d
        .params
        .iter()
        .map(|p| {
            theta
                .iter()
                .find(|(n, _)| *n == &**p)
                .map(|(_, v)| *v)
                .ok_or_else(|| AtPointError::MissingValue(p.clone()))
        })
        .collect::<Result<_, _>>()?;
    let per_row = tape
        .par_map_rows::<f64, Vec<f64>, _>(&params, data.values(), |t, ws| {
            (0..entries.len()).map(|k| t.output(ws, k)).collect()
        })
        .map_err(AtPointError::Rows)?;
    let mut fim = DMatrix::<f64>::zeros(n, n);
    for row in &per_row {
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
    if fim.iter().all(|v| v.is_finite()) {
        // Rank is a property of the sum, not of one row's F.
        return Ok(summarize_wide(to_wide(&fim), false));
    }
    // Every row is finite (the tape checks), the f64 sum overflowed: sum
    // again with a wide exponent (the same additions, in the same order).
    let mut wide = vec![Wide::ZERO; n * n];
    for row in &per_row {
        let mut k = 0;
        for i in 0..n {
            for j in i..n {
                let x = Wide::try_from_f64(row[k]).ok_or(AtPointError::RowNotFinite)?;
                wide[i * n + j] = wide[i * n + j] + x;
                if i != j {
                    wide[j * n + i] = wide[j * n + i] + x;
                }
                k += 1;
            }
        }
    }
    let wide = wide.chunks(n.max(1)).map(<[Wide]>::to_vec).collect();
    Ok(summarize_wide(wide, false))
}

fn to_wide(m: &DMatrix<f64>) -> Vec<Vec<Wide>> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| Wide::from_f64(m[(i, j)])).collect())
        .collect()
}

/// Smallest eigenvalue of the scaled F (unit diagonal) that counts as
/// clearly non-zero, per dimension: far above the rounding of an f64
/// eigen-decomposition (n·ε), far below any real model's conditioning.
const SCALED_TOLERANCE: f64 = 1e-13;

/// F's rank decided on the scaled matrix; det, inverse and condition
/// number computed so that they neither underflow nor overflow needlessly.
/// `symbolic_singular`: the derivation proved F singular (det F ≡ 0 or a
/// rank deficit at a typical point), so a rounding-level eigenvalue is a
/// zero, not an open question.
pub fn summarize_wide(fim: Vec<Vec<Wide>>, symbolic_singular: bool) -> FimAtPoint {
    let n = fim.len();
    let plain = DMatrix::from_fn(n, n, |i, j| fim[i][j].to_f64());
    let fits = fim
        .iter()
        .flatten()
        .all(|x| x.is_zero() || x.to_f64().is_normal());
    // D^{1/2}: the square roots of the diagonal (1 for a zero diagonal, a
    // parameter with no information, whose whole row is then zero).
    let mut half = Vec::with_capacity(n);
    let mut not_positive = false;
    for (i, row) in fim.iter().enumerate() {
        let d = row[i];
        if d.signum() < 0.0 {
            not_positive = true;
        }
        half.push(if d.signum() > 0.0 {
            d.sqrt().unwrap_or(Wide::from_f64(1.0))
        } else {
            Wide::from_f64(1.0)
        });
    }
    let scaled = DMatrix::from_fn(n, n, |i, j| (fim[i][j] / (half[i] * half[j])).to_f64());
    let eig = scaled.clone().symmetric_eigen();
    let lo = eig
        .eigenvalues
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi = eig.eigenvalues.iter().copied().fold(0.0f64, f64::max);
    let zero_rows = (0..n).filter(|&i| fim[i][i].is_zero()).count();
    let tol = SCALED_TOLERANCE * n as f64 * hi.max(1.0);
    let verdict = if not_positive || !lo.is_finite() || lo < -tol.max(1e-8) {
        Verdict::NotPositive
    } else if n == 0 || lo > tol {
        Verdict::Regular
    } else if zero_rows > 0 || symbolic_singular {
        let rank = eig.eigenvalues.iter().filter(|&&x| x > tol).count();
        Verdict::Singular { rank }
    } else {
        Verdict::Undecided {
            scaled_min_eigenvalue: lo,
        }
    };
    if fits {
        // The plain f64 computation (as before scaling existed): det by LU,
        // F⁻¹ by Cholesky, the condition number from F's eigenvalues.
        let old = summarize_plain(plain.clone());
        let (det, inverse, condition) = match verdict {
            Verdict::Regular => {
                let inverse = old
                    .inverse
                    .or_else(|| Some(scaled_inverse(&scaled, &half)?.1))
                    .filter(|m| m.iter().all(|x| x.is_finite()));
                (old.det, inverse, old.condition)
            }
            _ => (0.0, None, f64::INFINITY),
        };
        if det.is_finite() && (det == 0.0 || det.is_normal()) {
            return FimAtPoint {
                fim: plain,
                det,
                inverse,
                condition,
                verdict,
                wide: None,
            };
        }
    }
    // Out of f64's range somewhere: det F = det S · Π D_ii, F⁻¹ =
    // D^{-1/2} S⁻¹ D^{-1/2}, the condition number of F from F / max D_ii.
    let (det, inverse_wide) = if verdict == Verdict::Regular {
        let det_s = Wide::from_f64(scaled.determinant());
        let det = half.iter().fold(det_s, |acc, h| acc * *h * *h);
        (det, scaled_inverse(&scaled, &half).map(|(w, _)| w))
    } else {
        (Wide::ZERO, None)
    };
    let top = (0..n).map(|i| fim[i][i].abs()).fold(Wide::ZERO, |a, b| {
        if b.log2_abs() > a.log2_abs() { b } else { a }
    });
    let condition = if verdict == Verdict::Regular && !top.is_zero() {
        let common = DMatrix::from_fn(n, n, |i, j| (fim[i][j] / top).to_f64());
        let e = common.symmetric_eigen();
        let lo = e.eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = e.eigenvalues.iter().copied().fold(0.0f64, f64::max);
        if lo > 0.0 { hi / lo } else { f64::INFINITY }
    } else {
        f64::INFINITY
    };
    let inverse = inverse_wide
        .as_ref()
        .map(|w| DMatrix::from_fn(n, n, |i, j| w[i][j].to_f64()))
        .filter(|m| m.iter().all(|x| x.is_finite()));
    FimAtPoint {
        fim: plain,
        det: det.to_f64(),
        inverse,
        condition,
        verdict,
        wide: Some(WideNumbers {
            fim,
            det,
            inverse: inverse_wide,
        }),
    }
}

/// F⁻¹ = D^{-1/2} S⁻¹ D^{-1/2}, wide and as f64.
fn scaled_inverse(scaled: &DMatrix<f64>, half: &[Wide]) -> Option<(Vec<Vec<Wide>>, DMatrix<f64>)> {
    let s_inv = scaled.clone().cholesky()?.inverse();
    let n = half.len();
    let wide: Vec<Vec<Wide>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| Wide::from_f64(s_inv[(i, j)]) / (half[i] * half[j]))
                .collect()
        })
        .collect();
    let plain = DMatrix::from_fn(n, n, |i, j| wide[i][j].to_f64());
    Some((wide, plain))
}

/// det, inverse, condition number and rank verdict of a symmetric f64
/// matrix (a numeric Fisher information), scaled as in [`summarize_wide`].
pub(crate) fn summarize(fim: DMatrix<f64>) -> FimAtPoint {
    if fim.iter().any(|x| !x.is_finite()) {
        return summarize_plain(fim);
    }
    summarize_wide(to_wide(&fim), false)
}

/// The plain f64 computation: det by LU, Cholesky inverse, condition
/// number from the eigenvalues.
fn summarize_plain(fim: DMatrix<f64>) -> FimAtPoint {
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
        verdict: if lo > 0.0 {
            Verdict::Regular
        } else {
            Verdict::NotPositive
        },
        wide: None,
    }
}
