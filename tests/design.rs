//! Optimal designs (issue 16): every published design of
//! tests/fixtures/design/*.fim (each cited in its file) found to 1e-6 in
//! points and weights, and certified by the equivalence theorem; the
//! command's output, refusals and comparison.

use fimkit::Model;
use fimkit::design::{Criterion, Design, DesignConfig, Problem, Space};
use nalgebra::DVector;
use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/design")
        .join(name)
}

fn solve(file: &str, theta: &[f64], space: &str, criterion: Criterion) -> Design {
    let m = Model::from_file(fixture(file)).expect("model");
    let config = DesignConfig::new(criterion, Space::parse_box(space).expect("space"));
    let problem = Problem::new(m.ir(), m.derive(), theta, config).expect("problem");
    let schema = fimkit::numeric::DataSchema::from_model(m.ir()).covariates_only();
    problem.solve(&schema).expect("design")
}

/// The design has exactly the published points (1-D) and weights, to 1e-6,
/// and is certified.
fn assert_design(d: &Design, points: &[f64], weights: &[f64]) {
    assert!(
        d.certificate.certified,
        "not certified: {:?}",
        d.certificate
    );
    assert!(d.certificate.max_sensitivity - 1.0 <= 1e-6);
    assert!(d.certificate.efficiency_bound >= 1.0 - 1e-6);
    let mut got: Vec<(f64, f64)> = d
        .points
        .iter()
        .map(|x| x[0])
        .zip(d.weights.iter().copied())
        .collect();
    got.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(got.len(), points.len(), "support {got:?}, want {points:?}");
    for ((x, w), (px, pw)) in got.iter().zip(points.iter().zip(weights)) {
        assert!((x - px).abs() <= 1e-6, "point {x} want {px} ({got:?})");
        assert!((w - pw).abs() <= 1e-6, "weight {w} want {pw} ({got:?})");
    }
}

#[test]
fn polynomial_regression_d_optimal_designs() {
    let d = solve("linear.fim", &[0.0, 0.0], "x=-1..1", Criterion::D);
    assert_design(&d, &[-1.0, 1.0], &[0.5, 0.5]);
    let d = solve("quadratic.fim", &[0.0; 3], "x=-1..1", Criterion::D);
    assert_design(&d, &[-1.0, 0.0, 1.0], &[1.0 / 3.0; 3]);
    assert!((d.det - 4.0 / 27.0).abs() < 1e-12, "det M {}", d.det);
    let r = 1.0 / 5f64.sqrt();
    let d = solve("cubic.fim", &[0.0; 4], "x=-1..1", Criterion::D);
    assert_design(&d, &[-1.0, -r, r, 1.0], &[0.25; 4]);
}

#[test]
fn quadratic_regression_a_c_ds_e_optimal_designs() {
    let d = solve("quadratic.fim", &[0.0; 3], "x=-1..1", Criterion::A);
    assert_design(&d, &[-1.0, 0.0, 1.0], &[0.25, 0.5, 0.25]);
    let c = Criterion::C(DVector::from_vec(vec![0.0, 0.0, 1.0]));
    let d = solve("quadratic.fim", &[0.0; 3], "x=-1..1", c);
    assert_design(&d, &[-1.0, 0.0, 1.0], &[0.25, 0.5, 0.25]);
    // Var(b2) at the optimum: 1/(cᵀM⁻¹c) = 1/4 (the Chebyshev bound).
    assert!((d.value - 4.0).abs() < 1e-9, "cᵀM⁻¹c {}", d.value);
    let d = solve(
        "quadratic.fim",
        &[0.0; 3],
        "x=-1..1",
        Criterion::Ds(vec![2]),
    );
    assert_design(&d, &[-1.0, 0.0, 1.0], &[0.25, 0.5, 0.25]);
    let d = solve("quadratic.fim", &[0.0; 3], "x=-1..1", Criterion::E);
    assert_design(&d, &[-1.0, 0.0, 1.0], &[0.2, 0.6, 0.2]);
    assert!((d.value - 0.2).abs() < 1e-9, "λ_min {}", d.value);
}

