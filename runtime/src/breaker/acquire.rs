//! Acquiring outside the permitting states: OPEN rejects within its wait (in
//! `acquire_not_closed` itself) and moves to HALF_OPEN after it, lazily or by a due timer; HALF_OPEN
//! hands out its probe permits; FORCED_OPEN rejects. Rejections are counted and published.

use super::CircuitBreaker;
use super::inner::Inner;
use super::transition::OpenWait;
use crate::events::{EventKind, Pending};
use crate::state::State;
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl CircuitBreaker {
    /// [`acquire_in_state`](Self::acquire_in_state) in OPEN, HALF_OPEN and FORCED_OPEN.
    ///
    /// A rejection within OPEN's wait and one in FORCED_OPEN are answered here; everything
    /// else (the wait's end, HALF_OPEN, publishing the event) leaves through out-of-line calls,
    /// so that this stays a small leaf with a short prologue. Inlining them made the guard
    /// API's OPEN rejection 85 instructions under callgrind, 74 without.
    #[inline(never)]
    pub(super) fn acquire_not_closed(&self, state: State) -> Result<State, State> {
        let inner = &*self.inner;
        match state {
            State::Open if inner.open_rejects() => {
                inner.reject_now(State::Open);
                Err(State::Open)
            }
            State::ForcedOpen => {
                inner.reject_now(State::ForcedOpen);
                Err(State::ForcedOpen)
            }
            _ => self.acquire_beyond_rejection(state),
        }
    }

    /// The rest of [`acquire_not_closed`](Self::acquire_not_closed): OPEN's wait has ended (or
    /// a race with a transition), HALF_OPEN.
    #[cold]
    #[inline(never)]
    fn acquire_beyond_rejection(&self, state: State) -> Result<State, State> {
        // After the slow path the state may have moved (OPEN → HALF_OPEN).
        if self.inner.acquire_slow(state) {
            Ok(self.inner.load_state())
        } else {
            Err(self.inner.load_state())
        }
    }
}

impl Inner {
    /// OPEN's common case, inlined into the acquire: the wait has not ended.
    #[inline]
    fn open_rejects(&self) -> bool {
        self.now() <= self.open_rejects_through.load(Ordering::Acquire)
    }

    /// A rejection, counted; published only when someone listens (out of line).
    #[inline(always)]
    fn reject_now(&self, state: State) {
        self.count_rejection(state);
        if state.allows_publish() && self.events.has_subscribers() {
            self.publish_not_permitted();
        }
    }

    #[cold]
    #[inline(never)]
    fn publish_not_permitted(&self) {
        self.events.publish(&self.name, EventKind::NotPermitted);
    }

    /// [`reject_now`](Self::reject_now) for the slow path: `false`, the call is not permitted.
    fn reject(&self, state: State) -> bool {
        self.reject_now(state);
        false
    }

    /// Everything but the permitted states: OPEN expiry, HALF_OPEN permits, FORCED_OPEN.
    #[cold]
    fn acquire_slow(self: &Arc<Self>, mut state: State) -> bool {
        // At most: OPEN → HALF_OPEN → take a permit.
        for _ in 0..3 {
            match state {
                State::Closed | State::Disabled | State::MetricsOnly => return true,
                State::ForcedOpen => return self.reject(state),
                State::Open => {
                    // A rejection within the wait is handled inline by the caller; this is the
                    // wait's end (or a rejection seen by a race with a transition).
                    let now = self.now();
                    if self.due_transition(state, now).is_some() {
                        state = self.catch_up(state);
                    } else if now > self.open_until.load(Ordering::Acquire) {
                        state = self.lazy_half_open(now);
                    } else {
                        return self.reject(state);
                    }
                }
                State::HalfOpen => {
                    let caught_up = self.catch_up(state);
                    if caught_up != State::HalfOpen {
                        state = caught_up;
                        continue;
                    }
                    let took = self
                        .permits
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| p.checked_sub(1))
                        .is_ok();
                    return took || self.reject(state);
                }
            }
        }
        self.reject(state)
    }

    /// The lazy OPEN→HALF_OPEN of a call arriving strictly after the wait; returns the state
    /// after.
    fn lazy_half_open(self: &Arc<Self>, now: u64) -> State {
        let mut pending = Pending::default();
        let state = {
            let mut core = self.lock();
            if core.state == State::Open && now > self.open_until.load(Ordering::Acquire) {
                self.transition_locked(
                    &mut core,
                    State::HalfOpen,
                    OpenWait::Interval,
                    now,
                    &mut pending,
                );
            }
            core.state
        };
        self.publish(&pending);
        state
    }
}
