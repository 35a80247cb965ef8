//! Independent groups of data: which data variables a log-density
//! relates, so that each group is matched and integrated on its own (a
//! Rasch test's K items, K repeated measurements, independent blocks).
//!
//! Two variables are in one group when a term of the log-density's
//! top-level sum holds both (for the components of one indexed
//! declaration), when one's support names the other (counts written over
//! a dependent support), or when they are one simplex. What a group *is*
//! (a library family, or a density read by the normaliser identity) is
//! fisher's business (`fisher::raw`); this is only the partition.
//!
//! ```
//! use fimkit::ir::Name;
//! let src = "param a : real\nparam b[1..3] : real\ndata y[1..3] : {0, 1}\n\
//!            for k in 1..3 { logp += y[k]*(a - b[k]) - log(1 + exp(a - b[k])) }\n";
//! let m = fimkit::load(src, "rasch").unwrap();
//! let data: Vec<Name> = m.data.iter().map(|d| d.name.clone()).collect();
//! let groups = fimkit::structure::groups::independent_groups(&m, &m.logp, data);
//! assert_eq!(groups.len(), 3); // the items share no term
//! ```

use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Model, Support};
use std::collections::BTreeMap;

/// The data variables of `logp` (a sum of terms) in independent groups.
/// Distinct declarations are distinct groups (the chain rule relates
/// them: x2 given x1, then x1), unless one's support refers to the other
/// (a multinomial written by hand). The components of one indexed
/// declaration stay together only where a term of the log-density's
/// top-level sum holds two of them: K items that share no term (a Rasch
/// test, repeated measurements) are K groups, each matched on its own.
/// Groups keep the order of their first variable's declaration.
pub fn independent_groups(model: &Model, logp: &Expr, data: Vec<Name>) -> Vec<Vec<Name>> {
    /// What joins two variables: a term holding both (components of one
    /// declaration only), a support that names the other, one simplex.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Term(usize, String),
        Support(usize),
        Simplex(String),
    }
    let index: BTreeMap<&Name, usize> = data.iter().enumerate().map(|(i, v)| (v, i)).collect();
    let base = |v: &Name| v.split('[').next().unwrap_or(v).to_string();
    let mut keys: Vec<Vec<Key>> = data.iter().map(|_| Vec::new()).collect();
    let terms = match logp {
        Expr::Add(ts) => &ts[..],
        other => std::slice::from_ref(other),
    };
    for (t, term) in terms.iter().enumerate() {
        for v in term.free_vars() {
            if let Some(&i) = index.get(&v) {
                keys[i].push(Key::Term(t, base(&v)));
            }
        }
    }
    for (i, v) in data.iter().enumerate() {
        let Some(d) = model.data_var(v) else {
            continue;
        };
        for b in d.support.bound_vars() {
            if let Some(&j) = index.get(&b) {
                keys[i].push(Key::Support(i));
                keys[j].push(Key::Support(i));
            }
        }
        if matches!(d.support, Support::Simplex { .. }) {
            keys[i].push(Key::Simplex(base(v)));
        }
    }
    crate::partition::components(&keys)
        .into_iter()
        .map(|c| c.into_iter().map(|i| data[i].clone()).collect())
        .collect()
}
