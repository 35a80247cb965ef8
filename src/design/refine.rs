//! Support points in a box, moved off the grid: each is taken to the local
//! maximum of the sensitivity ψ(x) = ⟨A, F(θ; x)⟩/r near it, by projected
//! Newton steps with the exact gradient and Hessian in x (dual numbers
//! through the compiled closed form), points that meet are merged, and the
//! weights are optimised again on the new points, until nothing moves. At
//! an optimal design every support point is a local maximum of ψ with
//! ψ = 1 (the equivalence theorem), so the optimum is a fixed point.

use super::DesignError;
use super::fim::PointFim;
use super::space::Layout;

/// The box and how to evaluate ψ and its derivatives there.
pub struct Local<'a> {
    /// The per-point information.
    pub fim: &'a PointFim<'a>,
    /// Free and fixed covariates.
    pub layout: &'a Layout,
    /// Lower ends of the box.
    pub lo: &'a [f64],
    /// Upper ends of the box.
    pub hi: &'a [f64],
}

impl Local<'_> {
    fn derivs(
        &self,
        functional: &[f64],
        x: &[f64],
    ) -> Result<Option<super::fim::Derivs>, DesignError> {
        let full = self.layout.full(x);
        self.fim
            .functional_derivatives(functional, &full, &self.layout.free)
    }

    /// ψ at `x` (free coordinates).
    pub fn value(&self, functional: &[f64], x: &[f64]) -> Result<f64, DesignError> {
        Ok(self
            .derivs(functional, x)?
            .map_or(f64::NEG_INFINITY, |d| d.0))
    }

    /// The projected Newton step of ψ at `x` (coordinates held at a bound
    /// the gradient pushes against do not move; a gradient step of 5% of
    /// the box where the Hessian is not negative definite), with ψ(x);
    /// `None` without a closed form.
    pub fn direction(
        &self,
        functional: &[f64],
        x: &[f64],
    ) -> Result<Option<(Vec<f64>, f64)>, DesignError> {
        let k = x.len();
        let Some((v, g, h)) = self.derivs(functional, x)? else {
            return Ok(None);
        };
        let mut step = vec![0.0; k];
        let free: Vec<usize> = (0..k)
            .filter(|&i| {
                !((x[i] <= self.lo[i] && g[i] <= 0.0) || (x[i] >= self.hi[i] && g[i] >= 0.0))
            })
            .collect();
        if free.is_empty() {
            return Ok(Some((step, v)));
        }
        let gf = nalgebra::DVector::from_iterator(free.len(), free.iter().map(|&i| g[i]));
        let neg = -h.select_rows(&free).select_columns(&free);
        let s = match neg.cholesky() {
            Some(c) => c.solve(&gf),
            None => {
                let n = gf.norm();
                if n == 0.0 {
                    return Ok(Some((step, v)));
                }
                let scale = free
                    .iter()
                    .map(|&i| self.hi[i] - self.lo[i])
                    .fold(f64::INFINITY, f64::min)
                    * 0.05;
                &gf * (scale / n)
            }
        };
        for (d, &i) in s.iter().zip(&free) {
            step[i] = *d;
        }
        Ok(Some((step, v)))
    }

    /// `x + t·d` clamped to the box.
    pub fn moved(&self, x: &[f64], d: &[f64], t: f64) -> Vec<f64> {
        x.iter()
            .zip(d)
            .enumerate()
            .map(|(i, (a, s))| (a + t * s).clamp(self.lo[i], self.hi[i]))
            .collect()
    }

    /// The local maximum of ψ from `x`, inside the box (`None` without
    /// derivatives, i.e. without a closed form).
    pub fn local_max(
        &self,
        functional: &[f64],
        x: &[f64],
    ) -> Result<Option<(Vec<f64>, f64)>, DesignError> {
        let mut x = x.to_vec();
        let width: Vec<f64> = self.lo.iter().zip(self.hi).map(|(a, b)| b - a).collect();
        let Some((_, mut v)) = self.direction(functional, &x)? else {
            return Ok(None);
        };
        for _ in 0..200 {
            let (d, _) = self.direction(functional, &x)?.expect("closed form");
            if d.iter().all(|s| *s == 0.0) {
                break;
            }
            let mut t = 1.0;
            let mut moved = false;
            for _ in 0..60 {
                let y = self.moved(&x, &d, t);
                let vy = self.value(functional, &y)?;
                if vy >= v {
                    let change = y
                        .iter()
                        .zip(&x)
                        .zip(&width)
                        .map(|((a, b), w)| (a - b).abs() / w)
                        .fold(0.0, f64::max);
                    x = y;
                    moved = change > 1e-15;
                    v = vy;
                    break;
                }
                t *= 0.5;
            }
            if !moved {
                break;
            }
        }
        Ok(Some((x, v)))
    }
}
