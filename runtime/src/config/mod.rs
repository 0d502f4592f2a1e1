//! Breaker configuration: [`CircuitBreakerConfig`] and its validating builder, with
//! Resilience4j's property names, defaults and rules.
//!
//! Config files (TOML and Spring's `application.yml`) are read by [`crate::config::file`] into
//! the same type.

mod error;
pub mod file;
mod interval;
mod properties;
mod property_macro;
#[cfg(test)]
mod property_tests;

pub use error::{ConfigError, ConfigErrorKind, Location};
pub use interval::WaitInterval;
pub(crate) use interval::{next_random, randomize_millis};
pub use properties::CircuitBreakerConfig;
pub(crate) use property_macro::property_table;
#[cfg(test)]
pub(crate) use property_macro::{FileKey, assert_readme_table, markdown_table};

use crate::clock::{Clock, ClockSource};
use std::time::Duration;

/// How the CLOSED state's sliding window counts calls.
///
/// ```
/// use fusebox_runtime::{CircuitBreakerConfig, SlidingWindowType};
/// // The calls of the last 10 seconds; rates once 5 calls are in the window.
/// let config = CircuitBreakerConfig::builder()
///     .sliding_window(10, 5, SlidingWindowType::TimeBased)
///     .build()?;
/// assert_eq!(config.effective_minimum_number_of_calls(), 5);
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum SlidingWindowType {
    /// The last `sliding_window_size` calls.
    #[default]
    #[serde(alias = "COUNT_BASED", alias = "count_based", alias = "count-based")]
    CountBased,
    /// The calls of the last `sliding_window_size` seconds, in one-second buckets.
    #[serde(alias = "TIME_BASED", alias = "time_based", alias = "time-based")]
    TimeBased,
}

impl CircuitBreakerConfig {
    /// A builder starting from Resilience4j's defaults.
    pub fn builder() -> CircuitBreakerConfigBuilder {
        CircuitBreakerConfigBuilder::from(Self::default())
    }

    /// A builder starting from this config (Resilience4j's `CircuitBreakerConfig.from`).
    pub fn to_builder(&self) -> CircuitBreakerConfigBuilder {
        CircuitBreakerConfigBuilder::from(self.clone())
    }

    /// The minimum the CLOSED window applies: clamped to the window size when count-based
    /// (Resilience4j clamps it the same way), unclamped when time-based.
    pub fn effective_minimum_number_of_calls(&self) -> u32 {
        match self.sliding_window_type {
            SlidingWindowType::CountBased => {
                self.minimum_number_of_calls.min(self.sliding_window_size)
            }
            SlidingWindowType::TimeBased => self.minimum_number_of_calls,
        }
    }
    /// The current time of this config's clock, in nanoseconds since the Unix epoch.
    pub fn now_nanos(&self) -> u64 {
        self.clock.now_nanos()
    }
}

/// Builds a [`CircuitBreakerConfig`]; setters are named after Resilience4j's properties and
/// [`build`](Self::build) checks every rule, reporting the first broken one.
///
/// ```
/// use fusebox_runtime::CircuitBreakerConfig;
/// use std::time::Duration;
///
/// let builder = CircuitBreakerConfig::builder()
///     .sliding_window_size(0)
///     .wait_duration_in_open_state(Duration::from_micros(5));
/// assert_eq!(builder.errors().len(), 2);
/// let first = builder.build().unwrap_err();
/// assert_eq!(first.key(), "sliding_window_size");
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until .build() is called"]
pub struct CircuitBreakerConfigBuilder {
    config: CircuitBreakerConfig,
    errors: Vec<ConfigError>,
    wait_set: u8,
}

impl From<CircuitBreakerConfig> for CircuitBreakerConfigBuilder {
    fn from(config: CircuitBreakerConfig) -> Self {
        Self {
            config,
            errors: Vec::new(),
            wait_set: 0,
        }
    }
}

impl CircuitBreakerConfigBuilder {
    fn fail(&mut self, e: Option<ConfigError>) {
        if let Some(e) = e {
            self.errors.push(e);
        }
    }

    /// Size, minimum and type at once (Resilience4j's `slidingWindow(size, min, type)`).
    pub fn sliding_window(self, size: u32, minimum: u32, kind: SlidingWindowType) -> Self {
        self.sliding_window_size(size)
            .minimum_number_of_calls(minimum)
            .sliding_window_type(kind)
    }

    /// A constant wait in OPEN; at least 1 ms. Cannot be combined with
    /// [`wait_interval_in_open_state`](Self::wait_interval_in_open_state).
    pub fn wait_duration_in_open_state(self, wait: Duration) -> Self {
        self.wait_interval_in_open_state(WaitInterval::Constant(wait))
    }

    /// The wait in OPEN by attempt: constant, exponential or randomized backoff.
    pub fn wait_interval_in_open_state(mut self, interval: WaitInterval) -> Self {
        self.wait_set += 1;
        if self.wait_set == 2 {
            self.errors.push(ConfigError::new(
                "wait_duration_in_open_state",
                ConfigErrorKind::Conflict {
                    message: "the wait in the open state was set twice (a duration and an interval, or one of them twice)".into(),
                },
            ));
        }
        if let Err(e) = interval.validate() {
            self.errors.push(e);
        }
        self.config.wait_interval = interval;
        self
    }

