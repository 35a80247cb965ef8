//! Rational-function normalisation: bring a sum of fractions over one
//! common denominator and cancel factors the numerator shares with it.
//!
//! This is the step e-graph rewriting cannot do well (it needs polynomial
//! division): `p(1/p² − 1/(1−p)²) + 1/(1−p)²` becomes `1/(p(1 − p))`.
//! Denominator factors that are atoms (p, σ, ψ₁(α)) cancel by exponent;
//! factors that are sums linear in some atom (1 − p, 1 + φ) cancel by
//! exact polynomial division in that atom.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::symbolic::cancel;
//! let p = Expr::var("p");
//! let q = Expr::one() - p.clone();
//! let f = p.clone() * (Expr::powi(p.clone(), -2) - Expr::powi(q.clone(), -2)) + Expr::powi(q.clone(), -2);
//! assert_eq!(cancel(&f), Expr::recip(p * q));
//! ```

use crate::ir::expr::{Expr, Rational};
use num_traits::{One, Zero};
use std::collections::BTreeMap;

/// Largest number of numerator terms handled; beyond it the input is
/// returned unchanged.
const MAX_TERMS: usize = 2000;

/// One common denominator, common factors cancelled. Returns the input
/// when nothing gets simpler.
pub fn cancel(e: &Expr) -> Expr {
    cancel_bounded(e, usize::MAX)
}

/// [`cancel`], but sums of fractions over a sum of more than
/// `max_denominator_sum` terms are left alone (a common denominator over
/// `1 - p1 - ... - p9` only grows the expression, and is expensive).
pub fn cancel_bounded(e: &Expr, max_denominator_sum: usize) -> Expr {
    // Inner sums first, so nested fractions such as 1 - φ/(1 + φ) are
    // single fractions before the outer level is combined.
    let inner = e.map_bottom_up(&mut |x| {
        if matches!(x, Expr::Add(_)) && has_fraction(&x) {
            match together(&x, max_denominator_sum) {
                Some(t) if t.op_count() <= x.op_count() => t,
                _ => x,
            }
        } else {
            x
        }
    });
    let out = together(&inner, max_denominator_sum).unwrap_or(inner);
    if out.op_count() <= e.op_count() {
        out
    } else {
        e.clone()
    }
}

/// Partial common denominators: terms with the same denominator are
/// combined and cancelled, different denominators stay apart.
/// `n/q² − n·p1/q² − n·p2/q² + n/p1` with `q = 1 − p1 − p2` becomes
/// `n/q + n/p1`, the textbook form, where one common denominator would
/// give a larger fraction.
///
/// ```
/// use fimkit::ir::Expr;
/// use fimkit::symbolic::cancel_grouped;
/// let (p, n) = (Expr::var("p"), Expr::var("n"));
/// let q = Expr::one() - p.clone();
/// let e = n.clone() / Expr::powi(q.clone(), 2) - n.clone() * p.clone() / Expr::powi(q.clone(), 2) + n.clone() / p.clone();
/// assert_eq!(cancel_grouped(&e), n.clone() / q + n / p);
/// ```
pub fn cancel_grouped(e: &Expr) -> Expr {
    let expanded = e.expand();
    let Expr::Add(terms) = &expanded else {
        return e.clone();
    };
    let mut groups: BTreeMap<Vec<(Expr, i64)>, Vec<Expr>> = BTreeMap::new();
    for t in terms.iter() {
        let mut key = denominator_factors(t);
        key.sort();
        groups.entry(key).or_default().push(t.clone());
    }
    if groups.len() == terms.len() {
        return e.clone();
    }
    let parts: Vec<Expr> = groups
        .into_values()
        .map(|ts| {
            let sum = Expr::add(ts);
            if matches!(sum, Expr::Add(_)) {
                together(&sum, usize::MAX).unwrap_or(sum)
            } else {
                sum
            }
        })
        .collect();
    let out = Expr::add(parts);
    if out.op_count() <= e.op_count() {
        out
    } else {
        e.clone()
    }
}

/// Does a sum contain a term with a negative integer power?
fn has_fraction(e: &Expr) -> bool {
    match e {
        Expr::Add(ts) => ts.iter().any(has_denominator),
        _ => false,
    }
}

/// `(numerator terms, denominator base → exponent)`.
/// Most distinct sums [`together`] puts under one denominator.
const MAX_SUM_DENOMINATORS: usize = 4;

