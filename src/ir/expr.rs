//! The symbolic expression IR shared by every stage after parsing.
//!
//! An [`Expr`] is an immutable tree kept in a *canonical form* by its smart
//! constructors ([`Expr::add`], [`Expr::mul`], [`Expr::pow`], [`Expr::call`]):
//!
//! * constants are exact rationals (`1/3` stays `1/3`), plus the named
//!   constants π, e and Euler's γ;
//! * sums and products are n-ary, flattened and sorted by one total order;
//! * like terms are collected in sums (`2x + 3x = 5x`) and like bases in
//!   products (`x² · x⁻¹ = x`); the numeric coefficient of a product comes first;
//! * subtraction is `a + (-1)·b`, division is `a · b⁻¹`, `sqrt(x)` is `x^(1/2)`.
//!
//! Trivial simplifications therefore never depend on e-graph luck; the egg
//! stage only looks for *nicer* forms.
//!
//! ```
//! use fimkit::ir::Expr;
//! let x = Expr::var("x");
//! let e = Expr::add(vec![x.clone(), x.clone(), Expr::int(1), Expr::rational(1, 3)]);
//! assert_eq!(e.to_string(), "4/3 + 2*x");
//! assert_eq!(Expr::div(x.clone(), x.clone()), Expr::one());
//! ```

use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive, Zero};

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::memo::ScopedMemo;

/// Most terms [`Expr::expand`] multiplies one product (or power of a sum)
/// out into; a larger one stays as it is.
const MAX_EXPANDED_TERMS: usize = 4096;

thread_local! {
    /// Results of [`Expr::expand`] while a [`with_expand_memo`] scope is
    /// open on this thread; at most 50 000 per scope.
    static EXPAND_MEMO: ScopedMemo<Expr, Expr> = const { ScopedMemo::new(50_000) };
}

/// Run `f` with [`Expr::expand`] memoised on this thread: the symbolic
/// derivation expands the same sums again and again (a tidy step, its
/// common denominators and its grouped fractions each start from the
/// expansion of one expression). The memo lives for the scope only (and is
/// empty at its start), so a computation costs the same every time; the
/// results do not depend on it.
///
/// ```
/// use fimkit::ir::{Expr, expr::with_expand_memo};
/// let (x, y) = (Expr::var("x"), Expr::var("y"));
/// let e = Expr::powi(x + y, 2);
/// assert_eq!(with_expand_memo(|| e.expand()), e.expand());
/// ```
pub fn with_expand_memo<T>(f: impl FnOnce() -> T) -> T {
    ScopedMemo::scope(&EXPAND_MEMO, f)
}

/// Exact numbers (`Rational`, `parse_decimal`) live on the ground floor.
pub use crate::exact::{Rational, parse_decimal};

/// A variable name (parameter, data, covariate or constant).
pub type Name = Arc<str>;

/// Named mathematical constants kept symbolic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Constant {
    /// π
    Pi,
    /// Euler's number e
    E,
    /// Euler–Mascheroni constant γ
    EulerGamma,
}

impl Constant {
    /// The constant's value as `f64`.
    pub fn value(self) -> f64 {
        match self {
            Constant::Pi => std::f64::consts::PI,
            Constant::E => std::f64::consts::E,
            Constant::EulerGamma => 0.577_215_664_901_532_9,
        }
    }

    /// The name used in plain-text output.
    pub fn name(self) -> &'static str {
        match self {
            Constant::Pi => "pi",
            Constant::E => "e",
            Constant::EulerGamma => "eulergamma",
        }
    }
}

/// Functions of the model language.
///
/// `digamma(x)` and `trigamma(x)` are `polygamma(0, x)` and `polygamma(1, x)`;
/// `sqrt` is a power; so one derivative rule covers each family of functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Func {
    /// Natural logarithm.
    Log,
    /// Exponential.
    Exp,
    /// `log(1 + x)`.
    Log1p,
    /// `exp(x) - 1`.
    Expm1,
    /// Logistic function `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `log Γ(x)`.
    Lgamma,
    /// `polygamma(n, x)`, the n-th derivative of the digamma function.
    Polygamma,
    /// `log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b)`.
    Lbeta,
    /// Error function.
    Erf,
    /// Complementary error function.
    Erfc,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Modified Bessel function of the first kind `I_nu(x)`.
    BesselI,
    /// Absolute value.
    Abs,
    /// Standard normal cumulative distribution function `Φ(x)`.
    NormalCdf,
    /// Iverson bracket `[x = k]`: 1 when the data value `x` equals `k`, else 0.
    Indicator,
    // ----- internal: produced only by `symbolic::stable` for the evaluators;
    // never parsed, never shown (rendered as their `definition`).
    /// `log Φ(u)`, finite where `Φ(u)` underflows.
    LogNormalCdf,
    /// `log σ(u)`, finite where `σ(u)` underflows.
    LogSigmoid,
    /// `log I_ν(x)`, finite where `I_ν(x)` overflows.
    LogBesselI,
    /// The inverse Mills ratio `r(u) = φ(u)/Φ(u) = (log Φ)'(u)`.
    Mills,
    /// `u + r(u)`, without the cancellation of the sum in the lower tail
    /// (`(log Φ)'' = -r(u)·(u + r(u))`).
    MillsShift,
}

impl Func {
    /// Number of arguments the function takes.
    pub fn arity(self) -> usize {
        match self {
            Func::Polygamma | Func::Lbeta | Func::BesselI | Func::Indicator | Func::LogBesselI => 2,
            _ => 1,
        }
    }

