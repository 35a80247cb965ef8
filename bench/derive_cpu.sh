#!/usr/bin/env bash
# CPU time per derivation (`fisher/<model>`: the whole `fisher::derive`;
# `fim/<model>`: F alone, `fisher::fisher_information`) of one or more
# bench binaries, model by model (interleaved, so all see the same load).
#
# Usage: bench/derive_cpu.sh [-n N] BIN [BIN...]
# Build a binary with `cargo bench --bench derive --no-run` (it prints the
# path target/release/deps/derive-<hash>); keep a copy of main's to compare.
#
# CPU time = (task-clock of N derivations − task-clock of the same process
# with none) / N: the process also parses every model and builds the rule
# set once (~3 ms), which would otherwise be charged to the derivations.
set -euo pipefail
n=200
if [ "${1:-}" = "-n" ]; then n=$2; shift 2; fi
models="bernoulli normal gamma beta dirichlet_k3 dirichlet_k10 multinomial_k10 mvn_diag_d10"
cpu() { # BIN FILTER COUNT -> task-clock ms
  FIMKIT_DERIVE_COUNT=$3 perf stat -x, -e task-clock "$1" "$2" 2>&1 >/dev/null |
    awk -F, '/task-clock/ {print $1}'
}
printf '%-22s' "model"
for bin in "$@"; do printf ' %12s' "$(basename "$bin")"; done
printf '  loadavg\n'
for m in $models; do
  for g in fisher fim; do
    # Big models: fewer runs.
    k=$n
    case $m in dirichlet_k10|mvn_diag_d10) k=$((n / 5 + 1));; multinomial_k10) k=$((n / 20 + 1));; esac
    case $g/$m in fim/multinomial_k10|fim/dirichlet_k10|fim/mvn_diag_d10) ;; fim/*) k=$((n * 4));; esac
    printf '%-22s' "$g/$m"
    for bin in "$@"; do
      base=$(cpu "$bin" no-model-matches 1)
      total=$(cpu "$bin" "$g/$m" "$k")
      printf ' %12.3f' "$(echo "($total - $base) / $k" | bc -l)"
    done
    printf '  %s\n' "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
