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
            let source = std::fs::read_to_string(path).expect("readable fixture");
            let name = display_name(path);
            let loaded = fimkit::load_with_diagnostics(&source, &stem(path));
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
