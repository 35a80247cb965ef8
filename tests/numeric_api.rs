//! `ModelFunctions` on every example and textbook model: the API's Hessian
//! (dual numbers, compiled tape, linear-form path where it applies) against
//! the symbolic Hessian (`fimkit::symbolic::hessian` evaluated in f64) and
//! central finite differences of the API's own log-density, at random points
//! inside the domains; sums over data against sums of point results; and
//! the errors a user can cause.

#![expect(
    clippy::needless_range_loop,
    reason = "matrix indices read best as i, j"
)]

mod numeric_common;

use fimkit::ir::Expr;
use fimkit::ir::Model;
use fimkit::ir::model::Support;
use fimkit::numeric::eval::eval_f64;
use fimkit::numeric::{ModelFunctions, NumericError};
use nalgebra::{DMatrix, DVector, dvector};
use numeric_common::Rng;
use proptest::prelude::*;
use std::sync::OnceLock;

/// Relative agreement with an absolute floor of `tol` near 0.
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

fn load_dir(dir: &str) -> Vec<(String, Model)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("fim"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let src = std::fs::read_to_string(&p).expect("read");
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("m")
                .to_string();
            let m = fimkit::load(&src, &name).unwrap_or_else(|d| panic!("{name}: {d:?}"));
            (name, m)
        })
        .collect()
}

/// A model, its compiled functions and its symbolic gradient and Hessian.
struct Case {
    name: String,
    model: Model,
    f: ModelFunctions,
    grad: Vec<Expr>,
    hess: Vec<Vec<Expr>>,
}

fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut all = load_dir(&format!("{root}/examples"));
        all.extend(
            load_dir(&format!("{root}/tests/fixtures/textbook"))
                .into_iter()
                .map(|(n, m)| (format!("textbook/{n}"), m)),
        );
        assert!(all.len() >= 40, "examples and textbook models");
        all.into_iter()
            .map(|(name, model)| {
                let f = ModelFunctions::new(&model).unwrap_or_else(|e| panic!("{name}: {e}"));
                let logp = model.logp_numeric();
                let params = f.param_names();
                let grad = fimkit::symbolic::gradient(&logp, &params);
                let hess = fimkit::symbolic::hessian(&logp, &params);
                Case {
                    name,
                    model,
                    f,
                    grad,
                    hess,
                }
            })
            .collect()
    })
}

/// A number in (lo, hi) away from the ends; half-lines and the real line
/// get a moderate range.
fn inside(lo: Option<f64>, hi: Option<f64>, rng: &mut Rng) -> f64 {
    match (lo, hi) {
        (Some(l), Some(h)) => l + (h - l) * rng.uniform(0.15, 0.85),
        (Some(l), None) => l + rng.uniform(0.3, 3.0),
        (None, Some(h)) => h - rng.uniform(0.3, 3.0),
        (None, None) => rng.uniform(-1.5, 1.5),
    }
}

/// Evaluate a bound with constants and the values chosen so far.
fn bound(m: &Model, e: &Option<Expr>, known: &[(String, f64)]) -> Option<f64> {
    let e = m.substitute_consts(e.as_ref()?);
    eval_f64(&e, &|v| known.iter().find(|(n, _)| n == v).map(|(_, x)| *x)).ok()
}

/// A random point inside the model's domains and supports: θ and x.
fn random_point(m: &Model, rng: &mut Rng) -> (DVector<f64>, DVector<f64>) {
    let theta: Vec<f64> = m
        .params
        .iter()
        .map(|p| {
            let lo = bound(m, &p.domain.lo, &[]);
            let hi = bound(m, &p.domain.hi, &[]);
            inside(lo, hi, rng)
        })
        .collect();
    let mut known: Vec<(String, f64)> = Vec::new();
    let mut simplex: Vec<f64> = Vec::new();
    for d in &m.data {
        let v = match &d.support {
            Support::Continuous { lo, hi } => {
                inside(bound(m, lo, &known), bound(m, hi, &known), rng)
            }
            Support::Integers { lo, hi } => {
                let l = bound(m, &Some(lo.clone()), &known).unwrap_or(0.0);
                let span = bound(m, hi, &known).map_or(6.0, |h| (h - l + 1.0).min(6.0));
                l + (rng.next_f64() * span).floor()
            }
            Support::Set(vs) => {
                let i = (rng.next_f64() * vs.len() as f64) as usize;
                fimkit::ir::expr::rational_to_f64(&vs[i.min(vs.len() - 1)])
            }
            Support::Simplex { dim, .. } => {
                if simplex.is_empty() {
                    let raw: Vec<f64> = (0..*dim).map(|_| rng.uniform(0.2, 1.0)).collect();
                    let s: f64 = raw.iter().sum();
                    simplex = raw.iter().rev().map(|v| v / s).collect();
                }
                simplex.pop().unwrap_or(0.3)
            }
        };
        known.push((d.name.to_string(), v));
    }
    for c in &m.covariates {
        let v = inside(
            bound(m, &c.domain.lo, &[]),
            bound(m, &c.domain.hi, &[]),
            rng,
        );
        known.push((c.name.to_string(), v));
    }
    let x = DVector::from_iterator(known.len(), known.iter().map(|(_, v)| *v));
    (DVector::from_vec(theta), x)
}

