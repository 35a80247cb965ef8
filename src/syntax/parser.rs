//! pest → spanned AST, with readable syntax errors and recovery so that
//! several syntax errors in one file are all reported.

use super::ast::*;
use crate::diagnostic::{Diagnostic, Span, did_you_mean};
use crate::exact::parse_decimal;
use pest::Parser;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "grammar/model.pest"]
struct ModelParser;

/// Deepest nesting of expressions accepted; deeper input gets a diagnostic
/// instead of exhausting the stack.
pub const MAX_DEPTH: usize = 200;

/// Largest exact number a literal may write, in bits (numerator plus
/// denominator): the resolver's default limit on exact constants.
pub const MAX_LITERAL_BITS: u64 = 1 << 17;

/// Largest model file accepted, in bytes.
pub const MAX_SOURCE_LEN: usize = 1 << 20;

/// Most rule calls pest may make for one parse (a guard against runaway
/// backtracking). A plain sum takes about 16 calls per byte; the limit
/// leaves room for 64 per byte of the largest file accepted.
const PEST_CALL_LIMIT: usize = 64 * MAX_SOURCE_LEN;

/// Most syntax errors reported for one file.
const MAX_SYNTAX_ERRORS: usize = 10;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
        .op(Op::prefix(Rule::neg))
        .op(Op::infix(Rule::pow, Assoc::Right))
});

const STATEMENT_KEYWORDS: [&str; 8] = [
    "model",
    "const",
    "param",
    "data",
    "covariate",
    "let",
    "logp",
    "coords",
];

/// Parse a model source into its AST, or the syntax errors found.
///
/// ```
/// let file = fimkit::syntax::parse("param mu : real\ndata x : real\nx ~ normal(mu, 1)").unwrap();
/// assert_eq!(file.statements.len(), 3);
/// ```
pub fn parse(source: &str) -> Result<File, Vec<Diagnostic>> {
    let parsed = parse_recovering(source);
    match parsed.file {
        Some(file) if parsed.errors.is_empty() => Ok(file),
        _ => Err(parsed.errors),
    }
}

/// What [`parse_recovering`] found.
#[derive(Debug)]
pub struct Parsed {
    /// The AST of the statements that parsed: the whole file when there was
    /// no syntax error; the rest of it when statements with syntax errors
    /// could be skipped; `None` when no sensible AST remains.
    pub file: Option<File>,
    /// Syntax errors, in source order.
    pub errors: Vec<Diagnostic>,
    /// Names declared by the statements skipped because of syntax errors, so
    /// that later stages do not report their uses as unknown.
    pub skipped_names: Vec<String>,
}

/// Parse a model source, skipping statements with syntax errors so that the
/// rest of the file can still be checked.
///
/// ```
/// let p = fimkit::syntax::parse_recovering("param mu real\ndata x : real\nx ~ normal(mu, 1)");
/// assert_eq!(p.errors.len(), 1);
/// assert_eq!(p.skipped_names, ["mu"]);
/// assert_eq!(p.file.unwrap().statements.len(), 2);
/// ```
pub fn parse_recovering(source: &str) -> Parsed {
    let fail = |errors: Vec<Diagnostic>| Parsed {
        file: None,
        errors,
        skipped_names: Vec::new(),
    };
    if source.len() > MAX_SOURCE_LEN {
        return fail(vec![Diagnostic::error(
            "E0001",
            format!("model file is too large ({} bytes)", source.len()),
            Span::new(0, 0),
            "file starts here",
        )
        .with_help(format!("model files are limited to {MAX_SOURCE_LEN} bytes; use sum(...) and indexed declarations instead of writing terms out"))]);
    }
    if let Some(d) = check_nesting(source) {
        return fail(vec![d]);
    }
    pest::set_error_detail(true);
    pest::set_call_limit(Some(
        std::num::NonZeroUsize::new(PEST_CALL_LIMIT).expect("nonzero"),
    ));
    let mut text = source.to_string();
    // A leading byte-order mark (some editors write one) is whitespace:
    // three spaces keep every offset.
    if text.starts_with('\u{feff}') {
        text.replace_range(..'\u{feff}'.len_utf8(), "   ");
    }
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut skipped_names = Vec::new();
    loop {
        match ModelParser::parse(Rule::file, &text) {
            Ok(mut pairs) => {
                let file = pairs.next().expect("file rule");
                let mut cx = Builder::default();
                let ast = cx.file(file);
                if !cx.errors.is_empty() {
                    // Over-deep expressions and bad numbers were replaced by
                    // placeholders: checking further would report on those.
                    errors.extend(cx.errors);
                    errors.sort_by_key(|d| d.span().start);
                    return fail(errors);
                }
                return Parsed {
                    file: Some(ast),
                    errors,
                    skipped_names,
                };
            }
            Err(e) => {
                let pos = match e.location {
                    pest::error::InputLocation::Pos(p) => p,
                    pest::error::InputLocation::Span((p, _)) => p,
                };
                if let pest::error::ErrorVariant::CustomError { message } = &e.variant {
                    // pest's call or stack limit: no statement is at fault.
                    errors.push(
                        Diagnostic::error(
                            "E0002",
                            "the model is too complex to parse",
                            Span::new(pos, pos),
                            format!("the parser stopped here ({message})"),
                        )
                        .with_help("split long expressions with `let`, and write repeated terms with sum(...) over indexed names"),
                    );
                    return fail(errors);
                }
                let d = syntax_error(&text, &e, pos);
                // Everything after a bracket that is never closed is inside
                // it: there is nothing sensible to resume at.
                let unclosed = d.message.ends_with("is never closed");
                errors.push(d);
                if unclosed
                    || errors.len() >= MAX_SYNTAX_ERRORS
                    || !blank_statement_at(&mut text, pos, &mut skipped_names)
                {
                    return fail(errors);
                }
            }
        }
    }
}

