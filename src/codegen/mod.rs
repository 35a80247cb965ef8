//! Code generation: a model's log-density, score, Hessian and (when a
//! closed form exists) Fisher information as standalone functions in Rust,
//! C, Python (NumPy/SciPy) or JAX, for use in other engines.
//!
//! The formulas are the simplified ones of [`crate::fisher::derive()`];
//! subexpressions used more than once are computed once (temporaries
//! `t0`, `t1`, ...). Every function takes the parameters, then the data,
//! then the covariates, each in declaration order (`fim` takes no data);
//! the generated file documents the signature in its header. Python and
//! JAX take an indexed name (`param alpha[1..K]`) as one array argument
//! `alpha` of shape `(..., K)`, its length checked ([`Signature::full_slots`]);
//! Rust and C take each element. Model names become valid identifiers
//! (`a[2]` → `a_2`, keywords get a trailing `_`), and constants are
//! emitted as named upper-case constants. Generated JAX needs 64-bit mode
//! and checks it, but importing it never switches it on.
//!
//! Special functions: Python calls `scipy.special`, JAX
//! `jax.scipy.special`; Rust and C get self-contained implementations of
//! only the special functions the model uses (ports of
//! [`crate::numeric::special`]; C takes `lgamma`, `tgamma`, `erf` and
//! `erfc` from `math.h`, Rust gets ports of the fdlibm routines).
//!
//! ```
//! use fimkit::codegen::{generate, CodegenConfig, Lang};
//! let src = "param p : unit\ndata y : {0, 1}\ny ~ bernoulli(p)";
//! let model = fimkit::load(src, "bernoulli").unwrap();
//! let d = fimkit::fisher::derive(&model, &Default::default());
//! let out = generate(&model, &d, Lang::Python, &CodegenConfig::default()).unwrap();
//! assert!(out.code.contains("def fim(p):"));
//! assert_eq!(out.signature.params[0].ident, "p");
//! ```

mod c;
mod cse;
mod ident;
mod jax;
mod python;
mod rust;
mod special_c;
mod special_rust;

use crate::fisher::{Derivation, DeriveConfig};
use crate::ir::expr::{Expr, Name, rational_to_f64};
use crate::ir::model::Model;
use cse::{Block, Dialect, Emitted, Fun};
use ident::Namer;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// A target language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Rust (std only; special functions included).
    Rust,
    /// Python with NumPy and SciPy; functions broadcast over arrays.
    Python,
    /// JAX: pure functions of arrays, ready for `jax.vmap` and `jax.jit`.
    Jax,
    /// C99 with `math.h` (link with `-lm`).
    C,
}

impl Lang {
    /// Every language.
    pub const ALL: [Lang; 4] = [Lang::Rust, Lang::Python, Lang::Jax, Lang::C];

    /// The name used on the command line (`rust`, `python`, `jax`, `c`).
    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Jax => "jax",
            Lang::C => "c",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Lang::Rust => "rs",
            Lang::Python | Lang::Jax => "py",
            Lang::C => "c",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown language `{s}` (expected rust, python, jax or c)"))
    }
}

/// Options for [`generate`].
#[derive(Clone, Debug, Default)]
pub struct CodegenConfig {
    /// Prefix of the generated function names. `None`: the lower-case model
    /// name and `_` for C (which has no namespaces), nothing otherwise.
    pub prefix: Option<String>,
    /// The alternative coordinate system (a `coords` block) the derivation
    /// is in; `None` for the model's own parameters.
    pub coords: Option<String>,
}

/// Why code could not be generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodegenError {
    /// The model has no parameters, so there is nothing to differentiate.
    NoParameters,
    /// No coordinate system of that name.
    UnknownCoords(String),
    /// The language cannot express something the model uses.
    Unsupported {
        /// The language.
        lang: Lang,
        /// What is missing.
        what: String,
    },
    /// A bug in fimkit.
    Internal(String),
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodegenError::NoParameters => {
                write!(
                    f,
                    "the model has no parameters, so there is no score to generate"
                )
            }
            CodegenError::UnknownCoords(c) => write!(f, "the model has no coordinates `{c}`"),
            CodegenError::Unsupported { lang, what } => {
                write!(f, "cannot generate {lang}: {what}")
            }
            CodegenError::Internal(m) => write!(f, "internal error in code generation: {m}"),
        }
    }
}

