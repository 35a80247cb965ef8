//! Tree evaluation and the compiled tape: errors, and tape == tree on
//! every example model and on random expressions.

mod numeric_common;

use fimkit::ir::Expr;
use fimkit::numeric::compiled::Tape;
use fimkit::numeric::eval::{EvalError, eval, eval_f64, gradient_hessian};
use fimkit::numeric::linear::LinearHessian;
use nalgebra::{Dyn, U1};
use num_dual::{Derivative, Dual2Vec, Dual64};
use numeric_common::{Rng, agree, example_models, random_point, rounding_bound};
use proptest::prelude::*;

type H = Dual2Vec<f64, Dyn>;

fn seeds(at: &[f64]) -> Vec<H> {
    let n = at.len();
    (0..n)
        .map(|i| {
            let mut d = H::from_re(at[i]);
            d.v1 = Derivative::derivative_generic(U1, Dyn(n), i);
            d
        })
        .collect()
}

fn parts(d: &H, n: usize) -> (f64, Vec<f64>, Vec<f64>) {
    let g = d.v1.clone().unwrap_generic(U1, Dyn(n));
    let h = d.v2.clone().unwrap_generic(Dyn(n), Dyn(n));
    (
        d.re,
        g.iter().copied().collect(),
        h.iter().copied().collect(),
    )
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn unknown_variable_is_an_error() {
    let e = Expr::log(Expr::var("q"));
    let r = eval_f64(&e, &|_| None);
    assert_eq!(r, Err(EvalError::UnknownVariable("q".into())));
    assert_eq!(r.unwrap_err().to_string(), "no value given for `q`");
}

#[test]
fn non_finite_names_the_innermost_subexpression() {
    // log(x - 1) at x = 1 is -inf: the error names log(...), not the sum.
    let x = Expr::var("x");
    let e = Expr::add2(Expr::log(Expr::sub(x.clone(), Expr::one())), x);
    let err = eval_f64(&e, &|_| Some(1.0)).unwrap_err();
    match err {
        EvalError::NonFinite { expr, value } => {
            assert_eq!(expr, "log(x - 1)");
            assert_eq!(value, f64::NEG_INFINITY);
        }
        other => panic!("unexpected {other:?}"),
    }
    // The tape reports the same culprit.
    let tape = Tape::compile(&[e], &["x"], &[] as &[&str]).unwrap();
    let mut ws = tape.workspace::<f64>();
    let err = tape.eval(&[1.0], &[], &mut ws).unwrap_err();
    assert!(err.to_string().contains("log(x - 1)"), "{err}");
}

#[test]
fn bad_polygamma_order_is_an_error() {
    let e = Expr::call(
        fimkit::ir::Func::Polygamma,
        vec![Expr::var("n"), Expr::var("x")],
    );
    let err = eval_f64(&e, &|v| Some(if v == "n" { 1.5 } else { 2.0 })).unwrap_err();
    assert!(matches!(err, EvalError::BadOrder { .. }), "{err:?}");
}

#[test]
fn powers_and_constants() {
    let x = Expr::var("x");
    let env = |_: &str| Some(Dual64::from_re(4.0).derivative());
    let sqrt = eval(&Expr::sqrt(x.clone()), &env).unwrap();
    assert_eq!((sqrt.re, sqrt.eps), (2.0, 0.25));
    let xx = eval(&Expr::pow(x.clone(), x.clone()), &env).unwrap();
    assert!((xx.re - 256.0).abs() < 1e-12);
    assert!((xx.eps - 256.0 * (4f64.ln() + 1.0)).abs() < 1e-10);
    let c = eval_f64(&Expr::Const(fimkit::ir::Constant::EulerGamma), &|_| None).unwrap();
    assert_eq!(c, 0.577_215_664_901_532_9);
    let ind = Expr::call(fimkit::ir::Func::Indicator, vec![x.clone(), Expr::int(4)]);
    assert_eq!(eval(&ind, &env).unwrap().re, 1.0);
}

#[test]
fn log_sigmoid_patterns_do_not_lose_the_tail() {
    // y log σ(η) + (1 - y) log(1 - σ(η)) at η = 50, y = 0: -50, not -inf.
    let eta = Expr::var("eta");
    let s = Expr::call(fimkit::ir::Func::Sigmoid, vec![eta]);
    let e = Expr::log(Expr::sub(Expr::one(), s));
    let v = eval_f64(&e, &|_| Some(50.0)).unwrap();
    assert!((v + 50.0).abs() < 1e-12, "{v}");
}

#[test]
fn complements_of_symmetric_cdfs_keep_the_tail() {
    // 1 - Φ(η) and 1 - σ(η) are evaluated as Φ(-η), σ(-η): at η = 10 they
    // are 7.6e-24 and 4.5e-5, not 0 (tree walk) or -inf after a log, and the
    // compiled tape agrees, derivatives included.
    use fimkit::ir::Func;
    let eta = Expr::var("eta");
    for (f, want) in [
        (Func::NormalCdf, 7.619_853_024_160_527e-24),
        (Func::Sigmoid, 4.539_786_870_243_442e-5),
    ] {
        let tail = Expr::sub(Expr::one(), Expr::call(f, vec![eta.clone()]));
        let v = eval_f64(&tail, &|_| Some(10.0)).unwrap();
        assert!(close(v, want, 1e-14), "{f:?}: {v}");
        let logt = Expr::log(tail.clone());
        let (lv, g, h) = gradient_hessian(&logt, &["eta"], &|_| Some(10.0)).unwrap();
        assert!(close(lv, want.ln(), 1e-14), "{f:?}: log {lv}");
        let tape = Tape::compile(&[tail], &["eta".to_string()], &[] as &[String]).unwrap();
        let mut ws = tape.workspace::<H>();
        tape.eval(&seeds(&[10.0]), &[], &mut ws).unwrap();
        let (tv, tg, _) = parts(&tape.output(&ws, 0), 1);
        assert!(close(tv, want, 1e-14), "{f:?}: tape {tv}");
        // d/dη log(1 - F) = -F'/(1 - F), finite and negative.
        assert!(
            g[0] < 0.0 && h[(0, 0)].is_finite() && tg[0] < 0.0,
            "{f:?}: {g} {h} {tg:?}"
        );
    }
}

#[test]
fn log_normal_cdf_patterns_do_not_underflow() {
    // The probit log-likelihood of a row at η = ∓40: log Φ(-40) and
    // log(1 - Φ(40)) are -804.6, with (log Φ)' = 40.025 and '' = -0.99938,
    // although Φ(-40) = 3.7e-350 is below f64.
    use fimkit::ir::Func;
    let eta = Expr::var("eta");
    let phi = Expr::call(Func::NormalCdf, vec![eta.clone()]);
    for (e, at, sign) in [
        (Expr::log(phi.clone()), -40.0, 1.0),
        (Expr::log(Expr::sub(Expr::one(), phi)), 40.0, -1.0),
    ] {
        let (v, g, h) = gradient_hessian(&e, &["eta"], &|_| Some(at)).unwrap();
        assert!(close(v, -804.608_442_013_753_8, 1e-14), "{v}");
        assert!(close(g[0], sign * 40.024_968_847_207_26, 1e-14), "{g}");
        assert!(close(h[(0, 0)], -0.999_377_331_621_408_6, 1e-13), "{h}");
        // The compiled tape takes the same route.
        let tape = Tape::compile(&[e], &["eta".to_string()], &[] as &[String]).unwrap();
        let mut ws = tape.workspace::<H>();
        tape.eval(&seeds(&[at]), &[], &mut ws).unwrap();
        let (tv, tg, th) = parts(&tape.output(&ws, 0), 1);
        assert!(close(tv, v, 1e-14) && close(tg[0], g[0], 1e-14) && close(th[0], h[(0, 0)], 1e-13));
    }
}

#[test]
fn gradient_hessian_static_and_dynamic_agree() {
    // Σ_i a_i^2 b with 9 variables (dynamic) against the closed form.
    let names: Vec<String> = (0..9).map(|i| format!("a{i}")).collect();
    let e = Expr::add(names.iter().map(|n| Expr::powi(Expr::var(n), 3)).collect());
    let values = |n: &str| n[1..].parse::<f64>().ok().map(|i| 1.0 + i);
    let (v, g, h) = gradient_hessian(&e, &names, &values).unwrap();
    let (v3, g3, h3) = gradient_hessian(&e, &names[..3], &values).unwrap();
    assert_eq!(v, v3);
    for i in 0..9 {
        let a = 1.0 + i as f64;
        assert_eq!(g[i], 3.0 * a * a);
        assert_eq!(h[(i, i)], 6.0 * a);
        if i < 3 {
            assert_eq!((g3[i], h3[(i, i)]), (g[i], h[(i, i)]));
        }
    }
}

/// Compiled tape == tree evaluation (value, gradient, Hessian) on every
/// example model at random points.
#[test]
fn tape_matches_tree_on_example_models() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (name, m) in example_models() {
        let logp = m.logp_numeric();
        let params: Vec<String> = m.param_names().iter().map(|p| p.to_string()).collect();
        let (_, data0) = random_point(&m, &mut rng);
        let data_names: Vec<String> = data0.iter().map(|(n, _)| n.clone()).collect();
        let tape = Tape::compile(std::slice::from_ref(&logp), &params, &data_names).unwrap();
        let mut ws = tape.workspace::<H>();
        for _ in 0..20 {
            let (at, data) = random_point(&m, &mut rng);
            let s = seeds(&at);
            let env = |v: &str| {
                params
                    .iter()
                    .position(|p| p == v)
                    .map(|i| s[i].clone())
                    .or_else(|| data.iter().find(|(n, _)| n == v).map(|(_, x)| H::from(*x)))
            };
            let tree = eval(&logp, &env).unwrap_or_else(|e| panic!("{name}: {e}"));
            let row: Vec<f64> = data.iter().map(|(_, x)| *x).collect();
            tape.eval(&s, &row, &mut ws).unwrap();
            let comp = tape.output(&ws, 0);
            let n = params.len();
            let (tv, tg, th) = parts(&tree, n);
            let (cv, cg, ch) = parts(&comp, n);
            assert!(close(tv, cv, 1e-13), "{name}: value {tv} vs {cv}");
            for (a, b) in tg.iter().zip(&cg).chain(th.iter().zip(&ch)) {
                assert!(close(*a, *b, 1e-13), "{name}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn tape_shares_subexpressions_and_hoists_parameter_work() {
    let m = fimkit::load(include_str!("../examples/gamma.fim"), "gamma").unwrap();
    let tape = Tape::compile(&[m.logp_numeric()], &["alpha", "beta"], &["x"]).unwrap();
    let (plain, param_only, per_row) = tape.instruction_counts();
    // log(x) in f64; lgamma(alpha), log(beta), alpha*log(beta) once per point.
    assert!(plain >= 1, "{plain}");
    assert!(param_only >= 3, "{param_only}");
    assert!(per_row <= 5, "{per_row}");
    // The logistic linear predictor appears twice in logp but is computed once.
    let m = fimkit::load(include_str!("../examples/logistic_regression.fim"), "lr").unwrap();
    let p = ["b0", "b1", "b2"];
    let t1 = Tape::compile(&[m.logp_numeric()], &p, &["y", "z1", "z2"]).unwrap();
    let t2 = Tape::compile(
        &[m.logp_numeric(), m.logp_numeric()],
        &p,
        &["y", "z1", "z2"],
    )
    .unwrap();
    assert_eq!(t1.instruction_counts(), t2.instruction_counts());
}

#[test]
fn par_map_rows_matches_sequential() {
    let m = fimkit::load(include_str!("../examples/gamma.fim"), "gamma").unwrap();
    let tape = Tape::compile(&[m.logp_numeric()], &["alpha", "beta"], &["x"]).unwrap();
    let rows: Vec<f64> = (0..1000).map(|i| 0.1 + i as f64 * 0.01).collect();
    let at = [Dual64::from_re(2.0).derivative(), Dual64::from_re(1.5)];
    let par = tape
        .par_map_rows(&at, &rows, |t, ws| t.output(ws, 0).eps)
        .unwrap();
    let mut ws = tape.workspace::<Dual64>();
    tape.set_params(&at, &mut ws).unwrap();
    for (i, x) in rows.iter().enumerate() {
        tape.eval_row(&[*x], &mut ws).unwrap();
        assert_eq!(tape.output(&ws, 0).eps, par[i]);
    }
}

mod random_exprs {
    use super::*;
    use numeric_common::random_expr;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("FIMKIT_LONG").map_or(64, |_| 2000)))]

        /// The tape agrees with the tree on random expressions.
        #[test]
        fn tape_matches_tree(e in random_expr(), a in -1.5f64..1.5, b in 0.2f64..2.0, x in -1.0f64..1.0) {
            let at = [a, b];
            let s = seeds(&at);
            let env = |v: &str| match v {
                "a" => Some(s[0].clone()),
                "b" => Some(s[1].clone()),
                "x" => Some(H::from(x)),
                "k" => Some(H::from(1.0)),
                _ => None,
            };
            let tree = eval(&e, &env);
            prop_assume!(tree.is_ok());
            let tree = tree.unwrap();
            let tape = Tape::compile(std::slice::from_ref(&e), &["a", "b"], &["x", "k"]).unwrap();
            let mut ws = tape.workspace::<H>();
            tape.eval(&s, &[x, 1.0], &mut ws).unwrap();
            let comp = tape.output(&ws, 0);
            let (tv, tg, th) = parts(&tree, 2);
            let (cv, cg, ch) = parts(&comp, 2);
            // Two correct evaluations in a different order may differ by the
            // rounding error of the (possibly ill-conditioned) expression.
            let f64_at = |v: &str| match v { "a" => Some(a), "b" => Some(b), "x" => Some(x), "k" => Some(1.0), _ => None };
            let vars = ["a", "b"];
            let (grad, hess) = (fimkit::symbolic::gradient(&e, &vars), fimkit::symbolic::hessian(&e, &vars));
            let bounds: Option<Vec<f64>> = std::iter::once(&e)
                .chain(&grad)
                .chain(hess.iter().flatten())
                .map(|f| rounding_bound(f, &f64_at))
                .collect();
            prop_assume!(bounds.is_some());
            let bounds = bounds.unwrap();
            prop_assert!(agree(tv, cv, 1e-12, bounds[0]), "{e}: {tv} vs {cv}");
            for (k, (p, q)) in tg.iter().zip(&cg).chain(th.iter().zip(&ch)).enumerate() {
                prop_assert!(agree(*p, *q, 1e-11, bounds[k + 1]), "{e}: {p} vs {q}");
            }
        }
    }
}

