//! Fits never report a false optimum (issue #13, item 4) and a fit that
//! did not converge says so (issue #17, item 6). Every case of the issue
//! is here, for every method: separated logistic and probit data,
//! suprema on the boundary of the parameter domain (Bernoulli all ones,
//! Poisson all zeros, identical normal rows), a Gamma sample on a scale
//! of 10⁹ and with one 10¹⁰⁰ outlier, and the after-the-fact gradient
//! test. The data are tests/data/fit/*.csv (scripts/fit/gen_data.py).

use fimkit::fit::{FitConfig, FitError, Method, Objective, Problem, fit};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fimkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const METHODS: [&str; 4] = ["fisher-scoring", "natural", "newton", "gd"];

/// Exit 1 for every method, the `needles` in the message, nothing on
/// stdout that looks like a result (no estimate table, no stars), no
/// internal names, no NaN, no panic.
fn refused_by_every_method(model: &str, data: &str, needles: &[&str]) {
    for method in METHODS {
        let o = fimkit(&["fit", model, "--data", data, "--method", method]);
        let err = text(&o.stderr);
        let out = text(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{model} {data} {method}: {err}{out}"
        );
        assert!(out.is_empty(), "{method}: printed a result: {out}");
        for n in needles {
            assert!(err.contains(n), "{method}: missing `{n}` in: {err}");
        }
        for bad in ["panicked", "NaN", "__", "Phi(", "evaluates to"] {
            assert!(!err.contains(bad), "{method}: `{bad}` in: {err}");
        }
        // JSON: an error document, no estimates.
        let o = fimkit(&[
            "fit", model, "--data", data, "--method", method, "--format", "json",
        ]);
        assert_eq!(o.status.code(), Some(1));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["ok"], Value::Bool(false), "{method}");
        assert!(v.get("estimates").is_none(), "{method}: {v}");
    }
}

#[test]
fn separated_logistic_data_has_no_mle_for_any_method() {
    refused_by_every_method(
        "examples/logistic_regression.fim",
        "tests/data/fit/separated.csv",
        &[
            "maximum likelihood estimate does not exist",
            "completely separated",
        ],
    );
}

#[test]
fn separated_probit_data_has_no_mle_for_any_method() {
    // Diagnosed from the design and the response, not by evaluating the
    // probit's tails (which overflowed in 1/Phi before).
    refused_by_every_method(
        "examples/probit_regression.fim",
        "tests/data/fit/separated.csv",
        &[
            "maximum likelihood estimate does not exist",
            "completely separated",
        ],
    );
}

#[test]
fn quasi_separated_data_has_no_mle_for_any_method() {
    // Fisher scoring used to report "converged" here with b1 = 2137 and a
    // standard error of 6e9: under quasi-separation the score and the
    // information vanish together along the separating direction.
    for model in [
        "examples/logistic_regression.fim",
        "examples/probit_regression.fim",
    ] {
        refused_by_every_method(
            model,
            "tests/data/fit/quasi_separated.csv",
            &[
                "maximum likelihood estimate does not exist",
                "quasi-completely separated",
                "(b0, b1, b2) ∝ (0, 1, 0)",
            ],
        );
    }
}

#[test]
fn bernoulli_all_ones_is_a_boundary_mle() {
    refused_by_every_method(
        "examples/bernoulli.fim",
        "tests/data/fit/bernoulli_ones.csv",
        &[
            "does not exist in the open parameter domain",
            "p → 1",
            "boundary",
        ],
    );
}

#[test]
fn poisson_all_zeros_is_a_boundary_mle() {
    refused_by_every_method(
        "examples/poisson.fim",
        "tests/data/fit/poisson_zeros.csv",
        &[
            "does not exist in the open parameter domain",
            "lambda → 0",
            "boundary",
        ],
    );
}

#[test]
fn identical_normal_rows_are_a_boundary_mle() {
    refused_by_every_method(
        "examples/normal.fim",
        "tests/data/fit/normal_identical.csv",
        &[
            "does not exist in the open parameter domain",
            "sigma → 0",
            "boundary",
        ],
    );
}

