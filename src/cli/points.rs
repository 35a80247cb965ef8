//! `name=value` lists on the command line (`--at mu=0,sigma=2`), shared by
//! every subcommand that takes a point: `eval --at`, and later `derive
//! --at`, `fit --init`.
//!
//! Syntax: comma-separated `name=value` pairs; spaces around names, `=` and
//! values are ignored; a flag may be repeated and its lists are joined.
//! A name is a model name as the model spells it, `alpha[2]` for an element
//! of an indexed declaration; `alpha=[1, 2, 3]` gives every element of
//! `alpha` in declaration order. A value is a decimal number (`2`, `-0.5`,
//! `1e-3`), `pi` or `e`, optionally negated.
//!
//! [`parse`] checks the syntax only; [`expand`] matches the names against a
//! model's names (expanding lists) so each command can decide which kinds
//! of names it accepts.

use std::fmt;

/// One `name=value` or `name=[v1, v2, ...]` item.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The name as written.
    pub name: String,
    /// One value, or a list for an indexed name.
    pub values: Vec<f64>,
    /// Was the value written as a list `[...]`?
    pub list: bool,
}

/// A malformed or unmatched point.
#[derive(Clone, Debug, PartialEq)]
pub struct PointError(pub String);

impl fmt::Display for PointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PointError {}

/// Split on commas outside brackets.
fn split_items(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// A number: decimal, `pi`, `e`, optionally with a leading minus.
pub fn parse_value(text: &str) -> Option<f64> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b.trim()),
        None => (false, t),
    };
    let v = match body {
        "pi" => std::f64::consts::PI,
        "e" => std::f64::consts::E,
        _ if body.starts_with('+') || body.starts_with('-') => return None,
        _ => body.parse::<f64>().ok()?,
    };
    let v = if neg { -v } else { v };
    v.is_finite().then_some(v)
}

fn valid_name(n: &str) -> bool {
    let (base, index) = match n.split_once('[') {
        Some((b, rest)) => match rest.strip_suffix(']') {
            Some(i) => (b, Some(i)),
            None => return false,
        },
        None => (n, None),
    };
    let mut chars = base.chars();
    let head_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    head_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && index.is_none_or(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_digit()))
}

/// Parse one or more `name=value,...` lists (the values of a repeated flag).
///
/// ```text
/// mu=0, sigma=2        → [(mu, [0]), (sigma, [2])]
/// alpha=[1,2,3]        → [(alpha, [1, 2, 3])]
/// ```
pub fn parse<S: AsRef<str>>(lists: &[S]) -> Result<Vec<Assignment>, PointError> {
    let mut out: Vec<Assignment> = Vec::new();
    for list in lists {
        let list = list.as_ref();
        if list.trim().is_empty() {
            continue;
        }
        for item in split_items(list) {
            let item = item.trim();
            if item.is_empty() {
                return Err(PointError(format!(
                    "empty item in `{list}` (write name=value pairs separated by commas)"
                )));
            }
            let Some((name, value)) = item.split_once('=') else {
                return Err(PointError(format!("expected name=value, found `{item}`")));
            };
            let name = name.trim();
            if !valid_name(name) {
                return Err(PointError(format!("`{name}` is not a name (in `{item}`)")));
            }
            let value = value.trim();
            let (values, is_list) = match value.strip_prefix('[') {
                Some(inner) => {
                    let Some(inner) = inner.strip_suffix(']') else {
                        return Err(PointError(format!("unclosed `[` in `{item}`")));
                    };
                    let mut vs = Vec::new();
                    for v in inner.split(',') {
                        vs.push(parse_value(v).ok_or_else(|| {
                            PointError(format!(
                                "`{}` is not a finite number (in `{item}`)",
                                v.trim()
                            ))
                        })?);
                    }
                    (vs, true)
                }
                None => (
                    vec![parse_value(value).ok_or_else(|| {
                        PointError(format!("`{value}` is not a finite number (in `{item}`)"))
                    })?],
                    false,
                ),
            };
            if out.iter().any(|a| a.name == name) {
                return Err(PointError(format!("`{name}` is given twice")));
            }
            out.push(Assignment {
                name: name.to_string(),
                values,
                list: is_list,
            });
        }
    }
    Ok(out)
}

