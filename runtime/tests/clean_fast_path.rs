//! The skipped record of a clean breaker (a fast success into a CLOSED count window full of fast
//! successes, nobody subscribed) and the batched one (a fast success counted on a per-thread
//! line and merged into the window later) must be unobservable. Each case drives two breakers
//! through the same random calls: one with a subscriber, which never skips or batches a record,
//! and one without, which does whenever it may. Every few steps their states, permits, metrics
//! and call stats must match. Count and time windows, small windows and long runs of successes
//! make skipping and batching frequent; call stats on and off choose between the two. A third
//! breaker has a subscriber to every event but SUCCESS, which keeps skipping and batching on:
//! it must match too, and its subscriber must see exactly the other events the full
//! subscriber sees.

use fusebox_runtime::{
    CircuitBreaker, CircuitBreakerConfig, EventKind, EventReceiver, ManualClock, Registry,
    SlidingWindowType, State,
};
use proptest::prelude::*;
use std::time::Duration;

#[derive(Clone, Debug)]
enum Step {
    /// `n` calls that succeed in `ms` milliseconds each.
    Successes {
        n: u8,
        ms: u16,
    },
    /// One call that fails after `ms` milliseconds.
    Failure {
        ms: u16,
    },
    /// `n` calls through the guard (`try_acquire`, then `Permit::on_success` or `on_error`),
    /// which record with the clock reading that ended them (no time passes during the call).
    Guarded {
        n: u8,
        ok: bool,
    },
    /// One call whose error is ignored.
    Ignored,
    /// Time passes.
    Advance {
        ms: u32,
    },
    /// A manual transition (illegal ones fail on both breakers alike).
    Transition(State),
    Reset,
    /// The plain breaker gains a subscriber for one call, then loses it.
    SubscribeForOneCall,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (1u8..12, prop_oneof![4 => 0u16..50, 1 => 50u16..300])
            .prop_map(|(n, ms)| Step::Successes { n, ms }),
        3 => (0u16..300).prop_map(|ms| Step::Failure { ms }),
        3 => (1u8..12, prop::bool::weighted(0.8)).prop_map(|(n, ok)| Step::Guarded { n, ok }),
        1 => Just(Step::Ignored),
        2 => (0u32..5_000).prop_map(|ms| Step::Advance { ms }),
        1 => prop::sample::select(State::ALL.to_vec()).prop_map(Step::Transition),
        1 => Just(Step::Reset),
        1 => Just(Step::SubscribeForOneCall),
    ]
}

struct Pair {
    clock: ManualClock,
    subscribed: CircuitBreaker,
    plain: CircuitBreaker,
    /// Subscribed to every event but SUCCESS.
    filtered: CircuitBreaker,
    events: EventReceiver,
    filtered_events: EventReceiver,
}

impl Pair {
    fn all(&self) -> [&CircuitBreaker; 3] {
        [&self.subscribed, &self.plain, &self.filtered]
    }

    /// The events since the last look: the full subscriber's other than SUCCESS, and the
    /// filtered subscriber's.
    fn events(&mut self) -> (Vec<EventKind>, Vec<EventKind>) {
        let full = self
            .events
            .drain()
            .into_iter()
            .map(|e| e.kind)
            .filter(|k| !matches!(k, EventKind::Success { .. }))
            .collect();
        let filtered = self
            .filtered_events
            .drain()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        (full, filtered)
    }
}

fn pair(size: u32, minimum: u32, slow_ms: u64, time: bool, stats: bool) -> Pair {
    let clock = ManualClock::new();
    let config = || {
        CircuitBreakerConfig::builder()
            .clock(clock.clone())
            .sliding_window_type(if time {
                SlidingWindowType::TimeBased
            } else {
                SlidingWindowType::CountBased
            })
            .call_stats_enabled(stats)
            .sliding_window_size(size)
            .minimum_number_of_calls(minimum)
            .failure_rate_threshold(50.0)
            .slow_call_rate_threshold(60.0)
            .slow_call_duration_threshold(Duration::from_millis(slow_ms))
            .permitted_number_of_calls_in_half_open_state(2)
            .wait_duration_in_open_state(Duration::from_secs(1))
            .build()
            .unwrap()
    };
    let registry = Registry::new();
    let subscribed = registry.circuit_breaker_with_config("subscribed", config());
    let plain = registry.circuit_breaker_with_config("plain", config());
    let filtered = registry.circuit_breaker_with_config("filtered", config());
    Pair {
        events: subscribed.subscribe_with_capacity(1 << 20),
        filtered_events: filtered.subscribe_except_successes(1 << 20),
        clock,
        subscribed,
        plain,
        filtered,
    }
}

