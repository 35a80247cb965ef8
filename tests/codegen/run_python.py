"""Run generated Python or JAX modules at many points (driver for tests/codegen.rs).

Usage: python3 run_python.py SPEC.json [--jax]

SPEC.json: {"cases": [{"path": ..., "log_density": name, "score": name,
"hessian": name, "fim": name or null, "args": layout, "fim_args": layout,
"points": [[argument values], ...]}, ...]}

A layout lists the functions' arguments: an index into a point for a
scalar argument, a list of indices for an array argument (an indexed
name's elements, in order, along the array's last axis).

For every case the functions are called once on whole columns of arguments
(NumPy broadcasting, or jax.vmap with --jax; an array argument is a
(points, K) array), and once more with plain floats (a list of K floats
for an array argument) at the first point. With --jax the driver turns on
JAX's 64-bit mode itself: the generated module does not. Output, one line per point:
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

        jax.config.update("jax_enable_x64", True)
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

        def pack(layout, values, array):
            return [array([values[k] for k in a]) if isinstance(a, list) else values[a] for a in layout]

        def stack(cs):
            return xp.stack(cs, axis=-1)

        args = pack(case["args"], columns, stack)
        fim_columns = pack(case["fim_args"], columns, stack)
        if use_jax:
            results = [jax.vmap(f)(*args) for f in fns]
            if fim:
                results.append(jax.vmap(fim)(*fim_columns))
        else:
            results = [f(*args) for f in fns]
            if fim:
                results.append(fim(*fim_columns))
        for i in range(len(points)):
            out.append("B %d %d %s" % (ci, i, " ".join(repr(v) for v in row_values(results, i))))
        # Plain floats at the first point.
        p0 = [float(v) for v in points[0]]
        single = [f(*pack(case["args"], p0, list)) for f in fns]
        if fim:
            single.append(fim(*pack(case["fim_args"], p0, list)))
        vals = []
        for r in single:
            vals.extend(float(v) for v in xp.ravel(xp.asarray(r)))
        out.append("S %d 0 %s" % (ci, " ".join(repr(v) for v in vals)))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
