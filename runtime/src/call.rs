//! Guarded calls: the [`Permit`] guard, outcome classification ([`Classifier`]), the time limit,
//! and what a caller gets back when the breaker steps in ([`Failure`], [`BreakerError`]).

use crate::breaker::{CallNotPermitted, CircuitBreaker};
use crate::bulkhead::BulkheadFull;
use crate::rate_limiter::RequestNotPermitted;
use crate::retry::MaxRetriesExceeded;
use crate::state::State;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How a call ended, from the breaker's point of view.
///
/// ```
/// use fusebox_runtime::Outcome;
/// assert_eq!(Outcome::NotPermitted.as_str(), "not_permitted");
/// assert!(Outcome::Timeout.is_error());
/// assert!(!Outcome::Ignored.is_error());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Recorded as a success.
    Success,
    /// Recorded as a failure.
    Failure,
    /// An ignored error: nothing recorded, permission released.
    Ignored,
    /// The breaker rejected the call.
    NotPermitted,
    /// The time limit expired; recorded as a failure.
    Timeout,
}

impl Outcome {
    /// The lower-case name used in span fields and metrics: `success`, `failure`, `ignored`,
    /// `not_permitted`, `timeout`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Ignored => "ignored",
            Outcome::NotPermitted => "not_permitted",
            Outcome::Timeout => "timeout",
        }
    }

    /// Whether the caller should see this as an error in traces (failure, rejection, timeout).
    pub const fn is_error(self) -> bool {
        matches!(
            self,
            Outcome::Failure | Outcome::NotPermitted | Outcome::Timeout
        )
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decides whether a `Result` counts as a success, a failure or neither, with Resilience4j's
/// rules:
///
/// * an `Err` is a failure, unless `ignore` says to ignore it (ignore wins), or `record` is set
///   and does not match it, in which case it counts as a success;
/// * an `Ok` is a success, unless `result` matches it (e.g. an HTTP 503 carried in `Ok`), in
///   which case it is recorded as a failure — and still returned as `Ok`.
///
/// Predicates are plain function pointers, so a classifier can live in a `static`.
///
/// ```
/// use fusebox_runtime::{Classifier, Outcome};
///
/// #[derive(Debug)]
/// enum ApiError { NotFound, Unavailable }
///
/// static CLASSIFY: Classifier<u16, ApiError> = Classifier::new()
///     .ignore(|e| matches!(e, ApiError::NotFound))
///     .result(|status| *status == 503);
///
/// assert_eq!(CLASSIFY.classify(&Err(ApiError::NotFound)), Outcome::Ignored);
/// assert_eq!(CLASSIFY.classify(&Err(ApiError::Unavailable)), Outcome::Failure);
/// assert_eq!(CLASSIFY.classify(&Ok(503)), Outcome::Failure);
/// assert_eq!(CLASSIFY.classify(&Ok(200)), Outcome::Success);
/// ```
pub struct Classifier<T, E> {
    record: Option<fn(&E) -> bool>,
    ignore: Option<fn(&E) -> bool>,
    result: Option<fn(&T) -> bool>,
}

impl<T, E> Clone for Classifier<T, E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, E> Copy for Classifier<T, E> {}

impl<T, E> Default for Classifier<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> fmt::Debug for Classifier<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Classifier")
            .field("record", &self.record.is_some())
            .field("ignore", &self.ignore.is_some())
            .field("result", &self.result.is_some())
            .finish()
    }
}

impl<T, E> Classifier<T, E> {
    /// Every `Err` is a failure, every `Ok` a success.
    pub const fn new() -> Self {
        Self {
            record: None,
            ignore: None,
            result: None,
        }
    }

    /// Only errors matching `predicate` are failures; other errors count as successes.
    pub const fn record(mut self, predicate: fn(&E) -> bool) -> Self {
        self.record = Some(predicate);
        self
    }

    /// Errors matching `predicate` are ignored: neither success nor failure.
    pub const fn ignore(mut self, predicate: fn(&E) -> bool) -> Self {
        self.ignore = Some(predicate);
        self
    }

    /// `Ok` values matching `predicate` are recorded as failures.
    pub const fn result(mut self, predicate: fn(&T) -> bool) -> Self {
        self.result = Some(predicate);
        self
    }

