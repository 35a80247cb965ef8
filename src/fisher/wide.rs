//! Numbers with a double's precision and a wide exponent, for a Fisher
//! information whose entries leave f64's range (σ = 1e200 gives
//! F = diag(1e-400, 2e-400); μ^1000000 at μ = 0.37 gives 1e-863588).
//!
//! A [`Wide`] is `m · 2^e` with `m` in ±[0.5, 1) (or 0) and an `i64`
//! exponent: products and quotients are as exact as in f64, sums align
//! exponents, and powers with an integer exponent square exactly. Only
//! the numbers a user quotes go through it ([`super::at_point`],
//! [`super::identifiability`]); evaluation itself stays in f64 wherever
//! f64 suffices, so ordinary output does not change by a bit.
//!
//! ```
//! use fimkit::fisher::wide::Wide;
//! let s = Wide::from_f64(1e200);
//! let f = s.powi(-2);
//! assert_eq!(f.to_f64(), 0.0); // below f64's range, but not zero:
//! assert_eq!(f.sci(6), "1.00000e-400");
//! assert!(((f * s * s).to_f64() - 1.0).abs() < 1e-15);
//! ```

use crate::ir::expr::{Constant, Expr, Func, Name, rational_to_f64};
use crate::numeric::eval::eval_f64;

/// `m · 2^e`, `m` in ±[0.5, 1) or exactly 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wide {
    m: f64,
    e: i64,
}

/// `x = m · 2^e` with `m` in ±[0.5, 1) (x finite and non-zero).
fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    // Subnormals: scale into the normal range first.
    let (x, shift) = if x.abs() < f64::MIN_POSITIVE {
        (x * 2f64.powi(64), -64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let e = exp - 1022;
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, e + shift)
}

/// `m · 2^e` as an f64 (0 or ±∞ outside the range).
fn ldexp(m: f64, e: i64) -> f64 {
    if m == 0.0 {
        return 0.0;
    }
    if e > 1100 {
        return m.signum() * f64::INFINITY;
    }
    if e < -1200 {
        return m.signum() * 0.0;
    }
    // Two steps so that neither power of two leaves the range.
    let e = e as i32;
    let half = e / 2;
    m * 2f64.powi(half) * 2f64.powi(e - half)
}

impl Wide {
    /// Zero.
    pub const ZERO: Wide = Wide { m: 0.0, e: 0 };

    /// From a finite f64 (non-finite values give `None`).
    pub fn try_from_f64(x: f64) -> Option<Wide> {
        x.is_finite().then(|| Wide::from_f64(x))
    }

    /// From an f64 (must be finite).
    pub fn from_f64(x: f64) -> Wide {
        debug_assert!(x.is_finite());
        let (m, e) = frexp(x);
        Wide { m, e }
    }

    /// The nearest f64: 0 below its range, ±∞ above.
    pub fn to_f64(self) -> f64 {
        ldexp(self.m, self.e)
    }

    /// Is the value exactly zero?
    pub fn is_zero(self) -> bool {
        self.m == 0.0
    }

    /// −1, 0 or 1.
    pub fn signum(self) -> f64 {
        if self.m == 0.0 { 0.0 } else { self.m.signum() }
    }

    /// Absolute value.
    pub fn abs(self) -> Wide {
        Wide {
            m: self.m.abs(),
            e: self.e,
        }
    }

    /// Does the value lie in f64's normal range (or is it 0)?
    pub fn fits_f64(self) -> bool {
        self.m == 0.0 || (-1021..=1024).contains(&self.e)
    }

    fn norm(m: f64, e: i64) -> Wide {
        if m == 0.0 {
            return Wide::ZERO;
        }
        let (m2, e2) = frexp(m);
        Wide { m: m2, e: e + e2 }
    }

    /// `log2 |x|` (−∞ for 0).
    pub fn log2_abs(self) -> f64 {
        if self.m == 0.0 {
            f64::NEG_INFINITY
        } else {
            self.m.abs().log2() + self.e as f64
        }
    }

    /// `ln x` for x > 0.
    pub fn ln(self) -> Option<f64> {
        (self.m > 0.0).then(|| self.m.ln() + self.e as f64 * std::f64::consts::LN_2)
    }

    /// `exp(a)` for any finite f64 `a`.
    pub fn exp(a: f64) -> Option<Wide> {
        if !a.is_finite() {
            return None;
        }
        if a.abs() < 700.0 {
            return Some(Wide::from_f64(a.exp()));
        }
        let k = (a / std::f64::consts::LN_2).floor();
        if k.abs() > 9e15 {
            return None;
        }
        let r = a - k * std::f64::consts::LN_2;
        Some(Wide::norm(r.exp(), k as i64))
    }

