//! The one lowering of expressions to floating-point operations: a
//! language-neutral, hash-consed DAG that the compiled tape
//! ([`crate::numeric::compiled`]) evaluates and the code generator
//! (`codegen`) prints.
//!
//! Each expression is first put in its stable form
//! ([`crate::symbolic::stable`], the pass every evaluator runs), then
//! lowered node by node. Equal subexpressions become one node, wherever
//! they occur (in one expression, across expressions, in a named
//! intermediate): shared subexpressions are found here and only here.
//!
//! The nodes keep the forms a person writes, because generated code is
//! compared as text: subtraction (a [`Term::Minus`]) and division (a
//! [`Factor::Over`]) where written, a product's sign moved into a sum
//! (`(alpha - 1)*log(x)`, [`Factor::Flipped`]), integer powers, `sqrt`
//! for `x^(1/2)`, `exp` for `e^x`, digamma and trigamma for
//! `polygamma(0, x)` and `polygamma(1, x)`. They also keep what the
//! evaluator needs to compute exactly what it always has: the order of
//! terms and factors as written, a product's coefficient as one number
//! (`x/3` is `0.333…·x` on the tape, `x/3` in code), a divisor's power
//! (`x^-2` is one power on the tape, `/x^2` in code). The tape reads a
//! node through the [`Op`] its instructions run; the printers read the
//! same node through [`Node::numerator`], [`Node::denominator`] and
//! [`Node::children`].
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::numeric::lower::{Dag, Node, Op};
//! let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("sigma"));
//! // (x - mu)/sigma^2 and exp(x - mu)/sigma^3 share x - mu.
//! let a = Expr::div(x.clone() - mu.clone(), Expr::powi(s.clone(), 2));
//! let b = Expr::div(Expr::exp(x - mu), Expr::powi(s, 3));
//! let dag = Dag::new(&[a, b]);
//! let diff = (0..dag.len())
//!     .find(|&id| matches!(dag.node(id), Node::Sum(_)))
//!     .unwrap();
//! let users = (0..dag.len())
//!     .filter(|&id| dag.node(id).children().contains(&diff))
//!     .count();
//! assert_eq!(users, 2); // the quotient and exp(x - mu)
//! assert!((0..dag.len()).any(|id| matches!(dag.node(id), Node::Apply(Op::Powi(3), _))));
//! ```

use crate::ir::expr::{Constant, Expr, Func, Name, Rational, rational_to_f64};
use num_traits::{One, Signed, ToPrimitive};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Index of a node in a [`Dag`].
pub type Id = usize;

/// A function of the lowered code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fun {
    /// `exp(x)`.
    Exp,
    /// `log(x)`.
    Log,
    /// `log(1 + x)`.
    Log1p,
    /// `exp(x) - 1`.
    Expm1,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
    /// `|x|`.
    Abs,
    /// `1/(1 + exp(-x))`.
    Sigmoid,
    /// `log(sigmoid(u))`, stable for every u.
    LogSigmoid,
    /// `log Γ(x)`.
    Lgamma,
    /// `ψ(x)`, `polygamma(0, x)`.
    Digamma,
    /// `polygamma(n, x)` with a constant order n ≥ 1 (argument: x).
    Polygamma(u32),
    /// `polygamma(order, x)` with an order computed at run time.
    PolygammaDyn,
    /// `log B(a, b)`.
    Lbeta,
    /// `erf(x)`.
    Erf,
    /// `erfc(x)`.
    Erfc,
    /// `Φ(x)`.
    NormalCdf,
    /// `log(Phi(u))`, stable for every u (`Phi(u)` underflows below -38).
    LogNormalCdf,
    /// The inverse Mills ratio `phi(u)/Phi(u)`.
    Mills,
    /// `u + phi(u)/Phi(u)`, without cancellation in the lower tail.
    MillsShift,
    /// `besseli(ν, x)` (arguments ν, x).
    BesselI,
    /// `log(besseli(ν, x))` without overflow.
    LogBesselI,
    /// `indicator(x, k)`: 1 when x = k, else 0.
    Indicator,
}

impl Fun {
    /// Number of arguments.
    pub fn arity(self) -> usize {
        match self {
            Fun::PolygammaDyn | Fun::Lbeta | Fun::BesselI | Fun::LogBesselI | Fun::Indicator => 2,
            _ => 1,
        }
    }
}