    /// How `result` counts.
    #[inline]
    pub fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(v) => self.classify_ok(v),
            Err(e) => self.classify_err(e),
        }
    }

    /// How an `Ok(value)` counts.
    #[inline]
    fn classify_ok(&self, value: &T) -> Outcome {
        match self.result {
            Some(p) if p(value) => Outcome::Failure,
            _ => Outcome::Success,
        }
    }

    /// How an `Err(error)` counts.
    #[inline]
    fn classify_err(&self, error: &E) -> Outcome {
        if self.ignore.is_some_and(|ignore| ignore(error)) {
            return Outcome::Ignored;
        }
        match self.record {
            Some(record) if !record(error) => Outcome::Success,
            _ => Outcome::Failure,
        }
    }

    /// How the result of an inner layer counts (a breaker around a `#[retry]`): the call's own
    /// error as [`classify`](Self::classify) says; an inner layer's reason (an exhausted
    /// retry, a rejection) is a failure, as its exception is in Resilience4j.
    #[inline]
    pub(crate) fn classify_layered(&self, result: &Result<T, Failure<E>>) -> Outcome {
        match result {
            Ok(v) => self.classify_ok(v),
            Err(Failure::Failed(e)) => self.classify_err(e),
            Err(_) => Outcome::Failure,
        }
    }
}

/// A time limit expired before the call finished; the call was dropped (or, for
/// [`TimeLimiter::call_spawned`](crate::time_limiter::TimeLimiter::call_spawned) without
/// `cancel_running_future`, left running). Raised by a breaker's `timeout` or by a
/// [`TimeLimiter`](crate::time_limiter::TimeLimiter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeoutError {
    pub(crate) name: Arc<str>,
    pub(crate) after: Duration,
    pub(crate) by: TimedBy,
}

/// What kind of instance raised a [`TimeoutError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimedBy {
    CircuitBreaker,
    TimeLimiter,
}

impl TimeoutError {
    /// A time limiter's timeout.
    pub(crate) fn time_limiter(name: Arc<str>, after: Duration) -> Self {
        TimeoutError {
            name,
            after,
            by: TimedBy::TimeLimiter,
        }
    }

    /// The name of the breaker (or time limiter) whose limit expired.
    pub fn breaker_name(&self) -> &str {
        &self.name
    }

    /// The name of the breaker or time limiter whose limit expired.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a [`TimeLimiter`](crate::time_limiter::TimeLimiter) raised it (rather than a
    /// breaker's `timeout`).
    pub fn is_from_time_limiter(&self) -> bool {
        self.by == TimedBy::TimeLimiter
    }

    /// The limit that expired.
    pub fn after(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.by {
            TimedBy::CircuitBreaker => write!(
                f,
                "CircuitBreaker '{}' timed out the call after {:?}",
                self.name, self.after
            ),
            // Resilience4j's `TimeoutException` message.
            TimedBy::TimeLimiter => write!(
                f,
                "TimeLimiter '{}' recorded a timeout exception.",
                self.name
            ),
        }
    }
}

impl std::error::Error for TimeoutError {}

/// Why a guarded call did not produce a value: the cause handed to a fallback.
///
/// Each attribute's fallback sees the cause at its own layer: `#[circuit_breaker]`'s sees
/// `NotPermitted`, `Failed` or `Timeout`; `#[retry]`'s sees the last attempt's cause (`Failed`,
/// or `NotPermitted` / `Timeout` from a breaker inside it without a fallback) or
/// `MaxRetriesExceeded`; `#[rate_limiter]`'s sees `RequestNotPermitted` or the call's own
/// cause; `#[time_limiter]`'s sees `Timeout` or the call's own cause; `#[bulkhead]`'s sees
/// `BulkheadFull` or the call's own cause. The enum is `#[non_exhaustive]`.
///
/// **Migration (issue 14):** `MaxRetriesExceeded`, `RequestNotPermitted` and `BulkheadFull`
/// are new, and
/// `Failure` (like [`BreakerError`]) is now `#[non_exhaustive]`: a `match` over it outside
/// fusebox needs a `_` arm (or use [`split`](Self::split), [`into_error`](Self::into_error),
/// [`outcome`](Self::outcome)).
///
/// ```
/// use fusebox_runtime::{BreakerError, Failure, Registry};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let breaker = Registry::new().circuit_breaker("orders");
/// breaker.transition_to_forced_open_state().unwrap();
/// let result: Result<u32, Failure<std::io::Error>> = breaker.call(async { Ok(1) }).await;
/// let cause = result.unwrap_err();
/// assert!(cause.is_not_permitted());
/// assert!(matches!(cause.split(), Ok(BreakerError::NotPermitted(_))));
/// # });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure<E> {
    /// The breaker rejected the call; it never ran.
    NotPermitted(CallNotPermitted),
    /// The call returned this error.
    Failed(E),
    /// The call took longer than the breaker's `timeout` and was dropped.
    Timeout(TimeoutError),
    /// `#[retry]`: the result predicate still rejected the last attempt's result and the retry's
    /// `fail_after_max_attempts` is on (Resilience4j's `MaxRetriesExceededException`).
    MaxRetriesExceeded(MaxRetriesExceeded),
    /// `#[rate_limiter]`: the rate limiter refused the call (no permit within its
    /// `timeout_duration`); the call never ran (Resilience4j's `RequestNotPermitted`).
    RequestNotPermitted(RequestNotPermitted),
    /// `#[bulkhead]`: the bulkhead was full and stayed full for its `max_wait_duration`; the
    /// call never ran (Resilience4j's `BulkheadFullException`).
    BulkheadFull(BulkheadFull),
}

