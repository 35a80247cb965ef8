//! `fimkit design`: the optimal approximate design of an experiment at a
//! parameter point, for a criterion, over a box or candidate points, with
//! the equivalence theorem's certificate (exit 1 when it does not hold).

use super::points;
use super::{Failure, Format, Report, load_model};
use fimkit::design::{Criterion, Design, DesignConfig, DesignError, Problem, Space};
use nalgebra::DVector;
use std::path::{Path, PathBuf};

/// Output formats of `design`.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum DesignFormat {
    /// Readable text.
    Text,
    /// JSON for programs.
    Json,
}

/// Options of `fimkit design`.
pub struct DesignArgs<'a> {
    pub model: &'a Path,
    pub at: &'a [String],
    pub space: &'a str,
    pub criterion: &'a str,
    pub fixed: &'a [String],
    pub grid: Option<usize>,
    pub tol: f64,
    pub compare: Option<&'a Path>,
    pub runs: Option<usize>,
    pub plot: Option<&'a PathBuf>,
    pub prior: Option<&'a Path>,
    pub format: DesignFormat,
}

impl From<DesignError> for Failure {
    fn from(e: DesignError) -> Failure {
        match e {
            DesignError::Space(m) => Failure::usage(m),
            DesignError::Model(m) | DesignError::Singular(m) => Failure::model(m),
        }
    }
}

/// Parse `--criterion`: D, A, E, Ds:NAME,NAME..., c:V1,V2,...
pub fn parse_criterion(text: &str, params: &[String]) -> Result<Criterion, String> {
    let t = text.trim();
    let (head, tail) = match t.split_once(':') {
        Some((h, r)) => (h.trim(), Some(r.trim())),
        None => (t, None),
    };
    let expected = "expected D, A, E, Ds:NAME,... (parameters of interest) or c:V1,V2,... (one value per parameter)";
    match (head, tail) {
        ("D" | "d", None) => Ok(Criterion::D),
        ("A" | "a", None) => Ok(Criterion::A),
        ("E" | "e", None) => Ok(Criterion::E),
        ("Ds" | "ds" | "DS", Some(names)) => {
            let mut idx = Vec::new();
            for n in names.split(',').map(str::trim) {
                let Some(i) = params.iter().position(|p| p == n) else {
                    return Err(format!(
                        "`{n}` is not a parameter of the model (its parameters: {})",
                        params.join(", ")
                    ));
                };
                if idx.contains(&i) {
                    return Err(format!("`{n}` is given twice"));
                }
                idx.push(i);
            }
            if idx.len() == params.len() {
                return Err("Ds with every parameter is D: use --criterion D".into());
            }
            idx.sort_unstable();
            Ok(Criterion::Ds(idx))
        }
        ("c" | "C", Some(values)) => {
            let values = values.trim_start_matches('[').trim_end_matches(']');
            let mut c = Vec::new();
            for v in values.split(',') {
                match points::parse_value(v.trim()) {
                    Some(x) if x.is_finite() => c.push(x),
                    _ => return Err(format!("`{}` is not a number", v.trim())),
                }
            }
            if c.len() != params.len() {
                return Err(format!(
                    "c has {} values; the model has {} parameters ({})",
                    c.len(),
                    params.len(),
                    params.join(", ")
                ));
            }
            if c.iter().all(|v| *v == 0.0) {
                return Err("c is zero: there is nothing to estimate".into());
            }
            Ok(Criterion::C(DVector::from_vec(c)))
        }
        ("Ds" | "ds" | "DS" | "c" | "C", None) => Err(format!(
            "`{head}` needs its argument after a colon: {expected}"
        )),
        _ => Err(format!("`{t}`: {expected}")),
    }
}

/// A small CSV of numbers: the header and the rows.
fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>), Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(Failure::model(format!(
            "{}: the file is empty",
            path.display()
        )));
    };
    let names: Vec<String> = header
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != names.len() {
            return Err(Failure::model(format!(
                "{}:{}: {} values, the header has {}",
                path.display(),
                i + 1,
                cells.len(),
                names.len()
            )));
        }
        let mut row = Vec::with_capacity(cells.len());
        for (c, n) in cells.iter().zip(&names) {
            match c.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => row.push(v),
                _ => {
                    return Err(Failure::model(format!(
                        "{}:{}: `{}` in column `{n}` is not a finite number",
                        path.display(),
                        i + 1,
                        c.trim()
                    )));
                }
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Failure::model(format!("{}: no rows", path.display())));
    }
    Ok((names, rows))
}

