//! Linear forms: a log-density that depends on θ only through a few
//! forms `η_k = a_k(z)ᵀθ + c_k(z)` whose coefficients and offsets hold
//! covariates and constants only (never the response), read off the
//! expression by a symbolic affine decomposition.
//!
//! [`linear_forms`] replaces every maximal affine subexpression of θ by a
//! variable standing for its form (named by what it stands for,
//! `(b0 + b1*z)`), in the log-density and in each `~` statement's
//! arguments and term. The result, [`LinearForms`], is the model written
//! in η: the fit's GLM fast path (`fit::linear`) differentiates it in η
//! and takes the expected weights `E[−∂²/∂η∂η]` from it.
//!
//! ```
//! use fimkit::structure::forms::linear_forms;
//! let src = "param b0 : real\nparam b1 : real\ncovariate z : real\ndata k : count\n\
//!            k ~ poisson(exp(b0 + b1*z))\n";
//! let model = fimkit::load(src, "m").unwrap();
//! let f = linear_forms(&model).unwrap();
//! assert_eq!(f.m(), 1);
//! assert_eq!(&*f.eta[0], "(b0 + b1*z)");
//! let coeffs: Vec<String> = f.forms[0].coeffs.iter().map(|c| c.to_string()).collect();
//! assert_eq!(coeffs, ["1", "z"]);
//! // the log-density in η holds no parameter
//! assert!(!f.reduced.logp.contains_var("b0"));
//! ```

use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Arg, Domain, Model, Param, TermSource};
use std::collections::BTreeSet;

/// Most linear forms a model may have to be read through its forms.
pub const MAX_FORMS: usize = 4;

/// One linear form `aᵀθ + c`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearForm {
    /// The coefficient of each parameter (covariates and constants only).
    pub coeffs: Vec<Expr>,
    /// The offset (covariates and constants only).
    pub offset: Expr,
}

/// A model written through its linear forms.
#[derive(Clone, Debug)]
pub struct LinearForms {
    /// The forms, one per η variable (the model's constants kept by name).
    pub forms: Vec<LinearForm>,
    /// Names of the η variables standing for the forms.
    pub eta: Vec<Name>,
    /// The model in η: its parameters the η variables (real), its
    /// log-density, terms and `~` arguments with every form replaced by its
    /// variable, no coordinate systems.
    pub reduced: Model,
}

impl LinearForms {
    /// Number of forms.
    pub fn m(&self) -> usize {
        self.forms.len()
    }
}

/// Affine decomposition of an expression in θ.
struct Affine {
    coeffs: Vec<Expr>,
    offset: Expr,
}

struct Finder<'a> {
    params: &'a [Name],
    /// Data variables (the response): never inside a form.
    data: &'a BTreeSet<Name>,
    forms: Vec<LinearForm>,
    eta: Vec<Name>,
}

impl Finder<'_> {
    fn has_param(&self, e: &Expr) -> bool {
        self.params.iter().any(|p| e.contains_var(p))
    }

    fn has_data(&self, e: &Expr) -> bool {
        e.free_vars().iter().any(|v| self.data.contains(v))
    }

    /// `e` as `aᵀθ + c` with a and c free of θ and of the response.
    fn affine(&self, e: &Expr) -> Option<Affine> {
        let d = self.params.len();
        if !self.has_param(e) {
            if self.has_data(e) {
                return None;
            }
            return Some(Affine {
                coeffs: vec![Expr::zero(); d],
                offset: e.clone(),
            });
        }
        match e {
            Expr::Var(v) => {
                let i = self.params.iter().position(|p| p == v)?;
                let mut coeffs = vec![Expr::zero(); d];
                coeffs[i] = Expr::one();
                Some(Affine {
                    coeffs,
                    offset: Expr::zero(),
                })
            }
            Expr::Add(ts) => {
                let parts: Vec<Affine> =
                    ts.iter().map(|t| self.affine(t)).collect::<Option<_>>()?;
                let coeffs = (0..d)
                    .map(|i| Expr::add(parts.iter().map(|p| p.coeffs[i].clone()).collect()))
                    .collect();
                let offset = Expr::add(parts.iter().map(|p| p.offset.clone()).collect());
                Some(Affine { coeffs, offset })
            }
            Expr::Mul(fs) => {
                let (with, without): (Vec<&Expr>, Vec<&Expr>) =
                    fs.iter().partition(|f| self.has_param(f));
                if with.len() != 1 || without.iter().any(|f| self.has_data(f)) {
                    return None;
                }
                let inner = self.affine(with[0])?;
                let scale = Expr::mul(without.into_iter().cloned().collect());
                Some(Affine {
                    coeffs: inner
                        .coeffs
                        .into_iter()
                        .map(|c| Expr::mul2(scale.clone(), c))
                        .collect(),
                    offset: Expr::mul2(scale, inner.offset),
                })
            }
            _ => None,
        }
    }

    /// The η variable for a form, registering it when new.
    fn eta_for(&mut self, a: Affine) -> Expr {
        let form = LinearForm {
            coeffs: a.coeffs.iter().map(Expr::expand).collect(),
            offset: a.offset.expand(),
        };
        if let Some(k) = self.forms.iter().position(|f| *f == form) {
            return Expr::Var(self.eta[k].clone());
        }
        // Named by what it stands for, so a message about a row reads
        // `1/Phi((b0 + b1*z1))^2`, not `__eta1` (identifiers of the
        // language have no parentheses: no clash with a model's names).
        let mut terms: Vec<Expr> = self
            .params
            .iter()
            .zip(&form.coeffs)
            .map(|(p, c)| Expr::mul2(c.clone(), Expr::Var(p.clone())))
            .collect();
        terms.push(form.offset.clone());
        let mut name: Name = format!("({})", Expr::add(terms)).into();
        if self.eta.contains(&name) {
            name = format!("__eta{}", self.forms.len() + 1).into();
        }
        self.forms.push(form);
        self.eta.push(name.clone());
        Expr::Var(name)
    }

    /// Replace maximal linear forms by η variables.
    fn replace(&mut self, e: &Expr) -> Expr {
        if !self.has_param(e) {
            return e.clone();
        }
        match e {
            Expr::Var(_) => match self.affine(e) {
                Some(a) => self.eta_for(a),
                None => e.clone(),
            },
            Expr::Mul(fs) => {
                let kids = fs.iter().map(|f| self.replace(f)).collect();
                Expr::mul(kids)
            }
            Expr::Add(ts) => {
                // Terms with θ that are affine with covariate coefficients
                // form one linear form; θ-free terms (the response) stay.
                let (with, without): (Vec<&Expr>, Vec<&Expr>) =
                    ts.iter().partition(|t| self.has_param(t));
                let joined = Expr::add(with.iter().map(|t| (*t).clone()).collect());
                if let Some(a) = self.affine(&joined) {
                    let mut out: Vec<Expr> = without.into_iter().cloned().collect();
                    out.push(self.eta_for(a));
                    return Expr::add(out);
                }
                let kids = ts.iter().map(|t| self.replace(t)).collect();
                Expr::add(kids)
            }
            Expr::Pow(b, x) => Expr::pow(self.replace(b), self.replace(x)),
            Expr::Call(f, args) => {
                let kids = args.iter().map(|a| self.replace(a)).collect();
                Expr::call(*f, kids)
            }
            Expr::Num(_) | Expr::Const(_) => e.clone(),
        }
    }
}