impl<E> Failure<E> {
    /// The call's own error, if it failed by itself.
    pub fn into_error(self) -> Option<E> {
        match self {
            Failure::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Splits into the call's own error or the breaker's reason.
    pub fn split(self) -> Result<BreakerError, E> {
        match self {
            Failure::Failed(e) => Err(e),
            Failure::NotPermitted(n) => Ok(BreakerError::NotPermitted(n)),
            Failure::Timeout(t) => Ok(BreakerError::Timeout(t)),
            Failure::MaxRetriesExceeded(m) => Ok(BreakerError::MaxRetriesExceeded(m)),
            Failure::RequestNotPermitted(r) => Ok(BreakerError::RequestNotPermitted(r)),
            Failure::BulkheadFull(b) => Ok(BreakerError::BulkheadFull(b)),
        }
    }

    /// The outcome this failure was recorded as (an ignored error reaches a fallback as
    /// `Failed`, like Resilience4j's fallbacks see every exception).
    pub fn outcome(&self) -> Outcome {
        match self {
            Failure::NotPermitted(_) => Outcome::NotPermitted,
            Failure::Failed(_) => Outcome::Failure,
            Failure::Timeout(_) => Outcome::Timeout,
            // The retry's last attempt, whose result the retry rejected.
            Failure::MaxRetriesExceeded(_) => Outcome::Failure,
            // A rate limiter's rejection, seen by a layer around it.
            Failure::RequestNotPermitted(_) => Outcome::NotPermitted,
            // A bulkhead's rejection, seen by a layer around it.
            Failure::BulkheadFull(_) => Outcome::NotPermitted,
        }
    }

    /// Whether the breaker rejected the call.
    pub fn is_not_permitted(&self) -> bool {
        matches!(self, Failure::NotPermitted(_))
    }

    /// Whether the call timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Failure::Timeout(_))
    }

    /// Whether a retry gave up because the result predicate still rejected the last result.
    pub fn is_max_retries_exceeded(&self) -> bool {
        matches!(self, Failure::MaxRetriesExceeded(_))
    }

    /// Whether a rate limiter refused the call.
    pub fn is_request_not_permitted(&self) -> bool {
        matches!(self, Failure::RequestNotPermitted(_))
    }

    /// Whether a bulkhead refused the call.
    pub fn is_bulkhead_full(&self) -> bool {
        matches!(self, Failure::BulkheadFull(_))
    }

    /// What the retry and ignore predicates of a retry config see: the call's own error, or
    /// the rejection, the timeout, the exhausted retry (a predicate typed by
    /// [`CallNotPermitted`] can ignore rejections, as RobWin advises for Retry around a
    /// CircuitBreaker).
    pub fn cause(&self) -> &dyn std::any::Any
    where
        E: 'static,
    {
        match self {
            Failure::Failed(e) => e,
            Failure::NotPermitted(n) => n,
            Failure::Timeout(t) => t,
            Failure::MaxRetriesExceeded(m) => m,
            Failure::RequestNotPermitted(r) => r,
            Failure::BulkheadFull(b) => b,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NotPermitted(n) => n.fmt(f),
            Failure::Failed(e) => e.fmt(f),
            Failure::Timeout(t) => t.fmt(f),
            Failure::MaxRetriesExceeded(m) => m.fmt(f),
            Failure::RequestNotPermitted(r) => r.fmt(f),
            Failure::BulkheadFull(b) => b.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Failure<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::NotPermitted(n) => Some(n),
            Failure::Failed(e) => Some(e),
            Failure::Timeout(t) => Some(t),
            Failure::MaxRetriesExceeded(m) => Some(m),
            Failure::RequestNotPermitted(r) => Some(r),
            Failure::BulkheadFull(b) => Some(b),
        }
    }
}

/// The breaker's own reasons to fail a call (no call error inside). A function guarded without
/// a fallback returns its error type built from this, so that type implements
/// `From<BreakerError>`:
///
/// ```
/// use fusebox_runtime::BreakerError;
///
/// #[derive(Debug)]
/// enum ClientError {
///     Unavailable(BreakerError),
///     Http(u16),
/// }
///
/// impl From<BreakerError> for ClientError {
///     fn from(e: BreakerError) -> Self {
///         ClientError::Unavailable(e)
///     }
/// }
/// # let _ = ClientError::Http(500);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakerError {
    /// The breaker rejected the call.
    NotPermitted(CallNotPermitted),
    /// The call timed out.
    Timeout(TimeoutError),
    /// A `#[retry]` gave up on a result its predicate rejected (`fail_after_max_attempts`).
    MaxRetriesExceeded(MaxRetriesExceeded),
    /// A `#[rate_limiter]` refused the call.
    RequestNotPermitted(RequestNotPermitted),
    /// A `#[bulkhead]` refused the call (full for its `max_wait_duration`).
    BulkheadFull(BulkheadFull),
}

