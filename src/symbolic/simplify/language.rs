//! The e-graph language of the IR, and conversions [`Expr`] ⇄ [`RecExpr`].
//!
//! Sums and products are binary here (`+`, `*`), so the rules can reach any
//! regrouping through commutativity and associativity; a difference is
//! `a + (-1)·b` and a quotient `a · b^-1`, exactly as in the IR. Going back
//! goes through the IR's canonical constructors, so the result is canonical.

use crate::ir::expr::{Constant, Expr, Func, Rational};
use egg::{Id, RecExpr, Symbol};
use num_traits::Signed;
use std::fmt;
use std::str::FromStr;

/// An exact rational constant of the e-graph (hashable and ordered, unlike
/// floating point).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Num(pub Rational);

/// Numerator and denominator ([`crate::exact::hash_rational`]), without
/// `Ratio`'s bignum divisions: the e-graph hashes every node it adds.
impl std::hash::Hash for Num {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        crate::exact::hash_rational(&self.0, state)
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Num {
    type Err = String;
    /// `3`, `-1`, `1/2`, `-3/4`.
    fn from_str(s: &str) -> Result<Num, String> {
        let bad = || format!("not a rational number: {s}");
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || b == b'/') {
            return Err(bad());
        }
        let r: Rational = body.parse().map_err(|_| bad())?;
        Ok(Num(if neg { -r } else { r }))
    }
}

/// A named constant of the e-graph: `pi`, `e`, `eulergamma`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Named(pub Constant);

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.name())
    }
}

impl FromStr for Named {
    type Err = String;
    fn from_str(s: &str) -> Result<Named, String> {
        match s {
            "pi" => Ok(Named(Constant::Pi)),
            "e" => Ok(Named(Constant::E)),
            "eulergamma" => Ok(Named(Constant::EulerGamma)),
            _ => Err(format!("not a named constant: {s}")),
        }
    }
}

pub use math::Math;

/// The enum lives in its own module because `define_language!` cannot
/// carry a doc comment per variant; the operator strings document them.
mod math {
    #![expect(missing_docs, reason = "define_language! takes no variant docs")]
    use super::{Named, Num};
    use egg::{Id, Symbol, define_language};

    define_language! {
        /// The IR as an e-graph language: binary `+ * ^`, one operator per
        /// [`Func`], exact numbers, named constants and variables.
        pub enum Math {
            "+" = Add([Id; 2]),
            "*" = Mul([Id; 2]),
            "^" = Pow([Id; 2]),
            "log" = Log(Id),
            "exp" = Exp(Id),
            "log1p" = Log1p(Id),
            "expm1" = Expm1(Id),
            "sigmoid" = Sigmoid(Id),
            "lgamma" = Lgamma(Id),
            "polygamma" = Polygamma([Id; 2]),
            "lbeta" = Lbeta([Id; 2]),
            "erf" = Erf(Id),
            "erfc" = Erfc(Id),
            "sin" = Sin(Id),
            "cos" = Cos(Id),
            "besseli" = BesselI([Id; 2]),
            "abs" = Abs(Id),
            "Phi" = NormalCdf(Id),
            "indicator" = Indicator([Id; 2]),
            Num(Num),
            Named(Named),
            Symbol(Symbol),
        }
    }
}

impl Math {
    /// The function a call node applies, with its argument ids.
    pub fn as_call(&self) -> Option<(Func, Vec<Id>)> {
        let one = |f, a: &Id| Some((f, vec![*a]));
        let two = |f, a: &[Id; 2]| Some((f, a.to_vec()));
        match self {
            Math::Log(a) => one(Func::Log, a),
            Math::Exp(a) => one(Func::Exp, a),
            Math::Log1p(a) => one(Func::Log1p, a),
            Math::Expm1(a) => one(Func::Expm1, a),
            Math::Sigmoid(a) => one(Func::Sigmoid, a),
            Math::Lgamma(a) => one(Func::Lgamma, a),
            Math::Polygamma(a) => two(Func::Polygamma, a),
            Math::Lbeta(a) => two(Func::Lbeta, a),
            Math::Erf(a) => one(Func::Erf, a),
            Math::Erfc(a) => one(Func::Erfc, a),
            Math::Sin(a) => one(Func::Sin, a),
            Math::Cos(a) => one(Func::Cos, a),
            Math::BesselI(a) => two(Func::BesselI, a),
            Math::Abs(a) => one(Func::Abs, a),
            Math::NormalCdf(a) => one(Func::NormalCdf, a),
            Math::Indicator(a) => two(Func::Indicator, a),
            Math::Add(_)
            | Math::Mul(_)
            | Math::Pow(_)
            | Math::Num(_)
            | Math::Named(_)
            | Math::Symbol(_) => None,
        }
    }

