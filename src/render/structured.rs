//! Symmetric matrices over named parameters (Hessian, F, F⁻¹), printed by
//! their structure when writing every entry would not read: a matrix up to
//! [`FULL_MATRIX`] rows whose text fits in [`WIDE`] columns prints in full;
//! beyond that fimkit shows, in this order, `diag(…)`, `diag(d) + c·1·1ᵀ`,
//! a block-diagonal form (one labelled block per connected group of
//! parameters), `w·a·aᵀ` (a regression row), or else the entries that are
//! not 0, each labelled by its parameters. Text and LaTeX take the same
//! decision ([`layout`]), so the two outputs always show the same form.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::render::structured::{Layout, layout};
//! let n = 14;
//! let m: Vec<Vec<Expr>> = (0..n)
//!     .map(|i| (0..n).map(|j| if i == j { Expr::var("s") } else { Expr::zero() }).collect())
//!     .collect();
//! let params: Vec<fimkit::ir::Name> = (0..n).map(|i| format!("b{i}").into()).collect();
//! assert_eq!(layout(&m, &params, &[], None), Layout::Diagonal);
//! ```

use super::latex::{LatexStyle, latex, latex_name};
use super::matrix::{matrix_latex, matrix_text};
use super::text::{TextStyle, render, unicode_name};
use crate::fisher::matrix::{Matrix, Shape, rank_one, shape};
use crate::ir::expr::{Expr, Name};
use std::fmt::Write;

/// Most rows of a matrix printed in full.
pub const FULL_MATRIX: usize = 12;

/// Widest matrix (in characters of its Unicode text) printed in full.
pub const WIDE: usize = 100;

/// Most entries listed for a matrix with no other structure; the JSON
/// output has them all.
pub const LISTED_ENTRIES: usize = 2_000;

/// How a symmetric matrix is shown.
#[derive(Clone, Debug, PartialEq)]
pub enum Layout {
    /// Every entry, as a grid.
    Full,
    /// `diag(…)`, by runs of equal entries.
    Diagonal,
    /// `diag(d) + c·1·1ᵀ`.
    DiagonalPlusConstant {
        /// Added on the diagonal.
        d: Vec<Expr>,
        /// Every entry off the diagonal.
        c: Expr,
    },
    /// `diag(d) + c·w·wᵀ` with `w` not constant.
    DiagonalPlusOuter {
        /// Added on the diagonal.
        d: Vec<Expr>,
        /// The scalar.
        c: Expr,
        /// The vector.
        w: Vec<Expr>,
    },
    /// `w·a·aᵀ` with `a` free of the parameters.
    RankOne {
        /// The weight (holds the parameters).
        w: Expr,
        /// The row (`a₀ = 1`).
        a: Vec<Expr>,
    },
    /// Blocks of parameter indices; entries outside them are 0.
    Blocks(Vec<Vec<usize>>),
    /// The entries on or above the diagonal that are not 0.
    Entries,
}

/// The layout of `m` over `params`. `known_rank_one` is a `w·a·aᵀ` form
/// the caller already has (the derivation's F of a regression); without
/// it, a matrix with no other structure is tested for one, whose `a` must
/// be free of the parameters and of `derived` (names standing for
/// functions of them, such as a linear predictor η).
pub fn layout(
    m: &[Vec<Expr>],
    params: &[Name],
    derived: &[Name],
    known_rank_one: Option<&(Expr, Vec<Expr>)>,
) -> Layout {
    let n = m.len();
    if n <= 1 || params.len() != n || m.iter().any(|r| r.len() != n) {
        return Layout::Full;
    }
    if n <= FULL_MATRIX && text_width(&matrix_text(m, &TextStyle::unicode())) <= WIDE {
        return Layout::Full;
    }
    match shape(m) {
        Shape::Diagonal => Layout::Diagonal,
        Shape::DiagonalPlusConstant { d, c } => Layout::DiagonalPlusConstant { d, c },
        Shape::BlockDiagonal(blocks) => Layout::Blocks(blocks),
        // A regression row (w·a·aᵀ, with a free of the parameters) is the
        // simpler reading of a matrix that is also diag(0) + c·w·wᵀ.
        other => match known_rank_one.cloned().or_else(|| {
            let fixed: Vec<Name> = params.iter().chain(derived).cloned().collect();
            rank_one(m, &fixed)
        }) {
            Some((w, a)) => Layout::RankOne { w, a },
            None => match other {
                Shape::DiagonalPlusOuter { d, c, w } => Layout::DiagonalPlusOuter { d, c, w },
                _ => Layout::Entries,
            },
        },
    }
}

