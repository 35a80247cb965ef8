//! Exact symbolic differentiation on the IR: one rule per operator and
//! function, results built through the canonical constructors.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::symbolic::diff;
//! let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("sigma"));
//! let logp = -Expr::log(s.clone()) - Expr::powi(x - mu, 2) / (Expr::int(2) * Expr::powi(s, 2));
//! let score = diff(&logp, "mu");
//! assert_eq!(fimkit::render::text::render(&score, &Default::default()), "(x - mu)/sigma^2");
//! ```

use crate::ir::expr::{Constant, Expr, Func};

/// `d e / d var`.
pub fn diff(e: &Expr, var: &str) -> Expr {
    if !e.contains_var(var) {
        return Expr::zero();
    }
    match e {
        Expr::Num(_) | Expr::Const(_) => Expr::zero(),
        Expr::Var(v) => {
            if &**v == var {
                Expr::one()
            } else {
                Expr::zero()
            }
        }
        Expr::Add(ts) => Expr::add(ts.iter().map(|t| diff(t, var)).collect()),
        Expr::Mul(fs) => {
            // Product rule over n factors.
            let mut terms = Vec::new();
            for i in 0..fs.len() {
                if !fs[i].contains_var(var) {
                    continue;
                }
                let mut factors = fs.to_vec();
                factors[i] = diff(&fs[i], var);
                terms.push(Expr::mul(factors));
            }
            Expr::add(terms)
        }
        Expr::Pow(b, x) => {
            let (b, x) = (&**b, &**x);
            if !x.contains_var(var) {
                // d b^c = c b^(c-1) b'
                Expr::mul(vec![
                    x.clone(),
                    Expr::pow(b.clone(), Expr::sub(x.clone(), Expr::one())),
                    diff(b, var),
                ])
            } else {
                // d b^x = b^x (x' log b + x b'/b)
                Expr::mul(vec![
                    e.clone(),
                    Expr::add(vec![
                        Expr::mul(vec![diff(x, var), Expr::log(b.clone())]),
                        Expr::mul(vec![x.clone(), diff(b, var), Expr::recip(b.clone())]),
                    ]),
                ])
            }
        }
        Expr::Call(f, args) => call_derivative(*f, args, var),
    }
}

/// Chain rule for a function call.
fn call_derivative(f: Func, args: &[Expr], var: &str) -> Expr {
    let a = &args[0];
    let outer = |inner: Expr, da: Expr| Expr::mul(vec![inner, da]);
    match f {
        Func::Log => Expr::div(diff(a, var), a.clone()),
        Func::Exp => outer(Expr::exp(a.clone()), diff(a, var)),
        Func::Log1p => Expr::div(diff(a, var), Expr::add2(Expr::one(), a.clone())),
        Func::Expm1 => outer(Expr::exp(a.clone()), diff(a, var)),
        Func::Sigmoid => {
            // σ' = σ (1 - σ)
            let s = Expr::call(Func::Sigmoid, vec![a.clone()]);
            outer(
                Expr::mul2(s.clone(), Expr::sub(Expr::one(), s)),
                diff(a, var),
            )
        }
        Func::Lgamma => outer(Expr::polygamma(0, a.clone()), diff(a, var)),
        Func::Polygamma => {
            // The order is a constant (checked by the resolver).
            let x = &args[1];
            let n = Expr::add2(args[0].clone(), Expr::one());
            outer(
                Expr::call(Func::Polygamma, vec![n, x.clone()]),
                diff(x, var),
            )
        }
        Func::Lbeta => {
            let (p, q) = (&args[0], &args[1]);
            let psi_sum = Expr::polygamma(0, Expr::add2(p.clone(), q.clone()));
            Expr::add(vec![
                outer(
                    Expr::sub(Expr::polygamma(0, p.clone()), psi_sum.clone()),
                    diff(p, var),
                ),
                outer(
                    Expr::sub(Expr::polygamma(0, q.clone()), psi_sum),
                    diff(q, var),
                ),
            ])
        }
        Func::Erf | Func::Erfc => {
            // erf' = 2/sqrt(pi) exp(-x^2)
            let g = Expr::mul(vec![
                Expr::int(2),
                Expr::pow(Expr::Const(Constant::Pi), Expr::rational(-1, 2)),
                Expr::exp(Expr::neg(Expr::powi(a.clone(), 2))),
            ]);
            let g = if f == Func::Erfc { Expr::neg(g) } else { g };
            outer(g, diff(a, var))
        }
        Func::NormalCdf => {
            // Φ' = φ = exp(-x^2/2) / sqrt(2 pi)
            let phi = Expr::mul(vec![
                Expr::pow(
                    Expr::mul2(Expr::int(2), Expr::Const(Constant::Pi)),
                    Expr::rational(-1, 2),
                ),
                Expr::exp(Expr::mul2(Expr::rational(-1, 2), Expr::powi(a.clone(), 2))),
            ]);
            outer(phi, diff(a, var))
        }
        Func::Sin => outer(Expr::call(Func::Cos, vec![a.clone()]), diff(a, var)),
        Func::Cos => outer(
            Expr::neg(Expr::call(Func::Sin, vec![a.clone()])),
            diff(a, var),
        ),
        Func::BesselI => {
            // I_ν'(x) = (I_{ν-1}(x) + I_{ν+1}(x)) / 2, with I_{-n} = I_n for integer n.
            let (nu, x) = (&args[0], &args[1]);
            let order = |k: i64| {
                let o = Expr::add2(nu.clone(), Expr::int(k));
                match o.as_int() {
                    Some(n) if n < 0 => Expr::int(-n),
                    _ => o,
                }
            };
            let d = Expr::mul2(
                Expr::rational(1, 2),
                Expr::add2(
                    Expr::call(Func::BesselI, vec![order(-1), x.clone()]),
                    Expr::call(Func::BesselI, vec![order(1), x.clone()]),
                ),
            );
            outer(d, diff(x, var))
        }
        Func::Abs => {
            // d|a| = a/|a| a' (undefined at 0).
            outer(
                Expr::div(a.clone(), Expr::call(Func::Abs, vec![a.clone()])),
                diff(a, var),
            )
        }
        // The indicator's arguments are data and constants.
        Func::Indicator => Expr::zero(),
        // Internal functions (`symbolic::stable`), in their own terms so a
        // derivative stays stable: (log Φ)' = r, r' = -r q, q' = 1 - r q
        // with r the inverse Mills ratio and q = u + r; (log σ)' = σ(-u).
        Func::LogNormalCdf => outer(Expr::call(Func::Mills, vec![a.clone()]), diff(a, var)),
        Func::LogSigmoid => outer(
            Expr::call(Func::Sigmoid, vec![Expr::neg(a.clone())]),
            diff(a, var),
        ),
        Func::Mills => outer(
            Expr::neg(Expr::mul2(
                Expr::call(Func::Mills, vec![a.clone()]),
                Expr::call(Func::MillsShift, vec![a.clone()]),
            )),
            diff(a, var),
        ),
        Func::MillsShift => outer(
            Expr::sub(
                Expr::one(),
                Expr::mul2(
                    Expr::call(Func::Mills, vec![a.clone()]),
                    Expr::call(Func::MillsShift, vec![a.clone()]),
                ),
            ),
            diff(a, var),
        ),
        Func::LogBesselI => {
            let def = f.definition(args).expect("an internal function");
            diff(&def, var)
        }
    }
}

