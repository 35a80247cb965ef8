//! Pictures of a fit, drawn with plotters as SVG or PNG (by the file's
//! extension).
//!
//! * Two parameters: the log-likelihood's contours `ℓ̂ − ℓ(θ) = c` (the
//!   innermost are likelihood-ratio regions of 50, 90, 95, 99 and 99.9%),
//!   the trajectories of each method from the same start, the estimate
//!   and its 95% Wald (Cramér–Rao) ellipse `(θ − θ̂)ᵀ I(θ̂) (θ − θ̂) ≤
//!   χ²₂(0.95)`; beside it, the convergence curves.
//! * Other dimensions: the convergence curves `ℓ̂ − ℓ(θ_k)` against the
//!   iteration, log scale.
//!
//! Text uses an embedded subset of DejaVu Sans, so the pictures look the
//! same on every machine.

use super::{FitResult, Method, Objective, Problem, TraceRow};
use nalgebra::{DMatrix, DVector};
use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;
use std::path::Path;

/// The embedded font (see assets/fonts/LICENSE-DejaVu).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
/// χ²₂(0.95).
const CHI2_2_95: f64 = 5.991_464_547_107_979;

fn register_font() -> Result<(), String> {
    static ONCE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the embedded font is unreadable".to_string())
    })
    .clone()
}

/// One method's trajectory and whether it converged.
pub type Run = (Method, Vec<TraceRow>, bool);

/// Height of one legend line.
const LEGEND_LINE: i32 = 21;
/// Legend font size.
const LEGEND_FONT: f64 = 15.0;
/// Colour of the Wald ellipse.
const GREEN: RGBColor = RGBColor(44, 160, 44);
/// Colour of the contours' key and of the tolerance line.
const GRAY: RGBColor = RGBColor(110, 110, 110);

/// A method's legend text: its name, steps taken and how it ended.
pub fn method_label(m: Method, rows: &[TraceRow], converged: bool) -> String {
    let name = match m {
        Method::FisherScoring => "Fisher scoring",
        Method::Natural => "natural gradient (KL trust region)",
        Method::Newton => "Newton",
        Method::GradientDescent => "gradient descent",
    };
    let steps = rows.len().saturating_sub(1);
    let tail = if converged { "" } else { ", not converged" };
    format!(
        "{name}: {steps} step{}{tail}",
        if steps == 1 { "" } else { "s" }
    )
}

fn method_color(m: Method) -> RGBColor {
    match m {
        Method::FisherScoring => RGBColor(214, 39, 40),
        Method::Natural => RGBColor(31, 119, 180),
        Method::Newton => RGBColor(148, 103, 189),
        Method::GradientDescent => RGBColor(255, 127, 14),
    }
}

/// Draw `result` (and the other methods' trajectories `runs`, the
/// result's own first) to `path` (`.svg` or `.png`).
pub fn plot_fit(
    problem: &Problem,
    result: &FitResult,
    runs: &[Run],
    path: &Path,
) -> Result<(), String> {
    register_font()?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let two = result.params.len() == 2;
    // Legend lines: the methods beside the other keys.
    let keys = if two { 5 } else { 1 };
    let legend = 26 + LEGEND_LINE as u32 * runs.len().max(keys) as u32;
    let size = if two {
        (1280, 600 + legend)
    } else {
        (860, 520 + legend)
    };
    match ext.as_deref() {
        Some("svg") => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(&root, problem, result, runs, two, legend)
        }
        Some("png") => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw(&root, problem, result, runs, two, legend)
        }
        _ => Err("the plot file must end in .svg or .png".into()),
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    problem: &Problem,
    result: &FitResult,
    runs: &[Run],
    two: bool,
    legend_height: u32,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let height = root.dim_in_pixel().1;
    let (panels, strip) = root.split_vertically(height - legend_height);
    let metric = Metric::of(result);
    if two {
        let (left, right) = panels.split_horizontally(680);
        contours(&left, problem, result, runs)?;
        convergence(&right, result, runs, &metric, "convergence")?;
    } else {
        let title = format!("{}: convergence from the same start", result.model);
        convergence(&panels, result, runs, &metric, &title)?;
    }
    legend(&strip, runs, &metric, result.tol, two)?;
    root.present().map_err(err)
}