/// Values by name for the symbolic expressions.
fn env<'a>(
    c: &'a Case,
    theta: &'a DVector<f64>,
    x: &'a DVector<f64>,
) -> impl Fn(&str) -> Option<f64> + 'a {
    let params = c.f.param_names();
    let inputs = c.f.input_names();
    move |v: &str| {
        params
            .iter()
            .position(|p| &**p == v)
            .map(|i| theta[i])
            .or_else(|| inputs.iter().position(|p| &**p == v).map(|i| x[i]))
    }
}

/// Check one point; `Ok(false)` when the point is outside a constraint the
/// domains cannot state (categorical p1 + p2 < 1) and the case is skipped.
fn check_point(c: &Case, theta: &DVector<f64>, x: &DVector<f64>) -> Result<bool, String> {
    let d = match c.f.derivatives(theta, x) {
        Ok(d) => d,
        Err(NumericError::NonFinite { .. }) => return Ok(false),
        Err(e) => return Err(format!("{}: {e} at θ = {theta:?}, x = {x:?}", c.name)),
    };
    let vals = env(c, theta, x);
    let n = theta.len();
    let logp = c.model.logp_numeric();
    let v = eval_f64(&logp, &vals).map_err(|e| format!("{}: {e}", c.name))?;
    if !close(v, d.log_density, 1e-12) {
        return Err(format!(
            "{}: log-density {} vs tree {v}",
            c.name, d.log_density
        ));
    }
    // Central finite differences of the API's own log-density.
    let fval = |shift: &[f64]| {
        let t = theta + DVector::from_column_slice(shift);
        c.f.log_density(&t, x)
    };
    for i in 0..n {
        let s = eval_f64(&c.grad[i], &vals).map_err(|e| format!("{}: {e}", c.name))?;
        if !close(s, d.score[i], 1e-9) {
            return Err(format!(
                "{} score[{i}]: symbolic {s} vs API {}",
                c.name, d.score[i]
            ));
        }
        for j in 0..n {
            let s = eval_f64(&c.hess[i][j], &vals).map_err(|e| format!("{}: {e}", c.name))?;
            let h = d.hessian[(i, j)];
            if !close(s, h, 1e-9) {
                return Err(format!("{} H[{i}][{j}]: symbolic {s} vs API {h}", c.name));
            }
            if d.hessian.amax() > 1e4 {
                // Near a constraint the domains cannot state (p1 + p2 < 1):
                // finite differences are not accurate enough to compare.
                continue;
            }
            // Central differences with Richardson extrapolation (h and h/2),
            // so the error is O(h⁴) also where the curvature is large.
            let fd_at = |scale: f64| -> Option<f64> {
                let (hi, hj) = (
                    scale * theta[i].abs().max(0.1),
                    scale * theta[j].abs().max(0.1),
                );
                let corner = |si: f64, sj: f64| {
                    let mut dv = vec![0.0; n];
                    dv[i] += si * hi;
                    dv[j] += sj * hj;
                    fval(&dv).ok()
                };
                let (pp, pm, mp, mm) = (
                    corner(1.0, 1.0)?,
                    corner(1.0, -1.0)?,
                    corner(-1.0, 1.0)?,
                    corner(-1.0, -1.0)?,
                );
                Some((pp - pm - mp + mm) / (4.0 * hi * hj))
            };
            let (Some(f1), Some(f2)) = (fd_at(2e-4), fd_at(1e-4)) else {
                return Ok(false); // a shifted point left a constraint
            };
            let fd = (4.0 * f2 - f1) / 3.0;
            // Rounding in the four corner values, divided by the step
            // product: large when |log p| is large and θ small.
            let f0 = fval(&vec![0.0; n]).map_or(1.0, |v| v.abs().max(1.0));
            let step = 1e-4 * theta[i].abs().max(0.1) * 1e-4 * theta[j].abs().max(0.1);
            let rounding = 16.0 * f64::EPSILON * f0 / step;
            if !close(fd, h, 2e-5) && (fd - h).abs() > rounding {
                return Err(format!(
                    "{} H[{i}][{j}]: finite differences {fd} vs API {h}",
                    c.name
                ));
            }
        }
    }
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("FIMKIT_LONG").map_or(12, |_| 300)))]

    /// API Hessian = symbolic Hessian (1e-9) = finite differences (2e-5),
    /// API score = symbolic gradient, on every example and textbook model.
    #[test]
    fn api_hessian_agrees_with_symbolic_and_finite_differences(seed in any::<u64>()) {
        let mut rng = Rng(seed | 1);
        for c in cases() {
            let mut checked = false;
            for _ in 0..20 {
                let (theta, x) = random_point(&c.model, &mut rng);
                match check_point(c, &theta, &x) {
                    Ok(true) => { checked = true; break; }
                    Ok(false) => continue,
                    Err(e) => prop_assert!(false, "{}", e),
                }
            }
            prop_assert!(checked, "{}: no valid point found in 20 tries", c.name);
        }
    }

    /// Sums over data equal sums of point results; the gradient-only path
    /// agrees with the summary; empirical Fisher is Σ s sᵀ.
    #[test]
    fn data_sums_are_sums_of_points(seed in any::<u64>()) {
        let mut rng = Rng(seed | 1);
        for c in cases() {
            let (theta, x0) = random_point(&c.model, &mut rng);
            if c.f.derivatives(&theta, &x0).is_err() { continue; }
            let rows: Vec<DVector<f64>> = std::iter::once(x0)
                .chain((0..6).map(|_| random_point(&c.model, &mut rng).1))
                .filter(|x| c.f.derivatives(&theta, x).is_ok())
                .collect();
            let n = theta.len();
            let mut values = Vec::new();
            for x in &rows { values.extend(x.iter()); }
            let data = c.f.schema().dataset_from_rows(values).unwrap();
            let s = c.f.summary(&theta, &data).unwrap();
            let mut ll = 0.0;
            let mut g = DVector::zeros(n);
            let mut obs = DMatrix::zeros(n, n);
            let mut emp = DMatrix::zeros(n, n);
            for x in &rows {
                let d = c.f.derivatives(&theta, x).unwrap();
                ll += d.log_density;
                g += &d.score;
                obs -= &d.hessian;
                emp += &d.score * d.score.transpose();
            }
            prop_assert_eq!(s.n_rows, rows.len());
            prop_assert!(close(s.loglik, ll, 1e-12), "{}: loglik", c.name);
            let (l2, g2) = c.f.loglik_gradient(&theta, &data).unwrap();
            prop_assert!(close(l2, ll, 1e-12), "{}: loglik (gradient path)", c.name);
            prop_assert!(close(c.f.loglik(&theta, &data).unwrap(), ll, 1e-12), "{}: loglik (f64)", c.name);
            for i in 0..n {
                prop_assert!(close(s.gradient[i], g[i], 1e-12), "{}: gradient", c.name);
                prop_assert!(close(g2[i], g[i], 1e-12), "{}: gradient (first-order path)", c.name);
                for j in 0..n {
                    prop_assert!(close(s.observed_information[(i, j)], obs[(i, j)], 1e-12), "{}: observed", c.name);
                    prop_assert!(close(s.empirical_fisher[(i, j)], emp[(i, j)], 1e-12), "{}: empirical", c.name);
                    prop_assert_eq!(s.empirical_fisher[(i, j)], s.empirical_fisher[(j, i)]);
                }
            }
        }
    }
}

