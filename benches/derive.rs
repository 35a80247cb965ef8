//! Time to derive the simplified score and Hessian of each model: the
//! textbook corpus, the examples, and a Dirichlet with K = 10.
//!
//! Targets: every textbook model under 20 ms, Dirichlet K = 10 under 200 ms.
//! Run with `cargo bench --bench derive` (a filter such as `-- dirichlet`
//! narrows it down).

use criterion::{Criterion, criterion_group, criterion_main};
use fimkit::symbolic::simplify::{Assumptions, SimplifyConfig, derive_simplified};
use std::hint::black_box;
use std::time::Duration;

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
    out.push((
        "dirichlet_k10".into(),
        "const K = 10\nparam alpha[1..K] : positive\ndata x[1..K] : simplex\nx ~ dirichlet(alpha)\n"
            .into(),
    ));
    out
}

fn derive(c: &mut Criterion) {
    let config = SimplifyConfig::default();
    let mut group = c.benchmark_group("derive");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for (name, src) in models() {
        let Ok(model) = fimkit::load(&src, &name) else {
            continue;
        };
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

criterion_group!(benches, derive);
criterion_main!(benches);
