//! The textbook corpus (tests/fixtures/textbook/*.fim) through the
//! simplifier: snapshots of the simplified score and Hessian, the
//! simplicity bar (every simplified Hessian entry is no larger than the
//! textbook's own form), and property tests that simplification never
//! changes a value.

use fimkit::ir::expr::{Expr, Func};
use fimkit::ir::model::{Model, Support};
use fimkit::numeric::eval::{eval_f64, gradient_hessian};
use fimkit::render::text::{TextStyle, render};
use fimkit::symbolic::simplify::{Assumptions, Derived, SimplifyConfig, derive_simplified};
use fimkit::symbolic::{gradient, hessian};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

const CORPUS: &str = "tests/fixtures/textbook";

/// The default limits, with a time limit that never binds so the results
/// are reproducible on a loaded machine.
fn config() -> SimplifyConfig {
    SimplifyConfig {
        time_limit: std::time::Duration::from_secs(30),
        ..SimplifyConfig::default()
    }
}

struct Case {
    name: String,
    source: String,
    model: Model,
    plain_score: Vec<Expr>,
    plain_hessian: Vec<Vec<Expr>>,
    derived: Derived,
}

/// Every corpus model, loaded and derived once.
fn corpus() -> &'static [Case] {
    static CORPUS_CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CORPUS_CASES.get_or_init(|| {
        let mut files: Vec<_> = std::fs::read_dir(CORPUS)
            .expect("corpus folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "fim"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                let source = std::fs::read_to_string(&path).expect("readable");
                let model = fimkit::load(&source, &name)
                    .unwrap_or_else(|d| panic!("{name} does not load: {d:?}"));
                let names = model.param_names();
                let derived = derive_simplified(
                    &model.logp,
                    &names,
                    &Assumptions::from_model(&model),
                    &config(),
                );
                Case {
                    plain_score: gradient(&model.logp, &names),
                    plain_hessian: hessian(&model.logp, &names),
                    name,
                    source,
                    model,
                    derived,
                }
            })
            .collect()
    })
}

fn ascii(e: &Expr) -> String {
    render(e, &TextStyle::ascii())
}

#[test]
fn corpus_has_thirty_models() {
    assert!(corpus().len() >= 30, "{} models", corpus().len());
}

#[test]
fn simplified_score_and_hessian_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/symbolic");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for case in corpus() {
            let names = case.model.param_names();
            let mut out = String::new();
            out.push_str(&case.source);
            out.push_str("\n---- score (simplified) ----\n");
            for (n, (e, before, after)) in names.iter().zip(&case.derived.score.exprs) {
                out.push_str(&format!(
                    "d/d{n}  {}    [{before} -> {after} ops]\n",
                    ascii(e)
                ));
            }
            out.push_str("---- Hessian (simplified, upper triangle) ----\n");
            let h = &case.derived.hessian;
            let mut k = 0;
            for (i, ni) in names.iter().enumerate() {
                for (j, nj) in names.iter().enumerate().skip(i) {
                    out.push_str(&format!(
                        "d2/d{ni}d{nj}  {}    [{} -> {} ops]\n",
                        ascii(&h.matrix[i][j]),
                        h.before[k],
                        h.after[k]
                    ));
                    k += 1;
                    let _ = j;
                }
            }
            insta::assert_snapshot!(format!("textbook__{}", case.name), out);
        }
    });
}

