//! `fimkit fit`: maximum likelihood on a CSV file by Fisher scoring,
//! natural gradient, Newton or gradient descent; standard errors, Wald
//! intervals, a trajectory file and plots.

use super::points;
use super::{Failure, Format, Report, load_model};
use fimkit::fit::{
    FitConfig, FitError, FitResult, Method, Objective, Problem, SeKind, TraceRow, fit_observed,
};
use fimkit::numeric::{DataError, NumericError};
use fimkit::render::fit::{FitTextOptions, fit_json, fit_text, trace_csv};
use nalgebra::DVector;
use std::io::IsTerminal;
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
    let data = schema.read_csv_path(args.data).map_err(|e| match e {
        DataError::Io(_) => Failure::usage(e.to_string()),
        e => Failure::model(format!("{}: {e}", args.data.display())),
    })?;
    let problem = Problem::new(model, data)?;
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
        let clusters = match args.cluster {
            Some(col) => Some((col, cluster_ids(args.data, col, problem.n_rows())?)),
            None => None,
        };
        let c = clusters.as_ref().map(|(col, ids)| (*col, ids.as_slice()));
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
    let data_name = args.data.display().to_string();
    let opts = FitTextOptions {
        ascii: args.ascii,
        data: Some(data_name.clone()),
        show_unconverged_tests: args.show_unconverged_tests,
    };
    let out = match args.format {
        FitFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&fit_json(&result, &opts)).expect("JSON")
        ),
        FitFormat::Text => fit_text(&result, &opts),
    };
    if result.converged() {
        return Ok(Report::output(out));
    }
    // Not converged: the provisional report, a warning, exit 1.
    let hidden = if args.show_unconverged_tests {
        ""
    } else {
        "; z values, p-values and intervals are not shown (--show-unconverged-tests shows them)"
    };
    let warning = format!(
        "warning: the fit did not converge ({}); the estimates are provisional{hidden}",
        result
            .stop
            .describe(result.tol)
            .trim_start_matches("not converged: ")
    );
    Err(Failure::plain(super::EXIT_MODEL_ERROR, warning).after(Report::output(out)))
}

/// The cluster of each row: the distinct values of column `col`
/// (compared as text), numbered in order of first appearance.
fn cluster_ids(path: &Path, col: &str, n: usize) -> Result<Vec<usize>, Failure> {
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let headers = reader
        .headers()
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let j = headers
        .iter()
        .position(|h| h.trim() == col)
        .ok_or_else(|| {
            Failure::usage(format!(
                "--cluster {col}: {} has no column `{col}`",
                path.display()
            ))
        })?;
    let mut seen = std::collections::HashMap::new();
    let mut ids = Vec::with_capacity(n);
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
        let v = rec.get(j).unwrap_or("").trim().to_string();
        if v.is_empty() {
            return Err(Failure::model(format!(
                "{}: row {}: the cluster column `{col}` is empty",
                path.display(),
                i + 1
            )));
        }
        let next = seen.len();
        ids.push(*seen.entry(v).or_insert(next));
    }
    if ids.len() != n {
        return Err(Failure::model(format!(
            "{}: the cluster column `{col}` has {} rows, the data {n}",
            path.display(),
            ids.len()
        )));
    }
    Ok(ids)
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
