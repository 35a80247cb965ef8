//! Time to derive each model: the textbook corpus, the examples, and the
//! larger Dirichlet, multinomial and diagonal normal.
//!
//! Two groups:
//!
//! * `derive`: the simplified score and Hessian
//!   ([`derive_simplified`]) of every textbook model
//!   (`tests/fixtures/textbook/*.fim`), every example (`examples/*.fim`),
//!   Dirichlet K = 10 and multinomial K = 10. Targets: every textbook
//!   model and example under 20 ms, Dirichlet K = 10 under 200 ms.
//! * `fisher`: the whole derivation of `fimkit derive`
//!   ([`fimkit::fisher::derive`] with its default configuration: score,
//!   Hessian, closed-form FIM with the expectations found by the engine,
//!   det, Cramér–Rao bound, Jeffreys prior, natural gradient, all
//!   simplified) of the models timed with SymPy, with targets 100× faster
//!   than SymPy on the same machine: Bernoulli 1.09 ms, Normal 0.72 ms,
//!   Gamma 0.32 ms, Beta 0.91 ms, Dirichlet K = 3 1.86 ms, K = 10 26 ms,
//!   multinomial K = 10 47 ms, diagonal normal d = 10 5.2 ms. The model
//!   texts are the textbook fixtures where one exists.
//!   `FIMKIT_BENCH_ALL=1` adds every textbook model and example to it.
//! * `fim`: the same models, F alone ([`fimkit::fisher::fisher_information`]:
//!   the Hessian, the expectations found by the engine, the second formula
//!   that must agree, the singularity check and the simplified F, with no
//!   score, det, inverse, Jeffreys prior or natural gradient): the work of
//!   the SymPy recipe, so the like-for-like figure for the same targets.
//!
//! Caches live within one derivation, so every iteration is a cold
//! derivation.
//!
//! Run with `cargo bench --bench derive` (a filter such as `-- dirichlet`
//! or `-- fisher/` narrows it down).

use criterion::{Criterion, criterion_group};

/// The allocator of the `fimkit` command, so the figures are the command's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use fimkit::symbolic::simplify::{Assumptions, SimplifyConfig, derive_simplified};
use std::hint::black_box;
use std::time::Duration;

/// Dirichlet with K = 10.
const DIRICHLET_K10: &str =
    "const K = 10\nparam alpha[1..K] : positive\ndata x[1..K] : simplex\nx ~ dirichlet(alpha)\n";

/// Multinomial with K = 10 cells and 9 free probabilities.
const MULTINOMIAL_K10: &str = "const n = 20
param p[1..9] : unit
data x[1..10] : count
x ~ multinomial(n, [p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], 1 - sum(k in 1..9, p[k])])
";

/// Normal with diagonal covariance in d = 10 dimensions: parameters
/// (μ₁..μ₁₀, σ₁..σ₁₀).
const MVN_DIAG_D10: &str = "const d = 10
param mu[1..d] : real
param s[1..d] : positive
data x[1..d] : real
for k in 1..d { x[k] ~ normal(mu[k], s[k]) }
";

/// `(name, source)` of the `.fim` files in `dir`, sorted, named
/// `prefix/stem`.
fn files(dir: &str, prefix: &str) -> Vec<(String, String)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "fim"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let stem = p.file_stem().unwrap_or_default().to_string_lossy();
            let src = std::fs::read_to_string(&p).ok()?;
            Some((format!("{prefix}/{stem}"), src))
        })
        .collect()
}

/// Every textbook model and example.
fn corpus() -> Vec<(String, String)> {
    let mut out = files("tests/fixtures/textbook", "textbook");
    out.extend(files("examples", "example"));
    out
}

