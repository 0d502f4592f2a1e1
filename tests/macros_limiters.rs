//! `#[rate_limiter]` and `#[time_limiter]` at run time (issue 14, item 5): permitted, refused and
//! timed-out calls with their fallbacks, `permits`, the drain predicate, the counters, the
//! composition of all four attributes in Resilience4j's aspect order whatever the source order,
//! cancellation and panics.
//!
//! Each test registers its entries under unique names before the first call, because the
//! generated call site resolves its handles from the registry once.

use fusebox::rate_limiter::RateLimiterConfig;
use fusebox::retry::RetryConfig;
use fusebox::time_limiter::TimeLimiterConfig;
use fusebox::{
    BreakerError, CircuitBreakerConfig, Failure, ManualClock, Registry, circuit_breaker,
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

/// Registers a rate limiter of `limit` permits per hour that refuses at once when they are spent.
fn register_rate_limiter(name: &str, limit: u32) -> fusebox::rate_limiter::RateLimiter {
    register_rate_limiter_with(name, limit, |b| b)
}

fn register_rate_limiter_with(
    name: &str,
    limit: u32,
    tune: impl FnOnce(
        fusebox::rate_limiter::RateLimiterConfigBuilder,
    ) -> fusebox::rate_limiter::RateLimiterConfigBuilder,
) -> fusebox::rate_limiter::RateLimiter {
    let config = RateLimiterConfig::builder()
        .limit_for_period(limit)
        .limit_refresh_period(Duration::from_secs(3600))
        .timeout_duration(Duration::ZERO)
        .clock(ManualClock::new());
    Registry::global().rate_limiter_with_config(name, tune(config).build().unwrap())
}

fn register_time_limiter(name: &str, timeout: Duration) -> fusebox::time_limiter::TimeLimiter {
    let config = TimeLimiterConfig::builder()
        .timeout_duration(timeout)
        .build()
        .unwrap();
    Registry::global().time_limiter_with_config(name, config)
}

// --- #[rate_limiter] ---------------------------------------------------------------------------

#[rate_limiter(name = "rl-basic", fallback = "busy")]
async fn limited(user: &str) -> Result<String, ClientError> {
    Ok(format!("orders of {user}"))
}

fn busy(user: &str, cause: Failure<ClientError>) -> Result<String, ClientError> {
    assert!(cause.is_request_not_permitted(), "{cause:?}");
    Ok(format!("busy for {user}: {cause}"))
}

#[tokio::test]
async fn permitted_then_refused_to_the_fallback() {
    let limiter = register_rate_limiter("rl-basic", 2);
    assert_eq!(limited("ann").await.unwrap(), "orders of ann");
    assert_eq!(limited("bob").await.unwrap(), "orders of bob");
    assert_eq!(
        limited("cid").await.unwrap(),
        "busy for cid: RateLimiter 'rl-basic' does not permit further calls"
    );
    assert_eq!(limiter.metrics().available_permissions, 0);
}

static WEIGHTED_RUNS: AtomicU32 = AtomicU32::new(0);

#[rate_limiter(name = "rl-weighted", permits = 3)]
async fn weighted() -> Result<u32, ClientError> {
    Ok(WEIGHTED_RUNS.fetch_add(1, Ordering::SeqCst) + 1)
}

#[tokio::test]
async fn permits_are_honoured_and_a_refusal_without_fallback_is_the_error() {
    let limiter = register_rate_limiter("rl-weighted", 7);
    assert_eq!(weighted().await, Ok(1));
    assert_eq!(limiter.metrics().available_permissions, 4);
    assert_eq!(weighted().await, Ok(2));
    assert_eq!(limiter.metrics().available_permissions, 1);
    // 3 permits wanted, 1 left: refused, the body does not run.
    assert_eq!(
        weighted().await,
        Err(ClientError::Resilience(
            "RateLimiter 'rl-weighted' does not permit further calls".into()
        ))
    );
    assert_eq!(WEIGHTED_RUNS.load(Ordering::SeqCst), 2);
}

#[rate_limiter(name = "rl-drain")]
async fn drains(fail: bool) -> Result<u32, ClientError> {
    if fail {
        Err(ClientError::TooMany)
    } else {
        Ok(1)
    }
}

#[tokio::test]
async fn a_result_matching_the_drain_predicate_drains_the_limiter() {
    let limiter = register_rate_limiter_with("rl-drain", 5, |b| {
        b.drain_permissions_on_result(|r: &Result<u32, ClientError>| {
            matches!(r, Err(ClientError::TooMany))
        })
    });
    assert_eq!(drains(false).await, Ok(1));
    assert_eq!(limiter.metrics().available_permissions, 4);
    assert_eq!(drains(true).await, Err(ClientError::TooMany));
    assert_eq!(limiter.metrics().available_permissions, 0);
    assert!(matches!(
        drains(false).await,
        Err(ClientError::Resilience(_))
    ));
}

#[tokio::test]
async fn a_cancelled_wait_keeps_its_reservation_and_runs_nothing() {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    #[rate_limiter(name = "rl-wait")]
    async fn waits() -> Result<u32, ClientError> {
        Ok(RUNS.fetch_add(1, Ordering::SeqCst))
    }
    let clock = ManualClock::new();
    let config = RateLimiterConfig::builder()
        .limit_for_period(1)
        .limit_refresh_period(Duration::from_secs(10))
        .timeout_duration(Duration::from_secs(60))
        .clock(clock.clone())
        .build()
        .unwrap();
    let limiter = Registry::global().rate_limiter_with_config("rl-wait", config);
    assert_eq!(waits().await, Ok(0));
    // The second call reserves a permit of the next cycle and waits on tokio's timer: cancel it.
    {
        let mut call = pin!(waits());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(call.as_mut().poll(&mut cx).is_pending());
        assert_eq!(limiter.metrics().number_of_waiting_threads, 1);
    }
    assert_eq!(limiter.metrics().number_of_waiting_threads, 0);
    assert_eq!(limiter.metrics().available_permissions, -1);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
}

#[rate_limiter(name = "rl-panic")]
async fn panics_limited() -> Result<u32, ClientError> {
    panic!("boom")
}

#[tokio::test]
async fn a_panic_unwinds_through_the_rate_limiter_with_the_permit_spent() {
    let limiter = register_rate_limiter("rl-panic", 2);
    let panicked = tokio::spawn(panics_limited()).await.unwrap_err();
    assert!(panicked.is_panic());
    assert_eq!(limiter.metrics().available_permissions, 1);
}

// --- #[time_limiter] ---------------------------------------------------------------------------

#[time_limiter(name = "tl-basic", fallback = "late")]
async fn slow(delay_ms: u64) -> Result<u64, ClientError> {
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    if delay_ms == 1 {
        Err(ClientError::Down)
    } else {
        Ok(delay_ms)
    }
}

async fn late(delay_ms: u64, cause: Failure<ClientError>) -> Result<u64, ClientError> {
    match cause {
        Failure::Timeout(t) => {
            assert_eq!(
                t.to_string(),
                "TimeLimiter 'tl-basic' recorded a timeout exception."
            );
            Ok(1000 + delay_ms)
        }
        other => Err(other.into_error().unwrap()),
    }
}

#[tokio::test(start_paused = true)]
async fn in_time_failed_and_timed_out_are_counted_as_time_limiter_call_counts_them() {
    let limiter = register_time_limiter("tl-basic", Duration::from_millis(100));
    let mut events = limiter.subscribe(8);
    assert_eq!(slow(10).await, Ok(10));
    assert_eq!(slow(1).await, Err(ClientError::Down));
    assert_eq!(slow(500).await, Ok(1500));
    let metrics = limiter.metrics();
    assert_eq!(
        (metrics.successful, metrics.failed, metrics.timeout),
        (1, 1, 1)
    );
    let kinds: Vec<String> = events
        .drain()
        .iter()
        .map(|e| e.kind.as_str().to_owned())
        .collect();
    assert_eq!(kinds, ["SUCCESS", "ERROR", "TIMEOUT"]);
}

#[time_limiter(name = "tl-plain")]
async fn slow_without_fallback() -> Result<u64, ClientError> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_timeout_without_fallback_is_the_error_from_breaker_error() {
    register_time_limiter("tl-plain", Duration::from_secs(1));
    let err = slow_without_fallback().await.unwrap_err();
    assert_eq!(
        err,
        ClientError::Resilience("TimeLimiter 'tl-plain' recorded a timeout exception.".into())
    );
}

#[time_limiter(name = "tl-panic")]
async fn panics_timed() -> Result<u32, ClientError> {
    panic!("boom")
}

#[tokio::test]
async fn a_panic_is_an_error_and_a_cancelled_call_counts_nothing() {
    let limiter = register_time_limiter("tl-panic", Duration::from_secs(1));
    assert!(tokio::spawn(panics_timed()).await.unwrap_err().is_panic());
    assert_eq!(limiter.metrics().failed, 1);

    #[time_limiter(name = "tl-cancel")]
    async fn never() -> Result<u32, ClientError> {
        std::future::pending().await
    }
    let limiter = register_time_limiter("tl-cancel", Duration::from_secs(1));
    {
        let mut call = pin!(never());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(call.as_mut().poll(&mut cx).is_pending());
    }
    let metrics = limiter.metrics();
    assert_eq!(
        (metrics.successful, metrics.failed, metrics.timeout),
        (0, 0, 0)
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
// Retry(CircuitBreaker(RateLimiter(TimeLimiter(fn)))).
#[time_limiter(name = "all-tl", fallback = "tl_fallback")]
#[rate_limiter(name = "all-rl", fallback = "rl_fallback")]
#[circuit_breaker(name = "all-cb")]
#[retry(name = "all-retry", fallback = "retry_fallback")]
async fn all_four(delay_ms: u64) -> Result<u64, ClientError> {
    ALL_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    Ok(delay_ms)
}

fn tl_fallback(_delay_ms: u64, cause: Failure<ClientError>) -> Result<u64, ClientError> {
    log(format!("tl:{}", cause.outcome()));
    // The time limiter's fallback answers inside the rate limiter: a failure for the retry.
    Err(ClientError::Down)
}

fn rl_fallback(_delay_ms: u64, cause: Failure<ClientError>) -> Result<u64, ClientError> {
    log(format!("rl:{}", cause.outcome()));
    Err(ClientError::TooMany)
}

fn retry_fallback(_delay_ms: u64, cause: Failure<ClientError>) -> Result<u64, ClientError> {
    log(format!("retry:{cause}"));
    Ok(0)
}

#[tokio::test(start_paused = true)]
async fn all_four_nest_in_resilience4j_order_whatever_the_source_order() {
    let retry = RetryConfig::builder()
        .max_attempts(3)
        .wait_duration(Duration::from_millis(1))
        .build()
        .unwrap();
    Registry::global().retry_with_config("all-retry", retry);
    let breaker = Registry::global().circuit_breaker_with_config(
        "all-cb",
        CircuitBreakerConfig::builder()
            .minimum_number_of_calls(100)
            .build()
            .unwrap(),
    );
    let limiter = register_rate_limiter("all-rl", 2);
    let timer = register_time_limiter("all-tl", Duration::from_millis(100));

    // In time: one attempt, every layer passes.
    assert_eq!(all_four(5).await, Ok(5));
    // Too slow. Attempt 1 spends the second permit and times out: the time limiter's fallback
    // answers `Down`, which the rate limiter's fallback, one layer out, sees as the call's own
    // failure (as Spring's aspects do: each fallback catches what comes out of the layer inside)
    // and answers `TooMany`, a failure for the breaker and the retry. Attempts 2 and 3 are
    // refused by the rate limiter (no permit left), whose fallback answers each; the retry gives
    // up and its fallback gets the last error.
    assert_eq!(all_four(500).await, Ok(0));
    assert_eq!(
        *LOG.lock().unwrap(),
        [
            "tl:timeout",
            "rl:failure",
            "rl:not_permitted",
            "rl:not_permitted",
            "retry:TooMany"
        ]
    );
    // The time limiter ran inside the rate limiter: one timeout, and the refused attempts never
    // reached it nor the body.
    assert_eq!(timer.metrics().timeout, 1);
    assert_eq!(timer.metrics().successful, 1);
    assert_eq!(ALL_CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(limiter.metrics().available_permissions, 0);
    // The breaker, inside the retry and around the limiters, saw every attempt.
    let m = breaker.metrics();
    assert_eq!(
        (m.number_of_successful_calls(), m.number_of_failed_calls()),
        (1, 3)
    );
}

static ORDERED_CALLS: AtomicU32 = AtomicU32::new(0);

// `order` puts the time limiter around the rate limiter: one timeout covers the wait for a
// permit and the call.
#[rate_limiter(name = "ord-rl")]
#[time_limiter(name = "ord-tl", fallback = "ord_late", order = 1)]
async fn reordered() -> Result<u32, ClientError> {
    Ok(ORDERED_CALLS.fetch_add(1, Ordering::SeqCst))
}

fn ord_late(cause: Failure<ClientError>) -> Result<u32, ClientError> {
    assert!(cause.is_timeout(), "{cause:?}");
    Ok(99)
}

#[tokio::test(start_paused = true)]
async fn order_puts_the_time_limiter_around_the_rate_limiters_wait() {
    let config = RateLimiterConfig::builder()
        .limit_for_period(1)
        .limit_refresh_period(Duration::from_secs(10))
        .timeout_duration(Duration::from_secs(60))
        .build()
        .unwrap();
    Registry::global().rate_limiter_with_config("ord-rl", config);
    register_time_limiter("ord-tl", Duration::from_secs(1));
    assert_eq!(reordered().await, Ok(0));
    // The next permit is 10 s away, within the rate limiter's 60 s timeout, but the time limiter
    // around it gives up after 1 s.
    assert_eq!(reordered().await, Ok(99));
    assert_eq!(ORDERED_CALLS.load(Ordering::SeqCst), 1);
}
