//! Exact numbers, on the ground floor: the rational type every stage
//! shares (the parser's literals, the IR's constants) and exact parsing of
//! decimal literals.

use num_bigint::BigInt;

/// An exact rational number of any size.
pub type Rational = num_rational::BigRational;

/// Parse a decimal literal such as `12`, `0.25`, `1e-3` or `2.5E+2` exactly.
///
/// ```
/// use fimkit::exact::parse_decimal;
/// assert_eq!(parse_decimal("0.25").unwrap().to_string(), "1/4");
/// assert_eq!(parse_decimal("1e-3").unwrap().to_string(), "1/1000");
/// ```
pub fn parse_decimal(text: &str) -> Option<Rational> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let digits = format!("{int_part}{frac_part}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: BigInt = digits.parse().ok()?;
    let scale = exponent.checked_sub(frac_part.len() as i64)?;
    if scale.abs() > 400 {
        return None;
    }
    let ten = BigInt::from(10);
    let p = num_traits::pow::Pow::pow(&ten, scale.unsigned_abs() as u32);
    Some(if scale >= 0 {
        Rational::from_integer(n * p)
    } else {
        Rational::new(n, p)
    })
}

// ----- arithmetic without bignum division for small numbers -------------
//
// A derivation's numbers are almost all small (−1, 2, 1/2), but
// `num_rational` reduces every sum and product by a bignum gcd and two
// bignum divisions. The functions below give the same `Rational` (lowest
// terms, positive denominator: what `Ratio`'s own operators return) with
// machine integers when numerator and denominator fit in an `i64`, and
// fall back to `Ratio`'s operators otherwise.

/// Numerator and denominator, when both fit in an `i64`.
fn small(r: &Rational) -> Option<(i64, i64)> {
    use num_traits::ToPrimitive;
    Some((r.numer().to_i64()?, r.denom().to_i64()?))
}

/// Binary gcd; `gcd(0, b) = b`.
fn gcd_u128(mut a: u128, mut b: u128) -> u128 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// `n/d` in lowest terms, for `d > 0`.
fn from_parts(n: i128, d: i128) -> Rational {
    if n == 0 {
        return <Rational as num_traits::Zero>::zero();
    }
    if d == 1 {
        return Rational::from_integer(BigInt::from(n));
    }
    let g = gcd_u128(n.unsigned_abs(), d.unsigned_abs()) as i128;
    Rational::new_raw(BigInt::from(n / g), BigInt::from(d / g))
}

/// `a + b`, exactly.
pub fn add(a: &Rational, b: &Rational) -> Rational {
    match (small(a), small(b)) {
        // |an·bd| and |bn·ad| are below 2¹²⁶: the sum fits in an i128.
        (Some((an, ad)), Some((bn, bd))) => {
            let (an, ad, bn, bd) = (an as i128, ad as i128, bn as i128, bd as i128);
            if ad == bd {
                from_parts(an + bn, ad)
            } else {
                from_parts(an * bd + bn * ad, ad * bd)
            }
        }
        _ => a + b,
    }
}

/// `a · b`, exactly.
pub fn mul(a: &Rational, b: &Rational) -> Rational {
    match (small(a), small(b)) {
        (Some((an, ad)), Some((bn, bd))) => {
            from_parts(an as i128 * bn as i128, ad as i128 * bd as i128)
        }
        _ => a * b,
    }
}

/// Is `r` one half (a square root's exponent)? Without building a `1/2`
/// to compare with.
pub fn is_half(r: &Rational) -> bool {
    small(r) == Some((1, 2))
}

/// Is `r` −1 (a reciprocal's exponent)? Without negating a copy.
pub fn is_minus_one(r: &Rational) -> bool {
    small(r) == Some((-1, 1))
}

/// Feed `r` to a hasher: its numerator and denominator, small ones as two
/// `i64`s. A `Rational` is always in lowest terms with a positive
/// denominator, so equal numbers hash equally; `Ratio`'s own `Hash` hashes
/// the continued fraction, a bignum division per term.
pub fn hash_rational<H: std::hash::Hasher>(r: &Rational, state: &mut H) {
    use std::hash::Hash;
    match small(r) {
        Some((n, d)) => {
            state.write_i64(n);
            state.write_i64(d);
        }
        None => {
            state.write_u8(0xff);
            r.numer().hash(state);
            r.denom().hash(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_small() -> Vec<Rational> {
        let mut out = Vec::new();
        for n in -13i64..=13 {
            for d in 1i64..=12 {
                out.push(Rational::new(n.into(), d.into()));
            }
        }
        for n in [i64::MAX, i64::MIN, i64::MIN + 1, 1 << 40, -(1 << 62)] {
            for d in [1i64, 3, i64::MAX, 1 << 31] {
                out.push(Rational::new(n.into(), d.into()));
            }
        }
        out
    }

    #[test]
    fn small_arithmetic_is_ratios_arithmetic() {
        let rs = all_small();
        for a in &rs {
            for b in &rs {
                let (sum, prod) = (add(a, b), mul(a, b));
                assert_eq!(sum, a + b);
                assert_eq!(
                    (sum.numer(), sum.denom()),
                    ((a + b).numer(), (a + b).denom())
                );
                assert_eq!(
                    (prod.numer(), prod.denom()),
                    ((a * b).numer(), (a * b).denom())
                );
            }
        }
    }

    #[test]
    fn gcd_is_euclids() {
        for a in 0u128..60 {
            for b in 0u128..60 {
                assert_eq!(gcd_u128(a, b), num_integer::Integer::gcd(&a, &b));
            }
        }
    }
}
