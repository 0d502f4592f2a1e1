#!/usr/bin/env bash
# The demo's services under a real Prometheus: starts order-service and user-service (as in
# `cargo run --example demo`, tracing off), a Prometheus scraping user-service's
# /actuator/prometheus every second (scripts/prometheus.sh), trips the breaker `orders`, and prints
# what Prometheus then answers to the official Resilience4j dashboard's queries.
#
#   scripts/demo-prometheus.sh           ... then keeps everything running until Enter or Ctrl-C
#                                        (in a terminal), for curl, PromQL or a Grafana pointed at
#                                        the printed Prometheus URL
#   scripts/demo-prometheus.sh --once    stops everything right after printing
#
# Prometheus is built once with `go install` (scripts/prometheus.sh install; cached). Without Go
# this prints `SKIPPED: ...` and exits 0. Everything it starts is stopped on exit, errors and
# Ctrl-C. State and logs: target/fusebox-demo/prometheus/ (PROMETHEUS_STATE_DIR to move it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/target/fusebox-demo"
export PROMETHEUS_STATE_DIR="${PROMETHEUS_STATE_DIR:-$OUT/prometheus}"
PROM="$ROOT/scripts/prometheus.sh"
ONCE=0
case "${1:-}" in
  "") ;;
  --once) ONCE=1 ;;
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "demo-prometheus.sh: unknown option '$1' (try --help)" >&2; exit 64 ;;
esac

die() { echo "demo-prometheus.sh: $*" >&2; exit 1; }

# 1. Prometheus (skip without Go).
rc=0
why="$(bash "$PROM" install 2>&1 >/dev/null)" || rc=$?
if (( rc == 2 )); then
  why="$(tail -n 1 <<<"$why")"
  echo "SKIPPED: the demo's Prometheus needs Go to build Prometheus (${why% (tests that*})"
  echo "         the endpoints still work: cargo run --example demo prints them"
  exit 0
elif (( rc != 0 )); then
  echo "$why" >&2
  die "scripts/prometheus.sh install failed (exit $rc)"
fi

# 2. The services.
echo "building the services (cargo build --example user-service --example order-service)..."
(cd "$ROOT" && cargo build --quiet --example user-service --example order-service)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples"
mkdir -p "$OUT" "$PROMETHEUS_STATE_DIR"
PIDS=()
cleanup() {
  bash "$PROM" stop 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_service() { # $1 = name, rest = VAR=value...; prints the service's base URL
  local name="$1" log="$OUT/$1.prometheus-demo.log"; shift
  (cd "$ROOT" && exec env PORT=0 RUST_LOG=warn OTEL_TRACES_EXPORTER=none NO_COLOR=1 \
    FUSEBOX_CONFIG="$ROOT/examples/config/fusebox.toml" "$@" "$BIN/$name") >"$log" 2>&1 &
  PIDS+=("$!")
  local url=""
  for _ in $(seq 1 150); do
    url="$(sed -n 's/^LISTENING //p' "$log" | head -n 1)"
    [[ -n "$url" ]] && break
    kill -0 "$!" 2>/dev/null || { cat "$log" >&2; die "$name exited during startup"; }
    sleep 0.1
  done
  [[ -n "$url" ]] || die "$name did not print LISTENING within 15 s (log: $log)"
  LAST_URL="$url"
}
start_service order-service
ORDER="$LAST_URL"
start_service user-service ORDER_SERVICE_URL="$ORDER"
USER="$LAST_URL"
echo "order-service $ORDER   user-service $USER"

# 3. Prometheus scraping user-service, stopped with this script.
PROM_URL="$(PROMETHEUS_OWNER_PID=$$ bash "$PROM" start "${USER#http://}" /actuator/prometheus \
  | sed -n 's/^PROMETHEUS_URL=//p')"
[[ -n "$PROM_URL" ]] || die "scripts/prometheus.sh start printed no URL"

# 4. Traffic: healthy, then order-service fails and the breaker opens, then calls are rejected.
get() { curl -fsS --max-time 10 -o /dev/null "$1"; }
for u in u1 u2 u3; do get "$USER/users/$u"; done
curl -fsS --max-time 5 -o /dev/null -H 'content-type: application/json' \
  -d '{"mode":"fail"}' "$ORDER/admin/fault"
for u in u4 u5 u6 u7; do get "$USER/users/$u"; done

# 5. What Prometheus sees, once it has scraped the OPEN breaker.
value() { # $1 = PromQL; prints the first sample's value, or nothing
  bash "$PROM" query "$1" 2>/dev/null | grep -o '"value":\[[^]]*\]' | head -n 1 \
    | sed 's/.*,"\(.*\)"\]/\1/'
}
open_query='resilience4j_circuitbreaker_state{name="orders",state="open"}'
for _ in $(seq 1 75); do
  [[ "$(value "$open_query")" == 1 ]] && break
  sleep 0.2
done
[[ "$(value "$open_query")" == 1 ]] || die "Prometheus never saw \`orders\` OPEN (log: $PROMETHEUS_STATE_DIR/prometheus.log)"

echo
echo "Prometheus $PROM_URL scrapes $USER/actuator/prometheus every second:"
for q in \
  'sum(resilience4j_circuitbreaker_state{state=~"open|forced_open"})' \
  'resilience4j_circuitbreaker_failure_rate{name="orders"}' \
  'resilience4j_circuitbreaker_not_permitted_calls_total{name="orders"}' \
  'resilience4j_circuitbreaker_calls_seconds_count{name="orders",kind="failed"}' \
  'fusebox_circuitbreaker_transitions_total{name="orders",from="closed",to="open"}'; do
  printf '  %-82s %s\n' "$q" "$(value "$q")"
done
cat <<EOF

  try:  curl $USER/actuator/circuitbreakers
        curl '$PROM_URL/api/v1/query?query=resilience4j_circuitbreaker_state'
        scripts/prometheus.sh query 'rate(resilience4j_circuitbreaker_calls_seconds_count[1m])'
          (with PROMETHEUS_STATE_DIR=$PROMETHEUS_STATE_DIR)
  Grafana: add $PROM_URL as a Prometheus data source and import Resilience4j's dashboard.
  (Prometheus is built without its web UI assets: the HTTP API is complete, the UI pages are not.)
EOF

if (( ONCE == 0 )) && [[ -t 0 ]]; then
  echo
  read -r -p "everything keeps running: press Enter (or Ctrl-C) to stop it " _ || true
fi
echo "stopping Prometheus and the services"
