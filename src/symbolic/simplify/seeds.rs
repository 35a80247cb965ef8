//! Equal forms computed on the IR itself, added to an expression's e-class
//! before saturation: the bounded search then starts from the expanded
//! polynomial and from the factored / common-denominator form, which the
//! rules alone would reach only after many commutativity and associativity
//! steps.
//!
//! Each seed is built with the canonical constructors and is equal to the
//! input wherever the input is defined (the constructors cancel `x·x⁻¹`
//! the same way).

use crate::ir::expr::{Expr, Rational};
use num_traits::{Signed, Zero};
use std::collections::BTreeMap;

/// The seeds of `e` (each different from `e`).
pub fn seeds(e: &Expr) -> Vec<Expr> {
    let expanded = e.expand();
    let mut out: Vec<Expr> = Vec::new();
    let mut push = |s: Expr| {
        if s != *e && !out.contains(&s) {
            out.push(s);
        }
    };
    push(factor_sums(e));
    push(factor_sums(&expanded));
    push(expanded);
    out
}

/// Numeric powers of the non-numeric factors of a term: `3x²/y` → {x: 2, y: -1}.
fn powers(t: &Expr) -> BTreeMap<Expr, Rational> {
    let (_, rest) = t.split_coeff();
    let factors = match rest {
        Expr::Mul(fs) => fs,
        Expr::Num(_) => Vec::new(),
        other => vec![other],
    };
    let mut out = BTreeMap::new();
    for f in factors {
        let (b, x) = f.split_pow();
        if let Some(r) = x.as_num() {
            out.insert(b, r.clone());
        }
    }
    out
}

/// In every sum (bottom-up): pull out the factors all terms share, and put
/// the terms over their common denominator:
/// `a·x + a·y` → `a·(x + y)`, `y/p - (1 - y)/(1 - p)` →
/// `(y·(1 - p) - (1 - y)·p)/(p·(1 - p))` (numerator expanded).
pub fn factor_sums(e: &Expr) -> Expr {
    e.map_bottom_up(&mut |e| match &e {
        Expr::Add(ts) => factor_sum(ts).unwrap_or(e),
        _ => e,
    })
}

fn factor_sum(ts: &[Expr]) -> Option<Expr> {
    let maps: Vec<BTreeMap<Expr, Rational>> = ts.iter().map(powers).collect();
    // Common denominator: every base with a negative integer power in some
    // term, at its most negative power.
    let mut den: BTreeMap<Expr, Rational> = BTreeMap::new();
    for m in &maps {
        for (b, x) in m {
            if x.is_negative() && x.is_integer() {
                let slot = den.entry(b.clone()).or_insert_with(Rational::zero);
                if x < slot {
                    *slot = x.clone();
                }
            }
        }
    }
    // Common factor: a base with a positive power in every term, at its
    // smallest power.
    let mut common: BTreeMap<Expr, Rational> = BTreeMap::new();
    if let Some((first, rest)) = maps.split_first() {
        for (b, x) in first {
            if !x.is_positive() {
                continue;
            }
            let mut min = x.clone();
            let everywhere = rest.iter().all(|m| match m.get(b) {
                Some(y) if y.is_positive() => {
                    if *y < min {
                        min = y.clone();
                    }
                    true
                }
                _ => false,
            });
            if everywhere {
                common.insert(b.clone(), min);
            }
        }
    }
    if den.is_empty() && common.is_empty() {
        return None;
    }
    let outside = Expr::mul(
        common
            .into_iter()
            .chain(den)
            .map(|(b, x)| Expr::pow(b, Expr::num(x)))
            .collect(),
    );
    let inside: Vec<Expr> = ts
        .iter()
        .map(|t| Expr::div(t.clone(), outside.clone()))
        .collect();
    let inside = Expr::add(inside).expand();
    Some(Expr::mul2(outside, inside))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::text::{TextStyle, render};

    fn ascii(e: &Expr) -> String {
        render(e, &TextStyle::ascii())
    }

    #[test]
    fn common_factor_comes_out() {
        let (a, x, y) = (Expr::var("a"), Expr::var("x"), Expr::var("y"));
        let e = Expr::add2(Expr::mul2(a.clone(), x), Expr::mul2(a, y));
        assert_eq!(ascii(&factor_sums(&e)), "a*(x + y)");
    }

    #[test]
    fn fractions_get_a_common_denominator() {
        let (y, p) = (Expr::var("y"), Expr::var("p"));
        let one = Expr::one();
        let e = Expr::sub(
            Expr::div(y.clone(), p.clone()),
            Expr::div(Expr::sub(one.clone(), y), Expr::sub(one, p)),
        );
        assert_eq!(ascii(&factor_sums(&e)), "(y - p)/(p*(1 - p))");
    }
}
