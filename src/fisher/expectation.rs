//! Exact expectations over the data (tier 1).
//!
//! Every data variable (or vector of them) drawn with `~` from an
//! exponential family forms a [`DataGroup`] that knows its sufficient
//! statistics T and their moments E\[T\], Cov\[T\] in the user's own argument
//! expressions. [`expectation`] linearizes an expression in each group's
//! data and replaces every monomial by its moment; groups whose arguments
//! involve other data (conditional models) are integrated first.

use crate::families::{self, DataKind};
use crate::ir::expr::{Expr, Func, Name};
use crate::ir::model::{Model, Support, TermSource};
use crate::structure::linearize::{NotSeparable, linearize};
use std::collections::BTreeSet;

/// Why no closed-form expectation exists (or was found).
#[derive(Clone, Debug, PartialEq)]
pub enum Blocker {
    /// The family is not an exponential family in the way it is used.
    NotExpFamily {
        /// Family name.
        family: &'static str,
        /// Why.
        reason: String,
    },
    /// Data and parameters are tangled inside a function.
    NotSeparable {
        /// The offending subexpression.
        culprit: Expr,
    },
    /// A monomial of the data whose moment the family does not provide.
    UnknownMoment {
        /// The monomial.
        monomial: Expr,
        /// Family name.
        family: &'static str,
    },
    /// Data given by a raw `logp +=` that matches no library family.
    RawData {
        /// The data variable.
        var: Name,
        /// What was tried.
        reason: String,
    },
    /// Data that has both a `~` distribution and extra `logp +=` terms.
    Mixed {
        /// The data variable.
        var: Name,
    },
    /// A data variable with no distribution at all.
    NoDistribution {
        /// The data variable.
        var: Name,
    },
    /// Groups whose arguments depend on each other's data in a cycle.
    Cycle,
    /// −E\[Hessian\] and Σ Jᵀ Cov\[T\] J differ: a wrong table entry or an
    /// engine bug. Reported, never resolved silently.
    FormulasDisagree {
        /// The entry (row, column).
        entry: (usize, usize),
        /// The two values at a typical point.
        values: (f64, f64),
        /// Does the model have raw `logp +=` terms? Then the likely cause
        /// is the user's: a density that is not normalised.
        raw: bool,
    },
    /// The expectation left a data variable in F (a group's moments depend
    /// on data that no group integrates out). The invariant of
    /// `fisher::derive` refuses such an F: it is not a Fisher information.
    DataInFisher {
        /// The data variable (or other non-parameter) left in F.
        var: Name,
        /// The entry (row, column) where it was found.
        entry: (usize, usize),
    },
    /// −E\[Hessian\] and Σ Jᵀ Cov\[T\] J could not be evaluated at any typical
    /// point, so their agreement was not checked.
    Unchecked,
    /// The support of a data variable depends on a parameter: the
    /// regularity conditions fail and no Fisher information is reported.
    IrregularSupport {
        /// The data variable.
        var: Name,
        /// The parameter in its support.
        param: Name,
    },
    /// The Hessian is free of data, so F = −H would hold for a normalised
    /// density; the numeric route found this one not normalised.
    NotNormalised {
        /// What the numeric route found, and where.
        detail: String,
    },
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let style = crate::ir::text::TextStyle::ascii();
        let show = |e: &Expr| crate::ir::text::render(e, &style);
        match self {
            Blocker::NotExpFamily { family, reason } => write!(f, "{family}: {reason}"),
            Blocker::NotSeparable { culprit } => write!(
                f,
                "data and parameters cannot be separated in `{}`, so the model is not an exponential family in these parameters",
                show(culprit)
            ),
            Blocker::UnknownMoment { monomial, family } => {
                write!(
                    f,
                    "the moment E[{}] under {family} is not in the family library",
                    show(monomial)
                )
            }
            Blocker::RawData { var, reason } => {
                write!(f, "the raw log-density of `{var}` {reason}")
            }
            Blocker::Mixed { var } => write!(
                f,
                "`{var}` has a `~` distribution and extra `logp +=` terms, so its density is not the library family's"
            ),
            Blocker::NoDistribution { var } => write!(f, "`{var}` has no distribution"),
            Blocker::Cycle => write!(
                f,
                "the arguments of two distributions depend on each other's data"
            ),
            Blocker::FormulasDisagree { entry, values, raw } => {
                write!(
                    f,
                    "the two Fisher formulas disagree: entry ({}, {}) of -E[Hessian] is {} but sum J^T Cov[T] J gives {}",
                    entry.0 + 1,
                    entry.1 + 1,
                    values.0,
                    values.1
                )?;
                if *raw {
                    write!(
                        f,
                        "; the raw log-density's normalising terms do not match the family it was matched to: is it normalised? (`fimkit check` tests that p integrates to 1)"
                    )
                } else {
                    write!(
                        f,
                        "; this is an internal inconsistency, please report this model"
                    )
                }
            }
            Blocker::DataInFisher { var, entry } => write!(
                f,
                "the expectation over the data left `{var}` in entry ({}, {}) of -E[Hessian] \
                 (the moments of one data group depend on data that no group integrates out), \
                 so it is not a Fisher information and no closed form is reported",
                entry.0 + 1,
                entry.1 + 1
            ),
            Blocker::Unchecked => write!(
                f,
                "-E[Hessian] and sum J^T Cov[T] J could not be evaluated at any typical point, \
                 so their agreement is unchecked and no closed form is reported"
            ),
            Blocker::NotNormalised { detail } => write!(
                f,
                "the Hessian is free of data, so F = -H would hold for a normalised density, \
                 but this one is not: {detail}"
            ),
            Blocker::IrregularSupport { var, param } => write!(
                f,
                "the support of `{var}` depends on the parameter `{param}`: the regularity \
                 conditions fail (the Bartlett identities do not hold), so the Fisher \
                 information is not reported"
            ),
        }
    }
}

