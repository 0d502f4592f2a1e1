//! Breaker events (Resilience4j's event types and publication rules) and subscriptions.
//!
//! Subscribers get events through a bounded queue: publishing never waits, never runs
//! subscriber code on the caller's thread, and counts what a full queue had to drop. A slow,
//! blocked or panicking subscriber therefore cannot stall or break guarded calls.

use crate::state::State;
use parking_lot::RwLock;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// Resilience4j's event types.
///
/// ```
/// use fusebox_runtime::EventType;
/// assert_eq!(EventType::StateTransition.as_str(), "STATE_TRANSITION");
/// assert!(EventType::Reset.force_publish());
/// assert!(!EventType::Success.force_publish());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A call was recorded as a success.
    Success,
    /// A call was recorded as a failure.
    Error,
    /// A call's error was ignored: nothing recorded, permission released.
    IgnoredError,
    /// A call was rejected.
    NotPermitted,
    /// The state changed.
    StateTransition,
    /// The breaker was reset.
    Reset,
    /// The failure rate reached its threshold.
    FailureRateExceeded,
    /// The slow-call rate reached its threshold.
    SlowCallRateExceeded,
}

impl EventType {
    /// Whether the event is published even in DISABLED and FORCED_OPEN.
    pub const fn force_publish(self) -> bool {
        matches!(self, EventType::StateTransition | EventType::Reset)
    }

    /// Resilience4j's name, e.g. `STATE_TRANSITION`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::Success => "SUCCESS",
            EventType::Error => "ERROR",
            EventType::IgnoredError => "IGNORED_ERROR",
            EventType::NotPermitted => "NOT_PERMITTED",
            EventType::StateTransition => "STATE_TRANSITION",
            EventType::Reset => "RESET",
            EventType::FailureRateExceeded => "FAILURE_RATE_EXCEEDED",
            EventType::SlowCallRateExceeded => "SLOW_CALL_RATE_EXCEEDED",
        }
    }
}

/// What happened, with its payload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EventKind {
    /// A success was recorded, after `elapsed`.
    Success {
        /// The call's duration.
        elapsed: Duration,
    },
    /// A failure was recorded, after `elapsed`.
    Error {
        /// The call's duration.
        elapsed: Duration,
    },
    /// An error was ignored, after `elapsed`.
    IgnoredError {
        /// The call's duration.
        elapsed: Duration,
    },
    /// A call was rejected.
    NotPermitted,
    /// The state changed from `from` to `to`.
    StateTransition {
        /// The old state.
        from: State,
        /// The new state.
        to: State,
    },
    /// The breaker was reset to CLOSED.
    Reset,
    /// The failure rate (percent) reached the threshold.
    FailureRateExceeded {
        /// The rate.
        rate: f32,
    },
    /// The slow-call rate (percent) reached the threshold.
    SlowCallRateExceeded {
        /// The rate.
        rate: f32,
    },
}

impl EventKind {
    /// The event's type.
    pub const fn event_type(&self) -> EventType {
        match self {
            EventKind::Success { .. } => EventType::Success,
            EventKind::Error { .. } => EventType::Error,
            EventKind::IgnoredError { .. } => EventType::IgnoredError,
            EventKind::NotPermitted => EventType::NotPermitted,
            EventKind::StateTransition { .. } => EventType::StateTransition,
            EventKind::Reset => EventType::Reset,
            EventKind::FailureRateExceeded { .. } => EventType::FailureRateExceeded,
            EventKind::SlowCallRateExceeded { .. } => EventType::SlowCallRateExceeded,
        }
    }
}

/// An event of a named breaker.
#[derive(Clone, Debug, PartialEq)]
pub struct CircuitBreakerEvent {
    /// The breaker's name.
    pub breaker: Arc<str>,
    /// What happened.
    pub kind: EventKind,
    /// When it was published (system time, as Resilience4j's `creationTime`).
    pub created_at: SystemTime,
}

impl fmt::Display for CircuitBreakerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CircuitBreaker '{}': ", self.breaker)?;
        match self.kind {
            EventKind::Success { elapsed } => write!(f, "recorded a successful call ({elapsed:?})"),
            EventKind::Error { elapsed } => write!(f, "recorded a failed call ({elapsed:?})"),
            EventKind::IgnoredError { elapsed } => write!(f, "ignored an error ({elapsed:?})"),
            EventKind::NotPermitted => f.write_str("did not permit a call"),
            EventKind::StateTransition { from, to } => {
                write!(f, "changed state from {from} to {to}")
            }
            EventKind::Reset => f.write_str("was reset"),
            EventKind::FailureRateExceeded { rate } => {
                write!(f, "failure rate {rate}% exceeded the threshold")
            }
            EventKind::SlowCallRateExceeded { rate } => {
                write!(f, "slow call rate {rate}% exceeded the threshold")
            }
        }
    }
}

/// The default queue length of a subscription.
pub const DEFAULT_EVENT_BUFFER: usize = 1024;

/// Receives a breaker's events. Use [`recv`](Self::recv) in async code,
/// [`try_recv`](Self::try_recv) to poll, or [`blocking_recv`](Self::blocking_recv) from a thread.
///
/// ```
/// use fusebox_runtime::{EventKind, Registry, State};
///
/// let breaker = Registry::new().circuit_breaker("orders");
/// let mut events = breaker.subscribe();
/// breaker.transition_to_open_state().unwrap();
/// let event = events.try_recv().unwrap();
/// assert_eq!(&*event.breaker, "orders");
/// assert_eq!(event.kind, EventKind::StateTransition { from: State::Closed, to: State::Open });
/// assert_eq!(events.dropped(), 0);
/// ```
#[derive(Debug)]
pub struct EventReceiver {
    rx: mpsc::Receiver<CircuitBreakerEvent>,
    dropped: Arc<AtomicU64>,
}

