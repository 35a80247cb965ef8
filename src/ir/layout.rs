//! Display layout shared by the text and LaTeX renderers.
//!
//! The IR keeps one canonical form; a reader wants another: `x − μ` rather
//! than `−μ + x`, `(x − μ)²` rather than `(μ − x)²`, a positive term first,
//! the numeric constant last, one fraction bar per product. This module
//! decides that arrangement once, as data ([`Product`], [`Factor`]), and the
//! text and LaTeX printers only spell it. Nothing here changes a value: a
//! sum is negated only together with the sign in front of it, or under an
//! even power.

use crate::ir::expr::{Expr, Func, Name, Rational};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use std::cmp::Ordering;

/// Precedence of a rendered piece: higher binds tighter.
pub(crate) type Prec = u8;
/// A sum.
pub(crate) const P_ADD: Prec = 1;
/// A product or quotient.
pub(crate) const P_MUL: Prec = 2;
/// A negated piece.
pub(crate) const P_NEG: Prec = 3;
/// A power.
pub(crate) const P_POW: Prec = 4;
/// An atom: name, number, call, parenthesised group.
pub(crate) const P_ATOM: Prec = 5;

/// One factor of a product as displayed: `base ^ exp` with `exp` positive
/// (a number > 0, or a symbolic exponent without a negative coefficient).
#[derive(Clone, Debug)]
pub(crate) struct Factor {
    pub base: Expr,
    pub exp: Expr,
}

impl Factor {
    fn plain(base: Expr) -> Factor {
        Factor {
            base,
            exp: Expr::one(),
        }
    }

    /// The exponent when it is a number.
    pub fn exp_num(&self) -> Option<&Rational> {
        self.exp.as_num()
    }

    /// True for `base^(1/2)`.
    pub fn is_sqrt(&self) -> bool {
        self.exp_num()
            .is_some_and(|r| *r == Rational::new(BigInt::one(), BigInt::from(2)))
    }
}

/// A product (or a single factor, or a number) as displayed:
/// `± (coeff_num · num) / (coeff_den · den)`.
#[derive(Clone, Debug)]
pub(crate) struct Product {
    /// A leading minus sign.
    pub negative: bool,
    /// Numerator of the numeric coefficient (≥ 1).
    pub coeff_num: BigInt,
    /// Denominator of the numeric coefficient (≥ 1).
    pub coeff_den: BigInt,
    /// Factors above the fraction bar, in display order.
    pub num: Vec<Factor>,
    /// Factors below the fraction bar, in display order.
    pub den: Vec<Factor>,
}

impl Product {
    /// Is there anything below the fraction bar?
    pub fn has_den(&self) -> bool {
        !self.den.is_empty() || !self.coeff_den.is_one()
    }
}

/// Arrange a product, power, number or atom for display. `leading` lists the
/// variables a sum should start with (the model's data).
pub(crate) fn product(e: &Expr, leading: &[Name]) -> Product {
    arrange(e, leading, false)
}

