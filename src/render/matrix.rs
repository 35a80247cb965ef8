//! Matrices and vectors: aligned plain text (Unicode brackets `⎡ ⎤ ⎢ ⎥ ⎣ ⎦`
//! in Unicode mode, a `[ ... ]` per row in ASCII) and LaTeX `pmatrix`.
//!
//! A matrix is given as rows (`&[Vec<Expr>]`, the shape of
//! [`crate::symbolic::hessian`]). Short rows are padded with empty
//! cells, so a ragged input is shown as it is rather than rejected.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::render::matrix::matrix_text;
//! use fimkit::render::text::TextStyle;
//! let s = Expr::var("sigma");
//! let f = vec![
//!     vec![Expr::recip(Expr::powi(s.clone(), 2)), Expr::zero()],
//!     vec![Expr::zero(), Expr::div(Expr::int(2), Expr::powi(s, 2))],
//! ];
//! assert_eq!(matrix_text(&f, &TextStyle::unicode()), "⎡ 1/σ²  0    ⎤\n⎣ 0     2/σ² ⎦");
//! assert_eq!(matrix_text(&f, &TextStyle::ascii()), "[ 1/sigma^2  0         ]\n[ 0          2/sigma^2 ]");
//! ```

use super::latex::{LatexStyle, latex_all};
use super::text::{TextStyle, render_all};
use crate::ir::expr::Expr;

/// Space between columns of a text matrix.
const GAP: &str = "  ";

/// A matrix as aligned text, one line per row (no trailing newline).
/// Columns are left-aligned; an empty matrix is `[ ]`.
pub fn matrix_text(rows: &[Vec<Expr>], style: &TextStyle) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    if rows.is_empty() || cols == 0 {
        return "[ ]".to_string();
    }
    let cells: Vec<&Expr> = rows.iter().flatten().collect();
    let mut rendered = render_all(&cells, style).into_iter();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row: Vec<String> = r.iter().filter_map(|_| rendered.next()).collect();
            row.resize(cols, String::new());
            row
        })
        .collect();
    let widths: Vec<usize> = (0..cols)
        .map(|j| table.iter().map(|r| width(&r[j])).max().unwrap_or(0))
        .collect();
    let n = table.len();
    table
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let (l, r) = brackets(style.unicode, i, n);
            let body: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - width(c))))
                .collect();
            format!("{l} {} {r}", body.join(GAP))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A column vector as aligned text (one entry per line).
pub fn vector_text(v: &[Expr], style: &TextStyle) -> String {
    let rows: Vec<Vec<Expr>> = v.iter().map(|e| vec![e.clone()]).collect();
    matrix_text(&rows, style)
}

/// A matrix as LaTeX: `\begin{pmatrix} a & b \\ c & d \end{pmatrix}`.
pub fn matrix_latex(rows: &[Vec<Expr>], style: &LatexStyle) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let cells: Vec<&Expr> = rows.iter().flatten().collect();
    let mut rendered = latex_all(&cells, style).into_iter();
    let body: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut row: Vec<String> = r.iter().filter_map(|_| rendered.next()).collect();
            row.resize(cols, String::new());
            row.join(" & ")
        })
        .collect();
    if body.is_empty() || cols == 0 {
        return r"\begin{pmatrix}\end{pmatrix}".to_string();
    }
    format!("\\begin{{pmatrix}} {} \\end{{pmatrix}}", body.join(r" \\ "))
}

/// A column vector as LaTeX `pmatrix`.
pub fn vector_latex(v: &[Expr], style: &LatexStyle) -> String {
    let rows: Vec<Vec<Expr>> = v.iter().map(|e| vec![e.clone()]).collect();
    matrix_latex(&rows, style)
}

