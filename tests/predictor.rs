//! Named linear predictors (`fimkit::fisher::predictor`): a derivation
//! that keeps a regression's `eta` as one name must equal, entry by entry,
//! the derivation of the model as written, and every consumer (numbers at
//! a point, sums over a dataset, generated code, the JSON) must bind the
//! name. The default threshold (13 parameters) is lowered to 2 here so
//! that small, checkable models take the named path.

use fimkit::fisher::at_point::{evaluate, evaluate_dataset};
use fimkit::fisher::predictor::bind;
use fimkit::fisher::{Derivation, DeriveConfig, derive, derive_fim_only};
use fimkit::ir::Expr;
use fimkit::numeric::eval::eval_f64;
use fimkit::structure::predictors::inline;

fn config(from: usize) -> DeriveConfig {
    DeriveConfig {
        name_predictors_from: from,
        ..DeriveConfig::default()
    }
}

/// A model, and the values of its data variables for the pointwise checks.
struct Case {
    name: &'static str,
    src: &'static str,
    data: &'static [(&'static str, f64)],
    predictors: usize,
}

const CASES: &[Case] = &[
    Case {
        name: "poisson regression",
        src: "param b0 : real\nparam b[1..3] : real\ncovariate z[1..3] : real\ndata k : count\n\
              k ~ poisson(exp(b0 + sum(j in 1..3, b[j]*z[j])))",
        data: &[("k", 3.0)],
        predictors: 1,
    },
    Case {
        name: "logistic regression",
        src: "param b0 : real\nparam b1 : real\nparam b2 : real\ncovariate z1 : real\n\
              covariate z2 : real\ndata y : {0, 1}\ny ~ bernoulli(sigmoid(b0 + b1*z1 + b2*z2))",
        data: &[("y", 1.0)],
        predictors: 1,
    },
    Case {
        name: "probit regression (a let)",
        src: "param b0 : real\nparam b1 : real\nparam b2 : real\ncovariate z1 : real\n\
              covariate z2 : real\ndata y : {0, 1}\nlet eta = b0 + b1*z1 + b2*z2\n\
              y ~ bernoulli(Phi(eta))",
        data: &[("y", 0.0)],
        predictors: 1,
    },
    Case {
        name: "normal regression with a scale (y − η in the density)",
        src: "param b0 : real\nparam b1 : real\nparam b2 : real\nparam sigma : positive\n\
              covariate x1 : real\ncovariate x2 : real\ndata y : real\n\
              y ~ normal(b0 + b1*x1 + b2*x2, sigma)",
        data: &[("y", 0.4)],
        predictors: 1,
    },
    Case {
        name: "gamma regression with a shape and no intercept",
        src: "param a : positive\nparam b1 : real\nparam b2 : real\ncovariate x1 : real\n\
              covariate x2 : real\ndata y : positive\ny ~ gamma(a, a*exp(-(b1*x1 + b2*x2)))",
        data: &[("y", 1.3)],
        predictors: 1,
    },
    Case {
        name: "two predictors: mean and log-scale",
        src: "param b0 : real\nparam b1 : real\nparam c0 : real\nparam c1 : real\n\
              covariate x : real\ndata y : real\ny ~ normal(b0 + b1*x, exp(c0 + c1*x))",
        data: &[("y", -0.3)],
        predictors: 2,
    },
    Case {
        name: "an offset outside the predictor",
        src: "param b0 : real\nparam b1 : real\ncovariate x : real\ncovariate t : positive\n\
              data k : count\nk ~ poisson(exp(b0 + b1*x + log(t)))",
        data: &[("k", 2.0)],
        predictors: 1,
    },
];