/// The model source in a file's bytes, or, when they are not UTF-8, the
/// text with each invalid sequence replaced by U+FFFD (same offsets up to
/// the first one) and a diagnostic at the first invalid byte.
///
/// ```
/// let (text, d) = fimkit::syntax::decode_source(b"param mu : real # caf\xe9\n").unwrap_err();
/// assert_eq!(d.code, "E0006");
/// assert_eq!(fimkit::diagnostic::line_col(&text, d.span().start), (1, 22));
/// assert_eq!(fimkit::syntax::decode_source(b"param mu : real").unwrap(), "param mu : real");
/// ```
pub fn decode_source(bytes: &[u8]) -> Result<&str, (String, Diagnostic)> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let at = e.valid_up_to();
            let text = String::from_utf8_lossy(bytes).into_owned();
            let shown: Vec<String> = bytes[at..at + e.error_len().unwrap_or(bytes.len() - at)]
                .iter()
                .take(4)
                .map(|b| format!("0x{b:02X}"))
                .collect();
            let d = Diagnostic::error(
                "E0006",
                "the model file is not valid UTF-8",
                Span::new(at, at + '\u{fffd}'.len_utf8()),
                if shown.len() == 1 {
                    format!("byte {} is not UTF-8", shown[0])
                } else {
                    format!("bytes {} are not UTF-8", shown.join(" "))
                },
            )
            .with_help("save the file as UTF-8 (model files are text; names and operators are ASCII, comments may be any Unicode)");
            Err((text, d))
        }
    }
}

/// Bytes of the source outside comments, with their offsets.
fn code_bytes(source: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut in_comment = false;
    source.bytes().enumerate().filter(move |&(_, b)| {
        if in_comment {
            in_comment = b != b'\n';
            return false;
        }
        if b == b'#' {
            in_comment = true;
            return false;
        }
        true
    })
}

/// Reject input whose nesting would make the parser recurse too deep:
/// brackets, right-associative `^` chains and runs of unary minus.
fn check_nesting(source: &str) -> Option<Diagnostic> {
    let too_deep = |i: usize, what: String, help: &str| {
        Some(
            Diagnostic::error("E0002", what, Span::new(i, i + 1), "one level too many")
                .with_help(help.to_string()),
        )
    };
    let (mut depth, mut carets, mut minus_run) = (0usize, 0usize, 0usize);
    for (i, b) in code_bytes(source) {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return too_deep(
                        i,
                        "brackets nested too deeply".into(),
                        "expressions may nest at most 200 levels; name intermediate results with `let`",
                    );
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'^' => {
                carets += 1;
                if carets > 4 * MAX_DEPTH {
                    return too_deep(
                        i,
                        format!("too many `^` operators (more than {})", 4 * MAX_DEPTH),
                        "use sum(...) or prod(...) over indexed names",
                    );
                }
            }
            _ => {}
        }
        match b {
            b'-' => {
                minus_run += 1;
                if minus_run > 16 {
                    return too_deep(
                        i,
                        "too many minus signs in a row".into(),
                        "write a single `-` (two minus signs cancel)",
                    );
                }
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => minus_run = 0,
        }
    }
    None
}

/// Start offsets of the lines that begin a statement.
fn statement_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let word: String = trimmed
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let rest = trimmed[word.len()..].trim_start();
        let is_start = STATEMENT_KEYWORDS.contains(&word.as_str())
            || word == "for"
            || (!word.is_empty() && (rest.starts_with('~') || rest.starts_with('[')))
            || trimmed.starts_with('}');
        if is_start {
            starts.push(offset + lead);
        }
        offset += line.len();
    }
    starts
}

