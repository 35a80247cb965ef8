//! The only module that renders diagnostics for people (rustc style, via
//! miette) or for programs (JSON).
//!
//! miette draws the source as it is given, and panics when a label starts
//! past column 65,535 (a formatting width is a `u16`). So it is never given
//! the source itself but an `Excerpt`: the same lines, with every line
//! longer than [`MAX_LINE_CHARS`] cut to a window around its labels with an
//! ellipsis on the cut sides, as rustc does. The header's `line:col` is the
//! position in the original source, in characters, as in the JSON output.

#[cfg(feature = "fancy")]
use crate::diagnostic::Severity;
use crate::diagnostic::{Diagnostic, line_col};
#[cfg(feature = "fancy")]
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};
use serde_json::{Value, json};

/// How to draw diagnostics.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiagnosticStyle {
    /// ANSI colours (only on a terminal).
    pub color: bool,
}

/// Lines longer than this (in characters) are cut around their labels.
pub const MAX_LINE_CHARS: usize = 120;

/// Characters of a cut line shown.
#[cfg(feature = "fancy")]
const WINDOW_CHARS: usize = 100;

/// Characters shown before the first label in a cut line.
#[cfg(feature = "fancy")]
const CONTEXT_CHARS: usize = 40;

#[cfg(feature = "fancy")]
const ELLIPSIS: &str = "…";

/// Labels whose context lines are at most this many lines apart are shown
/// in one snippet with the lines between; farther apart, in two.
#[cfg(feature = "fancy")]
const MERGE_GAP: usize = 50;

/// Render diagnostics like rustc: `file:line:col`, the source line, a
/// label under the span, and a help line. (Feature `fancy`, on with `cli`.)
///
/// ```
/// use fimkit::render::diagnostics::{render_human, DiagnosticStyle};
/// // A warning 70,000 columns into a line: the line is cut around it.
/// let source = format!("param mu : real\ndata x : real\nx ~ normal(mu, 1);{}param unused : real\n", " ".repeat(70_000));
/// let loaded = fimkit::load_with_diagnostics(&source, "m");
/// let text = render_human(&loaded.diagnostics, "m.fim", &source, DiagnosticStyle::default());
/// assert!(text.contains("[m.fim:3:70019]"));
/// assert!(text.lines().all(|l| l.chars().count() < 200));
/// ```
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
    let lines = source_lines(source);
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
        let spans: Vec<(usize, usize)> = d
            .labels
            .iter()
            .map(|l| {
                let start = l.span.start.min(source.len());
                (start, l.span.end.min(source.len()).max(start))
            })
            .collect();
        let excerpt = Excerpt::new(file_name, source, &lines, &spans);
        let labels: Vec<LabeledSpan> = d
            .labels
            .iter()
            .zip(&spans)
            .enumerate()
            .map(|(i, (l, &(start, end)))| {
                let (vs, ve) = (excerpt.map(start, false), excerpt.map(end, true));
                let span = (vs, ve.max(vs) - vs);
                if i == 0 {
                    LabeledSpan::new_primary_with_span(Some(l.message.clone()), span)
                } else {
                    LabeledSpan::new_with_span(Some(l.message.clone()), span)
                }
            })
            .collect();
        m = m.with_labels(labels);
        if let Some(h) = &d.help {
            m = m.with_help(h.clone());
        }
        let report = miette::Report::new(m).with_source_code(excerpt);
        let mut text = String::new();
        if handler.render_report(&mut text, report.as_ref()).is_ok() {
            // miette indents the headline by the (empty) severity icon.
            out.push_str(text.trim_start_matches(' '));
        }
        out.push('\n');
    }
    out
}

/// A line of the original source: byte range without its `\n`, and its
/// length in characters.
#[cfg(feature = "fancy")]
#[derive(Clone, Copy, Debug)]
struct SourceLine {
    start: usize,
    end: usize,
    chars: usize,
}

/// The source's lines (split at `\n` only, as [`line_col`] counts them).
#[cfg(feature = "fancy")]
fn source_lines(source: &str) -> Vec<SourceLine> {
    let mut lines = Vec::new();
    let mut start = 0;
    for piece in source.split('\n') {
        let end = start + piece.len();
        lines.push(SourceLine {
            start,
            end,
            chars: piece.chars().count(),
        });
        start = end + 1;
    }
    lines
}

