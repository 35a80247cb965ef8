//! The MLE of the textbook families, fitted from simulated data, lands near
//! the truth: a Wald test `(θ̂ − θ*)ᵀ I(θ̂) (θ̂ − θ*) ~ χ²_d` at level 10⁻³
//! (fixed seeds, so the outcome is reproducible; the level is the test's,
//! not a tolerance tuned to pass). Fisher scoring and the natural
//! gradient with its KL trust region must both converge from the model's
//! default start, to the same estimate. Every model of
//! tests/fixtures/textbook/ is covered (checked below).

use fimkit::fit::{FitConfig, InformationKind, Method, Problem, fit};
use nalgebra::DVector;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{
    Beta, ChiSquared, Distribution, Exp, Gamma, InverseGaussian, Normal, Poisson, Weibull,
};

/// χ²_d quantile at 0.999.
fn chi2_999(d: usize) -> f64 {
    [10.828, 13.816, 16.266, 18.467, 20.515][d - 1]
}

type Sampler = Box<dyn Fn(&mut StdRng) -> Vec<f64>>;

struct Case {
    name: &'static str,
    source: String,
    truth: Vec<f64>,
    sample: Sampler,
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/textbook/{name}.fim",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn case(
    name: &'static str,
    source: String,
    truth: &[f64],
    sample: impl Fn(&mut StdRng) -> Vec<f64> + 'static,
) -> Case {
    Case {
        name,
        source,
        truth: truth.to_vec(),
        sample: Box::new(sample),
    }
}

