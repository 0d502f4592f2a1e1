//! Breaker configuration: [`CircuitBreakerConfig`] and its validating builder, with
//! Resilience4j's property names, defaults and rules.
//!
//! Config files (TOML and Spring's `application.yml`) are read by [`crate::config::file`] into
//! the same type.

mod error;
pub mod file;
mod interval;

pub use error::{ConfigError, ConfigErrorKind, Location};
pub use interval::WaitInterval;

use crate::clock::{Clock, ClockSource};
use crate::state::State;
use std::fmt;
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

/// A validated circuit-breaker configuration. Build one with [`CircuitBreakerConfig::builder`];
/// [`Default`] gives Resilience4j's defaults.
///
/// ```
/// use fusebox_runtime::{CircuitBreakerConfig, SlidingWindowType};
/// use std::time::Duration;
///
/// // The course's breaker: 4 % failures over the last 2 calls, 1 s open, 4 s time limit.
/// let config = CircuitBreakerConfig::builder()
///     .failure_rate_threshold(4.0)
///     .wait_duration_in_open_state(Duration::from_secs(1))
///     .sliding_window_type(SlidingWindowType::CountBased)
///     .sliding_window_size(2)
///     .timeout(Duration::from_secs(4))
///     .build()?;
/// assert_eq!(config.sliding_window_size(), 2);
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct CircuitBreakerConfig {
    pub(crate) failure_rate_threshold: f32,
    pub(crate) slow_call_rate_threshold: f32,
    pub(crate) slow_call_duration_threshold: Duration,
    pub(crate) permitted_number_of_calls_in_half_open_state: u32,
    pub(crate) max_wait_duration_in_half_open_state: Duration,
    pub(crate) transition_to_state_after_wait_duration: State,
    pub(crate) sliding_window_type: SlidingWindowType,
    pub(crate) sliding_window_size: u32,
    pub(crate) minimum_number_of_calls: u32,
    pub(crate) wait_interval: WaitInterval,
    pub(crate) automatic_transition_from_open_to_half_open_enabled: bool,
    pub(crate) initial_state: State,
    pub(crate) timeout: Option<Duration>,
    pub(crate) clock: ClockSource,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        Self {
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration_threshold: Duration::from_secs(60),
            permitted_number_of_calls_in_half_open_state: 10,
            max_wait_duration_in_half_open_state: Duration::ZERO,
            transition_to_state_after_wait_duration: State::Open,
            sliding_window_type: SlidingWindowType::CountBased,
            sliding_window_size: 100,
            minimum_number_of_calls: 100,
            wait_interval: WaitInterval::Constant(Duration::from_secs(60)),
            automatic_transition_from_open_to_half_open_enabled: false,
            initial_state: State::Closed,
            timeout: None,
            clock: ClockSource::System,
        }
    }
}

impl fmt::Debug for CircuitBreakerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerConfig")
            .field("failure_rate_threshold", &self.failure_rate_threshold)
            .field("slow_call_rate_threshold", &self.slow_call_rate_threshold)
            .field(
                "slow_call_duration_threshold",
                &self.slow_call_duration_threshold,
            )
            .field(
                "permitted_number_of_calls_in_half_open_state",
                &self.permitted_number_of_calls_in_half_open_state,
            )
            .field(
                "max_wait_duration_in_half_open_state",
                &self.max_wait_duration_in_half_open_state,
            )
            .field(
                "transition_to_state_after_wait_duration",
                &self.transition_to_state_after_wait_duration,
            )
            .field("sliding_window_type", &self.sliding_window_type)
            .field("sliding_window_size", &self.sliding_window_size)
            .field("minimum_number_of_calls", &self.minimum_number_of_calls)
            .field("wait_interval", &self.wait_interval)
            .field(
                "automatic_transition_from_open_to_half_open_enabled",
                &self.automatic_transition_from_open_to_half_open_enabled,
            )
            .field("initial_state", &self.initial_state)
            .field("timeout", &self.timeout)
            .field("clock", &self.clock)
            .finish()
    }
}

