//! The front door as README and examples/library.rs show it: the example
//! runs, and its numbers are the textbook's and the CLI's.

#[path = "../examples/library.rs"]
mod example;

use fimkit::nalgebra::{DMatrix, DVector};
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

/// `Model::derive_json` and `derive_latex` are `fimkit derive`'s JSON and
/// LaTeX outputs, byte for byte (the Python package's `derive()` and
/// `derive_latex()` are these).
#[test]
fn derive_json_and_latex_are_the_commands() -> Result<(), Error> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/textbook");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "fim"))
        .collect();
    files.sort();
    // A coordinates block too (its derivations are part of the document).
    files.push(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/normal.fim").into());
    assert!(files.len() > 10);
    for path in files.iter().take(12).chain(files.last()) {
        let m = Model::from_file(path)?;
        let cli = |format: &str| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_fimkit"))
                .args(["derive", "--format", format])
                .arg(path)
                .output()
                .expect("run fimkit");
            assert!(out.status.success(), "{}", path.display());
            String::from_utf8(out.stdout).expect("UTF-8")
        };
        let json = format!(
            "{}\n",
            serde_json::to_string_pretty(&m.derive_json()).unwrap()
        );
        assert_eq!(json, cli("json"), "{}", path.display());
        assert_eq!(m.derive_latex(false), cli("latex"), "{}", path.display());
    }
    Ok(())
}

/// `Model::rows`: every row's value, score and Hessian, each equal to the
/// one-row call, and summing to `Model::sums`.
#[test]
fn per_row_derivatives_match_the_point_calls_and_the_sums() -> Result<(), Error> {
    let m = Model::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/gamma.fim"))?;
    let x: Vec<f64> = (1..=5000).map(|i| 0.1 + (i % 97) as f64 * 0.05).collect();
    let data = m.dataset(&[("x", &x)])?;
    let theta = [2.0, 1.5];
    let r = m.rows(&theta, &data, true, true)?;
    assert_eq!((r.n_rows, r.n_params), (5000, 2));
    assert_eq!(
        (r.log_density.len(), r.score.len(), r.hessian.len()),
        (5000, 10000, 20000)
    );
    for i in [0, 1, 2047, 2048, 4999] {
        assert_eq!(r.log_density[i], m.log_density(&theta, &[x[i]])?);
        assert_eq!(
            r.score[2 * i..2 * i + 2],
            *m.score(&theta, &[x[i]])?.as_slice()
        );
        let h = m.hessian(&theta, &[x[i]])?;
        assert_eq!(
            r.hessian[4 * i..4 * i + 4],
            [h[(0, 0)], h[(0, 1)], h[(1, 0)], h[(1, 1)]]
        );
    }
    let s = m.sums(&theta, &data)?;
    let total: f64 = r.log_density.iter().sum();
    assert!((total - s.loglik).abs() < 1e-9 * s.loglik.abs());
    // Only what was asked.
    let v = m.rows(&theta, &data, false, false)?;
    assert_eq!(
        (v.log_density, v.score.len(), v.hessian.len()),
        (r.log_density, 0, 0)
    );
    // A row that fails names its row in the whole dataset (1-based), not
    // in its chunk.
    let e = Model::from_source("param mu : real\ndata x : real\nlogp += -exp(mu*x)\n", "e")?;
    let mut xs = vec![1.0; 5000];
    xs[3000] = 1e6;
    let bad = e.dataset(&[("x", &xs)])?;
    let err = e.rows(&[1.0], &bad, true, true).unwrap_err().to_string();
    assert!(err.contains("row 3001"), "{err}");
    // A wrong θ is an error, not a panic.
    assert!(matches!(
        m.rows(&[2.0], &data, true, true),
        Err(Error::Argument(_))
    ));
    assert!(m.rows(&[-2.0, 1.0], &data, true, true).is_err());
    Ok(())
}

