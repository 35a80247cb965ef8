//! `fimkit fit --predict` and `--residuals` (issue #17, item 4) against
//! statsmodels on the same data (tests/data/fit/report_peer.json, key
//! `predict`, written by scripts/fit/report_peer.py): the fitted mean and
//! the linear predictor at the rows of tests/data/fit/predict_new.csv
//! with delta-method standard errors and intervals at two levels, and
//! response, Pearson and deviance residuals on the fit's data.

use serde_json::Value;

mod fit_peer_support;
use fit_peer_support::{fimkit, fit_json, num, peer, rel};

const NEW: &str = "tests/data/fit/predict_new.csv";

/// (case, model, data).
const CASES: [(&str, &str, &str); 3] = [
    (
        "logistic",
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic_cluster.csv",
    ),
    (
        "poisson",
        "examples/poisson_regression.fim",
        "tests/data/fit/poisson.csv",
    ),
    (
        "poisson_offset",
        "tests/data/fit/poisson_offset.fim",
        "tests/data/fit/poisson_offset.csv",
    ),
];

/// A fresh directory for one test's files.
fn scratch(tag: u32) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fimkit-predict-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `|a − b|` relative to `b`, absolute for `|b| < 1`.
fn close(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1.0)
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

/// The `predictions` of a fit, as (value, se, lower, upper) columns.
fn columns(v: &Value) -> [Vec<f64>; 4] {
    let rows = v["predictions"].as_array().expect("predictions");
    let col = |k: &str| rows.iter().map(|r| num(&r[k])).collect::<Vec<f64>>();
    [col("value"), col("se"), col("lower"), col("upper")]
}

fn compare(case: &str, what: &str, got: &[Vec<f64>; 4], want: &Value) {
    for (k, key) in ["value", "se", "lower", "upper"].iter().enumerate() {
        let w = nums(&want[key]);
        assert_eq!(got[k].len(), w.len(), "{case} {what} {key}");
        for (i, (g, w)) in got[k].iter().zip(&w).enumerate() {
            assert!(
                rel(*g, *w) < 1e-8,
                "{case} {what} {key} row {}: {g} vs statsmodels {w}",
                i + 1
            );
        }
    }
}

#[test]
fn mean_predictions_match_statsmodels_at_two_levels() {
    let peer = peer();
    for (case, model, data) in CASES {
        for level in ["0.95", "0.9"] {
            let v = fit_json(model, data, &["--predict", NEW, "--level", level]);
            let rows = v["predictions"].as_array().unwrap();
            assert!(rows.iter().all(|r| r["quantity"] == "mean"));
            // A GLM's mean: the linear predictor's interval mapped through
            // the inverse link, as statsmodels' summary_frame does.
            assert!(rows.iter().all(|r| r["interval"] == "link"), "{case}");
            let want = &peer["predict"][case][format!("mean_{level}")];
            compare(case, &format!("mean at {level}"), &columns(&v), want);
        }
    }
}

