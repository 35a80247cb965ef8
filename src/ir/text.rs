//! Plain-text rendering of expressions: infix with minimal parentheses,
//! subtraction and fractions where a textbook writes them, and optional
//! Unicode (σ², ψ₁(α), √x, ·, −).
//!
//! The ASCII form is valid model-language syntax, so any printed formula
//! can be pasted back into a model file (`logp += ...`) and means the same.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::render::text::{render, TextStyle};
//! let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("sigma"));
//! let score = Expr::div(Expr::sub(x, mu), Expr::powi(s, 2));
//! assert_eq!(render(&score, &TextStyle::ascii()), "(x - mu)/sigma^2");
//! assert_eq!(render(&score, &TextStyle::unicode()), "(x − μ)/σ²");
//! ```
//!
//! Notation (ASCII → Unicode): `sigma^2` → `σ²`, `a[2]` → `a₂`, `b0` → `b₀`,
//! `sqrt(x)` → `√x`, `2*x` → `2x`, `a*b` → `a·b`, `-` → `−`,
//! `digamma(x)` → `ψ(x)`, `trigamma(x)` → `ψ₁(x)`, `polygamma(n, x)` → `ψₙ(x)`,
//! `lgamma(x)` → `lnΓ(x)`, `lbeta(a, b)` → `lnB(a, b)`, `log1p(x)` →
//! `log(1 + x)`, `expm1(x)` → `exp(x) − 1`, `Phi(x)` → `Φ(x)`, `abs(x)` →
//! `|x|`, `besseli(0, x)` → `I₀(x)`, `indicator(x, k)` → `[x = k]`,
//! `pi` → `π`, `eulergamma` → `γ` (`γₑ` when a variable is named gamma).
//!
//! Sums read data-first when the style lists the data variables as
//! *leading*: `(mu - x)^2` prints as `(x - mu)^2` (same value).
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::render::text::{render, TextStyle};
//! let (x, mu) = (Expr::var("x"), Expr::var("mu"));
//! let sq = Expr::powi(Expr::sub(x, mu), 2);
//! assert_eq!(render(&sq, &TextStyle::ascii()), "(mu - x)^2");
//! assert_eq!(render(&sq, &TextStyle::ascii().with_leading(["x"])), "(x - mu)^2");
//! ```

use super::layout::{self, Factor, P_ADD, P_ATOM, P_MUL, P_NEG, P_POW, Prec, Product};
use crate::ir::expr::{Constant, Expr, Func, Name};
use num_traits::One;

/// Output options for plain text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextStyle {
    /// Greek letters, superscripts, ψ/√, `·` and a real minus sign.
    pub unicode: bool,
    /// Variables a sum should start with, in order (usually the model's
    /// data variables): `x - mu` rather than `-mu + x`, and `(x - mu)^2`
    /// rather than `(mu - x)^2`. Only the display changes, never the value.
    pub leading: Vec<Name>,
}

impl TextStyle {
    /// Plain ASCII, parseable by the model language.
    pub fn ascii() -> TextStyle {
        TextStyle {
            unicode: false,
            leading: Vec::new(),
        }
    }

    /// Unicode for reading.
    pub fn unicode() -> TextStyle {
        TextStyle {
            unicode: true,
            leading: Vec::new(),
        }
    }

    /// The same style with these leading variables (see [`TextStyle::leading`]).
    pub fn with_leading<S: AsRef<str>>(mut self, names: impl IntoIterator<Item = S>) -> TextStyle {
        self.leading = names.into_iter().map(|n| Name::from(n.as_ref())).collect();
        self
    }
}

/// Render an expression as text.
pub fn render(e: &Expr, style: &TextStyle) -> String {
    Printer::new(style, layout::euler_clash([e])).expr(e).0
}

/// Render several expressions that are shown together (the cells of a
/// matrix), with one consistent notation.
pub(crate) fn render_all(exprs: &[&Expr], style: &TextStyle) -> Vec<String> {
    let p = Printer::new(style, layout::euler_clash(exprs.iter().copied()));
    exprs.iter().map(|e| p.expr(e).0).collect()
}