impl fmt::Display for BreakerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakerError::NotPermitted(n) => n.fmt(f),
            BreakerError::Timeout(t) => t.fmt(f),
            BreakerError::MaxRetriesExceeded(m) => m.fmt(f),
            BreakerError::RequestNotPermitted(r) => r.fmt(f),
            BreakerError::BulkheadFull(b) => b.fmt(f),
        }
    }
}

impl std::error::Error for BreakerError {}

/// Permission to make one call. Record its outcome with [`record`](Self::record) (or
/// [`on_success`](Self::on_success) / [`on_error`](Self::on_error)); the duration is measured
/// from acquisition.
///
/// A permit cannot leak: dropped without an outcome (a cancelled future) it releases itself,
/// and dropped while its thread panics it records a failure.
///
/// ```
/// use fusebox_runtime::{Classifier, Registry};
///
/// let breaker = Registry::new().circuit_breaker("orders");
/// let permit = breaker.try_acquire()?;
/// let result: Result<u32, std::io::Error> = Ok(7);
/// permit.record(&result, &Classifier::new());
/// assert_eq!(breaker.metrics().number_of_successful_calls(), 1);
/// # Ok::<(), fusebox_runtime::CallNotPermitted>(())
/// ```
#[must_use = "a permit releases itself when dropped; record the call's outcome"]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    started: u64,
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.breaker.name())
            .finish()
    }
}

