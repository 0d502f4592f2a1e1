//! Resilience4j's retry counters (`Retry.Metrics`) and the [`RetryMetrics`] snapshot.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A snapshot of a retry's counters, as Resilience4j's `Retry.Metrics` (and Micrometer's
/// `resilience4j_retry_calls_total{kind=...}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryMetrics {
    /// Calls that succeeded on the first attempt (`successful_without_retry`).
    pub successful_calls_without_retry_attempt: u64,
    /// Calls that succeeded after one or more retries (`successful_with_retry`).
    pub successful_calls_with_retry_attempt: u64,
    /// Calls that failed with an error that is not retried (`failed_without_retry`), even when
    /// earlier attempts of the call were retried, as Resilience4j counts them.
    pub failed_calls_without_retry_attempt: u64,
    /// Calls that failed after the last attempt (`failed_with_retry`), a `max_attempts` of 1
    /// included, as Resilience4j counts them.
    pub failed_calls_with_retry_attempt: u64,
}

/// Stripes of the first-attempt success counter: a first-attempt success writes only its
/// thread's stripe, so threads calling one retry do not fight over a cache line.
const STRIPES: usize = 16;

#[repr(align(128))]
#[derive(Default)]
struct Stripe(AtomicU64);

/// A counter written from many threads: one cache-line-sized stripe per thread slot, summed on
/// read.
pub(crate) struct StripedCounter {
    stripes: [Stripe; STRIPES],
}

impl Default for StripedCounter {
    fn default() -> Self {
        Self {
            stripes: std::array::from_fn(|_| Stripe::default()),
        }
    }
}

fn stripe_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    INDEX.with(|i| {
        let mut v = i.get();
        if v == usize::MAX {
            v = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
            i.set(v);
        }
        v
    })
}

impl StripedCounter {
    #[inline]
    pub(crate) fn increment(&self) {
        self.stripes[stripe_index()]
            .0
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sum(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum()
    }
}

/// The live counters of one retry.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) successful_without_retry: StripedCounter,
    pub(crate) successful_with_retry: AtomicU64,
    pub(crate) failed_without_retry: AtomicU64,
    pub(crate) failed_with_retry: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> RetryMetrics {
        RetryMetrics {
            successful_calls_without_retry_attempt: self.successful_without_retry.sum(),
            successful_calls_with_retry_attempt: self.successful_with_retry.load(Ordering::Relaxed),
            failed_calls_without_retry_attempt: self.failed_without_retry.load(Ordering::Relaxed),
            failed_calls_with_retry_attempt: self.failed_with_retry.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn striped_counts_from_many_threads_add_up() {
        let c = std::sync::Arc::new(StripedCounter::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| c.increment()))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(c.sum(), 8000);
    }
}
