//! Approximate designs on a finite candidate set: the randomized exchange
//! algorithm REX of Harman, Filová and Richtárik (2020, JASA 115, 348–361),
//! for any criterion of [`Criterion`].
//!
//! Each iteration computes the sensitivity ψ of every candidate (one dot
//! product per point with the packed supergradient), exchanges weight
//! between the best candidate and the worst support point (the "leading
//! boundary exchange"), then between every pair of a random ordering of
//! the support joined with the L best candidates, each step the optimal
//! one along M + α(F_k − F_l). For D, A and c the optimal α solves a
//! one-dimensional concave problem in the eigenvalues of
//! L⁻¹(F_k − F_l)L⁻ᵀ (M = LLᵀ), to machine precision by bisection on
//! its derivative; for E and Ds by bisection on the sign of ⟨A(M + αΔ), Δ⟩. Weights that an
//! exchange empties become exactly 0, so the support shrinks to the
//! optimal one. The iteration stops when max ψ ≤ 1 + tol.

use super::DesignError;
use super::criterion::Criterion;
use super::fim::{Packed, pack_functional, unpack};
use crate::fisher::numeric::SplitMix;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// Settings of the weight optimisation.
#[derive(Clone, Debug)]
pub struct WeightConfig {
    /// Stop when max ψ − 1 is below this.
    pub tol: f64,
    /// Most iterations.
    pub max_iter: usize,
    /// Seed of the random orderings (results are reproducible).
    pub seed: u64,
}

impl Default for WeightConfig {
    fn default() -> Self {
        WeightConfig {
            tol: 1e-11,
            max_iter: 5000,
            seed: 1,
        }
    }
}

/// Optimised weights on the candidates.
#[derive(Clone, Debug)]
pub struct Weights {
    /// One weight per candidate (most are 0), summing to 1.
    pub w: Vec<f64>,
    /// Iterations used.
    pub iterations: usize,
    /// max ψ over the candidates at the end.
    pub max_sensitivity: f64,
    /// The candidate where it is attained.
    pub argmax: usize,
}

