//! `fimkit fit` from the command line: the summary table (snapshot), JSON
//! keys, the trajectory file, and bad situations that must end with a
//! message and exit code 1 or 2 — never a panic, never a NaN.

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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn snapshot(name: &str, text: &str) {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/fit");
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn logistic_summary_table() {
    let o = fimkit(&[
        "fit",
        "examples/logistic_regression.fim",
        "--data",
        "tests/data/fit/logistic.csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.contains("NaN"));
    snapshot("logistic_summary", &text);
}

#[test]
fn probit_summary_table_ascii() {
    let o = fimkit(&[
        "fit",
        "examples/probit_regression.fim",
        "--data",
        "tests/data/fit/probit.csv",
        "--ascii",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.is_ascii(), "{text}");
    snapshot("probit_summary_ascii", &text);
}

#[test]
fn json_has_the_documented_keys() {
    let o = fimkit(&[
        "fit",
        "examples/normal.fim",
        "--data",
        "tests/data/fit/normal.csv",
        "--format",
        "json",
        "--method",
        "natural",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "estimates",
        "std_errors",
        "std_errors_observed",
        "conf_int_95",
    ] {
        let m = v[key].as_object().unwrap_or_else(|| panic!("{key}"));
        assert_eq!(m.len(), 2, "{key}");
        assert!(m.contains_key("mu") && m.contains_key("sigma"), "{key}");
    }
    assert!(v["loglik"].is_f64());
    assert!(v["iterations"].is_u64());
    assert_eq!(v["converged"], Value::Bool(true));
    assert_eq!(v["method"], "natural");
    // N(μ, σ): the MLE of μ is the mean, its expected standard error σ̂/√n.
    let x: Vec<f64> = std::fs::read_to_string(root().join("tests/data/fit/normal.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.parse().unwrap())
        .collect();
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let mu = v["estimates"]["mu"].as_f64().unwrap();
    let se = v["std_errors"]["mu"].as_f64().unwrap();
    let se_sigma = v["std_errors"]["sigma"].as_f64().unwrap();
    assert!((mu - mean).abs() < 1e-9 * mean.abs());
    assert!((se - sd / n.sqrt()).abs() < 1e-8 * se);
    assert!((se_sigma - sd / (2.0 * n).sqrt()).abs() < 1e-8 * se_sigma);
}

#[test]
fn trace_file_records_theta_loss_and_kl() {
    let dir = std::env::temp_dir().join(format!("fimkit-fit-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace.csv");
    let o = fimkit(&[
        "fit",
        "examples/normal.fim",
        "--data",
        "tests/data/fit/normal.csv",
        "--method",
        "natural",
        "--max-kl",
        "0.05",
        "--trace",
        path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "iteration,mu,sigma,loss,kl,step,decrement,damping"
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| {
            l.split(',')
                .map(|c| c.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    assert!(rows.len() > 3);
    // The loss never increases; no step exceeds the trust region.
    for w in rows.windows(2) {
        assert!(w[1][3] <= w[0][3] + 1e-12, "{w:?}");
        assert!(w[1][4] <= 0.05 * (1.0 + 1e-9), "{w:?}");
    }
    // Far from the optimum the trust region is what limits the step.
    assert!((rows[1][4] - 0.05).abs() < 1e-9, "{:?}", rows[1]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A failing fit: exit code 1, a message on stderr containing `needles`,
/// nothing like a panic or a NaN.
fn fails_with(args: &[&str], needles: &[&str]) -> String {
    let o = fimkit(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked") && !err.contains("NaN"), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing `{n}` in: {err}");
    }
    err
}

#[test]
fn perfectly_separated_data_has_no_mle() {
    let err = fails_with(
        &[
            "fit",
            "examples/logistic_regression.fim",
            "--data",
            "tests/data/fit/separated.csv",
        ],
        &[
            "maximum likelihood estimate does not exist",
            "completely separated",
        ],
    );
    snapshot("separated_error", &err);
}

#[test]
fn collinear_covariates_are_named() {
    let err = fails_with(
        &[
            "fit",
            "examples/logistic_regression.fim",
            "--data",
            "tests/data/fit/collinear.csv",
        ],
        &["singular", "z1", "z2", "b1", "b2"],
    );
    snapshot("collinear_error", &err);
}

#[test]
fn data_outside_the_support_names_the_row() {
    fails_with(
        &[
            "fit",
            "examples/logistic_regression.fim",
            "--data",
            "tests/data/fit/bad_support.csv",
        ],
        &["row 3", "`y`", "{0, 1}"],
    );
}

#[test]
fn start_outside_the_domain() {
    fails_with(
        &[
            "fit",
            "examples/normal.fim",
            "--data",
            "tests/data/fit/normal.csv",
            "--init",
            "sigma=-1",
        ],
        &["starting point", "sigma", "positive"],
    );
}

#[test]
fn too_large_a_fixed_step_diverges() {
    fails_with(
        &[
            "fit",
            "examples/normal.fim",
            "--data",
            "tests/data/fit/normal.csv",
            "--method",
            "gd",
            "--lr",
            "50",
        ],
        &["diverged", "--lr"],
    );
}

#[test]
fn json_errors_are_json() {
    let o = fimkit(&[
        "fit",
        "examples/logistic_regression.fim",
        "--data",
        "tests/data/fit/collinear.csv",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], Value::Bool(false));
    assert!(v["error"].as_str().unwrap().contains("collinear"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["fit", "examples/normal.fim", "--data", "no/such/file.csv"],
        vec![
            "fit",
            "examples/normal.fim",
            "--data",
            "tests/data/fit/normal.csv",
            "--init",
            "nu=1",
        ],
        vec![
            "fit",
            "examples/normal.fim",
            "--data",
            "tests/data/fit/normal.csv",
            "--lr",
            "-1",
        ],
    ] {
        let o = fimkit(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    }
}
