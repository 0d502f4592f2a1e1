//! [`CircuitBreaker`]: Resilience4j's state machine over a sliding window.
//!
//! The hot path (a call permitted in CLOSED) reads one atomic to learn the state. Recording a
//! fast success into a count window that is full of fast successes (the healthy steady state)
//! changes nothing, so it is skipped after one more load of that atomic (see
//! [`CLEAN`](tag::CLEAN)); any other outcome takes the breaker's short lock for a ring-buffer
//! update. Rejection in OPEN reads the tick clock and one deadline. Everything rarer (OPEN
//! expiry, HALF_OPEN permits, transitions) happens on the slow path.
//!
//! This file holds the handle and its public API; the rest is one concept per file:
//!
//! * `hot_path.rs`: the lock-free fast path (acquiring in a permitting state, skipping a clean
//!   record), on one screen;
//! * `tag.rs`: the state tag, one atomic byte with the state and the `PERMITS` / `CLEAN` bits;
//! * `inner.rs`: the shared state of one breaker (the atomics read without the lock, the core
//!   under it), its construction, and event publication;
//! * `acquire.rs`: acquiring outside the permitting states (OPEN, HALF_OPEN's probe permits,
//!   FORCED_OPEN);
//! * `record.rs`: recording an outcome under the lock (window, rate verdict, tripping);
//! * `transition.rs`: entering a state, and manual transitions;
//! * `timers.rs`: timer-driven transitions, and catching up when no timer fired;
//! * `not_permitted.rs`: [`CallNotPermitted`], the rejection error.

mod acquire;
mod batch;
mod call_stats;
mod hot_path;
mod inner;
mod not_permitted;
mod record;
mod shards;
mod tag;
mod timers;
mod transition;

pub use call_stats::{CallStats, CallTimer, Transitions};
pub use not_permitted::CallNotPermitted;

use crate::config::CircuitBreakerConfig;
use crate::events::{DEFAULT_EVENT_BUFFER, EventKind, EventReceiver, Pending};
use crate::metrics::Metrics;
use crate::state::{IllegalStateTransition, State};
use inner::{Inner, nanos};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use transition::OpenWait;

/// A named circuit breaker: a cheap, cloneable handle (clones share one breaker).
///
/// Get one from a [`Registry`](crate::Registry); cache it where calls are made.
///
/// ```
/// use fusebox_runtime::{CircuitBreakerConfig, Registry, State};
/// use std::time::Duration;
///
/// let config = CircuitBreakerConfig::builder()
///     .sliding_window_size(2)
///     .failure_rate_threshold(50.0)
///     .build()?;
/// let breaker = Registry::new().circuit_breaker_with_config("orders", config);
///
/// assert!(breaker.try_acquire_permission());
/// breaker.on_error(Duration::from_millis(10));
/// assert!(breaker.try_acquire_permission());
/// breaker.on_error(Duration::from_millis(10));
/// assert_eq!(breaker.state(), State::Open);
/// assert!(breaker.acquire_permission().is_err());
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct CircuitBreaker {
    pub(crate) inner: Arc<Inner>,
}

// A breaker stays consistent if a guarded call panics: its lock is never held across user code
// and does not poison, so handles may cross `catch_unwind`.
impl std::panic::UnwindSafe for CircuitBreaker {}
impl std::panic::RefUnwindSafe for CircuitBreaker {}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.inner.name)
            .field("state", &self.state())
            .finish()
    }
}

impl CircuitBreaker {
    /// Replaces this breaker's configuration in place and starts it over in the new config's
    /// initial state with fresh metrics (publishing the state transition, if any, and a RESET
    /// event). Every handle, including those cached by `#[circuit_breaker]` call sites, sees the
    /// new configuration. The clock stays the breaker's own. [`Registry::reload_from_file`]
    /// uses this.
    ///
    /// [`Registry::reload_from_file`]: crate::Registry::reload_from_file
    pub fn reconfigure(&self, mut config: CircuitBreakerConfig) {
        config.clock = self.inner.clock.clone();
        let initial = config.initial_state;
        let mut pending = Pending::default();
        {
            let mut core = self.inner.lock();
            self.inner.install_config(&mut core, config);
            core.attempts = 0;
            let now = self.inner.now();
            self.inner
                .transition_locked(&mut core, initial, OpenWait::Interval, now, &mut pending);
            if self.inner.events.has_subscribers() {
                pending.push(EventKind::Reset);
            }
        }
        self.inner.publish(&pending);
    }

