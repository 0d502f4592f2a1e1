//! Permits that cannot leak, the time limiter, classification, and a concurrency stress test.

use fusebox_runtime::{
    CircuitBreaker, CircuitBreakerConfig, Classifier, Failure, ManualClock, Outcome, Registry,
    State,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn half_open_breaker(name: &str, permits: u32) -> (ManualClock, CircuitBreaker) {
    let clock = ManualClock::new();
    let b = Registry::new().circuit_breaker_with_config(
        name,
        CircuitBreakerConfig::builder()
            .clock(clock.clone())
            .permitted_number_of_calls_in_half_open_state(permits)
            .build()
            .unwrap(),
    );
    b.transition_to_open_state().unwrap();
    clock.advance(Duration::from_secs(61));
    b.transition_to_half_open_state().unwrap();
    (clock, b)
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_call_releases_its_half_open_permit() {
    let (_clock, b) = half_open_breaker("cancel", 1);
    let call = b.call(async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok::<_, std::io::Error>(())
    });
    // Cancel it after it took the only permit.
    let cancelled = tokio::time::timeout(Duration::from_millis(5), call).await;
    assert!(cancelled.is_err());
    assert_eq!(b.state(), State::HalfOpen);
    assert!(b.try_acquire_permission(), "the permit came back");
}

#[test]
fn a_panicking_call_is_recorded_as_a_failure_and_the_panic_resumes() {
    let (_clock, b) = half_open_breaker("panic", 1);
    let b2 = b.clone();
    let caught = std::panic::catch_unwind(move || {
        let _permit = b2.try_acquire().unwrap();
        panic!("boom");
    });
    assert!(caught.is_err());
    // One failed probe of one: HALF_OPEN → OPEN.
    assert_eq!(b.state(), State::Open);
}

#[test]
fn a_dropped_permit_in_closed_records_nothing() {
    let b = Registry::new().circuit_breaker("drop");
    drop(b.try_acquire().unwrap());
    assert_eq!(b.metrics().number_of_buffered_calls(), 0);
}

#[test]
fn permit_measures_duration_on_the_breaker_clock() {
    let clock = ManualClock::new();
    let b = Registry::new().circuit_breaker_with_config(
        "slow",
        CircuitBreakerConfig::builder()
            .clock(clock.clone())
            .slow_call_duration_threshold(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    let permit = b.try_acquire().unwrap();
    clock.advance(Duration::from_millis(101));
    permit.on_success();
    assert_eq!(b.metrics().number_of_slow_successful_calls(), 1);
}

#[derive(Debug, PartialEq)]
enum ApiError {
    NotFound,
    Down,
}

#[tokio::test]
async fn classification_follows_resilience4j_rules() {
    static CLASSIFY: Classifier<u16, ApiError> = Classifier::new()
        .ignore(|e| *e == ApiError::NotFound)
        .result(|status| *status >= 500);
    let b = Registry::new().circuit_breaker("classify");
    let r = b
        .call_with(&CLASSIFY, async { Err(ApiError::NotFound) })
        .await;
    assert!(matches!(r, Err(Failure::Failed(ApiError::NotFound))));
    let r = b.call_with(&CLASSIFY, async { Ok(503) }).await;
    assert_eq!(r.unwrap(), 503, "recorded as a failure, still returned");
    let r = b.call_with(&CLASSIFY, async { Err(ApiError::Down) }).await;
    assert!(matches!(r, Err(Failure::Failed(ApiError::Down))));
    let m = b.metrics();
    assert_eq!(
        m.number_of_buffered_calls(),
        2,
        "the ignored error is not counted"
    );
    assert_eq!(m.number_of_failed_calls(), 2);

    static RECORD_ONLY_DOWN: Classifier<u16, ApiError> =
        Classifier::new().record(|e| *e == ApiError::Down);
    assert_eq!(
        RECORD_ONLY_DOWN.classify(&Err(ApiError::NotFound)),
        Outcome::Success
    );
}

#[tokio::test(start_paused = true)]
async fn the_time_limit_drops_the_call_and_records_a_failure() {
    let b = Registry::new().circuit_breaker_with_config(
        "timeout",
        CircuitBreakerConfig::builder()
            .timeout(Duration::from_secs(4))
            .build()
            .unwrap(),
    );
    let dropped = Arc::new(AtomicU64::new(0));
    struct Flag(Arc<AtomicU64>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let flag = Flag(dropped.clone());
    let mut observed = None;
    let r = b
        .call_observed(
            &Classifier::new(),
            async move {
                let _flag = flag;
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<(), std::io::Error>(())
            },
            |state, outcome| observed = Some((state, outcome)),
        )
        .await;
    match r {
        Err(Failure::Timeout(t)) => {
            assert_eq!(t.after(), Duration::from_secs(4));
            assert_eq!(t.breaker_name(), "timeout");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the call's future was dropped"
    );
    assert_eq!(observed, Some((State::Closed, Outcome::Timeout)));
    assert_eq!(b.metrics().number_of_failed_calls(), 1);
}

#[tokio::test]
async fn a_rejected_call_never_runs() {
    let b = Registry::new().circuit_breaker("rejected");
    b.transition_to_forced_open_state().unwrap();
    let ran = AtomicU64::new(0);
    let r = b
        .call(async {
            ran.fetch_add(1, Ordering::SeqCst);
            Ok::<(), std::io::Error>(())
        })
        .await;
    assert!(matches!(r, Err(Failure::NotPermitted(ref n)) if n.state() == State::ForcedOpen));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

/// Several threads, many calls: every outcome is counted exactly once and no HALF_OPEN permit
/// is lost.
#[test]
fn stress_counts_add_up_and_permits_never_leak() {
    const THREADS: u64 = 4;
    const CALLS: u64 = 50_000;
    let b = Registry::new().circuit_breaker_with_config(
        "stress",
        CircuitBreakerConfig::builder()
            .sliding_window_size(1_000_000)
            .minimum_number_of_calls(1_000_000)
            .build()
            .unwrap(),
    );
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let b = &b;
            s.spawn(move || {
                for i in 0..CALLS {
                    let permit = b.try_acquire().unwrap();
                    if (i + t) % 3 == 0 {
                        permit.on_error();
                    } else {
                        permit.on_success();
                    }
                }
            });
        }
    });
    let m = b.metrics();
    assert_eq!(u64::from(m.number_of_buffered_calls()), THREADS * CALLS);
    let expected_failed: u64 = (0..THREADS)
        .map(|t| (0..CALLS).filter(|i| (i + t) % 3 == 0).count() as u64)
        .sum();
    assert_eq!(u64::from(m.number_of_failed_calls()), expected_failed);

    // HALF_OPEN: threads race for 8 permits, release or record; afterwards all 8 come back.
    let (_clock, h) = half_open_breaker("stress-half-open", 8);
    let granted = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            let (h, granted) = (&h, &granted);
            s.spawn(move || {
                for _ in 0..20_000 {
                    if let Ok(permit) = h.try_acquire() {
                        granted.fetch_add(1, Ordering::Relaxed);
                        permit.release();
                    }
                }
            });
        }
    });
    assert!(granted.load(Ordering::Relaxed) > 0);
    assert_eq!(h.state(), State::HalfOpen);
    let mut held = Vec::new();
    while let Ok(p) = h.try_acquire() {
        held.push(p);
    }
    assert_eq!(held.len(), 8, "no permit lost, none created");
}

