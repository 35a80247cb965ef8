//! Named linear predictors at a point: the derivation's definitions
//! `η_r := Σ_j a_rj θ_j` (read by [`crate::structure::predictors`])
//! evaluated for a consumer that looks values up by name.

use crate::ir::expr::{Expr, Name};

/// A lookup that also answers the definitions' names: each definition is
/// evaluated once, in order, from `lookup` (and the definitions before it).
///
/// ```
/// use fimkit::ir::Expr;
/// let defs = vec![("eta".into(), Expr::var("b") * Expr::var("z"))];
/// let base = |v: &str| match v { "b" => Some(2.0), "z" => Some(3.0), _ => None };
/// let bound = fimkit::fisher::predictor::bind(&defs, &base).unwrap();
/// assert_eq!(bound("eta"), Some(6.0));
/// assert_eq!(bound("b"), Some(2.0));
/// ```
pub fn bind<'a>(
    definitions: &[(Name, Expr)],
    lookup: &'a dyn Fn(&str) -> Option<f64>,
) -> Result<impl Fn(&str) -> Option<f64> + 'a, crate::numeric::eval::EvalError> {
    let mut values: Vec<(Name, f64)> = Vec::with_capacity(definitions.len());
    for (name, e) in definitions {
        let known = |v: &str| {
            values
                .iter()
                .find(|(n, _)| &**n == v)
                .map(|(_, x)| *x)
                .or_else(|| lookup(v))
        };
        let x = crate::numeric::eval::eval_f64(e, &known)?;
        values.push((name.clone(), x));
    }
    Ok(move |v: &str| {
        values
            .iter()
            .find(|(n, _)| &**n == v)
            .map(|(_, x)| *x)
            .or_else(|| lookup(v))
    })
}
