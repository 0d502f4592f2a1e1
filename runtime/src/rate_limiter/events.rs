//! Rate limiter events (Resilience4j's `RateLimiterEvent` types) and subscriptions.
//!
//! | event | when | `permits` |
//! |---|---|---|
//! | SUCCESSFUL_ACQUIRE | a caller got its permits (at once, after its wait, or reserved by [`reserve_permission`](super::RateLimiter::reserve_permission)) | the permits asked for |
//! | FAILED_ACQUIRE | a caller was refused (its wait would exceed the timeout), or was cancelled while waiting | the permits asked for |
//! | DRAINED | [`drain_permissions`](super::RateLimiter::drain_permissions) ran | `min(permissions before, 0)`, as Resilience4j reports it |
//!
//! Events are built only while someone subscribes to them: a subscription without
//! SUCCESSFUL_ACQUIRE events ([`subscribe_except_successes`](super::RateLimiter::subscribe_except_successes),
//! the `observe` monitor's default) leaves a granted acquire at one more atomic load.
//! Subscribers get them through a bounded queue: publishing never waits; a full queue drops the
//! event and counts it.

use crate::event_bus::{EventBus, EventSubscription};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimiterEventKind {
    /// Permits were acquired (or reserved).
    SuccessfulAcquire {
        /// Permits asked for (Resilience4j's `numberOfPermits`).
        permits: i32,
    },
    /// Permits were refused, or the waiting caller was cancelled.
    FailedAcquire {
        /// Permits asked for.
        permits: i32,
    },
    /// The permissions of the cycle were drained.
    Drained {
        /// `min(permissions before the drain, 0)`: Resilience4j's value (0 unless reservations
        /// were pending).
        permits: i32,
    },
}

impl RateLimiterEventKind {
    /// Resilience4j's event type name: `SUCCESSFUL_ACQUIRE`, `FAILED_ACQUIRE` or `DRAINED`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RateLimiterEventKind::SuccessfulAcquire { .. } => "SUCCESSFUL_ACQUIRE",
            RateLimiterEventKind::FailedAcquire { .. } => "FAILED_ACQUIRE",
            RateLimiterEventKind::Drained { .. } => "DRAINED",
        }
    }

    /// The event's `numberOfPermits`.
    pub fn permits(&self) -> i32 {
        match *self {
            RateLimiterEventKind::SuccessfulAcquire { permits }
            | RateLimiterEventKind::FailedAcquire { permits }
            | RateLimiterEventKind::Drained { permits } => permits,
        }
    }
}

/// One event of a rate limiter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimiterEvent {
    /// The rate limiter's name.
    pub rate_limiter: Arc<str>,
    /// What happened.
    pub kind: RateLimiterEventKind,
    /// When it was published (system time, as Resilience4j's `creationTime`).
    pub created_at: SystemTime,
}

impl fmt::Display for RateLimiterEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RateLimiter '{}': {} ({} permits)",
            self.rate_limiter,
            self.kind.as_str(),
            self.kind.permits()
        )
    }
}

/// A subscription to a rate limiter's events.
pub type RateLimiterEventReceiver = EventSubscription<RateLimiterEvent>;

/// A rate limiter's subscribers: the crate's [`EventBus`], with SUCCESSFUL_ACQUIRE as its routine events.
pub(crate) type RateLimiterEventBus = EventBus<RateLimiterEvent>;

impl EventBus<RateLimiterEvent> {
    /// Builds the event of `kind` for the rate limiter `name` and gives it to its subscribers.
    pub(crate) fn publish_kind(&self, name: &Arc<str>, kind: RateLimiterEventKind) {
        let routine = matches!(kind, RateLimiterEventKind::SuccessfulAcquire { .. });
        let event = RateLimiterEvent {
            rate_limiter: name.clone(),
            kind,
            created_at: SystemTime::now(),
        };
        self.publish(event, routine);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successes_are_built_only_for_a_subscriber_that_takes_them() {
        let bus = RateLimiterEventBus::default();
        let name: Arc<str> = "orders".into();
        assert!(!bus.wants(true) && !bus.wants(false));
        let mut failures_only = bus.subscribe(8, false);
        // A granted acquire reads one flag and builds nothing.
        assert!(!bus.wants(true) && bus.wants(false));
        let mut everything = bus.subscribe(8, true);
        assert!(bus.wants(true));
        bus.publish_kind(
            &name,
            RateLimiterEventKind::SuccessfulAcquire { permits: 1 },
        );
        bus.publish_kind(&name, RateLimiterEventKind::FailedAcquire { permits: 2 });
        let kinds = |r: &mut RateLimiterEventReceiver| -> Vec<&'static str> {
            r.drain().iter().map(|e| e.kind.as_str()).collect()
        };
        assert_eq!(kinds(&mut failures_only), ["FAILED_ACQUIRE"]);
        assert_eq!(
            kinds(&mut everything),
            ["SUCCESSFUL_ACQUIRE", "FAILED_ACQUIRE"]
        );
        // The subscriber that took successes is gone: the next publication turns them off.
        drop(everything);
        bus.publish_kind(&name, RateLimiterEventKind::Drained { permits: 0 });
        assert!(!bus.wants(true) && bus.wants(false));
        assert_eq!(kinds(&mut failures_only), ["DRAINED"]);
        drop(failures_only);
        bus.publish_kind(&name, RateLimiterEventKind::Drained { permits: 0 });
        assert!(!bus.wants(false));
    }
}
