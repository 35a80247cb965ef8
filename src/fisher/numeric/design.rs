//! The expected Fisher information of a whole design without a closed
//! form: Σ over the rows of F(θ; zᵢ), each F computed numerically (tier 2
//! or 3) at the row's covariates. Rows with the same covariates are
//! computed once; distinct rows run in parallel and are added in order.

use super::{NumericConfig, NumericError, Tier, numeric_fim};
use crate::ir::Name;
use crate::ir::model::Model;
use crate::numeric::Dataset;
use nalgebra::DMatrix;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// A numeric Fisher information summed over a design's rows.
#[derive(Clone, Debug)]
pub struct DesignFim {
    /// Parameter names, the order of θ.
    pub params: Vec<Name>,
    /// Σᵢ F(θ; zᵢ).
    pub value: DMatrix<f64>,
    /// Σᵢ of each row's error estimate (a bound: the errors are added).
    pub error: DMatrix<f64>,
    /// The route of the rows, e.g. "adaptive Gauss–Kronrod (G7/K15)".
    pub method: String,
    /// Tier 3 if any row needed it, else 2.
    pub tier: Tier,
    /// Every row's adaptive steps met their tolerance.
    pub converged: bool,
    /// Each distinct warning of the rows, once.
    pub warnings: Vec<String>,
    /// Rows summed.
    pub n_rows: usize,
    /// Distinct covariate rows computed.
    pub distinct_rows: usize,
}

/// The expected Fisher information of the rows of `data` at θ: the sum of
/// the per-row F(θ; covariates), each by [`numeric_fim`] with the row's
/// covariates (columns of `data` named after the model's covariates; other
/// columns, such as responses, are not used). A model without covariates
/// gives n·F(θ).
///
/// ```
/// use fimkit::fisher::numeric::{numeric_fim_over, NumericConfig};
/// use fimkit::numeric::DataSchema;
/// // A Weibull accelerated-failure-time model: no closed form (unknown shape).
/// let m = fimkit::load("param b0 : real\nparam b1 : real\nparam k : positive\n\
///                       covariate z : real\ndata t : positive\nt ~ weibull(k, exp(b0 + b1*z))\n", "aft").unwrap();
/// let design = DataSchema::from_model(&m).covariates_only();
/// let data = design.read_csv("z\n0\n1\n1\n".as_bytes()).unwrap();
/// let f = numeric_fim_over(&m, &[0.0, 0.5, 1.5], &data, &NumericConfig::default()).unwrap();
/// assert_eq!((f.n_rows, f.distinct_rows), (3, 2));
/// assert!((f.value[(0, 0)] - 3.0 * 1.5f64.powi(2)).abs() < 1e-8); // Σ k² per row
/// ```
pub fn numeric_fim_over(
    model: &Model,
    theta: &[f64],
    data: &Dataset,
    config: &NumericConfig,
) -> Result<DesignFim, NumericError> {
    let d = model.params.len();
    // Each covariate's column in `data`.
    let mut cols = Vec::with_capacity(model.covariates.len());
    for c in &model.covariates {
        match data.names().iter().position(|n| *n == c.name) {
            Some(i) => cols.push((c.name.clone(), i)),
            None => return Err(NumericError::missing_covariate(&c.name)),
        }
    }
    // Distinct covariate rows in first-seen order, with their counts.
    let mut index: FxHashMap<Vec<u64>, usize> = FxHashMap::default();
    let mut distinct: Vec<(usize, Vec<f64>, usize)> = Vec::new(); // (first row, values, count)
    for r in 0..data.n_rows() {
        let row = data.row(r).unwrap_or(&[]);
        let values: Vec<f64> = cols.iter().map(|(_, i)| row[*i]).collect();
        // +0.0 and −0.0 are one covariate value.
        let key: Vec<u64> = values.iter().map(|v| (v + 0.0).to_bits()).collect();
        match index.get(&key) {
            Some(&k) => distinct[k].2 += 1,
            None => {
                index.insert(key, distinct.len());
                distinct.push((r, values, 1));
            }
        }
    }
    let rows: Vec<_> = distinct
        .par_iter()
        .map(|(r, values, _)| {
            let row_config = NumericConfig {
                covariates: cols
                    .iter()
                    .zip(values)
                    .map(|((n, _), v)| (n.clone(), *v))
                    .collect(),
                ..config.clone()
            };
            numeric_fim(model, theta, &row_config).map_err(|e| NumericError::Row {
                row: r + 1,
                covariates: cols
                    .iter()
                    .zip(values)
                    .map(|((n, _), v)| format!("{n} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                error: Box::new(e),
            })
        })
        .collect();
    let mut out = DesignFim {
        params: model.param_names(),
        value: DMatrix::zeros(d, d),
        error: DMatrix::zeros(d, d),
        method: String::new(),
        tier: Tier::LocationScale,
        converged: true,
        warnings: Vec::new(),
        n_rows: data.n_rows(),
        distinct_rows: distinct.len(),
    };
    for (fim, (_, _, count)) in rows.into_iter().zip(&distinct) {
        let fim = fim?;
        let n = *count as f64;
        out.value += &fim.value * n;
        out.error += &fim.error * n;
        if out.method.is_empty() {
            out.method = fim.method.clone();
        } else if out.method != fim.method && !out.method.ends_with("(and others)") {
            out.method.push_str(" (and others)");
        }
        if fim.tier == Tier::Numeric {
            out.tier = Tier::Numeric;
        }
        out.converged &= fim.converged;
        for w in fim.warnings {
            if !out.warnings.contains(&w) {
                out.warnings.push(w);
            }
        }
    }
    if distinct.is_empty() {
        out.method = "no rows".into();
    }
    Ok(out)
}
