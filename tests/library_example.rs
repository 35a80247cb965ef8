//! The front door as README and examples/library.rs show it: the example
//! runs, and its numbers are the textbook's and the CLI's.

#[path = "../examples/library.rs"]
mod example;

use fimkit::{Error, FimMethod, Model};

#[test]
fn the_example_runs() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd");
    example::main().expect("examples/library.rs");
}

#[test]
fn gamma_closed_form_and_exact_derivatives() -> Result<(), Error> {
    let m = Model::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/gamma.fim"))?;
    assert_eq!(m.param_names(), ["alpha", "beta"]);
    assert_eq!(m.input_names(), ["x"]);
    let (a, b, x) = (2.0, 1.5, 0.7);
    let theta = m.theta(&[("beta", b), ("alpha", a)])?; // any order by name
    assert_eq!(theta.as_slice(), [a, b]);
    // log p = α log β + (α − 1) log x − βx − lnΓ(α)
    let h = m.hessian(theta.as_slice(), &[x])?;
    let trigamma2 = std::f64::consts::PI.powi(2) / 6.0 - 1.0; // ψ₁(2)
    assert!((h[(0, 0)] + trigamma2).abs() < 1e-14, "{h}");
    assert!((h[(0, 1)] - 1.0 / b).abs() < 1e-15);
    assert!((h[(1, 1)] + a / (b * b)).abs() < 1e-15);
    let s = m.score(theta.as_slice(), &[x])?;
    assert!((s[1] - (a / b - x)).abs() < 1e-15);
    let f = m.fisher_information(theta.as_slice())?;
    assert_eq!(f.method, FimMethod::ClosedForm);
    assert!((f.value[(0, 0)] - trigamma2).abs() < 1e-14);
    assert!((f.value[(1, 1)] - a / (b * b)).abs() < 1e-15);
    assert_eq!(f.error.max(), 0.0);
    let se = f.std_errors(100.0).expect("positive definite");
    let crb = f.cramer_rao().expect("positive definite");
    assert!((se[0] - (crb[(0, 0)] / 100.0).sqrt()).abs() < 1e-15);
    Ok(())
}

#[test]
fn numeric_route_when_there_is_no_closed_form() -> Result<(), Error> {
    // A Cauchy with location μ and scale s is location–scale: F = C/s²
    // with C numeric, diag(1, 1)/(2s²) (tests/fixtures/numeric/cauchy.fim).
    let m: Model = "param mu : real\nparam s : positive\ndata x : real\n\
                    logp += -log(pi) - log(s) - log(1 + ((x - mu)/s)^2)\n"
        .parse()?;
    assert!(m.derive().fisher.is_err());
    let f = m.fisher_information(&[0.0, 2.0])?;
    assert!(!f.is_closed_form(), "{:?}", f.method);
    assert!((f.value[(0, 0)] - 1.0 / 8.0).abs() < 1e-9, "{}", f.value);
    assert!((f.value[(1, 1)] - 1.0 / 8.0).abs() < 1e-9, "{}", f.value);
    assert!(f.value[(0, 1)].abs() < 1e-9, "{}", f.value);
    assert!(f.error.max() < 1e-8);
    Ok(())
}

#[test]
fn datasets_by_name_and_sums() -> Result<(), Error> {
    let m = Model::from_source("param l : positive\ndata k : count\nk ~ poisson(l)\n", "p")?;
    let data = m.dataset(&[("k", &[1.0, 3.0, 2.0, 6.0])])?;
    let s = m.sums(&[2.0], &data)?;
    assert_eq!(s.n_rows, 4);
    assert!((s.score[0] - (12.0 / 2.0 - 4.0)).abs() < 1e-15);
    assert!((s.hessian[(0, 0)] + 12.0 / 4.0).abs() < 1e-15);
    let fit = m.fit(data)?;
    assert!(fit.converged());
    assert!((fit.estimates[0] - 3.0).abs() < 1e-12);
    // A logistic regression's expected information over its covariates.
    let lr = Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/logistic_regression.fim"
    ))?;
    let d = lr.dataset(&[("z1", &[0.0, 1.0]), ("z2", &[0.0, 0.0]), ("y", &[0.0, 1.0])])?;
    let f = lr.fisher_information_over(&[0.0, 0.0, 0.0], &d)?;
    // Σ σ(η)(1 − σ(η)) z zᵀ with η = 0: 0.25 · [[2, 1, 0], [1, 1, 0], [0, 0, 0]]
    assert!((f.value[(0, 0)] - 0.5).abs() < 1e-15 && (f.value[(0, 1)] - 0.25).abs() < 1e-15);
    Ok(())
}

#[test]
fn errors_are_typed_and_readable() {
    let err = Model::from_source(
        "param mu : real\ndata x : real\nx ~ normal(mu, sigam)\n",
        "m",
    )
    .unwrap_err();
    let Error::Model(e) = &err else {
        panic!("{err:?}")
    };
    assert!(e.diagnostics.iter().any(|d| d.is_error()));
    let text = err.to_string();
    assert!(text.starts_with("m:3:16: error["), "{text}");
    let m = Model::from_source(
        "param mu : real\nparam s : positive\ndata x : real\nx ~ normal(mu, s)\n",
        "n",
    )
    .expect("valid");
    let e = m.theta(&[("mu", 0.0), ("s", -1.0)]).unwrap_err();
    assert!(matches!(e, Error::Evaluation(_)), "{e:?}");
    assert!(e.to_string().contains("outside its domain"), "{e}");
    let e = m.dataset(&[("x", &[1.0]), ("y", &[2.0])]).unwrap_err();
    assert!(e.to_string().contains("`y` is not an input"), "{e}");
    let lr = Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/logistic_regression.fim"
    ))
    .expect("valid");
    let e = lr.fisher_information(&[0.0, 1.0, -1.0]).unwrap_err();
    assert!(e.to_string().contains("covariates (z1, z2)"), "{e}");
    let e = Model::from_file("no/such/file.fim").unwrap_err();
    assert!(
        matches!(e, Error::Io { .. }) && e.to_string().starts_with("no/such/file.fim: "),
        "{e}"
    );
    // `?` into Box<dyn Error> works.
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(!boxed.to_string().is_empty());
}
