//! Operating breakers in production: Resilience4j's metrics, actuator endpoints and health.
//!
//! A [`Monitor`] watches a [`Registry`](crate::Registry) (its breakers now and later) and
//! answers what a team running Resilience4j under Spring Boot looks at:
//!
//! | what | [`Monitor`] method | HTTP (feature `actuator`: `observe::actuator::Actuator`) |
//! |---|---|---|
//! | Micrometer's meters in Prometheus text | [`prometheus`](Monitor::prometheus) | `GET /actuator/prometheus` |
//! | every breaker's figures | [`circuit_breakers`](Monitor::circuit_breakers) | `GET /actuator/circuitbreakers` |
//! | one breaker's figures | [`circuit_breaker`](Monitor::circuit_breaker) | `GET /actuator/circuitbreakers/{name}` |
//! | force a state by hand | [`update_state`](Monitor::update_state) | `POST /actuator/circuitbreakers/{name}` |
//! | the last events | [`events`](Monitor::events), [`events_of`](Monitor::events_of) | `GET /actuator/circuitbreakerevents[/{name}[/{eventType}]]` |
//! | health | [`health`](Monitor::health) | `GET /actuator/health[/{component}]` |
//! | retry names | [`retries`](Monitor::retries) | `GET /actuator/retries` |
//! | retry events | [`retry_events`](Monitor::retry_events), [`retry_events_of`](Monitor::retry_events_of) | `GET /actuator/retryevents[/{name}[/{eventType}]]` |
//! | time limiter names | [`time_limiters`](Monitor::time_limiters) | `GET /actuator/timelimiters` |
//! | time limiter events | [`time_limiter_events`](Monitor::time_limiter_events), [`time_limiter_events_of`](Monitor::time_limiter_events_of) | `GET /actuator/timelimiterevents[/{name}[/{eventType}]]` |
//! | rate limiter names | [`rate_limiters`](Monitor::rate_limiters) | `GET /actuator/ratelimiters` |
//! | rate limiter events | [`rate_limiter_events`](Monitor::rate_limiter_events), [`rate_limiter_events_of`](Monitor::rate_limiter_events_of) | `GET /actuator/ratelimiterevents[/{name}[/{eventType}]]` |
//! | rate limiter health | [`rate_limiters_health`](Monitor::rate_limiters_health) | `GET /actuator/health/rateLimiters` |
//! | bulkhead names | [`bulkheads`](Monitor::bulkheads) | `GET /actuator/bulkheads` |
//! | bulkhead events | [`bulkhead_events`](Monitor::bulkhead_events), [`bulkhead_events_of`](Monitor::bulkhead_events_of) | `GET /actuator/bulkheadevents[/{name}[/{eventType}]]` |
//!
//! # Which exposition to pick
//!
//! * **Scraped by Prometheus, dashboards built for Resilience4j:** serve
//!   [`Monitor::prometheus`] (or the `actuator` router's `/actuator/prometheus`). It is rendered
//!   at scrape time from the registry, with exactly resilience4j-micrometer's series names,
//!   labels, `# HELP`/`# TYPE` lines and value formats, so the official Grafana dashboard and
//!   existing alerts work unchanged; add the `application` tag they select on in the config
//!   file (`[tags]`, or Spring's `management.metrics.tags.application`, see [`Registry::tags`](crate::Registry::tags))
//!   or with [`MonitorBuilder::tag`]. This is the exposition to pick when fusebox's breakers are the
//!   only thing (or the first thing) your service exports.
//! * **Your service already runs a `metrics`-crate exporter** (e.g. `metrics-exporter-prometheus`)
//!   and you want one endpoint: enable the `metrics` feature and call
//!   `observe::metrics_facade::publish(&monitor)` before each render (or let
//!   `metrics_facade::spawn_publisher` publish periodically). It sets gauges and absolute
//!   counters under the dotted forms of the same names, with the same labels, so the exporter
//!   renders the same series names; the calls timer's `_count`/`_sum` come out typed `gauge`
//!   rather than `summary`, and values are as fresh as the last publish. Nothing is added to
//!   the call path either way.
//! * **Humans and runbooks:** the JSON endpoints, same paths and bodies as
//!   resilience4j-spring-boot3.
//!
//! # Series
//!
//! Resilience4j's (see [`prometheus`] for the exact format): `resilience4j_circuitbreaker_state
//! {name,state}` (a 0/1 gauge per state), `_buffered_calls{kind,name}`, `_slow_calls{kind,name}`,
//! `_failure_rate{name}` and `_slow_call_rate{name}` (-1 below the minimum number of calls),
//! `_calls_seconds_count|_sum|_max{kind="successful|failed|ignored",name}`,
//! `_not_permitted_calls_total{kind="not_permitted",name}`, and for breakers with a `timeout`,
//! `resilience4j_timelimiter_calls_total{kind="successful|failed|timeout",name}` (also written
//! for the registry's [`TimeLimiter`](crate::time_limiter::TimeLimiter)s, a breaker and a time
//! limiter of one name adding into one series), and for the registry's
//! [`Retry`](crate::retry::Retry)s `resilience4j_retry_calls_total{kind="successful_without_retry|
//! successful_with_retry|failed_without_retry|failed_with_retry",name}`, read from their
//! counters at render time (`observe/retry.rs`, `observe/time_limiter.rs`), and for the
//! registry's [`RateLimiter`](crate::rate_limiter::RateLimiter)s the gauges
//! `resilience4j_ratelimiter_available_permissions{name}` and
//! `resilience4j_ratelimiter_waiting_threads{name}`, read from the limiter's state
//! (`observe/rate_limiter.rs`), and for the registry's [`Bulkhead`](crate::bulkhead::Bulkhead)s
//! the gauges `resilience4j_bulkhead_available_concurrent_calls{name}` and
//! `resilience4j_bulkhead_max_allowed_concurrent_calls{name}` (`observe/bulkhead.rs`). The calls
//! timer, the not-permitted counter, the time limiter's counters and the transitions are read at
//! render time from each breaker's [`CallStats`](crate::CallStats), which count what
//! Resilience4j's events would (so nothing is counted while DISABLED or FORCED_OPEN), exactly
//! and from the breaker's creation, with Micrometer's decaying `_max` (80–120 s) on the
//! breaker's clock. A breaker whose config turns them off (`call_stats_enabled = false`; on by
//! default) has none of these series.
//!
//! fusebox's own, documented as such in their `# HELP` (never changing the series above):
//! `fusebox_circuitbreaker_transitions_total{from,name,to}` (an OPEN shorter than the scrape
//! interval never shows in the state gauge; Resilience4j #1109, #164),
//! `fusebox_circuitbreaker_rejected_calls_total{name,reason="open|half_open"}`, and
//! `fusebox_circuitbreaker_monitor_dropped_events_total{name}`.
//!
//! # Cost on the call path
//!
//! Reading call stats costs the breaker nothing beyond keeping them (one uncontended atomic add
//! per healthy call). The monitor still subscribes to each breaker's events, for the event
//! buffer (`/actuator/circuitbreakerevents`) and the rejections by reason, but by default not to
//! SUCCESS events ([`CircuitBreaker::subscribe_except_successes`](crate::CircuitBreaker::subscribe_except_successes)),
//! so healthy calls keep the breaker's lock-free fast path. **Deviation from Resilience4j:** the
//! event buffers hold no SUCCESS events unless [`MonitorBuilder::success_events`] turns them on
//! (Spring-exact lists, at the price of every success taking the breaker's lock and queueing an
//! event).