/// What the convergence panel shows for each iterate.
enum Metric {
    /// The distance to the estimate in standard errors,
    /// `√((θ_k − θ̂)ᵀ I(θ̂) (θ_k − θ̂))`: the scale of the stopping rule.
    Distance(DMatrix<f64>),
    /// Without a positive definite information: `ℓ(θ̂) − ℓ(θ_k)`.
    Gap,
}

impl Metric {
    fn of(result: &FitResult) -> Metric {
        let i = &result.expected_information;
        if result.covariance.is_some() && i.iter().all(|v| v.is_finite()) {
            Metric::Distance(i.clone())
        } else {
            Metric::Gap
        }
    }

    fn axis(&self) -> &'static str {
        match self {
            Metric::Distance(_) => "distance to the estimate (standard errors)",
            Metric::Gap => "max ℓ − ℓ(θ)",
        }
    }

    /// The smallest value shown; smaller ones (the estimate itself) are
    /// drawn on it.
    fn floor(&self, result: &FitResult) -> f64 {
        match self {
            Metric::Distance(_) => (result.tol * 1e-3).min(1e-10),
            Metric::Gap => 1e-14 * (1.0 + result.loglik.abs()),
        }
    }

    fn points(&self, result: &FitResult, rows: &[TraceRow]) -> Vec<(f64, f64)> {
        let n = result.n_rows as f64;
        let floor = self.floor(result);
        rows.iter()
            .map(|r| {
                let v = match self {
                    Metric::Distance(info) => {
                        let delta = &r.theta - &result.estimates;
                        delta.dot(&(info * &delta)).max(0.0).sqrt()
                    }
                    Metric::Gap => (-r.loss * n - result.loglik).abs(),
                };
                let v = if v.is_finite() {
                    v.max(floor)
                } else {
                    f64::NAN
                };
                (r.iteration as f64, v)
            })
            .filter(|p| p.1.is_finite())
            .collect()
    }
}

fn convergence<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    result: &FitResult,
    runs: &[Run],
    metric: &Metric,
    title: &str,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let series: Vec<(Method, Vec<(f64, f64)>)> = runs
        .iter()
        .map(|(m, rows, _)| (*m, metric.points(result, rows)))
        .collect();
    let all = || series.iter().flat_map(|(_, s)| s.iter());
    let xmax = all().map(|p| p.0).fold(1.0f64, f64::max);
    let floor = metric.floor(result);
    let ymax = all().map(|p| p.1).fold(floor * 10.0, f64::max) * 3.0;
    let ymin = floor / 2.0;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..xmax, (ymin..ymax).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc(metric.axis())
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .light_line_style(WHITE.mix(0.0))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    if matches!(metric, Metric::Distance(_)) && result.tol > ymin && result.tol < ymax {
        // The stopping rule: the Newton decrement, which is this distance
        // to second order, below tol.
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, result.tol), (xmax, result.tol)],
                6,
                4,
                GRAY.stroke_width(1),
            ))
            .map_err(err)?;
    }
    for (m, pts) in &series {
        let color = method_color(*m);
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(err)?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 2, color.filled())))
            .map_err(err)?;
    }
    Ok(())
}

/// How a legend entry's key is drawn.
enum Key {
    /// A trajectory: a line with dots.
    Method(RGBColor),
    /// A plain line of this width.
    Line(RGBColor, u32),
    /// A dashed line.
    Dashed(RGBColor),
    /// The start marker.
    Triangle,
    /// The estimate marker.
    Cross,
}

