//! `fimkit fit`: maximum likelihood on a CSV file by Fisher scoring,
//! natural gradient, Newton or gradient descent; standard errors, Wald
//! intervals, a trajectory file and plots.

use super::points;
use super::{Failure, Format, Report, load_model};
use fimkit::fit::{
    FitConfig, FitError, FitResult, Method, Objective, Problem, SeKind, TraceRow, fit_observed,
};
use fimkit::numeric::formats::{self, DataFormat, Table, TableColumn};
use fimkit::numeric::{DataError, NumericError};
use fimkit::render::fit::{
    FitTextOptions, fit_json, fit_text, predictions_csv, predictions_json, predictions_text,
    residuals_csv, trace_csv,
};
use nalgebra::DVector;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Methods on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum MethodArg {
    /// Fisher scoring: steps F⁻¹∇ℓ of size 1 with a line search.
    FisherScoring,
    /// Natural gradient with a KL trust region (--lr, --max-kl).
    Natural,
    /// Newton's method on the observed information.
    Newton,
    /// Plain gradient descent (--lr, or a line search without it).
    Gd,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Method {
        match m {
            MethodArg::FisherScoring => Method::FisherScoring,
            MethodArg::Natural => Method::Natural,
            MethodArg::Newton => Method::Newton,
            MethodArg::Gd => Method::GradientDescent,
        }
    }
}

/// Output formats of `fit`.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum FitFormat {
    /// A coefficient table.
    Text,
    /// JSON for programs.
    Json,
}

/// Interval kinds on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum CiArg {
    /// Wald: estimate ± z·SE.
    Wald,
    /// Profile likelihood: where 2(ℓ̂ − ℓ_p) reaches the χ²₁ quantile.
    Profile,
}

/// Standard-error kinds on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum SeArg {
    /// The expected (Fisher) information's inverse (the default).
    Expected,
    /// The observed information's inverse.
    Observed,
    /// The sandwich F⁻¹ (Σ sᵢsᵢᵀ) F⁻¹, robust to a misspecified model.
    Sandwich,
}

/// What `fit` does with a missing value.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum NaArg {
    /// Stop with an error naming the row and column (the default).
    Error,
    /// Drop every row with a missing value in a column the fit uses.
    Drop,
}

/// Options of `fimkit fit`.
pub struct FitArgs<'a> {
    pub model: &'a Path,
    pub data: &'a Path,
    pub method: MethodArg,
    pub lr: Option<f64>,
    pub max_kl: Option<f64>,
    pub max_iter: usize,
    pub tol: f64,
    pub init: &'a [String],
    pub format: FitFormat,
    pub trace: Option<&'a PathBuf>,
    pub plot: Option<&'a PathBuf>,
    pub ascii: bool,
    pub show_unconverged_tests: bool,
    pub level: f64,
    pub ci: CiArg,
    pub se: SeArg,
    pub cluster: Option<&'a str>,
    pub weights: Option<&'a str>,
    pub na: NaArg,
    pub predict: Option<&'a Path>,
    pub predict_expr: Option<&'a str>,
    pub predict_out: Option<&'a Path>,
    pub residuals: Option<&'a Path>,
}

impl From<FitError> for Failure {
    fn from(e: FitError) -> Failure {
        match &e {
            FitError::Numeric(NumericError::Data(DataError::Io(_))) => {
                Failure::usage(e.to_string())
            }
            FitError::Config(_) => Failure::usage(e.to_string()),
            _ => Failure::model(e.to_string()),
        }
    }
}

/// Run `fimkit fit`.
pub fn fit_cmd(args: &FitArgs) -> Result<Report, Failure> {
    let load_format = match args.format {
        FitFormat::Json => Format::Json,
        FitFormat::Text => Format::Text,
    };
    let (model, _source) = load_model(args.model, load_format)?;
    run(&model, args)
}

