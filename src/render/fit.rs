//! A fitted model for people (a coefficient table in the spirit of R's
//! `summary(glm)`) and for programs (JSON), and its trajectory as CSV.
//!
//! JSON keys (schema `fimkit-json 1`): `estimates`, `std_errors`
//! (expected information), `std_errors_observed`, `z_values`, `p_values`,
//! `conf_int_95` — each an object from parameter name to a number (or
//! `[lower, upper]`), `null` where the information is not positive
//! definite — `conf_int` (`level`, `method`, `bounds`), and `loglik`,
//! `aic`, `bic`, `n_rows`, `n_params`, `deviance`, `null_deviance`,
//! `family`, `iterations`, `converged`,
//! `stop_reason`, `method`, `information`, `decrement`, `parameters`,
//! `expected_information`, `observed_information`, `covariance`; `error`
//! (with `"ok": false`) for a fit that did not converge, whose tests are
//! `null` unless asked, `restart` when the default start failed,
//! `weights` (`column`, `kind`, `sum`) for a fit with frequency weights and
//! `na_dropped` (rows dropped for a missing value) under `--na drop`.
//! Predictions (`--predict`) as a table, CSV or JSON rows, and residuals
//! (`--residuals`) as CSV.

use crate::fit::{FitResult, InformationKind, Method, TraceRow};
use serde_json::{Map, Value, json};

/// Options of [`fit_text`].
#[derive(Clone, Debug, Default)]
pub struct FitTextOptions {
    /// Plain ASCII (no `θ̂`, `±`, `ᵀ`).
    pub ascii: bool,
    /// Where the data came from (a file name), for the heading.
    pub data: Option<String>,
    /// Show z values, p-values, significance stars and Wald intervals
    /// even when the fit did not converge (they are left out otherwise:
    /// a test at a point that is not the maximum means nothing).
    pub show_unconverged_tests: bool,
    /// The column of frequency weights, when the fit has them.
    pub weights: Option<String>,
    /// Rows dropped for a missing value (`--na drop`), when asked.
    pub na_dropped: Option<usize>,
}

impl FitTextOptions {
    /// Are the tests shown for `r`?
    fn tests(&self, r: &FitResult) -> bool {
        r.converged() || self.show_unconverged_tests
    }
}

fn method_title(m: Method) -> &'static str {
    match m {
        Method::FisherScoring => "Fisher scoring",
        Method::Natural => "natural gradient (KL trust region)",
        Method::Newton => "Newton (observed information)",
        Method::GradientDescent => "gradient descent",
    }
}

pub use crate::number::fmt_sig;

/// A p-value as R prints it: `< 2e-16` below machine precision.
pub fn fmt_p(p: f64) -> String {
    if p < 2e-16 {
        "< 2e-16".into()
    } else if p < 1e-4 {
        let s = format!("{p:.1e}");
        s.replace(".0e", "e")
    } else {
        format!("{p:.4}")
    }
}

fn stars(p: f64) -> &'static str {
    if p < 0.001 {
        "***"
    } else if p < 0.01 {
        "**"
    } else if p < 0.05 {
        "*"
    } else if p < 0.1 {
        "."
    } else {
        ""
    }
}

