//! Model checks of the permit and state-swap logic with loom: every interleaving of two or three
//! threads acquiring, releasing and recording while the state changes.
//!
//! Run with `RUSTFLAGS="--cfg fusebox_loom" cargo test -p fusebox-runtime --test loom --release`
//! (`.ci/run` does). Without that cfg this file is empty.
#![cfg(fusebox_loom)]

use fusebox_runtime::{CircuitBreaker, CircuitBreakerConfig, ManualClock, Registry, State};
use loom::thread;
use std::sync::Arc;
use std::time::Duration;

fn half_open(permits: u32, minimum: u32) -> Arc<CircuitBreaker> {
    let clock = ManualClock::new();
    let b = Registry::new().circuit_breaker_with_config(
        "loom",
        CircuitBreakerConfig::builder()
            .clock(clock.clone())
            .permitted_number_of_calls_in_half_open_state(permits)
            .minimum_number_of_calls(minimum)
            .build()
            .unwrap(),
    );
    b.transition_to_open_state().unwrap();
    b.transition_to_half_open_state().unwrap();
    Arc::new(b)
}

/// Two callers race for one probe permit and give it back: afterwards exactly one permit
/// exists, whatever the interleaving.
#[test]
fn half_open_permits_are_neither_lost_nor_duplicated() {
    loom::model(|| {
        let b = half_open(1, 1);
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || {
                    if b.try_acquire_permission() {
                        b.release_permission();
                        1
                    } else {
                        0
                    }
                })
            })
            .collect();
        let granted: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert!(granted >= 1);
        assert!(b.try_acquire_permission());
        assert!(!b.try_acquire_permission());
    });
}

/// Two probes record concurrently in HALF_OPEN: the decision is taken exactly once, on both
/// results, and the breaker ends where the rates say.
#[test]
fn half_open_decides_once_on_concurrent_results() {
    loom::model(|| {
        let b = half_open(2, 2);
        let mut events = b.subscribe();
        let t1 = {
            let b = b.clone();
            thread::spawn(move || {
                assert!(b.try_acquire_permission());
                b.on_success(Duration::from_millis(1));
            })
        };
        let t2 = {
            let b = b.clone();
            thread::spawn(move || {
                assert!(b.try_acquire_permission());
                b.on_error(Duration::from_millis(1));
            })
        };
        t1.join().unwrap();
        t2.join().unwrap();
        // 1 of 2 failed = 50 % >= 50 %: OPEN, via exactly one transition.
        assert_eq!(b.state(), State::Open);
        let transitions = events
            .drain()
            .into_iter()
            .filter(|e| matches!(e.kind, fusebox_runtime::EventKind::StateTransition { .. }))
            .count();
        assert_eq!(transitions, 1);
        assert_eq!(b.metrics().number_of_buffered_calls(), 2);
    });
}

/// A record races a manual transition: the result lands in exactly one state's metrics and
/// the final state is the manual target.
#[test]
fn records_and_manual_transitions_do_not_lose_updates() {
    loom::model(|| {
        let clock = ManualClock::new();
        let b = Arc::new(
            Registry::new().circuit_breaker_with_config(
                "loom-closed",
                CircuitBreakerConfig::builder()
                    .clock(clock)
                    .sliding_window_size(10)
                    .build()
                    .unwrap(),
            ),
        );
        let recorder = {
            let b = b.clone();
            thread::spawn(move || {
                assert!(b.try_acquire_permission());
                b.on_error(Duration::from_millis(1));
            })
        };
        let switcher = {
            let b = b.clone();
            thread::spawn(move || b.transition_to_metrics_only_state().unwrap())
        };
        recorder.join().unwrap();
        switcher.join().unwrap();
        assert_eq!(b.state(), State::MetricsOnly);
        // Either recorded in CLOSED (then discarded by the fresh METRICS_ONLY window) or in
        // METRICS_ONLY: never both, never half.
        assert!(b.metrics().number_of_buffered_calls() <= 1);
    });
}

