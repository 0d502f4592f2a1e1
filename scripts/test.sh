#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this):
#
#   ./scripts/test.sh
#
# 1. checks formatting, builds everything once and runs clippy on every target (warnings are
#    errors; tests/macros_clippy.rs makes that cover the attributes' expansions);
# 2. starts a real Zipkin on a free loopback port when Java 17+ and Maven are present
#    (scripts/zipkin.sh; the Zipkin tests say SKIPPED otherwise) and stops it at exit, and
#    builds Prometheus once with Go (scripts/prometheus.sh; cached, SKIPPED without Go);
# 3. runs every test of the workspace (unit, integration, trybuild UI, doc tests, the
#    Resilience4j parity suite when Java and Maven are present, the two-service demo test);
# 4. checks the feature combinations users pick: no default features (built and tested as a
#    user's crate would be), each feature alone, all features (with the OTLP exporter's test);
# 5. builds the docs, and dry-runs `cargo publish` for the three crates;
# 6. runs the loom model checks, a bounded fuzz run and a one-iteration smoke run of the
#    benchmark harness.
#
# Knobs: FUSEBOX_TEST_THREADS (default 2), FUSEBOX_FUZZ_SECONDS (default 10; 0 skips),
# FUSEBOX_SKIP_LOOM=1, FUSEBOX_SKIP_BENCH_SMOKE=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
threads="${FUSEBOX_TEST_THREADS:-2}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Each step prints the time since the start, so a slow CI run shows where its minutes went.
step() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

step "format"
cargo fmt --all -- --check

step "build (once)"
cargo build --workspace --all-targets --locked --jobs 2

step "clippy (all targets; warnings are errors)"
cargo clippy --workspace --all-targets --locked --jobs 2 -- -D warnings

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

step "Prometheus (go install once, cached in ~/.cache/fusebox/prometheus)"
# tests/prometheus_scrape.rs runs the official Grafana dashboard's queries against a real
# Prometheus; without Go (exit 2) it prints SKIPPED. Any other failure stops the run.
scripts/prometheus.sh install || [[ $? == 2 ]]

step "cargo test (workspace)"
# The lean crate is tested alone below: in a workspace build the other members turn on its
# runtime's features (feature unification), which its test checks are off.
cargo test --workspace --exclude fusebox-no-default-features --locked -- --test-threads="$threads"

step "no default features: a user's crate with fusebox = { default-features = false }"
# Alone, so that no other package's features are unified in: a breaker from a TOML file behind
# both attributes, plain tracing spans, and its dependency tree (at most 40 crates).
cargo test -p fusebox-no-default-features --locked -- --test-threads="$threads"

step "each feature alone, and all (clippy: a type check plus lints, warnings are errors)"
# The facade forwards each feature to the runtime under the same name; its own gates (tests and
# examples that need a feature) are checked without default features.
for features in "" telemetry reqwest yaml fast-clock otlp reqwest-middleware testing watch actuator metrics tower; do
  echo "fusebox-runtime --no-default-features --features '$features'"
  cargo clippy -p fusebox-runtime --no-default-features --features "$features" --all-targets \
    --locked --jobs 2 -- -D warnings
done
cargo clippy -p fusebox-runtime --all-features --all-targets --locked --jobs 2 -- -D warnings
cargo clippy -p fusebox --no-default-features --all-targets --locked --jobs 2 -- -D warnings

step "all features: OTLP export, reqwest-middleware, config file watching, the metrics facade, tower layers"
# (actuator is a default feature: its tests, spring_compare and prometheus_scrape ran above.)
cargo test -p fusebox-runtime --all-features --locked --test telemetry_otlp --test telemetry_http \
  --test config_watch --test metrics_facade --test monitor_config --test tower_layers \
  -- --test-threads="$threads"
# The doc examples of feature-gated modules that the default-feature run above cannot compile.
cargo test -p fusebox-runtime --all-features --locked --doc tower -- --test-threads="$threads"

step "rustdoc, all features as docs.rs builds them (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked
# The internals' docs too (ARCHITECTURE.md points into them): their links must resolve as well.
RUSTDOCFLAGS="-D warnings" cargo doc -p fusebox-runtime --all-features --no-deps --document-private-items --locked

step "publish dry run (each crate packaged and built as crates.io would)"
# The facade is verified against its siblings as registry crates, which cargo takes as unchanged
# whenever name and version are: their unpacked copy in $CARGO_HOME/registry/src/-<hash>/ and
# their build are reused even when the sources changed. So both go first (the build lives in
# its own target directory, whose dependencies stay warm). Nothing is uploaded.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/fusebox-macros-* \
  "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/fusebox-runtime-*
cargo clean --locked --quiet -p fusebox-macros -p fusebox-runtime -p fusebox --target-dir target/publish
cargo publish --workspace --dry-run --allow-dirty --locked --jobs 2 --target-dir target/publish

if [[ "${FUSEBOX_SKIP_LOOM:-0}" != 1 ]]; then
  step "loom model checks"
  RUSTFLAGS="--cfg fusebox_loom" CARGO_TARGET_DIR="$root/target/loom" \
    cargo test -p fusebox-runtime --no-default-features --locked --test loom
  # The bulkhead semaphore's models are unit tests (the semaphore is crate-private).
  RUSTFLAGS="--cfg fusebox_loom" CARGO_TARGET_DIR="$root/target/loom" \
    cargo test -p fusebox-runtime --no-default-features --locked --lib bulkhead::semaphore::loom_tests
  # So are the rate limiter state's (the state is crate-private too).
  RUSTFLAGS="--cfg fusebox_loom" CARGO_TARGET_DIR="$root/target/loom" \
    cargo test -p fusebox-runtime --no-default-features --locked --lib rate_limiter::state::loom_tests
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
  cargo test --locked --bench retry
fi

if [[ "$zipkin_started" == 1 ]]; then
  step "stop Zipkin"
  scripts/zipkin.sh stop
  trap - EXIT
fi
echo "all tests passed in $((SECONDS / 60))m$((SECONDS % 60))s"
