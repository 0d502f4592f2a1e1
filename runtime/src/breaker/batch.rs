//! Batched fast successes: how a CLOSED breaker whose window holds failures, slow calls, or
//! that counts time, still records a fast success without its lock.
//!
//! **When a success may wait.** In CLOSED with nobody subscribed, a fast success cannot change
//! the verdict when
//! * the count window is full: it only evicts, so the rates can only go down, and they were
//!   below the thresholds when the last call was recorded (a count window changes only by
//!   recording a call, and every recorded call is evaluated);
//! * the time window, with one more success, reaches its minimum number of calls and is below
//!   both thresholds, and the success falls in the epoch second of the window's newest bucket:
//!   it evicts nothing and only adds a call, so it and any number after it leave the rates
//!   below. That the rates were below when the last call was recorded is not enough here: a
//!   read (`metrics`, `call_stats`) moves a time window to the current second, dropping the
//!   seconds that left it, without evaluating it (as Resilience4j's snapshot does), and what
//!   is left may be above a threshold, so that the next recorded call trips the breaker.
//!
//! Nothing else observes it (CLOSED publishes success events only to subscribers), so it can
//! be counted later, as long as it is counted before anything reads or changes the window.
//! Every lock holder ([`Inner::lock`], [`Inner::lock_to_record`]) first merges all waiting
//! successes into the window.
//!
//! **The protocol.** Each per-thread [`Line`](super::shards::Line) has a [`CLOSED`] bit in
//! the same word as its count. While a line is open its word only grows (its threads'
//! `fetch_add`s); the line's [`Merged`](super::shards::Merged) word (one of a block on a cache
//! line of its own, used only under the lock) keeps the word as last merged, so what waits is
//! the difference (both fields only grew and neither overflows: no borrow between them).
//! Under the lock:
//! * entering to record a failure or slow call ([`Inner::lock_to_record`]): every open line is
//!   *read* (`load`), what waits goes into the window, and `merged` moves on. If recording the
//!   outcome keeps batching allowed exactly as it is ([`Inner::keeps_batching`]: CLOSED, nobody
//!   to publish it to, the verdict after it below both thresholds, and a full count window,
//!   or a time window read in its newest bucket's second that stays below with any number of
//!   successes more), the lines stay open and nothing the hot path reads is written (not
//!   the half of a line its threads use, not `batch_until`); otherwise they are closed as
//!   below, before anything changes;
//! * entering otherwise ([`Inner::lock`]): every open line is closed with one `swap(CLOSED)`;
//!   what it held beyond `merged` is the line's waiting successes, all added while it was
//!   open, and they go into the window (and the calls timer) before the holder does anything
//!   else;
//! * leaving ([`Locked`]'s drop): when the rules above allow batching, each line is reopened
//!   with `compare_exchange(CLOSED, 0)`, and `batch_until` tells callers until when (the end of
//!   the newest bucket's second for a time window, `u64::MAX` for a count window). A line that
//!   holds a stray increment (below) stays closed until a later holder reopens it.
//!
//! A caller that saw `batch_until` allow it adds `ONE_CALL | nanos` to its line with one
//! `fetch_add`, which returns the word before:
//! * `CLOSED` clear: the success is counted. It is ordered at that `fetch_add`: after every
//!   holder whose read or close of the line came before it, before every one whose read or
//!   close came after it (which merges it). A holder inside at that moment kept the lines
//!   open: it was concurrent with the success and left batching as it found it (the rules
//!   held before it and hold after it, with the same `batch_until`), so ordering the success
//!   after it lands it in the same window under the same rules. Between holders the window is
//!   exactly as the last one left it, and the rules held then.
//! * `CLOSED` set: a holder is inside, or batching stopped. The caller takes its increment
//!   back with `fetch_sub`, waits a little while the lock is held for the holder to reopen
//!   its line and tries again from the start (`hot_path.rs`, a fresh attempt: ordered as
//!   above if it succeeds), or records through the lock. The increment is still there: a
//!   closed line is only reopened by a compare-exchange from exactly `CLOSED`, which fails
//!   while a stray increment sits in it, and only open lines are swapped.
//!
//! So every success is counted once, in the window of the state it was ordered in, and a holder
//! never sees a half-recorded call. The lines' `max` (for the calls timer's decaying max) is
//! only taken when they close (a read, a fold, a transition...): it enters the max then, as
//! the skipped successes' max does when the stats are read. `batch_until` is only a hint read
//! before the increment: a stale value costs a stray increment, never a wrong count.
//!
//! **Time.** A batched success in a time window is counted in the newest bucket when it is
//! merged. The caller checked that its clock reading (through the guard, the one that ended the
//! call and measured its duration; through `on_success(Duration)`, one taken when recording)
//! was before that bucket's second ended;
//! between that reading and its `fetch_add`, a holder may have moved the window on to a later
//! second and reopened the lines, and then the success counts in that later second. Either
//! way it lands in a second the clock showed while the call was being recorded. Without
//! concurrency (no holder between the reading and the `fetch_add`) it is the second of the
//! reading, as under the lock.

