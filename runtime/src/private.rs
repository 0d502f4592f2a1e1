//! Hidden glue called by the code that `#[circuit_breaker]` and `#[traced]` generate.
//!
//! Not a public API: names and signatures change with the macros (both crates are released in
//! lock step). Generated code reaches it as `::fusebox::__private::...`.
//!
//! What lives here, and why not in the macros:
//! * [`BreakerSite`]: the per-call-site cache of the breaker handle (one registry lookup per site).
//! * [`acquire`] / [`acquire_traced`], [`time_limit`], [`within`], [`settle`] / [`settle_traced`], [`rejected`] /
//!   [`rejected_traced`]: the steps of a guarded call, which the generated code writes out as
//!   the hand-written guard would be (acquire, await, record), so that it costs what that code
//!   costs.
//! * [`returns_result`]: the return-type check for types the macro cannot judge by syntax.
//! * [`no_fallback`] and [`FromBreakerError`]: how a rejection or a timeout becomes the
//!   function's own error when there is no fallback.
//! * [`AsyncFallback`] / [`SyncFallback`]: autoref specialization that lets a fallback be an
//!   `async fn` or a plain `fn` (the macro cannot see its definition).
//! * [`DisplayErrorTag`] / [`OpaqueErrorTag`] and [`DescribeDisplayError`] /
//!   [`DescribeOpaqueError`]: autoref specialization that describes a failed call's span by the
//!   error's `Display` when the error type has one (`E` need not be `Display`).
//! * [`instrument`], [`instrument_err`]: `#[traced]`.
//! * [`RetrySite`], [`attempts`], [`lift`], [`retry_settle`], [`wait`], [`retried`] and their traced
//!   forms: the steps of `#[retry]`'s loop, written out in the function's body like the
//!   breaker's; [`settle_layered`] / [`settle_layered_traced`]: a breaker around another layer.
//! * [`RateLimiterSite`], [`rate_limit`], [`rate_limited`], [`rate_rejected`] and their traced
//!   forms: `#[rate_limiter]`'s steps (acquire, run, drain on the result).
//! * [`TimeLimiterSite`], [`time_limited`], [`time_limit_settle`] and their layered and traced
//!   forms: `#[time_limiter]`'s steps (the limit, then Resilience4j's SUCCESS / ERROR / TIMEOUT).
//! * [`BulkheadSite`], [`bulkhead_enter`], [`bulkheaded`], [`bulkhead_rejected`] and their traced
//!   forms: `#[bulkhead]`'s steps (a slot held across the call, given back when it ends).

#![allow(missing_debug_implementations, unreachable_pub)]

use std::fmt;
use std::future::{Future, Ready};
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::Poll;
use std::time::Duration;

pub use crate::bulkhead::{Bulkhead, BulkheadFull, BulkheadPermit};
pub use crate::rate_limiter::{RateLimiter, RequestNotPermitted};
pub use crate::retry::{Attempts, Next, Retry, RetryError};
pub use crate::time_limiter::TimeLimiter;
pub use crate::{
    BreakerError, CallNotPermitted, CircuitBreaker, Classifier, Failure, Outcome, Permit, Registry,
    State, TimeoutError,
};
pub use tracing;

/// Declares a call-site cache of a registry entry (see [`BreakerSite`]).
macro_rules! site {
    ($(#[$doc:meta])* $site:ident, $entry:ty, $lookup:ident) => {
        $(#[$doc])*
        pub struct $site {
            name: &'static str,
            entry: OnceLock<$entry>,
        }

        impl $site {
            /// A site for the entry `name`.
            pub const fn new(name: &'static str) -> Self {
                Self {
                    name,
                    entry: OnceLock::new(),
                }
            }

            /// The entry, from the global registry.
            #[inline]
            pub fn get(&'static self) -> &'static $entry {
                match self.entry.get() {
                    Some(entry) => entry,
                    None => self.resolve(Registry::global),
                }
            }

            /// The entry, from the registry `registry` returns (called on first use only).
            #[inline]
            pub fn get_in<'r>(
                &'static self,
                registry: impl FnOnce() -> &'r Registry,
            ) -> &'static $entry {
                match self.entry.get() {
                    Some(entry) => entry,
                    None => self.resolve(registry),
                }
            }

            /// The first call's lookup, out of line (see [`BreakerSite`]).
            #[cold]
            #[inline(never)]
            fn resolve<'r>(
                &'static self,
                registry: impl FnOnce() -> &'r Registry,
            ) -> &'static $entry {
                self.entry.get_or_init(|| registry().$lookup(self.name))
            }
        }

        impl fmt::Debug for $site {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($site))
                    .field("name", &self.name)
                    .finish()
            }
        }
    };
}

site!(
    /// The breaker of one `#[circuit_breaker]` call site, resolved on first use.
    ///
    /// The generated code holds it in a `static`, so the registry lookup happens once per call site,
    /// not once per call. With `registry = <expr>` the first registry seen wins for that site.
    BreakerSite,
    CircuitBreaker,
    circuit_breaker
);

site!(
    /// The retry of one `#[retry]` call site, resolved on first use (see [`BreakerSite`]).
    RetrySite,
    Retry,
    retry
);

site!(
    /// The rate limiter of one `#[rate_limiter]` call site, resolved on first use.
    RateLimiterSite,
    RateLimiter,
    rate_limiter
);

site!(
    /// The time limiter of one `#[time_limiter]` call site, resolved on first use.
    TimeLimiterSite,
    TimeLimiter,
    time_limiter
);

site!(
    /// The bulkhead of one `#[bulkhead]` call site, resolved on first use.
    BulkheadSite,
    Bulkhead,
    bulkhead
);