impl std::error::Error for CodegenError {}

/// What an argument stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A parameter θ.
    Param,
    /// A data variable.
    Data,
    /// A covariate.
    Covariate,
}

/// One argument of the generated functions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Argument {
    /// The model's name (`a[2]`).
    pub name: Name,
    /// The identifier in the generated code (`a_2`).
    pub ident: String,
    /// Parameter, data or covariate.
    pub role: Role,
    /// The declared domain or support (`positive`, `0..n`).
    pub domain: String,
    /// In Python and JAX, an element of an indexed name (`alpha[2]` of
    /// `param alpha[1..K]`) is a position in one array argument (`alpha`);
    /// `ident` is then the local variable the function unpacks it into.
    /// `None` for a scalar argument, and always in Rust and C.
    pub array: Option<ArrayPart>,
}

/// Where an element of an indexed name sits in its array argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayPart {
    /// The array argument's identifier (`alpha`).
    pub ident: String,
    /// The model's declaration, `alpha[1..3]`.
    pub declared: String,
    /// The element's position along the array's last axis (from 0).
    pub position: usize,
    /// The number of elements.
    pub len: usize,
}

/// One argument of a generated function as the caller passes it: a
/// scalar, or (Python and JAX) an array holding an indexed name's
/// elements in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot<'a> {
    /// The identifier in the function's signature.
    pub ident: &'a str,
    /// The model's names it holds: one for a scalar, the elements in
    /// order for an array.
    pub elements: Vec<&'a Argument>,
}

impl Slot<'_> {
    /// Is this an array argument?
    pub fn is_array(&self) -> bool {
        self.elements.first().is_some_and(|a| a.array.is_some())
    }
}

/// The argument lists of the generated functions.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    /// Parameters, in order (the order of θ, of the score and of the matrices).
    pub params: Vec<Argument>,
    /// Data variables, in declaration order.
    pub data: Vec<Argument>,
    /// Covariates, in declaration order.
    pub covariates: Vec<Argument>,
    /// The model's constants: (model name, identifier, value).
    pub constants: Vec<(Name, String, f64)>,
}

impl Signature {
    /// The arguments of `log_density`, `score` and `hessian`: parameters,
    /// data, covariates.
    pub fn full(&self) -> Vec<&Argument> {
        self.params
            .iter()
            .chain(&self.data)
            .chain(&self.covariates)
            .collect()
    }

    /// The arguments of `fim`: parameters, covariates.
    pub fn fim(&self) -> Vec<&Argument> {
        self.params.iter().chain(&self.covariates).collect()
    }

    /// The arguments of `log_density`, `score` and `hessian` as the
    /// functions take them: an indexed name's elements as one array in
    /// Python and JAX, every element on its own in Rust and C.
    pub fn full_slots(&self) -> Vec<Slot<'_>> {
        slots(self.full())
    }

    /// The arguments of `fim` as it takes them (see [`Signature::full_slots`]).
    pub fn fim_slots(&self) -> Vec<Slot<'_>> {
        slots(self.fim())
    }
}

/// Consecutive elements of one array argument as one slot.
fn slots(args: Vec<&Argument>) -> Vec<Slot<'_>> {
    let mut out: Vec<Slot<'_>> = Vec::new();
    for a in args {
        match (&a.array, out.last_mut()) {
            (Some(part), Some(last))
                if last.elements[0]
                    .array
                    .as_ref()
                    .is_some_and(|p| p.ident == part.ident) =>
            {
                last.elements.push(a);
            }
            (Some(part), _) => out.push(Slot {
                ident: &part.ident,
                elements: vec![a],
            }),
            (None, _) => out.push(Slot {
                ident: &a.ident,
                elements: vec![a],
            }),
        }
    }
    out
}

/// The names of the generated functions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Functions {
    /// log p(data | θ) → scalar.
    pub log_density: String,
    /// ∂ log p / ∂θ → vector of length p.
    pub score: String,
    /// ∂² log p / ∂θ² → p × p.
    pub hessian: String,
    /// The Fisher information of one observation → p × p, when a closed form exists.
    pub fim: Option<String>,
}

