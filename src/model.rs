//! The front door: [`Model`], a model file parsed once, with exact
//! derivatives at a point and over data, the formulas, the Fisher
//! information (closed form, else numeric, with its method and error) and
//! fits — every failure one [`Error`].
//!
//! ```
//! use fimkit::Model;
//! let m = Model::from_source("param mu : real\nparam sigma : positive\ndata x : real\nx ~ normal(mu, sigma)\n", "normal")?;
//! let theta = m.theta(&[("mu", 1.0), ("sigma", 2.0)])?;
//! let h = m.hessian(theta.as_slice(), &[0.5])?;          // exact, by hyper-dual numbers
//! assert_eq!(h[(0, 0)], -0.25);                            // −1/σ²
//! let f = m.fisher_information(theta.as_slice())?;
//! assert!(f.is_closed_form() && (f.value[(1, 1)] - 0.5).abs() < 1e-15); // 2/σ²
//! # Ok::<(), fimkit::Error>(())
//! ```

use crate::error::{ArgumentError, Error, ModelError};
use crate::fisher::at_point::{self, FimAtPoint};
use crate::fisher::{CoordsDerivation, Derivation, DeriveConfig, NumericConfig, NumericFim, Tier};
use crate::fit::{FitConfig, FitResult, Problem};
use crate::ir;
use crate::numeric::buffer::Parts;
use crate::numeric::{DataSchema, Dataset, ModelFunctions, RowSums};
use crate::structure::Structure;
use crate::{Diagnostic, Severity};
use nalgebra::{DMatrix, DVector};
use std::path::Path;
use std::sync::OnceLock;

/// A checked model: parse and resolve once, then ask for anything.
///
/// Parameter vectors are in the order of [`Model::param_names`]; a data
/// row holds the model's inputs in the order of [`Model::input_names`]
/// (data variables, then covariates). [`Model::theta`] builds a parameter
/// vector by name, [`Model::dataset`] a dataset from named columns.
#[derive(Debug)]
pub struct Model {
    ir: ir::Model,
    file: String,
    warnings: Vec<Diagnostic>,
    schema: DataSchema,
    /// What the stages need of the model's expressions, each piece read
    /// once, on first use.
    structure: Structure,
    functions: OnceLock<Result<ModelFunctions, crate::numeric::NumericError>>,
    derivation: OnceLock<Derivation>,
    coords: OnceLock<Vec<CoordsDerivation>>,
}

/// Every row's log-density, and where asked its score and Hessian, from
/// [`Model::rows`].
#[derive(Clone, Debug, PartialEq)]
pub struct PerRow {
    /// Number of rows.
    pub n_rows: usize,
    /// Number of parameters d.
    pub n_params: usize,
    /// `log p(x_i; θ)`, one a row.
    pub log_density: Vec<f64>,
    /// The scores, row after row (n·d values); empty when not asked.
    pub score: Vec<f64>,
    /// The Hessians, row after row, each d×d row-major (n·d² values);
    /// empty when not asked.
    pub hessian: Vec<f64>,
}

/// Which route gave a Fisher information.
#[derive(Clone, Debug, PartialEq)]
pub enum FimMethod {
    /// The closed form of [`Model::derive`], evaluated exactly (two
    /// independent formulas agreed on it).
    ClosedForm,
    /// Location–scale structure: F = C/σ², C computed numerically once.
    LocationScale {
        /// How C was computed.
        method: String,
    },
    /// Quadrature, summation or Monte Carlo at the point.
    Numeric {
        /// The rule, e.g. "adaptive Gauss–Kronrod (G7/K15)".
        method: String,
    },
}