impl From<NotSeparable> for Blocker {
    fn from(e: NotSeparable) -> Blocker {
        Blocker::NotSeparable { culprit: e.culprit }
    }
}

/// Data variables with a known exponential-family distribution.
#[derive(Clone, Debug)]
pub struct DataGroup {
    /// Family name.
    pub family: &'static str,
    /// The data variables (one, or a vector's components).
    pub vars: Vec<Name>,
    /// Sufficient statistics T(x).
    pub stats: Vec<Expr>,
    /// Natural parameters η as functions of the model's parameters.
    pub natural: Vec<Expr>,
    /// Log-partition A in the model's parameters.
    pub log_partition: Expr,
    /// Log base measure.
    pub log_base: Expr,
    /// E\[T\].
    pub mean: Vec<Expr>,
    /// Cov\[T\].
    pub cov: Vec<Vec<Expr>>,
    /// Data are 0/1 (powers collapse).
    pub binary: bool,
    /// Data variables of other groups that the arguments use.
    pub depends_on: BTreeSet<Name>,
}

/// The exponential-family structure of every data variable of a model.
pub fn data_groups(
    model: &Model,
    is_param: &dyn Fn(&str) -> bool,
) -> Result<Vec<DataGroup>, Blocker> {
    let mut groups = Vec::new();
    let mut covered: BTreeSet<Name> = BTreeSet::new();
    let data_names: BTreeSet<Name> = model.data.iter().map(|d| d.name.clone()).collect();
    for term in &model.terms {
        let TermSource::Family { family, data, args } = &term.source else {
            continue;
        };
        let fam = families::lookup(family).expect("resolver accepted the family");
        let Some(ef) = &fam.ef else {
            return Err(Blocker::NotExpFamily {
                family: fam.name,
                reason: fam
                    .not_ef_reason
                    .unwrap_or("not an exponential family")
                    .to_string(),
            });
        };
        for &i in ef.fixed {
            let free = args[i]
                .exprs()
                .iter()
                .all(|e| !e.free_vars().iter().any(|v| is_param(v)));
            if !free {
                return Err(Blocker::NotExpFamily {
                    family: fam.name,
                    reason: fam
                        .not_ef_reason
                        .unwrap_or("not an exponential family when this argument is unknown")
                        .to_string(),
                });
            }
        }
        if let Some(crate::ir::model::Arg::Vector(probs)) = args
            .iter()
            .find(|a| matches!(a, crate::ir::model::Arg::Vector(_)))
            && matches!(fam.name, "categorical" | "multinomial")
        {
            let total = crate::symbolic::cancel(&Expr::add(probs.clone()));
            if !total.is_one() {
                return Err(Blocker::NotExpFamily {
                    family: fam.name,
                    reason: format!(
                        "its probabilities sum to {}, not to 1; give the last one as 1 minus the others",
                        crate::ir::text::render(&total, &Default::default())
                    ),
                });
            }
        }
        let x: Vec<Expr> = data.iter().map(|n| Expr::Var(n.clone())).collect();
        let depends_on: BTreeSet<Name> = args
            .iter()
            .flat_map(|a| {
                a.exprs()
                    .into_iter()
                    .flat_map(Expr::free_vars)
                    .collect::<Vec<_>>()
            })
            .filter(|v| data_names.contains(v) && !data.contains(v))
            .collect();
        let binary = fam.data == DataKind::Binary
            || data
                .iter()
                .all(|n| model.data_var(n).is_some_and(|d| d.support.is_binary()));
        covered.extend(data.iter().cloned());
        groups.push(DataGroup {
            family: fam.name,
            vars: data.clone(),
            stats: ef.stats_for(&x, args),
            natural: (ef.natural)(args),
            log_partition: (ef.log_partition)(args),
            log_base: ef.log_base_for(&x, args),
            mean: (ef.mean)(args),
            cov: (ef.cov)(args),
            binary,
            depends_on,
        });
    }
    // Data described only by raw `logp +=` terms: match a library family.
    let raw = super::raw::raw_groups(model, is_param, &covered)?;
    covered.extend(raw.iter().flat_map(|g| g.vars.iter().cloned()));
    groups.extend(raw);
    if let Some(d) = model
        .data
        .iter()
        .find(|d| !covered.contains(&d.name) && !matches!(d.support, Support::Simplex { .. }))
    {
        // Data used only as a bound of another variable's support is fine.
        let used_in_logp = model.logp.contains_var(&d.name);
        if used_in_logp {
            return Err(Blocker::NoDistribution {
                var: d.name.clone(),
            });
        }
    }
    order_groups(groups)
}

