//! The stable-form pass: one rewrite of an [`Expr`] into the form every
//! evaluator computes (the tree walk `numeric::eval`, the compiled tape
//! `numeric::compiled`, the generated code `codegen`), run once by each of
//! them before it evaluates. The formulas fimkit shows are untouched; their
//! values are the same, computed without underflow, overflow or
//! cancellation in the tails. The evaluators just evaluate what they get.
//!
//! The rules, applied bottom-up:
//!
//! * `a + c·F(u)` → `(a + c)·F(u) + a·F(-u)` for the symmetric CDFs
//!   `sigmoid` and `Phi` (`F(u) + F(-u) = 1`), so `1 - F(u)` is `F(-u)`
//!   (`1 - Phi(8.3)` is 0 in f64, `Phi(-8.3)` is 5e-17) and a logit or
//!   probit residual `y - F(u)` is `y·F(-u) - (1 - y)·F(u)`, exact in both
//!   tails for y = 0 and y = 1;
//! * `log Phi(u)`, `log sigmoid(u)`, `log besseli(ν, x)` (and through the
//!   first rule `log(1 - Phi(u))`, `log(1 - sigmoid(u))`) → the internal
//!   tail-safe functions [`Func::LogNormalCdf`], [`Func::LogSigmoid`],
//!   [`Func::LogBesselI`];
//! * `exp(a)/Phi(u)^k` (the probit score's and Hessian's φ/Φ, where both
//!   underflow and the quotient would be 0/0) → `(2π)^(k/2) r(u)^k` with the
//!   inverse Mills ratio `r = φ/Φ` ([`Func::Mills`]) when `a = -k u²/2`,
//!   else `exp(a - k log Phi(u))`; a product whose sum factor has such
//!   terms is distributed over the sum first;
//! * in a sum, `c·r(u)² + c·u·r(u)` (the probit Hessian's weight, which
//!   cancels 1600 to 1 at u = -40) → `c·r(u)·q(u)` with `q = u + r`
//!   ([`Func::MillsShift`], computed without the cancellation).
//!
//! Internal functions are never parsed and never shown: renderers and
//! messages print their [`Func::definition`].
//!
//! ```
//! use fimkit::ir::{Expr, Func};
//! use fimkit::symbolic::stable;
//! let u = Expr::var("u");
//! let e = Expr::log(Expr::sub(Expr::one(), Expr::call(Func::NormalCdf, vec![u.clone()])));
//! let s = stable(&e);
//! assert_eq!(s, Expr::call(Func::LogNormalCdf, vec![Expr::neg(u)]));
//! // Shown as what it stands for.
//! let shown = fimkit::render::text::render(&s, &fimkit::render::text::TextStyle::ascii());
//! assert_eq!(shown, "log(Phi(-u))");
//! ```

use crate::ir::expr::{Constant, Expr, Func};
use num_traits::Signed;
use std::borrow::Cow;

/// `e` in its stable form (see the module documentation).
pub fn stable(e: &Expr) -> Expr {
    stable_cow(e).into_owned()
}

/// [`stable`], borrowing `e` when no rule can apply (no `sigmoid`, `Phi` or
/// `besseli` in it): the common case costs one scan, no allocation.
pub fn stable_cow(e: &Expr) -> Cow<'_, Expr> {
    if has_candidate(e) {
        Cow::Owned(e.map_bottom_up(&mut rule))
    } else {
        Cow::Borrowed(e)
    }
}

/// Whether a rule could apply anywhere in `e`.
fn has_candidate(e: &Expr) -> bool {
    match e {
        Expr::Call(Func::Sigmoid | Func::NormalCdf | Func::BesselI, _) => true,
        Expr::Num(_) | Expr::Const(_) | Expr::Var(_) => false,
        Expr::Pow(b, x) => has_candidate(b) || has_candidate(x),
        _ => e.children().iter().any(has_candidate),
    }
}

