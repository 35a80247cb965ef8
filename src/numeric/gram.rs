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
/// use fimkit::numeric::gram::{weighted_gram, Designs};
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
    assert!(
        forms.iter().all(|f| f.len() == n * d),
        "design shape does not match n × d"
    );
    let (mut grams, _) = gram_core(
        (n, d, forms.len(), 1),
        Some(forms),
        || (),
        |_, rows, w, _| fill(rows, w),
    )?;
    Ok(grams.remove(0))
}

/// [`weighted_gram`] for designs that are not in memory, under `sets`
/// weightings at once (the designs are filled and read once).
/// `fill(state, rows, w, a)` writes, for a range of at most
/// [`CHUNK_ROWS`] rows, `sets · m(m+1)/2` weight vectors, set by set, each
/// laid out as [`weighted_gram`]'s, and the `m` designs' rows (`a[k]`,
/// `len × d` row-major), and may add anything else it computes per row
/// into `state`. Each parallel block of [`BLOCK_ROWS`] rows starts from
/// `init()`; the states come back in row order, beside one Gram matrix a
/// set.
///
/// ```
/// use fimkit::numeric::gram::weighted_grams_filled;
/// // rows (1, r) for r = 0..4, weight r: Σ r·(1, r)(1, r)ᵀ; state Σ r
/// let (f, sums) = weighted_grams_filled((4, 2, 1, 1), || 0.0, |s, rows, w, a| {
///     for (i, r) in rows.enumerate() {
///         w[0][i] = r as f64;
///         a[0][2 * i..2 * i + 2].copy_from_slice(&[1.0, r as f64]);
///         *s += r as f64;
///     }
///     Ok::<(), ()>(())
/// }).unwrap();
/// assert_eq!((f[0][(0, 0)], f[0][(0, 1)], f[0][(1, 1)]), (6.0, 14.0, 36.0));
/// assert_eq!(sums, vec![6.0]);
/// ```
pub fn weighted_grams_filled<S, E, I, F>(
    (n, d, m, sets): (usize, usize, usize, usize),
    init: I,
    fill: F,
) -> Result<(Vec<DMatrix<f64>>, Vec<S>), E>
where
    S: Send,
    E: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, Range<usize>, &mut [Vec<f64>], &mut [Vec<f64>]) -> Result<(), E> + Sync,
{
    gram_core((n, d, m, sets), None, init, fill)
}