fn cases() -> Vec<Case> {
    let normal = |m: f64, s: f64| Normal::new(m, s).unwrap();
    vec![
        case("normal", fixture("normal"), &[1.5, 2.0], move |r| {
            vec![normal(1.5, 2.0).sample(r)]
        }),
        case("normal_var", fixture("normal_var"), &[-1.0, 4.0], move |r| {
            vec![normal(-1.0, 2.0).sample(r)]
        }),
        case("normal_curved", fixture("normal_curved"), &[1.7], move |r| {
            vec![normal(1.7, 1.7).sample(r)]
        }),
        case("normal_natural", fixture("normal_natural"), &[1.0, -0.5], move |r| {
            // η1 = μ/σ², η2 = −1/(2σ²): μ = 1, σ = 1
            vec![normal(1.0, 1.0).sample(r)]
        }),
        case("mvn_diag2", fixture("mvn_diag2"), &[0.5, -2.0, 1.0, 3.0], move |r| {
            vec![normal(0.5, 1.0).sample(r), normal(-2.0, 3.0).sample(r)]
        }),
        case("lognormal", fixture("lognormal"), &[0.3, 0.8], move |r| {
            vec![normal(0.3, 0.8).sample(r).exp()]
        }),
        case("gamma_rate", fixture("gamma_rate"), &[2.5, 1.5], |r| {
            vec![Gamma::new(2.5, 1.0 / 1.5).unwrap().sample(r)]
        }),
        case("gamma_scale", fixture("gamma_scale"), &[0.7, 3.0], |r| {
            vec![Gamma::new(0.7, 3.0).unwrap().sample(r)]
        }),
        case("inverse_gamma", fixture("inverse_gamma"), &[3.0, 2.0], |r| {
            vec![1.0 / Gamma::new(3.0, 1.0 / 2.0).unwrap().sample(r)]
        }),
        case("beta", fixture("beta"), &[2.0, 5.0], |r| {
            vec![Beta::new(2.0, 5.0).unwrap().sample(r)]
        }),
        case("chi_squared", fixture("chi_squared"), &[3.5], |r| {
            vec![ChiSquared::new(3.5).unwrap().sample(r)]
        }),
        case("exponential_rate", fixture("exponential_rate"), &[0.4], |r| {
            vec![Exp::new(0.4).unwrap().sample(r)]
        }),
        case("exponential_scale", fixture("exponential_scale"), &[2.5], |r| {
            vec![Exp::new(0.4).unwrap().sample(r)]
        }),
        case("inverse_gaussian", fixture("inverse_gaussian"), &[2.0, 3.0], |r| {
            vec![InverseGaussian::new(2.0, 3.0).unwrap().sample(r)]
        }),
        case("rayleigh", fixture("rayleigh"), &[1.3], |r| {
            let u: f64 = r.random();
            vec![1.3 * (-2.0 * (1.0 - u).ln()).sqrt()]
        }),
        case("weibull", fixture("weibull"), &[1.8], |r| {
            vec![Weibull::new(1.8, 2.0).unwrap().sample(r)]
        }),
        case(
            "weibull2",
            "param k : positive\nparam lambda : positive\ndata x : positive\nx ~ weibull(k, lambda)\n".into(),
            &[1.5, 2.0],
            |r| vec![Weibull::new(2.0, 1.5).unwrap().sample(r)],
        ),
        case("pareto", fixture("pareto"), &[2.5], |r| {
            let u: f64 = r.random();
            vec![(1.0 - u).powf(-1.0 / 2.5)]
        }),
        case("laplace", fixture("laplace"), &[0.7], |r| {
            let (a, b): (f64, f64) = (Exp::new(1.0).unwrap().sample(r), Exp::new(1.0).unwrap().sample(r));
            vec![0.7 * (a - b)]
        }),
        case("poisson", fixture("poisson"), &[3.2], |r| {
            vec![Poisson::new(3.2).unwrap().sample(r)]
        }),
        case("poisson_log", fixture("poisson_log"), &[0.5], |r| {
            vec![Poisson::new(0.5f64.exp()).unwrap().sample(r)]
        }),
        case("bernoulli", fixture("bernoulli"), &[0.3], |r| {
            vec![f64::from(r.random::<f64>() < 0.3)]
        }),
        case("bernoulli_logit", fixture("bernoulli_logit"), &[-0.8], |r| {
            let p = 1.0 / (1.0 + 0.8f64.exp());
            vec![f64::from(r.random::<f64>() < p)]
        }),
        case("binomial", fixture("binomial"), &[0.35], |r| {
            vec![(0..10).filter(|_| r.random::<f64>() < 0.35).count() as f64]
        }),
        case("binomial_odds", fixture("binomial_odds"), &[0.6], |r| {
            let p = 0.6 / 1.6;
            vec![(0..10).filter(|_| r.random::<f64>() < p).count() as f64]
        }),
        case("geometric", fixture("geometric"), &[0.25], |r| {
            let mut k = 0.0;
            while r.random::<f64>() >= 0.25 {
                k += 1.0;
            }
            vec![k]
        }),
        case("negative_binomial", fixture("negative_binomial"), &[0.4], |r| {
            // failures before the 5th success: Poisson(Gamma(5, (1 − p)/p))
            let lam = Gamma::new(5.0, 0.6 / 0.4).unwrap().sample(r);
            vec![Poisson::new(lam).unwrap().sample(r)]
        }),
        case("categorical3", fixture("categorical3"), &[0.2, 0.5], |r| {
            let u: f64 = r.random();
            vec![if u < 0.2 { 1.0 } else if u < 0.7 { 2.0 } else { 3.0 }]
        }),
        case("multinomial3", fixture("multinomial3"), &[0.2, 0.5], |r| {
            let mut c = [0.0; 3];
            for _ in 0..10 {
                let u: f64 = r.random();
                c[if u < 0.2 { 0 } else if u < 0.7 { 1 } else { 2 }] += 1.0;
            }
            vec![c[0], c[1]]
        }),
        // Regressions: a row is the response, then the covariates (the
        // schema's order), the covariates drawn afresh for every row.
        case(
            "logistic_regression",
            fixture("logistic_regression"),
            &[-0.5, 1.2, -0.8],
            |r| {
                let z1: f64 = Normal::new(0.0, 1.0).unwrap().sample(r);
                let z2: f64 = -1.0 + 3.0 * r.random::<f64>();
                let p = 1.0 / (1.0 + (0.5 - 1.2 * z1 + 0.8 * z2).exp());
                vec![f64::from(r.random::<f64>() < p), z1, z2]
            },
        ),
        case(
            "poisson_regression",
            fixture("poisson_regression"),
            &[0.3, 0.7],
            |r| {
                let z: f64 = Normal::new(0.0, 0.8).unwrap().sample(r);
                let lam = (0.3 + 0.7 * z).exp();
                vec![Poisson::new(lam).unwrap().sample(r), z]
            },
        ),
        case(
            "probit_regression",
            fixture("probit_regression"),
            &[0.2, 0.9],
            |r| {
                // The latent-variable form: y = 1 when 0.2 + 0.9 z + e > 0.
                let z: f64 = Normal::new(0.0, 1.0).unwrap().sample(r);
                let e: f64 = Normal::new(0.0, 1.0).unwrap().sample(r);
                vec![f64::from(0.2 + 0.9 * z + e > 0.0), z]
            },
        ),
        case("dirichlet3", fixture("dirichlet3"), &[2.0, 3.0, 4.0], |r| {
            let g: Vec<f64> = [2.0, 3.0, 4.0]
                .iter()
                .map(|&a| Gamma::new(a, 1.0).unwrap().sample(r))
                .collect();
            let s: f64 = g.iter().sum();
            let mut x: Vec<f64> = g.iter().map(|v| v / s).collect();
            // Close the simplex exactly in f64.
            x[2] = 1.0 - x[0] - x[1];
            x
        }),
        case("dirichlet3_raw", fixture("dirichlet3_raw"), &[2.0, 3.0, 4.0], |r| {
            let g: Vec<f64> = [2.0, 3.0, 4.0]
                .iter()
                .map(|&a| Gamma::new(a, 1.0).unwrap().sample(r))
                .collect();
            let s: f64 = g.iter().sum();
            let mut x: Vec<f64> = g.iter().map(|v| v / s).collect();
            x[2] = 1.0 - x[0] - x[1];
            x
        }),
        // x1 ~ N(0, 1), x2 | x1 ~ N(rho x1, 1 - rho^2).
        case(
            "bivariate_normal_rho",
            fixture("bivariate_normal_rho"),
            &[0.6],
            move |r| {
                let x1 = normal(0.0, 1.0).sample(r);
                vec![x1, normal(0.6 * x1, 0.8).sample(r)]
            },
        ),
    ]
}