/// The linear-structure Hessian equals the direct dual Hessian for a
/// logistic regression with 6 coefficients (one linear form: η; −η in
/// log(1 − σ(η)) is σ's argument −η, computed from η with dual arithmetic).
#[test]
fn linear_hessian_matches_direct() {
    let d = 6;
    let names: Vec<String> = (0..d).map(|i| format!("b{i}")).collect();
    let covs: Vec<String> = (0..d).map(|i| format!("z{i}")).collect();
    let eta = Expr::add(
        names
            .iter()
            .zip(&covs)
            .map(|(b, z)| Expr::mul2(Expr::var(b), Expr::var(z)))
            .collect(),
    );
    let y = Expr::var("y");
    let s = Expr::call(fimkit::ir::Func::Sigmoid, vec![eta]);
    let logp = Expr::add2(
        Expr::mul2(y.clone(), Expr::log(s.clone())),
        Expr::mul2(
            Expr::sub(Expr::one(), y),
            Expr::log(Expr::sub(Expr::one(), s)),
        ),
    );
    let mut data_names = vec!["y".to_string()];
    data_names.extend(covs.iter().cloned());
    let tape = Tape::compile(std::slice::from_ref(&logp), &names, &data_names).unwrap();
    let (params, inputs) = (names_of(&names), names_of(&data_names));
    let lin = LinearHessian::new(&logp, &params, &inputs)
        .unwrap()
        .expect("logistic regression is linear in beta");
    assert_eq!(lin.forms(), 1);
    let mut lws = lin.workspace();
    let mut ws = tape.workspace::<H>();
    let mut rng = Rng(42);
    for _ in 0..50 {
        let at: Vec<f64> = (0..d).map(|_| rng.uniform(-1.0, 1.0)).collect();
        let mut row = vec![f64::from(u8::from(rng.next_f64() < 0.5))];
        row.extend((0..d).map(|_| rng.uniform(-2.0, 2.0)));
        let (mut g, mut h) = (vec![0.0; d], vec![0.0; d * d]);
        let v = lin
            .eval_row(&tape, &at, &row, &mut lws, &mut g, &mut h)
            .unwrap();
        tape.eval(&seeds(&at), &row, &mut ws).unwrap();
        let (dv, dg, dh) = parts(&tape.output(&ws, 0), d);
        assert!(close(v, dv, 1e-14));
        for k in 0..d {
            assert!(close(g[k], dg[k], 1e-13), "g[{k}] {} vs {}", g[k], dg[k]);
            for l in 0..d {
                // nalgebra is column-major; the Hessian is symmetric anyway.
                assert!(close(h[k * d + l], dh[l * d + k], 1e-13));
            }
        }
    }
    // Gamma: θ enters through 4 forms with d = 2, so no reduction.
    let m = fimkit::load(include_str!("../examples/gamma.fim"), "gamma").unwrap();
    let params = names_of(&["alpha", "beta"]);
    assert!(
        LinearHessian::new(&m.logp_numeric(), &params, &names_of(&["x"]))
            .unwrap()
            .is_none()
    );
}

fn names_of<S: AsRef<str>>(names: &[S]) -> Vec<fimkit::ir::Name> {
    names.iter().map(|n| n.as_ref().into()).collect()
}
