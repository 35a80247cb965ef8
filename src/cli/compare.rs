//! `fimkit compare SMALL BIG --data F`: the likelihood-ratio, score (Rao)
//! and Wald tests of a small model nested in a big one, on the same rows.
//!
//! Nesting is checked, not assumed: every parameter of the small model is
//! a parameter of the big one by name, and the big model with its extra
//! parameters at 0 gives the small model's log-density on every row at the
//! small model's estimate (to 1e-10, relative to max(1, |log p|)).

use super::fit::{FitArgs, FitFormat, NaArg, load_data};
use super::{Failure, Format, Report, load_model};
use fimkit::fit::{FitConfig, FitResult, Objective, Problem, spd_inverse};
use fimkit::numeric::special::chi2_sf;
use nalgebra::{DMatrix, DVector};
use std::path::Path;

/// Log-densities closer than this (relative to max(1, |log p|)) count as
/// equal in the nesting check.
const NESTING_TOL: f64 = 1e-10;

/// Options of `fimkit compare`.
pub struct CompareArgs<'a> {
    pub small: &'a Path,
    pub big: &'a Path,
    pub data: &'a Path,
    pub format: FitFormat,
    pub max_iter: usize,
    pub tol: f64,
    pub weights: Option<&'a str>,
    pub na: NaArg,
}

/// One test: its statistic, or why there is none.
struct Test {
    name: &'static str,
    statistic: Result<f64, String>,
    /// What the test used.
    note: String,
}

/// The fitting options `load_data` reads, for one model.
fn fit_args<'a>(model: &'a Path, args: &'a CompareArgs) -> FitArgs<'a> {
    FitArgs {
        model,
        data: args.data,
        method: super::fit::MethodArg::FisherScoring,
        lr: None,
        max_kl: None,
        max_iter: args.max_iter,
        tol: args.tol,
        init: &[],
        format: args.format,
        trace: None,
        plot: None,
        ascii: false,
        show_unconverged_tests: false,
        level: 0.95,
        ci: super::fit::CiArg::Wald,
        se: super::fit::SeArg::Expected,
        cluster: None,
        weights: args.weights,
        na: args.na,
        predict: None,
        predict_expr: None,
        predict_out: None,
        residuals: None,
    }
}

/// A model's problem on the data, and the file rows it kept.
fn problem(
    model: &fimkit::ir::Model,
    path: &Path,
    args: &CompareArgs,
) -> Result<(Problem, Option<Vec<usize>>), Failure> {
    let schema = fimkit::numeric::DataSchema::from_model(model);
    let loaded = load_data(&schema, &fit_args(path, args))?;
    let mut p = Problem::new(model, loaded.data)?;
    if let Some(w) = loaded.weights {
        p = p.with_weights(w)?;
    }
    Ok((p, loaded.rows))
}

/// Fit `p`, which must converge.
fn fit_converged(p: &Problem, which: &str, args: &CompareArgs) -> Result<FitResult, Failure> {
    let config = FitConfig {
        max_iter: args.max_iter,
        tol: args.tol,
        ..FitConfig::default()
    };
    let r = fimkit::fit::fit(p, &config)
        .map_err(|e| Failure::model(format!("the fit of {which} failed: {e}")))?;
    if !r.converged() {
        return Err(Failure::model(format!(
            "the fit of {which} did not converge ({}): no test is made",
            r.stop.describe(r.tol).trim_start_matches("not converged: ")
        )));
    }
    Ok(r)
}

/// Each row's log-density at `theta`, in row order.
fn row_log_densities(p: &Problem, theta: &DVector<f64>) -> Result<Vec<f64>, Failure> {
    let mut rows: Vec<(usize, f64)> = p
        .functions()
        .fold_rows(
            theta,
            p.data(),
            Vec::new,
            |acc: &mut Vec<(usize, f64)>, r| acc.push((r.row, r.log_density)),
            |mut a, b| {
                a.extend(b);
                a
            },
        )
        .map_err(|e| Failure::model(e.to_string()))?;
    rows.sort_by_key(|r| r.0);
    Ok(rows.into_iter().map(|r| r.1).collect())
}

