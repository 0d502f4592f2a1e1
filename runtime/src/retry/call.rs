//! The retry loop: [`Retry::call`], Resilience4j's `AsyncRetryBlock` driving its
//! `AsyncContextImpl`.

use super::Retry;
use super::error::{MaxRetriesExceeded, RetryError};
use super::events::{RESULT_PREDICATE_EXHAUSTED, RetryEventKind};
use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::Ordering;

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
    pub(crate) async fn call_retrying_results<T, E, F, Fut, R>(
        &self,
        mut attempt: F,
        retry_result: R,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        T: 'static,
        E: Display + 'static,
        R: Fn(&T) -> bool,
    {
        let inner = &*self.inner;
        let config = &inner.config;
        let predicates = config.predicates();
        let max = config.max_attempts;
        // Resilience4j's `numOfAttempts`: the failed attempts so far.
        let mut failed: u32 = 0;
        // The last retried error, for SUCCESS events (kept only with subscribers).
        let mut last_error: Option<String> = None;
        loop {
            match attempt().await {
                Ok(value) => {
                    if (predicates.has_result_predicate() && predicates.retries_result(&value))
                        || retry_result(&value)
                    {
                        failed += 1;
                        if failed < max {
                            match config.interval.wait(failed) {
                                Some(wait) => {
                                    self.publish(|| RetryEventKind::Retry {
                                        attempt: failed,
                                        wait,
                                        error: None,
                                    });
                                    config.sleeper().sleep(wait).await;
                                    continue;
                                }
                                None => {
                                    // The interval function said stop: the result stands and,
                                    // as in Resilience4j (`onResult` returns the negative
                                    // interval, then `onComplete`), counts as a success after
                                    // retries. Resilience4j also publishes a RETRY event with
                                    // the negative interval first; fusebox does not (a RETRY
                                    // event announces a wait that happens).
                                    return self.complete(value, failed, last_error);
                                }
                            }
                        }
                    }
                    return self.complete(value, failed, last_error);
                }
                Err(error) => {
                    if !predicates.retries_error(&error) {
                        inner
                            .counters
                            .failed_without_retry
                            .fetch_add(1, Ordering::Relaxed);
                        self.publish(|| RetryEventKind::IgnoredError {
                            error: error.to_string(),
                        });
                        return Err(RetryError::Failed(error));
                    }
                    failed += 1;
                    if failed >= max {
                        inner
                            .counters
                            .failed_with_retry
                            .fetch_add(1, Ordering::Relaxed);
                        self.publish(|| RetryEventKind::Error {
                            attempt: failed,
                            error: Some(error.to_string()),
                        });
                        return Err(RetryError::Failed(error));
                    }
                    let Some(wait) = config.interval.wait(failed) else {
                        self.publish(|| RetryEventKind::Error {
                            attempt: failed,
                            error: Some(error.to_string()),
                        });
                        return Err(RetryError::Failed(error));
                    };
                    if inner.events.has_subscribers() {
                        let text = error.to_string();
                        last_error = Some(text.clone());
                        self.publish(|| RetryEventKind::Retry {
                            attempt: failed,
                            wait,
                            error: Some(text),
                        });
                    }
                    drop(error);
                    config.sleeper().sleep(wait).await;
                }
            }
        }
    }

    /// Resilience4j's `onComplete`: the call ends with `value` after `failed` failed attempts.
    fn complete<T, E>(
        &self,
        value: T,
        failed: u32,
        last_error: Option<String>,
    ) -> Result<T, RetryError<E>> {
        let inner = &*self.inner;
        let max = inner.config.max_attempts;
        if failed == 0 {
            inner.counters.successful_without_retry.increment();
            Ok(value)
        } else if failed < max {
            inner
                .counters
                .successful_with_retry
                .fetch_add(1, Ordering::Relaxed);
            self.publish(|| RetryEventKind::Success {
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
            self.publish(|| RetryEventKind::Error {
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

    #[inline]
    fn publish(&self, kind: impl FnOnce() -> RetryEventKind) {
        let inner = &*self.inner;
        if inner.events.has_subscribers() {
            inner.events.publish(&inner.name, kind());
        }
    }
}
