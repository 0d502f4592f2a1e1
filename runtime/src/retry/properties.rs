//! Every retry property, declared once (the grammar of the breaker's table in
//! `config/properties.rs`); [`property_table!`](crate::config) turns it into
//! [`RetryConfig`], its builder setters, [`RetrySettings`] and the docs' property table.

use super::config::{Predicates, RetryConfigBuilder};
use super::interval::{DEFAULT_MULTIPLIER, DEFAULT_RANDOMIZATION_FACTOR, RetryInterval};
use super::sleep::SleeperSource;
use crate::config::file::format::Field;
use crate::config::property_table;
use std::time::Duration;

property_table! {
    /// A validated retry configuration (Resilience4j's `RetryConfig`). Build one with
    /// [`RetryConfig::builder`]; [`Default`] gives Resilience4j's defaults: 3 attempts, a
    /// fixed 500 ms wait, every error retried, no result predicate.
    ///
    /// ```
    /// use fusebox_runtime::retry::{RetryConfig, RetryInterval};
    /// use std::time::Duration;
    ///
    /// let config = RetryConfig::builder()
    ///     .max_attempts(5)
    ///     .interval_function(RetryInterval::Exponential {
    ///         initial: Duration::from_millis(100),
    ///         multiplier: 2.0,
    ///         max: Some(Duration::from_secs(1)),
    ///     })
    ///     .ignore_error(|e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound)
    ///     .build()?;
    /// assert_eq!(config.max_attempts(), 5);
    /// # Ok::<(), fusebox_runtime::ConfigError>(())
    /// ```
    config RetryConfig, builder RetryConfigBuilder {
        eq_doc: "Two configs are equal when every property is; predicates and custom interval \
                 functions compare by identity, sleepers by kind.",
    }
    /// One `[retry.configs.<name>]` or `[retry.instances.<name>]` section: every property
    /// optional, keys in snake_case (Spring's camelCase and kebab-case forms in YAML).
    ///
    /// ```
    /// use fusebox_runtime::retry::RetrySettings;
    /// use std::time::Duration;
    ///
    /// let s: RetrySettings = toml::from_str(r#"
    ///     base_config = "shared"
    ///     max_attempts = 5
    ///     wait_duration = "PT0.2S"
    /// "#)?;
    /// assert_eq!(s.wait_duration, Some(Duration::from_millis(200)));
    /// # Ok::<(), toml::de::Error>(())
    /// ```
    settings RetrySettings {
        serde: "RetrySettings" expecting "struct RetrySettings",
        fields: RETRY_FIELDS,
        file_keys: RETRY_FILE_KEYS,
        what: "retry",
        base_config_doc: "The shared config (under `retry.configs`) this one starts from.",
    }
    properties {
        max_attempts: u32 {
            default 3;
            get(copy) {
                /// Attempts in all, the first one included (Resilience4j's `maxAttempts`).
                /// Default 3.
            }
            set(attempts) checked by rules::at_least_one {
                /// Attempts in all, the first one included; at least 1.
            }
            file max_attempts {
                /// Attempts in all, the first one included.
            }
        }
        // Set by hand: `wait_duration` and `interval_function`.
        interval: RetryInterval {
            default RetryInterval::default();
            get(borrow) {
                /// The wait before each retry, by attempt. Default a fixed 500 ms.
            }
            file wait_duration: Duration = super::DEFAULT_WAIT, applied by apply_wait {
                /// The wait before a retry (the first wait, with backoff). Shaped by the backoff
                /// keys of the same section, as Spring shapes it.
            }
        }
        fail_after_max_attempts: bool {
            default false;
            get(copy) {
                /// Whether a result the result predicate still rejects after the last attempt
                /// is an error ([`RetryError::MaxRetriesExceeded`](super::RetryError)) rather
                /// than returned. Default false.
            }
            set(fail) {
                /// Whether a result still rejected after the last attempt is an error.
            }
            file fail_after_max_attempts {
                /// Whether a result still rejected after the last attempt is an error.
            }
        }
        event_consumer_buffer_size: u32 {
            default 100;
            get(copy) {
                /// How many of the retry's last events the events endpoint keeps
                /// (Resilience4j's `eventConsumerBufferSize`). Default 100.
            }
            set(size) checked by rules::at_least_one {
                /// Events kept for the events endpoint; at least 1.
            }
            file event_consumer_buffer_size {
                /// Events kept for the events endpoint.
            }
        }
    }
    file_only {
        enable_exponential_backoff: bool {
            /// Grow the wait exponentially (only where `wait_duration` is set in the same
            /// section, as in Spring).
            default false;
        }
        exponential_backoff_multiplier: f64 {
            /// Growth factor of the exponential backoff (default 1.5).
            default DEFAULT_MULTIPLIER;
        }
        exponential_max_wait_duration: Duration {
            /// Cap of the exponential backoff (applied only with an explicit multiplier, as in
            /// Spring).
        }
        enable_randomized_wait: bool {
            /// Randomize the wait (only where `wait_duration` is set in the same section).
            default false;
        }
        randomized_wait_factor: f64 {
            /// Spread of the randomized wait, in `[0, 1)` (default 0.5).
            default DEFAULT_RANDOMIZATION_FACTOR;
        }
    }
    extra {
        predicates: Predicates = Predicates::default();
        sleeper: SleeperSource = SleeperSource::default();
    }
}

