//! Large buffers filled in parallel ([`Parts`]): each task zeroes its own
//! part just before filling it, and the pages may be backed by
//! transparent huge pages.
//!
//! A zeroed `Vec` of memory the allocator has had before (a long-running
//! process: a Python session, a bench) is zeroed by one thread while the
//! others wait: for the per-row Hessians of a 4-parameter model, a third
//! of the wall time. A task that fills its part a block at a time zeroes
//! each block while it is in cache ([`Part::take_front`]).
//!
//! A fresh 800 MB buffer (every row's 10×10 Hessian for 10⁶ rows) costs
//! more to fault in page by page (4 KiB: 200,000 page faults, each zeroing
//! its page) than to compute; with 2 MiB pages it is 400 faults. NumPy
//! advises the kernel the same way for its large arrays. On other systems,
//! or when the kernel declines, the pages are ordinary ones.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Buffers smaller than this are left alone (NumPy's threshold).
const HUGE_FROM_BYTES: usize = 4 << 20;

/// A buffer of numbers to be filled in parallel, part by part, each part
/// zeroed by the task that fills it ([`Part::zeroed`]), so that no thread
/// zeroes the whole buffer first. [`Parts::finish`] gives the vector; a part
/// that was never zeroed (a task that did not run) is zeroed then.
///
/// ```
/// use fimkit::numeric::buffer::Parts;
/// let mut buf = Parts::new(5);
/// for (k, part) in buf.split(2, 3).into_iter().enumerate() {
///     part.zeroed().fill(k as f64);
/// }
/// assert_eq!(buf.finish(), [0.0, 0.0, 1.0, 1.0, 2.0]);
/// ```
pub struct Parts {
    buf: Vec<f64>,
    len: usize,
    zeroed: AtomicUsize,
}

/// One part of a [`Parts`] buffer, not yet zeroed.
pub struct Part<'a> {
    slots: &'a mut [MaybeUninit<f64>],
    zeroed: &'a AtomicUsize,
}

impl Parts {
    /// Room for `len` numbers (advised for huge pages when large); nothing
    /// is written yet.
    pub fn new(len: usize) -> Parts {
        let buf = Vec::with_capacity(len);
        advise_huge(buf.as_ptr(), len);
        Parts {
            buf,
            len,
            zeroed: AtomicUsize::new(0),
        }
    }

    /// `count` consecutive parts of `size` numbers each (the last ones
    /// shorter, or empty, where the buffer ends). What parts of an earlier
    /// split zeroed is forgotten: [`Parts::finish`] counts this split's.
    pub fn split(&mut self, size: usize, count: usize) -> Vec<Part<'_>> {
        let Parts { buf, len, zeroed } = self;
        // Parts of one split are disjoint and each is zeroed at most once
        // (`Part::zeroed` takes it), so the count reaches `len` only when
        // every number of the buffer was written.
        *zeroed.get_mut() = 0;
        let mut rest = &mut buf.spare_capacity_mut()[..*len];
        (0..count)
            .map(|_| {
                let k = size.min(rest.len());
                let (slots, tail) = std::mem::take(&mut rest).split_at_mut(k);
                rest = tail;
                Part { slots, zeroed }
            })
            .collect()
    }

    /// The filled vector.
    pub fn finish(mut self) -> Vec<f64> {
        if *self.zeroed.get_mut() == self.len {
            // SAFETY: the parts cover `buf[..len]` without overlap and each
            // counted its numbers only after writing all of them
            // (`Part::zeroed`), so all `len` are initialized.
            unsafe { self.buf.set_len(self.len) };
        } else {
            self.buf.resize(self.len, 0.0);
        }
        self.buf
    }
}