/// The legend strip under the panels: the methods on the left, the other
/// keys on the right.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[Run],
    metric: &Metric,
    tol: f64,
    two: bool,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let methods: Vec<(Key, String)> = runs
        .iter()
        .map(|(m, rows, conv)| (Key::Method(method_color(*m)), method_label(*m, rows, *conv)))
        .collect();
    let mut other: Vec<(Key, String)> = Vec::new();
    if two {
        other.push((
            Key::Line(GRAY, 1),
            "contours max ℓ − ℓ(θ) = 0.69, 2.3, 3.0, 4.6, 6.9 (50–99.9% likelihood-ratio \
             regions), 16, 48, …"
                .into(),
        ));
        other.push((
            Key::Line(GREEN, 2),
            "95% Wald (Cramér–Rao) ellipse around the estimate: squared Fisher distance ≤ χ²₂(0.95) = 5.99"
                .into(),
        ));
        other.push((Key::Triangle, "start (the same for every method)".into()));
        other.push((Key::Cross, "estimate".into()));
    }
    if matches!(metric, Metric::Distance(_)) {
        other.push((
            Key::Dashed(GRAY),
            format!("stopping rule: Newton decrement < {tol:e} standard errors"),
        ));
    }
    let width = area.dim_in_pixel().0 as i32;
    let split = if two { 420 } else { width / 2 - 40 };
    let columns = [(16, methods), (split, other)];
    let font = ("sans-serif", LEGEND_FONT).into_font().color(&BLACK);
    area.draw(&PathElement::new(
        vec![(8, 4), (width - 8, 4)],
        BLACK.mix(0.25).stroke_width(1),
    ))
    .map_err(err)?;
    for (x, entries) in columns {
        for (i, (key, text)) in entries.iter().enumerate() {
            let y = 16 + LEGEND_LINE * i as i32;
            let (a, b) = ((x, y), (x + 28, y));
            match *key {
                Key::Method(c) => {
                    area.draw(&PathElement::new(vec![a, b], c.stroke_width(2)))
                        .map_err(err)?;
                    area.draw(&Circle::new((x + 14, y), 3, c.filled()))
                        .map_err(err)?;
                }
                Key::Line(c, w) => {
                    area.draw(&PathElement::new(vec![a, b], c.stroke_width(w)))
                        .map_err(err)?;
                }
                Key::Dashed(c) => {
                    for s in [0, 11, 22] {
                        area.draw(&PathElement::new(
                            vec![(x + s, y), (x + s + 6, y)],
                            c.stroke_width(1),
                        ))
                        .map_err(err)?;
                    }
                }
                Key::Triangle => {
                    area.draw(&TriangleMarker::new((x + 14, y), 7, BLACK.filled()))
                        .map_err(err)?;
                }
                Key::Cross => {
                    area.draw(&Cross::new((x + 14, y), 6, BLACK.stroke_width(3)))
                        .map_err(err)?;
                }
            }
            area.draw(&Text::new(
                text.clone(),
                (x + 38, y - (LEGEND_FONT as i32) / 2 - 1),
                font.clone(),
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

/// Points of the 95% Wald ellipse, when the covariance exists.
fn ellipse(result: &FitResult) -> Option<Vec<(f64, f64)>> {
    let cov = result.covariance.as_ref()?;
    let ch = nalgebra::Cholesky::new(cov.clone())?;
    let l = ch.l();
    let r = CHI2_2_95.sqrt();
    Some(
        (0..=200)
            .map(|k| {
                let t = k as f64 / 200.0 * std::f64::consts::TAU;
                let u = DVector::from_vec(vec![r * t.cos(), r * t.sin()]);
                let p = &result.estimates + &l * u;
                (p[0], p[1])
            })
            .collect(),
    )
}

fn contours<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    problem: &Problem,
    result: &FitResult,
    runs: &[Run],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let ell = ellipse(result);
    // The region: the ellipse (scaled up) and every trajectory point.
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    let mut include = |x: f64, y: f64| {
        if x.is_finite() && y.is_finite() {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    };
    let th = &result.estimates;
    if let Some(pts) = &ell {
        for &(x, y) in pts {
            // 2× the 95% ellipse.
            include(2.0 * x - th[0], 2.0 * y - th[1]);
        }
    }
    // Gradient descent zigzags far away; the view follows the Fisher
    // methods (its path is clipped to the view).
    let framed = runs
        .iter()
        .filter(|(m, _, _)| *m != Method::GradientDescent || runs.len() == 1);
    for (_, rows, _) in framed {
        for r in rows {
            include(r.theta[0], r.theta[1]);
        }
    }
    include(th[0], th[1]);
    let pad = |a: f64, b: f64| {
        let w = (b - a).max(1e-9 * (1.0 + a.abs()));
        (a - 0.06 * w, b + 0.06 * w)
    };
    let (x0, x1) = pad(x0, x1);
    let (y0, y1) = pad(y0, y1);
    // ℓ on a grid: about 5·10⁷ row evaluations at most.
    let g = ((5e7 / problem.n_rows().max(1) as f64).sqrt() as usize).clamp(25, 110);
    let xs: Vec<f64> = (0..g)
        .map(|i| x0 + (x1 - x0) * i as f64 / (g - 1) as f64)
        .collect();
    let ys: Vec<f64> = (0..g)
        .map(|j| y0 + (y1 - y0) * j as f64 / (g - 1) as f64)
        .collect();
    let values: Vec<f64> = (0..g * g)
        .into_par_iter()
        .map(|k| {
            let theta = DVector::from_vec(vec![xs[k % g], ys[k / g]]);
            match problem.loglik(&theta) {
                Ok(v) if v.is_finite() => result.loglik - v,
                _ => f64::NAN,
            }
        })
        .collect();
    let grid = DMatrix::from_fn(g, g, |i, j| values[j * g + i]);
    let names: Vec<&str> = result.params.iter().map(|n| &**n).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{}: log-likelihood, trajectories, 95% Wald ellipse",
                result.model
            ),
            ("sans-serif", 20),
        )
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(names[0])
        .y_desc(names[1])
        .light_line_style(WHITE.mix(0.0))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    // Contour levels: likelihood-ratio regions, then a log-spaced tail.
    let mut levels: Vec<f64> = [0.5, 0.9, 0.95, 0.99, 0.999]
        .iter()
        .map(|p: &f64| -(1.0 - p).ln())
        .collect();
    let top = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let mut c = 16.0;
    while c < top && levels.len() < 14 {
        levels.push(c);
        c *= 3.0;
    }
    for (li, &level) in levels.iter().enumerate() {
        let shade = if li < 5 { 120 - 15 * li as u8 } else { 175 };
        let style = RGBColor(shade, shade, shade).stroke_width(1);
        let segs = marching_squares(&grid, &xs, &ys, level);
        chart
            .draw_series(
                segs.into_iter()
                    .map(|(a, b)| PathElement::new(vec![a, b], style)),
            )
            .map_err(err)?;
    }
    if let Some(pts) = ell {
        chart
            .draw_series(std::iter::once(PathElement::new(
                pts,
                GREEN.stroke_width(2),
            )))
            .map_err(err)?;
    }
    for (m, rows, _) in runs {
        let color = method_color(*m);
        let pts: Vec<(f64, f64)> = rows.iter().map(|r| (r.theta[0], r.theta[1])).collect();
        let view = (x0, x1, y0, y1);
        let segments: Vec<((f64, f64), (f64, f64))> = pts
            .windows(2)
            .filter_map(|w| clip(w[0], w[1], view))
            .collect();
        chart
            .draw_series(
                segments
                    .into_iter()
                    .map(|(a, b)| PathElement::new(vec![a, b], color.stroke_width(2))),
            )
            .map_err(err)?;
        chart
            .draw_series(
                pts.iter()
                    .filter(|p| inside(**p, view))
                    .map(|&p| Circle::new(p, 3, color.filled())),
            )
            .map_err(err)?;
    }
    if let Some(r) = runs.first().and_then(|(_, rows, _)| rows.first()) {
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                (r.theta[0], r.theta[1]),
                7,
                BLACK.filled(),
            )))
            .map_err(err)?;
    }
    chart
        .draw_series(std::iter::once(Cross::new(
            (th[0], th[1]),
            7,
            BLACK.stroke_width(3),
        )))
        .map_err(err)?;
    Ok(())
}

