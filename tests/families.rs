//! Every entry of the family table is checked numerically, so a wrong
//! formula fails here:
//! - the log-density equals η·T − A + log h (two independent formulas);
//! - the declared E[T] and Cov[T] equal quadrature or summation of
//!   p(x)·T(x) and p(x)·T(x)T(x)ᵀ over the support;
//! - the log-partition in natural parameters, A(η; κ), gives A(args) at
//!   η(args), and its gradient and Hessian there are the declared E[T]
//!   and Cov[T] (so the moments follow from A, for every family; raw
//!   densities take theirs from A(η) alone);
//! - raw recognition tries the families in one stated order.

use fimkit::families::{self, DataKind, Family};
use fimkit::ir::expr::{Expr, Name};
use fimkit::ir::model::Arg;
use fimkit::numeric::eval::eval_f64;
use fimkit::numeric::quadrature::{
    Panel, QuadConfig, QuadResult, Tolerance, integrate, sum_finite, sum_infinite,
};
use fimkit::symbolic::diff;

/// Numeric argument values for a family (one set per case).
fn cases(f: &Family) -> Vec<Vec<Arg>> {
    let s = |v: f64| Arg::Scalar(num(v));
    let vecs = |v: &[f64]| Arg::Vector(v.iter().map(|&x| num(x)).collect());
    match f.name {
        "normal" | "lognormal" => vec![vec![s(0.3), s(1.7)], vec![s(-1.2), s(0.6)]],
        "bernoulli" | "geometric" => vec![vec![s(0.3)], vec![s(0.82)]],
        "binomial" => vec![vec![s(7.0), s(0.35)]],
        "negative_binomial" => vec![vec![s(3.0), s(0.4)], vec![s(2.5), s(0.7)]],
        "poisson" => vec![vec![s(3.7)], vec![s(0.4)]],
        "exponential" => vec![vec![s(1.3)]],
        "gamma" | "gamma_scale" | "inverse_gamma" => {
            vec![vec![s(2.4), s(1.6)], vec![s(0.8), s(0.5)]]
        }
        "beta" => vec![vec![s(2.2), s(3.1)], vec![s(0.7), s(1.4)]],
        "chi_squared" => vec![vec![s(3.0)], vec![s(5.5)]],
        "inverse_gaussian" => vec![vec![s(1.4), s(2.3)]],
        "rayleigh" => vec![vec![s(0.8)]],
        "pareto" => vec![vec![s(1.5), s(3.2)]],
        "weibull" => vec![vec![s(1.7), s(2.2)], vec![s(0.8), s(1.3)]],
        "laplace" => vec![vec![s(0.4), s(1.9)]],
        "von_mises" => vec![vec![s(0.6), s(2.1)]],
        "categorical" => vec![vec![vecs(&[0.2, 0.5, 0.3])]],
        "multinomial" => vec![vec![s(5.0), vecs(&[0.2, 0.5, 0.3])]],
        "dirichlet" => vec![vec![vecs(&[1.6, 2.3, 3.1])]],
        "mvnormal_diag" => vec![vec![vecs(&[0.4, -1.0]), vecs(&[1.3, 0.7])]],
        other => panic!("no test case for family `{other}`: add one"),
    }
}

fn num(v: f64) -> Expr {
    let r = fimkit::ir::expr::parse_decimal(&format!("{}", v.abs())).expect("decimal");
    let e = Expr::num(r);
    if v < 0.0 { Expr::neg(e) } else { e }
}

fn data_names(f: &Family, args: &[Arg]) -> Vec<Name> {
    let len = args.iter().find_map(|a| match a {
        Arg::Vector(v) => Some(v.len()),
        Arg::Scalar(_) => None,
    });
    if f.data.is_vector() {
        (1..=len.unwrap_or(1))
            .map(|k| Name::from(format!("x{k}").as_str()))
            .collect()
    } else {
        vec![Name::from("x")]
    }
}

/// Evaluate at data values (no other variables remain after substitution).
fn at(e: &Expr, names: &[Name], xs: &[f64]) -> f64 {
    eval_f64(e, &|v| names.iter().position(|n| **n == *v).map(|i| xs[i])).unwrap_or(f64::NAN)
}

/// The log-density and statistics of one case, built once.
struct Prepared {
    names: Vec<Name>,
    logp: Expr,
    stats: Vec<Expr>,
}