fn text_width(block: &str) -> usize {
    block.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn label(name: &str, style: &TextStyle) -> String {
    if style.unicode {
        unicode_name(name)
    } else {
        name.to_string()
    }
}

/// The matrix as text, every line indented by `pad` and ending in a
/// newline, in the form [`layout`] chose.
pub fn symmetric_text(
    m: &[Vec<Expr>],
    params: &[Name],
    layout: &Layout,
    style: &TextStyle,
    pad: &str,
) -> String {
    let n = m.len();
    let r = |e: &Expr| render(e, style);
    let names: Vec<String> = params.iter().map(|p| label(p, style)).collect();
    let mut out = String::new();
    let mut lines: Vec<(String, String)> = Vec::new();
    match layout {
        Layout::Full => {
            return matrix_text(m, style)
                .lines()
                .map(|l| format!("{pad}{l}\n"))
                .collect();
        }
        Layout::Diagonal => {
            let _ = writeln!(
                out,
                "{pad}{n}×{n} diagonal (every entry off the diagonal is 0):"
            );
            let diagonal: Vec<&Expr> = (0..n).map(|i| &m[i][i]).collect();
            lines = runs(&diagonal, &names, &r);
        }
        Layout::DiagonalPlusConstant { d, c } => {
            let _ = writeln!(
                out,
                "{pad}{n}×{n} = diag(d) + c·1·1ᵀ (every entry off the diagonal is c) with"
            );
            let _ = writeln!(out, "{pad}  c   {}", r(c));
            let _ = writeln!(out, "{pad}  d   by parameter:");
            let d: Vec<&Expr> = d.iter().collect();
            let lines = runs(&d, &names, &r);
            out.push_str(&aligned(&lines, &format!("{pad}    ")));
            return out;
        }
        Layout::DiagonalPlusOuter { d, c, w } => {
            let _ = writeln!(out, "{pad}{n}×{n} = diag(d) + c·w·wᵀ with");
            let _ = writeln!(out, "{pad}  c   {}", r(c));
            let wv: Vec<String> = w.iter().map(&r).collect();
            let _ = writeln!(out, "{pad}  w   ({})", wv.join(", "));
            let _ = writeln!(out, "{pad}  d   by parameter:");
            let d: Vec<&Expr> = d.iter().collect();
            let lines = runs(&d, &names, &r);
            out.push_str(&aligned(&lines, &format!("{pad}    ")));
            return out;
        }
        Layout::RankOne { w, a } => {
            let av: Vec<String> = a.iter().map(&r).collect();
            let _ = writeln!(out, "{pad}{n}×{n} = w·a·aᵀ with");
            let _ = writeln!(out, "{pad}  a   ({})", av.join(", "));
            let _ = writeln!(out, "{pad}  w   {}", r(w));
            return out;
        }
        Layout::Blocks(blocks) => {
            let _ = writeln!(
                out,
                "{pad}{n}×{n} block-diagonal, {} blocks (every entry outside them is 0):",
                blocks.len()
            );
            let inner = format!("{pad}    ");
            for b in blocks {
                let who: Vec<String> = b.iter().map(|&i| names[i].clone()).collect();
                if let [i] = b.as_slice() {
                    let _ = writeln!(out, "{pad}  {}   {}", who[0], r(&m[*i][*i]));
                    continue;
                }
                let sub: Matrix = b
                    .iter()
                    .map(|&i| b.iter().map(|&j| m[i][j].clone()).collect())
                    .collect();
                let sub_params: Vec<Name> = b.iter().map(|&i| params[i].clone()).collect();
                let sub_layout = layout_of_block(&sub, &sub_params);
                let _ = writeln!(out, "{pad}  {}:", who.join(", "));
                out.push_str(&symmetric_text(
                    &sub,
                    &sub_params,
                    &sub_layout,
                    style,
                    &inner,
                ));
            }
            return out;
        }
        Layout::Entries => {
            let nonzero = (0..n)
                .flat_map(|i| (i..n).map(move |j| (i, j)))
                .filter(|&(i, j)| !m[i][j].is_zero())
                .count();
            let _ = writeln!(
                out,
                "{pad}{n}×{n} symmetric; its {nonzero} entries on or above the diagonal that are not 0:"
            );
            'rows: for i in 0..n {
                for j in i..n {
                    if m[i][j].is_zero() {
                        continue;
                    }
                    if lines.len() == LISTED_ENTRIES {
                        break 'rows;
                    }
                    lines.push((format!("({}, {})", names[i], names[j]), r(&m[i][j])));
                }
            }
            if nonzero > LISTED_ENTRIES {
                lines.push((
                    "…".into(),
                    format!(
                        "{} more (`--format json` has every entry)",
                        nonzero - LISTED_ENTRIES
                    ),
                ));
            }
        }
    }
    out.push_str(&aligned(&lines, &format!("{pad}  ")));
    out
}