/// One line of an [`Excerpt`]: where it starts in the excerpt and in the
/// original, and, for a cut line, the window of the original shown.
#[cfg(feature = "fancy")]
#[derive(Clone, Copy, Debug)]
struct ExcerptLine {
    /// 0-based line number in the original.
    number: usize,
    /// Offset of the line in the excerpt.
    virtual_start: usize,
    /// Offset of the line in the original source.
    start: usize,
    /// Original bytes `start + window.0 .. start + window.1` are shown,
    /// after `prefix` bytes (an ellipsis, or nothing).
    window: (usize, usize),
    /// Bytes before the window in the excerpt line (0 or the ellipsis).
    prefix: usize,
    /// Characters of the original line before the window.
    window_chars: usize,
    /// Bytes of the excerpt line (without its `\n`).
    virtual_len: usize,
}

/// The source as miette sees it: the lines of one diagnostic's labels and
/// their context, long lines cut to a window around the labels with an
/// ellipsis (tabs in it shown as spaces), a leading byte-order mark left
/// out, a lone `\r` shown as a space (miette would count it as a line
/// break). Line numbers are the original's; offsets are mapped with
/// [`Excerpt::map`].
#[cfg(feature = "fancy")]
struct Excerpt {
    name: String,
    text: String,
    lines: Vec<ExcerptLine>,
}

#[cfg(feature = "fancy")]
impl Excerpt {
    /// `spans` are the labels' byte ranges in `source`, primary first.
    ///
    /// Only the lines of the labels (all lines of a label that spans
    /// several) and one line of context on each side (miette shows one) are
    /// copied: a file with thousands of diagnostics is not copied and
    /// scanned whole for each of them, and labels far apart are shown as
    /// separate snippets.
    fn new(name: &str, source: &str, lines: &[SourceLine], spans: &[(usize, usize)]) -> Excerpt {
        let line_of = |o: usize| lines.partition_point(|l| l.start <= o).saturating_sub(1);
        let last_line = lines.len().saturating_sub(1);
        let mut wanted: Vec<usize> = spans
            .iter()
            .flat_map(|&(s, e)| line_of(s).saturating_sub(1)..=(line_of(e) + 1).min(last_line))
            .collect();
        if wanted.is_empty() {
            wanted.push(0);
        }
        wanted.sort_unstable();
        wanted.dedup();
        // Labels up to MERGE_GAP lines apart are one snippet: copy the
        // lines between them too.
        let mut filled = Vec::with_capacity(wanted.len());
        for (k, &i) in wanted.iter().enumerate() {
            if let Some(&prev) = k.checked_sub(1).and_then(|p| wanted.get(p))
                && i - prev <= MERGE_GAP + 2
            {
                filled.extend(prev + 1..i);
            }
            filled.push(i);
        }
        let wanted = filled;
        let mut text = String::new();
        let mut out = Vec::with_capacity(wanted.len());
        for (k, &i) in wanted.iter().enumerate() {
            let l = &lines[i];
            let mut start = l.start;
            let mut chars = l.chars;
            if i == 0 && source[start..l.end].starts_with('\u{feff}') {
                start += '\u{feff}'.len_utf8();
                chars -= 1;
            }
            let line = &source[start..l.end];
            let virtual_start = text.len();
            let mut entry = ExcerptLine {
                number: i,
                virtual_start,
                start,
                window: (0, line.len()),
                prefix: 0,
                window_chars: 0,
                virtual_len: line.len(),
            };
            if chars <= MAX_LINE_CHARS {
                push_line(&mut text, line);
            } else {
                // Anchor the window at the first label that starts on this
                // line (the primary label first), else at one that ends here.
                let on_line = |o: usize| o >= start && o <= l.end;
                let anchor = spans
                    .iter()
                    .map(|s| s.0)
                    .find(|&s| on_line(s))
                    .or_else(|| spans.iter().map(|s| s.1).find(|&e| on_line(e)))
                    .map_or(0, |o| {
                        line[..floor_boundary(line, o - start)].chars().count()
                    });
                let first = anchor
                    .saturating_sub(CONTEXT_CHARS)
                    .min(chars.saturating_sub(WINDOW_CHARS));
                let last = (first + WINDOW_CHARS).min(chars);
                let byte_of = |c: usize| line.char_indices().nth(c).map_or(line.len(), |(b, _)| b);
                let (a, b) = (byte_of(first), byte_of(last));
                if a > 0 {
                    text.push_str(ELLIPSIS);
                }
                // A tab is one character but four columns to miette.
                push_line(&mut text, &line[a..b].replace('\t', " "));
                if b < line.len() {
                    text.push_str(ELLIPSIS);
                }
                entry.window = (a, b);
                entry.prefix = if a > 0 { ELLIPSIS.len() } else { 0 };
                entry.window_chars = first;
                entry.virtual_len = text.len() - virtual_start;
            }
            if k + 1 < wanted.len() {
                text.push('\n');
            }
            out.push(entry);
        }
        Excerpt {
            name: name.to_string(),
            text,
            lines: out,
        }
    }