/// Two configs are equal when every property is; clocks compare by kind only (system or not).
impl PartialEq for CircuitBreakerConfig {
    fn eq(&self, other: &Self) -> bool {
        self.failure_rate_threshold == other.failure_rate_threshold
            && self.slow_call_rate_threshold == other.slow_call_rate_threshold
            && self.slow_call_duration_threshold == other.slow_call_duration_threshold
            && self.permitted_number_of_calls_in_half_open_state
                == other.permitted_number_of_calls_in_half_open_state
            && self.max_wait_duration_in_half_open_state
                == other.max_wait_duration_in_half_open_state
            && self.transition_to_state_after_wait_duration
                == other.transition_to_state_after_wait_duration
            && self.sliding_window_type == other.sliding_window_type
            && self.sliding_window_size == other.sliding_window_size
            && self.minimum_number_of_calls == other.minimum_number_of_calls
            && self.wait_interval == other.wait_interval
            && self.automatic_transition_from_open_to_half_open_enabled
                == other.automatic_transition_from_open_to_half_open_enabled
            && self.initial_state == other.initial_state
            && self.timeout == other.timeout
            && self.clock.is_manual() == other.clock.is_manual()
    }
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

    /// Failure rate (percent) at or above which the breaker opens. Default 50.
    pub fn failure_rate_threshold(&self) -> f32 {
        self.failure_rate_threshold
    }
    /// Slow-call rate (percent) at or above which the breaker opens. Default 100.
    pub fn slow_call_rate_threshold(&self) -> f32 {
        self.slow_call_rate_threshold
    }
    /// A call is slow when it takes strictly longer than this. Default 60 s.
    pub fn slow_call_duration_threshold(&self) -> Duration {
        self.slow_call_duration_threshold
    }
    /// Probe calls permitted in HALF_OPEN. Default 10.
    pub fn permitted_number_of_calls_in_half_open_state(&self) -> u32 {
        self.permitted_number_of_calls_in_half_open_state
    }
    /// Longest stay in HALF_OPEN before moving to
    /// [`transition_to_state_after_wait_duration`](Self::transition_to_state_after_wait_duration);
    /// zero (the default) means no limit.
    pub fn max_wait_duration_in_half_open_state(&self) -> Duration {
        self.max_wait_duration_in_half_open_state
    }
    /// Where HALF_OPEN goes when its maximum wait ends: OPEN (default) or CLOSED.
    pub fn transition_to_state_after_wait_duration(&self) -> State {
        self.transition_to_state_after_wait_duration
    }
    /// Count- or time-based window. Default count-based.
    pub fn sliding_window_type(&self) -> SlidingWindowType {
        self.sliding_window_type
    }
    /// Calls (count-based) or seconds (time-based) in the window. Default 100.
    pub fn sliding_window_size(&self) -> u32 {
        self.sliding_window_size
    }
    /// Calls needed before rates are computed, as configured. Default 100. A count-based window
    /// uses at most `sliding_window_size` of it, see [`Self::effective_minimum_number_of_calls`].
    pub fn minimum_number_of_calls(&self) -> u32 {
        self.minimum_number_of_calls
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
    /// How long OPEN lasts, by attempt.
    pub fn wait_interval(&self) -> &WaitInterval {
        &self.wait_interval
    }
    /// Whether a timer moves OPEN to HALF_OPEN when the wait ends (otherwise the next call does).
    pub fn automatic_transition_from_open_to_half_open_enabled(&self) -> bool {
        self.automatic_transition_from_open_to_half_open_enabled
    }
    /// The state a new breaker starts in. Default CLOSED.
    pub fn initial_state(&self) -> State {
        self.initial_state
    }
    /// The time limit for guarded async calls; `None` (the default) means no limit.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
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

fn check_percent(key: &str, v: f32) -> Option<ConfigError> {
    (!(v > 0.0 && v <= 100.0)).then(|| ConfigError::invalid(key, v, "must be in (0, 100]"))
}

impl CircuitBreakerConfigBuilder {
    fn fail(&mut self, e: Option<ConfigError>) {
        if let Some(e) = e {
            self.errors.push(e);
        }
    }

    /// Failure rate in percent, in (0, 100].
    pub fn failure_rate_threshold(mut self, percent: f32) -> Self {
        self.fail(check_percent("failure_rate_threshold", percent));
        self.config.failure_rate_threshold = percent;
        self
    }

    /// Slow-call rate in percent, in (0, 100].
    pub fn slow_call_rate_threshold(mut self, percent: f32) -> Self {
        self.fail(check_percent("slow_call_rate_threshold", percent));
        self.config.slow_call_rate_threshold = percent;
        self
    }

    /// Calls longer than this are slow; at least 1 ns.
    pub fn slow_call_duration_threshold(mut self, threshold: Duration) -> Self {
        if threshold.is_zero() {
            self.errors.push(ConfigError::invalid(
                "slow_call_duration_threshold",
                "0s",
                "must be at least 1ns",
            ));
        }
        self.config.slow_call_duration_threshold = threshold;
        self
    }

    /// Count-based or time-based window.
    pub fn sliding_window_type(mut self, kind: SlidingWindowType) -> Self {
        self.config.sliding_window_type = kind;
        self
    }

    /// Window size in calls or seconds; at least 1.
    pub fn sliding_window_size(mut self, size: u32) -> Self {
        if size == 0 {
            self.errors.push(ConfigError::invalid(
                "sliding_window_size",
                size,
                "must be at least 1",
            ));
        }
        self.config.sliding_window_size = size;
        self
    }

    /// Size, minimum and type at once (Resilience4j's `slidingWindow(size, min, type)`).
    pub fn sliding_window(self, size: u32, minimum: u32, kind: SlidingWindowType) -> Self {
        self.sliding_window_size(size)
            .minimum_number_of_calls(minimum)
            .sliding_window_type(kind)
    }

    /// Calls needed before rates count; at least 1.
    pub fn minimum_number_of_calls(mut self, calls: u32) -> Self {
        if calls == 0 {
            self.errors.push(ConfigError::invalid(
                "minimum_number_of_calls",
                calls,
                "must be at least 1",
            ));
        }
        self.config.minimum_number_of_calls = calls;
        self
    }

    /// Probe calls in HALF_OPEN; at least 1.
    pub fn permitted_number_of_calls_in_half_open_state(mut self, calls: u32) -> Self {
        if calls == 0 {
            self.errors.push(ConfigError::invalid(
                "permitted_number_of_calls_in_half_open_state",
                calls,
                "must be at least 1",
            ));
        }
        self.config.permitted_number_of_calls_in_half_open_state = calls;
        self
    }

    /// Longest stay in HALF_OPEN; zero means unlimited, otherwise at least 1 ms.
    pub fn max_wait_duration_in_half_open_state(mut self, wait: Duration) -> Self {
        if !wait.is_zero() && wait < Duration::from_millis(1) {
            self.errors.push(ConfigError::invalid(
                "max_wait_duration_in_half_open_state",
                format!("{wait:?}"),
                "must be 0 (no limit) or at least 1ms",
            ));
        }
        self.config.max_wait_duration_in_half_open_state = wait;
        self
    }

    /// Where HALF_OPEN goes after its maximum wait: [`State::Open`] or [`State::Closed`].
    pub fn transition_to_state_after_wait_duration(mut self, state: State) -> Self {
        if !matches!(state, State::Open | State::Closed) {
            self.errors.push(ConfigError::invalid(
                "transition_to_state_after_wait_duration",
                state,
                "must be OPEN or CLOSED",
            ));
        }
        self.config.transition_to_state_after_wait_duration = state;
        self
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

    /// Whether a timer (on the tokio runtime) moves OPEN to HALF_OPEN after the wait.
    pub fn automatic_transition_from_open_to_half_open_enabled(mut self, enabled: bool) -> Self {
        self.config
            .automatic_transition_from_open_to_half_open_enabled = enabled;
        self
    }

    /// The state a new breaker starts in (any state; OPEN starts its wait at creation).
    pub fn initial_state(mut self, state: State) -> Self {
        self.config.initial_state = state;
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
