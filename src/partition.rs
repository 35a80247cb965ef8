//! Items in connected components by shared keys: two items are in one
//! component when they share a key, directly or through other items. The
//! ground floor's one union–find (terms of a sum that share a function
//! call, data variables that share a term).
//!
//! ```
//! use fimkit::partition::components;
//! // 0 and 2 share "a", 2 and 3 share "c"; 1 is alone.
//! let keys = [vec!["a"], vec!["b"], vec!["a", "c"], vec!["c"]];
//! assert_eq!(components(&keys), vec![vec![0, 2, 3], vec![1]]);
//! ```

use std::collections::BTreeMap;

/// The components of `0..keys.len()`, item `i` holding `keys[i]`; each
/// component in increasing order, components in the order of their first
/// item.
pub fn components<K: Ord>(keys: &[Vec<K>]) -> Vec<Vec<usize>> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    let mut owner: BTreeMap<&K, usize> = BTreeMap::new();
    for (i, ks) in keys.iter().enumerate() {
        for k in ks {
            let j = *owner.entry(k).or_insert(i);
            let (a, b) = (root(&mut parent, j), root(&mut parent, i));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut slot: BTreeMap<usize, usize> = BTreeMap::new();
    for i in 0..keys.len() {
        let r = root(&mut parent, i);
        let k = *slot.entry(r).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[k].push(i);
    }
    out
}