fn prepare(f: &Family, args: &[Arg]) -> Prepared {
    let names = data_names(f, args);
    let x: Vec<Expr> = names.iter().map(|n| Expr::Var(n.clone())).collect();
    let ef = f.ef.as_ref().expect("exponential family");
    Prepared {
        logp: (f.log_density)(&x, args),
        stats: ef.stats_for(&x, args),
        names,
    }
}

/// The integrand p(x)·(1, T, T Tᵀ) at a data point.
fn integrand(p: &Prepared, xs: &[f64], out: &mut [f64]) {
    let logp = at(&p.logp, &p.names, xs);
    let t: Vec<f64> = p.stats.iter().map(|e| at(e, &p.names, xs)).collect();
    let dens = logp.exp();
    if !dens.is_finite() || dens == 0.0 {
        return;
    }
    let k = t.len();
    out[0] = dens;
    for i in 0..k {
        out[1 + i] = dens * t[i];
        for j in 0..k {
            out[1 + k + i * k + j] = dens * t[i] * t[j];
        }
    }
}

/// Moments by quadrature or summation over the support.
fn moments(f: &Family, args: &[Arg]) -> QuadResult {
    let prep = prepare(f, args);
    let k = prep.stats.len();
    let m = 1 + k + k * k;
    let tol = Tolerance::relative(1e-12);
    let config = QuadConfig::default();
    let scalar = |i: usize| match &args[i] {
        Arg::Scalar(e) => eval_f64(e, &|_| None).expect("number"),
        Arg::Vector(_) => panic!("scalar expected"),
    };
    let mut one = |x: f64, _: f64, v: &mut [f64], _: &mut [f64]| -> Result<(), ()> {
        integrand(&prep, &[x], v);
        Ok(())
    };
    match (f.name, f.data) {
        ("pareto", _) => integrate(
            m,
            &[Panel::to_infinity(scalar(0), 1.0)],
            &mut one,
            &tol,
            &config,
        )
        .expect("ok"),
        ("laplace", _) => {
            let mu = scalar(0);
            integrate(
                m,
                &[Panel::from_infinity(mu, 1.0), Panel::to_infinity(mu, 1.0)],
                &mut one,
                &tol,
                &config,
            )
            .expect("ok")
        }
        ("von_mises", _) => integrate(
            m,
            &[Panel::linear(-std::f64::consts::PI, std::f64::consts::PI)],
            &mut one,
            &tol,
            &config,
        )
        .expect("ok"),
        (_, DataKind::Real) => integrate(
            m,
            &[Panel::from_infinity(0.0, 1.0), Panel::to_infinity(0.0, 1.0)],
            &mut one,
            &tol,
            &config,
        )
        .expect("ok"),
        (_, DataKind::Positive) => integrate(
            m,
            &[Panel::linear(0.0, 1.0), Panel::to_infinity(1.0, 1.0)],
            &mut one,
            &tol,
            &config,
        )
        .expect("ok"),
        (_, DataKind::Unit) => integrate(
            m,
            &[Panel::linear(0.0, 0.5), Panel::linear(0.5, 1.0)],
            &mut one,
            &tol,
            &config,
        )
        .expect("ok"),
        (_, DataKind::Binary) => sum_finite(m, 0, 1, &mut one).expect("ok"),
        (_, DataKind::BoundedCount) => sum_finite(m, 0, scalar(0) as i64, &mut one).expect("ok"),
        (_, DataKind::Count) => sum_infinite(m, 0, &mut one, &tol, &config).expect("ok"),
        (_, DataKind::Category) => sum_finite(m, 1, 3, &mut one).expect("ok"),
        (_, DataKind::CountVector) => {
            // x1 + x2 + x3 = n: a double sum.
            let n = scalar(0) as i64;
            let mut total = vec![0.0; m];
            for a in 0..=n {
                for b in 0..=(n - a) {
                    let mut v = vec![0.0; m];
                    integrand(&prep, &[a as f64, b as f64, (n - a - b) as f64], &mut v);
                    total.iter_mut().zip(&v).for_each(|(t, x)| *t += x);
                }
            }
            QuadResult {
                value: total,
                error: vec![0.0; m],
                evaluations: 0,
                pieces: 0,
                converged: true,
            }
        }
        (_, DataKind::Simplex) => {
            // x3 = 1 - x1 - x2: nested integrals over the triangle.
            let mut outer = |x1: f64, _: f64, v: &mut [f64], _: &mut [f64]| -> Result<(), ()> {
                let mut inner = |x2: f64, _: f64, w: &mut [f64], _: &mut [f64]| -> Result<(), ()> {
                    integrand(&prep, &[x1, x2, 1.0 - x1 - x2], w);
                    Ok(())
                };
                let r = integrate(
                    m,
                    &[Panel::linear(0.0, 1.0 - x1)],
                    &mut inner,
                    &Tolerance::relative(1e-12),
                    &config,
                )?;
                v.copy_from_slice(&r.value);
                Ok(())
            };
            integrate(m, &[Panel::linear(0.0, 1.0)], &mut outer, &tol, &config).expect("ok")
        }
        (_, DataKind::RealVector) => {
            let mut outer = |x1: f64, _: f64, v: &mut [f64], _: &mut [f64]| -> Result<(), ()> {
                let mut inner = |x2: f64, _: f64, w: &mut [f64], _: &mut [f64]| -> Result<(), ()> {
                    integrand(&prep, &[x1, x2], w);
                    Ok(())
                };
                let panels = [Panel::from_infinity(0.0, 1.0), Panel::to_infinity(0.0, 1.0)];
                let r = integrate(m, &panels, &mut inner, &Tolerance::relative(1e-12), &config)?;
                v.copy_from_slice(&r.value);
                Ok(())
            };
            integrate(
                m,
                &[Panel::from_infinity(0.0, 1.0), Panel::to_infinity(0.0, 1.0)],
                &mut outer,
                &tol,
                &config,
            )
            .expect("ok")
        }
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-3)
}

