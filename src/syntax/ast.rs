//! The spanned abstract syntax tree produced by the parser.
//!
//! The AST mirrors the source: names are strings, nothing is resolved, and
//! every node carries the byte range it came from so later stages can point
//! at it.

use crate::diagnostic::Span;
use crate::exact::Rational;

/// A name with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The text of the name.
    pub name: String,
    /// Where it appears.
    pub span: Span,
}

/// A parsed model file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// The `model Name` header, when present.
    pub header: Option<Ident>,
    /// Statements in source order.
    pub statements: Vec<Stmt>,
}

/// A declared name, optionally indexed (`a[1..K]`).
#[derive(Clone, Debug, PartialEq)]
pub struct DeclName {
    /// The name.
    pub ident: Ident,
    /// `[lo..hi]`, when the name is indexed.
    pub range: Option<Range>,
}

/// `lo..hi` with both ends given.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    /// First index (inclusive).
    pub lo: AstExpr,
    /// Last index (inclusive).
    pub hi: AstExpr,
    /// The whole range.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `const NAME = expr`.
    Const {
        /// The constant's name.
        name: Ident,
        /// Its value.
        value: AstExpr,
        /// The whole statement.
        span: Span,
    },
    /// `param NAME : DOMAIN`.
    Param {
        /// The declared name.
        name: DeclName,
        /// Its domain.
        domain: Domain,
        /// The whole statement.
        span: Span,
    },
    /// `data NAME : SUPPORT`.
    Data {
        /// The declared name.
        name: DeclName,
        /// Its support.
        support: Support,
        /// The whole statement.
        span: Span,
    },
    /// `covariate NAME : DOMAIN`.
    Covariate {
        /// The declared name.
        name: DeclName,
        /// Its domain.
        domain: Domain,
        /// The whole statement.
        span: Span,
    },
    /// `let NAME = expr`.
    Let {
        /// The bound name.
        name: Ident,
        /// Its definition.
        value: AstExpr,
        /// The whole statement.
        span: Span,
    },
    /// `logp += expr`.
    Logp {
        /// The added term.
        value: AstExpr,
        /// The whole statement.
        span: Span,
    },
    /// `target ~ family(args)`.
    Sample {
        /// The data on the left.
        target: Target,
        /// The family name.
        family: Ident,
        /// Family arguments.
        args: Vec<AstExpr>,
        /// The whole statement.
        span: Span,
    },
    /// `for k in lo..hi { ... }`.
    For {
        /// The loop variable.
        var: Ident,
        /// Its range.
        range: Range,
        /// The repeated statements.
        body: Vec<Stmt>,
        /// The whole statement.
        span: Span,
    },
    /// `coords NAME { ... }`.
    Coords {
        /// The coordinate system's name.
        name: Ident,
        /// New parameters.
        params: Vec<(DeclName, Domain, Span)>,
        /// Old parameters as functions of the new ones.
        maps: Vec<(Target, AstExpr, Span)>,
        /// The whole block.
        span: Span,
    },
}

/// The left side of `~` or of a coordinate map: `x` or `x[k]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The name.
    pub ident: Ident,
    /// The index, when given.
    pub index: Option<AstExpr>,
    /// The whole target.
    pub span: Span,
}

/// A parameter's or covariate's domain.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// The real line.
    Real(Span),
    /// `(0, inf)`.
    Positive(Span),
    /// `(-inf, 0)`.
    Negative(Span),
    /// `(0, 1)`.
    Unit(Span),
    /// An open interval.
    Interval(AstExpr, AstExpr, Span),
}

/// A data variable's support.
#[derive(Clone, Debug, PartialEq)]
pub enum Support {
    /// The real line.
    Real(Span),
    /// `(0, inf)`.
    Positive(Span),
    /// `(0, 1)`.
    Unit(Span),
    /// `0, 1, 2, ...`.
    Count(Span),
    /// The probability simplex (indexed data only).
    Simplex(Span),
    /// An open interval of reals.
    Interval(AstExpr, AstExpr, Span),
    /// A finite set of integers.
    Set(Vec<AstExpr>, Span),
    /// Integers `lo..hi`, or `lo..` when `hi` is absent.
    IntRange(AstExpr, Option<AstExpr>, Span),
}

impl Domain {
    /// Source location.
    pub fn span(&self) -> Span {
        match self {
            Domain::Real(s)
            | Domain::Positive(s)
            | Domain::Negative(s)
            | Domain::Unit(s)
            | Domain::Interval(_, _, s) => *s,
        }
    }
}

