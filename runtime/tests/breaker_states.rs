//! The state machine on a manual clock: every state, transition and threshold edge of
//! Resilience4j 2.4 (see `shared/reference/resilience4j.md`, section 2).

use fusebox_runtime::{
    CircuitBreaker, CircuitBreakerConfig, CircuitBreakerConfigBuilder, Clock, EventKind,
    ManualClock, Registry, SlidingWindowType, State, WaitInterval,
};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

fn breaker(
    clock: &ManualClock,
    f: impl FnOnce(CircuitBreakerConfigBuilder) -> CircuitBreakerConfigBuilder,
) -> CircuitBreaker {
    let config = f(CircuitBreakerConfig::builder().clock(clock.clone()))
        .build()
        .unwrap();
    Registry::new().circuit_breaker_with_config("test", config)
}

fn call(b: &CircuitBreaker, ok: bool) {
    assert!(
        b.try_acquire_permission(),
        "expected a permit in {}",
        b.state()
    );
    if ok {
        b.on_success(MS);
    } else {
        b.on_error(MS);
    }
}

#[test]
fn trips_when_failure_rate_reaches_threshold_exactly() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_size(4).failure_rate_threshold(50.0)
    });
    call(&b, true);
    call(&b, true);
    call(&b, false);
    assert_eq!(b.state(), State::Closed); // 3 of 4: below the minimum
    call(&b, false); // 2/4 = 50 % >= 50 %
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().failure_rate(), Some(50.0));
}

#[test]
fn stays_closed_just_below_threshold() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_size(3).failure_rate_threshold(67.0)
    });
    call(&b, false);
    call(&b, false);
    call(&b, true); // 66.666664 % < 67 %
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().failure_rate(), Some(200.0_f32 / 3.0));
}

#[test]
fn slow_means_strictly_longer_than_threshold() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_size(2)
            .slow_call_duration_threshold(Duration::from_millis(100))
            .slow_call_rate_threshold(100.0)
    });
    assert!(b.try_acquire_permission());
    b.on_success(Duration::from_millis(100));
    assert!(b.try_acquire_permission());
    b.on_success(Duration::from_millis(101));
    let m = b.metrics();
    assert_eq!(m.number_of_slow_calls(), 1);
    assert_eq!(m.number_of_slow_successful_calls(), 1);
    assert_eq!(b.state(), State::Closed);
    assert!(b.try_acquire_permission());
    b.on_error(Duration::from_millis(150));
    // window now: slow success, slow failure → 100 % slow
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().number_of_slow_failed_calls(), 1);
}

#[test]
fn minimum_number_of_calls_gates_decisions_before_the_window_is_full() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_size(10).minimum_number_of_calls(3)
    });
    call(&b, false);
    call(&b, false);
    assert_eq!(b.metrics().failure_rate(), None);
    assert_eq!(b.state(), State::Closed);
    call(&b, false);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn time_window_minimum_is_not_clamped_so_it_may_never_trip() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_type(SlidingWindowType::TimeBased)
            .sliding_window_size(2)
            .minimum_number_of_calls(5)
    });
    for _ in 0..4 {
        call(&b, false);
        clock.advance(Duration::from_millis(700));
    }
    // Never 5 calls within two seconds.
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn time_window_trips_on_calls_within_the_window() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_type(SlidingWindowType::TimeBased)
            .sliding_window_size(2)
            .minimum_number_of_calls(2)
    });
    call(&b, false);
    clock.advance(Duration::from_secs(2));
    call(&b, false); // the first has left the window
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().number_of_buffered_calls(), 1);
    call(&b, false);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn open_rejects_until_strictly_after_the_wait_then_first_caller_probes() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_size(1)
            .wait_duration_in_open_state(Duration::from_secs(1))
            .permitted_number_of_calls_in_half_open_state(2)
    });
    call(&b, false);
    assert_eq!(b.state(), State::Open);
    assert!(!b.try_acquire_permission());
    clock.advance(Duration::from_secs(1));
    assert!(
        !b.try_acquire_permission(),
        "exactly at the end of the wait: still open"
    );
    assert_eq!(b.metrics().number_of_not_permitted_calls(), 2);
    assert_eq!(
        b.metrics().number_of_failed_calls(),
        1,
        "OPEN keeps the tripping window"
    );
    clock.advance(Duration::from_nanos(1));
    assert_eq!(
        b.state(),
        State::Open,
        "lazy: the state moves only on the next request"
    );
    assert!(b.try_acquire_permission());
    assert_eq!(b.state(), State::HalfOpen);
    assert!(b.try_acquire_permission());
    assert!(!b.try_acquire_permission(), "two permits, both taken");
    assert_eq!(b.metrics().number_of_not_permitted_calls(), 1);
}

