//! The JSON bodies of resilience4j-spring-boot3's circuit-breaker endpoints, field for field:
//! camelCase names, rates and thresholds as `"50.0%"` strings, counts as numbers, states and
//! event types as Resilience4j's enum names. Events write all six keys, absent values as `null`,
//! as resilience4j-spring-boot3 does (its DTOs go through the application's ObjectMapper, not
//! the actuator's `NON_NULL` one; `tests/spring-ref/README.md`).

use super::format::{java_zoned_time, percent};
use crate::breaker::CircuitBreaker;
use crate::events::{CircuitBreakerEvent, EventKind};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// `GET /actuator/circuitbreakers`: every breaker's details, sorted by name
/// (Resilience4j's `CircuitBreakerEndpointResponse`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreakersResponse {
    /// Details by breaker name.
    pub circuit_breakers: BTreeMap<String, CircuitBreakerDetails>,
}

/// One breaker's figures and state (Resilience4j's `CircuitBreakerDetails`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreakerDetails {
    /// The failure rate, `"-1.0%"` below the minimum number of calls.
    pub failure_rate: String,
    /// The slow-call rate, `"-1.0%"` below the minimum number of calls.
    pub slow_call_rate: String,
    /// The configured failure-rate threshold, e.g. `"50.0%"`.
    pub failure_rate_threshold: String,
    /// The configured slow-call-rate threshold, e.g. `"100.0%"`.
    pub slow_call_rate_threshold: String,
    /// Calls in the sliding window.
    pub buffered_calls: u32,
    /// Failed calls in the window.
    pub failed_calls: u32,
    /// Slow calls in the window.
    pub slow_calls: u32,
    /// Slow failed calls in the window.
    pub slow_failed_calls: u32,
    /// Calls rejected since the current state's metrics were created.
    pub not_permitted_calls: u64,
    /// The state, e.g. `"CLOSED"`.
    pub state: String,
}

impl CircuitBreakerDetails {
    /// The details of `breaker` now.
    pub fn of(breaker: &CircuitBreaker) -> Self {
        let metrics = breaker.metrics();
        let config = breaker.config();
        CircuitBreakerDetails {
            failure_rate: percent(metrics.failure_rate().unwrap_or(-1.0)),
            slow_call_rate: percent(metrics.slow_call_rate().unwrap_or(-1.0)),
            failure_rate_threshold: percent(config.failure_rate_threshold()),
            slow_call_rate_threshold: percent(config.slow_call_rate_threshold()),
            buffered_calls: metrics.number_of_buffered_calls(),
            failed_calls: metrics.number_of_failed_calls(),
            slow_calls: metrics.number_of_slow_calls(),
            slow_failed_calls: metrics.number_of_slow_failed_calls(),
            not_permitted_calls: metrics.number_of_not_permitted_calls(),
            state: metrics.state().as_str().to_owned(),
        }
    }
}

/// The states `POST /actuator/circuitbreakers/{name}` can move a breaker to (Resilience4j's
/// `UpdateState`). Read leniently, as Spring Boot's actuator converts strings to enums: case,
/// `_`, `-` and spaces do not matter (`"FORCE_OPEN"`, `"force-open"`, `"forceOpen"`).
///
/// ```
/// use fusebox_runtime::observe::UpdateState;
/// assert_eq!(UpdateState::parse("force-open"), Some(UpdateState::ForceOpen));
/// assert_eq!(UpdateState::parse("OPEN"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UpdateState {
    /// To CLOSED (fresh metrics).
    Close,
    /// To FORCED_OPEN: every call rejected.
    ForceOpen,
    /// To DISABLED: every call permitted, nothing recorded.
    Disable,
}

impl UpdateState {
    /// Every value, in Resilience4j's order.
    pub const ALL: [UpdateState; 3] = [
        UpdateState::Close,
        UpdateState::ForceOpen,
        UpdateState::Disable,
    ];

    /// Spring's lenient reading: letters and digits only, any case.
    pub fn parse(given: &str) -> Option<UpdateState> {
        let canonical: String = given
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        UpdateState::ALL
            .into_iter()
            .find(|s| s.as_str().replace('_', "").to_ascii_lowercase() == canonical)
    }

    /// The name as sent in JSON: `CLOSE`, `FORCE_OPEN`, `DISABLE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UpdateState::Close => "CLOSE",
            UpdateState::ForceOpen => "FORCE_OPEN",
            UpdateState::Disable => "DISABLE",
        }
    }
}

impl<'de> Deserialize<'de> for UpdateState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let given = String::deserialize(deserializer)?;
        UpdateState::parse(&given).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{given}' is not a state to change to; use CLOSE, FORCE_OPEN or DISABLE"
            ))
        })
    }
}

impl fmt::Display for UpdateState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of `POST /actuator/circuitbreakers/{name}`: `{"updateState":"FORCE_OPEN"}` (other
/// keys are ignored, as Spring ignores them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateRequest {
    /// The state to move to.
    pub update_state: UpdateState,
}

/// The answer to a state change (Resilience4j's `CircuitBreakerUpdateStateResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateResponse {
    /// The breaker's name.
    pub circuit_breaker_name: String,
    /// The state after the change, e.g. `"FORCED_OPEN"`.
    pub current_state: String,
    /// `"<name> state has been changed successfully"`.
    pub message: String,
}

/// `GET /actuator/circuitbreakerevents[/{name}[/{eventType}]]` (Resilience4j's
/// `CircuitBreakerEventsEndpointResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreakerEventsResponse {
    /// The events, oldest first.
    pub circuit_breaker_events: Vec<CircuitBreakerEventDto>,
}

/// One event as the endpoint shows it (Resilience4j's `CircuitBreakerEventDTO`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreakerEventDto {
    /// The breaker's name.
    pub circuit_breaker_name: String,
    /// The event type, e.g. `"ERROR"`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened, as Java's `ZonedDateTime.toString()` writes it in the system time zone.
    pub creation_time: String,
    /// Resilience4j's `Throwable.toString()` of ERROR and IGNORED_ERROR events. fusebox's
    /// events carry no error value, so this is always `null`.
    pub error_message: Option<String>,
    /// The call's duration in whole milliseconds (SUCCESS, ERROR, IGNORED_ERROR), else `null`.
    pub duration_in_ms: Option<u64>,
    /// `FROM_TO_TO`, e.g. `"CLOSED_TO_OPEN"` (STATE_TRANSITION), else `null`.
    pub state_transition: Option<String>,
}

impl CircuitBreakerEventDto {
    /// The DTO of `event`.
    pub fn of(event: &CircuitBreakerEvent) -> Self {
        let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let (duration_in_ms, state_transition) = match event.kind {
            EventKind::Success { elapsed }
            | EventKind::Error { elapsed }
            | EventKind::IgnoredError { elapsed } => (Some(millis(elapsed)), None),
            EventKind::StateTransition { from, to } => {
                (None, Some(format!("{}_TO_{}", from.as_str(), to.as_str())))
            }
            EventKind::NotPermitted
            | EventKind::Reset
            | EventKind::FailureRateExceeded { .. }
            | EventKind::SlowCallRateExceeded { .. } => (None, None),
        };
        CircuitBreakerEventDto {
            circuit_breaker_name: event.breaker.to_string(),
            event_type: event.kind.event_type().as_str().to_owned(),
            creation_time: java_zoned_time(event.created_at),
            error_message: None,
            duration_in_ms,
            state_transition,
        }
    }
}