/// The sensitivity ψ of every candidate for the functional A/r.
pub fn sensitivities(fims: &Packed, functional: &[f64]) -> Vec<f64> {
    let q = fims.q();
    fims.values
        .par_chunks(q.max(1) * 1024)
        .flat_map_iter(|block| {
            block
                .chunks(q)
                .map(|row| row.iter().zip(functional).map(|(f, a)| f * a).sum::<f64>())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The packed functional ⟨A, ·⟩/r of a criterion at M.
pub fn functional(crit: &Criterion, m: &DMatrix<f64>) -> Option<(f64, Vec<f64>)> {
    let e = crit.evaluate(m)?;
    let mut a = pack_functional(&e.a);
    for v in &mut a {
        *v /= e.r;
    }
    Some((e.phi, a))
}

/// A starting design: uniform on a random set of 2p candidates, doubled
/// until M is regular, else uniform on all of them.
fn start(fims: &Packed, crit: &Criterion, rng: &mut SplitMix) -> Result<Vec<f64>, DesignError> {
    let n = fims.len();
    let p = fims.p;
    let mut size = (2 * p).max(1);
    while size < n {
        let mut idx: Vec<usize> = (0..n).collect();
        for i in 0..size {
            let j = i + (rng.next_u64() as usize) % (n - i);
            idx.swap(i, j);
        }
        let mut w = vec![0.0; n];
        for &i in &idx[..size] {
            w[i] = 1.0 / size as f64;
        }
        if crit.evaluate(&fims.weighted_sum(&w)).is_some() {
            return Ok(w);
        }
        size *= 4;
    }
    let w = vec![1.0 / n as f64; n];
    if crit.evaluate(&fims.weighted_sum(&w)).is_some() {
        Ok(w)
    } else {
        Err(DesignError::Singular(
            "no design on these candidates identifies every parameter \
             (M is singular even with weight on every candidate)"
                .into(),
        ))
    }
}

/// The optimal step α ∈ [lo, hi] of M + αΔ.
fn optimal_step(crit: &Criterion, m: &DMatrix<f64>, delta: &DMatrix<f64>, lo: f64, hi: f64) -> f64 {
    if hi - lo <= 0.0 {
        return 0.0;
    }
    let spectral = match crit {
        Criterion::D | Criterion::A | Criterion::C(_) => spectral_form(crit, m, delta),
        _ => None,
    };
    match spectral {
        Some((mu, h)) => {
            // g'(α): decreasing on the feasible interval.
            let slope = |a: f64| -> f64 {
                match crit {
                    Criterion::D => mu.iter().map(|m| m / (1.0 + a * m)).sum(),
                    _ => mu
                        .iter()
                        .zip(&h)
                        .map(|(m, h)| h * m / ((1.0 + a * m) * (1.0 + a * m)))
                        .sum(),
                }
            };
            let feasible = |a: f64| mu.iter().all(|m| 1.0 + a * m > 0.0);
            let s_hi = if feasible(hi) {
                slope(hi)
            } else {
                f64::NEG_INFINITY
            };
            if s_hi >= 0.0 {
                return hi;
            }
            let s_lo = if feasible(lo) {
                slope(lo)
            } else {
                f64::INFINITY
            };
            if s_lo <= 0.0 {
                return lo;
            }
            let (mut a, mut b) = (lo, hi);
            for _ in 0..200 {
                let c = 0.5 * (a + b);
                if c <= a || c >= b {
                    break;
                }
                let s = if feasible(c) {
                    slope(c)
                } else if c > 0.0 {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                };
                if s > 0.0 {
                    a = c;
                } else {
                    b = c;
                }
            }
            0.5 * (a + b)
        }
        None => {
            // The sign of Φ's slope along Δ is the sign of ⟨A(M + αΔ), Δ⟩
            // (a supergradient; Φ and r are positive): bisection on it finds
            // the maximiser to machine precision, where golden section on Φ
            // would stop at √ε.
            let slope = |a: f64| -> f64 {
                match crit.evaluate(&(m + delta * a)) {
                    Some(e) => e.a.component_mul(delta).sum(),
                    None => f64::NAN,
                }
            };
            let s_hi = slope(hi);
            if s_hi >= 0.0 {
                return hi;
            }
            let s_lo = slope(lo);
            if s_lo <= 0.0 {
                return lo;
            }
            let (mut a, mut b) = (lo, hi);
            for _ in 0..100 {
                let c = 0.5 * (a + b);
                if c <= a || c >= b {
                    break;
                }
                let s = slope(c);
                // Singular at c: the singular end is the worse one.
                let up = if s.is_nan() { c - lo < hi - c } else { s > 0.0 };
                if up {
                    a = c;
                } else {
                    b = c;
                }
            }
            0.5 * (a + b)
        }
    }
}

/// The eigenvalues μ of L⁻¹ΔL⁻ᵀ and the weights h of the A and c forms.
fn spectral_form(
    crit: &Criterion,
    m: &DMatrix<f64>,
    delta: &DMatrix<f64>,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let chol = m.clone().cholesky()?;
    let l = chol.l();
    let linv = l.clone().try_inverse()?;
    let b = &linv * delta * linv.transpose();
    let b = (&b + b.transpose()) * 0.5;
    let eig = b.symmetric_eigen();
    let q = &eig.eigenvectors;
    let h: Vec<f64> = match crit {
        Criterion::D => Vec::new(),
        Criterion::A => {
            // h_i = ‖L⁻ᵀ q_i‖².
            let t = linv.transpose() * q;
            (0..q.ncols()).map(|i| t.column(i).norm_squared()).collect()
        }
        Criterion::C(c) => {
            let u: DVector<f64> = q.transpose() * (&linv * c);
            u.iter().map(|v| v * v).collect()
        }
        _ => return None,
    };
    Some((eig.eigenvalues.iter().copied().collect(), h))
}

/// Move the optimal weight from candidate `l` to candidate `k`.
fn exchange(
    crit: &Criterion,
    fims: &Packed,
    w: &mut [f64],
    m: &mut DMatrix<f64>,
    k: usize,
    l: usize,
) {
    if k == l || (w[k] == 0.0 && w[l] == 0.0) {
        return;
    }
    let delta = unpack(
        fims.p,
        &fims
            .row(k)
            .iter()
            .zip(fims.row(l))
            .map(|(a, b)| a - b)
            .collect::<Vec<_>>(),
    );
    let alpha = optimal_step(crit, m, &delta, -w[k], w[l]);
    if alpha == 0.0 || !alpha.is_finite() {
        return;
    }
    let total = w[k] + w[l];
    if alpha >= w[l] {
        w[k] = total;
        w[l] = 0.0;
    } else if alpha <= -w[k] {
        w[l] = total;
        w[k] = 0.0;
    } else {
        w[k] += alpha;
        w[l] = total - w[k];
    }
    *m += delta * alpha;
}

/// Optimal weights on the candidates `fims` (from `start_w` when given).
pub fn optimize(
    fims: &Packed,
    crit: &Criterion,
    start_w: Option<&[f64]>,
    config: &WeightConfig,
) -> Result<Weights, DesignError> {
    let n = fims.len();
    if n == 0 {
        return Err(DesignError::Space(
            "the design space has no candidate points".into(),
        ));
    }
    let mut rng = SplitMix(config.seed);
    let mut w = match start_w {
        Some(s) if crit.evaluate(&fims.weighted_sum(s)).is_some() => s.to_vec(),
        _ => start(fims, crit, &mut rng)?,
    };
    let big_l = (4 * fims.p).min(n);
    // D with rank-one F(x) = f fᵀ (regression, GLMs, nonlinear normal
    // models): REX's closed-form step and Sherman–Morrison updates of M⁻¹,
    // O(p²) per exchange instead of an eigen-decomposition.
    let rank_one = match crit {
        Criterion::D => rank_one_factors(fims),
        _ => None,
    };
    let mut iterations = 0;
    let mut best_phi = f64::NEG_INFINITY;
    let mut stalled = 0;
    loop {
        let mut m = fims.weighted_sum(&w);
        let Some((phi, a)) = functional(crit, &m) else {
            return Err(DesignError::Singular(
                "the information matrix became singular during the exchanges".into(),
            ));
        };
        let psi = sensitivities(fims, &a);
        let (argmax, &max) = psi
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(y.1))
            .expect("candidates");
        if !max.is_finite() {
            return Err(DesignError::Model("a sensitivity is not finite".into()));
        }
        // Stop when Φ has not grown (beyond rounding) for 50 iterations:
        // the certificate then says how far from optimal it is.
        if phi > best_phi * (1.0 + 1e-15) {
            best_phi = phi;
            stalled = 0;
        } else {
            stalled += 1;
        }
        if max - 1.0 <= config.tol || iterations >= config.max_iter || stalled > 50 {
            return Ok(Weights {
                w,
                iterations,
                max_sensitivity: max,
                argmax,
            });
        }
        iterations += 1;
        let support: Vec<usize> = (0..n).filter(|&i| w[i] > 0.0).collect();
        // The leading boundary exchange: the best candidate, the worst
        // support point.
        let worst = *support
            .iter()
            .min_by(|a, b| psi[**a].total_cmp(&psi[**b]))
            .expect("support");
        let mut fast = rank_one.as_ref().and_then(|f| {
            m.clone().cholesky().map(|c| FastD {
                f,
                p: fims.p,
                minv: c.inverse(),
            })
        });
        match fast.as_mut() {
            Some(fd) => fd.exchange(&mut w, argmax, worst),
            None => exchange(crit, fims, &mut w, &mut m, argmax, worst),
        }
        // The support and the L best candidates, in a random order.
        let mut order: Vec<usize> = (0..n).collect();
        if big_l < n {
            order.select_nth_unstable_by(big_l, |a, b| psi[*b].total_cmp(&psi[*a]));
            order.truncate(big_l);
        }
        let mut set: Vec<usize> = support;
        for i in order {
            if w[i] == 0.0 {
                set.push(i);
            }
        }
        set.sort_unstable();
        set.dedup();
        for i in (1..set.len()).rev() {
            let j = (rng.next_u64() as usize) % (i + 1);
            set.swap(i, j);
        }
        for i in 0..set.len() {
            for j in i + 1..set.len() {
                let (k, l) = (set[i], set[j]);
                if w[k] > 0.0 || w[l] > 0.0 {
                    match fast.as_mut() {
                        Some(fd) => fd.exchange(&mut w, k, l),
                        None => exchange(crit, fims, &mut w, &mut m, k, l),
                    }
                }
            }
        }
        // Renormalise against drift.
        let s: f64 = w.iter().sum();
        for v in &mut w {
            *v /= s;
        }
    }
}

/// f with F = f fᵀ for every candidate (row-major, p per point), when
/// every F is rank one to rounding.
fn rank_one_factors(fims: &Packed) -> Option<Vec<f64>> {
    let p = fims.p;
    let rows: Option<Vec<Vec<f64>>> = (0..fims.len())
        .into_par_iter()
        .map(|r| {
            let f = fims.matrix(r);
            let (j, &djj) = f
                .diagonal()
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))?;
            if djj <= 0.0 {
                return (f.amax() == 0.0).then(|| vec![0.0; p]);
            }
            let v: Vec<f64> = (0..p).map(|i| f[(i, j)] / djj.sqrt()).collect();
            let scale = f.amax();
            for a in 0..p {
                for b in 0..p {
                    if (f[(a, b)] - v[a] * v[b]).abs() > 1e-12 * scale {
                        return None;
                    }
                }
            }
            Some(v)
        })
        .collect();
    rows.map(|r| r.into_iter().flatten().collect())
}

