//! `fimkit derive`: score, Hessian, closed-form Fisher information and what
//! follows from it; with `--at`, the numbers at a parameter point.

use super::check::Fallback;
use super::points;
use super::{EXIT_MODEL_ERROR, Failure, Format, Report, load_model};
use fimkit::fisher::at_point::{FimAtPoint, Verdict, evaluate};
use fimkit::fisher::wide::Wide;
use fimkit::fisher::{CoordsDerivation, Derivation};
use fimkit::ir::Model;
use fimkit::numeric::Dataset;
use fimkit::render::derivation as report;
use fimkit::render::matrix::labelled_numbers;
use fimkit::render::text::TextStyle;
use serde_json::{Value, json};
use std::fmt::Write;
use std::path::Path;

/// Options of `fimkit derive`.
pub struct DeriveArgs<'a> {
    pub model: &'a Path,
    pub format: Format,
    pub ascii: bool,
    pub standalone: bool,
    pub at: &'a [String],
    pub data: Option<&'a Path>,
    pub fim_only: bool,
}

/// Everything `derive` prints, computed.
struct Derived {
    model: Model,
    derivation: Derivation,
    coords: Vec<CoordsDerivation>,
    /// The `--at` values, when there is a closed form to evaluate.
    point: Option<Vec<(String, f64)>>,
    /// The `--data` design's rows (covariates only).
    dataset: Option<Dataset>,
    /// The closed form's numbers at the point (or over the rows).
    numbers: Option<FimAtPoint>,
    /// No closed form: the numeric Fisher information at the point.
    fallback: Option<Fallback>,
}

pub fn derive_cmd(args: &DeriveArgs) -> Result<Report, Failure> {
    // Work between the named stages (dropping memos, evaluating at a
    // point, freeing the formulas) is still this command's.
    let _stage = fimkit::budget::stage("deriving");
    let (model, _source) = load_model(args.model, args.format)?;
    check_at_syntax(args.at)?;
    let (derivation, coords) = derive_formulas(&model, args.fim_only);
    let point = closed_form_point(&model, &derivation, args)?;
    let dataset = read_design(&model, args.data)?;
    let fallback = numeric_fallback(&model, &derivation, args.at, dataset.as_ref())?;
    let numbers = closed_form_numbers(&model, &derivation, point.as_deref(), dataset.as_ref())?;
    let derived = Derived {
        model,
        derivation,
        coords,
        point,
        dataset,
        numbers,
        fallback,
    };
    let output = Report::output(match args.format {
        Format::Json => json_output(&derived),
        Format::Latex => report::derivation_latex(
            &derived.model,
            &derived.derivation,
            &derived.coords,
            args.standalone,
        ),
        Format::Text => text_output(&derived, args.ascii),
    });
    let failed = derived.fallback.as_ref().is_some_and(|f| !f.ok());
    // The process ends after printing: freeing a large derivation's
    // formulas one node at a time would only delay the exit.
    std::mem::forget(derived);
    if failed {
        // The numeric route failed: its reason is in the output.
        Err(Failure::shown(EXIT_MODEL_ERROR, output))
    } else {
        Ok(output)
    }
}

/// Unreadable `--at` text is a usage error (2), before any work; a point
/// that does not fit the model is an error of the point (1), later.
fn check_at_syntax(at: &[String]) -> Result<(), Failure> {
    if !at.is_empty()
        && let Err(e) = points::parse(at)
    {
        return Err(Failure::usage(format!("--at: {e}")));
    }
    Ok(())
}

/// The derivation and its coordinates blocks (F alone with `--fim-only`).
fn derive_formulas(model: &Model, fim_only: bool) -> (Derivation, Vec<CoordsDerivation>) {
    let config = fimkit::fisher::DeriveConfig::default();
    if fim_only {
        let d = fimkit::fisher::derive_fim_only(model, &config);
        let coords = fimkit::fisher::derive_coords_fim_only(model, &d, &config);
        (d, coords)
    } else {
        let d = fimkit::fisher::derive(model, &config);
        let coords = fimkit::fisher::derive_coords(model, &d, &config);
        (d, coords)
    }
}

