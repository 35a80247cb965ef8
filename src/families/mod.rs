//! The library of distributions used by `x ~ family(args)`.
//!
//! Each family states its arguments (with the domain each must lie in), the
//! kind of data it generates, and its log-density as an [`Expr`] in the
//! user's own argument expressions, so that any parameterisation the user
//! writes flows through differentiation unchanged.
//!
//! Exponential families also carry their [`ExpFamily`] form — sufficient
//! statistics T(x), natural parameters η, log-partition A, base measure h,
//! and the moments E\[T\] and Cov\[T\] as functions of the family's own
//! arguments — which the expectation stage uses to find closed-form Fisher
//! information. Every table entry is checked numerically in
//! `tests/families.rs` (log-density = η·T − A + log h, moments by
//! quadrature or summation).
//!
//! ```
//! use fimkit::families;
//! let normal = families::lookup("normal").unwrap();
//! assert_eq!(normal.args.len(), 2);
//! assert!(normal.ef.is_some());
//! ```

mod library;

use crate::ir::expr::Expr;
use crate::ir::model::Arg;
pub use library::FAMILIES;

/// What an argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// Any real number.
    Real,
    /// A positive number.
    Positive,
    /// A number in (0, 1).
    Unit,
    /// A positive integer known in advance (a constant), such as a binomial's n.
    Count,
    /// A vector of real numbers.
    RealVector,
    /// A vector of positive numbers.
    PositiveVector,
    /// A vector of probabilities summing to one.
    ProbabilityVector,
}

impl ArgKind {
    /// True for the vector kinds.
    pub fn is_vector(self) -> bool {
        matches!(
            self,
            ArgKind::RealVector | ArgKind::PositiveVector | ArgKind::ProbabilityVector
        )
    }

    /// How the requirement reads in a diagnostic.
    pub fn describe(self) -> &'static str {
        match self {
            ArgKind::Real => "a real number",
            ArgKind::Positive => "positive",
            ArgKind::Unit => "in (0, 1)",
            ArgKind::Count => "a positive integer constant",
            ArgKind::RealVector => "a vector of real numbers",
            ArgKind::PositiveVector => "a vector of positive numbers",
            ArgKind::ProbabilityVector => "a vector of probabilities",
        }
    }
}

/// What data a family generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// Any real number.
    Real,
    /// A positive real.
    Positive,
    /// A real in (0, 1).
    Unit,
    /// 0 or 1.
    Binary,
    /// 0, 1, 2, ...
    Count,
    /// 0..n where n is the first argument.
    BoundedCount,
    /// 1..K where K is the length of the vector argument.
    Category,
    /// A vector on the simplex, as long as the vector argument.
    Simplex,
    /// A vector of counts summing to the first argument.
    CountVector,
    /// A vector of reals, as long as the vector arguments.
    RealVector,
}

impl DataKind {
    /// Does the family generate a vector?
    pub fn is_vector(self) -> bool {
        matches!(
            self,
            DataKind::Simplex | DataKind::CountVector | DataKind::RealVector
        )
    }

    /// How the support reads in a diagnostic.
    pub fn describe(self) -> &'static str {
        match self {
            DataKind::Real => "real data",
            DataKind::Positive => "positive data",
            DataKind::Unit => "data in (0, 1)",
            DataKind::Binary => "data in {0, 1}",
            DataKind::Count => "count data (0, 1, 2, ...)",
            DataKind::BoundedCount => "integer data in 0..n",
            DataKind::Category => "integer data in 1..K",
            DataKind::Simplex => "a vector on the simplex",
            DataKind::CountVector => "a vector of counts",
            DataKind::RealVector => "a vector of reals",
        }
    }
}

/// The exponential-family form of a family:
/// `log p(x) = η(args)·T(x) − A(args) + log h(x)`.
///
/// `x` holds the data (one expression, or a vector's components) and `args`
/// the family's arguments as the user wrote them.
pub struct ExpFamily {
    /// Argument positions that must be free of parameters for the family to
    /// be exponential (a Weibull's shape, a Laplace's location, ...).
    pub fixed: &'static [usize],
    /// Sufficient statistics T(x).
    pub stats: fn(x: &[Expr], args: &[Arg]) -> Vec<Expr>,
    /// Natural parameters η(args), one per statistic.
    pub natural: fn(args: &[Arg]) -> Vec<Expr>,
    /// Log-partition A(args).
    pub log_partition: fn(args: &[Arg]) -> Expr,
    /// Log base measure log h(x); may use fixed arguments.
    pub log_base: fn(x: &[Expr], args: &[Arg]) -> Expr,
    /// E\[T\] as functions of the arguments.
    pub mean: fn(args: &[Arg]) -> Vec<Expr>,
    /// Cov\[T\] as functions of the arguments (symmetric).
    pub cov: fn(args: &[Arg]) -> Vec<Vec<Expr>>,
}

/// A distribution of the library.
pub struct Family {
    /// The name used after `~`.
    pub name: &'static str,
    /// One line: what it is and how it is parameterised.
    pub description: &'static str,
    /// Argument names and kinds, in call order.
    pub args: &'static [(&'static str, ArgKind)],
    /// The data it generates.
    pub data: DataKind,
    /// `log p(x; args)`; `x` holds one expression, or a vector's components.
    pub log_density: fn(x: &[Expr], args: &[Arg]) -> Expr,
    /// The exponential-family form, when the family is one (possibly only
    /// with some arguments fixed).
    pub ef: Option<ExpFamily>,
    /// Why the family is not an exponential family (for messages), when `ef`
    /// is `None`.
    pub not_ef_reason: Option<&'static str>,
}

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family").field("name", &self.name).finish()
    }
}

/// Find a family by name.
pub fn lookup(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// Every family name, for suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    FAMILIES.iter().map(|f| f.name)
}
