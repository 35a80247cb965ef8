//! `fimkit check` on every textbook model and example (must pass), on
//! deliberately broken models (must fail, loudly and with the reason), and
//! the numeric fallback of `fimkit derive --at`.

use fimkit::fisher::numeric::check::{CheckConfig, CheckKind, check};
use std::process::Command;

fn load(path: &str) -> fimkit::ir::Model {
    let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    fimkit::load(&src, "m").unwrap_or_else(|d| panic!("{path}: {d:?}"))
}

fn fim_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "fim"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    files
}

fn fimkit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args(args)
        .output()
        .expect("run fimkit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn every_textbook_model_and_example_passes() {
    let points = if std::env::var("FIMKIT_LONG").is_ok() {
        6
    } else {
        2
    };
    let mut files = fim_files("tests/fixtures/textbook");
    files.extend(fim_files("examples"));
    assert!(files.len() >= 40);
    let mut compared = 0;
    for file in &files {
        let model = load(file);
        let report = check(
            &model,
            &CheckConfig {
                points,
                seed: 7,
                ..CheckConfig::default()
            },
        );
        let failures: Vec<String> = report
            .model_rows
            .iter()
            .chain(report.points.iter().flat_map(|p| p.rows.iter()))
            .filter(|r| !r.passed)
            .map(|r| format!("{}: {:?}", r.kind.label(), r.note))
            .collect();
        assert!(report.passed(), "{file}: {failures:#?}");
        assert_eq!(report.points.len(), points, "{file}");
        for p in &report.points {
            let kinds: Vec<CheckKind> = p.rows.iter().map(|r| r.kind).collect();
            assert!(kinds.contains(&CheckKind::Normalisation));
            assert!(kinds.contains(&CheckKind::MeanScore));
            assert!(kinds.contains(&CheckKind::Bartlett));
            if kinds.contains(&CheckKind::ClosedForm) {
                compared += 1;
            }
        }
    }
    // Most of the corpus has a tier-1 closed form to compare against.
    assert!(compared >= 30 * points, "{compared}");
}

#[test]
fn non_exponential_family_models_pass() {
    for file in [
        "cauchy",
        "student_t5",
        "logistic",
        "gumbel",
        "weibull2",
        "normal_mixture",
        "zip",
        "student_t",
    ] {
        let path = format!("tests/fixtures/numeric/{file}.fim");
        let report = check(
            &load(&path),
            &CheckConfig {
                points: 1,
                ..CheckConfig::default()
            },
        );
        assert!(report.passed(), "{path}: {report:#?}");
    }
}

#[test]
fn the_laplace_kink_fails_the_second_bartlett_identity() {
    let report = check(
        &load("tests/fixtures/numeric/laplace2.fim"),
        &CheckConfig {
            points: 1,
            ..CheckConfig::default()
        },
    );
    let p = &report.points[0];
    let failed: Vec<CheckKind> = p
        .rows
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.kind)
        .collect();
    assert_eq!(failed, vec![CheckKind::Bartlett]);
}

