//! Numbers for people: every formatter of a floating-point value that a
//! report prints, in one place below every stage (a fit message, a
//! derivation's point, `eval` and `derive --at` all format here).
//!
//! ```
//! use fimkit::number::{significant, fmt_sig, fmt_value};
//! assert_eq!(fmt_value(0.37), "0.37");
//! assert_eq!(fmt_value(1e200), "1e200");
//! assert_eq!(fmt_sig(0.12, 4), "0.1200");
//! assert_eq!(fmt_sig(1.5e-9, 3), "1.5e-9");
//! // Ten significant digits, trailing zeros dropped, plain in [1e-4, 1e10).
//! assert_eq!(significant(2.5, 10, 1e10, true), "2.5");
//! assert_eq!(significant(1.25e12, 10, 1e10, true), "1.25e12");
//! // Six, plain below 1e6, the exponent form keeping its digits.
//! assert_eq!(significant(1.0e7, 6, 1e6, false), "1.00000e7");
//! ```

/// `v` with `sig` significant digits, plain notation where readable
/// ([1e-4, 1e7)), trailing zeros kept there; "—" when not finite.
pub fn fmt_sig(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-4..1e7).contains(&a) {
        return exponent_form(v, sig, true);
    }
    let decimals = (sig as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A value as Rust prints it (shortest round trip), in scientific
/// notation outside [1e-6, 1e16): a parameter point, a typical point.
pub fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || !a.is_finite() || (1e-6..1e16).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// `v` with `sig` significant digits and trailing zeros dropped, plain in
/// [1e-4, `plain_below`), else in exponent form (its mantissa's trailing
/// zeros dropped too when `trim_exponent` is set).
pub fn significant(v: f64, sig: usize, plain_below: f64, trim_exponent: bool) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-4..plain_below).contains(&a) {
        return exponent_form(v, sig, trim_exponent);
    }
    let digits = (sig as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// An error or a tolerance, to two digits in exponent form (`1.2e-7`);
/// "0" and "∞" as such.
///
/// ```
/// assert_eq!(fimkit::number::magnitude(1.23e-7), "1.2e-7");
/// assert_eq!(fimkit::number::magnitude(f64::INFINITY), "∞");
/// ```
pub fn magnitude(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.is_infinite() {
        "∞".into()
    } else {
        format!("{v:.1e}")
    }
}

/// `v` as `m.mmme±x` with `sig` significant digits.
fn exponent_form(v: f64, sig: usize, trim: bool) -> String {
    let s = format!("{v:.*e}", sig.saturating_sub(1));
    if !trim {
        return s;
    }
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mant = if mant.contains('.') {
        mant.trim_end_matches('0').trim_end_matches('.')
    } else {
        mant
    };
    format!("{mant}e{exp}")
}
