//! The hard invariant of a closed form (ARCHITECTURE.md, "Invariants"):
//! a closed-form Fisher information is reported only when it contains no
//! data variable and both independent formulas agree (or the Hessian is
//! free of data, F = −H exactly); otherwise there is no closed form and a
//! `Blocker` says why.
//!
//! Checked on every model file of the corpus (textbook, examples,
//! coordinates, numeric, check and invariant fixtures) through every route
//! to a closed form (`derive`, `fisher_information`, both in every
//! coordinate system), against the numeric FIM at a point; and by a
//! property test on random raw log-densities over one or two data
//! variables.

use fimkit::fisher::identifiability::Agreement;
use fimkit::fisher::numeric::{NumericConfig, numeric_fim};
use fimkit::fisher::{ClosedForm, DeriveConfig, derive, fisher_information};
use fimkit::ir::Model;
use fimkit::numeric::eval::eval_f64;
use fimkit::render::text::TextStyle;
use proptest::prelude::*;
use std::path::Path;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/fisher");
    s.set_prepend_module_to_snapshot(false);
    s
}

/// Every model file of the corpus that loads, by path.
fn corpus() -> Vec<(String, String, Model)> {
    let mut out = Vec::new();
    for dir in [
        "tests/fixtures/textbook",
        "tests/fixtures/textbook/raw",
        "tests/fixtures/textbook/raw_numeric",
        "tests/fixtures/textbook/raw_refused",
        "examples",
        "tests/fixtures/coords",
        "tests/fixtures/numeric",
        "tests/fixtures/check",
        "tests/fixtures/invariant",
    ] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("corpus dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "fim"))
            .collect();
        files.sort();
        for path in files {
            let source = std::fs::read_to_string(&path).expect("read");
            let name = path.display().to_string();
            if let Ok(m) = fimkit::load(&source, &name) {
                out.push((name, source, m));
            }
        }
    }
    out
}

/// The names a Fisher information may contain: the parameters it is
/// written in, constants and covariates.
fn foreign_var(
    model: &Model,
    params: &[fimkit::ir::expr::Name],
    e: &fimkit::Expr,
) -> Option<String> {
    e.free_vars()
        .into_iter()
        .find(|v| {
            !params.contains(v)
                && !model.consts.iter().any(|c| c.name == *v)
                && !model.covariates.iter().any(|c| c.name == *v)
        })
        .map(|v| v.to_string())
}

/// The invariant on one closed form: no data in F, det F, F⁻¹ or the
/// Jeffreys prior; a second formula that agrees, or F = −H of a Hessian
/// free of data.
fn assert_invariant(
    what: &str,
    model: &Model,
    params: &[fimkit::ir::expr::Name],
    cf: &ClosedForm,
    hessian: Option<&Vec<Vec<fimkit::Expr>>>,
) {
    let mut exprs: Vec<&fimkit::Expr> = cf.fim.iter().flatten().collect();
    exprs.extend(cf.fim_outer.iter().flatten().flatten());
    exprs.extend(cf.det.iter());
    exprs.extend(cf.jeffreys.iter());
    if let Some(fimkit::fisher::matrix::Inverse::Dense(m)) = &cf.inverse {
        exprs.extend(m.iter().flatten());
    }
    for e in exprs {
        if let Some(v) = foreign_var(model, params, e) {
            panic!(
                "{what}: `{v}` in a closed form: {}",
                fimkit::render::text::render(e, &TextStyle::ascii())
            );
        }
    }
    match (&cf.agreement, &cf.fim_outer) {
        (Agreement::Symbolic | Agreement::Numeric { .. }, Some(_)) => {}
        (Agreement::DataFreeHessian, None) => {
            if let Some(h) = hessian {
                for row in h {
                    for e in row {
                        assert!(
                            !model.data.iter().any(|d| e.contains_var(&d.name)),
                            "{what}: F = -H claimed but the Hessian holds data"
                        );
                    }
                }
            }
        }
        (a, outer) => panic!(
            "{what}: closed form with agreement {a:?} and second formula {:?}",
            outer.is_some()
        ),
    }
}

