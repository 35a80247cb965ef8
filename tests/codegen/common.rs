//! Shared by the codegen tests: the models (textbook corpus, examples and
//! tests/codegen/models), derived once, with points inside their domains
//! and fimkit's own numbers there (`eval_f64` of the same expressions the
//! code is generated from).

use fimkit::fisher::{Derivation, DeriveConfig};
use fimkit::ir::Expr;
use fimkit::ir::Model;
use fimkit::ir::expr::rational_to_f64;
use fimkit::ir::model::{Domain, Support};
use fimkit::numeric::eval::eval_f64;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Points per model.
pub const POINTS: usize = 12;

/// One model with its derivation, points and reference values.
pub struct Case {
    /// A unique identifier (`tb_normal`, `ex_normal`, `cg_specials`).
    pub id: String,
    pub model: Model,
    pub derivation: Derivation,
    /// Argument values in the order of the generated functions
    /// (parameters, data, covariates), one vector per point.
    pub points: Vec<Vec<f64>>,
    /// fimkit's values at each point: logp, score, Hessian (row-major),
    /// then the FIM (row-major) when there is one.
    pub refs: Vec<Vec<f64>>,
}

impl Case {
    pub fn p(&self) -> usize {
        self.derivation.params.len()
    }

    /// Indices (into a point) of the `fim` arguments: parameters, covariates.
    pub fn fim_args(&self) -> Vec<usize> {
        let p = self.p();
        let d = self.model.data.len();
        (0..p)
            .chain(p + d..p + d + self.model.covariates.len())
            .collect()
    }

    /// Which value (`logp`, `score[i]`, `hessian[i][j]`, `fim[i][j]`) index k is.
    pub fn label(&self, k: usize) -> String {
        let p = self.p();
        match k {
            0 => "logp".into(),
            k if k <= p => format!("score[{}]", k - 1),
            k if k <= p + p * p => {
                let r = k - 1 - p;
                format!("hessian[{}][{}]", r / p, r % p)
            }
            k => {
                let r = k - 1 - p - p * p;
                format!("fim[{}][{}]", r / p, r % p)
            }
        }
    }
}

/// A tiny deterministic generator (xorshift64*).
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

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fim_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(manifest().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "fim"))
        .collect();
    v.sort();
    v
}

/// Every model, derived once.
pub fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let mut out = Vec::new();
        for (dir, tag) in [
            ("tests/fixtures/textbook", "tb"),
            ("examples", "ex"),
            ("tests/codegen/models", "cg"),
        ] {
            for path in fim_files(dir) {
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                let id = format!("{tag}_{stem}");
                out.push(make_case(id, &path));
            }
        }
        assert!(out.len() >= 40, "the corpus has its models");
        out
    })
}

fn make_case(id: String, path: &Path) -> Case {
    let src = std::fs::read_to_string(path).expect("read model");
    let model = fimkit::load(&src, &id).unwrap_or_else(|d| panic!("{id}: {d:?}"));
    let derivation = fimkit::fisher::derive(&model, &DeriveConfig::default());
    let seed =
        0x9E37_79B9_7F4A_7C15 ^ id.len() as u64 ^ (id.bytes().map(u64::from).sum::<u64>() << 17);
    with_points(id.clone(), model, derivation, seed, POINTS)
        .unwrap_or_else(|| panic!("{id}: no usable points"))
}

/// The case with `count` points where fimkit's numbers are all finite;
/// `None` when such points are too rare.
fn with_points(
    id: String,
    model: Model,
    derivation: Derivation,
    seed: u64,
    count: usize,
) -> Option<Case> {
    let mut rng = Rng(seed);
    let mut points = Vec::new();
    let mut refs = Vec::new();
    let mut tries = 0;
    while points.len() < count {
        tries += 1;
        if tries > 50 * count {
            return None;
        }
        let env = random_point(&model, &mut rng);
        let Some(r) = reference(&model, &derivation, &env) else {
            continue;
        };
        let values: Vec<f64> = model
            .params
            .iter()
            .map(|p| &p.name)
            .chain(model.data.iter().map(|d| &d.name))
            .chain(model.covariates.iter().map(|c| &c.name))
            .map(|n| env[&**n])
            .collect();
        points.push(values);
        refs.push(r);
    }
    Some(Case {
        id,
        model,
        derivation,
        points,
        refs,
    })
}

