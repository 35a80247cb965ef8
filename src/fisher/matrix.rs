//! Small symbolic matrices: determinant and inverse by cofactors, for the
//! dimensions where a closed form is readable.

use crate::ir::expr::{Expr, Name};
use crate::symbolic::tidy;

/// A dense matrix of expressions, row-major.
pub type Matrix = Vec<Vec<Expr>>;

/// Determinant by cofactor expansion along the first row (with zero
/// entries skipped, so diagonal and sparse matrices stay cheap).
///
/// ```
/// use fimkit::ir::Expr;
/// use fimkit::fisher::matrix::det;
/// let (a, b) = (Expr::var("a"), Expr::var("b"));
/// let m = vec![vec![a.clone(), Expr::zero()], vec![Expr::zero(), b.clone()]];
/// assert_eq!(det(&m), a * b);
/// ```
pub fn det(m: &Matrix) -> Expr {
    let n = m.len();
    match n {
        0 => Expr::one(),
        1 => m[0][0].clone(),
        2 => Expr::sub(
            Expr::mul2(m[0][0].clone(), m[1][1].clone()),
            Expr::mul2(m[0][1].clone(), m[1][0].clone()),
        ),
        _ => {
            let mut terms = Vec::new();
            for j in 0..n {
                if m[0][j].is_zero() {
                    continue;
                }
                let sign = if j % 2 == 0 {
                    Expr::one()
                } else {
                    Expr::int(-1)
                };
                terms.push(Expr::mul(vec![sign, m[0][j].clone(), det(&minor(m, 0, j))]));
            }
            Expr::add(terms)
        }
    }
}

/// The matrix without row `r` and column `c`.
pub fn minor(m: &Matrix, r: usize, c: usize) -> Matrix {
    m.iter()
        .enumerate()
        .filter(|(i, _)| *i != r)
        .map(|(_, row)| {
            row.iter()
                .enumerate()
                .filter(|(j, _)| *j != c)
                .map(|(_, e)| e.clone())
                .collect()
        })
        .collect()
}

/// Inverse as adjugate / det, given the determinant (non-zero).
pub fn inverse_with_det(m: &Matrix, det: &Expr) -> Matrix {
    let n = m.len();
    let inv_det = Expr::recip(det.clone());
    if n == 1 {
        return vec![vec![inv_det]];
    }
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    let cof = self::det(&minor(m, j, i));
                    let sign = if (i + j) % 2 == 0 {
                        Expr::one()
                    } else {
                        Expr::int(-1)
                    };
                    Expr::mul(vec![sign, cof, inv_det.clone()])
                })
                .collect()
        })
        .collect()
}

/// A symmetric matrix from a function of the upper triangle (`i <= j`).
#[expect(
    clippy::needless_range_loop,
    reason = "both triangles are written from one index pair"
)]
pub fn symmetric<E>(
    n: usize,
    mut entry: impl FnMut(usize, usize) -> Result<Expr, E>,
) -> Result<Matrix, E> {
    let mut out = vec![vec![Expr::zero(); n]; n];
    for i in 0..n {
        for j in i..n {
            let e = entry(i, j)?;
            out[j][i] = e.clone();
            out[i][j] = e;
        }
    }
    Ok(out)
}

/// Jᵀ A J for a square `a` (p×p) and `j` (p×q).
pub fn congruence(a: &Matrix, j: &Matrix) -> Matrix {
    let p = a.len();
    let q = j.first().map_or(0, Vec::len);
    let mut out = vec![vec![Expr::zero(); q]; q];
    for r in 0..q {
        for c in r..q {
            let mut terms = Vec::new();
            for k in 0..p {
                if j[k][r].is_zero() {
                    continue;
                }
                for l in 0..p {
                    if j[l][c].is_zero() || a[k][l].is_zero() {
                        continue;
                    }
                    terms.push(Expr::mul(vec![
                        j[k][r].clone(),
                        a[k][l].clone(),
                        j[l][c].clone(),
                    ]));
                }
            }
            let e = Expr::add(terms);
            out[r][c] = e.clone();
            out[c][r] = e;
        }
    }
    out
}

/// Recognised structure of a symmetric matrix.
#[derive(Clone, Debug, PartialEq)]
pub enum Structure {
    /// Only diagonal entries are non-zero.
    Diagonal,
    /// `diag(d) + u·11ᵀ` with every off-diagonal entry equal to `u ≠ 0`
    /// (Dirichlet, multinomial, categorical).
    DiagonalPlusRankOne {
        /// The diagonal part.
        d: Vec<Expr>,
        /// The common off-diagonal entry.
        u: Expr,
    },
    /// Anything else.
    General,
}