/// A Fisher information with its provenance.
#[derive(Clone, Debug)]
pub struct FisherInformation {
    /// Parameter names, the order of the rows and columns.
    pub params: Vec<String>,
    /// F(θ): of one observation, or summed over a dataset's rows.
    pub value: DMatrix<f64>,
    /// Error estimate of each entry: zero for a closed form.
    pub error: DMatrix<f64>,
    /// How it was computed.
    pub method: FimMethod,
    /// What the user should know (e.g. a constant missing from the density
    /// that does not change F).
    pub warnings: Vec<String>,
    /// Summed over a dataset: its rows, and the distinct covariate rows
    /// computed (numeric route; equal rows are computed once).
    pub rows: Option<(usize, usize)>,
    /// The numeric computation behind it at one point (its integrals, its
    /// location–scale structure), when it was not a closed form.
    pub numeric: Option<NumericFim>,
}

impl FimMethod {
    /// The tier: 1 closed form, 2 location–scale, 3 numeric.
    pub fn tier(&self) -> u8 {
        match self {
            FimMethod::ClosedForm => 1,
            FimMethod::LocationScale { .. } => 2,
            FimMethod::Numeric { .. } => 3,
        }
    }

    /// How it was computed, in words.
    pub fn description(&self) -> &str {
        match self {
            FimMethod::ClosedForm => "closed form",
            FimMethod::LocationScale { method } | FimMethod::Numeric { method } => method,
        }
    }
}

impl FisherInformation {
    /// True when the value is the closed form evaluated exactly.
    pub fn is_closed_form(&self) -> bool {
        self.method == FimMethod::ClosedForm
    }

    /// The Cramér–Rao bound of one observation (F⁻¹; divide by N for N
    /// observations), when F is positive definite.
    pub fn cramer_rao(&self) -> Option<DMatrix<f64>> {
        at_point::summarize(self.value.clone()).inverse
    }

    /// Standard errors √diag(F⁻¹/n) for `n` observations, when F is
    /// positive definite.
    pub fn std_errors(&self, n: f64) -> Option<DVector<f64>> {
        let inv = self.cramer_rao()?;
        Some(DVector::from_iterator(
            inv.nrows(),
            (0..inv.nrows()).map(|i| (inv[(i, i)] / n).sqrt()),
        ))
    }
}

impl Model {
    /// Parse and resolve a model source; `name` is used in messages and as
    /// the model's name when the source has no `model` line.
    pub fn from_source(source: &str, name: &str) -> Result<Model, Error> {
        let loaded = crate::load_with_diagnostics(source, name);
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = loaded
            .diagnostics
            .iter()
            .cloned()
            .partition(|d| d.severity == Severity::Error);
        match loaded.model {
            Some(ir) if errors.is_empty() => Ok(Model {
                schema: DataSchema::from_model(&ir),
                ir,
                file: name.to_string(),
                warnings,
                structure: Structure::new(),
                functions: OnceLock::new(),
                derivation: OnceLock::new(),
                coords: OnceLock::new(),
            }),
            _ => Err(Error::Model(ModelError {
                file: name.to_string(),
                source: source.to_string(),
                diagnostics: loaded.diagnostics,
            })),
        }
    }

    /// Read and check a model file (its stem names the model when the file
    /// has no `model` line; messages show the path).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Model, Error> {
        let path = path.as_ref();
        let source = std::fs::read_to_string(path).map_err(|error| Error::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
        let mut m = Model::from_source(&source, stem).map_err(|e| match e {
            Error::Model(mut me) => {
                me.file = path.display().to_string();
                Error::Model(me)
            }
            other => other,
        })?;
        m.file = path.display().to_string();
        Ok(m)
    }

    /// The resolved model (the IR every stage reads).
    pub fn ir(&self) -> &ir::Model {
        &self.ir
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.ir.name
    }

    /// Warnings found while reading the model (it has no errors).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Parameter names, the order of every parameter vector.
    pub fn param_names(&self) -> Vec<String> {
        self.ir.params.iter().map(|p| p.name.to_string()).collect()
    }

    /// Covariate names (the inputs a design needs, see [`Model::design`]).
    pub fn covariate_names(&self) -> Vec<String> {
        self.ir
            .covariates
            .iter()
            .map(|c| c.name.to_string())
            .collect()
    }

