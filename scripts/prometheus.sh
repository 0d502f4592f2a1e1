#!/usr/bin/env bash
# Runs a local Prometheus server on a free loopback port that scrapes one target every second,
# for the scrape test (tests/prometheus_scrape.rs) and the demo.
#
#   scripts/prometheus.sh install          build Prometheus with `go install` from the Go module
#                                          proxy into a cache (skipped when already built), print
#                                          PROMETHEUS_BIN=...
#   scripts/prometheus.sh start HOST:PORT [METRICS_PATH]
#                                          write prometheus.yml (job "fusebox", 1 s scrape interval,
#                                          METRICS_PATH default /actuator/prometheus), start
#                                          Prometheus on 127.0.0.1:<free port> with a fresh storage
#                                          dir, wait for /-/ready, print PROMETHEUS_URL=...
#   scripts/prometheus.sh stop             stop the server started by `start`, remove its storage
#   scripts/prometheus.sh status           print PROMETHEUS_URL=... and exit 0 if it runs, else 1
#   scripts/prometheus.sh url              print only the base URL of the running server
#   scripts/prometheus.sh query PROMQL     instant query (/api/v1/query) against the running
#                                          server; prints Prometheus' JSON answer
#
# The binary is built once per version and reused: $PROMETHEUS_CACHE_DIR (default
# ~/.cache/fusebox/prometheus/<version>/prometheus). Only `go install` from the module proxy is
# used, never a prebuilt download. State (pid, port, config, log, storage) lives in
# $PROMETHEUS_STATE_DIR (default: <repo>/.prometheus, gitignored).
#
# Environment: PROMETHEUS_VERSION (Go module version, default v0.316.0), PROMETHEUS_CACHE_DIR,
# PROMETHEUS_STATE_DIR, PROMETHEUS_BUILD_TAGS (Go build tags, default remove_all_sd; a binary built
# with other tags is rebuilt), PROMETHEUS_PORT (fixed port instead of a free one), PROMETHEUS_JOB (scrape
# job name, default fusebox), PROMETHEUS_INSTALL_TIMEOUT (seconds for `go install`, default 1500),
# PROMETHEUS_START_TIMEOUT (seconds to wait for /-/ready, default 60), PROMETHEUS_OWNER_PID (when
# set, a watchdog stops Prometheus as soon as that process is gone: a test killed by Ctrl-C or a
# timeout leaves nothing running).
#
# Exit codes: 0 ok, 1 failure (build, start, readiness timeout, query error),
#             2 Go (or curl) missing: the caller should skip what needs Prometheus, 64 usage.
set -euo pipefail

VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
MODULE="github.com/prometheus/prometheus/cmd/prometheus"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PROMETHEUS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fusebox/prometheus/$VERSION}"
BIN="$CACHE/prometheus"
STATE="${PROMETHEUS_STATE_DIR:-$ROOT/.prometheus}"
JOB="${PROMETHEUS_JOB:-fusebox}"
INSTALL_TIMEOUT="${PROMETHEUS_INSTALL_TIMEOUT:-1500}"
# Service discovery plugins (Kubernetes, AWS, Azure, GCE, ...) are left out: the scrape config is
# static, and they are most of the build (their SDKs). See plugins/*.go in the Prometheus module.
TAGS="${PROMETHEUS_BUILD_TAGS-remove_all_sd}"
START_TIMEOUT="${PROMETHEUS_START_TIMEOUT:-60}"

die() { echo "prometheus.sh: $*" >&2; exit 1; }
missing() { echo "prometheus.sh: $* (tests that need Prometheus will be skipped)" >&2; exit 2; }
usage() {
  echo "usage: $0 install | start HOST:PORT [METRICS_PATH] | stop | status | url | query PROMQL" >&2
  exit 64
}

