//! The report of `fimkit fit` (issue #17) against statsmodels and scipy on
//! the same data (tests/data/fit/report_peer.json, written by
//! scripts/fit/report_peer.py): deviance, null deviance (with and without
//! an offset), log-likelihood, AIC, BIC, observations and parameters;
//! Wald and profile-likelihood intervals at two levels, including small
//! samples with bounded parameters.

use serde_json::Value;
use std::process::Command;

mod fit_peer_support;
use fit_peer_support::{fit_json, num, peer, rel, root};

/// (case, model, data, parameter names).
const GLMS: [(&str, &str, &str, &[&str]); 4] = [
    (
        "logistic",
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic_cluster.csv",
        &["b0", "b1", "b2"],
    ),
    (
        "probit",
        "examples/probit_regression.fim",
        "tests/data/fit/probit.csv",
        &["b0", "b1", "b2"],
    ),
    (
        "poisson",
        "examples/poisson_regression.fim",
        "tests/data/fit/poisson.csv",
        &["b0", "b1", "b2"],
    ),
    (
        "poisson_offset",
        "tests/data/fit/poisson_offset.fim",
        "tests/data/fit/poisson_offset.csv",
        &["b0", "b1"],
    ),
];

#[test]
fn deviance_aic_bic_and_counts_match_statsmodels() {
    let peer = peer();
    for (case, model, data, _) in GLMS {
        let want = &peer["cases"][case];
        let v = fit_json(model, data, &[]);
        for (key, peer_key) in [
            ("loglik", "loglik"),
            ("deviance", "deviance"),
            ("null_deviance", "null_deviance"),
            ("aic", "aic"),
            ("bic", "bic"),
        ] {
            let (g, w) = (num(&v[key]), num(&want[peer_key]));
            assert!(rel(g, w) < 1e-8, "{case} {key}: {g} vs statsmodels {w}");
        }
        assert_eq!(v["n_rows"], want["nobs"], "{case}");
        assert_eq!(v["n_params"], want["n_params"], "{case}");
    }
}

