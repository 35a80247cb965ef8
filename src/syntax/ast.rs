//! The spanned abstract syntax tree produced by the parser.
//!
//! The AST mirrors the source: names are strings, nothing is resolved, and
//! every node carries the byte range it came from so later stages can point
//! at it.

use crate::diagnostic::Span;
use crate::ir::expr::Rational;

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
    /// `a op b`.
    Binary(BinOp, Box<AstExpr>, Box<AstExpr>),
    /// `f(args)`.
    Call(Ident, Vec<AstExpr>),
    /// `sum(k in range, body)` / `prod(...)`.
    Reduce(Reduce, Ident, Box<Range>, Box<AstExpr>),
    /// `[a, b, c]`.
    Vector(Vec<AstExpr>),
}
