//! Name resolution, checks and lowering: AST → [`Model`].
//!
//! Statements are processed in order; every problem becomes a
//! [`Diagnostic`] and processing continues, so one run reports all of them.
//! `for` blocks and `sum`/`prod` are unrolled, `let` bindings inlined, and
//! `~` statements expanded through the family library.

use super::expr::{Constant, Expr, Func, Name, Rational};
use super::model::*;
use crate::diagnostic::{Diagnostic, Span, did_you_mean};
use crate::families::{self, ArgKind, DataKind, Family};
use crate::syntax::ast::{self, AstExpr, BinOp, ExprKind, Reduce, Stmt};
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Limits that keep resolution bounded.
#[derive(Clone, Debug)]
pub struct ResolveConfig {
    /// Most scalar declarations plus loop iterations one model may unroll to.
    pub max_unrolled: usize,
    /// Most expression nodes that uses of `let` bindings may copy in total.
    /// Each use inlines the binding, so a chain of lets that each use the
    /// previous one twice doubles in size at every step.
    pub max_inlined_nodes: usize,
    /// Most bits (numerator plus denominator) of an exact constant computed
    /// while resolving, such as `10^400`.
    pub max_constant_bits: u64,
}

impl Default for ResolveConfig {
    fn default() -> Self {
        ResolveConfig {
            max_unrolled: 20_000,
            max_inlined_nodes: 1_000_000,
            max_constant_bits: crate::syntax::MAX_LITERAL_BITS,
        }
    }
}

/// The outcome of resolution: the model when there was no error, and every
/// diagnostic (errors and warnings) in source order.
#[derive(Debug)]
pub struct Resolved {
    /// The model, `None` if any error was found.
    pub model: Option<Model>,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parse and resolve a model source: every syntax error, and the errors and
/// warnings of the statements that did parse, in source order.
///
/// After syntax errors the statements that parsed are still checked (uses
/// of names declared by skipped statements are not reported), but no model
/// is returned and no unused-name warnings are given.
///
/// ```
/// use fimkit::ir::resolve::{ResolveConfig, load_source};
/// let r = load_source("param mu real\ndata x : real\nx ~ normal(mu, sigam)", "m", &ResolveConfig::default());
/// let codes: Vec<_> = r.diagnostics.iter().map(|d| d.code).collect();
/// assert_eq!(codes, ["E0004", "E0101"]);
/// assert!(r.model.is_none());
/// ```
pub fn load_source(source: &str, default_name: &str, config: &ResolveConfig) -> Resolved {
    let parsed = crate::syntax::parse_recovering(source);
    let Some(file) = parsed.file else {
        return Resolved {
            model: None,
            diagnostics: parsed.errors,
        };
    };
    if parsed.errors.is_empty() {
        return resolve(&file, default_name, config);
    }
    let r = resolve_partial(&file, default_name, config, &parsed.skipped_names);
    let mut diagnostics = parsed.errors;
    diagnostics.extend(r.diagnostics);
    diagnostics.sort_by_key(|d| (d.span().start, d.severity));
    Resolved {
        model: None,
        diagnostics,
    }
}

/// Resolve a parsed file. `default_name` names the model when the file has
/// no `model` header.
pub fn resolve(file: &ast::File, default_name: &str, config: &ResolveConfig) -> Resolved {
    resolve_inner(file, default_name, config, None)
}

/// Resolve what parsed of a file that has syntax errors: uses of
/// `skipped_names` (declared by skipped statements) are not reported, the
/// model is not built and unused-name warnings are not given.
pub fn resolve_partial(
    file: &ast::File,
    default_name: &str,
    config: &ResolveConfig,
    skipped_names: &[String],
) -> Resolved {
    let mut r = resolve_inner(file, default_name, config, Some(skipped_names));
    r.model = None;
    r
}

fn resolve_inner(
    file: &ast::File,
    default_name: &str,
    config: &ResolveConfig,
    skipped_names: Option<&[String]>,
) -> Resolved {
    let mut r = Resolver::new(config.clone());
    if let Some(names) = skipped_names {
        r.after_syntax_errors = true;
        r.poisoned.extend(names.iter().cloned());
    }
    for stmt in &file.statements {
        r.declared_later_scan(stmt);
    }
    for stmt in &file.statements {
        r.statement(stmt);
    }
    let name = file
        .header
        .as_ref()
        .map_or_else(|| default_name.to_string(), |h| h.name.clone());
    r.finish(name, file)
}

/// A lowered value: scalar or vector.
#[derive(Clone, Debug)]
enum Value {
    Scalar(Expr),
    Vector(Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Const,
    Param,
    Data,
    Covariate,
    Let,
    CoordParam,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Const => "constant",
            Kind::Param => "parameter",
            Kind::Data => "data variable",
            Kind::Covariate => "covariate",
            Kind::Let => "let binding",
            Kind::CoordParam => "coordinate parameter",
        }
    }
}

#[derive(Clone, Debug)]
struct Decl {
    kind: Kind,
    span: Span,
    /// Inclusive index range for indexed declarations.
    range: Option<(i64, i64)>,
}

/// What an expression may refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    /// Constants and loop variables only (const values, ranges, indices,
    /// parameter domain bounds).
    Constant,
    /// Constants, earlier data and (irregularly) parameters: data support bounds.
    SupportBound,
    /// Anything declared: the log-density.
    General,
    /// Constants and the block's new parameters.
    Coords,
}

struct Resolver {
    config: ResolveConfig,
    decls: HashMap<String, Decl>,
    consts: HashMap<String, Rational>,
    lets: HashMap<String, Value>,
    loops: Vec<(String, i64)>,
    /// Every name declared anywhere in the file, with its first span.
    all_declared: HashMap<String, Span>,
    coord_scope: HashMap<String, Decl>,
    /// Names whose declaration failed (already reported): their uses are
    /// skipped silently instead of cascading into "unknown name" errors.
    poisoned: HashSet<String>,
    model_consts: Vec<ConstDecl>,
    params: Vec<Param>,
    data: Vec<DataVar>,
    covariates: Vec<Covariate>,
    terms: Vec<Term>,
    coords: Vec<Coords>,
    sampled: HashMap<String, Span>,
    diagnostics: Vec<Diagnostic>,
    unrolled: usize,
    budget_reported: bool,
    inlined: usize,
    inline_reported: bool,
    /// Some statements were skipped because of syntax errors.
    after_syntax_errors: bool,
}

type Res<T> = Result<T, ()>;

const BUILTIN_CONSTANTS: [&str; 3] = ["pi", "e", "eulergamma"];

/// Other names for library families, from other languages and textbooks.
const FAMILY_ALIASES: &[(&str, &str)] = &[
    ("gaussian", "normal"),
    ("norm", "normal"),
    ("bern", "bernoulli"),
    ("binom", "binomial"),
    ("pois", "poisson"),
    ("exp", "exponential"),
    ("expon", "exponential"),
    ("cat", "categorical"),
    ("multinoulli", "categorical"),
    ("discrete", "categorical"),
    ("dirich", "dirichlet"),
];

/// Other names for language functions.
const FUNCTION_ALIASES: &[(&str, &str)] = &[
    ("ln", "log"),
    ("gammaln", "lgamma"),
    ("loggamma", "lgamma"),
    ("lngamma", "lgamma"),
    ("psi", "digamma"),
    ("logistic", "sigmoid"),
    ("expit", "sigmoid"),
    ("inv_logit", "sigmoid"),
    ("pnorm", "Phi"),
    ("normcdf", "Phi"),
    ("fabs", "abs"),
    ("betaln", "lbeta"),
    ("log_beta", "lbeta"),
];

/// Language functions: name, arity and how a call is written.
const FUNCTIONS: &[(&str, usize, &str)] = &[
    ("log", 1, "log(x)"),
    ("exp", 1, "exp(x)"),
    ("sqrt", 1, "sqrt(x)"),
    ("log1p", 1, "log1p(x)"),
    ("expm1", 1, "expm1(x)"),
    ("sigmoid", 1, "sigmoid(x)"),
    ("logit", 1, "logit(p)"),
    ("lgamma", 1, "lgamma(x)"),
    ("digamma", 1, "digamma(x)"),
    ("trigamma", 1, "trigamma(x)"),
    ("polygamma", 2, "polygamma(n, x) with a constant order n"),
    ("lbeta", 2, "lbeta(a, b)"),
    ("lchoose", 2, "lchoose(n, k)"),
    ("lfactorial", 1, "lfactorial(n)"),
    ("erf", 1, "erf(x)"),
    ("erfc", 1, "erfc(x)"),
    ("Phi", 1, "Phi(x)"),
    ("sin", 1, "sin(x)"),
    ("cos", 1, "cos(x)"),
    ("besseli", 2, "besseli(nu, x) with a constant order nu"),
    ("abs", 1, "abs(x)"),
    (
        "indicator",
        2,
        "indicator(x, k), 1 when x = k and 0 otherwise",
    ),
];

impl Resolver {
    fn new(config: ResolveConfig) -> Resolver {
        Resolver {
            config,
            decls: HashMap::new(),
            consts: HashMap::new(),
            lets: HashMap::new(),
            loops: Vec::new(),
            all_declared: HashMap::new(),
            coord_scope: HashMap::new(),
            poisoned: HashSet::new(),
            model_consts: Vec::new(),
            params: Vec::new(),
            data: Vec::new(),
            covariates: Vec::new(),
            terms: Vec::new(),
            coords: Vec::new(),
            sampled: HashMap::new(),
            diagnostics: Vec::new(),
            unrolled: 0,
            budget_reported: false,
            inlined: 0,
            inline_reported: false,
            after_syntax_errors: false,
        }
    }

    fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn declared_later_scan(&mut self, stmt: &Stmt) {
        let name = match stmt {
            Stmt::Const { name, .. } | Stmt::Let { name, .. } => Some(name),
            Stmt::Param { name, .. } | Stmt::Data { name, .. } | Stmt::Covariate { name, .. } => {
                Some(&name.ident)
            }
            Stmt::For { body, .. } => {
                body.iter().for_each(|s| self.declared_later_scan(s));
                None
            }
            _ => None,
        };
        if let Some(n) = name {
            self.all_declared.entry(n.name.clone()).or_insert(n.span);
        }
    }

