//! Large matrices print by structure (issue 17, item 7): a Dirichlet with
//! K = 10 as diag(d) + c·1·1ᵀ, a diagonal normal in d = 10 as blocks and a
//! diagonal, a probit with three covariates as w·a·aᵀ. The text and LaTeX
//! are pinned by snapshots, and every structured form is checked against
//! the matrix it stands for, entry by entry, at several points.

use fimkit::fisher::{DeriveConfig, derive};
use fimkit::ir::{Expr, Model};
use fimkit::numeric::eval::eval_f64;
use fimkit::render::structured::{Layout, layout};

const MODELS: [&str; 4] = [
    "dirichlet10",
    "diagonal_normal10",
    "probit3",
    "dirichlet_log4",
];

fn path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/structure/{name}.fim",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn load(name: &str) -> Model {
    let src = std::fs::read_to_string(path(name)).expect("the fixture");
    fimkit::load(&src, name).expect("the fixture loads")
}

fn fimkit(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args(args)
        .output()
        .expect("fimkit runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn large_derivations_print_by_structure() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/render");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for name in MODELS {
            let file = path(name);
            let text = fimkit(&["derive", &file]);
            insta::assert_snapshot!(format!("structure_{name}_text"), text);
            let tex = fimkit(&["derive", &file, "--format", "latex"]);
            insta::assert_snapshot!(format!("structure_{name}_latex"), tex);
        }
    });
}

/// Deterministic values: parameters and covariates in (0.5, 2.1) when
/// positive, else in (−0.8, 0.8); data at a point of its support.
fn point(model: &Model, seed: u64) -> Vec<(String, f64)> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = Vec::new();
    for p in &model.params {
        let u = next();
        let v = if p.domain.label == "positive" {
            0.5 + 1.6 * u
        } else {
            1.6 * u - 0.8
        };
        out.push((p.name.to_string(), v));
    }
    for c in &model.covariates {
        out.push((c.name.to_string(), 1.6 * next() - 0.8));
    }
    let simplex = model
        .data
        .iter()
        .filter(|x| x.support.label().starts_with("simplex"))
        .count();
    for (k, x) in model.data.iter().enumerate() {
        let v = if x.support.label().starts_with("simplex") {
            // Unequal parts summing to 1.
            let w = (k + 1) as f64;
            let total = (simplex * (simplex + 1) / 2) as f64;
            w / total
        } else {
            1.0
        };
        out.push((x.name.to_string(), v));
    }
    out
}

/// The matrix a layout stands for, entry by entry.
fn rebuild(l: &Layout, m: &[Vec<Expr>]) -> Vec<Vec<Expr>> {
    let n = m.len();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| match l {
                    Layout::Full | Layout::Entries => m[i][j].clone(),
                    Layout::Diagonal if i == j => m[i][i].clone(),
                    Layout::Diagonal => Expr::zero(),
                    Layout::DiagonalPlusConstant { d, c } if i == j => {
                        Expr::add2(d[i].clone(), c.clone())
                    }
                    Layout::DiagonalPlusConstant { c, .. } => c.clone(),
                    Layout::DiagonalPlusOuter { d, c, w } if i == j => Expr::add2(
                        d[i].clone(),
                        Expr::mul(vec![c.clone(), w[i].clone(), w[i].clone()]),
                    ),
                    Layout::DiagonalPlusOuter { c, w, .. } => {
                        Expr::mul(vec![c.clone(), w[i].clone(), w[j].clone()])
                    }
                    Layout::RankOne { w, a } => {
                        Expr::mul(vec![w.clone(), a[i].clone(), a[j].clone()])
                    }
                    Layout::Blocks(blocks) => {
                        if blocks.iter().any(|b| b.contains(&i) && b.contains(&j)) {
                            m[i][j].clone()
                        } else {
                            Expr::zero()
                        }
                    }
                })
                .collect()
        })
        .collect()
}

fn kind(l: &Layout) -> String {
    match l {
        Layout::Blocks(b) => format!("blocks {}", b.len()),
        other => format!("{other:?}")
            .split([' ', '{', '('])
            .next()
            .unwrap_or("")
            .to_string(),
    }
}

#[test]
fn every_structured_form_equals_the_matrix_it_stands_for() {
    let expected = [
        (
            "dirichlet10",
            "DiagonalPlusConstant",
            "DiagonalPlusConstant",
        ),
        ("diagonal_normal10", "blocks 10", "Diagonal"),
        ("probit3", "RankOne", "RankOne"),
        ("dirichlet_log4", "DiagonalPlusOuter", "DiagonalPlusOuter"),
    ];
    for (name, hessian_kind, fim_kind) in expected {
        let model = load(name);
        let d = derive(&model, &DeriveConfig::default()).written_out();
        let fisher = d.fisher.as_ref().expect("a closed form");
        let cases = [
            ("Hessian", &d.hessian, None, hessian_kind),
            ("F", &fisher.fim, fisher.rank_one.as_ref(), fim_kind),
        ];
        for (what, m, known, want) in cases {
            let l = layout(m, &d.params, &[], known);
            assert_eq!(kind(&l), want, "{name}: {what}");
            let rebuilt = rebuild(&l, m);
            for seed in 1..=3 {
                let at = point(&model, seed);
                let value = |v: &str| at.iter().find(|(n, _)| n == v).map(|(_, x)| *x);
                for (i, row) in m.iter().enumerate() {
                    for (j, e) in row.iter().enumerate() {
                        let a = eval_f64(e, &value).expect("the entry evaluates");
                        let b = eval_f64(&rebuilt[i][j], &value).expect("the form evaluates");
                        assert!(
                            (a - b).abs() <= 1e-12 * (1.0 + a.abs()),
                            "{name}: {what}[{i}][{j}] = {a} but its structured form gives {b}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn numeric_matrices_carry_parameter_labels() {
    let out = fimkit(&[
        "derive",
        &format!("{}/examples/gamma.fim", env!("CARGO_MANIFEST_DIR")),
        "--at",
        "alpha=2,beta=1.5",
    ]);
    assert!(
        out.contains("                α          β\n    α [  0.644934  -0.666667 ]\n"),
        "{out}"
    );
}
