//! `#[retry]` at run time, alone and composed with `#[circuit_breaker]` (issue 14, item 5):
//! attempts, waits, fallbacks at their own layer, the aspect order and `order = ...`,
//! `&mut` arguments, the exhausted result, cancellation and panics.
//!
//! Each test registers its own retry (and breaker) under a unique name before the first call,
//! because the generated call site resolves its handles from the registry once. Retries wait on
//! a `ManualClock` (its waits advance the clock and complete at once).

use fusebox::retry::{Retry, RetryConfig, RetryConfigBuilder};
use fusebox::{
    BreakerError, CallNotPermitted, CircuitBreaker, CircuitBreakerConfig, Failure, ManualClock,
    Registry, circuit_breaker, retry,
};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Waker};
use std::time::Duration;

#[derive(Debug, PartialEq)]
enum ClientError {
    Down,
    NotFound,
    Resilience(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl From<BreakerError> for ClientError {
    fn from(e: BreakerError) -> Self {
        ClientError::Resilience(e.to_string())
    }
}

/// Registers the retry `name` (3 attempts, 500 ms waits on a manual clock, plus `tune`).
fn register_retry(
    name: &str,
    tune: impl FnOnce(RetryConfigBuilder) -> RetryConfigBuilder,
) -> (Retry, ManualClock) {
    let clock = ManualClock::new();
    let config = tune(
        RetryConfig::builder()
            .max_attempts(3)
            .sleeper(clock.clone()),
    )
    .build()
    .expect("valid retry config");
    (Registry::global().retry_with_config(name, config), clock)
}

/// Registers the breaker `name`: a count window of 10 that never trips within a test.
fn register_breaker(name: &str) -> CircuitBreaker {
    let config = CircuitBreakerConfig::builder()
        .clock(ManualClock::new())
        .sliding_window_size(10)
        .minimum_number_of_calls(10)
        .build()
        .expect("valid breaker config");
    Registry::global().circuit_breaker_with_config(name, config)
}

/// A body that fails its first `failures` calls, then returns the call number.
fn flaky(calls: &AtomicU32, failures: u32) -> Result<u32, ClientError> {
    let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
    if n <= failures {
        Err(ClientError::Down)
    } else {
        Ok(n)
    }
}

// --- retry alone ---

#[retry(name = "mrt.alone")]
async fn alone(calls: &AtomicU32, failures: u32) -> Result<u32, ClientError> {
    flaky(calls, failures)
}

#[tokio::test]
async fn retries_until_success_waiting_between_attempts() {
    let (retry, clock) = register_retry("mrt.alone", |b| b);
    let calls = AtomicU32::new(0);
    assert_eq!(alone(&calls, 2).await, Ok(3));
    assert_eq!(calls.load(Ordering::SeqCst), 3, "three attempts");
    assert_eq!(
        clock.elapsed(),
        Duration::from_millis(1000),
        "two waits of 500 ms"
    );
    let m = retry.metrics();
    assert_eq!(m.successful_calls_with_retry_attempt, 1);
    // A first-attempt success.
    calls.store(0, Ordering::SeqCst);
    assert_eq!(alone(&calls, 0).await, Ok(1));
    assert_eq!(retry.metrics().successful_calls_without_retry_attempt, 1);
    // Exhausted without a fallback: the last attempt's own error.
    calls.store(0, Ordering::SeqCst);
    assert_eq!(alone(&calls, 10).await, Err(ClientError::Down));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(retry.metrics().failed_calls_with_retry_attempt, 1);
}

#[retry(name = "mrt.fallback", fallback = "retry_fallback")]
async fn with_fallback(calls: &AtomicU32, user: &str) -> Result<String, ClientError> {
    flaky(calls, u32::MAX).map(|n| format!("{user}:{n}"))
}

fn retry_fallback(
    calls: &AtomicU32,
    user: &str,
    cause: Failure<ClientError>,
) -> Result<String, ClientError> {
    Ok(format!(
        "fallback for {user} after {} attempts: {cause}",
        calls.load(Ordering::SeqCst)
    ))
}

#[tokio::test]
async fn the_fallback_gets_the_arguments_and_the_last_cause() {
    register_retry("mrt.fallback", |b| b);
    let calls = AtomicU32::new(0);
    assert_eq!(
        with_fallback(&calls, "ann").await,
        Ok("fallback for ann after 3 attempts: Down".to_owned())
    );
}

#[retry(name = "mrt.ignored")]
async fn ignored(calls: &AtomicU32) -> Result<u32, ClientError> {
    calls.fetch_add(1, Ordering::SeqCst);
    Err(ClientError::NotFound)
}

#[tokio::test]
async fn an_error_the_config_ignores_is_not_retried() {
    let (retry, _) = register_retry("mrt.ignored", |b| {
        b.ignore_error(|e: &ClientError| *e == ClientError::NotFound)
    });
    let calls = AtomicU32::new(0);
    assert_eq!(ignored(&calls).await, Err(ClientError::NotFound));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(retry.metrics().failed_calls_without_retry_attempt, 1);
}

#[retry(name = "mrt.result")]
async fn rejected_result(calls: &AtomicU32) -> Result<u32, ClientError> {
    calls.fetch_add(1, Ordering::SeqCst);
    Ok(503)
}

#[retry(
    name = "mrt.result.fallback",
    fallback = "exceeded",
    fallback_args = "cause"
)]
async fn rejected_result_with_fallback(calls: &AtomicU32) -> Result<u32, ClientError> {
    calls.fetch_add(1, Ordering::SeqCst);
    Ok(503)
}

