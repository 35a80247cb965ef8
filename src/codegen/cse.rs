//! The language-neutral layer: expressions lowered to a hash-consed DAG of
//! floating-point operations (subtraction and division where a person
//! writes them, integer powers, the special functions), with every
//! subexpression used more than once emitted once as a temporary.
//!
//! Each expression is first put in its stable form
//! ([`crate::symbolic::stable`], the same pass the tree walk and the tape
//! run), so the generated code computes what fimkit computes: `1 - Phi(u)`
//! as `Phi(-u)`, `log Phi`, `log sigmoid` and `log besseli` by their
//! tail-safe functions, the probit's φ/Φ by the Mills ratio. Lowering then
//! only maps: integer powers by `powi`, `x^(1/2)` by `sqrt`.

use super::CodegenError;
use super::ident::Namer;
use crate::ir::expr::{Constant, Expr, Func, Name, Rational, rational_to_f64};
use num_traits::{One, Signed, ToPrimitive};
use std::collections::{BTreeSet, HashMap};

/// Index of a node in a [`Dag`].
pub(crate) type Id = usize;

/// A function the generated code calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Fun {
    Exp,
    Log,
    Log1p,
    Expm1,
    Sin,
    Cos,
    Abs,
    Sigmoid,
    /// `log(sigmoid(u))`, stable for every u.
    LogSigmoid,
    Lgamma,
    Digamma,
    /// `polygamma(n, x)` with a constant order n ≥ 1 (argument: x).
    Polygamma(u32),
    /// `polygamma(order, x)` with an order computed at run time.
    PolygammaDyn,
    Lbeta,
    Erf,
    Erfc,
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

/// One floating-point operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    /// A non-negative literal (its bits).
    Lit(u64),
    /// π, e or γ.
    Const(Constant),
    /// A model variable or constant, by model name.
    Var(Name),
    /// `pos[0] + pos[1] + ... - neg[0] - neg[1] - ...`.
    Sum { pos: Vec<Id>, neg: Vec<Id> },
    /// `num[0]*num[1]*... / (den[0]*den[1]*...)`; an empty numerator is 1.
    Prod { num: Vec<Id>, den: Vec<Id> },
    /// `-x`.
    Neg(Id),
    /// `x^n`, n ≥ 2.
    Powi(Id, i32),
    /// `x^y`.
    Powf(Id, Id),
    /// `√x`.
    Sqrt(Id),
    /// A function call.
    Call(Fun, Vec<Id>),
}

impl Node {
    fn children(&self) -> Vec<Id> {
        match self {
            Node::Lit(_) | Node::Const(_) | Node::Var(_) => Vec::new(),
            Node::Sum { pos: a, neg: b } | Node::Prod { num: a, den: b } => {
                a.iter().chain(b).copied().collect()
            }
            Node::Neg(x) | Node::Powi(x, _) | Node::Sqrt(x) => vec![*x],
            Node::Powf(x, y) => vec![*x, *y],
            Node::Call(_, xs) => xs.clone(),
        }
    }

    fn is_leaf(&self) -> bool {
        matches!(self, Node::Lit(_) | Node::Const(_) | Node::Var(_))
    }
}

/// Expressions lowered into one shared DAG, with their roots.
#[derive(Clone, Debug, Default)]
pub(crate) struct Block {
    nodes: Vec<Node>,
    index: HashMap<Node, Id>,
    /// The root of each lowered expression, in order.
    pub(crate) outputs: Vec<Id>,
    /// Outputs printed twice (off-diagonal matrix entries): computed once.
    pinned: Vec<Id>,
    /// The model's constants, substituted in the orders of `polygamma` and
    /// `besseli` so they are known numbers (`besseli(n, x)`, `const n = 2`).
    consts: HashMap<Name, Rational>,
    /// Named intermediates, already lowered.
    definitions: HashMap<Name, Id>,
}

impl Block {
    /// Lower `exprs` (in order) into one block.
    pub(crate) fn new(exprs: &[Expr]) -> Block {
        Block::with_consts(exprs, HashMap::new())
    }

