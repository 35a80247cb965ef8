//! Write an expression as a sum of data monomials with data-free
//! coefficients: `f(θ, x) = Σ_m c_m(θ) · m(x)`.
//!
//! This is the step that makes expectations exact: when every monomial is
//! a sufficient statistic (or a product of two) of the data's family,
//! `E[f] = Σ c_m E[m]` needs only the family's moments. The expansion is
//! done with respect to the data only; coefficients are left as they are.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::structure::linearize::linearize;
//! let (x, mu) = (Expr::var("x"), Expr::var("mu"));
//! let f = Expr::powi(x.clone() - mu.clone(), 2);
//! let parts = linearize(&f, &|v| v == "x", &|v| v == "mu").unwrap();
//! assert_eq!(parts.len(), 3); // 1, x, x^2
//! assert_eq!(parts[&x], Expr::int(-2) * mu);
//! ```

use crate::ir::expr::{Expr, Func};
use std::collections::BTreeMap;

/// Monomial → coefficient.
pub type Linear = BTreeMap<Expr, Expr>;

/// Why an expression is not a sum of data monomials.
#[derive(Clone, Debug, PartialEq)]
pub struct NotSeparable {
    /// The subexpression in which data and parameters cannot be separated.
    pub culprit: Expr,
}

/// Most monomials one expansion may produce before giving up.
const MAX_TERMS: usize = 4096;

/// Linearize `e` with respect to the data variables for which `is_data`
/// holds; `is_param` names the variables that must stay out of monomials.
pub fn linearize(
    e: &Expr,
    is_data: &dyn Fn(&str) -> bool,
    is_param: &dyn Fn(&str) -> bool,
) -> Result<Linear, NotSeparable> {
    Linearizer { is_data, is_param }.run(e)
}

struct Linearizer<'a> {
    is_data: &'a dyn Fn(&str) -> bool,
    is_param: &'a dyn Fn(&str) -> bool,
}

fn single(monomial: Expr, coeff: Expr) -> Linear {
    let mut m = Linear::new();
    if !coeff.is_zero() {
        m.insert(monomial, coeff);
    }
    m
}

fn add_into(acc: &mut Linear, monomial: Expr, coeff: Expr) {
    let entry = acc.entry(monomial).or_insert_with(Expr::zero);
    *entry = Expr::add2(entry.clone(), coeff);
}

fn prune(mut m: Linear) -> Linear {
    m.retain(|_, c| !c.is_zero());
    m
}

