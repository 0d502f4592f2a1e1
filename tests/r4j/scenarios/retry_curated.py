#!/usr/bin/env python3
"""Writes retry-curated.jsonl: Retry scenarios for tests/retry_parity.rs, one or more per rule of
shared/reference/resilience4j-ops.md section C.1 and of fusebox's retry module docs (the
publication rules). Edit this file, run it, commit both.

A scenario: a config (keys in tests/r4j/README.md, "Retry") and calls; each call is the list of
its attempts' outcomes, `ok V` or `error CLASS` (E1, E1a extends E1, E2, E3 checked), the last one
repeating if the retry asks for more attempts.
"""
import json
import os

scenarios = []


def s(name, config, *calls):
    scenarios.append({"name": "retry/" + name, "config": config, "calls": [list(c) for c in calls]})


E1, E1a, E2, E3 = "error E1", "error E1a", "error E2", "error E3"
ok = lambda v: "ok %d" % v  # noqa: E731

# --- defaults: maxAttempts 3, a fixed 500 ms wait, every error retried ----------------------------
s("defaults/first-attempt-success-publishes-nothing", {}, [ok(1)])
s("defaults/success-after-retries", {}, [E1, E2, ok(3)])
s("defaults/exhausted-returns-the-last-error", {}, [E1, E2, E3])
s("defaults/checked-exceptions-are-retried", {}, [E3, ok(1)])

# --- maxAttempts: total attempts, the first included; at least 1 ---------------------------------
s("max-attempts/one-means-no-retry-error", {"maxAttempts": 1}, [E1])
s("max-attempts/one-means-no-retry-success", {"maxAttempts": 1}, [ok(1)])
s("max-attempts/one-rejected-result", {"maxAttempts": 1, "retryOnResult": [0]}, [ok(0)])
s("max-attempts/five", {"maxAttempts": 5}, [E1, E1, E1, E1, ok(5)], [E1])
s("max-attempts/zero-is-rejected", {"maxAttempts": 0}, [ok(1)])

# --- waitDuration: fixed; zero allowed --------------------------------------------------------------
s("wait/zero", {"waitDurationMs": 0}, [E1, E1, ok(1)])
s("wait/one-ms", {"waitDurationMs": 1}, [E1, ok(1)])
s("wait/an-hour", {"waitDurationMs": 3600000}, [E1, E1, E1])
s("wait/interval-function-replaces-wait", {"waitDurationMs": 7,
  "intervalFunction": {"type": "exponential", "initialMs": 100, "multiplier": 2}}, [E1, E1, E1])

# --- exponential backoff: each step truncated to a long, the maximum applied last -------------------
def expo(initial, mult, max_ms=None):
    f = {"type": "exponential", "initialMs": initial, "multiplier": mult}
    if max_ms is not None:
        f["maxMs"] = max_ms
    return f


s("exponential/default-multiplier", {"maxAttempts": 5, "intervalFunction": expo(500, 1.5)}, [E1])
s("exponential/each-step-truncated", {"maxAttempts": 5, "intervalFunction": expo(333, 1.5)}, [E1])
s("exponential/multiplier-below-one", {"maxAttempts": 5, "intervalFunction": expo(1000, 0.5)}, [E1])
s("exponential/shrinks-to-zero", {"maxAttempts": 5, "intervalFunction": expo(3, 0.3)}, [E1])
s("exponential/capped-by-max", {"maxAttempts": 5, "intervalFunction": expo(1000, 2, 3000)}, [E1])
s("exponential/max-below-initial", {"maxAttempts": 3, "intervalFunction": expo(1000, 2, 10)}, [E1])
s("exponential/on-rejected-results", {"maxAttempts": 4, "retryOnResult": [0],
  "intervalFunction": expo(10, 3)}, [ok(0)])
s("exponential/restarts-every-call", {"maxAttempts": 3, "intervalFunction": expo(10, 2)}, [E1, ok(1)], [E1, E1, ok(2)])
s("exponential/saturates-like-a-java-long", {"maxAttempts": 5, "intervalFunction": expo(1000, 1e10)}, [E1])
s("exponential/saturated-then-capped", {"maxAttempts": 5, "intervalFunction": expo(1000, 1e10, 86400000)}, [E1])
s("exponential/initial-zero-is-rejected", {"intervalFunction": expo(0, 2)}, [ok(1)])
s("exponential/max-zero-is-rejected", {"intervalFunction": expo(100, 2, 0)}, [ok(1)])
# Deviations (tests/retry_parity.rs ALLOWED_DEVIATIONS): Resilience4j accepts these.
s("exponential/deviation-multiplier-zero", {"intervalFunction": expo(100, 0)}, [E1, E1, E1])
s("exponential/deviation-initial-zero-with-max", {"intervalFunction": expo(0, 2, 100)}, [E1])

