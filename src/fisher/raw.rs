//! Raw log-densities (`logp += ...`) matched to a library family.
//!
//! The raw terms are linearized in the data: monomials whose coefficients
//! involve parameters are sufficient statistics T with natural parameters
//! η(θ) (their coefficients); parameter-free monomials form log h(x). A
//! family matches when its statistics cover T on the same support with the
//! same base measure (up to a constant). Moments then follow from the
//! family's log-partition in natural parameters: E[T] = ∇A(η),
//! Cov[T] = ∇²A(η), evaluated at η(θ).

use super::expectation::{Blocker, DataGroup};
use super::linearize::linearize;
use crate::ir::expr::{Expr, Func, Name};
use crate::ir::model::{Model, Support, TermSource};
use crate::symbolic::{cancel, diff};
use std::collections::BTreeSet;

/// A family as seen from its natural parameters.
struct NaturalFamily {
    name: &'static str,
    /// Statistics of data `x` (one or more components).
    stats: fn(x: &[Expr]) -> Vec<Expr>,
    /// log h(x).
    log_base: fn(x: &[Expr]) -> Expr,
    /// A(η).
    log_partition: fn(eta: &[Expr]) -> Expr,
    /// Does the declared support fit?
    support: fn(&Support, usize) -> bool,
}

fn x0(x: &[Expr]) -> Expr {
    x[0].clone()
}

fn continuous(s: &Support, lo: Option<f64>, hi: Option<f64>) -> bool {
    let num = |e: &Option<Expr>| e.as_ref().and_then(crate::ir::resolve::numeric_value);
    match s {
        Support::Continuous { lo: l, hi: h } => {
            let lo_ok = match lo {
                None => l.is_none(),
                Some(v) => num(l) == Some(v),
            };
            let hi_ok = match hi {
                None => h.is_none(),
                Some(v) => num(h) == Some(v),
            };
            lo_ok && hi_ok
        }
        _ => false,
    }
}

fn log_of(e: Expr) -> Expr {
    Expr::log(e)
}

fn half_log_2pi() -> Expr {
    Expr::rational(1, 2) * Expr::log(Expr::int(2) * Expr::pi())
}

