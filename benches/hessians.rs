//! Exact per-sample Hessians over many rows, in rows per second:
//! fimkit's [`ModelFunctions::fold_rows`] against a hand-written closed-form
//! Hessian in Rust doing the same work (value, score and Hessian per row,
//! all three summed in the same accumulator), both parallel over the same
//! chunks of rows with rayon. For the Gamma
//! also [`ModelFunctions::sum_rows`], which sums a data-independent
//! Hessian as `n·H` per block instead of folding it row by row.
//!
//! Workloads (the same as `bench/jax_hessians.py`):
//! * `gamma` — Gamma(α, β) log-density, θ = (α, β) = (2, 1.5);
//! * `logistic_d10`, `logistic_d50` — logistic regression with d
//!   coefficients and d covariates, θ = 0.1·(1, −1, 1, …); also
//!   `sum_rows`, which sums Σ w(η) z zᵀ with the weighted Gram kernel;
//! * `pk` — a one-compartment PK model with additive error (4 parameters,
//!   nonlinear, data-dependent Hessian: the derivative engine, compiled
//!   symbolic derivatives), no hand-written contender.
//!
//! Per-row arrays (`fimkit_rows`, `Model::rows`) are timed over the whole
//! dataset in one call (fresh output buffers of 168 MB for the PK model,
//! whose pages the kernel zeroes on first touch) and, as
//! `fimkit_rows_batched`, in the consecutive batches JAX's bench uses (10⁵
//! rows for d ≤ 15), whose freed buffers the allocator reuses as XLA's
//! does.
//!
//! Rows: 10⁶ (override with `FIMKIT_BENCH_ROWS`). Run with
//! `cargo bench --bench hessians`; criterion reports throughput in
//! elements (rows) per second.
//!
//! Only the workloads the criterion filter can select are built (their
//! data and checks take longer than some benchmarks), so that
//! `cargo bench --bench hessians -- gamma` under `perf record` sees the
//! Gamma alone; `FIMKIT_BENCH_ONLY=gamma,logistic_d10` picks workloads by
//! name whatever the filter.

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

