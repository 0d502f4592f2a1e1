//! [`RetryLayer`]: a registry's retry around a tower service.

use super::BoxError;
use super::classify::{NoResponses, ResponsePredicate};
use crate::registry::Registry;
use crate::retry::{Retry, RetryError};
use std::fmt::Display;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// A [`Layer`] that retries a service's calls with a [`Retry`] of a [`Registry`]: its config
/// (`max_attempts`, the interval function, the error and result predicates, the sleeper), events
/// and counters are those of the retry of that name, shared with the rest of the registry.
///
/// Each attempt sends a clone of the request (`Req: Clone`) to a clone of the service, made
/// ready first, as tower's own `retry` does; the first attempt uses the service the caller made
/// ready. Waits between attempts use the retry config's sleeper (tokio's timer by default).
///
/// The errors the retry's predicates see are the inner service's own (`S::Error`); under a
/// [`CircuitBreakerLayer`](super::CircuitBreakerLayer) that is a [`BoxError`], so a predicate
/// on `BoxError` can leave rejections alone (`!e.is::<CallNotPermitted>()`), as Resilience4j's
/// docs advise for Retry around CircuitBreaker.
///
/// ```
/// use fusebox_runtime::tower::{RetryLayer, ServerErrors};
/// use fusebox_runtime::Registry;
///
/// let registry = Registry::new();
/// // Retry errors as the config says, and 5xx responses too.
/// let layer = RetryLayer::with_registry(&registry, "orders").retry_on_response(ServerErrors);
/// assert_eq!(layer.retry().name(), "orders");
/// ```
#[derive(Clone, Debug)]
pub struct RetryLayer<P = NoResponses> {
    retry: Retry,
    retry_on_response: P,
}

impl RetryLayer {
    /// The retry `name` of the [global registry](Registry::global).
    pub fn new(name: &str) -> Self {
        Self::from_retry(Registry::global().retry(name))
    }

    /// The retry `name` of `registry`.
    pub fn with_registry(registry: &Registry, name: &str) -> Self {
        Self::from_retry(registry.retry(name))
    }

    /// Retries with `retry` (a handle: the layer shares it).
    pub fn from_retry(retry: Retry) -> Self {
        Self {
            retry,
            retry_on_response: NoResponses,
        }
    }
}

impl From<Retry> for RetryLayer {
    fn from(retry: Retry) -> Self {
        Self::from_retry(retry)
    }
}

impl<P> RetryLayer<P> {
    /// The retry this layer uses.
    pub fn retry(&self) -> &Retry {
        &self.retry
    }

    /// Also retries `Ok` responses that `predicate` matches, exactly as responses matched by the
    /// config's `retry_on_result` (RETRY events, counted attempts; after the last attempt the
    /// response is returned, or `MaxRetriesExceeded` with `fail_after_max_attempts`).
    pub fn retry_on_response<Q>(self, predicate: Q) -> RetryLayer<Q> {
        RetryLayer {
            retry: self.retry,
            retry_on_response: predicate,
        }
    }
}

impl<S, P: Clone> Layer<S> for RetryLayer<P> {
    type Service = RetryService<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            retry: self.retry.clone(),
            retry_on_response: self.retry_on_response.clone(),
        }
    }
}

/// A service whose calls are retried; see [`RetryLayer`].
#[derive(Clone, Debug)]
pub struct RetryService<S, P = NoResponses> {
    inner: S,
    retry: Retry,
    retry_on_response: P,
}

impl<S, P> RetryService<S, P> {
    /// The retry of this service.
    pub fn retry(&self) -> &Retry {
        &self.retry
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

/// The response future of [`RetryService`] (boxed: the attempts, waits and the first attempt's
/// service live in it).
pub type RetryFuture<Res> = Pin<Box<dyn Future<Output = Result<Res, BoxError>> + Send>>;

impl<S, P, Req> Service<Req> for RetryService<S, P>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send + 'static,
    S::Error: Into<BoxError> + Display + Send + 'static,
    P: ResponsePredicate<S::Response> + Clone + Send + 'static,
    Req: Clone + Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = RetryFuture<S::Response>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        // The ready service makes the first attempt; its clone (made ready per attempt) the
        // others, as tower's `retry` does.
        let spare = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, spare.clone());
        let retry = self.retry.clone();
        let predicate = self.retry_on_response.clone();
        Box::pin(async move {
            let mut first = Some(ready);
            let attempts = retry.call_retrying_results(
                move || {
                    let request = request.clone();
                    let (mut service, is_ready) = match first.take() {
                        Some(ready) => (ready, true),
                        None => (spare.clone(), false),
                    };
                    async move {
                        if !is_ready {
                            poll_fn(|cx| service.poll_ready(cx)).await?;
                        }
                        service.call(request).await
                    }
                },
                move |response: &S::Response| predicate.matches(response),
            );
            attempts.await.map_err(|error| match error {
                RetryError::Failed(error) => error.into(),
                RetryError::MaxRetriesExceeded(exceeded) => exceeded.into(),
            })
        })
    }
}