/// The return type of a `#[circuit_breaker]` function must be a `Result`.
#[diagnostic::on_unimplemented(
    message = "`#[circuit_breaker]` needs a function that returns `Result<T, E>`, not `{Self}`",
    label = "not a `Result`",
    note = "the breaker records `Err` values as failures; return a `Result` (an alias of it is fine)"
)]
pub trait BreakerReturn {}

impl<T, E> BreakerReturn for Result<T, E> {}

/// Checks, with fusebox's message, that a return type the macro cannot judge by its syntax (a
/// path not named `Result`) is a `Result`.
#[inline(always)]
pub fn returns_result<R: BreakerReturn>() {}

/// The return type of a `#[retry]` function must be a `Result`.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` needs a function that returns `Result<T, E>`, not `{Self}`",
    label = "not a `Result`",
    note = "the retry retries on `Err` values; return a `Result` (an alias of it is fine)"
)]
pub trait RetryReturn {}

impl<T, E> RetryReturn for Result<T, E> {}

/// [`returns_result`] for `#[retry]`.
#[inline(always)]
pub fn retry_returns_result<R: RetryReturn>() {}

/// [`returns_result`] for `#[rate_limiter]`.
#[diagnostic::on_unimplemented(
    message = "`#[rate_limiter]` needs a function that returns `Result<T, E>`, not `{Self}`",
    label = "not a `Result`",
    note = "a refused call needs an `Err` to become; return a `Result` (an alias of it is fine)"
)]
pub trait RateLimiterReturn {}

impl<T, E> RateLimiterReturn for Result<T, E> {}

/// [`returns_result`] for `#[rate_limiter]`.
#[inline(always)]
pub fn rate_limiter_returns_result<R: RateLimiterReturn>() {}

/// [`returns_result`] for `#[bulkhead]`.
#[diagnostic::on_unimplemented(
    message = "`#[bulkhead]` needs a function that returns `Result<T, E>`, not `{Self}`",
    label = "not a `Result`",
    note = "a call the full bulkhead refused needs an `Err` to become; return a `Result` (an alias of it is fine)"
)]
pub trait BulkheadReturn {}

impl<T, E> BulkheadReturn for Result<T, E> {}

/// [`returns_result`] for `#[bulkhead]`.
#[inline(always)]
pub fn bulkhead_returns_result<R: BulkheadReturn>() {}

/// [`returns_result`] for `#[time_limiter]`.
#[diagnostic::on_unimplemented(
    message = "`#[time_limiter]` needs a function that returns `Result<T, E>`, not `{Self}`",
    label = "not a `Result`",
    note = "a timed-out call needs an `Err` to become; return a `Result` (an alias of it is fine)"
)]
pub trait TimeLimiterReturn {}

impl<T, E> TimeLimiterReturn for Result<T, E> {}

/// [`returns_result`] for `#[time_limiter]`.
#[inline(always)]
pub fn time_limiter_returns_result<R: TimeLimiterReturn>() {}

/// Asks `breaker` for a permit.
#[inline(always)]
pub fn acquire(breaker: &CircuitBreaker) -> Result<Permit<'_>, CallNotPermitted> {
    breaker.try_acquire()
}

/// The permit of a call in a `#[traced]` span. Dropped without an outcome — the body panicked,
/// or the caller dropped the future — its permit records the failure or gives the permission
/// back, and the span is marked as an error (`circuit_breaker.outcome` `failure` or
/// `cancelled`).
pub struct TracedPermit<'a> {
    permit: Permit<'a>,
    unsettled: Unsettled<'a>,
}

/// Marks its span when dropped; [`settled`](Self::settled) disarms it.
struct Unsettled<'a>(&'a tracing::Span);

impl<'a> Unsettled<'a> {
    /// The call has an outcome: the span, without the mark.
    fn settled(self) -> &'a tracing::Span {
        let span = self.0;
        std::mem::forget(self);
        span
    }
}

impl Drop for Unsettled<'_> {
    fn drop(&mut self) {
        let span = self.0;
        if span.is_disabled() {
            return;
        }
        let (outcome, description) = if std::thread::panicking() {
            (Outcome::Failure.as_str(), "the call panicked")
        } else {
            ("cancelled", "the call was cancelled")
        };
        span.record("circuit_breaker.outcome", outcome);
        span.record("otel.status_code", "error");
        span.record("otel.status_description", description);
    }
}

/// [`acquire`], recording on `span` (the one `#[traced]` opened; passed, not looked up, so that
/// nothing lands on a parent span when this one is disabled) the state that gave the permit or
/// rejected the call (`circuit_breaker.state`).
#[inline]
pub fn acquire_traced<'a>(
    breaker: &'a CircuitBreaker,
    span: &'a tracing::Span,
) -> Result<TracedPermit<'a>, CallNotPermitted> {
    let acquired = breaker.try_acquire_in_state();
    let state = match &acquired {
        Ok((_, state)) => *state,
        Err(rejected) => rejected.state(),
    };
    // A disabled span ignores records, but only after looking the field up by name.
    if !span.is_disabled() {
        span.record("circuit_breaker.state", state.as_tag());
    }
    acquired.map(|(permit, _)| TracedPermit {
        permit,
        unsettled: Unsettled(span),
    })
}

/// The time limit of `breaker`'s calls, if any.
#[inline(always)]
pub fn time_limit(breaker: &CircuitBreaker) -> Option<Duration> {
    breaker.timeout()
}

