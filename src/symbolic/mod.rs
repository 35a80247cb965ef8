//! Symbolic calculus on the IR: exact differentiation (own rules, not
//! rewriting) and bounded e-graph simplification ([`simplify`]).

mod diff;
pub mod simplify;

pub use diff::{diff, gradient, hessian};
