//! Every rate limiter property, declared once in the shared table grammar
//! ([`property_table!`](crate::config)): it writes [`RateLimiterConfig`], its builder setters,
//! [`RateLimiterSettings`] (one file section) and the docs' property table.

use super::config::{DrainPredicate, LimiterClock, RateLimiterConfigBuilder, rules};
use crate::config::file::format::Field;
use crate::config::property_table;
use crate::retry::SleeperSource;
use std::time::Duration;

property_table! {
    /// A validated rate limiter configuration (Resilience4j's `RateLimiterConfig`). Build one
    /// with [`RateLimiterConfig::builder`]; [`Default`] gives Resilience4j's defaults: 50
    /// permits per 500 ns cycle, callers waiting up to 5 s, no drain predicate.
    ///
    /// ```
    /// use fusebox_runtime::rate_limiter::RateLimiterConfig;
    /// use std::time::Duration;
    ///
    /// let config = RateLimiterConfig::builder()
    ///     .limit_for_period(100)
    ///     .limit_refresh_period(Duration::from_secs(1))
    ///     .timeout_duration(Duration::from_millis(250))
    ///     .drain_permissions_on_result(|r: &Result<u16, std::io::Error>| matches!(r, Ok(429)))
    ///     .build()?;
    /// assert_eq!(config.limit_for_period(), 100);
    /// # Ok::<(), fusebox_runtime::ConfigError>(())
    /// ```
    config RateLimiterConfig, builder RateLimiterConfigBuilder {
        eq_doc: "Two configs are equal when every property is; drain predicates compare by \
                 identity, clocks and sleepers by kind.",
    }
    /// One `[rate_limiter.configs.<name>]` or `[rate_limiter.instances.<name>]` section: every
    /// property optional, keys in snake_case (Spring's camelCase and kebab-case forms in YAML).
    ///
    /// ```
    /// use fusebox_runtime::rate_limiter::RateLimiterSettings;
    /// use std::time::Duration;
    ///
    /// let s: RateLimiterSettings = toml::from_str(r#"
    ///     limit_for_period = 10
    ///     limit_refresh_period = "1s"
    ///     timeout_duration = 0
    /// "#)?;
    /// assert_eq!(s.timeout_duration, Some(Duration::ZERO));
    /// # Ok::<(), toml::de::Error>(())
    /// ```
    settings RateLimiterSettings {
        serde: "RateLimiterSettings" expecting "struct RateLimiterSettings",
        fields: RATE_LIMITER_FIELDS,
        file_keys: RATE_LIMITER_FILE_KEYS,
        what: "rate limiter",
        base_config_doc: "The shared config (under `rate_limiter.configs`) this one starts from.",
    }
    properties {
        limit_refresh_period: Duration {
            default Duration::from_nanos(500);
            get(copy) {
                /// The cycle length: each cycle starts with `limit_for_period` permissions
                /// (Resilience4j's `limitRefreshPeriod`). Default 500 ns.
            }
            set(period) checked by rules::refresh_period {
                /// The cycle length; at least 1 ns.
            }
            file limit_refresh_period {
                /// The cycle length; each cycle starts with `limit_for_period` permissions.
            }
        }
        limit_for_period: u32 {
            default 50;
            get(copy) {
                /// Permissions per cycle (Resilience4j's `limitForPeriod`), as configured; the
                /// limiter's [`config`](super::RateLimiter::config) shows a run-time change.
                /// Default 50.
            }
            set(limit) checked by rules::limit {
                /// Permissions per cycle; in [1, 2147483647] (a positive Java `int`).
            }
            file limit_for_period {
                /// Permissions per cycle.
            }
        }
        timeout_duration: Duration {
            default Duration::from_secs(5);
            get(copy) {
                /// The longest a caller waits for a permission (Resilience4j's
                /// `timeoutDuration`). Default 5 s.
            }
            set(timeout) checked by rules::timeout {
                /// The longest a caller waits for a permission; zero refuses at once.
            }
            file timeout_duration {
                /// The longest a caller waits for a permission; 0 refuses at once.
            }
        }
        subscribe_for_events: bool {
            default false;
            get(copy) {
                /// Whether the events endpoint keeps this limiter's events (Spring's
                /// `subscribeForEvents`; without it Resilience4j's `/ratelimiterevents` shows
                /// none). Default false.
            }
            set(subscribe) {
                /// Whether the events endpoint keeps this limiter's events.
            }
            file subscribe_for_events {
                /// Whether the events endpoint keeps this limiter's events.
            }
        }
        register_health_indicator: bool {
            default false;
            get(copy) {
                /// Whether the limiter appears in the `rateLimiters` health component
                /// (Resilience4j's `registerHealthIndicator`). Default false.
            }
            set(register) {
                /// Whether the limiter appears in the `rateLimiters` health component.
            }
            file register_health_indicator {
                /// Whether the limiter appears in the `rateLimiters` health component.
            }
        }
        allow_health_indicator_to_fail: bool {
            default false;
            get(copy) {
                /// Whether a limiter that would make callers wait past the timeout reports
                /// health `DOWN` instead of `RATE_LIMITED` (Resilience4j's
                /// `allowHealthIndicatorToFail`). Default false.
            }
            set(allow) {
                /// Whether `RATE_LIMITED` health is reported as `DOWN`.
            }
            file allow_health_indicator_to_fail {
                /// Whether `RATE_LIMITED` health is reported as `DOWN`.
            }
        }
        event_consumer_buffer_size: u32 {
            default 100;
            get(copy) {
                /// How many of the limiter's last events the events endpoint keeps
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
    file_only {}
    extra {
        drain: DrainPredicate = DrainPredicate::default();
        clock: LimiterClock = LimiterClock::default();
        sleeper: SleeperSource = SleeperSource::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_documented_row() {
        let keys: Vec<&str> = RATE_LIMITER_FILE_KEYS.iter().map(|k| k.key).collect();
        assert_eq!(keys, &RATE_LIMITER_FIELDS[1..]);
        for row in RATE_LIMITER_FILE_KEYS {
            assert!(!row.doc.is_empty() && !row.forms.is_empty(), "{row:?}");
        }
        let default_of = |key: &str| {
            (RATE_LIMITER_FILE_KEYS
                .iter()
                .find(|k| k.key == key)
                .unwrap()
                .default)()
        };
        assert_eq!(default_of("limit_for_period").as_deref(), Some("50"));
        assert_eq!(default_of("timeout_duration").as_deref(), Some("\"5s\""));
    }

    #[test]
    fn the_readme_property_table_is_the_declaration() {
        crate::config::assert_readme_table(
            "<!-- rate limiter property table: generated from runtime/src/rate_limiter/properties.rs -->",
            "<!-- end of rate limiter property table -->",
            &crate::config::markdown_table(
                RATE_LIMITER_FILE_KEYS,
                "The shared config (under `rate_limiter.configs`) this one starts from.",
            ),
        );
    }
}
