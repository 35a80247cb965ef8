//! `fimkit fit --plot`: the files are made, are valid SVG / PNG, and carry
//! the expected series (no pixel snapshots).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fimkit_fit_plot_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn fit_plot(model: &str, data: &str, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(root())
        .args(["fit", model, "--data", data, "--plot"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A small well-formedness check: every tag closes in order, attribute
/// quotes balance, one root `<svg>` element. Returns the text contents.
fn parse_svg(s: &str) -> Vec<String> {
    let body = s.trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => &rest[rest.find("?>").expect("XML declaration closes") + 2..],
        None => body,
    };
    let mut stack: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    while let Some(lt) = rest.find('<') {
        let text = rest[..lt].trim();
        if !text.is_empty() {
            assert!(!stack.is_empty(), "text outside the root: {text}");
            assert!(!text.contains('>'), "stray '>' in {text:?}");
            let unescaped = text
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&");
            texts.push(unescaped);
        }
        let gt = rest[lt..].find('>').expect("tag closes") + lt;
        let tag = &rest[lt + 1..gt];
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("tag name").to_string();
            if stack.is_empty() {
                roots += 1;
                assert_eq!(name, "svg");
            }
            stack.push(name);
        } else if stack.is_empty() {
            panic!("empty element outside the root: {tag}");
        }
        rest = &rest[gt + 1..];
    }
    assert!(rest.trim().is_empty(), "trailing text {rest:?}");
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1);
    texts
}

/// PNG signature, IHDR size, chunks with consistent lengths ending in
/// IEND. Returns (width, height).
fn parse_png(b: &[u8]) -> (u32, u32) {
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    assert_eq!(&b[12..16], b"IHDR");
    let (w, h) = (be(16), be(20));
    let mut i = 8;
    let mut last = [0u8; 4];
    let mut idat = 0;
    while i < b.len() {
        let len = be(i) as usize;
        last.copy_from_slice(&b[i + 4..i + 8]);
        if &last == b"IDAT" {
            idat += len;
        }
        i += 12 + len;
    }
    assert_eq!(i, b.len(), "chunk lengths");
    assert_eq!(&last, b"IEND");
    assert!(idat > 1000, "image data present");
    (w, h)
}

fn has(texts: &[String], needle: &str) -> bool {
    texts.iter().any(|t| t.contains(needle))
}

#[test]
fn two_parameter_svg_has_contours_trajectories_ellipse_and_legend() {
    let out = tmp("gamma.svg");
    fit_plot("examples/gamma.fim", "tests/data/fit/gamma.csv", &out);
    let svg = std::fs::read_to_string(&out).unwrap();
    let texts = parse_svg(&svg);
    for label in [
        "Gamma: log-likelihood, trajectories, 95% Wald ellipse",
        "convergence",
        "alpha",
        "beta",
        "iteration",
        "distance to the estimate (standard errors)",
        "Fisher scoring: 7 steps",
        "natural gradient (KL trust region):",
        "gradient descent:",
        "contours max ℓ − ℓ(θ) = 0.69, 2.3, 3.0, 4.6, 6.9",
        "95% Wald (Cramér–Rao) ellipse",
        "start (the same for every method)",
        "estimate",
        "stopping rule: Newton decrement < 1e-8",
    ] {
        assert!(has(&texts, label), "missing {label:?} in {texts:?}");
    }
    // The methods' colours appear as drawn paths: Fisher scoring red,
    // natural gradient blue, gradient descent orange, the ellipse green.
    for colour in ["#D62728", "#1F77B4", "#FF7F0E", "#2CA02C"] {
        let lower = colour.to_ascii_lowercase();
        assert!(
            svg.contains(colour) || svg.contains(&lower),
            "no {colour} series"
        );
    }
    // Contours: many gray segments.
    assert!(svg.matches("<polyline").count() > 200);
}

#[test]
fn two_parameter_png_is_a_valid_image() {
    let out = tmp("normal.png");
    fit_plot("examples/normal.fim", "tests/data/fit/normal.csv", &out);
    let (w, h) = parse_png(&std::fs::read(&out).unwrap());
    assert_eq!(w, 1280);
    assert!(h > 600 && h < 800, "{h}");
}

#[test]
fn many_parameters_give_the_convergence_plot() {
    let out = tmp("logistic.svg");
    fit_plot(
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic.csv",
        &out,
    );
    let texts = parse_svg(&std::fs::read_to_string(&out).unwrap());
    for label in [
        "LogisticRegression: convergence from the same start",
        "Fisher scoring: 6 steps",
        "natural gradient (KL trust region):",
        "gradient descent:",
        "distance to the estimate (standard errors)",
    ] {
        assert!(has(&texts, label), "missing {label:?} in {texts:?}");
    }
    // No contour keys without a parameter plane.
    assert!(!has(&texts, "contours"));
    let png = tmp("logistic.png");
    fit_plot(
        "examples/logistic_regression.fim",
        "tests/data/fit/logistic.csv",
        &png,
    );
    let (w, _) = parse_png(&std::fs::read(&png).unwrap());
    assert_eq!(w, 860);
}

#[test]
fn other_extensions_are_refused() {
    let o = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(root())
        .args([
            "fit",
            "examples/gamma.fim",
            "--data",
            "tests/data/fit/gamma.csv",
            "--plot",
        ])
        .arg(tmp("gamma.pdf"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(".svg or .png"));
}
