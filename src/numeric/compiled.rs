//! Compile expressions once into a flat instruction tape and evaluate it
//! many times, generic over the dual number type.
//!
//! Compilation:
//! * **Shared subexpressions.** The expressions are lowered by the one
//!   lowering every evaluator and printer uses ([`crate::numeric::lower`]),
//!   so a subexpression shared anywhere in them (the linear predictor
//!   inside a log-likelihood, a `lgamma(alpha)` in the value and its
//!   score) is one node, computed once. Instructions are numbered by
//!   their operation and operand registers, so what folding makes equal
//!   is computed once too.
//! * **Structural zeros.** Each register is classified by what it depends
//!   on: constants (folded at compile time), data only, parameters only, or
//!   both. Only parameter-dependent registers use dual arithmetic; data
//!   work runs in plain `f64`. N-ary sums and products add their data parts
//!   in `f64` first and touch the dual chain once.
//! * **Hoisting.** Parameter-only instructions (`lgamma(alpha)`,
//!   `alpha*log(beta)`) run once per parameter point
//!   ([`Tape::set_params`]), not once per data row ([`Tape::eval_row`]).
//!
//! Evaluation writes into a reusable [`Workspace`]: no allocation per
//! row for `Copy` dual types. [`Tape::par_map_rows`] spreads rows over
//! threads with rayon.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::numeric::compiled::Tape;
//! use num_dual::{Dual64, DualNum};
//! let (x, mu) = (Expr::var("x"), Expr::var("mu"));
//! let logp = -Expr::powi(x - mu, 2) / Expr::int(2);
//! let tape = Tape::compile(&[logp], &["mu"], &["x"]).unwrap();
//! let mut ws = tape.workspace::<Dual64>();
//! tape.set_params(&[Dual64::from_re(0.5).derivative()], &mut ws).unwrap();
//! tape.eval_row(&[1.5], &mut ws).unwrap();
//! let out = tape.output(&ws, 0);
//! assert_eq!((out.re, out.eps), (-0.5, 1.0));
//! ```

use super::SpecialFunctions;
use super::eval::{EvalError, eval, polygamma_order};
use super::lower::{Dag, Factor, Fun, Id, Node, Op, Term};
use crate::ir::expr::{Expr, Name};
use num_dual::DualNum;
use rayon::prelude::*;
use std::collections::HashMap;

/// A register: plain `f64` or dual.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operand {
    /// A plain `f64` register (constants and data-only values).
    Plain(u32),
    /// A dual register (parameter-dependent values).
    Dual(u32),
}

/// What a value depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Const,
    Data,
    Param,
    Mixed,
}

impl Class {
    fn join(self, other: Class) -> Class {
        use Class::*;
        match (self, other) {
            (Const, c) | (c, Const) => c,
            (Data, Data) => Data,
            (Param, Param) => Param,
            _ => Mixed,
        }
    }
    fn is_plain(self) -> bool {
        matches!(self, Class::Const | Class::Data)
    }
}

/// Hash-consing key of an instruction: its operation and operands.
type Key = (Op, Operand, Operand);

#[derive(Clone, Copy, Debug)]
pub(crate) struct Instr {
    pub(crate) op: Op,
    pub(crate) dst: Operand,
    pub(crate) a: Operand,
    pub(crate) b: Operand,
}

/// Why an expression could not be compiled.
#[derive(Clone, Debug, PartialEq)]
pub enum CompileError {
    /// A variable is neither a parameter nor a data variable.
    UnknownVariable(Name),
    /// A constant subexpression is not finite or an order is unusable.
    Eval(EvalError),
    /// An operation with the wrong number of operands (a hand-built call).
    Arity {
        /// The operation.
        op: String,
        /// Its number of operands.
        args: usize,
    },
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::UnknownVariable(v) => write!(
                f,
                "`{v}` is neither a parameter nor a data variable of the tape"
            ),
            CompileError::Eval(e) => e.fmt(f),
            CompileError::Arity { op, args } => {
                write!(f, "`{op}` cannot be applied to {args} operands")
            }
        }
    }
}

impl std::error::Error for CompileError {}

/// A compiled set of expressions.
#[derive(Clone, Debug)]
pub struct Tape {
    pub(crate) params: Vec<Name>,
    pub(crate) data: Vec<Name>,
    /// Initial plain registers: constants folded at compile time (data slots 0).
    pub(crate) plain_init: Vec<f64>,
    /// Data-only instructions (per row, f64).
    pub(crate) plain_row: Vec<Instr>,
    /// Parameter-only instructions (once per parameter point, dual).
    pub(crate) dual_param: Vec<Instr>,
    /// Instructions depending on both (per row, dual).
    pub(crate) dual_row: Vec<Instr>,
    pub(crate) n_dual: usize,
    pub(crate) outputs: Vec<Operand>,
    pub(crate) exprs: Vec<Expr>,
}

/// Registers for evaluating a [`Tape`] over the dual type `D`.
#[derive(Clone, Debug)]
pub struct Workspace<D> {
    plain: Vec<f64>,
    dual: Vec<D>,
}

struct Builder<'a> {
    dag: &'a Dag,
    params: &'a [Name],
    data: &'a [Name],
    plain_vals: Vec<f64>,
    plain_class: Vec<Class>,
    n_dual: usize,
    dual_class: Vec<Class>,
    plain_row: Vec<Instr>,
    dual_param: Vec<Instr>,
    dual_row: Vec<Instr>,
    memo: HashMap<Key, Operand>,
    consts: HashMap<u64, Operand>,
    /// The register of each node, once compiled.
    done: Vec<Option<Operand>>,
    /// The register of each node's negation, once compiled.
    done_neg: Vec<Option<Operand>>,
}

