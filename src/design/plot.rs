//! `--plot`: the sensitivity function ψ(x) over the space with the
//! support points (one covariate: a curve with the line ψ = 1; two: a heat
//! map), SVG or PNG by the file's extension.

use super::{Design, Problem, Space, weights};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

fn register_font() -> Result<(), String> {
    static ONCE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the embedded font is unreadable".to_string())
    })
    .clone()
}

/// Draw ψ(x) for `design` to `path`.
pub fn sensitivity_plot(problem: &Problem, design: &Design, path: &Path) -> Result<(), String> {
    register_font()?;
    let k = problem.k();
    if k > 2 {
        return Err(format!(
            "--plot draws one or two covariates; the space has {k}"
        ));
    }
    let (_, functional) = weights::functional(&problem.config.criterion, &design.information)
        .ok_or("the design's information matrix is singular")?;
    let (lo, hi): (Vec<f64>, Vec<f64>) = match &problem.config.space {
        Space::Box { lo, hi, .. } => (lo.clone(), hi.clone()),
        Space::Candidates { rows, .. } => (0..k)
            .map(|d| {
                let col = rows.iter().skip(d).step_by(k);
                (
                    col.clone().copied().fold(f64::INFINITY, f64::min),
                    col.copied().fold(f64::NEG_INFINITY, f64::max),
                )
            })
            .unzip(),
    };
    let n = if k == 1 { 1001 } else { 121 };
    let grid = match &problem.config.space {
        Space::Candidates { rows, .. } => rows.clone(),
        Space::Box { names, .. } => Space::Box {
            names: names.clone(),
            lo: lo.clone(),
            hi: hi.clone(),
        }
        .grid(Some(n)),
    };
    let schema = crate::numeric::DataSchema::from_model(problem.fim.model()).covariates_only();
    let psi = weights::sensitivities(
        &problem.fims(&grid, &schema).map_err(|e| e.to_string())?,
        &functional,
    );
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let size = (900, 600);
    match ext.as_deref() {
        Some("svg") => draw(
            &SVGBackend::new(path, size).into_drawing_area(),
            problem,
            design,
            &grid,
            &psi,
            &lo,
            &hi,
        ),
        Some("png") => draw(
            &BitMapBackend::new(path, size).into_drawing_area(),
            problem,
            design,
            &grid,
            &psi,
            &lo,
            &hi,
        ),
        _ => Err("the plot file must end in .svg or .png".into()),
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    problem: &Problem,
    design: &Design,
    grid: &[f64],
    psi: &[f64],
    lo: &[f64],
    hi: &[f64],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let names = problem.config.space.names();
    let title = format!(
        "sensitivity ψ(x) of the {}-optimal design (max {:.6})",
        problem.config.criterion.label(
            &problem
                .fim
                .params
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
        ),
        design.certificate.max_sensitivity
    );
    let red = RGBColor(214, 39, 40);
    if names.len() == 1 {
        let top = psi.iter().copied().fold(1.0f64, f64::max) * 1.05;
        let bottom = psi.iter().copied().fold(0.0f64, f64::min);
        let mut chart = ChartBuilder::on(root)
            .caption(&title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo[0]..hi[0], bottom..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(names[0].as_str())
            .y_desc("ψ(x)")
            .draw()
            .map_err(err)?;
        let mut pts: Vec<(f64, f64)> = grid.iter().copied().zip(psi.iter().copied()).collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(pts, BLUE.stroke_width(2)))
            .map_err(err)?;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(lo[0], 1.0), (hi[0], 1.0)],
                6,
                4,
                BLACK.into(),
            ))
            .map_err(err)?;
        chart
            .draw_series(
                design
                    .points
                    .iter()
                    .map(|x| Circle::new((x[0], 1.0), 6, red.filled())),
            )
            .map_err(err)?;
    } else {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo[0]..hi[0], lo[1]..hi[1])
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(names[0].as_str())
            .y_desc(names[1].as_str())
            .draw()
            .map_err(err)?;
        let (pmin, pmax) = psi
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let n = (grid.len() / 2) as f64;
        let side = n.sqrt().round().max(2.0);
        let (dx, dy) = (
            (hi[0] - lo[0]) / (side - 1.0),
            (hi[1] - lo[1]) / (side - 1.0),
        );
        chart
            .draw_series(grid.chunks(2).zip(psi).map(|(x, &v)| {
                let t = if pmax > pmin {
                    (v - pmin) / (pmax - pmin)
                } else {
                    1.0
                };
                let c = RGBColor(
                    (255.0 * t) as u8,
                    (80.0 + 100.0 * (1.0 - t)) as u8,
                    (255.0 * (1.0 - t)) as u8,
                );
                Rectangle::new(
                    [
                        (x[0] - dx / 2.0, x[1] - dy / 2.0),
                        (x[0] + dx / 2.0, x[1] + dy / 2.0),
                    ],
                    c.filled(),
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(
                design
                    .points
                    .iter()
                    .map(|x| Circle::new((x[0], x[1]), 7, WHITE.filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(
                design
                    .points
                    .iter()
                    .map(|x| Circle::new((x[0], x[1]), 7, BLACK.stroke_width(2))),
            )
            .map_err(err)?;
    }
    root.present().map_err(err)
}