use super::call_stats::{Kind, StatsCore};
use super::inner::{Core, Inner};
use super::shards::{CLOSED, Shards, calls, nanos};
use crate::state::State;
use crate::sync::MutexGuard;
use crate::window::Window;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;

/// The breaker's lock, held: waiting successes were merged when it was taken, and batching is
/// reopened (if the rules allow it) when it is dropped.
pub(super) struct Locked<'a> {
    inner: &'a Inner,
    guard: MutexGuard<'a, Core>,
}

impl Deref for Locked<'_> {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.guard
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Core {
        &mut self.guard
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.inner.reopen(&mut self.guard);
    }
}

impl Inner {
    /// Takes the lock and merges every batched success into the window, closing the lines.
    #[inline]
    pub(super) fn lock(&self) -> Locked<'_> {
        let mut guard = self.core.lock();
        if guard.open_lines != 0 {
            self.close(&mut guard);
        }
        Locked { inner: self, guard }
    }

    /// Takes the lock to record a failure or a slow call (`failed`, `slow`) and merges every
    /// batched success into the window. The lines stay open, untouched (only read), when
    /// recording the outcome leaves batching allowed as it is ([`keeps_batching`]); otherwise
    /// they are closed as by [`lock`](Self::lock). Also returns the clock reading the
    /// decision took (a time window's), for the record to use.
    ///
    /// [`keeps_batching`]: Self::keeps_batching
    #[inline]
    pub(super) fn lock_to_record(&self, failed: bool, slow: bool) -> (Locked<'_>, Option<u64>) {
        let mut guard = self.core.lock();
        let mut now = None;
        if guard.open_lines != 0 && !self.merge_keeping_open(&mut guard, failed, slow, &mut now) {
            self.close(&mut guard);
        }
        (Locked { inner: self, guard }, now)
    }

    /// Merges what waits in the open lines by reading them (no write), then tells whether
    /// recording the outcome keeps batching allowed until the same `batch_until`.
    #[inline(never)]
    fn merge_keeping_open(
        &self,
        core: &mut Core,
        failed: bool,
        slow: bool,
        now: &mut Option<u64>,
    ) -> bool {
        let Some(shards) = self.shards.get() else {
            unreachable!("lines are open, so they were allocated")
        };
        let lines = shards.lines();
        let (mut n, mut sum) = (0u64, 0u64);
        let mut open = core.open_lines;
        while open != 0 {
            let i = open.trailing_zeros() as usize;
            open &= open - 1;
            let line = &lines[i];
            let word = line.acc.load(Ordering::Acquire);
            // Both fields only grew since `merged` (an open line is only added to), and
            // neither overflows (`FOLD_AT`): no borrow between them.
            let merged = shards.merged(i);
            let waiting = word.wrapping_sub(merged.get());
            merged.set(word);
            n += calls(waiting);
            sum += nanos(waiting);
        }
        // The lines' max stays on them until they close: taken then, as the skipped successes'
        // max is taken when the stats are read.
        self.add_merged(core, n, sum, 0);
        self.keeps_batching(core, failed, slow, now)
    }

    /// Whether recording the outcome (`failed`, `slow`) leaves batching allowed, with the same
    /// `batch_until`, so that successes batched while the holder is inside may be ordered
    /// after it: CLOSED and nobody to publish the outcome to (so that it takes the path that
    /// only records and evaluates), the window's verdict after the outcome below both
    /// thresholds (no transition), and
    /// * a count window: full (it stays full);
    /// * a time window: the clock reading in the newest bucket's second (nothing rotates, the
    ///   bucket's end stays `batch_until`), and the totals with the outcome such that any
    ///   number of successes leaves them below (the rule of [`reopen`](Self::reopen)).
    fn keeps_batching(&self, core: &Core, failed: bool, slow: bool, now: &mut Option<u64>) -> bool {
        let published = if failed {
            self.events.has_subscribers()
        } else {
            self.events.wants_successes()
        };
        if core.state != State::Closed || published || self.events.wants_successes() {
            return false;
        }
        let after = match &core.window {
            Window::Count(w) if w.is_full() => w.totals_after(failed, slow),
            Window::Time(w) => {
                let t = self.now();
                *now = Some(t);
                if t >= w.newest_second_end() {
                    return false;
                }
                let mut totals = w.rotated_totals();
                totals.add(failed, slow);
                if !Self::successes_stay_below(&core.config, totals, core.minimum) {
                    return false;
                }
                totals
            }
            _ => return false,
        };
        Self::stays_closed(&core.config, after, core.minimum)
    }

    /// Closes every open line and merges what waited in it.
    #[inline(never)]
    fn close(&self, core: &mut Core) {
        self.batch_until.store(0, Ordering::Relaxed);
        let Some(shards) = self.shards.get() else {
            unreachable!("lines are open, so they were allocated")
        };
        let lines = shards.lines();
        let (mut n, mut sum, mut max) = (0u64, 0u64, 0u64);
        let mut open = core.open_lines;
        while open != 0 {
            let i = open.trailing_zeros() as usize;
            open &= open - 1;
            let line = &lines[i];
            let word = line.acc.swap(CLOSED, Ordering::AcqRel);
            let merged = shards.merged(i);
            let waiting = word.wrapping_sub(merged.get());
            merged.set(0);
            n += calls(waiting);
            sum += nanos(waiting);
            if line.max.load(Ordering::Relaxed) != 0 {
                max = max.max(line.max.swap(0, Ordering::Relaxed));
            }
        }
        core.open_lines = 0;
        self.add_merged(core, n, sum, max);
    }

    /// Puts `n` merged successes (`sum` nanoseconds, the longest `max`, 0 if not taken) into
    /// the window and the calls timer. Batching was open, so the state is CLOSED and the window
    /// takes them as the rules say.
    #[inline]
    fn add_merged(&self, core: &mut Core, n: u64, sum: u64, max: u64) {
        if n != 0 {
            match &mut core.window {
                Window::Count(w) => w.add_successes(n),
                Window::Time(w) => w.add_successes_to_newest(n),
                Window::Empty => {}
            }
            self.mark_clean_after_merge(core);
        }
        if core.stats_enabled && (n != 0 || max != 0) {
            if n != 0 {
                core.stats().timer(Kind::Successful).add(n, sum);
            }
            if max != 0 {
                let now = self.now();
                core.stats().successful_max(max, now);
            }
        }
    }

    /// Until when fast successes may wait, from the rules above: `None` if not at all.
    fn batching_until(&self, core: &Core) -> Option<u64> {
        if core.state != State::Closed || self.events.wants_successes() {
            return None;
        }
        match &core.window {
            Window::Count(w) if w.is_full() => Some(u64::MAX),
            Window::Time(w)
                if Self::successes_stay_below(&core.config, w.rotated_totals(), core.minimum) =>
            {
                Some(w.newest_second_end())
            }
            _ => None,
        }
    }

    /// Reopens the lines when a fast success may wait: CLOSED, nobody subscribed to SUCCESS
    /// events (a batched success publishes none), the window full (count) or, with one more
    /// success, at its minimum and below both thresholds (time). Lines still open were kept
    /// open by [`lock_to_record`](Self::lock_to_record), which checked that they may stay.
    fn reopen(&self, core: &mut Core) {
        if core.open_lines != 0 {
            debug_assert_eq!(
                self.batching_until(core),
                Some(self.batch_until.load(Ordering::Relaxed)),
                "a holder kept the lines open although batching changed"
            );
            return;
        }
        let Some(until) = self.batching_until(core) else {
            return;
        };
        let shards = self.shards.get_or_init(Shards::new);
        let mut open = 0;
        for (i, line) in shards.lines().iter().enumerate() {
            if line
                .acc
                .compare_exchange(CLOSED, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                open |= 1 << i;
            }
        }
        core.open_lines = open;
        if open != 0 {
            self.batch_until.store(until, Ordering::Release);
        }
    }

    /// A line reached its fold mark: merge it (and every other) now, closing and reopening
    /// them (which starts every line from 0).
    #[cold]
    #[inline(never)]
    pub(super) fn fold(&self) {
        drop(self.lock());
    }
}