impl Builder<'_> {
    fn class(&self, o: Operand) -> Class {
        match o {
            Operand::Plain(r) => self.plain_class[r as usize],
            Operand::Dual(r) => self.dual_class[r as usize],
        }
    }

    fn constant(&mut self, v: f64) -> Operand {
        if let Some(o) = self.consts.get(&v.to_bits()) {
            return *o;
        }
        let o = Operand::Plain(self.plain_vals.len() as u32);
        self.plain_vals.push(v);
        self.plain_class.push(Class::Const);
        self.consts.insert(v.to_bits(), o);
        o
    }

    fn const_value(&self, o: Operand) -> Option<f64> {
        match o {
            Operand::Plain(r) if self.plain_class[r as usize] == Class::Const => {
                Some(self.plain_vals[r as usize])
            }
            _ => None,
        }
    }

    /// Emit (or reuse) `op(a, b)`.
    fn emit(&mut self, op: Op, a: Operand, b: Operand) -> Result<Operand, CompileError> {
        let (a, b) = if matches!(op, Op::Add | Op::Mul) && a > b {
            (b, a) // commutative: one key for both orders
        } else {
            (a, b)
        };
        let key = (op, a, b);
        if let Some(o) = self.memo.get(&key) {
            return Ok(*o);
        }
        let class = self.class(a).join(self.class(b));
        let out = if class == Class::Const {
            // Fold now.
            let ca = self.const_value(a).unwrap_or(f64::NAN);
            let cb = self.const_value(b).unwrap_or(f64::NAN);
            let v: f64 = exec(op, Arg::P(ca), Arg::P(cb)).map_err(CompileError::Eval)?;
            self.constant(v)
        } else if class.is_plain() {
            let dst = Operand::Plain(self.plain_vals.len() as u32);
            self.plain_vals.push(0.0);
            self.plain_class.push(class);
            self.plain_row.push(Instr { op, dst, a, b });
            dst
        } else {
            let dst = Operand::Dual(self.n_dual as u32);
            self.n_dual += 1;
            self.dual_class.push(class);
            let ins = Instr { op, dst, a, b };
            if class == Class::Param {
                self.dual_param.push(ins);
            } else {
                self.dual_row.push(ins);
            }
            dst
        };
        self.memo.insert(key, out);
        Ok(out)
    }

    /// Fold a list with a commutative op: plain operands first (in f64),
    /// then the dual ones, then join.
    fn fold(&mut self, op: Op, items: Vec<Operand>) -> Result<Operand, CompileError> {
        let (plain, mut dual): (Vec<_>, Vec<_>) = items
            .into_iter()
            .partition(|o| matches!(o, Operand::Plain(_)));
        // Parameter-only operands first, so their partial sum is hoisted.
        dual.sort_by_key(|o| self.class(*o) != Class::Param);
        let mut acc: Option<Operand> = None;
        for part in [plain, dual] {
            let mut it = part.into_iter();
            let Some(first) = it.next() else { continue };
            let mut p = first;
            for o in it {
                p = self.emit(op, p, o)?;
            }
            acc = Some(match acc {
                None => p,
                Some(a) => self.emit(op, a, p)?,
            });
        }
        Ok(acc.unwrap_or_else(|| self.constant(if op == Op::Mul { 1.0 } else { 0.0 })))
    }

    /// A one-argument operation (the operand is repeated in the second slot).
    fn emit1(&mut self, op: Op, a: Operand) -> Result<Operand, CompileError> {
        self.emit(op, a, a)
    }

    /// The register of node `id`.
    fn node(&mut self, id: Id) -> Result<Operand, CompileError> {
        if let Some(o) = self.done[id] {
            return Ok(o);
        }
        let dag = self.dag;
        let o = match dag.node(id) {
            Node::Lit(bits) => self.constant(f64::from_bits(*bits)),
            Node::Const(c) => self.constant(c.value()),
            Node::Var(v) => {
                if let Some(i) = self.params.iter().position(|p| p == v) {
                    Operand::Dual(i as u32)
                } else if let Some(i) = self.data.iter().position(|p| p == v) {
                    Operand::Plain(i as u32)
                } else {
                    return Err(CompileError::UnknownVariable(v.clone()));
                }
            }
            Node::Sum(terms) => self.sum(terms, false)?,
            Node::Prod(factors) => self.product(factors, false)?,
            Node::Apply(Op::Neg, xs) if xs.len() == 1 => self.negated(xs[0])?,
            Node::Apply(op @ (Op::Powi(_) | Op::Powf(_) | Op::Sqrt), xs) if xs.len() == 1 => {
                let a = self.node(xs[0])?;
                self.emit1(*op, a)?
            }
            Node::Apply(Op::Pow, xs) if xs.len() == 2 => {
                let base = self.node(xs[0])?;
                let ex = self.node(xs[1])?;
                self.emit(Op::Pow, base, ex)?
            }
            Node::Apply(Op::Call(f), xs) if xs.len() == f.arity() => self.call(*f, xs)?,
            Node::Apply(op, xs) => {
                return Err(CompileError::Arity {
                    op: format!("{op:?}"),
                    args: xs.len(),
                });
            }
        };
        self.done[id] = Some(o);
        Ok(o)
    }

    /// The register of minus node `id`: a negative coefficient where the
    /// node has one (`-2x` is `(-2)·x`, as written), else `(-1)·x`.
    fn negated(&mut self, id: Id) -> Result<Operand, CompileError> {
        if let Some(o) = self.done_neg[id] {
            return Ok(o);
        }
        let dag = self.dag;
        let o = match dag.node(id) {
            Node::Lit(bits) => self.constant(-f64::from_bits(*bits)),
            Node::Apply(Op::Neg, xs) if xs.len() == 1 => self.node(xs[0])?,
            Node::Sum(terms) => self.sum(terms, true)?,
            Node::Prod(factors) => self.product(factors, true)?,
            _ => {
                let m1 = self.constant(-1.0);
                let x = self.node(id)?;
                self.fold(Op::Mul, vec![m1, x])?
            }
        };
        self.done_neg[id] = Some(o);
        Ok(o)
    }

    /// A sum, or its negation: its terms added in written order (plain
    /// ones first, see [`Builder::fold`]). A sum of negative terms is `-1`
    /// times its negation, so `Phi(-eta)` (the stable form of
    /// `1 - Phi(eta)`) shares eta's register: one linear form, not two.
    fn sum(&mut self, terms: &[Term], negate: bool) -> Result<Operand, CompileError> {
        let dag = self.dag;
        let negative = |t: &Term| match *t {
            Term::Minus(_) => true,
            Term::Plus(x) => dag.node(x).is_flipped(),
        };
        // Every term of the sum compiled (its negation when `negate`)
        // has a negative coefficient.
        let all_negative = terms.iter().all(|t| negative(t) != negate);
        // Compile each term's negation?
        let flip = negate != all_negative;
        let mut items = Vec::with_capacity(terms.len());
        for t in terms {
            items.push(match (*t, flip) {
                (Term::Plus(x), false) | (Term::Minus(x), true) => self.node(x)?,
                (Term::Plus(x), true) | (Term::Minus(x), false) => self.negated(x)?,
            });
        }
        let p = self.fold(Op::Add, items)?;
        if all_negative {
            let m1 = self.constant(-1.0);
            self.emit(Op::Mul, m1, p)
        } else {
            Ok(p)
        }
    }

    /// A product, or its negation: its factors multiplied in written
    /// order (plain ones first), the coefficient as one number, a divisor
    /// `b^k` as the power `b^-k`.
    fn product(&mut self, factors: &[Factor], negate: bool) -> Result<Operand, CompileError> {
        let mut items = Vec::with_capacity(factors.len() + 1);
        let has_coef = matches!(factors.first(), Some(Factor::Coef { .. }));
        if negate && !has_coef {
            items.push(self.constant(-1.0));
        }
        for f in factors {
            items.push(match *f {
                Factor::Coef { value, num, den } => {
                    let c = f64::from_bits(value);
                    if !negate {
                        self.constant(c)
                    } else if num.is_none() && den.is_none() && c < 0.0 {
                        // -(-1·x·A) is x·A: no coefficient left.
                        continue;
                    } else {
                        self.constant(-c)
                    }
                }
                Factor::Times(x) => self.node(x)?,
                Factor::Flipped(x) => self.negated(x)?,
                Factor::Over(x) => self.reciprocal_power(x)?,
            });
        }
        self.fold(Op::Mul, items)
    }

    /// `b^-k` for a divisor node `b^k`.
    fn reciprocal_power(&mut self, id: Id) -> Result<Operand, CompileError> {
        let dag = self.dag;
        let (op, base) = match dag.node(id) {
            Node::Apply(Op::Powi(n), xs) if xs.len() == 1 => (Op::Powi(-n), xs[0]),
            Node::Apply(Op::Sqrt, xs) if xs.len() == 1 => (Op::Powf(-0.5), xs[0]),
            Node::Apply(Op::Powf(p), xs) if xs.len() == 1 => (Op::Powf(-p), xs[0]),
            _ => (Op::Powi(-1), id),
        };
        let b = self.node(base)?;
        self.emit1(op, b)
    }

    /// A call. Polygamma of an order known when lowering takes it from a
    /// constant register, as one of a computed order does.
    fn call(&mut self, f: Fun, xs: &[Id]) -> Result<Operand, CompileError> {
        let order = match f {
            Fun::Digamma => Some(0),
            Fun::Polygamma(n) => Some(n),
            _ => None,
        };
        if let Some(n) = order {
            let a = self.constant(f64::from(n));
            let b = self.node(xs[0])?;
            return self.emit(Op::Call(Fun::PolygammaDyn), a, b);
        }
        match xs {
            [x] => {
                let a = self.node(*x)?;
                self.emit1(Op::Call(f), a)
            }
            [x, y] => {
                let a = self.node(*x)?;
                let b = self.node(*y)?;
                self.emit(Op::Call(f), a, b)
            }
            _ => Err(CompileError::Arity {
                op: format!("{f:?}"),
                args: xs.len(),
            }),
        }
    }
}