    /// A time limit for guarded async calls (off by default); at least 1 ms.
    pub fn timeout(mut self, limit: Duration) -> Self {
        if limit < Duration::from_millis(1) {
            self.errors.push(ConfigError::invalid(
                "timeout",
                format!("{limit:?}"),
                "must be at least 1ms",
            ));
        }
        self.config.timeout = Some(limit);
        self
    }

    /// No time limit (the default).
    pub fn no_timeout(mut self) -> Self {
        self.config.timeout = None;
        self
    }

    /// The clock for waits, windows and durations ([`crate::ManualClock`] in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.clock = ClockSource::from_clock(clock);
        self
    }

    /// Checks every rule and returns the config, or the first error found.
    pub fn build(self) -> Result<CircuitBreakerConfig, ConfigError> {
        match self.errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(self.config),
        }
    }

    /// Every error found so far (all of them, not only the first).
    pub fn errors(&self) -> &[ConfigError] {
        &self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    #[test]
    fn defaults_are_resilience4j_defaults() {
        let c = CircuitBreakerConfig::default();
        assert_eq!(c.failure_rate_threshold(), 50.0);
        assert_eq!(c.slow_call_rate_threshold(), 100.0);
        assert_eq!(c.slow_call_duration_threshold(), Duration::from_secs(60));
        assert_eq!(c.permitted_number_of_calls_in_half_open_state(), 10);
        assert_eq!(c.sliding_window_size(), 100);
        assert_eq!(c.minimum_number_of_calls(), 100);
        assert_eq!(
            c.wait_interval(),
            &WaitInterval::Constant(Duration::from_secs(60))
        );
        assert_eq!(c.timeout(), None);
        assert_eq!(c.transition_to_state_after_wait_duration(), State::Open);
    }

    #[test]
    fn count_window_clamps_minimum_time_window_does_not() {
        let c = CircuitBreakerConfig::builder()
            .sliding_window_size(5)
            .build()
            .unwrap();
        assert_eq!(c.minimum_number_of_calls(), 100);
        assert_eq!(c.effective_minimum_number_of_calls(), 5);
        let t = c
            .to_builder()
            .sliding_window_type(SlidingWindowType::TimeBased)
            .build()
            .unwrap();
        assert_eq!(t.effective_minimum_number_of_calls(), 100);
    }

    #[test]
    fn each_rule_is_enforced_with_its_key() {
        let cases: Vec<(CircuitBreakerConfigBuilder, &str)> = vec![
            (
                CircuitBreakerConfig::builder().failure_rate_threshold(0.0),
                "failure_rate_threshold",
            ),
            (
                CircuitBreakerConfig::builder().failure_rate_threshold(100.5),
                "failure_rate_threshold",
            ),
            (
                CircuitBreakerConfig::builder().slow_call_rate_threshold(-1.0),
                "slow_call_rate_threshold",
            ),
            (
                CircuitBreakerConfig::builder().failure_rate_threshold(f32::NAN),
                "failure_rate_threshold",
            ),
            (
                CircuitBreakerConfig::builder().slow_call_duration_threshold(Duration::ZERO),
                "slow_call_duration_threshold",
            ),
            (
                CircuitBreakerConfig::builder().sliding_window_size(0),
                "sliding_window_size",
            ),
            (
                CircuitBreakerConfig::builder().minimum_number_of_calls(0),
                "minimum_number_of_calls",
            ),
            (
                CircuitBreakerConfig::builder().permitted_number_of_calls_in_half_open_state(0),
                "permitted_number_of_calls_in_half_open_state",
            ),
            (
                CircuitBreakerConfig::builder()
                    .wait_duration_in_open_state(Duration::from_micros(10)),
                "wait_duration_in_open_state",
            ),
            (
                CircuitBreakerConfig::builder()
                    .max_wait_duration_in_half_open_state(Duration::from_micros(10)),
                "max_wait_duration_in_half_open_state",
            ),
            (
                CircuitBreakerConfig::builder()
                    .transition_to_state_after_wait_duration(State::HalfOpen),
                "transition_to_state_after_wait_duration",
            ),
            (
                CircuitBreakerConfig::builder().timeout(Duration::ZERO),
                "timeout",
            ),
            (
                CircuitBreakerConfig::builder()
                    .wait_duration_in_open_state(Duration::from_secs(1))
                    .wait_interval_in_open_state(WaitInterval::Constant(Duration::from_secs(2))),
                "wait_duration_in_open_state",
            ),
        ];
        for (builder, key) in cases {
            let err = builder.build().expect_err(key);
            assert_eq!(err.key(), key, "{err}");
        }
    }

    #[test]
    fn a_valid_config_builds() {
        let c = CircuitBreakerConfig::builder()
            .failure_rate_threshold(100.0)
            .max_wait_duration_in_half_open_state(Duration::from_millis(1))
            .transition_to_state_after_wait_duration(State::Closed)
            .build()
            .unwrap();
        assert_eq!(c.failure_rate_threshold(), 100.0);
    }
}