/// Awaits `body` for at most `limit`; `Err` when the limit expired and `body` was dropped.
#[inline]
pub fn within<F: Future>(breaker: &CircuitBreaker, limit: Duration, body: F) -> Within<'_, F> {
    Within {
        timed: ManuallyDrop::new(crate::time_limiter::within(limit, body)),
        breaker,
        limit,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`within`]: `body` under tokio's timer, and the breaker whose
    /// [`TimeoutError`] it becomes when the limit expires first.
    ///
    /// Its drop is one call, out of line. The generated function's future holds it in the state
    /// of its timed await point, and a state's drop glue is part of the future's own: with the
    /// timer's drop (a registration to cancel, the runtime handle's reference counts) inlined
    /// there, the drop glue of every `#[circuit_breaker]` future was too large to inline at its
    /// caller, and a breaker without a time limit paid a call for it on every use.
    pub struct Within<'a, F> {
        // Dropped in place by `drop_timed`, and only there.
        #[pin]
        timed: ManuallyDrop<tokio::time::Timeout<F>>,
        breaker: &'a CircuitBreaker,
        limit: Duration,
    }

    impl<F> PinnedDrop for Within<'_, F> {
        fn drop(this: Pin<&mut Self>) {
            drop_timed(this.project().timed);
        }
    }
}

/// Drops the timed body of a [`Within`], out of line.
#[inline(never)]
fn drop_timed<F>(timed: Pin<&mut ManuallyDrop<tokio::time::Timeout<F>>>) {
    // SAFETY: called once, from `Within`'s drop, the only place that drops the field; the value
    // is dropped where it is pinned (not moved), and is never used again.
    unsafe { ManuallyDrop::drop(timed.get_unchecked_mut()) }
}

impl<F: Future> Future for Within<'_, F> {
    type Output = Result<F::Output, TimeoutError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // SAFETY: structural pinning through `ManuallyDrop`, which is `#[repr(transparent)]`:
        // the timer and the body stay where `Within` is pinned (the field is never moved out,
        // and is dropped in place by `drop_timed`).
        let timed = unsafe { this.timed.map_unchecked_mut(|timed| &mut **timed) };
        match timed.poll(cx) {
            Poll::Ready(Ok(output)) => Poll::Ready(Ok(output)),
            Poll::Ready(Err(_)) => Poll::Ready(Err(this.breaker.timed_out(*this.limit))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Records the end of a permitted call (`done`: the body's result, or the expired time limit)
/// and gives the caller's result.
#[inline(always)]
pub fn settle<T, E>(
    permit: Permit<'_>,
    done: Result<Result<T, E>, TimeoutError>,
    classifier: &Classifier<T, E>,
) -> Result<T, Failure<E>> {
    permit.settle(done, classifier).0
}

/// [`settle`], recording on the permit's span the outcome (`circuit_breaker.outcome`), and an
/// error status when the breaker counted the call as an error (failure, timeout; not for an
/// ignored error, nor for an error that `record` counts as a success), described by the
/// rejection, the timeout, or the body's error (through `describe`, see [`DisplayErrorTag`]).
#[inline]
pub fn settle_traced<T, E>(
    permit: TracedPermit<'_>,
    done: Result<Result<T, E>, TimeoutError>,
    classifier: &Classifier<T, E>,
    describe: impl DescribeError<E>,
) -> Result<T, Failure<E>> {
    let TracedPermit { permit, unsettled } = permit;
    let span = unsettled.settled();
    let (result, outcome) = permit.settle(done, classifier);
    record_on_span(span, outcome, &result, describe);
    result
}

/// The result of a rejected call.
#[cold]
pub fn rejected<T, E>(rejected: CallNotPermitted) -> Result<T, Failure<E>> {
    Err(Failure::NotPermitted(rejected))
}

/// [`rejected`], recording the rejection on `span`.
#[cold]
pub fn rejected_traced<T, E>(
    rejected: CallNotPermitted,
    span: &tracing::Span,
) -> Result<T, Failure<E>> {
    let result = Err(Failure::NotPermitted(rejected));
    record_on_span(span, Outcome::NotPermitted, &result, OpaqueError);
    result
}

fn record_on_span<T, E>(
    span: &tracing::Span,
    outcome: Outcome,
    result: &Result<T, Failure<E>>,
    describe: impl DescribeError<E>,
) {
    if span.is_disabled() {
        return;
    }
    span.record("circuit_breaker.outcome", outcome.as_str());
    if outcome.is_error() {
        span.record("otel.status_code", "error");
        match result {
            Err(Failure::NotPermitted(rejected)) => {
                span.record("otel.status_description", tracing::field::display(rejected));
            }
            Err(Failure::Timeout(timeout)) => {
                span.record("otel.status_description", tracing::field::display(timeout));
            }
            Err(failure) => mark_failure(span, failure, describe),
            // An `Ok` that `record_result` counts as a failure: there is no error to describe.
            Ok(_) => {}
        }
    }
}

/// Describes `failure` on `span` (enabled, already marked as an error): the body's error through
/// `describe`, a layer's reason by its `Display`.
fn mark_failure<E>(span: &tracing::Span, failure: &Failure<E>, describe: impl DescribeError<E>) {
    match failure {
        Failure::Failed(error) => describe.describe(error, span),
        Failure::NotPermitted(rejected) => {
            span.record("otel.status_description", tracing::field::display(rejected));
        }
        Failure::Timeout(timeout) => {
            span.record("otel.status_description", tracing::field::display(timeout));
        }
        Failure::MaxRetriesExceeded(exceeded) => {
            span.record("otel.status_description", tracing::field::display(exceeded));
        }
        Failure::RequestNotPermitted(rejected) => {
            span.record("otel.status_description", tracing::field::display(rejected));
        }
        Failure::BulkheadFull(rejected) => {
            span.record("otel.status_description", tracing::field::display(rejected));
        }
    }
}

/// [`settle`] for a breaker around another layer (`#[retry]` inside `#[circuit_breaker]`), whose
/// result carries a [`Failure`] already: the call's own error is classified, an inner layer's
/// reason is a failure.
#[inline(always)]
pub fn settle_layered<T, E>(
    permit: Permit<'_>,
    done: Result<Result<T, Failure<E>>, TimeoutError>,
    classifier: &Classifier<T, E>,
) -> Result<T, Failure<E>> {
    permit.settle_layered(done, classifier).0
}

/// [`settle_layered`], recording on the permit's span as [`settle_traced`] does.
#[inline]
pub fn settle_layered_traced<T, E>(
    permit: TracedPermit<'_>,
    done: Result<Result<T, Failure<E>>, TimeoutError>,
    classifier: &Classifier<T, E>,
    describe: impl DescribeError<E>,
) -> Result<T, Failure<E>> {
    let TracedPermit { permit, unsettled } = permit;
    let span = unsettled.settled();
    let (result, outcome) = permit.settle_layered(done, classifier);
    record_on_span(span, outcome, &result, describe);
    result
}

/// The function's result (the body's, or an inner layer's fallback's) as a layer's result, for
/// the layer around it: an `Err` is the call's own error.
#[inline(always)]
pub fn lift<T, E>(result: Result<T, E>) -> Result<T, Failure<E>> {
    result.map_err(Failure::Failed)
}

/// The attempts of one `#[retry]` call.
#[inline(always)]
pub fn attempts(retry: &Retry) -> Attempts<'_> {
    retry.attempts()
}

/// Awaits a wait between two attempts of a `#[retry]` call, kept in `attempts` while it runs
/// (so that the function's future has one thing to drop, out of line: see `Attempts`' drop).
#[inline(always)]
pub fn wait<'a, 'r>(
    attempts: &'a mut Attempts<'r>,
    sleep: crate::retry::Sleep,
) -> impl Future<Output = ()> + use<'a, 'r> {
    attempts.wait(sleep)
}

/// Settles one attempt of a `#[retry]` call: the predicates see [`Failure::cause`], the events
/// describe the failure through `describe` (the error's `Display`, or its type's name).
#[inline]
pub fn retry_settle<T: 'static, E: 'static>(
    attempts: &mut Attempts<'_>,
    done: Result<T, Failure<E>>,
    describe: impl DescribeError<E>,
) -> Next<T, Failure<E>> {
    attempts.settle(done, Failure::cause, |failure| describe.text(failure))
}

/// [`retry_settle`], marking the attempt's span (`retry.attempt` was recorded when it was
/// created) as an error when the attempt failed.
#[inline]
pub fn retry_settle_traced<T: 'static, E: 'static>(
    attempts: &mut Attempts<'_>,
    done: Result<T, Failure<E>>,
    describe: impl DescribeError<E>,
    attempt_span: &tracing::Span,
) -> Next<T, Failure<E>> {
    if let Err(failure) = &done
        && !attempt_span.is_disabled()
    {
        attempt_span.record("otel.status_code", "error");
        mark_failure(attempt_span, failure, describe);
    }
    retry_settle(attempts, done, describe)
}

/// The span of one attempt, a child of `parent` (the `#[traced]` span, or an outer attempt's);
/// disabled when `parent` is (then nothing is recorded, and no span lands elsewhere).
#[inline]
pub fn attempt_span(parent: &tracing::Span, span: impl FnOnce() -> tracing::Span) -> tracing::Span {
    if parent.is_disabled() {
        tracing::Span::none()
    } else {
        span()
    }
}

/// Marks a span as an error if dropped before [`settled`](Self::settled): the attempt (or the
/// whole `#[retry]` call) panicked, or the caller dropped it (cancelled). `#[retry]` holds one
/// for the span around it and one per attempt span.
pub struct SpanGuard<'a>(&'a tracing::Span);

impl<'a> SpanGuard<'a> {
    /// Guards `span` until [`settled`](Self::settled).
    #[inline(always)]
    pub fn new(span: &'a tracing::Span) -> Self {
        Self(span)
    }

    /// The call ended with an outcome; nothing to mark.
    #[inline(always)]
    pub fn settled(self) {
        std::mem::forget(self);
    }
}

impl Drop for SpanGuard<'_> {
    fn drop(&mut self) {
        let span = self.0;
        if span.is_disabled() {
            return;
        }
        let description = if std::thread::panicking() {
            "the call panicked"
        } else {
            "the call was cancelled"
        };
        span.record("otel.status_code", "error");
        span.record("otel.status_description", description);
    }
}

