//! The library's one error type, [`Error`], returned by the front door
//! [`crate::Model`]; [`ModelError`] carries a model file's diagnostics with
//! their source, so they print as `file:line:col`.

use crate::diagnostic::{Diagnostic, line_col};
use std::fmt;

/// A model source that has errors: every diagnostic (warnings too), with
/// the source they point into.
///
/// ```
/// let err = fimkit::Model::from_source("param mu : real\ndata x : real\nx ~ normal(mu, sigam)\n", "m")
///     .unwrap_err();
/// let text = err.to_string();
/// assert!(text.starts_with("m:3:16: error[E"), "{text}");
/// assert!(text.contains("sigam"), "{text}");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ModelError {
    /// The file name shown in positions (the model's name for a string).
    pub file: String,
    /// The model source.
    pub source: String,
    /// Every diagnostic, in source order; at least one is an error.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ModelError {
    /// One diagnostic a line: `file:line:col: error[code]: message: label`,
    /// then an indented help line where there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let (line, col) = line_col(&self.source, d.span().start);
            let kind = if d.is_error() { "error" } else { "warning" };
            write!(
                f,
                "{}:{line}:{col}: {kind}[{}]: {}",
                self.file, d.code, d.message
            )?;
            if let Some(label) = d.labels.first().filter(|l| !l.message.is_empty()) {
                write!(f, " ({})", label.message)?;
            }
            if let Some(h) = &d.help {
                write!(f, "\n  help: {h}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ModelError {}

/// An argument that does not fit the model, by what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ArgumentError {
    /// θ has the wrong length.
    ParamCount {
        /// The model's parameters, in order.
        params: Vec<String>,
        /// How many values were given.
        got: usize,
    },
    /// A parameter has no value.
    MissingParam(String),
    /// The model has covariates, so its Fisher information is that of a
    /// design (rows of covariates), not of one observation.
    HasCovariates(Vec<String>),
    /// A column is not one of the model's inputs.
    UnknownInput {
        /// The column's name.
        name: String,
        /// The model's inputs, in order.
        inputs: Vec<String>,
    },
    /// An input has no column.
    MissingColumn(String),
    /// Columns of different lengths.
    ColumnLength {
        /// The column.
        name: String,
        /// Its length.
        len: usize,
        /// The first column.
        first: String,
        /// Its length.
        first_len: usize,
    },
    /// Anything else, in the caller's words (a binding's own checks).
    Other(String),
}

impl fmt::Display for ArgumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgumentError::ParamCount { params, got } => write!(
                f,
                "the model has {} parameters ({}), {got} values were given",
                params.len(),
                params.join(", ")
            ),
            ArgumentError::MissingParam(p) => write!(f, "no value for `{p}`"),
            ArgumentError::HasCovariates(names) => write!(
                f,
                "the model has covariates ({}): its Fisher information is that of a design; \
                 use fisher_information_over with one (Model::design) or more rows",
                names.join(", ")
            ),
            ArgumentError::UnknownInput { name, inputs } => write!(
                f,
                "`{name}` is not an input of the model (its inputs: {})",
                inputs.join(", ")
            ),
            ArgumentError::MissingColumn(n) => write!(f, "no column for the input `{n}`"),
            ArgumentError::ColumnLength {
                name,
                len,
                first,
                first_len,
            } => write!(
                f,
                "the column `{name}` has {len} values, `{first}` has {first_len}"
            ),
            ArgumentError::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for ArgumentError {}

impl From<ArgumentError> for Error {
    fn from(e: ArgumentError) -> Self {
        Error::Argument(e)
    }
}

/// Why a call of the library failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The model source has errors.
    Model(ModelError),
    /// A file could not be read.
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// An argument does not fit the model: θ of the wrong length, columns
    /// that are not the model's inputs, a covariate model asked for one
    /// observation's information. (A parameter outside its domain or with
    /// an unknown name is [`Error::Evaluation`], where θ is checked.)
    Argument(ArgumentError),
    /// Data could not be read or a value is outside its support.
    Data(crate::numeric::DataError),
    /// Exact numeric evaluation failed (the row and subexpression are
    /// named), or θ or a point does not fit the model (its length, a
    /// domain, a name).
    Evaluation(crate::numeric::NumericError),
    /// The numeric Fisher information (tier 2 or 3) could not be computed.
    /// The same error type as [`Error::Evaluation`], from the later stage.
    NumericFim(crate::numeric::NumericError),
    /// The closed-form Fisher information could not be evaluated at the
    /// point (an entry, the linear predictor, a row of the design).
    AtPoint(crate::fisher::at_point::AtPointError),
    /// There is no closed form for what was asked, and no numeric route.
    NoClosedForm(crate::fisher::Blocker),
    /// A fit failed (no maximum, separation, a singular information).
    Fit(crate::fit::FitError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Model(e) => e.fmt(f),
            Error::Io { path, error } => write!(f, "{}: {error}", path.display()),
            Error::Argument(e) => e.fmt(f),
            Error::NoClosedForm(b) => write!(f, "no closed form: {b}"),
            Error::Data(e) => e.fmt(f),
            Error::Evaluation(e) => e.fmt(f),
            Error::NumericFim(e) => e.fmt(f),
            Error::AtPoint(e) => e.fmt(f),
            Error::Fit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Model(e) => Some(e),
            Error::Io { error, .. } => Some(error),
            Error::Data(e) => Some(e),
            Error::Evaluation(e) => Some(e),
            Error::NumericFim(e) => Some(e),
            Error::AtPoint(e) => Some(e),
            Error::Fit(e) => Some(e),
            Error::Argument(_) | Error::NoClosedForm(_) => None,
        }
    }
}

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Self {
        Error::Model(e)
    }
}

impl From<crate::numeric::DataError> for Error {
    fn from(e: crate::numeric::DataError) -> Self {
        Error::Data(e)
    }
}

/// An error of exact evaluation ([`Error::Evaluation`]); the numeric
/// Fisher information's errors are wrapped as [`Error::NumericFim`] where
/// they arise.
impl From<crate::numeric::NumericError> for Error {
    fn from(e: crate::numeric::NumericError) -> Self {
        Error::Evaluation(e)
    }
}

impl From<crate::fisher::at_point::AtPointError> for Error {
    fn from(e: crate::fisher::at_point::AtPointError) -> Self {
        Error::AtPoint(e)
    }
}

impl From<crate::fit::FitError> for Error {
    fn from(e: crate::fit::FitError) -> Self {
        Error::Fit(e)
    }
}
