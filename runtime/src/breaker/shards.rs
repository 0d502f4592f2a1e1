//! Per-thread shards: what the hot path writes instead of a shared counter. One breaker has
//! [`shard_count`] cache-line-sized [`Line`]s (allocated the first time they are needed, so an
//! idle breaker carries none); a thread always uses the same line ([`shard_index`]), so two
//! threads on one breaker write different cache lines. A thread that *owns* its line (no other
//! live thread of the process uses that index: [`owned_shard`]) is the only writer of the
//! line's [`CleanCounts`].
//!
//! A line holds:
//! * `acc`: the *batched fast successes* since the line was last opened, and their durations
//!   (those beyond the line's [`Merged`] word are not merged into the window yet), packed in one word so
//!   that one `fetch_add` records a success, its count and its time:
//!   bit 63 is [`CLOSED`] (batching is not allowed on this line), bits 40–62 count the
//!   successes, bits 0–39 sum their nanoseconds. See `batch.rs` for the protocol;
//! * `max`: the longest batched success since the last merge (for the calls timer's max);
//! * `rejected` / `rejected_forced`: calls rejected in OPEN or HALF_OPEN / in FORCED_OPEN,
//!   cumulative (never reset; the per-state figure subtracts a base taken at transitions);
//! * `clean`: the fast successes a clean breaker skipped while call stats are on
//!   ([`COUNTED`](super::tag::COUNTED)): they change nothing in the window, only the calls
//!   timer, so they are counted here, cumulatively, by the line's owner alone with a plain load
//!   and store (no atomic read-modify-write: the healthy path's only cost). Threads that share
//!   their line count them in [`Shards::shared_clean`] instead, with atomic adds.
//!
//! Field widths: a success batched here took less than [`MAX_BATCHED_NANOS`] (268 ms; longer
//! ones take the lock), and a thread whose increment finds the line at [`FOLD_AT`] (2^22
//! successes or 2^39 ns, about 550 s, in one line) merges the line under the lock at once (the
//! hot path tests the word it got back, with the same test as for [`CLOSED`]). Each thread adds
//! at most twice past that mark before it merges (the add that crosses it, and the next one),
//! so a field overflows only if more than 2^10 threads share one line and all add past the mark
//! before one of them takes the lock.

use super::inner::OwnLines;
use crate::sync::{AtomicU64, MAX_SHARDS, line_index, owned_shard, shard_count, shard_index};
use std::sync::atomic::Ordering;

/// `Line::acc`: batching is not allowed on this line (set and cleared under the lock).
pub(super) const CLOSED: u64 = 1 << 63;
const COUNT_SHIFT: u32 = 40;
/// `Line::acc`: one batched success (plus its nanoseconds in the low bits).
pub(super) const ONE_CALL: u64 = 1 << COUNT_SHIFT;
const NANOS_MASK: u64 = ONE_CALL - 1;
const COUNT_MASK: u64 = !CLOSED & !NANOS_MASK;
/// `Line::acc`: either bit (2^22 successes, 2^39 ns) in the word an add returns makes the
/// adding thread merge.
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
    pub(super) clean: CleanCounts,
}

/// Per line, the `acc` word as a lock holder last merged it without closing the line
/// (`batch.rs`): what `acc` holds beyond it waits to be merged; 0 while the line is closed.
/// Read and written only under the breaker's lock, which orders the accesses.
#[derive(Debug, Default)]
pub(super) struct Merged(AtomicU64);

impl Merged {
    /// The word last merged (lock held).
    #[inline]
    pub(super) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Notes the word merged (lock held).
    #[inline]
    pub(super) fn set(&self, word: u64) {
        self.0.store(word, Ordering::Relaxed);
    }
}

/// Fast successes skipped by a clean breaker with call stats on: how many, their nanoseconds
/// (both cumulative, never reset), and the longest since call stats were last read.
#[derive(Debug, Default)]
pub(super) struct CleanCounts {
    calls: AtomicU64,
    nanos: AtomicU64,
    max: AtomicU64,
}