/// Candidate points from a CSV: the columns that are covariates of the
/// model and not fixed.
fn candidates(
    path: &Path,
    covariates: &[String],
    fixed: &[(String, f64)],
) -> Result<Space, Failure> {
    let (names, rows) = read_csv(path)?;
    let cols: Vec<usize> = (0..names.len())
        .filter(|&i| covariates.contains(&names[i]) && !fixed.iter().any(|(n, _)| *n == names[i]))
        .collect();
    if cols.is_empty() {
        return Err(Failure::model(format!(
            "{}: no column names a covariate of the model ({})",
            path.display(),
            covariates.join(", ")
        )));
    }
    Ok(Space::Candidates {
        names: cols.iter().map(|&i| names[i].clone()).collect(),
        rows: rows
            .iter()
            .flat_map(|r| cols.iter().map(|&i| r[i]))
            .collect(),
    })
}

/// `--fixed`, `--criterion`, `--space` and `--tol`, checked: what a
/// design at one θ and a design over a prior share.
fn settings(
    args: &DesignArgs,
    params: &[String],
    covariates: &[String],
) -> Result<Settings, Failure> {
    let fixed_assign =
        points::parse(args.fixed).map_err(|e| Failure::usage(format!("--fixed: {e}")))?;
    let fixed: Vec<(String, f64)> = fixed_assign
        .iter()
        .map(|a| match a.values.as_slice() {
            [v] if !a.list => Ok((a.name.clone(), *v)),
            _ => Err(Failure::usage(format!("--fixed {}: one value", a.name))),
        })
        .collect::<Result<_, _>>()?;
    let criterion = parse_criterion(args.criterion, params)
        .map_err(|e| Failure::usage(format!("--criterion: {e}")))?;
    let space = if args.space.contains('=') {
        Space::parse_box(args.space)?
    } else {
        candidates(Path::new(args.space), covariates, &fixed)?
    };
    if args.tol.is_nan() || args.tol < 0.0 {
        return Err(Failure::usage("--tol: a number >= 0"));
    }
    Ok(Settings {
        fixed,
        criterion,
        space,
    })
}

/// The checked options [`settings`] returns.
struct Settings {
    fixed: Vec<(String, f64)>,
    criterion: Criterion,
    space: Space,
}

