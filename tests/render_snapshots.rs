//! Snapshots of the text, Unicode and LaTeX renderings: every example's
//! log-density, gradient and Hessian, every function, the layout rules,
//! and matrices. Each snapshot shows the input next to the output.

#[path = "render_support/corpus.rs"]
mod corpus;

use corpus::{Item, MatItem};
use fimkit::render::latex::{LatexStyle, latex};
use fimkit::render::matrix::{matrix_latex, matrix_text};
use fimkit::render::text::{TextStyle, render};
use std::fmt::Write;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/render");
    s.set_prepend_module_to_snapshot(false);
    s
}

fn show_item(out: &mut String, it: &Item) {
    let ascii = TextStyle::ascii().with_leading(it.leading.iter().map(|n| &**n));
    let uni = TextStyle::unicode().with_leading(it.leading.iter().map(|n| &**n));
    let tex = LatexStyle::default().with_leading(it.leading.iter().map(|n| &**n));
    let _ = writeln!(out, "## {}", it.id);
    let _ = writeln!(out, "ir:      {}", it.expr);
    let _ = writeln!(out, "text:    {}", render(&it.expr, &ascii));
    let _ = writeln!(out, "unicode: {}", render(&it.expr, &uni));
    let _ = writeln!(out, "latex:   {}", latex(&it.expr, &tex));
    out.push('\n');
}

fn show_matrix(out: &mut String, m: &MatItem) {
    let ascii = TextStyle::ascii().with_leading(m.leading.iter().map(|n| &**n));
    let uni = TextStyle::unicode().with_leading(m.leading.iter().map(|n| &**n));
    let tex = LatexStyle::default().with_leading(m.leading.iter().map(|n| &**n));
    let _ = writeln!(out, "## {}", m.id);
    let _ = writeln!(out, "{}\n", matrix_text(&m.rows, &ascii));
    let _ = writeln!(out, "{}\n", matrix_text(&m.rows, &uni));
    let _ = writeln!(out, "{}\n", matrix_latex(&m.rows, &tex));
}

#[test]
fn examples_render() {
    let items = corpus::example_items();
    let mats = corpus::example_matrices();
    settings().bind(|| {
        for ex in corpus::examples() {
            let src = std::fs::read_to_string(format!(
                "{}/examples/{}.fim",
                env!("CARGO_MANIFEST_DIR"),
                ex.name
            ))
            .unwrap();
            let mut out = format!("{}\n---\n", src.trim_end());
            let prefix = format!("{}.", ex.name);
            for it in items.iter().filter(|i| i.id.starts_with(&prefix)) {
                show_item(&mut out, it);
            }
            for m in mats.iter().filter(|m| m.id.starts_with(&prefix)) {
                show_matrix(&mut out, m);
            }
            insta::assert_snapshot!(format!("example_{}", ex.name), out);
        }
    });
}

#[test]
fn hand_list_renders() {
    let items = corpus::hand_items();
    settings().bind(|| {
        for group in ["fn", "const", "name", "layout"] {
            let mut out = String::from("leading variables: x, y, k\n\n");
            for it in items
                .iter()
                .filter(|i| i.id.split('.').next() == Some(group))
            {
                show_item(&mut out, it);
            }
            insta::assert_snapshot!(format!("hand_{group}"), out);
        }
    });
}

#[test]
fn matrices_render() {
    settings().bind(|| {
        let mut out = String::new();
        for m in corpus::hand_matrices() {
            show_matrix(&mut out, &m);
        }
        insta::assert_snapshot!("matrices", out);
    });
}