/// The blocked update behind [`weighted_gram`] (designs `given`) and
/// [`weighted_grams_filled`] (designs written by `fill` a chunk at a time).
fn gram_core<S, E, I, F>(
    (n, d, m, sets): (usize, usize, usize, usize),
    given: Option<&[&[f64]]>,
    init: I,
    fill: F,
) -> Result<(Vec<DMatrix<f64>>, Vec<S>), E>
where
    S: Send,
    E: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, Range<usize>, &mut [Vec<f64>], &mut [Vec<f64>]) -> Result<(), E> + Sync,
{
    let pairs = m * (m + 1) / 2;
    let fast = kernel::available();
    // Row length of the scaled copy: padded to whole 8-lane vectors for
    // the register-blocked kernel (the padding stays zero).
    let stride = if fast { d.next_multiple_of(8) } else { d };
    let blocks = n.div_ceil(BLOCK_ROWS);
    // Chunk buffers for designs that are filled (none when given).
    let filled = if given.is_some() { 0 } else { m };
    let parts: Vec<(Vec<Vec<f64>>, S)> = (0..blocks)
        .into_par_iter()
        .map_init(
            // Scratch reused across a worker's blocks (the scaled copy's
            // padding is never written, so it stays zero).
            || {
                let w: Vec<Vec<f64>> = vec![vec![0.0; CHUNK_ROWS]; pairs * sets];
                let a: Vec<Vec<f64>> = vec![vec![0.0; CHUNK_ROWS * d]; filled];
                (w, a, vec![0.0; CHUNK_ROWS * stride])
            },
            |(w, abuf, scaled), b| {
                let rows = b * BLOCK_ROWS..((b + 1) * BLOCK_ROWS).min(n);
                let mut state = init();
                let mut accs = vec![vec![0.0; d * d]; sets];
                let mut crosses = vec![vec![0.0; if m > 1 { d * d } else { 0 }]; sets];
                let mut start = rows.start;
                while start < rows.end {
                    let end = (start + CHUNK_ROWS).min(rows.end);
                    let len = end - start;
                    for v in w.iter_mut() {
                        v.resize(len, 0.0);
                    }
                    fill(&mut state, start..end, w, abuf)?;
                    let design = |k: usize| match given {
                        Some(forms) => &forms[k][start * d..end * d],
                        None => &abuf[k][..len * d],
                    };
                    for (set, (acc, cross)) in accs.iter_mut().zip(&mut crosses).enumerate() {
                        for k in 0..m {
                            for l in k..m {
                                let wk = &w[set * pairs + pair_index(m, k, l)];
                                if wk.iter().all(|&x| x == 0.0) {
                                    continue;
                                }
                                let (a, bsrc) = (design(k), design(l));
                                for (r, &wr) in wk.iter().enumerate() {
                                    let (dst, src) = (
                                        &mut scaled[r * stride..r * stride + d],
                                        &bsrc[r * d..(r + 1) * d],
                                    );
                                    for (x, y) in dst.iter_mut().zip(src) {
                                        *x = wr * y;
                                    }
                                }
                                if fast {
                                    // C[i][j] += Σ_r s[r][i] a[r][j]: the transpose
                                    // of the product below, the same where it is
                                    // read (the symmetric lower triangle, and the
                                    // cross term added both ways).
                                    kernel::update(
                                        &scaled[..len * stride],
                                        stride,
                                        a,
                                        d,
                                        len,
                                        k == l,
                                        if k == l { acc } else { cross },
                                    );
                                } else if k == l {
                                    syrk_lower(a, &scaled[..len * d], len, d, acc);
                                } else {
                                    gemm_full(a, &scaled[..len * d], len, d, cross);
                                }
                            }
                        }
                    }
                    start = end;
                }
                // Mirror the lower triangle, add the cross terms both ways.
                let outs: Vec<Vec<f64>> = accs
                    .iter()
                    .zip(&crosses)
                    .map(|(acc, cross)| {
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
                        out
                    })
                    .collect();
                Ok((outs, state))
            },
        )
        .collect::<Result<Vec<_>, E>>()?;
    let mut totals = vec![vec![0.0; d * d]; sets];
    let mut states = Vec::with_capacity(parts.len());
    for (outs, s) in parts {
        for (total, p) in totals.iter_mut().zip(outs) {
            for (t, v) in total.iter_mut().zip(p) {
                *t += v;
            }
        }
        states.push(s);
    }
    let grams = totals
        .iter()
        .map(|t| DMatrix::from_row_slice(d, d, t))
        .collect();
    Ok((grams, states))
}

/// The register-blocked update on x86-64 with AVX-512: no packing, since
/// a row of the (scaled, padded) chunk is already a run of whole vectors
/// along `i` and a row of the design gives the broadcasts along `j`.
mod kernel {
    /// Vectors of 8 lanes along `i` per tile.
    const MV: usize = 3;
    /// Columns `j` per tile.
    const NR: usize = 8;

