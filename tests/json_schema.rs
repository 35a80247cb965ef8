//! docs/json-schema.md against the real output: every JSON document fimkit
//! writes carries `"schema": "fimkit-json 1"`, has every key the page
//! documents for it, and no key the page does not document.
//!
//! The page marks each table of keys with an HTML comment
//! `<!-- keys: NAME -->` on the line before it; the first column lists the
//! keys (in backticks), and a key whose type column says `optional` may be
//! absent. The tests below name, for each output, the tables that describe
//! it and the optional keys that this particular output must have.

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

/// One documented key.
#[derive(Clone, Debug)]
struct Key {
    name: String,
    optional: bool,
}

/// The key tables of docs/json-schema.md, by marker name.
fn tables() -> BTreeMap<String, Vec<Key>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json-schema.md"))
        .expect("docs/json-schema.md");
    let mut out: BTreeMap<String, Vec<Key>> = BTreeMap::new();
    let mut lines = doc.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .trim()
            .strip_prefix("<!-- keys:")
            .and_then(|s| s.strip_suffix("-->"))
        else {
            continue;
        };
        let name = name.trim().to_string();
        assert!(!out.contains_key(&name), "table {name} marked twice");
        // Skip to the table, then read its rows after the header and rule.
        while lines
            .peek()
            .is_some_and(|l| !l.trim_start().starts_with('|'))
        {
            lines.next();
        }
        let mut keys = Vec::new();
        let mut row = 0;
        while let Some(l) = lines.peek().filter(|l| l.trim_start().starts_with('|')) {
            let cells: Vec<&str> = l.trim().trim_matches('|').split('|').collect();
            if row >= 2 {
                let optional = cells.get(1).is_some_and(|t| t.contains("optional"));
                for name in backticked(cells[0]) {
                    keys.push(Key { name, optional });
                }
            }
            row += 1;
            lines.next();
        }
        assert!(!keys.is_empty(), "table {name} has no keys");
        out.insert(name, keys);
    }
    out
}

/// The `code` spans of a table cell.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Run fimkit; stdout parsed as JSON and the exit code.
fn run(args: &[&str]) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run fimkit");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "fimkit {}: stdout is not JSON ({e}):\n{stdout}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

/// `v` (an object) has exactly the keys of `tables` (the union): every
/// required one, the optional ones in `expect_optional`, and nothing else.
fn assert_keys(v: &Value, tables: &[&str], expect_optional: &[&str], what: &str) {
    let all = self::tables();
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {v}"));
    let mut documented = Vec::new();
    for t in tables {
        let keys = all
            .get(*t)
            .unwrap_or_else(|| panic!("docs/json-schema.md has no table `<!-- keys: {t} -->`"));
        documented.extend(keys.iter().cloned());
    }
    for k in &documented {
        if !k.optional {
            assert!(
                obj.contains_key(&k.name),
                "{what}: documented key `{}` (table {tables:?}) is missing from {v:#}",
                k.name
            );
        }
    }
    for k in expect_optional {
        assert!(
            documented.iter().any(|d| d.name == *k && d.optional),
            "{what}: `{k}` is not documented as optional in {tables:?}"
        );
        assert!(
            obj.contains_key(*k),
            "{what}: optional key `{k}` expected here, missing from {v:#}"
        );
    }
    for key in obj.keys() {
        assert!(
            documented.iter().any(|d| d.name == *key),
            "{what}: key `{key}` is written but not documented in {tables:?}"
        );
    }
}

fn assert_schema(v: &Value, what: &str) {
    assert_eq!(v["schema"], "fimkit-json 1", "{what}: {v:#}");
}

fn each<'a>(v: &'a Value, what: &str) -> &'a [Value] {
    v.as_array()
        .unwrap_or_else(|| panic!("{what}: not an array: {v}"))
        .as_slice()
}

