//! Spring Boot's health model for breakers and rate limiters: resilience4j-spring-boot3's
//! `CircuitBreakersHealthIndicator` (the `circuitBreakers` component) and
//! `RateLimitersHealthIndicator` (the `rateLimiters` component, mapped in
//! [`rate_limiter_health`](super::rate_limiter_health)), and Spring's `SimpleStatusAggregator`
//! and `SimpleHttpCodeStatusMapper`.
//!
//! | breaker state | status |
//! |---|---|
//! | CLOSED | `UP` |
//! | OPEN | `CIRCUIT_OPEN`, or `DOWN` with `allow_health_indicator_to_fail` |
//! | HALF_OPEN | `CIRCUIT_HALF_OPEN` |
//! | DISABLED, FORCED_OPEN, METRICS_ONLY | `UNKNOWN` |
//!
//! Aggregation keeps only `DOWN`, `OUT_OF_SERVICE`, `UP` and `UNKNOWN`, in that order of
//! precedence, and drops the custom statuses (`CIRCUIT_OPEN`, `CIRCUIT_HALF_OPEN`,
//! `RATE_LIMITED`): OPEN and HALF_OPEN breakers alone give `UNKNOWN`, and next to one CLOSED
//! breaker they give `UP`. No registered breaker gives `UNKNOWN`. The same rule aggregates the
//! components into the overall status: a `DOWN` `rateLimiters` component makes the whole
//! health `DOWN` even when `circuitBreakers` is `UP`. Only `DOWN` and `OUT_OF_SERVICE` answer
//! HTTP 503.
//!
//! **The readiness-probe trap.** With `allow_health_indicator_to_fail`, one OPEN breaker makes
//! the whole health `DOWN` and the endpoint answer 503. Used as a Kubernetes readiness (or,
//! worse, liveness) probe, every pod whose breaker to a shared, failing dependency trips is
//! taken out of service at once (or restarted), turning one dependency's outage into yours.
//! Leave it off unless the breaker guards something without which the pod is truly useless.

use super::format::percent;
use super::rate_limiter_health::{RateLimiterHealth, RateLimiterHealthDetails};
use crate::breaker::CircuitBreaker;
use crate::state::State;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// A health status, with Spring's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HealthStatus {
    /// `UP`.
    Up,
    /// `DOWN`: HTTP 503.
    Down,
    /// `OUT_OF_SERVICE`: HTTP 503.
    OutOfService,
    /// `UNKNOWN`.
    Unknown,
    /// `CIRCUIT_OPEN`: an OPEN breaker that may not fail the health check.
    CircuitOpen,
    /// `CIRCUIT_HALF_OPEN`.
    CircuitHalfOpen,
    /// `RATE_LIMITED`: a rate limiter whose next permit is further away than its timeout, that
    /// may not fail the health check.
    RateLimited,
}

impl HealthStatus {
    /// Spring's code, e.g. `CIRCUIT_OPEN`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Up => "UP",
            HealthStatus::Down => "DOWN",
            HealthStatus::OutOfService => "OUT_OF_SERVICE",
            HealthStatus::Unknown => "UNKNOWN",
            HealthStatus::CircuitOpen => "CIRCUIT_OPEN",
            HealthStatus::CircuitHalfOpen => "CIRCUIT_HALF_OPEN",
            HealthStatus::RateLimited => "RATE_LIMITED",
        }
    }

    /// The HTTP status a health endpoint answers with (Spring's `SimpleHttpCodeStatusMapper`):
    /// 503 for `DOWN` and `OUT_OF_SERVICE`, 200 otherwise.
    pub const fn http_status(self) -> u16 {
        match self {
            HealthStatus::Down | HealthStatus::OutOfService => 503,
            _ => 200,
        }
    }

    /// The status of a breaker in `state` (Resilience4j's `CircuitBreakersHealthIndicator`).
    pub const fn of_state(state: State, allow_health_indicator_to_fail: bool) -> Self {
        match state {
            State::Closed => HealthStatus::Up,
            State::Open if allow_health_indicator_to_fail => HealthStatus::Down,
            State::Open => HealthStatus::CircuitOpen,
            State::HalfOpen => HealthStatus::CircuitHalfOpen,
            State::Disabled | State::ForcedOpen | State::MetricsOnly => HealthStatus::Unknown,
        }
    }

    /// Spring's `SimpleStatusAggregator` with its default order: the first of `DOWN`,
    /// `OUT_OF_SERVICE`, `UP`, `UNKNOWN` present; other statuses are ignored; `UNKNOWN` when
    /// none is left.
    pub fn aggregate(statuses: impl IntoIterator<Item = HealthStatus>) -> HealthStatus {
        const ORDER: [HealthStatus; 4] = [
            HealthStatus::Down,
            HealthStatus::OutOfService,
            HealthStatus::Up,
            HealthStatus::Unknown,
        ];
        statuses
            .into_iter()
            .filter_map(|s| ORDER.iter().position(|o| *o == s))
            .min()
            .map_or(HealthStatus::Unknown, |i| ORDER[i])
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for HealthStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// `GET /actuator/health` with `show-details: always`: the overall status and its components.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Health {
    /// The aggregate of the components.
    pub status: HealthStatus,
    /// The components by name (`circuitBreakers`, `rateLimiters`, `ping`); empty when details
    /// are hidden.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub components: BTreeMap<String, HealthComponent>,
}

impl Health {
    /// The same health with only its status (Spring's `show-details: never`).
    pub fn without_details(&self) -> Health {
        Health {
            status: self.status,
            components: BTreeMap::new(),
        }
    }
}

