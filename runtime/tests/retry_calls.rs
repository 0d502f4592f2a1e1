//! Retry's call paths: events, counters, waits (manual clock and tokio's paused time),
//! cancellation during an attempt or a wait, panicking attempts, and `Retry::call`'s future
//! polled by hand (attempts made and polled in place, dropped before the next one).

use fusebox_runtime::ManualClock;
use fusebox_runtime::retry::{
    RESULT_PREDICATE_EXHAUSTED, Retry, RetryConfig, RetryError, RetryEventKind, RetryInterval,
    RetryMetrics,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Runs outcomes in order: `Ok(v)` or `Err(e)` per attempt.
async fn run(
    retry: &Retry,
    outcomes: &[Result<u32, &'static str>],
) -> (Result<u32, RetryError<&'static str>>, u32) {
    let calls = AtomicU32::new(0);
    let result = retry
        .call(|| {
            let n = calls.fetch_add(1, Ordering::SeqCst) as usize;
            let outcome = outcomes[n.min(outcomes.len() - 1)];
            async move { outcome }
        })
        .await;
    (result, calls.load(Ordering::SeqCst))
}

fn kinds(events: &[fusebox_runtime::retry::RetryEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.kind {
            RetryEventKind::Retry { attempt, wait, .. } => {
                format!("RETRY {attempt} {}", wait.as_millis())
            }
            RetryEventKind::Error { attempt, .. } => format!("ERROR {attempt}"),
            RetryEventKind::Success { attempt, .. } => format!("SUCCESS {attempt}"),
            RetryEventKind::IgnoredError { error } => format!("IGNORED_ERROR {error}"),
        })
        .collect()
}

fn manual(builder: fusebox_runtime::retry::RetryConfigBuilder) -> (Retry, ManualClock) {
    let clock = ManualClock::new();
    let retry = Retry::new("r", builder.sleeper(clock.clone()).build().unwrap());
    (retry, clock)
}

/// The counters after one call that succeeded at its first attempt.
fn one_first_attempt_success() -> RetryMetrics {
    RetryMetrics {
        successful_calls_without_retry_attempt: 1,
        ..RetryMetrics::default()
    }
}

#[tokio::test]
async fn first_attempt_success_publishes_nothing() {
    let (retry, clock) = manual(RetryConfig::builder());
    let mut events = retry.subscribe(16);
    assert_eq!(run(&retry, &[Ok(7)]).await, (Ok(7), 1));
    assert!(events.drain().is_empty());
    assert_eq!(clock.elapsed(), Duration::ZERO);
    assert_eq!(retry.metrics(), one_first_attempt_success());
}

#[tokio::test]
async fn success_after_retries_waits_and_publishes_success() {
    let (retry, clock) = manual(RetryConfig::builder().max_attempts(4));
    let mut events = retry.subscribe(16);
    assert_eq!(run(&retry, &[Err("a"), Err("b"), Ok(1)]).await, (Ok(1), 3));
    assert_eq!(
        kinds(&events.drain()),
        ["RETRY 1 500", "RETRY 2 500", "SUCCESS 2"]
    );
    assert_eq!(clock.elapsed(), ms(1000));
    assert_eq!(retry.metrics().successful_calls_with_retry_attempt, 1);
}

#[tokio::test]
async fn exhausted_attempts_return_the_last_error() {
    let (retry, _) = manual(RetryConfig::builder().max_attempts(2).interval_function(
        RetryInterval::Exponential {
            initial: ms(100),
            multiplier: 2.0,
            max: None,
        },
    ));
    let mut events = retry.subscribe(16);
    assert_eq!(
        run(&retry, &[Err("a"), Err("b")]).await,
        (Err(RetryError::Failed("b")), 2)
    );
    assert_eq!(kinds(&events.drain()), ["RETRY 1 100", "ERROR 2"]);
    assert_eq!(retry.metrics().failed_calls_with_retry_attempt, 1);
    // max_attempts 1: a failure counts as "failed with retry", as in Resilience4j.
    let (once, _) = manual(RetryConfig::builder().max_attempts(1));
    assert_eq!(run(&once, &[Err("x")]).await.1, 1);
    assert_eq!(once.metrics().failed_calls_with_retry_attempt, 1);
}

#[tokio::test]
async fn ignored_errors_return_at_once_even_after_retries() {
    let (retry, _) = manual(
        RetryConfig::builder()
            .max_attempts(5)
            .ignore_error(|e: &&'static str| e.starts_with("fatal")),
    );
    let mut events = retry.subscribe(16);
    assert_eq!(
        run(&retry, &[Err("busy"), Err("fatal: no")]).await,
        (Err(RetryError::Failed("fatal: no")), 2)
    );
    assert_eq!(
        kinds(&events.drain()),
        ["RETRY 1 500", "IGNORED_ERROR fatal: no"]
    );
    assert_eq!(
        retry.metrics(),
        RetryMetrics {
            failed_calls_without_retry_attempt: 1,
            ..RetryMetrics::default()
        }
    );
    // Only the listed error type is retried.
    let (typed, _) = manual(RetryConfig::builder().retry_on_error(|_: &std::io::Error| true));
    assert_eq!(run(&typed, &[Err("str")]).await.1, 1);
}

#[tokio::test]
async fn rejected_results_are_retried_then_returned_or_failed() {
    let builder = || {
        RetryConfig::builder()
            .max_attempts(3)
            .retry_on_result(|v: &u32| *v == 0)
    };
    let (retry, _) = manual(builder());
    let mut events = retry.subscribe(16);
    assert_eq!(run(&retry, &[Ok(0), Ok(0), Ok(0)]).await, (Ok(0), 3));
    assert_eq!(
        kinds(&events.drain()),
        ["RETRY 1 500", "RETRY 2 500", "ERROR 3"]
    );
    assert_eq!(retry.metrics().failed_calls_with_retry_attempt, 1);

    let (strict, _) = manual(builder().fail_after_max_attempts(true));
    let (result, calls) = run(&strict, &[Ok(0)]).await;
    assert_eq!(calls, 3);
    let Err(RetryError::MaxRetriesExceeded(e)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(e.to_string(), "Retry 'r' has exhausted all attempts (3)");

    let (ok, _) = manual(builder());
    assert_eq!(run(&ok, &[Ok(0), Ok(5)]).await, (Ok(5), 2));
    assert_eq!(ok.metrics().successful_calls_with_retry_attempt, 1);
}

#[tokio::test]
async fn an_interval_function_can_stop_retrying() {
    let (retry, _) = manual(RetryConfig::builder().max_attempts(5).interval_function(
        RetryInterval::custom(|n| (n < 2).then_some(Duration::from_millis(3))),
    ));
    let mut events = retry.subscribe(16);
    assert_eq!(
        run(&retry, &[Err("a")]).await,
        (Err(RetryError::Failed("a")), 2)
    );
    assert_eq!(kinds(&events.drain()), ["RETRY 1 3", "ERROR 2"]);
    assert_eq!(
        retry.metrics(),
        RetryMetrics::default(),
        "Resilience4j counts nothing here"
    );

    // After a rejected result the result stands, as a success after retries (Resilience4j's
    // `onResult` returns the negative interval, then `onComplete` counts it).
    let (results, _) = manual(
        RetryConfig::builder()
            .max_attempts(5)
            .retry_on_result(|v: &u32| *v == 0)
            .interval_function(RetryInterval::custom(|n| {
                (n < 2).then_some(Duration::from_millis(3))
            })),
    );
    let mut events = results.subscribe(16);
    assert_eq!(run(&results, &[Err("a"), Ok(0)]).await, (Ok(0), 2));
    let drained = events.drain();
    assert_eq!(kinds(&drained), ["RETRY 1 3", "SUCCESS 2"]);
    let RetryEventKind::Success { error, .. } = &drained[1].kind else {
        unreachable!()
    };
    assert_eq!(error.as_deref(), Some("a"), "the last retried error");
    assert_eq!(results.metrics().successful_calls_with_retry_attempt, 1);
}

#[tokio::test]
async fn an_error_event_after_rejected_results_carries_resilience4j_s_error() {
    let builder = || {
        RetryConfig::builder()
            .max_attempts(2)
            .retry_on_result(|v: &u32| *v == 0)
    };
    let last_error = |events: &mut fusebox_runtime::retry::RetryEventReceiver| match events
        .drain()
        .pop()
        .map(|e| e.kind)
    {
        Some(RetryEventKind::Error { error, .. }) => error,
        other => panic!("{other:?}"),
    };
    // The last retried error of the call...
    let (retry, _) = manual(builder());
    let mut events = retry.subscribe(16);
    assert_eq!(run(&retry, &[Err("a"), Ok(0)]).await, (Ok(0), 2));
    assert_eq!(last_error(&mut events).as_deref(), Some("a"));
    // ...or MaxRetriesExceeded's message without one, or with fail_after_max_attempts.
    assert_eq!(run(&retry, &[Ok(0)]).await, (Ok(0), 2));
    assert_eq!(
        last_error(&mut events).as_deref(),
        Some(RESULT_PREDICATE_EXHAUSTED)
    );
    let (strict, _) = manual(builder().fail_after_max_attempts(true));
    let mut events = strict.subscribe(16);
    assert!(run(&strict, &[Err("a"), Ok(0)]).await.0.is_err());
    assert_eq!(
        last_error(&mut events).as_deref(),
        Some(RESULT_PREDICATE_EXHAUSTED)
    );
}

#[tokio::test(start_paused = true)]
async fn waits_on_tokio_time_and_cancels_during_a_wait() {
    let retry = Retry::new("r", RetryConfig::builder().max_attempts(5).build().unwrap());
    let mut events = retry.subscribe(16);
    let calls = Arc::new(AtomicU32::new(0));
    let start = tokio::time::Instant::now();
    let counted = calls.clone();
    let call = retry.call(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>("down") }
    });
    // Dropped by the timeout during the second wait (500 ms each).
    assert!(tokio::time::timeout(ms(700), call).await.is_err());
    assert_eq!(start.elapsed(), ms(700));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(kinds(&events.drain()), ["RETRY 1 500", "RETRY 2 500"]);
    assert_eq!(retry.metrics(), RetryMetrics::default());
    // Nothing runs after the drop.
    tokio::time::sleep(ms(5000)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_panicking_attempt_unwinds_and_counts_nothing() {
    let clock = ManualClock::new();
    let retry = Retry::new("r", RetryConfig::builder().sleeper(clock).build().unwrap());
    let task = {
        let retry = retry.clone();
        tokio::spawn(async move {
            let mut n = 0;
            retry
                .call(|| {
                    n += 1;
                    let n = n;
                    async move {
                        if n == 2 {
                            panic!("attempt 2 panics");
                        }
                        Err::<(), _>("down")
                    }
                })
                .await
        })
    };
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(retry.metrics(), RetryMetrics::default());
    // The retry still works.
    assert_eq!(run(&retry, &[Ok(1)]).await, (Ok(1), 1));
}

// --- `Retry::call`'s hand-written future (`Retrying`): attempts made and polled in place ---

/// Records when it is dropped, into a shared log.
struct DropLog(&'static str, Arc<std::sync::Mutex<Vec<String>>>);

impl Drop for DropLog {
    fn drop(&mut self) {
        self.1.lock().unwrap().push(format!("drop {}", self.0));
    }
}

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: std::future::Future>(future: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
    future.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

#[tokio::test]
async fn a_first_attempt_that_pends_is_polled_in_place_and_succeeds_without_retry() {
    let (retry, _) = manual(RetryConfig::builder());
    let mut events = retry.subscribe(16);
    let mut calls = 0;
    let result = retry
        .call(|| {
            calls += 1;
            // Not `Unpin`: it holds a borrow of its own local across its awaits.
            async {
                let value = 41u32;
                let borrowed = &value;
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
                Ok::<_, &str>(*borrowed + 1)
            }
        })
        .await;
    assert_eq!((result, calls), (Ok(42), 1));
    assert!(events.drain().is_empty());
    assert_eq!(retry.metrics(), one_first_attempt_success());
}

#[tokio::test]
async fn a_failed_first_attempt_is_dropped_before_the_next_attempt_is_made() {
    let (retry, clock) = manual(RetryConfig::builder().max_attempts(3));
    let mut events = retry.subscribe(16);
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut n = 0;
    let result = retry
        .call(|| {
            n += 1;
            let attempt = n;
            let log = log.clone();
            log.lock().unwrap().push(format!("make {attempt}"));
            async move {
                let _guard = DropLog(if attempt == 1 { "1" } else { "2" }, log);
                tokio::task::yield_now().await;
                if attempt == 1 {
                    Err("down")
                } else {
                    Ok(attempt)
                }
            }
        })
        .await;
    assert_eq!(result, Ok(2));
    assert_eq!(
        *log.lock().unwrap(),
        ["make 1", "drop 1", "make 2", "drop 2"]
    );
    assert_eq!(kinds(&events.drain()), ["RETRY 1 500", "SUCCESS 1"]);
    assert_eq!(clock.elapsed(), ms(500));
    assert_eq!(
        retry.metrics(),
        RetryMetrics {
            successful_calls_with_retry_attempt: 1,
            ..RetryMetrics::default()
        }
    );
}

#[test]
fn cancelled_during_the_first_attempt_it_drops_the_attempt_and_counts_nothing() {
    let (retry, _) = manual(RetryConfig::builder());
    let mut events = retry.subscribe(16);
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut calls = 0;
    {
        let call = retry.call(|| {
            calls += 1;
            let guard = DropLog("attempt", log.clone());
            async move {
                let _guard = guard;
                std::future::pending::<Result<u32, &str>>().await
            }
        });
        let mut call = std::pin::pin!(call);
        assert!(poll_once(call.as_mut()).is_pending());
        assert!(poll_once(call.as_mut()).is_pending());
        assert!(log.lock().unwrap().is_empty(), "the attempt is running");
    }
    assert_eq!(calls, 1);
    assert_eq!(*log.lock().unwrap(), ["drop attempt"]);
    assert!(events.drain().is_empty());
    assert_eq!(retry.metrics(), RetryMetrics::default());
}

#[test]
fn a_panic_in_the_first_attempt_unwinds_and_counts_nothing() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let (retry, _) = manual(RetryConfig::builder());
    let mut events = retry.subscribe(16);
    // In the attempt's future, on its first poll...
    let call = retry.call(|| async {
        panic!("the first attempt panics");
        #[allow(unreachable_code)]
        Ok::<u32, &str>(1)
    });
    let mut call = std::pin::pin!(call);
    let panic = catch_unwind(AssertUnwindSafe(|| poll_once(call.as_mut()))).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"the first attempt panics")
    );
    // ...and in the closure making it.
    let call =
        retry.call(|| -> std::future::Ready<Result<u32, &str>> { panic!("no attempt made") });
    let mut call = std::pin::pin!(call);
    assert!(catch_unwind(AssertUnwindSafe(|| poll_once(call.as_mut()))).is_err());
    assert!(events.drain().is_empty());
    assert_eq!(retry.metrics(), RetryMetrics::default());
}

#[test]
fn polled_after_completion_it_panics_and_counts_once() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let (retry, _) = manual(RetryConfig::builder());
    let calls = std::cell::Cell::new(0);
    let call = retry.call(|| {
        calls.set(calls.get() + 1);
        std::future::ready(Ok::<u32, &str>(5))
    });
    let mut call = std::pin::pin!(call);
    assert_eq!(poll_once(call.as_mut()), std::task::Poll::Ready(Ok(5)));
    let panic = catch_unwind(AssertUnwindSafe(|| poll_once(call.as_mut()))).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"`Retry::call`'s future polled after completion")
    );
    assert_eq!(calls.get(), 1, "no second attempt");
    assert_eq!(retry.metrics().successful_calls_without_retry_attempt, 1);
}
