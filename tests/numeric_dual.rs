//! Special functions on dual numbers: value and derivatives against the
//! mpmath table (tests/data/special), and every dual type against the
//! others.
//!
//! Tolerance for derivatives: 1e-13 relative (absolute below 1, or below
//! the first derivative for erf/Φ, for the functions whose derivatives cross
//! zero, see `abs_floor`); the Bessel forms have documented looser bounds.

mod numeric_common;

use fimkit::numeric::SpecialFunctions;
use nalgebra::{Const, U1};
use num_dual::{
    Derivative, Dual, Dual2_64, Dual2SVec64, Dual3_64, Dual64, DualNum, HyperDual64, HyperDualVec64,
};
use numeric_common::{all_rows, err};

/// Apply a table row's function to any dual type.
fn apply<D: DualNum<Primitive = f64>>(func: &str, p: Option<f64>, x: D) -> D {
    let p = p.unwrap_or(f64::NAN);
    match func {
        "lgamma" => x.lgamma(),
        "digamma" => x.digamma(),
        "polygamma" => x.polygamma(p as u32),
        "lbeta" => D::from(p).lbeta(&x),
        "erf" => SpecialFunctions::erf(&x),
        "erfc" => SpecialFunctions::erfc(&x),
        "phi" => x.normal_cdf(),
        "log_phi" => x.log_normal_cdf(),
        "sigmoid" => x.sigmoid(),
        "log_sigmoid" => x.log_sigmoid(),
        "besseli" => x.besseli(p),
        "besseli_scaled" => x.besseli_scaled(p),
        "log_besseli" => x.log_besseli(p),
        other => panic!("unknown function {other}"),
    }
}

/// Below this magnitude a derivative is compared absolutely.
fn abs_floor(func: &str, vals: &[Option<f64>; 4]) -> f64 {
    match func {
        // Derivatives of lgamma/digamma/lbeta/erf/Φ/sigmoid/log I cross zero.
        "lgamma" | "digamma" | "lbeta" | "log_besseli" | "sigmoid" | "log_sigmoid" => 1.0,
        // Hermite-polynomial derivatives cross zero; compare against the
        // size of the first derivative.
        "erf" | "erfc" | "phi" => vals[1].unwrap_or(0.0).abs().max(1e-300),
        _ => 0.0,
    }
}

#[test]
fn third_order_duals_match_mpmath() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut worst = [0.0f64; 4];
    for r in all_rows() {
        // negative-argument polygamma is covered (and bounded) in numeric_special
        if r.func == "polygamma" && r.x < 0.0 {
            continue;
        }
        // Where a derivative overflows f64 (mpmath's cell is empty) the whole
        // dual number is NaN by design: nothing to compare.
        if r.vals.iter().any(Option::is_none) {
            continue;
        }
        let y = apply(&r.func, r.p, Dual3_64::from_re(r.x).derivative());
        let got = [y.re, y.v1, y.v2, y.v3];
        let floor = abs_floor(&r.func, &r.vals);
        for k in 0..4 {
            let Some(want) = r.vals[k] else { continue };
            if !want.is_finite() || want.abs() > 1e300 {
                continue;
            }
            // The table's derivatives at the largest arguments are
            // differences of huge numbers in mpmath's own precision.
            let tol = match (k, r.func.as_str()) {
                (0, _) => 1e-14,
                // Scaled form below the asymptotic regime: the derivatives of
                // e^{-x} I_ν(x) come from those of I_ν times the series of
                // e^{-t}, which cancel (documented in numeric::dual).
                (_, "besseli_scaled") => 1e-8,
                // log I_ν for large ν: the log-series of ν log x loses ~ν ulps.
                (_, "log_besseli") => 1e-11,
                _ => 1e-13,
            };
            let e = err(got[k], want, if k == 0 { 0.0 } else { floor });
            let e = if k == 0
                && matches!(
                    r.func.as_str(),
                    "lgamma" | "digamma" | "lbeta" | "log_besseli"
                ) {
                err(got[k], want, 1.0)
            } else {
                e
            };
            // Scaled Bessel: derivatives far below the value (1e-11 of it at
            // x = 700) are compared relative to a thousandth of the value.
            let e = if k > 0 && r.func == "besseli_scaled" {
                (got[k] - want).abs() / want.abs().max(1e-3 * got[0].abs())
            } else {
                e
            };
            checked += 1;
            if e > worst[k] || e.is_nan() {
                worst[k] = e;
            }
            if e.is_nan() || e > tol {
                failures.push(format!(
                    "{}({:?}, {:e}) d{k} = {:e}, mpmath {want:e}, error {e:e}",
                    r.func, r.p, r.x, got[k]
                ));
            }
        }
    }
    eprintln!("worst errors by derivative order: {worst:?}");
    assert!(checked > 2500, "only {checked} values checked");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every dual type gives the same numbers as `Dual3_64` for the derivatives it has.
