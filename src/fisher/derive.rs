//! The tier-1 derivation: score, Hessian and the closed-form Fisher
//! information F(θ) = −E[∇²log p], with an independent second formula
//! F = Σ Jᵀ Cov\[T\] J (J = ∂η/∂θ) that must agree.

use super::expectation::{Blocker, DataGroup, data_groups, expectation};
use super::matrix::{self, Matrix};
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Domain, Model};
use crate::structure::predictors;
use crate::symbolic::simplify::{
    Assumptions, SimplifyConfig, derive_simplified, simplify_many, simplify_symmetric,
};
use crate::symbolic::{diff, gradient, hessian, memo_scope};
pub use crate::symbolic::{tidy, tidy_deep};

/// What `derive` found for one model (or one coordinate system).
#[derive(Clone, Debug)]
pub struct Derivation {
    /// Parameter names, the order of θ.
    pub params: Vec<Name>,
    /// ∂ log p / ∂θ; empty from [`derive_fim_only`].
    pub score: Vec<Expr>,
    /// ∂² log p / ∂θ²; empty from [`derive_fim_only`].
    pub hessian: Matrix,
    /// The closed form, or why there is none.
    pub fisher: Result<ClosedForm, Blocker>,
    /// Named intermediates the formulas use, in order: a regression's
    /// linear predictor `eta := b0 + b1*z1 + …` (see [`crate::structure::predictors`]).
    /// Empty for most models; a consumer that evaluates or prints the
    /// formulas binds them ([`super::predictor::bind`]) or shows them once.
    pub definitions: Vec<(Name, Expr)>,
}

/// The closed-form Fisher information and what follows from it.
#[derive(Clone, Debug)]
pub struct ClosedForm {
    /// F(θ) for one observation (one row of data), = −E\[Hessian\].
    pub fim: Matrix,
    /// The second formula Σ Jᵀ Cov\[T\] J; `None` when the Hessian is free
    /// of data and the data matched no exponential family (then F = −H
    /// exactly, [`super::identifiability::Agreement::DataFreeHessian`]).
    pub fim_outer: Option<Matrix>,
    /// Whether the two formulas agree symbolically (after expansion).
    pub formulas_agree_symbolically: bool,
    /// How the two formulas agree (symbolically, or numerically at typical
    /// points); a disagreement is an error, not a closed form.
    pub agreement: super::identifiability::Agreement,
    /// The exponential-family structure of the data.
    pub groups: Vec<DataGroup>,
    /// det F, when computed symbolically.
    pub det: Option<Expr>,
    /// F⁻¹ (the Cramér–Rao bound for one observation), when computed
    /// symbolically and F is not singular.
    pub inverse: Option<matrix::Inverse>,
    /// Jeffreys prior density up to a constant, √det F.
    pub jeffreys: Option<Expr>,
    /// F is singular: det F is identically zero, or F is rank deficient at
    /// a typical point (see `singularity`).
    pub singular: bool,
    /// The natural-gradient direction F⁻¹ s for one observation (s the
    /// score), when F⁻¹ has a closed form.
    pub natural_gradient: Option<Vec<Expr>>,
    /// `F = w · a aᵀ` (a GLM row: w = σ(η)(1 − σ(η)), a = (1, z1, z2)),
    /// when F has that rank-one form.
    pub rank_one: Option<(Expr, Vec<Expr>)>,
    /// Numeric rank and null directions, when F is rank deficient at a
    /// typical point (models without covariates).
    pub singularity: Option<super::identifiability::Singularity>,
    /// What was left out to stay within the time budget (see
    /// [`crate::budget::running_short`]): F is complete, the steps named
    /// here were not taken.
    pub omitted: Option<String>,
}

/// Options for [`derive()`].
#[derive(Clone, Debug)]
pub struct DeriveConfig {
    /// Largest dimension for which det F and F⁻¹ are computed symbolically.
    pub max_symbolic_inverse: usize,
    /// E-graph simplification of every printed formula; `None` keeps the
    /// canonical form with common denominators only (faster).
    pub simplify: Option<SimplifyConfig>,
    /// A linear form in at least this many parameters (a regression's
    /// linear predictor) is kept as one named symbol `eta` through the
    /// derivation ([`crate::structure::predictors`]); `usize::MAX` never names one.
    /// The default, 13, is where matrices start to print by structure.
    pub name_predictors_from: usize,
}

impl Default for DeriveConfig {
    fn default() -> Self {
        DeriveConfig {
            max_symbolic_inverse: 4,
            simplify: Some(SimplifyConfig::default()),
            name_predictors_from: 13,
        }
    }
}

/// Derive score, Hessian and, when the model allows, the closed-form FIM.
///
/// ```
/// let src = "param p : unit\ndata y : {0, 1}\ny ~ bernoulli(p)";
/// let model = fimkit::load(src, "bernoulli").unwrap();
/// let d = fimkit::fisher::derive(&model, &Default::default());
/// let f = &d.fisher.unwrap().fim[0][0];
/// let text = fimkit::render::text::render(f, &Default::default());
/// assert_eq!(text, "1/(p*(1 - p))");
/// ```
pub fn derive(model: &Model, config: &DeriveConfig) -> Derivation {
    derive_with(model, &own_domains(model), &|_| None, config)
}