#[test]
fn every_table_is_used() {
    // A table no test reads could drift: list them all here.
    let used = [
        "expression",
        "vector",
        "matrix",
        "error",
        "diagnostics",
        "diagnostic",
        "diagnostic.label",
        "parse",
        "parse.model",
        "parse.model.coordinates",
        "derive",
        "derive.closed_form",
        "derive.no_closed_form",
        "derive.formulas",
        "derive.fim_check",
        "derive.exponential_family",
        "derive.coordinates",
        "derive.at",
        "derive.fallback",
        "eval.point",
        "eval.data",
        "check",
        "check.point",
        "check.row",
        "fit",
        "fit.prediction",
        "compare",
        "compare_test",
    ];
    let names: Vec<String> = tables().into_keys().collect();
    for n in &names {
        assert!(used.contains(&n.as_str()), "table {n} is not tested");
    }
    for u in used {
        assert!(names.iter().any(|n| n == u), "table {u} is gone");
    }
}

#[test]
fn parse_documents() {
    let (v, code) = run(&["parse", "examples/binomial_odds.fim", "--format", "json"]);
    assert_eq!(code, 0);
    assert_schema(&v, "parse");
    assert_keys(&v, &["parse"], &[], "parse");
    assert_eq!(v["ok"], true);
    assert_keys(&v["model"], &["parse.model"], &[], "parse model");
    let coords = each(&v["model"]["coordinates"], "coordinates");
    assert_eq!(coords.len(), 1);
    assert_keys(&coords[0], &["parse.model.coordinates"], &[], "coords");

    // A model with errors: `model` is null, diagnostics have places.
    let (v, code) = run(&[
        "parse",
        "tests/fixtures/err/missing_colon.fim",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    assert_schema(&v, "parse (errors)");
    assert_keys(&v, &["parse"], &[], "parse (errors)");
    assert_eq!(v["ok"], false);
    assert!(v["model"].is_null());
    check_diagnostics(&v["diagnostics"]);
}

fn check_diagnostics(v: &Value) {
    let diags = each(v, "diagnostics");
    assert!(!diags.is_empty());
    for d in diags {
        assert_keys(d, &["diagnostic"], &[], "diagnostic");
        assert!(d["line"].as_u64().is_some_and(|l| l >= 1), "{d}");
        assert!(d["col"].as_u64().is_some_and(|c| c >= 1), "{d}");
        for l in each(&d["labels"], "labels") {
            assert_keys(l, &["diagnostic.label"], &[], "label");
        }
    }
}

#[test]
fn diagnostics_documents() {
    for cmd in [
        &[
            "derive",
            "tests/fixtures/err/missing_colon.fim",
            "--format",
            "json",
        ][..],
        &[
            "check",
            "tests/fixtures/err/missing_colon.fim",
            "--format",
            "json",
        ],
        &[
            "eval",
            "tests/fixtures/err/missing_colon.fim",
            "--at",
            "mu=0",
            "--format",
            "json",
        ],
        &[
            "fit",
            "tests/fixtures/err/missing_colon.fim",
            "--data",
            "tests/data/fit/normal.csv",
            "--format",
            "json",
        ],
    ] {
        let (v, code) = run(cmd);
        assert_eq!(code, 1, "{cmd:?}");
        assert_schema(&v, cmd[0]);
        assert_keys(&v, &["diagnostics"], &[], cmd[0]);
        assert_eq!(v["ok"], false);
        check_diagnostics(&v["diagnostics"]);
    }
}

#[test]
fn error_documents() {
    for (cmd, code) in [
        (
            &[
                "derive",
                "examples/normal.fim",
                "--at",
                "mu=0,sigma=-1",
                "--format",
                "json",
            ][..],
            1,
        ),
        (
            &[
                "derive",
                "examples/logistic_regression.fim",
                "--at",
                "b0=0,b1=1,b2=-1",
                "--data",
                "no/such/file.csv",
                "--format",
                "json",
            ],
            2,
        ),
        (
            &[
                "check",
                "examples/normal.fim",
                "--at",
                "nope=1",
                "--format",
                "json",
            ],
            // Readable `--at` text naming something the model lacks: an
            // error of the point (1), as in `eval` and `derive`.
            1,
        ),
        (
            &[
                "check",
                "examples/normal.fim",
                "--at",
                "mu",
                "--format",
                "json",
            ],
            2,
        ),
        (
            &[
                "eval",
                "examples/normal.fim",
                "--at",
                "mu=0,sigma=-1,x=1",
                "--format",
                "json",
            ],
            1,
        ),
        (
            &[
                "fit",
                "examples/normal.fim",
                "--data",
                "tests/data/fit/bad_support.csv",
                "--format",
                "json",
            ],
            1,
        ),
    ] {
        let (v, got) = run(cmd);
        assert_eq!(got, code, "{cmd:?}: {v}");
        assert_schema(&v, cmd[0]);
        assert_keys(&v, &["error"], &[], cmd[0]);
        assert_eq!(v["ok"], false);
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
}

/// Expression, vector and matrix objects inside `formulas`.
fn check_formulas(f: &Value, closed_form: bool) {
    let expect: &[&str] = if closed_form {
        &["fim", "det", "crb", "jeffreys", "natural_gradient"]
    } else {
        &[]
    };
    assert_keys(f, &["derive.formulas"], expect, "formulas");
    assert_keys(&f["score"], &["vector"], &[], "formulas.score");
    for e in each(&f["score"]["entries"], "score entries") {
        assert_keys(e, &["expression"], &[], "score entry");
    }
    for m in ["hessian", "fim", "crb"] {
        if f.get(m).is_some_and(|m| !m.is_null()) {
            assert_keys(&f[m], &["matrix"], &[], m);
            for row in each(&f[m]["entries"], m) {
                for e in each(row, m) {
                    assert_keys(e, &["expression"], &[], m);
                }
            }
        }
    }
    if f.get("natural_gradient").is_some_and(|v| !v.is_null()) {
        assert_keys(&f["natural_gradient"], &["vector"], &[], "natural_gradient");
    }
    for e in ["det", "jeffreys"] {
        if f.get(e).is_some_and(|e| !e.is_null()) {
            assert_keys(&f[e], &["expression"], &[], e);
        }
    }
}

#[test]
fn derive_closed_form() {
    let (v, code) = run(&["derive", "examples/binomial_odds.fim", "--format", "json"]);
    assert_eq!(code, 0);
    assert_schema(&v, "derive");
    assert_keys(&v, &["derive", "derive.closed_form"], &[], "derive");
    assert_eq!(v["closed_form"], true);
    check_formulas(&v["formulas"], true);
    assert_keys(&v["fim_check"], &["derive.fim_check"], &[], "fim_check");
    let groups = each(&v["exponential_family"], "exponential_family");
    assert_eq!(groups.len(), 1);
    assert_keys(&groups[0], &["derive.exponential_family"], &[], "group");
    assert_keys(&groups[0]["A"], &["expression"], &[], "A");
    assert_keys(&groups[0]["T"], &["vector"], &[], "T");
    let coords = each(&v["coordinates"], "coordinates");
    assert_eq!(coords.len(), 1);
    assert_keys(&coords[0], &["derive.coordinates"], &[], "coordinates");
    let cf = &coords[0]["formulas"];
    assert_keys(&cf["score"], &["vector"], &[], "coordinates score");
    assert_keys(&cf["fim"], &["matrix"], &[], "coordinates fim");
    assert_keys(
        &cf["jeffreys"],
        &["expression"],
        &[],
        "coordinates jeffreys",
    );

    // Covariates: a rank-one row information.
    let (v, code) = run(&[
        "derive",
        "examples/logistic_regression.fim",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_keys(
        &v,
        &["derive", "derive.closed_form"],
        &["fim_rank_one"],
        "logistic",
    );
    check_formulas(&v["formulas"], true);

    // Not identifiable: rank and null directions.
    let (v, code) = run(&["derive", "examples/nonidentifiable.fim", "--format", "json"]);
    assert_eq!(code, 0);
    assert_keys(
        &v,
        &["derive", "derive.closed_form"],
        &[],
        "nonidentifiable",
    );
    assert_eq!(v["singular"], true);
    assert!(!each(&v["null_directions"], "null_directions").is_empty());
}

#[test]
fn derive_at_a_point() {
    let (v, code) = run(&[
        "derive",
        "examples/normal.fim",
        "--at",
        "mu=0,sigma=2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_schema(&v, "derive --at");
    assert_keys(
        &v,
        &["derive", "derive.closed_form", "derive.at"],
        &[],
        "derive --at",
    );
    assert_eq!(v["fim_value"], serde_json::json!([[0.25, 0.0], [0.0, 0.5]]));

    let (v, code) = run(&[
        "derive",
        "examples/logistic_regression.fim",
        "--at",
        "b0=0,b1=1,b2=-1",
        "--data",
        "tests/data/fit/logistic.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_keys(
        &v,
        &["derive", "derive.closed_form", "derive.at"],
        &["fim_rank_one", "rows"],
        "derive --at --data",
    );
}

#[test]
fn derive_without_closed_form() {
    let (v, code) = run(&[
        "derive",
        "tests/fixtures/numeric/cauchy.fim",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_schema(&v, "derive (no closed form)");
    assert_keys(
        &v,
        &["derive", "derive.no_closed_form"],
        &[],
        "no closed form",
    );
    assert_eq!(v["closed_form"], false);
    assert!(v["fim"].is_null());
    check_formulas(&v["formulas"], false);

    // With --at: the numeric Fisher information (tier 2 for Cauchy).
    let (v, code) = run(&[
        "derive",
        "tests/fixtures/numeric/cauchy.fim",
        "--at",
        "mu=0,sigma=2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_keys(
        &v,
        &["derive", "derive.no_closed_form", "derive.fallback"],
        &["tier", "fim_error", "warnings", "location_scale_fim"],
        "fallback",
    );
    assert_eq!(v["tier"], 2);
    for row in each(&v["location_scale_fim"], "location_scale_fim") {
        for e in each(row, "location_scale_fim row") {
            assert_keys(e, &["expression"], &[], "location_scale_fim entry");
        }
    }
}

#[test]
fn eval_documents() {
    let (v, code) = run(&[
        "eval",
        "examples/normal.fim",
        "--at",
        "mu=0,sigma=2,x=1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_schema(&v, "eval");
    assert_keys(&v, &["eval.point"], &[], "eval");
    let (v, code) = run(&[
        "eval",
        "examples/normal.fim",
        "--at",
        "mu=3,sigma=1",
        "--data",
        "tests/data/fit/normal.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_schema(&v, "eval --data");
    assert_keys(&v, &["eval.data"], &[], "eval --data");
    for k in ["inputs", "log_density", "score", "hessian"] {
        assert!(v.get(k).is_none(), "eval --data writes {k}");
    }
}

#[test]
fn check_documents() {
    for (args, closed) in [
        (
            &[
                "check",
                "examples/gamma.fim",
                "--points",
                "1",
                "--format",
                "json",
            ][..],
            true,
        ),
        (
            &[
                "check",
                "tests/fixtures/numeric/cauchy.fim",
                "--at",
                "mu=0,sigma=2",
                "--format",
                "json",
            ],
            false,
        ),
    ] {
        let (v, code) = run(args);
        assert_eq!(code, 0, "{args:?}: {v}");
        assert_schema(&v, "check");
        assert_keys(&v, &["check"], &[], "check");
        assert_eq!(v["passed"], true);
        assert_eq!(v["no_closed_form_reason"].is_null(), closed);
        let points = each(&v["points"], "points");
        assert_eq!(points.len(), 1);
        for p in points {
            assert_keys(p, &["check.point"], &[], "check point");
            assert_eq!(p["closed_form_value"].is_null(), !closed);
            for r in each(&p["checks"], "checks") {
                assert_keys(r, &["check.row"], &[], "check row");
            }
        }
    }
}

#[test]
fn compare_documents() {
    let (v, code) = run(&[
        "compare",
        "tests/data/fit/compare/poisson1.fim",
        "tests/data/fit/compare/poisson2.fim",
        "--data",
        "tests/data/fit/compare_poisson.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_schema(&v, "compare");
    assert_keys(&v, &["compare"], &[], "compare");
    let tests = v["tests"].as_array().expect("tests");
    assert_eq!(tests.len(), 3);
    for t in tests {
        assert_keys(t, &["compare_test"], &[], "compare test");
    }
}

#[test]
fn fit_documents() {
    let (v, code) = run(&[
        "fit",
        "examples/normal.fim",
        "--data",
        "tests/data/fit/normal.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_schema(&v, "fit");
    assert_keys(&v, &["fit"], &[], "fit");
    let names = ["mu", "sigma"];
    for key in [
        "columns",
        "estimates",
        "std_errors",
        "std_errors_observed",
        "z_values",
        "p_values",
        "conf_int_95",
    ] {
        let m = v[key].as_object().unwrap_or_else(|| panic!("{key}: {v}"));
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(keys, names, "{key}");
    }
    // A fit that did not converge: ok false, its reason in `error`.
    let (v, code) = run(&[
        "fit",
        "examples/normal.fim",
        "--data",
        "tests/data/fit/normal.csv",
        "--format",
        "json",
        "--method",
        "gd",
        "--max-iter",
        "2",
    ]);
    assert_eq!(code, 1);
    assert_schema(&v, "fit");
    assert_keys(&v, &["fit"], &["error"], "unconverged fit");
    // A fit restarted on the data's scale: `restart`.
    let (v, code) = run(&[
        "fit",
        "examples/gamma.fim",
        "--data",
        "tests/data/fit/gamma_outlier.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_keys(&v, &["fit"], &["restart"], "restarted fit");
    let r = v["restart"].as_object().unwrap();
    let keys: Vec<&str> = r.keys().map(String::as_str).collect();
    assert_eq!(keys, ["default_start_result", "start"]);
}

/// `fit --predict`: `predictions`, each row with the documented keys.
#[test]
fn fit_predictions_documented() {
    let (v, code) = run(&[
        "fit",
        "examples/logistic_regression.fim",
        "--data",
        "tests/data/fit/logistic.csv",
        "--predict",
        "tests/data/fit/predict_new.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_keys(&v, &["fit"], &["predictions"], "fit --predict");
    let rows = v["predictions"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    for r in rows {
        assert_keys(r, &["fit.prediction"], &[], "a prediction");
    }
}

/// `--fim-only` keeps every documented key; what it does not derive is null.
#[test]
fn derive_fim_only_keeps_the_keys() {
    let (v, code) = run(&[
        "derive",
        "examples/binomial_odds.fim",
        "--format",
        "json",
        "--fim-only",
    ]);
    assert_eq!(code, 0);
    assert_schema(&v, "derive");
    assert_keys(
        &v,
        &["derive", "derive.closed_form"],
        &[],
        "derive --fim-only",
    );
    assert_keys(
        &v["formulas"],
        &["derive.formulas"],
        &["fim", "det", "crb", "jeffreys", "natural_gradient"],
        "formulas",
    );
    // The top-level nulls are tested in tests/cli_derive.rs.
    assert!(v["formulas"]["score"].is_null() && v["formulas"]["hessian"].is_null());
    assert_keys(&v["formulas"]["fim"], &["matrix"], &[], "fim");
    // The coordinates block of binomial_odds: F alone there too.
    let coords = each(&v["coordinates"], "coordinates");
    assert_eq!(coords.len(), 1);
    assert_keys(&coords[0], &["derive.coordinates"], &[], "coordinates");
    assert!(coords[0]["score"].is_null() && coords[0]["formulas"]["score"].is_null());
    assert_keys(
        &coords[0]["formulas"]["fim"],
        &["matrix"],
        &[],
        "coordinates fim",
    );
    assert_eq!(coords[0]["pullback_agrees"], true);
}
