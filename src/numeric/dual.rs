//! Special functions for every dual number type.
//!
//! num-dual has no lgamma, digamma, polygamma, erf or Bessel I for dual
//! numbers. We add them through one idea that needs only num-dual's public
//! API: for a dual number `x` with real part `a` and nilpotent part
//! `h = x - a`, every product of more than `D::NDERIV` factors of `h`
//! vanishes (a nested type's `NDERIV` is the sum of its levels'), so the
//! truncated Taylor series
//!
//! ```text
//! f(x) = Σ_{k=0}^{NDERIV} f⁽ᵏ⁾(a)/k! · (x - a)^k
//! ```
//!
//! is exact. Each function therefore only supplies its derivatives at a real
//! point, written once in `f64` ([`taylor_compose`] does the rest), and the
//! same code serves `f64`, `Dual64`, `Dual2_64`, `HyperDual64`, `Dual3_64`,
//! the vector types and nested types.
//!
//! ```
//! use fimkit::numeric::SpecialFunctions;
//! use num_dual::{Dual2_64, DualNum};
//! let x = Dual2_64::from_re(3.0).derivative();
//! let y = x.lgamma(); // value lgamma(3), first derivative ψ(3), second ψ'(3)
//! assert!((y.re - 2f64.ln()).abs() < 1e-15);
//! assert!((y.v1 - (1.5 - 0.577_215_664_901_532_9)).abs() < 1e-15);
//! assert!((y.v2 - (std::f64::consts::PI.powi(2) / 6.0 - 1.25)).abs() < 1e-15);
//! ```

use super::special;
use num_dual::DualNum;

/// The largest exponent handed to num-dual's `powi`, which multiplies
/// `n (n - 1) (n - 2)` in `i32` for its derivatives (an overflow, a panic
/// with overflow checks and wrong derivatives without, past |n| ≈ 1290).
const NUM_DUAL_MAX_POWI: i32 = 1024;

/// `x^n` for any `i32` exponent, by squaring above [`NUM_DUAL_MAX_POWI`]
/// (found by tests/fuzz_models.rs: a Weibull shape of 36,000,001 panicked
/// inside num-dual; `tests/numeric_dual.rs` checks the values).
pub fn powi<D: DualNum<Primitive = f64>>(x: &D, n: i32) -> D {
    if n.abs() <= NUM_DUAL_MAX_POWI {
        return x.powi(n);
    }
    // n = 2·(n/2) + r with r in {-1, 0, 1}.
    let half = powi(x, n / 2);
    let square = half.clone() * half;
    match n % 2 {
        1 => square * x.clone(),
        -1 => square / x.clone(),
        _ => square,
    }
}

/// Largest derivative order kept on the stack; deeper types use the heap.
const STACK: usize = 12;

/// `Σ_k coeffs[k] (x - a)^k` with `a = x.re()`: the exact value of a
/// function at a dual number, given its Taylor coefficients
/// `coeffs[k] = f⁽ᵏ⁾(a)/k!` at the real part, for `k = 0..=D::NDERIV`
/// (extra coefficients are ignored).
pub fn taylor_compose<D: DualNum<Primitive = f64>>(x: &D, coeffs: &[f64]) -> D {
    let n = D::NDERIV.min(coeffs.len().saturating_sub(1));
    if n == 0 {
        return D::from(coeffs.first().copied().unwrap_or(f64::NAN));
    }
    let h = x.clone() - x.re();
    let mut acc = h.clone() * coeffs[n];
    for &c in coeffs[1..n].iter().rev() {
        acc = (acc + c) * &h;
    }
    acc + coeffs[0]
}

/// Fill Taylor coefficients for a derivative order `n` and compose.
fn with_coeffs<D: DualNum<Primitive = f64>>(x: &D, fill: impl FnOnce(f64, &mut [f64])) -> D {
    let n = D::NDERIV;
    let a = x.re();
    if n < STACK {
        let mut c = [0.0; STACK];
        fill(a, &mut c[..=n]);
        taylor_compose(x, &c[..=n])
    } else {
        let mut c = vec![0.0; n + 1];
        fill(a, &mut c);
        taylor_compose(x, &c)
    }
}

