//! Invariants of every closed-form Fisher information, at random parameter
//! points inside the domains (proptest):
//! - F is symmetric and positive semidefinite;
//! - in alternative coordinates, the directly derived F equals Jᵀ F J.

use fimkit::fisher::{DeriveConfig, derive, derive_coords};
use fimkit::ir::model::Model;
use fimkit::numeric::eval::eval_f64;
use nalgebra::DMatrix;
use proptest::prelude::*;
use std::path::Path;

fn cases() -> u32 {
    std::env::var("FIMKIT_LONG").map_or(24, |_| 400)
}

fn models(dir: &str) -> Vec<(String, Model)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "fim"))
        .map(|p| {
            let name = p.file_stem().expect("stem").to_string_lossy().into_owned();
            let m =
                fimkit::load(&std::fs::read_to_string(&p).expect("read"), &name).expect("loads");
            (name, m)
        })
        .collect()
}

/// Map uniform draws in (0, 1) to a point inside every parameter's domain;
/// unit parameters share a total below one (probability vectors).
fn point(
    m: &Model,
    params: &[(String, fimkit::ir::model::Domain)],
    u: &[f64],
) -> Vec<(String, f64)> {
    let is_unit = |d: &fimkit::ir::model::Domain| {
        d.lo.as_ref().is_some_and(|e| e.is_zero()) && d.hi.as_ref().is_some_and(|e| e.is_one())
    };
    let units = params.iter().filter(|(_, d)| is_unit(d)).count().max(1) as f64;
    let bound = |e: &Option<fimkit::Expr>| {
        e.as_ref()
            .and_then(|e| eval_f64(&m.substitute_consts(e), &|_| None).ok())
    };
    let mut at: Vec<(String, f64)> = params
        .iter()
        .zip(u)
        .map(|((n, d), &u)| {
            let v = if is_unit(d) {
                (0.05 + 0.9 * u) / (units + 0.2)
            } else {
                match (bound(&d.lo), bound(&d.hi)) {
                    (None, None) => 4.0 * (u - 0.5),
                    (Some(lo), None) => lo + (3.0 * (u - 0.5)).exp(),
                    (None, Some(hi)) => hi - (3.0 * (u - 0.5)).exp(),
                    (Some(lo), Some(hi)) => lo + (hi - lo) * (0.05 + 0.9 * u),
                }
            };
            (n.clone(), v)
        })
        .collect();
    at.extend(m.consts.iter().map(|c| (c.name.to_string(), c.value_f64())));
    at.extend(
        m.covariates
            .iter()
            .zip(u.iter().rev())
            .map(|(c, &u)| (c.name.to_string(), 3.0 * (u - 0.5))),
    );
    at
}

/// Every derivation once: (model name, model, [(parameter domains, derivation)]).
type Derived = (
    String,
    Model,
    Vec<(
        Vec<(String, fimkit::ir::model::Domain)>,
        fimkit::fisher::Derivation,
    )>,
);

fn derived(dirs: &[&str]) -> Vec<&'static Derived> {
    static ALL: std::sync::OnceLock<Vec<(String, Derived)>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| {
        let config = DeriveConfig::default();
        let mut out = Vec::new();
        for dir in [
            "tests/fixtures/textbook",
            "examples",
            "tests/fixtures/coords",
        ] {
            for (name, m) in models(dir) {
                let base = derive(&m, &config).written_out();
                let mut list = vec![(
                    m.params
                        .iter()
                        .map(|p| (p.name.to_string(), p.domain.clone()))
                        .collect::<Vec<_>>(),
                    base.clone(),
                )];
                for c in derive_coords(&m, &base, &config) {
                    let block = m.coords.iter().find(|b| b.name == c.name).expect("block");
                    list.push((
                        block
                            .params
                            .iter()
                            .map(|p| (p.name.to_string(), p.domain.clone()))
                            .collect(),
                        c.derivation,
                    ));
                }
                out.push((dir.to_string(), (name, m, list)));
            }
        }
        out
    });
    all.iter()
        .filter(|(d, _)| dirs.contains(&d.as_str()))
        .map(|(_, x)| x)
        .collect()
}

