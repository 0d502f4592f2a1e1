//! `#[bulkhead]` at run time (issue 14, item 5): permitted and refused calls with their
//! fallbacks, a wait for a slot on tokio's (paused) clock, the slot held across the body's await
//! and given back on completion, cancellation and panic, and the five resilience attributes
//! composed in Resilience4j's aspect order whatever the source order.
//!
//! Each test registers its bulkhead under a unique name before the first call, because the
//! generated call site resolves its handle from the registry once. The attributes are imported
//! plainly (`use fusebox::{bulkhead, retry, ...}`), those expanded by another attribute too.

use fusebox::bulkhead::{BulkheadConfig, BulkheadEventKind};
use fusebox::rate_limiter::RateLimiterConfig;
use fusebox::retry::RetryConfig;
use fusebox::time_limiter::TimeLimiterConfig;
use fusebox::{
    BreakerError, CircuitBreakerConfig, Failure, ManualClock, Registry, bulkhead, circuit_breaker,
    rate_limiter, retry, time_limiter,
};
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Waker};
use std::time::Duration;

#[derive(Debug, PartialEq)]
enum ClientError {
    Down,
    TooMany,
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

/// Registers a bulkhead of `max` slots that waits `wait` for one.
fn register(name: &str, max: u32, wait: Duration) -> fusebox::bulkhead::Bulkhead {
    let config = BulkheadConfig::builder()
        .max_concurrent_calls(max)
        .max_wait_duration(wait)
        .build()
        .unwrap();
    Registry::global().bulkhead_with_config(name, config)
}

fn kinds(events: &mut fusebox::bulkhead::BulkheadEventReceiver) -> Vec<BulkheadEventKind> {
    events.drain().into_iter().map(|e| e.kind).collect()
}

// --- permitted, refused -----------------------------------------------------------------------

#[bulkhead(name = "bh-basic", fallback = "busy", type = "SEMAPHORE")]
async fn stock(sku: &str) -> Result<String, ClientError> {
    Ok(format!("stock of {sku}"))
}

fn busy(sku: &str, cause: Failure<ClientError>) -> Result<String, ClientError> {
    assert!(cause.is_bulkhead_full(), "{cause:?}");
    Ok(format!("busy for {sku}: {cause}"))
}

#[tokio::test]
async fn permitted_then_full_to_the_fallback() {
    let bulkhead = register("bh-basic", 1, Duration::ZERO);
    let mut events = bulkhead.subscribe(16);
    assert_eq!(stock("a").await.unwrap(), "stock of a");
    assert_eq!(
        kinds(&mut events),
        [
            BulkheadEventKind::CallPermitted,
            BulkheadEventKind::CallFinished
        ]
    );
    // Someone else holds the only slot; `max_wait_duration` is 0: refused at once.
    let held = bulkhead.try_acquire_permission().unwrap();
    kinds(&mut events);
    assert_eq!(
        stock("b").await.unwrap(),
        "busy for b: Bulkhead 'bh-basic' is full and does not permit further calls"
    );
    assert_eq!(kinds(&mut events), [BulkheadEventKind::CallRejected]);
    drop(held);
    assert_eq!(stock("c").await.unwrap(), "stock of c");
    assert_eq!(bulkhead.metrics().available_concurrent_calls, 1);
}

static PLAIN_RUNS: AtomicU32 = AtomicU32::new(0);

#[bulkhead(name = "bh-plain")]
async fn plain() -> Result<u32, ClientError> {
    Ok(PLAIN_RUNS.fetch_add(1, Ordering::SeqCst))
}

#[tokio::test]
async fn full_without_fallback_is_the_error_from_breaker_error() {
    let bulkhead = register("bh-plain", 1, Duration::ZERO);
    assert_eq!(plain().await, Ok(0));
    let _held = bulkhead.try_acquire_permission().unwrap();
    assert_eq!(
        plain().await,
        Err(ClientError::Resilience(
            "Bulkhead 'bh-plain' is full and does not permit further calls".into()
        ))
    );
    // The refused call never ran.
    assert_eq!(PLAIN_RUNS.load(Ordering::SeqCst), 1);
}

// --- waiting, holding the slot ----------------------------------------------------------------

#[bulkhead(name = "bh-wait", fallback = "wait_busy")]
async fn waits() -> Result<&'static str, ClientError> {
    Ok("ran")
}

