//! Data-driven tests of the model language: every file in
//! `tests/fixtures/ok/` must load without errors (its resolved model is
//! snapshotted), every file in `tests/fixtures/err/` must be rejected or
//! warned about (its rendered diagnostics are snapshotted, without colour).

use fimkit::Severity;
use fimkit::render::diagnostics::{DiagnosticStyle, render_human};
use fimkit::render::model::model_text;
use fimkit::render::text::TextStyle;
use std::path::Path;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/syntax");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

/// `ok/name.fim` or `err/name.fim`: the name shown in diagnostics.
fn display_name(path: &Path) -> String {
    let dir = path
        .parent()
        .and_then(Path::file_name)
        .map_or(String::new(), |d| d.to_string_lossy().into_owned());
    let file = path.file_name().expect("file name").to_string_lossy();
    format!("{dir}/{file}")
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("file stem")
        .to_string_lossy()
        .into_owned()
}

fn diagnostics_text(diags: &[fimkit::Diagnostic], name: &str, source: &str) -> String {
    render_human(diags, name, source, DiagnosticStyle { color: false })
}

#[test]
fn ok_fixtures_load() {
    settings().bind(|| {
        insta::glob!("fixtures/ok/*.fim", |path| {
            let source = std::fs::read_to_string(path).expect("readable fixture");
            let name = display_name(path);
            let loaded = fimkit::load_with_diagnostics(&source, &stem(path));
            let rendered = diagnostics_text(&loaded.diagnostics, &name, &source);
            let Some(model) = loaded.model else {
                panic!("{name} should load, but:\n{rendered}");
            };
            let warnings: Vec<_> = loaded
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .collect();
            assert!(
                warnings.is_empty(),
                "{name} should load without warnings, but:\n{rendered}"
            );
            let out = model_text(&model, &TextStyle::ascii());
            insta::assert_snapshot!(format!("{source}\n---- resolved model ----\n{out}"));
        });
    });
}

#[test]
fn err_fixtures_are_diagnosed() {
    settings().bind(|| {
        insta::glob!("fixtures/err/*.fim", |path| {
            let bytes = std::fs::read(path).expect("readable fixture");
            let name = display_name(path);
            // A file that is not UTF-8 is diagnosed before it is parsed.
            let (source, loaded) = match fimkit::syntax::decode_source(&bytes) {
                Ok(text) => (
                    text.to_string(),
                    fimkit::load_with_diagnostics(text, &stem(path)),
                ),
                Err((text, d)) => (
                    text,
                    fimkit::Loaded {
                        model: None,
                        diagnostics: vec![d],
                    },
                ),
            };
            assert!(
                !loaded.diagnostics.is_empty(),
                "{name} should produce a diagnostic"
            );
            let is_warning_fixture = stem(path).ends_with("_warning");
            let has_error = loaded.diagnostics.iter().any(fimkit::Diagnostic::is_error);
            if is_warning_fixture {
                assert!(!has_error, "{name} should only warn");
                assert!(loaded.model.is_some(), "{name} should still load");
            } else {
                assert!(has_error, "{name} should be rejected");
                assert!(loaded.model.is_none(), "{name} must not give a model");
            }
            let rendered = diagnostics_text(&loaded.diagnostics, &name, &source);
            for d in &loaded.diagnostics {
                assert!(d.help.is_some(), "{name}: {} has no help line", d.code);
                let (line, col) = fimkit::diagnostic::line_col(&source, d.span().start);
                let location = format!("[{name}:{line}:{col}]");
                assert!(
                    rendered.contains(&location),
                    "{name}: {} should point at {location}:\n{rendered}",
                    d.code
                );
            }
            assert!(rendered.contains("help:"), "{name}: no help line");
            assert!(!rendered.contains('\u{1b}'), "{name}: colour codes");
            insta::assert_snapshot!(format!("{source}\n---- diagnostics ----\n{rendered}"));
        });
    });
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The ```fim blocks of a Markdown file.
fn fim_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim() == "```fim" => current = Some(String::new()),
            Some(block) if line.trim() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn language_reference_examples_load() {
    let doc = std::fs::read_to_string(root().join("docs/language.md")).expect("docs/language.md");
    let blocks = fim_blocks(&doc);
    assert!(blocks.len() >= 10, "only {} examples", blocks.len());
    for (i, src) in blocks.iter().enumerate() {
        let loaded = fimkit::load_with_diagnostics(src, "example");
        assert!(
            loaded.model.is_some() && loaded.diagnostics.is_empty(),
            "docs/language.md example {} does not load cleanly:\n{src}\n{}",
            i + 1,
            diagnostics_text(&loaded.diagnostics, "example.fim", src)
        );
    }
}

/// Every diagnostic code written in the sources (`"E0101"`, `"W0202"`).
fn codes_in_sources() -> std::collections::BTreeSet<String> {
    fn walk(dir: &Path, out: &mut std::collections::BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("src dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                for (i, _) in text.match_indices('"') {
                    let code = text.get(i + 1..i + 6).unwrap_or("");
                    let closed = text.get(i + 6..i + 7) == Some("\"");
                    let mut chars = code.chars();
                    if closed
                        && matches!(chars.next(), Some('E' | 'W'))
                        && chars.all(|c| c.is_ascii_digit())
                    {
                        out.insert(code.to_string());
                    }
                }
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(&root().join("src"), &mut out);
    out
}

#[test]
fn every_code_is_documented_and_every_documented_code_exists() {
    let doc =
        std::fs::read_to_string(root().join("docs/diagnostics.md")).expect("docs/diagnostics.md");
    let documented: std::collections::BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let used = codes_in_sources();
    assert!(used.len() >= 25, "found only {used:?}");
    let missing: Vec<_> = used.difference(&documented).collect();
    assert!(missing.is_empty(), "undocumented codes: {missing:?}");
    let stale: Vec<_> = documented.difference(&used).collect();
    assert!(stale.is_empty(), "documented but unused: {stale:?}");
}

#[test]
fn every_code_has_a_fixture() {
    let mut seen = String::new();
    for entry in std::fs::read_dir(root().join("snapshots/syntax")).expect("snapshots") {
        let path = entry.expect("entry").path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("err_"))
        {
            seen.push_str(&std::fs::read_to_string(path).expect("snapshot"));
        }
    }
    // E0001 needs a file over 1 MiB; tests/syntax_robustness.rs covers it.
    let untested: Vec<String> = codes_in_sources()
        .into_iter()
        .filter(|c| c != "E0001" && !seen.contains(&format!("[{c}]")))
        .collect();
    assert!(
        untested.is_empty(),
        "codes without an err fixture: {untested:?}"
    );
}
