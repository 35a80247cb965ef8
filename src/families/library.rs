//! The family table. Each entry gives the log-density as a textbook writes
//! it and, independently, its exponential-family form and moments; the
//! tests check that the two agree and that the moments are right.

use super::{ArgKind, DataKind, ExpFamily, Family, KnownMonomial, RawSupport, Recognise};
use crate::ir::expr::{Expr, Func};
use crate::ir::model::Arg;

fn s(args: &[Arg], i: usize) -> Expr {
    match &args[i] {
        Arg::Scalar(e) => e.clone(),
        // The resolver checks argument shapes; a vector here is a bug, but
        // never a panic: use its first component.
        Arg::Vector(v) => v.first().cloned().unwrap_or_else(Expr::zero),
    }
}

fn v(args: &[Arg], i: usize) -> Vec<Expr> {
    match &args[i] {
        Arg::Vector(v) => v.clone(),
        Arg::Scalar(e) => vec![e.clone()],
    }
}

fn n(k: i64) -> Expr {
    Expr::int(k)
}

fn q(p: i64, d: i64) -> Expr {
    Expr::rational(p, d)
}

fn log(e: Expr) -> Expr {
    Expr::log(e)
}

fn lgamma(e: Expr) -> Expr {
    Expr::lgamma(e)
}

fn digamma(e: Expr) -> Expr {
    Expr::polygamma(0, e)
}

fn trigamma(e: Expr) -> Expr {
    Expr::polygamma(1, e)
}

fn sq(e: Expr) -> Expr {
    Expr::powi(e, 2)
}

fn one_minus(e: Expr) -> Expr {
    Expr::one() - e
}

fn sum(v: Vec<Expr>) -> Expr {
    Expr::add(v)
}

fn prod(v: Vec<Expr>) -> Expr {
    Expr::mul(v)
}

fn half_log_2pi() -> Expr {
    q(1, 2) * log(n(2) * Expr::pi())
}

fn no_base(_: &[Expr], _: &[Expr]) -> Expr {
    Expr::zero()
}

/// No known quantities.
fn no_known(_: &[Arg]) -> Vec<Expr> {
    Vec::new()
}

/// A known count (a categorical's number of categories) as a length.
fn count(k: &Expr) -> usize {
    k.as_int()
        .and_then(|k| usize::try_from(k).ok())
        .unwrap_or(0)
}

/// log Σ exp(ηₖ): the log-partition of probabilities over categories in
/// their overcomplete natural parameters ηₖ = log pₖ.
fn log_sum_exp(eta: &[Expr]) -> Expr {
    log(sum(eta.iter().cloned().map(Expr::exp).collect()))
}

fn diag(entries: Vec<Expr>) -> Vec<Vec<Expr>> {
    let k = entries.len();
    let mut m = vec![vec![Expr::zero(); k]; k];
    for (i, e) in entries.into_iter().enumerate() {
        m[i][i] = e;
    }
    m
}

/// Normal moments of (x, x²): mean and covariance.
fn normal_mean(mu: &Expr, sigma: &Expr) -> Vec<Expr> {
    vec![mu.clone(), sq(mu.clone()) + sq(sigma.clone())]
}

fn normal_cov(mu: &Expr, sigma: &Expr) -> Vec<Vec<Expr>> {
    let s2 = sq(sigma.clone());
    let c12 = prod(vec![n(2), mu.clone(), s2.clone()]);
    let c22 = prod(vec![n(4), sq(mu.clone()), s2.clone()]) + n(2) * Expr::powi(sigma.clone(), 4);
    vec![vec![s2, c12.clone()], vec![c12, c22]]
}

fn normal_natural(mu: &Expr, sigma: &Expr) -> Vec<Expr> {
    vec![
        mu.clone() / sq(sigma.clone()),
        Expr::neg(Expr::recip(n(2) * sq(sigma.clone()))),
    ]
}

fn normal_partition(mu: &Expr, sigma: &Expr) -> Expr {
    sq(mu.clone()) / (n(2) * sq(sigma.clone())) + log(sigma.clone())
}

/// The normal's A(η) in η = (μ/σ², −1/(2σ²)).
fn normal_natural_partition(e1: Expr, e2: Expr) -> Expr {
    -(sq(e1) / (n(4) * e2.clone())) - q(1, 2) * log(n(-2) * e2)
}

/// The gamma's A(η) in η = (α − 1, −β).
fn gamma_natural_partition(e: &[Expr]) -> Expr {
    let a = e[0].clone() + n(1);
    lgamma(a.clone()) - a * log(-e[1].clone())
}

