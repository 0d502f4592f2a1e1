//! [`RateLimiterConfigBuilder`] and what a [`RateLimiterConfig`] holds besides its properties:
//! the drain predicate, the clock and the sleeper.

use super::RateLimiterConfig;
use crate::clock::{Clock, ClockSource};
use crate::config::ConfigError;
use crate::retry::{Sleeper, SleeperSource};
use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Resilience4j's `drainPermissionsOnResult`: a predicate on a call's `Result<T, E>`, erased; it
/// answers `false` for calls of other types.
#[derive(Clone, Default)]
pub(crate) struct DrainPredicate(Option<ErasedPredicate>);

/// A predicate on a `&Result<T, E>` seen as `&dyn Any`.
type ErasedPredicate = Arc<dyn Fn(&dyn Any) -> bool + Send + Sync>;

impl DrainPredicate {
    /// Whether the call's `result` drains the limiter (never without a predicate).
    #[inline]
    pub(crate) fn drains(&self, result: &dyn Any) -> bool {
        self.0.as_ref().is_some_and(|p| p(result))
    }

    /// Whether there is a predicate (the call skips the check otherwise).
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.0.is_some()
    }
}

impl fmt::Debug for DrainPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(..)" } else { "None" })
    }
}

/// Predicates compare by identity.
impl PartialEq for DrainPredicate {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// The rate limiter's clock: the one set with
/// [`RateLimiterConfigBuilder::clock`], else chosen by the refresh period (see
/// [`LimiterClock::resolve`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct LimiterClock(Option<ClockSource>);

/// The shortest refresh period the default clock reads from [`SystemClock`](crate::SystemClock)'s
/// 1 ms tick: a refresh seen up to 1 ms late is then at most 1 % of a cycle.
pub(crate) const TICK_FROM_PERIOD: Duration = Duration::from_millis(100);

impl LimiterClock {
    /// The clock a limiter with `period` reads: the one set, else the 1 ms tick for periods of
    /// at least [`TICK_FROM_PERIOD`] (one atomic load per acquire; a refresh is seen up to 1 ms
    /// late, never early, and waits are on tokio's 1 ms timer anyway), else the precise clock
    /// read per acquire, as Resilience4j reads `System.nanoTime()` (through the CPU's counter
    /// with feature `fast-clock`: see `time.rs`).
    pub(crate) fn resolve(&self, period: Duration) -> ClockSource {
        match &self.0 {
            Some(clock) => clock.clone(),
            None if period >= TICK_FROM_PERIOD => ClockSource::System,
            None => ClockSource::Precise,
        }
    }

    /// Whether a manual or custom clock was set.
    #[cfg(test)]
    pub(crate) fn is_manual(&self) -> bool {
        self.0.as_ref().is_some_and(ClockSource::is_manual)
    }
}

/// Clocks compare by kind (chosen by the period, built-in, or manual/custom).
impl PartialEq for LimiterClock {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => a.is_manual() == b.is_manual(),
            _ => false,
        }
    }
}

/// Builds a [`RateLimiterConfig`], checking each value as Resilience4j's
/// `RateLimiterConfig.Builder` does; the first broken rule is the error of
/// [`build`](Self::build).
#[derive(Clone, Debug, Default)]
pub struct RateLimiterConfigBuilder {
    pub(crate) config: RateLimiterConfig,
    error: Option<ConfigError>,
}

impl RateLimiterConfig {
    /// A builder starting from Resilience4j's defaults.
    pub fn builder() -> RateLimiterConfigBuilder {
        RateLimiterConfigBuilder::default()
    }

    /// A builder starting from this config (Resilience4j's `RateLimiterConfig.from`).
    pub fn to_builder(&self) -> RateLimiterConfigBuilder {
        RateLimiterConfigBuilder {
            config: self.clone(),
            error: None,
        }
    }

    pub(crate) fn drain(&self) -> &DrainPredicate {
        &self.drain
    }

    pub(crate) fn clock(&self) -> &LimiterClock {
        &self.clock
    }

    pub(crate) fn sleeper(&self) -> &SleeperSource {
        &self.sleeper
    }
}

impl RateLimiterConfigBuilder {
    pub(crate) fn fail(&mut self, e: Option<ConfigError>) {
        if self.error.is_none() {
            self.error = e;
        }
    }

    /// Drain the permissions left in the cycle after a call whose `Result<T, E>` matches
    /// `predicate` (Resilience4j's `drainPermissionsOnResult`), e.g. when the service says
    /// "too many requests" despite the limiter. Calls of other result types never drain.
    pub fn drain_permissions_on_result<T: 'static, E: 'static>(
        mut self,
        predicate: impl Fn(&Result<T, E>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.config.drain = DrainPredicate(Some(Arc::new(move |r: &dyn Any| {
            r.downcast_ref::<Result<T, E>>().is_some_and(&predicate)
        })));
        self
    }

    /// The clock that cycles are counted on. By default: [`SystemClock`](crate::SystemClock)'s
    /// 1 ms tick (one atomic load) for refresh periods of 100 ms and more, where a refresh seen
    /// up to 1 ms late (never early) is at most 1 % of a cycle; the precise clock read per
    /// acquire ([`PreciseClock`](crate::PreciseClock), as Resilience4j reads
    /// `System.nanoTime()`) for shorter periods. With the default feature `fast-clock` a rate
    /// limiter reads [`PreciseClock`](crate::PreciseClock)'s time through the CPU's counter
    /// (`quanta`, what `governor` reads: about half the cost of an OS clock read), calibrated
    /// once per process on a thread of its own (0.5–200 ms; the OS monotonic clock is read until
    /// then). A [`ManualClock`](crate::ManualClock) makes tests exact.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.clock = LimiterClock(Some(ClockSource::from_clock(clock)));
        self
    }