/// Special functions of the model language for `f64` and every dual number
/// type `D: DualNum<Primitive = f64>`: the value and every derivative the
/// type carries, exact up to the `f64` accuracy of [`special`].
///
/// The erf names collide with unstable inherent `f64` methods; on a plain
/// `f64` call them as `SpecialFunctions::erf(&x)` (or use [`special`]).
pub trait SpecialFunctions: Sized {
    /// `log |Γ(x)|`.
    fn lgamma(&self) -> Self;
    /// `ψ(x)`.
    fn digamma(&self) -> Self;
    /// `ψ⁽ⁿ⁾(x)`.
    fn polygamma(&self, n: u32) -> Self;
    /// Error function.
    fn erf(&self) -> Self;
    /// Complementary error function.
    fn erfc(&self) -> Self;
    /// Standard normal CDF `Φ(x)`.
    fn normal_cdf(&self) -> Self;
    /// `log Φ(x)`, accurate for every x (no underflow of `Φ` in the lower
    /// tail, no cancellation of `1 - Φ(-x)` in the upper).
    fn log_normal_cdf(&self) -> Self;
    /// The inverse Mills ratio `r(x) = φ(x)/Φ(x) = (log Φ)'(x)`.
    fn mills(&self) -> Self;
    /// `x + r(x)`, accurate where the sum cancels (the lower tail).
    fn mills_shift(&self) -> Self;
    /// Logistic sigmoid.
    fn sigmoid(&self) -> Self;
    /// `log σ(x)`, accurate for every x.
    fn log_sigmoid(&self) -> Self;
    /// `I_ν(x)` for a constant order ν and x ≥ 0.
    fn besseli(&self, nu: f64) -> Self;
    /// `e^{-x} I_ν(x)`.
    fn besseli_scaled(&self, nu: f64) -> Self;
    /// `log I_ν(x)`, finite for large x where `I_ν` overflows.
    fn log_besseli(&self, nu: f64) -> Self;
    /// `log B(self, other)`.
    fn lbeta(&self, other: &Self) -> Self;
}

impl<D: DualNum<Primitive = f64>> SpecialFunctions for D {
    fn lgamma(&self) -> Self {
        with_coeffs(self, |a, c| {
            c[0] = special::lgamma(a);
            lgamma_tail(a, c);
        })
    }

    fn digamma(&self) -> Self {
        self.polygamma(0)
    }

    fn polygamma(&self, n: u32) -> Self {
        with_coeffs(self, |a, c| {
            let mut fact = 1.0;
            for (k, ck) in c.iter_mut().enumerate() {
                if k > 0 {
                    fact *= k as f64;
                }
                *ck = special::polygamma(n + k as u32, a) / fact;
            }
        })
    }

    fn erf(&self) -> Self {
        with_coeffs(self, |a, c| {
            c[0] = special::erf(a);
            erf_tail(a, c);
        })
    }

    fn erfc(&self) -> Self {
        with_coeffs(self, |a, c| {
            erf_tail(a, c);
            c.iter_mut().for_each(|v| *v = -*v);
            c[0] = special::erfc(a);
        })
    }

    fn normal_cdf(&self) -> Self {
        with_coeffs(self, |a, c| {
            c[0] = special::normal_cdf(a);
            // Φ⁽ᵏ⁾ = (-1)^(k-1) He_{k-1}(a) φ(a)
            let phi = special::normal_pdf(a);
            let (mut h0, mut h1) = (1.0, a); // He_0, He_1
            let mut fact = 1.0;
            for (k, ck) in c.iter_mut().enumerate().skip(1) {
                fact *= k as f64;
                let m = k - 1; // He_m
                let he = if m == 0 { h0 } else { h1 };
                let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
                *ck = sign * he * phi / fact;
                if m >= 1 {
                    let next = a * h1 - m as f64 * h0;
                    h0 = h1;
                    h1 = next;
                }
            }
        })
    }

    fn log_normal_cdf(&self) -> Self {
        with_coeffs(self, |a, c| {
            c[0] = special::log_normal_cdf(a);
            log_normal_cdf_tail(a, c);
        })
    }

