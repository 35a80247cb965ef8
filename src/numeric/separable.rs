//! Data-separable log-densities: `log p(x; θ) = Σ_k c_k(θ) · g_k(x)`.
//!
//! Every exponential family written in its natural form has this shape
//! (`η(θ)·T(x) − A(θ) + log h(x)`); so does the Gamma,
//! `α log β − lgamma α + (α − 1) log x − β x`. The split is read off the
//! expression as written: each term of the top-level sum must be a
//! product of parameter-only and data-only factors (nothing is expanded,
//! so no cancellation is introduced that the expression did not have).
//! Terms with the same data factor share one coefficient, and the terms
//! without data go to `g_0 = 1`.
//!
//! The derivatives are then exact and cheap:
//!
//! ```text
//! ∇ log p = Σ_k g_k(x) ∇c_k(θ),      ∇² log p = Σ_k g_k(x) ∇²c_k(θ)
//! ```
//!
//! The value, gradient and Hessian of each `c_k` are computed once per θ
//! with dual numbers ([`SeparableAt::new`]); per row only the data factors
//! `g_k(x)` are evaluated, in plain `f64` on a data-only [`Tape`] (a block
//! of rows at a time), and combined, skipping the `c_k` whose gradient or
//! Hessian is zero. Nothing is approximated.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::numeric::separable::Separable;
//! let (a, b, x) = (Expr::var("a"), Expr::var("b"), Expr::var("x"));
//! // a·log x − b·x + lgamma(a)
//! let logp = a.clone() * Expr::log(x.clone()) - b * x.clone() + Expr::lgamma(a);
//! let s = Separable::detect(&logp, &["a", "b"], &["x"]).unwrap();
//! assert_eq!(s.factors(), 3); // 1, log x, x
//! let mut at = s.at(&[2.0, 1.5]).unwrap();
//! let (mut g, mut h) = ([0.0; 2], [0.0; 4]);
//! let v = at.row(&s, &[1.0], &mut g, &mut h).unwrap();
//! assert!((v - (-1.5)).abs() < 1e-15); // lgamma(2) = 0
//! // ∂/∂a = log x + ψ(a) = 1 − γ at x = 1, a = 2; ∂/∂b = −x
//! assert!((g[0] - (1.0 - 0.5772156649015329)).abs() < 1e-14 && g[1] == -1.0);
//! // ∂²/∂a² = ψ′(2) = π²/6 − 1, nothing else
//! assert!((h[0] - 0.6449340668482264).abs() < 1e-14 && h[1..] == [0.0; 3]);
//! ```

use super::compiled::{BlockWorkspace, Tape, Workspace};
use super::eval::{EvalError, describe, gradient_hessian};
use crate::ir::expr::{Expr, Name};
use std::collections::BTreeMap;

/// A log-density split into parameter-only coefficients and data-only
/// factors.
#[derive(Clone, Debug)]
pub struct Separable {
    params: Vec<Name>,
    /// `c_0` (multiplying 1), then `c_k` for the tape's output `k − 1`.
    coeffs: Vec<Expr>,
    /// The data factors `g_1 … g_K` as a tape without parameters.
    factors: Tape,
    /// The whole log-density (for error messages).
    logp: Expr,
}

/// Which side of the split an expression is on.
fn side(e: &Expr, params: &[Name], data: &[Name]) -> Option<(bool, bool)> {
    let vars = e.free_vars();
    let p = vars.iter().any(|v| params.contains(v));
    let d = vars.iter().any(|v| data.contains(v));
    // A variable that is neither is not compiled anywhere: refuse.
    let other = vars
        .iter()
        .any(|v| !params.contains(v) && !data.contains(v));
    (!other).then_some((p, d))
}