/// The dataset in consecutive batches of the rows JAX's bench hands to
/// its jitted function at once (`bench/jax_hessians.py`: 10⁵ rows for
/// d ≤ 15, fewer above): per-row arrays a batch at a time, as JAX makes
/// them, so that both reuse their freed output buffers.
fn batches(f: &ModelFunctions, data: &Dataset, d: usize) -> Vec<Dataset> {
    let batch = (25_000_000 / (d * d)).clamp(1_000, 100_000);
    let w = f.input_names().len();
    data.values()
        .chunks(batch * w)
        .map(|c| f.schema().dataset_from_rows(c.to_vec()).expect("batch"))
        .collect()
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

/// What both contenders do with every row: the sums of the values, the
/// scores and the Hessians, in the same accumulator.
struct Acc {
    v: f64,
    g: Vec<f64>,
    h: Vec<f64>,
}

impl Acc {
    fn new(d: usize) -> Acc {
        Acc {
            v: 0.0,
            g: vec![0.0; d],
            h: vec![0.0; d * d],
        }
    }

    /// Add one row's value, score and Hessian.
    #[inline]
    fn add(&mut self, v: f64, g: &[f64], h: &[f64]) {
        self.v += v;
        for (a, x) in self.g.iter_mut().zip(g) {
            *a += x;
        }
        for (a, x) in self.h.iter_mut().zip(h) {
            *a += x;
        }
    }

    fn join(mut self, b: Acc) -> Acc {
        self.v += b.v;
        self.g.iter_mut().zip(&b.g).for_each(|(x, y)| *x += y);
        self.h.iter_mut().zip(&b.h).for_each(|(x, y)| *x += y);
        self
    }
}

/// Every row's value, score and Hessian through the library, summed.
fn fimkit_sum(f: &ModelFunctions, theta: &DVector<f64>, data: &Dataset) -> Acc {
    let d = theta.len();
    f.fold_rows(
        theta,
        data,
        || Acc::new(d),
        |acc, r| acc.add(r.log_density, r.score, r.hessian),
        Acc::join,
    )
    .expect("rows evaluate")
}

/// Hand-written Gamma: value, score and Hessian per row in closed form
/// (special functions of α hoisted), summed as [`fimkit_sum`] sums them,
/// over the same chunks of rows.
fn gamma_hand(alpha: f64, beta: f64, xs: &[f64]) -> Acc {
    let (lg, psi, psi1, lb) = (
        lgamma(alpha),
        digamma(alpha),
        polygamma(1, alpha),
        beta.ln(),
    );
    let h = [-psi1, 1.0 / beta, 1.0 / beta, -alpha / (beta * beta)];
    xs.par_chunks(CHUNK)
        .map(|chunk| {
            let mut acc = Acc::new(2);
            for &x in chunk {
                let lx = x.ln();
                let v = alpha * lb - lg + (alpha - 1.0) * lx - beta * x;
                let g = [lb - psi + lx, alpha / beta - x];
                acc.add(v, &g, &h);
            }
            acc
        })
        .reduce(|| Acc::new(2), Acc::join)
}

/// Hand-written logistic regression: η = bᵀz, value y η − log(1 + e^η),
/// score (y − p) z, Hessian −p(1 − p) z zᵀ written out per row, summed as
/// [`fimkit_sum`] sums them, over the same chunks of rows.
fn logistic_hand(b: &[f64], data: &[f64]) -> Acc {
    let d = b.len();
    let w = d + 1; // y, then z[1..d] (the dataset's column order)
    data.par_chunks(w * CHUNK)
        .map(|chunk| {
            let mut acc = Acc::new(d);
            let mut h = vec![0.0; d * d];
            let mut g = vec![0.0; d];
            for row in chunk.chunks(w) {
                let (y, z) = (row[0], &row[1..]);
                let eta: f64 = b.iter().zip(z).map(|(b, z)| b * z).sum();
                let p = 1.0 / (1.0 + (-eta).exp());
                // log σ(η) = −log1p(e^−η), stable for both signs
                let log_sig = -(-eta.abs()).exp().ln_1p() + eta.min(0.0);
                let v = log_sig - (1.0 - y) * eta;
                let r = y - p;
                let wgt = -p * (1.0 - p);
                for k in 0..d {
                    g[k] = r * z[k];
                    let c = wgt * z[k];
                    for (hk, zl) in h[k * d..(k + 1) * d].iter_mut().zip(z) {
                        *hk = c * zl;
                    }
                }
                acc.add(v, &g, &h);
            }
            acc
        })
        .reduce(|| Acc::new(d), Acc::join)
}

/// Do two sums agree (1e-9, relative)?
fn agree(a: &Acc, b: &Acc) -> bool {
    close(&a.h, &b.h) && close(&a.g, &b.g) && close(&[a.v], &[b.v])
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
    let hand = gamma_hand(2.0, 1.5, &xs);
    assert!(
        agree(&fimkit_sum(&f, &theta, &data), &hand),
        "fimkit and hand-written agree"
    );
    let s = f.sum_rows(&theta, &data).expect("rows evaluate");
    let s = Acc {
        v: s.loglik,
        g: s.score.as_slice().to_vec(),
        h: s.hessian.as_slice().to_vec(),
    };
    assert!(agree(&s, &hand), "sum_rows and hand-written agree");
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
    assert!(
        agree(
            &fimkit_sum(&f, &theta, &data),
            &logistic_hand(&b, data.values())
        ),
        "fimkit and hand-written agree"
    );
    let s = f.sum_rows(&theta, &data).expect("rows evaluate");
    let s = Acc {
        v: s.loglik,
        g: s.score.as_slice().to_vec(),
        h: s.hessian.as_slice().to_vec(),
    };
    assert!(
        agree(&s, &logistic_hand(&b, data.values())),
        "sum_rows and hand-written agree"
    );
    let mut g = c.benchmark_group(format!("hessians/logistic_d{d}"));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("fimkit", |bch| {
        bch.iter(|| black_box(fimkit_sum(&f, &theta, &data)))
    });
    // The sums alone (the library's `sum_rows`, `Model::sums`): per row the
    // value and the derivatives in the linear predictor, the Hessian
    // Σ w(η) z zᵀ by the weighted Gram kernel.
    g.bench_function("fimkit_sum_rows", |bch| {
        bch.iter(|| black_box(f.sum_rows(&theta, &data).expect("rows evaluate")))
    });
    g.bench_function("hand", |bch| {
        bch.iter(|| black_box(logistic_hand(&b, data.values())))
    });
    // The Python package's calls in Rust: every row's value, score and
    // Hessian materialized (`Model::rows`) from the dataset, and from named
    // columns as Python hands them over (`Model::rows_of_columns`): value,
    // score and Hessian (`derivatives`), the Hessian alone (`hessian`).
    // bench/python_hessians.py times the Python calls on the same data.
    let m = fimkit::Model::from_source(&logistic_source(d), "logistic").expect("model");
    let names = m.input_names();
    let w = d + 1;
    let columns: Vec<Vec<f64>> = (0..w)
        .map(|j| data.values().iter().skip(j).step_by(w).copied().collect())
        .collect();
    let named: Vec<(&str, &[f64])> = names
        .iter()
        .map(String::as_str)
        .zip(columns.iter().map(Vec::as_slice))
        .collect();
    g.bench_function("fimkit_rows", |bch| {
        bch.iter(|| black_box(m.rows(&b, &data, true, true).expect("rows")))
    });
    let parts = batches(&f, &data, d);
    g.bench_function("fimkit_rows_batched", |bch| {
        bch.iter(|| {
            for part in &parts {
                black_box(m.rows(&b, part, true, true).expect("rows"));
            }
        })
    });
    g.bench_function("fimkit_columns_rows", |bch| {
        bch.iter(|| black_box(m.rows_of_columns(&b, &named, true, true).expect("rows")))
    });
    g.bench_function("fimkit_columns_hessian", |bch| {
        bch.iter(|| black_box(m.rows_of_columns(&b, &named, false, true).expect("rows")))
    });
    g.finish();
}

/// A one-compartment pharmacokinetic model, oral dose D = 100, additive
/// error: θ = (ka, ke, V, σ) enters nonlinearly and the Hessian depends on
/// the data, so neither the n·H nor the linear-form path applies.
const PK: &str = "const D = 100\nparam ka : positive\nparam ke : positive\n\
                  param V : positive\nparam sigma : positive\ncovariate t : positive\n\
                  data y : real\n\
                  y ~ normal(D*ka/(V*(ka - ke))*(exp(-ke*t) - exp(-ka*t)), sigma)\n";

/// PK: θ = (1.5, 0.2, 10, 0.5), t ~ U(0.25, 24.25), y = C(t) + σ·N(0, 1).
fn bench_pk(c: &mut Criterion) {
    let n = rows();
    let f = load(PK);
    let (ka, ke, v, sigma) = (1.5, 0.2, 10.0, 0.5);
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let names = f.schema().names();
    let mut values = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let t = 0.25 + 24.0 * rng.next();
        let conc = 100.0 * ka / (v * (ka - ke)) * ((-ke * t).exp() - (-ka * t).exp());
        // Box–Muller
        let (u1, u2) = (rng.next().max(1e-300), rng.next());
        let y = conc + sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        for name in &names {
            values.push(if &**name == "t" { t } else { y });
        }
    }
    let data = f.schema().dataset_from_rows(values).expect("data");
    let theta = DVector::from_vec(vec![ka, ke, v, sigma]);
    let folded = fimkit_sum(&f, &theta, &data);
    let s = f.sum_rows(&theta, &data).expect("rows evaluate");
    let s = Acc {
        v: s.loglik,
        g: s.score.as_slice().to_vec(),
        h: s.hessian.as_slice().to_vec(),
    };
    assert!(agree(&s, &folded), "sum_rows and the fold agree");
    let m = fimkit::Model::from_source(PK, "pk").expect("model");
    let mut g = c.benchmark_group("hessians/pk");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("fimkit", |bch| {
        bch.iter(|| black_box(fimkit_sum(&f, &theta, &data)))
    });
    g.bench_function("fimkit_sum_rows", |bch| {
        bch.iter(|| black_box(f.sum_rows(&theta, &data).expect("rows evaluate")))
    });
    g.bench_function("fimkit_rows", |bch| {
        bch.iter(|| black_box(m.rows(theta.as_slice(), &data, true, true).expect("rows")))
    });
    let parts = batches(&f, &data, 4);
    g.bench_function("fimkit_rows_batched", |bch| {
        bch.iter(|| {
            for part in &parts {
                black_box(m.rows(theta.as_slice(), part, true, true).expect("rows"));
            }
        })
    });
    g.finish();
}