    fn mills(&self) -> Self {
        // r⁽ᵏ⁾ = (log Φ)⁽ᵏ⁺¹⁾: the Taylor coefficients of log Φ, shifted.
        with_coeffs(self, |a, c| {
            let d = log_normal_cdf_coeffs(a, c.len() + 1);
            for (k, ck) in c.iter_mut().enumerate() {
                *ck = d[k + 1] * (k + 1) as f64;
            }
            c[0] = special::mills(a).0;
        })
    }

    fn mills_shift(&self) -> Self {
        // q = x + r: q' = 1 + r' = 1 - r q, which cancels below -2, where
        // it is q² - (log Φ)'''/r instead; q⁽ᵏ⁾ = r⁽ᵏ⁾ beyond.
        with_coeffs(self, |a, c| {
            let d = log_normal_cdf_coeffs(a, c.len() + 1);
            for (k, ck) in c.iter_mut().enumerate().skip(2) {
                *ck = d[k + 1] * (k + 1) as f64;
            }
            let (r, q) = special::mills(a);
            c[0] = q;
            if c.len() > 1 {
                c[1] = if a > -2.0 {
                    1.0 - r * q
                } else {
                    q * q - special::log_normal_cdf_derivatives(a)[2] / r
                };
            }
        })
    }

    fn sigmoid(&self) -> Self {
        with_coeffs(self, |a, c| {
            let (s, t, _) = sigmoid_parts(a);
            c[0] = s;
            if c.len() <= 3 {
                // σ' = s t, σ'' = s t (t − s): the common orders in closed form.
                let st = s * t;
                if c.len() > 1 {
                    c[1] = st;
                }
                if c.len() > 2 {
                    c[2] = st * (t - s) / 2.0;
                }
                return;
            }
            // Start from the polynomial "s" and differentiate.
            sigmoid_poly_derivs(s, t, (1, 0), c, 1);
        })
    }

    fn log_sigmoid(&self) -> Self {
        with_coeffs(self, |a, c| {
            let (s, t, log_s) = sigmoid_parts(a);
            c[0] = log_s;
            if c.len() > 1 {
                // (log σ)' = σ(-x) = t; higher derivatives differentiate t.
                c[1] = t;
                if c.len() == 3 {
                    // t' = −s t
                    c[2] = -s * t / 2.0;
                } else {
                    sigmoid_poly_derivs(s, t, (0, 1), c, 2);
                }
            }
        })
    }

    fn besseli(&self, nu: f64) -> Self {
        with_coeffs(self, |a, c| bessel_taylor(nu, a, c, BesselForm::Plain))
    }

    fn besseli_scaled(&self, nu: f64) -> Self {
        with_coeffs(self, |a, c| bessel_taylor(nu, a, c, BesselForm::Scaled))
    }

    fn log_besseli(&self, nu: f64) -> Self {
        with_coeffs(self, |a, c| bessel_taylor(nu, a, c, BesselForm::Log))
    }

    fn lbeta(&self, other: &Self) -> Self {
        let (a, b) = (self.re(), other.re());
        let value = special::lbeta(a, b);
        if D::NDERIV == 0 {
            return D::from(value);
        }
        let tail = |x: &D| {
            with_coeffs(x, |a, c| {
                c[0] = 0.0;
                lgamma_tail(a, c);
            })
        };
        let sum = self.clone() + other;
        tail(self) + tail(other) - tail(&sum) + value
    }
}

