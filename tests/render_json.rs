//! The JSON form (`fimkit-json 1`): every corpus expression's tree reads
//! back to the identical expression, its three renderings match the
//! renderers, and matrices carry their shape.

#[path = "render_support/corpus.rs"]
mod corpus;
#[path = "render_support/gen.rs"]
mod generate;

use fimkit::Expr;
use fimkit::render::json::{SCHEMA, expr_json, from_tree, matrix_json, tree, vector_json};
use fimkit::render::latex::{LatexStyle, latex};
use fimkit::render::text::{TextStyle, render};
use serde_json::json;

#[test]
fn trees_read_back_identically() {
    let mut items = corpus::example_items();
    items.extend(corpus::hand_items());
    for it in &items {
        let j = expr_json(&it.expr, &it.leading);
        let back = from_tree(&j["tree"]).unwrap_or_else(|e| panic!("{}: {e}", it.id));
        assert_eq!(back, it.expr, "{}", it.id);
        // The tree survives a trip through a JSON string too.
        let s = serde_json::to_string(&j).unwrap();
        let reparsed: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(from_tree(&reparsed["tree"]).unwrap(), it.expr, "{}", it.id);
        let leading = || it.leading.iter().map(|n| &**n);
        assert_eq!(
            j["text"],
            render(&it.expr, &TextStyle::ascii().with_leading(leading()))
        );
        assert_eq!(
            j["unicode"],
            render(&it.expr, &TextStyle::unicode().with_leading(leading()))
        );
        assert_eq!(
            j["latex"],
            latex(&it.expr, &LatexStyle::default().with_leading(leading()))
        );
        assert_eq!(
            j.as_object().unwrap().len(),
            4,
            "{}: exactly text, unicode, latex, tree",
            it.id
        );
    }
}

#[test]
fn tree_shapes() {
    let e = Expr::add2(
        Expr::polygamma(1, Expr::var("alpha")),
        Expr::mul2(Expr::rational(-1, 3), Expr::pi()),
    );
    assert_eq!(
        tree(&e),
        json!({"op": "add", "args": [
            {"op": "mul", "args": [{"num": "-1/3"}, {"const": "pi"}]},
            {"fn": "polygamma", "args": [{"num": "1"}, {"var": "alpha"}]}
        ]})
    );
    assert_eq!(
        tree(&Expr::sqrt(Expr::var("x"))),
        json!({"op": "pow", "args": [{"var": "x"}, {"num": "1/2"}]})
    );
}

#[test]
fn matrices_and_vectors() {
    for m in corpus::example_matrices()
        .into_iter()
        .chain(corpus::hand_matrices())
    {
        let j = matrix_json(&m.rows, &m.leading);
        assert_eq!(j["rows"], m.rows.len(), "{}", m.id);
        let entries = j["entries"].as_array().unwrap();
        assert_eq!(entries.len(), m.rows.len());
        for (r, row) in entries.iter().zip(&m.rows) {
            for (cell, e) in r.as_array().unwrap().iter().zip(row) {
                assert_eq!(from_tree(&cell["tree"]).unwrap(), *e, "{}", m.id);
            }
        }
        assert!(j["latex"].as_str().unwrap().starts_with(r"\begin{pmatrix}"));
    }
    let v = vector_json(&[Expr::var("x"), Expr::one()], &[]);
    assert_eq!(v["len"], 2);
    assert_eq!(v["entries"][1]["text"], "1");
    assert_eq!(SCHEMA, "fimkit-json 1");
}

/// The expression example in docs/json-schema.md is what the code writes.
#[test]
fn documented_example_is_current() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json-schema.md"))
        .expect("docs/json-schema.md");
    let start = doc.find("```json\n").expect("a json block") + "```json\n".len();
    let end = start + doc[start..].find("```").expect("end of block");
    let documented: serde_json::Value = serde_json::from_str(&doc[start..end]).expect("valid JSON");
    let (x, mu, s) = (Expr::var("x"), Expr::var("mu"), Expr::var("sigma"));
    let e = Expr::div(Expr::sub(x, mu), Expr::powi(s, 2));
    assert_eq!(documented, expr_json(&e, &["x".into()]));
    assert!(doc.contains(&format!("`{SCHEMA}`")));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: if std::env::var("FIMKIT_LONG").is_ok_and(|v| v == "1") { 5000 } else { 300 },
        ..Default::default()
    })]

    /// Random canonical expressions read back from their tree unchanged.
    #[test]
    fn random_trees_read_back(e in generate::expr()) {
        let back = from_tree(&tree(&e)).map_err(|x| proptest::test_runner::TestCaseError::fail(x.to_string()))?;
        proptest::prop_assert_eq!(back, e);
    }
}
