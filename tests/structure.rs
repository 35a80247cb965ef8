//! The structure analysis as the stages read it. The numeric engine is
//! chosen from it in one place: separable exactly when the structure has a
//! separable split. And the two readings of "θ through a few linear forms"
//! cannot drift apart silently: the structure's symbolic affine decomposition
//! (`structure::forms`, the fit's GLM path) and the compiled tape's
//! frontier of linear instructions (`Tape::linear_hessian`, the numeric
//! linear engine's execution plan) count the same forms wherever the tape
//! takes the model (fewer forms than parameters), on every fixture and
//! example model with covariates; the GLM models below pin both counts,
//! the one known difference included, with its reason.

use fimkit::numeric::{Engine, ModelFunctions};
use fimkit::structure::Structure;
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

/// (symbolic forms, tape forms, the engine's forms) of a model.
fn counts(m: &fimkit::ir::Model) -> Option<(Option<usize>, Option<usize>, Engine)> {
    let f = ModelFunctions::new(m).ok()?;
    let sym = Structure::new().linear_forms(m).map(|f| f.m());
    let tape = f.tape().linear_hessian().map(|l| l.forms());
    Some((sym, tape, f.engine()))
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
            None => f
                .tape()
                .linear_hessian()
                .map_or(Engine::Dense, |l| Engine::Linear { forms: l.forms() }),
        };
        assert_eq!(f.engine(), want, "{}", file.display());
        separable += usize::from(split.is_some());
    }
    assert!(separable >= 20, "only {separable} separable models");
}

#[test]
fn symbolic_forms_and_the_tape_frontier_agree_on_the_corpus() {
    let mut with_forms = 0;
    for (file, m) in corpus() {
        if m.covariates.is_empty() {
            continue; // the symbolic forms are read only with covariates
        }
        let Some((sym, tape, _)) = counts(&m) else {
            continue;
        };
        // The tape takes fewer forms than parameters; where the symbolic
        // decomposition finds as many or more (a nonlinear model: each
        // parameter its own form), the tape has none.
        let d = m.params.len();
        assert_eq!(
            tape,
            sym.filter(|&k| k < d),
            "{}: symbolic forms {sym:?}, the tape's frontier {tape:?}, d = {d}",
            file.display()
        );
        with_forms += usize::from(tape.is_some());
    }
    // logistic, Poisson, probit regressions, the linear designs, ...
    assert!(with_forms >= 8, "only {with_forms} models with forms");
}

#[test]
fn glm_models_pin_both_counts() {
    // (source, symbolic forms, tape forms)
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
        // k, the predictor and k·exp(...)'s k: as many forms as parameters,
        // which the tape does not take.
        (
            "param b0 : real\nparam b1 : real\nparam k : positive\ncovariate z : real\n\
             data y : positive\ny ~ weibull(k, exp(b0 + b1*z))\n",
            Some(3),
            None,
        ),
        // The known difference. The log-density holds −c − s·x (from
        // −log σ) and exp(−2c − 2s·x), the statement's scale exp(c + s·x):
        // the symbolic decomposition reads c, s, a + b·x, −2c − 2s·x and
        // c + s·x, five forms (a sum that is not affine as a whole is taken
        // term by term, and a multiple of a form is another form), more
        // than 4, so the fit takes its general path; the tape adds the
        // linear terms of one sum in one register and derives a scaled
        // register from its source: three forms for the numeric engine.
        (
            "param a : real\nparam b : real\nparam c : real\nparam s : real\ncovariate x : real\n\
             data y : real\ny ~ normal(a + b*x, exp(c + s*x))\n",
            None,
            Some(3),
        ),
    ];
    for (src, sym, tape) in cases {
        let m = fimkit::load(src, "m").expect("model");
        let (got_sym, got_tape, engine) = counts(&m).expect("compiles");
        assert_eq!((got_sym, got_tape), (*sym, *tape), "{src}");
        // The numeric engine is the tape's (none of these is separable).
        let want = tape.map_or(Engine::Dense, |forms| Engine::Linear { forms });
        assert_eq!(engine, want, "{src}");
    }
}
