//! What is known about where a value lies: a coarse interval plus integer
//! and non-zero flags, and the [`Assumptions`] a model gives its variables.
//!
//! Interval ends live on the grid −∞ < −1 < 0 < 1 < +∞, each open or
//! closed. The grid is just fine enough for every side condition the rules
//! need (positive, non-negative, in (0, 1), …) and finite, so the e-graph
//! analysis that intersects these facts always reaches a fixed point.
//! Every operation rounds *outward*: a fact is only ever weakened, never
//! invented.

use crate::ir::expr::{Constant, Expr, Func, Name, Rational};
use crate::ir::model::{Domain, Model, Support};
use num_traits::{Signed, ToPrimitive, Zero};
use std::collections::BTreeMap;

/// A point of the grid −∞, −1, 0, 1, +∞ (stored as −2 … 2).
type Level = i8;
const NEG_INF: Level = -2;
const POS_INF: Level = 2;

/// One end of an interval: a grid level, and whether the end is excluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct End {
    at: Level,
    open: bool,
}

impl End {
    fn closed(at: Level) -> End {
        End { at, open: false }
    }
    fn open(at: Level) -> End {
        End { at, open: true }
    }
    fn neg_inf() -> End {
        End::open(NEG_INF)
    }
    fn pos_inf() -> End {
        End::open(POS_INF)
    }
    fn is_finite(self) -> bool {
        self.at != NEG_INF && self.at != POS_INF
    }
}

/// Facts about the values of an expression: it lies in an interval whose
/// ends are on the grid −∞, −1, 0, 1, +∞ (open or closed), it may be known
/// to be an integer, and it may be known to be non-zero.
///
/// ```
/// use fimkit::symbolic::simplify::Bounds;
/// let p = Bounds::unit();
/// let one = fimkit::ir::Rational::from_integer(1.into());
/// let one_minus_p = Bounds::exactly(&one).add(&p.neg());
/// assert!(one_minus_p.is_unit());
/// assert!(Bounds::positive().mul(&Bounds::negative()).is_negative());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    lo: End,
    hi: End,
    integer: bool,
    nonzero: bool,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds::real()
    }
}

impl Bounds {
    fn new(lo: End, hi: End) -> Bounds {
        Bounds {
            lo,
            hi,
            integer: false,
            nonzero: false,
        }
        .normalized()
    }

    /// Nothing known: the real line.
    pub fn real() -> Bounds {
        Bounds::new(End::neg_inf(), End::pos_inf())
    }

    /// `(0, ∞)`.
    pub fn positive() -> Bounds {
        Bounds::new(End::open(0), End::pos_inf())
    }

    /// `[0, ∞)`.
    pub fn nonnegative() -> Bounds {
        Bounds::new(End::closed(0), End::pos_inf())
    }

    /// `(-∞, 0)`.
    pub fn negative() -> Bounds {
        Bounds::new(End::neg_inf(), End::open(0))
    }

    /// `(0, 1)`.
    pub fn unit() -> Bounds {
        Bounds::new(End::open(0), End::open(1))
    }

    /// The (rounded-outward) bounds of one exact number.
    pub fn exactly(r: &Rational) -> Bounds {
        let mut b = Bounds::new(round_down(r), round_up(r));
        b.integer = r.is_integer();
        b.nonzero = !r.is_zero();
        b
    }

    /// The same bounds, also known to be integer-valued.
    pub fn integer(mut self) -> Bounds {
        self.integer = true;
        self.normalized()
    }

    /// The bounds of a declared domain or support `(lo, hi)` whose ends
    /// are expressions (numbers, constants or earlier variables), open or
    /// closed.
    fn between(lo: Option<Bounds>, hi: Option<Bounds>, closed: bool) -> Bounds {
        let lo_end = match lo {
            None => End::neg_inf(),
            Some(b) => End {
                at: b.lo.at,
                open: b.lo.open || !closed,
            },
        };
        let hi_end = match hi {
            None => End::pos_inf(),
            Some(b) => End {
                at: b.hi.at,
                open: b.hi.open || !closed,
            },
        };
        Bounds::new(lo_end, hi_end)
    }

    // ----- queries ------------------------------------------------------

