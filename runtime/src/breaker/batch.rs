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
//! Every lock holder ([`Inner::lock`]) first merges all waiting successes into the window.
//!
//! **The protocol.** Each per-thread [`Line`](super::shards::Line) has a [`CLOSED`] bit in
//! the same word as its count. Under the lock:
//! * entering ([`Inner::lock`]): every open line is closed with one `swap(CLOSED)`; the value
//!   it returns is the line's waiting successes, all added while it was open, and they go into
//!   the window (and the calls timer) before the holder does anything else;
//! * leaving ([`Locked`]'s drop): when the rules above allow batching, each line is reopened
//!   with `compare_exchange(CLOSED, 0)`, and `batch_until` tells callers until when (the end of
//!   the newest bucket's second for a time window, `u64::MAX` for a count window). A line that
//!   holds a stray increment (below) stays closed until a later holder reopens it.
//!
//! A caller that saw `batch_until` allow it adds `ONE_CALL | nanos` to its line with one
//! `fetch_add`, which returns the word before:
//! * `CLOSED` clear: the success is counted. It is ordered at that `fetch_add`: after the
//!   holder that opened the line, before the holder that will close it (which merges it).
//!   While a line is open no holder is inside its critical section, so the window is exactly
//!   as the last holder left it, and the rules held then.
//! * `CLOSED` set: a holder is inside, or batching stopped. The caller takes its increment
//!   back with `fetch_sub`, waits a little while the lock is held for the holder to reopen
//!   its line and tries again from the start (`hot_path.rs`, a fresh attempt: ordered as
//!   above if it succeeds), or records through the lock. The increment is still there: a
//!   closed line is only reopened by a compare-exchange from exactly `CLOSED`, which fails
//!   while a stray increment sits in it, and only open lines are swapped.
//!
//! So every success is counted once, in the window of the state it was ordered in, and a holder
//! never sees a half-recorded call. `batch_until` is only a hint read before the increment: a
//! stale value costs a stray increment, never a wrong count.
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
    /// Takes the lock and merges every batched success into the window.
    #[inline]
    pub(super) fn lock(&self) -> Locked<'_> {
        let mut guard = self.core.lock();
        if guard.open_lines != 0 {
            self.close(&mut guard);
        }
        Locked { inner: self, guard }
    }

    /// Closes every open line and merges what waited in it.
    #[inline(never)]
    fn close(&self, core: &mut Core) {
        self.batch_until.store(0, Ordering::Relaxed);
        let Some(shards) = self.shards.get() else {
            unreachable!("lines are open, so they were allocated")
        };
        let (mut n, mut sum, mut max) = (0u64, 0u64, 0u64);
        for (i, line) in shards.lines().iter().enumerate() {
            if core.open_lines & (1 << i) == 0 {
                continue;
            }
            let word = line.acc.swap(CLOSED, Ordering::AcqRel);
            n += calls(word);
            sum += nanos(word);
            if line.max.load(Ordering::Relaxed) != 0 {
                max = max.max(line.max.swap(0, Ordering::Relaxed));
            }
        }
        core.open_lines = 0;
        if n == 0 {
            return;
        }
        // Batching was open, so the state is CLOSED and the window takes them as the rules say.
        match &mut core.window {
            Window::Count(w) => w.add_successes(n),
            Window::Time(w) => w.add_successes_to_newest(n),
            Window::Empty => {}
        }
        self.mark_clean_after_merge(core);
        if core.stats_enabled {
            let now = self.now();
            let stats = core.stats();
            stats.timer(Kind::Successful).add(n, sum);
            if max != 0 {
                stats.successful_max(max, now);
            }
        }
    }

    /// Reopens the lines when a fast success may wait: CLOSED, nobody subscribed to SUCCESS
    /// events (a batched success publishes none), the window full (count) or, with one more
    /// success, at its minimum and below both thresholds (time).
    fn reopen(&self, core: &mut Core) {
        if core.state != State::Closed || self.events.wants_successes() {
            return;
        }
        let until = match &core.window {
            Window::Count(w) if w.is_full() => u64::MAX,
            Window::Time(w)
                if Self::successes_stay_below(&core.config, w.rotated_totals(), core.minimum) =>
            {
                w.newest_second_end()
            }
            _ => return,
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

    /// A line reached its fold mark: merge it (and every other) now.
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
