//! Named linear predictors: a regression's `η = b₀ + b₁z₁ + … + b_Pz_P`
//! kept as one symbol through the derivation.
//!
//! A model whose log-density depends on many parameters only through
//! linear forms `η_r = Σ_j a_rj θ_j` (the `a_rj` free of parameters and of
//! data: covariates and constants) is derived in the reduced parameters
//! `φ = (η_1, …, η_m, ψ)` (ψ the parameters outside every form), and the
//! results are pulled back through the constant Jacobian `J = ∂φ/∂θ`:
//! score `Jᵀ s_φ`, Hessian `Jᵀ H_φ J` (η is linear, so no second-derivative
//! term) and Fisher information `Jᵀ F_φ J`. Every entry is then a short
//! product like `z₁·z₂·exp(η)` instead of a copy of the whole
//! 300-term sum, which makes a regression with hundreds of covariates as
//! cheap to derive as one with two; the definitions travel with the
//! derivation (`fisher::Derivation::definitions`) and every consumer binds
//! them (`fisher::predictor::bind`).
//!
//! The forms are read with the one affine decomposition,
//! [`super::forms::affine`], which the fit's linear forms use too.
//!
//! ```
//! use fimkit::structure::predictors::find;
//! let src = "param b0 : real\nparam b[1..3] : real\ncovariate z[1..3] : real\n\
//!            data k : count\nk ~ poisson(exp(b0 + sum(j in 1..3, b[j]*z[j])))";
//! let model = fimkit::load(src, "glm").unwrap();
//! let reduced = find(&model, 4).unwrap();
//! assert_eq!(reduced.definitions.len(), 1);
//! assert_eq!(&*reduced.definitions[0].0, "eta");
//! assert!(find(&model, 5).is_none()); // fewer parameters than asked for
//! ```

use super::forms::{Roles, affine};
use crate::exact::Rational;
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Arg, Domain, Model, Param, TermSource};
use num_traits::{One, Zero};
use std::collections::{BTreeMap, BTreeSet};

/// A model rewritten in its linear predictors.
#[derive(Clone, Debug)]
pub struct Reduced {
    /// The model in the parameters `(η_1, …, η_m, ψ)`, each linear form
    /// replaced by its name.
    pub model: Model,
    /// `η_r := Σ_j a_rj θ_j`, in the order of the reduced parameters.
    pub definitions: Vec<(Name, Expr)>,
    /// `J = ∂φ/∂θ`: one row per reduced parameter, one column per model
    /// parameter (model order); free of parameters and data.
    pub jacobian: Vec<Vec<Expr>>,
}

/// A linear form's coefficients, parameter → coefficient.
type Form = BTreeMap<Name, Expr>;

