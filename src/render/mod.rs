//! Output: text, LaTeX, matrices, JSON and diagnostics. Renderers read the
//! IR; nothing here feeds back into earlier stages.
//!
//! * [`text`] — ASCII (valid model-language syntax) and Unicode;
//! * [`latex`] — LaTeX that KaTeX accepts in strict mode;
//! * [`matrix`] — aligned text matrices and `pmatrix` LaTeX;
//! * [`structured`] — symmetric matrices over parameters by structure
//!   (`diag`, `diag(d) + c·1·1ᵀ`, blocks, `w·a·aᵀ`, entries);
//! * [`json`] — the `fimkit-json 1` form of expressions and matrices;
//! * [`model`] — the resolved model as a summary; [`diagnostics`] — errors.
//!
//! The text and LaTeX printers share one layout (private module `layout`):
//! the order of a sum's terms, the sign a product shows, what goes below
//! the fraction bar.

pub mod derivation;
pub mod diagnostics;
pub mod fit;
pub mod json;
pub mod latex;
pub mod matrix;
pub mod model;
pub mod structured;
/// The model-language printer, which lives in the IR (error messages of
/// every stage use it); re-exported here beside the other renderers.
pub use crate::ir::text;

use crate::ir::{Model, Name};

/// The variables a model's formulas should list first: its data variables,
/// in declaration order (`x - mu`, `(x - mu)^2`). Pass them to
/// [`text::TextStyle::with_leading`], [`latex::LatexStyle::with_leading`]
/// or [`json::expr_json`].
///
/// ```
/// let src = "param mu : real\ndata x : real\nlogp += -(mu - x)^2/2\n";
/// let m = fimkit::load(src, "m").unwrap();
/// let style = fimkit::render::text::TextStyle::ascii()
///     .with_leading(fimkit::render::leading_names(&m).iter().map(|n| &**n));
/// assert_eq!(fimkit::render::text::render(&m.logp, &style), "-(x - mu)^2/2");
/// ```
pub fn leading_names(model: &Model) -> Vec<Name> {
    model.data.iter().map(|d| d.name.clone()).collect()
}