/// An operand's value during execution.
#[derive(Clone, Copy)]
pub(crate) enum Arg<'a, D> {
    P(f64),
    D(&'a D),
}

impl<D: DualNum<Primitive = f64>> Arg<'_, D> {
    fn re(&self) -> f64 {
        match self {
            Arg::P(x) => *x,
            Arg::D(d) => d.re(),
        }
    }
    fn into_dual(self) -> D {
        match self {
            Arg::P(x) => D::from(x),
            Arg::D(d) => d.clone(),
        }
    }
}

/// The one dual register an instruction reads, if it reads exactly one
/// (a unary operation repeats its operand).
pub(crate) fn single_dual(a: Operand, b: Operand) -> Option<u32> {
    match (a, b) {
        (Operand::Dual(x), Operand::Dual(y)) if x == y => Some(x),
        (Operand::Dual(x), Operand::Plain(_)) | (Operand::Plain(_), Operand::Dual(x)) => Some(x),
        _ => None,
    }
}

/// Execute one operation.
pub(crate) fn exec<D: DualNum<Primitive = f64>>(
    op: Op,
    a: Arg<D>,
    b: Arg<D>,
) -> Result<D, EvalError> {
    Ok(match op {
        Op::Add => match (a, b) {
            (Arg::P(x), Arg::P(y)) => D::from(x + y),
            (Arg::D(d), Arg::P(p)) | (Arg::P(p), Arg::D(d)) => d.clone() + p,
            (Arg::D(x), Arg::D(y)) => x.clone() + y,
        },
        Op::Mul => match (a, b) {
            (Arg::P(x), Arg::P(y)) => D::from(x * y),
            (Arg::D(d), Arg::P(p)) | (Arg::P(p), Arg::D(d)) => d.clone() * p,
            (Arg::D(x), Arg::D(y)) => x.clone() * y,
        },
        Op::Powi(n) => match a {
            Arg::P(x) => D::from(x.powi(n)),
            Arg::D(d) => super::dual::powi(d, n),
        },
        Op::Powf(p) => match a {
            Arg::P(x) => D::from(x.powf(p)),
            Arg::D(d) => d.powf(p),
        },
        Op::Sqrt => a.into_dual().sqrt(),
        Op::Pow => match (a, b) {
            (Arg::P(x), Arg::P(y)) => D::from(x.powf(y)),
            (Arg::P(x), e) => (e.into_dual() * x.ln()).exp(),
            (base, e) => (e.into_dual() * base.into_dual().ln()).exp(),
        },
        Op::Neg => -a.into_dual(),
        Op::Call(f) => match f {
            // Two arguments: polygamma(n, x), besseli(nu, x), log
            // besseli, lbeta, indicator.
            Fun::PolygammaDyn => b.into_dual().polygamma(polygamma_order(a.re())?),
            Fun::BesselI => b.into_dual().besseli(a.re()),
            Fun::LogBesselI => b.into_dual().log_besseli(a.re()),
            Fun::Lbeta => a.into_dual().lbeta(&b.into_dual()),
            Fun::Indicator => D::from(if a.re() == b.re() { 1.0 } else { 0.0 }),
            // A plain number's log and exp as the blocks compute them (the
            // same bits).
            Fun::Log if matches!(a, Arg::P(_)) => D::from(super::vmath::ln(a.re())),
            Fun::Exp if matches!(a, Arg::P(_)) => D::from(super::vmath::exp(a.re())),
            // A plain number's σ and log σ as [`Tails`] computes them.
            Fun::Sigmoid if matches!(a, Arg::P(_)) => {
                let x = a.re();
                D::from(sigmoid_from(x, super::vmath::exp(-x.abs())))
            }
            Fun::LogSigmoid if matches!(a, Arg::P(_)) => {
                let x = a.re();
                let e = super::vmath::exp(-x.abs());
                D::from(log_sigmoid_from(x, super::vmath::ln_1p(e)))
            }
            // One argument, the internal tail-safe ones of
            // `symbolic::stable` included (`log Φ`, `log σ`, the Mills
            // ratio).
            f => {
                let x = a.into_dual();
                match f {
                    Fun::Log => x.ln(),
                    Fun::Exp => x.exp(),
                    Fun::Log1p => x.ln_1p(),
                    Fun::Expm1 => x.exp_m1(),
                    Fun::Sigmoid => x.sigmoid(),
                    Fun::Lgamma => x.lgamma(),
                    Fun::Digamma => x.polygamma(0),
                    Fun::Polygamma(n) => x.polygamma(n),
                    Fun::Erf => SpecialFunctions::erf(&x),
                    Fun::Erfc => SpecialFunctions::erfc(&x),
                    Fun::Sin => x.sin(),
                    Fun::Cos => x.cos(),
                    Fun::Abs => num_traits::Signed::abs(&x),
                    Fun::NormalCdf => x.normal_cdf(),
                    Fun::LogNormalCdf => x.log_normal_cdf(),
                    Fun::LogSigmoid => x.log_sigmoid(),
                    Fun::Mills => x.mills(),
                    Fun::MillsShift => x.mills_shift(),
                    Fun::PolygammaDyn
                    | Fun::BesselI
                    | Fun::LogBesselI
                    | Fun::Lbeta
                    | Fun::Indicator => D::from(f64::NAN),
                }
            }
        },
    })
}

