//! Fuzz the front end: any bytes must load to a model or to diagnostics,
//! without panicking, overflowing the stack or hanging, and rendering the
//! diagnostics must not panic. Bytes that are not UTF-8 go through
//! `decode_source` (E0006).
//!
//! Long inputs: an input that starts with byte 0x01 is a recipe,
//! `0x01 n_lo n_hi head 0x00 body 0x00 tail`, for the source
//! `head + body × n + tail` (n < 65,536, capped just past the 1 MiB file
//! limit), so that inputs of a few bytes reach lines of hundreds of
//! kilobytes, labels past column 65,535 and flat sums of thousands of
//! terms. Plain inputs up to the 1 MiB limit work too (`-max_len`).
//!
//! Run with `cargo +nightly fuzz run parse -- -dict=fuzz/parse.dict` from
//! the repository root (see docs/diagnostics.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A little over the largest file accepted, so the size limit is reached.
const MAX_EXPANDED: usize = fimkit::syntax::MAX_SOURCE_LEN + 4096;

fn expand(data: &[u8]) -> Vec<u8> {
    let Some((&1, rest)) = data.split_first() else {
        return data.to_vec();
    };
    let (count, rest) = match rest {
        [lo, hi, rest @ ..] => (usize::from(u16::from_le_bytes([*lo, *hi])), rest),
        _ => return data.to_vec(),
    };
    let mut parts = rest.splitn(3, |&b| b == 0);
    let head = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let tail = parts.next().unwrap_or_default();
    let mut out = head.to_vec();
    if !body.is_empty() {
        let n = count.min(MAX_EXPANDED / body.len());
        out.reserve(n * body.len() + tail.len());
        for _ in 0..n {
            out.extend_from_slice(body);
        }
    }
    out.extend_from_slice(tail);
    out
}

fuzz_target!(|data: &[u8]| {
    let bytes = expand(data);
    let (source, loaded) = match fimkit::syntax::decode_source(&bytes) {
        Ok(text) => (
            text.to_string(),
            fimkit::load_with_diagnostics(text, "fuzz"),
        ),
        Err((text, d)) => (
            text,
            fimkit::Loaded {
                model: None,
                diagnostics: vec![d],
            },
        ),
    };
    let has_error = loaded.diagnostics.iter().any(fimkit::Diagnostic::is_error);
    assert_eq!(loaded.model.is_some(), !has_error);
    for d in &loaded.diagnostics {
        assert!(d.help.is_some());
        for l in &d.labels {
            assert!(l.span.start <= l.span.end && l.span.end <= source.len());
        }
    }
    let text = fimkit::render::diagnostics::render_human(
        &loaded.diagnostics,
        "fuzz.fim",
        &source,
        fimkit::render::diagnostics::DiagnosticStyle::default(),
    );
    // Long source lines are cut: no quoted source line (`12 │ ...`) is long.
    for line in text.lines() {
        let quoted = line
            .trim_start()
            .split_once(" │ ")
            .is_some_and(|(n, _)| n.bytes().all(|b| b.is_ascii_digit()));
        if quoted {
            let max = fimkit::render::diagnostics::MAX_LINE_CHARS + 20;
            assert!(line.chars().count() <= max, "{line}");
        }
    }
});
