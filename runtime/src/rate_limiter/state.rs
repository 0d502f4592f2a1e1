//! The rate limiter's state and Resilience4j's cycle arithmetic (`AtomicRateLimiter.State` and
//! `calculateNextState`, `nanosToWaitForPermission`, `reservePermissions`).
//!
//! Time since the limiter was created is split into cycles of `limit_refresh_period`. The state
//! is the cycle of the last update and the permissions left in it (negative while reservations
//! are pending); the limit per cycle sits beside it. Every update is one 64-bit
//! compare-and-swap ([`AtomicState`]), so no update is lost and nothing is allocated
//! (Resilience4j allocates a `State` object per update).
//!
//! The arithmetic is Java's, with Java's `int` and `long` wrapping where Resilience4j's
//! arithmetic can overflow (e.g. a limit near `i32::MAX` over many idle cycles), so every value
//! matches Resilience4j's, overflow included.

use crate::sync::{AtomicI32, AtomicI64, AtomicU64, spin_wait};
use std::sync::atomic::Ordering;

/// The longest pause between two tries of a contended update, in spin hints (one under loom,
/// where a spin is a yield to explore).
#[cfg(not(fusebox_loom))]
const MAX_BACKOFF_SPINS: u32 = 64;
#[cfg(fusebox_loom)]
const MAX_BACKOFF_SPINS: u32 = 1;

/// Resilience4j's `State`, minus the config (the refresh period cannot change; the limit is
/// here) and minus `nanosToWait` (only ever read from a freshly computed state: see [`Next`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct State {
    /// The cycle of the last update (`activeCycle`).
    pub(crate) cycle: i64,
    /// Permissions left in that cycle, negative while reservations wait (`activePermissions`).
    pub(crate) permissions: i32,
    /// Permissions per cycle (`config.limitForPeriod`), at least 1.
    pub(crate) limit: i32,
}

/// A state computed from the current one and the time (`calculateNextState`'s result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Next {
    /// The new state, with the permits reserved if they can be had in time.
    pub(crate) state: State,
    /// Nanoseconds until the permits are available: 0 (or less) for at once.
    pub(crate) nanos_to_wait: i64,
}

/// Resilience4j's `calculateNextState(permits, timeoutInNanos, activeState)`: refresh the
/// permissions if the cycle moved on, compute the wait for `permits`, and reserve them if that
/// wait is at most `timeout` nanoseconds. `now` is nanoseconds since the limiter's creation,
/// `period` the cycle length in nanoseconds (at least 1).
#[inline]
pub(crate) fn next_state(permits: i32, timeout: i64, active: State, period: i64, now: i64) -> Next {
    let limit = active.limit;
    // Java's `currentNanos / cyclePeriodInNanos`. Most calls fall in the stored cycle or the
    // next, which a multiplication confirms (a 64-bit division costs tens of cycles); otherwise
    // the period is at least 1 and the time since creation not negative (for 292 years), so the
    // unsigned division gives Java's quotient.
    //
    // A reading before the stored cycle's start (a counter of another core a few ticks behind,
    // see `time.rs`; never a monotonic clock) is taken as that start: counting cycles backwards
    // would take permissions away.
    let start = active.cycle.wrapping_mul(period);
    let mut now = now;
    let current_cycle = if now >= start && now.wrapping_sub(start) < period && period > 0 {
        active.cycle
    } else if now >= start
        && start >= 0
        && period > 0
        && now.wrapping_sub(start).wrapping_sub(period) < period
    {
        // The next cycle (where an acquire lands after a boundary when calls are frequent):
        // `now - start` is at least one period (the test above failed) and under two.
        active.cycle.wrapping_add(1)
    } else if now < start && active.cycle >= 0 && start >= 0 {
        now = start;
        active.cycle
    } else if now >= 0 && period > 0 {
        (now as u64 / period as u64) as i64
    } else {
        now.wrapping_div(period)
    };
    let mut cycle = active.cycle;
    let mut permissions = active.permissions;
    if cycle != current_cycle {
        let elapsed = current_cycle.wrapping_sub(cycle);
        let accumulated = elapsed.wrapping_mul(i64::from(limit));
        cycle = current_cycle;
        // `(int) min(nextPermissions + accumulatedPermissions, permissionsPerCycle)`
        permissions =
            (i64::from(permissions).wrapping_add(accumulated)).min(i64::from(limit)) as i32;
    }
    let nanos_to_wait = nanos_to_wait(permits, period, limit, permissions, now, current_cycle);
    // `reservePermissions`: only a caller that can wait long enough takes the permits.
    if timeout >= nanos_to_wait {
        permissions = permissions.wrapping_sub(permits);
    }
    Next {
        state: State {
            cycle,
            permissions,
            limit,
        },
        nanos_to_wait,
    }
}

