//! Entering a state, always under the lock: a fresh window for CLOSED and METRICS_ONLY, OPEN's
//! wait and deadlines, HALF_OPEN's probe permits and maximum wait, then the new tag, the
//! transition event and the state's timer. Manual transitions check legality first.

use super::inner::{Core, Inner, nanos};
use super::shards::Shards;
use super::tag::tag_of;
use super::timers::Timer;
use crate::SlidingWindowType;
use crate::config::CircuitBreakerConfig;
use crate::events::{EventKind, Pending};
use crate::state::{IllegalStateTransition, State};
use crate::window::{CountWindow, TimeWindow, Window};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How an OPEN state's wait is chosen.
#[derive(Clone, Copy)]
pub(super) enum OpenWait {
    /// From the wait interval, for attempt + 1.
    Interval,
    /// For this long, attempts unchanged.
    For(Duration),
    /// Until this clock instant, attempts unchanged.
    Until(u64),
}

impl Inner {
    /// Builds the new state object for `to` (even when `to` is the current state, as
    /// Resilience4j does) and publishes the transition unless it is a self-transition.
    pub(super) fn transition_locked(
        self: &Arc<Self>,
        core: &mut Core,
        to: State,
        wait: OpenWait,
        now: u64,
        pending: &mut Pending,
    ) {
        let from = core.state;
        let fresh = |core: &mut Core| {
            let (window, minimum) = Self::fresh_window(&core.config, now);
            core.window = window;
            core.minimum = minimum;
        };
        let mut timer = None;
        match to {
            State::Closed | State::MetricsOnly => {
                fresh(core);
                core.attempts = 0;
                core.failure_rate_published = false;
                core.slow_call_rate_published = false;
            }
            State::Open => {
                // OPEN keeps the metrics of the state it came from.
                let until = match wait {
                    OpenWait::Interval => {
                        core.attempts = core.attempts.saturating_add(1);
                        now.saturating_add(nanos(core.config.wait_interval.wait(core.attempts)))
                    }
                    OpenWait::For(d) => now.saturating_add(nanos(d)),
                    OpenWait::Until(t) => t,
                };
                self.open_until.store(until, Ordering::Release);
                let mut rejects_through = until;
                if core
                    .config
                    .automatic_transition_from_open_to_half_open_enabled
                {
                    // A scheduler given a wait that already ended fires at once.
                    let due = until.max(now);
                    self.open_timer_due.store(due, Ordering::Release);
                    timer = Some((due, Timer::OpenToHalfOpen));
                    rejects_through = rejects_through.min(due.saturating_sub(1));
                }
                self.open_rejects_through
                    .store(rejects_through, Ordering::Release);
            }
            State::HalfOpen => {
                let permitted = core.config.permitted_number_of_calls_in_half_open_state;
                core.window = Window::Count(CountWindow::new(permitted));
                core.minimum = core.config.minimum_number_of_calls.min(permitted);
                self.permits.store(permitted, Ordering::Release);
                let max_wait = core.config.max_wait_duration_in_half_open_state;
                if max_wait.is_zero() {
                    self.half_open_deadline.store(0, Ordering::Release);
                } else {
                    let deadline = now.saturating_add(nanos(max_wait)).max(1);
                    self.half_open_deadline.store(deadline, Ordering::Release);
                    timer = Some((deadline, Timer::HalfOpenMaxWait));
                }
            }
            State::Disabled => {
                core.window = Window::Empty;
                core.minimum = 0;
                core.attempts = 0;
            }
            State::ForcedOpen => {
                core.window = Window::Empty;
                core.minimum = 0;
                core.attempts = core.attempts.saturating_add(1);
            }
        }
        if to != State::Open {
            // A new metrics object: its rejection count starts at 0 (OPEN keeps its
            // predecessor's, as in Resilience4j).
            let (r, f) = self.rejections();
            core.not_permitted_base = r + f;
        }
        if matches!(to, State::Open | State::HalfOpen | State::ForcedOpen) {
            // Rejections are counted on per-thread lines from here on.
            self.shards.get_or_init(Shards::new);
        }
        if from != to && core.stats_enabled {
            core.stats().transitions.count(from, to);
        }
        core.state = to;
        core.generation = core.generation.wrapping_add(1);
        self.tag.store(tag_of(to), Ordering::Release);
        if from != to && self.events.has_subscribers() {
            pending.push(EventKind::StateTransition { from, to });
        }
        if let Some((at, kind)) = timer {
            self.schedule(at, core.generation, kind, now);
        }
    }

    fn fresh_window(c: &CircuitBreakerConfig, now: u64) -> (Window, u32) {
        let window = match c.sliding_window_type {
            SlidingWindowType::CountBased => Window::Count(CountWindow::new(c.sliding_window_size)),
            SlidingWindowType::TimeBased => {
                Window::Time(TimeWindow::new(c.sliding_window_size, now))
            }
        };
        (window, c.effective_minimum_number_of_calls())
    }

    pub(super) fn manual_transition(
        self: &Arc<Self>,
        to: State,
        wait: OpenWait,
    ) -> Result<(), IllegalStateTransition> {
        let mut pending = Pending::default();
        {
            let mut core = self.lock();
            let from = core.state;
            if !from.allows_transition_to(to) {
                return Err(IllegalStateTransition {
                    name: self.name.clone(),
                    from,
                    to,
                });
            }
            let now = self.now();
            self.transition_locked(&mut core, to, wait, now, &mut pending);
        }
        self.publish(&pending);
        Ok(())
    }
}