#[test]
fn linear_predictor_and_a_named_let_match_statsmodels() {
    let peer = peer();
    let (_, new_rows) = read_csv(std::path::Path::new(NEW));
    for (case, model, data) in CASES {
        let v = fit_json(model, data, &["--predict", NEW, "--predict-expr", "linear"]);
        let want = &peer["predict"][case]["linear_0.95"];
        let mut got = columns(&v);
        if case == "poisson_offset" {
            // fimkit reads `exp(log(t) + b0 + b1*z1)` as `t*exp(b0 + b1*z1)`:
            // its linear predictor is b0 + b1*z1, without statsmodels'
            // offset log t (the mean is the same, see above).
            assert!(v["predictions"][0]["inputs"].get("t").is_none());
            for k in [0, 2, 3] {
                for (g, r) in got[k].iter_mut().zip(&new_rows) {
                    *g += r[2].ln();
                }
            }
        }
        compare(case, "linear predictor", &got, want);
        assert!(
            v["predictions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["interval"] == "wald" && r["quantity"] == "linear")
        );
    }
    // The logistic model's `let eta` is its linear predictor.
    let (_, model, data) = CASES[0];
    let v = fit_json(
        model,
        data,
        &["--predict", NEW, "--predict-expr", "eta", "--level", "0.9"],
    );
    compare(
        "logistic",
        "let eta",
        &columns(&v),
        &peer["predict"]["logistic"]["linear_0.9"],
    );
}

/// Parse a CSV written by fimkit: header and rows of numbers (an empty
/// cell is NaN, so a test that expects a number there fails).
fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|c| c.parse::<f64>().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn predict_out_writes_the_same_numbers_as_csv_and_text_shows_a_table() {
    let (case, model, data) = CASES[2];
    let dir = scratch(line!());
    let out = dir.as_path().join("pred.csv");
    let v = fit_json(
        model,
        data,
        &["--predict", NEW, "--predict-out", out.to_str().unwrap()],
    );
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["row", "z1", "t", "mean", "se", "lower", "upper"]);
    let json = columns(&v);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (i + 1) as f64);
        for k in 0..4 {
            // serde_json's parser may be 1 ulp off the shortest text.
            assert!(
                rel(r[3 + k], json[k][i]) < 1e-15,
                "{case} row {} column {k}",
                i + 1
            );
        }
    }
    // Without --predict-out the text report ends with the table; with
    // it, the table is only in the file.
    let text = |extra: &[&str]| {
        let mut args = vec!["fit", model, "--data", data, "--predict", NEW];
        args.extend_from_slice(extra);
        let o = fimkit(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let shown = text(&[]);
    assert!(shown.contains("Predictions of mean (95% intervals: the linear predictor's Wald interval mapped through the mean):"), "{shown}");
    assert_eq!(
        shown
            .lines()
            .filter(|l| l.trim_start().starts_with("7 "))
            .count(),
        1
    );
    assert!(!text(&["--predict-out", out.to_str().unwrap()]).contains("Predictions"));
}

#[test]
fn residuals_match_statsmodels() {
    let peer = peer();
    let dir = scratch(line!());
    for (case, model, data) in CASES {
        let path = dir.as_path().join(format!("{case}.csv"));
        let mut args = vec!["fit", model, "--data", data, "--residuals"];
        args.push(path.to_str().unwrap());
        let o = fimkit(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (header, rows) = read_csv(&path);
        assert_eq!(
            header[2..],
            [
                "fitted",
                "resid_response",
                "resid_pearson",
                "resid_deviance"
            ]
        );
        let want = &peer["predict"][case];
        for (k, key) in [
            "fitted",
            "resid_response",
            "resid_pearson",
            "resid_deviance",
        ]
        .iter()
        .enumerate()
        {
            let w = nums(&want[key]);
            assert_eq!(w.len(), rows.len(), "{case}");
            for (i, (r, w)) in rows.iter().zip(&w).enumerate() {
                assert_eq!(r[0], (i + 1) as f64);
                assert!(
                    close(r[2 + k], *w) < 1e-8,
                    "{case} {key} row {}: {} vs statsmodels {w}",
                    i + 1,
                    r[2 + k]
                );
            }
        }
    }
}

/// A Normal regression with unknown σ: statsmodels' Gaussian GLM scales
/// its covariance by Pearson χ²/(n − p) (p = 2 coefficients) where the MLE
/// has RSS/n, and its Pearson residuals are y − μ̂ (variance function 1,
/// not divided by the scale) where fimkit divides by σ̂ (the family's
/// variance at the estimate). No deviance residuals: fimkit has no
/// saturated model for a family with a dispersion parameter.
#[test]
fn normal_regression_with_unknown_scale() {
    let peer = peer();
    let want = &peer["predict"]["normal_regression"];
    let (model, data) = (
        "tests/data/fit/normal_regression.fim",
        "tests/data/fit/normal_regression.csv",
    );
    let dir = scratch(line!());
    let res = dir.as_path().join("res.csv");
    let v = fit_json(
        model,
        data,
        &["--predict", NEW, "--residuals", res.to_str().unwrap()],
    );
    let n = want["nobs"].as_u64().unwrap() as f64;
    let factor = ((n - 2.0) / n).sqrt();
    let [value, se, lower, upper] = columns(&v);
    let sm = &want["mean_0.95"];
    let z = 1.959_963_984_540_054;
    for (i, w) in nums(&sm["value"]).iter().enumerate() {
        assert!(rel(value[i], *w) < 1e-8, "mean row {}", i + 1);
        let s = num(&sm["se"][i]) * factor;
        assert!(rel(se[i], s) < 1e-8, "se row {}: {} vs {s}", i + 1, se[i]);
        assert!(rel(lower[i], value[i] - z * se[i]) < 1e-12);
        assert!(rel(upper[i], value[i] + z * se[i]) < 1e-12);
    }
    assert!(
        v["predictions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["interval"] == "wald")
    );
    let sigma = num(&v["estimates"]["sigma"]);
    let (header, rows) = read_csv(&res);
    assert_eq!(
        header,
        ["row", "x", "fitted", "resid_response", "resid_pearson"]
    );
    for (i, r) in rows.iter().enumerate() {
        assert!(close(r[2], num(&want["fitted"][i])) < 1e-8);
        assert!(close(r[3], num(&want["resid_response"][i])) < 1e-8);
        assert!(close(r[4] * sigma, num(&want["resid_pearson"][i])) < 1e-8);
    }
    // The let `mu` is the mean here.
    let m = fit_json(model, data, &["--predict", NEW, "--predict-expr", "mu"]);
    assert_eq!(columns(&m)[0], value);
}

/// The standard errors follow --se: at z1 = z2 = 0 the linear predictor
/// is b0, so its standard error is b0's under each kind.
#[test]
fn prediction_standard_errors_follow_se_kind() {
    let (_, model, data) = CASES[0];
    for (se, key) in [
        ("expected", "std_errors"),
        ("observed", "std_errors_observed"),
        ("sandwich", "std_errors_sandwich"),
    ] {
        let v = fit_json(
            model,
            data,
            &["--predict", NEW, "--predict-expr", "linear", "--se", se],
        );
        let row = &v["predictions"][0];
        assert_eq!(row["inputs"]["z1"], 0.0);
        let (g, w) = (num(&row["se"]), num(&v[key]["b0"]));
        assert!(rel(g, w) < 1e-12, "--se {se}: {g} vs {w}");
    }
    let e = fit_json(model, data, &["--predict", NEW, "--se", "expected"]);
    let s = fit_json(model, data, &["--predict", NEW, "--se", "sandwich"]);
    assert_ne!(columns(&e)[1], columns(&s)[1]);
}

/// `fimkit fit ... --predict FILE EXTRA` must fail with exit code `code`
/// and a message containing each of `needles`.
fn fails(model: &str, data: &str, new: &str, extra: &[&str], code: i32, needles: &[&str]) {
    let mut args = vec!["fit", model, "--data", data, "--predict", new];
    args.extend_from_slice(extra);
    let o = fimkit(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(o.stdout.is_empty(), "{args:?} printed a report");
    for n in needles {
        assert!(err.contains(n), "{args:?}: `{n}` not in {err}");
    }
}

#[test]
fn bad_prediction_input_is_refused_with_row_and_column() {
    let dir = scratch(line!());
    let file = |name: &str, text: &str| {
        let p = dir.as_path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (_, offset, offset_data) = CASES[2];
    let (_, logistic, logistic_data) = CASES[0];
    // An exposure outside its domain `positive`.
    let f = file("t0.csv", "z1,t\n0.5,2\n0.1,0\n");
    fails(
        offset,
        offset_data,
        &f,
        &[],
        1,
        &[
            "line 3 (row 2), column `t`",
            "outside the covariate's domain `positive`",
        ],
    );
    let f = file("na.csv", "z1,z2\n0.5,NA\n");
    fails(
        logistic,
        logistic_data,
        &f,
        &[],
        1,
        &["line 2 (row 1), column `z2`: is missing"],
    );
    let f = file("text.csv", "z1,z2\n0.5,1\nabc,1\n");
    fails(
        logistic,
        logistic_data,
        &f,
        &[],
        1,
        &["row 2), column `z1`: `abc` is not a number"],
    );
    let f = file("inf.csv", "z1,z2\ninf,1\n");
    fails(
        logistic,
        logistic_data,
        &f,
        &[],
        1,
        &["column `z1`: inf is not a finite number"],
    );
    let f = file("nocol.csv", "z1\n0.5\n");
    fails(logistic, logistic_data, &f, &[], 2, &["no column `z2`"]);
    let f = file("empty.csv", "z1,z2\n");
    fails(
        logistic,
        logistic_data,
        &f,
        &[],
        1,
        &["no rows to predict at"],
    );
    fails(
        logistic,
        logistic_data,
        NEW,
        &["--predict-expr", "nope"],
        1,
        &[
            "--predict-expr nope: no top-level `let` named `nope`",
            "`eta`",
            "`linear`",
        ],
    );
}

#[test]
fn quantities_without_a_known_form_are_refused() {
    let dir = scratch(line!());
    let model = |name: &str, text: &str| {
        let p = dir.as_path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    // The lognormal's statistics are log x and (log x)²: its mean is not
    // in the family table, so fimkit says so rather than guess.
    let lognormal = model(
        "lognormal.fim",
        "param mu : real\nparam sigma : positive\ndata x : positive\nx ~ lognormal(mu, sigma)\n",
    );
    let none = model("none.csv", "unused\n1\n");
    fails(
        &lognormal,
        "tests/data/fit/gamma.csv",
        &none,
        &[],
        1,
        &["the mean of a lognormal response is not known to fimkit in closed form"],
    );
    // A let that uses the data.
    let resid = model(
        "resid.fim",
        "param lambda : positive\ndata k : count\nlet r = k - lambda\nk ~ poisson(lambda)\n",
    );
    let data = model("k.csv", "k\n1\n3\n2\n");
    fails(
        &resid,
        &data,
        &none,
        &["--predict-expr", "r"],
        1,
        &["`r` uses the data variable `k`"],
    );
    // Residuals of a lognormal: refused too, and nothing is written.
    let out = dir.as_path().join("res.csv");
    let o = fimkit(&[
        "fit",
        &lognormal,
        "--data",
        "tests/data/fit/gamma.csv",
        "--residuals",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--residuals: the mean of a lognormal"));
    assert!(!out.exists());
}

/// A model without covariates predicts the same mean at every row: a
/// Poisson rate's mean is λ̂ with standard error √(λ̂/n).
#[test]
fn a_model_without_covariates_predicts_its_mean() {
    let v = fit_json(
        "examples/poisson.fim",
        "tests/data/fit/poisson_small.csv",
        &["--predict", NEW],
    );
    let [value, se, lower, upper] = columns(&v);
    let lam = num(&v["estimates"]["lambda"]);
    let n = num(&v["n_rows"]);
    assert_eq!(value.len(), 7);
    for i in 0..7 {
        assert!(rel(value[i], lam) < 1e-12);
        assert!(rel(se[i], (lam / n).sqrt()) < 1e-10);
        assert!(lower[i] < value[i] && value[i] < upper[i]);
    }
    assert!(
        v["predictions"][0]["inputs"]
            .as_object()
            .unwrap()
            .is_empty()
    );
}
