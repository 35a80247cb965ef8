//! Generated JAX: the Python printer with `jax.numpy` and
//! `jax.scipy.special`, double precision switched on, and a Bessel
//! function of integer order built from `i0e`/`i1e` (JAX has no `iv`).
//! Every function is pure and free of control flow on values, so
//! `jax.vmap(score)(...)` runs it over a batch and `jax.jit` compiles it.

use super::cse::Printed;
use super::{CodegenError, Kind, Lang, Unit};

/// The Python words plus JAX's own.
pub(crate) const RESERVED: &[&str] = super::python::RESERVED;

/// The usage note under the header.
pub(crate) const USAGE: &str = "#
# Pure functions of arrays, ready for jax.vmap and jax.jit, e.g.
#   jax.vmap(score)(*batched_args)     # one row per observation
";

/// The order of a Bessel function, which JAX needs as a Python integer
/// (a constant of the model): JAX has only `i0` and `i1`.
pub(crate) fn static_order(order: &Printed) -> Result<u32, CodegenError> {
    let unsupported = || CodegenError::Unsupported {
        lang: Lang::Jax,
        what: format!(
            "besseli of order `{}`: jax.scipy.special has Bessel functions of constant integer order only",
            order.s
        ),
    };
    if !order.lit {
        return Err(unsupported());
    }
    let v: f64 = order.s.parse().map_err(|_| unsupported())?;
    if v == v.floor() && (0.0..=1000.0).contains(&v) {
        Ok(v as u32)
    } else {
        Err(unsupported())
    }
}

/// Bessel functions of a constant integer order n (a Python int, so the
/// branches below are resolved at trace time, not on values).
pub(crate) const BESSEL: &str = r#"

def _besseli_series(n, x):
    """I_n(x), n >= 2, by its power series (40 terms: full precision for |x| < 10)."""
    q = 0.25 * x * x
    k = jnp.arange(1.0, 40.0)
    ratios = q[..., None] / (k * (k + n))
    terms = jnp.cumprod(ratios, axis=-1)
    return (1.0 + jnp.sum(terms, axis=-1)) * jnp.exp(n * jnp.log(jnp.abs(0.5 * x)) - gammaln(n + 1.0))


def _besseli_scaled_up(n, x):
    """exp(-|x|) I_n(x), n >= 2, by upward recurrence from i0e, i1e (stable for |x| >= 10 > n)."""
    below, here = i0e(x), i1e(x)
    for k in range(1, n):
        below, here = here, below - (2.0 * k / x) * here
    return here


def _besseli(n, x):
    """I_n(x) for a constant integer order n."""
    x = jnp.asarray(x, dtype=jnp.float64)
    if n == 0:
        return i0(x)
    if n == 1:
        return i1(x)
    small = jnp.abs(x) < 10.0
    x_small = jnp.where(small, x, 1.0)
    x_large = jnp.where(small, 10.0, x)
    series = _besseli_series(n, x_small) * jnp.where((n % 2 == 1) & (x_small < 0), -1.0, 1.0)
    return jnp.where(small, series, _besseli_scaled_up(n, x_large) * jnp.exp(jnp.abs(x_large)))


def _log_besseli(n, x):
    """log I_n(x), x > 0, for a constant integer order n, without overflow."""
    x = jnp.asarray(x, dtype=jnp.float64)
    if n == 0:
        return jnp.log(i0e(x)) + jnp.abs(x)
    if n == 1:
        return jnp.log(i1e(x)) + jnp.abs(x)
    small = jnp.abs(x) < 10.0
    x_small = jnp.where(small, x, 1.0)
    x_large = jnp.where(small, 10.0, x)
    return jnp.where(
        small,
        jnp.log(_besseli_series(n, x_small)),
        jnp.log(_besseli_scaled_up(n, x_large)) + jnp.abs(x_large),
    )
"#;

/// `polygamma(n, x)` for every real x: jax.scipy.special.polygamma is
/// right only for x > 0 (it returns wrong numbers below zero).
pub(crate) const POLYGAMMA: &str = r#"

def _polygamma(n, x):
    """polygamma(n, x), n >= 1, also for x < 0, where jax.scipy.special.polygamma
    is wrong: shifted up to x + m > 0 by psi_n(x) = psi_n(x + 1) - (-1)^n n!/x^(n+1)
    (at most 64 steps, so NaN below -63)."""
    x = jnp.asarray(x, dtype=jnp.float64)
    k = jnp.arange(64.0)
    m = jnp.where(x > 0, 0.0, jnp.ceil(-x) + 1.0)
    shifted = x[..., None] + k
    safe = jnp.where(k < m[..., None], shifted, 1.0)
    terms = jnp.where(k < m[..., None], safe ** (-(n + 1.0)), 0.0)
    value = polygamma(n, x + m) - (-1.0) ** n * jnp.exp(gammaln(n + 1.0)) * jnp.sum(terms, axis=-1)
    return jnp.where(x > -63.0, value, jnp.nan)
"#;

/// A `__main__` block: every function at one point inside the domains,
/// then the score of a batch of three copies through `jax.vmap`.
pub(crate) fn smoke(unit: &Unit, point: &[f64]) -> String {
    let lit = |v: &f64| format!("{v:?}");
    let all: Vec<String> = point.iter().map(lit).collect();
    let p = unit.signature.params.len();
    let d = unit.signature.data.len();
    let fim_point: Vec<String> = all[..p].iter().chain(&all[p + d..]).cloned().collect();
    let tuple = |v: &[String]| {
        if v.len() == 1 {
            format!("({},)", v[0])
        } else {
            format!("({})", v.join(", "))
        }
    };
    let mut out = String::from(
        "\n\nif __name__ == \"__main__\":\n    # Smoke run: every function at one point (parameters, data, covariates),\n    # then the score of a batch of three copies through jax.vmap.\n",
    );
    out.push_str(&format!(
        "    point = tuple(jnp.asarray(v) for v in {})\n",
        tuple(&all)
    ));
    for f in &unit.functions {
        let args = if f.kind == Kind::Fim {
            format!("*(jnp.asarray(v) for v in {})", tuple(&fim_point))
        } else {
            "*point".to_string()
        };
        out.push_str(&format!("    print(\"{0}\", {0}({args}))\n", f.name));
    }
    if let Some(score) = unit.functions.iter().find(|f| f.kind == Kind::Score) {
        out.push_str("    batch = [jnp.full((3,), v) for v in point]\n");
        out.push_str(&format!(
            "    print(\"jax.vmap({0})\", jax.vmap({0})(*batch).shape)\n",
            score.name
        ));
    }
    out
}