# --- randomized: max(1, x - f*x + random * (2f*x + 1)), truncated; compared by bounds -------------
def rnd(interval, factor):
    return {"type": "randomized", "intervalMs": interval, "factor": factor}


def exprnd(initial, mult, factor, max_ms=None):
    f = {"type": "exponentialRandom", "initialMs": initial, "multiplier": mult, "factor": factor}
    if max_ms is not None:
        f["maxMs"] = max_ms
    return f


s("randomized/factor-zero-is-exact", {"maxAttempts": 4, "intervalFunction": rnd(1000, 0)}, [E1])
s("randomized/factor-half", {"maxAttempts": 6, "intervalFunction": rnd(1000, 0.5)}, [E1], [E1], [E1])
s("randomized/factor-one-never-below-one-ms", {"maxAttempts": 6, "intervalFunction": rnd(1, 1)}, [E1], [E1])
s("randomized/factor-one", {"maxAttempts": 6, "intervalFunction": rnd(10, 1)}, [E1], [E1])
s("randomized/factor-above-one-is-rejected", {"intervalFunction": rnd(1000, 1.5)}, [ok(1)])
s("randomized/negative-factor-is-rejected", {"intervalFunction": rnd(1000, -0.1)}, [ok(1)])
s("randomized/interval-zero-is-rejected", {"intervalFunction": rnd(0, 0.5)}, [ok(1)])
s("exponential-random/factor-zero-is-exact", {"maxAttempts": 5, "intervalFunction": exprnd(100, 2, 0)}, [E1])
s("exponential-random/factor-zero-capped", {"maxAttempts": 5, "intervalFunction": exprnd(100, 2, 0, 300)}, [E1])
s("exponential-random/randomized-then-capped", {"maxAttempts": 6, "intervalFunction": exprnd(1000, 2, 0.5, 2500)}, [E1], [E1])
s("exponential-random/uncapped", {"maxAttempts": 6, "intervalFunction": exprnd(333, 1.5, 0.5)}, [E1], [E1])
s("exponential-random/factor-above-one-is-rejected", {"intervalFunction": exprnd(100, 2, 1.5)}, [ok(1)])
s("exponential-random/initial-zero-is-rejected", {"intervalFunction": exprnd(0, 2, 0.5)}, [ok(1)])
s("exponential-random/max-zero-is-rejected", {"intervalFunction": exprnd(100, 2, 0.5, 0)}, [ok(1)])

# --- custom interval functions: attempt n waits intervals[n-1]; a negative one stops retrying -----
def custom(*waits):
    return {"type": "custom", "intervals": list(waits)}


s("custom/sequence", {"maxAttempts": 5, "intervalFunction": custom(10, 20, 30)}, [E1])
s("custom/zero-waits", {"maxAttempts": 3, "intervalFunction": custom(0)}, [E1, E1, ok(1)])
s("custom/negative-stops-after-an-error", {"maxAttempts": 5, "intervalFunction": custom(10, -1)}, [E1], [E1, ok(1)])
s("custom/negative-stops-at-once", {"maxAttempts": 5, "intervalFunction": custom(-1)}, [E2], [ok(1)])
s("custom/negative-stops-after-a-rejected-result", {"maxAttempts": 5, "retryOnResult": [0],
  "intervalFunction": custom(10, -1)}, [ok(0)], [E1, ok(0)], [ok(0), ok(1)])
s("custom/stop-after-rejected-result-with-fail-after-max", {"maxAttempts": 3, "retryOnResult": [0],
  "failAfterMaxAttempts": True, "intervalFunction": custom(-1)}, [ok(0)])
s("custom/stop-then-ignored-error", {"maxAttempts": 5, "ignoreExceptions": ["E2"],
  "intervalFunction": custom(5, -1)}, [E1, E2])

