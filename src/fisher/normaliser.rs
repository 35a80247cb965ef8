//! The normaliser identity: the moments of a raw density that matches no
//! library family, read from the density itself.
//!
//! A raw log-density linearized in one group's data (or in several
//! groups' together, `Reading::join`, when more than one matches no
//! family: they share one remainder) is
//!
//! ```text
//! log p = Σₖ ηₖ(θ) Tₖ(x) − A(θ) + log h(x)
//! ```
//!
//! (a data monomial whose coefficient holds a parameter is a statistic Tₖ
//! with natural parameter ηₖ, the other monomials are log h, and −A is what
//! is left once every other group's density is taken out: the
//! parameter-only terms). If the density is normalised as written,
//! E\[score\] = 0 gives Jᵀ E\[T\] = ∇A with J = ∂η/∂θ (k × p). When J has
//! full row rank k, k of its columns S form an invertible J_S, and
//! E\[T\] = J_S⁻ᵀ ∇_S A by Cramer's rule; the other p − k equations must then
//! hold too. The Hessian Σₖ ∇²ηₖ Tₖ − ∇²A is linear in T, so F needs only
//! these first moments; Cov\[T\] = (∂E\[T\]/∂θ_S) J_S⁻¹ (= ∇²_η A) feeds the
//! second formula Σ Jᵀ Cov\[T\] J. No family table is consulted.
//!
//! The identity assumes what it cannot see: that the density is
//! normalised. A half-normal written without its `- log(sigma)` still
//! solves Jᵀ m = ∇A, with a wrong m and a wrong F. So a group read this way
//! is kept only after it is checked numerically at two parameter points
//! ([`complete`]): the group's own density integrates (sums) to a constant
//! with E\[score\] = 0, by the numeric route's quadrature
//! ([`super::numeric::numeric_fim`], whose `NotNormalised` refusal is the
//! reason given), and its F, ∇²A − Σₖ ∇²ηₖ E\[Tₖ\], equals the numeric F
//! (the covariance of the exact score) there. Anything else is a refusal
//! with its reason, and the model falls back to the numeric route.

use super::expectation::DataGroup;
use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Domain, Model, Support, Term, TermSource};
use crate::numeric::eval::eval_f64;
use crate::structure::linearize::Linear;
use crate::symbolic::{cancel, diff};
use std::collections::BTreeSet;

/// The family name a group read by the identity carries (printed as
/// `x ~ ...` in a derivation).
pub(super) const FAMILY: &str = "exponential family (read from the log-density)";

/// Most statistics the identity solves for (Cramer's rule on k × k).
const MAX_STATS: usize = 4;

/// Most column choices tried for an invertible J_S when k < p.
const MAX_CHOICES: usize = 64;

/// Points at which a group is checked against the numeric route.
const CHECK_POINTS: usize = 2;

/// Relative agreement required between the closed and the numeric F
/// (relative to √(F_ii F_jj) of the numeric F).
const CHECK_TOL: f64 = 1e-8;

/// The data side of a group read by the identity: everything but A.
#[derive(Clone, Debug)]
pub(super) struct Reading {
    vars: Vec<Name>,
    supports: Vec<Support>,
    stats: Vec<Expr>,
    natural: Vec<Expr>,
    log_base: Expr,
}

impl Reading {
    /// The data read.
    pub(super) fn vars(&self) -> &[Name] {
        &self.vars
    }

    /// Two independent groups' readings as one: the joint density is an
    /// exponential family with the statistics of both, and the one
    /// remainder of parameter-only terms is its joint normaliser, so the
    /// identity solves for both groups' E\[T\] at once. `self` is the
    /// earlier declared group.
    pub(super) fn join(mut self, later: Reading) -> Reading {
        self.vars.extend(later.vars);
        self.supports.extend(later.supports);
        self.stats.extend(later.stats);
        self.natural.extend(later.natural);
        self.log_base = Expr::add2(self.log_base, later.log_base);
        self
    }
}

