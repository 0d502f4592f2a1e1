#!/usr/bin/env python3
"""Writes curated.jsonl (next to this file): the hand-picked Resilience4j parity scenarios.

Edit here, run `python3 tests/r4j/scenarios/curated.py`, commit both files. The format is in
tests/r4j/README.md; the rules covered are those of shared/reference/resilience4j.md sections 1-2.
"""
import json
S = []
def sc(name, config, steps):
    S.append({"name": name, "config": config, "steps": steps})

def cnt(size, mn, **kw):
    c = {"slidingWindowType": "COUNT_BASED", "slidingWindowSize": size, "minimumNumberOfCalls": mn}
    c.update(kw); return c
def tim(size, mn, **kw):
    c = {"slidingWindowType": "TIME_BASED", "slidingWindowSize": size, "minimumNumberOfCalls": mn}
    c.update(kw); return c

# ---- defaults ---------------------------------------------------------------------------------
sc("defaults/no-config-keys: 100-call count window, 60 s slow threshold, rates null below 100 calls", {},
   ["acquire", "success 60000", "success 60001", "error 60001", "acquire!", "release", "advance 60000", "error 1"])
sc("defaults/window-size-5-alone-clamps-default-minimum-100-to-5", {"slidingWindowSize": 5},
   ["error 1", "error 1", "success 1", "success 1", "success 1", "error 1"])
sc("defaults/100-failures-trip-default-breaker-at-the-100th", {}, ["error 1"] * 100 + ["acquire", "advance 60000", "acquire", "advance 1", "acquire"])

# ---- failure-rate threshold -------------------------------------------------------------------
sc("threshold/failure-rate-equal-to-threshold-trips (>=)", cnt(4, 4, failureRateThreshold=50),
   ["success 1", "success 1", "error 1", "error 1", "acquire"])
sc("threshold/failure-rate-just-below-threshold-stays-closed", cnt(4, 4, failureRateThreshold=50.000004),
   ["success 1", "success 1", "error 1", "error 1", "acquire"])
sc("threshold/failure-rate-33.333332-equals-float-of-1/3 trips", cnt(3, 3, failureRateThreshold=33.333332),
   ["success 1", "success 1", "error 1"])
sc("threshold/failure-rate-33.333336 above float 1/3 stays closed", cnt(3, 3, failureRateThreshold=33.333336),
   ["success 1", "success 1", "error 1", "error 1"])
sc("threshold/failure-rate-100-needs-all-failed", cnt(3, 3, failureRateThreshold=100),
   ["error 1", "error 1", "success 1", "error 1", "error 1", "error 1"])
sc("threshold/fractional-rates-1/7-2/7 are f32", cnt(7, 7, failureRateThreshold=100, slowCallDurationThresholdMs=10, slowCallRateThreshold=100),
   ["success 11", "error 1", "success 1", "success 1", "success 1", "success 1", "error 11", "success 1", "success 1"])
sc("threshold/threshold-0.5-trips-on-any-failure", cnt(10, 1, failureRateThreshold=0.5),
   ["success 1", "success 1", "error 1"])
sc("threshold/rates-recomputed-only-on-record-not-on-acquire", cnt(2, 2, failureRateThreshold=50),
   ["success 1", "acquire", "acquire!", "release", "error 1"])

# ---- slow calls ---------------------------------------------------------------------------------
sc("slow/duration-equal-to-threshold-is-not-slow, strictly-greater is", cnt(2, 2, slowCallDurationThresholdMs=100, slowCallRateThreshold=50, failureRateThreshold=100),
   ["success 100", "success 100", "success 101"])
sc("slow/slow-failure-counts-as-failed-and-slow-failed", cnt(4, 4, slowCallDurationThresholdMs=100, slowCallRateThreshold=100, failureRateThreshold=100),
   ["error 101", "success 101", "error 100", "success 1"])
sc("slow/slow-call-rate-trip-publishes-only-slow-event", cnt(2, 2, slowCallDurationThresholdMs=10, slowCallRateThreshold=100, failureRateThreshold=100),
   ["success 11", "success 11"])
sc("slow/both-rates-exceeded: ERROR, FAILURE_RATE_EXCEEDED, SLOW_CALL_RATE_EXCEEDED, transition", cnt(2, 2, slowCallDurationThresholdMs=10, slowCallRateThreshold=50, failureRateThreshold=50),
   ["success 1", "error 11"])
