//! The shared state behind every handle of one breaker: [`Inner`] holds what the hot path reads
//! without the lock (the state tag, OPEN's deadlines, HALF_OPEN's permits, the config values
//! mirrored in atomics), and [`Core`] what changes only under the lock (the config, the state,
//! the window). Also the breaker's construction, its config installation and event publication.

use super::CircuitBreaker;
use super::tag::tag_of;
use super::transition::OpenWait;
use crate::clock::ClockSource;
use crate::config::CircuitBreakerConfig;
use crate::events::{EventBus, Pending};
use crate::state::State;
use crate::sync::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Mutex};
use crate::window::Window;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// One breaker, shared by its handles.
pub(crate) struct Inner {
    pub(crate) name: Arc<str>,
    /// The clock, fixed for the breaker's life.
    pub(super) clock: ClockSource,
    /// The config values read outside the lock, mirrored from `Core::config`.
    pub(super) slow_threshold_nanos: AtomicU64,
    /// The time limit in nanoseconds; 0 when there is none.
    pub(super) timeout_nanos: AtomicU64,
    pub(super) auto_half_open: AtomicBool,
    pub(super) after_max_wait: AtomicU8,
    /// The current state, readable without the lock, with the
    /// [`PERMITS`](super::tag::PERMITS) and [`CLEAN`](super::tag::CLEAN) bits.
    /// Written only under the lock.
    pub(super) tag: AtomicU8,
    /// OPEN: a call strictly after this instant (clock nanos) may probe.
    pub(super) open_until: AtomicU64,
    /// OPEN: calls up to this instant are rejected without further checks (the lazy wait's
    /// end, or just before the automatic transition's due time, whichever is earlier).
    pub(super) open_rejects_through: AtomicU64,
    /// OPEN with automatic transition: when its timer fires (the wait's end, or the moment OPEN
    /// began if that end was already past, as a scheduler with a negative delay fires at once).
    pub(super) open_timer_due: AtomicU64,
    /// HALF_OPEN with a maximum wait: the instant it moves on; 0 when there is none.
    pub(super) half_open_deadline: AtomicU64,
    /// HALF_OPEN: probe permits left.
    pub(super) permits: AtomicU32,
    /// Rejections counted on the current metrics object.
    pub(super) not_permitted: AtomicU64,
    pub(super) core: Mutex<Core>,
    pub(crate) events: EventBus,
}

/// The part of a breaker that changes only under its lock.
pub(super) struct Core {
    /// The configuration; [`CircuitBreaker::reconfigure`] replaces it in place.
    pub(super) config: CircuitBreakerConfig,
    pub(super) state: State,
    pub(super) window: Window,
    pub(super) minimum: u32,
    pub(super) attempts: u32,
    pub(super) generation: u64,
    pub(super) failure_rate_published: bool,
    pub(super) slow_call_rate_published: bool,
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
}

impl Inner {
    #[inline]
    pub(super) fn now(&self) -> u64 {
        self.clock.now_nanos()
    }

    /// Makes `config` current: stores it and mirrors the values read outside the lock.
    pub(super) fn install_config(&self, core: &mut Core, config: CircuitBreakerConfig) {
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
    pub(super) fn publish(&self, pending: &Pending) {
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
}

pub(super) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