/// `fimkit design --prior FILE.csv`: the Bayesian D-optimal design over
/// the prior samples (one column per parameter), on the candidates.
fn prior_design(
    args: &DesignArgs,
    model: &fimkit::Model,
    ir: &fimkit::ir::Model,
    path: &Path,
) -> Result<Report, Failure> {
    if !args.at.is_empty() {
        return Err(Failure::usage(
            "--prior replaces --at: the design is for the prior's samples",
        ));
    }
    if args.compare.is_some() || args.runs.is_some() || args.plot.is_some() {
        return Err(Failure::usage(
            "--prior does not combine with --compare, --runs or --plot yet",
        ));
    }
    let params = model.param_names();
    let covariates: Vec<String> = ir.covariates.iter().map(|c| c.name.to_string()).collect();
    let (names, rows) = read_csv(path)?;
    let cols: Vec<usize> = params
        .iter()
        .map(|p| {
            names.iter().position(|n| n == p).ok_or_else(|| {
                Failure::model(format!(
                    "{}: no column `{p}` (one column per parameter: {})",
                    path.display(),
                    params.join(", ")
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    if rows.is_empty() {
        return Err(Failure::model(format!("{}: no samples", path.display())));
    }
    let Settings {
        fixed,
        criterion,
        space,
    } = settings(args, &params, &covariates)?;
    let derivation = model.derive();
    let thetas: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| cols.iter().map(|&c| r[c]).collect())
        .collect();
    let mut problems = Vec::with_capacity(thetas.len());
    for (i, theta) in thetas.iter().enumerate() {
        let mut config = DesignConfig::new(criterion.clone(), space.clone());
        config.fixed = fixed.clone();
        config.grid = args.grid;
        config.tol = args.tol;
        let problem = Problem::new(model.ir(), derivation, theta, config)
            .map_err(|e| Failure::model(format!("{}: sample {}: {e}", path.display(), i + 1)))?;
        problems.push(problem);
    }
    let schema = fimkit::numeric::DataSchema::from_model(model.ir()).covariates_only();
    let design = fimkit::design::bayes::solve(&problems, &schema)?;
    let label = "Bayesian D".to_string();
    let mean: Vec<f64> = (0..params.len())
        .map(|j| thetas.iter().map(|t| t[j]).sum::<f64>() / thetas.len() as f64)
        .collect();
    let out = match args.format {
        DesignFormat::Json => json(model, &params, &mean, &label, &design, None, None),
        DesignFormat::Text => text(model, &params, &mean, &label, &design, None, None),
    };
    if design.certificate.certified {
        Ok(Report::output(out))
    } else {
        Err(Failure::model(format!(
            "the design is not certified: max sensitivity {} exceeds 1 + {} \
             (geometric-mean D-efficiency only known to be at least {}); try a larger --tol",
            fimkit::number::fmt_sig(design.certificate.max_sensitivity, 10),
            design.certificate.tol,
            fimkit::number::fmt_sig(design.certificate.efficiency_bound, 6),
        ))
        .after(Report::output(out)))
    }
}

/// Run `fimkit design`.
pub fn design_cmd(args: &DesignArgs) -> Result<Report, Failure> {
    let load_format = match args.format {
        DesignFormat::Json => Format::Json,
        DesignFormat::Text => Format::Text,
    };
    let (ir, _source) = load_model(args.model, load_format)?;
    let model = fimkit::Model::from_source(&_source, &super::file_stem(args.model))
        .map_err(|e| Failure::model(e.to_string()))?;
    let params = model.param_names();
    let covariates: Vec<String> = ir.covariates.iter().map(|c| c.name.to_string()).collect();
    if let Some(path) = args.prior {
        return prior_design(args, &model, &ir, path);
    }
    // θ.
    let assignments = points::parse(args.at).map_err(|e| Failure::usage(format!("--at: {e}")))?;
    let names: Vec<fimkit::ir::expr::Name> = ir.params.iter().map(|p| p.name.clone()).collect();
    let accepted: Vec<&str> = names.iter().map(|n| &**n).collect();
    let values = points::expand(&assignments, &accepted)
        .map_err(|e| Failure::model(format!("--at: {e}")))?;
    let named: Vec<(&str, f64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let theta = model
        .theta(&named)
        .map_err(|e| Failure::model(format!("--at: {e}")))?;
    let Settings {
        fixed,
        criterion,
        space,
    } = settings(args, &params, &covariates)?;
    let mut config = DesignConfig::new(criterion, space);
    config.fixed = fixed;
    config.grid = args.grid;
    config.tol = args.tol;
    let derivation = model.derive();
    let problem = Problem::new(model.ir(), derivation, theta.as_slice(), config)?;
    let schema = fimkit::numeric::DataSchema::from_model(model.ir()).covariates_only();
    let design = problem.solve(&schema)?;
    let comparison = match args.compare {
        Some(path) => Some(compare(&problem, &schema, &design, path)?),
        None => None,
    };
    let exact = match args.runs {
        Some(0) => return Err(Failure::usage("--runs: at least one run")),
        Some(n) => Some((n, problem.exact(&design, n, &schema)?)),
        None => None,
    };
    if let Some(path) = args.plot {
        plot(&problem, &design, path)?;
    }
    let label = problem.config.criterion.label(&params);
    let out = match args.format {
        DesignFormat::Json => json(
            &model,
            &params,
            theta.as_slice(),
            &label,
            &design,
            comparison.as_ref(),
            exact.as_ref(),
        ),
        DesignFormat::Text => text(
            &model,
            &params,
            theta.as_slice(),
            &label,
            &design,
            comparison.as_ref(),
            exact.as_ref(),
        ),
    };
    if design.certificate.certified {
        Ok(Report::output(out))
    } else {
        Err(Failure::model(format!(
            "the design is not certified: max sensitivity {} exceeds 1 + {} (efficiency only known to be at least {}); \
             try a finer --grid or a larger --tol",
            fimkit::number::fmt_sig(design.certificate.max_sensitivity, 10),
            design.certificate.tol,
            fimkit::number::fmt_sig(design.certificate.efficiency_bound, 6),
        ))
        .after(Report::output(out)))
    }
}

/// A user's design against the optimum.
struct Comparison {
    path: String,
    rows: usize,
    efficiency: f64,
}

fn compare(
    problem: &Problem,
    schema: &fimkit::numeric::DataSchema,
    design: &Design,
    path: &Path,
) -> Result<Comparison, Failure> {
    let (names, rows) = read_csv(path)?;
    let mut cols = Vec::new();
    for n in &design.names {
        match names.iter().position(|m| m == n) {
            Some(i) => cols.push(i),
            None => {
                return Err(Failure::model(format!(
                    "--compare {}: no column `{n}` (the design's covariates: {})",
                    path.display(),
                    design.names.join(", ")
                )));
            }
        }
    }
    let wcol = names.iter().position(|m| m == "weight");
    let flat: Vec<f64> = rows
        .iter()
        .flat_map(|r| cols.iter().map(|&i| r[i]))
        .collect();
    let mut w: Vec<f64> = rows.iter().map(|r| wcol.map_or(1.0, |i| r[i])).collect();
    if w.iter().any(|v| *v < 0.0) || w.iter().sum::<f64>() <= 0.0 {
        return Err(Failure::model(format!(
            "--compare {}: weights must be >= 0 and not all 0",
            path.display()
        )));
    }
    let s: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= s);
    let m = problem.fims(&flat, schema)?.weighted_sum(&w);
    let efficiency = problem
        .config
        .criterion
        .phi(&m)
        .map_or(0.0, |phi| phi / design.phi);
    Ok(Comparison {
        path: path.display().to_string(),
        rows: rows.len(),
        efficiency,
    })
}

#[cfg(feature = "plot")]
fn plot(problem: &Problem, design: &Design, path: &Path) -> Result<(), Failure> {
    fimkit::design::plot::sensitivity_plot(problem, design, path).map_err(Failure::usage)
}

#[cfg(not(feature = "plot"))]
fn plot(_: &Problem, _: &Design, _: &Path) -> Result<(), Failure> {
    Err(Failure::usage(
        "--plot needs fimkit built with the `plot` feature",
    ))
}

fn sig(v: f64) -> String {
    fimkit::number::fmt_sig(v, 10)
}

fn text(
    model: &fimkit::Model,
    params: &[String],
    theta: &[f64],
    label: &str,
    d: &Design,
    cmp: Option<&Comparison>,
    exact: Option<&(usize, fimkit::design::ExactDesign)>,
) -> String {
    let at: Vec<String> = params
        .iter()
        .zip(theta)
        .map(|(n, v)| format!("{n}={}", fimkit::number::fmt_value(*v)))
        .collect();
    let mut s = if d.prior_samples > 0 {
        format!(
            "{}: {label}-optimal design over {} prior samples (mean {})\n",
            model.name(),
            d.prior_samples,
            at.join(", ")
        )
    } else {
        format!(
            "{}: {label}-optimal design at {}\n",
            model.name(),
            at.join(", ")
        )
    };
    for (n, v) in &d.fixed {
        s.push_str(&format!("  fixed {n} = {}\n", sig(*v)));
    }
    s.push_str(&format!(
        "  F(θ; x): {}; {} candidate points, {} {} iterations{}\n\n",
        d.method,
        d.candidates,
        d.iterations,
        if d.prior_samples > 0 {
            "multiplicative"
        } else {
            "REX"
        },
        if d.refined {
            ", support refined by Newton steps (exact x-derivatives)"
        } else {
            ""
        }
    ));
    let width = d.names.iter().map(|n| n.len()).max().unwrap_or(1).max(14);
    for n in &d.names {
        s.push_str(&format!("  {n:>width$}"));
    }
    s.push_str(&format!("  {:>14}\n", "weight"));
    for (x, w) in d.points.iter().zip(&d.weights) {
        for v in x {
            s.push_str(&format!("  {:>width$}", sig(*v)));
        }
        s.push_str(&format!("  {:>14}\n", sig(*w)));
    }
    let value_name = match label.chars().next() {
        Some('B') => "E[log det M] over the prior",
        Some('D') if label == "D" => "det M",
        Some('D') => "det of the information for the subset",
        Some('A') => "tr M⁻¹",
        Some('E') => "smallest eigenvalue of M",
        _ => "cᵀM⁻¹c",
    };
    s.push_str(&format!(
        "\ncriterion  {label}: {value_name} = {}\n",
        sig(d.value)
    ));
    s.push_str(&format!("det M      {} (per observation)\n", sig(d.det)));
    let c = &d.certificate;
    let at: Vec<String> = d
        .names
        .iter()
        .zip(&c.at)
        .map(|(n, v)| format!("{n}={}", sig(*v)))
        .collect();
    s.push_str(&format!(
        "certificate  max sensitivity {} at {} (1 at the optimum)\n",
        sig(c.max_sensitivity),
        at.join(", ")
    ));
    s.push_str(&format!(
        "             efficiency ≥ {}; {} (tolerance {})\n",
        fimkit::number::fmt_sig(c.efficiency_bound, 8),
        if c.certified {
            "certified optimal"
        } else {
            "NOT certified"
        },
        c.tol
    ));
    s.push_str(&format!(
        "             maximum searched over {}\n",
        c.searched
    ));
    if let Some((n, e)) = exact {
        s.push_str(&format!(
            "\nexact design of {n} runs (efficient rounding, then exchanges): {label}-efficiency {} of the approximate optimum\n",
            fimkit::number::fmt_sig(e.efficiency, 6)
        ));
        for nm in &d.names {
            s.push_str(&format!("  {nm:>width$}"));
        }
        s.push_str(&format!("  {:>14}\n", "runs"));
        for (x, r) in e.points.iter().zip(&e.runs) {
            for v in x {
                s.push_str(&format!("  {:>width$}", sig(*v)));
            }
            s.push_str(&format!("  {r:>14}\n"));
        }
    }
    if let Some(cmp) = cmp {
        s.push_str(&format!(
            "\ncompared    {} ({} points): {label}-efficiency {} of the optimum\n",
            cmp.path,
            cmp.rows,
            fimkit::number::fmt_sig(cmp.efficiency, 6)
        ));
    }
    s
}

fn num(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// A design point as JSON: each covariate by name, and `key` (its weight
/// or its number of runs).
fn point_json(
    names: &[String],
    x: &[f64],
    key: &str,
    value: serde_json::Value,
) -> serde_json::Value {
    let mut o: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .zip(x)
        .map(|(n, v)| (n.clone(), num(*v)))
        .collect();
    o.insert(key.into(), value);
    serde_json::Value::Object(o)
}

fn json(
    model: &fimkit::Model,
    params: &[String],
    theta: &[f64],
    label: &str,
    d: &Design,
    cmp: Option<&Comparison>,
    exact: Option<&(usize, fimkit::design::ExactDesign)>,
) -> String {
    let at: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .zip(theta)
        .map(|(n, v)| (n.clone(), num(*v)))
        .collect();
    let points: Vec<serde_json::Value> = d
        .points
        .iter()
        .zip(&d.weights)
        .map(|(x, w)| point_json(&d.names, x, "weight", num(*w)))
        .collect();
    let info: Vec<Vec<serde_json::Value>> = (0..d.information.nrows())
        .map(|i| {
            (0..d.information.ncols())
                .map(|j| num(d.information[(i, j)]))
                .collect()
        })
        .collect();
    let c = &d.certificate;
    let mut out = serde_json::json!({
        "schema": fimkit::render::json::SCHEMA,
        "ok": c.certified,
        "model": model.name(),
        "parameters": params,
        "at": at,
        "criterion": label,
        "covariates": d.names,
        "fixed": d.fixed.iter().map(|(n, v)| (n.clone(), num(*v))).collect::<serde_json::Map<_, _>>(),
        "method": d.method,
        "candidates": d.candidates,
        "iterations": d.iterations,
        "refined": d.refined,
        "design": points,
        "value": num(d.value),
        "det": num(d.det),
        "information": info,
        "certificate": {
            "max_sensitivity": num(c.max_sensitivity),
            "at": d.names.iter().zip(&c.at).map(|(n, v)| (n.clone(), num(*v))).collect::<serde_json::Map<_, _>>(),
            "efficiency_bound": num(c.efficiency_bound),
            "certified": c.certified,
            "tolerance": num(c.tol),
            "searched": c.searched,
        },
    });
    if let Some((n, e)) = exact {
        let pts: Vec<serde_json::Value> = e
            .points
            .iter()
            .zip(&e.runs)
            .map(|(x, r)| point_json(&d.names, x, "runs", serde_json::json!(r)))
            .collect();
        out["exact"] =
            serde_json::json!({"runs": n, "design": pts, "efficiency": num(e.efficiency)});
    }
    if let Some(cmp) = cmp {
        out["compare"] = serde_json::json!({"file": cmp.path, "points": cmp.rows, "efficiency": num(cmp.efficiency)});
    }
    if d.prior_samples > 0 {
        out["prior_samples"] = serde_json::json!(d.prior_samples);
    }
    format!("{}\n", serde_json::to_string_pretty(&out).expect("JSON"))
}
