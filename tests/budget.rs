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
        "tests/fixtures/stress/rasch_raw_10.fim",
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
        .args(["derive", "tests/fixtures/stress/rasch_raw_10.fim"])
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
        "tests/fixtures/stress/rasch_raw_10.fim",
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
