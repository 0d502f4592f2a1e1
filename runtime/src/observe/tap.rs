//! One breaker's subscription for the [`Monitor`](super::Monitor): the last events (a bounded
//! buffer, Resilience4j's `CircularEventConsumer`) and fusebox's rejections by reason, which
//! only events tell. The calls timer, the not-permitted counter, the transitions and the time
//! limiter's counters are not counted here: they are read from the breaker's own
//! [`CallStats`] at render time, so that monitoring costs the call path nothing.
//!
//! Events reach the tap through the breaker's bounded, never-blocking event queue; a task on
//! the tokio runtime (when there is one) moves them into the tap as they come, and every read
//! drains what is still queued first, so reads are exact. The breaker never touches the tap's
//! lock.

use crate::breaker::{CallStats, CircuitBreaker};
use crate::events::{CircuitBreakerEvent, EventKind, EventReceiver};
use crate::state::State;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Weak};
use std::task::Poll;

/// How many events the tap's subscription queue holds between two moves into the tap.
const QUEUE_CAPACITY: usize = 4096;

/// The kinds of Resilience4j's calls timer, in its registration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallKind {
    Successful,
    Failed,
    Ignored,
}

impl CallKind {
    pub(crate) const ALL: [CallKind; 3] =
        [CallKind::Successful, CallKind::Failed, CallKind::Ignored];

    pub(crate) const fn tag(self) -> &'static str {
        match self {
            CallKind::Successful => "successful",
            CallKind::Failed => "failed",
            CallKind::Ignored => "ignored",
        }
    }

    /// This kind's timer in `stats`.
    pub(crate) fn timer(self, stats: &CallStats) -> crate::breaker::CallTimer {
        match self {
            CallKind::Successful => stats.successful,
            CallKind::Failed => stats.failed,
            CallKind::Ignored => stats.ignored,
        }
    }
}

/// What a scrape reads about one breaker besides its [`Metrics`](crate::Metrics).
#[derive(Clone, Debug)]
pub(crate) struct TapCounts {
    /// The breaker's call stats; `None` when its config turned them off
    /// (`call_stats_enabled = false`): the series made from them are then left out.
    pub(crate) stats: Option<CallStats>,
    /// Rejections by the state that rejected: OPEN, HALF_OPEN.
    pub(crate) rejected_open: u64,
    pub(crate) rejected_half_open: u64,
    /// Resilience4j's TimeLimiter counters (from the call stats and the timeout counts).
    pub(crate) time_limiter: Option<TimeLimiterCounts>,
    /// Events the subscription queue had to drop (the buffer and the rejections miss them).
    pub(crate) dropped: u64,
}

/// Resilience4j's TimeLimiter counters, derived from the breaker's call stats and its timeout
/// counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimeLimiterCounts {
    pub(crate) successful: u64,
    pub(crate) failed: u64,
    pub(crate) timeout: u64,
}

struct TapState {
    receiver: EventReceiver,
    events: VecDeque<CircuitBreakerEvent>,
    capacity: usize,
    rejected_open: u64,
    rejected_half_open: u64,
    /// The state as the event stream tells it (starting from the state at subscription).
    state: State,
    /// The time limiter's `failed` as last reported, so that it never decreases.
    time_limiter_failed: u64,
}

impl TapState {
    fn apply(&mut self, event: CircuitBreakerEvent) {
        match event.kind {
            EventKind::NotPermitted => {
                if self.state == State::HalfOpen {
                    self.rejected_half_open += 1;
                } else {
                    self.rejected_open += 1;
                }
            }
            EventKind::StateTransition { to, .. } => self.state = to,
            _ => {}
        }
        while self.events.len() >= self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Moves every queued event into the tap.
    fn drain(&mut self) {
        while let Some(event) = self.receiver.try_recv() {
            self.apply(event);
        }
    }
}

/// The monitor's subscription to one breaker.
pub(crate) struct Tap {
    pub(crate) breaker: CircuitBreaker,
    state: Mutex<TapState>,
    pump: Mutex<Option<tokio::task::AbortHandle>>,
}

impl fmt::Debug for Tap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tap")
            .field("breaker", &self.breaker.name())
            .finish_non_exhaustive()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if let Some(pump) = self.pump.get_mut().take() {
            pump.abort();
        }
    }
}