/// Textbook forms of the observed Hessian ∂² log p, upper triangle row by
/// row, in the model language (the declarations of the model are in
/// scope). Sources: the citations in each model file.
const TEXTBOOK_HESSIANS: &[(&str, &[&str])] = &[
    ("bernoulli", &["-y/p^2 - (1 - y)/(1 - p)^2"]),
    ("bernoulli_logit", &["-sigmoid(t)*(1 - sigmoid(t))"]),
    ("binomial", &["-x/p^2 - (n - x)/(1 - p)^2"]),
    ("binomial_odds", &["-x/phi^2 + n/(1 + phi)^2"]),
    ("poisson", &["-k/lambda^2"]),
    ("poisson_log", &["-exp(eta)"]),
    ("geometric", &["-1/p^2 - k/(1 - p)^2"]),
    ("negative_binomial", &["-r/p^2 - k/(1 - p)^2"]),
    (
        "multinomial3",
        &[
            "-x1/p1^2 - (n - x1 - x2)/(1 - p1 - p2)^2",
            "-(n - x1 - x2)/(1 - p1 - p2)^2",
            "-x2/p2^2 - (n - x1 - x2)/(1 - p1 - p2)^2",
        ],
    ),
    ("exponential_rate", &["-1/lambda^2"]),
    ("exponential_scale", &["1/theta^2 - 2*x/theta^3"]),
    (
        "normal",
        &[
            "-1/sigma^2",
            "-2*(x - mu)/sigma^3",
            "1/sigma^2 - 3*(x - mu)^2/sigma^4",
        ],
    ),
    (
        "normal_var",
        &["-1/v", "-(x - mu)/v^2", "1/(2*v^2) - (x - mu)^2/v^3"],
    ),
    (
        "normal_natural",
        &[
            "1/(2*eta2)",
            "-eta1/(2*eta2^2)",
            "eta1^2/(2*eta2^3) - 1/(2*eta2^2)",
        ],
    ),
    (
        "normal_curved",
        &["-4*(x - theta)/theta^3 - 3*(x - theta)^2/theta^4"],
    ),
    (
        "lognormal",
        &[
            "-1/sigma^2",
            "-2*(log(x) - mu)/sigma^3",
            "1/sigma^2 - 3*(log(x) - mu)^2/sigma^4",
        ],
    ),
    (
        "gamma_rate",
        &["-trigamma(alpha)", "1/beta", "-alpha/beta^2"],
    ),
    (
        "gamma_scale",
        &["-trigamma(k)", "-1/theta", "k/theta^2 - 2*x/theta^3"],
    ),
    (
        "beta",
        &[
            "trigamma(a + b) - trigamma(a)",
            "trigamma(a + b)",
            "trigamma(a + b) - trigamma(b)",
        ],
    ),
    (
        "dirichlet3",
        &[
            "trigamma(alpha[1] + alpha[2] + alpha[3]) - trigamma(alpha[1])",
            "trigamma(alpha[1] + alpha[2] + alpha[3])",
            "trigamma(alpha[1] + alpha[2] + alpha[3])",
            "trigamma(alpha[1] + alpha[2] + alpha[3]) - trigamma(alpha[2])",
            "trigamma(alpha[1] + alpha[2] + alpha[3])",
            "trigamma(alpha[1] + alpha[2] + alpha[3]) - trigamma(alpha[3])",
        ],
    ),
    (
        "inverse_gaussian",
        &[
            "-lambda/mu^3 - 3*lambda*(x - mu)/mu^4",
            "(x - mu)/mu^3",
            "-1/(2*lambda^2)",
        ],
    ),
    ("rayleigh", &["2/sigma^2 - 3*x^2/sigma^4"]),
    ("pareto", &["-1/alpha^2"]),
    ("weibull", &["k/lambda^2 - k*(k + 1)*(x/lambda)^k/lambda^2"]),
    ("laplace", &["1/b^2 - 2*abs(x - m)/b^3"]),
    (
        "mvn_diag2",
        &[
            "-1/s1^2",
            "0",
            "-2*(x1 - mu1)/s1^3",
            "0",
            "-1/s2^2",
            "0",
            "-2*(x2 - mu2)/s2^3",
            "1/s1^2 - 3*(x1 - mu1)^2/s1^4",
            "0",
            "1/s2^2 - 3*(x2 - mu2)^2/s2^4",
        ],
    ),
    (
        "logistic_regression",
        &[
            "-sigmoid(eta)*(1 - sigmoid(eta))",
            "-z1*sigmoid(eta)*(1 - sigmoid(eta))",
            "-z2*sigmoid(eta)*(1 - sigmoid(eta))",
            "-z1^2*sigmoid(eta)*(1 - sigmoid(eta))",
            "-z1*z2*sigmoid(eta)*(1 - sigmoid(eta))",
            "-z2^2*sigmoid(eta)*(1 - sigmoid(eta))",
        ],
    ),
    (
        "poisson_regression",
        &[
            "-exp(b0 + b1*z)",
            "-z*exp(b0 + b1*z)",
            "-z^2*exp(b0 + b1*z)",
        ],
    ),
    ("chi_squared", &["-trigamma(k/2)/4"]),
    (
        "inverse_gamma",
        &["-trigamma(alpha)", "1/beta", "-alpha/beta^2"],
    ),
];

