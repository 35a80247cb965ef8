//! Raw log-densities (`logp += ...`) matched to a family of the one
//! family table, [`crate::families::FAMILIES`].
//!
//! The raw terms are linearized in the data: monomials whose coefficients
//! involve parameters are sufficient statistics T with natural parameters
//! η(θ) (their coefficients); parameter-free monomials form log h(x). The
//! families with a [`crate::families::Recognise`] are tried in its stated
//! priority ([`crate::families::recognisable`]); one matches when the
//! data have its support, its known quantities κ are found (a binomial's
//! n and a Pareto's scale in the support, a Weibull's shape, a Laplace's
//! location and a negative binomial's r in the monomials, a hand-written
//! multinomial's total in its chained supports), and its own statistics
//! T(x; κ) cover the density's on the same base measure h(x; κ) (up to a
//! constant). This module holds no family of its own: only the matching.
//! Moments then follow from the family's log-partition in natural
//! parameters, A(η; κ): E[T] = ∇A(η), Cov[T] = ∇²A(η), evaluated at η(θ).
//! A match names the family in the report, but F does not need one: a
//! group no family matches is read by the normaliser identity
//! (`super::normaliser`). Several data variables are factored by the
//! chain rule in declaration order: the last group's family given the
//! earlier data (its η may hold that data) is matched and taken out of
//! the joint with its normaliser A(η); the rest is the earlier data's
//! log-density.

use super::expectation::{Blocker, DataGroup};
use super::normaliser;
use super::positive::split_positive;
use crate::families::{self, ExpFamily, RawView, Recognise};
use crate::ir::expr::{Expr, Func, Name};
use crate::ir::model::{Model, Support, TermSource};
use crate::structure::linearize::{Linear, linearize};
use crate::symbolic::simplify::Assumptions;
use crate::symbolic::{cancel, diff};
use std::collections::{BTreeMap, BTreeSet};

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
    let facts = Assumptions::from_model(model);
    let raw_logp = split_positive(&Expr::add(raw), &facts);
    let data_names: BTreeSet<Name> = model.data.iter().map(|d| d.name.clone()).collect();
    let raw_data: Vec<Name> = model
        .data
        .iter()
        .map(|d| d.name.clone())
        .filter(|v| raw_logp.contains_var(v))
        .collect();
    if let Some(v) = raw_data.iter().find(|v| covered.contains(*v)) {
        return Err(Blocker::Mixed { var: v.clone() });
    }
    let groups = independent_groups(model, &raw_logp, raw_data);
    // The chain rule in one order, the order of declaration: the last
    // group's density given all earlier data is matched first and taken
    // out of the joint; what is left is the log-density of the earlier
    // data (its normaliser A(η) brought in), matched in turn. A group whose
    // natural parameters hold earlier data is a conditional family, and
    // its moments are integrated before that data's (`order_groups`).
    //
    // A group that matches no family is read by the normaliser identity
    // (`super::normaliser`): its η·T and log h are taken out now, and its
    // −A(θ) is what is left once every other group is taken out. One such
    // group at most: two would share one remainder.
    let mut rest = raw_logp;
    let mut out: Vec<Option<DataGroup>> = Vec::with_capacity(groups.len());
    let mut pending: Option<(normaliser::Reading, Blocker, usize)> = None;
    for g in groups.iter().rev() {
        match match_group(model, &rest, g, is_param)? {
            Matched::Family(mut group, marginal) => {
                group.depends_on = group
                    .natural
                    .iter()
                    .flat_map(Expr::free_vars)
                    .filter(|v| data_names.contains(v) && !g.contains(v))
                    .collect();
                rest = marginal;
                out.push(Some(group));
            }
            Matched::Pending(reading, marginal, blocker) => {
                if let Some((_, first, _)) = pending {
                    return Err(not_normaliser(
                        first,
                        "another group of data matches no library family either, and the \
                         parameter-only terms cannot be shared out between their normalisers",
                    ));
                }
                pending = Some((reading, blocker, out.len()));
                rest = marginal;
                out.push(None);
            }
        }
    }
    if let Some((reading, blocker, at)) = pending {
        if let Some(v) = rest
            .free_vars()
            .into_iter()
            .find(|v| data_names.contains(v))
        {
            return Err(not_normaliser(
                blocker,
                &format!("the terms left for its normaliser hold the data `{v}`"),
            ));
        }
        let group = normaliser::complete(model, reading, Expr::neg(rest))
            .map_err(|why| not_normaliser(blocker, &why))?;
        out[at] = Some(group);
    }
    out.reverse();
    Ok(out.into_iter().flatten().collect())
}

