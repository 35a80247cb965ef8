//! The cross-check between exact symbolic derivatives and exact dual-number
//! derivatives: `fimkit::symbolic::diff` (evaluated in f64) against
//! `fimkit::numeric::eval` over `Dual2Vec`, to 1e-9, on random expression
//! trees and on every example model (there also against central finite
//! differences).

mod numeric_common;

use fimkit::ir::Expr;
use fimkit::numeric::eval::{eval_f64, gradient_hessian};
use fimkit::symbolic::{gradient, hessian};
use numeric_common::{Rng, example_models, random_expr, random_point};
use proptest::prelude::*;

/// Largest magnitude of any subexpression's value: comparisons to 1e-9 are
/// meaningless in f64 once large intermediate values cancel (ψ(A) − ψ(A + B)
/// with A ~ 1e7 keeps only ~9 digits), so such points are skipped.
fn largest_intermediate(e: &Expr, values: &dyn Fn(&str) -> Option<f64>) -> f64 {
    let here = eval_f64(e, values).map_or(f64::INFINITY, f64::abs);
    let kids = match e {
        Expr::Pow(b, x) => vec![(**b).clone(), (**x).clone()],
        other => other.children().to_vec(),
    };
    kids.iter()
        .map(|k| largest_intermediate(k, values))
        .fold(here, f64::max)
}

/// Relative agreement, with an absolute floor of `tol` for values near 0.
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("FIMKIT_LONG").map_or(128, |_| 4000)))]

    /// First and second symbolic derivatives equal the dual-number ones.
    #[test]
    fn symbolic_derivatives_match_duals(
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
        prop_assume!(largest_intermediate(&e, &values) < 1e5);
        let dual = gradient_hessian(&e, &vars, &values);
        prop_assume!(dual.is_ok());
        let (_, g, h) = dual.unwrap();
        let sg = gradient(&e, &vars);
        let sh = hessian(&e, &vars);
        // The derivatives' own intermediates bounded too: near a kink of
        // `abs` (|1/7 + a| ≈ 2e-5) they reach 1e14 and cancel to 1e-4.
        prop_assume!(sg.iter().chain(sh.iter().flatten())
            .all(|d| largest_intermediate(d, &values) < 1e5));
        for i in 0..2 {
            let s = eval_f64(&sg[i], &values);
            prop_assume!(s.is_ok());
            let s = s.unwrap();
            prop_assert!(close(s, g[i], 1e-9), "d/d{} of {e}:\n symbolic {} = {s}\n dual {}", vars[i], sg[i], g[i]);
            for j in 0..2 {
                let s = eval_f64(&sh[i][j], &values);
                prop_assume!(s.is_ok());
                let s = s.unwrap();
                prop_assert!(close(s, h[(i, j)], 1e-9),
                    "d2/d{}d{} of {e}:\n symbolic {} = {s}\n dual {}", vars[i], vars[j], sh[i][j], h[(i, j)]);
            }
        }
    }
}

/// Every example model: symbolic Hessian = dual Hessian (1e-9) = central
/// finite differences of the value (1e-5, the truncation error of h = 1e-4).
#[test]
fn example_model_hessians_agree_three_ways() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for (name, m) in example_models() {
        let logp = m.logp_numeric();
        let params: Vec<String> = m.param_names().iter().map(|p| p.to_string()).collect();
        let sym = hessian(&logp, &params);
        let n = params.len();
        for _ in 0..10 {
            let (at, data) = random_point(&m, &mut rng);
            let values = |v: &str| {
                params
                    .iter()
                    .position(|p| p == v)
                    .map(|i| at[i])
                    .or_else(|| data.iter().find(|(d, _)| d == v).map(|(_, x)| *x))
            };
            let (_, _, h) =
                gradient_hessian(&logp, &params, &values).unwrap_or_else(|e| panic!("{name}: {e}"));
            let f = |shift: &[f64]| {
                let moved = |v: &str| {
                    params
                        .iter()
                        .position(|p| p == v)
                        .map(|i| at[i] + shift[i])
                        .or_else(|| values(v))
                };
                eval_f64(&logp, &moved).unwrap_or_else(|e| panic!("{name}: {e}"))
            };
            let step = 1e-4;
            for i in 0..n {
                for j in 0..n {
                    let s = eval_f64(&sym[i][j], &values).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(
                        close(s, h[(i, j)], 1e-9),
                        "{name} H[{i}][{j}]: symbolic {s} vs dual {}",
                        h[(i, j)]
                    );
                    let mut d = vec![0.0; n];
                    let mut corner = |si: f64, sj: f64| {
                        d.iter_mut().for_each(|v| *v = 0.0);
                        d[i] += si * step;
                        d[j] += sj * step;
                        f(&d)
                    };
                    let fd = (corner(1.0, 1.0) - corner(1.0, -1.0) - corner(-1.0, 1.0)
                        + corner(-1.0, -1.0))
                        / (4.0 * step * step);
                    assert!(
                        close(fd, h[(i, j)], 1e-5),
                        "{name} H[{i}][{j}]: finite differences {fd} vs dual {}",
                        h[(i, j)]
                    );
                }
            }
        }
    }
}

/// The symbolic gradient of every example model equals the dual one.
#[test]
fn example_model_gradients_agree() {
    let mut rng = Rng(7);
    for (name, m) in example_models() {
        let logp: Expr = m.logp_numeric();
        let params: Vec<String> = m.param_names().iter().map(|p| p.to_string()).collect();
        let sg = gradient(&logp, &params);
        let (at, data) = random_point(&m, &mut rng);
        let values = |v: &str| {
            params
                .iter()
                .position(|p| p == v)
                .map(|i| at[i])
                .or_else(|| data.iter().find(|(d, _)| d == v).map(|(_, x)| *x))
        };
        let (_, g, _) = gradient_hessian(&logp, &params, &values).unwrap();
        for i in 0..params.len() {
            let s = eval_f64(&sg[i], &values).unwrap();
            assert!(close(s, g[i], 1e-9), "{name} g[{i}]: {s} vs {}", g[i]);
        }
    }
}
