//! The row engines: how one row's value, score and Hessian are computed
//! (data-separable, linear forms, compiled symbolic derivatives, stack or
//! heap second-order duals), and
//! the folds that run them over a dataset's rows in fixed chunks.

use super::*;
use crate::numeric::buffer::Part;
use crate::numeric::derivatives::{DerivativeTape, DerivativeWorkspace};
use crate::numeric::gram::{pair_index, weighted_grams_filled};
use crate::numeric::linear::{FORMS_BLOCK, FormsBlock};

/// First-order duals over the rows: the gradient-only path of
/// [`ModelFunctions::loglik_gradient`].
impl ModelFunctions {
    pub(super) fn gradient_static<const N: usize>(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
    ) -> Result<Vec<(f64, DVector<f64>)>, RowFailure> {
        let seeds: Vec<DualSVec64<N>> = (0..N)
            .map(|i| DualSVec64::<N>::from_re(theta[i]).derivative(i))
            .collect();
        self.gradient_rows(&seeds, data, |o: &DualSVec64<N>, g: &mut DVector<f64>| {
            let Some(e) = &o.eps.0 else { return true };
            for i in 0..N {
                g[i] += e[i];
            }
            e.iter().all(|v| v.is_finite())
        })
    }

    pub(super) fn gradient_dyn(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
    ) -> Result<Vec<(f64, DVector<f64>)>, RowFailure> {
        let d = theta.len();
        let seeds: Vec<DualDVec64> = (0..d)
            .map(|i| DualDVec64::from_re(theta[i]).derivative(d, i))
            .collect();
        self.gradient_rows(&seeds, data, |o: &DualDVec64, g: &mut DVector<f64>| {
            let Some(e) = &o.eps.0 else { return true };
            *g += e;
            e.iter().all(|v| v.is_finite())
        })
    }

    pub(super) fn gradient_rows<D: DualNum<Primitive = f64> + Send + Sync>(
        &self,
        seeds: &[D],
        data: &Dataset,
        add: impl Fn(&D, &mut DVector<f64>) -> bool + Sync,
    ) -> Result<Vec<(f64, DVector<f64>)>, RowFailure> {
        let mut base = self.tape.workspace::<D>();
        self.tape
            .set_params(seeds, &mut base)
            .map_err(|e| (None, e))?;
        let d = seeds.len();
        self.par_chunks(data, |rows| {
            let mut ws = base.clone();
            let mut v = 0.0;
            let mut g = DVector::zeros(d);
            for r in rows {
                let x = data.row(r).unwrap_or(&[]);
                self.tape.eval_row(x, &mut ws).map_err(|e| (Some(r), e))?;
                let o = self.tape.output(&ws, 0);
                v += o.re();
                if !add(&o, &mut g) {
                    return Err((
                        Some(r),
                        EvalError::NonFinite {
                            expr: format!("derivatives of {}", describe(&self.logp)),
                            value: f64::INFINITY,
                        },
                    ));
                }
            }
            Ok((v, g))
        })
    }
}

/// Rows per parallel work item (the chunks of [`ModelFunctions::fold_rows`]).
pub(crate) const CHUNK: usize = 2048;

/// Rows per block of the data-separable path (its data factors, one
/// column each, stay in the L1 cache).
pub(super) const SEPARABLE_BLOCK: usize = 256;

/// What [`ModelFunctions::sum_linear`] adds up.
pub(super) struct LinearSums {
    /// `Σ log p`.
    pub(super) v: f64,
    /// `Σ s`.
    pub(super) g: Vec<f64>,
    /// `Σ H`, d × d.
    pub(super) h: Vec<f64>,
    /// `Σ s sᵀ`, d × d, when asked for.
    pub(super) outer: Option<Vec<f64>>,
    /// The first row (from 1) whose `s sᵀ` overflows, and its largest `|s_k|`.
    pub(super) first_overflow: Option<(usize, f64)>,
}

/// One block's running sums in [`ModelFunctions::sum_linear`].
#[derive(Clone)]
struct RowAcc {
    v: f64,
    g: Vec<f64>,
    outer: Option<(usize, f64)>,
}