static NATURAL_FAMILIES: &[NaturalFamily] = &[
    NaturalFamily {
        name: "normal",
        stats: |x| vec![x0(x), Expr::powi(x0(x), 2)],
        log_base: |_| -half_log_2pi(),
        log_partition: |e| {
            -(Expr::powi(e[0].clone(), 2) / (Expr::int(4) * e[1].clone()))
                - Expr::rational(1, 2) * log_of(Expr::int(-2) * e[1].clone())
        },
        support: |s, d| d == 1 && continuous(s, None, None),
    },
    NaturalFamily {
        name: "lognormal",
        stats: |x| vec![log_of(x0(x)), Expr::powi(log_of(x0(x)), 2)],
        log_base: |x| -log_of(x0(x)) - half_log_2pi(),
        log_partition: |e| {
            -(Expr::powi(e[0].clone(), 2) / (Expr::int(4) * e[1].clone()))
                - Expr::rational(1, 2) * log_of(Expr::int(-2) * e[1].clone())
        },
        support: |s, d| d == 1 && continuous(s, Some(0.0), None),
    },
    NaturalFamily {
        name: "exponential",
        stats: |x| vec![x0(x)],
        log_base: |_| Expr::zero(),
        log_partition: |e| -log_of(-e[0].clone()),
        support: |s, d| d == 1 && continuous(s, Some(0.0), None),
    },
    NaturalFamily {
        name: "rayleigh",
        stats: |x| vec![Expr::powi(x0(x), 2)],
        log_base: |x| log_of(x0(x)),
        log_partition: |e| -log_of(Expr::int(-2) * e[0].clone()),
        support: |s, d| d == 1 && continuous(s, Some(0.0), None),
    },
    NaturalFamily {
        name: "gamma",
        stats: |x| vec![log_of(x0(x)), x0(x)],
        log_base: |_| Expr::zero(),
        log_partition: |e| {
            let a = e[0].clone() + Expr::one();
            Expr::lgamma(a.clone()) - a * log_of(-e[1].clone())
        },
        support: |s, d| d == 1 && continuous(s, Some(0.0), None),
    },
    NaturalFamily {
        name: "inverse_gamma",
        stats: |x| vec![log_of(x0(x)), Expr::recip(x0(x))],
        log_base: |_| Expr::zero(),
        log_partition: |e| {
            let a = -e[0].clone() - Expr::one();
            Expr::lgamma(a.clone()) - a * log_of(-e[1].clone())
        },
        support: |s, d| d == 1 && continuous(s, Some(0.0), None),
    },
    NaturalFamily {
        name: "inverse_gaussian",
        stats: |x| vec![x0(x), Expr::recip(x0(x))],
        log_base: |x| -half_log_2pi() - Expr::rational(3, 2) * log_of(x0(x)),
        log_partition: |e| {
            Expr::int(-2) * Expr::sqrt(e[0].clone() * e[1].clone())
                - Expr::rational(1, 2) * log_of(Expr::int(-2) * e[1].clone())
        },
        support: |s, d| d == 1 && continuous(s, Some(0.0), None),
    },
    NaturalFamily {
        name: "chi_squared",
        stats: |x| vec![log_of(x0(x))],
        log_base: |x| -(Expr::rational(1, 2) * x0(x)),
        log_partition: |e| {
            let h = e[0].clone() + Expr::one();
            Expr::lgamma(h.clone()) + h * log_of(Expr::int(2))
        },
        support: |s, d| d == 1 && continuous(s, Some(0.0), None),
    },
    NaturalFamily {
        name: "beta",
        stats: |x| vec![log_of(x0(x)), log_of(Expr::one() - x0(x))],
        log_base: |_| Expr::zero(),
        log_partition: |e| {
            Expr::call(
                Func::Lbeta,
                vec![e[0].clone() + Expr::one(), e[1].clone() + Expr::one()],
            )
        },
        support: |s, d| d == 1 && continuous(s, Some(0.0), Some(1.0)),
    },
    NaturalFamily {
        name: "bernoulli",
        stats: |x| vec![x0(x)],
        log_base: |_| Expr::zero(),
        log_partition: |e| Expr::call(Func::Log1p, vec![Expr::exp(e[0].clone())]),
        support: |s, d| d == 1 && s.is_binary(),
    },
    NaturalFamily {
        name: "poisson",
        stats: |x| vec![x0(x)],
        log_base: |x| -Expr::lgamma(x0(x) + Expr::one()),
        log_partition: |e| Expr::exp(e[0].clone()),
        support: |s, d| d == 1 && matches!(s, Support::Integers { lo, hi: None } if lo.is_zero()),
    },
    NaturalFamily {
        name: "geometric",
        stats: |x| vec![x0(x)],
        log_base: |_| Expr::zero(),
        log_partition: |e| -log_of(Expr::one() - Expr::exp(e[0].clone())),
        support: |s, d| d == 1 && matches!(s, Support::Integers { lo, hi: None } if lo.is_zero()),
    },
    NaturalFamily {
        name: "dirichlet",
        stats: |x| x.iter().map(|xk| log_of(xk.clone())).collect(),
        log_base: |_| Expr::zero(),
        log_partition: |e| {
            let a: Vec<Expr> = e.iter().map(|ek| ek.clone() + Expr::one()).collect();
            let mut terms: Vec<Expr> = a.iter().cloned().map(Expr::lgamma).collect();
            terms.push(-Expr::lgamma(Expr::add(a)));
            Expr::add(terms)
        },
        support: |s, d| matches!(s, Support::Simplex { dim, .. } if *dim == d),
    },
];

/// Data groups for the data that only raw `logp +=` terms describe.
pub fn raw_groups(
    model: &Model,
    is_param: &dyn Fn(&str) -> bool,
    covered: &BTreeSet<Name>,
) -> Result<Vec<DataGroup>, Blocker> {
    let raw: Vec<Expr> = model
        .terms
        .iter()
        .filter(|t| matches!(t.source, TermSource::Raw))
        .map(|t| t.logp.clone())
        .collect();
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let raw_logp = Expr::add(raw);
    let data_names: BTreeSet<Name> = model.data.iter().map(|d| d.name.clone()).collect();
    let raw_data: Vec<Name> = raw_logp
        .free_vars()
        .into_iter()
        .filter(|v| data_names.contains(v))
        .collect();
    if let Some(v) = raw_data.iter().find(|v| covered.contains(*v)) {
        return Err(Blocker::Mixed { var: v.clone() });
    }
    // Group the components of one indexed declaration.
    let mut groups: Vec<Vec<Name>> = Vec::new();
    for v in raw_data {
        let base = v.split('[').next().unwrap_or(&v).to_string();
        match groups
            .iter_mut()
            .find(|g| g[0].split('[').next() == Some(base.as_str()))
        {
            Some(g) => g.push(v),
            None => groups.push(vec![v]),
        }
    }
    groups
        .into_iter()
        .map(|g| match_group(model, &raw_logp, &g, is_param))
        .collect()
}

