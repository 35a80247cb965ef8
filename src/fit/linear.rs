//! GLM structure: a log-density that depends on θ only through a few
//! linear forms `η_k = a_k(z)ᵀθ + c_k(z)` whose coefficients involve
//! covariates and constants only (never the response).
//!
//! Then, for one row, with `g(η) = log p` written in the forms,
//!
//! ```text
//! ∇_θ log p = Σ_k g_k a_k,    −∇²_θ log p = Σ_kl (−g_kl) a_k a_lᵀ,
//! F_row = Σ_kl W_kl a_k a_lᵀ,  W = E_y[−∇²_η g]
//! ```
//!
//! so the dataset's Fisher information is a sum of weighted Gram matrices
//! `A_kᵀ diag(W_kl) A_l` — for a GLM (one form) the familiar `Xᵀ W X` —
//! and no per-row d×d matrix is ever formed. `W` is the closed-form
//! expectation from [`crate::fisher::expectation`], taken in the forms.

use crate::fisher::expectation::{data_groups, expectation};
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Arg, Domain, Model, Param, TermSource};
use crate::symbolic::{gradient, hessian};
use std::collections::BTreeSet;

/// Most linear forms the fast path handles.
pub const MAX_FORMS: usize = 4;

/// One linear form `aᵀθ + c`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearForm {
    /// The coefficient of each parameter (covariates and constants only).
    pub coeffs: Vec<Expr>,
    /// The offset (covariates and constants only).
    pub offset: Expr,
}

/// A model's log-density written through linear forms of θ.
#[derive(Clone, Debug)]
pub struct LinearStructure {
    /// The forms, one per η variable.
    pub forms: Vec<LinearForm>,
    /// Names of the η variables standing for the forms.
    pub eta: Vec<Name>,
    /// `log p` in η and the model's inputs (constants substituted).
    pub logp: Expr,
    /// `∂ log p / ∂η_k`.
    pub gradient: Vec<Expr>,
    /// `−∂² log p / ∂η_k ∂η_l`, upper triangle row by row (k ≤ l).
    pub neg_hessian: Vec<Expr>,
    /// `E_y[−∂² log p / ∂η_k ∂η_l]`, upper triangle; `None` when the
    /// expectation has no closed form.
    pub weights: Option<Vec<Expr>>,
}

impl LinearStructure {
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

/// Find the linear-form structure of `model`, when it has covariates and
/// θ enters through at most [`MAX_FORMS`] forms. Expected weights are
/// included when the model's data have a closed-form expectation.
pub fn detect(model: &Model) -> Option<LinearStructure> {
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
    let logp_sym = finder.replace(&model.logp);
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
    let eta = finder.eta.clone();
    let forms = finder.forms;
    if params.iter().any(|p| logp_sym.contains_var(p)) {
        return None;
    }
    reduced.logp = logp_sym.clone();
    reduced.params = eta
        .iter()
        .map(|n| Param {
            name: n.clone(),
            domain: Domain::real(),
            span: Default::default(),
        })
        .collect();
    reduced.coords.clear();
    let is_eta = |v: &str| eta.iter().any(|n| &**n == v);
    let hess = hessian(&logp_sym, &eta);
    let mut upper = Vec::new();
    for (k, row) in hess.iter().enumerate() {
        for h in &row[k..] {
            upper.push(Expr::neg(h.clone()));
        }
    }
    let weights = data_groups(&reduced, &is_eta).ok().and_then(|groups| {
        upper
            .iter()
            .map(|h| expectation(h, &groups, &is_eta).ok())
            .collect::<Option<Vec<Expr>>>()
    });
    let weights = weights.filter(|w| {
        w.iter().all(|e| {
            !e.free_vars()
                .iter()
                .any(|v| data.contains(v) || params.contains(v))
        })
    });
    let numeric = |e: &Expr| model.substitute_consts(e);
    Some(LinearStructure {
        forms: forms
            .into_iter()
            .map(|f| LinearForm {
                coeffs: f.coeffs.iter().map(numeric).collect(),
                offset: numeric(&f.offset),
            })
            .collect(),
        logp: numeric(&logp_sym),
        gradient: gradient(&logp_sym, &eta).iter().map(numeric).collect(),
        neg_hessian: upper.iter().map(numeric).collect(),
        weights: weights.map(|w| w.iter().map(numeric).collect()),
        eta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Model {
        crate::load(src, "m").expect("model")
    }

    #[test]
    fn logistic_regression_has_one_form_with_bernoulli_weight() {
        let m = load(
            "param b0 : real\nparam b1 : real\nparam b2 : real\ncovariate z1 : real\ncovariate z2 : real\ndata y : {0, 1}\ny ~ bernoulli(sigmoid(b0 + b1*z1 + b2*z2))\n",
        );
        let s = detect(&m).expect("structure");
        assert_eq!(s.m(), 1);
        let shown: Vec<String> = s.forms[0].coeffs.iter().map(|c| c.to_string()).collect();
        assert_eq!(shown, ["1", "z1", "z2"]);
        let w = s.weights.as_ref().expect("closed form")[0].clone();
        assert_eq!(&*s.eta[0], "(b0 + b1*z1 + b2*z2)");
        let at = |v: &str| (v == &*s.eta[0]).then_some(0.3);
        let got = crate::numeric::eval::eval_f64(&w, &at).unwrap();
        let p = 1.0 / (1.0 + (-0.3f64).exp());
        assert!((got - p * (1.0 - p)).abs() < 1e-15);
    }

    #[test]
    fn poisson_regression_factors_the_response_out_of_the_form() {
        let m = load(
            "param b0 : real\nparam b1 : real\ncovariate z : real\ndata k : count\nk ~ poisson(exp(b0 + b1*z))\n",
        );
        let s = detect(&m).expect("structure");
        assert_eq!(s.m(), 1);
        let w = &s.weights.as_ref().unwrap()[0];
        assert_eq!(w.to_string(), "exp((b0 + b1*z))");
    }

    #[test]
    fn normal_regression_has_two_forms() {
        let m = load(
            "param b0 : real\nparam b1 : real\nparam sigma : positive\ncovariate z : real\ndata y : real\ny ~ normal(b0 + b1*z, sigma)\n",
        );
        let s = detect(&m).expect("structure");
        assert_eq!(s.m(), 2);
        assert!(s.weights.is_some());
    }

    #[test]
    fn models_without_covariates_take_the_general_path() {
        let m =
            load("param mu : real\nparam sigma : positive\ndata x : real\nx ~ normal(mu, sigma)\n");
        assert!(detect(&m).is_none());
    }
}
