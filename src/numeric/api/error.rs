//! Why a numeric computation failed ([`NumericError`], the one numeric
//! error of the library: exact evaluation over points and rows, and the
//! numeric Fisher information of `fisher::numeric`), and how a failed row
//! is traced to the statement, row and subexpression that caused it.

use super::*;

/// A failed row (from 0; `None` before any row) and why.
pub(super) type RowFailure = (Option<usize>, EvalError);

/// Which of two phrasings a message takes where the exact evaluation API
/// and the numeric Fisher information report the same failure (a vector of
/// the wrong length, a parameter outside its domain, a missing value). The
/// meaning is the same; the words are each caller's, unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wording {
    /// The evaluation API's ([`crate::numeric::ModelFunctions`], the front
    /// door's checks of θ), as in "expected 2 parameters, got 3".
    Evaluation,
    /// The numeric Fisher information's (`fisher::numeric_fim`, its sum
    /// over a design, its check), as in "the model has 2 parameters but 3
    /// values were given".
    NumericFim,
}

/// Why a numeric computation failed: exact evaluation of the log-density
/// and its derivatives at points and over rows, or the numeric Fisher
/// information (tiers 2 and 3, its check, its sum over a design).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NumericError {
    /// The model's log-density could not be compiled.
    Compile(CompileError),
    /// A vector has the wrong length.
    Dimension {
        /// `parameters`, `inputs` or `data columns`.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
        /// Whose message.
        wording: Wording,
    },
    /// A parameter value lies outside its domain (or is not finite).
    OutsideDomain {
        /// The parameter.
        param: Name,
        /// Its value.
        value: f64,
        /// The domain, e.g. `positive (0, inf)`.
        domain: String,
        /// Whose message.
        wording: Wording,
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
        /// Whose message.
        wording: Wording,
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
    /// The support of a data variable depends on a parameter (no numeric
    /// Fisher information: the regularity conditions fail).
    Irregular {
        /// The data variable.
        var: Name,
        /// The parameter in its support.
        param: Name,
        /// The support as written.
        support: String,
    },
    /// The log-density does not integrate to 1 and the integral changes
    /// with θ: a normalising constant that depends on a parameter is
    /// missing.
    NotNormalised {
        /// ∫ exp(log p).
        integral: f64,
        /// Its error estimate.
        error: f64,
        /// E\[s\] under the normalised density (= ∇ log Z).
        mean_score: Vec<f64>,
        /// Parameter names.
        params: Vec<Name>,
    },
    /// A data variable appears nowhere in the log-density.
    NoDensity(Name),
    /// The log-density (or an integration bound) could not be evaluated at
    /// a point of the numeric Fisher information's integration.
    Eval {
        /// What went wrong.
        error: EvalError,
        /// Where (data values).
        at: String,
    },
    /// Something the numeric Fisher information does not handle.
    Unsupported(String),
    /// One row of a design failed (`fisher::numeric_fim_over`).
    Row {
        /// The row, from 1.
        row: usize,
        /// Its covariates, `z = 0.5, w = 2`.
        covariates: String,
        /// Why.
        error: Box<NumericError>,
    },
}

impl NumericError {
    /// A covariate of the numeric Fisher information without a value.
    pub(crate) fn missing_covariate(name: &Name) -> Self {
        NumericError::MissingValue {
            name: name.clone(),
            role: "covariate",
            wording: Wording::NumericFim,
        }
    }

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
                wording: Wording::Evaluation,
            } => write!(f, "expected {expected} {what}, got {got}"),
            NumericError::Dimension {
                what,
                expected,
                got,
                wording: Wording::NumericFim,
            } => write!(
                f,
                "the model has {expected} {what} but {got} values were given"
            ),
            NumericError::OutsideDomain {
                param,
                value,
                domain,
                wording: Wording::NumericFim,
            } => write!(f, "`{param}` = {value} is outside its domain {domain}"),
            NumericError::OutsideDomain {
                param: name,
                value,
                domain,
                wording: Wording::Evaluation,
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
            NumericError::MissingValue {
                name,
                role,
                wording: Wording::Evaluation,
            } => write!(f, "no value given for the {role} `{name}`"),
            NumericError::MissingValue {
                name,
                role,
                wording: Wording::NumericFim,
            } => write!(
                f,
                "the {role} `{name}` needs a value (give `{name}=...` with --at)"
            ),
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
            NumericError::Irregular {
                var,
                param,
                support,
            } => write!(
                f,
                "the support of `{var}`, {support}, depends on the parameter `{param}`: the \
                 regularity conditions fail, the Bartlett identities E[score] = 0 and E[s sᵀ] = −E[Hessian] do not hold, \
                 and the Fisher information is not the right measure of information here \
                 (estimators can converge faster than 1/√n); fimkit reports no FIM"
            ),
            NumericError::NotNormalised {
                integral,
                error,
                mean_score,
                params,
            } => {
                let grads: Vec<String> = params
                    .iter()
                    .zip(mean_score)
                    .map(|(p, g)| format!("∂log Z/∂{p} = {g:.6e}"))
                    .collect();
                write!(
                    f,
                    "the density does not integrate to 1: ∫ exp(logp) = {integral:.12} (± {error:.1e}), \
                     and the integral changes with the parameters ({}); a normalising constant \
                     that depends on a parameter is missing or wrong",
                    grads.join(", ")
                )
            }
            NumericError::NoDensity(v) => write!(
                f,
                "the data variable `{v}` does not appear in the log-density, so it has no distribution"
            ),
            NumericError::Eval { error, at } => {
                write!(f, "cannot evaluate the log-density at {at}: {error}")
            }
            NumericError::Unsupported(s) => write!(f, "not supported: {s}"),
            NumericError::Row {
                row,
                covariates,
                error,
            } => write!(f, "row {row} ({covariates}): {error}"),
        }
    }
}

impl std::error::Error for NumericError {
    /// The underlying error where there is one: the compiler's, the data
    /// reader's, the evaluator's, a design row's.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NumericError::Compile(e) => Some(e),
            NumericError::Data(e) => Some(e),
            NumericError::NonFinite { error, .. } | NumericError::Eval { error, .. } => Some(error),
            NumericError::Row { error, .. } => Some(&**error),
            _ => None,
        }
    }
}

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