/// One node, its children already in stable form.
fn rule(e: Expr) -> Expr {
    match &e {
        Expr::Add(ts) => match split_cdf(ts) {
            Some(Expr::Add(ts)) => pair_mills(&ts).unwrap_or(Expr::Add(ts)),
            Some(other) => other,
            None => pair_mills(ts).unwrap_or(e),
        },
        Expr::Call(Func::Log, args) => match &args[0] {
            Expr::Call(Func::NormalCdf, inner) => Expr::call(Func::LogNormalCdf, inner.to_vec()),
            Expr::Call(Func::Sigmoid, inner) => Expr::call(Func::LogSigmoid, inner.to_vec()),
            Expr::Call(Func::BesselI, inner) => Expr::call(Func::LogBesselI, inner.to_vec()),
            _ => e,
        },
        Expr::Mul(fs) => match tail_quotient(fs) {
            Some(Expr::Add(ts)) => pair_mills(&ts).unwrap_or(Expr::Add(ts)),
            Some(other) => other,
            None => e,
        },
        _ => e,
    }
}

/// `a + c·F(u)` as `(a + c)·F(u) + a·F(-u)` for a symmetric CDF `F`
/// (`sigmoid`, `Phi`), when exactly one term of the sum has `F(u)` (to the
/// power one), `a` and `c` call no function (a residual such as `y - F(u)`)
/// and are not numbers of one sign (`2 + F(u)` cannot cancel). `None` when
/// the rule does not apply.
fn split_cdf(ts: &[Expr]) -> Option<Expr> {
    let cdf_of = |t: &Expr| -> Option<(Func, Expr, Expr)> {
        let fs: &[Expr] = match t {
            Expr::Mul(fs) => fs,
            t => std::slice::from_ref(t),
        };
        let k = fs
            .iter()
            .position(|f| matches!(f, Expr::Call(Func::Sigmoid | Func::NormalCdf, _)))?;
        let Expr::Call(f, args) = &fs[k] else {
            return None;
        };
        let mut rest = fs.to_vec();
        rest.remove(k);
        Some((*f, args[0].clone(), Expr::mul(rest)))
    };
    let with: Vec<usize> = (0..ts.len())
        .filter(|&i| cdf_of(&ts[i]).is_some())
        .collect();
    let [k] = with[..] else { return None };
    let (f, u, c) = cdf_of(&ts[k])?;
    let mut rest = ts.to_vec();
    rest.remove(k);
    let a = Expr::add(rest);
    // A residual: `a` and `c` plain arithmetic of numbers and variables
    // (`y - Phi(u)`, `1 - Phi(u)`), not a sum of other functions' terms.
    if has_call(&a) || has_call(&c) {
        return None;
    }
    let cdf = Expr::call(f, vec![u.clone()]);
    if let (Some(x), Some(y)) = (a.as_num(), c.as_num())
        && x.is_positive() == y.is_positive()
    {
        return None;
    }
    Some(Expr::add2(
        Expr::mul2(Expr::add2(a.clone(), c), cdf),
        Expr::mul2(a, Expr::call(f, vec![Expr::neg(u)])),
    ))
}

/// Whether `e` calls a function anywhere.
fn has_call(e: &Expr) -> bool {
    match e {
        Expr::Call(..) => true,
        Expr::Pow(b, x) => has_call(b) || has_call(x),
        _ => e.children().iter().any(has_call),
    }
}

/// The exponent `a` of `exp(a)`, `e^a` or `exp(b)^k` (`a = k b`).
fn exp_arg(e: &Expr) -> Option<Expr> {
    match e {
        Expr::Call(Func::Exp, args) => Some(args[0].clone()),
        Expr::Pow(b, a) if matches!(**b, Expr::Const(Constant::E)) => Some((**a).clone()),
        Expr::Pow(b, k) if k.as_num().is_some() => match &**b {
            Expr::Call(Func::Exp, args) => Some(Expr::mul2((**k).clone(), args[0].clone())),
            _ => None,
        },
        _ => None,
    }
}

