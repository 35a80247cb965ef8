#!/usr/bin/env python3
"""Print the derive bench medians (criterion's target/criterion/*/new) as a
Markdown table with the targets of benches/derive.rs.

Usage: python3 bench/derive_table.py [--baseline DIR]   (run from the repo root)
DIR: a copy of target/criterion from an earlier run, shown as "before".
"""
import json, pathlib, sys

TARGETS_MS = {  # fisher/<name>: 100x faster than SymPy on the same machine
    "fisher/bernoulli": 1.09, "fisher/normal": 0.72, "fisher/gamma": 0.32,
    "fisher/beta": 0.91, "fisher/dirichlet_k3": 1.86,
    "fisher/dirichlet_k10": 26.0, "fisher/multinomial_k10": 47.0,
    "fisher/mvn_diag_d10": 5.2,
}
SYMPY_MS = {"fisher/bernoulli": 109, "fisher/normal": 72, "fisher/gamma": 32,
            "fisher/beta": 91, "fisher/dirichlet_k3": 186,
            "fisher/dirichlet_k10": 2600, "fisher/multinomial_k10": 4700,
            "fisher/mvn_diag_d10": 520}


def target(full_id):
    if full_id in TARGETS_MS:
        return TARGETS_MS[full_id]
    if full_id == "derive/dirichlet_k10":
        return 200.0
    if full_id.startswith("derive/"):
        return 20.0
    return None


def medians(root):
    out = {}
    for b in pathlib.Path(root).glob("*/*/new/benchmark.json"):
        full = json.loads(b.read_text())["full_id"]
        est = json.loads((b.parent / "estimates.json").read_text())
        out[full] = est["median"]["point_estimate"] / 1e6  # ns -> ms
    return out


def main():
    now = medians("target/criterion")
    before = {}
    if "--baseline" in sys.argv:
        before = medians(sys.argv[sys.argv.index("--baseline") + 1])
    head = "| bench | before (ms) | now (ms) | target (ms) | met | SymPy / now |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    order = lambda k: (not k.startswith("derive/"), k)
    for k in sorted(now, key=order):
        t = target(k)
        b = f"{before[k]:.3f}" if k in before else ""
        met = "" if t is None else ("yes" if now[k] < t else "**no**")
        ratio = f"{SYMPY_MS[k] / now[k]:.0f}×" if k in SYMPY_MS else ""
        ts = "" if t is None else f"{t:g}"
        print(f"| {k} | {b} | {now[k]:.3f} | {ts} | {met} | {ratio} |")


if __name__ == "__main__":
    main()