impl Tape {
    /// Compile `exprs` with the differentiation variables `params` and the
    /// per-row variables `data` (data, covariates and any constants not
    /// substituted). Every free variable must be one of the two.
    pub fn compile(
        exprs: &[Expr],
        params: &[impl AsRef<str>],
        data: &[impl AsRef<str>],
    ) -> Result<Tape, CompileError> {
        Tape::compile_with_definitions(exprs, &[], params, data)
    }

    /// [`Tape::compile`] for expressions that use named intermediates
    /// (`definitions`, in order, each in the variables and the names
    /// before it): each is computed once per row, as a register.
    ///
    /// ```
    /// use fimkit::ir::Expr;
    /// use fimkit::numeric::compiled::Tape;
    /// let defs = vec![("eta".into(), Expr::var("b") * Expr::var("z"))];
    /// let f = Expr::exp(Expr::var("eta"));
    /// let tape = Tape::compile_with_definitions(&[f], &defs, &["b"], &["z"]).unwrap();
    /// let mut ws = tape.workspace::<f64>();
    /// tape.eval(&[0.5], &[2.0], &mut ws).unwrap();
    /// assert!((tape.output(&ws, 0) - 1f64.exp()).abs() < 1e-15);
    /// ```
    pub fn compile_with_definitions(
        exprs: &[Expr],
        definitions: &[(Name, Expr)],
        params: &[impl AsRef<str>],
        data: &[impl AsRef<str>],
    ) -> Result<Tape, CompileError> {
        let params: Vec<Name> = params.iter().map(|p| Name::from(p.as_ref())).collect();
        let data: Vec<Name> = data.iter().map(|p| Name::from(p.as_ref())).collect();
        // Every evaluator computes the stable form: the lowering runs it.
        let dag = Dag::with_definitions(exprs, HashMap::new(), definitions);
        let mut b = Builder {
            dag: &dag,
            params: &params,
            data: &data,
            plain_vals: vec![0.0; data.len()],
            plain_class: vec![Class::Data; data.len()],
            n_dual: params.len(),
            dual_class: vec![Class::Param; params.len()],
            plain_row: Vec::new(),
            dual_param: Vec::new(),
            dual_row: Vec::new(),
            memo: HashMap::new(),
            consts: HashMap::new(),
            done: vec![None; dag.len()],
            done_neg: vec![None; dag.len()],
        };
        // Named intermediates first, then the outputs: each node compiled
        // where the expressions first need it.
        for &(_, id) in dag.definitions() {
            b.node(id)?;
        }
        let outputs = dag
            .outputs()
            .iter()
            .map(|&id| b.node(id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Tape {
            plain_init: b.plain_vals,
            plain_row: b.plain_row,
            dual_param: b.dual_param,
            dual_row: b.dual_row,
            n_dual: b.n_dual,
            outputs,
            exprs: exprs.to_vec(),
            params,
            data,
        })
    }

    /// The parameter names, in slot order.
    pub fn params(&self) -> &[Name] {
        &self.params
    }

    /// The data names, in slot order.
    pub fn data(&self) -> &[Name] {
        &self.data
    }

    /// The compiled expressions (output `i` is `exprs()[i]`).
    pub fn exprs(&self) -> &[Expr] {
        &self.exprs
    }

    /// Number of instructions: (data-only in f64, parameter-only dual,
    /// per-row dual).
    pub fn instruction_counts(&self) -> (usize, usize, usize) {
        (
            self.plain_row.len(),
            self.dual_param.len(),
            self.dual_row.len(),
        )
    }

    /// Fresh registers for the dual type `D`.
    pub fn workspace<D: DualNum<Primitive = f64>>(&self) -> Workspace<D> {
        Workspace {
            plain: self.plain_init.clone(),
            dual: vec![D::zero(); self.n_dual],
        }
    }

    fn run<D: DualNum<Primitive = f64>>(
        list: &[Instr],
        ws: &mut Workspace<D>,
    ) -> Result<(), EvalError> {
        run_registers(list, &mut ws.plain, &mut ws.dual, |_, _, _, _, _| None)
    }

    /// Set the parameters and evaluate everything that depends on them only.
    pub fn set_params<D: DualNum<Primitive = f64>>(
        &self,
        params: &[D],
        ws: &mut Workspace<D>,
    ) -> Result<(), EvalError> {
        for (slot, p) in ws.dual.iter_mut().zip(params) {
            *slot = p.clone();
        }
        Self::run(&self.dual_param, ws)
    }

    /// Evaluate one row of data (after [`Tape::set_params`]). A non-finite
    /// output is an error naming the innermost subexpression responsible.
    pub fn eval_row<D: DualNum<Primitive = f64>>(
        &self,
        data: &[f64],
        ws: &mut Workspace<D>,
    ) -> Result<(), EvalError> {
        self.eval_plain_row(data, &mut ws.plain)?;
        Self::run(&self.dual_row, ws)?;
        for (i, o) in self.outputs.iter().enumerate() {
            let re = match *o {
                Operand::Plain(r) => ws.plain[r as usize],
                Operand::Dual(r) => ws.dual[r as usize].re(),
            };
            if !re.is_finite() {
                return Err(self.explain(i, ws, re));
            }
        }
        Ok(())
    }

    /// Find the culprit of a non-finite output with the tree evaluator.
    fn explain<D: DualNum<Primitive = f64>>(
        &self,
        i: usize,
        ws: &Workspace<D>,
        re: f64,
    ) -> EvalError {
        let env = |name: &str| {
            if let Some(k) = self.params.iter().position(|p| &**p == name) {
                return Some(ws.dual[k].re());
            }
            self.data
                .iter()
                .position(|p| &**p == name)
                .map(|k| ws.plain[k])
        };
        match eval::<f64>(&self.exprs[i], &env) {
            Err(e) => e,
            Ok(_) => EvalError::NonFinite {
                expr: super::eval::describe(&self.exprs[i]),
                value: re,
            },
        }
    }

    /// The data-only instructions of one row, in `f64`: `data` into the
    /// first plain registers, then each data-only value.
    pub(crate) fn eval_plain_row(&self, data: &[f64], plain: &mut [f64]) -> Result<(), EvalError> {
        plain[..data.len()].copy_from_slice(data);
        self.run_plain_row(plain)
    }

    /// The data-only instructions on registers whose data slots are set.
    pub(crate) fn run_plain_row(&self, plain: &mut [f64]) -> Result<(), EvalError> {
        for ins in &self.plain_row {
            let get = |o: Operand| match o {
                Operand::Plain(r) => Arg::<f64>::P(plain[r as usize]),
                Operand::Dual(_) => Arg::P(f64::NAN),
            };
            let v: f64 = exec(ins.op, get(ins.a), get(ins.b))?;
            if let Operand::Plain(r) = ins.dst {
                plain[r as usize] = v;
            }
        }
        Ok(())
    }

    /// [`Tape::set_params`] then [`Tape::eval_row`].
    pub fn eval<D: DualNum<Primitive = f64>>(
        &self,
        params: &[D],
        data: &[f64],
        ws: &mut Workspace<D>,
    ) -> Result<(), EvalError> {
        self.set_params(params, ws)?;
        self.eval_row(data, ws)
    }

    /// Output `i` of the last evaluation.
    pub fn output<D: DualNum<Primitive = f64>>(&self, ws: &Workspace<D>, i: usize) -> D {
        match self.outputs[i] {
            Operand::Plain(r) => D::from(ws.plain[r as usize]),
            Operand::Dual(r) => ws.dual[r as usize].clone(),
        }
    }

    /// Evaluate every row (each `data.len()` a multiple of the data width,
    /// row-major) in parallel and map each row's workspace with `f`, e.g. to
    /// extract a Hessian. Rows keep their order in the result.
    pub fn par_map_rows<D, T, F>(
        &self,
        params: &[D],
        rows: &[f64],
        f: F,
    ) -> Result<Vec<T>, EvalError>
    where
        D: DualNum<Primitive = f64> + Send + Sync,
        T: Send,
        F: Fn(&Tape, &Workspace<D>) -> T + Sync,
    {
        let width = self.data.len().max(1);
        let mut base = self.workspace::<D>();
        self.set_params(params, &mut base)?;
        rows.par_chunks(width * 256)
            .map(|chunk| {
                let mut ws = base.clone();
                let mut out = Vec::with_capacity(chunk.len() / width);
                for row in chunk.chunks(width) {
                    self.eval_row(if self.data.is_empty() { &[] } else { row }, &mut ws)?;
                    out.push(f(self, &ws));
                }
                Ok(out)
            })
            .collect::<Result<Vec<Vec<T>>, EvalError>>()
            .map(|v| v.into_iter().flatten().collect())
    }
}

/// Run `list` on the registers `plain` and `dual`: the common arithmetic
/// directly, every other operation by `call` when it gives a value (the
/// linear engine's chain rule for a function of one register), else by
/// [`exec`]. The tape's evaluator and the linear engine's both.
pub(crate) fn run_registers<D: DualNum<Primitive = f64>>(
    list: &[Instr],
    plain: &mut [f64],
    dual: &mut [D],
    call: impl Fn(Op, Operand, Operand, &[f64], &[D]) -> Option<Result<D, EvalError>>,
) -> Result<(), EvalError> {
    for ins in list {
        use Operand::{Dual as Dl, Plain as Pl};
        let v = match (ins.op, ins.a, ins.b) {
            (Op::Add, Dl(a), Dl(b)) => dual[a as usize].clone() + &dual[b as usize],
            (Op::Add, Dl(a), Pl(b)) | (Op::Add, Pl(b), Dl(a)) => {
                dual[a as usize].clone() + plain[b as usize]
            }
            (Op::Mul, Dl(a), Dl(b)) => dual[a as usize].clone() * &dual[b as usize],
            (Op::Mul, Dl(a), Pl(b)) | (Op::Mul, Pl(b), Dl(a)) => {
                dual[a as usize].clone() * plain[b as usize]
            }
            (op, a, b) => match call(op, a, b, plain, dual) {
                Some(v) => v?,
                None => {
                    let get = |o: Operand| match o {
                        Operand::Plain(r) => Arg::P(plain[r as usize]),
                        Operand::Dual(r) => Arg::D(&dual[r as usize]),
                    };
                    exec(op, get(a), get(b))?
                }
            },
        };
        match ins.dst {
            Operand::Dual(r) => dual[r as usize] = v,
            Operand::Plain(r) => plain[r as usize] = v.re(),
        }
    }
    Ok(())
}

impl Tape {
    /// [`Tape::explain`] from plain parameter and data values.
    pub(crate) fn explain_at(&self, i: usize, params: &[f64], data: &[f64], re: f64) -> EvalError {
        let env = |name: &str| {
            if let Some(k) = self.params.iter().position(|p| &**p == name) {
                return params.get(k).copied();
            }
            self.data
                .iter()
                .position(|p| &**p == name)
                .and_then(|k| data.get(k).copied())
        };
        match eval::<f64>(&self.exprs[i], &env) {
            Err(e) => e,
            Ok(_) => EvalError::NonFinite {
                expr: super::eval::describe(&self.exprs[i]),
                value: re,
            },
        }
    }
}

// ----------------------------------------------------------------------
// A block of rows at a time, in plain f64.
// ----------------------------------------------------------------------

/// Column registers for [`Tape::eval_block`]: plain register `r` of the
/// block's row `i` is at `r · capacity + i`, dual register `r` (evaluated
/// in plain `f64` here: the parameters' values, no derivatives) at
/// `(base + r) · capacity + i`.
#[derive(Clone, Debug)]
pub struct BlockWorkspace {
    cols: Vec<f64>,
    cap: usize,
    /// Number of plain registers: where the dual registers' columns start.
    base: usize,
    /// Are the parameter registers set (always, for a tape without
    /// parameters)?
    ready: bool,
    /// The sigmoids' columns: `−|u|`, `e^(−|u|)` and its `log1p`, per
    /// row of the block, kept for the next sigmoid of the same `|u|`.
    tails: Tails,
}

impl BlockWorkspace {
    /// Most rows one block may hold.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    fn col(&self, o: Operand) -> usize {
        match o {
            Operand::Plain(r) => r as usize * self.cap,
            Operand::Dual(r) => (self.base + r as usize) * self.cap,
        }
    }
}