/// Detect diagonal and diagonal-plus-rank-one structure.
pub fn structure(m: &[Vec<Expr>]) -> Structure {
    let n = m.len();
    let off: Vec<&Expr> = (0..n)
        .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
        .map(|(i, j)| &m[i][j])
        .collect();
    if off.iter().all(|e| e.is_zero()) {
        return Structure::Diagonal;
    }
    if n >= 3 && off.windows(2).all(|w| w[0] == w[1]) {
        let u = off[0].clone();
        let d = (0..n)
            .map(|i| Expr::sub(m[i][i].clone(), u.clone()))
            .collect();
        return Structure::DiagonalPlusRankOne { d, u };
    }
    Structure::General
}

/// `m = w · a aᵀ` with `a_0 = 1` and `a` free of `params` (a GLM row:
/// w = σ(η)(1 − σ(η)), a = (1, z1, z2)), found as `w = m_00`,
/// `a_j = m_0j / m_00` and checked entry by entry (syntactically first,
/// then by expansion or cancellation).
///
/// ```
/// use fimkit::ir::Expr;
/// use fimkit::fisher::matrix::rank_one;
/// let (w, z) = (Expr::var("w"), Expr::var("z"));
/// let m = vec![
///     vec![w.clone(), w.clone() * z.clone()],
///     vec![w.clone() * z.clone(), w.clone() * z.clone() * z.clone()],
/// ];
/// let (weight, a) = rank_one(&m, &["w".into()]).unwrap();
/// assert_eq!((weight, a), (w, vec![Expr::one(), z]));
/// ```
pub fn rank_one(m: &[Vec<Expr>], params: &[Name]) -> Option<(Expr, Vec<Expr>)> {
    let n = m.len();
    if n < 2 || m[0][0].is_zero() || m.iter().any(|row| row.len() != n) {
        return None;
    }
    // The zero pattern first (cheap): m_ij = 0 exactly when a_i or a_j is.
    let zero_row: Vec<bool> = m[0].iter().map(Expr::is_zero).collect();
    for (i, row) in m.iter().enumerate() {
        for (j, e) in row.iter().enumerate() {
            if e.is_zero() != (zero_row[i] || zero_row[j]) {
                return None;
            }
        }
    }
    let w = m[0][0].clone();
    let mut a: Vec<Expr> = Vec::with_capacity(n);
    for m0j in &m[0] {
        let aj = tidy(&Expr::div(m0j.clone(), w.clone()));
        // The weights are data (covariates); the parameters live in w.
        if aj.free_vars().iter().any(|v| params.contains(v)) {
            return None;
        }
        a.push(aj);
    }
    for i in 0..n {
        for j in i..n {
            let model = Expr::mul(vec![w.clone(), a[i].clone(), a[j].clone()]);
            if model == m[i][j] {
                continue;
            }
            let d = Expr::sub(m[i][j].clone(), model);
            if !(d.expand().is_zero() || crate::symbolic::cancel(&d).is_zero()) {
                return None;
            }
        }
    }
    Some((w, a))
}

/// How a symmetric matrix can be shown by its structure rather than entry
/// by entry (see [`shape`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// Only diagonal entries are non-zero.
    Diagonal,
    /// `diag(d) + c·1·1ᵀ`: every off-diagonal entry is `c ≠ 0`
    /// (Dirichlet, multinomial); `d` is simplified.
    DiagonalPlusConstant {
        /// What is added on the diagonal.
        d: Vec<Expr>,
        /// The common entry.
        c: Expr,
    },
    /// `diag(d) + c·w·wᵀ` with `w` not constant (a Dirichlet in log α:
    /// `w = (exp(t₁), …)`); `d`, `c` and `w` are simplified and the form is
    /// checked against every entry.
    DiagonalPlusOuter {
        /// What is added on the diagonal.
        d: Vec<Expr>,
        /// The scalar (the factors every off-diagonal entry shares).
        c: Expr,
        /// The vector.
        w: Vec<Expr>,
    },
    /// Entries outside the blocks (sets of indices, in order of their
    /// first index, at least two) are 0; some block has two indices.
    BlockDiagonal(Vec<Vec<usize>>),
    /// None of these.
    General,
}

