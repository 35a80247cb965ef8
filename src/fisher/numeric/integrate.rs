//! Integrating one group of data variables: nested adaptive quadrature for
//! continuous variables, exact enumeration for finite supports, summation
//! with a tail bound for counts, and randomized quasi-Monte Carlo when the
//! group has more continuous dimensions than nested rules can afford.

use super::plan::{Group, Range};
use super::point::{Layout, PointEval, evaluator, moments_at};
use super::{NumericConfig, NumericError};
use crate::ir::expr::Expr;
use crate::numeric::compiled::{Tape, Workspace};
use crate::numeric::eval::eval_f64;
use crate::numeric::quadrature::{
    Map, Panel, QuadResult, Tolerance, integrate, sum_finite, sum_infinite,
};

/// How one group was integrated.
#[derive(Clone, Debug)]
pub(crate) struct GroupResult {
    pub moments: QuadResult,
    /// Human description of the route.
    pub method: String,
    /// Every adaptive step met its tolerance.
    pub converged: bool,
    /// Log-density evaluations.
    pub evaluations: usize,
}

/// The scale of each moment for the error test: `p` by `|Z|`, a score
/// component by `√(d_i |Z|)`, a matrix entry by `√(d_i d_j)` with
/// `d_i = max(|E[p s_i²]|, |E[p H_ii]|)` (Cauchy–Schwarz sizes).
pub(crate) fn moment_scales(layout: Layout) -> impl Fn(&[f64], &mut [f64]) {
    move |v: &[f64], s: &mut [f64]| {
        let z = v[0].abs();
        let d: Vec<f64> = (0..layout.p)
            .map(|i| v[layout.outer(i, i)].abs().max(v[layout.hess(i, i)].abs()))
            .collect();
        s[0] = z;
        for i in 0..layout.p {
            s[layout.score(i)] = (d[i] * z).sqrt();
            for j in i..layout.p {
                let sij = (d[i] * d[j]).sqrt();
                s[layout.outer(i, j)] = sij;
                s[layout.hess(i, j)] = sij;
            }
        }
    }
}

struct Run<'a> {
    group: &'a Group,
    tape: Tape,
    eval: Box<dyn PointEval>,
    layout: Layout,
    row: Vec<f64>,
    grad: Vec<f64>,
    hess: Vec<f64>,
    config: &'a NumericConfig,
    evaluations: usize,
    converged: bool,
    routes: Vec<&'static str>,
    /// Plain `f64` registers for value-only evaluations.
    plain: Workspace<f64>,
    /// > 0 inside a scan's inner integrations.
    rough: u32,
    /// The right end of the range being scanned, per level (for complements).
    his: Vec<f64>,
    los: Vec<f64>,
}

fn note(routes: &mut Vec<&'static str>, r: &'static str) {
    if !routes.contains(&r) {
        routes.push(r);
    }
}

/// Integrate the moments of one group at θ.
pub(crate) fn integrate_group(
    group: &Group,
    params: &[crate::ir::expr::Name],
    theta: &[f64],
    covariates: &[f64],
    config: &NumericConfig,
) -> Result<GroupResult, NumericError> {
    let tape = Tape::compile(std::slice::from_ref(&group.logp), params, &group.slots)
        .map_err(NumericError::Compile)?;
    let eval = evaluator(&tape, theta).map_err(|e| NumericError::Eval {
        error: e,
        at: String::from("the parameter point"),
    })?;
    let layout = Layout { p: params.len() };
    let n_data = group.slots.len() - covariates.len();
    let mut row = vec![0.0; group.slots.len()];
    row[n_data..].copy_from_slice(covariates);
    let mut plain = tape.workspace::<f64>();
    tape.set_params(theta, &mut plain)
        .map_err(|e| NumericError::Eval {
            error: e,
            at: String::from("the parameter point"),
        })?;
    let mut run = Run {
        plain,
        rough: 0,
        group,
        tape,
        eval,
        layout,
        row,
        grad: vec![0.0; layout.p],
        hess: vec![0.0; layout.p * layout.p],
        config,
        evaluations: 0,
        converged: true,
        routes: Vec::new(),
        his: vec![f64::INFINITY; group.vars.len()],
        los: vec![f64::NEG_INFINITY; group.vars.len()],
    };
    let continuous = group
        .vars
        .iter()
        .filter(|v| matches!(v.range, Range::Continuous { .. }))
        .count();
    let moments = if continuous > config.max_quadrature_dim {
        note(&mut run.routes, "randomized quasi-Monte Carlo");
        run.monte_carlo()?
    } else {
        run.level(0)?
    };
    let method = run.routes.join(" + ");
    Ok(GroupResult {
        evaluations: run.evaluations,
        converged: run.converged && moments.converged,
        moments,
        method,
    })
}

