//! [`CircuitBreaker`]: Resilience4j's state machine over a sliding window.
//!
//! The hot path (a call permitted in CLOSED) reads one atomic to learn the state. Recording a
//! fast success into a count window that is full of fast successes (the healthy steady state)
//! changes nothing, so it is skipped after one more load of that atomic (see [`CLEAN`]); any
//! other outcome takes the breaker's short lock for a ring-buffer update. Rejection in OPEN reads
//! the tick clock and one deadline. Everything rarer (OPEN expiry, HALF_OPEN permits,
//! transitions) happens on the slow path.

use crate::SlidingWindowType;
use crate::clock::ClockSource;
use crate::config::CircuitBreakerConfig;
use crate::events::{DEFAULT_EVENT_BUFFER, EventBus, EventKind, EventReceiver, Pending};
use crate::metrics::Metrics;
use crate::state::{IllegalStateTransition, State};
use crate::sync::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Mutex, MutexGuard};
use crate::window::{self, CountWindow, TimeWindow, Totals, Window};
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// A call was rejected because the breaker is OPEN, FORCED_OPEN, or HALF_OPEN without permits.
///
/// Its message is Resilience4j's:
///
/// ```
/// use fusebox_runtime::{Registry, State};
/// let breaker = Registry::new().circuit_breaker("orders");
/// breaker.transition_to_open_state().unwrap();
/// let rejected = breaker.acquire_permission().unwrap_err();
/// assert_eq!(rejected.state(), State::Open);
/// assert_eq!(
///     rejected.to_string(),
///     "CircuitBreaker 'orders' is OPEN and does not permit further calls"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallNotPermitted {
    pub(crate) name: Arc<str>,
    pub(crate) state: State,
}

impl CallNotPermitted {
    /// The name of the breaker that rejected the call.
    pub fn breaker_name(&self) -> &str {
        &self.name
    }
    /// The breaker's state when it rejected the call.
    pub fn state(&self) -> State {
        self.state
    }
}

impl fmt::Display for CallNotPermitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CircuitBreaker '{}' is {} and does not permit further calls",
            self.name, self.state
        )
    }
}

impl std::error::Error for CallNotPermitted {}

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

pub(crate) struct Inner {
    pub(crate) name: Arc<str>,
    /// The clock, fixed for the breaker's life.
    clock: ClockSource,
    /// The config values read outside the lock, mirrored from `Core::config`.
    slow_threshold_nanos: AtomicU64,
    /// The time limit in nanoseconds; 0 when there is none.
    timeout_nanos: AtomicU64,
    auto_half_open: AtomicBool,
    after_max_wait: AtomicU8,
    /// The current state, readable without the lock, with the [`PERMITS`] and [`CLEAN`] bits.
    /// Written only under the lock.
    tag: AtomicU8,
    /// OPEN: a call strictly after this instant (clock nanos) may probe.
    open_until: AtomicU64,
    /// OPEN: calls up to this instant are rejected without further checks (the lazy wait's
    /// end, or just before the automatic transition's due time, whichever is earlier).
    open_rejects_through: AtomicU64,
    /// OPEN with automatic transition: when its timer fires (the wait's end, or the moment OPEN
    /// began if that end was already past, as a scheduler with a negative delay fires at once).
    open_timer_due: AtomicU64,
    /// HALF_OPEN with a maximum wait: the instant it moves on; 0 when there is none.
    half_open_deadline: AtomicU64,
    /// HALF_OPEN: probe permits left.
    permits: AtomicU32,
    /// Rejections counted on the current metrics object.
    not_permitted: AtomicU64,
    core: Mutex<Core>,
    pub(crate) events: EventBus,
}

struct Core {
    /// The configuration; [`CircuitBreaker::reconfigure`] replaces it in place.
    config: CircuitBreakerConfig,
    state: State,
    window: Window,
    minimum: u32,
    attempts: u32,
    generation: u64,
    failure_rate_published: bool,
    slow_call_rate_published: bool,
}

/// How an OPEN state's wait is chosen.
#[derive(Clone, Copy)]
enum OpenWait {
    /// From the wait interval, for attempt + 1.
    Interval,
    /// For this long, attempts unchanged.
    For(Duration),
    /// Until this clock instant, attempts unchanged.
    Until(u64),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    BelowMinimum,
    Below,
    FailureAbove,
    SlowAbove,
    BothAbove,
}

