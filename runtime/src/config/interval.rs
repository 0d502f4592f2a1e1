//! [`WaitInterval`]: how long the breaker stays OPEN, by attempt (Resilience4j's
//! `IntervalFunction`).

use super::ConfigError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The wait in the OPEN state as a function of the attempt number (1 for the first trip, 2 for a
/// re-open from HALF_OPEN, ...), as Resilience4j's `IntervalFunction`.
///
/// ```
/// use fusebox_runtime::WaitInterval;
/// use std::time::Duration;
/// let backoff = WaitInterval::ExponentialBackoff {
///     initial: Duration::from_millis(5000),
///     multiplier: 1.5,
///     max: None,
/// };
/// let waits: Vec<u128> = (1..=5).map(|a| backoff.wait(a).as_millis()).collect();
/// assert_eq!(waits, [5000, 7500, 11250, 16875, 25312]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum WaitInterval {
    /// The same wait every time.
    Constant(Duration),
    /// `initial`, then each wait is the previous one times `multiplier` (truncated to whole
    /// milliseconds at each step, as Resilience4j computes it), capped at `max` if given.
    ExponentialBackoff {
        /// The first wait.
        initial: Duration,
        /// Growth factor per attempt, greater than 1.
        multiplier: f64,
        /// The longest wait.
        max: Option<Duration>,
    },
    /// `interval` randomized by ± `factor` (in `[0, 1)`).
    Randomized {
        /// The mean wait.
        interval: Duration,
        /// How far a wait may stray from the mean, as a fraction.
        factor: f64,
    },
    /// Exponential backoff, each wait randomized by ± `factor`.
    ExponentialRandomBackoff {
        /// The first wait.
        initial: Duration,
        /// Growth factor per attempt, greater than 1.
        multiplier: f64,
        /// How far a wait may stray, as a fraction in `[0, 1)`.
        factor: f64,
        /// The longest wait.
        max: Option<Duration>,
    },
}

impl WaitInterval {
    /// Checks Resilience4j's rules: waits at least 1 ms, multiplier above 1, factor in `[0, 1)`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let key = "wait_duration_in_open_state";
        let check_wait = |d: Duration| {
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
        let check_mult = |m: f64| {
            if m.is_finite() && m > 1.0 {
                Ok(())
            } else {
                Err(ConfigError::invalid(
                    "exponential_backoff_multiplier",
                    m,
                    "must be greater than 1",
                ))
            }
        };
        let check_factor = |f: f64| {
            if (0.0..1.0).contains(&f) {
                Ok(())
            } else {
                Err(ConfigError::invalid(
                    "randomized_wait_factor",
                    f,
                    "must be in [0, 1)",
                ))
            }
        };
        match *self {
            WaitInterval::Constant(d) => check_wait(d),
            WaitInterval::ExponentialBackoff {
                initial,
                multiplier,
                max,
            } => {
                check_wait(initial)?;
                check_mult(multiplier)?;
                max.map_or(Ok(()), |m| {
                    if m < initial {
                        Err(ConfigError::invalid(
                            "exponential_max_wait_duration_in_open_state",
                            format!("{m:?}"),
                            "must not be shorter than the initial wait",
                        ))
                    } else {
                        Ok(())
                    }
                })
            }
            WaitInterval::Randomized { interval, factor } => {
                check_wait(interval)?;
                check_factor(factor)
            }
            WaitInterval::ExponentialRandomBackoff {
                initial,
                multiplier,
                factor,
                max,
            } => {
                check_wait(initial)?;
                check_mult(multiplier)?;
                check_factor(factor)?;
                max.map_or(Ok(()), check_wait)
            }
        }
    }

    /// The wait for `attempt` (1-based; 0 is treated as 1).
    pub fn wait(&self, attempt: u32) -> Duration {
        let attempt = attempt.max(1);
        match *self {
            WaitInterval::Constant(d) => d,
            WaitInterval::ExponentialBackoff {
                initial,
                multiplier,
                max,
            } => exponential(initial, multiplier, max, attempt),
            WaitInterval::Randomized { interval, factor } => randomize(interval, factor),
            WaitInterval::ExponentialRandomBackoff {
                initial,
                multiplier,
                factor,
                max,
            } => {
                let base = exponential(initial, multiplier, max, attempt);
                let r = randomize(base, factor);
                max.map_or(r, |m| r.min(m))
            }
        }
    }
}

fn exponential(
    initial: Duration,
    multiplier: f64,
    max: Option<Duration>,
    attempt: u32,
) -> Duration {
    let cap = max.map_or(u64::MAX as f64, |m| m.as_millis() as f64);
    let mut ms = initial.as_millis() as f64;
    for _ in 1..attempt {
        ms = (ms * multiplier).floor();
        if ms >= cap {
            ms = cap;
            break;
        }
    }
    Duration::from_millis(ms.min(cap) as u64)
}

/// A small xorshift generator: randomized waits need spread, not cryptographic quality.
pub(crate) fn next_random() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0x9E37_79B9_7F4A_7C15 {
        x ^= std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn randomize(interval: Duration, factor: f64) -> Duration {
    let ms = randomize_millis(interval.as_millis() as f64, factor, next_random());
    Duration::from_millis(ms.floor() as u64)
}

/// Resilience4j's `IntervalFunctionCompanion.randomize` on milliseconds, with `random` in
/// `[0, 1)`: uniform over `[current - factor * current, current + factor * current + 1)`, at
/// least 1. Shared by the breaker's wait in OPEN and the retry's waits.
pub(crate) fn randomize_millis(current: f64, factor: f64, random: f64) -> f64 {
    let delta = factor * current;
    let min = current - delta;
    let max = current + delta;
    (min + random * (max - min + 1.0)).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_backoff_truncates_and_caps() {
        let b = WaitInterval::ExponentialBackoff {
            initial: Duration::from_millis(1000),
            multiplier: 2.0,
            max: Some(Duration::from_millis(5000)),
        };
        let waits: Vec<u128> = (1..=5).map(|a| b.wait(a).as_millis()).collect();
        assert_eq!(waits, [1000, 2000, 4000, 5000, 5000]);
    }

    #[test]
    fn randomized_wait_stays_within_factor() {
        let r = WaitInterval::Randomized {
            interval: Duration::from_millis(1000),
            factor: 0.5,
        };
        for _ in 0..1000 {
            let w = r.wait(1).as_millis();
            assert!((500..=1500).contains(&w), "{w}");
        }
    }

    #[test]
    fn invalid_intervals_are_rejected() {
        assert!(WaitInterval::Constant(Duration::ZERO).validate().is_err());
        assert!(
            WaitInterval::Randomized {
                interval: Duration::from_secs(1),
                factor: 1.0
            }
            .validate()
            .is_err()
        );
        assert!(
            WaitInterval::ExponentialBackoff {
                initial: Duration::from_secs(1),
                multiplier: 1.0,
                max: None
            }
            .validate()
            .is_err()
        );
    }
}
