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