/// The `--at` values to evaluate a closed form at (none without `--at` or
/// without a closed form).
fn closed_form_point(
    model: &Model,
    derivation: &Derivation,
    args: &DeriveArgs,
) -> Result<Option<Vec<(String, f64)>>, Failure> {
    if args.at.is_empty() || derivation.fisher.is_err() {
        return Ok(None);
    }
    point_values(model, args.at, args.data.is_some())
        .map(Some)
        .map_err(|msg| Failure::model(format!("--at: {msg}")))
}

/// The `--data` design. An expected information needs the covariates
/// alone: other columns (responses) may be there and are not read. An
/// unreadable file is an I/O error (2), bad contents a data error (1).
fn read_design(model: &Model, data: Option<&Path>) -> Result<Option<Dataset>, Failure> {
    let Some(path) = data else {
        return Ok(None);
    };
    fimkit::numeric::DataSchema::from_model(model)
        .covariates_only()
        .read_path(path)
        .map(Some)
        .map_err(|e| {
            let message = format!("{}: {e}", path.display());
            match e {
                fimkit::numeric::DataError::Io(_) => Failure::usage(message),
                _ => Failure::model(message),
            }
        })
}

/// No closed form: tier 2 or 3 at the given point, or over the rows.
fn numeric_fallback(
    model: &Model,
    derivation: &Derivation,
    at: &[String],
    dataset: Option<&Dataset>,
) -> Result<Option<Fallback>, Failure> {
    if at.is_empty() || derivation.fisher.is_ok() {
        return Ok(None);
    }
    super::check::numeric_fallback(model, derivation, &at.join(","), dataset)
        .map(Some)
        .map_err(|msg| Failure::model(format!("--at: {msg}")))
}