/// The result of a `#[retry]` call: the last attempt's cause, or the exhausted retry.
#[inline(always)]
pub fn retried<T, E>(result: Result<T, RetryError<Failure<E>>>) -> Result<T, Failure<E>> {
    match result {
        Ok(value) => Ok(value),
        Err(RetryError::Failed(failure)) => Err(failure),
        Err(RetryError::MaxRetriesExceeded(exceeded)) => Err(Failure::MaxRetriesExceeded(exceeded)),
    }
}

/// [`retried`], recording on the span around the retry (`#[traced]`'s) the attempts made
/// (`retry.attempts`) and, when the call failed, its error status and description.
#[inline]
pub fn retried_traced<T, E>(
    result: Result<T, RetryError<Failure<E>>>,
    attempts: u32,
    describe: impl DescribeError<E>,
    span: &tracing::Span,
) -> Result<T, Failure<E>> {
    let result = retried(result);
    if !span.is_disabled() {
        span.record("retry.attempts", attempts);
        if let Err(failure) = &result {
            span.record("otel.status_code", "error");
            mark_failure(span, failure, describe);
        }
    }
    result
}

/// Acquires `permits` permits of `limiter` for one `#[rate_limiter]` call (waiting up to its
/// `timeout_duration`, cancellation-safe: see [`RateLimiter::acquire_permission`]).
#[inline(always)]
pub fn rate_limit(
    limiter: &RateLimiter,
    permits: u32,
) -> impl Future<Output = Result<(), RequestNotPermitted>> + use<'_> {
    limiter.acquire_permission(permits)
}

