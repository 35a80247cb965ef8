//! The rendering corpus shared by the render tests: every example model's
//! log-density, gradient and Hessian, plus a hand list that covers every
//! function, constant, name form and layout rule, and a few matrices.

use fimkit::Expr;
use fimkit::ir::{Constant, Func, Name};
use fimkit::symbolic::{gradient, hessian};

/// One expression to render, with the variables its sums should start with.
pub struct Item {
    /// Stable identifier (used in snapshot names and error messages).
    pub id: String,
    /// The expression.
    pub expr: Expr,
    /// Leading (data) variables.
    pub leading: Vec<Name>,
}

/// One matrix or vector to render.
pub struct MatItem {
    /// Stable identifier.
    pub id: String,
    /// Rows (a vector is one column).
    pub rows: Vec<Vec<Expr>>,
    /// Leading (data) variables.
    pub leading: Vec<Name>,
}

/// An example model, loaded.
pub struct Example {
    /// File stem.
    pub name: String,
    /// The model.
    pub model: fimkit::ir::Model,
}

/// Every `examples/*.fim`, sorted by name.
pub fn examples() -> Vec<Example> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("examples directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "fim"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            let src = std::fs::read_to_string(&p).unwrap();
            let model = fimkit::load(&src, &name)
                .unwrap_or_else(|d| panic!("example {name} does not load: {d:?}"));
            Example { name, model }
        })
        .collect()
}

/// Leading variables of a model: its data variables.
pub fn data_names(m: &fimkit::ir::Model) -> Vec<Name> {
    fimkit::render::leading_names(m)
}

/// Log-densities and every gradient entry and Hessian entry of the examples.
pub fn example_items() -> Vec<Item> {
    let mut out = Vec::new();
    for ex in examples() {
        let m = &ex.model;
        let leading = data_names(m);
        let params = m.param_names();
        out.push(Item {
            id: format!("{}.logp", ex.name),
            expr: m.logp.clone(),
            leading: leading.clone(),
        });
        for (p, g) in params.iter().zip(gradient(&m.logp, &params)) {
            out.push(Item {
                id: format!("{}.d_{p}", ex.name),
                expr: g,
                leading: leading.clone(),
            });
        }
        let h = hessian(&m.logp, &params);
        for i in 0..params.len() {
            for j in i..params.len() {
                out.push(Item {
                    id: format!("{}.d2_{}_{}", ex.name, params[i], params[j]),
                    expr: h[i][j].clone(),
                    leading: leading.clone(),
                });
            }
        }
    }
    out
}

/// Gradient vectors and Hessian matrices of the examples.
pub fn example_matrices() -> Vec<MatItem> {
    let mut out = Vec::new();
    for ex in examples() {
        let m = &ex.model;
        let params = m.param_names();
        out.push(MatItem {
            id: format!("{}.gradient", ex.name),
            rows: gradient(&m.logp, &params)
                .into_iter()
                .map(|g| vec![g])
                .collect(),
            leading: data_names(m),
        });
        out.push(MatItem {
            id: format!("{}.hessian", ex.name),
            rows: hessian(&m.logp, &params),
            leading: data_names(m),
        });
    }
    out
}

fn v(n: &str) -> Expr {
    Expr::var(n)
}

fn call(f: Func, args: Vec<Expr>) -> Expr {
    Expr::call(f, args)
}

