#!/usr/bin/env bash
# Every row of BENCHMARKS.md's lead table, measured in one session
# (issue 18, item 5): fimkit's benches and each peer right after.
#
#   bench/lead_table.sh [OUT_DIR]      # logs in OUT_DIR (default target/lead)
#
# Needs the project's .venv (run scripts/test once: numpy, scipy, jax,
# sympy and the Python package) and the pinned peers of
# bench/requirements.txt (.venv/bin/pip install -r bench/requirements.txt),
# and perf (bench/derive_cpu.sh). Takes about 6 minutes after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
out=${1:-target/lead}
mkdir -p "$out"
stamp() { echo "=== $1 $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"; }
# The bench executables (built once, with the bench profile).
exe() {
  cargo bench --no-run --bench "$1" --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["bench"]:
        print(m["executable"])'
}
derive=$(exe derive); hessians=$(exe hessians); fit=$(exe fit)
stamp "hessians (fimkit, hand-written Rust)"
FIMKIT_BENCH_ONLY=gamma,logistic_d10,logistic_d50,pk "$hessians" --bench --noplot \
  "sum_rows|hand|pk/fimkit_rows|d10/fimkit_rows" > "$out/hessians.log" 2>&1
stamp "JAX"
$py bench/jax_hessians.py --rows 1000000 --repeats 3 --only gamma,logistic_d10,pk > "$out/jax.log" 2>&1
$py bench/jax_hessians.py --rows 200000 --repeats 3 --only logistic_d50 >> "$out/jax.log" 2>&1
stamp "Python package against JAX"
PATH="$PWD/.venv/bin:$PATH" $py bench/python_hessians.py --rows 1000000 --repeats 7 > "$out/python_hessians.log" 2>&1
stamp "Python package against statsmodels"
PATH="$PWD/.venv/bin:$PATH" $py bench/python_fit.py > "$out/python_fit.log" 2>&1
stamp "derivation CPU time (fimkit)"
bench/derive_cpu.sh -n 100 "$derive" > "$out/derive_cpu.log" 2>&1
stamp "the SymPy recipe"
$py bench/sympy_fim.py --repeats 3 > "$out/sympy.log" 2>&1
stamp "the SymPy recipe, whole derivation"
$py bench/sympy_fim.py --whole --repeats 1 --cap 30 > "$out/sympy_whole.log" 2>&1
stamp "XᵀWX (fimkit)"
"$fit" --bench --noplot --measurement-time 3 > "$out/fit.log" 2>&1
stamp "XᵀWX (NumPy)"
$py bench/fit_fim_numpy.py --repeats 5 > "$out/numpy.log" 2>&1
stamp done
grep -h -E "^hessians/|thrpt" "$out/hessians.log" | paste - - | awk '{print $1, $(NF-3), $(NF-2)}'