/// [`product`] for a term of a sum (`in_sum`), where a minus sign in front
/// costs nothing (it becomes the operator), so a sum factor keeps its
/// complement form `1 − p` rather than absorb the sign; elsewhere a
/// visible minus is worse than `α ψ₁(α) − 1`.
fn arrange(e: &Expr, leading: &[Name], in_sum: bool) -> Product {
    let factors: &[Expr] = match e {
        Expr::Mul(fs) => fs,
        other => std::slice::from_ref(other),
    };
    let mut coeff = Rational::one();
    let mut num = Vec::new();
    let mut den = Vec::new();
    for f in factors {
        match f {
            Expr::Num(r) => coeff *= r,
            Expr::Pow(b, x) => {
                if x.split_coeff().0.is_negative() {
                    den.push(Factor {
                        base: (**b).clone(),
                        exp: Expr::neg((**x).clone()),
                    });
                } else {
                    num.push(Factor {
                        base: (**b).clone(),
                        exp: (**x).clone(),
                    });
                }
            }
            other => num.push(Factor::plain(other.clone())),
        }
    }
    let mut negative = coeff.is_negative();
    // Even powers of sums: show the nicer of S and −S.
    for f in num.iter_mut().chain(den.iter_mut()) {
        if let Expr::Add(_) = f.base
            && f.exp_num()
                .is_some_and(|r| r.is_integer() && (r.to_integer() % 2u8).is_zero())
        {
            let flipped = Expr::neg(f.base.clone());
            if niceness(&flipped, leading) < niceness(&f.base, leading) {
                f.base = flipped;
            }
        }
    }
    // An odd power of a sum may absorb the minus sign in front, where the
    // flipped sum reads no worse: −(μ − x)/σ² = (x − μ)/σ², but
    // −y·σ(1 − σ) keeps its complement 1 − σ.
    if negative {
        let best = num
            .iter_mut()
            .chain(den.iter_mut())
            .filter(|f| is_odd_sum(f))
            .map(|f| {
                let flipped = Expr::neg(f.base.clone());
                let (a, b) = (niceness(&flipped, leading), niceness(&f.base, leading));
                let gain = if in_sum {
                    a.cmp(&b)
                } else {
                    (a.0, a.2).cmp(&(b.0, b.2))
                };
                (gain, f, flipped)
            })
            .filter(|(gain, _, _)| gain.is_le())
            .min_by_key(|(gain, _, _)| *gain);
        if let Some((_, f, flipped)) = best {
            f.base = flipped;
            negative = false;
        }
    }
    // Two odd sums that both read better flipped flip together (the sign
    // is unchanged): (x − μ)(y − ν) rather than (x − μ)(ν − y)... when
    // only one would, it stays, since flipping it alone shows a minus.
    let mut better: Vec<&mut Factor> = num
        .iter_mut()
        .chain(den.iter_mut())
        .filter(|f| is_odd_sum(f))
        .filter(|f| niceness(&Expr::neg(f.base.clone()), leading) < niceness(&f.base, leading))
        .collect();
    if better.len() % 2 == 1 {
        better.pop();
    }
    for f in better {
        f.base = Expr::neg(f.base.clone());
    }
    merge_roots(&mut num);
    merge_roots(&mut den);
    sort_factors(&mut num);
    sort_factors(&mut den);
    let coeff = coeff.abs();
    Product {
        negative,
        coeff_num: coeff.numer().clone(),
        coeff_den: coeff.denom().clone(),
        num,
        den,
    }
}

/// One square root for positive constants: `√2·√π` → `√(2π)`, exact
/// because both are positive.
fn merge_roots(fs: &mut Vec<Factor>) {
    let positive_constant = |f: &Factor| {
        f.is_sqrt()
            && match &f.base {
                Expr::Num(r) => r.is_positive(),
                Expr::Const(_) => true,
                _ => false,
            }
    };
    if fs.iter().filter(|f| positive_constant(f)).count() < 2 {
        return;
    }
    let (roots, rest): (Vec<Factor>, Vec<Factor>) = std::mem::take(fs)
        .into_iter()
        .partition(|f| positive_constant(f));
    *fs = rest;
    fs.push(Factor {
        base: Expr::mul(roots.into_iter().map(|f| f.base).collect()),
        exp: Expr::rational(1, 2),
    });
}

/// A sum raised to an odd integer power (flipping it flips the sign).
fn is_odd_sum(f: &Factor) -> bool {
    matches!(f.base, Expr::Add(_))
        && f.exp_num()
            .is_some_and(|r| r.is_integer() && !(r.to_integer() % 2u8).is_zero())
}

/// Display order of factors: numbers (√2), constants (π), variables, sums,
/// then calls, an indicator first (`2π σ²`, `(α − 1) log x`, `[x = k] log p`); the canonical order within each class.
fn sort_factors(fs: &mut [Factor]) {
    let class = |f: &Factor| match f.base {
        Expr::Num(_) => 0,
        Expr::Const(_) => 1,
        Expr::Var(_) => 2,
        Expr::Call(Func::Indicator, _) => 3,
        Expr::Add(_) => 4,
        Expr::Call(..) => 5,
        Expr::Mul(_) | Expr::Pow(..) => 6,
    };
    // Variables in natural order (α₂ before α₁₀); otherwise the order the
    // factors came in (the canonical one, or the flips above).
    fs.sort_by(|a, b| {
        class(a)
            .cmp(&class(b))
            .then_with(|| match (&a.base, &b.base) {
                (Expr::Var(x), Expr::Var(y)) => natural_str(x, y),
                _ => Ordering::Equal,
            })
    });
}