    /// The canonical name used in plain-text output and in the language.
    pub fn name(self) -> &'static str {
        match self {
            Func::Log => "log",
            Func::Exp => "exp",
            Func::Log1p => "log1p",
            Func::Expm1 => "expm1",
            Func::Sigmoid => "sigmoid",
            Func::Lgamma => "lgamma",
            Func::Polygamma => "polygamma",
            Func::Lbeta => "lbeta",
            Func::Erf => "erf",
            Func::Erfc => "erfc",
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::BesselI => "besseli",
            Func::Abs => "abs",
            Func::NormalCdf => "Phi",
            Func::Indicator => "indicator",
            Func::LogNormalCdf => "log_Phi",
            Func::LogSigmoid => "log_sigmoid",
            Func::LogBesselI => "log_besseli",
            Func::Mills => "mills",
            Func::MillsShift => "mills_shift",
        }
    }

    /// An internal function: made by `symbolic::stable` for the evaluators
    /// only, never part of the language, shown by its [`Func::definition`].
    pub fn is_internal(self) -> bool {
        matches!(
            self,
            Func::LogNormalCdf
                | Func::LogSigmoid
                | Func::LogBesselI
                | Func::Mills
                | Func::MillsShift
        )
    }

    /// What an internal function stands for, in the language's functions
    /// (what messages and renderers show); `None` for a language function.
    pub fn definition(self, args: &[Expr]) -> Option<Expr> {
        if !self.is_internal() || args.len() != self.arity() {
            return None;
        }
        let phi_over_cdf = |u: &Expr| {
            Expr::mul(vec![
                Expr::pow(
                    Expr::mul2(Expr::int(2), Expr::Const(Constant::Pi)),
                    Expr::rational(-1, 2),
                ),
                Expr::exp(Expr::mul2(Expr::rational(-1, 2), Expr::powi(u.clone(), 2))),
                Expr::recip(Expr::call(Func::NormalCdf, vec![u.clone()])),
            ])
        };
        Some(match self {
            Func::LogNormalCdf => Expr::log(Expr::call(Func::NormalCdf, args.to_vec())),
            Func::LogSigmoid => Expr::log(Expr::call(Func::Sigmoid, args.to_vec())),
            Func::LogBesselI => Expr::log(Expr::call(Func::BesselI, args.to_vec())),
            Func::Mills => phi_over_cdf(&args[0]),
            _ => Expr::add2(args[0].clone(), phi_over_cdf(&args[0])),
        })
    }

    /// Every function of the language, in declaration order (the internal
    /// ones, [`Func::is_internal`], are not in it).
    pub const ALL: [Func; 16] = [
        Func::Log,
        Func::Exp,
        Func::Log1p,
        Func::Expm1,
        Func::Sigmoid,
        Func::Lgamma,
        Func::Polygamma,
        Func::Lbeta,
        Func::Erf,
        Func::Erfc,
        Func::Sin,
        Func::Cos,
        Func::BesselI,
        Func::Abs,
        Func::NormalCdf,
        Func::Indicator,
    ];
}

/// A symbolic expression in canonical form. Build it only through the smart
/// constructors so the canonical-form invariants hold.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Expr {
    /// Exact rational constant.
    Num(Rational),
    /// Named constant (π, e, γ).
    Const(Constant),
    /// A named variable.
    Var(Name),
    /// Sum of at least two terms, sorted, at most one numeric term (first).
    Add(Arc<[Expr]>),
    /// Product of at least two factors, sorted, at most one numeric factor (first).
    Mul(Arc<[Expr]>),
    /// `base ^ exponent`.
    Pow(Arc<Expr>, Arc<Expr>),
    /// Function application.
    Call(Func, Arc<[Expr]>),
}

// Expressions cross threads (rayon, the Python bindings): the shared
// children are `Arc`, never `Rc`.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Expr>();
};

/// The children of a node as an owned vector: moved out when this is the
/// only reference to them (no clones), cloned (reference-count bumps for
/// compound children) when they are shared.
pub(crate) fn into_vec(ts: Arc<[Expr]>) -> Vec<Expr> {
    let mut out = Vec::with_capacity(ts.len());
    take_into(ts, &mut out);
    out
}

/// [`into_vec`] appending to `out`.
pub(crate) fn take_into(mut ts: Arc<[Expr]>, out: &mut Vec<Expr>) {
    match Arc::get_mut(&mut ts) {
        // `Const` is a placeholder that costs no allocation; the slice is
        // dropped right after.
        Some(slice) => out.extend(
            slice
                .iter_mut()
                .map(|e| std::mem::replace(e, Expr::Const(Constant::Pi))),
        ),
        None => out.extend(ts.iter().cloned()),
    }
}

/// The derived hash but for numbers, which hash as their numerator and
/// denominator ([`crate::exact::hash_rational`]): `Ratio`'s own hash divides
/// bignums, and every memo and e-graph of a derivation hashes expressions.
impl std::hash::Hash for Expr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Expr::Num(r) => crate::exact::hash_rational(r, state),
            Expr::Const(c) => c.hash(state),
            Expr::Var(v) => v.hash(state),
            Expr::Add(ts) | Expr::Mul(ts) => ts.hash(state),
            Expr::Pow(b, e) => {
                b.hash(state);
                e.hash(state);
            }
            Expr::Call(f, args) => {
                f.hash(state);
                args.hash(state);
            }
        }
    }
}

impl Expr {
    // ----- leaves -------------------------------------------------------

    /// An exact integer.
    pub fn int(n: i64) -> Expr {
        Expr::Num(Rational::from_integer(BigInt::from(n)))
    }

    /// The exact rational `p/q` (`q != 0`).
    pub fn rational(p: i64, q: i64) -> Expr {
        Expr::Num(Rational::new(BigInt::from(p), BigInt::from(q)))
    }

    /// A numeric constant.
    pub fn num(r: Rational) -> Expr {
        Expr::Num(r)
    }

    /// Zero.
    pub fn zero() -> Expr {
        Expr::int(0)
    }

    /// One.
    pub fn one() -> Expr {
        Expr::int(1)
    }

    /// A variable.
    pub fn var(name: &str) -> Expr {
        Expr::Var(Name::from(name))
    }

    /// π.
    pub fn pi() -> Expr {
        Expr::Const(Constant::Pi)
    }

    // ----- queries -------------------------------------------------------

    /// The rational value when the expression is a numeric constant.
    pub fn as_num(&self) -> Option<&Rational> {
        match self {
            Expr::Num(r) => Some(r),
            _ => None,
        }
    }

    /// The value of a closed constant expression (numbers, π, e, and sums,
    /// products, powers, logs and exponentials of them), if it has one.
    pub fn numeric_value(&self) -> Option<f64> {
        match self {
            Expr::Num(r) => r.to_f64(),
            Expr::Const(c) => Some(c.value()),
            Expr::Add(xs) => xs.iter().map(Expr::numeric_value).sum(),
            Expr::Mul(xs) => xs.iter().map(Expr::numeric_value).product(),
            Expr::Pow(b, x) => Some(b.numeric_value()?.powf(x.numeric_value()?)),
            Expr::Call(Func::Log, a) => Some(a[0].numeric_value()?.ln()),
            Expr::Call(Func::Exp, a) => Some(a[0].numeric_value()?.exp()),
            _ => None,
        }
    }