    /// Index of the excerpt line holding an excerpt offset.
    fn line_at(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|l| l.virtual_start <= offset)
            .saturating_sub(1)
    }

    /// The excerpt offset of an original offset; an offset cut away maps
    /// to the ellipsis on its side (its start, or its end for `is_end`).
    fn map(&self, offset: usize, is_end: bool) -> usize {
        let i = self
            .lines
            .partition_point(|l| l.start <= offset)
            .saturating_sub(1);
        let Some(l) = self.lines.get(i) else {
            return 0;
        };
        let rel = offset.saturating_sub(l.start);
        let (a, b) = l.window;
        let v = if rel < a {
            if is_end { l.prefix } else { 0 }
        } else if rel > b {
            let at_suffix = l.prefix + (b - a);
            if is_end { l.virtual_len } else { at_suffix }
        } else {
            l.prefix + (rel - a)
        };
        l.virtual_start + v.min(l.virtual_len)
    }

    /// The original column (0-based, in characters) of an excerpt offset.
    fn column(&self, offset: usize) -> usize {
        let Some(l) = self.lines.get(self.line_at(offset)) else {
            return 0;
        };
        let line = &self.text[l.virtual_start..l.virtual_start + l.virtual_len];
        let rel = (offset - l.virtual_start).min(line.len());
        let shown_from = l.prefix.min(rel);
        let shown = &line[floor_boundary(line, shown_from)..floor_boundary(line, rel)];
        l.window_chars + shown.chars().count()
    }
}

#[cfg(feature = "fancy")]
fn push_line(text: &mut String, line: &str) {
    // A lone `\r` is a line break to miette but not to line_col.
    let mut rest = line;
    while let Some(i) = rest.find('\r') {
        text.push_str(&rest[..i]);
        text.push(if rest[i + 1..].is_empty() { '\r' } else { ' ' });
        rest = &rest[i + 1..];
    }
    text.push_str(rest);
}

#[cfg(feature = "fancy")]
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(feature = "fancy")]
impl SourceCode for Excerpt {
    /// Like miette's own `read_span` for text (the lines of the span and
    /// `before`/`after` lines of context; from the span's start when
    /// `before` is 0), with the original line numbers and column. Context
    /// stops at a gap between copied lines; a span across a gap (never
    /// asked for: a label's lines are all copied) is out of bounds.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let start = span.offset();
        let end = start + span.len();
        if end > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let (mut i, mut j) = (
            self.line_at(start),
            self.line_at(end.saturating_sub(1).max(start)),
        );
        if self.lines[i..=j]
            .windows(2)
            .any(|w| w[1].number != w[0].number + 1)
        {
            return Err(MietteError::OutOfBounds);
        }
        for _ in 0..context_lines_before {
            if i > 0 && self.lines[i - 1].number + 1 == self.lines[i].number {
                i -= 1;
            }
        }
        for _ in 0..context_lines_after {
            if j + 1 < self.lines.len() && self.lines[j].number + 1 == self.lines[j + 1].number {
                j += 1;
            }
        }
        let from = if context_lines_before == 0 {
            start
        } else {
            self.lines[i].virtual_start
        };
        let last = &self.lines[j];
        // The last line's `\n` too, as miette's own reader gives it.
        let to = (last.virtual_start + last.virtual_len + 1).min(self.text.len());
        let to = to.max(end);
        let column = if context_lines_before == 0 {
            self.column(start)
        } else {
            0
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[from..to],
            (from, to - from).into(),
            self.lines[i].number,
            column,
            // miette joins two snippets when the first's line plus this
            // count reaches the second's line.
            self.lines[j].number - self.lines[i].number + 1 + MERGE_GAP,
        )))
    }
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

