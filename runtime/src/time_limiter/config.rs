//! [`TimeLimiterConfig`]: Resilience4j's `TimeLimiterConfig`, plus the events endpoint's buffer.

use crate::config::ConfigError;
use std::time::Duration;

/// Resilience4j's default `timeoutDuration`: 1 s.
pub const DEFAULT_TIMEOUT_DURATION: Duration = Duration::from_secs(1);

/// A time limiter's settings (Resilience4j's `TimeLimiterConfig`).
///
/// ```
/// use fusebox_runtime::time_limiter::TimeLimiterConfig;
/// use std::time::Duration;
///
/// let config = TimeLimiterConfig::builder()
///     .timeout_duration(Duration::from_millis(250))
///     .build()?;
/// assert_eq!(config.timeout_duration(), Duration::from_millis(250));
/// assert!(config.cancel_running_future());
/// assert_eq!(TimeLimiterConfig::default().timeout_duration(), Duration::from_secs(1));
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeLimiterConfig {
    pub(crate) timeout_duration: Duration,
    pub(crate) cancel_running_future: bool,
    pub(crate) event_consumer_buffer_size: u32,
}

impl Default for TimeLimiterConfig {
    fn default() -> Self {
        Self {
            timeout_duration: DEFAULT_TIMEOUT_DURATION,
            cancel_running_future: true,
            event_consumer_buffer_size: 100,
        }
    }
}

impl TimeLimiterConfig {
    /// A builder starting from Resilience4j's defaults.
    pub fn builder() -> TimeLimiterConfigBuilder {
        TimeLimiterConfigBuilder {
            config: Self::default(),
        }
    }

    /// How long a call may take (Resilience4j's `timeoutDuration`). Default 1 s.
    pub fn timeout_duration(&self) -> Duration {
        self.timeout_duration
    }

    /// Whether a call that runs elsewhere (a spawned task, see
    /// [`TimeLimiter::call_spawned`](super::TimeLimiter::call_spawned)) is cancelled when it
    /// times out (Resilience4j's `cancelRunningFuture`). Default true. A future awaited in place
    /// by [`TimeLimiter::call`](super::TimeLimiter::call) is always dropped on timeout: it is
    /// part of the caller's own future, and nothing would poll it once the caller returned.
    pub fn cancel_running_future(&self) -> bool {
        self.cancel_running_future
    }

    /// How many of the time limiter's last events the events endpoint keeps (Resilience4j's
    /// `eventConsumerBufferSize`). Default 100.
    pub fn event_consumer_buffer_size(&self) -> u32 {
        self.event_consumer_buffer_size
    }
}

/// Builds a [`TimeLimiterConfig`], checking each value.
#[derive(Clone, Debug)]
pub struct TimeLimiterConfigBuilder {
    config: TimeLimiterConfig,
}

impl TimeLimiterConfigBuilder {
    /// How long a call may take. Zero is allowed, as in Resilience4j: a call that is not ready
    /// at its first poll times out.
    pub fn timeout_duration(mut self, timeout: Duration) -> Self {
        self.config.timeout_duration = timeout;
        self
    }

    /// Whether a spawned call is cancelled when it times out.
    pub fn cancel_running_future(mut self, cancel: bool) -> Self {
        self.config.cancel_running_future = cancel;
        self
    }

    /// Events kept for the events endpoint; at least 1.
    pub fn event_consumer_buffer_size(mut self, size: u32) -> Self {
        self.config.event_consumer_buffer_size = size;
        self
    }

    /// The config, or an error naming the first invalid value.
    pub fn build(self) -> Result<TimeLimiterConfig, ConfigError> {
        if self.config.event_consumer_buffer_size == 0 {
            return Err(ConfigError::invalid(
                "event_consumer_buffer_size",
                0,
                "must be at least 1",
            ));
        }
        Ok(self.config)
    }
}
