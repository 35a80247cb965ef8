//! The command line around code generation: `fimkit codegen`, shell
//! completions, `--quiet`, help with examples, streams and exit codes
//! (docs/cli.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fimkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run fimkit")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("codegen-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

/// A valid model with a warning (an unused parameter).
const WARNS: &str = "param mu : real\nparam unused : positive\ndata x : real\nx ~ normal(mu, 1)\n";

/// A model with an error (an unknown name).
const BROKEN: &str = "param mu : real\ndata x : real\nx ~ normal(nu, 1)\n";

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = fimkit(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains("fimkit"), "{shell}");
        for sub in ["codegen", "derive", "parse", "completions"] {
            assert!(script.contains(sub), "{shell} completes `{sub}`");
        }
        assert!(
            script.contains("rust") && script.contains("jax"),
            "{shell} completes --lang"
        );
        assert!(out.stderr.is_empty(), "{shell}: nothing on stderr");
    }
    let bash = text(&fimkit(&["completions", "bash"]).stdout);
    assert!(
        bash.contains("complete -F _fimkit"),
        "a bash completion function"
    );
    let bad = fimkit(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2), "unknown shell is a usage error");
}

#[test]
fn quiet_drops_warnings_but_keeps_results_and_errors() {
    let dir = scratch("quiet");
    let warns = dir.join("warns.fim");
    std::fs::write(&warns, WARNS).unwrap();
    let w = warns.to_str().unwrap();
    for cmd in [
        vec!["parse", w],
        vec!["derive", w],
        vec!["codegen", w, "--lang", "python"],
    ] {
        let loud = fimkit(&cmd);
        assert!(loud.status.success(), "{cmd:?}");
        assert!(
            text(&loud.stderr).contains("never used"),
            "{cmd:?}: the warning is shown: {}",
            text(&loud.stderr)
        );
        for position in ["front", "back"] {
            let mut args = cmd.clone();
            if position == "front" {
                args.insert(0, "--quiet");
            } else {
                args.push("-q");
            }
            let quiet = fimkit(&args);
            assert!(quiet.status.success(), "{args:?}");
            assert!(quiet.stderr.is_empty(), "{args:?}: {}", text(&quiet.stderr));
            assert_eq!(quiet.stdout, loud.stdout, "{args:?}: same results");
        }
    }
    // A model without a closed-form FIM: codegen's note goes too.
    let cauchy = ["codegen", "tests/codegen/models/cauchy.fim", "--lang", "c"];
    let loud = fimkit(&cauchy);
    assert!(text(&loud.stderr).contains("no closed-form Fisher information"));
    let mut q = cauchy.to_vec();
    q.push("--quiet");
    assert!(fimkit(&q).stderr.is_empty());
    // Errors stay.
    let broken = dir.join("broken.fim");
    std::fs::write(&broken, BROKEN).unwrap();
    let out = fimkit(&[
        "--quiet",
        "codegen",
        broken.to_str().unwrap(),
        "--lang",
        "rust",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nu"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "no code for a broken model");
}

#[test]
fn codegen_writes_stdout_or_a_file() {
    let dir = scratch("output");
    let to_stdout = fimkit(&["codegen", "examples/gamma.fim", "--lang", "c"]);
    assert!(to_stdout.status.success());
    let code = text(&to_stdout.stdout);
    assert!(code.contains("void gamma_fim(double alpha, double beta, double out[2][2])"));
    assert!(to_stdout.stderr.is_empty());
    let file = dir.join("gamma.c");
    let to_file = fimkit(&[
        "codegen",
        "examples/gamma.fim",
        "--lang",
        "c",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(to_file.status.success());
    assert!(to_file.stdout.is_empty(), "nothing on stdout with -o");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), code);
    let prefixed = fimkit(&[
        "codegen",
        "examples/gamma.fim",
        "--lang",
        "python",
        "--prefix",
        "gamma_",
    ]);
    assert!(text(&prefixed.stdout).contains("def gamma_fim(alpha, beta):"));
    let coords = fimkit(&[
        "codegen",
        "examples/binomial_odds.fim",
        "--lang",
        "rust",
        "--coords",
        "odds",
    ]);
    assert!(coords.status.success(), "{}", text(&coords.stderr));
    assert!(text(&coords.stdout).contains("pub fn fim(phi: f64) -> [[f64; 1]; 1]"));
}

#[test]
fn exit_codes() {
    let missing = fimkit(&["codegen", "no/such/model.fim", "--lang", "rust"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read"));
    let no_lang = fimkit(&["codegen", "examples/gamma.fim"]);
    assert_eq!(no_lang.status.code(), Some(2), "--lang is required");
    let bad_lang = fimkit(&["codegen", "examples/gamma.fim", "--lang", "fortran"]);
    assert_eq!(bad_lang.status.code(), Some(2));
    let coords = fimkit(&[
        "codegen",
        "examples/gamma.fim",
        "--lang",
        "c",
        "--coords",
        "nope",
    ]);
    assert_eq!(coords.status.code(), Some(2));
    assert!(text(&coords.stderr).contains("no coordinates `nope`"));
    let unwritable = fimkit(&[
        "codegen",
        "examples/gamma.fim",
        "--lang",
        "c",
        "-o",
        "no/such/dir/x.c",
    ]);
    assert_eq!(unwritable.status.code(), Some(2));
    assert!(text(&unwritable.stderr).contains("cannot write"));
    let help = fimkit(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
}

#[test]
fn help_has_examples_and_exit_codes() {
    let top = text(&fimkit(&["--help"]).stdout);
    assert!(top.contains(
        "Exit codes: 0 success, 1 the model has errors, 2 usage or I/O error, 3 internal error"
    ));
    assert!(top.contains("NO_COLOR"));
    for sub in ["parse", "derive", "codegen", "completions"] {
        let out = fimkit(&[sub, "--help"]);
        assert!(out.status.success(), "{sub}");
        let help = text(&out.stdout);
        assert!(
            help.contains("Examples:"),
            "`fimkit {sub} --help` has examples"
        );
        assert!(
            help.contains(&format!("fimkit {sub} ")),
            "{sub}: examples use the command"
        );
    }
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md")).unwrap();
    for code in ["| 0 |", "| 1 |", "| 2 |", "| 3 |"] {
        assert!(
            docs.contains(code),
            "docs/cli.md documents exit code {code}"
        );
    }
}

#[test]
fn no_color_means_no_escape_codes() {
    let dir = scratch("color");
    let broken = dir.join("broken.fim");
    std::fs::write(&broken, BROKEN).unwrap();
    let out = fimkit(&["parse", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.stderr.is_empty());
    assert!(!out.stderr.contains(&0x1b), "no ANSI escapes with NO_COLOR");
}
