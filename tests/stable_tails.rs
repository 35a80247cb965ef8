//! The stable-form pass (`symbolic::stable`) in fimkit's own evaluators,
//! against mpmath: one Bernoulli row with a probit or logit link, in its
//! linear predictor eta, at eta = ±10, ±20, ±40, ±1e3 and y = 0, 1. The
//! log-density, score, Hessian and Fisher information to 1e-13 relative
//! (a reference below the smallest normal f64 asks for |v| < 1e-300), from
//! the tree walk and from the compiled tape, each on the log-density with
//! exact dual-number derivatives and on the derived formulas.
//!
//! References: tests/data/tails/bernoulli_links.csv, written by
//! scripts/tail_reference.py (mpmath at 80 digits). The generated Rust, C,
//! Python and JAX are checked on the same table in tests/codegen.rs
//! (`every_language_matches_mpmath_in_the_tails`).

use fimkit::fisher::derive;
use fimkit::ir::{Expr, Model};
use fimkit::numeric::compiled::Tape;
use fimkit::numeric::eval::{eval_f64, gradient_hessian};
use num_dual::Dual2_64;

/// One reference row: link, eta, y and (logp, score, hessian, fim), `None`
/// where the value underflows f64.
struct Row {
    link: String,
    eta: f64,
    y: f64,
    want: [Option<f64>; 4],
}

fn rows() -> Vec<Row> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/tails/bernoulli_links.csv"
    );
    let text = std::fs::read_to_string(path).expect("the mpmath table");
    text.lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split(',').collect();
            assert_eq!(c.len(), 7, "{line}");
            let v = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().expect("a number"));
            Row {
                link: c[0].to_string(),
                eta: c[1].parse().expect("eta"),
                y: c[2].parse().expect("y"),
                want: [v(c[3]), v(c[4]), v(c[5]), v(c[6])],
            }
        })
        .collect()
}

fn model(link: &str) -> Model {
    let f = if link == "probit" { "Phi" } else { "sigmoid" };
    let src = format!("param eta : real\ndata y : {{0, 1}}\ny ~ bernoulli({f}(eta))\n");
    fimkit::load(&src, link).expect("the model loads")
}

/// 1e-13 relative, or below 1e-300 where the reference underflows.
fn agrees(got: f64, want: Option<f64>) -> bool {
    match want {
        Some(w) => (got - w).abs() <= 1e-13 * w.abs() + 1e-300,
        None => got.abs() < 1e-300,
    }
}

const WHAT: [&str; 4] = ["logp", "score", "hessian", "fim"];

/// Check the four numbers of every row; `f` gives them for (model, formulas, row).
fn check(evaluator: &str, f: impl Fn(&Model, &[Expr; 4], &Row) -> [f64; 4]) {
    let mut failures = Vec::new();
    let mut compared = 0;
    for link in ["probit", "logit"] {
        let m = model(link);
        let d = derive(&m, &Default::default());
        let fim = d.fisher.as_ref().expect("a closed form").fim[0][0].clone();
        let formulas = [
            m.logp.clone(),
            d.score[0].clone(),
            d.hessian[0][0].clone(),
            fim,
        ];
        for row in rows().iter().filter(|r| r.link == link) {
            let got = f(&m, &formulas, row);
            for k in 0..4 {
                compared += 1;
                if !agrees(got[k], row.want[k]) {
                    failures.push(format!(
                        "{link} eta = {} y = {} {}: {evaluator} {:e}, mpmath {:?}",
                        row.eta, row.y, WHAT[k], got[k], row.want[k]
                    ));
                }
            }
        }
    }
    assert_eq!(compared, 2 * 16 * 4);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn at(row: &Row) -> impl Fn(&str) -> Option<f64> + '_ {
    move |name: &str| match name {
        "eta" => Some(row.eta),
        "y" => Some(row.y),
        _ => None,
    }
}

#[test]
fn tree_walk_dual_numbers_match_mpmath() {
    check("tree walk (duals)", |_, f, row| {
        let (v, g, h) = gradient_hessian(&f[0], &["eta"], &at(row)).expect("finite");
        let fim = eval_f64(&f[3], &at(row)).expect("finite");
        [v, g[0], h[(0, 0)], fim]
    });
}

