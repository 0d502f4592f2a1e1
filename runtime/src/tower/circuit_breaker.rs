//! [`CircuitBreakerLayer`]: a registry's circuit breaker around a tower service.

use super::BoxError;
use super::classify::{Classify, ClassifyFn, DefaultClassifier, ResponseClassifier};
use crate::breaker::{CallNotPermitted, CircuitBreaker};
use crate::call::{Outcome, Permit, TimeoutError};
use crate::registry::Registry;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tower_layer::Layer;
use tower_service::Service;

/// A [`Layer`] that guards a service with a circuit breaker of a [`Registry`]: the breaker's
/// config (from code or the config file), state, events and metrics are those of the breaker of
/// that name, shared with `#[circuit_breaker(name = "...")]` call sites and the actuator.
///
/// The breaker is resolved once, when the layer is built (as an attribute's call site resolves
/// it once): no registry lookup per call.
///
/// ```
/// use fusebox_runtime::tower::{CircuitBreakerLayer, ServerErrors};
/// use fusebox_runtime::Registry;
///
/// let registry = Registry::new();
/// // Every `Err` of the inner service is a failure, and so is every 5xx response.
/// let layer = CircuitBreakerLayer::with_registry(&registry, "orders").classify_response(ServerErrors);
/// assert_eq!(layer.breaker().name(), "orders");
/// ```
#[derive(Clone, Debug)]
pub struct CircuitBreakerLayer<C = DefaultClassifier> {
    breaker: CircuitBreaker,
    classifier: C,
}

impl CircuitBreakerLayer {
    /// The breaker `name` of the [global registry](Registry::global) (created on first use with
    /// the config the global config file gives it).
    pub fn new(name: &str) -> Self {
        Self::from_breaker(Registry::global().circuit_breaker(name))
    }

    /// The breaker `name` of `registry`.
    pub fn with_registry(registry: &Registry, name: &str) -> Self {
        Self::from_breaker(registry.circuit_breaker(name))
    }

    /// Guards with `breaker` (a handle: the layer shares the breaker, it does not copy it).
    pub fn from_breaker(breaker: CircuitBreaker) -> Self {
        Self {
            breaker,
            classifier: DefaultClassifier,
        }
    }
}

impl From<CircuitBreaker> for CircuitBreakerLayer {
    fn from(breaker: CircuitBreaker) -> Self {
        Self::from_breaker(breaker)
    }
}