/// One row in its forms: value, derivatives (`g[..m]`, `h[i·4 + j]`) and
/// coefficient rows (`m × d`).
struct FormsOfRow<'a> {
    value: f64,
    g: &'a [f64; 4],
    h: &'a [f64; 16],
    a: &'a [f64],
}

/// A block of evaluated rows (internal to the folds).
pub(super) struct Block<'a> {
    /// Index of the block's first row.
    pub(super) first: usize,
    /// Values, one per row.
    pub(super) v: &'a [f64],
    /// Scores, d per row.
    pub(super) g: &'a [f64],
    /// Hessians, d² per row, or one d² shared by every row.
    pub(super) h: &'a [f64],
    pub(super) shared: bool,
}

impl ModelFunctions {
    /// [`ModelFunctions::sum_rows`] through the row engines, a block at a
    /// time.
    pub(super) fn sum_blocks(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
        d: usize,
    ) -> Result<(f64, Vec<f64>, Vec<f64>), NumericError> {
        let dd = d * d;
        let zero = || (0.0, vec![0.0; d], vec![0.0; dd]);
        self.fold_blocks(
            theta,
            data,
            zero,
            |acc, b| {
                let n = b.v.len();
                for i in 0..n {
                    acc.0 += b.v[i];
                    for (a, x) in acc.1.iter_mut().zip(&b.g[i * d..(i + 1) * d]) {
                        *a += x;
                    }
                }
                if b.shared {
                    let m = n as f64;
                    for (a, x) in acc.2.iter_mut().zip(&b.h[..dd]) {
                        *a += m * x;
                    }
                } else {
                    for hi in b.h[..n * dd].chunks_exact(dd.max(1)) {
                        for (a, x) in acc.2.iter_mut().zip(hi) {
                            *a += x;
                        }
                    }
                }
            },
            |mut a, b| {
                a.0 += b.0;
                a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y);
                a.2.iter_mut().zip(&b.2).for_each(|(x, y)| *x += y);
                a
            },
        )
    }

    /// [`ModelFunctions::sum_rows`] (and with `outer`,
    /// [`ModelFunctions::summary`]'s `Σ s sᵀ`) for a model that depends on
    /// θ through `m` linear forms `η_i = a_iᵀθ` (GLMs): per row only the
    /// value and the derivatives in the forms (m + m² numbers, not d + d²);
    /// the gradient `Σ g_i a_i` summed as it goes, the Hessian
    /// `Σ_ij h_ij a_i a_jᵀ` (and `Σ_ij g_i g_j a_i a_jᵀ`) by the weighted
    /// Gram kernel. Rows in fixed blocks, added in row order. Parameters
    /// and data are already checked.
    pub(super) fn sum_linear(
        &self,
        lh: &LinearHessian,
        theta: &DVector<f64>,
        data: &Dataset,
        outer: bool,
    ) -> Result<LinearSums, NumericError> {
        let (d, m, w) = (self.params.len(), lh.forms(), data.names().len());
        let pairs = m * (m + 1) / 2;
        let (t, values) = (theta.as_slice(), data.values());
        let tape = &self.tape;
        let base = (lh.workspace(), lh.block_workspace());
        // One row's sums and weights (row `r`, `i` in the chunk; `a` its
        // coefficient rows, m × d).
        let record = |acc: &mut RowAcc,
                      r: usize,
                      i: usize,
                      row: FormsOfRow<'_>,
                      weights: &mut [Vec<f64>]| {
            let FormsOfRow {
                value,
                g: gf,
                h: hf,
                a,
            } = row;
            acc.v += value;
            for k in 0..m {
                let ak = &a[k * d..(k + 1) * d];
                for (gj, aj) in acc.g.iter_mut().zip(ak) {
                    *gj += gf[k] * aj;
                }
                for l in k..m {
                    weights[pair_index(m, k, l)][i] = hf[k * 4 + l];
                    if outer {
                        weights[pairs + pair_index(m, k, l)][i] = gf[k] * gf[l];
                    }
                }
            }
            if outer && acc.outer.is_none() {
                acc.outer = score_overflow(&gf[..m], a, d).map(|big| (r + 1, big));
            }
        };
        // Rows one at a time: the general path, and the way to the first
        // failing row of a block that failed.
        let by_row = |ws: &mut LinearWorkspace,
                      acc: &mut RowAcc,
                      rows: std::ops::Range<usize>,
                      first: usize,
                      weights: &mut [Vec<f64>],
                      a: &mut [Vec<f64>]|
         -> Result<(), RowFailure> {
            for r in rows {
                let i = r - first;
                let x = &values[r * w..(r + 1) * w];
                let (value, g, h) = lh.forms_row(tape, t, x, ws).map_err(|e| (Some(r), e))?;
                let rows_a = lh.coefficient_rows(ws);
                for (k, ak) in a.iter_mut().enumerate() {
                    ak[i * d..(i + 1) * d].copy_from_slice(&rows_a[k * d..(k + 1) * d]);
                }
                let row = FormsOfRow {
                    value,
                    g: &g,
                    h: &h,
                    a: rows_a,
                };
                record(acc, r, i, row, weights);
            }
            Ok(())
        };
        let (grams, parts) = weighted_grams_filled(
            (data.n_rows(), d, m, if outer { 2 } else { 1 }),
            || {
                (
                    base.clone(),
                    RowAcc {
                        v: 0.0,
                        g: vec![0.0; d],
                        outer: None,
                    },
                )
            },
            |((ws, blk), acc), rows, weights, a| {
                let Some(blk) = blk else {
                    return by_row(ws, acc, rows.clone(), rows.start, weights, a);
                };
                // One form, gathered coefficients: a block of rows at a
                // time, the same numbers in the same order.
                let mut s = rows.start;
                while s < rows.end {
                    let n = FORMS_BLOCK.min(rows.end - s);
                    let i0 = s - rows.start;
                    let (x, a0) = (&values[s * w..(s + n) * w], &mut a[0][i0 * d..(i0 + n) * d]);
                    if lh.forms_block(t, x, n, w, blk, a0) {
                        // `record` for one form, a block at a time.
                        let (value, gf) = (&blk.value[..n], &blk.grad[..n]);
                        for &v in value {
                            acc.v += v;
                        }
                        for (&g, a) in gf.iter().zip(a0.chunks_exact(d)) {
                            for (gj, aj) in acc.g.iter_mut().zip(a) {
                                *gj += g * aj;
                            }
                        }
                        weights[0][i0..i0 + n].copy_from_slice(&blk.hess[..n]);
                        if outer {
                            for (o, &g) in weights[1][i0..i0 + n].iter_mut().zip(gf) {
                                *o = g * g;
                            }
                            for (j, (g, a)) in gf.iter().zip(a0.chunks_exact(d)).enumerate() {
                                if acc.outer.is_some() {
                                    break;
                                }
                                let big = score_overflow(std::slice::from_ref(g), a, d);
                                acc.outer = big.map(|big| (s + j + 1, big));
                            }
                        }
                    } else {
                        by_row(ws, acc, s..s + n, rows.start, weights, a)?;
                    }
                    s += n;
                }
                Ok(())
            },
        )
        .map_err(|(r, e): RowFailure| self.row_error(r, theta, data, e))?;
        let mut sums = LinearSums {
            v: 0.0,
            g: vec![0.0; d],
            // Symmetric: row-major = column-major.
            h: grams[0].as_slice().to_vec(),
            outer: grams.get(1).map(|f| f.as_slice().to_vec()),
            first_overflow: None,
        };
        for (_, acc) in parts {
            sums.v += acc.v;
            sums.g.iter_mut().zip(&acc.g).for_each(|(x, y)| *x += y);
            sums.first_overflow = sums.first_overflow.or(acc.outer);
        }
        Ok(sums)
    }

    /// The parameters and data checked; then, for a data-separable model
    /// whose coefficients are finite at θ, the split and its coefficients
    /// there (otherwise the general engines are used).
    pub(super) fn separable_at(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
    ) -> Result<Option<(&Separable, SeparableAt)>, NumericError> {
        self.check_params(theta)?;
        self.check_data(theta, data)?;
        Ok(match &self.strategy {
            Strategy::Separable(sep) => sep.at(theta.as_slice()).map(|at| (&**sep, at)),
            _ => None,
        })
    }

    /// The data-separable path of [`ModelFunctions::fold_rows`] and
    /// [`ModelFunctions::sum_rows`]: chunks of rows in parallel (one copy
    /// of `at` per rayon task), each chunk a block at a time through
    /// `block(acc, at, first row, rows, n, width)`, chunks reduced in row
    /// order. Parameters and data are already checked.
    pub(super) fn fold_separable<T, I, B, R>(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
        at: SeparableAt,
        init: I,
        block: B,
        reduce: R,
    ) -> Result<T, NumericError>
    where
        T: Send,
        I: Fn() -> T + Sync,
        B: Fn(
                &mut T,
                &mut SeparableAt,
                usize,
                &[f64],
                usize,
                usize,
            ) -> Result<(), (usize, EvalError)>
            + Sync,
        R: FnMut(T, T) -> T,
    {
        let w = data.names().len();
        let n_rows = data.n_rows();
        let parts = (0..n_rows.div_ceil(CHUNK))
            .into_par_iter()
            .map_init(
                || at.clone(),
                |at, c| {
                    let rows = c * CHUNK..((c + 1) * CHUNK).min(n_rows);
                    let mut acc = init();
                    let mut r0 = rows.start;
                    while r0 < rows.end {
                        let n = SEPARABLE_BLOCK.min(rows.end - r0);
                        let x = &data.values()[r0 * w..(r0 + n) * w];
                        block(&mut acc, at, r0, x, n, w).map_err(|(i, e)| (Some(r0 + i), e))?;
                        r0 += n;
                    }
                    Ok(acc)
                },
            )
            .collect::<Vec<_>>();
        let parts = first_failure(parts).map_err(|(r, e)| self.row_error(r, theta, data, e))?;
        let mut it = parts.into_iter();
        let first = it.next().unwrap_or_else(&init);
        Ok(it.fold(first, reduce))
    }

    /// The engine behind [`ModelFunctions::fold_rows`] and
    /// [`ModelFunctions::sum_rows`]: rows are evaluated a block at a time
    /// and handed to `fold` a block at a time, in row order within a
    /// chunk; chunks run in parallel and are reduced in row order.
    /// Parameters and data are already checked.
    pub(super) fn fold_blocks<T, I, F, R>(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
        init: I,
        fold: F,
        reduce: R,
    ) -> Result<T, NumericError>
    where
        T: Send,
        I: Fn() -> T + Sync,
        F: Fn(&mut T, Block<'_>) + Sync,
        R: FnMut(T, T) -> T,
    {
        let d = self.params.len();
        let w = data.names().len();
        let block = block_rows(d);
        let parts = self
            .with_engine(theta.as_slice(), |engine| {
                let engine: &dyn RowEngineDyn = &*engine;
                // One engine and one set of buffers per rayon task, reused
                // for all its chunks and blocks.
                let n_rows = data.n_rows();
                let buffers = || {
                    (
                        engine.boxed(),
                        vec![0.0; block],
                        vec![0.0; block * d],
                        vec![0.0; block * d * d],
                    )
                };
                (0..n_rows.div_ceil(CHUNK))
                    .into_par_iter()
                    .map_init(buffers, |(e, v, g, h), c| {
                        let rows = c * CHUNK..((c + 1) * CHUNK).min(n_rows);
                        let mut acc = init();
                        let mut r0 = rows.start;
                        while r0 < rows.end {
                            let n = block.min(rows.end - r0);
                            let x = &data.values()[r0 * w..(r0 + n) * w];
                            let shared = e
                                .block(&self.tape, x, n, w, v, g, h)
                                .map_err(|(i, err)| (Some(r0 + i), err))?;
                            let b = Block {
                                first: r0,
                                v: &v[..n],
                                g: &g[..n * d],
                                h,
                                shared,
                            };
                            fold(&mut acc, b);
                            r0 += n;
                        }
                        Ok(acc)
                    })
                    .collect::<Vec<_>>()
            })
            .map(first_failure)
            .map_err(|e| self.row_error(None, theta, data, e))?
            .map_err(|(r, e)| self.row_error(r, theta, data, e))?;
        let mut it = parts.into_iter();
        let first = it.next().unwrap_or_else(&init);
        Ok(it.fold(first, reduce))
    }

    /// Every row's value, score and Hessian straight into `v` (n), `g`
    /// (n·d) and `h` (n·d², row-major), a block at a time on this thread:
    /// no buffers in between, and each block's part of the outputs zeroed
    /// just before it is filled (in cache, not in a pass of its own). The
    /// numbers of [`ModelFunctions::fold_rows`] (the same engines, the
    /// same blocks). `false`, the parts untouched, for a model on the
    /// data-separable engine at θ, whose rows come from
    /// [`ModelFunctions::fold_rows`] without blocks.
    pub(crate) fn fill_rows(
        &self,
        theta: &DVector<f64>,
        data: &Dataset,
        v: &mut Part<'_>,
        g: &mut Part<'_>,
        h: &mut Part<'_>,
    ) -> Result<bool, NumericError> {
        let (n, d, w) = (data.n_rows(), self.params.len(), data.names().len());
        let dd = d * d;
        assert!(v.len() == n && g.len() == n * d && h.len() == n * dd);
        if self.separable_at(theta, data)?.is_some() {
            return Ok(false);
        }
        let block = block_rows(d);
        self.with_engine(theta.as_slice(), |e| {
            let mut r0 = 0;
            while r0 < n {
                let len = block.min(n - r0);
                let x = &data.values()[r0 * w..(r0 + len) * w];
                let (vs, gs, hs) = (
                    v.take_front(len).zeroed(),
                    g.take_front(len * d).zeroed(),
                    h.take_front(len * dd).zeroed(),
                );
                let shared = e
                    .block(&self.tape, x, len, w, vs, gs, hs)
                    .map_err(|(i, err)| (Some(r0 + i), err))?;
                if shared {
                    let (first, rest) = hs.split_at_mut(dd);
                    rest.chunks_exact_mut(dd.max(1))
                        .for_each(|hi| hi.copy_from_slice(first));
                }
                r0 += len;
            }
            Ok(())
        })
        .map_err(|e| self.row_error(None, theta, data, e))?
        .map_err(|(r, e)| self.row_error(r, theta, data, e))?;
        Ok(true)
    }

    /// Run `work` over fixed chunks of row indices in parallel; results in
    /// chunk order.
    pub(super) fn par_chunks<T, W>(
        &self,
        data: &Dataset,
        work: W,
    ) -> Result<Vec<T>, (Option<usize>, EvalError)>
    where
        T: Send,
        W: Fn(std::ops::Range<usize>) -> Result<T, (Option<usize>, EvalError)> + Sync,
    {
        let n = data.n_rows();
        let chunks = n.div_ceil(CHUNK);
        let parts = (0..chunks)
            .into_par_iter()
            .map(|c| work(c * CHUNK..((c + 1) * CHUNK).min(n)))
            .collect::<Vec<_>>();
        first_failure(parts)
    }

    /// Build the row engine for θ and hand it to `f`.
    pub(super) fn with_engine<T>(
        &self,
        theta: &[f64],
        f: impl FnOnce(&mut dyn RowEngineDyn) -> T,
    ) -> Result<T, EvalError> {
        match &self.strategy {
            Strategy::Separable(sep) => match sep.at(theta) {
                Some(at) => Ok(f(&mut SeparableEngine { sep, at })),
                None => Self::dense_engine(&self.tape, theta, f),
            },
            Strategy::Linear(lh) => {
                let blk = lh.block_workspace();
                let mut e = LinearEngine {
                    lh,
                    ws: lh.workspace(),
                    theta: theta.to_vec(),
                    a: vec![
                        0.0;
                        if blk.is_some() {
                            FORMS_BLOCK * theta.len()
                        } else {
                            0
                        }
                    ],
                    blk,
                };
                Ok(f(&mut e))
            }
            Strategy::Dense(_) => match self.derivative_tape() {
                Some(dt) => match dt.workspace(theta) {
                    Ok(ws) => Ok(f(&mut DerivativeEngine {
                        dt,
                        ws,
                        fallback: dense_boxed(&self.tape, theta)?,
                    })),
                    // The dense engine's set-up names the failure.
                    Err(_) => Self::dense_engine(&self.tape, theta, f),
                },
                None => Self::dense_engine(&self.tape, theta, f),
            },
        }
    }

    /// The general engine: second-order duals in every direction.
    pub(super) fn dense_engine<T>(
        tape: &Tape,
        theta: &[f64],
        f: impl FnOnce(&mut dyn RowEngineDyn) -> T,
    ) -> Result<T, EvalError> {
        Ok(f(&mut *dense_boxed(tape, theta)?))
    }
}