#[test]
fn tree_walk_formulas_match_mpmath() {
    check("tree walk (formulas)", |_, f, row| {
        let e = |k: usize| eval_f64(&f[k], &at(row)).expect("finite");
        [e(0), e(1), e(2), e(3)]
    });
}

#[test]
fn compiled_tape_dual_numbers_match_mpmath() {
    check("tape (duals)", |_, f, row| {
        let tape = Tape::compile(std::slice::from_ref(&f[0]), &["eta"], &["y"]).expect("compiles");
        let mut ws = tape.workspace::<Dual2_64>();
        let eta = Dual2_64::from_re(row.eta).derivative();
        tape.set_params(&[eta], &mut ws).expect("finite");
        tape.eval_row(&[row.y], &mut ws).expect("finite");
        let out = tape.output(&ws, 0);
        let fim = Tape::compile(std::slice::from_ref(&f[3]), &["eta"], &["y"]).expect("compiles");
        let mut wf = fim.workspace::<f64>();
        fim.set_params(&[row.eta], &mut wf).expect("finite");
        fim.eval_row(&[row.y], &mut wf).expect("finite");
        [out.re, out.v1, out.v2, fim.output(&wf, 0)]
    });
}

#[test]
fn compiled_tape_formulas_match_mpmath() {
    check("tape (formulas)", |_, f, row| {
        let tape = Tape::compile(f, &["eta"], &["y"]).expect("compiles");
        let mut ws = tape.workspace::<f64>();
        tape.set_params(&[row.eta], &mut ws).expect("finite");
        tape.eval_row(&[row.y], &mut ws).expect("finite");
        [0, 1, 2, 3].map(|k| tape.output(&ws, k))
    });
}

/// The numeric linear engine on a regression whose linear predictor is
/// the reference's eta (`b0 + b1·z` at `b1 = 0`, `z = 1`): its compiled
/// `g(η)`, `g′(η)` and `g″(η)` row by row (`derivatives`) and over a block
/// (`sum_rows` of one row) give the row's value, score and Hessian.
#[test]
fn the_linear_engine_matches_mpmath() {
    use fimkit::numeric::{Engine, ModelFunctions};
    use nalgebra::DVector;
    for path in ["row", "block"] {
        check(&format!("linear engine ({path})"), |m, f, row| {
            let link = if m.name == "probit" { "Phi" } else { "sigmoid" };
            let src = format!(
                "param b0 : real\nparam b1 : real\ncovariate z : real\ndata y : {{0, 1}}\n\
                 y ~ bernoulli({link}(b0 + b1*z))\n"
            );
            let reg = fimkit::load(&src, "regression").expect("the model loads");
            let funcs = ModelFunctions::new(&reg).expect("compiles");
            assert_eq!(funcs.engine(), Engine::Linear { forms: 1 });
            let theta = DVector::from_vec(vec![row.eta, 0.0]);
            let x: Vec<f64> = (funcs.input_names().iter())
                .map(|n| if &**n == "y" { row.y } else { 1.0 })
                .collect();
            let fim = eval_f64(&f[3], &at(row)).expect("finite");
            if path == "row" {
                let d = funcs
                    .derivatives(&theta, &DVector::from_vec(x))
                    .expect("finite");
                [d.log_density, d.score[0], d.hessian[(0, 0)], fim]
            } else {
                let data = funcs.schema().dataset_from_rows(x).expect("one row");
                let s = funcs.sum_rows(&theta, &data).expect("finite");
                [s.loglik, s.score[0], s.hessian[(0, 0)], fim]
            }
        });
    }
}

/// The formulas fimkit shows are untouched by the pass: the probit score
/// still reads with `Phi`, never with an internal function's name.
#[test]
fn shown_formulas_keep_the_language_functions() {
    let m = model("probit");
    let d = derive(&m, &Default::default());
    let stable = fimkit::symbolic::stable(&d.hessian[0][0]);
    assert_ne!(stable, d.hessian[0][0], "the pass rewrites the Hessian");
    let shown = fimkit::render::text::render(&stable, &fimkit::render::text::TextStyle::ascii());
    for internal in ["mills", "log_Phi", "log_sigmoid", "__"] {
        assert!(!shown.contains(internal), "{shown}");
    }
    assert!(shown.contains("Phi("), "{shown}");
}