/// The closed-form Fisher information alone: F(θ) = −E[∇²log p] with the
/// expectations found by the engine, checked against the second formula
/// Σ Jᵀ Cov\[T\] J and simplified (when `config.simplify` is set), exactly as
/// [`derive()`] gives it, but without the simplified score and Hessian,
/// det F, F⁻¹, the Jeffreys prior and the natural gradient (their fields
/// are `None`; `singular` and the rank-one form of a regression's F are the
/// same): the work of the textbook
/// recipe "Hessian, expectation, simplify", for callers that need F only
/// (`fimkit derive --fim-only`).
///
/// ```
/// let src = "param alpha : positive\nparam beta : positive\ndata x : positive\n\
///            x ~ gamma(alpha, beta)";
/// let model = fimkit::load(src, "gamma").unwrap();
/// let cf = fimkit::fisher::fisher_information(&model, &Default::default()).unwrap();
/// let f01 = fimkit::render::text::render(&cf.fim[0][1], &Default::default());
/// assert_eq!(f01, "-1/beta");
/// assert!(cf.det.is_none() && cf.inverse.is_none());
/// ```
pub fn fisher_information(model: &Model, config: &DeriveConfig) -> Result<ClosedForm, Blocker> {
    fim_with(model, &own_domains(model), &|_| None, config)
}

/// The model's parameters with their domains, the order of θ.
fn own_domains(model: &Model) -> Vec<(Name, Domain)> {
    model
        .params
        .iter()
        .map(|p| (p.name.clone(), p.domain.clone()))
        .collect()
}

/// [`fisher_information`] in `domains`' parameters, the model's own
/// replaced through `subst` (as [`derive_with`] does).
fn fim_with(
    model: &Model,
    domains: &[(Name, Domain)],
    subst: &dyn Fn(&str) -> Option<Expr>,
    config: &DeriveConfig,
) -> Result<ClosedForm, Blocker> {
    memo_scope(|| {
        let params: Vec<Name> = domains.iter().map(|(n, _)| n.clone()).collect();
        let is_param = |v: &str| params.iter().any(|p| &**p == v);
        // The same stages as the whole derivation, so a command stopped by
        // its budget says where it was (not "starting").
        let stage = crate::budget::stage("differentiating (the Hessian)");
        let hess = hessian(&model.logp.substitute(subst), &params);
        drop(stage);
        let _stage =
            crate::budget::stage("taking expectations (the closed-form Fisher information)");
        let mut cf = closed_fim(model, &hess, domains, &is_param, subst)?;
        // With covariates there is no numeric rank check (one row's F is
        // rank one by design): F is singular when det F is identically 0.
        if !model.covariates.is_empty() {
            let (det, _) =
                matrix::det_and_inverse(&cf.fim, config.max_symbolic_inverse, &tidy, &tidy_deep);
            cf.singular |= det.as_ref().is_some_and(Expr::is_zero);
        }
        if let Some(sc) = &config.simplify {
            let _stage = crate::budget::stage("simplifying F");
            cf.fim = simplify_symmetric(&cf.fim, &assumptions(model, subst), sc).matrix;
        }
        if !model.covariates.is_empty() {
            cf.rank_one = matrix::rank_one(&cf.fim, &params);
        }
        Ok(cf)
    })
}

/// [`fisher_information`] as a [`Derivation`] with an empty score and
/// Hessian: what `fimkit derive --fim-only` reports.
pub fn derive_fim_only(model: &Model, config: &DeriveConfig) -> Derivation {
    fim_only_with(model, &own_domains(model), &|_| None, config)
}

/// [`derive_fim_only`] in `domains`' parameters (see [`fim_with`]).
fn fim_only_with(
    model: &Model,
    domains: &[(Name, Domain)],
    subst: &dyn Fn(&str) -> Option<Expr>,
    config: &DeriveConfig,
) -> Derivation {
    let reduced = find_predictors(model, config);
    if let Some(reduced) = reduced {
        let inner = fim_only_with(&reduced.model, &own_domains(&reduced.model), subst, config);
        return pull_back(model, inner, reduced, config);
    }
    Derivation {
        params: domains.iter().map(|(n, _)| n.clone()).collect(),
        score: Vec::new(),
        hessian: Vec::new(),
        fisher: fim_with(model, domains, subst, config),
        definitions: Vec::new(),
    }
}

/// The model in its named linear predictors, if it has any (as a stage of
/// the budget).
fn find_predictors(model: &Model, config: &DeriveConfig) -> Option<predictors::Reduced> {
    let _stage = crate::budget::stage("finding the linear predictors");
    predictors::find(model, config.name_predictors_from)
}

