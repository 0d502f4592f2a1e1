//! [`BulkheadLayer`]: a registry's bulkhead around a tower service.

use super::BoxError;
use crate::bulkhead::owned::{OwnedAcquire, StartedOwned};
use crate::bulkhead::{Bulkhead, BulkheadFull, OwnedBulkheadPermit};
use crate::registry::Registry;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tower_layer::Layer;
use tower_service::Service;

/// A [`Layer`] that bounds a service's concurrent calls with a [`Bulkhead`] of a [`Registry`]:
/// its config (`max_concurrent_calls`, `max_wait_duration`), slots, events (CALL_PERMITTED,
/// CALL_REJECTED, CALL_FINISHED) and gauges are those of the bulkhead of that name, shared with
/// the rest of the registry, the `#[bulkhead]` attribute and the actuator. The bulkhead is
/// resolved once, when the layer is built.
///
/// Each call takes a slot **in `call`**, not in `poll_ready` (see the
/// [module docs](super#when-the-bulkhead-is-asked)): at once if one is free; else the response
/// future waits for one up to `max_wait_duration`, in arrival order, before it calls the inner
/// service; else it fails with [`BulkheadFull`] without calling the inner service (at once with
/// the usual `max_wait_duration` 0). The slot is held until the inner response future completes
/// or is dropped (a cancelled or panicking call gives it back).
///
/// ```
/// use fusebox_runtime::bulkhead::BulkheadConfig;
/// use fusebox_runtime::tower::BulkheadLayer;
/// use fusebox_runtime::Registry;
///
/// let registry = Registry::new();
/// let bulkhead = registry.bulkhead_with_config(
///     "inventory",
///     BulkheadConfig::builder().max_concurrent_calls(4).build()?,
/// );
/// let layer = BulkheadLayer::from_bulkhead(bulkhead);
/// assert_eq!(layer.bulkhead().metrics().max_allowed_concurrent_calls, 4);
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct BulkheadLayer {
    bulkhead: Bulkhead,
}

impl BulkheadLayer {
    /// The bulkhead `name` of the [global registry](Registry::global) (created on first use with
    /// the config the global config file gives it).
    pub fn new(name: &str) -> Self {
        Self::from_bulkhead(Registry::global().bulkhead(name))
    }

    /// The bulkhead `name` of `registry`.
    pub fn with_registry(registry: &Registry, name: &str) -> Self {
        Self::from_bulkhead(registry.bulkhead(name))
    }

    /// Bounds with `bulkhead` (a handle: the layer shares it).
    pub fn from_bulkhead(bulkhead: Bulkhead) -> Self {
        Self { bulkhead }
    }

    /// The bulkhead this layer bounds with.
    pub fn bulkhead(&self) -> &Bulkhead {
        &self.bulkhead
    }
}

impl From<Bulkhead> for BulkheadLayer {
    fn from(bulkhead: Bulkhead) -> Self {
        Self::from_bulkhead(bulkhead)
    }
}

impl<S> Layer<S> for BulkheadLayer {
    type Service = BulkheadService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BulkheadService {
            inner,
            bulkhead: self.bulkhead.clone(),
        }
    }
}

/// A service bounded by a bulkhead; see [`BulkheadLayer`] and the [module docs](super).
#[derive(Clone, Debug)]
pub struct BulkheadService<S> {
    inner: S,
    bulkhead: Bulkhead,
}

impl<S> BulkheadService<S> {
    /// The bulkhead of this service.
    pub fn bulkhead(&self) -> &Bulkhead {
        &self.bulkhead
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

impl<S, Req> Service<Req> for BulkheadService<S>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BulkheadFuture<S, Req>;

    /// The inner service's readiness; no slot is taken here (see the module docs).
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let call = match self.bulkhead.start_acquire_owned() {
            // The permitted path: the ready service is called now, nothing cloned or allocated.
            StartedOwned::Permitted(permit) => Bounded::Running {
                future: self.inner.call(request),
                permit,
            },
            StartedOwned::Rejected(full) => Bounded::Rejected { full },
            // The ready service waits with the request in the future (called once a slot is
            // there, not before: a service may send in `call`); a clone stays here, to be made
            // ready for the next call, as tower's `retry` and `buffer` do.
            StartedOwned::Waiting(wait) => {
                let spare = self.inner.clone();
                Bounded::Waiting {
                    wait,
                    ready: Some((std::mem::replace(&mut self.inner, spare), request)),
                }
            }
        };
        BulkheadFuture { call }
    }
}

pin_project! {
    /// The response future of [`BulkheadService`]: waits for a slot if it must, calls the inner
    /// service and holds the slot ([`OwnedBulkheadPermit`]) until the inner response future
    /// completes. Dropped while waiting, it leaves the queue (nothing published); dropped while
    /// the inner call runs, or while it panics, it gives the slot back (CALL_FINISHED).
    pub struct BulkheadFuture<S: Service<Req>, Req> {
        #[pin]
        call: Bounded<S, Req>,
    }
}

impl<S: Service<Req>, Req> fmt::Debug for BulkheadFuture<S, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.call {
            Bounded::Waiting { .. } => "waiting for a slot",
            Bounded::Running { .. } => "running",
            Bounded::Rejected { .. } => "rejected",
            Bounded::Done => "done",
        };
        f.debug_struct("BulkheadFuture")
            .field("state", &state)
            .finish()
    }
}

pin_project! {
    #[project = BoundedProj]
    enum Bounded<S: Service<Req>, Req> {
        Waiting { wait: OwnedAcquire, ready: Option<(S, Req)> },
        // Fields drop in order: the inner future first, then the slot.
        Running { #[pin] future: S::Future, permit: OwnedBulkheadPermit },
        Rejected { full: BulkheadFull },
        Done,
    }
}

impl<S, Req> Future for BulkheadFuture<S, Req>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.call.as_mut().project() {
                BoundedProj::Running { future, .. } => {
                    let result = ready!(future.poll(cx));
                    // The inner future is done: drop it, then give the slot back.
                    this.call.set(Bounded::Done);
                    return Poll::Ready(result.map_err(Into::into));
                }
                BoundedProj::Waiting { wait, ready } => {
                    let acquired = ready!(wait.as_mut().poll(cx));
                    let next = match (acquired, ready.take()) {
                        (Ok(permit), Some((mut service, request))) => Bounded::Running {
                            future: service.call(request),
                            permit,
                        },
                        (Err(full), _) => Bounded::Rejected { full },
                        (Ok(_), None) => Bounded::Done,
                    };
                    this.call.set(next);
                }
                BoundedProj::Rejected { full } => {
                    let error = full.clone();
                    this.call.set(Bounded::Done);
                    return Poll::Ready(Err(error.into()));
                }
                BoundedProj::Done => return Poll::Ready(Err(polled_after_completion())),
            }
        }
    }
}

/// The error of a response future polled again after it gave its result.
#[cold]
fn polled_after_completion() -> BoxError {
    "fusebox::tower::BulkheadFuture polled after it completed".into()
}
