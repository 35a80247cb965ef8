//! The integrand of the numeric Fisher information at one data point:
//! `p`, `p·s`, `p·s sᵀ` and `p·∇²log p` with `p = exp(log p)`, the score
//! `s` and Hessian exact from second-order dual numbers on a compiled
//! [`Tape`] (never finite differences).

use crate::numeric::compiled::{Tape, Workspace};
use crate::numeric::eval::EvalError;
use nalgebra::{Const, Dyn, U1};
use num_dual::{Derivative, Dual2SVec64, Dual2Vec, DualNum};

/// Layout of the moment vector for `p` parameters:
/// `[p, p s_1..p s_P, p s_i s_j (i ≤ j), p H_ij (i ≤ j)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub p: usize,
}

impl Layout {
    pub fn len(self) -> usize {
        1 + self.p + self.p * (self.p + 1)
    }
    pub fn score(self, i: usize) -> usize {
        1 + i
    }
    pub fn outer(self, i: usize, j: usize) -> usize {
        1 + self.p + self.tri_index(i, j)
    }
    pub fn hess(self, i: usize, j: usize) -> usize {
        1 + self.p + self.p * (self.p + 1) / 2 + self.tri_index(i, j)
    }
    /// Index of (i, j), i ≤ j, in the row-major upper triangle.
    fn tri_index(self, i: usize, j: usize) -> usize {
        let (i, j) = if i <= j { (i, j) } else { (j, i) };
        i * self.p - i * i.saturating_sub(1) / 2 + (j - i)
    }
}