/// [`rate_limit`], recording the rate limiter's verdict on `span`
/// (`rate_limiter.outcome`: `permitted` or `not_permitted`).
#[inline]
pub async fn rate_limit_traced(
    limiter: &RateLimiter,
    permits: u32,
    span: &tracing::Span,
) -> Result<(), RequestNotPermitted> {
    let acquired = limiter.acquire_permission(permits).await;
    if !span.is_disabled() {
        let outcome = match acquired {
            Ok(()) => "permitted",
            Err(_) => Outcome::NotPermitted.as_str(),
        };
        span.record("rate_limiter.outcome", outcome);
    }
    acquired
}

/// The result of a permitted `#[rate_limiter]` call around the body: drains the limiter if its
/// `drain_permissions_on_result` predicate (typed by `Result<T, E>`) matches.
#[inline(always)]
pub fn rate_limited<T: 'static, E: 'static>(
    limiter: &RateLimiter,
    done: Result<T, E>,
) -> Result<T, Failure<E>> {
    limiter.drain_if(&done);
    done.map_err(Failure::Failed)
}

/// [`rate_limited`] around another layer: the predicate sees the call's value or own error as a
/// `Result<T, E>`, and an inner layer's reason (a timeout...) as a `Result<T, Failure<E>>`.
#[inline]
pub fn rate_limited_layered<T: 'static, E: 'static>(
    limiter: &RateLimiter,
    done: Result<T, Failure<E>>,
) -> Result<T, Failure<E>> {
    match done {
        Ok(value) => rate_limited(limiter, Ok(value)),
        Err(Failure::Failed(error)) => rate_limited(limiter, Err(error)),
        reason => {
            limiter.drain_if(&reason);
            reason
        }
    }
}

/// [`rate_limited`] / [`rate_limited_layered`]'s result under `#[traced]`: a failed call marks
/// `span` as an error, described as [`settle_traced`] describes it.
#[inline]
pub fn rate_limited_traced<T, E>(
    result: Result<T, Failure<E>>,
    describe: impl DescribeError<E>,
    span: &tracing::Span,
) -> Result<T, Failure<E>> {
    mark_result(span, &result, describe);
    result
}

/// The result of a call the rate limiter refused.
#[cold]
pub fn rate_rejected<T, E>(rejected: RequestNotPermitted) -> Result<T, Failure<E>> {
    Err(Failure::RequestNotPermitted(rejected))
}

/// [`rate_rejected`], marking `span` as an error described by the rejection.
#[cold]
pub fn rate_rejected_traced<T, E>(
    rejected: RequestNotPermitted,
    span: &tracing::Span,
) -> Result<T, Failure<E>> {
    let result = Err(Failure::RequestNotPermitted(rejected));
    mark_result(span, &result, OpaqueError);
    result
}

/// Marks `span` (if enabled) as an error described by `result`'s failure, if it is one.
fn mark_result<T, E>(
    span: &tracing::Span,
    result: &Result<T, Failure<E>>,
    describe: impl DescribeError<E>,
) {
    if let Err(failure) = result
        && !span.is_disabled()
    {
        span.record("otel.status_code", "error");
        mark_failure(span, failure, describe);
    }
}

/// Takes a slot of `bulkhead` for one `#[bulkhead]` call (waiting up to its
/// `max_wait_duration`; dropping the future while it waits takes no slot). The permit is held
/// across the call and gives the slot back when dropped: on completion, cancellation or panic.
#[inline(always)]
pub fn bulkhead_enter(
    bulkhead: &Bulkhead,
) -> impl Future<Output = Result<BulkheadPermit<'_>, BulkheadFull>> + use<'_> {
    bulkhead.acquire_permission()
}

/// [`bulkhead_enter`], recording the bulkhead's verdict on `span` (`bulkhead.outcome`:
/// `permitted` or `not_permitted`).
#[inline]
pub async fn bulkhead_enter_traced<'b>(
    bulkhead: &'b Bulkhead,
    span: &tracing::Span,
) -> Result<BulkheadPermit<'b>, BulkheadFull> {
    let entered = bulkhead.acquire_permission().await;
    if !span.is_disabled() {
        let outcome = match entered {
            Ok(_) => "permitted",
            Err(_) => Outcome::NotPermitted.as_str(),
        };
        span.record("bulkhead.outcome", outcome);
    }
    entered
}

/// The result of a `#[bulkhead]` call around the body, once its permit is given back.
#[inline(always)]
pub fn bulkheaded<T, E>(permit: BulkheadPermit<'_>, done: Result<T, E>) -> Result<T, Failure<E>> {
    drop(permit);
    done.map_err(Failure::Failed)
}

/// [`bulkheaded`] around another layer, whose result carries its reasons already.
#[inline(always)]
pub fn bulkheaded_layered<T, E>(
    permit: BulkheadPermit<'_>,
    done: Result<T, Failure<E>>,
) -> Result<T, Failure<E>> {
    drop(permit);
    done
}

/// [`bulkheaded`] / [`bulkheaded_layered`]'s result under `#[traced]`: a failed call marks
/// `span` as an error, described as [`settle_traced`] describes it.
#[inline]
pub fn bulkheaded_traced<T, E>(
    result: Result<T, Failure<E>>,
    describe: impl DescribeError<E>,
    span: &tracing::Span,
) -> Result<T, Failure<E>> {
    mark_result(span, &result, describe);
    result
}

/// The result of a call the full bulkhead refused.
#[cold]
pub fn bulkhead_rejected<T, E>(rejected: BulkheadFull) -> Result<T, Failure<E>> {
    Err(Failure::BulkheadFull(rejected))
}

