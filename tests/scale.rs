//! Scale-aware numbers (issue 13, item 5): a Fisher information whose
//! entries leave f64's range is neither zero nor singular; rank is decided
//! on the scaled matrix; values print in scientific notation; an overflow
//! in Σ s sᵀ is reported as what it is.

use fimkit::fisher::at_point::{Verdict, summarize_wide};
use fimkit::fisher::wide::Wide;
use std::process::Command;

fn fimkit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run fimkit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8(out.stderr).expect("UTF-8"),
    )
}

fn snapshot(name: &str, text: &str) {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/fisher");
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!(name, text));
}

/// The `at ...` block of a derive report.
fn at_block(out: &str) -> &str {
    &out[out.rfind("\nat ").expect("an `at` block")..]
}

#[test]
fn sigma_1e200_is_tiny_not_singular() {
    let args = ["derive", "examples/normal.fim", "--at", "mu=0,sigma=1e200"];
    let (code, out, err) = fimkit(&args);
    assert_eq!(code, 0, "{err}");
    let at = at_block(&out);
    assert!(at.contains("σ = 1e200"), "{at}");
    assert!(!at.contains("000000000000"), "{at}");
    assert!(!at.contains("singular"), "{at}");
    // F = diag(1/σ², 2/σ²), det F = 2/σ⁴, F⁻¹ = diag(σ², σ²/2).
    assert!(at.contains("[ 1.00000e-400             0 ]"), "{at}");
    assert!(
        at.contains("det F = 2.00000e-800, condition number 2"),
        "{at}"
    );
    assert!(at.contains("μ 1.00000e200, σ 7.07107e199"), "{at}");
    snapshot(
        "scale_normal_sigma_1e200",
        &format!("$ fimkit {}\n{at}", args.join(" ")),
    );
    // JSON: the out-of-range numbers in scientific notation, the verdict.
    let (code, out, _) = fimkit(&[
        "derive",
        "examples/normal.fim",
        "--at",
        "mu=0,sigma=1e200",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rank_at_point"], "regular");
    let close = |s: &serde_json::Value, m: f64, e: &str| {
        let s = s.as_str().unwrap();
        let (a, b) = s.split_once('e').unwrap();
        assert!((a.parse::<f64>().unwrap() / m - 1.0).abs() < 1e-14, "{s}");
        assert_eq!(b, e, "{s}");
    };
    close(&v["fim_value_sci"][1][1], 2.0, "-400");
    close(&v["det_value_sci"], 2.0, "-800");
}

#[test]
fn mu_to_the_million_is_not_singular() {
    let path = "tests/fixtures/scale/power_million.fim";
    // The derivation's own rank check at its typical point μ = 0.37.
    let (code, out, _) = fimkit(&["derive", path]);
    assert_eq!(code, 0);
    assert!(!out.contains("singular"), "{out}");
    let (code, out, _) = fimkit(&["derive", path, "--at", "mu=0.37"]);
    assert_eq!(code, 0);
    let at = at_block(&out);
    // 1e12 · 0.37^1999998 = 2.04988992936668e-863584 (mpmath, 30 digits).
    assert!(at.contains("[ 2.04989e-863584 ]"), "{at}");
    assert!(
        at.contains("det F = 2.04989e-863584, condition number 1"),
        "{at}"
    );
    let (_, json, _) = fimkit(&["derive", path, "--at", "mu=0.37", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sci = v["fim_value_sci"][0][0].as_str().unwrap();
    let mant: f64 = sci.split('e').next().unwrap().parse().unwrap();
    assert!((mant / 2.049_889_929_366_68 - 1.0).abs() < 1e-9, "{sci}");
    assert!(sci.ends_with("e-863584"), "{sci}");
}

#[test]
fn gamma_at_alpha_1e300_is_not_called_singular() {
    // F = [ψ'(α), −1/β; −1/β, α/β²]: det F = (αψ'(α) − 1)/β² ≈ 1/(2αβ²)
    // cancels completely in f64, so fimkit says it cannot decide.
    let args = ["derive", "examples/gamma.fim", "--at", "alpha=1e300,beta=2"];
    let (code, out, _) = fimkit(&args);
    assert_eq!(code, 0);
    let at = at_block(&out);
    assert!(at.contains("α = 1e300, β = 2"), "{at}");
    assert!(!at.contains("singular)"), "{at}");
    assert!(!at.contains("det F = 0"), "{at}");
    assert!(
        at.contains("cannot be told from 0 in double precision"),
        "{at}"
    );
    assert!(!at.contains("Cramér–Rao"), "{at}");
    snapshot(
        "scale_gamma_alpha_1e300",
        &format!("$ fimkit {}\n{at}", args.join(" ")),
    );
}

#[test]
fn a_truly_singular_fim_is_still_singular() {
    let (code, out, _) = fimkit(&["derive", "examples/nonidentifiable.fim"]);
    assert_eq!(code, 0);
    assert!(out.contains("singular"), "{out}");
    // At a point: a zero diagonal is a parameter with no information.
    let f = |x: f64| Wide::from_f64(x);
    let s = summarize_wide(vec![vec![f(2.0), f(0.0)], vec![f(0.0), f(0.0)]], false);
    assert_eq!(s.verdict, Verdict::Singular { rank: 1 });
    assert!(s.inverse.is_none());
    // Collinear without symbolic proof: undecided, never "regular".
    let s = summarize_wide(vec![vec![f(1.0), f(2.0)], vec![f(2.0), f(4.0)]], false);
    assert!(
        matches!(s.verdict, Verdict::Undecided { .. }),
        "{:?}",
        s.verdict
    );
    let s = summarize_wide(vec![vec![f(1.0), f(2.0)], vec![f(2.0), f(4.0)]], true);
    assert_eq!(s.verdict, Verdict::Singular { rank: 1 });
}

#[test]
fn very_different_scales_are_regular() {
    // diag(1e-200, 1e200): condition 1e400 in F, perfectly conditioned
    // after scaling; the old unscaled test refused F⁻¹ here.
    let f = |x: f64| Wide::from_f64(x);
    let s = summarize_wide(vec![vec![f(1e-200), f(0.0)], vec![f(0.0), f(1e200)]], false);
    assert_eq!(s.verdict, Verdict::Regular);
    let inv = s.inverse.as_ref().expect("F⁻¹ from the scaled matrix");
    assert!((inv[(0, 0)] / 1e200 - 1.0).abs() < 1e-15);
    assert!((inv[(1, 1)] / 1e-200 - 1.0).abs() < 1e-15);
    assert_eq!(s.condition, f64::INFINITY); // 1e400: beyond f64
    assert!((s.det - 1.0).abs() < 1e-15);
    // An ordinary matrix keeps the plain f64 numbers bit for bit.
    let s = summarize_wide(vec![vec![f(2.0), f(0.5)], vec![f(0.5), f(1.0)]], false);
    assert!(s.wide.is_none());
    assert_eq!(s.det, nalgebra::dmatrix![2.0, 0.5; 0.5, 1.0].determinant());
}

#[test]
fn an_overflowing_outer_product_is_reported_as_such() {
    let (code, _, err) = fimkit(&[
        "eval",
        "examples/gamma.fim",
        "--at",
        "alpha=2,beta=3",
        "--data",
        "tests/fixtures/scale/huge_row.csv",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("although every row is"), "{err}");
    assert!(
        err.contains("row 3: the score reaches 1e200, and its outer product s sᵀ overflows"),
        "{err}"
    );
}

#[test]
fn check_prints_extreme_values_in_scientific_notation() {
    let (code, out, _) = fimkit(&[
        "check",
        "examples/normal.fim",
        "--at",
        "mu=1e-9,sigma=2.5e20",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("point 1: mu = 1e-9, sigma = 2.5e20"), "{out}");
    // σ = 1e200: the quadrature's nodes reach x ≈ 1e224, where (x − μ)²
    // overflows. Not a fault of the model: undecided (exit 4), and no
    // 225-digit number in the message.
    let (code, out, _) = fimkit(&["check", "examples/normal.fim", "--at", "mu=0,sigma=1e200"]);
    assert_eq!(code, 4, "{out}");
    assert!(!out.contains("FAILED"), "{out}");
    assert!(!out.contains("0000000000"), "{out}");
    assert!(out.contains("could not decide 1 of 1 checks"), "{out}");
}

#[test]
fn a_design_sum_that_overflows_f64_is_summed_wide() {
    // Each row's F = z² = 1e308 is finite; their sum 2e308 is not in f64.
    let (code, out, err) = fimkit(&[
        "derive",
        "tests/fixtures/scale/linear.fim",
        "--at",
        "b=1",
        "--data",
        "tests/fixtures/scale/two_huge_rows.csv",
    ]);
    assert_eq!(code, 0, "{err}");
    let at = at_block(&out);
    assert!(at.contains("[ 2.00000e308 ]"), "{at}");
    assert!(at.contains("standard errors: b 7.07107e-155"), "{at}");
}

#[test]
fn the_numeric_fallback_prints_huge_entries_in_scientific_notation() {
    // Cauchy: F = diag(1, 1)/(2σ²) = 5e199 at σ = 1e-100 (tier 2).
    let (code, out, _) = fimkit(&[
        "derive",
        "tests/fixtures/numeric/cauchy.fim",
        "--at",
        "mu=0,sigma=1e-100",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("at mu = 0, sigma = 1e-100"), "{out}");
    assert!(out.contains("[  5.000000000000e199"), "{out}");
    assert!(!out.contains("00000000000000000000"), "{out}");
}
