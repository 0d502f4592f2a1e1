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

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::SystemTime;
use tokio::sync::mpsc;

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
#[derive(Debug)]
pub struct TimeLimiterEventReceiver {
    rx: mpsc::Receiver<TimeLimiterEvent>,
    dropped: Arc<AtomicU64>,
}

impl TimeLimiterEventReceiver {
    /// The next event; `None` once the time limiter is gone.
    pub async fn recv(&mut self) -> Option<TimeLimiterEvent> {
        self.rx.recv().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<TimeLimiterEvent> {
        self.rx.try_recv().ok()
    }

    /// Polls for the next event (for a hand-written future or stream).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<TimeLimiterEvent>> {
        self.rx.poll_recv(cx)
    }

    /// Every queued event.
    pub fn drain(&mut self) -> Vec<TimeLimiterEvent> {
        std::iter::from_fn(|| self.try_recv()).collect()
    }

    /// Events dropped because this subscriber's queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

struct Subscriber {
    tx: mpsc::Sender<TimeLimiterEvent>,
    dropped: Arc<AtomicU64>,
    successes: bool,
}

/// A time limiter's subscribers.
#[derive(Default)]
pub(crate) struct TimeLimiterEventBus {
    /// Someone listens to ERROR and TIMEOUT events.
    subscribed: AtomicBool,
    /// Someone listens to SUCCESS events too (a success then builds and queues an event).
    successes: AtomicBool,
    subscribers: parking_lot::Mutex<Vec<Subscriber>>,
}

impl TimeLimiterEventBus {
    pub(crate) fn subscribe(&self, capacity: usize, successes: bool) -> TimeLimiterEventReceiver {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        self.subscribers.lock().push(Subscriber {
            tx,
            dropped: dropped.clone(),
            successes,
        });
        self.subscribed.store(true, Ordering::Release);
        if successes {
            self.successes.store(true, Ordering::Release);
        }
        TimeLimiterEventReceiver { rx, dropped }
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

    pub(crate) fn publish(&self, name: &Arc<str>, kind: TimeLimiterEventKind) {
        let success = kind == TimeLimiterEventKind::Success;
        let event = TimeLimiterEvent {
            time_limiter: name.clone(),
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
