#!/usr/bin/env python3
"""Generate the regression datasets the `fimkit fit` tests use.

Writes CSV files into tests/data/fit/ (committed; the tests never run
Python). Fixed seeds: running this again reproduces the files exactly
with the same numpy version (numpy.random.Generator(PCG64)).

    python3 scripts/fit/gen_data.py
"""
import math
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "fit"


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def phi(x):
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def write(name, cols):
    names = list(cols)
    n = len(cols[names[0]])
    with open(OUT / name, "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            row = []
            for c in names:
                v = cols[c][i]
                if float(v).is_integer() and c in ("y", "k"):
                    row.append(str(int(v)))
                else:
                    row.append(repr(float(v)))
            f.write(",".join(row) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240611)
    n = 500
    z1 = rng.normal(0.0, 1.0, n)
    z2 = rng.uniform(-1.0, 2.0, n)
    # logistic: b = (-0.5, 1.2, -0.8)
    y = rng.binomial(1, sigmoid(-0.5 + 1.2 * z1 - 0.8 * z2))
    write("logistic.csv", {"z1": z1, "z2": z2, "y": y})
    # probit: b = (0.2, 0.9, -0.6)
    y = rng.binomial(1, phi(0.2 + 0.9 * z1 - 0.6 * z2))
    write("probit.csv", {"z1": z1, "z2": z2, "y": y})
    # Poisson: b = (0.3, 0.7, -0.5), z2 a 0/1 indicator
    m = 400
    w1 = rng.normal(0.0, 0.5, m)
    w2 = rng.binomial(1, 0.4, m).astype(float)
    k = rng.poisson(np.exp(0.3 + 0.7 * w1 - 0.5 * w2))
    write("poisson.csv", {"z1": w1, "z2": w2, "k": k})
    # Completely separated: y = 1 exactly when z1 > 0.
    s1 = rng.normal(0.0, 1.0, 40)
    s2 = rng.normal(0.0, 1.0, 40)
    write("separated.csv", {"z1": s1, "z2": s2, "y": (s1 > 0).astype(int)})
    # Normal(3, 2).
    write("normal.csv", {"x": np.random.default_rng(7).normal(3.0, 2.0, 200)})
    # Collinear: z2 = 2 z1 exactly.
    c1 = np.round(rng.normal(0.0, 1.0, 60), 3)
    yc = rng.binomial(1, sigmoid(0.3 * c1))
    write("collinear.csv", {"z1": c1, "z2": 2.0 * c1, "y": yc})
    # Gamma(shape 2.5, rate 1.5), for the two-parameter plots (own
    # generator: adding it left the files above unchanged).
    g = np.random.default_rng(11).gamma(2.5, 1.0 / 1.5, 300)
    write("gamma.csv", {"x": g})
    # The probit data with one extreme row: eta = -26.5 at the MLE, where
    # Phi(eta)^2 underflows (issue 13). y = 0, as the model predicts there.
    extreme = (OUT / "probit.csv").read_text() + "-28.0,0.0,0\n"
    (OUT / "probit_extreme.csv").write_text(extreme)
    extremes(g)


def extremes(g):
    """Fits that must not report a false optimum (issue #13): the same
    Gamma sample on a scale of 1e9 and with one 1e100 outlier (both have
    an MLE), and data whose log-likelihood has its supremum on the
    boundary of the parameter domain (no MLE inside it)."""
    write("gamma_1e9.csv", {"x": g * 1e9})
    write("gamma_outlier.csv", {"x": np.append(g, 1e100)})
    write("bernoulli_ones.csv", {"y": np.ones(20)})
    write("poisson_zeros.csv", {"k": np.zeros(10)})
    write("normal_identical.csv", {"x": np.full(4, 2.5)})
    # Quasi-complete separation: y = 1 exactly when z1 > 0, except 20
    # rows with z1 = 0 and a random y.
    r = np.random.default_rng(13)
    a, b = r.normal(0.0, 1.0, 200), r.normal(0.0, 1.0, 200)
    b0, y0 = r.normal(0.0, 1.0, 20), r.binomial(1, 0.5, 20)
    write("quasi_separated.csv", {
        "z1": np.append(a, np.zeros(20)),
        "z2": np.append(b, b0),
        "y": np.append((a > 0).astype(int), y0),
    })


if __name__ == "__main__":
    main()
