//! [`RequestNotPermitted`] and [`RateLimiterError`]: how a rate-limited call fails.

use std::fmt;
use std::sync::Arc;

/// The rate limiter refused the call (Resilience4j's `RequestNotPermitted`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestNotPermitted {
    /// The rate limiter's name.
    pub rate_limiter: Arc<str>,
}

impl fmt::Display for RequestNotPermitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Resilience4j's message.
        write!(
            f,
            "RateLimiter '{}' does not permit further calls",
            self.rate_limiter
        )
    }
}

impl std::error::Error for RequestNotPermitted {}

/// Why a call through [`RateLimiter::call`](super::RateLimiter::call) failed.
#[derive(Debug, PartialEq, Eq)]
pub enum RateLimiterError<E> {
    /// The limiter refused the call; it did not run.
    NotPermitted(RequestNotPermitted),
    /// The call ran and returned this error.
    Failed(E),
}

impl<E> RateLimiterError<E> {
    /// The call's own error, if it ran and failed.
    pub fn into_inner(self) -> Option<E> {
        match self {
            RateLimiterError::Failed(e) => Some(e),
            RateLimiterError::NotPermitted(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for RateLimiterError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateLimiterError::NotPermitted(n) => n.fmt(f),
            RateLimiterError::Failed(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RateLimiterError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RateLimiterError::NotPermitted(n) => Some(n),
            RateLimiterError::Failed(e) => Some(e),
        }
    }
}
