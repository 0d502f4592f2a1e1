//! One breaker's subscription for the [`Monitor`](super::Monitor): the last events (a bounded
//! buffer, Resilience4j's `CircularEventConsumer`) and the counts Resilience4j's meters take
//! from events (calls timer, not-permitted counter, time limiter), plus fusebox's own
//! (transitions, rejections by reason).
//!
//! Events reach the tap through the breaker's bounded, never-blocking event queue; a task on
//! the tokio runtime (when there is one) moves them into the tap as they come, and every read
//! drains what is still queued first, so reads are exact. The breaker never touches the tap's
//! lock.

use super::max::TimeWindowMax;
use crate::breaker::CircuitBreaker;
use crate::clock::Clock;
use crate::events::{CircuitBreakerEvent, EventKind, EventReceiver};
use crate::state::State;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::Duration;

/// How many events the tap's subscription queue holds between two moves into the tap.
const QUEUE_CAPACITY: usize = 4096;

/// Micrometer's Prometheus `_max`: 3 buckets.
const MAX_BUCKETS: usize = 3;

/// The kinds of Resilience4j's calls timer, in its registration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallKind {
    Successful = 0,
    Failed = 1,
    Ignored = 2,
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
}

/// One kind of Micrometer timer: count, total and decaying max.
#[derive(Clone, Debug)]
pub(crate) struct CallTimer {
    pub(crate) count: u64,
    pub(crate) total_nanos: u128,
    max: TimeWindowMax,
}

impl CallTimer {
    fn record(&mut self, now_millis: u64, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.count += 1;
        self.total_nanos += u128::from(nanos);
        self.max.record(now_millis, nanos);
    }
}

/// What a scrape reads from a tap, copied out under its lock.
#[derive(Clone, Debug)]
pub(crate) struct TapCounts {
    /// `(count, total nanos, max nanos)` per [`CallKind`].
    pub(crate) calls: [(u64, u128, u64); 3],
    pub(crate) not_permitted: u64,
    /// Rejections by the state that rejected: OPEN, HALF_OPEN.
    pub(crate) rejected_open: u64,
    pub(crate) rejected_half_open: u64,
    /// Transitions seen, `[from][to]` by `State as usize`.
    pub(crate) transitions: [[u64; 6]; 6],
    pub(crate) time_limiter: TimeLimiterCounts,
    /// Events the subscription queue had to drop (the counts above miss them).
    pub(crate) dropped: u64,
}

/// Resilience4j's TimeLimiter counters, derived from the breaker's events and its timeout count.
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
    calls: [CallTimer; 3],
    not_permitted: u64,
    rejected_open: u64,
    rejected_half_open: u64,
    transitions: [[u64; 6]; 6],
    /// The state as the event stream tells it (starting from the state at subscription).
    state: State,
    /// ERROR events seen (timeouts included) and IGNORED_ERROR events seen.
    errors: u64,
    ignored: u64,
    /// The breaker's timeout counts when the tap subscribed.
    timeouts_base: (u64, u64),
    /// The time limiter's `failed` as last reported, so that it never decreases.
    time_limiter_failed: u64,
}

impl TapState {
    fn apply(&mut self, event: CircuitBreakerEvent, now_millis: u64) {
        match event.kind {
            EventKind::Success { elapsed } => {
                self.calls[CallKind::Successful as usize].record(now_millis, elapsed);
            }
            EventKind::Error { elapsed } => {
                self.errors += 1;
                self.calls[CallKind::Failed as usize].record(now_millis, elapsed);
            }
            EventKind::IgnoredError { elapsed } => {
                self.ignored += 1;
                self.calls[CallKind::Ignored as usize].record(now_millis, elapsed);
            }
            EventKind::NotPermitted => {
                self.not_permitted += 1;
                if self.state == State::HalfOpen {
                    self.rejected_half_open += 1;
                } else {
                    self.rejected_open += 1;
                }
            }
            EventKind::StateTransition { from, to } => {
                self.transitions[from as usize][to as usize] += 1;
                self.state = to;
            }
            EventKind::Reset
            | EventKind::FailureRateExceeded { .. }
            | EventKind::SlowCallRateExceeded { .. } => {}
        }
        while self.events.len() >= self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Moves every queued event into the tap.
    fn drain(&mut self, now_millis: u64) {
        while let Some(event) = self.receiver.try_recv() {
            self.apply(event, now_millis);
        }
    }
}

/// The monitor's subscription to one breaker.
pub(crate) struct Tap {
    pub(crate) breaker: CircuitBreaker,
    clock: Arc<dyn Clock>,
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

fn millis(clock: &dyn Clock) -> u64 {
    clock.now_nanos() / 1_000_000
}

impl Tap {
    /// Subscribes to `breaker`, keeping its last `event_consumer_buffer_size` events; with a
    /// runtime, starts the task that moves events into the tap as they come.
    pub(crate) fn attach(
        breaker: CircuitBreaker,
        max_step: Duration,
        clock: Arc<dyn Clock>,
        runtime: Option<&tokio::runtime::Handle>,
    ) -> Arc<Tap> {
        let capacity = buffer_size(&breaker);
        let receiver = breaker.subscribe_with_capacity(QUEUE_CAPACITY);
        let timeouts_base = breaker.inner.events.timeouts();
        let now = millis(&*clock);
        let step = u64::try_from(max_step.as_millis()).unwrap_or(u64::MAX);
        let timer = CallTimer {
            count: 0,
            total_nanos: 0,
            max: TimeWindowMax::new(now, step, MAX_BUCKETS),
        };
        let state = TapState {
            receiver,
            events: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            calls: [timer.clone(), timer.clone(), timer],
            not_permitted: 0,
            rejected_open: 0,
            rejected_half_open: 0,
            transitions: [[0; 6]; 6],
            state: breaker.state(),
            errors: 0,
            ignored: 0,
            timeouts_base,
            time_limiter_failed: 0,
        };
        let tap = Arc::new(Tap {
            breaker,
            clock,
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
        state.drain(millis(&*self.clock));
        let excess = state.events.len().saturating_sub(capacity);
        state.events.drain(..excess);
        state.events.iter().cloned().collect()
    }

    /// The counts, as of now.
    pub(crate) fn counts(&self) -> TapCounts {
        let now = millis(&*self.clock);
        let (timeouts, published_timeouts) = self.breaker.inner.events.timeouts();
        let mut state = self.state.lock();
        state.drain(now);
        let timeout = timeouts.saturating_sub(state.timeouts_base.0);
        let published_timeouts = published_timeouts.saturating_sub(state.timeouts_base.1);
        // Each published timeout is also an ERROR event, counted before the event is sent: the
        // difference never exceeds the true number of failed calls, and only grows.
        let failed = (state.errors + state.ignored).saturating_sub(published_timeouts);
        state.time_limiter_failed = state.time_limiter_failed.max(failed);
        let calls = std::array::from_fn(|i| {
            let timer = &mut state.calls[i];
            (timer.count, timer.total_nanos, timer.max.poll(now))
        });
        TapCounts {
            calls,
            not_permitted: state.not_permitted,
            rejected_open: state.rejected_open,
            rejected_half_open: state.rejected_half_open,
            transitions: state.transitions,
            time_limiter: TimeLimiterCounts {
                successful: state.calls[CallKind::Successful as usize].count,
                failed: state.time_limiter_failed,
                timeout,
            },
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
        let now = millis(&*tap.clock);
        let mut state = tap.state.lock();
        loop {
            match state.receiver.poll_recv(cx) {
                Poll::Ready(Some(event)) => state.apply(event, now),
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
}