sc("slow/slow-success-trip-event-order SUCCESS then SLOW_CALL_RATE_EXCEEDED", cnt(1, 1, slowCallDurationThresholdMs=5, slowCallRateThreshold=100),
   ["success 6"])
sc("slow/zero-duration-never-slow", cnt(2, 1, slowCallDurationThresholdMs=1, slowCallRateThreshold=1),
   ["success 0", "error 0", "success 1", "success 2"])

# ---- minimum number of calls ------------------------------------------------------------------
sc("minimum/count-window-clamps-minimum-to-size (size 3, min 10)", cnt(3, 10, failureRateThreshold=50),
   ["error 1", "error 1", "error 1"])
sc("minimum/count-window-decides-before-full (size 10, min 2)", cnt(10, 2, failureRateThreshold=50),
   ["success 1", "error 1"])
sc("minimum/count-window-rates-null-until-minimum", cnt(10, 4, failureRateThreshold=100),
   ["error 1", "success 1", "error 1", "success 1", "success 1"])
sc("minimum/time-window-not-clamped-never-trips (size 2 s, min 5)", tim(2, 5, failureRateThreshold=50),
   ["error 1", "error 1", "advance 1000", "error 1", "error 1", "advance 1000", "error 1", "error 1", "advance 1000", "error 1", "error 1"])
sc("minimum/time-window-trips-when-minimum-within-window", tim(2, 5, failureRateThreshold=50),
   ["error 1", "error 1", "advance 999", "error 1", "error 1", "error 1"])
sc("minimum/time-window-min-larger-than-ever-held", tim(1, 3, failureRateThreshold=1),
   ["error 1", "error 1", "advance 1000", "error 1", "error 1", "advance 1000", "error 1"])

# ---- count window ------------------------------------------------------------------------------
sc("count-window/ring-evicts-oldest", cnt(3, 3, failureRateThreshold=100),
   ["error 1", "success 1", "success 1", "success 1", "error 1", "error 1", "success 1", "error 1", "error 1", "error 1"])
sc("count-window/size-1", cnt(1, 1, failureRateThreshold=100),
   ["success 1", "success 1", "error 1"])
sc("count-window/unaffected-by-time", cnt(3, 3, failureRateThreshold=100),
   ["error 1", "advance 100000", "error 1", "advance 100000", "success 1", "advance 5000"])

# ---- time window -------------------------------------------------------------------------------
sc("time-window/bucket-expiry-at-whole-seconds (N=2: 0.999 gone at 2.000)", tim(2, 10),
   ["advance 999", "error 1", "advance 1", "success 1", "advance 999", "advance 1", "advance 999", "advance 1"])
sc("time-window/size-1-holds-only-current-second", tim(1, 1, failureRateThreshold=100),
   ["success 1", "advance 500", "success 1", "advance 499", "advance 1", "success 1"])
sc("time-window/large-advance-clears-all-buckets", tim(3, 10),
   ["error 1", "advance 1000", "success 1", "advance 1000", "error 1", "advance 1000000", "success 1"])
sc("time-window/trip-then-late-results-in-open-rotate", tim(3, 2, failureRateThreshold=50, waitDurationInOpenStateMs=10000),
   ["success 1", "error 1", "advance 1000", "success 1", "advance 2000", "error 1", "advance 1000", "advance 5000"])
sc("time-window/aging-window-never-changes-state-by-itself", tim(2, 2, failureRateThreshold=60),
   ["error 1", "advance 1000", "success 1", "advance 1000", "error 1", "acquire", "error 1"])
sc("time-window/slow-and-failed-counters-expire-together", tim(2, 3, failureRateThreshold=100, slowCallRateThreshold=100, slowCallDurationThresholdMs=50),
   ["error 51", "success 51", "advance 1000", "error 1", "advance 1000", "success 51", "advance 1000"])
sc("time-window/sub-second-advances-accumulate", tim(2, 4, failureRateThreshold=50),
   ["advance 300", "error 1", "advance 300", "error 1", "advance 300", "success 1", "advance 300", "success 1", "advance 300", "advance 300", "advance 300", "advance 300", "error 1"])