/// A numeric symmetric matrix over named parameters, its cells already
/// formatted: up to [`super::structured::FULL_MATRIX`] rows as a grid with
/// the parameters labelling rows and columns, beyond that one line per
/// entry on or above the diagonal that is not 0 (at most
/// [`super::structured::LISTED_ENTRIES`]). Every line is indented by `pad`
/// and ends in a newline.
///
/// ```
/// use fimkit::render::matrix::labelled_numbers;
/// let cells = vec![
///     vec!["0.25".to_string(), "0".to_string()],
///     vec!["0".to_string(), "0.5".to_string()],
/// ];
/// let labels = vec!["mu".to_string(), "sigma".to_string()];
/// assert_eq!(
///     labelled_numbers(&cells, &labels, "  "),
///     "            mu  sigma\n  mu    [ 0.25      0 ]\n  sigma [    0    0.5 ]\n"
/// );
/// ```
pub fn labelled_numbers(cells: &[Vec<String>], labels: &[String], pad: &str) -> String {
    use super::structured::{FULL_MATRIX, LISTED_ENTRIES};
    let n = cells.len();
    let labels: Vec<&str> = (0..n)
        .map(|i| labels.get(i).map_or("", String::as_str))
        .collect();
    let lw = labels.iter().map(|l| width(l)).max().unwrap_or(0);
    let mut out = String::new();
    if n <= FULL_MATRIX {
        let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..cols)
            .map(|j| {
                cells
                    .iter()
                    .filter_map(|r| r.get(j))
                    .map(|c| width(c))
                    .chain(labels.get(j).map(|l| width(l)))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let header: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(j, w)| {
                let l = labels.get(j).copied().unwrap_or("");
                format!("{}{l}", " ".repeat(w - width(l)))
            })
            .collect();
        out.push_str(&format!("{pad}{}   {}\n", " ".repeat(lw), header.join(GAP)));
        for (i, row) in cells.iter().enumerate() {
            let body: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(j, w)| {
                    let c = row.get(j).map_or("", String::as_str);
                    format!("{}{c}", " ".repeat(w - width(c)))
                })
                .collect();
            let l = labels[i];
            out.push_str(&format!(
                "{pad}{l}{} [ {} ]\n",
                " ".repeat(lw - width(l)),
                body.join(GAP)
            ));
        }
        return out;
    }
    let is_zero = |c: &str| c.trim().parse::<f64>().is_ok_and(|v| v == 0.0);
    let entries: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (i..n).map(move |j| (i, j)))
        .filter(|&(i, j)| cells[i].get(j).is_some_and(|c| !is_zero(c)))
        .collect();
    out.push_str(&format!(
        "{pad}{n}×{n} symmetric; its {} entries on or above the diagonal that are not 0:\n",
        entries.len()
    ));
    let shown: Vec<(String, &str)> = entries
        .iter()
        .take(LISTED_ENTRIES)
        .map(|&(i, j)| {
            (
                format!("({}, {})", labels[i], labels[j]),
                cells[i][j].as_str(),
            )
        })
        .collect();
    let kw = shown.iter().map(|(k, _)| width(k)).max().unwrap_or(0);
    let vw = shown.iter().map(|(_, v)| width(v)).max().unwrap_or(0);
    for (k, v) in &shown {
        out.push_str(&format!(
            "{pad}  {k}{}   {}{v}\n",
            " ".repeat(kw - width(k)),
            " ".repeat(vw - width(v))
        ));
    }
    if entries.len() > LISTED_ENTRIES {
        out.push_str(&format!(
            "{pad}  … {} more (`--format json` has every entry)\n",
            entries.len() - LISTED_ENTRIES
        ));
    }
    out
}

/// Display width of a cell: every character we print is one column wide.
fn width(s: &str) -> usize {
    s.chars().count()
}

/// Left and right bracket of row `i` of `n`.
fn brackets(unicode: bool, i: usize, n: usize) -> (&'static str, &'static str) {
    if !unicode || n == 1 {
        return ("[", "]");
    }
    if i == 0 {
        ("⎡", "⎤")
    } else if i + 1 == n {
        ("⎣", "⎦")
    } else {
        ("⎢", "⎥")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let x = Expr::var("x");
        assert_eq!(matrix_text(&[], &TextStyle::unicode()), "[ ]");
        assert_eq!(
            matrix_latex(&[], &LatexStyle::default()),
            r"\begin{pmatrix}\end{pmatrix}"
        );
        let v = vector_text(
            &[x.clone(), Expr::int(10), x.clone()],
            &TextStyle::unicode(),
        );
        assert_eq!(v, "⎡ x  ⎤\n⎢ 10 ⎥\n⎣ x  ⎦");
        let ragged = vec![vec![x.clone(), Expr::one()], vec![x.clone()]];
        assert_eq!(
            matrix_text(&ragged, &TextStyle::ascii()),
            "[ x  1 ]\n[ x    ]"
        );
        assert_eq!(
            matrix_latex(&ragged, &LatexStyle::default()),
            r"\begin{pmatrix} x & 1 \\ x &  \end{pmatrix}"
        );
    }
}
