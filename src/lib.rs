//! # fimkit
//!
//! Turn a statistical model written as a small text file into its Fisher
//! information: score, Hessian, closed-form Fisher information matrix, the
//! Cramér–Rao bound and the Jeffreys prior; exact derivatives by hyper-dual
//! numbers; fits with standard errors.
//!
//! [`Model`] is the front door; every failure is one [`Error`]:
//!
//! ```
//! let m = fimkit::Model::from_source(
//!     "param mu : real\nparam sigma : positive\ndata x : real\nx ~ normal(mu, sigma)\n",
//!     "normal",
//! )?;
//! let theta = [0.0, 2.0];
//! assert_eq!(m.score(&theta, &[1.0])?[0], 0.25);            // (x − μ)/σ²
//! assert_eq!(m.fisher_information(&theta)?.value[(0, 0)], 0.25); // 1/σ²
//! let d = m.derive();                                          // the formulas
//! assert_eq!(d.params.len(), 2);
//! # Ok::<(), fimkit::Error>(())
//! ```
//!
//! The pipeline (see ARCHITECTURE.md): [`syntax`] parses into a spanned AST,
//! [`ir::resolve`] checks names and lowers to one log-density [`ir::Expr`],
//! later stages differentiate, simplify, take expectations and render.
//!
//! Features: `cli` (default) builds the `fimkit` command and turns on
//! `fancy` (rustc-style diagnostics, `render::diagnostics::render_human`)
//! and `plot` (fit plots). With `default-features = false` the library
//! compiles none of the command line's crates.
#![warn(missing_docs)]

pub mod budget;
pub mod codegen;
pub mod design;
pub mod diagnostic;
pub mod exact;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod families;
pub mod fisher;
pub mod fit;
pub mod ir;
pub mod number;
pub mod numeric;
#[doc(hidden)] // an internal helper: public for the doc example
pub mod partition;
pub mod render;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod structure;
pub mod symbolic;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod syntax;

mod error;
mod model;

pub use diagnostic::{Diagnostic, Severity, Span};
pub use error::{ArgumentError, Error, ModelError};
pub use ir::Expr;
pub use model::{FimMethod, FisherInformation, Model, PerRow, information_at};
/// The linear algebra of every vector and matrix fimkit returns, re-exported
/// so callers use the same version.
pub use nalgebra;

/// The result of reading a model: the model (if it had no errors) and all
/// diagnostics, warnings included.
#[derive(Debug)]
pub struct Loaded {
    /// The resolved model, absent when there were errors.
    pub model: Option<ir::Model>,
    /// Every diagnostic, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parse and resolve a model source, collecting every diagnostic.
pub fn load_with_diagnostics(source: &str, default_name: &str) -> Loaded {
    let _stage = budget::stage("reading the model");
    let config = ir::resolve::ResolveConfig::default();
    let r = ir::resolve::load_source(source, default_name, &config);
    Loaded {
        model: r.model,
        diagnostics: r.diagnostics,
    }
}

/// Parse and resolve a model source to the IR; errors (not warnings) fail.
/// (The front door [`Model::from_source`] does this and more.)
pub fn load(source: &str, default_name: &str) -> Result<ir::Model, Vec<Diagnostic>> {
    let loaded = load_with_diagnostics(source, default_name);
    loaded.model.ok_or(loaded.diagnostics)
}
