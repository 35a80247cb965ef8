//! How the data of a model are integrated: independent groups of data
//! variables, each with its own part of the log-density, and for each
//! variable its range (given the variables integrated before it).

use super::NumericError;
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Model, Support};
use std::collections::BTreeMap;

/// The range of one integrated variable.
#[derive(Clone, Debug)]
pub(crate) enum Range {
    /// An open interval; `None` is infinite.
    Continuous { lo: Option<Expr>, hi: Option<Expr> },
    /// Integers `lo..=hi` (`hi` `None`: unbounded).
    Integers { lo: Expr, hi: Option<Expr> },
    /// A finite set.
    Set(Vec<f64>),
}

/// One integrated variable.
#[derive(Clone, Debug)]
pub(crate) struct PlanVar {
    pub name: Name,
    /// Its slot in the row.
    pub slot: usize,
    pub range: Range,
    /// The slot that holds `hi − x` (the last component of a simplex,
    /// `1 − Σ` of the others), set from the quadrature's cancellation-free
    /// complement.
    pub complement: Option<usize>,
}

/// Data variables that are independent of every other group: the
/// log-density splits as `c(θ) + Σ_g log p_g(x_g; θ)`.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// Row layout: the group's data, then the model's covariates.
    pub slots: Vec<Name>,
    /// Integrated variables, in order (later ones may depend on earlier).
    pub vars: Vec<PlanVar>,
    /// The group's part of the log-density (constants substituted).
    pub logp: Expr,
}

/// The plan for a whole model.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub groups: Vec<Group>,
    /// The part of the log-density without data (zero when there is a
    /// group to carry it).
    pub constant: Expr,
}

fn addends(e: &Expr) -> Vec<Expr> {
    match e {
        Expr::Add(ts) => ts.to_vec(),
        other => vec![other.clone()],
    }
}

/// A support bound mentioning a parameter: the model is not regular
/// ([`NumericError::Irregular`]), or `None`.
pub fn irregular(model: &Model) -> Option<NumericError> {
    model
        .irregular_support()
        .map(|(d, param)| NumericError::Irregular {
            var: d.name.clone(),
            param,
            support: d.support.label(),
        })
}

fn find(parent: &mut [usize], i: usize) -> usize {
    let mut r = i;
    while parent[r] != r {
        r = parent[r];
    }
    let mut j = i;
    while parent[j] != r {
        let next = parent[j];
        parent[j] = r;
        j = next;
    }
    r
}

