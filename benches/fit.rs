//! The dataset Fisher information of a GLM, `Xᵀ W X`, for n = 10⁶ rows
//! and d = 50 columns (logistic regression, z ~ U(−1, 1), β = 0.1·(1, −1,
//! …)), as a fraction of this machine's dgemm rate (measured by
//! bench/fit_fim_numpy.py in the same session).
//!
//! * `gram_given_w` — [`weighted_gram`] alone, the weights given: the
//!   blocked symmetric rank-k update.
//! * `expected_information` — fimkit's whole GLM FIM routine
//!   (`Problem::expected_information`): η = Xβ per row, the weight
//!   p(1 − p) from the compiled closed form, and the Gram update.
//!
//! Criterion's throughput is in flops at `2·n·d²` (the full product, as
//! for numpy's `Sᵀ S`), so "Gelem/s" reads as GFLOP/s.
//! `FIMKIT_BENCH_ROWS` changes n. Run with `cargo bench --bench fit`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fimkit::fit::{Objective, Problem};
use fimkit::numeric::gram::{Designs, weighted_gram};
use nalgebra::DVector;
use std::hint::black_box;
use std::time::Duration;

const D: usize = 50;

fn rows() -> usize {
    std::env::var("FIMKIT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Deterministic U(−1, 1) values (a 64-bit LCG).
fn uniform(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let n = rows();
    let beta: Vec<f64> = (0..D)
        .map(|k| if k % 2 == 0 { 0.1 } else { -0.1 })
        .collect();
    let x = uniform(n * D, 42);
    let flops = 2 * n as u64 * (D * D) as u64;
    let mut g = c.benchmark_group(format!("fim_xtwx_n{n}_d{D}"));
    g.throughput(Throughput::Elements(flops));

    let w: Vec<f64> = x
        .chunks(D)
        .map(|row| {
            let eta: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-eta).exp());
            p * (1.0 - p)
        })
        .collect();
    let forms = [x.as_slice()];
    let designs = Designs {
        forms: &forms,
        n,
        d: D,
    };
    let gram = |w: &[f64]| {
        weighted_gram(designs, |rows, ws| {
            ws[0].copy_from_slice(&w[rows]);
            Ok::<(), ()>(())
        })
        .unwrap()
    };
    g.bench_function("gram_given_w", |b| b.iter(|| black_box(gram(&w))));

    // The whole routine through a model and a dataset (response y = 0: the
    // expected information does not look at it).
    let src = format!(
        "const d = {D}\nparam b[1..d] : real\ncovariate z[1..d] : real\ndata y : {{0, 1}}\n\
         y ~ bernoulli(sigmoid(sum(k in 1..d, b[k]*z[k])))\n"
    );
    let model = fimkit::load(&src, "logistic").unwrap();
    let schema = fimkit::numeric::DataSchema::from_model(&model);
    let mut values = Vec::with_capacity(n * (D + 1));
    for (r, row) in x.chunks(D).enumerate() {
        values.push((r % 2) as f64);
        values.extend_from_slice(row);
    }
    let data = schema.dataset_from_rows(values).unwrap();
    let problem = Problem::new(&model, data).unwrap();
    let theta = DVector::from_vec(beta.clone());
    // Same matrix both ways.
    let a = problem.expected_information(&theta).unwrap();
    let b = gram(&w);
    let err = (&a - &b).amax() / b.amax();
    assert!(
        err < 1e-12,
        "expected_information and the Gram differ: {err:e}"
    );
    drop(w);
    g.bench_function("expected_information", |bch| {
        bch.iter(|| black_box(problem.expected_information(&theta).unwrap()))
    });
    g.finish();
}

criterion_group! {
    name = fit;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    targets = benches
}
criterion_main!(fit);