impl Tape {
    /// Registers for blocks of up to `capacity` rows. A tape with
    /// parameters needs their values first ([`Tape::set_block_params`]).
    pub fn block_workspace(&self, capacity: usize) -> BlockWorkspace {
        let cap = capacity.max(1);
        let base = self.plain_init.len();
        let mut cols = vec![0.0; (base + self.n_dual) * cap];
        for (r, v) in self.plain_init.iter().enumerate().skip(self.data.len()) {
            cols[r * cap..(r + 1) * cap].fill(*v);
        }
        BlockWorkspace {
            cols,
            cap,
            base,
            ready: self.params.is_empty(),
            tails: Tails {
                neg_abs: vec![0.0; cap],
                exp: vec![0.0; cap],
                log1p: vec![0.0; cap],
                rows: 0,
                has_log1p: false,
            },
        }
    }

    /// Set the parameters of a block workspace to plain values: what
    /// depends on them only is computed here, once, and copied down its
    /// column. Fails as [`Tape::set_params`] does.
    ///
    /// ```
    /// use fimkit::ir::Expr;
    /// use fimkit::numeric::compiled::Tape;
    /// let (x, mu) = (Expr::var("x"), Expr::var("mu"));
    /// let tape = Tape::compile(&[Expr::exp(mu) * x], &["mu"], &["x"]).unwrap();
    /// let mut ws = tape.block_workspace(4);
    /// tape.set_block_params(&[0.0], &mut ws).unwrap();
    /// tape.eval_block(&[1.0, 2.0, 3.0], 3, &mut ws).unwrap();
    /// assert_eq!(&tape.block_output(&ws, 0)[..3], &[1.0, 2.0, 3.0]);
    /// ```
    pub fn set_block_params(
        &self,
        theta: &[f64],
        ws: &mut BlockWorkspace,
    ) -> Result<(), EvalError> {
        ws.ready = false;
        if theta.len() != self.params.len() {
            return Err(EvalError::NonFinite {
                expr: "a block's parameters".into(),
                value: f64::NAN,
            });
        }
        let mut plain = self.plain_init.clone();
        let mut dual = vec![0.0; self.n_dual];
        dual[..theta.len()].copy_from_slice(theta);
        run_registers(&self.dual_param, &mut plain, &mut dual, |_, _, _, _, _| {
            None
        })?;
        let cap = ws.cap;
        for (r, v) in dual.iter().enumerate() {
            let c = (ws.base + r) * cap;
            ws.cols[c..c + cap].fill(*v);
        }
        ws.ready = true;
        Ok(())
    }