/// A subscriber that never reads, and one whose thread panics, do not affect calls.
#[test]
fn blocked_or_panicking_subscribers_do_not_affect_calls() {
    let b = Registry::new().circuit_breaker_with_config(
        "subscribers",
        CircuitBreakerConfig::builder()
            .sliding_window_size(1_000)
            .build()
            .unwrap(),
    );
    b.transition_to_metrics_only_state().unwrap(); // records everything, never trips
    let _never_reads = b.subscribe_with_capacity(4);
    let mut panicking = b.subscribe();
    let reader = std::thread::spawn(move || {
        let _first = panicking.blocking_recv();
        panic!("a subscriber that panics");
    });
    for _ in 0..10_000 {
        b.try_acquire().unwrap().on_success();
    }
    assert!(reader.join().is_err(), "the subscriber thread panicked");
    for _ in 0..10_000 {
        b.try_acquire().unwrap().on_error();
    }
    let m = b.metrics();
    assert_eq!(m.number_of_buffered_calls(), 1_000);
    assert_eq!(m.number_of_failed_calls(), 1_000);
    assert!(
        b.dropped_events() >= 20_000 - 4,
        "the full queue dropped and counted"
    );
}

/// A failure storm on two threads: half the calls fail, so the breaker trips, waits, half-opens
/// and trips again, over and over, while fast successes are batched whenever the window allows.
/// No outcome is lost (every permitted call is in the call stats, every rejection in the
/// not-permitted count), the transitions chain up, and HALF_OPEN is never stuck: once calls
/// succeed again the breaker closes.
#[test]
fn a_failure_storm_loses_no_outcome_and_never_sticks_in_half_open() {
    let clock = ManualClock::new();
    let b = Registry::new().circuit_breaker_with_config(
        "storm",
        CircuitBreakerConfig::builder()
            .call_stats_enabled(true)
            .clock(clock.clone())
            .sliding_window_size(10)
            .minimum_number_of_calls(10)
            .permitted_number_of_calls_in_half_open_state(4)
            .wait_duration_in_open_state(Duration::from_millis(1))
            .build()
            .unwrap(),
    );
    const CALLS: u64 = 40_000;
    let threads: Vec<_> = (0..2u64)
        .map(|t| {
            let (b, clock) = (b.clone(), clock.clone());
            std::thread::spawn(move || {
                let (mut permitted, mut rejected) = (0u64, 0u64);
                for i in 0..CALLS {
                    if i % 64 == 0 {
                        clock.advance(Duration::from_micros(700));
                    }
                    if b.try_acquire_permission() {
                        permitted += 1;
                        if (i + t) % 2 == 0 {
                            b.on_error(Duration::from_micros(5));
                        } else {
                            b.on_success(Duration::from_micros(5));
                        }
                    } else {
                        rejected += 1;
                    }
                }
                (permitted, rejected)
            })
        })
        .collect();
    let (mut permitted, mut rejected) = (0, 0);
    for t in threads {
        let (p, r) = t.join().unwrap();
        permitted += p;
        rejected += r;
    }
    let stats = b.call_stats().unwrap();
    assert_eq!(stats.successful.count + stats.failed.count, permitted);
    assert_eq!(stats.not_permitted, rejected);
    assert!(
        rejected > 0 && stats.failed.count > 0,
        "the breaker tripped"
    );
    let t = |from, to| stats.transitions.get(from, to);
    let opened = t(State::Closed, State::Open) + t(State::HalfOpen, State::Open);
    assert!(
        opened > 10,
        "the storm tripped the breaker again and again: {opened}"
    );
    let half_opened = t(State::Open, State::HalfOpen);
    let left_half_open = t(State::HalfOpen, State::Open) + t(State::HalfOpen, State::Closed);
    assert!(half_opened - left_half_open <= 1);
    assert!(opened - half_opened <= 1);
    // Calls succeed again: within a wait and a round of probes (at most one more trip, if the
    // storm left HALF_OPEN with failures in it), the breaker is CLOSED.
    for _ in 0..12 {
        if b.state() == State::Closed {
            break;
        }
        clock.advance(Duration::from_millis(2));
        if b.try_acquire_permission() {
            b.on_success(Duration::from_micros(5));
        }
    }
    assert_eq!(b.state(), State::Closed);
}

