//! `fimkit fit` against a real peer: statsmodels GLM on the same data
//! (tests/data/fit/, generated and fitted by scripts/fit/), coefficients and
//! both kinds of standard errors to 10⁻⁶ relative, through the library and
//! through the CLI's JSON.

use fimkit::fit::{FitConfig, InformationKind, Method, Objective, Problem, fit};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn peer() -> Value {
    let text = std::fs::read_to_string(root().join("tests/data/fit/statsmodels.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// (case, model file). `probit_extreme` is the probit data with one row
/// more, where eta = -26.5 at the MLE and `Phi(eta)^2` underflows (issue
/// 13: the fit failed with "`1/Phi(__eta1)^2` evaluates to inf").
const CASES: [(&str, &str); 4] = [
    ("logistic", "examples/logistic_regression.fim"),
    ("probit", "examples/probit_regression.fim"),
    ("probit_extreme", "examples/probit_regression.fim"),
    ("poisson", "examples/poisson_regression.fim"),
];

fn problem(case: &str, model_path: &str) -> Problem {
    let src = std::fs::read_to_string(root().join(model_path)).unwrap();
    let model = fimkit::load(&src, case).unwrap();
    let schema = fimkit::numeric::DataSchema::from_model(&model);
    let data = schema
        .read_csv_path(&root().join(format!("tests/data/fit/{case}.csv")))
        .unwrap();
    Problem::new(&model, data).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn library_matches_statsmodels_for_every_method() {
    let peer = peer();
    for (case, path) in CASES {
        let p = problem(case, path);
        assert_eq!(
            p.information_kind(),
            InformationKind::LinearForms { forms: 1 },
            "{case} takes the GLM path"
        );
        let want = &peer["cases"][case];
        for method in [Method::FisherScoring, Method::Natural, Method::Newton] {
            let config = FitConfig {
                method,
                max_iter: 500,
                ..FitConfig::default()
            };
            let r = fit(&p, &config).unwrap();
            assert!(r.converged(), "{case} {method:?}");
            let checks = [
                ("params", r.estimates.iter().copied().collect::<Vec<_>>()),
                (
                    "std_errors",
                    r.std_errors.iter().map(|s| s.unwrap()).collect(),
                ),
                (
                    "std_errors_observed",
                    r.std_errors_observed.iter().map(|s| s.unwrap()).collect(),
                ),
            ];
            for (key, got) in checks {
                for (g, w) in got.iter().zip(numbers(&want[key])) {
                    assert!(
                        rel(*g, w) < 1e-6,
                        "{case} {method:?} {key}: {g} vs statsmodels {w}"
                    );
                }
            }
            assert!(rel(r.loglik, want["loglik"].as_f64().unwrap()) < 1e-10);
        }
    }
}

#[test]
fn probit_expected_and_observed_errors_differ_as_the_peer_says() {
    // A non-canonical link: the two kinds of standard errors are not equal,
    // and each matches its own statsmodels counterpart (checked above).
    let peer = peer();
    let want = &peer["cases"]["probit"];
    let e = numbers(&want["std_errors"]);
    let o = numbers(&want["std_errors_observed"]);
    assert!(e.iter().zip(&o).all(|(a, b)| rel(*a, *b) > 1e-4));
    let r = fit(
        &problem("probit", "examples/probit_regression.fim"),
        &FitConfig::default(),
    )
    .unwrap();
    for i in 0..3 {
        assert!(rel(r.std_errors[i].unwrap(), r.std_errors_observed[i].unwrap()) > 1e-4);
    }
}

fn fimkit() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fimkit"));
    c.current_dir(root());
    c
}

#[test]
fn cli_json_matches_statsmodels() {
    let peer = peer();
    for (case, path) in CASES {
        let out = fimkit()
            .args([
                "fit",
                path,
                "--data",
                &format!("tests/data/fit/{case}.csv"),
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let want = &peer["cases"][case];
        for (key, peer_key) in [
            ("estimates", "params"),
            ("std_errors", "std_errors"),
            ("std_errors_observed", "std_errors_observed"),
        ] {
            for (i, name) in ["b0", "b1", "b2"].iter().enumerate() {
                let g = v[key][name].as_f64().unwrap();
                let w = numbers(&want[peer_key])[i];
                assert!(rel(g, w) < 1e-6, "{case} {key} {name}: {g} vs {w}");
            }
        }
        assert_eq!(v["converged"], Value::Bool(true));
        assert!(v["iterations"].as_u64().unwrap() <= 10);
        assert!(
            rel(
                v["loglik"].as_f64().unwrap(),
                want["loglik"].as_f64().unwrap()
            ) < 1e-10
        );
    }
}
