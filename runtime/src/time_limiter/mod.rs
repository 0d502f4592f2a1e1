//! Time limiter (Resilience4j's `TimeLimiter`): a call that takes longer than
//! `timeout_duration` is given up, and the caller gets a [`TimeoutError`].
//!
//! ```
//! use fusebox_runtime::time_limiter::{TimeLimiter, TimeLimiterConfig, TimeLimiterError};
//! use std::time::Duration;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let limiter = TimeLimiter::new("orders", TimeLimiterConfig::builder()
//!     .timeout_duration(Duration::from_millis(20))
//!     .build()?);
//! let fast: Result<u32, TimeLimiterError<std::io::Error>> = limiter.call(async { Ok(1) }).await;
//! assert_eq!(fast.unwrap(), 1);
//! let slow: Result<u32, TimeLimiterError<std::io::Error>> = limiter.call(async {
//!     tokio::time::sleep(Duration::from_secs(5)).await;
//!     Ok(2)
//! }).await;
//! assert!(slow.unwrap_err().is_timeout());
//! assert_eq!(limiter.metrics().timeout, 1);
//! # Ok::<(), fusebox_runtime::ConfigError>(())
//! # }).unwrap();
//! ```
//!
//! Semantics are Resilience4j 2.4's (`TimeLimiterImpl`): `Ok` in time publishes SUCCESS, `Err`
//! in time ERROR, the limit expiring TIMEOUT; the counters behind
//! `resilience4j_timelimiter_calls_total{kind="successful|failed|timeout"}` count the same.
//! A call that panics is an ERROR (as a thrown exception is) and the panic goes on; a call
//! dropped by its caller before it ends (cancelled) counts nothing.
//!
//! **`cancel_running_future` in Rust.** A Java `Future` runs on another thread whether or not
//! anyone waits for it; a Rust future runs only while it is polled. So:
//! * [`TimeLimiter::call`] awaits the future in place (it may borrow from the caller). On
//!   timeout the future is dropped: that is the only way to give the caller its answer on time,
//!   whatever `cancel_running_future` says (nothing would poll it afterwards).
//! * [`TimeLimiter::call_spawned`] runs a `'static + Send` future as a tokio task, the
//!   counterpart of Java's running `CompletableFuture`. On timeout the task is aborted when
//!   `cancel_running_future` is true (the default), and left to run to completion in the
//!   background (its output discarded, nothing more counted or published) when it is false.
//!
//! The limit itself is the same mechanism as a circuit breaker's `timeout`
//! (`CircuitBreaker::call` with [`CircuitBreakerConfig::timeout`](crate::CircuitBreakerConfig::timeout)):
//! one function, `within`, on tokio's timer. A time limiter therefore needs a tokio runtime
//! with the time driver enabled.

mod config;
mod events;

pub use config::{DEFAULT_TIMEOUT_DURATION, TimeLimiterConfig, TimeLimiterConfigBuilder};
pub use events::{TimeLimiterEvent, TimeLimiterEventKind, TimeLimiterEventReceiver};

use crate::call::{Failure, TimeoutError};
use crate::retry::StripedCounter;
use events::TimeLimiterEventBus;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// `fut` limited to `limit` on tokio's timer: resolves to `Err(Elapsed)` when the limit expired
/// first (then `fut` has been dropped). The one time-limit mechanism of fusebox: the circuit
/// breaker's `timeout` and the [`TimeLimiter`] both go through it (a plain
/// `tokio::time::Timeout`, no extra state machine on the breaker's path).
#[inline]
pub(crate) fn within<F: Future>(limit: Duration, fut: F) -> tokio::time::Timeout<F> {
    tokio::time::timeout(limit, fut)
}

/// How a time-limited call failed.
#[derive(Debug, PartialEq, Eq)]
pub enum TimeLimiterError<E> {
    /// The call returned this error in time.
    Failed(E),
    /// The limit expired first (Resilience4j's `TimeoutException`).
    Timeout(TimeoutError),
}

