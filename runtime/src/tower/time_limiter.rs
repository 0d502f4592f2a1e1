//! [`TimeLimiterLayer`]: a registry's time limiter around a tower service.

use super::BoxError;
use crate::registry::Registry;
use crate::time_limiter::{PanicGuard, TimeLimiter, TimeLimiterError, within};
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tower_layer::Layer;
use tower_service::Service;

/// A [`Layer`] that limits how long a service's calls may take, with a [`TimeLimiter`] of a
/// [`Registry`]: its `timeout_duration`, events (SUCCESS, ERROR, TIMEOUT) and counters are
/// those of the time limiter of that name, and a call through the layer counts exactly as one
/// through [`TimeLimiter::call`]. The time limiter is resolved once, when the layer is built.
///
/// The limit starts when the layer's `call` is made (the inner service's `call` included) and
/// runs on tokio's timer, the same mechanism as [`TimeLimiter::call`] and the circuit
/// breaker's `timeout`. On timeout the inner response future is dropped and the caller gets a
/// [`TimeoutError`](crate::TimeoutError) naming the time limiter; as with
/// [`TimeLimiter::call`], `cancel_running_future` does not apply (the inner future runs only
/// while the layer's future polls it). Inner errors pass through unwrapped.
///
/// ```
/// use fusebox_runtime::time_limiter::TimeLimiterConfig;
/// use fusebox_runtime::tower::TimeLimiterLayer;
/// use fusebox_runtime::Registry;
/// use std::time::Duration;
///
/// let registry = Registry::new();
/// let limiter = registry.time_limiter_with_config(
///     "orders",
///     TimeLimiterConfig::builder().timeout_duration(Duration::from_millis(250)).build()?,
/// );
/// let layer = TimeLimiterLayer::from_time_limiter(limiter);
/// assert_eq!(layer.time_limiter().config().timeout_duration(), Duration::from_millis(250));
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TimeLimiterLayer {
    limiter: TimeLimiter,
}

impl TimeLimiterLayer {
    /// The time limiter `name` of the [global registry](Registry::global) (created on first use
    /// with the config the global config file gives it).
    pub fn new(name: &str) -> Self {
        Self::from_time_limiter(Registry::global().time_limiter(name))
    }

    /// The time limiter `name` of `registry`.
    pub fn with_registry(registry: &Registry, name: &str) -> Self {
        Self::from_time_limiter(registry.time_limiter(name))
    }

    /// Limits with `limiter` (a handle: the layer shares it).
    pub fn from_time_limiter(limiter: TimeLimiter) -> Self {
        Self { limiter }
    }

    /// The time limiter this layer limits with.
    pub fn time_limiter(&self) -> &TimeLimiter {
        &self.limiter
    }
}

impl From<TimeLimiter> for TimeLimiterLayer {
    fn from(limiter: TimeLimiter) -> Self {
        Self::from_time_limiter(limiter)
    }
}

impl<S> Layer<S> for TimeLimiterLayer {
    type Service = TimeLimiterService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimeLimiterService {
            inner,
            limiter: self.limiter.clone(),
        }
    }
}

/// A time-limited service; see [`TimeLimiterLayer`].
#[derive(Clone, Debug)]
pub struct TimeLimiterService<S> {
    inner: S,
    limiter: TimeLimiter,
}

impl<S> TimeLimiterService<S> {
    /// The time limiter of this service.
    pub fn time_limiter(&self) -> &TimeLimiter {
        &self.limiter
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for TimeLimiterService<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = TimeLimitedFuture<S::Future>;

    /// The inner service's readiness (not time-limited, as Resilience4j limits the call only).
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let limit = self.limiter.config().timeout_duration();
        TimeLimitedFuture {
            future: within(limit, self.inner.call(request)),
            limiter: Some(self.limiter.clone()),
        }
    }
}

pin_project! {
    /// The response future of [`TimeLimiterService`]: the inner call under the time limit, then
    /// its SUCCESS, ERROR or TIMEOUT counted. Dropped before it ends (cancelled), it counts
    /// nothing; dropped while the inner call panics, it counts an ERROR, as
    /// [`TimeLimiter::call`] does.
    pub struct TimeLimitedFuture<F> {
        #[pin]
        future: tokio::time::Timeout<F>,
        // Taken when the result is counted: polled again, the future counts nothing twice.
        limiter: Option<TimeLimiter>,
    }
}

impl<F> fmt::Debug for TimeLimitedFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeLimitedFuture")
            .field(
                "time_limiter",
                &self.limiter.as_ref().map(TimeLimiter::name),
            )
            .finish()
    }
}

impl<F, Res, E> Future for TimeLimitedFuture<F>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(limiter) = this.limiter.as_ref() else {
            return Poll::Ready(Err(polled_after_completion()));
        };
        let guard = PanicGuard { limiter };
        let polled = this.future.poll(cx);
        std::mem::forget(guard);
        let done = match ready!(polled) {
            Ok(Ok(response)) => Ok(Ok(response)),
            Ok(Err(error)) => Ok(Err(error.into())),
            Err(_elapsed) => Err(()),
        };
        let result = limiter.settle(done);
        *this.limiter = None;
        Poll::Ready(result.map_err(|error| match error {
            TimeLimiterError::Failed(error) => error,
            TimeLimiterError::Timeout(timeout) => timeout.into(),
        }))
    }
}

/// The error of a response future polled again after it gave its result.
#[cold]
fn polled_after_completion() -> BoxError {
    "fusebox::tower::TimeLimitedFuture polled after it completed".into()
}
