//! Output: text, diagnostics, JSON. Renderers read the IR; nothing here
//! feeds back into earlier stages.

pub mod derivation;
pub mod diagnostics;
pub mod model;
pub mod text;