fn match_group(
    model: &Model,
    raw_logp: &Expr,
    vars: &[Name],
    is_param: &dyn Fn(&str) -> bool,
) -> Result<DataGroup, Blocker> {
    let in_group = |v: &str| vars.iter().any(|n| &**n == v);
    let parts = linearize(raw_logp, &in_group, is_param)?;
    let support =
        model
            .data_var(&vars[0])
            .map(|d| d.support.clone())
            .ok_or(Blocker::NoDistribution {
                var: vars[0].clone(),
            })?;
    let x: Vec<Expr> = vars.iter().map(|v| Expr::Var(v.clone())).collect();
    let has_param = |e: &Expr| e.free_vars().iter().any(|v| is_param(v));
    let stats_in_model: Vec<&Expr> = parts
        .iter()
        .filter(|(m, c)| !m.is_one() && has_param(c))
        .map(|(m, _)| m)
        .collect();
    let mut tried = Vec::new();
    let mut candidates: Vec<&NaturalFamily> = NATURAL_FAMILIES
        .iter()
        .filter(|f| (f.support)(&support, vars.len()))
        .collect();
    candidates.sort_by_key(|f| (f.stats)(&x).len());
    for fam in candidates {
        tried.push(fam.name);
        let stats = (fam.stats)(&x);
        if !stats_in_model.iter().all(|m| stats.contains(m)) {
            continue;
        }
        // Natural parameters: coefficients of the family's statistics.
        let eta: Vec<Expr> = stats
            .iter()
            .map(|t| parts.get(t).cloned().unwrap_or_else(Expr::zero))
            .collect();
        // What is left (not a statistic, not constant in x) must be log h.
        let base: Expr = Expr::add(
            parts
                .iter()
                .filter(|(m, _)| !m.is_one() && !stats.contains(m))
                .map(|(m, c)| Expr::mul2(c.clone(), m.clone()))
                .collect(),
        );
        if has_param(&base) {
            continue;
        }
        let base_diff = Expr::sub(base.clone(), (fam.log_base)(&x));
        let base_matches = base_diff.expand().free_vars().iter().all(|v| !in_group(v));
        if !base_matches {
            continue;
        }
        let placeholders: Vec<Expr> = (0..stats.len())
            .map(|k| Expr::var(&format!("__eta{k}")))
            .collect();
        let a_nat = (fam.log_partition)(&placeholders);
        let at_theta = |e: &Expr| {
            e.substitute(&|v| {
                v.strip_prefix("__eta")
                    .and_then(|k| k.parse::<usize>().ok())
                    .map(|k| eta[k].clone())
            })
        };
        let grad: Vec<Expr> = placeholders
            .iter()
            .map(|p| diff(&a_nat, &p.to_string()))
            .collect();
        let mean: Vec<Expr> = grad.iter().map(|g| tidy(&at_theta(g))).collect();
        let cov: Vec<Vec<Expr>> = grad
            .iter()
            .map(|g| {
                placeholders
                    .iter()
                    .map(|p| tidy(&at_theta(&diff(g, &p.to_string()))))
                    .collect()
            })
            .collect();
        return Ok(DataGroup {
            family: fam.name,
            vars: vars.to_vec(),
            stats,
            natural: eta.clone(),
            log_partition: tidy(&at_theta(&a_nat)),
            log_base: (fam.log_base)(&x),
            mean,
            cov,
            binary: support.is_binary(),
            depends_on: BTreeSet::new(),
        });
    }
    let stats_text: Vec<String> = stats_in_model
        .iter()
        .map(|m| crate::render::text::render(m, &Default::default()))
        .collect();
    Err(Blocker::RawData {
        var: vars[0].clone(),
        reason: format!(
            "has sufficient statistics ({}) on support {} that match no library family (tried {})",
            stats_text.join(", "),
            support.label(),
            if tried.is_empty() {
                "none with this support".to_string()
            } else {
                tried.join(", ")
            }
        ),
    })
}

fn tidy(e: &Expr) -> Expr {
    super::derive::tidy(&cancel(e))
}
