//! Numeric Fisher information (tiers 2 and 3) against independent values:
//! every closed form of the textbook corpus and examples (1e-8 relative),
//! the location–scale constants, non-exponential-family models with
//! published or mpmath reference values, and the deliberately broken models.

use fimkit::fisher::numeric::{NumericConfig, Tier, moments};
use fimkit::fisher::{DeriveConfig, derive, numeric_fim};
use fimkit::ir::expr::Name;
use fimkit::numeric::eval::eval_f64;
use fimkit::numeric::{NumericError, Wording};
use fimkit::render::text::render;
use nalgebra::DMatrix;
use std::path::Path;

fn load(path: &str) -> fimkit::ir::Model {
    let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    fimkit::load(&src, "m").unwrap_or_else(|d| panic!("{path}: {d:?}"))
}

/// `max_ij |a − b| / √(b_ii b_jj)`.
fn rel_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let n = a.nrows();
    let mut worst = 0.0f64;
    for i in 0..n {
        for j in 0..n {
            let s = (b[(i, i)].abs() * b[(j, j)].abs()).sqrt().max(1e-300);
            worst = worst.max((a[(i, j)] - b[(i, j)]).abs() / s);
        }
    }
    worst
}

fn matrix(rows: &[Vec<f64>]) -> DMatrix<f64> {
    let n = rows.len();
    DMatrix::from_fn(n, n, |i, j| rows[i][j])
}

/// A point inside each parameter's domain, covariates at fixed values.
fn point(model: &fimkit::ir::Model, k: usize) -> (Vec<f64>, NumericConfig) {
    let mut rng = fimkit::fisher::numeric::SplitMix(1000 + k as u64);
    let cfg = NumericConfig {
        covariates: model
            .covariates
            .iter()
            .map(|c| (c.name.clone(), 2.0 * rng.next_f64() - 1.0))
            .collect(),
        ..NumericConfig::default()
    };
    let theta = model
        .params
        .iter()
        .map(|p| {
            let u = 0.2 + 0.6 * rng.next_f64();
            let end = |e: &Option<fimkit::Expr>| {
                e.as_ref()
                    .map(|e| eval_f64(&model.substitute_consts(e), &|_| None).unwrap())
            };
            match (end(&p.domain.lo), end(&p.domain.hi)) {
                (Some(a), Some(b)) => a + (b - a) * u * 0.5,
                (Some(a), None) => a + 0.5 + 2.0 * u,
                (None, Some(b)) => b - 0.5 - 2.0 * u,
                (None, None) => 3.0 * u - 1.5,
            }
        })
        .collect();
    (theta, cfg)
}

fn closed_form_at(
    model: &fimkit::ir::Model,
    fim: &[Vec<fimkit::Expr>],
    theta: &[f64],
    cfg: &NumericConfig,
) -> DMatrix<f64> {
    let params = model.param_names();
    let env = |name: &str| {
        if let Some(k) = params.iter().position(|p| &**p == name) {
            return Some(theta[k]);
        }
        if let Some(v) = model.const_value(name) {
            return Some(fimkit::ir::expr::rational_to_f64(v));
        }
        cfg.covariates
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| *v)
    };
    let n = params.len();
    DMatrix::from_fn(n, n, |i, j| eval_f64(&fim[i][j], &env).unwrap())
}

