//! Renderer-neutral diagnostics.
//!
//! Every stage reports problems as [`Diagnostic`] values with byte spans into
//! the model source; only `render::diagnostics` turns them into text (rustc
//! style, via miette) or JSON. Stages collect diagnostics instead of stopping
//! at the first.

use serde::Serialize;

/// A byte range `start..end` in the model source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A new span.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<pest::Span<'_>> for Span {
    fn from(s: pest::Span<'_>) -> Span {
        Span::new(s.start(), s.end())
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The model is wrong; nothing is derived from it.
    Error,
    /// The model is accepted but probably not what was meant.
    Warning,
}

/// A labelled place in the source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there.
    pub message: String,
}

/// One problem found in a model file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code such as `E0101`, documented in docs/diagnostics.md.
    pub code: &'static str,
    /// One-line description of what is wrong.
    pub message: String,
    /// The primary label comes first.
    pub labels: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A new error with a primary label.
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: vec![Label {
                span,
                message: label.into(),
            }],
            help: None,
        }
    }

    /// A new warning with a primary label.
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span, label)
        }
    }

    /// Add a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Add a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// The primary span.
    pub fn span(&self) -> Span {
        self.labels.first().map(|l| l.span).unwrap_or_default()
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `error[E0101]: message`, then `  help: ...` (no source position: see
/// [`crate::ModelError`] for diagnostics with `file:line:col`).
///
/// ```
/// let d = fimkit::Diagnostic::error("E0101", "unknown name `sigam`", fimkit::Span::new(0, 5), "not declared")
///     .with_help("did you mean `sigma`?");
/// assert_eq!(d.to_string(), "error[E0101]: unknown name `sigam`\n  help: did you mean `sigma`?");
/// ```
impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{kind}[{}]: {}", self.code, self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// 1-based line and column (in characters) of a byte offset. A leading
/// byte-order mark is not a column: editors do not show it.
///
/// ```
/// use fimkit::diagnostic::line_col;
/// assert_eq!(line_col("ab\ncd", 4), (2, 2));
/// assert_eq!(line_col("\u{feff}ab", 4), (1, 2));
/// ```
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let last = before.rsplit('\n').next().unwrap_or("");
    let last = if line == 1 {
        last.strip_prefix('\u{feff}').unwrap_or(last)
    } else {
        last
    };
    (line, last.chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Suggest the closest candidate to `name` (for "did you mean ...?").
///
/// A candidate must share at least one character position with the name
/// (so `a` does not suggest `e`) and be within about a third of its length
/// in edit distance, or be very similar by Jaro–Winkler.
///
/// ```
/// use fimkit::diagnostic::did_you_mean;
/// assert_eq!(did_you_mean("sigam", ["sigma", "mu"]), Some("sigma"));
/// assert_eq!(did_you_mean("a", ["e", "mu"]), None);
/// ```
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| {
            let shorter = name.chars().count().min(c.chars().count());
            *d < shorter
                && (*d <= (name.len().max(c.len()) / 3).max(1)
                    || strsim::jaro_winkler(name, c) > 0.9)
        })
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let src = "ab\ncd\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 4), (2, 2));
        assert_eq!(line_col(src, 99), (3, 1));
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("sigam", ["sigma", "mu"]), Some("sigma"));
        assert_eq!(did_you_mean("zzz", ["sigma", "mu"]), None);
        assert_eq!(did_you_mean("mu", ["nu"]), Some("nu"));
        assert_eq!(did_you_mean("a", ["e"]), None);
        assert_eq!(did_you_mean("parm", ["param", "data"]), Some("param"));
    }
}
