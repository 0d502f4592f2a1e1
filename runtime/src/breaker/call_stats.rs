//! [`CallStats`]: the cumulative figures behind Resilience4j's Micrometer meters
//! (`resilience4j_circuitbreaker_calls_seconds_{count,sum,max}{kind}` and
//! `resilience4j_circuitbreaker_not_permitted_calls_total`), plus fusebox's own transition
//! counter. Kept by the breaker under its lock, with the fast successes counted on per-thread
//! shards: batched ones (`batch.rs`: one `fetch_add` on the caller's own cache line, merged at
//! the next lock) and those a clean breaker skips (`shards.rs`: `CleanCounts`, a plain load and
//! store on the line the caller owns, added in when the stats are read).
//!
//! The counting follows Resilience4j's events, which feed its Micrometer meters: a success,
//! failure or ignored error counts in CLOSED, OPEN (late results), HALF_OPEN and METRICS_ONLY,
//! never in DISABLED or FORCED_OPEN; a rejection counts in OPEN and HALF_OPEN, not in
//! FORCED_OPEN. Nothing here resets on transitions or `reset()`.

use super::inner::{Core, Inner};
use super::shards::{CleanTotals, Shards};
use crate::state::State;
use std::time::Duration;

/// One kind of call, as a Micrometer timer reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallTimer {
    /// Calls recorded (`_seconds_count`).
    pub count: u64,
    /// Their durations added up (`_seconds_sum`).
    pub total: Duration,
    /// The longest of them recently: Micrometer's decaying max (`_seconds_max`), the largest
    /// duration recorded in the last 80–120 s (three buckets rotated every 40 s); 0 when none.
    pub max: Duration,
}

/// State transitions counted by their (from, to) pair; fusebox's own figure (Resilience4j has
/// none), so that an OPEN shorter than a scrape interval still shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transitions {
    counts: [[u64; 6]; 6],
}

impl Transitions {
    /// How many times the breaker went from `from` to `to`.
    pub fn get(&self, from: State, to: State) -> u64 {
        self.counts[from as usize][to as usize]
    }

    /// Every (from, to, count) with a count above 0, in [`State::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (State, State, u64)> + '_ {
        State::ALL.iter().flat_map(move |&from| {
            State::ALL.iter().filter_map(move |&to| {
                let n = self.get(from, to);
                (n > 0).then_some((from, to, n))
            })
        })
    }

    pub(super) fn count(&mut self, from: State, to: State) {
        let n = &mut self.counts[from as usize][to as usize];
        *n = n.saturating_add(1);
    }
}

/// A breaker's cumulative call figures: what
/// [`CircuitBreaker::call_stats`](super::CircuitBreaker::call_stats) returns.
///
/// ```
/// use fusebox_runtime::{Registry, State};
/// use std::time::Duration;
///
/// let breaker = Registry::new().circuit_breaker("orders");
/// breaker.on_success(Duration::from_millis(3));
/// breaker.on_error(Duration::from_millis(5));
/// breaker.transition_to_open_state().unwrap();
/// assert!(breaker.acquire_permission().is_err());
///
/// let stats = breaker.call_stats().expect("call stats are on by default");
/// assert_eq!(stats.successful.count, 1);
/// assert_eq!(stats.failed.total, Duration::from_millis(5));
/// assert_eq!(stats.not_permitted, 1);
/// assert_eq!(stats.transitions.get(State::Closed, State::Open), 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Successful calls (`kind="successful"`), slow ones included.
    pub successful: CallTimer,
    /// Failed calls (`kind="failed"`), timeouts included.
    pub failed: CallTimer,
    /// Calls whose error was ignored (`kind="ignored"`).
    pub ignored: CallTimer,
    /// Calls rejected in OPEN or HALF_OPEN
    /// (`resilience4j_circuitbreaker_not_permitted_calls_total`). Unlike
    /// [`Metrics::number_of_not_permitted_calls`](crate::Metrics::number_of_not_permitted_calls)
    /// it never resets, and FORCED_OPEN's rejections are not in it (Resilience4j publishes no
    /// event for them).
    pub not_permitted: u64,
    /// State transitions by (from, to), fusebox's own.
    pub transitions: Transitions,
}

/// The kinds of [`CallStats`] timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Successful,
    Failed,
    Ignored,
}

/// Micrometer's `TimeWindowMax` with its defaults (expiry 2 min, buffer length 3): every
/// sample goes into all three buckets, the oldest bucket is cleared every 40 s, and the max is
/// the current bucket's.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct DecayingMax {
    buckets: [u64; 3],
    current: usize,
    /// Clock nanoseconds of the last rotation; 0 before the first sample.
    last_rotate: u64,
}

const ROTATE_EVERY: u64 = 40_000_000_000;