    /// Known `> 0`.
    pub fn is_positive(&self) -> bool {
        self.lo.at > 0 || (self.lo.at == 0 && self.lo.open)
    }

    /// Known `≥ 0`.
    pub fn is_nonnegative(&self) -> bool {
        self.lo.at >= 0
    }

    /// Known `< 0`.
    pub fn is_negative(&self) -> bool {
        self.hi.at < 0 || (self.hi.at == 0 && self.hi.open)
    }

    /// Known `≤ 0`.
    pub fn is_nonpositive(&self) -> bool {
        self.hi.at <= 0
    }

    /// Known `≠ 0`.
    pub fn is_nonzero(&self) -> bool {
        self.nonzero
    }

    /// Known to lie in the open interval `(0, 1)`.
    pub fn is_unit(&self) -> bool {
        self.is_positive() && (self.hi.at < 1 || (self.hi.at == 1 && self.hi.open))
    }

    /// Known to be an integer.
    pub fn is_integer(&self) -> bool {
        self.integer
    }

    /// Does the interval contain no value at all (contradictory facts)?
    pub fn is_empty(&self) -> bool {
        self.lo.at > self.hi.at || (self.lo.at == self.hi.at && (self.lo.open || self.hi.open))
    }

    /// Derive the non-zero flag from the interval.
    fn normalized(mut self) -> Bounds {
        if self.is_positive() || self.is_negative() {
            self.nonzero = true;
        }
        // No integer lies strictly between two grid points -1, 0, 1: an
        // integer > 0 is ≥ 1, an integer > -1 is ≥ 0, and so on.
        if self.integer {
            if self.lo.open && (self.lo.at == 0 || self.lo.at == -1) {
                self.lo = End::closed(self.lo.at + 1);
            }
            if self.hi.open && (self.hi.at == 0 || self.hi.at == 1) {
                self.hi = End::closed(self.hi.at - 1);
            }
        }
        self
    }

    /// Both facts hold: intersect the intervals, join the flags.
    pub fn meet(&self, other: &Bounds) -> Bounds {
        let lo = if tighter_lo(other.lo, self.lo) {
            other.lo
        } else {
            self.lo
        };
        let hi = if tighter_hi(other.hi, self.hi) {
            other.hi
        } else {
            self.hi
        };
        Bounds {
            lo,
            hi,
            integer: self.integer || other.integer,
            nonzero: self.nonzero || other.nonzero,
        }
        .normalized()
    }

    // ----- arithmetic ---------------------------------------------------

    /// Bounds of `a + b`.
    pub fn add(&self, b: &Bounds) -> Bounds {
        let lo = add_end(self.lo, b.lo, false);
        let hi = add_end(self.hi, b.hi, true);
        let mut out = Bounds::new(lo, hi);
        out.integer = self.integer && b.integer;
        out.normalized()
    }

    /// Bounds of `-a`.
    pub fn neg(&self) -> Bounds {
        Bounds {
            lo: End {
                at: -self.hi.at,
                open: self.hi.open,
            },
            hi: End {
                at: -self.lo.at,
                open: self.lo.open,
            },
            integer: self.integer,
            nonzero: self.nonzero,
        }
    }

    /// Bounds of `a · b`.
    pub fn mul(&self, b: &Bounds) -> Bounds {
        let corners = [
            mul_end(self.lo, b.lo),
            mul_end(self.lo, b.hi),
            mul_end(self.hi, b.lo),
            mul_end(self.hi, b.hi),
        ];
        let mut lo = corners[0];
        let mut hi = corners[0];
        for c in &corners[1..] {
            if c.at < lo.at || (c.at == lo.at && !c.open) {
                lo = *c;
            }
            if c.at > hi.at || (c.at == hi.at && !c.open) {
                hi = *c;
            }
        }
        let lo = if lo.at == NEG_INF { End::neg_inf() } else { lo };
        let hi = if hi.at == POS_INF { End::pos_inf() } else { hi };
        let mut out = Bounds::new(lo, hi);
        out.integer = self.integer && b.integer;
        out.nonzero = self.nonzero && b.nonzero;
        out.normalized()
    }

