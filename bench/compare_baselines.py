"""Compare two criterion baselines bench by bench (median times).

    python3 bench/compare_baselines.py CRITERION_HOME BEFORE AFTER

CRITERION_HOME is the directory the benches wrote to (CRITERION_HOME, or
target/criterion); BEFORE and AFTER are the names given to
--save-baseline. Prints one Markdown row per bench present in both, then
the geometric mean of after/before per bench group.
"""
import json
import math
import os
import sys


def median_ns(path):
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def fmt(ns):
    for unit, k in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= k:
            return f"{ns / k:.3g} {unit}"
    return f"{ns:.3g} ns"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    root, before, after = sys.argv[1:]
    rows = []
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) != before or "estimates.json" not in files:
            continue
        bench = os.path.dirname(dirpath)
        other = os.path.join(bench, after, "estimates.json")
        if not os.path.exists(other):
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            name = json.load(f)["full_id"]
        rows.append((name, median_ns(os.path.join(dirpath, "estimates.json")), median_ns(other)))
    rows.sort()
    print(f"| bench | {before} | {after} | ratio |\n|---|---|---|---|")
    groups = {}
    for name, b, a in rows:
        groups.setdefault(name.split("/")[0], []).append(a / b)
        print(f"| {name} | {fmt(b)} | {fmt(a)} | {a / b:.2f} |")
    for group, ratios in groups.items():
        mean = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(
            f"# {group}: {len(ratios)} benches, geometric mean {after}/{before} "
            f"{mean:.3f}, range {min(ratios):.2f}-{max(ratios):.2f}"
        )


if __name__ == "__main__":
    main()
