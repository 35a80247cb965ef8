//! Shared by the fit tests that compare with statsmodels' numbers pinned in
//! tests/data/fit/report_peer.json (written by scripts/fit/report_peer.py).

#![allow(dead_code)] // each test file uses its own part

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The crate's root, where the commands run.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pinned peer numbers.
pub fn peer() -> Value {
    let text = std::fs::read_to_string(root().join("tests/data/fit/report_peer.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Relative difference of `a` from `b`.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// A JSON number.
pub fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `fimkit ARGS` run in the crate's root.
pub fn fimkit(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

/// `fimkit fit MODEL --data DATA --format json EXTRA...`, which must succeed.
pub fn fit_json(model: &str, data: &str, extra: &[&str]) -> Value {
    let mut args = vec!["fit", model, "--data", data, "--format", "json"];
    args.extend_from_slice(extra);
    json_of(&args)
}

/// The JSON document `fimkit ARGS...` prints; the command must succeed.
pub fn json_of(args: &[&str]) -> Value {
    let out = fimkit(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