    /// The value when the expression is an integer constant fitting `i64`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Expr::Num(r) if r.is_integer() => r.to_integer().to_i64(),
            _ => None,
        }
    }

    /// True for the constant 0.
    pub fn is_zero(&self) -> bool {
        matches!(self, Expr::Num(r) if r.is_zero())
    }

    /// True for the constant 1.
    pub fn is_one(&self) -> bool {
        matches!(self, Expr::Num(r) if r.is_one())
    }

    /// Split into numeric coefficient and the rest: `3·x·y` → `(3, x·y)`.
    pub fn split_coeff(&self) -> (Rational, Expr) {
        match self {
            Expr::Num(r) => (r.clone(), Expr::one()),
            Expr::Mul(fs) => match &fs[0] {
                Expr::Num(c) => {
                    let rest = if fs.len() == 2 {
                        fs[1].clone()
                    } else {
                        Expr::Mul(fs[1..].into())
                    };
                    (c.clone(), rest)
                }
                _ => (Rational::one(), self.clone()),
            },
            _ => (Rational::one(), self.clone()),
        }
    }

    /// Split into base and exponent: `x^2` → `(x, 2)`, `x` → `(x, 1)`.
    pub fn split_pow(&self) -> (Expr, Expr) {
        match self {
            Expr::Pow(b, e) => ((**b).clone(), (**e).clone()),
            _ => (self.clone(), Expr::one()),
        }
    }

    /// Direct children of this node.
    pub fn children(&self) -> &[Expr] {
        match self {
            Expr::Add(xs) | Expr::Mul(xs) | Expr::Call(_, xs) => xs,
            Expr::Pow(..) | Expr::Num(_) | Expr::Const(_) | Expr::Var(_) => &[],
        }
    }

    /// Does the variable `name` occur in the expression?
    pub fn contains_var(&self, name: &str) -> bool {
        match self {
            Expr::Var(v) => &**v == name,
            Expr::Pow(b, e) => b.contains_var(name) || e.contains_var(name),
            Expr::Num(_) | Expr::Const(_) => false,
            _ => self.children().iter().any(|c| c.contains_var(name)),
        }
    }

    /// Does a variable for which `pred` holds occur in the expression?
    /// (Stops at the first; no list is built.)
    ///
    /// ```
    /// use fimkit::ir::Expr;
    /// let e = Expr::var("b1") * Expr::var("z");
    /// assert!(e.any_var(&|v| v.starts_with('b')));
    /// assert!(!e.any_var(&|v| &**v == "y"));
    /// ```
    pub fn any_var(&self, pred: &dyn Fn(&Name) -> bool) -> bool {
        match self {
            Expr::Var(v) => pred(v),
            Expr::Pow(b, e) => b.any_var(pred) || e.any_var(pred),
            Expr::Num(_) | Expr::Const(_) => false,
            _ => self.children().iter().any(|c| c.any_var(pred)),
        }
    }

    /// Every variable name in the expression, sorted and unique.
    pub fn free_vars(&self) -> Vec<Name> {
        fn walk(e: &Expr, out: &mut Vec<Name>) {
            match e {
                Expr::Var(v) => out.push(v.clone()),
                Expr::Pow(b, x) => {
                    walk(b, out);
                    walk(x, out);
                }
                _ => e.children().iter().for_each(|c| walk(c, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out.sort();
        out.dedup();
        out
    }

    /// Number of operations as the expression prints: each binary
    /// `+ - * / ^`, each function call and each unary minus counts one;
    /// leaves count zero. `x^-2` prints `1/x^2` (two operations), a
    /// negative term of a sum prints as a subtraction (its sign is free),
    /// `-(1 - p)·q` prints as `(p - 1)·q`. This is the size measure of the
    /// simplicity bar: a derived formula must be no larger than the
    /// textbook's.
    ///
    /// ```
    /// use fimkit::ir::Expr;
    /// let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("sigma"));
    /// // (x - mu)/sigma^2: minus, divide, power
    /// assert_eq!(((x - mu) / Expr::powi(s, 2)).op_count(), 3);
    /// ```
    pub fn op_count(&self) -> usize {
        self.ops(false)
    }

    /// `signed`: the sign of a leading negative coefficient is absorbed
    /// (the term prints after a `-` of an enclosing sum).
    fn ops(&self, sign_absorbed: bool) -> usize {
        match self {
            Expr::Num(r) => {
                let sign = usize::from(r.is_negative() && !sign_absorbed);
                sign + usize::from(!r.is_integer())
            }
            Expr::Const(_) | Expr::Var(_) => 0,
            Expr::Add(xs) => {
                // The printer leads with a non-negative term when there is
                // one; every other negative term prints after a `-`.
                let lead = xs.iter().position(|t| !t.prints_negative()).unwrap_or(0);
                xs.len() - 1
                    + xs.iter()
                        .enumerate()
                        .map(|(i, t)| t.ops(i != lead))
                        .sum::<usize>()
            }
            Expr::Mul(fs) => {
                let (coeff, rest) = match &fs[0] {
                    Expr::Num(c) => (Some(c), &fs[1..]),
                    _ => (None, &fs[..]),
                };
                let mut num = 0usize;
                let mut den = 0usize;
                let mut inner = 0usize;
                let mut has_sum = false;
                for f in rest {
                    match f {
                        Expr::Pow(b, e) if e.as_num().is_some_and(|r| r.is_negative()) => {
                            den += 1;
                            inner += Expr::inverse_power_ops(b, e.as_num().expect("a number"));
                        }
                        other => {
                            has_sum |= matches!(other, Expr::Add(_));
                            num += 1;
                            inner += other.ops(false);
                        }
                    }
                }
                if let Some(c) = coeff {
                    let a = c.abs();
                    if !a.numer().is_one() {
                        num += 1;
                    }
                    if !a.denom().is_one() {
                        den += 1;
                    }
                    if c.is_negative() && !sign_absorbed && !has_sum {
                        inner += 1;
                    }
                }
                let num_ops = num.saturating_sub(1);
                let den_ops = if den == 0 { 0 } else { den };
                num_ops + den_ops + inner
            }
            Expr::Pow(b, e) => match e.as_num() {
                Some(r) if crate::exact::is_half(r) => 1 + b.ops(false),
                Some(r) if r.is_negative() => 1 + Expr::inverse_power_ops(b, r),
                _ => 1 + b.ops(false) + e.ops(false),
            },
            Expr::Call(_, xs) => 1 + xs.iter().map(|x| x.ops(false)).sum::<usize>(),
        }
    }

    /// `Expr::pow(b, -e).ops(false)` for a negative number `e` (a
    /// denominator's operations), without building the power when `b` is a
    /// base `pow` leaves as it is: a name, a constant other than e, a call
    /// other than exp, a sum without numeric content. Counting operations
    /// is what every size comparison of the symbolic stages does.
    fn inverse_power_ops(b: &Expr, e: &Rational) -> usize {
        let plain = match b {
            Expr::Var(_) => true,
            Expr::Const(c) => *c != Constant::E,
            Expr::Call(f, _) => *f != Func::Exp,
            Expr::Add(_) => b.numeric_content().is_one(),
            _ => false,
        };
        if !plain {
            return Expr::pow(b.clone(), Expr::Num(-e.clone())).ops(false);
        }
        // `pow(b, k)` is `b` for k = 1, else `b^k`, whose operations the
        // `Pow` arm of `ops` counts.
        let k = -e.clone();
        if k.is_one() {
            b.ops(false)
        } else if crate::exact::is_half(&k) {
            1 + b.ops(false)
        } else {
            1 + b.ops(false) + usize::from(!k.is_integer())
        }
    }

    /// Does the term print with a leading minus?
    fn prints_negative(&self) -> bool {
        match self {
            Expr::Num(r) => r.is_negative(),
            Expr::Mul(fs) => fs[0].as_num().is_some_and(|r| r.is_negative()),
            _ => false,
        }
    }

    /// Number of nodes in the tree.
    pub fn size(&self) -> usize {
        match self {
            Expr::Pow(b, e) => 1 + b.size() + e.size(),
            _ => 1 + self.children().iter().map(Expr::size).sum::<usize>(),
        }
    }

    // ----- canonical constructors ----------------------------------------

    /// `a + b`.
    pub fn add2(a: Expr, b: Expr) -> Expr {
        Expr::add(vec![a, b])
    }

    /// `a - b` (also available as the `-` operator).
    #[expect(
        clippy::should_implement_trait,
        reason = "associated constructor; the operator traits are implemented too"
    )]
    pub fn sub(a: Expr, b: Expr) -> Expr {
        Expr::add(vec![a, Expr::neg(b)])
    }

    /// `-a`.
    #[expect(
        clippy::should_implement_trait,
        reason = "smart constructor, not an operator"
    )]
    pub fn neg(a: Expr) -> Expr {
        Expr::mul(vec![Expr::int(-1), a])
    }

    /// `a · b`.
    pub fn mul2(a: Expr, b: Expr) -> Expr {
        Expr::mul(vec![a, b])
    }

    /// `a / b` (also available as the `/` operator).
    #[expect(
        clippy::should_implement_trait,
        reason = "associated constructor; the operator traits are implemented too"
    )]
    pub fn div(a: Expr, b: Expr) -> Expr {
        Expr::mul(vec![a, Expr::pow(b, Expr::int(-1))])
    }

    /// `1 / a`.
    pub fn recip(a: Expr) -> Expr {
        Expr::pow(a, Expr::int(-1))
    }

    /// `a^n` for an integer `n`.
    pub fn powi(a: Expr, n: i64) -> Expr {
        Expr::pow(a, Expr::int(n))
    }

    /// `sqrt(a)` = `a^(1/2)`.
    pub fn sqrt(a: Expr) -> Expr {
        Expr::pow(a, Expr::rational(1, 2))
    }

    /// `log(a)`.
    pub fn log(a: Expr) -> Expr {
        Expr::call(Func::Log, vec![a])
    }

    /// `exp(a)`.
    pub fn exp(a: Expr) -> Expr {
        Expr::call(Func::Exp, vec![a])
    }

    /// `lgamma(a)`.
    pub fn lgamma(a: Expr) -> Expr {
        Expr::call(Func::Lgamma, vec![a])
    }

    /// `polygamma(n, a)`; `n = 0` is digamma, `n = 1` trigamma.
    pub fn polygamma(n: i64, a: Expr) -> Expr {
        Expr::call(Func::Polygamma, vec![Expr::int(n), a])
    }

    /// Canonical sum: flattened, numbers folded, like terms collected, sorted.
    pub fn add(terms: Vec<Expr>) -> Expr {
        let mut constant = Rational::zero();
        // term (without coefficient) -> coefficient
        let mut collected: BTreeMap<Expr, Rational> = BTreeMap::new();
        let mut stack = terms;
        stack.reverse();
        while let Some(t) = stack.pop() {
            match t {
                Expr::Num(r) => add_assign(&mut constant, r),
                Expr::Add(inner) => {
                    let n = stack.len();
                    take_into(inner, &mut stack);
                    stack[n..].reverse();
                }
                other => {
                    let (c, rest) = other.into_coeff();
                    match collected.entry(rest) {
                        std::collections::btree_map::Entry::Vacant(v) => {
                            v.insert(c);
                        }
                        std::collections::btree_map::Entry::Occupied(mut o) => {
                            add_assign(o.get_mut(), c)
                        }
                    }
                }
            }
        }
        let mut out: Vec<Expr> = Vec::with_capacity(collected.len() + 1);
        if !constant.is_zero() {
            out.push(Expr::Num(constant));
        }
        for (rest, c) in collected {
            if c.is_zero() {
                continue;
            }
            out.push(Expr::scale(c, rest));
        }
        match out.len() {
            0 => Expr::zero(),
            1 => out.pop().expect("one term"),
            // Sorted by (term without coefficient, coefficient): the
            // constant (a number, first in the order) and then the
            // collected terms, whose keys are distinct and already in order.
            _ => Expr::Add(out.into()),
        }
    }

    /// [`Expr::split_coeff`] of an owned expression, without cloning.
    fn into_coeff(self) -> (Rational, Expr) {
        match self {
            Expr::Num(r) => (r, Expr::one()),
            Expr::Mul(fs) if matches!(fs[0], Expr::Num(_)) => {
                let mut fs = into_vec(fs);
                let Expr::Num(c) = fs.remove(0) else {
                    unreachable!("checked to be a number")
                };
                let rest = if fs.len() == 1 {
                    fs.pop().expect("one factor")
                } else {
                    Expr::Mul(fs.into())
                };
                (c, rest)
            }
            other => (Rational::one(), other),
        }
    }

    /// The base of a power (`x` of `x^2`), the expression itself otherwise.
    fn pow_base(&self) -> &Expr {
        match self {
            Expr::Pow(b, _) => b,
            other => other,
        }
    }

    /// A sum whose numeric content is plainly 1, found without arithmetic:
    /// integer coefficients, one of them ±1, the first positive (the
    /// common case; [`Expr::sum_content`] then returns the sum itself).
    fn has_unit_content(&self) -> bool {
        let Expr::Add(terms) = self else {
            return false;
        };
        fn coeff(t: &Expr) -> Option<&Rational> {
            match t {
                Expr::Num(r) => Some(r),
                Expr::Mul(fs) => fs[0].as_num(),
                _ => None,
            }
        }
        coeff(&terms[0]).is_none_or(|c| c.is_positive())
            && terms
                .iter()
                .all(|t| coeff(t).is_none_or(|c| c.is_integer()))
            && terms
                .iter()
                .any(|t| coeff(t).is_none_or(|c| c.numer().magnitude().is_one()))
    }

    /// Split a sum into its numeric content and a primitive sum whose first
    /// term has a positive coefficient and whose coefficients have no
    /// common factor: `-2x + 4y` → `(-2, x - 2y)`. Other expressions give
    /// `(1, self)`.
    pub fn sum_content(&self) -> (Rational, Expr) {
        let content = self.numeric_content();
        let Expr::Add(terms) = self else {
            return (content, self.clone());
        };
        if content.is_one() {
            return (content, self.clone());
        }
        let inv = content.recip();
        let scaled = terms
            .iter()
            .map(|t| {
                let (c, rest) = t.split_coeff();
                Expr::scale(crate::exact::mul(&c, &inv), rest)
            })
            .collect();
        (content, Expr::Add(scaled))
    }

    /// The numeric content of [`Expr::sum_content`] alone, without building
    /// the primitive sum (what [`Expr::pow`] asks of every power of a sum).
    fn numeric_content(&self) -> Rational {
        let Expr::Add(terms) = self else {
            return Rational::one();
        };
        if self.has_unit_content() {
            return Rational::one();
        }
        fn coeff(t: &Expr) -> Option<&Rational> {
            match t {
                Expr::Num(r) => Some(r),
                Expr::Mul(fs) => fs[0].as_num(),
                _ => None,
            }
        }
        let one = Rational::one();
        let mut num_gcd = BigInt::zero();
        let mut den_lcm = BigInt::one();
        for t in terms.iter() {
            let c = coeff(t).unwrap_or(&one);
            num_gcd = num_integer::Integer::gcd(&num_gcd, c.numer());
            den_lcm = num_integer::Integer::lcm(&den_lcm, c.denom());
        }
        let mut content = Rational::new(num_gcd, den_lcm);
        if coeff(&terms[0]).is_some_and(|c| c.is_negative()) {
            content = -content;
        }
        if content.is_one() || content.is_zero() {
            return Rational::one();
        }
        content
    }

    /// `c · rest` where `rest` carries no numeric coefficient.
    fn scale(c: Rational, rest: Expr) -> Expr {
        if c.is_one() {
            return rest;
        }
        match rest {
            Expr::Num(r) => Expr::Num(crate::exact::mul(&c, &r)),
            Expr::Mul(fs) => Expr::Mul(
                std::iter::once(Expr::Num(c))
                    .chain(fs.iter().cloned())
                    .collect(),
            ),
            other => Expr::Mul(Arc::new([Expr::Num(c), other])),
        }
    }

    /// Canonical product: flattened, numbers folded, like bases combined,
    /// a numeric factor distributed over a single sum, sorted.
    pub fn mul(factors: Vec<Expr>) -> Expr {
        let mut coeff = Rational::one();
        let mut bases: BTreeMap<Expr, Vec<Expr>> = BTreeMap::new();
        let mut stack = factors;
        stack.reverse();
        while let Some(f) = stack.pop() {
            match f {
                Expr::Num(r) => {
                    if r.is_zero() {
                        return Expr::zero();
                    }
                    mul_assign(&mut coeff, r);
                }
                Expr::Mul(inner) => {
                    let n = stack.len();
                    take_into(inner, &mut stack);
                    stack[n..].reverse();
                }
                Expr::Pow(b, e) => bases
                    .entry(Arc::unwrap_or_clone(b))
                    .or_default()
                    .push(Arc::unwrap_or_clone(e)),
                other => bases.entry(other).or_default().push(Expr::one()),
            }
        }
        // exp(a)·exp(b) = exp(a + b).
        let exps_of_exp: Vec<Expr> = bases
            .keys()
            .filter(|b| matches!(b, Expr::Call(Func::Exp, _)))
            .cloned()
            .collect();
        if exps_of_exp.len() > 1 {
            let mut args = Vec::new();
            for b in exps_of_exp {
                let powers = bases.remove(&b).unwrap_or_default();
                if let Expr::Call(_, a) = b {
                    args.push(Expr::mul(vec![Expr::add(powers), a[0].clone()]));
                }
            }
            let combined = Expr::call(Func::Exp, vec![Expr::add(args)]);
            match combined {
                Expr::Num(r) => mul_assign(&mut coeff, r),
                other => bases.entry(other).or_default().push(Expr::one()),
            }
        }
        let mut out: Vec<Expr> = Vec::with_capacity(bases.len());
        for (base, mut exps) in bases {
            // One exponent is already canonical: the sum of it alone.
            let e = if exps.len() == 1 {
                exps.pop().expect("one exponent")
            } else {
                Expr::add(exps)
            };
            let (base, e) = match (&base, e.as_num()) {
                (Expr::Add(_), Some(n)) if n.is_integer() && !base.has_unit_content() => {
                    // (c·A)^n = c^n A^n: pull numeric content out of sums.
                    let (c, primitive) = base.sum_content();
                    match rational_pow(&c, n) {
                        Some(Expr::Num(cn)) => {
                            mul_assign(&mut coeff, cn);
                            (primitive, e)
                        }
                        _ => (base, e),
                    }
                }
                _ => (base, e),
            };
            match Expr::pow(base, e) {
                Expr::Num(r) => mul_assign(&mut coeff, r),
                Expr::Mul(inner) => {
                    // pow produced a product (e.g. rational root with coefficient)
                    for f in into_vec(inner) {
                        match f {
                            Expr::Num(r) => mul_assign(&mut coeff, r),
                            other => out.push(other),
                        }
                    }
                }
                p => out.push(p),
            }
            if coeff.is_zero() {
                return Expr::zero();
            }
        }
        // A repeated base may have been produced by pow splitting; re-collect.
        out.sort();
        if out.windows(2).any(|w| w[0].pow_base() == w[1].pow_base()) {
            let mut v = vec![Expr::Num(coeff)];
            v.extend(out);
            return Expr::mul(v);
        }
        match out.len() {
            0 => Expr::Num(coeff),
            1 => {
                let f = out.pop().expect("one factor");
                if coeff.is_one() {
                    f
                } else if let Expr::Add(terms) = f {
                    // Distribute a number over a sum: 2(x + y) = 2x + 2y.
                    Expr::add(
                        into_vec(terms)
                            .into_iter()
                            .map(|t| Expr::mul(vec![Expr::Num(coeff.clone()), t]))
                            .collect(),
                    )
                } else {
                    Expr::Mul(Arc::new([Expr::Num(coeff), f]))
                }
            }
            _ => {
                if !coeff.is_one() {
                    out.insert(0, Expr::Num(coeff));
                }
                Expr::Mul(out.into())
            }
        }
    }

    /// Canonical power.
    ///
    /// Folds exact numeric powers, `(a·b)^n = a^n b^n` and `(a^m)^n = a^(mn)`
    /// for integer `n` (valid for every base), and nothing that needs a
    /// sign condition.
    pub fn pow(base: Expr, exp: Expr) -> Expr {
        if exp.is_zero() {
            return Expr::one();
        }
        if exp.is_one() {
            return base;
        }
        if base.is_one() {
            return Expr::one();
        }
        if let (Expr::Num(b), Expr::Num(e)) = (&base, &exp) {
            if let Some(v) = rational_pow(b, e) {
                return v;
            }
            return Expr::Pow(Arc::new(base), Arc::new(exp));
        }
        if let Expr::Const(Constant::E) = base {
            return Expr::call(Func::Exp, vec![exp]);
        }
        let int_exp = exp.as_num().filter(|r| r.is_integer()).is_some();
        if int_exp && matches!(base, Expr::Add(_)) {
            let c = base.numeric_content();
            // Only when c^n folds: otherwise mul hands the power straight
            // back here, without end ((x - mu)^5000 overflowed the stack).
            if !c.is_one() && exp.as_num().and_then(|n| rational_pow(&c, n)).is_some() {
                return Expr::mul(vec![Expr::Pow(Arc::new(base), Arc::new(exp))]);
            }
        }
        match base {
            Expr::Pow(b, e) if int_exp => Expr::pow(
                Arc::unwrap_or_clone(b),
                Expr::mul(vec![Arc::unwrap_or_clone(e), exp]),
            ),
            Expr::Mul(fs) if int_exp => Expr::mul(
                into_vec(fs)
                    .into_iter()
                    .map(|f| Expr::pow(f, exp.clone()))
                    .collect(),
            ),
            Expr::Call(Func::Exp, args) => {
                // exp(a)^b = exp(a b) holds for every real a, b.
                let a = args[0].clone();
                Expr::call(Func::Exp, vec![Expr::mul(vec![a, exp])])
            }
            Expr::Num(ref b) if b.is_zero() => {
                if exp.as_num().is_some_and(|e| e.is_positive()) {
                    Expr::zero()
                } else {
                    Expr::Pow(Arc::new(base), Arc::new(exp))
                }
            }
            Expr::Mul(ref fs) if matches!(fs[0], Expr::Num(ref c) if c.is_positive()) => {
                // (c·x)^a = c^a x^a for c > 0; the numeric part may stay a power.
                Expr::mul(
                    fs.iter()
                        .map(|f| Expr::pow(f.clone(), exp.clone()))
                        .collect(),
                )
            }
            base => Expr::Pow(Arc::new(base), Arc::new(exp)),
        }
    }

    /// Canonical function call with exact folding of trivial values.
    pub fn call(f: Func, args: Vec<Expr>) -> Expr {
        debug_assert_eq!(args.len(), f.arity(), "arity of {}", f.name());
        let a0 = &args[0];
        match f {
            Func::Log => {
                if a0.is_one() {
                    return Expr::zero();
                }
                match a0 {
                    Expr::Const(Constant::E) => return Expr::one(),
                    Expr::Call(Func::Exp, inner) => return inner[0].clone(),
                    _ => {}
                }
            }
            Func::Exp => {
                if a0.is_zero() {
                    return Expr::one();
                }
                if a0.is_one() {
                    return Expr::Const(Constant::E);
                }
                if let Expr::Call(Func::Log, inner) = a0 {
                    return inner[0].clone();
                }
                // exp(c·log u + rest) = u^c · exp(rest): log u is defined only
                // for u > 0, where the identity holds.
                let terms: &[Expr] = match a0 {
                    Expr::Add(ts) => ts,
                    other => std::slice::from_ref(other),
                };
                let is_log_term = |t: &Expr| matches!(t.split_coeff().1, Expr::Call(Func::Log, _));
                if terms.iter().any(is_log_term) {
                    let mut factors = Vec::new();
                    let mut rest = Vec::new();
                    for t in terms {
                        match t.split_coeff() {
                            (c, Expr::Call(Func::Log, inner)) => {
                                factors.push(Expr::pow(inner[0].clone(), Expr::Num(c)))
                            }
                            _ => rest.push(t.clone()),
                        }
                    }
                    factors.push(Expr::call(Func::Exp, vec![Expr::add(rest)]));
                    return Expr::mul(factors);
                }
            }
            Func::Log1p | Func::Expm1 | Func::Erf | Func::Sin => {
                if a0.is_zero() {
                    return Expr::zero();
                }
            }
            Func::Cos | Func::Erfc => {
                if a0.is_zero() {
                    return Expr::one();
                }
            }
            Func::Sigmoid | Func::NormalCdf => {
                if a0.is_zero() {
                    return Expr::rational(1, 2);
                }
            }
            Func::Lgamma => {
                if a0.is_one() || a0.as_int() == Some(2) {
                    return Expr::zero();
                }
            }
            Func::Polygamma => {
                if a0.as_int() == Some(0) && args[1].is_one() {
                    return Expr::neg(Expr::Const(Constant::EulerGamma));
                }
                if a0.as_int() == Some(1) && args[1].is_one() {
                    return Expr::mul(vec![Expr::rational(1, 6), Expr::powi(Expr::pi(), 2)]);
                }
            }
            Func::Abs => {
                if let Expr::Num(r) = a0 {
                    return Expr::Num(r.abs());
                }
            }
            Func::Indicator => {
                if let (Expr::Num(a), Expr::Num(b)) = (a0, &args[1]) {
                    return Expr::int(i64::from(a == b));
                }
            }
            Func::Lbeta | Func::BesselI => {}
            Func::LogNormalCdf
            | Func::LogSigmoid
            | Func::LogBesselI
            | Func::Mills
            | Func::MillsShift => {}
        }
        Expr::Call(f, args.into())
    }

    /// Rebuild this node from new children through the canonical constructors.
    pub fn rebuild(&self, children: Vec<Expr>) -> Expr {
        match self {
            Expr::Add(_) => Expr::add(children),
            Expr::Mul(_) => Expr::mul(children),
            Expr::Call(f, _) => Expr::call(*f, children),
            Expr::Pow(..) => {
                let mut it = children.into_iter();
                let b = it.next().expect("pow base");
                let e = it.next().expect("pow exponent");
                Expr::pow(b, e)
            }
            leaf => leaf.clone(),
        }
    }

    /// Apply `f` bottom-up to every node, re-canonicalising on the way.
    pub fn map_bottom_up(&self, f: &mut impl FnMut(Expr) -> Expr) -> Expr {
        let rebuilt = match self {
            Expr::Pow(b, e) => Expr::pow(b.map_bottom_up(f), e.map_bottom_up(f)),
            Expr::Add(_) | Expr::Mul(_) | Expr::Call(..) => {
                let kids = self.children().iter().map(|c| c.map_bottom_up(f)).collect();
                self.rebuild(kids)
            }
            leaf => leaf.clone(),
        };
        f(rebuilt)
    }

    /// Replace every variable found in `subst` by its expression.
    pub fn substitute(&self, subst: &dyn Fn(&str) -> Option<Expr>) -> Expr {
        self.map_bottom_up(&mut |e| match &e {
            Expr::Var(v) => subst(v).unwrap_or(e),
            _ => e,
        })
    }

    /// Expand products of sums and small integer powers of sums
    /// (distributive law). Function arguments are atoms and stay as they
    /// are: `exp(-(a + b)^2)` is not rewritten to `exp(-a^2 - 2ab - b^2)`.
    ///
    /// Inside [`with_expand_memo`] each distinct expression is expanded
    /// once (the result is the same either way).
    pub fn expand(&self) -> Expr {
        if !matches!(self, Expr::Add(_) | Expr::Mul(_) | Expr::Pow(..)) {
            return self.clone();
        }
        ScopedMemo::get_or_compute(&EXPAND_MEMO, self, || self.expand_uncached())
    }

    fn expand_uncached(&self) -> Expr {
        /// How many terms the expansion of a product of these factors has
        /// (saturating).
        fn expanded_terms(fs: &[Expr]) -> usize {
            fs.iter().fold(1usize, |n, f| {
                let k = match f {
                    Expr::Add(ts) => ts.len(),
                    Expr::Pow(b, x) => match (&**b, x.as_int()) {
                        (Expr::Add(ts), Some(k @ 2..=8)) => ts.len().saturating_pow(k as u32),
                        _ => 1,
                    },
                    _ => 1,
                };
                n.saturating_mul(k)
            })
        }
        fn terms_of(e: Expr) -> Vec<Expr> {
            match e {
                Expr::Add(ts) => into_vec(ts),
                other => vec![other],
            }
        }
        /// Multiply two lists of terms out; each product is a sum-free factor list.
        fn distribute(acc: Vec<Expr>, terms: &[Expr]) -> Vec<Expr> {
            let mut next = Vec::with_capacity(acc.len() * terms.len());
            for a in &acc {
                for t in terms {
                    next.push(Expr::mul(vec![a.clone(), t.clone()]));
                }
            }
            next
        }
        fn walk(e: &Expr, f: &mut impl FnMut(Expr) -> Expr) -> Expr {
            let rebuilt = match e {
                Expr::Pow(b, x) => Expr::pow(walk(b, f), walk(x, f)),
                Expr::Add(_) | Expr::Mul(_) => {
                    let kids = e.children().iter().map(|c| walk(c, f)).collect();
                    e.rebuild(kids)
                }
                other => other.clone(),
            };
            f(rebuilt)
        }
        walk(self, &mut |e| match e {
            // A product of many sums multiplies out into exponentially many
            // terms (K factors 1 + exp(a − b_k): 2^K); past the bound it
            // stays a product, which is equal, only not expanded.
            Expr::Mul(fs) if expanded_terms(&fs) > MAX_EXPANDED_TERMS => Expr::Mul(fs),
            Expr::Mul(fs) => {
                let mut acc = vec![Expr::one()];
                for f in into_vec(fs) {
                    let ts = match f {
                        Expr::Pow(b, x)
                            if matches!(*b, Expr::Add(_))
                                && x.as_int().is_some_and(|n| (2..=8).contains(&n)) =>
                        {
                            let n = x.as_int().unwrap_or(1);
                            let base = terms_of(Arc::unwrap_or_clone(b));
                            let mut p = vec![Expr::one()];
                            for _ in 0..n {
                                p = distribute(p, &base);
                            }
                            p
                        }
                        other => terms_of(other),
                    };
                    acc = distribute(acc, &ts);
                }
                Expr::add(acc)
            }
            Expr::Pow(b, x)
                if matches!(*b, Expr::Add(_))
                    && x.as_int().is_some_and(|n| (2..=8).contains(&n))
                    && expanded_terms(&[Expr::Pow(b.clone(), x.clone())]) <= MAX_EXPANDED_TERMS =>
            {
                let n = x.as_int().unwrap_or(1);
                let base = terms_of(Arc::unwrap_or_clone(b));
                let mut p = vec![Expr::one()];
                for _ in 0..n {
                    p = distribute(p, &base);
                }
                Expr::add(p)
            }
            other => other,
        })
    }
}

