//! Generated JAX: the Python printer with `jax.numpy` and
//! `jax.scipy.special`, double precision switched on, and a Bessel
//! function of integer order built from `i0e`/`i1e` (JAX has no `iv`).
//! Every function is pure and free of control flow on values, so
//! `jax.vmap(score)(...)` runs it over a batch and `jax.jit` compiles it.

use super::CodegenError;
use super::Lang;
use super::cse::Printed;

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
