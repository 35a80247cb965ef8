//! Equal forms computed on the IR itself, added to an expression's e-class
//! before saturation: the bounded search then starts from the expanded
//! polynomial and from the factored / common-denominator form, which the
//! rules alone would reach only after many commutativity and associativity
//! steps.
//!
//! Each seed is built with the canonical constructors and is equal to the
//! input wherever the input is defined (the constructors cancel `x·x⁻¹`
//! the same way).

use super::bounds::Assumptions;
use crate::ir::expr::{Expr, Func, Rational};
use num_traits::{One, Signed, Zero};
use std::collections::BTreeMap;

/// The seeds of `e` (each different from `e`) under `facts`: from `e` and
/// from its logarithms and powers split apart where the bases are known
/// positive ([`split_positive`]), the common-denominator forms with the
/// numerator kept as it is and expanded ([`factor_sums`]), and the expanded
/// polynomial.
pub fn seeds(e: &Expr, facts: &Assumptions) -> Vec<Expr> {
    let mut out: Vec<Expr> = Vec::new();
    let mut push = |s: Expr| {
        if s != *e && !out.contains(&s) {
            out.push(s);
        }
    };
    let split = split_positive(e, facts);
    let starts = if split == *e {
        vec![e.clone()]
    } else {
        vec![e.clone(), split]
    };
    let joined = join_logs(e, facts);
    if joined != *e {
        push(joined);
    }
    for start in starts {
        let expanded = start.expand();
        push(start.clone());
        push(collect_terms(&start));
        let common = common_denominators(&start);
        push(collect_terms(&common));
        push(common);
        push(factor_sums(&start));
        push(factor_sums(&expanded));
        push(expanded);
    }
    out
}

/// In every sum (bottom-up), collect the terms that share a factor:
/// `1 − k·x^k/λ^k − x^k/λ^k` → `1 − (k + 1)·x^k/λ^k`. The factor shared by
/// the most terms (at least two) goes first, then the rest of the sum is
/// collected the same way.
pub fn collect_terms(e: &Expr) -> Expr {
    map_changed(e, &mut |e| match e {
        Expr::Add(ts) => Some(collect(ts.to_vec())).filter(|c| c != e),
        _ => None,
    })
}

fn collect(ts: Vec<Expr>) -> Expr {
    let maps: Vec<BTreeMap<Expr, Rational>> = ts.iter().map(powers).collect();
    // Each base with its count of terms having a power of the same sign.
    let mut counts: BTreeMap<(Expr, bool), usize> = BTreeMap::new();
    for m in &maps {
        for (b, x) in m {
            if x.is_integer() || x.is_positive() {
                *counts.entry((b.clone(), x.is_positive())).or_default() += 1;
            }
        }
    }
    let Some(((base, up), n)) = counts.into_iter().max_by_key(|(_, n)| *n) else {
        return Expr::add(ts);
    };
    if n < 2 {
        return Expr::add(ts);
    }
    let mut power: Option<Rational> = None;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for (t, m) in ts.into_iter().zip(&maps) {
        match m.get(&base) {
            Some(x) if x.is_positive() == up && (x.is_integer() || x.is_positive()) => {
                // The smallest power: the lowest common power of a factor,
                // the common denominator of a reciprocal.
                let smaller = match &power {
                    Some(p) => x < p,
                    None => true,
                };
                if smaller {
                    power = Some(x.clone());
                }
                with.push(t);
            }
            _ => without.push(t),
        }
    }
    let factor = Expr::pow(
        base.clone(),
        Expr::num(power.unwrap_or_else(Rational::zero)),
    );
    let inside: Vec<Expr> = with
        .iter()
        .map(|t| Expr::div(t.clone(), factor.clone()))
        .collect();
    // Each step must take the factor out of at least one term (the
    // canonical form may rebuild a base differently); otherwise stop here.
    let still = inside
        .iter()
        .filter(|t| powers(t).get(&base).is_some_and(|x| x.is_positive() == up))
        .count();
    if still == inside.len() {
        with.extend(without);
        return Expr::add(with);
    }
    // The numeric content comes out: (η₂/2 − η₁²/4)/η₂² → (2η₂ − η₁²)/(4η₂²).
    let (content, primitive) = collect(inside).sum_content();
    let grouped = Expr::mul(vec![Expr::num(content), factor, primitive]);
    let rest = match without.len() {
        0 => Expr::zero(),
        1 => without.pop().unwrap_or_else(Expr::zero),
        _ => collect(without),
    };
    Expr::add2(grouped, rest)
}