/// If `e` is `Phi(u)^-k` (k ≥ 1; `1 - Phi` is already `Phi(-u)`), `u` and k.
fn inverse_cdf_power(e: &Expr) -> Option<(&Expr, i64)> {
    let Expr::Pow(b, x) = e else { return None };
    let k = x.as_int().map(|n| -n).filter(|k| *k >= 1)?;
    match &**b {
        Expr::Call(Func::NormalCdf, args) => Some((&args[0], k)),
        _ => None,
    }
}

/// If `e` is a power `Phi(u)^k` (k a nonzero integer, k = 1 included), k.
fn cdf_power(e: &Expr) -> Option<i64> {
    match e {
        Expr::Call(Func::NormalCdf, _) => Some(1),
        Expr::Pow(b, x) if matches!(**b, Expr::Call(Func::NormalCdf, _)) => x.as_int(),
        _ => None,
    }
}

/// A product of `exp(a)` and powers `Phi(u)^-k`: the Mills ratio form
/// when `a = -Σ k u²/2`, else `exp(a - Σ k log Phi(u))`. A sum factor whose
/// terms would complete such a pair (an `exp` or a power of `Phi` in the
/// terms, the other outside) is distributed first. `None` when the product
/// has no such pair.
fn tail_quotient(fs: &[Expr]) -> Option<Expr> {
    let outer_exp = fs.iter().any(|f| exp_arg(f).is_some());
    let outer_inv = fs.iter().any(|f| inverse_cdf_power(f).is_some());
    if !outer_exp && !outer_inv {
        return None;
    }
    let completes = |t: &Expr| {
        let gs: &[Expr] = match t {
            Expr::Mul(gs) => gs,
            t => std::slice::from_ref(t),
        };
        let inv = gs.iter().any(|g| inverse_cdf_power(g).is_some());
        let exp = gs.iter().any(|g| exp_arg(g).is_some());
        // A positive power cancels one outside, which may leave a Mills ratio.
        let pos = gs.iter().any(|g| cdf_power(g).is_some_and(|k| k > 0));
        (outer_exp && inv) || (outer_inv && exp) || (outer_exp && outer_inv && pos)
    };
    let k_sum = fs.iter().position(|f| match f {
        Expr::Add(ts) => ts.iter().any(completes),
        _ => false,
    });
    if let Some(k_sum) = k_sum {
        let Expr::Add(ts) = &fs[k_sum] else {
            return None;
        };
        let terms = ts
            .iter()
            .map(|t| {
                let mut f: Vec<Expr> = fs
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != k_sum)
                    .map(|(_, f)| f.clone())
                    .collect();
                f.push(t.clone());
                let p = Expr::mul(f);
                match &p {
                    Expr::Mul(gs) => tail_quotient(gs).unwrap_or(p),
                    _ => p,
                }
            })
            .collect();
        return Some(Expr::add(terms));
    }
    let k_exp = fs.iter().position(|f| exp_arg(f).is_some())?;
    let mut rest = Vec::new();
    let mut inv = Vec::new();
    for (k, f) in fs.iter().enumerate() {
        if k == k_exp {
            continue;
        }
        match inverse_cdf_power(f) {
            Some(p) => inv.push(p),
            None => rest.push(f.clone()),
        }
    }
    if inv.is_empty() {
        return None;
    }
    let a = &exp_arg(&fs[k_exp])?;
    // a = -Σ k u²/2: exp(a)/Π Phi(u)^k = Π (√(2π) r(u))^k. Compared as
    // built (u² = (-u)², each square of the sum whose terms are not all
    // negative), then expanded when that is small (u a sum of 300 terms
    // would expand to 45 000).
    let square = |u: &Expr| {
        let negative = matches!(u, Expr::Add(ts) if ts.iter().all(|t| t.split_coeff().0.is_negative()))
            || u.split_coeff().0.is_negative();
        let u = if negative {
            Expr::neg(u.clone())
        } else {
            u.clone()
        };
        Expr::powi(u, 2)
    };
    let target = Expr::add(
        inv.iter()
            .map(|(u, k)| Expr::mul2(Expr::rational(-k, 2), square(u)))
            .collect(),
    );
    let small = a.size() + inv.iter().map(|(u, _)| u.size()).sum::<usize>() <= 64;
    if *a == target || (small && Expr::sub(a.clone(), target).expand().is_zero()) {
        let k_sum: i64 = inv.iter().map(|(_, k)| k).sum();
        rest.push(Expr::pow(
            Expr::mul2(Expr::int(2), Expr::Const(Constant::Pi)),
            Expr::rational(k_sum, 2),
        ));
        for (u, k) in inv {
            rest.push(Expr::powi(Expr::call(Func::Mills, vec![u.clone()]), k));
        }
        return Some(Expr::mul(rest));
    }
    let mut arg = vec![a.clone()];
    for (u, k) in inv {
        arg.push(Expr::mul2(
            Expr::int(-k),
            Expr::call(Func::LogNormalCdf, vec![u.clone()]),
        ));
    }
    rest.push(Expr::exp(Expr::add(arg)));
    Some(Expr::mul(rest))
}

