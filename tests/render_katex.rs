//! Every LaTeX string the renderer produces for the corpus (the examples'
//! log-densities, gradients and Hessians, a hand list covering every
//! function, constant and name form, and matrices) must be accepted by
//! KaTeX in strict mode with `throwOnError: true`.
//!
//! The check runs `node tests/katex/render.js`, installing the pinned KaTeX
//! with `npm ci` first when `tests/katex/node_modules` is missing. Without
//! `node` the test fails with a clear message, unless `FIMKIT_SKIP_KATEX=1`.

#[path = "render_support/corpus.rs"]
mod corpus;
#[path = "render_support/gen.rs"]
mod generate;

use fimkit::render::latex::{LatexStyle, latex};
use fimkit::render::matrix::{matrix_latex, vector_latex};
use proptest::strategy::{Strategy, ValueTree};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

fn katex_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/katex")
}

/// Every LaTeX string to check, with an id saying where it came from.
fn latex_corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for it in corpus::example_items()
        .into_iter()
        .chain(corpus::hand_items())
    {
        let style = LatexStyle::default().with_leading(it.leading.iter().map(|n| &**n));
        out.push((it.id.clone(), latex(&it.expr, &style)));
        out.push((
            format!("{} (no leading)", it.id),
            latex(&it.expr, &LatexStyle::default()),
        ));
    }
    for m in corpus::example_matrices()
        .into_iter()
        .chain(corpus::hand_matrices())
    {
        let style = LatexStyle::default().with_leading(m.leading.iter().map(|n| &**n));
        out.push((m.id.clone(), matrix_latex(&m.rows, &style)));
        if m.rows.iter().all(|r| r.len() == 1) {
            let v: Vec<_> = m.rows.iter().map(|r| r[0].clone()).collect();
            out.push((format!("{} (vector)", m.id), vector_latex(&v, &style)));
        }
    }
    // Every `fimkit derive --format latex` report of the textbook corpus,
    // the examples and the coordinate fixtures, block by block.
    for dir in [
        "tests/fixtures/textbook",
        "examples",
        "tests/fixtures/coords",
        "tests/fixtures/structure",
    ] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for f in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "fim"))
        {
            let name = f.file_stem().expect("stem").to_string_lossy().into_owned();
            let model =
                fimkit::load(&std::fs::read_to_string(&f).expect("read"), &name).expect("loads");
            let config = fimkit::fisher::DeriveConfig::default();
            let d = fimkit::fisher::derive(&model, &config);
            let coords = fimkit::fisher::derive_coords(&model, &d, &config);
            let report = fimkit::render::derivation::derivation_latex(&model, &d, &coords, false);
            for (k, block) in report.split("\\begin{align*}").skip(1).enumerate() {
                let body = block.split("\\end{align*}").next().unwrap_or("");
                out.push((
                    format!("derive {name} block {k}"),
                    format!("\\begin{{aligned}}{body}\\end{{aligned}}"),
                ));
            }
        }
    }
    // Random expressions (deterministic seed), plain and as a matrix row.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let n = if std::env::var("FIMKIT_LONG").is_ok_and(|v| v == "1") {
        5000
    } else {
        400
    };
    let mut row = Vec::new();
    for i in 0..n {
        let e = generate::expr()
            .new_tree(&mut runner)
            .expect("generate an expression")
            .current();
        out.push((
            format!("random #{i}: {e}"),
            latex(&e, &LatexStyle::default()),
        ));
        let style = LatexStyle::default().with_leading(["x", "a[1]"]);
        out.push((format!("random #{i} (leading x): {e}"), latex(&e, &style)));
        row.push(e);
        if row.len() == 3 {
            out.push((
                format!("random matrix #{i}"),
                matrix_latex(&[std::mem::take(&mut row)], &style),
            ));
        }
    }
    out
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The KaTeX version pinned in tests/katex/package.json.
fn pinned_katex(dir: &Path) -> String {
    let pkg: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("package.json")).expect("tests/katex/package.json"),
    )
    .expect("package.json is JSON");
    pkg["dependencies"]["katex"]
        .as_str()
        .expect("katex pinned in package.json")
        .to_string()
}