    /// Count unrolled items; report once when the budget is exceeded.
    fn spend(&mut self, n: usize, span: Span) -> Res<()> {
        self.unrolled = self.unrolled.saturating_add(n);
        if self.unrolled > self.config.max_unrolled {
            if !self.budget_reported {
                self.budget_reported = true;
                let max = self.config.max_unrolled;
                self.error(
                    Diagnostic::error("E0123", "model is too large to unroll", span, "unrolling this goes past the limit")
                        .with_help(format!("indexed declarations, loops and sums may unroll to at most {max} items in total")),
                );
            }
            return Err(());
        }
        Ok(())
    }

    /// A loop or sum index name that is not in use.
    fn fresh_index_name(&self) -> &'static str {
        ["k", "j", "i", "l", "m", "k2", "k3"]
            .into_iter()
            .find(|c| {
                !self.decls.contains_key(*c)
                    && !self.lets.contains_key(*c)
                    && !self.loops.iter().any(|(n, _)| n == c)
            })
            .unwrap_or("k_")
    }

    /// Adding (or multiplying) terms combines their exact numeric
    /// coefficients. Bound the size of the result before doing it, so that,
    /// say, `sum(k in 1..20000, x/(1e300 + k))` is refused instead of
    /// building a 20-million-bit rational.
    ///
    /// For a sum of coefficients p_k/q_k with L = lcm(q_k), the result is
    /// (Σ p_k·L/q_k)/L, so it has at most
    /// 2·bits(L) + max(bits(p_k) − bits(q_k)) + bits(n) + 1 bits. L is
    /// tracked exactly for denominators that fit in 64 bits (one pass over
    /// L per term) and bounded by adding bits for larger ones. Each exact
    /// addition also costs about the square of that size (the gcd that
    /// reduces the fraction), so the sum of squares is bounded too: a sum
    /// of thousands of fractions with different denominators is refused
    /// rather than left to run for minutes. For a product the bound is the
    /// sum of all the coefficients' bits.
    fn check_coefficient_growth<'e>(
        &mut self,
        terms: impl Iterator<Item = (&'e Expr, Span)>,
        product: bool,
    ) -> Res<()> {
        /// The coefficients added into one like term.
        #[derive(Default)]
        struct Group {
            lcm_small: Option<num_bigint::BigUint>,
            big_denom_bits: u64,
            count: u64,
            max_excess: i64,
        }
        let max = self.config.max_constant_bits;
        let mut groups: std::collections::BTreeMap<Expr, Group> = Default::default();
        let mut product_bits = 0u64;
        let mut work = 0f64;
        let max_work = 12.0 * (max as f64) * (max as f64);
        for (term, span) in terms {
            let mut stack = vec![term];
            while let Some(t) = stack.pop() {
                // The numeric coefficient, and (for sums) the rest of the
                // term: only like terms have their coefficients added.
                let (c, rest) = match t {
                    Expr::Add(xs) if !product => {
                        stack.extend(xs);
                        continue;
                    }
                    Expr::Mul(xs) if product => {
                        stack.extend(xs);
                        continue;
                    }
                    Expr::Num(r) => (r, None),
                    Expr::Mul(xs) => match xs.split_first() {
                        Some((Expr::Num(r), rest)) => (r, Some(rest)),
                        _ => continue,
                    },
                    _ => continue,
                };
                let bits = if product {
                    product_bits = product_bits.saturating_add(rational_bits(c));
                    product_bits
                } else {
                    let key = match rest {
                        None => Expr::one(),
                        Some([one]) => one.clone(),
                        Some(many) => Expr::Mul(many.to_vec()),
                    };
                    let g = groups.entry(key).or_default();
                    g.count += 1;
                    let (p, q) = (c.numer().bits(), c.denom().bits());
                    g.max_excess = g.max_excess.max(p as i64 - q as i64);
                    let lcm = g.lcm_small.get_or_insert_with(num_bigint::BigUint::one);
                    match c.denom().magnitude().to_u64() {
                        Some(d) if d > 1 => {
                            let r = (&*lcm % d).to_u64().unwrap_or(0);
                            let gcd = num_integer::Integer::gcd(&r, &d);
                            *lcm *= d / gcd;
                        }
                        Some(_) => {}
                        None => g.big_denom_bits = g.big_denom_bits.saturating_add(q),
                    }
                    let l = lcm.bits().saturating_add(g.big_denom_bits);
                    let b =
                        (2 * l) as i64 + g.max_excess + i64::from(64 - g.count.leading_zeros()) + 1;
                    let (b, count) = (b.max(0) as u64, g.count);
                    // Adding into the group costs about the square of its size.
                    if count > 1 {
                        work += (b as f64) * (b as f64);
                    }
                    if work > max_work {
                        self.error(
                            Diagnostic::error(
                                "E0108",
                                "too many fractions with different denominators to add exactly",
                                span,
                                format!("the exact sum reaches about {b} bits after {count} terms"),
                            )
                            .with_help("adding many fractions exactly builds ever larger denominators; use a closed form (such as digamma for harmonic numbers), fewer terms, or decimals with a common denominator"),
                        );
                        return Err(());
                    }
                    b
                };
                if bits > max {
                    return self.check_constant_bits(bits, span);
                }
            }
        }
        Ok(())
    }

    /// Count the nodes copied by inlining a `let`; report once past the limit.
    fn spend_inlined(&mut self, v: &Value, name: &str, span: Span) -> Res<()> {
        let size = match v {
            Value::Scalar(e) => e.size(),
            Value::Vector(xs) => xs.iter().map(Expr::size).sum(),
        };
        self.inlined = self.inlined.saturating_add(size);
        if self.inlined > self.config.max_inlined_nodes {
            if !self.inline_reported {
                self.inline_reported = true;
                let max = self.config.max_inlined_nodes;
                self.error(
                    Diagnostic::error(
                        "E0125",
                        "the model grows too large when `let` bindings are inlined",
                        span,
                        format!("this use of `{name}` copies {size} nodes"),
                    )
                    .with_help(format!("every use of a let binding copies its definition, and uses of lets may copy at most {max} nodes in total; a let that uses the previous let several times doubles the size at each step")),
                );
            }
            return Err(());
        }
        Ok(())
    }

    /// Refuse exact arithmetic whose result would exceed the constant size
    /// limit. `bits` estimates the result's size.
    fn check_constant_bits(&mut self, bits: u64, span: Span) -> Res<()> {
        let max = self.config.max_constant_bits;
        if bits > max {
            self.error(
                Diagnostic::error(
                    "E0108",
                    "exact constant too large",
                    span,
                    format!("about {bits} bits"),
                )
                .with_help(format!("constants are exact rationals of at most {max} bits (about {} digits); write the quantity with log or exp, or rescale it", max * 3 / 10)),
            );
            return Err(());
        }
        Ok(())
    }

    // ------------------------------------------------------------ declarations

    fn declare(&mut self, name: &ast::Ident, kind: Kind, range: Option<(i64, i64)>) -> Res<()> {
        if BUILTIN_CONSTANTS.contains(&name.name.as_str()) || name.name == "inf" {
            self.error(
                Diagnostic::error(
                    "E0102",
                    format!("`{}` is a built-in constant", name.name),
                    name.span,
                    "cannot be redeclared",
                )
                .with_help(match name.name.as_str() {
                    "inf" => "choose another name; `inf` is infinity in interval ends".to_string(),
                    other => format!(
                        "choose another name; `{other}` always means the constant {}",
                        if other == "pi" { "π" } else { "e = 2.718..." }
                    ),
                }),
            );
            return Err(());
        }
        if let Some(prev) = self.decls.get(&name.name) {
            let d = Diagnostic::error(
                "E0102",
                format!("`{}` is declared twice", name.name),
                name.span,
                "declared again here",
            )
            .with_label(
                prev.span,
                format!("first declared here as a {}", prev.kind.noun()),
            )
            .with_help("rename one of them");
            self.error(d);
            return Err(());
        }
        if self.loops.iter().any(|(n, _)| *n == name.name) {
            self.error(
                Diagnostic::error(
                    "E0102",
                    format!("`{}` is already the loop variable", name.name),
                    name.span,
                    "shadows the loop variable",
                )
                .with_help("rename the declaration or the loop variable"),
            );
            return Err(());
        }
        self.poisoned.remove(&name.name);
        self.decls.insert(
            name.name.clone(),
            Decl {
                kind,
                span: name.span,
                range,
            },
        );
        Ok(())
    }

    /// Evaluate an index range `lo..hi` to integers.
    fn int_range(&mut self, r: &ast::Range) -> Res<(i64, i64)> {
        let lo = self.const_int(&r.lo, "a range bound")?;
        let hi = self.const_int(&r.hi, "a range bound")?;
        if hi < lo {
            self.error(
                Diagnostic::error(
                    "E0108",
                    format!("empty range {lo}..{hi}"),
                    r.span,
                    "the upper end is below the lower end",
                )
                .with_help("ranges are inclusive: write lo..hi with hi >= lo"),
            );
            return Err(());
        }
        Ok((lo, hi))
    }

    fn const_int(&mut self, e: &AstExpr, what: &str) -> Res<i64> {
        let v = self.scalar(e, Ctx::Constant)?;
        let v = self.fold_consts(&v);
        match v.as_num() {
            Some(r) if r.is_integer() => match r.to_integer().to_i64() {
                Some(i) if i.abs() <= 1_000_000_000 => Ok(i),
                _ => {
                    self.error(
                        Diagnostic::error(
                            "E0108",
                            format!("{what} is out of range"),
                            e.span,
                            format!("value {r}"),
                        )
                        .with_help("use integers of at most 10^9"),
                    );
                    Err(())
                }
            },
            Some(r) => {
                self.error(
                    Diagnostic::error(
                        "E0107",
                        format!("{what} must be an integer"),
                        e.span,
                        format!("this is {r}"),
                    )
                    .with_help("use an integer constant"),
                );
                Err(())
            }
            None => {
                self.error(
                    Diagnostic::error(
                        "E0107",
                        format!("{what} must be a constant integer"),
                        e.span,
                        "not a constant",
                    )
                    .with_help("use numbers, `const` names and loop variables only"),
                );
                Err(())
            }
        }
    }

    /// The exact value of an expression made of numbers and `const` names
    /// only; `None` as soon as anything else occurs (without rebuilding a
    /// large expression just to find out).
    fn constant_value(&self, e: &Expr) -> Option<Rational> {
        fn only_consts(r: &Resolver, e: &Expr) -> bool {
            match e {
                Expr::Num(_) => true,
                Expr::Const(_) => false,
                Expr::Var(v) => r.consts.contains_key(&**v),
                Expr::Add(xs) | Expr::Mul(xs) | Expr::Call(_, xs) => {
                    xs.iter().all(|x| only_consts(r, x))
                }
                Expr::Pow(b, x) => only_consts(r, b) && only_consts(r, x),
            }
        }
        match e {
            Expr::Num(r) => Some(r.clone()),
            _ if only_consts(self, e) => self.fold_consts(e).as_num().cloned(),
            _ => None,
        }
    }

    /// The exact value of a numeric expression that the smart
    /// constructors left as a power (`2^8192`: they fold integer powers up
    /// to 4096 only), within the constant size limit.
    fn exact_value(&self, e: &Expr) -> Option<Rational> {
        match e {
            Expr::Num(r) => Some(r.clone()),
            Expr::Add(xs) => xs
                .iter()
                .try_fold(Rational::zero(), |acc, x| Some(acc + self.exact_value(x)?)),
            Expr::Mul(xs) => xs
                .iter()
                .try_fold(Rational::one(), |acc, x| Some(acc * self.exact_value(x)?)),
            Expr::Pow(b, x) => {
                let (b, x) = (self.exact_value(b)?, self.exact_value(x)?);
                let n = x.is_integer().then(|| x.to_integer().to_i32()).flatten()?;
                let bits = power_bits(&b, &x);
                if (b.is_zero() && n < 0) || bits > self.config.max_constant_bits {
                    return None;
                }
                Some(num_traits::pow::Pow::pow(&b, n))
            }
            _ => None,
        }
    }

    fn fold_consts(&self, e: &Expr) -> Expr {
        e.substitute(&|v| self.consts.get(v).map(|r| Expr::Num(r.clone())))
    }

    fn decl_names(&mut self, d: &ast::DeclName, kind: Kind) -> Res<Vec<Name>> {
        let range = match &d.range {
            Some(r) => Some(self.int_range(r)?),
            None => None,
        };
        self.declare(&d.ident, kind, range)?;
        match range {
            None => {
                self.spend(1, d.ident.span)?;
                Ok(vec![Name::from(d.ident.name.as_str())])
            }
            Some((lo, hi)) => {
                self.spend((hi - lo + 1) as usize, d.ident.span)?;
                Ok((lo..=hi)
                    .map(|i| Name::from(format!("{}[{}]", d.ident.name, i).as_str()))
                    .collect())
            }
        }
    }

    fn domain(&mut self, d: &ast::Domain, ctx: Ctx) -> Res<Domain> {
        Ok(match d {
            ast::Domain::Real(_) => Domain::real(),
            ast::Domain::Positive(_) => Domain::positive(),
            ast::Domain::Negative(_) => Domain::negative(),
            ast::Domain::Unit(_) => Domain::unit(),
            ast::Domain::Interval(lo, hi, span) => {
                let l = self.bound(lo, ctx, false)?;
                let h = self.bound(hi, ctx, true)?;
                self.check_interval(&l, &h, *span)?;
                // The label shows the bounds as written: `(-pi, pi)`, `(c, inf)`.
                Domain {
                    label: format!("({lo}, {hi})"),
                    lo: l,
                    hi: h,
                }
            }
        })
    }

    fn check_interval(&mut self, lo: &Option<Expr>, hi: &Option<Expr>, span: Span) -> Res<()> {
        if let (Some(l), Some(h)) = (lo, hi) {
            let (l, h) = (self.fold_consts(l), self.fold_consts(h));
            if let (Some(a), Some(b)) = (numeric_value(&l), numeric_value(&h))
                && a >= b
            {
                self.error(
                    Diagnostic::error(
                        "E0108",
                        "empty interval",
                        span,
                        format!("the lower end {l} is not below the upper end {h}"),
                    )
                    .with_help("write (lo, hi) with lo < hi"),
                );
                return Err(());
            }
        }
        Ok(())
    }

    /// An interval end: `inf` / `-inf` give `None`.
    fn bound(&mut self, e: &AstExpr, ctx: Ctx, upper: bool) -> Res<Option<Expr>> {
        let is_inf = |e: &AstExpr| matches!(&e.kind, ExprKind::Name(n) if n == "inf");
        if is_inf(e) {
            if !upper {
                self.error(
                    Diagnostic::error(
                        "E0108",
                        "the lower end cannot be +inf",
                        e.span,
                        "+inf as the lower end",
                    )
                    .with_help("write -inf for an unbounded lower end"),
                );
                return Err(());
            }
            return Ok(None);
        }
        if let ExprKind::Neg(inner) = &e.kind
            && is_inf(inner)
        {
            if upper {
                self.error(
                    Diagnostic::error(
                        "E0108",
                        "the upper end cannot be -inf",
                        e.span,
                        "-inf as the upper end",
                    )
                    .with_help("write inf for an unbounded upper end"),
                );
                return Err(());
            }
            return Ok(None);
        }
        Ok(Some(self.scalar(e, ctx)?))
    }

    fn support(&mut self, s: &ast::Support, group: Option<(&str, usize)>) -> Res<Support> {
        Ok(match s {
            ast::Support::Real(_) => Support::Continuous { lo: None, hi: None },
            ast::Support::Positive(_) => Support::Continuous {
                lo: Some(Expr::zero()),
                hi: None,
            },
            ast::Support::Unit(_) => Support::Continuous {
                lo: Some(Expr::zero()),
                hi: Some(Expr::one()),
            },
            ast::Support::Count(_) => Support::Integers {
                lo: Expr::zero(),
                hi: None,
            },
            ast::Support::Simplex(span) => match group {
                Some((g, dim)) => Support::Simplex {
                    group: Name::from(g),
                    dim,
                },
                None => {
                    self.error(
                        Diagnostic::error(
                            "E0120",
                            "`simplex` needs an indexed data declaration",
                            *span,
                            "used on a scalar",
                        )
                        .with_help("declare the whole vector: `data x[1..K] : simplex`"),
                    );
                    return Err(());
                }
            },
            ast::Support::Interval(lo, hi, span) => {
                let l = self.bound(lo, Ctx::SupportBound, false)?;
                let h = self.bound(hi, Ctx::SupportBound, true)?;
                self.check_interval(&l, &h, *span)?;
                Support::Continuous { lo: l, hi: h }
            }
            ast::Support::Set(items, span) => {
                let mut vals = Vec::new();
                for it in items {
                    vals.push(Rational::from_integer(
                        self.const_int(it, "a set element")?.into(),
                    ));
                }
                vals.sort();
                vals.dedup();
                if vals.len() < 2 {
                    self.error(
                        Diagnostic::error("E0108", "a finite support needs at least two values", *span, "only one value")
                            .with_help("a variable with one possible value carries no information; make it a const"),
                    );
                    return Err(());
                }
                Support::Set(vals)
            }
            ast::Support::IntRange(lo, hi, _) => {
                let l = self.scalar(lo, Ctx::SupportBound)?;
                let h = match hi {
                    Some(h) => Some(self.scalar(h, Ctx::SupportBound)?),
                    None => None,
                };
                if let (Some(a), Some(Some(b))) = (
                    numeric_value(&self.fold_consts(&l)),
                    h.as_ref().map(|h| numeric_value(&self.fold_consts(h))),
                ) && b <= a
                {
                    self.error(
                        Diagnostic::error(
                            "E0108",
                            "integer range has fewer than two values",
                            s.span(),
                            format!("{a}..{b}"),
                        )
                        .with_help("write lo..hi with hi > lo, or lo.. for no upper end"),
                    );
                    return Err(());
                }
                Support::Integers { lo: l, hi: h }
            }
        })
    }

    // ------------------------------------------------------------- statements

    fn statement(&mut self, stmt: &Stmt) {
        let declared = match stmt {
            Stmt::Const { name, .. } | Stmt::Let { name, .. } => Some(name),
            Stmt::Param { name, .. } | Stmt::Data { name, .. } | Stmt::Covariate { name, .. } => {
                Some(&name.ident)
            }
            _ => None,
        };
        let existed = declared.is_some_and(|n| self.decls.contains_key(&n.name));
        let result = self.statement_inner(stmt);
        if let Some(n) = declared
            && result.is_err()
            && !existed
        {
            self.poisoned.insert(n.name.clone());
        }
    }

    fn statement_inner(&mut self, stmt: &Stmt) -> Res<()> {
        match stmt {
            Stmt::Const { name, value, .. } => {
                let v = self.scalar(value, Ctx::Constant);
                let folded = v.map(|v| self.fold_consts(&v));
                let exact = folded.as_ref().ok().and_then(|e| self.exact_value(e));
                let r = match (folded, exact) {
                    (Ok(Expr::Num(r)), _) | (Ok(_), Some(r)) => r,
                    (Ok(other), None) => {
                        self.error(
                            Diagnostic::error("E0114", format!("constant `{}` is not a number", name.name), value.span, format!("evaluates to `{other}`"))
                                .with_help("a const must be a rational number, such as 10, 0.5 or 1/3 (functions like sqrt are not allowed here)"),
                        );
                        self.declare(name, Kind::Const, None)?;
                        return Err(());
                    }
                    (Err(()), _) => {
                        self.declare(name, Kind::Const, None)?;
                        return Err(());
                    }
                };
                self.declare(name, Kind::Const, None)?;
                self.consts.insert(name.name.clone(), r.clone());
                self.model_consts.push(ConstDecl {
                    name: Name::from(name.name.as_str()),
                    value: r,
                    span: name.span,
                });
            }
            Stmt::Param { name, domain, span } => {
                let dom = self.domain(domain, Ctx::Constant);
                let names = self.decl_names(name, Kind::Param)?;
                let dom = dom?;
                for n in names {
                    self.params.push(Param {
                        name: n,
                        domain: dom.clone(),
                        span: *span,
                    });
                }
            }
            Stmt::Covariate { name, domain, span } => {
                let dom = self.domain(domain, Ctx::Constant);
                let names = self.decl_names(name, Kind::Covariate)?;
                let dom = dom?;
                for n in names {
                    self.covariates.push(Covariate {
                        name: n,
                        domain: dom.clone(),
                        span: *span,
                    });
                }
            }
            Stmt::Data {
                name,
                support,
                span,
            } => {
                let range = match &name.range {
                    Some(r) => Some(self.int_range(r)?),
                    None => None,
                };
                let group =
                    range.map(|(lo, hi)| (name.ident.name.as_str(), (hi - lo + 1) as usize));
                let sup = self.support(support, group);
                let names = self.decl_names(name, Kind::Data)?;
                let sup = sup?;
                let params_in_bounds: Vec<Name> = sup
                    .bound_vars()
                    .into_iter()
                    .filter(|v| self.decl_kind(v) == Some(Kind::Param))
                    .collect();
                if let Some(p) = params_in_bounds.first() {
                    self.error(
                        Diagnostic::warning(
                            "W0205",
                            format!("the support of `{}` depends on the parameter `{p}`", name.ident.name),
                            support.span(),
                            "support moves with a parameter",
                        )
                        .with_help("the regularity conditions behind the Fisher information fail (the Bartlett identities do not hold); fimkit will not report a FIM for this model"),
                    );
                }
                for n in names {
                    self.data.push(DataVar {
                        name: n,
                        support: sup.clone(),
                        span: *span,
                    });
                }
            }
            Stmt::Let { name, value, .. } => {
                let v = self.value(value, Ctx::General);
                self.declare(name, Kind::Let, None)?;
                let v = v?;
                let depth = match &v {
                    Value::Scalar(e) => expr_depth(e),
                    Value::Vector(xs) => xs.iter().map(expr_depth).max().unwrap_or(0),
                };
                if depth > MAX_EXPR_DEPTH {
                    self.error(
                        Diagnostic::error(
                            "E0125",
                            format!("`{}` is nested too deeply once earlier let bindings are inlined", name.name),
                            value.span,
                            format!("{depth} levels deep"),
                        )
                        .with_help(format!("formulas may nest at most {MAX_EXPR_DEPTH} levels after inlining; a long chain of lets that each wrap the previous one in a function exceeds this")),
                    );
                    return Err(());
                }
                self.lets.insert(name.name.clone(), v);
            }
            Stmt::Logp { value, span } => {
                let v = self.scalar(value, Ctx::General)?;
                self.terms.push(Term {
                    source: TermSource::Raw,
                    logp: v,
                    span: *span,
                });
            }
            Stmt::Sample {
                target,
                family,
                args,
                span,
            } => self.sample(target, family, args, *span)?,
            Stmt::For {
                var, range, body, ..
            } => {
                let (lo, hi) = self.int_range(range)?;
                if self.decls.contains_key(&var.name)
                    || self.loops.iter().any(|(n, _)| *n == var.name)
                {
                    let fresh = self.fresh_index_name();
                    let mut d = Diagnostic::error(
                        "E0102",
                        format!("loop variable `{}` shadows a name", var.name),
                        var.span,
                        "already in use",
                    )
                    .with_help(format!(
                        "pick a fresh name for the loop variable, such as `{fresh}`"
                    ));
                    if let Some(prev) = self.decls.get(&var.name) {
                        d = d.with_label(
                            prev.span,
                            format!("declared as a {} here", prev.kind.noun()),
                        );
                    }
                    self.error(d);
                    return Err(());
                }
                let mut ok = true;
                for s in body {
                    let declared = match s {
                        Stmt::Const { name, .. } => Some(("const", name)),
                        Stmt::Param { name, .. } => Some(("param", &name.ident)),
                        Stmt::Data { name, .. } => Some(("data", &name.ident)),
                        Stmt::Covariate { name, .. } => Some(("covariate", &name.ident)),
                        Stmt::Coords { name, .. } => Some(("coords", name)),
                        _ => None,
                    };
                    if let Some((kw, n)) = declared {
                        ok = false;
                        self.error(
                            Diagnostic::error(
                                "E0117",
                                format!("`{kw} {}` is inside a `for` loop", n.name),
                                n.span,
                                "would be declared once per iteration",
                            )
                            .with_help(match kw {
                                "param" | "data" | "covariate" => format!(
                                    "declare the whole vector before the loop, `{kw} {}[{}..{}] : ...`, and use `{}[{}]` inside",
                                    n.name, range.lo, range.hi, n.name, var.name
                                ),
                                _ => format!("move the `{kw}` above the loop"),
                            }),
                        );
                        if !self.decls.contains_key(&n.name) {
                            self.poisoned.insert(n.name.clone());
                        }
                    }
                }
                if !ok {
                    return Err(());
                }
                // A `let` in the body is local to one iteration.
                let local_lets: Vec<&str> = body
                    .iter()
                    .filter_map(|s| match s {
                        Stmt::Let { name, .. } => Some(name.name.as_str()),
                        _ => None,
                    })
                    .collect();
                for k in lo..=hi {
                    self.spend(body.len().max(1), var.span)?;
                    self.loops.push((var.name.clone(), k));
                    let before = self.diagnostics.len();
                    for s in body {
                        self.statement(s);
                    }
                    self.loops.pop();
                    for n in &local_lets {
                        if self.decls.get(*n).is_some_and(|d| d.kind == Kind::Let) {
                            self.decls.remove(*n);
                        }
                        self.lets.remove(*n);
                    }
                    if self.diagnostics[before..].iter().any(Diagnostic::is_error) {
                        // Report a body's errors once, not once per iteration.
                        break;
                    }
                }
            }
            Stmt::Coords {
                name,
                params,
                maps,
                span,
            } => self.coords_block(name, params, maps, *span)?,
        }
        Ok(())
    }

    fn decl_kind(&self, name: &str) -> Option<Kind> {
        let base = name.split('[').next().unwrap_or(name);
        self.decls.get(base).map(|d| d.kind)
    }

    fn sample(
        &mut self,
        target: &ast::Target,
        family: &ast::Ident,
        args: &[AstExpr],
        span: Span,
    ) -> Res<()> {
        let data_names = self.sample_target(target);
        let fam: &'static Family = match families::lookup(&family.name) {
            Some(f) => f,
            None => {
                let mut d = Diagnostic::error(
                    "E0106",
                    format!("unknown family `{}`", family.name),
                    family.span,
                    "not in the family library",
                );
                let alias = FAMILY_ALIASES
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(&family.name));
                d = match (alias, did_you_mean(&family.name, families::names())) {
                    (Some((_, real)), _) => d.with_help(format!(
                        "fimkit calls this family `{real}`: write `{} ~ {real}(...)`",
                        target.ident.name
                    )),
                    (None, Some(s)) => d.with_help(format!("did you mean `{s}`?")),
                    (None, None) => d.with_help(format!(
                        "available families: {}; or write the log-density with `logp += ...`",
                        families::names().collect::<Vec<_>>().join(", ")
                    )),
                };
                self.error(d);
                return Err(());
            }
        };
        if args.len() != fam.args.len() {
            let expected: Vec<&str> = fam.args.iter().map(|(n, _)| *n).collect();
            let signature = format!("{}({})", fam.name, expected.join(", "));
            let meaning = fam
                .description
                .split_once(": ")
                .map_or(fam.description, |(_, m)| m);
            self.error(
                Diagnostic::error(
                    "E0104",
                    format!(
                        "`{}` takes {} argument{}, but {} {} given",
                        fam.name,
                        fam.args.len(),
                        plural(fam.args.len()),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                    Span::new(family.span.start, span.end),
                    format!("expected {signature}"),
                )
                .with_help(format!("write `{signature}`: {meaning}")),
            );
            return Err(());
        }
        let mut lowered = Vec::new();
        let mut ok = true;
        for (a, (aname, kind)) in args.iter().zip(fam.args) {
            match self.family_arg(a, aname, *kind, fam) {
                Ok(v) => lowered.push(v),
                Err(()) => ok = false,
            }
        }
        let data_names = data_names?;
        if !ok {
            return Err(());
        }
        self.check_data_kind(fam, &data_names, &lowered, target)?;
        for n in &data_names {
            if let Some(prev) = self.sampled.get(&**n) {
                let d = Diagnostic::error("E0112", format!("`{n}` already has a distribution"), target.span, "second distribution for the same data")
                    .with_label(*prev, "first given here")
                    .with_help("each data variable appears on the left of `~` once; use another data variable for a second observation");
                self.error(d);
                return Err(());
            }
        }
        for n in &data_names {
            self.sampled.insert(n.to_string(), target.span);
        }
        let xs: Vec<Expr> = data_names.iter().map(|n| Expr::Var(n.clone())).collect();
        let logp = (fam.log_density)(&xs, &lowered);
        self.terms.push(Term {
            source: TermSource::Family {
                family: fam.name,
                data: data_names,
                args: lowered,
            },
            logp,
            span,
        });
        Ok(())
    }

    /// The data names on the left of `~`.
    fn sample_target(&mut self, target: &ast::Target) -> Res<Vec<Name>> {
        let name = &target.ident.name;
        if self.poisoned.contains(name) {
            return Err(());
        }
        let decl = match self.decls.get(name) {
            Some(d) => d.clone(),
            None => {
                if self.lets.contains_key(name) || self.loops.iter().any(|(n, _)| n == name) {
                    self.error(self.not_data(target, "a let binding or loop variable"));
                    return Err(());
                }
                self.error(self.unknown_name(
                    name,
                    target.ident.span,
                    "declare it with `data NAME : SUPPORT`",
                ));
                return Err(());
            }
        };
        if decl.kind != Kind::Data {
            let d = self.not_data(target, decl.kind.noun()).with_label(
                decl.span,
                format!("declared as a {} here", decl.kind.noun()),
            );
            self.error(d);
            return Err(());
        }
        match (&target.index, decl.range) {
            (None, None) => Ok(vec![Name::from(name.as_str())]),
            (None, Some((lo, hi))) => Ok((lo..=hi)
                .map(|i| Name::from(format!("{name}[{i}]").as_str()))
                .collect()),
            (Some(ix), Some(range)) => {
                let i = self.index_value(ix, name, range)?;
                Ok(vec![Name::from(format!("{name}[{i}]").as_str())])
            }
            (Some(ix), None) => {
                self.error(
                    Diagnostic::error(
                        "E0107",
                        format!("`{name}` is not indexed"),
                        ix.span,
                        "index on a scalar",
                    )
                    .with_help(format!(
                        "declare it as `data {name}[1..K] : ...` or drop the index"
                    )),
                );
                Err(())
            }
        }
    }

    fn not_data(&self, target: &ast::Target, what: &str) -> Diagnostic {
        Diagnostic::error(
            "E0109",
            format!("the left side of `~` must be data, but `{}` is a {what}", target.ident.name),
            target.span,
            "not a data variable",
        )
        .with_help("only data variables are drawn from a distribution; a parameter's prior is not part of the likelihood")
    }

    fn family_arg(&mut self, a: &AstExpr, aname: &str, kind: ArgKind, fam: &Family) -> Res<Arg> {
        let v = self.value(a, Ctx::General)?;
        match (kind.is_vector(), v) {
            (true, Value::Vector(xs)) => Ok(Arg::Vector(xs)),
            (false, Value::Scalar(e)) => {
                if kind == ArgKind::Count {
                    let folded = self.fold_consts(&e);
                    let ok = folded
                        .as_num()
                        .is_some_and(|r| r.is_integer() && r.is_positive());
                    if !ok {
                        self.error(
                            Diagnostic::error(
                                "E0121",
                                format!(
                                    "`{aname}` of {} must be a positive integer constant",
                                    fam.name
                                ),
                                a.span,
                                "not a known positive integer",
                            )
                            .with_help(format!("`{aname}` must be known in advance: write a positive integer, or declare `const {aname} = 10` and use that")),
                        );
                        return Err(());
                    }
                }
                self.check_arg_domain(&e, aname, kind, fam, a.span);
                Ok(Arg::Scalar(e))
            }
            (true, Value::Scalar(_)) => {
                self.error(
                    Diagnostic::error("E0116", format!("`{aname}` of {} must be a vector", fam.name), a.span, "a scalar")
                        .with_help("pass an indexed name such as `a` (declared `param a[1..K]`) or a list `[p1, p2, 1 - p1 - p2]`"),
                );
                Err(())
            }
            (false, Value::Vector(xs)) => {
                let help = match &a.kind {
                    ExprKind::Name(n) => {
                        let (lo, hi) = self
                            .decls
                            .get(n)
                            .and_then(|d| d.range)
                            .unwrap_or((1, xs.len() as i64));
                        format!(
                            "`{n}` has {} components: pick one, as in `{n}[k]` inside `for k in {lo}..{hi} {{ ... }}`",
                            xs.len()
                        )
                    }
                    _ => "pick one component with an index, as in `a[k]`".to_string(),
                };
                self.error(
                    Diagnostic::error(
                        "E0116",
                        format!("`{aname}` of {} must be a scalar", fam.name),
                        a.span,
                        format!("a vector of {} components", xs.len()),
                    )
                    .with_help(help),
                );
                Err(())
            }
        }
    }

    /// Warn when a bare parameter's declared domain does not fit the argument.
    fn check_arg_domain(&mut self, e: &Expr, aname: &str, kind: ArgKind, fam: &Family, span: Span) {
        let Expr::Var(v) = e else { return };
        let Some(p) = self.params.iter().find(|p| p.name == *v) else {
            return;
        };
        let fits = match kind {
            ArgKind::Positive => p.domain.is_positive(),
            ArgKind::Unit => {
                p.domain.is_positive()
                    && p.domain
                        .hi
                        .as_ref()
                        .and_then(Expr::as_num)
                        .is_some_and(|h| *h <= Rational::from_integer(1.into()))
            }
            _ => true,
        };
        if !fits {
            let d = Diagnostic::warning(
                "W0204",
                format!(
                    "`{v}` is declared {} but `{aname}` of {} must be {}",
                    p.domain.label,
                    fam.name,
                    kind.describe()
                ),
                span,
                format!("may leave the domain of {}", fam.name),
            )
            .with_label(p.span, "declared here")
            .with_help(match kind {
                ArgKind::Positive => format!("declare `param {v} : positive`, or pass exp({v})"),
                _ => format!("declare `param {v} : unit`, or pass sigmoid({v})"),
            });
            self.error(d);
        }
    }

    fn check_data_kind(
        &mut self,
        fam: &Family,
        data: &[Name],
        args: &[Arg],
        target: &ast::Target,
    ) -> Res<()> {
        let vector_len = args.iter().find_map(|a| match a {
            Arg::Vector(v) => Some(v.len()),
            Arg::Scalar(_) => None,
        });
        if fam.data.is_vector() {
            let len = vector_len.unwrap_or(0);
            if data.len() != len || (data.len() == 1 && target.index.is_some()) {
                self.error(
                    Diagnostic::error(
                        "E0116",
                        format!(
                            "{} needs data with {len} components, but `{}` has {}",
                            fam.name,
                            target.ident.name,
                            data.len()
                        ),
                        target.span,
                        "dimension mismatch",
                    )
                    .with_help(format!(
                        "declare `data {}[1..{len}] : simplex` and write `{} ~ {}(...)`",
                        target.ident.name, target.ident.name, fam.name
                    )),
                );
                return Err(());
            }
        } else if data.len() != 1 {
            self.error(
                Diagnostic::error(
                    "E0116",
                    format!(
                        "{} generates one value, but `{}` is a vector",
                        fam.name, target.ident.name
                    ),
                    target.span,
                    "a vector",
                )
                .with_help(format!(
                    "index it inside a loop: `for k in 1..K {{ {}[k] ~ {}(...) }}`",
                    target.ident.name, fam.name
                )),
            );
            return Err(());
        }
        let var = self.data.iter().find(|d| d.name == data[0]).cloned();
        let Some(var) = var else { return Ok(()) };
        let sup = &var.support;
        let cont = |lo: &Option<Expr>, hi: &Option<Expr>| (numeric_opt(lo), numeric_opt(hi));
        let fits = match fam.data {
            DataKind::Real | DataKind::RealVector => !sup.is_discrete(),
            DataKind::Positive => {
                matches!(sup, Support::Continuous { lo, hi } if cont(lo, hi).0.is_some_and(|l| l >= 0.0))
            }
            DataKind::Unit => {
                matches!(sup, Support::Continuous { lo, hi } if {
                    let (l, h) = cont(lo, hi);
                    l.is_some_and(|l| l >= 0.0) && h.is_some_and(|h| h <= 1.0)
                }) || matches!(sup, Support::Simplex { .. })
            }
            DataKind::Binary => sup.is_binary(),
            DataKind::Count | DataKind::BoundedCount | DataKind::CountVector => {
                sup.is_nonnegative_integer()
            }
            DataKind::Category => {
                matches!(sup, Support::Integers { lo, hi: Some(_) } if lo.as_int() == Some(1))
                    || matches!(sup, Support::Set(vs) if vs.iter().all(|v| v.is_integer() && v.is_positive()))
            }
            DataKind::Simplex => matches!(sup, Support::Simplex { .. }),
        };
        if !fits {
            let suggestion = match fam.data {
                DataKind::Real | DataKind::RealVector => "real".to_string(),
                DataKind::Positive => "positive".to_string(),
                DataKind::Unit => "unit".to_string(),
                DataKind::Binary => "{0, 1}".to_string(),
                DataKind::Count => "count".to_string(),
                DataKind::BoundedCount => match args.first() {
                    Some(Arg::Scalar(n)) => format!("0..{n}"),
                    _ => "0..n".to_string(),
                },
                DataKind::Category => format!("1..{}", vector_len.unwrap_or(1)),
                DataKind::Simplex => "simplex".to_string(),
                DataKind::CountVector => "count".to_string(),
            };
            let d = Diagnostic::error(
                "E0115",
                format!(
                    "{} needs {}, but `{}` is declared {}",
                    fam.name,
                    fam.data.describe(),
                    target.ident.name,
                    sup.label()
                ),
                target.span,
                format!("`{}` has the wrong support", target.ident.name),
            )
            .with_label(var.span, "declared here")
            .with_help(format!(
                "declare `data {} : {suggestion}`",
                target.ident.name
            ));
            self.error(d);
            return Err(());
        }
        Ok(())
    }

    fn coords_block(
        &mut self,
        name: &ast::Ident,
        params: &[(ast::DeclName, ast::Domain, Span)],
        maps: &[(ast::Target, AstExpr, Span)],
        span: Span,
    ) -> Res<()> {
        self.coord_scope.clear();
        let mut new_params = Vec::new();
        let mut ok = true;
        for (dn, dom, pspan) in params {
            let Ok(dom) = self.domain(dom, Ctx::Constant) else {
                ok = false;
                continue;
            };
            if self.decls.contains_key(&dn.ident.name)
                || self.coord_scope.contains_key(&dn.ident.name)
            {
                let prev = self
                    .decls
                    .get(&dn.ident.name)
                    .or(self.coord_scope.get(&dn.ident.name))
                    .map(|d| d.span)
                    .unwrap_or_default();
                self.error(
                    Diagnostic::error(
                        "E0102",
                        format!("`{}` is declared twice", dn.ident.name),
                        dn.ident.span,
                        "declared again here",
                    )
                    .with_label(prev, "first declared here")
                    .with_help("new coordinates need names of their own"),
                );
                ok = false;
                continue;
            }
            let range = match &dn.range {
                Some(r) => match self.int_range(r) {
                    Ok(r) => Some(r),
                    Err(()) => {
                        ok = false;
                        continue;
                    }
                },
                None => None,
            };
            self.coord_scope.insert(
                dn.ident.name.clone(),
                Decl {
                    kind: Kind::CoordParam,
                    span: dn.ident.span,
                    range,
                },
            );
            match range {
                None => new_params.push(Param {
                    name: Name::from(dn.ident.name.as_str()),
                    domain: dom,
                    span: *pspan,
                }),
                Some((lo, hi)) => {
                    for i in lo..=hi {
                        new_params.push(Param {
                            name: Name::from(format!("{}[{i}]", dn.ident.name).as_str()),
                            domain: dom.clone(),
                            span: *pspan,
                        });
                    }
                }
            }
        }
        let mut map: HashMap<Name, (Expr, Span)> = HashMap::new();
        for (target, e, mspan) in maps {
            let lhs = match self.decls.get(&target.ident.name).cloned() {
                _ if self.poisoned.contains(&target.ident.name) => None,
                Some(d) if d.kind == Kind::Param => match (&target.index, d.range) {
                    (None, None) => Some(Name::from(target.ident.name.as_str())),
                    (Some(ix), Some(range)) => self
                        .index_value(ix, &target.ident.name, range)
                        .ok()
                        .map(|i| Name::from(format!("{}[{i}]", target.ident.name).as_str())),
                    _ => {
                        self.error(
                            Diagnostic::error("E0107", format!("`{}` needs {} index here", target.ident.name, if d.range.is_some() { "an" } else { "no" }), target.span, "index mismatch")
                                .with_help("map each element of an indexed parameter separately: a[1] = ..., a[2] = ..."),
                        );
                        None
                    }
                },
                Some(d) => {
                    self.error(
                        Diagnostic::error("E0111", format!("`{}` is a {}, not a parameter", target.ident.name, d.kind.noun()), target.span, "only parameters can be mapped")
                            .with_label(d.span, "declared here")
                            .with_help("a coordinates block gives the model's parameters as functions of the new ones"),
                    );
                    None
                }
                None => {
                    self.error(self.unknown_name(
                        &target.ident.name,
                        target.ident.span,
                        "the left side must be a model parameter",
                    ));
                    None
                }
            };
            let rhs = self.scalar(e, Ctx::Coords);
            match (lhs, rhs) {
                (Some(l), Ok(r)) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = map.entry(l.clone()) {
                        slot.insert((r, *mspan));
                    } else {
                        self.error(
                            Diagnostic::error(
                                "E0102",
                                format!("`{l}` is mapped twice"),
                                *mspan,
                                "second mapping",
                            )
                            .with_help("give each parameter once"),
                        );
                        ok = false;
                    }
                }
                _ => ok = false,
            }
        }
        let missing: Vec<String> = self
            .params
            .iter()
            .filter(|p| !map.contains_key(&p.name))
            .map(|p| p.name.to_string())
            .collect();
        if ok && !missing.is_empty() {
            self.error(
                Diagnostic::error(
                    "E0122",
                    format!(
                        "coordinates `{}` do not give {}",
                        name.name,
                        missing.join(", ")
                    ),
                    name.span,
                    "incomplete coordinates",
                )
                .with_help(format!(
                    "add a line `{} = ...` in terms of the new parameters",
                    missing[0]
                )),
            );
            ok = false;
        }
        if new_params.is_empty() && ok {
            self.error(
                Diagnostic::error(
                    "E0122",
                    format!("coordinates `{}` declare no parameters", name.name),
                    name.span,
                    "no new parameters",
                )
                .with_help(
                    "declare the new coordinates inside the block with `param NAME : DOMAIN`",
                ),
            );
            ok = false;
        }
        let unused: Vec<&Param> = new_params
            .iter()
            .filter(|p| !map.values().any(|(e, _)| e.contains_var(&p.name)))
            .collect();
        if ok && let Some(p) = unused.first() {
            let d = Diagnostic::warning("W0202", format!("coordinate `{}` is never used", p.name), p.span, "unused").with_help("every new coordinate should appear in the maps; otherwise its Fisher information is zero");
            self.error(d);
        }
        self.coord_scope.clear();
        if !ok {
            return Err(());
        }
        let ordered = self
            .params
            .iter()
            .map(|p| (p.name.clone(), map[&p.name].0.clone()))
            .collect();
        self.coords.push(Coords {
            name: name.name.clone(),
            params: new_params,
            map: ordered,
            span,
        });
        Ok(())
    }

    // ------------------------------------------------------------ expressions

    fn scalar(&mut self, e: &AstExpr, ctx: Ctx) -> Res<Expr> {
        match self.value(e, ctx)? {
            Value::Scalar(x) => Ok(x),
            Value::Vector(_) => {
                self.error(
                    Diagnostic::error(
                        "E0116",
                        "a vector is used where a number is expected",
                        e.span,
                        "this is a vector",
                    )
                    .with_help("index it (`a[k]`) or reduce it (`sum(k in 1..K, a[k])`)"),
                );
                Err(())
            }
        }
    }

    fn unknown_name(&self, name: &str, span: Span, fallback_help: &str) -> Diagnostic {
        if let Some(later) = self.all_declared.get(name)
            && later.start > span.start
        {
            return Diagnostic::error(
                "E0101",
                format!("`{name}` is used before it is declared"),
                span,
                "used here",
            )
            .with_label(*later, "declared later here")
            .with_help("move the declaration above its first use");
        }
        let mut candidates: Vec<&str> = self.decls.keys().map(String::as_str).collect();
        candidates.extend(self.lets.keys().map(String::as_str));
        candidates.extend(self.coord_scope.keys().map(String::as_str));
        candidates.extend(self.loops.iter().map(|(n, _)| n.as_str()));
        candidates.extend(BUILTIN_CONSTANTS);
        candidates.sort();
        let d = Diagnostic::error(
            "E0101",
            format!("unknown name `{name}`"),
            span,
            "not declared",
        );
        match did_you_mean(name, candidates) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(fallback_help.to_string()),
        }
    }

    fn name(&mut self, n: &str, span: Span, ctx: Ctx) -> Res<Value> {
        if let Some((_, k)) = self.loops.iter().rev().find(|(l, _)| l == n) {
            return Ok(Value::Scalar(Expr::int(*k)));
        }
        if ctx == Ctx::Coords
            && let Some(d) = self.coord_scope.get(n).cloned()
        {
            return Ok(self.var_value(n, &d));
        }
        if self.poisoned.contains(n) {
            return Err(());
        }
        if let Some(v) = self.lets.get(n) {
            if matches!(ctx, Ctx::Constant | Ctx::Coords) {
                self.error(
                    Diagnostic::error(
                        "E0110",
                        format!("`{n}` is a let binding and cannot be used here"),
                        span,
                        "not a constant",
                    )
                    .with_help(if ctx == Ctx::Coords {
                        "the right side of a coordinate map may use only the block's new parameters and constants".to_string()
                    } else {
                        match v {
                            Value::Scalar(Expr::Num(r)) => {
                                format!("a let is not a constant: declare `const {n} = {r}` instead")
                            }
                            _ => format!("a let is not a constant: for a fixed number use `const {n} = ...`"),
                        }
                    }),
                );
                return Err(());
            }
            let v = v.clone();
            self.spend_inlined(&v, n, span)?;
            return Ok(v);
        }
        match n {
            "pi" => return Ok(Value::Scalar(Expr::Const(Constant::Pi))),
            "e" => return Ok(Value::Scalar(Expr::Const(Constant::E))),
            "eulergamma" => return Ok(Value::Scalar(Expr::Const(Constant::EulerGamma))),
            "inf" => {
                self.error(
                    Diagnostic::error(
                        "E0108",
                        "`inf` is only allowed as an interval end",
                        span,
                        "infinity here",
                    )
                    .with_help("write (lo, inf) or (-inf, hi) in a domain or support"),
                );
                return Err(());
            }
            _ => {}
        }
        let Some(d) = self.decls.get(n).cloned() else {
            self.error(self.unknown_name(
                n,
                span,
                "declare it with param, data, covariate, const or let",
            ));
            return Err(());
        };
        let allowed = match (ctx, d.kind) {
            (_, Kind::Const) => true,
            (Ctx::Constant, _) => false,
            (Ctx::SupportBound, Kind::Data | Kind::Param) => true,
            (Ctx::SupportBound, _) => false,
            (Ctx::General, _) => true,
            (Ctx::Coords, _) => false,
        };
        if !allowed {
            let (code, what) = match (ctx, d.kind) {
                (Ctx::Coords, Kind::Data | Kind::Covariate) => (
                    "E0110",
                    format!("the {} `{n}` is used in a coordinate map", d.kind.noun()),
                ),
                (Ctx::Coords, _) => (
                    "E0110",
                    format!(
                        "`{n}` is a model {}, not one of the new coordinates",
                        d.kind.noun()
                    ),
                ),
                (Ctx::Constant, Kind::Data | Kind::Covariate) => (
                    "E0110",
                    format!(
                        "the {} `{n}` is used where a constant is needed",
                        d.kind.noun()
                    ),
                ),
                _ => (
                    "E0110",
                    format!(
                        "the {} `{n}` is used where a constant is needed",
                        d.kind.noun()
                    ),
                ),
            };
            let help = match ctx {
                Ctx::Coords => {
                    "the right side of a coordinate map may use only the block's new parameters and constants"
                }
                _ => {
                    "only numbers, `const` names and loop variables are allowed here (sizes, indices, bounds of a parameter's domain)"
                }
            };
            self.error(
                Diagnostic::error(code, what, span, "not allowed here")
                    .with_label(d.span, format!("declared as a {} here", d.kind.noun()))
                    .with_help(help),
            );
            return Err(());
        }
        Ok(self.var_value(n, &d))
    }

    fn var_value(&self, n: &str, d: &Decl) -> Value {
        match d.range {
            None => Value::Scalar(Expr::var(n)),
            Some((lo, hi)) => {
                Value::Vector((lo..=hi).map(|i| Expr::var(&format!("{n}[{i}]"))).collect())
            }
        }
    }

    fn index_value(&mut self, ix: &AstExpr, name: &str, (lo, hi): (i64, i64)) -> Res<i64> {
        let i = self.const_int(ix, "an index")?;
        if i < lo || i > hi {
            self.error(
                Diagnostic::error(
                    "E0108",
                    format!("index {i} is out of range for `{name}`"),
                    ix.span,
                    format!("`{name}` is indexed {lo}..{hi}"),
                )
                .with_help(format!("use an index between {lo} and {hi}")),
            );
            return Err(());
        }
        Ok(i)
    }

    fn value(&mut self, e: &AstExpr, ctx: Ctx) -> Res<Value> {
        match &e.kind {
            ExprKind::Number(r) => {
                self.check_constant_bits(rational_bits(r), e.span)?;
                Ok(Value::Scalar(Expr::Num(r.clone())))
            }
            ExprKind::Name(n) => self.name(n, e.span, ctx),
            ExprKind::Index(id, ix) => {
                if self.poisoned.contains(&id.name) && !self.coord_scope.contains_key(&id.name) {
                    return Err(());
                }
                let decl = if ctx == Ctx::Coords {
                    self.coord_scope.get(&id.name).cloned()
                } else {
                    None
                }
                .or_else(|| self.decls.get(&id.name).cloned());
                let let_vec = self.lets.get(&id.name).cloned();
                if let (None, Some(Value::Vector(xs))) = (&decl, &let_vec) {
                    let i = self.index_value(ix, &id.name, (1, xs.len() as i64))?;
                    return Ok(Value::Scalar(xs[(i - 1) as usize].clone()));
                }
                let Some(d) = decl else {
                    self.error(self.unknown_name(
                        &id.name,
                        id.span,
                        "declare it with an index range, e.g. `param a[1..K] : real`",
                    ));
                    return Err(());
                };
                let Some(range) = d.range else {
                    self.error(
                        Diagnostic::error(
                            "E0107",
                            format!("`{}` is not indexed", id.name),
                            ix.span,
                            "index on a scalar",
                        )
                        .with_label(d.span, "declared without an index range")
                        .with_help(format!(
                            "declare it as `{}[1..K]` or drop the index",
                            id.name
                        )),
                    );
                    return Err(());
                };
                let i = self.index_value(ix, &id.name, range)?;
                // Re-check the kind is allowed in this context via the base name.
                self.name(&id.name, id.span, ctx)?;
                Ok(Value::Scalar(Expr::var(&format!("{}[{i}]", id.name))))
            }
            ExprKind::Neg(a) => Ok(Value::Scalar(Expr::neg(self.scalar(a, ctx)?))),
            ExprKind::Binary(op, a, b) => {
                let x = self.scalar(a, ctx);
                let y = self.scalar(b, ctx);
                let (x, y) = (x?, y?);
                let folded = (self.constant_value(&x), self.constant_value(&y));
                if let (Some(bx), Some(ey)) = &folded {
                    let bits = match op {
                        BinOp::Pow => power_bits(bx, ey),
                        _ => rational_bits(bx).saturating_add(rational_bits(ey)),
                    };
                    self.check_constant_bits(bits, e.span)?;
                }
                Ok(Value::Scalar(match op {
                    BinOp::Add => Expr::add2(x, y),
                    BinOp::Sub => Expr::sub(x, y),
                    BinOp::Mul => Expr::mul2(x, y),
                    BinOp::Div => {
                        if folded.1.as_ref().is_some_and(|r| r.is_zero()) {
                            self.error(
                                Diagnostic::error(
                                    "E0124",
                                    "division by zero",
                                    b.span,
                                    "this is zero",
                                )
                                .with_help("the denominator is zero once constants are substituted; check the constants it uses"),
                            );
                            return Err(());
                        }
                        Expr::div(x, y)
                    }
                    BinOp::Pow => Expr::pow(x, y),
                }))
            }
            ExprKind::Chain(first, rest) => self.chain(first, rest, ctx, e.span),
            ExprKind::Vector(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for it in items {
                    match self.scalar(it, ctx) {
                        Ok(x) => out.push(x),
                        Err(()) => ok = false,
                    }
                }
                if !ok {
                    return Err(());
                }
                // Families such as dirichlet add the components up.
                self.check_coefficient_growth(out.iter().map(|t| (t, e.span)), false)?;
                Ok(Value::Vector(out))
            }
            ExprKind::Reduce(op, var, range, body) => {
                let (lo, hi) = self.int_range(range)?;
                if self.decls.contains_key(&var.name) || self.lets.contains_key(&var.name) {
                    let fresh = self.fresh_index_name();
                    let mut d = Diagnostic::error(
                        "E0102",
                        format!("index `{}` shadows a declared name", var.name),
                        var.span,
                        "already declared",
                    )
                    .with_help(format!("use a fresh index name, such as `{fresh}`"));
                    if let Some(prev) = self.decls.get(&var.name) {
                        d = d.with_label(
                            prev.span,
                            format!("declared as a {} here", prev.kind.noun()),
                        );
                    }
                    self.error(d);
                    return Err(());
                }
                self.spend((hi - lo + 1) as usize, var.span)?;
                let mut terms = Vec::new();
                for k in lo..=hi {
                    self.loops.push((var.name.clone(), k));
                    let t = self.scalar(body, ctx);
                    self.loops.pop();
                    terms.push(t?);
                }
                let product = *op == Reduce::Prod;
                self.check_coefficient_growth(terms.iter().map(|t| (t, e.span)), product)?;
                Ok(Value::Scalar(if product {
                    Expr::mul(terms)
                } else {
                    Expr::add(terms)
                }))
            }
            ExprKind::Call(f, args) => self.call(f, args, ctx, e.span),
        }
    }

    /// `a + b - c ...` or `a * b / c ...`, flat: one canonical sum or
    /// product of all the terms (no quadratic rebuilding for a sum of
    /// thousands of terms), with the same checks as one binary operation
    /// at a time: the size of exact constants folded left to right, and
    /// division by zero.
    fn chain(
        &mut self,
        first: &AstExpr,
        rest: &[(BinOp, AstExpr)],
        ctx: Ctx,
        span: Span,
    ) -> Res<Value> {
        let sum = rest
            .first()
            .is_none_or(|(op, _)| matches!(op, BinOp::Add | BinOp::Sub));
        let mut ok = true;
        let mut items = Vec::with_capacity(rest.len() + 1);
        let head = self.scalar(first, ctx);
        // The exact value of the chain so far, while it is a constant.
        let mut folded = match &head {
            Ok(x) => self.constant_value(x),
            Err(()) => None,
        };
        match head {
            Ok(x) => items.push(x),
            Err(()) => ok = false,
        }
        for (op, b) in rest {
            let Ok(y) = self.scalar(b, ctx) else {
                ok = false;
                folded = None;
                continue;
            };
            let ey = self.constant_value(&y);
            if *op == BinOp::Div && ey.as_ref().is_some_and(|r| r.is_zero()) {
                self.error(
                    Diagnostic::error("E0124", "division by zero", b.span, "this is zero")
                        .with_help("the denominator is zero once constants are substituted; check the constants it uses"),
                );
                ok = false;
                folded = None;
                continue;
            }
            folded = match (folded, ey) {
                (Some(bx), Some(ey)) if ok => {
                    let bits = rational_bits(&bx).saturating_add(rational_bits(&ey));
                    if self.check_constant_bits(bits, span).is_err() {
                        return Err(());
                    }
                    Some(match op {
                        BinOp::Add => bx + ey,
                        BinOp::Sub => bx - ey,
                        BinOp::Mul => bx * ey,
                        _ => bx / ey,
                    })
                }
                _ => None,
            };
            items.push(match op {
                BinOp::Sub => Expr::neg(y),
                BinOp::Div => Expr::recip(y),
                _ => y,
            });
        }
        if !ok {
            return Err(());
        }
        self.check_coefficient_growth(items.iter().map(|t| (t, span)), !sum)?;
        Ok(Value::Scalar(if sum {
            Expr::add(items)
        } else {
            Expr::mul(items)
        }))
    }

    fn call(&mut self, f: &ast::Ident, args: &[AstExpr], ctx: Ctx, span: Span) -> Res<Value> {
        let Some(&(_, arity, signature)) = FUNCTIONS.iter().find(|(n, _, _)| *n == f.name) else {
            let is_family = families::lookup(&f.name).is_some();
            let alias = FUNCTION_ALIASES
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(&f.name));
            let mut d = Diagnostic::error(
                "E0105",
                format!("unknown function `{}`", f.name),
                f.span,
                "not a function of the language",
            );
            d = if is_family {
                let also = match f.name.as_str() {
                    "gamma" => "; for the gamma function use lgamma(x)",
                    "beta" => "; for the beta function use lbeta(a, b)",
                    _ => "",
                };
                d.with_help(format!(
                    "`{}` is a distribution: write `x ~ {}(...)` as a statement{also}",
                    f.name, f.name
                ))
            } else if let Some((_, real)) = alias {
                d.with_help(format!("the language calls this function `{real}`"))
            } else if f.name == "pow" {
                d.with_help("powers are written with `^`: pow(a, b) is a^b")
            } else if let Some(s) = did_you_mean(&f.name, FUNCTIONS.iter().map(|(n, _, _)| *n)) {
                d.with_help(format!("did you mean `{s}`?"))
            } else {
                d.with_help(format!(
                    "available functions: {}",
                    FUNCTIONS
                        .iter()
                        .map(|(n, _, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            };
            self.error(d);
            return Err(());
        };
        if args.len() != arity {
            self.error(
                Diagnostic::error(
                    "E0103",
                    format!(
                        "`{}` takes {arity} argument{}, but {} {} given",
                        f.name,
                        plural(arity),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                    span,
                    "wrong number of arguments",
                )
                .with_help(match f.name.as_str() {
                    "log" => "log is the natural logarithm of one argument; for base b write log(x)/log(b)".to_string(),
                    _ => format!("write {signature}"),
                }),
            );
            return Err(());
        }
        let mut xs = Vec::new();
        let mut ok = true;
        for a in args {
            match self.scalar(a, ctx) {
                Ok(x) => xs.push(x),
                Err(()) => ok = false,
            }
        }
        if !ok {
            return Err(());
        }
        let order_ok = |me: &mut Self, i: usize, what: &str, nonneg_int: bool| -> Res<()> {
            let folded = me.fold_consts(&xs[i]);
            let fine = folded.as_num().is_some_and(|r| {
                !nonneg_int
                    || (r.is_integer()
                        && !r.is_negative()
                        && *r <= Rational::from_integer(100.into()))
            });
            if !fine {
                me.error(
                    Diagnostic::error(
                        "E0119",
                        format!(
                            "the {what} of `{}` must be a constant{}",
                            f.name,
                            if nonneg_int { " integer in 0..100" } else { "" }
                        ),
                        args[i].span,
                        "not a constant",
                    )
                    .with_help(format!("write {}(n, x) with n a number or const", f.name)),
                );
                return Err(());
            }
            Ok(())
        };
        let one = |x: &Expr| x.clone();
        let c = |func: Func, xs: Vec<Expr>| Expr::call(func, xs);
        Ok(Value::Scalar(match f.name.as_str() {
            "log" => Expr::log(one(&xs[0])),
            "exp" => Expr::exp(one(&xs[0])),
            "sqrt" => Expr::sqrt(one(&xs[0])),
            "log1p" => c(Func::Log1p, xs),
            "expm1" => c(Func::Expm1, xs),
            "sigmoid" => c(Func::Sigmoid, xs),
            "logit" => Expr::sub(
                Expr::log(xs[0].clone()),
                Expr::log(Expr::sub(Expr::one(), xs[0].clone())),
            ),
            "lgamma" => Expr::lgamma(one(&xs[0])),
            "digamma" => Expr::polygamma(0, one(&xs[0])),
            "trigamma" => Expr::polygamma(1, one(&xs[0])),
            "polygamma" => {
                order_ok(self, 0, "order", true)?;
                c(Func::Polygamma, xs)
            }
            "lbeta" => c(Func::Lbeta, xs),
            "lchoose" => {
                let (n, k) = (xs[0].clone(), xs[1].clone());
                Expr::add(vec![
                    Expr::lgamma(Expr::add2(n.clone(), Expr::one())),
                    Expr::neg(Expr::lgamma(Expr::add2(k.clone(), Expr::one()))),
                    Expr::neg(Expr::lgamma(Expr::add(vec![n, Expr::neg(k), Expr::one()]))),
                ])
            }
            "lfactorial" => Expr::lgamma(Expr::add2(xs[0].clone(), Expr::one())),
            "erf" => c(Func::Erf, xs),
            "erfc" => c(Func::Erfc, xs),
            "Phi" => c(Func::NormalCdf, xs),
            "sin" => c(Func::Sin, xs),
            "cos" => c(Func::Cos, xs),
            "besseli" => {
                order_ok(self, 0, "order", false)?;
                c(Func::BesselI, xs)
            }
            "abs" => c(Func::Abs, xs),
            "indicator" => c(Func::Indicator, xs),
            other => unreachable!("function table lists {other}"),
        }))
    }

    // ----------------------------------------------------------------- finish

    fn finish(mut self, name: String, file: &ast::File) -> Resolved {
        let has_errors =
            self.after_syntax_errors || self.diagnostics.iter().any(Diagnostic::is_error);
        if self.terms.is_empty() && !has_errors {
            let span = file.header.as_ref().map_or(Span::new(0, 0), |h| h.span);
            self.error(
                Diagnostic::error(
                    "E0113",
                    "the model has no log-density",
                    span,
                    "no `~` or `logp +=` statement in this model",
                )
                .with_help("add `x ~ family(...)` for each data variable, or `logp += ...`"),
            );
        }
        let terms = std::mem::take(&mut self.terms);
        let combined =
            self.check_coefficient_growth(terms.iter().map(|t| (&t.logp, t.span)), false);
        self.terms = terms;
        let has_errors = has_errors || combined.is_err();
        let logp = if combined.is_ok() {
            Expr::add(self.terms.iter().map(|t| t.logp.clone()).collect())
        } else {
            Expr::zero()
        };
        // After an error some terms were dropped, so "never used" would be
        // a guess: warn about unused names only in models without errors.
        if !self.terms.is_empty() && !has_errors {
            let used: BTreeSet<Name> = logp.free_vars().into_iter().collect();
            let mut reported_groups = BTreeSet::new();
            for p in &self.params {
                let group = p.name.split('[').next().unwrap_or(&p.name).to_string();
                if !used.contains(&p.name) && reported_groups.insert(group) {
                    let d = Diagnostic::warning("W0202", format!("parameter `{}` is never used by the log-density", p.name), p.span, "unused parameter")
                        .with_help("its Fisher information is zero and the FIM is singular; remove it or use it");
                    self.diagnostics.push(d);
                }
            }
            let mut reported_groups = BTreeSet::new();
            for d in &self.data {
                let group = d.name.split('[').next().unwrap_or(&d.name).to_string();
                let used_as_bound = self
                    .data
                    .iter()
                    .any(|o| o.support.bound_vars().contains(&d.name));
                // Its support moves with a parameter (already warned about).
                let bounded_by_param = d
                    .support
                    .bound_vars()
                    .iter()
                    .any(|v| self.params.iter().any(|p| p.name == *v));
                if !used.contains(&d.name)
                    && !used_as_bound
                    && !bounded_by_param
                    && reported_groups.insert(group)
                {
                    let w = Diagnostic::warning(
                        "W0203",
                        format!(
                            "data variable `{}` is never used by the log-density",
                            d.name
                        ),
                        d.span,
                        "unused data",
                    )
                    .with_help(format!(
                        "give it a distribution with `{} ~ family(...)` or remove it",
                        d.name
                    ));
                    self.diagnostics.push(w);
                }
            }
        }
        self.diagnostics
            .sort_by_key(|d| (d.span().start, d.severity));
        let model = if self.diagnostics.iter().any(Diagnostic::is_error) {
            None
        } else {
            Some(Model {
                name,
                consts: self.model_consts,
                params: self.params,
                data: self.data,
                covariates: self.covariates,
                terms: self.terms,
                logp,
                coords: self.coords,
            })
        };
        Resolved {
            model,
            diagnostics: self.diagnostics,
        }
    }
}

/// Deepest nesting of a lowered formula (after `let` bindings are inlined).
/// Later stages recurse over formulas, so their depth stays bounded.
const MAX_EXPR_DEPTH: usize = 1000;

/// Depth of a formula whose parts are already bounded by [`MAX_EXPR_DEPTH`].
fn expr_depth(e: &Expr) -> usize {
    match e {
        Expr::Num(_) | Expr::Const(_) | Expr::Var(_) => 1,
        Expr::Add(xs) | Expr::Mul(xs) | Expr::Call(_, xs) => {
            1 + xs.iter().map(expr_depth).max().unwrap_or(0)
        }
        Expr::Pow(b, x) => 1 + expr_depth(b).max(expr_depth(x)),
    }
}

/// Size of the exact power `b^e` (bits of the numerator plus the
/// denominator, as [`rational_bits`] counts them), from logarithms: 2^131000
/// has 131,001 bits. 0 for a base 0 or ±1.
fn power_bits(b: &Rational, e: &Rational) -> u64 {
    if b.is_zero() || b.abs().is_one() {
        return 0;
    }
    fn log2(x: &num_bigint::BigInt) -> f64 {
        let bits = x.bits();
        let shift = bits.saturating_sub(64);
        let top = (x.magnitude() >> shift).to_f64().unwrap_or(f64::MAX);
        top.log2() + shift as f64
    }
    let e = e.to_f64().unwrap_or(f64::INFINITY).abs();
    let part = |x: &num_bigint::BigInt| {
        let v = (e * log2(x)).floor();
        if v.is_finite() && v < 1e18 {
            v as u64 + 1
        } else {
            u64::MAX / 4
        }
    };
    (part(b.numer()) + part(b.denom())).saturating_sub(1)
}

/// Size of an exact rational: bits of the numerator plus the denominator.
fn rational_bits(r: &Rational) -> u64 {
    r.numer().bits() + r.denom().bits() - 1
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Value of a closed constant expression (numbers and π, e), if it has one.
pub fn numeric_value(e: &Expr) -> Option<f64> {
    match e {
        Expr::Num(r) => r.to_f64(),
        Expr::Const(c) => Some(c.value()),
        Expr::Add(xs) => xs.iter().map(numeric_value).sum(),
        Expr::Mul(xs) => xs.iter().map(numeric_value).product(),
        Expr::Pow(b, x) => Some(numeric_value(b)?.powf(numeric_value(x)?)),
        Expr::Call(Func::Log, a) => Some(numeric_value(&a[0])?.ln()),
        Expr::Call(Func::Exp, a) => Some(numeric_value(&a[0])?.exp()),
        _ => None,
    }
}

fn numeric_opt(e: &Option<Expr>) -> Option<f64> {
    e.as_ref().and_then(numeric_value)
}
