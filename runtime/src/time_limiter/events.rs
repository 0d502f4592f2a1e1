//! Time limiter events (Resilience4j's `TimeLimiterEvent` types and publication rules) and
//! subscriptions.
//!
//! | event | when |
//! |---|---|
//! | SUCCESS | the call returned `Ok` within the limit |
//! | ERROR | the call returned `Err` (or panicked) within the limit |
//! | TIMEOUT | the limit expired first (Resilience4j routes its `TimeoutException` to `onTimeout`) |
//!
//! Subscribers get events through a bounded queue: publishing never waits; a full queue drops
//! the event and counts it.

use crate::event_bus::{EventBus, EventSubscription};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeLimiterEventKind {
    /// The call returned `Ok` in time.
    Success,
    /// The call returned `Err` (or panicked) in time; its error text.
    Error {
        /// The error's `Display` text (`"panicked"` for a panic).
        error: String,
    },
    /// The time limit expired.
    Timeout,
}

impl TimeLimiterEventKind {
    /// Resilience4j's event type name: `SUCCESS`, `ERROR` or `TIMEOUT`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TimeLimiterEventKind::Success => "SUCCESS",
            TimeLimiterEventKind::Error { .. } => "ERROR",
            TimeLimiterEventKind::Timeout => "TIMEOUT",
        }
    }
}

/// One event of a time limiter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeLimiterEvent {
    /// The time limiter's name.
    pub time_limiter: Arc<str>,
    /// What happened.
    pub kind: TimeLimiterEventKind,
    /// When it was published (system time, as Resilience4j's `creationTime`).
    pub created_at: SystemTime,
}

impl fmt::Display for TimeLimiterEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TimeLimiter '{}': {}",
            self.time_limiter,
            self.kind.as_str()
        )?;
        if let TimeLimiterEventKind::Error { error } = &self.kind {
            write!(f, ": {error}")?;
        }
        Ok(())
    }
}

/// A subscription to a time limiter's events.
pub type TimeLimiterEventReceiver = EventSubscription<TimeLimiterEvent>;

/// A time limiter's subscribers: the crate's [`EventBus`], with SUCCESS as its routine events.
pub(crate) type TimeLimiterEventBus = EventBus<TimeLimiterEvent>;

impl EventBus<TimeLimiterEvent> {
    /// Builds the event of `kind` for the time limiter `name` and gives it to its subscribers.
    pub(crate) fn publish_kind(&self, name: &Arc<str>, kind: TimeLimiterEventKind) {
        let routine = kind == TimeLimiterEventKind::Success;
        let event = TimeLimiterEvent {
            time_limiter: name.clone(),
            kind,
            created_at: SystemTime::now(),
        };
        self.publish(event, routine);
    }
}
