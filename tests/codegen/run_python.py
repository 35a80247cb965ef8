"""Run generated Python or JAX modules at many points (driver for tests/codegen.rs).

Usage: python3 run_python.py SPEC.json [--jax]

SPEC.json: {"cases": [{"path": ..., "log_density": name, "score": name,
"hessian": name, "fim": name or null, "fim_args": [argument indices],
"points": [[argument values], ...]}, ...]}

For every case the functions are called once on whole columns of arguments
(NumPy broadcasting, or jax.vmap with --jax), and once more with plain
floats at the first point. Output, one line per point:
    B case point logp score... hessian(row-major)... [fim(row-major)...]
and one line per case for the scalar call, starting with S.
"""

import importlib.util
import json
import sys


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    spec = json.load(open(sys.argv[1]))
    use_jax = "--jax" in sys.argv[2:]
    if use_jax:
        import jax
        import jax.numpy as xp
    else:
        import numpy as xp
    out = []
    for ci, case in enumerate(spec["cases"]):
        m = load(case["path"], "generated_%d" % ci)
        points = case["points"]
        fns = [getattr(m, case["log_density"]), getattr(m, case["score"]), getattr(m, case["hessian"])]
        fim = getattr(m, case["fim"]) if case["fim"] else None

        def row_values(results, i):
            vals = []
            for r in results:
                vals.extend(float(v) for v in xp.ravel(xp.asarray(r)[i]))
            return vals

        columns = [xp.asarray([p[k] for p in points], dtype=xp.float64) for k in range(len(points[0]))]
        fim_columns = [columns[k] for k in case["fim_args"]]
        if use_jax:
            results = [jax.vmap(f)(*columns) for f in fns]
            if fim:
                results.append(jax.vmap(fim)(*fim_columns))
        else:
            results = [f(*columns) for f in fns]
            if fim:
                results.append(fim(*fim_columns))
        for i in range(len(points)):
            out.append("B %d %d %s" % (ci, i, " ".join(repr(v) for v in row_values(results, i))))
        # Plain floats at the first point.
        p0 = [float(v) for v in points[0]]
        single = [f(*p0) for f in fns]
        if fim:
            single.append(fim(*[p0[k] for k in case["fim_args"]]))
        vals = []
        for r in single:
            vals.extend(float(v) for v in xp.ravel(xp.asarray(r)))
        out.append("S %d 0 %s" % (ci, " ".join(repr(v) for v in vals)))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
