//! Fuzz the front end: any UTF-8 text must load to a model or to
//! diagnostics, without panicking, overflowing the stack or hanging.
//!
//! Run with `cargo +nightly fuzz run parse` from the repository root
//! (see docs/diagnostics.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        let loaded = fimkit::load_with_diagnostics(source, "fuzz");
        let has_error = loaded.diagnostics.iter().any(fimkit::Diagnostic::is_error);
        assert_eq!(loaded.model.is_some(), !has_error);
        for d in &loaded.diagnostics {
            for l in &d.labels {
                assert!(l.span.start <= l.span.end && l.span.end <= source.len());
            }
        }
        let _ = fimkit::render::diagnostics::render_human(
            &loaded.diagnostics,
            "fuzz.fim",
            source,
            fimkit::render::diagnostics::DiagnosticStyle::default(),
        );
    }
});
