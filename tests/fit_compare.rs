//! `fimkit compare` (issue #17, item 2): the likelihood-ratio, score (Rao)
//! and Wald tests of nested models against statsmodels and scipy on the
//! same data (tests/data/fit/report_peer.json, `compare` key, written by
//! scripts/fit/report_peer.py), and the refusals of pairs that are not
//! nested.

mod fit_peer_support;

use fit_peer_support::{fimkit, json_of, num, peer, rel};
use serde_json::Value;

const D: &str = "tests/data/fit";

/// `fimkit compare SMALL BIG --data DATA --format json EXTRA...`, which
/// must succeed.
fn compare_json(small: &str, big: &str, data: &str, extra: &[&str]) -> Value {
    let (s, b, d) = (
        format!("{D}/compare/{small}"),
        format!("{D}/compare/{big}"),
        format!("{D}/{data}"),
    );
    let mut args = vec!["compare", &s, &b, "--data", &d, "--format", "json"];
    args.extend_from_slice(extra);
    json_of(&args)
}

/// Every statistic and p-value within 1e-8 (relative) of statsmodels'.
fn check_case(doc: &Value, case: &str) {
    let peer = &peer()["compare"][case];
    let df = num(&peer["df"]) as u64;
    assert_eq!(doc["df"].as_u64(), Some(df), "{case}: df");
    for (key, want) in [
        ("loglik_small", "loglik_small"),
        ("loglik_big", "loglik_big"),
    ] {
        let (a, b) = (num(&doc[key]), num(&peer[want]));
        assert!(rel(a, b) < 1e-10, "{case} {key}: {a} vs statsmodels {b}");
    }
    let tests = doc["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3);
    for (name, key) in [
        ("likelihood ratio", "lr"),
        ("score", "score"),
        ("Wald", "wald"),
    ] {
        let t = tests
            .iter()
            .find(|t| t["test"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(t["df"].as_u64(), Some(df), "{case} {name}: df");
        if key != "lr" {
            assert_eq!(
                num(&peer[&format!("{key}_df")]) as u64,
                df,
                "{case} {name}: peer df"
            );
        }
        let (s, ps) = (num(&t["statistic"]), num(&peer[key]));
        assert!(
            rel(s, ps) < 1e-8,
            "{case} {name}: statistic {s} vs statsmodels {ps}"
        );
        let (p, pp) = (num(&t["p_value"]), num(&peer[&format!("{key}_p")]));
        assert!(rel(p, pp) < 1e-8, "{case} {name}: p {p} vs scipy {pp}");
    }
}

#[test]
fn logistic_one_covariate_against_three_matches_statsmodels() {
    let doc = compare_json(
        "logistic1.fim",
        "logistic3.fim",
        "compare_logistic.csv",
        &[],
    );
    assert_eq!(doc["extra"], serde_json::json!(["b2", "b3"]));
    assert_eq!(doc["n"].as_u64(), Some(400));
    check_case(&doc, "logistic");
}

#[test]
fn poisson_with_an_exposure_matches_statsmodels() {
    let doc = compare_json("poisson1.fim", "poisson2.fim", "compare_poisson.csv", &[]);
    assert_eq!(doc["extra"], serde_json::json!(["b2"]));
    check_case(&doc, "poisson_exposure");
}

#[test]
fn the_text_table_shows_each_test_with_df_and_p() {
    let (s, b, d) = (
        format!("{D}/compare/logistic1.fim"),
        format!("{D}/compare/logistic3.fim"),
        format!("{D}/compare_logistic.csv"),
    );
    let out = fimkit(&["compare", &s, &b, "--data", &d]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("H0 b2 = b3 = 0"), "{text}");
    // Statistics as statsmodels gives them, to the 6 decimals shown.
    let peer = &peer()["compare"]["logistic"];
    for (name, key) in [
        ("likelihood ratio", "lr"),
        ("score", "score"),
        ("Wald", "wald"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{text}"));
        let cells: Vec<&str> = line[name.len()..].split_whitespace().collect();
        assert_eq!(cells[0], format!("{:.6}", num(&peer[key])), "{line}");
        assert_eq!(cells[1], "2", "{line}");
        assert_eq!(
            cells[2],
            format!("{:.4}", num(&peer[&format!("{key}_p")])),
            "{line}"
        );
    }
    assert!(
        text.contains("information: expected, closed form"),
        "{text}"
    );
}

/// `fimkit compare SMALL BIG` on the logistic data: exit code and stderr.
fn refused(small: &str, big: &str) -> (i32, String) {
    let (s, b, d) = (
        format!("{D}/compare/{small}"),
        format!("{D}/compare/{big}"),
        format!("{D}/compare_logistic.csv"),
    );
    let out = fimkit(&["compare", &s, &b, "--data", &d]);
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_pair_that_does_not_reduce_is_refused() {
    // Same parameter names, but a probit link with b2 = b3 = 0 is not the
    // logistic model.
    let (code, err) = refused("logistic1.fim", "probit3.fim");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not nested in"), "{err}");
    assert!(
        err.contains("with b2 = b3 = 0") && err.contains("row 1"),
        "{err}"
    );
}

#[test]
fn a_small_model_with_a_parameter_the_big_one_lacks_is_refused() {
    let (code, err) = refused("logistic_c.fim", "logistic3.fim");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("its parameter `c` is not in"), "{err}");
    // The models the wrong way round: the same refusal, naming both.
    let (code, err) = refused("logistic3.fim", "logistic1.fim");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("its parameters `b2`, `b3` are not in"),
        "{err}"
    );
}

#[test]
fn the_same_model_twice_has_nothing_to_test() {
    let (code, err) = refused("logistic1.fim", "logistic1.fim");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing to test"), "{err}");
}

#[test]
fn a_fit_that_does_not_converge_is_refused() {
    let (s, b, d) = (
        format!("{D}/compare/logistic1.fim"),
        format!("{D}/compare/logistic3.fim"),
        format!("{D}/compare_logistic.csv"),
    );
    let out = fimkit(&["compare", &s, &b, "--data", &d, "--max-iter", "1"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("did not converge") && err.contains("no test is made"),
        "{err}"
    );
}

#[test]
fn frequency_weights_are_the_rows_repeated() {
    // Row i with weight w (0 to 3) against a file with it w times.
    let w = compare_json(
        "logistic1.fim",
        "logistic3.fim",
        "compare/weighted.csv",
        &["--weights", "w"],
    );
    let e = compare_json(
        "logistic1.fim",
        "logistic3.fim",
        "compare/expanded.csv",
        &[],
    );
    for key in ["loglik_small", "loglik_big"] {
        assert!(
            rel(num(&w[key]), num(&e[key])) < 1e-10,
            "{key}: {} vs {}",
            w[key],
            e[key]
        );
    }
    for (a, b) in w["tests"]
        .as_array()
        .unwrap()
        .iter()
        .zip(e["tests"].as_array().unwrap())
    {
        assert_eq!(a["test"], b["test"]);
        let (s, t) = (num(&a["statistic"]), num(&b["statistic"]));
        assert!(rel(s, t) < 1e-7, "{}: {s} vs {t}", a["test"]);
    }
}

#[test]
fn models_that_drop_different_rows_are_refused() {
    let (s, b, d) = (
        format!("{D}/compare/logistic1.fim"),
        format!("{D}/compare/logistic3.fim"),
        format!("{D}/compare/na_big_only.csv"),
    );
    // A missing z2, a column only the big model uses.
    let out = fimkit(&["compare", &s, &b, "--data", &d, "--na", "drop"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("different rows") && err.contains("(120 and 119"),
        "{err}"
    );
    // Without --na drop: the missing value is an error naming it.
    let out = fimkit(&["compare", &s, &b, "--data", &d]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--na drop"), "{err}");
}

#[test]
fn an_extra_parameter_that_cannot_be_zero_is_refused() {
    let out = fimkit(&[
        "compare",
        "tests/data/fit/compare/normal.fim",
        "tests/data/fit/compare/normal_shift.fim",
        "--data",
        "tests/data/fit/normal.csv",
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("cannot reduce to") && err.contains("extra parameters at 0"),
        "{err}"
    );
}
