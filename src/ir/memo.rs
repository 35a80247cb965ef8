//! Memos that exist only inside a scope on one thread.
//!
//! The symbolic derivation computes the same expansions and tidy forms
//! many times; a [`ScopedMemo`] keeps them for one scope (one derivation),
//! empty at its start and dropped at its end, so a computation costs the
//! same every time and nothing it returns depends on earlier work.

use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::hash::Hash;
use std::thread::LocalKey;

/// A memo of `K → V` for a `thread_local!`, active only inside
/// [`ScopedMemo::scope`]; outside any scope nothing is kept. Holds at most
/// `limit` entries (later results are computed, not stored).
pub(crate) struct ScopedMemo<K, V> {
    map: RefCell<Option<FxHashMap<K, V>>>,
    limit: usize,
}

impl<K: Eq + Hash + Clone + 'static, V: Clone + 'static> ScopedMemo<K, V> {
    /// An inactive memo that will keep at most `limit` entries per scope.
    pub(crate) const fn new(limit: usize) -> Self {
        ScopedMemo {
            map: RefCell::new(None),
            limit,
        }
    }

    /// Run `f` with a fresh memo; the enclosing scope's memo (if any) is
    /// restored at the end, also on unwinding.
    pub(crate) fn scope<T>(memo: &'static LocalKey<Self>, f: impl FnOnce() -> T) -> T {
        struct Restore<K: 'static, V: 'static> {
            memo: &'static LocalKey<ScopedMemo<K, V>>,
            prev: Option<FxHashMap<K, V>>,
        }
        impl<K, V> Drop for Restore<K, V> {
            fn drop(&mut self) {
                let prev = self.prev.take();
                self.memo.with(|m| *m.map.borrow_mut() = prev);
            }
        }
        let prev = memo.with(|m| m.map.replace(Some(FxHashMap::default())));
        let _restore = Restore { memo, prev };
        f()
    }

    /// The memoised value for `key`, or `compute()` (stored when a scope
    /// is open and the memo is not full). `compute` may use the memo too.
    pub(crate) fn get_or_compute(
        memo: &'static LocalKey<Self>,
        key: &K,
        compute: impl FnOnce() -> V,
    ) -> V {
        let hit = memo.with(|m| m.map.borrow().as_ref().map(|m| m.get(key).cloned()));
        match hit {
            None => compute(),
            Some(Some(v)) => v,
            Some(None) => {
                let v = compute();
                memo.with(|m| {
                    if let Some(map) = m.map.borrow_mut().as_mut()
                        && map.len() < m.limit
                    {
                        map.insert(key.clone(), v.clone());
                    }
                });
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ScopedMemo;
    use std::cell::Cell;

    thread_local! {
        static SQUARES: ScopedMemo<u64, u64> = const { ScopedMemo::new(2) };
        static CALLS: Cell<u32> = const { Cell::new(0) };
    }

    fn square(x: u64) -> u64 {
        ScopedMemo::get_or_compute(&SQUARES, &x, || {
            CALLS.with(|c| c.set(c.get() + 1));
            x * x
        })
    }

    fn calls() -> u32 {
        CALLS.with(Cell::get)
    }

    #[test]
    fn keeps_values_inside_a_scope_only() {
        let before = calls();
        assert_eq!(square(3), 9);
        assert_eq!(square(3), 9);
        assert_eq!(calls() - before, 2, "no scope: nothing kept");
        ScopedMemo::scope(&SQUARES, || {
            let start = calls();
            assert_eq!((square(3), square(3)), (9, 9));
            assert_eq!(calls() - start, 1, "kept within the scope");
            // Full at 2 entries: a third is computed each time.
            square(4);
            square(5);
            square(5);
            assert_eq!(calls() - start, 4);
            // A nested scope starts empty and restores the outer one.
            ScopedMemo::scope(&SQUARES, || square(3));
            assert_eq!(calls() - start, 5);
            square(3);
            assert_eq!(calls() - start, 5);
        });
        let after = calls();
        square(3);
        assert_eq!(calls() - after, 1, "dropped at the end of the scope");
    }
}
