//! The per-point Fisher information F(θ; x) at many covariate points, and
//! its derivatives with respect to x.
//!
//! With a closed form, every distinct entry F_ij (i ≤ j) is compiled once
//! to a [`Tape`] with θ as the parameters and the covariates as the row
//! (parameter-only work hoisted, covariate work in f64, rows in parallel):
//! the same route as `fisher::at_point::evaluate_dataset`, kept per row
//! instead of summed. A second tape swaps the roles (the covariates are the
//! differentiation variables, θ the row), so second-order dual numbers give
//! ∂F/∂x and ∂²F/∂x² exactly, for the local search of the support points.
//! Without a closed form, each point is the numeric F of the tiered policy
//! (quadrature or summation, with its error), and there are no derivatives.

use super::DesignError;
use crate::fisher::{Derivation, NumericConfig};
use crate::ir::expr::{Expr, Name};
use crate::ir::model::Model;
use crate::numeric::compiled::Tape;
use nalgebra::{DMatrix, Dyn, U1};
use num_dual::{Derivative, Dual2Vec};
use rayon::prelude::*;

/// Packed per-point information: row r holds F(θ; x_r)'s upper triangle
/// (i ≤ j, row by row), `q = p(p+1)/2` numbers.
#[derive(Clone, Debug)]
pub struct Packed {
    /// Number of parameters.
    pub p: usize,
    /// The packed entries, `q` per point.
    pub values: Vec<f64>,
}

impl Packed {
    /// Entries per point.
    pub fn q(&self) -> usize {
        self.p * (self.p + 1) / 2
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len() / self.q().max(1)
    }

    /// No points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `r`'s packed entries.
    pub fn row(&self, r: usize) -> &[f64] {
        let q = self.q();
        &self.values[r * q..(r + 1) * q]
    }

    /// Point `r`'s F as a matrix.
    pub fn matrix(&self, r: usize) -> DMatrix<f64> {
        unpack(self.p, self.row(r))
    }

    /// Σ w_r F_r over the points with non-zero weight.
    pub fn weighted_sum(&self, weights: &[f64]) -> DMatrix<f64> {
        let q = self.q();
        let mut acc = vec![0.0; q];
        for (r, &w) in weights.iter().enumerate() {
            if w != 0.0 {
                for (a, f) in acc.iter_mut().zip(self.row(r)) {
                    *a += w * f;
                }
            }
        }
        unpack(self.p, &acc)
    }

    /// A subset of the points, in the order given.
    pub fn select(&self, rows: &[usize]) -> Packed {
        let mut values = Vec::with_capacity(rows.len() * self.q());
        for &r in rows {
            values.extend_from_slice(self.row(r));
        }
        Packed { p: self.p, values }
    }
}

/// A symmetric matrix from its packed upper triangle.
pub fn unpack(p: usize, packed: &[f64]) -> DMatrix<f64> {
    let mut m = DMatrix::zeros(p, p);
    let mut k = 0;
    for i in 0..p {
        for j in i..p {
            m[(i, j)] = packed[k];
            m[(j, i)] = packed[k];
            k += 1;
        }
    }
    m
}

/// The packed weights of a linear functional: `<A, F> = Σ_k a_k F_k` over
/// the packed entries (off-diagonal entries count twice).
pub fn pack_functional(a: &DMatrix<f64>) -> Vec<f64> {
    let p = a.nrows();
    let mut out = Vec::with_capacity(p * (p + 1) / 2);
    for i in 0..p {
        for j in i..p {
            out.push(if i == j {
                a[(i, i)]
            } else {
                a[(i, j)] + a[(j, i)]
            });
        }
    }
    out
}

/// A value with its gradient and Hessian.
pub type Derivs = (f64, Vec<f64>, DMatrix<f64>);

/// How F(θ; x) is computed.
enum Route {
    /// The closed form, compiled twice (see the module docs).
    Closed { rows: Box<Tape>, by_x: Box<Tape> },
    /// The numeric tiers at each point.
    Numeric,
}

/// F(θ; x) for one model at one θ.
pub struct PointFim<'a> {
    model: &'a Model,
    theta: Vec<f64>,
    /// The covariate names, in the model's order (the columns of a point).
    pub covariates: Vec<Name>,
    /// The parameter names, the rows and columns of F.
    pub params: Vec<Name>,
    route: Route,
}