# ---- OPEN --------------------------------------------------------------------------------------
trip2 = ["error 1", "error 1"]
sc("open/lazy-half-open-strictly-after-wait", cnt(2, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2),
   trip2 + ["advance 999", "acquire", "advance 1", "acquire", "advance 1", "acquire", "acquire", "acquire"])
sc("open/state-reads-OPEN-after-wait-until-someone-acquires", cnt(2, 2, waitDurationInOpenStateMs=1000),
   trip2 + ["advance 5000", "release", "success 1", "acquire!"])
sc("open/acquire!-rejection-message-and-count", cnt(2, 2, waitDurationInOpenStateMs=1000),
   trip2 + ["acquire!", "acquire!", "acquire"])
sc("open/lazy-transition-via-acquire!", cnt(2, 2, waitDurationInOpenStateMs=1500, permittedNumberOfCallsInHalfOpenState=1),
   trip2 + ["advance 1500", "acquire!", "advance 1", "acquire!", "acquire!"])
sc("open/inherits-closed-metrics-and-counts-not-permitted-there", cnt(4, 2, waitDurationInOpenStateMs=1000),
   ["success 1", "error 1", "error 1", "acquire", "acquire", "acquire!"])
sc("open/late-results-recorded-never-transition", cnt(4, 2, waitDurationInOpenStateMs=1000),
   trip2 + ["success 1", "success 1", "success 1", "success 1", "error 200000", "advance 1000", "success 1"])
sc("open/release-is-a-noop", cnt(2, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=1),
   trip2 + ["release", "release", "advance 1001", "acquire", "acquire"])
sc("open/wait-restarts-after-half-open-fails", cnt(2, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2, minimumNumberOfCalls=2),
   trip2 + ["advance 1001", "acquire", "error 1", "acquire", "error 1", "acquire", "advance 1000", "acquire", "advance 1", "acquire"])
sc("open/sub-second-wait", cnt(1, 1, waitDurationInOpenStateMs=1, permittedNumberOfCallsInHalfOpenState=1),
   ["error 1", "acquire", "advance 1", "acquire", "advance 1", "acquire", "acquire"])

# ---- HALF_OPEN ---------------------------------------------------------------------------------
to_ho = ["to_open", "advance 1001", "acquire"]
sc("half-open/decides-after-min(minimum=2, permitted=5)", cnt(10, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=5, failureRateThreshold=50),
   to_ho + ["success 1", "acquire", "success 1"])
sc("half-open/decides-after-min(minimum=10, permitted=2)", cnt(10, 10, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2, failureRateThreshold=50),
   to_ho + ["success 1", "acquire", "error 1"])
sc("half-open/failure-back-to-open-without-rate-events", cnt(10, 3, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=3, failureRateThreshold=50),
   to_ho + ["acquire", "acquire", "acquire", "error 1", "success 1", "error 1", "acquire"])
sc("half-open/slow-calls-reopen", cnt(10, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2, slowCallDurationThresholdMs=10, slowCallRateThreshold=50),
   to_ho + ["acquire", "success 5", "success 11"])
sc("half-open/closes-into-fresh-window", tim(5, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2, failureRateThreshold=60),
   ["error 1", "error 1"] + ["advance 1001", "acquire", "acquire", "success 1", "error 1", "error 1", "success 1"])
sc("half-open/window-is-count-based-even-for-time-config", tim(1, 4, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=4, failureRateThreshold=50),
   ["to_open", "advance 1001", "acquire", "success 1", "advance 5000", "success 1", "advance 5000", "error 1", "advance 5000", "error 1"])
sc("half-open/rejections-counted-on-half-open-metrics-and-survive-into-open", cnt(4, 1, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=1),
   to_ho + ["acquire", "acquire!", "error 1", "acquire", "acquire!"])
sc("half-open/release-returns-a-permit", cnt(4, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2),
   to_ho + ["acquire", "acquire", "release", "acquire", "acquire"])
sc("half-open/release-unbounded-adds-extra-permits", cnt(4, 4, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=1),
   to_ho + ["release", "release", "release", "acquire", "acquire", "acquire", "acquire", "acquire"])
sc("half-open/results-without-permits-still-count", cnt(4, 3, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=3, failureRateThreshold=50),
   to_ho + ["success 1", "success 1", "success 1"])