    /// Input names (data variables, then covariates), the order of a row.
    pub fn input_names(&self) -> Vec<String> {
        self.schema.names().iter().map(|n| n.to_string()).collect()
    }

    /// The compiled functions (exact derivatives), built on first use.
    fn functions(&self) -> Result<&ModelFunctions, Error> {
        self.functions
            .get_or_init(|| ModelFunctions::with_structure(&self.ir, &self.structure))
            .as_ref()
            .map_err(|e| Error::Evaluation(e.clone()))
    }

    /// A parameter vector from values by name, checked against the
    /// parameters' domains.
    pub fn theta(&self, values: &[(&str, f64)]) -> Result<DVector<f64>, Error> {
        let f = self.functions()?;
        let theta = f.params_by_name(values)?;
        f.check_params(&theta)?;
        Ok(theta)
    }

    fn vectors(&self, theta: &[f64], x: &[f64]) -> (DVector<f64>, DVector<f64>) {
        (
            DVector::from_column_slice(theta),
            DVector::from_column_slice(x),
        )
    }

    /// `log p(x; θ)` at one row `x` (inputs in [`Model::input_names`] order).
    pub fn log_density(&self, theta: &[f64], x: &[f64]) -> Result<f64, Error> {
        let (t, x) = self.vectors(theta, x);
        Ok(self.functions()?.log_density(&t, &x)?)
    }

    /// The exact score `∇_θ log p(x; θ)`.
    pub fn score(&self, theta: &[f64], x: &[f64]) -> Result<DVector<f64>, Error> {
        let (t, x) = self.vectors(theta, x);
        Ok(self.functions()?.score(&t, &x)?)
    }

    /// The exact Hessian `∇²_θ log p(x; θ)`.
    pub fn hessian(&self, theta: &[f64], x: &[f64]) -> Result<DMatrix<f64>, Error> {
        let (t, x) = self.vectors(theta, x);
        Ok(self.functions()?.hessian(&t, &x)?)
    }

    /// A dataset from named columns of equal length (every input of the
    /// model needs one; other names are an error). Values are checked
    /// against the supports.
    ///
    /// ```
    /// let m = fimkit::Model::from_source("param l : positive\ndata k : count\nk ~ poisson(l)\n", "p")?;
    /// let data = m.dataset(&[("k", &[1.0, 3.0, 2.0, 6.0])])?;
    /// let sums = m.sums(&[3.0], &data)?;
    /// assert_eq!((sums.n_rows, sums.score[0]), (4, 0.0));        // λ̂ = mean
    /// # Ok::<(), fimkit::Error>(())
    /// ```
    pub fn dataset(&self, columns: &[(&str, &[f64])]) -> Result<Dataset, Error> {
        dataset_of(&self.schema, columns)
    }

    /// A design: the covariates alone, from named columns (see
    /// [`Model::fisher_information_over`]).
    pub fn design(&self, columns: &[(&str, &[f64])]) -> Result<Dataset, Error> {
        dataset_of(&self.schema.covariates_only(), columns)
    }
    /// A dataset from a matrix, one row per observation, columns in
    /// [`Model::input_names`] order.
    pub fn dataset_from_matrix(&self, rows: &DMatrix<f64>) -> Result<Dataset, Error> {
        Ok(self.schema.dataset_from_matrix(rows)?)
    }

    /// A dataset from a CSV file whose header names the inputs.
    pub fn read_csv(&self, path: impl AsRef<Path>) -> Result<Dataset, Error> {
        Ok(self.schema.read_csv_path(path.as_ref())?)
    }

    /// A dataset from a data file of any format fimkit reads, by its
    /// extension: CSV, TSV (either gzipped), Parquet, Arrow IPC; `-` is
    /// CSV on standard input (see [`crate::numeric::formats`]).
    pub fn read_data(&self, path: impl AsRef<Path>) -> Result<Dataset, Error> {
        Ok(self.schema.read_path(path.as_ref())?)
    }