/// A derivation in a model's linear predictors (`inner`, in the reduced
/// parameters of `reduced`) pulled back to the model's own parameters
/// through the constant Jacobian: score `Jᵀs`, Hessian `JᵀHJ`, F `JᵀFJ`;
/// det F, F⁻¹ and the natural gradient afresh in the model's parameters.
fn pull_back(
    model: &Model,
    inner: Derivation,
    reduced: predictors::Reduced,
    config: &DeriveConfig,
) -> Derivation {
    let _stage = crate::budget::stage("writing the formulas in the model's parameters (J^T F J)");
    let jac = &reduced.jacobian;
    let params = model.param_names();
    let fim_only = !inner.has_score();
    let neat = |e: Expr| {
        if matches!(e, Expr::Add(_)) {
            tidy(&e)
        } else {
            e
        }
    };
    let neat_matrix = |m: Matrix| -> Matrix {
        m.into_iter()
            .map(|row| row.into_iter().map(neat).collect())
            .collect()
    };
    let score: Vec<Expr> = if inner.score.is_empty() {
        Vec::new()
    } else {
        (0..params.len())
            .map(|j| {
                neat(Expr::add(
                    inner
                        .score
                        .iter()
                        .zip(jac)
                        .filter(|(_, row)| !row[j].is_zero())
                        .map(|(s, row)| Expr::mul2(row[j].clone(), s.clone()))
                        .collect(),
                ))
            })
            .collect()
    };
    let hessian = if inner.hessian.is_empty() {
        Vec::new()
    } else {
        neat_matrix(matrix::congruence(&inner.hessian, jac))
    };
    let fisher = inner.fisher.map(|cf| {
        let fim = neat_matrix(matrix::congruence(&cf.fim, jac));
        // F = w·a aᵀ when one predictor carries every parameter.
        let rank_one =
            (jac.len() == 1 && params.len() >= 2).then(|| (cf.fim[0][0].clone(), jac[0].clone()));
        // The two formulas are usually equal already in η: pull back once.
        let fim_outer = match &cf.fim_outer {
            Some(m) if *m == cf.fim => Some(fim.clone()),
            Some(m) => Some(neat_matrix(matrix::congruence(m, jac))),
            None => None,
        };
        let full = ClosedForm {
            fim_outer,
            fim,
            rank_one,
            det: None,
            inverse: None,
            jeffreys: None,
            natural_gradient: None,
            singular: false,
            ..cf
        };
        // A fixed design (no covariates): F in θ may be singular although
        // F in the predictors is not (a Rasch test's a − b_k shift), so
        // the rank is decided again, in θ.
        let mut full = full;
        if model.covariates.is_empty() {
            let _stage = crate::budget::stage("the rank of F at a typical point");
            let written: Matrix = full
                .fim
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|e| predictors::inline(e, &reduced.definitions))
                        .collect()
                })
                .collect();
            full.singularity =
                super::identifiability::singularity(model, &written, &own_domains(model));
            full.singular = full.singularity.is_some();
        }
        if full.omitted.is_some() {
            return full;
        }
        let stage = crate::budget::stage("det F and F⁻¹ in the model's parameters");
        let mut full = add_det_inverse(full, config);
        drop(stage);
        if fim_only {
            // `singular` stays; det F and what follows are not reported.
            full.det = None;
            full.inverse = None;
            full.jeffreys = None;
            return full;
        }
        let _stage = crate::budget::stage("the natural gradient in the model's parameters");
        full.natural_gradient = natural_gradient(
            &full,
            &score,
            &config.simplify,
            &assumptions(model, &|_| None),
        );
        full
    });
    Derivation {
        params,
        score,
        hessian,
        fisher,
        definitions: reduced.definitions,
    }
}

impl Derivation {
    /// Were the score and Hessian derived (not [`derive_fim_only`])?
    pub fn has_score(&self) -> bool {
        self.params.is_empty() || !self.score.is_empty()
    }

    /// The definitions with the model's constants substituted, for the
    /// compiled evaluators ([`crate::numeric::compiled::Tape`]).
    pub fn definitions_with_consts(&self, model: &Model) -> Vec<(Name, Expr)> {
        self.definitions
            .iter()
            .map(|(n, e)| (n.clone(), model.substitute_consts(e)))
            .collect()
    }

    /// The same derivation with its [`definitions`](Derivation::definitions)
    /// written out in every formula (and none left), for a consumer that
    /// evaluates or compares formulas in the model's own variables. Each
    /// use copies a definition: cheap for a small model, costly for the
    /// large regressions the names are for (bind them instead,
    /// [`super::predictor::bind`]).
    ///
    /// ```
    /// let src = "param b0 : real\nparam b1 : real\ncovariate z : real\n\
    ///            data y : {0, 1}\nlet eta = b0 + b1*z\ny ~ bernoulli(sigmoid(eta))";
    /// let model = fimkit::load(src, "logit").unwrap();
    /// let d = fimkit::fisher::derive(&model, &Default::default());
    /// assert_eq!(&*d.definitions[0].0, "eta");
    /// let plain = d.written_out();
    /// assert!(plain.definitions.is_empty());
    /// assert!(!plain.score[0].contains_var("eta") && plain.score[0].contains_var("b1"));
    /// ```
    pub fn written_out(&self) -> Derivation {
        if self.definitions.is_empty() {
            return self.clone();
        }
        let one = |e: &Expr| crate::structure::predictors::inline(e, &self.definitions);
        let vector = |v: &[Expr]| -> Vec<Expr> { v.iter().map(one).collect() };
        let matrix = |m: &Matrix| -> Matrix { m.iter().map(|r| vector(r)).collect() };
        let fisher = self.fisher.clone().map(|cf| ClosedForm {
            fim: matrix(&cf.fim),
            fim_outer: cf.fim_outer.as_ref().map(matrix),
            groups: cf
                .groups
                .iter()
                .map(|g| DataGroup {
                    natural: vector(&g.natural),
                    log_partition: one(&g.log_partition),
                    log_base: one(&g.log_base),
                    mean: vector(&g.mean),
                    cov: matrix(&g.cov),
                    ..g.clone()
                })
                .collect(),
            det: cf.det.as_ref().map(one),
            inverse: cf.inverse.as_ref().map(|inv| match inv {
                matrix::Inverse::Dense(m) => matrix::Inverse::Dense(matrix(m)),
                matrix::Inverse::DiagonalMinusRankOne { w, c } => {
                    matrix::Inverse::DiagonalMinusRankOne {
                        w: vector(w),
                        c: one(c),
                    }
                }
            }),
            jeffreys: cf.jeffreys.as_ref().map(one),
            natural_gradient: cf.natural_gradient.as_deref().map(vector),
            rank_one: cf.rank_one.as_ref().map(|(w, a)| (one(w), vector(a))),
            ..cf
        });
        Derivation {
            params: self.params.clone(),
            score: vector(&self.score),
            hessian: matrix(&self.hessian),
            fisher,
            definitions: Vec::new(),
        }
    }
}