fn wait_busy(cause: Failure<ClientError>) -> Result<&'static str, ClientError> {
    assert!(cause.is_bulkhead_full(), "{cause:?}");
    Ok("full")
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_is_waited_for_up_to_max_wait_duration() {
    let bulkhead = register("bh-wait", 1, Duration::from_millis(50));
    // The slot comes back after 20 ms, within the 50 ms wait: the call runs.
    let held = bulkhead.try_acquire_permission().unwrap();
    let start = tokio::time::Instant::now();
    let (_, ran) = tokio::join!(
        async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(held);
        },
        waits()
    );
    assert_eq!(ran, Ok("ran"));
    assert_eq!(start.elapsed(), Duration::from_millis(20));
    // Held for longer than the wait: refused after 50 ms.
    let _held = bulkhead.try_acquire_permission().unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(waits().await, Ok("full"));
    assert_eq!(start.elapsed(), Duration::from_millis(50));
}

#[bulkhead(name = "bh-held")]
async fn held_across(gate: tokio::sync::oneshot::Receiver<()>) -> Result<u32, ClientError> {
    gate.await.map_err(|_| ClientError::Down)?;
    Ok(1)
}

#[tokio::test]
async fn the_slot_is_held_across_the_body_and_given_back_when_it_completes() {
    let bulkhead = register("bh-held", 2, Duration::ZERO);
    let (open, gate) = tokio::sync::oneshot::channel();
    let mut call = pin!(held_across(gate));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(call.as_mut().poll(&mut cx).is_pending());
    // Suspended in the body: the slot is taken.
    assert_eq!(bulkhead.metrics().available_concurrent_calls, 1);
    open.send(()).unwrap();
    assert!(matches!(
        call.as_mut().poll(&mut cx),
        std::task::Poll::Ready(Ok(1))
    ));
    assert_eq!(bulkhead.metrics().available_concurrent_calls, 2);
}

#[tokio::test]
async fn a_cancelled_call_gives_its_slot_back() {
    #[bulkhead(name = "bh-cancel")]
    async fn never() -> Result<u32, ClientError> {
        std::future::pending::<()>().await;
        Ok(0)
    }
    let bulkhead = register("bh-cancel", 1, Duration::ZERO);
    let mut events = bulkhead.subscribe(16);
    {
        let mut call = pin!(never());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(call.as_mut().poll(&mut cx).is_pending());
        assert_eq!(bulkhead.metrics().available_concurrent_calls, 0);
    }
    assert_eq!(bulkhead.metrics().available_concurrent_calls, 1);
    assert_eq!(
        kinds(&mut events),
        [
            BulkheadEventKind::CallPermitted,
            BulkheadEventKind::CallFinished
        ]
    );
}

#[bulkhead(name = "bh-panic")]
async fn panics() -> Result<u32, ClientError> {
    tokio::task::yield_now().await;
    panic!("boom")
}

#[tokio::test]
async fn a_panicking_call_gives_its_slot_back() {
    let bulkhead = register("bh-panic", 1, Duration::ZERO);
    let mut events = bulkhead.subscribe(16);
    let panicked = tokio::spawn(panics()).await.unwrap_err();
    assert!(panicked.is_panic());
    assert_eq!(bulkhead.metrics().available_concurrent_calls, 1);
    assert_eq!(
        kinds(&mut events),
        [
            BulkheadEventKind::CallPermitted,
            BulkheadEventKind::CallFinished
        ]
    );
}

// --- composition ------------------------------------------------------------------------------

/// What ran, in order: each fallback names its layer.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(entry: impl Into<String>) {
    LOG.lock().unwrap().push(entry.into());
}

static ALL_CALLS: AtomicU32 = AtomicU32::new(0);

// Written in the reverse of Resilience4j's order: the nesting is still
// Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(fn))))).
#[bulkhead(name = "five-bh", fallback = "bh_fallback")]
#[time_limiter(name = "five-tl", fallback = "tl_fallback")]
#[rate_limiter(name = "five-rl")]
#[circuit_breaker(name = "five-cb")]
#[retry(name = "five-retry", fallback = "retry_fallback")]
async fn all_five(delay_ms: u64) -> Result<u64, ClientError> {
    ALL_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    Ok(delay_ms)
}