/// Replace the statement containing `pos` by spaces (keeping offsets), so
/// parsing can resume at the next statement, and note the names the blanked
/// lines declare. Returns false if nothing could be blanked.
fn blank_statement_at(text: &mut String, pos: usize, declared: &mut Vec<String>) -> bool {
    let starts = statement_starts(text);
    let begin = starts
        .iter()
        .rev()
        .find(|&&s| s <= pos)
        .copied()
        .unwrap_or(0);
    let end = starts
        .iter()
        .find(|&&s| s > pos)
        .copied()
        .unwrap_or(text.len());
    if begin >= end {
        return false;
    }
    // A blanked `for` or `coords` header takes its `{ ... }` body with it,
    // so the body's `}` is not reported as unmatched.
    let mut depth = 0usize;
    let mut end = end;
    for (i, b) in code_bytes(text).skip_while(|&(i, _)| i < begin) {
        if i >= end && depth == 0 {
            break;
        }
        match b {
            b'{' => depth += 1,
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 && i >= end {
                    end = i + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    for line in text[begin..end].lines() {
        // `param mu real`, or a declaration with a misspelt keyword such as
        // `parm mu : real`.
        let (word, _, rest) = first_word(line);
        let (name, _, after) = first_word(rest);
        let keyword = ["const", "param", "data", "covariate", "let"].contains(&word);
        let shaped = after.trim_start().starts_with([':', '=', '[']);
        if !name.is_empty()
            && !RESERVED.contains(&name)
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && (keyword || shaped)
        {
            declared.push(name.to_string());
        }
    }
    // One space per byte, so that the offsets after it stay right.
    let blanked: String = text[begin..end]
        .bytes()
        .map(|b| if b == b'\n' { '\n' } else { ' ' })
        .collect();
    let changed = blanked != text[begin..end];
    text.replace_range(begin..end, &blanked);
    changed
}

fn rule_name(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident => "a name",
        Rule::number => "a number",
        Rule::expr | Rule::primary => "an expression",
        Rule::domain => "a domain",
        Rule::support => "a support",
        Rule::EOI => "end of file",
        Rule::args => "arguments",
        Rule::range => "a range `lo..hi`",
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::pow => "an operator",
        _ => return None,
    })
}

/// A literal token from pest's parse attempts, as `\`tok\``; ranges and
/// built-in rules are left out.
fn token_text(t: &impl std::fmt::Display) -> Option<String> {
    let s = t.to_string();
    if s == "BUILTIN_RULE" || (s.contains("..") && s.chars().count() == 4) || s.trim().is_empty() {
        None
    } else {
        Some(format!("`{s}`"))
    }
}

/// Every reserved word of the language.
const RESERVED: [&str; 12] = [
    "model",
    "const",
    "param",
    "data",
    "covariate",
    "let",
    "logp",
    "coords",
    "for",
    "in",
    "sum",
    "prod",
];

const STATEMENT_HELP: &str = "a statement starts with model, const, param, data, covariate, let, logp +=, coords, for, or `NAME ~ family(...)`";
const DOMAIN_HELP: &str =
    "a parameter's domain is real, positive, negative, unit, or an open interval (lo, hi)";
const SUPPORT_HELP: &str = "a data support is real, positive, unit, count, simplex, an interval (lo, hi), a set {0, 1}, or an integer range a..b / a..";

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The span of the token starting at `pos`: a word or number, a
/// two-character operator, or one character; empty at the end of the file.
fn token_at(text: &str, pos: usize) -> Span {
    let rest = &text[pos..];
    let Some(c) = rest.chars().next() else {
        return Span::new(pos, pos);
    };
    let len = if is_word_char(c) {
        rest.find(|ch: char| !is_word_char(ch))
            .unwrap_or(rest.len())
    } else if ["**", "+=", "..", "==", "<-", ":="]
        .iter()
        .any(|op| rest.starts_with(op))
    {
        2
    } else {
        c.len_utf8()
    };
    Span::new(pos, pos + len)
}

/// The first word of a line and where it starts, plus the text after it.
fn first_word(line: &str) -> (&str, usize, &str) {
    let lead = line.len() - line.trim_start().len();
    let trimmed = &line[lead..];
    let end = trimmed
        .find(|c: char| !is_word_char(c))
        .unwrap_or(trimmed.len());
    (&trimmed[..end], lead, &trimmed[end..])
}

/// The innermost bracket still open at `pos`, outside comments.
fn open_bracket_at(text: &str, pos: usize) -> Option<(usize, u8)> {
    let mut stack: Vec<(usize, u8)> = Vec::new();
    for (i, b) in code_bytes(text) {
        if i >= pos {
            break;
        }
        match b {
            b'(' | b'[' | b'{' => stack.push((i, b)),
            b')' | b']' | b'}' if stack.last().is_some_and(|&(_, o)| closer(o) == b) => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

fn closer(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

/// Does a statement start at `pos` (a statement keyword, or `NAME ~`)?
fn starts_statement(text: &str, pos: usize) -> bool {
    let (word, _, rest) = first_word(&text[pos..]);
    STATEMENT_KEYWORDS.contains(&word) || word == "for" || {
        let rest = rest.trim_start();
        !word.is_empty() && (rest.starts_with('~') || (rest.starts_with('[') && rest.contains('~')))
    }
}

/// Turn a pest error into a diagnostic with a readable expectation and a
/// hint. `text` is the source with earlier bad statements blanked out (same
/// offsets).
fn syntax_error(text: &str, e: &pest::error::Error<Rule>, pos: usize) -> Diagnostic {
    let found_span = token_at(text, pos);
    let found = &text[found_span.start..found_span.end];
    let found_desc = if found.is_empty() {
        "end of file".to_string()
    } else {
        format!("`{found}`")
    };
    let expected = expected_tokens(e);
    let wants = |t: &str| expected.iter().any(|x| x == t);

    if let Some(d) = line_mistake(text, pos, found_span, &expected) {
        return d;
    }

    // `**` for a power: the first `*` parsed as a product.
    if found == "*" && text[..pos].ends_with('*') || found == "**" {
        let start = if found == "**" { pos } else { pos - 1 };
        return Diagnostic::error(
            "E0004",
            "`**` is not an operator",
            Span::new(start, start + 2),
            "not an operator",
        )
        .with_help("powers are written with `^`, as in x^2");
    }

    // Brackets: a closer without an opener, or an opener never closed.
    let open = open_bracket_at(text, pos);
    if let Some(&c) = found.as_bytes().first()
        && matches!(c, b')' | b']' | b'}')
        && open.is_none_or(|(_, o)| closer(o) != c)
    {
        let opener = match c {
            b')' => '(',
            b']' => '[',
            _ => '{',
        };
        return Diagnostic::error(
            "E0004",
            format!("unmatched `{found}`"),
            found_span,
            format!("no `{opener}` to close"),
        )
        .with_help(format!("remove it, or add the matching `{opener}`"));
    }
    if let Some((at, o)) = open {
        let close = closer(o) as char;
        let at_statement = found.is_empty() || starts_statement(text, pos);
        if at_statement && wants(&format!("`{close}`")) {
            let open_ch = o as char;
            let (where_, span) = if found.is_empty() {
                let end = text.trim_end().len();
                (format!("expected `{close}` here"), Span::new(end, end))
            } else {
                (
                    format!("expected `{close}` before this statement"),
                    found_span,
                )
            };
            return Diagnostic::error(
                "E0004",
                format!("`{open_ch}` is never closed"),
                Span::new(at, at + 1),
                "opened here",
            )
            .with_label(span, where_)
            .with_help(format!("add the missing `{close}`"));
        }
    }

    // A domain or a support was expected.
    let wants_domain = wants("a domain");
    if wants_domain || wants("a support") {
        let category = if wants_domain {
            "a domain"
        } else {
            "a support"
        };
        let choices: &[&str] = if wants_domain {
            &["real", "positive", "negative", "unit"]
        } else {
            &["real", "positive", "unit", "count", "simplex"]
        };
        let d = Diagnostic::error(
            "E0004",
            format!("expected {category}, found {found_desc}"),
            found_span,
            format!("not {category}"),
        );
        let word = if found.chars().all(is_word_char) {
            found
        } else {
            ""
        };
        return match did_you_mean(word, choices.iter().copied()) {
            Some(s) if !word.is_empty() => d.with_help(format!("did you mean `{s}`?")),
            _ if wants_domain => d.with_help(DOMAIN_HELP),
            _ => d.with_help(SUPPORT_HELP),
        };
    }

    let statement_level = wants("`param`") || wants("`data`");
    let message = if statement_level {
        format!("expected a statement, found {found_desc}")
    } else if expected.is_empty() {
        format!("unexpected {found_desc}")
    } else {
        format!("expected {}, found {found_desc}", join_or(&expected))
    };
    let label = if statement_level {
        "a statement cannot start here"
    } else {
        "unexpected here"
    };
    let help = if statement_level {
        STATEMENT_HELP.to_string()
    } else if wants("an expression") {
        if found.starts_with([')', ',', ']', '}', ';']) || found.is_empty() {
            "an operand is missing before this token".to_string()
        } else {
            "write a number, a name, a call such as log(x), or a parenthesised expression"
                .to_string()
        }
    } else if wants("`:`") {
        "declarations read `param NAME : DOMAIN`, `data NAME : SUPPORT`, `covariate NAME : DOMAIN`"
            .to_string()
    } else if wants("`=`") {
        "write `const NAME = value`, `let NAME = expr`, or `PARAM = expr` in a coords block"
            .to_string()
    } else if wants("`~`") {
        "a distribution statement reads `x ~ family(args)`".to_string()
    } else if wants("`in`") {
        "loops read `for k in 1..K { ... }` and sums `sum(k in 1..K, expr)`".to_string()
    } else if wants("`..`") {
        "a range reads `lo..hi`, both ends integers".to_string()
    } else if wants("`{`") {
        "the body of a `for` loop or a coords block goes between `{` and `}`".to_string()
    } else if wants("`,`") && wants("`)`") {
        "separate arguments with `,` and close the call with `)`".to_string()
    } else if wants("an operator") {
        "two operands need an operator between them, such as `*`".to_string()
    } else {
        "see docs/language.md for the statements of the language".to_string()
    };
    Diagnostic::error("E0004", message, found_span, label).with_help(help)
}

/// What pest expected at the error, in readable form and without the noise
/// of every token that could start an expression.
fn expected_tokens(e: &pest::error::Error<Rule>) -> Vec<String> {
    let mut expected: Vec<String> = Vec::new();
    if let Some(attempts) = e.parse_attempts() {
        expected.extend(attempts.expected_tokens().iter().filter_map(token_text));
    }
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant {
        for r in positives {
            if let Some(n) = rule_name(r) {
                expected.push(n.to_string());
            } else if let Some(kw) = keyword_of(r) {
                expected.push(format!("`{kw}`"));
            }
        }
    }
    let has = |xs: &[String], t: &str| xs.iter().any(|x| x == t);
    expected.retain(|t| t != "`#`");
    if has(&expected, "a name") {
        expected.retain(|t| t != "`_`");
    }
    if has(&expected, "a number") || has(&expected, "an expression") {
        let starts = [
            "`(`", "`-`", "`[`", "`_`", "`prod`", "`sum`", "a name", "a number",
        ];
        expected.retain(|t| !starts.contains(&t.as_str()));
        expected.push("an expression".to_string());
    }
    if has(&expected, "an operator") {
        // `(` and `[` continue a name into a call or an index; listing them
        // after every name is noise.
        let ops = ["`*`", "`+`", "`-`", "`/`", "`^`", "`(`", "`[`"];
        expected.retain(|t| !ops.contains(&t.as_str()));
    }
    expected.sort_by_key(|t| (!t.starts_with('`'), t.clone()));
    expected.dedup();
    expected
}

/// Mistakes recognised from the shape of the line the error is on.
fn line_mistake(text: &str, pos: usize, found: Span, expected: &[String]) -> Option<Diagnostic> {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    let line = &text[line_start..line_end];
    let (word, lead, rest) = first_word(line);
    let word_span = Span::new(line_start + lead, line_start + lead + word.len());
    let found_text = &text[found.start..found.end];
    let keyword_as_name = |kw: &str, span: Span| {
        Diagnostic::error(
            "E0004",
            format!("`{kw}` is a keyword and cannot be used as a name"),
            span,
            "reserved word",
        )
        .with_help(format!(
            "choose another name, such as `{kw}1`; reserved words are {}",
            RESERVED.join(", ")
        ))
    };
    let rest_trim = rest.trim_start();

    // A `model` header after other statements.
    if word == "model" && pos <= word_span.start && line_start > 0 {
        let header_end = line_start + line.trim_end().len();
        return Some(
            Diagnostic::error(
                "E0004",
                "the `model` header must come first",
                Span::new(word_span.start, header_end),
                "after other statements",
            )
            .with_help(format!(
                "move `{}` to the top of the file (comments may precede it)",
                line.trim()
            )),
        );
    }
    if word == "logp" && !rest_trim.starts_with("+=") {
        let at = line_end - rest_trim.len();
        let tok = token_at(text, at);
        let shown = &text[tok.start..tok.end];
        let found_desc = if shown.is_empty() {
            "end of line".to_string()
        } else {
            format!("`{shown}`")
        };
        return Some(
            Diagnostic::error(
                "E0004",
                format!("expected `+=` after `logp`, found {found_desc}"),
                if tok.start == tok.end { word_span } else { tok },
                "expected `+=`",
            )
            .with_help("the log-density is accumulated with `logp += expr`"),
        );
    }
    // A reserved word where a name is expected: `data data : real`.
    if RESERVED.contains(&found_text) && expected.iter().any(|t| t == "a name") {
        return Some(keyword_as_name(found_text, found));
    }
    // A reserved word on the left of `~`: `data ~ normal(mu, 1)`.
    if RESERVED.contains(&word) && (rest_trim.starts_with('~')) {
        return Some(keyword_as_name(word, word_span));
    }
    if word.is_empty()
        || RESERVED.contains(&word)
        || word.starts_with(|c: char| c.is_ascii_digit())
        || pos < word_span.start
        || pos > line_end - rest_trim.len()
        || !starts_fresh_line(text, line_start)
    {
        return None;
    }
    let next_is_word = rest_trim.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    if !next_is_word {
        return None;
    }
    let keywords = STATEMENT_KEYWORDS.iter().copied().chain(["for"]);
    let d = Diagnostic::error(
        "E0003",
        format!("unknown statement `{word}`"),
        word_span,
        "not a statement keyword",
    );
    if let Some(k) = did_you_mean(word, keywords) {
        return Some(d.with_help(format!("did you mean `{k}`?")));
    }
    // `x normal(mu, 1)`: a name, then a call, with no `~` between.
    let (next, _, after) = first_word(rest_trim);
    if after.trim_start().starts_with('(') {
        let gap = word_span.end;
        return Some(
            Diagnostic::error(
                "E0004",
                format!("expected `~` between `{word}` and `{next}`"),
                Span::new(gap, gap + 1),
                "missing `~`",
            )
            .with_help(format!(
                "a distribution statement reads `{word} ~ {next}(...)`"
            )),
        );
    }
    Some(d.with_help(STATEMENT_HELP))
}

/// True when the previous code line (if any) ends a statement, so that the
/// line starting at `line_start` is not the continuation of an expression.
fn starts_fresh_line(text: &str, line_start: usize) -> bool {
    let before = text[..line_start].trim_end();
    let last_line = before.rsplit('\n').next().unwrap_or("");
    let code = last_line.split('#').next().unwrap_or("").trim_end();
    !code.ends_with(['+', '-', '*', '/', '^', '(', '[', ',', '=', '~', ':'])
}

fn keyword_of(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::kw_model => "model",
        Rule::kw_const => "const",
        Rule::kw_param => "param",
        Rule::kw_data => "data",
        Rule::kw_covariate => "covariate",
        Rule::kw_let => "let",
        Rule::kw_logp => "logp",
        Rule::kw_coords => "coords",
        Rule::kw_for => "for",
        Rule::kw_in => "in",
        Rule::kw_sum => "sum",
        Rule::kw_prod => "prod",
        Rule::kw_real => "real",
        Rule::kw_positive => "positive",
        Rule::kw_negative => "negative",
        Rule::kw_unit => "unit",
        Rule::kw_count => "count",
        Rule::kw_simplex => "simplex",
        _ => return None,
    })
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Pairs → AST. Errors found while building (depth, bad numbers) are collected.
#[derive(Default)]
struct Builder {
    errors: Vec<Diagnostic>,
}

impl Builder {
    fn file(&mut self, pair: Pair<Rule>) -> File {
        let mut header = None;
        let mut statements = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::header => {
                    header = Some(self.ident(p.into_inner().nth(1).expect("header name")))
                }
                Rule::EOI => {}
                _ => statements.extend(self.statement(p)),
            }
        }
        File { header, statements }
    }

    fn ident(&mut self, p: Pair<Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: p.as_span().into(),
        }
    }

    fn statement(&mut self, p: Pair<Rule>) -> Option<Stmt> {
        let span: Span = p.as_span().into();
        let rule = p.as_rule();
        let mut it = p.into_inner();
        Some(match rule {
            Rule::const_decl => {
                it.next(); // kw
                let name = self.ident(it.next()?);
                let value = self.expr(it.next()?);
                Stmt::Const { name, value, span }
            }
            Rule::param_decl | Rule::covariate_decl => {
                it.next();
                let name = self.decl_name(it.next()?);
                let domain = self.domain(it.next()?);
                if rule == Rule::param_decl {
                    Stmt::Param { name, domain, span }
                } else {
                    Stmt::Covariate { name, domain, span }
                }
            }
            Rule::data_decl => {
                it.next();
                let name = self.decl_name(it.next()?);
                let support = self.support(it.next()?);
                Stmt::Data {
                    name,
                    support,
                    span,
                }
            }
            Rule::let_decl => {
                it.next();
                let name = self.ident(it.next()?);
                let value = self.expr(it.next()?);
                Stmt::Let { name, value, span }
            }
            Rule::logp_stmt => {
                it.next();
                let value = self.expr(it.next()?);
                Stmt::Logp { value, span }
            }
            Rule::sample_stmt => {
                let target = self.target(it.next()?);
                let family = self.ident(it.next()?);
                let args = match it.next() {
                    Some(a) => self.args(a),
                    None => Vec::new(),
                };
                Stmt::Sample {
                    target,
                    family,
                    args,
                    span,
                }
            }
            Rule::for_block => {
                it.next();
                let var = self.ident(it.next()?);
                it.next(); // in
                let range = self.range(it.next()?);
                let body = it.filter_map(|s| self.statement(s)).collect();
                Stmt::For {
                    var,
                    range,
                    body,
                    span,
                }
            }
            Rule::coords_block => {
                it.next();
                let name = self.ident(it.next()?);
                let mut params = Vec::new();
                let mut maps = Vec::new();
                for item in it {
                    let ispan: Span = item.as_span().into();
                    match item.as_rule() {
                        Rule::coord_param => {
                            let mut ii = item.into_inner();
                            ii.next();
                            let n = self.decl_name(ii.next()?);
                            let d = self.domain(ii.next()?);
                            params.push((n, d, ispan));
                        }
                        Rule::coord_map => {
                            let mut ii = item.into_inner();
                            let t = self.target(ii.next()?);
                            let e = self.expr(ii.next()?);
                            maps.push((t, e, ispan));
                        }
                        _ => {}
                    }
                }
                Stmt::Coords {
                    name,
                    params,
                    maps,
                    span,
                }
            }
            _ => return None,
        })
    }

    fn decl_name(&mut self, p: Pair<Rule>) -> DeclName {
        let mut it = p.into_inner();
        let ident = self.ident(it.next().expect("decl ident"));
        let range = it.next().map(|r| {
            let rspan: Span = r.as_span().into();
            let inner = r.into_inner().next().expect("index range body");
            match inner.as_rule() {
                Rule::range => self.range(inner),
                _ => {
                    let hi = self.expr(inner);
                    let lo = AstExpr {
                        kind: ExprKind::Number(int_rational(1)),
                        span: hi.span,
                    };
                    Range {
                        lo,
                        hi,
                        span: rspan,
                    }
                }
            }
        });
        DeclName { ident, range }
    }

    fn range(&mut self, p: Pair<Rule>) -> Range {
        let span: Span = p.as_span().into();
        let mut it = p.into_inner();
        let lo = self.expr(it.next().expect("range lo"));
        let hi = self.expr(it.next().expect("range hi"));
        Range { lo, hi, span }
    }

    fn target(&mut self, p: Pair<Rule>) -> Target {
        let span: Span = p.as_span().into();
        let mut it = p.into_inner();
        let ident = self.ident(it.next().expect("target ident"));
        let index = it.next().map(|e| self.expr(e));
        Target { ident, index, span }
    }

    fn args(&mut self, p: Pair<Rule>) -> Vec<AstExpr> {
        p.into_inner().map(|e| self.expr(e)).collect()
    }

    fn domain(&mut self, p: Pair<Rule>) -> Domain {
        let span: Span = p.as_span().into();
        let inner = p.into_inner().next().expect("domain body");
        match inner.as_rule() {
            Rule::kw_real => Domain::Real(span),
            Rule::kw_positive => Domain::Positive(span),
            Rule::kw_negative => Domain::Negative(span),
            Rule::kw_unit => Domain::Unit(span),
            _ => {
                let mut it = inner.into_inner();
                let lo = self.expr(it.next().expect("lo"));
                let hi = self.expr(it.next().expect("hi"));
                Domain::Interval(lo, hi, span)
            }
        }
    }

    fn support(&mut self, p: Pair<Rule>) -> Support {
        let span: Span = p.as_span().into();
        let inner = p.into_inner().next().expect("support body");
        match inner.as_rule() {
            Rule::kw_real => Support::Real(span),
            Rule::kw_positive => Support::Positive(span),
            Rule::kw_unit => Support::Unit(span),
            Rule::kw_count => Support::Count(span),
            Rule::kw_simplex => Support::Simplex(span),
            Rule::interval => {
                let mut it = inner.into_inner();
                let lo = self.expr(it.next().expect("lo"));
                let hi = self.expr(it.next().expect("hi"));
                Support::Interval(lo, hi, span)
            }
            Rule::finite_set => {
                Support::Set(inner.into_inner().map(|e| self.expr(e)).collect(), span)
            }
            _ => {
                let mut it = inner.into_inner();
                let lo = self.expr(it.next().expect("lo"));
                let hi = it.next().map(|e| self.expr(e));
                Support::IntRange(lo, hi, span)
            }
        }
    }

    fn expr(&mut self, p: Pair<Rule>) -> AstExpr {
        let span: Span = p.as_span().into();
        let (e, d) = self.pratt(p.into_inner());
        if d > MAX_DEPTH {
            self.errors.push(
                Diagnostic::error("E0002", "expression nested too deeply", span, "this expression")
                    .with_help(format!("expressions may nest at most {MAX_DEPTH} levels; use sum(...) or name parts with `let`")),
            );
        }
        e
    }

    /// Build an expression with the Pratt parser, tracking depth so that an
    /// over-deep tree is cut off (replaced by a leaf) before it is built.
    fn pratt(&mut self, pairs: Pairs<Rule>) -> (AstExpr, usize) {
        let this = std::cell::RefCell::new(self);
        let cut = |kind: ExprKind, span: Span, d: usize| {
            if d > MAX_DEPTH {
                (
                    AstExpr {
                        kind: ExprKind::Number(int_rational(0)),
                        span,
                    },
                    d,
                )
            } else {
                (AstExpr { kind, span }, d)
            }
        };
        PRATT
            .map_primary(|p| {
                let e = this.borrow_mut().primary(p);
                let d = depth(&e);
                (e, d)
            })
            .map_prefix(|op, (rhs, d)| {
                let span = Span::from(op.as_span()).join(rhs.span);
                cut(ExprKind::Neg(Box::new(rhs)), span, d + 1)
            })
            .map_infix(|(lhs, dl), op, (rhs, dr)| {
                let bin = match op.as_rule() {
                    Rule::add => BinOp::Add,
                    Rule::sub => BinOp::Sub,
                    Rule::mul => BinOp::Mul,
                    Rule::div => BinOp::Div,
                    _ => BinOp::Pow,
                };
                let span = lhs.span.join(rhs.span);
                if bin == BinOp::Pow {
                    return cut(
                        ExprKind::Binary(bin, Box::new(lhs), Box::new(rhs)),
                        span,
                        dl.max(dr) + 1,
                    );
                }
                // `a + b + c` is one flat chain, one level deep: extend
                // the chain on the left when it is of the same level.
                let sum = |b: BinOp| matches!(b, BinOp::Add | BinOp::Sub);
                match lhs.kind {
                    ExprKind::Chain(first, mut rest)
                        if rest.first().is_some_and(|(b, _)| sum(*b) == sum(bin)) =>
                    {
                        rest.push((bin, rhs));
                        cut(ExprKind::Chain(first, rest), span, dl.max(dr + 1))
                    }
                    kind => {
                        let first = AstExpr {
                            kind,
                            span: lhs.span,
                        };
                        cut(
                            ExprKind::Chain(Box::new(first), vec![(bin, rhs)]),
                            span,
                            dl.max(dr) + 1,
                        )
                    }
                }
            })
            .parse(pairs)
    }

    fn primary(&mut self, p: Pair<Rule>) -> AstExpr {
        let span: Span = p.as_span().into();
        let kind = match p.as_rule() {
            Rule::number if literal_bits(p.as_str()) > MAX_LITERAL_BITS => {
                let text = p.as_str();
                let digits = text.bytes().filter(u8::is_ascii_digit).count();
                let shown = if text.len() > 24 {
                    format!("{}…{}", &text[..12], &text[text.len() - 6..])
                } else {
                    text.to_string()
                };
                self.errors.push(
                    Diagnostic::error(
                        "E0005",
                        format!("number `{shown}` is too long to be exact"),
                        span,
                        format!("{digits} digits, about {} bits", literal_bits(text)),
                    )
                    .with_help(format!("numbers are exact rationals of at most {MAX_LITERAL_BITS} bits (about {} digits); round it, or write it with an exponent such as 1.2345e67", MAX_LITERAL_BITS * 3 / 10)),
                );
                ExprKind::Number(int_rational(0))
            }
            Rule::number => match parse_decimal(p.as_str()) {
                Some(r) => ExprKind::Number(r),
                None => {
                    self.errors.push(
                        Diagnostic::error(
                            "E0005",
                            format!("number `{}` is out of range", p.as_str()),
                            span,
                            "too large or too small",
                        )
                        .with_help("write numbers with exponents between -300 and 300"),
                    );
                    ExprKind::Number(int_rational(0))
                }
            },
            Rule::ident => ExprKind::Name(p.as_str().to_string()),
            Rule::expr => return self.expr(p),
            Rule::call => {
                let mut it = p.into_inner();
                let f = self.ident(it.next().expect("callee"));
                let args = it.next().map(|a| self.args(a)).unwrap_or_default();
                ExprKind::Call(f, args)
            }
            Rule::indexed => {
                let mut it = p.into_inner();
                let name = self.ident(it.next().expect("indexed name"));
                let index = self.expr(it.next().expect("index"));
                ExprKind::Index(name, Box::new(index))
            }
            Rule::vector => ExprKind::Vector(p.into_inner().map(|e| self.expr(e)).collect()),
            Rule::reduce => {
                let mut it = p.into_inner();
                let op = if it.next().expect("sum/prod").as_rule() == Rule::kw_sum {
                    Reduce::Sum
                } else {
                    Reduce::Prod
                };
                let var = self.ident(it.next().expect("loop var"));
                it.next(); // in
                let range = self.range(it.next().expect("range"));
                let body = self.expr(it.next().expect("body"));
                ExprKind::Reduce(op, var, Box::new(range), Box::new(body))
            }
            _ => ExprKind::Number(int_rational(0)),
        };
        AstExpr { kind, span }
    }
}

/// Size in bits of the exact value of a decimal literal (numerator plus
/// denominator), estimated from its digits and exponent without parsing
/// it: parsing a 500,000-digit literal alone took seconds.
fn literal_bits(text: &str) -> u64 {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count() as u64;
    let scale = exponent.unsigned_abs().min(u64::MAX / 8);
    // log2(10) < 3.33 bits a digit.
    (digits.saturating_add(scale)).saturating_mul(333) / 100 + 1
}

/// Depth of an AST expression whose subexpressions are already bounded.
fn depth(e: &AstExpr) -> usize {
    match &e.kind {
        ExprKind::Number(_) | ExprKind::Name(_) => 1,
        ExprKind::Index(_, i) => 1 + depth(i),
        ExprKind::Neg(a) => 1 + depth(a),
        ExprKind::Binary(_, a, b) => 1 + depth(a).max(depth(b)),
        ExprKind::Chain(first, rest) => {
            1 + rest
                .iter()
                .map(|(_, b)| depth(b))
                .fold(depth(first), usize::max)
        }
        ExprKind::Call(_, xs) | ExprKind::Vector(xs) => 1 + xs.iter().map(depth).max().unwrap_or(0),
        ExprKind::Reduce(_, _, r, b) => 1 + depth(b).max(depth(&r.lo)).max(depth(&r.hi)),
    }
}

fn int_rational(n: i64) -> crate::exact::Rational {
    crate::exact::Rational::from_integer(n.into())
}