    /// A design from a data file of any format fimkit reads (see
    /// [`Model::read_data`]); other columns are ignored.
    pub fn read_design(&self, path: impl AsRef<Path>) -> Result<Dataset, Error> {
        Ok(self.schema.covariates_only().read_path(path.as_ref())?)
    }

    /// A design: the covariates alone, from a CSV file whose header names
    /// them (other columns, such as responses, are ignored). For
    /// [`Model::fisher_information_over`].
    pub fn read_design_csv(&self, path: impl AsRef<Path>) -> Result<Dataset, Error> {
        Ok(self.schema.covariates_only().read_csv_path(path.as_ref())?)
    }

    /// The log-likelihood `Σ log p(x_i; θ)` over a dataset.
    pub fn loglik(&self, theta: &[f64], data: &Dataset) -> Result<f64, Error> {
        Ok(self
            .functions()?
            .loglik(&DVector::from_column_slice(theta), data)?)
    }

    /// The log-likelihood, its gradient and its Hessian summed over a
    /// dataset's rows (exact; rows in parallel, in a fixed order).
    pub fn sums(&self, theta: &[f64], data: &Dataset) -> Result<RowSums, Error> {
        Ok(self
            .functions()?
            .sum_rows(&DVector::from_column_slice(theta), data)?)
    }

    /// The formulas: score, Hessian, the closed-form Fisher information (or
    /// why there is none), det, F⁻¹, Jeffreys prior, natural gradient.
    /// Derived once, on first use.
    pub fn derive(&self) -> &Derivation {
        self.derivation
            .get_or_init(|| crate::fisher::derive(&self.ir, &DeriveConfig::default()))
    }

    /// The derivations of the model's `coords` blocks (none without one),
    /// from [`Model::derive`]; derived once, on first use.
    pub fn derive_coords(&self) -> &[CoordsDerivation] {
        self.coords.get_or_init(|| {
            crate::fisher::derive_coords(&self.ir, self.derive(), &DeriveConfig::default())
        })
    }

    /// The derivation as the `fimkit derive --format json` document
    /// (`fimkit-json 1`): the same renderer, so the same document.
    ///
    /// ```
    /// let m = fimkit::Model::from_source("param l : positive\ndata k : count\nk ~ poisson(l)\n", "p")?;
    /// assert_eq!(m.derive_json()["fim"][0][0], "1/l");
    /// # Ok::<(), fimkit::Error>(())
    /// ```
    pub fn derive_json(&self) -> serde_json::Value {
        crate::render::derivation::derivation_json(&self.ir, self.derive(), self.derive_coords())
    }

    /// The derivation in LaTeX (`fimkit derive --format latex`): `align*`
    /// environments, or a complete document with `standalone`.
    pub fn derive_latex(&self, standalone: bool) -> String {
        crate::render::derivation::derivation_latex(
            &self.ir,
            self.derive(),
            self.derive_coords(),
            standalone,
        )
    }

    /// Every row's log-density, and with `score` / `hessian` its exact
    /// score and Hessian (the engines of [`Model::sums`], rows in
    /// parallel). Memory: the outputs, and as much again while the chunks
    /// computed in parallel are gathered.
    ///
    /// ```
    /// let m = fimkit::Model::from_source("param mu : real\ndata x : real\nx ~ normal(mu, 1)\n", "n")?;
    /// let data = m.dataset(&[("x", &[1.0, 2.0, 4.0])])?;
    /// let r = m.rows(&[2.0], &data, true, true)?;
    /// assert_eq!((r.score, r.hessian), (vec![-1.0, 0.0, 2.0], vec![-1.0; 3]));
    /// # Ok::<(), fimkit::Error>(())
    /// ```
    pub fn rows(
        &self,
        theta: &[f64],
        data: &Dataset,
        score: bool,
        hessian: bool,
    ) -> Result<PerRow, Error> {
        let (schema, w) = (&self.schema, data.names().len());
        // A dataset of another layout: the checks of the gathering path.
        let done = if data.names() == schema.names().as_slice() {
            self.rows_in_chunks(theta, data.n_rows(), score, hessian, |first, len| {
                Some(schema.wrap(data.values()[first * w..(first + len) * w].to_vec(), len))
            })?
        } else {
            None
        };
        match done {
            Some(out) => Ok(out),
            None => self.rows_gathered(theta, data, score, hessian),
        }
    }

