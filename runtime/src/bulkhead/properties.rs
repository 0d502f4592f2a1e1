//! Every bulkhead property, declared once (the grammar of the breaker's table in
//! `config/properties.rs`); `config`'s `property_table!` turns it into [`BulkheadConfig`], its
//! builder setters, [`BulkheadSettings`] and the docs' property table.

use super::config::BulkheadConfigBuilder;
use crate::config::file::format::Field;
use crate::config::property_table;
use std::time::Duration;

property_table! {
    /// A validated bulkhead configuration (Resilience4j's semaphore `BulkheadConfig`). Build one
    /// with [`BulkheadConfig::builder`]; [`Default`] gives Resilience4j's defaults: 25 concurrent
    /// calls, no wait (a full bulkhead rejects at once), fair call handling.
    ///
    /// ```
    /// use fusebox_runtime::bulkhead::BulkheadConfig;
    /// use std::time::Duration;
    ///
    /// let config = BulkheadConfig::builder()
    ///     .max_concurrent_calls(10)
    ///     .max_wait_duration(Duration::from_millis(20))
    ///     .build()?;
    /// assert_eq!(config.max_concurrent_calls(), 10);
    /// # Ok::<(), fusebox_runtime::ConfigError>(())
    /// ```
    ///
    /// Resilience4j's `writableStackTraceEnabled` has no counterpart: [`BulkheadFull`] carries
    /// no stack trace (a file that sets it gets a warning).
    ///
    /// [`BulkheadFull`]: super::BulkheadFull
    config BulkheadConfig, builder BulkheadConfigBuilder {
        eq_doc: "Two configs are equal when every property is.",
    }
    /// One `[bulkhead.configs.<name>]` or `[bulkhead.instances.<name>]` section: every property
    /// optional, keys in snake_case (Spring's camelCase and kebab-case forms in YAML).
    ///
    /// ```
    /// use fusebox_runtime::bulkhead::BulkheadSettings;
    /// use std::time::Duration;
    ///
    /// let s: BulkheadSettings = toml::from_str(r#"
    ///     base_config = "shared"
    ///     max_concurrent_calls = 5
    ///     max_wait_duration = "10ms"
    /// "#)?;
    /// assert_eq!(s.max_wait_duration, Some(Duration::from_millis(10)));
    /// # Ok::<(), toml::de::Error>(())
    /// ```
    settings BulkheadSettings {
        serde: "BulkheadSettings" expecting "struct BulkheadSettings",
        fields: BULKHEAD_FIELDS,
        file_keys: BULKHEAD_FILE_KEYS,
        what: "bulkhead",
        base_config_doc: "The shared config (under `bulkhead.configs`) this one starts from.",
    }
    properties {
        max_concurrent_calls: u32 {
            default 25;
            get(copy) {
                /// Calls the bulkhead lets run at once (Resilience4j's `maxConcurrentCalls`).
                /// Default 25; 0 rejects every call.
            }
            set(calls) {
                /// Calls allowed at once; 0 rejects every call (files require at least 1, as
                /// Spring does).
            }
            file max_concurrent_calls {
                /// Calls allowed at once; at least 1.
            }
        }
        max_wait_duration: Duration {
            default Duration::ZERO;
            get(copy) {
                /// How long [`acquire_permission`](super::Bulkhead::acquire_permission) waits
                /// for a free slot (Resilience4j's `maxWaitDuration`). Default 0: a full
                /// bulkhead rejects at once.
            }
            set(wait) {
                /// How long a call waits for a free slot; 0 rejects at once.
            }
            file max_wait_duration {
                /// How long a call waits for a free slot (0 = reject at once).
            }
        }
        fair_call_handling: bool {
            default true;
            get(copy) {
                /// Resilience4j's `fairCallHandlingStrategyEnabled` (default true), Java's fair
                /// or non-fair semaphore: fair, waiting calls get slots in arrival order and a
                /// new call never takes a slot while others wait; non-fair, a new call takes a
                /// free slot even while others wait (one just given back, before the woken
                /// waiter runs). Fixed when the bulkhead is created (`change_config` keeps the
                /// first value, as Resilience4j's semaphore does). Not a Spring property, so
                /// not in files.
            }
            set(fair) {
                /// Resilience4j's `fairCallHandlingStrategyEnabled`: false lets a new call
                /// overtake waiting ones (Java's non-fair semaphore).
            }
        }
        event_consumer_buffer_size: u32 {
            default 100;
            get(copy) {
                /// How many of the bulkhead's last events the events endpoint keeps
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
}

/// The rules builder setters check.
mod rules {
    use crate::config::ConfigError;

    /// A count of at least 1.
    pub(super) fn at_least_one(key: &'static str, v: u32) -> Option<ConfigError> {
        (v == 0).then(|| ConfigError::invalid(key, v, "must be at least 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_documented_row() {
        let keys: Vec<&str> = BULKHEAD_FILE_KEYS.iter().map(|k| k.key).collect();
        assert_eq!(keys, &BULKHEAD_FIELDS[1..]);
        assert_eq!(
            keys,
            [
                "max_concurrent_calls",
                "max_wait_duration",
                "event_consumer_buffer_size"
            ]
        );
        let default_of = |key: &str| {
            (BULKHEAD_FILE_KEYS
                .iter()
                .find(|k| k.key == key)
                .unwrap()
                .default)()
        };
        assert_eq!(default_of("max_concurrent_calls").as_deref(), Some("25"));
        assert_eq!(default_of("max_wait_duration").as_deref(), Some("\"0s\""));
    }

    #[test]
    fn the_readme_property_table_is_the_declaration() {
        crate::config::assert_readme_table(
            "<!-- bulkhead property table: generated from runtime/src/bulkhead/properties.rs -->",
            "<!-- end of bulkhead property table -->",
            &crate::config::markdown_table(
                BULKHEAD_FILE_KEYS,
                "The shared config (under `bulkhead.configs`) this one starts from.",
            ),
        );
    }
}