impl<'a> Permit<'a> {
    /// Time since the permit was acquired, by the breaker's clock.
    #[inline]
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_nanos())
    }

    #[inline]
    fn elapsed_nanos(&self) -> u64 {
        self.breaker.now_nanos().saturating_sub(self.started)
    }

    /// The permit of a permission `breaker` granted at `started` (its clock's nanoseconds), as
    /// [`into_started`](Self::into_started) gave it up: how an owning guard (the tower layer's
    /// response future, which cannot borrow its breaker) records through a borrowed permit.
    #[cfg(feature = "tower")]
    #[inline]
    pub(crate) fn resume(breaker: &'a CircuitBreaker, started: u64) -> Self {
        Self { breaker, started }
    }

    /// Gives up the permit without running its `Drop`, returning when it was granted; the
    /// caller owns the permission and must [`resume`](Self::resume) it to end it.
    #[cfg(feature = "tower")]
    #[inline]
    pub(crate) fn into_started(self) -> u64 {
        let started = self.started;
        std::mem::forget(self);
        started
    }

    /// Consumes the permit without running its `Drop` (the outcome is being recorded).
    #[inline]
    fn finish(self) -> (&'a CircuitBreaker, u64) {
        let (breaker, _, elapsed) = self.end();
        (breaker, elapsed)
    }

    /// [`finish`](Self::finish), also returning the clock reading that ended the call:
    /// `(breaker, ended, elapsed)`.
    #[inline]
    fn end(self) -> (&'a CircuitBreaker, u64, u64) {
        let (breaker, started) = (self.breaker, self.started);
        // Nothing in a permit owns memory: forgetting it only skips the release in `Drop`.
        // Forgotten before the clock is read, so that no permit is alive across that read (it
        // would be kept in memory for the unwinding path).
        std::mem::forget(self);
        let ended = breaker.now_nanos();
        (breaker, ended, ended.saturating_sub(started))
    }

    /// Records the call's outcome (`failed` or not), placed by the reading that ended it.
    #[inline(always)]
    fn record_outcome(self, failed: bool) {
        let (breaker, ended, elapsed) = self.end();
        breaker.record_ended(ended, elapsed, failed);
    }

    /// Records a success.
    #[inline]
    pub fn on_success(self) {
        self.record_outcome(false);
    }

    /// Records a failure.
    #[inline]
    pub fn on_error(self) {
        self.record_outcome(true);
    }

    /// Ignores the call: releases the permission and publishes an IGNORED_ERROR event.
    pub fn on_ignored(self) {
        let (breaker, elapsed) = self.finish();
        breaker.on_ignored_error(Duration::from_nanos(elapsed));
    }

    /// Records how a call under the time limit ended — `Err`: the limit expired, a failure —
    /// and turns it into the caller's result, with the outcome.
    #[inline(always)]
    pub(crate) fn settle<T, E>(
        self,
        done: Result<Result<T, E>, TimeoutError>,
        classifier: &Classifier<T, E>,
    ) -> (Result<T, Failure<E>>, Outcome) {
        match done {
            Ok(result) => {
                let outcome = self.record(&result, classifier);
                (result.map_err(Failure::Failed), outcome)
            }
            Err(timeout) => {
                self.on_timeout(timeout.after);
                (Err(Failure::Timeout(timeout)), Outcome::Timeout)
            }
        }
    }

    /// [`settle`](Self::settle) for a breaker around another layer, whose result already
    /// carries a [`Failure`] (see [`Classifier::classify_layered`]).
    #[inline]
    pub(crate) fn settle_layered<T, E>(
        self,
        done: Result<Result<T, Failure<E>>, TimeoutError>,
        classifier: &Classifier<T, E>,
    ) -> (Result<T, Failure<E>>, Outcome) {
        match done {
            Ok(result) => {
                let outcome = classifier.classify_layered(&result);
                self.record_as(outcome);
                (result, outcome)
            }
            Err(timeout) => {
                self.on_timeout(timeout.after);
                (Err(Failure::Timeout(timeout)), Outcome::Timeout)
            }
        }
    }

    /// Records an outcome already classified.
    #[inline]
    fn record_as(self, outcome: Outcome) {
        if outcome == Outcome::Ignored {
            self.on_ignored();
        } else {
            self.record_outcome(outcome != Outcome::Success);
        }
    }

    /// Records an expired time limit: a failure, counted for observers as a timeout. Its
    /// duration is at least the `limit`, as Resilience4j's is: the 1 ms tick clock can read a
    /// little less than the timer that expired.
    #[cold]
    #[inline(never)]
    pub(crate) fn on_timeout(self, limit: Duration) {
        let (breaker, elapsed) = self.finish();
        let limit = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
        let elapsed = elapsed.max(limit);
        breaker.inner.events.note_timeout(breaker.state());
        breaker.record_nanos(elapsed, true);
    }

    /// Releases the permission without recording anything (the call did not happen).
    pub fn release(self) {
        let (breaker, _) = self.finish();
        breaker.release_permission();
    }

    /// Classifies `result` and records it; returns how it counted.
    #[inline(always)]
    pub fn record<T, E>(self, result: &Result<T, E>, classifier: &Classifier<T, E>) -> Outcome {
        let outcome = classifier.classify(result);
        if outcome == Outcome::Ignored {
            self.on_ignored();
        } else {
            self.record_outcome(outcome != Outcome::Success);
        }
        outcome
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        // Only reached when no outcome was recorded: the recording methods forget the permit.
        if std::thread::panicking() {
            // The guarded call panicked: a failure, as a thrown exception is in Resilience4j.
            self.breaker.record_nanos(self.elapsed_nanos(), true);
        } else {
            // Cancelled: give the permit back so HALF_OPEN cannot get stuck.
            self.breaker.release_permission();
        }
    }
}

