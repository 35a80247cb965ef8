//! `fimkit derive` from the command line: exit codes, the stable JSON keys
//! other programs read, and `--at` numbers.

use serde_json::Value;
use std::process::Command;

fn fimkit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run fimkit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8(out.stderr).expect("UTF-8"),
    )
}

#[test]
fn json_has_the_stable_keys() {
    let (code, out, _) = fimkit(&[
        "derive",
        "examples/normal.fim",
        "--format",
        "json",
        "--at",
        "mu=0,sigma=2",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["parameters"], serde_json::json!(["mu", "sigma"]));
    assert_eq!(v["score"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["hessian"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["fim"][1][1], "2/sigma^2");
    assert_eq!(v["closed_form"], true);
    assert!(v["method"].as_str().is_some_and(|m| m.contains("tier 1")));
    assert_eq!(v["fim_value"], serde_json::json!([[0.25, 0.0], [0.0, 0.5]]));
    assert_eq!(v["schema"], "fimkit-json 1");
}

#[test]
fn at_point_errors_are_model_errors() {
    let (code, _, err) = fimkit(&["derive", "examples/gamma.fim", "--at", "alpha=2"]);
    assert_eq!(code, 1);
    assert!(err.contains("no value for beta"), "{err}");
    let (code, _, err) = fimkit(&["derive", "examples/gamma.fim", "--at", "alpha=-1,beta=1"]);
    assert_eq!(code, 1);
    assert!(err.contains("outside its domain"), "{err}");
    let (code, _, err) = fimkit(&[
        "derive",
        "examples/gamma.fim",
        "--at",
        "alpha=1,gamma=2,beta=1",
    ]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn unreadable_at_text_is_a_usage_error() {
    // The same rule as `eval` and `check`: text that cannot be read is 2.
    for at in ["alpha", "alpha=x,beta=1", "alpha=1,alpha=2,beta=1"] {
        let (code, out, err) = fimkit(&["derive", "examples/gamma.fim", "--at", at]);
        assert_eq!(code, 2, "{at}: {err}");
        assert!(err.starts_with("error: --at: "), "{err}");
        assert!(out.is_empty(), "{out}");
    }
}

#[test]
fn text_numbers_at_a_point() {
    let (code, out, _) = fimkit(&[
        "derive",
        "examples/gamma.fim",
        "--at",
        "alpha=2,beta=3",
        "--ascii",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("at alpha = 2, beta = 3"), "{out}");
    assert!(out.contains("0.644934"), "trigamma(2) = pi^2/6 - 1: {out}");
}

#[test]
fn latex_standalone_is_a_document() {
    let (code, out, _) = fimkit(&[
        "derive",
        "examples/beta.fim",
        "--format",
        "latex",
        "--standalone",
    ]);
    assert_eq!(code, 0);
    assert!(out.starts_with("\\documentclass"));
    assert!(out.contains("\\psi^{(1)}(a)"));
    assert!(out.trim_end().ends_with("\\end{document}"));
}

#[test]
fn model_errors_exit_one() {
    let dir = std::env::temp_dir().join(format!("fimkit-derive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let bad = dir.join("bad.fim");
    std::fs::write(
        &bad,
        "param mu : real\ndata x : real\nx ~ normal(mu, sigam)\n",
    )
    .expect("write");
    let (code, out, err) = fimkit(&["derive", bad.to_str().expect("utf8")]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("did you mean `sigma`") || err.contains("unknown name"),
        "{err}"
    );
    let (code, _, _) = fimkit(&["derive", "no/such/file.fim"]);
    assert_eq!(code, 2);
}

#[test]
fn dataset_fim_sums_the_rows() {
    let dir = std::env::temp_dir().join(format!("fimkit-derive-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let csv = dir.join("rows.csv");
    std::fs::write(
        &csv,
        "y,z1,z2\n1,0.5,1.2\n0,-0.3,0.4\n1,1.1,-0.7\n0,0.2,0.1\n",
    )
    .expect("write");
    let (code, out, err) = fimkit(&[
        "derive",
        "examples/logistic_regression.fim",
        "--at",
        "b0=0.1,b1=0.5,b2=-0.3",
        "--data",
        csv.to_str().expect("utf8"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["rows"], 4);
    // sum over rows of sigmoid(eta)(1 - sigmoid(eta)) z z^T
    let rows: [(f64, f64); 4] = [(0.5, 1.2), (-0.3, 0.4), (1.1, -0.7), (0.2, 0.1)];
    let mut f = [[0.0f64; 3]; 3];
    for (z1, z2) in rows {
        let z = [1.0, z1, z2];
        let s = 1.0 / (1.0 + (-(0.1 + 0.5 * z1 - 0.3 * z2)).exp());
        for i in 0..3 {
            for j in 0..3 {
                f[i][j] += s * (1.0 - s) * z[i] * z[j];
            }
        }
    }
    for i in 0..3 {
        for j in 0..3 {
            let got = v["fim_value"][i][j].as_f64().expect("number");
            assert!(
                (got - f[i][j]).abs() < 1e-12,
                "F[{i}][{j}] = {got}, expected {}",
                f[i][j]
            );
        }
    }
}

/// `--fim-only`: the same F and numbers as the whole derivation, with the
/// score, Hessian and what follows from F left out (null in JSON, the keys
/// stay).
#[test]
fn fim_only_gives_the_same_fim() {
    for model in [
        "examples/normal.fim",
        "examples/gamma.fim",
        "examples/logistic_regression.fim",
    ] {
        let at = if model.contains("logistic") {
            "b0=0.5,b1=-1,b2=0.25,z1=2,z2=-1"
        } else if model.contains("gamma") {
            "alpha=2,beta=3"
        } else {
            "mu=0,sigma=2"
        };
        let run = |extra: &[&str]| {
            let mut args = vec!["derive", model, "--format", "json", "--at", at];
            args.extend_from_slice(extra);
            let (code, out, err) = fimkit(&args);
            assert_eq!(code, 0, "{model}: {err}");
            serde_json::from_str::<Value>(&out).expect("JSON")
        };
        let (whole, alone) = (run(&[]), run(&["--fim-only"]));
        for key in [
            "parameters",
            "fim",
            "closed_form",
            "method",
            "fim_check",
            "fim_value",
            "singular",
            "rank",
        ] {
            assert_eq!(whole[key], alone[key], "{model}: {key}");
        }
        for key in [
            "score",
            "hessian",
            "det",
            "crb",
            "jeffreys",
            "natural_gradient",
        ] {
            assert!(alone.get(key).is_some(), "{model}: key {key} kept");
            assert_eq!(alone[key], Value::Null, "{model}: {key}");
        }
        assert!(whole["score"].is_array());
    }
    let (code, text, _) = fimkit(&["derive", "examples/gamma.fim", "--fim-only"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("Fisher information, one observation"),
        "{text}"
    );
    assert!(
        !text.contains("score") && !text.contains("Hessian of"),
        "{text}"
    );
}