/// One health component: a status and, for `circuitBreakers` and `rateLimiters`, each
/// registered instance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthComponent {
    /// The component's status.
    pub status: HealthStatus,
    /// The instances by name (`circuitBreakers`, `rateLimiters`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, InstanceHealth>,
}

/// One instance (a breaker or a rate limiter) in a health component: `{"status", "details"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceHealth {
    /// The instance's status.
    pub status: HealthStatus,
    /// Its figures.
    pub details: InstanceHealthDetails,
}

/// The figures of an [`InstanceHealth`], written as the object itself (no wrapper key).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum InstanceHealthDetails {
    /// A breaker's, in `circuitBreakers`.
    CircuitBreaker(BreakerHealthDetails),
    /// A rate limiter's, in `rateLimiters`.
    RateLimiter(RateLimiterHealthDetails),
}

impl From<BreakerHealth> for InstanceHealth {
    fn from(health: BreakerHealth) -> Self {
        InstanceHealth {
            status: health.status,
            details: InstanceHealthDetails::CircuitBreaker(health.details),
        }
    }
}

impl From<RateLimiterHealth> for InstanceHealth {
    fn from(health: RateLimiterHealth) -> Self {
        InstanceHealth {
            status: health.status,
            details: InstanceHealthDetails::RateLimiter(health.details),
        }
    }
}

/// One breaker in the `circuitBreakers` component.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakerHealth {
    /// The breaker's status (see the module's table).
    pub status: HealthStatus,
    /// Its figures, in the indicator's order.
    pub details: BreakerHealthDetails,
}

/// The figures of [`BreakerHealth`], keys and order as Resilience4j's `addDetails`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakerHealthDetails {
    /// e.g. `"20.0%"`, `"-1.0%"` below the minimum number of calls.
    pub failure_rate: String,
    /// e.g. `"50.0%"`.
    pub failure_rate_threshold: String,
    /// e.g. `"-1.0%"`.
    pub slow_call_rate: String,
    /// e.g. `"100.0%"`.
    pub slow_call_rate_threshold: String,
    /// Calls in the window.
    pub buffered_calls: u32,
    /// Slow calls in the window.
    pub slow_calls: u32,
    /// Slow failed calls in the window.
    pub slow_failed_calls: u32,
    /// Failed calls in the window.
    pub failed_calls: u32,
    /// Rejected calls counted by the current state's metrics.
    pub not_permitted_calls: u64,
    /// e.g. `"OPEN"`.
    pub state: String,
}

impl BreakerHealth {
    /// The health of `breaker` now.
    pub fn of(breaker: &CircuitBreaker, allow_health_indicator_to_fail: bool) -> Self {
        let metrics = breaker.metrics();
        let config = breaker.config();
        BreakerHealth {
            status: HealthStatus::of_state(metrics.state(), allow_health_indicator_to_fail),
            details: BreakerHealthDetails {
                failure_rate: percent(metrics.failure_rate().unwrap_or(-1.0)),
                failure_rate_threshold: percent(config.failure_rate_threshold()),
                slow_call_rate: percent(metrics.slow_call_rate().unwrap_or(-1.0)),
                slow_call_rate_threshold: percent(config.slow_call_rate_threshold()),
                buffered_calls: metrics.number_of_buffered_calls(),
                slow_calls: metrics.number_of_slow_calls(),
                slow_failed_calls: metrics.number_of_slow_failed_calls(),
                failed_calls: metrics.number_of_failed_calls(),
                not_permitted_calls: metrics.number_of_not_permitted_calls(),
                state: metrics.state().as_str().to_owned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HealthStatus::{self, *};
    use crate::State;

    #[test]
    fn aggregation_drops_custom_statuses() {
        assert_eq!(HealthStatus::aggregate([]), Unknown);
        assert_eq!(HealthStatus::aggregate([CircuitOpen]), Unknown);
        assert_eq!(
            HealthStatus::aggregate([CircuitOpen, CircuitHalfOpen]),
            Unknown
        );
        assert_eq!(HealthStatus::aggregate([CircuitOpen, Up]), Up);
        assert_eq!(HealthStatus::aggregate([Up, Unknown]), Up);
        assert_eq!(HealthStatus::aggregate([Up, Down, CircuitOpen]), Down);
        assert_eq!(HealthStatus::aggregate([OutOfService, Up]), OutOfService);
        assert_eq!(HealthStatus::aggregate([OutOfService, Down]), Down);
        assert_eq!(HealthStatus::aggregate([RateLimited]), Unknown);
        assert_eq!(HealthStatus::aggregate([RateLimited, Up]), Up);
        assert_eq!(HealthStatus::aggregate([RateLimited, Down]), Down);
    }

    #[test]
    fn states_map_as_the_indicator_maps_them() {
        for allow in [false, true] {
            assert_eq!(HealthStatus::of_state(State::Closed, allow), Up);
            assert_eq!(
                HealthStatus::of_state(State::HalfOpen, allow),
                CircuitHalfOpen
            );
            for s in [State::Disabled, State::ForcedOpen, State::MetricsOnly] {
                assert_eq!(HealthStatus::of_state(s, allow), Unknown);
            }
        }
        assert_eq!(HealthStatus::of_state(State::Open, false), CircuitOpen);
        assert_eq!(HealthStatus::of_state(State::Open, true), Down);
        assert_eq!(Down.http_status(), 503);
        assert_eq!(OutOfService.http_status(), 503);
        for s in [Up, Unknown, CircuitOpen, CircuitHalfOpen, RateLimited] {
            assert_eq!(s.http_status(), 200);
        }
    }
}
