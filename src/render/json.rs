//! The JSON form of expressions and matrices, schema `fimkit-json 1`
//! (documented in `docs/json-schema.md`).
//!
//! An expression is an object with its three renderings and its tree:
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::render::json::{expr_json, from_tree};
//! let e = Expr::div(Expr::var("x"), Expr::int(3));
//! let j = expr_json(&e, &[]);
//! assert_eq!(j["text"], "x/3");
//! assert_eq!(j["latex"], r"\frac{x}{3}");
//! assert_eq!(j["tree"], serde_json::json!({"op": "mul", "args": [{"num": "1/3"}, {"var": "x"}]}));
//! assert_eq!(from_tree(&j["tree"]).unwrap(), e);
//! ```

use super::latex::{LatexStyle, latex};
use super::matrix::{matrix_latex, matrix_text};
use super::text::{TextStyle, render};
use crate::ir::expr::{Constant, Expr, Func, Name, Rational};
use num_bigint::BigInt;
use num_traits::Zero;
use serde_json::{Map, Value, json};
use std::fmt;

/// The schema name and version written by every JSON document.
pub const SCHEMA: &str = "fimkit-json 1";

/// An expression as `{"text", "unicode", "latex", "tree"}`. `leading` lists
/// the variables sums start with (see [`TextStyle::leading`]).
pub fn expr_json(e: &Expr, leading: &[Name]) -> Value {
    json!({
        "text": render(e, &text_style(false, leading)),
        "unicode": render(e, &text_style(true, leading)),
        "latex": latex(e, &latex_style(leading)),
        "tree": tree(e),
    })
}

/// A matrix as `{"rows", "cols", "text", "unicode", "latex", "entries"}`;
/// `entries` is a list of rows of [`expr_json`] objects, `text`/`unicode`
/// the aligned matrix, `latex` a `pmatrix`.
pub fn matrix_json(rows: &[Vec<Expr>], leading: &[Name]) -> Value {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    json!({
        "rows": rows.len(),
        "cols": cols,
        "text": matrix_text(rows, &text_style(false, leading)),
        "unicode": matrix_text(rows, &text_style(true, leading)),
        "latex": matrix_latex(rows, &latex_style(leading)),
        "entries": rows
            .iter()
            .map(|r| r.iter().map(|e| expr_json(e, leading)).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    })
}

/// A vector as `{"len", "entries"}` with [`expr_json`] entries.
pub fn vector_json(v: &[Expr], leading: &[Name]) -> Value {
    json!({
        "len": v.len(),
        "entries": v.iter().map(|e| expr_json(e, leading)).collect::<Vec<_>>(),
    })
}

fn text_style(unicode: bool, leading: &[Name]) -> TextStyle {
    TextStyle {
        unicode,
        leading: leading.to_vec(),
    }
}

fn latex_style(leading: &[Name]) -> LatexStyle {
    LatexStyle {
        leading: leading.to_vec(),
    }
}

/// The expression tree exactly as the IR holds it:
/// `{"num": "1/3"}`, `{"const": "pi"}`, `{"var": "x"}`,
/// `{"op": "add" | "mul" | "pow", "args": [...]}`,
/// `{"fn": "polygamma", "args": [...]}` (function names as the language spells them).
pub fn tree(e: &Expr) -> Value {
    match e {
        Expr::Num(r) => json!({ "num": r.to_string() }),
        Expr::Const(c) => json!({ "const": c.name() }),
        Expr::Var(v) => json!({ "var": &**v }),
        Expr::Add(xs) => json!({ "op": "add", "args": xs.iter().map(tree).collect::<Vec<_>>() }),
        Expr::Mul(xs) => json!({ "op": "mul", "args": xs.iter().map(tree).collect::<Vec<_>>() }),
        Expr::Pow(b, x) => json!({ "op": "pow", "args": [tree(b), tree(x)] }),
        Expr::Call(f, xs) => {
            json!({ "fn": f.name(), "args": xs.iter().map(tree).collect::<Vec<_>>() })
        }
    }
}

/// Why a JSON tree could not be read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeError {
    /// JSON pointer to the offending node (`/args/1`).
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "the root"
        } else {
            &self.path
        };
        write!(f, "invalid expression tree at {at}: {}", self.message)
    }
}

impl std::error::Error for TreeError {}

/// Read a tree written by [`tree`] back into an expression, through the
/// canonical constructors.
pub fn from_tree(v: &Value) -> Result<Expr, TreeError> {
    read(v, &mut String::new())
}

fn err(path: &str, message: impl Into<String>) -> TreeError {
    TreeError {
        path: path.to_string(),
        message: message.into(),
    }
}