    /// Evaluate the tape in plain `f64` on `n` rows (row-major in `rows`,
    /// `n ≤ capacity`), one instruction at a time over the whole block;
    /// read the results with [`Tape::block_output`]. Fails on the first
    /// instruction error or non-finite output in the block (the row is not
    /// identified: rerun the rows with [`Tape::eval_row`]).
    pub fn eval_block(
        &self,
        rows: &[f64],
        n: usize,
        ws: &mut BlockWorkspace,
    ) -> Result<(), EvalError> {
        self.eval_block_unchecked(rows, n, ws)?;
        self.check_block_outputs(n, ws)
    }

    /// [`Tape::eval_block`] on a block whose data columns the caller
    /// filled ([`Tape::block_data_mut`]).
    pub(crate) fn eval_filled_block(
        &self,
        n: usize,
        ws: &mut BlockWorkspace,
    ) -> Result<(), EvalError> {
        self.run_block(n, ws)?;
        self.check_block_outputs(n, ws)
    }

    /// Are the outputs of the block's first `n` rows finite?
    fn check_block_outputs(&self, n: usize, ws: &BlockWorkspace) -> Result<(), EvalError> {
        for o in &self.outputs {
            let c = ws.col(*o);
            if let Some(bad) = ws.cols[c..c + n].iter().find(|v| !v.is_finite()) {
                return Err(EvalError::NonFinite {
                    expr: "a block of rows".into(),
                    value: *bad,
                });
            }
        }
        Ok(())
    }

    /// [`Tape::eval_block`] without the final check that the outputs are
    /// finite (for callers that check what they compute from them); an
    /// instruction's error is still an error.
    pub(crate) fn eval_block_unchecked(
        &self,
        rows: &[f64],
        n: usize,
        ws: &mut BlockWorkspace,
    ) -> Result<(), EvalError> {
        let (w, cap) = (self.data.len(), ws.cap);
        if n > cap || !ws.ready || ws.base != self.plain_init.len() {
            return Err(EvalError::NonFinite {
                expr: "a block of rows".into(),
                value: f64::NAN,
            });
        }
        for j in 0..w {
            load_column(&mut ws.cols[j * cap..j * cap + n], rows, w, j);
        }
        self.run_block(n, ws)
    }

    /// Data column `j` of a block workspace, for a caller that fills the
    /// block's data itself before [`Tape::run_block`].
    pub(crate) fn block_data_mut<'a>(&self, ws: &'a mut BlockWorkspace, j: usize) -> &'a mut [f64] {
        &mut ws.cols[j * ws.cap..(j + 1) * ws.cap]
    }

    /// The data columns some instruction or output reads, in order.
    pub(crate) fn data_read(&self) -> Vec<usize> {
        let w = self.data.len();
        let all = [&self.plain_row, &self.dual_param, &self.dual_row];
        let mut cols: Vec<usize> = (all.iter().flat_map(|l| l.iter()))
            .flat_map(|ins| [ins.a, ins.b])
            .chain(self.outputs.iter().copied())
            .filter_map(|o| match o {
                Operand::Plain(r) if (r as usize) < w => Some(r as usize),
                _ => None,
            })
            .collect();
        cols.sort_unstable();
        cols.dedup();
        cols
    }

    /// The per-row instructions over the first `n` rows of a block whose
    /// data columns are filled ([`Tape::eval_block_unchecked`] without
    /// reading the rows).
    pub(crate) fn run_block(&self, n: usize, ws: &mut BlockWorkspace) -> Result<(), EvalError> {
        if n > ws.cap || !ws.ready || ws.base != self.plain_init.len() {
            return Err(EvalError::NonFinite {
                expr: "a block of rows".into(),
                value: f64::NAN,
            });
        }
        for ins in self.plain_row.iter().chain(&self.dual_row) {
            let (a, b, dst) = (ws.col(ins.a), ws.col(ins.b), ws.col(ins.dst));
            // SSA: registers are numbered as they are made, plain before
            // dual, so the destination's column is after its operands'.
            let (lo, hi) = ws.cols.split_at_mut(dst);
            match ins.op {
                Op::Call(f @ (Fun::Sigmoid | Fun::LogSigmoid)) => {
                    ws.tails
                        .sigmoid(f == Fun::LogSigmoid, &lo[a..a + n], &mut hi[..n]);
                }
                op => block_op(op, &lo[a..a + n], &lo[b..b + n], &mut hi[..n])?,
            }
        }
        Ok(())
    }

    /// Output `i` of the last [`Tape::eval_block`], one value per row
    /// (at least as many as the block had rows).
    pub fn block_output<'a>(&self, ws: &'a BlockWorkspace, i: usize) -> &'a [f64] {
        let c = ws.col(self.outputs[i]);
        &ws.cols[c..c + ws.cap]
    }
}

