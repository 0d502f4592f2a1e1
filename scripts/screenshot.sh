#!/usr/bin/env bash
# Takes the README's screenshot: Zipkin's UI showing the demo's failing trace (user-service and
# order-service, the red spans of the 500, the `fallback` span), and one of the dependency graph.
#
#   scripts/screenshot.sh [output.png]     default: docs/zipkin-failed-trace.png
#
# What it does: installs Debian's `chromium` with apt-get if it is missing (needs root), starts
# a Zipkin of its own with scripts/zipkin.sh (Java 17+ and Maven), runs the demo against it
# (`cargo run --example demo`), then points headless Chromium at the demo's "failed trace" link.
# Zipkin's UI is a JavaScript app: scripts/screenshot.js waits until it has rendered the trace
# and clicks the guarded call's span before the picture is taken. Zipkin is stopped on exit,
# also on errors and Ctrl-C.
#
# Also written: target/fusebox-demo/demo-output.txt (the demo's full output) and a second
# picture of the dependency graph next to the first one (<output>-dependencies.png).
#
# Environment: SCREENSHOT_SIZE (default 1500x860), SCREENSHOT_BUDGET_MS (default 15000, for the
# fallback without Node).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/docs/zipkin-failed-trace.png}"
SIZE="${SCREENSHOT_SIZE:-1500x860}"
BUDGET="${SCREENSHOT_BUDGET_MS:-15000}"
WORK="$ROOT/target/fusebox-demo"
export ZIPKIN_STATE_DIR="$WORK/screenshot-zipkin"

die() { echo "screenshot.sh: $*" >&2; exit 1; }

chromium_bin() {
  for c in chromium chromium-browser google-chrome; do
    command -v "$c" >/dev/null 2>&1 && { command -v "$c"; return; }
  done
  return 1
}

if ! CHROMIUM="$(chromium_bin)"; then
  [[ "$(id -u)" -eq 0 ]] || die "chromium is missing; install it (apt-get install chromium) or run as root"
  echo "screenshot.sh: installing chromium (Debian package)..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  CHROMIUM="$(chromium_bin)" || die "chromium still missing after apt-get install"
fi

mkdir -p "$WORK" "$(dirname "$OUT")"
trap '"$ROOT/scripts/zipkin.sh" stop >/dev/null 2>&1 || true' EXIT INT TERM
zipkin_out="$("$ROOT/scripts/zipkin.sh" start)" || die "Zipkin did not start (scripts/zipkin.sh exit $?)"
ZIPKIN_URL="$(sed -n 's/^ZIPKIN_URL=//p' <<<"$zipkin_out")"
[[ -n "$ZIPKIN_URL" ]] || die "scripts/zipkin.sh printed no ZIPKIN_URL"

# The demo uses a Zipkin named in the environment and leaves it running.
(cd "$ROOT" && OTEL_EXPORTER_ZIPKIN_ENDPOINT="$ZIPKIN_URL/api/v2/spans" \
  cargo run --quiet --example demo </dev/null) | tee "$WORK/demo-output.txt"

TRACE_URL="$(sed -n 's/^ *failed trace *\(http[^ ]*\)$/\1/p' "$WORK/demo-output.txt" | head -n1)"
[[ -n "$TRACE_URL" ]] || die "the demo printed no failed-trace link"

# Drives Chromium over the DevTools protocol (scripts/screenshot.js): waits for the UI, clicks
# a span or a button. Without a usable Node, falls back to a plain `chromium --screenshot`.
shoot() { # $1 = url, $2 = png, $3 = size, then screenshot.js options
  local url="$1" png="$2" size="$3"; shift 3
  rm -f "$png"
  if command -v node >/dev/null 2>&1 &&
     node --experimental-websocket --no-warnings "$ROOT/scripts/screenshot.js" \
       "$CHROMIUM" "$url" "$png" --size "$size" "$@"; then
    :
  else
    echo "screenshot.sh: DevTools driver unavailable or failed; plain headless screenshot" >&2
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
      --no-first-run --force-device-scale-factor=1 --window-size="${size/x/,}" \
      --virtual-time-budget="$BUDGET" --screenshot="$png" "$url" >/dev/null 2>&1 || true
  fi
  [[ -s "$png" ]] || die "no screenshot written to $png"
  echo "screenshot.sh: $url -> $png" >&2
}

# The failing trace, with the guarded call selected: its tags show the breaker's name, state,
# outcome and the error; the tree shows both services, the red (!) spans and `fallback`.
shoot "$TRACE_URL" "$OUT" "$SIZE" --wait-text fallback --click "user-service: get_orders"
# The dependency graph: user-service → order-service.
shoot "$ZIPKIN_URL/zipkin/dependency" "${OUT%.png}-dependencies.png" 1500x700 \
  --wait-text "run query" --click-button "run query"