/// Generated code and what a caller needs to use it.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The language.
    pub lang: Lang,
    /// The source file.
    pub code: String,
    /// The functions' arguments.
    pub signature: Signature,
    /// The functions' names.
    pub functions: Functions,
    /// Why there is no `fim` function, when there is none.
    pub fim_missing: Option<String>,
    /// Operations in the generated functions after sharing (log-density,
    /// score, Hessian, FIM): a size figure.
    pub op_counts: Vec<usize>,
}

/// The number of floating-point operations and calls in `e` as generated
/// code computes it, without sharing (the size [`Generated::op_counts`]
/// compares with).
///
/// ```
/// use fimkit::ir::Expr;
/// let (x, mu) = (Expr::var("x"), Expr::var("mu"));
/// // (x - mu)^2: a subtraction and a power
/// assert_eq!(fimkit::codegen::operation_count(&Expr::powi(x - mu, 2)), 2);
/// ```
pub fn operation_count(e: &Expr) -> usize {
    Block::new(std::slice::from_ref(e)).tree_len()
}

/// Derive (with default options, in `config.coords` when given) and
/// generate in one step.
pub fn derive_and_generate(
    model: &Model,
    lang: Lang,
    config: &CodegenConfig,
) -> Result<Generated, CodegenError> {
    let dc = DeriveConfig::default();
    let base = crate::fisher::derive(model, &dc);
    match &config.coords {
        None => generate(model, &base, lang, config),
        Some(name) => {
            let coords = crate::fisher::derive_coords(model, &base, &dc);
            let c = coords
                .into_iter()
                .find(|c| &c.name == name)
                .ok_or_else(|| CodegenError::UnknownCoords(name.clone()))?;
            generate(model, &c.derivation, lang, config)
        }
    }
}

/// The log-density the generated `log_density` computes: the model's, in
/// the coordinates `coords` when given (constants stay symbolic).
pub fn log_density(model: &Model, coords: Option<&str>) -> Result<Expr, CodegenError> {
    let Some(name) = coords else {
        return Ok(model.logp.clone());
    };
    let c = model
        .coords
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| CodegenError::UnknownCoords(name.to_string()))?;
    Ok(model.logp.substitute(&|v: &str| {
        c.map
            .iter()
            .find(|(old, _)| &**old == v)
            .map(|(_, e)| e.clone())
    }))
}

/// Generate code for a derivation of `model` (from
/// [`crate::fisher::derive()`], or a coordinate system's derivation with
/// `config.coords` naming it).
pub fn generate(
    model: &Model,
    derivation: &Derivation,
    lang: Lang,
    config: &CodegenConfig,
) -> Result<Generated, CodegenError> {
    let _stage = crate::budget::stage("generating code");
    if derivation.params.is_empty() {
        return Err(CodegenError::NoParameters);
    }
    let logp = log_density(model, config.coords.as_deref())?;
    let coords = config
        .coords
        .as_ref()
        .and_then(|n| model.coords.iter().find(|c| &c.name == n));
    let prefix = config.prefix.clone().unwrap_or_else(|| match lang {
        Lang::C => format!("{}_", ident::snake_case(&model.name)),
        _ => String::new(),
    });
    let functions = function_names(&prefix, derivation);
    let fim_missing = derivation.fisher.as_ref().err().map(|b| b.to_string());
    let (signature, names) = name_arguments(model, derivation, coords, lang, &prefix, &functions);
    let dialect = dialect(lang);
    let mut bodies = Vec::new();
    let mut funs: BTreeSet<Fun> = BTreeSet::new();
    let mut op_counts = Vec::new();
    for (kind, name, exprs) in function_specs(derivation, logp, &functions) {
        let block = function_block(
            model,
            kind,
            &exprs,
            &derivation.definitions,
            derivation.params.len(),
        );
        check_fim_reads_no_data(kind, &block, &signature)?;
        funs.extend(block.funs());
        op_counts.push(block.len());
        bodies.push(emit_function(
            kind,
            name,
            &block,
            derivation.params.len(),
            &signature,
            dialect.as_ref(),
            &names,
        )?);
    }
    let unit = Unit {
        model_name: model.name.clone(),
        coords: config.coords.clone(),
        signature: signature.clone(),
        functions: bodies,
        fim_missing: fim_missing.clone(),
        funs,
        example: example_point(model, &derivation.params, coords),
    };
    Ok(Generated {
        lang,
        code: render(lang, &unit),
        signature,
        functions,
        fim_missing,
        op_counts,
    })
}

