//! Generated Python, in two flavours sharing one printer: NumPy with
//! `scipy.special`, and JAX with `jax.scipy.special` (see [`super::jax`]).
//! Functions have no control flow on values, so they broadcast over
//! arrays (NumPy) and are ready for `jax.vmap`/`jax.jit` (JAX); vectors
//! come back with shape `(..., p)`, matrices `(..., p, p)`.

use super::cse::{Dialect, Fun, P_ATOM, P_POW, Printed, signed_lit};
use super::{CodegenError, Function, Kind, Lang, Unit, jax};
use crate::ir::expr::Constant;
use std::collections::BTreeSet;

/// Keywords, module names and every name the generated code may define or import.
pub(crate) const RESERVED: &[&str] = &[
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "match",
    "case",
    "type",
    "np",
    "jnp",
    "jax",
    "scipy",
    "gammaln",
    "digamma",
    "polygamma",
    "erf",
    "erfc",
    "ndtr",
    "log_ndtr",
    "iv",
    "ive",
    "i0",
    "i1",
    "i0e",
    "i1e",
    "betaln",
    "expit",
    "log_expit",
    "print",
    "float",
    "int",
    "len",
    "range",
    "value",
    "_scalar",
    "_vector",
    "_matrix",
    "_polygamma",
    "_besseli",
    "_log_besseli",
    "_besseli_series",
    "_besseli_scaled_up",
    "_lbeta",
    "_lgamma_corr",
    "_elements",
    "_require_x64",
];

/// log B(a, b): scipy's `betaln` cancels (three lgammas) when an argument
/// is large, so there fimkit's Stirling-series form is used instead; JAX's
/// `betaln` is inaccurate (1e-7) even for small arguments, so JAX takes
/// the three lgammas there.
const LBETA: &str = r#"


def _lgamma_corr(x):
    """Stirling's correction log Gamma(x) - ((x - 1/2) log x - x + log sqrt(2 pi)), x >= 10."""
    z = 1.0 / (x * x)
    return (1.0 / 12.0 - z * (1.0 / 360.0 - z * (1.0 / 1260.0 - z * (1.0 / 1680.0 - z * (1.0 / 1188.0
        - z * (691.0 / 360360.0 - z * (1.0 / 156.0 - z * (3617.0 / 122400.0)))))))) / x


def _lbeta(a, b):
    """log B(a, b), a, b > 0: directly where both are below 10, else (where the
    three log-gammas would cancel) the Stirling-series form fimkit uses."""
    p = {ns}.minimum(a, b)
    q = {ns}.maximum(a, b)
    r = p / (p + q){quiet}
{indent}both = (-0.5 * {ns}.log(q) + 0.9189385332046728 + _lgamma_corr(p) + _lgamma_corr(q)
{indent}        - _lgamma_corr(p + q) + (p - 0.5) * {ns}.log(r) + q * {ns}.log1p(-r))
{indent}one = (gammaln(p) + _lgamma_corr(q) - _lgamma_corr(p + q) + p - p * {ns}.log(p + q)
{indent}       + (q - 0.5) * {ns}.log1p(-r))
    return {ns}.where(q < 10.0, {small}, {ns}.where(p >= 10.0, both, one))
"#;

/// Python expressions; `jax` selects `jnp` and `jax.scipy.special`.
pub(crate) struct PyDialect {
    pub(crate) jax: bool,
}

impl PyDialect {
    fn ns(&self) -> &'static str {
        if self.jax { "jnp" } else { "np" }
    }
}

/// The name a function is imported under from `scipy.special` /
/// `jax.scipy.special`, if it is.
fn special_name(f: Fun, jax: bool) -> Option<&'static [&'static str]> {
    Some(match f {
        Fun::Sigmoid => &["expit"],
        Fun::LogSigmoid if !jax => &["log_expit"],
        Fun::Lgamma => &["gammaln"],
        Fun::Digamma => &["digamma"],
        Fun::Polygamma(_) if jax => &["polygamma", "gammaln"],
        Fun::Polygamma(_) | Fun::PolygammaDyn => &["polygamma"],
        // jax.scipy.special.betaln is off by up to 1e-7 (e.g. at (5, 9)).
        Fun::Lbeta if jax => &["gammaln"],
        Fun::Lbeta => &["betaln", "gammaln"],
        Fun::Erf => &["erf"],
        Fun::Erfc => &["erfc"],
        Fun::NormalCdf => &["ndtr"],
        Fun::LogNormalCdf => &["log_ndtr"],
        Fun::Mills | Fun::MillsShift => &["ndtr"],
        Fun::BesselI if !jax => &["iv"],
        Fun::LogBesselI if !jax => &["ive"],
        Fun::BesselI | Fun::LogBesselI => &["i0", "i0e", "i1", "i1e", "gammaln"],
        _ => return None,
    })
}