/// [`BlockWorkspace::tails`].
#[derive(Clone, Debug)]
struct Tails {
    neg_abs: Vec<f64>,
    exp: Vec<f64>,
    log1p: Vec<f64>,
    /// Rows of the block `exp` (and, with `has_log1p`, `log1p`) hold the
    /// values of `neg_abs` for; 0 when they hold nothing.
    rows: usize,
    has_log1p: bool,
}

impl Tails {
    /// `σ(x)` or (`log`) `log σ(x)` over a block, from `e^(−|x|)` and its
    /// `log1p` by [`vmath`](super::vmath)'s blocks: bit for bit what
    /// [`exec`] gives one plain number at a time.
    fn sigmoid(&mut self, log: bool, x: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked on the line above.
            return unsafe { self.sigmoid_avx2(log, x, out) };
        }
        self.sigmoid_lanes(log, x, out)
    }

    /// [`Tails::sigmoid`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn sigmoid_avx2(&mut self, log: bool, x: &[f64], out: &mut [f64]) {
        self.sigmoid_lanes(log, x, out)
    }

    /// The loops of [`Tails::sigmoid`], inlined into each instruction-set
    /// version. `σ(η)`, `σ(−η)`, `log σ(η)` and `log σ(−η)` of a block
    /// share `|η|`: when a call's `−|x|` are the last call's, bit for bit,
    /// their exponentials (and `log1p`) are still in the columns.
    #[inline(always)]
    fn sigmoid_lanes(&mut self, log: bool, x: &[f64], out: &mut [f64]) {
        let n = out.len();
        let (neg_abs, exp) = (&mut self.neg_abs[..n], &mut self.exp[..n]);
        let mut changed = 0u64;
        for (a, x) in neg_abs.iter_mut().zip(x) {
            let v = -x.abs();
            changed |= a.to_bits() ^ v.to_bits();
            *a = v;
        }
        if changed != 0 || self.rows != n {
            super::vmath::exp_block(neg_abs, exp);
            (self.rows, self.has_log1p) = (n, false);
        }
        if log {
            let log1p = &mut self.log1p[..n];
            if !self.has_log1p {
                super::vmath::ln_1p_block(exp, log1p);
                self.has_log1p = true;
            }
            for (o, (&x, &l)) in out.iter_mut().zip(x.iter().zip(log1p.iter())) {
                *o = log_sigmoid_from(x, l);
            }
        } else {
            for (o, (&x, &e)) in out.iter_mut().zip(x.iter().zip(exp.iter())) {
                *o = sigmoid_from(x, e);
            }
        }
    }
}

/// `σ(x)` from `e = e^(−|x|)`: `1/(1 + e)` for x ≥ 0, `e/(1 + e)` (as
/// `e · 1/(1 + e)`) below, without overflow for any x.
#[inline(always)]
fn sigmoid_from(x: f64, e: f64) -> f64 {
    let big = 1.0 / (1.0 + e);
    if x >= 0.0 { big } else { e * big }
}

/// `log σ(x) = min(x, 0) − log(1 + e^(−|x|))` from the `log1p` term.
#[inline(always)]
fn log_sigmoid_from(x: f64, log1p: f64) -> f64 {
    x.min(0.0) - log1p
}

/// One operation over a block's columns: the common ones in loops the
/// compiler vectorizes (four lanes where the CPU has AVX2, chosen at run
/// time: the build targets baseline x86-64), the rest through [`exec`]
/// element by element. The lanes do not change a result: each lane
/// Column `j` of the row-major `rows` (`w` numbers a row) into `dst`, one
/// row per slot (`dst.len()` rows): how a block's data columns are filled.
pub(crate) fn load_column(dst: &mut [f64], rows: &[f64], w: usize, j: usize) {
    if w == 1 {
        dst.copy_from_slice(&rows[..dst.len()]);
        return;
    }
    for (d, &v) in dst.iter_mut().zip(rows[j..].iter().step_by(w)) {
        *d = v;
    }
}

/// rounds as the scalar operation does, and no multiply-add is fused.
fn block_op(op: Op, x: &[f64], y: &[f64], out: &mut [f64]) -> Result<(), EvalError> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked on the line above.
        return unsafe { block_op_avx2(op, x, y, out) };
    }
    block_op_lanes(op, x, y, out)
}

/// [`block_op`] compiled for AVX2.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn block_op_avx2(op: Op, x: &[f64], y: &[f64], out: &mut [f64]) -> Result<(), EvalError> {
    block_op_lanes(op, x, y, out)
}