fn model(src: &str) -> ModelFunctions {
    ModelFunctions::new(&fimkit::load(src, "m").expect("model")).expect("compiles")
}

/// Above 8 parameters the heap dual type is used; it agrees with symbolic.
#[test]
fn many_parameters_use_heap_duals_and_agree() {
    let src = "const K = 10\nparam a[1..K] : positive\ndata x[1..K] : simplex\nx ~ dirichlet(a)\n";
    let m = fimkit::load(src, "dir10").unwrap();
    let f = ModelFunctions::new(&m).unwrap();
    assert_eq!(f.linear_forms(), None);
    let theta = DVector::from_fn(10, |i, _| 0.5 + 0.3 * i as f64);
    let x = DVector::from_fn(10, |i, _| (i + 1) as f64 / 55.0);
    let d = f.derivatives(&theta, &x).unwrap();
    let params = f.param_names();
    let h = fimkit::symbolic::hessian(&m.logp_numeric(), &params);
    let vals = |v: &str| {
        params
            .iter()
            .position(|p| &**p == v)
            .map(|i| theta[i])
            .or_else(|| f.input_names().iter().position(|p| &**p == v).map(|i| x[i]))
    };
    for i in 0..10 {
        for j in 0..10 {
            let s = eval_f64(&h[i][j], &vals).unwrap();
            assert!(
                close(s, d.hessian[(i, j)], 1e-10),
                "H[{i}][{j}] {s} vs {}",
                d.hessian[(i, j)]
            );
        }
    }
}

