//! How a family is recognised in a raw `logp +=` density: the support its
//! data must have and where its known quantities κ (a binomial's n, a
//! Weibull's shape, ...) are found — in the support, or in a monomial of
//! the linearized density. Declared once per family in the table
//! ([`super::ExpFamily::raw`]); `fisher::raw` reads it and compares the
//! family's own statistics and base measure with the density's.

use crate::ir::expr::{Expr, Func};
use crate::ir::model::Support;

/// What a family sees of a group of raw data it is matched against.
pub struct RawView<'a> {
    /// The data of the group, in declaration order.
    pub x: &'a [Expr],
    /// Their supports, one each.
    pub supports: &'a [Support],
    /// The monomials of the density linearized in the data.
    pub monomials: Vec<&'a Expr>,
}

/// The support a recognised family's data must have. Variants named
/// "known" give the first known quantity κ₀ from the support itself.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RawSupport {
    /// One continuous variable on (lo, hi); `None` is infinite.
    Interval {
        /// Lower end.
        lo: Option<f64>,
        /// Upper end.
        hi: Option<f64>,
    },
    /// One continuous variable on (κ₀, ∞), κ₀ ≠ 0 (a Pareto's scale).
    AboveKnown,
    /// One variable in {0, 1}.
    Binary,
    /// One integer variable in 0..κ₀ (a binomial's n).
    UpToKnown,
    /// One integer variable in 0, 1, 2, ...
    Counts,
    /// Every component of one vector on the simplex.
    Simplex,
    /// Counts written by hand, x₁ : 0..n, x₂ : 0..(n − x₁), ...: κ₀ = n,
    /// and the last count, n − Σx, is implied rather than a variable. The
    /// family's statistics must end with that count's own (one), so the
    /// raw route drops the last statistic and sets its natural parameter
    /// to 0 in A(η) (the multinomial's minimal form).
    ChainedCounts,
}

/// A monomial of the density that gives a known quantity κ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownMonomial {
    /// `x^k`, k free of the data: κ = k (a Weibull's shape).
    Power,
    /// `|x − m|`: κ = m (a Laplace's location).
    AbsCentre,
    /// `lgamma(x + r)`, r ≠ 1: κ = r (a negative binomial's r).
    LgammaShift,
}

/// How raw matching finds a family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recognise {
    /// Raw matching tries families in increasing priority, first match
    /// wins (see [`super::recognisable`] for why the order is explicit).
    pub priority: u8,
    /// The support the data must have.
    pub support: RawSupport,
    /// A monomial that gives a known quantity, after any the support gives.
    pub monomial: Option<KnownMonomial>,
}

impl Recognise {
    /// The possible values of the known quantities κ for this data (one
    /// list per reading, an empty list for a family with none); no reading
    /// when the support or the monomials do not fit.
    pub fn discover(&self, c: &RawView) -> Vec<Vec<Expr>> {
        let Some(from_support) = self.support_known(c) else {
            return vec![];
        };
        let Some(kind) = self.monomial else {
            return vec![from_support];
        };
        c.monomials
            .iter()
            .filter_map(|m| monomial_known(kind, &c.x[0], m))
            .map(|k| {
                let mut known = from_support.clone();
                known.push(k);
                known
            })
            .collect()
    }

    /// The data the family's statistics and base measure are written in:
    /// `x`, with the implied last count of [`RawSupport::ChainedCounts`]
    /// appended.
    pub fn complete(&self, x: &[Expr], known: &[Expr]) -> Vec<Expr> {
        let mut full = x.to_vec();
        if self.support == RawSupport::ChainedCounts
            && let Some(n) = known.first()
        {
            full.push(Expr::sub(n.clone(), Expr::add(x.to_vec())));
        }
        full
    }

    /// The known quantities the support gives (`Some(vec![])` for none),
    /// or `None` when the data's support is not the family's.
    fn support_known(&self, c: &RawView) -> Option<Vec<Expr>> {
        let one = c.x.len() == 1;
        match self.support {
            RawSupport::Interval { lo, hi } => {
                let end = |want: Option<f64>, got: &Option<Expr>| match want {
                    None => got.is_none(),
                    Some(v) => got.as_ref().and_then(Expr::numeric_value) == Some(v),
                };
                (one && matches!(&c.supports[0], Support::Continuous { lo: l, hi: h }
                    if end(lo, l) && end(hi, h)))
                .then(Vec::new)
            }
            RawSupport::AboveKnown => match &c.supports[0] {
                Support::Continuous {
                    lo: Some(xm),
                    hi: None,
                } if one && !xm.is_zero() => Some(vec![xm.clone()]),
                _ => None,
            },
            RawSupport::Binary => (one && c.supports[0].is_binary()).then(Vec::new),
            RawSupport::UpToKnown => match &c.supports[0] {
                Support::Integers { lo, hi: Some(n) } if one && lo.is_zero() => {
                    Some(vec![n.clone()])
                }
                _ => None,
            },
            RawSupport::Counts => (one
                && matches!(&c.supports[0], Support::Integers { lo, hi: None } if lo.is_zero()))
            .then(Vec::new),
            RawSupport::Simplex => {
                matches!(&c.supports[0], Support::Simplex { dim, .. } if *dim == c.x.len())
                    .then(Vec::new)
            }
            RawSupport::ChainedCounts => chained_total(c.x, c.supports).map(|n| vec![n]),
        }
    }
}

/// The known quantity a monomial of the density gives, if it is of `kind`.
fn monomial_known(kind: KnownMonomial, x: &Expr, m: &Expr) -> Option<Expr> {
    let name = x.to_string();
    match (kind, m) {
        (KnownMonomial::Power, Expr::Pow(b, k))
            if **b == *x && k.free_vars().iter().all(|v| !x.contains_var(v)) =>
        {
            Some((**k).clone())
        }
        (KnownMonomial::AbsCentre, Expr::Call(Func::Abs, a)) if a[0].contains_var(&name) => {
            let m = Expr::sub(x.clone(), a[0].clone());
            (!m.contains_var(&name)).then_some(m)
        }
        (KnownMonomial::LgammaShift, Expr::Call(Func::Lgamma, a)) => {
            let r = Expr::sub(a[0].clone(), x.clone());
            (!r.contains_var(&name) && !r.is_one()).then_some(r)
        }
        _ => None,
    }
}

/// For counts x1 : 0..n, x2 : 0..(n − x1), ..., the total n.
fn chained_total(x: &[Expr], supports: &[Support]) -> Option<Expr> {
    if x.len() < 2 {
        return None;
    }
    let mut total = None;
    for (k, s) in supports.iter().enumerate() {
        let Support::Integers { lo, hi: Some(hi) } = s else {
            return None;
        };
        if !lo.is_zero() {
            return None;
        }
        let n = Expr::add2(hi.clone(), Expr::add(x[..k].to_vec()));
        match &total {
            None => total = Some(n),
            Some(t) if *t == n => {}
            Some(_) => return None,
        }
    }
    total.filter(|n| {
        x.iter()
            .all(|xk| !n.free_vars().iter().any(|v| xk.contains_var(v)))
    })
}
