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
    let groups = crate::structure::groups::independent_groups(model, &raw_logp, raw_data);
    // The chain rule in one order, the order of declaration: the last
    // group's density given all earlier data is matched first and taken
    // out of the joint; what is left is the log-density of the earlier
    // data (its normaliser A(η) brought in), matched in turn. A group whose
    // natural parameters hold earlier data is a conditional family, and
    // its moments are integrated before that data's (`order_groups`).
    //
    // A group that matches no family is read by the normaliser identity
    // (`super::normaliser`): its η·T and log h are taken out now, and its
    // −A(θ) is what is left once every other group is taken out. Several
    // such groups would share that one remainder, so they are read
    // together, as one joint exponential family.
    let mut rest = raw_logp;
    let mut out: Vec<Option<DataGroup>> = Vec::with_capacity(groups.len());
    let mut pending: Option<(normaliser::Reading, Blocker, usize, Vec<Name>)> = None;
    let mut seen = Seen::default();
    for g in groups.iter().rev() {
        // Only the terms that hold the group's data are matched; the others
        // (other groups' terms, parameter-only terms) stay as they are, so
        // one group's match costs its own terms and K items cost K matches
        // of one item, not K passes over the whole density. A group with
        // the structure of one already matched (K items of one test) is not
        // matched again: the earlier result is renamed ([`Seen`]).
        let (own, others) = own_terms(&rest, g);
        let with_others = |marginal: Expr| {
            let mut sum = vec![marginal];
            sum.extend(others.iter().cloned());
            Expr::add(sum)
        };
        match seen.matched(model, &own, g, is_param)? {
            Matched::Family(mut group, marginal) => {
                let marginal = with_others(marginal);
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
                let marginal = with_others(marginal);
                // Several such groups share the one remainder: they are
                // read as one joint density (independent groups: T and η
                // of both, one normaliser), placed where the earliest is.
                pending = Some(match pending {
                    None => (reading, blocker, out.len(), Vec::new()),
                    Some((later, _, _, mut with)) => {
                        with.splice(0..0, later.vars().iter().cloned());
                        (reading.join(later), blocker, out.len(), with)
                    }
                });
                rest = marginal;
                out.push(None);
            }
        }
    }
    if let Some((reading, blocker, at, with)) = pending {
        // A joint reading's refusal names the other data read with it.
        let blocker = match blocker {
            Blocker::RawData { var, reason } if !with.is_empty() => {
                let names: Vec<String> = with.iter().map(|v| format!("`{v}`")).collect();
                Blocker::RawData {
                    var,
                    reason: format!(
                        "{reason}; it is read together with {}, which no family matches \
                         either (one remainder holds both normalisers)",
                        names.join(", ")
                    ),
                }
            }
            other => other,
        };
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

/// The top-level terms of `logp` that hold one of `vars` (as one sum),
/// and the other terms.
fn own_terms(logp: &Expr, vars: &[Name]) -> (Expr, Vec<Expr>) {
    let terms = match logp {
        Expr::Add(ts) => &ts[..],
        other => std::slice::from_ref(other),
    };
    let (own, others): (Vec<&Expr>, Vec<&Expr>) =
        terms.iter().partition(|t| t.any_var(&|v| vars.contains(v)));
    (
        Expr::add(own.into_iter().cloned().collect()),
        others.into_iter().cloned().collect(),
    )
}

/// The groups matched so far, by structure: a group's terms with its data
/// and every other name replaced by a placeholder (`__x0`, … for its data
/// in order, `__p0`, … for parameters, `__v0`, … for anything else, in
/// order of first appearance), with its supports. Two groups with equal
/// keys are the same density up to names, so the second's match is the
/// first's renamed. Only library-family matches are kept (a group the
/// family table does not match goes to the normaliser identity, once per
/// density); groups whose supports name other variables are always
/// matched afresh.
#[derive(Default)]
struct Seen {
    /// Key → the first group of that structure.
    matched: BTreeMap<String, FirstMatch>,
}

/// The first group of a structure: its names with their placeholders, its
/// library-family group and its marginal.
type FirstMatch = (Vec<(Name, Name)>, DataGroup, Expr);

impl Seen {
    fn matched(
        &mut self,
        model: &Model,
        own: &Expr,
        vars: &[Name],
        is_param: &dyn Fn(&str) -> bool,
    ) -> Result<Matched, Blocker> {
        let Some((key, names)) = structure_key(model, own, vars, is_param) else {
            return match_group(model, own, vars, is_param);
        };
        if let Some((first, group, marginal)) = self.matched.get(&key) {
            // first: real name of the first group → placeholder; names:
            // this group's real name → placeholder.
            let back: BTreeMap<&str, &Name> = names.iter().map(|(n, c)| (&**c, n)).collect();
            let to_this: BTreeMap<&str, Name> = first
                .iter()
                .filter_map(|(n, c)| back.get(&**c).map(|m| (&**n, (*m).clone())))
                .collect();
            let rename = |e: &Expr| e.substitute(&|v| to_this.get(v).map(|n| Expr::Var(n.clone())));
            let group = DataGroup {
                family: group.family,
                vars: group
                    .vars
                    .iter()
                    .map(|v| to_this.get(&**v).cloned().unwrap_or_else(|| v.clone()))
                    .collect(),
                stats: group.stats.iter().map(rename).collect(),
                natural: group.natural.iter().map(rename).collect(),
                log_partition: rename(&group.log_partition),
                log_base: rename(&group.log_base),
                mean: group.mean.iter().map(rename).collect(),
                cov: group
                    .cov
                    .iter()
                    .map(|row| row.iter().map(rename).collect())
                    .collect(),
                binary: group.binary,
                depends_on: BTreeSet::new(),
            };
            return Ok(Matched::Family(group, rename(marginal)));
        }
        let matched = match_group(model, own, vars, is_param)?;
        if let Matched::Family(group, marginal) = &matched {
            self.matched
                .insert(key, (names, group.clone(), marginal.clone()));
        }
        Ok(matched)
    }
}

/// A group's structure key and its names → placeholders (see [`Seen`]);
/// `None` when a support names a variable.
fn structure_key(
    model: &Model,
    own: &Expr,
    vars: &[Name],
    is_param: &dyn Fn(&str) -> bool,
) -> Option<(String, Vec<(Name, Name)>)> {
    let mut supports = Vec::with_capacity(vars.len());
    for v in vars {
        let support = &model.data_var(v)?.support;
        if !support.bound_vars().is_empty() {
            return None;
        }
        supports.push(format!("{support:?}"));
    }
    let mut names: Vec<(Name, Name)> = vars
        .iter()
        .enumerate()
        .map(|(i, v)| (v.clone(), Name::from(format!("__x{i}").as_str())))
        .collect();
    let (mut params, mut others) = (0usize, 0usize);
    let mut order = Vec::new();
    first_appearance(own, &mut order);
    for v in order {
        if names.iter().any(|(n, _)| *n == v) {
            continue;
        }
        let placeholder = if is_param(&v) {
            params += 1;
            format!("__p{}", params - 1)
        } else {
            others += 1;
            format!("__v{}", others - 1)
        };
        names.push((v, Name::from(placeholder.as_str())));
    }
    let map: BTreeMap<&str, &Name> = names.iter().map(|(n, c)| (&**n, c)).collect();
    let canonical = own.substitute(&|v| map.get(v).map(|c| Expr::Var((*c).clone())));
    Some((format!("{canonical:?}|{}", supports.join(";")), names))
}

/// Every variable of `e` once, in the order a walk first meets it.
fn first_appearance(e: &Expr, out: &mut Vec<Name>) {
    match e {
        Expr::Var(v) => {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        Expr::Pow(b, x) => {
            first_appearance(b, out);
            first_appearance(x, out);
        }
        _ => e.children().iter().for_each(|c| first_appearance(c, out)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every group of `src`'s raw density, matched afresh and through one
    /// `Seen`: the same groups and marginals, and how many were matched.
    fn both_ways(src: &str) -> (Vec<String>, Vec<String>, usize) {
        let model = crate::load(src, "m").expect("model");
        let params: BTreeSet<Name> = model.param_names().into_iter().collect();
        let is_param = |v: &str| params.contains(v);
        let data: Vec<Name> = model.data.iter().map(|d| d.name.clone()).collect();
        let groups = crate::structure::groups::independent_groups(&model, &model.logp, data);
        let mut seen = Seen::default();
        let (mut fresh, mut memo) = (Vec::new(), Vec::new());
        for g in &groups {
            let (own, _) = own_terms(&model.logp, g);
            let show = |m: Matched| match m {
                Matched::Family(group, marginal) => format!("{group:?} {marginal:?}"),
                Matched::Pending(..) => "pending".to_string(),
            };
            fresh.push(show(
                match_group(&model, &own, g, &is_param).expect("match"),
            ));
            memo.push(show(
                seen.matched(&model, &own, g, &is_param).expect("match"),
            ));
        }
        (fresh, memo, seen.matched.len())
    }

    #[test]
    fn items_of_one_structure_are_matched_once_and_renamed() {
        let (fresh, memo, distinct) = both_ways(
            "param a : real\nparam b[1..6] : real\ndata y[1..6] : {0, 1}\n\
             for k in 1..6 { logp += y[k]*(a - b[k]) - log(1 + exp(a - b[k])) }\n",
        );
        assert_eq!(distinct, 1);
        assert_eq!(fresh.len(), 6);
        assert_eq!(fresh, memo);
    }

    #[test]
    fn different_structures_are_matched_apart() {
        // A Bernoulli item and a Poisson count: two structures, two matches.
        let (fresh, memo, distinct) = both_ways(
            "param a : real\nparam b : real\ndata y : {0, 1}\ndata k : count\n\
             logp += y*a - log(1 + exp(a))\nlogp += k*b - exp(b) - lgamma(k + 1)\n",
        );
        assert_eq!(distinct, 2);
        assert_eq!(fresh, memo);
    }
}