/// A variable name in Unicode: Greek letters, `a[2]` → `a₂`, `b0` → `b₀`,
/// `sigma_x` → `σ_x`.
///
/// ```
/// use fimkit::render::text::unicode_name;
/// assert_eq!(unicode_name("alpha[2]"), "α₂");
/// assert_eq!(unicode_name("b0"), "b₀");
/// ```
pub fn unicode_name(name: &str) -> String {
    let parts = layout::split_name(name);
    let mut out = layout::greek(parts.stem).map_or(parts.stem.to_string(), |g| g.1.to_string());
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == ',');
    for (i, s) in parts.subs.iter().enumerate() {
        if all_digits(s) {
            if i > 0 && parts.subs[i - 1].chars().all(|c| c.is_ascii_digit()) {
                out.push(',');
            }
            out.push_str(&subscript(s));
        } else {
            out.push('_');
            out.push_str(&unicode_name(s));
        }
    }
    out
}

fn subscript(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32('₀' as u32 + (c as u32 - '0' as u32)).unwrap_or(c),
            '-' => '₋',
            other => other,
        })
        .collect()
}

fn superscript(s: &str) -> Option<String> {
    s.chars()
        .map(|c| match c {
            '0' => Some('⁰'),
            '1' => Some('¹'),
            '2' => Some('²'),
            '3' => Some('³'),
            '4'..='9' => char::from_u32('⁴' as u32 + (c as u32 - '4' as u32)),
            _ => None,
        })
        .collect()
}

/// Does the piece start with a one-letter symbol (`σ²`, `x`, `π`, `(`, `√`),
/// so that a number can stand against it (`2σ²`) without being misread?
fn short_symbol(s: &str) -> bool {
    let mut cs = s.chars();
    match cs.next() {
        Some('(' | '√' | '|' | '[') => true,
        // `2e` could be read as the start of `2e-3`: keep `2·e`.
        Some('e') => false,
        Some(c) if c.is_alphabetic() => !cs.next().is_some_and(char::is_alphabetic),
        _ => false,
    }
}

struct Printer<'a> {
    style: &'a TextStyle,
    /// A variable renders as γ, so Euler's constant is written γₑ.
    euler_sub: bool,
}

impl<'a> Printer<'a> {
    fn new(style: &'a TextStyle, euler_sub: bool) -> Printer<'a> {
        Printer { style, euler_sub }
    }

    fn u(&self) -> bool {
        self.style.unicode
    }

    fn minus(&self) -> &'static str {
        if self.u() { "−" } else { "-" }
    }