/// Read T, η and log h of `vars` from the linearization `parts`; also the
/// rest of the log-density (the coefficient of the monomial 1), which
/// holds −A(θ) and the other data's terms. `is_other_data` names data
/// outside the group.
pub(super) fn read(
    parts: &Linear,
    vars: &[Name],
    supports: &[Support],
    has_param: &dyn Fn(&Expr) -> bool,
    is_other_data: &dyn Fn(&str) -> bool,
) -> Result<(Reading, Expr), String> {
    let style = crate::ir::text::TextStyle::ascii();
    let show = |e: &Expr| crate::ir::text::render(e, &style);
    let (mut stats, mut natural, mut base) = (Vec::new(), Vec::new(), Vec::new());
    for (m, c) in parts.iter().filter(|(m, _)| !m.is_one()) {
        if let Some(v) = c.free_vars().into_iter().find(|v| is_other_data(v)) {
            return Err(format!(
                "the coefficient of `{}` holds the data `{v}` (a density conditional on other \
                 data, which the identity does not read)",
                show(m)
            ));
        }
        if has_param(c) {
            stats.push(m.clone());
            natural.push(c.clone());
        } else {
            base.push(Expr::mul2(c.clone(), m.clone()));
        }
    }
    if stats.is_empty() {
        return Err("no statistic of the data has a coefficient with a parameter".into());
    }
    let rest = parts.get(&Expr::one()).cloned().unwrap_or_else(Expr::zero);
    Ok((
        Reading {
            vars: vars.to_vec(),
            supports: supports.to_vec(),
            stats,
            natural,
            log_base: Expr::add(base),
        },
        rest,
    ))
}

/// The group of a [`Reading`] with its log-partition `a` (A(θ) up to a
/// constant): E\[T\] and Cov\[T\] from the identity, checked against the
/// numeric route at [`CHECK_POINTS`] points. `Err` says why not.
pub(super) fn complete(model: &Model, reading: Reading, a: Expr) -> Result<DataGroup, String> {
    let k = reading.stats.len();
    let a = tidy(&a);
    // The parameters the group moves: J's columns.
    let moved: Vec<Name> = {
        let mut v: BTreeSet<Name> = BTreeSet::new();
        for e in reading.natural.iter().chain(std::iter::once(&a)) {
            v.extend(e.free_vars());
        }
        model
            .param_names()
            .into_iter()
            .filter(|p| v.contains(p))
            .collect()
    };
    let p = moved.len();
    if k > p {
        return Err(format!(
            "it has {k} statistics but its natural parameters move with {p} parameter{} \
             (a curved exponential family): J = d(eta)/d(theta) cannot have full row rank, \
             so E[score] = 0 does not determine E[T]",
            if p == 1 { "" } else { "s" }
        ));
    }
    if k > MAX_STATS {
        return Err(format!(
            "it has {k} statistics; the identity is solved for at most {MAX_STATS}"
        ));
    }
    // jac[a][j] = ∂η_a/∂θ_j, grad[j] = ∂A/∂θ_j.
    let jac: Vec<Vec<Expr>> = reading
        .natural
        .iter()
        .map(|eta| moved.iter().map(|t| tidy(&diff(eta, t))).collect())
        .collect();
    let grad: Vec<Expr> = moved.iter().map(|t| tidy(&diff(&a, t))).collect();
    let domains: Vec<(Name, Domain)> = model
        .params
        .iter()
        .map(|p| (p.name.clone(), p.domain.clone()))
        .collect();
    let points: Vec<Vec<(Name, f64)>> = (0..CHECK_POINTS)
        .map(|salt| super::identifiability::typical_point_with_covariates(model, &domains, salt))
        .collect();
    let value = |e: &Expr, at: &[(Name, f64)]| {
        eval_f64(e, &|v| at.iter().find(|(n, _)| &**n == v).map(|(_, x)| *x)).ok()
    };
    // k columns S with det J_S not zero (symbolically, and at every point).
    let columns = choose_columns(p, k).into_iter().find_map(|cols| {
        let js: Vec<Vec<Expr>> = (0..k)
            .map(|r| cols.iter().map(|&c| jac[r][c].clone()).collect())
            .collect();
        let d = tidy(&det(&js));
        let invertible = !d.is_zero()
            && points
                .iter()
                .all(|at| value(&d, at).is_some_and(|x| x.is_finite() && x != 0.0));
        invertible.then_some((cols, js, d))
    });
    let Some((cols, js, det_js)) = columns else {
        return Err(format!(
            "J = d(eta)/d(theta) does not have full row rank {k} (no {k} x {k} minor is \
             invertible), so E[score] = 0 does not determine E[T]"
        ));
    };
    // E[T] = J_S⁻ᵀ ∇_S A: solve J_Sᵀ m = ∇_S A.
    let jst: Vec<Vec<Expr>> = (0..k)
        .map(|r| (0..k).map(|c| js[c][r].clone()).collect())
        .collect();
    let rhs: Vec<Expr> = cols.iter().map(|&c| grad[c].clone()).collect();
    let mean = solve(&jst, &det_js, &rhs);
    // The other p − k equations of Jᵀ m = ∇A must hold too, to rounding
    // on the scale of ∇A (a parameter the other groups' normalisers
    // brought in and took out again has ∂A/∂θ_j = 0 only up to rounding).
    let grad_scale = |at: &[(Name, f64)]| {
        grad.iter()
            .filter_map(|g| value(g, at))
            .fold(0.0f64, |s, x| s.max(x.abs()))
    };
    for j in (0..p).filter(|j| !cols.contains(j)) {
        let lhs = Expr::add(
            (0..k)
                .map(|r| Expr::mul2(jac[r][j].clone(), mean[r].clone()))
                .collect(),
        );
        for at in &points {
            let (Some(l), Some(g)) = (value(&lhs, at), value(&grad[j], at)) else {
                return Err("E[score] = 0 could not be evaluated at a typical point".into());
            };
            if (l - g).abs() > 1e-9 * l.abs().max(g.abs()).max(grad_scale(at)).max(1e-300) {
                return Err(format!(
                    "E[score] = 0 has no solution: the parameter-only terms are not the \
                     normaliser of its statistics (the equation for `{}` fails); is the \
                     density normalised?",
                    moved[j]
                ));
            }
        }
    }
    // Cov[T] = (∂m/∂θ_S) J_S⁻¹, the columns of J_S⁻¹ solving J_S x = e_b.
    let inv_cols: Vec<Vec<Expr>> = (0..k)
        .map(|b| {
            let e: Vec<Expr> = (0..k)
                .map(|r| if r == b { Expr::one() } else { Expr::zero() })
                .collect();
            solve(&js, &det_js, &e)
        })
        .collect();
    let dm: Vec<Vec<Expr>> = mean
        .iter()
        .map(|m| cols.iter().map(|&c| diff(m, &moved[c])).collect())
        .collect();
    let cov: Vec<Vec<Expr>> = (0..k)
        .map(|r| {
            (0..k)
                .map(|b| {
                    tidy(&Expr::add(
                        (0..k)
                            .map(|j| Expr::mul2(dm[r][j].clone(), inv_cols[b][j].clone()))
                            .collect(),
                    ))
                })
                .collect()
        })
        .collect();
    // The group's F = ∇²A − Σₖ ∇²ηₖ mₖ over all of θ, for the check.
    let params = model.param_names();
    let group_fim: Vec<Vec<Expr>> = params
        .iter()
        .map(|ti| {
            params
                .iter()
                .map(|tj| {
                    let mut terms = vec![diff(&diff(&a, ti), tj)];
                    for (eta, m) in reading.natural.iter().zip(&mean) {
                        terms.push(Expr::neg(Expr::mul2(diff(&diff(eta, ti), tj), m.clone())));
                    }
                    Expr::add(terms)
                })
                .collect()
        })
        .collect();
    check_numerically(model, &reading, &a, &group_fim, &points)?;
    Ok(DataGroup {
        family: FAMILY,
        binary: reading.supports.iter().all(Support::is_binary),
        vars: reading.vars,
        stats: reading.stats,
        natural: reading.natural,
        log_partition: a,
        log_base: reading.log_base,
        mean,
        cov,
        depends_on: BTreeSet::new(),
    })
}

