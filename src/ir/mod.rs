//! The resolved model and its symbolic expression IR.

pub mod expr;
pub(crate) mod layout;
pub(crate) mod memo;
pub mod model;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod resolve;
pub mod text;

pub use expr::{Constant, Expr, Func, Name, Rational};
pub use model::Model;
