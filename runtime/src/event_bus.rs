//! A generic event bus: bounded per-subscriber queues that never make the publisher wait (a full
//! queue drops the event and counts it), and flags that tell the hot path whether anyone
//! listens, so events are only built for subscribers (Resilience4j's `hasConsumers`). A
//! subscriber may leave out *routine* events (those of healthy calls, such as a bulkhead's
//! CALL_PERMITTED and CALL_FINISHED): while none takes them, they are not even built.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
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

    /// Polls for the next event (for a hand-written future or stream); `Ready(None)` once the
    /// publisher is gone and the queue is empty.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<E>> {
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
    /// Whether this subscriber takes routine events.
    routine: bool,
}

/// The subscribers of one instance.
pub(crate) struct EventBus<E> {
    /// Someone listens (to the events that are not routine at least).
    subscribed: AtomicBool,
    /// Someone listens to routine events too.
    routine: AtomicBool,
    subscribers: parking_lot::Mutex<Vec<Subscriber<E>>>,
}

impl<E> Default for EventBus<E> {
    fn default() -> Self {
        Self {
            subscribed: AtomicBool::new(false),
            routine: AtomicBool::new(false),
            subscribers: parking_lot::Mutex::new(Vec::new()),
        }
    }
}

impl<E: Clone> EventBus<E> {
    /// A new subscriber whose queue holds `capacity` events (at least 1); `routine`: whether it
    /// takes routine events too.
    pub(crate) fn subscribe(&self, capacity: usize, routine: bool) -> EventSubscription<E> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let mut subs = self.subscribers.lock();
        subs.push(Subscriber {
            tx,
            dropped: dropped.clone(),
            routine,
        });
        self.subscribed.store(true, Ordering::Release);
        if routine {
            self.routine.store(true, Ordering::Release);
        }
        EventSubscription { rx, dropped }
    }

    /// Whether anyone listens to an event that is `routine` or not (build it only then).
    #[inline(always)]
    pub(crate) fn wants(&self, routine: bool) -> bool {
        if routine {
            self.routine.load(Ordering::Acquire)
        } else {
            self.subscribed.load(Ordering::Acquire)
        }
    }

    /// Gives `event` (`routine` or not) to every subscriber that takes it; subscribers that are
    /// gone are forgotten.
    pub(crate) fn publish(&self, event: E, routine: bool) {
        let mut subs = self.subscribers.lock();
        subs.retain(|s| {
            if routine && !s.routine {
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
        self.routine
            .store(subs.iter().any(|s| s.routine), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routine_events_reach_only_the_subscribers_that_take_them() {
        let bus = EventBus::<u32>::default();
        assert!(!bus.wants(false) && !bus.wants(true));
        let mut lean = bus.subscribe(4, false);
        assert!(bus.wants(false) && !bus.wants(true));
        let mut all = bus.subscribe(4, true);
        assert!(bus.wants(true));
        bus.publish(1, true);
        bus.publish(2, false);
        assert_eq!(lean.drain(), vec![2]);
        assert_eq!(all.drain(), vec![1, 2]);
        // The subscriber of routine events gone, they are no longer wanted.
        drop(all);
        bus.publish(3, true);
        assert!(bus.wants(false) && !bus.wants(true));
        assert_eq!(lean.drain(), Vec::<u32>::new());
        drop(lean);
        bus.publish(4, false);
        assert!(!bus.wants(false));
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let bus = EventBus::<u32>::default();
        let mut sub = bus.subscribe(1, true);
        bus.publish(1, false);
        bus.publish(2, false);
        assert_eq!(sub.dropped(), 1);
        assert_eq!(sub.drain(), vec![1]);
    }
}