macro_rules! impl_binop {
    ($trait:ident, $method:ident, $ctor:expr) => {
        impl std::ops::$trait for Expr {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                $ctor(self, rhs)
            }
        }
        impl std::ops::$trait<&Expr> for &Expr {
            type Output = Expr;
            fn $method(self, rhs: &Expr) -> Expr {
                $ctor(self.clone(), rhs.clone())
            }
        }
    };
}

impl_binop!(Add, add, Expr::add2);
impl_binop!(Sub, sub, Expr::sub);
impl_binop!(Mul, mul, Expr::mul2);
impl_binop!(Div, div, Expr::div);

impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::neg(self)
    }
}

impl std::ops::Neg for &Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::neg(self.clone())
    }
}

/// Exact `b^e` when the result is rational, else `None`.
/// `acc += r`, skipping the arithmetic (and its gcd) when `acc` is 0.
fn add_assign(acc: &mut Rational, r: Rational) {
    if acc.is_zero() {
        *acc = r;
    } else if !r.is_zero() {
        *acc = crate::exact::add(acc, &r);
    }
}

/// `acc *= r`, skipping the arithmetic (and its gcds) when either is 1.
fn mul_assign(acc: &mut Rational, r: Rational) {
    if acc.is_one() {
        *acc = r;
    } else if !r.is_one() {
        *acc = crate::exact::mul(acc, &r);
    }
}