    /// Installs `config`, which [behaves like](CircuitBreakerConfig::behaves_like) the current
    /// one (only how the breaker is observed differs), without starting over: state, window
    /// and waits stay. The clock stays the breaker's own.
    pub(crate) fn replace_observation_settings(&self, mut config: CircuitBreakerConfig) {
        config.clock = self.inner.clock.clone();
        let mut core = self.inner.core.lock();
        debug_assert!(core.config.behaves_like(&config));
        self.inner.install_config(&mut core, config);
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The breaker's configuration (a copy: [`reconfigure`](Self::reconfigure) may replace it).
    pub fn config(&self) -> CircuitBreakerConfig {
        self.inner.core.lock().config.clone()
    }

    /// The time limit of guarded calls, if any.
    #[inline]
    pub(crate) fn timeout(&self) -> Option<Duration> {
        match self.inner.timeout_nanos.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }

    /// The current state. With automatic transitions enabled, a wait that has ended is applied
    /// here even if its timer has not fired yet.
    pub fn state(&self) -> State {
        let state = self.inner.load_state();
        match state {
            State::Open | State::HalfOpen => self.inner.catch_up(state),
            _ => state,
        }
    }

    /// Asks to make a call: `true` if permitted. A permitted call must end with
    /// [`on_success`](Self::on_success), [`on_error`](Self::on_error) or
    /// [`release_permission`](Self::release_permission) — or use [`try_acquire`](Self::try_acquire),
    /// whose permit cannot leak.
    #[inline]
    pub fn try_acquire_permission(&self) -> bool {
        self.acquire_permitted().is_ok()
    }

    /// Like [`try_acquire_permission`](Self::try_acquire_permission), with the rejection as an
    /// error value.
    #[inline]
    pub fn acquire_permission(&self) -> Result<(), CallNotPermitted> {
        self.acquire_permitted()
            .map_err(|state| self.rejected_in(state))
    }

    /// The rejection of a call by `state` (inlined: a copy of the interned name and the state).
    #[inline]
    pub(crate) fn rejected_in(&self, state: State) -> CallNotPermitted {
        CallNotPermitted {
            name: self.inner.interned_name(),
            state,
        }
    }

    /// Gives back a permission that was not used (the call never ran, or its outcome should not
    /// count). Only HALF_OPEN counts permits; elsewhere this does nothing.
    pub fn release_permission(&self) {
        if self.inner.load_state() == State::HalfOpen {
            self.inner.permits.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Records a successful call that took `elapsed` (slow if longer than the threshold).
    #[inline]
    pub fn on_success(&self, elapsed: Duration) {
        self.inner.record(nanos(elapsed), false);
    }

    /// Records a failed call that took `elapsed`.
    #[inline]
    pub fn on_error(&self, elapsed: Duration) {
        self.inner.record(nanos(elapsed), true);
    }

    /// Records an outcome that took `elapsed_nanos` (the guard's path: no `Duration` round
    /// trip).
    #[inline]
    pub(crate) fn record_nanos(&self, elapsed_nanos: u64, failed: bool) {
        self.inner.record(elapsed_nanos, failed);
    }

    /// Records an outcome that took `elapsed_nanos` and ended at `ended` (the clock reading
    /// that measured it, which a time window's batched success is placed by).
    #[inline]
    pub(crate) fn record_ended(&self, ended: u64, elapsed_nanos: u64, failed: bool) {
        self.inner.record_with(elapsed_nanos, failed, Some(ended));
    }

    /// Records an ignored error: the permission is released, an IGNORED_ERROR event is
    /// published, nothing is counted.
    pub fn on_ignored_error(&self, elapsed: Duration) {
        self.release_permission();
        self.inner.count_ignored(nanos(elapsed));
        let state = self.inner.load_state();
        if state.allows_publish() && self.inner.events.has_subscribers() {
            self.inner
                .events
                .publish(&self.inner.name, EventKind::IgnoredError { elapsed });
        }
    }

    /// A snapshot of the current figures.
    pub fn metrics(&self) -> Metrics {
        // Apply a transition that is due first, as `state()` does: the figures are the current
        // state's.
        self.state();
        let now = self.inner.now();
        let mut core = self.inner.lock();
        let (r, f) = self.inner.rejections();
        Metrics {
            state: core.state,
            totals: core.window.totals(now),
            minimum: core.minimum,
            not_permitted: (r + f).saturating_sub(core.not_permitted_base),
        }
    }

    /// The cumulative call figures behind Resilience4j's Micrometer meters (calls timers by
    /// kind, not-permitted calls) and fusebox's transition counter; `None` when the breaker's
    /// config turned them off ([`call_stats_enabled`](CircuitBreakerConfig::call_stats_enabled)).
    /// Reading them merges the batched successes, like [`metrics`](Self::metrics): call it at
    /// scrape time, not per call.
    pub fn call_stats(&self) -> Option<CallStats> {
        self.state();
        let now = self.inner.now();
        let mut core = self.inner.lock();
        if !core.stats_enabled {
            return None;
        }
        let (not_permitted, _) = self.inner.rejections();
        Some(self.inner.stats_snapshot(&mut core, now, not_permitted))
    }

    /// Moves to CLOSED (fresh metrics).
    pub fn transition_to_closed_state(&self) -> Result<(), IllegalStateTransition> {
        self.inner
            .manual_transition(State::Closed, OpenWait::Interval)
    }

    /// Moves to OPEN for the wait of the next attempt.
    pub fn transition_to_open_state(&self) -> Result<(), IllegalStateTransition> {
        self.inner
            .manual_transition(State::Open, OpenWait::Interval)
    }

    /// Moves to OPEN for `wait` (attempts unchanged).
    pub fn transition_to_open_state_for(
        &self,
        wait: Duration,
    ) -> Result<(), IllegalStateTransition> {
        self.inner
            .manual_transition(State::Open, OpenWait::For(wait))
    }

    /// Moves to OPEN until the clock reaches `until_nanos` (nanoseconds since the Unix epoch;
    /// attempts unchanged).
    pub fn transition_to_open_state_until(
        &self,
        until_nanos: u64,
    ) -> Result<(), IllegalStateTransition> {
        self.inner
            .manual_transition(State::Open, OpenWait::Until(until_nanos))
    }

    /// Moves to HALF_OPEN (refilling the probe permits).
    pub fn transition_to_half_open_state(&self) -> Result<(), IllegalStateTransition> {
        self.inner
            .manual_transition(State::HalfOpen, OpenWait::Interval)
    }

    /// Moves to DISABLED: every call permitted, nothing recorded.
    pub fn transition_to_disabled_state(&self) -> Result<(), IllegalStateTransition> {
        self.inner
            .manual_transition(State::Disabled, OpenWait::Interval)
    }

    /// Moves to FORCED_OPEN: every call rejected.
    pub fn transition_to_forced_open_state(&self) -> Result<(), IllegalStateTransition> {
        self.inner
            .manual_transition(State::ForcedOpen, OpenWait::Interval)
    }

    /// Moves to METRICS_ONLY: calls recorded, never tripping.
    pub fn transition_to_metrics_only_state(&self) -> Result<(), IllegalStateTransition> {
        self.inner
            .manual_transition(State::MetricsOnly, OpenWait::Interval)
    }

    /// Back to a fresh CLOSED state, whatever the state was; publishes the transition (if any)
    /// and a RESET event.
    pub fn reset(&self) {
        let mut pending = Pending::default();
        {
            let mut core = self.inner.lock();
            let now = self.inner.now();
            core.attempts = 0;
            self.inner.transition_locked(
                &mut core,
                State::Closed,
                OpenWait::Interval,
                now,
                &mut pending,
            );
            if self.inner.events.has_subscribers() {
                pending.push(EventKind::Reset);
            }
        }
        self.inner.publish(&pending);
    }

    /// Subscribes to this breaker's events with a queue of [`DEFAULT_EVENT_BUFFER`] events.
    pub fn subscribe(&self) -> EventReceiver {
        self.subscribe_with_capacity(DEFAULT_EVENT_BUFFER)
    }

    /// Subscribes with a queue of `capacity` events (a capacity of 0 counts as 1); when it is
    /// full, new events are dropped and counted ([`EventReceiver::dropped`]).
    pub fn subscribe_with_capacity(&self, capacity: usize) -> EventReceiver {
        let receiver = self.inner.events.subscribe(capacity, true);
        // From now on every success is an event: no more skipped or batched records (taking
        // the lock merges the batched ones and closes batching).
        let _core = self.inner.lock();
        self.inner.clear_clean();
        receiver
    }

    /// Subscribes, as [`subscribe_with_capacity`](Self::subscribe_with_capacity), to every
    /// event but SUCCESS. Unlike a full subscription it keeps the breaker's lock-free fast path:
    /// a healthy breaker's successes are still skipped or batched, where a subscriber to SUCCESS
    /// events makes each of them take the lock and queue an event.
    ///
    /// ```
    /// use fusebox_runtime::{EventKind, Registry};
    /// use std::time::Duration;
    ///
    /// let breaker = Registry::new().circuit_breaker("orders");
    /// let mut events = breaker.subscribe_except_successes(64);
    /// breaker.on_success(Duration::from_millis(1));
    /// breaker.on_error(Duration::from_millis(2));
    /// let kinds: Vec<_> = events.drain().into_iter().map(|e| e.kind).collect();
    /// assert_eq!(kinds, [EventKind::Error { elapsed: Duration::from_millis(2) }]);
    /// ```
    pub fn subscribe_except_successes(&self, capacity: usize) -> EventReceiver {
        self.inner.events.subscribe(capacity, false)
    }

    /// Events dropped because subscribers' queues were full, over all subscribers.
    pub fn dropped_events(&self) -> u64 {
        self.inner.events.dropped()
    }

    /// The clock nanoseconds now, by this breaker's clock.
    #[inline]
    pub(crate) fn now_nanos(&self) -> u64 {
        self.inner.now()
    }

    /// Whether two handles point at the same breaker.
    pub fn ptr_eq(&self, other: &CircuitBreaker) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