/// [`bulkhead_rejected`], marking `span` as an error described by the rejection.
#[cold]
pub fn bulkhead_rejected_traced<T, E>(
    rejected: BulkheadFull,
    span: &tracing::Span,
) -> Result<T, Failure<E>> {
    let result = Err(Failure::BulkheadFull(rejected));
    mark_result(span, &result, OpaqueError);
    result
}

/// A `#[time_limiter]` call whose limit expired (its future was dropped).
#[derive(Clone, Copy, Debug)]
pub struct Elapsed;

/// Counts a panic of a `#[time_limiter]` call as an ERROR while it unwinds (as
/// [`TimeLimiter::call`] does); a cancelled call counts nothing.
struct TimeLimitPanic<'a>(&'a TimeLimiter);

impl Drop for TimeLimitPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.on_error(|| "panicked".to_owned());
        }
    }
}

/// Awaits `call` for at most `limiter`'s `timeout_duration` (the one time-limit mechanism, see
/// [`crate::time_limiter`]): [`Elapsed`] when the limit expired first and `call` was dropped.
#[inline]
pub async fn time_limited<T, X, F>(limiter: &TimeLimiter, call: F) -> Result<Result<T, X>, Elapsed>
where
    F: Future<Output = Result<T, X>>,
{
    let guard = TimeLimitPanic(limiter);
    let done = crate::time_limiter::within(limiter.config().timeout_duration(), call).await;
    std::mem::forget(guard);
    done.map_err(|_| Elapsed)
}

/// Counts and publishes how a `#[time_limiter]` call around the body ended (SUCCESS, ERROR with
/// the error described by `describe`, TIMEOUT), and gives the layer's result: a timeout is
/// [`Failure::Timeout`].
#[inline]
pub fn time_limit_settle<T, E>(
    limiter: &TimeLimiter,
    done: Result<Result<T, E>, Elapsed>,
    describe: impl DescribeError<E>,
) -> Result<T, Failure<E>> {
    limiter
        .settle_with(done.map_err(|_| ()), |e| describe.error_text(e))
        .map_err(Failure::from)
}

/// [`time_limit_settle`] around another layer: an inner layer's reason is an ERROR too.
#[inline]
pub fn time_limit_settle_layered<T, E>(
    limiter: &TimeLimiter,
    done: Result<Result<T, Failure<E>>, Elapsed>,
    describe: impl DescribeError<E>,
) -> Result<T, Failure<E>> {
    match limiter.settle_with(done.map_err(|_| ()), |f| describe.text(f)) {
        Ok(value) => Ok(value),
        Err(crate::time_limiter::TimeLimiterError::Failed(failure)) => Err(failure),
        Err(crate::time_limiter::TimeLimiterError::Timeout(timeout)) => {
            Err(Failure::Timeout(timeout))
        }
    }
}

/// A `#[time_limiter]` result under `#[traced]`: records `time_limiter.outcome` (`success`,
/// `failure`, `timeout`) on `span`, and marks it as an error described by the failure.
#[inline]
pub fn time_limited_traced<T, E>(
    result: Result<T, Failure<E>>,
    describe: impl DescribeError<E>,
    span: &tracing::Span,
) -> Result<T, Failure<E>> {
    if !span.is_disabled() {
        let outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(Failure::Timeout(_)) => Outcome::Timeout,
            Err(_) => Outcome::Failure,
        };
        span.record("time_limiter.outcome", outcome.as_str());
    }
    mark_result(span, &result, describe);
    result
}

/// How a function guarded without a fallback turns a rejection or a timeout into its own error.
///
/// Implemented for every error type `E: From<BreakerError>`; implement that `From` (or add a
/// `fallback`).
#[diagnostic::on_unimplemented(
    message = "`#[circuit_breaker]` without a `fallback` needs `{Self}: From<fusebox::BreakerError>`",
    label = "`{Self}` cannot represent a rejected or timed-out call",
    note = "implement `From<fusebox::BreakerError>` for `{Self}`, or add `fallback = \"...\"` to the attribute"
)]
pub trait FromBreakerError: Sized {
    /// Converts the breaker's reason.
    fn from_breaker_error(error: BreakerError) -> Self;
}

impl<E: From<BreakerError>> FromBreakerError for E {
    #[inline]
    fn from_breaker_error(error: BreakerError) -> Self {
        E::from(error)
    }
}

/// The result of a call guarded without a fallback: the call's own error as is, the breaker's
/// reasons converted with [`FromBreakerError`].
#[inline]
pub fn no_fallback<T, E: FromBreakerError>(result: Result<T, Failure<E>>) -> Result<T, E> {
    match result {
        Ok(value) => Ok(value),
        Err(failure) => Err(match failure.split() {
            Ok(breaker) => E::from_breaker_error(breaker),
            Err(error) => error,
        }),
    }
}

/// How a function under `#[retry]` (outermost) without a fallback turns a breaker's reason or an
/// exhausted retry into its own error: [`FromBreakerError`], with `#[retry]`'s message.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` without a `fallback` needs `{Self}: From<fusebox::BreakerError>`",
    label = "`{Self}` cannot represent a retry that gave up on a rejected result",
    note = "implement `From<fusebox::BreakerError>` for `{Self}` (it carries `MaxRetriesExceeded`, and the rejections and timeouts of a breaker inside the retry), or add `fallback = \"...\"` to the attribute"
)]
pub trait FromRetryError: Sized {
    /// Converts the reason.
    fn from_retry_error(error: BreakerError) -> Self;
}

impl<E: From<BreakerError>> FromRetryError for E {
    #[inline]
    fn from_retry_error(error: BreakerError) -> Self {
        E::from(error)
    }
}