#[test]
fn text_report_shows_deviances_with_degrees_of_freedom() {
    let peer = peer();
    let want = &peer["cases"]["poisson_offset"];
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(root())
        .args([
            "fit",
            "tests/data/fit/poisson_offset.fim",
            "--data",
            "tests/data/fit/poisson_offset.csv",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let null = format!(
        "Null deviance:     {}  on 299 degrees of freedom",
        fimkit::render::fit::fmt_sig(num(&want["null_deviance"]), 10)
    );
    let resid = format!(
        "Residual deviance: {}  on {} degrees of freedom",
        fimkit::render::fit::fmt_sig(num(&want["deviance"]), 10),
        want["df_resid"]
    );
    assert!(text.contains(&null), "{null}\nnot in\n{text}");
    assert!(text.contains(&resid), "{resid}\nnot in\n{text}");
    assert!(text.contains("BIC: "), "{text}");
}

#[test]
fn models_without_a_saturated_model_report_no_deviance() {
    // A Normal with its own sigma has a dispersion parameter: no deviance.
    let v = fit_json("examples/normal.fim", "tests/data/fit/normal.csv", &[]);
    assert_eq!(v["deviance"], Value::Null);
    assert_eq!(v["null_deviance"], Value::Null);
    assert!(v["bic"].is_number());
}

/// The intervals of `v` as (lower, upper) per parameter.
fn bounds(v: &Value, names: &[&str]) -> Vec<(f64, f64)> {
    names
        .iter()
        .map(|n| {
            let b = &v["conf_int"]["bounds"][n];
            (num(&b[0]), num(&b[1]))
        })
        .collect()
}

fn check_intervals(case: &str, got: &[(f64, f64)], want: &Value, tol: f64) {
    for (j, (lo, hi)) in got.iter().enumerate() {
        let (wl, wh) = (num(&want[j][0]), num(&want[j][1]));
        assert!(
            rel(*lo, wl) < tol && rel(*hi, wh) < tol,
            "{case} parameter {j}: ({lo}, {hi}) vs peer ({wl}, {wh})"
        );
    }
}

#[test]
fn profile_and_wald_intervals_match_the_peer_at_two_levels() {
    let peer = peer();
    for (case, model, data, names) in GLMS {
        let want = &peer["cases"][case];
        for level in ["0.95", "0.9"] {
            let v = fit_json(model, data, &["--level", level, "--ci", "profile"]);
            assert_eq!(v["conf_int"]["method"], "profile");
            assert_eq!(num(&v["conf_int"]["level"]), level.parse::<f64>().unwrap());
            check_intervals(case, &bounds(&v, names), &want["profile"][level], 1e-8);
            let v = fit_json(model, data, &["--level", level]);
            assert_eq!(v["conf_int"]["method"], "wald");
            check_intervals(case, &bounds(&v, names), &want["wald"][level], 1e-8);
        }
    }
}

#[test]
fn profile_intervals_of_small_samples_and_bounded_parameters() {
    // Eight Normal draws (sigma > 0: the interval is not symmetric) and six
    // Poisson counts, mostly 0 (lambda > 0: the lower end is near the
    // boundary); the peer's profiles are in closed form, ends by brentq.
    let peer = peer();
    for (case, model, data, names) in [
        (
            "normal_small",
            "examples/normal.fim",
            "tests/data/fit/normal_small.csv",
            &["mu", "sigma"][..],
        ),
        (
            "poisson_small",
            "examples/poisson.fim",
            "tests/data/fit/poisson_small.csv",
            &["lambda"][..],
        ),
    ] {
        for level in ["0.95", "0.9"] {
            let v = fit_json(model, data, &["--level", level, "--ci", "profile"]);
            let got = bounds(&v, names);
            check_intervals(case, &got, &peer["cases"][case]["profile"][level], 1e-8);
            // Not the Wald interval: the profile is skewed.
            let w = fit_json(model, data, &["--level", level]);
            let wald = bounds(&w, names);
            let last = names.len() - 1;
            assert!(rel(got[last].1, wald[last].1) > 1e-2, "{case}");
        }
    }
}

#[test]
fn level_outside_zero_one_is_a_usage_error() {
    for bad in ["0", "1", "1.5", "-0.1", "NaN"] {
        let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
            .current_dir(root())
            .args([
                "fit",
                "examples/normal.fim",
                "--data",
                "tests/data/fit/normal.csv",
                &format!("--level={bad}"),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--level {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--level must be between 0 and 1"), "{err}");
    }
}

#[test]
fn sandwich_standard_errors_match_statsmodels_hc0() {
    // Probit is the telling case: a non-canonical link, where the bread
    // (observed vs expected information) matters; statsmodels' HC0 uses
    // the observed one.
    let peer = peer();
    for (case, model, data, names) in GLMS {
        let want = &peer["cases"][case]["sandwich_std_errors"];
        let v = fit_json(model, data, &["--se", "sandwich"]);
        assert_eq!(v["se"], "sandwich");
        for (j, n) in names.iter().enumerate() {
            let g = num(&v["std_errors_sandwich"][n]);
            let w = num(&want[j]);
            assert!(rel(g, w) < 1e-8, "{case} {n}: {g} vs statsmodels HC0 {w}");
            // z values and intervals use them.
            let z = num(&v["z_values"][n]);
            assert!(rel(z, num(&v["estimates"][n]) / w) < 1e-8, "{case} {n} z");
        }
    }
}

#[test]
fn cluster_sandwich_matches_statsmodels_without_correction() {
    let peer = peer();
    let want = &peer["cases"]["logistic"]["cluster_std_errors"];
    let v = fit_json(
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic_cluster.csv",
        &["--se", "sandwich", "--cluster", "g"],
    );
    for (j, n) in ["b0", "b1", "b2"].iter().enumerate() {
        let (g, w) = (num(&v["std_errors_sandwich"][n]), num(&want[j]));
        assert!(rel(g, w) < 1e-8, "{n}: {g} vs statsmodels cluster {w}");
    }
}

#[test]
fn observed_standard_errors_drive_the_tests_when_asked() {
    let v = fit_json(
        "examples/probit_regression.fim",
        "tests/data/fit/probit.csv",
        &["--se", "observed"],
    );
    assert_eq!(v["se"], "observed");
    for n in ["b0", "b1", "b2"] {
        let se = num(&v["std_errors_observed"][n]);
        assert!(rel(num(&v["z_values"][n]), num(&v["estimates"][n]) / se) < 1e-12);
        assert!(
            rel(num(&v["std_errors"][n]), se) > 1e-4,
            "probit: they differ"
        );
    }
}

#[test]
fn cluster_errors_are_usage_or_data_errors() {
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fimkit"))
            .current_dir(root())
            .args([
                "fit",
                "examples/logistic_regression.fim",
                "--data",
                "tests/data/fit/logistic_cluster.csv",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--cluster", "g"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --se sandwich"));
    let out = run(&["--se", "sandwich", "--cluster", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column `nope`"));
}