/// `vᵀ M⁻¹ v` for a symmetric positive definite `M`.
fn quadratic_form(m: &DMatrix<f64>, v: &DVector<f64>) -> Option<f64> {
    let inv = spd_inverse(m)?;
    let q = (v.transpose() * inv * v)[(0, 0)];
    q.is_finite().then_some(q)
}

/// Run `fimkit compare`.
pub fn compare_cmd(args: &CompareArgs) -> Result<Report, Failure> {
    let load_format = match args.format {
        FitFormat::Json => Format::Json,
        FitFormat::Text => Format::Text,
    };
    let (small_ir, _) = load_model(args.small, load_format)?;
    let (big_ir, _) = load_model(args.big, load_format)?;
    let small_name = args.small.display().to_string();
    let big_name = args.big.display().to_string();
    let (ps, rows_s) = problem(&small_ir, args.small, args)?;
    let (pb, rows_b) = problem(&big_ir, args.big, args)?;

    // Nesting by name.
    let names_s: Vec<String> = ps.param_names().iter().map(|n| n.to_string()).collect();
    let names_b: Vec<String> = pb.param_names().iter().map(|n| n.to_string()).collect();
    let missing: Vec<&str> = names_s
        .iter()
        .filter(|n| !names_b.contains(n))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Failure::model(format!(
            "{small_name} is not nested in {big_name}: its parameter{} {} {} not in {big_name}",
            if missing.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if missing.len() == 1 { "is" } else { "are" },
        )));
    }
    let extra: Vec<usize> = (0..names_b.len())
        .filter(|&j| !names_s.contains(&names_b[j]))
        .collect();
    if extra.is_empty() {
        return Err(Failure::model(format!(
            "{big_name} has no parameter that {small_name} lacks: there is nothing to test"
        )));
    }
    if ps.n_rows() != pb.n_rows() || rows_s != rows_b {
        return Err(Failure::model(format!(
            "the two models use different rows of {} ({} and {}; --na drop drops a row with a \
             missing value in a column either model uses only for that model): the tests need \
             the same rows",
            args.data.display(),
            ps.n_rows(),
            pb.n_rows()
        )));
    }

    let small = fit_converged(&ps, &small_name, args)?;
    // The small estimate inside the big model: the extra parameters at 0.
    let embedded = DVector::from_iterator(
        names_b.len(),
        names_b.iter().map(|n| {
            names_s
                .iter()
                .position(|m| m == n)
                .map_or(0.0, |i| small.estimates[i])
        }),
    );
    pb.check(&embedded).map_err(|e| {
        Failure::model(format!(
            "{big_name} cannot reduce to {small_name} with its extra parameters at 0: {e}"
        ))
    })?;
    let ls = row_log_densities(&ps, &small.estimates)?;
    let lb = row_log_densities(&pb, &embedded)?;
    if let Some(i) =
        (0..ls.len()).find(|&i| (ls[i] - lb[i]).abs() > NESTING_TOL * ls[i].abs().max(1.0))
    {
        let row = rows_s.as_ref().map_or(i + 1, |r| r[i]);
        return Err(Failure::model(format!(
            "{small_name} is not nested in {big_name}: with {} = 0, {big_name} does not give \
             {small_name}'s log-density (row {row}: {} against {} at the small model's estimate)",
            extra
                .iter()
                .map(|&j| names_b[j].as_str())
                .collect::<Vec<_>>()
                .join(" = "),
            lb[i],
            ls[i]
        )));
    }
    let big = fit_converged(&pb, &big_name, args)?;
    let df = extra.len();

    // Likelihood ratio.
    let lr = 2.0 * (big.loglik - small.loglik);
    let lr = if lr < -1e-8 * big.loglik.abs().max(1.0) {
        Err(format!(
            "the big model's log-likelihood {} is below the small one's {}: its fit is not the maximum",
            big.loglik, small.loglik
        ))
    } else {
        Ok(lr.max(0.0))
    };

    // Score (Rao): at the embedded small estimate, S_total and the big
    // model's information.
    let kind = pb.information_kind();
    let score = pb
        .loglik_gradient(&embedded)
        .and_then(|(_, g)| Ok((g, pb.expected_information(&embedded)?)))
        .map_err(|e| e.to_string())
        .and_then(|(g, info)| {
            quadratic_form(&info, &g).ok_or_else(|| {
                "the big model's information at the small estimate is not positive definite"
                    .to_string()
            })
        });

    // Wald: the extra estimates and their block of the big fit's
    // covariance (the inverse of the same information).
    let wald = big
        .covariance
        .as_ref()
        .ok_or_else(|| "the big fit's information is not positive definite".to_string())
        .and_then(|cov| {
            let beta = DVector::from_iterator(df, extra.iter().map(|&j| big.estimates[j]));
            let block = DMatrix::from_fn(df, df, |a, b| cov[(extra[a], extra[b])]);
            quadratic_form(&block, &beta).ok_or_else(|| {
                "the extra parameters' covariance block is not positive definite".to_string()
            })
        });

    let info = kind.describe();
    let tests = [
        Test {
            name: "likelihood ratio",
            statistic: lr,
            note: "2 (loglik_big - loglik_small)".into(),
        },
        Test {
            name: "score",
            statistic: score,
            note: format!("S^T I^-1 S at the small estimate; I: {info}"),
        },
        Test {
            name: "Wald",
            statistic: wald,
            note: format!("b^T Cov^-1 b of the big fit's extra estimates; Cov: inverse {info}"),
        },
    ];
    let extra_names: Vec<&str> = extra.iter().map(|&j| names_b[j].as_str()).collect();
    let out = match args.format {
        FitFormat::Json => {
            let doc = serde_json::json!({
                "schema": "fimkit-json 1",
                "small": small_name,
                "big": big_name,
                "data": args.data.display().to_string(),
                "n": small.n_rows,
                "loglik_small": small.loglik,
                "loglik_big": big.loglik,
                "extra": extra_names,
                "df": df,
                "information": info,
                "tests": tests.iter().map(|t| serde_json::json!({
                    "test": t.name,
                    "statistic": t.statistic.as_ref().ok(),
                    "df": df,
                    "p_value": t.statistic.as_ref().ok().map(|&s| chi2_sf(s, df as f64)),
                    "note": match &t.statistic {
                        Ok(_) => t.note.clone(),
                        Err(e) => e.clone(),
                    },
                })).collect::<Vec<_>>(),
            });
            format!("{}\n", serde_json::to_string_pretty(&doc).expect("JSON"))
        }
        FitFormat::Text => {
            let mut s = format!(
                "{small_name} nested in {big_name} on {} ({} rows): H0 {} = 0\n\
                 log-likelihood: small {:.6}, big {:.6}\n\n",
                args.data.display(),
                small.n_rows,
                extra_names.join(" = "),
                small.loglik,
                big.loglik
            );
            s.push_str(&format!(
                "{:<18} {:>12} {:>4} {:>12}\n",
                "test", "statistic", "df", "p"
            ));
            for t in &tests {
                match &t.statistic {
                    Ok(v) => s.push_str(&format!(
                        "{:<18} {:>12.6} {:>4} {:>12}\n",
                        t.name,
                        v,
                        df,
                        fimkit::render::fit::fmt_p(chi2_sf(*v, df as f64))
                    )),
                    Err(e) => s.push_str(&format!("{:<18} not available: {e}\n", t.name)),
                }
            }
            s.push_str(&format!("\ninformation: {info}\n"));
            s
        }
    };
    Ok(Report::output(out))
}
