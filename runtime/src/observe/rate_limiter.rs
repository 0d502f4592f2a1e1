//! Rate limiters for operators: resilience4j-micrometer's
//! `resilience4j_ratelimiter_available_permissions{name}` and
//! `resilience4j_ratelimiter_waiting_threads{name}` gauges, and resilience4j-spring-boot3's
//! `/actuator/ratelimiters` and `/actuator/ratelimiterevents` bodies (see [`super::entries`]).
//! The `rateLimiters` health component is [`Monitor::rate_limiters_health`] (mapping in
//! [`rate_limiter_health`](super::rate_limiter_health)).
//!
//! The gauges are read from [`RateLimiter::metrics`] at scrape time: Resilience4j's estimate
//! for one more permit now (negative while reservations are pending), and the callers waiting
//! for a reserved permit. There is no permitted or rejected counter, as in Resilience4j.
//!
//! Events are buffered, as Spring buffers them, only for limiters whose config sets
//! [`subscribe_for_events`](crate::rate_limiter::RateLimiterConfig::subscribe_for_events)
//! (`subscribeForEvents`); the others answer an empty list. Of those, the monitor subscribes to
//! FAILED_ACQUIRE and DRAINED only, unless
//! [`MonitorBuilder::success_events`](super::MonitorBuilder::success_events) asks for
//! SUCCESSFUL_ACQUIRE too: a granted acquire then builds no event and pays one atomic load.

use super::entries::{EntryEventsError, Watch, Watched};
use super::format::java_zoned_time;
use super::health::{HealthComponent, HealthStatus, InstanceHealth};
use super::monitor::Monitor;
use super::prometheus::{Families, FamilyType, Value, count};
use super::rate_limiter_health::RateLimiterHealth;
use crate::rate_limiter::{RateLimiter, RateLimiterEvent, RateLimiterEventReceiver};
use crate::registry::Registry;
use serde::Serialize;
use std::any::Any;
use std::collections::BTreeMap;
use std::task::{Context, Poll};
use std::time::SystemTime;

/// `GET /actuator/ratelimiters`: every rate limiter's name, sorted (Resilience4j's
/// `RateLimiterEndpointResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitersResponse {
    /// The names.
    pub rate_limiters: Vec<String>,
}

impl From<Vec<String>> for RateLimitersResponse {
    fn from(rate_limiters: Vec<String>) -> Self {
        RateLimitersResponse { rate_limiters }
    }
}

/// `GET /actuator/ratelimiterevents[/{name}[/{eventType}]]` (Resilience4j's
/// `RateLimiterEventsEndpointResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimiterEventsResponse {
    /// The events.
    pub rate_limiter_events: Vec<RateLimiterEventDto>,
}

impl From<Vec<RateLimiterEventDto>> for RateLimiterEventsResponse {
    fn from(rate_limiter_events: Vec<RateLimiterEventDto>) -> Self {
        RateLimiterEventsResponse {
            rate_limiter_events,
        }
    }
}

/// One rate limiter event as the endpoint shows it (Resilience4j's `RateLimiterEventDTO`:
/// name, type and time; the number of permits is not part of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimiterEventDto {
    /// The rate limiter's name.
    pub rate_limiter_name: String,
    /// `SUCCESSFUL_ACQUIRE`, `FAILED_ACQUIRE` or `DRAINED`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened, as Java's `ZonedDateTime.toString()` writes it in the system time zone.
    pub creation_time: String,
}

impl RateLimiterEventDto {
    /// The DTO of `event`.
    pub fn of(event: &RateLimiterEvent) -> Self {
        RateLimiterEventDto {
            rate_limiter_name: event.rate_limiter.to_string(),
            event_type: event.kind.as_str().to_owned(),
            creation_time: java_zoned_time(event.created_at),
        }
    }
}

/// RateLimiter's event types (Resilience4j's `RateLimiterEvent.Type`).
pub const RATE_LIMITER_EVENT_TYPES: &[&str] = &["SUCCESSFUL_ACQUIRE", "FAILED_ACQUIRE", "DRAINED"];

/// Rate limiters as a [`Watched`] kind.
pub(crate) struct RateLimiters;

/// The monitor's subscription to one limiter: none when its config does not
/// `subscribe_for_events` (Spring keeps no buffer for it then).
pub(crate) type Subscription = Option<RateLimiterEventReceiver>;

impl Watched for RateLimiters {
    type Entry = RateLimiter;
    type Event = RateLimiterEvent;
    type Receiver = Subscription;
    type EventDto = RateLimiterEventDto;
    type ListResponse = RateLimitersResponse;
    type EventsResponse = RateLimiterEventsResponse;

