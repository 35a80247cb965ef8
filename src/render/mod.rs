//! Output: text, diagnostics, JSON. Renderers read the IR; nothing here
//! feeds back into earlier stages.

pub mod diagnostics;
pub mod model;
pub mod text;