impl CleanCounts {
    /// Counts one success; only for the thread that owns the line ([`owned_shard`]), the
    /// counters' only writer. Readers see each counter's value before or after the add, never
    /// a torn one; the owner's successor (after the thread exits) starts from its last values
    /// (the shard's release and claim order them).
    #[inline(always)]
    pub(super) fn add_owned(&self, nanos: u64) {
        let calls = self.calls.load(Ordering::Relaxed);
        self.calls.store(calls.wrapping_add(1), Ordering::Relaxed);
        let sum = self.nanos.load(Ordering::Relaxed);
        self.nanos.store(sum.wrapping_add(nanos), Ordering::Relaxed);
        // A reader's `swap(0)` between this load and store is harmless: the value stored is a
        // sample the reader has not seen, and a sample not stored is below one it took.
        if nanos > self.max.load(Ordering::Relaxed) {
            self.max.store(nanos, Ordering::Relaxed);
        }
    }

    /// Counts one success from any thread.
    fn add_shared(&self, nanos: u64) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.max.fetch_max(nanos, Ordering::Relaxed);
    }

    /// Adds the counters to `totals`, takes the max (leaving 0).
    fn take(&self, totals: &mut CleanTotals) -> u64 {
        totals.calls = totals
            .calls
            .wrapping_add(self.calls.load(Ordering::Relaxed));
        totals.nanos = totals
            .nanos
            .wrapping_add(self.nanos.load(Ordering::Relaxed));
        if self.max.load(Ordering::Relaxed) != 0 {
            self.max.swap(0, Ordering::Relaxed)
        } else {
            0
        }
    }
}

/// [`CleanCounts`] added up over a breaker's lines, modulo 2^64 (differences of two readings,
/// [`since`](Self::since), are exact below 2^64 calls and 2^64 ns, 584 years).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct CleanTotals {
    pub(super) calls: u64,
    pub(super) nanos: u64,
}

impl CleanTotals {
    /// What was counted since `base` was taken.
    pub(super) fn since(self, base: CleanTotals) -> CleanTotals {
        CleanTotals {
            calls: self.calls.wrapping_sub(base.calls),
            nanos: self.nanos.wrapping_sub(base.nanos),
        }
    }
}

/// A breaker's lines.
#[derive(Debug)]
pub(super) struct Shards {
    lines: Box<[Line]>,
    /// The skipped successes of threads that do not own their line (boxed: `Shards` sits in
    /// every breaker, lines or not, and a line-aligned field would make them all larger).
    shared_clean: Box<OwnLines<CleanCounts>>,
    /// Each line's [`Merged`] word, all on one cache line of their own that only lock holders
    /// touch: a holder that merges without closing writes one line, and none its threads use.
    merged: Box<OwnLines<[Merged; MAX_SHARDS]>>,
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
                    clean: CleanCounts::default(),
                })
                .collect(),
            shared_clean: Box::new(OwnLines(CleanCounts::default())),
            merged: Box::new(OwnLines(std::array::from_fn(|_| Merged::default()))),
        }
    }

    /// The calling thread's line if the thread owns it (one thread-local load and one bounds
    /// check: a thread that shares its line, or has none yet, has an index past the end).
    #[inline(always)]
    pub(super) fn owned(&self) -> Option<&Line> {
        self.lines.get(owned_shard())
    }

    /// Counts a skipped success for a thread that does not own its line, or has not been
    /// given one yet.
    #[cold]
    #[inline(never)]
    pub(super) fn add_clean_unowned(&self, nanos: u64) {
        shard_index();
        match self.owned() {
            Some(line) => line.clean.add_owned(nanos),
            None => self.shared_clean.add_shared(nanos),
        }
    }

    /// The skipped successes so far (cumulative), and the longest since the last call (taken:
    /// the next call starts from 0).
    pub(super) fn take_clean(&self) -> (CleanTotals, u64) {
        let mut totals = CleanTotals::default();
        let mut max = self.shared_clean.take(&mut totals);
        for line in self.lines.iter() {
            max = max.max(line.clean.take(&mut totals));
        }
        (totals, max)
    }

    /// The calling thread's line: one thread-local load and the bounds check (an index past
    /// the end: the thread has none yet).
    #[inline(always)]
    pub(super) fn mine(&self) -> &Line {
        match self.lines.get(line_index()) {
            Some(line) => line,
            None => self.assign_mine(),
        }
    }

    /// The calling thread's line, after giving the thread one.
    #[cold]
    #[inline(never)]
    fn assign_mine(&self) -> &Line {
        &self.lines[shard_index()]
    }

    pub(super) fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Line `i`'s [`Merged`] word (lock held).
    #[inline]
    pub(super) fn merged(&self, i: usize) -> &Merged {
        &self.merged[i]
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