/// One floating-point operation: what a [`Node::Apply`] computes from its
/// operands, and what an instruction of the compiled tape computes from
/// its registers. A [`Node::Sum`] is [`Op::Add`] over its terms and a
/// [`Node::Prod`] [`Op::Mul`] over its factors; the tape runs both two
/// operands at a time.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// `a + b`.
    Add,
    /// `a · b`.
    Mul,
    /// `-a`.
    Neg,
    /// `a^n`.
    Powi(i32),
    /// `a^p` for a number `p` known when lowering.
    Powf(f64),
    /// `a^b` for a computed exponent.
    Pow,
    /// `√a`.
    Sqrt,
    /// A function of one or two arguments.
    Call(Fun),
}

/// [`Op`] as hashable data (`Powf` by the bits of its exponent).
#[derive(PartialEq, Eq, Hash)]
enum OpKey {
    Add,
    Mul,
    Neg,
    Powi(i32),
    Powf(u64),
    Pow,
    Sqrt,
    Call(Fun),
}

impl Op {
    fn key(self) -> OpKey {
        match self {
            Op::Add => OpKey::Add,
            Op::Mul => OpKey::Mul,
            Op::Neg => OpKey::Neg,
            Op::Powi(n) => OpKey::Powi(n),
            Op::Powf(p) => OpKey::Powf(p.to_bits()),
            Op::Pow => OpKey::Pow,
            Op::Sqrt => OpKey::Sqrt,
            Op::Call(f) => OpKey::Call(f),
        }
    }
}

impl PartialEq for Op {
    fn eq(&self, other: &Op) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Op {}

impl Hash for Op {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.key().hash(h)
    }
}

/// A term of a [`Node::Sum`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Term {
    /// Added: the term is this node.
    Plus(Id),
    /// Subtracted: the term is minus this node (a term with a negative
    /// coefficient, lowered without its sign).
    Minus(Id),
}

/// A factor of a [`Node::Prod`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Factor {
    /// The product's numeric coefficient `c` (first, as written), printed
    /// as `|c|`'s numerator and denominator literals (absent when 1):
    /// `value` holds the bits of `c` itself. Negative only with a
    /// [`Factor::Flipped`] sum; other negative products are a
    /// [`Op::Neg`] of a positive one.
    Coef {
        /// The bits of `c` as an `f64`.
        value: u64,
        /// The numerator literal.
        num: Option<Id>,
        /// The denominator literal.
        den: Option<Id>,
    },
    /// A factor multiplied in.
    Times(Id),
    /// A factor `b^-k` (k > 0), printed as a division by this node, the
    /// lowered `b^k`.
    Over(Id),
    /// A sum factor `A` of a product with a negative coefficient, printed
    /// as this node, the lowered `-A`, which carries the product's sign.
    Flipped(Id),
}

/// One node of the DAG.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A non-negative literal (its bits); a negative number is its
    /// [`Op::Neg`].
    Lit(u64),
    /// π, e or γ.
    Const(Constant),
    /// A variable, by model name.
    Var(Name),
    /// The sum of its terms, in written order.
    Sum(Vec<Term>),
    /// The product of its factors, in written order.
    Prod(Vec<Factor>),
    /// Any other operation ([`Op::Neg`], powers, `sqrt`, calls) on its
    /// operands.
    Apply(Op, Vec<Id>),
}

impl Node {
    /// The operands in printing order: a sum's added terms, then its
    /// subtracted ones; a product's numerator, then its denominator.
    pub fn children(&self) -> Vec<Id> {
        match self {
            Node::Lit(_) | Node::Const(_) | Node::Var(_) => Vec::new(),
            Node::Sum(_) => {
                let mut out = self.added();
                out.extend(self.subtracted());
                out
            }
            Node::Prod(_) => {
                let mut out = self.numerator();
                out.extend(self.denominator());
                out
            }
            Node::Apply(_, xs) => xs.clone(),
        }
    }

    /// A sum's added terms, in order; empty for other nodes.
    pub fn added(&self) -> Vec<Id> {
        self.terms(false)
    }

    /// A sum's subtracted terms, in order; empty for other nodes.
    pub fn subtracted(&self) -> Vec<Id> {
        self.terms(true)
    }