fn call(b: &CircuitBreaker, ok: bool, ms: u16) -> bool {
    let permitted = b.try_acquire_permission();
    if permitted {
        let elapsed = Duration::from_millis(u64::from(ms));
        if ok {
            b.on_success(elapsed);
        } else {
            b.on_error(elapsed);
        }
    }
    permitted
}

fn both(p: &Pair, f: impl Fn(&CircuitBreaker) -> bool) {
    let a = f(&p.subscribed);
    let b = f(&p.plain);
    let c = f(&p.filtered);
    assert_eq!(
        a, b,
        "the subscribed and plain breakers answered differently"
    );
    assert_eq!(
        a, c,
        "the subscribed and filtered breakers answered differently"
    );
}

fn apply(p: &Pair, step: &Step) {
    match *step {
        Step::Successes { n, ms } => {
            for _ in 0..n {
                both(p, |b| call(b, true, ms));
            }
        }
        Step::Failure { ms } => both(p, |b| call(b, false, ms)),
        Step::Guarded { n, ok } => {
            for _ in 0..n {
                both(p, |b| match b.try_acquire() {
                    Ok(permit) if ok => {
                        permit.on_success();
                        true
                    }
                    Ok(permit) => {
                        permit.on_error();
                        true
                    }
                    Err(_) => false,
                });
            }
        }
        Step::Ignored => both(p, |b| {
            let permitted = b.try_acquire_permission();
            if permitted {
                b.on_ignored_error(Duration::from_millis(2));
            }
            permitted
        }),
        Step::Advance { ms } => p.clock.advance(Duration::from_millis(u64::from(ms))),
        Step::Transition(to) => both(p, |b| {
            match to {
                State::Closed => b.transition_to_closed_state(),
                State::Open => b.transition_to_open_state(),
                State::HalfOpen => b.transition_to_half_open_state(),
                State::Disabled => b.transition_to_disabled_state(),
                State::ForcedOpen => b.transition_to_forced_open_state(),
                State::MetricsOnly => b.transition_to_metrics_only_state(),
            }
            .is_ok()
        }),
        Step::Reset => {
            for b in p.all() {
                b.reset();
            }
        }
        Step::SubscribeForOneCall => {
            let mut events = p.plain.subscribe();
            let publishes = p.plain.state().allows_publish();
            let permitted = call(&p.plain, true, 1);
            assert_eq!(permitted, call(&p.subscribed, true, 1));
            assert_eq!(permitted, call(&p.filtered, true, 1));
            if publishes && permitted {
                // A subscriber sees every success: this one was not skipped.
                assert!(
                    events
                        .drain()
                        .iter()
                        .any(|e| matches!(e.kind, EventKind::Success { .. })),
                    "a subscribed breaker skipped a success"
                );
            }
        }
    }
}

proptest! {
    // A random seed: before the fix of the time-window cases below, about one run in three
    // found one of them.
    #![proptest_config(ProptestConfig {
        cases: 400,
        ..ProptestConfig::default()
    })]

    #[test]
    fn skipped_and_batched_records_are_unobservable(
        size in 1u32..6,
        minimum in 1u32..8,
        slow_ms in prop_oneof![Just(40u64), Just(100), Just(60_000)],
        time in any::<bool>(),
        stats in any::<bool>(),
        check_every in 1usize..4,
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut p = pair(size, minimum, slow_ms, time, stats);
        for (i, s) in steps.iter().enumerate() {
            apply(&p, s);
            if i % check_every != 0 && i + 1 != steps.len() {
                continue;
            }
            prop_assert_eq!(p.subscribed.state(), p.plain.state(), "state after step {} ({:?})", i, s);
            prop_assert_eq!(p.subscribed.metrics(), p.plain.metrics(), "metrics after step {} ({:?})", i, s);
            prop_assert_eq!(p.subscribed.call_stats(), p.plain.call_stats(), "call stats after step {} ({:?})", i, s);
            prop_assert_eq!(p.subscribed.state(), p.filtered.state(), "filtered state after step {} ({:?})", i, s);
            prop_assert_eq!(p.subscribed.metrics(), p.filtered.metrics(), "filtered metrics after step {} ({:?})", i, s);
            prop_assert_eq!(p.subscribed.call_stats(), p.filtered.call_stats(), "filtered call stats after step {} ({:?})", i, s);
            let (full, filtered) = p.events();
            prop_assert_eq!(full, filtered, "events other than SUCCESS after step {} ({:?})", i, s);
        }
    }
}