impl<'a> Part<'a> {
    /// How many numbers the part holds.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the part holds no numbers.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The first `k` numbers (at most the part's) as a part of their own;
    /// this part keeps the rest. A task that fills its part a block at a
    /// time zeroes each block just before filling it, while the block's
    /// memory is in cache, instead of the whole part in a pass of its own.
    ///
    /// ```
    /// use fimkit::numeric::buffer::Parts;
    /// let mut buf = Parts::new(5);
    /// for mut part in buf.split(5, 1) {
    ///     part.take_front(2).zeroed().fill(1.0);
    ///     part.zeroed().fill(2.0);
    /// }
    /// assert_eq!(buf.finish(), [1.0, 1.0, 2.0, 2.0, 2.0]);
    /// ```
    pub fn take_front(&mut self, k: usize) -> Part<'a> {
        let k = k.min(self.slots.len());
        let (front, rest) = std::mem::take(&mut self.slots).split_at_mut(k);
        self.slots = rest;
        Part {
            slots: front,
            zeroed: self.zeroed,
        }
    }

    /// The part, zeroed, to fill.
    pub fn zeroed(self) -> &'a mut [f64] {
        let slots = self.slots;
        slots.fill(MaybeUninit::new(0.0));
        self.zeroed.fetch_add(slots.len(), Ordering::AcqRel);
        // SAFETY: every slot was initialized on the line above, and
        // `MaybeUninit<f64>` has the layout of `f64`.
        unsafe { &mut *(std::ptr::from_mut::<[MaybeUninit<f64>]>(slots) as *mut [f64]) }
    }
}

/// Advise the kernel to back `[start, start + n)` (numbers of an
/// allocation of at least that many) with huge pages, when it is large.
#[cfg(target_os = "linux")]
fn advise_huge(start: *const f64, n: usize) {
    const PAGE: usize = 2 << 20;
    if n * size_of::<f64>() < HUGE_FROM_BYTES {
        return;
    }
    let start = start as usize;
    let end = start + n * size_of::<f64>();
    let (lo, hi) = (start.next_multiple_of(PAGE), end / PAGE * PAGE);
    if hi > lo {
        // SAFETY: [lo, hi) lies inside the allocation, which this
        // process owns; MADV_HUGEPAGE is advice about how to back those
        // pages and changes neither their contents nor their validity.
        // A refusal (THP disabled) is harmless, so the result is ignored.
        unsafe {
            libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_: *const f64, _: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_never_filled_is_zero() {
        let mut buf = Parts::new(5);
        let mut parts = buf.split(2, 3).into_iter();
        parts.next().unwrap().zeroed().fill(7.0);
        drop(parts);
        // The other parts were never zeroed: the whole buffer is.
        assert_eq!(buf.finish(), [0.0; 5]);
    }

    #[test]
    fn a_later_split_counts_only_its_own_parts() {
        let mut buf = Parts::new(4);
        for part in buf.split(2, 2) {
            part.zeroed().fill(1.0);
        }
        let mut again = buf.split(2, 2).into_iter();
        again.next().unwrap().zeroed().fill(2.0);
        drop(again);
        assert_eq!(buf.finish(), [0.0; 4]);
        let mut whole = Parts::new(3);
        for part in whole.split(2, 3) {
            part.zeroed().fill(3.0);
        }
        assert_eq!(whole.finish(), [3.0; 3]);
    }

    #[test]
    fn a_part_taken_block_by_block_counts_every_block() {
        let mut buf = Parts::new(7);
        for mut part in buf.split(4, 2) {
            while !part.is_empty() {
                part.take_front(3).zeroed().fill(5.0);
            }
        }
        assert_eq!(buf.finish(), [5.0; 7]);
        // A block left unfilled: the whole buffer is zeroed instead.
        let mut buf = Parts::new(6);
        {
            let mut part = buf.split(6, 1).pop().unwrap();
            part.take_front(4).zeroed().fill(9.0);
            assert_eq!(part.len(), 2);
        }
        assert_eq!(buf.finish(), [0.0; 6]);
    }

    #[test]
    fn empty_buffers_split_into_empty_parts() {
        let mut buf = Parts::new(0);
        let parts = buf.split(0, 2);
        assert_eq!(parts.len(), 2);
        for part in parts {
            assert!(part.zeroed().is_empty());
        }
        assert!(buf.finish().is_empty());
    }
}
