//! The call stats of a clean breaker (CLOSED, count window full of fast successes, nobody
//! subscribed): its fast successes change nothing in the window and are only counted for the
//! calls timer, on a line the calling thread owns (a plain load and store) or, for threads that
//! share their line, with atomic adds. Every success must be counted exactly once, whatever the
//! number of threads, however often threads come and go (a thread's line passes to a later
//! thread when it exits), and turning call stats off and on again starts them afresh.

use fusebox_runtime::{CircuitBreaker, CircuitBreakerConfig, ManualClock, Registry};
use std::sync::{Arc, Barrier};
use std::time::Duration;

const WINDOW: u32 = 4;

fn clean_breaker(stats: bool) -> CircuitBreaker {
    let config = CircuitBreakerConfig::builder()
        .clock(ManualClock::new())
        .call_stats_enabled(stats)
        .sliding_window_size(WINDOW)
        .minimum_number_of_calls(WINDOW)
        .build()
        .unwrap();
    let b = Registry::new().circuit_breaker_with_config("clean-stats", config);
    // Fill the window with fast successes: from now on the breaker is clean.
    for _ in 0..WINDOW {
        assert!(b.try_acquire_permission());
        b.on_success(Duration::from_micros(1));
    }
    b
}

fn stats_enabled(b: &CircuitBreaker, on: bool) -> CircuitBreakerConfig {
    b.config()
        .to_builder()
        .call_stats_enabled(on)
        .build()
        .unwrap()
}

/// Thread `t`'s success duration: distinct per thread, so that the max and the sum tell which
/// thread's successes were lost or doubled.
fn micros(t: u64) -> u64 {
    t * 7 + 1
}

#[test]
fn skipped_successes_of_many_threads_are_counted_exactly() {
    let b = clean_breaker(true);
    // More threads at once than any machine has shards (at most 16), in rounds, so that lines
    // are owned, shared, and handed from exiting threads to new ones.
    const THREADS: u64 = 20;
    const ROUNDS: u64 = 3;
    const CALLS: u64 = 50_000;
    let mut expected_total = Duration::from_micros(WINDOW.into());
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(THREADS as usize));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let b = b.clone();
                let barrier = barrier.clone();
                let t = round * THREADS + t;
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..CALLS {
                        assert!(b.try_acquire_permission());
                        b.on_success(Duration::from_micros(micros(t)));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        for t in round * THREADS..(round + 1) * THREADS {
            expected_total += Duration::from_micros(micros(t) * CALLS);
        }
        let stats = b.call_stats().unwrap();
        assert_eq!(
            stats.successful.count,
            u64::from(WINDOW) + (round + 1) * THREADS * CALLS,
            "round {round}"
        );
        assert_eq!(stats.successful.total, expected_total, "round {round}");
        assert_eq!(
            stats.successful.max,
            Duration::from_micros(micros((round + 1) * THREADS - 1)),
            "round {round}"
        );
        assert_eq!(stats.failed.count, 0);
    }
    // The window never saw them: still full of the same fast successes.
    let m = b.metrics();
    assert_eq!(m.number_of_buffered_calls(), WINDOW);
    assert_eq!(m.number_of_successful_calls(), WINDOW);
}

#[test]
fn skipped_successes_are_counted_in_the_calls_timer_and_nowhere_else() {
    let b = clean_breaker(true);
    for _ in 0..10 {
        assert!(b.try_acquire_permission());
        b.on_success(Duration::from_millis(2));
    }
    let stats = b.call_stats().unwrap();
    assert_eq!(stats.successful.count, u64::from(WINDOW) + 10);
    assert_eq!(
        stats.successful.total,
        Duration::from_micros(u64::from(WINDOW)) + Duration::from_millis(20)
    );
    assert_eq!(stats.successful.max, Duration::from_millis(2));
    // A failure makes the window unclean; the successes counted before stay counted once.
    assert!(b.try_acquire_permission());
    b.on_error(Duration::from_millis(3));
    let stats = b.call_stats().unwrap();
    assert_eq!(stats.successful.count, u64::from(WINDOW) + 10);
    assert_eq!(stats.failed.count, 1);
    let m = b.metrics();
    assert_eq!(m.number_of_buffered_calls(), WINDOW);
    assert_eq!(m.number_of_failed_calls(), 1);
}

#[test]
fn call_stats_turned_off_and_on_start_afresh() {
    let b = clean_breaker(true);
    for _ in 0..5 {
        assert!(b.try_acquire_permission());
        b.on_success(Duration::from_millis(1));
    }
    assert_eq!(
        b.call_stats().unwrap().successful.count,
        u64::from(WINDOW) + 5
    );

    b.reconfigure(stats_enabled(&b, false));
    assert_eq!(b.call_stats(), None);
    b.reconfigure(stats_enabled(&b, true));
    let stats = b.call_stats().unwrap();
    assert_eq!(stats.successful.count, 0);
    assert_eq!(stats.successful.total, Duration::ZERO);
    assert_eq!(stats.successful.max, Duration::ZERO);

    // The fresh window fills (counted under the lock), then skipped successes count again,
    // on the same lines as before.
    for _ in 0..WINDOW + 3 {
        assert!(b.try_acquire_permission());
        b.on_success(Duration::from_millis(4));
    }
    let stats = b.call_stats().unwrap();
    assert_eq!(stats.successful.count, u64::from(WINDOW) + 3);
    assert_eq!(
        stats.successful.total,
        Duration::from_millis(4 * u64::from(WINDOW + 3))
    );
    assert_eq!(stats.successful.max, Duration::from_millis(4));
}

#[test]
fn a_clean_breaker_without_call_stats_counts_nothing() {
    let b = clean_breaker(false);
    for _ in 0..10 {
        assert!(b.try_acquire_permission());
        b.on_success(Duration::from_millis(2));
    }
    assert_eq!(b.call_stats(), None);
    b.reconfigure(stats_enabled(&b, true));
    assert_eq!(b.call_stats().unwrap().successful.count, 0);
}
