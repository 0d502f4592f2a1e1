//! The resilience patterns as [tower](https://docs.rs/tower) layers (feature `tower`), over the
//! same registry, config files, events and metrics as the attributes: a tonic, hyper, axum or
//! reqwest-middleware stack gets Resilience4j's behaviour without attributes.
//!
//! * [`CircuitBreakerLayer`]: a registry's circuit breaker, with a classifier for responses that
//!   count as failures (an HTTP 5xx: [`ServerErrors`]; a gRPC status: a closure on the
//!   response);
//! * [`RetryLayer`]: a registry's retry, also retrying responses a predicate matches.
//!
//! ```
//! use fusebox_runtime::tower::{CircuitBreakerLayer, RetryLayer, ServerErrors};
//! use fusebox_runtime::{CallNotPermitted, Registry};
//! use tower::{BoxError, Service, ServiceBuilder, ServiceExt};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let registry = Registry::new();
//! // The backend: any tower service (here, one that fails).
//! let backend = tower::service_fn(|request: http::Request<()>| async move {
//!     let _ = request;
//!     Ok::<_, BoxError>(http::Response::builder().status(503).body(()).unwrap())
//! });
//! // Retry(CircuitBreaker(backend)), Resilience4j's order; a 5xx counts as a failure, and is
//! // retried; rejections by the breaker are not retried.
//! let mut client = ServiceBuilder::new()
//!     .layer(RetryLayer::with_registry(&registry, "orders").retry_on_response(ServerErrors))
//!     .layer(CircuitBreakerLayer::with_registry(&registry, "orders").classify_response(ServerErrors))
//!     .service(backend);
//! let response = client.ready().await?.call(http::Request::new(())).await?;
//! assert_eq!(response.status(), 503); // the last attempt's response (no fail_after_max_attempts)
//! assert_eq!(registry.circuit_breaker("orders").metrics().number_of_failed_calls(), 3);
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
//! # Errors
//!
//! The layers' services return [`BoxError`] (tower's `timeout`, `load_shed` and `buffer`
//! convention): the inner service's error as it is (not wrapped, so it can be downcast to its
//! own type), or the layer's own error, [`CallNotPermitted`](crate::CallNotPermitted),
//! [`TimeoutError`](crate::TimeoutError) or
//! [`MaxRetriesExceeded`](crate::retry::MaxRetriesExceeded). Inner errors must be
//! `Into<BoxError>`.
//!
//! # Cost
//!
//! A permitted call through [`CircuitBreakerLayer`] is the breaker's lock-free acquire and
//! record plus one reference-count increment (the response future owns a breaker handle, as any
//! `'static` tower future must); the future is not boxed. [`RetryLayer`]'s future is boxed (the
//! retry loop is an `async fn`), and needs `Send` services, futures, requests and responses.
//!
//! # Files
//!
//! One pattern per file: `circuit_breaker.rs`, `retry.rs`; the classifiers in `classify.rs`.
//! The bulkhead, rate limiter and time limiter get one file each when their runtimes land.

mod circuit_breaker;
mod classify;
mod retry;

pub use circuit_breaker::{CircuitBreakerLayer, CircuitBreakerService, ResponseFuture};
pub use classify::{
    Classify, ClassifyFn, DefaultClassifier, NoResponses, ResponseClassifier, ResponsePredicate,
    ServerErrors,
};
pub use retry::{RetryFuture, RetryLayer, RetryService};

/// The error type of the layers' services (tower's `BoxError`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
