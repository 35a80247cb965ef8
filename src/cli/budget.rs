//! The command's time and memory budgets, watched from the main thread
//! (src/main.rs) while the work runs on a worker thread. A command that
//! passes either stops with exit code 5 and a message naming the stage it
//! was in ([`fimkit::budget`]).
//!
//! Defaults: 10 s of wall time (120 s in a debug build, which runs 10–50×
//! slower: the test suite's), and half the machine's memory, at most
//! 8 GiB. `--budget SECONDS` / `--memory-budget MIB` (or the environment
//! variables `FIMKIT_BUDGET`, `FIMKIT_MEMORY_BUDGET`) change them; 0 means
//! no limit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Exit code: stopped by the time or memory budget.
pub const EXIT_BUDGET: u8 = 5;

/// The time budget in milliseconds (0: none); set once the arguments are read.
static TIME_MS: AtomicU64 = AtomicU64::new(u64::MAX);
/// The memory budget in bytes (0: none).
static MEMORY: AtomicU64 = AtomicU64::new(u64::MAX);

/// The default time budget.
pub fn default_seconds() -> f64 {
    if cfg!(debug_assertions) { 120.0 } else { 10.0 }
}

/// The default memory budget: half the machine's memory, at most 8 GiB.
pub fn default_memory_mib() -> u64 {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(16 << 20);
    (total_kib / 1024 / 2).min(8 << 10)
}

/// Set the budgets (seconds, MiB; 0 = no limit). Half way through the
/// time budget a derivation leaves out its optional steps (det F, F⁻¹,
/// the Jeffreys prior, the natural gradient) and says so, so that F is
/// reported within the budget when it can be.
pub fn set(seconds: f64, memory_mib: u64) {
    let ms = if seconds <= 0.0 || !seconds.is_finite() {
        0
    } else {
        (seconds * 1000.0).ceil() as u64
    };
    fimkit::budget::set_soft_deadline(
        (ms > 0).then(|| std::time::Instant::now() + std::time::Duration::from_millis(ms / 2)),
    );
    TIME_MS.store(ms, Ordering::Relaxed);
    MEMORY.store(memory_mib.saturating_mul(1 << 20), Ordering::Relaxed);
}

/// The resident memory of this process, in bytes (Linux; `None` elsewhere).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Why the command must stop now, if it must.
pub fn exceeded(elapsed: Duration) -> Option<String> {
    let stage = fimkit::budget::current_stage();
    let ms = TIME_MS.load(Ordering::Relaxed);
    let time_ms = if ms == u64::MAX {
        (default_seconds() * 1000.0) as u64
    } else {
        ms
    };
    if time_ms > 0 && elapsed.as_millis() as u64 > time_ms {
        return Some(format!(
            "error: stopped after {:.1} s, the time budget, while {stage}\n  \
             = help: give it more time with --budget SECONDS (0: no limit), or simplify the model",
            time_ms as f64 / 1000.0
        ));
    }
    let mem = MEMORY.load(Ordering::Relaxed);
    let mem = if mem == u64::MAX {
        default_memory_mib() << 20
    } else {
        mem
    };
    if mem > 0
        && let Some(rss) = resident_bytes()
        && rss > mem
    {
        return Some(format!(
            "error: stopped at {} MiB of memory, the memory budget, while {stage}\n  \
             = help: allow more with --memory-budget MIB (0: no limit), or simplify the model",
            mem >> 20
        ));
    }
    None
}
