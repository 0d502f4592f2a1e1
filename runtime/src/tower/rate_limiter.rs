//! [`RateLimiterLayer`]: a registry's rate limiter around a tower service.

use super::BoxError;
use super::classify::ResponsePredicate;
use crate::rate_limiter::owned::{OwnedWait, Started};
use crate::rate_limiter::{RateLimiter, RequestNotPermitted};
use crate::registry::Registry;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tower_layer::Layer;
use tower_service::Service;

/// A [`Layer`] that limits a service's calls with a [`RateLimiter`] of a [`Registry`]: its
/// config (`limit_for_period`, `limit_refresh_period`, `timeout_duration`, the drain
/// predicate, the clock and sleeper), state, events and metrics are those of the rate limiter
/// of that name, shared with the rest of the registry and the actuator. The rate limiter is
/// resolved once, when the layer is built.
///
/// Each call takes one permit **in `call`**, not in `poll_ready` (see the
/// [module docs](super#when-the-rate-limiter-is-asked)): at once if the cycle has one left;
/// else, if a coming cycle's permit is at most `timeout_duration` away, it is reserved now and
/// the response future waits for it before calling the inner service; else the response future
/// waits out the timeout and fails with [`RequestNotPermitted`] without calling the inner
/// service (Resilience4j's `acquirePermission`; at once with the usual timeout 0).
///
/// After the call, the rate limiter is drained (Resilience4j's `drainPermissions`, a DRAINED
/// event) when the config's `drain_permissions_on_result` predicate matches the result (a
/// predicate on `Result<S::Response, S::Error>`, the inner service's own types) or when the
/// layer's own [`drain_on_response`](Self::drain_on_response) /
/// [`drain_with`](Self::drain_with) does.
///
/// ```
/// use fusebox_runtime::tower::{RateLimiterLayer, TooManyRequests};
/// use fusebox_runtime::Registry;
///
/// let registry = Registry::new();
/// // The "orders" limits; a 429 from the backend drains the rest of the cycle.
/// let layer = RateLimiterLayer::with_registry(&registry, "orders").drain_on_response(TooManyRequests);
/// assert_eq!(layer.rate_limiter().name(), "orders");
/// ```
#[derive(Clone, Debug)]
pub struct RateLimiterLayer<D = ConfigDrain> {
    limiter: RateLimiter,
    drain: D,
}

impl RateLimiterLayer {
    /// The rate limiter `name` of the [global registry](Registry::global) (created on first use
    /// with the config the global config file gives it).
    pub fn new(name: &str) -> Self {
        Self::from_rate_limiter(Registry::global().rate_limiter(name))
    }

    /// The rate limiter `name` of `registry`.
    pub fn with_registry(registry: &Registry, name: &str) -> Self {
        Self::from_rate_limiter(registry.rate_limiter(name))
    }

    /// Limits with `limiter` (a handle: the layer shares it).
    pub fn from_rate_limiter(limiter: RateLimiter) -> Self {
        Self {
            limiter,
            drain: ConfigDrain,
        }
    }
}

impl From<RateLimiter> for RateLimiterLayer {
    fn from(limiter: RateLimiter) -> Self {
        Self::from_rate_limiter(limiter)
    }
}

impl<D> RateLimiterLayer<D> {
    /// The rate limiter this layer limits with.
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Also drains after an `Ok` response that `predicate` matches (an HTTP 429:
    /// [`TooManyRequests`](super::TooManyRequests)); the response is still returned as it is.
    pub fn drain_on_response<P>(self, predicate: P) -> RateLimiterLayer<DrainOnResponse<P>> {
        RateLimiterLayer {
            limiter: self.limiter,
            drain: DrainOnResponse(predicate),
        }
    }

    /// Also drains after a result (`Ok` or `Err`) that `drains` matches.
    pub fn drain_with<F>(self, drains: F) -> RateLimiterLayer<DrainFn<F>> {
        RateLimiterLayer {
            limiter: self.limiter,
            drain: DrainFn(drains),
        }
    }
}

impl<S, D: Clone> Layer<S> for RateLimiterLayer<D> {
    type Service = RateLimiterService<S, D>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimiterService {
            inner,
            limiter: self.limiter.clone(),
            drain: self.drain.clone(),
        }
    }
}

/// When a call's result drains the rate limiter, besides the config's own
/// `drain_permissions_on_result` predicate (always applied).
pub trait Drain<Res, E> {
    /// Whether `result` drains the rate limiter.
    fn drains(&self, result: &Result<Res, E>) -> bool;
}

/// Only the config's `drain_permissions_on_result` predicate drains (the layer's default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfigDrain;

impl<Res, E> Drain<Res, E> for ConfigDrain {
    #[inline(always)]
    fn drains(&self, _: &Result<Res, E>) -> bool {
        false
    }
}

/// `Ok` responses that `P` matches drain. Built by
/// [`RateLimiterLayer::drain_on_response`].
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainOnResponse<P>(pub P);

impl<P> fmt::Debug for DrainOnResponse<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DrainOnResponse")
    }
}