/// Two shrunk cases (issue 13) where a time-window breaker whose successes were batched ended
/// in a different state than its twin that never batches. In both, a metrics read after a jump
/// of several seconds moved the window on, dropping the early seconds' fast successes, so that
/// the slow successes left in it were above the slow-call threshold without any call recorded
/// to trip the breaker (a read does not evaluate, as in Resilience4j). The next fast success
/// then trips it, and it must not be batched: batching in a time window asks that the window
/// with one more success be below both thresholds, not only at its minimum.
#[test]
fn time_window_read_after_a_jump_does_not_batch_a_tripping_success() {
    let cases: [(u32, u32, u64, Vec<Step>); 2] = [
        (
            4,
            3,
            40,
            vec![
                Step::Successes { n: 5, ms: 0 },
                Step::Advance { ms: 1440 },
                Step::Successes { n: 3, ms: 50 },
                Step::Advance { ms: 2560 },
                Step::SubscribeForOneCall,
            ],
        ),
        (
            5,
            3,
            100,
            vec![
                Step::Successes { n: 3, ms: 0 },
                Step::Advance { ms: 1000 },
                Step::Successes { n: 3, ms: 101 },
                Step::Advance { ms: 4000 },
                Step::Successes { n: 1, ms: 0 },
            ],
        ),
    ];
    for (size, minimum, slow_ms, steps) in cases {
        let p = pair(size, minimum, slow_ms, true, false);
        for (i, s) in steps.iter().enumerate() {
            apply(&p, s);
            assert_eq!(
                p.subscribed.state(),
                p.plain.state(),
                "state after step {i} ({s:?})"
            );
            assert_eq!(
                p.subscribed.metrics(),
                p.plain.metrics(),
                "metrics after step {i}"
            );
            assert_eq!(
                p.subscribed.state(),
                p.filtered.state(),
                "filtered state after step {i}"
            );
            assert_eq!(
                p.subscribed.metrics(),
                p.filtered.metrics(),
                "filtered metrics after step {i}"
            );
        }
        assert_eq!(
            p.subscribed.state(),
            State::Open,
            "the last success trips the breaker that never batches"
        );
    }
}

/// Fast successes race with failures on a breaker that starts clean: every failure lands in the
/// window. The window of 1,000 starts full of successes and then takes 600 more calls, so it
/// must hold all 300 failures, whatever the interleaving (a skipped success evicts nothing).
#[test]
fn failures_are_not_lost_among_skipped_successes() {
    for _ in 0..10 {
        let b = Registry::new().circuit_breaker_with_config(
            "race",
            CircuitBreakerConfig::builder()
                .clock(ManualClock::new())
                .sliding_window_size(1_000)
                .failure_rate_threshold(50.0)
                .build()
                .unwrap(),
        );
        for _ in 0..1_000 {
            assert!(call(&b, true, 1));
        }
        let threads: Vec<_> = [true, false]
            .into_iter()
            .map(|ok| {
                let b = b.clone();
                std::thread::spawn(move || {
                    for _ in 0..300 {
                        assert!(call(&b, ok, 1));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let m = b.metrics();
        assert_eq!(m.state(), State::Closed);
        assert_eq!(m.number_of_buffered_calls(), 1_000);
        assert_eq!(m.number_of_failed_calls(), 300);
        assert_eq!(m.number_of_successful_calls(), 700);
    }
}