fn corpus() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["tests/fixtures/textbook", "examples"] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "fim") {
                files.push(p.display().to_string());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn numeric_equals_every_textbook_closed_form() {
    let config = DeriveConfig {
        simplify: None,
        ..DeriveConfig::default()
    };
    let files = corpus();
    assert!(files.len() >= 35, "corpus has {} files", files.len());
    let points = if std::env::var("FIMKIT_LONG").is_ok() {
        6
    } else {
        2
    };
    let mut compared = 0;
    for file in &files {
        let model = load(file);
        let d = derive(&model, &config).written_out();
        for k in 0..points {
            let (theta, mut cfg) = point(&model, k);
            cfg.location_scale = false;
            let num = numeric_fim(&model, &theta, &cfg)
                .unwrap_or_else(|e| panic!("{file} at {theta:?}: {e}"));
            // No warnings: normalised, both Bartlett forms agree. The one
            // exception: the nested 2-D rule on a correlated normal pair
            // (rho near -0.6) stops short of 1e-10 in some panel; the value
            // is still checked to 1e-8 below.
            let correlated_pair = file.ends_with("bivariate_normal_rho.fim");
            assert!(
                num.warnings
                    .iter()
                    .all(|w| correlated_pair && w.contains("did not meet its tolerance")),
                "{file}: {:?}",
                num.warnings
            );
            let Ok(cf) = &d.fisher else {
                continue;
            };
            compared += 1;
            let exact = closed_form_at(&model, &cf.fim, &theta, &cfg);
            let diff = rel_diff(&num.value, &exact);
            assert!(
                diff < 1e-8,
                "{file} at {theta:?}: numeric {} vs closed form {exact} (rel {diff:e}, {})",
                num.value,
                num.method
            );
            // The error estimate is honest: it covers the actual error
            // (with a floor for estimates below rounding).
            for i in 0..exact.nrows() {
                for j in 0..exact.ncols() {
                    let actual = (num.value[(i, j)] - exact[(i, j)]).abs();
                    let scale = (exact[(i, i)] * exact[(j, j)]).abs().sqrt();
                    assert!(
                        actual <= 10.0 * num.error[(i, j)] + 1e-12 * scale,
                        "{file}: entry ({i},{j}) off by {actual:e}, estimate {:e}",
                        num.error[(i, j)]
                    );
                }
            }
        }
    }
    assert!(compared >= 30 * points, "only {compared} comparisons");
}

struct Known {
    file: &'static str,
    /// F at scale 1 (the constants C).
    constants: Vec<Vec<f64>>,
    /// The recognised closed forms, as ASCII text.
    text: &'static [&'static str],
}

#[test]
fn location_scale_constants_are_known_values() {
    let pi2 = std::f64::consts::PI.powi(2);
    let g = 0.577_215_664_901_532_9_f64;
    let cases = [
        Known {
            file: "cauchy.fim",
            constants: vec![vec![0.5, 0.0], vec![0.0, 0.5]],
            text: &["1/(2*sigma^2)", "0", "0", "1/(2*sigma^2)"],
        },
        Known {
            file: "student_t5.fim",
            constants: vec![vec![0.75, 0.0], vec![0.0, 1.25]],
            text: &["3/(4*sigma^2)", "0", "0", "5/(4*sigma^2)"],
        },
        Known {
            file: "logistic.fim",
            constants: vec![vec![1.0 / 3.0, 0.0], vec![0.0, (pi2 + 3.0) / 9.0]],
            text: &["1/(3*s^2)", "0", "0", "(pi^2 + 3)/(9*s^2)"],
        },
        Known {
            file: "laplace2.fim",
            constants: vec![vec![1.0, 0.0], vec![0.0, 1.0]],
            text: &["1/b^2", "0", "0", "1/b^2"],
        },
        Known {
            file: "gumbel.fim",
            constants: vec![
                vec![1.0, g - 1.0],
                vec![g - 1.0, pi2 / 6.0 + (1.0 - g).powi(2)],
            ],
            text: &[
                "1/beta^2",
                "(eulergamma - 1)/beta^2",
                "(eulergamma - 1)/beta^2",
                "(pi^2 + 6*eulergamma^2 + 6 - 12*eulergamma)/(6*beta^2)",
            ],
        },
    ];
    for case in cases {
        let path = format!("tests/fixtures/numeric/{}", case.file);
        let model = load(&path);
        let ls = fimkit::fisher::location_scale(&model, &NumericConfig::default())
            .unwrap_or_else(|| panic!("{path}: not detected"))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let want = matrix(&case.constants);
        let diff = rel_diff(&ls.constants, &want);
        assert!(
            diff < 1e-12,
            "{path}: {} vs {want} ({diff:e})",
            ls.constants
        );
        let fim = ls
            .fim
            .as_ref()
            .unwrap_or_else(|| panic!("{path}: constants not recognised: {}", ls.constants));
        let texts: Vec<String> = fim
            .iter()
            .flatten()
            .map(|e| render(e, &Default::default()))
            .collect();
        assert_eq!(texts, case.text, "{path}");
        // At a point: F = C/σ², tier 2, and the same as tier 3.
        let theta = [0.7, 1.9];
        let f2 = numeric_fim(&model, &theta, &NumericConfig::default()).unwrap();
        assert_eq!(f2.tier, Tier::LocationScale, "{path}");
        assert!(
            rel_diff(&f2.value, &(&want / (1.9 * 1.9))) < 1e-12,
            "{path}"
        );
        let f3 = numeric_fim(
            &model,
            &theta,
            &NumericConfig {
                location_scale: false,
                ..NumericConfig::default()
            },
        )
        .unwrap();
        assert_eq!(f3.tier, Tier::Numeric);
        assert!(
            rel_diff(&f3.value, &f2.value) < 1e-9,
            "{path}: {} vs {}",
            f3.value,
            f2.value
        );
    }
}