/// `Inner::tag` bits 0–2: the state (`State as u8`).
const STATE_BITS: u8 = 0b0000_0111;
/// `Inner::tag`: the state permits every call (CLOSED, DISABLED, METRICS_ONLY), so acquiring
/// is one load and one bit test.
const PERMITS: u8 = 0b0100_0000;
/// `Inner::tag`: the state is CLOSED, nobody is subscribed, and the count window is full of
/// fast successes. Recording a fast success then changes nothing observable (it evicts a fast
/// success and adds one; the totals, rates and metrics stay the same; CLOSED publishes events
/// only to subscribers), so [`Inner::record`] skips it without taking the lock. The bit is set
/// and cleared only under the lock, and cleared *before* the window takes any other outcome,
/// so a skipped success is ordered before that outcome: the window stays exactly
/// Resilience4j's.
const CLEAN: u8 = 0b1000_0000;
/// The tag of a clean CLOSED breaker.
const CLOSED_CLEAN: u8 = State::Closed as u8 | PERMITS | CLEAN;

/// The tag of `state`, without [`CLEAN`].
const fn tag_of(state: State) -> u8 {
    match state {
        State::Closed | State::Disabled | State::MetricsOnly => state as u8 | PERMITS,
        State::Open | State::HalfOpen | State::ForcedOpen => state as u8,
    }
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
    #[inline]
    fn now(&self) -> u64 {
        self.clock.now_nanos()
    }

    /// Makes `config` current: stores it and mirrors the values read outside the lock.
    fn install_config(&self, core: &mut Core, config: CircuitBreakerConfig) {
        self.slow_threshold_nanos.store(
            nanos(config.slow_call_duration_threshold),
            Ordering::Relaxed,
        );
        self.timeout_nanos.store(
            config.timeout.map_or(0, |t| nanos(t).max(1)),
            Ordering::Relaxed,
        );
        self.auto_half_open.store(
            config.automatic_transition_from_open_to_half_open_enabled,
            Ordering::Relaxed,
        );
        self.after_max_wait.store(
            config.transition_to_state_after_wait_duration as u8,
            Ordering::Relaxed,
        );
        core.config = config;
    }

    #[inline]
    fn load_state(&self) -> State {
        State::from_u8(self.tag.load(Ordering::Acquire) & STATE_BITS)
    }

    /// Clears [`CLEAN`] before the window takes an outcome that is not a fast success (or
    /// before a subscriber starts to expect events). Called with the lock held.
    #[inline]
    fn clear_clean(&self) {
        let tag = self.tag.load(Ordering::Relaxed);
        if tag & CLEAN != 0 {
            self.tag.store(tag & !CLEAN, Ordering::Release);
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

    /// Builds the new state object for `to` (even when `to` is the current state, as
    /// Resilience4j does) and publishes the transition unless it is a self-transition.
    fn transition_locked(
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
            self.not_permitted.store(0, Ordering::Relaxed);
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
                self.not_permitted.store(0, Ordering::Relaxed);
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
                self.not_permitted.store(0, Ordering::Relaxed);
            }
            State::ForcedOpen => {
                core.window = Window::Empty;
                core.minimum = 0;
                core.attempts = core.attempts.saturating_add(1);
                self.not_permitted.store(0, Ordering::Relaxed);
            }
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

    /// Arms a tokio timer for an automatic transition. Without a tokio runtime, or with a manual
    /// clock, the transition happens lazily when the breaker is next used or read.
    fn schedule(self: &Arc<Self>, at: u64, generation: u64, kind: Timer, now: u64) {
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
            let mut core = self.core.lock();
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
    fn due_transition(&self, state: State, now: u64) -> Option<(State, u64)> {
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
    fn catch_up(self: &Arc<Self>, state: State) -> State {
        if !matches!(state, State::Open | State::HalfOpen) {
            return state;
        }
        let now = self.now();
        if self.due_transition(state, now).is_none() {
            return state;
        }
        let mut pending = Pending::default();
        let state = {
            let mut core = self.core.lock();
            self.apply_due_locked(&mut core, now, &mut pending);
            core.state
        };
        self.publish(&pending);
        state
    }

    /// The lazy OPEN→HALF_OPEN of a call arriving strictly after the wait; returns the state
    /// after.
    fn lazy_half_open(self: &Arc<Self>, now: u64) -> State {
        let mut pending = Pending::default();
        let state = {
            let mut core = self.core.lock();
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

    #[inline]
    fn publish(&self, pending: &Pending) {
        if !pending.is_empty() {
            self.publish_all(pending);
        }
    }

    #[cold]
    fn publish_all(&self, pending: &Pending) {
        for kind in pending.iter() {
            self.events.publish(&self.name, kind);
        }
    }

    /// OPEN's common case, inlined into the acquire: the wait has not ended.
    #[inline]
    fn open_rejects(&self) -> bool {
        self.now() <= self.open_rejects_through.load(Ordering::Acquire)
    }

    #[inline]
    fn reject(&self, state: State) -> bool {
        self.not_permitted.fetch_add(1, Ordering::Relaxed);
        if state.allows_publish() && self.events.has_subscribers() {
            self.events.publish(&self.name, EventKind::NotPermitted);
        }
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

    /// Records one outcome; the heart of the hot path.
    ///
    /// A fast success into a [`CLEAN`] breaker is skipped with no write at all. Otherwise see
    /// [`record_contended`](Self::record_contended).
    #[inline]
    fn record(self: &Arc<Self>, elapsed_nanos: u64, failed: bool) {
        let slow = elapsed_nanos > self.slow_threshold_nanos.load(Ordering::Relaxed);
        if !(failed | slow) && self.tag.load(Ordering::Relaxed) == CLOSED_CLEAN {
            return;
        }
        self.record_contended(elapsed_nanos, failed, slow);
    }

    /// Records one outcome under the lock.
    ///
    /// The common case — CLOSED, nobody subscribed, no threshold reached — takes the lock for a
    /// ring update and returns; a window without failures or slow calls cannot reach a
    /// threshold (thresholds are above 0), so it skips the rate computation too, and marks the
    /// breaker [`CLEAN`] once the window is full. Everything else goes through
    /// [`record_locked`](Self::record_locked).
    #[inline(never)]
    fn record_contended(self: &Arc<Self>, elapsed_nanos: u64, failed: bool, slow: bool) {
        // DISABLED records nothing and publishes nothing (as Resilience4j's DisabledState).
        if self.tag.load(Ordering::Relaxed) == tag_of(State::Disabled) {
            return;
        }
        let mut core = self.core.lock();
        if core.state == State::Closed && !self.events.has_subscribers() {
            if failed | slow {
                self.clear_clean();
            }
            let totals = match &mut core.window {
                Window::Count(w) => {
                    let packed = w.record_packed(failed, slow);
                    if window::quiet(packed) {
                        if window::clean(packed, w.size()) {
                            self.tag.store(CLOSED_CLEAN, Ordering::Release);
                        }
                        return;
                    }
                    window::unpack(packed)
                }
                w => w.record(self.now(), failed, slow),
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

    /// CLOSED reached a threshold: rate events, then OPEN.
    #[cold]
    fn trip(self: &Arc<Self>, mut core: MutexGuard<'_, Core>, verdict: Verdict, fr: f32, sr: f32) {
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
        mut core: MutexGuard<'_, Core>,
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

    fn manual_transition(
        self: &Arc<Self>,
        to: State,
        wait: OpenWait,
    ) -> Result<(), IllegalStateTransition> {
        let mut pending = Pending::default();
        {
            let mut core = self.core.lock();
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

#[derive(Clone, Copy)]
enum Timer {
    OpenToHalfOpen,
    HalfOpenMaxWait,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl CircuitBreaker {
    /// A breaker named `name` with `config`, on its own (registries call this).
    pub(crate) fn new(name: &str, config: CircuitBreakerConfig) -> Self {
        let now = config.clock.now_nanos();
        let initial = config.initial_state;
        let inner = Arc::new(Inner {
            name: Arc::from(name),
            clock: config.clock.clone(),
            slow_threshold_nanos: AtomicU64::new(0),
            timeout_nanos: AtomicU64::new(0),
            auto_half_open: AtomicBool::new(false),
            after_max_wait: AtomicU8::new(State::Open as u8),
            tag: AtomicU8::new(tag_of(State::Closed)),
            open_until: AtomicU64::new(0),
            open_rejects_through: AtomicU64::new(0),
            open_timer_due: AtomicU64::new(0),
            half_open_deadline: AtomicU64::new(0),
            permits: AtomicU32::new(0),
            not_permitted: AtomicU64::new(0),
            core: Mutex::new(Core {
                config: CircuitBreakerConfig::default(),
                state: State::Closed,
                window: Window::Empty,
                minimum: 0,
                attempts: 0,
                generation: 0,
                failure_rate_published: false,
                slow_call_rate_published: false,
            }),
            events: EventBus::default(),
        });
        {
            let mut pending = Pending::default();
            let mut core = inner.core.lock();
            inner.install_config(&mut core, config);
            // Build the initial state object directly, without publishing anything.
            inner.transition_locked(&mut core, initial, OpenWait::Interval, now, &mut pending);
        }
        CircuitBreaker { inner }
    }

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
            let mut core = self.inner.core.lock();
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

    /// Acquires as [`try_acquire_permission`](Self::try_acquire_permission) does, returning the
    /// state that gave the permission (`Ok`) or rejected the call (`Err`).
    #[inline]
    pub(crate) fn acquire_in_state(&self) -> Result<State, State> {
        let tag = self.inner.tag.load(Ordering::Acquire);
        if tag & PERMITS != 0 {
            return Ok(State::from_u8(tag & STATE_BITS));
        }
        self.acquire_not_closed(State::from_u8(tag & STATE_BITS))
    }

    /// [`acquire_in_state`](Self::acquire_in_state) without the permitting state (not decoded
    /// on the hot path: written as `acquire_in_state().map(drop)`, the decode stays, 7 more
    /// instructions per call under callgrind).
    #[inline]
    pub(crate) fn acquire_permitted(&self) -> Result<(), State> {
        let tag = self.inner.tag.load(Ordering::Acquire);
        if tag & PERMITS != 0 {
            return Ok(());
        }
        self.acquire_not_closed(State::from_u8(tag & STATE_BITS))
            .map(drop)
    }

    /// [`acquire_in_state`](Self::acquire_in_state) in OPEN, HALF_OPEN and FORCED_OPEN.
    #[inline(never)]
    fn acquire_not_closed(&self, state: State) -> Result<State, State> {
        let inner = &*self.inner;
        let rejects = match state {
            State::Open => inner.open_rejects(),
            State::ForcedOpen => true,
            _ => false,
        };
        if rejects {
            inner.reject(state);
            return Err(state);
        }
        // After the slow path the state may have moved (OPEN → HALF_OPEN).
        if self.inner.acquire_slow(state) {
            Ok(inner.load_state())
        } else {
            Err(inner.load_state())
        }
    }

    /// Like [`try_acquire_permission`](Self::try_acquire_permission), with the rejection as an
    /// error value.
    #[inline]
    pub fn acquire_permission(&self) -> Result<(), CallNotPermitted> {
        self.acquire_permitted()
            .map_err(|state| self.rejected_in(state))
    }

    /// The rejection of a call by `state`.
    #[cold]
    pub(crate) fn rejected_in(&self, state: State) -> CallNotPermitted {
        CallNotPermitted {
            name: self.inner.name.clone(),
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

    /// Records an ignored error: the permission is released, an IGNORED_ERROR event is
    /// published, nothing is counted.
    pub fn on_ignored_error(&self, elapsed: Duration) {
        self.release_permission();
        let state = self.inner.load_state();
        if state.allows_publish() && self.inner.events.has_subscribers() {
            self.inner
                .events
                .publish(&self.inner.name, EventKind::IgnoredError { elapsed });
        }
    }

    /// A snapshot of the current figures.
    pub fn metrics(&self) -> Metrics {
        let state = self.state();
        let now = self.inner.now();
        let mut core = self.inner.core.lock();
        let _ = state;
        Metrics {
            state: core.state,
            totals: core.window.totals(now),
            minimum: core.minimum,
            not_permitted: self.inner.not_permitted.load(Ordering::Relaxed),
        }
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
            let mut core = self.inner.core.lock();
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

    /// Subscribes with a queue of `capacity` events; when it is full, new events are dropped
    /// and counted ([`EventReceiver::dropped`]).
    pub fn subscribe_with_capacity(&self, capacity: usize) -> EventReceiver {
        let receiver = self.inner.events.subscribe(capacity);
        // From now on every success is an event: no more skipped records.
        let _core = self.inner.core.lock();
        self.inner.clear_clean();
        receiver
    }

    /// Events dropped because subscribers' queues were full, over all subscribers.
    pub fn dropped_events(&self) -> u64 {
        self.inner.events.dropped()
    }

    /// The clock nanoseconds now, by this breaker's clock.
    #[inline]
    pub(crate) fn now_nanos(&self) -> u64 {
        self.inner.clock.now_nanos()
    }

    /// Whether two handles point at the same breaker.
    pub fn ptr_eq(&self, other: &CircuitBreaker) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