/// The rules builder setters check.
mod rules {
    use crate::config::ConfigError;

    /// A count of at least 1.
    pub(super) fn at_least_one(key: &'static str, v: u32) -> Option<ConfigError> {
        (v == 0).then(|| ConfigError::invalid(key, v, "must be at least 1"))
    }
}

/// `wait_duration` from a file: the interval function, shaped by the section's backoff keys
/// exactly as Spring's `CommonRetryConfigurationProperties.configureRetryIntervalFunction`
/// shapes it (the maximum needs an explicit multiplier; with both flags on, the factor and the
/// maximum need an explicit multiplier too).
fn apply_wait(
    builder: RetryConfigBuilder,
    wait: Duration,
    s: &RetrySettings,
) -> RetryConfigBuilder {
    builder.interval_function(interval_of(wait, s))
}

/// The interval function Spring builds for `wait` and the backoff keys of `s`.
pub(crate) fn interval_of(wait: Duration, s: &RetrySettings) -> RetryInterval {
    let exponential = s.enable_exponential_backoff == Some(true);
    let randomized = s.enable_randomized_wait == Some(true);
    let multiplier = s.exponential_backoff_multiplier;
    let factor = s.randomized_wait_factor;
    let max = s.exponential_max_wait_duration;
    match (exponential, randomized) {
        (true, true) => match (multiplier, factor) {
            (Some(multiplier), Some(factor)) => RetryInterval::ExponentialRandom {
                initial: wait,
                multiplier,
                factor,
                max,
            },
            (Some(multiplier), None) => RetryInterval::ExponentialRandom {
                initial: wait,
                multiplier,
                factor: DEFAULT_RANDOMIZATION_FACTOR,
                max: None,
            },
            (None, _) => RetryInterval::ExponentialRandom {
                initial: wait,
                multiplier: DEFAULT_MULTIPLIER,
                factor: DEFAULT_RANDOMIZATION_FACTOR,
                max: None,
            },
        },
        (true, false) => RetryInterval::Exponential {
            initial: wait,
            multiplier: multiplier.unwrap_or(DEFAULT_MULTIPLIER),
            max: multiplier.and(max),
        },
        (false, true) => RetryInterval::Randomized {
            interval: wait,
            factor: factor.unwrap_or(DEFAULT_RANDOMIZATION_FACTOR),
        },
        (false, false) => RetryInterval::Fixed(wait),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn spring_shapes_the_interval() {
        let s = |e, r, m, f, x| RetrySettings {
            enable_exponential_backoff: e,
            enable_randomized_wait: r,
            exponential_backoff_multiplier: m,
            randomized_wait_factor: f,
            exponential_max_wait_duration: x,
            ..RetrySettings::default()
        };
        let wait = ms(100);
        assert_eq!(
            interval_of(wait, &s(None, None, Some(3.0), None, None)),
            RetryInterval::Fixed(wait)
        );
        // The maximum needs an explicit multiplier.
        assert_eq!(
            interval_of(wait, &s(Some(true), None, None, None, Some(ms(900)))),
            RetryInterval::Exponential {
                initial: wait,
                multiplier: 1.5,
                max: None
            }
        );
        // Both flags: the factor is ignored without a multiplier.
        assert_eq!(
            interval_of(wait, &s(Some(true), Some(true), None, Some(0.1), None)),
            RetryInterval::ExponentialRandom {
                initial: wait,
                multiplier: 1.5,
                factor: 0.5,
                max: None
            }
        );
        assert_eq!(
            interval_of(wait, &s(Some(false), Some(true), None, Some(0.1), None)),
            RetryInterval::Randomized {
                interval: wait,
                factor: 0.1
            }
        );
    }

    #[test]
    fn every_key_has_a_documented_row() {
        let keys: Vec<&str> = RETRY_FILE_KEYS.iter().map(|k| k.key).collect();
        assert_eq!(keys, &RETRY_FIELDS[1..]);
        for row in RETRY_FILE_KEYS {
            assert!(!row.doc.is_empty() && !row.forms.is_empty(), "{row:?}");
        }
        let default_of = |key: &str| {
            (RETRY_FILE_KEYS
                .iter()
                .find(|k| k.key == key)
                .unwrap()
                .default)()
        };
        assert_eq!(default_of("max_attempts").as_deref(), Some("3"));
        assert_eq!(default_of("wait_duration").as_deref(), Some("\"500ms\""));
        assert_eq!(default_of("exponential_max_wait_duration"), None);
    }
}
