#!/usr/bin/env bash
# The Spring Boot 3 + resilience4j-spring-boot3 2.4.0 reference service of issue 12's
# "against the real thing" test (tests/spring-ref/, see its README.md).
#
#   scripts/spring-ref.sh build                         build target/spring-ref.jar if needed
#                                                       (cached: skipped while the jar is newer
#                                                       than pom.xml and src/)
#   scripts/spring-ref.sh start YML PORT DOWNSTREAM_URL build if needed, run the jar on
#                                                       127.0.0.1:PORT with YML as its only config
#                                                       file and downstream.url=DOWNSTREAM_URL, wait
#                                                       until /actuator/health answers, print
#                                                       SPRING_REF_URL=... and SPRING_REF_PID=...
#   scripts/spring-ref.sh stop                          stop the service started by `start`
#   scripts/spring-ref.sh status                        print SPRING_REF_URL=... if it runs, else exit 1
#
# Needs Java 17+ and curl; Maven 3 only when the jar must be (re)built. The first build downloads
# Spring Boot 3.5.7, resilience4j-spring-boot3 2.4.0 and micrometer-registry-prometheus from Maven
# Central into ~/.m2; later builds run offline. State (pid, port, log) lives in
# $SPRING_REF_STATE_DIR (default tests/spring-ref/target/run, gitignored).
# Environment: SPRING_REF_BUILD_TIMEOUT (seconds, default 600) bounds the Maven build,
# SPRING_REF_START_TIMEOUT (seconds, default 120) bounds the wait for /actuator/health.
#
# Exit status: 0 ok, 1 failure (start, health timeout, port taken, already running),
#              2 java/mvn/curl missing (callers skip), 3 build failed, 64 usage.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="$root/tests/spring-ref"
jar="$app/target/spring-ref.jar"
state="${SPRING_REF_STATE_DIR:-$app/target/run}"

die() { echo "spring-ref: $*" >&2; exit 1; }
missing() { echo "spring-ref: $* (tests against the Spring reference will be skipped)" >&2; exit 2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 64; }

need_java() {
  command -v java >/dev/null 2>&1 || missing "'java' not found on PATH (needs Java 17+)"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1)"
  [[ -n "$major" && "$major" -ge 17 ]] 2>/dev/null || missing "Java ${major:-unknown} found, Spring Boot 3 needs 17+"
}

up_to_date() {
  [[ -s "$jar" ]] || return 1
  [[ -z "$(find "$app/pom.xml" "$app/src" -type f -newer "$jar" -print -quit)" ]]
}

build() {
  up_to_date && return 0
  command -v mvn >/dev/null 2>&1 || missing "'mvn' not found on PATH (needs Maven 3 to build $jar)"
  local limit="${SPRING_REF_BUILD_TIMEOUT:-600}"
  local began=$SECONDS
  # Offline first (no network once ~/.m2 holds everything); online only if that fails.
  if ! (cd "$app" && timeout "$limit" mvn -q -B -o package -DskipTests) >/dev/null 2>&1; then
    echo "spring-ref: building $jar (the first run downloads from Maven Central)..." >&2
    if ! (cd "$app" && timeout "$limit" mvn -q -B package -DskipTests) >&2; then
      echo "spring-ref: Maven build of $app failed (or exceeded ${limit}s)" >&2
      exit 3
    fi
  fi
  [[ -s "$jar" ]] || { echo "spring-ref: Maven finished but $jar is missing" >&2; exit 3; }
  touch "$jar"
  echo "spring-ref: built $jar in $(( SECONDS - began ))s" >&2
}

running_pid() {
  [[ -f "$state/pid" ]] || return 1
  local pid; pid="$(cat "$state/pid")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# HTTP status of GET /actuator/health on $1, or 000 when nothing answers.
health_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/actuator/health" 2>/dev/null || true
}

start() {
  [[ $# -eq 3 ]] || usage
  local yml="$1" port="$2" downstream="$3"
  [[ -f "$yml" ]] || die "config file '$yml' not found"
  [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]] || die "PORT must be 1..65535, got '$port'"
  [[ "$downstream" =~ ^https?:// ]] || die "DOWNSTREAM_URL must start with http:// or https://, got '$downstream'"
  need_java
  command -v curl >/dev/null 2>&1 || missing "'curl' not found on PATH (needed for the health check)"
  build
  mkdir -p "$state"
  if pid="$(running_pid)"; then
    die "already running (pid $pid, port $(cat "$state/port" 2>/dev/null || echo '?')); run '$0 stop' first"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "127.0.0.1:$port is already taken"
  fi
  yml="$(cd "$(dirname "$yml")" && pwd)/$(basename "$yml")"
  local began=$SECONDS
  local limit="${SPRING_REF_START_TIMEOUT:-120}"
  nohup java -Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar "$jar" \
      "--spring.config.location=file:$yml" \
      --server.address=127.0.0.1 "--server.port=$port" "--downstream.url=$downstream" \
      >"$state/spring-ref.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$state/pid"
  echo "$port" >"$state/port"
  while (( SECONDS - began < limit )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$state/spring-ref.log" >&2 || true
      rm -f "$state/pid" "$state/port"
      die "the service exited during startup (log: $state/spring-ref.log)"
    fi
    case "$(health_code "$port")" in
      200|503)
        echo "spring-ref: up on 127.0.0.1:$port after $(( SECONDS - began ))s (pid $pid, log $state/spring-ref.log)" >&2
        echo "SPRING_REF_URL=http://127.0.0.1:$port"
        echo "SPRING_REF_PID=$pid"
        return ;;
    esac
    sleep 0.25
  done
  stop
  die "no answer from /actuator/health after ${limit}s (log: $state/spring-ref.log)"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    echo "spring-ref: stopped pid $pid" >&2
  else
    echo "spring-ref: not running" >&2
  fi
  rm -f "$state/pid" "$state/port"
}

status() {
  if running_pid >/dev/null && [[ -f "$state/port" ]]; then
    echo "SPRING_REF_URL=http://127.0.0.1:$(cat "$state/port")"
  else
    echo "spring-ref: not running" >&2
    return 1
  fi
}

case "${1:-}" in
  build) [[ $# -eq 1 ]] || usage; need_java; build ;;
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