/// Resilience4j's `nanosToWaitForPermission`: 0 if `available` covers `permits`, else the time
/// to the next cycle plus the whole cycles still needed.
#[inline]
fn nanos_to_wait(
    permits: i32,
    period: i64,
    limit: i32,
    available: i32,
    now: i64,
    current_cycle: i64,
) -> i64 {
    if available >= permits {
        return 0;
    }
    let next_cycle_time = current_cycle.wrapping_add(1).wrapping_mul(period);
    let to_next_cycle = next_cycle_time.wrapping_sub(now);
    let at_start_of_next_cycle = available.wrapping_add(limit);
    let full_cycles = div_ceil(
        at_start_of_next_cycle.wrapping_sub(permits).wrapping_neg(),
        limit,
    );
    i64::from(full_cycles)
        .wrapping_mul(period)
        .wrapping_add(to_next_cycle)
}

/// Java's `divCeil(x, y) = (x + y - 1) / y` on `int`s (truncating division).
fn div_ceil(x: i32, y: i32) -> i32 {
    x.wrapping_add(y).wrapping_sub(1).wrapping_div(y)
}

/// The state, alone in its 128 bytes (two cache lines: Intel's adjacent-line prefetcher pairs
/// them), so that the limiter's other fields, which every acquire reads too, do not sit on the
/// line the other core writes.
///
/// Resilience4j's state is a cycle (up to 63 bits with a 1 ns period), the permissions (32
/// bits) and the limit (32): too wide for one 64-bit compare-and-swap, and a 128-bit one
/// (`lock cmpxchg16b`, through a run-time dispatch) cost about twice as much (BENCHMARKS.md, Run
/// 13). So it is kept in three atomics:
/// * **`word`**: the permissions and the cycle's low 32 bits. Every update is one
///   compare-and-swap of this word, which is what orders updates.
/// * **`latest`**: the newest cycle an update has started to store, in full. An update that
///   moves the state to a later cycle raises it (`fetch_max`) *before* swapping the word, so
///   whoever reads a word also reads a `latest` at or after its cycle. The word's full cycle is
///   then `latest` minus how far the word's low bits are behind `latest`'s.
/// * **`limit`**: Resilience4j's `changeLimitForPeriod` replaces the config and keeps the
///   cycle and permissions, so a change only stores it. An update reads it after the word: if
///   its swap succeeds, no other update came between its read of the word and its swap, so it
///   is ordered where it read the limit.
///
/// In a run of updates that do not overlap (the parity suite's), `latest` is always the word's
/// cycle and every value is Resilience4j's. With overlapping updates, an update is ordered at
/// its swap, computed from the state it replaced, as with the 128-bit word. Two limits, both out
/// of reach in practice, are documented in ARCHITECTURE.md: a caller that reads the word just
/// after `latest` has been raised 2^32 cycles or more past it (the first update after 2^32 idle
/// cycles, 36 minutes at Resilience4j's 500 ns period, while it has not yet swapped) resolves
/// the word's cycle 2^32 cycles too late, so it refreshes fewer cycles than have passed and
/// may find fewer permissions than Resilience4j would (never more); and a caller suspended
/// between its read of the word and its swap while the word leaves its value and comes back to
/// it (2^32 cycles, or a drain and reservations within one cycle) swaps as if nothing had
/// happened, as a 128-bit word's caller would, but with the limit it read before.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct AtomicState {
    /// The cycle's low 32 bits (high half) and the permissions (low half, Java's `int`).
    word: AtomicU64,
    /// The newest cycle an update has started to store (at or after the word's).
    latest: AtomicI64,
    /// Permissions per cycle.
    limit: AtomicI32,
}

/// The word for a cycle and its permissions.
fn pack(cycle: i64, permissions: i32) -> u64 {
    (cycle as u64) << 32 | u64::from(permissions as u32)
}

/// The word's permissions.
fn permissions(word: u64) -> i32 {
    word as u32 as i32
}

/// The word's full cycle, given `latest` (at or after it, by less than 2^32 cycles).
fn cycle(word: u64, latest: i64) -> i64 {
    let behind = (latest as u32).wrapping_sub((word >> 32) as u32);
    latest.wrapping_sub(i64::from(behind))
}

impl AtomicState {
    /// Cycle 0 with a full cycle of permissions (Resilience4j's initial state).
    pub(crate) fn new(limit: i32) -> Self {
        Self {
            word: AtomicU64::new(pack(0, limit)),
            latest: AtomicI64::new(0),
            limit: AtomicI32::new(limit),
        }
    }

