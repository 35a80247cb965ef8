//! Symbolic calculus on the IR: exact differentiation (own rules, not
//! rewriting) and bounded e-graph simplification ([`simplify`]).

mod diff;
mod rational;
pub mod simplify;
mod stable;
mod tidy;

pub use diff::{diff, gradient, hessian};
pub use rational::{cancel, cancel_bounded, cancel_grouped};
pub use stable::{stable, stable_cow};
pub use tidy::{TIDY_SUM_BOUND, memo_scope, tidy, tidy_deep};