    /// A sum's subtracted (`minus`) or added terms.
    fn terms(&self, minus: bool) -> Vec<Id> {
        let Node::Sum(ts) = self else {
            return Vec::new();
        };
        ts.iter()
            .filter_map(|t| match *t {
                Term::Plus(x) => (!minus).then_some(x),
                Term::Minus(x) => minus.then_some(x),
            })
            .collect()
    }

    /// Leaves: literals, constants and variables.
    pub fn is_leaf(&self) -> bool {
        matches!(self, Node::Lit(_) | Node::Const(_) | Node::Var(_))
    }

    /// A product's numerator as printed (empty: 1); empty for other nodes.
    pub fn numerator(&self) -> Vec<Id> {
        self.factors(false)
    }

    /// A product's denominator as printed; empty for other nodes.
    pub fn denominator(&self) -> Vec<Id> {
        self.factors(true)
    }

    /// A product's denominator (`den`) or numerator as printed.
    fn factors(&self, den: bool) -> Vec<Id> {
        let Node::Prod(fs) = self else {
            return Vec::new();
        };
        fs.iter()
            .filter_map(|f| match *f {
                Factor::Coef { num, den: d, .. } => {
                    if den {
                        d
                    } else {
                        num
                    }
                }
                Factor::Times(x) | Factor::Flipped(x) => (!den).then_some(x),
                Factor::Over(x) => den.then_some(x),
            })
            .collect()
    }

    /// A product whose sign sits in one of its sums ([`Factor::Flipped`]):
    /// a negative term, though written with `+`.
    pub fn is_flipped(&self) -> bool {
        matches!(self, Node::Prod(fs) if fs.iter().any(|f| matches!(f, Factor::Flipped(_))))
    }
}

/// Expressions lowered into one hash-consed DAG, with their roots.
#[derive(Clone, Debug, Default)]
pub struct Dag {
    nodes: Vec<Node>,
    index: HashMap<Node, Id>,
    outputs: Vec<Id>,
    /// The model's constants, substituted in the orders of `polygamma` and
    /// `besseli` so they are known numbers (`besseli(n, x)`, `const n = 2`).
    consts: HashMap<Name, Rational>,
    /// Named intermediates, already lowered, in order.
    definitions: Vec<(Name, Id)>,
    by_name: HashMap<Name, Id>,
}

impl Dag {
    /// Lower `exprs` (in order) into one DAG.
    pub fn new(exprs: &[Expr]) -> Dag {
        Dag::with_definitions(exprs, HashMap::new(), &[])
    }

