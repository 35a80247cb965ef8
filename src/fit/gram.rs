//! Weighted Gram matrices `Σ_r w_r a_r b_rᵀ` over the rows of design
//! matrices: the dataset Fisher information of a GLM, `Xᵀ W X`, as a
//! blocked symmetric rank-k update.
//!
//! Rows are cut into fixed *blocks* of [`BLOCK_ROWS`] rows (independent of
//! the thread count, so results are bit-for-bit reproducible); rayon runs
//! blocks in parallel, each with its own d×d accumulator, and the
//! accumulators are added in block order. Inside a block, rows are taken
//! [`CHUNK_ROWS`] at a time: the caller fills the chunk's weights (fused
//! with whatever per-row work produces them, so the design is read from
//! memory once), the rows are scaled into a cache-resident copy, and the
//! update `Cᵢⱼ += A[:, I]ᵀ (w ⊙ A)[:, J]` runs as dgemm calls
//! (`matrixmultiply`, AVX-512/AVX2 kernels chosen at run time) on the
//! lower-triangular panel blocks only; the upper triangle is mirrored at
//! the end.

use nalgebra::DMatrix;
use rayon::prelude::*;
use std::ops::Range;

/// Rows per parallel block.
pub const BLOCK_ROWS: usize = 16_384;
/// Rows per cache-resident chunk inside a block.
pub const CHUNK_ROWS: usize = 1024;
/// Width of a column panel in the symmetric update.
const PANEL: usize = 16;

/// Design matrices of one or more linear forms: each `n × d`, row-major.
#[derive(Clone, Copy, Debug)]
pub struct Designs<'a> {
    /// `m` matrices, each with `n·d` values.
    pub forms: &'a [&'a [f64]],
    /// Number of rows.
    pub n: usize,
    /// Number of columns (parameters).
    pub d: usize,
}

/// Index of the pair (k, l), k ≤ l, in an upper triangle stored row by row.
pub fn pair_index(m: usize, k: usize, l: usize) -> usize {
    let (k, l) = (k.min(l), k.max(l));
    k * m - k * (k + 1) / 2 + l
}

