#!/usr/bin/env bash
# Runs a local Zipkin server (io.zipkin:zipkin-server:3.6.1, the `exec` jar) on a free loopback
# port, for the end-to-end tests and the demo.
#
#   scripts/zipkin.sh start    fetch the jar with Maven (cached in ~/.m2), start Zipkin on
#                              127.0.0.1:<free port>, wait for /health, print ZIPKIN_URL=...
#   scripts/zipkin.sh stop     stop the server started by `start`
#   scripts/zipkin.sh status   print ZIPKIN_URL=... and exit 0 if it runs, exit 1 otherwise
#   scripts/zipkin.sh url      print only the base URL of the running server
#
# State (pid, port, log) lives in $ZIPKIN_STATE_DIR (default: <repo>/.zipkin, gitignored).
# Environment: ZIPKIN_VERSION (3.6.1), ZIPKIN_PORT (fixed port instead of a free one),
# ZIPKIN_START_TIMEOUT (seconds to wait for /health, default 90).
#
# Exit codes: 0 ok, 1 failure (download, start, health timeout), 2 usage,
#             3 Java (17+) or Maven missing: the caller should skip what needs Zipkin.
set -euo pipefail

VERSION="${ZIPKIN_VERSION:-3.6.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${ZIPKIN_STATE_DIR:-$ROOT/.zipkin}"
TIMEOUT="${ZIPKIN_START_TIMEOUT:-90}"
JAR="$STATE/zipkin-server-$VERSION-exec.jar"

die() { echo "zipkin.sh: $*" >&2; exit 1; }
missing() { echo "zipkin.sh: $* (tests that need Zipkin will be skipped)" >&2; exit 3; }

healthy() { # $1 = port
  curl -fsS --max-time 2 "http://127.0.0.1:$1/health" 2>/dev/null | grep -q '"UP"'
}

running_pid() {
  [[ -f "$STATE/pid" ]] || return 1
  local pid; pid="$(cat "$STATE/pid")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  die "no free port found"
}

fetch_jar() {
  [[ -s "$JAR" ]] && return
  local m2="${HOME}/.m2/repository/io/zipkin/zipkin-server/$VERSION/zipkin-server-$VERSION-exec.jar"
  if [[ ! -s "$m2" ]]; then
    echo "zipkin.sh: fetching io.zipkin:zipkin-server:$VERSION:jar:exec with Maven..." >&2
    mvn -q -B dependency:get -Dartifact="io.zipkin:zipkin-server:$VERSION:jar:exec" -Dtransitive=false >&2 \
      || die "Maven could not fetch io.zipkin:zipkin-server:$VERSION:jar:exec (offline?)"
  fi
  [[ -s "$m2" ]] || die "Maven finished but $m2 is missing"
  ln -sf "$m2" "$JAR"
}

start() {
  command -v java >/dev/null 2>&1 || missing "java not found (Zipkin 3 needs Java 17+)"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1)"
  [[ -n "$major" && "$major" -ge 17 ]] 2>/dev/null || missing "Java ${major:-unknown} found, Zipkin 3 needs 17+"
  command -v curl >/dev/null 2>&1 || missing "curl not found (needed for the health check)"
  mkdir -p "$STATE"
  if pid="$(running_pid)" && [[ -f "$STATE/port" ]] && healthy "$(cat "$STATE/port")"; then
    echo "ZIPKIN_URL=http://127.0.0.1:$(cat "$STATE/port")"
    return
  fi
  if [[ ! -s "$JAR" ]] && [[ ! -s "${HOME}/.m2/repository/io/zipkin/zipkin-server/$VERSION/zipkin-server-$VERSION-exec.jar" ]]; then
    command -v mvn >/dev/null 2>&1 || missing "mvn not found (needed once to fetch the Zipkin jar)"
  fi
  fetch_jar
  local port="${ZIPKIN_PORT:-$(free_port)}"
  local began=$SECONDS
  # Bound to loopback only; in-memory storage; no self-tracing.
  QUERY_PORT="$port" STORAGE_TYPE=mem SELF_TRACING_ENABLED=false \
    nohup java -Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -jar "$JAR" --armeria.ports[0].port="$port" --armeria.ports[0].ip=127.0.0.1 \
      --armeria.ports[0].protocols[0]=http \
      >"$STATE/zipkin.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$STATE/pid"
  echo "$port" >"$STATE/port"
  while (( SECONDS - began < TIMEOUT )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$STATE/zipkin.log" >&2 || true
      rm -f "$STATE/pid"
      die "Zipkin exited during startup (log: $STATE/zipkin.log)"
    fi
    if healthy "$port"; then
      echo "zipkin.sh: Zipkin $VERSION up on 127.0.0.1:$port after $(( SECONDS - began ))s (pid $pid)" >&2
      echo "ZIPKIN_URL=http://127.0.0.1:$port"
      return
    fi
    sleep 0.5
  done
  kill "$pid" 2>/dev/null || true
  rm -f "$STATE/pid"
  die "Zipkin not healthy after ${TIMEOUT}s (log: $STATE/zipkin.log)"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    echo "zipkin.sh: stopped pid $pid" >&2
  else
    echo "zipkin.sh: not running" >&2
  fi
  rm -f "$STATE/pid" "$STATE/port"
}

status() {
  if running_pid >/dev/null && [[ -f "$STATE/port" ]] && healthy "$(cat "$STATE/port")"; then
    echo "ZIPKIN_URL=http://127.0.0.1:$(cat "$STATE/port")"
  else
    echo "zipkin.sh: not running" >&2
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) status | sed 's/^ZIPKIN_URL=//' ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
