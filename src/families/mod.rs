//! The library of distributions: the one family table, used by
//! `x ~ family(args)` and by raw-density recognition alike.
//!
//! Each family states its arguments (with the domain each must lie in), the
//! kind of data it generates, and its log-density as an [`Expr`] in the
//! user's own argument expressions, so that any parameterisation the user
//! writes flows through differentiation unchanged.
//!
//! Exponential families also carry their [`ExpFamily`] form — sufficient
//! statistics T(x; κ), natural parameters η, log-partition A (in the
//! arguments, and as A(η; κ) in natural parameters), base measure h, and
//! the moments E\[T\] and Cov\[T\] as functions of the family's own
//! arguments — which the expectation stage uses to find closed-form Fisher
//! information. κ are the family's known quantities (a binomial's n, a
//! Weibull's shape): the `~` expansion takes them from the arguments, and
//! raw `logp +=` densities (`fisher::raw`) find them through the family's
//! [`Recognise`] (its support, a monomial of the density), then use the
//! same T, h and A(η; κ); [`recognisable`] lists those families in the
//! order raw matching tries them. Every table entry is checked numerically
//! in `tests/families.rs` (log-density = η·T − A + log h, moments by
//! quadrature or summation, A(η(args); κ) = A(args), ∇A = E\[T\] and
//! ∇²A = Cov\[T\]).
//!
//! ```
//! use fimkit::families;
//! let normal = families::lookup("normal").unwrap();
//! assert_eq!(normal.args.len(), 2);
//! assert!(normal.ef.is_some());
//! ```

mod library;
mod recognise;

use crate::ir::expr::Expr;
use crate::ir::model::Arg;
pub use library::FAMILIES;
pub use recognise::{KnownMonomial, RawSupport, RawView, Recognise};

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
/// `log p(x) = η(args)·T(x; κ) − A(args) + log h(x; κ)`,
/// with `A(args) = A(η(args); κ)`.
///
/// `x` holds the data (one expression, or a vector's components), `args`
/// the family's arguments as the user wrote them, and κ the family's known
/// quantities ([`ExpFamily::known`]: a binomial's n, a Weibull's shape, a
/// categorical's number of categories). The statistics and base measure
/// are written once, in x and κ: the `~` expansion takes κ from the user's
/// arguments, raw recognition (`fisher::raw`) finds it in the density
/// ([`ExpFamily::raw`]), and both call the same functions.
pub struct ExpFamily {
    /// Argument positions that must be free of parameters for the family to
    /// be exponential (a Weibull's shape, a Laplace's location, ...).
    pub fixed: &'static [usize],
    /// The known quantities κ, from the arguments (for a family with fixed
    /// arguments, their values, in the order of `fixed`).
    pub known: fn(args: &[Arg]) -> Vec<Expr>,
    /// Sufficient statistics T(x; κ).
    pub stats: fn(x: &[Expr], known: &[Expr]) -> Vec<Expr>,
    /// Natural parameters η(args), one per statistic.
    pub natural: fn(args: &[Arg]) -> Vec<Expr>,
    /// Log-partition A(args), in the family's own arguments.
    pub log_partition: fn(args: &[Arg]) -> Expr,
    /// Log-partition A(η; κ) in the natural parameters, one per statistic:
    /// E\[T\] = ∇A(η) and Cov\[T\] = ∇²A(η). Raw densities take their
    /// moments from it; `tests/families.rs` checks that A(η(args); κ) is
    /// `log_partition` and that its gradient and Hessian are `mean` and
    /// `cov`.
    pub natural_log_partition: fn(eta: &[Expr], known: &[Expr]) -> Expr,
    /// Log base measure log h(x; κ).
    pub log_base: fn(x: &[Expr], known: &[Expr]) -> Expr,
    /// E\[T\] as functions of the arguments.
    pub mean: fn(args: &[Arg]) -> Vec<Expr>,
    /// Cov\[T\] as functions of the arguments (symmetric).
    pub cov: fn(args: &[Arg]) -> Vec<Vec<Expr>>,
    /// How raw `logp +=` densities are recognised as this family; `None`
    /// for a family raw matching does not try (a reparameterisation of
    /// another, such as `gamma_scale`, or one no raw density has been
    /// matched to so far).
    pub raw: Option<Recognise>,
}

impl ExpFamily {
    /// T(x) for the arguments `args`.
    pub fn stats_for(&self, x: &[Expr], args: &[Arg]) -> Vec<Expr> {
        (self.stats)(x, &(self.known)(args))
    }

    /// log h(x) for the arguments `args`.
    pub fn log_base_for(&self, x: &[Expr], args: &[Arg]) -> Expr {
        (self.log_base)(x, &(self.known)(args))
    }
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

/// The families raw `logp +=` densities are matched against, in the order
/// they are tried (first match wins).
///
/// The order is an explicit rank per family ([`Recognise::priority`]), not
/// the table's order or a rule such as "fewest statistics first": it is
/// the order raw matching has always used, so every output stays as it
/// was, and the refusal messages list the families tried in it. It
/// matters only where supports overlap. On (0, ∞) exponential and
/// Rayleigh come before gamma and Weibull, so a density with the one
/// statistic x (or x²) is reported as the family with that one statistic,
/// not as a gamma with a zero natural parameter (or a Weibull of shape 2);
/// gamma comes before chi-squared, so a raw chi-squared density is
/// reported as a gamma with rate 1/2 (`tests/families.rs` pins it);
/// Bernoulli comes before binomial on {0, 1}; Poisson before geometric
/// and negative binomial on the counts (these differ in their base
/// measures, so only the list of families tried depends on it). "Fewest
/// statistics first" would report that chi-squared density as a
/// chi-squared and reorder the lists in the refusal messages (Laplace
/// before the normal, exponential before the log-normal).
pub fn recognisable() -> Vec<(&'static Family, &'static ExpFamily, &'static Recognise)> {
    let mut out: Vec<_> = FAMILIES
        .iter()
        .filter_map(|f| {
            let ef = f.ef.as_ref()?;
            Some((f, ef, ef.raw.as_ref()?))
        })
        .collect();
    out.sort_by_key(|(_, _, r)| r.priority);
    out
}