sc("half-open/manual-entry-from-closed-is-illegal-but-open-to-half-open-is-not", cnt(4, 2, permittedNumberOfCallsInHalfOpenState=2),
   ["to_half_open", "to_open", "to_half_open", "acquire", "acquire", "acquire", "success 1", "success 1"])
sc("half-open/time-does-not-leave-half-open", cnt(4, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2),
   to_ho + ["advance 1000000", "acquire", "acquire"])

# ---- self transitions ------------------------------------------------------------------------
sc("self/closed-to-closed-resets-metrics-silently", cnt(4, 4, failureRateThreshold=50),
   ["error 1", "error 1", "success 1", "to_closed", "error 1", "error 1", "success 1", "error 1"])
sc("self/open-to-open-restarts-wait-silently", cnt(2, 2, waitDurationInOpenStateMs=1000),
   trip2 + ["advance 800", "to_open", "advance 800", "acquire", "advance 201", "acquire"])
sc("self/half-open-to-half-open-refills-permits-silently", cnt(4, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2),
   to_ho + ["acquire", "acquire", "error 1", "to_half_open", "acquire", "acquire", "acquire"])
sc("self/forced-open, disabled, metrics-only self transitions", cnt(4, 1),
   ["to_forced_open", "acquire", "to_forced_open", "acquire", "to_disabled", "to_disabled", "to_metrics_only", "error 1", "to_metrics_only"])

# ---- DISABLED / FORCED_OPEN / METRICS_ONLY ---------------------------------------------------
sc("disabled/permits-everything-records-nothing-publishes-nothing", cnt(2, 1, failureRateThreshold=1),
   ["error 1", "to_disabled", "acquire", "acquire!", "error 1", "error 1", "success 100000", "release", "advance 100000", "acquire"])
sc("forced-open/rejects-counts-publishes-no-not-permitted", cnt(2, 1, waitDurationInOpenStateMs=1000),
   ["error 1", "to_forced_open", "acquire", "acquire!", "advance 100000", "acquire", "success 1", "error 1", "release"])
sc("metrics-only/records-never-transitions-events-once-per-stint", cnt(2, 2, failureRateThreshold=50, slowCallRateThreshold=50, slowCallDurationThresholdMs=10),
   ["to_metrics_only", "error 1", "error 1", "error 1", "success 11", "success 11", "acquire", "acquire!",
    "to_closed", "to_metrics_only", "error 20", "error 20", "error 20"])
sc("metrics-only/failure-and-slow-exceeded-separately", cnt(3, 1, failureRateThreshold=50, slowCallRateThreshold=50, slowCallDurationThresholdMs=10),
   ["to_metrics_only", "error 1", "success 11", "success 11", "success 1", "success 1", "error 11", "error 11"])
sc("metrics-only/time-window", tim(2, 2, failureRateThreshold=50),
   ["to_metrics_only", "error 1", "advance 1000", "error 1", "advance 1000", "advance 1000", "success 1"])

# ---- reset -------------------------------------------------------------------------------------
for frm, pre in [("closed", ["error 1"]), ("open", ["to_open"]), ("half-open", ["to_open", "to_half_open", "acquire"]),
                 ("disabled", ["to_disabled"]), ("forced-open", ["to_forced_open", "acquire"]), ("metrics-only", ["to_metrics_only", "error 1"])]:
    sc(f"reset/from-{frm}", cnt(4, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=1),
       pre + ["reset", "reset", "error 1", "error 1", "acquire"])
sc("reset/from-open-after-wait-then-closed-is-fresh", cnt(2, 2, waitDurationInOpenStateMs=1000),
   trip2 + ["acquire", "advance 2000", "reset", "acquire", "error 1", "error 1", "acquire"])

# ---- ignored errors (every harness config ignores the error of an `ignored D` step) -----------
sc("ignored/closed: IGNORED_ERROR event, nothing recorded", cnt(2, 1, failureRateThreshold=1),
   ["acquire", "ignored 5", "ignored 100000", "success 1"])
sc("ignored/half-open: releases the permit", cnt(4, 4, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=1),
   ["to_open", "advance 1001", "acquire", "acquire", "ignored 1", "acquire", "acquire", "ignored 1", "ignored 1", "acquire", "acquire", "acquire"])
