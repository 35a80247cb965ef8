//! The expected Fisher information of a design when there is no closed
//! form (issue 13, item 2): Σ over the rows of the numeric per-row F,
//! from a file of covariates alone or with responses, checked against the
//! textbook formulas of tests/data/design/*.fim.

use fimkit::Model;
use nalgebra::DMatrix;
use std::process::Command;

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/design")
}

fn design_x() -> Vec<f64> {
    let text = std::fs::read_to_string(dir().join("design.csv")).expect("design.csv");
    text.lines()
        .skip(1)
        .map(|l| l.parse().expect("x"))
        .collect()
}

/// Σ over the design's rows of `per_row(x)`.
fn sum_rows(per_row: impl Fn(f64) -> DMatrix<f64>) -> DMatrix<f64> {
    design_x().into_iter().map(per_row).sum()
}

fn assert_close(got: &DMatrix<f64>, want: &DMatrix<f64>, tol: f64) {
    let scale = want.abs().max().max(1.0);
    let diff = (got - want).abs().max();
    assert!(diff <= tol * scale, "got {got}want {want}diff {diff:e}");
}

#[test]
fn weibull_aft_equals_the_textbook_sum() {
    let m = Model::from_file(dir().join("weibull_aft.fim")).expect("model");
    assert!(m.derive().fisher.is_err(), "no closed form expected");
    let design = m.read_design_csv(dir().join("design.csv")).expect("design");
    let (b0, b1, k) = (0.2, 0.5, 1.5);
    let f = m.fisher_information_over(&[b0, b1, k], &design).expect("F");
    assert_eq!(f.method.tier(), 3);
    assert_eq!(f.rows, Some((7, 5)));
    let want = sum_rows(|x| {
        let z = [1.0, x];
        let mut f = DMatrix::zeros(3, 3);
        for i in 0..2 {
            for j in 0..2 {
                f[(i, j)] = k * k * z[i] * z[j];
            }
            f[(i, 2)] = (EULER_GAMMA - 1.0) * z[i];
            f[(2, i)] = f[(i, 2)];
        }
        f[(2, 2)] = (std::f64::consts::PI.powi(2) / 6.0 + (1.0 - EULER_GAMMA).powi(2)) / (k * k);
        f
    });
    assert_close(&f.value, &want, 1e-9);
    assert!(f.error.max() < 1e-8, "{}", f.error);
}

#[test]
fn negative_binomial_regression_equals_the_textbook_sum() {
    let m = Model::from_file(dir().join("negbin_regression.fim")).expect("model");
    assert!(m.derive().fisher.is_err(), "no closed form expected");
    let design = m.read_design_csv(dir().join("design.csv")).expect("design");
    let (b0, b1, r) = (0.2, 0.5, 2.0);
    let f = m.fisher_information_over(&[b0, b1, r], &design).expect("F");
    // NB2: F_bb = Σ m r/(r + m) z zᵀ; b and r are orthogonal.
    let want = sum_rows(|x| {
        let mu = (b0 + b1 * x).exp();
        let w = mu * r / (r + mu);
        let z = [1.0, x];
        DMatrix::from_fn(
            3,
            3,
            |i, j| if i < 2 && j < 2 { w * z[i] * z[j] } else { 0.0 },
        )
    });
    let bb = f.value.view((0, 0), (2, 3)).into_owned();
    assert_close(&bb, &want.view((0, 0), (2, 3)).into_owned(), 1e-9);
    // F_rr per row, by direct summation of the score's square.
    let frr: f64 = design_x()
        .into_iter()
        .map(|x| {
            let mu = (b0 + b1 * x).exp();
            m.ir();
            let (mut sum, mut p) = (0.0, (r / (r + mu)).powf(r)); // P(y = 0)
            let mut digamma_diff = 0.0; // ψ(y + r) − ψ(r)
            for y in 0..2000 {
                let yf = y as f64;
                let s = digamma_diff + (r / (r + mu)).ln() + 1.0 - (r + yf) / (r + mu);
                sum += p * s * s;
                p *= (yf + r) / (yf + 1.0) * mu / (r + mu);
                digamma_diff += 1.0 / (yf + r);
            }
            sum
        })
        .sum();
    assert!(
        (f.value[(2, 2)] - frr).abs() < 1e-9 * frr,
        "{} vs {frr}",
        f.value[(2, 2)]
    );
}

