//! `tidy`: the cheap normal form of a formula before the e-graph sees it —
//! the smallest of the expression, its expansion and its cancelled
//! rational form — memoised within one derivation ([`memo_scope`]).
//!
//! ```
//! use fimkit::ir::Expr;
//! let p = Expr::var("p");
//! // 1/p + 1/(1 - p) over a common denominator.
//! let e = Expr::add2(Expr::recip(p.clone()), Expr::recip(Expr::sub(Expr::one(), p)));
//! let t = fimkit::symbolic::tidy(&e);
//! assert_eq!(fimkit::render::text::render(&t, &Default::default()), "1/(p*(1 - p))");
//! ```

use crate::ir::expr::Expr;
use crate::ir::memo::ScopedMemo;

thread_local! {
    /// Results of [`tidy`], `(sum bound, input) → result`, within one
    /// [`memo_scope`]: FIM, Hessian and inverse entries repeat (every
    /// off-diagonal entry of a Dirichlet FIM is the same), so each distinct
    /// expression is tidied once.
    static TIDY_MEMO: ScopedMemo<Expr, Expr> = const { ScopedMemo::new(100_000) };
    /// The same for [`tidy_deep`]. One memo per sum bound, keyed by the
    /// expression alone, so a look-up does not copy the expression into a
    /// `(bound, expression)` key.
    static TIDY_DEEP_MEMO: ScopedMemo<Expr, Expr> = const { ScopedMemo::new(100_000) };
}

/// Run `f` with fresh memos of [`tidy`] and [`Expr::expand`] on this
/// thread, dropped at its end: one derivation (or coordinate system) is
/// one scope, so a derivation costs the same the first time and every
/// time after, and nothing it returns depends on the memos.
pub fn memo_scope<T>(f: impl FnOnce() -> T) -> T {
    ScopedMemo::scope(&TIDY_MEMO, || {
        ScopedMemo::scope(&TIDY_DEEP_MEMO, || crate::ir::expr::with_expand_memo(f))
    })
}

/// Longest sum put under a common denominator by [`tidy`].
pub const TIDY_SUM_BOUND: usize = 4;

/// The smallest of an expression, its expansion and its cancelled rational
/// form (by operation count), with common denominators only over short
/// sums; the e-graph simplifier refines this further.
pub fn tidy(e: &Expr) -> Expr {
    tidy_bounded(e, TIDY_SUM_BOUND)
}

/// [`tidy`] with common denominators over sums of any length: for the few
/// scalar factors (det F, the Sherman–Morrison factor) where
/// `1 + u·(p1 + ... + p9)/(1 - p1 - ... - p9)` must collapse.
pub fn tidy_deep(e: &Expr) -> Expr {
    tidy_bounded(e, usize::MAX)
}

fn tidy_bounded(e: &Expr, bound: usize) -> Expr {
    // The two bounds in use ([`tidy`]'s and [`tidy_deep`]'s; the clusters
    // of a sum keep their caller's).
    let memo = match bound {
        TIDY_SUM_BOUND => &TIDY_MEMO,
        usize::MAX => &TIDY_DEEP_MEMO,
        _ => return tidy_uncached(e, bound),
    };
    ScopedMemo::get_or_compute(memo, e, || tidy_uncached(e, bound))
}

fn tidy_uncached(e: &Expr, bound: usize) -> Expr {
    let mut best = e.clone();
    let mut consider = |candidate: Expr| {
        if candidate.op_count() < best.op_count() {
            best = candidate;
        }
    };
    consider(e.expand());
    // Cluster by cluster: a sum of independent contributions (K items of
    // a test, K design points) keeps each one's own cancellation instead
    // of one common denominator over all of them.
    if let Expr::Add(terms) = e
        && terms.iter().any(has_fraction)
    {
        let clusters = clusters_by_calls(terms);
        if clusters.len() > 1 {
            consider(Expr::add(
                clusters
                    .into_iter()
                    .map(|c| tidy_bounded(&Expr::add(c), bound))
                    .collect(),
            ));
        }
    }
    if has_fraction(e) {
        consider(super::cancel_bounded(e, bound));
        consider(super::cancel_grouped(e));
    }
    best
}

/// The terms of a sum in clusters: two terms are in one cluster when they
/// share a function call (`exp(θ − 1)`, `log(1 + p)`), directly or through
/// other terms; clusters keep the order of their first term. Terms
/// without calls form one cluster.
fn clusters_by_calls(terms: &[Expr]) -> Vec<Vec<Expr>> {
    fn calls<'a>(e: &'a Expr, out: &mut Vec<Option<&'a Expr>>) {
        match e {
            Expr::Call(..) => out.push(Some(e)),
            Expr::Pow(b, x) => {
                calls(b, out);
                calls(x, out);
                return;
            }
            _ => {}
        }
        for c in e.children() {
            calls(c, out);
        }
    }
    let keys: Vec<Vec<Option<&Expr>>> = terms
        .iter()
        .map(|t| {
            let mut cs = Vec::new();
            calls(t, &mut cs);
            if cs.is_empty() {
                cs.push(None); // the terms without calls: one cluster
            }
            cs
        })
        .collect();
    crate::partition::components(&keys)
        .into_iter()
        .map(|c| c.into_iter().map(|i| terms[i].clone()).collect())
        .collect()
}

/// Does the expression contain a negative integer power (a fraction)?
fn has_fraction(e: &Expr) -> bool {
    match e {
        Expr::Pow(b, x) => {
            x.as_num().is_some_and(|r| r < &num_traits::Zero::zero()) || has_fraction(b)
        }
        _ => e.children().iter().any(has_fraction),
    }
}
