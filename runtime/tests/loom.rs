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