impl<E> TimeLimiterError<E> {
    /// The call's own error, if that is why it failed.
    pub fn into_inner(self) -> Option<E> {
        match self {
            TimeLimiterError::Failed(e) => Some(e),
            TimeLimiterError::Timeout(_) => None,
        }
    }

    /// Whether the limit expired.
    pub fn is_timeout(&self) -> bool {
        matches!(self, TimeLimiterError::Timeout(_))
    }
}

impl<E: fmt::Display> fmt::Display for TimeLimiterError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeLimiterError::Failed(e) => e.fmt(f),
            TimeLimiterError::Timeout(t) => t.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for TimeLimiterError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TimeLimiterError::Failed(e) => Some(e),
            TimeLimiterError::Timeout(t) => Some(t),
        }
    }
}

impl<E> From<TimeLimiterError<E>> for Failure<E> {
    fn from(e: TimeLimiterError<E>) -> Self {
        match e {
            TimeLimiterError::Failed(e) => Failure::Failed(e),
            TimeLimiterError::Timeout(t) => Failure::Timeout(t),
        }
    }
}

/// A snapshot of a time limiter's counters: what resilience4j-micrometer's
/// `resilience4j_timelimiter_calls_total{kind}` counts from the events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeLimiterMetrics {
    /// Calls that returned `Ok` in time (`kind="successful"`).
    pub successful: u64,
    /// Calls that returned `Err` or panicked in time (`kind="failed"`).
    pub failed: u64,
    /// Calls whose limit expired (`kind="timeout"`).
    pub timeout: u64,
}

/// A named time limiter: its config, counters and event subscribers. Cheap to clone (one
/// `Arc`); clones share everything.
#[derive(Clone)]
pub struct TimeLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    name: Arc<str>,
    config: TimeLimiterConfig,
    /// Written by every successful call: striped per thread.
    successful: StripedCounter,
    failed: AtomicU64,
    timeout: AtomicU64,
    events: TimeLimiterEventBus,
}

impl fmt::Debug for TimeLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeLimiter")
            .field("name", &self.inner.name)
            .field("config", &self.inner.config)
            .field("metrics", &self.metrics())
            .finish()
    }
}

/// Counts a panic of the call as an ERROR while it unwinds through [`TimeLimiter::call`] (or
/// the tower layer's future).
pub(crate) struct PanicGuard<'a> {
    pub(crate) limiter: &'a TimeLimiter,
}

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.limiter.on_error(|| "panicked".to_owned());
        }
    }
}

