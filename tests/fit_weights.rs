//! Frequency weights (`--weights COL`) and missing values (`--na
//! drop|error`) in `fimkit fit` (issue #17, item 5), against statsmodels'
//! `freq_weights` and `missing='drop'` on the same data
//! (tests/data/fit/report_peer.json, written by
//! scripts/fit/report_peer.py); weights against repeated rows through the
//! library, on each information engine; malformed inputs as fixtures in
//! tests/fixtures/fit_err/ with their messages snapshotted.

use fimkit::fit::{FitConfig, Objective, Problem, fit};
use fimkit::numeric::{DataSchema, Dataset};

mod fit_peer_support;
use fit_peer_support::{fimkit, fit_json, num, peer, rel};

fn close(case: &str, what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        rel(got, want) < tol,
        "{case} {what}: {got} vs statsmodels {want} (rel {:e})",
        rel(got, want)
    );
}

/// (case, model, data, parameter names, extra flags).
const WEIGHTED: [(&str, &str, &str, &[&str]); 3] = [
    (
        "logistic_cluster_weighted",
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic_cluster_weighted.csv",
        &["b0", "b1", "b2"],
    ),
    (
        "logistic_weighted",
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic_weighted.csv",
        &["b0", "b1", "b2"],
    ),
    (
        "poisson_offset_weighted",
        "tests/data/fit/poisson_offset.fim",
        "tests/data/fit/poisson_offset_weighted.csv",
        &["b0", "b1"],
    ),
];

#[test]
fn frequency_weights_match_statsmodels_freq_weights() {
    let peer = peer();
    for (case, model, data, names) in WEIGHTED {
        let want = &peer["cases"][case];
        let v = fit_json(model, data, &["--weights", "w"]);
        assert_eq!(v["converged"], true, "{case}");
        for (i, n) in names.iter().enumerate() {
            close(
                case,
                n,
                num(&v["estimates"][n]),
                num(&want["params"][i]),
                1e-8,
            );
            close(
                case,
                "std error",
                num(&v["std_errors"][n]),
                num(&want["std_errors"][i]),
                1e-8,
            );
        }
        for key in ["loglik", "deviance", "null_deviance", "aic", "bic"] {
            close(case, key, num(&v[key]), num(&want[key]), 1e-8);
        }
        // statsmodels' nobs is the rows; Σw is in df_resid and BIC.
        assert_eq!(v["n_rows"], want["nobs"], "{case}");
        assert_eq!(v["weights"]["column"], "w");
        assert_eq!(
            num(&v["weights"]["sum"]),
            num(&want["df_resid"]) + names.len() as f64,
            "{case}"
        );
    }
}

