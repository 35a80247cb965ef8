//! The extraction cost: count the operations a textbook prints.
//!
//! It follows the text renderer, which prints `a·b^-1` as `a/b`,
//! `a + (-1)·b` as `a - b` and `x^(1/2)` as `sqrt(x)`:
//!
//! * `+`, `*` and each function call cost one; leaves cost nothing;
//! * multiplying by a number costs one (`-x`, `2x`), never more;
//! * `b^-1` costs one (a division), `b^-n` two (a division and a power),
//!   `b^(1/2)` one (a square root), so fractions are never dearer than
//!   negative exponents and `1·x`, `x^1` are never chosen over `x`;
//! * `log1p(x)` and `expm1(x)` cost what `log(1 + x)` and `exp(x) - 1`
//!   cost, so the textbook spelling wins ties;
//! * a power of a function value, `f(x)^n`, costs two more: textbooks
//!   write σ(η)(1 − σ(η)), not σ(η)² − σ(η).
//!
//! A number costs one when it is negative or a fraction (its sign or its
//! bar is printed). Every node costs strictly more than each non-numeric
//! child, as egg's extractor requires.
//!
//! Ties are broken by the operations inside sums (each sum counts all the
//! operations below it): of two equally long forms the factored one wins,
//! `p(1 − p)` over `p − p²`.

use super::analysis::MathGraph;
use super::language::Math;
use egg::{CostFunction, Id, Language};
use num_traits::Signed;

/// Operations as printed; see the module documentation.
pub struct TextbookCost<'a> {
    egraph: &'a MathGraph,
}

impl<'a> TextbookCost<'a> {
    /// The cost function for extraction from `egraph` (it reads the
    /// constant values of exponents and coefficients).
    pub fn new(egraph: &'a MathGraph) -> TextbookCost<'a> {
        TextbookCost { egraph }
    }

    /// Has the class a function-call form (a value such as σ(η))?
    fn is_call(&self, id: Id) -> bool {
        self.egraph[id].nodes.iter().any(|n| n.as_call().is_some())
    }

    fn value(&self, id: Id) -> Option<&crate::ir::expr::Rational> {
        self.egraph[id].data.value.as_ref()
    }
}

impl CostFunction<Math> for TextbookCost<'_> {
    /// `(operations, operations inside sums)`, compared in that order.
    type Cost = (usize, usize);

    fn cost<C>(&mut self, enode: &Math, mut costs: C) -> (usize, usize)
    where
        C: FnMut(Id) -> (usize, usize),
    {
        let ops = self.ops(enode, |id| costs(id).0);
        let mut in_sums: usize = enode.children().iter().map(|id| costs(*id).1).sum();
        if matches!(enode, Math::Add(_)) {
            in_sums += ops;
        }
        (ops, in_sums)
    }
}

impl TextbookCost<'_> {
    /// Operations of one node, given its children's.
    fn ops(&self, enode: &Math, mut costs: impl FnMut(Id) -> usize) -> usize {
        match enode {
            Math::Num(n) => usize::from(n.0.is_negative()) + usize::from(!n.0.is_integer()),
            Math::Named(_) | Math::Symbol(_) => 0,
            Math::Mul([a, b]) => {
                // A numeric factor prints as a sign or a coefficient: one op.
                if self.value(*a).is_some() {
                    1 + costs(*b)
                } else if self.value(*b).is_some() {
                    1 + costs(*a)
                } else {
                    1 + costs(*a) + costs(*b)
                }
            }
            Math::Pow([b, x]) => {
                let squared_call = self
                    .value(*x)
                    .is_some_and(|r| r.is_integer() && r.is_positive())
                    && self.is_call(*b);
                usize::from(squared_call) * 2
                    + match self.value(*x) {
                        Some(r) if crate::exact::is_minus_one(r) => 1 + costs(*b),
                        Some(r) if r.is_negative() && r.is_integer() => 2 + costs(*b),
                        Some(r) if crate::exact::is_half(r) => 1 + costs(*b),
                        _ => 1 + costs(*b) + costs(*x),
                    }
            }
            Math::Log1p(a) | Math::Expm1(a) => 2 + costs(*a),
            other => other.fold(1, |sum, id| sum + costs(id)),
        }
    }
}
