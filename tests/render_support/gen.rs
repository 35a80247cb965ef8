//! Random expressions for the render property tests, built through the
//! canonical constructors. Every variable is sampled positive, and
//! arguments that need a positive value (log, lgamma, non-integer powers)
//! are made positive, so most expressions have finite values.

use fimkit::Expr;
use fimkit::ir::{Constant, Func, Rational};
use proptest::prelude::*;

const VARS: &[&str] = &[
    "x", "mu", "sigma", "alpha", "a[1]", "a[2]", "b0", "gamma", "rate", "sigma_x",
];

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        4 => proptest::sample::select(VARS).prop_map(Expr::var),
        2 => (-4i64..=6).prop_map(Expr::int),
        1 => (-5i64..=5, 2i64..=4).prop_map(|(p, q)| Expr::rational(p, q)),
        1 => proptest::sample::select(vec![Constant::Pi, Constant::E, Constant::EulerGamma]).prop_map(Expr::Const),
    ]
}

/// A positive version of `a` for arguments that need one: variables
/// (sampled positive), positive numbers and constants stay, anything else
/// becomes `a² + 1/2`.
fn pos(a: Expr) -> Expr {
    let positive = matches!(a, Expr::Var(_) | Expr::Const(_))
        || a.as_num()
            .is_some_and(|r| *r > Rational::from_integer(0.into()));
    if positive {
        a
    } else {
        Expr::add2(Expr::powi(a, 2), Expr::rational(1, 2))
    }
}

pub fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        let f1 = proptest::sample::select(Func::ALL.to_vec());
        prop_oneof![
            3 => proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::add),
            3 => proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::mul),
            1 => inner.clone().prop_map(Expr::neg),
            2 => (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::sub(a, b)),
            2 => (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::div(a, pos(b))),
            2 => (inner.clone(), -3i64..=3).prop_map(|(a, n)| Expr::powi(if n < 0 { pos(a) } else { a }, n)),
            1 => (inner.clone(), proptest::sample::select(vec![(1, 2), (-1, 2), (3, 2), (1, 3)]))
                .prop_map(|(a, (p, q))| Expr::pow(pos(a), Expr::rational(p, q))),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::pow(pos(a), b)),
            4 => (f1, inner.clone(), inner.clone(), 0i64..4).prop_map(|(f, a, b, n)| {
                let args = match f {
                    Func::Log | Func::Lgamma => vec![pos(a)],
                    Func::Log1p => vec![pos(a)],
                    Func::Polygamma => vec![Expr::int(n), pos(a)],
                    Func::Lbeta => vec![pos(a), pos(b)],
                    Func::BesselI => vec![Expr::rational(n, 2), pos(a)],
                    Func::Indicator => vec![a, Expr::int(n)],
                    _ => vec![a],
                };
                Expr::call(f, args)
            }),
        ]
    })
}