#[test]
fn log_density_is_the_exponential_family_form() {
    for f in families::FAMILIES {
        let Some(ef) = &f.ef else { continue };
        for args in cases(f) {
            let names = data_names(f, &args);
            let x: Vec<Expr> = names.iter().map(|n| Expr::Var(n.clone())).collect();
            let direct = (f.log_density)(&x, &args);
            let stats = ef.stats_for(&x, &args);
            let eta = (ef.natural)(&args);
            assert_eq!(stats.len(), eta.len(), "{}: |T| != |eta|", f.name);
            let mut terms: Vec<Expr> = stats
                .iter()
                .zip(&eta)
                .map(|(t, e)| Expr::mul2(t.clone(), e.clone()))
                .collect();
            terms.push(Expr::neg((ef.log_partition)(&args)));
            terms.push(ef.log_base_for(&x, &args));
            let ef_form = Expr::add(terms);
            // Data points inside the support.
            let points: Vec<Vec<f64>> = match f.data {
                DataKind::Real | DataKind::RealVector => vec![vec![0.3, -1.1], vec![2.2, 0.4]],
                DataKind::Positive => vec![vec![0.7], vec![3.4], vec![1.9]],
                DataKind::Unit => vec![vec![0.2], vec![0.77]],
                DataKind::Binary => vec![vec![0.0], vec![1.0]],
                DataKind::Count | DataKind::BoundedCount => vec![vec![0.0], vec![2.0], vec![5.0]],
                DataKind::Category => vec![vec![1.0], vec![3.0]],
                DataKind::Simplex => vec![vec![0.2, 0.3, 0.5], vec![0.6, 0.1, 0.3]],
                DataKind::CountVector => vec![vec![1.0, 3.0, 1.0], vec![0.0, 0.0, 5.0]],
            };
            for p in points {
                let xs: Vec<f64> = if f.name == "pareto" {
                    p.iter().map(|v| v + 1.5).collect()
                } else {
                    p
                };
                let a = at(&direct, &names, &xs);
                let b = at(&ef_form, &names, &xs);
                assert!(
                    close(a, b, 1e-12),
                    "{}: log p = {a}, eta.T - A + log h = {b} at {xs:?}",
                    f.name
                );
            }
        }
    }
}

