#!/usr/bin/env bash
# Resilience4j 2.4.0 under JMH (bench-jmh/), for BENCHMARKS.md section 7.
#
#   scripts/bench-jmh.sh                 # short: 1 fork, 2 x 1 s warm-up, 3 x 1 s measurement (~1 min)
#   FUSEBOX_BENCH_LONG=1 scripts/bench-jmh.sh   # 2 forks, 5 x 1 s warm-up, 10 x 1 s measurement
#   scripts/bench-jmh.sh closedAcquireOnSuccess # one benchmark (a JMH regex)
#
# Needs Java 17 and Maven (fetches JMH and Resilience4j from Maven Central on first build).
# Prints JMH's table (ns/op, average time, with its 99.9 % error) and writes
# bench-jmh/target/jmh-result.json.
set -euo pipefail
cd "$(dirname "$0")/../bench-jmh"

mvn -q -B package -DskipTests

if [[ "${FUSEBOX_BENCH_LONG:-0}" != "0" && -n "${FUSEBOX_BENCH_LONG:-}" ]]; then
  settings=(-f 2 -wi 5 -w 1s -i 10 -r 1s)
else
  settings=(-f 1 -wi 2 -w 1s -i 3 -r 1s)
fi

java -jar target/benchmarks.jar "${settings[@]}" -tu ns -bm avgt \
  -rf json -rff target/jmh-result.json "${@:-.*}"
