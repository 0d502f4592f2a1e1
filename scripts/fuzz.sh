#!/usr/bin/env bash
# Fuzz the inputs fusebox parses: config files (TOML, Spring YAML), durations, trace headers.
#
#   scripts/fuzz.sh            # 10 s per target (what .ci/run does)
#   scripts/fuzz.sh 600        # the longer run: 10 min per target
#
# Needs a nightly toolchain (libFuzzer with sanitizers); cargo-fuzz is installed from crates.io
# if missing. Without nightly the run is skipped with a message. Every run is bounded in time,
# memory (-rss_limit_mb) and single allocations (-malloc_limit_mb).
set -euo pipefail
secs="${1:-10}"
root="$(cd "$(dirname "$0")/.." && pwd)"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "SKIPPED fuzzing: no nightly toolchain (cargo fuzz needs one; rustup toolchain install nightly)"
  exit 0
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "installing cargo-fuzz from crates.io..."
  cargo install cargo-fuzz --locked --quiet
fi

cd "$root/fuzz"
total=0
for target in config_toml config_yaml duration trace_headers; do
  mkdir -p "corpus/$target"
  log="$(mktemp)"
  if ! cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
      >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $target FAILED (artifacts in fuzz/artifacts/$target)"
    exit 1
  fi
  runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)"
  runs="${runs:-0}"
  total=$((total + runs))
  echo "fuzz $target: $runs executions in ${secs}s, no crash"
  rm -f "$log"
done
echo "fuzz: $total executions over 4 targets, no crash"
