#!/usr/bin/env python3
"""Reference values for fimkit::numeric::special, computed with mpmath.

Writes one CSV per function family into tests/data/special/. Columns:

    func,p,x,value,d1,d2,d3

`p` is the order (polygamma n, besseli nu) or the first argument of a
two-argument function (lbeta a), empty for one-argument functions; `x` is the
argument the derivatives d1..d3 are taken with respect to. Values are printed
with 25 significant digits; an empty cell means "not defined / not tabled"
(for example a value that over- or underflows f64).

Run from the repository root:  python3 scripts/special_reference.py
Needs mpmath (pip install mpmath). The Rust tests only read the CSV files.
"""

import os
import mpmath as mp

mp.mp.dps = 50
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "special")
F64_MAX = mp.mpf("1.7976931348623157e308")
F64_TINY = mp.mpf("2.2250738585072014e-308")


def fmt(v):
    if v is None:
        return ""
    v = mp.mpf(v)
    if not mp.isfinite(v):
        return ""
    if v != 0 and (abs(v) > F64_MAX or abs(v) < F64_TINY):
        return ""
    return mp.nstr(v, 25, min_fixed=-5, max_fixed=5)


def ffmt(x):
    """An argument: the exact f64 value as printed by repr (round-trips)."""
    return repr(float(x))


def derivs(f, x, n=3):
    """f and its first n derivatives at the f64 point x."""
    x = mp.mpf(float(x))
    out = [f(x)]
    for k in range(1, n + 1):
        try:
            out.append(mp.diff(f, x, k))
        except (ValueError, ZeroDivisionError):
            out.append(None)
    return out


def write(name, rows):
    path = os.path.join(OUT, name + ".csv")
    with open(path, "w") as fh:
        fh.write("func,p,x,value,d1,d2,d3\n")
        for func, p, x, vals in rows:
            vals = list(vals) + [None] * (4 - len(vals))
            fh.write(",".join([func, "" if p is None else ffmt(p), ffmt(x)] + [fmt(v) for v in vals]) + "\n")
    print(f"{path}: {len(rows)} rows")


def gamma_family():
    xs = [1e-300, 1e-10, 1e-3, 0.1, 0.5, 0.9, 0.999999, 1.0, 1.000001, 1.25, 1.4616321449683622,
          1.5, 1.9999, 2.0, 2.0001, 2.5, 3.0, 4.75, 7.3, 10.0, 12.5, 33.3, 100.0, 171.5, 1000.0,
          12345.678, 1e5, 1e8, 1e10, 1e15, 1e100, 1e300,
          -0.5, -1.5, -2.7, -10.3, -100.25]
    rows = []
    for x in xs:
        X = mp.mpf(x)
        # lgamma = log|Gamma|; derivatives are polygammas (exact).
        d = [mp.log(abs(mp.gamma(X))) if X > -1000 else None]
        for k in range(3):
            d.append(mp.polygamma(k, X))
        rows.append(("lgamma", None, x, d))
        d = [mp.polygamma(k, X) for k in range(4)]
        rows.append(("digamma", None, x, d))
    # polygamma of higher orders
    for n in [1, 2, 3, 4, 5, 7, 10, 20, 50, 100]:
        for x in [0.01, 0.1, 0.5, 1.0, 1.5, 2.3, 5.0, 10.0, 30.0, 100.0, 1e4, 1e8, -0.5, -2.25]:
            X = mp.mpf(x)
            d = [mp.polygamma(n + k, X) for k in range(4)]
            rows.append(("polygamma", n, x, d))
    write("gamma", rows)


def lbeta_rows():
    pairs = [(0.5, 0.5), (1.0, 1.0), (2.0, 3.0), (0.1, 7.5), (1e-5, 2.0), (3.3, 3.3), (10.0, 0.5),
             (12.0, 15.0), (100.0, 0.25), (1e4, 3.0), (1e6, 1e6), (2.5, 1e8), (1e-3, 1e-3), (40.0, 60.0)]
    rows = []
    for a, b in pairs:
        A = mp.mpf(a)
        f = lambda t: mp.log(mp.beta(A, t))
        B = mp.mpf(b)
        d = [f(B), mp.psi(0, B) - mp.psi(0, A + B), mp.psi(1, B) - mp.psi(1, A + B),
             mp.psi(2, B) - mp.psi(2, A + B)]
        rows.append(("lbeta", a, b, d))
    write("lbeta", rows)