/// In a sum, each pair `c·r(u)² + c·u·r(u)` as `c·r(u)·q(u)` (`r` the
/// inverse Mills ratio, `q = u + r`). `None` when there is no such pair.
fn pair_mills(ts: &[Expr]) -> Option<Expr> {
    let squares: Vec<(usize, &Expr)> = ts
        .iter()
        .enumerate()
        .filter_map(|(i, t)| mills_square(t).map(|u| (i, u)))
        .collect();
    if squares.is_empty() {
        return None;
    }
    let mut terms: Vec<Option<Expr>> = ts.iter().cloned().map(Some).collect();
    let mut expanded: Vec<Option<Expr>> = vec![None; ts.len()];
    let mut changed = false;
    for (i, u) in squares {
        let r = Expr::call(Func::Mills, vec![u.clone()]);
        let c = Expr::div(ts[i].clone(), Expr::powi(r.clone(), 2));
        let partner = Expr::mul(vec![c.clone(), u.clone(), r.clone()]);
        let mut found = None;
        for (j, t) in terms.iter().enumerate() {
            if j != i && t.as_ref() == Some(&partner) {
                found = Some(j);
                break;
            }
        }
        if found.is_none() && partner.size() <= 256 {
            let want = partner.expand();
            for j in 0..ts.len() {
                if j == i || terms[j].is_none() {
                    continue;
                }
                if ts[j].size() > 4 * partner.size() {
                    continue;
                }
                let ex = expanded[j].get_or_insert_with(|| ts[j].expand());
                if *ex == want {
                    found = Some(j);
                    break;
                }
            }
        }
        if let Some(j) = found
            && terms[i].is_some()
        {
            terms[j] = None;
            terms[i] = Some(Expr::mul(vec![
                c,
                r,
                Expr::call(Func::MillsShift, vec![u.clone()]),
            ]));
            changed = true;
        }
    }
    changed.then(|| Expr::add(terms.into_iter().flatten().collect()))
}

