//! Recording an outcome under the lock (what the [hot path](super::hot_path) did not skip): the
//! window update, the failure and slow-call rate verdict against the thresholds, the rate
//! events, and tripping to OPEN (or HALF_OPEN's decision to close or re-open).

use super::batch::Locked;
use super::call_stats::Kind;
use super::inner::{Core, Inner};
use super::tag::tag_of;
use super::transition::OpenWait;
use crate::config::CircuitBreakerConfig;
use crate::events::{EventKind, Pending};
use crate::state::State;
use crate::window::{self, Totals, Window};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How a window's failure and slow-call rates compare with the thresholds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    BelowMinimum,
    Below,
    FailureAbove,
    SlowAbove,
    BothAbove,
}

impl Verdict {
    fn exceeded(self) -> bool {
        matches!(
            self,
            Verdict::FailureAbove | Verdict::SlowAbove | Verdict::BothAbove
        )
    }
    fn failure_exceeded(self) -> bool {
        matches!(self, Verdict::FailureAbove | Verdict::BothAbove)
    }
    fn slow_exceeded(self) -> bool {
        matches!(self, Verdict::SlowAbove | Verdict::BothAbove)
    }
}

impl Inner {
    /// Records one outcome under the lock.
    ///
    /// The common case — CLOSED, nobody subscribed (to SUCCESS events, for a success), no
    /// threshold reached — takes the lock for a
    /// ring update and returns; a window without failures or slow calls cannot reach a
    /// threshold (thresholds are above 0), so it skips the rate computation too, and marks the
    /// breaker [`CLEAN`](super::tag::CLEAN) once the window is full. Everything else goes through
    /// [`record_locked`](Self::record_locked).
    #[inline(never)]
    pub(super) fn record_contended(self: &Arc<Self>, elapsed_nanos: u64, failed: bool, slow: bool) {
        // DISABLED records nothing and publishes nothing (as Resilience4j's DisabledState).
        if self.tag.load(Ordering::Relaxed) == tag_of(State::Disabled) {
            return;
        }
        // A failure or slow call usually leaves batching as it was (`batch.rs`): the lines stay
        // open. A fast success here found its line closed: the lock reopens it.
        let (mut core, now) = if failed | slow {
            self.lock_to_record(failed, slow)
        } else {
            (self.lock(), None)
        };
        // A subscriber to SUCCESS events needs every success published, any subscriber needs
        // the ERROR events: both go through `record_locked`.
        let published = if failed {
            self.events.has_subscribers()
        } else {
            self.events.wants_successes()
        };
        if core.state == State::Closed && !published {
            if failed | slow {
                self.clear_clean();
            }
            if core.stats_enabled {
                self.count_call(&mut core, elapsed_nanos, failed);
            }
            let totals = match &mut core.window {
                Window::Count(w) => {
                    let packed = w.record_packed(failed, slow);
                    if window::quiet(packed) {
                        if window::clean(packed, w.size()) {
                            self.mark_clean(core.stats_enabled);
                        }
                        return;
                    }
                    window::unpack(packed)
                }
                w => w.record(now.unwrap_or_else(|| self.now()), failed, slow),
            };
            if totals.failed == 0 && totals.slow == 0 {
                return;
            }
            let (verdict, fr, sr) = Self::evaluate(&core.config, totals, core.minimum);
            if verdict.exceeded() {
                self.trip(core, verdict, fr, sr);
            }
            return;
        }
        self.record_locked(core, elapsed_nanos, failed, slow);
    }

    /// Counts a recorded call in the call stats (the caller checked that they are on and that
    /// the state publishes events).
    #[inline]
    fn count_call(&self, core: &mut Core, elapsed_nanos: u64, failed: bool) {
        let kind = if failed {
            Kind::Failed
        } else {
            Kind::Successful
        };
        let now = self.now();
        core.stats().record(kind, elapsed_nanos, now);
    }

    /// Counts an ignored error in the call stats.
    pub(super) fn count_ignored(&self, elapsed_nanos: u64) {
        let mut core = self.lock();
        if core.stats_enabled && core.state.allows_publish() {
            let now = self.now();
            core.stats().record(Kind::Ignored, elapsed_nanos, now);
        }
    }

    /// CLOSED reached a threshold: rate events, then OPEN.
    #[cold]
    fn trip(self: &Arc<Self>, mut core: Locked<'_>, verdict: Verdict, fr: f32, sr: f32) {
        let mut pending = Pending::default();
        self.rate_events(verdict, fr, sr, &mut pending);
        let now = self.now();
        self.transition_locked(
            &mut core,
            State::Open,
            OpenWait::Interval,
            now,
            &mut pending,
        );
        drop(core);
        self.publish(&pending);
    }