/// `Model::rows` and `Model::sums` on regressions (one or two linear
/// predictors, coefficients from columns, numbers or `log(z)`, an offset):
/// each row's value, score and Hessian equal the one-row calls, and the
/// sums equal the one-row calls added up; chunk boundaries included.
#[test]
fn per_row_derivatives_of_linear_predictor_models_match_the_point_calls() -> Result<(), Error> {
    let cases = [
        (
            "param b[3] : real\ncovariate x1 : real\ncovariate x2 : real\ndata y : {0, 1}\n\
             y ~ bernoulli(sigmoid(b[1] + b[2]*x1 + b[3]*x2))\n",
            vec![0.3, -0.7, 1.1],
        ),
        (
            "param a : real\nparam b : real\ncovariate z : positive\ncovariate t : positive\n\
             data k : count\nk ~ poisson(exp(log(t) + a + b*log(z)))\n",
            vec![0.4, 0.8],
        ),
        (
            "param b0 : real\nparam b1 : real\nparam c0 : real\nparam c1 : real\n\
             covariate x : real\ndata y : positive\ny ~ gamma(exp(c0 + c1*x), exp(b0 + b1*x))\n",
            vec![0.5, -1.0, 0.2, 0.3],
        ),
    ];
    let n = 5000;
    let x: Vec<f64> = (0..n)
        .map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0)
        .collect();
    let z: Vec<f64> = x.iter().map(|v| v + 1.5).collect();
    let y01: Vec<f64> = (0..n).map(|i| ((i * 7) % 3 == 0) as u8 as f64).collect();
    let k: Vec<f64> = (0..n).map(|i| ((i * 13) % 7) as f64).collect();
    for (source, theta) in cases {
        let m = Model::from_source(source, "glm")?;
        let names = m.input_names();
        let column = |name: &str| -> &[f64] {
            match name {
                "x1" | "x" => &x,
                "x2" | "z" | "t" => &z,
                "y" if source.contains("gamma") => &z,
                "y" => &y01,
                _ => &k,
            }
        };
        let cols: Vec<(&str, &[f64])> = names.iter().map(|s| (s.as_str(), column(s))).collect();
        let data = m.dataset(&cols)?;
        let d = theta.len();
        let r = m.rows(&theta, &data, true, true)?;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
        for i in [0, 1, 2047, 2048, 4095, 4999] {
            let row: Vec<f64> = names.iter().map(|s| column(s)[i]).collect();
            assert!(
                close(r.log_density[i], m.log_density(&theta, &row)?),
                "{source} row {i}"
            );
            let g = m.score(&theta, &row)?;
            let h = m.hessian(&theta, &row)?;
            for a in 0..d {
                assert!(
                    close(r.score[i * d + a], g[a]),
                    "{source} row {i} score {a}"
                );
                for b in 0..d {
                    assert!(
                        close(r.hessian[i * d * d + a * d + b], h[(a, b)]),
                        "{source} row {i} H[{a},{b}]: {} vs {}",
                        r.hessian[i * d * d + a * d + b],
                        h[(a, b)]
                    );
                }
            }
        }
        // The sums (one rank-one update a row) equal the generic engine's
        // one-row calls added up.
        let s = m.sums(&theta, &data)?;
        let (mut v, mut g, mut h) = (0.0, DVector::zeros(d), DMatrix::zeros(d, d));
        for i in 0..n {
            let row: Vec<f64> = names.iter().map(|s| column(s)[i]).collect();
            v += m.log_density(&theta, &row)?;
            g += m.score(&theta, &row)?;
            h += m.hessian(&theta, &row)?;
        }
        let near = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-11 * scale;
        assert!(near(s.loglik, v, v.abs()), "{source}");
        let (gs, hs) = (g.amax().max(1.0), h.amax());
        assert!(
            s.score.iter().zip(g.iter()).all(|(a, b)| near(*a, *b, gs)),
            "{source}"
        );
        assert!(
            s.hessian
                .iter()
                .zip(h.iter())
                .all(|(a, b)| near(*a, *b, hs)),
            "{source}"
        );
        assert_eq!(s.n_rows, n);
        let total: f64 = r.log_density.iter().sum();
        assert!(close(total, s.loglik), "{source}");
        let only = m.rows(&theta, &data, false, true)?;
        assert_eq!((only.score.len(), &only.hessian), (0, &r.hessian));
    }
    // A row the linear engine cannot evaluate goes to the generic path,
    // whose error names the row of the whole dataset.
    let m = Model::from_source(
        "param b : real\ncovariate x : real\ndata k : count\nk ~ poisson(exp(b*x))\n",
        "p",
    )?;
    let mut xs = vec![1.0; 5000];
    xs[3000] = 1e6;
    let data = m.dataset(&[("x", &xs), ("k", &vec![1.0; 5000])])?;
    let err = m.rows(&[1.0], &data, true, true).unwrap_err().to_string();
    assert!(err.contains("row 3001"), "{err}");
    Ok(())
}