/// A hand list: every function, constant, name form and layout rule.
pub fn hand_items() -> Vec<Item> {
    let (x, y, mu, sigma, alpha) = (v("x"), v("y"), v("mu"), v("sigma"), v("alpha"));
    let (a, b, p, k) = (v("a"), v("b"), v("p"), v("k"));
    let xm = Expr::sub(x.clone(), mu.clone());
    let one = Expr::one;
    let mut list: Vec<(&str, Expr)> = vec![
        // every function
        ("fn.log", Expr::log(x.clone())),
        ("fn.exp", Expr::exp(Expr::neg(x.clone()))),
        ("fn.log1p", call(Func::Log1p, vec![Expr::neg(p.clone())])),
        (
            "fn.expm1",
            Expr::mul2(Expr::int(2), call(Func::Expm1, vec![x.clone()])),
        ),
        (
            "fn.sigmoid",
            call(
                Func::Sigmoid,
                vec![Expr::add2(a.clone(), Expr::mul2(b.clone(), x.clone()))],
            ),
        ),
        ("fn.lgamma", Expr::lgamma(alpha.clone())),
        ("fn.digamma", Expr::polygamma(0, alpha.clone())),
        ("fn.trigamma", Expr::polygamma(1, alpha.clone())),
        (
            "fn.polygamma3",
            Expr::polygamma(3, Expr::add2(alpha.clone(), one())),
        ),
        (
            "fn.polygamma_const_order",
            call(Func::Polygamma, vec![v("n"), x.clone()]),
        ),
        ("fn.lbeta", call(Func::Lbeta, vec![a.clone(), b.clone()])),
        (
            "fn.erf",
            call(
                Func::Erf,
                vec![Expr::div(
                    xm.clone(),
                    Expr::mul2(Expr::sqrt(Expr::int(2)), sigma.clone()),
                )],
            ),
        ),
        ("fn.erfc", call(Func::Erfc, vec![x.clone()])),
        ("fn.sin", call(Func::Sin, vec![x.clone()])),
        (
            "fn.cos",
            call(Func::Cos, vec![Expr::mul2(Expr::int(2), Expr::pi())]),
        ),
        (
            "fn.besseli",
            call(Func::BesselI, vec![Expr::zero(), v("kappa")]),
        ),
        (
            "fn.besseli_nu",
            call(Func::BesselI, vec![v("nu"), x.clone()]),
        ),
        ("fn.abs", call(Func::Abs, vec![xm.clone()])),
        (
            "fn.Phi",
            call(Func::NormalCdf, vec![Expr::div(xm.clone(), sigma.clone())]),
        ),
        (
            "fn.indicator",
            Expr::mul2(
                call(Func::Indicator, vec![x.clone(), Expr::int(2)]),
                Expr::log(v("p[2]")),
            ),
        ),
        // constants
        ("const.pi", Expr::mul2(Expr::int(2), Expr::pi())),
        ("const.e", Expr::powi(Expr::Const(Constant::E), 2)),
        (
            "const.eulergamma",
            Expr::sub(one(), Expr::Const(Constant::EulerGamma)),
        ),
        (
            "const.euler_clash",
            Expr::sub(v("gamma"), Expr::Const(Constant::EulerGamma)),
        ),
        (
            "const.pi_sq",
            Expr::div(Expr::powi(Expr::pi(), 2), Expr::int(6)),
        ),
        // names
        (
            "name.greek",
            Expr::add(vec![v("theta"), v("Omega"), v("lambda")]),
        ),
        (
            "name.indexed",
            Expr::mul2(v("alpha[2]"), Expr::log(v("x[2]"))),
        ),
        (
            "name.digits",
            Expr::add2(v("b0"), Expr::mul2(v("b1"), v("z1"))),
        ),
        ("name.multi_letter", Expr::div(v("rate"), v("shape"))),
        ("name.underscore", Expr::sub(v("mu_obs"), v("sigma_x"))),
        (
            "name.funclike_var",
            Expr::mul2(v("psi"), Expr::add2(x.clone(), one())),
        ),
        // layout
        (
            "layout.score_mu",
            Expr::div(xm.clone(), Expr::powi(sigma.clone(), 2)),
        ),
        (
            "layout.square",
            Expr::neg(Expr::div(
                Expr::powi(xm.clone(), 2),
                Expr::mul2(Expr::int(2), Expr::powi(sigma.clone(), 2)),
            )),
        ),
        ("layout.cube", Expr::powi(xm.clone(), 3)),
        ("layout.neg_cube", Expr::neg(Expr::powi(xm.clone(), 3))),
        (
            "layout.constant_last",
            Expr::add2(Expr::log(x.clone()), Expr::rational(-1, 2)),
        ),
        (
            "layout.one_minus_p",
            Expr::div(one(), Expr::mul2(p.clone(), Expr::sub(one(), p.clone()))),
        ),
        (
            "layout.binomial",
            Expr::div(
                Expr::sub(k.clone(), Expr::mul2(v("n"), p.clone())),
                Expr::mul2(p.clone(), Expr::sub(one(), p.clone())),
            ),
        ),
        (
            "layout.rational_coeff",
            Expr::mul2(Expr::rational(3, 2), Expr::log(x.clone())),
        ),
        ("layout.neg_rational", Expr::rational(-7, 3)),
        (
            "layout.sqrt_sum",
            Expr::sqrt(Expr::add2(Expr::powi(x.clone(), 2), one())),
        ),
        (
            "layout.inv_sqrt",
            Expr::recip(Expr::sqrt(Expr::mul2(Expr::int(2), Expr::pi()))),
        ),
        (
            "layout.rational_power",
            Expr::pow(x.clone(), Expr::rational(3, 2)),
        ),
        (
            "layout.neg_rational_power",
            Expr::pow(x.clone(), Expr::rational(-5, 2)),
        ),
        (
            "layout.symbolic_power",
            Expr::pow(x.clone(), Expr::sub(alpha.clone(), one())),
        ),
        (
            "layout.neg_symbolic_power",
            Expr::pow(x.clone(), Expr::neg(alpha.clone())),
        ),
        (
            "layout.power_of_power",
            Expr::pow(Expr::pow(x.clone(), alpha.clone()), y.clone()),
        ),
        (
            "layout.numeric_power",
            Expr::mul2(Expr::int(3), Expr::pow(Expr::int(2), x.clone())),
        ),
        ("layout.negative_base", Expr::pow(Expr::int(-2), x.clone())),
        (
            "layout.fraction_power",
            Expr::pow(Expr::div(x.clone(), y.clone()), Expr::rational(3, 2)),
        ),
        (
            "layout.trigamma_squared",
            Expr::powi(Expr::polygamma(1, alpha.clone()), 2),
        ),
        (
            "layout.crb_denominator",
            Expr::recip(Expr::mul2(
                v("n"),
                Expr::sub(
                    Expr::mul2(alpha.clone(), Expr::polygamma(1, alpha.clone())),
                    one(),
                ),
            )),
        ),
        (
            "layout.exp_of_fraction",
            Expr::exp(Expr::neg(Expr::div(
                Expr::powi(xm.clone(), 2),
                Expr::mul2(Expr::int(2), Expr::powi(sigma.clone(), 2)),
            ))),
        ),
        (
            "layout.nested_log",
            Expr::log(Expr::add2(one(), Expr::exp(Expr::neg(x.clone())))),
        ),
        (
            "layout.big_integer",
            Expr::mul2(
                Expr::num("123456789012345678901234567890".parse().unwrap()),
                x.clone(),
            ),
        ),
        ("layout.zero", Expr::zero()),
        ("layout.minus_one", Expr::int(-1)),
        (
            "layout.two_sums",
            Expr::mul(vec![
                Expr::int(-1),
                Expr::sub(mu.clone(), x.clone()),
                Expr::sub(v("nu"), y.clone()),
            ]),
        ),
    ];
    // Leading variables: data x, y, k (as a model would give).
    let leading: Vec<Name> = ["x", "y", "k"].iter().map(|s| Name::from(*s)).collect();
    list.drain(..)
        .map(|(id, expr)| Item {
            id: id.to_string(),
            expr,
            leading: leading.clone(),
        })
        .collect()
}

