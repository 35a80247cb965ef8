//! Rewrites valid for positive quantities, applied before an expression is
//! linearized in the data: `log(a·b) = log a + log b` and
//! `(a·b)^k = a^k·b^k` when every factor is known positive (from the
//! model's domains and supports). They let `log(2πx³)` and `(x/λ)^k`
//! separate into data and parameter parts.

use crate::ir::expr::{Expr, Func};
use crate::symbolic::simplify::Assumptions;

/// Split logs and powers of products of positive factors, bottom-up.
///
/// ```
/// use fimkit::ir::Expr;
/// use fimkit::symbolic::simplify::{Assumptions, Bounds};
/// use fimkit::fisher::positive::split_positive;
/// let facts = Assumptions::new().with("x", Bounds::positive()).with("l", Bounds::positive());
/// let e = Expr::pow(Expr::var("x") / Expr::var("l"), Expr::var("k"));
/// let split = split_positive(&e, &facts);
/// assert_eq!(split, Expr::pow(Expr::var("x"), Expr::var("k")) * Expr::pow(Expr::var("l"), -Expr::var("k")));
/// ```
pub fn split_positive(e: &Expr, facts: &Assumptions) -> Expr {
    let positive = |f: &Expr| facts.bounds_of(f).is_positive();
    e.map_bottom_up(&mut |x| match &x {
        Expr::Call(Func::Log, args) => split_log(&args[0], &positive).unwrap_or(x),
        Expr::Pow(b, k) => pow_positive(b, k, &positive).unwrap_or(x),
        _ => x,
    })
}

/// `(a·b)^k = a^k·b^k` and `(a^m)^k = a^(mk)` for positive a, b.
fn pow_positive(b: &Expr, k: &Expr, positive: &dyn Fn(&Expr) -> bool) -> Option<Expr> {
    match b {
        Expr::Mul(fs) if fs.iter().all(positive) => Some(Expr::mul(
            fs.iter()
                .map(|f| {
                    pow_positive(f, k, positive).unwrap_or_else(|| Expr::pow(f.clone(), k.clone()))
                })
                .collect(),
        )),
        Expr::Pow(inner, m) if positive(inner) => Some(Expr::pow(
            (**inner).clone(),
            Expr::mul2((**m).clone(), k.clone()),
        )),
        _ => None,
    }
}

/// `log u` as a sum of simpler logs, when `u` is a product or power of
/// positive factors.
fn split_log(u: &Expr, positive: &dyn Fn(&Expr) -> bool) -> Option<Expr> {
    let log_of = |f: &Expr| split_log(f, positive).unwrap_or_else(|| Expr::log(f.clone()));
    match u {
        Expr::Mul(fs) if fs.iter().all(positive) => {
            Some(Expr::add(fs.iter().map(log_of).collect()))
        }
        Expr::Pow(b, k) if positive(b) => Some(Expr::mul2((**k).clone(), log_of(b))),
        _ => None,
    }
}