impl CircuitBreaker {
    /// Asks for a permit; the call is rejected with [`CallNotPermitted`] otherwise.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, CallNotPermitted> {
        match self.acquire_permitted() {
            Ok(()) => Ok(Permit {
                breaker: self,
                started: self.now_nanos(),
            }),
            Err(state) => Err(self.rejected_in(state)),
        }
    }

    /// [`try_acquire`](Self::try_acquire), with the state that gave the permit.
    ///
    /// (A permit is two words, so that it travels in registers: the state is not part of it.)
    #[inline]
    pub(crate) fn try_acquire_in_state(&self) -> Result<(Permit<'_>, State), CallNotPermitted> {
        match self.acquire_in_state() {
            Ok(state) => Ok((
                Permit {
                    breaker: self,
                    started: self.now_nanos(),
                },
                state,
            )),
            Err(state) => Err(self.rejected_in(state)),
        }
    }

    /// Runs `call` under the breaker: acquire, apply the configured `timeout`, classify with
    /// `classifier`, record with the measured duration.
    ///
    /// The time limit uses tokio's timer, so a breaker with a `timeout` must be called from
    /// within a tokio runtime with the time driver enabled.
    ///
    /// ```
    /// use fusebox_runtime::{Classifier, Failure, Registry};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let breaker = Registry::new().circuit_breaker("orders");
    /// let ok: Result<u32, Failure<std::io::Error>> =
    ///     breaker.call_with(&Classifier::new(), async { Ok(1) }).await;
    /// assert_eq!(ok.unwrap(), 1);
    /// # });
    /// ```
    pub fn call_with<'a, T, E, F>(
        &'a self,
        classifier: &Classifier<T, E>,
        call: F,
    ) -> impl Future<Output = Result<T, Failure<E>>> + use<'a, T, E, F>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.run(*classifier, call, |_, _| {})
    }

    /// [`call_with`](Self::call_with) with the default classifier: every `Err` is a failure.
    pub fn call<T, E, F>(
        &self,
        call: F,
    ) -> impl Future<Output = Result<T, Failure<E>>> + use<'_, T, E, F>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.run(Classifier::new(), call, |_, _| {})
    }

    /// [`call_with`](Self::call_with), telling `observe` how the call went once that is known:
    /// the state that gave the permit and the recorded outcome, or the state that rejected the
    /// call and [`Outcome::NotPermitted`]. A call dropped before it ends (cancelled) is not
    /// observed.
    pub fn call_observed<'a, T, E, F, O>(
        &'a self,
        classifier: &Classifier<T, E>,
        call: F,
        observe: O,
    ) -> impl Future<Output = Result<T, Failure<E>>> + use<'a, T, E, F, O>
    where
        F: Future<Output = Result<T, E>>,
        O: FnOnce(State, Outcome),
    {
        self.run(*classifier, call, observe)
    }

    /// The body of [`call`](Self::call), [`call_with`](Self::call_with) and
    /// [`call_observed`](Self::call_observed), which return its future as it is: acquire (with
    /// the state), await `call` (under the time limit, if any), settle the permit, observe.
    ///
    /// `#[circuit_breaker]` does not go through it: the generated code writes the same steps
    /// out in the function's own body (see `crate::private`).
    #[inline]
    pub(crate) async fn run<T, E, F, O>(
        &self,
        classifier: Classifier<T, E>,
        call: F,
        observe: O,
    ) -> Result<T, Failure<E>>
    where
        F: Future<Output = Result<T, E>>,
        O: FnOnce(State, Outcome),
    {
        let (permit, state) = match self.try_acquire_in_state() {
            Ok(acquired) => acquired,
            Err(rejected) => {
                observe(rejected.state(), Outcome::NotPermitted);
                return Err(Failure::NotPermitted(rejected));
            }
        };
        let done = match self.timeout() {
            None => Ok(call.await),
            Some(limit) => self.within(limit, call).await,
        };
        let (result, outcome) = permit.settle(done, &classifier);
        observe(state, outcome);
        result
    }

    /// Awaits `call` for at most `limit`, dropping it when the limit expires: the time limit
    /// shared with [`TimeLimiter`](crate::time_limiter::TimeLimiter) (`time_limiter::within`).
    pub(crate) async fn within<T, F>(&self, limit: Duration, call: F) -> Result<T, TimeoutError>
    where
        F: Future<Output = T>,
    {
        crate::time_limiter::within(limit, call)
            .await
            .map_err(|_| self.timed_out(limit))
    }

    /// The error of a call of this breaker that its time limit `limit` stopped.
    #[cold]
    pub(crate) fn timed_out(&self, limit: Duration) -> TimeoutError {
        TimeoutError {
            name: self.inner.name.clone(),
            after: limit,
            by: TimedBy::CircuitBreaker,
        }
    }
}
