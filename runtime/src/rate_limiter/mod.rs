//! Rate limiter (Resilience4j's `AtomicRateLimiter`): at most `limit_for_period` permits per
//! cycle of `limit_refresh_period`, a caller waiting up to `timeout_duration` for a permit of a
//! coming cycle.
//!
//! ```
//! use fusebox_runtime::rate_limiter::{RateLimiter, RateLimiterConfig};
//! use std::time::Duration;
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! # rt.block_on(async {
//! let limiter = RateLimiter::new("orders", RateLimiterConfig::builder()
//!     .limit_for_period(2)
//!     .limit_refresh_period(Duration::from_secs(1))
//!     .timeout_duration(Duration::ZERO)
//!     .build()?);
//! assert!(limiter.call(|| async { Ok::<_, ()>(1) }).await.is_ok());
//! assert!(limiter.call(|| async { Ok::<_, ()>(2) }).await.is_ok());
//! // The third call in the same second is refused at once (timeout 0).
//! assert!(limiter.call(|| async { Ok::<_, ()>(3) }).await.is_err());
//! # Ok::<(), fusebox_runtime::ConfigError>(())
//! # })?;
//! # Ok::<(), fusebox_runtime::ConfigError>(())
//! ```
//!
//! # Semantics (Resilience4j 2.4's `AtomicRateLimiter`, arithmetic included)
//!
//! Time since the limiter's creation is cut into cycles of `limit_refresh_period`. Each cycle
//! starts with `limit_for_period` permissions; unused ones do not carry over (the refresh is
//! `min(left + elapsed cycles × limit, limit)`). A caller asking for `n` permits:
//! - gets them at once if `n` are left;
//! - else computes the wait until enough cycles have refreshed. If that wait is at most the
//!   timeout it **reserves** the permits now (the count goes negative, so later callers queue
//!   behind it, in order) and waits; otherwise it reserves nothing and is refused.
//!
//! [`acquire_permission`](RateLimiter::acquire_permission) is Resilience4j's
//! `acquirePermission`, which the `@RateLimiter` aspect and `RateLimiter.decorate*` use: a
//! caller that is refused is refused **after waiting out the timeout** (Resilience4j parks it
//! for `timeoutDuration` before returning `false`; with the usual `timeoutDuration: 0` that is
//! at once). [`reserve_permission`](RateLimiter::reserve_permission) is `reservePermission`,
//! which Resilience4j's Reactor and RxJava operators use: it never waits, it tells the caller
//! how long to wait for its reservation, or refuses at once.
//!
//! Cancellation: dropping a caller's future while it waits is Resilience4j's interrupted wait:
//! the reservation stays taken (Resilience4j does not give reserved permits back, and neither
//! does fusebox: the next cycles are already promised to the callers behind it), the waiting
//! count goes down and a FAILED_ACQUIRE event is published.
//!
//! [`drain_permissions`](RateLimiter::drain_permissions) is Resilience4j's `drainPermissions`,
//! quirk included: it reserves the permissions the *last stored* state had, computed at the
//! current time, so within the cycle of the last update it leaves 0 (and erases pending
//! reservations: a negative count becomes 0), but after an idle cycle boundary it removes only
//! that stale count from the fresh cycle's permissions. The DRAINED event carries
//! `min(permissions before, 0)`, as Resilience4j's does.
//!
//! [`change_limit_for_period`](RateLimiter::change_limit_for_period) takes effect with the next
//! refresh (the current cycle keeps its count); [`change_timeout_duration`](RateLimiter::change_timeout_duration)
//! with the next caller.
//!
//! Files of this module: `properties.rs` (the property table), `config.rs` (builder, drain
//! predicate, clock), `state.rs` (the atomic state and cycle arithmetic), `time.rs` (the clock, and the
//! precise clock through the CPU's counter), `acquire.rs`
//! (acquire, reserve, drain, change), `call.rs` (guarding a call), `owned.rs` (an acquire owned
//! by a `'static` future, for the tower layer), `events.rs`, `metrics.rs`, `error.rs`.