mod bulkhead;
mod entries;
mod format;
pub mod health;
mod model;
mod monitor;
pub mod prometheus;
mod rate_limiter;
pub mod rate_limiter_health;
mod retry;
mod tap;
mod time_limiter;

#[cfg(feature = "actuator")]
pub mod actuator;

#[cfg(feature = "metrics")]
pub mod metrics_facade;

pub use bulkhead::{
    BULKHEAD_EVENT_TYPES, BulkheadEventDto, BulkheadEventsResponse, BulkheadsResponse,
};
pub use entries::EntryEventsError;
pub use health::{
    BreakerHealth, BreakerHealthDetails, Health, HealthComponent, HealthStatus, InstanceHealth,
    InstanceHealthDetails,
};
pub use model::{
    CircuitBreakerDetails, CircuitBreakerEventDto, CircuitBreakerEventsResponse,
    CircuitBreakersResponse, UpdateState, UpdateStateRequest, UpdateStateResponse,
};
pub use monitor::{EVENT_TYPE_NAMES, EventsError, Monitor, MonitorBuilder, MonitorError};
pub use rate_limiter::{
    RATE_LIMITER_EVENT_TYPES, RateLimiterEventDto, RateLimiterEventsResponse, RateLimitersResponse,
};
pub use retry::{RETRY_EVENT_TYPES, RetriesResponse, RetryEventDto, RetryEventsResponse};
pub use time_limiter::{
    TIME_LIMITER_EVENT_TYPES, TimeLimiterEventDto, TimeLimiterEventsResponse, TimeLimitersResponse,
};
