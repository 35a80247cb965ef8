//! Exact per-sample Hessians over many rows, in rows per second:
//! fimkit's [`ModelFunctions::fold_rows`] against a hand-written closed-form
//! Hessian in Rust doing the same work (value, score and Hessian per row,
//! Hessians summed), both parallel over rows with rayon. For the Gamma
//! also [`ModelFunctions::sum_rows`], which sums a data-independent
//! Hessian as `n·H` per block instead of folding it row by row.
//!
//! Workloads (the same as `bench/jax_hessians.py`):
//! * `gamma` — Gamma(α, β) log-density, θ = (α, β) = (2, 1.5);
//! * `logistic_d10`, `logistic_d50` — logistic regression with d
//!   coefficients and d covariates, θ = 0.1·(1, −1, 1, …).
//!
//! Rows: 10⁶ (override with `FIMKIT_BENCH_ROWS`). Run with
//! `cargo bench --bench hessians`; criterion reports throughput in
//! elements (rows) per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fimkit::numeric::special::{digamma, lgamma, polygamma};
use fimkit::numeric::{Dataset, ModelFunctions};
use nalgebra::DVector;
use rayon::prelude::*;
use std::hint::black_box;
use std::time::Duration;

const CHUNK: usize = 2048;

fn rows() -> usize {
    std::env::var("FIMKIT_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

/// xorshift64*: deterministic data without a seed file.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn load(src: &str) -> ModelFunctions {
    let m = fimkit::load(src, "bench").expect("bench model");
    ModelFunctions::new(&m).expect("compiles")
}

/// The logistic model with d coefficients.
fn logistic_source(d: usize) -> String {
    format!(
        "const d = {d}\nparam b[1..d] : real\ncovariate z[1..d] : real\ndata y : {{0, 1}}\n\
         y ~ bernoulli(sigmoid(sum(k in 1..d, b[k]*z[k])))\n"
    )
}

/// Sum of per-row Hessians (and values) through the library.
fn fimkit_sum(f: &ModelFunctions, theta: &DVector<f64>, data: &Dataset) -> (f64, Vec<f64>) {
    let d = theta.len();
    f.fold_rows(
        theta,
        data,
        || (0.0, vec![0.0; d * d]),
        |acc, r| {
            acc.0 += r.log_density;
            for (a, h) in acc.1.iter_mut().zip(r.hessian) {
                *a += h;
            }
        },
        |mut a, b| {
            a.0 += b.0;
            a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y);
            a
        },
    )
    .expect("rows evaluate")
}

/// Hand-written Gamma: value, score and Hessian per row, special
/// functions of α hoisted, Hessians summed.
fn gamma_hand(alpha: f64, beta: f64, xs: &[f64]) -> (f64, Vec<f64>) {
    let (lg, psi, psi1, lb) = (
        lgamma(alpha),
        digamma(alpha),
        polygamma(1, alpha),
        beta.ln(),
    );
    let parts: Vec<(f64, [f64; 4], [f64; 2])> = xs
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut v = 0.0;
            let mut acc = [0.0; 4];
            let mut gs = [0.0; 2];
            for &x in chunk {
                let lx = x.ln();
                v += alpha * lb - lg + (alpha - 1.0) * lx - beta * x;
                let g = [lb - psi + lx, alpha / beta - x];
                let h = [-psi1, 1.0 / beta, 1.0 / beta, -alpha / (beta * beta)];
                gs[0] += g[0];
                gs[1] += g[1];
                for k in 0..4 {
                    acc[k] += h[k];
                }
            }
            (v, acc, gs)
        })
        .collect();
    let mut v = 0.0;
    let mut h = vec![0.0; 4];
    for (pv, ph, pg) in parts {
        v += pv + black_box(pg[0] + pg[1]) * 0.0;
        h.iter_mut().zip(ph).for_each(|(a, b)| *a += b);
    }
    (v, h)
}

