//! The serde types of fusebox's config layout: [`RegistryConfig`] and [`BreakerSettings`].
//!
//! [`BreakerSettings`], its key list [`FIELDS`] and its reading and applying follow from the
//! property table in `config/properties.rs`.

use super::bulkhead::BulkheadFileConfig;
use super::rate_limiter::RateLimiterFileConfig;
use super::retry::RetryFileConfig;
use super::time_limiter::TimeLimiterFileConfig;
pub use crate::config::properties::BreakerSettings;
pub(crate) use crate::config::properties::FIELDS;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole config file in fusebox's layout: shared configs and per-breaker instances, each a
/// [`BreakerSettings`] where only the properties that are set override their base.
///
/// It is a plain serde type, so it can be extracted from any source (figment, config-rs, a TOML
/// or JSON string); [`resolve`](Self::resolve) then applies Resilience4j's `base_config` rules
/// and validates every value.
///
/// ```
/// use fusebox_runtime::config::file::RegistryConfig;
/// use std::time::Duration;
///
/// let config: RegistryConfig = toml::from_str(r#"
///     [configs.default]
///     sliding_window_size = 10
///
///     [instances.orders]
///     failure_rate_threshold = 4
///     wait_duration_in_open_state = "1s"
/// "#)?;
/// let resolved = config.resolve()?;
/// let orders = &resolved.instances["orders"];
/// assert_eq!(orders.sliding_window_size(), 10); // from configs.default
/// assert_eq!(orders.failure_rate_threshold(), 4.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Shared configs by name; `default` is the registry default.
    pub configs: BTreeMap<String, BreakerSettings>,
    /// Breaker instances by breaker name.
    pub instances: BTreeMap<String, BreakerSettings>,
    /// Registry-wide metric tags (`[tags]`): a label on every series the
    /// [`Monitor`](crate::observe::Monitor) exposes. Names must be Prometheus label names.
    pub tags: BTreeMap<String, String>,
    /// Retry configs and instances (`[retry.configs.<name>]`, `[retry.instances.<name>]`).
    #[serde(skip_serializing_if = "RetryFileConfig::is_empty")]
    pub retry: RetryFileConfig,
    /// Time limiter configs and instances (`[time_limiter.configs.<name>]`,
    /// `[time_limiter.instances.<name>]`).
    #[serde(skip_serializing_if = "TimeLimiterFileConfig::is_empty")]
    pub time_limiter: TimeLimiterFileConfig,
    /// Rate limiter configs and instances (`[rate_limiter.configs.<name>]`,
    /// `[rate_limiter.instances.<name>]`).
    #[serde(skip_serializing_if = "RateLimiterFileConfig::is_empty")]
    pub rate_limiter: RateLimiterFileConfig,
    /// Bulkhead configs and instances (`[bulkhead.configs.<name>]`,
    /// `[bulkhead.instances.<name>]`).
    #[serde(skip_serializing_if = "BulkheadFileConfig::is_empty")]
    pub bulkhead: BulkheadFileConfig,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::node::{Node, Pos, Typing, Value};

    #[test]
    fn fields_list_matches_the_serde_layout() {
        let node = |value| Node {
            value,
            pos: Pos::default(),
        };
        let mut all = BreakerSettings::default();
        for field in FIELDS {
            let v = match *field {
                "base_config" => node(Value::Str("x".into())),
                "transition_to_state_after_wait_duration" | "initial_state" => {
                    node(Value::Str("OPEN".into()))
                }
                f if f.contains("duration") || f == "timeout" => node(Value::Str("2s".into())),
                "sliding_window_type" => node(Value::Str("TIME_BASED".into())),
                f if f.starts_with("enable")
                    || f.starts_with("automatic")
                    || f.ends_with("health_indicator")
                    || f.ends_with("to_fail")
                    || f == "call_stats_enabled" =>
                {
                    node(Value::Bool(true))
                }
                "randomized_wait_factor" => node(Value::Float(0.25)),
                _ => node(Value::Int(3)),
            };
            all.set(field, &v, Typing::Strict)
                .unwrap_or_else(|e| panic!("{field}: {e}"));
        }
        let text = toml::to_string(&all).expect("serializes");
        let table: toml::Table = toml::from_str(&text).expect("parses");
        let keys: Vec<&str> = table.keys().map(String::as_str).collect();
        let mut expected = FIELDS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        let back: BreakerSettings = toml::from_str(&text).expect("round trip");
        assert_eq!(back, all);
    }

    #[test]
    fn serde_errors_name_the_settings_type_and_its_keys() {
        let error = |text: &str| {
            toml::from_str::<RegistryConfig>(text)
                .unwrap_err()
                .to_string()
        };
        let not_a_table = error("[instances]\norders = 5\n");
        assert!(
            not_a_table.contains("invalid type: integer `5`, expected struct BreakerSettings"),
            "{not_a_table}"
        );
        let unknown = error("[instances.orders]\nfoo = 1\n");
        assert!(
            unknown.contains(&format!(
                "unknown field `foo`, expected one of `{}`",
                FIELDS.join("`, `")
            )),
            "{unknown}"
        );
        let bad = error("[instances.orders]\ntimeout = true\n");
        assert!(bad.contains("timeout true: expected a duration"), "{bad}");
    }
}
