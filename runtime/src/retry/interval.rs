//! [`RetryInterval`]: the wait before each retry, by attempt (Resilience4j's `IntervalFunction`,
//! with its exact formulas).

use crate::config::ConfigError;
use crate::config::randomize_millis as randomize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Resilience4j's `IntervalFunction.DEFAULT_INITIAL_INTERVAL`: 500 ms.
pub const DEFAULT_WAIT: Duration = Duration::from_millis(500);
/// Resilience4j's `IntervalFunction.DEFAULT_MULTIPLIER`.
pub const DEFAULT_MULTIPLIER: f64 = 1.5;
/// Resilience4j's `IntervalFunction.DEFAULT_RANDOMIZATION_FACTOR`.
pub const DEFAULT_RANDOMIZATION_FACTOR: f64 = 0.5;

/// A custom interval function: the wait after failed attempt `n` (1-based), or `None` to stop
/// retrying (Resilience4j's negative interval).
pub type IntervalFn = dyn Fn(u32) -> Option<Duration> + Send + Sync;

/// The wait after failed attempt `n` (1 for the first attempt), as Resilience4j's
/// `IntervalFunction`. All arithmetic is Resilience4j's: whole milliseconds, each exponential
/// step truncated (`(long) (x * multiplier)`), randomization `max(1, x − f·x + r·(2f·x + 1))`
/// truncated, the maximum applied last.
///
/// ```
/// use fusebox_runtime::retry::RetryInterval;
/// use std::time::Duration;
/// let backoff = RetryInterval::Exponential {
///     initial: Duration::from_millis(500),
///     multiplier: 1.5,
///     max: Some(Duration::from_secs(1)),
/// };
/// let waits: Vec<u128> = (1..=4).map(|n| backoff.wait(n).unwrap().as_millis()).collect();
/// assert_eq!(waits, [500, 750, 1000, 1000]);
/// ```
#[derive(Clone)]
pub enum RetryInterval {
    /// The same wait every time (`waitDuration`; zero is allowed, as Resilience4j's builder
    /// allows it).
    Fixed(Duration),
    /// `initial · multiplier^(n−1)`, truncated to whole milliseconds at each step, then capped at
    /// `max` (`IntervalFunction.ofExponentialBackoff`).
    Exponential {
        /// The first wait; at least 1 ms.
        initial: Duration,
        /// Growth factor per attempt; finite and above 0.
        multiplier: f64,
        /// The longest wait, if any; at least 1 ms.
        max: Option<Duration>,
    },
    /// `interval` randomized by ± `factor` (`IntervalFunction.ofRandomized`).
    Randomized {
        /// The mean wait; at least 1 ms.
        interval: Duration,
        /// The spread, in `[0, 1]`.
        factor: f64,
    },
    /// Exponential backoff with each wait randomized, then capped at `max`
    /// (`IntervalFunction.ofExponentialRandomBackoff`).
    ExponentialRandom {
        /// The first (mean) wait; at least 1 ms.
        initial: Duration,
        /// Growth factor per attempt; finite and above 0.
        multiplier: f64,
        /// The spread, in `[0, 1]`.
        factor: f64,
        /// The longest wait, if any; at least 1 ms.
        max: Option<Duration>,
    },
    /// Your own function of the attempt number; `None` stops retrying (an ERROR event, as
    /// Resilience4j's negative interval).
    Custom(Arc<IntervalFn>),
}

impl fmt::Debug for RetryInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryInterval::Fixed(d) => f.debug_tuple("Fixed").field(d).finish(),
            RetryInterval::Exponential {
                initial,
                multiplier,
                max,
            } => f
                .debug_struct("Exponential")
                .field("initial", initial)
                .field("multiplier", multiplier)
                .field("max", max)
                .finish(),
            RetryInterval::Randomized { interval, factor } => f
                .debug_struct("Randomized")
                .field("interval", interval)
                .field("factor", factor)
                .finish(),
            RetryInterval::ExponentialRandom {
                initial,
                multiplier,
                factor,
                max,
            } => f
                .debug_struct("ExponentialRandom")
                .field("initial", initial)
                .field("multiplier", multiplier)
                .field("factor", factor)
                .field("max", max)
                .finish(),
            RetryInterval::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Custom functions compare by identity; the others by value.
