//! [`Metrics`]: a snapshot of a breaker's figures, as Resilience4j's `CircuitBreaker.Metrics`.

use crate::state::State;
use crate::window::Totals;

/// A snapshot of a breaker's current window and counters.
///
/// Rates are `None` while fewer calls than the minimum are buffered (Resilience4j returns -1).
///
/// ```
/// use fusebox_runtime::{CircuitBreakerConfig, Registry};
/// use std::time::Duration;
///
/// let config = CircuitBreakerConfig::builder().sliding_window_size(2).build()?;
/// let breaker = Registry::new().circuit_breaker_with_config("orders", config);
/// breaker.on_success(Duration::from_millis(3));
/// assert_eq!(breaker.metrics().failure_rate(), None); // 1 of 2 calls buffered
/// breaker.on_error(Duration::from_millis(3));
/// assert_eq!(breaker.metrics().failure_rate(), Some(50.0));
/// assert_eq!(breaker.metrics().number_of_buffered_calls(), 2);
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    pub(crate) state: State,
    pub(crate) totals: Totals,
    pub(crate) minimum: u32,
    pub(crate) not_permitted: u64,
}

impl Metrics {
    /// The state when the snapshot was taken.
    pub fn state(&self) -> State {
        self.state
    }

    fn computable(&self) -> bool {
        self.totals.calls != 0 && self.totals.calls >= self.minimum
    }

    /// Failed calls in percent of buffered calls; `None` below the minimum number of calls.
    pub fn failure_rate(&self) -> Option<f32> {
        self.computable().then(|| self.totals.failure_rate())
    }

    /// Slow calls in percent of buffered calls; `None` below the minimum number of calls.
    pub fn slow_call_rate(&self) -> Option<f32> {
        self.computable().then(|| self.totals.slow_call_rate())
    }

    /// Calls in the window.
    pub fn number_of_buffered_calls(&self) -> u32 {
        self.totals.calls
    }

    /// Failed calls in the window.
    pub fn number_of_failed_calls(&self) -> u32 {
        self.totals.failed
    }

    /// Successful calls in the window (slow successes included).
    pub fn number_of_successful_calls(&self) -> u32 {
        self.totals.calls - self.totals.failed
    }

    /// Slow calls in the window (successful or failed).
    pub fn number_of_slow_calls(&self) -> u32 {
        self.totals.slow
    }

    /// Slow successful calls in the window.
    pub fn number_of_slow_successful_calls(&self) -> u32 {
        self.totals.slow - self.totals.slow_failed
    }

    /// Slow failed calls in the window.
    pub fn number_of_slow_failed_calls(&self) -> u32 {
        self.totals.slow_failed
    }

    /// Calls rejected since the current metrics were created (OPEN keeps counting on the
    /// metrics it inherited, as in Resilience4j).
    pub fn number_of_not_permitted_calls(&self) -> u64 {
        self.not_permitted
    }
}
