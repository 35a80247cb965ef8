//! The resolved model: declarations with their domains, and the
//! log-density as one [`Expr`]. Indexed declarations are unrolled into
//! scalars named `a[1]`, `a[2]`, ...

use super::expr::{Expr, Name, Rational};
use crate::diagnostic::Span;
use num_traits::{Signed, ToPrimitive, Zero};

/// Where a parameter or covariate lives: an open interval, with `None`
/// meaning an infinite end.
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    /// How the user wrote it (`real`, `positive`, `(0, 10)`, ...).
    pub label: String,
    /// Lower end (exclusive); `None` is -∞.
    pub lo: Option<Expr>,
    /// Upper end (exclusive); `None` is +∞.
    pub hi: Option<Expr>,
}

impl Domain {
    /// The real line.
    pub fn real() -> Domain {
        Domain {
            label: "real".into(),
            lo: None,
            hi: None,
        }
    }

    /// `(0, ∞)`.
    pub fn positive() -> Domain {
        Domain {
            label: "positive".into(),
            lo: Some(Expr::zero()),
            hi: None,
        }
    }

    /// `(-∞, 0)`.
    pub fn negative() -> Domain {
        Domain {
            label: "negative".into(),
            lo: None,
            hi: Some(Expr::zero()),
        }
    }

    /// `(0, 1)`.
    pub fn unit() -> Domain {
        Domain {
            label: "unit".into(),
            lo: Some(Expr::zero()),
            hi: Some(Expr::one()),
        }
    }

    /// Is the domain contained in `[0, ∞)` (so the value is known positive)?
    pub fn is_positive(&self) -> bool {
        self.lo
            .as_ref()
            .and_then(Expr::as_num)
            .is_some_and(|r| !r.is_negative())
    }

    /// Is the domain contained in `(-∞, 0]`?
    pub fn is_negative(&self) -> bool {
        self.hi
            .as_ref()
            .and_then(Expr::as_num)
            .is_some_and(|r| !r.is_positive())
    }
}

/// Where a data variable lives.
#[derive(Clone, Debug, PartialEq)]
pub enum Support {
    /// An open interval of reals; bounds may depend on constants, earlier
    /// data and (irregularly) parameters. `None` is infinite.
    Continuous {
        /// Lower end.
        lo: Option<Expr>,
        /// Upper end.
        hi: Option<Expr>,
    },
    /// Integers `lo..=hi`, or from `lo` up when `hi` is `None`.
    Integers {
        /// Smallest value.
        lo: Expr,
        /// Largest value, if any.
        hi: Option<Expr>,
    },
    /// A finite set of integers.
    Set(Vec<Rational>),
    /// One component of a vector on the probability simplex.
    Simplex {
        /// The vector's base name.
        group: Name,
        /// Number of components.
        dim: usize,
    },
}

impl Support {
    /// True for integer-valued supports.
    pub fn is_discrete(&self) -> bool {
        matches!(self, Support::Integers { .. } | Support::Set(_))
    }

    /// Is every value of the support a non-negative integer?
    pub fn is_nonnegative_integer(&self) -> bool {
        match self {
            Support::Integers { lo, .. } => lo.as_num().is_some_and(|r| !r.is_negative()),
            Support::Set(vs) => vs.iter().all(|v| !v.is_negative()),
            _ => false,
        }
    }

    /// Is the support a subset of {0, 1}?
    pub fn is_binary(&self) -> bool {
        match self {
            Support::Set(vs) => vs
                .iter()
                .all(|v| v.is_zero() || *v == Rational::from_integer(1.into())),
            Support::Integers { lo, hi: Some(hi) } => {
                lo.as_int().is_some_and(|l| l >= 0) && hi.as_int().is_some_and(|h| h <= 1)
            }
            _ => false,
        }
    }

    /// Human label: `real`, `positive`, `count`, `0..n`, `{0, 1}`, ...
    pub fn label(&self) -> String {
        let show =
            |e: &Option<Expr>, inf: &str| e.as_ref().map_or(inf.to_string(), |e| e.to_string());
        match self {
            Support::Continuous { lo: None, hi: None } => "real".into(),
            Support::Continuous {
                lo: Some(l),
                hi: None,
            } if l.is_zero() => "positive".into(),
            Support::Continuous {
                lo: Some(l),
                hi: Some(h),
            } if l.is_zero() && h.is_one() => "unit".into(),
            Support::Continuous { lo, hi } => {
                format!("({}, {})", show(lo, "-inf"), show(hi, "inf"))
            }
            Support::Integers { lo, hi: None } if lo.is_zero() => "count".into(),
            Support::Integers { lo, hi } => format!(
                "{}..{}",
                lo,
                hi.as_ref().map_or(String::new(), |h| h.to_string())
            ),
            Support::Set(vs) => format!(
                "{{{}}}",
                vs.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Support::Simplex { dim, .. } => format!("simplex({dim})"),
        }
    }

    /// Variables the support's bounds depend on.
    pub fn bound_vars(&self) -> Vec<Name> {
        let mut out = Vec::new();
        let mut add = |e: &Option<Expr>| {
            if let Some(e) = e {
                out.extend(e.free_vars());
            }
        };
        match self {
            Support::Continuous { lo, hi } => {
                add(lo);
                add(hi);
            }
            Support::Integers { lo, hi } => {
                add(&Some(lo.clone()));
                add(hi);
            }
            _ => {}
        }
        out.sort();
        out.dedup();
        out
    }
}

/// A scalar parameter (indexed declarations are unrolled).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Name, `a[2]` for an element of an indexed declaration.
    pub name: Name,
    /// Domain.
    pub domain: Domain,
    /// Declaration.
    pub span: Span,
}

