//! Output: text, LaTeX, matrices, JSON and diagnostics. Renderers read the
//! IR; nothing here feeds back into earlier stages.
//!
//! * [`text`] — ASCII (valid model-language syntax) and Unicode;
//! * [`latex`] — LaTeX that KaTeX accepts in strict mode;
//! * [`matrix`] — aligned text matrices and `pmatrix` LaTeX;
//! * [`json`] — the `fimkit-json 1` form of expressions and matrices;
//! * [`model`] — the resolved model as a summary; [`diagnostics`] — errors.
//!
//! The text and LaTeX printers share one layout (private module `layout`):
//! the order of a sum's terms, the sign a product shows, what goes below
//! the fraction bar.

pub mod diagnostics;
pub mod json;
pub mod latex;
mod layout;
pub mod matrix;
pub mod model;
pub mod text;