#[test]
fn declared_moments_match_quadrature() {
    for f in families::FAMILIES {
        let Some(ef) = &f.ef else { continue };
        for args in cases(f) {
            let r = moments(f, &args);
            let k = (ef.mean)(&args).len();
            let z = r.value[0];
            assert!(
                close(z, 1.0, 1e-9),
                "{}: the density integrates to {z}",
                f.name
            );
            let mean: Vec<f64> = (ef.mean)(&args)
                .iter()
                .map(|e| eval_f64(e, &|_| None).expect("number"))
                .collect();
            let cov: Vec<Vec<f64>> = (ef.cov)(&args)
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|e| eval_f64(e, &|_| None).expect("number"))
                        .collect()
                })
                .collect();
            for (i, want) in mean.iter().enumerate() {
                let m = r.value[1 + i] / z;
                assert!(
                    close(m, *want, 1e-9),
                    "{}: E[T{i}] = {m} by quadrature, table says {want}",
                    f.name
                );
            }
            for i in 0..k {
                for j in 0..k {
                    let m2 = r.value[1 + k + i * k + j] / z;
                    let c = m2 - mean[i] * mean[j];
                    let scale = (cov[i][i].abs() * cov[j][j].abs()).sqrt().max(1e-12);
                    assert!(
                        (c - cov[i][j]).abs() <= 1e-8 * scale.max(c.abs()),
                        "{}: Cov[T{i}, T{j}] = {c} by quadrature, table says {}",
                        f.name,
                        cov[i][j]
                    );
                }
            }
        }
    }
}

/// A(η; κ) of a case with η as the variables `eta0`, `eta1`, ..., and the
/// numbers η(args) to evaluate it at.
fn natural_partition(f: &Family, args: &[Arg]) -> (Expr, Vec<Name>, Vec<f64>) {
    let ef = f.ef.as_ref().expect("exponential family");
    let eta: Vec<f64> = (ef.natural)(args)
        .iter()
        .map(|e| eval_f64(e, &|_| None).expect("number"))
        .collect();
    let names: Vec<Name> = (0..eta.len())
        .map(|k| Name::from(format!("eta{k}").as_str()))
        .collect();
    let vars: Vec<Expr> = names.iter().map(|n| Expr::Var(n.clone())).collect();
    let a = (ef.natural_log_partition)(&vars, &(ef.known)(args));
    (a, names, eta)
}

#[test]
fn natural_log_partition_is_the_log_partition_at_eta() {
    for f in families::FAMILIES {
        let Some(ef) = &f.ef else { continue };
        for args in cases(f) {
            let (a, names, eta) = natural_partition(f, &args);
            let by_eta = at(&a, &names, &eta);
            let by_args = eval_f64(&(ef.log_partition)(&args), &|_| None).expect("number");
            assert!(
                close(by_eta, by_args, 1e-12),
                "{}: A(eta(args)) = {by_eta}, A(args) = {by_args}",
                f.name
            );
        }
    }
}

#[test]
fn moments_are_the_derivatives_of_the_natural_log_partition() {
    for f in families::FAMILIES {
        let Some(ef) = &f.ef else { continue };
        for args in cases(f) {
            let (a, names, eta) = natural_partition(f, &args);
            let mean = (ef.mean)(&args);
            let cov = (ef.cov)(&args);
            assert_eq!(mean.len(), eta.len(), "{}: |E[T]| != |eta|", f.name);
            for (i, ni) in names.iter().enumerate() {
                let grad = diff(&a, ni);
                let got = at(&grad, &names, &eta);
                let want = eval_f64(&mean[i], &|_| None).expect("number");
                assert!(
                    close(got, want, 1e-10),
                    "{}: dA/d eta{i} = {got}, table's E[T{i}] = {want}",
                    f.name
                );
                for (j, nj) in names.iter().enumerate() {
                    let got = at(&diff(&grad, nj), &names, &eta);
                    let want = eval_f64(&cov[i][j], &|_| None).expect("number");
                    assert!(
                        close(got, want, 1e-10),
                        "{}: d2A/d eta{i} d eta{j} = {got}, table's Cov[T{i}, T{j}] = {want}",
                        f.name
                    );
                }
            }
        }
    }
}

