//! Time to derive each model: the textbook corpus, the examples, and the
//! larger Dirichlet and multinomial with K = 10.
//!
//! Two groups:
//!
//! * `derive`: the simplified score and Hessian
//!   ([`derive_simplified`]). Targets: every textbook model under 20 ms,
//!   Dirichlet K = 10 under 200 ms.
//! * `fisher`: the whole derivation of `fimkit derive`
//!   ([`fimkit::fisher::derive`] with its default configuration: score,
//!   Hessian, closed-form FIM, det, Cramér–Rao bound, Jeffreys prior, all
//!   simplified). Targets: Bernoulli under 1 ms, Dirichlet K = 10 under
//!   26 ms, multinomial K = 10 under 47 ms.
//!
//! Run with `cargo bench --bench derive` (a filter such as `-- dirichlet`
//! or `-- fisher/` narrows it down).

use criterion::{Criterion, criterion_group, criterion_main};
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

/// `(name, source)` of every benchmarked model.
fn models() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["tests/fixtures/textbook", "examples"] {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "fim"))
            .collect();
        files.sort();
        for p in files {
            let stem = p.file_stem().unwrap_or_default().to_string_lossy();
            let prefix = if dir == "examples" {
                "example"
            } else {
                "textbook"
            };
            if let Ok(src) = std::fs::read_to_string(&p) {
                out.push((format!("{prefix}/{stem}"), src));
            }
        }
    }
    out.push(("dirichlet_k10".into(), DIRICHLET_K10.into()));
    out.push(("multinomial_k10".into(), MULTINOMIAL_K10.into()));
    out
}

fn loaded() -> Vec<(String, fimkit::Model)> {
    models()
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
    for (name, model) in loaded() {
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
    for (name, model) in loaded() {
        group.bench_function(&name, |b| {
            b.iter(|| black_box(fimkit::fisher::derive(black_box(&model), &config)))
        });
    }
    group.finish();
}

criterion_group!(benches, derive, fisher);
criterion_main!(benches);