/// Parse `form` in the scope of the model's declarations (its `const`,
/// `param`, `data`, `covariate` and `let` lines).
fn parse_in_model(case: &Case, form: &str) -> Expr {
    let decls: String = case
        .source
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            ["model", "const", "param", "data", "covariate", "let"]
                .iter()
                .any(|k| l.starts_with(k))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let src = format!("{decls}logp += {form}\n");
    fimkit::load(&src, "form")
        .unwrap_or_else(|d| {
            panic!(
                "{}: textbook form `{form}` does not parse: {d:?}",
                case.name
            )
        })
        .logp
}

/// The categorical's textbook Hessian uses the Iverson bracket, which the
/// language has no name for: build it directly.
fn categorical_hessian() -> Vec<Expr> {
    let ind = |k: i64| Expr::call(Func::Indicator, vec![Expr::var("x"), Expr::int(k)]);
    let p3 = Expr::sub(Expr::one(), Expr::add2(Expr::var("p1"), Expr::var("p2")));
    let last = Expr::div(ind(3), Expr::powi(p3, 2));
    vec![
        Expr::sub(
            Expr::neg(Expr::div(ind(1), Expr::powi(Expr::var("p1"), 2))),
            last.clone(),
        ),
        Expr::neg(last.clone()),
        Expr::sub(
            Expr::neg(Expr::div(ind(2), Expr::powi(Expr::var("p2"), 2))),
            last,
        ),
    ]
}

fn textbook_forms(case: &Case) -> Option<Vec<Expr>> {
    if case.name == "categorical3" {
        return Some(categorical_hessian());
    }
    TEXTBOOK_HESSIANS
        .iter()
        .find(|(n, _)| *n == case.name)
        .map(|(_, forms)| forms.iter().map(|f| parse_in_model(case, f)).collect())
}

fn upper(m: &[Vec<Expr>]) -> Vec<Expr> {
    m.iter()
        .enumerate()
        .flat_map(|(i, row)| row.iter().skip(i).cloned())
        .collect()
}

#[test]
fn simplified_hessians_are_no_larger_than_the_textbook() {
    let mut table = String::from("model                  entry  plain  simplified  textbook\n");
    let mut too_large = Vec::new();
    let mut covered = 0;
    for case in corpus() {
        let Some(book) = textbook_forms(case) else {
            continue;
        };
        covered += 1;
        let ours = upper(&case.derived.hessian.matrix);
        let plain = upper(&case.plain_hessian);
        assert_eq!(book.len(), ours.len(), "{}: number of entries", case.name);
        for (k, ((b, o), p)) in book.iter().zip(&ours).zip(&plain).enumerate() {
            table.push_str(&format!(
                "{:<22} {:>5}  {:>5}  {:>10}  {:>8}\n",
                case.name,
                k,
                p.op_count(),
                o.op_count(),
                b.op_count()
            ));
            if o.op_count() > b.op_count() {
                too_large.push(format!(
                    "{}[{k}]: {} ({} ops) vs textbook {} ({} ops)",
                    case.name,
                    ascii(o),
                    o.op_count(),
                    ascii(b),
                    b.op_count()
                ));
            }
        }
    }
    assert!(covered >= 20, "textbook forms for {covered} models");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/symbolic");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("textbook_op_counts", table));
    assert!(
        too_large.is_empty(),
        "larger than the textbook:\n{}",
        too_large.join("\n")
    );
}