#[test]
fn weighted_text_report_counts_sum_of_weights_in_degrees_of_freedom() {
    let want = &peer()["cases"]["logistic_weighted"];
    let out = fimkit(&[
        "fit",
        "examples/logistic_regression.fim",
        "--data",
        "tests/data/fit/logistic_weighted.csv",
        "--weights",
        "w",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let resid = format!(
        "Residual deviance: {}  on {} degrees of freedom",
        fimkit::render::fit::fmt_sig(num(&want["deviance"]), 10),
        want["df_resid"]
    );
    assert!(text.contains(&resid), "{resid}\nnot in\n{text}");
    assert!(
        text.contains("frequency weights `w`: 1042 observations (Σw) in 500 rows"),
        "{text}"
    );
}

#[test]
fn weighted_sandwich_and_profile_intervals_match_statsmodels() {
    let peer = peer();
    for (case, model, data, names) in WEIGHTED {
        let want = &peer["cases"][case];
        let v = fit_json(
            model,
            data,
            &["--weights", "w", "--se", "sandwich", "--ci", "profile"],
        );
        for (i, n) in names.iter().enumerate() {
            close(
                case,
                "sandwich",
                num(&v["std_errors_sandwich"][n]),
                num(&want["sandwich_std_errors"][i]),
                1e-8,
            );
            let b = v["conf_int"]["bounds"][n].as_array().unwrap();
            for k in 0..2 {
                close(
                    case,
                    "profile end",
                    num(&b[k]),
                    num(&want["profile"]["0.95"][i][k]),
                    1e-8,
                );
            }
        }
    }
}

#[test]
fn weighted_cluster_sandwich_matches_statsmodels() {
    let want = &peer()["cases"]["logistic_cluster_weighted"];
    let v = fit_json(
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic_cluster_weighted.csv",
        &["--weights", "w", "--se", "sandwich", "--cluster", "g"],
    );
    for (i, n) in ["b0", "b1", "b2"].iter().enumerate() {
        close(
            "cluster",
            n,
            num(&v["std_errors_sandwich"][n]),
            num(&want["cluster_std_errors"][i]),
            1e-8,
        );
    }
}

#[test]
fn weighted_normal_matches_the_closed_form_mle() {
    let want = &peer()["cases"]["normal_weighted"];
    let v = fit_json(
        "examples/normal.fim",
        "tests/data/fit/normal_weighted.csv",
        &["--weights", "w"],
    );
    for (i, n) in ["mu", "sigma"].iter().enumerate() {
        close(
            "normal",
            n,
            num(&v["estimates"][n]),
            num(&want["params"][i]),
            1e-8,
        );
        close(
            "normal",
            "std error",
            num(&v["std_errors"][n]),
            num(&want["std_errors"][i]),
            1e-8,
        );
    }
    close(
        "normal",
        "glm mean",
        num(&v["estimates"]["mu"]),
        num(&want["glm_mean"]),
        1e-8,
    );
    close(
        "normal",
        "loglik",
        num(&v["loglik"]),
        num(&want["loglik"]),
        1e-8,
    );
    close("normal", "bic", num(&v["bic"]), num(&want["bic"]), 1e-8);
    assert_eq!(num(&v["weights"]["sum"]), num(&want["nobs"]));
}

/// `model` fitted to `rows` with integer weights `w`, and to the rows
/// repeated `w` times: the same fit. Zero weights included.
/// `kind` is the start of the information kind's debug form (the engine).
fn weights_are_repeated_rows(src: &str, header: &str, rows: &[(&str, usize)], kind: &str) {
    let model = fimkit::load(src, "m").unwrap();
    let schema = DataSchema::from_model(&model);
    let read = |rows: &mut dyn Iterator<Item = &str>| -> Dataset {
        let mut text = format!("{header}\n");
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        schema.read_csv(text.as_bytes()).unwrap()
    };
    let weighted = Problem::new(&model, read(&mut rows.iter().map(|r| r.0)))
        .unwrap()
        .with_weights(rows.iter().map(|r| r.1 as f64).collect())
        .unwrap();
    let repeated = Problem::new(
        &model,
        read(&mut rows.iter().flat_map(|r| std::iter::repeat_n(r.0, r.1))),
    )
    .unwrap();
    assert_eq!(
        weighted.information_kind(),
        repeated.information_kind(),
        "{src}"
    );
    let got = format!("{:?}", weighted.information_kind());
    assert!(got.starts_with(kind), "{src}: {got}");
    let a = fit(&weighted, &FitConfig::default()).unwrap();
    let b = fit(&repeated, &FitConfig::default()).unwrap();
    assert!(a.converged() && b.converged(), "{src}");
    assert_eq!(a.n_obs(), b.n_rows as f64);
    assert!(rel(a.loglik, b.loglik) < 1e-10, "{src}");
    assert!(rel(a.bic(), b.bic()) < 1e-10, "{src}");
    for i in 0..a.estimates.len() {
        assert!(
            (a.estimates[i] - b.estimates[i]).abs() < 1e-8 * (1.0 + b.estimates[i].abs()),
            "{src}: {} vs {}",
            a.estimates,
            b.estimates
        );
        for j in 0..a.estimates.len() {
            for (x, y) in [
                (&a.expected_information, &b.expected_information),
                (&a.observed_information, &b.observed_information),
            ] {
                assert!(
                    (x[(i, j)] - y[(i, j)]).abs() < 1e-7 * (1.0 + y[(i, j)].abs()),
                    "{src}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn integer_weights_equal_repeated_rows_on_every_engine() {
    // Linear forms (GLM fast path).
    weights_are_repeated_rows(
        "param b0 : real\nparam b1 : real\ncovariate z : real\ndata k : count\n\
         k ~ poisson(exp(b0 + b1*z))\n",
        "z,k",
        &[
            ("0.1,2", 3),
            ("-1,0", 1),
            ("2,9", 0),
            ("0.5,1", 2),
            ("1.5,5", 1),
            ("-0.3,1", 4),
        ],
        "LinearForms",
    );
    // Closed form, the same per-row FIM times Σw.
    weights_are_repeated_rows(
        "param alpha : positive\nparam beta : positive\ndata y : positive\n\
         y ~ gamma(alpha, beta)\n",
        "y",
        &[
            ("0.5", 2),
            ("1.7", 1),
            ("3.2", 3),
            ("0.9", 0),
            ("2.4", 1),
            ("1.1", 2),
        ],
        "ClosedForm { per_row: false }",
    );
    // Closed form per row (a covariate in the FIM, not a linear form).
    weights_are_repeated_rows(
        // More forms than the fast path takes (MAX_FORMS = 4).
        "param p1 : real\nparam p2 : real\nparam p3 : real\nparam p4 : real\n\
         param s : positive\ncovariate x : real\ndata y : real\n\
         y ~ normal(exp(p1) + exp(p2)*x + exp(p3)*x^2 + exp(p4)*x^3, s)\n",
        "x,y",
        &[
            ("-1,0.3", 2),
            ("-0.5,1.1", 1),
            ("0,0.9", 3),
            ("0.5,2.2", 0),
            ("1,1.7", 1),
            ("1.5,3.9", 2),
            ("2,6.1", 1),
            ("0.2,0.4", 1),
        ],
        "ClosedForm { per_row: true }",
    );
    // No closed form: the observed information stands in.
    weights_are_repeated_rows(
        "param mu : real\ndata y : real\nlogp += -log(1 + (y - mu)^2)\n",
        "y",
        &[("0.5", 2), ("1.7", 1), ("-0.2", 3), ("40", 0), ("0.9", 1)],
        "Observed",
    );
}

#[test]
fn bad_weights_are_refused_by_the_library() {
    let model = fimkit::load(
        "param lambda : positive\ndata k : count\nk ~ poisson(lambda)\n",
        "p",
    )
    .unwrap();
    let data = || {
        DataSchema::from_model(&model)
            .read_csv("k\n1\n2\n".as_bytes())
            .unwrap()
    };
    for (w, msg) in [
        (vec![1.0], "1 weights for 2 rows"),
        (
            vec![1.0, -2.0],
            "row 2: the weight -2 is not a finite number ≥ 0",
        ),
        (vec![f64::NAN, 1.0], "row 1: the weight NaN"),
        (vec![f64::INFINITY, 1.0], "row 1: the weight inf"),
        (vec![0.0, 0.0], "the weights sum to 0"),
    ] {
        let e = Problem::new(&model, data())
            .unwrap()
            .with_weights(w)
            .unwrap_err()
            .to_string();
        assert!(e.contains(msg), "{e}");
    }
}

#[test]
fn na_drop_matches_statsmodels_missing_drop() {
    let want = &peer()["cases"]["logistic_na"];
    let v = fit_json(
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic_na.csv",
        &["--na", "drop"],
    );
    for (i, n) in ["b0", "b1", "b2"].iter().enumerate() {
        close(
            "na",
            n,
            num(&v["estimates"][n]),
            num(&want["params"][i]),
            1e-8,
        );
        close(
            "na",
            "std error",
            num(&v["std_errors"][n]),
            num(&want["std_errors"][i]),
            1e-8,
        );
    }
    for key in ["loglik", "deviance", "null_deviance", "bic"] {
        close("na", key, num(&v[key]), num(&want[key]), 1e-8);
    }
    // The `note` column has NA in every 7th row but is not the model's:
    // only the model's 23 holes drop rows.
    assert_eq!(v["n_rows"], want["nobs"]);
    assert_eq!(v["na_dropped"], want["dropped"]);
    // Without --na drop the key is absent.
    let plain = fit_json(
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic.csv",
        &[],
    );
    assert!(plain.get("na_dropped").is_none());
    assert!(plain.get("weights").is_none());
}

#[test]
fn na_error_is_the_default_and_names_the_flag() {
    let out = fimkit(&[
        "fit",
        "examples/logistic_regression.fim",
        "--data",
        "tests/data/fit/logistic_na.csv",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--na drop"), "{err}");
    let explicit = fimkit(&[
        "fit",
        "examples/logistic_regression.fim",
        "--data",
        "tests/data/fit/logistic_na.csv",
        "--na",
        "error",
    ]);
    assert_eq!(explicit.stderr, out.stderr);
}

#[test]
fn na_drop_text_report_says_how_many_rows_were_dropped() {
    let out = fimkit(&[
        "fit",
        "examples/logistic_regression.fim",
        "--data",
        "tests/data/fit/logistic_na.csv",
        "--na",
        "drop",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(477 rows)"), "{text}");
    assert!(
        text.contains("23 rows with a missing value dropped (--na drop)"),
        "{text}"
    );
}

/// Malformed inputs to `fit` with weights or missing values: each file in
/// tests/fixtures/fit_err/ is `<flags>__<case>.csv`, flags `weights`
/// (`--weights w`), `drop` (`--na drop`), `weights_drop` (both) or `na`
/// (neither), fitted with examples/logistic_regression.fim; the exit code
/// and message are snapshotted.
#[test]
fn malformed_weights_and_missing_values_are_diagnosed() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/fit");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!("fixtures/fit_err/*.csv", |path| {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            let flags: &[&str] = match stem.split("__").next().unwrap() {
                "weights" => &["--weights", "w"],
                "drop" => &["--na", "drop"],
                "weights_drop" => &["--weights", "w", "--na", "drop"],
                "na" => &[],
                other => panic!("unknown flags `{other}` in {stem}"),
            };
            let rel_path = format!("tests/fixtures/fit_err/{stem}.csv");
            let mut args = vec![
                "fit",
                "examples/logistic_regression.fim",
                "--data",
                rel_path.as_str(),
            ];
            args.extend_from_slice(flags);
            let out = fimkit(&args);
            let text = std::fs::read_to_string(path).unwrap();
            insta::assert_snapshot!(format!(
                "flags: {}\n--- csv\n{text}--- exit {}\n{}",
                flags.join(" "),
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr)
            ));
        });
    });
}
