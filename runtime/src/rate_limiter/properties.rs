//! Every rate limiter property (interim hand-written form; replaced by a `property_table!`
//! declaration once the shared table macro lands).

use super::config::{DrainPredicate, LimiterClock, RateLimiterConfigBuilder, rules};
use crate::retry::SleeperSource;
use std::time::Duration;

/// A validated rate limiter configuration (Resilience4j's `RateLimiterConfig`). Build one with
/// [`RateLimiterConfig::builder`]; [`Default`] gives Resilience4j's defaults: 50 permits per
/// 500 ns cycle, a 5 s timeout.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimiterConfig {
    pub(crate) limit_refresh_period: Duration,
    pub(crate) limit_for_period: u32,
    pub(crate) timeout_duration: Duration,
    pub(crate) subscribe_for_events: bool,
    pub(crate) register_health_indicator: bool,
    pub(crate) allow_health_indicator_to_fail: bool,
    pub(crate) event_consumer_buffer_size: u32,
    pub(crate) drain: DrainPredicate,
    pub(crate) clock: LimiterClock,
    pub(crate) sleeper: SleeperSource,
}

impl Default for RateLimiterConfig {
    fn default() -> Self {
        Self {
            limit_refresh_period: Duration::from_nanos(500),
            limit_for_period: 50,
            timeout_duration: Duration::from_secs(5),
            subscribe_for_events: false,
            register_health_indicator: false,
            allow_health_indicator_to_fail: false,
            event_consumer_buffer_size: 100,
            drain: DrainPredicate::default(),
            clock: LimiterClock::default(),
            sleeper: SleeperSource::default(),
        }
    }
}

impl RateLimiterConfig {
    /// The cycle length (`limitRefreshPeriod`). Default 500 ns.
    pub fn limit_refresh_period(&self) -> Duration {
        self.limit_refresh_period
    }
    /// Permissions per cycle (`limitForPeriod`). Default 50.
    pub fn limit_for_period(&self) -> u32 {
        self.limit_for_period
    }
    /// The longest a caller waits for a permission (`timeoutDuration`). Default 5 s.
    pub fn timeout_duration(&self) -> Duration {
        self.timeout_duration
    }
    /// Whether the events endpoint keeps this limiter's events (`subscribeForEvents`).
    pub fn subscribe_for_events(&self) -> bool {
        self.subscribe_for_events
    }
    /// Whether the limiter appears in the `rateLimiters` health component.
    pub fn register_health_indicator(&self) -> bool {
        self.register_health_indicator
    }
    /// Whether `RATE_LIMITED` health is reported as `DOWN`.
    pub fn allow_health_indicator_to_fail(&self) -> bool {
        self.allow_health_indicator_to_fail
    }
    /// Events kept for the events endpoint.
    pub fn event_consumer_buffer_size(&self) -> u32 {
        self.event_consumer_buffer_size
    }
}

impl RateLimiterConfigBuilder {
    /// The cycle length; at least 1 ns.
    pub fn limit_refresh_period(mut self, period: Duration) -> Self {
        self.fail(rules::refresh_period("limit_refresh_period", period));
        self.config.limit_refresh_period = period;
        self
    }
    /// Permissions per cycle; in [1, 2147483647].
    pub fn limit_for_period(mut self, limit: u32) -> Self {
        self.fail(rules::limit("limit_for_period", limit));
        self.config.limit_for_period = limit;
        self
    }
    /// The longest a caller waits for a permission; zero rejects at once.
    pub fn timeout_duration(mut self, timeout: Duration) -> Self {
        self.fail(rules::timeout("timeout_duration", timeout));
        self.config.timeout_duration = timeout;
        self
    }
    /// Whether the events endpoint keeps this limiter's events.
    pub fn subscribe_for_events(mut self, subscribe: bool) -> Self {
        self.config.subscribe_for_events = subscribe;
        self
    }
    /// Whether the limiter appears in the `rateLimiters` health component.
    pub fn register_health_indicator(mut self, register: bool) -> Self {
        self.config.register_health_indicator = register;
        self
    }
    /// Whether `RATE_LIMITED` health is reported as `DOWN`.
    pub fn allow_health_indicator_to_fail(mut self, allow: bool) -> Self {
        self.config.allow_health_indicator_to_fail = allow;
        self
    }
    /// Events kept for the events endpoint; at least 1.
    pub fn event_consumer_buffer_size(mut self, size: u32) -> Self {
        self.fail(rules::at_least_one("event_consumer_buffer_size", size));
        self.config.event_consumer_buffer_size = size;
        self
    }
}