    /// The call node applying `f` to `args` (as many as `f` takes).
    pub fn call(f: Func, args: &[Id]) -> Math {
        let a = args[0];
        let pair = || [args[0], args[1]];
        match f {
            Func::Log => Math::Log(a),
            Func::Exp => Math::Exp(a),
            Func::Log1p => Math::Log1p(a),
            Func::Expm1 => Math::Expm1(a),
            Func::Sigmoid => Math::Sigmoid(a),
            Func::Lgamma => Math::Lgamma(a),
            Func::Polygamma => Math::Polygamma(pair()),
            Func::Lbeta => Math::Lbeta(pair()),
            Func::Erf => Math::Erf(a),
            Func::Erfc => Math::Erfc(a),
            Func::Sin => Math::Sin(a),
            Func::Cos => Math::Cos(a),
            Func::BesselI => Math::BesselI(pair()),
            Func::Abs => Math::Abs(a),
            Func::NormalCdf => Math::NormalCdf(a),
            Func::Indicator => Math::Indicator(pair()),
            // `add_expr` gives egg an internal function's definition, so
            // none reaches here; an opaque symbol if one did.
            Func::LogNormalCdf
            | Func::LogSigmoid
            | Func::LogBesselI
            | Func::Mills
            | Func::MillsShift => Math::Symbol(Symbol::from(f.name())),
        }
    }

    /// The node for an exact number.
    pub fn num(r: Rational) -> Math {
        Math::Num(Num(r))
    }

    /// The number, if this is a number node.
    pub fn as_num(&self) -> Option<&Rational> {
        match self {
            Math::Num(Num(r)) => Some(r),
            _ => None,
        }
    }

    /// Is this a negative number node?
    pub fn is_negative_num(&self) -> bool {
        self.as_num().is_some_and(Signed::is_negative)
    }
}

/// Add `e` to `out`, n-ary sums and products as right-nested binary nodes;
/// returns the id of the root.
pub fn add_expr(e: &Expr, out: &mut RecExpr<Math>) -> Id {
    match e {
        Expr::Num(r) => out.add(Math::num(r.clone())),
        Expr::Const(c) => out.add(Math::Named(Named(*c))),
        Expr::Var(v) => out.add(Math::Symbol(Symbol::from(&**v))),
        Expr::Add(ts) | Expr::Mul(ts) => {
            let ids: Vec<Id> = ts.iter().map(|t| add_expr(t, out)).collect();
            let is_add = matches!(e, Expr::Add(_));
            let mut it = ids.into_iter().rev();
            let mut acc = it.next().expect("sums and products have terms");
            for id in it {
                acc = out.add(if is_add {
                    Math::Add([id, acc])
                } else {
                    Math::Mul([id, acc])
                });
            }
            acc
        }
        Expr::Pow(b, x) => {
            let b = add_expr(b, out);
            let x = add_expr(x, out);
            out.add(Math::Pow([b, x]))
        }
        Expr::Call(f, args) if f.is_internal() => match f.definition(args) {
            Some(def) => add_expr(&def, out),
            None => out.add(Math::Symbol(Symbol::from(f.name()))),
        },
        Expr::Call(f, args) => {
            let ids: Vec<Id> = args.iter().map(|a| add_expr(a, out)).collect();
            out.add(Math::call(*f, &ids))
        }
    }
}

