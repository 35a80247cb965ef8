//! Predictions and residuals of a fit.
//!
//! * [`Quantity`] — what is predicted: the response's mean given the
//!   covariates (E\[y\] from the family library's exponential-family
//!   moments, the statistic `T(y) = y`), a top-level `let` the model
//!   names, or the linear predictor of a one-form (GLM) model. Its
//!   gradient in θ is the exact symbolic derivative, so the delta-method
//!   standard error `√(∇gᵀ Σ ∇g)` needs no finite differences.
//! * [`residuals`] — per row of the fit's data: response `y − μ̂`,
//!   Pearson `(y − μ̂)/√Var[y]` (the family's variance at θ̂, dispersion
//!   included), and for Bernoulli, binomial and Poisson responses the
//!   deviance residual `sign(y − μ̂)√(2(log p(y; y) − log p(y; μ̂)))`
//!   (the per-row terms of [`super::Problem::deviance`]).

use super::objective::Problem;
use super::result::FitResult;
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Arg, Model, TermSource};
use crate::numeric::domain::Interval;
use crate::numeric::eval::eval_f64;
use nalgebra::{DMatrix, DVector};

/// What to predict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// The response's mean given the covariates.
    Mean,
    /// A top-level `let` of the model, or `linear` (the linear predictor
    /// of a model with one, when no `let` has that name).
    Named(&'a str),
}

/// How a prediction's interval is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntervalKind {
    /// `value ± z·se`.
    Wald,
    /// The linear predictor's Wald interval mapped through the mean (a
    /// monotone function of it): statsmodels' and R's convention for a
    /// GLM's mean; it stays inside the mean's range.
    Link,
}

impl IntervalKind {
    /// The name in JSON and the docs.
    pub fn name(self) -> &'static str {
        match self {
            IntervalKind::Wald => "wald",
            IntervalKind::Link => "link",
        }
    }
}

/// A quantity to predict, as an expression in θ and covariates.
#[derive(Clone, Debug)]
pub struct Quantity {
    /// `mean`, or the `let`'s name.
    pub name: String,
    /// The expression (constants substituted).
    pub expr: Expr,
    /// `∂ expr / ∂θ_i`, exact.
    gradient: Vec<Expr>,
    /// The covariates a prediction needs, in declaration order.
    pub inputs: Vec<Name>,
    /// Parameter names (the order of θ).
    params: Vec<Name>,
    /// How intervals are made.
    pub interval: IntervalKind,
    /// The linear predictor `aᵀθ + c` (coefficients, offset), for
    /// [`IntervalKind::Link`].
    link: Option<(Vec<Expr>, Expr)>,
    /// Each input's domain `(lo, hi)` (open; constant ends, else ±∞) and
    /// its label.
    domains: Vec<(f64, f64, String)>,
}

/// One prediction.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The quantity at θ̂.
    pub value: f64,
    /// Its delta-method standard error; `None` without a covariance.
    pub se: Option<f64>,
    /// The interval at the fit's level; `None` without a standard error
    /// (or where the mean is not monotone in the linear predictor).
    pub interval: Option<(f64, f64)>,
}

/// The response term: the one `y ~ family(...)` statement with a scalar
/// response, its family, response name and arguments.
fn response_term(model: &Model) -> Result<(&'static str, &Name, &[Arg]), String> {
    let tilde: Vec<_> = model
        .terms
        .iter()
        .filter_map(|t| match &t.source {
            TermSource::Family { family, data, args } if data.len() == 1 => {
                Some((*family, &data[0], args.as_slice()))
            }
            _ => None,
        })
        .collect();
    match tilde.as_slice() {
        [one] => Ok(*one),
        [] => Err("the model has no `y ~ family(...)` statement with a scalar response, so it has no response mean: name a `let` with --predict-expr".into()),
        _ => Err(format!(
            "the model has {} `~` statements, so \"the\" response mean is ambiguous: name a `let` with --predict-expr",
            tilde.len()
        )),
    }
}

/// The response's mean and variance as expressions in the family's
/// arguments, from the exponential-family table (the statistic T(y) = y).
fn mean_and_variance(model: &Model) -> Result<(Name, Expr, Expr), String> {
    let (family, y, args) = response_term(model)?;
    let f = crate::families::lookup(family).ok_or_else(|| format!("unknown family `{family}`"))?;
    let unknown =
        || format!("the mean of a {family} response is not known to fimkit in closed form");
    let ef = f.ef.as_ref().ok_or_else(unknown)?;
    let yv = Expr::var(y.as_ref());
    let k = ef
        .stats_for(std::slice::from_ref(&yv), args)
        .iter()
        .position(|t| *t == yv)
        .ok_or_else(unknown)?;
    let mean = (ef.mean)(args).get(k).cloned().ok_or_else(unknown)?;
    let var = (ef.cov)(args)
        .get(k)
        .and_then(|r| r.get(k))
        .cloned()
        .ok_or_else(unknown)?;
    Ok((y.clone(), mean, var))
}

