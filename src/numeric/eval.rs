//! Evaluate an [`Expr`] over any dual number type.
//!
//! [`eval`] walks the tree once, generic over `D: DualNum<Primitive = f64>`:
//! with `f64` it gives the value, with `Dual2Vec` the value, gradient and
//! Hessian, exactly (no finite differences). Every intermediate value is
//! checked: a non-finite result is an error naming the innermost
//! subexpression that produced it, never a silent NaN.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::numeric::eval::{eval_f64, gradient_hessian};
//! let (x, mu) = (Expr::var("x"), Expr::var("mu"));
//! let logp = -Expr::powi(x - mu, 2) / Expr::int(2);
//! let at = |name: &str| match name { "x" => Some(1.5), "mu" => Some(0.5), _ => None };
//! assert_eq!(eval_f64(&logp, &at).unwrap(), -0.5);
//! let (v, g, h) = gradient_hessian(&logp, &["mu"], &at).unwrap();
//! assert_eq!((v, g[0], h[(0, 0)]), (-0.5, 1.0, -1.0));
//! ```

use super::SpecialFunctions;
use crate::ir::expr::{Expr, Func, Name, rational_to_f64};
use nalgebra::{Const, DMatrix, DVector, Dyn, U1};
use num_dual::{Derivative, Dual2SVec64, Dual2Vec, DualNum};
use std::fmt;

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// A variable had no value.
    UnknownVariable(Name),
    /// A subexpression evaluated to NaN or ±∞.
    NonFinite {
        /// The innermost subexpression whose value was not finite (shortened).
        expr: String,
        /// Its value.
        value: f64,
    },
    /// A function's order argument is not usable (polygamma needs an
    /// integer order in 0..=170).
    BadOrder {
        /// The function.
        func: &'static str,
        /// The order's value.
        value: f64,
    },
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::UnknownVariable(v) => write!(f, "no value given for `{v}`"),
            EvalError::NonFinite { expr, value } => {
                write!(f, "`{expr}` evaluates to {value} (not a finite number)")
            }
            EvalError::BadOrder { func, value } => write!(
                f,
                "the order of `{func}` must be an integer in 0..=170, not {value}"
            ),
        }
    }
}

impl std::error::Error for EvalError {}

/// Shorten an expression for an error message.
pub(crate) fn describe(e: &Expr) -> String {
    // ASCII text in the model language: `-exp(a*x)`, not `(-1)*exp(a*x)`.
    let s = crate::ir::text::render(e, &crate::ir::text::TextStyle::ascii());
    if s.chars().count() > 120 {
        let mut t: String = s.chars().take(117).collect();
        t.push_str("...");
        t
    } else {
        s
    }
}

/// Check a value, naming `e` when it is not finite.
fn finite<D: DualNum<Primitive = f64>>(v: D, e: &Expr) -> Result<D, EvalError> {
    let r = v.re();
    if r.is_finite() {
        Ok(v)
    } else {
        Err(EvalError::NonFinite {
            expr: describe(e),
            value: r,
        })
    }
}

/// The polygamma order as an integer.
pub(crate) fn polygamma_order(v: f64) -> Result<u32, EvalError> {
    if v == v.floor() && (0.0..=170.0).contains(&v) {
        Ok(v as u32)
    } else {
        Err(EvalError::BadOrder {
            func: "polygamma",
            value: v,
        })
    }
}

/// Evaluate `e` with variable values from `env`.
///
/// `e` is first put in its stable form ([`crate::symbolic::stable`]):
/// `1 - Phi(u)` is computed as `Phi(-u)`, `log Phi`, `log sigmoid` and
/// `log besseli` by their tail-safe functions, `exp(a)/Phi(u)^k` through
/// the Mills ratio or `log Phi`, so nothing underflows or cancels in the
/// tails. Powers: an integer exponent uses `powi`, a constant rational one
/// `powf` (`sqrt` for 1/2), a symbolic one `exp(b log b)`.
/// `indicator(x, k)` compares real parts.
pub fn eval<D: DualNum<Primitive = f64>>(
    e: &Expr,
    env: &dyn Fn(&str) -> Option<D>,
) -> Result<D, EvalError> {
    eval_stable(&crate::symbolic::stable_cow(e), env)
}

