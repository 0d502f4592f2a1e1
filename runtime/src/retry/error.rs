//! [`RetryError`]: how a retried call fails.

use std::fmt;
use std::sync::Arc;

/// Why a retried call failed.
#[derive(Debug, PartialEq, Eq)]
pub enum RetryError<E> {
    /// The call's own error: the last attempt's (retries exhausted, or the interval function said
    /// stop) or one the predicates do not retry.
    Failed(E),
    /// The result predicate still rejected the last attempt's result and
    /// [`fail_after_max_attempts`](super::RetryConfig::fail_after_max_attempts) is on
    /// (Resilience4j's `MaxRetriesExceededException`).
    MaxRetriesExceeded(MaxRetriesExceeded),
}

impl<E> RetryError<E> {
    /// The call's own error, if that is why it failed.
    pub fn into_inner(self) -> Option<E> {
        match self {
            RetryError::Failed(e) => Some(e),
            RetryError::MaxRetriesExceeded(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryError::Failed(e) => e.fmt(f),
            RetryError::MaxRetriesExceeded(m) => m.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RetryError::Failed(e) => Some(e),
            RetryError::MaxRetriesExceeded(m) => Some(m),
        }
    }
}

/// The result predicate still rejected the result after the last attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaxRetriesExceeded {
    /// The retry's name.
    pub retry: Arc<str>,
    /// Attempts made.
    pub attempts: u32,
}

impl fmt::Display for MaxRetriesExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Resilience4j's message.
        write!(
            f,
            "Retry '{}' has exhausted all attempts ({})",
            self.retry, self.attempts
        )
    }
}

impl std::error::Error for MaxRetriesExceeded {}