fn read(v: &Value, path: &mut String) -> Result<Expr, TreeError> {
    let Value::Object(obj) = v else {
        return Err(err(path, "expected an object"));
    };
    let only = |key: &str, extra: &[&str], obj: &Map<String, Value>| -> Result<(), TreeError> {
        match obj
            .keys()
            .find(|k| k.as_str() != key && !extra.contains(&k.as_str()))
        {
            Some(k) => Err(err(path, format!("unexpected key `{k}` next to `{key}`"))),
            None => Ok(()),
        }
    };
    if let Some(n) = obj.get("num") {
        only("num", &[], obj)?;
        let s = n
            .as_str()
            .ok_or_else(|| err(path, "`num` must be a string such as \"-1/3\""))?;
        return parse_rational(s)
            .map(Expr::num)
            .ok_or_else(|| err(path, format!("`{s}` is not an integer or p/q")));
    }
    if let Some(c) = obj.get("const") {
        only("const", &[], obj)?;
        return match c.as_str() {
            Some("pi") => Ok(Expr::Const(Constant::Pi)),
            Some("e") => Ok(Expr::Const(Constant::E)),
            Some("eulergamma") => Ok(Expr::Const(Constant::EulerGamma)),
            _ => Err(err(path, "`const` must be \"pi\", \"e\" or \"eulergamma\"")),
        };
    }
    if let Some(name) = obj.get("var") {
        only("var", &[], obj)?;
        return match name.as_str() {
            Some(s) if valid_name(s) => Ok(Expr::var(s)),
            _ => Err(err(
                path,
                "`var` must be a model-language name such as \"mu\" or \"alpha[2]\"",
            )),
        };
    }
    let args = |path: &mut String| -> Result<Vec<Expr>, TreeError> {
        let Some(Value::Array(xs)) = obj.get("args") else {
            return Err(err(path, "expected an `args` array"));
        };
        let mut out = Vec::with_capacity(xs.len());
        for (i, x) in xs.iter().enumerate() {
            let len = path.len();
            path.push_str(&format!("/args/{i}"));
            let e = read(x, path);
            path.truncate(len);
            out.push(e?);
        }
        Ok(out)
    };
    if let Some(op) = obj.get("op") {
        only("op", &["args"], obj)?;
        let xs = args(path)?;
        return match op.as_str() {
            Some("add") if xs.len() >= 2 => Ok(Expr::add(xs)),
            Some("mul") if xs.len() >= 2 => Ok(Expr::mul(xs)),
            Some("pow") if xs.len() == 2 => {
                let mut it = xs.into_iter();
                match (it.next(), it.next()) {
                    (Some(b), Some(x)) => Ok(Expr::pow(b, x)),
                    _ => Err(err(path, "`pow` takes two arguments")),
                }
            }
            Some("add" | "mul") => Err(err(path, "`add` and `mul` take at least two arguments")),
            Some("pow") => Err(err(path, "`pow` takes two arguments")),
            _ => Err(err(path, "`op` must be \"add\", \"mul\" or \"pow\"")),
        };
    }
    if let Some(f) = obj.get("fn") {
        only("fn", &["args"], obj)?;
        let name = f.as_str().unwrap_or_default();
        let func = Func::ALL
            .iter()
            .copied()
            .find(|g| g.name() == name)
            .ok_or_else(|| err(path, format!("unknown function `{name}`")))?;
        let xs = args(path)?;
        if xs.len() != func.arity() {
            return Err(err(
                path,
                format!(
                    "`{name}` takes {} argument(s), got {}",
                    func.arity(),
                    xs.len()
                ),
            ));
        }
        return Ok(Expr::call(func, xs));
    }
    Err(err(
        path,
        "expected one of `num`, `const`, `var`, `op`, `fn`",
    ))
}

/// A name of the language (`[A-Za-z_][A-Za-z0-9_]*`), optionally with a
/// numeric index (`alpha[2]`).
fn valid_name(s: &str) -> bool {
    let (base, index) = match s.split_once('[') {
        Some((b, rest)) => match rest.strip_suffix(']') {
            Some(ix) => (b, Some(ix)),
            None => return false,
        },
        None => (s, None),
    };
    let mut cs = base.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && index.is_none_or(|ix| !ix.is_empty() && ix.bytes().all(|b| b.is_ascii_digit()))
}

/// `"-3"` or `"1/3"` as an exact rational.
fn parse_rational(s: &str) -> Option<Rational> {
    let (n, d) = match s.split_once('/') {
        Some((n, d)) => (n, d),
        None => (s, "1"),
    };
    let ok = |t: &str| {
        let digits = t.strip_prefix('-').unwrap_or(t);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    if !ok(n) || !ok(d) || d.starts_with('-') {
        return None;
    }
    let n: BigInt = n.parse().ok()?;
    let d: BigInt = d.parse().ok()?;
    if d.is_zero() {
        return None;
    }
    Some(Rational::new(n, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_trees_are_errors() {
        let bad = [
            json!(1),
            json!({"num": "1/0"}),
            json!({"num": 3}),
            json!({"var": ""}),
            json!({"const": "tau"}),
            json!({"op": "add", "args": [{"var": "x"}]}),
            json!({"op": "pow", "args": [{"var": "x"}, {"nope": 1}]}),
            json!({"fn": "log", "args": []}),
            json!({"fn": "tan", "args": [{"var": "x"}]}),
            json!({"var": "x", "extra": 1}),
            json!({"var": "my var"}),
            json!({"var": "a[k]"}),
            json!({"var": "2x"}),
        ];
        for b in bad {
            assert!(from_tree(&b).is_err(), "{b}");
        }
        let e = from_tree(&json!({"op": "pow", "args": [{"var": "x"}, {"nope": 1}]})).unwrap_err();
        assert_eq!(e.path, "/args/1");
    }

    #[test]
    fn names() {
        for ok in ["x", "_t", "alpha[12]", "b0", "sigma_x"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "x y", "a[", "a[]", "a[1", "1a", "a[1]b", "σ"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn rationals() {
        assert_eq!(
            parse_rational("-1/3"),
            Some(Rational::new((-1).into(), 3.into()))
        );
        assert_eq!(
            parse_rational("4/2"),
            Some(Rational::from_integer(2.into()))
        );
        assert_eq!(parse_rational("1/-3"), None);
        assert_eq!(parse_rational("+1"), None);
    }
}
