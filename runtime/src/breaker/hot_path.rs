//! The hot path, lock-free: acquiring in a state that permits every call (one load and one bit
//! test of the [tag](super::tag)), and recording an outcome, which skips a fast success into a
//! [`CLEAN`] breaker without any write (or, with call stats on, counts it
//! for the calls timer with a plain load and store on the caller's own line, `shards.rs`), or
//! batches it on the caller's own line (one `fetch_add`, `batch.rs`). Everything else leaves
//! through two out-of-line calls: `acquire_not_closed` ([`acquire`](super::acquire)) and
//! `record_contended` ([`record`](super::record)).
//!
//! Callers: [`try_acquire`](CircuitBreaker::try_acquire) and the guard, then
//! [`on_success`](CircuitBreaker::on_success) / [`on_error`](CircuitBreaker::on_error) /
//! `record_nanos`.

use super::CircuitBreaker;
use super::inner::Inner;
use super::shards::{CLOSED, FOLD_AT, Line, MAX_BATCHED_NANOS, ONE_CALL};
use super::tag::{CLEAN, CLOSED_CLEAN, CLOSED_CLEAN_COUNTED, PERMITS, STATE_BITS};
use crate::state::State;
use crate::sync::{STRAY_SPINS, spin_wait};
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl CircuitBreaker {
    /// Acquires as [`try_acquire_permission`](Self::try_acquire_permission) does, returning the
    /// state that gave the permission (`Ok`) or rejected the call (`Err`).
    #[inline]
    pub(crate) fn acquire_in_state(&self) -> Result<State, State> {
        let tag = self.inner.tag.load(Ordering::Acquire);
        if tag & PERMITS != 0 {
            return Ok(State::from_u8(tag & STATE_BITS));
        }
        self.acquire_not_closed(State::from_u8(tag & STATE_BITS))
    }

    /// [`acquire_in_state`](Self::acquire_in_state) without the permitting state (not decoded
    /// on the hot path: written as `acquire_in_state().map(drop)`, the decode stays, 7 more
    /// instructions per call under callgrind).
    #[inline]
    pub(crate) fn acquire_permitted(&self) -> Result<(), State> {
        let tag = self.inner.tag.load(Ordering::Acquire);
        if tag & PERMITS != 0 {
            return Ok(());
        }
        self.acquire_not_closed(State::from_u8(tag & STATE_BITS))
            .map(drop)
    }
}

impl Inner {
    /// Records one outcome; the heart of the hot path.
    #[inline(always)]
    pub(super) fn record(self: &Arc<Self>, elapsed_nanos: u64, failed: bool) {
        self.record_with(elapsed_nanos, failed, None);
    }

    /// Records one outcome; `ended` is the clock reading that ended the call when the caller
    /// has one (the guard measured the call's duration with it), so that a time window's
    /// batched success does not read the clock again, and a count window's batching check is
    /// the same one compare (`ended < batch_until`, which is `u64::MAX` for it).
    ///
    /// A fast success into a [`CLEAN`] breaker is skipped with no write at
    /// all, or only counted for the call stats on the caller's own line
    /// ([`COUNTED`](super::tag::COUNTED)); one that may be batched (`batch.rs`) is one
    /// `fetch_add` on the caller's own line. A success is *fast* when it took at most
    /// `fast_limit_nanos` (the slow-call threshold, capped below [`MAX_BATCHED_NANOS`]): one
    /// compare for both. Everything else goes to [`record_other`](Self::record_other).
    #[inline(always)]
    pub(super) fn record_with(
        self: &Arc<Self>,
        elapsed_nanos: u64,
        failed: bool,
        ended: Option<u64>,
    ) {
        if failed || elapsed_nanos > self.fast_limit_nanos.load(Ordering::Relaxed) {
            self.record_other(elapsed_nanos, failed);
            return;
        }
        let tag = self.tag.load(Ordering::Relaxed);
        if tag == CLOSED_CLEAN {
            return;
        }
        // `CLEAN` is only ever set as `CLOSED_CLEAN` or `CLOSED_CLEAN_COUNTED`.
        if tag & CLEAN != 0 && self.count_clean(elapsed_nanos) {
            return;
        }
        let until = self.batch_until.load(Ordering::Acquire);
        // 0: batching stopped (`ended < 0` never holds); `u64::MAX`: any time.
        let open = match ended {
            Some(ended) => ended < until,
            None => until != 0 && (until == u64::MAX || self.now() < until),
        };
        if open {
            if self.batch(elapsed_nanos) {
                return;
            }
        } else if until == 0 && self.wait_and_batch(elapsed_nanos) {
            return;
        }
        self.record_contended(elapsed_nanos, false, false);
    }

    /// A failure, a slow success, or a success too long to batch: a success that is not slow
    /// may still be skipped by a clean breaker; everything else is recorded under the lock.
    #[inline(never)]
    fn record_other(self: &Arc<Self>, elapsed_nanos: u64, failed: bool) {
        let slow = elapsed_nanos > self.slow_threshold_nanos.load(Ordering::Relaxed);
        if !(failed | slow) {
            let tag = self.tag.load(Ordering::Relaxed);
            if tag == CLOSED_CLEAN {
                return;
            }
            if tag == CLOSED_CLEAN_COUNTED && self.count_clean(elapsed_nanos) {
                return;
            }
        }
        self.record_contended(elapsed_nanos, failed, slow);
    }