/// The linear-form path (logistic regression, d = 12) agrees with the tree
/// evaluator's exact Hessian.
#[test]
fn linear_form_path_agrees_with_tree_duals() {
    let src = "const d = 12\nparam b[1..d] : real\ncovariate z[1..d] : real\ndata y : {0, 1}\n\
               y ~ bernoulli(sigmoid(sum(k in 1..d, b[k]*z[k])))\n";
    let m = fimkit::load(src, "lr").unwrap();
    let f = ModelFunctions::new(&m).unwrap();
    assert_eq!(f.linear_forms(), Some(1));
    let mut rng = Rng(99);
    for _ in 0..20 {
        let theta = DVector::from_fn(12, |_, _| rng.uniform(-1.0, 1.0));
        let mut x = vec![f64::from(u8::from(rng.next_f64() < 0.5))];
        x.extend((0..12).map(|_| rng.uniform(-2.0, 2.0)));
        let x = DVector::from_vec(x);
        let d = f.derivatives(&theta, &x).unwrap();
        let params = f.param_names();
        let inputs = f.input_names();
        let vals = |v: &str| {
            params
                .iter()
                .position(|p| &**p == v)
                .map(|i| theta[i])
                .or_else(|| inputs.iter().position(|p| &**p == v).map(|i| x[i]))
        };
        let (v, g, h) =
            fimkit::numeric::eval::gradient_hessian(&m.logp_numeric(), &params, &vals).unwrap();
        assert!(close(v, d.log_density, 1e-12));
        for i in 0..12 {
            assert!(close(g[i], d.score[i], 1e-12));
            for j in 0..12 {
                assert!(close(h[(i, j)], d.hessian[(i, j)], 1e-12), "H[{i}][{j}]");
            }
        }
    }
}

#[test]
fn by_name_inputs_and_their_errors() {
    let f = model(
        "param mu : real\nparam sigma : positive\ndata x : real\ncovariate w : (0, 1)\nlogp += w*(-log(sigma) - (x - mu)^2/(2*sigma^2))\n",
    );
    let theta = f.params_by_name(&[("sigma", 2.0), ("mu", 1.0)]).unwrap();
    assert_eq!(theta, dvector![1.0, 2.0]);
    let x = f.inputs_by_name(&[("w", 0.5), ("x", 3.0)]).unwrap();
    assert_eq!(x, dvector![3.0, 0.5]);
    assert_eq!(
        f.params_by_name(&[("mu", 1.0)]).unwrap_err().to_string(),
        "no value given for the parameter `sigma`"
    );
    assert_eq!(
        f.inputs_by_name(&[("x", 1.0)]).unwrap_err().to_string(),
        "no value given for the covariate `w`"
    );
    assert_eq!(
        f.params_by_name(&[("mu", 1.0), ("tau", 1.0)])
            .unwrap_err()
            .to_string(),
        "`tau` is not a parameter of the model (expected one of: mu, sigma)"
    );
    assert_eq!(
        f.log_density(&dvector![1.0, 2.0], &dvector![3.0, 1.5])
            .unwrap_err()
            .to_string(),
        "`w` = 1.5 is outside the domain of the covariate `w`, (0, 1)"
    );
}