    /// Bounds of `1/a` (where it is defined, so `a ≠ 0`).
    pub fn recip(&self) -> Bounds {
        let mut a = *self;
        // Where 1/a is defined a ≠ 0: a closed end at 0 becomes open.
        if a.lo.at == 0 {
            a.lo.open = true;
        }
        if a.hi.at == 0 {
            a.hi.open = true;
        }
        a = a.normalized();
        let out = if a.is_positive() || a.is_negative() {
            // Monotone decreasing on each side: [l, h] -> [1/h, 1/l].
            let pos = a.is_positive();
            Bounds::new(recip_end(a.hi, pos), recip_end(a.lo, pos))
        } else {
            Bounds::real()
        };
        Bounds {
            nonzero: true,
            ..out
        }
        .normalized()
    }

    /// Bounds of `a^b`, given the exponent `exact` when it is a number.
    pub fn pow(&self, exact: Option<&Rational>) -> Bounds {
        let Some(e) = exact else {
            // Symbolic exponent: only a positive base gives a sign.
            return if self.is_positive() {
                Bounds::positive()
            } else if self.is_nonnegative() {
                Bounds::nonnegative()
            } else {
                Bounds::real()
            };
        };
        if e.is_zero() {
            return Bounds::exactly(&Rational::from_integer(1.into()));
        }
        let base = if e.is_negative() { self.recip() } else { *self };
        let e_abs = e.abs();
        if e_abs.is_integer() {
            let n = e_abs.to_integer();
            let even = (&n % 2u8).is_zero();
            let one = n == 1u8.into();
            let mut out = if one {
                base
            } else if even {
                base.abs().pow_nonneg()
            } else {
                // Odd power: monotone, keeps the sign; |x| ≤ 1 stays ≤ 1.
                base.odd_pow()
            };
            out.integer = base.integer && !e.is_negative();
            out.nonzero = base.nonzero;
            out.normalized()
        } else {
            // A fractional power needs a non-negative base where defined.
            let nonneg = base.meet(&Bounds::nonnegative());
            let mut out = nonneg.pow_nonneg();
            out.nonzero = nonneg.nonzero;
            out.normalized()
        }
    }

    /// `x^c` for `x ≥ 0` and `c > 0` (non-integer or even): monotone
    /// increasing, 0 ↦ 0, 1 ↦ 1, ∞ ↦ ∞.
    fn pow_nonneg(&self) -> Bounds {
        let lo = if self.lo.at < 0 {
            End::closed(0)
        } else {
            self.lo
        };
        Bounds::new(lo, self.hi)
    }

    /// An odd positive power: monotone, fixes −1, 0, 1 and ±∞.
    fn odd_pow(&self) -> Bounds {
        Bounds::new(self.lo, self.hi)
    }

    /// Bounds of `|a|`.
    pub fn abs(&self) -> Bounds {
        let out = if self.is_nonnegative() {
            *self
        } else if self.is_nonpositive() {
            self.neg()
        } else {
            let hi = if (-self.lo.at) > self.hi.at || (-self.lo.at == self.hi.at && !self.lo.open) {
                End {
                    at: -self.lo.at,
                    open: self.lo.open,
                }
            } else {
                self.hi
            };
            Bounds::new(End::closed(0), hi)
        };
        Bounds {
            lo: if self.nonzero && out.lo.at == 0 {
                End::open(0)
            } else {
                out.lo
            },
            integer: self.integer,
            nonzero: self.nonzero,
            ..out
        }
        .normalized()
    }

    /// Bounds of `exp(a)`.
    pub fn exp(&self) -> Bounds {
        let lo = match self.lo.at {
            NEG_INF | -1 => End::open(0),
            0 => End {
                at: 1,
                open: self.lo.open,
            },
            1 => End::open(1),
            _ => End::pos_inf(),
        };
        let hi = match self.hi.at {
            NEG_INF => End::open(0),
            -1 => End::open(1),
            0 => End {
                at: 1,
                open: self.hi.open,
            },
            _ => End::pos_inf(),
        };
        Bounds::new(lo, hi).meet(&Bounds::positive())
    }