fn run(model: &fimkit::ir::Model, args: &FitArgs) -> Result<Report, Failure> {
    if !(args.level > 0.0 && args.level < 1.0) {
        return Err(Failure::usage(format!(
            "--level must be between 0 and 1 (exclusive), got {}",
            args.level
        )));
    }
    if args.cluster.is_some() && args.se != SeArg::Sandwich {
        return Err(Failure::usage(
            "--cluster gives cluster-robust sandwich standard errors: add --se sandwich",
        ));
    }
    let schema = fimkit::numeric::DataSchema::from_model(model);
    let loaded = load_data(&schema, args)?;
    let mut problem = Problem::new(model, loaded.data)?;
    if let Some(w) = loaded.weights {
        problem = problem.with_weights(w)?;
    }
    let init = start_point(&problem, args.init)?;
    let config = FitConfig {
        method: args.method.into(),
        lr: args.lr,
        max_kl: args.max_kl,
        max_iter: args.max_iter,
        tol: args.tol,
        // Without --init the library may restart from a start on the
        // data's scale when the default one fails.
        init: (!args.init.is_empty()).then(|| init.clone()),
    };
    let mut progress = Progress::new(args.max_iter);
    let result = fit_observed(&problem, &config, &mut |row| progress.update(row));
    progress.finish();
    let mut result = result?;
    result.level = args.level;
    if args.se == SeArg::Sandwich {
        let c = args.cluster.zip(loaded.clusters.as_deref());
        result.sandwich = Some(fimkit::fit::sandwich(&problem, &result, c)?);
    }
    result.se = match args.se {
        SeArg::Expected => SeKind::Expected,
        SeArg::Observed => SeKind::Observed,
        SeArg::Sandwich => SeKind::Sandwich,
    };
    // Profile intervals only at a maximum: elsewhere they mean nothing.
    if args.ci == CiArg::Profile && result.converged() {
        result.profile = Some(fimkit::fit::profile_intervals(
            &problem, &result, args.level,
        ));
    }
    if let Some(path) = args.trace {
        std::fs::write(path, trace_csv(&result.params, &result.trace)).map_err(|e| {
            Failure::usage(format!("cannot write the trace to {}: {e}", path.display()))
        })?;
    }
    if let Some(path) = args.plot {
        plot(&problem, &config, &result, path)?;
    }
    // Predictions and residuals only at a maximum: elsewhere the
    // estimates are provisional.
    let predictions = match args.predict {
        Some(path) if result.converged() => {
            Some(predictions(model, &problem, &result, path, args)?)
        }
        _ => None,
    };
    if let Some(path) = args.residuals
        && result.converged()
    {
        let (y, res) = fimkit::fit::residuals(model, &problem, &result)
            .map_err(|e| Failure::model(format!("--residuals: {e}")))?;
        let rows: Vec<usize> = match &loaded.rows {
            Some(r) => r.clone(),
            None => (1..=res.len()).collect(),
        };
        std::fs::write(path, residuals_csv(&y, &rows, &res)).map_err(|e| {
            Failure::usage(format!(
                "cannot write the residuals to {}: {e}",
                path.display()
            ))
        })?;
    }
    if let (Some(p), Some(path)) = (&predictions, args.predict_out) {
        std::fs::write(path, predictions_csv(p)).map_err(|e| {
            Failure::usage(format!(
                "cannot write the predictions to {}: {e}",
                path.display()
            ))
        })?;
    }
    let data_name = args.data.display().to_string();
    let opts = FitTextOptions {
        ascii: args.ascii,
        data: Some(data_name.clone()),
        show_unconverged_tests: args.show_unconverged_tests,
        weights: args.weights.map(str::to_string),
        na_dropped: (args.na == NaArg::Drop).then_some(loaded.dropped),
    };
    let out = match args.format {
        FitFormat::Json => {
            let mut doc = fit_json(&result, &opts);
            if let (Some(p), Some(obj)) = (&predictions, doc.as_object_mut()) {
                obj.insert("predictions".into(), predictions_json(p));
            }
            format!("{}\n", serde_json::to_string_pretty(&doc).expect("JSON"))
        }
        FitFormat::Text => {
            let mut text = fit_text(&result, &opts);
            if let (Some(p), None) = (&predictions, args.predict_out) {
                text.push_str(&predictions_text(p, args.ascii));
            }
            text
        }
    };
    if result.converged() {
        return Ok(Report::output(out));
    }
    let skipped = match (args.predict, args.residuals) {
        (None, None) => "",
        _ => "; no predictions or residuals were made",
    };
    // Not converged: the provisional report, a warning, exit 1.
    let hidden = if args.show_unconverged_tests {
        ""
    } else {
        "; z values, p-values and intervals are not shown (--show-unconverged-tests shows them)"
    };
    let warning = format!(
        "warning: the fit did not converge ({}); the estimates are provisional{hidden}{skipped}",
        result
            .stop
            .describe(result.tol)
            .trim_start_matches("not converged: ")
    );
    Err(Failure::plain(super::EXIT_MODEL_ERROR, warning).after(Report::output(out)))
}

