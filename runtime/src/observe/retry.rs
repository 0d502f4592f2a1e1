//! Retries for operators: resilience4j-micrometer's `resilience4j_retry_calls_total{kind,name}`
//! and resilience4j-spring-boot3's `/actuator/retries` and `/actuator/retryevents` bodies. The
//! [`Watched`] impl is all a kind of entry needs (see [`super::entries`]).
//!
//! The counters are read from [`Retry::metrics`] at scrape time (a Micrometer
//! `FunctionCounter`, as resilience4j-micrometer binds them); the first-attempt success counter
//! is summed over its per-thread stripes then, so monitoring adds nothing to a retried call.
//! The monitor subscribes to every retry's events: a first-attempt success publishes none, so
//! that costs the healthy path nothing either.

use super::entries::{EntryEventsError, Watch, Watched};
use super::format::java_zoned_time;
use super::monitor::Monitor;
use super::prometheus::{Families, FamilyType, count};
use crate::registry::Registry;
use crate::retry::{Retry, RetryEvent, RetryEventKind, RetryEventReceiver};
use serde::Serialize;
use std::any::Any;
use std::task::{Context, Poll};
use std::time::SystemTime;

/// `GET /actuator/retries`: every retry's name, sorted (Resilience4j's `RetryEndpointResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetriesResponse {
    /// The names.
    pub retries: Vec<String>,
}

impl From<Vec<String>> for RetriesResponse {
    fn from(retries: Vec<String>) -> Self {
        RetriesResponse { retries }
    }
}

/// `GET /actuator/retryevents[/{name}[/{eventType}]]` (Resilience4j's `RetryEventsEndpointResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryEventsResponse {
    /// The events.
    pub retry_events: Vec<RetryEventDto>,
}

impl From<Vec<RetryEventDto>> for RetryEventsResponse {
    fn from(retry_events: Vec<RetryEventDto>) -> Self {
        RetryEventsResponse { retry_events }
    }
}

/// One retry event as the endpoint shows it (Resilience4j's `RetryEventDTO`); `errorMessage`
/// is left out when there is none, as Spring Boot's actuator leaves out nulls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryEventDto {
    /// The retry's name.
    pub retry_name: String,
    /// `RETRY`, `ERROR`, `SUCCESS` or `IGNORED_ERROR`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened, as Java's `ZonedDateTime.toString()` writes it in the system time zone.
    pub creation_time: String,
    /// The error's `Display` text (Resilience4j: `Throwable.toString()`): the failed attempt's
    /// on RETRY and ERROR, the last retried one on SUCCESS, the error on IGNORED_ERROR; absent
    /// for a result the result predicate rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Resilience4j's `numberOfAttempts`: the failed attempt (RETRY), the attempts made
    /// (ERROR), the retries made (SUCCESS), 0 for IGNORED_ERROR.
    pub number_of_attempts: u32,
}

impl RetryEventDto {
    /// The DTO of `event`.
    pub fn of(event: &RetryEvent) -> Self {
        let (error_message, number_of_attempts) = match &event.kind {
            RetryEventKind::Retry { attempt, error, .. }
            | RetryEventKind::Error { attempt, error }
            | RetryEventKind::Success { attempt, error } => (error.clone(), *attempt),
            RetryEventKind::IgnoredError { error } => (Some(error.clone()), 0),
        };
        RetryEventDto {
            retry_name: event.retry.to_string(),
            event_type: event.kind.as_str().to_owned(),
            creation_time: java_zoned_time(event.created_at),
            error_message,
            number_of_attempts,
        }
    }
}

/// Retry's event types (Resilience4j's `RetryEvent.Type`).
pub const RETRY_EVENT_TYPES: &[&str] = &["RETRY", "ERROR", "SUCCESS", "IGNORED_ERROR"];

/// Retries as a [`Watched`] kind.
pub(crate) struct Retries;

impl Watched for Retries {
    type Entry = Retry;
    type Event = RetryEvent;
    type Receiver = RetryEventReceiver;
    type EventDto = RetryEventDto;
    type ListResponse = RetriesResponse;
    type EventsResponse = RetryEventsResponse;