/// The canonical order of expressions ([`Expr`]'s `Ord`), except that
/// variable names compare in natural order: `alpha[2]` before `alpha[10]`,
/// `x2` before `x10`. Only the display uses it; the IR keeps its order.
pub(crate) fn natural_cmp(a: &Expr, b: &Expr) -> Ordering {
    fn variant(e: &Expr) -> u8 {
        match e {
            Expr::Num(_) => 0,
            Expr::Const(_) => 1,
            Expr::Var(_) => 2,
            Expr::Add(_) => 3,
            Expr::Mul(_) => 4,
            Expr::Pow(..) => 5,
            Expr::Call(..) => 6,
        }
    }
    fn all(xs: &[Expr], ys: &[Expr]) -> Ordering {
        xs.iter()
            .zip(ys)
            .map(|(x, y)| natural_cmp(x, y))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| xs.len().cmp(&ys.len()))
    }
    match (a, b) {
        (Expr::Var(x), Expr::Var(y)) => natural_str(x, y),
        (Expr::Add(xs), Expr::Add(ys)) | (Expr::Mul(xs), Expr::Mul(ys)) => all(xs, ys),
        (Expr::Pow(b1, e1), Expr::Pow(b2, e2)) => {
            natural_cmp(b1, b2).then_with(|| natural_cmp(e1, e2))
        }
        (Expr::Call(f, xs), Expr::Call(g, ys)) => f.cmp(g).then_with(|| all(xs, ys)),
        _ => variant(a).cmp(&variant(b)).then_with(|| a.cmp(b)),
    }
}

