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

mod coords;
mod decls;
mod limits;
mod lower;
mod names;
mod tilde;

use limits::{MAX_EXPR_DEPTH, expr_depth, power_bits, rational_bits};
use names::plural;

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
    /// Top-level scalar lets, for [`Model::lets`].
    model_lets: Vec<LetDecl>,
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
            model_lets: Vec::new(),
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
            self.warn_unused_params(&used);
            self.warn_unused_data(&used);
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
                lets: self.model_lets,
            })
        };
        Resolved {
            model,
            diagnostics: self.diagnostics,
        }
    }

    /// A parameter the log-density never uses (once per vector).
    fn warn_unused_params(&mut self, used: &BTreeSet<Name>) {
        let mut reported_groups = BTreeSet::new();
        for p in &self.params {
            let group = p.name.split('[').next().unwrap_or(&p.name).to_string();
            if !used.contains(&p.name) && reported_groups.insert(group) {
                let d = Diagnostic::warning(
                    "W0202",
                    format!("parameter `{}` is never used by the log-density", p.name),
                    p.span,
                    "unused parameter",
                )
                .with_help(
                    "its Fisher information is zero and the FIM is singular; remove it or use it",
                );
                self.diagnostics.push(d);
            }
        }
    }

    /// A data variable the log-density never uses (once per vector), unless
    /// it bounds another's support or its support moves with a parameter.
    fn warn_unused_data(&mut self, used: &BTreeSet<Name>) {
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
}

/// Value of a closed constant expression (numbers and π, e), if it has one
/// ([`Expr::numeric_value`], in the IR so that the family library, below
/// the resolver, reads support ends the same way).
pub fn numeric_value(e: &Expr) -> Option<f64> {
    e.numeric_value()
}

fn numeric_opt(e: &Option<Expr>) -> Option<f64> {
    e.as_ref().and_then(numeric_value)
}