    /// Is the AVX-512 kernel usable on this machine?
    pub fn available() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx512f")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// `C[i][j] += Σ_r s[r·ds + i] · a[r·d + j]` for `rows` rows, `s` padded
    /// (`ds` a multiple of 8, `ds ≥ d`), `c` row-major `d × d`: every
    /// entry when `!lower`, else at least those with `i ≥ j`.
    /// Call only when [`available`].
    ///
    /// Rows are taken a few dozen at a time, so that the rows' values stay
    /// in L1 while every tile passes over them; each tile's accumulators
    /// are loaded and stored once per group.
    pub fn update(
        s: &[f64],
        ds: usize,
        a: &[f64],
        d: usize,
        rows: usize,
        lower: bool,
        c: &mut [f64],
    ) {
        assert!(ds.is_multiple_of(8) && ds >= d);
        assert!(s.len() >= rows * ds && a.len() >= rows * d && c.len() >= d * d);
        if rows == 0 || d == 0 {
            return;
        }
        // The tiles: (i0, mv, j0, nr).
        let mut tiles = Vec::new();
        let mut i0 = 0;
        while i0 < d {
            let mv = ((ds - i0) / 8).min(MV);
            let i_end = (i0 + 8 * mv).min(d);
            let mut j0 = 0;
            while j0 < d && (!lower || j0 < i_end) {
                let nr = (d - j0).min(NR);
                tiles.push((i0, mv, j0, nr));
                j0 += nr;
            }
            i0 += 8 * mv;
        }
        let mut acc = vec![[0.0; TILE]; tiles.len()];
        // About 24 KB of rows per group.
        let group = (3072 / (ds + d)).max(16);
        let mut r0 = 0;
        while r0 < rows {
            let r1 = (r0 + group).min(rows);
            let (sg, ag) = (&s[r0 * ds..r1 * ds], &a[r0 * d..r1 * d]);
            for (&(i0, mv, j0, nr), t) in tiles.iter().zip(acc.iter_mut()) {
                tile(sg, ds, ag, d, r1 - r0, (i0, mv), (j0, nr), t);
            }
            r0 = r1;
        }
        for (&(i0, mv, j0, nr), t) in tiles.iter().zip(&acc) {
            let i_end = (i0 + 8 * mv).min(d);
            for jj in 0..nr {
                for ii in 0..i_end - i0 {
                    c[(i0 + ii) * d + j0 + jj] += t[jj * mv * 8 + ii];
                }
            }
        }
    }

    /// Values in one tile's accumulator.
    const TILE: usize = MV * 8 * NR;

    /// One `8·mv × nr` tile added into `out` (`out[j·8·mv + i]`).
    #[expect(clippy::too_many_arguments)]
    fn tile(
        s: &[f64],
        ds: usize,
        a: &[f64],
        d: usize,
        rows: usize,
        (i0, mv): (usize, usize),
        (j0, nr): (usize, usize),
        out: &mut [f64; TILE],
    ) {
        assert!((1..=MV).contains(&mv) && (1..=NR).contains(&nr));
        assert!(i0 + 8 * mv <= ds && j0 + nr <= d);
        assert!(rows >= 1 && s.len() >= rows * ds && a.len() >= rows * d);
        #[cfg(target_arch = "x86_64")]
        {
            let (sp, ap, op) = (s[i0..].as_ptr(), a[j0..].as_ptr(), out.as_mut_ptr());
            macro_rules! dispatch {
                ($($m:literal),*; $($n:literal),*) => {
                    dispatch!(@m [$($m),*] [$($n),*])
                };
                (@m [$($m:literal),*] $ns:tt) => {
                    match mv {
                        $($m => dispatch!(@n $m $ns),)*
                        _ => unreachable!(),
                    }
                };
                (@n $m:literal [$($n:literal),*]) => {
                    match nr {
                        // SAFETY: the asserts above keep every read of
                        // row r < rows inside s (lanes i0..i0+8·mv ≤ ds)
                        // and a (columns j0..j0+nr ≤ d), and out holds
                        // 8·mv·nr values; the caller checked AVX-512F.
                        $($n => unsafe { avx512::tile::<$m, $n>(sp, ds, ap, d, rows, op) },)*
                        _ => unreachable!(),
                    }
                };
            }
            dispatch!(1, 2, 3; 1, 2, 3, 4, 5, 6, 7, 8);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (s, ds, a, d, rows, i0, mv, j0, nr, out);
            unreachable!("the AVX-512 kernel runs only on x86-64");
        }
    }