/// The model in named linear predictors, `None` when it has none (the
/// derivation then works on the model as written). Two kinds qualify, and
/// in both the forms' parameters must appear nowhere else:
///
/// * a regression (the model has covariates): each linear form with at
///   least `min_params` parameters, or written as a user's `let`;
/// * a fixed design written out term by term (no covariates): two or more
///   forms with constant coefficients, such as a logistic regression at
///   four dose levels written as four raw Bernoulli terms in `b0 - b1`,
///   `b0`, `b0 + b1`, `b0 + 2*b1`, or a Rasch test's `a - b[k]`; a
///   parameter also used on its own (`b0`) becomes a form of its own.
///   Each term is then derived once in its predictor, and F is
///   `Σ_k w_k(η_k) a_k a_kᵀ` rather than one long formula per entry.
pub fn find(model: &Model, min_params: usize) -> Option<Reduced> {
    if !model.coords.is_empty() || min_params == usize::MAX {
        return None;
    }
    let design = model.covariates.is_empty();
    let params: BTreeSet<Name> = model.param_names().into_iter().collect();
    let data: BTreeSet<Name> = model.data.iter().map(|d| d.name.clone()).collect();
    let mut forms: Vec<Form> = Vec::new();
    collect_forms(&model.logp, &params, &data, min_params.min(2), &mut forms);
    if design {
        forms.retain(|f| f.values().all(|a| a.as_num().is_some()));
        if forms.len() < 2 {
            return None;
        }
    } else {
        // A form the user named with a `let` keeps its name at any size.
        forms.retain(|f| f.len() >= min_params || user_let(model, f, &params, &data).is_some());
        if forms.is_empty() {
            return None;
        }
    }
    // In the order of their parameters (a − b₂ before a − b₁₀), so that
    // η_k reads with the model's own indices.
    let order = model.param_names();
    let position = |p: &Name| order.iter().position(|q| q == p).unwrap_or(usize::MAX);
    forms.sort_by_cached_key(|f| {
        let mut at: Vec<usize> = f.keys().map(position).collect();
        at.sort_unstable();
        at
    });
    let multi = forms.len();
    if design {
        // A form's parameter also used on its own becomes a form of its
        // own (η = b0), replaced after the longer forms.
        let partial: Vec<Name> = forms[..multi]
            .iter()
            .flat_map(|f| f.keys().cloned())
            .collect::<BTreeSet<Name>>()
            .into_iter()
            .collect();
        let names = predictor_names(model, &forms, &params, &data);
        let first = replace_forms(&model.logp, &forms, &names, &params, &data);
        let bare = first.free_vars();
        for p in partial {
            if bare.contains(&p) {
                forms.push(Form::from([(p, Expr::one())]));
            }
        }
    }
    let in_forms: BTreeSet<Name> = forms.iter().flat_map(|f| f.keys().cloned()).collect();
    let names = predictor_names(model, &forms, &params, &data);
    let rewrite = |e: &Expr| {
        let e = replace_forms(e, &forms[..multi], &names[..multi], &params, &data);
        replace_bare(&e, &forms[multi..], &names[multi..])
    };
    let mut reduced = model.clone();
    reduced.logp = rewrite(&model.logp);
    for term in &mut reduced.terms {
        term.logp = rewrite(&term.logp);
        if let TermSource::Family { args, .. } = &mut term.source {
            for arg in args.iter_mut() {
                *arg = match arg {
                    Arg::Scalar(e) => Arg::Scalar(rewrite(e)),
                    Arg::Vector(v) => Arg::Vector(v.iter().map(&rewrite).collect()),
                };
            }
        }
    }
    // Every use of the forms' parameters must have gone into a name.
    let leftover = |e: &Expr| e.free_vars().iter().any(|v| in_forms.contains(v));
    let args_leftover = reduced.terms.iter().any(|t| {
        leftover(&t.logp)
            || matches!(&t.source, TermSource::Family { args, .. }
                if args.iter().any(|a| a.exprs().into_iter().any(leftover)))
    });
    if leftover(&reduced.logp) || args_leftover {
        return None;
    }
    let rest: Vec<Param> = model
        .params
        .iter()
        .filter(|p| !in_forms.contains(&p.name))
        .cloned()
        .collect();
    let span = model.params.first().map(|p| p.span).unwrap_or_default();
    reduced.params = names
        .iter()
        .map(|n| Param {
            name: n.clone(),
            domain: Domain::real(),
            span,
        })
        .chain(rest.iter().cloned())
        .collect();
    let own = model.param_names();
    let mut jacobian: Vec<Vec<Expr>> = forms
        .iter()
        .map(|f| {
            own.iter()
                .map(|p| f.get(p).cloned().unwrap_or_else(Expr::zero))
                .collect()
        })
        .collect();
    for r in &rest {
        jacobian.push(
            own.iter()
                .map(|p| {
                    if *p == r.name {
                        Expr::one()
                    } else {
                        Expr::zero()
                    }
                })
                .collect(),
        );
    }
    let definitions = names
        .into_iter()
        .zip(&forms)
        .map(|(n, f)| (n, form_expr(f)))
        .collect();
    Some(Reduced {
        model: reduced,
        definitions,
        jacobian,
    })
}

/// `Σ a_j θ_j`.
fn form_expr(f: &Form) -> Expr {
    Expr::add(
        f.iter()
            .map(|(p, a)| Expr::mul2(a.clone(), Expr::Var(p.clone())))
            .collect(),
    )
}

/// Each form's name: the user's own `let` when one is exactly the form
/// (`let eta = b0 + b1*z1 + …`), else `eta`, or `eta1, eta2, …`, avoiding
/// every name the model uses.
fn predictor_names(
    model: &Model,
    forms: &[Form],
    params: &BTreeSet<Name>,
    data: &BTreeSet<Name>,
) -> Vec<Name> {
    let users: Vec<Option<Name>> = forms
        .iter()
        .map(|f| user_let(model, f, params, data))
        .collect();
    let taken = |s: &str| {
        model.params.iter().any(|p| &*p.name == s)
            || model.data.iter().any(|d| &*d.name == s)
            || model.covariates.iter().any(|c| &*c.name == s)
            || model.consts.iter().any(|c| &*c.name == s)
            || model.lets.iter().any(|l| &*l.name == s)
    };
    let fresh_needed = users.iter().filter(|u| u.is_none()).count();
    let mut fresh: Vec<Name> = Vec::new();
    let mut k = 0usize;
    while fresh.len() < fresh_needed {
        let candidate = match (fresh_needed, k) {
            (1, 0) => "eta".to_string(),
            (1, k) => format!("eta_{k}"),
            (_, k) => format!("eta{}", k + 1),
        };
        k += 1;
        if !taken(&candidate) {
            fresh.push(Name::from(candidate.as_str()));
        }
    }
    let mut fresh = fresh.into_iter();
    users
        .into_iter()
        .map(|u| u.unwrap_or_else(|| fresh.next().expect("one fresh name per form")))
        .collect()
}