#[test]
fn quality_bar_examples() {
    let find = |n: &str| corpus().iter().find(|c| c.name == n).expect("model");
    let normal = find("normal");
    let s = &normal.derived.score.exprs;
    assert_eq!(ascii(&s[0].0), "(x - mu)/sigma^2");
    assert!(s[1].2 <= 6, "sigma score: {}", ascii(&s[1].0));
    let logistic = find("logistic_regression");
    for row in &logistic.derived.hessian.matrix {
        for e in row {
            assert!(!e.contains_var("y"), "y left in {}", ascii(e));
        }
    }
    let bern = find("bernoulli");
    assert_eq!(ascii(&bern.derived.score.exprs[0].0), "(y - p)/(p*(1 - p))");
}

// ------------------------------------------------------------------------
// Values, through the numeric evaluator.

/// The value of `e` at `env`; `None` where it is not finite there.
fn eval(e: &Expr, env: &BTreeMap<String, f64>) -> Option<f64> {
    eval_f64(e, &|v: &str| env.get(v).copied()).ok()
}

/// A point inside the model's domains, from uniform numbers `u` in [0, 1).
fn point(model: &Model, u: &[f64]) -> BTreeMap<String, f64> {
    let mut env = BTreeMap::new();
    for c in &model.consts {
        env.insert(c.name.to_string(), c.value_f64());
    }
    let mut next = {
        let mut i = 0;
        move || {
            i += 1;
            u[(i - 1) % u.len()]
        }
    };
    let interval = |lo: Option<f64>, hi: Option<f64>, t: f64| match (lo, hi) {
        (None, None) => -3.0 + 6.0 * t,
        (Some(l), None) => l + 0.2 + 4.0 * t,
        (None, Some(h)) => h - 0.2 - 4.0 * t,
        (Some(l), Some(h)) => l + (h - l) * (0.05 + 0.9 * t),
    };
    let value =
        |e: &Option<Expr>, env: &BTreeMap<String, f64>| e.as_ref().and_then(|e| eval(e, env));
    for p in &model.params {
        let v = interval(value(&p.domain.lo, &env), value(&p.domain.hi, &env), next());
        env.insert(p.name.to_string(), v);
    }
    for c in &model.covariates {
        let v = interval(value(&c.domain.lo, &env), value(&c.domain.hi, &env), next());
        env.insert(c.name.to_string(), v);
    }
    let mut simplex: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in &model.data {
        let v = match &d.support {
            Support::Continuous { lo, hi } => interval(value(lo, &env), value(hi, &env), next()),
            Support::Integers { lo, hi } => {
                let lo = eval(lo, &env).unwrap_or(0.0);
                let hi = value(hi, &env).unwrap_or(lo + 12.0);
                (lo + ((hi - lo + 1.0) * next()).floor()).min(hi)
            }
            Support::Set(vs) => {
                let k = ((vs.len() as f64) * next()).floor() as usize;
                fimkit::ir::expr::rational_to_f64(&vs[k.min(vs.len() - 1)])
            }
            Support::Simplex { group, .. } => {
                simplex
                    .entry(group.to_string())
                    .or_default()
                    .push(d.name.to_string());
                0.1 + next()
            }
        };
        env.insert(d.name.to_string(), v);
    }
    for names in simplex.values() {
        let total: f64 = names.iter().map(|n| env[n]).sum();
        for n in names {
            let v = env[n] / total;
            env.insert(n.clone(), v);
        }
    }
    // Probabilities declared one by one may still sum past 1 (p1 + p2 of a
    // categorical): halve them until the log-density is defined.
    for _ in 0..8 {
        if eval(&model.logp, &env).is_some() {
            break;
        }
        for p in model.params.iter().filter(|p| p.domain.label == "unit") {
            if let Some(v) = env.get_mut(&*p.name) {
                *v *= 0.5;
            }
        }
    }
    env
}