/// The issue-5 list, timed with SymPy: `(name, source)`.
fn sympy_list() -> Vec<(String, String)> {
    let fixture = |stem: &str| {
        std::fs::read_to_string(format!("tests/fixtures/textbook/{stem}.fim"))
            .unwrap_or_else(|e| panic!("textbook fixture {stem}: {e}"))
    };
    vec![
        ("bernoulli".into(), fixture("bernoulli")),
        ("normal".into(), fixture("normal")),
        ("gamma".into(), fixture("gamma_rate")),
        ("beta".into(), fixture("beta")),
        ("dirichlet_k3".into(), fixture("dirichlet3")),
        ("dirichlet_k10".into(), DIRICHLET_K10.into()),
        ("multinomial_k10".into(), MULTINOMIAL_K10.into()),
        ("mvn_diag_d10".into(), MVN_DIAG_D10.into()),
    ]
}

fn load(models: Vec<(String, String)>) -> Vec<(String, fimkit::ir::Model)> {
    models
        .into_iter()
        .filter_map(|(name, src)| match fimkit::load(&src, &name) {
            Ok(m) => Some((name, m)),
            Err(d) => {
                eprintln!("{name} does not load: {d:?}");
                None
            }
        })
        .collect()
}

fn derive(c: &mut Criterion) {
    let config = SimplifyConfig::default();
    let mut group = c.benchmark_group("derive");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let mut models = corpus();
    models.push(("dirichlet_k10".into(), DIRICHLET_K10.into()));
    models.push(("multinomial_k10".into(), MULTINOMIAL_K10.into()));
    for (name, model) in load(models) {
        let params = model.param_names();
        let assumptions = Assumptions::from_model(&model);
        group.bench_function(&name, |b| {
            b.iter(|| {
                black_box(derive_simplified(
                    black_box(&model.logp),
                    &params,
                    &assumptions,
                    &config,
                ))
            })
        });
    }
    group.finish();
}

fn fisher(c: &mut Criterion) {
    let config = fimkit::fisher::DeriveConfig::default();
    let mut group = c.benchmark_group("fisher");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let mut models = sympy_list();
    if std::env::var_os("FIMKIT_BENCH_ALL").is_some() {
        models.extend(corpus());
    }
    for (name, model) in load(models) {
        group.bench_function(&name, |b| {
            b.iter(|| black_box(fimkit::fisher::derive(black_box(&model), &config)))
        });
    }
    group.finish();
}

fn fim(c: &mut Criterion) {
    let config = fimkit::fisher::DeriveConfig::default();
    let mut group = c.benchmark_group("fim");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for (name, model) in load(sympy_list()) {
        group.bench_function(&name, |b| {
            b.iter(|| {
                black_box(fimkit::fisher::fisher_information(
                    black_box(&model),
                    &config,
                ))
            })
        });
    }
    group.finish();
}

/// `FIMKIT_DERIVE_COUNT=N`: instead of criterion, derive each model of
/// the `fisher` and `fim` groups (whose name contains the first argument,
/// if any) N times and print the wall time per derivation; under
/// `perf stat -e task-clock` this gives the CPU time.
fn count(n: usize) {
    let config = fimkit::fisher::DeriveConfig::default();
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    for (name, model) in load(sympy_list()) {
        for group in ["fisher", "fim"] {
            if !format!("{group}/{name}").contains(&filter) {
                continue;
            }
            let start = std::time::Instant::now();
            for _ in 0..n {
                if group == "fisher" {
                    black_box(fimkit::fisher::derive(black_box(&model), &config));
                } else {
                    let _ = black_box(fimkit::fisher::fisher_information(
                        black_box(&model),
                        &config,
                    ));
                }
            }
            let per = start.elapsed().as_secs_f64() * 1e3 / n as f64;
            println!("{group}/{name}: {per:.3} ms per derivation ({n} runs)");
        }
    }
}

criterion_group! {
    name = benches;
    // Plotting needs system fonts, which a bare machine may lack.
    config = Criterion::default().without_plots();
    targets = derive, fisher, fim
}

fn main() {
    match std::env::var("FIMKIT_DERIVE_COUNT").map(|n| n.parse::<usize>()) {
        Ok(Ok(n)) => count(n),
        _ => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