    /// Bounds of `log(a)` (where defined, so `a > 0`).
    pub fn log(&self) -> Bounds {
        let a = self.meet(&Bounds::positive());
        let lo = match a.lo.at {
            1 => End {
                at: 0,
                open: a.lo.open,
            },
            POS_INF => End::pos_inf(),
            _ => End::neg_inf(),
        };
        let hi = match a.hi.at {
            NEG_INF..=0 => End::neg_inf(),
            1 => End {
                at: 0,
                open: a.hi.open,
            },
            _ => End::pos_inf(),
        };
        Bounds::new(lo, hi)
    }

    /// Bounds of a function call, given the bounds of the arguments and the
    /// exact value of the first argument when it is a number.
    pub fn call(f: Func, args: &[Bounds], first: Option<&Rational>) -> Bounds {
        let a = args[0];
        let one = Bounds::exactly(&Rational::from_integer(1.into()));
        match f {
            Func::Log => a.log(),
            Func::Exp => a.exp(),
            Func::Log1p => one.add(&a).log(),
            Func::Expm1 => a.exp().add(&one.neg()).meet(&Bounds {
                nonzero: a.nonzero,
                ..Bounds::real()
            }),
            Func::Sigmoid | Func::NormalCdf => Bounds::unit(),
            Func::Erf => {
                let lo = if a.is_nonnegative() {
                    End {
                        at: 0,
                        open: a.lo.open,
                    }
                } else {
                    End::open(-1)
                };
                let hi = if a.is_nonpositive() {
                    End {
                        at: 0,
                        open: a.hi.open,
                    }
                } else {
                    End::open(1)
                };
                Bounds {
                    nonzero: a.nonzero,
                    ..Bounds::new(lo, hi)
                }
                .normalized()
            }
            Func::Erfc => {
                if a.is_nonnegative() {
                    Bounds::new(End::open(0), End::closed(1))
                } else {
                    Bounds::positive()
                }
            }
            Func::Sin | Func::Cos => Bounds::new(End::closed(-1), End::closed(1)),
            Func::Abs => a.abs(),
            Func::Indicator => Bounds::new(End::closed(0), End::closed(1)).integer(),
            // Internal (`symbolic::stable`): r = φ/Φ > 0 and u + r > 0.
            Func::Mills | Func::MillsShift => Bounds::positive(),
            Func::LogNormalCdf | Func::LogSigmoid | Func::LogBesselI => Bounds::real(),
            Func::Polygamma => {
                let x = args[1];
                match first.and_then(|n| n.to_integer().to_u32()) {
                    Some(n) if n >= 1 && x.is_positive() => {
                        if n % 2 == 1 {
                            Bounds::positive()
                        } else {
                            Bounds::negative()
                        }
                    }
                    _ => Bounds::real(),
                }
            }
            Func::BesselI => {
                let x = args[1];
                if x.is_positive() && args[0].is_nonnegative() {
                    Bounds::positive()
                } else {
                    Bounds::real()
                }
            }
            Func::Lgamma | Func::Lbeta => Bounds::real(),
        }
    }
}

/// Is lower end `a` at least as tight as `b` (and different)?
fn tighter_lo(a: End, b: End) -> bool {
    a.at > b.at || (a.at == b.at && a.open && !b.open)
}

/// Is upper end `a` at least as tight as `b` (and different)?
fn tighter_hi(a: End, b: End) -> bool {
    a.at < b.at || (a.at == b.at && a.open && !b.open)
}

/// Largest grid end `≤ r`.
fn round_down(r: &Rational) -> End {
    for at in [1, 0, -1] {
        let g = Rational::from_integer(at.into());
        if *r == g {
            return End::closed(at as Level);
        }
        if *r > g {
            return End::open(at as Level);
        }
    }
    End::neg_inf()
}

/// Smallest grid end `≥ r`.
fn round_up(r: &Rational) -> End {
    for at in [-1, 0, 1] {
        let g = Rational::from_integer(at.into());
        if *r == g {
            return End::closed(at as Level);
        }
        if *r < g {
            return End::open(at as Level);
        }
    }
    End::pos_inf()
}

/// Sum of two ends of the same side, rounded outward to the grid.
fn add_end(a: End, b: End, upper: bool) -> End {
    if !a.is_finite() || !b.is_finite() {
        // An infinite end (or the −∞ upper end of contradictory facts):
        // nothing is known on this side.
        return if upper {
            End::pos_inf()
        } else {
            End::neg_inf()
        };
    }
    let s = a.at + b.at;
    let open = a.open || b.open;
    if upper {
        match s {
            s if s > 1 => End::pos_inf(),
            s if s < -1 => End::open(-1),
            s => End { at: s, open },
        }
    } else {
        match s {
            s if s < -1 => End::neg_inf(),
            s if s > 1 => End::open(1),
            s => End { at: s, open },
        }
    }
}

