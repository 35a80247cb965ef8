//! A model's structure, read once off its expressions and shared by the
//! stages above: which of the numeric engines can run, which exact
//! expectation applies, which fit path is fast.
//!
//! * [`separable`] — `log p = Σ c_k(θ) g_k(x)` term by term, as written
//!   (the numeric separable engine);
//! * [`forms`] — θ entering only through a few linear forms
//!   `η = a(z)ᵀθ + c(z)`, by a symbolic affine decomposition (the fit's GLM
//!   path);
//! * [`linearize`] — any expression as `Σ c_m(θ) · m(x)`, expanded in the
//!   data (fisher's exact expectations and raw-density matching, on each
//!   Hessian entry and group: a function, not a per-model piece).
//!
//! [`Structure::of`] computes the per-model pieces once; the front door
//! (`fimkit::Model`) keeps it and hands it to the numeric functions and
//! to every fit; a stage called on its own computes it itself.
//!
//! The data groups (which data variables one exact expectation integrates
//! at once) stay in fisher (`fisher::expectation::data_groups`): a group
//! is what the family table or fisher's raw-density matching (statistics,
//! base measure, the normaliser identity with its numeric checks) makes of
//! it, and the fit asks for the groups of the model written in its forms
//! ([`forms::LinearForms::reduced`]), not of the model itself.
//!
//! ```
//! use fimkit::structure::Structure;
//! let src = "param b0 : real\nparam b1 : real\ncovariate z : real\ndata y : {0, 1}\n\
//!            y ~ bernoulli(sigmoid(b0 + b1*z))\n";
//! let s = Structure::of(&fimkit::load(src, "logistic").unwrap());
//! assert_eq!(s.linear_forms().map(|f| f.m()), Some(1)); // b0 + b1*z
//! assert!(s.separable().is_none()); // log(1 + exp(...)) mixes y's row and θ
//! let src = "param a : positive\nparam b : positive\ndata x : positive\nx ~ gamma(a, b)\n";
//! let s = Structure::of(&fimkit::load(src, "gamma").unwrap());
//! assert_eq!(s.separable().map(|s| s.factors.len()), Some(2)); // x, log x
//! assert!(s.linear_forms().is_none()); // no covariates
//! ```

pub mod forms;
pub mod linearize;
pub mod separable;

use crate::ir::expr::Name;
use crate::ir::model::Model;
use forms::LinearForms;
use separable::Split;

/// What the stages need to know of a model's expressions, computed once.
#[derive(Clone, Debug)]
pub struct Structure {
    separable: Option<Split>,
    forms: Option<LinearForms>,
}

impl Structure {
    /// Read `model`'s structure: the separable split of its log-density
    /// (constants substituted, in its parameters and inputs) and its linear
    /// forms.
    pub fn of(model: &Model) -> Structure {
        let params = model.param_names();
        let inputs: Vec<Name> = model
            .data
            .iter()
            .map(|d| d.name.clone())
            .chain(model.covariates.iter().map(|c| c.name.clone()))
            .collect();
        Structure {
            separable: separable::split(&model.logp_numeric(), &params, &inputs),
            forms: forms::linear_forms(model),
        }
    }

    /// `log p = Σ c_k(θ) g_k(x)` (constants substituted), if it is so as
    /// written.
    pub fn separable(&self) -> Option<&Split> {
        self.separable.as_ref()
    }

    /// The model written through its linear forms, if θ enters only
    /// through a few of them.
    pub fn linear_forms(&self) -> Option<&LinearForms> {
        self.forms.as_ref()
    }
}