/// F at `at` against the numeric FIM (covariance of the exact score by
/// quadrature or summation); `None` when the numeric route refuses.
fn compare_with_numeric(
    what: &str,
    model: &Model,
    fim: &[Vec<fimkit::Expr>],
    at: &[(String, f64)],
    covariates: &[(String, f64)],
    tol: f64,
) -> Option<()> {
    let lookup = |v: &str| {
        at.iter()
            .chain(covariates)
            .find(|(n, _)| n == v)
            .map(|(_, x)| *x)
            .or_else(|| {
                model
                    .consts
                    .iter()
                    .find(|c| &*c.name == v)
                    .map(|c| c.value_f64())
            })
    };
    let theta: Vec<f64> = model
        .params
        .iter()
        .map(|p| lookup(&p.name).expect("value"))
        .collect();
    let cfg = NumericConfig {
        covariates: covariates
            .iter()
            .map(|(n, x)| (n.as_str().into(), *x))
            .collect(),
        location_scale: false,
        ..Default::default()
    };
    let num = numeric_fim(model, &theta, &cfg).ok()?;
    let n = theta.len();
    let scale = (0..n)
        .map(|i| num.value[(i, i)].abs())
        .fold(1e-12f64, f64::max);
    for (i, row) in fim.iter().enumerate() {
        for (j, entry) in row.iter().enumerate() {
            let closed = eval_f64(entry, &lookup)
                .unwrap_or_else(|e| panic!("{what}: F[{i}][{j}] does not evaluate: {e}"));
            let numeric = num.value[(i, j)];
            assert!(
                (closed - numeric).abs() <= tol * scale + 10.0 * num.error[(i, j)],
                "{what}: F[{i}][{j}] closed {closed} vs numeric {numeric} ({}) at {at:?}",
                num.method
            );
        }
    }
    Some(())
}

/// Values by name.
type Values = Vec<(String, f64)>;

/// A point inside the parameter domains and typical covariate values.
fn typical(model: &Model) -> (Values, Values) {
    let domains: Vec<_> = model
        .params
        .iter()
        .map(|p| (p.name.clone(), p.domain.clone()))
        .collect();
    let all = fimkit::fisher::identifiability::typical_point_with_covariates(model, &domains, 1);
    let (mut at, mut cov) = (Vec::new(), Vec::new());
    for (n, v) in all {
        if model.covariates.iter().any(|c| c.name == n) {
            cov.push((n.to_string(), v));
        } else {
            at.push((n.to_string(), v));
        }
    }
    (at, cov)
}

#[test]
fn every_corpus_model_obeys_the_invariant() {
    let config = DeriveConfig::default();
    let (mut closed, mut refused, mut compared) = (0, 0, 0);
    for (name, _, model) in corpus() {
        let params = model.param_names();
        let d = derive(&model, &config).written_out();
        let alone = fisher_information(&model, &config);
        match &d.fisher {
            Ok(cf) => {
                closed += 1;
                assert_invariant(&name, &model, &params, cf, Some(&d.hessian));
                let (at, cov) = typical(&model);
                if compare_with_numeric(&name, &model, &cf.fim, &at, &cov, 1e-8).is_some() {
                    compared += 1;
                }
            }
            Err(b) => {
                refused += 1;
                assert!(!b.to_string().is_empty(), "{name}: a reason");
            }
        }
        match &alone {
            Ok(cf) => assert_invariant(&format!("{name} (F alone)"), &model, &params, cf, None),
            Err(_) => assert!(d.fisher.is_err(), "{name}: F alone refused, derive did not"),
        }
        for c in fimkit::fisher::derive_coords(&model, &d, &config) {
            if let Ok(cf) = &c.derivation.fisher {
                assert_invariant(
                    &format!("{name}, coordinates {}", c.name),
                    &model,
                    &c.derivation.params,
                    cf,
                    Some(&c.derivation.hessian),
                );
            }
        }
    }
    assert!(closed >= 45, "{closed} closed forms");
    assert!(refused >= 8, "{refused} refusals");
    assert!(compared >= 40, "{compared} compared with the numeric FIM");
}