impl<'a> PointFim<'a> {
    /// The evaluator at `theta` (in the model's parameter order).
    pub fn new(
        model: &'a Model,
        derivation: &Derivation,
        theta: &[f64],
    ) -> Result<PointFim<'a>, DesignError> {
        let covariates: Vec<Name> = model.covariates.iter().map(|c| c.name.clone()).collect();
        let params: Vec<Name> = derivation.params.clone();
        let route = match &derivation.fisher {
            Ok(cf) => {
                let p = cf.fim.len();
                let entries: Vec<Expr> = (0..p)
                    .flat_map(|i| (i..p).map(move |j| (i, j)))
                    .map(|(i, j)| model.substitute_consts(&cf.fim[i][j]))
                    .collect();
                let definitions = derivation.definitions_with_consts(model);
                let compile = |dual: &[Name], plain: &[Name]| {
                    Tape::compile_with_definitions(&entries, &definitions, dual, plain)
                        .map_err(|e| DesignError::Model(format!("the closed-form F: {e}")))
                };
                Route::Closed {
                    rows: Box::new(compile(&params, &covariates)?),
                    by_x: Box::new(compile(&covariates, &params)?),
                }
            }
            Err(_) => Route::Numeric,
        };
        Ok(PointFim {
            model,
            theta: theta.to_vec(),
            covariates,
            params,
            route,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// Number of parameters.
    pub fn p(&self) -> usize {
        self.params.len()
    }

    /// Is F the closed form (exact, differentiable in x)?
    pub fn is_closed_form(&self) -> bool {
        matches!(self.route, Route::Closed { .. })
    }

    /// How F is computed, in words.
    pub fn method(&self) -> &'static str {
        match self.route {
            Route::Closed { .. } => "closed form (compiled)",
            Route::Numeric => "numeric (quadrature or summation at each point)",
        }
    }

    /// F at each point of `rows` (row-major, one value per covariate).
    pub fn at_rows(&self, rows: &[f64]) -> Result<Packed, DesignError> {
        let p = self.p();
        let width = self.covariates.len().max(1);
        let q = p * (p + 1) / 2;
        match &self.route {
            Route::Closed { rows: tape, .. } => {
                let per_row = tape
                    .par_map_rows::<f64, Vec<f64>, _>(&self.theta, rows, |t, ws| {
                        (0..q).map(|k| t.output(ws, k)).collect()
                    })
                    .map_err(|e| DesignError::Model(format!("F(θ; x): {e}")))?;
                Ok(Packed {
                    p,
                    values: per_row.into_iter().flatten().collect(),
                })
            }
            Route::Numeric => {
                let per_row: Vec<Vec<f64>> = rows
                    .par_chunks(width)
                    .map(|x| self.numeric_at(x))
                    .collect::<Result<_, _>>()?;
                Ok(Packed {
                    p,
                    values: per_row.into_iter().flatten().collect(),
                })
            }
        }
    }

    fn numeric_at(&self, x: &[f64]) -> Result<Vec<f64>, DesignError> {
        let config = NumericConfig {
            covariates: self
                .covariates
                .iter()
                .cloned()
                .zip(x.iter().copied())
                .collect(),
            ..NumericConfig::default()
        };
        let fim = crate::fisher::numeric_fim(self.model, &self.theta, &config)
            .map_err(|e| DesignError::Model(format!("the numeric F at {x:?}: {e}")))?;
        let p = self.p();
        let mut out = Vec::with_capacity(p * (p + 1) / 2);
        for i in 0..p {
            for j in i..p {
                out.push(fim.value[(i, j)]);
            }
        }
        Ok(out)
    }

    /// `<A, F(x)>` with its gradient and Hessian in the covariates listed
    /// in `free` (indices into [`PointFim::covariates`]), exactly by
    /// second-order dual numbers; `None` without a closed form.
    pub fn functional_derivatives(
        &self,
        functional: &[f64],
        x: &[f64],
        free: &[usize],
    ) -> Result<Option<Derivs>, DesignError> {
        let Route::Closed { by_x, .. } = &self.route else {
            return Ok(None);
        };
        let n = free.len();
        let seeds: Vec<Dual2Vec<f64, Dyn>> = x
            .iter()
            .enumerate()
            .map(|(c, &v)| {
                let mut s = Dual2Vec::<f64, Dyn>::from_re(v);
                s.v1 = match free.iter().position(|&f| f == c) {
                    Some(k) => Derivative::derivative_generic(U1, Dyn(n), k),
                    None => Derivative::none(),
                };
                s
            })
            .collect();
        let mut ws = by_x.workspace();
        by_x.eval(&seeds, &self.theta, &mut ws)
            .map_err(|e| DesignError::Model(format!("F(θ; x) at {x:?}: {e}")))?;
        let mut value = 0.0;
        let mut grad = vec![0.0; n];
        let mut hess = DMatrix::zeros(n, n);
        for (k, &a) in functional.iter().enumerate() {
            if a == 0.0 {
                continue;
            }
            let o = by_x.output(&ws, k);
            value += a * o.re;
            if let Some(v1) = &o.v1.0 {
                for (g, d) in grad.iter_mut().zip(v1.iter()) {
                    *g += a * d;
                }
            }
            if let Some(v2) = &o.v2.0 {
                for i in 0..n {
                    for j in 0..n {
                        hess[(i, j)] += a * v2[(i, j)];
                    }
                }
            }
        }
        Ok(Some((value, grad, hess)))
    }
}
