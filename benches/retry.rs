//! A retry whose first attempt succeeds, against the bare call, in one criterion run (issue 14's
//! speed bar: "no more than the bare call plus a few nanoseconds"). Results: BENCHMARKS.md.
//!
//! ```text
//! cargo bench --bench retry                 # under a minute
//! cargo bench --bench retry -- --test       # smoke: every row runs once
//! ```
//!
//! Rows of the `retry/` group, measured back to back on one current-thread tokio runtime:
//! - `bare_async_op`: the trivial `op_async` the others wrap (the floor);
//! - `fusebox_retry_call`: `Retry::call` around it, Resilience4j's default config (3 attempts,
//!   500 ms wait) from a registry;
//! - `fusebox_retry_attribute`: a `#[fusebox::retry(name = "...")]` async fn around it.
//!
//! The callgrind driver has the same three as `op_async`, `retry_call_first_attempt` and
//! `retry_macro_first_attempt` (instructions per call).

#![allow(missing_docs)]

mod common;

use std::time::Duration;

use fusebox::Registry;
use fusebox::retry::RetryConfig;

use common::*;
// One `block_on` per sample (`common::timed_async_loop`).
use common::timed_async_loop as async_loop;

#[fusebox::retry(name = "bench.retry")]
async fn retried(x: u64) -> Result<u64, MyErr> {
    op_async(x).await
}

fn main() {
    let mut c = short_criterion(Duration::from_millis(1500));
    let rt = runtime();
    let retry = Registry::new().retry_with_config("bench", RetryConfig::default());

    let mut g = c.benchmark_group("retry");
    g.bench_function("bare_async_op", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| op_async(i).await.unwrap_or(0)))
    });
    g.bench_function("fusebox_retry_call", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| retry.call(|| op_async(i)).await.unwrap_or(0)))
    });
    g.bench_function("fusebox_retry_attribute", |b| {
        b.iter_custom(|n| async_loop!(rt, n, |i| retried(i).await.unwrap_or(0)))
    });
    g.finish();

    // Every row succeeded on its first attempt, as the rows claim.
    let metrics = retry.metrics();
    assert_eq!(metrics.successful_calls_with_retry_attempt, 0);
    assert!(metrics.successful_calls_without_retry_attempt > 0);
    let attribute = Registry::global().retry("bench.retry").metrics();
    assert_eq!(attribute.successful_calls_with_retry_attempt, 0);
    assert!(attribute.successful_calls_without_retry_attempt > 0);

    c.final_summary();
}
