//! # fimkit
//!
//! Turn a statistical model written as a small text file into its Fisher
//! information: score, Hessian, closed-form Fisher information matrix, the
//! Cramér–Rao bound and the Jeffreys prior.
//!
//! ```
//! let source = "param mu : real\nparam sigma : positive\ndata x : real\nx ~ normal(mu, sigma)\n";
//! let model = fimkit::load(source, "normal").expect("valid model");
//! assert_eq!(model.param_names().len(), 2);
//! ```
//!
//! The pipeline (see ARCHITECTURE.md): [`syntax`] parses into a spanned AST,
//! [`ir::resolve`] checks names and lowers to one log-density [`ir::Expr`],
//! later stages differentiate, simplify, take expectations and render.
#![warn(missing_docs)]

pub mod codegen;
pub mod diagnostic;
pub mod families;
pub mod fisher;
pub mod fit;
pub mod ir;
pub mod numeric;
pub mod render;
pub mod symbolic;
pub mod syntax;

pub use diagnostic::{Diagnostic, Severity, Span};
pub use ir::{Expr, Model};

/// The result of reading a model: the model (if it had no errors) and all
/// diagnostics, warnings included.
#[derive(Debug)]
pub struct Loaded {
    /// The resolved model, absent when there were errors.
    pub model: Option<Model>,
    /// Every diagnostic, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parse and resolve a model source, collecting every diagnostic.
pub fn load_with_diagnostics(source: &str, default_name: &str) -> Loaded {
    let config = ir::resolve::ResolveConfig::default();
    let r = ir::resolve::load_source(source, default_name, &config);
    Loaded {
        model: r.model,
        diagnostics: r.diagnostics,
    }
}

/// Parse and resolve a model source; errors (not warnings) fail.
pub fn load(source: &str, default_name: &str) -> Result<Model, Vec<Diagnostic>> {
    let loaded = load_with_diagnostics(source, default_name);
    loaded.model.ok_or(loaded.diagnostics)
}
