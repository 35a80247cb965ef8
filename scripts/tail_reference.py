#!/usr/bin/env python3
"""Reference values in the far tails for the probit and logit rows, with mpmath.

Writes tests/data/tails/bernoulli_links.csv. One row per (link, eta, y) for
the log-density of one Bernoulli row with P(y = 1) = F(eta), F = Phi
(probit) or sigmoid (logit), in its linear predictor eta:

    link,eta,y,logp,score,hessian,fim

score = d logp/d eta, hessian = d^2 logp/d eta^2, fim = -E[hessian]
(phi^2/(Phi (1 - Phi)) and sigma (1 - sigma)). Closed forms evaluated at
80 digits (the inverse Mills ratio r = phi/Phi, Hessian -r (eta + r) for
y = 1), printed with 25 significant digits; an empty cell is a value below
the smallest normal f64 (it underflows; the tests ask for |v| < 1e-300).

Run from the repository root:  python3 scripts/tail_reference.py
Needs mpmath (pip install mpmath). The Rust tests only read the CSV file.
"""

import os
import mpmath as mp

mp.mp.dps = 80
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "tails")
F64_TINY = mp.mpf("2.2250738585072014e-308")
ETAS = [-1000.0, -40.0, -20.0, -10.0, 10.0, 20.0, 40.0, 1000.0]


def fmt(v):
    v = mp.mpf(v)
    if v != 0 and abs(v) < F64_TINY:
        return ""
    return mp.nstr(v, 25, min_fixed=-5, max_fixed=5)


def log_phi(u):
    # log1p(-Phi(-u)) above 0: log(1 - 1e-89) is 0 even at 80 digits.
    return mp.log1p(-mp.ncdf(-u)) if u > 0 else mp.log(mp.ncdf(u))


def log_sigmoid(u):
    return -mp.log1p(mp.exp(-u))


def probit(eta, y):
    e = mp.mpf(eta)
    Phi = lambda u: mp.ncdf(u)
    phi = lambda u: mp.npdf(u)
    r = lambda u: phi(u) / Phi(u)
    logp = y * log_phi(e) + (1 - y) * log_phi(-e)
    score = y * r(e) - (1 - y) * r(-e)
    # (log Phi)''(u) = -r(u) (u + r(u)); d/deta of log Phi(-eta) is the same at -eta.
    hess = -y * r(e) * (e + r(e)) - (1 - y) * r(-e) * (-e + r(-e))
    fim = phi(e) ** 2 / (Phi(e) * Phi(-e))
    return logp, score, hess, fim


def logit(eta, y):
    e = mp.mpf(eta)
    s = lambda u: 1 / (1 + mp.exp(-u))
    logp = y * log_sigmoid(e) + (1 - y) * log_sigmoid(-e)
    score = y - s(e)
    hess = -s(e) * s(-e)
    return logp, score, hess, s(e) * s(-e)


def main():
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "bernoulli_links.csv")
    with open(path, "w") as fh:
        fh.write("link,eta,y,logp,score,hessian,fim\n")
        for name, f in [("probit", probit), ("logit", logit)]:
            for eta in ETAS:
                for y in (0, 1):
                    vals = f(eta, y)
                    fh.write(",".join([name, repr(eta), str(y)] + [fmt(v) for v in vals]) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