/// The raw data in groups, matched one at a time (issue 12 item 7).
/// Distinct declarations are distinct groups (the chain rule relates
/// them: x2 given x1, then x1), unless one's support refers to the other
/// (a multinomial written by hand). The components of one indexed
/// declaration stay together only where a term of the log-density's
/// top-level sum holds two of them: K items that share no term (a Rasch
/// test, repeated measurements) are K groups, each matched on its own.
/// Groups keep the order of their first variable's declaration.
fn independent_groups(model: &Model, raw_logp: &Expr, raw_data: Vec<Name>) -> Vec<Vec<Name>> {
    /// What joins two variables: a term holding both (components of one
    /// declaration only), a support that names the other, one simplex.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Term(usize, String),
        Support(usize),
        Simplex(String),
    }
    let index: BTreeMap<&Name, usize> = raw_data.iter().enumerate().map(|(i, v)| (v, i)).collect();
    let base = |v: &Name| v.split('[').next().unwrap_or(v).to_string();
    let mut keys: Vec<Vec<Key>> = raw_data.iter().map(|_| Vec::new()).collect();
    let terms = match raw_logp {
        Expr::Add(ts) => ts.as_slice(),
        other => std::slice::from_ref(other),
    };
    for (t, term) in terms.iter().enumerate() {
        for v in term.free_vars() {
            if let Some(&i) = index.get(&v) {
                keys[i].push(Key::Term(t, base(&v)));
            }
        }
    }
    for (i, v) in raw_data.iter().enumerate() {
        let Some(d) = model.data_var(v) else {
            continue;
        };
        for b in d.support.bound_vars() {
            if let Some(&j) = index.get(&b) {
                keys[i].push(Key::Support(i));
                keys[j].push(Key::Support(i));
            }
        }
        if matches!(d.support, Support::Simplex { .. }) {
            keys[i].push(Key::Simplex(base(v)));
        }
    }
    crate::partition::components(&keys)
        .into_iter()
        .map(|c| c.into_iter().map(|i| raw_data[i].clone()).collect())
        .collect()
}

/// What [`match_group`] found for one group of data.
enum Matched {
    /// A library family, and the log-density with it taken out.
    Family(DataGroup, Expr),
    /// No family: the group read for the normaliser identity, the
    /// log-density without its η·T and log h, and why no family matched.
    Pending(normaliser::Reading, Expr, Blocker),
}

/// The family table's refusal with the identity's reason added.
fn not_normaliser(blocker: Blocker, why: &str) -> Blocker {
    match blocker {
        Blocker::RawData { var, reason } => Blocker::RawData {
            var,
            reason: format!("{reason}, and the normaliser identity does not apply: {why}"),
        },
        other => other,
    }
}

/// The family of `vars` in `raw_logp` (other data held fixed), and what is
/// left of `raw_logp` once that family's log-density is taken out; or,
/// when no family matches, the group as the normaliser identity reads it.
fn match_group(
    model: &Model,
    raw_logp: &Expr,
    vars: &[Name],
    is_param: &dyn Fn(&str) -> bool,
) -> Result<Matched, Blocker> {
    let in_group = |v: &str| vars.iter().any(|n| &**n == v);
    let has_param = |e: &Expr| e.free_vars().iter().any(|v| is_param(v));
    // A coefficient whose parameters cancel (the x1² of a marginal left by
    // the chain rule, −1/(2(1 − ρ²)) + ρ²/(2(1 − ρ²)) = −1/2) is a constant.
    let parts: Linear = linearize(raw_logp, &in_group, is_param)?
        .into_iter()
        .map(|(m, c)| {
            if has_param(&c) {
                let t = tidy(&c);
                if !has_param(&t) {
                    return (m, t);
                }
            }
            (m, c)
        })
        .collect();
    let supports: Vec<Support> = vars
        .iter()
        .map(|v| {
            model
                .data_var(v)
                .map(|d| d.support.clone())
                .ok_or(Blocker::NoDistribution { var: v.clone() })
        })
        .collect::<Result<_, _>>()?;
    let x: Vec<Expr> = vars.iter().map(|v| Expr::Var(v.clone())).collect();
    let view = RawView {
        x: &x,
        supports: &supports,
        monomials: parts.keys().collect(),
    };
    let stats_in_model: Vec<&Expr> = parts
        .iter()
        .filter(|(m, c)| !m.is_one() && has_param(c))
        .map(|(m, _)| m)
        .collect();
    let mut tried = Vec::new();
    for (fam, ef, recognise) in families::recognisable() {
        for known in recognise.discover(&view) {
            tried.push(fam.name);
            if let Some(g) = try_family(
                (fam.name, ef, recognise),
                &known,
                &x,
                vars,
                &parts,
                &stats_in_model,
                &in_group,
                &has_param,
                &supports,
            ) {
                return Ok(Matched::Family(g.0, g.1));
            }
        }
    }
    let style = crate::ir::text::TextStyle::ascii();
    let stats_text: Vec<String> = stats_in_model
        .iter()
        .map(|m| crate::ir::text::render(m, &style))
        .collect();
    tried.dedup();
    let blocker = Blocker::RawData {
        var: vars[0].clone(),
        reason: format!(
            "has sufficient statistics ({}) on support {} that match no library family (tried {})",
            stats_text.join(", "),
            supports[0].label(),
            if tried.is_empty() {
                "none with this support".to_string()
            } else {
                tried.join(", ")
            }
        ),
    };
    let data_names: BTreeSet<&str> = model.data.iter().map(|d| &*d.name).collect();
    let is_other_data = |v: &str| data_names.contains(v) && !in_group(v);
    match normaliser::read(&parts, vars, &supports, &has_param, &is_other_data) {
        Ok((reading, rest)) => Ok(Matched::Pending(reading, rest, blocker)),
        Err(why) => Err(not_normaliser(blocker, &why)),
    }
}