/// Gradient of `e` with respect to `vars`, in order.
pub fn gradient(e: &Expr, vars: &[impl AsRef<str>]) -> Vec<Expr> {
    let Expr::Add(terms) = e else {
        return vars.iter().map(|v| diff(e, v.as_ref())).collect();
    };
    // Each variable differentiates only the terms that hold it: a sum of
    // K independent terms costs K, not K² (1,000 means).
    let holds: Vec<Vec<crate::ir::expr::Name>> = terms.iter().map(Expr::free_vars).collect();
    vars.iter()
        .map(|v| {
            let v = v.as_ref();
            let mine: Vec<Expr> = terms
                .iter()
                .zip(&holds)
                .filter(|(_, h)| h.binary_search_by(|n| (**n).cmp(v)).is_ok())
                .map(|(t, _)| diff(t, v))
                .collect();
            Expr::add(mine)
        })
        .collect()
}

/// Hessian of `e` with respect to `vars`: a symmetric matrix (row-major
/// `Vec` of rows); each entry below the diagonal is a copy of the one above.
pub fn hessian(e: &Expr, vars: &[impl AsRef<str>]) -> Vec<Vec<Expr>> {
    let g = gradient(e, vars);
    let n = vars.len();
    let mut h = vec![vec![Expr::zero(); n]; n];
    for i in 0..n {
        // Only the variables the gradient entry holds (most of a large
        // model's Hessian is zero).
        let free = g[i].free_vars();
        for j in i..n {
            if free
                .binary_search_by(|v| (**v).cmp(vars[j].as_ref()))
                .is_err()
            {
                continue;
            }
            let d = diff(&g[i], vars[j].as_ref());
            h[j][i] = d.clone();
            h[i][j] = d;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x() -> Expr {
        Expr::var("x")
    }

    #[test]
    fn polynomial_rules() {
        let e = Expr::powi(x(), 3);
        assert_eq!(diff(&e, "x"), Expr::mul2(Expr::int(3), Expr::powi(x(), 2)));
        assert_eq!(diff(&Expr::recip(x()), "x"), Expr::neg(Expr::powi(x(), -2)));
    }

    #[test]
    fn special_function_chain() {
        assert_eq!(diff(&Expr::lgamma(x()), "x"), Expr::polygamma(0, x()));
        assert_eq!(diff(&Expr::polygamma(0, x()), "x"), Expr::polygamma(1, x()));
        let two_x = Expr::mul2(Expr::int(2), x());
        assert_eq!(
            diff(&Expr::lgamma(two_x.clone()), "x"),
            Expr::mul2(Expr::int(2), Expr::polygamma(0, two_x))
        );
    }

    #[test]
    fn symbolic_exponent() {
        // d/dx x^x = x^x (log x + 1)
        let e = Expr::pow(x(), x());
        let d = diff(&e, "x");
        assert_eq!(
            d,
            Expr::mul2(Expr::pow(x(), x()), Expr::add2(Expr::log(x()), Expr::one()))
        );
    }

    #[test]
    fn hessian_is_symmetric() {
        let (a, b) = (Expr::var("a"), Expr::var("b"));
        let e = Expr::mul(vec![
            Expr::exp(a.clone()),
            Expr::powi(b.clone(), 2),
            Expr::log(a),
        ]);
        let h = hessian(&e, &["a", "b"]);
        assert_eq!(h[0][1], h[1][0]);
    }
}