impl TimeLimiter {
    /// A time limiter named `name` with `config`, outside any registry.
    pub fn new(name: &str, config: TimeLimiterConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                name: name.into(),
                config,
                successful: StripedCounter::default(),
                failed: AtomicU64::new(0),
                timeout: AtomicU64::new(0),
                events: TimeLimiterEventBus::default(),
            }),
        }
    }

    /// The time limiter's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The time limiter's config.
    pub fn config(&self) -> &TimeLimiterConfig {
        &self.inner.config
    }

    /// The counters, as of now.
    pub fn metrics(&self) -> TimeLimiterMetrics {
        TimeLimiterMetrics {
            successful: self.inner.successful.sum(),
            failed: self.inner.failed.load(Ordering::Relaxed),
            timeout: self.inner.timeout.load(Ordering::Relaxed),
        }
    }

    /// Subscribes to this time limiter's events; the queue holds `capacity` events (at least 1).
    pub fn subscribe(&self, capacity: usize) -> TimeLimiterEventReceiver {
        self.inner.events.subscribe(capacity, true)
    }

    /// Subscribes to ERROR and TIMEOUT events only. While no subscriber takes SUCCESS events, a
    /// successful call builds no event (it only adds to its thread's stripe of the counter):
    /// the `observe` monitor subscribes this way unless asked for success events.
    pub fn subscribe_except_successes(&self, capacity: usize) -> TimeLimiterEventReceiver {
        self.inner.events.subscribe(capacity, false)
    }

    /// Whether two handles are the same time limiter.
    pub fn ptr_eq(&self, other: &TimeLimiter) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Awaits `call` for at most [`timeout_duration`](TimeLimiterConfig::timeout_duration); on
    /// timeout `call` is dropped and the caller gets [`TimeLimiterError::Timeout`]. Needs a tokio
    /// runtime with the time driver. See the [module docs](self) for the events and counters.
    pub async fn call<T, E, F>(&self, call: F) -> Result<T, TimeLimiterError<E>>
    where
        F: Future<Output = Result<T, E>>,
        E: fmt::Display,
    {
        let guard = PanicGuard { limiter: self };
        let done = within(self.inner.config.timeout_duration, call)
            .await
            .map_err(|_| ());
        std::mem::forget(guard);
        self.settle(done)
    }

    /// Runs `call` as a tokio task and awaits it for at most
    /// [`timeout_duration`](TimeLimiterConfig::timeout_duration). On timeout the task is
    /// aborted if [`cancel_running_future`](TimeLimiterConfig::cancel_running_future) (the
    /// default), else left running in the background, its output discarded. A panic of the
    /// task is an ERROR and is resumed in the caller.
    pub async fn call_spawned<T, E, F>(&self, call: F) -> Result<T, TimeLimiterError<E>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        let mut task = tokio::spawn(call);
        match within(self.inner.config.timeout_duration, &mut task)
            .await
            .map_err(|_| ())
        {
            Ok(Ok(result)) => self.settle(Ok(result)),
            Ok(Err(join)) => match join.try_into_panic() {
                Ok(payload) => {
                    self.on_error(|| "panicked".to_owned());
                    std::panic::resume_unwind(payload)
                }
                // Only aborted by the runtime shutting down (this call holds the only handle),
                // which drops the caller's task too: never resumed.
                Err(_) => std::future::pending().await,
            },
            Err(()) => {
                if self.inner.config.cancel_running_future {
                    task.abort();
                }
                self.settle(Err(()))
            }
        }
    }

    /// Counts and publishes how a call ended, and gives the caller's result (also the tower
    /// layer's way to record, so both count alike).
    pub(crate) fn settle<T, E: fmt::Display>(
        &self,
        done: Result<Result<T, E>, ()>,
    ) -> Result<T, TimeLimiterError<E>> {
        self.settle_with(done, E::to_string)
    }

    /// [`settle`](Self::settle) with the ERROR event's text given by `text` (`#[time_limiter]`'s
    /// expansion: the error type need not be `Display`).
    pub(crate) fn settle_with<T, E>(
        &self,
        done: Result<Result<T, E>, ()>,
        text: impl FnOnce(&E) -> String,
    ) -> Result<T, TimeLimiterError<E>> {
        let inner = &*self.inner;
        match done {
            Ok(Ok(value)) => {
                inner.successful.increment();
                if inner.events.wants(true) {
                    inner
                        .events
                        .publish_kind(&inner.name, events::TimeLimiterEventKind::Success);
                }
                Ok(value)
            }
            Ok(Err(error)) => {
                self.on_error(|| text(&error));
                Err(TimeLimiterError::Failed(error))
            }
            Err(()) => {
                inner.timeout.fetch_add(1, Ordering::Relaxed);
                if inner.events.wants(false) {
                    inner
                        .events
                        .publish_kind(&inner.name, events::TimeLimiterEventKind::Timeout);
                }
                Err(TimeLimiterError::Timeout(TimeoutError::time_limiter(
                    inner.name.clone(),
                    inner.config.timeout_duration,
                )))
            }
        }
    }

    /// Counts and publishes an ERROR (`pub(crate)`: `#[time_limiter]` counts a panic with it).
    #[cold]
    pub(crate) fn on_error(&self, error: impl FnOnce() -> String) {
        let inner = &*self.inner;
        inner.failed.fetch_add(1, Ordering::Relaxed);
        if inner.events.wants(false) {
            inner.events.publish_kind(
                &inner.name,
                events::TimeLimiterEventKind::Error { error: error() },
            );
        }
    }
}