impl<Res, E, P: ResponsePredicate<Res>> Drain<Res, E> for DrainOnResponse<P> {
    #[inline]
    fn drains(&self, result: &Result<Res, E>) -> bool {
        result
            .as_ref()
            .is_ok_and(|response| self.0.matches(response))
    }
}

/// Results that the closure matches drain. Built by [`RateLimiterLayer::drain_with`].
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainFn<F>(pub F);

impl<F> fmt::Debug for DrainFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DrainFn")
    }
}

impl<Res, E, F: Fn(&Result<Res, E>) -> bool> Drain<Res, E> for DrainFn<F> {
    #[inline(always)]
    fn drains(&self, result: &Result<Res, E>) -> bool {
        (self.0)(result)
    }
}

/// A rate-limited service; see [`RateLimiterLayer`] and the [module docs](super).
#[derive(Clone, Debug)]
pub struct RateLimiterService<S, D = ConfigDrain> {
    inner: S,
    limiter: RateLimiter,
    drain: D,
}

impl<S, D> RateLimiterService<S, D> {
    /// The rate limiter of this service.
    pub fn rate_limiter(&self) -> &RateLimiter {
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

impl<S, D, Req> Service<Req> for RateLimiterService<S, D>
where
    S: Service<Req> + Clone,
    S::Response: 'static,
    S::Error: Into<BoxError> + 'static,
    D: Drain<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = RateLimitedFuture<S, Req, D>;

    /// The inner service's readiness; no permit is taken here (see the module docs).
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let call = match self.limiter.start_acquire(1) {
            // The permitted path: the ready service is called now, nothing cloned.
            Started::Acquired => Limited::Running {
                future: self.inner.call(request),
            },
            Started::Refused(refused) => Limited::Refused { refused },
            // The ready service waits with the request in the future (called once the permit
            // is there, not before: a service may send in `call`); a clone stays here, to be
            // made ready for the next call, as tower's `retry` and `buffer` do.
            Started::Waiting(wait) => {
                let spare = self.inner.clone();
                Limited::Waiting {
                    wait,
                    ready: Some((std::mem::replace(&mut self.inner, spare), request)),
                }
            }
        };
        RateLimitedFuture {
            call,
            limiter: self.limiter.clone(),
            drain: self.drain.clone(),
        }
    }
}

pin_project! {
    /// The response future of [`RateLimiterService`]: waits for its permit if it must, calls
    /// the inner service, then drains the rate limiter if the result says so. Dropped while
    /// waiting, it keeps its reservation and publishes FAILED_ACQUIRE (Resilience4j's
    /// interrupted caller); dropped later, it records nothing.
    pub struct RateLimitedFuture<S: Service<Req>, Req, D> {
        #[pin]
        call: Limited<S, Req>,
        limiter: RateLimiter,
        drain: D,
    }
}

impl<S: Service<Req>, Req, D> fmt::Debug for RateLimitedFuture<S, Req, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.call {
            Limited::Waiting { .. } => "waiting for a permit",
            Limited::Running { .. } => "running",
            Limited::Refused { .. } => "refused",
            Limited::Done => "done",
        };
        f.debug_struct("RateLimitedFuture")
            .field("rate_limiter", &self.limiter.name())
            .field("state", &state)
            .finish()
    }
}

pin_project! {
    #[project = LimitedProj]
    enum Limited<S: Service<Req>, Req> {
        Waiting { wait: OwnedWait, ready: Option<(S, Req)> },
        Running { #[pin] future: S::Future },
        Refused { refused: RequestNotPermitted },
        Done,
    }
}

impl<S, Req, D> Future for RateLimitedFuture<S, Req, D>
where
    S: Service<Req>,
    S::Response: 'static,
    S::Error: Into<BoxError> + 'static,
    D: Drain<S::Response, S::Error>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.call.as_mut().project() {
                LimitedProj::Running { future } => {
                    let result = ready!(future.poll(cx));
                    this.call.set(Limited::Done);
                    if this.drain.drains(&result) || this.limiter.config_drains(&result) {
                        this.limiter.drain_permissions();
                    }
                    return Poll::Ready(result.map_err(Into::into));
                }
                LimitedProj::Waiting { wait, ready } => {
                    let permitted = ready!(wait.poll(cx));
                    let next = match (permitted, ready.take()) {
                        (Ok(()), Some((mut service, request))) => Limited::Running {
                            future: service.call(request),
                        },
                        (Err(refused), _) => Limited::Refused { refused },
                        (Ok(()), None) => Limited::Done,
                    };
                    this.call.set(next);
                }
                LimitedProj::Refused { refused } => {
                    let error = refused.clone();
                    this.call.set(Limited::Done);
                    return Poll::Ready(Err(error.into()));
                }
                LimitedProj::Done => return Poll::Ready(Err(polled_after_completion())),
            }
        }
    }
}

/// The error of a response future polled again after it gave its result.
#[cold]
fn polled_after_completion() -> BoxError {
    "fusebox::tower::RateLimitedFuture polled after it completed".into()
}