impl DecayingMax {
    fn rotate(&mut self, now: u64) {
        if self.last_rotate == 0 {
            self.last_rotate = now;
            return;
        }
        let mut since = now.saturating_sub(self.last_rotate);
        if since < ROTATE_EVERY {
            return;
        }
        // As Micrometer: at most one full turn of the ring, then the timestamp catches up.
        let mut turns = 0;
        while since >= ROTATE_EVERY && turns < self.buckets.len() {
            self.buckets[self.current] = 0;
            self.current = (self.current + 1) % self.buckets.len();
            since -= ROTATE_EVERY;
            self.last_rotate += ROTATE_EVERY;
            turns += 1;
        }
        if since >= ROTATE_EVERY {
            self.last_rotate = now - since % ROTATE_EVERY;
        }
    }

    pub(super) fn record(&mut self, nanos: u64, now: u64) {
        self.rotate(now);
        for b in &mut self.buckets {
            *b = (*b).max(nanos);
        }
    }

    pub(super) fn get(&mut self, now: u64) -> u64 {
        self.rotate(now);
        self.buckets[self.current]
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct TimerCore {
    count: u64,
    nanos: u128,
    max: DecayingMax,
}

impl TimerCore {
    pub(super) fn add(&mut self, calls: u64, nanos: u64) {
        self.count = self.count.saturating_add(calls);
        self.nanos += u128::from(nanos);
    }

    /// The timer as read now, with `extra` calls counted outside it.
    fn snapshot(&mut self, now: u64, extra: CleanTotals) -> CallTimer {
        CallTimer {
            count: self.count.saturating_add(extra.calls),
            total: duration(self.nanos + u128::from(extra.nanos)),
            max: Duration::from_nanos(self.max.get(now)),
        }
    }
}

fn duration(nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % 1_000_000_000) as u32)
}

/// What the breaker keeps under its lock (boxed on first use: an idle breaker has none).
#[derive(Clone, Debug, Default)]
pub(super) struct StatsCore {
    successful: TimerCore,
    failed: TimerCore,
    ignored: TimerCore,
    pub(super) transitions: Transitions,
}

impl StatsCore {
    pub(super) fn timer(&mut self, kind: Kind) -> &mut TimerCore {
        match kind {
            Kind::Successful => &mut self.successful,
            Kind::Failed => &mut self.failed,
            Kind::Ignored => &mut self.ignored,
        }
    }

    /// One call of `kind` that took `nanos`.
    pub(super) fn record(&mut self, kind: Kind, nanos: u64, now: u64) {
        let timer = self.timer(kind);
        timer.add(1, nanos);
        timer.max.record(nanos, now);
    }

    /// A longest duration seen among batched successes.
    pub(super) fn successful_max(&mut self, nanos: u64, now: u64) {
        self.successful.max.record(nanos, now);
    }

    /// The figures now, with `clean` successes (skipped by a clean breaker, counted on its
    /// lines) added to the successful ones.
    fn snapshot(&mut self, now: u64, not_permitted: u64, clean: CleanTotals) -> CallStats {
        CallStats {
            successful: self.successful.snapshot(now, clean),
            failed: self.failed.snapshot(now, CleanTotals::default()),
            ignored: self.ignored.snapshot(now, CleanTotals::default()),
            not_permitted,
            transitions: self.transitions,
        }
    }
}

impl Inner {
    /// The call stats now (lock held, stats on): what the lock holders kept, plus the skipped
    /// successes counted on the lines since the stats were last turned on. Their longest
    /// duration since the last read goes into the decaying max now, as a batched success's
    /// does at its merge.
    pub(super) fn stats_snapshot(
        &self,
        core: &mut Core,
        now: u64,
        not_permitted: u64,
    ) -> CallStats {
        let (clean, max) = self
            .shards
            .get()
            .map(Shards::take_clean)
            .unwrap_or_default();
        let clean = clean.since(core.clean_base);
        let stats = core.stats();
        if max != 0 {
            stats.successful_max(max, now);
        }
        stats.snapshot(now, not_permitted, clean)
    }

    /// Call stats were turned off: the skipped successes counted so far are not theirs, should
    /// they be turned on again (lock held).
    pub(super) fn forget_clean(&self, core: &mut Core) {
        if let Some(shards) = self.shards.get() {
            core.clean_base = shards.take_clean().0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn decaying_max_lasts_two_to_three_rotations() {
        let mut m = DecayingMax::default();
        m.record(7, 1);
        m.record(5, 10 * S);
        assert_eq!(m.get(39 * S), 7);
        // After 40 s the current bucket is cleared; the next still holds both samples.
        assert_eq!(m.get(41 * S), 7);
        assert_eq!(m.get(81 * S), 7);
        // After three rotations every bucket that held them is cleared.
        assert_eq!(m.get(121 * S), 0);
        m.record(3, 122 * S);
        assert_eq!(m.get(122 * S), 3);
        // A long pause clears everything at once.
        assert_eq!(m.get(10_000 * S), 0);
    }

    #[test]
    fn transitions_iterate_counted_pairs() {
        let mut t = Transitions::default();
        t.count(State::Closed, State::Open);
        t.count(State::Closed, State::Open);
        t.count(State::Open, State::HalfOpen);
        let all: Vec<_> = t.iter().collect();
        assert_eq!(
            all,
            vec![
                (State::Closed, State::Open, 2),
                (State::Open, State::HalfOpen, 1)
            ]
        );
    }
}
