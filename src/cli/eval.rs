//! `fimkit eval`: exact numbers at a parameter point — the log-density,
//! score and Hessian at one observation, or the log-likelihood, gradient,
//! observed information and empirical Fisher over a CSV file.

use super::points;
use super::{Failure, Format, Report, load_model};
use fimkit::numeric::{DataError, ModelFunctions, NumericError};
use nalgebra::{DMatrix, DVector};
use std::path::Path;

/// Output formats of `eval`.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum EvalFormat {
    /// Readable text.
    Text,
    /// JSON for programs.
    Json,
}

/// Options of `fimkit eval`.
pub struct EvalArgs<'a> {
    pub model: &'a Path,
    pub at: &'a [String],
    pub data: Option<&'a Path>,
    pub format: EvalFormat,
    pub ascii: bool,
}

impl From<NumericError> for Failure {
    fn from(e: NumericError) -> Failure {
        match e {
            NumericError::Data(DataError::Io(_)) => Failure::usage(e.to_string()),
            _ => Failure::model(e.to_string()),
        }
    }
}

/// Run `fimkit eval`.
pub fn eval_cmd(args: &EvalArgs) -> Result<Report, Failure> {
    let load_format = match args.format {
        EvalFormat::Json => Format::Json,
        EvalFormat::Text => Format::Text,
    };
    let (model, _source) = load_model(args.model, load_format)?;
    run(&model, args)
}

fn run(model: &fimkit::ir::Model, args: &EvalArgs) -> Result<Report, Failure> {
    let f = ModelFunctions::new(model)?;
    let assignments = points::parse(args.at).map_err(|e| Failure::usage(format!("--at: {e}")))?;
    let params = f.param_names();
    let inputs = f.input_names();
    let mut accepted: Vec<&str> = params.iter().map(|n| &**n).collect();
    if args.data.is_none() {
        accepted.extend(inputs.iter().map(|n| &**n));
    }
    let values = points::expand(&assignments, &accepted).map_err(|e| {
        let hint = if args.data.is_some()
            && assignments.iter().any(|a| {
                inputs
                    .iter()
                    .any(|n| **n == *a.name || n.starts_with(&format!("{}[", a.name)))
            }) {
            " (with --data, data and covariate values come from the file)"
        } else {
            ""
        };
        Failure::model(format!("--at: {e}{hint}"))
    })?;
    let pick = |names: &[fimkit::ir::expr::Name]| -> Vec<(&str, f64)> {
        values
            .iter()
            .filter(|(n, _)| names.iter().any(|m| **m == **n))
            .map(|(n, v)| (n.as_str(), *v))
            .collect()
    };
    let theta = f.params_by_name(&pick(&params)).map_err(|e| {
        Failure::model(format!(
            "{e}: give every parameter in --at, e.g. --at {}",
            example(&params)
        ))
    })?;
    let at_json: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .zip(theta.iter())
        .map(|(n, v)| (n.to_string(), num(*v)))
        .collect();
    match args.data {
        None => {
            let x = f.inputs_by_name(&pick(&inputs)).map_err(|e| match e {
                NumericError::MissingValue { .. } => Failure::model(format!(
                    "{e}: without --data, give the data values in --at too, e.g. --at {},{}",
                    example(&params),
                    example(&inputs)
                )),
                e => e.into(),
            })?;
            let d = f.derivatives(&theta, &x)?;
            Ok(Report::output(match args.format {
                EvalFormat::Json => {
                    let inputs_json: serde_json::Map<String, serde_json::Value> = inputs
                        .iter()
                        .zip(x.iter())
                        .map(|(n, v)| (n.to_string(), num(*v)))
                        .collect();
                    let out = serde_json::json!({
                        "schema": fimkit::render::json::SCHEMA,
                        "ok": true,
                        "model": f.name(),
                        "parameters": names_json(&params),
                        "at": at_json,
                        "inputs": inputs_json,
                        "log_density": num(d.log_density),
                        "score": vec_json(&d.score),
                        "hessian": mat_json(&d.hessian),
                    });
                    format!("{}\n", serde_json::to_string_pretty(&out).expect("JSON"))
                }
                EvalFormat::Text => {
                    let mut s = format!(
                        "{} at {}\n  with {}\n\n",
                        f.name(),
                        assign_text(&params, &theta),
                        assign_text(&inputs, &x)
                    );
                    s.push_str(&format!("log-density  {}\n\n", fmt_num(d.log_density)));
                    s.push_str("score\n");
                    s.push_str(&vector_text(&params, &d.score));
                    s.push_str("\nHessian of the log-density\n");
                    s.push_str(&matrix_text(&params, &d.hessian));
                    s
                }
            }))
        }
        Some(path) => {
            let data = f.schema().read_path(path).map_err(|e| match e {
                DataError::Io(_) => Failure::usage(e.to_string()),
                e => Failure::model(format!("{}: {e}", path.display())),
            })?;
            let s = f.summary(&theta, &data)?;
            Ok(Report::output(match args.format {
                EvalFormat::Json => {
                    let out = serde_json::json!({
                        "schema": fimkit::render::json::SCHEMA,
                        "ok": true,
                        "model": f.name(),
                        "parameters": names_json(&params),
                        "at": at_json,
                        "data": path.display().to_string(),
                        "n_rows": s.n_rows,
                        "loglik": num(s.loglik),
                        "gradient": vec_json(&s.gradient),
                        "observed_information": mat_json(&s.observed_information),
                        "empirical_fisher": mat_json(&s.empirical_fisher),
                    });
                    format!("{}\n", serde_json::to_string_pretty(&out).expect("JSON"))
                }
                EvalFormat::Text => {
                    let mut out = format!(
                        "{} at {}\n  over {} ({} row{})\n\n",
                        f.name(),
                        assign_text(&params, &theta),
                        path.display(),
                        s.n_rows,
                        if s.n_rows == 1 { "" } else { "s" }
                    );
                    out.push_str(&format!("log-likelihood  {}\n\n", fmt_num(s.loglik)));
                    out.push_str("gradient\n");
                    out.push_str(&vector_text(&params, &s.gradient));
                    let (neg_sum, outer) = if args.ascii {
                        ("-sum of Hessians", "sum of s s^T")
                    } else {
                        ("−Σ Hessian", "Σ s sᵀ")
                    };
                    out.push_str(&format!("\nobserved information ({neg_sum})\n"));
                    out.push_str(&matrix_text(&params, &s.observed_information));
                    out.push_str(&format!("\nempirical Fisher information ({outer})\n"));
                    out.push_str(&matrix_text(&params, &s.empirical_fisher));
                    out
                }
            }))
        }
    }
}