    /// The current state.
    pub(crate) fn load(&self) -> State {
        let word = self.word.load(Ordering::Acquire);
        self.resolve(word, self.latest.load(Ordering::Acquire))
    }

    /// The permissions per cycle.
    pub(crate) fn limit(&self) -> i32 {
        self.limit.load(Ordering::Acquire)
    }

    /// Replaces the permissions per cycle, keeping the cycle and its permissions (Resilience4j's
    /// `changeLimitForPeriod`).
    pub(crate) fn set_limit(&self, limit: i32) {
        self.limit.store(limit, Ordering::Release);
    }

    /// Resilience4j's `updateStateWithBackOff` for an acquire: takes `permits` if they come
    /// within `timeout` nanoseconds (at least 0: a config's timeout) of `now()`; returns the
    /// nanoseconds until they are available ([`Next::nanos_to_wait`]).
    ///
    /// `now()` (nanoseconds since creation) is read once, after the first read of the state, as
    /// Resilience4j reads it inside the update. Resilience4j reads it again on every retry; here
    /// a retry after a lost compare-and-swap reuses it (a counter read costs as much as the rest
    /// of the acquire, and reading it between the state's read and the swap widens the window
    /// another thread's swap lands in). A reading older than the new state's cycle counts as
    /// that cycle's start ([`next_state`]), so the reuse never takes permissions away.
    ///
    /// The common case is a shortcut of [`next_state`] with the same result: the word is at
    /// `latest`'s cycle, `now` falls in it and enough permissions are left, so the new word is
    /// the old one minus `permits` (no borrow: the permissions stay at 0 or more). With
    /// `timeout` at least 0, Resilience4j reserves permits that need no wait.
    #[inline]
    pub(crate) fn reserve(
        &self,
        permits: i32,
        timeout: i64,
        period: i64,
        now: impl Fn() -> i64,
    ) -> i64 {
        debug_assert!(timeout >= 0, "an acquire's timeout is a duration");
        let mut read = None;
        self.swap(|word, latest| {
            let now = *read.get_or_insert_with(&now);
            if (word >> 32) as u32 == latest as u32 && permissions(word) >= permits {
                let start = latest.wrapping_mul(period);
                if now >= start && now.wrapping_sub(start) < period {
                    return (word - permits as u64, 0);
                }
            }
            let active = self.resolve(word, latest);
            let next = next_state(permits, timeout, active, period, now);
            self.raise(latest, next.state.cycle);
            (
                pack(next.state.cycle, next.state.permissions),
                next.nanos_to_wait,
            )
        })
    }

    /// Replaces the state by `update(current)` until no other thread got in between
    /// (Resilience4j's `drainPermissions` loop); returns the previous state and what `update`
    /// made of it. `update` keeps the limit.
    pub(crate) fn update<R>(&self, mut update: impl FnMut(State) -> (State, R)) -> (State, R) {
        self.swap(|word, latest| {
            let prev = self.resolve(word, latest);
            let (next, result) = update(prev);
            debug_assert_eq!(next.limit, prev.limit, "an update keeps the limit");
            self.raise(latest, next.cycle);
            (pack(next.cycle, next.permissions), (prev, result))
        })
    }

    /// The state a word read with `latest` stands for.
    #[inline]
    fn resolve(&self, word: u64, latest: i64) -> State {
        State {
            cycle: cycle(word, latest),
            permissions: permissions(word),
            limit: self.limit.load(Ordering::Acquire),
        }
    }

    /// Raises `latest` (read as `seen`) to `cycle` before a word of that cycle is swapped in.
    #[inline]
    fn raise(&self, seen: i64, cycle: i64) {
        if cycle > seen {
            self.latest.fetch_max(cycle, Ordering::AcqRel);
        }
    }

    /// Swaps in `next(word, latest)`'s word until no other thread got in between; returns its
    /// result.
    #[inline]
    fn swap<R>(&self, mut next: impl FnMut(u64, i64) -> (u64, R)) -> R {
        let mut word = self.word.load(Ordering::Acquire);
        let mut backoff = 1u32;
        loop {
            let latest = self.latest.load(Ordering::Acquire);
            let (new, result) = next(word, latest);
            match self
                .word
                .compare_exchange_weak(word, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return result,
                Err(_) => {
                    // Resilience4j parks for 1 ns (in practice tens of microseconds) between
                    // tries. Here the retry backs off exponentially (1, 2, 4 ... 64 spin hints)
                    // and reads the state afresh: under contention, the other thread's
                    // compare-and-swap then completes without this one stealing the line back.
                    for _ in 0..backoff {
                        spin_wait();
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF_SPINS);
                    word = self.word.load(Ordering::Acquire);
                }
            }
        }
    }
}

