//! Plain-text rendering of expressions: infix with minimal parentheses,
//! subtraction and fractions where a textbook writes them, and optional
//! Unicode (σ², ψ₁(α), √x).
//!
//! The ASCII form is valid model-language syntax, so any printed formula
//! can be pasted back into a model file.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::render::text::{render, TextStyle};
//! let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("sigma"));
//! let score = Expr::div(Expr::sub(x, mu), Expr::powi(s, 2));
//! assert_eq!(render(&score, &TextStyle::ascii()), "(x - mu)/sigma^2");
//! assert_eq!(render(&score, &TextStyle::unicode()), "(x − μ)/σ²");
//! ```

use crate::ir::expr::{Constant, Expr, Func, Rational};
use num_traits::{One, Signed};

/// Output options.
#[derive(Clone, Debug, Default)]
pub struct TextStyle {
    /// Greek letters, superscripts, ψ/√ and a real minus sign.
    pub unicode: bool,
}

impl TextStyle {
    /// Plain ASCII, parseable by the model language.
    pub fn ascii() -> TextStyle {
        TextStyle { unicode: false }
    }

    /// Unicode for reading.
    pub fn unicode() -> TextStyle {
        TextStyle { unicode: true }
    }
}

/// Precedence of a rendered piece: higher binds tighter.
const P_ADD: u8 = 1;
const P_MUL: u8 = 2;
const P_NEG: u8 = 3;
const P_POW: u8 = 4;
const P_ATOM: u8 = 5;

/// Render an expression as text.
pub fn render(e: &Expr, style: &TextStyle) -> String {
    Printer { style }.expr(e).0
}

struct Printer<'a> {
    style: &'a TextStyle,
}

/// Greek names rendered as letters in Unicode mode.
const GREEK: &[(&str, &str)] = &[
    ("alpha", "α"),
    ("beta", "β"),
    ("gamma", "γ"),
    ("delta", "δ"),
    ("epsilon", "ε"),
    ("zeta", "ζ"),
    ("eta", "η"),
    ("theta", "θ"),
    ("kappa", "κ"),
    ("lambda", "λ"),
    ("mu", "μ"),
    ("nu", "ν"),
    ("xi", "ξ"),
    ("rho", "ρ"),
    ("sigma", "σ"),
    ("tau", "τ"),
    ("phi", "φ"),
    ("chi", "χ"),
    ("psi", "ψ"),
    ("omega", "ω"),
    ("Gamma", "Γ"),
    ("Delta", "Δ"),
    ("Theta", "Θ"),
    ("Lambda", "Λ"),
    ("Sigma", "Σ"),
    ("Phi", "Φ"),
    ("Omega", "Ω"),
];

/// A variable name in Unicode: Greek letters, `a[2]` → `a₂`, `sigma2` → `σ2`.
pub fn unicode_name(name: &str) -> String {
    let (base, index) = match name.find('[') {
        Some(i) => (&name[..i], Some(name[i + 1..].trim_end_matches(']'))),
        None => (name, None),
    };
    // Split a trailing `_suffix` or digits.
    let (stem, suffix) = match base.find('_') {
        Some(i) => (&base[..i], &base[i..]),
        None => {
            let digits = base.len() - base.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            base.split_at(base.len() - digits)
        }
    };
    let stem = GREEK
        .iter()
        .find(|(n, _)| *n == stem)
        .map_or(stem.to_string(), |(_, g)| g.to_string());
    let mut out = format!("{stem}{suffix}");
    if let Some(ix) = index {
        out.push_str(&subscript(ix));
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
            '-' => Some('⁻'),
            _ => None,
        })
        .collect()
}