/// `Σ_r Σ_kl w_kl(r) a_k(r) a_l(r)ᵀ` for the rows of `designs`: `fill`
/// writes, for a range of rows, the `m(m+1)/2` weight vectors (pairs
/// k ≤ l in [`pair_index`] order, each of the range's length). The result
/// is symmetric.
///
/// ```
/// use fimkit::fit::gram::{weighted_gram, Designs};
/// // rows (1, 2) and (1, -1) with weights 2 and 3
/// let x = [1.0, 2.0, 1.0, -1.0];
/// let f = weighted_gram(Designs { forms: &[&x], n: 2, d: 2 }, |rows, w| {
///     for (slot, r) in w[0].iter_mut().zip(rows) { *slot = [2.0, 3.0][r]; }
///     Ok::<(), ()>(())
/// }).unwrap();
/// assert_eq!(f[(0, 0)], 5.0);
/// assert_eq!(f[(0, 1)], 1.0);
/// assert_eq!(f[(1, 1)], 11.0);
/// ```
pub fn weighted_gram<E, F>(designs: Designs, fill: F) -> Result<DMatrix<f64>, E>
where
    E: Send,
    F: Fn(Range<usize>, &mut [Vec<f64>]) -> Result<(), E> + Sync,
{
    let Designs { forms, n, d } = designs;
    let m = forms.len();
    assert!(
        forms.iter().all(|f| f.len() == n * d),
        "design shape does not match n × d"
    );
    let pairs = m * (m + 1) / 2;
    let blocks = n.div_ceil(BLOCK_ROWS);
    let parts: Vec<Vec<f64>> = (0..blocks)
        .into_par_iter()
        .map(|b| {
            let rows = b * BLOCK_ROWS..((b + 1) * BLOCK_ROWS).min(n);
            let mut acc = vec![0.0; d * d];
            let mut cross = vec![0.0; if m > 1 { d * d } else { 0 }];
            let mut w: Vec<Vec<f64>> = vec![vec![0.0; CHUNK_ROWS]; pairs];
            let mut scaled = vec![0.0; CHUNK_ROWS * d];
            let mut start = rows.start;
            while start < rows.end {
                let end = (start + CHUNK_ROWS).min(rows.end);
                let len = end - start;
                for v in &mut w {
                    v.resize(len, 0.0);
                }
                fill(start..end, &mut w)?;
                for k in 0..m {
                    for l in k..m {
                        let wk = &w[pair_index(m, k, l)];
                        if wk.iter().all(|&x| x == 0.0) {
                            continue;
                        }
                        let a = &forms[k][start * d..end * d];
                        let bsrc = &forms[l][start * d..end * d];
                        for (r, &wr) in wk.iter().enumerate() {
                            let (dst, src) =
                                (&mut scaled[r * d..(r + 1) * d], &bsrc[r * d..(r + 1) * d]);
                            for (x, y) in dst.iter_mut().zip(src) {
                                *x = wr * y;
                            }
                        }
                        if k == l {
                            syrk_lower(a, &scaled[..len * d], len, d, &mut acc);
                        } else {
                            gemm_full(a, &scaled[..len * d], len, d, &mut cross);
                        }
                    }
                }
                start = end;
            }
            // Mirror the lower triangle, add the cross terms both ways.
            let mut out = vec![0.0; d * d];
            for i in 0..d {
                for j in 0..=i {
                    let v = acc[i * d + j];
                    out[i * d + j] = v;
                    out[j * d + i] = v;
                }
            }
            if m > 1 {
                for i in 0..d {
                    for j in 0..d {
                        out[i * d + j] += cross[i * d + j] + cross[j * d + i];
                    }
                }
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>, E>>()?;
    let mut total = vec![0.0; d * d];
    for p in parts {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    Ok(DMatrix::from_row_slice(d, d, &total))
}

/// `C[i][j] += Σ_r a[r][i] s[r][j]` for the lower panel blocks (i ≥ j up
/// to panel granularity) of a row-major `rows × d` pair.
fn syrk_lower(a: &[f64], s: &[f64], rows: usize, d: usize, c: &mut [f64]) {
    // Panel edges at multiples of PANEL (a multiple of the dgemm kernel's
    // 8-row tile), the last panel taking the remainder: fewer padded
    // tiles than an even split (d = 50: 16 + 16 + 18, not 25 + 25).
    let mut i0 = 0;
    while i0 < d {
        let i1 = if d - i0 < 2 * PANEL { d } else { i0 + PANEL };
        // Columns 0..i1: the panel row's blocks left of and on the diagonal.
        gemm_block(a, s, rows, d, (i0, i1), (0, i1), c);
        i0 = i1;
    }
}

/// `C += aᵀ s` in full.
fn gemm_full(a: &[f64], s: &[f64], rows: usize, d: usize, c: &mut [f64]) {
    gemm_block(a, s, rows, d, (0, d), (0, d), c);
}

/// `C[i0..i1, j0..j1] += a[:, i0..i1]ᵀ s[:, j0..j1]`, all row-major with
/// row length `d`.
fn gemm_block(
    a: &[f64],
    s: &[f64],
    rows: usize,
    d: usize,
    (i0, i1): (usize, usize),
    (j0, j1): (usize, usize),
    c: &mut [f64],
) {
    assert!(a.len() >= rows * d && s.len() >= rows * d && c.len() >= d * d);
    assert!(i0 <= i1 && i1 <= d && j0 <= j1 && j1 <= d);
    if rows == 0 || i1 == i0 || j1 == j0 {
        return;
    }
    let di = d as isize;
    // SAFETY: A' = a[:, i0..i1]ᵀ is (i1−i0) × rows with element (i, r) at
    // a[r·d + i0 + i]; B = s[:, j0..j1] is rows × (j1−j0) with (r, j) at
    // s[r·d + j0 + j]; C's block (i, j) is c[(i0+i)·d + j0 + j]. The
    // asserts above keep every index inside the slices, and `c` is a
    // unique borrow, so C does not alias A or B.
    unsafe {
        matrixmultiply::dgemm(
            i1 - i0,
            rows,
            j1 - j0,
            1.0,
            a.as_ptr().add(i0),
            1,
            di,
            s.as_ptr().add(j0),
            di,
            1,
            1.0,
            c.as_mut_ptr().add(i0 * d + j0),
            di,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(
        forms: &[Vec<f64>],
        n: usize,
        d: usize,
        w: &dyn Fn(usize, usize) -> f64,
    ) -> DMatrix<f64> {
        let m = forms.len();
        let mut f = DMatrix::zeros(d, d);
        for r in 0..n {
            for k in 0..m {
                for l in 0..m {
                    let wk = w(pair_index(m, k, l), r);
                    for i in 0..d {
                        for j in 0..d {
                            f[(i, j)] += wk * forms[k][r * d + i] * forms[l][r * d + j];
                        }
                    }
                }
            }
        }
        f
    }

    fn check(n: usize, d: usize, m: usize) {
        let forms: Vec<Vec<f64>> = (0..m)
            .map(|k| {
                (0..n * d)
                    .map(|i| ((i * 7 + k * 13) % 17) as f64 / 5.0 - 1.3)
                    .collect()
            })
            .collect();
        let w = |p: usize, r: usize| 0.5 + ((r * 3 + p) % 11) as f64 / 7.0;
        let refs: Vec<&[f64]> = forms.iter().map(|f| f.as_slice()).collect();
        let got = weighted_gram(Designs { forms: &refs, n, d }, |rows, ws| {
            for (p, v) in ws.iter_mut().enumerate() {
                for (slot, r) in v.iter_mut().zip(rows.clone()) {
                    *slot = w(p, r);
                }
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        let want = naive(&forms, n, d, &w);
        let scale = want.amax();
        assert!(
            (got.clone() - want).amax() <= 1e-12 * scale,
            "n={n} d={d} m={m}"
        );
        assert_eq!(got.clone(), got.transpose());
    }

    #[test]
    fn matches_the_naive_sum() {
        check(10, 3, 1);
        check(3000, 5, 1);
        check(2500, 70, 1); // several panels, several chunks
        check(1500, 4, 2);
        check(17, 3, 3);
    }
}
