//! The tower layers (feature `tower`): the circuit breaker and the retry as `tower::Layer`s over
//! a registry's breakers and retries. Plain `service_fn` services, tokio's paused time, no
//! network.

use fusebox_runtime::retry::{MaxRetriesExceeded, RetryConfig};
use fusebox_runtime::tower::{CircuitBreakerLayer, RetryLayer, ServerErrors};
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