    /// `2^y` for a finite `y`.
    fn exp2(y: f64) -> Option<Wide> {
        if !y.is_finite() || y.abs() > 9e15 {
            return None;
        }
        let k = y.floor();
        Some(Wide::norm((y - k).exp2(), k as i64))
    }

    /// Integer power (exact squaring, as in f64).
    pub fn powi(self, n: i64) -> Wide {
        if n == 0 {
            return Wide::from_f64(1.0);
        }
        // Invert once at the end: 1/10 is inexact, its powers more so.
        let mut base = self;
        let mut k = n.unsigned_abs();
        let mut acc = Wide::from_f64(1.0);
        while k > 0 {
            if k & 1 == 1 {
                acc = acc * base;
            }
            base = base * base;
            k >>= 1;
        }
        if n < 0 {
            Wide::from_f64(1.0) / acc
        } else {
            acc
        }
    }

    /// `x^y`; a negative base needs an integer exponent.
    pub fn powf(self, y: f64) -> Option<Wide> {
        if !y.is_finite() {
            return None;
        }
        if y == y.trunc() && y.abs() < 9e15 {
            if self.m == 0.0 && y < 0.0 {
                return None;
            }
            return Some(self.powi(y as i64));
        }
        if self.m < 0.0 {
            return None;
        }
        if self.m == 0.0 {
            return (y > 0.0).then_some(Wide::ZERO);
        }
        Wide::exp2(y * self.log2_abs())
    }

    /// Square root of a non-negative value.
    pub fn sqrt(self) -> Option<Wide> {
        if self.m < 0.0 {
            return None;
        }
        if self.m == 0.0 {
            return Some(Wide::ZERO);
        }
        let (m, e) = if self.e % 2 == 0 {
            (self.m, self.e)
        } else {
            (self.m * 2.0, self.e - 1)
        };
        Some(Wide::norm(m.sqrt(), e / 2))
    }

    /// Scientific notation with `digits` significant digits, in the style
    /// of Rust's `{:.N e}` (`1.00000e-400`).
    pub fn sci(self, digits: usize) -> String {
        if self.m == 0.0 {
            return format!("{:.*e}", digits.saturating_sub(1), 0.0);
        }
        if self.fits_f64() {
            let x = self.to_f64();
            if x.is_normal() {
                return format!("{:.*e}", digits.saturating_sub(1), x);
            }
        }
        // x = q · 10^k with q near 1: 10^k by exact squaring in Wide, so
        // the mantissa keeps f64's precision; f64's own formatting rounds
        // it (and carries 9.99… into the exponent).
        let k = (self.log2_abs() * std::f64::consts::LOG10_2).floor() as i64;
        let q = (self / Wide::from_f64(10.0).powi(k)).to_f64();
        let t = format!("{:.*e}", digits.saturating_sub(1), q);
        let (mant, exp) = t.split_once('e').unwrap_or((&t, "0"));
        format!("{mant}e{}", exp.parse::<i64>().unwrap_or(0) + k)
    }
}

impl std::ops::Mul for Wide {
    type Output = Wide;
    fn mul(self, o: Wide) -> Wide {
        Wide::norm(self.m * o.m, self.e + o.e)
    }
}

impl std::ops::Div for Wide {
    type Output = Wide;
    /// Division; by zero gives a non-finite mantissa (checked by callers
    /// through [`Wide::is_finite`]).
    fn div(self, o: Wide) -> Wide {
        if o.m == 0.0 {
            return Wide {
                m: self.m / 0.0,
                e: 0,
            };
        }
        Wide::norm(self.m / o.m, self.e - o.e)
    }
}

impl std::ops::Add for Wide {
    type Output = Wide;
    fn add(self, o: Wide) -> Wide {
        if self.m == 0.0 {
            return o;
        }
        if o.m == 0.0 {
            return self;
        }
        let (big, small) = if self.e >= o.e { (self, o) } else { (o, self) };
        let d = big.e - small.e;
        if d > 1100 {
            return big;
        }
        Wide::norm(big.m + ldexp(small.m, -d), big.e)
    }
}

impl std::ops::Neg for Wide {
    type Output = Wide;
    fn neg(self) -> Wide {
        Wide {
            m: -self.m,
            e: self.e,
        }
    }
}

impl std::ops::Sub for Wide {
    type Output = Wide;
    fn sub(self, o: Wide) -> Wide {
        self + (-o)
    }
}

impl Wide {
    /// Is the value finite (not the result of a division by zero)?
    pub fn is_finite(self) -> bool {
        self.m.is_finite()
    }
}