impl Quantity {
    /// The quantity `target` of `model`, fitted as `problem`.
    pub fn new(model: &Model, problem: &Problem, target: Target) -> Result<Quantity, String> {
        let linear = problem.linear_predictor();
        let (name, expr, interval) = match target {
            Target::Mean => {
                let (_, mean, _) = mean_and_variance(model)?;
                let kind = if linear.is_some() {
                    IntervalKind::Link
                } else {
                    IntervalKind::Wald
                };
                ("mean".to_string(), mean, kind)
            }
            Target::Named(n) => match (model.let_decl(n), &linear) {
                (Some(l), _) => (n.to_string(), l.value.clone(), IntervalKind::Wald),
                (None, Some((a, c))) if n == "linear" => {
                    let sum = a
                        .iter()
                        .zip(model.param_names())
                        .map(|(a, p)| a.clone() * Expr::var(p.as_ref()))
                        .chain(std::iter::once(c.clone()))
                        .collect();
                    (n.to_string(), Expr::add(sum), IntervalKind::Wald)
                }
                (None, _) => {
                    let lets: Vec<String> =
                        model.lets.iter().map(|l| format!("`{}`", l.name)).collect();
                    let mut known = if lets.is_empty() {
                        "the model has no top-level scalar `let`".to_string()
                    } else {
                        format!("its top-level scalar lets are {}", lets.join(", "))
                    };
                    if linear.is_some() {
                        known.push_str("; `linear` is the linear predictor");
                    }
                    return Err(format!("no top-level `let` named `{n}` ({known})"));
                }
            },
        };
        let expr = model.substitute_consts(&expr);
        let params = model.param_names();
        for v in expr.free_vars() {
            if model.data_var(&v).is_some() {
                return Err(format!(
                    "`{name}` uses the data variable `{v}`: a prediction is a function of the parameters and covariates only"
                ));
            }
        }
        let mut used = expr.free_vars();
        if let (IntervalKind::Link, Some((a, c))) = (interval, &linear) {
            for e in a.iter().chain(std::iter::once(c)) {
                used.extend(e.free_vars());
            }
        }
        let inputs: Vec<Name> = model
            .covariates
            .iter()
            .map(|c| c.name.clone())
            .filter(|c| used.contains(c))
            .collect();
        let domains = inputs
            .iter()
            .map(|n| {
                let c = model.covariates.iter().find(|c| c.name == *n);
                c.map_or((f64::NEG_INFINITY, f64::INFINITY, "real".into()), |c| {
                    let Interval { lo, hi } = Interval::of(model, &c.domain);
                    (lo, hi, c.domain.label.clone())
                })
            })
            .collect();
        Ok(Quantity {
            name,
            gradient: crate::symbolic::gradient(&expr, &params),
            expr,
            inputs,
            params,
            interval,
            link: if interval == IntervalKind::Link {
                linear
            } else {
                None
            },
            domains,
        })
    }

    /// Is `value` inside the domain of input `i`? The reason when not.
    pub fn check_input(&self, i: usize, value: f64) -> Result<(), String> {
        let (lo, hi, label) = &self.domains[i];
        if !value.is_finite() {
            return Err(format!("{value} is not a finite number"));
        }
        if value > *lo && value < *hi {
            Ok(())
        } else {
            Err(format!(
                "{value} is outside the covariate's domain `{label}`"
            ))
        }
    }

    /// The value of variable `v`: a parameter's from `th`, a covariate's
    /// from `values`.
    fn lookup(&self, th: &DVector<f64>, values: &[f64], v: &str) -> Option<f64> {
        self.params
            .iter()
            .position(|p| &**p == v)
            .map(|i| th[i])
            .or_else(|| {
                self.inputs
                    .iter()
                    .position(|p| &**p == v)
                    .map(|i| values[i])
            })
    }

