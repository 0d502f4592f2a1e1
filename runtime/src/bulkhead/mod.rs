//! Bulkhead (Resilience4j's semaphore `Bulkhead`): at most `max_concurrent_calls` calls at once;
//! a call that finds it full waits up to `max_wait_duration` for a slot, then is rejected.
//!
//! ```
//! use fusebox_runtime::bulkhead::{Bulkhead, BulkheadConfig};
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! # rt.block_on(async {
//! let bulkhead = Bulkhead::new("inventory", BulkheadConfig::builder()
//!     .max_concurrent_calls(1)
//!     .build()?);
//! let held = bulkhead.try_acquire_permission().expect("a free slot");
//! // Full, and `max_wait_duration` is 0: rejected at once.
//! assert!(bulkhead.call(async { 42 }).await.is_err());
//! drop(held);
//! assert_eq!(bulkhead.call(async { 42 }).await, Ok(42));
//! # Ok::<(), fusebox_runtime::ConfigError>(())
//! # })?;
//! # Ok::<(), fusebox_runtime::ConfigError>(())
//! ```
//!
//! Semantics are those of Resilience4j 2.4's `SemaphoreBulkhead`:
//! - a call gets a slot ([`BulkheadPermit`]) and CALL_PERMITTED is published, or it is rejected
//!   with [`BulkheadFull`] and CALL_REJECTED is published;
//! - [`try_acquire_permission`](Bulkhead::try_acquire_permission) never waits;
//!   [`acquire_permission`](Bulkhead::acquire_permission) and [`call`](Bulkhead::call) wait up
//!   to `max_wait_duration` on tokio's timer (0, the default, rejects at once), in arrival
//!   order (see fairness below);
//! - dropping the permit gives the slot back and publishes CALL_FINISHED, however the call
//!   ended: a cancelled call (its future dropped) or a panicking one cannot keep its slot;
//!   dropping a call's future while it waits leaves the queue without taking a slot;
//! - [`try_acquire_owned`](Bulkhead::try_acquire_owned) and
//!   [`acquire_owned`](Bulkhead::acquire_owned) are the same two acquires with an
//!   [`OwnedBulkheadPermit`], which owns a handle to the bulkhead (for `'static` futures and
//!   spawned tasks: the tower layer's response future holds one); same events, same release
//!   rules;
//! - [`change_config`](Bulkhead::change_config) changes the config at run time, as Resilience4j's
//!   `changeConfig`: more slots are free at once, fewer are taken back as running calls end.
//!
//! Slots are counted by the bulkhead's own semaphore (`semaphore.rs`: lock-free when nobody
//! waits), fair or not as Java's `Semaphore` that Resilience4j uses, following the config's
//! `fair_call_handling` at creation (default true: waiting calls are served in arrival order
//! and a new call never overtakes them; false: a new call may take a slot that was just given
//! back while others wait). Resilience4j's thread-pool bulkhead
//! (`resilience4j.thread-pool-bulkhead`) is not provided: see [`crate::config::file`].
//!
//! Files of this module: `config.rs` (builder), `properties.rs` (the property table),
//! `semaphore.rs` (the slots and the queue of waiting calls), `permit.rs`,
//! `owned.rs` (the owned permit and its acquires),
//! `events.rs`, `metrics.rs`, `error.rs`, `registry.rs` (the registry's bulkheads).

mod config;
mod error;
mod events;
mod metrics;
pub(crate) mod owned;
mod permit;
mod properties;
pub(crate) mod registry;
mod semaphore;

pub use config::BulkheadConfigBuilder;
pub use error::BulkheadFull;
pub use events::{BulkheadEvent, BulkheadEventKind, BulkheadEventReceiver};
pub use metrics::BulkheadMetrics;
pub use owned::OwnedBulkheadPermit;
pub use permit::BulkheadPermit;
pub(crate) use properties::BULKHEAD_FIELDS;
pub use properties::{BulkheadConfig, BulkheadSettings};

use crate::event_bus::EventBus;
use semaphore::Semaphore;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// A named bulkhead: its slots, config and event subscribers. Cheap to clone (one `Arc`);
/// clones share everything.
#[derive(Clone)]
pub struct Bulkhead {
    inner: Arc<Shared>,
}