/// Split the model into independent groups of data.
pub(crate) fn plan(model: &Model) -> Result<Plan, NumericError> {
    if let Some(e) = irregular(model) {
        return Err(e);
    }
    let data: Vec<&crate::ir::model::DataVar> = model.data.iter().collect();
    let index: BTreeMap<Name, usize> = data
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.clone(), i))
        .collect();
    let n = data.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let union = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    };
    let logp = model.logp_numeric();
    let terms = addends(&logp);
    let mut constant = Vec::new();
    let mut term_vars: Vec<Vec<usize>> = Vec::new();
    for t in &terms {
        let vs: Vec<usize> = t
            .free_vars()
            .iter()
            .filter_map(|v| index.get(v).copied())
            .collect();
        for w in vs.windows(2) {
            union(&mut parent, w[0], w[1]);
        }
        term_vars.push(vs);
    }
    // Bounds that use other data, and simplex components, tie variables.
    let mut simplex_first: BTreeMap<Name, usize> = BTreeMap::new();
    for (i, d) in data.iter().enumerate() {
        for v in d.support.bound_vars() {
            if let Some(&j) = index.get(&v) {
                union(&mut parent, i, j);
            }
        }
        if let Support::Simplex { group, .. } = &d.support {
            match simplex_first.get(group) {
                Some(&j) => union(&mut parent, i, j),
                None => {
                    simplex_first.insert(group.clone(), i);
                }
            }
        }
    }
    for d in &data {
        if !logp.contains_var(&d.name) {
            return Err(NumericError::NoDensity(d.name.clone()));
        }
    }
    let roots: Vec<usize> = {
        let mut r: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
        r.sort_unstable();
        r.dedup();
        r
    };
    let covariates: Vec<Name> = model.covariates.iter().map(|c| c.name.clone()).collect();
    let mut groups = Vec::new();
    for root in roots {
        let members: Vec<usize> = (0..n).filter(|&i| find(&mut parent, i) == root).collect();
        let mut slots: Vec<Name> = members.iter().map(|&i| data[i].name.clone()).collect();
        slots.extend(covariates.iter().cloned());
        let slot_of = |name: &Name| slots.iter().position(|s| s == name);
        let mut vars: Vec<PlanVar> = Vec::new();
        // Simplex components seen so far, per simplex.
        let mut simplex_seen: BTreeMap<Name, Vec<Name>> = BTreeMap::new();
        for &i in &members {
            let d = data[i];
            let slot = slot_of(&d.name).expect("member slot");
            let range = match &d.support {
                Support::Continuous { lo, hi } => Range::Continuous {
                    lo: lo.as_ref().map(|e| model.substitute_consts(e)),
                    hi: hi.as_ref().map(|e| model.substitute_consts(e)),
                },
                Support::Integers { lo, hi } => Range::Integers {
                    lo: model.substitute_consts(lo),
                    hi: hi.as_ref().map(|e| model.substitute_consts(e)),
                },
                Support::Set(vs) => {
                    Range::Set(vs.iter().map(crate::ir::expr::rational_to_f64).collect())
                }
                Support::Simplex { group, dim } => {
                    let seen = simplex_seen.entry(group.clone()).or_default();
                    if seen.len() + 1 == *dim {
                        // The last component is 1 − Σ others = hi − x of
                        // the last free one.
                        let last = seen.last().cloned();
                        seen.push(d.name.clone());
                        match last.and_then(|n| vars.iter_mut().find(|v| v.name == n)) {
                            Some(v) => v.complement = Some(slot),
                            None => {
                                return Err(NumericError::Unsupported(format!(
                                    "a simplex with one component (`{}`)",
                                    d.name
                                )));
                            }
                        }
                        continue;
                    }
                    let used: Vec<Expr> = seen.iter().map(|s| Expr::Var(s.clone())).collect();
                    seen.push(d.name.clone());
                    Range::Continuous {
                        lo: Some(Expr::zero()),
                        hi: Some(Expr::sub(Expr::one(), Expr::add(used))),
                    }
                }
            };
            vars.push(PlanVar {
                name: d.name.clone(),
                slot,
                range,
                complement: None,
            });
        }
        let logp = Expr::add(
            terms
                .iter()
                .zip(&term_vars)
                .filter(|(_, vs)| vs.first().is_some_and(|&v| find(&mut parent, v) == root))
                .map(|(t, _)| t.clone())
                .collect(),
        );
        // `hi − x` at a numeric right end becomes its own slot, filled with
        // the quadrature's cancellation-free complement: `log(1 − x)` stays
        // finite and accurate as x → 1 (a Beta with b < 1).
        // A right end that uses earlier data (`x2 : (0, 1 - x1)`) works the
        // same way, on the end as rewritten by the earlier complements
        // (`(1 - x1) - x2` becomes one slot, `b − x` of x2's own range):
        // without it, nodes of x2 next to its right end give
        // `(1 - x1) - x2 <= 0` by rounding and a NaN log-density.
        let mut logp = logp;
        let n_members = members.len();
        let mut done: Vec<(Vec<Expr>, Name, Name)> = Vec::new();
        for var in vars.iter_mut() {
            let Range::Continuous { hi: Some(h), .. } = &var.range else {
                continue;
            };
            if var.complement.is_some() {
                continue;
            }
            let mut end = h.clone();
            for (terms, x, c) in &done {
                end = complement_rewrite(&end, terms, x, c).0;
            }
            let terms = match &end {
                Expr::Add(ts) => ts.to_vec(),
                _ => vec![end.clone()],
            };
            // Named by what it stands for (messages show `log((1 - x1) - x2)`).
            let cname: Name = match h.as_num() {
                Some(r) => format!("({r} - {})", var.name).into(),
                None => format!("({} - {})", crate::numeric::eval::describe(&end), var.name).into(),
            };
            let (rewritten, changed) = complement_rewrite(&logp, &terms, &var.name, &cname);
            if changed {
                logp = rewritten;
                let at = n_members + (slots.len() - n_members - covariates.len());
                slots.insert(at, cname.clone());
                var.complement = Some(at);
                done.push((terms, var.name.clone(), cname));
            }
        }
        groups.push(Group { slots, vars, logp });
    }
    for (t, vs) in terms.iter().zip(&term_vars) {
        if vs.is_empty() {
            constant.push(t.clone());
        }
    }
    // The data-free part goes into the first group's density, so that the
    // group integrates to about 1 (a Poisson's `−λ` kept apart would leave
    // `Σ λ^k/k! = e^λ` to overflow).
    if let Some(first) = groups.first_mut() {
        let mut all = std::mem::take(&mut constant);
        all.push(first.logp.clone());
        first.logp = Expr::add(all);
    }
    Ok(Plan {
        groups,
        constant: Expr::add(constant),
    })
}

