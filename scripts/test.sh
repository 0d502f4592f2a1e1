#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this):
#
#   ./scripts/test.sh
#
# 1. builds everything once;
# 2. starts a real Zipkin on a free loopback port when Java 17+ and Maven are present
#    (scripts/zipkin.sh; the Zipkin tests say SKIPPED otherwise) and stops it at exit;
# 3. runs every test of the workspace (unit, integration, trybuild UI, doc tests, the
#    Resilience4j parity suite when Java and Maven are present, the two-service demo test),
#    and the OTLP exporter's test with the optional features on;
# 4. runs the loom model checks, a bounded fuzz run and a one-iteration smoke run of the
#    benchmark harness.
#
# Knobs: FUSEBOX_TEST_THREADS (default 2), FUSEBOX_FUZZ_SECONDS (default 10; 0 skips),
# FUSEBOX_SKIP_LOOM=1, FUSEBOX_SKIP_BENCH_SMOKE=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
threads="${FUSEBOX_TEST_THREADS:-2}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
step() { printf '\n==> %s\n' "$*"; }

step "build (once)"
cargo build --workspace --all-targets --locked --jobs 2

step "Zipkin"
zipkin_started=0
set +e
zipkin_out="$(scripts/zipkin.sh start)"
zipkin_rc=$?
set -e
case "$zipkin_rc" in
  0)
    ZIPKIN_URL="$(printf '%s\n' "$zipkin_out" | sed -n 's/^ZIPKIN_URL=//p' | tail -n 1)"
    export ZIPKIN_URL
    zipkin_started=1
    trap 'scripts/zipkin.sh stop >/dev/null 2>&1 || true' EXIT
    echo "Zipkin running at $ZIPKIN_URL"
    ;;
  3) echo "Zipkin not started (no Java 17+ or Maven): the Zipkin tests will print SKIPPED" ;;
  *) echo "scripts/zipkin.sh start failed (exit $zipkin_rc)"; exit "$zipkin_rc" ;;
esac

step "cargo test (workspace)"
cargo test --workspace --locked -- --test-threads="$threads"

step "optional features: OTLP export, reqwest-middleware, config file watching"
cargo test -p fusebox-runtime --features otlp,reqwest-middleware --locked --test telemetry_otlp
cargo test -p fusebox-runtime --features watch --locked --test config_watch

step "actuator answers against recorded Resilience4j/Spring Boot (tests/spring-ref/golden; no Java needed)"
cargo test --features actuator --locked --test spring_compare

step "rustdoc (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --features fusebox-runtime/watch

if [[ "${FUSEBOX_SKIP_LOOM:-0}" != 1 ]]; then
  step "loom model checks"
  RUSTFLAGS="--cfg fusebox_loom" CARGO_TARGET_DIR="$root/target/loom" \
    cargo test -p fusebox-runtime --no-default-features --locked --test loom
fi

fuzz_secs="${FUSEBOX_FUZZ_SECONDS:-10}"
if [[ "$fuzz_secs" != 0 ]]; then
  step "fuzz (${fuzz_secs}s per target)"
  scripts/fuzz.sh "$fuzz_secs"
fi

if [[ "${FUSEBOX_SKIP_BENCH_SMOKE:-0}" != 1 && -f benches/peers.rs ]]; then
  step "benchmark harness smoke run (one iteration each, debug build)"
  # `cargo test` runs criterion's harness in test mode: every bench once, with its setup checks.
  cargo test --locked --bench peers
fi

if [[ "$zipkin_started" == 1 ]]; then
  step "stop Zipkin"
  scripts/zipkin.sh stop
  trap - EXIT
fi
echo "all tests passed"
