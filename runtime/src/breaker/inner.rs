//! The shared state behind every handle of one breaker: [`Inner`] holds what the hot path reads
//! without the lock (the state tag, OPEN's deadlines, HALF_OPEN's permits, the config values
//! mirrored in atomics), and [`Core`] what changes only under the lock (the config, the state,
//! the window). Also the breaker's construction, its config installation and event publication.

use super::CircuitBreaker;
use super::call_stats::StatsCore;
use super::shards::{CleanTotals, MAX_BATCHED_NANOS, Shards};
use super::tag::tag_of;
use super::transition::OpenWait;
use crate::clock::ClockSource;
use crate::config::CircuitBreakerConfig;
use crate::events::{EventBus, Pending};
use crate::state::State;
use crate::sync::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Mutex};
use crate::window::Window;
use std::sync::atomic::{AtomicU64 as StdAtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// One breaker, shared by its handles.
pub(crate) struct Inner {
    pub(crate) name: Arc<str>,
    /// `name`, interned the first time the breaker rejects a call (`interned.rs`).
    interned_name: OnceLock<&'static str>,
    /// The clock, fixed for the breaker's life.
    pub(super) clock: ClockSource,
    /// The clock's [tick cell](ClockSource::tick_cell): the default clock reads in one load.
    pub(super) tick: &'static StdAtomicU64,
    /// The config values read outside the lock, mirrored from `Core::config`.
    pub(super) slow_threshold_nanos: AtomicU64,
    /// The longest success the hot path may skip or batch: the slow-call threshold, capped
    /// below [`MAX_BATCHED_NANOS`] (one compare on the hot path for both).
    pub(super) fast_limit_nanos: AtomicU64,
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
    /// Batched fast successes are allowed for clock readings before this instant (`u64::MAX`:
    /// any time; 0: not at all). A hint for the hot path; the lines decide (`batch.rs`).
    pub(super) batch_until: AtomicU64,
    /// The per-thread lines, allocated when first needed (`shards.rs`).
    pub(super) shards: OnceLock<Shards>,
    /// Rejections in OPEN and HALF_OPEN / in FORCED_OPEN, cumulative, before the lines exist.
    pub(super) rejected: AtomicU64,
    pub(super) rejected_forced: AtomicU64,
    /// On cache lines of its own: a lock holder's writes to the window do not evict the
    /// atomics every call reads.
    pub(super) core: OwnLines<Mutex<Core>>,
    pub(crate) events: EventBus,
}

/// The part of a breaker that changes only under its lock.
/// A value alone on its cache lines (128 bytes: x86-64's adjacent-line prefetcher pairs them).
#[repr(align(128))]
#[derive(Debug)]
pub(super) struct OwnLines<T>(pub(super) T);

impl<T> std::ops::Deref for OwnLines<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

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
    /// The lines open for batching, one bit per line (`batch.rs`).
    pub(super) open_lines: u32,
    /// Rejections (all kinds) counted before the current metrics object was created.
    pub(super) not_permitted_base: u64,
    /// Whether [`CallStats`](super::CallStats) are kept (the config's `call_stats_enabled`).
    pub(super) stats_enabled: bool,
    /// The call stats, created on first use.
    pub(super) stats: Option<Box<StatsCore>>,
    /// The skipped successes counted on the lines when call stats were last turned off
    /// (`shards.rs`: `CleanCounts`), which the current stats leave out.
    pub(super) clean_base: CleanTotals,
}

impl CircuitBreaker {
    /// A breaker named `name` with `config`, on its own (registries call this).
    pub(crate) fn new(name: &str, config: CircuitBreakerConfig) -> Self {
        let now = config.clock.now_nanos();
        let initial = config.initial_state;
        let inner = Arc::new(Inner {
            name: Arc::from(name),
            interned_name: OnceLock::new(),
            clock: config.clock.clone(),
            tick: config.clock.tick_cell(),
            slow_threshold_nanos: AtomicU64::new(0),
            fast_limit_nanos: AtomicU64::new(0),
            timeout_nanos: AtomicU64::new(0),
            auto_half_open: AtomicBool::new(false),
            after_max_wait: AtomicU8::new(State::Open as u8),
            tag: AtomicU8::new(tag_of(State::Closed)),
            open_until: AtomicU64::new(0),
            open_rejects_through: AtomicU64::new(0),
            open_timer_due: AtomicU64::new(0),
            half_open_deadline: AtomicU64::new(0),
            permits: AtomicU32::new(0),
            batch_until: AtomicU64::new(0),
            shards: OnceLock::new(),
            rejected: AtomicU64::new(0),
            rejected_forced: AtomicU64::new(0),
            core: OwnLines(Mutex::new(Core {
                config: CircuitBreakerConfig::default(),
                state: State::Closed,
                window: Window::Empty,
                minimum: 0,
                attempts: 0,
                generation: 0,
                failure_rate_published: false,
                slow_call_rate_published: false,
                open_lines: 0,
                not_permitted_base: 0,
                stats_enabled: false,
                stats: None,
                clean_base: CleanTotals::default(),
            })),
            events: EventBus::default(),
        });
        {
            let mut pending = Pending::default();
            let mut core = inner.lock();
            inner.install_config(&mut core, config);
            // Build the initial state object directly, without publishing or counting anything.
            inner.transition_locked(&mut core, initial, OpenWait::Interval, now, &mut pending);
            core.stats = None;
        }
        CircuitBreaker { inner }
    }
}

impl Inner {
    /// The breaker's name for rejection errors: interned once, then a plain copy.
    #[inline]
    pub(super) fn interned_name(&self) -> &'static str {
        match self.interned_name.get() {
            Some(name) => name,
            None => self.intern_name(),
        }
    }

    /// The first rejection: interns the name (`interned.rs`).
    #[cold]
    #[inline(never)]
    fn intern_name(&self) -> &'static str {
        self.interned_name
            .get_or_init(|| crate::interned::intern(&self.name))
    }

    #[inline]
    pub(super) fn now(&self) -> u64 {
        self.clock.now_from(self.tick)
    }

    /// Makes `config` current: stores it and mirrors the values read outside the lock.
    pub(super) fn install_config(&self, core: &mut Core, config: CircuitBreakerConfig) {
        let slow_threshold = nanos(config.slow_call_duration_threshold);
        self.slow_threshold_nanos
            .store(slow_threshold, Ordering::Relaxed);
        self.fast_limit_nanos
            .store(slow_threshold.min(MAX_BATCHED_NANOS - 1), Ordering::Relaxed);
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
        core.stats_enabled = config.call_stats_enabled;
        if !core.stats_enabled {
            core.stats = None;
            self.forget_clean(core);
        }
        core.config = config;
    }

    /// Rejections so far, cumulative: (OPEN and HALF_OPEN, FORCED_OPEN).
    pub(super) fn rejections(&self) -> (u64, u64) {
        let (r, f) = self.shards.get().map_or((0, 0), Shards::rejected);
        (
            r + self.rejected.load(Ordering::Relaxed),
            f + self.rejected_forced.load(Ordering::Relaxed),
        )
    }

    /// Counts one rejection in `state`, on the caller's line once the lines exist.
    #[inline]
    pub(super) fn count_rejection(&self, state: State) {
        let forced = state == State::ForcedOpen;
        let counter = match self.shards.get() {
            Some(shards) => {
                let line = shards.mine();
                if forced {
                    &line.rejected_forced
                } else {
                    &line.rejected
                }
            }
            None if forced => &self.rejected_forced,
            None => &self.rejected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
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
