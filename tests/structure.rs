//! The structure analysis as the stages read it. The numeric engine is
//! chosen from it in one place: separable exactly when the structure has a
//! separable split, else linear exactly when the structure's row forms
//! are fewer than the parameters (at most 4). The fit's forms (the
//! response kept out of a form's coefficients, read in the `~` arguments
//! too) and the row forms are the one affine reading: on every fixture and
//! example model with covariates they count the same forms where the fit
//! has them; the GLM models below pin both counts.

mod numeric_common;

use fimkit::numeric::derivatives::MAX_PARAMS;
use fimkit::numeric::{Engine, ModelFunctions, NumericError};
use fimkit::structure::Structure;
use nalgebra::DVector;
use numeric_common::{PK, Rng, random_point};
use std::path::{Path, PathBuf};

fn models(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read fixtures") {
        let p = entry.expect("entry").path();
        if p.is_dir() {
            models(&p, out);
        } else if p.extension().is_some_and(|e| e == "fim") {
            out.push(p);
        }
    }
}

/// (the fit's forms, the row forms, the engine) of a model.
fn counts(m: &fimkit::ir::Model) -> Option<(Option<usize>, Option<usize>, Engine)> {
    let f = ModelFunctions::new(m).ok()?;
    let s = Structure::new();
    let fit = s.linear_forms(m).map(|f| f.m());
    let rows = s.row_forms(m).map(|f| f.forms.len());
    Some((fit, rows, f.engine()))
}

/// Every fixture and example model that loads (the malformed-input
/// fixtures, not UTF-8 or not a model, are skipped), with its file.
fn corpus() -> Vec<(PathBuf, fimkit::ir::Model)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    models(&root.join("tests/fixtures"), &mut files);
    models(&root.join("examples"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|file| {
            let src = std::fs::read_to_string(&file).ok()?;
            let m = fimkit::load(&src, "m").ok()?;
            Some((file, m))
        })
        .collect()
}

#[test]
fn the_engine_is_separable_exactly_when_the_structure_has_a_split() {
    let mut separable = 0;
    for (file, m) in corpus() {
        let Ok(f) = ModelFunctions::new(&m) else {
            continue;
        };
        let split = Structure::new().separable(&m).map(|s| s.coeffs.len());
        let want = match split {
            Some(coefficients) => Engine::Separable { coefficients },
            None => row_engine(&m),
        };
        // Without structure: compiled derivatives or dense duals, by cost.
        let got = match f.engine() {
            Engine::Derivatives { .. } if m.params.len() <= MAX_PARAMS => Engine::Dense,
            e => e,
        };
        assert_eq!(got, want, "{}", file.display());
        separable += usize::from(split.is_some());
    }
    assert!(separable >= 20, "only {separable} separable models");
}

/// The engine the row forms give a model that is not separable.
fn row_engine(m: &fimkit::ir::Model) -> Engine {
    let d = m.params.len();
    match Structure::new().row_forms(m).map(|f| f.forms.len()) {
        Some(forms) if forms < d => Engine::Linear { forms },
        _ => Engine::Dense,
    }
}

#[test]
fn the_fit_forms_and_the_row_forms_agree_on_the_corpus() {
    let (mut with_forms, mut linear) = (0, 0);
    for (file, m) in corpus() {
        let Some((fit, rows, engine)) = counts(&m) else {
            continue;
        };
        linear += usize::from(matches!(engine, Engine::Linear { .. }));
        if m.covariates.is_empty() {
            continue; // the fit's forms are read only with covariates
        }
        // Where either reading takes fewer forms than parameters (a
        // regression through the origin, y ~ normal(b*z, 1), reads b*z as
        // z times the form b in the `~` argument and −b·z as a form in the
        // log-density: two fit forms, one row form, neither used).
        let d = m.params.len();
        let (fit, rows) = (fit.filter(|&k| k < d), rows.filter(|&k| k < d));
        if fit.is_some() || rows.is_some() {
            assert_eq!(fit, rows, "{}", file.display());
            with_forms += 1;
        }
    }
    // logistic, Poisson, probit regressions, the linear designs, ...
    assert!(with_forms >= 8, "only {with_forms} models with forms");
    // ... and, without covariates, a sum of 1,000 parameters, a raw
    // regression on a random regressor.
    assert!(linear >= 15, "only {linear} models on the linear engine");
}