/// `e` as a [`RecExpr`].
///
/// ```
/// use fimkit::ir::Expr;
/// use fimkit::symbolic::simplify::{from_rec_expr, to_rec_expr};
/// let e = Expr::div(Expr::var("x") - Expr::var("mu"), Expr::powi(Expr::var("sigma"), 2));
/// let r = to_rec_expr(&e);
/// assert_eq!(r.to_string(), "(* -1 (* (+ mu (* -1 x)) (^ sigma -2)))");
/// assert_eq!(from_rec_expr(&r), e);
/// ```
pub fn to_rec_expr(e: &Expr) -> RecExpr<Math> {
    let mut out = RecExpr::default();
    add_expr(e, &mut out);
    out
}

/// Build the IR expression of a [`RecExpr`] through the canonical
/// constructors.
pub fn from_rec_expr(r: &RecExpr<Math>) -> Expr {
    let nodes = r.as_ref();
    if nodes.is_empty() {
        return Expr::zero();
    }
    let mut built: Vec<Option<Expr>> = vec![None; nodes.len()];
    build(nodes, Id::from(nodes.len() - 1), &mut built)
}

/// The expression of node `id`, each node built once. A chain of binary
/// sums (or products) becomes one n-ary sum built at once: adding the
/// terms one by one re-sorts the growing sum each time, quadratic in a
/// log-density of 1,000 terms.
fn build(nodes: &[Math], id: Id, built: &mut Vec<Option<Expr>>) -> Expr {
    if let Some(e) = &built[usize::from(id)] {
        return e.clone();
    }
    let e = match &nodes[usize::from(id)] {
        Math::Num(Num(r)) => Expr::num(r.clone()),
        Math::Named(Named(c)) => Expr::Const(*c),
        Math::Symbol(s) => Expr::var(s.as_str()),
        Math::Add(_) => {
            let mut leaves = Vec::new();
            chain(nodes, id, &|m| matches!(m, Math::Add(_)), &mut leaves);
            Expr::add(leaves.into_iter().map(|l| build(nodes, l, built)).collect())
        }
        Math::Mul(_) => {
            let mut leaves = Vec::new();
            chain(nodes, id, &|m| matches!(m, Math::Mul(_)), &mut leaves);
            Expr::mul(leaves.into_iter().map(|l| build(nodes, l, built)).collect())
        }
        Math::Pow([a, b]) => {
            let (a, b) = (build(nodes, *a, built), build(nodes, *b, built));
            Expr::pow(a, b)
        }
        call => {
            let (f, ids) = call.as_call().expect("every other node is a call");
            let args = ids.iter().map(|i| build(nodes, *i, built)).collect();
            Expr::call(f, args)
        }
    };
    built[usize::from(id)] = Some(e.clone());
    e
}

/// The operands of a chain of the same binary operation, left to right.
/// (Iterative: a sum of 100,000 terms is a chain that deep.)
fn chain(nodes: &[Math], id: Id, same: &dyn Fn(&Math) -> bool, out: &mut Vec<Id>) {
    let mut stack = vec![id];
    while let Some(id) = stack.pop() {
        let node = &nodes[usize::from(id)];
        match node {
            Math::Add([a, b]) | Math::Mul([a, b]) if same(node) => {
                stack.push(*b);
                stack.push(*a);
            }
            _ => out.push(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_through_text() {
        for s in ["0", "3", "-1", "1/2", "-3/4"] {
            assert_eq!(s.parse::<Num>().unwrap().to_string(), s);
        }
        assert!("x".parse::<Num>().is_err());
        assert!("-".parse::<Num>().is_err());
        let pat: RecExpr<Math> = "(+ x (* -1/2 (^ pi e)))".parse().unwrap();
        assert!(matches!(pat.as_ref()[1], Math::Num(_)));
        assert!(matches!(pat.as_ref()[3], Math::Named(_)));
    }

    #[test]
    fn conversion_round_trips() {
        let (x, y) = (Expr::var("x"), Expr::var("a[1]"));
        let e = Expr::add(vec![
            Expr::lgamma(Expr::add2(x.clone(), Expr::one())),
            Expr::call(Func::Polygamma, vec![Expr::int(1), y.clone()]),
            Expr::mul(vec![Expr::int(3), x.clone(), Expr::sqrt(y.clone())]),
            Expr::Const(Constant::Pi),
        ]);
        assert_eq!(from_rec_expr(&to_rec_expr(&e)), e);
    }
}