/// Hand-written logistic regression: η = bᵀz, value y η − log(1 + e^η),
/// score (y − p) z, Hessian −p(1 − p) z zᵀ written out per row and summed.
fn logistic_hand(b: &[f64], data: &[f64]) -> (f64, Vec<f64>) {
    let d = b.len();
    let w = d + 1; // y, then z[1..d] (the dataset's column order)
    let parts: Vec<(f64, Vec<f64>)> = data
        .par_chunks(w * CHUNK)
        .map(|chunk| {
            let mut v = 0.0;
            let mut acc = vec![0.0; d * d];
            let mut h = vec![0.0; d * d];
            let mut g = vec![0.0; d];
            for row in chunk.chunks(w) {
                let (y, z) = (row[0], &row[1..]);
                let eta: f64 = b.iter().zip(z).map(|(b, z)| b * z).sum();
                let p = 1.0 / (1.0 + (-eta).exp());
                // log σ(η) = −log1p(e^−η), stable for both signs
                let log_sig = -(-eta.abs()).exp().ln_1p() + eta.min(0.0);
                v += log_sig - (1.0 - y) * eta;
                let r = y - p;
                let wgt = -p * (1.0 - p);
                for k in 0..d {
                    g[k] = r * z[k];
                    let c = wgt * z[k];
                    for (hk, zl) in h[k * d..(k + 1) * d].iter_mut().zip(z) {
                        *hk = c * zl;
                    }
                }
                black_box(&g);
                acc.iter_mut().zip(&h).for_each(|(a, x)| *a += x);
            }
            (v, acc)
        })
        .collect();
    let mut v = 0.0;
    let mut h = vec![0.0; d * d];
    for (pv, ph) in parts {
        v += pv;
        h.iter_mut().zip(&ph).for_each(|(a, b)| *a += b);
    }
    (v, h)
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0))
}

fn bench_gamma(c: &mut Criterion) {
    let n = rows();
    let f = load(
        "param alpha : positive\nparam beta : positive\ndata x : positive\nx ~ gamma(alpha, beta)\n",
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let xs: Vec<f64> = (0..n).map(|_| 0.05 + 3.0 * rng.next()).collect();
    let data = f.schema().dataset_from_rows(xs.clone()).expect("data");
    let theta = DVector::from_vec(vec![2.0, 1.5]);
    let (va, ha) = fimkit_sum(&f, &theta, &data);
    let (vb, hb) = gamma_hand(2.0, 1.5, &xs);
    assert!(
        close(&ha, &hb) && close(&[va], &[vb]),
        "fimkit and hand-written agree"
    );
    let s = f.sum_rows(&theta, &data).expect("rows evaluate");
    assert!(
        close(s.hessian.as_slice(), &hb) && close(&[s.loglik], &[vb]),
        "sum_rows and hand-written agree"
    );
    let mut g = c.benchmark_group("hessians/gamma");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("fimkit", |bch| {
        bch.iter(|| black_box(fimkit_sum(&f, &theta, &data)))
    });
    g.bench_function("fimkit_sum_rows", |bch| {
        bch.iter(|| black_box(f.sum_rows(&theta, &data).expect("rows evaluate")))
    });
    g.bench_function("hand", |bch| {
        bch.iter(|| black_box(gamma_hand(2.0, 1.5, &xs)))
    });
    g.finish();
}

fn bench_logistic(c: &mut Criterion, d: usize) {
    let n = rows();
    let f = load(&logistic_source(d));
    assert_eq!(
        f.linear_forms(),
        Some(1),
        "logistic regression uses the linear-form path"
    );
    let b: Vec<f64> = (0..d)
        .map(|k| if k % 2 == 0 { 0.1 } else { -0.1 })
        .collect();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ d as u64);
    let mut values = Vec::with_capacity(n * (d + 1));
    for _ in 0..n {
        let z: Vec<f64> = (0..d).map(|_| 2.0 * rng.next() - 1.0).collect();
        let eta: f64 = b.iter().zip(&z).map(|(b, z)| b * z).sum();
        let y = f64::from(u8::from(rng.next() < 1.0 / (1.0 + (-eta).exp())));
        values.push(y);
        values.extend(z);
    }
    let data = f.schema().dataset_from_rows(values).expect("data");
    let theta = DVector::from_vec(b.clone());
    let (va, ha) = fimkit_sum(&f, &theta, &data);
    let (vb, hb) = logistic_hand(&b, data.values());
    assert!(
        close(&ha, &hb) && close(&[va], &[vb]),
        "fimkit and hand-written agree"
    );
    let mut g = c.benchmark_group(format!("hessians/logistic_d{d}"));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("fimkit", |bch| {
        bch.iter(|| black_box(fimkit_sum(&f, &theta, &data)))
    });
    g.bench_function("hand", |bch| {
        bch.iter(|| black_box(logistic_hand(&b, data.values())))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_gamma(c);
    bench_logistic(c, 10);
    bench_logistic(c, 50);
}

criterion_group! {
    name = hessians;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(hessians);
