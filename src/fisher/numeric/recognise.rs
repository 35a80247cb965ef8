//! Recognise a numeric constant as a simple closed form:
//! a rational with a small denominator, `r₀ + r₁π²`, or
//! `r₀ + r₁π² + a γ + b γ²` with small integers `a, b` (Euler's γ, as in
//! the Gumbel information `π²/6 + (1 − γ)²`).
//!
//! The search space is kept small on purpose: with a 1e-12 match, a
//! random number is mistaken for a closed form with probability about
//! 1e-5.
//!
//! ```
//! use fimkit::fisher::numeric::recognise::recognise;
//! let pi2 = std::f64::consts::PI.powi(2);
//! let c = recognise((pi2 + 3.0) / 9.0, 1e-12).unwrap();
//! assert_eq!(fimkit::render::text::render(&c, &Default::default()), "pi^2/9 + 1/3");
//! assert!(recognise(0.123456789012345, 1e-12).is_none());
//! ```

use crate::ir::expr::{Constant, Expr, Rational};
use num_bigint::BigInt;

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Best rational approximation with denominator at most `max_den`, if it
/// is within `tol` (relative to max(1, |c|)).
pub fn rational(c: f64, max_den: i64, tol: f64) -> Option<(i64, i64)> {
    if !c.is_finite() || c.abs() > 1e12 {
        return None;
    }
    let target = tol * c.abs().max(1.0);
    // Continued fraction convergents.
    let (mut h0, mut h1) = (0i64, 1i64);
    let (mut k0, mut k1) = (1i64, 0i64);
    let mut x = c;
    for _ in 0..40 {
        let a = x.floor();
        if a.abs() > 1e12 {
            break;
        }
        let a = a as i64;
        let h2 = a.checked_mul(h1)?.checked_add(h0)?;
        let k2 = a.checked_mul(k1)?.checked_add(k0)?;
        if k2 > max_den {
            break;
        }
        if (c - h2 as f64 / k2 as f64).abs() <= target {
            return Some((h2, k2));
        }
        (h0, h1, k0, k1) = (h1, h2, k1, k2);
        let frac = x - a as f64;
        if frac.abs() < 1e-300 {
            break;
        }
        x = 1.0 / frac;
    }
    None
}

fn q(n: i64, d: i64) -> Rational {
    Rational::new(BigInt::from(n), BigInt::from(d))
}

/// Search limits: denominators of the rational part, and of the π² part.
struct Limits {
    rational_den: i64,
    pi2_dens: &'static [i64],
    pi2_num: i64,
    rest_den: i64,
}

/// `c = r₀ + r₁π²` with small denominators.
fn with_pi2(c: f64, tol: f64, lim: &Limits) -> Option<(Rational, Rational)> {
    let pi2 = std::f64::consts::PI.powi(2);
    if let Some((n, d)) = rational(c, lim.rational_den, tol) {
        return Some((q(n, d), q(0, 1)));
    }
    for &d1 in lim.pi2_dens {
        for n1 in -lim.pi2_num * d1..=lim.pi2_num * d1 {
            if n1 == 0 || num_integer::gcd(n1, d1) != 1 {
                continue;
            }
            let rest = c - n1 as f64 / d1 as f64 * pi2;
            if let Some((n0, d0)) = rational(rest, lim.rest_den, tol) {
                return Some((q(n0, d0), q(n1, d1)));
            }
        }
    }
    None
}

/// A closed form for `c`, within `tol` relative to max(1, |c|).
pub fn recognise(c: f64, tol: f64) -> Option<Expr> {
    let build = |r0: Rational, r1: Rational, a: i64, b: i64| {
        let g = Expr::Const(Constant::EulerGamma);
        Expr::add(vec![
            Expr::num(r0),
            Expr::mul2(Expr::num(r1), Expr::powi(Expr::pi(), 2)),
            Expr::mul2(Expr::int(a), g.clone()),
            Expr::mul2(Expr::int(b), Expr::powi(g, 2)),
        ])
    };
    let plain = Limits {
        rational_den: 1000,
        pi2_dens: &[1, 2, 3, 4, 6, 8, 9, 12, 18, 24, 36, 48],
        pi2_num: 4,
        rest_den: 72,
    };
    if let Some((r0, r1)) = with_pi2(c, tol, &plain) {
        return Some(build(r0, r1, 0, 0));
    }
    let with_gamma = Limits {
        rational_den: 12,
        pi2_dens: &[1, 2, 3, 4, 6, 12],
        pi2_num: 2,
        rest_den: 12,
    };
    for b in -1i64..=1 {
        for a in -2i64..=2 {
            if a == 0 && b == 0 {
                continue;
            }
            let rest = c - a as f64 * EULER_GAMMA - b as f64 * EULER_GAMMA * EULER_GAMMA;
            if let Some((r0, r1)) = with_pi2(rest, tol, &with_gamma) {
                return Some(build(r0, r1, a, b));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::eval::eval_f64;

    #[test]
    fn known_constants() {
        let g = EULER_GAMMA;
        let pi2 = std::f64::consts::PI.powi(2);
        for c in [
            0.5,
            0.75,
            1.25,
            1.0 / 3.0,
            (pi2 + 3.0) / 9.0,
            g - 1.0,
            pi2 / 6.0 + (1.0 - g).powi(2),
            -7.0 / 12.0,
        ] {
            let e = recognise(c, 1e-12).unwrap_or_else(|| panic!("{c} not recognised"));
            let back = eval_f64(&e, &|_| None).unwrap();
            assert!((back - c).abs() < 1e-12, "{c} -> {e}");
        }
    }

    #[test]
    fn random_numbers_are_not_recognised() {
        let mut rng = super::super::SplitMix(7);
        let mut hits = 0;
        for _ in 0..500 {
            let c = 4.0 * rng.next_f64();
            if recognise(c, 1e-12).is_some() {
                hits += 1;
            }
        }
        assert_eq!(hits, 0);
    }
}