sc("ignored/open, disabled, forced-open, metrics-only", cnt(2, 1, waitDurationInOpenStateMs=1000),
   ["to_open", "ignored 1", "to_disabled", "ignored 1", "to_forced_open", "ignored 1", "to_metrics_only", "ignored 1", "error 1"])

# ---- transitionToOpenStateFor / Until ------------------------------------------------------------
sc("open-for/uses-given-wait-not-config-strictly-after", cnt(2, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=1),
   ["error 1", "open_for 3000", "advance 1001", "acquire", "advance 1999", "acquire", "advance 1", "acquire", "error 1", "advance 1000", "acquire", "advance 1", "acquire"])
sc("open-until/absolute-instant-strictly-after", cnt(2, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=1),
   ["advance 500", "open_until 2500", "advance 1999", "acquire", "advance 1", "acquire", "acquire", "open_until 100", "acquire"])
sc("open-for/legality-like-open (illegal from metrics-only, self from open)", cnt(2, 2, waitDurationInOpenStateMs=1000),
   ["to_metrics_only", "open_for 10", "open_until 10", "to_closed", "open_for 100", "open_for 5000", "advance 101", "acquire", "open_until 0", "acquire"])
sc("open-for/keeps-closed-metrics", cnt(4, 2, waitDurationInOpenStateMs=1000),
   ["error 1", "success 1", "open_for 10", "acquire", "success 1", "advance 11", "acquire"])

# ---- timers: automatic OPEN->HALF_OPEN and maxWaitDurationInHalfOpenState --------------------------
# Resilience4j runs them on a scheduler; the harness's manual scheduler fires each task when an
# `advance` passes its due time (at that time), fusebox applies them when the state is read.
def auto(**kw):
    return cnt(2, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=1,
               automaticTransitionFromOpenToHalfOpenEnabled=True, **kw)
sc("timer/automatic-open-to-half-open-at-the-wait (not strictly after)", auto(),
   trip2 + ["advance 999", "advance 1", "acquire", "acquire"])
sc("timer/automatic-cancelled-by-leaving-open", auto(),
   trip2 + ["advance 500", "to_closed", "advance 600", "to_open", "advance 999", "advance 1"])
sc("timer/automatic-open-to-open-restarts-timer", auto(),
   trip2 + ["advance 800", "to_open", "advance 800", "advance 199", "advance 1"])
sc("timer/automatic-with-open-for-and-until", auto(),
   ["open_for 300", "advance 299", "advance 1", "to_open", "open_until 5000", "advance 1000", "advance 3699", "advance 1", "acquire"])
sc("timer/automatic-after-reset-quirk-2.7.3 (stale task fails in the scheduler)", auto(),
   trip2 + ["reset", "advance 5000", "acquire", "error 1", "error 1", "advance 1000"])
sc("timer/automatic-from-half-open-failure-reopens-and-rearms", auto(),
   trip2 + ["advance 1000", "acquire", "error 1", "advance 1000", "acquire", "success 1"])
sc("timer/half-open-max-wait-to-open (default target)", cnt(2, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2, maxWaitDurationInHalfOpenStateMs=500),
   trip2 + ["advance 1001", "acquire", "advance 499", "acquire", "advance 1", "acquire", "advance 1000", "acquire"])
sc("timer/half-open-max-wait-to-closed", cnt(2, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2, maxWaitDurationInHalfOpenStateMs=500, transitionToStateAfterWaitDuration="CLOSED"),
   trip2 + ["advance 1001", "acquire", "success 1", "advance 500", "acquire", "error 1", "error 1"])
sc("timer/half-open-max-wait-cancelled-by-decision", cnt(2, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=1, minimumNumberOfCalls=1, maxWaitDurationInHalfOpenStateMs=500),
   trip2 + ["advance 1001", "acquire", "success 1", "advance 1000", "to_open", "advance 1001", "acquire", "error 1", "advance 500", "advance 1000"])
sc("timer/half-open-max-wait-manual-entry-and-self-transition", cnt(2, 2, waitDurationInOpenStateMs=1000, maxWaitDurationInHalfOpenStateMs=500),
   ["to_open", "to_half_open", "advance 400", "to_half_open", "advance 400", "advance 100"])
