//! Retry (Resilience4j's `Retry`): run an async operation again after a failure, up to
//! `max_attempts` attempts in all, waiting between attempts as an interval function says.
//!
//! ```
//! use fusebox_runtime::retry::{Retry, RetryConfig};
//! use std::time::Duration;
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! # rt.block_on(async {
//! let retry = Retry::new("orders", RetryConfig::builder()
//!     .max_attempts(3)
//!     .wait_duration(Duration::from_millis(10))
//!     .build()?);
//! let mut calls = 0;
//! let value = retry.call(|| {
//!     calls += 1;
//!     let attempt = calls;
//!     async move { if attempt < 3 { Err("busy") } else { Ok(attempt) } }
//! }).await;
//! assert_eq!(value, Ok(3));
//! assert_eq!(retry.metrics().successful_calls_with_retry_attempt, 1);
//! # Ok::<(), fusebox_runtime::ConfigError>(())
//! # })?;
//! # Ok::<(), fusebox_runtime::ConfigError>(())
//! ```
//!
//! Semantics are those of Resilience4j 2.4's asynchronous retry (`RetryImpl.AsyncContextImpl`
//! with `Retry.AsyncRetryBlock`), checked against it by `tests/retry_parity.rs` (see
//! `tests/r4j/README.md`):
//! - an error the predicates retry, or an `Ok` the result predicate rejects, is a failed
//!   attempt; after attempt `n < max_attempts` a RETRY event carries `n` and the wait, then the
//!   retry waits ([`Sleeper`]) and calls again;
//! - after the last attempt: an error is returned (ERROR event, `failed_with_retry`); a rejected
//!   result is returned as is, or as [`RetryError::MaxRetriesExceeded`] with
//!   `fail_after_max_attempts` (ERROR event, `failed_with_retry` either way);
//! - when the interval function stops retrying (`None`, Resilience4j's negative interval): after
//!   an error, that error is returned (ERROR event, nothing counted); after a rejected result,
//!   the result is returned as a success after retries (SUCCESS event,
//!   `successful_with_retry`), as Resilience4j does;
//! - an error the predicates do not retry is returned at once (IGNORED_ERROR,
//!   `failed_without_retry`, even after earlier retries);
//! - a success after retries publishes SUCCESS (`successful_with_retry`); a first-attempt
//!   success publishes nothing and writes only its thread's stripe of `successful_without_retry`.
//!
//! Cancellation: dropping the call's future (during an attempt or a wait) stops it; nothing
//! more is counted or published. A panicking attempt unwinds through the call, which counts
//! nothing (Resilience4j lets a Java `Error` through the same way).
//!
//! Files of this module: `config.rs` (builder, predicates), `properties.rs` (the property table, through
//! `config`'s `property_table!`), `interval.rs` (interval functions), `sleep.rs` (waiting),
//! `events.rs`, `metrics.rs`, `error.rs`, `call.rs` (the loop, and [`Attempts`], its steps, which
//! `#[retry]` drives).

mod call;
mod config;
mod error;
mod events;
mod interval;
mod metrics;
mod properties;
mod sleep;

pub use call::{Attempts, Next};
pub use config::RetryConfigBuilder;
pub use error::{MaxRetriesExceeded, RetryError};
pub use events::{RESULT_PREDICATE_EXHAUSTED, RetryEvent, RetryEventKind, RetryEventReceiver};
pub use interval::{
    DEFAULT_MULTIPLIER, DEFAULT_RANDOMIZATION_FACTOR, DEFAULT_WAIT, IntervalFn, RetryInterval,
};
pub use metrics::RetryMetrics;
pub(crate) use metrics::StripedCounter;
pub(crate) use properties::RETRY_FIELDS;
pub use properties::{RetryConfig, RetrySettings};
pub(crate) use sleep::SleeperSource;
pub use sleep::{Sleep, Sleeper, TokioSleeper};

use events::RetryEventBus;
use metrics::Counters;
use std::fmt;
use std::sync::Arc;

/// A named retry: its config, counters and event subscribers. Cheap to clone (one `Arc`);
/// clones share everything.
#[derive(Clone)]
pub struct Retry {
    inner: Arc<Inner>,
}

struct Inner {
    name: Arc<str>,
    config: RetryConfig,
    counters: Counters,
    events: RetryEventBus,
}

impl fmt::Debug for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("name", &self.inner.name)
            .field("metrics", &self.metrics())
            .finish()
    }
}

impl Retry {
    /// A retry named `name` with `config`, outside any registry.
    pub fn new(name: &str, config: RetryConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                name: name.into(),
                config,
                counters: Counters::default(),
                events: RetryEventBus::default(),
            }),
        }
    }

    /// The retry's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The retry's config.
    pub fn config(&self) -> &RetryConfig {
        &self.inner.config
    }

    /// Resilience4j's four counters.
    pub fn metrics(&self) -> RetryMetrics {
        self.inner.counters.snapshot()
    }

    /// Subscribes to this retry's events; the queue holds `capacity` events (at least 1).
    pub fn subscribe(&self, capacity: usize) -> RetryEventReceiver {
        self.inner.events.subscribe(capacity, true)
    }

    /// Whether two handles are the same retry.
    pub fn ptr_eq(&self, other: &Retry) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
