//! Optimal experimental design from a model file (issue 16): the design
//! ξ = {(xᵢ, wᵢ)} whose information M(ξ) = Σ wᵢ F(θ; xᵢ) is best for a
//! criterion, with the certificate of the General Equivalence Theorem.
//!
//! The stages, one file each: `space` (a box or candidate points, fixed
//! covariates), `fim` (F(θ; x) at many points from the compiled closed
//! form, or numeric; exact x-derivatives), `criterion` (Φ and the
//! sensitivity ψ), `weights` (REX on a finite set), `exact` (N-run
//! designs), `refine` (support
//! points moved off the grid by Newton steps on ψ, merged), and here the
//! driver and the certificate: max ψ over the space and the efficiency
//! bound 1/max ψ it implies.

pub mod bayes;
pub mod criterion;
pub mod exact;
pub mod fim;
#[cfg(feature = "plot")]
pub mod plot;
pub mod refine;
pub mod space;
pub mod weights;

pub use criterion::Criterion;
pub use space::{Layout, Space};

use crate::fisher::Derivation;
use crate::ir::model::Model;
use fim::{Packed, PointFim};
use nalgebra::DMatrix;

/// Why there is no design.
#[derive(Clone, Debug, PartialEq)]
pub enum DesignError {
    /// The space, the criterion or a fixed value is malformed or does not
    /// match the model.
    Space(String),
    /// F cannot be evaluated on the space (a covariate outside its
    /// domain, a non-finite entry).
    Model(String),
    /// No design on the space identifies the parameters.
    Singular(String),
}

impl std::fmt::Display for DesignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DesignError::Space(m) | DesignError::Model(m) | DesignError::Singular(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for DesignError {}

/// What to design.
#[derive(Clone, Debug)]
pub struct DesignConfig {
    /// The criterion.
    pub criterion: Criterion,
    /// The space of the free covariates.
    pub space: Space,
    /// Covariates held fixed.
    pub fixed: Vec<(String, f64)>,
    /// Grid points per covariate of a box (default by dimension).
    pub grid: Option<usize>,
    /// Certified when max ψ ≤ 1 + tol.
    pub tol: f64,
    /// Seed of the random exchanges.
    pub seed: u64,
}

impl DesignConfig {
    /// A configuration with the defaults (tolerance 1e-6, seed 1).
    pub fn new(criterion: Criterion, space: Space) -> DesignConfig {
        DesignConfig {
            criterion,
            space,
            fixed: Vec::new(),
            grid: None,
            tol: 1e-6,
            seed: 1,
        }
    }
}

/// The General Equivalence Theorem's verdict on a design.
#[derive(Clone, Debug)]
pub struct Certificate {
    /// max ψ(x) over the space found (1 at an optimum).
    pub max_sensitivity: f64,
    /// Where (free coordinates).
    pub at: Vec<f64>,
    /// The efficiency lower bound 1/max ψ.
    pub efficiency_bound: f64,
    /// max ψ ≤ 1 + tol.
    pub certified: bool,
    /// The tolerance.
    pub tol: f64,
    /// How the maximum was searched.
    pub searched: String,
}

/// An approximate optimal design.
#[derive(Clone, Debug)]
pub struct Design {
    /// The free covariates, the columns of `points`.
    pub names: Vec<String>,
    /// Fixed covariates.
    pub fixed: Vec<(String, f64)>,
    /// Support points (free coordinates).
    pub points: Vec<Vec<f64>>,
    /// Their weights (sum 1).
    pub weights: Vec<f64>,
    /// M(ξ), per observation.
    pub information: DMatrix<f64>,
    /// The information function Φ(M) (homogeneous: efficiencies are ratios of it).
    pub phi: f64,
    /// The criterion's conventional value (det M, tr M⁻¹, λ_min, det C_s, cᵀM⁻¹c).
    pub value: f64,
    /// det M.
    pub det: f64,
    /// The certificate.
    pub certificate: Certificate,
    /// How F was computed.
    pub method: String,
    /// Candidate (grid) points.
    pub candidates: usize,
    /// REX iterations on the candidates.
    pub iterations: usize,
    /// Were the points refined off the grid (a box with a closed form)?
    pub refined: bool,
    /// The number of prior samples of a Bayesian design ([`bayes`]); 0
    /// for a design at one θ.
    pub prior_samples: usize,
}

/// An exact design: whole runs at each point.
#[derive(Clone, Debug)]
pub struct ExactDesign {
    /// The points (free coordinates).
    pub points: Vec<Vec<f64>>,
    /// Runs at each.
    pub runs: Vec<usize>,
    /// Φ(M_exact)/Φ(M_approximate optimum): its efficiency.
    pub efficiency: f64,
}

/// Everything a design needs about the model at θ.
pub struct Problem<'a> {
    /// The per-point F.
    pub fim: PointFim<'a>,
    /// Free and fixed covariates.
    pub layout: Layout,
    /// The configuration.
    pub config: DesignConfig,
}

