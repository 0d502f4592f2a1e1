//! The tower layers (feature `tower`): the circuit breaker, the retry, the rate limiter, the
//! time limiter and the bulkhead as `tower::Layer`s over a registry's instances. Plain
//! `service_fn` services, tokio's paused time, no network.

use fusebox_runtime::bulkhead::{Bulkhead, BulkheadConfig, BulkheadEventKind, BulkheadFull};
use fusebox_runtime::rate_limiter::{
    RateLimiter, RateLimiterConfig, RateLimiterEventKind, RequestNotPermitted,
};
use fusebox_runtime::retry::{MaxRetriesExceeded, RetryConfig};
use fusebox_runtime::time_limiter::{TimeLimiterConfig, TimeLimiterEventKind};
use fusebox_runtime::tower::{
    BulkheadLayer, CircuitBreakerLayer, RateLimiterLayer, RetryLayer, ServerErrors,
    TimeLimiterLayer, TooManyRequests,
};
use fusebox_runtime::{
    CallNotPermitted, CircuitBreakerConfig, ManualClock, Outcome, Registry, State, TimeoutError,
};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt, service_fn};

#[derive(Debug, PartialEq)]
struct Backend(&'static str);

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "backend: {}", self.0)
    }
}
impl std::error::Error for Backend {}

/// Counts the calls that reach the inner service.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn hit(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// `Ok(request)` for even requests, `Err(Backend)` for odd ones.
fn parity(
    calls: Calls,
) -> impl Service<u32, Response = u32, Error = Backend, Future: Send> + Clone {
    service_fn(move |request: u32| {
        calls.hit();
        async move {
            if request.is_multiple_of(2) {
                Ok(request)
            } else {
                Err(Backend("odd"))
            }
        }
    })
}

fn http_status(status: u16) -> http::Response<()> {
    http::Response::builder().status(status).body(()).unwrap()
}