/// A scalar data variable.
#[derive(Clone, Debug, PartialEq)]
pub struct DataVar {
    /// Name, `x[2]` for an element of an indexed declaration.
    pub name: Name,
    /// Support.
    pub support: Support,
    /// Declaration.
    pub span: Span,
}

/// A scalar covariate: known, not modelled.
#[derive(Clone, Debug, PartialEq)]
pub struct Covariate {
    /// Name.
    pub name: Name,
    /// Domain.
    pub domain: Domain,
    /// Declaration.
    pub span: Span,
}

/// A known constant, kept symbolic in formulas and substituted for numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstDecl {
    /// Name.
    pub name: Name,
    /// Exact value.
    pub value: Rational,
    /// Declaration.
    pub span: Span,
}

impl ConstDecl {
    /// The value as `f64`.
    pub fn value_f64(&self) -> f64 {
        self.value.to_f64().unwrap_or(f64::NAN)
    }
}

/// An argument of a family: a scalar, or a vector (Dirichlet's α, a
/// categorical's probabilities).
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// A scalar expression.
    Scalar(Expr),
    /// A vector of expressions.
    Vector(Vec<Expr>),
}

impl Arg {
    /// The scalar, if it is one.
    pub fn scalar(&self) -> Option<&Expr> {
        match self {
            Arg::Scalar(e) => Some(e),
            Arg::Vector(_) => None,
        }
    }

    /// Every expression of the argument.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Arg::Scalar(e) => vec![e],
            Arg::Vector(v) => v.iter().collect(),
        }
    }
}

/// Where a term of the log-density came from.
#[derive(Clone, Debug, PartialEq)]
pub enum TermSource {
    /// `x ~ family(args)`.
    Family {
        /// The library family's name.
        family: &'static str,
        /// The data variables on the left (one, or a vector's components).
        data: Vec<Name>,
        /// The arguments, lowered.
        args: Vec<Arg>,
    },
    /// `logp += expr`.
    Raw,
}

/// One term of the log-density.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// What produced it.
    pub source: TermSource,
    /// Its log-density contribution.
    pub logp: Expr,
    /// The statement.
    pub span: Span,
}

/// A top-level scalar `let`, kept by name after inlining (so a fit can
/// predict it: `fimkit fit --predict-expr NAME`).
#[derive(Clone, Debug, PartialEq)]
pub struct LetDecl {
    /// Name.
    pub name: Name,
    /// Its value, earlier lets inlined (constants kept symbolic).
    pub value: Expr,
    /// Declaration.
    pub span: Span,
}

/// Alternative coordinates: the model's parameters as functions of new ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Coords {
    /// The coordinate system's name.
    pub name: String,
    /// The new parameters.
    pub params: Vec<Param>,
    /// For each model parameter, in model order, its expression in the new ones.
    pub map: Vec<(Name, Expr)>,
    /// The block.
    pub span: Span,
}

/// A resolved model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Display name (the `model` header, else the file stem).
    pub name: String,
    /// Constants.
    pub consts: Vec<ConstDecl>,
    /// Parameters, in declaration order (the order of θ).
    pub params: Vec<Param>,
    /// Data variables.
    pub data: Vec<DataVar>,
    /// Covariates.
    pub covariates: Vec<Covariate>,
    /// Terms of the log-density, in statement order.
    pub terms: Vec<Term>,
    /// The whole log-density: the sum of the terms.
    pub logp: Expr,
    /// Alternative coordinate systems.
    pub coords: Vec<Coords>,
    /// Top-level scalar `let` bindings, in statement order (their uses
    /// are inlined; these are only for naming them afterwards).
    pub lets: Vec<LetDecl>,
}

impl Model {
    /// Parameter names in order.
    pub fn param_names(&self) -> Vec<Name> {
        self.params.iter().map(|p| p.name.clone()).collect()
    }

    /// The first data variable whose support mentions a parameter, with
    /// that parameter: the model is not regular there (no Fisher
    /// information, closed form or numeric).
    pub fn irregular_support(&self) -> Option<(&DataVar, Name)> {
        let params = self.param_names();
        self.data.iter().find_map(|d| {
            d.support
                .bound_vars()
                .into_iter()
                .find(|v| params.contains(v))
                .map(|p| (d, p))
        })
    }

    /// The constant's value, if `name` is a constant.
    pub fn const_value(&self, name: &str) -> Option<&Rational> {
        self.consts
            .iter()
            .find(|c| &*c.name == name)
            .map(|c| &c.value)
    }

    /// The log-density with every constant replaced by its value.
    pub fn logp_numeric(&self) -> Expr {
        self.substitute_consts(&self.logp)
    }

    /// Replace constants by their exact values.
    pub fn substitute_consts(&self, e: &Expr) -> Expr {
        e.substitute(&|v| self.const_value(v).map(|r| Expr::Num(r.clone())))
    }

    /// Look up a data variable.
    pub fn data_var(&self, name: &str) -> Option<&DataVar> {
        self.data.iter().find(|d| &*d.name == name)
    }

    /// Look up a top-level scalar `let` (the last binding of the name).
    pub fn let_decl(&self, name: &str) -> Option<&LetDecl> {
        self.lets.iter().rev().find(|l| &*l.name == name)
    }

    /// Look up a parameter.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| &*p.name == name)
    }
}