/// The chunks' results in chunk order, or the first chunk's failure (the
/// lowest failing row): rayon's own collecting into a `Result` keeps
/// whichever failure a thread met first in time.
fn first_failure<T, E>(parts: Vec<Result<T, E>>) -> Result<Vec<T>, E> {
    parts.into_iter().collect()
}

/// A row's largest score entry `|Σ_k g_k a_kj|` (forms' derivatives `g`,
/// coefficient rows `a`, m × d) when its square overflows: the row whose
/// `s sᵀ` the outer-product sums report.
fn score_overflow(g: &[f64], a: &[f64], d: usize) -> Option<f64> {
    let big = (0..d)
        .map(|j| {
            (g.iter().enumerate())
                .map(|(k, gk)| gk * a[k * d + j])
                .sum::<f64>()
                .abs()
        })
        .fold(0.0f64, f64::max);
    (!(big * big).is_finite()).then_some(big)
}

/// Rows per block of the row engines for d parameters: the buffers of a
/// block stay within 32 kB (one L1 cache).
fn block_rows(d: usize) -> usize {
    (4096 / (1 + d + d * d)).clamp(1, 256)
}

/// Second-order duals in every direction: on the stack for up to 8
/// parameters, else on the heap.
fn dense_boxed(tape: &Tape, theta: &[f64]) -> Result<Box<dyn RowEngineDyn>, EvalError> {
    Ok(match theta.len() {
        1 => Box::new(StaticEngine::<1>::new(tape, theta)?),
        2 => Box::new(StaticEngine::<2>::new(tape, theta)?),
        3 => Box::new(StaticEngine::<3>::new(tape, theta)?),
        4 => Box::new(StaticEngine::<4>::new(tape, theta)?),
        5 => Box::new(StaticEngine::<5>::new(tape, theta)?),
        6 => Box::new(StaticEngine::<6>::new(tape, theta)?),
        7 => Box::new(StaticEngine::<7>::new(tape, theta)?),
        8 => Box::new(StaticEngine::<8>::new(tape, theta)?),
        _ => Box::new(DynEngine::new(tape, theta)?),
    })
}

