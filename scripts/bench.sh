#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md in one go, results saved under target/bench-results/<stamp>/.
#
#   scripts/bench.sh                       # default settings (criterion ~4 min, JMH ~1 min, callgrind ~5 min)
#   FUSEBOX_BENCH_LONG=1 scripts/bench.sh  # longer criterion and JMH settings
#   SKIP_JMH=1 SKIP_CALLGRIND=1 scripts/bench.sh
#
# Wall-clock figures on a shared 2-core machine are noisy: the script records how many rustc
# processes were running before each step, so a noisy run can be spotted and repeated.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="target/bench-results/$stamp"
mkdir -p "$out"
busy() { echo "rustc processes running: $(pgrep -c rustc || true); load: $(cut -d' ' -f1-3 /proc/loadavg)"; }

{
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  git status --short runtime macros src 2>/dev/null | sed 's/^/dirty: /' || true
  lscpu | grep -E 'Model name|CPU family|Model:|^CPU\(s\)|Hypervisor' || true
  uname -r; rustc -V; java -version 2>&1 | head -1 || true
} > "$out/machine.txt"

cargo bench --bench peers --bench memory --bench callgrind --no-run

busy | tee "$out/criterion.busy"
rm -rf target/criterion
cargo bench --bench peers 2>&1 | tee "$out/criterion.txt"
cp -r target/criterion "$out/criterion"
scripts/bench-summary.sh "$out/criterion" > "$out/criterion-summary.md"

busy | tee "$out/memory.busy"
cargo bench --bench memory 2>&1 | tee "$out/memory.txt"

if [[ -z "${SKIP_CALLGRIND:-}" ]]; then
  scripts/bench-callgrind.sh 2>&1 | tee "$out/callgrind.txt"
fi
if [[ -z "${SKIP_JMH:-}" ]]; then
  busy | tee "$out/jmh.busy"
  scripts/bench-jmh.sh 2>&1 | tee "$out/jmh.txt"
fi
echo "results in $out"