#[cfg(all(test, feature = "fancy"))]
mod tests {
    use super::*;

    fn excerpt(source: &str, spans: &[(usize, usize)]) -> Excerpt {
        Excerpt::new("t", source, &source_lines(source), spans)
    }

    #[test]
    fn short_lines_are_kept_whole() {
        let src = "ab\ncd\n";
        let e = excerpt(src, &[(4, 5)]);
        assert_eq!(e.text, src);
        assert_eq!(e.map(4, false), 4);
        assert_eq!(e.column(4), 1);
    }

    #[test]
    fn a_long_line_is_cut_around_the_label() {
        let src = format!("x\n{}HERE{}\ny", "a".repeat(1000), "b".repeat(1000));
        let start = 2 + 1000;
        let e = excerpt(&src, &[(start, start + 4)]);
        let line = e.text.lines().nth(1).expect("second line");
        assert!(
            line.starts_with(ELLIPSIS) && line.ends_with(ELLIPSIS),
            "{line}"
        );
        assert_eq!(line.chars().count(), WINDOW_CHARS + 2);
        let v = e.map(start, false);
        assert_eq!(&e.text[v..v + 4], "HERE");
        assert_eq!(e.map(start + 4, true), v + 4);
        // The column is the original's.
        assert_eq!(e.column(v), 1000);
        // Offsets cut away map onto the ellipses.
        assert_eq!(e.map(3, false), 2);
        assert_eq!(e.map(2 + 2004, true), 2 + line.len());
        assert_eq!(e.text.lines().count(), 3);
    }

    #[test]
    fn a_leading_byte_order_mark_is_not_shown_or_counted() {
        let src = "\u{feff}param mu real";
        let e = excerpt(src, &[(9, 11)]);
        assert_eq!(e.text, "param mu real");
        let v = e.map(9, false);
        assert_eq!(&e.text[v..v + 2], "mu");
        assert_eq!(e.column(v), 6);
        assert_eq!(line_col(src, 9), (1, 7));
    }

    #[test]
    fn only_the_labelled_lines_and_their_context_are_copied() {
        let src = "line\n".repeat(10_000);
        let start = 5 * 4_999;
        let e = excerpt(&src, &[(start, start + 4)]);
        assert_eq!(e.text, "line\nline\nline");
        let v = e.map(start, false);
        assert_eq!(&e.text[v..v + 4], "line");
        let c = e.read_span(&(v, 4).into(), 0, 0).expect("span");
        assert_eq!((c.line(), c.column()), (4_999, 0));
        assert_eq!(line_col(&src, start), (5_000, 1));
    }

    #[test]
    fn labels_far_apart_are_separate_snippets_with_their_line_numbers() {
        let src = "line\n".repeat(10_000);
        let d = Diagnostic::error("X0000", "m", crate::Span::new(10, 14), "here")
            .with_label(crate::Span::new(5 * 8_000, 5 * 8_000 + 4), "and here")
            .with_help("h");
        let text = render_human(&[d], "t", &src, DiagnosticStyle::default());
        assert!(text.contains("[t:3:1]"), "{text}");
        assert!(
            text.contains(" 3 │ line") && text.contains(" 8001 │ line"),
            "{text}"
        );
        assert!(text.lines().count() < 20, "{text}");
    }

    #[test]
    fn a_lone_carriage_return_is_not_a_line_break() {
        let e = excerpt("a\rb\r\nc", &[(0, 1)]);
        assert_eq!(e.text, "a b\r\nc");
    }
}