impl Tap {
    /// Subscribes to `breaker`, keeping its last `event_consumer_buffer_size` events; with a
    /// runtime, starts the task that moves events into the tap as they come.
    /// Without `successes`, SUCCESS events are not subscribed to, which keeps the breaker's
    /// lock-free fast path.
    pub(crate) fn attach(
        breaker: CircuitBreaker,
        successes: bool,
        runtime: Option<&tokio::runtime::Handle>,
    ) -> Arc<Tap> {
        let capacity = buffer_size(&breaker);
        let receiver = if successes {
            breaker.subscribe_with_capacity(QUEUE_CAPACITY)
        } else {
            breaker.subscribe_except_successes(QUEUE_CAPACITY)
        };
        let state = TapState {
            receiver,
            events: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            rejected_open: 0,
            rejected_half_open: 0,
            state: breaker.state(),
            time_limiter_failed: 0,
        };
        let tap = Arc::new(Tap {
            breaker,
            state: Mutex::new(state),
            pump: Mutex::new(None),
        });
        if let Some(runtime) = runtime {
            let task = runtime.spawn(pump(Arc::downgrade(&tap)));
            *tap.pump.lock() = Some(task.abort_handle());
        }
        tap
    }

    /// The buffered events, oldest first, as many as the breaker's config keeps now (a reload
    /// may have changed `event_consumer_buffer_size`: a smaller buffer drops the oldest events,
    /// a larger one fills from the next events on).
    pub(crate) fn events(&self) -> Vec<CircuitBreakerEvent> {
        let capacity = buffer_size(&self.breaker);
        let mut state = self.state.lock();
        state.capacity = capacity;
        state.drain();
        let excess = state.events.len().saturating_sub(capacity);
        state.events.drain(..excess);
        state.events.iter().cloned().collect()
    }

    /// The counts, as of now.
    pub(crate) fn counts(&self) -> TapCounts {
        // The stats first, the timeouts after: a timeout is counted before its failure is
        // recorded, so the failures less the timeouts never exceed the true number.
        let stats = self.breaker.call_stats();
        let (timeouts, counted_timeouts) = self.breaker.inner.events.timeouts();
        let mut state = self.state.lock();
        state.drain();
        let time_limiter = stats.map(|stats| {
            let failed =
                (stats.failed.count + stats.ignored.count).saturating_sub(counted_timeouts);
            state.time_limiter_failed = state.time_limiter_failed.max(failed);
            TimeLimiterCounts {
                successful: stats.successful.count,
                failed: state.time_limiter_failed,
                timeout: timeouts,
            }
        });
        TapCounts {
            stats,
            rejected_open: state.rejected_open,
            rejected_half_open: state.rejected_half_open,
            time_limiter,
            dropped: state.receiver.dropped(),
        }
    }
}

/// The breaker's `event_consumer_buffer_size` (at least 1, as its builder checks).
fn buffer_size(breaker: &CircuitBreaker) -> usize {
    usize::try_from(breaker.config().event_consumer_buffer_size())
        .unwrap_or(usize::MAX)
        .max(1)
}

/// Moves `tap`'s events in as they come; ends when the tap or the breaker is gone.
async fn pump(tap: Weak<Tap>) {
    poll_fn(|cx| {
        let Some(tap) = tap.upgrade() else {
            return Poll::Ready(());
        };
        let mut state = tap.state.lock();
        loop {
            match state.receiver.poll_recv(cx) {
                Poll::Ready(Some(event)) => state.apply(event),
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
}