impl Linearizer<'_> {
    fn has_data(&self, e: &Expr) -> bool {
        e.free_vars().iter().any(|v| (self.is_data)(v))
    }

    fn has_param(&self, e: &Expr) -> bool {
        e.free_vars().iter().any(|v| (self.is_param)(v))
    }

    fn run(&self, e: &Expr) -> Result<Linear, NotSeparable> {
        if !self.has_data(e) {
            return Ok(single(Expr::one(), e.clone()));
        }
        match e {
            Expr::Var(_) => Ok(single(e.clone(), Expr::one())),
            Expr::Add(ts) => {
                let mut acc = Linear::new();
                for t in ts.iter() {
                    for (m, c) in self.run(t)? {
                        add_into(&mut acc, m, c);
                    }
                }
                Ok(prune(acc))
            }
            Expr::Mul(fs) => {
                let mut acc = single(Expr::one(), Expr::one());
                for f in fs.iter() {
                    acc = self.product(&acc, &self.run(f)?, e)?;
                }
                Ok(acc)
            }
            Expr::Pow(b, x) => {
                if let Some(n) = x.as_int()
                    && (1..=8).contains(&n)
                    && self.has_param(b)
                {
                    let base = self.run(b)?;
                    let mut acc = single(Expr::one(), Expr::one());
                    for _ in 0..n {
                        acc = self.product(&acc, &base, e)?;
                    }
                    return Ok(acc);
                }
                self.atom(e)
            }
            Expr::Call(f, args) => {
                let arg = &args[args.len() - 1];
                match (f, arg) {
                    // exp(a + b) = exp(a) exp(b)
                    (Func::Exp, Expr::Add(ts)) if self.has_param(arg) => {
                        let factors = ts.iter().map(|t| Expr::exp(t.clone())).collect::<Vec<_>>();
                        let mut acc = single(Expr::one(), Expr::one());
                        for f in &factors {
                            acc = self.product(&acc, &self.run(f)?, e)?;
                        }
                        Ok(acc)
                    }
                    // cos(a + b), sin(a + b) with the data in a and parameters in b
                    (Func::Cos | Func::Sin, Expr::Add(ts)) if self.has_param(arg) => {
                        let (data, rest): (Vec<Expr>, Vec<Expr>) =
                            ts.iter().cloned().partition(|t| self.has_data(t));
                        let (a, b) = (Expr::add(data), Expr::add(rest));
                        if self.has_param(&a) || !self.has_param(&b) {
                            return self.atom(e);
                        }
                        let (ca, sa) = (
                            Expr::call(Func::Cos, vec![a.clone()]),
                            Expr::call(Func::Sin, vec![a]),
                        );
                        let (cb, sb) = (
                            Expr::call(Func::Cos, vec![b.clone()]),
                            Expr::call(Func::Sin, vec![b]),
                        );
                        let expanded = if *f == Func::Cos {
                            ca * cb - sa * sb
                        } else {
                            sa * cb + ca * sb
                        };
                        self.run(&expanded)
                    }
                    _ => self.atom(e),
                }
            }
            Expr::Num(_) | Expr::Const(_) => Ok(single(Expr::one(), e.clone())),
        }
    }

    /// A data-only subexpression is a monomial of its own; one mixing data
    /// and parameters cannot be separated.
    fn atom(&self, e: &Expr) -> Result<Linear, NotSeparable> {
        if self.has_param(e) {
            return Err(NotSeparable { culprit: e.clone() });
        }
        Ok(single(e.clone(), Expr::one()))
    }

    fn product(&self, a: &Linear, b: &Linear, whole: &Expr) -> Result<Linear, NotSeparable> {
        if a.len().saturating_mul(b.len()) > MAX_TERMS {
            return Err(NotSeparable {
                culprit: whole.clone(),
            });
        }
        let mut acc = Linear::new();
        for (ma, ca) in a {
            for (mb, cb) in b {
                let m = Expr::mul2(ma.clone(), mb.clone());
                // A monomial may carry a numeric factor after canonical
                // combination (x · x⁻¹ = 1 is fine, 2x is not a monomial):
                // move it to the coefficient.
                let (k, m) = m.split_coeff();
                let c = Expr::mul(vec![Expr::Num(k), ca.clone(), cb.clone()]);
                add_into(&mut acc, m, c);
            }
        }
        Ok(prune(acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lin(e: &Expr) -> Result<Linear, NotSeparable> {
        linearize(e, &|v| v == "x", &|v| v == "mu" || v == "s")
    }

    #[test]
    fn normal_hessian_entry() {
        let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("s"));
        let h = Expr::recip(Expr::powi(s.clone(), 2))
            - Expr::int(3) * Expr::powi(x.clone() - mu, 2) / Expr::powi(s, 4);
        let parts = lin(&h).unwrap();
        let keys: Vec<String> = parts.keys().map(|k| k.to_string()).collect();
        assert_eq!(keys, ["1", "x", "x^2"]);
    }

    #[test]
    fn mixed_atom_is_reported() {
        let (x, mu) = (Expr::var("x"), Expr::var("mu"));
        let e = Expr::log(Expr::int(1) + Expr::powi(x - mu, 2));
        let err = lin(&e).unwrap_err();
        assert_eq!(err.culprit, e);
    }

    #[test]
    fn trig_addition() {
        let (x, mu) = (Expr::var("x"), Expr::var("mu"));
        let e = Expr::call(Func::Cos, vec![x.clone() - mu]);
        let parts = lin(&e).unwrap();
        assert_eq!(parts.len(), 2);
        assert!(parts.contains_key(&Expr::call(Func::Cos, vec![x.clone()])));
        assert!(parts.contains_key(&Expr::call(Func::Sin, vec![x])));
    }
}