ready() { # $1 = port
  curl -fsS --max-time 2 "http://127.0.0.1:$1/-/ready" >/dev/null 2>&1
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

built() { # the cached binary exists and was built with the requested tags
  [[ -x "$BIN" && -f "$BIN.tags" && "$(cat "$BIN.tags")" == "$TAGS" ]]
}

install() {
  if built; then
    echo "PROMETHEUS_BIN=$BIN"
    return
  fi
  command -v go >/dev/null 2>&1 || missing "go not found (Prometheus is built with \`go install $MODULE@$VERSION\`)"
  mkdir -p "$CACHE"
  # One build at a time per version: a second caller waits for the first and then reuses it.
  exec 9>"$CACHE/.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if built; then
    echo "PROMETHEUS_BIN=$BIN"
    return
  fi
  local tmp; tmp="$(mktemp -d "$CACHE/.build.XXXXXX")"
  local began=$SECONDS
  echo "prometheus.sh: building $MODULE@$VERSION with go install (once; cached in $CACHE)..." >&2
  # -p 2: this machine shares 2 cores. -ldflags '-s -w': no symbol table or DWARF (a faster link,
  # a smaller binary). Prometheus' React UI is embedded only with the builtinassets tag: without
  # it the HTTP API (what the tests and the demo use) is complete and the UI pages answer 500.
  local rc=0
  GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    timeout --kill-after=10 "$INSTALL_TIMEOUT" \
    go install -p 2 -tags "$TAGS" -ldflags '-s -w' "$MODULE@$VERSION" >&2 || rc=$?
  if (( rc != 0 )); then
    rm -rf "$tmp"
    if (( rc == 124 || rc == 137 )); then
      die "go install $MODULE@$VERSION did not finish within ${INSTALL_TIMEOUT}s (PROMETHEUS_INSTALL_TIMEOUT)"
    fi
    die "go install $MODULE@$VERSION failed (exit $rc; offline? see the output above)"
  fi
  [[ -x "$tmp/prometheus" ]] || { rm -rf "$tmp"; die "go install finished but $tmp/prometheus is missing"; }
  mv -f "$tmp/prometheus" "$BIN"
  printf '%s' "$TAGS" >"$BIN.tags"
  rm -rf "$tmp"
  echo "prometheus.sh: built Prometheus $VERSION in $(( SECONDS - began ))s: $BIN" >&2
  echo "PROMETHEUS_BIN=$BIN"
}

write_config() { # $1 = target, $2 = metrics path
  cat >"$STATE/prometheus.yml" <<EOF
# Written by scripts/prometheus.sh start; rewritten on every start.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: "$JOB"
    scrape_interval: 1s
    scrape_timeout: 1s
    metrics_path: "$2"
    static_configs:
      - targets: ["$1"]
EOF
}

start_watchdog() { # $1 = prometheus pid, $2 = owner pid
  # Detached: it ends when Prometheus ends, and stops Prometheus when the owner is gone.
  nohup bash -c '
    prom=$1 owner=$2 state=$3
    while kill -0 "$prom" 2>/dev/null; do
      if ! kill -0 "$owner" 2>/dev/null; then
        kill "$prom" 2>/dev/null
        for _ in $(seq 1 40); do kill -0 "$prom" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$prom" 2>/dev/null
        rm -rf "$state/pid" "$state/port" "$state/data"
        exit 0
      fi
      sleep 1
    done' prometheus-watchdog "$1" "$2" "$STATE" >/dev/null 2>&1 </dev/null &
}

start() {
  (( $# >= 1 && $# <= 2 )) || usage
  local target="$1" path="${2:-/actuator/prometheus}"
  [[ "$target" =~ ^[A-Za-z0-9.-]+:[0-9]{1,5}$ ]] \
    || die "start: target '$target' is not HOST:PORT (e.g. 127.0.0.1:8080)"
  [[ "$path" == /* && "$path" != *[[:space:]\"]* ]] \
    || die "start: metrics path '$path' must start with / and contain no spaces or quotes"
  if [[ -n "${PROMETHEUS_OWNER_PID:-}" ]]; then
    [[ "$PROMETHEUS_OWNER_PID" =~ ^[0-9]+$ ]] && kill -0 "$PROMETHEUS_OWNER_PID" 2>/dev/null \
      || die "start: PROMETHEUS_OWNER_PID='$PROMETHEUS_OWNER_PID' is not a running process"
  fi
  command -v curl >/dev/null 2>&1 || missing "curl not found (needed for the readiness check)"
  local bin; bin="$(install | sed -n 's/^PROMETHEUS_BIN=//p')" || exit $?
  [[ -x "$bin" ]] || die "install printed no binary"
  mkdir -p "$STATE"
  if running_pid >/dev/null; then
    die "already running (PROMETHEUS_URL=http://127.0.0.1:$(cat "$STATE/port" 2>/dev/null)); run \`$0 stop\` first"
  fi
  write_config "$target" "$path"
  rm -rf "$STATE/data"
  local port="${PROMETHEUS_PORT:-$(free_port)}"
  local began=$SECONDS
  # --scrape.discovery-reload-interval (a hidden flag, default 5s) is how long the scrape manager
  # waits before it takes the static targets: 1s makes the first scrape come ~1s after /-/ready.
  nohup "$bin" \
    --config.file="$STATE/prometheus.yml" \
    --storage.tsdb.path="$STATE/data" \
    --storage.tsdb.retention.time=1d \
    --web.listen-address="127.0.0.1:$port" \
    --scrape.discovery-reload-interval=1s \
    --log.level=warn \
    >"$STATE/prometheus.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$STATE/pid"
  echo "$port" >"$STATE/port"
  if [[ -n "${PROMETHEUS_OWNER_PID:-}" ]]; then start_watchdog "$pid" "$PROMETHEUS_OWNER_PID"; fi
  while (( SECONDS - began < START_TIMEOUT )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$STATE/prometheus.log" >&2 || true
      rm -f "$STATE/pid"
      die "Prometheus exited during startup (log: $STATE/prometheus.log)"
    fi
    if ready "$port"; then
      echo "prometheus.sh: Prometheus $VERSION up on 127.0.0.1:$port after $(( SECONDS - began ))s" \
        "(pid $pid), scraping http://$target$path every 1s as job \"$JOB\"" >&2
      echo "PROMETHEUS_URL=http://127.0.0.1:$port"
      return
    fi
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  rm -f "$STATE/pid"
  die "Prometheus not ready after ${START_TIMEOUT}s (log: $STATE/prometheus.log)"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    echo "prometheus.sh: stopped pid $pid" >&2
  else
    echo "prometheus.sh: not running" >&2
  fi
  rm -rf "$STATE/pid" "$STATE/port" "$STATE/data"
}

status() {
  if running_pid >/dev/null && [[ -f "$STATE/port" ]] && ready "$(cat "$STATE/port")"; then
    echo "PROMETHEUS_URL=http://127.0.0.1:$(cat "$STATE/port")"
  else
    echo "prometheus.sh: not running" >&2
    return 1
  fi
}

query() {
  (( $# == 1 )) || usage
  [[ -n "$1" ]] || die "query: empty PromQL expression"
  local url; url="$(status 2>/dev/null | sed 's/^PROMETHEUS_URL=//')" || die "query: Prometheus is not running (\`$0 start HOST:PORT\` first)"
  local body code
  body="$(mktemp)"
  code="$(curl -sS --max-time 10 -G -o "$body" -w '%{http_code}' \
    --data-urlencode "query=$1" "$url/api/v1/query")" || { rm -f "$body"; die "query: no answer from $url"; }
  cat "$body"; echo
  rm -f "$body"
  [[ "$code" == 200 ]] || die "query: HTTP $code for '$1' (the JSON above says why)"
}

case "${1:-}" in
  install) (( $# == 1 )) || usage; install ;;
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  url) status | sed 's/^PROMETHEUS_URL=//' ;;
  query) shift; query "$@" ;;
  *) usage ;;
esac
