//! Timer-driven transitions: OPEN→HALF_OPEN when automatic transitions are on, and the end of
//! HALF_OPEN's maximum wait. A tokio timer applies them when a runtime is there; otherwise (or
//! before the timer fires) the next use or read of the breaker catches up, replaying each due
//! transition at its own due time.

use super::inner::{Core, Inner};
use super::transition::OpenWait;
use crate::events::Pending;
use crate::state::State;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

#[derive(Clone, Copy)]
pub(super) enum Timer {
    OpenToHalfOpen,
    HalfOpenMaxWait,
}

impl Inner {
    /// Arms a tokio timer for an automatic transition. Without a tokio runtime, or with a manual
    /// clock, the transition happens lazily when the breaker is next used or read.
    pub(super) fn schedule(self: &Arc<Self>, at: u64, generation: u64, kind: Timer, now: u64) {
        if self.clock.is_manual() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<Inner> = Arc::downgrade(self);
        let delay = Duration::from_nanos(at.saturating_sub(now));
        handle.spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(inner) = weak.upgrade() {
                inner.fire(generation, kind);
            }
        });
    }

    /// A tokio timer fired: apply its transition at its due time (even if the tick clock has
    /// not quite reached it), then anything else that is due.
    fn fire(self: &Arc<Self>, generation: u64, kind: Timer) {
        let mut pending = Pending::default();
        {
            let mut core = self.lock();
            if core.generation != generation {
                return;
            }
            let due = match kind {
                Timer::OpenToHalfOpen if core.state == State::Open => {
                    self.open_timer_due.load(Ordering::Acquire)
                }
                Timer::HalfOpenMaxWait if core.state == State::HalfOpen => {
                    self.half_open_deadline.load(Ordering::Acquire)
                }
                _ => return,
            };
            let now = self.now().max(due);
            self.apply_due_locked(&mut core, now, &mut pending);
        }
        self.publish(&pending);
    }

    /// The next timer-driven transition and its due time, if one is due at `now`: automatic
    /// OPEN→HALF_OPEN, or the end of HALF_OPEN's maximum wait.
    #[inline]
    pub(super) fn due_transition(&self, state: State, now: u64) -> Option<(State, u64)> {
        match state {
            State::Open if self.auto_half_open.load(Ordering::Relaxed) => {
                let due = self.open_timer_due.load(Ordering::Acquire);
                (now >= due).then_some((State::HalfOpen, due))
            }
            State::HalfOpen => {
                let deadline = self.half_open_deadline.load(Ordering::Acquire);
                (deadline != 0 && now >= deadline).then_some((
                    State::from_u8(self.after_max_wait.load(Ordering::Acquire)),
                    deadline,
                ))
            }
            _ => None,
        }
    }

    /// Applies every timer-driven transition due at `now`, each at its own due time, so that a
    /// long pause replays the same chain of transitions Resilience4j's scheduler would (OPEN at
    /// 1 s → HALF_OPEN, its maximum wait at 1.5 s → OPEN, ...). Bounded: a pathological chain
    /// (e.g. 1 ms waits over hours) stops after `MAX_CATCH_UP` steps and resumes on the next read.
    fn apply_due_locked(self: &Arc<Self>, core: &mut Core, now: u64, pending: &mut Pending) {
        const MAX_CATCH_UP: usize = 10_000;
        for _ in 0..MAX_CATCH_UP {
            match self.due_transition(core.state, now) {
                Some((to, at)) => self.transition_locked(core, to, OpenWait::Interval, at, pending),
                None => return,
            }
        }
    }

    /// Applies transitions whose time has come but that no timer has applied yet.
    #[inline]
    pub(super) fn catch_up(self: &Arc<Self>, state: State) -> State {
        if !matches!(state, State::Open | State::HalfOpen) {
            return state;
        }
        let now = self.now();
        if self.due_transition(state, now).is_none() {
            return state;
        }
        let mut pending = Pending::default();
        let state = {
            let mut core = self.lock();
            self.apply_due_locked(&mut core, now, &mut pending);
            core.state
        };
        self.publish(&pending);
        state
    }
}