/// The derivation in alternative coordinates, and whether it agrees with
/// the pull-back Jᵀ F(θ(φ)) J of the model's own Fisher information.
#[derive(Clone, Debug)]
pub struct CoordsDerivation {
    /// The coordinate system's name.
    pub name: String,
    /// Score, Hessian and FIM derived directly in the new coordinates.
    pub derivation: Derivation,
    /// The pull-back Jᵀ F(θ(φ)) J, when F(θ) has a closed form.
    pub pullback: Option<Matrix>,
    /// The direct FIM equals the pull-back symbolically.
    pub pullback_agrees: bool,
}

/// Derive in every coordinate system the model declares.
pub fn derive_coords(
    model: &Model,
    base: &Derivation,
    config: &DeriveConfig,
) -> Vec<CoordsDerivation> {
    coords_with(model, base, &|domains, subst| {
        derive_with(model, domains, subst, config)
    })
}

/// [`derive_coords`] with F alone in each coordinate system (as
/// [`derive_fim_only`]): what `fimkit derive --fim-only` reports. `base`
/// may be either derivation: the pull-back needs only its F.
pub fn derive_coords_fim_only(
    model: &Model,
    base: &Derivation,
    config: &DeriveConfig,
) -> Vec<CoordsDerivation> {
    coords_with(model, base, &|domains, subst| {
        fim_only_with(model, domains, subst, config)
    })
}

/// A derivation in new parameters (their domains), the model's own
/// replaced through the substitution.
type DeriveIn<'a> = dyn Fn(&[(Name, Domain)], &dyn Fn(&str) -> Option<Expr>) -> Derivation + 'a;

/// Each coordinate system's derivation by `derive_one(domains, subst)`,
/// and its agreement with the pull-back of `base`'s F.
fn coords_with(model: &Model, base: &Derivation, derive_one: &DeriveIn) -> Vec<CoordsDerivation> {
    model
        .coords
        .iter()
        .map(|c| {
            let new: Vec<Name> = c.params.iter().map(|p| p.name.clone()).collect();
            let domains: Vec<(Name, Domain)> = c
                .params
                .iter()
                .map(|p| (p.name.clone(), p.domain.clone()))
                .collect();
            let subst = |v: &str| {
                c.map
                    .iter()
                    .find(|(old, _)| &**old == v)
                    .map(|(_, e)| e.clone())
            };
            let derivation = derive_one(&domains, &subst);
            let pullback = memo_scope(|| {
                base.fisher.as_ref().ok().map(|cf| {
                    let f_at: Matrix = cf
                        .fim
                        .iter()
                        .map(|r| r.iter().map(|e| e.substitute(&subst)).collect())
                        .collect();
                    let jac: Matrix = c
                        .map
                        .iter()
                        .map(|(_, e)| new.iter().map(|v| diff(e, v)).collect())
                        .collect();
                    matrix::congruence(&f_at, &jac)
                        .into_iter()
                        .map(|r| r.into_iter().map(|e| tidy(&e)).collect())
                        .collect::<Matrix>()
                })
            });
            let pullback_agrees = match (&derivation.fisher, &pullback) {
                (Ok(cf), Some(pb)) => {
                    matrices_agree(&cf.fim, pb)
                        || matches!(
                            super::identifiability::compare_numerically(
                                model, &cf.fim, pb, &domains
                            ),
                            super::identifiability::Agreement::Numeric { .. }
                        )
                }
                _ => false,
            };
            CoordsDerivation {
                name: c.name.clone(),
                derivation,
                pullback,
                pullback_agrees,
            }
        })
        .collect()
}

/// Entry-wise symbolic equality: identical, or a difference that expands
/// or cancels (over short sums) to zero. `false` means "not shown
/// symbolically", not "different": the numeric check decides then.
pub fn matrices_agree(a: &Matrix, b: &Matrix) -> bool {
    a.iter().zip(b).all(|(ra, rb)| {
        ra.iter().zip(rb).all(|(x, y)| {
            if x == y {
                return true;
            }
            let d = Expr::sub(x.clone(), y.clone());
            d.expand().is_zero()
                || crate::symbolic::cancel_bounded(&d, crate::symbolic::TIDY_SUM_BOUND).is_zero()
        })
    })
}

/// Derive in `params`, with the model's own parameters replaced through
/// `subst` (alternative coordinates) where it gives an expression.
fn derive_with(
    model: &Model,
    domains: &[(Name, Domain)],
    subst: &dyn Fn(&str) -> Option<Expr>,
    config: &DeriveConfig,
) -> Derivation {
    let reduced = find_predictors(model, config);
    memo_scope(|| match reduced {
        Some(reduced) => {
            let inner =
                derive_in_scope(&reduced.model, &own_domains(&reduced.model), subst, config);
            pull_back(model, inner, reduced, config)
        }
        None => derive_in_scope(model, domains, subst, config),
    })
}