#[test]
fn logistic_regression_two_point_design() {
    // η = ±1.543404638: the root of η·tanh(η/2) = 1 (Abdelbasit & Plackett 1983).
    let mut eta: f64 = 1.5;
    for _ in 0..50 {
        let f = eta * (eta / 2.0).tanh() - 1.0;
        let df = (eta / 2.0).tanh() + eta / 2.0 / (eta / 2.0).cosh().powi(2);
        eta -= f / df;
    }
    assert!((eta - 1.5434).abs() < 1e-4);
    let d = solve("logistic.fim", &[0.0, 1.0], "x=-5..5", Criterion::D);
    assert_design(&d, &[-eta, eta], &[0.5, 0.5]);
    // Shifted and scaled: x = (η − a)/b.
    let d = solve("logistic.fim", &[1.0, 2.0], "x=-5..5", Criterion::D);
    assert_design(&d, &[(-eta - 1.0) / 2.0, (eta - 1.0) / 2.0], &[0.5, 0.5]);
}

/// Box & Lucas's model: the gradient of the mean in (θ1, θ2), by hand.
fn box_lucas_f(t: f64, a: f64, b: f64) -> [f64; 2] {
    let (ea, eb) = ((-a * t).exp(), (-b * t).exp());
    let d = a - b;
    [
        -b / (d * d) * (eb - ea) + a / d * t * ea,
        a / (d * d) * (eb - ea) - a / d * t * eb,
    ]
}

#[test]
fn box_lucas_exponential_decay() {
    let (a, b) = (0.7, 0.2);
    let d = solve("expdecay.fim", &[a, b], "t=0.01..20", Criterion::D);
    // Independently: the two-point design maximising |det[f(t1) f(t2)]| by
    // alternating golden sections (p = 2 points carry weights 1/2).
    let det = |t1: f64, t2: f64| {
        let (f, g) = (box_lucas_f(t1, a, b), box_lucas_f(t2, a, b));
        (f[0] * g[1] - f[1] * g[0]).abs()
    };
    let golden = |h: &dyn Fn(f64) -> f64, mut lo: f64, mut hi: f64| {
        let r = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..200 {
            let (c, e) = (hi - r * (hi - lo), lo + r * (hi - lo));
            if h(c) >= h(e) { hi = e } else { lo = c }
        }
        0.5 * (lo + hi)
    };
    let (mut t1, mut t2) = (1.0, 7.0);
    for _ in 0..100 {
        t1 = golden(&|t| det(t, t2), 0.01, 4.0);
        t2 = golden(&|t| det(t1, t), 4.0, 20.0);
    }
    assert!(
        (t1 - 1.229).abs() < 1e-3 && (t2 - 6.858).abs() < 1e-3,
        "{t1} {t2}"
    );
    assert_design(&d, &[t1, t2], &[0.5, 0.5]);
}

#[test]
fn michaelis_menten_and_emax_designs() {
    let d = solve("michaelis_menten.fim", &[1.0, 1.0], "x=0..10", Criterion::D);
    assert_design(&d, &[10.0 / 12.0, 10.0], &[0.5, 0.5]);
    let d = solve("emax.fim", &[0.0, 1.0, 25.0], "x=0..150", Criterion::D);
    assert_design(&d, &[0.0, 18.75, 150.0], &[1.0 / 3.0; 3]);
}