fn exceeded(cause: Failure<ClientError>) -> Result<u32, ClientError> {
    match cause {
        Failure::MaxRetriesExceeded(m) => Ok(m.attempts),
        other => panic!("expected MaxRetriesExceeded, got {other:?}"),
    }
}

#[tokio::test]
async fn retries_exhausted_by_a_rejected_result() {
    let fail_after = |b: RetryConfigBuilder| {
        b.retry_on_result(|v: &u32| *v == 503)
            .fail_after_max_attempts(true)
    };
    register_retry("mrt.result", fail_after);
    register_retry("mrt.result.fallback", fail_after);
    let calls = AtomicU32::new(0);
    // Without a fallback, `E: From<BreakerError>` carries it.
    assert_eq!(
        rejected_result(&calls).await,
        Err(ClientError::Resilience(
            "Retry 'mrt.result' has exhausted all attempts (3)".to_owned()
        ))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(rejected_result_with_fallback(&calls).await, Ok(3));
}

/// `&mut` arguments and `&mut self`: each attempt borrows them anew.
struct Counter {
    seen: Vec<u32>,
}

impl Counter {
    #[retry(name = "mrt.mut")]
    async fn push(&mut self, buffer: &mut Vec<u32>, value: u32) -> Result<usize, ClientError> {
        self.seen.push(value);
        buffer.push(value);
        if buffer.len() < 2 {
            Err(ClientError::Down)
        } else {
            Ok(buffer.len())
        }
    }
}

#[tokio::test]
async fn mutable_arguments_are_borrowed_per_attempt() {
    register_retry("mrt.mut", |b| b);
    let mut counter = Counter { seen: Vec::new() };
    let mut buffer = Vec::new();
    assert_eq!(counter.push(&mut buffer, 7).await, Ok(2));
    assert_eq!(buffer, [7, 7]);
    assert_eq!(counter.seen, [7, 7]);
}

// --- composition with #[circuit_breaker] ---

// Retry outside the breaker whatever the source order.
#[circuit_breaker(name = "mrt.cb.below")]
#[retry(name = "mrt.retry.below")]
async fn breaker_written_first(calls: &AtomicU32) -> Result<u32, ClientError> {
    flaky(calls, u32::MAX)
}

#[retry(name = "mrt.retry.above")]
#[circuit_breaker(name = "mrt.cb.above")]
async fn retry_written_first(calls: &AtomicU32) -> Result<u32, ClientError> {
    flaky(calls, u32::MAX)
}

#[tokio::test]
async fn retry_wraps_the_breaker_in_either_source_order() {
    for (retry_name, breaker_name, call) in [
        ("mrt.retry.below", "mrt.cb.below", 0),
        ("mrt.retry.above", "mrt.cb.above", 1),
    ] {
        let (retry, _) = register_retry(retry_name, |b| b);
        let breaker = register_breaker(breaker_name);
        let calls = AtomicU32::new(0);
        let result = if call == 0 {
            breaker_written_first(&calls).await
        } else {
            retry_written_first(&calls).await
        };
        assert_eq!(result, Err(ClientError::Down));
        // Every attempt went through the breaker: three calls recorded, one retried call.
        assert_eq!(
            breaker.metrics().number_of_failed_calls(),
            3,
            "{breaker_name}"
        );
        assert_eq!(retry.metrics().failed_calls_with_retry_attempt, 1);
    }
}

// `order = 1` puts the breaker outside the retry (Spring's `circuitBreakerAspectOrder`).
#[retry(name = "mrt.retry.inner")]
#[circuit_breaker(name = "mrt.cb.outer", order = 1)]
async fn breaker_outside(calls: &AtomicU32) -> Result<u32, ClientError> {
    flaky(calls, u32::MAX)
}

#[tokio::test]
async fn order_puts_the_breaker_around_the_retry() {
    register_retry("mrt.retry.inner", |b| b);
    let breaker = register_breaker("mrt.cb.outer");
    let calls = AtomicU32::new(0);
    assert_eq!(breaker_outside(&calls).await, Err(ClientError::Down));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        breaker.metrics().number_of_failed_calls(),
        1,
        "the breaker sees the retried call once"
    );
}

