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

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::SystemTime;
use tokio::sync::mpsc;

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
#[derive(Debug)]
pub struct RateLimiterEventReceiver {
    rx: mpsc::Receiver<RateLimiterEvent>,
    dropped: Arc<AtomicU64>,
}

impl RateLimiterEventReceiver {
    /// The next event; `None` once the rate limiter is gone.
    pub async fn recv(&mut self) -> Option<RateLimiterEvent> {
        self.rx.recv().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<RateLimiterEvent> {
        self.rx.try_recv().ok()
    }

    /// Polls for the next event (for a hand-written future or stream).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<RateLimiterEvent>> {
        self.rx.poll_recv(cx)
    }

    /// Every queued event.
    pub fn drain(&mut self) -> Vec<RateLimiterEvent> {
        std::iter::from_fn(|| self.try_recv()).collect()
    }

    /// Events dropped because this subscriber's queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

struct Subscriber {
    tx: mpsc::Sender<RateLimiterEvent>,
    dropped: Arc<AtomicU64>,
    /// Whether this subscriber takes SUCCESSFUL_ACQUIRE events.
    successes: bool,
}

/// A rate limiter's subscribers.
#[derive(Default)]
pub(crate) struct RateLimiterEventBus {
    /// Someone listens to FAILED_ACQUIRE and DRAINED events.
    subscribed: AtomicBool,
    /// Someone listens to SUCCESSFUL_ACQUIRE events too (an acquire then builds and queues an
    /// event; otherwise it reads this flag and nothing more).
    successes: AtomicBool,
    subscribers: parking_lot::Mutex<Vec<Subscriber>>,
}

impl RateLimiterEventBus {
    pub(crate) fn subscribe(&self, capacity: usize, successes: bool) -> RateLimiterEventReceiver {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let mut subs = self.subscribers.lock();
        subs.push(Subscriber {
            tx,
            dropped: dropped.clone(),
            successes,
        });
        self.subscribed.store(true, Ordering::Release);
        if successes {
            self.successes.store(true, Ordering::Release);
        }
        RateLimiterEventReceiver { rx, dropped }
    }

    /// Whether anyone listens to events of this kind (they are built only then).
    #[inline]
    pub(crate) fn wants(&self, success: bool) -> bool {
        if success {
            self.successes.load(Ordering::Acquire)
        } else {
            self.subscribed.load(Ordering::Acquire)
        }
    }

    pub(crate) fn publish(&self, name: &Arc<str>, kind: RateLimiterEventKind) {
        let success = matches!(kind, RateLimiterEventKind::SuccessfulAcquire { .. });
        let event = RateLimiterEvent {
            rate_limiter: name.clone(),
            kind,
            created_at: SystemTime::now(),
        };
        let mut subs = self.subscribers.lock();
        subs.retain(|s| {
            if success && !s.successes {
                return !s.tx.is_closed();
            }
            match s.tx.try_send(event.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    s.dropped.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        self.subscribed.store(!subs.is_empty(), Ordering::Release);
        self.successes
            .store(subs.iter().any(|s| s.successes), Ordering::Release);
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
        bus.publish(
            &name,
            RateLimiterEventKind::SuccessfulAcquire { permits: 1 },
        );
        bus.publish(&name, RateLimiterEventKind::FailedAcquire { permits: 2 });
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
        bus.publish(&name, RateLimiterEventKind::Drained { permits: 0 });
        assert!(!bus.wants(true) && bus.wants(false));
        assert_eq!(kinds(&mut failures_only), ["DRAINED"]);
        drop(failures_only);
        bus.publish(&name, RateLimiterEventKind::Drained { permits: 0 });
        assert!(!bus.wants(false));
    }
}