/// The loops of [`block_op`], inlined into each instruction-set version.
#[inline(always)]
fn block_op_lanes(op: Op, x: &[f64], y: &[f64], out: &mut [f64]) -> Result<(), EvalError> {
    match op {
        Op::Add => out
            .iter_mut()
            .zip(x.iter().zip(y))
            .for_each(|(o, (x, y))| *o = x + y),
        Op::Mul => out
            .iter_mut()
            .zip(x.iter().zip(y))
            .for_each(|(o, (x, y))| *o = x * y),
        // `exec`'s plain arithmetic, without its dispatch per element.
        Op::Powi(-1) => out.iter_mut().zip(x).for_each(|(o, x)| *o = x.powi(-1)),
        Op::Powi(2) => out.iter_mut().zip(x).for_each(|(o, x)| *o = x.powi(2)),
        Op::Powi(-2) => out.iter_mut().zip(x).for_each(|(o, x)| *o = x.powi(-2)),
        Op::Powi(k) => out.iter_mut().zip(x).for_each(|(o, x)| *o = x.powi(k)),
        Op::Sqrt => out.iter_mut().zip(x).for_each(|(o, x)| *o = x.sqrt()),
        Op::Call(Fun::Log) => super::vmath::ln_block(x, out),
        Op::Call(Fun::Exp) => super::vmath::exp_block(x, out),
        op => {
            for (o, (x, y)) in out.iter_mut().zip(x.iter().zip(y)) {
                *o = exec::<f64>(op, Arg::P(*x), Arg::P(*y))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_column_reads_one_column_of_rows() {
        let rows = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut col = [0.0; 2];
        load_column(&mut col, &rows, 3, 2);
        assert_eq!(col, [3.0, 6.0]);
        let mut head = [0.0; 4];
        load_column(&mut head, &rows, 1, 0);
        assert_eq!(head, [1.0, 2.0, 3.0, 4.0]);
    }

    /// The tape's instructions and registers in a form that does not
    /// depend on how the op enum spells an operation: what the pins below
    /// were computed from.
    fn listing(t: &Tape) -> String {
        let reg = |o: Operand| match o {
            Operand::Plain(r) => format!("p{r}"),
            Operand::Dual(r) => format!("d{r}"),
        };
        let op = |op: Op| match op {
            Op::Add => "add".to_string(),
            Op::Mul => "mul".to_string(),
            Op::Powi(n) => format!("powi{n}"),
            Op::Powf(p) => format!("powf{:x}", p.to_bits()),
            Op::Sqrt => "sqrt".to_string(),
            Op::Pow => "pow".to_string(),
            Op::Neg => "neg".to_string(),
            Op::Call(Fun::PolygammaDyn) => "polygamma".to_string(),
            // The names of the language's functions (`Func::name`), which
            // the pins were computed with.
            Op::Call(f) => match f {
                Fun::NormalCdf => "Phi".to_string(),
                Fun::LogNormalCdf => "log_Phi".to_string(),
                Fun::LogSigmoid => "log_sigmoid".to_string(),
                Fun::LogBesselI => "log_besseli".to_string(),
                Fun::MillsShift => "mills_shift".to_string(),
                f => format!("{f:?}").to_lowercase(),
            },
        };
        let mut s = String::new();
        for (name, list) in [
            ("plain", &t.plain_row),
            ("param", &t.dual_param),
            ("row", &t.dual_row),
        ] {
            s.push_str(name);
            s.push('\n');
            for i in list {
                s.push_str(&format!(
                    "{} = {} {} {}\n",
                    reg(i.dst),
                    op(i.op),
                    reg(i.a),
                    reg(i.b)
                ));
            }
        }
        let init: Vec<String> = t
            .plain_init
            .iter()
            .map(|v| format!("{:x}", v.to_bits()))
            .collect();
        let outs: Vec<String> = t.outputs.iter().map(|o| reg(*o)).collect();
        s.push_str(&format!(
            "init {}\nduals {}\nout {}\n",
            init.join(" "),
            t.n_dual,
            outs.join(" ")
        ));
        s
    }

    /// FNV-1a, 64 bits: a fingerprint of a listing.
    fn fnv(s: &str) -> u64 {
        s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    }

    /// The log-density, its gradient and its Hessian's lower triangle of
    /// a model file, compiled to one tape each.
    fn tapes(path: &str) -> Vec<(String, Tape)> {
        let src = std::fs::read_to_string(path).expect("model file");
        let m = crate::load(&src, "m").expect("model loads");
        let params: Vec<String> = m.params.iter().map(|p| p.name.to_string()).collect();
        let logp = m.logp_numeric();
        let data: Vec<String> = {
            let mut v: Vec<String> = logp
                .free_vars()
                .into_iter()
                .map(|v| v.to_string())
                .collect();
            v.retain(|v| !params.contains(v));
            v.sort();
            v
        };
        let grad = crate::symbolic::gradient(&logp, &params);
        let hess: Vec<Expr> = crate::symbolic::hessian(&logp, &params)
            .into_iter()
            .enumerate()
            .flat_map(|(i, row)| row.into_iter().take(i + 1))
            .collect();
        [("logp", vec![logp]), ("grad", grad), ("hess", hess)]
            .into_iter()
            .filter_map(|(what, es)| {
                Tape::compile(&es, &params, &data)
                    .ok()
                    .map(|t| (what.to_string(), t))
            })
            .collect()
    }

    /// The instruction lists of the tapes before they were built from the
    /// shared lowering ([`crate::numeric::lower`]): counts (data-only,
    /// parameter-only, per-row), dual registers, and a fingerprint of the
    /// whole listing (every instruction, register and constant), computed
    /// on the tape's own lowering and asserted since. A pin moves when the
    /// compiled expressions change (a new differentiation rule): compare
    /// the listings then.
    #[test]
    fn instruction_lists_are_pinned() {
        #[rustfmt::skip]
        let pins = [
            ("examples/logistic_regression.fim", "logp", (2, 0, 10), 13, 0xa788_d27d_5725_f3e8),
            ("examples/gamma.fim", "logp", (3, 7, 4), 13, 0x378e_0f72_b474_bfa5),
            ("examples/gamma.fim", "hess", (0, 6, 0), 8, 0x9641_3b9b_0208_dac2),
            ("examples/probit_regression.fim", "logp", (2, 0, 10), 13, 0x66b1_923d_a54e_5e2c),
            ("examples/normal.fim", "grad", (1, 4, 6), 12, 0x1895_aa20_cbb1_a69f),
            ("tests/fixtures/textbook/negative_binomial.fim", "logp", (7, 5, 3), 9, 0x3b72_8446_805c_1209),
        ];
        let root = env!("CARGO_MANIFEST_DIR");
        for (file, what, counts, duals, print) in pins {
            let all = tapes(&format!("{root}/{file}"));
            let (_, t) = all.iter().find(|(w, _)| w == what).expect("compiles");
            assert_eq!(t.instruction_counts(), counts, "{file} {what}");
            assert_eq!(t.n_dual, duals, "{file} {what}");
            assert_eq!(fnv(&listing(t)), print, "{file} {what}:\n{}", listing(t));
        }
    }

    /// A hand-built call with the wrong number of arguments is refused,
    /// not a panic.
    #[test]
    fn a_call_with_the_wrong_arity_is_an_error() {
        use crate::ir::expr::Func;
        for args in [vec![], vec![Expr::var("x"), Expr::var("x"), Expr::var("x")]] {
            let e = Expr::Call(Func::Log, args.into());
            let err = Tape::compile(&[e], &["x"], &[] as &[&str]).expect_err("refused");
            assert!(matches!(err, CompileError::Arity { .. }), "{err}");
        }
    }
}