impl Dialect for PyDialect {
    fn lit(&self, v: f64) -> String {
        if v.is_infinite() {
            format!("{}.inf", self.ns())
        } else {
            format!("{v:?}")
        }
    }

    fn constant(&self, c: Constant) -> String {
        let name = match c {
            Constant::Pi => "pi",
            Constant::E => "e",
            Constant::EulerGamma => "euler_gamma",
        };
        format!("{}.{name}", self.ns())
    }

    fn powi(&self, x: Printed, n: i32) -> Printed {
        Printed::new(format!("{}**{n}", x.at(P_ATOM)), P_POW)
    }

    fn powf(&self, x: Printed, y: Printed) -> Printed {
        Printed::new(format!("{}**{}", x.at(P_ATOM), y.at(P_POW)), P_POW)
    }

    fn sqrt(&self, x: Printed) -> Printed {
        Printed::atom(format!("{}.sqrt({})", self.ns(), x.s))
    }

    fn call(&self, f: Fun, a: Vec<Printed>) -> Result<Printed, CodegenError> {
        let ns = self.ns();
        let args = a.iter().map(|p| p.s.clone()).collect::<Vec<_>>().join(", ");
        let name = match f {
            Fun::Exp => format!("{ns}.exp"),
            Fun::Log => format!("{ns}.log"),
            Fun::Log1p => format!("{ns}.log1p"),
            Fun::Expm1 => format!("{ns}.expm1"),
            Fun::Sin => format!("{ns}.sin"),
            Fun::Cos => format!("{ns}.cos"),
            Fun::Abs => format!("{ns}.abs"),
            Fun::Sigmoid => "expit".into(),
            Fun::LogSigmoid if self.jax => "jax.nn.log_sigmoid".into(),
            Fun::LogSigmoid => "log_expit".into(),
            Fun::Lgamma => "gammaln".into(),
            Fun::Digamma => "digamma".into(),
            Fun::Polygamma(n) if self.jax => {
                return Ok(Printed::atom(format!("_polygamma({n}, {args})")));
            }
            Fun::Polygamma(n) => return Ok(Printed::atom(format!("polygamma({n}, {args})"))),
            Fun::PolygammaDyn if self.jax => {
                return Err(CodegenError::Unsupported {
                    lang: Lang::Jax,
                    what: "polygamma of an order computed at run time (jax needs a constant order)"
                        .into(),
                });
            }
            Fun::PolygammaDyn => "polygamma".into(),
            Fun::Lbeta => "_lbeta".into(),
            Fun::Erf => "erf".into(),
            Fun::Erfc => "erfc".into(),
            Fun::NormalCdf => "ndtr".into(),
            // JAX's default asymptotic series (order 3) is off by 4e-9 at
            // -20, which exp(a - log_ndtr(u)) would pass on as a relative
            // error; order 10 is exact to double precision from -20 down.
            Fun::LogNormalCdf if self.jax => {
                return Ok(Printed::atom(format!("log_ndtr({args}, series_order=10)")));
            }
            Fun::LogNormalCdf => "log_ndtr".into(),
            Fun::Mills => "_mills".into(),
            Fun::MillsShift => "_mills_shift".into(),
            Fun::BesselI | Fun::LogBesselI if self.jax => {
                let order = jax::static_order(&a[0])?;
                let helper = if f == Fun::BesselI {
                    "_besseli"
                } else {
                    "_log_besseli"
                };
                return Ok(Printed::atom(format!("{helper}({order}, {})", a[1].s)));
            }
            Fun::BesselI => "iv".into(),
            Fun::LogBesselI => "_log_besseli".into(),
            Fun::Indicator => {
                return Ok(Printed::atom(format!(
                    "{ns}.where({} == {}, 1.0, 0.0)",
                    a[0].s, a[1].s
                )));
            }
        };
        Ok(Printed::atom(format!("{name}({args})")))
    }
}

fn returns(kind: Kind, p: usize) -> String {
    match kind {
        Kind::LogDensity => "array of shape (...)".into(),
        Kind::Score => format!("array of shape (..., {p})"),
        Kind::Hessian | Kind::Fim => format!("array of shape (..., {p}, {p})"),
    }
}