    fn times(&self) -> &'static str {
        if self.u() { "·" } else { "*" }
    }

    fn wrap(&self, (s, p): (String, Prec), min: Prec) -> String {
        if p < min { format!("({s})") } else { s }
    }

    fn expr(&self, e: &Expr) -> (String, Prec) {
        match e {
            Expr::Const(c) => (self.constant(*c), P_ATOM),
            Expr::Var(v) => (
                if self.u() {
                    unicode_name(v)
                } else {
                    v.to_string()
                },
                P_ATOM,
            ),
            Expr::Add(terms) => self.sum(terms),
            Expr::Num(_) | Expr::Mul(_) | Expr::Pow(..) => {
                self.product(&layout::product(e, &self.style.leading))
            }
            // Internal functions (`symbolic::stable`) as what they stand for.
            Expr::Call(f, args) if f.is_internal() => match f.definition(args) {
                Some(def) => self.expr(&def),
                None => self.call(*f, args),
            },
            Expr::Call(f, args) => self.call(*f, args),
        }
    }

    fn constant(&self, c: Constant) -> String {
        match (c, self.u()) {
            (Constant::Pi, true) => "π".into(),
            (Constant::EulerGamma, true) if self.euler_sub => "γₑ".into(),
            (Constant::EulerGamma, true) => "γ".into(),
            _ => c.name().into(),
        }
    }

    fn sum(&self, terms: &[Expr]) -> (String, Prec) {
        let mut out = String::new();
        for (i, p) in layout::sum(terms, &self.style.leading).iter().enumerate() {
            let mag = self.wrap(self.magnitude(p), P_MUL);
            match (i, p.negative) {
                (0, false) => out.push_str(&mag),
                (0, true) => {
                    out.push_str(self.minus());
                    out.push_str(&mag);
                }
                (_, false) => {
                    out.push_str(" + ");
                    out.push_str(&mag);
                }
                (_, true) => {
                    out.push(' ');
                    out.push_str(self.minus());
                    out.push(' ');
                    out.push_str(&mag);
                }
            }
        }
        (out, P_ADD)
    }

    fn product(&self, p: &Product) -> (String, Prec) {
        let mag = self.magnitude(p);
        if p.negative {
            (format!("{}{}", self.minus(), self.wrap(mag, P_MUL)), P_NEG)
        } else {
            mag
        }
    }

    /// The product without its sign: `c·a·b/(d·e)`.
    fn magnitude(&self, p: &Product) -> (String, Prec) {
        let mut num: Vec<(String, Prec)> = Vec::new();
        if !p.coeff_num.is_one() || p.num.is_empty() {
            num.push((p.coeff_num.to_string(), P_ATOM));
        }
        num.extend(p.num.iter().map(|f| self.factor(f)));
        let num = self.join(num, !p.coeff_num.is_one());
        if !p.has_den() {
            return num;
        }
        let mut den: Vec<(String, Prec)> = Vec::new();
        if !p.coeff_den.is_one() {
            den.push((p.coeff_den.to_string(), P_ATOM));
        }
        den.extend(p.den.iter().map(|f| self.factor(f)));
        let den = self.join(den, !p.coeff_den.is_one());
        (
            format!("{}/{}", self.wrap(num, P_MUL), self.wrap(den, P_POW)),
            P_MUL,
        )
    }

    /// Join factors with `*` (ASCII) or `·` (Unicode; a number coefficient
    /// is written against the next factor: `2σ²`).
    fn join(&self, items: Vec<(String, Prec)>, has_coeff: bool) -> (String, Prec) {
        if items.len() == 1 {
            return items.into_iter().next().unwrap_or_default();
        }
        let mut out = String::new();
        for (i, item) in items.into_iter().enumerate() {
            let s = self.wrap(item, P_MUL + 1);
            if i > 0 {
                let juxtapose = self.u() && i == 1 && has_coeff && short_symbol(&s);
                if !juxtapose {
                    out.push_str(self.times());
                }
            }
            out.push_str(&s);
        }
        (out, P_MUL)
    }

    /// One factor `base^exp` with a positive exponent.
    fn factor(&self, f: &Factor) -> (String, Prec) {
        if f.exp.is_one() {
            return self.expr(&f.base);
        }
        if f.is_sqrt() {
            let inner = self.expr(&f.base);
            return if self.u() {
                let atom = matches!(f.base, Expr::Var(_) | Expr::Const(_))
                    || f.base.as_int().is_some_and(|n| n >= 0);
                if atom {
                    (format!("√{}", inner.0), P_ATOM)
                } else {
                    (format!("√({})", inner.0), P_ATOM)
                }
            } else {
                (format!("sqrt({})", inner.0), P_ATOM)
            };
        }
        let base = self.wrap(self.expr(&f.base), P_ATOM);
        if self.u()
            && let Some(n) = f.exp.as_int()
            && let Some(sup) = superscript(&n.to_string())
        {
            return (format!("{base}{sup}"), P_POW);
        }
        let exp = self.wrap(self.expr(&f.exp), P_ATOM);
        (format!("{base}^{exp}"), P_POW)
    }

    fn call(&self, f: Func, args: &[Expr]) -> (String, Prec) {
        if args.len() != f.arity() {
            // Only a hand-built `Expr::Call` can get here; show it plainly.
            return (self.plain_call(f, args), P_ATOM);
        }
        let a = |i: usize| self.expr(&args[i]).0;
        let u = self.u();
        let s = match f {
            Func::Polygamma => match (args[0].as_int(), u) {
                (Some(0), false) => format!("digamma({})", a(1)),
                (Some(1), false) => format!("trigamma({})", a(1)),
                (Some(0), true) => format!("ψ({})", a(1)),
                (Some(n), true) if n > 0 => {
                    format!("ψ{}({})", subscript(&n.to_string()), a(1))
                }
                _ => format!("polygamma({}, {})", a(0), a(1)),
            },
            Func::Log1p if u => {
                format!(
                    "log({})",
                    self.expr(&Expr::add2(Expr::one(), args[0].clone())).0
                )
            }
            Func::Expm1 if u => {
                return (format!("exp({}) {} 1", a(0), self.minus()), P_ADD);
            }
            Func::Lgamma if u => format!("lnΓ({})", a(0)),
            Func::Lbeta if u => format!("lnB({}, {})", a(0), a(1)),
            Func::NormalCdf if u => format!("Φ({})", a(0)),
            Func::Abs if u => format!("|{}|", a(0)),
            Func::BesselI if u => match args[0].as_int() {
                Some(n) if n >= 0 => format!("I{}({})", subscript(&n.to_string()), a(1)),
                _ => format!("I_{}({})", self.wrap(self.expr(&args[0]), P_ATOM), a(1)),
            },
            Func::Indicator if u => format!("[{} = {}]", a(0), a(1)),
            _ => self.plain_call(f, args),
        };
        (s, P_ATOM)
    }

    /// `name(a, b)` with the language's function name.
    fn plain_call(&self, f: Func, args: &[Expr]) -> String {
        format!(
            "{}({})",
            f.name(),
            args.iter()
                .map(|x| self.expr(x).0)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascii(e: &Expr) -> String {
        render(e, &TextStyle::ascii())
    }

    fn uni(e: &Expr) -> String {
        render(e, &TextStyle::unicode())
    }

    #[test]
    fn subtraction_and_fractions() {
        let (x, p) = (Expr::var("x"), Expr::var("p"));
        assert_eq!(ascii(&Expr::sub(Expr::one(), p.clone())), "1 - p");
        let e = Expr::div(
            Expr::sub(x.clone(), p.clone()),
            Expr::mul2(p.clone(), Expr::sub(Expr::one(), p.clone())),
        );
        assert_eq!(ascii(&e), "(x - p)/(p*(1 - p))");
        assert_eq!(ascii(&Expr::neg(Expr::recip(p.clone()))), "-1/p");
        assert_eq!(ascii(&Expr::rational(-1, 2)), "-1/2");
        assert_eq!(ascii(&Expr::mul2(Expr::rational(1, 2), x.clone())), "x/2");
        assert_eq!(ascii(&Expr::mul2(Expr::rational(3, 2), x.clone())), "3*x/2");
    }

    #[test]
    fn unicode_names() {
        assert_eq!(unicode_name("sigma"), "σ");
        assert_eq!(unicode_name("a[2]"), "a₂");
        assert_eq!(unicode_name("sigma_x"), "σ_x");
        assert_eq!(unicode_name("x_1"), "x₁");
        assert_eq!(unicode_name("rate"), "rate");
        let e = Expr::polygamma(1, Expr::var("alpha"));
        assert_eq!(uni(&e), "ψ₁(α)");
    }

    #[test]
    fn unicode_products() {
        let (s, a) = (Expr::var("sigma"), Expr::var("alpha"));
        assert_eq!(
            uni(&Expr::mul2(Expr::int(2), Expr::powi(s.clone(), 2))),
            "2σ²"
        );
        assert_eq!(
            uni(&Expr::mul2(a.clone(), Expr::polygamma(1, a.clone()))),
            "α·ψ₁(α)"
        );
        assert_eq!(uni(&Expr::sqrt(s.clone())), "√σ");
        assert_eq!(uni(&Expr::sqrt(Expr::add2(s, Expr::one()))), "√(σ + 1)");
    }
}