def erf_derivs(x, complementary=False):
    """erf and its derivatives: (-1)^(k-1) 2/sqrt(pi) H_(k-1)(x) exp(-x^2)."""
    X = mp.mpf(float(x))
    g = 2 / mp.sqrt(mp.pi) * mp.exp(-X * X)
    sign = -1 if complementary else 1
    out = [mp.erfc(X) if complementary else mp.erf(X)]
    for k in range(1, 4):
        out.append(sign * (-1) ** (k - 1) * mp.hermite(k - 1, X) * g)
    return out


def phi_derivs(x):
    """Phi and its derivatives: (-1)^(k-1) He_(k-1)(x) phi(x)."""
    X = mp.mpf(float(x))
    pdf = mp.npdf(X)
    he = lambda n: 2 ** (-mp.mpf(n) / 2) * mp.hermite(n, X / mp.sqrt(2))
    return [mp.ncdf(X)] + [(-1) ** (k - 1) * he(k - 1) * pdf for k in range(1, 4)]


def erf_family():
    xs = [0.0, 1e-300, 1e-10, 1e-3, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.5, 6.0,
          8.0, 10.0, 15.0, 20.0, 26.0, 27.0, -1e-10, -0.5, -1.0, -2.0, -3.5, -5.0, -6.0, -10.0, -27.0]
    rows = []
    for x in xs:
        rows.append(("erf", None, x, erf_derivs(x)))
        rows.append(("erfc", None, x, erf_derivs(x, complementary=True)))
    for x in xs + [-37.0, -38.5, 37.0, -30.0, -20.0, -12.3, 12.3, 0.7]:
        rows.append(("phi", None, x, phi_derivs(x)))
    # log Φ: log1p(-Φ(-t)) above 0, and 300 digits, so that 1 - Φ(30) = 5e-198
    # and the numeric derivatives keep their digits.
    def log_phi(t):
        return mp.log(mp.ncdf(t)) if t < 0 else mp.log1p(-mp.ncdf(-t))
    for x in [-1000.0, -100.0, -40.0, -38.5, -25.0, -20.5, -20.0, -12.3, -8.0, -5.0, -3.5, -3.0,
              -2.9, -1.0, -0.5, 0.0, 0.7, 2.0, 5.0, 9.0, 12.3, 30.0]:
        with mp.workdps(300):
            rows.append(("log_phi", None, x, derivs(log_phi, x)))
    write("erf", rows)


def sigmoid_rows():
    rows = []
    for x in [0.0, 1e-8, 0.5, -0.5, 2.0, -2.0, 10.0, -10.0, 20.0, -20.0, 36.0, -36.0, 40.0, -40.0,
              100.0, -100.0, 700.0, -700.0, 745.0, -745.0]:
        # Analytic derivatives with s = sigma(x) and t = sigma(-x) = 1 - s
        # (computed separately so the tails keep their digits):
        # first s t, second s t (t - s), third s t (t^2 - 4 s t + s^2).
        X = mp.mpf(x)
        sv = 1 / (1 + mp.exp(-X))
        tv = 1 / (1 + mp.exp(X))
        st = sv * tv
        rows.append(("sigmoid", None, x, [sv, st, st * (tv - sv), st * (tv * tv - 4 * st + sv * sv)]))
        rows.append(("log_sigmoid", None, x, [-mp.log1p(mp.exp(-X)), tv, -st, -st * (tv - sv)]))
    write("sigmoid", rows)


def bessel_rows():
    rows = []
    nus = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 7.5, 10.0, 20.0, 50.0, 100.0, 0.3, 4.2]
    xs = [1e-5, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 29.0, 31.0, 50.0, 100.0, 200.0, 500.0, 700.0]
    for nu in nus:
        NU = mp.mpf(nu)
        f = lambda t: mp.besseli(NU, t)
        fs = lambda t: mp.besseli(NU, t) * mp.exp(-t)
        fl = lambda t: mp.log(mp.besseli(NU, t))
        rows.append(("besseli", nu, 0.0, [f(mp.mpf(0))]))
        for x in xs:
            rows.append(("besseli", nu, x, derivs(f, x)))
            rows.append(("besseli_scaled", nu, x, derivs(fs, x)))
            rows.append(("log_besseli", nu, x, derivs(fl, x)))
        for x in [1000.0, 1e4, 1e6]:
            rows.append(("besseli_scaled", nu, x, derivs(fs, x)))
            rows.append(("log_besseli", nu, x, derivs(fl, x)))
    write("besseli", rows)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    gamma_family()
    lbeta_rows()
    erf_family()
    sigmoid_rows()
    bessel_rows()