/// A dataset from columns is checked in parallel blocks of rows, and the
/// error names the first bad row in row order, not the first a thread met.
#[test]
fn dataset_errors_name_the_first_bad_row() -> Result<(), Error> {
    let m = Model::from_source("param l : positive\ndata k : count\nk ~ poisson(l)\n", "p")?;
    let mut k = vec![1.0; 40_000];
    k[30_000] = -1.0;
    k[9_000] = 0.5;
    let err = m.dataset(&[("k", &k)]).unwrap_err().to_string();
    assert!(err.contains("row 9001") && err.contains("0.5"), "{err}");
    k[9_000] = 2.0;
    let err = m.dataset(&[("k", &k)]).unwrap_err().to_string();
    assert!(err.contains("row 30001"), "{err}");
    assert_eq!(m.dataset(&[("k", &vec![3.0; 40_000])])?.n_rows(), 40_000);
    Ok(())
}

/// `Model::rows_of_columns` (what the Python package calls) gives exactly
/// `Model::rows` on the dataset built from the same columns, and the same
/// errors: a value outside its support names its row, a failing row names
/// its row, a missing column is an argument error.
#[test]
fn rows_of_columns_equal_rows_of_the_dataset() -> Result<(), Error> {
    let m = Model::from_source(
        "param b[2] : real\ncovariate x : real\ndata y : {0, 1}\n\
         y ~ bernoulli(sigmoid(b[1] + b[2]*x))\n",
        "l",
    )?;
    let n = 10_000;
    let x: Vec<f64> = (0..n)
        .map(|i| ((i * 31) % 97) as f64 / 20.0 - 2.0)
        .collect();
    let mut y: Vec<f64> = (0..n).map(|i| (i % 3 == 0) as u8 as f64).collect();
    let theta = [0.2, -0.4];
    let cols: [(&str, &[f64]); 2] = [("y", &y), ("x", &x)];
    let by_columns = m.rows_of_columns(&theta, &cols, true, true)?;
    assert_eq!(by_columns, m.rows(&theta, &m.dataset(&cols)?, true, true)?);
    let only = m.rows_of_columns(&theta, &cols, false, false)?;
    assert_eq!(only.log_density, by_columns.log_density);
    assert!(only.score.is_empty() && only.hessian.is_empty());
    y[7000] = 2.0;
    let err = m.rows_of_columns(&theta, &[("y", &y), ("x", &x)], true, true);
    let want = m.dataset(&[("y", &y), ("x", &x)]).unwrap_err().to_string();
    assert_eq!(err.unwrap_err().to_string(), want);
    assert!(want.contains("row 7001"), "{want}");
    assert!(matches!(
        m.rows_of_columns(&theta, &[("x", &x)], true, true),
        Err(Error::Argument(_))
    ));
    let e = Model::from_source("param mu : real\ndata x : real\nlogp += -exp(mu*x)\n", "e")?;
    let mut xs = vec![1.0; 5000];
    xs[3000] = 1e6;
    let err = e
        .rows_of_columns(&[1.0], &[("x", &xs)], true, true)
        .unwrap_err();
    assert!(err.to_string().contains("row 3001"), "{err}");
    Ok(())
}
