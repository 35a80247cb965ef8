//! Exact numerics: special functions in `f64` and for dual numbers, and
//! evaluation of the IR over any [`num_dual::DualNum`] type.
//!
//! * [`special`] — lgamma, digamma, polygamma(n), erf/erfc, Φ, Bessel I,
//!   lbeta, sigmoid in `f64`, checked against an mpmath table.
//! * [`SpecialFunctions`] — the same functions for every dual number type
//!   `D: DualNum<Primitive = f64>` (value and all derivatives `D` carries).

mod dual;
pub mod special;

pub use dual::{SpecialFunctions, taylor_compose};
