//! The rate limiter's state and Resilience4j's cycle arithmetic (`AtomicRateLimiter.State` and
//! `calculateNextState`, `nanosToWaitForPermission`, `reservePermissions`).
//!
//! Time since the limiter was created is split into cycles of `limit_refresh_period`. The state
//! is the cycle of the last update, the permissions left in it (negative while reservations are
//! pending) and the limit per cycle (which [`change_limit_for_period`] swaps together with the
//! rest, as Resilience4j swaps its config inside the state). All three live in one 128-bit
//! atomic word, updated by compare-and-swap, so no update is lost and nothing is allocated
//! (Resilience4j allocates a `State` object per update).
//!
//! The arithmetic is Java's, with Java's `int` and `long` wrapping where Resilience4j's
//! arithmetic can overflow (e.g. a limit near `i32::MAX` over many idle cycles), so every value
//! matches Resilience4j's, overflow included.
//!
//! [`change_limit_for_period`]: super::RateLimiter::change_limit_for_period

use portable_atomic::AtomicU128;
use std::sync::atomic::Ordering;

/// The longest pause between two tries of a contended update, in spin hints.
const MAX_BACKOFF_SPINS: u32 = 64;

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

impl State {
    fn pack(self) -> u128 {
        ((self.cycle as u64 as u128) << 64)
            | ((self.permissions as u32 as u128) << 32)
            | self.limit as u32 as u128
    }

    fn unpack(word: u128) -> Self {
        Self {
            cycle: (word >> 64) as u64 as i64,
            permissions: (word >> 32) as u32 as i32,
            limit: word as u32 as i32,
        }
    }
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
    // Java's `currentNanos / cyclePeriodInNanos`. Most calls fall in the stored cycle, which a
    // multiplication confirms (a 64-bit division costs tens of cycles); otherwise the period is
    // at least 1 and the time since creation not negative (for 292 years), so the unsigned
    // division gives Java's quotient.
    //
    // A reading before the stored cycle's start (a counter of another core a few ticks behind,
    // see `time.rs`; never a monotonic clock) is taken as that start: counting cycles backwards
    // would take permissions away.
    let start = active.cycle.wrapping_mul(period);
    let mut now = now;
    let current_cycle = if now >= start && now.wrapping_sub(start) < period && period > 0 {
        active.cycle
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

/// The state word, alone in its 128 bytes (two cache lines: Intel's adjacent-line prefetcher
/// pairs them). Every acquire writes it, and every acquire also reads the limiter's other fields
/// (period, start, clock, timeout, event subscribers); sharing a line with the state word, those
/// reads would take the line from the other core's write once more per call under contention.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct AtomicState(AtomicU128);

impl AtomicState {
    /// Cycle 0 with a full cycle of permissions (Resilience4j's initial state).
    pub(crate) fn new(limit: i32) -> Self {
        Self(AtomicU128::new(
            State {
                cycle: 0,
                permissions: limit,
                limit,
            }
            .pack(),
        ))
    }

    /// The current state.
    #[inline]
    pub(crate) fn load(&self) -> State {
        State::unpack(self.0.load(Ordering::Acquire))
    }

    /// Replaces the state by `update(current)` until no other thread got in between (Resilience4j's
    /// `updateStateWithBackOff` and `drainPermissions` loops); returns the previous state and
    /// what `update` made of it.
    #[inline]
    pub(crate) fn update<R>(&self, mut update: impl FnMut(State) -> (State, R)) -> (State, R) {
        let mut word = self.0.load(Ordering::Acquire);
        let mut backoff = 1u32;
        loop {
            let prev = State::unpack(word);
            let (next, result) = update(prev);
            match self.0.compare_exchange_weak(
                word,
                next.pack(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return (prev, result),
                Err(_) => {
                    // Resilience4j parks for 1 ns (in practice tens of microseconds) between
                    // tries. Here the retry backs off exponentially (1, 2, 4 ... 64 spin hints)
                    // and reads the state afresh: under contention, the other thread's
                    // compare-and-swap then completes without this one stealing the line back.
                    for _ in 0..backoff {
                        std::hint::spin_loop();
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF_SPINS);
                    word = self.0.load(Ordering::Acquire);
                }
            }
        }
    }
}

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
    fn packing_round_trips_every_field_and_sign() {
        for s in [
            state(0, 50, 50),
            state(i64::MAX, -7, i32::MAX),
            state(-3, i32::MIN, 1),
            state(123_456_789_012, 0, 2),
        ] {
            assert_eq!(State::unpack(s.pack()), s);
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
    fn the_same_cycle_shortcut_agrees_with_java_s_division() {
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