/// The group's own density, Σ η T + log h − A over its data alone, against
/// the numeric route at `points`: normalised (E\[score\] = 0; the numeric
/// route's `NotNormalised` otherwise) and with the numeric F equal to
/// `group_fim`.
fn check_numerically(
    model: &Model,
    reading: &Reading,
    a: &Expr,
    group_fim: &[Vec<Expr>],
    points: &[Vec<(Name, f64)>],
) -> Result<(), String> {
    let mut terms: Vec<Expr> = reading
        .natural
        .iter()
        .zip(&reading.stats)
        .map(|(eta, t)| Expr::mul2(eta.clone(), t.clone()))
        .collect();
    terms.push(reading.log_base.clone());
    terms.push(Expr::neg(a.clone()));
    let logp = Expr::add(terms);
    let mut own = model.clone();
    own.data.retain(|d| reading.vars.contains(&d.name));
    own.terms = vec![Term {
        source: TermSource::Raw,
        logp: logp.clone(),
        span: model.terms.first().map(|t| t.span).unwrap_or_default(),
    }];
    own.logp = logp;
    own.coords.clear();
    own.lets.clear();
    for at in points {
        let lookup = |v: &str| at.iter().find(|(n, _)| &**n == v).map(|(_, x)| *x);
        let (theta, config) = super::numeric::NumericConfig::at_point(model, at);
        let num = super::numeric::numeric_fim(&own, &theta, &config)
            .map_err(|e| format!("its density, checked numerically, fails: {e}"))?;
        let at_text = || {
            model
                .params
                .iter()
                .zip(&theta)
                .map(|(p, x)| format!("{} = {x}", p.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Entries on the scale √(F_ii F_jj), with a floor of 1e-10 of the
        // largest diagonal entry: a parameter the group does not move has a
        // row of zeros, closed and numeric, up to rounding.
        let diag_max = (0..model.params.len())
            .map(|i| num.value[(i, i)].abs())
            .fold(0.0f64, f64::max);
        let scale = |i: usize| num.value[(i, i)].abs().max(1e-10 * diag_max);
        for (i, row) in group_fim.iter().enumerate() {
            for (j, entry) in row.iter().enumerate() {
                let Some(closed) = eval_f64(entry, &lookup).ok() else {
                    return Err(format!(
                        "its Fisher information could not be evaluated at {}",
                        at_text()
                    ));
                };
                let numeric = num.value[(i, j)];
                let s = (scale(i) * scale(j)).sqrt();
                let err = num.error[(i, j)];
                if !closed.is_finite() || err > 1e-7 * s.max(1e-300) {
                    return Err(format!(
                        "the numeric check of its Fisher information could not decide at {} \
                         (entry ({}, {}): {closed} vs {numeric} +- {err:.1e})",
                        at_text(),
                        i + 1,
                        j + 1
                    ));
                }
                if (closed - numeric).abs() > CHECK_TOL * s + 10.0 * err {
                    return Err(format!(
                        "its Fisher information from the identity, {closed}, differs from the \
                         numeric one, {numeric}, in entry ({}, {}) at {}; is the density \
                         normalised?",
                        i + 1,
                        j + 1,
                        at_text()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Up to [`MAX_CHOICES`] sets of `k` of `0..p`, in lexicographic order.
fn choose_columns(p: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut cur: Vec<usize> = (0..k).collect();
    loop {
        out.push(cur.clone());
        if out.len() >= MAX_CHOICES {
            return out;
        }
        // The rightmost position that can still move.
        let Some(i) = (0..k).rev().find(|&i| cur[i] < p - k + i) else {
            return out;
        };
        cur[i] += 1;
        for j in i + 1..k {
            cur[j] = cur[j - 1] + 1;
        }
    }
}

/// The determinant of a small square matrix (Laplace along the first row).
fn det(m: &[Vec<Expr>]) -> Expr {
    match m.len() {
        0 => Expr::one(),
        1 => m[0][0].clone(),
        n => Expr::add(
            (0..n)
                .filter(|&c| !m[0][c].is_zero())
                .map(|c| {
                    let minor: Vec<Vec<Expr>> = m[1..]
                        .iter()
                        .map(|row| {
                            row.iter()
                                .enumerate()
                                .filter(|(j, _)| *j != c)
                                .map(|(_, e)| e.clone())
                                .collect()
                        })
                        .collect();
                    let term = Expr::mul2(m[0][c].clone(), det(&minor));
                    if c % 2 == 0 { term } else { Expr::neg(term) }
                })
                .collect(),
        ),
    }
}

/// x with m x = rhs, by Cramer's rule (`d` = det m, not zero).
fn solve(m: &[Vec<Expr>], d: &Expr, rhs: &[Expr]) -> Vec<Expr> {
    let k = m.len();
    (0..k)
        .map(|c| {
            let replaced: Vec<Vec<Expr>> = (0..k)
                .map(|r| {
                    (0..k)
                        .map(|j| {
                            if j == c {
                                rhs[r].clone()
                            } else {
                                m[r][j].clone()
                            }
                        })
                        .collect()
                })
                .collect();
            tidy(&Expr::div(det(&replaced), d.clone()))
        })
        .collect()
}

fn tidy(e: &Expr) -> Expr {
    crate::symbolic::tidy(&cancel(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_choices_are_the_combinations() {
        assert_eq!(
            choose_columns(3, 2),
            vec![vec![0, 1], vec![0, 2], vec![1, 2]]
        );
        assert_eq!(choose_columns(2, 2), vec![vec![0, 1]]);
        assert_eq!(choose_columns(3, 1), vec![vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn cramer_solves_a_two_by_two_system() {
        // [[a, 1], [0, b]] x = [1, 1]: x = ((b - 1)/(a b), 1/b).
        let (a, b) = (Expr::var("a"), Expr::var("b"));
        let m = vec![vec![a.clone(), Expr::one()], vec![Expr::zero(), b.clone()]];
        let d = det(&m);
        let x = solve(&m, &d, &[Expr::one(), Expr::one()]);
        let at = |v: &str| match v {
            "a" => Some(2.0),
            "b" => Some(5.0),
            _ => None,
        };
        assert!((eval_f64(&x[0], &at).unwrap() - 0.4).abs() < 1e-15);
        assert!((eval_f64(&x[1], &at).unwrap() - 0.2).abs() < 1e-15);
    }
}