/// Fast successes skipped on a clean breaker race a failure that makes it unclean: whatever
/// the interleaving, the window ends as some order of the three calls would leave it.
#[test]
fn skipped_successes_and_a_failure_do_not_lose_updates() {
    loom::model(|| {
        let b = Arc::new(
            Registry::new().circuit_breaker_with_config(
                "loom-clean",
                CircuitBreakerConfig::builder()
                    .clock(ManualClock::new())
                    // Off, so that the full window of fast successes is CLEAN (skipped), not
                    // batched.
                    .call_stats_enabled(false)
                    .sliding_window_size(2)
                    .failure_rate_threshold(100.0)
                    .build()
                    .unwrap(),
            ),
        );
        // Two fast successes fill the window: from now on it is clean.
        for _ in 0..2 {
            assert!(b.try_acquire_permission());
            b.on_success(Duration::from_millis(1));
        }
        let successes = {
            let b = b.clone();
            thread::spawn(move || {
                for _ in 0..2 {
                    assert!(b.try_acquire_permission());
                    b.on_success(Duration::from_millis(1));
                }
            })
        };
        let failure = {
            let b = b.clone();
            thread::spawn(move || {
                assert!(b.try_acquire_permission());
                b.on_error(Duration::from_millis(1));
            })
        };
        successes.join().unwrap();
        failure.join().unwrap();
        // Orders S S F, S F S, F S S leave [S F], [F S], [S S]: never two failures, never a
        // lost call.
        let m = b.metrics();
        assert_eq!(m.state(), State::Closed);
        assert_eq!(m.number_of_buffered_calls(), 2);
        assert!(m.number_of_failed_calls() <= 1);
        // One more failure trips only if the last call in the window was the failure.
        let last_was_failure = m.number_of_failed_calls() == 1;
        assert!(b.try_acquire_permission());
        b.on_error(Duration::from_millis(1));
        let m = b.metrics();
        if m.state() == State::Open {
            assert!(last_was_failure);
        } else {
            assert_eq!(m.number_of_failed_calls(), 1);
        }
    });
}

/// A breaker whose full count window of `size` holds one failure, so that fast successes are batched
/// (call stats on: no skipping).
fn batching(size: u32) -> Arc<CircuitBreaker> {
    let b = Registry::new().circuit_breaker_with_config(
        "loom-batch",
        CircuitBreakerConfig::builder()
            .call_stats_enabled(true)
            .clock(ManualClock::new())
            .sliding_window_size(size)
            .minimum_number_of_calls(size)
            .failure_rate_threshold(100.0)
            .build()
            .unwrap(),
    );
    record(&b, true);
    for _ in 1..size {
        record(&b, false);
    }
    Arc::new(b)
}

/// One permitted call of 1 ms, failed or not.
fn record(b: &CircuitBreaker, failed: bool) {
    assert!(b.try_acquire_permission());
    if failed {
        b.on_error(Duration::from_millis(1));
    } else {
        b.on_success(Duration::from_millis(1));
    }
}

/// One failed call on a thread of its own.
fn failure(b: &Arc<CircuitBreaker>) -> thread::JoinHandle<()> {
    let b = b.clone();
    thread::spawn(move || record(&b, true))
}

/// A one-second time window (failure threshold 100 %, minimum 1) on `clock`, holding one
/// success.
fn time_window(name: &str, clock: ManualClock) -> Arc<CircuitBreaker> {
    let b = Registry::new().circuit_breaker_with_config(
        name,
        CircuitBreakerConfig::builder()
            .call_stats_enabled(true)
            .clock(clock)
            .sliding_window_type(fusebox_runtime::SlidingWindowType::TimeBased)
            .sliding_window_size(1)
            .minimum_number_of_calls(1)
            .failure_rate_threshold(100.0)
            .build()
            .unwrap(),
    );
    record(&b, false);
    Arc::new(b)
}

/// `n` calls that succeed in 1 ms (those permitted), on a thread of their own.
fn successes(b: &Arc<CircuitBreaker>, n: usize) -> thread::JoinHandle<()> {
    let b = b.clone();
    thread::spawn(move || {
        for _ in 0..n {
            if b.try_acquire_permission() {
                b.on_success(Duration::from_millis(1));
            }
        }
    })
}