/// The linear forms of `model`, when it has covariates and θ enters its
/// log-density through between 1 and [`MAX_FORMS`] forms only.
pub fn linear_forms(model: &Model) -> Option<LinearForms> {
    if model.covariates.is_empty() {
        return None;
    }
    let params = model.param_names();
    let data: BTreeSet<Name> = model.data.iter().map(|d| d.name.clone()).collect();
    let mut finder = Finder {
        params: &params,
        data: &data,
        forms: Vec::new(),
        eta: Vec::new(),
    };
    let logp = finder.replace(&model.logp);
    // Family arguments and raw terms, for the expectation.
    let mut reduced = model.clone();
    for t in &mut reduced.terms {
        if let TermSource::Family { args, .. } = &mut t.source {
            for a in args.iter_mut() {
                *a = match a {
                    Arg::Scalar(e) => Arg::Scalar(finder.replace(e)),
                    Arg::Vector(v) => Arg::Vector(v.iter().map(|e| finder.replace(e)).collect()),
                };
            }
        }
        t.logp = finder.replace(&t.logp);
    }
    let m = finder.forms.len();
    if m == 0 || m > MAX_FORMS {
        return None;
    }
    if params.iter().any(|p| logp.contains_var(p)) {
        return None;
    }
    let Finder { forms, eta, .. } = finder;
    reduced.logp = logp;
    reduced.params = eta
        .iter()
        .map(|n| Param {
            name: n.clone(),
            domain: Domain::real(),
            span: Default::default(),
        })
        .collect();
    reduced.coords.clear();
    Some(LinearForms {
        forms,
        eta,
        reduced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Model {
        crate::load(src, "m").expect("model")
    }

    #[test]
    fn a_form_shared_by_two_statements_is_one_form() {
        // The same predictor in the mean of one response and the rate of
        // another: one η, used twice.
        let m = load(
            "param b0 : real\nparam b1 : real\ncovariate z : real\ndata y : real\ndata k : count\n\
             y ~ normal(b0 + b1*z, 1)\nk ~ poisson(exp(b0 + b1*z))\n",
        );
        let f = linear_forms(&m).expect("forms");
        assert_eq!(f.m(), 1);
        assert_eq!(f.reduced.params.len(), 1);
        assert!(
            f.reduced
                .terms
                .iter()
                .all(|t| t.logp.contains_var(&f.eta[0]))
        );
    }

    #[test]
    fn the_response_stays_out_of_the_form() {
        // (y − b0 − b1·z)²: the form is b0 + b1·z, y stays beside it.
        let m = load(
            "param b0 : real\nparam b1 : real\ncovariate z : real\ndata y : real\n\
             y ~ normal(b0 + b1*z, 1)\n",
        );
        let f = linear_forms(&m).expect("forms");
        assert_eq!(
            f.eta.iter().map(|n| &**n).collect::<Vec<_>>(),
            ["(b0 + b1*z)"]
        );
        assert!(f.reduced.logp.contains_var("y"));
        assert_eq!(f.forms[0].offset, Expr::zero());
    }

    #[test]
    fn more_than_max_forms_refuses() {
        let m = load(
            "param b[1..5] : real\ncovariate z : real\ndata y[1..5] : real\n\
             for i in 1..5 { y[i] ~ normal(b[i]*z, 1) }\n",
        );
        assert!(linear_forms(&m).is_none());
    }
}
