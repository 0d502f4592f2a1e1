//! Retry events (Resilience4j's `RetryEvent` types and publication rules) and subscriptions.
//!
//! | event | when |
//! |---|---|
//! | RETRY | attempt `n` failed (an error the retry predicates accept, or a result the result predicate rejects) and will be retried after `wait` |
//! | ERROR | the last attempt failed (`n` = `max_attempts`), or the interval function said stop after an error |
//! | SUCCESS | an attempt succeeded after at least one retry (`n` = the retries), or the interval function said stop after a rejected result (the result stands) |
//! | IGNORED_ERROR | an error the predicates do not retry |
//!
//! A first-attempt success publishes nothing. Subscribers get events through a bounded queue
//! ([`crate::event_bus`]): publishing never waits; a full queue drops the event and counts it.

use crate::event_bus::{EventBus, EventSubscription};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The error an ERROR event carries when the result predicate rejected the last attempt's
/// result: the message of Resilience4j's `MaxRetriesExceeded`, which its ERROR event carries.
pub const RESULT_PREDICATE_EXHAUSTED: &str =
    "max retries is reached out for the result predicate check";

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryEventKind {
    /// Attempt `attempt` failed and will be retried after `wait`.
    Retry {
        /// The failed attempt (1-based): Resilience4j's `numberOfRetryAttempts`.
        attempt: u32,
        /// The wait before the next attempt.
        wait: Duration,
        /// The error, for an error (`None` for a rejected result).
        error: Option<String>,
    },
    /// The call failed for good after `attempt` attempts.
    Error {
        /// Attempts made.
        attempt: u32,
        /// The last error; when the last attempt returned a rejected result, the last
        /// retried error of the call, or [`RESULT_PREDICATE_EXHAUSTED`] if there was none or
        /// `fail_after_max_attempts` is on (Resilience4j's `MaxRetriesExceeded`).
        error: Option<String>,
    },
    /// The call succeeded after `attempt` retries.
    Success {
        /// Retries made.
        attempt: u32,
        /// The last error that was retried, if any.
        error: Option<String>,
    },
    /// An error that is not retried.
    IgnoredError {
        /// The error.
        error: String,
    },
}

impl RetryEventKind {
    /// Resilience4j's event type name: `RETRY`, `ERROR`, `SUCCESS` or `IGNORED_ERROR`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RetryEventKind::Retry { .. } => "RETRY",
            RetryEventKind::Error { .. } => "ERROR",
            RetryEventKind::Success { .. } => "SUCCESS",
            RetryEventKind::IgnoredError { .. } => "IGNORED_ERROR",
        }
    }
}

/// One event of a retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryEvent {
    /// The retry's name.
    pub retry: Arc<str>,
    /// What happened.
    pub kind: RetryEventKind,
    /// When it was published (system time, as Resilience4j's `creationTime`).
    pub created_at: SystemTime,
}

impl fmt::Display for RetryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Retry '{}': {}", self.retry, self.kind.as_str())?;
        match &self.kind {
            RetryEventKind::Retry { attempt, wait, .. } => {
                write!(f, " after attempt #{attempt}, waiting {wait:?}")
            }
            RetryEventKind::Error { attempt, .. } => write!(f, " after {attempt} attempts"),
            RetryEventKind::Success { attempt, .. } => write!(f, " after {attempt} retries"),
            RetryEventKind::IgnoredError { error } => write!(f, ": {error}"),
        }
    }
}

impl RetryEvent {
    /// An event of retry `retry`, published now.
    pub(crate) fn now(retry: &Arc<str>, kind: RetryEventKind) -> Self {
        Self {
            retry: retry.clone(),
            kind,
            created_at: SystemTime::now(),
        }
    }
}

/// A subscription to a retry's events.
pub type RetryEventReceiver = EventSubscription<RetryEvent>;

/// A retry's subscribers.
pub(crate) type RetryEventBus = EventBus<RetryEvent>;
