//! Per-thread shards: what the hot path writes instead of a shared counter. One breaker has
//! [`shard_count`] cache-line-sized [`Line`]s (allocated the first time they are needed, so an
//! idle breaker carries none); a thread always uses the same line ([`shard_index`]), so two
//! threads on one breaker write different cache lines.
//!
//! A line holds:
//! * `acc`: the *batched fast successes* not yet merged into the window, and their durations,
//!   packed in one word so that one `fetch_add` records a success, its count and its time:
//!   bit 63 is [`CLOSED`] (batching is not allowed on this line), bits 40–62 count the
//!   successes, bits 0–39 sum their nanoseconds. See `batch.rs` for the protocol;
//! * `max`: the longest batched success since the last merge (for the calls timer's max);
//! * `rejected` / `rejected_forced`: calls rejected in OPEN or HALF_OPEN / in FORCED_OPEN,
//!   cumulative (never reset; the per-state figure subtracts a base taken at transitions).
//!
//! Field widths: a success batched here took less than [`MAX_BATCHED_NANOS`] (268 ms; longer
//! ones take the lock), and the thread whose increment reaches [`FOLD_AT`] (2^22 successes or
//! 2^39 ns, about 550 s, in one line) merges the line under the lock at once. Each thread adds
//! at most once past that mark before it merges, so a field overflows only if more than 2^11
//! threads share one line and all add past the mark before one of them takes the lock.

use crate::sync::{AtomicU64, shard_count, shard_index};
use std::sync::atomic::Ordering;

/// `Line::acc`: batching is not allowed on this line (set and cleared under the lock).
pub(super) const CLOSED: u64 = 1 << 63;
const COUNT_SHIFT: u32 = 40;
/// `Line::acc`: one batched success (plus its nanoseconds in the low bits).
pub(super) const ONE_CALL: u64 = 1 << COUNT_SHIFT;
const NANOS_MASK: u64 = ONE_CALL - 1;
const COUNT_MASK: u64 = !CLOSED & !NANOS_MASK;
/// `Line::acc`: reaching either bit (2^22 successes, 2^39 ns) makes the adding thread merge.
pub(super) const FOLD_AT: u64 = 1 << 62 | 1 << 39;
/// Successes that took this long or longer are recorded under the lock, not batched.
pub(super) const MAX_BATCHED_NANOS: u64 = 1 << 28;

/// One thread's counters, alone on its cache line (128 bytes: two lines on x86-64, whose
/// adjacent-line prefetcher pairs them).
#[repr(align(128))]
#[derive(Debug)]
pub(super) struct Line {
    pub(super) acc: AtomicU64,
    pub(super) max: AtomicU64,
    pub(super) rejected: AtomicU64,
    pub(super) rejected_forced: AtomicU64,
}

/// A breaker's lines.
#[derive(Debug)]
pub(super) struct Shards {
    lines: Box<[Line]>,
}

impl Shards {
    /// [`shard_count`] lines, all [`CLOSED`].
    pub(super) fn new() -> Self {
        Self {
            lines: (0..shard_count())
                .map(|_| Line {
                    acc: AtomicU64::new(CLOSED),
                    max: AtomicU64::new(0),
                    rejected: AtomicU64::new(0),
                    rejected_forced: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    /// The calling thread's line.
    #[inline(always)]
    pub(super) fn mine(&self) -> &Line {
        &self.lines[shard_index()]
    }

    pub(super) fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Rejections over all lines: (OPEN and HALF_OPEN, FORCED_OPEN).
    pub(super) fn rejected(&self) -> (u64, u64) {
        self.lines.iter().fold((0, 0), |(r, f), line| {
            (
                r + line.rejected.load(Ordering::Relaxed),
                f + line.rejected_forced.load(Ordering::Relaxed),
            )
        })
    }
}

/// The successes counted in a `Line::acc` word.
#[inline]
pub(super) fn calls(word: u64) -> u64 {
    (word & COUNT_MASK) >> COUNT_SHIFT
}

/// The nanoseconds summed in a `Line::acc` word.
#[inline]
pub(super) fn nanos(word: u64) -> u64 {
    word & NANOS_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_fields_apart() {
        let w = 3 * ONE_CALL + 3 * (MAX_BATCHED_NANOS - 1);
        assert_eq!(calls(w), 3);
        assert_eq!(nanos(w), 3 * (MAX_BATCHED_NANOS - 1));
        assert_eq!(calls(w | CLOSED), 3);
        // The fold mark comes long before either field overflows: 2^11 more maximal
        // successes after it still fit.
        let at_mark = (1u64 << 39) + (1 << 11) * (MAX_BATCHED_NANOS - 1);
        assert!(at_mark <= NANOS_MASK);
        let count_at_mark = (1u64 << 22) + (1 << 11);
        assert!(count_at_mark << COUNT_SHIFT & CLOSED == 0);
    }
}
