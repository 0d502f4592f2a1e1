//! The state tag: one atomic byte, [`Inner::tag`](super::inner::Inner), holding the state and
//! two bits that let the hot path decide without the lock: [`PERMITS`] (every call is
//! permitted) and [`CLEAN`] (a fast success may be skipped). Written only under the lock.

use super::inner::Inner;
use crate::state::State;
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
/// The tag of a clean CLOSED breaker.
pub(super) const CLOSED_CLEAN: u8 = State::Closed as u8 | PERMITS | CLEAN;

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

    /// Clears [`CLEAN`] before the window takes an outcome that is not a fast success (or
    /// before a subscriber starts to expect events). Called with the lock held.
    #[inline]
    pub(super) fn clear_clean(&self) {
        let tag = self.tag.load(Ordering::Relaxed);
        if tag & CLEAN != 0 {
            self.tag.store(tag & !CLEAN, Ordering::Release);
        }
    }
}
