//! Why a numeric evaluation failed ([`NumericError`]), and how a failure
//! is traced to the statement, row and subexpression that caused it.

use super::*;

/// A failed row (from 0; `None` before any row) and why.
pub(super) type RowFailure = (Option<usize>, EvalError);

/// Why a numeric evaluation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum NumericError {
    /// The model's log-density could not be compiled.
    Compile(CompileError),
    /// A vector has the wrong length.
    Dimension {
        /// `parameters` or `inputs`.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// A parameter value lies outside its domain (or is not finite).
    ParamDomain {
        /// The parameter.
        name: Name,
        /// Its value.
        value: f64,
        /// The domain, e.g. `positive (0, inf)`.
        domain: String,
    },
    /// A name given by the caller is not a parameter (or input) of the model.
    UnknownName {
        /// The name given.
        name: String,
        /// `parameter` or `data variable or covariate`.
        role: &'static str,
        /// The model's names of that kind.
        known: Vec<Name>,
    },
    /// A parameter or input was given no value.
    MissingValue {
        /// The name without a value.
        name: Name,
        /// `parameter`, `data variable` or `covariate`.
        role: &'static str,
    },
    /// An input value lies outside its support.
    Input {
        /// Data row (from 1), `None` at a single point.
        row: Option<usize>,
        /// The input.
        name: Name,
        /// Its value.
        value: f64,
        /// Why (`outside the support of `y`, {0, 1}`).
        reason: String,
    },
    /// The log-density or a derivative is not finite.
    NonFinite {
        /// Data row (from 1), `None` at a single point.
        row: Option<usize>,
        /// The model statement whose term is not finite, when found.
        term: Option<String>,
        /// Is it a derivative (the value itself being finite)?
        derivative: bool,
        /// The innermost subexpression responsible.
        error: EvalError,
    },
    /// Every row is finite but a sum over the rows overflows.
    SumOverflow {
        /// The offending sum's value.
        value: f64,
    },
    /// A row's score is finite but its outer product s sᵀ (a term of the
    /// empirical Fisher information) is not.
    OuterOverflow {
        /// Data row (from 1).
        row: usize,
        /// The row's largest score component.
        value: f64,
    },
    /// Data could not be read.
    Data(DataError),
}

impl NumericError {
    /// Count this error's row from `rows` rows further on: an error found
    /// in one part of a dataset, named at its place in the whole.
    pub fn shift_rows(&mut self, rows: usize) {
        match self {
            NumericError::Input { row: Some(r), .. }
            | NumericError::NonFinite { row: Some(r), .. }
            | NumericError::OuterOverflow { row: r, .. } => *r += rows,
            NumericError::Data(e) => e.shift_rows(rows),
            _ => {}
        }
    }
}

