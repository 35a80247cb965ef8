#!/usr/bin/env python3
"""D-optimal approximate design by REX (Harman, Filová & Richtárik 2020,
JASA 115, 348-361) in NumPy: the yardstick for `fimkit design` on a
d = 10 linear-predictor model over 10^5 candidate points (issue 16,
item 6). The same algorithm as src/design/weights.rs's rank-one D path:
the leading boundary exchange, then all pairs of a random ordering of the
support and the L = 4d best candidates, each with the closed-form optimal
step α = (d_k − d_l) / (2(d_k d_l − d_kl²)) and Sherman–Morrison updates
of M⁻¹; stop when max_x fᵀM⁻¹f ≤ d(1 + tol).

Candidates: a CSV of 9 covariates z[1..9] (the model adds the intercept),
or, without --csv, 10^5 points uniform in [-1, 1]^9 from --seed.

    python3 bench/design_rex_numpy.py [--csv FILE] [--n 100000] [--tol 1e-11] [--seed 1]

Prints the time, iterations, support size, det M and max sensitivity.
"""
import argparse
import time

import numpy as np


def rex_d(F, tol=1e-11, seed=1, max_iter=5000):
    n, d = F.shape
    rng = np.random.default_rng(seed)
    # Start: uniform on a random set of 2d points (regular with probability 1 here).
    w = np.zeros(n)
    w[rng.choice(n, 2 * d, replace=False)] = 1.0 / (2 * d)
    L = min(4 * d, n)
    for it in range(max_iter):
        M = (F.T * w) @ F
        Minv = np.linalg.inv(M)
        sens = np.einsum("ij,jk,ik->i", F, Minv, F)
        if sens.max() <= d * (1 + tol):
            return w, it, M, sens.max() / d
        supp = np.flatnonzero(w > 0)

        def exchange(k, l):
            nonlocal Minv
            fk, fl = F[k], F[l]
            uk, ul = Minv @ fk, Minv @ fl
            dk, dl, dkl = fk @ uk, fl @ ul, fk @ ul
            g = dk * dl - dkl * dkl
            lo, hi = -w[k], w[l]
            if g > 1e-14 * dk * dl:
                a = min(max((dk - dl) / (2 * g), lo), hi)
            else:
                a = hi if dk > dl else (lo if dk < dl else 0.0)
            if a == 0.0:
                return
            den = 1 + a * dk
            if den <= 0:
                return
            mi = Minv - np.outer(uk, uk) * (a / den)
            u = mi @ fl
            den2 = 1 - a * (fl @ u)
            if den2 <= 0:
                return
            Minv = mi + np.outer(u, u) * (a / den2)
            total = w[k] + w[l]
            if a >= w[l]:
                w[k], w[l] = total, 0.0
            elif a <= -w[k]:
                w[l], w[k] = total, 0.0
            else:
                w[k] += a
                w[l] = total - w[k]

        exchange(int(sens.argmax()), int(supp[sens[supp].argmin()]))
        best = np.argpartition(-sens, L - 1)[:L]
        K = np.unique(np.concatenate([supp, best]))
        rng.shuffle(K)
        for i in range(len(K)):
            for j in range(i + 1, len(K)):
                k, l = K[i], K[j]
                if w[k] > 0 or w[l] > 0:
                    exchange(k, l)
        w /= w.sum()
    return w, max_iter, (F.T * w) @ F, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--tol", type=float, default=1e-11)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.csv:
        Z = np.loadtxt(a.csv, delimiter=",", skiprows=1)
    else:
        Z = np.random.default_rng(a.seed).uniform(-1, 1, size=(a.n, 9))
    F = np.hstack([np.ones((len(Z), 1)), Z])
    t = time.perf_counter()
    w, it, M, maxs = rex_d(F, a.tol, a.seed)
    dt = time.perf_counter() - t
    print(f"n={len(F)} d={F.shape[1]} time {dt:.3f} s, {it} iterations, support {np.count_nonzero(w)}, "
          f"det M {np.linalg.det(M):.10g}, max sensitivity/d {maxs}")


if __name__ == "__main__":
    main()