/// What the handles of one bulkhead share.
pub(crate) struct Shared {
    name: Arc<str>,
    /// The free slots (fair or not as the config at creation says); a permit gives its slot
    /// back here.
    semaphore: Semaphore,
    /// `max_concurrent_calls` and `max_wait_duration` of the current config, read per call
    /// without a lock.
    max_calls: AtomicU32,
    max_wait_nanos: AtomicU64,
    /// The current config, for [`Bulkhead::config`].
    config: parking_lot::Mutex<BulkheadConfig>,
    /// One config change at a time (Resilience4j's `configChangesLock`).
    changing: tokio::sync::Mutex<()>,
    events: EventBus<BulkheadEvent>,
}

impl Shared {
    /// Publishes `kind` if anyone listens to it (one atomic load when nobody does).
    #[inline(always)]
    fn publish(&self, kind: BulkheadEventKind) {
        if self.events.wants(kind.is_routine()) {
            self.publish_to_subscribers(kind);
        }
    }

    #[cold]
    #[inline(never)]
    fn publish_to_subscribers(&self, kind: BulkheadEventKind) {
        self.events.publish(
            BulkheadEvent {
                bulkhead: self.name.clone(),
                kind,
                created_at: SystemTime::now(),
            },
            kind.is_routine(),
        );
    }

    /// A slot was taken: CALL_PERMITTED and its permit (which gives it back).
    #[inline]
    fn permitted(&self) -> BulkheadPermit<'_> {
        self.publish(BulkheadEventKind::CallPermitted);
        BulkheadPermit::new(self)
    }

    /// A permit's slot comes back: CALL_FINISHED unless the permit was `release_unused`.
    #[inline]
    fn release(&self, finish: bool) {
        self.semaphore.release(1);
        if finish {
            self.publish(BulkheadEventKind::CallFinished);
        }
    }

    /// No slot: CALL_REJECTED and the error.
    #[cold]
    fn rejected(&self) -> BulkheadFull {
        self.publish(BulkheadEventKind::CallRejected);
        BulkheadFull {
            bulkhead: self.name.clone(),
        }
    }

    fn max_wait(&self) -> Duration {
        Duration::from_nanos(self.max_wait_nanos.load(Ordering::Relaxed))
    }
}

/// A duration in nanoseconds, saturated (584 years and more wait "forever").
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl fmt::Debug for Bulkhead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulkhead")
            .field("name", &self.inner.name)
            .field("metrics", &self.metrics())
            .finish()
    }
}

impl Bulkhead {
    /// A bulkhead named `name` with `config`, outside any registry.
    pub fn new(name: &str, config: BulkheadConfig) -> Self {
        Self {
            inner: Arc::new(Shared {
                name: name.into(),
                semaphore: Semaphore::new(config.max_concurrent_calls, config.fair_call_handling),
                max_calls: AtomicU32::new(config.max_concurrent_calls),
                max_wait_nanos: AtomicU64::new(nanos(config.max_wait_duration)),
                config: parking_lot::Mutex::new(config),
                changing: tokio::sync::Mutex::new(()),
                events: EventBus::default(),
            }),
        }
    }

    /// The bulkhead's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The bulkhead's current config.
    pub fn config(&self) -> BulkheadConfig {
        self.inner.config.lock().clone()
    }

