//! Time and accuracy of the numeric Fisher information (tiers 2 and 3) for
//! the models SymPy struggles with: Cauchy (location, scale), Weibull with
//! unknown shape and scale, and the log-normal. SymPy's figures for the
//! same closed forms: 26 s, > 280 s and > 280 s.
//!
//! Before timing, each case prints its largest error relative to the known
//! closed form (scaled by √(F_ii F_jj)), its error estimate and the number
//! of log-density evaluations. Run with `cargo bench --bench numeric_fim`.

use criterion::{Criterion, criterion_group, criterion_main};
use fimkit::fisher::numeric::{NumericConfig, numeric_fim};
use nalgebra::DMatrix;
use std::hint::black_box;
use std::time::Duration;

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

struct Case {
    name: &'static str,
    source: &'static str,
    theta: Vec<f64>,
    exact: DMatrix<f64>,
    config: NumericConfig,
}

fn cases() -> Vec<Case> {
    let pi2 = std::f64::consts::PI.powi(2);
    let (k, lambda) = (1.7, 2.5);
    let (mu, sigma) = (0.3, 1.4);
    vec![
        Case {
            name: "cauchy (tier 2)",
            source: "param mu : real\nparam sigma : positive\ndata x : real\n\
                     logp += -log(pi) - log(sigma) - log(1 + ((x - mu)/sigma)^2)",
            theta: vec![0.5, 2.0],
            exact: DMatrix::from_row_slice(2, 2, &[0.125, 0.0, 0.0, 0.125]),
            config: NumericConfig::default(),
        },
        Case {
            name: "cauchy (tier 3)",
            source: "param mu : real\nparam sigma : positive\ndata x : real\n\
                     logp += -log(pi) - log(sigma) - log(1 + ((x - mu)/sigma)^2)",
            theta: vec![0.5, 2.0],
            exact: DMatrix::from_row_slice(2, 2, &[0.125, 0.0, 0.0, 0.125]),
            config: NumericConfig {
                location_scale: false,
                ..NumericConfig::default()
            },
        },
        Case {
            name: "weibull shape+scale",
            source: "param k : positive\nparam lambda : positive\ndata x : positive\n\
                     logp += log(k) - log(lambda) + (k - 1)*(log(x) - log(lambda)) - (x/lambda)^k",
            theta: vec![k, lambda],
            exact: DMatrix::from_row_slice(
                2,
                2,
                &[
                    (pi2 / 6.0 + (1.0 - EULER_GAMMA).powi(2)) / (k * k),
                    -(1.0 - EULER_GAMMA) / lambda,
                    -(1.0 - EULER_GAMMA) / lambda,
                    k * k / (lambda * lambda),
                ],
            ),
            config: NumericConfig::default(),
        },
        Case {
            name: "lognormal",
            source: "param mu : real\nparam sigma : positive\ndata x : positive\n\
                     logp += -log(x) - log(sigma) - log(2*pi)/2 - (log(x) - mu)^2/(2*sigma^2)",
            theta: vec![mu, sigma],
            exact: DMatrix::from_row_slice(
                2,
                2,
                &[1.0 / (sigma * sigma), 0.0, 0.0, 2.0 / (sigma * sigma)],
            ),
            config: NumericConfig::default(),
        },
    ]
}

fn rel_err(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let mut worst = 0.0f64;
    for i in 0..b.nrows() {
        for j in 0..b.ncols() {
            let s = (b[(i, i)] * b[(j, j)]).abs().sqrt();
            worst = worst.max((a[(i, j)] - b[(i, j)]).abs() / s);
        }
    }
    worst
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("numeric_fim");
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(20);
    for case in cases() {
        let model = fimkit::load(case.source, "m").expect("model");
        let f = numeric_fim(&model, &case.theta, &case.config).expect("numeric FIM");
        eprintln!(
            "{:<22} rel. error {:.1e}  estimate {:.1e}  evaluations {}  ({})",
            case.name,
            rel_err(&f.value, &case.exact),
            f.error.max(),
            f.moments.evaluations,
            f.method
        );
        group.bench_function(case.name, |b| {
            b.iter(|| numeric_fim(black_box(&model), black_box(&case.theta), &case.config))
        });
    }
    group.finish();
}

/// The numeric FIM of a design (no closed form): a Weibull AFT model over
/// 10⁴ rows, all distinct or 20 distinct covariate values.
fn bench_design(c: &mut Criterion) {
    use fimkit::fisher::numeric::numeric_fim_over;
    use fimkit::numeric::DataSchema;
    let model = fimkit::load(
        "param b0 : real\nparam b1 : real\nparam k : positive\ncovariate x : real\n\
         data t : positive\nt ~ weibull(k, exp(b0 + b1*x))\n",
        "aft",
    )
    .expect("model");
    let schema = DataSchema::from_model(&model).covariates_only();
    let theta = [0.2, 0.5, 1.5];
    let mut group = c.benchmark_group("numeric_fim_design");
    group.measurement_time(Duration::from_secs(10));
    group.sample_size(10);
    for (name, distinct) in [
        ("weibull_aft 1e4 rows, all distinct", 10_000),
        ("weibull_aft 1e4 rows, 20 distinct", 20),
    ] {
        let values: Vec<f64> = (0..10_000)
            .map(|i| -1.0 + 3.0 * ((i % distinct) as f64 + 0.5) / distinct as f64)
            .collect();
        let data = schema.dataset_from_rows(values).expect("design");
        let config = NumericConfig::default();
        let f = numeric_fim_over(&model, &theta, &data, &config).expect("FIM");
        eprintln!(
            "{name}: {} distinct rows, error estimate {:.1e}",
            f.distinct_rows,
            f.error.max()
        );
        group.bench_function(name, |b| {
            b.iter(|| numeric_fim_over(black_box(&model), black_box(&theta), &data, &config))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, bench_design);
criterion_main!(benches);
