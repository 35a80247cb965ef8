//! `fimkit check` and the numeric fallback of `fimkit derive --at`.

use super::{EXIT_MODEL_ERROR, Failure, Format, Report, load_model};
use fimkit::fisher::numeric::check::{CheckConfig, CheckReport, CheckRow, check};
use fimkit::ir::expr::Name;
use fimkit::render::text::{TextStyle, render};
use nalgebra::DMatrix;
use serde_json::{Value, json};
use std::path::Path;

/// Parse `--at name=value,...` (the shared syntax of [`super::points`],
/// lists included) against the model's parameters and covariates. Text
/// that cannot be read is a usage error (checked first, by
/// [`check_at_syntax`]); a name the model does not have is an error of
/// the point.
pub(crate) fn parse_at(
    model: &fimkit::ir::Model,
    text: &str,
) -> Result<Vec<(String, f64)>, String> {
    let items = check_at_syntax(text)?;
    let accepted: Vec<&str> = model
        .params
        .iter()
        .map(|p| &*p.name)
        .chain(model.covariates.iter().map(|c| &*c.name))
        .collect();
    super::points::expand(&items, &accepted).map_err(|e| e.to_string())
}

/// The `--at` text read as assignments; an error (exit code 2) when it
/// cannot be read or is empty.
pub(crate) fn check_at_syntax(text: &str) -> Result<Vec<super::points::Assignment>, String> {
    let items = super::points::parse(&[text]).map_err(|e| e.to_string())?;
    if items.is_empty() {
        return Err("--at needs NAME=VALUE pairs, e.g. --at mu=0,sigma=2".into());
    }
    Ok(items)
}

/// [`parse_at`], its error a usage error (unreadable text) or an error of
/// the point (a name the model does not have).
fn point_at(model: &fimkit::ir::Model, text: &str) -> Result<Vec<(String, f64)>, Failure> {
    check_at_syntax(text).map_err(Failure::usage)?;
    parse_at(model, text).map_err(Failure::model)
}

fn fmt_num(v: f64) -> String {
    fimkit::number::magnitude(v)
}

fn row_text(r: &CheckRow) -> String {
    format!(
        "  {:<28} {:>9}  {:>9}  {}\n",
        r.kind.label(),
        if r.error < 1e-12 {
            // Rounding level: the digits carry no information.
            "< 1e-12".into()
        } else if r.error.is_finite() {
            fmt_num(r.error)
        } else {
            "—".into()
        },
        if r.tolerance > 0.0 {
            fmt_num(r.tolerance)
        } else {
            "—".into()
        },
        if r.passed {
            "ok"
        } else if r.undecided {
            "could not decide"
        } else {
            "FAILED"
        }
    )
}