impl PartialEq for RetryInterval {
    fn eq(&self, other: &Self) -> bool {
        use RetryInterval::*;
        match (self, other) {
            (Fixed(a), Fixed(b)) => a == b,
            (
                Exponential {
                    initial: a,
                    multiplier: b,
                    max: c,
                },
                Exponential {
                    initial: x,
                    multiplier: y,
                    max: z,
                },
            ) => a == x && b == y && c == z,
            (
                Randomized {
                    interval: a,
                    factor: b,
                },
                Randomized {
                    interval: x,
                    factor: y,
                },
            ) => a == x && b == y,
            (
                ExponentialRandom {
                    initial: a,
                    multiplier: b,
                    factor: c,
                    max: d,
                },
                ExponentialRandom {
                    initial: w,
                    multiplier: x,
                    factor: y,
                    max: z,
                },
            ) => a == w && b == x && c == y && d == z,
            (Custom(a), Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Default for RetryInterval {
    /// `IntervalFunction.ofDefaults()`: a fixed 500 ms.
    fn default() -> Self {
        RetryInterval::Fixed(DEFAULT_WAIT)
    }
}

impl RetryInterval {
    /// A custom function of the attempt number (1-based); `None` stops retrying.
    pub fn custom(f: impl Fn(u32) -> Option<Duration> + Send + Sync + 'static) -> Self {
        RetryInterval::Custom(Arc::new(f))
    }

    /// Checks Resilience4j's rules (`IntervalFunctionCompanion`): backoff waits at least 1 ms,
    /// the randomization factor in `[0, 1]`, the maximum at least 1 ms; and (Spring's rule) a
    /// finite multiplier above 0.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let at_least_a_ms = |key: &'static str, d: Duration| {
            if d < Duration::from_millis(1) {
                Err(ConfigError::invalid(
                    key,
                    format!("{d:?}"),
                    "must be at least 1ms",
                ))
            } else {
                Ok(())
            }
        };
        let multiplier_ok = |m: f64| {
            if m.is_finite() && m > 0.0 {
                Ok(())
            } else {
                Err(ConfigError::invalid(
                    "exponential_backoff_multiplier",
                    m,
                    "must be a finite number above 0",
                ))
            }
        };
        let factor_ok = |f: f64| {
            if (0.0..=1.0).contains(&f) {
                Ok(())
            } else {
                Err(ConfigError::invalid(
                    "randomized_wait_factor",
                    f,
                    "must be in [0, 1]",
                ))
            }
        };
        let max_ok = |max: Option<Duration>| {
            max.map_or(Ok(()), |m| {
                at_least_a_ms("exponential_max_wait_duration", m)
            })
        };
        match *self {
            RetryInterval::Fixed(_) | RetryInterval::Custom(_) => Ok(()),
            RetryInterval::Exponential {
                initial,
                multiplier,
                max,
            } => {
                at_least_a_ms("wait_duration", initial)?;
                multiplier_ok(multiplier)?;
                max_ok(max)
            }
            RetryInterval::Randomized { interval, factor } => {
                at_least_a_ms("wait_duration", interval)?;
                factor_ok(factor)
            }
            RetryInterval::ExponentialRandom {
                initial,
                multiplier,
                factor,
                max,
            } => {
                at_least_a_ms("wait_duration", initial)?;
                multiplier_ok(multiplier)?;
                factor_ok(factor)?;
                max_ok(max)
            }
        }
    }

    /// The wait after failed attempt `attempt` (1-based; 0 counts as 1), or `None` to stop.
    pub fn wait(&self, attempt: u32) -> Option<Duration> {
        self.wait_with(attempt, crate::config::next_random)
    }

    /// [`wait`](Self::wait) with `random` as the source of `Math.random()`.
    pub(crate) fn wait_with(&self, attempt: u32, random: impl FnOnce() -> f64) -> Option<Duration> {
        let attempt = attempt.max(1);
        let ms = match *self {
            RetryInterval::Fixed(d) => return Some(d),
            RetryInterval::Custom(ref f) => return f(attempt),
            RetryInterval::Exponential {
                initial,
                multiplier,
                max,
            } => cap(exponential(millis(initial), multiplier, attempt), max),
            RetryInterval::Randomized { interval, factor } => {
                randomize(millis(interval) as f64, factor, random()) as i64
            }
            RetryInterval::ExponentialRandom {
                initial,
                multiplier,
                factor,
                max,
            } => {
                let base = exponential(millis(initial), multiplier, attempt);
                cap(randomize(base as f64, factor, random()) as i64, max)
            }
        };
        // Resilience4j's waits are Java longs; a negative one stops retrying.
        u64::try_from(ms).ok().map(Duration::from_millis)
    }

    /// The inclusive bounds a randomized wait falls within (the wait itself for the others);
    /// `None` for custom functions.
    pub fn bounds(&self, attempt: u32) -> Option<(Duration, Duration)> {
        match self {
            RetryInterval::Custom(_) => None,
            RetryInterval::Randomized { .. } | RetryInterval::ExponentialRandom { .. } => {
                let lo = self.wait_with(attempt, || 0.0)?;
                let hi = self.wait_with(attempt, || 1.0 - f64::EPSILON)?;
                Some((lo, hi))
            }
            _ => {
                let w = self.wait(attempt)?;
                Some((w, w))
            }
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `LongStream.iterate(initial, x -> (long) (x * multiplier)).skip(attempt - 1)`: Java's cast
/// truncates toward zero and saturates, as Rust's `as` does.
fn exponential(initial: i64, multiplier: f64, attempt: u32) -> i64 {
    let mut x = initial;
    for _ in 1..attempt {
        let next = (x as f64 * multiplier) as i64;
        if next == x {
            break;
        }
        x = next;
    }
    x
}

fn cap(ms: i64, max: Option<Duration>) -> i64 {
    max.map_or(ms, |m| ms.min(millis(m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn exponential_truncates_each_step_and_caps_last() {
        let b = RetryInterval::Exponential {
            initial: ms(333),
            multiplier: 1.5,
            max: None,
        };
        // 333, (long) 499.5 = 499, (long) 748.5 = 748, 1122
        let waits: Vec<_> = (1..=4).map(|n| b.wait(n).unwrap().as_millis()).collect();
        assert_eq!(waits, [333, 499, 748, 1122]);
        let capped = RetryInterval::Exponential {
            initial: ms(1000),
            multiplier: 2.0,
            max: Some(ms(3000)),
        };
        let waits: Vec<_> = (1..=4)
            .map(|n| capped.wait(n).unwrap().as_millis())
            .collect();
        assert_eq!(waits, [1000, 2000, 3000, 3000]);
        // Saturates like Java's (long) cast instead of overflowing.
        let huge = RetryInterval::Exponential {
            initial: ms(1000),
            multiplier: 1e10,
            max: None,
        };
        assert_eq!(huge.wait(5), Some(Duration::from_millis(i64::MAX as u64)));
    }

    #[test]
    fn randomize_matches_the_formula() {
        let r = RetryInterval::Randomized {
            interval: ms(1000),
            factor: 0.5,
        };
        assert_eq!(r.wait_with(1, || 0.0), Some(ms(500)));
        assert_eq!(r.wait_with(1, || 0.5), Some(ms(1000))); // 500 + 0.5 · 1001 = 1000.5
        assert_eq!(r.bounds(1), Some((ms(500), ms(1500))));
        for _ in 0..1000 {
            let w = r.wait(1).unwrap();
            assert!((ms(500)..=ms(1500)).contains(&w), "{w:?}");
        }
        // Never below 1 ms.
        let tiny = RetryInterval::Randomized {
            interval: ms(1),
            factor: 1.0,
        };
        assert_eq!(tiny.wait_with(1, || 0.0), Some(ms(1)));
    }

    #[test]
    fn exponential_random_randomizes_then_caps() {
        let b = RetryInterval::ExponentialRandom {
            initial: ms(1000),
            multiplier: 2.0,
            factor: 0.5,
            max: Some(ms(2500)),
        };
        assert_eq!(b.wait_with(2, || 0.0), Some(ms(1000)));
        assert_eq!(b.wait_with(2, || 0.99), Some(ms(2500)));
        assert_eq!(b.bounds(3), Some((ms(2000), ms(2500))));
    }

    #[test]
    fn custom_functions_may_stop() {
        let f = RetryInterval::custom(|n| (n < 2).then_some(ms(7)));
        assert_eq!(f.wait(1), Some(ms(7)));
        assert_eq!(f.wait(2), None);
        assert_eq!(f, f.clone());
        assert_ne!(f, RetryInterval::custom(|_| None));
    }

    #[test]
    fn validation_follows_resilience4j() {
        assert!(RetryInterval::Fixed(Duration::ZERO).validate().is_ok());
        let err = RetryInterval::Exponential {
            initial: Duration::ZERO,
            multiplier: 2.0,
            max: None,
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.key(), "wait_duration");
        let factor = RetryInterval::Randomized {
            interval: ms(10),
            factor: 1.5,
        };
        assert_eq!(
            factor.validate().unwrap_err().key(),
            "randomized_wait_factor"
        );
        let core_allows_one = RetryInterval::Randomized {
            interval: ms(10),
            factor: 1.0,
        };
        assert!(core_allows_one.validate().is_ok());
        let mult = RetryInterval::ExponentialRandom {
            initial: ms(10),
            multiplier: 0.0,
            factor: 0.5,
            max: None,
        };
        assert_eq!(
            mult.validate().unwrap_err().key(),
            "exponential_backoff_multiplier"
        );
    }
}