fn problem(model: &str, data: &str) -> Problem {
    let src = std::fs::read_to_string(root().join(model)).unwrap();
    let model = fimkit::load(&src, model).unwrap();
    let schema = fimkit::numeric::DataSchema::from_model(&model);
    let data = schema.read_csv_path(&root().join(data)).unwrap();
    Problem::new(&model, data).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// The Gamma MLE's two equations at `(alpha, beta)`: `β = α/mean(x)` and
/// `log α − ψ(α) = log mean(x) − mean(log x)`, as relative residuals.
fn gamma_equations(csv: &str, alpha: f64, beta: f64) -> (f64, f64) {
    let x: Vec<f64> = std::fs::read_to_string(root().join(csv))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.parse().unwrap())
        .collect();
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let mean_log = x.iter().map(|v| v.ln()).sum::<f64>() / n;
    let lhs = alpha.ln() - fimkit::numeric::special::digamma(alpha);
    (rel(beta, alpha / mean), rel(lhs, mean.ln() - mean_log))
}

#[test]
fn gamma_data_times_1e9_fits_like_the_original() {
    let base = fit(
        &problem("examples/gamma.fim", "tests/data/fit/gamma.csv"),
        &FitConfig::default(),
    )
    .unwrap();
    assert!((base.estimates[0] - 2.87022).abs() < 5e-6);
    for method in [Method::FisherScoring, Method::Natural, Method::Newton] {
        let config = FitConfig {
            method,
            max_iter: 1000,
            ..FitConfig::default()
        };
        let r = fit(
            &problem("examples/gamma.fim", "tests/data/fit/gamma_1e9.csv"),
            &config,
        )
        .unwrap_or_else(|e| panic!("{method:?}: {e}"));
        assert!(r.converged(), "{method:?}: {:?}", r.stop);
        assert!(rel(r.estimates[0], base.estimates[0]) < 1e-8, "{method:?}");
        assert!(
            rel(r.estimates[1] * 1e9, base.estimates[1]) < 1e-8,
            "{method:?}"
        );
        // Standard errors scale with the parameters.
        let se = |r: &fimkit::fit::FitResult, i: usize| r.std_errors[i].unwrap();
        assert!(rel(se(&r, 0), se(&base, 0)) < 1e-6);
        assert!(rel(se(&r, 1) * 1e9, se(&base, 1)) < 1e-6);
    }
    // The CLI prints the same shape.
    let o = fimkit(&[
        "fit",
        "examples/gamma.fim",
        "--data",
        "tests/data/fit/gamma_1e9.csv",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let alpha = out.lines().find(|l| l.starts_with("alpha")).unwrap();
    assert_eq!(alpha.split_whitespace().nth(1), Some("2.87022"), "{out}");
    assert!(out.contains("1.72739e-9"), "{out}");
}

/// scipy's MLE of the Gamma with the 10¹⁰⁰ outlier (profile likelihood in
/// α, `scipy.optimize.minimize_scalar` on log α, bounded, xatol 1e-12).
const OUTLIER_ALPHA: f64 = 0.004379728487271649;
const OUTLIER_BETA: f64 = 1.318298274668766e-100;

#[test]
fn one_1e100_outlier_from_the_default_start() {
    let o = fimkit(&[
        "fit",
        "examples/gamma.fim",
        "--data",
        "tests/data/fit/gamma_outlier.csv",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["converged"], Value::Bool(true));
    let a = v["estimates"]["alpha"].as_f64().unwrap();
    let b = v["estimates"]["beta"].as_f64().unwrap();
    assert!(rel(a, OUTLIER_ALPHA) < 1e-8, "{a}");
    assert!(rel(b, OUTLIER_BETA) < 1e-8, "{b}");
    let (e1, e2) = gamma_equations("tests/data/fit/gamma_outlier.csv", a, b);
    // Fisher scoring stops within 1e-8 standard errors of the maximum,
    // and beta's standard error is 87% of beta.
    assert!(e1 < 1e-7 && e2 < 1e-7, "{e1} {e2}");
    // The default start (1, 1) failed; the report says where it started.
    assert!(
        v["restart"]["start"]["beta"].as_f64().unwrap() < 1e-90,
        "{v}"
    );
    let t = fimkit(&[
        "fit",
        "examples/gamma.fim",
        "--data",
        "tests/data/fit/gamma_outlier.csv",
    ]);
    assert!(
        text(&t.stdout).contains("start: alpha = "),
        "{}",
        text(&t.stdout)
    );
}

#[test]
fn one_1e100_outlier_from_init_never_claims_a_false_convergence() {
    // These starts used to stop at once with "converged" (alpha unmoved,
    // its gradient in the thousands): now each either reaches the MLE, or
    // exits 1 saying it did not converge.
    for init in [
        "alpha=0.01,beta=1e-99",
        "alpha=1,beta=1e-100",
        "alpha=2,beta=1e-50",
        "alpha=0.5,beta=1e-3",
    ] {
        let o = fimkit(&[
            "fit",
            "examples/gamma.fim",
            "--data",
            "tests/data/fit/gamma_outlier.csv",
            "--init",
            init,
            "--format",
            "json",
        ]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        if v["converged"] == Value::Bool(true) {
            assert!(o.status.success());
            let a = v["estimates"]["alpha"].as_f64().unwrap();
            let b = v["estimates"]["beta"].as_f64().unwrap();
            assert!(rel(a, OUTLIER_ALPHA) < 1e-8, "{init}: {a}");
            assert!(rel(b, OUTLIER_BETA) < 1e-8, "{init}: {b}");
        } else {
            assert_eq!(o.status.code(), Some(1), "{init}");
            assert_eq!(v["ok"], Value::Bool(false), "{init}");
            assert!(text(&o.stderr).contains("did not converge"), "{init}");
        }
    }
}

#[test]
fn converged_fits_pass_the_gradient_test_at_the_reported_point() {
    // Whatever the method and the data, `converged` means the undamped
    // Newton decrement at θ̂ is below the tolerance.
    for (model, data) in [
        ("examples/gamma.fim", "tests/data/fit/gamma.csv"),
        ("examples/gamma.fim", "tests/data/fit/gamma_1e9.csv"),
        ("examples/gamma.fim", "tests/data/fit/gamma_outlier.csv"),
        (
            "examples/logistic_regression.fim",
            "tests/data/fit/logistic.csv",
        ),
        (
            "examples/probit_regression.fim",
            "tests/data/fit/probit.csv",
        ),
        ("examples/normal.fim", "tests/data/fit/normal.csv"),
    ] {
        let p = problem(model, data);
        for method in Method::ALL {
            let config = FitConfig {
                method,
                max_iter: 300,
                ..FitConfig::default()
            };
            let Ok(r) = fit(&p, &config) else { continue };
            if !r.converged() {
                continue;
            }
            let (_, g) = p.loglik_gradient(&r.estimates).unwrap();
            let info = match method {
                Method::Newton => p.observed_information(&r.estimates).unwrap(),
                _ => p.expected_information(&r.estimates).unwrap(),
            };
            let nu = fimkit::fit::step::newton_decrement(&info, &g).unwrap();
            let limit = if r.stop == fimkit::fit::StopReason::RoundingLimit {
                1e-4
            } else {
                config.tol
            };
            assert!(nu < limit, "{model} {data} {method:?}: decrement {nu}");
        }
    }
}

#[test]
fn library_errors_name_the_boundary() {
    let p = problem("examples/poisson.fim", "tests/data/fit/poisson_zeros.csv");
    match fit(&p, &FitConfig::default()) {
        Err(FitError::Boundary { params, .. }) => {
            assert_eq!(params.len(), 1);
            assert_eq!(&*params[0].0, "lambda");
            assert_eq!(params[0].1, 0.0);
        }
        other => panic!("{other:?}"),
    }
}

// Issue #17, item 6: non-convergence is visible.

fn unconverged(extra: &[&str]) -> Output {
    let mut args = vec![
        "fit",
        "examples/logistic_regression.fim",
        "--data",
        "tests/data/fit/logistic.csv",
        "--method",
        "gd",
        "--max-iter",
        "5",
    ];
    args.extend_from_slice(extra);
    fimkit(&args)
}

#[test]
fn an_unconverged_fit_warns_exits_1_and_shows_no_tests() {
    let o = unconverged(&[]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("warning: the fit did not converge (reached the iteration limit)"),
        "{err}"
    );
    assert!(err.contains("--show-unconverged-tests"), "{err}");
    let out = text(&o.stdout);
    let mut lines = out.lines();
    lines.next();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("NOT CONVERGED: reached the iteration limit after 5 iterations"),
        "{out}"
    );
    assert!(!out.contains('*'), "{out}");
    assert!(!out.contains("e-"), "no p-values: {out}");
    let row = out.lines().find(|l| l.starts_with("b1 z1")).unwrap();
    assert!(row.ends_with("—         —       —       —"), "{row}");
}

#[test]
fn an_unconverged_fit_in_json() {
    let o = unconverged(&["--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["converged"], Value::Bool(false));
    assert_eq!(v["ok"], Value::Bool(false));
    assert!(v["error"].as_str().unwrap().contains("did not converge"));
    for key in ["z_values", "p_values", "conf_int_95"] {
        assert!(
            v[key].as_object().unwrap().values().all(Value::is_null),
            "{key}: {v}"
        );
    }
    assert!(v["estimates"]["b1"].is_f64());
    assert!(v["std_errors"]["b1"].is_f64());
}

#[test]
fn show_unconverged_tests_shows_them() {
    let o = unconverged(&["--show-unconverged-tests"]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(out.starts_with("LogisticRegression") && out.contains("NOT CONVERGED"));
    assert!(out.contains("***"), "{out}");
    let o = unconverged(&["--show-unconverged-tests", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["p_values"]["b1"].as_f64().unwrap() < 1e-10);
    assert!(v["conf_int_95"]["b1"].is_array());
}

#[test]
fn a_converged_fit_is_unchanged_by_the_flag() {
    let args = [
        "fit",
        "examples/logistic_regression.fim",
        "--data",
        "tests/data/fit/logistic.csv",
    ];
    let plain = fimkit(&args);
    let mut with = args.to_vec();
    with.push("--show-unconverged-tests");
    let flagged = fimkit(&with);
    assert!(plain.status.success() && flagged.status.success());
    assert_eq!(plain.stdout, flagged.stdout);
    assert!(plain.stderr.is_empty());
}

/// The GLM path evaluates its log-likelihood a block of rows at a time: a
/// row it cannot compute, deep in the data (row 300 of 1000, in the third
/// block), is still the row the error names, and at a point where every
/// row is finite the sum is the numeric library's to rounding.
#[test]
fn the_glm_path_names_the_failing_row_of_a_block() {
    use fimkit::numeric::{DataSchema, ModelFunctions};
    use nalgebra::DVector;
    let src = "param b0 : real\nparam b1 : real\ncovariate z : real\ndata k : count\n\
               k ~ poisson(exp(b0 + b1*z))\n";
    let model = fimkit::load(src, "m").unwrap();
    let schema = DataSchema::from_model(&model);
    let mut csv = String::from("z,k\n");
    for i in 1..=1000 {
        let z = if i == 300 { 1000.0 } else { 0.001 * i as f64 };
        csv.push_str(&format!("{z},{}\n", i % 4));
    }
    let data = schema.read_csv(csv.as_bytes()).unwrap();
    let problem = Problem::new(&model, data.clone()).unwrap();
    assert!(format!("{:?}", problem.information_kind()).starts_with("LinearForms"));
    // At b1 = 1, row 300's exp(1000) overflows.
    let err = problem
        .loglik(&DVector::from_vec(vec![0.0, 1.0]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("row 300"), "{err}");
    let err = (problem.loglik_gradient(&DVector::from_vec(vec![0.0, 1.0])))
        .unwrap_err()
        .to_string();
    assert!(err.contains("row 300"), "{err}");
    // At b1 = 0.1 every row is finite.
    let theta = DVector::from_vec(vec![0.2, 0.1]);
    let (v, g) = problem.loglik_gradient(&theta).unwrap();
    let f = ModelFunctions::new(&model).unwrap();
    let s = f.sum_rows(&theta, &data).unwrap();
    assert!(
        (v - s.loglik).abs() <= 1e-12 * s.loglik.abs(),
        "{v} vs {}",
        s.loglik
    );
    for j in 0..2 {
        assert!((g[j] - s.score[j]).abs() <= 1e-10 * (1.0 + s.score[j].abs()));
    }
}