impl Separable {
    /// Split `logp` into `Σ c_k(θ) g_k(x)` term by term, if every term is
    /// a product of parameter-only and data-only factors and at least one
    /// term has data.
    pub fn detect(
        logp: &Expr,
        params: &[impl AsRef<str>],
        data: &[impl AsRef<str>],
    ) -> Option<Separable> {
        let params: Vec<Name> = params.iter().map(|p| Name::from(p.as_ref())).collect();
        let data: Vec<Name> = data.iter().map(|p| Name::from(p.as_ref())).collect();
        let terms: &[Expr] = match logp {
            Expr::Add(ts) => ts,
            e => std::slice::from_ref(e),
        };
        let mut groups: BTreeMap<Expr, Vec<Expr>> = BTreeMap::new();
        for t in terms {
            let factors: &[Expr] = match t {
                Expr::Mul(fs) => fs,
                e => std::slice::from_ref(e),
            };
            let (mut cs, mut gs) = (Vec::new(), Vec::new());
            for f in factors {
                match side(f, &params, &data)? {
                    (true, true) => return None,
                    (_, true) => gs.push(f.clone()),
                    _ => cs.push(f.clone()),
                }
            }
            groups.entry(Expr::mul(gs)).or_default().push(Expr::mul(cs));
        }
        let mut coeffs = vec![
            groups
                .remove(&Expr::one())
                .map_or_else(Expr::zero, Expr::add),
        ];
        let mut gs = Vec::new();
        for (g, cs) in groups {
            let c = Expr::add(cs);
            if !c.is_zero() {
                gs.push(g);
                coeffs.push(c);
            }
        }
        if gs.is_empty() {
            return None;
        }
        let factors = Tape::compile(&gs, &[] as &[&str], &data).ok()?;
        Some(Separable {
            params,
            coeffs,
            factors,
            logp: logp.clone(),
        })
    }

    /// Number of coefficients, the constant factor 1 included.
    pub fn factors(&self) -> usize {
        self.coeffs.len()
    }

    /// The data factors' tape (output `k` is `g_{k+1}`).
    pub fn factor_tape(&self) -> &Tape {
        &self.factors
    }

    /// The coefficients' values and derivatives at θ; `None` if one of
    /// them is not finite there (the caller then uses a general engine,
    /// which names the culprit).
    pub fn at(&self, theta: &[f64]) -> Option<SeparableAt> {
        let d = self.params.len();
        let env = |name: &str| {
            self.params
                .iter()
                .position(|p| &**p == name)
                .and_then(|i| theta.get(i).copied())
        };
        let k = self.coeffs.len();
        let mut at = SeparableAt {
            d,
            c: vec![0.0; k],
            grad: vec![0.0; k * d],
            hess: vec![0.0; k * d * d],
            with_grad: Vec::new(),
            with_hess: Vec::new(),
            ws: self.factors.workspace::<f64>(),
            block: None,
        };
        for (i, c) in self.coeffs.iter().enumerate() {
            let (v, g, h) = gradient_hessian(c, &self.params, &env).ok()?;
            if !(v.is_finite() && g.iter().chain(h.iter()).all(|x| x.is_finite())) {
                return None;
            }
            at.c[i] = v;
            at.grad[i * d..(i + 1) * d].copy_from_slice(g.as_slice());
            // Symmetric: column-major = row-major.
            at.hess[i * d * d..(i + 1) * d * d].copy_from_slice(h.as_slice());
            if i > 0 && g.iter().any(|x| *x != 0.0) {
                at.with_grad.push(i);
            }
            if i > 0 && h.iter().any(|x| *x != 0.0) {
                at.with_hess.push(i);
            }
        }
        Some(at)
    }
}

/// Data factors whose columns a block keeps on the stack.
const MAX_STACK: usize = 16;

/// A block's outputs: values, scores and (unless shared) Hessians.
struct Out<'a> {
    v: &'a mut [f64],
    grad: &'a mut [f64],
    hess: Option<&'a mut [f64]>,
}