/// Evaluates log p, its gradient and Hessian in θ at one data row.
pub(crate) trait PointEval {
    /// `Ok(None)` when log p = −∞ (the density is zero there).
    fn eval(
        &mut self,
        tape: &Tape,
        row: &[f64],
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Result<Option<f64>, EvalError>;
}

struct Static<const N: usize> {
    ws: Workspace<Dual2SVec64<N>>,
}

struct Dynamic {
    ws: Workspace<Dual2Vec<f64, Dyn>>,
    n: usize,
}

/// A row evaluation whose output was −∞ is a zero density; anything else
/// non-finite is an error.
fn settle<D: DualNum<Primitive = f64>>(
    r: Result<(), EvalError>,
    tape: &Tape,
    ws: &Workspace<D>,
) -> Result<Option<D>, EvalError> {
    let out = tape.output(ws, 0);
    match r {
        Ok(()) => Ok(Some(out)),
        Err(e) => {
            if out.re() == f64::NEG_INFINITY {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

impl<const N: usize> PointEval for Static<N> {
    fn eval(
        &mut self,
        tape: &Tape,
        row: &[f64],
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Result<Option<f64>, EvalError> {
        let r = tape.eval_row(row, &mut self.ws);
        let Some(out) = settle(r, tape, &self.ws)? else {
            return Ok(None);
        };
        let g = out.v1.unwrap_generic(U1, Const::<N>);
        let h = out.v2.unwrap_generic(Const::<N>, Const::<N>);
        for i in 0..N {
            grad[i] = g[i];
            for j in 0..N {
                hess[i * N + j] = h[(i, j)];
            }
        }
        Ok(Some(out.re))
    }
}

impl PointEval for Dynamic {
    fn eval(
        &mut self,
        tape: &Tape,
        row: &[f64],
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Result<Option<f64>, EvalError> {
        let r = tape.eval_row(row, &mut self.ws);
        let Some(out) = settle(r, tape, &self.ws)? else {
            return Ok(None);
        };
        let n = self.n;
        let g = out.v1.unwrap_generic(U1, Dyn(n));
        let h = out.v2.unwrap_generic(Dyn(n), Dyn(n));
        for i in 0..n {
            grad[i] = g[i];
            for j in 0..n {
                hess[i * n + j] = h[(i, j)];
            }
        }
        Ok(Some(out.re))
    }
}

fn make_static<const N: usize>(
    tape: &Tape,
    theta: &[f64],
) -> Result<Box<dyn PointEval>, EvalError> {
    let mut ws = tape.workspace::<Dual2SVec64<N>>();
    let seeds: Vec<Dual2SVec64<N>> = (0..N)
        .map(|i| Dual2SVec64::<N>::from_re(theta[i]).derivative(i))
        .collect();
    tape.set_params(&seeds, &mut ws)?;
    Ok(Box::new(Static::<N> { ws }))
}

/// An evaluator for `theta.len()` parameters, parameters already set.
pub(crate) fn evaluator(tape: &Tape, theta: &[f64]) -> Result<Box<dyn PointEval>, EvalError> {
    match theta.len() {
        1 => make_static::<1>(tape, theta),
        2 => make_static::<2>(tape, theta),
        3 => make_static::<3>(tape, theta),
        4 => make_static::<4>(tape, theta),
        5 => make_static::<5>(tape, theta),
        6 => make_static::<6>(tape, theta),
        7 => make_static::<7>(tape, theta),
        8 => make_static::<8>(tape, theta),
        n => {
            type D = Dual2Vec<f64, Dyn>;
            let mut ws = tape.workspace::<D>();
            let seeds: Vec<D> = (0..n)
                .map(|i| {
                    let mut d = D::from_re(theta[i]);
                    d.v1 = Derivative::derivative_generic(U1, Dyn(n), i);
                    d
                })
                .collect();
            tape.set_params(&seeds, &mut ws)?;
            Ok(Box::new(Dynamic { ws, n }))
        }
    }
}

/// Below this density, a point whose derivatives over- or underflow
/// contributes nothing (instead of failing the whole integral).
pub(crate) const NEGLIGIBLE_DENSITY: f64 = 1e-150;

/// Fill the moment vector at one row; zeros where the density vanishes.
pub(crate) fn moments_at(
    eval: &mut dyn PointEval,
    tape: &Tape,
    layout: Layout,
    row: &[f64],
    grad: &mut [f64],
    hess: &mut [f64],
    out: &mut [f64],
) -> Result<(), EvalError> {
    let Some(logp) = eval.eval(tape, row, grad, hess)? else {
        return Ok(());
    };
    let p = logp.exp();
    if p == 0.0 {
        return Ok(());
    }
    if !p.is_finite() {
        return Err(EvalError::NonFinite {
            expr: format!("exp(log-density) at {row:?}"),
            value: p,
        });
    }
    let n = layout.p;
    if let Some(bad) = grad.iter().chain(hess.iter()).find(|v| !v.is_finite()) {
        if p < NEGLIGIBLE_DENSITY {
            // Far in a tail, the derivatives over- or underflow (0/0)
            // where the density itself is negligible: no contribution.
            return Ok(());
        }
        return Err(EvalError::NonFinite {
            expr: format!("a derivative of the log-density at {row:?}"),
            value: *bad,
        });
    }
    out[0] = p;
    for i in 0..n {
        out[layout.score(i)] = p * grad[i];
        for j in i..n {
            out[layout.outer(i, j)] = p * grad[i] * grad[j];
            out[layout.hess(i, j)] = p * hess[i * n + j];
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Layout;

    #[test]
    fn layout_indices_are_a_bijection() {
        for p in 1..6 {
            let l = Layout { p };
            let mut seen = vec![false; l.len()];
            seen[0] = true;
            for i in 0..p {
                seen[l.score(i)] = true;
                for j in i..p {
                    assert!(!seen[l.outer(i, j)]);
                    seen[l.outer(i, j)] = true;
                    assert!(!seen[l.hess(i, j)]);
                    seen[l.hess(i, j)] = true;
                    assert_eq!(l.outer(i, j), l.outer(j, i));
                }
            }
            assert!(seen.iter().all(|s| *s));
        }
    }
}