/// Logarithms of products and powers, and powers of products, split apart
/// wherever the bases are known positive (bottom-up): `log(φ/(1 + φ))` →
/// `log φ − log(1 + φ)`, `(x/λ)^k` → `x^k λ^−k`, `(s^a)^b` → `s^(ab)`.
pub fn split_positive(e: &Expr, facts: &Assumptions) -> Expr {
    let positive = |f: &Expr| facts.bounds_of(f).is_positive();
    map_changed(e, &mut |e| match e {
        Expr::Call(Func::Log, args) => log_split(&args[0], &positive),
        Expr::Pow(b, x) => pow_split(b, x, &positive),
        _ => None,
    })
}

/// `b^x` with `b` a product of positive factors or a power of a positive
/// base, split apart.
fn pow_split(b: &Expr, x: &Expr, positive: &impl Fn(&Expr) -> bool) -> Option<Expr> {
    match b {
        Expr::Mul(fs) if fs.iter().all(positive) => Some(Expr::mul(
            fs.iter()
                .map(|f| {
                    pow_split(f, x, positive).unwrap_or_else(|| Expr::pow(f.clone(), x.clone()))
                })
                .collect(),
        )),
        Expr::Pow(bb, y) if positive(bb) => Some(Expr::pow(
            (**bb).clone(),
            Expr::mul2((**y).clone(), x.clone()),
        )),
        _ => None,
    }
}

/// In every sum (bottom-up), join the logarithms of positive arguments
/// that stand with coefficient ±1: `log x − log θ` → `log(x/θ)`.
pub fn join_logs(e: &Expr, facts: &Assumptions) -> Expr {
    map_changed(e, &mut |e| {
        let Expr::Add(ts) = e else { return None };
        let mut inside = Vec::new();
        let mut rest = Vec::new();
        for t in ts.iter() {
            let (c, f) = t.split_coeff();
            match &f {
                Expr::Call(Func::Log, a)
                    if (c.is_one() || (-c.clone()).is_one())
                        && facts.bounds_of(&a[0]).is_positive() =>
                {
                    inside.push(if c.is_one() {
                        a[0].clone()
                    } else {
                        Expr::recip(a[0].clone())
                    });
                }
                _ => rest.push(t.clone()),
            }
        }
        // The log of a product of many sums differentiates into a sum over
        // all their products (a raw Rasch test's Σ log(1 + exp(a − b_k))).
        let sums = inside.iter().filter(|a| matches!(a, Expr::Add(_))).count();
        if inside.len() < 2 || sums > MAX_DENOMINATORS {
            return None;
        }
        rest.push(Expr::log(Expr::mul(inside)));
        Some(Expr::add(rest))
    })
}

/// `log a` as a sum of logarithms of positive factors and powers.
fn log_split(a: &Expr, positive: &impl Fn(&Expr) -> bool) -> Option<Expr> {
    let term = |f: &Expr| -> Option<Expr> {
        match f {
            Expr::Pow(b, x) if positive(b) => {
                Some(Expr::mul2((**x).clone(), Expr::log((**b).clone())))
            }
            f if positive(f) => Some(Expr::log(f.clone())),
            _ => None,
        }
    };
    match a {
        Expr::Mul(fs) => Some(Expr::add(fs.iter().map(term).collect::<Option<Vec<_>>>()?)),
        Expr::Pow(..) => term(a),
        // `log(1 − φ/(1 + φ))` = `log(1/(1 + φ))`: over a common denominator.
        Expr::Add(_) => match factor_sums(a) {
            f @ (Expr::Mul(_) | Expr::Pow(..)) => log_split(&f, positive),
            _ => None,
        },
        _ => None,
    }
}