/// A [`Separable`] log-density's coefficients at one θ, with the
/// registers to evaluate rows.
#[derive(Clone, Debug)]
pub struct SeparableAt {
    d: usize,
    c: Vec<f64>,
    grad: Vec<f64>,
    hess: Vec<f64>,
    /// Coefficients (k ≥ 1) with a nonzero gradient / Hessian.
    with_grad: Vec<usize>,
    with_hess: Vec<usize>,
    ws: Workspace<f64>,
    block: Option<BlockWorkspace>,
}

impl SeparableAt {
    fn non_finite(s: &Separable, value: f64, derivative: bool) -> EvalError {
        EvalError::NonFinite {
            expr: if derivative {
                format!("derivatives of {}", describe(&s.logp))
            } else {
                describe(&s.logp)
            },
            value,
        }
    }

    /// Value of the log-density at one row; the score into `grad` (d) and
    /// the Hessian into `hess` (d×d, row-major). A non-finite value or
    /// derivative is an error.
    pub fn row(
        &mut self,
        s: &Separable,
        x: &[f64],
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Result<f64, EvalError> {
        let (d, dd) = (self.d, self.d * self.d);
        s.factors.eval_row(x, &mut self.ws)?;
        let gk = |k: usize| s.factors.output(&self.ws, k - 1);
        let mut v = self.c[0];
        for k in 1..self.c.len() {
            v += self.c[k] * gk(k);
        }
        if !v.is_finite() {
            return Err(Self::non_finite(s, v, false));
        }
        grad.copy_from_slice(&self.grad[..d]);
        for &k in &self.with_grad {
            let w = gk(k);
            for (o, c) in grad.iter_mut().zip(&self.grad[k * d..(k + 1) * d]) {
                *o += w * c;
            }
        }
        hess.copy_from_slice(&self.hess[..dd]);
        for &k in &self.with_hess {
            let w = gk(k);
            for (o, c) in hess.iter_mut().zip(&self.hess[k * dd..(k + 1) * dd]) {
                *o += w * c;
            }
        }
        if let Some(bad) = grad.iter().chain(&*hess).copied().find(|v| !v.is_finite()) {
            return Err(Self::non_finite(s, bad, true));
        }
        Ok(v)
    }

    /// One pass over a block for d = `D`: per row the value, the score
    /// and (unless shared) the Hessian, summed in the same order as
    /// [`SeparableAt::row`] (so bit for bit the same numbers). Returns
    /// whether everything written is finite (`x · 0` is 0 for a finite
    /// `x`, NaN otherwise, so one running sum checks it without a branch).
    fn fused<const D: usize>(&self, cols: &[&[f64]], out: Out<'_>) -> bool {
        let n = out.v.len();
        let base: [f64; D] = std::array::from_fn(|j| self.grad[j]);
        let mut check = 0.0;
        let grads = out.grad.chunks_exact_mut(D);
        for (i, (v, g)) in out.v.iter_mut().zip(grads).enumerate() {
            let mut val = self.c[0];
            for (c, col) in self.c.iter().zip(cols).skip(1) {
                val += c * col[i];
            }
            let mut acc = base;
            for &k in &self.with_grad {
                let w = cols[k][i];
                let ck = &self.grad[k * D..(k + 1) * D];
                for j in 0..D {
                    acc[j] += w * ck[j];
                }
            }
            *v = val;
            g.copy_from_slice(&acc);
            check += val * 0.0;
            for a in acc {
                check += a * 0.0;
            }
        }
        if let Some(h) = out.hess {
            check += self.hessians(cols, n, D * D, h);
        }
        check == 0.0
    }

    /// [`SeparableAt::fused`] for any d.
    fn fused_dyn(&self, cols: &[&[f64]], out: Out<'_>) -> bool {
        let (n, d) = (out.v.len(), self.d);
        let mut check = 0.0;
        let grads = out.grad.chunks_exact_mut(d.max(1));
        for (i, (v, g)) in out.v.iter_mut().zip(grads).enumerate() {
            let mut val = self.c[0];
            for (c, col) in self.c.iter().zip(cols).skip(1) {
                val += c * col[i];
            }
            g.copy_from_slice(&self.grad[..d]);
            for &k in &self.with_grad {
                let w = cols[k][i];
                for (o, c) in g.iter_mut().zip(&self.grad[k * d..(k + 1) * d]) {
                    *o += w * c;
                }
            }
            *v = val;
            check += val * 0.0;
            for a in g.iter() {
                check += a * 0.0;
            }
        }
        if let Some(h) = out.hess {
            check += self.hessians(cols, n, d * d, h);
        }
        check == 0.0
    }

    /// Per-row Hessians (they depend on the data) into `h`; the finiteness
    /// check sum.
    fn hessians(&self, cols: &[&[f64]], n: usize, dd: usize, h: &mut [f64]) -> f64 {
        let mut check = 0.0;
        for (i, o) in h.chunks_exact_mut(dd.max(1)).take(n).enumerate() {
            o.copy_from_slice(&self.hess[..dd]);
            for &k in &self.with_hess {
                let w = cols[k][i];
                for (o, c) in o.iter_mut().zip(&self.hess[k * dd..(k + 1) * dd]) {
                    *o += w * c;
                }
            }
            for a in o.iter() {
                check += a * 0.0;
            }
        }
        check
    }

    /// [`SeparableAt::row`] for `n` rows of width `w` (row-major in
    /// `rows`): values into `v[..n]`, scores into `grad[..n·d]`, Hessians
    /// into `hess[..n·d²]` — or, when the Hessian does not depend on the
    /// data (no `c_k` with `k ≥ 1` has one), that one Hessian into
    /// `hess[..d²]` and `Ok(true)`. On failure, the first failing row
    /// (index in the block) and its error, as [`SeparableAt::row`]
    /// reports them.
    #[expect(clippy::too_many_arguments, reason = "output buffers")]
    pub fn rows(
        &mut self,
        s: &Separable,
        rows: &[f64],
        n: usize,
        w: usize,
        v: &mut [f64],
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Result<bool, (usize, EvalError)> {
        let (d, dd) = (self.d, self.d * self.d);
        let shared = self.with_hess.is_empty();
        let mut block = match self.block.take() {
            Some(b) if b.capacity() >= n => b,
            _ => s.factors.block_workspace(n.max(64)),
        };
        let mut finite = s.factors.eval_block(rows, n, &mut block).is_ok();
        if finite {
            // cols[k] = g_k over the block (cols[0] unused); on the stack
            // for up to MAX_STACK factors, so a block allocates nothing.
            let k_all = self.c.len();
            let col = |k: usize| match k {
                0 => &[][..],
                k => &s.factors.block_output(&block, k - 1)[..n],
            };
            let mut stack: [&[f64]; MAX_STACK] = [&[]; MAX_STACK];
            let heap: Vec<&[f64]>;
            let cols: &[&[f64]] = if k_all <= MAX_STACK {
                for (k, c) in stack.iter_mut().enumerate().take(k_all) {
                    *c = col(k);
                }
                &stack[..k_all]
            } else {
                heap = (0..k_all).map(col).collect();
                &heap
            };
            let out = Out {
                v: &mut v[..n],
                grad: &mut grad[..n * d],
                hess: if shared {
                    hess[..dd].copy_from_slice(&self.hess[..dd]);
                    None
                } else {
                    Some(&mut hess[..n * dd])
                },
            };
            finite = match d {
                1 => self.fused::<1>(cols, out),
                2 => self.fused::<2>(cols, out),
                3 => self.fused::<3>(cols, out),
                4 => self.fused::<4>(cols, out),
                _ => self.fused_dyn(cols, out),
            };
        }
        self.block = Some(block);
        if finite {
            return Ok(shared);
        }
        // Something failed: find the first failing row, row by row.
        for i in 0..n {
            let x = &rows[i * w..(i + 1) * w];
            v[i] = self
                .row(
                    s,
                    x,
                    &mut grad[i * d..(i + 1) * d],
                    &mut hess[i * dd..(i + 1) * dd],
                )
                .map_err(|e| (i, e))?;
        }
        Ok(false)
    }
}
