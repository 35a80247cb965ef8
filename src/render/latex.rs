//! LaTeX rendering of expressions, as a textbook typesets them:
//! `\frac{x - \mu}{\sigma^{2}}`, `\sqrt{x}`, `\psi^{(1)}(\alpha)`,
//! `\ln\Gamma(\alpha)`, Greek names, `a_{2}` for `a[2]`, `\cdot` only where
//! juxtaposition would be misread.
//!
//! Every string is accepted by KaTeX in strict mode (checked by
//! `tests/render_katex.rs`). Function notation:
//!
//! | language            | LaTeX                           |
//! |---------------------|---------------------------------|
//! | `log(x)`, `exp(x)`  | `\log(x)`, `\exp(x)`            |
//! | `log1p(x)`          | `\log(1 + x)`                   |
//! | `expm1(x)`          | `\exp(x) - 1`                   |
//! | `sigmoid(x)`        | `\operatorname{sigmoid}(x)`     |
//! | `lgamma(x)`         | `\ln\Gamma(x)`                  |
//! | `digamma(x)`        | `\psi(x)`                       |
//! | `polygamma(n, x)`   | `\psi^{(n)}(x)`                 |
//! | `lbeta(a, b)`       | `\ln\mathrm{B}(a, b)`           |
//! | `erf`, `erfc`       | `\operatorname{erf}`, `\operatorname{erfc}` |
//! | `besseli(nu, x)`    | `I_{\nu}(x)`                    |
//! | `Phi(x)`            | `\Phi(x)`                       |
//! | `abs(x)`            | `\left\lvert x\right\rvert`     |
//! | `indicator(x, k)`   | `\mathbb{1}[x = k]`             |
//! | `pi`, `e`, `eulergamma` | `\pi`, `e`, `\gamma` (`\gamma_{\mathrm{E}}` when a variable is named gamma) |
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::render::latex::{latex, LatexStyle};
//! let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("sigma"));
//! let score = Expr::div(Expr::sub(x, mu), Expr::powi(s, 2));
//! assert_eq!(latex(&score, &LatexStyle::default()), r"\frac{x - \mu}{\sigma^{2}}");
//! ```

use crate::ir::expr::{Constant, Expr, Func, Name};
use crate::ir::layout::{self, Factor, P_ADD, P_ATOM, P_MUL, P_NEG, P_POW, Prec, Product};
use num_traits::One;

/// Output options for LaTeX.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatexStyle {
    /// Variables a sum should start with (usually the model's data
    /// variables); see [`crate::ir::text::TextStyle::leading`].
    pub leading: Vec<Name>,
}

impl LatexStyle {
    /// The same style with these leading variables.
    pub fn with_leading<S: AsRef<str>>(mut self, names: impl IntoIterator<Item = S>) -> LatexStyle {
        self.leading = names.into_iter().map(|n| Name::from(n.as_ref())).collect();
        self
    }
}

/// Render an expression as LaTeX (math mode, without delimiters).
pub fn latex(e: &Expr, style: &LatexStyle) -> String {
    Printer {
        style,
        euler_sub: layout::euler_clash([e]),
    }
    .expr(e)
    .0
}

/// Render several expressions shown together (matrix cells) with one notation.
pub(crate) fn latex_all(exprs: &[&Expr], style: &LatexStyle) -> Vec<String> {
    let p = Printer {
        style,
        euler_sub: layout::euler_clash(exprs.iter().copied()),
    };
    exprs.iter().map(|e| p.expr(e).0).collect()
}

/// A variable name in LaTeX: `alpha` → `\alpha`, `a[2]` → `a_{2}`,
/// `b0` → `b_{0}`, `sigma_x` → `\sigma_{x}`, `rate` → `\mathrm{rate}`.
///
/// ```
/// use fimkit::render::latex::latex_name;
/// assert_eq!(latex_name("alpha[2]"), r"\alpha_{2}");
/// assert_eq!(latex_name("mu_obs"), r"\mu_{\mathrm{obs}}");
/// ```
pub fn latex_name(name: &str) -> String {
    let parts = layout::split_name(name);
    let mut out = stem(parts.stem);
    if !parts.subs.is_empty() {
        let subs: Vec<String> = parts
            .subs
            .iter()
            .map(|s| {
                if s.chars().all(|c| c.is_ascii_digit() || c == ',') {
                    s.to_string()
                } else {
                    latex_name(s)
                }
            })
            .collect();
        out.push_str("_{");
        out.push_str(&subs.join(","));
        out.push('}');
    }
    out
}

fn stem(s: &str) -> String {
    if let Some(g) = layout::greek(s) {
        return g.2.to_string();
    }
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => c.to_string(),
        _ => format!(r"\mathrm{{{}}}", escape(s)),
    }
}

