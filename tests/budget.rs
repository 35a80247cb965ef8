//! Every command has a time and a memory budget (src/cli/budget.rs): past
//! either it stops with exit code 5 and a message naming the stage, instead
//! of running for minutes or exhausting memory. The models in
//! tests/fixtures/stress/ used to run for minutes.

use std::process::Command;

fn fimkit(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("FIMKIT_BUDGET")
        .env_remove("FIMKIT_MEMORY_BUDGET")
        .output()
        .expect("run fimkit");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_time_budget_stops_a_long_derivation_naming_its_stage() {
    for model in [
        "tests/fixtures/stress/nested_lets_200.fim",
        "tests/fixtures/stress/nested_exp_sin.fim",
    ] {
        let (code, _, err) = fimkit(&["derive", model, "--budget", "1"]);
        assert_eq!(code, Some(5), "{model}: {err}");
        assert!(
            err.starts_with("error: stopped after 1.0 s, the time budget, while "),
            "{model}: {err}"
        );
        assert!(err.contains("--budget SECONDS"), "{err}");
        assert!(!err.contains("while starting"), "no stage named: {err}");
    }
}

/// Found by tests/fuzz_models.rs: `derive --fim-only` entered no stage, so
/// a command stopped by its budget said "while starting".
#[test]
fn fim_only_stopped_by_the_budget_names_its_stage() {
    let model = "tests/fixtures/stress/bernoulli_nested_fractions.fim";
    let (code, _, err) = fimkit(&["derive", model, "--fim-only", "--budget", "1"]);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("while taking expectations (the closed-form Fisher information)"),
        "{err}"
    );
}

#[test]
fn the_budget_comes_from_the_environment_too() {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["derive", "tests/fixtures/stress/nested_lets_200.fim"])
        .env("FIMKIT_BUDGET", "0.5")
        .output()
        .expect("run fimkit");
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stopped after 0.5 s"), "{err}");
}

#[test]
fn the_memory_budget_stops_before_memory_runs_out() {
    // 1 MiB: less than the process itself, so the first look stops it.
    let (code, _, err) = fimkit(&[
        "derive",
        "tests/fixtures/stress/nested_lets_200.fim",
        "--memory-budget",
        "1",
    ]);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.starts_with("error: stopped at 1 MiB of memory, the memory budget, while "),
        "{err}"
    );
}

#[test]
fn ordinary_commands_finish_within_the_default_budget() {
    let (code, out, err) = fimkit(&["derive", "examples/gamma.fim", "--at", "alpha=2,beta=1.5"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("Fisher information"));
    // 0 means no limit.
    let (code, _, err) = fimkit(&["derive", "examples/normal.fim", "--budget", "0"]);
    assert_eq!(code, Some(0), "{err}");
}

/// Every stress model of issue 13 ends within the budget: it finishes, or
/// it stops with exit code 5 naming its stage; none is killed, none runs on.
#[test]
fn every_stress_model_ends_within_the_budget() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stress");
    let mut models: Vec<String> = std::fs::read_dir(&dir)
        .expect("the stress fixtures")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "fim"))
        .map(|p| p.display().to_string())
        .collect();
    models.sort();
    assert!(models.len() >= 12, "{models:?}");
    let results: Vec<(String, Option<i32>, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = models
            .iter()
            .map(|m| {
                s.spawn(move || {
                    let (code, _, err) = fimkit(&["derive", m, "--budget", "3"]);
                    (m.clone(), code, err)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a run"))
            .collect()
    });
    for (model, code, err) in results {
        match code {
            Some(0) => {}
            Some(5) => assert!(
                err.starts_with("error: stopped after 3.0 s, the time budget, while ")
                    && !err.contains("while starting"),
                "{model}: {err}"
            ),
            // The 100,000-digit literal is refused at once.
            Some(1) if model.ends_with("literal_100000_digits.fim") => {
                assert!(err.contains("E0005"), "{model}: {err}")
            }
            other => panic!("{model}: exit {other:?}: {err}"),
        }
    }
}

/// Ordinary large models are not stress: they derive (exit 0) within the
/// default budget.
#[test]
fn ordinary_large_models_derive() {
    for model in [
        "tests/fixtures/stress/rasch_40.fim",
        "tests/fixtures/stress/rasch_raw_40.fim",
        "tests/fixtures/stress/log_of_30_sums.fim",
        "tests/fixtures/stress/means_1000.fim",
        "tests/fixtures/stress/poisson_glm_300.fim",
    ] {
        let (code, out, err) = fimkit(&["derive", model]);
        assert_eq!(code, Some(0), "{model}: {err}");
        assert!(out.contains("Fisher information"), "{model}: {out}");
    }
}

/// A matrix larger than 12×12 prints its structure, each entry labelled:
/// a diagonal by runs of equal entries, otherwise the entries that are
/// not 0 (a million-entry matrix printed in full is unreadable).
#[test]
fn large_matrices_print_by_structure() {
    let (code, out, err) = fimkit(&["derive", "tests/fixtures/stress/means_1000.fim"]);
    assert_eq!(code, Some(0), "{err}");
    let diagonal = "1000×1000 diagonal (every entry off the diagonal is 0):\n    μ₁ … μ₁₀₀₀   1\n";
    // The Hessian (−1), F and F⁻¹ (1).
    assert!(
        out.contains("\n    μ₁ … μ₁₀₀₀   -1\n") || out.contains("\n    μ₁ … μ₁₀₀₀   −1\n"),
        "{out}"
    );
    assert_eq!(out.matches(diagonal).count(), 2, "{out}");
    let (code, out, err) = fimkit(&["derive", "tests/fixtures/stress/rasch_raw_40.fim"]);
    assert_eq!(code, Some(0), "{err}");
    // The diagonal and the a-row.
    assert!(
        out.contains("41×41 symmetric; its 81 entries on or above the diagonal that are not 0:"),
        "{out}"
    );
    assert!(out.contains("    (a, b₄₀)   "), "{out}");
    assert!(out.contains("    (b₄₀, b₄₀)  "), "{out}");
}