/// Deterministic values in (−0.8, 0.8) (shifted into (0.5, 2.1) for a
/// positive name).
fn point(model: &fimkit::ir::Model, case: &Case, seed: u64) -> Vec<(String, f64)> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = Vec::new();
    let positive = |label: &str| label == "positive";
    for p in &model.params {
        let u = next();
        let v = if positive(&p.domain.label) {
            0.5 + 1.6 * u
        } else {
            1.6 * u - 0.8
        };
        out.push((p.name.to_string(), v));
    }
    for c in &model.covariates {
        let u = next();
        let v = if positive(&c.domain.label) {
            0.5 + 1.6 * u
        } else {
            1.6 * u - 0.8
        };
        out.push((c.name.to_string(), v));
    }
    for (n, v) in case.data {
        out.push((n.to_string(), *v));
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

/// Every entry of `named` (its definitions written out, or bound) equals
/// the same entry of `plain` at several points.
fn assert_same(case: &Case, model: &fimkit::ir::Model, named: &Derivation, plain: &Derivation) {
    let pairs = |d: &Derivation| -> Vec<Expr> {
        let mut v: Vec<Expr> = d.score.clone();
        v.extend(d.hessian.iter().flatten().cloned());
        if let Ok(cf) = &d.fisher {
            v.extend(cf.fim.iter().flatten().cloned());
            if let Some(o) = &cf.fim_outer {
                v.extend(o.iter().flatten().cloned());
            }
        }
        v
    };
    let (a, b) = (pairs(named), pairs(plain));
    assert_eq!(a.len(), b.len(), "{}", case.name);
    assert!(!a.is_empty(), "{}", case.name);
    for seed in 1..=5u64 {
        let values = point(model, case, seed);
        let base = |v: &str| {
            values
                .iter()
                .find(|(n, _)| n == v)
                .map(|(_, x)| *x)
                .or_else(|| model.const_value(v).map(fimkit::ir::expr::rational_to_f64))
        };
        let bound = bind(&named.definitions, &base).unwrap();
        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
            let via_bind = eval_f64(x, &bound).unwrap();
            let via_inline = eval_f64(&inline(x, &named.definitions), &base).unwrap();
            let want = eval_f64(y, &base).unwrap();
            assert!(
                close(via_bind, want) && close(via_inline, want),
                "{}: entry {k} at seed {seed}: named {via_bind} / {via_inline}, as written {want}\n  {x:?}\n  {y:?}",
                case.name
            );
        }
    }
}

#[test]
fn a_named_predictor_gives_the_same_derivation() {
    for case in CASES {
        let model = fimkit::load(case.src, "m").unwrap();
        let named = derive(&model, &config(2));
        let plain = derive(&model, &config(usize::MAX));
        assert_eq!(named.definitions.len(), case.predictors, "{}", case.name);
        assert!(plain.definitions.is_empty());
        assert_eq!(named.params, plain.params, "{}", case.name);
        assert_eq!(named.fisher.is_ok(), plain.fisher.is_ok(), "{}", case.name);
        assert_same(case, &model, &named, &plain);
        // The F-only derivation takes the same path.
        let only = derive_fim_only(&model, &config(2));
        assert_eq!(only.definitions.len(), case.predictors, "{}", case.name);
        let (f1, f2) = (
            &only.fisher.as_ref().unwrap().fim,
            &named.fisher.as_ref().unwrap().fim,
        );
        assert_eq!(f1, f2, "{}", case.name);
    }
}

/// The one-predictor regressions carry `F = w·a aᵀ` with `w = F_ηη`.
#[test]
fn one_predictor_gives_the_rank_one_form() {
    let case = &CASES[0];
    let model = fimkit::load(case.src, "m").unwrap();
    let d = derive(&model, &config(2));
    let (w, a) = d.fisher.as_ref().unwrap().rank_one.clone().unwrap();
    assert_eq!(w, Expr::exp(Expr::var("eta")));
    assert_eq!(a[0], Expr::one());
    assert_eq!(a[2], Expr::var("z[2]"));
}

