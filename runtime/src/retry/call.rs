//! The retry loop: [`Retry::call`], Resilience4j's `AsyncRetryBlock` driving its
//! `AsyncContextImpl`, and [`Attempts`], that context on its own: what to do after each attempt.
//!
//! `Retry::call` is a loop over [`Attempts`] (the future [`Retrying`]); `#[retry]` writes the same
//! loop out in the function's body (so that the body, re-created per attempt, can borrow the
//! arguments, `&mut` ones included), and calls [`Attempts::settle`] after each attempt.

use super::Retry;
use super::error::{MaxRetriesExceeded, RetryError};
use super::events::{RESULT_PREDICATE_EXHAUSTED, RetryEvent, RetryEventKind};
use super::sleep::Sleep;
use std::any::Any;
use std::fmt;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

impl Retry {
    /// Runs `attempt` until it succeeds, fails with an error that is not retried, or
    /// `max_attempts` attempts have been made, waiting between attempts (see the
    /// [module docs](super) for the events and counters). `attempt` is called once per attempt
    /// and its future awaited in place; a first-attempt success allocates nothing and publishes
    /// nothing.
    ///
    /// Cancellation-safe: dropping the returned future during an attempt or a wait stops the
    /// retry. Error and result types are `'static` because the config's predicates are typed by
    /// them.
    ///
    /// (The loop is a hand-written future rather than an `async fn`: each attempt's future is
    /// made in its pinned place and polled there, and a first-attempt success is returned
    /// straight from its value.)
    pub fn call<T, E, F, Fut>(
        &self,
        attempt: F,
    ) -> impl Future<Output = Result<T, RetryError<E>>> + use<'_, T, E, F, Fut>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        T: 'static,
        E: Display + 'static,
    {
        self.call_retrying_results(attempt, |_: &T| false)
    }

    /// [`call`](Self::call), also retrying the `Ok` results that `retry_result` matches, as if
    /// the config's result predicate matched them (the tower layer's response predicate).
    pub(crate) fn call_retrying_results<T, E, F, Fut, R>(
        &self,
        attempt: F,
        retry_result: R,
    ) -> Retrying<'_, F, Fut, R>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        T: 'static,
        E: Display + 'static,
        R: Fn(&T) -> bool,
    {
        Retrying {
            attempts: self.attempts(),
            attempt,
            retry_result,
            running: Running::Idle,
        }
    }