/// [`derive_with`] inside its memo scope.
fn derive_in_scope(
    model: &Model,
    domains: &[(Name, Domain)],
    subst: &dyn Fn(&str) -> Option<Expr>,
    config: &DeriveConfig,
) -> Derivation {
    let names: Vec<Name> = domains.iter().map(|(n, _)| n.clone()).collect();
    let params = &names[..];
    let is_param = |v: &str| params.iter().any(|p| &**p == v);
    let logp = model.logp.substitute(subst);
    // The plain Hessian feeds the expectation; the printed score and Hessian
    // are simplified (when enabled) and equal to it.
    let stage = crate::budget::stage("differentiating (the score and the Hessian)");
    let hess_plain: Matrix = hessian(&logp, params);
    drop(stage);
    let (score, hess_shown): (Vec<Expr>, Matrix) = match &config.simplify {
        Some(sc) => {
            let _stage = crate::budget::stage("simplifying the score and the Hessian");
            let derived = derive_simplified(&logp, params, &assumptions(model, subst), sc);
            let score = derived.score.exprs.into_iter().map(|(e, _, _)| e).collect();
            (score, derived.hessian.matrix)
        }
        None => (
            gradient(&logp, params)
                .into_iter()
                .map(|e| tidy(&e))
                .collect(),
            hess_plain
                .iter()
                .map(|row| row.iter().map(tidy).collect())
                .collect(),
        ),
    };
    let stage = crate::budget::stage("taking expectations (the closed-form Fisher information)");
    let fisher = closed_fim(model, &hess_plain, domains, &is_param, subst)
        .map(|mut cf| {
            // Short of time: F as it is, without the optional steps.
            if crate::budget::running_short() {
                cf.omitted = Some(
                    "det F, F⁻¹, the Jeffreys prior, the natural gradient and the simplification of F"
                        .into(),
                );
                return cf;
            }
            let _stage = crate::budget::stage("det F and F⁻¹");
            add_det_inverse(cf, config)
        })
        .map(|cf| match &config.simplify {
            Some(sc) if cf.omitted.is_none() => {
                let _stage = crate::budget::stage("simplifying F, det F and F⁻¹");
                polish(cf, &assumptions(model, subst), sc, params)
            }
            _ => cf,
        })
        .map(|mut cf| {
            let _stage = crate::budget::stage("the natural gradient");
            if crate::budget::running_short() {
                cf.omitted.get_or_insert_with(|| "the natural gradient".into());
                if !model.covariates.is_empty() {
                    cf.rank_one = matrix::rank_one(&cf.fim, params);
                }
                return cf;
            }
            cf.natural_gradient =
                natural_gradient(&cf, &score, &config.simplify, &assumptions(model, subst));
            if !model.covariates.is_empty() {
                cf.rank_one = matrix::rank_one(&cf.fim, params);
            }
            cf
        });
    drop(stage);
    Derivation {
        params: params.to_vec(),
        score,
        hessian: hess_shown,
        fisher,
        definitions: Vec::new(),
    }
}

/// What the simplifier may assume: the model's declarations, and the new
/// coordinates' domains when deriving in alternative coordinates.
fn assumptions(model: &Model, subst: &dyn Fn(&str) -> Option<Expr>) -> Assumptions {
    let mut a = Assumptions::from_model(model);
    for c in &model.coords {
        let in_use = c.map.iter().any(|(old, e)| subst(old).as_ref() == Some(e));
        if in_use {
            for p in &c.params {
                let b = a.domain(&p.domain);
                a.set(&p.name, b);
            }
        }
    }
    a
}

/// √e for an expression known to be non-negative (det F of a positive
/// semidefinite F): squares of positive factors come out of the root and
/// the rest splits into √numerator/√denominator.
///
/// `2/σ⁴` gives `√2/σ²`; `(αψ₁(α) − 1)/β²` gives `√(αψ₁(α) − 1)/β`.
fn sqrt_of_nonnegative(e: &Expr, facts: &Assumptions) -> Expr {
    let (coeff, rest) = e.split_coeff();
    let factors: Vec<Expr> = match rest {
        Expr::Mul(fs) => crate::ir::expr::into_vec(fs),
        other => vec![other],
    };
    let mut out = Vec::new();
    let mut num = Vec::new();
    let mut den = Vec::new();
    for f in factors {
        let (b, k) = f.split_pow();
        match k.as_int() {
            Some(k) if k % 2 == 0 && facts.bounds_of(&b).is_positive() => {
                out.push(Expr::powi(b, k / 2))
            }
            Some(k) if k < 0 => den.push(Expr::powi(b, -k)),
            _ => num.push(f),
        }
    }
    let (mut num, mut den, mut c) = (Expr::mul(num), Expr::mul(den), coeff);
    // A negative coefficient belongs with a negative factor: -1/(4η³) with
    // η < 0 is 1/(4·(-η³)), whose root is real.
    // e ≥ 0, so with a negative coefficient the rest is ≤ 0: the sign goes
    // to the denominator when it is known negative, else to the numerator
    // (where it usually flips a sum: -(1 - αψ₁(α)) = αψ₁(α) - 1).
    if c < num_traits::Zero::zero() {
        if facts.bounds_of(&den).is_negative() {
            den = Expr::neg(den);
        } else {
            num = Expr::neg(num);
        }
        c = -c;
    }
    out.push(Expr::sqrt(Expr::Num(c)));
    out.push(Expr::sqrt(num));
    out.push(Expr::recip(Expr::sqrt(den)));
    Expr::mul(out)
}