/// If the term `t` has the factor `r(u)²`, the `u`.
fn mills_square(t: &Expr) -> Option<&Expr> {
    fn is_square(f: &Expr) -> Option<&Expr> {
        match f {
            Expr::Pow(b, x) if x.as_int() == Some(2) => match &**b {
                Expr::Call(Func::Mills, args) => Some(&args[0]),
                _ => None,
            },
            _ => None,
        }
    }
    match t {
        Expr::Mul(fs) => fs.iter().find_map(is_square),
        t => is_square(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phi(u: &Expr) -> Expr {
        Expr::call(Func::NormalCdf, vec![u.clone()])
    }

    fn calls(e: &Expr, out: &mut Vec<Func>) {
        if let Expr::Call(f, _) = e {
            out.push(*f);
        }
        if let Expr::Pow(b, x) = e {
            calls(b, out);
            calls(x, out);
        }
        for c in e.children() {
            calls(c, out);
        }
    }

    #[test]
    fn complements_and_logs_become_the_tail_safe_functions() {
        let u = Expr::var("u");
        let sig = Expr::call(Func::Sigmoid, vec![u.clone()]);
        let cases = [
            (Expr::sub(Expr::one(), phi(&u)), phi(&Expr::neg(u.clone()))),
            (
                Expr::log(sig.clone()),
                Expr::call(Func::LogSigmoid, vec![u.clone()]),
            ),
            (
                Expr::log(Expr::sub(Expr::one(), sig)),
                Expr::call(Func::LogSigmoid, vec![Expr::neg(u.clone())]),
            ),
            (
                Expr::log(phi(&u)),
                Expr::call(Func::LogNormalCdf, vec![u.clone()]),
            ),
        ];
        for (e, want) in cases {
            assert_eq!(stable(&e), want, "{e}");
        }
    }

    #[test]
    fn the_probit_weight_is_a_product_of_mills_ratios() {
        // exp(-u²)/(2π Φ(u)(1 - Φ(u))) = r(u) r(-u).
        let u = Expr::var("u");
        let w = Expr::div(
            Expr::exp(Expr::neg(Expr::powi(u.clone(), 2))),
            Expr::mul(vec![
                Expr::int(2),
                Expr::pi(),
                phi(&u),
                Expr::sub(Expr::one(), phi(&u)),
            ]),
        );
        let want = Expr::mul2(
            Expr::call(Func::Mills, vec![u.clone()]),
            Expr::call(Func::Mills, vec![Expr::neg(u)]),
        );
        assert_eq!(stable(&w), want);
    }

    #[test]
    fn the_probit_hessian_pairs_its_mills_terms() {
        // -d²/du² [y log Φ(u)] = y (r² + u r) = y r q.
        let (u, y) = (Expr::var("u"), Expr::var("y"));
        let logp = Expr::mul2(y.clone(), Expr::log(phi(&u)));
        let h = crate::symbolic::diff(&crate::symbolic::diff(&logp, "u"), "u");
        let s = stable(&Expr::neg(h));
        let want = Expr::mul(vec![
            y,
            Expr::call(Func::Mills, vec![u.clone()]),
            Expr::call(Func::MillsShift, vec![u]),
        ]);
        assert_eq!(s, want);
    }

    #[test]
    fn a_quotient_that_is_not_a_mills_ratio_goes_through_log_phi() {
        let u = Expr::var("u");
        let e = Expr::div(Expr::exp(Expr::var("a")), phi(&u));
        let mut fs = Vec::new();
        calls(&stable(&e), &mut fs);
        assert_eq!(fs, [Func::Exp, Func::LogNormalCdf], "{e}");
    }

    #[test]
    fn a_long_linear_predictor_is_matched_as_built() {
        // eta with 300 terms: eta² would expand to 45 150 monomials.
        let eta = Expr::add(
            (0..300)
                .map(|k| Expr::mul2(Expr::var(&format!("b{k}")), Expr::var(&format!("z{k}"))))
                .collect(),
        );
        let w = Expr::mul(vec![
            Expr::var("z1"),
            Expr::exp(Expr::neg(Expr::powi(eta.clone(), 2))),
            Expr::recip(Expr::mul(vec![
                Expr::int(2),
                Expr::pi(),
                phi(&eta),
                Expr::sub(Expr::one(), phi(&eta)),
            ])),
        ]);
        let start = std::time::Instant::now();
        let s = stable(&w);
        let want = Expr::mul(vec![
            Expr::var("z1"),
            Expr::call(Func::Mills, vec![eta.clone()]),
            Expr::call(Func::Mills, vec![Expr::neg(eta)]),
        ]);
        assert_eq!(s, want);
        eprintln!("stable pass on a 300-term weight: {:?}", start.elapsed());
    }

    #[test]
    fn expressions_without_candidates_are_borrowed() {
        let e = Expr::log(Expr::var("x"));
        assert!(matches!(stable_cow(&e), Cow::Borrowed(_)));
    }
}