// Each fallback at its own layer: the breaker's answers each attempt, so the retry never sees
// a failure (Resilience4j #558/#593: a CB fallback swallows errors before Retry sees them).
#[retry(name = "mrt.layers.retry", fallback = "retry_layer_fallback")]
#[circuit_breaker(name = "mrt.layers.cb", fallback = "breaker_layer_fallback")]
async fn both_fallbacks(calls: &AtomicU32, up: bool) -> Result<String, ClientError> {
    flaky(calls, u32::MAX)?;
    let _ = up;
    Ok("body".to_owned())
}

async fn breaker_layer_fallback(
    _calls: &AtomicU32,
    up: bool,
    cause: Failure<ClientError>,
) -> Result<String, ClientError> {
    if up {
        Ok(format!("breaker fallback: {cause}"))
    } else {
        Err(ClientError::Down)
    }
}

fn retry_layer_fallback(
    calls: &AtomicU32,
    _up: bool,
    cause: Failure<ClientError>,
) -> Result<String, ClientError> {
    Ok(format!(
        "retry fallback after {} attempts: {cause}",
        calls.load(Ordering::SeqCst)
    ))
}

#[tokio::test]
async fn each_fallback_applies_at_its_own_layer() {
    let (retry, _) = register_retry("mrt.layers.retry", |b| b);
    let breaker = register_breaker("mrt.layers.cb");
    let calls = AtomicU32::new(0);
    // The breaker's fallback answers `Ok`: the retry sees a success on the first attempt.
    assert_eq!(
        both_fallbacks(&calls, true).await,
        Ok("breaker fallback: Down".to_owned())
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(retry.metrics().successful_calls_without_retry_attempt, 1);
    // The breaker's fallback fails too: the retry retries, then its own fallback answers.
    calls.store(0, Ordering::SeqCst);
    assert_eq!(
        both_fallbacks(&calls, false).await,
        Ok("retry fallback after 3 attempts: Down".to_owned())
    );
    assert_eq!(breaker.metrics().number_of_failed_calls(), 4);
}

// An open breaker inside a retry: `ignore_error::<CallNotPermitted>` stops retrying at once
// (RobWin's advice, Resilience4j #920); the retry's fallback sees the rejection.
#[retry(
    name = "mrt.open.retry",
    fallback = "saw_rejection",
    fallback_args = "cause"
)]
#[circuit_breaker(name = "mrt.open.cb")]
async fn into_open_breaker(calls: &AtomicU32) -> Result<u32, ClientError> {
    calls.fetch_add(1, Ordering::SeqCst);
    Ok(1)
}

fn saw_rejection(cause: Failure<ClientError>) -> Result<u32, ClientError> {
    assert!(cause.is_not_permitted(), "{cause:?}");
    Ok(0)
}

#[tokio::test]
async fn a_rejection_can_be_ignored_by_the_retry() {
    let (retry, clock) = register_retry("mrt.open.retry", |b| {
        b.ignore_error(|_: &CallNotPermitted| true)
    });
    let breaker = register_breaker("mrt.open.cb");
    breaker.transition_to_forced_open_state().unwrap();
    let calls = AtomicU32::new(0);
    assert_eq!(into_open_breaker(&calls).await, Ok(0));
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the body never ran");
    assert_eq!(clock.elapsed(), Duration::ZERO, "no retry, no wait");
    assert_eq!(breaker.metrics().number_of_not_permitted_calls(), 1);
    assert_eq!(retry.metrics().failed_calls_without_retry_attempt, 1);
}

// --- cancellation and panics ---