#[test]
fn raw_recognition_has_one_order() {
    let order: Vec<&str> = families::recognisable()
        .iter()
        .map(|(f, _, _)| f.name)
        .collect();
    let mut priorities: Vec<u8> = families::recognisable()
        .iter()
        .map(|(_, _, r)| r.priority)
        .collect();
    priorities.dedup();
    assert_eq!(
        priorities.len(),
        order.len(),
        "two families share a priority"
    );
    // The order the refusal messages list ("tried ..."), pinned: a change
    // here changes which family a raw density is reported as.
    assert_eq!(
        order,
        [
            "normal",
            "lognormal",
            "exponential",
            "rayleigh",
            "gamma",
            "inverse_gamma",
            "inverse_gaussian",
            "chi_squared",
            "beta",
            "pareto",
            "weibull",
            "laplace",
            "bernoulli",
            "binomial",
            "poisson",
            "geometric",
            "negative_binomial",
            "dirichlet",
            "multinomial",
        ]
    );
}

/// A family's own log-density, written out as a raw `logp +=` model, is
/// recognised as that family (one table: the raw route finds the `~`
/// route's family), and its F equals the `~` model's. The fixed arguments
/// keep the first case's numbers; the others are parameters at the case's
/// values. Vector families are in the raw corpus (`trinomial_raw`,
/// `dirichlet3_raw`).
#[test]
fn every_recognised_family_is_found_in_its_own_raw_density() {
    let style = fimkit::ir::text::TextStyle::ascii();
    let text = |e: &Expr| fimkit::ir::text::render(e, &style);
    for (f, ef, _) in families::recognisable() {
        if f.data.is_vector() {
            continue;
        }
        let case = &cases(f)[0];
        let mut params = String::new();
        let mut theta = Vec::new();
        let args: Vec<Arg> = f
            .args
            .iter()
            .enumerate()
            .map(|(i, (name, kind))| {
                if ef.fixed.contains(&i) {
                    return case[i].clone();
                }
                let domain = match kind {
                    families::ArgKind::Real => "real",
                    families::ArgKind::Positive => "positive",
                    families::ArgKind::Unit => "unit",
                    other => panic!("{}: no parameter domain for {other:?}", f.name),
                };
                params.push_str(&format!("param {name} : {domain}\n"));
                let Arg::Scalar(v) = &case[i] else {
                    panic!("{}: scalar argument expected", f.name)
                };
                theta.push(eval_f64(v, &|_| None).expect("number"));
                Arg::Scalar(Expr::var(name))
            })
            .collect();
        let support = match (f.name, f.data) {
            ("pareto", _) => "(3/2, inf)",
            (_, DataKind::Real) => "real",
            (_, DataKind::Positive) => "positive",
            (_, DataKind::Unit) => "unit",
            (_, DataKind::Binary) => "{0, 1}",
            (_, DataKind::BoundedCount) => "0..7",
            (_, DataKind::Count) => "count",
            (_, other) => panic!("{}: no support for {other:?}", f.name),
        };
        let head = format!("model R\n{params}data x : {support}\n");
        let logp = (f.log_density)(&[Expr::var("x")], &args);
        let raw_src = format!("{head}logp += {}\n", text(&logp));
        let call: Vec<String> = args
            .iter()
            .map(|a| match a {
                Arg::Scalar(e) => text(e),
                Arg::Vector(_) => unreachable!("scalar families only"),
            })
            .collect();
        let tilde_src = format!("{head}x ~ {}({})\n", f.name, call.join(", "));
        let raw = fimkit::Model::from_source(&raw_src, "raw.fim")
            .unwrap_or_else(|e| panic!("{}: {e}\n{raw_src}", f.name));
        let tilde = fimkit::Model::from_source(&tilde_src, "tilde.fim")
            .unwrap_or_else(|e| panic!("{}: {e}\n{tilde_src}", f.name));
        let closed = raw
            .derive()
            .fisher
            .as_ref()
            .unwrap_or_else(|b| panic!("{}: no closed form for\n{raw_src}({b})", f.name));
        // A chi-squared density is also a gamma with rate 1/2, and the
        // gamma is tried first (`families::recognisable`).
        let want = if f.name == "chi_squared" {
            "gamma"
        } else {
            f.name
        };
        let found: Vec<&str> = closed.groups.iter().map(|g| g.family).collect();
        assert_eq!(found, [want], "{}: raw density\n{raw_src}", f.name);
        let a = raw.fisher_information(&theta).expect("raw F").value;
        let b = tilde.fisher_information(&theta).expect("~ F").value;
        for (x, y) in a.iter().zip(b.iter()) {
            assert!(
                close(*x, *y, 1e-10),
                "{}: raw F {a} != ~ F {b}\n{raw_src}",
                f.name
            );
        }
    }
}