/// `c[k] = (log Φ)⁽ᵏ⁾(a)/k!` for k ≥ 1 (`c[0]` is left alone): the first
/// three derivatives to full accuracy from [`special::log_normal_cdf_derivatives`].
fn log_normal_cdf_tail(a: f64, c: &mut [f64]) {
    let d = special::log_normal_cdf_derivatives(a);
    let mut fact = 1.0;
    for (k, ck) in c.iter_mut().enumerate().skip(1).take(3) {
        fact *= k as f64;
        *ck = d[k - 1] / fact;
    }
    if c.len() <= 4 {
        return;
    }
    // Beyond the third derivative (only the checks' high-order types
    // go there): with q = x + r, r' = -r q and q' = 1 - r q, so every
    // derivative is a polynomial in (r, q); r^i q^j -> coefficient.
    // These lose digits to cancellation in the far lower tail.
    let (r, q) = special::mills(a);
    let mut poly: Vec<((i32, i32), f64)> = vec![((1, 0), 1.0)];
    for (k, ck) in c.iter_mut().enumerate().skip(2) {
        let mut next: Vec<((i32, i32), f64)> = Vec::new();
        let mut add = |key: (i32, i32), v: f64| match next.iter_mut().find(|(m, _)| *m == key) {
            Some((_, w)) => *w += v,
            None => next.push((key, v)),
        };
        for &((i, j), w) in &poly {
            // d(r^i q^j) = -i r^i q^(j+1) + j r^i q^(j-1) - j r^(i+1) q^j
            if i > 0 {
                add((i, j + 1), -(i as f64) * w);
            }
            if j > 0 {
                add((i, j - 1), j as f64 * w);
                add((i + 1, j), -(j as f64) * w);
            }
        }
        poly = next;
        if k >= 4 {
            fact *= k as f64;
            *ck = poly
                .iter()
                .map(|&((i, j), w)| w * r.powi(i) * q.powi(j))
                .sum::<f64>()
                / fact;
        }
    }
}

/// `(log Φ)⁽ᵏ⁾(a)/k!` for k = 0..n (k = 0 is 0).
fn log_normal_cdf_coeffs(a: f64, n: usize) -> Vec<f64> {
    let mut d = vec![0.0; n];
    log_normal_cdf_tail(a, &mut d);
    d
}

/// `c[k] = ψ⁽ᵏ⁻¹⁾(a)/k!` for k ≥ 1 (the derivatives of lgamma).
fn lgamma_tail(a: f64, c: &mut [f64]) {
    let mut fact = 1.0;
    for (k, ck) in c.iter_mut().enumerate().skip(1) {
        fact *= k as f64;
        *ck = special::polygamma(k as u32 - 1, a) / fact;
    }
}

/// `c[k] = erf⁽ᵏ⁾(a)/k!` for k ≥ 1: `(-1)^(k-1) 2/√π H_{k-1}(a) e^{-a²}`.
fn erf_tail(a: f64, c: &mut [f64]) {
    let g = std::f64::consts::FRAC_2_SQRT_PI * special::exp_neg_square(a);
    let (mut h0, mut h1) = (1.0, 2.0 * a); // H_0, H_1 (physicists')
    let mut fact = 1.0;
    for (k, ck) in c.iter_mut().enumerate().skip(1) {
        fact *= k as f64;
        let m = k - 1;
        let h = if m == 0 { h0 } else { h1 };
        let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
        *ck = sign * h * g / fact;
        if m >= 1 {
            let next = 2.0 * a * h1 - 2.0 * m as f64 * h0;
            h0 = h1;
            h1 = next;
        }
    }
}

/// `σ(a)`, `σ(−a)` and `log σ(a)` from one exponential, accurate in
/// both tails.
///
/// The pairs `exp(−|a|)`, `log1p(exp(−|a|))` of recent calls on the thread
/// are kept (a small cache keyed on `|a|`, so the numbers are those of a
/// fresh call): `log σ(η)` and `log σ(−η)` (a Bernoulli or binomial term)
/// then cost one exponential and one logarithm, not two of each.
fn sigmoid_parts(a: f64) -> (f64, f64, f64) {
    use std::cell::Cell;
    /// Slots of the cache: a block of rows evaluated one instruction at a
    /// time (`LinearHessian::forms_block`) meets σ(η) and σ(−η) a block
    /// apart.
    const SLOTS: usize = 512;
    thread_local! {
        static SEEN: [Cell<(f64, f64, f64)>; SLOTS] =
            const { [const { Cell::new((f64::NAN, 0.0, 0.0)) }; SLOTS] };
    }
    let abs = a.abs();
    // Direct-mapped on the bits of |a| (a multiplicative hash).
    let slot = (abs.to_bits().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 55) as usize % SLOTS;
    let (e, l1p) = SEEN.with(|cache| {
        let c = &cache[slot];
        let (k, e, l) = c.get();
        if k == abs {
            (e, l)
        } else {
            let e = (-abs).exp(); // in (0, 1]
            let l = e.ln_1p();
            c.set((abs, e, l));
            (e, l)
        }
    });
    let big = 1.0 / (1.0 + e); // σ(|a|)
    let small = e * big; // σ(−|a|)
    let log_sig = a.min(0.0) - l1p;
    if a >= 0.0 {
        (big, small, log_sig)
    } else {
        (small, big, log_sig)
    }
}