    const KIND: &'static str = "retry";
    const EVENT_TYPES: &'static [&'static str] = RETRY_EVENT_TYPES;
    const LIST_PATH: &'static str = "retries";
    const EVENTS_PATH: &'static str = "retryevents";

    fn watch(monitor: &Monitor) -> &Watch<Self> {
        &monitor.inner.retries
    }
    fn entries(registry: &Registry) -> Vec<Retry> {
        registry.all_retries()
    }
    fn downcast(entry: &dyn Any) -> Option<&Retry> {
        entry.downcast_ref()
    }
    fn name(entry: &Retry) -> &str {
        entry.name()
    }
    fn same(a: &Retry, b: &Retry) -> bool {
        a.ptr_eq(b)
    }
    fn buffer_size(entry: &Retry) -> u32 {
        entry.config().event_consumer_buffer_size()
    }
    fn subscribe(entry: &Retry, capacity: usize, _successes: bool) -> RetryEventReceiver {
        // A retry publishes SUCCESS only after retries (never for a first-attempt success):
        // every event is off the healthy path.
        entry.subscribe(capacity)
    }
    fn try_recv(receiver: &mut RetryEventReceiver) -> Option<RetryEvent> {
        receiver.try_recv()
    }
    fn poll_recv(
        receiver: &mut RetryEventReceiver,
        cx: &mut Context<'_>,
    ) -> Poll<Option<RetryEvent>> {
        receiver.poll_recv(cx)
    }
    fn dropped(receiver: &RetryEventReceiver) -> u64 {
        receiver.dropped()
    }
    fn event_type(event: &RetryEvent) -> &'static str {
        event.kind.as_str()
    }
    fn created_at(event: &RetryEvent) -> SystemTime {
        event.created_at
    }
    fn dto(event: &RetryEvent) -> RetryEventDto {
        RetryEventDto::of(event)
    }

    fn families(f: &mut Families, retry: &Retry, dropped: u64) {
        let name = retry.name();
        let m = retry.metrics();
        // resilience4j-micrometer's `resilience4j.retry.calls` FunctionCounters, in
        // AbstractRetryMetrics' registration order.
        for (kind, help, value) in [
            (
                "successful_without_retry",
                "The number of successful calls without a retry attempt",
                m.successful_calls_without_retry_attempt,
            ),
            (
                "successful_with_retry",
                "The number of successful calls after a retry attempt",
                m.successful_calls_with_retry_attempt,
            ),
            (
                "failed_without_retry",
                "The number of failed calls without a retry attempt",
                m.failed_calls_without_retry_attempt,
            ),
            (
                "failed_with_retry",
                "The number of failed calls after a retry attempt",
                m.failed_calls_with_retry_attempt,
            ),
        ] {
            f.add(
                "resilience4j_retry_calls",
                FamilyType::Counter,
                help,
                &[("kind", kind), ("name", name)],
                count(value),
            );
        }
        f.add(
            "fusebox_retry_monitor_dropped_events",
            FamilyType::Counter,
            "fusebox: retry events the monitor's queue dropped; the event buffer misses them (not a Resilience4j meter)",
            &[("name", name)],
            count(dropped),
        );
    }
}

impl Monitor {
    /// `GET /actuator/retries`: every retry's name, sorted.
    pub fn retries(&self) -> RetriesResponse {
        self.inner.retries.names()
    }

    /// `GET /actuator/retryevents`: every retry's buffered events, oldest first.
    pub fn retry_events(&self) -> RetryEventsResponse {
        self.inner.retries.events()
    }

    /// `GET /actuator/retryevents/{name}[/{eventType}]`: one retry's buffered events in buffer
    /// order, optionally of one type (any case, as Resilience4j).
    pub fn retry_events_of(
        &self,
        name: &str,
        event_type: Option<&str>,
    ) -> Result<RetryEventsResponse, EntryEventsError> {
        self.inner.retries.events_of(name, event_type)
    }
}