#[cfg(all(test, fusebox_loom))]
mod loom_tests;

#[cfg(test)]
mod tests {
    use super::*;

    const P: i64 = 1_000_000; // a 1 ms cycle

    fn state(cycle: i64, permissions: i32, limit: i32) -> State {
        State {
            cycle,
            permissions,
            limit,
        }
    }

    #[test]
    fn the_state_word_has_its_cache_lines_to_itself() {
        assert_eq!(std::mem::align_of::<AtomicState>(), 128);
        assert_eq!(std::mem::size_of::<AtomicState>(), 128);
    }

    #[test]
    fn the_word_and_latest_give_back_every_cycle_and_permission() {
        for (cycle_, permissions_) in [
            (0, 50),
            (i64::MAX, -7),
            (-3, i32::MIN),
            (123_456_789_012, 0),
            ((1 << 32) - 1, i32::MAX),
        ] {
            let word = pack(cycle_, permissions_);
            assert_eq!(permissions(word), permissions_);
            // `latest` at the word's cycle, or ahead of it (an update moving on) by up to
            // 2^32 - 1 cycles.
            for ahead in [0, 1, 2, 1 << 31, (1 << 32) - 1] {
                let latest = cycle_.wrapping_add(ahead);
                assert_eq!(cycle(word, latest), cycle_, "{cycle_} read with {latest}");
            }
        }
    }

    #[test]
    fn a_word_read_while_latest_moves_on_keeps_its_cycle() {
        let s = AtomicState::new(3);
        s.update(|p| (state(7, 1, p.limit), ()));
        // Another update has raised `latest` and not yet swapped its word.
        s.latest.fetch_max(9, Ordering::AcqRel);
        assert_eq!(s.load(), state(7, 1, 3));
        // In `latest`'s cycle, with a permission left in the word: the shortcut does not apply
        // (the word is not at `latest`'s cycle), the cycle is refreshed from 7, two cycles ago,
        // as Resilience4j does.
        let wait = s.reserve(1, 0, P, || 9 * P + 5);
        assert_eq!(wait, 0);
        assert_eq!(s.load(), state(9, 2, 3));
    }

