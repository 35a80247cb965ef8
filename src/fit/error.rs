//! Why a fit could not start or could not give an estimate.

use crate::ir::expr::Name;
use crate::numeric::NumericError;
use std::fmt;

/// A fit that ends without an estimate. Every variant is a message for
/// the user; none of them is a panic or a NaN.
#[derive(Clone, Debug, PartialEq)]
pub enum FitError {
    /// Evaluating the model failed: a parameter outside its domain, data
    /// outside the support (the row is named), a non-finite log-density.
    Numeric(NumericError),
    /// The starting point is outside the parameters' domains.
    StartOutsideDomain(NumericError),
    /// The Fisher information is singular whatever θ: collinear columns of
    /// the design (GLM structure) or a non-identified model.
    Collinear {
        /// The columns involved (`z1`, `2*z2`, `(intercept)`), one per
        /// parameter with a non-negligible loading.
        columns: Vec<String>,
        /// The parameters involved.
        params: Vec<Name>,
        /// The linear relation between the columns, `2·z1 − z2`, which is
        /// zero in every row.
        combination: String,
    },
    /// The information matrix is singular at some θ during the fit, even
    /// with damping.
    Singular {
        /// Where.
        at: String,
        /// A null direction.
        combination: String,
    },
    /// The maximum likelihood estimate does not exist: the log-likelihood
    /// keeps increasing along a direction to infinity.
    NoMle {
        /// The direction, `(b0, b1) ∝ (0.02, 1)`.
        direction: String,
        /// A specific explanation (perfect separation), when recognised.
        explanation: Option<String>,
        /// Iterations run before the diagnosis.
        iterations: usize,
    },
    /// The supremum of the log-likelihood is on the boundary of the
    /// parameter domain (p → 1, λ → 0, σ → 0): no maximum inside it.
    Boundary {
        /// The parameters that reach a bound, with the bound.
        params: Vec<(Name, f64)>,
        /// Iterations run before the diagnosis.
        iterations: usize,
    },
    /// The iterates diverged (loss growing or not finite).
    Diverged {
        /// What happened.
        detail: String,
        /// Iterations run.
        iterations: usize,
    },
    /// A bad option (a learning rate ≤ 0, a start of the wrong length).
    Config(String),
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::Numeric(e) => e.fmt(f),
            FitError::StartOutsideDomain(e) => {
                write!(
                    f,
                    "the starting point is not usable: {e}; choose another with --init"
                )
            }
            FitError::Collinear {
                columns,
                params,
                combination,
            } => {
                let p: Vec<&str> = params.iter().map(|n| &**n).collect();
                write!(
                    f,
                    "the Fisher information is singular for every parameter value: the design \
                     columns {} are collinear ({combination}), so the parameters {} cannot be \
                     estimated separately; remove one of these columns",
                    columns.join(", "),
                    p.join(", ")
                )
            }
            FitError::Singular { at, combination } => write!(
                f,
                "the Fisher information is singular at {at} (direction {combination}); \
                 the parameters are not identified there"
            ),
            FitError::NoMle {
                direction,
                explanation,
                iterations,
            } => {
                write!(
                    f,
                    "the maximum likelihood estimate does not exist: the log-likelihood keeps \
                     increasing as the parameters move to infinity in the direction {direction} \
                     (diagnosed after {iterations} iterations)"
                )?;
                if let Some(e) = explanation {
                    write!(f, "; {e}")?;
                }
                Ok(())
            }
            FitError::Boundary { params, iterations } => {
                let towards: Vec<String> = params
                    .iter()
                    .map(|(n, b)| format!("{n} → {}", crate::numeric::data::show(*b)))
                    .collect();
                let names: Vec<&str> = params.iter().map(|(n, _)| &**n).collect();
                write!(
                    f,
                    "the maximum likelihood estimate does not exist in the open parameter domain: \
                     the log-likelihood keeps increasing as {} (diagnosed after {iterations} \
                     iterations), so its supremum is on the boundary, where the model is \
                     degenerate; no estimate or standard error for {} is reported",
                    towards.join(", "),
                    names.join(", ")
                )
            }
            FitError::Diverged { detail, iterations } => {
                write!(
                    f,
                    "the fit diverged after {iterations} iterations: {detail}"
                )
            }
            FitError::Config(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for FitError {}

impl From<NumericError> for FitError {
    fn from(e: NumericError) -> Self {
        FitError::Numeric(e)
    }
}
