//! The library without the command line: `default-features = false` builds
//! (type-checks) and pulls in none of the command line's crates.
//!
//! Runs cargo itself: `cargo tree` (instant), and `cargo check` and
//! `cargo doc` into their own target directory `target/lib-checks` (a
//! minute or two cold; the two share their dependencies' metadata).

use std::path::Path;
use std::process::Command;

/// Crates only the `cli`, `fancy`, `plot` and `columnar` features bring in.
const CLI_ONLY: [&str; 8] = [
    "clap",
    "clap_complete",
    "miette",
    "indicatif",
    "mimalloc",
    "plotters",
    // The `columnar` feature (Parquet and Arrow input).
    "parquet",
    "arrow-ipc",
];

fn cargo() -> Command {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUSTFLAGS")
        .env("CARGO_TERM_COLOR", "never");
    cmd
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run cargo");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The crate names in `cargo tree` output (one `name vX.Y.Z` per line).
fn crates(tree: &str) -> Vec<String> {
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn library_without_default_features_has_no_cli_crates() {
    let tree = |extra: &[&str]| {
        let mut cmd = cargo();
        cmd.args(["tree", "--edges", "normal", "--prefix", "none", "--offline"])
            .args(extra);
        crates(&run(&mut cmd))
    };
    let lean = tree(&["--no-default-features"]);
    let full = tree(&[]);
    for name in CLI_ONLY {
        assert!(
            !lean.iter().any(|c| c == name),
            "`{name}` is still a dependency without default features"
        );
        // The test is only worth something if the default build has them.
        assert!(
            full.iter().any(|c| c == name),
            "`{name}` is not a dependency of the default build: update CLI_ONLY"
        );
    }
    let count = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v.len()
    };
    eprintln!(
        "crates: {} with default features, {} without",
        count(&full),
        count(&lean)
    );
}

fn lib_checks_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/lib-checks")
}

#[test]
fn library_without_default_features_builds() {
    run(cargo()
        .args(["check", "--lib", "--no-default-features", "--offline"])
        .arg("--target-dir")
        .arg(lib_checks_dir()));
}

/// rustdoc builds the library's documentation with zero warnings, with
/// and without default features (broken links, math read as links).
#[test]
fn rustdoc_has_no_warnings() {
    for features in [&[][..], &["--no-default-features"][..]] {
        run(cargo()
            .args(["doc", "--lib", "--no-deps", "--offline"])
            .args(features)
            .arg("--target-dir")
            .arg(lib_checks_dir())
            .env("RUSTDOCFLAGS", "-D warnings"));
    }
}