    /// [`Model::rows`] over named columns (as [`Model::dataset`] takes
    /// them) without building the whole row-major dataset first: each
    /// chunk of rows is laid out and checked against the supports on its
    /// own, while it is in cache. The same values and the same errors as
    /// `rows(theta, &dataset(columns)?, …)`.
    ///
    /// ```
    /// let m = fimkit::Model::from_source("param mu : real\ndata x : real\nx ~ normal(mu, 1)\n", "n")?;
    /// let r = m.rows_of_columns(&[2.0], &[("x", &[1.0, 2.0, 4.0])], true, false)?;
    /// assert_eq!(r.score, vec![-1.0, 0.0, 2.0]);
    /// # Ok::<(), fimkit::Error>(())
    /// ```
    pub fn rows_of_columns(
        &self,
        theta: &[f64],
        columns: &[(&str, &[f64])],
        score: bool,
        hessian: bool,
    ) -> Result<PerRow, Error> {
        let schema = &self.schema;
        let cols = ordered_columns(schema, columns)?;
        let n = cols.first().map_or(0, |c| c.len());
        let done = self.rows_in_chunks(theta, n, score, hessian, |first, len| {
            let mut values = Vec::with_capacity(len * cols.len());
            for r in first..first + len {
                values.extend(cols.iter().map(|c| c[r]));
            }
            schema.dataset_from_rows(values).ok()
        })?;
        match done {
            Some(out) => Ok(out),
            // A value outside its support, or a row that fails: the whole
            // dataset's path names it.
            None => self.rows(theta, &dataset_of(schema, columns)?, score, hessian),
        }
    }

    /// Every row of `n`, in chunks of rows folded in parallel, each straight
    /// into its own disjoint part of the output (no gathering buffers);
    /// `chunk(first, len)` gives the chunk's rows as a dataset. `None` when
    /// anything is unusual (a chunk not given, a row that fails, a chunk
    /// not filled): the caller's slower path then names the row.
    fn rows_in_chunks(
        &self,
        theta: &[f64],
        n: usize,
        score: bool,
        hessian: bool,
        chunk: impl Fn(usize, usize) -> Option<Dataset> + Sync,
    ) -> Result<Option<PerRow>, Error> {
        use rayon::prelude::*;
        let f = self.functions()?;
        self.named(theta)?;
        let d = theta.len();
        let (gw, hw) = (if score { d } else { 0 }, if hessian { d * d } else { 0 });
        // Chunks of the fixed size; for the direct path (`fill_rows`),
        // which sets an engine up per chunk, a few per thread.
        let fixed = crate::numeric::api::CHUNK;
        let rows = if score && hessian {
            n.div_ceil(4 * rayon::current_num_threads())
                .next_multiple_of(fixed)
                .max(fixed)
        } else {
            fixed
        };
        let chunks = n.div_ceil(rows);
        // Each chunk's part of the output is zeroed by the task that fills
        // it (a block at a time on the direct path), not the whole output
        // by one thread first.
        let (mut vb, mut gb, mut hb) = (Parts::new(n), Parts::new(n * gw), Parts::new(n * hw));
        let (vs, gs, hs) = (
            vb.split(rows, chunks),
            gb.split(rows * gw, chunks),
            hb.split(rows * hw, chunks),
        );
        let t = DVector::from_column_slice(theta);
        let ok =
            vs.into_par_iter()
                .zip(gs)
                .zip(hs)
                .enumerate()
                .all(|(c, ((mut v, mut g), mut h))| {
                    let len = v.len();
                    let Some(sub) = chunk(c * rows, len) else {
                        return false;
                    };
                    if score && hessian {
                        // Straight into the output, no buffers in between
                        // (the separable engine's rows: the fold below).
                        match f.fill_rows(&t, &sub, &mut v, &mut g, &mut h) {
                            Ok(true) => return true,
                            Ok(false) => {}
                            Err(_) => return false,
                        }
                    }
                    let (v, g, h) = (v.zeroed(), g.zeroed(), h.zeroed());
                    let slot = std::sync::Mutex::new(Some((v, g, h)));
                    let filled = f.fold_rows(
                        &t,
                        &sub,
                        || (slot.lock().ok().and_then(|mut s| s.take()), 0usize),
                        |(acc, count), r| {
                            if let Some((v, g, h)) = acc {
                                v[r.row] = r.log_density;
                                if gw > 0 {
                                    g[r.row * gw..(r.row + 1) * gw].copy_from_slice(r.score);
                                }
                                if hw > 0 {
                                    h[r.row * hw..(r.row + 1) * hw].copy_from_slice(r.hessian);
                                }
                                *count += 1;
                            }
                        },
                        |a, b| (a.0.or(b.0), a.1 + b.1),
                    );
                    matches!(filled, Ok((_, k)) if k == len)
                });
        Ok(ok.then(|| PerRow {
            n_rows: n,
            n_params: d,
            log_density: vb.finish(),
            score: gb.finish(),
            hessian: hb.finish(),
        }))
    }