/// The name of the user's `let` whose value is exactly `form`.
fn user_let(
    model: &Model,
    form: &Form,
    params: &BTreeSet<Name>,
    data: &BTreeSet<Name>,
) -> Option<Name> {
    model.lets.iter().find_map(|l| {
        let Expr::Add(ts) = &l.value else { return None };
        let (f, rest) = split_sum(ts, params, data);
        let (f, k) = normalized(f);
        (rest.is_empty() && k.is_one() && f == *form).then(|| l.name.clone())
    })
}

/// A term `a · θ` in exactly one parameter θ, with a coefficient free of
/// parameters and data: `(θ, a)`.
fn linear_term(t: &Expr, params: &BTreeSet<Name>, data: &BTreeSet<Name>) -> Option<(Name, Expr)> {
    let roles = Roles {
        params,
        response: data,
    };
    let a = affine(t, &roles)?;
    if a.coeffs.len() != 1 || !a.offset.is_zero() {
        return None;
    }
    a.coeffs.into_iter().next()
}

/// A sum's linear part (its terms in one parameter each, with
/// coefficients free of parameters and data; a parameter in several
/// terms gets their sum) and its other terms.
fn split_sum(ts: &[Expr], params: &BTreeSet<Name>, data: &BTreeSet<Name>) -> (Form, Vec<Expr>) {
    let mut form = Form::new();
    let mut rest = Vec::new();
    for t in ts {
        match linear_term(t, params, data) {
            Some((p, a)) => {
                let entry = form.entry(p).or_insert_with(Expr::zero);
                *entry = Expr::add2(entry.clone(), a);
            }
            None => rest.push(t.clone()),
        }
    }
    form.retain(|_, a| !a.is_zero());
    (form, rest)
}

/// `form = k · f` with `f`'s first coefficient free of a numeric factor
/// (`-2*c0 - 2*c1*x` is `-2 · (c0 + c1*x)`), so that a form and its
/// multiples are one predictor.
fn normalized(form: Form) -> (Form, Rational) {
    let k = form
        .values()
        .next()
        .map(|a| a.split_coeff().0)
        .filter(|k| !k.is_zero())
        .unwrap_or_else(|| Rational::from_integer(1.into()));
    let inv = Expr::Num(k.recip());
    let f = form
        .into_iter()
        .map(|(p, a)| (p, Expr::mul2(inv.clone(), a)))
        .collect();
    (f, k)
}

/// Every distinct linear form of at least `min` parameters in `e`, each
/// up to a numeric factor.
fn collect_forms(
    e: &Expr,
    params: &BTreeSet<Name>,
    data: &BTreeSet<Name>,
    min: usize,
    out: &mut Vec<Form>,
) {
    if let Expr::Add(ts) = e {
        let (form, _) = split_sum(ts, params, data);
        if form.len() >= min {
            let (form, _) = normalized(form);
            if !out.contains(&form) {
                out.push(form);
            }
        }
    }
    if let Expr::Pow(b, x) = e {
        collect_forms(b, params, data, min, out);
        collect_forms(x, params, data, min, out);
    }
    for c in e.children() {
        collect_forms(c, params, data, min, out);
    }
}

/// `e` with each of `forms` (times a number) replaced by its name.
fn replace_forms(
    e: &Expr,
    forms: &[Form],
    names: &[Name],
    params: &BTreeSet<Name>,
    data: &BTreeSet<Name>,
) -> Expr {
    e.map_bottom_up(&mut |node| {
        let Expr::Add(ts) = &node else { return node };
        let (form, mut rest) = split_sum(ts, params, data);
        if form.is_empty() {
            return node;
        }
        let (form, k) = normalized(form);
        match forms.iter().position(|f| *f == form) {
            Some(r) => {
                rest.push(Expr::mul2(Expr::Num(k), Expr::Var(names[r].clone())));
                Expr::add(rest)
            }
            None => node,
        }
    })
}

/// `e` with each parameter that is a one-parameter form (`{θ: 1}`)
/// replaced by its name.
fn replace_bare(e: &Expr, forms: &[Form], names: &[Name]) -> Expr {
    if forms.is_empty() {
        return e.clone();
    }
    e.substitute(&|v| {
        forms
            .iter()
            .position(|f| f.keys().next().is_some_and(|p| &**p == v))
            .map(|r| Expr::Var(names[r].clone()))
    })
}

/// `e` with the definitions written out (for a consumer that needs the
/// model's own variables only; linear in the size of the definitions per
/// use, so meant for single expressions, not whole matrices).
pub fn inline(e: &Expr, definitions: &[(Name, Expr)]) -> Expr {
    if definitions.is_empty() {
        return e.clone();
    }
    e.substitute(&|v| {
        definitions
            .iter()
            .find(|(n, _)| &**n == v)
            .map(|(_, d)| d.clone())
    })
}