#[test]
fn laplace_location_kink_is_reported() {
    let model = load("tests/fixtures/numeric/laplace2.fim");
    let f = numeric_fim(&model, &[0.0, 2.0], &NumericConfig::default()).unwrap();
    // Cov[s] is the FIM; −E[H] misses the kink's delta in the μμ entry.
    assert!((f.value[(0, 0)] - 0.25).abs() < 1e-10);
    assert!(f.moments.neg_hessian[(0, 0)].abs() < 1e-10);
    assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
    assert!(f.warnings[0].contains("kink"));
}

fn reference(name: &str) -> (Vec<f64>, DMatrix<f64>) {
    let text = std::fs::read_to_string("tests/data/fisher_numeric_reference.json").unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let theta: Vec<f64> = v[name]["theta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let rows = v[name]["fim"].as_array().unwrap();
    let n = rows.len();
    let m = DMatrix::from_fn(n, n, |i, j| rows[i][j].as_f64().unwrap());
    (theta, m)
}

#[test]
fn models_without_closed_form_match_references() {
    for (file, name) in [
        ("weibull2.fim", "weibull2"),
        ("normal_mixture.fim", "normal_mixture"),
        ("zip.fim", "zip"),
        ("student_t.fim", "student_t"),
    ] {
        let path = format!("tests/fixtures/numeric/{file}");
        let model = load(&path);
        let d = derive(
            &model,
            &DeriveConfig {
                simplify: None,
                ..DeriveConfig::default()
            },
        );
        assert!(d.fisher.is_err(), "{path} has a tier-1 closed form");
        let (theta, want) = reference(name);
        let f = numeric_fim(&model, &theta, &NumericConfig::default())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(f.tier, Tier::Numeric);
        let diff = rel_diff(&f.value, &want);
        assert!(
            diff < 1e-9,
            "{path}: {} vs {want} ({diff:e}) by {}",
            f.value,
            f.method
        );
        assert!(f.warnings.is_empty(), "{path}: {:?}", f.warnings);
    }
}

#[test]
fn bivariate_normal_by_nested_quadrature() {
    let model = load("tests/fixtures/numeric/bivariate_normal.fim");
    let r: f64 = 0.6;
    let f = numeric_fim(&model, &[0.4, -1.0, r], &NumericConfig::default()).unwrap();
    let q = 1.0 - r * r;
    let want = matrix(&[
        vec![1.0 / q, -r / q, 0.0],
        vec![-r / q, 1.0 / q, 0.0],
        vec![0.0, 0.0, (1.0 + r * r) / (q * q)],
    ]);
    let diff = rel_diff(&f.value, &want);
    assert!(diff < 1e-8, "{} vs {want} ({diff:e})", f.value);
    assert!(f.method.contains("Gauss–Kronrod"));
}

#[test]
fn monte_carlo_beyond_the_quadrature_dimension() {
    // Dirichlet K = 3 by Monte Carlo (forced), against the closed form.
    let model = load("examples/dirichlet3.fim");
    let cfg = NumericConfig {
        max_quadrature_dim: 1,
        ..NumericConfig::default()
    };
    let theta = [2.0, 3.0, 4.0];
    let f = numeric_fim(&model, &theta, &cfg).unwrap();
    assert!(f.method.contains("Monte Carlo"), "{}", f.method);
    let d = derive(
        &model,
        &DeriveConfig {
            simplify: None,
            ..DeriveConfig::default()
        },
    );
    let exact = closed_form_at(&model, &d.fisher.unwrap().fim, &theta, &cfg);
    for i in 0..3 {
        for j in 0..3 {
            let err = (f.value[(i, j)] - exact[(i, j)]).abs();
            assert!(
                err <= 5.0 * f.error[(i, j)] + 1e-6,
                "({i},{j}): {} vs {} (se {})",
                f.value[(i, j)],
                exact[(i, j)],
                f.error[(i, j)]
            );
        }
    }
    assert!(f.error.max() < 1e-2 * exact.max(), "{}", f.error);
}

#[test]
fn broken_models_are_refused_with_reasons() {
    let model = load("tests/fixtures/check/wrong_constant.fim");
    match numeric_fim(&model, &[0.3, 2.0], &NumericConfig::default()) {
        Err(NumericError::NotNormalised { integral, .. }) => {
            assert!((integral - 2.0).abs() < 1e-9, "{integral}")
        }
        other => panic!("{other:?}"),
    }
    let m = moments(
        &load("tests/fixtures/check/wrong_constant_count.fim"),
        &[1.5],
        &NumericConfig::default(),
    )
    .unwrap();
    assert!(
        (m.normaliser - 1.5f64.exp()).abs() < 1e-9 * 1.5f64.exp(),
        "{}",
        m.normaliser
    );
    for file in ["uniform_theta.fim", "shifted_exponential.fim"] {
        let model = load(&format!("tests/fixtures/check/{file}"));
        let err = numeric_fim(&model, &[1.0], &NumericConfig::default()).unwrap_err();
        let NumericError::Irregular { param, .. } = &err else {
            panic!("{file}: {err:?}")
        };
        assert_eq!(**param, *"theta");
        assert!(err.to_string().contains("Bartlett") || err.to_string().contains("E[score] = 0"));
    }
}

#[test]
fn bad_points_are_errors_not_nan() {
    let model = load("tests/fixtures/numeric/cauchy.fim");
    let cfg = NumericConfig::default();
    // The one numeric error, in the numeric Fisher information's words.
    let e = numeric_fim(&model, &[0.0, -1.0], &cfg).unwrap_err();
    assert!(
        matches!(&e, NumericError::OutsideDomain { param, wording: Wording::NumericFim, .. }
            if &**param == "sigma"),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "`sigma` = -1 is outside its domain positive");
    let e = numeric_fim(&model, &[f64::NAN, 1.0], &cfg).unwrap_err();
    assert!(
        matches!(&e, NumericError::OutsideDomain { param, .. } if &**param == "mu"),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "`mu` = NaN is outside its domain real");
    let e = numeric_fim(&model, &[0.0], &cfg).unwrap_err();
    assert!(
        matches!(
            e,
            NumericError::Dimension {
                what: "parameters",
                expected: 2,
                got: 1,
                wording: Wording::NumericFim
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "the model has 2 parameters but 1 values were given"
    );
    let reg = load("tests/fixtures/textbook/logistic_regression.fim");
    let e = numeric_fim(&reg, &[0.1, 0.2, 0.3], &cfg).unwrap_err();
    assert!(
        matches!(
            &e,
            NumericError::MissingValue {
                role: "covariate",
                wording: Wording::NumericFim,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().starts_with("the covariate `") && e.to_string().ends_with("=...` with --at)"),
        "{e}"
    );
    let _: Option<Name> = None;
    assert!(Path::new("tests/fixtures/check").is_dir());
}

#[test]
fn hard_points_far_narrow_singular_and_large_counts() {
    let cfg = NumericConfig::default();
    let dc = DeriveConfig {
        simplify: None,
        ..DeriveConfig::default()
    };
    for (file, theta) in [
        // terms that underflow for hundreds of counts before the mass
        ("tests/fixtures/textbook/poisson.fim", vec![1000.0]),
        // a narrow peak far from the origin
        ("tests/fixtures/textbook/normal.fim", vec![1000.0, 1e-3]),
        // an x^{-0.95} singularity at 0
        ("tests/fixtures/textbook/gamma_rate.fim", vec![0.05, 100.0]),
        // both ends singular
        ("tests/fixtures/textbook/beta.fim", vec![0.3, 0.4]),
        // heavy right tail
        ("tests/fixtures/textbook/pareto.fim", vec![0.7]),
        ("tests/fixtures/textbook/negative_binomial.fim", vec![0.02]),
    ] {
        let model = load(file);
        let num = numeric_fim(&model, &theta, &cfg).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(num.converged, "{file}: {:?}", num.warnings);
        // Symmetric, positive semidefinite.
        assert!(
            rel_diff(&num.value, &num.value.transpose()) < 1e-12,
            "{file}"
        );
        let eig = num.value.clone().symmetric_eigen().eigenvalues;
        assert!(eig.min() > -1e-10 * eig.max().abs(), "{file}: {eig}");
        if let Ok(cf) = derive(&model, &dc).written_out().fisher {
            let exact = closed_form_at(&model, &cf.fim, &theta, &cfg);
            let diff = rel_diff(&num.value, &exact);
            assert!(diff < 1e-8, "{file}: {} vs {exact} ({diff:e})", num.value);
        }
    }
}
