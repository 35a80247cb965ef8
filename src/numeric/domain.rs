//! The one parameter-domain check: a [`Domain`] as two numbers and the test
//! "strictly inside and finite" that every stage applies to θ (the numeric
//! API, the numeric FIM and its `check`, `derive --at`, the fit's
//! coordinates and its start).
//!
//! A domain's ends are constant expressions (the resolver allows nothing
//! else); they are evaluated once with the model's constants substituted.
//! An end that does not evaluate to a number is taken as open (±∞), so a
//! check is never stricter than the domain the user wrote.
//!
//! ```
//! use fimkit::numeric::domain::Interval;
//! let m = fimkit::load("param p : (0, 1)\ndata x : {0, 1}\nx ~ bernoulli(p)\n", "m").unwrap();
//! let p = Interval::of(&m, &m.params[0].domain);
//! assert!(p.contains(0.3));
//! assert!(!p.contains(1.0) && !p.contains(f64::NAN));
//! assert_eq!((p.lower(), p.upper()), (Some(0.0), Some(1.0)));
//! ```

use super::eval::eval_f64;
use crate::ir::expr::Expr;
use crate::ir::model::{Domain, Model};

/// An open interval `(lo, hi)`; the ends may be infinite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Lower end (exclusive), `-∞` when unbounded below.
    pub lo: f64,
    /// Upper end (exclusive), `+∞` when unbounded above.
    pub hi: f64,
}

impl Interval {
    /// The real line.
    pub const REAL: Interval = Interval {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };

    /// `domain`'s ends as numbers (constants substituted).
    pub fn of(model: &Model, domain: &Domain) -> Interval {
        Interval {
            lo: end(model, &domain.lo).unwrap_or(f64::NEG_INFINITY),
            hi: end(model, &domain.hi).unwrap_or(f64::INFINITY),
        }
    }

    /// Is `v` finite and strictly inside?
    pub fn contains(self, v: f64) -> bool {
        v.is_finite() && v > self.lo && v < self.hi
    }

    /// The lower end when it is finite.
    pub fn lower(self) -> Option<f64> {
        self.lo.is_finite().then_some(self.lo)
    }

    /// The upper end when it is finite.
    pub fn upper(self) -> Option<f64> {
        self.hi.is_finite().then_some(self.hi)
    }
}

/// Every parameter's interval, in the model's order.
pub fn param_intervals(model: &Model) -> Vec<Interval> {
    model
        .params
        .iter()
        .map(|p| Interval::of(model, &p.domain))
        .collect()
}

/// An interval end's value, `None` for an infinite or unevaluable end.
fn end(model: &Model, e: &Option<Expr>) -> Option<f64> {
    e.as_ref()
        .and_then(|e| eval_f64(&model.substitute_consts(e), &|_| None).ok())
        .filter(|v| !v.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_with_constants_and_infinite_ends() {
        let m = crate::load(
            "const c = 2\nparam a : (-c, c)\nparam s : positive\nparam m : real\n\
             data x : real\nx ~ normal(m + a, s)\n",
            "m",
        )
        .unwrap();
        let iv = param_intervals(&m);
        assert_eq!(iv[0], Interval { lo: -2.0, hi: 2.0 });
        assert_eq!((iv[1].lower(), iv[1].upper()), (Some(0.0), None));
        assert_eq!(iv[2], Interval::REAL);
        assert!(iv[0].contains(1.999) && !iv[0].contains(-2.0));
        assert!(!iv[1].contains(0.0) && iv[1].contains(1e300));
        assert!(!iv[2].contains(f64::INFINITY) && iv[2].contains(-1e300));
    }
}
