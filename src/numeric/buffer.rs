//! Large output buffers: zeroed `Vec<f64>`s whose pages the kernel may
//! back with transparent huge pages.
//!
//! A fresh 800 MB buffer (every row's 10×10 Hessian for 10⁶ rows) costs
//! more to fault in page by page (4 KiB: 200,000 page faults, each zeroing
//! its page) than to compute; with 2 MiB pages it is 400 faults. NumPy
//! advises the kernel the same way for its large arrays. On other systems,
//! or when the kernel declines, the buffer is an ordinary zeroed `Vec`.

/// Buffers smaller than this are left alone (NumPy's threshold).
const HUGE_FROM_BYTES: usize = 4 << 20;

/// A zeroed vector of `n` values, advised for huge pages when large.
///
/// ```
/// let v = fimkit::numeric::buffer::zeroed(3_000_000);
/// assert_eq!((v.len(), v[2_999_999]), (3_000_000, 0.0));
/// ```
pub fn zeroed(n: usize) -> Vec<f64> {
    let v = vec![0.0; n];
    if n * size_of::<f64>() >= HUGE_FROM_BYTES {
        advise_huge(&v);
    }
    v
}

#[cfg(target_os = "linux")]
fn advise_huge(v: &[f64]) {
    const PAGE: usize = 2 << 20;
    let start = v.as_ptr() as usize;
    let end = start + size_of_val(v);
    let (lo, hi) = (start.next_multiple_of(PAGE), end / PAGE * PAGE);
    if hi > lo {
        // SAFETY: [lo, hi) lies inside `v`'s allocation, which this
        // process owns; MADV_HUGEPAGE is advice about how to back those
        // pages and changes neither their contents nor their validity.
        // A refusal (THP disabled) is harmless, so the result is ignored.
        unsafe {
            libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_: &[f64]) {}