    /// Random runs of acquires, reservations, drains and limit changes, some across idle gaps of
    /// 2^32 cycles and more (whole multiples included), some read a little behind the time
    /// before, on the atomic state and on a plain
    /// [`State`] updated by [`next_state`] alone: the same waits and states at every step, so
    /// the shortcut and the split word change nothing.
    #[test]
    fn the_atomic_state_follows_next_state_step_by_step() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rand = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for run in 0..300 {
            let period = [1, 500, P, 7_919][run % 4];
            let limit = [1, 2, 50, i32::MAX][rand(4) as usize];
            let atomic = AtomicState::new(limit);
            let mut plain = state(0, limit, limit);
            let mut now: i64 = 0;
            for step in 0..200 {
                now = now.wrapping_add(match rand(10) {
                    0..=3 => 0,
                    4..=6 => rand(period as u64 * 2) as i64,
                    7 => period * rand(5) as i64,
                    8 => (period * (rand(3) as i64 + 1)) << 32,
                    _ => period * ((1 << 32) + rand(3) as i64 - 1),
                });
                // Now and then a reading a little behind the last one (another core's counter):
                // the state's cycle may have started after it.
                let now = if rand(10) == 0 {
                    now - rand(period as u64 * 2) as i64
                } else {
                    now
                };
                let at = format!("run {run} step {step}, period {period}, now {now}");
                match rand(8) {
                    0 => {
                        let (prev, ()) = atomic
                            .update(|s| (next_state(s.permissions, 0, s, period, now).state, ()));
                        assert_eq!(prev, plain, "drain: {at}");
                        plain = next_state(plain.permissions, 0, plain, period, now).state;
                    }
                    1 => {
                        let limit = [1, 3, 50, i32::MAX][rand(4) as usize];
                        atomic.set_limit(limit);
                        plain.limit = limit;
                    }
                    _ => {
                        let permits = [0, 1, 1, 2, 49, i32::MAX][rand(6) as usize];
                        let timeout = [0, 0, period / 2, period * 3, i64::MAX][rand(5) as usize];
                        let wait = atomic.reserve(permits, timeout, period, || now);
                        let next = next_state(permits, timeout, plain, period, now);
                        assert_eq!(wait, next.nanos_to_wait, "wait for {permits}: {at}");
                        plain = next.state;
                    }
                }
                assert_eq!(atomic.load(), plain, "{at}");
            }
        }
    }

    #[test]
    fn immediate_permission_in_the_first_cycle() {
        let n = next_state(1, 0, state(0, 2, 2), P, 10);
        assert_eq!(n.nanos_to_wait, 0);
        assert_eq!(n.state, state(0, 1, 2));
    }

    #[test]
    fn a_reservation_waits_for_the_next_cycle_and_goes_negative() {
        // Resilience4j's reserveAndRefresh: 0 left at time P, one more caller waits a cycle.
        let n = next_state(1, 5 * P, state(1, 0, 1), P, P);
        assert_eq!(n.nanos_to_wait, P);
        assert_eq!(n.state, state(1, -1, 1));
        // The estimate for one more (timeout -1: no reservation) is two cycles.
        let e = next_state(1, -1, n.state, P, P);
        assert_eq!(e.nanos_to_wait, 2 * P);
        assert_eq!(e.state.permissions, -1);
        // After the refresh at 2P + 10: back to 0, the next permit a cycle minus 10 ns away.
        let e = next_state(1, -1, n.state, P, 2 * P + 10);
        assert_eq!((e.state.cycle, e.state.permissions), (2, 0));
        assert_eq!(e.nanos_to_wait, P - 10);
    }

    #[test]
    fn too_long_a_wait_reserves_nothing() {
        let n = next_state(1, P - 1, state(0, 0, 1), P, 0);
        assert_eq!(n.nanos_to_wait, P);
        assert_eq!(n.state.permissions, 0);
    }

    #[test]
    fn skipped_cycles_refresh_up_to_the_limit_only() {
        let n = next_state(1, 0, state(0, -5, 2), P, 2 * P);
        // -5 + 2 cycles * 2 = -1: still short.
        assert_eq!(n.state.permissions, -1);
        assert_eq!(n.nanos_to_wait, P);
        let n = next_state(1, 0, state(0, -5, 2), P, 100 * P);
        assert_eq!(n.state.permissions, 1);
    }

    #[test]
    fn a_reading_before_the_stored_cycle_counts_as_its_start() {
        // Cycle 5 stored with 3 left; a reading 10 ns before its start (another core's counter)
        // neither counts cycles back (which would take 3 limits away) nor refreshes.
        let n = next_state(1, 0, state(5, 3, 4), P, 5 * P - 10);
        assert_eq!(n.state, state(5, 2, 4));
        assert_eq!(n.nanos_to_wait, 0);
        // A wait is counted from the cycle's start: one whole cycle to the next refresh.
        let n = next_state(1, i64::MAX, state(5, 0, 4), P, 5 * P - 10);
        assert_eq!(n.state, state(5, -1, 4));
        assert_eq!(n.nanos_to_wait, P);
        // Before the limiter's creation (a negative reading): cycle 0 at time 0.
        let n = next_state(1, 0, state(0, 1, 1), P, -7);
        assert_eq!(n.state, state(0, 0, 1));
        assert_eq!(n.nanos_to_wait, 0);
    }

    #[test]
    fn many_permits_wait_several_cycles() {
        // 7 permits at 2 per cycle with 2 left: the rest (5) comes with the 3rd refresh.
        let n = next_state(7, i64::MAX, state(0, 2, 2), P, 100);
        assert_eq!(n.nanos_to_wait, 2 * P + (P - 100));
        assert_eq!(n.state.permissions, -5);
    }

    #[test]
    fn java_int_arithmetic_wraps_as_java_does() {
        // 2^33 idle 1 ns cycles at a limit of i32::MAX: Java's long product wraps to -2^33, whose
        // int cast is 0, so Resilience4j finds no permission (and a 1 ns wait) where exact
        // arithmetic would find a full cycle. Reproduced.
        let n = next_state(1, 0, state(0, 0, i32::MAX), 1, 1 << 33);
        assert_eq!(n.state.permissions, 0);
        assert_eq!(n.nanos_to_wait, 1);
        assert_eq!(div_ceil(-30, 50), 0);
        assert_eq!(div_ceil(60, 50), 2);
    }

    #[test]
    fn the_cycle_shortcuts_agree_with_java_s_division() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..100_000 {
            let period = [1, 3, 500, 1_000_000_007, i64::MAX / 3][(next() % 5) as usize];
            let now = (next() >> 1) as i64;
            let earlier = now - (next() % 4) as i64 * (next() as i64 % period.max(1)).abs();
            let stored = state(earlier.max(0) / period, 1, 1);
            let n = next_state(1, 0, stored, period, now);
            assert_eq!(n.state.cycle, now / period, "now {now}, period {period}");
        }
    }
}
