//! A property fuzzer over generated models (issue #13, item 8): it writes
//! well-formed models (parameters, data and covariates with domains and
//! supports, `~` statements with library families and random argument
//! expressions, raw `logp +=` terms, lets, loops, sums, indexed names,
//! coords blocks) and mutated or malformed ones (deleted, swapped and
//! repeated tokens, huge literals, deep nesting, long lines), and checks on
//! every case:
//!
//! - no panic: the library returns a value or an `Err` (`catch_unwind`);
//! - every value it returns as an answer is finite (no silent NaN), and
//!   the symbolic Hessian (fimkit's own differentiation) agrees with the
//!   dual numbers' at the point;
//! - every stage finishes within its budget: in-process a watchdog stops
//!   the run (with the seed and model) when one case takes longer than
//!   [`CASE_LIMIT`]; the derivations (F, which the library cannot stop:
//!   its only hard deadline is the command's watchdog) run in the sampled
//!   commands, with `--budget`, and must end by themselves (exit 5 at the
//!   latest) within the budget and a grace;
//! - the command's exit codes are the documented ones (0, 1, 2, 4 for
//!   `check` only, 5; never 3, "internal"), and no output of a command that
//!   exits 0 shows a bare `NaN`.
//!
//! 100,000 cases in `cargo test`, on two threads (all are parsed and
//! resolved; one in [`EVAL_EVERY`] is also evaluated at a valid point
//! with its symbolic Hessian; [`binary_cases`] of them go through every
//! command of the `fimkit` binary); `FIMKIT_LONG=1` runs 1,000,000 and 200
//! through the binary. `FIMKIT_FUZZ_CASES=N` and `FIMKIT_FUZZ_BASE=SEED`
//! pick another run. A failure prints its seed and model (and saves it
//! under target/tmp/fuzz-failures/); `FIMKIT_FUZZ_SEED=N` reruns that one
//! case with every check, binary included. A model that found a bug goes
//! to `tests/fixtures/fuzz/` (first line `# point: params | inputs`), with
//! a focused test where the bug was fixed; every file there runs through
//! all the checks on every run.

use fimkit::Model;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many generated cases.
fn cases() -> u64 {
    if let Some(n) = std::env::var("FIMKIT_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        n
    } else if std::env::var_os("FIMKIT_LONG").is_some() {
        1_000_000
    } else {
        100_000
    }
}

/// One in this many cases is also evaluated at its point (log-density,
/// score, Hessian: compiling the model's tape costs ~3 ms in the test
/// profile, loading it ~0.4 ms).
const EVAL_EVERY: u64 = 16;

/// How many cases (spread evenly over the seeds) run through the binary.
fn binary_cases() -> u64 {
    if std::env::var_os("FIMKIT_LONG").is_some() {
        200
    } else {
        24
    }
}

/// No single in-process case (load, evaluate) may take longer.
const CASE_LIMIT: Duration = Duration::from_secs(60);

/// The budget given to each sampled command, and the grace past it in
/// which the command's own watchdog must have stopped it.
const BUDGET_SECONDS: f64 = 3.0;
const BUDGET_GRACE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// A small seeded generator (SplitMix64): the same seed, the same model.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

// ---------------------------------------------------------------------------
// Well-formed models.

#[derive(Clone, Copy, PartialEq, Debug)]
enum Dom {
    Real,
    Positive,
    Negative,
    Unit,
    /// An open interval (lo, hi).
    Interval(i64, i64),
}

impl Dom {
    fn text(self) -> String {
        match self {
            Dom::Real => "real".into(),
            Dom::Positive => "positive".into(),
            Dom::Negative => "negative".into(),
            Dom::Unit => "unit".into(),
            Dom::Interval(lo, hi) => format!("({lo}, {hi})"),
        }
    }
    /// A value well inside the domain, written to a few digits.
    fn value(self, r: &mut Rng) -> f64 {
        let v = match self {
            Dom::Real => r.unit() * 6.0 - 3.0,
            Dom::Positive => 0.1 + r.unit() * 4.0,
            Dom::Negative => -0.1 - r.unit() * 4.0,
            Dom::Unit => 0.05 + r.unit() * 0.9,
            Dom::Interval(lo, hi) => {
                let w = (hi - lo) as f64;
                lo as f64 + w * (0.05 + 0.9 * r.unit())
            }
        };
        (v * 1000.0).round() / 1000.0
    }
}

/// One declared scalar name (or an element `a[k]` of a vector) and its
/// domain, for use in expressions.
#[derive(Clone)]
struct Scalar {
    name: String,
    dom: Dom,
}

/// The generator's state for one model: what has been declared, and a
/// valid point (every parameter, data variable and covariate).
struct Gen {
    r: Rng,
    src: String,
    /// Constants with their integer values.
    consts: Vec<(String, i64)>,
    /// Scalar parameters (vector elements included).
    params: Vec<Scalar>,
    /// Vector parameters: name, length constant, length, domain.
    vectors: Vec<(String, String, i64, Dom)>,
    covariates: Vec<Scalar>,
    lets: Vec<String>,
    /// A valid point: name=value pairs for parameters.
    param_point: Vec<(String, f64)>,
    /// Values of data variables and covariates.
    input_point: Vec<(String, f64)>,
    fresh: usize,
}