    /// Records one outcome in any state, with events.
    #[cold]
    fn record_locked(
        self: &Arc<Self>,
        mut core: Locked<'_>,
        elapsed_nanos: u64,
        failed: bool,
        slow: bool,
    ) {
        let now = self.now();
        let mut pending = Pending::default();
        {
            self.clear_clean();
            let core = &mut *core;
            let state = core.state;
            if core.stats_enabled && state.allows_publish() {
                self.count_call(core, elapsed_nanos, failed);
            }
            if state.allows_publish() && self.events.has_subscribers() {
                let elapsed = Duration::from_nanos(elapsed_nanos);
                pending.push(if failed {
                    EventKind::Error { elapsed }
                } else {
                    EventKind::Success { elapsed }
                });
            }
            match state {
                State::Disabled | State::ForcedOpen => {}
                State::Open => {
                    core.window.record(now, failed, slow);
                }
                State::Closed => {
                    let totals = core.window.record(now, failed, slow);
                    let (verdict, fr, sr) = Self::evaluate(&core.config, totals, core.minimum);
                    if verdict.exceeded() {
                        self.rate_events(verdict, fr, sr, &mut pending);
                        self.transition_locked(
                            core,
                            State::Open,
                            OpenWait::Interval,
                            now,
                            &mut pending,
                        );
                    }
                }
                State::HalfOpen => {
                    let totals = core.window.record(now, failed, slow);
                    let (verdict, _, _) = Self::evaluate(&core.config, totals, core.minimum);
                    let to = match verdict {
                        Verdict::BelowMinimum => None,
                        Verdict::Below => Some(State::Closed),
                        _ => Some(State::Open),
                    };
                    if let Some(to) = to {
                        self.transition_locked(core, to, OpenWait::Interval, now, &mut pending);
                    }
                }
                State::MetricsOnly => {
                    let totals = core.window.record(now, failed, slow);
                    let (verdict, fr, sr) = Self::evaluate(&core.config, totals, core.minimum);
                    let subscribed = self.events.has_subscribers();
                    if verdict.failure_exceeded() && !core.failure_rate_published {
                        core.failure_rate_published = true;
                        if subscribed {
                            pending.push(EventKind::FailureRateExceeded { rate: fr });
                        }
                    }
                    if verdict.slow_exceeded() && !core.slow_call_rate_published {
                        core.slow_call_rate_published = true;
                        if subscribed {
                            pending.push(EventKind::SlowCallRateExceeded { rate: sr });
                        }
                    }
                }
            }
        }
        drop(core);
        self.publish(&pending);
    }

    /// Whether fast successes added to `totals`, a CLOSED window's, leave it below both
    /// thresholds however many there are: the window with one more success reaches `minimum`
    /// and is below both (more successes only lower the rates, and an `f32` division by a
    /// larger count is never larger). Batching asks this of a time window (`batch.rs`): its
    /// totals may not have been evaluated since a read rotated old seconds out of it.
    pub(super) fn successes_stay_below(
        config: &CircuitBreakerConfig,
        totals: Totals,
        minimum: u32,
    ) -> bool {
        let next = Totals {
            calls: totals.calls.saturating_add(1),
            ..totals
        };
        Self::evaluate(config, next, minimum).0 == Verdict::Below
    }

    /// Whether a CLOSED window with `totals` stays CLOSED (no threshold reached).
    pub(super) fn stays_closed(
        config: &CircuitBreakerConfig,
        totals: Totals,
        minimum: u32,
    ) -> bool {
        !Self::evaluate(config, totals, minimum).0.exceeded()
    }

    fn evaluate(
        config: &CircuitBreakerConfig,
        totals: Totals,
        minimum: u32,
    ) -> (Verdict, f32, f32) {
        if totals.calls == 0 || totals.calls < minimum {
            return (Verdict::BelowMinimum, -1.0, -1.0);
        }
        let fr = totals.failure_rate();
        let sr = totals.slow_call_rate();
        let f = fr >= config.failure_rate_threshold;
        let s = sr >= config.slow_call_rate_threshold;
        let verdict = match (f, s) {
            (true, true) => Verdict::BothAbove,
            (true, false) => Verdict::FailureAbove,
            (false, true) => Verdict::SlowAbove,
            (false, false) => Verdict::Below,
        };
        (verdict, fr, sr)
    }

    fn rate_events(&self, verdict: Verdict, fr: f32, sr: f32, pending: &mut Pending) {
        if !self.events.has_subscribers() {
            return;
        }
        if verdict.failure_exceeded() {
            pending.push(EventKind::FailureRateExceeded { rate: fr });
        }
        if verdict.slow_exceeded() {
            pending.push(EventKind::SlowCallRateExceeded { rate: sr });
        }
    }
}
