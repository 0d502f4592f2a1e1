//! The state tag: one atomic byte, [`Inner::tag`](super::inner::Inner), holding the state and
//! three bits that let the hot path decide without the lock: [`PERMITS`] (every call is
//! permitted), [`CLEAN`] (a fast success may be skipped) and [`COUNTED`] (a skipped success
//! still counts in the call stats). Written only under the lock.

use super::inner::{Core, Inner};
use super::shards::Shards;
use crate::state::State;
use crate::window::Window;
use std::sync::atomic::Ordering;

/// `Inner::tag` bits 0–2: the state (`State as u8`).
pub(super) const STATE_BITS: u8 = 0b0000_0111;
/// `Inner::tag`: the state permits every call (CLOSED, DISABLED, METRICS_ONLY), so acquiring
/// is one load and one bit test.
pub(super) const PERMITS: u8 = 0b0100_0000;
/// `Inner::tag`: the state is CLOSED, nobody is subscribed, and the count window is full of
/// fast successes. Recording a fast success then changes nothing observable (it evicts a fast
/// success and adds one; the totals, rates and metrics stay the same; CLOSED publishes events
/// only to subscribers), so [`Inner::record`] skips it without taking the lock. The bit is set
/// and cleared only under the lock, and cleared *before* the window takes any other outcome,
/// so a skipped success is ordered before that outcome: the window stays exactly
/// Resilience4j's.
pub(super) const CLEAN: u8 = 0b1000_0000;
/// `Inner::tag`, only with [`CLEAN`]: call stats are on, so a skipped success is still counted
/// in the calls timer, on the caller's own line (`shards.rs`: `CleanCounts`, a plain load and
/// store when the thread owns its line). The window is untouched, as with `CLEAN` alone.
pub(super) const COUNTED: u8 = 0b0010_0000;
/// The tag of a clean CLOSED breaker.
pub(super) const CLOSED_CLEAN: u8 = State::Closed as u8 | PERMITS | CLEAN;
/// The tag of a clean CLOSED breaker that keeps call stats.
pub(super) const CLOSED_CLEAN_COUNTED: u8 = CLOSED_CLEAN | COUNTED;

/// The tag of `state`, without [`CLEAN`].
pub(super) const fn tag_of(state: State) -> u8 {
    match state {
        State::Closed | State::Disabled | State::MetricsOnly => state as u8 | PERMITS,
        State::Open | State::HalfOpen | State::ForcedOpen => state as u8,
    }
}

impl Inner {
    /// The state, decoded from the tag.
    #[inline]
    pub(super) fn load_state(&self) -> State {
        State::from_u8(self.tag.load(Ordering::Acquire) & STATE_BITS)
    }

    /// Marks a CLOSED breaker whose count window is full of fast successes [`CLEAN`] (and
    /// [`COUNTED`] when it keeps call stats, after making sure its lines exist). Called with
    /// the lock held, nobody subscribed to SUCCESS events.
    pub(super) fn mark_clean(&self, stats_enabled: bool) {
        let tag = if stats_enabled {
            self.shards.get_or_init(Shards::new);
            CLOSED_CLEAN_COUNTED
        } else {
            CLOSED_CLEAN
        };
        self.tag.store(tag, Ordering::Release);
    }

    /// After batched successes were merged into the window (lock held, lines were open, so
    /// CLOSED): marks the breaker clean if they left its count window full of fast successes,
    /// as a success recorded under the lock would. Without this, a breaker whose window once
    /// held a failure would batch its successes for good instead of skipping them, although
    /// the failure is long evicted.
    pub(super) fn mark_clean_after_merge(&self, core: &Core) {
        let Window::Count(w) = &core.window else {
            return;
        };
        let totals = w.totals();
        if totals.calls as usize == w.size()
            && totals.failed == 0
            && totals.slow == 0
            && core.state == State::Closed
            && !self.events.wants_successes()
        {
            self.mark_clean(core.stats_enabled);
        }
    }

    /// Clears [`CLEAN`] (and [`COUNTED`]) before the window takes an outcome that is not a fast
    /// success (or before a subscriber starts to expect events). Called with the lock held.
    #[inline]
    pub(super) fn clear_clean(&self) {
        let tag = self.tag.load(Ordering::Relaxed);
        if tag & CLEAN != 0 {
            self.tag.store(tag & !(CLEAN | COUNTED), Ordering::Release);
        }
    }
}