/// Match assignments against the names a command accepts (in the model's
/// order), expanding `alpha=[...]` to `alpha[1]`, `alpha[2]`, ... Unknown
/// names are errors that list what is accepted; names given twice (also
/// through a list and an element) are errors. Names with no value are not
/// an error here: the caller decides what is required.
pub fn expand(
    assignments: &[Assignment],
    accepted: &[impl AsRef<str>],
) -> Result<Vec<(String, f64)>, PointError> {
    let mut out: Vec<(String, f64)> = Vec::new();
    let push = |name: &str, v: f64, out: &mut Vec<(String, f64)>| {
        if out.iter().any(|(n, _)| n == name) {
            return Err(PointError(format!("`{name}` is given twice")));
        }
        out.push((name.to_string(), v));
        Ok(())
    };
    let names: Vec<&str> = accepted.iter().map(AsRef::as_ref).collect();
    for a in assignments {
        if !a.list {
            if names.contains(&a.name.as_str()) {
                push(&a.name, a.values[0], &mut out)?;
                continue;
            }
        } else {
            let prefix = format!("{}[", a.name);
            let elems: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| n.starts_with(&prefix))
                .collect();
            if !elems.is_empty() {
                if elems.len() != a.values.len() {
                    return Err(PointError(format!(
                        "`{}` has {} elements ({}), but {} values are given",
                        a.name,
                        elems.len(),
                        elems.join(", "),
                        a.values.len()
                    )));
                }
                for (n, v) in elems.iter().zip(&a.values) {
                    push(n, *v, &mut out)?;
                }
                continue;
            }
        }
        let shown: Vec<String> = shorten(&names);
        return Err(PointError(if shown.is_empty() {
            format!("`{}` is not a name this command takes", a.name)
        } else {
            format!(
                "`{}` is not one of the model's names here (expected: {})",
                a.name,
                shown.join(", ")
            )
        }));
    }
    Ok(out)
}

/// `alpha[1], alpha[2], alpha[3]` → `alpha[1..3]` for messages.
fn shorten(names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < names.len() {
        let n = names[i];
        if let Some((base, _)) = n.split_once('[') {
            let prefix = format!("{base}[");
            let mut j = i;
            while j + 1 < names.len() && names[j + 1].starts_with(&prefix) {
                j += 1;
            }
            if j > i {
                let idx = |s: &str| {
                    s.trim_start_matches(&prefix)
                        .trim_end_matches(']')
                        .to_string()
                };
                out.push(format!("{base}[{}..{}]", idx(n), idx(names[j])));
                i = j + 1;
                continue;
            }
        }
        out.push(n.to_string());
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_lists_and_constants() {
        let a = parse(&["mu=0, sigma = 2", "alpha=[1, 2.5,3]", "t=-pi"]).unwrap();
        assert_eq!(a.len(), 4);
        assert_eq!(a[1].values, vec![2.0]);
        assert_eq!(a[2].values, vec![1.0, 2.5, 3.0]);
        assert_eq!(a[3].values, vec![-std::f64::consts::PI]);
        assert_eq!(parse(&[""]).unwrap(), vec![]);
    }

    #[test]
    fn syntax_errors_say_what_is_wrong() {
        let e = |s: &str| parse(&[s]).unwrap_err().to_string();
        assert_eq!(e("mu"), "expected name=value, found `mu`");
        assert_eq!(e("mu=abc"), "`abc` is not a finite number (in `mu=abc`)");
        assert_eq!(e("mu=inf"), "`inf` is not a finite number (in `mu=inf`)");
        assert_eq!(
            e("mu=1,,s=2"),
            "empty item in `mu=1,,s=2` (write name=value pairs separated by commas)"
        );
        assert_eq!(e("1mu=1"), "`1mu` is not a name (in `1mu=1`)");
        assert_eq!(e("mu=1,mu=2"), "`mu` is given twice");
        assert_eq!(e("a=[1,2"), "unclosed `[` in `a=[1,2`");
        assert_eq!(e("mu=--1"), "`--1` is not a finite number (in `mu=--1`)");
    }

    #[test]
    fn expands_lists_against_model_names() {
        let names = ["alpha[1]", "alpha[2]", "alpha[3]", "x"];
        let a = parse(&["alpha=[1,2,3],x=0.5"]).unwrap();
        let v = expand(&a, &names).unwrap();
        assert_eq!(v[2], ("alpha[3]".to_string(), 3.0));
        assert_eq!(v[3], ("x".to_string(), 0.5));
        let a = parse(&["alpha=[1,2]"]).unwrap();
        assert_eq!(
            expand(&a, &names).unwrap_err().to_string(),
            "`alpha` has 3 elements (alpha[1], alpha[2], alpha[3]), but 2 values are given"
        );
        let a = parse(&["beta=1"]).unwrap();
        assert_eq!(
            expand(&a, &names).unwrap_err().to_string(),
            "`beta` is not one of the model's names here (expected: alpha[1..3], x)"
        );
        let a = parse(&["alpha=[1,2,3],alpha[2]=5"]).unwrap();
        assert_eq!(
            expand(&a, &names).unwrap_err().to_string(),
            "`alpha[2]` is given twice"
        );
    }
}