impl EventReceiver {
    /// The next event; `None` once the breaker is gone.
    pub async fn recv(&mut self) -> Option<CircuitBreakerEvent> {
        self.rx.recv().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<CircuitBreakerEvent> {
        self.rx.try_recv().ok()
    }

    /// Polls for the next event: `Ready(None)` once the breaker is gone, `Pending` (with `cx`'s
    /// waker registered) while the queue is empty. For hand-written futures and streams.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<CircuitBreakerEvent>> {
        self.rx.poll_recv(cx)
    }

    /// Waits for the next event on a thread that is not running async code.
    pub fn blocking_recv(&mut self) -> Option<CircuitBreakerEvent> {
        self.rx.blocking_recv()
    }

    /// All events queued now.
    pub fn drain(&mut self) -> Vec<CircuitBreakerEvent> {
        std::iter::from_fn(|| self.try_recv()).collect()
    }

    /// How many events were dropped because this subscriber's queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
struct Subscriber {
    tx: mpsc::Sender<CircuitBreakerEvent>,
    dropped: Arc<AtomicU64>,
    /// Whether it takes SUCCESS events.
    successes: bool,
}

/// The subscribers of one breaker, and the counts observers read besides events.
#[derive(Debug, Default)]
pub(crate) struct EventBus {
    count: AtomicUsize,
    /// The subscribers that take SUCCESS events: only they cost the fast path.
    success_count: AtomicUsize,
    subscribers: RwLock<Vec<Subscriber>>,
    dropped: AtomicU64,
    /// Calls whose time limit expired (each is then recorded as a failure).
    timeouts: AtomicU64,
    /// The timeouts in a state that publishes events: those whose failure the call stats count
    /// (and an ERROR event tells, when someone subscribed), so an observer can tell them from
    /// the other failures.
    counted_timeouts: AtomicU64,
}

impl EventBus {
    /// A new subscriber with a queue of `capacity` events, taking SUCCESS events or not.
    pub(crate) fn subscribe(&self, capacity: usize, successes: bool) -> EventReceiver {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let mut subs = self.subscribers.write();
        subs.push(Subscriber {
            tx,
            dropped: dropped.clone(),
            successes,
        });
        self.store_counts(&subs);
        EventReceiver { rx, dropped }
    }

    fn store_counts(&self, subs: &[Subscriber]) {
        let successes = subs.iter().filter(|s| s.successes).count();
        self.success_count.store(successes, Ordering::Release);
        self.count.store(subs.len(), Ordering::Release);
    }

    /// Whether anyone listens: events are only built when someone does.
    #[inline]
    pub(crate) fn has_subscribers(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// Whether anyone takes SUCCESS events: only then must every success be recorded under the
    /// lock (no skipped or batched fast successes).
    #[inline]
    pub(crate) fn wants_successes(&self) -> bool {
        self.success_count.load(Ordering::Relaxed) != 0
    }

    /// Events dropped over all subscribers, gone ones included.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Counts an expired time limit, before its failure is recorded in `state`.
    pub(crate) fn note_timeout(&self, state: State) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
        if state.allows_publish() {
            // Counted before the failure is recorded: an observer that reads this count after
            // the call stats never sees that failure without its count.
            self.counted_timeouts.fetch_add(1, Ordering::Release);
        }
    }

    /// Expired time limits so far, and how many of them were in a state that publishes events
    /// (their failures are in the call stats).
    pub(crate) fn timeouts(&self) -> (u64, u64) {
        (
            self.timeouts.load(Ordering::Relaxed),
            self.counted_timeouts.load(Ordering::Acquire),
        )
    }

    pub(crate) fn publish(&self, name: &Arc<str>, kind: EventKind) {
        let event = CircuitBreakerEvent {
            breaker: name.clone(),
            kind,
            created_at: SystemTime::now(),
        };
        let mut closed = false;
        let success = matches!(event.kind, EventKind::Success { .. });
        {
            let subs = self.subscribers.read();
            for sub in subs.iter().filter(|s| s.successes || !success) {
                match sub.tx.try_send(event.clone()) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        sub.dropped.fetch_add(1, Ordering::Relaxed);
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => closed = true,
                }
            }
        }
        if closed {
            let mut subs = self.subscribers.write();
            subs.retain(|s| !s.tx.is_closed());
            self.store_counts(&subs);
        }
    }
}

/// Events a breaker operation produced, published once its lock is released. The first four
/// live inline (the most one call produces: ERROR, two rate events, a transition); a timer
/// catch-up that replays a long chain of transitions spills into a vector.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    events: [Option<EventKind>; 4],
    len: usize,
    overflow: Vec<EventKind>,
}

impl Pending {
    #[inline]
    pub(crate) fn push(&mut self, kind: EventKind) {
        if self.len < self.events.len() {
            self.events[self.len] = Some(kind);
            self.len += 1;
        } else {
            self.overflow.push(kind);
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = EventKind> + '_ {
        self.events[..self.len]
            .iter()
            .flatten()
            .copied()
            .chain(self.overflow.iter().copied())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}