sc("timer/cascade-in-one-advance: auto half-open then max wait", auto(maxWaitDurationInHalfOpenStateMs=500),
   trip2 + ["advance 1500", "advance 1000", "advance 10000"])
sc("timer/cascade-to-closed-in-one-advance", auto(maxWaitDurationInHalfOpenStateMs=200, transitionToStateAfterWaitDuration="CLOSED"),
   trip2 + ["advance 1200", "error 1", "error 1", "advance 5000"])
sc("timer/max-wait-1ms", cnt(2, 2, waitDurationInOpenStateMs=1000, maxWaitDurationInHalfOpenStateMs=1),
   trip2 + ["advance 1001", "acquire", "advance 1", "acquire"])
sc("timer/reset-from-half-open-keeps-max-wait-timer (2.7.3 for HALF_OPEN: stale timer opens a CLOSED breaker)", cnt(2, 2, waitDurationInOpenStateMs=1000, maxWaitDurationInHalfOpenStateMs=500),
   ["to_open", "to_half_open", "reset", "advance 499", "advance 1", "acquire"])
sc("timer/open-until-in-the-past-with-automatic-transition-fires-at-once", auto(),
   ["advance 5000", "open_until 1000", "acquire", "to_closed", "open_until 5000", "acquire", "open_until 6000", "advance 1000", "acquire"])
sc("config/invalid transitionToStateAfterWaitDuration=HALF_OPEN", {"transitionToStateAfterWaitDuration": "HALF_OPEN"}, ["acquire"])

# ---- every manual transition -----------------------------------------------------------------
STATES = [("closed", []), ("open", ["to_open"]), ("half_open", ["to_open", "to_half_open"]), ("disabled", ["to_disabled"]),
          ("forced_open", ["to_forced_open"]), ("metrics_only", ["to_metrics_only"])]
for frm, pre in STATES:
    for to, _ in STATES:
        sc(f"transition/{frm}->{to}", cnt(4, 2, waitDurationInOpenStateMs=1000, permittedNumberOfCallsInHalfOpenState=2, failureRateThreshold=50),
           pre + ["success 1", "acquire", f"to_{to}", "acquire", "advance 1001", "acquire", "acquire!", "to_closed"])

# ---- quirks of 2.4.0 (reference section 2.7) -------------------------------------------------
sc("quirk-2.7.2/disabled-to-open-carries-size-0-window-then-record", cnt(4, 2, waitDurationInOpenStateMs=1000),
   ["to_disabled", "to_open", "acquire", "success 1", "error 1", "advance 1001", "acquire", "success 1"])
sc("quirk-2.7.2/forced-open-to-open-carries-size-0-window-then-record", cnt(4, 2, waitDurationInOpenStateMs=1000),
   ["to_forced_open", "acquire", "to_open", "acquire", "error 1", "advance 1001", "acquire"])

# ---- config validation (builder) ---------------------------------------------------------------
for key, val in [("failureRateThreshold", 0), ("failureRateThreshold", 100.5), ("failureRateThreshold", -1),
                 ("slowCallRateThreshold", 0), ("slowCallRateThreshold", 101),
                 ("slidingWindowSize", 0), ("minimumNumberOfCalls", 0), ("permittedNumberOfCallsInHalfOpenState", 0),
                 ("waitDurationInOpenStateMs", 0), ("slowCallDurationThresholdMs", 0), ("maxWaitDurationInHalfOpenStateMs", -1)]:
    sc(f"config/invalid {key}={val}", {key: val}, ["acquire"])
for key, val in [("failureRateThreshold", 100), ("failureRateThreshold", 0.001), ("slowCallRateThreshold", 100),
                 ("waitDurationInOpenStateMs", 1), ("slowCallDurationThresholdMs", 1), ("minimumNumberOfCalls", 1), ("slidingWindowSize", 1)]:
    sc(f"config/valid-edge {key}={val}", {key: val, **({} if key == "slidingWindowSize" else {"slidingWindowSize": 2})}, ["error 1", "error 1", "acquire"])

import os
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "curated.jsonl"), "w") as f:
    f.write("// Generated by curated.py (edit that, not this). Resilience4j 2.4.0 parity scenarios; format in tests/r4j/README.md.\n")
    for s in S:
        f.write(json.dumps(s, separators=(",", ":")) + "\n")
print(len(S))
