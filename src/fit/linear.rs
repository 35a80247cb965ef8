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
//! The forms themselves, and the model written in them, are the model's
//! [`crate::structure::forms`]: this module differentiates them in η and
//! takes their expectations.

use crate::fisher::expectation::{data_groups, expectation};
use crate::ir::expr::{Expr, Name};
use crate::ir::model::Model;
use crate::structure::forms::{LinearForms, linear_forms};
use crate::symbolic::{gradient, hessian};
use std::collections::BTreeSet;

pub use crate::structure::forms::{LinearForm, MAX_FORMS};

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

/// Find the linear-form structure of `model`, when it has covariates and
/// θ enters through at most [`MAX_FORMS`] forms. Expected weights are
/// included when the model's data have a closed-form expectation.
pub fn detect(model: &Model) -> Option<LinearStructure> {
    from_forms(model, &linear_forms(model)?)
}

/// The fast path's derivatives and weights for `model` written through its
/// forms (`forms` is `model`'s [`crate::structure::Structure::linear_forms`]).
pub fn from_forms(model: &Model, forms: &LinearForms) -> Option<LinearStructure> {
    let params = model.param_names();
    let data: BTreeSet<Name> = model.data.iter().map(|d| d.name.clone()).collect();
    let LinearForms { eta, reduced, .. } = forms;
    let logp_sym = &reduced.logp;
    let is_eta = |v: &str| eta.iter().any(|n| &**n == v);
    let hess = hessian(logp_sym, eta);
    let mut upper = Vec::new();
    for (k, row) in hess.iter().enumerate() {
        for h in &row[k..] {
            upper.push(Expr::neg(h.clone()));
        }
    }
    let weights = data_groups(reduced, &is_eta).ok().and_then(|groups| {
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
            .forms
            .iter()
            .map(|f| LinearForm {
                coeffs: f.coeffs.iter().map(numeric).collect(),
                offset: numeric(&f.offset),
            })
            .collect(),
        logp: numeric(logp_sym),
        gradient: gradient(logp_sym, eta).iter().map(numeric).collect(),
        neg_hessian: upper.iter().map(numeric).collect(),
        weights: weights.map(|w| w.iter().map(numeric).collect()),
        eta: eta.clone(),
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
