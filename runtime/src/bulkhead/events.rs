//! Bulkhead events (Resilience4j's `BulkheadEvent` types and publication rules).
//!
//! | event | when |
//! |---|---|
//! | CALL_PERMITTED | a call got a slot |
//! | CALL_REJECTED | a call found the bulkhead full (after waiting up to `max_wait_duration`) |
//! | CALL_FINISHED | a permitted call ended: returned, failed, panicked or was cancelled (its [`BulkheadPermit`](super::BulkheadPermit) dropped) |
//!
//! A permit given back unused ([`BulkheadPermit::release_unused`](super::BulkheadPermit::release_unused),
//! Resilience4j's `releasePermission`) publishes nothing. Events are built only when someone
//! subscribed to them ([`Bulkhead::subscribe`](super::Bulkhead::subscribe); a subscriber of
//! [`Bulkhead::subscribe_except_successes`](super::Bulkhead::subscribe_except_successes) makes
//! only rejections build one).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BulkheadEventKind {
    /// A call got a slot.
    CallPermitted,
    /// A call found the bulkhead full.
    CallRejected,
    /// A permitted call ended and gave its slot back.
    CallFinished,
}

impl BulkheadEventKind {
    /// Resilience4j's event type name: `CALL_PERMITTED`, `CALL_REJECTED` or `CALL_FINISHED`.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkheadEventKind::CallPermitted => "CALL_PERMITTED",
            BulkheadEventKind::CallRejected => "CALL_REJECTED",
            BulkheadEventKind::CallFinished => "CALL_FINISHED",
        }
    }

    /// Whether every call that gets a slot publishes it (CALL_PERMITTED, CALL_FINISHED), as
    /// opposed to CALL_REJECTED: a subscriber may leave these out
    /// ([`Bulkhead::subscribe_except_successes`](super::Bulkhead::subscribe_except_successes)).
    pub fn is_routine(self) -> bool {
        !matches!(self, BulkheadEventKind::CallRejected)
    }
}

/// One event of a bulkhead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkheadEvent {
    /// The bulkhead's name.
    pub bulkhead: Arc<str>,
    /// What happened.
    pub kind: BulkheadEventKind,
    /// When it was published (system time, as Resilience4j's `creationTime`).
    pub created_at: SystemTime,
}

impl fmt::Display for BulkheadEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Resilience4j's `toString` forms.
        let what = match self.kind {
            BulkheadEventKind::CallPermitted => "permitted a call",
            BulkheadEventKind::CallRejected => "rejected a call",
            BulkheadEventKind::CallFinished => "has finished a call",
        };
        write!(f, "Bulkhead '{}' {what}", self.bulkhead)
    }
}

/// A subscription to a bulkhead's events.
pub type BulkheadEventReceiver = crate::event_bus::EventSubscription<BulkheadEvent>;