    /// The prediction at covariates `values` (in [`Quantity::inputs`]
    /// order) from the fit `r`: the standard error from the covariance
    /// the fit's `--se` names, the interval at the fit's level.
    pub fn predict(&self, r: &FitResult, values: &[f64]) -> Result<Prediction, String> {
        let theta = &r.estimates;
        let at = |v: &str| self.lookup(theta, values, v);
        let ev = |e: &Expr, env: &dyn Fn(&str) -> Option<f64>| {
            eval_f64(e, env).map_err(|e| format!("`{}`: {e}", self.name))
        };
        let value = ev(&self.expr, &at)?;
        let cov = r.wald_covariance();
        let se = match &cov {
            None => None,
            Some(c) => {
                let g = self
                    .gradient
                    .iter()
                    .map(|e| ev(e, &at))
                    .collect::<Result<Vec<f64>, String>>()?;
                delta_se(c, &DVector::from_vec(g))
            }
        };
        let z = crate::numeric::special::normal_quantile(0.5 + 0.5 * r.level);
        let interval = match (&self.link, se, &cov) {
            (_, None, _) | (_, _, None) => None,
            (None, Some(s), _) => Some((value - z * s, value + z * s)),
            (Some((a, c)), Some(_), Some(cov)) => {
                let a = a
                    .iter()
                    .map(|e| ev(e, &at))
                    .collect::<Result<Vec<f64>, String>>()?;
                let a = DVector::from_vec(a);
                let eta = a.dot(theta) + ev(c, &at)?;
                let aa = a.dot(&a);
                match delta_se(cov, &a) {
                    Some(s) if aa > 0.0 && s > 0.0 => {
                        // θ moved along a to where the linear predictor is
                        // η': the mean there is h(η').
                        let h = |e: f64| {
                            let th = theta + &a * ((e - eta) / aa);
                            ev(&self.expr, &|v: &str| self.lookup(&th, values, v))
                        };
                        let (lo, hi) = (h(eta - z * s)?, h(eta + z * s)?);
                        let up = lo < value && value < hi;
                        let down = lo > value && value > hi;
                        (up || down).then(|| (lo.min(hi), lo.max(hi)))
                    }
                    // A row where the linear predictor does not depend on
                    // θ (or has no spread): the mean is known exactly.
                    Some(_) => Some((value, value)),
                    None => None,
                }
            }
        };
        Ok(Prediction {
            value,
            se,
            interval,
        })
    }
}

/// `√(gᵀ C g)`, `None` when not a finite number ≥ 0.
fn delta_se(c: &DMatrix<f64>, g: &DVector<f64>) -> Option<f64> {
    let v = (g.transpose() * c * g)[(0, 0)];
    (v.is_finite() && v >= 0.0).then(|| v.sqrt())
}

/// Residuals of one row of the fit's data.
#[derive(Clone, Debug, PartialEq)]
pub struct Residual {
    /// The response y.
    pub response: f64,
    /// μ̂, the fitted mean.
    pub fitted: f64,
    /// `y − μ̂`.
    pub response_resid: f64,
    /// `(y − μ̂)/√Var[y]` at θ̂.
    pub pearson: f64,
    /// `sign(y − μ̂)√(2(log p(y; y) − log p(y; μ̂)))`; `None` for a
    /// family without a saturated model in fimkit.
    pub deviance: Option<f64>,
}

/// The residuals of the fit `r` of `problem` (the model `model`), row by
/// row of its data; the response's name with them.
pub fn residuals(
    model: &Model,
    problem: &Problem,
    r: &FitResult,
) -> Result<(Name, Vec<Residual>), String> {
    let (y, mean, var) = mean_and_variance(model)?;
    let (mean, var) = (
        model.substitute_consts(&mean),
        model.substitute_consts(&var),
    );
    let data = problem.data();
    let names = data.names();
    let yj = names
        .iter()
        .position(|n| *n == y)
        .ok_or_else(|| format!("the response `{y}` is not in the data"))?;
    let params = model.param_names();
    let theta = &r.estimates;
    let mut out = Vec::with_capacity(data.n_rows());
    for i in 0..data.n_rows() {
        let x = data.row(i).ok_or("a row is missing")?;
        let env = |v: &str| {
            params
                .iter()
                .position(|p| &**p == v)
                .map(|k| theta[k])
                .or_else(|| names.iter().position(|n| &**n == v).map(|k| x[k]))
        };
        let at_row = |what: &str, e: &Expr| {
            eval_f64(e, &env).map_err(|e| format!("row {}: the {what}: {e}", i + 1))
        };
        let mu = at_row("mean", &mean)?;
        let v = at_row("variance", &var)?;
        let yv = x[yj];
        let pearson = (yv - mu) / v.sqrt();
        if !(v > 0.0 && pearson.is_finite()) {
            return Err(format!(
                "row {}: the variance of `{y}` at the estimate is {v}: no Pearson residual",
                i + 1
            ));
        }
        out.push(Residual {
            response: yv,
            fitted: mu,
            response_resid: yv - mu,
            pearson,
            deviance: None,
        });
    }
    let fitted: Vec<f64> = out.iter().map(|r| r.fitted).collect();
    if let Some(d) = problem.deviance_residuals(&fitted) {
        for (r, d) in out.iter_mut().zip(d?) {
            r.deviance = Some(d);
        }
    }
    Ok((y, out))
}

/// Predictions at the rows of a file: what [`crate::render::fit`] prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Predictions {
    /// The quantity's name (`mean`, a `let`'s name, `linear`).
    pub quantity: String,
    /// How the intervals are made.
    pub interval: IntervalKind,
    /// Their level.
    pub level: f64,
    /// The covariates, in the order of each row's values.
    pub inputs: Vec<Name>,
    /// Per row: its number in the file (from 1), the covariates' values,
    /// the prediction.
    pub rows: Vec<(usize, Vec<f64>, Prediction)>,
}