/// The closed form's numbers at the point, or summed over the design's
/// rows.
fn closed_form_numbers(
    model: &Model,
    derivation: &Derivation,
    point: Option<&[(String, f64)]>,
    dataset: Option<&Dataset>,
) -> Result<Option<FimAtPoint>, Failure> {
    let Some(values) = point else {
        return Ok(None);
    };
    let named: Vec<(&str, f64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let result = match dataset {
        Some(data) => fimkit::fisher::at_point::evaluate_dataset(model, derivation, &named, data),
        None => evaluate(model, derivation, &named),
    };
    match result {
        Ok(n) => Ok(Some(n)),
        Err(e) if derivation.fisher.is_ok() => Err(Failure::model(format!("--at: {e}"))),
        Err(_) => Ok(None),
    }
}

/// The JSON document: the derivation, the numbers at the point and the
/// numeric fallback.
fn json_output(d: &Derived) -> String {
    let mut out = report::derivation_json(&d.model, &d.derivation, &d.coords);
    if let (Some(values), Some(obj)) = (&d.point, out.as_object_mut()) {
        obj.insert(
            "at".into(),
            Value::Object(values.iter().map(|(n, v)| (n.clone(), json!(v))).collect()),
        );
        if let Some(n) = &d.numbers {
            insert_numbers_json(obj, n, d.dataset.as_ref());
        }
    }
    if let Some(f) = &d.fallback {
        super::check::fallback_json(f, &mut out);
    }
    format!("{}\n", serde_json::to_string_pretty(&out).expect("JSON"))
}

/// The closed form's numbers at the point, as JSON fields.
fn insert_numbers_json(
    obj: &mut serde_json::Map<String, Value>,
    n: &FimAtPoint,
    dataset: Option<&Dataset>,
) {
    obj.insert("fim_value".into(), matrix_json(&n.fim));
    if let Some(d) = dataset {
        obj.insert("rows".into(), json!(d.n_rows()));
    }
    obj.insert("fim_error".into(), json!(0.0));
    obj.insert("det_value".into(), json!(n.det));
    obj.insert(
        "crb_value".into(),
        n.inverse.as_ref().map_or(Value::Null, matrix_json),
    );
    obj.insert(
        "condition_number".into(),
        json!(finite_or_null(n.condition)),
    );
    obj.insert("rank_at_point".into(), json!(verdict_id(&n.verdict)));
    // Numbers outside f64's range, in scientific notation (the f64 fields
    // above hold 0 or null there).
    if let Some(w) = &n.wide {
        let sci = |m: &Vec<Vec<Wide>>| {
            json!(
                m.iter()
                    .map(|r| r.iter().map(|x| x.sci(17)).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            )
        };
        obj.insert("fim_value_sci".into(), sci(&w.fim));
        obj.insert("det_value_sci".into(), json!(w.det.sci(17)));
        if let Some(inv) = &w.inverse {
            obj.insert("crb_value_sci".into(), sci(inv));
        }
    }
}

/// The text report: the derivation, its coordinates, the numbers at the
/// point and the numeric fallback.
fn text_output(d: &Derived, ascii: bool) -> String {
    let style = if ascii {
        TextStyle::ascii()
    } else {
        TextStyle::unicode()
    };
    let mut text = report::derivation_text(&d.model, &d.derivation, &style);
    text.push_str(&report::coords_text(&d.model, &d.coords, &style));
    if let (Some(values), Some(n)) = (&d.point, &d.numbers) {
        text.push_str(&numbers_text(
            values,
            n,
            &d.derivation.params,
            &style,
            d.dataset.as_ref().map(|d| d.n_rows()),
        ));
    }
    if let Some(f) = &d.fallback {
        text.push_str(&super::check::fallback_text(f, &style));
    }
    text
}

/// Parameter (and covariate) values from `--at`, every parameter required.
fn point_values(
    model: &fimkit::ir::Model,
    at: &[String],
    with_data: bool,
) -> Result<Vec<(String, f64)>, String> {
    let assignments = points::parse(at).map_err(|e| e.to_string())?;
    let mut accepted: Vec<String> = model.params.iter().map(|p| p.name.to_string()).collect();
    if !with_data {
        accepted.extend(model.covariates.iter().map(|c| c.name.to_string()));
    }
    let values = points::expand(&assignments, &accepted).map_err(|e| e.to_string())?;
    let missing: Vec<&str> = accepted
        .iter()
        .filter(|n| !values.iter().any(|(v, _)| v == *n))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no value for {}; give every parameter (and covariate), e.g. --at {}",
            missing.join(", "),
            example(&accepted)
        ));
    }
    for p in &model.params {
        let v = values
            .iter()
            .find(|(n, _)| *n == *p.name)
            .map(|(_, v)| *v)
            .unwrap_or(f64::NAN);
        if !fimkit::numeric::domain::Interval::of(model, &p.domain).contains(v) {
            return Err(format!(
                "{} = {v} is outside its domain {}",
                p.name, p.domain.label
            ));
        }
    }
    Ok(values)
}

fn example(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n}=1"))
        .collect::<Vec<_>>()
        .join(",")
}

fn verdict_id(v: &Verdict) -> &'static str {
    match v {
        Verdict::Regular => "regular",
        Verdict::Singular { .. } => "singular",
        Verdict::Undecided { .. } => "undecided",
        Verdict::NotPositive => "not_positive",
    }
}