/// Hand-made matrices and vectors.
pub fn hand_matrices() -> Vec<MatItem> {
    let (s, a, bt) = (v("sigma"), v("alpha"), v("beta"));
    let s2 = Expr::powi(s.clone(), 2);
    vec![
        MatItem {
            id: "mat.normal_fim".into(),
            rows: vec![
                vec![Expr::recip(s2.clone()), Expr::zero()],
                vec![Expr::zero(), Expr::div(Expr::int(2), s2.clone())],
            ],
            leading: vec![],
        },
        MatItem {
            id: "mat.gamma_fim".into(),
            rows: vec![
                vec![
                    Expr::polygamma(1, a.clone()),
                    Expr::neg(Expr::recip(bt.clone())),
                ],
                vec![
                    Expr::neg(Expr::recip(bt.clone())),
                    Expr::div(a.clone(), Expr::powi(bt.clone(), 2)),
                ],
            ],
            leading: vec![],
        },
        MatItem {
            id: "mat.three_by_three".into(),
            rows: (1..=3)
                .map(|i| {
                    (1..=3)
                        .map(|j| {
                            Expr::div(
                                Expr::int(i * j),
                                Expr::add2(v(&format!("a[{j}]")), Expr::int(i)),
                            )
                        })
                        .collect()
                })
                .collect(),
            leading: vec![],
        },
        MatItem {
            id: "mat.row".into(),
            rows: vec![vec![Expr::var("x"), Expr::int(-1), Expr::rational(1, 2)]],
            leading: vec![],
        },
        MatItem {
            id: "vec.column".into(),
            rows: vec![
                vec![Expr::var("x")],
                vec![Expr::sqrt(Expr::var("x"))],
                vec![Expr::Const(Constant::EulerGamma)],
            ],
            leading: vec![],
        },
        MatItem {
            id: "mat.empty".into(),
            rows: vec![],
            leading: vec![],
        },
    ]
}