fn rational_pow(b: &Rational, e: &Rational) -> Option<Expr> {
    if e.is_integer() {
        let n = e.to_integer().to_i32()?;
        if b.is_zero() && n < 0 {
            return None;
        }
        if n.unsigned_abs() > 4096 {
            return None;
        }
        return Some(Expr::Num(num_traits::pow::Pow::pow(b, n)));
    }
    // Rational exponent p/q: exact when numerator and denominator are perfect q-th powers.
    let q = e.denom().to_u32()?;
    if b.is_negative() || q > 64 {
        return None;
    }
    let rn = b.numer().nth_root(q);
    let rd = b.denom().nth_root(q);
    if num_traits::pow::Pow::pow(&rn, q) == *b.numer()
        && num_traits::pow::Pow::pow(&rd, q) == *b.denom()
    {
        let root = Rational::new(rn, rd);
        let p = e.numer().to_i32()?;
        if root.is_zero() && p < 0 {
            return None;
        }
        return Some(Expr::Num(num_traits::pow::Pow::pow(&root, p)));
    }
    // Pull out an integer part of a negative exponent: 2^(-1/2) stays a power.
    None
}

/// Helpers shared by renderers: is this rational an integer, its value, etc.
pub fn rational_to_f64(r: &Rational) -> f64 {
    r.to_f64().unwrap_or(f64::NAN)
}