#[test]
fn late_results_are_recorded_in_open_without_transition() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c.sliding_window_size(2));
    assert!(b.try_acquire_permission()); // a call in flight
    call(&b, false);
    call(&b, false);
    assert_eq!(b.state(), State::Open);
    b.on_success(MS); // the in-flight call finishes
    assert_eq!(b.state(), State::Open);
    let m = b.metrics();
    assert_eq!(m.number_of_buffered_calls(), 2);
    assert_eq!(m.number_of_successful_calls(), 1);
}

fn to_half_open(clock: &ManualClock, b: &CircuitBreaker) {
    b.transition_to_open_state().unwrap();
    clock.advance(Duration::from_secs(61));
    assert!(b.try_acquire_permission());
    b.release_permission();
    assert_eq!(b.state(), State::HalfOpen);
}

#[test]
fn half_open_decides_after_min_of_minimum_and_permitted() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.permitted_number_of_calls_in_half_open_state(4)
            .minimum_number_of_calls(2)
            .sliding_window_size(10)
    });
    to_half_open(&clock, &b);
    call(&b, true);
    assert_eq!(b.state(), State::HalfOpen);
    call(&b, true); // two results: min(2, 4) reached, 0 % → CLOSED
    assert_eq!(b.state(), State::Closed);

    to_half_open(&clock, &b);
    call(&b, true);
    call(&b, false); // 50 % >= 50 % → OPEN
    assert_eq!(b.state(), State::Open);
}

#[test]
fn half_open_permits_come_back_on_release() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.permitted_number_of_calls_in_half_open_state(1)
    });
    to_half_open(&clock, &b);
    assert!(b.try_acquire_permission());
    assert!(!b.try_acquire_permission());
    b.release_permission();
    assert!(b.try_acquire_permission());
}

#[test]
fn reopening_from_half_open_uses_the_next_backoff_step() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_size(1)
            .permitted_number_of_calls_in_half_open_state(1)
            .wait_interval_in_open_state(WaitInterval::ExponentialBackoff {
                initial: Duration::from_secs(1),
                multiplier: 2.0,
                max: None,
            })
    });
    call(&b, false); // attempt 1: 1 s
    clock.advance(Duration::from_millis(1001));
    call(&b, false); // HALF_OPEN probe fails: attempt 2: 2 s
    assert_eq!(b.state(), State::Open);
    clock.advance(Duration::from_millis(1500));
    assert!(!b.try_acquire_permission());
    clock.advance(Duration::from_millis(501));
    assert!(b.try_acquire_permission());
    b.on_success(MS);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn illegal_transitions_leave_the_state_alone() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c);
    let err = b.transition_to_half_open_state().unwrap_err();
    assert_eq!((err.from(), err.to()), (State::Closed, State::HalfOpen));
    assert_eq!(b.state(), State::Closed);
    b.transition_to_metrics_only_state().unwrap();
    assert!(b.transition_to_open_state().is_err());
    assert!(b.transition_to_half_open_state().is_err());
    assert_eq!(b.state(), State::MetricsOnly);
    for (to, f) in [
        (
            State::ForcedOpen,
            CircuitBreaker::transition_to_forced_open_state as fn(&CircuitBreaker) -> _,
        ),
        (
            State::Disabled,
            CircuitBreaker::transition_to_disabled_state,
        ),
        (State::Open, CircuitBreaker::transition_to_open_state),
        (
            State::HalfOpen,
            CircuitBreaker::transition_to_half_open_state,
        ),
        (State::Closed, CircuitBreaker::transition_to_closed_state),
    ] {
        f(&b).unwrap();
        assert_eq!(b.state(), to);
    }
}

#[test]
fn self_transitions_rebuild_the_state_silently() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c.sliding_window_size(5));
    let mut events = b.subscribe();
    call(&b, false);
    assert_eq!(b.metrics().number_of_buffered_calls(), 1);
    b.transition_to_closed_state().unwrap();
    assert_eq!(b.metrics().number_of_buffered_calls(), 0);
    let kinds: Vec<_> = events.drain().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EventKind::Error { elapsed: MS }]);
}

#[test]
fn disabled_permits_everything_and_records_nothing() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c.sliding_window_size(1));
    b.transition_to_disabled_state().unwrap();
    let mut events = b.subscribe();
    for _ in 0..5 {
        call(&b, false);
    }
    assert_eq!(b.state(), State::Disabled);
    assert_eq!(b.metrics().number_of_buffered_calls(), 0);
    assert_eq!(b.metrics().failure_rate(), None);
    assert!(
        events.drain().is_empty(),
        "DISABLED publishes no call events"
    );
}

#[test]
fn forced_open_rejects_counts_and_publishes_nothing() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c);
    b.transition_to_forced_open_state().unwrap();
    let mut events = b.subscribe();
    clock.advance(Duration::from_secs(3600));
    assert!(!b.try_acquire_permission());
    let err = b.acquire_permission().unwrap_err();
    assert_eq!(
        err.to_string(),
        "CircuitBreaker 'test' is FORCED_OPEN and does not permit further calls"
    );
    assert_eq!(b.metrics().number_of_not_permitted_calls(), 2);
    assert!(events.drain().is_empty());
}