#[retry(name = "mrt.cancel")]
#[circuit_breaker(name = "mrt.cancel.cb")]
async fn hangs_on_second_attempt(calls: &AtomicU32) -> Result<u32, ClientError> {
    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(ClientError::Down);
    }
    std::future::pending().await
}

#[tokio::test]
async fn a_cancelled_call_stops_retrying_and_counts_nothing_more() {
    let (retry, _) = register_retry("mrt.cancel", |b| b);
    let breaker = register_breaker("mrt.cancel.cb");
    let calls = AtomicU32::new(0);
    {
        let mut call = pin!(hangs_on_second_attempt(&calls));
        let mut cx = Context::from_waker(Waker::noop());
        // Attempt 1 fails, the wait yields once, attempt 2 hangs.
        for _ in 0..4 {
            assert!(call.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    } // dropped: cancelled during the second attempt
    let m = retry.metrics();
    assert_eq!(
        (
            m.successful_calls_without_retry_attempt,
            m.successful_calls_with_retry_attempt,
            m.failed_calls_with_retry_attempt,
            m.failed_calls_without_retry_attempt
        ),
        (0, 0, 0, 0),
        "a cancelled call is not counted"
    );
    // The breaker recorded the first attempt; the second's permit was given back.
    let b = breaker.metrics();
    assert_eq!(
        (b.number_of_failed_calls(), b.number_of_buffered_calls()),
        (1, 1)
    );
}

#[retry(name = "mrt.panic")]
#[circuit_breaker(name = "mrt.panic.cb")]
async fn panics(calls: &AtomicU32) -> Result<u32, ClientError> {
    calls.fetch_add(1, Ordering::SeqCst);
    panic!("boom")
}

#[tokio::test]
async fn a_panicking_attempt_unwinds_through_the_retry() {
    let (retry, _) = register_retry("mrt.panic", |b| b);
    let breaker = register_breaker("mrt.panic.cb");
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let joined = tokio::spawn(panics(&CALLS)).await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(CALLS.load(Ordering::SeqCst), 1, "no retry after a panic");
    assert_eq!(
        breaker.metrics().number_of_failed_calls(),
        1,
        "the breaker records it"
    );
    assert_eq!(retry.metrics().failed_calls_with_retry_attempt, 0);
}

// Cancelled during a wait on tokio's timer (paused time): the retry stops there.
#[retry(name = "mrt.cancel.wait")]
async fn fails_then_waits(calls: &AtomicU32) -> Result<u32, ClientError> {
    flaky(calls, u32::MAX)
}

#[tokio::test(start_paused = true)]
async fn a_call_cancelled_during_a_wait_makes_no_more_attempts() {
    let config = RetryConfig::builder()
        .max_attempts(3)
        .wait_duration(Duration::from_secs(10))
        .build()
        .unwrap();
    let retry = Registry::global().retry_with_config("mrt.cancel.wait", config);
    let calls = AtomicU32::new(0);
    let cancelled = tokio::time::timeout(Duration::from_secs(5), fails_then_waits(&calls)).await;
    assert!(cancelled.is_err(), "the timeout fired during the 10 s wait");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "no attempt after the cancelled wait"
    );
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let m = retry.metrics();
    assert_eq!(
        m.failed_calls_with_retry_attempt + m.failed_calls_without_retry_attempt,
        0,
        "nothing counted"
    );
    // Uncancelled, the same call waits twice on tokio's timer and fails after three attempts.
    let started = tokio::time::Instant::now();
    assert_eq!(fails_then_waits(&calls).await, Err(ClientError::Down));
    assert_eq!(started.elapsed(), Duration::from_secs(20));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

// A panic in a retry alone: it unwinds at once, nothing is counted.
#[retry(name = "mrt.panic.alone")]
async fn panics_alone(calls: &AtomicU32) -> Result<u32, ClientError> {
    calls.fetch_add(1, Ordering::SeqCst);
    panic!("boom")
}

#[tokio::test]
async fn a_panic_in_a_retry_alone_is_not_retried() {
    let (retry, clock) = register_retry("mrt.panic.alone", |b| b);
    static CALLS: AtomicU32 = AtomicU32::new(0);
    assert!(
        tokio::spawn(panics_alone(&CALLS))
            .await
            .unwrap_err()
            .is_panic()
    );
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(clock.elapsed(), Duration::ZERO);
    assert_eq!(retry.metrics().failed_calls_with_retry_attempt, 0);
}