    const KIND: &'static str = "rate limiter";
    const EVENT_TYPES: &'static [&'static str] = RATE_LIMITER_EVENT_TYPES;
    const LIST_PATH: &'static str = "ratelimiters";
    const EVENTS_PATH: &'static str = "ratelimiterevents";

    fn watch(monitor: &Monitor) -> &Watch<Self> {
        &monitor.inner.rate_limiters
    }
    fn entries(registry: &Registry) -> Vec<RateLimiter> {
        registry.all_rate_limiters()
    }
    fn downcast(entry: &dyn Any) -> Option<&RateLimiter> {
        entry.downcast_ref()
    }
    fn name(entry: &RateLimiter) -> &str {
        entry.name()
    }
    fn same(a: &RateLimiter, b: &RateLimiter) -> bool {
        a.ptr_eq(b)
    }
    fn buffer_size(entry: &RateLimiter) -> u32 {
        entry.config().event_consumer_buffer_size()
    }
    fn subscribe(entry: &RateLimiter, capacity: usize, successes: bool) -> Subscription {
        if !entry.config().subscribe_for_events() {
            None
        } else if successes {
            Some(entry.subscribe(capacity))
        } else {
            Some(entry.subscribe_except_successes(capacity))
        }
    }
    fn try_recv(receiver: &mut Subscription) -> Option<RateLimiterEvent> {
        receiver.as_mut()?.try_recv()
    }
    fn poll_recv(
        receiver: &mut Subscription,
        cx: &mut Context<'_>,
    ) -> Poll<Option<RateLimiterEvent>> {
        match receiver {
            Some(receiver) => receiver.poll_recv(cx),
            // Nothing will ever come: the pump ends.
            None => Poll::Ready(None),
        }
    }
    fn dropped(receiver: &Subscription) -> u64 {
        receiver
            .as_ref()
            .map_or(0, RateLimiterEventReceiver::dropped)
    }
    fn event_type(event: &RateLimiterEvent) -> &'static str {
        event.kind.as_str()
    }
    fn created_at(event: &RateLimiterEvent) -> SystemTime {
        event.created_at
    }
    fn dto(event: &RateLimiterEvent) -> RateLimiterEventDto {
        RateLimiterEventDto::of(event)
    }

    fn families(f: &mut Families, limiter: &RateLimiter, dropped: u64) {
        let name = limiter.name();
        let m = limiter.metrics();
        // resilience4j-micrometer's two Gauges (AbstractRateLimiterMetrics), `int`s widened to
        // `double`.
        f.add(
            "resilience4j_ratelimiter_available_permissions",
            FamilyType::Gauge,
            "The number of available permissions",
            &[("name", name)],
            Value::Double(f64::from(m.available_permissions)),
        );
        f.add(
            "resilience4j_ratelimiter_waiting_threads",
            FamilyType::Gauge,
            "The number of waiting threads",
            &[("name", name)],
            Value::Double(f64::from(m.number_of_waiting_threads)),
        );
        f.add(
            "fusebox_ratelimiter_monitor_dropped_events",
            FamilyType::Counter,
            "fusebox: rate limiter events the monitor's queue dropped; the event buffer misses them (not a Resilience4j meter)",
            &[("name", name)],
            count(dropped),
        );
    }
}

impl Monitor {
    /// `GET /actuator/ratelimiters`: every rate limiter's name, sorted.
    pub fn rate_limiters(&self) -> RateLimitersResponse {
        self.inner.rate_limiters.names()
    }

    /// `GET /actuator/ratelimiterevents`: the buffered events of every rate limiter that
    /// subscribes for events, oldest first.
    pub fn rate_limiter_events(&self) -> RateLimiterEventsResponse {
        self.inner.rate_limiters.events()
    }

    /// `GET /actuator/ratelimiterevents/{name}[/{eventType}]`: one rate limiter's buffered
    /// events in buffer order (none unless its config sets `subscribe_for_events`), optionally
    /// of one type (any case, as Resilience4j).
    pub fn rate_limiter_events_of(
        &self,
        name: &str,
        event_type: Option<&str>,
    ) -> Result<RateLimiterEventsResponse, EntryEventsError> {
        self.inner.rate_limiters.events_of(name, event_type)
    }

    /// The `rateLimiters` health component (resilience4j-spring-boot3's
    /// `RateLimitersHealthIndicator`): the rate limiters whose config registers a health
    /// indicator ([`register_health_indicator`](crate::rate_limiter::RateLimiterConfig::register_health_indicator)),
    /// each `UP`, `RATE_LIMITED` (`DOWN` if its config
    /// [allows](crate::rate_limiter::RateLimiterConfig::allow_health_indicator_to_fail) it) or
    /// `UNKNOWN`, and their aggregate (`UNKNOWN` when none registers, or all are rate limited).
    pub fn rate_limiters_health(&self) -> HealthComponent {
        let details: BTreeMap<String, InstanceHealth> = self
            .registry()
            .all_rate_limiters()
            .iter()
            .filter(|l| l.config().register_health_indicator())
            .map(|l| (l.name().to_owned(), RateLimiterHealth::of(l).into()))
            .collect();
        HealthComponent {
            status: HealthStatus::aggregate(details.values().map(|h| h.status)),
            details,
        }
    }
}