fn function(out: &mut String, unit: &Unit, f: &Function, jax_flavour: bool) {
    let doc = match f.kind {
        Kind::LogDensity => "The log-density log p(data | theta).".to_string(),
        Kind::Score => format!("The score d log p / d theta, shape (..., {}).", f.dim),
        Kind::Hessian => format!(
            "The Hessian d^2 log p / d theta d theta^T, shape (..., {0}, {0}).",
            f.dim
        ),
        Kind::Fim => format!(
            "The Fisher information of one observation, -E[Hessian], shape (..., {0}, {0}).",
            f.dim
        ),
    };
    let slots = match f.kind {
        Kind::Fim => unit.signature.fim_slots(),
        _ => unit.signature.full_slots(),
    };
    // Each array argument's shape and order, in the docstring.
    let arrays: Vec<String> = slots
        .iter()
        .filter_map(|s| {
            let part = s.elements[0].array.as_ref()?;
            Some(format!(
                "    {}: array of shape (..., {}), the model's {} in order.\n",
                s.ident, part.len, part.declared
            ))
        })
        .collect();
    let doc = if arrays.is_empty() {
        doc
    } else {
        format!("{doc}\n\n{}    ", arrays.concat())
    };
    out.push_str(&format!(
        "def {}({}):\n    \"\"\"{doc}\"\"\"\n",
        f.name,
        f.args.join(", ")
    ));
    if jax_flavour {
        out.push_str("    _require_x64()\n");
    }
    // Array arguments unpacked into their elements, their length checked.
    for s in slots.iter().filter(|s| s.is_array()) {
        let part = s.elements[0].array.as_ref().expect("an array");
        let locals: Vec<&str> = s.elements.iter().map(|a| a.ident.as_str()).collect();
        let lhs = if locals.len() == 1 {
            format!("({},)", locals[0])
        } else {
            locals.join(", ")
        };
        out.push_str(&format!(
            "    {lhs} = _elements({}, {}, \"{}\", \"{}\")\n",
            s.ident, part.len, s.ident, part.declared
        ));
    }
    for (name, value) in &f.emitted.temps {
        out.push_str(&format!("    {name} = {value}\n"));
    }
    // The arguments (an array by its first element), so results take
    // their broadcast shape even where an entry does not depend on all
    // of them.
    let shape_args: Vec<&str> = slots
        .iter()
        .map(|s| {
            if s.is_array() {
                s.elements[0].ident.as_str()
            } else {
                s.ident
            }
        })
        .collect();
    let args = if shape_args.len() == 1 {
        format!("({},)", shape_args[0])
    } else {
        format!("({})", shape_args.join(", "))
    };
    match f.kind {
        Kind::LogDensity => out.push_str(&format!(
            "    value = {}\n    return _scalar(value, {args})\n",
            f.emitted.outputs[0]
        )),
        Kind::Score => {
            out.push_str("    return _vector([\n");
            for e in &f.emitted.outputs {
                out.push_str(&format!("        {e},\n"));
            }
            out.push_str(&format!("    ], {args})\n"));
        }
        Kind::Hessian | Kind::Fim => {
            out.push_str("    return _matrix([\n");
            for i in 0..f.dim {
                let cells: Vec<&str> = (0..f.dim).map(|j| f.entry(i, j)).collect();
                out.push_str(&format!("        [{}],\n", cells.join(", ")));
            }
            out.push_str(&format!("    ], {args})\n"));
        }
    }
}