/// Evaluate an expression already in stable form.
pub(crate) fn eval_stable<D: DualNum<Primitive = f64>>(
    e: &Expr,
    env: &dyn Fn(&str) -> Option<D>,
) -> Result<D, EvalError> {
    let v = match e {
        Expr::Num(r) => D::from(rational_to_f64(r)),
        Expr::Const(c) => D::from(c.value()),
        Expr::Var(name) => env(name).ok_or_else(|| EvalError::UnknownVariable(name.clone()))?,
        Expr::Add(ts) => {
            let mut acc = eval_stable(&ts[0], env)?;
            for t in &ts[1..] {
                acc += eval_stable(t, env)?;
            }
            acc
        }
        Expr::Mul(fs) => {
            let mut acc = eval_stable(&fs[0], env)?;
            for f in &fs[1..] {
                match f {
                    Expr::Num(r) => acc *= rational_to_f64(r),
                    _ => acc *= eval_stable(f, env)?,
                }
            }
            acc
        }
        Expr::Pow(b, x) => {
            let base = eval_stable(b, env)?;
            match x.as_num() {
                Some(r) if r.is_integer() => match x.as_int().and_then(|n| i32::try_from(n).ok()) {
                    Some(n) => super::dual::powi(&base, n),
                    None => base.powf(rational_to_f64(r)),
                },
                Some(r) => {
                    let p = rational_to_f64(r);
                    if p == 0.5 { base.sqrt() } else { base.powf(p) }
                }
                None => {
                    let ex = eval_stable(x, env)?;
                    (ex * base.ln()).exp()
                }
            }
        }
        Expr::Call(f, args) => call(*f, args, env)?,
    };
    finite(v, e)
}

fn call<D: DualNum<Primitive = f64>>(
    f: Func,
    args: &[Expr],
    env: &dyn Fn(&str) -> Option<D>,
) -> Result<D, EvalError> {
    let arg = |i: usize| eval_stable(&args[i], env);
    Ok(match f {
        Func::Log => arg(0)?.ln(),
        Func::Exp => arg(0)?.exp(),
        Func::Log1p => arg(0)?.ln_1p(),
        Func::Expm1 => arg(0)?.exp_m1(),
        Func::Sigmoid => arg(0)?.sigmoid(),
        Func::Lgamma => arg(0)?.lgamma(),
        Func::Polygamma => {
            let n = polygamma_order(arg(0)?.re())?;
            arg(1)?.polygamma(n)
        }
        Func::Lbeta => arg(0)?.lbeta(&arg(1)?),
        Func::Erf => SpecialFunctions::erf(&arg(0)?),
        Func::Erfc => SpecialFunctions::erfc(&arg(0)?),
        Func::Sin => arg(0)?.sin(),
        Func::Cos => arg(0)?.cos(),
        Func::BesselI => {
            let nu = arg(0)?.re();
            arg(1)?.besseli(nu)
        }
        Func::Abs => num_traits::Signed::abs(&arg(0)?),
        Func::NormalCdf => arg(0)?.normal_cdf(),
        Func::Indicator => {
            let (x, k) = (arg(0)?.re(), arg(1)?.re());
            D::from(if x == k { 1.0 } else { 0.0 })
        }
        Func::LogNormalCdf => arg(0)?.log_normal_cdf(),
        Func::LogSigmoid => arg(0)?.log_sigmoid(),
        Func::LogBesselI => {
            let nu = arg(0)?.re();
            arg(1)?.log_besseli(nu)
        }
        Func::Mills => arg(0)?.mills(),
        Func::MillsShift => arg(0)?.mills_shift(),
    })
}

