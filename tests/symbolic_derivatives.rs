//! The simplifier against an independent oracle: on random expression
//! trees built from every function of the language (the generator of
//! `tests/numeric_common`, shared with `numeric_vs_symbolic.rs`), at random
//! points inside the functions' domains,
//!
//! * the symbolic first and second derivatives, before and after
//!   simplification ([`derive_simplified`], with [`Assumptions`] from the
//!   variables' ranges), equal the dual-number derivatives of num-dual
//!   ([`gradient_hessian`]) to 1e-9 relative, plus four times the rounding
//!   error bound of the expressions (`rounding_bound`: random trees can be
//!   ill-conditioned);
//! * simplification never changes a value ([`simplify`] of the expression
//!   itself, and of each plain derivative).
//!
//! 48 cases by default, 1000 with `FIMKIT_LONG=1`.

mod numeric_common;

use fimkit::ir::Expr;
use fimkit::numeric::eval::{eval_f64, gradient_hessian};
use fimkit::render::text::{TextStyle, render};
use fimkit::symbolic::simplify::{
    Assumptions, Bounds, SimplifyConfig, derive_simplified, simplify,
};
use fimkit::symbolic::{gradient, hessian};
use numeric_common::{agree, random_expr, rounding_bound};
use proptest::prelude::*;

fn ascii(e: &Expr) -> String {
    render(e, &TextStyle::ascii())
}

/// What the ranges of the generator's variables let the simplifier assume:
/// `b` in [0.2, 2] is positive, `k` in {0, 1, 2} a non-negative integer;
/// `a` and `x` range over both signs.
fn assumptions() -> Assumptions {
    Assumptions::new()
        .with("b", Bounds::positive())
        .with("k", Bounds::nonnegative().integer())
}

/// The default limits, with a time limit that never binds (reproducible
/// on a loaded machine).
fn config() -> SimplifyConfig {
    SimplifyConfig {
        time_limit: std::time::Duration::from_secs(30),
        ..SimplifyConfig::default()
    }
}

fn cases() -> u32 {
    if std::env::var("FIMKIT_LONG").is_ok() {
        1000
    } else {
        48
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Plain and simplified first and second derivatives equal the dual
    /// ones, and simplification keeps every value.
    #[test]
    fn simplified_derivatives_match_duals(
        e in random_expr(), a in -1.5f64..1.5, b in 0.2f64..2.0, x in -1.0f64..1.0, k in 0usize..3
    ) {
        let vars = ["a", "b"];
        let values = |v: &str| match v {
            "a" => Some(a),
            "b" => Some(b),
            "x" => Some(x),
            "k" => Some(k as f64),
            _ => None,
        };
        // Points where the expression or its derivatives overflow are
        // outside what the oracle can check.
        let dual = gradient_hessian(&e, &vars, &values);
        prop_assume!(dual.is_ok());
        let (value, g, h) = dual.unwrap();
        let at = |f: &Expr| eval_f64(f, &values);
        // How far two correct f64 evaluations of the same quantity may be
        // apart (random trees can be arbitrarily ill-conditioned).
        let slack = |fs: &[&Expr]| fs.iter().map(|f| rounding_bound(f, &values)).try_fold(0.0f64, |m, b| b.map(|b| m.max(b)));
        let facts = assumptions();
        let derived = derive_simplified(&e, &vars, &facts, &config());
        let sg = gradient(&e, &vars);
        let sh = hessian(&e, &vars);

        // The value, simplified alone and as the cascade's first step.
        for (label, s) in [
            ("simplify", simplify(&e, &facts, &config()).expr),
            ("cascade", derived.logp.expr.clone()),
        ] {
            let v = at(&s);
            let bound = slack(&[&e, &s]);
            prop_assume!(bound.is_some());
            let close = |a: f64, b: f64| agree(a, b, 1e-9, bound.unwrap());
            prop_assert!(v.as_ref().is_ok_and(|v| close(*v, value)),
                "{label} changed the value of {e}:\n {} = {v:?}\n vs {value}", ascii(&s));
        }
        for i in 0..2 {
            let plain = at(&sg[i]);
            // A plain derivative that overflows where the dual one does not
            // (a different evaluation order) is the numeric helper's
            // business (numeric_vs_symbolic.rs): skip it.
            prop_assume!(plain.is_ok());
            let plain = plain.unwrap();
            let simple = &derived.score.exprs[i].0;
            let alone = simplify(&sg[i], &facts, &config()).expr;
            let bound = slack(&[&sg[i], simple, &alone]);
            prop_assume!(bound.is_some());
            let bound = bound.unwrap();
            let close = |a: f64, b: f64| agree(a, b, 1e-9, bound);
            prop_assert!(close(plain, g[i]),
                "d/d{} of {e}:\n plain {} = {plain}\n dual {}", vars[i], sg[i], g[i]);
            let s = at(simple);
            prop_assert!(s.as_ref().is_ok_and(|s| close(*s, g[i])),
                "d/d{} of {e}:\n simplified {} = {s:?}\n dual {}", vars[i], ascii(simple), g[i]);
            let s = at(&alone);
            prop_assert!(s.as_ref().is_ok_and(|s| close(*s, plain)),
                "simplify changed d/d{} of {e}:\n {} = {s:?}\n vs {plain}", vars[i], ascii(&alone));
            for j in 0..2 {
                let plain = at(&sh[i][j]);
                prop_assume!(plain.is_ok());
                let plain = plain.unwrap();
                let simple = &derived.hessian.matrix[i][j];
                let bound = slack(&[&sh[i][j], simple]);
                prop_assume!(bound.is_some());
                let bound = bound.unwrap();
                let close = |a: f64, b: f64| agree(a, b, 1e-9, bound);
                prop_assert!(close(plain, h[(i, j)]),
                    "d2/d{}d{} of {e}:\n plain {} = {plain}\n dual {}", vars[i], vars[j], sh[i][j], h[(i, j)]);
                let s = at(simple);
                prop_assert!(s.as_ref().is_ok_and(|s| close(*s, h[(i, j)])),
                    "d2/d{}d{} of {e}:\n simplified {} = {s:?}\n dual {}",
                    vars[i], vars[j], ascii(simple), h[(i, j)]);
            }
        }
    }
}