/// Options of criterion's command line that take a value (so that the
/// value is not read as the filter).
const VALUE_OPTIONS: &[&str] = &[
    "--save-baseline",
    "-s",
    "--baseline",
    "-b",
    "--baseline-lenient",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--plotting-backend",
    "--output-format",
    "--format",
    "--color",
    "-c",
    "--skip",
];

/// Should workload `name` (the group `hessians/<name>`) be built? Yes when
/// `FIMKIT_BENCH_ONLY` lists it, or else when criterion's filter (the
/// first positional argument, a regex) may select one of its benchmarks:
/// the filter is taken literally when it has no regex syntax, otherwise
/// everything is built.
fn selected(name: &str) -> bool {
    if let Ok(only) = std::env::var("FIMKIT_BENCH_ONLY") {
        return only.split(',').any(|w| w.trim() == name);
    }
    let mut args = std::env::args().skip(1);
    let mut filter = None;
    while let Some(a) = args.next() {
        if VALUE_OPTIONS.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            filter = Some(a);
            break;
        }
    }
    let Some(f) = filter else { return true };
    if f.chars().any(|c| "\\.^$*+?()[]{}|".contains(c)) {
        return true;
    }
    let group = format!("hessians/{name}");
    [
        "fimkit",
        "fimkit_sum_rows",
        "hand",
        "fimkit_rows",
        "fimkit_rows_batched",
        "fimkit_columns_rows",
        "fimkit_columns_hessian",
    ]
    .iter()
    .any(|b| format!("{group}/{b}").contains(&f))
}

fn benches(c: &mut Criterion) {
    if selected("gamma") {
        bench_gamma(c);
    }
    for d in [10, 50] {
        if selected(&format!("logistic_d{d}")) {
            bench_logistic(c, d);
        }
    }
    if selected("pk") {
        bench_pk(c);
    }
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