/// Batched successes (one `fetch_add` on a per-thread line) race a failure, whose lock holder
/// closes the lines, merges them and records: every interleaving must leave the window as some
/// order of the calls would, and count every call exactly once in the call stats.
#[test]
fn batched_successes_and_a_failure_count_once() {
    loom::model(|| {
        let b = batching(2);
        let s = successes(&b, 2);
        let f = failure(&b);
        s.join().unwrap();
        f.join().unwrap();
        // Window [F S] before; then S S F in some order: [S F], [F S] or [S S]; 100 % is never
        // reached (that needs [F F]).
        let m = b.metrics();
        assert_eq!(m.state(), State::Closed);
        assert_eq!(m.number_of_buffered_calls(), 2);
        assert!(m.number_of_failed_calls() <= 1);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 3);
        assert_eq!(stats.failed.count, 2);
        assert_eq!(stats.successful.total, Duration::from_millis(3));
    });
}

/// The race of the protocol: a caller reads that batching is allowed, then a lock holder closes
/// the lines, merges and leaves the state unbatchable (a subscriber arrives), then the caller
/// adds to its line. The stray increment must be taken back and the success recorded under
/// the lock, so the subscriber sees it as an event unless it was merged before the subscription.
#[test]
fn a_success_batched_while_a_subscriber_arrives_is_an_event_or_was_merged_before() {
    loom::model(|| {
        let b = batching(2);
        let s = successes(&b, 1);
        let sub = {
            let b = b.clone();
            thread::spawn(move || b.subscribe())
        };
        s.join().unwrap();
        let mut events = sub.join().unwrap();
        let seen = events
            .drain()
            .into_iter()
            .filter(|e| matches!(e.kind, fusebox_runtime::EventKind::Success { .. }))
            .count();
        let stats = b.call_stats().unwrap();
        // Counted exactly once, whichever side of the subscription it fell on.
        assert_eq!(stats.successful.count, 2);
        assert!(seen <= 1);
        // Once subscribed, nothing is batched any more: the next success is an event.
        assert!(b.try_acquire_permission());
        b.on_success(Duration::from_millis(1));
        let after = events
            .drain()
            .into_iter()
            .filter(|e| matches!(e.kind, fusebox_runtime::EventKind::Success { .. }))
            .count();
        assert_eq!(after, 1);
    });
}

/// Batched successes race a transition to a fresh window (METRICS_ONLY): each success lands in
/// exactly one window (merged into CLOSED's before the transition, or recorded in
/// METRICS_ONLY's), never in both, never lost from the call stats.
#[test]
fn batched_successes_and_a_transition_do_not_lose_or_double_count() {
    loom::model(|| {
        let b = batching(2);
        let s = successes(&b, 2);
        let t = {
            let b = b.clone();
            thread::spawn(move || b.transition_to_metrics_only_state().unwrap())
        };
        s.join().unwrap();
        t.join().unwrap();
        let m = b.metrics();
        assert_eq!(m.state(), State::MetricsOnly);
        assert!(m.number_of_buffered_calls() <= 2);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 3);
        assert_eq!(stats.transitions.get(State::Closed, State::MetricsOnly), 1);
    });
}

/// A time window: a success batched in the newest second races a failure one second later,
/// which moves the window on. Wherever the success falls (the old second, evicted, or the new
/// one), it is counted once and the failure is in the window.
#[test]
fn a_batched_success_and_a_new_second_in_a_time_window() {
    success_races_a_new_second(|b| successes(b, 1));
}

/// The guard's path: `Permit::on_success` passes the clock reading that measured the call down,
/// and a time window's batching check compares that reading (not a fresh one) with
/// `batch_until`. A guarded success ending in the newest second races a failure one second
/// later, which moves the window on: the success is counted once, in the old second (then
/// evicted) or the new one, and the failure is in the window.
#[test]
fn a_guarded_success_and_a_new_second_in_a_time_window() {
    success_races_a_new_second(|b| {
        let b = b.clone();
        thread::spawn(move || {
            if let Ok(permit) = b.try_acquire() {
                permit.on_success();
            }
        })
    });
}