/// Derivatives of a polynomial in `s = σ(x)` and `t = σ(-x)`, using
/// `s' = s t`, `t' = -s t`. Starts from the monomial `s^i t^j` (the
/// derivative of order `first - 1` of the target) and writes
/// `c[k] = (d/dx)^k (·)/k!` for `k ≥ first`.
fn sigmoid_poly_derivs(s: f64, t: f64, start: (usize, usize), c: &mut [f64], first: usize) {
    let n = c.len();
    if n <= first {
        return;
    }
    // poly[i][j] = coefficient of s^i t^j; degrees grow by one per derivative.
    let dim = n + 2;
    let mut poly = vec![0.0; dim * dim];
    poly[start.0 * dim + start.1] = 1.0;
    let mut next = vec![0.0; dim * dim];
    let mut fact: f64 = (1..first).map(|k| k as f64).product();
    for (k, ck) in c.iter_mut().enumerate().skip(first) {
        next.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..dim - 1 {
            for j in 0..dim - 1 {
                let p = poly[i * dim + j];
                if p == 0.0 {
                    continue;
                }
                // d(s^i t^j) = i s^i t^(j+1) - j s^(i+1) t^j
                if i > 0 {
                    next[i * dim + j + 1] += p * i as f64;
                }
                if j > 0 {
                    next[(i + 1) * dim + j] -= p * j as f64;
                }
            }
        }
        std::mem::swap(&mut poly, &mut next);
        fact *= k as f64;
        let mut v = 0.0;
        for i in 0..dim {
            for j in 0..dim {
                let p = poly[i * dim + j];
                if p != 0.0 {
                    v += p * s.powi(i as i32) * t.powi(j as i32);
                }
            }
        }
        *ck = v / fact;
    }
}

/// Which form of the Bessel function.
#[derive(Clone, Copy, PartialEq)]
enum BesselForm {
    /// `I_ν(x)`
    Plain,
    /// `e^{-x} I_ν(x)`
    Scaled,
    /// `log I_ν(x)`
    Log,
}

/// Taylor coefficients of a form of `I_ν` at `a`.
///
/// For large `a` (where the asymptotic expansion converges) the scaled
/// function's derivatives come from that expansion term by term; elsewhere
/// from the power series term by term. In that second regime the scaled
/// form multiplies by the series of `e^{-t}`, which cancels: its k-th
/// derivative loses about `(2a)^k` ulps (a < 30: up to 1e-10 for k = 3).
fn bessel_taylor(nu: f64, a: f64, c: &mut [f64], form: BesselForm) {
    let integer = nu == nu.floor();
    if a < 0.0 {
        if form == BesselForm::Plain && integer {
            // I_n(-x) = (-1)^n I_n(x): coefficient k picks up (-1)^(n+k).
            bessel_taylor(nu, -a, c, form);
            let odd_order = (nu.abs() * 0.5).floor() * 2.0 != nu.abs();
            for (k, ck) in c.iter_mut().enumerate() {
                if odd_order != (k % 2 == 1) {
                    *ck = -*ck;
                }
            }
        } else {
            c.iter_mut().for_each(|v| *v = f64::NAN);
        }
        return;
    }
    if a == 0.0 {
        bessel_at_zero(nu, c);
        match form {
            BesselForm::Plain => {}
            BesselForm::Scaled => mul_exp_neg(c),
            BesselForm::Log => {
                // Only I_0 is nonzero at 0, and I_0(0) = 1, so its series is relative.
                if nu != 0.0 {
                    c.iter_mut().for_each(|ck| *ck = f64::NAN);
                }
                log_series(c);
                c[0] = 0.0;
            }
        }
        return;
    }
    if c.len() > 1 && special::besseli_scaled_taylor(nu, a, c) {
        match form {
            BesselForm::Scaled => {}
            BesselForm::Plain => {
                mul_exp_pos(c);
                let e = a.exp();
                c.iter_mut().for_each(|ck| *ck *= e);
            }
            BesselForm::Log => {
                let g0 = c[0];
                c.iter_mut().for_each(|ck| *ck /= g0);
                log_series(c);
                c[0] = a + g0.ln();
                if c.len() > 1 {
                    c[1] += 1.0; // d/dx of the `x` in log I = x + log g
                }
            }
        }
        return;
    }
    // Series regime: coefficients · exp(log_scale).
    let nu = if nu < 0.0 && integer { -nu } else { nu };
    let log_scale = special::besseli_series_taylor(nu, a, c);
    match form {
        BesselForm::Plain => {
            let e = log_scale.exp();
            c.iter_mut().for_each(|ck| *ck *= e);
        }
        BesselForm::Scaled => {
            mul_exp_neg(c);
            let e = (log_scale - a).exp();
            c.iter_mut().for_each(|ck| *ck *= e);
        }
        BesselForm::Log => {
            let c0 = c[0];
            c.iter_mut().for_each(|ck| *ck /= c0);
            log_series(c);
            c[0] = c0.abs().ln() + log_scale;
        }
    }
}

