//! `fimkit eval` end to end: outputs (snapshots in snapshots/eval/), JSON
//! keys, and exit codes (0 ok, 1 model error / bad point / bad data,
//! 2 usage or I/O).

use std::process::Command;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/eval");
    s.set_prepend_module_to_snapshot(false);
    s
}

/// Run `fimkit eval` from the crate root; (exit code, stdout, stderr).
fn eval(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("eval")
        .args(args)
        .output()
        .expect("run fimkit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

fn show(args: &[&str]) -> String {
    let (code, out, err) = eval(args);
    format!(
        "$ fimkit eval {}\nexit {code}\n--- stdout\n{out}--- stderr\n{err}",
        args.join(" ")
    )
}

#[test]
fn point_text_outputs() {
    settings().bind(|| {
        insta::assert_snapshot!(
            "point_gamma",
            show(&["examples/gamma.fim", "--at", "alpha=2,beta=1,x=1.5"])
        );
        insta::assert_snapshot!(
            "point_dirichlet_lists",
            show(&[
                "examples/dirichlet3.fim",
                "--at",
                "alpha=[1,2,3]",
                "--at",
                "x=[0.2,0.3,0.5]",
                "--ascii"
            ])
        );
        insta::assert_snapshot!(
            "point_logistic",
            show(&[
                "examples/logistic_regression.fim",
                "--at",
                "b0=0.5, b1=-1, b2=2, z1=0.3, z2=-1.2, y=1"
            ])
        );
    });
}

#[test]
fn data_text_output() {
    settings().bind(|| {
        insta::assert_snapshot!(
            "data_logistic",
            show(&[
                "examples/logistic_regression.fim",
                "--at",
                "b0=0.5,b1=-1,b2=2",
                "--data",
                "tests/fixtures/csv/ok/logistic_regression.csv"
            ])
        );
    });
}

fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = eval(args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("valid JSON")
}

#[test]
fn point_json_has_stable_keys_and_exact_numbers() {
    let v = json(&[
        "examples/normal.fim",
        "--at",
        "mu=0,sigma=2,x=1",
        "--format",
        "json",
    ]);
    assert_eq!(v["schema"], "fimkit-json 1");
    assert_eq!(v["ok"], true);
    assert_eq!(v["model"], "Normal");
    assert_eq!(v["parameters"], serde_json::json!(["mu", "sigma"]));
    assert_eq!(v["at"], serde_json::json!({"mu": 0.0, "sigma": 2.0}));
    assert_eq!(v["inputs"], serde_json::json!({"x": 1.0}));
    // score (x − μ)/σ², −1/σ + (x − μ)²/σ³; Hessian −1/σ², −2(x − μ)/σ³,
    // 1/σ² − 3(x − μ)²/σ⁴: all exact in binary.
    assert_eq!(v["score"], serde_json::json!([0.25, -0.375]));
    assert_eq!(
        v["hessian"],
        serde_json::json!([[-0.25, -0.25], [-0.25, 0.0625]])
    );
    let ld = v["log_density"].as_f64().unwrap();
    let want = -(2.0f64).ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() - 0.125;
    assert!((ld - want).abs() < 1e-15);
}

#[test]
fn data_json_has_stable_keys() {
    let v = json(&[
        "examples/gamma.fim",
        "--at",
        "alpha=2,beta=1",
        "--data",
        "tests/fixtures/csv/ok/gamma.csv",
        "--format",
        "json",
    ]);
    for key in [
        "schema",
        "ok",
        "model",
        "parameters",
        "at",
        "data",
        "n_rows",
        "loglik",
        "gradient",
        "observed_information",
        "empirical_fisher",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["n_rows"], 4);
    // Observed information of the Gamma: n·[ψ₁(α), −1/β; −1/β, α/β²].
    let psi1 = fimkit::numeric::special::polygamma(1, 2.0);
    let obs = &v["observed_information"];
    assert!((obs[0][0].as_f64().unwrap() - 4.0 * psi1).abs() < 1e-13);
    assert_eq!(obs[0][1].as_f64().unwrap(), -4.0);
    assert_eq!(obs[1][1].as_f64().unwrap(), 8.0);
    // Gradient: Σ (log β + log x − ψ(α)), Σ (α/β − x).
    let g = &v["gradient"];
    assert!((g[1].as_f64().unwrap() - (8.0 - 6.0)).abs() < 1e-13);
}

#[test]
fn exit_codes_and_messages() {
    settings().bind(|| {
        let cases: Vec<(&str, Vec<&str>)> = vec![
            (
                "err_param_domain",
                vec!["examples/normal.fim", "--at", "mu=0,sigma=-1,x=1"],
            ),
            (
                "err_missing_data_value",
                vec!["examples/normal.fim", "--at", "mu=0,sigma=1"],
            ),
            (
                "err_missing_param",
                vec!["examples/normal.fim", "--at", "mu=0,x=1"],
            ),
            (
                "err_unknown_name",
                vec!["examples/normal.fim", "--at", "mu=0,sigma=1,x=1,tau=3"],
            ),
            (
                "err_data_name_with_data",
                vec![
                    "examples/gamma.fim",
                    "--at",
                    "alpha=2,beta=1,x=1",
                    "--data",
                    "tests/fixtures/csv/ok/gamma.csv",
                ],
            ),
            (
                "err_support",
                vec!["examples/bernoulli.fim", "--at", "p=0.5,y=2"],
            ),
            (
                "err_syntax",
                vec!["examples/normal.fim", "--at", "mu=0,sigma"],
            ),
            (
                "err_not_a_number",
                vec!["examples/normal.fim", "--at", "mu=zero,sigma=1,x=1"],
            ),
            (
                "err_list_length",
                vec![
                    "examples/dirichlet3.fim",
                    "--at",
                    "alpha=[1,2],x=[0.2,0.3,0.5]",
                ],
            ),
            (
                "err_bad_data",
                vec![
                    "examples/bernoulli.fim",
                    "--at",
                    "p=0.5",
                    "--data",
                    "tests/fixtures/csv/err/bernoulli__y_is_2.csv",
                ],
            ),
            (
                "err_missing_file",
                vec![
                    "examples/bernoulli.fim",
                    "--at",
                    "p=0.5",
                    "--data",
                    "tests/fixtures/csv/none.csv",
                ],
            ),
            (
                "err_overflow",
                vec!["examples/poisson.fim", "--at", "lambda=1e-320,k=3"],
            ),
            (
                "err_json",
                vec![
                    "examples/normal.fim",
                    "--at",
                    "mu=0,sigma=-1,x=1",
                    "--format",
                    "json",
                ],
            ),
        ];
        for (name, args) in cases {
            insta::assert_snapshot!(name, show(&args));
        }
    });
}

#[test]
fn exit_code_values() {
    let code = |args: &[&str]| eval(args).0;
    assert_eq!(
        code(&["examples/normal.fim", "--at", "mu=0,sigma=2,x=1"]),
        0
    );
    assert_eq!(
        code(&["examples/normal.fim", "--at", "mu=0,sigma=-2,x=1"]),
        1
    );
    assert_eq!(code(&["examples/normal.fim", "--at", "mu=0,sigma"]), 2);
    assert_eq!(code(&["examples/normal.fim"]), 2, "--at is required");
    assert_eq!(code(&["examples/none.fim", "--at", "mu=0"]), 2);
    assert_eq!(
        code(&[
            "examples/bernoulli.fim",
            "--at",
            "p=0.5",
            "--data",
            "tests/fixtures/csv/err/bernoulli__y_is_2.csv"
        ]),
        1
    );
    assert_eq!(
        code(&[
            "examples/bernoulli.fim",
            "--at",
            "p=0.5",
            "--data",
            "/nonexistent/file.csv"
        ]),
        2
    );
}

#[test]
fn help_documents_the_point_syntax() {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args(["eval", "--help"])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--at",
        "--data",
        "name=value",
        "alpha=[1,2,3]",
        "Examples:",
        "Exit codes",
    ] {
        assert!(text.contains(needle), "help lacks {needle}:\n{text}");
    }
}