/// The data of a fit, with the weight and cluster of each row.
pub(super) struct Loaded {
    pub(super) data: fimkit::numeric::Dataset,
    pub(super) weights: Option<Vec<f64>>,
    pub(super) clusters: Option<Vec<usize>>,
    /// Rows dropped for a missing value (`--na drop`).
    pub(super) dropped: usize,
    /// The file's row number (from 1) of each row kept, when rows were
    /// dropped.
    pub(super) rows: Option<Vec<usize>>,
}

/// What a missing value looks like in a cell: empty, `NA`, `N/A`, `NaN`
/// or `NULL`, in any case.
fn is_missing(text: &str) -> bool {
    let t = text.trim();
    t.is_empty()
        || ["na", "n/a", "nan", "null"]
            .iter()
            .any(|m| t.eq_ignore_ascii_case(m))
}

const NA_HINT: &str = " (a missing value: --na drop drops the rows that have one)";

/// The hint to add to a data error that is a missing value.
fn na_hint(e: &DataError) -> &'static str {
    match e {
        DataError::NotANumber { text, .. } if is_missing(text) => NA_HINT,
        DataError::NonFinite { value, .. } if value.is_nan() => NA_HINT,
        _ => "",
    }
}

/// Read the data file for `args`: the model's inputs, the `--weights` and
/// `--cluster` columns, rows with a missing value in any of them dropped
/// under `--na drop`. Without those options the fast block reader alone.
pub(super) fn load_data(
    schema: &fimkit::numeric::DataSchema,
    args: &FitArgs,
) -> Result<Loaded, Failure> {
    let path = args.data;
    let shown = path.display();
    let read_err = |e: DataError| match e {
        DataError::Io(_) => Failure::usage(e.to_string()),
        e => Failure::model(format!("{shown}: {e}{}", na_hint(&e))),
    };
    let format = DataFormat::of(path).map_err(read_err)?;
    if args.na == NaArg::Error && args.weights.is_none() && args.cluster.is_none() {
        return Ok(Loaded {
            data: schema.read_path(path).map_err(read_err)?,
            weights: None,
            clusters: None,
            dropped: 0,
            rows: None,
        });
    }
    let DataFormat::Delimited { delimiter, gzip } = format else {
        return load_table(schema, args);
    };
    // The whole text (standard input can be read only once).
    let mut bytes = Vec::new();
    formats::open_delimited(path, gzip)
        .map_err(read_err)?
        .read_to_end(&mut bytes)
        .map_err(|e| read_err(DataError::Io(format!("{shown}: {e}"))))?;
    // The canonical error of a file the csv crate cannot read.
    let canonical = |fallback: String| match schema.read_delimited(bytes.as_slice(), delimiter) {
        Err(e) => read_err(e),
        Ok(_) => Failure::model(format!("{shown}: {fallback}")),
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return Err(canonical(e.to_string())),
    };
    let find = |flag: &str, col: &str| {
        header
            .iter()
            .position(|h| h == col)
            .ok_or_else(|| Failure::usage(format!("--{flag} {col}: {shown} has no column `{col}`")))
    };
    let wj = args.weights.map(|c| find("weights", c)).transpose()?;
    let cj = args.cluster.map(|c| find("cluster", c)).transpose()?;
    let mut used = schema.header_columns(&header).map_err(read_err)?;
    used.extend(wj);
    used.extend(cj);
    // (line, row from 1, record) of each row kept.
    let mut kept = Vec::new();
    let mut dropped = 0;
    for (i, rec) in reader.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => return Err(canonical(e.to_string())),
        };
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        if args.na == NaArg::Drop && used.iter().any(|&j| is_missing(rec.get(j).unwrap_or(""))) {
            dropped += 1;
            continue;
        }
        kept.push((line, i + 1, rec));
    }
    let data = if dropped == 0 {
        schema
            .read_delimited(bytes.as_slice(), delimiter)
            .map_err(read_err)?
    } else if kept.is_empty() {
        return Err(Failure::model(format!(
            "{shown}: every one of the {dropped} rows has a missing value (--na drop dropped them all)"
        )));
    } else {
        // The rows kept, read as a file of their own; errors name the
        // rows and lines of the original file.
        let write = || -> Result<Vec<u8>, String> {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&header).map_err(|e| e.to_string())?;
            for (_, _, rec) in &kept {
                w.write_record(rec).map_err(|e| e.to_string())?;
            }
            w.into_inner().map_err(|e| e.to_string())
        };
        let buf = write().map_err(|e| Failure::model(format!("{shown}: {e}")))?;
        schema.read_csv(buf.as_slice()).map_err(|mut e| {
            relocate(&mut e, &kept);
            read_err(e)
        })?
    };
    let place = |line: u64, row: usize| format!("{shown}: line {line} (row {row})");
    let weights = match (wj, args.weights) {
        (Some(j), Some(col)) => Some(
            kept.iter()
                .map(|(line, row, rec)| {
                    let text = rec.get(j).unwrap_or("");
                    let what = if text.is_empty() {
                        "the cell is empty (a weight is needed)".to_string()
                    } else {
                        format!("the weight `{text}` is not a finite number ≥ 0")
                    };
                    match text.parse::<f64>() {
                        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                        _ => Err(Failure::model(format!(
                            "{}, column `{col}`: {what}{}",
                            place(*line, *row),
                            if is_missing(text) { NA_HINT } else { "" }
                        ))),
                    }
                })
                .collect::<Result<Vec<f64>, Failure>>()?,
        ),
        _ => None,
    };
    if let (Some(w), Some(col)) = (&weights, args.weights)
        && w.iter().all(|&v| v == 0.0)
    {
        return Err(Failure::model(format!(
            "{shown}: every weight in column `{col}` is 0: there is nothing to fit"
        )));
    }
    let clusters = match (cj, args.cluster) {
        (Some(j), Some(col)) => {
            let mut seen = std::collections::HashMap::new();
            let mut ids = Vec::with_capacity(kept.len());
            for (line, row, rec) in &kept {
                let v = rec.get(j).unwrap_or("");
                if v.is_empty() {
                    return Err(Failure::model(format!(
                        "{}: the cluster column `{col}` is empty{NA_HINT}",
                        place(*line, *row)
                    )));
                }
                let next = seen.len();
                ids.push(*seen.entry(v.to_string()).or_insert(next));
            }
            Some(ids)
        }
        _ => None,
    };
    let rows = (dropped > 0).then(|| kept.iter().map(|(_, r, _)| *r).collect());
    Ok(Loaded {
        data,
        weights,
        clusters,
        dropped,
        rows,
    })
}