/// The generated functions' names (`fim` only with a closed form).
fn function_names(prefix: &str, derivation: &Derivation) -> Functions {
    Functions {
        log_density: format!("{prefix}log_density"),
        score: format!("{prefix}score"),
        hessian: format!("{prefix}hessian"),
        fim: derivation
            .fisher
            .as_ref()
            .ok()
            .map(|_| format!("{prefix}fim")),
    }
}

/// The identifiers given so far: the namer (which knows every name taken)
/// and the model's names with their identifiers.
struct Names {
    namer: Namer,
    idents: HashMap<Name, String>,
}

impl Names {
    /// An argument named after the model's `name`.
    fn argument(&mut self, name: &Name, role: Role, domain: String) -> Argument {
        let ident = self.namer.name(name, false);
        self.idents.insert(name.clone(), ident.clone());
        Argument {
            name: name.clone(),
            ident,
            role,
            domain,
            array: None,
        }
    }

    /// Make the elements of each indexed name in `args` (`alpha[1]`,
    /// `alpha[2]`, ...) positions of one array argument (`alpha`): only
    /// when they are all there, side by side, with consecutive indices;
    /// otherwise they stay scalars.
    fn group_arrays(&mut self, args: &mut [Argument]) {
        let indexed = |a: &Argument| -> Option<(String, i64)> {
            let (base, rest) = a.name.split_once('[')?;
            let i = rest.strip_suffix(']')?.parse::<i64>().ok()?;
            Some((base.to_string(), i))
        };
        let mut start = 0;
        while start < args.len() {
            let Some((base, first)) = indexed(&args[start]) else {
                start += 1;
                continue;
            };
            let mut end = start + 1;
            while end < args.len()
                && indexed(&args[end]) == Some((base.clone(), first + (end - start) as i64))
            {
                end += 1;
            }
            let elsewhere = args[..start]
                .iter()
                .chain(&args[end..])
                .any(|a| indexed(a).is_some_and(|(b, _)| b == base));
            if !elsewhere {
                let ident = self.namer.name(&base, false);
                let len = end - start;
                let declared = format!("{base}[{first}..{}]", first + len as i64 - 1);
                for (position, a) in args[start..end].iter_mut().enumerate() {
                    a.array = Some(ArrayPart {
                        ident: ident.clone(),
                        declared: declared.clone(),
                        position,
                        len,
                    });
                }
            }
            start = end;
        }
    }
}

/// The functions' arguments and constants. Identifiers: reserved words,
/// then the function names, then the model's names in declaration order.
fn name_arguments(
    model: &Model,
    derivation: &Derivation,
    coords: Option<&crate::ir::model::Coords>,
    lang: Lang,
    prefix: &str,
    functions: &Functions,
) -> (Signature, Names) {
    let mut reserved: Vec<&str> = match lang {
        Lang::Rust => rust::RESERVED.to_vec(),
        Lang::Python => python::RESERVED.to_vec(),
        Lang::Jax => jax::RESERVED.to_vec(),
        Lang::C => c::RESERVED.to_vec(),
    };
    let fn_names = [
        functions.log_density.clone(),
        functions.score.clone(),
        functions.hessian.clone(),
        format!("{prefix}fim"),
    ];
    reserved.extend(fn_names.iter().map(String::as_str));
    let mut names = Names {
        namer: Namer::new(reserved),
        idents: HashMap::new(),
    };
    let mut params: Vec<Argument> = derivation
        .params
        .iter()
        .map(|p| {
            let domain = model
                .param(p)
                .map(|d| d.domain.label.clone())
                .or_else(|| {
                    coords
                        .and_then(|c| c.params.iter().find(|q| &q.name == p))
                        .map(|q| q.domain.label.clone())
                })
                .unwrap_or_default();
            names.argument(p, Role::Param, domain)
        })
        .collect();
    let mut data: Vec<Argument> = model
        .data
        .iter()
        .map(|d| names.argument(&d.name, Role::Data, d.support.label()))
        .collect();
    let mut covariates: Vec<Argument> = model
        .covariates
        .iter()
        .map(|c| names.argument(&c.name, Role::Covariate, c.domain.label.clone()))
        .collect();
    // Python and JAX take an indexed name as one array (after every
    // element has its identifier, which the function unpacks it into).
    if matches!(lang, Lang::Python | Lang::Jax) {
        names.group_arrays(&mut params);
        names.group_arrays(&mut data);
        names.group_arrays(&mut covariates);
    }
    let constants: Vec<(Name, String, f64)> = model
        .consts
        .iter()
        .map(|c| {
            let id = names.namer.name(&c.name, true);
            names.idents.insert(c.name.clone(), id.clone());
            (c.name.clone(), id, rational_to_f64(&c.value))
        })
        .collect();
    let signature = Signature {
        params,
        data,
        covariates,
        constants,
    };
    (signature, names)
}

