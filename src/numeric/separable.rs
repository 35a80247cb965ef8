//! The separable engine: exact derivatives of a data-separable
//! log-density `log p(x; θ) = Σ_k c_k(θ) · g_k(x)`, the split that
//! [`crate::structure::separable`] reads off the expression as written
//! (each term a product of parameter-only and data-only factors; terms
//! without data go to `g_0 = 1`).
//!
//! The derivatives are then exact and cheap:
//!
//! ```text
//! ∇ log p = Σ_k g_k(x) ∇c_k(θ),      ∇² log p = Σ_k g_k(x) ∇²c_k(θ)
//! ```
//!
//! The value, gradient and Hessian of each `c_k` are computed once per θ
//! with dual numbers ([`Separable::at`]); per row only the data factors
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
//! assert_eq!(s.factors(), 3); // 1, x, log x
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
use crate::structure::separable::{Split, split};

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

impl Separable {
    /// Split `logp` into `Σ c_k(θ) g_k(x)` term by term
    /// ([`crate::structure::separable::split`]) and compile its data
    /// factors, if every term is a product of parameter-only and data-only
    /// factors and at least one term has data.
    pub fn detect(
        logp: &Expr,
        params: &[impl AsRef<str>],
        data: &[impl AsRef<str>],
    ) -> Option<Separable> {
        let split = split(logp, params, data)?;
        Separable::from_split(&split, params, data, logp)
    }