/// Natural order of names: runs of digits compare as numbers.
fn natural_str(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[i - 1].is_ascii_digit() {
                out.push(&s[start..i]);
                start = i;
            }
        }
        out
    }
    let digits = |c: &str| c.bytes().all(|b| b.is_ascii_digit());
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(&cb) {
        let o = if digits(x) && digits(y) {
            let (tx, ty) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
        } else {
            x.cmp(y)
        };
        if o.is_ne() {
            return o;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

/// The terms of a sum in display order, each arranged as a product with
/// its sign: the positive terms, then the negative ones (`x1 + x2 − n`);
/// within each, terms with a leading variable first (in the order of
/// `leading`), then the others in natural order (`α₂` before `α₁₀`), the
/// numeric constant last.
pub(crate) fn sum(terms: &[Expr], leading: &[Name]) -> Vec<Product> {
    sum_ranked(terms, leading)
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// [`sum`] with each term's leading rank.
fn sum_ranked(terms: &[Expr], leading: &[Name]) -> Vec<(usize, Product)> {
    let mut natural: Vec<(Rational, Expr, &Expr)> = terms
        .iter()
        .map(|t| {
            let (c, rest) = t.split_coeff();
            (c, rest, t)
        })
        .collect();
    natural.sort_by(|a, b| natural_cmp(&a.1, &b.1).then_with(|| a.0.cmp(&b.0)));
    let mut keyed: Vec<(bool, bool, usize, Product)> = natural
        .into_iter()
        .map(|(_, _, t)| {
            let p = arrange(t, leading, true);
            (
                p.negative,
                t.as_num().is_some(),
                leading_rank(t, leading),
                p,
            )
        })
        .collect();
    keyed.sort_by_key(|&(negative, is_num, rank, _)| (negative, is_num, rank));
    keyed.into_iter().map(|(_, _, rank, p)| (rank, p)).collect()
}

/// Index in `leading` of the term's variable when the term is a leading
/// variable with at most a number and a power (`x`, `-2·x`, `x²`), else
/// `usize::MAX`: `x + μ`, but `a + b·x` keeps the intercept first.
fn leading_rank(t: &Expr, leading: &[Name]) -> usize {
    if leading.is_empty() {
        return usize::MAX;
    }
    let (_, rest) = t.split_coeff();
    match rest.split_pow().0 {
        Expr::Var(v) => leading.iter().position(|l| *l == v).unwrap_or(usize::MAX),
        _ => usize::MAX,
    }
}

/// How a sum reads when displayed, lower is better: a leading minus is
/// worst; then a trailing negative constant (`p − 1` reads worse than the
/// complement `1 − p`); then a first term without a leading variable
/// (`μ − x` reads worse than `x − μ` when `x` is data).
///
/// It looks only at the sum's own terms (their coefficients' signs), not
/// at how nested sums would be arranged, so deciding costs time linear in
/// the number of terms and nesting never multiplies the work.
fn niceness(s: &Expr, leading: &[Name]) -> (bool, bool, usize) {
    let Expr::Add(terms) = s else {
        return (false, false, usize::MAX);
    };
    let negative = |t: &Expr| t.split_coeff().0.is_negative();
    let mut keyed: Vec<(bool, usize, bool)> = terms
        .iter()
        .map(|t| (t.as_num().is_some(), leading_rank(t, leading), negative(t)))
        .collect();
    keyed.sort_by_key(|&(is_num, rank, _)| (is_num, rank));
    let first = keyed
        .iter()
        .find(|k| !k.2)
        .or(keyed.first())
        .copied()
        .unwrap_or((false, usize::MAX, false));
    let last = keyed.last().copied().unwrap_or((false, usize::MAX, false));
    let trailing_negative_constant = keyed.len() > 1 && last.0 && last.2;
    (first.2, trailing_negative_constant, first.1)
}

/// Does a variable whose name renders as γ occur in any of the
/// expressions? Then Euler's constant needs a subscript (γₑ).
pub(crate) fn euler_clash<'a>(exprs: impl IntoIterator<Item = &'a Expr>) -> bool {
    fn walk(e: &Expr) -> bool {
        match e {
            Expr::Var(v) => split_name(v).stem == "gamma",
            Expr::Pow(b, x) => walk(b) || walk(x),
            _ => e.children().iter().any(walk),
        }
    }
    exprs.into_iter().any(walk)
}

/// A variable name taken apart for display: `sigma_x` → stem `sigma`,
/// subscripts `[x]`; `b0` → `b`, `[0]`; `alpha[2]` → `alpha`, `[2]`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NameParts<'a> {
    pub stem: &'a str,
    pub subs: Vec<&'a str>,
}

/// Split a variable name into stem and subscripts (see [`NameParts`]).
pub(crate) fn split_name(name: &str) -> NameParts<'_> {
    let (base, index) = match name.find('[') {
        Some(i) => (&name[..i], Some(name[i + 1..].trim_end_matches(']'))),
        None => (name, None),
    };
    let mut subs = Vec::new();
    let stem = match base.char_indices().skip(1).find(|&(_, c)| c == '_') {
        Some((i, _)) if i + 1 < base.len() => {
            subs.push(&base[i + 1..]);
            &base[..i]
        }
        _ => {
            let trimmed = base.trim_end_matches(|c: char| c.is_ascii_digit());
            if !trimmed.is_empty() && trimmed.len() < base.len() {
                subs.push(&base[trimmed.len()..]);
                trimmed
            } else {
                base
            }
        }
    };
    if let Some(ix) = index
        && !ix.is_empty()
    {
        subs.push(ix);
    }
    NameParts { stem, subs }
}

/// Greek letter names: the language spelling, the Unicode letter, the LaTeX command.
pub(crate) const GREEK: &[(&str, &str, &str)] = &[
    ("alpha", "α", r"\alpha"),
    ("beta", "β", r"\beta"),
    ("gamma", "γ", r"\gamma"),
    ("delta", "δ", r"\delta"),
    ("epsilon", "ε", r"\varepsilon"),
    ("zeta", "ζ", r"\zeta"),
    ("eta", "η", r"\eta"),
    ("theta", "θ", r"\theta"),
    ("iota", "ι", r"\iota"),
    ("kappa", "κ", r"\kappa"),
    ("lambda", "λ", r"\lambda"),
    ("mu", "μ", r"\mu"),
    ("nu", "ν", r"\nu"),
    ("xi", "ξ", r"\xi"),
    ("rho", "ρ", r"\rho"),
    ("sigma", "σ", r"\sigma"),
    ("tau", "τ", r"\tau"),
    ("upsilon", "υ", r"\upsilon"),
    ("phi", "φ", r"\phi"),
    ("chi", "χ", r"\chi"),
    ("psi", "ψ", r"\psi"),
    ("omega", "ω", r"\omega"),
    ("Gamma", "Γ", r"\Gamma"),
    ("Delta", "Δ", r"\Delta"),
    ("Theta", "Θ", r"\Theta"),
    ("Lambda", "Λ", r"\Lambda"),
    ("Xi", "Ξ", r"\Xi"),
    ("Pi", "Π", r"\Pi"),
    ("Sigma", "Σ", r"\Sigma"),
    ("Upsilon", "Υ", r"\Upsilon"),
    ("Phi", "Φ", r"\Phi"),
    ("Psi", "Ψ", r"\Psi"),
    ("Omega", "Ω", r"\Omega"),
];

