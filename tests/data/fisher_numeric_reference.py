"""Reference Fisher information matrices for tests/fisher_numeric.rs, by
mpmath at 30 digits (independent of fimkit: scores written by hand here,
integrals by mpmath.quad / nsum). Run: python3 tests/data/fisher_numeric_reference.py
> tests/data/fisher_numeric_reference.json"""
import json
import mpmath as mp

mp.mp.dps = 30


def fim_continuous(logpdf, score, theta, a, b):
    n = len(theta)
    out = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            f = lambda x: mp.exp(logpdf(x, *theta)) * score(x, *theta)[i] * score(x, *theta)[j]
            v = mp.quad(f, [a, 0, b] if a == -mp.inf else [a, 1, b])
            out[i][j] = out[j][i] = float(v)
    return out


# Two-component normal mixture, unit variances.
def mix_logpdf(x, w, m1, m2):
    return mp.log(w * mp.npdf(x, m1, 1) + (1 - w) * mp.npdf(x, m2, 1))


def mix_score(x, w, m1, m2):
    p1, p2 = mp.npdf(x, m1, 1), mp.npdf(x, m2, 1)
    p = w * p1 + (1 - w) * p2
    return [(p1 - p2) / p, w * p1 * (x - m1) / p, (1 - w) * p2 * (x - m2) / p]


def mix_fim(theta):
    n = 3
    out = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            f = lambda x: mp.exp(mix_logpdf(x, *theta)) * mix_score(x, *theta)[i] * mix_score(x, *theta)[j]
            v = mp.quad(f, [-mp.inf, -5, 0, 5, mp.inf])
            out[i][j] = out[j][i] = float(v)
    return out


# Weibull shape k, scale lam.
def weib_logpdf(x, k, lam):
    return mp.log(k) - mp.log(lam) + (k - 1) * (mp.log(x) - mp.log(lam)) - (x / lam) ** k


def weib_score(x, k, lam):
    z = x / lam
    return [1 / k + mp.log(z) - z ** k * mp.log(z), (k / lam) * (z ** k - 1)]


def weib_fim(theta):
    n = 2
    out = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            f = lambda x: mp.exp(weib_logpdf(x, *theta)) * weib_score(x, *theta)[i] * weib_score(x, *theta)[j]
            v = mp.quad(f, [0, theta[1], 4 * theta[1], mp.inf])
            out[i][j] = out[j][i] = float(v)
    return out


# Zero-inflated Poisson.
def zip_fim(w, lam):
    def pmf(k):
        base = (1 - w) * mp.exp(-lam) * lam ** k / mp.factorial(k)
        return base + (w if k == 0 else 0)

    def score(k):
        p = pmf(k)
        pois = mp.exp(-lam) * lam ** k / mp.factorial(k)
        dw = ((1 if k == 0 else 0) - pois) / p
        dl = (1 - w) * pois * (k / lam - 1) / p
        return [dw, dl]

    out = [[mp.mpf(0)] * 2 for _ in range(2)]
    for i in range(2):
        for j in range(2):
            out[i][j] = float(mp.nsum(lambda k: pmf(int(k)) * score(int(k))[i] * score(int(k))[j], [0, mp.inf]))
    return out


# Student-t with unknown nu (closed form of Lange, Little & Taylor 1989).
def t_fim(mu, sigma, nu):
    imm = (nu + 1) / ((nu + 3) * sigma ** 2)
    iss = 2 * nu / ((nu + 3) * sigma ** 2)
    isn = -2 / (sigma * (nu + 1) * (nu + 3))
    inn = (mp.psi(1, nu / 2) - mp.psi(1, (nu + 1) / 2)) / 4 - (nu + 5) / (2 * nu * (nu + 1) * (nu + 3))
    return [[float(imm), 0.0, 0.0], [0.0, float(iss), float(isn)], [0.0, float(isn), float(inn)]]


g = mp.euler
out = {
    "normal_mixture": {"theta": [0.3, -1.0, 1.5], "fim": mix_fim([mp.mpf("0.3"), mp.mpf(-1), mp.mpf("1.5")])},
    "weibull2": {"theta": [1.7, 2.5], "fim": weib_fim([mp.mpf("1.7"), mp.mpf("2.5")]),
                 "formula": [[float((mp.pi ** 2 / 6 + (1 - g) ** 2) / mp.mpf("1.7") ** 2), float(-(1 - g) / mp.mpf("2.5"))],
                             [float(-(1 - g) / mp.mpf("2.5")), float(mp.mpf("1.7") ** 2 / mp.mpf("2.5") ** 2)]]},
    "zip": {"theta": [0.2, 3.5], "fim": zip_fim(mp.mpf("0.2"), mp.mpf("3.5"))},
    "student_t": {"theta": [0.3, 1.5, 4.5], "fim": t_fim(mp.mpf("0.3"), mp.mpf("1.5"), mp.mpf("4.5"))},
}
print(json.dumps(out, indent=1))