/// The summary table.
pub fn fit_text(r: &FitResult, opts: &FitTextOptions) -> String {
    let mut s = String::new();
    let rows = if r.n_rows == 1 { "row" } else { "rows" };
    match &opts.data {
        Some(d) => s.push_str(&format!(
            "{} fitted to {d} ({} {rows}) by {}\n",
            r.model,
            r.n_rows,
            method_title(r.method)
        )),
        None => s.push_str(&format!(
            "{} fitted to {} {rows} by {}\n",
            r.model,
            r.n_rows,
            method_title(r.method)
        )),
    }
    if let Some(total) = r.weights_sum {
        let col = opts.weights.as_deref().unwrap_or("weights");
        s.push_str(&format!(
            "frequency weights `{col}`: {} observations (Σ{col}) in {} {rows}\n",
            crate::numeric::data::show(total),
            r.n_rows
        ));
    }
    if let Some(k) = opts.na_dropped {
        let what = if k == 1 { "row" } else { "rows" };
        s.push_str(&format!(
            "{k} {what} with a missing value dropped (--na drop)\n"
        ));
    }
    let its = if r.iterations == 1 {
        "iteration"
    } else {
        "iterations"
    };
    if r.converged() {
        s.push_str(&format!(
            "{} after {} {its}\n",
            r.stop.describe(r.tol),
            r.iterations
        ));
    } else {
        s.push_str(&format!(
            "NOT CONVERGED: {} after {} {its}; the estimates below are provisional, not a maximum\n",
            r.stop
                .describe(r.tol)
                .trim_start_matches("not converged: "),
            r.iterations
        ));
    }
    if let Some(restart) = &r.restart {
        let at: Vec<String> = r
            .params
            .iter()
            .zip(restart.start.iter())
            .map(|(n, v)| format!("{n} = {}", fmt_sig(*v, 4)))
            .collect();
        s.push_str(&format!(
            "start: {} (on the data's scale; from the default start: {})\n",
            at.join(", "),
            restart.why
        ));
    }
    s.push_str(&format!(
        "information: {}\n\n",
        info_text(&r.information, opts.ascii)
    ));
    // The table.
    let ses = match r.se {
        crate::fit::SeKind::Expected => r.std_errors.clone(),
        _ => r.wald_std_errors(),
    };
    let tests = opts.tests(r);
    let hide = |v: Vec<Option<f64>>| {
        if tests { v } else { vec![None; v.len()] }
    };
    let z = hide(r.z_values());
    let p = hide(r.p_values());
    let ci = if tests {
        r.intervals()
    } else {
        vec![(None, None); r.params.len()]
    };
    let (lo_label, hi_label) = level_labels(r.level);
    let header = [
        "",
        "Estimate",
        "Std. Error",
        "(observed)",
        "z value",
        "Pr(>|z|)",
        "",
        &lo_label,
        &hi_label,
    ];
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    let show = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |v| fmt_sig(v, 6));
    for i in 0..r.params.len() {
        let name = if r.columns[i] != *r.params[i] {
            format!("{} {}", r.params[i], r.columns[i])
        } else {
            r.params[i].to_string()
        };
        table.push(vec![
            name,
            fmt_sig(r.estimates[i], 6),
            show(ses[i]),
            show(r.std_errors_observed[i]),
            z[i].map_or_else(|| "—".to_string(), |v| format!("{v:.3}")),
            p[i].map_or_else(|| "—".to_string(), fmt_p),
            p[i].map_or("", stars).to_string(),
            show(ci[i].0),
            show(ci[i].1),
        ]);
    }
    let cols = header.len();
    let widths: Vec<usize> = (0..cols)
        .map(|j| {
            table
                .iter()
                .map(|row| row[j].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    s.push_str("Coefficients:\n");
    for row in &table {
        let mut line = String::new();
        for (j, cell) in row.iter().enumerate() {
            let w = widths[j];
            let pad = w - cell.chars().count();
            if j == 0 || j == 6 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
            line.push_str(if j == 5 { " " } else { "  " });
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    if tests {
        s.push_str("---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n");
    } else {
        s.push_str("---\n");
    }
    let wald_from = match (r.se, &r.sandwich) {
        (crate::fit::SeKind::Observed, _) => "observed information".to_string(),
        (crate::fit::SeKind::Sandwich, Some(sw)) => {
            let of = match &sw.clusters {
                Some((col, g)) => format!("scores summed over {g} clusters of {col}"),
                None => "one score per row".into(),
            };
            if opts.ascii {
                format!("sandwich F^-1 (sum s s^T) F^-1 ({of})")
            } else {
                format!("sandwich F⁻¹ (Σ s sᵀ) F⁻¹ ({of})")
            }
        }
        _ if r.information.is_expected() => "expected information".to_string(),
        _ => "observed information".to_string(),
    };
    let uses = match (&r.profile, r.level == 0.95) {
        (None, true) => "z, p and the 95% Wald interval use the first.".to_string(),
        (None, false) => format!(
            "z, p and the {} Wald interval use the first.",
            percent(r.level)
        ),
        (Some(_), _) => format!(
            "z and p use the first; the {} intervals are profile-likelihood intervals.",
            percent(r.level)
        ),
    };
    s.push_str(&if opts.ascii {
        let cr = if r.se == crate::fit::SeKind::Expected {
            " (Cramer-Rao)"
        } else {
            ""
        };
        format!("Std. Error from the {wald_from}{cr}, (observed) from -Hessian; {uses}\n")
    } else {
        let cr = if r.se == crate::fit::SeKind::Expected {
            " (Cramér–Rao)"
        } else {
            ""
        };
        format!("Std. Error from the {wald_from}{cr}, (observed) from −Hessian; {uses}\n")
    });
    if tests && let Some(p) = &r.profile {
        for note in p.iter().filter_map(|i| i.note.as_deref()) {
            s.push_str(&format!("no profile-likelihood {note}\n"));
        }
    }
    let missing: Vec<&str> = r
        .params
        .iter()
        .zip(&ses)
        .filter(|(_, se)| se.is_none())
        .map(|(n, _)| &**n)
        .collect();
    if !missing.is_empty() {
        s.push_str(&format!(
            "no standard error for {}: the information matrix is not positive definite there\n",
            missing.join(", ")
        ));
    }
    s.push('\n');
    if let Some(dev) = &r.deviance {
        let d = r.params.len();
        let df = |k: usize| crate::numeric::data::show((r.n_obs() - k as f64).max(0.0));
        match dev.null_deviance {
            Some(null) => s.push_str(&format!(
                "Null deviance:     {}  on {} degrees of freedom\n",
                fmt_sig(null, 10),
                df(1)
            )),
            None => s.push_str(&format!(
                "Null deviance:     —  ({})\n",
                dev.null_note.as_deref().unwrap_or("not available")
            )),
        }
        s.push_str(&format!(
            "Residual deviance: {}  on {} degrees of freedom  ({}: against the saturated model)\n",
            fmt_sig(dev.deviance, 10),
            df(d),
            dev.family
        ));
    }
    s.push_str(&format!(
        "log-likelihood: {}  ({} parameters, {} {rows})   AIC: {}   BIC: {}\n",
        fmt_sig(r.loglik, 10),
        r.params.len(),
        r.n_rows,
        fmt_sig(r.aic(), 10),
        fmt_sig(r.bic(), 10)
    ));
    if !r.converged() {
        s.push_str(&format!(
            "warning: the estimate is not converged (Newton decrement {}); results are provisional\n",
            fmt_sig(r.decrement, 3)
        ));
        if !tests {
            s.push_str(
                "z values, p-values and intervals are not shown for a fit that did not converge (--show-unconverged-tests shows them)\n",
            );
        }
    }
    s
}

/// A level as a percentage, `0.9` as `90%`, `0.995` as `99.5%`.
fn percent(level: f64) -> String {
    format!("{}%", trim_number(100.0 * level))
}

/// `v` with at most 6 decimals, trailing zeros dropped.
fn trim_number(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The interval columns' headings: `2.5 %` and `97.5 %` at 0.95.
fn level_labels(level: f64) -> (String, String) {
    let tail = 50.0 * (1.0 - level);
    (
        format!("{} %", trim_number(tail)),
        format!("{} %", trim_number(100.0 - tail)),
    )
}

fn info_text(k: &InformationKind, ascii: bool) -> String {
    let d = k.describe();
    if ascii {
        d
    } else {
        d.replace("X^T W X", "XᵀWX").replace("theta", "θ")
    }
}

fn num(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, num)
}

fn by_name(r: &FitResult, vals: &[Value]) -> Value {
    let mut m = Map::new();
    for (n, v) in r.params.iter().zip(vals) {
        m.insert(n.to_string(), v.clone());
    }
    Value::Object(m)
}

fn matrix(m: &nalgebra::DMatrix<f64>) -> Value {
    Value::Array(
        (0..m.nrows())
            .map(|i| Value::Array(m.row(i).iter().map(|v| num(*v)).collect()))
            .collect(),
    )
}

/// The JSON form (see the module docs for the keys). A fit that did not
/// converge has `"ok": false`, its reason in `error`, and null z values,
/// p-values and intervals unless `opts.show_unconverged_tests`.
pub fn fit_json(r: &FitResult, opts: &FitTextOptions) -> Value {
    let data = opts.data.as_deref();
    let tests = opts.tests(r);
    let est: Vec<Value> = r.estimates.iter().map(|v| num(*v)).collect();
    let se: Vec<Value> = r.std_errors.iter().map(|v| opt(*v)).collect();
    let seo: Vec<Value> = r.std_errors_observed.iter().map(|v| opt(*v)).collect();
    let gate = |v: Value| if tests { v } else { Value::Null };
    let z: Vec<Value> = r.z_values().iter().map(|v| gate(opt(*v))).collect();
    let p: Vec<Value> = r.p_values().iter().map(|v| gate(opt(*v))).collect();
    let ci: Vec<Value> = r
        .wald_intervals()
        .iter()
        .map(|c| gate(c.map_or(Value::Null, |(a, b)| json!([num(a), num(b)]))))
        .collect();
    let bounds: Vec<Value> = r
        .intervals()
        .iter()
        .map(|(a, b)| gate(json!([opt(*a), opt(*b)])))
        .collect();
    let columns: Vec<Value> = r.columns.iter().map(|c| Value::String(c.clone())).collect();
    let dev = r.deviance.as_ref();
    let mut doc = json!({
        "schema": crate::render::json::SCHEMA,
        "ok": r.converged(),
        "model": r.model,
        "data": data,
        "method": r.method.name(),
        "parameters": r.params.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        "columns": by_name(r, &columns),
        "estimates": by_name(r, &est),
        "std_errors": by_name(r, &se),
        "std_errors_observed": by_name(r, &seo),
        "z_values": by_name(r, &z),
        "p_values": by_name(r, &p),
        "conf_int_95": by_name(r, &ci),
        "loglik": num(r.loglik),
        "conf_int": {
            "level": num(r.level),
            "method": if r.profile.is_some() { "profile" } else { "wald" },
            "bounds": by_name(r, &bounds),
        },
        "se": r.se.name(),
        "std_errors_sandwich": r.sandwich.as_ref().map_or(Value::Null, |sw| {
            let v: Vec<Value> = sw.std_errors.iter().map(|v| opt(*v)).collect();
            by_name(r, &v)
        }),
        "aic": num(r.aic()),
        "bic": num(r.bic()),
        "n_rows": r.n_rows,
        "n_params": r.params.len(),
        "deviance": dev.map_or(Value::Null, |d| num(d.deviance)),
        "null_deviance": dev.and_then(|d| d.null_deviance).map_or(Value::Null, num),
        "family": dev.map(|d| d.family),
        "iterations": r.iterations,
        "converged": r.converged(),
        "stop_reason": r.stop.describe(r.tol),
        "decrement": num(r.decrement),
        "information": r.information.describe(),
        "information_is_expected": r.information.is_expected(),
        "expected_information": matrix(&r.expected_information),
        "observed_information": matrix(&r.observed_information),
        "covariance": r.covariance.as_ref().map_or(Value::Null, matrix),
    });
    if let Value::Object(m) = &mut doc {
        if !r.converged() {
            m.insert(
                "error".into(),
                Value::String(format!(
                    "the fit did not converge: {}",
                    r.stop.describe(r.tol)
                )),
            );
        }
        if let Some(total) = r.weights_sum {
            m.insert(
                "weights".into(),
                json!({"column": opts.weights, "kind": "frequency", "sum": num(total)}),
            );
        }
        if let Some(k) = opts.na_dropped {
            m.insert("na_dropped".into(), json!(k));
        }
        if let Some(restart) = &r.restart {
            let start: Vec<Value> = restart.start.iter().map(|v| num(*v)).collect();
            m.insert(
                "restart".into(),
                json!({"start": by_name(r, &start), "default_start_result": restart.why}),
            );
        }
    }
    doc
}

/// The trajectory as CSV: `iteration`, one column per parameter, `loss`
/// (mean negative log-likelihood), `kl` (quadratic KL of the step, per
/// observation), `step` (α), `decrement` (before the step; empty at the
/// start), `damping`.
pub fn trace_csv(params: &[impl AsRef<str>], trace: &[TraceRow]) -> String {
    let mut s = String::from("iteration");
    for p in params {
        s.push(',');
        s.push_str(p.as_ref());
    }
    s.push_str(",loss,kl,step,decrement,damping\n");
    let f = |v: f64| format!("{v:.17e}");
    for row in trace {
        s.push_str(&row.iteration.to_string());
        for v in row.theta.iter() {
            s.push(',');
            s.push_str(&format!("{v:.17e}"));
        }
        s.push_str(&format!(
            ",{},{},{},{},{}\n",
            f(row.loss),
            f(row.kl),
            f(row.step),
            row.decrement.map_or(String::new(), f),
            f(row.damping)
        ));
    }
    s
}

/// A number for a CSV cell: the shortest text that reads back as the same
/// `f64`; empty for `None`.
fn cell(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

/// Predictions as CSV: `row`, the covariates, the quantity (its name as
/// the header), `se`, `lower`, `upper` (empty where there is none).
pub fn predictions_csv(p: &crate::fit::Predictions) -> String {
    let mut s = String::from("row");
    for n in &p.inputs {
        s.push(',');
        s.push_str(n);
    }
    s.push_str(&format!(",{},se,lower,upper\n", p.quantity));
    for (row, xs, pr) in &p.rows {
        s.push_str(&row.to_string());
        for x in xs {
            s.push(',');
            s.push_str(&cell(Some(*x)));
        }
        s.push_str(&format!(
            ",{},{},{},{}\n",
            cell(Some(pr.value)),
            cell(pr.se),
            cell(pr.interval.map(|i| i.0)),
            cell(pr.interval.map(|i| i.1))
        ));
    }
    s
}

/// Predictions as a table for the text report.
pub fn predictions_text(p: &crate::fit::Predictions, ascii: bool) -> String {
    let level = crate::number::fmt_value(100.0 * p.level);
    let how = match p.interval {
        crate::fit::IntervalKind::Link => {
            "the linear predictor's Wald interval mapped through the mean"
        }
        crate::fit::IntervalKind::Wald => "Wald",
    };
    let se = if ascii { "SE" } else { "SE (delta method)" };
    let mut header: Vec<String> = vec!["row".into()];
    header.extend(p.inputs.iter().map(|n| n.to_string()));
    header.extend([
        p.quantity.clone(),
        se.into(),
        format!("{level}% lower"),
        format!("{level}% upper"),
    ]);
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| crate::number::fmt_sig(v, 6));
    let rows: Vec<Vec<String>> = p
        .rows
        .iter()
        .map(|(row, xs, pr)| {
            let mut r = vec![row.to_string()];
            r.extend(xs.iter().map(|x| f(Some(*x))));
            r.extend([
                f(Some(pr.value)),
                f(pr.se),
                f(pr.interval.map(|i| i.0)),
                f(pr.interval.map(|i| i.1)),
            ]);
            r
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|j| {
            rows.iter()
                .map(|r| r[j].chars().count())
                .chain(std::iter::once(header[j].chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (j, c) in cells.iter().enumerate() {
            let pad = widths[j] - c.chars().count();
            s.push_str(&" ".repeat(pad + if j == 0 { 0 } else { 2 }));
            s.push_str(c);
        }
        s.push('\n');
        s
    };
    let mut s = format!(
        "\nPredictions of {} ({level}% intervals: {how}):\n",
        p.quantity
    );
    s.push_str(&line(&header));
    for r in &rows {
        s.push_str(&line(r));
    }
    s
}

/// Predictions for the fit's JSON document: one object per row.
pub fn predictions_json(p: &crate::fit::Predictions) -> Value {
    Value::Array(
        p.rows
            .iter()
            .map(|(row, xs, pr)| {
                let inputs: Map<String, Value> = p
                    .inputs
                    .iter()
                    .zip(xs)
                    .map(|(n, x)| (n.to_string(), num(*x)))
                    .collect();
                json!({
                    "row": row,
                    "inputs": inputs,
                    "quantity": p.quantity,
                    "value": num(pr.value),
                    "se": opt(pr.se),
                    "lower": opt(pr.interval.map(|i| i.0)),
                    "upper": opt(pr.interval.map(|i| i.1)),
                    "level": num(p.level),
                    "interval": p.interval.name(),
                })
            })
            .collect(),
    )
}

/// Residuals as CSV: `row` (in the data file, from 1), the response (its
/// name as the header), `fitted`, `resid_response`, `resid_pearson`, and
/// `resid_deviance` when the family has one (statsmodels' names).
pub fn residuals_csv(y: &str, rows: &[usize], res: &[crate::fit::Residual]) -> String {
    let dev = res.iter().all(|r| r.deviance.is_some()) && !res.is_empty();
    let mut s = format!("row,{y},fitted,resid_response,resid_pearson");
    s.push_str(if dev { ",resid_deviance\n" } else { "\n" });
    for (row, r) in rows.iter().zip(res) {
        s.push_str(&format!(
            "{row},{},{},{},{}",
            cell(Some(r.response)),
            cell(Some(r.fitted)),
            cell(Some(r.response_resid)),
            cell(Some(r.pearson))
        ));
        if dev {
            s.push(',');
            s.push_str(&cell(r.deviance));
        }
        s.push('\n');
    }
    s
}
