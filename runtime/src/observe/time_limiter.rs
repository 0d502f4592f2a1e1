//! Time limiters for operators: resilience4j-micrometer's
//! `resilience4j_timelimiter_calls_total{kind,name}` and resilience4j-spring-boot3's
//! `/actuator/timelimiters` and `/actuator/timelimiterevents` bodies (see [`super::entries`]).
//!
//! A breaker with a `timeout` already writes `resilience4j_timelimiter_calls_total` under its
//! own name (it is Resilience4j's time limiter of that name); a registry time limiter of the
//! same name adds its counts into the same series rather than writing a second one.
//!
//! The monitor subscribes to ERROR and TIMEOUT events only, unless
//! [`MonitorBuilder::success_events`](super::MonitorBuilder::success_events) asks for SUCCESS
//! too: a successful call then builds no event, and only adds to its thread's stripe of the
//! success counter. The counters never need the events.

use super::entries::{EntryEventsError, Watch, Watched};
use super::format::java_zoned_time;
use super::monitor::Monitor;
use super::prometheus::{Families, FamilyType, count};
use crate::registry::Registry;
use crate::time_limiter::{TimeLimiter, TimeLimiterEvent, TimeLimiterEventReceiver};
use serde::Serialize;
use std::any::Any;
use std::task::{Context, Poll};
use std::time::SystemTime;

/// `GET /actuator/timelimiters`: every time limiter's name, sorted (Resilience4j's
/// `TimeLimiterEndpointResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeLimitersResponse {
    /// The names.
    pub time_limiters: Vec<String>,
}

impl From<Vec<String>> for TimeLimitersResponse {
    fn from(time_limiters: Vec<String>) -> Self {
        TimeLimitersResponse { time_limiters }
    }
}

/// `GET /actuator/timelimiterevents[/{name}[/{eventType}]]` (Resilience4j's
/// `TimeLimiterEventsEndpointResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeLimiterEventsResponse {
    /// The events.
    pub time_limiter_events: Vec<TimeLimiterEventDto>,
}

impl From<Vec<TimeLimiterEventDto>> for TimeLimiterEventsResponse {
    fn from(time_limiter_events: Vec<TimeLimiterEventDto>) -> Self {
        TimeLimiterEventsResponse {
            time_limiter_events,
        }
    }
}

/// One time limiter event as the endpoint shows it (Resilience4j's `TimeLimiterEventDTO`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeLimiterEventDto {
    /// The time limiter's name.
    pub time_limiter_name: String,
    /// `SUCCESS`, `TIMEOUT` or `ERROR`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened, as Java's `ZonedDateTime.toString()` writes it in the system time zone.
    pub creation_time: String,
}

impl TimeLimiterEventDto {
    /// The DTO of `event`.
    pub fn of(event: &TimeLimiterEvent) -> Self {
        TimeLimiterEventDto {
            time_limiter_name: event.time_limiter.to_string(),
            event_type: event.kind.as_str().to_owned(),
            creation_time: java_zoned_time(event.created_at),
        }
    }
}

/// TimeLimiter's event types (Resilience4j's `TimeLimiterEvent.Type`).
pub const TIME_LIMITER_EVENT_TYPES: &[&str] = &["SUCCESS", "TIMEOUT", "ERROR"];

/// Time limiters as a [`Watched`] kind.
pub(crate) struct TimeLimiters;

impl Watched for TimeLimiters {
    type Entry = TimeLimiter;
    type Event = TimeLimiterEvent;
    type Receiver = TimeLimiterEventReceiver;
    type EventDto = TimeLimiterEventDto;
    type ListResponse = TimeLimitersResponse;
    type EventsResponse = TimeLimiterEventsResponse;

    const KIND: &'static str = "time limiter";
    const EVENT_TYPES: &'static [&'static str] = TIME_LIMITER_EVENT_TYPES;
    const LIST_PATH: &'static str = "timelimiters";
    const EVENTS_PATH: &'static str = "timelimiterevents";

    fn watch(monitor: &Monitor) -> &Watch<Self> {
        &monitor.inner.time_limiters
    }
    fn entries(registry: &Registry) -> Vec<TimeLimiter> {
        registry.all_time_limiters()
    }
    fn downcast(entry: &dyn Any) -> Option<&TimeLimiter> {
        entry.downcast_ref()
    }
    fn name(entry: &TimeLimiter) -> &str {
        entry.name()
    }
    fn same(a: &TimeLimiter, b: &TimeLimiter) -> bool {
        a.ptr_eq(b)
    }
    fn buffer_size(entry: &TimeLimiter) -> u32 {
        entry.config().event_consumer_buffer_size()
    }
    fn subscribe(
        entry: &TimeLimiter,
        capacity: usize,
        successes: bool,
    ) -> TimeLimiterEventReceiver {
        if successes {
            entry.subscribe(capacity)
        } else {
            entry.subscribe_except_successes(capacity)
        }
    }
    fn try_recv(receiver: &mut TimeLimiterEventReceiver) -> Option<TimeLimiterEvent> {
        receiver.try_recv()
    }
    fn poll_recv(
        receiver: &mut TimeLimiterEventReceiver,
        cx: &mut Context<'_>,
    ) -> Poll<Option<TimeLimiterEvent>> {
        receiver.poll_recv(cx)
    }
    fn dropped(receiver: &TimeLimiterEventReceiver) -> u64 {
        receiver.dropped()
    }
    fn event_type(event: &TimeLimiterEvent) -> &'static str {
        event.kind.as_str()
    }
    fn created_at(event: &TimeLimiterEvent) -> SystemTime {
        event.created_at
    }
    fn dto(event: &TimeLimiterEvent) -> TimeLimiterEventDto {
        TimeLimiterEventDto::of(event)
    }

    fn families(f: &mut Families, limiter: &TimeLimiter, dropped: u64) {
        let name = limiter.name();
        let m = limiter.metrics();
        // resilience4j-micrometer's `resilience4j.timelimiter.calls` Counters, in
        // AbstractTimeLimiterMetrics' registration order.
        for (kind, help, value) in [
            ("successful", "The number of successful calls", m.successful),
            ("failed", "The number of failed calls", m.failed),
            ("timeout", "The number of timed out calls", m.timeout),
        ] {
            f.add_summed(
                "resilience4j_timelimiter_calls",
                FamilyType::Counter,
                help,
                &[("kind", kind), ("name", name)],
                value,
            );
        }
        f.add(
            "fusebox_timelimiter_monitor_dropped_events",
            FamilyType::Counter,
            "fusebox: time limiter events the monitor's queue dropped; the event buffer misses them (not a Resilience4j meter)",
            &[("name", name)],
            count(dropped),
        );
    }
}

impl Monitor {
    /// `GET /actuator/timelimiters`: every time limiter's name, sorted.
    pub fn time_limiters(&self) -> TimeLimitersResponse {
        self.inner.time_limiters.names()
    }

    /// `GET /actuator/timelimiterevents`: every time limiter's buffered events, oldest first.
    pub fn time_limiter_events(&self) -> TimeLimiterEventsResponse {
        self.inner.time_limiters.events()
    }

    /// `GET /actuator/timelimiterevents/{name}[/{eventType}]`: one time limiter's buffered
    /// events in buffer order, optionally of one type (any case, as Resilience4j).
    pub fn time_limiter_events_of(
        &self,
        name: &str,
        event_type: Option<&str>,
    ) -> Result<TimeLimiterEventsResponse, EntryEventsError> {
        self.inner.time_limiters.events_of(name, event_type)
    }
}