fn together(e: &Expr, max_denominator_sum: usize) -> Option<Expr> {
    let expanded = e.expand();
    let terms = numer_terms(&expanded);
    if terms.len() > MAX_TERMS {
        return None;
    }
    // Least common denominator.
    let mut lcd: BTreeMap<Expr, i64> = BTreeMap::new();
    for t in terms {
        for (base, k) in denominator_factors(t) {
            let entry = lcd.entry(base).or_insert(0);
            *entry = (*entry).max(k);
        }
    }
    if lcd.is_empty() {
        return Some(expanded);
    }
    // Over a long sum (1 - p1 - ... - p9) a common denominator only grows
    // the expression; leave such sums of fractions alone.
    if lcd
        .keys()
        .any(|b| matches!(b, Expr::Add(ts) if ts.len() > max_denominator_sum))
    {
        return None;
    }
    // Over many distinct sums (1 + exp(a − b_k) for K items) the common
    // denominator is their product, and the numerator 2^K terms.
    if lcd.keys().filter(|b| matches!(b, Expr::Add(_))).count() > MAX_SUM_DENOMINATORS {
        return None;
    }
    let den_product = |lcd: &BTreeMap<Expr, i64>| {
        Expr::mul(lcd.iter().map(|(b, k)| Expr::powi(b.clone(), *k)).collect())
    };
    let scale = den_product(&lcd);
    let mut numer = Expr::add(
        terms
            .iter()
            .map(|t| Expr::mul2(t.clone(), scale.clone()))
            .collect(),
    )
    .expand();
    if numer_terms(&numer).len() > MAX_TERMS {
        return None;
    }
    // Cancel common factors.
    let bases: Vec<Expr> = lcd.keys().cloned().collect();
    for base in bases {
        let mut k = lcd[&base];
        if matches!(base, Expr::Add(_)) {
            while k > 0 {
                match divide_linear(&numer, &base) {
                    Some(q) => {
                        numer = q;
                        k -= 1;
                    }
                    None => break,
                }
            }
        } else {
            let common = min_exponent(&numer, &base).min(k);
            if common > 0 {
                numer = Expr::mul2(numer, Expr::powi(base.clone(), -common)).expand();
                k -= common;
            }
        }
        lcd.insert(base, k);
    }
    lcd.retain(|_, k| *k > 0);
    let numer = factor_content(&numer);
    let result = Expr::mul2(numer, Expr::recip(den_product(&lcd)));
    Some(result)
}

/// The terms of a sum (one term otherwise), borrowed.
fn numer_terms(e: &Expr) -> &[Expr] {
    match e {
        Expr::Add(ts) => ts,
        other => std::slice::from_ref(other),
    }
}

/// The factors of a product (one factor otherwise), borrowed.
fn factors_of(t: &Expr) -> &[Expr] {
    match t {
        Expr::Mul(fs) => fs,
        other => std::slice::from_ref(other),
    }
}

