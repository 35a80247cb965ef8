//! Printing the language-neutral DAG ([`crate::numeric::lower`], the one
//! lowering the compiled tape runs too): every subexpression used more
//! than once emitted once as a temporary.
//!
//! The lowering puts each expression in its stable form first
//! ([`crate::symbolic::stable`], the same pass the tree walk and the tape
//! run), so the generated code computes what fimkit computes: `1 - Phi(u)`
//! as `Phi(-u)`, `log Phi`, `log sigmoid` and `log besseli` by their
//! tail-safe functions, the probit's φ/Φ by the Mills ratio; its nodes
//! keep the forms a person writes (subtraction and division where
//! written, integer powers by `powi`, `x^(1/2)` by `sqrt`). Printing adds
//! one thing of its own: products that share two factors compute them
//! once ([`Block::share_products`]).

use super::CodegenError;
use super::ident::Namer;
use crate::ir::expr::{Constant, Expr, Name, Rational};
pub(crate) use crate::numeric::lower::Fun;
use crate::numeric::lower::{Dag, Factor, Id, Node, Op};
use std::collections::{BTreeSet, HashMap};

/// Expressions lowered into one shared DAG, with their roots.
#[derive(Clone, Debug, Default)]
pub(crate) struct Block {
    dag: Dag,
    /// Outputs printed twice (off-diagonal matrix entries): computed once.
    pinned: Vec<Id>,
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
            dag: Dag::with_definitions(exprs, consts, definitions),
            pinned: Vec::new(),
        };
        b.share_products();
        b
    }

    /// The root of each lowered expression, in order.
    fn outputs(&self) -> &[Id] {
        self.dag.outputs()
    }

    /// Nodes reachable from the outputs, children before parents.
    fn order(&self) -> Vec<Id> {
        let roots: Vec<Id> = self.outputs().iter().chain(&self.pinned).copied().collect();
        self.dag.order(roots)
    }

    /// Products that share two factors compute them once: `t1*t0` in every
    /// entry of a GLM Hessian becomes a temporary. Greedy, most frequent
    /// pair first; numeric coefficients stay where they are.
    fn share_products(&mut self) {
        for _ in 0..64 {
            let mut pairs: HashMap<(Id, Id), usize> = HashMap::new();
            for id in self.order() {
                let node = self.dag.node(id);
                if !matches!(node, Node::Prod(_)) {
                    continue;
                }
                let num = node.numerator();
                let factors: Vec<Id> = num
                    .iter()
                    .copied()
                    .filter(|f| !matches!(self.dag.node(*f), Node::Lit(_)))
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
            // A product printed as `a*b` already there is the pair, whatever
            // the tape reads in it (a sign kept in a sum): the last one, as
            // the index rebuilt after the previous round has it.
            let printed_as_pair = (0..self.dag.len()).rev().find(|&id| {
                let n = self.dag.node(id);
                matches!(n, Node::Prod(_)) && n.numerator() == [a, b] && n.denominator().is_empty()
            });
            let pair = match printed_as_pair {
                Some(id) => id,
                None => self
                    .dag
                    .intern(Node::Prod(vec![Factor::Times(a), Factor::Times(b)])),
            };
            for id in self.order() {
                if id == pair {
                    continue;
                }
                let num = self.dag.node(id).numerator();
                if !matches!(self.dag.node(id), Node::Prod(_))
                    || !num.contains(&a)
                    || !num.contains(&b)
                {
                    continue;
                }
                // In the numerator, the pair takes the place of the first
                // of its factors; the coefficient and the divisors stay.
                self.dag.rewrite(id, |n| {
                    let Node::Prod(fs) = n else { return };
                    let in_pair = |f: &Factor| {
                        matches!(*f, Factor::Times(x) | Factor::Flipped(x) if x == a || x == b)
                    };
                    let at = fs.iter().position(in_pair).unwrap_or(0);
                    fs.retain(|f| !in_pair(f));
                    fs.insert(at.min(fs.len()), Factor::Times(pair));
                });
            }
            // Contents changed: rebuild the hash-consing index.
            self.dag.reindex();
        }
    }

    /// Is node `id` a product of exactly two factors and nothing else?
    fn is_pair(&self, id: Id) -> bool {
        let n = self.dag.node(id);
        matches!(n, Node::Prod(_)) && n.numerator().len() == 2 && n.denominator().is_empty()
    }

    /// Output `k` is printed twice (an off-diagonal entry of a symmetric
    /// matrix): compute it once, as a temporary.
    pub(crate) fn pin_output(&mut self, k: usize) {
        self.pinned.push(self.outputs()[k]);
    }

    /// Every function the block calls.
    pub(crate) fn funs(&self) -> BTreeSet<Fun> {
        self.order()
            .into_iter()
            .filter_map(|id| match self.dag.node(id) {
                Node::Apply(Op::Call(f), _) => Some(*f),
                _ => None,
            })
            .collect()
    }

    /// The model variables the block reads.
    pub(crate) fn vars(&self) -> BTreeSet<Name> {
        self.order()
            .into_iter()
            .filter_map(|id| match self.dag.node(id) {
                Node::Var(v) => Some(v.clone()),
                _ => None,
            })
            .collect()
    }

    /// Number of operations left after sharing (a size figure).
    pub(crate) fn len(&self) -> usize {
        self.order()
            .into_iter()
            .filter(|id| !self.dag.node(*id).is_leaf())
            .count()
    }

    /// Number of operations without sharing: every output written out as
    /// a tree.
    pub(crate) fn tree_len(&self) -> usize {
        let mut size = vec![0usize; self.dag.len()];
        for id in self.order() {
            let n = self.dag.node(id);
            size[id] =
                usize::from(!n.is_leaf()) + n.children().iter().map(|c| size[*c]).sum::<usize>();
        }
        self.outputs().iter().map(|o| size[*o]).sum()
    }

    /// How often each node is referenced (by parents and as an output).
    fn uses(&self) -> Vec<usize> {
        let mut uses = vec![0usize; self.dag.len()];
        for id in self.order() {
            for c in self.dag.node(id).children() {
                uses[c] += 1;
            }
        }
        for &o in self.outputs().iter().chain(&self.pinned) {
            uses[o] += 1;
        }
        uses
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
    let mut printed: Vec<Printed> = vec![Printed::atom(String::new()); block.dag.len()];
    let mut temps = Vec::new();
    let mut counter = 0usize;
    // Leaves and temporaries: a name or a literal.
    let mut named = vec![false; block.dag.len()];
    for id in block.order() {
        let node = block.dag.node(id);
        let p = print_node(node, &printed, d, idents)?;
        // `-t0` or `-x` is as cheap to repeat as to name.
        let cheap = node.is_leaf() || matches!(node, Node::Apply(Op::Neg, c) if named[c[0]]);
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
        .outputs()
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
        Node::Lit(bits) => literal(d, f64::from_bits(*bits)),
        Node::Const(c) => Printed::atom(d.constant(*c)),
        Node::Var(v) => Printed::atom(
            idents
                .get(v)
                .cloned()
                .ok_or_else(|| CodegenError::Internal(format!("no identifier for `{v}`")))?,
        ),
        Node::Sum(_) => {
            let (pos, neg) = (node.added(), node.subtracted());
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
            let untyped = pos.iter().chain(&neg).all(|c| !printed[*c].typed);
            Printed::new(s, P_SUM).untyped_if(untyped)
        }
        Node::Prod(_) => {
            let (num, den) = (node.numerator(), node.denominator());
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
            let untyped = num.iter().chain(&den).all(|c| !printed[*c].typed);
            Printed::new(s, P_PROD).untyped_if(untyped)
        }
        Node::Apply(op, xs) => match (*op, &xs[..]) {
            (Op::Neg, [x]) => {
                Printed::new(format!("-{}", p(x).at(P_PROD)), P_NEG).untyped_if(!printed[*x].typed)
            }
            (Op::Powi(n), [x]) => d.powi(p(x), n),
            // A number as the exponent: printed as a literal is.
            (Op::Powf(v), [x]) => d.powf(p(x), literal(d, v)),
            (Op::Pow, [x, y]) => d.powf(p(x), p(y)),
            (Op::Sqrt, [x]) => d.sqrt(p(x)),
            (Op::Call(f), _) if xs.len() == f.arity() => d.call(f, xs.iter().map(p).collect())?,
            // Sums and products are `Node::Sum` and `Node::Prod`.
            (op, _) => {
                let what = match op {
                    Op::Call(f) => format!("{f:?}"),
                    op => format!("{op:?}"),
                };
                return Err(CodegenError::Internal(format!(
                    "{what} called with {} arguments",
                    xs.len()
                )));
            }
        },
    })
}

