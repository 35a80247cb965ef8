//! A tiny f64 evaluator for the render tests: both sides of a round trip
//! go through the same functions, so only determinism matters, but the
//! special functions are accurate to ~1e-10 anyway.

use fimkit::Expr;
use fimkit::ir::{Func, Rational};
use num_traits::ToPrimitive;
use std::collections::HashMap;

/// Variable values.
pub type Env = HashMap<String, f64>;

fn num(r: &Rational) -> f64 {
    r.to_f64().unwrap_or(f64::NAN)
}

/// Evaluate `e`; unknown variables are NaN.
pub fn eval(e: &Expr, env: &Env) -> f64 {
    match e {
        Expr::Num(r) => num(r),
        Expr::Const(c) => c.value(),
        Expr::Var(v) => env.get(&**v).copied().unwrap_or(f64::NAN),
        Expr::Add(xs) => xs.iter().map(|x| eval(x, env)).sum(),
        Expr::Mul(xs) => xs.iter().map(|x| eval(x, env)).product(),
        Expr::Pow(b, x) => {
            let (b, x) = (eval(b, env), eval(x, env));
            if x.fract() == 0.0 && x.abs() < 1e9 {
                b.powi(x as i32)
            } else {
                b.powf(x)
            }
        }
        // Internal functions (made by `symbolic::stable` only) by their definition.
        Expr::Call(f, args) if f.is_internal() => match f.definition(args) {
            Some(d) => eval(&d, env),
            None => f64::NAN,
        },
        Expr::Call(f, args) => {
            let a: Vec<f64> = args.iter().map(|x| eval(x, env)).collect();
            call(*f, &a)
        }
    }
}

fn call(f: Func, a: &[f64]) -> f64 {
    let x = a[0];
    match f {
        Func::Log => x.ln(),
        Func::Exp => x.exp(),
        Func::Log1p => x.ln_1p(),
        Func::Expm1 => x.exp_m1(),
        Func::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Func::Lgamma => lgamma(x),
        Func::Polygamma => {
            if x < 0.0 || x.fract() != 0.0 {
                f64::NAN
            } else {
                polygamma(x as u32, a[1])
            }
        }
        Func::Lbeta => lgamma(a[0]) + lgamma(a[1]) - lgamma(a[0] + a[1]),
        Func::Erf => erf(x),
        Func::Erfc => 1.0 - erf(x),
        Func::Sin => x.sin(),
        Func::Cos => x.cos(),
        Func::BesselI => bessel_i(a[0], a[1]),
        Func::Abs => x.abs(),
        Func::NormalCdf => 0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2)),
        Func::Indicator => f64::from(u8::from(a[0] == a[1])),
        Func::LogNormalCdf
        | Func::LogSigmoid
        | Func::LogBesselI
        | Func::Mills
        | Func::MillsShift => f64::NAN,
    }
}

/// log|Γ(x)| for x > 0 (Lanczos, g = 7); NaN otherwise.
pub fn lgamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x)Γ(1−x) = π / sin(πx)
        let s = (std::f64::consts::PI * x).sin();
        return (std::f64::consts::PI / s).abs().ln() - lgamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut acc = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        acc += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + acc.ln()
}

/// ψ⁽ⁿ⁾(x) for x > 0: recurrence up to x ≥ 20, then the asymptotic series.
pub fn polygamma(n: u32, x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || n > 20 {
        return f64::NAN;
    }
    let fact = |k: u32| (1..=k).map(f64::from).product::<f64>();
    let sign = if n.is_multiple_of(2) { -1.0 } else { 1.0 }; // (−1)^(n+1)
    let mut x = x;
    let mut shift = 0.0;
    while x < 20.0 {
        // ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x+1) − (−1)ⁿ n!/x^(n+1)
        let term = fact(n) / x.powi(n as i32 + 1);
        shift -= if n.is_multiple_of(2) { term } else { -term };
        x += 1.0;
    }
    // Bernoulli numbers B2, B4, ..., B16
    const B: [f64; 8] = [
        1.0 / 6.0,
        -1.0 / 30.0,
        1.0 / 42.0,
        -1.0 / 30.0,
        5.0 / 66.0,
        -691.0 / 2730.0,
        7.0 / 6.0,
        -3617.0 / 510.0,
    ];
    let asym = if n == 0 {
        let mut s = x.ln() - 0.5 / x;
        for (k, b) in B.iter().enumerate() {
            let k2 = 2 * (k as i32 + 1);
            s -= b / (f64::from(k2) * x.powi(k2));
        }
        s
    } else {
        let mut s = fact(n - 1) / x.powi(n as i32) + fact(n) / (2.0 * x.powi(n as i32 + 1));
        for (k, b) in B.iter().enumerate() {
            let k2 = 2 * (k as u32 + 1);
            s += b * fact(k2 + n - 1) / (fact(k2) * x.powi((k2 + n) as i32));
        }
        sign * s
    };
    asym + shift
}

/// erf by its Taylor series (|x| < 3) or the continued fraction of erfc.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.abs() < 3.0 {
        let mut term = x;
        let mut sum = x;
        for k in 1..200 {
            term *= -x * x / f64::from(k);
            let add = term / f64::from(2 * k + 1);
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        return 2.0 / std::f64::consts::PI.sqrt() * sum;
    }
    // erfc(x) = exp(−x²)/(x√π) · 1/(1 + 1/(2x²)/(1 + 2/(2x²)/(1 + ...)))
    let ax = x.abs();
    let mut f = 0.0;
    for k in (1..60).rev() {
        f = f64::from(k) / 2.0 / (ax * ax) / (1.0 + f);
    }
    let erfc = (-ax * ax).exp() / (ax * std::f64::consts::PI.sqrt()) / (1.0 + f);
    (1.0 - erfc).copysign(x)
}

/// I_ν(x) for ν ≥ 0, x ≥ 0 by its power series.
pub fn bessel_i(nu: f64, x: f64) -> f64 {
    if nu < 0.0 || x < 0.0 {
        return f64::NAN;
    }
    let h = x / 2.0;
    let mut sum = 0.0;
    for k in 0..200 {
        let kf = f64::from(k);
        let lt = (2.0 * kf + nu) * h.ln() - lgamma(kf + 1.0) - lgamma(kf + nu + 1.0);
        let t = if h == 0.0 {
            if k == 0 && nu == 0.0 { 1.0 } else { 0.0 }
        } else {
            lt.exp()
        };
        sum += t;
        if t < 1e-17 * sum && k > 2 {
            break;
        }
    }
    sum
}