fn inside(p: (f64, f64), (x0, x1, y0, y1): (f64, f64, f64, f64)) -> bool {
    p.0 >= x0 && p.0 <= x1 && p.1 >= y0 && p.1 <= y1
}

/// The part of the segment a–b inside the view (Liang–Barsky).
fn clip(
    a: (f64, f64),
    b: (f64, f64),
    (x0, x1, y0, y1): (f64, f64, f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// Segments of the level set `f = c` of a grid (f[(i, j)] at (xs\[i\], ys\[j\])),
/// by marching squares; cells with a missing corner are skipped, saddles
/// are resolved by the cell's mean.
pub fn marching_squares(
    f: &DMatrix<f64>,
    xs: &[f64],
    ys: &[f64],
    c: f64,
) -> Vec<((f64, f64), (f64, f64))> {
    let mut out = Vec::new();
    let (nx, ny) = (xs.len(), ys.len());
    let lerp = |a: (f64, f64, f64), b: (f64, f64, f64)| {
        let t = (c - a.2) / (b.2 - a.2);
        (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
    };
    for i in 0..nx.saturating_sub(1) {
        for j in 0..ny.saturating_sub(1) {
            // Corners counter-clockwise from lower left.
            let p = [
                (xs[i], ys[j], f[(i, j)]),
                (xs[i + 1], ys[j], f[(i + 1, j)]),
                (xs[i + 1], ys[j + 1], f[(i + 1, j + 1)]),
                (xs[i], ys[j + 1], f[(i, j + 1)]),
            ];
            if p.iter().any(|q| !q.2.is_finite()) {
                continue;
            }
            let above: Vec<bool> = p.iter().map(|q| q.2 > c).collect();
            // Crossing points on the four edges.
            let mut pts = Vec::with_capacity(4);
            for e in 0..4 {
                let (a, b) = (p[e], p[(e + 1) % 4]);
                if above[e] != above[(e + 1) % 4] {
                    pts.push((e, lerp(a, b)));
                }
            }
            match pts.len() {
                2 => out.push((pts[0].1, pts[1].1)),
                4 => {
                    let mean = p.iter().map(|q| q.2).sum::<f64>() / 4.0;
                    // Pair edges so the segments separate the corners
                    // that agree with the centre.
                    if (mean > c) == above[0] {
                        out.push((pts[0].1, pts[3].1));
                        out.push((pts[1].1, pts[2].1));
                    } else {
                        out.push((pts[0].1, pts[1].1));
                        out.push((pts[2].1, pts[3].1));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marching_squares_traces_a_circle() {
        let g = 41;
        let xs: Vec<f64> = (0..g).map(|i| -2.0 + 4.0 * i as f64 / 40.0).collect();
        let f = DMatrix::from_fn(g, g, |i, j| xs[i] * xs[i] + xs[j] * xs[j]);
        let segs = marching_squares(&f, &xs, &xs, 1.0);
        assert!(segs.len() > 40);
        for (a, b) in segs {
            for p in [a, b] {
                let r = (p.0 * p.0 + p.1 * p.1).sqrt();
                assert!((r - 1.0).abs() < 0.01, "{p:?}");
            }
        }
    }
}
