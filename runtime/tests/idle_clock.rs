//! The default clock after an idle period: its ticker thread sleeps when nobody reads it, and the
//! first call after the sleep is still timed correctly (slow-call detection keeps working).
//!
//! One test in its own binary, so no other test reads the clock while this one idles.

use std::time::Duration;

use fusebox_runtime::{CircuitBreakerConfig, Registry};

/// Longer than the ticker's one-second lease, so that it is asleep when the call starts.
const IDLE: Duration = Duration::from_millis(1_500);

#[test]
fn the_first_call_after_an_idle_period_is_timed_correctly() {
    let breaker = Registry::new().circuit_breaker_with_config(
        "idle",
        CircuitBreakerConfig::builder()
            .slow_call_duration_threshold(Duration::from_millis(50))
            .build()
            .unwrap(),
    );
    // Wakes the ticker, as a service's first request would.
    breaker.try_acquire().unwrap().on_success();
    assert_eq!(breaker.metrics().number_of_slow_successful_calls(), 0);

    std::thread::sleep(IDLE);
    let slow = breaker.try_acquire().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        slow.elapsed() >= Duration::from_millis(60),
        "a 100 ms call measured as {:?}",
        slow.elapsed()
    );
    slow.on_success();
    assert_eq!(
        breaker.metrics().number_of_slow_successful_calls(),
        1,
        "a 100 ms call after idling is slow with a 50 ms threshold"
    );

    std::thread::sleep(IDLE);
    let fast = breaker.try_acquire().unwrap();
    std::thread::sleep(Duration::from_millis(5));
    fast.on_success();
    let metrics = breaker.metrics();
    assert_eq!(metrics.number_of_successful_calls(), 3);
    assert_eq!(
        metrics.number_of_slow_successful_calls(),
        1,
        "a 5 ms call after idling is not slow"
    );
}