    /// The engine for a split of `logp` (in `params` and the inputs
    /// `data`, the order of a row): its data factors compiled to a tape;
    /// `None` if they do not compile.
    pub fn from_split(
        split: &Split,
        params: &[impl AsRef<str>],
        data: &[impl AsRef<str>],
        logp: &Expr,
    ) -> Option<Separable> {
        let params: Vec<Name> = params.iter().map(|p| Name::from(p.as_ref())).collect();
        let factors = Tape::compile(&split.factors, &[] as &[&str], data).ok()?;
        Some(Separable {
            params,
            coeffs: split.coeffs.clone(),
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
            scratch: Vec::new(),
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
    /// A row's score and Hessian for [`SeparableAt::each_row`].
    scratch: Vec<f64>,
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

    /// Does every row have the same Hessian (no `c_k` with `k ≥ 1` has
    /// one)? It is then [`SeparableAt::shared_hessian`].
    pub fn hessian_is_shared(&self) -> bool {
        self.with_hess.is_empty()
    }

    /// The Hessian of the data-free coefficient `c_0` (d×d, row-major):
    /// every row's Hessian when [`SeparableAt::hessian_is_shared`].
    pub fn shared_hessian(&self) -> &[f64] {
        &self.hess[..self.d * self.d]
    }

    /// The sums over `n` rows of width `w` (row-major in `rows`) of the
    /// value, score and Hessian (d×d, row-major), from the data factors'
    /// column sums `S_k = Σ_i g_k(x_i)`: `Σ_i v_i = n·c_0 + Σ_k c_k S_k`, and
    /// the same with the coefficients' derivatives — K additions a row
    /// instead of a value, score and Hessian a row. `None` when anything
    /// is not finite (a factor on some row, or a sum): the caller then goes
    /// row by row ([`SeparableAt::each_row`]), which names the row.
    ///
    /// ```
    /// use fimkit::ir::Expr;
    /// use fimkit::numeric::separable::Separable;
    /// let (a, x) = (Expr::var("a"), Expr::var("x"));
    /// // a·log x − a²·x
    /// let logp = a.clone() * Expr::log(x.clone()) - a.clone() * a * x;
    /// let s = Separable::detect(&logp, &["a"], &["x"]).unwrap();
    /// let mut at = s.at(&[2.0]).unwrap();
    /// let (v, g, h) = at.block_sums(&s, &[1.0, 2.0], 2, 1).unwrap();
    /// let l2 = 2f64.ln();
    /// assert!((v - (2.0 * l2 - 12.0)).abs() < 1e-14);
    /// assert!((g[0] - (l2 - 12.0)).abs() < 1e-14);
    /// assert_eq!(h[0], -6.0);
    /// assert!(at.block_sums(&s, &[1.0, 0.0], 2, 1).is_none()); // log 0
    /// ```
    pub fn block_sums(
        &mut self,
        s: &Separable,
        rows: &[f64],
        n: usize,
        w: usize,
    ) -> Option<(f64, Vec<f64>, Vec<f64>)> {
        debug_assert_eq!(rows.len(), n * w);
        let mut block = match self.block.take() {
            Some(b) if b.capacity() >= n => b,
            _ => s.factors.block_workspace(n.max(64)),
        };
        let (k_all, d, dd) = (self.c.len(), self.d, self.d * self.d);
        // S_0 = n (the data-free coefficient), then each factor's column.
        let mut sums = vec![n as f64; k_all];
        let evaluated = s.factors.eval_block_unchecked(rows, n, &mut block).is_ok();
        if evaluated {
            for (k, total) in sums.iter_mut().enumerate().skip(1) {
                *total = sum_lanes(&s.factors.block_output(&block, k - 1)[..n]);
            }
        }
        self.block = Some(block);
        // A sum is finite only if every term is (∞ and NaN propagate; an
        // overflow of finite terms also goes row by row).
        if !evaluated || !sums.iter().all(|x| x.is_finite()) {
            return None;
        }
        let mut v = 0.0;
        let mut g = vec![0.0; d];
        let mut h = vec![0.0; dd];
        for (k, &total) in sums.iter().enumerate() {
            v += self.c[k] * total;
            for (o, c) in g.iter_mut().zip(&self.grad[k * d..(k + 1) * d]) {
                *o += total * c;
            }
            for (o, c) in h.iter_mut().zip(&self.hess[k * dd..(k + 1) * dd]) {
                *o += total * c;
            }
        }
        (v.is_finite() && g.iter().chain(&h).all(|x| x.is_finite())).then_some((v, g, h))
    }

    /// Hand every one of `n` rows of width `w` (row-major in `rows`) to
    /// `f(i, value, score, hessian)` in order, `i` the row's index in the
    /// block — the numbers of [`SeparableAt::row`], bit for bit, without
    /// intermediate buffers: the data factors are evaluated over the
    /// block, then value, score and (unless shared) Hessian one row at a
    /// time, checked finite, and passed on. On failure, the first failing
    /// row and its error as [`SeparableAt::row`] reports them; the rows
    /// before it have been handed to `f`.
    ///
    /// ```
    /// use fimkit::ir::Expr;
    /// use fimkit::numeric::separable::Separable;
    /// let (a, x) = (Expr::var("a"), Expr::var("x"));
    /// // a·log x − a²·x
    /// let logp = a.clone() * Expr::log(x.clone()) - a.clone() * a * x;
    /// let s = Separable::detect(&logp, &["a"], &["x"]).unwrap();
    /// let mut at = s.at(&[2.0]).unwrap();
    /// let mut seen = Vec::new();
    /// at.each_row(&s, &[1.0, 2.0], 2, 1, |i, v, g, h| seen.push((i, v, g[0], h[0])))
    ///     .unwrap();
    /// let l2 = 2f64.ln();
    /// assert_eq!(seen, [(0, -4.0, -4.0, -2.0), (1, 2.0 * l2 - 8.0, l2 - 8.0, -4.0)]);
    /// // log 0 fails, at the row that has it
    /// let err = at.each_row(&s, &[1.0, 0.0], 2, 1, |_, _, _, _| {}).unwrap_err();
    /// assert_eq!(err.0, 1);
    /// ```
    pub fn each_row<F>(
        &mut self,
        s: &Separable,
        rows: &[f64],
        n: usize,
        w: usize,
        mut f: F,
    ) -> Result<(), (usize, EvalError)>
    where
        F: FnMut(usize, f64, &[f64], &[f64]),
    {
        let mut block = match self.block.take() {
            Some(b) if b.capacity() >= n => b,
            _ => s.factors.block_workspace(n.max(64)),
        };
        let mut bad = Some(0);
        // The outputs' finiteness is checked row by row below: a value
        // Σ c_k g_k is finite only if every g_k is (0·∞ is NaN).
        if s.factors.eval_block_unchecked(rows, n, &mut block).is_ok() {
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
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.resize(self.d + self.d * self.d, 0.0);
            // Small models (up to 4 factors, 4 parameters) with every
            // coefficient in registers; others through the general loops.
            macro_rules! fixed {
                ($($k:literal, $d:literal);*) => {
                    match (k_all, self.d) {
                        $(($k, $d) => self.each_fixed::<$k, $d, F>(cols, n, &mut f),)*
                        (_, 1) => self.each_fused::<1, F>(cols, n, &mut scratch, &mut f),
                        (_, 2) => self.each_fused::<2, F>(cols, n, &mut scratch, &mut f),
                        (_, 3) => self.each_fused::<3, F>(cols, n, &mut scratch, &mut f),
                        (_, 4) => self.each_fused::<4, F>(cols, n, &mut scratch, &mut f),
                        _ => self.each_dyn(cols, n, &mut scratch, &mut f),
                    }
                };
            }
            bad = fixed!(2, 1; 2, 2; 2, 3; 2, 4; 3, 1; 3, 2; 3, 3; 3, 4; 4, 1; 4, 2; 4, 3; 4, 4);
            self.scratch = scratch;
        }
        self.block = Some(block);
        let Some(first) = bad else { return Ok(()) };
        // Row by row from the first row that failed (or all of them when
        // the block's factors did), to name the error.
        let (d, dd) = (self.d, self.d * self.d);
        let (mut g, mut h) = (vec![0.0; d], vec![0.0; dd]);
        for i in first..n {
            let v = self
                .row(s, &rows[i * w..(i + 1) * w], &mut g, &mut h)
                .map_err(|e| (i, e))?;
            f(i, v, &g, &h);
        }
        Ok(())
    }

    /// [`SeparableAt::each_fused`] for `K` coefficients and d = `D`: the
    /// coefficients, their derivatives and the factor columns copied to
    /// local arrays first, so that the compiler keeps them in registers
    /// (it cannot know that `f`'s writes leave them alone otherwise), the
    /// same operations in the same order.
    #[expect(clippy::needless_range_loop, reason = "row i of every column at once")]
    fn each_fixed<const K: usize, const D: usize, F>(
        &self,
        cols: &[&[f64]],
        n: usize,
        f: &mut F,
    ) -> Option<usize>
    where
        F: FnMut(usize, f64, &[f64], &[f64]),
    {
        let (dd, mut grad_k, mut hess_k) = (D * D, [false; K], [false; K]);
        for &k in &self.with_grad {
            grad_k[k] = true;
        }
        for &k in &self.with_hess {
            hess_k[k] = true;
        }
        let c: [f64; K] = std::array::from_fn(|k| self.c[k]);
        let g: [[f64; D]; K] =
            std::array::from_fn(|k| std::array::from_fn(|j| self.grad[k * D + j]));
        let h: [[[f64; D]; D]; K] = std::array::from_fn(|k| {
            std::array::from_fn(|a| std::array::from_fn(|b| self.hess[k * dd + a * D + b]))
        });
        let cols: [&[f64]; K] =
            std::array::from_fn(|k| if k == 0 { &[][..] } else { &cols[k][..n] });
        let shared = self.with_hess.is_empty();
        for i in 0..n {
            let x: [f64; K] = std::array::from_fn(|k| if k == 0 { 1.0 } else { cols[k][i] });
            let mut val = c[0];
            for k in 1..K {
                val += c[k] * x[k];
            }
            let mut acc = g[0];
            for k in 1..K {
                if grad_k[k] {
                    for j in 0..D {
                        acc[j] += x[k] * g[k][j];
                    }
                }
            }
            let mut ok = val.is_finite();
            for a in acc {
                ok &= a.is_finite();
            }
            let mut hrow = h[0];
            if !shared {
                for k in 1..K {
                    if hess_k[k] {
                        for a in 0..D {
                            for b in 0..D {
                                hrow[a][b] += x[k] * h[k][a][b];
                            }
                        }
                    }
                }
                for a in hrow.as_flattened() {
                    ok &= a.is_finite();
                }
            }
            if !ok {
                return Some(i);
            }
            f(i, val, &acc, hrow.as_flattened());
        }
        None
    }

    /// The rows of [`SeparableAt::each_row`] for d = `D` once the factors
    /// are in `cols`: the index of the first row that is not finite, if
    /// any (it and the rows after it are not handed to `f`).
    fn each_fused<const D: usize, F>(
        &self,
        cols: &[&[f64]],
        n: usize,
        scratch: &mut [f64],
        f: &mut F,
    ) -> Option<usize>
    where
        F: FnMut(usize, f64, &[f64], &[f64]),
    {
        let dd = D * D;
        let base: [f64; D] = std::array::from_fn(|j| self.grad[j]);
        let shared = self.with_hess.is_empty();
        let hrow = &mut scratch[..dd];
        for i in 0..n {
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
            let mut ok = val.is_finite();
            for a in acc {
                ok &= a.is_finite();
            }
            let h: &[f64] = if shared {
                &self.hess[..dd]
            } else {
                ok &= self.hessian_row(cols, i, hrow);
                hrow
            };
            if !ok {
                return Some(i);
            }
            f(i, val, &acc, h);
        }
        None
    }

    /// [`SeparableAt::each_fused`] for any d.
    fn each_dyn<F>(
        &self,
        cols: &[&[f64]],
        n: usize,
        scratch: &mut [f64],
        f: &mut F,
    ) -> Option<usize>
    where
        F: FnMut(usize, f64, &[f64], &[f64]),
    {
        let (d, dd) = (self.d, self.d * self.d);
        let shared = self.with_hess.is_empty();
        let (g, hrow) = scratch.split_at_mut(d);
        let hrow = &mut hrow[..dd];
        for i in 0..n {
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
            let mut ok = val.is_finite();
            for a in g.iter() {
                ok &= a.is_finite();
            }
            let h: &[f64] = if shared {
                &self.hess[..dd]
            } else {
                ok &= self.hessian_row(cols, i, hrow);
                hrow
            };
            if !ok {
                return Some(i);
            }
            f(i, val, g, h);
        }
        None
    }

    /// Row `i`'s Hessian into `o` (d², in the order of
    /// [`SeparableAt::row`]); whether it is finite.
    fn hessian_row(&self, cols: &[&[f64]], i: usize, o: &mut [f64]) -> bool {
        let dd = o.len();
        o.copy_from_slice(&self.hess[..dd]);
        for &k in &self.with_hess {
            let w = cols[k][i];
            for (o, c) in o.iter_mut().zip(&self.hess[k * dd..(k + 1) * dd]) {
                *o += w * c;
            }
        }
        o.iter().fold(true, |ok, a| ok & a.is_finite())
    }
}

/// `Σ x_i` with eight independent partial sums, added pairwise at the
/// end: a sum over a block of rows the CPU pipelines (one running sum
/// waits on each addition's latency), as accurate as the running sum.
fn sum_lanes(xs: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    for (a, x) in acc.iter_mut().zip(chunks.remainder()) {
        *a += x;
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: &str) -> Expr {
        Expr::var(n)
    }

    /// Separable log-densities covering the specialised loops (≤ 4
    /// coefficients and ≤ 4 parameters), the general ones (more
    /// coefficients; more parameters), shared and per-row Hessians, one
    /// and two data columns.
    /// With the number of coefficients `c_k` (1 and the data factors).
    type Case = (Expr, Vec<&'static str>, Vec<&'static str>, Vec<f64>, usize);

    fn models() -> Vec<Case> {
        let (a, b, c, x, y) = (v("a"), v("b"), v("c"), v("x"), v("y"));
        let ps: Vec<Expr> = ["p1", "p2", "p3", "p4", "p5"].into_iter().map(v).collect();
        vec![
            // Gamma-like: K = 3, d = 2, shared Hessian
            (
                a.clone() * Expr::log(x.clone()) - b.clone() * x.clone() + Expr::lgamma(a.clone()),
                vec!["a", "b"],
                vec!["x"],
                vec![2.0, 1.5],
                3,
            ),
            // K = 3, d = 1, per-row Hessian
            (
                a.clone() * Expr::log(x.clone()) - a.clone() * a.clone() * x.clone(),
                vec!["a"],
                vec!["x"],
                vec![0.7],
                3,
            ),
            // K = 6, d = 2, per-row Hessian: the general loop for d = 2
            (
                a.clone() * x.clone()
                    + b.clone() * Expr::powi(x.clone(), 2)
                    + a.clone() * a.clone() * Expr::log(x.clone())
                    + a.clone() * b.clone() * Expr::exp(-x.clone())
                    + Expr::powi(b.clone(), 3) * Expr::powi(x.clone(), 3)
                    - Expr::lgamma(b.clone()),
                vec!["a", "b"],
                vec!["x"],
                vec![0.3, 1.2],
                6,
            ),
            // K = 4, d = 3, two data columns, no data-free term
            (
                a.clone() * x.clone()
                    + b.clone() * y.clone()
                    + c.clone() * c.clone() * x.clone() * y.clone(),
                vec!["a", "b", "c"],
                vec!["x", "y"],
                vec![-0.4, 0.9, 1.1],
                4,
            ),
            // d = 5: the loop for any d
            (
                Expr::add(ps.iter().map(|p| p.clone() * x.clone()).collect())
                    + ps[0].clone() * ps[1].clone() * Expr::log(x.clone())
                    + ps[2].clone() * ps[2].clone() * Expr::powi(x.clone(), 2)
                    - ps[3].clone() * ps[4].clone(),
                vec!["p1", "p2", "p3", "p4", "p5"],
                vec!["x"],
                vec![0.5, -1.0, 0.25, 2.0, 1.5],
                4,
            ),
        ]
    }

    /// Rows of width `w` with positive values.
    fn data(n: usize, w: usize) -> Vec<f64> {
        (0..n * w)
            .map(|i| 0.05 + ((i * 7919) % 1000) as f64 / 400.0)
            .collect()
    }

    #[test]
    fn each_row_is_row_bit_for_bit() {
        for (logp, params, vars, theta, k) in models() {
            let s = Separable::detect(&logp, &params, &vars).expect("separable");
            assert_eq!(s.factors(), k, "{logp}: 1 and the data factors");
            let mut at = s.at(&theta).expect("finite coefficients");
            let (d, w, n) = (params.len(), vars.len(), 300);
            let rows = data(n, w);
            let mut seen = 0;
            // Two blocks of different sizes, the second not at row 0.
            for (start, len) in [(0, 256), (256, 44)] {
                let x = &rows[start * w..(start + len) * w];
                at.clone()
                    .each_row(&s, x, len, w, |i, val, g, h| {
                        let r = start + i;
                        assert_eq!(r, seen, "{logp}: rows in order");
                        seen += 1;
                        let (mut g0, mut h0) = (vec![0.0; d], vec![0.0; d * d]);
                        let v0 = at
                            .row(&s, &rows[r * w..(r + 1) * w], &mut g0, &mut h0)
                            .unwrap();
                        assert_eq!(val.to_bits(), v0.to_bits(), "{logp}: value, row {r}");
                        assert_eq!(g, &g0[..], "{logp}: score, row {r}");
                        assert_eq!(h, &h0[..], "{logp}: Hessian, row {r}");
                    })
                    .unwrap();
            }
            assert_eq!(seen, n);
            assert_eq!(
                at.hessian_is_shared(),
                params.len() == 2 && s.factors() == 3,
                "{logp}"
            );
        }
    }

    #[test]
    fn each_row_stops_at_the_first_failing_row() {
        for (logp, params, vars, theta, _) in models() {
            let s = Separable::detect(&logp, &params, &vars).expect("separable");
            let mut at = s.at(&theta).expect("finite coefficients");
            let (d, w) = (params.len(), vars.len());
            let has_log = format!("{logp}").contains("log");
            for bad in [0, 1, 100, 199] {
                let mut rows = data(200, w);
                // log 0 = −∞ where there is a log; an overflowing x otherwise
                rows[bad * w] = if has_log { 0.0 } else { f64::MAX };
                rows[(bad + 50).min(199) * w] = f64::INFINITY;
                let mut handed = Vec::new();
                let err = at
                    .each_row(&s, &rows, 200, w, |i, _, _, _| handed.push(i))
                    .unwrap_err();
                assert_eq!(err.0, bad, "{logp}");
                assert_eq!(handed, (0..bad).collect::<Vec<_>>(), "{logp}");
                let (mut g, mut h) = (vec![0.0; d], vec![0.0; d * d]);
                let direct = at
                    .row(&s, &rows[bad * w..(bad + 1) * w], &mut g, &mut h)
                    .unwrap_err();
                assert_eq!(err.1, direct, "{logp}");
            }
        }
    }
}