/// Relative agreement to 1e-9, with an absolute floor of 1e-9 near 0.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// The value of `e` at `env`, which lies inside the model's domains, where
/// every formula is finite.
fn value_at(e: &Expr, env: &BTreeMap<String, f64>, what: &str) -> f64 {
    eval_f64(e, &|v: &str| env.get(v).copied())
        .unwrap_or_else(|err| panic!("{what} at {env:?}: {err} ({})", ascii(e)))
}

fn cases() -> u32 {
    if std::env::var("FIMKIT_LONG").is_ok() {
        512
    } else {
        24
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Simplification never changes a value, and the derivatives are
    /// right: at random points inside the domains, every score and Hessian
    /// entry, plain and simplified, equals the dual-number derivative of
    /// the log-density (`fimkit::numeric::eval::gradient_hessian`), and the
    /// simplified log-density equals the log-density.
    #[test]
    fn simplification_preserves_values(u in prop::collection::vec(0.0f64..1.0, 12)) {
        for case in corpus() {
            let env = point(&case.model, &u);
            let names = case.model.param_names();
            let at = |v: &str| env.get(v).copied();
            let (value, grad, hess) = gradient_hessian(&case.model.logp, &names, &at)
                .unwrap_or_else(|e| panic!("{} at {env:?}: {e}", case.name));
            let simple_logp = value_at(&case.derived.logp.expr, &env, &case.name);
            prop_assert!(close(value, simple_logp), "{} logp at {env:?}: {value} vs {simple_logp} ({})",
                case.name, ascii(&case.derived.logp.expr));
            for (k, (plain, (simple, _, _))) in case.plain_score.iter().zip(&case.derived.score.exprs).enumerate() {
                let what = format!("{} score[{k}]", case.name);
                let (a, b) = (value_at(plain, &env, &what), value_at(simple, &env, &what));
                prop_assert!(close(a, grad[k]), "{what} at {env:?}: plain {a} vs dual {}", grad[k]);
                prop_assert!(close(b, grad[k]), "{what} at {env:?}: simplified {b} vs dual {} ({})",
                    grad[k], ascii(simple));
            }
            let n = names.len();
            for i in 0..n {
                for j in 0..n {
                    let what = format!("{} hessian[{i}][{j}]", case.name);
                    let plain = &case.plain_hessian[i][j];
                    let simple = &case.derived.hessian.matrix[i][j];
                    let (a, b) = (value_at(plain, &env, &what), value_at(simple, &env, &what));
                    let d = hess[(i, j)];
                    prop_assert!(close(a, d), "{what} at {env:?}: plain {a} vs dual {d}");
                    prop_assert!(close(b, d), "{what} at {env:?}: simplified {b} vs dual {d} ({})", ascii(simple));
                }
            }
        }
    }

    /// The textbook forms of the simplicity bar are the right Hessians.
    #[test]
    fn textbook_forms_are_the_hessians(u in prop::collection::vec(0.0f64..1.0, 12)) {
        for case in corpus() {
            let Some(book) = textbook_forms(case) else { continue };
            let env = point(&case.model, &u);
            for (k, (b, plain)) in book.iter().zip(upper(&case.plain_hessian)).enumerate() {
                let what = format!("{} textbook[{k}]", case.name);
                let (x, y) = (value_at(b, &env, &what), value_at(&plain, &env, &what));
                prop_assert!(close(x, y), "{what} at {env:?}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn corpus_files_are_where_expected() {
    assert!(Path::new(CORPUS).is_dir());
}
