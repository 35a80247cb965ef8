//! The only module that renders diagnostics for people (rustc style, via
//! miette) or for programs (JSON).

use crate::diagnostic::{Diagnostic, Severity, line_col};
#[cfg(feature = "fancy")]
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};
use serde_json::{Value, json};

/// How to draw diagnostics.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiagnosticStyle {
    /// ANSI colours (only on a terminal).
    pub color: bool,
}

/// Render diagnostics like rustc: `file:line:col`, the source line, a
/// label under the span, and a help line. (Feature `fancy`, on with `cli`.)
#[cfg(feature = "fancy")]
pub fn render_human(
    diagnostics: &[Diagnostic],
    file_name: &str,
    source: &str,
    style: DiagnosticStyle,
) -> String {
    let mut theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // The severity and code go into the headline, rustc style.
    theme.characters.error = String::new();
    theme.characters.warning = String::new();
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for d in diagnostics {
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut m = MietteDiagnostic::new(format!("{kind}[{}]: {}", d.code, d.message))
            .with_severity(match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            });
        let labels: Vec<LabeledSpan> = d
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let start = l.span.start.min(source.len());
                let len = l.span.end.min(source.len()).saturating_sub(start);
                if i == 0 {
                    LabeledSpan::new_primary_with_span(Some(l.message.clone()), (start, len))
                } else {
                    LabeledSpan::new_with_span(Some(l.message.clone()), (start, len))
                }
            })
            .collect();
        m = m.with_labels(labels);
        if let Some(h) = &d.help {
            m = m.with_help(h.clone());
        }
        let report = miette::Report::new(m)
            .with_source_code(NamedSource::new(file_name, source.to_string()));
        let mut text = String::new();
        if handler.render_report(&mut text, report.as_ref()).is_ok() {
            // miette indents the headline by the (empty) severity icon.
            out.push_str(text.trim_start_matches(' '));
        }
        out.push('\n');
    }
    out
}

/// Diagnostics as JSON objects with 1-based line and column.
pub fn to_json(diagnostics: &[Diagnostic], file_name: &str, source: &str) -> Value {
    let items: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let labels: Vec<Value> = d
                .labels
                .iter()
                .map(|l| {
                    let (line, col) = line_col(source, l.span.start);
                    let (end_line, end_col) = line_col(source, l.span.end);
                    json!({
                        "message": l.message, "start": l.span.start, "end": l.span.end,
                        "line": line, "col": col, "end_line": end_line, "end_col": end_col,
                    })
                })
                .collect();
            let (line, col) = line_col(source, d.span().start);
            json!({
                "severity": d.severity, "code": d.code, "message": d.message,
                "file": file_name, "line": line, "col": col,
                "labels": labels, "help": d.help,
            })
        })
        .collect();
    Value::Array(items)
}