/// A random expression over `vars` (x, y > 0; z, w real): sums,
/// differences, products, quotients, powers and every function, with
/// arguments kept inside the functions' domains (`1 + u^2` > 0).
pub fn random_expr(rng: &mut Rng, depth: usize, vars: &[&str]) -> Expr {
    use fimkit::ir::Func;
    let pick = |rng: &mut Rng, n: usize| ((rng.next_f64() * n as f64) as usize).min(n - 1);
    if depth == 0 || rng.next_f64() < 0.25 {
        return match pick(rng, 6) {
            0 => Expr::int(pick(rng, 4) as i64 + 1),
            1 => Expr::rational(pick(rng, 5) as i64 + 1, 2),
            2 => Expr::pi(),
            _ => Expr::var(vars[pick(rng, vars.len())]),
        };
    }
    let sub = |rng: &mut Rng| random_expr(rng, depth - 1, vars);
    let pos = |u: Expr| Expr::add2(Expr::one(), Expr::powi(u, 2));
    let call = |f: Func, args: Vec<Expr>| Expr::call(f, args);
    // u/(1 + u^2), in [-1/2, 1/2].
    let bounded = |u: Expr| Expr::div(u.clone(), pos(u));
    match pick(rng, 24) {
        0 | 1 => Expr::add2(sub(rng), sub(rng)),
        2 | 3 => Expr::sub(sub(rng), sub(rng)),
        4 | 5 => Expr::mul2(sub(rng), sub(rng)),
        6 | 7 => Expr::div(sub(rng), pos(sub(rng))),
        8 => Expr::neg(sub(rng)),
        9 => Expr::powi(sub(rng), pick(rng, 3) as i64 + 2),
        10 => Expr::powi(pos(sub(rng)), -(pick(rng, 2) as i64) - 1),
        11 => Expr::sqrt(pos(sub(rng))),
        // A bounded exponent: x^y amplifies relative differences by |y log x|.
        12 => Expr::pow(pos(sub(rng)), bounded(sub(rng))),
        13 => Expr::log(pos(sub(rng))),
        // sin and cos of bounded arguments: a huge argument would turn the
        // last-bit differences of scipy's special functions into O(1) ones.
        14 => Expr::exp(call(Func::Sin, vec![bounded(sub(rng))])),
        15 => Expr::lgamma(pos(sub(rng))),
        16 => Expr::polygamma(pick(rng, 3) as i64, pos(sub(rng))),
        17 => call(
            [Func::Erf, Func::Erfc, Func::NormalCdf][pick(rng, 3)],
            vec![sub(rng)],
        ),
        18 => call(Func::Sigmoid, vec![sub(rng)]),
        19 => call(Func::Log1p, vec![Expr::powi(sub(rng), 2)]),
        20 => call(Func::Expm1, vec![call(Func::Cos, vec![bounded(sub(rng))])]),
        21 => call(Func::Abs, vec![sub(rng)]),
        22 => call(Func::Lbeta, vec![pos(sub(rng)), pos(sub(rng))]),
        _ => call(
            Func::BesselI,
            vec![Expr::int(pick(rng, 3) as i64), pos(sub(rng))],
        ),
    }
}

/// `n` cases whose score, Hessian and FIM entries are random expressions
/// (the FIM's without the data variable).
pub fn random_cases(n: usize) -> Vec<Case> {
    use fimkit::fisher::ClosedForm;
    let src = "model Random\nparam x : positive\nparam y : positive\nparam z : real\ndata w : real\n\
               logp += -(w - z)^2/(2*x^2) - log(x) + y*w - exp(y)\n";
    let model = fimkit::load(src, "random").expect("random model");
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    let mut out = Vec::new();
    let mut attempt = 0u64;
    while out.len() < n {
        attempt += 1;
        assert!(
            attempt < 20 * n as u64,
            "random expressions with usable points are rare"
        );
        let all = ["x", "y", "z", "w"];
        let no_data = ["x", "y", "z"];
        let score: Vec<Expr> = (0..3).map(|_| random_expr(&mut rng, 4, &all)).collect();
        let sym = |rng: &mut Rng, vars: &[&str]| {
            let upper: Vec<((usize, usize), Expr)> = (0..3)
                .flat_map(|i| (i..3).map(move |j| (i, j)))
                .map(|ij| (ij, random_expr(rng, 4, vars)))
                .collect();
            (0..3)
                .map(|i| {
                    (0..3)
                        .map(|j| {
                            let key = (i.min(j), i.max(j));
                            upper
                                .iter()
                                .find(|(k, _)| *k == key)
                                .map(|(_, e)| e.clone())
                        })
                        .collect::<Option<Vec<Expr>>>()
                        .expect("upper triangle")
                })
                .collect::<Vec<Vec<Expr>>>()
        };
        let hessian = sym(&mut rng, &all);
        let fim = sym(&mut rng, &no_data);
        let derivation = Derivation {
            params: model.param_names(),
            score,
            hessian,
            fisher: Ok(ClosedForm {
                fim_outer: Some(fim.clone()),
                fim,
                formulas_agree_symbolically: true,
                groups: Vec::new(),
                det: None,
                inverse: None,
                jeffreys: None,
                singular: false,
                agreement: fimkit::fisher::identifiability::Agreement::Symbolic,
                singularity: None,
                natural_gradient: None,
                rank_one: None,
                omitted: None,
            }),
            definitions: Vec::new(),
        };
        let id = format!("random_{}", out.len());
        if let Some(c) = with_points(id, model.clone(), derivation, attempt * 7919, 6) {
            out.push(c);
        }
    }
    out
}