/// Bases with negative integer exponents in a product, and those exponents negated.
fn denominator_factors(t: &Expr) -> Vec<(Expr, i64)> {
    factors_of(t)
        .iter()
        .filter_map(|f| match f {
            Expr::Pow(b, x) => match x.as_int() {
                Some(k) if k < 0 => Some(((**b).clone(), -k)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Does the product have a factor with a negative integer power?
fn has_denominator(t: &Expr) -> bool {
    factors_of(t)
        .iter()
        .any(|f| matches!(f, Expr::Pow(_, x) if x.as_int().is_some_and(|k| k < 0)))
}

/// Exponent of `base` in a product term (0 when absent; negative for denominators).
fn exponent_in(t: &Expr, base: &Expr) -> i64 {
    factors_of(t)
        .iter()
        .map(|f| match f {
            f if f == base => 1,
            Expr::Pow(b, x) if **b == *base => x.as_int().unwrap_or(0),
            _ => 0,
        })
        .sum()
}

fn min_exponent(numer: &Expr, base: &Expr) -> i64 {
    if numer.is_zero() {
        return 0;
    }
    numer_terms(numer)
        .iter()
        .map(|t| exponent_in(t, base))
        .min()
        .unwrap_or(0)
}

/// Replace every occurrence of `from` by `to`.
fn replace(e: &Expr, from: &Expr, to: &Expr) -> Expr {
    e.map_bottom_up(&mut |x| if x == *from { to.clone() } else { x })
}

/// Exact quotient `numer / base` when `base = a·v + c` for some atom `v`
/// (a numeric) and the division leaves no remainder.
fn divide_linear(numer: &Expr, base: &Expr) -> Option<Expr> {
    let Expr::Add(bterms) = base else { return None };
    for (i, t) in bterms.iter().enumerate() {
        let (a, v) = t.split_coeff();
        if matches!(v, Expr::Num(_) | Expr::Add(_) | Expr::Mul(_)) {
            continue;
        }
        // v must not occur in the other terms.
        let rest: Vec<Expr> = bterms
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, t)| t.clone())
            .collect();
        let c = Expr::add(rest);
        if occurs(&c, &v) {
            continue;
        }
        // Root test: numer(v = -c/a) == 0.
        let root = Expr::mul2(Expr::neg(c.clone()), Expr::Num(a.recip()));
        if replace(numer, &v, &root).expand().is_zero() {
            return synthetic_division(numer, &v, &a, &c);
        }
        // v = x^k: the numerator as a polynomial in x^k (1 − r⁴ is
        // (1 − r²)(1 + r²)), when every power of x in it is a multiple of k.
        if let Some((x, u, in_u)) = in_powers_of(numer, &v)
            && !occurs(&c, &x)
            && replace(&in_u, &u, &root).expand().is_zero()
        {
            let q = synthetic_division(&in_u, &u, &a, &c)?;
            return Some(replace(&q, &u, &v).expand());
        }
    }
    None
}

/// For `v = x^k` (x a name, k ≥ 2): `e` with every `x^(jk)` written `u^j`
/// for a fresh name `u`, as `(x, u, e in u)`; `None` when `x` occurs
/// otherwise (a power that is not a multiple of k, or inside a function).
fn in_powers_of(e: &Expr, v: &Expr) -> Option<(Expr, Expr, Expr)> {
    let Expr::Pow(x, k) = v else { return None };
    let k = k.as_int().filter(|&k| k >= 2)?;
    if !matches!(**x, Expr::Var(_)) {
        return None;
    }
    // A name no model can write.
    let u = Expr::var(" u");
    let in_u = e.map_bottom_up(&mut |t| match &t {
        Expr::Pow(b, m) if b == x => match m.as_int() {
            Some(m) if m % k == 0 => Expr::powi(u.clone(), m / k),
            _ => t,
        },
        _ => t,
    });
    (!occurs(&in_u, x)).then(|| ((**x).clone(), u, in_u))
}

fn occurs(e: &Expr, atom: &Expr) -> bool {
    if e == atom {
        return true;
    }
    match e {
        Expr::Pow(b, x) => occurs(b, atom) || occurs(x, atom),
        _ => e.children().iter().any(|c| occurs(c, atom)),
    }
}

/// Divide a polynomial in the atom `v` by `a·v + c` (remainder known zero).
fn synthetic_division(numer: &Expr, v: &Expr, a: &Rational, c: &Expr) -> Option<Expr> {
    // Collect coefficients by degree in v.
    let mut coeffs: BTreeMap<i64, Vec<Expr>> = BTreeMap::new();
    for t in numer_terms(numer) {
        let d = exponent_in(t, v);
        if d < 0 {
            return None;
        }
        let rest = Expr::mul2(t.clone(), Expr::powi(v.clone(), -d));
        if occurs(&rest, v) {
            return None;
        }
        coeffs.entry(d).or_default().push(rest);
    }
    let degree = *coeffs.keys().next_back()?;
    if degree == 0 {
        return None;
    }
    let mut n: Vec<Expr> = (0..=degree)
        .map(|d| Expr::add(coeffs.remove(&d).unwrap_or_default()))
        .collect();
    let inv_a = Expr::Num(a.recip());
    let mut quotient = vec![Expr::zero(); degree as usize];
    for d in (1..=degree as usize).rev() {
        let q = Expr::mul2(n[d].clone(), inv_a.clone()).expand();
        n[d - 1] = Expr::sub(n[d - 1].clone(), Expr::mul2(q.clone(), c.clone())).expand();
        quotient[d - 1] = q;
    }
    if !n[0].is_zero() {
        return None;
    }
    Some(
        Expr::add(
            quotient
                .into_iter()
                .enumerate()
                .map(|(d, q)| Expr::mul2(q, Expr::powi(v.clone(), d as i64)))
                .collect(),
        )
        .expand(),
    )
}

/// Pull the numeric content out of a sum: `2x + 4y` → `2(x + 2y)`.
fn factor_content(e: &Expr) -> Expr {
    let (c, primitive) = e.sum_content();
    if c.is_one() || c.is_zero() {
        return e.clone();
    }
    Expr::Mul(std::sync::Arc::new([Expr::Num(c), primitive]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_in_odds() {
        // n/(phi(1 + phi)^2) from a sum of fractions
        let (phi, n) = (Expr::var("phi"), Expr::var("n"));
        let one_phi = Expr::one() + phi.clone();
        let f = n.clone() / phi.clone()
            - n.clone() / one_phi.clone()
            - n.clone() / Expr::powi(one_phi.clone(), 2);
        // n/phi - n/(1+phi) - n/(1+phi)^2 = n / (phi (1+phi)^2)
        let got = cancel(&f);
        assert_eq!(got, n / (phi * Expr::powi(one_phi, 2)));
    }

    #[test]
    fn gamma_determinant_over_common_denominator() {
        let (a, b) = (Expr::var("alpha"), Expr::var("beta"));
        let psi1 = Expr::polygamma(1, a.clone());
        let det = a.clone() * psi1.clone() / Expr::powi(b.clone(), 2)
            - Expr::recip(Expr::powi(b.clone(), 2));
        let got = cancel(&det);
        assert_eq!(got, (a * psi1 - Expr::one()) / Expr::powi(b, 2));
    }

    #[test]
    fn nothing_to_do() {
        let x = Expr::var("x");
        assert_eq!(cancel(&x), x);
    }
}