fn small_window(clock: &ManualClock) -> CircuitBreakerConfig {
    CircuitBreakerConfig::builder()
        .sliding_window_size(2)
        .minimum_number_of_calls(2)
        .failure_rate_threshold(50.0)
        .permitted_number_of_calls_in_half_open_state(1)
        .wait_duration_in_open_state(Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[tokio::test(start_paused = true)]
async fn a_permitted_call_is_recorded_and_errors_stay_downcastable() {
    let registry = Registry::new();
    let calls = Calls::default();
    let mut service =
        CircuitBreakerLayer::with_registry(&registry, "orders").layer(parity(calls.clone()));

    assert_eq!(service.ready().await.unwrap().call(2).await.unwrap(), 2);
    let error: BoxError = service.ready().await.unwrap().call(3).await.unwrap_err();
    assert_eq!(
        error.downcast_ref::<Backend>(),
        Some(&Backend("odd")),
        "{error}"
    );

    let metrics = registry.circuit_breaker("orders").metrics();
    assert_eq!(metrics.number_of_successful_calls(), 1);
    assert_eq!(metrics.number_of_failed_calls(), 1);
    assert_eq!(calls.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_5xx_response_is_a_failure_and_is_still_returned() {
    let registry = Registry::new();
    let mut service = CircuitBreakerLayer::with_registry(&registry, "http")
        .classify_response(ServerErrors)
        .layer(service_fn(|status: u16| async move {
            Ok::<_, BoxError>(http_status(status))
        }));

    for status in [200, 404, 503, 500] {
        let response = service.ready().await.unwrap().call(status).await.unwrap();
        assert_eq!(response.status(), status);
    }
    let metrics = registry.circuit_breaker("http").metrics();
    assert_eq!(metrics.number_of_successful_calls(), 2, "200 and 404");
    assert_eq!(metrics.number_of_failed_calls(), 2, "503 and 500");
}

/// tonic is not a dependency: a gRPC classifier is a closure on the `grpc-status` header (set in
/// the headers of trailers-only responses, e.g. UNAVAILABLE from a proxy or a shedding server).
#[tokio::test(start_paused = true)]
async fn a_grpc_status_classifier_is_a_closure_on_the_response() {
    const UNAVAILABLE: &str = "14";
    const DEADLINE_EXCEEDED: &str = "4";
    let registry = Registry::new();
    let grpc = |code: &'static str| {
        http::Response::builder()
            .header("grpc-status", code)
            .body(())
            .unwrap()
    };
    let mut service = CircuitBreakerLayer::with_registry(&registry, "grpc")
        .classify_response(|response: &http::Response<()>| {
            response
                .headers()
                .get("grpc-status")
                .is_some_and(|code| code == UNAVAILABLE || code == DEADLINE_EXCEEDED)
        })
        .layer(service_fn(move |code: &'static str| async move {
            Ok::<_, BoxError>(grpc(code))
        }));
    for code in ["0", "5", UNAVAILABLE, DEADLINE_EXCEEDED] {
        service.ready().await.unwrap().call(code).await.unwrap();
    }
    let metrics = registry.circuit_breaker("grpc").metrics();
    assert_eq!(metrics.number_of_successful_calls(), 2, "OK and NOT_FOUND");
    assert_eq!(metrics.number_of_failed_calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_rejects_without_calling_the_inner_service() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let breaker = registry.circuit_breaker_with_config("open", small_window(&clock));
    let calls = Calls::default();
    let mut service =
        CircuitBreakerLayer::from_breaker(breaker.clone()).layer(parity(calls.clone()));

    for request in [1, 3] {
        service
            .ready()
            .await
            .unwrap()
            .call(request)
            .await
            .unwrap_err();
    }
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(calls.count(), 2);

    let error = service.ready().await.unwrap().call(2).await.unwrap_err();
    let rejected = error
        .downcast_ref::<CallNotPermitted>()
        .expect("a rejection");
    assert_eq!(rejected.state(), State::Open);
    assert_eq!(rejected.breaker_name(), "open");
    assert_eq!(calls.count(), 2, "the inner service was not called");
    assert_eq!(breaker.metrics().number_of_not_permitted_calls(), 1);

    // After the wait in OPEN the next call is HALF_OPEN's probe; its success closes the breaker.
    clock.advance(Duration::from_millis(1001));
    assert_eq!(service.ready().await.unwrap().call(2).await.unwrap(), 2);
    assert_eq!(calls.count(), 3);
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn half_open_probes_close_the_breaker_and_limit_concurrent_probes() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let breaker = registry.circuit_breaker_with_config("probe", small_window(&clock));
    let gate = Arc::new(tokio::sync::Notify::new());
    let calls = Calls::default();
    let inner = {
        let (gate, calls) = (gate.clone(), calls.clone());
        service_fn(move |fail: bool| {
            let gate = gate.clone();
            calls.hit();
            async move {
                gate.notified().await;
                if fail {
                    Err(Backend("probe failed"))
                } else {
                    Ok(())
                }
            }
        })
    };
    let mut service = CircuitBreakerLayer::from_breaker(breaker.clone()).layer(inner);
    breaker.transition_to_open_state().unwrap();
    breaker.transition_to_half_open_state().unwrap();

    // The one probe permit is taken by the first call; a second call meanwhile is rejected.
    let mut probe = pin!(service.ready().await.unwrap().call(false));
    assert!(poll_once(probe.as_mut()).is_pending());
    let error = service
        .ready()
        .await
        .unwrap()
        .call(false)
        .await
        .unwrap_err();
    assert_eq!(
        error.downcast_ref::<CallNotPermitted>().unwrap().state(),
        State::HalfOpen
    );
    assert_eq!(calls.count(), 1);

    gate.notify_one();
    probe.await.unwrap();
    assert_eq!(
        breaker.state(),
        State::Closed,
        "the successful probe closed the breaker"
    );

    // A failed probe opens it again.
    breaker.transition_to_open_state().unwrap();
    breaker.transition_to_half_open_state().unwrap();
    gate.notify_one();
    service.ready().await.unwrap().call(true).await.unwrap_err();
    assert_eq!(breaker.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_response_future_gives_the_half_open_permit_back() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let breaker = registry.circuit_breaker_with_config("cancel", small_window(&clock));
    let mut service = CircuitBreakerLayer::from_breaker(breaker.clone()).layer(service_fn(
        |wait: Duration| async move {
            tokio::time::sleep(wait).await;
            Ok::<_, Backend>(())
        },
    ));
    breaker.transition_to_open_state().unwrap();
    breaker.transition_to_half_open_state().unwrap();

    // Cancelled while running: polled once, then dropped.
    {
        let mut running = pin!(service.ready().await.unwrap().call(Duration::from_secs(60)));
        assert!(poll_once(running.as_mut()).is_pending());
    }
    // Cancelled before its first poll.
    drop(service.ready().await.unwrap().call(Duration::from_secs(60)));
    assert_eq!(
        breaker.metrics().number_of_buffered_calls(),
        0,
        "nothing recorded"
    );
    assert_eq!(breaker.state(), State::HalfOpen);

    // The single probe permit is still there: the next call is permitted and closes the breaker.
    service
        .ready()
        .await
        .unwrap()
        .call(Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_call_is_a_failure() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let breaker = registry.circuit_breaker_with_config("panic", small_window(&clock));
    let mut service = CircuitBreakerLayer::from_breaker(breaker.clone()).layer(service_fn(
        |explode: bool| async move {
            assert!(!explode, "the backend panicked");
            Ok::<_, Backend>(())
        },
    ));
    let future = service.ready().await.unwrap().call(true);
    let joined = tokio::spawn(future).await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn readiness_takes_no_permission() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let breaker = registry.circuit_breaker_with_config("ready", small_window(&clock));
    let service = CircuitBreakerLayer::from_breaker(breaker.clone())
        .layer(service_fn(|()| async { Ok::<_, Backend>(()) }));
    breaker.transition_to_open_state().unwrap();
    breaker.transition_to_half_open_state().unwrap();
    // Many clones made ready and dropped (as servers do per connection) hold no probe permit.
    for _ in 0..5 {
        let mut clone = service.clone();
        clone.ready().await.unwrap();
    }
    let mut service = service;
    service.ready().await.unwrap().call(()).await.unwrap();
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn the_breaker_timeout_drops_the_call_and_counts_a_failure() {
    let registry = Registry::new();
    let breaker = registry.circuit_breaker_with_config(
        "slow",
        CircuitBreakerConfig::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    let finished = Calls::default();
    let mut service = CircuitBreakerLayer::from_breaker(breaker.clone()).layer(service_fn({
        let finished = finished.clone();
        move |wait: Duration| {
            let finished = finished.clone();
            async move {
                tokio::time::sleep(wait).await;
                finished.hit();
                Ok::<_, Backend>(())
            }
        }
    }));

    let mut events = breaker.subscribe();
    let started = tokio::time::Instant::now();
    let error = service
        .ready()
        .await
        .unwrap()
        .call(Duration::from_secs(5))
        .await
        .unwrap_err();
    let timeout = error.downcast_ref::<TimeoutError>().expect("a timeout");
    assert_eq!(timeout.after(), Duration::from_millis(100));
    assert_eq!(timeout.breaker_name(), "slow");
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    assert_eq!(finished.count(), 0, "the inner future was dropped");
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1);
    assert!(
        events
            .drain()
            .iter()
            .any(|e| matches!(e.kind, fusebox_runtime::EventKind::Error { .. })),
        "an ERROR event for the timed-out call"
    );

    // A call within the limit is a success.
    service
        .ready()
        .await
        .unwrap()
        .call(Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(breaker.metrics().number_of_successful_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_classifier_can_ignore_errors() {
    let registry = Registry::new();
    let mut service = CircuitBreakerLayer::with_registry(&registry, "ignore")
        .classify_with(|result: &Result<u32, Backend>| match result {
            Err(Backend("odd")) => Outcome::Ignored,
            Err(_) => Outcome::Failure,
            Ok(_) => Outcome::Success,
        })
        .layer(parity(Calls::default()));
    service.ready().await.unwrap().call(1).await.unwrap_err();
    service.ready().await.unwrap().call(2).await.unwrap();
    let metrics = registry.circuit_breaker("ignore").metrics();
    assert_eq!(
        metrics.number_of_failed_calls(),
        0,
        "the odd error was ignored"
    );
    assert_eq!(metrics.number_of_successful_calls(), 1);
}

#[test]
fn the_global_registry_is_resolved_once_when_the_layer_is_built() {
    let layer = CircuitBreakerLayer::new("tower-layers-global");
    assert!(
        layer
            .breaker()
            .ptr_eq(&Registry::global().circuit_breaker("tower-layers-global"))
    );
    let retry = RetryLayer::new("tower-layers-global");
    assert!(
        retry
            .retry()
            .ptr_eq(&Registry::global().retry("tower-layers-global"))
    );
}

/// Fails the first `failures` calls, then answers `Ok(attempt)`.
fn flaky(
    failures: usize,
    calls: Calls,
) -> impl Service<&'static str, Response = usize, Error = Backend, Future: Send> + Clone + Send + 'static
{
    service_fn(move |_: &'static str| {
        let attempt = calls.hit();
        async move {
            if attempt <= failures {
                Err(Backend("flaky"))
            } else {
                Ok(attempt)
            }
        }
    })
}

#[tokio::test(start_paused = true)]
async fn the_retry_layer_makes_attempts_and_waits_with_the_config() {
    let registry = Registry::new();
    let retry = registry.retry_with_config(
        "orders",
        RetryConfig::builder()
            .max_attempts(3)
            .wait_duration(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    let calls = Calls::default();
    let mut service = RetryLayer::from_retry(retry.clone()).layer(flaky(2, calls.clone()));

    let started = tokio::time::Instant::now();
    assert_eq!(service.ready().await.unwrap().call("get").await.unwrap(), 3);
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(200),
        "two waits of 100 ms"
    );
    assert_eq!(calls.count(), 3);
    assert_eq!(retry.metrics().successful_calls_with_retry_attempt, 1);

    // Exhausted: the last attempt's error, as it is.
    let calls = Calls::default();
    let mut service = RetryLayer::from_retry(retry.clone()).layer(flaky(10, calls.clone()));
    let error = service
        .ready()
        .await
        .unwrap()
        .call("get")
        .await
        .unwrap_err();
    assert_eq!(error.downcast_ref::<Backend>(), Some(&Backend("flaky")));
    assert_eq!(calls.count(), 3);
    assert_eq!(retry.metrics().failed_calls_with_retry_attempt, 1);

    // A first-attempt success: no wait.
    let started = tokio::time::Instant::now();
    let mut service = RetryLayer::from_retry(retry.clone()).layer(flaky(0, Calls::default()));
    service.ready().await.unwrap().call("get").await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(retry.metrics().successful_calls_without_retry_attempt, 1);
}

#[tokio::test(start_paused = true)]
async fn the_retry_layer_retries_responses_its_predicate_matches() {
    let registry = Registry::new();
    let statuses = Arc::new([503u16, 502, 200]);
    let backend = |calls: Calls, statuses: Arc<[u16; 3]>| {
        service_fn(move |_: ()| {
            let status = statuses[(calls.hit() - 1).min(2)];
            async move { Ok::<_, BoxError>(http_status(status)) }
        })
    };

    let retry = registry.retry_with_config(
        "http",
        RetryConfig::builder()
            .max_attempts(3)
            .wait_duration(Duration::from_millis(10))
            .build()
            .unwrap(),
    );
    let calls = Calls::default();
    let mut service = RetryLayer::from_retry(retry.clone())
        .retry_on_response(ServerErrors)
        .layer(backend(calls.clone(), statuses.clone()));
    let response = service.ready().await.unwrap().call(()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(calls.count(), 3);

    // Always 5xx, with fail_after_max_attempts: Resilience4j's MaxRetriesExceeded.
    let strict = registry.retry_with_config(
        "strict",
        RetryConfig::builder()
            .max_attempts(2)
            .wait_duration(Duration::from_millis(10))
            .fail_after_max_attempts(true)
            .build()
            .unwrap(),
    );
    let mut service = RetryLayer::from_retry(strict.clone())
        .retry_on_response(ServerErrors)
        .layer(backend(Calls::default(), Arc::new([503, 503, 503])));
    let error = service.ready().await.unwrap().call(()).await.unwrap_err();
    let exceeded = error
        .downcast_ref::<MaxRetriesExceeded>()
        .expect("max retries exceeded");
    assert_eq!(exceeded.attempts, 2);
    assert_eq!(strict.metrics().failed_calls_with_retry_attempt, 1);
}

/// Resilience4j's order, Retry(CircuitBreaker(service)), composed with `ServiceBuilder` and
/// boxed as tower stacks are: rejections come through as `BoxError`s the retry's predicate can
/// leave alone.
#[tokio::test(start_paused = true)]
async fn retry_around_the_breaker_composes_as_box_errors() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let breaker = registry.circuit_breaker_with_config("stack", small_window(&clock));
    let retry = registry.retry_with_config(
        "stack",
        RetryConfig::builder()
            .max_attempts(3)
            .wait_duration(Duration::from_millis(10))
            .retry_on_error(|e: &BoxError| !e.is::<CallNotPermitted>())
            .build()
            .unwrap(),
    );
    let calls = Calls::default();
    let service = ServiceBuilder::new()
        .layer(RetryLayer::from_retry(retry.clone()))
        .layer(CircuitBreakerLayer::from_breaker(breaker.clone()))
        .service(flaky(usize::MAX, calls.clone()));
    let mut service = tower::util::BoxCloneService::new(service);

    // Two failed attempts open the breaker; the third attempt is rejected and not retried.
    let error: BoxError = service
        .ready()
        .await
        .unwrap()
        .call("get")
        .await
        .unwrap_err();
    assert!(error.is::<CallNotPermitted>(), "{error}");
    assert_eq!(calls.count(), 2);
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(retry.metrics().failed_calls_without_retry_attempt, 1);

    async fn through(
        service: &mut tower::util::BoxCloneService<&'static str, usize, BoxError>,
    ) -> Result<usize, BoxError> {
        let answer = service.ready().await?.call("get").await?;
        Ok(answer)
    }
    assert!(
        through(&mut service)
            .await
            .unwrap_err()
            .is::<CallNotPermitted>()
    );
    assert_eq!(calls.count(), 2);
}

// ---------------------------------------------------------------------------------------------
// RateLimiterLayer
// ---------------------------------------------------------------------------------------------

/// `limit` permits per second counted on `clock` (which moves only when a test advances it);
/// callers wait on tokio's (paused) timer.
fn limits(clock: &ManualClock, limit: u32, timeout: Duration) -> RateLimiterConfig {
    RateLimiterConfig::builder()
        .limit_for_period(limit)
        .limit_refresh_period(Duration::from_secs(1))
        .timeout_duration(timeout)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn limiter_events(
    rx: &mut fusebox_runtime::rate_limiter::RateLimiterEventReceiver,
) -> Vec<&'static str> {
    rx.drain().into_iter().map(|e| e.kind.as_str()).collect()
}

fn available(limiter: &RateLimiter) -> i32 {
    limiter.metrics().available_permissions
}

#[tokio::test(start_paused = true)]
async fn the_rate_limiter_layer_permits_refuses_and_refreshes_with_the_cycles() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let limiter = registry.rate_limiter_with_config("rl", limits(&clock, 2, Duration::ZERO));
    let mut events = limiter.subscribe(16);
    let calls = Calls::default();
    let mut service = RateLimiterLayer::with_registry(&registry, "rl").layer(parity(calls.clone()));
    assert!(service.rate_limiter().ptr_eq(&limiter));

    // Readiness takes no permit.
    for _ in 0..5 {
        service.ready().await.unwrap();
    }
    assert_eq!(available(&limiter), 2);

    assert_eq!(service.ready().await.unwrap().call(2).await.unwrap(), 2);
    // The inner error is passed through unwrapped.
    let error = service.ready().await.unwrap().call(3).await.unwrap_err();
    assert_eq!(error.downcast_ref::<Backend>(), Some(&Backend("odd")));
    // The cycle is used up: refused at once (timeout 0), the inner service not called.
    let error = service.ready().await.unwrap().call(4).await.unwrap_err();
    let refused = error
        .downcast_ref::<RequestNotPermitted>()
        .expect("request not permitted");
    assert_eq!(&*refused.rate_limiter, "rl");
    assert_eq!(
        error.to_string(),
        "RateLimiter 'rl' does not permit further calls"
    );
    assert_eq!(calls.count(), 2);
    assert_eq!(
        limiter_events(&mut events),
        ["SUCCESSFUL_ACQUIRE", "SUCCESSFUL_ACQUIRE", "FAILED_ACQUIRE"]
    );

    // The next cycle refreshes to the limit (unused permits never carry over).
    clock.advance(Duration::from_secs(1));
    assert_eq!(service.ready().await.unwrap().call(6).await.unwrap(), 6);
    assert_eq!(available(&limiter), 1);
    clock.advance(Duration::from_secs(5));
    assert_eq!(available(&limiter), 2);
    assert_eq!(calls.count(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_call_waits_for_its_reserved_permit_before_the_inner_call() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let limiter =
        registry.rate_limiter_with_config("wait", limits(&clock, 1, Duration::from_secs(5)));
    let mut events = limiter.subscribe(16);
    let calls = Calls::default();
    // `service_fn` runs its closure in `call`: the count shows when the inner call is made.
    let mut service =
        RateLimiterLayer::from_rate_limiter(limiter.clone()).layer(parity(calls.clone()));
    clock.advance(Duration::from_millis(300));
    service.ready().await.unwrap().call(0).await.unwrap();

    let started = tokio::time::Instant::now();
    let future = service.ready().await.unwrap().call(2);
    let mut future = pin!(future);
    assert!(poll_once(future.as_mut()).is_pending());
    assert_eq!(calls.count(), 1, "not called before the permit is there");
    assert_eq!(limiter.metrics().number_of_waiting_threads, 1);
    assert_eq!(
        available(&limiter),
        -1,
        "the next cycle's permit is reserved"
    );
    assert_eq!(future.await.unwrap(), 2);
    // Waited until the next cycle: 1 s - 300 ms.
    assert_eq!(started.elapsed(), Duration::from_millis(700));
    assert_eq!(calls.count(), 2);
    assert_eq!(limiter.metrics().number_of_waiting_threads, 0);
    assert_eq!(
        limiter_events(&mut events),
        ["SUCCESSFUL_ACQUIRE", "SUCCESSFUL_ACQUIRE"]
    );
    // The service left behind is made ready again and serves the next call.
    clock.advance(Duration::from_secs(1));
    assert_eq!(service.ready().await.unwrap().call(4).await.unwrap(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_wait_beyond_the_timeout_reserves_nothing_and_is_refused_after_the_timeout() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let limiter =
        registry.rate_limiter_with_config("slowly", limits(&clock, 1, Duration::from_millis(400)));
    let mut events = limiter.subscribe(16);
    let calls = Calls::default();
    let mut service =
        RateLimiterLayer::from_rate_limiter(limiter.clone()).layer(parity(calls.clone()));
    service.ready().await.unwrap().call(0).await.unwrap();

    let started = tokio::time::Instant::now();
    let error = service.ready().await.unwrap().call(2).await.unwrap_err();
    assert!(error.is::<RequestNotPermitted>(), "{error}");
    // Resilience4j's caller waits out the timeout before it is refused.
    assert_eq!(started.elapsed(), Duration::from_millis(400));
    assert_eq!(calls.count(), 1);
    assert_eq!(available(&limiter), 0, "nothing reserved");
    assert_eq!(
        limiter_events(&mut events),
        ["SUCCESSFUL_ACQUIRE", "FAILED_ACQUIRE"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_waiting_call_keeps_its_reservation_and_publishes_failed_acquire() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let limiter =
        registry.rate_limiter_with_config("dropped", limits(&clock, 1, Duration::from_secs(5)));
    let mut events = limiter.subscribe(16);
    let calls = Calls::default();
    let mut service =
        RateLimiterLayer::from_rate_limiter(limiter.clone()).layer(parity(calls.clone()));
    service.ready().await.unwrap().call(0).await.unwrap();

    let mut future = Box::pin(service.ready().await.unwrap().call(2));
    assert!(poll_once(future.as_mut()).is_pending());
    assert_eq!(limiter.metrics().number_of_waiting_threads, 1);
    drop(future);
    assert_eq!(limiter.metrics().number_of_waiting_threads, 0);
    assert_eq!(available(&limiter), -1, "the reservation stays taken");
    assert_eq!(calls.count(), 1, "the inner service was never called");
    assert_eq!(
        limiter_events(&mut events),
        ["SUCCESSFUL_ACQUIRE", "FAILED_ACQUIRE"]
    );

    // Dropped even before its first poll: the same.
    let future = service.ready().await.unwrap().call(4);
    assert_eq!(limiter.metrics().number_of_waiting_threads, 1);
    drop(future);
    assert_eq!(limiter.metrics().number_of_waiting_threads, 0);
    assert_eq!(available(&limiter), -2);
    // A waiting caller's SUCCESSFUL_ACQUIRE comes after its wait, as Resilience4j's does.
    assert_eq!(limiter_events(&mut events), ["FAILED_ACQUIRE"]);

    // A running call dropped after its permit records nothing more.
    clock.advance(Duration::from_secs(3));
    let future = service.ready().await.unwrap().call(6);
    drop(future);
    assert_eq!(limiter_events(&mut events), ["SUCCESSFUL_ACQUIRE"]);
}

#[tokio::test(start_paused = true)]
async fn a_classified_response_drains_the_cycle() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let limiter = registry.rate_limiter_with_config("drain", limits(&clock, 5, Duration::ZERO));
    let mut events = limiter.subscribe(16);
    let calls = Calls::default();
    let backend = {
        let calls = calls.clone();
        service_fn(move |status: u16| {
            calls.hit();
            async move { Ok::<_, BoxError>(http_status(status)) }
        })
    };
    let mut service = RateLimiterLayer::from_rate_limiter(limiter.clone())
        .drain_on_response(TooManyRequests)
        .layer(backend);

    assert_eq!(
        service
            .ready()
            .await
            .unwrap()
            .call(503)
            .await
            .unwrap()
            .status(),
        503
    );
    assert_eq!(available(&limiter), 4, "a 503 does not drain");
    // The backend's own 429: returned as it is, and the rest of the cycle is drained.
    assert_eq!(
        service
            .ready()
            .await
            .unwrap()
            .call(429)
            .await
            .unwrap()
            .status(),
        429
    );
    assert_eq!(available(&limiter), 0);
    assert!(
        service
            .ready()
            .await
            .unwrap()
            .call(200)
            .await
            .unwrap_err()
            .is::<RequestNotPermitted>()
    );
    assert_eq!(calls.count(), 2);
    let kinds: Vec<_> = events.drain().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            RateLimiterEventKind::SuccessfulAcquire { permits: 1 },
            RateLimiterEventKind::SuccessfulAcquire { permits: 1 },
            RateLimiterEventKind::Drained { permits: 0 },
            RateLimiterEventKind::FailedAcquire { permits: 1 },
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_config_drain_predicate_applies_to_the_inner_result() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let config = limits(&clock, 5, Duration::ZERO)
        .to_builder()
        .drain_permissions_on_result(|result: &Result<u32, Backend>| result.is_err())
        .build()
        .unwrap();
    let limiter = registry.rate_limiter_with_config("config-drain", config);
    let mut service =
        RateLimiterLayer::from_rate_limiter(limiter.clone()).layer(parity(Calls::default()));
    service.ready().await.unwrap().call(2).await.unwrap();
    assert_eq!(available(&limiter), 4);
    service.ready().await.unwrap().call(3).await.unwrap_err();
    assert_eq!(
        available(&limiter),
        0,
        "the odd call's error drained the cycle"
    );

    // A closure over the whole result: here an `Ok` above 100.
    clock.advance(Duration::from_secs(1));
    let mut service = RateLimiterLayer::from_rate_limiter(limiter.clone())
        .drain_with(|result: &Result<u32, Backend>| matches!(result, Ok(n) if *n > 100))
        .layer(parity(Calls::default()));
    service.ready().await.unwrap().call(4).await.unwrap();
    assert_eq!(available(&limiter), 4);
    service.ready().await.unwrap().call(200).await.unwrap();
    assert_eq!(available(&limiter), 0);
}

// ---------------------------------------------------------------------------------------------
// TimeLimiterLayer
// ---------------------------------------------------------------------------------------------

/// Answers after `ms` milliseconds (tokio's timer): `Err(Backend)` for odd `ms`.
fn sleepy() -> impl Service<u64, Response = u64, Error = Backend, Future: Send> + Clone {
    service_fn(|ms: u64| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if ms.is_multiple_of(2) {
            Ok(ms)
        } else {
            Err(Backend("odd"))
        }
    })
}

fn time_limit(ms: u64) -> TimeLimiterConfig {
    TimeLimiterConfig::builder()
        .timeout_duration(Duration::from_millis(ms))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_time_limiter_layer_counts_success_error_and_timeout() {
    let registry = Registry::new();
    let limiter = registry.time_limiter_with_config("tl", time_limit(100));
    let mut events = limiter.subscribe(16);
    let mut service = TimeLimiterLayer::with_registry(&registry, "tl").layer(sleepy());
    assert!(service.time_limiter().ptr_eq(&limiter));

    // In time.
    assert_eq!(service.ready().await.unwrap().call(40).await.unwrap(), 40);
    let error = service.ready().await.unwrap().call(99).await.unwrap_err();
    assert_eq!(error.downcast_ref::<Backend>(), Some(&Backend("odd")));
    // The limit hit: the inner call is dropped at 100 ms.
    let started = tokio::time::Instant::now();
    let error = service.ready().await.unwrap().call(500).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    let timeout = error.downcast_ref::<TimeoutError>().expect("a timeout");
    assert_eq!(timeout.name(), "tl");

    let metrics = limiter.metrics();
    assert_eq!(
        (metrics.successful, metrics.failed, metrics.timeout),
        (1, 1, 1)
    );
    let kinds: Vec<_> = events.drain().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            TimeLimiterEventKind::Success,
            TimeLimiterEventKind::Error {
                error: "backend: odd".to_owned()
            },
            TimeLimiterEventKind::Timeout,
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_time_limiter_layer_counts_as_time_limiter_call_does() {
    let registry = Registry::new();
    let direct = registry.time_limiter_with_config("direct", time_limit(100));
    let layered = registry.time_limiter_with_config("layered", time_limit(100));
    let mut service = TimeLimiterLayer::from_time_limiter(layered.clone()).layer(sleepy());
    for ms in [0, 1, 98, 99, 100, 101, 250] {
        let by_call = direct.call(sleepy().oneshot(ms)).await;
        let by_layer = service.ready().await.unwrap().call(ms).await;
        assert_eq!(by_call.is_ok(), by_layer.is_ok(), "{ms} ms");
    }
    assert_eq!(direct.metrics(), layered.metrics());
    assert_eq!(layered.metrics().timeout, 2);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_time_limited_call_counts_nothing_and_a_panic_is_an_error() {
    let registry = Registry::new();
    let limiter = registry.time_limiter_with_config("cancel", time_limit(100));
    let mut events = limiter.subscribe(16);
    let mut service = TimeLimiterLayer::from_time_limiter(limiter.clone()).layer(sleepy());
    let mut future = Box::pin(service.ready().await.unwrap().call(50));
    assert!(poll_once(future.as_mut()).is_pending());
    drop(future);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(limiter.metrics(), Default::default());
    assert!(events.try_recv().is_none());

    let mut panicking = TimeLimiterLayer::from_time_limiter(limiter.clone()).layer(service_fn(
        |explode: bool| async move {
            assert!(!explode, "the backend panicked");
            Ok::<_, Backend>(())
        },
    ));
    let future = panicking.ready().await.unwrap().call(true);
    assert!(tokio::spawn(future).await.unwrap_err().is_panic());
    assert_eq!(limiter.metrics().failed, 1);
    assert_eq!(
        events.try_recv().map(|e| e.kind),
        Some(TimeLimiterEventKind::Error {
            error: "panicked".to_owned()
        })
    );
}

#[test]
fn the_rate_and_time_limiter_layers_resolve_the_global_registry_once() {
    let layer = RateLimiterLayer::new("tower-layers-global");
    assert!(
        layer
            .rate_limiter()
            .ptr_eq(&Registry::global().rate_limiter("tower-layers-global"))
    );
    let layer = TimeLimiterLayer::new("tower-layers-global");
    assert!(
        layer
            .time_limiter()
            .ptr_eq(&Registry::global().time_limiter("tower-layers-global"))
    );
}

// ---------------------------------------------------------------------------------------------
// BulkheadLayer
// ---------------------------------------------------------------------------------------------

fn slots(max: u32, wait: Duration) -> BulkheadConfig {
    BulkheadConfig::builder()
        .max_concurrent_calls(max)
        .max_wait_duration(wait)
        .build()
        .unwrap()
}

fn free(bulkhead: &Bulkhead) -> u32 {
    bulkhead.metrics().available_concurrent_calls
}

fn bulkhead_events(
    rx: &mut fusebox_runtime::bulkhead::BulkheadEventReceiver,
) -> Vec<BulkheadEventKind> {
    rx.drain().into_iter().map(|e| e.kind).collect()
}

use BulkheadEventKind::{CallFinished, CallPermitted, CallRejected};

#[tokio::test(start_paused = true)]
async fn the_bulkhead_layer_permits_and_rejects_a_full_bulkhead_without_the_inner_call() {
    let registry = Registry::new();
    let bulkhead = registry.bulkhead_with_config("bh", slots(1, Duration::ZERO));
    let mut events = bulkhead.subscribe(16);
    let calls = Calls::default();
    let mut service = BulkheadLayer::with_registry(&registry, "bh").layer(parity(calls.clone()));
    assert!(service.bulkhead().ptr_eq(&bulkhead));

    // Readiness takes no slot: clones made ready and dropped hold nothing.
    for _ in 0..5 {
        service.clone().ready().await.unwrap();
    }
    assert_eq!(free(&bulkhead), 1);

    assert_eq!(service.ready().await.unwrap().call(2).await.unwrap(), 2);
    // The inner error is passed through unwrapped, and the slot is back.
    let error = service.ready().await.unwrap().call(3).await.unwrap_err();
    assert_eq!(error.downcast_ref::<Backend>(), Some(&Backend("odd")));
    assert_eq!(free(&bulkhead), 1);
    assert_eq!(
        bulkhead_events(&mut events),
        [CallPermitted, CallFinished, CallPermitted, CallFinished]
    );

    // Full, max_wait_duration 0: rejected at once, the inner service not called.
    let held = bulkhead.try_acquire_permission().unwrap();
    let started = tokio::time::Instant::now();
    let error = service.ready().await.unwrap().call(4).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO);
    let full = error.downcast_ref::<BulkheadFull>().expect("bulkhead full");
    assert_eq!(&*full.bulkhead, "bh");
    assert_eq!(
        error.to_string(),
        "Bulkhead 'bh' is full and does not permit further calls"
    );
    assert_eq!(calls.count(), 2);
    drop(held);
    assert_eq!(
        bulkhead_events(&mut events),
        [CallPermitted, CallRejected, CallFinished]
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_waits_for_a_slot_then_is_permitted_or_rejected_after_max_wait_duration() {
    let registry = Registry::new();
    let bulkhead = registry.bulkhead_with_config("wait", slots(1, Duration::from_millis(100)));
    let mut events = bulkhead.subscribe(16);
    let calls = Calls::default();
    let mut service = BulkheadLayer::from_bulkhead(bulkhead.clone()).layer(parity(calls.clone()));

    // A slot given back within the wait: the call gets it, then calls the inner service.
    let held = bulkhead.try_acquire_permission().unwrap();
    let started = tokio::time::Instant::now();
    let mut waiting = Box::pin(service.ready().await.unwrap().call(2));
    assert!(poll_once(waiting.as_mut()).is_pending());
    tokio::time::sleep(Duration::from_millis(40)).await;
    assert!(poll_once(waiting.as_mut()).is_pending());
    assert_eq!(
        calls.count(),
        0,
        "the inner service is called once a slot is there"
    );
    drop(held);
    assert_eq!(waiting.await.unwrap(), 2);
    assert_eq!(started.elapsed(), Duration::from_millis(40));
    assert_eq!(calls.count(), 1);
    assert_eq!(free(&bulkhead), 1);

    // Still full after max_wait_duration: rejected then, the inner service not called.
    let held = bulkhead.try_acquire_permission().unwrap();
    let started = tokio::time::Instant::now();
    let error = service.ready().await.unwrap().call(4).await.unwrap_err();
    assert!(error.is::<BulkheadFull>(), "{error}");
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    assert_eq!(calls.count(), 1);
    drop(held);
    assert_eq!(
        bulkhead_events(&mut events),
        [
            CallPermitted,
            CallFinished,
            CallPermitted,
            CallFinished,
            CallPermitted,
            CallRejected,
            CallFinished
        ]
    );

    // The service made ready moved into the waiting future; the one left behind still works.
    assert_eq!(service.ready().await.unwrap().call(6).await.unwrap(), 6);
}

#[tokio::test(start_paused = true)]
async fn the_slot_is_held_until_the_response_completes_and_a_dropped_future_gives_it_back() {
    let registry = Registry::new();
    let bulkhead = registry.bulkhead_with_config("held", slots(1, Duration::from_secs(1)));
    let mut events = bulkhead.subscribe(16);
    let mut service = BulkheadLayer::from_bulkhead(bulkhead.clone()).layer(sleepy());

    // Held while the inner response future runs, given back when it completes.
    let mut running = Box::pin(service.ready().await.unwrap().call(200));
    assert!(poll_once(running.as_mut()).is_pending());
    assert_eq!(free(&bulkhead), 0);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(free(&bulkhead), 0);
    assert_eq!(bulkhead_events(&mut events), [CallPermitted]);
    assert_eq!(running.await.unwrap(), 200);
    assert_eq!(free(&bulkhead), 1);
    assert_eq!(bulkhead_events(&mut events), [CallFinished]);

    // A response future dropped while the inner call runs (a cancelled call) gives it back.
    let mut running = Box::pin(service.ready().await.unwrap().call(200));
    assert!(poll_once(running.as_mut()).is_pending());
    // One dropped while it waits leaves the queue: no slot, nothing published.
    let mut waiting = Box::pin(service.ready().await.unwrap().call(2));
    assert!(poll_once(waiting.as_mut()).is_pending());
    drop(waiting);
    assert_eq!(free(&bulkhead), 0);
    drop(running);
    assert_eq!(free(&bulkhead), 1);
    assert_eq!(bulkhead_events(&mut events), [CallPermitted, CallFinished]);
    // The dropped waiter is out of the queue: the next call is permitted at once.
    let started = tokio::time::Instant::now();
    assert_eq!(service.ready().await.unwrap().call(0).await.unwrap(), 0);
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_call_gives_its_slot_back() {
    let registry = Registry::new();
    let bulkhead = registry.bulkhead_with_config("panic", slots(1, Duration::ZERO));
    let mut events = bulkhead.subscribe(16);
    let mut service = BulkheadLayer::from_bulkhead(bulkhead.clone()).layer(service_fn(
        |explode: bool| async move {
            assert!(!explode, "the backend panicked");
            Ok::<_, Backend>(())
        },
    ));
    let future = service.ready().await.unwrap().call(true);
    assert!(tokio::spawn(future).await.unwrap_err().is_panic());
    assert_eq!(free(&bulkhead), 1);
    assert_eq!(bulkhead_events(&mut events), [CallPermitted, CallFinished]);
    service.ready().await.unwrap().call(false).await.unwrap();
}

#[test]
fn the_bulkhead_layer_resolves_the_global_registry_once() {
    let layer = BulkheadLayer::new("tower-layers-global");
    assert!(
        layer
            .bulkhead()
            .ptr_eq(&Registry::global().bulkhead("tower-layers-global"))
    );
}

// ---------------------------------------------------------------------------------------------
// All four and all five, in Resilience4j's order
// ---------------------------------------------------------------------------------------------

/// Retry(CircuitBreaker(RateLimiter(TimeLimiter(service)))) in one `ServiceBuilder`: a slow first
/// attempt times out and is retried; once the rate limiter's cycle is used up, its refusals are
/// failures for the breaker (as Resilience4j records `RequestNotPermitted`) and are retried.
#[tokio::test(start_paused = true)]
async fn the_four_layers_compose_in_resilience4j_s_order() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let retry = registry.retry_with_config(
        "all",
        RetryConfig::builder()
            .max_attempts(3)
            .wait_duration(Duration::from_millis(10))
            .build()
            .unwrap(),
    );
    let breaker = registry.circuit_breaker("all");
    let limiter = registry.rate_limiter_with_config("all", limits(&clock, 2, Duration::ZERO));
    let time_limiter = registry.time_limiter_with_config("all", time_limit(1000));
    let calls = Calls::default();
    let backend = {
        let calls = calls.clone();
        service_fn(move |request: &'static str| {
            let attempt = calls.hit();
            async move {
                if attempt == 1 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Ok::<_, BoxError>((request, attempt))
            }
        })
    };
    let mut client = ServiceBuilder::new()
        .layer(RetryLayer::with_registry(&registry, "all"))
        .layer(CircuitBreakerLayer::with_registry(&registry, "all"))
        .layer(RateLimiterLayer::with_registry(&registry, "all"))
        .layer(TimeLimiterLayer::with_registry(&registry, "all"))
        .service(backend);

    let started = tokio::time::Instant::now();
    let answer = client.ready().await.unwrap().call("get").await.unwrap();
    assert_eq!(answer, ("get", 2));
    // The first attempt's time limit, then the retry's wait.
    assert_eq!(started.elapsed(), Duration::from_millis(1010));
    let tl = time_limiter.metrics();
    assert_eq!((tl.successful, tl.timeout), (1, 1));
    let cb = breaker.metrics();
    assert_eq!(
        (cb.number_of_successful_calls(), cb.number_of_failed_calls()),
        (1, 1)
    );
    assert_eq!(available(&limiter), 0, "one permit per attempt");
    assert_eq!(retry.metrics().successful_calls_with_retry_attempt, 1);

    // The cycle is used up: every attempt is refused before the time limiter and the backend.
    let error = client.ready().await.unwrap().call("get").await.unwrap_err();
    assert!(error.is::<RequestNotPermitted>(), "{error}");
    assert_eq!(calls.count(), 2);
    assert_eq!(breaker.metrics().number_of_failed_calls(), 1 + 3);
    assert_eq!(retry.metrics().failed_calls_with_retry_attempt, 1);
    assert_eq!(time_limiter.metrics().successful, 1);
}

/// Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(service))))) in one `ServiceBuilder`:
/// the slot is held during the inner call only; while the bulkhead is full, its rejections are
/// errors for the time limiter, failures for the breaker and are retried, each attempt taking a
/// rate-limiter permit.
#[tokio::test(start_paused = true)]
async fn the_five_layers_compose_in_resilience4j_s_order() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let retry = registry.retry_with_config(
        "five",
        RetryConfig::builder()
            .max_attempts(3)
            .wait_duration(Duration::from_millis(10))
            .build()
            .unwrap(),
    );
    let breaker = registry.circuit_breaker("five");
    let limiter = registry.rate_limiter_with_config("five", limits(&clock, 10, Duration::ZERO));
    let time_limiter = registry.time_limiter_with_config("five", time_limit(1000));
    let bulkhead = registry.bulkhead_with_config("five", slots(1, Duration::ZERO));
    let calls = Calls::default();
    let backend = {
        let calls = calls.clone();
        let bulkhead = bulkhead.clone();
        service_fn(move |request: &'static str| {
            calls.hit();
            // The slot is taken for the inner call.
            let free_during_call = free(&bulkhead);
            async move { Ok::<_, BoxError>((request, free_during_call)) }
        })
    };
    let mut client = ServiceBuilder::new()
        .layer(RetryLayer::with_registry(&registry, "five"))
        .layer(CircuitBreakerLayer::with_registry(&registry, "five"))
        .layer(RateLimiterLayer::with_registry(&registry, "five"))
        .layer(TimeLimiterLayer::with_registry(&registry, "five"))
        .layer(BulkheadLayer::with_registry(&registry, "five"))
        .service(backend);

    assert_eq!(
        client.ready().await.unwrap().call("get").await.unwrap(),
        ("get", 0)
    );
    assert_eq!(free(&bulkhead), 1);

    // The bulkhead is full: every attempt is rejected before the backend.
    let held = bulkhead.try_acquire_permission().unwrap();
    let started = tokio::time::Instant::now();
    let error = client.ready().await.unwrap().call("get").await.unwrap_err();
    assert!(error.is::<BulkheadFull>(), "{error}");
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(20),
        "two retry waits"
    );
    assert_eq!(calls.count(), 1);
    assert_eq!(time_limiter.metrics().failed, 3);
    let cb = breaker.metrics();
    assert_eq!(
        (cb.number_of_successful_calls(), cb.number_of_failed_calls()),
        (1, 3)
    );
    assert_eq!(available(&limiter), 10 - 4, "one permit per attempt");
    assert_eq!(retry.metrics().failed_calls_with_retry_attempt, 1);
    drop(held);
    assert_eq!(
        client.ready().await.unwrap().call("again").await.unwrap(),
        ("again", 0)
    );
}

// ---------------------------------------------------------------------------------------------
// The permitted path allocates nothing
// ---------------------------------------------------------------------------------------------

/// Counts the allocations of the current thread (the test's current-thread runtime runs its
/// futures on it; other tests' threads do not count).
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn allocations() -> usize {
    ALLOCATIONS.with(|n| n.get())
}

#[tokio::test]
async fn a_permitted_call_through_the_rate_and_time_limiter_layers_allocates_nothing() {
    let registry = Registry::new();
    let permits = RateLimiterConfig::builder()
        .limit_for_period(1_000_000)
        .limit_refresh_period(Duration::from_secs(60))
        .timeout_duration(Duration::ZERO)
        .build()
        .unwrap();
    let limiter = registry.rate_limiter_with_config("no-alloc", permits);
    let _events = limiter.subscribe(1); // a subscriber: events are built, and still no allocation
    let mut limited = RateLimiterLayer::from_rate_limiter(limiter).layer(parity(Calls::default()));
    let mut timed = TimeLimiterLayer::from_time_limiter(
        registry.time_limiter_with_config("no-alloc", time_limit(1000)),
    )
    .layer(parity(Calls::default()));
    // Warm up (thread-local stripes, the timer's first use).
    limited.ready().await.unwrap().call(2).await.unwrap();
    timed.ready().await.unwrap().call(2).await.unwrap();

    let before = allocations();
    for request in 0..100u32 {
        let request = request * 2;
        assert_eq!(
            limited.ready().await.unwrap().call(request).await.unwrap(),
            request
        );
        assert_eq!(
            timed.ready().await.unwrap().call(request).await.unwrap(),
            request
        );
    }
    assert_eq!(allocations() - before, 0);
    // The counter does count this thread's allocations.
    drop(std::hint::black_box(Box::new(0u64)));
    assert_eq!(allocations() - before, 1);
}

#[tokio::test]
async fn a_permitted_call_through_the_bulkhead_layer_allocates_nothing() {
    let registry = Registry::new();
    let bulkhead = registry.bulkhead_with_config("no-alloc", slots(4, Duration::from_secs(1)));
    let _events = bulkhead.subscribe(1); // a subscriber: events are built, and still no allocation
    let mut bounded =
        BulkheadLayer::from_bulkhead(bulkhead.clone()).layer(parity(Calls::default()));
    bounded.ready().await.unwrap().call(2).await.unwrap();

    let before = allocations();
    for request in 0..100u32 {
        let request = request * 2;
        assert_eq!(
            bounded.ready().await.unwrap().call(request).await.unwrap(),
            request
        );
    }
    assert_eq!(allocations() - before, 0);
    assert_eq!(free(&bulkhead), 4);
    // The counter does count this thread's allocations.
    drop(std::hint::black_box(Box::new(0u64)));
    assert_eq!(allocations() - before, 1);
}
