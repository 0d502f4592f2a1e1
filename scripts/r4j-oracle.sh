#!/usr/bin/env bash
# Resilience4j 2.4.0 oracle for fusebox's parity tests (tests/parity.rs, tests/retry_parity.rs,
# tests/bulkhead_parity.rs, runtime/tests/rate_limiter_parity.rs; their shared side: tests/oracle/).
#
#   scripts/r4j-oracle.sh --build            build the Java harness if needed (cached), print nothing
#   scripts/r4j-oracle.sh FILE.jsonl...      build if needed, then run every scenario of every file
#                                            in ONE JVM; one JSON observation line per step on stdout
#   scripts/r4j-oracle.sh -                  same, scenarios read from stdin
#   scripts/r4j-oracle.sh --retry FILE...    the same for Retry scenarios (RetryHarness; tests/retry_parity.rs)
#   scripts/r4j-oracle.sh --main CLASS FILE...
#                                            the same with the harness CLASS (Harness, RetryHarness,
#                                            BulkheadHarness, RateLimiterHarness)
#
# Scenario and observation formats: tests/r4j/README.md. Needs Java 17+ and Maven 3 on PATH; the
# first build downloads resilience4j-circuitbreaker and resilience4j-retry 2.4.0 from Maven Central
# into ~/.m2, later builds run offline. Exit status: 0 ok, 2 java/mvn missing, 3 build failed, else the harness's status.
# Environment: R4J_BUILD_TIMEOUT (seconds, default 600) bounds the Maven build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
harness="$root/tests/r4j/harness"
target="$harness/target"

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "r4j-oracle: '$tool' not found on PATH (needs Java 17 and Maven 3)" >&2
    exit 2
  fi
done

up_to_date() {
  [[ -f "$target/classes/Harness.class" && -f "$target/classes/RetryHarness.class" \
    && -f "$target/classpath.txt" ]] || return 1
  local f
  for f in "$harness/pom.xml" "$harness"/src/main/java/*.java; do
    [[ "$f" -nt "$target/classes/Harness.class" || "$f" -nt "$target/classpath.txt" ]] && return 1
  done
  local jar
  IFS=: read -r -a jars < "$target/classpath.txt"
  for jar in "${jars[@]}"; do
    [[ -f "$jar" ]] || return 1
  done
  return 0
}

build() {
  up_to_date && return 0
  local limit="${R4J_BUILD_TIMEOUT:-600}"
  # Offline first (fast, no network once ~/.m2 holds everything); online only if that fails.
  # Maven's own output goes to stderr so that stdout carries observations only.
  if ! (cd "$harness" && timeout "$limit" mvn -q -B -o compile) >/dev/null 2>&1; then
    echo "r4j-oracle: building the Resilience4j harness (first run downloads from Maven Central)..." >&2
    if ! (cd "$harness" && timeout "$limit" mvn -q -B compile) >&2; then
      echo "r4j-oracle: Maven build of $harness failed" >&2
      exit 3
    fi
  fi
  touch "$target/classes/Harness.class" "$target/classpath.txt"
}

if [[ $# -eq 0 ]]; then
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 64
fi

build
if [[ "$1" == "--build" ]]; then
  exit 0
fi

main=Harness
if [[ "$1" == "--retry" ]]; then
  main=RetryHarness
  shift
elif [[ "$1" == "--main" ]]; then
  [[ $# -ge 2 ]] || { echo "r4j-oracle: --main needs a harness class" >&2; exit 64; }
  main="$2"
  [[ -f "$target/classes/$main.class" ]] || { echo "r4j-oracle: no harness class '$main' in $target/classes" >&2; exit 64; }
  shift 2
fi

args=()
for a in "$@"; do
  [[ "$a" == "-" ]] || args+=("$a")
done
cp="$(cat "$target/classpath.txt")"
if [[ "$main" != Harness ]]; then
  # No scheduler mock for these: the retry harness passes its own ScheduledExecutorService, the
  # bulkhead and rate limiter harnesses need no scheduler.
  exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:off \
    -cp "$target/classes:$cp" "$main" "${args[@]}"
fi
# Mockito (stand-in SchedulerFactory) as a -javaagent: self-attaching at run time costs seconds.
agent=()
IFS=: read -r -a jars <<< "$cp"
for jar in "${jars[@]}"; do
  [[ "$(basename "$jar")" == mockito-core-*.jar ]] && agent=("-javaagent:$jar")
done
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:off "${agent[@]}" \
  -cp "$target/classes:$cp" Harness "${args[@]}"