/// Numbers at a point and over a dataset (the compiled tape binds the
/// name per row) equal those of the model as written.
#[test]
fn numbers_at_a_point_and_over_rows_bind_the_name() {
    for case in CASES {
        let model = fimkit::load(case.src, "m").unwrap();
        let named = derive(&model, &config(2));
        let plain = derive(&model, &config(usize::MAX));
        let values = point(&model, case, 7);
        let at: Vec<(&str, f64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let (x, y) = (
            evaluate(&model, &named, &at).unwrap(),
            evaluate(&model, &plain, &at).unwrap(),
        );
        for (u, v) in x.fim.iter().zip(y.fim.iter()) {
            assert!(close(*u, *v), "{}: {u} vs {v}", case.name);
        }
        // Three rows of covariates.
        let schema = fimkit::numeric::DataSchema::from_model(&model).covariates_only();
        let names: Vec<String> = model
            .covariates
            .iter()
            .map(|c| c.name.to_string())
            .collect();
        let mut csv = names.join(",") + "\n";
        for seed in [11u64, 12, 13] {
            let p = point(&model, case, seed);
            let row: Vec<String> = names
                .iter()
                .map(|n| p.iter().find(|(m, _)| m == n).unwrap().1.to_string())
                .collect();
            csv += &(row.join(",") + "\n");
        }
        let data = schema.read_csv(csv.as_bytes()).unwrap();
        let theta: Vec<(&str, f64)> = at
            .iter()
            .filter(|(n, _)| model.params.iter().any(|p| &*p.name == *n))
            .copied()
            .collect();
        let (x, y) = (
            evaluate_dataset(&model, &named, &theta, &data).unwrap(),
            evaluate_dataset(&model, &plain, &theta, &data).unwrap(),
        );
        for (u, v) in x.fim.iter().zip(y.fim.iter()) {
            assert!(close(*u, *v), "{}: {u} vs {v}", case.name);
        }
    }
}

/// Generated code computes the name once and gives the same numbers:
/// the Rust code's FIM function is checked through its op count (the
/// predictor is not repeated) and the Python code by running it.
#[test]
fn generated_code_computes_the_predictor_once() {
    let src = "param b0 : real\nparam b[1..20] : real\ncovariate z[1..20] : real\n\
               data k : count\nk ~ poisson(exp(b0 + sum(j in 1..20, b[j]*z[j])))";
    let model = fimkit::load(src, "glm20").unwrap();
    let named = derive(&model, &DeriveConfig::default());
    assert_eq!(
        named.definitions.len(),
        1,
        "20 > 13 parameters: named by default"
    );
    let plain = derive(&model, &config(usize::MAX));
    let lang = fimkit::codegen::Lang::Rust;
    let cfg = fimkit::codegen::CodegenConfig::default();
    let a = fimkit::codegen::generate(&model, &named, lang, &cfg).unwrap();
    let b = fimkit::codegen::generate(&model, &plain, lang, &cfg).unwrap();
    // One sum of 21 terms in each function, whichever derivation.
    assert_eq!(
        a.code.matches("b0 + ").count(),
        b.code.matches("b0 + ").count(),
        "{}",
        a.code
    );
    assert!(a.code.matches("b0 + ").count() <= 4, "{}", a.code);
}

/// The command line: a Poisson regression with 300 covariates derives
/// (the default threshold names its predictor), prints the definition
/// once and lists F's entries by name.
#[test]
fn a_glm_with_300_covariates_derives() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args(["derive", "tests/fixtures/stress/poisson_glm_300.fim"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches("η = b₀ + b₁·z₁ + b₂·z₂").count(), 1, "{text}");
    assert!(text.contains("  ∂/∂b₃₀₀   z₃₀₀·(k − exp(η))\n"), "{text}");
    // Both matrices print by structure: a regression row, w·a·aᵀ.
    assert!(
        text.contains("Hessian of the log-density\n  301×301 = w·a·aᵀ with\n    a   (1, z₁, z₂,"),
        "{text}"
    );
    assert!(text.contains(", z₃₀₀)\n    w   −exp(η)\n"), "{text}");
    assert!(
        text.contains(
            "Fisher information, one observation\n  301×301 = w·a·aᵀ with\n    a   (1, z₁, z₂,"
        ),
        "{text}"
    );
    assert!(text.contains(", z₃₀₀)\n    w   exp(η)\n"), "{text}");
    let json = std::process::Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args([
            "derive",
            "tests/fixtures/stress/poisson_glm_300.fim",
            "--format",
            "json",
            "--fim-only",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        v["definitions"]["eta"]
            .as_str()
            .unwrap()
            .starts_with("b0 + b[1]*z[1]")
    );
    assert_eq!(v["fim"][3][5], "z[3]*z[5]*exp(eta)");
}

/// A `let` that is exactly the linear form gives the predictor its name;
/// a let of that name used for something else keeps `eta` free of it.
#[test]
fn the_users_let_names_the_predictor() {
    let src = "param b0 : real\nparam b1 : real\nparam b2 : real\ncovariate z1 : real\n\
               covariate z2 : real\ndata y : {0, 1}\nlet lin = b0 + b1*z1 + b2*z2\n\
               y ~ bernoulli(Phi(lin))";
    let model = fimkit::load(src, "m").unwrap();
    let d = derive(&model, &config(2));
    assert_eq!(&*d.definitions[0].0, "lin");
    assert_eq!(
        d.score[0]
            .free_vars()
            .iter()
            .filter(|v| &***v == "lin")
            .count(),
        1
    );
    let src = "param b0 : real\nparam b1 : real\nparam b2 : real\ncovariate z1 : real\n\
               covariate z2 : real\ndata y : {0, 1}\nlet eta = 2*b0\n\
               y ~ bernoulli(Phi(eta + b1*z1 + b2*z2))";
    let model = fimkit::load(src, "m").unwrap();
    let d = derive(&model, &config(2));
    assert_eq!(&*d.definitions[0].0, "eta_1");
}