#[test]
fn errors_name_the_parameter_variable_dimension_and_term() {
    let f = model("param p : unit\ndata y : {0, 1}\ny ~ bernoulli(p)\n");
    let msg = |e: NumericError| e.to_string();
    assert_eq!(
        msg(f.hessian(&dvector![1.5], &dvector![1.0]).unwrap_err()),
        "parameter `p` = 1.5 is outside its domain, unit (0, 1)"
    );
    assert_eq!(
        msg(f.hessian(&dvector![f64::NAN], &dvector![1.0]).unwrap_err()),
        "parameter `p` = NaN is not a finite number (domain unit (0, 1))"
    );
    assert_eq!(
        msg(f.score(&dvector![0.5], &dvector![2.0]).unwrap_err()),
        "`y` = 2 is outside the support of `y`, {0, 1}"
    );
    assert_eq!(
        msg(f.score(&dvector![0.5, 0.1], &dvector![1.0]).unwrap_err()),
        "expected 1 parameters, got 2"
    );
    assert_eq!(
        msg(f.score(&dvector![0.5], &dvector![1.0, 0.0]).unwrap_err()),
        "expected 1 inputs, got 2"
    );
    // An overflow names the statement and the innermost subexpression.
    let f = model("param a : real\ndata x : real\nlogp += -(x - a)^2\nlogp += -exp(a*x)\n");
    let e = f.log_density(&dvector![800.0], &dvector![2.0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "in `logp += -exp(a*x)`: `exp(a*x)` evaluates to inf (not a finite number)"
    );
    // Over data: the row is named too.
    let data = f.schema().dataset_from_rows(vec![0.1, 0.2, 3.0]).unwrap();
    let e = f.summary(&dvector![300.0], &data).unwrap_err();
    assert_eq!(
        e.to_string(),
        "row 3: in `logp += -exp(a*x)`: `exp(a*x)` evaluates to inf (not a finite number)"
    );
    assert!(matches!(e, NumericError::NonFinite { row: Some(3), .. }));
    // A finite value with an infinite derivative: sqrt at 0.
    let f = model("param a : real\ndata x : real\nlogp += -sqrt((x - a)^2)\n");
    let e = f.hessian(&dvector![1.0], &dvector![1.0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "in `logp += -sqrt((a - x)^2)`: the derivatives of `sqrt((a - x)^2)` are not finite (NaN)"
    );
    assert!(
        f.summary(
            &dvector![1.0],
            &f.schema().dataset_from_rows(vec![0.0, 1.0]).unwrap()
        )
        .is_err()
    );
}

/// A support that moves with a parameter is checked once θ is known.
#[test]
fn moving_support_is_checked_against_theta() {
    let f = model("param t : positive\ndata x : (0, t)\nlogp += -log(t)\n");
    assert!(f.log_density(&dvector![2.0], &dvector![1.0]).is_ok());
    assert_eq!(
        f.log_density(&dvector![0.5], &dvector![1.0])
            .unwrap_err()
            .to_string(),
        "`x` = 1 is outside the support of `x`, (0, t) (upper end 0.5 in this row)"
    );
    let data = f.schema().dataset_from_rows(vec![0.2, 0.9]).unwrap();
    assert_eq!(
        f.loglik(&dvector![0.5], &data).unwrap_err().to_string(),
        "row 2: `x` = 0.9 is outside the support of `x`, (0, t) (upper end 0.5 in this row)"
    );
}

/// Results over many rows (several parallel chunks) do not depend on
/// the order chunks finish in: repeated runs are bit-identical.
#[test]
fn parallel_sums_are_reproducible() {
    let f = model(
        "param alpha : positive\nparam beta : positive\ndata x : positive\nx ~ gamma(alpha, beta)\n",
    );
    let mut rng = Rng(5);
    let xs: Vec<f64> = (0..20_000).map(|_| rng.uniform(0.1, 4.0)).collect();
    let data = f.schema().dataset_from_rows(xs).unwrap();
    let theta = dvector![2.0, 1.5];
    let a = f.summary(&theta, &data).unwrap();
    for _ in 0..3 {
        assert_eq!(f.summary(&theta, &data).unwrap(), a);
    }
    // Observed information of the Gamma does not depend on x: n·[ψ₁(α), −1/β; −1/β, α/β²].
    let n = 20_000.0;
    let psi1 = fimkit::numeric::special::polygamma(1, 2.0);
    assert!(close(a.observed_information[(0, 0)], n * psi1, 1e-12));
    assert!(close(a.observed_information[(0, 1)], -n / 1.5, 1e-12));
    assert!(close(a.observed_information[(1, 1)], n * 2.0 / 2.25, 1e-12));
}
