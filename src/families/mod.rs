//! The library of distributions used by `x ~ family(args)`.
//!
//! Each family states its arguments (with the domain each must lie in), the
//! kind of data it generates, and its log-density as an [`Expr`] in the
//! user's own argument expressions, so that any parameterisation the user
//! writes flows through differentiation unchanged.
//!
//! ```
//! use fimkit::families;
//! let normal = families::lookup("normal").unwrap();
//! assert_eq!(normal.args.len(), 2);
//! ```

use crate::ir::expr::{Expr, Func};
use crate::ir::model::Arg;

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
    /// A vector of positive numbers.
    PositiveVector,
    /// A vector of probabilities summing to one.
    ProbabilityVector,
}

impl ArgKind {
    /// True for the vector kinds.
    pub fn is_vector(self) -> bool {
        matches!(self, ArgKind::PositiveVector | ArgKind::ProbabilityVector)
    }

    /// How the requirement reads in a diagnostic.
    pub fn describe(self) -> &'static str {
        match self {
            ArgKind::Real => "a real number",
            ArgKind::Positive => "positive",
            ArgKind::Unit => "in (0, 1)",
            ArgKind::Count => "a positive integer constant",
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
}

impl DataKind {
    /// Does the family generate a vector?
    pub fn is_vector(self) -> bool {
        matches!(self, DataKind::Simplex | DataKind::CountVector)
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
        }
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
}

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family").field("name", &self.name).finish()
    }
}

fn s(args: &[Arg], i: usize) -> Expr {
    args[i]
        .scalar()
        .cloned()
        .expect("scalar argument checked by the resolver")
}

fn v(args: &[Arg], i: usize) -> Vec<Expr> {
    match &args[i] {
        Arg::Vector(v) => v.clone(),
        Arg::Scalar(e) => vec![e.clone()],
    }
}

fn log(e: Expr) -> Expr {
    Expr::log(e)
}

fn lgamma(e: Expr) -> Expr {
    Expr::lgamma(e)
}

fn one_minus(e: Expr) -> Expr {
    Expr::sub(Expr::one(), e)
}

/// The family library.
pub static FAMILIES: &[Family] = &[
    Family {
        name: "normal",
        description: "Normal(mu, sigma): mean mu, standard deviation sigma",
        args: &[("mu", ArgKind::Real), ("sigma", ArgKind::Positive)],
        data: DataKind::Real,
        log_density: |x, a| {
            let (mu, sigma) = (s(a, 0), s(a, 1));
            let z2 = Expr::div(
                Expr::powi(Expr::sub(x[0].clone(), mu), 2),
                Expr::mul2(Expr::int(2), Expr::powi(sigma.clone(), 2)),
            );
            Expr::add(vec![
                Expr::neg(log(sigma)),
                Expr::mul2(
                    Expr::rational(-1, 2),
                    log(Expr::mul2(Expr::int(2), Expr::pi())),
                ),
                Expr::neg(z2),
            ])
        },
    },
    Family {
        name: "bernoulli",
        description: "Bernoulli(p): success probability p",
        args: &[("p", ArgKind::Unit)],
        data: DataKind::Binary,
        log_density: |x, a| {
            let p = s(a, 0);
            Expr::add(vec![
                Expr::mul2(x[0].clone(), log(p.clone())),
                Expr::mul2(one_minus(x[0].clone()), log(one_minus(p))),
            ])
        },
    },
    Family {
        name: "binomial",
        description: "Binomial(n, p): n trials (a constant), success probability p",
        args: &[("n", ArgKind::Count), ("p", ArgKind::Unit)],
        data: DataKind::BoundedCount,
        log_density: |x, a| {
            let (n, p) = (s(a, 0), s(a, 1));
            let x = x[0].clone();
            let n_minus_x = Expr::sub(n.clone(), x.clone());
            Expr::add(vec![
                lgamma(Expr::add2(n, Expr::one())),
                Expr::neg(lgamma(Expr::add2(x.clone(), Expr::one()))),
                Expr::neg(lgamma(Expr::add2(n_minus_x.clone(), Expr::one()))),
                Expr::mul2(x, log(p.clone())),
                Expr::mul2(n_minus_x, log(one_minus(p))),
            ])
        },
    },
    Family {
        name: "poisson",
        description: "Poisson(lambda): mean lambda",
        args: &[("lambda", ArgKind::Positive)],
        data: DataKind::Count,
        log_density: |x, a| {
            let l = s(a, 0);
            Expr::add(vec![
                Expr::mul2(x[0].clone(), log(l.clone())),
                Expr::neg(l),
                Expr::neg(lgamma(Expr::add2(x[0].clone(), Expr::one()))),
            ])
        },
    },
    Family {
        name: "exponential",
        description: "Exponential(lambda): rate lambda (mean 1/lambda)",
        args: &[("lambda", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let l = s(a, 0);
            Expr::sub(log(l.clone()), Expr::mul2(l, x[0].clone()))
        },
    },
    Family {
        name: "gamma",
        description: "Gamma(alpha, beta): shape alpha, rate beta (mean alpha/beta)",
        args: &[("alpha", ArgKind::Positive), ("beta", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let (al, be) = (s(a, 0), s(a, 1));
            Expr::add(vec![
                Expr::mul2(al.clone(), log(be.clone())),
                Expr::neg(lgamma(al.clone())),
                Expr::mul2(Expr::sub(al, Expr::one()), log(x[0].clone())),
                Expr::neg(Expr::mul2(be, x[0].clone())),
            ])
        },
    },
    Family {
        name: "beta",
        description: "Beta(a, b): shapes a and b",
        args: &[("a", ArgKind::Positive), ("b", ArgKind::Positive)],
        data: DataKind::Unit,
        log_density: |x, a| {
            let (p, q) = (s(a, 0), s(a, 1));
            Expr::add(vec![
                Expr::mul2(Expr::sub(p.clone(), Expr::one()), log(x[0].clone())),
                Expr::mul2(
                    Expr::sub(q.clone(), Expr::one()),
                    log(one_minus(x[0].clone())),
                ),
                Expr::neg(Expr::call(Func::Lbeta, vec![p, q])),
            ])
        },
    },
    Family {
        name: "categorical",
        description: "Categorical(p): P(x = k) = p[k] for k in 1..K",
        args: &[("p", ArgKind::ProbabilityVector)],
        data: DataKind::Category,
        log_density: |x, a| {
            let p = v(a, 0);
            Expr::add(
                p.into_iter()
                    .enumerate()
                    .map(|(k, pk)| {
                        Expr::mul2(
                            Expr::call(
                                Func::Indicator,
                                vec![x[0].clone(), Expr::int(k as i64 + 1)],
                            ),
                            log(pk),
                        )
                    })
                    .collect(),
            )
        },
    },
    Family {
        name: "dirichlet",
        description: "Dirichlet(alpha): concentrations alpha[1..K]; data on the K-simplex",
        args: &[("alpha", ArgKind::PositiveVector)],
        data: DataKind::Simplex,
        log_density: |x, a| {
            let alpha = v(a, 0);
            let mut terms = vec![lgamma(Expr::add(alpha.clone()))];
            for (ak, xk) in alpha.into_iter().zip(x) {
                terms.push(Expr::neg(lgamma(ak.clone())));
                terms.push(Expr::mul2(Expr::sub(ak, Expr::one()), log(xk.clone())));
            }
            Expr::add(terms)
        },
    },
];

/// Find a family by name.
pub fn lookup(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// Every family name, for suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    FAMILIES.iter().map(|f| f.name)
}
