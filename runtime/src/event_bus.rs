//! A generic event bus: bounded per-subscriber queues that never make the publisher wait (a full
//! queue drops the event and counts it), and a flag that tells the hot path whether anyone
//! listens, so events are only built for subscribers (Resilience4j's `hasConsumers`).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::mpsc;

/// A subscription to a module's events (for example a
/// [`Bulkhead`](crate::bulkhead::Bulkhead)'s or a [`Retry`](crate::retry::Retry)'s).
pub struct EventSubscription<E> {
    rx: mpsc::Receiver<E>,
    dropped: Arc<AtomicU64>,
}

impl<E> fmt::Debug for EventSubscription<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSubscription")
            .field("queued", &self.rx.len())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl<E> EventSubscription<E> {
    /// The next event; `None` once the publisher is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<E> {
        self.rx.recv().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<E> {
        self.rx.try_recv().ok()
    }

    /// Polls for the next event (for a hand-written future or stream).
    pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<E>> {
        self.rx.poll_recv(cx)
    }

    /// Every queued event.
    pub fn drain(&mut self) -> Vec<E> {
        std::iter::from_fn(|| self.try_recv()).collect()
    }

    /// Events dropped because this subscriber's queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

struct Subscriber<E> {
    tx: mpsc::Sender<E>,
    dropped: Arc<AtomicU64>,
}

/// The subscribers of one instance.
pub(crate) struct EventBus<E> {
    subscribed: AtomicBool,
    subscribers: parking_lot::Mutex<Vec<Subscriber<E>>>,
}

impl<E> Default for EventBus<E> {
    fn default() -> Self {
        Self {
            subscribed: AtomicBool::new(false),
            subscribers: parking_lot::Mutex::new(Vec::new()),
        }
    }
}

impl<E: Clone> EventBus<E> {
    /// A new subscriber whose queue holds `capacity` events (at least 1).
    pub(crate) fn subscribe(&self, capacity: usize) -> EventSubscription<E> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let mut subs = self.subscribers.lock();
        subs.push(Subscriber {
            tx,
            dropped: dropped.clone(),
        });
        self.subscribed.store(true, Ordering::Release);
        EventSubscription { rx, dropped }
    }

    /// Whether anyone listens (build events only then).
    #[inline]
    pub(crate) fn has_subscribers(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    /// Gives `event` to every subscriber; subscribers that are gone are forgotten.
    pub(crate) fn publish(&self, event: E) {
        let mut subs = self.subscribers.lock();
        subs.retain(|s| match s.tx.try_send(event.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                s.dropped.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if subs.is_empty() {
            self.subscribed.store(false, Ordering::Release);
        }
    }
}