/// Compiled symbolic derivatives a block of rows at a time
/// ([`crate::numeric::derivatives`]); a block they cannot evaluate (an
/// instruction error, a value that is not finite) is rerun row by row by
/// the dense engine, which names the failing row.
pub(super) struct DerivativeEngine<'a> {
    dt: &'a DerivativeTape,
    ws: DerivativeWorkspace,
    fallback: Box<dyn RowEngineDyn + 'a>,
}

impl RowEngineDyn for DerivativeEngine<'_> {
    fn row(
        &mut self,
        tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError> {
        let mut v = [0.0];
        match self.dt.eval_block(x, 1, &mut self.ws, &mut v, g, h) {
            Ok(()) => Ok(v[0]),
            Err(_) => self.fallback.row(tape, x, g, h),
        }
    }
    fn block(
        &mut self,
        tape: &Tape,
        x: &[f64],
        n: usize,
        w: usize,
        v: &mut [f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<bool, (usize, EvalError)> {
        let d = if n == 0 { 0 } else { g.len() / v.len() };
        // Blocks of equal length: 195 rows as 98 + 97, not 128 + 67.
        let parts = n.div_ceil(self.ws.capacity()).max(1);
        let even = n.div_ceil(parts);
        let mut s = 0;
        while s < n {
            let len = even.min(n - s);
            let (vs, gs, hs) = (
                &mut v[s..s + len],
                &mut g[s * d..(s + len) * d],
                &mut h[s * d * d..(s + len) * d * d],
            );
            let xs = &x[s * w..(s + len) * w];
            if self
                .dt
                .eval_block(xs, len, &mut self.ws, vs, gs, hs)
                .is_err()
            {
                self.fallback
                    .block(tape, xs, len, w, vs, gs, hs)
                    .map_err(|(i, e)| (s + i, e))?;
            }
            s += len;
        }
        Ok(false)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_> {
        Box::new(DerivativeEngine {
            dt: self.dt,
            ws: self.ws.clone(),
            fallback: self.fallback.boxed(),
        })
    }
}

/// Per-row value, score and Hessian for a fixed θ (object-safe, cloneable
/// through [`RowEngineDyn::boxed`]).
pub(super) trait RowEngineDyn: Send + Sync {
    fn row(
        &mut self,
        tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError>;
    /// `n` rows of width `w` (row-major in `x`): values into `v[..n]`,
    /// scores into `g[..n·d]`, Hessians into `h[..n·d²]` (or `true` when
    /// every row's Hessian is the same, in `h[..d²]`); on failure the
    /// first failing row's index in the block.
    #[expect(clippy::too_many_arguments, reason = "output buffers")]
    fn block(
        &mut self,
        tape: &Tape,
        x: &[f64],
        n: usize,
        w: usize,
        v: &mut [f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<bool, (usize, EvalError)> {
        let d = if n == 0 { 0 } else { g.len() / v.len() };
        for i in 0..n {
            v[i] = self
                .row(
                    tape,
                    &x[i * w..(i + 1) * w],
                    &mut g[i * d..(i + 1) * d],
                    &mut h[i * d * d..(i + 1) * d * d],
                )
                .map_err(|e| (i, e))?;
        }
        Ok(false)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_>;
}

/// A non-finite derivative is an error (named later by term).
pub(super) fn all_finite(tape: &Tape, g: &[f64], h: &[f64]) -> Result<(), EvalError> {
    match g.iter().chain(h).copied().find(|v| !v.is_finite()) {
        None => Ok(()),
        Some(value) => Err(EvalError::NonFinite {
            expr: format!("derivatives of {}", describe(&tape.exprs()[0])),
            value,
        }),
    }
}

#[derive(Clone)]
pub(super) struct StaticEngine<const N: usize> {
    ws: Workspace<Dual2SVec64<N>>,
}

impl<const N: usize> StaticEngine<N> {
    fn new(tape: &Tape, theta: &[f64]) -> Result<Self, EvalError> {
        let seeds: Vec<Dual2SVec64<N>> = (0..N)
            .map(|i| Dual2SVec64::<N>::from_re(theta[i]).derivative(i))
            .collect();
        let mut ws = tape.workspace();
        tape.set_params(&seeds, &mut ws)?;
        Ok(StaticEngine { ws })
    }
}

impl<const N: usize> RowEngineDyn for StaticEngine<N> {
    fn row(
        &mut self,
        tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError> {
        tape.eval_row(x, &mut self.ws)?;
        let o = tape.output(&self.ws, 0);
        match o.v1.0 {
            Some(v) => g.copy_from_slice(v.as_slice()),
            None => g.fill(0.0),
        }
        match o.v2.0 {
            // Symmetric: column-major = row-major.
            Some(m) => h.copy_from_slice(m.as_slice()),
            None => h.fill(0.0),
        }
        all_finite(tape, g, h)?;
        Ok(o.re)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_> {
        Box::new(self.clone())
    }
}

#[derive(Clone)]
pub(super) struct DynEngine {
    ws: Workspace<Dual2Vec<f64, Dyn>>,
}

impl DynEngine {
    fn new(tape: &Tape, theta: &[f64]) -> Result<Self, EvalError> {
        let d = theta.len();
        let seeds: Vec<Dual2Vec<f64, Dyn>> = (0..d)
            .map(|i| {
                let mut s = Dual2Vec::<f64, Dyn>::from_re(theta[i]);
                s.v1 = Derivative::derivative_generic(U1, Dyn(d), i);
                s
            })
            .collect();
        let mut ws = tape.workspace();
        tape.set_params(&seeds, &mut ws)?;
        Ok(DynEngine { ws })
    }
}

impl RowEngineDyn for DynEngine {
    fn row(
        &mut self,
        tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError> {
        tape.eval_row(x, &mut self.ws)?;
        let o = tape.output(&self.ws, 0);
        match &o.v1.0 {
            Some(v) => g.copy_from_slice(v.as_slice()),
            None => g.fill(0.0),
        }
        match &o.v2.0 {
            Some(m) => h.copy_from_slice(m.as_slice()),
            None => h.fill(0.0),
        }
        all_finite(tape, g, h)?;
        Ok(o.re)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_> {
        Box::new(self.clone())
    }
}

#[derive(Clone)]
pub(super) struct LinearEngine<'a> {
    lh: &'a LinearHessian,
    ws: LinearWorkspace,
    theta: Vec<f64>,
    /// Registers of the block evaluator, for one gathered form.
    blk: Option<FormsBlock>,
    /// The block's coefficient rows.
    a: Vec<f64>,
}

/// Rows `rows` of a block one at a time ([`LinearHessian::eval_row`]):
/// the general path of [`LinearEngine`], and a block the block evaluator
/// gave back.
fn one_by_one(
    (lh, theta, ws): (&LinearHessian, &[f64], &mut LinearWorkspace),
    tape: &Tape,
    x: &[f64],
    rows: std::ops::Range<usize>,
    w: usize,
    (v, g, h): (&mut [f64], &mut [f64], &mut [f64]),
) -> Result<(), (usize, EvalError)> {
    let d = theta.len();
    for i in rows {
        let (gi, hi) = (
            &mut g[i * d..(i + 1) * d],
            &mut h[i * d * d..(i + 1) * d * d],
        );
        let xi = &x[i * w..(i + 1) * w];
        v[i] = lh
            .eval_row(tape, theta, xi, ws, gi, hi)
            .map_err(|e| (i, e))?;
    }
    Ok(())
}

impl RowEngineDyn for LinearEngine<'_> {
    fn row(
        &mut self,
        tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError> {
        self.lh.eval_row(tape, &self.theta, x, &mut self.ws, g, h)
    }
    /// One gathered form: [`LinearHessian::forms_block`] over the rows,
    /// then each row's score `g(η)·a` and Hessian `h(η)·a aᵀ` (the
    /// products of [`LinearHessian::eval_row`], so the same numbers).
    fn block(
        &mut self,
        tape: &Tape,
        x: &[f64],
        n: usize,
        w: usize,
        v: &mut [f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<bool, (usize, EvalError)> {
        let LinearEngine {
            lh,
            ws,
            theta,
            blk,
            a: rows_a,
        } = self;
        let d = theta.len();
        let Some(blk) = blk else {
            one_by_one((lh, theta, ws), tape, x, 0..n, w, (v, g, h))?;
            return Ok(false);
        };
        let mut s = 0;
        while s < n {
            let len = FORMS_BLOCK.min(n - s);
            let xs = &x[s * w..(s + len) * w];
            if lh.forms_block(theta, xs, len, w, blk, rows_a) {
                for j in 0..len {
                    let i = s + j;
                    let a = &rows_a[j * d..(j + 1) * d];
                    v[i] = blk.value[j];
                    let (g0, h0) = (blk.grad[j], blk.hess[j]);
                    for (gk, ak) in g[i * d..(i + 1) * d].iter_mut().zip(a) {
                        *gk = g0 * ak;
                    }
                    let hi = &mut h[i * d * d..(i + 1) * d * d];
                    for (k, row) in hi.chunks_exact_mut(d).enumerate() {
                        let c = h0 * a[k];
                        for (hk, al) in row.iter_mut().zip(a) {
                            *hk = c * al;
                        }
                    }
                }
            } else {
                one_by_one((lh, theta, ws), tape, x, s..s + len, w, (v, g, h))?;
            }
            s += len;
        }
        Ok(false)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_> {
        Box::new(self.clone())
    }
}

#[derive(Clone)]
pub(super) struct SeparableEngine<'a> {
    sep: &'a Separable,
    at: SeparableAt,
}

impl RowEngineDyn for SeparableEngine<'_> {
    fn row(
        &mut self,
        _tape: &Tape,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, EvalError> {
        self.at.row(self.sep, x, g, h)
    }
    fn boxed(&self) -> Box<dyn RowEngineDyn + '_> {
        Box::new(self.clone())
    }
}