/// The KaTeX version installed in tests/katex/node_modules, if any.
fn installed_katex(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules/katex/package.json")).ok()?;
    let pkg: Value = serde_json::from_str(&text).ok()?;
    pkg["version"].as_str().map(str::to_string)
}

/// Install the pinned KaTeX once per test run (the tests of this file run
/// in parallel and must not run `npm ci` in the same folder at once).
fn ensure_katex_installed(dir: &Path) {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut done = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if *done || installed_katex(dir).as_deref() == Some(pinned_katex(dir).as_str()) {
        *done = true;
        return;
    }
    // `npm ci` installs exactly the locked version; fall back to `npm install`
    // only if `ci` itself is unavailable.
    let run = |args: &[&str]| Command::new("npm").args(args).current_dir(dir).output();
    let out = run(&["ci", "--no-audit", "--no-fund"])
        .or_else(|_| run(&["install", "--no-audit", "--no-fund"]))
        .unwrap_or_else(|e| {
            panic!(
                "could not run npm in {}: {e}; install Node.js and npm, or set FIMKIT_SKIP_KATEX=1",
                dir.display()
            )
        });
    assert!(
        out.status.success(),
        "`npm ci` in {} failed (is the npm registry reachable?):\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    *done = true;
}

#[test]
fn katex_accepts_every_latex_string() {
    if std::env::var("FIMKIT_SKIP_KATEX").is_ok_and(|v| v == "1") {
        eprintln!("FIMKIT_SKIP_KATEX=1: skipping the KaTeX check");
        return;
    }
    assert!(
        node_available(),
        "`node` was not found on PATH: the KaTeX check of the LaTeX renderer needs Node.js (v18 or later). \
         Install Node.js, or set FIMKIT_SKIP_KATEX=1 to skip this check."
    );
    let dir = katex_dir();
    ensure_katex_installed(&dir);

    let corpus = latex_corpus();
    assert!(corpus.len() > 100, "corpus too small: {}", corpus.len());
    let mut input = String::new();
    for (id, tex) in &corpus {
        input.push_str(&json!({"id": id, "latex": tex}).to_string());
        input.push('\n');
    }
    let mut child = Command::new("node")
        .arg("render.js")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node render.js");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to node");
    let out = child.wait_with_output().expect("node finished");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line from render.js `{l}`: {e}"))
        })
        .collect();
    let summary = lines.last().unwrap_or_else(|| {
        panic!(
            "render.js printed nothing; stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let failures: Vec<String> = lines[..lines.len() - 1]
        .iter()
        .map(|f| {
            format!(
                "  {}\n    latex: {}\n    error: {}",
                f["id"], f["latex"], f["error"]
            )
        })
        .collect();
    assert!(
        failures.is_empty() && out.status.success(),
        "KaTeX rejected {} of {} LaTeX strings:\n{}\nstderr: {}",
        failures.len(),
        corpus.len(),
        failures.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        summary["checked"].as_u64(),
        Some(corpus.len() as u64),
        "every string checked"
    );
    assert_eq!(summary["failed"].as_u64(), Some(0));
    assert_eq!(
        summary["katex"].as_str(),
        Some(pinned_katex(&dir).as_str()),
        "the pinned KaTeX version ran"
    );
}

/// The checker itself must catch a broken string (so a passing run means something).
#[test]
fn katex_checker_rejects_bad_latex() {
    if std::env::var("FIMKIT_SKIP_KATEX").is_ok_and(|v| v == "1") || !node_available() {
        // The main test reports a missing node; nothing more to say here.
        return;
    }
    let dir = katex_dir();
    ensure_katex_installed(&dir);
    let mut child = Command::new("node")
        .arg("render.js")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start node");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            b"{\"id\":\"bad\",\"latex\":\"\\\\frac{1}{\"}\n{\"id\":\"good\",\"latex\":\"x^{2}\"}\n",
        )
        .expect("write");
    let out = child.wait_with_output().expect("node finished");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "render.js must exit non-zero: {stdout}"
    );
    assert!(stdout.contains("\"id\":\"bad\""), "{stdout}");
    assert!(!stdout.contains("\"id\":\"good\""), "{stdout}");
}