    #[cfg(target_arch = "x86_64")]
    mod avx512 {
        use std::arch::x86_64::*;

        /// `out[j·8·M + 8·v + l] += Σ_r s[r·ds + 8·v + l] · a[r·d + j]`.
        ///
        /// # Safety
        /// AVX-512F available; for r < rows, `s + r·ds` readable for 8·M
        /// values and `a + r·d` for N; `out` writable for 8·M·N; rows ≥ 1.
        #[target_feature(enable = "avx512f")]
        pub unsafe fn tile<const M: usize, const N: usize>(
            s: *const f64,
            ds: usize,
            a: *const f64,
            d: usize,
            rows: usize,
            out: *mut f64,
        ) {
            let mut acc = [[_mm512_setzero_pd(); M]; N];
            for (j, accj) in acc.iter_mut().enumerate() {
                for (k, acck) in accj.iter_mut().enumerate() {
                    // SAFETY: out holds 8·M·N values.
                    *acck = unsafe { _mm512_loadu_pd(out.add((j * M + k) * 8)) };
                }
            }
            for r in 0..rows {
                // SAFETY: in bounds by the function's contract.
                unsafe {
                    let sp = s.add(r * ds);
                    let ap = a.add(r * d);
                    let mut v = [_mm512_setzero_pd(); M];
                    for (k, vk) in v.iter_mut().enumerate() {
                        *vk = _mm512_loadu_pd(sp.add(8 * k));
                    }
                    for (j, accj) in acc.iter_mut().enumerate() {
                        let b = _mm512_set1_pd(*ap.add(j));
                        for (acck, vk) in accj.iter_mut().zip(&v) {
                            *acck = _mm512_fmadd_pd(*vk, b, *acck);
                        }
                    }
                }
            }
            for (j, accj) in acc.iter().enumerate() {
                for (k, acck) in accj.iter().enumerate() {
                    // SAFETY: out holds 8·M·N values.
                    unsafe { _mm512_storeu_pd(out.add((j * M + k) * 8), *acck) };
                }
            }
        }
    }
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

    /// The filled variant gives the given variant's matrix bit for bit,
    /// and the per-block states in row order.
    fn check_filled(n: usize, d: usize, m: usize) {
        let forms: Vec<Vec<f64>> = (0..m)
            .map(|k| {
                (0..n * d)
                    .map(|i| ((i * 5 + k * 3) % 13) as f64 / 3.0 - 2.0)
                    .collect()
            })
            .collect();
        let w = |p: usize, r: usize| ((r * 7 + p) % 9) as f64 / 4.0 - 1.0;
        let fill_w = |rows: Range<usize>, ws: &mut [Vec<f64>]| {
            for (p, v) in ws.iter_mut().enumerate() {
                for (slot, r) in v.iter_mut().zip(rows.clone()) {
                    *slot = w(p, r);
                }
            }
        };
        let refs: Vec<&[f64]> = forms.iter().map(|f| f.as_slice()).collect();
        let given = weighted_gram(Designs { forms: &refs, n, d }, |rows, ws| {
            fill_w(rows, ws);
            Ok::<(), ()>(())
        })
        .unwrap();
        let (mut filled, states) = weighted_grams_filled(
            (n, d, m, 1),
            Vec::new,
            |seen: &mut Vec<usize>, rows, ws, a| {
                fill_w(rows.clone(), ws);
                for (k, ak) in a.iter_mut().enumerate() {
                    let src = &forms[k][rows.start * d..rows.end * d];
                    ak[..src.len()].copy_from_slice(src);
                }
                seen.extend(rows);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(given, filled.remove(0), "n={n} d={d} m={m}");
        let order: Vec<usize> = states.into_iter().flatten().collect();
        assert_eq!(order, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn filled_designs_match_given_ones() {
        check_filled(40_000, 3, 1); // several parallel blocks
        check_filled(1500, 9, 2);
        check_filled(0, 4, 1);
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