/// Evaluate in plain `f64`.
pub fn eval_f64(e: &Expr, values: &dyn Fn(&str) -> Option<f64>) -> Result<f64, EvalError> {
    eval(e, values)
}

/// Value, gradient and Hessian of `e` with respect to `vars`, exact
/// (second-order dual numbers); every variable, `vars` included, takes
/// its value from `values`. Uses a stack-allocated `Dual2SVec` for up to 8
/// variables and `Dual2Vec<f64, Dyn>` beyond.
pub fn gradient_hessian(
    e: &Expr,
    vars: &[impl AsRef<str>],
    values: &dyn Fn(&str) -> Option<f64>,
) -> Result<(f64, DVector<f64>, DMatrix<f64>), EvalError> {
    let names: Vec<&str> = vars.iter().map(AsRef::as_ref).collect();
    let mut at = Vec::with_capacity(names.len());
    for n in &names {
        at.push(values(n).ok_or_else(|| EvalError::UnknownVariable(Name::from(*n)))?);
    }
    let out = match names.len() {
        1 => hessian_static::<1>(e, &names, &at, values),
        2 => hessian_static::<2>(e, &names, &at, values),
        3 => hessian_static::<3>(e, &names, &at, values),
        4 => hessian_static::<4>(e, &names, &at, values),
        5 => hessian_static::<5>(e, &names, &at, values),
        6 => hessian_static::<6>(e, &names, &at, values),
        7 => hessian_static::<7>(e, &names, &at, values),
        8 => hessian_static::<8>(e, &names, &at, values),
        _ => hessian_dyn(e, &names, &at, values),
    }?;
    let (v, g, h) = &out;
    if !g.iter().chain(h.iter()).all(|x| x.is_finite()) {
        return Err(EvalError::NonFinite {
            expr: format!("derivatives of {}", describe(e)),
            value: g
                .iter()
                .chain(h.iter())
                .copied()
                .find(|x| !x.is_finite())
                .unwrap_or(*v),
        });
    }
    Ok(out)
}

fn hessian_static<const N: usize>(
    e: &Expr,
    names: &[&str],
    at: &[f64],
    values: &dyn Fn(&str) -> Option<f64>,
) -> Result<(f64, DVector<f64>, DMatrix<f64>), EvalError> {
    let seeds: Vec<Dual2SVec64<N>> = (0..N)
        .map(|i| Dual2SVec64::<N>::from_re(at[i]).derivative(i))
        .collect();
    let env = |name: &str| match names.iter().position(|n| *n == name) {
        Some(i) => Some(seeds[i]),
        None => values(name).map(Dual2SVec64::<N>::from),
    };
    let r = eval(e, &env)?;
    let g = r.v1.unwrap_generic(U1, Const::<N>);
    let h = r.v2.unwrap_generic(Const::<N>, Const::<N>);
    Ok((
        r.re,
        DVector::from_iterator(N, g.iter().copied()),
        DMatrix::from_iterator(N, N, h.iter().copied()),
    ))
}

fn hessian_dyn(
    e: &Expr,
    names: &[&str],
    at: &[f64],
    values: &dyn Fn(&str) -> Option<f64>,
) -> Result<(f64, DVector<f64>, DMatrix<f64>), EvalError> {
    let n = names.len();
    type D = Dual2Vec<f64, Dyn>;
    let seeds: Vec<D> = (0..n)
        .map(|i| {
            let mut d = D::from_re(at[i]);
            d.v1 = Derivative::derivative_generic(U1, Dyn(n), i);
            d
        })
        .collect();
    let env = |name: &str| match names.iter().position(|m| *m == name) {
        Some(i) => Some(seeds[i].clone()),
        None => values(name).map(D::from),
    };
    let r = eval(e, &env)?;
    let g = r.v1.unwrap_generic(U1, Dyn(n));
    let h = r.v2.unwrap_generic(Dyn(n), Dyn(n));
    Ok((r.re, DVector::from_iterator(n, g.iter().copied()), h))
}