fn fimkit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn candidate_csv_json_and_compare() {
    let dir = tempfile::tempdir().expect("tmp");
    let cand = dir.path().join("cand.csv");
    let xs: Vec<String> = (0..=20)
        .map(|i| format!("{}", -1.0 + 0.1 * i as f64))
        .collect();
    std::fs::write(
        &cand,
        format!(
            "x,other\n{}\n",
            xs.iter()
                .map(|x| format!("{x},7"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
    .expect("write");
    let mine = dir.path().join("mine.csv");
    // Uniform on -1, -0.5, 0, 0.5, 1: D-efficiency (det ratio)^(1/3).
    std::fs::write(&mine, "x\n-1\n-0.5\n0\n0.5\n1\n").expect("write");
    let (code, out, err) = fimkit(&[
        "design",
        "tests/fixtures/design/quadratic.fim",
        "--at",
        "b0=0,b1=0,b2=0",
        "--space",
        cand.to_str().expect("utf8"),
        "--criterion",
        "D",
        "--format",
        "json",
        "--compare",
        mine.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["certificate"]["certified"], true);
    assert!(
        v["certificate"]["searched"]
            .as_str()
            .expect("s")
            .contains("every one of the 21 candidate points (exact)")
    );
    let pts = v["design"].as_array().expect("design");
    assert_eq!(pts.len(), 3);
    for p in pts {
        assert!((p["weight"].as_f64().expect("w") - 1.0 / 3.0).abs() < 1e-9);
    }
    // Uniform 5-point design: M = [[1, 0, .5], [0, .5, 0], [.5, 0, .425]], det = 0.0875.
    let eff = v["compare"]["efficiency"].as_f64().expect("eff");
    let want = (0.0875f64 / (4.0 / 27.0)).powf(1.0 / 3.0);
    assert!((eff - want).abs() < 1e-9, "{eff} {want}");
}

/// Malformed specifications: refused with a clear message and exit 2,
/// never a panic (snapshots of the messages).
#[test]
fn malformed_specs_are_refused() {
    let model = "tests/fixtures/design/quadratic.fim";
    let cases: &[(&str, &[&str])] = &[
        ("space_no_range", &["--space", "x=-1"]),
        ("space_reversed", &["--space", "x=1..-1"]),
        ("space_nan", &["--space", "x=nan..1"]),
        ("space_unknown_covariate", &["--space", "z=0..1"]),
        ("space_twice", &["--space", "x=0..1,x=0..2"]),
        (
            "criterion_unknown",
            &["--space", "x=-1..1", "--criterion", "G"],
        ),
        (
            "criterion_ds_unknown",
            &["--space", "x=-1..1", "--criterion", "Ds:b7"],
        ),
        (
            "criterion_ds_all",
            &["--space", "x=-1..1", "--criterion", "Ds:b0,b1,b2"],
        ),
        (
            "criterion_c_length",
            &["--space", "x=-1..1", "--criterion", "c:1,0"],
        ),
        (
            "criterion_c_zero",
            &["--space", "x=-1..1", "--criterion", "c:0,0,0"],
        ),
        (
            "criterion_c_empty",
            &["--space", "x=-1..1", "--criterion", "c"],
        ),
        ("fixed_free", &["--space", "x=-1..1", "--fixed", "x=0"]),
        ("tol_negative", &["--space", "x=-1..1", "--tol=-1"]),
    ];
    let mut shown = String::new();
    for (name, extra) in cases {
        let mut args = vec!["design", model, "--at", "b0=0,b1=0,b2=0"];
        args.extend_from_slice(extra);
        let (code, out, err) = fimkit(&args);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(!err.contains("panick"), "{name}: {err}");
        shown.push_str(&format!("{name}: {}", err));
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/design");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("malformed_specs", shown));
}

#[test]
fn a_singular_space_is_refused() {
    // One point cannot identify three parameters.
    let (code, _, err) = fimkit(&[
        "design",
        "tests/fixtures/design/quadratic.fim",
        "--at",
        "b0=0,b1=0,b2=0",
        "--space",
        "x=0..1",
        "--grid",
        "1",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("singular"), "{err}");
}

#[test]
fn exact_designs_of_n_runs() {
    // Six runs of the quadratic: two at each of -1, 0, 1, efficiency 1.
    let (code, out, err) = fimkit(&[
        "design",
        "tests/fixtures/design/quadratic.fim",
        "--at",
        "b0=0,b1=0,b2=0",
        "--space",
        "x=-1..1",
        "--runs",
        "6",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let runs: Vec<u64> = v["exact"]["design"]
        .as_array()
        .expect("exact")
        .iter()
        .map(|p| p["runs"].as_u64().expect("runs"))
        .collect();
    assert_eq!(runs, vec![2, 2, 2]);
    assert!((v["exact"]["efficiency"].as_f64().expect("eff") - 1.0).abs() < 1e-9);
    // Four runs: one point doubled, det M = 1/8 against 4/27: efficiency (27/32)^(1/3).
    let (code, out, err) = fimkit(&[
        "design",
        "tests/fixtures/design/quadratic.fim",
        "--at",
        "b0=0,b1=0,b2=0",
        "--space",
        "x=-1..1",
        "--runs",
        "4",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let eff = v["exact"]["efficiency"].as_f64().expect("eff");
    assert!(
        (eff - (27.0f64 / 32.0).powf(1.0 / 3.0)).abs() < 1e-9,
        "{eff}"
    );
}

/// Without a closed form the box is searched on the grid and its cell
/// centres: a grid that misses the optimum's middle point is refused
/// (exit 1, the design still printed), a grid that holds it is certified.
#[test]
fn a_design_that_is_not_certified_fails_loudly() {
    let base = [
        "design",
        "tests/fixtures/design/weibull_quadratic.fim",
        "--at",
        "b0=0,b1=0,b2=0,k=1.5",
        "--space",
        "x=-1..1",
    ];
    let mut coarse = base.to_vec();
    coarse.extend(["--grid", "4"]);
    let (code, out, err) = fimkit(&coarse);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("NOT certified"), "{out}");
    assert!(err.contains("the design is not certified"), "{err}");
    coarse.extend(["--format", "json"]);
    let (code, out, _) = fimkit(&coarse);
    assert_eq!(code, 1);
    let first: serde_json::Value = serde_json::Deserializer::from_str(&out)
        .into_iter::<serde_json::Value>()
        .next()
        .expect("a document")
        .expect("json");
    assert_eq!(first["ok"], false);
    assert_eq!(first["certificate"]["certified"], false);
    let bound = first["certificate"]["efficiency_bound"]
        .as_f64()
        .expect("bound");
    assert!(bound < 1.0 && bound > 0.5, "{bound}");
    let mut fine = base.to_vec();
    fine.extend(["--grid", "5", "--format", "json"]);
    let (code, out, err) = fimkit(&fine);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let xs: Vec<f64> = v["design"]
        .as_array()
        .expect("d")
        .iter()
        .map(|p| p["x"].as_f64().expect("x"))
        .collect();
    assert_eq!(xs.len(), 3, "{xs:?}");
    assert!(v["method"].as_str().expect("m").starts_with("numeric"));
}

/// The logistic model's F(θ; x) written by hand, for the independent
/// checks of the Bayesian design.
fn logistic_fim(t: &[f64; 2], x: f64) -> [[f64; 2]; 2] {
    let p = 1.0 / (1.0 + (-(t[0] + t[1] * x)).exp());
    let w = p * (1.0 - p);
    [[w, w * x], [w * x, w * x * x]]
}

/// M(ξ, θ) = Σ_i w_i F(θ; x_i), by hand.
fn logistic_information(t: &[f64; 2], design: &[(f64, f64)]) -> [[f64; 2]; 2] {
    let mut m = [[0.0; 2]; 2];
    for &(x, w) in design {
        let f = logistic_fim(t, x);
        for (row, frow) in m.iter_mut().zip(f) {
            for (e, fe) in row.iter_mut().zip(frow) {
                *e += w * fe;
            }
        }
    }
    m
}

/// (1/S) Σ_s log det M(ξ, θ_s), by hand.
fn expected_log_det(thetas: &[[f64; 2]], design: &[(f64, f64)]) -> f64 {
    thetas
        .iter()
        .map(|t| {
            let m = logistic_information(t, design);
            (m[0][0] * m[1][1] - m[0][1] * m[1][0]).ln()
        })
        .sum::<f64>()
        / thetas.len() as f64
}

#[test]
fn bayesian_d_optimal_design_over_prior_samples() {
    let m = Model::from_file(fixture("logistic.fim")).expect("model");
    let thetas = [[0.0, 1.0], [0.5, 2.0], [-0.5, 1.5], [0.2, 0.7]];
    let xs: Vec<f64> = (0..=160).map(|i| -4.0 + 0.05 * i as f64).collect();
    let space = Space::Candidates {
        names: vec!["x".into()],
        rows: xs.clone(),
    };
    let problems: Vec<Problem> = thetas
        .iter()
        .map(|t| {
            let config = DesignConfig::new(Criterion::D, space.clone());
            Problem::new(m.ir(), m.derive(), t, config).expect("problem")
        })
        .collect();
    let schema = fimkit::numeric::DataSchema::from_model(m.ir()).covariates_only();
    let d = fimkit::design::bayes::solve(&problems, &schema).expect("design");
    assert!(d.certificate.certified, "{:?}", d.certificate);
    assert_eq!(d.prior_samples, 4);
    let design: Vec<(f64, f64)> = d
        .points
        .iter()
        .map(|x| x[0])
        .zip(d.weights.clone())
        .collect();
    let phi = expected_log_det(&thetas, &design);
    assert!(
        (phi - d.phi).abs() <= 1e-6 * phi.abs().max(1.0),
        "{phi} vs {}",
        d.phi
    );
    // The equivalence theorem, by hand: the averaged sensitivity
    // (1/S) Σ_s tr(M_s⁻¹ F_s(x))/p is at most 1 on every candidate.
    let inverse = |t: &[f64; 2]| {
        let m = logistic_information(t, &design);
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        [
            [m[1][1] / det, -m[0][1] / det],
            [-m[1][0] / det, m[0][0] / det],
        ]
    };
    let inverses: Vec<[[f64; 2]; 2]> = thetas.iter().map(inverse).collect();
    let max_psi = xs
        .iter()
        .map(|&x| {
            thetas
                .iter()
                .zip(&inverses)
                .map(|(t, a)| {
                    let f = logistic_fim(t, x);
                    (a[0][0] * f[0][0] + 2.0 * a[0][1] * f[0][1] + a[1][1] * f[1][1]) / 2.0
                })
                .sum::<f64>()
                / thetas.len() as f64
        })
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(max_psi <= 1.0 + 1e-5, "max ψ by hand {max_psi}");
    // No design that moves weight to another candidate does better.
    let mut seed = 7u64;
    for _ in 0..300 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let x = xs[(seed >> 33) as usize % xs.len()];
        let share = 0.01 + 0.2 * ((seed >> 11) as f64 / (1u64 << 53) as f64);
        let mut moved: Vec<(f64, f64)> = design
            .iter()
            .map(|&(p, w)| (p, w * (1.0 - share)))
            .collect();
        moved.push((x, share));
        assert!(expected_log_det(&thetas, &moved) <= phi + 1e-9);
    }
    // One sample is the locally D-optimal design on the same candidates.
    let one = fimkit::design::bayes::solve(&problems[..1], &schema).expect("one sample");
    let local = problems[0].solve(&schema).expect("local");
    let phi_one = expected_log_det(
        &thetas[..1],
        &one.points
            .iter()
            .map(|x| x[0])
            .zip(one.weights.clone())
            .collect::<Vec<_>>(),
    );
    let phi_local = expected_log_det(
        &thetas[..1],
        &local
            .points
            .iter()
            .map(|x| x[0])
            .zip(local.weights.clone())
            .collect::<Vec<_>>(),
    );
    assert!(
        (phi_one - phi_local).abs() <= 1e-6,
        "{phi_one} vs {phi_local}"
    );
}

#[test]
fn prior_on_the_command_line() {
    let dir = std::env::temp_dir().join(format!("fimkit-prior-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prior = dir.join("prior.csv");
    std::fs::write(&prior, "a,b\n0,1\n0.5,2\n-0.5,1.5\n").unwrap();
    let model = fixture("logistic.fim");
    let (code, out, err) = fimkit(&[
        "design",
        model.to_str().unwrap(),
        "--prior",
        prior.to_str().unwrap(),
        "--space",
        "x=-4..4",
        "--grid",
        "161",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Bayesian D-optimal design over 3 prior samples"),
        "{out}"
    );
    assert!(out.contains("certified optimal"), "{out}");
    // Only D, and not with --at.
    let (code, _, err) = fimkit(&[
        "design",
        model.to_str().unwrap(),
        "--prior",
        prior.to_str().unwrap(),
        "--space",
        "x=-4..4",
        "--criterion",
        "A",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("only with --criterion D"), "{err}");
    let (code, _, err) = fimkit(&[
        "design",
        model.to_str().unwrap(),
        "--prior",
        prior.to_str().unwrap(),
        "--at",
        "a=0,b=1",
        "--space",
        "x=-4..4",
    ]);
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn plot_draws_the_sensitivity_with_the_support() {
    let dir = std::env::temp_dir().join(format!("fimkit-design-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One covariate: the curve, its axis ψ(x), and one marker per support
    // point (the quadratic's D-optimal −1, 0, 1).
    let svg = dir.join("quadratic.svg");
    let model = fixture("quadratic.fim");
    let (code, out, err) = fimkit(&[
        "design",
        model.to_str().unwrap(),
        "--at",
        "b0=1,b1=1,b2=1",
        "--space",
        "x=-1..1",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&svg).expect("the plot is written");
    assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(200)]);
    assert!(text.contains("ψ(x)"), "no ψ axis");
    let support = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with('x'))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .count();
    assert_eq!(support, 3, "{out}");
    assert_eq!(
        text.matches("<circle").count(),
        support,
        "one marker per support point"
    );
    // A PNG by the extension.
    let png = dir.join("quadratic.png");
    let (code, _, err) = fimkit(&[
        "design",
        model.to_str().unwrap(),
        "--at",
        "b0=1,b1=1,b2=1",
        "--space",
        "x=-1..1",
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&png).expect("the PNG is written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    std::fs::remove_dir_all(&dir).ok();
}