/// Apply `f` bottom-up to every node (`Some` where it changes the node),
/// rebuilding through the canonical constructors only the nodes below
/// which something changed: the result equals `map_bottom_up`'s on a
/// canonical input, without rebuilding the unchanged parts.
fn map_changed(e: &Expr, f: &mut impl FnMut(&Expr) -> Option<Expr>) -> Expr {
    fn go(e: &Expr, f: &mut impl FnMut(&Expr) -> Option<Expr>) -> Option<Expr> {
        let rebuilt = match e {
            Expr::Pow(b, x) => {
                let (nb, nx) = (go(b, f), go(x, f));
                if nb.is_none() && nx.is_none() {
                    None
                } else {
                    Some(Expr::pow(
                        nb.unwrap_or_else(|| (**b).clone()),
                        nx.unwrap_or_else(|| (**x).clone()),
                    ))
                }
            }
            Expr::Add(_) | Expr::Mul(_) | Expr::Call(..) => {
                let kids: Vec<Option<Expr>> = e.children().iter().map(|c| go(c, f)).collect();
                if kids.iter().all(Option::is_none) {
                    None
                } else {
                    let kids = kids
                        .into_iter()
                        .zip(e.children())
                        .map(|(k, c)| k.unwrap_or_else(|| c.clone()))
                        .collect();
                    Some(e.rebuild(kids))
                }
            }
            _ => None,
        };
        match rebuilt {
            Some(r) => Some(f(&r).unwrap_or(r)),
            None => f(e),
        }
    }
    go(e, f).unwrap_or_else(|| e.clone())
}

/// Numeric powers of the non-numeric factors of a term: `3x²/y` → {x: 2,
/// y: -1}; a factor with a symbolic power counts as its own base, `x^k` → {x^k: 1}.
fn powers(t: &Expr) -> BTreeMap<Expr, Rational> {
    // The factors after the coefficient, borrowed (`split_coeff` would
    // copy them).
    let factors: &[Expr] = match t {
        Expr::Num(_) => &[],
        Expr::Mul(fs) if fs[0].as_num().is_some() => &fs[1..],
        Expr::Mul(fs) => fs,
        other => std::slice::from_ref(other),
    };
    let mut out = BTreeMap::new();
    for f in factors {
        let (b, x) = f.split_pow();
        match x.as_num() {
            Some(r) => out.insert(b, r.clone()),
            // A symbolic power is a factor of its own: x^k in x^k·y.
            None => out.insert(f.clone(), Rational::one()),
        };
    }
    out
}

/// In every sum (bottom-up): pull out the factors all terms share, and put
/// the terms over their common denominator:
/// `a·x + a·y` → `a·(x + y)`, `y/p - (1 - y)/(1 - p)` →
/// `(y·(1 - p) - (1 - y)·p)/(p·(1 - p))` (numerator expanded).
pub fn factor_sums(e: &Expr) -> Expr {
    map_changed(e, &mut |e| match e {
        Expr::Add(ts) => factor_sum(ts, true),
        _ => None,
    })
}

/// [`factor_sums`] without expanding the numerators:
/// `1/σ² − 3(x − μ)²/σ⁴` → `(σ² − 3(x − μ)²)/σ⁴`.
pub fn common_denominators(e: &Expr) -> Expr {
    map_changed(e, &mut |e| match e {
        Expr::Add(ts) => factor_sum(ts, false),
        _ => None,
    })
}

/// Most distinct denominators [`factor_sum`] puts a sum over.
const MAX_DENOMINATORS: usize = 4;

fn factor_sum(ts: &[Expr], expand: bool) -> Option<Expr> {
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
    // A common denominator of many sums multiplies them out (2^K terms for
    // K denominators 1 + exp(a − b_k) once expanded: a raw Rasch test of 8
    // items took minutes). Past a few, the seed is not worth it.
    if den.len() > MAX_DENOMINATORS {
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
    let inside = Expr::add(inside);
    let inside = if expand { inside.expand() } else { inside };
    Some(Expr::mul2(outside, inside))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::text::{TextStyle, render};

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