/// The internal Mills functions' dual numbers (value, first and second
/// derivative), which the derived probit formulas use, against mpmath
/// (`mp.diff` of `npdf(u)/ncdf(u)` and `u + npdf(u)/ncdf(u)` at 60 digits).
#[test]
fn mills_ratio_and_its_shift_have_exact_derivatives() {
    use fimkit::numeric::SpecialFunctions;
    // mpmath's digits as printed (more than f64 holds).
    #[rustfmt::skip]
    #[expect(clippy::excessive_precision)]
    let table: [(f64, [f64; 6]); 6] = [
        (-40.0, [40.024968847207263723, -0.99937733162140861123, 0.000031017440396486248322, 0.024968847207263723245, 0.0006226683785913887735, 0.000031017440396486248322]),
        (-10.0, [10.098093233962511963, -0.99055462217434373884, 0.0017864003921165068922, 0.098093233962511962844, 0.0094453778256562611641, 0.0017864003921165068922]),
        (-2.5, [2.8227447976639072505, -0.91102619857888455719, 0.042878631037025509508, 0.32274479766390725047, 0.088973801421115442811, 0.042878631037025509508]),
        (-1.0, [1.5251352761609812091, -0.80090233442965120845, 0.11693119540604883154, 0.52513527616098120909, 0.19909766557034879155, 0.11693119540604883154]),
        (0.5, [0.50916043383703348583, -0.51382456430363289677, 0.27099012446870783327, 1.0091604338370334858, 0.48617543569636710323, 0.27099012446870783327]),
        (10.0, [7.6945986267064193463e-23, -7.6945986267064193463e-22, 7.6176526404393551529e-21, 10.0, 1.0, 7.6176526404393551529e-21]),
    ];
    for (x, want) in table {
        let d = Dual2_64::from_re(x).derivative();
        let (r, q) = (d.mills(), d.mills_shift());
        let got = [r.re, r.v1, r.v2, q.re, q.v1, q.v2];
        for k in 0..6 {
            assert!(
                (got[k] - want[k]).abs() <= 1e-13 * want[k].abs(),
                "x = {x}, entry {k}: {:e} vs mpmath {:e}",
                got[k],
                want[k]
            );
        }
    }
}

/// Far in the upper tail r = φ/Φ underflows to 0 and q = x + r is x: no
/// 0/0 (the old `normal_hazard_parts` divided by r there).
#[test]
fn mills_in_the_upper_tail_is_finite() {
    use fimkit::numeric::special::{mills, normal_hazard_parts};
    for x in [38.5, 40.0, 1e3, 1e300] {
        for (r, q) in [mills(x), normal_hazard_parts(x)] {
            assert!((0.0..1e-300).contains(&r), "{x}: r = {r:e}");
            assert_eq!(q, x, "{x}");
        }
    }
}

/// Far beyond the table (eta = ±1e200, where eta² overflows) the probit
/// row's formulas are still finite in the tree walk and the tape: the
/// Hessian is -r q = -1 on the wrong side, 0 on the right side.
#[test]
fn probit_formulas_are_finite_where_eta_squared_overflows() {
    let m = model("probit");
    let d = derive(&m, &Default::default());
    let fim = d.fisher.as_ref().expect("a closed form").fim[0][0].clone();
    let formulas = [d.score[0].clone(), d.hessian[0][0].clone(), fim];
    let tape = Tape::compile(&formulas, &["eta"], &["y"]).expect("compiles");
    for (eta, y, hessian) in [
        (-1e200, 1.0, -1.0),
        (-1e200, 0.0, 0.0),
        (1e200, 0.0, -1.0),
        (1e200, 1.0, 0.0),
    ] {
        let row = Row {
            link: "probit".into(),
            eta,
            y,
            want: [None; 4],
        };
        let tree: Vec<f64> = formulas
            .iter()
            .map(|f| eval_f64(f, &at(&row)).expect("finite"))
            .collect();
        let mut ws = tape.workspace::<f64>();
        tape.set_params(&[eta], &mut ws).expect("finite");
        tape.eval_row(&[y], &mut ws).expect("finite");
        for (k, t) in tree.iter().enumerate() {
            assert_eq!(*t, tape.output(&ws, k), "eta = {eta}, y = {y}, formula {k}");
        }
        assert!(
            (tree[1] - hessian).abs() < 1e-13,
            "eta = {eta}, y = {y}: {tree:?}"
        );
        assert_eq!(tree[2], 0.0, "eta = {eta}: the information underflows");
    }
}
