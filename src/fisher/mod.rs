//! Fisher information: exact expectations over the data (tier 1), the
//! closed-form FIM and what follows from it (Cramér–Rao bound, Jeffreys
//! prior, alternative coordinates).

pub mod at_point;
pub mod derive;
pub mod expectation;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod identifiability;
pub mod matrix;
mod normaliser;
#[doc(hidden)] // an internal stage: public for the tests and benches
pub mod positive;
pub mod predictor;
mod raw;
pub mod wide;

pub use derive::{
    ClosedForm, CoordsDerivation, Derivation, DeriveConfig, derive, derive_coords,
    derive_coords_fim_only, derive_fim_only, fisher_information,
};
pub use expectation::Blocker;
pub mod numeric;
pub use numeric::{NumericConfig, NumericFim, Tier, location_scale, numeric_fim};