/// The fixtures of the invariant: the derivation as the user reads it.
#[test]
fn invariant_fixture_snapshots() {
    let config = DeriveConfig::default();
    for (name, source, model) in corpus()
        .into_iter()
        .filter(|(n, _, _)| n.contains("fixtures/invariant/"))
    {
        let d = derive(&model, &config).written_out();
        let text = fimkit::render::derivation::derivation_text(&model, &d, &TextStyle::unicode());
        let stem = Path::new(&name)
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let out = format!("{}\n---\n{text}", source.trim_end());
        settings().bind(|| insta::assert_snapshot!(format!("invariant__{stem}"), out));
    }
}

/// The bug that motivated the invariant: the standard bivariate normal in
/// its correlation, written raw, was decomposed as "x2 given x1" and "x1
/// given x2" at once and given an F holding x2. By the chain rule in one
/// order (x1, then x2 given x1) it is (1 + rho^2)/(1 - rho^2)^2.
#[test]
fn bivariate_normal_correlation_is_right() {
    let path = "tests/fixtures/textbook/bivariate_normal_rho.fim";
    let model = fimkit::load(&std::fs::read_to_string(path).unwrap(), "m").unwrap();
    let config = DeriveConfig::default();
    for fisher in [
        derive(&model, &config).fisher,
        fisher_information(&model, &config),
    ] {
        let cf = fisher.expect("closed form");
        let [g1, g2] = &cf.groups[..] else {
            panic!("two groups: {:?}", cf.groups)
        };
        // x2 given x1 is integrated first, then x1.
        assert_eq!(g1.vars, ["x2".into()]);
        assert_eq!(g2.vars, ["x1".into()]);
        assert!(g1.depends_on.contains("x1") && g2.depends_on.is_empty());
        for rho in [-0.7, 0.1, 0.6] {
            let f = eval_f64(&cf.fim[0][0], &|v| (v == "rho").then_some(rho)).unwrap();
            let want = (1.0 + rho * rho) / (1.0 - rho * rho).powi(2);
            assert!((f - want).abs() < 1e-12 * want, "{f} vs {want}");
        }
    }
}

/// A data-free Hessian is no licence for F = −H when the density is not
/// normalised: the numeric route finds the missing normaliser and the
/// closed form is refused with that reason, in the whole derivation and
/// in F alone.
#[test]
fn data_free_hessian_of_an_unnormalised_density_is_refused() {
    let path = "tests/fixtures/invariant/three_point_unnormalised.fim";
    let model = fimkit::load(&std::fs::read_to_string(path).unwrap(), "m").unwrap();
    let d = derive(&model, &DeriveConfig::default());
    let Err(blocker) = &d.fisher else {
        panic!("an unnormalised density got a closed form")
    };
    assert!(
        matches!(blocker, fimkit::fisher::Blocker::NotNormalised { .. }),
        "{blocker:?}"
    );
    let text = blocker.to_string();
    assert!(text.contains("does not integrate to 1"), "{text}");
    let alone = fisher_information(&model, &DeriveConfig::default()).unwrap_err();
    assert_eq!(&alone, blocker);
}