#[test]
fn metrics_only_never_trips_and_publishes_rate_events_once() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c.sliding_window_size(2));
    b.transition_to_metrics_only_state().unwrap();
    let mut events = b.subscribe();
    for _ in 0..6 {
        call(&b, false);
    }
    assert_eq!(b.state(), State::MetricsOnly);
    let rate_events = events
        .drain()
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::FailureRateExceeded { .. }))
        .count();
    assert_eq!(rate_events, 1);
}

#[test]
fn trip_publishes_error_then_rate_then_transition() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_size(1)
            .slow_call_duration_threshold(Duration::from_millis(1))
    });
    let mut events = b.subscribe();
    assert!(b.try_acquire_permission());
    b.on_error(Duration::from_millis(5));
    assert!(!b.try_acquire_permission());
    let kinds: Vec<_> = events.drain().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::Error {
                elapsed: Duration::from_millis(5)
            },
            EventKind::FailureRateExceeded { rate: 100.0 },
            EventKind::SlowCallRateExceeded { rate: 100.0 },
            EventKind::StateTransition {
                from: State::Closed,
                to: State::Open
            },
            EventKind::NotPermitted,
        ]
    );
}

#[test]
fn reset_publishes_transition_and_reset() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c.sliding_window_size(1));
    call(&b, false);
    let mut events = b.subscribe();
    b.reset();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().number_of_buffered_calls(), 0);
    let kinds: Vec<_> = events.drain().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::StateTransition {
                from: State::Open,
                to: State::Closed
            },
            EventKind::Reset
        ]
    );
}

#[test]
fn automatic_transition_applies_when_the_wait_has_passed() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.sliding_window_size(1)
            .wait_duration_in_open_state(Duration::from_secs(1))
            .automatic_transition_from_open_to_half_open_enabled(true)
    });
    call(&b, false);
    clock.advance(Duration::from_millis(999));
    assert_eq!(b.state(), State::Open);
    clock.advance(Duration::from_millis(1));
    assert_eq!(b.state(), State::HalfOpen, "no call needed");
}

#[test]
fn half_open_max_wait_moves_to_the_configured_state() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.max_wait_duration_in_half_open_state(Duration::from_secs(5))
            .transition_to_state_after_wait_duration(State::Closed)
    });
    to_half_open(&clock, &b);
    assert!(b.try_acquire_permission()); // a probe that never reports back
    clock.advance(Duration::from_secs(5));
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(flavor = "current_thread")]
async fn automatic_transition_timer_fires_on_tokio() {
    let b = Registry::new().circuit_breaker_with_config(
        "timer",
        CircuitBreakerConfig::builder()
            .sliding_window_size(1)
            .wait_duration_in_open_state(Duration::from_millis(20))
            .automatic_transition_from_open_to_half_open_enabled(true)
            .build()
            .unwrap(),
    );
    let mut events = b.subscribe();
    call(&b, false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("timer fired")
            .unwrap();
        if event.kind
            == (EventKind::StateTransition {
                from: State::Open,
                to: State::HalfOpen,
            })
        {
            break;
        }
    }
}

#[test]
fn open_state_for_and_until_keep_attempts() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c);
    b.transition_to_open_state_for(Duration::from_millis(10))
        .unwrap();
    clock.advance(Duration::from_millis(11));
    assert!(b.try_acquire_permission());
    assert_eq!(b.state(), State::HalfOpen);
    b.transition_to_open_state_until(clock.now_nanos() + 5_000_000)
        .unwrap();
    clock.advance(Duration::from_millis(5));
    assert!(!b.try_acquire_permission());
    clock.advance(Duration::from_nanos(1));
    assert!(b.try_acquire_permission());
}

#[test]
fn initial_state_open_starts_its_wait_at_creation() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| {
        c.initial_state(State::Open)
            .wait_duration_in_open_state(Duration::from_secs(1))
    });
    assert_eq!(b.state(), State::Open);
    assert!(!b.try_acquire_permission());
    clock.advance(Duration::from_millis(1001));
    assert!(b.try_acquire_permission());
}

#[test]
fn a_full_subscriber_drops_and_counts_instead_of_blocking() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c);
    let events = b.subscribe_with_capacity(2);
    for _ in 0..10 {
        call(&b, true);
    }
    assert_eq!(events.dropped(), 8);
    assert_eq!(b.dropped_events(), 8);
    drop(events);
    call(&b, true); // a gone subscriber is pruned, not an error
}

#[test]
fn a_subscriber_capacity_of_zero_counts_as_one() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |c| c);
    let mut events = b.subscribe_with_capacity(0);
    for _ in 0..3 {
        call(&b, true);
    }
    assert_eq!(events.dropped(), 2);
    assert_eq!(events.drain().len(), 1);
}