/// The whole file; `jax` for the JAX flavour.
pub(crate) fn render(unit: &Unit, jax_flavour: bool) -> String {
    let lang = if jax_flavour { Lang::Jax } else { Lang::Python };
    let ns = if jax_flavour { "jnp" } else { "np" };
    let mut out = String::new();
    for line in unit.header(lang, &returns) {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str(&format!("# {line}\n"));
        }
    }
    if jax_flavour {
        out.push_str(jax::USAGE);
        out.push('\n');
        out.push_str(&jax::docstring(unit));
    } else {
        out.push_str("#\n# Every function broadcasts over NumPy arrays of arguments.\n");
    }
    out.push('\n');
    let mut specials: BTreeSet<&str> = BTreeSet::new();
    for f in &unit.funs {
        if let Some(names) = special_name(*f, jax_flavour) {
            specials.extend(names.iter().copied());
        }
    }
    if jax_flavour {
        out.push_str("import jax\nimport jax.numpy as jnp\n");
        if !specials.is_empty() {
            out.push_str(&format!(
                "from jax.scipy.special import {}\n",
                specials.iter().copied().collect::<Vec<_>>().join(", ")
            ));
        }
    } else {
        out.push_str("import numpy as np\n");
        if !specials.is_empty() {
            out.push_str(&format!(
                "from scipy.special import {}\n",
                specials.iter().copied().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let d = PyDialect { jax: jax_flavour };
    if !unit.used_constants().is_empty() {
        out.push('\n');
        for (name, ident, value) in unit.used_constants() {
            out.push_str(&format!(
                "{ident} = {}  # the model's constant `{name}`\n",
                signed_lit(&d, *value)
            ));
        }
    }
    for f in &unit.functions {
        out.push_str("\n\n");
        function(&mut out, unit, f, jax_flavour);
    }
    out.push_str(&format!(
        r#"

def _scalar(value, args):
    """The value with the arguments' broadcast shape."""
    shape = {ns}.broadcast_shapes(*[{ns}.shape(a) for a in args])
    return {ns}.asarray({ns}.broadcast_to(value, shape), dtype=float) + 0.0


def _vector(entries, args):
    """The entries along a new last axis, with the arguments' broadcast shape before it."""
    shape = {ns}.broadcast_shapes(*[{ns}.shape(a) for a in args])
    return {ns}.stack([{ns}.broadcast_to(e, shape) for e in entries], axis=-1)


def _matrix(rows, args):
    """Square matrices from their rows, along the last two axes."""
    n = len(rows)
    flat = _vector([entry for row in rows for entry in row], args)
    return flat.reshape(flat.shape[:-1] + (n, n))
"#
    ));
    if jax_flavour {
        out.push_str(jax::REQUIRE_X64);
    }
    let has_arrays = unit.signature.full().iter().any(|a| a.array.is_some());
    if has_arrays {
        out.push_str(
            &ELEMENTS
                .replace("{ns}", ns)
                .replace("{dtype}", if jax_flavour { "jnp.float64" } else { "float" }),
        );
    }
    if unit.funs.contains(&Fun::Mills) || unit.funs.contains(&Fun::MillsShift) {
        out.push_str(&MILLS.replace("{ns}", ns));
    }
    if unit.funs.contains(&Fun::Lbeta) {
        out.push_str(&LBETA.replace("{ns}", ns).replace(
            "{quiet}",
            if jax_flavour {
                ""
            } else {
                "\n    with np.errstate(all=\"ignore\"):  # the branch not taken may overflow"
            },
        ).replace("{indent}", if jax_flavour { "    " } else { "        " })
        .replace("{small}", if jax_flavour { "gammaln(a) + gammaln(b) - gammaln(a + b)" } else { "betaln(a, b)" }));
    }
    if jax_flavour && unit.funs.iter().any(|f| matches!(f, Fun::Polygamma(_))) {
        out.push_str(jax::POLYGAMMA);
    }
    if jax_flavour {
        if unit
            .funs
            .iter()
            .any(|f| matches!(f, Fun::BesselI | Fun::LogBesselI))
        {
            out.push_str(jax::BESSEL);
        }
    } else if unit.funs.contains(&Fun::LogBesselI) {
        out.push_str(
            r#"

def _log_besseli(nu, x):
    """log I_nu(x) without overflow, from the scaled Bessel function."""
    return np.log(ive(nu, x)) + np.abs(x)
"#,
        );
    }
    if jax_flavour && let Some(point) = &unit.example {
        out.push_str(&jax::smoke(unit, point));
    }
    out
}

/// An array argument's elements along its last axis (`{ns}` is `np` or
/// `jnp`): its length is checked (a shape, so also under `jax.jit`), so a
/// wrong one is a ValueError, never a silent broadcast.
const ELEMENTS: &str = r#"

def _elements(value, n, name, declared):
    """The n entries of the array argument `name` (the model's `declared`)
    along its last axis; a ValueError unless that axis has length n."""
    value = {ns}.asarray(value, dtype={dtype})
    if value.ndim == 0 or value.shape[-1] != n:
        raise ValueError(
            f"{name} must be an array with {n} entries along its last axis (the model's "
            f"{declared}, in order), got shape {tuple(value.shape)}"
        )
    return tuple(value[..., k] for k in range(n))
"#;

/// The inverse Mills ratio and its shift (`{ns}` is `np` or `jnp`): the
/// same continued fraction as fimkit's `numeric::special::mills`, with
/// both branches computed on clamped arguments so neither overflows.
const MILLS: &str = r#"


def _mills_parts(x):
    """r = phi(x)/Phi(x) and q = x + r, both to full relative accuracy:
    directly above -2, below from Laplace's continued fraction
    Phi(x)/phi(x) = 1/L1, L_k = t + k/L_(k+1), t = -x, as r = t + 1/L2 and
    q = 1/L2 (x + r would cancel there)."""
    x = {ns}.asarray(x, dtype=float)
    t = {ns}.maximum(-x, 2.0)
    l = t
    for k in range(160, 1, -1):
        l = t + k / l
    xd = {ns}.maximum(x, -2.0)
    rd = {ns}.exp(-0.5 * xd * xd) / ({ns}.sqrt(2.0 * {ns}.pi) * ndtr(xd))
    below = x <= -2.0
    return {ns}.where(below, t + 1.0 / l, rd), {ns}.where(below, 1.0 / l, xd + rd)


def _mills(x):
    """phi(x)/Phi(x), the derivative of log(Phi(x))."""
    return _mills_parts(x)[0]


def _mills_shift(x):
    """x + phi(x)/Phi(x), so that (log Phi)'' = -_mills(x) * _mills_shift(x)."""
    return _mills_parts(x)[1]
"#;