# --- retry / ignore predicates: (retryOnException OR retryExceptions) AND NOT ignoreExceptions ----
s("predicates/retry-exceptions-only-listed", {"retryExceptions": ["E1"]}, [E1, ok(1)], [E2], [E3])
s("predicates/retry-exceptions-match-subclasses", {"retryExceptions": ["E1"]}, [E1a, E1a, E1a])
s("predicates/retry-exceptions-not-superclasses", {"retryExceptions": ["E1a"]}, [E1], [E1a, ok(2)])
s("predicates/retry-runtime-exceptions", {"retryExceptions": ["RuntimeException"]}, [E1, E2, E3])
s("predicates/retry-all-exceptions", {"retryExceptions": ["Exception"]}, [E1, E2, E3])
s("predicates/ignore-wins-over-retry", {"retryExceptions": ["E1"], "ignoreExceptions": ["E1a"]}, [E1, E1a], [E1a])
s("predicates/ignore-superclass", {"ignoreExceptions": ["RuntimeException"]}, [E3, E3, E1], [E2])
s("predicates/ignore-everything", {"ignoreExceptions": ["Exception"]}, [E3], [E1], [ok(1)])
s("predicates/ignored-after-retries-counts-failed-without-retry", {"ignoreExceptions": ["E2"]}, [E1, E2])
s("predicates/retry-on-exception-or-retry-exceptions", {"retryOnExceptionClasses": ["E2"],
  "retryExceptions": ["E1"]}, [E2, E1, ok(1)], [E3])
s("predicates/retry-on-exception-exact-class", {"retryOnExceptionClasses": ["E1"]}, [E1a], [E1, E1, E1])
s("predicates/retry-on-exception-and-ignore", {"retryOnExceptionClasses": ["E1", "E2"],
  "ignoreExceptions": ["E2"]}, [E1, E2], [E2])

# --- result predicate: a rejected result counts as an attempt -------------------------------------
s("result/rejected-then-accepted", {"retryOnResult": [0]}, [ok(0), ok(1)])
s("result/not-rejected-is-a-first-attempt-success", {"retryOnResult": [0]}, [ok(1)])
s("result/rejected-to-the-end-stands", {"retryOnResult": [0]}, [ok(0)])
s("result/rejected-to-the-end-fails-with-fail-after-max", {"retryOnResult": [0], "failAfterMaxAttempts": True}, [ok(0)])
s("result/errors-and-results-share-the-attempts", {"retryOnResult": [0]}, [E1, ok(0), E2], [ok(0), E1, ok(0)])
s("result/success-carries-the-last-error", {"maxAttempts": 4, "retryOnResult": [0]}, [E1, ok(0), ok(0), ok(1)])
s("result/error-event-carries-the-last-error", {"retryOnResult": [0]}, [E1, E2, ok(0)])
s("result/fail-after-max-overrides-the-last-error", {"retryOnResult": [0], "failAfterMaxAttempts": True}, [E1, E2, ok(0)])
s("result/fail-after-max-does-not-touch-errors", {"failAfterMaxAttempts": True}, [E1], [E1, ok(1)])
s("result/fail-after-max-false-explicitly", {"retryOnResult": [0], "failAfterMaxAttempts": False}, [ok(0)])
s("result/ignored-error-after-rejected-results", {"retryOnResult": [0], "ignoreExceptions": ["E3"]}, [ok(0), E3])
s("result/several-values", {"maxAttempts": 4, "retryOnResult": [0, 2]}, [ok(0), ok(2), ok(1)], [ok(2)])
s("result/max-attempts-one-fail-after-max", {"maxAttempts": 1, "retryOnResult": [0], "failAfterMaxAttempts": True}, [ok(0)], [ok(1)])

# --- counters accumulate over calls (Resilience4j's four Retry.Metrics) ---------------------------
s("metrics/all-four-counters", {"retryOnResult": [0], "ignoreExceptions": ["E2"], "waitDurationMs": 5},
  [ok(1)], [E1, ok(1)], [E2], [E1, E1, E1], [ok(0)], [ok(2)], [E1, E2], [ok(0), ok(0), ok(3)])

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "retry-curated.jsonl"), "w") as f:
    f.write("// Generated by retry_curated.py: edit that, re-run it, commit both.\n")
    for sc in scenarios:
        f.write(json.dumps(sc, separators=(",", ":")) + "\n")
print("%d scenarios" % len(scenarios))