    /// Counts a skipped fast success in the call stats: on the caller's line, with a plain load
    /// and store when the caller owns it. `false` if the lines do not exist (never, once the
    /// tag says [`COUNTED`](super::tag::COUNTED): they are allocated before; the lock then
    /// records it).
    ///
    /// A success counted here is ordered, as a skipped one, at its tag load: before whatever
    /// clears the tag. Its counts become visible at the store right after; the reader sums
    /// lines that only grow, so it never misses a success whose call it knows to have ended.
    #[inline(always)]
    fn count_clean(&self, elapsed_nanos: u64) -> bool {
        let Some(shards) = self.shards.get() else {
            return false;
        };
        match shards.owned() {
            Some(line) => line.clean.add_owned(elapsed_nanos),
            None => shards.add_clean_unowned(elapsed_nanos),
        }
        true
    }

    /// Counts a fast success on the caller's line, `batch_until` having allowed it (see
    /// `batch.rs` for why this is exact); `false` if it must take the lock.
    #[inline(always)]
    fn batch(&self, elapsed_nanos: u64) -> bool {
        let Some(shards) = self.shards.get() else {
            return false;
        };
        let line = shards.mine();
        let add = ONE_CALL | elapsed_nanos;
        let before = line.acc.fetch_add(add, Ordering::AcqRel);
        // One test for both rare cases: the line was closed, or it reached its fold mark.
        if before & (CLOSED | FOLD_AT) != 0 {
            return self.batched_rare(line, before, add, elapsed_nanos);
        }
        if elapsed_nanos > line.max.load(Ordering::Relaxed) {
            line.max.fetch_max(elapsed_nanos, Ordering::Relaxed);
        }
        true
    }

    /// A success was counted on `line` (its `fetch_add` returned `before`, open): the line's
    /// max, and the merge once the line had reached its fold mark.
    #[inline(always)]
    fn batched(&self, line: &Line, before: u64, elapsed_nanos: u64) {
        if elapsed_nanos > line.max.load(Ordering::Relaxed) {
            line.max.fetch_max(elapsed_nanos, Ordering::Relaxed);
        }
        if before & FOLD_AT != 0 {
            self.fold();
        }
    }

    /// The `fetch_add` found the line closed (a stray: see [`stray`](Self::stray)) or at its
    /// fold mark (counted; merge now).
    #[cold]
    #[inline(never)]
    fn batched_rare(&self, line: &Line, before: u64, add: u64, elapsed_nanos: u64) -> bool {
        if before & CLOSED != 0 {
            return self.stray(line, add, elapsed_nanos);
        }
        self.batched(line, before, elapsed_nanos);
        true
    }

    /// A stray increment: a lock holder closed the line between the caller's look at
    /// `batch_until` and its `fetch_add`. Takes it back (the line stays closed while it is
    /// there, see `batch.rs`) and waits for the holder as [`wait_and_batch`](Self::wait_and_batch).
    fn stray(&self, line: &Line, add: u64, elapsed_nanos: u64) -> bool {
        line.acc.fetch_sub(add, Ordering::Relaxed);
        self.wait_and_batch(elapsed_nanos)
    }

    /// A fast success found batching stopped (`batch_until` was 0, or its line closed): while
    /// a lock holder is inside, waits a little for it to reopen the caller's line, then
    /// batches from the start (a fresh `batch_until` and clock check, exactly as a first
    /// attempt). `false` (record under the lock) when the lock is free and the line closed
    /// (batching stopped, or the holder left before a stray increment was taken back), or
    /// after [`STRAY_SPINS`] steps.
    ///
    /// Without the wait, the caller would take the lock itself and close the other threads'
    /// lines, so their next successes would find batching stopped too: under two threads and
    /// 1 % failures, a cascade of lock holders that stole each other's lines (0.19x of one
    /// thread's throughput).
    #[cold]
    #[inline(never)]
    fn wait_and_batch(&self, elapsed_nanos: u64) -> bool {
        if elapsed_nanos >= MAX_BATCHED_NANOS {
            return false;
        }
        let Some(shards) = self.shards.get() else {
            return false;
        };
        let line = shards.mine();
        let add = ONE_CALL | elapsed_nanos;
        let mut spins = STRAY_SPINS;
        loop {
            // Wait on the lock word only: reading the line or `batch_until` while the holder
            // is inside would make its writes to them slower.
            while self.core.is_locked() {
                if spins == 0 {
                    return false;
                }
                spins -= 1;
                spin_wait();
            }
            if line.acc.load(Ordering::Relaxed) & CLOSED != 0 {
                return false;
            }
            let until = self.batch_until.load(Ordering::Acquire);
            if until == 0 || (until != u64::MAX && self.now() >= until) {
                return false;
            }
            let before = line.acc.fetch_add(add, Ordering::AcqRel);
            if before & CLOSED == 0 {
                self.batched(line, before, elapsed_nanos);
                return true;
            }
            line.acc.fetch_sub(add, Ordering::Relaxed);
            if spins == 0 {
                return false;
            }
            spins -= 1;
        }
    }
}