impl Core {
    /// The call stats, created on first use.
    pub(super) fn stats(&mut self) -> &mut StatsCore {
        self.stats.get_or_insert_with(Default::default)
    }
}

#[cfg(test)]
mod tests {
    use super::super::CircuitBreaker;
    use super::super::shards::{CLOSED, ONE_CALL, calls};
    use crate::config::CircuitBreakerConfig;
    use crate::state::State;
    use crate::sync::line_index;
    use crate::{ManualClock, SlidingWindowType};
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    const MS: Duration = Duration::from_millis(1);

    /// A count window of 10 at 50 %, full with one failure and nine successes: batching open.
    fn batching() -> CircuitBreaker {
        let b = CircuitBreaker::new(
            "batch",
            CircuitBreakerConfig::builder()
                .call_stats_enabled(true)
                .clock(ManualClock::new())
                .sliding_window_size(10)
                .minimum_number_of_calls(10)
                .failure_rate_threshold(50.0)
                .build()
                .unwrap(),
        );
        b.on_error(MS);
        for _ in 0..9 {
            b.on_success(MS);
        }
        b
    }

    fn merged(b: &CircuitBreaker) -> u64 {
        let _core = b.inner.core.lock();
        b.inner.shards.get().unwrap().merged(line_index()).get()
    }

