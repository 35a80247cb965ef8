//! Shared helpers for the numeric tests: the mpmath reference tables.
#![allow(dead_code, reason = "each test file uses a subset")]

/// A one-compartment pharmacokinetic model (oral dose D = 100, additive
/// error): θ enters nonlinearly, so no structure applies and the rows run
/// on the derivative engine (compiled symbolic derivatives).
pub const PK: &str = "const D = 100\nparam ka : positive\nparam ke : positive\n\
                      param V : positive\nparam sigma : positive\ncovariate t : positive\n\
                      data y : real\n\
                      y ~ normal(D*ka/(V*(ka - ke))*(exp(-ke*t) - exp(-ka*t)), sigma)\n";

/// One row of a reference table: `func,p,x,value,d1,d2,d3`.
#[derive(Clone, Debug)]
pub struct Row {
    pub func: String,
    pub p: Option<f64>,
    pub x: f64,
    /// value, d1, d2, d3 (None where not tabled).
    pub vals: [Option<f64>; 4],
}

fn cell(s: &str) -> Option<f64> {
    if s.is_empty() {
        None
    } else {
        Some(
            s.parse()
                .unwrap_or_else(|e| panic!("bad number {s:?}: {e}")),
        )
    }
}

/// Parse a table (header line first).
pub fn table(text: &str) -> Vec<Row> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            assert_eq!(c.len(), 7, "row {l}");
            Row {
                func: c[0].to_string(),
                p: cell(c[1]),
                x: cell(c[2]).expect("x"),
                vals: [cell(c[3]), cell(c[4]), cell(c[5]), cell(c[6])],
            }
        })
        .collect()
}

/// Every reference row, all tables.
pub fn all_rows() -> Vec<Row> {
    let mut v = table(include_str!("../data/special/gamma.csv"));
    v.extend(table(include_str!("../data/special/lbeta.csv")));
    v.extend(table(include_str!("../data/special/erf.csv")));
    v.extend(table(include_str!("../data/special/sigmoid.csv")));
    v.extend(table(include_str!("../data/special/besseli.csv")));
    v
}

/// Relative error, or absolute error when |want| < `abs_below`.
pub fn err(got: f64, want: f64, abs_below: f64) -> f64 {
    if got == want {
        return 0.0;
    }
    let d = (got - want).abs();
    if want.abs() < abs_below {
        d
    } else {
        d / want.abs()
    }
}

use fimkit::ir::Model;
use fimkit::ir::model::Support;

/// A tiny deterministic generator (xorshift64*), so tests need no seed files.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }
}

/// Every model in examples/, loaded.
pub fn example_models() -> Vec<(String, Model)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("fim"))
        .collect();
    paths.sort();
    for p in paths {
        let src = std::fs::read_to_string(&p).expect("read model");
        let name = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("model")
            .to_string();
        let m = fimkit::load(&src, &name).unwrap_or_else(|d| panic!("{name}: {d:?}"));
        out.push((name, m));
    }
    assert!(out.len() >= 8, "examples/ has the example models");
    out
}

/// A random point inside the model's domains: parameter values, then data
/// and covariate values (all by name).
pub fn random_point(m: &Model, rng: &mut Rng) -> (Vec<f64>, Vec<(String, f64)>) {
    let interval = |label: &str, rng: &mut Rng| match label {
        "positive" => rng.uniform(0.5, 3.0),
        "unit" => rng.uniform(0.1, 0.9),
        "negative" => rng.uniform(-3.0, -0.5),
        _ => rng.uniform(-1.5, 1.5),
    };
    let params = m
        .params
        .iter()
        .map(|p| interval(&p.domain.label, rng))
        .collect();
    let mut data = Vec::new();
    let mut simplex: Vec<f64> = Vec::new();
    for d in &m.data {
        let v = match &d.support {
            Support::Simplex { dim, .. } => {
                if simplex.is_empty() {
                    let raw: Vec<f64> = (0..*dim).map(|_| rng.uniform(0.2, 1.0)).collect();
                    let s: f64 = raw.iter().sum();
                    simplex = raw.iter().map(|v| v / s).collect();
                    simplex.reverse();
                }
                simplex.pop().unwrap_or(0.3)
            }
            s if s.is_binary() => f64::from(u8::from(rng.next_f64() < 0.5)),
            s if s.is_discrete() => (rng.next_f64() * 6.0).floor(),
            s => interval(&s.label(), rng),
        };
        data.push((d.name.to_string(), v));
    }
    for c in &m.covariates {
        data.push((c.name.to_string(), interval(&c.domain.label, rng)));
    }
    (params, data)
}

use fimkit::ir::{Expr, Func};
use proptest::prelude::*;

/// `1/2 + u²`: a positive argument for functions with a domain.
pub fn pos(u: Expr) -> Expr {
    Expr::add2(Expr::rational(1, 2), Expr::powi(u, 2))
}

/// A one-argument function of the language applied inside its domain.
pub fn unary(i: usize, u: Expr) -> Expr {
    let c = |f: Func, a: Expr| Expr::call(f, vec![a]);
    match i {
        0 => Expr::log(pos(u)),
        1 => Expr::exp(c(Func::Sin, u)),
        2 => c(Func::Log1p, Expr::powi(u, 2)),
        3 => c(Func::Expm1, c(Func::Sin, u)),
        4 => c(Func::Sigmoid, u),
        5 => Expr::lgamma(pos(u)),
        6 => c(Func::Erf, u),
        7 => c(Func::Erfc, u),
        8 => c(Func::NormalCdf, u),
        9 => c(Func::Sin, u),
        10 => c(Func::Cos, u),
        11 => c(Func::Abs, Expr::add2(u, Expr::rational(1, 7))),
        12 => Expr::sqrt(pos(u)),
        13 => Expr::pow(pos(u), Expr::rational(-3, 2)),
        14 => Expr::powi(u, 3),
        15 => Expr::mul2(
            Expr::call(Func::Indicator, vec![Expr::var("k"), Expr::int(1)]),
            u,
        ),
        _ => Expr::log(c(Func::Sigmoid, u)),
    }
}