    /// Lower `exprs`, with the values of the model's constants for the
    /// orders of special functions.
    pub(crate) fn with_consts(exprs: &[Expr], consts: HashMap<Name, Rational>) -> Block {
        Block::with_definitions(exprs, consts, &[])
    }

    /// [`Block::with_consts`] for expressions that use named intermediates
    /// (a derivation's `definitions`, in order): each is lowered once and
    /// its name stands for that node (a temporary where it is used twice).
    pub(crate) fn with_definitions(
        exprs: &[Expr],
        consts: HashMap<Name, Rational>,
        definitions: &[(Name, Expr)],
    ) -> Block {
        let mut b = Block {
            consts,
            ..Block::default()
        };
        for (name, e) in definitions {
            let id = b.lower(&crate::symbolic::stable_cow(e));
            b.definitions.insert(name.clone(), id);
        }
        for e in exprs {
            let id = b.lower(&crate::symbolic::stable_cow(e));
            b.outputs.push(id);
        }
        b.share_products();
        b
    }

    /// Nodes reachable from the outputs, children before parents.
    fn order(&self) -> Vec<Id> {
        let mut seen = vec![false; self.nodes.len()];
        let mut out = Vec::new();
        for &root in self.outputs.iter().chain(&self.pinned) {
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

    /// Products that share two factors compute them once: `t1*t0` in every
    /// entry of a GLM Hessian becomes a temporary. Greedy, most frequent
    /// pair first; numeric coefficients stay where they are.
    fn share_products(&mut self) {
        for _ in 0..64 {
            let mut pairs: HashMap<(Id, Id), usize> = HashMap::new();
            for id in self.order() {
                let Node::Prod { num, .. } = &self.nodes[id] else {
                    continue;
                };
                let factors: Vec<Id> = num
                    .iter()
                    .copied()
                    .filter(|f| !matches!(self.nodes[*f], Node::Lit(_)))
                    .collect();
                if factors.len() < 2 || (factors.len() == 2 && num.len() == 2 && self.is_pair(id)) {
                    continue;
                }
                for (i, &a) in factors.iter().enumerate() {
                    for &b in &factors[i + 1..] {
                        if a != b {
                            *pairs.entry((a.min(b), a.max(b))).or_default() += 1;
                        }
                    }
                }
            }
            let Some((&(a, b), _)) = pairs
                .iter()
                .filter(|(_, n)| **n >= 2)
                .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0)))
            else {
                return;
            };
            let pair = self.intern(Node::Prod {
                num: vec![a, b],
                den: Vec::new(),
            });
            for id in self.order() {
                if id == pair {
                    continue;
                }
                if let Node::Prod { num, .. } = &mut self.nodes[id]
                    && num.contains(&a)
                    && num.contains(&b)
                {
                    let at = num.iter().position(|f| *f == a || *f == b).unwrap_or(0);
                    num.retain(|f| *f != a && *f != b);
                    num.insert(at.min(num.len()), pair);
                }
            }
            // Contents changed: rebuild the hash-consing index.
            self.index = self
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect();
        }
    }

    /// Is node `id` a product of exactly two factors and nothing else?
    fn is_pair(&self, id: Id) -> bool {
        matches!(&self.nodes[id], Node::Prod { num, den } if num.len() == 2 && den.is_empty())
    }

    /// Output `k` is printed twice (an off-diagonal entry of a symmetric
    /// matrix): compute it once, as a temporary.
    pub(crate) fn pin_output(&mut self, k: usize) {
        self.pinned.push(self.outputs[k]);
    }

    /// Every function the block calls.
    pub(crate) fn funs(&self) -> BTreeSet<Fun> {
        self.order()
            .into_iter()
            .filter_map(|id| match &self.nodes[id] {
                Node::Call(f, _) => Some(*f),
                _ => None,
            })
            .collect()
    }

    /// The model variables the block reads.
    pub(crate) fn vars(&self) -> BTreeSet<Name> {
        self.order()
            .into_iter()
            .filter_map(|id| match &self.nodes[id] {
                Node::Var(v) => Some(v.clone()),
                _ => None,
            })
            .collect()
    }

    /// Number of operations left after sharing (a size figure).
    pub(crate) fn len(&self) -> usize {
        self.order()
            .into_iter()
            .filter(|id| !self.nodes[*id].is_leaf())
            .count()
    }

    /// Number of operations without sharing: every output written out as
    /// a tree.
    pub(crate) fn tree_len(&self) -> usize {
        let mut size = vec![0usize; self.nodes.len()];
        for id in self.order() {
            let n = &self.nodes[id];
            size[id] =
                usize::from(!n.is_leaf()) + n.children().iter().map(|c| size[*c]).sum::<usize>();
        }
        self.outputs.iter().map(|o| size[*o]).sum()
    }

    fn intern(&mut self, n: Node) -> Id {
        if let Some(&id) = self.index.get(&n) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(n.clone());
        self.index.insert(n, id);
        id
    }

    fn lit(&mut self, v: f64) -> Id {
        if v < 0.0 {
            let a = self.intern(Node::Lit((-v).to_bits()));
            self.intern(Node::Neg(a))
        } else {
            // +0.0 for either zero.
            self.intern(Node::Lit((v + 0.0).to_bits()))
        }
    }

    fn lower(&mut self, e: &Expr) -> Id {
        match e {
            Expr::Num(r) => self.lit(rational_to_f64(r)),
            Expr::Const(c) => self.intern(Node::Const(*c)),
            Expr::Var(v) => match self.definitions.get(v) {
                Some(&id) => id,
                None => self.intern(Node::Var(v.clone())),
            },
            Expr::Add(ts) => {
                let mut pos = Vec::new();
                let mut neg = Vec::new();
                for t in ts {
                    let flips = matches!(t, Expr::Mul(fs) if flippable_sum(fs).is_some());
                    if t.split_coeff().0.is_negative() && !flips {
                        neg.push(self.lower(&Expr::neg(t.clone())));
                    } else {
                        pos.push(self.lower(t));
                    }
                }
                if pos.is_empty() && neg.len() == 1 {
                    self.intern(Node::Neg(neg[0]))
                } else {
                    self.intern(Node::Sum { pos, neg })
                }
            }
            Expr::Mul(fs) => {
                let mut num = Vec::new();
                let mut den = Vec::new();
                let mut negative = false;
                // A negative product with a sum among its factors shows the
                // sum negated instead: `(alpha - 1)*log(x)`, not
                // `-(1 - alpha)*log(x)` (negation is exact).
                let flip = flippable_sum(fs);
                for (k, f) in fs.iter().enumerate() {
                    if Some(k) == flip {
                        num.push(self.lower(&negate_sum(f)));
                        continue;
                    }
                    match f {
                        Expr::Num(c) => {
                            negative = c.is_negative() && flip.is_none();
                            let c = c.abs();
                            if !c.numer().is_one() {
                                let v = c.numer().to_f64().unwrap_or(f64::INFINITY);
                                num.push(self.lit(v));
                            }
                            if !c.denom().is_one() {
                                let v = c.denom().to_f64().unwrap_or(f64::INFINITY);
                                den.push(self.lit(v));
                            }
                        }
                        Expr::Pow(b, x) if x.as_num().is_some_and(|r| r.is_negative()) => {
                            let flipped = Expr::pow((**b).clone(), Expr::neg((**x).clone()));
                            den.push(self.lower(&flipped));
                        }
                        other => num.push(self.lower(other)),
                    }
                }
                let body = if num.len() == 1 && den.is_empty() {
                    num[0]
                } else {
                    self.intern(Node::Prod { num, den })
                };
                if negative {
                    self.intern(Node::Neg(body))
                } else {
                    body
                }
            }
            Expr::Pow(b, x) => self.lower_pow(b, x),
            Expr::Call(f, args) => self.lower_call(*f, args),
        }
    }

    fn lower_pow(&mut self, b: &Expr, x: &Expr) -> Id {
        if matches!(b, Expr::Const(Constant::E)) {
            let a = self.lower(x);
            return self.intern(Node::Call(Fun::Exp, vec![a]));
        }
        let Some(r) = x.as_num() else {
            let (base, exp) = (self.lower(b), self.lower(x));
            return self.intern(Node::Powf(base, exp));
        };
        if r.is_negative() {
            let flipped = Expr::pow(b.clone(), Expr::Num(-r.clone()));
            let d = self.lower(&flipped);
            return self.intern(Node::Prod {
                num: Vec::new(),
                den: vec![d],
            });
        }
        let base = self.lower(b);
        if r.is_integer()
            && let Some(n) = r.to_integer().to_i32()
        {
            return match n {
                0 => self.lit(1.0),
                1 => base,
                n => self.intern(Node::Powi(base, n)),
            };
        }
        let v = rational_to_f64(r);
        if v == 0.5 {
            return self.intern(Node::Sqrt(base));
        }
        let exp = self.lit(v);
        self.intern(Node::Powf(base, exp))
    }

    /// An order argument with the model's constants replaced by their values.
    fn with_const_values(&self, e: &Expr) -> Expr {
        e.substitute(&|v| self.consts.get(v).map(|r| Expr::Num(r.clone())))
    }

    fn lower_call(&mut self, f: Func, args: &[Expr]) -> Id {
        if args.len() != f.arity() {
            // Only a hand-built call can get here: lower its arguments and
            // keep the function (arity mismatches are caught by the printer).
            let ids: Vec<Id> = args.iter().map(|a| self.lower(a)).collect();
            return self.intern(Node::Call(fun_of(f), ids));
        }
        let args: Vec<Expr> = match f {
            Func::Polygamma | Func::BesselI | Func::LogBesselI => {
                vec![self.with_const_values(&args[0]), args[1].clone()]
            }
            _ => args.to_vec(),
        };
        let args = &args[..];
        if f == Func::Polygamma {
            match args[0].as_int() {
                Some(0) => {
                    let x = self.lower(&args[1]);
                    return self.intern(Node::Call(Fun::Digamma, vec![x]));
                }
                Some(n) if (1..=170).contains(&n) => {
                    let x = self.lower(&args[1]);
                    return self.intern(Node::Call(Fun::Polygamma(n as u32), vec![x]));
                }
                _ => {}
            }
        }
        let ids: Vec<Id> = args.iter().map(|a| self.lower(a)).collect();
        self.intern(Node::Call(fun_of(f), ids))
    }

    /// How often each node is referenced (by parents and as an output).
    fn uses(&self) -> Vec<usize> {
        let mut uses = vec![0usize; self.nodes.len()];
        for id in self.order() {
            for c in self.nodes[id].children() {
                uses[c] += 1;
            }
        }
        for &o in self.outputs.iter().chain(&self.pinned) {
            uses[o] += 1;
        }
        uses
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

/// Binding strength of printed code, loosest first.
pub(crate) const P_SUM: u8 = 1;
/// A product or quotient.
pub(crate) const P_PROD: u8 = 2;
/// A unary minus.
pub(crate) const P_NEG: u8 = 3;
/// A power operator (`**`).
pub(crate) const P_POW: u8 = 4;
/// An identifier, literal, call or parenthesized expression.
pub(crate) const P_ATOM: u8 = 5;

/// A piece of printed code and how tightly it binds.
#[derive(Clone, Debug)]
pub(crate) struct Printed {
    pub(crate) s: String,
    pub(crate) prec: u8,
    /// A bare numeric literal (Rust needs a type suffix to call a method on it).
    pub(crate) lit: bool,
    /// Has a type of its own: false for arithmetic on literals only, which
    /// Rust cannot call a method on without a type.
    pub(crate) typed: bool,
}

impl Printed {
    pub(crate) fn atom(s: String) -> Printed {
        Printed::new(s, P_ATOM)
    }

    pub(crate) fn new(s: String, prec: u8) -> Printed {
        Printed {
            s,
            prec,
            lit: false,
            typed: true,
        }
    }

    fn untyped_if(mut self, literal_only: bool) -> Printed {
        self.typed = !literal_only;
        self
    }

    /// The code, in parentheses when it binds looser than `min`.
    pub(crate) fn at(&self, min: u8) -> String {
        if self.prec < min {
            format!("({})", self.s)
        } else {
            self.s.clone()
        }
    }
}

/// What differs between target languages in expressions.
pub(crate) trait Dialect {
    /// A non-negative literal (possibly `inf`).
    fn lit(&self, v: f64) -> String;
    /// π, e, γ.
    fn constant(&self, c: Constant) -> String;
    /// `x^n`, n ≥ 2.
    fn powi(&self, x: Printed, n: i32) -> Printed;
    /// `x^y`.
    fn powf(&self, x: Printed, y: Printed) -> Printed;
    /// `√x`.
    fn sqrt(&self, x: Printed) -> Printed;
    /// A function call; an error when the language cannot express it.
    fn call(&self, f: Fun, args: Vec<Printed>) -> Result<Printed, CodegenError>;
}

/// A literal of either sign.
pub(crate) fn signed_lit(d: &dyn Dialect, v: f64) -> String {
    if v < 0.0 {
        format!("-{}", d.lit(-v))
    } else {
        d.lit(v)
    }
}

/// A block as code: temporaries (name, value) in order, then the outputs.
#[derive(Clone, Debug)]
pub(crate) struct Emitted {
    pub(crate) temps: Vec<(String, String)>,
    pub(crate) outputs: Vec<String>,
}

/// Print a block: every non-trivial node used twice or more becomes a
/// temporary (named by `namer`, `t0`, `t1`, ...), the rest is inlined.
/// `idents` maps model names to the identifiers of the generated code.
pub(crate) fn emit(
    block: &Block,
    d: &dyn Dialect,
    idents: &HashMap<Name, String>,
    namer: &mut Namer,
) -> Result<Emitted, CodegenError> {
    let uses = block.uses();
    let mut printed: Vec<Printed> = vec![Printed::atom(String::new()); block.nodes.len()];
    let mut temps = Vec::new();
    let mut counter = 0usize;
    // Leaves and temporaries: a name or a literal.
    let mut named = vec![false; block.nodes.len()];
    for id in block.order() {
        let node = &block.nodes[id];
        let p = print_node(node, &printed, d, idents)?;
        // `-t0` or `-x` is as cheap to repeat as to name.
        let cheap = node.is_leaf() || matches!(node, Node::Neg(c) if named[*c]);
        if uses[id] >= 2 && !cheap {
            let name = namer.fresh("t", &mut counter);
            temps.push((name.clone(), p.s));
            printed[id] = Printed::atom(name);
            named[id] = true;
        } else {
            named[id] = node.is_leaf();
            printed[id] = p;
        }
    }
    let outputs = block
        .outputs
        .iter()
        .map(|&o| printed[o].s.clone())
        .collect();
    Ok(Emitted { temps, outputs })
}

fn print_node(
    node: &Node,
    printed: &[Printed],
    d: &dyn Dialect,
    idents: &HashMap<Name, String>,
) -> Result<Printed, CodegenError> {
    let p = |id: &Id| printed[*id].clone();
    Ok(match node {
        Node::Lit(bits) => Printed {
            s: d.lit(f64::from_bits(*bits)),
            prec: P_ATOM,
            lit: true,
            typed: false,
        },
        Node::Const(c) => Printed::atom(d.constant(*c)),
        Node::Var(v) => Printed::atom(
            idents
                .get(v)
                .cloned()
                .ok_or_else(|| CodegenError::Internal(format!("no identifier for `{v}`")))?,
        ),
        Node::Sum { pos, neg } => {
            let mut s = String::new();
            for (i, t) in pos.iter().enumerate() {
                if i > 0 {
                    s.push_str(" + ");
                }
                s.push_str(&p(t).at(P_SUM));
            }
            for (i, t) in neg.iter().enumerate() {
                if i == 0 && pos.is_empty() {
                    s.push('-');
                    s.push_str(&p(t).at(P_PROD));
                } else {
                    s.push_str(" - ");
                    s.push_str(&p(t).at(P_PROD));
                }
            }
            let untyped = pos.iter().chain(neg).all(|c| !printed[*c].typed);
            Printed::new(s, P_SUM).untyped_if(untyped)
        }
        Node::Prod { num, den } => {
            let mut s = if num.is_empty() {
                d.lit(1.0)
            } else {
                num.iter()
                    .enumerate()
                    .map(|(i, f)| p(f).at(if i == 0 { P_PROD } else { P_POW }))
                    .collect::<Vec<_>>()
                    .join("*")
            };
            if !den.is_empty() {
                s.push('/');
                if den.len() == 1 {
                    s.push_str(&p(&den[0]).at(P_POW));
                } else {
                    let inner = den
                        .iter()
                        .enumerate()
                        .map(|(i, f)| p(f).at(if i == 0 { P_PROD } else { P_POW }))
                        .collect::<Vec<_>>()
                        .join("*");
                    s.push('(');
                    s.push_str(&inner);
                    s.push(')');
                }
            }
            let untyped = num.iter().chain(den).all(|c| !printed[*c].typed);
            Printed::new(s, P_PROD).untyped_if(untyped)
        }
        Node::Neg(x) => {
            Printed::new(format!("-{}", p(x).at(P_PROD)), P_NEG).untyped_if(!printed[*x].typed)
        }
        Node::Powi(x, n) => d.powi(p(x), *n),
        Node::Powf(x, y) => d.powf(p(x), p(y)),
        Node::Sqrt(x) => d.sqrt(p(x)),
        Node::Call(f, xs) => {
            let want = match f {
                Fun::PolygammaDyn
                | Fun::Lbeta
                | Fun::BesselI
                | Fun::LogBesselI
                | Fun::Indicator => 2,
                _ => 1,
            };
            if xs.len() != want {
                return Err(CodegenError::Internal(format!(
                    "{f:?} called with {} arguments",
                    xs.len()
                )));
            }
            d.call(*f, xs.iter().map(p).collect())?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_subexpressions_are_counted_once() {
        let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("sigma"));
        let d = x - mu;
        let a = Expr::div(Expr::log(d.clone()), Expr::powi(s.clone(), 2));
        let b = Expr::div(Expr::exp(d), Expr::powi(s, 3));
        let block = Block::new(&[a, b]);
        let uses = block.uses();
        let diff = block
            .nodes
            .iter()
            .position(|n| matches!(n, Node::Sum { .. }))
            .expect("x - mu");
        assert_eq!(uses[diff], 2);
    }

    /// The functions called in a block's outputs.
    fn calls(block: &Block) -> Vec<Fun> {
        block
            .order()
            .into_iter()
            .filter_map(|id| match &block.nodes[id] {
                Node::Call(f, _) => Some(*f),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn log_phi_and_the_mills_ratio_go_through_the_tail_safe_functions() {
        let u = Expr::var("u");
        let phi = || Expr::call(Func::NormalCdf, vec![u.clone()]);
        let log_phi = Expr::log(phi());
        let log_one_minus = Expr::log(Expr::sub(Expr::one(), phi()));
        // y exp(-u^2/2)/Phi(u) + (1 - y) exp(-u^2/2)/(1 - Phi(u)), with exp
        // outside the sum as the derivation writes it.
        let y = Expr::var("y");
        let ratio = Expr::mul2(
            Expr::add2(
                Expr::div(y.clone(), phi()),
                Expr::div(Expr::sub(Expr::one(), y), Expr::sub(Expr::one(), phi())),
            ),
            Expr::exp(Expr::div(Expr::neg(Expr::powi(u.clone(), 2)), Expr::int(2))),
        );
        for (e, want) in [
            (log_phi, Fun::LogNormalCdf),
            (log_one_minus, Fun::LogNormalCdf),
            (ratio, Fun::Mills),
        ] {
            let block = Block::new(std::slice::from_ref(&e));
            let fs = calls(&block);
            assert!(fs.contains(&want), "{e}: {fs:?}");
            assert!(!fs.contains(&Fun::NormalCdf), "{e}: {fs:?}");
            assert!(!fs.contains(&Fun::Log), "{e}: {fs:?}");
            assert!(!fs.contains(&Fun::Exp), "{e}: {fs:?}");
        }
    }
}
