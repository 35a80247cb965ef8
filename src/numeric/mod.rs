//! Exact numerics: special functions in `f64` and for dual numbers, and
//! evaluation of the IR over any [`num_dual::DualNum`] type.
//!
//! * [`special`] — lgamma, digamma, polygamma(n), erf/erfc, Φ, Bessel I,
//!   lbeta, sigmoid in `f64`, checked against an mpmath table.
//! * [`SpecialFunctions`] — the same functions for every dual number type
//!   `D: DualNum<Primitive = f64>` (value and all derivatives `D` carries).
//! * [`eval`] — evaluate an [`crate::ir::Expr`] over any such `D`; exact
//!   gradient and Hessian with [`eval::gradient_hessian`].
//! * [`lower`] — expressions lowered once to a hash-consed DAG of
//!   floating-point operations: what the tape runs and codegen prints.
//! * [`compiled`] — compile expressions once into a flat tape with shared
//!   subexpressions, plain-`f64` data work and hoisted parameter work, and
//!   evaluate it per data row without allocation.
//! * [`derivatives`] — a log-density's symbolic score and Hessian compiled
//!   into one tape and evaluated a block of rows at a time in `f64`.

mod dual;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod special;

pub use dual::{SpecialFunctions, taylor_compose};
pub mod api;
pub mod buffer;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod compiled;
pub mod data;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod derivatives;
pub mod domain;
pub mod eval;
pub mod formats;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod gram;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod linear;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod lower;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod quadrature;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod separable;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod vmath;

pub use api::{
    DataSummary, Engine, ModelFunctions, NumericError, PointDerivatives, RowDerivatives, RowSums,
    Wording,
};
pub use data::{DataError, DataSchema, Dataset};