    /// How a caller waits for a reserved permission (default tokio's timer); a
    /// [`ManualClock`](crate::ManualClock) advances itself by the wait instead.
    pub fn sleeper(mut self, sleeper: impl Sleeper) -> Self {
        self.config.sleeper = SleeperSource::Custom(Arc::new(sleeper));
        self
    }

    /// The config, or the first rule a value broke.
    pub fn build(self) -> Result<RateLimiterConfig, ConfigError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.config),
        }
    }
}

/// The rules builder setters check (Resilience4j's `RateLimiterConfig` checks).
pub(crate) mod rules {
    use crate::config::ConfigError;
    use std::time::Duration;

    /// Java's `Duration.toNanos()` must not overflow a `long`.
    fn fits_long_nanos(key: &'static str, d: Duration) -> Option<ConfigError> {
        (d.as_nanos() > i64::MAX as u128).then(|| {
            ConfigError::invalid(
                key,
                format!("{d:?}"),
                "must be at most 9223372036854775807 ns (about 292 years)",
            )
        })
    }

    /// `limitRefreshPeriod`: at least 1 ns ("LimitRefreshPeriod is too short").
    pub(crate) fn refresh_period(key: &'static str, d: Duration) -> Option<ConfigError> {
        if d < Duration::from_nanos(1) {
            return Some(ConfigError::invalid(
                key,
                format!("{d:?}"),
                "must be at least 1ns",
            ));
        }
        fits_long_nanos(key, d)
    }

    /// `timeoutDuration`: zero or more, within a `long` of nanoseconds.
    pub(crate) fn timeout(key: &'static str, d: Duration) -> Option<ConfigError> {
        fits_long_nanos(key, d)
    }

    /// `limitForPeriod`: a positive Java `int` ("LimitForPeriod should be greater than 0").
    pub(crate) fn limit(key: &'static str, v: u32) -> Option<ConfigError> {
        (v == 0 || v > i32::MAX as u32)
            .then(|| ConfigError::invalid(key, v, "must be in [1, 2147483647]"))
    }

    /// A count of at least 1.
    pub(crate) fn at_least_one(key: &'static str, v: u32) -> Option<ConfigError> {
        (v == 0).then(|| ConfigError::invalid(key, v, "must be at least 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_resilience4j_s() {
        let c = RateLimiterConfig::default();
        assert_eq!(c.limit_refresh_period(), Duration::from_nanos(500));
        assert_eq!(c.limit_for_period(), 50);
        assert_eq!(c.timeout_duration(), Duration::from_secs(5));
        assert!(!c.subscribe_for_events());
        assert!(!c.register_health_indicator());
        assert!(!c.allow_health_indicator_to_fail());
        assert_eq!(c.event_consumer_buffer_size(), 100);
        assert!(!c.drain().is_set());
        assert!(!c.clock().is_manual());
        // The default clock follows the period.
        assert!(matches!(
            c.clock().resolve(Duration::from_nanos(500)),
            ClockSource::Precise
        ));
        assert!(matches!(
            c.clock().resolve(Duration::from_secs(1)),
            ClockSource::System
        ));
        let manual = RateLimiterConfig::builder()
            .clock(crate::ManualClock::new())
            .build()
            .unwrap();
        assert!(manual.clock().resolve(Duration::from_secs(1)).is_manual());
    }

    #[test]
    fn invalid_values_are_rejected_with_their_key() {
        let e = RateLimiterConfig::builder()
            .limit_for_period(0)
            .build()
            .unwrap_err();
        assert_eq!(e.key(), "limit_for_period");
        assert!(e.to_string().contains("[1, 2147483647]"), "{e}");
        let e = RateLimiterConfig::builder()
            .limit_for_period(1 << 31)
            .build()
            .unwrap_err();
        assert_eq!(e.key(), "limit_for_period");
        let e = RateLimiterConfig::builder()
            .limit_refresh_period(Duration::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(e.key(), "limit_refresh_period");
        assert!(e.to_string().contains("at least 1ns"), "{e}");
        let e = RateLimiterConfig::builder()
            .timeout_duration(Duration::from_secs(u64::MAX))
            .build()
            .unwrap_err();
        assert_eq!(e.key(), "timeout_duration");
        let e = RateLimiterConfig::builder()
            .event_consumer_buffer_size(0)
            .build()
            .unwrap_err();
        assert_eq!(e.key(), "event_consumer_buffer_size");
        // The first broken rule wins.
        let e = RateLimiterConfig::builder()
            .limit_for_period(0)
            .limit_refresh_period(Duration::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(e.key(), "limit_for_period");
        assert!(
            RateLimiterConfig::builder()
                .timeout_duration(Duration::ZERO)
                .limit_refresh_period(Duration::from_nanos(1))
                .build()
                .is_ok()
        );
    }

    #[test]
    fn the_drain_predicate_sees_only_its_result_type() {
        let c = RateLimiterConfig::builder()
            .drain_permissions_on_result(|r: &Result<u16, String>| matches!(r, Ok(429)))
            .build()
            .unwrap();
        assert!(c.drain().drains(&Ok::<u16, String>(429)));
        assert!(!c.drain().drains(&Ok::<u16, String>(200)));
        assert!(!c.drain().drains(&Ok::<u32, String>(429)));
        assert_eq!(c, c.clone());
        assert_ne!(c, RateLimiterConfig::default());
    }
}
