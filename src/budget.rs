//! What the computation is doing, in words, for the command's watchdog:
//! long stages announce themselves with [`stage`], and a command stopped by
//! its time or memory budget names the stage it was in.
//!
//! ```
//! let _outer = fimkit::budget::stage("taking expectations");
//! {
//!     let _inner = fimkit::budget::stage("simplifying F");
//!     assert_eq!(fimkit::budget::current_stage(), "simplifying F");
//! }
//! assert_eq!(fimkit::budget::current_stage(), "taking expectations");
//! ```

use std::sync::Mutex;
use std::time::Instant;

static STAGE: Mutex<&'static str> = Mutex::new("starting");

/// When the optional steps of a derivation should be left out so that what
/// is essential (F) is reported within the budget.
static SOFT_DEADLINE: Mutex<Option<Instant>> = Mutex::new(None);

/// Set (or clear) the soft deadline: past it, [`running_short`] is true
/// and the derivation leaves out det F, F⁻¹, the Jeffreys prior and the
/// natural gradient, and says so.
pub fn set_soft_deadline(at: Option<Instant>) {
    *SOFT_DEADLINE.lock().unwrap_or_else(|e| e.into_inner()) = at;
}

/// Is the soft deadline past?
pub fn running_short() -> bool {
    SOFT_DEADLINE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_some_and(|t| Instant::now() >= t)
}

/// Marks a stage until it is dropped (the previous stage comes back).
#[must_use = "the stage lasts until the guard is dropped"]
#[derive(Debug)]
pub struct Stage {
    previous: &'static str,
    /// When the stage began, if stages are traced (`FIMKIT_TRACE_STAGES`).
    traced: Option<(&'static str, Instant)>,
}

/// Print each stage's wall time to stderr when it ends? (The environment
/// variable `FIMKIT_TRACE_STAGES` is set: a developer's profile of where a
/// derivation spends its time.)
fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FIMKIT_TRACE_STAGES").is_some())
}

/// Enter a stage (process-wide: the watchdog reads the latest one).
pub fn stage(name: &'static str) -> Stage {
    let mut s = STAGE.lock().unwrap_or_else(|e| e.into_inner());
    let previous = *s;
    *s = name;
    let traced = tracing().then(|| (name, Instant::now()));
    Stage { previous, traced }
}

impl Drop for Stage {
    fn drop(&mut self) {
        *STAGE.lock().unwrap_or_else(|e| e.into_inner()) = self.previous;
        if let Some((name, start)) = self.traced {
            eprintln!(
                "stage {:>9.3} ms  {name}",
                start.elapsed().as_secs_f64() * 1e3
            );
        }
    }
}

/// The stage entered last and not yet left.
pub fn current_stage() -> &'static str {
    *STAGE.lock().unwrap_or_else(|e| e.into_inner())
}