/// The Greek entry for a stem, if it names a letter.
pub(crate) fn greek(stem: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    GREEK.iter().find(|(n, _, _)| *n == stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<Name> {
        v.iter().map(|s| Name::from(*s)).collect()
    }

    #[test]
    fn names_split() {
        assert_eq!(
            split_name("sigma_x"),
            NameParts {
                stem: "sigma",
                subs: vec!["x"]
            }
        );
        assert_eq!(split_name("b0").subs, vec!["0"]);
        assert_eq!(split_name("alpha[2]").subs, vec!["2"]);
        assert_eq!(split_name("x_1[3]").subs, vec!["1", "3"]);
        assert_eq!(split_name("_x").stem, "_x");
        assert_eq!(split_name("x_").stem, "x_");
        assert_eq!(split_name("12").stem, "12");
    }

    #[test]
    fn even_power_prefers_data_first() {
        let (x, mu) = (Expr::var("x"), Expr::var("mu"));
        let sq = Expr::powi(Expr::sub(x.clone(), mu.clone()), 2);
        let p = product(&sq, &names(&["x"]));
        assert_eq!(p.num[0].base, Expr::sub(x.clone(), mu.clone()));
        let p = product(&sq, &[]);
        assert_eq!(
            p.num[0].base,
            Expr::sub(mu, x),
            "canonical without a preference"
        );
    }

    #[test]
    fn odd_sums_flip_in_pairs() {
        let (x, y, mu, nu) = (
            Expr::var("x"),
            Expr::var("y"),
            Expr::var("mu"),
            Expr::var("nu"),
        );
        let e = Expr::mul2(
            Expr::sub(mu.clone(), x.clone()),
            Expr::sub(nu.clone(), y.clone()),
        );
        let p = product(&e, &names(&["x", "y"]));
        assert!(!p.negative);
        let bases: Vec<Expr> = p.num.iter().map(|f| f.base.clone()).collect();
        assert!(bases.contains(&Expr::sub(x.clone(), mu.clone())));
        assert!(bases.contains(&Expr::sub(y.clone(), nu.clone())));
        // Only one of them data: it stays, rather than show a minus.
        let p = product(&e, &names(&["x"]));
        assert!(!p.negative);
        assert!(
            p.num
                .iter()
                .any(|f| f.base == Expr::sub(mu.clone(), x.clone()))
        );
    }

    #[test]
    fn natural_order_of_names() {
        let mut v = vec!["alpha[10]", "alpha[2]", "x10", "x9", "b", "a1b", "x09"];
        v.sort_by(|a, b| natural_str(a, b));
        assert_eq!(v, ["a1b", "alpha[2]", "alpha[10]", "b", "x09", "x9", "x10"]);
    }

    #[test]
    fn positive_terms_first() {
        let (n, x1, x2) = (Expr::var("n"), Expr::var("x1"), Expr::var("x2"));
        let s = Expr::add(vec![x1, x2, Expr::neg(n)]);
        let Expr::Add(terms) = &s else {
            panic!("a sum")
        };
        let shown: Vec<bool> = sum(terms, &[]).iter().map(|p| p.negative).collect();
        assert_eq!(shown, [false, false, true]);
    }

    #[test]
    fn euler_detection() {
        let e = Expr::add2(
            Expr::var("gamma"),
            Expr::Const(crate::ir::Constant::EulerGamma),
        );
        assert!(euler_clash([&e]));
        assert!(!euler_clash([&Expr::var("gam")]));
    }
}
