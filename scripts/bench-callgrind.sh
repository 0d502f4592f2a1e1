#!/usr/bin/env bash
# Instructions per call under callgrind, for BENCHMARKS.md section 8.
#
#   scripts/bench-callgrind.sh              # every case
#   scripts/bench-callgrind.sh fusebox_guard recloser_sync
#
# Per case: Ir of `callgrind <case> 0` and of `callgrind <case> N` (N = 1 000 000, or $CG_N);
# instructions per call = (Ir_N - Ir_0) / N, which subtracts setup and runtime construction.
# Counts are user-space instructions and deterministic (no wall-clock noise).
set -euo pipefail
cd "$(dirname "$0")/.."

N="${CG_N:-1000000}"
out="target/callgrind"
mkdir -p "$out"

bin=$(cargo bench --bench callgrind --no-run --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*callgrind[^"]*"' | tail -1 | cut -d'"' -f4)
[[ -x "$bin" ]] || { echo "could not build the callgrind driver" >&2; exit 1; }

if [[ $# -eq 0 ]]; then
  # the driver lists its cases when run without arguments
  read -r -a cases <<<"$("$bin" 2>&1 | sed -n 's/.*cases: //p')"
else
  cases=("$@")
fi

ir() { # case n -> total Ir
  valgrind --tool=callgrind --callgrind-out-file="$out/$1.$2.out" "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-28s %14s %14s %10s\n' case Ir_0 Ir_N instr/call
for c in "${cases[@]}"; do
  if ! i0=$(ir "$c" 0) || [[ -z "$i0" ]]; then printf '%-28s %s\n' "$c" "failed"; continue; fi
  iN=$(ir "$c" "$N")
  awk -v c="$c" -v a="$i0" -v b="$iN" -v n="$N" 'BEGIN { printf "%-28s %14d %14d %10.1f\n", c, a, b, (b - a) / n }'
done