/// `label   value` lines with the values aligned, each indented by `pad`.
fn aligned(lines: &[(String, String)], pad: &str) -> String {
    let width = lines
        .iter()
        .map(|(w, _)| w.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (who, value) in lines {
        let gap = " ".repeat(width - who.chars().count());
        let _ = writeln!(out, "{pad}{who}{gap}   {value}");
    }
    out
}

/// A block is shown in full when it reads, else by its own structure
/// (never as blocks again: it is connected).
fn layout_of_block(sub: &Matrix, params: &[Name]) -> Layout {
    match layout(sub, params, &[], None) {
        Layout::Blocks(_) => Layout::Entries,
        l => l,
    }
}

/// One line per run of equal entries, labelled by the parameters it spans.
fn runs(values: &[&Expr], names: &[String], r: &dyn Fn(&Expr) -> String) -> Vec<(String, String)> {
    let n = values.len();
    let mut lines = Vec::new();
    let mut i = 0;
    while i < n {
        let mut end = i + 1;
        while end < n && values[end] == values[i] {
            end += 1;
        }
        let who = match end - i {
            1 => names[i].clone(),
            2 => format!("{}, {}", names[i], names[i + 1]),
            _ => format!("{} … {}", names[i], names[end - 1]),
        };
        lines.push((who, r(values[i])));
        i = end;
    }
    lines
}

/// The matrix as LaTeX (for the right-hand side of an `align*` line), in
/// the form [`layout`] chose.
pub fn symmetric_latex(
    m: &[Vec<Expr>],
    params: &[Name],
    layout: &Layout,
    style: &LatexStyle,
) -> String {
    let l = |e: &Expr| latex(e, style);
    let list = |v: &[&Expr]| v.iter().map(|e| l(e)).collect::<Vec<_>>().join(", ");
    let n = m.len();
    match layout {
        Layout::Full => matrix_latex(m, style),
        Layout::Diagonal => {
            let d: Vec<&Expr> = (0..n).map(|i| &m[i][i]).collect();
            format!("\\operatorname{{diag}}\\left({}\\right)", list(&d))
        }
        Layout::DiagonalPlusConstant { d, c } => {
            let d: Vec<&Expr> = d.iter().collect();
            format!(
                "\\operatorname{{diag}}\\left({}\\right) {} \\mathbf{{1}}\\mathbf{{1}}^{{\\top}}",
                list(&d),
                signed_factor(&l(c), c)
            )
        }
        Layout::DiagonalPlusOuter { d, c, w } => {
            let d: Vec<&Expr> = d.iter().collect();
            let w: Vec<&Expr> = w.iter().collect();
            format!(
                "\\operatorname{{diag}}\\left({}\\right) + c\\, w w^{{\\top}}, \\quad c = {}, \\quad w = \\left({}\\right)^{{\\top}}",
                list(&d),
                l(c),
                list(&w)
            )
        }
        Layout::RankOne { w, a } => {
            let a: Vec<&Expr> = a.iter().collect();
            format!(
                "w\\, a a^{{\\top}}, \\quad w = {}, \\quad a = \\left({}\\right)^{{\\top}}",
                l(w),
                list(&a)
            )
        }
        Layout::Blocks(blocks) => {
            let parts: Vec<String> = blocks
                .iter()
                .map(|b| {
                    let sub: Matrix = b
                        .iter()
                        .map(|&i| b.iter().map(|&j| m[i][j].clone()).collect())
                        .collect();
                    let sub_params: Vec<Name> = b.iter().map(|&i| params[i].clone()).collect();
                    let who: Vec<String> = sub_params.iter().map(|p| latex_name(p)).collect();
                    let body = symmetric_latex(
                        &sub,
                        &sub_params,
                        &layout_of_block(&sub, &sub_params),
                        style,
                    );
                    format!("\\underbrace{{{body}}}_{{{}}}", who.join(", "))
                })
                .collect();
            format!(
                "\\operatorname{{blockdiag}}\\left({}\\right)",
                parts.join(", ")
            )
        }
        Layout::Entries => {
            let mut rows = Vec::new();
            let mut nonzero = 0usize;
            for i in 0..n {
                for j in i..n {
                    if m[i][j].is_zero() {
                        continue;
                    }
                    nonzero += 1;
                    if rows.len() < LISTED_ENTRIES {
                        rows.push(format!(
                            "({}, {}) &: {}",
                            latex_name(&params[i]),
                            latex_name(&params[j]),
                            l(&m[i][j])
                        ));
                    }
                }
            }
            if nonzero > LISTED_ENTRIES {
                rows.push(format!(
                    "\\dots &: \\text{{{} more (JSON has every entry)}}",
                    nonzero - LISTED_ENTRIES
                ));
            }
            rows.push("\\text{others} &: 0".into());
            format!(
                "\\left[\\begin{{aligned}} {} \\end{{aligned}}\\right]",
                rows.join(" \\\\ ")
            )
        }
    }
}

/// `+ c` or `− c` before a factor, parenthesised when `c` is a sum.
fn signed_factor(tex: &str, c: &Expr) -> String {
    if let Some(rest) = tex.strip_prefix('-') {
        if matches!(c, Expr::Add(_)) {
            format!("+ \\left({tex}\\right)")
        } else {
            format!("- {rest}")
        }
    } else if matches!(c, Expr::Add(_)) {
        format!("+ \\left({tex}\\right)")
    } else {
        format!("+ {tex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<Name> {
        (1..=n).map(|i| Name::from(format!("a{i}"))).collect()
    }

    fn trigamma(x: Expr) -> Expr {
        Expr::call(crate::ir::expr::Func::Polygamma, vec![Expr::one(), x])
    }

    fn dirichlet_like(n: usize) -> Matrix {
        let total = trigamma(Expr::add(
            (1..=n).map(|i| Expr::var(&format!("a{i}"))).collect(),
        ));
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        let off = Expr::neg(total.clone());
                        if i == j {
                            Expr::add2(trigamma(Expr::var(&format!("a{}", i + 1))), off)
                        } else {
                            off
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn narrow_matrices_print_in_full() {
        let m = dirichlet_like(3);
        assert_eq!(layout(&m, &names(3), &[], None), Layout::Full);
    }

    #[test]
    fn diagonal_plus_constant_is_found_and_d_is_simplified() {
        let m = dirichlet_like(10);
        let Layout::DiagonalPlusConstant { d, c } = layout(&m, &names(10), &[], None) else {
            panic!("no structure found");
        };
        assert_eq!(d[3], trigamma(Expr::var("a4")));
        assert_eq!(c, m[0][1]);
        let text = symmetric_text(
            &m,
            &names(10),
            &Layout::DiagonalPlusConstant { d, c },
            &TextStyle::ascii(),
            "",
        );
        assert!(text.starts_with("10×10 = diag(d) + c·1·1ᵀ"), "{text}");
        assert!(text.contains("\n    a4    trigamma(a4)\n"), "{text}");
    }

    #[test]
    fn blocks_are_labelled_by_their_parameters() {
        // (a1, a3) coupled, a2 alone: not contiguous.
        let (x, y, z) = (Expr::var("x"), Expr::var("y"), Expr::zero());
        let long = Expr::exp(Expr::add(
            (0..40).map(|i| Expr::var(&format!("v{i}"))).collect(),
        ));
        let m = vec![
            vec![x.clone(), z.clone(), long.clone()],
            vec![z.clone(), y.clone(), z.clone()],
            vec![long.clone(), z.clone(), x.clone()],
        ];
        let l = layout(&m, &names(3), &[], None);
        assert_eq!(l, Layout::Blocks(vec![vec![0, 2], vec![1]]));
        let text = symmetric_text(&m, &names(3), &l, &TextStyle::ascii(), "");
        assert!(text.contains("\n  a1, a3:\n"), "{text}");
        assert!(text.contains("\n  a2   y\n"), "{text}");
        let tex = symmetric_latex(&m, &names(3), &l, &LatexStyle::default());
        assert!(tex.starts_with("\\operatorname{blockdiag}"), "{tex}");
        assert!(
            tex.contains("}_{a_{1}, a_{3}}") || tex.contains("}_{a_1, a_3}"),
            "{tex}"
        );
    }

    #[test]
    fn a_regression_row_is_rank_one() {
        let w = Expr::exp(Expr::add(
            (0..30).map(|i| Expr::var(&format!("b{i}"))).collect(),
        ));
        let a = [Expr::one(), Expr::var("z1"), Expr::var("z2")];
        let m: Matrix = (0..3)
            .map(|i| {
                (0..3)
                    .map(|j| Expr::mul(vec![w.clone(), a[i].clone(), a[j].clone()]))
                    .collect()
            })
            .collect();
        let params: Vec<Name> = vec!["b0".into(), "b1".into(), "b2".into()];
        assert_eq!(
            layout(&m, &params, &[], None),
            Layout::RankOne {
                w: w.clone(),
                a: a.to_vec()
            }
        );
    }
}