fn finite_or_null(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

fn matrix_json(m: &nalgebra::DMatrix<f64>) -> Value {
    Value::Array(
        (0..m.nrows())
            .map(|i| Value::Array((0..m.ncols()).map(|j| json!(m[(i, j)])).collect()))
            .collect(),
    )
}

fn numbers_text(
    values: &[(String, f64)],
    n: &FimAtPoint,
    params: &[fimkit::ir::expr::Name],
    style: &TextStyle,
    rows: Option<usize>,
) -> String {
    let name = |s: &str| {
        if style.unicode {
            fimkit::render::text::unicode_name(s)
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let at: Vec<String> = values
        .iter()
        .map(|(k, v)| format!("{} = {}", name(k), report::fmt_value(*v)))
        .collect();
    let _ = writeln!(out, "\nat {}", at.join(", "));
    match rows {
        Some(r) => {
            let _ = writeln!(
                out,
                "  Fisher information of the {r} rows (the per-row closed form summed)"
            );
        }
        None => {
            let _ = writeln!(out, "  Fisher information");
        }
    }
    let wide = n.wide.as_ref();
    let labels: Vec<String> = params.iter().map(|p| name(p)).collect();
    out.push_str(&labelled_numbers(
        &cells(&n.fim, wide.map(|w| &w.fim)),
        &labels,
        "    ",
    ));
    match &n.verdict {
        Verdict::Regular => {
            let det = match wide {
                Some(w) => w.det.sci(6),
                None => fmt_num(n.det),
            };
            let cond = if n.condition.is_finite() {
                fmt_num(n.condition)
            } else {
                "beyond 1e308".to_string()
            };
            let _ = writeln!(out, "  det F = {det}, condition number {cond}");
        }
        Verdict::Singular { .. } => {
            let _ = writeln!(out, "  det F = 0, condition number ∞ (singular)");
        }
        Verdict::Undecided {
            scaled_min_eigenvalue,
        } => {
            let _ = writeln!(
                out,
                "  det F cannot be told from 0 in double precision here: the scaled F \
                 (unit diagonal) has smallest eigenvalue {scaled_min_eigenvalue:.1e}, at the \
                 rounding level; F may be singular or only ill-conditioned beyond 1e16, \
                 so fimkit reports no F⁻¹"
            );
        }
        Verdict::NotPositive => {
            let _ = writeln!(
                out,
                "  det F = {}; F is not positive semi-definite here (a negative eigenvalue)",
                fmt_num(n.det)
            );
        }
    }
    let inverse = match (wide.and_then(|w| w.inverse.as_ref()), &n.inverse) {
        (Some(w), _) => Some(cells(
            &n.inverse.clone().unwrap_or_else(|| n.fim.clone()),
            Some(w),
        )),
        (None, Some(inv)) => Some(cells(inv, None)),
        (None, None) => None,
    };
    let se_of = |i: usize| match wide.and_then(|w| w.inverse.as_ref()) {
        Some(w) => w[i][i].sqrt().map_or("?".to_string(), fmt_wide),
        None => n
            .inverse
            .as_ref()
            .map_or("?".to_string(), |inv| fmt_num(inv[(i, i)].sqrt())),
    };
    if let Some(inv) = inverse {
        let (bound, se_label) = match rows {
            Some(_) => ("  Cramér–Rao bound for this dataset:", "  standard errors:"),
            None => (
                "  Cramér–Rao bound for one observation (divide by N for N):",
                "  standard errors for one observation (divide by √N):",
            ),
        };
        let _ = writeln!(out, "{bound}");
        out.push_str(&labelled_numbers(&inv, &labels, "    "));
        let se: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{} {}", name(p), se_of(i)))
            .collect();
        let _ = writeln!(out, "{se_label} {}", se.join(", "));
    }
    if style.unicode {
        out
    } else {
        report::asciify(&out)
    }
}

/// Six significant digits, plain for moderate magnitudes.
fn fmt_num(x: f64) -> String {
    fimkit::number::significant(x, 6, 1e6, false)
}

/// A wide number: as [`fmt_num`] inside f64's normal range, else in
/// scientific notation.
fn fmt_wide(x: Wide) -> String {
    let v = x.to_f64();
    if x.is_zero() || v.is_normal() {
        fmt_num(v)
    } else {
        x.sci(6)
    }
}

/// The cells of a matrix, from its wide values where there are any.
fn cells(m: &nalgebra::DMatrix<f64>, wide: Option<&Vec<Vec<Wide>>>) -> Vec<Vec<String>> {
    (0..m.nrows())
        .map(|i| {
            (0..m.ncols())
                .map(|j| match wide {
                    Some(w) => fmt_wide(w[i][j]),
                    None => fmt_num(m[(i, j)]),
                })
                .collect()
        })
        .collect()
}