impl Run<'_> {
    /// Inner levels integrate to a tighter tolerance, so that their errors,
    /// carried into the outer estimate, leave room for the outer rule.
    fn rel_tol(&self, l: usize) -> f64 {
        if self.rough > 0 {
            // Inside a scan: the mass only has to be right to a few digits.
            return ROUGH_TOL;
        }
        self.config.rel_tol * INNER_TIGHTENING.powi(l as i32)
    }

    fn tol<'s>(&self, l: usize, scale: &'s dyn Fn(&[f64], &mut [f64])) -> Tolerance<'s> {
        Tolerance {
            rel: self.rel_tol(l),
            abs: 1e-300,
            scale: Some(scale),
        }
    }

    fn describe_row(&self) -> String {
        self.group
            .slots
            .iter()
            .zip(&self.row)
            .map(|(n, v)| {
                // Never a 220-digit integer: scientific outside [1e-6, 1e16).
                if v.abs() >= 1e16 || (*v != 0.0 && v.abs() < 1e-6) {
                    format!("{n} = {v:e}")
                } else {
                    format!("{n} = {v}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn bound(&self, e: &Expr) -> Result<f64, NumericError> {
        let slots = &self.group.slots;
        let row = &self.row;
        eval_f64(e, &|name| {
            slots.iter().position(|s| &**s == name).map(|k| row[k])
        })
        .map_err(|error| NumericError::Eval {
            error,
            at: self.describe_row(),
        })
    }

    fn leaf(&mut self) -> Result<QuadResult, NumericError> {
        let m = self.layout.len();
        let mut out = vec![0.0; m];
        self.evaluations += 1;
        moments_at(
            self.eval.as_mut(),
            &self.tape,
            self.layout,
            &self.row,
            &mut self.grad,
            &mut self.hess,
            &mut out,
        )
        .map_err(|error| NumericError::Eval {
            error,
            at: self.describe_row(),
        })?;
        Ok(QuadResult {
            value: out,
            error: vec![0.0; m],
            evaluations: 1,
            pieces: 1,
            converged: true,
        })
    }

    fn level(&mut self, l: usize) -> Result<QuadResult, NumericError> {
        let group = self.group;
        if l == group.vars.len() {
            return self.leaf();
        }
        let var = &group.vars[l];
        let m = self.layout.len();
        let slot = var.slot;
        let complement = var.complement;
        let scale = moment_scales(self.layout);
        let quad = self.config.quad;
        let rel_tol = self.rel_tol(l);
        match &var.range {
            Range::Set(values) => {
                let mut value = vec![0.0; m];
                let mut error = vec![0.0; m];
                let (mut v, mut e) = (vec![0.0; m], vec![0.0; m]);
                for &x in values {
                    self.row[slot] = x;
                    let r = self.level(l + 1)?;
                    if !r.converged {
                        self.converged = false;
                    }
                    v.copy_from_slice(&r.value);
                    e.copy_from_slice(&r.error);
                    for c in 0..m {
                        value[c] += v[c];
                        error[c] += e[c] + 2.0 * f64::EPSILON * v[c].abs();
                    }
                }
                note(&mut self.routes, "exact enumeration");
                Ok(QuadResult {
                    value,
                    error,
                    evaluations: values.len(),
                    pieces: values.len(),
                    converged: true,
                })
            }
            Range::Integers { lo, hi } => {
                let lo_v = self.bound(lo)?.ceil();
                let hi_v = match hi {
                    Some(h) => Some(self.bound(h)?.floor()),
                    None => None,
                };
                let bad = |v: f64| !v.is_finite() || v.abs() > 1e15;
                if bad(lo_v) || hi_v.is_some_and(bad) {
                    return Err(NumericError::Unsupported(format!(
                        "the range of `{}` is not a usable integer range",
                        var.name
                    )));
                }
                let mut f = |x: f64, _to_hi: f64, v: &mut [f64], e: &mut [f64]| {
                    self.row[slot] = x;
                    let r = self.level(l + 1)?;
                    if !r.converged {
                        self.converged = false;
                    }
                    v.copy_from_slice(&r.value);
                    e.copy_from_slice(&r.error);
                    Ok::<(), NumericError>(())
                };
                match hi_v {
                    Some(h) => {
                        let r = if h < lo_v {
                            QuadResult {
                                value: vec![0.0; m],
                                error: vec![0.0; m],
                                evaluations: 0,
                                pieces: 0,
                                converged: true,
                            }
                        } else {
                            sum_finite(m, lo_v as i64, h as i64, &mut f)?
                        };
                        note(&mut self.routes, "exact enumeration");
                        Ok(r)
                    }
                    None => {
                        let tol = Tolerance {
                            rel: rel_tol,
                            abs: 1e-300,
                            scale: Some(&scale),
                        };
                        let r = sum_infinite(m, lo_v as i64, &mut f, &tol, &quad)?;
                        if !r.converged {
                            self.converged = false;
                        }
                        note(&mut self.routes, "summation with a geometric tail bound");
                        Ok(r)
                    }
                }
            }
            Range::Continuous { lo, hi } => {
                let lo_v = match lo {
                    Some(e) => self.bound(e)?,
                    None => f64::NEG_INFINITY,
                };
                let hi_v = match hi {
                    Some(e) => self.bound(e)?,
                    None => f64::INFINITY,
                };
                if lo_v.is_nan() || hi_v.is_nan() || hi_v <= lo_v {
                    return Ok(QuadResult {
                        value: vec![0.0; m],
                        error: vec![0.0; m],
                        evaluations: 0,
                        pieces: 0,
                        converged: true,
                    });
                }
                let panels = self.panels(l, lo_v, hi_v)?;
                let tol = self.tol(l, &scale);
                let r = integrate(
                    m,
                    &panels,
                    &mut |x, to_hi, v: &mut [f64], e: &mut [f64]| {
                        self.row[slot] = x;
                        if let Some(c) = complement {
                            self.row[c] = to_hi;
                        }
                        let r = self.level(l + 1)?;
                        if !r.converged {
                            self.converged = false;
                        }
                        v.copy_from_slice(&r.value);
                        e.copy_from_slice(&r.error);
                        Ok::<(), NumericError>(())
                    },
                    &tol,
                    &quad,
                )?;
                if !r.converged {
                    self.converged = false;
                }
                note(&mut self.routes, "adaptive Gauss–Kronrod (G7/K15)");
                Ok(r)
            }
        }
    }

    /// log of the mass at `x` of variable `l`: the density (last level) or
    /// the inner integral (outer levels).
    fn log_mass(&mut self, l: usize, x: f64) -> Result<f64, NumericError> {
        if !(x > self.los[l] && x < self.his[l]) {
            return Ok(f64::NEG_INFINITY);
        }
        let var = &self.group.vars[l];
        let (slot, complement) = (var.slot, var.complement);
        self.row[slot] = x;
        if let Some(c) = complement {
            self.row[c] = self.his[l] - x;
        }
        if l + 1 == self.group.vars.len() {
            return self.leaf_log_density();
        }
        self.rough += 1;
        let r = self.level(l + 1);
        self.rough -= 1;
        let z = r?.value[0];
        Ok(if z > 0.0 { z.ln() } else { f64::NEG_INFINITY })
    }

    /// log p at the current row in plain `f64` (for scans).
    fn leaf_log_density(&mut self) -> Result<f64, NumericError> {
        self.evaluations += 1;
        let r = self.tape.eval_row(&self.row, &mut self.plain);
        let v = self.tape.output(&self.plain, 0);
        match r {
            Ok(()) => Ok(v),
            Err(_) if v == f64::NEG_INFINITY => Ok(v),
            Err(error) => Err(NumericError::Eval {
                error,
                at: self.describe_row(),
            }),
        }
    }

    /// Panels for variable `l` on `(lo, hi)`: a scan finds the peaks of the
    /// mass and a geometric mesh around each, so narrow peaks far from the
    /// origin and heavy tails are both seen; finite ends that carry mass
    /// get a smoothing map (integrable end singularities), infinite ends a
    /// `t/(1 − t)` map.
    fn panels(&mut self, l: usize, lo: f64, hi: f64) -> Result<Vec<Panel>, NumericError> {
        self.his[l] = hi;
        self.los[l] = lo;
        let grid = scan_grid(lo, hi);
        let mut g = Vec::with_capacity(grid.len());
        for &x in &grid {
            g.push(self.log_mass(l, x)?);
        }
        let best = g
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        let mut points: Vec<f64> = Vec::new();
        if let Some(i0) = best {
            let gmax = g[i0];
            // Local maxima of the grid within 40 of the best (at most 4).
            let mut peaks: Vec<usize> = (0..grid.len())
                .filter(|&i| {
                    g[i].is_finite()
                        && g[i] > gmax - 40.0
                        && (i == 0 || g[i] >= g[i - 1])
                        && (i + 1 == grid.len() || g[i] >= g[i + 1])
                })
                .collect();
            peaks.sort_by(|a, b| g[*b].total_cmp(&g[*a]));
            peaks.truncate(4);
            for i in peaks {
                let left = if i == 0 { lo } else { grid[i - 1] };
                let right = if i + 1 == grid.len() { hi } else { grid[i + 1] };
                let (xp, gp) = self.golden(l, left.max(lo), right.min(hi), grid[i], g[i])?;
                points.push(xp);
                for dir in [-1.0, 1.0] {
                    let end = if dir < 0.0 { lo } else { hi };
                    let room = (end - xp).abs();
                    if room == 0.0 {
                        continue;
                    }
                    let s = self.local_scale(l, xp, gp, dir, room)?;
                    let mut h = s;
                    for _ in 0..40 {
                        if h >= room {
                            break;
                        }
                        let x = xp + dir * h;
                        points.push(x);
                        if self.log_mass(l, x)? < gp - 40.0 {
                            break;
                        }
                        h *= 4.0;
                    }
                }
            }
        }
        points.retain(|x| *x > lo && *x < hi && x.is_finite());
        points.sort_by(f64::total_cmp);
        points.dedup_by(|a, b| (*a - *b).abs() <= 1e-14 * a.abs().max(b.abs()).max(1e-300));
        let mut panels = Vec::new();
        if points.is_empty() {
            // No mass seen: integrate the range as it is.
            match (lo.is_finite(), hi.is_finite()) {
                (true, true) => panels.push(Panel {
                    map: Map::SmoothBoth { a: lo, b: hi },
                }),
                (true, false) => panels.push(Panel::to_infinity(lo, 1.0)),
                (false, true) => panels.push(Panel::from_infinity(hi, 1.0)),
                (false, false) => {
                    panels.push(Panel::from_infinity(0.0, 1.0));
                    panels.push(Panel::to_infinity(0.0, 1.0));
                }
            }
            return Ok(panels);
        }
        let first = points[0];
        let last = *points.last().expect("non-empty");
        if lo.is_finite() {
            panels.push(Panel {
                map: Map::SmoothLo { a: lo, b: first },
            });
        } else {
            let s = if points.len() > 1 {
                points[1] - first
            } else {
                1.0_f64.max(first.abs() * 1e-3)
            };
            panels.push(Panel::from_infinity(first, s));
        }
        for w in points.windows(2) {
            panels.push(Panel::linear(w[0], w[1]));
        }
        if hi.is_finite() {
            panels.push(Panel {
                map: Map::SmoothHi { a: last, b: hi },
            });
        } else {
            let n = points.len();
            let s = if n > 1 {
                last - points[n - 2]
            } else {
                1.0_f64.max(last.abs() * 1e-3)
            };
            panels.push(Panel::to_infinity(last, s));
        }
        Ok(panels)
    }

    /// Golden-section search for the maximum of the log mass on
    /// `[a, b]` starting from the grid's best point.
    fn golden(
        &mut self,
        l: usize,
        a: f64,
        b: f64,
        x0: f64,
        g0: f64,
    ) -> Result<(f64, f64), NumericError> {
        let (mut a, mut b) = (a, b);
        if !a.is_finite() || !b.is_finite() || b <= a {
            return Ok((x0, g0));
        }
        let r = 0.5 * (5f64.sqrt() - 1.0);
        let mut c = b - r * (b - a);
        let mut d = a + r * (b - a);
        let mut gc = self.log_mass(l, c)?;
        let mut gd = self.log_mass(l, d)?;
        // The peak is only a breakpoint: a few digits suffice.
        let iterations = if self.rough > 0 {
            12
        } else if l + 1 == self.group.vars.len() {
            40
        } else {
            20
        };
        for _ in 0..iterations {
            if (b - a) <= 1e-12 * (a.abs() + b.abs()).max(1e-300) {
                break;
            }
            if gc >= gd {
                b = d;
                d = c;
                gd = gc;
                c = b - r * (b - a);
                gc = self.log_mass(l, c)?;
            } else {
                a = c;
                c = d;
                gc = gd;
                d = a + r * (b - a);
                gd = self.log_mass(l, d)?;
            }
        }
        let (x, g) = if gc >= gd { (c, gc) } else { (d, gd) };
        Ok(if g >= g0 { (x, g) } else { (x0, g0) })
    }

    /// The distance from the peak at which the log mass has dropped by
    /// about 1 (within a factor of two), at most `room`.
    fn local_scale(
        &mut self,
        l: usize,
        xp: f64,
        gp: f64,
        dir: f64,
        room: f64,
    ) -> Result<f64, NumericError> {
        let room = if room.is_finite() { room } else { 1e300 };
        let mut lo = (1e-13 * xp.abs().max(1e-300)).max(1e-300).ln();
        let mut hi = room.ln();
        if lo >= hi {
            return Ok(room);
        }
        for _ in 0..12 {
            let mid = 0.5 * (lo + hi);
            let x = xp + dir * mid.exp();
            if self.log_mass(l, x)? < gp - 1.0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi.exp())
    }

    /// Randomized quasi-Monte Carlo over the unit cube mapped onto the
    /// group's ranges; the standard error comes from independent random
    /// shifts of a Kronecker lattice.
    fn monte_carlo(&mut self) -> Result<QuadResult, NumericError> {
        let group = self.group;
        let d = group.vars.len();
        let m = self.layout.len();
        let alpha: Vec<f64> = PRIMES[..d.min(PRIMES.len())]
            .iter()
            .map(|p| (*p as f64).sqrt().fract())
            .collect();
        if alpha.len() < d {
            return Err(NumericError::Unsupported(format!(
                "{d} data dimensions in one group are too many for Monte Carlo"
            )));
        }
        let shifts = self.config.mc_shifts.max(2);
        let n = self.config.mc_points.max(16);
        let mut rng = SplitMix(self.config.seed);
        let mut estimates: Vec<Vec<f64>> = Vec::with_capacity(shifts);
        for _ in 0..shifts {
            let shift: Vec<f64> = (0..d).map(|_| rng.next_f64()).collect();
            let mut acc = vec![0.0; m];
            for i in 1..=n {
                let mut weight = 1.0;
                let mut ok = true;
                for (k, var) in group.vars.iter().enumerate() {
                    let u = (i as f64 * alpha[k] + shift[k]).fract();
                    match &var.range {
                        Range::Continuous { lo, hi } => {
                            let a = match lo {
                                Some(e) => self.bound(e)?,
                                None => f64::NEG_INFINITY,
                            };
                            let b = match hi {
                                Some(e) => self.bound(e)?,
                                None => f64::INFINITY,
                            };
                            if b.partial_cmp(&a) != Some(std::cmp::Ordering::Greater) {
                                ok = false;
                                break;
                            }
                            let (x, jac) = match (a.is_finite(), b.is_finite()) {
                                (true, true) => {
                                    let (x, jac, to_hi) = Panel {
                                        map: Map::SmoothBoth { a, b },
                                    }
                                    .at_with_complement(u);
                                    if let Some(c) = var.complement {
                                        self.row[c] = to_hi;
                                    }
                                    (x, jac)
                                }
                                (true, false) => Panel::to_infinity(a, 1.0).at(u),
                                (false, true) => Panel::from_infinity(b, 1.0).at(u),
                                (false, false) => {
                                    let t = std::f64::consts::PI * (u - 0.5);
                                    (t.tan(), std::f64::consts::PI / t.cos().powi(2))
                                }
                            };
                            self.row[var.slot] = x;
                            weight *= jac;
                        }
                        Range::Set(vs) => {
                            let j = ((u * vs.len() as f64) as usize).min(vs.len() - 1);
                            self.row[var.slot] = vs[j];
                            weight *= vs.len() as f64;
                        }
                        Range::Integers { lo, hi: Some(hi) } => {
                            let a = self.bound(lo)?.ceil();
                            let b = self.bound(hi)?.floor();
                            if b < a {
                                ok = false;
                                break;
                            }
                            let count = b - a + 1.0;
                            self.row[var.slot] = a + (u * count).floor().min(count - 1.0);
                            weight *= count;
                        }
                        Range::Integers { hi: None, .. } => {
                            return Err(NumericError::Unsupported(
                                "Monte Carlo over unbounded counts".into(),
                            ));
                        }
                    }
                }
                if !ok || weight == 0.0 || !weight.is_finite() {
                    continue;
                }
                let r = self.leaf()?;
                for (a, v) in acc.iter_mut().zip(&r.value) {
                    *a += weight * v;
                }
            }
            estimates.push(acc.iter().map(|a| a / n as f64).collect());
        }
        let r = shifts as f64;
        let mut value = vec![0.0; m];
        let mut error = vec![0.0; m];
        for c in 0..m {
            let mean = estimates.iter().map(|e| e[c]).sum::<f64>() / r;
            let var = estimates.iter().map(|e| (e[c] - mean).powi(2)).sum::<f64>() / (r - 1.0);
            value[c] = mean;
            error[c] = (var / r).sqrt();
        }
        Ok(QuadResult {
            value,
            error,
            evaluations: shifts * n,
            pieces: shifts,
            converged: true,
        })
    }
}

/// Each nesting level integrates this much tighter than the one outside it.
const INNER_TIGHTENING: f64 = 0.3;

/// Relative tolerance of the inner integrals behind a scan's mass.
const ROUGH_TOL: f64 = 1e-4;

const PRIMES: [u64; 24] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
];

/// A small deterministic generator (SplitMix64) for Monte Carlo shifts and
/// random check points.
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Scan points for the peak search on `(lo, hi)`.
fn scan_grid(lo: f64, hi: f64) -> Vec<f64> {
    let decades: Vec<f64> = (-20..=20).map(|k| 10f64.powf(k as f64 / 2.0)).collect();
    let mut g = Vec::new();
    match (lo.is_finite(), hi.is_finite()) {
        (false, false) => {
            g.extend(decades.iter().rev().map(|d| -d));
            g.push(0.0);
            g.extend(decades.iter().copied());
        }
        (true, false) => g.extend(decades.iter().map(|d| lo + d)),
        (false, true) => g.extend(decades.iter().rev().map(|d| hi - d)),
        (true, true) => {
            let w = hi - lo;
            let us = [
                1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 0.01, 0.03, 0.07, 0.12, 0.2, 0.3, 0.4, 0.5,
            ];
            g.extend(us.iter().map(|u| lo + u * w));
            g.extend(us.iter().rev().skip(1).map(|u| hi - u * w));
        }
    }
    g.retain(|x| *x > lo && *x < hi);
    g.dedup();
    g
}