impl fmt::Display for Expr {
    /// A plain, fully unambiguous infix form for debugging and tests; the
    /// renderers in `render` produce the user-facing forms.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn prec(e: &Expr) -> u8 {
            match e {
                Expr::Add(_) => 1,
                Expr::Mul(_) => 2,
                Expr::Num(r) if r.is_negative() || !r.is_integer() => 2,
                Expr::Pow(..) => 3,
                Expr::Call(func, args) if func.is_internal() => {
                    func.definition(args).map_or(4, |d| prec(&d))
                }
                _ => 4,
            }
        }
        fn wrap(e: &Expr, min: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if prec(e) < min {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        }
        match self {
            // Internal functions (`symbolic::stable`) as what they stand for.
            Expr::Call(func, args) if func.is_internal() && func.definition(args).is_some() => {
                write!(f, "{}", func.definition(args).unwrap_or_else(Expr::zero))
            }
            Expr::Num(r) => write!(f, "{r}"),
            Expr::Const(c) => write!(f, "{}", c.name()),
            Expr::Var(v) => write!(f, "{v}"),
            Expr::Add(ts) => {
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        write!(f, " + ")?;
                    }
                    wrap(t, 2, f)?;
                }
                Ok(())
            }
            Expr::Mul(fs) => {
                for (i, t) in fs.iter().enumerate() {
                    if i > 0 {
                        write!(f, "*")?;
                    }
                    wrap(t, 3, f)?;
                }
                Ok(())
            }
            Expr::Pow(b, e) => {
                wrap(b, 4, f)?;
                write!(f, "^")?;
                wrap(e, 4, f)
            }
            Expr::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x() -> Expr {
        Expr::var("x")
    }
    fn y() -> Expr {
        Expr::var("y")
    }

    #[test]
    fn like_terms_collect() {
        let e = Expr::add(vec![x(), Expr::mul2(Expr::int(2), x()), Expr::neg(x())]);
        assert_eq!(e, Expr::mul2(Expr::int(2), x()));
        assert!(Expr::sub(x(), x()).is_zero());
    }

    #[test]
    fn like_bases_combine() {
        let e = Expr::mul(vec![x(), Expr::powi(x(), 2), Expr::recip(x())]);
        assert_eq!(e, Expr::powi(x(), 2));
        assert!(Expr::div(x(), x()).is_one());
    }

    #[test]
    fn rationals_stay_exact() {
        let third = Expr::div(Expr::one(), Expr::int(3));
        assert_eq!(third, Expr::rational(1, 3));
        assert_eq!(Expr::sqrt(Expr::rational(4, 9)), Expr::rational(2, 3));
        assert_eq!(Expr::sqrt(Expr::int(2)).to_string(), "2^(1/2)");
        assert_eq!(Expr::powi(Expr::rational(2, 3), -2), Expr::rational(9, 4));
    }

    #[test]
    fn number_distributes_over_sum() {
        let e = Expr::mul2(Expr::int(2), Expr::add2(x(), y()));
        assert_eq!(e.to_string(), "2*x + 2*y");
    }

    #[test]
    fn powers_of_products() {
        let e = Expr::powi(Expr::mul2(x(), y()), 2);
        assert_eq!(e.to_string(), "x^2*y^2");
        let e = Expr::pow(Expr::powi(x(), 2), Expr::rational(1, 2));
        assert_eq!(
            e.to_string(),
            "(x^2)^(1/2)",
            "needs a sign condition, left to simplify"
        );
    }

    #[test]
    fn trivial_calls_fold() {
        assert!(Expr::log(Expr::exp(x())) == x());
        assert!(Expr::exp(Expr::log(x())) == x());
        assert!(Expr::log(Expr::one()).is_zero());
        assert!(Expr::lgamma(Expr::one()).is_zero());
    }

    #[test]
    fn decimal_literals_are_exact() {
        assert_eq!(
            parse_decimal("2.5E+2").unwrap(),
            Rational::from_integer(250.into())
        );
        assert_eq!(
            parse_decimal("0.1").unwrap(),
            Rational::new(1.into(), 10.into())
        );
        assert!(parse_decimal("1e999999999999").is_none());
    }

    #[test]
    fn expand_distributes() {
        let e = Expr::powi(Expr::add2(x(), Expr::one()), 2).expand();
        assert_eq!(e.to_string(), "1 + 2*x + x^2");
    }
}