    /// [`Model::rows`] by gathering each chunk's rows and copying them into
    /// place: the path whose errors name rows of the whole dataset.
    fn rows_gathered(
        &self,
        theta: &[f64],
        data: &Dataset,
        score: bool,
        hessian: bool,
    ) -> Result<PerRow, Error> {
        let f = self.functions()?;
        let theta = DVector::from_column_slice(theta);
        // θ of the wrong length is an argument error, not a panic below.
        self.named(theta.as_slice())?;
        let (n, d) = (data.n_rows(), theta.len());
        let (gw, hw) = (if score { d } else { 0 }, if hessian { d * d } else { 0 });
        let mut out = PerRow {
            n_rows: n,
            n_params: d,
            log_density: vec![0.0; n],
            score: vec![0.0; n * gw],
            hessian: vec![0.0; n * hw],
        };
        // A chunk's rows (consecutive) are gathered, then copied into place.
        struct Chunk {
            first: Option<usize>,
            v: Vec<f64>,
            g: Vec<f64>,
            h: Vec<f64>,
        }
        let empty = || Chunk {
            first: None,
            v: Vec::new(),
            g: Vec::new(),
            h: Vec::new(),
        };
        let place = |c: Chunk, out: &mut PerRow| {
            if let Some(r) = c.first {
                out.log_density[r..r + c.v.len()].copy_from_slice(&c.v);
                out.score[r * gw..r * gw + c.g.len()].copy_from_slice(&c.g);
                out.hessian[r * hw..r * hw + c.h.len()].copy_from_slice(&c.h);
            }
        };
        let last = f.fold_rows(
            &theta,
            data,
            empty,
            |c, r| {
                c.first.get_or_insert(r.row);
                c.v.push(r.log_density);
                if score {
                    c.g.extend_from_slice(r.score);
                }
                if hessian {
                    c.h.extend_from_slice(r.hessian);
                }
            },
            |a, b| {
                place(a, &mut out);
                place(b, &mut out);
                empty()
            },
        )?;
        place(last, &mut out);
        Ok(out)
    }

    /// The Fisher information of one observation at θ: the closed form where
    /// there is one, else the location–scale route, else numeric
    /// integration or summation (with its error estimate). A covariate
    /// model needs its covariates: use [`Model::fisher_information_over`].
    pub fn fisher_information(&self, theta: &[f64]) -> Result<FisherInformation, Error> {
        if !self.ir.covariates.is_empty() {
            return Err(ArgumentError::HasCovariates(self.covariate_names()).into());
        }
        information_at(&self.ir, self.derive(), &self.named(theta)?, None)
    }