impl Printer<'_> {
    fn minus(&self) -> &'static str {
        if self.style.unicode { "−" } else { "-" }
    }

    fn expr(&self, e: &Expr) -> (String, u8) {
        match e {
            Expr::Num(r) => self.number(r),
            Expr::Const(c) => (
                match (c, self.style.unicode) {
                    (Constant::Pi, true) => "π".into(),
                    (Constant::EulerGamma, true) => "γₑ".into(),
                    _ => c.name().into(),
                },
                P_ATOM,
            ),
            Expr::Var(v) => (
                if self.style.unicode {
                    unicode_name(v)
                } else {
                    v.to_string()
                },
                P_ATOM,
            ),
            Expr::Add(terms) => self.sum(terms),
            Expr::Mul(_) | Expr::Pow(..) => self.product(e),
            Expr::Call(f, args) => (self.call(*f, args), P_ATOM),
        }
    }

    fn number(&self, r: &Rational) -> (String, u8) {
        let m = self.minus();
        let (sign, abs) = if r.is_negative() {
            (m, -r.clone())
        } else {
            ("", r.clone())
        };
        if abs.is_integer() {
            (
                format!("{sign}{abs}"),
                if sign.is_empty() { P_ATOM } else { P_NEG },
            )
        } else {
            (
                format!("{sign}{}/{}", abs.numer(), abs.denom()),
                if sign.is_empty() { P_MUL } else { P_NEG },
            )
        }
    }

    fn wrap(&self, (s, p): (String, u8), min: u8) -> String {
        if p < min { format!("({s})") } else { s }
    }

    fn sum(&self, terms: &[Expr]) -> (String, u8) {
        // Display order: non-constant terms first (canonical order), a
        // positive term leading, the numeric constant last.
        let mut order: Vec<&Expr> = terms.iter().filter(|t| t.as_num().is_none()).collect();
        order.extend(terms.iter().filter(|t| t.as_num().is_some()));
        if let Some(i) = order.iter().position(|t| !is_negative_term(t))
            && i > 0
        {
            let t = order.remove(i);
            order.insert(0, t);
        }
        let mut out = String::new();
        for (i, t) in order.iter().enumerate() {
            if i == 0 {
                out.push_str(&self.wrap(self.expr(t), P_ADD));
            } else if is_negative_term(t) {
                let neg = Expr::neg((*t).clone());
                out.push_str(&format!(
                    " {} {}",
                    self.minus(),
                    self.wrap(self.expr(&neg), P_MUL)
                ));
            } else {
                out.push_str(&format!(" + {}", self.wrap(self.expr(t), P_MUL)));
            }
        }
        (out, P_ADD)
    }

    /// Products and powers, as `c * num / den`.
    fn product(&self, e: &Expr) -> (String, u8) {
        let factors: Vec<Expr> = match e {
            Expr::Mul(fs) => fs.clone(),
            other => vec![other.clone()],
        };
        let mut coeff = Rational::one();
        let mut num: Vec<Expr> = Vec::new();
        let mut den: Vec<Expr> = Vec::new();
        for f in factors {
            match f {
                Expr::Num(r) => coeff = r,
                Expr::Pow(b, x) if x.as_num().is_some_and(|r| r.is_negative()) => {
                    den.push(Expr::pow(*b, Expr::neg(*x)));
                }
                other => num.push(other),
            }
        }
        let mut negative = coeff.is_negative();
        if negative && let Some(i) = num.iter().position(|f| matches!(f, Expr::Add(_))) {
            // -(mu - x)/s² reads better as (x - mu)/s².
            num[i] = Expr::neg(num[i].clone());
            negative = false;
        }
        let coeff = coeff.abs();
        let (cn, cd) = (
            Rational::from_integer(coeff.numer().clone()),
            Rational::from_integer(coeff.denom().clone()),
        );
        if !cn.is_one() {
            num.insert(0, Expr::Num(cn));
        }
        if !cd.is_one() {
            den.insert(0, Expr::Num(cd));
        }
        let num_s = if num.is_empty() {
            ("1".to_string(), P_ATOM)
        } else if num.len() == 1 {
            self.factor(&num[0])
        } else {
            (
                num.iter()
                    .map(|f| self.wrap(self.factor(f), P_MUL + 1))
                    .collect::<Vec<_>>()
                    .join(self.times()),
                P_MUL,
            )
        };
        let (s, p) = if den.is_empty() {
            num_s
        } else {
            let den_s = if den.len() == 1 {
                self.wrap(self.factor(&den[0]), P_POW)
            } else {
                format!(
                    "({})",
                    den.iter()
                        .map(|f| self.wrap(self.factor(f), P_MUL + 1))
                        .collect::<Vec<_>>()
                        .join(self.times())
                )
            };
            (format!("{}/{}", self.wrap(num_s, P_MUL), den_s), P_MUL)
        };
        if negative {
            (
                format!("{}{}", self.minus(), self.wrap((s, p), P_MUL)),
                P_NEG,
            )
        } else {
            (s, p)
        }
    }

    fn times(&self) -> &'static str {
        if self.style.unicode { "·" } else { "*" }
    }

    /// One factor: a power or an atom.
    fn factor(&self, f: &Expr) -> (String, u8) {
        match f {
            Expr::Pow(b, x) => {
                if x.as_num()
                    .is_some_and(|r| *r == Rational::new(1.into(), 2.into()))
                {
                    let inner = self.expr(b).0;
                    return (
                        if self.style.unicode {
                            format!("√({inner})").replace("√(", "√(")
                        } else {
                            format!("sqrt({inner})")
                        },
                        P_ATOM,
                    );
                }
                let base = self.wrap(self.expr(b), P_ATOM);
                if self.style.unicode
                    && let Some(n) = x.as_int()
                    && let Some(sup) = superscript(&n.to_string())
                {
                    return (format!("{base}{sup}"), P_POW);
                }
                let exp = self.wrap(self.expr(x), P_ATOM);
                (format!("{base}^{exp}"), P_POW)
            }
            other => self.expr(other),
        }
    }

    fn call(&self, f: Func, args: &[Expr]) -> String {
        let a = |i: usize| self.expr(&args[i]).0;
        let u = self.style.unicode;
        match f {
            Func::Polygamma => match (args[0].as_int(), u) {
                (Some(0), false) => format!("digamma({})", a(1)),
                (Some(1), false) => format!("trigamma({})", a(1)),
                (Some(0), true) => format!("ψ({})", a(1)),
                (Some(n), true) => format!("ψ{}({})", subscript(&n.to_string()), a(1)),
                _ => format!("polygamma({}, {})", a(0), a(1)),
            },
            Func::Lgamma if u => format!("lnΓ({})", a(0)),
            Func::Log if u => format!("log({})", a(0)),
            Func::NormalCdf if u => format!("Φ({})", a(0)),
            Func::Abs if u => format!("|{}|", a(0)),
            Func::Indicator => format!("indicator({}, {})", a(0), a(1)),
            _ => format!(
                "{}({})",
                f.name(),
                args.iter()
                    .map(|x| self.expr(x).0)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Does the term print with a leading minus?
fn is_negative_term(t: &Expr) -> bool {
    match t {
        Expr::Num(r) => r.is_negative(),
        Expr::Mul(fs) => fs[0].as_num().is_some_and(|r| r.is_negative()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascii(e: &Expr) -> String {
        render(e, &TextStyle::ascii())
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
    }

    #[test]
    fn unicode_names() {
        assert_eq!(unicode_name("sigma"), "σ");
        assert_eq!(unicode_name("a[2]"), "a₂");
        assert_eq!(unicode_name("sigma_x"), "σ_x");
        let e = Expr::polygamma(1, Expr::var("alpha"));
        assert_eq!(render(&e, &TextStyle::unicode()), "ψ₁(α)");
    }
}