fn snapshot(name: &str, text: &str) {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/check");
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn broken_models_fail_loudly() {
    let cases = [
        ("wrong_constant", "mu=0.5,sigma=2"),
        ("wrong_constant_count", "lambda=1.5"),
        ("uniform_theta", "theta=2"),
        ("shifted_exponential", "theta=1"),
    ];
    for (name, at) in cases {
        let path = format!("tests/fixtures/check/{name}.fim");
        let (code, out, _err) = fimkit(&["check", &path, "--at", at]);
        assert_eq!(code, 1, "{path}: {out}");
        assert!(out.contains("FAILED"), "{path}: {out}");
        snapshot(
            &format!("broken_{name}"),
            &format!("$ fimkit check {path} --at {at}\n{out}"),
        );
    }
    // The numbers in the messages.
    let (_, out, _) = fimkit(&[
        "check",
        "tests/fixtures/check/wrong_constant.fim",
        "--at",
        "mu=0.5,sigma=2",
    ]);
    assert!(out.contains("integrates to 2.000000000000, not 1"), "{out}");
    let (_, out, _) = fimkit(&[
        "check",
        "tests/fixtures/check/uniform_theta.fim",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["model_checks"][0]["check"], "regularity");
    assert!(v["points"].as_array().unwrap().is_empty());
}

#[test]
fn a_good_model_passes_at_a_given_point() {
    let (code, out, err) = fimkit(&["check", "examples/gamma.fim", "--at", "alpha=2,beta=3"]);
    assert_eq!(code, 0, "{out}{err}");
    snapshot(
        "gamma_at",
        &format!("$ fimkit check examples/gamma.fim --at alpha=2,beta=3\n{out}"),
    );
    let (code, out, _) = fimkit(&[
        "check",
        "tests/fixtures/textbook/logistic_regression.fim",
        "--at",
        "b0=0.1,b1=-0.5,b2=1,z1=0.3,z2=-1.2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["passed"], true);
    // The key every other fimkit JSON document uses for θ's names.
    assert_eq!(v["parameters"], serde_json::json!(["b0", "b1", "b2"]));
    let p = &v["points"][0];
    assert_eq!(p["at"]["z1"], 0.3);
    assert_eq!(p["checks"].as_array().unwrap().len(), 4);
    assert_eq!(p["fim_value"].as_array().unwrap().len(), 3);
}

#[test]
fn usage_errors() {
    for args in [
        vec!["check", "examples/gamma.fim", "--at", "alpha"],
        vec!["check", "examples/gamma.fim", "--at", "alpha=x"],
        vec!["check", "examples/gamma.fim", "--at", "alpha=1,alpha=2"],
    ] {
        let (code, _, err) = fimkit(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.starts_with("error: "), "{err}");
    }
    // A point outside the domain, or a missing value: a failed check.
    let (code, out, _) = fimkit(&["check", "examples/gamma.fim", "--at", "alpha=-1,beta=1"]);
    assert_eq!(code, 1);
    assert!(out.contains("outside its domain"), "{out}");
    let (code, out, _) = fimkit(&["check", "examples/gamma.fim", "--at", "alpha=1"]);
    assert_eq!(code, 1);
    assert!(out.contains("needs a value for `beta`"), "{out}");
    // A name the model does not have: readable text, a wrong point.
    let (code, _, err) = fimkit(&["check", "examples/gamma.fim", "--at", "alpha=1,gamma=2"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn derive_falls_back_to_numeric_without_a_closed_form() {
    // Tier 2: Cauchy.
    let (code, out, err) = fimkit(&[
        "derive",
        "tests/fixtures/numeric/cauchy.fim",
        "--at",
        "mu=0.5,sigma=2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["closed_form"], false);
    assert_eq!(v["tier"], 2);
    assert!(v["method"].as_str().unwrap().starts_with("location–scale"));
    let f = &v["fim_value"];
    assert!((f[0][0].as_f64().unwrap() - 0.125).abs() < 1e-12);
    assert!((f[1][1].as_f64().unwrap() - 0.125).abs() < 1e-12);
    assert!(f[0][1].as_f64().unwrap().abs() < 1e-12);
    assert!(v["fim_error"][0][0].as_f64().unwrap() < 1e-10);
    assert_eq!(v["location_scale_fim"][0][0]["text"], "1/(2*sigma^2)");
    // Tier 3: Weibull with unknown shape, text output.
    let (code, out, _) = fimkit(&[
        "derive",
        "tests/fixtures/numeric/weibull2.fim",
        "--at",
        "k=1.7,lambda=2.5",
        "--ascii",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("numeric, tier 3"), "{out}");
    assert!(out.contains("0.631031370537"), "{out}");
    // An irregular model: no number, exit 1, the reason.
    let (code, out, _) = fimkit(&[
        "derive",
        "tests/fixtures/check/uniform_theta.fim",
        "--at",
        "theta=2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["fim_value"].is_null());
    assert!(v["numeric_error"].as_str().unwrap().contains("Bartlett"));
    // A closed form exists: --at does not change the closed-form output.
    let (code, out, _) = fimkit(&["derive", "examples/gamma.fim", "--at", "alpha=2,beta=3"]);
    assert_eq!(code, 0);
    assert!(!out.contains("numeric, tier"));
}

#[test]
fn an_oscillating_density_is_undecided_not_ok() {
    // Issue 13: check printed "∫ p = 1 … ok, all 3 checks passed" for
    // these: the tolerance grew with the quadrature's own (huge) error
    // estimate. Now the error bar must be narrow for "ok".
    for (name, at) in [
        ("oscillating", "mu=0.2,w=1.5"),
        ("oscillating_normalised", "mu=0.2,w=1.5"),
    ] {
        let path = format!("tests/fixtures/check/{name}.fim");
        let (code, out, _) = fimkit(&["check", &path, "--at", at]);
        assert_eq!(code, 4, "{path}: {out}");
        assert!(!out.contains(" ok\n"), "{path}: {out}");
        assert!(
            out.contains("could not decide 3 of 3 checks"),
            "{path}: {out}"
        );
        snapshot(
            &format!("undecided_{name}"),
            &format!("$ fimkit check {path} --at {at}\n{out}"),
        );
        let (code, out, _) = fimkit(&["check", &path, "--at", at, "--format", "json"]);
        assert_eq!(code, 4);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["passed"], false);
        assert_eq!(v["points"][0]["checks"][0]["undecided"], true);
    }
}

#[test]
fn a_constant_normaliser_is_a_note_not_a_failure() {
    let path = "tests/fixtures/check/hill_emax_no_constant.fim";
    let at = "e0=0.2,emax=1.5,ec50=2,sigma=0.7,dose=1.3";
    let (code, out, _) = fimkit(&["check", path, "--at", at]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "normalised up to a constant factor 2.5066 = √(2π): the Fisher information is unaffected"
        ),
        "{out}"
    );
    assert!(out.contains("all 4 checks passed"), "{out}");
    snapshot(
        "constant_normaliser_hill_emax",
        &format!("$ fimkit check {path} --at {at}\n{out}"),
    );
    // A normaliser that depends on θ still fails (wrong_constant above),
    // and so does a constant one whose E[s] is not 0 (none: E[s] = ∇log Z).
    let (code, out, _) = fimkit(&[
        "check",
        "tests/fixtures/check/wrong_constant.fim",
        "--at",
        "mu=0.5,sigma=2",
    ]);
    assert_eq!(code, 1);
    assert!(!out.contains("constant factor"), "{out}");
}

#[test]
fn twelve_independent_normals_pass() {
    for file in ["normals12", "normals12_loop"] {
        let report = check(
            &load(&format!("tests/fixtures/check/{file}.fim")),
            &CheckConfig {
                points: 2,
                ..CheckConfig::default()
            },
        );
        assert!(report.passed(), "{file}: {report:#?}");
        for p in &report.points {
            let note = p.rows[0].note.as_deref().unwrap_or("");
            assert!(note.contains("61529 = (2π)^6"), "{file}: {note}");
        }
    }
}

#[test]
fn monte_carlo_cannot_confirm_and_says_so() {
    // Coupled data dimensions: quasi-Monte Carlo with two seeds. A sound
    // model is never FAILED for Monte Carlo noise, and never "ok" either.
    let path = "tests/fixtures/check/coupled_normal4.fim";
    let at = "m1=0.2,m2=-0.4,m3=1.1,m4=0.5";
    let (code, out, _) = fimkit(&["check", path, "--at", at]);
    assert_eq!(code, 4, "{out}");
    assert!(!out.contains("FAILED"), "{out}");
    assert!(!out.contains("depends on the parameters:"), "{out}");
    assert!(out.contains("could not decide 4 of 4 checks"), "{out}");
}
