//! Resilience4j's retry counters (`Retry.Metrics`) and the [`RetryMetrics`] snapshot.

use crate::sync::{MAX_SHARDS, owned_shard, shard_index};
use std::sync::atomic::{AtomicU64, Ordering};

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

/// One stripe of a [`StripedCounter`], alone on its cache line (128 bytes: two lines on x86-64,
/// whose adjacent-line prefetcher pairs them).
#[repr(align(128))]
#[derive(Default)]
struct Stripe(AtomicU64);

/// A counter written from many threads (the first-attempt success counter of a retry, the
/// success counter of a time limiter): one stripe per thread shard, summed on read.
///
/// A thread that *owns* its shard (`sync::owned_shard`: no other live thread of the process uses
/// that index, the breaker's per-thread lines rely on the same ownership) is its stripe's only
/// writer, and increments it with a plain load and store: no atomic read-modify-write, no
/// locked instruction. A thread that shares its shard, or that has not been given one yet, adds
/// to the `shared` stripe with an atomic add. An owner that exits gives the shard back with a
/// release, and the next owner's claim acquires it, so the next owner continues from every
/// count the last one wrote.
pub(crate) struct StripedCounter {
    owned: [Stripe; MAX_SHARDS],
    shared: Stripe,
}

impl Default for StripedCounter {
    fn default() -> Self {
        Self {
            owned: std::array::from_fn(|_| Stripe::default()),
            shared: Stripe::default(),
        }
    }
}

impl StripedCounter {
    #[inline]
    pub(crate) fn increment(&self) {
        match self.owned.get(owned_shard()) {
            Some(stripe) => {
                // The only writer of this stripe: a reader summing at the same time sees the
                // count before or after this increment, never a torn or lost one.
                let count = stripe.0.load(Ordering::Relaxed);
                stripe.0.store(count.wrapping_add(1), Ordering::Relaxed);
            }
            None => self.increment_shared(),
        }
    }

    /// [`increment`](Self::increment) of a thread that does not own its shard (assigning one
    /// on the thread's first count, which is then counted here).
    #[cold]
    #[inline(never)]
    fn increment_shared(&self) {
        shard_index();
        self.shared.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sum(&self) -> u64 {
        self.owned
            .iter()
            .chain(std::iter::once(&self.shared))
            .map(|s| s.0.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
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

    /// More threads than shards (some share, writing the shared stripe), in waves whose threads
    /// exit and hand their owned stripes to the next wave's: no count is lost.
    #[test]
    fn striped_counts_survive_shared_shards_and_owners_that_exit() {
        let c = std::sync::Arc::new(StripedCounter::default());
        for wave in 0..4u64 {
            let threads: Vec<_> = (0..(MAX_SHARDS as u64 + 3))
                .map(|_| {
                    let c = c.clone();
                    std::thread::spawn(move || (0..500).for_each(|_| c.increment()))
                })
                .collect();
            threads.into_iter().for_each(|t| t.join().unwrap());
            assert_eq!(c.sum(), (wave + 1) * (MAX_SHARDS as u64 + 3) * 500);
        }
        c.increment();
        assert_eq!(c.sum(), 4 * (MAX_SHARDS as u64 + 3) * 500 + 1);
    }
}