#[test]
fn student_t_regression_equals_the_textbook_sum() {
    let m = Model::from_file(dir().join("student_t_regression.fim")).expect("model");
    let design = m.read_design_csv(dir().join("design.csv")).expect("design");
    let (nu, s) = (4.0, 1.5);
    let f = m
        .fisher_information_over(&[0.2, 0.5, s], &design)
        .expect("F");
    let want = sum_rows(|x| {
        let z = [1.0, x];
        let mut f = DMatrix::zeros(3, 3);
        for i in 0..2 {
            for j in 0..2 {
                f[(i, j)] = (nu + 1.0) / (nu + 3.0) * z[i] * z[j] / (s * s);
            }
        }
        f[(2, 2)] = 2.0 * nu / (nu + 3.0) / (s * s);
        f
    });
    assert_close(&f.value, &want, 1e-9);
}

#[test]
fn equal_rows_are_computed_once_and_counted() {
    let m = Model::from_file(dir().join("weibull_aft.fim")).expect("model");
    let one = m.design(&[("x", &[0.5])]).expect("one row");
    let many = m.design(&[("x", &[0.5; 50])]).expect("50 rows");
    let f1 = m
        .fisher_information_over(&[0.0, 1.0, 2.0], &one)
        .expect("F");
    let f50 = m
        .fisher_information_over(&[0.0, 1.0, 2.0], &many)
        .expect("F");
    assert_eq!(f50.rows, Some((50, 1)));
    assert_close(&f50.value, &(f1.value * 50.0), 1e-15);
}

fn fimkit(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run fimkit");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn derive_data_reads_a_design_of_covariates_alone() {
    // Without a closed form: the numeric sum; with a closed form: the
    // closed form summed. Responses in the file change nothing.
    let full = dir().join("design_with_responses.csv");
    let mut text = String::from("t,x\n");
    for (i, x) in design_x().iter().enumerate() {
        text.push_str(&format!("{},{x}\n", 1.0 + i as f64));
    }
    std::fs::write(&full, text).expect("write");
    let run = |file: &str| {
        fimkit(&[
            "derive",
            "tests/data/design/weibull_aft.fim",
            "--at",
            "b0=0.2,b1=0.5,k=1.5",
            "--data",
            file,
            "--format",
            "json",
        ])
    };
    let (ok, covariates_only, err) = run("tests/data/design/design.csv");
    assert!(ok, "{err}");
    let (ok, with_responses, err) = run(full.to_str().expect("path"));
    assert!(ok, "{err}");
    let a: serde_json::Value = serde_json::from_str(&covariates_only).expect("json");
    let b: serde_json::Value = serde_json::from_str(&with_responses).expect("json");
    assert_eq!(a["fim_value"], b["fim_value"]);
    assert_eq!(
        (a["rows"].as_u64(), a["distinct_rows"].as_u64()),
        (Some(7), Some(5))
    );
    assert_eq!(a["tier"], 3);
    assert!((a["fim_value"][0][0].as_f64().expect("F") - 7.0 * 2.25).abs() < 1e-9);

    let (ok, out, err) = fimkit(&[
        "derive",
        "examples/logistic_regression.fim",
        "--at",
        "b0=0,b1=1,b2=-1",
        "--data",
        "tests/data/design/logistic_design.csv",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("Fisher information of the 3 rows"), "{out}");

    // A covariate in --at with a design is a mistake that is named.
    let (ok, _, err) = fimkit(&[
        "derive",
        "tests/data/design/weibull_aft.fim",
        "--at",
        "b0=0.2,b1=0.5,k=1.5,x=1",
        "--data",
        "tests/data/design/design.csv",
    ]);
    assert!(!ok);
    assert!(err.contains("covariate"), "{err}");
}

#[test]
fn a_model_without_covariates_gives_n_times_f() {
    // Closed form (Gamma) and numeric (Cauchy, tier 2): the file's 300 rows
    // count, its values do not.
    for (model, at) in [
        ("examples/gamma.fim", "alpha=2,beta=1"),
        ("tests/fixtures/numeric/cauchy.fim", "mu=0,sigma=2"),
    ] {
        let args = |data: bool| {
            let mut a = vec!["derive", model, "--at", at, "--format", "json"];
            if data {
                a.extend(["--data", "tests/data/fit/gamma.csv"]);
            }
            a
        };
        let (ok, one, err) = fimkit(&args(false));
        assert!(ok, "{err}");
        let (ok, all, err) = fimkit(&args(true));
        assert!(ok, "{err}");
        let one: serde_json::Value = serde_json::from_str(&one).expect("json");
        let all: serde_json::Value = serde_json::from_str(&all).expect("json");
        assert_eq!(all["rows"], 300, "{model}");
        for i in 0..2 {
            let (a, b) = (
                one["fim_value"][i][i].as_f64().expect("F"),
                all["fim_value"][i][i].as_f64().expect("F"),
            );
            assert!((b - 300.0 * a).abs() < 1e-9 * b, "{model}: {b} vs 300·{a}");
        }
    }
}