/// Replace every sum `end − x (+ rest)` in `e` by `c (+ rest)`, where
/// `end` is the sum of `end_terms` (a number, or an earlier complement and
/// numbers).
fn complement_rewrite(e: &Expr, end_terms: &[Expr], x: &Name, c: &Name) -> (Expr, bool) {
    let minus_x = Expr::neg(Expr::Var(x.clone()));
    let mut changed = false;
    let out = e.map_bottom_up(&mut |node| match &node {
        Expr::Add(ts) => {
            let mut used = vec![false; ts.len()];
            let take = |t: &Expr, used: &mut Vec<bool>| {
                let k = (0..ts.len()).find(|&k| !used[k] && ts[k] == *t);
                if let Some(k) = k {
                    used[k] = true;
                }
                k.is_some()
            };
            let all = take(&minus_x, &mut used) && end_terms.iter().all(|t| take(t, &mut used));
            if all {
                changed = true;
                let mut rest: Vec<Expr> = ts
                    .iter()
                    .zip(&used)
                    .filter(|(_, u)| !**u)
                    .map(|(t, _)| t.clone())
                    .collect();
                rest.push(Expr::Var(c.clone()));
                Expr::add(rest)
            } else {
                node
            }
        }
        _ => node,
    });
    (out, changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The complement slots read as what they stand for: a message about
    /// the raw Dirichlet's `log(1 - x1 - x2)` shows `log(((1 - x1) - x2))`
    /// (x2's complement), not an internal name such as `x1'hi`.
    #[test]
    fn the_complement_slot_is_named_by_its_expression() {
        let src = "param a1 : positive\nparam a2 : positive\nparam a3 : positive\n\
                   data x1 : unit\ndata x2 : (0, 1 - x1)\n\
                   logp += (a1 - 1)*log(x1) + (a2 - 1)*log(x2) + (a3 - 1)*log(1 - x1 - x2)\n";
        let model = crate::load(src, "dirichlet").expect("model");
        let plan = plan(&model).expect("plan");
        let slots: Vec<&str> = plan
            .groups
            .iter()
            .flat_map(|g| g.slots.iter().map(|s| &**s))
            .collect();
        assert!(slots.contains(&"(1 - x1)"), "{slots:?}");
        // x2's own complement, `b − x` of its range (0, 1 - x1): next to
        // that end `(1 - x1) - x2` would round to zero or below.
        assert!(slots.contains(&"((1 - x1) - x2)"), "{slots:?}");
        let x2 = plan.groups[0]
            .vars
            .iter()
            .find(|v| &*v.name == "x2")
            .expect("x2");
        assert_eq!(
            x2.complement.map(|c| &*plan.groups[0].slots[c]),
            Some("((1 - x1) - x2)")
        );
        let shown: Vec<String> = plan
            .groups
            .iter()
            .map(|g| crate::numeric::eval::describe(&g.logp))
            .collect();
        assert!(
            shown.iter().any(|s| s.contains("log(((1 - x1) - x2))")),
            "{shown:?}"
        );
        assert!(shown.iter().all(|s| !s.contains('\'')), "{shown:?}");
    }
}