fn values_text(values: &[(Name, f64)]) -> String {
    values
        .iter()
        .map(|(n, v)| format!("{n} = {}", short(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parameter value, shortly.
fn short(v: f64) -> String {
    // Six significant digits in scientific notation outside [1e-6, 1e16):
    // never a 200-digit integer, never 0 for 1e-200.
    if v.is_finite() && v != 0.0 && (v.abs() >= 1e16 || v.abs() < 1e-6) {
        let s = format!("{v:.5e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{e}");
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn matrix_text(m: &DMatrix<f64>, labels: &[String], indent: &str) -> String {
    // Twelve decimals; the whole matrix in scientific notation when its
    // largest entry is outside [1e-6, 1e16) (never a 200-digit integer, and
    // rounding noise next to ordinary entries still prints as 0).
    let big = m.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let sci = big.is_finite() && big > 0.0 && !(1e-6..1e16).contains(&big);
    let cells: Vec<Vec<String>> = (0..m.nrows())
        .map(|i| {
            (0..m.ncols())
                .map(|j| {
                    let v = m[(i, j)];
                    if sci {
                        format!("{v:.12e}")
                    } else {
                        format!("{v:.12}")
                    }
                })
                .collect()
        })
        .collect();
    fimkit::render::matrix::labelled_numbers(&cells, labels, indent)
}

fn report_text(model: &fimkit::ir::Model, report: &CheckReport) -> String {
    let mut out = format!(
        "check {} ({} parameter{}: {})\n",
        model.name,
        report.params.len(),
        if report.params.len() == 1 { "" } else { "s" },
        report
            .params
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    match &report.no_closed_form {
        Some(why) => out.push_str(&format!("no closed form to compare: {why}\n")),
        None if report.model_rows.is_empty() => {
            out.push_str("closed form (tier 1) compared with the numeric Fisher information\n")
        }
        None => {}
    }
    let header = format!(
        "  {:<28} {:>9}  {:>9}  {}\n",
        "check", "error", "tolerance", "result"
    );
    if !report.model_rows.is_empty() {
        out.push('\n');
        out.push_str(&header);
        for r in &report.model_rows {
            out.push_str(&row_text(r));
        }
    }
    for (k, p) in report.points.iter().enumerate() {
        out.push_str(&format!("\npoint {}: {}\n", k + 1, values_text(&p.values)));
        out.push_str(&header);
        for r in &p.rows {
            out.push_str(&row_text(r));
        }
        out.push_str(&format!("  numeric: {}\n", p.moments.method));
    }
    let all = report
        .model_rows
        .iter()
        .chain(report.points.iter().flat_map(|p| p.rows.iter()));
    let failures: Vec<&CheckRow> = all.clone().filter(|r| !r.passed && !r.undecided).collect();
    let (n, failed) = report.counts();
    let undecided = report.undecided();
    out.push('\n');
    // Remarks on passing checks (a constant normaliser), then what could
    // not be decided, then the failures.
    let mut notes: Vec<&CheckRow> = all
        .clone()
        .filter(|r| r.passed && r.note.is_some())
        .collect();
    notes.extend(all.filter(|r| r.undecided).take(4));
    notes.extend(failures.iter().take(4));
    for r in notes {
        if let Some(note) = &r.note {
            out.push_str(&format!("{}: {note}\n", r.kind.label()));
        }
    }
    match (failed, undecided) {
        (0, 0) => out.push_str(&format!("all {n} checks passed\n")),
        (0, u) if u == n => out.push_str(&format!("could not decide {u} of {n} checks\n")),
        (0, u) => out.push_str(&format!(
            "could not decide {u} of {n} checks (the rest passed)\n"
        )),
        (f, 0) => out.push_str(&format!("{f} of {n} checks FAILED\n")),
        (f, u) => out.push_str(&format!(
            "{f} of {n} checks FAILED, {u} could not be decided\n"
        )),
    }
    out
}

fn row_json(r: &CheckRow) -> Value {
    json!({
        "check": r.kind.id(),
        "error": r.error.is_finite().then_some(r.error),
        "tolerance": r.tolerance,
        "passed": r.passed,
        "undecided": r.undecided,
        "note": r.note,
    })
}

fn matrix_json(m: &DMatrix<f64>) -> Value {
    json!(
        (0..m.nrows())
            .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect::<Vec<f64>>())
            .collect::<Vec<_>>()
    )
}

fn report_json(model: &fimkit::ir::Model, report: &CheckReport) -> Value {
    json!({
        "schema": fimkit::render::json::SCHEMA,
        "ok": true,
        "model": model.name,
        "passed": report.passed(),
        "parameters": report.params.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        "no_closed_form_reason": report.no_closed_form,
        "model_checks": report.model_rows.iter().map(row_json).collect::<Vec<_>>(),
        "points": report.points.iter().map(|p| json!({
            "at": p.values.iter().map(|(n, v)| (n.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "checks": p.rows.iter().map(row_json).collect::<Vec<_>>(),
            "method": p.moments.method,
            "evaluations": p.moments.evaluations,
            "fim_value": matrix_json(&p.moments.score_cov),
            "fim_error": matrix_json(&p.moments.score_cov_error),
            "closed_form_value": p.closed_form.as_ref().map(matrix_json),
        })).collect::<Vec<_>>(),
    })
}

/// `fimkit check MODEL [--points N] [--at ...] [--seed S]`.
pub(crate) fn check_cmd(
    path: &Path,
    points: usize,
    at: Option<&str>,
    seed: u64,
    format: Format,
) -> Result<Report, Failure> {
    let (model, _source) = load_model(path, format)?;
    // Unreadable `--at` text is a usage error (2); a point that does not
    // fit the model (an unknown name) an error of the point (1).
    let at = at.map(|a| point_at(&model, a)).transpose()?;
    let config = CheckConfig {
        points,
        at,
        seed,
        ..CheckConfig::default()
    };
    let report = check(&model, &config);
    let mut output = Report::output(match format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&report_json(&model, &report)).expect("JSON")
        ),
        _ => report_text(&model, &report),
    });
    if report.passed() {
        Ok(output)
    } else if report.counts().1 == 0 && report.undecided() > 0 {
        // Nothing failed, but not everything could be decided.
        output.undecided = true;
        Ok(output)
    } else {
        Err(Failure::shown(EXIT_MODEL_ERROR, output))
    }
}

/// The numeric Fisher information at `at` for `derive` when there is no
/// closed form (at one point, or summed over a design's rows).
pub(crate) struct Fallback {
    /// The values given.
    at: Vec<(String, f64)>,
    /// The parameters, in the order of the matrix's rows.
    params: Vec<String>,
    /// The result, from the library's tiered policy.
    result: Result<fimkit::FisherInformation, String>,
}

impl Fallback {
    /// Did it give a number?
    pub(crate) fn ok(&self) -> bool {
        self.result.is_ok()
    }
}

/// Compute the fallback by [`fimkit::information_at`] (tier 2, else 3);
/// `Err` is a usage error (bad `--at`). With a design, `at` names the
/// parameters only and the covariates come from its rows.
pub(crate) fn numeric_fallback(
    model: &fimkit::ir::Model,
    derivation: &fimkit::fisher::Derivation,
    at: &str,
    design: Option<&fimkit::numeric::Dataset>,
) -> Result<Fallback, String> {
    let at = parse_at(model, at)?;
    for p in &model.params {
        if !at.iter().any(|(n, _)| *n == *p.name) {
            return Err(format!("--at needs a value for `{}`", p.name));
        }
    }
    if design.is_some()
        && let Some((n, _)) = at
            .iter()
            .find(|(n, _)| model.covariates.iter().any(|c| *c.name == **n))
    {
        return Err(format!(
            "`{n}` is a covariate: with --data its values come from the file's rows"
        ));
    }
    let result = fimkit::information_at(model, derivation, &at, design).map_err(|e| e.to_string());
    let params = derivation.params.iter().map(|p| p.to_string()).collect();
    Ok(Fallback { at, params, result })
}

/// The fallback as text, after the derivation.
pub(crate) fn fallback_text(f: &Fallback, style: &TextStyle) -> String {
    let at: String =
        f.at.iter()
            .map(|(n, v)| format!("{n} = {}", short(*v)))
            .collect::<Vec<_>>()
            .join(", ");
    match &f.result {
        Err(msg) => format!("\nno numeric Fisher information at {at}: {msg}\n"),
        Ok(n) => {
            let tier = n.method.tier();
            let mut out = match n.rows {
                None => format!(
                    "\nFisher information at {at}, one observation (numeric, tier {tier})\n"
                ),
                Some((rows, distinct)) => format!(
                    "\nFisher information at {at} of the {rows} rows (numeric, tier {tier}, \
                     summed over {distinct} distinct covariate rows)\n"
                ),
            };
            let labels: Vec<String> = if f.params.len() == n.value.nrows() {
                f.params
                    .iter()
                    .map(|p| {
                        if style.unicode {
                            fimkit::render::text::unicode_name(p)
                        } else {
                            p.to_string()
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            out.push_str(&matrix_text(&n.value, &labels, "  "));
            out.push_str(&format!(
                "  error ≤ {} (largest entry)\n  method  {}\n",
                fmt_num(n.error.max()),
                n.method.description()
            ));
            if let Some(fim) = n
                .numeric
                .as_ref()
                .and_then(|n| n.location_scale.as_ref())
                .and_then(|ls| ls.fim.as_ref())
            {
                out.push_str("  location–scale closed form (constants recognised):\n");
                for (i, row) in fim.iter().enumerate() {
                    for (j, e) in row.iter().enumerate().skip(i) {
                        out.push_str(&format!(
                            "    F[{},{}] = {}\n",
                            n.params[i],
                            n.params[j],
                            render(e, style)
                        ));
                    }
                }
            }
            for w in &n.warnings {
                out.push_str(&format!("  warning: {w}\n"));
            }
            out
        }
    }
}

/// Add the fallback's keys to derive's JSON object.
pub(crate) fn fallback_json(f: &Fallback, out: &mut Value) {
    let Some(obj) = out.as_object_mut() else {
        return;
    };
    obj.insert(
        "at".into(),
        json!(
            f.at.iter()
                .map(|(n, v)| (n.clone(), json!(v)))
                .collect::<serde_json::Map<_, _>>()
        ),
    );
    obj.insert("closed_form".into(), json!(false));
    match &f.result {
        Ok(n) => {
            obj.insert("method".into(), json!(n.method.description()));
            obj.insert("tier".into(), json!(n.method.tier()));
            obj.insert("fim_value".into(), matrix_json(&n.value));
            obj.insert("fim_error".into(), matrix_json(&n.error));
            obj.insert("warnings".into(), json!(n.warnings));
            if let Some((rows, distinct)) = n.rows {
                obj.insert("rows".into(), json!(rows));
                obj.insert("distinct_rows".into(), json!(distinct));
            }
            if let Some(fim) = n
                .numeric
                .as_ref()
                .and_then(|n| n.location_scale.as_ref())
                .and_then(|ls| ls.fim.as_ref())
            {
                let m: Vec<Vec<Value>> = fim
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|e| fimkit::render::json::expr_json(e, &[]))
                            .collect()
                    })
                    .collect();
                obj.insert("location_scale_fim".into(), json!(m));
            }
        }
        Err(msg) => {
            obj.insert("fim_value".into(), Value::Null);
            obj.insert("numeric_error".into(), json!(msg));
        }
    }
}