/// Two threads record 1 % failures into a CLOSED window below its threshold (the failures'
/// lock holders merge the other thread's batched successes by reading its line and leave the
/// lines open), while a third reads the metrics (a holder that closes and reopens them), and
/// for the time window the clock moves on (a failure in a new second closes them too). Every
/// outcome is counted exactly once, and the window ends full and below the threshold.
#[test]
fn one_percent_failing_on_two_threads_counts_every_outcome_once() {
    for time_based in [false, true] {
        let clock = ManualClock::new();
        let mut config = CircuitBreakerConfig::builder()
            .call_stats_enabled(true)
            .clock(clock.clone())
            .failure_rate_threshold(50.0);
        config = if time_based {
            config
                .sliding_window_type(fusebox_runtime::SlidingWindowType::TimeBased)
                .sliding_window_size(10)
                .minimum_number_of_calls(100)
        } else {
            config.sliding_window_size(100).minimum_number_of_calls(100)
        };
        let b = Registry::new().circuit_breaker_with_config("one-percent", config.build().unwrap());
        const CALLS: u64 = 60_000;
        let done = std::sync::atomic::AtomicBool::new(false);
        let (failed, reads) = std::thread::scope(|s| {
            let workers: Vec<_> = (0..2u64)
                .map(|t| {
                    let (b, clock) = (&b, &clock);
                    s.spawn(move || {
                        let mut failed = 0u64;
                        for i in 0..CALLS {
                            if time_based && t == 0 && i % 5_000 == 0 {
                                clock.advance(Duration::from_millis(300));
                            }
                            let permit = b.try_acquire().expect("CLOSED below the threshold");
                            if (i + 37 * t) % 100 == 0 {
                                failed += 1;
                                permit.on_error();
                            } else {
                                permit.on_success();
                            }
                        }
                        failed
                    })
                })
                .collect();
            let reader = s.spawn(|| {
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let m = b.metrics();
                    assert_eq!(m.state(), State::Closed);
                    reads += 1;
                    std::thread::yield_now();
                }
                reads
            });
            let failed: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
            done.store(true, Ordering::Relaxed);
            (failed, reader.join().unwrap())
        });
        assert!(reads > 0);
        assert_eq!(b.state(), State::Closed);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.failed.count, failed, "time based: {time_based}");
        assert_eq!(
            stats.successful.count,
            2 * CALLS - failed,
            "time based: {time_based}"
        );
        let m = b.metrics();
        if !time_based {
            assert_eq!(m.number_of_buffered_calls(), 100);
        }
        assert!(m.failure_rate().is_none_or(|rate| rate < 50.0));
    }
}
