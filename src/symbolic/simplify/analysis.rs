//! The e-class analysis: exact constant folding combined with domain facts.
//!
//! Every e-class carries [`Facts`]: its exact rational value when it is a
//! constant (folded through the IR's own constructors, so folding agrees
//! with the canonical form), and its [`Bounds`] (sign, (0, 1), integer,
//! non-zero), built from the variables' [`Assumptions`] and propagated
//! through each operation. Merging two classes intersects their bounds;
//! merging two different constants means an unsound rewrite: a debug build
//! stops on it (the soundness tripwire of egg's `math.rs`), a release build
//! records it and the simplifier falls back to its input.

use super::bounds::{Assumptions, Bounds, constant_bounds};
use super::language::{Math, Num};
use crate::ir::expr::{Expr, Rational};
use egg::{Analysis, DidMerge, EGraph, Id};

/// What the analysis knows about one e-class.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    /// The exact value, when the class is a constant.
    pub value: Option<Rational>,
    /// Where the class's values lie.
    pub bounds: Bounds,
}

/// Constant folding plus domain facts, for the variables' [`Assumptions`].
#[derive(Clone, Debug, Default)]
pub struct FactAnalysis {
    /// What each variable may be assumed to satisfy.
    pub assumptions: Assumptions,
    /// Number of merges of two different constants seen (always 0 unless a
    /// rule is unsound).
    pub conflicts: usize,
}

impl FactAnalysis {
    /// An analysis for these assumptions.
    pub fn new(assumptions: Assumptions) -> FactAnalysis {
        FactAnalysis {
            assumptions,
            conflicts: 0,
        }
    }
}

/// The e-graph of the simplifier.
pub type MathGraph = EGraph<Math, FactAnalysis>;

/// Fold a node whose children are all constants, through the IR's
/// canonical constructors; `None` when the result is not a rational.
fn fold(node: &Math, value: impl Fn(&Id) -> Option<Rational>) -> Option<Rational> {
    let num = |id: &Id| value(id).map(Expr::num);
    let e = match node {
        Math::Num(Num(r)) => return Some(r.clone()),
        Math::Named(_) | Math::Symbol(_) => return None,
        Math::Add([a, b]) => Expr::add2(num(a)?, num(b)?),
        Math::Mul([a, b]) => Expr::mul2(num(a)?, num(b)?),
        Math::Pow([a, b]) => {
            let (base, exp) = (value(a)?, value(b)?);
            // 0^negative is undefined: leave it unfolded.
            if num_traits::Zero::is_zero(&base) && num_traits::Signed::is_negative(&exp) {
                return None;
            }
            Expr::pow(Expr::num(base), Expr::num(exp))
        }
        call => {
            let (f, ids) = call.as_call()?;
            let args = ids.iter().map(num).collect::<Option<Vec<_>>>()?;
            Expr::call(f, args)
        }
    };
    e.as_num().cloned()
}

impl Analysis<Math> for FactAnalysis {
    type Data = Facts;

    fn make(egraph: &mut MathGraph, enode: &Math, _id: Id) -> Facts {
        let value = fold(enode, |id| egraph[*id].data.value.clone());
        let b = |id: &Id| egraph[*id].data.bounds;
        let bounds = match enode {
            Math::Num(Num(r)) => Bounds::exactly(r),
            Math::Named(c) => constant_bounds(c.0),
            Math::Symbol(s) => egraph.analysis.assumptions.get(s.as_str()),
            Math::Add([x, y]) => b(x).add(&b(y)),
            Math::Mul([x, y]) => b(x).mul(&b(y)),
            Math::Pow([x, y]) => b(x).pow(egraph[*y].data.value.as_ref()),
            call => match call.as_call() {
                Some((f, ids)) => {
                    let args: Vec<Bounds> = ids.iter().map(b).collect();
                    Bounds::call(f, &args, egraph[ids[0]].data.value.as_ref())
                }
                None => Bounds::real(),
            },
        };
        let bounds = match &value {
            Some(r) => bounds.meet(&Bounds::exactly(r)),
            None => bounds,
        };
        Facts { value, bounds }
    }

    fn merge(&mut self, to: &mut Facts, from: Facts) -> DidMerge {
        let mut changed_to = false;
        let mut from_differs = false;
        match (&to.value, from.value) {
            (Some(a), Some(b)) => {
                if *a != b {
                    self.conflicts += 1;
                    debug_assert_eq!(*a, b, "merged different constants: an unsound rewrite");
                }
            }
            (None, Some(b)) => {
                to.value = Some(b);
                changed_to = true;
            }
            (Some(_), None) => from_differs = true,
            (None, None) => {}
        }
        let met = to.bounds.meet(&from.bounds);
        if met != to.bounds {
            to.bounds = met;
            changed_to = true;
        }
        if met != from.bounds {
            from_differs = true;
        }
        DidMerge(changed_to, from_differs)
    }

    fn modify(egraph: &mut MathGraph, id: Id) {
        if let Some(r) = egraph[id].data.value.clone() {
            let added = egraph.add(Math::num(r));
            egraph.union(id, added);
            // A constant needs no other representation: prune to the leaf.
            egraph[id].nodes.retain(|n| matches!(n, Math::Num(_)));
        }
    }
}
