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
