//! Bulkheads for operators: resilience4j-micrometer's
//! `resilience4j_bulkhead_available_concurrent_calls{name}` and
//! `resilience4j_bulkhead_max_allowed_concurrent_calls{name}` gauges, and
//! resilience4j-spring-boot3's `/actuator/bulkheads` and `/actuator/bulkheadevents` bodies (see
//! [`super::entries`]). Spring has no health indicator for bulkheads, and neither has fusebox.
//!
//! The gauges are read from [`Bulkhead::metrics`] at scrape time: the free slots now, and the
//! config's `max_concurrent_calls`. There is no rejected-call counter, as in Resilience4j.
//!
//! Every bulkhead gets an event buffer, as Spring gives one to every semaphore bulkhead. The
//! monitor subscribes to CALL_REJECTED only, unless
//! [`MonitorBuilder::success_events`](super::MonitorBuilder::success_events) asks for
//! CALL_PERMITTED and CALL_FINISHED too (two events for every call that gets a slot): a
//! permitted call on a watched bulkhead then builds no event and pays one atomic load on acquire
//! and one on release, as on an unwatched one.

use super::entries::{EntryEventsError, Watch, Watched};
use super::format::java_zoned_time;
use super::monitor::Monitor;
use super::prometheus::{Families, FamilyType, Value, count};
use crate::bulkhead::{Bulkhead, BulkheadEvent, BulkheadEventReceiver};
use crate::registry::Registry;
use serde::Serialize;
use std::any::Any;
use std::task::{Context, Poll};
use std::time::SystemTime;

/// `GET /actuator/bulkheads`: every bulkhead's name, sorted (Resilience4j's
/// `BulkheadEndpointResponse`; fusebox has no thread-pool bulkheads to add to it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkheadsResponse {
    /// The names.
    pub bulkheads: Vec<String>,
}

impl From<Vec<String>> for BulkheadsResponse {
    fn from(bulkheads: Vec<String>) -> Self {
        BulkheadsResponse { bulkheads }
    }
}

/// `GET /actuator/bulkheadevents[/{name}[/{eventType}]]` (Resilience4j's
/// `BulkheadEventsEndpointResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkheadEventsResponse {
    /// The events.
    pub bulkhead_events: Vec<BulkheadEventDto>,
}

impl From<Vec<BulkheadEventDto>> for BulkheadEventsResponse {
    fn from(bulkhead_events: Vec<BulkheadEventDto>) -> Self {
        BulkheadEventsResponse { bulkhead_events }
    }
}

/// One bulkhead event as the endpoint shows it (Resilience4j's `BulkheadEventDTO`: name, type
/// and time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkheadEventDto {
    /// The bulkhead's name.
    pub bulkhead_name: String,
    /// `CALL_PERMITTED`, `CALL_REJECTED` or `CALL_FINISHED`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened, as Java's `ZonedDateTime.toString()` writes it in the system time zone.
    pub creation_time: String,
}

impl BulkheadEventDto {
    /// The DTO of `event`.
    pub fn of(event: &BulkheadEvent) -> Self {
        BulkheadEventDto {
            bulkhead_name: event.bulkhead.to_string(),
            event_type: event.kind.as_str().to_owned(),
            creation_time: java_zoned_time(event.created_at),
        }
    }
}

/// Bulkhead's event types (Resilience4j's `BulkheadEvent.Type`).
pub const BULKHEAD_EVENT_TYPES: &[&str] = &["CALL_PERMITTED", "CALL_REJECTED", "CALL_FINISHED"];

/// Bulkheads as a [`Watched`] kind.
pub(crate) struct Bulkheads;

impl Watched for Bulkheads {
    type Entry = Bulkhead;
    type Event = BulkheadEvent;
    type Receiver = BulkheadEventReceiver;
    type EventDto = BulkheadEventDto;
    type ListResponse = BulkheadsResponse;
    type EventsResponse = BulkheadEventsResponse;