/// A data-free Hessian gives F = −H exactly, said so, and right, when the
/// data match neither a library family nor the normaliser identity.
#[test]
fn data_free_hessian_is_f_equals_minus_h() {
    let path = "tests/fixtures/invariant/three_point_data_free.fim";
    let model = fimkit::load(&std::fs::read_to_string(path).unwrap(), "m").unwrap();
    let d = derive(&model, &DeriveConfig::default()).written_out();
    let cf = d.fisher.as_ref().expect("closed form");
    assert_eq!(cf.agreement, Agreement::DataFreeHessian);
    assert!(cf.fim_outer.is_none() && cf.groups.is_empty());
    for eta in [-2.0f64, 0.4, 3.0] {
        let f = eval_f64(&cf.fim[0][0], &|v| (v == "eta").then_some(eta)).unwrap();
        // Var[x + x^2] under weights exp(eta t), t = 0, 2, 6.
        let w: Vec<(f64, f64)> = [0.0f64, 2.0, 6.0]
            .iter()
            .map(|&t| (t, (eta * t).exp()))
            .collect();
        let z: f64 = w.iter().map(|(_, w)| w).sum();
        let m1: f64 = w.iter().map(|(t, w)| t * w).sum::<f64>() / z;
        let m2: f64 = w.iter().map(|(t, w)| t * t * w).sum::<f64>() / z;
        let want = m2 - m1 * m1;
        assert!((f - want).abs() < 1e-12 * want.max(1.0), "{f} vs {want}");
        let at = vec![("eta".to_string(), eta)];
        compare_with_numeric(path, &model, &cf.fim, &at, &[], 1e-8).expect("numeric FIM");
    }
    let text = fimkit::render::derivation::derivation_text(&model, &d, &TextStyle::ascii());
    assert!(
        text.contains("Hessian free of data: F = -H exactly"),
        "{text}"
    );
    let json = fimkit::render::derivation::derivation_json(&model, &d, &[]);
    assert_eq!(json["fim_check"]["agreement"], "data_free_hessian");
    assert!(json["fim_check"]["formula"].is_null());
    // The continuous Bernoulli matches no library family either, but the
    // normaliser identity reads it (T = x, A = log((exp(eta) - 1)/eta)):
    // its second formula is checked, and F = 1/eta^2 - exp(eta)/(exp(eta) - 1)^2.
    let path = "tests/fixtures/invariant/continuous_bernoulli.fim";
    let model = fimkit::load(&std::fs::read_to_string(path).unwrap(), "m").unwrap();
    let cf = fisher_information(&model, &DeriveConfig::default()).expect("closed form");
    assert_eq!(cf.agreement, Agreement::Symbolic);
    assert!(cf.fim_outer.is_some());
    assert_eq!(
        cf.groups[0].family,
        "exponential family (read from the log-density)"
    );
    for eta in [-2.0f64, 0.4, 3.0] {
        let f = eval_f64(&cf.fim[0][0], &|v| (v == "eta").then_some(eta)).unwrap();
        let want = 1.0 / (eta * eta) - eta.exp() / (eta.exp() - 1.0).powi(2);
        assert!((f - want).abs() < 1e-12, "{f} vs {want}");
    }
    // The raw Dirichlet's Hessian is free of data too, but its data match
    // the Dirichlet family: the second formula is still checked.
    let path = "tests/fixtures/textbook/dirichlet3_raw.fim";
    let model = fimkit::load(&std::fs::read_to_string(path).unwrap(), "m").unwrap();
    let cf = fisher_information(&model, &DeriveConfig::default()).expect("closed form");
    assert_eq!(cf.agreement, Agreement::Symbolic);
    assert!(cf.fim_outer.is_some());
}

// ---------------------------------------------------------------------
// Random raw log-densities.

/// Real-valued expressions in the parameters a (real) and b (positive).
const REAL: &[&str] = &["a", "2*a", "a + b", "a*b", "log(b)", "a/b", "a - 1/2"];
/// Positive expressions in a and b.
const POSITIVE: &[&str] = &["b", "exp(a)", "b^2", "b + 1", "b*exp(a)", "1/b"];
/// Coefficients of the first variable in the second one's location.
const SLOPE: &[&str] = &["a", "1/2", "b", "-b/3"];
/// Correlations in (-1, 1).
const CORRELATION: &[&str] = &["a/sqrt(1 + a^2)", "1/(1 + b)", "a/(2*sqrt(1 + a^2))"];