/// The product without its factors that involve no parameter (a density
/// "up to a constant").
fn drop_constant_factors(e: &Expr, params: &[Name]) -> Expr {
    let involves = |f: &Expr| f.free_vars().iter().any(|v| params.contains(v));
    match e {
        Expr::Mul(fs) => Expr::mul(fs.iter().filter(|f| involves(f)).cloned().collect()),
        other if involves(other) => other.clone(),
        _ => Expr::one(),
    }
}

/// E-graph simplification of the closed form's printed formulas.
fn polish(
    mut cf: ClosedForm,
    facts: &Assumptions,
    sc: &SimplifyConfig,
    params: &[Name],
) -> ClosedForm {
    cf.fim = simplify_symmetric(&cf.fim, facts, sc).matrix;
    let mut scalars: Vec<Expr> = Vec::new();
    scalars.extend(cf.det.iter().cloned());
    let inverse_entries: Vec<Expr> = match &cf.inverse {
        Some(matrix::Inverse::Dense(m)) => m
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r[i..].to_vec())
            .collect(),
        Some(matrix::Inverse::DiagonalMinusRankOne { w, c }) => w
            .iter()
            .cloned()
            .chain(std::iter::once(c.clone()))
            .collect(),
        None => Vec::new(),
    };
    scalars.extend(inverse_entries);
    let simple: Vec<Expr> = simplify_many(&scalars, facts, sc)
        .exprs
        .into_iter()
        .map(|(e, _, _)| e)
        .collect();
    let mut it = simple.into_iter();
    if cf.det.is_some() {
        cf.det = it.next();
    }
    if cf.jeffreys.is_some() {
        // √(det F) from the simplified det F (so the e-graph run above
        // does not simplify the unsimplified root first), up to a
        // constant: drop the factors free of parameters.
        cf.jeffreys = cf
            .det
            .as_ref()
            .map(|d| drop_constant_factors(&sqrt_of_nonnegative(d, facts), params));
    }
    cf.inverse = match cf.inverse.take() {
        Some(matrix::Inverse::Dense(m)) => {
            let n = m.len();
            let mut out = vec![vec![Expr::zero(); n]; n];
            for i in 0..n {
                for j in i..n {
                    let e = it.next().unwrap_or_else(|| m[i][j].clone());
                    out[j][i] = e.clone();
                    out[i][j] = e;
                }
            }
            Some(matrix::Inverse::Dense(out))
        }
        Some(matrix::Inverse::DiagonalMinusRankOne { w, c }) => {
            let w: Vec<Expr> = w
                .iter()
                .map(|wi| it.next().unwrap_or_else(|| wi.clone()))
                .collect();
            let c = it.next().unwrap_or(c);
            Some(matrix::Inverse::DiagonalMinusRankOne { w, c })
        }
        None => None,
    };
    cf
}

/// −E[Hessian] with the expectations found by the engine, checked against
/// the second formula, with its numeric singularity check; det F, F⁻¹ and
/// the Jeffreys prior are left for [`add_det_inverse`].
///
/// Every closed form goes through here ([`derive`], [`fisher_information`]
/// and both in every coordinate system), and here the invariant is
/// enforced ([`check_invariant`]): F contains no data variable, and the two
/// formulas agree (or the Hessian is free of data, so F = −H exactly).
fn closed_fim(
    model: &Model,
    hess: &Matrix,
    domains: &[(Name, Domain)],
    is_param: &dyn Fn(&str) -> bool,
    subst: &dyn Fn(&str) -> Option<Expr>,
) -> Result<ClosedForm, Blocker> {
    let names: Vec<Name> = domains.iter().map(|(n, _)| n.clone()).collect();
    let params = &names[..];
    let own_params = model.param_names();
    if let Some((d, param)) = model.irregular_support() {
        return Err(Blocker::IrregularSupport {
            var: d.name.clone(),
            param,
        });
    }
    let is_own_param = |v: &str| own_params.iter().any(|p| &**p == v) || is_param(v);
    let p = params.len();
    let facts = assumptions(model, subst);
    let groups: Vec<DataGroup> = match data_groups(model, &is_own_param) {
        Ok(groups) => groups
            .into_iter()
            .map(|g| substitute_group(g, subst))
            .collect(),
        // A Hessian free of data is its own expectation: F = −H, whatever
        // the data's distribution (the support is regular, checked above).
        Err(_) if hessian_is_data_free(model, hess) => {
            let fim = matrix::symmetric(p, |i, j| -> Result<Expr, Blocker> {
                Ok(tidy(&Expr::neg(hess[i][j].clone())))
            })?;
            check_normalised(model, domains)?;
            return finish_closed_fim(
                model,
                domains,
                fim,
                None,
                Vec::new(),
                super::identifiability::Agreement::DataFreeHessian,
            );
        }
        Err(b) => return Err(b),
    };
    let fim = matrix::symmetric(p, |i, j| -> Result<Expr, Blocker> {
        if let Expr::Num(h) = &hess[i][j] {
            return Ok(Expr::Num(-h.clone()));
        }
        Ok(tidy(&expectation(
            &Expr::neg(super::positive::split_positive(&hess[i][j], &facts)),
            &groups,
            is_param,
        )?))
    })?;
    let stage = crate::budget::stage("the second formula (sum of J^T Cov[T] J)");
    let fim_outer = outer_formula(&groups, params, is_param)?;
    drop(stage);
    let _stage = crate::budget::stage("checking the two formulas agree");
    // No comparison of formulas that still hold data (they would agree
    // with each other and still be wrong).
    check_data_free(model, domains, &fim)?;
    check_data_free(model, domains, &fim_outer)?;
    let formulas_agree_symbolically = matrices_agree(&fim, &fim_outer);
    let agreement = if formulas_agree_symbolically {
        super::identifiability::Agreement::Symbolic
    } else {
        super::identifiability::compare_numerically(model, &fim, &fim_outer, domains)
    };
    finish_closed_fim(model, domains, fim, Some(fim_outer), groups, agreement)
}