/// A two-argument construction inside its domain.
pub fn binary(i: usize, u: Expr, v: Expr) -> Expr {
    match i {
        0 => Expr::call(Func::Lbeta, vec![pos(u), pos(v)]),
        1 => Expr::polygamma((v.size() % 3) as i64, pos(u)),
        2 => Expr::call(
            Func::BesselI,
            vec![Expr::rational([0, 2, 5][v.size() % 3], 2), pos(u)],
        ),
        3 => Expr::pow(pos(u), Expr::call(Func::Sigmoid, vec![v])),
        4 => Expr::div(u, pos(v)),
        5 => Expr::sub(u, v),
        6 => Expr::mul2(u, v),
        _ => Expr::add2(u, v),
    }
}

/// Random expression trees over parameters `a`, `b` and data `x`, `k`,
/// built from the language's functions with arguments kept in their domains.
pub fn random_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        Just(Expr::var("a")),
        Just(Expr::var("b")),
        Just(Expr::var("x")),
        (-3i64..=3, 1i64..=3).prop_map(|(p, q)| Expr::rational(p, q)),
        Just(Expr::pi()),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), 0usize..17).prop_map(|(u, i)| unary(i, u)),
            (inner.clone(), inner, 0usize..8).prop_map(|(u, v, i)| binary(i, u, v)),
        ]
    })
}

/// A first-order bound on the rounding error of evaluating `e` in `f64`
/// at `values` (running error analysis: each operation adds one rounding
/// of its result, and passes on its inputs' errors times the magnitude of
/// its partial derivatives, which come from dual numbers). Variables are
/// exact. `None` where the bound itself is not finite.
///
/// Random expressions can be arbitrarily ill-conditioned (`sin` of 10²⁷,
/// two nearly equal terms subtracted): two correct evaluations in a
/// different order then differ far beyond 1e-9. Comparisons allow a
/// multiple of this bound on top of their relative tolerance.
pub fn rounding_bound(e: &Expr, values: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
    use fimkit::numeric::eval::{eval, eval_f64};
    use num_dual::Dual64;
    const EPS: f64 = f64::EPSILON;
    // (value, error bound) of a subexpression.
    fn walk(e: &Expr, values: &dyn Fn(&str) -> Option<f64>) -> Option<(f64, f64)> {
        let out = match e {
            Expr::Var(_) => (eval_f64(e, values).ok()?, 0.0),
            Expr::Num(_) | Expr::Const(_) => {
                let v = eval_f64(e, values).ok()?;
                (v, EPS * v.abs())
            }
            Expr::Add(ts) => {
                let (mut v, mut err, mut mag) = (0.0, 0.0, 0.0);
                for t in ts.iter() {
                    let (tv, te) = walk(t, values)?;
                    v += tv;
                    err += te;
                    mag += tv.abs();
                }
                (v, err + EPS * mag)
            }
            Expr::Mul(fs) => {
                let parts: Vec<(f64, f64)> =
                    fs.iter().map(|f| walk(f, values)).collect::<Option<_>>()?;
                let v: f64 = parts.iter().map(|p| p.0).product();
                let mut err = EPS * fs.len() as f64 * v.abs();
                for i in 0..parts.len() {
                    let others: f64 = parts
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, p)| p.0.abs())
                        .product();
                    err += parts[i].1 * others;
                }
                (v, err)
            }
            Expr::Pow(b, x) => {
                let (bv, be) = walk(b, values)?;
                let (xv, xe) = walk(x, values)?;
                let v = eval_f64(e, values).ok()?;
                let db = xv * bv.powf(xv - 1.0);
                let dx = if bv > 0.0 { v * bv.ln() } else { 0.0 };
                (v, db.abs() * be + dx.abs() * xe + 2.0 * EPS * v.abs())
            }
            Expr::Call(f, args) => {
                let parts: Vec<(f64, f64)> = args
                    .iter()
                    .map(|a| walk(a, values))
                    .collect::<Option<_>>()?;
                let names: Vec<String> = (0..args.len()).map(|i| format!("_arg{i}")).collect();
                let call = Expr::call(*f, names.iter().map(|n| Expr::var(n)).collect());
                let mut err = 0.0;
                let mut v = 0.0;
                for i in 0..args.len() {
                    let env = |n: &str| {
                        names.iter().position(|m| m == n).map(|j| {
                            let d = Dual64::from_re(parts[j].0);
                            if i == j { d.derivative() } else { d }
                        })
                    };
                    let d = eval(&call, &env).ok()?;
                    v = d.re;
                    err += d.eps.abs() * parts[i].1;
                }
                // Special functions are accurate to a few ulps.
                (v, err + 8.0 * EPS * v.abs())
            }
        };
        (out.0.is_finite() && out.1.is_finite()).then_some(out)
    }
    walk(e, values).map(|(_, err)| err)
}

/// `a` and `b` agree to `rel` relative (absolute near 0), or within four
/// times the rounding-error bound of the computation (see [`rounding_bound`]).
pub fn agree(a: f64, b: f64, rel: f64, bound: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0) + 4.0 * bound
}
