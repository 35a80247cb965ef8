//! Data-separable log-densities: `log p(x; θ) = Σ_k c_k(θ) · g_k(x)`.
//!
//! Every exponential family written in its natural form has this shape
//! (`η(θ)·T(x) − A(θ) + log h(x)`); so does the Gamma,
//! `α log β − lgamma α + (α − 1) log x − β x`. The split is read off the
//! expression as written: each term of the top-level sum must be a
//! product of parameter-only and data-only factors (nothing is expanded,
//! so no cancellation is introduced that the expression did not have).
//! Terms with the same data factor share one coefficient, and the terms
//! without data go to `g_0 = 1`. The numeric separable engine
//! (`numeric::separable`) evaluates the split.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::structure::separable::split;
//! let (a, b, x) = (Expr::var("a"), Expr::var("b"), Expr::var("x"));
//! // a·log x − b·x + lgamma(a)
//! let logp = a.clone() * Expr::log(x.clone()) - b.clone() * x.clone() + Expr::lgamma(a.clone());
//! let s = split(&logp, &["a", "b"], &["x"]).unwrap();
//! assert_eq!(s.coeffs, [Expr::lgamma(a.clone()), -b, a.clone()]); // c_0 (of 1), then of x, log x
//! assert_eq!(s.factors, [x.clone(), Expr::log(x.clone())]);
//! // a factor that mixes data and parameters has no split
//! assert!(split(&Expr::log(a + x), &["a"], &["x"]).is_none());
//! ```

use crate::ir::expr::{Expr, Name};
use std::collections::BTreeMap;

/// A log-density split into parameter-only coefficients and data-only
/// factors: `c_0 + Σ_{k ≥ 1} c_k · g_k`.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// `c_0` (multiplying 1), then `c_k` for `factors[k − 1]`; never zero
    /// for `k ≥ 1`.
    pub coeffs: Vec<Expr>,
    /// The data factors `g_1 … g_K` (at least one), in `Expr` order.
    pub factors: Vec<Expr>,
}

/// Which side of the split an expression is on.
fn side(e: &Expr, params: &[Name], data: &[Name]) -> Option<(bool, bool)> {
    let vars = e.free_vars();
    let p = vars.iter().any(|v| params.contains(v));
    let d = vars.iter().any(|v| data.contains(v));
    // A variable that is neither is not compiled anywhere: refuse.
    let other = vars
        .iter()
        .any(|v| !params.contains(v) && !data.contains(v));
    (!other).then_some((p, d))
}

/// Split `logp` into `Σ c_k(θ) g_k(x)` term by term, if every term is a
/// product of parameter-only and data-only factors, every variable is a
/// parameter or data, and at least one term has data.
pub fn split(logp: &Expr, params: &[impl AsRef<str>], data: &[impl AsRef<str>]) -> Option<Split> {
    let params: Vec<Name> = params.iter().map(|p| Name::from(p.as_ref())).collect();
    let data: Vec<Name> = data.iter().map(|p| Name::from(p.as_ref())).collect();
    let terms: &[Expr] = match logp {
        Expr::Add(ts) => ts,
        e => std::slice::from_ref(e),
    };
    let mut groups: BTreeMap<Expr, Vec<Expr>> = BTreeMap::new();
    for t in terms {
        let factors: &[Expr] = match t {
            Expr::Mul(fs) => fs,
            e => std::slice::from_ref(e),
        };
        let (mut cs, mut gs) = (Vec::new(), Vec::new());
        for f in factors {
            match side(f, &params, &data)? {
                (true, true) => return None,
                (_, true) => gs.push(f.clone()),
                _ => cs.push(f.clone()),
            }
        }
        groups.entry(Expr::mul(gs)).or_default().push(Expr::mul(cs));
    }
    let mut coeffs = vec![
        groups
            .remove(&Expr::one())
            .map_or_else(Expr::zero, Expr::add),
    ];
    let mut factors = Vec::new();
    for (g, cs) in groups {
        let c = Expr::add(cs);
        if !c.is_zero() {
            factors.push(g);
            coeffs.push(c);
        }
    }
    (!factors.is_empty()).then_some(Split { coeffs, factors })
}