/// Each function's kind, name and expressions (matrices as their upper
/// triangle, row by row).
fn function_specs(
    derivation: &Derivation,
    logp: Expr,
    functions: &Functions,
) -> Vec<(Kind, String, Vec<Expr>)> {
    let p = derivation.params.len();
    let upper = |m: &Vec<Vec<Expr>>| -> Vec<Expr> {
        (0..p)
            .flat_map(|i| (i..p).map(move |j| (i, j)))
            .map(|(i, j)| m[i][j].clone())
            .collect()
    };
    let mut specs: Vec<(Kind, String, Vec<Expr>)> = vec![
        (Kind::LogDensity, functions.log_density.clone(), vec![logp]),
        (
            Kind::Score,
            functions.score.clone(),
            derivation.score.clone(),
        ),
        (
            Kind::Hessian,
            functions.hessian.clone(),
            upper(&derivation.hessian),
        ),
    ];
    if let (Ok(cf), Some(name)) = (&derivation.fisher, &functions.fim) {
        specs.push((Kind::Fim, name.clone(), upper(&cf.fim)));
    }
    specs
}

/// The target language's way of writing expressions.
fn dialect(lang: Lang) -> Box<dyn Dialect> {
    match lang {
        Lang::Rust => Box::new(rust::RustDialect),
        Lang::Python => Box::new(python::PyDialect { jax: false }),
        Lang::Jax => Box::new(python::PyDialect { jax: true }),
        Lang::C => Box::new(c::CDialect),
    }
}

/// One function's expressions with their shared subexpressions; a
/// matrix's off-diagonal outputs pinned (each is written twice).
fn function_block(
    model: &Model,
    kind: Kind,
    exprs: &[Expr],
    definitions: &[(Name, Expr)],
    p: usize,
) -> Block {
    let consts = model
        .consts
        .iter()
        .map(|c| (c.name.clone(), c.value.clone()))
        .collect();
    let mut block = Block::with_definitions(exprs, consts, definitions);
    if matches!(kind, Kind::Hessian | Kind::Fim) {
        let mut k = 0;
        for i in 0..p {
            for j in i..p {
                if i != j {
                    block.pin_output(k);
                }
                k += 1;
            }
        }
    }
    block
}

/// The FIM is an expectation over the data: it must not read any.
fn check_fim_reads_no_data(
    kind: Kind,
    block: &Block,
    signature: &Signature,
) -> Result<(), CodegenError> {
    if kind == Kind::Fim
        && let Some(v) = block
            .vars()
            .into_iter()
            .find(|v| signature.data.iter().any(|d| &d.name == v))
    {
        return Err(CodegenError::Internal(format!(
            "the Fisher information depends on the data variable `{v}`"
        )));
    }
    Ok(())
}

/// One function's body in the target language, with its arguments and
/// the identifiers it reads.
fn emit_function(
    kind: Kind,
    name: String,
    block: &Block,
    dim: usize,
    signature: &Signature,
    dialect: &dyn Dialect,
    names: &Names,
) -> Result<Function, CodegenError> {
    let mut local = names.namer.clone();
    let emitted = cse::emit(block, dialect, &names.idents, &mut local)?;
    let args = match kind {
        Kind::Fim => signature.fim_slots(),
        _ => signature.full_slots(),
    }
    .into_iter()
    .map(|s| s.ident.to_string())
    .collect();
    let reads = block
        .vars()
        .iter()
        .filter_map(|v| names.idents.get(v).cloned())
        .collect();
    Ok(Function {
        kind,
        name,
        args,
        emitted,
        dim,
        reads,
    })
}

/// The source file in the target language.
fn render(lang: Lang, unit: &Unit) -> String {
    match lang {
        Lang::Rust => rust::render(unit),
        Lang::Python => python::render(unit, false),
        Lang::Jax => python::render(unit, true),
        Lang::C => c::render(unit),
    }
}