/// Multiply a Taylor series in place by that of `e^{t}`.
fn mul_exp_pos(c: &mut [f64]) {
    for k in (0..c.len()).rev() {
        let mut acc = 0.0;
        let mut e = 1.0; // 1 / (k-j)!, from j = k downwards
        for j in (0..=k).rev() {
            acc += c[j] * e;
            e /= (k - j + 1) as f64;
        }
        c[k] = acc;
    }
}

/// Taylor coefficients of `I_ν(t)` at 0: the power series
/// `Σ_m (t/2)^(ν+2m) / (m! Γ(ν+m+1))` for integer ν; a non-integer order
/// has no Taylor series at 0 (its derivatives there are 0 or infinite).
fn bessel_at_zero(nu: f64, c: &mut [f64]) {
    let nu = nu.abs();
    c[0] = special::besseli(nu, 0.0);
    if nu != nu.floor() {
        c[1..].iter_mut().for_each(|v| *v = f64::NAN);
        return;
    }
    let order = nu as usize;
    for (k, ck) in c.iter_mut().enumerate() {
        *ck = if k >= order && (k - order).is_multiple_of(2) {
            let m = (k - order) / 2;
            // 1 / (2^k m! (ν+m)!)
            let mut v = 0.5f64.powi(k as i32);
            v /= (1..=m).map(|i| i as f64).product::<f64>();
            v /= (1..=order + m).map(|i| i as f64).product::<f64>();
            v
        } else {
            0.0
        };
    }
}

/// Multiply a Taylor series in place by that of `e^{-t}`.
fn mul_exp_neg(c: &mut [f64]) {
    for k in (0..c.len()).rev() {
        let mut acc = 0.0;
        let mut e = 1.0; // (-1)^(k-j) / (k-j)!, from j = k downwards
        for j in (0..=k).rev() {
            acc += c[j] * e;
            e /= -((k - j + 1) as f64);
        }
        c[k] = acc;
    }
}

/// Replace a series `1 + Σ c_k t^k` (c[0] ignored) by the series of its
/// logarithm: `L_k = c_k - (1/k) Σ_{j<k} j L_j c_{k-j}` (c[0] left to the caller).
fn log_series(c: &mut [f64]) {
    let n = c.len();
    let mut stack = [0.0; STACK];
    let mut heap;
    let l: &mut [f64] = if n <= STACK {
        &mut stack[..n]
    } else {
        heap = vec![0.0; n];
        &mut heap
    };
    for k in 1..n {
        let s: f64 = (1..k).map(|j| j as f64 * l[j] * c[k - j]).sum();
        l[k] = c[k] - s / k as f64;
    }
    c.copy_from_slice(l);
}