    fn acc(b: &CircuitBreaker) -> u64 {
        b.inner
            .shards
            .get()
            .unwrap()
            .mine()
            .acc
            .load(Ordering::Relaxed)
    }

    #[test]
    fn a_failure_below_the_thresholds_only_reads_the_lines() {
        let b = batching();
        b.on_success(MS);
        let word = acc(&b);
        assert_eq!(
            word & CLOSED,
            0,
            "batching is open: a full window below the threshold"
        );
        assert_eq!(calls(word), 1);
        // [F S S S S S S S S S] + S + F: one failure in ten, batching stays as it was.
        b.on_error(MS);
        assert_eq!(acc(&b), word, "a holder that keeps batching writes no line");
        assert_eq!(merged(&b), word);
        b.on_success(MS);
        assert_eq!(acc(&b), word + ONE_CALL + 1_000_000);
        let m = b.metrics();
        assert_eq!(m.number_of_buffered_calls(), 10);
        assert_eq!(m.number_of_failed_calls(), 1);
        // The read closed the line, merged what it held beyond `merged` once, and reopened it.
        assert_eq!(acc(&b), 0);
        assert_eq!(merged(&b), 0);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 11);
        assert_eq!(stats.failed.count, 2);
        assert_eq!(stats.successful.total, 11 * MS);
    }

    #[test]
    fn a_failure_that_trips_closes_the_lines_before_it_records() {
        let b = batching();
        b.on_success(MS);
        // Failures 1 to 4 in ten keep batching; the fifth reaches 50 %.
        for _ in 0..4 {
            b.on_error(MS);
            assert_eq!(acc(&b) & CLOSED, 0);
        }
        assert_eq!(b.state(), State::Closed);
        b.on_error(MS);
        assert_eq!(b.state(), State::Open);
        assert_eq!(acc(&b), CLOSED);
        let m = b.metrics();
        assert_eq!(m.number_of_buffered_calls(), 10);
        assert_eq!(m.number_of_failed_calls(), 5);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 10);
        assert_eq!(stats.failed.count, 6);
    }

    #[test]
    fn a_fold_after_kept_merges_counts_every_success_once() {
        let b = batching();
        b.on_success(MS);
        b.on_error(MS);
        let word = acc(&b);
        assert_eq!(merged(&b), word);
        // As if this thread had batched successes (of 0 ns) up to its line's fold mark.
        let more = (1 << 22) - calls(word);
        let line = b.inner.shards.get().unwrap().mine();
        line.acc.fetch_add(more * ONE_CALL, Ordering::Relaxed);
        // This success finds the mark: counted, then the line is merged and starts from 0.
        b.on_success(MS);
        assert_eq!(acc(&b), 0);
        assert_eq!(merged(&b), 0);
        let m = b.metrics();
        assert_eq!(m.number_of_buffered_calls(), 10);
        assert_eq!(m.number_of_failed_calls(), 0);
        let stats = b.call_stats().unwrap();
        assert_eq!(stats.successful.count, 9 + 1 + more + 1);
        assert_eq!(stats.failed.count, 2);
        assert_eq!(stats.successful.total, 11 * MS);
    }

    #[test]
    fn a_failure_in_a_later_second_closes_a_time_windows_lines() {
        let clock = ManualClock::new();
        let b = CircuitBreaker::new(
            "batch-time",
            CircuitBreakerConfig::builder()
                .call_stats_enabled(true)
                .clock(clock.clone())
                .sliding_window_type(SlidingWindowType::TimeBased)
                .sliding_window_size(10)
                .minimum_number_of_calls(2)
                .failure_rate_threshold(50.0)
                .build()
                .unwrap(),
        );
        // The first success under the lock, the next two batched (with one more success the
        // window reaches its minimum of 2).
        b.on_success(MS);
        b.on_success(MS);
        b.on_success(MS);
        assert_eq!(calls(acc(&b)), 2);
        // Same second, 1 failure in 4: kept.
        b.on_error(MS);
        assert_eq!(calls(acc(&b)), 2);
        assert_eq!(acc(&b) & CLOSED, 0);
        // A later second: the window rotates, so the lines close (and reopen for the new
        // second: the line starts from 0).
        clock.advance(Duration::from_secs(1));
        b.on_error(MS);
        assert_eq!(acc(&b), 0);
        let m = b.metrics();
        assert_eq!(m.number_of_buffered_calls(), 5);
        assert_eq!(m.number_of_failed_calls(), 2);
    }
}