/// Evaluate an expression with a wide exponent: sums, products, powers,
/// `exp` and `log` are computed in [`Wide`]; any other function gets its
/// arguments as f64 (they must fit) and is evaluated as usual. `None` when
/// a value cannot be had this way (the caller keeps its f64 answer or
/// error).
pub fn eval_wide(e: &Expr, values: &dyn Fn(&str) -> Option<f64>) -> Option<Wide> {
    let w = match e {
        Expr::Num(r) => Wide::try_from_f64(rational_to_f64(r))?,
        Expr::Const(c) => Wide::from_f64(match c {
            Constant::Pi => std::f64::consts::PI,
            Constant::E => std::f64::consts::E,
            Constant::EulerGamma => 0.577_215_664_901_532_9,
        }),
        Expr::Var(v) => Wide::try_from_f64(values(v)?)?,
        Expr::Add(ts) => {
            let mut acc = Wide::ZERO;
            for t in ts.iter() {
                acc = acc + eval_wide(t, values)?;
            }
            acc
        }
        Expr::Mul(fs) => {
            let mut acc = Wide::from_f64(1.0);
            for f in fs.iter() {
                acc = acc * eval_wide(f, values)?;
            }
            acc
        }
        Expr::Pow(b, x) => {
            let b = eval_wide(b, values)?;
            let x = eval_wide(x, values)?.to_f64();
            b.powf(x)?
        }
        Expr::Call(Func::Exp, args) if args.len() == 1 => {
            Wide::exp(eval_wide(&args[0], values)?.to_f64())?
        }
        Expr::Call(Func::Log, args) if args.len() == 1 => {
            Wide::try_from_f64(eval_wide(&args[0], values)?.ln()?)?
        }
        Expr::Call(f, args) => {
            let mut xs = Vec::with_capacity(args.len());
            for a in args.iter() {
                let x = eval_wide(a, values)?.to_f64();
                if !x.is_finite() {
                    return None;
                }
                xs.push(x);
            }
            let names: Vec<Name> = (0..xs.len())
                .map(|k| Name::from(format!("a{k}").as_str()))
                .collect();
            let call = Expr::Call(*f, names.iter().cloned().map(Expr::Var).collect());
            let lookup = |n: &str| names.iter().position(|m| &**m == n).map(|k| xs[k]);
            Wide::try_from_f64(eval_f64(&call, &lookup).ok()?)?
        }
    };
    w.is_finite().then_some(w)
}

/// An expression's value: f64 when f64 evaluates it to a normal number
/// otherwise (0, subnormal, or an overflow on the way) the wide evaluation.
/// Returns the f64 evaluation's error when neither works.
pub fn eval_entry(
    e: &Expr,
    values: &dyn Fn(&str) -> Option<f64>,
) -> Result<Wide, crate::numeric::eval::EvalError> {
    match eval_f64(e, values) {
        Ok(v) if v.is_normal() => Ok(Wide::from_f64(v)),
        // 0, subnormal or non-finite in f64: over- or underflow somewhere,
        // or a true zero; the wide evaluation tells them apart.
        Ok(v) => Ok(eval_wide(e, values).unwrap_or(Wide::from_f64(v))),
        Err(err) => eval_wide(e, values).ok_or(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_arithmetic() {
        for x in [1.0, -3.5, 1e-310, 5e-324, 1.7e308, 0.1] {
            assert_eq!(Wide::from_f64(x).to_f64(), x, "{x}");
        }
        let a = Wide::from_f64(1e200);
        let b = a * a; // 1e400
        assert_eq!(b.to_f64(), f64::INFINITY);
        assert!(((b / a).to_f64() / 1e200 - 1.0).abs() < 1e-15);
        assert_eq!(b.sci(6), "1.00000e400");
        assert_eq!((-(Wide::from_f64(1.0) / b)).sci(3), "-1.00e-400");
        assert!(((b + b).sci(6)).starts_with("2.00000e400"));
        assert_eq!((b - b).to_f64(), 0.0);
        assert_eq!(b.sqrt().unwrap().to_f64(), 1e200);
        assert_eq!(Wide::from_f64(2.0).sqrt().unwrap().to_f64(), 2f64.sqrt());
        let p = Wide::from_f64(0.37).powi(1_999_998);
        assert!((p.log2_abs() - 1_999_998.0 * 0.37f64.log2()).abs() < 1e-6);
        assert!(Wide::exp(-2000.0).unwrap().ln().unwrap() + 2000.0 < 1e-12);
        assert_eq!(
            Wide::from_f64(12345.678).sci(6),
            format!("{:.5e}", 12345.678)
        );
        // A carry in the last digit.
        assert_eq!((Wide::from_f64(9.9999999) * b).sci(3), "1.00e401");
    }
}