/// A non-negative literal as printed code.
fn literal(d: &dyn Dialect, v: f64) -> Printed {
    Printed {
        s: d.lit(v),
        prec: P_ATOM,
        lit: true,
        typed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::expr::Func;

    #[test]
    fn shared_subexpressions_are_counted_once() {
        let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("sigma"));
        let d = x - mu;
        let a = Expr::div(Expr::log(d.clone()), Expr::powi(s.clone(), 2));
        let b = Expr::div(Expr::exp(d), Expr::powi(s, 3));
        let block = Block::new(&[a, b]);
        let uses = block.uses();
        let diff = (0..block.dag.len())
            .find(|&id| matches!(block.dag.node(id), Node::Sum(_)))
            .expect("x - mu");
        assert_eq!(uses[diff], 2);
    }

    /// The functions called in a block's outputs.
    fn calls(block: &Block) -> Vec<Fun> {
        block
            .order()
            .into_iter()
            .filter_map(|id| match block.dag.node(id) {
                Node::Apply(Op::Call(f), _) => Some(*f),
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

    /// A product printed as a pair of shared factors is that pair's
    /// temporary, not a copy of it: the probit's Hessian entry
    /// `z1*(y - 1 ...)` (its sign kept in the sum) is the `z1*t1` that the
    /// entries `z1*z2*t1` share.
    #[test]
    fn a_shared_pair_is_not_copied_into_a_second_temporary() {
        let src = include_str!("../../tests/fixtures/structure/probit3.fim");
        let model = crate::load(src, "probit3").expect("loads");
        let code = super::super::derive_and_generate(
            &model,
            super::super::Lang::Python,
            &super::super::CodegenConfig::default(),
        )
        .expect("generates")
        .code;
        let copies: Vec<&str> = code
            .lines()
            .map(str::trim)
            .filter(|l| {
                l.split_once(" = ").is_some_and(|(a, b)| {
                    let temp = |s: &str| {
                        s.strip_prefix('t')
                            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
                    };
                    temp(a) && temp(b)
                })
            })
            .collect();
        assert!(copies.is_empty(), "{copies:?}\n{code}");
        assert!(code.contains("t2 = z1*t1"), "{code}");
    }
}