/// The structure of a symmetric matrix, cheapest test first: diagonal,
/// diagonal plus a constant (n ≥ 3), then block-diagonal (the connected
/// parts of the graph of non-zero entries). Square inputs only; anything
/// else is [`Shape::General`].
///
/// ```
/// use fimkit::ir::Expr;
/// use fimkit::fisher::matrix::{shape, Shape};
/// let (a, b, z) = (Expr::var("a"), Expr::var("b"), Expr::zero());
/// let m = vec![
///     vec![a.clone(), b.clone(), z.clone()],
///     vec![b.clone(), a.clone(), z.clone()],
///     vec![z.clone(), z.clone(), a.clone()],
/// ];
/// assert_eq!(shape(&m), Shape::BlockDiagonal(vec![vec![0, 1], vec![2]]));
/// ```
pub fn shape(m: &[Vec<Expr>]) -> Shape {
    let n = m.len();
    if m.iter().any(|row| row.len() != n) {
        return Shape::General;
    }
    match structure(m) {
        Structure::Diagonal => return Shape::Diagonal,
        Structure::DiagonalPlusRankOne { d, u } => {
            return Shape::DiagonalPlusConstant {
                d: d.iter().map(tidy).collect(),
                c: u,
            };
        }
        Structure::General => {}
    }
    if let Some((d, c, w)) = diagonal_plus_outer(m) {
        return Shape::DiagonalPlusOuter { d, c, w };
    }
    // Connected parts of the non-zero pattern (union–find).
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, row) in m.iter().enumerate() {
        for (j, e) in row.iter().enumerate().skip(i + 1) {
            if !e.is_zero() || !m[j][i].is_zero() {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    let mut block_of: Vec<Option<usize>> = vec![None; n];
    for i in 0..n {
        let r = root(&mut parent, i);
        match block_of[r] {
            Some(b) => blocks[b].push(i),
            None => {
                block_of[r] = Some(blocks.len());
                blocks.push(vec![i]);
            }
        }
    }
    if blocks.len() >= 2 {
        Shape::BlockDiagonal(blocks)
    } else {
        Shape::General
    }
}

/// `m = diag(d) + c·w·wᵀ` for `n ≥ 3` with every off-diagonal entry not
/// 0: `c` is the product of the factors they all share, `w₀² =
/// q₀₁q₀₂/q₁₂` and `wᵢ = q₀ᵢ/w₀` from the rest `qᵢⱼ = mᵢⱼ/c`; `None`
/// unless `c·wᵢ·wⱼ` equals every off-diagonal entry.
fn diagonal_plus_outer(m: &[Vec<Expr>]) -> Option<(Vec<Expr>, Expr, Vec<Expr>)> {
    let n = m.len();
    if n < 3 {
        return None;
    }
    let factors = |e: &Expr| -> Vec<Expr> {
        match e {
            Expr::Mul(fs) => fs.to_vec(),
            other => vec![other.clone()],
        }
    };
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect();
    if pairs.iter().any(|&(i, j)| m[i][j].is_zero()) {
        return None;
    }
    let mut common = factors(&m[0][1]);
    for &(i, j) in &pairs[1..] {
        let mut theirs = factors(&m[i][j]);
        common.retain(|f| match theirs.iter().position(|g| g == f) {
            Some(k) => {
                theirs.swap_remove(k);
                true
            }
            None => false,
        });
    }
    let c = Expr::mul(common.clone());
    let rest = |e: &Expr| -> Expr {
        let mut fs = factors(e);
        for f in &common {
            if let Some(k) = fs.iter().position(|g| g == f) {
                fs.remove(k);
            }
        }
        Expr::mul(fs)
    };
    let q = |i: usize, j: usize| rest(&m[i][j]);
    let w0_squared = tidy(&Expr::div(Expr::mul2(q(0, 1), q(0, 2)), q(1, 2)));
    // An even power's square root is taken exactly (the sign of w does not
    // change w·wᵀ); anything else through `sqrt`, which must then simplify.
    let w0 = match &w0_squared {
        Expr::Pow(b, e) if e.as_int().is_some_and(|k| k % 2 == 0) => {
            tidy(&Expr::powi((**b).clone(), e.as_int()? / 2))
        }
        other => tidy(&Expr::sqrt(other.clone())),
    };
    // A root left in w₀ could be of a negative number somewhere: only a
    // root that simplified away is taken.
    if w0.is_zero() || has_root(&w0) {
        return None;
    }
    let mut w = vec![w0.clone()];
    w.extend((1..n).map(|i| tidy(&Expr::div(q(0, i), w0.clone()))));
    if w.iter().all(|wi| *wi == w[0]) {
        return None; // a constant w is diag(d) + c·1·1ᵀ, found before
    }
    for &(i, j) in &pairs {
        let model = Expr::mul(vec![c.clone(), w[i].clone(), w[j].clone()]);
        if model == m[i][j] {
            continue;
        }
        let diff = Expr::sub(m[i][j].clone(), model);
        if !(diff.expand().is_zero() || crate::symbolic::cancel(&diff).is_zero()) {
            return None;
        }
    }
    let d: Vec<Expr> = (0..n)
        .map(|i| {
            tidy(&Expr::sub(
                m[i][i].clone(),
                Expr::mul(vec![c.clone(), w[i].clone(), w[i].clone()]),
            ))
        })
        .collect();
    // With d = 0 the matrix is of rank one, a simpler reading.
    (!d.iter().all(Expr::is_zero)).then_some((d, c, w))
}

/// Does `e` take a fractional power anywhere?
fn has_root(e: &Expr) -> bool {
    match e {
        Expr::Pow(b, x) => x.as_int().is_none() || has_root(b) || has_root(x),
        other => other.children().iter().any(has_root),
    }
}

/// F⁻¹ in the form it is best shown in.
#[derive(Clone, Debug, PartialEq)]
pub enum Inverse {
    /// Every entry written out.
    Dense(Matrix),
    /// `diag(w) − c·w wᵀ` (Sherman–Morrison for diagonal plus rank one).
    DiagonalMinusRankOne {
        /// The weights `w_k = 1/d_k`.
        w: Vec<Expr>,
        /// The scalar `c = u / (1 + u Σ w_k)`.
        c: Expr,
    },
}

impl Inverse {
    /// Every entry.
    pub fn to_dense(&self) -> Matrix {
        match self {
            Inverse::Dense(m) => m.clone(),
            Inverse::DiagonalMinusRankOne { w, c } => {
                let n = w.len();
                (0..n)
                    .map(|i| {
                        (0..n)
                            .map(|j| {
                                let outer = Expr::neg(Expr::mul(vec![
                                    c.clone(),
                                    w[i].clone(),
                                    w[j].clone(),
                                ]));
                                if i == j {
                                    Expr::add2(w[i].clone(), outer)
                                } else {
                                    outer
                                }
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }
}

/// det and inverse using the structure when there is one; `None` for the
/// inverse when the matrix is singular or too large for a readable general
/// formula.
///
/// `tidy` simplifies entries; `tidy_deep` the few scalar factors that need
/// common denominators over long sums.
pub fn det_and_inverse(
    m: &Matrix,
    max_general: usize,
    tidy: &dyn Fn(&Expr) -> Expr,
    tidy_deep: &dyn Fn(&Expr) -> Expr,
) -> (Option<Expr>, Option<Inverse>) {
    let n = m.len();
    match structure(m) {
        Structure::Diagonal => {
            let det = tidy(&Expr::mul((0..n).map(|i| m[i][i].clone()).collect()));
            if det.is_zero() {
                return (Some(det), None);
            }
            let inv = (0..n)
                .map(|i| {
                    (0..n)
                        .map(|j| {
                            if i == j {
                                tidy(&Expr::recip(m[i][i].clone()))
                            } else {
                                Expr::zero()
                            }
                        })
                        .collect()
                })
                .collect();
            (Some(det), Some(Inverse::Dense(inv)))
        }
        Structure::DiagonalPlusRankOne { d, u } => {
            // Matrix determinant lemma and Sherman–Morrison.
            let w: Vec<Expr> = d.iter().map(|di| tidy(&Expr::recip(di.clone()))).collect();
            let factor = tidy_deep(&Expr::add2(
                Expr::one(),
                Expr::mul2(u.clone(), Expr::add(w.clone())),
            ));
            let mut det_factors: Vec<Expr> = d.clone();
            det_factors.push(factor.clone());
            let det = tidy(&Expr::mul(det_factors));
            if det.is_zero() || factor.is_zero() {
                return (Some(det), None);
            }
            let c = tidy(&Expr::div(u, factor));
            (Some(det), Some(Inverse::DiagonalMinusRankOne { w, c }))
        }
        Structure::General if n <= max_general => {
            let det = tidy_deep(&det(m));
            if det.is_zero() {
                return (Some(det), None);
            }
            let inv = inverse_with_det(m, &det)
                .into_iter()
                .map(|r| r.into_iter().map(|e| tidy(&e)).collect())
                .collect();
            (Some(det), Some(Inverse::Dense(inv)))
        }
        Structure::General => (None, None),
    }
}