impl<C> CircuitBreakerLayer<C> {
    /// The breaker this layer guards with.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// Counts results with `classifier` (see [`Classify`]; the attribute's
    /// [`Classifier`](crate::Classifier) is one).
    pub fn classify<K>(self, classifier: K) -> CircuitBreakerLayer<K> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }

    /// Counts every `Err` and every `Ok` response that `predicate` matches as a failure (an
    /// HTTP 5xx: [`ServerErrors`](super::ServerErrors); a gRPC status: a closure on the
    /// `grpc-status` header). The response is still returned as `Ok`.
    pub fn classify_response<P>(self, predicate: P) -> CircuitBreakerLayer<ResponseClassifier<P>> {
        self.classify(ResponseClassifier(predicate))
    }

    /// Counts results as `classify` says (success, failure or ignored), e.g. to ignore some
    /// errors as Resilience4j's `ignoreExceptions` does.
    pub fn classify_with<F>(self, classify: F) -> CircuitBreakerLayer<ClassifyFn<F>> {
        self.classify(ClassifyFn(classify))
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService {
            inner,
            breaker: self.breaker.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

/// A service guarded by a circuit breaker; see [`CircuitBreakerLayer`] and the
/// [module docs](super) for when permission is taken and what is recorded.
#[derive(Clone, Debug)]
pub struct CircuitBreakerService<S, C = DefaultClassifier> {
    inner: S,
    breaker: CircuitBreaker,
    classifier: C,
}

impl<S, C> CircuitBreakerService<S, C> {
    /// The breaker guarding this service.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
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

impl<S, C, Req> Service<Req> for CircuitBreakerService<S, C>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C>;

    /// The inner service's readiness; the breaker is not asked here (see the module docs).
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let classifier = self.classifier.clone();
        let started = match self.breaker.try_acquire() {
            Ok(permit) => permit.into_started(),
            Err(rejected) => {
                return ResponseFuture {
                    call: Call::Rejected { rejected },
                    permit: None,
                    classifier,
                };
            }
        };
        // From here the permission is owned by `permit`: if the inner `call` panics, or the
        // future is dropped before it ends, its drop ends the permission as the attribute's does.
        let permit = OwnedPermit {
            breaker: self.breaker.clone(),
            started,
            armed: true,
        };
        let future = self.inner.call(request);
        let call = match self.breaker.timeout() {
            None => Call::Running { future },
            Some(limit) => Call::Limited {
                future: tokio::time::timeout(limit, future),
                limit,
            },
        };
        ResponseFuture {
            call,
            permit: Some(permit),
            classifier,
        }
    }
}

pin_project! {
    /// The response future of [`CircuitBreakerService`]: awaits the inner call (under the
    /// breaker's `timeout`, if it has one), then records its outcome. Dropped before that, it
    /// gives the permission back (nothing recorded, as a cancelled `#[circuit_breaker]` call);
    /// dropped while its thread panics, it records a failure.
    pub struct ResponseFuture<F, C> {
        #[pin]
        call: Call<F>,
        permit: Option<OwnedPermit>,
        classifier: C,
    }
}

impl<F, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.call {
            Call::Running { .. } => "running",
            Call::Limited { .. } => "running under the time limit",
            Call::Rejected { .. } => "rejected",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

pin_project! {
    #[project = CallProj]
    enum Call<F> {
        Running { #[pin] future: F },
        Limited { #[pin] future: tokio::time::Timeout<F>, limit: Duration },
        Rejected { rejected: CallNotPermitted },
    }
}

impl<F, C, Res, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
    C: Classify<Res, E>,
{
    type Output = Result<Res, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = match this.call.project() {
            CallProj::Running { future } => ready!(future.poll(cx)),
            CallProj::Limited { future, limit } => match ready!(future.poll(cx)) {
                Ok(result) => result,
                Err(_elapsed) => {
                    return Poll::Ready(Err(match this.permit.take() {
                        Some(permit) => permit.timed_out(*limit).into(),
                        None => polled_after_completion(),
                    }));
                }
            },
            // Cloned, not taken: polling again gives the same answer.
            CallProj::Rejected { rejected } => return Poll::Ready(Err(rejected.clone().into())),
        };
        match this.permit.take() {
            Some(permit) => permit.record(this.classifier.classify(&result)),
            None => return Poll::Ready(Err(polled_after_completion())),
        }
        Poll::Ready(result.map_err(Into::into))
    }
}

/// The error of a response future polled again after it gave its result (a broken `Future`
/// contract: nothing is recorded twice).
#[cold]
fn polled_after_completion() -> BoxError {
    "fusebox::tower::ResponseFuture polled after it completed".into()
}

/// A breaker's permission owned by a response future (which cannot hold a [`Permit`], as that
/// borrows its breaker): ended through a [`Permit`] re-made from it, so that every way a call
/// ends is recorded as the attribute records it.
struct OwnedPermit {
    breaker: CircuitBreaker,
    started: u64,
    /// Cleared once the permission is ended, so that `Drop` does not end it twice.
    armed: bool,
}

impl OwnedPermit {
    #[inline]
    fn take_permit(&mut self) -> Permit<'_> {
        self.armed = false;
        Permit::resume(&self.breaker, self.started)
    }

    /// Records how the call counted.
    #[inline]
    fn record(mut self, outcome: Outcome) {
        let permit = self.take_permit();
        match outcome {
            Outcome::Success => permit.on_success(),
            Outcome::Ignored => permit.on_ignored(),
            Outcome::Failure | Outcome::NotPermitted | Outcome::Timeout => permit.on_error(),
        }
    }

    /// Records an expired time limit (a failure, published as a timeout) and gives the error.
    #[cold]
    fn timed_out(mut self, limit: Duration) -> TimeoutError {
        let error = TimeoutError {
            name: self.breaker.inner.name.clone(),
            after: limit,
            by: crate::call::TimedBy::CircuitBreaker,
        };
        self.take_permit().on_timeout(limit);
        error
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        if self.armed {
            // The call did not end: `Permit`'s drop releases the permission (cancelled) or
            // records a failure (panicking).
            drop(self.take_permit());
        }
    }
}