/// Exchanges for D with rank-one information: M⁻¹ kept by
/// Sherman–Morrison updates.
struct FastD<'a> {
    f: &'a [f64],
    p: usize,
    minv: DMatrix<f64>,
}

impl FastD<'_> {
    fn f(&self, i: usize) -> DVector<f64> {
        DVector::from_column_slice(&self.f[i * self.p..(i + 1) * self.p])
    }

    /// The optimal move of weight from `l` to `k`: log det M changes by
    /// log[(1 + α d_k)(1 − α d_l) + α² d_kl²], maximal at
    /// α = (d_k − d_l) / (2(d_k d_l − d_kl²)) (Harman et al. 2020, §3).
    fn exchange(&mut self, w: &mut [f64], k: usize, l: usize) {
        if k == l || (w[k] == 0.0 && w[l] == 0.0) {
            return;
        }
        let (fk, fl) = (self.f(k), self.f(l));
        let uk = &self.minv * &fk;
        let ul = &self.minv * &fl;
        let (dk, dl, dkl) = (fk.dot(&uk), fl.dot(&ul), fk.dot(&ul));
        let g = dk * dl - dkl * dkl;
        let (lo, hi) = (-w[k], w[l]);
        let alpha = if g > 1e-14 * (dk * dl).max(f64::MIN_POSITIVE) {
            ((dk - dl) / (2.0 * g)).clamp(lo, hi)
        } else if dk > dl {
            hi
        } else if dk < dl {
            lo
        } else {
            0.0
        };
        if alpha == 0.0 || !alpha.is_finite() {
            return;
        }
        // M⁻¹ after + α f_k f_kᵀ, then − α f_l f_lᵀ; a step that would
        // make M singular (rounding at a bound) is not taken.
        let den = 1.0 + alpha * dk;
        if den.is_nan() || den <= 0.0 {
            return;
        }
        let minv = &self.minv - &uk * uk.transpose() * (alpha / den);
        let u = &minv * &fl;
        let den2 = 1.0 - alpha * fl.dot(&u);
        if den2.is_nan() || den2 <= 0.0 {
            return;
        }
        self.minv = minv + &u * u.transpose() * (alpha / den2);
        let total = w[k] + w[l];
        if alpha >= w[l] {
            w[k] = total;
            w[l] = 0.0;
        } else if alpha <= -w[k] {
            w[l] = total;
            w[k] = 0.0;
        } else {
            w[k] += alpha;
            w[l] = total - w[k];
        }
    }
}