/// One match attempt: the data group, and the log-density with this
/// family's log-density taken out (`parts` without the group's data:
/// the constant part, less the base measure's constant, plus A(η)).
#[expect(
    clippy::too_many_arguments,
    reason = "one match attempt over the pieces of a linearization"
)]
fn try_family(
    (name, ef, recognise): (&'static str, &ExpFamily, &Recognise),
    known: &[Expr],
    x: &[Expr],
    vars: &[Name],
    parts: &Linear,
    stats_in_model: &[&Expr],
    in_group: &dyn Fn(&str) -> bool,
    has_param: &dyn Fn(&Expr) -> bool,
    supports: &[Support],
) -> Option<(DataGroup, Expr)> {
    // The family's statistics and base measure are written in its full
    // data: a multinomial written by hand implies its last count, whose
    // statistic is dropped and whose natural parameter is 0 in A(η).
    let full = recognise.complete(x, known);
    let implied = full.len() - x.len();
    let mut stats = (ef.stats)(&full, known);
    stats.truncate(stats.len().saturating_sub(implied));
    if !stats_in_model.iter().all(|m| stats.contains(m)) {
        return None;
    }
    // The family's own base measure may contain a statistic (log x for the
    // log-normal): linearize it too and compare part by part.
    let base_f = (ef.log_base)(&full, known);
    let base_parts = linearize(&base_f, in_group, &|_| false).ok()?;
    let base_coeff = |m: &Expr| base_parts.get(m).cloned().unwrap_or_else(Expr::zero);
    let eta: Vec<Expr> = stats
        .iter()
        .map(|t| {
            Expr::sub(
                parts.get(t).cloned().unwrap_or_else(Expr::zero),
                base_coeff(t),
            )
        })
        .collect();
    // What is left (not a statistic, not constant in x) must be log h.
    let mut leftover = Vec::new();
    for (m, c) in parts
        .iter()
        .filter(|(m, _)| !m.is_one() && !stats.contains(m))
    {
        if has_param(c) {
            return None;
        }
        leftover.push(Expr::mul2(c.clone(), m.clone()));
    }
    for (m, c) in base_parts
        .iter()
        .filter(|(m, _)| !m.is_one() && !stats.contains(m))
    {
        leftover.push(Expr::neg(Expr::mul2(c.clone(), m.clone())));
    }
    let difference = Expr::add(leftover);
    let expanded = split_logs(&difference.expand());
    if expanded.free_vars().iter().any(|v| in_group(v)) {
        return None;
    }
    let placeholders: Vec<Expr> = (0..stats.len())
        .map(|k| Expr::var(&format!("__eta{k}")))
        .collect();
    let mut eta_full = placeholders.clone();
    eta_full.extend(std::iter::repeat_n(Expr::zero(), implied));
    let a_nat = (ef.natural_log_partition)(&eta_full, known);
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
    // log1p(u) as the user writes it, log(1 + u), so that the normaliser
    // cancels against the user's own terms.
    let a_theta = at_theta(&a_nat).map_bottom_up(&mut |e| match &e {
        Expr::Call(Func::Log1p, a) => Expr::log(Expr::add2(Expr::one(), a[0].clone())),
        _ => e,
    });
    let constant = |l: &Linear| l.get(&Expr::one()).cloned().unwrap_or_else(Expr::zero);
    let rest = Expr::add(vec![
        constant(parts),
        Expr::neg(constant(&base_parts)),
        expanded,
        a_theta,
    ]);
    let group = DataGroup {
        family: name,
        vars: vars.to_vec(),
        stats,
        natural: eta.clone(),
        log_partition: tidy(&at_theta(&a_nat)),
        log_base: base_f,
        mean,
        cov,
        binary: supports.iter().all(Support::is_binary),
        depends_on: BTreeSet::new(),
    };
    Some((group, rest))
}

/// `lgamma` and `log` of sums differ syntactically from their pieces only
/// when written differently; this expands `log(c·u)` of numbers so base
/// measures written as `log(2πx³)/2` compare equal to `log(2π)/2 + ...`.
fn split_logs(e: &Expr) -> Expr {
    e.map_bottom_up(&mut |x| match &x {
        Expr::Call(Func::Log, a) => match &a[0] {
            Expr::Mul(fs)
                if fs.iter().all(|f| {
                    f.as_num().is_some_and(|r| r > &num_traits::Zero::zero())
                        || matches!(f, Expr::Const(_))
                }) =>
            {
                Expr::add(fs.iter().map(|f| Expr::log(f.clone())).collect())
            }
            _ => x,
        },
        _ => x,
    })
}

fn tidy(e: &Expr) -> Expr {
    crate::symbolic::tidy(&cancel(e))
}