    /// A slot if one is free now, never waiting (whatever `max_wait_duration` says): CALL_PERMITTED
    /// and the permit, or CALL_REJECTED and [`BulkheadFull`].
    #[inline]
    pub fn try_acquire_permission(&self) -> Result<BulkheadPermit<'_>, BulkheadFull> {
        let shared = &*self.inner;
        if shared.semaphore.try_acquire() {
            Ok(shared.permitted())
        } else {
            Err(shared.rejected())
        }
    }

    /// A slot, waiting for one up to `max_wait_duration` (on tokio's timer; a runtime with time
    /// enabled is needed when the wait is not 0). Waiting calls are served in arrival order; a
    /// new call overtakes them only when `fair_call_handling` is false. Dropping the future while
    /// it waits leaves the queue; no slot is taken and nothing is published.
    pub async fn acquire_permission(&self) -> Result<BulkheadPermit<'_>, BulkheadFull> {
        let shared = &*self.inner;
        if shared.semaphore.try_acquire() {
            return Ok(shared.permitted());
        }
        let wait = shared.max_wait();
        if !wait.is_zero()
            && tokio::time::timeout(wait, shared.semaphore.acquire(1))
                .await
                .is_ok()
        {
            return Ok(shared.permitted());
        }
        Err(shared.rejected())
    }

    /// Runs `call` in a slot ([`acquire_permission`](Self::acquire_permission), then the call;
    /// the slot is given back when it ends, is cancelled or panics). A rejected call is never
    /// polled.
    pub async fn call<F: Future>(&self, call: F) -> Result<F::Output, BulkheadFull> {
        let _permit = self.acquire_permission().await?;
        Ok(call.await)
    }

    /// Resilience4j's two gauges.
    pub fn metrics(&self) -> BulkheadMetrics {
        let shared = &*self.inner;
        BulkheadMetrics {
            available_concurrent_calls: u32::try_from(shared.semaphore.available())
                .unwrap_or(u32::MAX),
            max_allowed_concurrent_calls: shared.max_calls.load(Ordering::Relaxed),
        }
    }

    /// Subscribes to this bulkhead's events; the queue holds `capacity` events (at least 1).
    pub fn subscribe(&self, capacity: usize) -> BulkheadEventReceiver {
        self.inner.events.subscribe(capacity, true)
    }

    /// Subscribes to CALL_REJECTED events only, leaving out the CALL_PERMITTED and
    /// CALL_FINISHED of every call that got a slot. While no subscriber takes those, a
    /// permitted call builds no event (one atomic load on acquire and on release, as with no
    /// subscriber at all); the `observe` monitor subscribes this way unless asked for success
    /// events.
    pub fn subscribe_except_successes(&self, capacity: usize) -> BulkheadEventReceiver {
        self.inner.events.subscribe(capacity, false)
    }

    /// Replaces the config at run time (Resilience4j's `changeConfig`): more slots are free at
    /// once; fewer are taken back from the free ones, waiting (in the queue, ahead of later
    /// calls when fair) for running calls to end if needed, as Resilience4j's `acquireUninterruptibly`
    /// does. The new `max_wait_duration` applies to calls that start waiting afterwards. One
    /// change at a time; dropping the future before it completes changes nothing.
    pub async fn change_config(&self, config: BulkheadConfig) {
        let shared = &*self.inner;
        let _one_at_a_time = shared.changing.lock().await;
        let old = shared.max_calls.load(Ordering::Relaxed);
        let new = config.max_concurrent_calls;
        if new < old {
            // Dropped before it completes, the wait gives back the slots it was handed.
            shared.semaphore.acquire(u64::from(old - new)).await;
        } else if new > old {
            shared.semaphore.release(u64::from(new - old));
        }
        shared.max_calls.store(new, Ordering::Relaxed);
        shared
            .max_wait_nanos
            .store(nanos(config.max_wait_duration), Ordering::Relaxed);
        *shared.config.lock() = config;
    }

    /// Whether two handles are the same bulkhead.
    pub fn ptr_eq(&self, other: &Bulkhead) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permitted_call_builds_no_event_unless_a_subscriber_takes_it() {
        let b = Bulkhead::new("b", BulkheadConfig::default());
        let bus = &b.inner.events;
        // Unwatched: nothing is wanted, a permitted call reads one flag on acquire and on
        // release.
        assert!(!bus.wants(true) && !bus.wants(false));
        // Watched as the monitor watches by default: rejections only.
        let lean = b.subscribe_except_successes(4);
        assert!(bus.wants(false) && !bus.wants(true));
        drop(b.try_acquire_permission().unwrap());
        let all = b.subscribe(4);
        assert!(bus.wants(true));
        drop(all);
        // The next event published notices the subscriber is gone.
        drop(b.try_acquire_permission().unwrap());
        assert!(bus.wants(false) && !bus.wants(true));
        drop(lean);
    }
}