    /// The Fisher information of a whole dataset at θ: the sum over its
    /// rows of the per-row F(θ; covariates) — the closed form summed, else
    /// each distinct covariate row numerically. The responses are not used:
    /// a design of covariates alone will do ([`Model::read_design_csv`]).
    pub fn fisher_information_over(
        &self,
        theta: &[f64],
        data: &Dataset,
    ) -> Result<FisherInformation, Error> {
        information_at(&self.ir, self.derive(), &self.named(theta)?, Some(data))
    }

    /// Maximum likelihood by Fisher scoring, with standard errors.
    pub fn fit(&self, data: Dataset) -> Result<FitResult, Error> {
        self.fit_with(data, &FitConfig::default())
    }

    /// Maximum likelihood with a chosen method, start and tolerances.
    pub fn fit_with(&self, data: Dataset, config: &FitConfig) -> Result<FitResult, Error> {
        let problem = Problem::with_structure(&self.ir, data, &self.structure)?;
        Ok(crate::fit::fit(&problem, config)?)
    }

    /// θ as (name, value) pairs, checked.
    fn named(&self, theta: &[f64]) -> Result<Vec<(String, f64)>, Error> {
        let names = self.param_names();
        if theta.len() != names.len() {
            return Err(ArgumentError::ParamCount {
                params: names,
                got: theta.len(),
            }
            .into());
        }
        self.functions()?
            .check_params(&DVector::from_column_slice(theta))?;
        Ok(names.into_iter().zip(theta.iter().copied()).collect())
    }
}

/// A dataset of `schema` from named columns of equal length.
fn dataset_of(schema: &DataSchema, columns: &[(&str, &[f64])]) -> Result<Dataset, Error> {
    let cols = ordered_columns(schema, columns)?;
    let n_rows = cols.first().map_or(0, |c| c.len());
    // Row-major, blocks of rows in parallel.
    use rayon::prelude::*;
    let w = cols.len();
    // Each block zeroed by the task that fills it (in cache), not the
    // whole layout by one thread first.
    let mut values = Parts::new(n_rows * w);
    if w > 0 {
        const BLOCK: usize = 8192;
        values
            .split(BLOCK * w, n_rows.div_ceil(BLOCK))
            .into_par_iter()
            .enumerate()
            .for_each(|(b, part)| {
                for (i, row) in part.zeroed().chunks_exact_mut(w).enumerate() {
                    for (v, c) in row.iter_mut().zip(&cols) {
                        *v = c[b * BLOCK + i];
                    }
                }
            });
    }
    Ok(schema.dataset_from_rows(values.finish())?)
}

/// The columns for the schema's inputs, in its order, all of one length.
fn ordered_columns<'a>(
    schema: &DataSchema,
    columns: &[(&str, &'a [f64])],
) -> Result<Vec<&'a [f64]>, Error> {
    let names: Vec<String> = schema.names().iter().map(|n| n.to_string()).collect();
    for (n, _) in columns {
        if !names.iter().any(|m| m == n) {
            return Err(ArgumentError::UnknownInput {
                name: n.to_string(),
                inputs: names,
            }
            .into());
        }
    }
    let mut cols = Vec::with_capacity(names.len());
    for n in &names {
        match columns.iter().find(|(c, _)| c == n) {
            Some((_, v)) => cols.push(*v),
            None => return Err(ArgumentError::MissingColumn(n.clone()).into()),
        }
    }
    let n_rows = cols.first().map_or(0, |c| c.len());
    if let Some((n, c)) = names.iter().zip(&cols).find(|(_, c)| c.len() != n_rows) {
        return Err(ArgumentError::ColumnLength {
            name: n.clone(),
            len: c.len(),
            first: names[0].clone(),
            first_len: n_rows,
        }
        .into());
    }
    Ok(cols)
}

impl std::str::FromStr for Model {
    type Err = Error;

    /// [`Model::from_source`] with the name `model`.
    fn from_str(source: &str) -> Result<Model, Error> {
        Model::from_source(source, "model")
    }
}