mod acquire;
mod call;
mod config;
mod error;
mod events;
mod metrics;
#[cfg(feature = "tower")]
pub(crate) mod owned;
mod properties;
mod state;
mod time;

pub use config::RateLimiterConfigBuilder;
pub use error::{RateLimiterError, RequestNotPermitted};
pub use events::{RateLimiterEvent, RateLimiterEventKind, RateLimiterEventReceiver};
pub use metrics::RateLimiterMetrics;
pub(crate) use properties::RATE_LIMITER_FIELDS;
pub use properties::{RateLimiterConfig, RateLimiterSettings};

use events::RateLimiterEventBus;
use state::AtomicState;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};
use std::time::Duration;
use time::LimiterTime;

/// A named rate limiter: its config, state and event subscribers. Cheap to clone (one `Arc`);
/// clones share everything.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    /// The cycle, permissions and limit: the only state callers write on the fast path.
    state: AtomicState,
    /// The timeout in nanoseconds (`changeTimeoutDuration` replaces it).
    timeout_nanos: AtomicI64,
    /// The cycle length in nanoseconds.
    period_nanos: i64,
    /// The clock reading at creation: cycles count from here (Resilience4j's `nanoTimeStart`).
    start: u64,
    /// The clock cycles are read on (the config's, resolved for the period; the precise clock
    /// through the CPU's counter).
    clock: LimiterTime,
    /// Callers waiting for a reserved permit.
    waiting: AtomicI32,
    name: Arc<str>,
    /// The config as built; its limit and timeout may since have changed (see `config()`).
    config: RateLimiterConfig,
    events: RateLimiterEventBus,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("name", &self.inner.name)
            .field("metrics", &self.metrics())
            .finish()
    }
}

impl RateLimiter {
    /// A rate limiter named `name` with `config`, outside any registry. Its first cycle starts
    /// now, full.
    pub fn new(name: &str, config: RateLimiterConfig) -> Self {
        let limit = i32::try_from(config.limit_for_period).unwrap_or(i32::MAX);
        let clock = LimiterTime::new(config.clock().resolve(config.limit_refresh_period));
        let start = clock.now_nanos();
        Self {
            inner: Arc::new(Inner {
                state: AtomicState::new(limit),
                timeout_nanos: AtomicI64::new(nanos(config.timeout_duration)),
                period_nanos: nanos(config.limit_refresh_period).max(1),
                start,
                clock,
                waiting: AtomicI32::new(0),
                name: name.into(),
                config,
                events: RateLimiterEventBus::default(),
            }),
        }
    }

    /// The rate limiter's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The config now: as built, with the limit and timeout set since by
    /// [`change_limit_for_period`](Self::change_limit_for_period) and
    /// [`change_timeout_duration`](Self::change_timeout_duration).
    pub fn config(&self) -> RateLimiterConfig {
        let inner = &*self.inner;
        let mut config = inner.config.clone();
        config.limit_for_period = inner.state.limit() as u32;
        config.timeout_duration =
            Duration::from_nanos(inner.timeout_nanos.load(Ordering::Relaxed) as u64);
        config
    }

    /// Subscribes to this rate limiter's events; the queue holds `capacity` events (at least 1).
    pub fn subscribe(&self, capacity: usize) -> RateLimiterEventReceiver {
        self.inner.events.subscribe(capacity, true)
    }

    /// Subscribes to FAILED_ACQUIRE and DRAINED events only. While no subscriber takes
    /// SUCCESSFUL_ACQUIRE events, a granted acquire builds no event (one atomic load more than
    /// with no subscriber at all); the `observe` monitor subscribes this way unless asked for
    /// success events.
    pub fn subscribe_except_successes(&self, capacity: usize) -> RateLimiterEventReceiver {
        self.inner.events.subscribe(capacity, false)
    }

    /// Whether two handles are the same rate limiter.
    pub fn ptr_eq(&self, other: &RateLimiter) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// A validated duration in nanoseconds (validation keeps it within `i64`).
fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}