/// [`no_fallback`] for `#[retry]` (outermost).
#[inline]
pub fn no_retry_fallback<T, E: FromRetryError>(result: Result<T, Failure<E>>) -> Result<T, E> {
    match result {
        Ok(value) => Ok(value),
        Err(failure) => Err(match failure.split() {
            Ok(reason) => E::from_retry_error(reason),
            Err(error) => error,
        }),
    }
}

/// How a function under `#[rate_limiter]` (outermost) without a fallback turns a refused call
/// (or an inner layer's reason) into its own error: [`FromBreakerError`], with
/// `#[rate_limiter]`'s message.
#[diagnostic::on_unimplemented(
    message = "`#[rate_limiter]` without a `fallback` needs `{Self}: From<fusebox::BreakerError>`",
    label = "`{Self}` cannot represent a call the rate limiter refused",
    note = "implement `From<fusebox::BreakerError>` for `{Self}` (it carries `RequestNotPermitted`), or add `fallback = \"...\"` to the attribute"
)]
pub trait FromRateLimiterError: Sized {
    /// Converts the reason.
    fn from_rate_limiter_error(error: BreakerError) -> Self;
}

impl<E: From<BreakerError>> FromRateLimiterError for E {
    #[inline]
    fn from_rate_limiter_error(error: BreakerError) -> Self {
        E::from(error)
    }
}

/// [`no_fallback`] for `#[rate_limiter]` (outermost).
#[inline]
pub fn no_rate_limiter_fallback<T, E: FromRateLimiterError>(
    result: Result<T, Failure<E>>,
) -> Result<T, E> {
    result.map_err(|failure| match failure.split() {
        Ok(reason) => E::from_rate_limiter_error(reason),
        Err(error) => error,
    })
}

/// How a function under `#[time_limiter]` (outermost) without a fallback turns a timeout (or an
/// inner layer's reason) into its own error: [`FromBreakerError`], with `#[time_limiter]`'s
/// message.
#[diagnostic::on_unimplemented(
    message = "`#[time_limiter]` without a `fallback` needs `{Self}: From<fusebox::BreakerError>`",
    label = "`{Self}` cannot represent a timed-out call",
    note = "implement `From<fusebox::BreakerError>` for `{Self}` (it carries `Timeout`), or add `fallback = \"...\"` to the attribute"
)]
pub trait FromTimeLimiterError: Sized {
    /// Converts the reason.
    fn from_time_limiter_error(error: BreakerError) -> Self;
}

impl<E: From<BreakerError>> FromTimeLimiterError for E {
    #[inline]
    fn from_time_limiter_error(error: BreakerError) -> Self {
        E::from(error)
    }
}

/// How a function under `#[bulkhead]` (outermost) without a fallback turns a refused call (or
/// an inner layer's reason) into its own error: [`FromBreakerError`], with `#[bulkhead]`'s
/// message.
#[diagnostic::on_unimplemented(
    message = "`#[bulkhead]` without a `fallback` needs `{Self}: From<fusebox::BreakerError>`",
    label = "`{Self}` cannot represent a call the full bulkhead refused",
    note = "implement `From<fusebox::BreakerError>` for `{Self}` (it carries `BulkheadFull`), or add `fallback = \"...\"` to the attribute"
)]
pub trait FromBulkheadError: Sized {
    /// Converts the reason.
    fn from_bulkhead_error(error: BreakerError) -> Self;
}

impl<E: From<BreakerError>> FromBulkheadError for E {
    #[inline]
    fn from_bulkhead_error(error: BreakerError) -> Self {
        E::from(error)
    }
}

/// [`no_fallback`] for `#[bulkhead]` (outermost).
#[inline]
pub fn no_bulkhead_fallback<T, E: FromBulkheadError>(
    result: Result<T, Failure<E>>,
) -> Result<T, E> {
    result.map_err(|failure| match failure.split() {
        Ok(reason) => E::from_bulkhead_error(reason),
        Err(error) => error,
    })
}

/// [`no_fallback`] for `#[time_limiter]` (outermost).
#[inline]
pub fn no_time_limiter_fallback<T, E: FromTimeLimiterError>(
    result: Result<T, Failure<E>>,
) -> Result<T, E> {
    result.map_err(|failure| match failure.split() {
        Ok(reason) => E::from_time_limiter_error(reason),
        Err(error) => error,
    })
}

/// Tag: the fallback returned a future, await it.
pub struct AsyncTag;
/// Tag: the fallback returned its value directly.
pub struct SyncTag;

/// Autoref specialization, step 1: a `Future` fallback value (`&F` receiver, found first).
pub trait AsyncFallback {
    #[inline(always)]
    fn __fusebox_kind(&self) -> AsyncTag {
        AsyncTag
    }
}

impl<F: Future> AsyncFallback for F {}

/// Autoref specialization, step 2: any other value (`&&T` receiver, found after autoref).
pub trait SyncFallback {
    #[inline(always)]
    fn __fusebox_kind(&self) -> SyncTag {
        SyncTag
    }
}

impl<T> SyncFallback for &T {}

impl AsyncTag {
    /// The fallback's future itself.
    #[inline(always)]
    pub fn resolve<F: Future>(self, future: F) -> F {
        future
    }
}

impl SyncTag {
    /// The fallback's value, as a ready future.
    #[inline(always)]
    pub fn resolve<T>(self, value: T) -> Ready<T> {
        std::future::ready(value)
    }
}

/// `#[traced]`: runs `future` inside `span`, and skips the instrumentation wrapper altogether
/// when the span is disabled (no subscriber, or filtered out), as `tracing::instrument` does.
#[inline]
pub async fn instrument<F: Future>(future: F, span: tracing::Span) -> F::Output {
    use tracing::Instrument;
    if span.is_disabled() {
        future.await
    } else {
        future.instrument(span).await
    }
}