/// Escape the characters of a name that are special in LaTeX.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '_' => out.push_str(r"\_"),
            c if c.is_ascii_alphanumeric() || c == ',' => out.push(c),
            c => {
                // Names are ASCII identifiers; anything else is shown verbatim in \text.
                out.push_str(&format!(r"\text{{{c}}}"));
            }
        }
    }
    out
}

/// Parentheses that grow with tall content.
fn paren(s: &str) -> String {
    if s.contains(r"\frac") || s.contains(r"\sqrt") || s.contains(r"\begin") {
        format!(r"\left({s}\right)")
    } else {
        format!("({s})")
    }
}

struct Printer<'a> {
    style: &'a LatexStyle,
    euler_sub: bool,
}

impl Printer<'_> {
    fn wrap(&self, (s, p): (String, Prec), min: Prec) -> String {
        if p < min { paren(&s) } else { s }
    }

    fn expr(&self, e: &Expr) -> (String, Prec) {
        match e {
            Expr::Const(c) => (
                match c {
                    Constant::Pi => r"\pi".into(),
                    Constant::E => "e".into(),
                    Constant::EulerGamma if self.euler_sub => r"\gamma_{\mathrm{E}}".into(),
                    Constant::EulerGamma => r"\gamma".into(),
                },
                P_ATOM,
            ),
            Expr::Var(v) => (latex_name(v), P_ATOM),
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

    fn sum(&self, terms: &[Expr]) -> (String, Prec) {
        let mut out = String::new();
        for (i, p) in layout::sum(terms, &self.style.leading).iter().enumerate() {
            let mag = self.wrap(self.magnitude(p), P_MUL);
            match (i, p.negative) {
                (0, false) => out.push_str(&mag),
                (0, true) => {
                    out.push('-');
                    out.push_str(&mag);
                }
                (_, false) => {
                    out.push_str(" + ");
                    out.push_str(&mag);
                }
                (_, true) => {
                    out.push_str(" - ");
                    out.push_str(&mag);
                }
            }
        }
        (out, P_ADD)
    }

    fn product(&self, p: &Product) -> (String, Prec) {
        let mag = self.magnitude(p);
        if p.negative {
            (format!("-{}", self.wrap(mag, P_MUL)), P_NEG)
        } else {
            mag
        }
    }

    fn magnitude(&self, p: &Product) -> (String, Prec) {
        let mut num: Vec<(String, Prec, Option<&Factor>)> = Vec::new();
        if !p.coeff_num.is_one() || p.num.is_empty() {
            num.push((p.coeff_num.to_string(), P_ATOM, None));
        }
        num.extend(p.num.iter().map(|f| {
            let (s, pr) = self.factor(f);
            (s, pr, Some(f))
        }));
        let num = self.join(num);
        if !p.has_den() {
            return num;
        }
        let mut den: Vec<(String, Prec, Option<&Factor>)> = Vec::new();
        if !p.coeff_den.is_one() {
            den.push((p.coeff_den.to_string(), P_ATOM, None));
        }
        den.extend(p.den.iter().map(|f| {
            let (s, pr) = self.factor(f);
            (s, pr, Some(f))
        }));
        let den = self.join(den);
        (format!(r"\frac{{{}}}{{{}}}", num.0, den.0), P_MUL)
    }

    /// Juxtapose factors, with `\cdot` where the reader could misparse:
    /// before a digit, and between a variable that looks like a function
    /// (ψ, Φ, Γ, B, I) and a parenthesis.
    fn join(&self, items: Vec<(String, Prec, Option<&Factor>)>) -> (String, Prec) {
        if items.len() == 1 {
            let (s, p, _) = items.into_iter().next().unwrap_or_default();
            return (s, p);
        }
        let mut out = String::new();
        let mut prev: Option<Option<&Factor>> = None;
        for (s, p, f) in items {
            let s = self.wrap((s, p), P_MUL + 1);
            if let Some(pf) = &prev {
                let funclike = pf.is_some_and(|pf| {
                    pf.exp.is_one()
                        && matches!(&pf.base, Expr::Var(v) if {
                            let st = layout::split_name(v);
                            st.subs.is_empty() && matches!(st.stem, "psi" | "Phi" | "Gamma" | "B" | "I")
                        })
                });
                let needs_dot = s.starts_with(|c: char| c.is_ascii_digit() || c == '-')
                    || (funclike && (s.starts_with('(') || s.starts_with(r"\left(")));
                out.push_str(if needs_dot { r" \cdot " } else { " " });
            }
            out.push_str(&s);
            prev = Some(f);
        }
        (out, P_MUL)
    }

    fn factor(&self, f: &Factor) -> (String, Prec) {
        if f.exp.is_one() {
            return self.expr(&f.base);
        }
        if f.is_sqrt() {
            return (format!(r"\sqrt{{{}}}", self.expr(&f.base).0), P_ATOM);
        }
        let base = self.wrap(self.expr(&f.base), P_ATOM);
        let exp = match f.exp_num() {
            Some(r) if r.is_integer() => r.to_string(),
            Some(r) => format!("{}/{}", r.numer(), r.denom()),
            None => self.expr(&f.exp).0,
        };
        (format!("{base}^{{{exp}}}"), P_POW)
    }

    fn call(&self, f: Func, args: &[Expr]) -> (String, Prec) {
        if args.len() != f.arity() {
            // Only a hand-built `Expr::Call` can get here; show it plainly.
            return (self.plain_call(f, args), P_ATOM);
        }
        let a = |i: usize| self.expr(&args[i]).0;
        let pa = |i: usize| paren(&a(i));
        let s = match f {
            Func::Log => format!(r"\log{}", pa(0)),
            Func::Exp => format!(r"\exp{}", pa(0)),
            Func::Log1p => format!(
                r"\log{}",
                paren(&self.expr(&Expr::add2(Expr::one(), args[0].clone())).0)
            ),
            Func::Expm1 => return (format!(r"\exp{} - 1", pa(0)), P_ADD),
            Func::Sigmoid => format!(r"\operatorname{{sigmoid}}{}", pa(0)),
            Func::Lgamma => format!(r"\ln\Gamma{}", pa(0)),
            Func::Polygamma => {
                return match args[0].as_int() {
                    Some(0) => (format!(r"\psi{}", pa(1)), P_ATOM),
                    Some(n) => (format!(r"\psi^{{({n})}}{}", pa(1)), P_POW),
                    None => (format!(r"\psi^{{({})}}{}", a(0), pa(1)), P_POW),
                };
            }
            Func::Lbeta => format!(r"\ln\mathrm{{B}}({}, {})", a(0), a(1)),
            Func::Erf => format!(r"\operatorname{{erf}}{}", pa(0)),
            Func::Erfc => format!(r"\operatorname{{erfc}}{}", pa(0)),
            Func::Sin => format!(r"\sin{}", pa(0)),
            Func::Cos => format!(r"\cos{}", pa(0)),
            Func::BesselI => format!("I_{{{}}}{}", a(0), pa(1)),
            Func::Abs => format!(r"\left\lvert {}\right\rvert", a(0)),
            Func::NormalCdf => format!(r"\Phi{}", pa(0)),
            Func::Indicator => format!(r"\mathbb{{1}}[{} = {}]", a(0), a(1)),
            // Shown by their definitions (see `expr`); never reached.
            Func::LogNormalCdf
            | Func::LogSigmoid
            | Func::LogBesselI
            | Func::Mills
            | Func::MillsShift => self.plain_call(f, args),
        };
        (s, P_ATOM)
    }

    /// `\operatorname{name}(a, b)`.
    fn plain_call(&self, f: Func, args: &[Expr]) -> String {
        let args: Vec<String> = args.iter().map(|x| self.expr(x).0).collect();
        format!(r"\operatorname{{{}}}{}", f.name(), paren(&args.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tex(e: &Expr) -> String {
        latex(e, &LatexStyle::default())
    }

    #[test]
    fn names() {
        assert_eq!(latex_name("sigma"), r"\sigma");
        assert_eq!(latex_name("x"), "x");
        assert_eq!(latex_name("b0"), "b_{0}");
        assert_eq!(latex_name("rate"), r"\mathrm{rate}");
        assert_eq!(latex_name("x_1[2]"), "x_{1,2}");
        assert_eq!(latex_name("_tmp"), r"\mathrm{\_tmp}");
    }

    #[test]
    fn fractions_and_powers() {
        let (x, s) = (Expr::var("x"), Expr::var("sigma"));
        let e = Expr::neg(Expr::div(
            Expr::powi(x.clone(), 2),
            Expr::mul2(Expr::int(2), Expr::powi(s.clone(), 2)),
        ));
        assert_eq!(tex(&e), r"-\frac{x^{2}}{2 \sigma^{2}}");
        assert_eq!(tex(&Expr::sqrt(x.clone())), r"\sqrt{x}");
        assert_eq!(
            tex(&Expr::recip(Expr::sqrt(x.clone()))),
            r"\frac{1}{\sqrt{x}}"
        );
        assert_eq!(tex(&Expr::pow(x.clone(), Expr::rational(3, 2))), "x^{3/2}");
        assert_eq!(
            tex(&Expr::mul2(Expr::int(3), Expr::pow(Expr::int(2), x))),
            r"3 \cdot 2^{x}"
        );
    }
}