/// The family library. Raw matching tries the entries with a
/// [`Recognise`] in the order of their priorities (`super::recognisable`).
pub static FAMILIES: &[Family] = &[
    Family {
        name: "normal",
        description: "Normal(mu, sigma): mean mu, standard deviation sigma",
        args: &[("mu", ArgKind::Real), ("sigma", ArgKind::Positive)],
        data: DataKind::Real,
        log_density: |x, a| {
            let (mu, sigma) = (s(a, 0), s(a, 1));
            let z2 = sq(x[0].clone() - mu) / (n(2) * sq(sigma.clone()));
            sum(vec![-log(sigma), -half_log_2pi(), -z2])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![x[0].clone(), sq(x[0].clone())],
            natural: |a| normal_natural(&s(a, 0), &s(a, 1)),
            log_partition: |a| normal_partition(&s(a, 0), &s(a, 1)),
            natural_log_partition: |e, _| normal_natural_partition(e[0].clone(), e[1].clone()),
            log_base: |_, _| -half_log_2pi(),
            mean: |a| normal_mean(&s(a, 0), &s(a, 1)),
            cov: |a| normal_cov(&s(a, 0), &s(a, 1)),
            raw: Some(Recognise {
                priority: 0,
                support: RawSupport::Interval { lo: None, hi: None },
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "lognormal",
        description: "LogNormal(mu, sigma): log(x) is Normal(mu, sigma)",
        args: &[("mu", ArgKind::Real), ("sigma", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let (mu, sigma) = (s(a, 0), s(a, 1));
            let lx = log(x[0].clone());
            let z2 = sq(lx.clone() - mu) / (n(2) * sq(sigma.clone()));
            sum(vec![-lx, -log(sigma), -half_log_2pi(), -z2])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![log(x[0].clone()), sq(log(x[0].clone()))],
            natural: |a| normal_natural(&s(a, 0), &s(a, 1)),
            log_partition: |a| normal_partition(&s(a, 0), &s(a, 1)),
            natural_log_partition: |e, _| normal_natural_partition(e[0].clone(), e[1].clone()),
            log_base: |x, _| -log(x[0].clone()) - half_log_2pi(),
            mean: |a| normal_mean(&s(a, 0), &s(a, 1)),
            cov: |a| normal_cov(&s(a, 0), &s(a, 1)),
            raw: Some(Recognise {
                priority: 1,
                support: RawSupport::Interval {
                    lo: Some(0.0),
                    hi: None,
                },
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "bernoulli",
        description: "Bernoulli(p): success probability p",
        args: &[("p", ArgKind::Unit)],
        data: DataKind::Binary,
        log_density: |x, a| {
            let p = s(a, 0);
            x[0].clone() * log(p.clone()) + one_minus(x[0].clone()) * log(one_minus(p))
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![x[0].clone()],
            natural: |a| vec![log(s(a, 0)) - log(one_minus(s(a, 0)))],
            log_partition: |a| -log(one_minus(s(a, 0))),
            natural_log_partition: |e, _| Expr::call(Func::Log1p, vec![Expr::exp(e[0].clone())]),
            log_base: no_base,
            mean: |a| vec![s(a, 0)],
            cov: |a| vec![vec![s(a, 0) * one_minus(s(a, 0))]],
            raw: Some(Recognise {
                priority: 12,
                support: RawSupport::Binary,
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "binomial",
        description: "Binomial(n, p): n trials (a constant), success probability p",
        args: &[("n", ArgKind::Count), ("p", ArgKind::Unit)],
        data: DataKind::BoundedCount,
        log_density: |x, a| {
            let (nn, p) = (s(a, 0), s(a, 1));
            let x = x[0].clone();
            sum(vec![
                binomial_base(&x, &nn),
                x.clone() * log(p.clone()),
                (nn - x) * log(one_minus(p)),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[0],
            known: |a| vec![s(a, 0)],
            stats: |x, _| vec![x[0].clone()],
            natural: |a| vec![log(s(a, 1)) - log(one_minus(s(a, 1)))],
            log_partition: |a| -(s(a, 0) * log(one_minus(s(a, 1)))),
            natural_log_partition: |e, k| {
                k[0].clone() * Expr::call(Func::Log1p, vec![Expr::exp(e[0].clone())])
            },
            log_base: |x, k| binomial_base(&x[0], &k[0]),
            mean: |a| vec![s(a, 0) * s(a, 1)],
            cov: |a| vec![vec![prod(vec![s(a, 0), s(a, 1), one_minus(s(a, 1))])]],
            raw: Some(Recognise {
                priority: 13,
                support: RawSupport::UpToKnown,
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "geometric",
        description: "Geometric(p): failures before the first success, success probability p",
        args: &[("p", ArgKind::Unit)],
        data: DataKind::Count,
        log_density: |x, a| {
            let p = s(a, 0);
            log(p.clone()) + x[0].clone() * log(one_minus(p))
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![x[0].clone()],
            natural: |a| vec![log(one_minus(s(a, 0)))],
            log_partition: |a| -log(s(a, 0)),
            natural_log_partition: |e, _| -log(one_minus(Expr::exp(e[0].clone()))),
            log_base: no_base,
            mean: |a| vec![one_minus(s(a, 0)) / s(a, 0)],
            cov: |a| vec![vec![one_minus(s(a, 0)) / sq(s(a, 0))]],
            raw: Some(Recognise {
                priority: 15,
                support: RawSupport::Counts,
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "negative_binomial",
        description: "NegativeBinomial(r, p): failures before the r-th success (r known), success probability p",
        args: &[("r", ArgKind::Positive), ("p", ArgKind::Unit)],
        data: DataKind::Count,
        log_density: |x, a| {
            let (r, p) = (s(a, 0), s(a, 1));
            sum(vec![
                negbin_base(&x[0], &r),
                r * log(p.clone()),
                x[0].clone() * log(one_minus(p)),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[0],
            known: |a| vec![s(a, 0)],
            stats: |x, _| vec![x[0].clone()],
            natural: |a| vec![log(one_minus(s(a, 1)))],
            log_partition: |a| -(s(a, 0) * log(s(a, 1))),
            natural_log_partition: |e, k| -(k[0].clone() * log(one_minus(Expr::exp(e[0].clone())))),
            log_base: |x, k| negbin_base(&x[0], &k[0]),
            mean: |a| vec![s(a, 0) * one_minus(s(a, 1)) / s(a, 1)],
            cov: |a| vec![vec![s(a, 0) * one_minus(s(a, 1)) / sq(s(a, 1))]],
            raw: Some(Recognise {
                priority: 16,
                support: RawSupport::Counts,
                monomial: Some(KnownMonomial::LgammaShift),
            }),
        }),
        not_ef_reason: Some(
            "a negative binomial with unknown r is not an exponential family (r enters through lgamma(x + r))",
        ),
    },
    Family {
        name: "poisson",
        description: "Poisson(lambda): mean lambda",
        args: &[("lambda", ArgKind::Positive)],
        data: DataKind::Count,
        log_density: |x, a| {
            let l = s(a, 0);
            sum(vec![
                x[0].clone() * log(l.clone()),
                -l,
                -lgamma(x[0].clone() + n(1)),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![x[0].clone()],
            natural: |a| vec![log(s(a, 0))],
            log_partition: |a| s(a, 0),
            natural_log_partition: |e, _| Expr::exp(e[0].clone()),
            log_base: |x, _| -lgamma(x[0].clone() + n(1)),
            mean: |a| vec![s(a, 0)],
            cov: |a| vec![vec![s(a, 0)]],
            raw: Some(Recognise {
                priority: 14,
                support: RawSupport::Counts,
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "exponential",
        description: "Exponential(lambda): rate lambda (mean 1/lambda)",
        args: &[("lambda", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let l = s(a, 0);
            log(l.clone()) - l * x[0].clone()
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![x[0].clone()],
            natural: |a| vec![-s(a, 0)],
            log_partition: |a| -log(s(a, 0)),
            natural_log_partition: |e, _| -log(-e[0].clone()),
            log_base: no_base,
            mean: |a| vec![Expr::recip(s(a, 0))],
            cov: |a| vec![vec![Expr::powi(s(a, 0), -2)]],
            raw: Some(Recognise {
                priority: 2,
                support: RawSupport::Interval {
                    lo: Some(0.0),
                    hi: None,
                },
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "gamma",
        description: "Gamma(alpha, beta): shape alpha, rate beta (mean alpha/beta)",
        args: &[("alpha", ArgKind::Positive), ("beta", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let (al, be) = (s(a, 0), s(a, 1));
            sum(vec![
                al.clone() * log(be.clone()),
                -lgamma(al.clone()),
                (al - n(1)) * log(x[0].clone()),
                -(be * x[0].clone()),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![log(x[0].clone()), x[0].clone()],
            natural: |a| vec![s(a, 0) - n(1), -s(a, 1)],
            log_partition: |a| lgamma(s(a, 0)) - s(a, 0) * log(s(a, 1)),
            natural_log_partition: |e, _| gamma_natural_partition(e),
            log_base: no_base,
            mean: |a| vec![digamma(s(a, 0)) - log(s(a, 1)), s(a, 0) / s(a, 1)],
            cov: |a| {
                let (al, be) = (s(a, 0), s(a, 1));
                let c = Expr::recip(be.clone());
                vec![vec![trigamma(al.clone()), c.clone()], vec![c, al / sq(be)]]
            },
            raw: Some(Recognise {
                priority: 4,
                support: RawSupport::Interval {
                    lo: Some(0.0),
                    hi: None,
                },
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "gamma_scale",
        description: "Gamma(k, theta): shape k, scale theta (mean k*theta)",
        args: &[("k", ArgKind::Positive), ("theta", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let (k, th) = (s(a, 0), s(a, 1));
            sum(vec![
                -lgamma(k.clone()),
                -(k.clone() * log(th.clone())),
                (k - n(1)) * log(x[0].clone()),
                -(x[0].clone() / th),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![log(x[0].clone()), x[0].clone()],
            natural: |a| vec![s(a, 0) - n(1), -Expr::recip(s(a, 1))],
            log_partition: |a| lgamma(s(a, 0)) + s(a, 0) * log(s(a, 1)),
            natural_log_partition: |e, _| gamma_natural_partition(e),
            log_base: no_base,
            mean: |a| vec![digamma(s(a, 0)) + log(s(a, 1)), s(a, 0) * s(a, 1)],
            cov: |a| {
                let (k, th) = (s(a, 0), s(a, 1));
                vec![
                    vec![trigamma(k.clone()), th.clone()],
                    vec![th.clone(), k * sq(th)],
                ]
            },
            raw: None,
        }),
        not_ef_reason: None,
    },
    Family {
        name: "inverse_gamma",
        description: "InverseGamma(alpha, beta): shape alpha, scale beta (1/x is Gamma(alpha, rate beta))",
        args: &[("alpha", ArgKind::Positive), ("beta", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let (al, be) = (s(a, 0), s(a, 1));
            sum(vec![
                al.clone() * log(be.clone()),
                -lgamma(al.clone()),
                -((al + n(1)) * log(x[0].clone())),
                -(be / x[0].clone()),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![log(x[0].clone()), Expr::recip(x[0].clone())],
            natural: |a| vec![-(s(a, 0) + n(1)), -s(a, 1)],
            log_partition: |a| lgamma(s(a, 0)) - s(a, 0) * log(s(a, 1)),
            natural_log_partition: |e, _| {
                let a = -e[0].clone() - n(1);
                lgamma(a.clone()) - a * log(-e[1].clone())
            },
            log_base: no_base,
            mean: |a| vec![log(s(a, 1)) - digamma(s(a, 0)), s(a, 0) / s(a, 1)],
            cov: |a| {
                let (al, be) = (s(a, 0), s(a, 1));
                let c = -Expr::recip(be.clone());
                vec![vec![trigamma(al.clone()), c.clone()], vec![c, al / sq(be)]]
            },
            raw: Some(Recognise {
                priority: 5,
                support: RawSupport::Interval {
                    lo: Some(0.0),
                    hi: None,
                },
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "beta",
        description: "Beta(a, b): shapes a and b",
        args: &[("a", ArgKind::Positive), ("b", ArgKind::Positive)],
        data: DataKind::Unit,
        log_density: |x, a| {
            let (p, q) = (s(a, 0), s(a, 1));
            sum(vec![
                (p.clone() - n(1)) * log(x[0].clone()),
                (q.clone() - n(1)) * log(one_minus(x[0].clone())),
                -Expr::call(Func::Lbeta, vec![p, q]),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![log(x[0].clone()), log(one_minus(x[0].clone()))],
            natural: |a| vec![s(a, 0) - n(1), s(a, 1) - n(1)],
            log_partition: |a| Expr::call(Func::Lbeta, vec![s(a, 0), s(a, 1)]),
            natural_log_partition: |e, _| {
                Expr::call(Func::Lbeta, vec![e[0].clone() + n(1), e[1].clone() + n(1)])
            },
            log_base: no_base,
            mean: |a| {
                let (p, q) = (s(a, 0), s(a, 1));
                let both = digamma(p.clone() + q.clone());
                vec![digamma(p) - both.clone(), digamma(q) - both]
            },
            cov: |a| {
                let (p, q) = (s(a, 0), s(a, 1));
                let both = trigamma(p.clone() + q.clone());
                vec![
                    vec![trigamma(p) - both.clone(), -both.clone()],
                    vec![-both.clone(), trigamma(q) - both],
                ]
            },
            raw: Some(Recognise {
                priority: 8,
                support: RawSupport::Interval {
                    lo: Some(0.0),
                    hi: Some(1.0),
                },
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "chi_squared",
        description: "ChiSquared(k): k degrees of freedom",
        args: &[("k", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let k = s(a, 0);
            let h = q(1, 2) * k;
            sum(vec![
                (h.clone() - n(1)) * log(x[0].clone()),
                -(q(1, 2) * x[0].clone()),
                -(h.clone() * log(n(2))),
                -lgamma(h),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![log(x[0].clone())],
            natural: |a| vec![q(1, 2) * s(a, 0) - n(1)],
            log_partition: |a| lgamma(q(1, 2) * s(a, 0)) + q(1, 2) * s(a, 0) * log(n(2)),
            natural_log_partition: |e, _| {
                let h = e[0].clone() + n(1);
                lgamma(h.clone()) + h * log(n(2))
            },
            log_base: |x, _| -(q(1, 2) * x[0].clone()),
            mean: |a| vec![digamma(q(1, 2) * s(a, 0)) + log(n(2))],
            cov: |a| vec![vec![trigamma(q(1, 2) * s(a, 0))]],
            raw: Some(Recognise {
                priority: 7,
                support: RawSupport::Interval {
                    lo: Some(0.0),
                    hi: None,
                },
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "inverse_gaussian",
        description: "InverseGaussian(mu, lambda): mean mu, shape lambda",
        args: &[("mu", ArgKind::Positive), ("lambda", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let (mu, l) = (s(a, 0), s(a, 1));
            let x = x[0].clone();
            sum(vec![
                q(1, 2) * log(l.clone()),
                -half_log_2pi(),
                -(q(3, 2) * log(x.clone())),
                -(l * sq(x.clone() - mu.clone()) / (prod(vec![n(2), sq(mu), x]))),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![x[0].clone(), Expr::recip(x[0].clone())],
            natural: |a| {
                let (mu, l) = (s(a, 0), s(a, 1));
                vec![-(l.clone() / (n(2) * sq(mu))), -(q(1, 2) * l)]
            },
            log_partition: |a| -(s(a, 1) / s(a, 0)) - q(1, 2) * log(s(a, 1)),
            natural_log_partition: |e, _| {
                n(-2) * Expr::sqrt(e[0].clone() * e[1].clone())
                    - q(1, 2) * log(n(-2) * e[1].clone())
            },
            log_base: |x, _| -half_log_2pi() - q(3, 2) * log(x[0].clone()),
            mean: |a| {
                let (mu, l) = (s(a, 0), s(a, 1));
                vec![mu.clone(), Expr::recip(mu) + Expr::recip(l)]
            },
            cov: |a| {
                let (mu, l) = (s(a, 0), s(a, 1));
                let c = -(mu.clone() / l.clone());
                vec![
                    vec![Expr::powi(mu.clone(), 3) / l.clone(), c.clone()],
                    vec![c, Expr::recip(mu * l.clone()) + n(2) / sq(l)],
                ]
            },
            raw: Some(Recognise {
                priority: 6,
                support: RawSupport::Interval {
                    lo: Some(0.0),
                    hi: None,
                },
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "rayleigh",
        description: "Rayleigh(sigma): scale sigma",
        args: &[("sigma", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let sigma = s(a, 0);
            sum(vec![
                log(x[0].clone()),
                -(n(2) * log(sigma.clone())),
                -(sq(x[0].clone()) / (n(2) * sq(sigma))),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![sq(x[0].clone())],
            natural: |a| vec![-Expr::recip(n(2) * sq(s(a, 0)))],
            log_partition: |a| n(2) * log(s(a, 0)),
            natural_log_partition: |e, _| -log(n(-2) * e[0].clone()),
            log_base: |x, _| log(x[0].clone()),
            mean: |a| vec![n(2) * sq(s(a, 0))],
            cov: |a| vec![vec![n(4) * Expr::powi(s(a, 0), 4)]],
            raw: Some(Recognise {
                priority: 3,
                support: RawSupport::Interval {
                    lo: Some(0.0),
                    hi: None,
                },
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "pareto",
        description: "Pareto(xm, alpha): scale xm (known; data x > xm), shape alpha",
        args: &[("xm", ArgKind::Positive), ("alpha", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let (xm, al) = (s(a, 0), s(a, 1));
            sum(vec![
                log(al.clone()),
                al.clone() * log(xm),
                -((al + n(1)) * log(x[0].clone())),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[0],
            known: |a| vec![s(a, 0)],
            stats: |x, _| vec![log(x[0].clone())],
            natural: |a| vec![-(s(a, 1) + n(1))],
            log_partition: |a| -log(s(a, 1)) - s(a, 1) * log(s(a, 0)),
            natural_log_partition: |e, k| {
                let alpha = -e[0].clone() - n(1);
                -log(alpha.clone()) - alpha * log(k[0].clone())
            },
            log_base: no_base,
            mean: |a| vec![log(s(a, 0)) + Expr::recip(s(a, 1))],
            cov: |a| vec![vec![Expr::powi(s(a, 1), -2)]],
            raw: Some(Recognise {
                priority: 9,
                support: RawSupport::AboveKnown,
                monomial: None,
            }),
        }),
        not_ef_reason: Some(
            "a Pareto distribution with unknown scale has a support that moves with the parameter",
        ),
    },
    Family {
        name: "weibull",
        description: "Weibull(k, lambda): shape k, scale lambda",
        args: &[("k", ArgKind::Positive), ("lambda", ArgKind::Positive)],
        data: DataKind::Positive,
        log_density: |x, a| {
            let (k, l) = (s(a, 0), s(a, 1));
            sum(vec![
                log(k.clone()),
                (k.clone() - n(1)) * log(x[0].clone()),
                -(k.clone() * log(l.clone())),
                -(Expr::pow(x[0].clone(), k.clone()) * Expr::pow(l, -k)),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[0],
            known: |a| vec![s(a, 0)],
            stats: |x, k| vec![Expr::pow(x[0].clone(), k[0].clone())],
            natural: |a| vec![-Expr::pow(s(a, 1), -s(a, 0))],
            log_partition: |a| s(a, 0) * log(s(a, 1)),
            natural_log_partition: |e, _| -log(-e[0].clone()),
            log_base: |x, k| log(k[0].clone()) + (k[0].clone() - n(1)) * log(x[0].clone()),
            mean: |a| vec![Expr::pow(s(a, 1), s(a, 0))],
            cov: |a| vec![vec![Expr::pow(s(a, 1), n(2) * s(a, 0))]],
            raw: Some(Recognise {
                priority: 10,
                support: RawSupport::Interval {
                    lo: Some(0.0),
                    hi: None,
                },
                monomial: Some(KnownMonomial::Power),
            }),
        }),
        not_ef_reason: Some(
            "a Weibull distribution with unknown shape is not an exponential family (x^k has an unknown exponent)",
        ),
    },
    Family {
        name: "laplace",
        description: "Laplace(mu, b): location mu, scale b",
        args: &[("mu", ArgKind::Real), ("b", ArgKind::Positive)],
        data: DataKind::Real,
        log_density: |x, a| {
            let (mu, b) = (s(a, 0), s(a, 1));
            let dev = Expr::call(Func::Abs, vec![x[0].clone() - mu]);
            -log(n(2) * b.clone()) - dev / b
        },
        ef: Some(ExpFamily {
            fixed: &[0],
            known: |a| vec![s(a, 0)],
            stats: |x, k| vec![Expr::call(Func::Abs, vec![x[0].clone() - k[0].clone()])],
            natural: |a| vec![-Expr::recip(s(a, 1))],
            log_partition: |a| log(n(2) * s(a, 1)),
            natural_log_partition: |e, _| log(n(-2) / e[0].clone()),
            log_base: no_base,
            mean: |a| vec![s(a, 1)],
            cov: |a| vec![vec![sq(s(a, 1))]],
            raw: Some(Recognise {
                priority: 11,
                support: RawSupport::Interval { lo: None, hi: None },
                monomial: Some(KnownMonomial::AbsCentre),
            }),
        }),
        not_ef_reason: Some(
            "a Laplace distribution with unknown location is not an exponential family (|x - mu| has a kink at the parameter)",
        ),
    },
    Family {
        name: "von_mises",
        description: "VonMises(mu, kappa): circular data in (-pi, pi), mean direction mu, concentration kappa",
        args: &[("mu", ArgKind::Real), ("kappa", ArgKind::Positive)],
        data: DataKind::Real,
        log_density: |x, a| {
            let (mu, kappa) = (s(a, 0), s(a, 1));
            sum(vec![
                kappa.clone() * Expr::call(Func::Cos, vec![x[0].clone() - mu]),
                -log(n(2) * Expr::pi()),
                -log(besseli(0, kappa)),
            ])
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| vec![cos(x[0].clone()), sin(x[0].clone())],
            natural: |a| {
                let (mu, kappa) = (s(a, 0), s(a, 1));
                vec![kappa.clone() * cos(mu.clone()), kappa * sin(mu)]
            },
            log_partition: |a| log(besseli(0, s(a, 1))),
            natural_log_partition: |e, _| {
                log(besseli(0, Expr::sqrt(sq(e[0].clone()) + sq(e[1].clone()))))
            },
            log_base: |_, _| -log(n(2) * Expr::pi()),
            mean: |a| {
                let (mu, kappa) = (s(a, 0), s(a, 1));
                let a1 = besseli(1, kappa.clone()) / besseli(0, kappa);
                vec![a1.clone() * cos(mu.clone()), a1 * sin(mu)]
            },
            cov: |a| {
                let (mu, kappa) = (s(a, 0), s(a, 1));
                let a1 = besseli(1, kappa.clone()) / besseli(0, kappa.clone());
                let a2 = besseli(2, kappa.clone()) / besseli(0, kappa);
                let c2 = cos(n(2) * mu.clone());
                let (c, sn) = (cos(mu.clone()), sin(mu.clone()));
                let a1sq = sq(a1);
                let vcc = q(1, 2) * (n(1) + a2.clone() * c2.clone()) - a1sq.clone() * sq(c.clone());
                let vss = q(1, 2) * (n(1) - a2.clone() * c2) - a1sq.clone() * sq(sn.clone());
                let vcs = q(1, 2) * a2 * sin(n(2) * mu) - prod(vec![a1sq, sn, c]);
                vec![vec![vcc, vcs.clone()], vec![vcs, vss]]
            },
            raw: None,
        }),
        not_ef_reason: None,
    },
    Family {
        name: "categorical",
        description: "Categorical(p): P(x = k) = p[k] for k in 1..K",
        args: &[("p", ArgKind::ProbabilityVector)],
        data: DataKind::Category,
        log_density: |x, a| {
            sum(v(a, 0)
                .into_iter()
                .enumerate()
                .map(|(k, pk)| indicator(&x[0], k) * log(pk))
                .collect())
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: |a| vec![n(v(a, 0).len() as i64)],
            stats: |x, k| (0..count(&k[0])).map(|j| indicator(&x[0], j)).collect(),
            natural: |a| v(a, 0).into_iter().map(log).collect(),
            log_partition: |_| Expr::zero(),
            natural_log_partition: |e, _| log_sum_exp(e),
            log_base: no_base,
            mean: |a| v(a, 0),
            cov: |a| multinomial_cov(&Expr::one(), &v(a, 0)),
            raw: None,
        }),
        not_ef_reason: None,
    },
    Family {
        name: "multinomial",
        description: "Multinomial(n, p): n trials (a constant) over K categories with probabilities p[1..K]",
        args: &[("n", ArgKind::Count), ("p", ArgKind::ProbabilityVector)],
        data: DataKind::CountVector,
        log_density: |x, a| {
            let p = v(a, 1);
            let mut terms = vec![multinomial_base(x, &s(a, 0))];
            terms.extend(x.iter().zip(p).map(|(xk, pk)| xk.clone() * log(pk)));
            sum(terms)
        },
        ef: Some(ExpFamily {
            fixed: &[0],
            known: |a| vec![s(a, 0)],
            stats: |x, _| x.to_vec(),
            natural: |a| v(a, 1).into_iter().map(log).collect(),
            log_partition: |_| Expr::zero(),
            natural_log_partition: |e, k| k[0].clone() * log_sum_exp(e),
            log_base: |x, k| multinomial_base(x, &k[0]),
            mean: |a| v(a, 1).into_iter().map(|p| s(a, 0) * p).collect(),
            cov: |a| multinomial_cov(&s(a, 0), &v(a, 1)),
            raw: Some(Recognise {
                priority: 18,
                support: RawSupport::ChainedCounts,
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "dirichlet",
        description: "Dirichlet(alpha): concentrations alpha[1..K]; data on the K-simplex",
        args: &[("alpha", ArgKind::PositiveVector)],
        data: DataKind::Simplex,
        log_density: |x, a| {
            let alpha = v(a, 0);
            let mut terms = vec![lgamma(sum(alpha.clone()))];
            for (ak, xk) in alpha.into_iter().zip(x) {
                terms.push(-lgamma(ak.clone()));
                terms.push((ak - n(1)) * log(xk.clone()));
            }
            sum(terms)
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| x.iter().map(|xk| log(xk.clone())).collect(),
            natural: |a| v(a, 0).into_iter().map(|ak| ak - n(1)).collect(),
            log_partition: |a| {
                let alpha = v(a, 0);
                let mut terms: Vec<Expr> = alpha.iter().cloned().map(lgamma).collect();
                terms.push(-lgamma(sum(alpha)));
                sum(terms)
            },
            natural_log_partition: |e, _| {
                let alpha: Vec<Expr> = e.iter().map(|ek| ek.clone() + n(1)).collect();
                let mut terms: Vec<Expr> = alpha.iter().cloned().map(lgamma).collect();
                terms.push(-lgamma(sum(alpha)));
                sum(terms)
            },
            log_base: no_base,
            mean: |a| {
                let alpha = v(a, 0);
                let total = digamma(sum(alpha.clone()));
                alpha
                    .into_iter()
                    .map(|ak| digamma(ak) - total.clone())
                    .collect()
            },
            cov: |a| {
                let alpha = v(a, 0);
                let total = trigamma(sum(alpha.clone()));
                let k = alpha.len();
                let mut m = vec![vec![-total.clone(); k]; k];
                for (i, ai) in alpha.into_iter().enumerate() {
                    m[i][i] = trigamma(ai) - total.clone();
                }
                m
            },
            raw: Some(Recognise {
                priority: 17,
                support: RawSupport::Simplex,
                monomial: None,
            }),
        }),
        not_ef_reason: None,
    },
    Family {
        name: "mvnormal_diag",
        description: "MultivariateNormal(mu, sigma) with diagonal covariance: means mu[1..d], standard deviations sigma[1..d]",
        args: &[
            ("mu", ArgKind::RealVector),
            ("sigma", ArgKind::PositiveVector),
        ],
        data: DataKind::RealVector,
        log_density: |x, a| {
            let (mu, sigma) = (v(a, 0), v(a, 1));
            sum(x
                .iter()
                .zip(mu.into_iter().zip(sigma))
                .map(|(xk, (m, s))| {
                    let z2 = sq(xk.clone() - m) / (n(2) * sq(s.clone()));
                    sum(vec![-log(s), -half_log_2pi(), -z2])
                })
                .collect())
        },
        ef: Some(ExpFamily {
            fixed: &[],
            known: no_known,
            stats: |x, _| {
                x.iter()
                    .flat_map(|xk| [xk.clone(), sq(xk.clone())])
                    .collect()
            },
            natural: |a| {
                let (mu, sigma) = (v(a, 0), v(a, 1));
                mu.iter()
                    .zip(&sigma)
                    .flat_map(|(m, s)| normal_natural(m, s))
                    .collect()
            },
            log_partition: |a| {
                let (mu, sigma) = (v(a, 0), v(a, 1));
                sum(mu
                    .iter()
                    .zip(&sigma)
                    .map(|(m, s)| normal_partition(m, s))
                    .collect())
            },
            natural_log_partition: |e, _| {
                sum(e
                    .chunks(2)
                    .map(|p| normal_natural_partition(p[0].clone(), p[1].clone()))
                    .collect())
            },
            log_base: |x, _| -(Expr::int(x.len() as i64) * half_log_2pi()),
            mean: |a| {
                let (mu, sigma) = (v(a, 0), v(a, 1));
                mu.iter()
                    .zip(&sigma)
                    .flat_map(|(m, s)| normal_mean(m, s))
                    .collect()
            },
            cov: |a| {
                let (mu, sigma) = (v(a, 0), v(a, 1));
                let d = mu.len().min(sigma.len());
                let mut m = vec![vec![Expr::zero(); 2 * d]; 2 * d];
                for (k, (mk, sk)) in mu.iter().zip(&sigma).enumerate() {
                    let c = normal_cov(mk, sk);
                    for i in 0..2 {
                        for j in 0..2 {
                            m[2 * k + i][2 * k + j] = c[i][j].clone();
                        }
                    }
                }
                m
            },
            raw: None,
        }),
        not_ef_reason: None,
    },
];

fn binomial_base(x: &Expr, nn: &Expr) -> Expr {
    sum(vec![
        lgamma(nn.clone() + n(1)),
        -lgamma(x.clone() + n(1)),
        -lgamma(nn.clone() - x.clone() + n(1)),
    ])
}

fn negbin_base(x: &Expr, r: &Expr) -> Expr {
    sum(vec![
        lgamma(x.clone() + r.clone()),
        -lgamma(r.clone()),
        -lgamma(x.clone() + n(1)),
    ])
}

fn multinomial_base(x: &[Expr], nn: &Expr) -> Expr {
    let mut terms = vec![lgamma(nn.clone() + n(1))];
    terms.extend(x.iter().map(|xk| -lgamma(xk.clone() + n(1))));
    sum(terms)
}

/// Cov of the counts of a multinomial(n, p): n (diag(p) - p pᵀ).
fn multinomial_cov(nn: &Expr, p: &[Expr]) -> Vec<Vec<Expr>> {
    let k = p.len();
    let mut m = diag(p.iter().map(|pk| nn.clone() * pk.clone()).collect());
    for i in 0..k {
        for j in 0..k {
            let outer = -prod(vec![nn.clone(), p[i].clone(), p[j].clone()]);
            m[i][j] = m[i][j].clone() + outer;
        }
    }
    m
}

fn indicator(x: &Expr, k: usize) -> Expr {
    Expr::call(Func::Indicator, vec![x.clone(), Expr::int(k as i64 + 1)])
}

fn besseli(order: i64, x: Expr) -> Expr {
    Expr::call(Func::BesselI, vec![Expr::int(order), x])
}

fn cos(x: Expr) -> Expr {
    Expr::call(Func::Cos, vec![x])
}

fn sin(x: Expr) -> Expr {
    Expr::call(Func::Sin, vec![x])
}