const FUNCS1: &[&str] = &[
    "log",
    "exp",
    "sqrt",
    "log1p",
    "expm1",
    "sigmoid",
    "logit",
    "lgamma",
    "digamma",
    "trigamma",
    "lfactorial",
    "erf",
    "erfc",
    "Phi",
    "sin",
    "cos",
    "abs",
];

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            r: Rng(seed),
            src: String::new(),
            consts: Vec::new(),
            params: Vec::new(),
            vectors: Vec::new(),
            covariates: Vec::new(),
            lets: Vec::new(),
            param_point: Vec::new(),
            input_point: Vec::new(),
            fresh: 0,
        }
    }

    fn fresh(&mut self, stem: &str) -> String {
        self.fresh += 1;
        format!("{stem}{}", self.fresh)
    }

    fn line(&mut self, s: &str) {
        self.src.push_str(s);
        self.src.push('\n');
    }

    fn dom(&mut self) -> Dom {
        match self.r.below(9) {
            0 | 1 => Dom::Real,
            2..=4 => Dom::Positive,
            5 => Dom::Negative,
            6 | 7 => Dom::Unit,
            _ => {
                let lo = self.r.range(-3, 2);
                Dom::Interval(lo, lo + self.r.range(1, 4))
            }
        }
    }

    fn number(&mut self) -> String {
        match self.r.below(6) {
            0 => format!("{}", self.r.range(0, 9)),
            1 => format!("{}", self.r.range(1, 100)),
            2 => format!("{}.{}", self.r.range(0, 3), self.r.range(0, 99)),
            3 => format!("{}e{}", self.r.range(1, 9), self.r.range(-3, 3)),
            4 => "pi".into(),
            _ => format!("{}/{}", self.r.range(1, 5), self.r.range(1, 5)),
        }
    }

    /// A name usable in an expression of parameters.
    fn param_leaf(&mut self, loop_var: Option<&str>) -> String {
        if let Some(k) = loop_var
            && !self.vectors.is_empty()
            && self.r.chance(0.4)
        {
            let (v, ..) = self.r.pick(&self.vectors).clone();
            return format!("{v}[{k}]");
        }
        let n = self.params.len() + self.covariates.len() + self.lets.len() + self.consts.len();
        if n == 0 {
            return self.number();
        }
        let mut i = self.r.below(n);
        if i < self.params.len() {
            return self.params[i].name.clone();
        }
        i -= self.params.len();
        if i < self.covariates.len() {
            return self.covariates[i].name.clone();
        }
        i -= self.covariates.len();
        if i < self.lets.len() {
            return self.lets[i].clone();
        }
        i -= self.lets.len();
        self.consts[i].0.clone()
    }

    /// A random expression of parameters, covariates, lets, constants and
    /// `extra` names (data, loop variables).
    fn expr(&mut self, depth: u32, extra: &[String], loop_var: Option<&str>) -> String {
        if depth == 0 || self.r.chance(0.3) {
            return match self.r.below(10) {
                0 | 1 => self.number(),
                2 | 3 if !extra.is_empty() => self.r.pick(extra).clone(),
                _ => self.param_leaf(loop_var),
            };
        }
        let d = depth - 1;
        match self.r.below(12) {
            0..=2 => {
                let op = *self.r.pick(&["+", "-", "*", "/"]);
                format!(
                    "{} {op} {}",
                    self.expr(d, extra, loop_var),
                    self.expr(d, extra, loop_var)
                )
            }
            3 => format!("({})", self.expr(d, extra, loop_var)),
            4 => format!("-{}", self.expr(d, extra, loop_var)),
            5 => {
                let p = *self.r.pick(&["2", "3", "-1", "1/2", "-2", "0.5"]);
                format!("({})^{p}", self.expr(d, extra, loop_var))
            }
            6..=8 => {
                let f = *self.r.pick(FUNCS1);
                format!("{f}({})", self.expr(d, extra, loop_var))
            }
            9 => match self.r.below(5) {
                0 => format!(
                    "polygamma({}, {})",
                    self.r.range(0, 3),
                    self.expr(d, extra, loop_var)
                ),
                1 => format!(
                    "besseli({}, {})",
                    self.r.range(0, 2),
                    self.expr(d, extra, loop_var)
                ),
                2 => format!(
                    "lbeta({}, {})",
                    self.expr(d, extra, loop_var),
                    self.expr(d, extra, loop_var)
                ),
                3 => format!(
                    "lchoose({}, {})",
                    self.expr(d, extra, loop_var),
                    self.expr(d, extra, loop_var)
                ),
                _ => format!("{}^{}", self.param_leaf(loop_var), self.number()),
            },
            _ => {
                if let Some((v, len, ..)) = self.vectors.first().cloned() {
                    let red = *self.r.pick(&["sum", "prod"]);
                    let j = self.fresh("j");
                    let f = *self.r.pick(&["", "log", "exp", "sqrt"]);
                    format!("{red}({j} in 1..{len}, {f}({v}[{j}]))")
                } else {
                    self.expr(d, extra, loop_var)
                }
            }
        }
    }

    /// A name of the given domain if one is declared.
    fn param_of(&mut self, doms: &[Dom]) -> Option<String> {
        let c: Vec<String> = self
            .params
            .iter()
            .filter(|p| doms.contains(&p.dom))
            .map(|p| p.name.clone())
            .collect();
        (!c.is_empty()).then(|| self.r.pick(&c).clone())
    }

    /// An argument of the given kind: usually one that is in range, now
    /// and then any expression (a warning or an evaluation error).
    fn arg(&mut self, kind: char, loop_var: Option<&str>) -> String {
        if self.r.chance(0.08) {
            return self.expr(3, &[], loop_var);
        }
        match kind {
            'r' => match self.r.below(4) {
                0 => self.param_of(&[Dom::Real]).unwrap_or_else(|| self.number()),
                1 => self.expr(2, &[], loop_var),
                _ => {
                    let a = self.param_leaf(loop_var);
                    let b = self.param_leaf(loop_var);
                    format!("{a} + {b}*{}", self.number())
                }
            },
            'p' => match self.r.below(6) {
                0 | 1 => self
                    .param_of(&[Dom::Positive])
                    .unwrap_or_else(|| format!("exp({})", self.param_leaf(loop_var))),
                2 => format!("exp({})", self.expr(2, &[], loop_var)),
                3 => format!("({})^2 + 1", self.expr(2, &[], loop_var)),
                4 => format!("{}", self.r.range(1, 9)),
                _ => {
                    let a = self.arg('p', loop_var);
                    let b = self.arg('p', loop_var);
                    format!("{a}*{b}")
                }
            },
            'u' => match self.r.below(4) {
                0 | 1 => self
                    .param_of(&[Dom::Unit])
                    .unwrap_or_else(|| format!("sigmoid({})", self.param_leaf(loop_var))),
                2 => {
                    let f = *self.r.pick(&["sigmoid", "Phi"]);
                    format!("{f}({})", self.expr(2, &[], loop_var))
                }
                _ => {
                    let a = self.arg('p', loop_var);
                    format!("{a}/(1 + {a})")
                }
            },
            _ => unreachable!(),
        }
    }

    fn declare_param(&mut self, name: &str, dom: Dom) {
        self.line(&format!("param {name} : {}", dom.text()));
        let v = dom.value(&mut self.r);
        self.params.push(Scalar {
            name: name.to_string(),
            dom,
        });
        self.param_point.push((name.to_string(), v));
    }

    /// One data group: a declaration, its statement(s) and its values.
    fn data_group(&mut self) {
        let x = self.fresh("x");
        match self.r.below(14) {
            // A scalar family.
            0..=7 => {
                const FAMS: &[(&str, &str, &str)] = &[
                    ("normal", "rp", "real"),
                    ("lognormal", "rp", "positive"),
                    ("bernoulli", "u", "{0, 1}"),
                    ("geometric", "u", "count"),
                    ("negative_binomial", "pu", "count"),
                    ("poisson", "p", "count"),
                    ("exponential", "p", "positive"),
                    ("gamma", "pp", "positive"),
                    ("gamma_scale", "pp", "positive"),
                    ("inverse_gamma", "pp", "positive"),
                    ("beta", "pp", "unit"),
                    ("chi_squared", "p", "positive"),
                    ("inverse_gaussian", "pp", "positive"),
                    ("rayleigh", "p", "positive"),
                    ("weibull", "pp", "positive"),
                    ("laplace", "rp", "real"),
                    ("von_mises", "rp", "real"),
                ];
                let (fam, kinds, support) = *self.r.pick(FAMS);
                // Now and then a support that does not fit (E0115).
                let support = if self.r.chance(0.03) {
                    *self.r.pick(&["real", "count", "unit", "{0, 1}", "0..3"])
                } else {
                    support
                };
                self.line(&format!("data {x} : {support}"));
                let args: Vec<String> = kinds.chars().map(|k| self.arg(k, None)).collect();
                self.line(&format!("{x} ~ {fam}({})", args.join(", ")));
                let v = self.data_value(support);
                self.input_point.push((x, v));
            }
            // A binomial with a constant number of trials.
            8 => {
                let n = self.r.range(1, 30);
                let nn = self.fresh("n");
                self.line(&format!("const {nn} = {n}"));
                self.line(&format!("data {x} : 0..{nn}"));
                let p = self.arg('u', None);
                self.line(&format!("{x} ~ binomial({nn}, {p})"));
                let v = self.r.range(0, n) as f64;
                self.input_point.push((x, v));
            }
            // A categorical over K categories.
            9 => {
                let k = self.r.range(2, 4);
                self.line(&format!("data {x} : 1..{k}"));
                let p = self.prob_vector(k);
                self.line(&format!("{x} ~ categorical({p})"));
                let v = self.r.range(1, k) as f64;
                self.input_point.push((x, v));
            }
            // An indexed data vector in a loop.
            10 => {
                let k = self.r.range(1, 4);
                let kk = self.fresh("K");
                self.line(&format!("const {kk} = {k}"));
                self.line(&format!("data {x}[1..{kk}] : real"));
                let i = self.fresh("i");
                let mu = self.arg('r', Some(&i));
                let sd = self.arg('p', Some(&i));
                let body = if self.r.chance(0.5) {
                    let l = self.fresh("m");
                    format!("let {l} = {mu}\n  {x}[{i}] ~ normal({l}, {sd})")
                } else {
                    format!("{x}[{i}] ~ laplace({mu}, {sd})")
                };
                self.line(&format!("for {i} in 1..{kk} {{\n  {body}\n}}"));
                for j in 1..=k {
                    let v = Dom::Real.value(&mut self.r);
                    self.input_point.push((format!("{x}[{j}]"), v));
                }
            }
            // A Dirichlet (or diagonal multivariate normal) vector.
            11 => {
                let k = self.r.range(2, 4);
                if self.r.chance(0.5) {
                    self.line(&format!("data {x}[1..{k}] : simplex"));
                    let a: Vec<String> = (0..k).map(|_| self.arg('p', None)).collect();
                    self.line(&format!("{x} ~ dirichlet([{}])", a.join(", ")));
                    let w: Vec<f64> = (0..k).map(|_| 0.2 + self.r.unit()).collect();
                    let s: f64 = w.iter().sum();
                    // Written with enough digits to sum to 1 in f64.
                    let mut acc = 0.0;
                    for (j, wj) in w.iter().enumerate() {
                        let v = if j + 1 == w.len() { 1.0 - acc } else { wj / s };
                        acc += v;
                        self.input_point.push((format!("{x}[{}]", j + 1), v));
                    }
                } else {
                    self.line(&format!("data {x}[1..{k}] : real"));
                    let m: Vec<String> = (0..k).map(|_| self.arg('r', None)).collect();
                    let s: Vec<String> = (0..k).map(|_| self.arg('p', None)).collect();
                    self.line(&format!(
                        "{x} ~ mvnormal_diag([{}], [{}])",
                        m.join(", "),
                        s.join(", ")
                    ));
                    for j in 1..=k {
                        let v = Dom::Real.value(&mut self.r);
                        self.input_point.push((format!("{x}[{j}]"), v));
                    }
                }
            }
            // A raw density: a known one, or any expression in the data.
            _ => {
                let support = *self
                    .r
                    .pick(&["real", "positive", "unit", "count", "{0, 1}"]);
                self.line(&format!("data {x} : {support}"));
                let term = if self.r.chance(0.5) {
                    let mu = self.arg('r', None);
                    let s = self.arg('p', None);
                    match support {
                        "real" => format!("-log({s}) - ({x} - ({mu}))^2/(2*({s})^2)"),
                        "positive" => format!("log({s}) - ({s})*{x}"),
                        "count" => format!("{x}*log({s}) - ({s}) - lfactorial({x})"),
                        _ => {
                            let p = self.arg('u', None);
                            format!("{x}*log({p}) + (1 - {x})*log(1 - ({p}))")
                        }
                    }
                } else {
                    self.expr(4, std::slice::from_ref(&x), None)
                };
                self.line(&format!("logp += {term}"));
                let v = self.data_value(support);
                self.input_point.push((x, v));
            }
        }
    }

    /// A probability vector of length k.
    fn prob_vector(&mut self, k: i64) -> String {
        match self.r.below(3) {
            0 if k == 2 => {
                let p = self.arg('u', None);
                format!("[{p}, 1 - {p}]")
            }
            1 => {
                let w: Vec<String> = (0..k).map(|_| self.arg('p', None)).collect();
                let total = w.join(" + ");
                let parts: Vec<String> = w.iter().map(|wi| format!("({wi})/({total})")).collect();
                format!("[{}]", parts.join(", "))
            }
            _ => {
                let parts: Vec<String> = (0..k).map(|_| format!("1/{k}")).collect();
                format!("[{}]", parts.join(", "))
            }
        }
    }

    fn data_value(&mut self, support: &str) -> f64 {
        match support {
            "real" => Dom::Real.value(&mut self.r),
            "positive" => Dom::Positive.value(&mut self.r),
            "unit" => Dom::Unit.value(&mut self.r),
            "count" => self.r.range(0, 12) as f64,
            "{0, 1}" => self.r.range(0, 1) as f64,
            "0..3" => self.r.range(0, 3) as f64,
            _ => 0.0,
        }
    }

    /// A whole well-formed model.
    fn model(mut self) -> Generated {
        if self.r.chance(0.5) {
            let n = self.r.range(0, 999);
            self.line(&format!("model M{n}"));
        }
        if self.r.chance(0.3) {
            self.line("# a generated model");
        }
        if self.r.chance(0.4) {
            let k = self.r.range(1, 4);
            self.line(&format!("const K = {k}"));
            self.consts.push(("K".into(), k));
            let dom = *self.r.pick(&[Dom::Real, Dom::Positive, Dom::Unit]);
            self.line(&format!("param a[1..K] : {}", dom.text()));
            for j in 1..=k {
                let v = dom.value(&mut self.r);
                self.param_point.push((format!("a[{j}]"), v));
                self.params.push(Scalar {
                    name: format!("a[{j}]"),
                    dom,
                });
            }
            self.vectors.push(("a".into(), "K".into(), k, dom));
        }
        for _ in 0..self.r.range(1, 3) {
            let name = self.fresh("t");
            let dom = self.dom();
            self.declare_param(&name, dom);
        }
        for _ in 0..self.r.range(0, 1) {
            if self.r.chance(0.3) {
                let z = self.fresh("z");
                let dom = *self.r.pick(&[Dom::Real, Dom::Positive, Dom::Unit]);
                self.line(&format!("covariate {z} : {}", dom.text()));
                let v = dom.value(&mut self.r);
                self.input_point.push((z.clone(), v));
                self.covariates.push(Scalar { name: z, dom });
            }
        }
        for _ in 0..self.r.range(0, 2) {
            let l = self.fresh("l");
            let e = self.expr(2, &[], None);
            self.line(&format!("let {l} = {e}"));
            self.lets.push(l);
        }
        for _ in 0..self.r.range(1, 3) {
            self.data_group();
        }
        if self.r.chance(0.2) {
            let e = if let Some((v, len, ..)) = self.vectors.first().cloned() {
                let j = self.fresh("k");
                format!("-sum({j} in 1..{len}, {v}[{j}]^2)/100")
            } else {
                format!("-({})^2/100", self.param_leaf(None))
            };
            self.line(&format!("logp += {e}"));
        }
        if self.r.chance(0.15) {
            self.coords();
        }
        let Gen {
            src,
            param_point,
            input_point,
            ..
        } = self;
        Generated {
            src,
            params: param_point,
            inputs: input_point,
        }
    }

    /// A coords block mapping every parameter from a new one.
    fn coords(&mut self) {
        let mut body = String::new();
        for (i, p) in self.params.clone().iter().enumerate() {
            let u = format!("u{i}");
            let (dom, map) = match p.dom {
                Dom::Real => (Dom::Real, format!("2*{u} - 1")),
                Dom::Positive => (Dom::Real, format!("exp({u})")),
                Dom::Negative => (Dom::Real, format!("-exp({u})")),
                Dom::Unit => (Dom::Real, format!("sigmoid({u})")),
                Dom::Interval(lo, hi) => (Dom::Real, format!("{lo} + {}*sigmoid({u})", hi - lo)),
            };
            let _ = write!(body, "  param {u} : {}\n  {} = {map}\n", dom.text(), p.name);
        }
        let name = self.fresh("c");
        self.line(&format!("coords {name} {{\n{body}}}"));
    }
}