    const KIND: &'static str = "bulkhead";
    const EVENT_TYPES: &'static [&'static str] = BULKHEAD_EVENT_TYPES;
    const LIST_PATH: &'static str = "bulkheads";
    const EVENTS_PATH: &'static str = "bulkheadevents";

    fn watch(monitor: &Monitor) -> &Watch<Self> {
        &monitor.inner.bulkheads
    }
    fn entries(registry: &Registry) -> Vec<Bulkhead> {
        registry.all_bulkheads()
    }
    fn downcast(entry: &dyn Any) -> Option<&Bulkhead> {
        entry.downcast_ref()
    }
    fn name(entry: &Bulkhead) -> &str {
        entry.name()
    }
    fn same(a: &Bulkhead, b: &Bulkhead) -> bool {
        a.ptr_eq(b)
    }
    fn buffer_size(entry: &Bulkhead) -> u32 {
        entry.config().event_consumer_buffer_size()
    }
    fn subscribe(entry: &Bulkhead, capacity: usize, successes: bool) -> BulkheadEventReceiver {
        if successes {
            entry.subscribe(capacity)
        } else {
            entry.subscribe_except_successes(capacity)
        }
    }
    fn try_recv(receiver: &mut BulkheadEventReceiver) -> Option<BulkheadEvent> {
        receiver.try_recv()
    }
    fn poll_recv(
        receiver: &mut BulkheadEventReceiver,
        cx: &mut Context<'_>,
    ) -> Poll<Option<BulkheadEvent>> {
        receiver.poll_recv(cx)
    }
    fn dropped(receiver: &BulkheadEventReceiver) -> u64 {
        receiver.dropped()
    }
    fn event_type(event: &BulkheadEvent) -> &'static str {
        event.kind.as_str()
    }
    fn created_at(event: &BulkheadEvent) -> SystemTime {
        event.created_at
    }
    fn dto(event: &BulkheadEvent) -> BulkheadEventDto {
        BulkheadEventDto::of(event)
    }

    fn families(f: &mut Families, bulkhead: &Bulkhead, dropped: u64) {
        let name = bulkhead.name();
        let m = bulkhead.metrics();
        // resilience4j-micrometer's two Gauges (AbstractBulkheadMetrics), `int`s widened to
        // `double`.
        f.add(
            "resilience4j_bulkhead_available_concurrent_calls",
            FamilyType::Gauge,
            "The number of available permissions",
            &[("name", name)],
            Value::Double(f64::from(m.available_concurrent_calls)),
        );
        f.add(
            "resilience4j_bulkhead_max_allowed_concurrent_calls",
            FamilyType::Gauge,
            "The maximum number of available permissions",
            &[("name", name)],
            Value::Double(f64::from(m.max_allowed_concurrent_calls)),
        );
        f.add(
            "fusebox_bulkhead_monitor_dropped_events",
            FamilyType::Counter,
            "fusebox: bulkhead events the monitor's queue dropped; the event buffer misses them (not a Resilience4j meter)",
            &[("name", name)],
            count(dropped),
        );
    }
}

impl Monitor {
    /// `GET /actuator/bulkheads`: every bulkhead's name, sorted.
    pub fn bulkheads(&self) -> BulkheadsResponse {
        self.inner.bulkheads.names()
    }

    /// `GET /actuator/bulkheadevents`: the buffered events of every bulkhead, oldest first
    /// (CALL_REJECTED only, unless the monitor takes
    /// [success events](super::MonitorBuilder::success_events)).
    pub fn bulkhead_events(&self) -> BulkheadEventsResponse {
        self.inner.bulkheads.events()
    }

    /// `GET /actuator/bulkheadevents/{name}[/{eventType}]`: one bulkhead's buffered events in
    /// buffer order, optionally of one type (any case, as Resilience4j).
    pub fn bulkhead_events_of(
        &self,
        name: &str,
        event_type: Option<&str>,
    ) -> Result<BulkheadEventsResponse, EntryEventsError> {
        self.inner.bulkheads.events_of(name, event_type)
    }
}