/// Tag: the call's error type is `Display`; a failed call's span is described by the error.
#[derive(Clone, Copy)]
pub struct DisplayedError;
/// Tag: the call's error type is not `Display`: nothing describes a failure (the span still gets
/// its error status).
#[derive(Clone, Copy)]
pub struct OpaqueError;

/// Autoref specialization for `#[circuit_breaker]` under `#[traced]`, step 1: a guarded call's
/// `done` value (`Result<Result<T, E>, TimeoutError>`) whose error type `E` is `Display` (`&done`
/// receiver, found first). The tag is chosen from the finished call's value, not from the body's
/// future: borrowing the future would cost the state machine a few instructions per call.
pub trait DisplayErrorTag {
    #[inline(always)]
    fn __fusebox_error_tag(&self) -> DisplayedError {
        DisplayedError
    }
}

impl<T, E: fmt::Display> DisplayErrorTag for Result<Result<T, E>, TimeoutError> {}

/// The same choice on a layer's result (`#[retry]`'s attempt, a breaker around a retry).
impl<T, E: fmt::Display> DisplayErrorTag for Result<T, Failure<E>> {}

/// The same choice on a `#[retry]` loop's result.
impl<T, E: fmt::Display> DisplayErrorTag for Result<T, RetryError<Failure<E>>> {}

/// The same choice on a `#[time_limiter]` call's result (`E` may be a `Failure` of an inner
/// layer, `Display` when its error is).
impl<T, E: fmt::Display> DisplayErrorTag for Result<Result<T, E>, Elapsed> {}
// (A breaker-around-a-layer's `done` value, `Result<Result<T, Failure<E>>, TimeoutError>`, is
// covered by the first impl: `Failure<E>` is `Display` when `E` is.)

/// Autoref specialization, step 2: any other error type (`&&done` receiver, found after autoref).
pub trait OpaqueErrorTag {
    #[inline(always)]
    fn __fusebox_error_tag(&self) -> OpaqueError {
        OpaqueError
    }
}

impl<X> OpaqueErrorTag for &X {}

/// How a guarded call's span describes the body's error `E` (see [`settle_traced`]), and how a
/// retry's events describe a failed attempt.
pub trait DescribeError<E>: Copy {
    /// Records the error's description on `span`, which is enabled and already marked as an
    /// error.
    fn describe(self, error: &E, span: &tracing::Span);

    /// The text of a failed attempt in a retry's events.
    fn text(self, failure: &Failure<E>) -> String;

    /// The text of the call's own error in an event (a time limiter's ERROR).
    fn error_text(self, error: &E) -> String;
}

impl<E: fmt::Display> DescribeError<E> for DisplayedError {
    #[inline]
    fn describe(self, error: &E, span: &tracing::Span) {
        span.record("otel.status_description", tracing::field::display(error));
    }

    fn text(self, failure: &Failure<E>) -> String {
        failure.to_string()
    }

    fn error_text(self, error: &E) -> String {
        error.to_string()
    }
}

impl<E> DescribeError<E> for OpaqueError {
    #[inline(always)]
    fn describe(self, _: &E, _: &tracing::Span) {}

    /// The error type's name for the call's own error (it has no `Display`).
    fn text(self, failure: &Failure<E>) -> String {
        match failure {
            Failure::Failed(_) => std::any::type_name::<E>().to_owned(),
            Failure::NotPermitted(rejected) => rejected.to_string(),
            Failure::Timeout(timeout) => timeout.to_string(),
            Failure::MaxRetriesExceeded(exceeded) => exceeded.to_string(),
            Failure::RequestNotPermitted(rejected) => rejected.to_string(),
            Failure::BulkheadFull(rejected) => rejected.to_string(),
        }
    }

    /// The error type's name (it has no `Display`).
    fn error_text(self, _: &E) -> String {
        std::any::type_name::<E>().to_owned()
    }
}

/// Autoref specialization for `#[traced]` alone, step 1: the function's output is a `Result`
/// whose error type is `Display` (`&output` receiver, found first).
pub trait DescribeDisplayError {
    /// If the output is an `Err`, marks `span` (enabled) as an error described by the error's
    /// `Display` (`otel.status_code`, `otel.status_description`, which the Zipkin exporter turns
    /// into the `error` tag). Nothing is recorded for an `Ok`.
    fn __fusebox_describe_error(&self, span: &tracing::Span);
}

impl<T, E: fmt::Display> DescribeDisplayError for Result<T, E> {
    #[inline]
    fn __fusebox_describe_error(&self, span: &tracing::Span) {
        if let Err(error) = self {
            span.record("otel.status_code", "error");
            span.record("otel.status_description", tracing::field::display(error));
        }
    }
}

/// Autoref specialization, step 2: any other output (`&&output` receiver, found after autoref);
/// nothing to describe.
pub trait DescribeOpaqueError {
    /// Records nothing.
    #[inline(always)]
    fn __fusebox_describe_error(&self, _: &tracing::Span) {}
}

impl<X> DescribeOpaqueError for &X {}

/// `#[traced(err)]`: runs `future` in `span` and, if it returns an `Err`, marks the span as an
/// error with the error's `Display` (`otel.status_code`, `otel.status_description`, which the
/// Zipkin exporter turns into the `error` tag, and `exception.message`).
pub async fn instrument_err<T, E, F>(future: F, span: tracing::Span) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
    E: fmt::Display,
{
    use tracing::Instrument;
    let result = future.instrument(span.clone()).await;
    if let Err(error) = &result {
        span.record("otel.status_code", "error");
        span.record("otel.status_description", tracing::field::display(error));
        span.record("exception.message", tracing::field::display(error));
    }
    result
}