fn numeric(f: &[Vec<fimkit::Expr>], at: &[(String, f64)]) -> DMatrix<f64> {
    let lookup = |v: &str| at.iter().find(|(n, _)| n == v).map(|(_, x)| *x);
    let n = f.len();
    DMatrix::from_fn(n, n, |i, j| {
        eval_f64(&f[i][j], &lookup).unwrap_or_else(|e| panic!("F[{i}][{j}] at {at:?}: {e}"))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Every corpus and example FIM is symmetric positive semidefinite.
    #[test]
    fn fim_is_symmetric_psd(u in proptest::collection::vec(0.0f64..1.0, 12)) {
        for (name, m, list) in derived(&["tests/fixtures/textbook", "examples"]) {
            let (params, d) = &list[0];
            let Ok(cf) = &d.fisher else { continue };
            let at = point(m, params, &u);
            let f = numeric(&cf.fim, &at);
            let scale = f.amax().max(1e-300);
            prop_assert!((&f - f.transpose()).amax() <= 1e-12 * scale, "{name}: F not symmetric at {at:?}");
            let min = f.symmetric_eigen().eigenvalues.min();
            prop_assert!(min >= -1e-10 * scale, "{name}: F has eigenvalue {min} at {at:?}");
        }
    }

    /// Alternative coordinates: F(φ) derived directly = Jᵀ F(θ(φ)) J.
    #[test]
    fn coordinates_pull_back(u in proptest::collection::vec(0.0f64..1.0, 12)) {
        for (name, m) in models("tests/fixtures/coords") {
            let config = DeriveConfig { simplify: None, ..Default::default() };
            let base = derive(&m, &config).written_out();
            for c in derive_coords(&m, &base, &config) {
                let cf = c.derivation.fisher.as_ref().unwrap_or_else(|b| panic!("{name}/{}: {b}", c.name));
                let pullback = c.pullback.as_ref().expect("base model has a closed form");
                let block = m.coords.iter().find(|b| b.name == c.name).expect("block");
                let params: Vec<_> = block.params.iter().map(|p| (p.name.to_string(), p.domain.clone())).collect();
                let at = point(&m, &params, &u);
                let direct = numeric(&cf.fim, &at);
                let pulled = numeric(pullback, &at);
                let scale = direct.amax().max(1e-300);
                prop_assert!((&direct - &pulled).amax() <= 1e-9 * scale, "{name}/{}: {direct} vs {pulled} at {at:?}", c.name);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// The Jeffreys prior is real and its square is proportional to det F.
    #[test]
    fn jeffreys_squared_is_proportional_to_det(u in proptest::collection::vec(0.0f64..1.0, 12), v in proptest::collection::vec(0.0f64..1.0, 12)) {
        for (name, m, list) in derived(&["tests/fixtures/textbook", "examples", "tests/fixtures/coords"]) {
            for (params, d) in list {
                let Ok(cf) = &d.fisher else { continue };
                let (Some(j), Some(det)) = (&cf.jeffreys, &cf.det) else { continue };
                let ratio = |u: &[f64]| {
                    let at = point(m, params, u);
                    let lookup = |v: &str| at.iter().find(|(n, _)| n == v).map(|(_, x)| *x);
                    let jv = eval_f64(j, &lookup).unwrap_or_else(|e| panic!("{name}: Jeffreys at {at:?}: {e}"));
                    let dv = eval_f64(det, &lookup).unwrap_or_else(|e| panic!("{name}: det at {at:?}: {e}"));
                    assert!(jv > 0.0 && dv > 0.0, "{name}: Jeffreys {jv}, det {dv} at {at:?}");
                    jv * jv / dv
                };
                let (a, b) = (ratio(&u), ratio(&v));
                prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()), "{name}: Jeffreys^2/det varies: {a} vs {b}");
            }
        }
    }
}

/// KL(p_θ ‖ p_θ+δ) by quadrature or summation over one data variable.
fn kl_numeric(m: &Model, theta: &[(String, f64)], moved: &[(String, f64)]) -> Option<f64> {
    use fimkit::ir::model::Support;
    use fimkit::numeric::quadrature::{
        Panel, QuadConfig, Tolerance, integrate, sum_finite, sum_infinite,
    };
    if m.data.len() != 1 || !m.covariates.is_empty() {
        return None;
    }
    let logp = m.logp_numeric();
    let x = m.data[0].name.to_string();
    let value = |at: &[(String, f64)], xv: f64| {
        eval_f64(&logp, &|v| {
            if v == x {
                Some(xv)
            } else {
                at.iter().find(|(n, _)| n == v).map(|(_, y)| *y)
            }
        })
        .unwrap_or(f64::NAN)
    };
    let mut f = |xv: f64, _: f64, out: &mut [f64], _: &mut [f64]| -> Result<(), ()> {
        let (a, b) = (value(theta, xv), value(moved, xv));
        let p = a.exp();
        if p > 0.0 && p.is_finite() {
            out[0] = p * (a - b);
        }
        Ok(())
    };
    let tol = Tolerance {
        rel: 1e-11,
        abs: 1e-300,
        scale: None,
    };
    let cfg = QuadConfig::default();
    let num = |e: &Option<fimkit::Expr>| {
        e.as_ref()
            .and_then(|e| eval_f64(&m.substitute_consts(e), &|_| None).ok())
    };
    let r = match &m.data[0].support {
        Support::Continuous { lo: None, hi: None } => integrate(
            1,
            &[Panel::from_infinity(0.0, 1.0), Panel::to_infinity(0.0, 1.0)],
            &mut f,
            &tol,
            &cfg,
        ),
        Support::Continuous {
            lo: Some(lo),
            hi: None,
        } => {
            use fimkit::numeric::quadrature::Map;
            let lo = num(&Some(lo.clone()))?;
            let panels = [
                Panel {
                    map: Map::SmoothLo { a: lo, b: lo + 1.0 },
                },
                Panel::to_infinity(lo + 1.0, 1.0),
            ];
            integrate(1, &panels, &mut f, &tol, &cfg)
        }
        Support::Continuous {
            lo: Some(lo),
            hi: Some(hi),
        } => {
            // Densities such as the beta's are singular at both ends.
            use fimkit::numeric::quadrature::Map;
            let (lo, hi) = (num(&Some(lo.clone()))?, num(&Some(hi.clone()))?);
            let mid = 0.5 * (lo + hi);
            let panels = [
                Panel {
                    map: Map::SmoothLo { a: lo, b: mid },
                },
                Panel {
                    map: Map::SmoothHi { a: mid, b: hi },
                },
            ];
            integrate(1, &panels, &mut f, &tol, &cfg)
        }
        Support::Integers { lo, hi: None } => {
            sum_infinite(1, num(&Some(lo.clone()))? as i64, &mut f, &tol, &cfg)
        }
        Support::Integers { lo, hi: Some(hi) } => sum_finite(
            1,
            num(&Some(lo.clone()))? as i64,
            num(&Some(hi.clone()))? as i64,
            &mut f,
        ),
        Support::Set(vs) => {
            let lo = vs.first()?.to_string().parse::<i64>().ok()?;
            let hi = vs.last()?.to_string().parse::<i64>().ok()?;
            sum_finite(1, lo, hi, &mut f)
        }
        _ => return None,
    };
    r.ok().map(|r| r.value[0])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cases() > 24 { 60 } else { 3 }))]

    /// KL(p_θ ‖ p_θ+δ) ≈ ½ δᵀ F δ: the relative gap shrinks like |δ|.
    #[test]
    fn kl_is_half_the_fisher_quadratic_form(u in proptest::collection::vec(0.0f64..1.0, 12), dir in proptest::collection::vec(-1.0f64..1.0, 12)) {
        for (name, m, list) in derived(&["tests/fixtures/textbook", "examples"]) {
            let (params, d) = &list[0];
            let Ok(cf) = &d.fisher else { continue };
            // Moderate parameter values: the KL integrals must be accurate
            // to about 1e-9 relative for the gap to be measured.
            let u: Vec<f64> = u.iter().map(|x| 0.3 + 0.4 * x).collect();
            let at = point(m, params, &u);
            let f = numeric(&cf.fim, &at);
            let n = params.len();
            let v = nalgebra::DVector::from_iterator(n, dir.iter().take(n).copied());
            if v.norm() < 0.1 {
                continue;
            }
            let mut gaps = Vec::new();
            for eps in [1e-2, 5e-3] {
                let delta = &v * (eps / v.norm());
                let moved: Vec<(String, f64)> = at.iter().map(|(k, x)| {
                    let i = params.iter().position(|(p, _)| p == k);
                    (k.clone(), i.map_or(*x, |i| x + delta[i]))
                }).collect();
                let Some(kl) = kl_numeric(m, &at, &moved) else { break };
                let quad = 0.5 * (delta.transpose() * &f * &delta)[(0, 0)];
                prop_assert!(quad > 0.0, "{name}: zero quadratic form at {at:?}");
                gaps.push(((kl / quad) - 1.0).abs());
            }
            if gaps.len() == 2 {
                prop_assert!(gaps[0] < 0.2, "{name}: KL/(δᵀFδ/2) - 1 = {} at δ = 1e-2, {at:?}", gaps[0]);
                prop_assert!(gaps[1] <= 0.7 * gaps[0] + 1e-3, "{name}: the gap does not shrink with δ: {gaps:?} at {at:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// The natural-gradient formula equals F⁻¹ s solved numerically.
    #[test]
    fn natural_gradient_solves_f(u in proptest::collection::vec(0.0f64..1.0, 12), x in 0.05f64..0.95) {
        for (name, m, list) in derived(&["tests/fixtures/textbook", "examples"]) {
            let (params, d) = &list[0];
            let Ok(cf) = &d.fisher else { continue };
            let Some(ng) = &cf.natural_gradient else { continue };
            let mut at = point(m, params, &u);
            // Data values inside their supports: x in (0, 1) works for every
            // continuous support of the corpus, 1 for the counts.
            at.extend(m.data.iter().map(|dv| {
                let v = if dv.support.is_discrete() { 1.0 } else { x };
                (dv.name.to_string(), v)
            }));
            let lookup = |v: &str| at.iter().find(|(n, _)| n == v).map(|(_, y)| *y);
            let n = params.len();
            let f = numeric(&cf.fim, &at);
            let Ok(s) = d.score.iter().map(|e| eval_f64(e, &lookup)).collect::<Result<Vec<f64>, _>>() else { continue };
            let Some(chol) = f.clone().cholesky() else { continue };
            let want = chol.solve(&nalgebra::DVector::from_vec(s));
            for i in 0..n {
                let got = eval_f64(&ng[i], &lookup).expect("evaluates");
                prop_assert!((got - want[i]).abs() <= 1e-9 * want[i].abs().max(1.0), "{name}: (F^-1 s)[{i}] = {got}, solve gives {} at {at:?}", want[i]);
            }
        }
    }
}