/// Product of two ends (values on the grid stay on the grid).
fn mul_end(a: End, b: End) -> End {
    // An exactly attained 0 times anything is an attained 0.
    if (a.at == 0 && !a.open) || (b.at == 0 && !b.open) {
        return End::closed(0);
    }
    if a.at == 0 || b.at == 0 {
        return End::open(0);
    }
    let sign = a.at.signum() * b.at.signum();
    let inf = !a.is_finite() || !b.is_finite();
    if inf {
        End::open(if sign > 0 { POS_INF } else { NEG_INF })
    } else {
        End {
            at: a.at * b.at,
            open: a.open || b.open,
        }
    }
}

/// `1/end` for an end of an interval on one side of 0 (the positive side
/// when `positive`).
fn recip_end(a: End, positive: bool) -> End {
    match a.at {
        NEG_INF | POS_INF => End::open(0),
        0 if positive => End::pos_inf(),
        0 => End::neg_inf(),
        v => End {
            at: v,
            open: a.open,
        },
    }
}

/// What the simplifier may assume about each variable of an expression:
/// its [`Bounds`]. Unknown variables are real.
///
/// ```
/// use fimkit::symbolic::simplify::{Assumptions, Bounds};
/// let a = Assumptions::new().with("sigma", Bounds::positive());
/// assert!(a.get("sigma").is_positive());
/// assert!(!a.get("mu").is_positive());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assumptions {
    vars: BTreeMap<Name, Bounds>,
}

impl Assumptions {
    /// Nothing assumed.
    pub fn new() -> Assumptions {
        Assumptions::default()
    }

    /// Also assume `name` lies within `bounds`.
    pub fn with(mut self, name: &str, bounds: Bounds) -> Assumptions {
        self.set(name, bounds);
        self
    }

    /// Assume `name` lies within `bounds` (replacing earlier facts).
    pub fn set(&mut self, name: &str, bounds: Bounds) {
        self.vars.insert(Name::from(name), bounds);
    }

    /// What is known of `name` (the real line if nothing).
    pub fn get(&self, name: &str) -> Bounds {
        self.vars.get(name).copied().unwrap_or_default()
    }

    /// Every variable with its bounds.
    pub fn iter(&self) -> impl Iterator<Item = (&Name, &Bounds)> {
        self.vars.iter()
    }

    /// The facts a model declares: constants' exact values, parameter
    /// domains, data supports (bounds may use constants and earlier data)
    /// and covariate domains.
    pub fn from_model(model: &Model) -> Assumptions {
        let mut a = Assumptions::new();
        for c in &model.consts {
            a.set(&c.name, Bounds::exactly(&c.value));
        }
        for p in &model.params {
            let b = a.domain(&p.domain);
            a.set(&p.name, b);
        }
        for c in &model.covariates {
            let b = a.domain(&c.domain);
            a.set(&c.name, b);
        }
        for d in &model.data {
            let b = a.support(&d.support);
            a.set(&d.name, b);
        }
        a
    }

    /// Bounds of a declared domain (its ends may be constants of these assumptions).
    pub fn domain(&self, d: &Domain) -> Bounds {
        let lo = d.lo.as_ref().map(|e| self.bounds_of(e));
        let hi = d.hi.as_ref().map(|e| self.bounds_of(e));
        Bounds::between(lo, hi, false)
    }

    fn support(&self, s: &Support) -> Bounds {
        match s {
            Support::Continuous { lo, hi } => {
                let lo = lo.as_ref().map(|e| self.bounds_of(e));
                let hi = hi.as_ref().map(|e| self.bounds_of(e));
                Bounds::between(lo, hi, false)
            }
            Support::Integers { lo, hi } => {
                let lo = Some(self.bounds_of(lo));
                let hi = hi.as_ref().map(|e| self.bounds_of(e));
                Bounds::between(lo, hi, true).integer()
            }
            Support::Set(vs) => {
                let min = vs.iter().min();
                let max = vs.iter().max();
                let b = match (min, max) {
                    (Some(lo), Some(hi)) => {
                        Bounds::between(Some(Bounds::exactly(lo)), Some(Bounds::exactly(hi)), true)
                    }
                    _ => Bounds::real(),
                };
                if vs.iter().all(|v| v.is_integer()) {
                    b.integer()
                } else {
                    b
                }
            }
            Support::Simplex { .. } => Bounds::unit(),
        }
    }