/// A typical point: inside a bounded interval, one in from a single
/// bound, 1/2 on the real line; the smallest value above the lower end of
/// an integer range; the barycentre of a simplex; the largest of a set.
fn example_point(
    model: &Model,
    params: &[Name],
    coords: Option<&crate::ir::model::Coords>,
) -> Option<Vec<f64>> {
    use crate::ir::model::{Domain, Support};
    use crate::numeric::eval::eval_f64;
    let mut env: HashMap<String, f64> = model
        .consts
        .iter()
        .map(|c| (c.name.to_string(), rational_to_f64(&c.value)))
        .collect();
    let bound = |e: &Option<Expr>, env: &HashMap<String, f64>| -> Option<Option<f64>> {
        match e {
            None => Some(None),
            Some(e) => eval_f64(e, &|n: &str| env.get(n).copied()).ok().map(Some),
        }
    };
    // A bounded parameter k sits at 1/(k + 3) of its interval, so that
    // probabilities p1, p2, ... stay inside the simplex (sum < 1).
    let interval = |lo: Option<f64>, hi: Option<f64>, k: usize| match (lo, hi) {
        (Some(l), Some(h)) => l + (h - l) / (k as f64 + 3.0),
        (Some(l), None) => l + 1.0,
        (None, Some(h)) => h - 1.0,
        (None, None) => 0.5,
    };
    let in_domain = |d: &Domain, env: &HashMap<String, f64>, k: usize| -> Option<f64> {
        Some(interval(bound(&d.lo, env)?, bound(&d.hi, env)?, k))
    };
    let mut out = Vec::new();
    for (k, p) in params.iter().enumerate() {
        let d = model.param(p).map(|q| &q.domain).or_else(|| {
            coords
                .and_then(|c| c.params.iter().find(|q| &q.name == p))
                .map(|q| &q.domain)
        })?;
        let v = in_domain(d, &env, k)?;
        env.insert(p.to_string(), v);
        out.push(v);
    }
    if let Some(c) = coords {
        for (old, e) in &c.map {
            let v = eval_f64(e, &|n: &str| env.get(n).copied()).ok()?;
            env.insert(old.to_string(), v);
        }
    }
    let mut covs = Vec::new();
    for c in &model.covariates {
        let v = in_domain(&c.domain, &env, 0)?;
        env.insert(c.name.to_string(), v);
        covs.push(v);
    }
    for d in &model.data {
        let v = match &d.support {
            Support::Continuous { lo, hi } => interval(bound(lo, &env)?, bound(hi, &env)?, 0),
            Support::Integers { lo, hi } => {
                let l = bound(&Some(lo.clone()), &env)??;
                match bound(hi, &env)? {
                    Some(h) if h < l + 1.0 => l,
                    _ => l + 1.0,
                }
            }
            Support::Set(vs) => vs.iter().map(rational_to_f64).fold(f64::NAN, f64::max),
            Support::Simplex { dim, .. } => 1.0 / *dim as f64,
        };
        env.insert(d.name.to_string(), v);
        out.push(v);
    }
    out.extend(covs);
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// Which generated function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    LogDensity,
    Score,
    Hessian,
    Fim,
}

/// One function, printed.
pub(crate) struct Function {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    /// Argument identifiers in order.
    pub(crate) args: Vec<String>,
    /// Temporaries and outputs; matrices give their upper triangle row by row.
    pub(crate) emitted: Emitted,
    /// Number of parameters.
    pub(crate) dim: usize,
    /// The identifiers the body reads.
    pub(crate) reads: BTreeSet<String>,
}

impl Function {
    /// Does the body read this argument?
    pub(crate) fn reads(&self, ident: &str) -> bool {
        self.reads.contains(ident)
    }

    /// The output expression of matrix entry (i, j) (symmetric).
    pub(crate) fn entry(&self, i: usize, j: usize) -> &str {
        let (i, j) = if i <= j { (i, j) } else { (j, i) };
        let offset = upper_offset(self.dim, i);
        &self.emitted.outputs[offset + (j - i)]
    }
}

/// Index of (i, i) in the row-major upper triangle of a dim × dim matrix.
fn upper_offset(dim: usize, i: usize) -> usize {
    (0..i).map(|r| dim - r).sum()
}