const N: usize = 2000;

#[test]
fn textbook_mles_land_near_the_truth() {
    let mut failures = Vec::new();
    for (i, c) in cases().into_iter().enumerate() {
        let model = fimkit::load(&c.source, c.name).expect(c.name);
        let mut rng = StdRng::seed_from_u64(1000 + i as u64);
        let mut values = Vec::new();
        for _ in 0..N {
            values.extend((c.sample)(&mut rng));
        }
        let schema = fimkit::numeric::DataSchema::from_model(&model);
        let data = schema.dataset_from_rows(values).expect(c.name);
        let problem = Problem::new(&model, data).expect(c.name);
        let mut estimates: Vec<DVector<f64>> = Vec::new();
        for method in [Method::FisherScoring, Method::Natural] {
            let config = FitConfig {
                method,
                max_iter: 2000,
                ..FitConfig::default()
            };
            let r = match fit(&problem, &config) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{} {method:?}: {e}", c.name));
                    continue;
                }
            };
            if !r.converged() {
                failures.push(format!("{} {method:?}: {:?}", c.name, r.stop));
                continue;
            }
            let diff = &r.estimates - DVector::from_vec(c.truth.clone());
            let info = match &r.information {
                InformationKind::Observed { .. } => &r.observed_information,
                _ => &r.expected_information,
            };
            let w = diff.dot(&(info * &diff));
            let limit = chi2_999(c.truth.len());
            if w.is_nan() || w >= limit {
                failures.push(format!(
                    "{} {method:?}: Wald statistic {w:.2} ≥ {limit} (θ̂ = {:?})",
                    c.name,
                    r.estimates.as_slice()
                ));
            }
            println!(
                "{} {method:?}: W = {w:.3}, {} iterations, {:?}",
                c.name, r.iterations, r.information
            );
            estimates.push(r.estimates.clone());
        }
        if let [a, b] = estimates.as_slice() {
            let scale = a.amax().max(1.0);
            if (a - b).amax() > 1e-6 * scale {
                failures.push(format!(
                    "{}: Fisher scoring {:?} and natural gradient {:?} disagree",
                    c.name,
                    a.as_slice(),
                    b.as_slice()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_textbook_fixture_is_simulated() {
    let dir = format!("{}/tests/fixtures/textbook", env!("CARGO_MANIFEST_DIR"));
    let names: Vec<&str> = cases().iter().map(|c| c.name).collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "fim") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if !names.contains(&stem.as_str()) {
                missing.push(stem);
            }
        }
    }
    assert!(missing.is_empty(), "no simulation for {missing:?}");
}

/// A normal with a log-linear scale, `y ~ normal(a + b·x, exp(c + s·x))`,
/// is fitted through its two linear forms (the mean and the log-scale):
/// the estimate lands near the truth and the expected information equals
/// the textbook one written out by hand, `Σ (1, x)(1, x)ᵀ/σᵢ²` for (a, b),
/// `2 Σ (1, x)(1, x)ᵀ` for (c, s), zero between the blocks.
#[test]
fn a_log_linear_scale_is_fitted_through_two_forms_with_the_textbook_information() {
    let src = "param a : real\nparam b : real\nparam c : real\nparam s : real\n\
               covariate x : real\ndata y : real\ny ~ normal(a + b*x, exp(c + s*x))\n";
    let model = fimkit::load(src, "het").expect("model");
    let truth = [1.0, 2.0, -0.5, 0.7];
    let mut rng = StdRng::seed_from_u64(77);
    let mut values = Vec::new();
    let mut xs = Vec::new();
    for _ in 0..N {
        let x: f64 = rng.random_range(-1.0..1.0);
        let sd = (truth[2] + truth[3] * x).exp();
        let y = Normal::new(truth[0] + truth[1] * x, sd)
            .unwrap()
            .sample(&mut rng);
        values.extend([y, x]); // data, then covariates
        xs.push(x);
    }
    let schema = fimkit::numeric::DataSchema::from_model(&model);
    let data = schema.dataset_from_rows(values).expect("data");
    let problem = Problem::new(&model, data).expect("problem");
    let r = fit(&problem, &FitConfig::default()).expect("fit");
    assert!(r.converged(), "{:?}", r.stop);
    assert_eq!(r.information, InformationKind::LinearForms { forms: 2 });
    let diff = &r.estimates - DVector::from_vec(truth.to_vec());
    let w = diff.dot(&(&r.expected_information * &diff));
    assert!(
        w < chi2_999(4),
        "Wald {w}, θ̂ = {:?}",
        r.estimates.as_slice()
    );
    let (c, s) = (r.estimates[2], r.estimates[3]);
    let mut want = nalgebra::DMatrix::<f64>::zeros(4, 4);
    for &x in &xs {
        let v = (-2.0 * (c + s * x)).exp(); // 1/σ²
        let z = [1.0, x];
        for i in 0..2 {
            for j in 0..2 {
                want[(i, j)] += v * z[i] * z[j];
                want[(2 + i, 2 + j)] += 2.0 * z[i] * z[j];
            }
        }
    }
    let err = (&r.expected_information - &want).amax() / want.amax();
    assert!(err < 1e-10, "expected information off by {err:e}");
}