impl Support {
    /// Source location.
    pub fn span(&self) -> Span {
        match self {
            Support::Real(s)
            | Support::Positive(s)
            | Support::Unit(s)
            | Support::Count(s)
            | Support::Simplex(s)
            | Support::Interval(_, _, s)
            | Support::Set(_, s)
            | Support::IntRange(_, _, s) => *s,
        }
    }
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

/// `sum` or `prod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// `sum(k in a..b, e)`
    Sum,
    /// `prod(k in a..b, e)`
    Prod,
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct AstExpr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A numeric literal, exact.
    Number(Rational),
    /// A name.
    Name(String),
    /// `name[index]`.
    Index(Ident, Box<AstExpr>),
    /// `-e`.
    Neg(Box<AstExpr>),
    /// `a op b`. The parser builds it for `^` only; chains of `+ -` and of
    /// `* /` are [`ExprKind::Chain`].
    Binary(BinOp, Box<AstExpr>, Box<AstExpr>),
    /// `a op b op c ...`: a left-associative chain of operators of one
    /// precedence level, all `+ -` or all `* /` (`a - b + c` is
    /// `Chain(a, [(Sub, b), (Add, c)])`). Flat, so that a sum of thousands
    /// of terms is not thousands of levels deep.
    Chain(Box<AstExpr>, Vec<(BinOp, AstExpr)>),
    /// `f(args)`.
    Call(Ident, Vec<AstExpr>),
    /// `sum(k in range, body)` / `prod(...)`.
    Reduce(Reduce, Ident, Box<Range>, Box<AstExpr>),
    /// `[a, b, c]`.
    Vector(Vec<AstExpr>),
}

/// Binding strength of a printed expression: higher binds tighter.
fn precedence(e: &AstExpr) -> u8 {
    match &e.kind {
        ExprKind::Binary(BinOp::Add | BinOp::Sub, ..) => 1,
        ExprKind::Binary(BinOp::Mul | BinOp::Div, ..) => 2,
        ExprKind::Chain(_, rest) => match rest.first() {
            Some((BinOp::Add | BinOp::Sub, _)) => 1,
            Some((BinOp::Mul | BinOp::Div, _)) => 2,
            _ => 5,
        },
        ExprKind::Number(r) if !r.is_integer() => 2,
        ExprKind::Neg(_) => 3,
        ExprKind::Binary(BinOp::Pow, ..) => 4,
        _ => 5,
    }
}

/// Prints the expression as model-language source, with the parentheses
/// the precedence rules need (`-x^2`, `(a + b)*c`, `a - (b - c)`).
///
/// ```
/// let f = fimkit::syntax::parse("param t : (-pi, 2*(1 + 1))\n").unwrap();
/// let fimkit::syntax::ast::Stmt::Param { domain, .. } = &f.statements[0] else { panic!() };
/// let fimkit::syntax::ast::Domain::Interval(lo, hi, _) = domain else { panic!() };
/// assert_eq!(format!("({lo}, {hi})"), "(-pi, 2*(1 + 1))");
/// let f = fimkit::syntax::parse("const c = 1 - (2 - 3) + 4/(5*6)/7\n").unwrap();
/// let fimkit::syntax::ast::Stmt::Const { value, .. } = &f.statements[0] else { panic!() };
/// assert_eq!(value.to_string(), "1 - (2 - 3) + 4/(5*6)/7");
/// ```
impl std::fmt::Display for AstExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let wrap = |f: &mut std::fmt::Formatter<'_>, e: &AstExpr, parens: bool| {
            if parens {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        };
        let list = |f: &mut std::fmt::Formatter<'_>, xs: &[AstExpr]| {
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            Ok(())
        };
        match &self.kind {
            ExprKind::Number(r) => write!(f, "{r}"),
            ExprKind::Name(n) => f.write_str(n),
            ExprKind::Index(id, ix) => write!(f, "{}[{ix}]", id.name),
            ExprKind::Neg(a) => {
                f.write_str("-")?;
                wrap(f, a, precedence(a) <= 3)
            }
            ExprKind::Binary(op, a, b) => {
                let p = precedence(self);
                let (sym, right_assoc) = match op {
                    BinOp::Add => (" + ", false),
                    BinOp::Sub => (" - ", false),
                    BinOp::Mul => ("*", false),
                    BinOp::Div => ("/", false),
                    BinOp::Pow => ("^", true),
                };
                let (pa, pb) = (precedence(a), precedence(b));
                wrap(f, a, pa < p || (right_assoc && pa == p))?;
                f.write_str(sym)?;
                let rhs_parens = pb < p
                    || (!right_assoc && pb == p && matches!(op, BinOp::Sub | BinOp::Div))
                    || (matches!(op, BinOp::Pow) && pb == 3);
                wrap(f, b, rhs_parens)
            }
            ExprKind::Chain(first, rest) => {
                let p = precedence(self);
                wrap(f, first, precedence(first) < p)?;
                for (op, b) in rest {
                    f.write_str(match op {
                        BinOp::Add => " + ",
                        BinOp::Sub => " - ",
                        BinOp::Mul => "*",
                        BinOp::Div => "/",
                        BinOp::Pow => "^",
                    })?;
                    let pb = precedence(b);
                    wrap(
                        f,
                        b,
                        pb < p || (pb == p && matches!(op, BinOp::Sub | BinOp::Div)),
                    )?;
                }
                Ok(())
            }
            ExprKind::Call(g, args) => {
                write!(f, "{}(", g.name)?;
                list(f, args)?;
                f.write_str(")")
            }
            ExprKind::Reduce(op, var, range, body) => {
                let name = match op {
                    Reduce::Sum => "sum",
                    Reduce::Prod => "prod",
                };
                write!(
                    f,
                    "{name}({} in {}..{}, {body})",
                    var.name, range.lo, range.hi
                )
            }
            ExprKind::Vector(xs) => {
                f.write_str("[")?;
                list(f, xs)?;
                f.write_str("]")
            }
        }
    }
}