/// The predictions of `args.predict_expr` (else the mean) at the rows of
/// the CSV file `path`: its columns named by the model's covariates that
/// the quantity uses (others are ignored); every cell a finite number
/// inside its covariate's domain, else an error naming line, row and
/// column.
fn predictions(
    model: &fimkit::ir::Model,
    problem: &Problem,
    result: &FitResult,
    path: &Path,
    args: &FitArgs,
) -> Result<fimkit::fit::Predictions, Failure> {
    let target = match args.predict_expr {
        Some(n) => fimkit::fit::Target::Named(n),
        None => fimkit::fit::Target::Mean,
    };
    let q = fimkit::fit::Quantity::new(model, problem, target).map_err(|e| {
        match args.predict_expr {
            Some(n) => Failure::model(format!("--predict-expr {n}: {e}")),
            None => Failure::model(format!("--predict: {e}")),
        }
    })?;
    let shown = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| Failure::usage(format!("--predict {shown}: {e}")))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Failure::model(format!("--predict {shown}: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let cols = q
        .inputs
        .iter()
        .map(|n| {
            header.iter().position(|h| **h == **n).ok_or_else(|| {
                Failure::usage(format!(
                    "--predict {shown}: no column `{n}` (`{}` needs the covariates {})",
                    q.name,
                    q.inputs
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        })
        .collect::<Result<Vec<usize>, Failure>>()?;
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Failure::model(format!("--predict {shown}: {e}")))?;
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        let place = format!("--predict {shown}: line {line} (row {})", i + 1);
        let mut xs = Vec::with_capacity(cols.len());
        for (k, &j) in cols.iter().enumerate() {
            let text = rec.get(j).unwrap_or("");
            let col = &q.inputs[k];
            let v = text.parse::<f64>().map_err(|_| {
                let what = if is_missing(text) {
                    "is missing".to_string()
                } else {
                    format!("`{text}` is not a number")
                };
                Failure::model(format!("{place}, column `{col}`: {what}"))
            })?;
            q.check_input(k, v)
                .map_err(|e| Failure::model(format!("{place}, column `{col}`: {e}")))?;
            xs.push(v);
        }
        let p = q
            .predict(result, &xs)
            .map_err(|e| Failure::model(format!("{place}: {e}")))?;
        rows.push((i + 1, xs, p));
    }
    if rows.is_empty() {
        return Err(Failure::model(format!(
            "--predict {shown}: the file has no rows to predict at"
        )));
    }
    Ok(fimkit::fit::Predictions {
        quantity: q.name.clone(),
        interval: q.interval,
        level: result.level,
        inputs: q.inputs.clone(),
        rows,
    })
}

/// [`load_data`] for a Parquet or Arrow file with `--weights`,
/// `--cluster` or `--na drop`: a null or NaN is a missing value, rows are
/// numbered from 1 in the file.
fn load_table(schema: &fimkit::numeric::DataSchema, args: &FitArgs) -> Result<Loaded, Failure> {
    let path = args.data;
    let shown = path.display();
    let read_err = |e: DataError| match e {
        DataError::Io(_) => Failure::usage(e.to_string()),
        e => Failure::model(format!("{shown}: {e}{}", na_hint(&e))),
    };
    let extra = |header: &[String]| -> Vec<usize> {
        [args.weights, args.cluster]
            .into_iter()
            .flatten()
            .filter_map(|c| header.iter().position(|h| h == c))
            .collect()
    };
    let table: Table = formats::read_table(path, &|header| {
        let mut used = schema.header_columns(header)?;
        used.extend(extra(header));
        Ok(used)
    })
    .map_err(read_err)?;
    let find =
        |flag: &str, col: &str| {
            table.header.iter().position(|h| h == col).ok_or_else(|| {
                Failure::usage(format!("--{flag} {col}: {shown} has no column `{col}`"))
            })
        };
    let wj = args.weights.map(|c| find("weights", c)).transpose()?;
    let cj = args.cluster.map(|c| find("cluster", c)).transpose()?;
    let mut used = schema.header_columns(&table.header).map_err(read_err)?;
    used.extend(wj);
    used.extend(cj);
    let missing = |j: usize, r: usize| match &table.columns[j] {
        TableColumn::Numbers(v) => v[r].is_none_or(f64::is_nan),
        TableColumn::Text(v) => v[r].as_deref().is_none_or(is_missing),
        _ => false,
    };
    let mut kept = Vec::with_capacity(table.n_rows);
    let mut dropped = 0;
    for r in 0..table.n_rows {
        if args.na == NaArg::Drop && used.iter().any(|&j| missing(j, r)) {
            dropped += 1;
        } else {
            kept.push(r);
        }
    }
    if kept.is_empty() && dropped > 0 {
        return Err(Failure::model(format!(
            "{shown}: every one of the {dropped} rows has a missing value (--na drop dropped them all)"
        )));
    }
    let data = schema
        .dataset_from_table(&table, Some(&kept))
        .map_err(read_err)?;
    let place = |r: usize| format!("{shown}: row {}", r + 1);
    let not_numbers = |col: &str, t: String, what: &str| {
        Failure::model(format!(
            "{shown}: column `{col}` has type {t}; {what} must be numbers"
        ))
    };
    let weights = match (wj, args.weights) {
        (Some(j), Some(col)) => {
            let TableColumn::Numbers(v) = &table.columns[j] else {
                return Err(not_numbers(col, table.columns[j].type_name(), "weights"));
            };
            let weights = kept
                .iter()
                .map(|&r| match v[r] {
                    Some(w) if w.is_finite() && w >= 0.0 => Ok(w),
                    Some(w) => Err(Failure::model(format!(
                        "{}, column `{col}`: the weight `{w}` is not a finite number ≥ 0{}",
                        place(r),
                        if w.is_nan() { NA_HINT } else { "" }
                    ))),
                    None => Err(Failure::model(format!(
                        "{}, column `{col}`: the cell is empty (a weight is needed){NA_HINT}",
                        place(r)
                    ))),
                })
                .collect::<Result<Vec<f64>, Failure>>()?;
            if weights.iter().all(|&w| w == 0.0) {
                return Err(Failure::model(format!(
                    "{shown}: every weight in column `{col}` is 0: there is nothing to fit"
                )));
            }
            Some(weights)
        }
        _ => None,
    };
    let clusters = match (cj, args.cluster) {
        (Some(j), Some(col)) => {
            // A cluster's key: its text, or its number's bits.
            let key = |r: usize| -> Option<String> {
                match &table.columns[j] {
                    TableColumn::Numbers(v) => v[r].map(|x| format!("{:x}", x.to_bits())),
                    TableColumn::Text(v) => v[r].clone().filter(|s| !s.is_empty()),
                    _ => None,
                }
            };
            if let TableColumn::Other(t) = &table.columns[j] {
                return Err(not_numbers(col, t.clone(), "cluster labels"));
            }
            let mut seen = std::collections::HashMap::new();
            let mut ids = Vec::with_capacity(kept.len());
            for &r in &kept {
                let Some(k) = key(r) else {
                    return Err(Failure::model(format!(
                        "{}: the cluster column `{col}` is empty{NA_HINT}",
                        place(r)
                    )));
                };
                let next = seen.len();
                ids.push(*seen.entry(k).or_insert(next));
            }
            Some(ids)
        }
        _ => None,
    };
    // The file's row number (from 1) of each row kept.
    let rows = (dropped > 0).then(|| kept.iter().map(|&r| r + 1).collect());
    Ok(Loaded {
        data,
        weights,
        clusters,
        dropped,
        rows,
    })
}

/// An error at row r of the rows kept, moved to that row's place in the
/// original file.
fn relocate(e: &mut DataError, kept: &[(u64, usize, csv::StringRecord)]) {
    match e {
        DataError::NotANumber { line, row, .. }
        | DataError::NonFinite { line, row, .. }
        | DataError::OutOfSupport { line, row, .. } => {
            if let Some((l, r, _)) = row.checked_sub(1).and_then(|i| kept.get(i)) {
                *line = Some(*l);
                *row = *r;
            }
        }
        DataError::Csv { line, .. } => *line = None,
        _ => {}
    }
}

/// The start: the model's default, with `--init` values replacing some.
fn start_point(problem: &Problem, init: &[String]) -> Result<DVector<f64>, Failure> {
    let mut start = problem.default_start();
    let names = problem.param_names();
    let assignments = points::parse(init).map_err(|e| Failure::usage(format!("--init: {e}")))?;
    let values =
        points::expand(&assignments, &names).map_err(|e| Failure::usage(format!("--init: {e}")))?;
    for (name, v) in values {
        if let Some(i) = names.iter().position(|n| **n == *name) {
            start[i] = v;
        }
    }
    Ok(start)
}

/// Plot the fit; for two parameters the other methods' trajectories from
/// the same start are overlaid.
fn plot(
    problem: &Problem,
    config: &FitConfig,
    result: &FitResult,
    path: &Path,
) -> Result<(), Failure> {
    let mut runs: Vec<fimkit::fit::plot::Run> =
        vec![(result.method, result.trace.clone(), result.converged())];
    for m in [
        Method::FisherScoring,
        Method::Natural,
        Method::GradientDescent,
    ] {
        if m == result.method {
            continue;
        }
        let c = FitConfig {
            method: m,
            lr: None,
            max_kl: if m == Method::Natural {
                config.max_kl
            } else {
                None
            },
            max_iter: config.max_iter.max(200),
            ..config.clone()
        };
        // A method that fails to converge still has a trajectory to show.
        let mut rows = Vec::new();
        let done = fimkit::fit::optimize(
            problem,
            c.init.clone().unwrap_or_else(|| problem.default_start()),
            &c,
            &mut |r| rows.push(r.clone()),
        )
        .is_ok_and(|o| o.stop.converged());
        runs.push((m, rows, done));
    }
    fimkit::fit::plot::plot_fit(problem, result, &runs, path)
        .map_err(|e| Failure::usage(format!("cannot draw {}: {e}", path.display())))
}

/// A progress bar on stderr for fits that take more than half a second,
/// when stderr is a terminal.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    max: usize,
    tty: bool,
}

impl Progress {
    fn new(max: usize) -> Progress {
        Progress {
            bar: None,
            start: Instant::now(),
            max,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn update(&mut self, row: &TraceRow) {
        if !self.tty {
            return;
        }
        if self.bar.is_none() && self.start.elapsed() > Duration::from_millis(500) {
            let bar = indicatif::ProgressBar::new(self.max as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} iteration {pos}/{len} {wide_bar} {msg} [{elapsed}]",
            ) {
                bar.set_style(style);
            }
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(row.iteration as u64);
            let dec = row
                .decrement
                .map_or(String::new(), |d| format!(", decrement {d:.2e}"));
            bar.set_message(format!("loss {:.8}{dec}", row.loss));
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
