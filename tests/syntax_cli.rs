//! The command-line contract of `fimkit parse`: exit codes 0 (ok), 1 (the
//! model has errors), 2 (usage error or unreadable file); the model on
//! stdout, diagnostics on stderr; JSON diagnostics with line and column.

use std::process::{Command, Output};

fn fimkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("fimkit runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

#[test]
fn valid_model_exits_zero_with_model_on_stdout() {
    let out = fimkit(&["parse", "tests/fixtures/ok/normal.fim", "--ascii"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("model Normal\n"), "{stdout}");
    assert!(stdout.contains("x ~ normal(mu, sigma)"), "{stdout}");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn model_error_exits_one_with_diagnostics_on_stderr() {
    let out = fimkit(&["parse", "tests/fixtures/err/unknown_name_typo.fim"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error[E0101]: unknown name `sigam`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tests/fixtures/err/unknown_name_typo.fim:6:16"),
        "{stderr}"
    );
    assert!(stderr.contains("help: did you mean `sigma`?"), "{stderr}");
    // Not a terminal: no colour codes.
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn syntax_error_exits_one() {
    let out = fimkit(&["parse", "tests/fixtures/err/many_syntax_errors.fim"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("error[E0004]").count(), 3, "{stderr}");
}

#[test]
fn warnings_go_to_stderr_and_the_model_still_loads() {
    let out = fimkit(&["parse", "tests/fixtures/err/unused_param_warning.fim"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("model Normal\n"));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("warning[W0202]"), "{stderr}");
    assert!(!stderr.contains("error["), "{stderr}");
}

#[test]
fn missing_file_is_a_usage_error() {
    let out = fimkit(&["parse", "tests/fixtures/ok/no_such_model.fim"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot read"), "{stderr}");
    assert!(stderr.contains("no_such_model.fim"), "{stderr}");
}

#[test]
fn bad_usage_exits_two() {
    for args in [
        &[][..],
        &["parse"][..],
        &["frobnicate", "x.fim"][..],
        &["parse", "tests/fixtures/ok/normal.fim", "--format", "yaml"][..],
        &["parse", "tests/fixtures/ok/normal.fim", "--no-such-flag"][..],
    ] {
        let out = fimkit(args);
        assert_eq!(out.status.code(), Some(2), "fimkit {args:?}");
        assert!(out.stdout.is_empty(), "fimkit {args:?}");
        assert!(!out.stderr.is_empty(), "fimkit {args:?}");
    }
}

#[test]
fn help_exits_zero_on_stdout() {
    let out = fimkit(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("parse"));
}

#[test]
fn json_diagnostics_have_line_and_column() {
    let out = fimkit(&[
        "parse",
        "tests/fixtures/err/many_resolve_errors.fim",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["ok"], false);
    assert!(v["model"].is_null());
    let diags = v["diagnostics"].as_array().expect("diagnostics array");
    assert!(diags.len() >= 4, "{diags:?}");
    let typo = diags
        .iter()
        .find(|d| d["code"] == "E0101")
        .expect("the unknown-name error");
    assert_eq!(typo["severity"], "error");
    assert_eq!(typo["line"], 8);
    assert_eq!(typo["col"], 16);
    assert_eq!(typo["file"], "tests/fixtures/err/many_resolve_errors.fim");
    assert_eq!(typo["labels"][0]["line"], 8);
    assert_eq!(typo["labels"][0]["col"], 16);
    assert_eq!(typo["labels"][0]["end_col"], 21);
    assert!(typo["help"].is_string());
    for d in diags {
        assert!(d["line"].as_u64().is_some_and(|l| l >= 1), "{d}");
        assert!(d["col"].as_u64().is_some_and(|c| c >= 1), "{d}");
        assert!(d["message"].is_string(), "{d}");
    }
}

#[test]
fn json_for_a_valid_model() {
    let out = fimkit(&["parse", "tests/fixtures/ok/gamma.fim", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["ok"], true);
    assert_eq!(v["model"]["name"], "Gamma");
    assert_eq!(v["model"]["parameters"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["diagnostics"], serde_json::json!([]));
}

#[test]
fn every_fixture_gets_the_documented_exit_code() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (dir, expect_ok) in [("ok", true), ("err", false)] {
        for entry in std::fs::read_dir(root.join(dir)).expect("fixture dir") {
            let path = entry.expect("entry").path();
            let warning_only = path
                .file_stem()
                .is_some_and(|s| s.to_string_lossy().ends_with("_warning"));
            let out = fimkit(&["parse", path.to_str().expect("UTF-8 path")]);
            let want = if expect_ok || warning_only { 0 } else { 1 };
            assert_eq!(out.status.code(), Some(want), "{}", path.display());
            assert_eq!(out.stdout.is_empty(), want == 1, "{}", path.display());
            assert_eq!(out.stderr.is_empty(), expect_ok, "{}", path.display());
        }
    }
}

#[test]
fn invalid_utf8_is_a_model_error_at_its_line_and_column() {
    for cmd in ["parse", "derive"] {
        let out = fimkit(&[
            cmd,
            "tests/fixtures/err/invalid_utf8.fim",
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
        assert_eq!(v["ok"], false);
        let d = &v["diagnostics"][0];
        assert_eq!(d["code"], "E0006", "{cmd}: {d}");
        assert_eq!((d["line"].as_u64(), d["col"].as_u64()), (Some(4), Some(24)));
    }
    let out = fimkit(&["derive", "tests/fixtures/err/invalid_utf8.fim"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("invalid_utf8.fim:4:24]"), "{stderr}");
}

#[test]
fn a_leading_byte_order_mark_is_accepted() {
    let out = fimkit(&["derive", "tests/fixtures/ok/byte_order_mark.fim"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