/// F = −H for a data-free Hessian is right only if the density is
/// normalised: the numeric route checks E[score] = 0 at two typical points
/// (it integrates or sums the density itself). A density it finds not
/// normalised is refused; where it cannot decide (a support it does not
/// integrate, a budget), F = −H stands, said so in every output as before
/// ("`fimkit check` tests that p is normalised"). Coordinate systems are
/// checked through the model's own parameters, once.
fn check_normalised(model: &Model, domains: &[(Name, Domain)]) -> Result<(), Blocker> {
    let own = model.param_names();
    if domains.len() != own.len() || domains.iter().zip(&own).any(|((n, _), o)| n != o) {
        return Ok(());
    }
    let _stage = crate::budget::stage("checking that the density is normalised");
    for salt in 0..2 {
        let at = super::identifiability::typical_point_with_covariates(model, domains, salt);
        let (theta, config) = super::numeric::NumericConfig::at_point(model, &at);
        if let Err(e @ crate::numeric::NumericError::NotNormalised { .. }) =
            super::numeric::numeric_fim(model, &theta, &config)
        {
            return Err(Blocker::NotNormalised {
                detail: e.to_string(),
            });
        }
    }
    Ok(())
}

/// Does no entry of the Hessian involve a data variable?
fn hessian_is_data_free(model: &Model, hess: &Matrix) -> bool {
    hess.iter()
        .flatten()
        .all(|h| !model.data.iter().any(|d| h.contains_var(&d.name)))
}

/// The closed form from F, the second formula and their agreement, once
/// [`check_invariant`] holds; with the numeric singularity check.
fn finish_closed_fim(
    model: &Model,
    domains: &[(Name, Domain)],
    fim: Matrix,
    fim_outer: Option<Matrix>,
    groups: Vec<DataGroup>,
    agreement: super::identifiability::Agreement,
) -> Result<ClosedForm, Blocker> {
    check_invariant(model, domains, &fim, fim_outer.as_ref(), &agreement)?;
    let formulas_agree_symbolically =
        matches!(agreement, super::identifiability::Agreement::Symbolic);
    let stage = crate::budget::stage("the rank of F at a typical point");
    let singularity = if model.covariates.is_empty() {
        super::identifiability::singularity(model, &fim, domains)
    } else {
        None
    };
    drop(stage);
    let singular = singularity.is_some();
    Ok(ClosedForm {
        fim,
        fim_outer,
        formulas_agree_symbolically,
        agreement,
        groups,
        det: None,
        inverse: None,
        jeffreys: None,
        singular,
        singularity,
        natural_gradient: None,
        rank_one: None,
        omitted: None,
    })
}

/// The hard invariant of a closed form: F (and the second formula) holds
/// nothing but the parameters, constants and covariates, so no data
/// variable (nor anything depending on one) reaches any output; and the
/// two independent formulas agree, symbolically or at typical points, or
/// the Hessian is free of data and F = −H exactly. Anything else is a
/// [`Blocker`], and the model falls back to the numeric route.
fn check_invariant(
    model: &Model,
    domains: &[(Name, Domain)],
    fim: &Matrix,
    fim_outer: Option<&Matrix>,
    agreement: &super::identifiability::Agreement,
) -> Result<(), Blocker> {
    use super::identifiability::Agreement;
    check_data_free(model, domains, fim)?;
    if let Some(outer) = fim_outer {
        check_data_free(model, domains, outer)?;
    }
    match (agreement, fim_outer) {
        (Agreement::Symbolic | Agreement::Numeric { .. }, Some(_)) => Ok(()),
        (Agreement::DataFreeHessian, None) => Ok(()),
        (Agreement::Disagree { entry, values }, _) => Err(Blocker::FormulasDisagree {
            entry: *entry,
            values: *values,
            raw: model
                .terms
                .iter()
                .any(|t| matches!(t.source, crate::ir::model::TermSource::Raw)),
        }),
        _ => Err(Blocker::Unchecked),
    }
}

/// The first variable of `m` that is not a parameter (of `domains`), a
/// constant or a covariate, as a [`Blocker::DataInFisher`].
fn check_data_free(model: &Model, domains: &[(Name, Domain)], m: &Matrix) -> Result<(), Blocker> {
    let allowed = |v: &str| {
        domains.iter().any(|(n, _)| &**n == v)
            || model.consts.iter().any(|c| &*c.name == v)
            || model.covariates.iter().any(|c| &*c.name == v)
    };
    for (i, row) in m.iter().enumerate() {
        for (j, e) in row.iter().enumerate().skip(i) {
            if matches!(e, Expr::Num(_)) {
                continue;
            }
            if let Some(var) = e.free_vars().into_iter().find(|v| !allowed(v)) {
                return Err(Blocker::DataInFisher { var, entry: (i, j) });
            }
        }
    }
    Ok(())
}