/// `mu=0,sigma=1` for a hint.
fn example(names: &[fimkit::ir::expr::Name]) -> String {
    names
        .iter()
        .map(|n| format!("{n}=..."))
        .collect::<Vec<_>>()
        .join(",")
}

fn num(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn names_json(names: &[fimkit::ir::expr::Name]) -> serde_json::Value {
    serde_json::Value::Array(
        names
            .iter()
            .map(|n| serde_json::Value::String(n.to_string()))
            .collect(),
    )
}

fn vec_json(v: &DVector<f64>) -> serde_json::Value {
    serde_json::Value::Array(v.iter().map(|x| num(*x)).collect())
}

fn mat_json(m: &DMatrix<f64>) -> serde_json::Value {
    serde_json::Value::Array(
        (0..m.nrows())
            .map(|i| serde_json::Value::Array(m.row(i).iter().map(|x| num(*x)).collect()))
            .collect(),
    )
}

/// A number for people: 10 significant digits, trailing zeros dropped,
/// scientific notation outside [1e-4, 1e10).
pub fn fmt_num(v: f64) -> String {
    fimkit::number::significant(v, 10, 1e10, true)
}

fn assign_text(names: &[fimkit::ir::expr::Name], v: &DVector<f64>) -> String {
    names
        .iter()
        .zip(v.iter())
        .map(|(n, x)| format!("{n} = {}", fmt_num(*x)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn vector_text(names: &[fimkit::ir::expr::Name], v: &DVector<f64>) -> String {
    let w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut s = String::new();
    for (n, x) in names.iter().zip(v.iter()) {
        let pad = w - n.chars().count();
        s.push_str(&format!("  {n}{}  {}\n", " ".repeat(pad), fmt_num(*x)));
    }
    s
}

/// A numeric matrix over the parameters, rows and columns labelled.
fn matrix_text(names: &[fimkit::ir::expr::Name], m: &DMatrix<f64>) -> String {
    let cells: Vec<Vec<String>> = (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| fmt_num(m[(i, j)])).collect())
        .collect();
    let labels: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    fimkit::render::matrix::labelled_numbers(&cells, &labels, "  ")
}