    /// Lower `exprs` that use named intermediates (a derivation's
    /// `definitions`, in order, each lowered once: its name stands for its
    /// node), with the values of the model's constants for the orders of
    /// special functions.
    pub fn with_definitions(
        exprs: &[Expr],
        consts: HashMap<Name, Rational>,
        definitions: &[(Name, Expr)],
    ) -> Dag {
        let mut d = Dag {
            consts,
            ..Dag::default()
        };
        for (name, e) in definitions {
            let id = d.lower(&crate::symbolic::stable_cow(e));
            d.definitions.push((name.clone(), id));
            d.by_name.insert(name.clone(), id);
        }
        for e in exprs {
            let id = d.lower(&crate::symbolic::stable_cow(e));
            d.outputs.push(id);
        }
        d
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// No nodes at all.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `id`.
    pub fn node(&self, id: Id) -> &Node {
        &self.nodes[id]
    }

    /// The root of each lowered expression, in order.
    pub fn outputs(&self) -> &[Id] {
        &self.outputs
    }

    /// The named intermediates and their nodes, in order.
    pub fn definitions(&self) -> &[(Name, Id)] {
        &self.definitions
    }

    /// Nodes reachable from `roots` through [`Node::children`], children
    /// before parents, each once.
    pub fn order(&self, roots: impl IntoIterator<Item = Id>) -> Vec<Id> {
        let mut seen = vec![false; self.nodes.len()];
        let mut out = Vec::new();
        for root in roots {
            // Iterative post-order: (node, children pushed?).
            let mut stack = vec![(root, false)];
            while let Some((id, expanded)) = stack.pop() {
                if expanded {
                    out.push(id);
                    continue;
                }
                if seen[id] {
                    continue;
                }
                seen[id] = true;
                stack.push((id, true));
                for c in self.nodes[id].children().into_iter().rev() {
                    if !seen[c] {
                        stack.push((c, false));
                    }
                }
            }
        }
        out
    }

    /// The node for `n`: an existing equal one, else a new one.
    pub(crate) fn intern(&mut self, n: Node) -> Id {
        if let Some(&id) = self.index.get(&n) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(n.clone());
        self.index.insert(n, id);
        id
    }

    /// Rewrite node `id` in place with `f` (code generation's shared
    /// products); call [`Dag::reindex`] when done.
    pub(crate) fn rewrite(&mut self, id: Id, f: impl FnOnce(&mut Node)) {
        f(&mut self.nodes[id]);
    }

    /// Rebuild the hash-consing index after [`Dag::rewrite`].
    pub(crate) fn reindex(&mut self) {
        self.index = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
    }

    fn lit(&mut self, v: f64) -> Id {
        if v < 0.0 {
            let a = self.intern(Node::Lit((-v).to_bits()));
            self.intern(Node::Apply(Op::Neg, vec![a]))
        } else {
            // +0.0 for either zero.
            self.intern(Node::Lit((v + 0.0).to_bits()))
        }
    }

    fn lower(&mut self, e: &Expr) -> Id {
        match e {
            Expr::Num(r) => self.lit(rational_to_f64(r)),
            Expr::Const(c) => self.intern(Node::Const(*c)),
            Expr::Var(v) => match self.by_name.get(v) {
                Some(&id) => id,
                None => self.intern(Node::Var(v.clone())),
            },
            Expr::Add(ts) => {
                let mut terms = Vec::with_capacity(ts.len());
                for t in ts.iter() {
                    let flips = matches!(t, Expr::Mul(fs) if flippable_sum(fs).is_some());
                    if t.split_coeff().0.is_negative() && !flips {
                        terms.push(Term::Minus(self.lower(&Expr::neg(t.clone()))));
                    } else {
                        terms.push(Term::Plus(self.lower(t)));
                    }
                }
                match terms[..] {
                    [Term::Minus(x)] => self.intern(Node::Apply(Op::Neg, vec![x])),
                    _ => self.intern(Node::Sum(terms)),
                }
            }
            Expr::Mul(fs) => self.lower_product(fs),
            Expr::Pow(b, x) => self.lower_pow(b, x),
            Expr::Call(f, args) => self.lower_call(*f, args),
        }
    }

    fn lower_product(&mut self, fs: &[Expr]) -> Id {
        let mut factors = Vec::with_capacity(fs.len() + 1);
        let mut negative = false;
        // A negative product with a sum among its factors shows the sum
        // negated instead: `(alpha - 1)*log(x)`, not `-(1 - alpha)*log(x)`
        // (negation is exact).
        let flip = flippable_sum(fs);
        for (k, f) in fs.iter().enumerate() {
            if Some(k) == flip {
                factors.push(Factor::Flipped(self.lower(&negate_sum(f))));
                continue;
            }
            match f {
                Expr::Num(c) => {
                    negative = c.is_negative() && flip.is_none();
                    let value = if negative {
                        -rational_to_f64(c)
                    } else {
                        rational_to_f64(c)
                    };
                    let c = c.abs();
                    let num = (!c.numer().is_one())
                        .then(|| self.lit(c.numer().to_f64().unwrap_or(f64::INFINITY)));
                    let den = (!c.denom().is_one())
                        .then(|| self.lit(c.denom().to_f64().unwrap_or(f64::INFINITY)));
                    if num.is_some() || den.is_some() || flip.is_some() {
                        factors.push(Factor::Coef {
                            value: value.to_bits(),
                            num,
                            den,
                        });
                    }
                }
                Expr::Pow(b, x) if x.as_num().is_some_and(|r| r.is_negative()) => {
                    let flipped = Expr::pow((**b).clone(), Expr::neg((**x).clone()));
                    factors.push(Factor::Over(self.lower(&flipped)));
                }
                other => factors.push(Factor::Times(self.lower(other))),
            }
        }
        let body = match factors[..] {
            [Factor::Times(x)] => x,
            _ => self.intern(Node::Prod(factors)),
        };
        if negative {
            self.intern(Node::Apply(Op::Neg, vec![body]))
        } else {
            body
        }
    }

    fn lower_pow(&mut self, b: &Expr, x: &Expr) -> Id {
        if matches!(b, Expr::Const(Constant::E)) {
            let a = self.lower(x);
            return self.intern(Node::Apply(Op::Call(Fun::Exp), vec![a]));
        }
        let Some(r) = x.as_num() else {
            let (base, exp) = (self.lower(b), self.lower(x));
            return self.intern(Node::Apply(Op::Pow, vec![base, exp]));
        };
        if r.is_negative() {
            let flipped = Expr::pow(b.clone(), Expr::Num(-r.clone()));
            let d = self.lower(&flipped);
            return self.intern(Node::Prod(vec![Factor::Over(d)]));
        }
        let base = self.lower(b);
        if r.is_integer()
            && let Some(n) = r.to_integer().to_i32()
        {
            return match n {
                0 => self.lit(1.0),
                1 => base,
                n => self.intern(Node::Apply(Op::Powi(n), vec![base])),
            };
        }
        let v = rational_to_f64(r);
        if v == 0.5 {
            return self.intern(Node::Apply(Op::Sqrt, vec![base]));
        }
        self.intern(Node::Apply(Op::Powf(v), vec![base]))
    }

    /// An order argument with the model's constants replaced by their values.
    fn with_const_values(&self, e: &Expr) -> Expr {
        e.substitute(&|v| self.consts.get(v).map(|r| Expr::Num(r.clone())))
    }

    fn lower_call(&mut self, f: Func, args: &[Expr]) -> Id {
        if args.len() != f.arity() {
            // Only a hand-built call can get here: lower its arguments and
            // keep the function (its users check the arity).
            let ids: Vec<Id> = args.iter().map(|a| self.lower(a)).collect();
            return self.intern(Node::Apply(Op::Call(fun_of(f)), ids));
        }
        let args: Vec<Expr> = match f {
            Func::Polygamma | Func::BesselI | Func::LogBesselI => {
                vec![self.with_const_values(&args[0]), args[1].clone()]
            }
            _ => args.to_vec(),
        };
        let args = &args[..];
        if f == Func::Polygamma {
            let fun = match args[0].as_int() {
                Some(0) => Some(Fun::Digamma),
                Some(n) if (1..=170).contains(&n) => Some(Fun::Polygamma(n as u32)),
                _ => None,
            };
            if let Some(fun) = fun {
                let x = self.lower(&args[1]);
                return self.intern(Node::Apply(Op::Call(fun), vec![x]));
            }
        }
        let ids: Vec<Id> = args.iter().map(|a| self.lower(a)).collect();
        self.intern(Node::Apply(Op::Call(fun_of(f)), ids))
    }
}

/// The factor to negate in a product with a negative coefficient: its
/// first sum (to the power one).
fn flippable_sum(fs: &[Expr]) -> Option<usize> {
    let negative = fs
        .first()
        .and_then(Expr::as_num)
        .is_some_and(|c| c.is_negative());
    if !negative {
        return None;
    }
    fs.iter().position(|f| matches!(f, Expr::Add(_)))
}

/// `-(a + b)` as the sum `-a - b`.
fn negate_sum(e: &Expr) -> Expr {
    match e {
        Expr::Add(ts) => Expr::add(ts.iter().map(|t| Expr::neg(t.clone())).collect()),
        other => Expr::neg(other.clone()),
    }
}

/// The function of the lowered code for a function of the language.
fn fun_of(f: Func) -> Fun {
    match f {
        Func::Log => Fun::Log,
        Func::Exp => Fun::Exp,
        Func::Log1p => Fun::Log1p,
        Func::Expm1 => Fun::Expm1,
        Func::Sigmoid => Fun::Sigmoid,
        Func::Lgamma => Fun::Lgamma,
        Func::Polygamma => Fun::PolygammaDyn,
        Func::Lbeta => Fun::Lbeta,
        Func::Erf => Fun::Erf,
        Func::Erfc => Fun::Erfc,
        Func::Sin => Fun::Sin,
        Func::Cos => Fun::Cos,
        Func::BesselI => Fun::BesselI,
        Func::Abs => Fun::Abs,
        Func::NormalCdf => Fun::NormalCdf,
        Func::Indicator => Fun::Indicator,
        Func::LogNormalCdf => Fun::LogNormalCdf,
        Func::LogSigmoid => Fun::LogSigmoid,
        Func::LogBesselI => Fun::LogBesselI,
        Func::Mills => Fun::Mills,
        Func::MillsShift => Fun::MillsShift,
    }
}