    /// A new call's attempts, to be driven by hand: run an attempt, [`settle`](Attempts::settle)
    /// its result, wait or stop as told. [`call`](Self::call) is this loop.
    pub fn attempts(&self) -> Attempts<'_> {
        Attempts {
            retry: self,
            failed: 0,
            settled: 0,
            last_error: None,
            waiting: None,
        }
    }

    #[inline]
    fn publish(&self, kind: impl FnOnce() -> RetryEventKind) {
        let inner = &*self.inner;
        if inner.events.wants(false) {
            inner
                .events
                .publish(RetryEvent::now(&inner.name, kind()), false);
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Retry::call`] (and of the tower retry layer): the loop of attempts and
    /// waits. Each attempt's future is made in the pinned [`Running::Attempt`] slot and polled
    /// there; its result is settled where `poll` holds it, and a first-attempt success becomes
    /// `Poll::Ready(Ok(value))` straight from the value.
    ///
    /// It is written by hand because the `async fn` loop (with the same fast path) cost a
    /// first-attempt success 2.5 to 3 ns more in wall-clock runs, for one instruction less
    /// (BENCHMARKS.md run 12b).
    /// Dropping it during an attempt or a wait drops that attempt's future or the wait (kept in
    /// the [`Attempts`]), and nothing more is counted or published.
    pub(crate) struct Retrying<'r, F, Fut, R> {
        attempts: Attempts<'r>,
        attempt: F,
        retry_result: R,
        #[pin]
        running: Running<Fut>,
    }
}

pin_project_lite::pin_project! {
    /// What a [`Retrying`] is doing.
    #[project = RunningProj]
    enum Running<Fut> {
        /// Between attempts: the next poll waits out the wait kept in the attempts (if any),
        /// then starts an attempt.
        Idle,
        /// An attempt's future, running.
        Attempt { #[pin] future: Fut },
        /// The call is over.
        Done,
    }
}

impl<T, E, F, Fut, R> Future for Retrying<'_, F, Fut, R>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    T: 'static,
    E: Display + 'static,
    R: Fn(&T) -> bool,
{
    type Output = Result<T, RetryError<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let result = match this.running.as_mut().project() {
                RunningProj::Attempt { future } => match future.poll(cx) {
                    Poll::Ready(result) => result,
                    Poll::Pending => return Poll::Pending,
                },
                RunningProj::Idle => {
                    // The wait before this attempt, if any.
                    if let Some(sleep) = &mut this.attempts.waiting {
                        if sleep.as_mut().poll(cx).is_pending() {
                            return Poll::Pending;
                        }
                        this.attempts.waiting = None;
                    }
                    this.running.set(Running::Attempt {
                        future: (this.attempt)(),
                    });
                    continue;
                }
                // As an `async fn`'s future does.
                RunningProj::Done => panic!("`Retry::call`'s future polled after completion"),
            };
            match this.attempts.first_success(result, &*this.retry_result) {
                // Counted before the finished attempt's future is dropped (dropping it first
                // measured 5 instructions more per call).
                Ok(value) => {
                    this.running.set(Running::Done);
                    return Poll::Ready(Ok(value));
                }
                Err(result) => {
                    // The attempt's future is dropped before its result is settled, as after
                    // `attempt().await`, so that a wait does not hold it.
                    this.running.set(Running::Idle);
                    let next = this.attempts.settle_slow(
                        result,
                        |e| e as &dyn Any,
                        ToString::to_string,
                        &*this.retry_result,
                    );
                    match next {
                        Next::Done(done) => {
                            this.running.set(Running::Done);
                            return Poll::Ready(done);
                        }
                        Next::Wait(sleep) => this.attempts.waiting = Some(sleep),
                    }
                }
            }
        }
    }
}

/// What comes after an attempt, as [`Attempts::settle`] decides.
pub enum Next<T, E> {
    /// The call is over, with this result.
    Done(Result<T, RetryError<E>>),
    /// Wait (this future), then make the next attempt.
    Wait(Sleep),
}

impl<T, E> fmt::Debug for Next<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Next::Done(_) => f.write_str("Done"),
            Next::Wait(_) => f.write_str("Wait"),
        }
    }
}

/// One call's attempts so far (Resilience4j's `AsyncContextImpl`): counts the failed attempts,
/// publishes the events and updates the counters as each attempt is settled. Dropped before the
/// call is done (cancelled), it counts and publishes nothing more.
pub struct Attempts<'r> {
    retry: &'r Retry,
    /// Resilience4j's `numOfAttempts`: the failed attempts so far.
    failed: u32,
    /// The attempts settled so far.
    settled: u32,
    /// The last retried error, for SUCCESS events (kept only with subscribers).
    last_error: Option<String>,
    /// The wait in progress, awaited through [`wait`](Self::wait).
    waiting: Option<Sleep>,
}

impl fmt::Debug for Attempts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attempts")
            .field("retry", &self.retry)
            .field("failed", &self.failed)
            .field("settled", &self.settled)
            .field("last_error", &self.last_error)
            .field("waiting", &self.waiting.is_some())
            .finish()
    }
}

impl Drop for Attempts<'_> {
    /// Drops what the attempts keep (the last retried error's text, a wait in progress) in one
    /// call, out of line. A call's future holds its `Attempts` across every await point, the
    /// wait's included, and it is all the future has to drop: with a `String` and a boxed
    /// future dropped inline (and the unwinding paths between them), that future's drop glue was
    /// too large to inline at its caller, and a first-attempt success paid a call for it.
    #[inline]
    fn drop(&mut self) {
        if self.last_error.is_some() || self.waiting.is_some() {
            drop_kept(self.last_error.take(), self.waiting.take());
        }
    }
}

/// [`Attempts`]' drop of what it keeps.
#[cold]
#[inline(never)]
fn drop_kept(last_error: Option<String>, waiting: Option<Sleep>) {
    drop(waiting);
    drop(last_error);
}

/// The future of [`Attempts::wait`].
pub(crate) struct Waiting<'a, 'r>(&'a mut Attempts<'r>);

impl Future for Waiting<'_, '_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let attempts = &mut *self.0;
        if let Some(sleep) = &mut attempts.waiting {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            attempts.waiting = None;
        }
        Poll::Ready(())
    }
}

impl<'r> Attempts<'r> {
    /// Waits `sleep` (a [`Next::Wait`]'s) before the next attempt. The wait is kept in the
    /// attempts while it runs (and dropped with them if the call is cancelled).
    pub(crate) fn wait(&mut self, sleep: Sleep) -> Waiting<'_, 'r> {
        self.waiting = Some(sleep);
        Waiting(self)
    }

    /// The number of the next attempt to settle (1 for the first).
    #[inline]
    pub fn attempt(&self) -> u32 {
        self.failed + 1
    }

    /// The number of attempts settled so far.
    #[inline]
    pub fn made(&self) -> u32 {
        self.settled
    }

    /// Settles an attempt's `result`. The predicates see the error through `cause` (for a
    /// wrapped error, what the config's predicates are typed by), and events describe it with
    /// `text` (called only when an event needs it).
    ///
    /// A first-attempt success without a result predicate is the inlined fast path: one
    /// counter stripe written, nothing published.
    #[inline]
    pub fn settle<T: 'static, E>(
        &mut self,
        result: Result<T, E>,
        cause: impl FnOnce(&E) -> &dyn Any,
        text: impl FnOnce(&E) -> String,
    ) -> Next<T, E> {
        self.settle_with(result, cause, text, |_: &T| false)
    }

    /// [`settle`](Self::settle), also retrying the `Ok` results that `retry_result` matches.
    #[inline]
    pub(crate) fn settle_with<T: 'static, E>(
        &mut self,
        result: Result<T, E>,
        cause: impl FnOnce(&E) -> &dyn Any,
        text: impl FnOnce(&E) -> String,
        retry_result: impl Fn(&T) -> bool,
    ) -> Next<T, E> {
        match result {
            Ok(value)
                if self.failed == 0
                    && !self.retry.inner.config.predicates().has_result_predicate()
                    && !retry_result(&value) =>
            {
                self.settled += 1;
                self.retry
                    .inner
                    .counters
                    .successful_without_retry
                    .increment();
                Next::Done(Ok(value))
            }
            result => self.settle_slow(result, cause, text, retry_result),
        }
    }

    /// [`settle_with`](Self::settle_with)'s fast path, for [`Retrying`]: a first-attempt
    /// success is counted and comes back as `Ok(value)`; any other result comes back as
    /// `Err(result)`, not settled, for [`settle_slow`](Self::settle_slow). The caller builds its
    /// own result from the value.
    ///
    /// (The test is `settle_with`'s, written out in both: sharing it through a helper, or
    /// writing `settle_with` over this, made `#[retry]`'s first-attempt success 83 -> 96..107
    /// instructions under callgrind, with the same source-level work.)
    #[inline(always)]
    fn first_success<T: 'static, E>(
        &mut self,
        result: Result<T, E>,
        retry_result: impl Fn(&T) -> bool,
    ) -> Result<T, Result<T, E>> {
        match result {
            Ok(value)
                if self.failed == 0
                    && !self.retry.inner.config.predicates().has_result_predicate()
                    && !retry_result(&value) =>
            {
                self.settled += 1;
                self.retry
                    .inner
                    .counters
                    .successful_without_retry
                    .increment();
                Ok(value)
            }
            result => Err(result),
        }
    }

    /// [`settle`](Self::settle) for everything but a first-attempt success.
    #[inline(never)]
    fn settle_slow<T: 'static, E>(
        &mut self,
        result: Result<T, E>,
        cause: impl FnOnce(&E) -> &dyn Any,
        text: impl FnOnce(&E) -> String,
        retry_result: impl Fn(&T) -> bool,
    ) -> Next<T, E> {
        self.settled += 1;
        let retry = self.retry;
        let inner = &*retry.inner;
        let config = &inner.config;
        let predicates = config.predicates();
        let max = config.max_attempts;
        match result {
            Ok(value) => {
                if (predicates.has_result_predicate() && predicates.retries_result(&value))
                    || retry_result(&value)
                {
                    self.failed += 1;
                    let failed = self.failed;
                    if failed < max {
                        return match config.interval.wait(failed) {
                            Some(wait) => {
                                retry.publish(|| RetryEventKind::Retry {
                                    attempt: failed,
                                    wait,
                                    error: None,
                                });
                                Next::Wait(config.sleeper().sleep(wait))
                            }
                            None => {
                                // The interval function said stop: the result stands and, as
                                // in Resilience4j (`onResult` returns the negative interval,
                                // then `onComplete`), counts as a success after retries.
                                // Resilience4j also publishes a RETRY event with the negative
                                // interval first; fusebox does not (a RETRY event announces a
                                // wait that happens).
                                Next::Done(self.complete(value))
                            }
                        };
                    }
                }
                Next::Done(self.complete(value))
            }
            Err(error) => {
                if !predicates.retries_error(cause(&error)) {
                    inner
                        .counters
                        .failed_without_retry
                        .fetch_add(1, Ordering::Relaxed);
                    retry.publish(|| RetryEventKind::IgnoredError {
                        error: text(&error),
                    });
                    return Next::Done(Err(RetryError::Failed(error)));
                }
                self.failed += 1;
                let failed = self.failed;
                if failed >= max {
                    inner
                        .counters
                        .failed_with_retry
                        .fetch_add(1, Ordering::Relaxed);
                    retry.publish(|| RetryEventKind::Error {
                        attempt: failed,
                        error: Some(text(&error)),
                    });
                    return Next::Done(Err(RetryError::Failed(error)));
                }
                let Some(wait) = config.interval.wait(failed) else {
                    retry.publish(|| RetryEventKind::Error {
                        attempt: failed,
                        error: Some(text(&error)),
                    });
                    return Next::Done(Err(RetryError::Failed(error)));
                };
                if inner.events.wants(false) {
                    let text = text(&error);
                    self.last_error = Some(text.clone());
                    retry.publish(|| RetryEventKind::Retry {
                        attempt: failed,
                        wait,
                        error: Some(text),
                    });
                }
                drop(error);
                Next::Wait(config.sleeper().sleep(wait))
            }
        }
    }

    /// Resilience4j's `onComplete`: the call ends with `value` after the failed attempts so far.
    fn complete<T, E>(&mut self, value: T) -> Result<T, RetryError<E>> {
        let retry = self.retry;
        let inner = &*retry.inner;
        let max = inner.config.max_attempts;
        let failed = self.failed;
        if failed == 0 {
            inner.counters.successful_without_retry.increment();
            Ok(value)
        } else if failed < max {
            inner
                .counters
                .successful_with_retry
                .fetch_add(1, Ordering::Relaxed);
            let last_error = self.last_error.take();
            retry.publish(|| RetryEventKind::Success {
                attempt: failed,
                error: last_error,
            });
            Ok(value)
        } else {
            inner
                .counters
                .failed_with_retry
                .fetch_add(1, Ordering::Relaxed);
            // Resilience4j's ERROR event carries the last retried error, or its
            // `MaxRetriesExceeded` when there was none or `fail_after_max_attempts` is on.
            let fail = inner.config.fail_after_max_attempts;
            let last_error = self.last_error.take();
            retry.publish(|| RetryEventKind::Error {
                attempt: failed,
                error: Some(match last_error {
                    Some(e) if !fail => e,
                    _ => RESULT_PREDICATE_EXHAUSTED.to_owned(),
                }),
            });
            if fail {
                Err(RetryError::MaxRetriesExceeded(MaxRetriesExceeded {
                    retry: inner.name.clone(),
                    attempts: failed,
                }))
            } else {
                Ok(value)
            }
        }
    }
}