/// The tiered policy every caller uses for a Fisher information at a
/// point: the closed form of `derivation` where there is one (summed over
/// `data`'s rows when given), else tier 2 (location–scale) or tier 3
/// (numeric) at the point. `values` names every parameter (and, without
/// `data`, every covariate).
pub fn information_at(
    model: &ir::Model,
    derivation: &Derivation,
    values: &[(String, f64)],
    data: Option<&Dataset>,
) -> Result<FisherInformation, Error> {
    let params: Vec<String> = derivation.params.iter().map(|p| p.to_string()).collect();
    let named: Vec<(&str, f64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    if derivation.fisher.is_ok() {
        let at: FimAtPoint = match data {
            Some(d) => at_point::evaluate_dataset(model, derivation, &named, d),
            None => at_point::evaluate(model, derivation, &named),
        }
        .map_err(Error::AtPoint)?;
        let n = at.fim.nrows();
        return Ok(FisherInformation {
            params,
            value: at.fim,
            error: DMatrix::zeros(n, n),
            method: FimMethod::ClosedForm,
            warnings: Vec::new(),
            rows: data.map(|d| (d.n_rows(), d.n_rows())),
            numeric: None,
        });
    }
    let mut theta = Vec::with_capacity(model.params.len());
    for p in &model.params {
        match values.iter().find(|(n, _)| *n == *p.name) {
            Some((_, v)) => theta.push(*v),
            None => return Err(ArgumentError::MissingParam(p.name.to_string()).into()),
        }
    }
    let config = NumericConfig {
        covariates: model
            .covariates
            .iter()
            .filter_map(|c| {
                values
                    .iter()
                    .find(|(n, _)| *n == *c.name)
                    .map(|(_, v)| (c.name.clone(), *v))
            })
            .collect(),
        ..NumericConfig::default()
    };
    let method_of = |tier: Tier, method: &str| match tier {
        Tier::LocationScale => FimMethod::LocationScale {
            method: method.to_string(),
        },
        Tier::Numeric => FimMethod::Numeric {
            method: method.to_string(),
        },
    };
    if let Some(data) = data {
        let fim = crate::fisher::numeric::numeric_fim_over(model, &theta, data, &config)
            .map_err(Error::NumericFim)?;
        return Ok(FisherInformation {
            params,
            method: method_of(fim.tier, &fim.method),
            value: fim.value,
            error: fim.error,
            warnings: fim.warnings,
            rows: Some((fim.n_rows, fim.distinct_rows)),
            numeric: None,
        });
    }
    let fim = crate::fisher::numeric_fim(model, &theta, &config).map_err(Error::NumericFim)?;
    let method = method_of(fim.tier, &fim.method);
    Ok(FisherInformation {
        params,
        value: fim.value.clone(),
        error: fim.error.clone(),
        method,
        warnings: fim.warnings.clone(),
        rows: None,
        numeric: Some(fim),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The front door reads its structure once and shares it: the numeric
    /// functions read only the separable split; a fit reads the linear
    /// forms from the same structure.
    #[test]
    fn the_structure_is_shared_and_read_as_needed() {
        let src = "param b0 : real\nparam b1 : real\ncovariate z : real\ndata y : {0, 1}\n\
                   y ~ bernoulli(sigmoid(b0 + b1*z))\n";
        let m = Model::from_source(src, "m").expect("model");
        assert_eq!(m.structure.pieces_read(), (false, false));
        m.log_density(&[0.1, 0.2], &[1.0, 0.5]).expect("value");
        assert_eq!(m.structure.pieces_read(), (true, false));
        let y: Vec<f64> = (0..20).map(|i| f64::from(i % 3 == 0)).collect();
        let z: Vec<f64> = (0..20).map(|i| f64::from(i) / 10.0 - 1.0).collect();
        let data = m.dataset(&[("y", &y), ("z", &z)]).expect("data");
        m.fit(data).expect("fit");
        assert_eq!(m.structure.pieces_read(), (true, true));
    }
}