#[test]
fn glm_models_pin_both_counts() {
    // (source, the fit's forms, the row forms)
    let cases: &[(&str, Option<usize>, Option<usize>)] = &[
        (
            "param b[1..3] : real\ncovariate z[1..3] : real\ndata y : count\n\
             y ~ poisson(exp(sum(k in 1..3, b[k]*z[k])))\n",
            Some(1),
            Some(1),
        ),
        (
            "param b0 : real\nparam b1 : real\ncovariate z : real\ndata y : {0, 1}\n\
             y ~ bernoulli(Phi(b0 + b1*z))\n",
            Some(1),
            Some(1),
        ),
        // The mean and σ.
        (
            "param b0 : real\nparam b1 : real\nparam sigma : positive\ncovariate z : real\n\
             data y : real\ny ~ normal(b0 + b1*z, sigma)\n",
            Some(2),
            Some(2),
        ),
        (
            "param a : real\nparam b : real\nparam s : positive\ncovariate x : real\n\
             data y : positive\ny ~ lognormal(a + b*x, s)\n",
            Some(2),
            Some(2),
        ),
        (
            "param b0 : real\nparam b1 : real\nparam r : positive\ncovariate z : real\n\
             data y : count\ny ~ negative_binomial(r, sigmoid(b0 + b1*z))\n",
            Some(2),
            Some(2),
        ),
        // k and the predictor (k − 1 is a shift of k, −k·η not affine):
        // two forms, fewer than the three parameters.
        (
            "param b0 : real\nparam b1 : real\nparam k : positive\ncovariate z : real\n\
             data y : positive\ny ~ weibull(k, exp(b0 + b1*z))\n",
            Some(2),
            Some(2),
        ),
        // The mean a + b·x and the log-scale: −c − s·x (from −log σ) and
        // −2c − 2s·x (in exp(−2c − 2s·x) = 1/σ²) are multiples of one
        // form, and so is the statement's c + s·x.
        (
            "param a : real\nparam b : real\nparam c : real\nparam s : real\ncovariate x : real\n\
             data y : real\ny ~ normal(a + b*x, exp(c + s*x))\n",
            Some(2),
            Some(2),
        ),
        // A regressor that is data, not a covariate: no fit forms (the
        // response would be in a coefficient), but row by row a + b·x is
        // a form like any other: m, t, s and a + b·x.
        (
            "param a : real\nparam b : real\nparam s : positive\nparam m : real\n\
             param t : positive\ndata x : real\ndata y : real\n\
             logp += -log(t) - (x - m)^2/(2*t^2)\nlogp += -log(s) - (y - a - b*x)^2/(2*s^2)\n",
            None,
            Some(4),
        ),
    ];
    for (src, fit, rows) in cases {
        let m = fimkit::load(src, "m").expect("model");
        let (got_fit, got_rows, engine) = counts(&m).expect("compiles");
        assert_eq!((got_fit, got_rows), (*fit, *rows), "{src}");
        // The numeric engine is the row forms' (none of these is separable).
        assert_eq!(engine, row_engine(&m), "{src}");
        assert!(matches!(engine, Engine::Linear { .. }), "{src}");
    }
}

/// Every model on the linear engine — the corpus's and the pinned GLM
/// cases — gives the tree walk's value, score and Hessian at random
/// points inside its domains: the engine compiles the structure's row
/// forms, a second program, and must compute the same function.
#[test]
fn the_linear_engine_equals_the_tree_walk_on_every_model_it_takes() {
    let checked = engine_equals_tree_walk(
        &[
            "param a : real\nparam b : real\nparam c : real\nparam s : real\ncovariate x : real\n\
             data y : real\ny ~ normal(a + b*x, exp(c + s*x))\n",
            "param b0 : real\nparam b1 : real\nparam k : positive\ncovariate z : real\n\
             data y : positive\ny ~ weibull(k, exp(b0 + b1*z))\n",
        ],
        |e| matches!(e, Engine::Linear { .. }),
    );
    assert!(checked >= 50, "only {checked} points checked");
}

/// The same for the derivative engine: the symbolic score and Hessian,
/// compiled, are a second program for the same function.
#[test]
fn the_derivative_engine_equals_the_tree_walk_on_every_model_it_takes() {
    let checked = engine_equals_tree_walk(
        &[
            PK,
            "param a : real\nparam b : positive\ncovariate x : real\ndata y : positive\n\
             y ~ gamma(b, b/(a*a + x*x))\n",
        ],
        |e| matches!(e, Engine::Derivatives { .. }),
    );
    assert!(checked >= 50, "only {checked} points checked");
}

/// Value, score and Hessian of every corpus model and every model of
/// `extra` whose engine `takes`, against the tree walk's at 5 random
/// points inside the domains; the number of points checked.
fn engine_equals_tree_walk(extra: &[&str], takes: impl Fn(Engine) -> bool) -> usize {
    let mut models: Vec<(String, fimkit::ir::Model)> = corpus()
        .into_iter()
        .map(|(f, m)| (f.display().to_string(), m))
        .collect();
    for src in extra {
        models.push((src.to_string(), fimkit::load(src, "m").expect("model")));
    }
    let (mut checked, mut rng) = (0, Rng(7));
    for (name, m) in models {
        let Ok(f) = ModelFunctions::new(&m) else {
            continue;
        };
        // `cos(1e6·w·x)`: the tape may multiply 1e6·w first or w·x, and
        // at that argument the two differ in the ninth digit.
        if !takes(f.engine()) || name.contains("oscillating") {
            continue;
        }
        let (params, inputs) = (f.param_names(), f.input_names());
        for _ in 0..5 {
            let (theta, data) = random_point(&m, &mut rng);
            let x: Vec<f64> = inputs
                .iter()
                .map(|n| data.iter().find(|(d, _)| **d == **n).map_or(0.5, |v| v.1))
                .collect();
            let vals = |v: &str| {
                params
                    .iter()
                    .position(|p| &**p == v)
                    .map(|i| theta[i])
                    .or_else(|| inputs.iter().position(|p| &**p == v).map(|i| x[i]))
            };
            let Ok((v, g, h)) =
                fimkit::numeric::eval::gradient_hessian(&m.logp_numeric(), &params, &vals)
            else {
                continue; // outside a support the sampler does not know
            };
            let d = match f.derivatives(&DVector::from_vec(theta.clone()), &DVector::from_vec(x)) {
                Ok(d) => d,
                // A support or a domain that depends on θ or on a
                // constant (x < θ, lo > c), which the sampler does not
                // know: the engine was not asked.
                Err(NumericError::Input { .. } | NumericError::OutsideDomain { .. }) => continue,
                Err(e) => panic!("{name}: {e}"),
            };
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * (1.0 + a.abs().max(b.abs()));
            assert!(
                close(v, d.log_density),
                "{name}: value {v} vs {}",
                d.log_density
            );
            for i in 0..params.len() {
                assert!(close(g[i], d.score[i]), "{name}: score {i}");
                for j in 0..params.len() {
                    assert!(close(h[(i, j)], d.hessian[(i, j)]), "{name}: H[{i}][{j}]");
                }
            }
            checked += 1;
        }
    }
    checked
}