/// fimkit's numbers at a point, `None` where any is not finite.
fn reference(model: &Model, d: &Derivation, env: &HashMap<String, f64>) -> Option<Vec<f64>> {
    let plain = |n: &str| env.get(n).copied();
    // A named linear predictor (`let eta = ...`) is bound, not inlined.
    let at = fimkit::fisher::predictor::bind(&d.definitions, &plain).ok()?;
    let ev = |e: &Expr| eval_f64(e, &at).ok().filter(|v| v.is_finite());
    let mut out = vec![ev(&model.logp)?];
    for s in &d.score {
        out.push(ev(s)?);
    }
    for row in &d.hessian {
        for e in row {
            out.push(ev(e)?);
        }
    }
    if let Ok(cf) = &d.fisher {
        for row in &cf.fim {
            for e in row {
                out.push(ev(e)?);
            }
        }
    }
    Some(out)
}

fn bound(e: &Option<Expr>, env: &HashMap<String, f64>) -> Option<f64> {
    e.as_ref()
        .map(|e| eval_f64(e, &|n: &str| env.get(n).copied()).unwrap_or(f64::NAN))
}

fn in_interval(lo: Option<f64>, hi: Option<f64>, rng: &mut Rng) -> f64 {
    match (lo, hi) {
        (Some(l), Some(h)) => {
            let w = h - l;
            rng.uniform(l + 0.1 * w, h - 0.1 * w)
        }
        (Some(l), None) => l + rng.uniform(0.5, 3.0),
        (None, Some(h)) => h - rng.uniform(0.5, 3.0),
        (None, None) => rng.uniform(-1.5, 1.5),
    }
}

fn domain_value(d: &Domain, env: &HashMap<String, f64>, rng: &mut Rng) -> f64 {
    in_interval(bound(&d.lo, env), bound(&d.hi, env), rng)
}

/// Values for every constant, parameter, data variable and covariate.
pub fn random_point(m: &Model, rng: &mut Rng) -> HashMap<String, f64> {
    let mut env: HashMap<String, f64> = HashMap::new();
    for c in &m.consts {
        env.insert(c.name.to_string(), rational_to_f64(&c.value));
    }
    for p in &m.params {
        let v = domain_value(&p.domain, &env, rng);
        env.insert(p.name.to_string(), v);
    }
    for c in &m.covariates {
        let v = domain_value(&c.domain, &env, rng);
        env.insert(c.name.to_string(), v);
    }
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
            Support::Continuous { lo, hi } => in_interval(bound(lo, &env), bound(hi, &env), rng),
            Support::Integers { lo, hi } => {
                let l = bound(&Some(lo.clone()), &env).unwrap_or(0.0);
                let h = bound(hi, &env).unwrap_or(l + 6.0).min(l + 12.0);
                (l + (rng.next_f64() * (h - l + 1.0)).floor()).min(h)
            }
            Support::Set(vs) => {
                let i = ((rng.next_f64() * vs.len() as f64) as usize).min(vs.len() - 1);
                rational_to_f64(&vs[i])
            }
        };
        env.insert(d.name.to_string(), v);
    }
    env
}

/// Agreement to `tol` relative, absolute below magnitude 1.
pub fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * want.abs().max(1.0)
}

/// Compare one output line `case point v...` with the reference; a list of
/// failures (empty when all agree).
pub fn check_line(
    lang: &str,
    line: &str,
    cases: &[&Case],
    tol: f64,
    failures: &mut Vec<String>,
) -> usize {
    let mut it = line.split_whitespace();
    let (Some(ci), Some(pi)) = (it.next(), it.next()) else {
        failures.push(format!("{lang}: malformed line `{line}`"));
        return 0;
    };
    let (ci, pi): (usize, usize) = (ci.parse().expect("case"), pi.parse().expect("point"));
    let case = cases[ci];
    let got: Vec<f64> = it.map(|s| s.parse::<f64>().unwrap_or(f64::NAN)).collect();
    let want = &case.refs[pi];
    if got.len() != want.len() {
        failures.push(format!(
            "{lang} {}: {} values, expected {}",
            case.id,
            got.len(),
            want.len()
        ));
        return 0;
    }
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        if !close(*g, *w, tol) {
            failures.push(format!(
                "{lang} {} point {pi} {}: generated {g:e}, fimkit {w:e} (at {:?})",
                case.id,
                case.label(k),
                case.points[pi]
            ));
        }
    }
    got.len()
}

/// A fresh scratch directory under the target dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("codegen-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Run a command with `input` on stdin; (status ok, stdout, stderr).
pub fn run(cmd: &mut std::process::Command, input: &str) -> (bool, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The input lines of a compiled driver: `case n v1 ... vn` per point.
pub fn stdin_points(cases: &[&Case]) -> String {
    let mut s = String::new();
    for (ci, c) in cases.iter().enumerate() {
        for (pi, p) in c.points.iter().enumerate() {
            s.push_str(&format!("{ci} {pi}"));
            for v in p {
                s.push_str(&format!(" {v:?}"));
            }
            s.push('\n');
        }
    }
    s
}