/// One normalised density of `v`, with `shift` added to its location
/// (the conditioning on an earlier variable), as (support, log-density).
fn block(kind: usize, v: &str, m: &str, r: &str, shift: &str) -> (&'static str, String) {
    let m = format!("({m}{shift})");
    match kind {
        0 => (
            "real",
            format!("-log({r}) - log(2*pi)/2 - ({v} - {m})^2/(2*({r})^2)"),
        ),
        1 => ("positive", format!("log({r}) - ({r})*{v}")),
        2 => ("count", format!("-({r}) + {v}*log({r}) - lgamma({v} + 1)")),
        3 => ("{0, 1}", format!("{v}*{m} - log(1 + exp({m}))")),
        4 => (
            "positive",
            format!("3*log({r}) - log(2) + 2*log({v}) - ({r})*{v}"),
        ),
        5 => ("unit", format!("{m}*{v} - log((exp({m}) - 1)/{m})")),
        // Half-normal: no library family, a Hessian with data.
        _ => (
            "positive",
            format!("log(2) - log({r}) - log(2*pi)/2 - {v}^2/(2*({r})^2)"),
        ),
    }
}

/// Does the block have a location that a shift can move?
fn has_location(kind: usize) -> bool {
    matches!(kind, 0 | 3 | 5)
}

#[derive(Clone, Debug)]
struct RandomModel {
    source: String,
    a: f64,
    b: f64,
}

/// One variable; two independent ones; x2 given x1 (its location linear in
/// x1); or a correlated normal pair.
fn random_model() -> impl Strategy<Value = RandomModel> {
    (
        0usize..4,
        (0usize..7, 0..REAL.len(), 0..POSITIVE.len()),
        (0usize..7, 0..REAL.len(), 0..POSITIVE.len()),
        (0..SLOPE.len(), 0..CORRELATION.len()),
        (0usize..5, 0usize..3),
    )
        .prop_map(|(shape, b1, b2, (s, c), (ia, ib))| {
            let a = [-0.7, -0.3, 0.2, 0.37, 0.9][ia];
            let b = [0.6, 1.3, 2.1][ib];
            let mut src = String::from("model Random\nparam a : real\nparam b : positive\n");
            let (s1, l1) = block(b1.0, "x1", REAL[b1.1], POSITIVE[b1.2], "");
            match shape {
                0 => {
                    src += &format!("data x1 : {s1}\nlogp += {l1}\n");
                }
                1 | 2 => {
                    let shift = if shape == 2 && has_location(b2.0) {
                        format!(" + {}*x1", SLOPE[s])
                    } else {
                        String::new()
                    };
                    let (s2, l2) = block(b2.0, "x2", REAL[b2.1], POSITIVE[b2.2], &shift);
                    src += &format!("data x1 : {s1}\ndata x2 : {s2}\nlogp += {l1}\nlogp += {l2}\n");
                }
                _ => {
                    let r = CORRELATION[c];
                    let m = REAL[b1.1];
                    src += &format!(
                        "data x1 : real\ndata x2 : real\n\
                         logp += -log(2*pi) - log(1 - ({r})^2)/2 - log({p})\n\
                         logp += -((x1 - {m})^2 - 2*({r})*(x1 - {m})*(x2/({p})) + (x2/({p}))^2)/(2*(1 - ({r})^2))\n",
                        p = POSITIVE[b2.2]
                    );
                }
            }
            RandomModel { source: src, a, b }
        })
}

fn cases() -> u32 {
    if std::env::var("FIMKIT_LONG").is_ok() {
        256
    } else {
        24
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Whenever a closed form is reported for a random raw model, it holds
    /// no data variable, its second formula agrees, and it equals the
    /// numeric FIM at a point (when the numeric route takes the model).
    #[test]
    fn random_raw_models_obey_the_invariant(rm in random_model()) {
        let model = fimkit::load(&rm.source, "random")
            .unwrap_or_else(|d| panic!("{}: {d:?}", rm.source));
        let config = DeriveConfig { simplify: None, ..DeriveConfig::default() };
        let params = model.param_names();
        if let Ok(cf) = fisher_information(&model, &config) {
            assert_invariant(&rm.source, &model, &params, &cf, None);
            let at = vec![("a".to_string(), rm.a), ("b".to_string(), rm.b)];
            compare_with_numeric(&rm.source, &model, &cf.fim, &at, &[], 1e-7);
        }
    }
}