impl fmt::Display for NumericError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumericError::Compile(e) => write!(f, "cannot compile the log-density: {e}"),
            NumericError::Dimension {
                what,
                expected,
                got,
            } => write!(f, "expected {expected} {what}, got {got}"),
            NumericError::ParamDomain {
                name,
                value,
                domain,
            } => {
                if value.is_finite() {
                    write!(
                        f,
                        "parameter `{name}` = {} is outside its domain, {domain}",
                        show(*value)
                    )
                } else {
                    write!(
                        f,
                        "parameter `{name}` = {value} is not a finite number (domain {domain})"
                    )
                }
            }
            NumericError::UnknownName { name, role, known } => {
                let list: Vec<&str> = known.iter().map(|n| &**n).collect();
                write!(f, "`{name}` is not a {role} of the model")?;
                if list.is_empty() {
                    write!(f, " (it has none)")
                } else {
                    write!(f, " (expected one of: {})", list.join(", "))
                }
            }
            NumericError::MissingValue { name, role } => {
                write!(f, "no value given for the {role} `{name}`")
            }
            NumericError::Input {
                row,
                name,
                value,
                reason,
            } => {
                if let Some(r) = row {
                    write!(f, "row {r}: ")?;
                }
                if value.is_finite() {
                    write!(f, "`{name}` = {} is {reason}", show(*value))
                } else {
                    write!(f, "`{name}` = {value} is not a finite number")
                }
            }
            NumericError::NonFinite {
                row,
                term,
                derivative,
                error,
            } => {
                if let Some(r) = row {
                    write!(f, "row {r}: ")?;
                }
                if let Some(t) = term {
                    write!(f, "in `{t}`: ")?;
                }
                match error {
                    EvalError::NonFinite { expr, value } if *derivative => {
                        write!(f, "the derivatives of `{expr}` are not finite ({value})")
                    }
                    _ => write!(f, "{error}"),
                }
            }
            NumericError::SumOverflow { value } => write!(
                f,
                "the sum over the rows is not finite ({value}) although every row is"
            ),
            NumericError::OuterOverflow { row, value } => write!(
                f,
                "row {row}: the score reaches {value:e}, and its outer product s sᵀ overflows \
                 f64: the empirical Fisher information Σ s sᵀ cannot be represented (the \
                 log-likelihood, its gradient and the observed information are finite)"
            ),
            NumericError::Data(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for NumericError {}

impl From<DataError> for NumericError {
    fn from(e: DataError) -> Self {
        NumericError::Data(e)
    }
}

impl ModelFunctions {
    /// Name the culprit of a failed row.
    pub(super) fn row_error(
        &self,
        row: Option<usize>,
        theta: &DVector<f64>,
        data: &Dataset,
        e: EvalError,
    ) -> NumericError {
        let x = row.and_then(|r| data.row(r)).unwrap_or(&[]);
        self.non_finite(row.map(|r| r + 1), theta, x, e)
    }

    /// A [`NumericError::NonFinite`] naming the statement whose term fails;
    /// for a derivative, also the innermost subexpression responsible.
    pub(super) fn non_finite(
        &self,
        row: Option<usize>,
        theta: &DVector<f64>,
        x: &[f64],
        e: EvalError,
    ) -> NumericError {
        let inputs = self.schema.names();
        let env = |name: &str| {
            self.params
                .iter()
                .position(|p| &*p.name == name)
                .map(|i| theta[i])
                .or_else(|| {
                    inputs
                        .iter()
                        .position(|n| &**n == name)
                        .and_then(|i| x.get(i).copied())
                })
        };
        let names = self.param_names();
        let derivative = matches!(&e, EvalError::NonFinite { expr, .. }
            if expr.starts_with("derivatives"));
        let mut error = e;
        let mut term = None;
        for (label, t) in &self.terms {
            let bad = if derivative {
                !derivatives_finite(t, &names, &env)
            } else {
                eval_f64(t, &env).is_err()
            };
            if bad {
                term = Some(label.clone());
                if derivative {
                    let culprit = innermost_bad_derivative(t, &names, &env);
                    let value = gradient_hessian(culprit, &names, &env)
                        .ok()
                        .and_then(|(_, g, h)| {
                            g.iter().chain(h.iter()).copied().find(|v| !v.is_finite())
                        })
                        .unwrap_or(f64::NAN);
                    error = EvalError::NonFinite {
                        expr: describe(culprit),
                        value,
                    };
                }
                break;
            }
        }
        NumericError::NonFinite {
            row,
            term,
            derivative,
            error,
        }
    }

    /// Report non-finite derivatives at a point.
    pub(super) fn check_derivatives(
        &self,
        row: Option<usize>,
        theta: &DVector<f64>,
        x: &[f64],
        g: &[f64],
        h: &[f64],
    ) -> Result<(), NumericError> {
        match g.iter().chain(h).copied().find(|v| !v.is_finite()) {
            None => Ok(()),
            Some(value) => Err(self.non_finite(
                row,
                theta,
                x,
                EvalError::NonFinite {
                    expr: format!("derivatives of {}", describe(&self.logp)),
                    value,
                },
            )),
        }
    }
}

/// Every row is finite but a sum over the rows is not.
pub(super) fn sum_overflow(loglik: f64) -> NumericError {
    NumericError::SumOverflow {
        value: if loglik.is_finite() {
            f64::INFINITY
        } else {
            loglik
        },
    }
}

/// Are the value, gradient and Hessian of `e` finite?
pub(super) fn derivatives_finite(
    e: &Expr,
    names: &[Name],
    env: &dyn Fn(&str) -> Option<f64>,
) -> bool {
    gradient_hessian(e, names, env).is_ok()
}

/// The innermost subexpression of `e` whose derivatives are not finite
/// while its children's are.
pub(super) fn innermost_bad_derivative<'a>(
    e: &'a Expr,
    names: &[Name],
    env: &dyn Fn(&str) -> Option<f64>,
) -> &'a Expr {
    let kids: Vec<&Expr> = match e {
        Expr::Pow(b, x) => vec![&**b, &**x],
        _ => e.children().iter().collect(),
    };
    for k in kids {
        if !derivatives_finite(k, names, env) {
            return innermost_bad_derivative(k, names, env);
        }
    }
    e
}
