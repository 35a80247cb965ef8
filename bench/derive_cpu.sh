#!/usr/bin/env bash
# CPU and wall time per `fisher::derive`, two bench binaries back to back,
# model by model (interleaved, so both see the same load).
# Usage: bench/derive_cpu.sh BEFORE_BIN AFTER_BIN [N]
# Build a binary with `cargo bench --bench derive --no-run` (it prints the
# path target/release/deps/derive-<hash>); keep a copy of main's.
set -euo pipefail
before=$1 after=$2 n=${3:-20}
models="bernoulli normal gamma beta dirichlet_k3 dirichlet_k10 multinomial_k10 mvn_diag_d10"
printf '%-16s %10s %10s %10s %10s %s\n' model cpu_before cpu_after wall_before wall_after loadavg
for m in $models; do
  for which in before after; do
    bin=${!which}
    out=$(FIMKIT_DERIVE_COUNT=$n perf stat -x, -e task-clock "$bin" "fisher/$m" 2>&1)
    cpu=$(echo "$out" | awk -F, '/task-clock/ {print $1}')
    wall=$(echo "$out" | sed -n 's/.*: \([0-9.]*\) ms per derivation.*/\1/p')
    eval "cpu_$which=\$(echo \"$cpu / $n\" | bc -l)"
    eval "wall_$which=$wall"
  done
  printf '%-16s %10.2f %10.2f %10.2f %10.2f %s\n' "$m" "$cpu_before" "$cpu_after" "$wall_before" "$wall_after" "$(cut -d' ' -f1 /proc/loadavg)"
done
