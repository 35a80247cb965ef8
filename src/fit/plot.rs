//! Plots of fits (plotters, SVG or PNG).

use super::{FitResult, Method, Problem, TraceRow};
use std::path::Path;

/// Draw a fit (stub).
pub fn plot_fit(
    _problem: &Problem,
    _result: &FitResult,
    _runs: &[(Method, Vec<TraceRow>)],
    _path: &Path,
) -> Result<(), String> {
    Err("not yet".into())
}