/// A generated model and a valid point for it.
#[derive(Clone, Debug)]
struct Generated {
    src: String,
    params: Vec<(String, f64)>,
    inputs: Vec<(String, f64)>,
}

// ---------------------------------------------------------------------------
// Mutations: malformed models.

const TOKENS: &[&str] = &[
    "model",
    "const",
    "param",
    "data",
    "covariate",
    "let",
    "logp",
    "coords",
    "for",
    "in",
    "sum",
    "prod",
    "real",
    "positive",
    "negative",
    "unit",
    "count",
    "simplex",
    "inf",
    "~",
    "+=",
    "=",
    ":",
    "..",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    "+",
    "-",
    "*",
    "/",
    "^",
    "normal",
    "log",
    "x1",
    "t1",
    "a",
    "K",
    "0",
    "1",
    "1e300",
    "\n",
];

/// Split into tokens, keeping separators, so that joining gives the text back.
fn tokenize(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    for c in s.chars() {
        if word(c) && cur.chars().last().is_some_and(word) {
            cur.push(c);
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A huge or odd literal.
fn huge_literal(r: &mut Rng) -> String {
    match r.below(8) {
        0 => "1e400".into(),
        1 => "1e-400".into(),
        2 => "9".repeat(r.range(20, 400) as usize),
        3 => format!("0.{}1", "0".repeat(r.range(20, 400) as usize)),
        4 => format!("1e{}", r.range(250, 300)),
        5 => format!("{}^{}", r.range(2, 99), r.range(100, 100_000)),
        6 => "1e-300".into(),
        _ => format!("({})", "1".repeat(r.range(1, 40) as usize)),
    }
}

/// Apply one to four mutations to a well-formed model's text.
fn mutate(src: &str, r: &mut Rng) -> String {
    let mut t = tokenize(src);
    for _ in 0..r.range(1, 4) {
        if t.is_empty() {
            t.push("x".into());
        }
        let i = r.below(t.len());
        match r.below(11) {
            0 => {
                t.remove(i);
            }
            1 => {
                let j = r.below(t.len());
                t.swap(i, j);
            }
            2 => {
                let tok = t[i].clone();
                t.insert(i, tok);
            }
            3 => t.insert(i, r.pick(TOKENS).to_string()),
            4 => t[i] = r.pick(TOKENS).to_string(),
            // A huge literal in place of a number (or anything).
            5 => {
                let at = (0..t.len())
                    .map(|k| (i + k) % t.len())
                    .find(|&k| t[k].starts_with(|c: char| c.is_ascii_digit()))
                    .unwrap_or(i);
                t[at] = huge_literal(r);
            }
            // Deep nesting around a token.
            6 => {
                let d = if r.chance(0.1) {
                    r.range(1, 300)
                } else {
                    r.range(1, 30)
                } as usize;
                t[i] = format!("{}{}{}", "(".repeat(d), t[i], ")".repeat(d));
            }
            // A long line: one term repeated.
            7 => {
                let n = if r.chance(0.1) {
                    r.range(10, 3000)
                } else {
                    r.range(2, 100)
                } as usize;
                let term = *r.pick(&["t1", "x1", "1", "log(t1)", "a[1]", "t1^2"]);
                t.insert(i, format!("\nlogp += {}\n", vec![term; n].join(" + ")));
            }
            // Deep real nesting of calls or powers.
            8 => {
                let d = if r.chance(0.1) {
                    r.range(1, 120)
                } else {
                    r.range(1, 12)
                } as usize;
                let f = *r.pick(&["exp(", "log(", "sqrt(", "-(", "sigmoid("]);
                t[i] = format!("{}{}{}", f.repeat(d), t[i], ")".repeat(d));
            }
            // Truncate.
            9 => t.truncate(i),
            // A statement duplicated (redeclarations, second `~`).
            _ => {
                let lines: Vec<&str> = src.lines().collect();
                let l = lines[r.below(lines.len())];
                t.insert(i, format!("\n{l}\n"));
            }
        }
    }
    t.concat()
}

/// The case of a seed: a well-formed model (60%) or a mutated one.
fn case(seed: u64) -> (Generated, bool) {
    let g = Gen::new(seed).model();
    let mut r = Rng(seed ^ 0xA5A5_5A5A_DEAD_BEEF);
    if r.chance(0.6) {
        (g, false)
    } else {
        let src = mutate(&g.src, &mut r);
        (Generated { src, ..g }, true)
    }
}

// ---------------------------------------------------------------------------
// The checks.

/// What a case did, for the summary.
#[derive(Default)]
struct Tally {
    loaded: u64,
    evaluated: u64,
    /// Symbolic Hessians evaluated and compared with the dual numbers'.
    derived: u64,
}

fn describe(seed: u64, g: &Generated) -> String {
    format!(
        "seed {seed} (rerun with FIMKIT_FUZZ_SEED={seed}); the model:\n-----\n{}\n-----\npoint: {:?} {:?}",
        g.src, g.params, g.inputs
    )
}

fn all_finite<'a>(xs: impl IntoIterator<Item = &'a f64>) -> bool {
    xs.into_iter().all(|v| v.is_finite())
}

/// The in-process checks of one case: load, evaluate at the point, and
/// (when `derive`) derive F and its value at the point.
fn check_in_process(g: &Generated, depth: Depth, tally: &mut Tally) -> Result<(), String> {
    let m = match Model::from_source(&g.src, "fuzz") {
        Ok(m) => m,
        Err(fimkit::Error::Model(e)) => {
            if e.diagnostics.is_empty() {
                return Err("a model error without a diagnostic".into());
            }
            // The message renders (file:line:col).
            let text = e.to_string();
            if text.is_empty() {
                return Err("an empty model error".into());
            }
            return Ok(());
        }
        Err(e) => return Err(format!("loading gave a non-model error: {e}")),
    };
    tally.loaded += 1;
    let theta: Vec<(&str, f64)> = g.params.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    if !depth.evaluate {
        return Ok(());
    }
    let Ok(theta) = m.theta(&theta) else {
        // A mutation removed or renamed a parameter: not a valid point.
        return Ok(());
    };
    let names = m.input_names();
    let x: Option<Vec<f64>> = names
        .iter()
        .map(|n| g.inputs.iter().find(|(m, _)| m == n).map(|(_, v)| *v))
        .collect();
    // The log-density and score at the point are of ordinary size (no
    // term of 1e30 whose differences the Hessian takes).
    let mut ordinary = false;
    if let Some(x) = &x
        && depth.evaluate
    {
        tally.evaluated += 1;
        let mut moderate = true;
        match m.log_density(theta.as_slice(), x) {
            Ok(l) if !l.is_finite() => {
                return Err(format!("log-density {l} returned as a value"));
            }
            Ok(l) => moderate &= l.abs() < 1e6,
            Err(_) => moderate = false,
        }
        match m.score(theta.as_slice(), x) {
            Ok(s) if !all_finite(s.iter()) => {
                return Err(format!("score {s} returned as a value"));
            }
            Ok(s) => moderate &= s.iter().all(|v| v.abs() < 1e6),
            Err(_) => moderate = false,
        }
        ordinary = moderate;
        if let Ok(h) = m.hessian(theta.as_slice(), x)
            && !all_finite(h.iter())
        {
            return Err(format!("Hessian {h} returned as a value"));
        }
    }
    if depth.evaluate {
        // The light derivation: the symbolic Hessian (fimkit's own
        // differentiation), evaluated at the point, against the dual
        // numbers' exact Hessian.
        let params = m.param_names();
        let h = fimkit::symbolic::hessian(&m.ir().logp, &params);
        let dual = m
            .hessian(theta.as_slice(), x.as_deref().unwrap_or(&[]))
            .ok();
        let value = |v: &str| {
            g.params
                .iter()
                .chain(&g.inputs)
                .find(|(n, _)| n == v)
                .map(|(_, x)| *x)
        };
        // The same at θ moved by one part in 10⁹: an entry that moves by
        // more than 1e-3 of itself is ill-conditioned there (1 - p with p
        // = e^35/(1 + e^35), a mean of -1e134 whose powers underflow).
        let nudged: Vec<(String, f64)> = g
            .params
            .iter()
            .map(|(n, v)| (n.clone(), v * (1.0 + 1e-9)))
            .collect();
        let nudged_value = |v: &str| {
            nudged
                .iter()
                .chain(&g.inputs)
                .find(|(n, _)| n == v)
                .map(|(_, x)| *x)
        };
        let theta2: Vec<f64> = theta.iter().map(|v| v * (1.0 + 1e-9)).collect();
        let dual2 = m.hessian(&theta2, x.as_deref().unwrap_or(&[])).ok();
        let steady = |a: f64, b: f64| (a - b).abs() <= 1e-3 * (1e-6 + a.abs().max(b.abs()));
        tally.derived += 1;
        let trig = ["sin(", "cos(", "von_mises"]
            .iter()
            .any(|f| g.src.contains(f));
        for (i, row) in h.iter().enumerate() {
            for (j, e) in row.iter().enumerate() {
                let Ok(s) = fimkit::numeric::eval::eval_f64(e, &value) else {
                    continue;
                };
                let s2 = fimkit::numeric::eval::eval_f64(e, &nudged_value).unwrap_or(f64::NAN);
                if !s.is_finite() {
                    return Err(format!("H[{i}][{j}] = {s} returned as a value"));
                }
                // Compared where the numbers are of ordinary size (the
                // log-density, the score and both entries below 1e6) and
                // no sine or cosine is taken. Past that the two forms
                // round differently and neither is checked: sin(t^81) at
                // t = 2.9, a von Mises mean of 1e27, lgamma(r + x) -
                // lgamma(r) at r = 1e29 (a negative binomial's Hessian
                // lost to cancellation) leave no correct digit, and
                // neither route knows (found by FIMKIT_LONG=1; a known
                // limitation, see CHANGELOG). The tolerance, 1e-4, allows
                // the rounding of forms such as log(1 - e^w/(1 + e^w)) at
                // w = 19 (the symbolic form off by 3e-5, the dual numbers
                // by 1e-7); it catches a lost term or sign.
                if let (Some(d), Some(d2)) = (&dual, &dual2)
                    && !trig
                    && !KNOWN_DISAGREEMENTS.contains(&g.src.as_str())
                    && ordinary
                    && steady(s, s2)
                    && steady(d[(i, j)], d2[(i, j)])
                {
                    let d = d[(i, j)];
                    if s.abs().max(d.abs()) < 1e6
                        && (s - d).abs() > 1e-4 * (1.0 + s.abs().max(d.abs()))
                    {
                        return Err(format!("H[{i}][{j}]: symbolic {s} but dual numbers {d}"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Models where the symbolic and dual Hessians disagree at a steady,
/// ordinary-sized point and both are wrong (FIMKIT_LONG=1, seed
/// 1035893360608): an inverse Gaussian whose mean is −exp(ψ‴(a₄))·a₁² + 1
/// ≈ −1e134 (outside the family's range, which evaluation does not check);
/// its powers under- and overflow, the dual numbers give H₁₁ = 0, the
/// symbolic form −16, the truth is about −0.6. A known limitation (see
/// CHANGELOG), kept here so that the long run fails only on new ones.
const KNOWN_DISAGREEMENTS: &[&str] = &["# a generated model
const K = 4
param a[1..K] : unit
param t1 : negative
covariate z2 : real
data x3 : positive
x3 ~ inverse_gaussian(-exp(polygamma(3, a[4]))*(a[1])^2 + 1, exp(a[1]))
data x4 : positive
logp += 1.64
data x5 : 1..3
x5 ~ categorical([1/3, 1/3, 1/3])
"];

/// What the watchdog reads: the case each test thread is running, since when.
static RUNNING: Mutex<Vec<(std::thread::ThreadId, u64, String, Instant)>> = Mutex::new(Vec::new());

/// Stop the whole test binary, with the seed and model, when one case
/// runs past [`CASE_LIMIT`] (a hang cannot be caught any other way).
fn start_watchdog() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        std::thread::spawn(|| {
            loop {
                std::thread::sleep(Duration::from_millis(500));
                let r = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((_, seed, src, _)) = r
                    .iter()
                    .find(|(_, _, _, since)| since.elapsed() > CASE_LIMIT)
                {
                    eprintln!(
                        "fuzz_models: seed {seed} ran past {CASE_LIMIT:?} (a hang?); rerun with \
                         FIMKIT_FUZZ_SEED={seed}; the model:\n-----\n{src}\n-----"
                    );
                    std::process::abort();
                }
            }
        });
    });
}

/// Run one case's in-process checks, a panic turned into a failure.
fn run_case(seed: u64, g: &Generated, depth: Depth, tally: &mut Tally) -> Result<Duration, String> {
    let me = std::thread::current().id();
    RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push((
        me,
        seed,
        g.src.clone(),
        Instant::now(),
    ));
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| check_in_process(g, depth, tally)));
    let took = start.elapsed();
    RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(t, ..)| *t != me);
    match outcome {
        Ok(Ok(())) => Ok(took),
        Ok(Err(why)) => Err(format!("{why}\n{}", describe(seed, g))),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panic: {msg}\n{}", describe(seed, g)))
        }
    }
}

/// Where a failing model is written, to be copied to the fixtures.
fn save_failure(seed: u64, src: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("seed-{seed}.fim"));
    let _ = std::fs::write(&path, src);
    path
}

fn first_seed() -> u64 {
    std::env::var("FIMKIT_FUZZ_BASE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00F1_3000_0000)
}

/// One seed from the environment, or None.
fn only_seed() -> Option<u64> {
    std::env::var("FIMKIT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
}

/// Run `f` on a thread with the command's roomy stack (src/main.rs): deep
/// but bounded inputs recurse, and the checks are the command's.
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("a thread");
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn generated_models_never_panic_hang_or_return_nan() {
    on_big_stack(generated_models);
}

fn generated_models() {
    start_watchdog();
    let seeds: Vec<u64> = match only_seed() {
        Some(s) => vec![s],
        None => (0..cases()).map(|i| first_seed() + i).collect(),
    };
    let start = Instant::now();
    // Two workers (the machine is shared): each takes every other seed.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    let shares: Vec<Share> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let mine: Vec<(u64, u64)> = seeds
                    .iter()
                    .enumerate()
                    .skip(w)
                    .step_by(workers)
                    .map(|(i, &s)| (i as u64, s))
                    .collect();
                std::thread::Builder::new()
                    .stack_size(256 << 20)
                    .spawn_scoped(scope, move || run_share(&mine))
                    .expect("a thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut all = Share::default();
    for s in shares {
        all.tally.loaded += s.tally.loaded;
        all.tally.evaluated += s.tally.evaluated;
        all.tally.derived += s.tally.derived;
        all.failures.extend(s.failures);
        all.mutated += s.mutated;
        all.in_mutated += s.in_mutated;
        if s.slowest.0 > all.slowest.0 {
            all.slowest = s.slowest;
        }
    }
    let Share {
        tally,
        failures,
        slowest,
        mutated,
        in_mutated,
    } = all;
    eprintln!(
        "fuzz_models: {} cases ({mutated} mutated) in {:.1} s on {workers} threads ({:.1} s on the \
         mutated ones): {} loaded, {} evaluated at a point, {} symbolic Hessians checked; slowest case {:.0} ms (seed {})",
        seeds.len(),
        start.elapsed().as_secs_f64(),
        in_mutated.as_secs_f64(),
        tally.loaded,
        tally.evaluated,
        tally.derived,
        slowest.0.as_secs_f64() * 1e3,
        slowest.1
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    if only_seed().is_none() {
        // The generator reaches what it is meant to: most well-formed
        // models load, and enough of them evaluate and derive.
        let n = seeds.len() as u64;
        assert!(tally.loaded > n / 3, "only {} of {n} loaded", tally.loaded);
        assert!(
            tally.evaluated > n / EVAL_EVERY / 3,
            "only {} evaluated",
            tally.evaluated
        );
        assert!(tally.derived > 0, "no symbolic Hessian checked");
    }
}

/// One worker's cases and what they did.
#[derive(Default)]
struct Share {
    tally: Tally,
    failures: Vec<String>,
    slowest: (Duration, u64),
    mutated: u64,
    in_mutated: Duration,
}

/// Run the cases `(index, seed)`; stop after five failures.
fn run_share(cases: &[(u64, u64)]) -> Share {
    let mut out = Share::default();
    let one = only_seed().is_some();
    for &(i, seed) in cases {
        let (g, m) = case(seed);
        if one {
            eprintln!("{}", describe(seed, &g));
        }
        out.mutated += u64::from(m);
        let depth = Depth {
            evaluate: one || i.is_multiple_of(EVAL_EVERY),
        };
        match run_case(seed, &g, depth, &mut out.tally) {
            Ok(t) => {
                if m {
                    out.in_mutated += t;
                }
                if t > out.slowest.0 {
                    out.slowest = (t, seed);
                }
            }
            Err(why) => {
                let path = save_failure(seed, &g.src);
                out.failures
                    .push(format!("{why}\n(saved to {})", path.display()));
                if out.failures.len() >= 5 {
                    break;
                }
            }
        }
    }
    out
}

/// How far one case goes past loading.
#[derive(Clone, Copy)]
struct Depth {
    /// Log-density, score and Hessian at the point, and the symbolic
    /// Hessian there.
    evaluate: bool,
}

// ---------------------------------------------------------------------------
// Through the binary.

fn temp_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fuzz-models-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `name=value,...` for `--at`.
fn at_list(pairs: &[(String, f64)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Does a line show a bare NaN (as a word)?
fn shows_nan(text: &str) -> Option<&str> {
    text.lines().find(|l| {
        l.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == "NaN" || w == "nan")
    })
}

/// Run `fimkit ARGS --budget B` and check its exit code, its time and its
/// output.
fn run_binary(args: &[String], may_be_undecided: bool) -> Result<(i32, Duration), String> {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args(args)
        .arg("--budget")
        .arg(BUDGET_SECONDS.to_string())
        .env_remove("FIMKIT_BUDGET")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run fimkit: {e}"))?;
    // Read the pipes on threads so a chatty command cannot block.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out_pipe, &mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err_pipe, &mut s);
        s
    });
    let limit = Duration::from_secs_f64(BUDGET_SECONDS) + BUDGET_GRACE;
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "`fimkit {}` still ran after {limit:?} (budget {BUDGET_SECONDS} s)",
                args.join(" ")
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = start.elapsed();
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    let code = status.code().unwrap_or(-1);
    let allowed: &[i32] = if may_be_undecided {
        &[0, 1, 2, 4, 5]
    } else {
        &[0, 1, 2, 5]
    };
    if !allowed.contains(&code) {
        return Err(format!(
            "`fimkit {}` exited {code}\nstdout:\n{out}\nstderr:\n{err}",
            args.join(" ")
        ));
    }
    if code == 0
        && let Some(l) = shows_nan(&out)
    {
        return Err(format!(
            "`fimkit {}` exited 0 with a NaN: {l}\nstdout:\n{out}",
            args.join(" ")
        ));
    }
    Ok((code, took))
}

/// Every command on one model: parse, eval at the point, derive at the
/// parameters (and covariates), derive --fim-only, check at one point.
fn check_binary(seed: u64, g: &Generated, dir: &Path) -> Result<Vec<(i32, Duration)>, String> {
    let path = dir.join(format!("seed-{seed}.fim"));
    std::fs::write(&path, &g.src).map_err(|e| e.to_string())?;
    let p = path.display().to_string();
    let covariates: Vec<(String, f64)> = g
        .inputs
        .iter()
        .filter(|(n, _)| n.starts_with('z'))
        .cloned()
        .collect();
    let mut with_cov = g.params.clone();
    with_cov.extend(covariates);
    let mut all = g.params.clone();
    all.extend(g.inputs.iter().cloned());
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut runs = vec![
        (s(&["parse", &p]), false),
        (s(&["eval", &p, "--at", &at_list(&all)]), false),
        (s(&["derive", &p, "--at", &at_list(&with_cov)]), false),
        (s(&["derive", &p, "--fim-only", "--format", "json"]), false),
        (
            s(&["check", &p, "--points", "1", "--seed", &seed.to_string()]),
            true,
        ),
    ];
    if g.params.is_empty() || all.is_empty() {
        runs.retain(|(a, _)| !a.contains(&"--at".to_string()));
    }
    let mut out = Vec::new();
    for (args, undecided) in runs {
        out.push(run_binary(&args, undecided).map_err(|e| format!("{e}\n{}", describe(seed, g)))?);
    }
    Ok(out)
}

#[test]
fn sampled_models_through_the_binary_keep_exit_codes_and_budgets() {
    let dir = temp_dir("binary");
    let seeds: Vec<u64> = match only_seed() {
        Some(s) => vec![s],
        None => {
            let step = cases() / binary_cases();
            (0..binary_cases())
                .map(|i| first_seed() + i * step + 7)
                .collect()
        }
    };
    let mut codes = std::collections::BTreeMap::new();
    let mut slowest = (Duration::ZERO, 0);
    let start = Instant::now();
    for &seed in &seeds {
        let (g, _) = case(seed);
        match check_binary(seed, &g, &dir) {
            Ok(runs) => {
                for (code, took) in runs {
                    *codes.entry(code).or_insert(0u32) += 1;
                    if took > slowest.0 {
                        slowest = (took, seed);
                    }
                }
            }
            Err(why) => {
                let path = save_failure(seed, &g.src);
                panic!("{why}\n(saved to {})", path.display());
            }
        }
    }
    eprintln!(
        "fuzz_models: {} models through the binary in {:.1} s, exit codes {codes:?}, slowest command {:.0} ms (seed {})",
        seeds.len(),
        start.elapsed().as_secs_f64(),
        slowest.0.as_secs_f64() * 1e3,
        slowest.1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The regressions the fuzzer found: each file's first line is
/// `# point: NAME=VALUE,...` (parameters, then data and covariates after
/// `|`), and every check runs on it.
#[test]
fn fuzz_regressions() {
    on_big_stack(regressions);
}

fn regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    start_watchdog();
    let tmp = temp_dir("regressions");
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let parse = |s: &str| -> Vec<(String, f64)> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                let (n, v) = p.split_once('=').expect("name=value");
                (n.trim().to_string(), v.trim().parse().expect("a number"))
            })
            .collect()
    };
    for (i, f) in files.iter().enumerate() {
        let src = std::fs::read_to_string(f).expect("read fixture");
        let point = src
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# point:"))
            .unwrap_or("");
        let (params, inputs) = point.split_once('|').unwrap_or((point, ""));
        let g = Generated {
            src: src.clone(),
            params: parse(params),
            inputs: parse(inputs),
        };
        let mut tally = Tally::default();
        let depth = Depth { evaluate: true };
        if let Err(why) = run_case(i as u64, &g, depth, &mut tally) {
            panic!("{}: {why}", f.display());
        }
        if let Err(why) = check_binary(i as u64, &g, &tmp) {
            panic!("{}: {why}", f.display());
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