#[test]
fn all_dual_types_agree() {
    let cases: Vec<(&str, Option<f64>, f64)> = vec![
        ("lgamma", None, 2.7),
        ("digamma", None, 0.3),
        ("polygamma", Some(3.0), 1.9),
        ("lbeta", Some(2.5), 0.8),
        ("erf", None, 0.7),
        ("erfc", None, 2.2),
        ("phi", None, -1.3),
        ("log_phi", None, -25.0),
        ("log_phi", None, 0.4),
        ("sigmoid", None, 3.1),
        ("log_sigmoid", None, -4.0),
        ("besseli", Some(1.0), 2.5),
        ("besseli", Some(0.5), 40.0),
        ("besseli_scaled", Some(2.0), 7.0),
        ("log_besseli", Some(3.5), 12.0),
    ];
    for (f, p, x) in cases {
        let d3 = apply(f, p, Dual3_64::from_re(x).derivative());
        let close = |a: f64, b: f64, what: &str| {
            assert!(
                (a - b).abs() <= 1e-14 * b.abs().max(1e-300),
                "{f}({p:?}, {x}) {what}: {a} vs {b}"
            );
        };
        // f64
        close(apply(f, p, x), d3.re, "f64");
        // Dual64
        let d1 = apply(f, p, Dual64::from_re(x).derivative());
        close(d1.re, d3.re, "Dual64 value");
        close(d1.eps, d3.v1, "Dual64 d1");
        // Dual2_64
        let d2 = apply(f, p, Dual2_64::from_re(x).derivative());
        close(d2.v1, d3.v1, "Dual2 d1");
        close(d2.v2, d3.v2, "Dual2 d2");
        // HyperDual64 with both directions on x
        let h = apply(f, p, HyperDual64::from_re(x).derivative1().derivative2());
        close(h.eps1, d3.v1, "HyperDual eps1");
        close(h.eps2, d3.v1, "HyperDual eps2");
        close(h.eps1eps2, d3.v2, "HyperDual eps1eps2");
        // nested Dual<Dual64>: second derivative via the inner and outer eps
        let inner = Dual64::from_re(x).derivative();
        let nested = apply(f, p, Dual::new(inner, Dual64::from_re(1.0)));
        close(nested.eps.eps, d3.v2, "Dual<Dual64> second");
        // Dual2SVec with the direction (1, 2): gradient (f', 2f'), Hessian f'' [[1,2],[2,4]]
        let v: Dual2SVec64<2> = Dual2SVec64::new(
            x,
            Derivative::some(nalgebra::SMatrix::<f64, 1, 2>::new(1.0, 2.0)),
            Derivative::none(),
        );
        let y = apply(f, p, v);
        let g = y.v1.unwrap_generic(U1, Const::<2>);
        let hm = y.v2.unwrap_generic(Const::<2>, Const::<2>);
        close(g[1], 2.0 * d3.v1, "Dual2SVec gradient");
        close(hm[(1, 1)], 4.0 * d3.v2, "Dual2SVec Hessian");
        // HyperDualVec (1 x 1)
        let hv: HyperDualVec64<Const<1>, Const<1>> = HyperDualVec64::new(
            x,
            Derivative::some(nalgebra::SMatrix::<f64, 1, 1>::new(1.0)),
            Derivative::some(nalgebra::SMatrix::<f64, 1, 1>::new(1.0)),
            Derivative::none(),
        );
        let y = apply(f, p, hv);
        close(
            y.eps1eps2.unwrap_generic(Const::<1>, Const::<1>)[(0, 0)],
            d3.v2,
            "HyperDualVec",
        );
    }
}

#[test]
fn lbeta_mixed_derivative() {
    // ∂²/∂a∂b lbeta(a, b) = -ψ'(a + b)
    let (a, b) = (1.7, 3.2);
    let x = HyperDual64::from_re(a).derivative1();
    let y = HyperDual64::from_re(b).derivative2();
    let v = x.lbeta(&y);
    let want = -fimkit::numeric::special::polygamma(1, a + b);
    assert!((v.eps1eps2 - want).abs() < 1e-14 * want.abs());
}

#[test]
fn bessel_at_zero_has_its_power_series() {
    // I_1(x) = x/2 + x³/16 + ...: I_1'(0) = 1/2, I_1'''(0) = 6/16
    let y = Dual3_64::from_re(0.0).derivative().besseli(1.0);
    assert_eq!((y.re, y.v1, y.v2, y.v3), (0.0, 0.5, 0.0, 0.375));
    let y = Dual3_64::from_re(0.0).derivative().besseli(0.0);
    assert_eq!((y.re, y.v1, y.v2), (1.0, 0.0, 0.5));
}

/// Found by tests/fuzz_models.rs: `x ~ weibull(36000001, ...)` panicked
/// inside num-dual, whose `powi` multiplies n(n-1) in i32 for the second
/// derivative. Large integer powers are now taken by squaring; the score
/// and Hessian of `logp += k*log(b) ... b^k` style terms agree with the
/// closed forms, for exponents past i32's square root and near i32::MAX.
#[test]
fn huge_integer_powers_have_exact_derivatives() {
    for n in [46_341i64, 36_000_001, 2_147_483_647, -2_000_000_001] {
        // log p = -b^n at b close to 1 (so the value stays finite).
        let src = format!("param b : positive\ndata x : real\nlogp += -b^{n} - x^2/2\n");
        let m = fimkit::Model::from_source(&src, "huge_power").expect("model");
        let b = 1.0 + 1.0 / (4.0 * (n as f64).abs());
        let nf = n as f64;
        let score = m.score(&[b], &[0.5]).expect("score");
        let hess = m.hessian(&[b], &[0.5]).expect("Hessian");
        let want_s = -nf * b.powf(nf - 1.0);
        let want_h = -nf * (nf - 1.0) * b.powf(nf - 2.0);
        // Squaring loses about |n| ulps (so does powf's own rounding of b^n).
        let tol = 1e-12 + nf.abs() * 1e-15;
        assert!(
            (score[0] - want_s).abs() < tol * want_s.abs(),
            "n = {n}: score {} vs {want_s}",
            score[0]
        );
        assert!(
            (hess[(0, 0)] - want_h).abs() < tol * want_h.abs(),
            "n = {n}: Hessian {} vs {want_h}",
            hess[(0, 0)]
        );
    }
}