/// det F, F⁻¹ and the Jeffreys prior √det F of a [`closed_fim`] (F⁻¹ and
/// the prior only when F is not singular).
fn add_det_inverse(mut cf: ClosedForm, config: &DeriveConfig) -> ClosedForm {
    let (det, inverse) =
        matrix::det_and_inverse(&cf.fim, config.max_symbolic_inverse, &tidy, &tidy_deep);
    cf.singular |= det.as_ref().is_some_and(Expr::is_zero);
    if !cf.singular {
        cf.jeffreys = det.as_ref().map(|d| tidy(&Expr::sqrt(d.clone())));
        cf.inverse = inverse;
    }
    cf.det = det;
    cf
}

/// F⁻¹ s, simplified.
fn natural_gradient(
    cf: &ClosedForm,
    score: &[Expr],
    simplify: &Option<SimplifyConfig>,
    facts: &Assumptions,
) -> Option<Vec<Expr>> {
    // With a structured inverse, F⁻¹s = w∘(s − c (wᵀs) 1) is the readable
    // form; writing it out entry by entry is not.
    let matrix::Inverse::Dense(inv) = cf.inverse.as_ref()? else {
        return None;
    };
    let direction: Vec<Expr> = inv
        .iter()
        .map(|row| {
            tidy(&Expr::add(
                row.iter()
                    .zip(score)
                    .filter(|(a, _)| !a.is_zero())
                    .map(|(a, s)| Expr::mul2(a.clone(), s.clone()))
                    .collect(),
            ))
        })
        .collect();
    Some(match simplify {
        Some(sc) => simplify_many(&direction, facts, sc)
            .exprs
            .into_iter()
            .map(|(e, _, _)| e)
            .collect(),
        None => direction,
    })
}

fn substitute_group(mut g: DataGroup, subst: &dyn Fn(&str) -> Option<Expr>) -> DataGroup {
    let s = |e: &Expr| e.substitute(subst);
    g.natural = g.natural.iter().map(s).collect();
    g.log_partition = s(&g.log_partition);
    g.mean = g.mean.iter().map(s).collect();
    g.cov = g.cov.iter().map(|r| r.iter().map(s).collect()).collect();
    g
}

/// F = Σ_groups E[J_gᵀ Cov[T_g] J_g], J_g = ∂η_g/∂θ, as J_gᵀ (Cov[T_g] J_g)
/// with the inner product tidied first: its entries are short sums that
/// collapse (a multinomial's n(diag(p) − ppᵀ) J is n(δ − p)), so the outer
/// sums stay short instead of carrying k² products each.
fn outer_formula(
    groups: &[DataGroup],
    params: &[Name],
    is_param: &dyn Fn(&str) -> bool,
) -> Result<Matrix, Blocker> {
    let p = params.len();
    let mut f = vec![vec![Expr::zero(); p]; p];
    for g in groups {
        // Only the parameters this group's η moves: K independent groups
        // cost K small blocks, not K full p×p passes.
        let vars: Vec<Name> = {
            let mut v: Vec<Name> = g.natural.iter().flat_map(Expr::free_vars).collect();
            v.sort();
            v.dedup();
            v
        };
        let moved: Vec<usize> = (0..p)
            .filter(|&i| vars.binary_search(&params[i]).is_ok())
            .collect();
        // jac[a][m] = ∂η_a/∂θ_moved[m].
        let jac: Vec<Vec<Expr>> = g
            .natural
            .iter()
            .map(|eta| moved.iter().map(|&i| diff(eta, &params[i])).collect())
            .collect();
        let k = g.natural.len();
        // cov_jac[a][m] = Σ_b Cov[a][b] J[b][m].
        let cov_jac: Vec<Vec<Expr>> = (0..k)
            .map(|a| {
                (0..moved.len())
                    .map(|m| {
                        let terms: Vec<Expr> = (0..k)
                            .filter(|&b| !jac[b][m].is_zero() && !g.cov[a][b].is_zero())
                            .map(|b| Expr::mul2(g.cov[a][b].clone(), jac[b][m].clone()))
                            .collect();
                        if terms.is_empty() {
                            Expr::zero()
                        } else {
                            tidy(&Expr::add(terms))
                        }
                    })
                    .collect()
            })
            .collect();
        for (mi, &i) in moved.iter().enumerate() {
            for (mj, &j) in moved.iter().enumerate().skip(mi) {
                let terms: Vec<Expr> = (0..k)
                    .filter(|&a| !jac[a][mi].is_zero() && !cov_jac[a][mj].is_zero())
                    .map(|a| Expr::mul2(jac[a][mi].clone(), cov_jac[a][mj].clone()))
                    .collect();
                if terms.is_empty() {
                    continue;
                }
                let old = std::mem::replace(&mut f[i][j], Expr::zero());
                f[i][j] = Expr::add(vec![old, Expr::add(terms)]);
            }
        }
    }
    matrix::symmetric(p, |i, j| match &f[i][j] {
        // A number is its own expectation, already tidy.
        e @ Expr::Num(_) => Ok(e.clone()),
        e => Ok(tidy(&expectation(e, groups, is_param)?)),
    })
}
