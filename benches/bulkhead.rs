//! The bulkhead's acquire + release against `tokio::sync::Semaphore`'s, in one criterion run
//! (issue 14's speed bar: no more than the semaphore). Results: BENCHMARKS.md.
//!
//! ```text
//! cargo bench --bench bulkhead                 # about a minute
//! cargo bench --bench bulkhead -- --test       # smoke: every row runs once
//! ```
//!
//! Rows, each a fusebox/tokio pair measured back to back:
//! - `try_1t/*`: take a free slot without waiting and give it back, one thread;
//! - `async_1t/*`: the same through the async acquire (polled once, a slot is free);
//! - `try_2t/*`: two threads on the same bulkhead (or semaphore) at once; ns per call over both
//!   threads (the inverse of aggregate throughput).

#![allow(missing_docs)]

mod common;

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use fusebox::bulkhead::{Bulkhead, BulkheadConfig};
use tokio::sync::Semaphore;

fn bulkhead() -> Bulkhead {
    // Resilience4j's defaults: 25 slots, no wait.
    Bulkhead::new("bench", BulkheadConfig::default())
}

fn semaphore() -> Semaphore {
    Semaphore::new(25)
}

/// `threads` threads released together, each making `iters` calls of `f`; the wall time over
/// `threads`.
fn threaded(threads: u32, iters: u64, f: &(dyn Fn() + Sync)) -> Duration {
    let barrier = Barrier::new(threads as usize + 1);
    let start = std::thread::scope(|s| {
        for _ in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for _ in 0..iters {
                    f();
                }
            });
        }
        barrier.wait();
        Instant::now()
    });
    start.elapsed() / threads
}

fn main() {
    let mut c = common::short_criterion(Duration::from_millis(1500));
    let b = bulkhead();
    let s = semaphore();

    let mut g = c.benchmark_group("try_1t");
    g.bench_function("fusebox", |x| {
        x.iter(|| drop(black_box(b.try_acquire_permission())))
    });
    g.bench_function("tokio_semaphore", |x| {
        x.iter(|| drop(black_box(s.try_acquire())))
    });
    g.finish();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("async_1t");
    g.bench_function("fusebox", |x| {
        x.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    drop(black_box(b.acquire_permission().await));
                }
                start.elapsed()
            })
        })
    });
    g.bench_function("tokio_semaphore", |x| {
        x.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    drop(black_box(s.acquire().await));
                }
                start.elapsed()
            })
        })
    });
    g.finish();

    let mut g = c.benchmark_group("try_2t");
    g.bench_function("fusebox", |x| {
        x.iter_custom(|iters| threaded(2, iters, &|| drop(black_box(b.try_acquire_permission()))))
    });
    g.bench_function("tokio_semaphore", |x| {
        x.iter_custom(|iters| threaded(2, iters, &|| drop(black_box(s.try_acquire()))))
    });
    g.finish();

    c.final_summary();
}