/// The model of the two tests above: a one-second time window holding a success, one more
/// success recorded by `success` on its own thread, and a failure 1.5 s later on another.
fn success_races_a_new_second(success: fn(&Arc<CircuitBreaker>) -> thread::JoinHandle<()>) {
    loom::model(move || {
        let clock = ManualClock::new();
        let b = time_window("loom-time", clock.clone());
        let s = success(&b);
        let f = {
            let b = b.clone();
            thread::spawn(move || {
                clock.advance(Duration::from_millis(1500));
                record(&b, true);
            })
        };
        s.join().unwrap();
        f.join().unwrap();
        let m = b.metrics();
        assert_eq!(m.number_of_failed_calls(), 1);
        assert!(m.number_of_buffered_calls() == 1 || m.number_of_buffered_calls() == 2);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 2);
        assert_eq!(stats.failed.count, 1);
    });
}

/// The guard's path in a count window (`ended < batch_until`, `u64::MAX` for a count window,
/// one compare for the hint): a guarded success races a failure's lock holder; counted once.
#[test]
fn a_guarded_success_and_a_failure_count_once() {
    loom::model(|| {
        let b = batching(2);
        let s = {
            let b = b.clone();
            thread::spawn(move || {
                if let Ok(permit) = b.try_acquire() {
                    permit.on_success();
                }
            })
        };
        let f = failure(&b);
        s.join().unwrap();
        f.join().unwrap();
        // Window [F S] before; then S and F in some order: [S F] or [F S].
        let m = b.metrics();
        assert_eq!(m.state(), State::Closed);
        assert_eq!(m.number_of_buffered_calls(), 2);
        assert_eq!(m.number_of_failed_calls(), 1);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 2);
        assert_eq!(stats.failed.count, 2);
    });
}

/// A fast success that finds a lock holder inside (batching stopped, or its line closed under
/// it) waits for the holder to leave and batches then, or records under the lock when the
/// wait gives up: either way it is counted once, and the window is as if it came before or
/// after the holder. Two holders (a metrics read and a failure) race one success.
#[test]
fn a_success_waiting_for_a_holder_is_counted_once() {
    loom::model(|| {
        let b = batching(2);
        let s = successes(&b, 1);
        let h = {
            let b = b.clone();
            thread::spawn(move || {
                let seen = b.metrics().number_of_buffered_calls();
                assert!(b.try_acquire_permission());
                b.on_error(Duration::from_millis(1));
                seen
            })
        };
        s.join().unwrap();
        assert_eq!(h.join().unwrap(), 2);
        // Window [F S] before; then S and F in some order: [S F] or [F S] (a failure either
        // way), never [S S] or a lost call.
        let m = b.metrics();
        assert_eq!(m.state(), State::Closed);
        assert_eq!(m.number_of_buffered_calls(), 2);
        assert_eq!(m.number_of_failed_calls(), 1);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 2);
        assert_eq!(stats.failed.count, 2);
    });
}

/// A clean breaker with call stats on counts its skipped successes on per-thread lines: with
/// a plain load and store on a line the thread owns (the first two threads under loom), with
/// atomic adds for a thread that shares one (the third, whose line index is the first's). Three
/// such successes run at once, the main thread's followed by a failure, which makes the window
/// unclean: each success is counted exactly once, and the window ends as some order of the
/// calls would leave it. Three threads with many atomic steps each: explored up to three
/// preemptions (loom's advice; unbounded, it runs for many minutes).
#[test]
fn skipped_successes_counted_on_owned_and_shared_lines_and_a_failure() {
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(3);
    model.check(|| {
        let b = Arc::new(
            Registry::new().circuit_breaker_with_config(
                "loom-clean-stats",
                CircuitBreakerConfig::builder()
                    .clock(ManualClock::new())
                    .call_stats_enabled(true)
                    .sliding_window_size(2)
                    .failure_rate_threshold(100.0)
                    .build()
                    .unwrap(),
            ),
        );
        // Two fast successes fill the window (under the lock): from now on it is clean.
        for _ in 0..2 {
            assert!(b.try_acquire_permission());
            b.on_success(Duration::from_millis(1));
        }
        let first = successes(&b, 1);
        let second = successes(&b, 1);
        assert!(b.try_acquire_permission());
        b.on_success(Duration::from_millis(1));
        assert!(b.try_acquire_permission());
        b.on_error(Duration::from_millis(1));
        first.join().unwrap();
        second.join().unwrap();
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 5);
        assert_eq!(stats.successful.total, Duration::from_millis(5));
        assert_eq!(stats.successful.max, Duration::from_millis(1));
        assert_eq!(stats.failed.count, 1);
        // Window [S S] before; then S, S, S and F in some order (F after the main thread's
        // S): one failure at most, two calls.
        let m = b.metrics();
        assert_eq!(m.state(), State::Closed);
        assert_eq!(m.number_of_buffered_calls(), 2);
        assert!(m.number_of_failed_calls() <= 1);
    });
}

