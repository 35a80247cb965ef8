//! A model's structure, read once off its expressions and shared by the
//! stages above: which of the numeric engines can run, which exact
//! expectation applies, which fit path is fast.
//!
//! * [`separable`] — `log p = Σ c_k(θ) g_k(x)` term by term, as written
//!   (the numeric separable engine);
//! * [`forms`] — θ entering only through a few linear forms
//!   `η = a(z)ᵀθ + c(z)`, by the one symbolic affine decomposition
//!   ([`forms::affine`]; the fit's GLM path);
//! * [`predictors`] — the derivation's named linear predictors: forms of
//!   many parameters (a regression) or of a fixed design, read with the
//!   same [`forms::affine`], with the constant Jacobian back to θ;
//! * [`groups`] — the data variables in independent groups (which
//!   variables one expectation must integrate together);
//! * [`linearize`] — any expression as `Σ c_m(θ) · m(x)`, expanded in the
//!   data (fisher's exact expectations and raw-density matching, on each
//!   Hessian entry and group: a function, not a per-model piece).
//!
//! A [`Structure`] reads each per-model piece once, when a stage first
//! asks for it (the linear forms of a 300-covariate regression take longer
//! to read than its log-density takes to compile, and only the fit needs
//! them); the front door (`fimkit::Model`) keeps one and hands it to the
//! numeric functions and to every fit; a stage called on its own makes
//! its own. The predictors and the groups have one consumer each, the
//! closed-form derivation, which reads them once per derivation (and the
//! front door derives once): they are functions here, not cached pieces.
//!
//! What a data group *is* — a library family, or a density read by the
//! normaliser identity, with its moments — stays in fisher
//! (`fisher::expectation::data_groups`, `fisher::raw`): that is the
//! expectation stage's work on the partition [`groups`] gives.
//!
//! ```
//! use fimkit::structure::Structure;
//! let src = "param b0 : real\nparam b1 : real\ncovariate z : real\ndata y : {0, 1}\n\
//!            y ~ bernoulli(sigmoid(b0 + b1*z))\n";
//! let m = fimkit::load(src, "logistic").unwrap();
//! let s = Structure::new();
//! assert_eq!(s.linear_forms(&m).map(|f| f.m()), Some(1)); // b0 + b1*z
//! assert!(s.separable(&m).is_none()); // log(1 + exp(...)) mixes the row and θ
//! let src = "param a : positive\nparam b : positive\ndata x : positive\nx ~ gamma(a, b)\n";
//! let m = fimkit::load(src, "gamma").unwrap();
//! let s = Structure::new();
//! assert_eq!(s.separable(&m).map(|s| s.factors.len()), Some(2)); // x, log x
//! assert!(s.linear_forms(&m).is_none()); // no covariates
//! ```

pub mod forms;
pub mod groups;
pub mod linearize;
pub mod predictors;
pub mod separable;

use crate::ir::expr::Name;
use crate::ir::model::Model;
use forms::{LinearForms, RowForms};
use separable::Split;
use std::sync::OnceLock;

/// What the stages need to know of a model's expressions: each piece read
/// on first use, once, and kept.
///
/// A `Structure` belongs to one model: every call passes that model (the
/// front door and the fit keep the two together; a debug build checks the
/// parameters).
#[derive(Clone, Debug, Default)]
pub struct Structure {
    /// The parameters of the model the pieces were read from.
    params: OnceLock<Vec<Name>>,
    separable: OnceLock<Option<Split>>,
    forms: OnceLock<Option<LinearForms>>,
    row_forms: OnceLock<Option<RowForms>>,
}

impl Structure {
    /// Nothing read yet.
    pub fn new() -> Structure {
        Structure::default()
    }

    fn same_model(&self, model: &Model) {
        let params = self.params.get_or_init(|| model.param_names());
        debug_assert!(
            params.iter().eq(model.params.iter().map(|p| &p.name)),
            "a Structure is read from one model"
        );
    }

    /// `log p = Σ c_k(θ) g_k(x)` (constants substituted, in the model's
    /// parameters and inputs), if it is so as written.
    pub fn separable(&self, model: &Model) -> Option<&Split> {
        self.same_model(model);
        self.separable
            .get_or_init(|| {
                let inputs: Vec<Name> = model
                    .data
                    .iter()
                    .map(|d| d.name.clone())
                    .chain(model.covariates.iter().map(|c| c.name.clone()))
                    .collect();
                separable::split(&model.logp_numeric(), &model.param_names(), &inputs)
            })
            .as_ref()
    }

    /// The model written through its linear forms, if θ enters only
    /// through a few of them.
    pub fn linear_forms(&self, model: &Model) -> Option<&LinearForms> {
        self.same_model(model);
        self.forms
            .get_or_init(|| forms::linear_forms(model))
            .as_ref()
    }

    /// The log-density (constants substituted) through its forms row by
    /// row, if θ enters only through a few of them (any data may be in a
    /// form's coefficients).
    pub fn row_forms(&self, model: &Model) -> Option<&RowForms> {
        self.same_model(model);
        self.row_forms
            .get_or_init(|| forms::row_forms(&model.logp_numeric(), &model.param_names()))
            .as_ref()
    }
}

#[cfg(test)]
impl Structure {
    /// Which pieces have been read: (separable split, linear forms).
    pub(crate) fn pieces_read(&self) -> (bool, bool) {
        (self.separable.get().is_some(), self.forms.get().is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_piece_is_read_when_first_asked_for_and_kept() {
        let src = "param b0 : real\nparam b1 : real\ncovariate z : real\ndata k : count\n\
                   k ~ poisson(exp(b0 + b1*z))\n";
        let m = crate::load(src, "m").expect("model");
        let s = Structure::new();
        assert_eq!(s.pieces_read(), (false, false));
        // exp(b0 + b1·z) holds θ and an input in one factor: no split, and
        // that is read and kept too.
        assert!(s.separable(&m).is_none());
        assert_eq!(s.pieces_read(), (true, false));
        let first: *const LinearForms = s.linear_forms(&m).expect("one form");
        assert_eq!(s.pieces_read(), (true, true));
        // Kept: the same piece, not read again.
        assert!(std::ptr::eq(first, s.linear_forms(&m).expect("one form")));
    }
}
