//! Symbolic calculus on the IR: exact differentiation (own rules, not
//! rewriting) and, later in the pipeline, bounded e-graph simplification.

mod diff;
mod rational;

pub use diff::{diff, gradient, hessian};
pub use rational::{cancel, cancel_bounded};