impl<'a> Problem<'a> {
    /// Set up the problem: check the space against the model's covariates.
    pub fn new(
        model: &'a Model,
        derivation: &Derivation,
        theta: &[f64],
        config: DesignConfig,
    ) -> Result<Problem<'a>, DesignError> {
        let fim = PointFim::new(model, derivation, theta)?;
        let covs: Vec<String> = fim.covariates.iter().map(|c| c.to_string()).collect();
        let layout = Layout::new(&covs, config.space.names(), &config.fixed)?;
        if let Criterion::Ds(s) = &config.criterion
            && (s.is_empty() || s.len() > fim.p() || s.iter().any(|&i| i >= fim.p()))
        {
            return Err(DesignError::Space(
                "Ds: the subset must name parameters of the model".into(),
            ));
        }
        if let Criterion::C(c) = &config.criterion
            && c.len() != fim.p()
        {
            return Err(DesignError::Space(format!(
                "c: the vector has {} entries, the model {} parameters",
                c.len(),
                fim.p()
            )));
        }
        Ok(Problem {
            fim,
            layout,
            config,
        })
    }

    /// F at free points (row-major), through the domains' checks.
    pub fn fims(
        &self,
        free_rows: &[f64],
        schema: &crate::numeric::DataSchema,
    ) -> Result<Packed, DesignError> {
        let full = self.layout.full(free_rows);
        // The covariates' domains (and finiteness), with the data reader's messages.
        schema
            .dataset_from_rows(full.clone())
            .map_err(|e| DesignError::Model(format!("a point of the design space: {e}")))?;
        self.fim.at_rows(&full)
    }

    /// The number of free covariates.
    pub fn k(&self) -> usize {
        self.layout.free.len()
    }

    /// The optimal approximate design and its certificate.
    pub fn solve(&self, schema: &crate::numeric::DataSchema) -> Result<Design, DesignError> {
        let crit = &self.config.criterion;
        let k = self.k();
        let grid = self.config.space.grid(self.config.grid);
        let stage = crate::budget::stage("design: F(θ; x) at the candidate points");
        let fims = self.fims(&grid, schema)?;
        drop(stage);
        let n = fims.len();
        let wcfg = weights::WeightConfig {
            seed: self.config.seed,
            ..weights::WeightConfig::default()
        };
        let stage = crate::budget::stage("design: REX weights on the candidates");
        let on_grid = weights::optimize(&fims, crit, None, &wcfg)?;
        drop(stage);
        let iterations = on_grid.iterations;
        let mut points: Vec<Vec<f64>> = Vec::new();
        let mut w: Vec<f64> = Vec::new();
        for (i, &wi) in on_grid.w.iter().enumerate() {
            if wi > 0.0 {
                points.push(grid[i * k..(i + 1) * k].to_vec());
                w.push(wi);
            }
        }
        let mut refined = false;
        let box_ends = match &self.config.space {
            Space::Box { lo, hi, .. } => Some((lo.clone(), hi.clone())),
            Space::Candidates { .. } => None,
        };
        if let (Some((lo, hi)), true) = (&box_ends, self.fim.is_closed_form()) {
            let local = refine::Local {
                fim: &self.fim,
                layout: &self.layout,
                lo,
                hi,
            };
            let _stage = crate::budget::stage("design: refining the support in the box");
            (points, w) = self.refine(&local, &grid, &fims, points, w, schema)?;
            refined = true;
        }
        let flat: Vec<f64> = points.iter().flatten().copied().collect();
        let support = self.fims(&flat, schema)?;
        let m = support.weighted_sum(&w);
        let eval = crit.evaluate(&m).ok_or_else(|| {
            DesignError::Singular("the design's information matrix is singular".into())
        })?;
        let (_, functional) = weights::functional(crit, &m).expect("regular");
        // The certificate: max ψ over the space.
        let _stage = crate::budget::stage("design: the certificate (max sensitivity)");
        let psi = weights::sensitivities(&fims, &functional);
        let (arg, &grid_max) = psi
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("grid");
        let mut best = (grid_max, grid[arg * k..(arg + 1) * k].to_vec());
        let searched = match (&box_ends, self.fim.is_closed_form()) {
            (None, _) => format!("every one of the {n} candidate points (exact)"),
            (Some((lo, hi)), false) => {
                // No derivatives: check the centres of the grid's cells too,
                // so a grid too coarse for the optimum shows in the
                // certificate instead of passing it.
                let per = ((n as f64).powf(1.0 / k as f64).round() as usize).max(2);
                let h: Vec<f64> = lo
                    .iter()
                    .zip(hi)
                    .map(|(a, b)| (b - a) / (per - 1) as f64)
                    .collect();
                let centres = Space::Box {
                    names: self.config.space.names().to_vec(),
                    lo: lo.iter().zip(&h).map(|(a, h)| a + h / 2.0).collect(),
                    hi: hi.iter().zip(&h).map(|(b, h)| b - h / 2.0).collect(),
                }
                .grid(Some(per - 1));
                let cf = self.fims(&centres, schema)?;
                let cpsi = weights::sensitivities(&cf, &functional);
                if let Some((i, &v)) = cpsi.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))
                    && v > best.0
                {
                    best = (v, centres[i * k..(i + 1) * k].to_vec());
                }
                format!(
                    "a grid of {n} points and the {} centres of its cells (no closed form to differentiate: not searched continuously)",
                    cpsi.len()
                )
            }
            (Some((lo, hi)), true) => {
                let local = refine::Local {
                    fim: &self.fim,
                    layout: &self.layout,
                    lo,
                    hi,
                };
                let mut order: Vec<usize> = (0..n).collect();
                let starts = 20.min(n);
                order.select_nth_unstable_by(starts - 1, |a, b| psi[*b].total_cmp(&psi[*a]));
                let mut from: Vec<Vec<f64>> = order[..starts]
                    .iter()
                    .map(|&i| grid[i * k..(i + 1) * k].to_vec())
                    .collect();
                // Every local maximum of ψ on the grid (1-D: neighbours).
                if k == 1 {
                    for i in 1..n.saturating_sub(1) {
                        if psi[i] >= psi[i - 1] && psi[i] >= psi[i + 1] {
                            from.push(grid[i..i + 1].to_vec());
                        }
                    }
                }
                from.extend(points.iter().cloned());
                for x in &from {
                    if let Some((y, v)) = local.local_max(&functional, x)?
                        && v > best.0
                    {
                        best = (v, y);
                    }
                }
                format!(
                    "a grid of {n} points, then Newton ascent (exact derivatives) from the {} best and the grid's local maxima",
                    starts
                )
            }
        };
        let certificate = Certificate {
            max_sensitivity: best.0,
            at: best.1,
            efficiency_bound: (1.0 / best.0).min(1.0),
            certified: best.0 - 1.0 <= self.config.tol,
            tol: self.config.tol,
            searched,
        };
        let det = m.clone().cholesky().map_or(0.0, |c| c.determinant());
        Ok(Design {
            names: self.config.space.names().to_vec(),
            fixed: self.config.fixed.clone(),
            points,
            weights: w,
            information: m.clone(),
            phi: eval.phi,
            value: crit.conventional(&m).unwrap_or(f64::NAN),
            det,
            certificate,
            method: self.fim.method().to_string(),
            candidates: n,
            iterations,
            refined,
            prior_samples: 0,
        })
    }

    /// An exact design of `runs` runs near `design`: efficient rounding of
    /// its weights, then exchanges of single runs among its support and
    /// the 200 candidates of highest sensitivity.
    pub fn exact(
        &self,
        design: &Design,
        runs: usize,
        schema: &crate::numeric::DataSchema,
    ) -> Result<ExactDesign, DesignError> {
        let crit = &self.config.criterion;
        let k = self.k();
        let mut cand: Vec<Vec<f64>> = design.points.clone();
        let grid = self.config.space.grid(self.config.grid);
        let fims = self.fims(&grid, schema)?;
        if let Some((_, functional)) = weights::functional(crit, &design.information) {
            let psi = weights::sensitivities(&fims, &functional);
            let mut order: Vec<usize> = (0..psi.len()).collect();
            order.sort_by(|a, b| psi[*b].total_cmp(&psi[*a]));
            for &i in order.iter().take(200) {
                let x = grid[i * k..(i + 1) * k].to_vec();
                if !cand.contains(&x) {
                    cand.push(x);
                }
            }
        }
        let flat: Vec<f64> = cand.iter().flatten().copied().collect();
        let cfims = self.fims(&flat, schema)?;
        let mut counts = exact::efficient_rounding(&design.weights, runs);
        counts.resize(cand.len(), 0);
        let (counts, phi) = exact::improve(&cfims, crit, counts);
        let phi = phi.ok_or_else(|| {
            DesignError::Singular(format!(
                "no design of {runs} runs on these points identifies every parameter"
            ))
        })?;
        let mut points = Vec::new();
        let mut runs_at = Vec::new();
        for (x, c) in cand.into_iter().zip(counts) {
            if c > 0 {
                points.push(x);
                runs_at.push(c);
            }
        }
        Ok(ExactDesign {
            points,
            runs: runs_at,
            efficiency: phi / design.phi,
        })
    }

    /// Move the support off the grid (see [`refine`]).
    fn refine(
        &self,
        local: &refine::Local,
        grid: &[f64],
        grid_fims: &Packed,
        mut points: Vec<Vec<f64>>,
        mut w: Vec<f64>,
        schema: &crate::numeric::DataSchema,
    ) -> Result<(Vec<Vec<f64>>, Vec<f64>), DesignError> {
        let crit = &self.config.criterion;
        let k = self.k();
        let width: Vec<f64> = local.lo.iter().zip(local.hi).map(|(a, b)| b - a).collect();
        let close = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .zip(&width)
                .all(|((x, y), w)| (x - y).abs() <= 1e-6 * w)
        };
        let wcfg = weights::WeightConfig {
            tol: 1e-14,
            seed: self.config.seed,
            ..weights::WeightConfig::default()
        };
        for _round in 0..200 {
            let flat: Vec<f64> = points.iter().flatten().copied().collect();
            let m = self.fims(&flat, schema)?.weighted_sum(&w);
            let Some((_, functional)) = weights::functional(crit, &m) else {
                break;
            };
            // All points along their Newton directions of ψ, the step
            // chosen on Φ itself (moving each point to its own maximum of ψ
            // at once overshoots: the points interact through M).
            let mut dirs = Vec::with_capacity(points.len());
            for x in &points {
                dirs.push(local.direction(&functional, x)?.expect("closed form").0);
            }
            let phi_at = |t: f64| -> Result<f64, DesignError> {
                let flat: Vec<f64> = points
                    .iter()
                    .zip(&dirs)
                    .flat_map(|(x, d)| local.moved(x, d, t))
                    .collect();
                Ok(crit
                    .phi(&self.fims(&flat, schema)?.weighted_sum(&w))
                    .unwrap_or(f64::NEG_INFINITY))
            };
            let phi0 = phi_at(0.0)?;
            let t = golden_search(&phi_at, 0.0, 1.0)?;
            let t = if phi_at(t)? > phi0 { t } else { 0.0 };
            let mut new_points: Vec<Vec<f64>> = Vec::new();
            let mut new_w: Vec<f64> = Vec::new();
            let mut movement: f64 = 0.0;
            for ((x, d), &wi) in points.iter().zip(&dirs).zip(&w) {
                let y = local.moved(x, d, t);
                movement = movement.max(
                    y.iter()
                        .zip(x)
                        .zip(&width)
                        .map(|((a, b), w)| (a - b).abs() / w)
                        .fold(0.0, f64::max),
                );
                match new_points.iter().position(|p| close(p, &y)) {
                    Some(j) => new_w[j] += wi,
                    None => {
                        new_points.push(y);
                        new_w.push(wi);
                    }
                }
            }
            // A point of the grid better than the support: add its local maximum.
            let psi = weights::sensitivities(grid_fims, &functional);
            let (arg, &gmax) = psi
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .expect("grid");
            let mut added = false;
            if gmax > 1.0 + 1e-9 {
                let (y, _) = local
                    .local_max(&functional, &grid[arg * k..(arg + 1) * k])?
                    .expect("closed form");
                if !new_points.iter().any(|p| close(p, &y)) {
                    new_points.push(y);
                    new_w.push(0.0);
                    added = true;
                }
            }
            let flat: Vec<f64> = new_points.iter().flatten().copied().collect();
            let fims = self.fims(&flat, schema)?;
            let opt = weights::optimize(&fims, crit, Some(&new_w), &wcfg)?;
            let change = opt
                .w
                .iter()
                .zip(&new_w)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            points = Vec::new();
            w = Vec::new();
            for (p, &wi) in new_points.into_iter().zip(&opt.w) {
                if wi > 1e-12 {
                    points.push(p);
                    w.push(wi);
                }
            }
            let s: f64 = w.iter().sum();
            w.iter_mut().for_each(|v| *v /= s);
            if !added && movement < 1e-12 && change < 1e-13 {
                break;
            }
        }
        Ok((points, w))
    }
}

/// The maximiser of `f` on [lo, hi] by golden section (f unimodal there).
fn golden_search(
    f: &dyn Fn(f64) -> Result<f64, DesignError>,
    lo: f64,
    hi: f64,
) -> Result<f64, DesignError> {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo, hi);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c)?, f(d)?);
    while b - a > 1e-12 {
        if fc >= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c)?;
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d)?;
        }
    }
    let mid = 0.5 * (a + b);
    Ok(if f(hi)? >= f(mid)? { hi } else { mid })
}