/// A failure that leaves batching as it was (CLOSED, count window full, below the threshold)
/// merges the lines by reading them and leaves them open: successes batched while it is
/// inside are merged by a later holder, ordered after it. Two batched successes on one thread,
/// then one more after a failure on another, then a read: every call counted once, the window
/// as some order of the calls leaves it.
#[test]
fn a_failure_that_keeps_batching_merges_without_closing_the_lines() {
    loom::model(|| {
        let b = batching(3);
        let s = successes(&b, 2);
        let f = {
            let b = b.clone();
            thread::spawn(move || {
                record(&b, true);
                // Batched on this thread's own line after its holder left.
                record(&b, false);
            })
        };
        s.join().unwrap();
        f.join().unwrap();
        // Window [F S S] before; then S S F S in an order where the last S follows F: the
        // three newest hold the new F at most once (the first F is evicted by four calls).
        let m = b.metrics();
        assert_eq!(m.state(), State::Closed);
        assert_eq!(m.number_of_buffered_calls(), 3);
        assert!(m.number_of_failed_calls() <= 1);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 5);
        assert_eq!(stats.failed.count, 2);
        assert_eq!(stats.successful.total, Duration::from_millis(5));
    });
}

/// A failure that trips the breaker closes the lines before recording (what a concurrent
/// success added is merged first, ordered before the failure); a success whose `fetch_add`
/// comes after finds its line closed and is recorded in OPEN. Window of 4 at 50 %: [S F S S];
/// the failure alone evicts S and trips ([F S S F]); the success first evicts S, then the
/// failure evicts F ([S S S F], 25 %: no trip). Either way nothing is lost.
#[test]
fn a_tripping_failure_closes_the_lines_racing_a_batched_success() {
    loom::model(|| {
        let b = Arc::new(
            Registry::new().circuit_breaker_with_config(
                "loom-trip",
                CircuitBreakerConfig::builder()
                    .call_stats_enabled(true)
                    .clock(ManualClock::new())
                    .sliding_window_size(4)
                    .minimum_number_of_calls(4)
                    .failure_rate_threshold(50.0)
                    .build()
                    .unwrap(),
            ),
        );
        for failed in [false, true, false, false] {
            record(&b, failed);
        }
        // Permitted in CLOSED before the race: its outcome must be recorded whatever follows.
        assert!(b.try_acquire_permission());
        let s = {
            let b = b.clone();
            thread::spawn(move || b.on_success(Duration::from_millis(1)))
        };
        let f = failure(&b);
        s.join().unwrap();
        f.join().unwrap();
        let m = b.metrics();
        assert_eq!(m.number_of_buffered_calls(), 4);
        match m.state() {
            // The success came first: [S S S F].
            State::Closed => assert_eq!(m.number_of_failed_calls(), 1),
            // The failure tripped on [F S S F]; the success then went into OPEN's window.
            State::Open => assert_eq!(m.number_of_failed_calls(), 1),
            other => panic!("unexpected state {other:?}"),
        }
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 4);
        assert_eq!(stats.failed.count, 2);
    });
}

/// A time window: a failure in the newest bucket's second that leaves the rates below keeps
/// the lines open; a success batched meanwhile is merged into that second by the final read.
#[test]
fn a_failure_in_the_same_second_keeps_a_time_window_batching() {
    loom::model(|| {
        let b = time_window("loom-time-keep", ManualClock::new());
        let s = successes(&b, 1);
        let f = failure(&b);
        s.join().unwrap();
        f.join().unwrap();
        let m = b.metrics();
        assert_eq!(m.state(), State::Closed);
        assert_eq!(m.number_of_buffered_calls(), 3);
        assert_eq!(m.number_of_failed_calls(), 1);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 2);
        assert_eq!(stats.failed.count, 1);
    });
}