/// Order groups so that a group is integrated before the groups whose data
/// its arguments use (E over x2 | x1 first, then over x1).
fn order_groups(mut groups: Vec<DataGroup>) -> Result<Vec<DataGroup>, Blocker> {
    let mut ordered = Vec::with_capacity(groups.len());
    while !groups.is_empty() {
        // A group nobody else still depends on can be integrated now.
        let pick = (0..groups.len()).rev().find(|&i| {
            !groups
                .iter()
                .enumerate()
                .any(|(j, g)| j != i && groups[i].vars.iter().any(|v| g.depends_on.contains(v)))
        });
        match pick {
            Some(i) => ordered.push(groups.remove(i)),
            None => return Err(Blocker::Cycle),
        }
    }
    Ok(ordered)
}

/// E over all data of `e`, exactly. `is_param` names the variables that
/// are parameters (everything else that is not data is a constant or a
/// covariate).
pub fn expectation(
    e: &Expr,
    groups: &[DataGroup],
    is_param: &dyn Fn(&str) -> bool,
) -> Result<Expr, Blocker> {
    // A group whose data the expression does not hold leaves it as it is:
    // skipping it keeps a model of K independent groups at K entries' work
    // per group, not K² (issue 13: 1,000 independent means).
    let mut current = e.clone();
    let mut vars = current.free_vars();
    for g in groups {
        if vars.is_empty() {
            break;
        }
        if !g.vars.iter().any(|v| vars.binary_search(v).is_ok()) {
            continue;
        }
        current = group_expectation(&current, g, is_param)?;
        vars = current.free_vars();
    }
    Ok(current)
}

/// E over one group's data, the others held fixed.
fn group_expectation(
    e: &Expr,
    g: &DataGroup,
    is_param: &dyn Fn(&str) -> bool,
) -> Result<Expr, Blocker> {
    let in_group = |v: &str| g.vars.iter().any(|n| &**n == v);
    let parts = linearize(e, &in_group, is_param)?;
    let mut terms = Vec::with_capacity(parts.len());
    for (monomial, coeff) in parts {
        let m = normalize_monomial(&monomial, g);
        terms.push(Expr::mul2(coeff, moment(&m, g)?));
    }
    Ok(Expr::add(terms))
}

/// Reduce a monomial using the support: x^k = x for 0/1 data, products of
/// indicators of one categorical variable.
fn normalize_monomial(m: &Expr, g: &DataGroup) -> Expr {
    m.map_bottom_up(&mut |e| match &e {
        Expr::Pow(b, k)
            if g.binary && matches!(**b, Expr::Var(_)) && k.as_int().is_some_and(|k| k > 0) =>
        {
            (**b).clone()
        }
        Expr::Pow(b, k)
            if matches!(**b, Expr::Call(Func::Indicator, _))
                && k.as_int().is_some_and(|k| k > 0) =>
        {
            (**b).clone()
        }
        Expr::Mul(fs) => {
            let inds: Vec<&Expr> = fs
                .iter()
                .filter(|f| matches!(f, Expr::Call(Func::Indicator, _)))
                .collect();
            let distinct = inds.windows(2).any(|w| match (w[0], w[1]) {
                (Expr::Call(_, a), Expr::Call(_, b)) => a[0] == b[0] && a[1] != b[1],
                _ => false,
            });
            if distinct { Expr::zero() } else { e }
        }
        _ => e,
    })
}

/// E[m] for a monomial of the group's data.
fn moment(m: &Expr, g: &DataGroup) -> Result<Expr, Blocker> {
    if m.is_one() || m.is_zero() {
        return Ok(m.clone());
    }
    if let Some(k) = g.stats.iter().position(|t| t == m) {
        return Ok(g.mean[k].clone());
    }
    for i in 0..g.stats.len() {
        for j in i..g.stats.len() {
            if Expr::mul2(g.stats[i].clone(), g.stats[j].clone()) == *m {
                return Ok(Expr::add2(
                    g.cov[i][j].clone(),
                    Expr::mul2(g.mean[i].clone(), g.mean[j].clone()),
                ));
            }
        }
    }
    Err(Blocker::UnknownMoment {
        monomial: m.clone(),
        family: g.family,
    })
}
