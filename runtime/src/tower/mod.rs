//! The resilience patterns as [tower](https://docs.rs/tower) layers (feature `tower`), over the
//! same registry, config files, events and metrics as the attributes: a tonic, hyper, axum or
//! reqwest-middleware stack gets Resilience4j's behaviour without attributes.
//!
//! * [`CircuitBreakerLayer`]: a registry's circuit breaker, with a classifier for responses that
//!   count as failures (an HTTP 5xx: [`ServerErrors`]; a gRPC status: a closure on the
//!   response);
//! * [`RetryLayer`]: a registry's retry, also retrying responses a predicate matches;
//! * [`RateLimiterLayer`]: a registry's rate limiter (Resilience4j's `AtomicRateLimiter`),
//!   draining on results a predicate matches (an HTTP 429: [`TooManyRequests`]);
//! * [`TimeLimiterLayer`]: a registry's time limiter;
//! * [`BulkheadLayer`]: a registry's bulkhead (Resilience4j's semaphore `Bulkhead`).
//!
//! Stacked in Resilience4j's aspect order,
//! Retry(CircuitBreaker(RateLimiter(TimeLimiter(Bulkhead(call))))), the first layer of a
//! `ServiceBuilder` being the outermost:
//!
//! ```
//! use fusebox_runtime::tower::{
//!     BulkheadLayer, CircuitBreakerLayer, RateLimiterLayer, RetryLayer, ServerErrors,
//!     TimeLimiterLayer, TooManyRequests,
//! };
//! use fusebox_runtime::Registry;
//! use tower::{BoxError, Service, ServiceBuilder, ServiceExt};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! let registry = Registry::new();
//! // The backend: any tower service (here, one that answers 503).
//! let backend = tower::service_fn(|request: http::Request<()>| async move {
//!     let _ = request;
//!     Ok::<_, BoxError>(http::Response::builder().status(503).body(()).unwrap())
//! });
//! let mut client = ServiceBuilder::new()
//!     // A 5xx is retried (3 attempts, the default)...
//!     .layer(RetryLayer::with_registry(&registry, "orders").retry_on_response(ServerErrors))
//!     // ...and counts as a failure; a breaker rejection is not retried.
//!     .layer(CircuitBreakerLayer::with_registry(&registry, "orders").classify_response(ServerErrors))
//!     // One permit per attempt; a 429 would drain the cycle.
//!     .layer(RateLimiterLayer::with_registry(&registry, "orders").drain_on_response(TooManyRequests))
//!     // Each attempt may take 1 s (the default).
//!     .layer(TimeLimiterLayer::with_registry(&registry, "orders"))
//!     // At most 25 attempts at once (the default), each holding its slot until it answers.
//!     .layer(BulkheadLayer::with_registry(&registry, "orders"))
//!     .service(backend);
//! let response = client.ready().await?.call(http::Request::new(())).await?;
//! assert_eq!(response.status(), 503); // the last attempt's response (no fail_after_max_attempts)
//! assert_eq!(registry.circuit_breaker("orders").metrics().number_of_failed_calls(), 3);
//! // Each attempt answered in time: the time limiter saw 3 successes.
//! assert_eq!(registry.time_limiter("orders").metrics().successful, 3);
//! // Every slot is back.
//! assert_eq!(registry.bulkhead("orders").metrics().available_concurrent_calls, 25);
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! ```
//!
//! # When the breaker is asked
//!
//! [`CircuitBreakerService`]'s `poll_ready` is the inner service's readiness only; permission
//! is taken in `call`, right before the inner call, as Resilience4j's decorators take it. Taking
//! it in `poll_ready` (tower's way of reserving capacity) would hold a HALF_OPEN probe permit
//! in every service clone that was made ready and then dropped or left idle (axum and hyper
//! clone services per connection and request), and would judge the call by the state at
//! readiness time rather than at call time. An OPEN breaker therefore rejects at once instead of
//! applying backpressure: the call's future fails with [`CallNotPermitted`](crate::CallNotPermitted)
//! without calling the inner service, as tower-resilience's circuit breaker and Resilience4j do.
//!
//! A permitted call is timed by the breaker's clock, runs under the breaker's `timeout` if its
//! config has one (tokio's timer: a [`TimeoutError`](crate::TimeoutError), recorded as a
//! failure, the inner future dropped), and is recorded as the classifier says. A response
//! future dropped before it ends records nothing and gives the permission back (a HALF_OPEN
//! probe is not lost), and one dropped during a panic records a failure: exactly what the
//! `#[circuit_breaker]` attribute does with a cancelled or panicking call.
//!
//! # When the rate limiter is asked
//!
//! [`RateLimiterService`] takes its permit in `call`, as Resilience4j's decorators call
//! `acquirePermission` right before the call, and as tower-resilience's rate limiter does by
//! default; `poll_ready` is the inner service's readiness only. tower's own `RateLimit` (and
//! tower-resilience's `backpressure()` mode) take it in `poll_ready` instead and answer
//! `Pending` until the next period. fusebox does not, because an `AtomicRateLimiter` permit is
//! never given back: a permit taken by a service clone that was made ready and then dropped or
//! left idle (hyper and axum clone services per connection, `Balance` polls every endpoint) would
//! be lost to the cycle, and the config's `timeout_duration` (wait at most this long, then
//! refuse) would have no meaning. So:
//!
//! * a permit left in the cycle: the inner service is called at once (nothing cloned, nothing
//!   allocated);
//! * a permit of a coming cycle within `timeout_duration`: it is reserved now, and the response
//!   future waits for it (on the config's sleeper, tokio's timer by default) before it calls
//!   the inner service. The service made ready moves into the future with the request
//!   (`S: Clone`: a clone stays behind, as in tower's `retry`), so a service that sends in
//!   `call` does not send early;
//! * otherwise the response future waits out `timeout_duration` (at once with the usual 0)
//!   and fails with [`RequestNotPermitted`](crate::rate_limiter::RequestNotPermitted), the
//!   inner service not called.
//!
//! A response future dropped while it waits keeps its reservation and publishes
//! FAILED_ACQUIRE, exactly as a cancelled [`RateLimiter::acquire_permission`](crate::rate_limiter::RateLimiter::acquire_permission).
//!
//! # When the bulkhead is asked
//!
//! [`BulkheadService`] takes its slot in `call`, as Resilience4j's decorators call
//! `acquirePermission` right before the call; `poll_ready` is the inner service's readiness
//! only. tower's own `ConcurrencyLimit` takes its semaphore permit in `poll_ready` instead (and
//! answers `Pending` while the limit is reached, with no bound on the wait); fusebox does not,
//! because a slot taken by a service clone that was made ready and then dropped or left idle
//! (hyper and axum clone services per connection, `Balance` polls every endpoint) would be held
//! from the calls that need it, and the config's `max_wait_duration` (wait at most this long,
//! then reject) would have no meaning. So:
//!
//! * a free slot: the inner service is called at once (nothing cloned, nothing allocated; the
//!   response future owns an [`OwnedBulkheadPermit`](crate::bulkhead::OwnedBulkheadPermit), one
//!   reference-count increment);
//! * the bulkhead is full and `max_wait_duration` is not 0: the response future waits for a
//!   slot, in arrival order, up to `max_wait_duration` (tokio's timer) before it calls the inner
//!   service. The service made ready moves into the future with the request (`S: Clone`: a
//!   clone stays behind, as in tower's `retry` and the rate limiter's wait), so a service that
//!   sends in `call` does not send early. The wait is boxed (an async block under tokio's
//!   timeout, which cannot be named): only a call that waits allocates;
//! * otherwise the response future fails with [`BulkheadFull`](crate::bulkhead::BulkheadFull)
//!   (CALL_REJECTED), the inner service not called.
//!
//! The slot is held until the inner response future completes, and given back (CALL_FINISHED)
//! when it does, when the response future is dropped (a cancelled call) or when the inner call
//! panics: exactly what [`Bulkhead::call`](crate::bulkhead::Bulkhead::call) and the `#[bulkhead]`
//! attribute do. A response future dropped while it waits leaves the queue, takes no slot and
//! publishes nothing, as a cancelled [`Bulkhead::acquire_permission`](crate::bulkhead::Bulkhead::acquire_permission).
//!
//! # The time limit
//!
//! [`TimeLimiterService`] runs the inner call under the time limiter's `timeout_duration`
//! (tokio's timer, the mechanism the breaker's `timeout` and [`TimeLimiter::call`](crate::time_limiter::TimeLimiter::call)
//! use) and counts SUCCESS, ERROR or TIMEOUT as [`TimeLimiter::call`](crate::time_limiter::TimeLimiter::call)
//! does; a dropped response future counts nothing, a panicking inner call an ERROR. Like
//! [`TimeLimiter::call`](crate::time_limiter::TimeLimiter::call), the layer needs a tokio
//! runtime with the time driver, and ignores `cancel_running_future` (the inner future runs
//! only while polled, so on timeout it is dropped).
//!
//! # Errors
//!
//! The layers' services return [`BoxError`] (tower's `timeout`, `load_shed` and `buffer`
//! convention): the inner service's error as it is (not wrapped, so it can be downcast to its
//! own type), or the layer's own error, [`CallNotPermitted`](crate::CallNotPermitted),
//! [`TimeoutError`](crate::TimeoutError) (the breaker's `timeout` or the time limiter's),
//! [`RequestNotPermitted`](crate::rate_limiter::RequestNotPermitted),
//! [`BulkheadFull`](crate::bulkhead::BulkheadFull) or
//! [`MaxRetriesExceeded`](crate::retry::MaxRetriesExceeded). Inner errors must be
//! `Into<BoxError>`.
//!
//! # Cost
//!
//! A permitted call through [`CircuitBreakerLayer`] is the breaker's lock-free acquire and
//! record plus one reference-count increment (the response future owns a breaker handle, as any
//! `'static` tower future must); the future is not boxed. [`RetryLayer`]'s future is boxed (the
//! retry loop is an `async fn`), and needs `Send` services, futures, requests and responses.
//! A call through [`RateLimiterLayer`] with a permit left is the limiter's lock-free acquire
//! and one reference-count increment, its future not boxed (a wait allocates its sleep); one
//! through [`TimeLimiterLayer`] is a `tokio::time::Timeout` and one reference-count increment;
//! one through [`BulkheadLayer`] with a free slot is the semaphore's acquire and release and one
//! reference-count increment, its future not boxed (a wait allocates its boxed acquire).
//!
//! # Files
//!
//! One pattern per file: `circuit_breaker.rs`, `retry.rs`, `rate_limiter.rs`,
//! `time_limiter.rs`, `bulkhead.rs`; the classifiers in `classify.rs`.

mod bulkhead;
mod circuit_breaker;
mod classify;
mod rate_limiter;
mod retry;
mod time_limiter;

pub use bulkhead::{BulkheadFuture, BulkheadLayer, BulkheadService};
pub use circuit_breaker::{CircuitBreakerLayer, CircuitBreakerService, ResponseFuture};
pub use classify::{
    Classify, ClassifyFn, DefaultClassifier, NoResponses, ResponseClassifier, ResponsePredicate,
    ServerErrors, TooManyRequests,
};
pub use rate_limiter::{
    ConfigDrain, Drain, DrainFn, DrainOnResponse, RateLimitedFuture, RateLimiterLayer,
    RateLimiterService,
};
pub use retry::{RetryFuture, RetryLayer, RetryService};
pub use time_limiter::{TimeLimitedFuture, TimeLimiterLayer, TimeLimiterService};

/// The error type of the layers' services (tower's `BoxError`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