fn bh_fallback(_delay_ms: u64, cause: Failure<ClientError>) -> Result<u64, ClientError> {
    log(format!("bh:{}", cause.outcome()));
    Err(ClientError::TooMany)
}

fn tl_fallback(_delay_ms: u64, cause: Failure<ClientError>) -> Result<u64, ClientError> {
    log(format!("tl:{}", cause.outcome()));
    Err(ClientError::Down)
}

fn retry_fallback(_delay_ms: u64, cause: Failure<ClientError>) -> Result<u64, ClientError> {
    log(format!("retry:{cause}"));
    Ok(0)
}

#[tokio::test(start_paused = true)]
async fn all_five_nest_in_resilience4j_order_whatever_the_source_order() {
    let retry = RetryConfig::builder()
        .max_attempts(2)
        .wait_duration(Duration::from_millis(1))
        .build()
        .unwrap();
    Registry::global().retry_with_config("five-retry", retry);
    let breaker = Registry::global().circuit_breaker_with_config(
        "five-cb",
        CircuitBreakerConfig::builder()
            .minimum_number_of_calls(100)
            .build()
            .unwrap(),
    );
    let limiter = Registry::global().rate_limiter_with_config(
        "five-rl",
        RateLimiterConfig::builder()
            .limit_for_period(10)
            .limit_refresh_period(Duration::from_secs(3600))
            .timeout_duration(Duration::ZERO)
            .clock(ManualClock::new())
            .build()
            .unwrap(),
    );
    let timer = Registry::global().time_limiter_with_config(
        "five-tl",
        TimeLimiterConfig::builder()
            .timeout_duration(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    // One slot, waited for up to 1 s: longer than the time limiter's 100 ms.
    let bulkhead = register("five-bh", 1, Duration::from_secs(1));

    assert_eq!(all_five(5).await, Ok(5));
    // The slot is taken elsewhere. Each attempt waits for it inside the time limiter, which
    // gives up after 100 ms (dropping the wait, so the bulkhead refuses nothing and its fallback
    // does not run): the time limiter is outside the bulkhead. Its fallback answers `Down`, a
    // failure for the rate limiter's caller, the breaker and the retry, whose fallback gets it
    // after the second attempt.
    let held = bulkhead.try_acquire_permission().unwrap();
    assert_eq!(all_five(5).await, Ok(0));
    assert_eq!(
        *LOG.lock().unwrap(),
        ["tl:timeout", "tl:timeout", "retry:Down"]
    );
    assert_eq!(ALL_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(timer.metrics().timeout, 2);
    // Every attempt passed the rate limiter (outside the time limiter) and the breaker.
    assert_eq!(limiter.metrics().available_permissions, 7);
    let m = breaker.metrics();
    assert_eq!(
        (m.number_of_successful_calls(), m.number_of_failed_calls()),
        (1, 2)
    );
    drop(held);
    assert_eq!(all_five(5).await, Ok(5));
    assert_eq!(bulkhead.metrics().available_concurrent_calls, 1);
}

static ORDERED: AtomicU32 = AtomicU32::new(0);

// `order` puts the bulkhead around the time limiter: a slow call holds its slot until the time
// limiter gives up, and the next caller, finding the bulkhead full, gets the bulkhead's fallback.
#[time_limiter(name = "ord-bh-tl")]
#[bulkhead(name = "ord-bh", fallback = "ord_full", order = 1)]
async fn reordered(delay_ms: u64) -> Result<u32, ClientError> {
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    Ok(ORDERED.fetch_add(1, Ordering::SeqCst))
}

fn ord_full(_delay_ms: u64, cause: Failure<ClientError>) -> Result<u32, ClientError> {
    Ok(if cause.is_bulkhead_full() { 99 } else { 77 })
}

#[tokio::test(start_paused = true)]
async fn order_puts_the_bulkhead_around_the_time_limiter() {
    register("ord-bh", 1, Duration::ZERO);
    Registry::global().time_limiter_with_config(
        "ord-bh-tl",
        TimeLimiterConfig::builder()
            .timeout_duration(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    let (slow, refused) = tokio::join!(reordered(500), async {
        tokio::task::yield_now().await;
        reordered(1).await
    });
    // The slow call timed out inside the bulkhead: its fallback saw the timeout.
    assert_eq!(slow, Ok(77));
    assert_eq!(refused, Ok(99));
    assert_eq!(ORDERED.load(Ordering::SeqCst), 0);
}