/// Everything a language printer needs.
pub(crate) struct Unit {
    pub(crate) model_name: String,
    pub(crate) coords: Option<String>,
    pub(crate) signature: Signature,
    pub(crate) functions: Vec<Function>,
    pub(crate) fim_missing: Option<String>,
    /// Every function called anywhere.
    pub(crate) funs: BTreeSet<Fun>,
    /// A point inside the domains (parameters, data, covariates), for a
    /// smoke example; `None` when the bounds could not be evaluated.
    pub(crate) example: Option<Vec<f64>>,
}

impl Unit {
    /// The constants the functions read, (model name, identifier, value).
    pub(crate) fn used_constants(&self) -> Vec<&(Name, String, f64)> {
        self.signature
            .constants
            .iter()
            .filter(|(_, id, _)| self.functions.iter().any(|f| f.reads(id)))
            .collect()
    }

    /// The header comment's lines (without comment markers). `returns`
    /// describes the return value of each kind of function.
    pub(crate) fn header(
        &self,
        lang: Lang,
        returns: &dyn Fn(Kind, usize) -> String,
    ) -> Vec<String> {
        let s = &self.signature;
        let mut out = vec![
            format!(
                "{}: log-density, score, Hessian{} as {} code.",
                self.model_name,
                if self.fim_missing.is_none() {
                    " and Fisher information"
                } else {
                    ""
                },
                match lang {
                    Lang::Rust => "Rust",
                    Lang::Python => "Python (NumPy/SciPy)",
                    Lang::Jax => "JAX",
                    Lang::C => "C",
                }
            ),
            format!(
                "Generated by fimkit {} (`fimkit codegen --lang {}{}`); regenerate it from the model instead of editing it.",
                env!("CARGO_PKG_VERSION"),
                lang.name(),
                self.coords
                    .as_ref()
                    .map_or(String::new(), |c| format!(" --coords {c}"))
            ),
            String::new(),
            "Arguments, in this order (fim takes no data):".to_string(),
        ];
        let list = |args: &[Argument]| -> String {
            if args.is_empty() {
                return "(none)".to_string();
            }
            slots(args.iter().collect())
                .iter()
                .map(|slot| match &slot.elements[0].array {
                    Some(part) => format!(
                        "{} (array of shape (..., {}): the model's {} in order, {})",
                        slot.ident, part.len, part.declared, slot.elements[0].domain
                    ),
                    None => {
                        let a = slot.elements[0];
                        if *a.name == a.ident {
                            format!("{} ({})", a.ident, a.domain)
                        } else {
                            format!("{} ({}, the model's {})", a.ident, a.domain, a.name)
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(format!("  parameters  {}", list(&s.params)));
        out.push(format!("  data        {}", list(&s.data)));
        out.push(format!("  covariates  {}", list(&s.covariates)));
        if !self.used_constants().is_empty() {
            let cs: Vec<String> = self
                .used_constants()
                .into_iter()
                .map(|(n, id, v)| format!("{id} = {v} (the model's {n})"))
                .collect();
            out.push(format!("Constants: {}", cs.join(", ")));
        }
        let theta: Vec<String> = s
            .params
            .iter()
            .map(|a| match &a.array {
                Some(part) => format!("{}[{}]", part.ident, part.position),
                None => a.ident.clone(),
            })
            .collect();
        out.push(String::new());
        out.push("Functions:".to_string());
        for f in &self.functions {
            let what = match f.kind {
                Kind::LogDensity => "log p(data | theta)".to_string(),
                Kind::Score => format!("d log p / d theta, theta = ({})", theta.join(", ")),
                Kind::Hessian => "d^2 log p / d theta d theta^T".to_string(),
                Kind::Fim => {
                    if s.covariates.is_empty() {
                        "Fisher information of one observation, -E[hessian]".to_string()
                    } else {
                        "Fisher information of one observation given the covariates, -E[hessian]"
                            .to_string()
                    }
                }
            };
            out.push(format!(
                "  {}({}) -> {}",
                f.name,
                f.args.join(", "),
                returns(f.kind, f.dim)
            ));
            out.push(format!("      {what}"));
        }
        if let Some(why) = &self.fim_missing {
            out.push(String::new());
            out.push("No closed-form Fisher information, so there is no fim function:".into());
            out.push(format!("  {why}."));
        }
        out
    }
}