    /// The bounds of an expression under these assumptions.
    ///
    /// ```
    /// use fimkit::ir::Expr;
    /// use fimkit::symbolic::simplify::{Assumptions, Bounds};
    /// let a = Assumptions::new().with("p", Bounds::unit());
    /// let q = Expr::sub(Expr::one(), Expr::var("p"));
    /// assert!(a.bounds_of(&q).is_unit());
    /// ```
    pub fn bounds_of(&self, e: &Expr) -> Bounds {
        match e {
            Expr::Num(r) => Bounds::exactly(r),
            Expr::Const(c) => constant_bounds(*c),
            Expr::Var(v) => self.get(v),
            Expr::Add(ts) => ts
                .iter()
                .map(|t| self.bounds_of(t))
                .reduce(|a, b| a.add(&b))
                .unwrap_or_default(),
            Expr::Mul(fs) => fs
                .iter()
                .map(|t| self.bounds_of(t))
                .reduce(|a, b| a.mul(&b))
                .unwrap_or_default(),
            Expr::Pow(b, x) => self.bounds_of(b).pow(x.as_num()),
            Expr::Call(f, args) => {
                let bs: Vec<Bounds> = args.iter().map(|a| self.bounds_of(a)).collect();
                Bounds::call(*f, &bs, args[0].as_num())
            }
        }
    }
}

/// Bounds of π, e and γ.
pub(crate) fn constant_bounds(c: Constant) -> Bounds {
    match c {
        Constant::Pi | Constant::E => Bounds::new(End::open(1), End::pos_inf()),
        Constant::EulerGamma => Bounds::unit(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(n: i64) -> Bounds {
        Bounds::exactly(&Rational::from_integer(n.into()))
    }

    #[test]
    fn grid_rounding_is_outward() {
        let half = Bounds::exactly(&Rational::new(1.into(), 2.into()));
        assert!(half.is_unit());
        let three = int(3);
        assert!(three.is_positive() && three.is_integer() && !three.is_unit());
        assert!(int(0).is_nonnegative() && !int(0).is_positive());
    }

    #[test]
    fn sums_and_products() {
        let p = Bounds::unit();
        assert!(int(1).add(&p.neg()).is_unit(), "1 - p in (0, 1)");
        assert!(p.mul(&p).is_unit());
        assert!(Bounds::positive().add(&Bounds::nonnegative()).is_positive());
        assert!(!Bounds::positive().add(&Bounds::real()).is_positive());
        assert!(Bounds::negative().mul(&Bounds::negative()).is_positive());
        assert!(Bounds::real().mul(&Bounds::real()).lo.at == NEG_INF);
    }

    #[test]
    fn powers_and_functions() {
        let r = Bounds::real();
        let two = Rational::from_integer(2.into());
        let sq = r.pow(Some(&two));
        assert!(sq.is_nonnegative() && !sq.is_positive());
        let nz = Bounds { nonzero: true, ..r };
        assert!(nz.pow(Some(&two)).is_positive());
        assert!(Bounds::positive().recip().is_positive());
        assert!(Bounds::unit().log().is_negative());
        assert!(r.exp().is_positive());
        assert!(Bounds::nonnegative().add(&int(1)).log().is_nonnegative());
        let trigamma = Bounds::call(
            Func::Polygamma,
            &[int(1), Bounds::positive()],
            Some(&Rational::from_integer(1.into())),
        );
        assert!(trigamma.is_positive());
    }

    #[test]
    fn integers_skip_the_open_unit_interval() {
        let count = Bounds::nonnegative().integer();
        assert!(count.add(&int(1)).is_positive());
        let pos_int = Bounds::positive().integer();
        assert!(pos_int.add(&int(-1)).is_nonnegative());
    }
}
