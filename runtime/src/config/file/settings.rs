//! The serde types of fusebox's config layout: [`RegistryConfig`] and [`BreakerSettings`].

use super::duration;
use super::enums::{state_option, window_type_option};
use super::node::{Node, Typing};
use crate::config::SlidingWindowType;
use crate::state::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

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
}

/// One `[configs.<name>]` or `[instances.<name>]` section: every property optional, keys in
/// snake_case named after the builder's setters.
///
/// Durations accept `"10s"`, `"500ms"`, `"1m 30s"`, ISO `"PT10S"` or an integer number of
/// milliseconds; states and window types accept Resilience4j's names (`"OPEN"`, `"COUNT_BASED"`)
/// in any case.
///
/// ```
/// use fusebox_runtime::config::file::BreakerSettings;
/// use std::time::Duration;
///
/// let s: BreakerSettings = toml::from_str(r#"
///     base_config = "shared"
///     wait_duration_in_open_state = "PT10S"
///     slow_call_duration_threshold = 2500
/// "#)?;
/// assert_eq!(s.wait_duration_in_open_state, Some(Duration::from_secs(10)));
/// assert_eq!(s.slow_call_duration_threshold, Some(Duration::from_millis(2500)));
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerSettings {
    /// The shared config (under `configs`) this one starts from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_config: Option<String>,
    /// Failure rate in percent, in (0, 100].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_rate_threshold: Option<f32>,
    /// Slow-call rate in percent, in (0, 100].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_call_rate_threshold: Option<f32>,
    /// Calls longer than this are slow.
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub slow_call_duration_threshold: Option<Duration>,
    /// Probe calls permitted in HALF_OPEN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permitted_number_of_calls_in_half_open_state: Option<u32>,
    /// Longest stay in HALF_OPEN (0 = unlimited).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub max_wait_duration_in_half_open_state: Option<Duration>,
    /// Where HALF_OPEN goes after its maximum wait: `OPEN` or `CLOSED`.
    #[serde(with = "state_option", skip_serializing_if = "Option::is_none")]
    pub transition_to_state_after_wait_duration: Option<State>,
    /// `COUNT_BASED` or `TIME_BASED`.
    #[serde(with = "window_type_option", skip_serializing_if = "Option::is_none")]
    pub sliding_window_type: Option<SlidingWindowType>,
    /// Window size in calls or seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sliding_window_size: Option<u32>,
    /// Calls needed before rates are computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_number_of_calls: Option<u32>,
    /// The wait in OPEN (the first wait, with backoff).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub wait_duration_in_open_state: Option<Duration>,
    /// Whether a timer moves OPEN to HALF_OPEN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic_transition_from_open_to_half_open_enabled: Option<bool>,
    /// The state a new breaker starts in.
    #[serde(with = "state_option", skip_serializing_if = "Option::is_none")]
    pub initial_state: Option<State>,
    /// Time limit for guarded async calls (the time limiter). `Some(Duration::ZERO)`, written
    /// `"off"` in files, switches off a limit inherited through `base_config`.
    #[serde(
        with = "duration::timeout_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    /// Grow the wait in OPEN exponentially (needs `wait_duration_in_open_state` in the same
    /// section).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_exponential_backoff: Option<bool>,
    /// Growth factor of the exponential backoff (default 1.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exponential_backoff_multiplier: Option<f64>,
    /// Cap of the exponential backoff.
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub exponential_max_wait_duration_in_open_state: Option<Duration>,
    /// Randomize the wait in OPEN (needs `wait_duration_in_open_state` in the same section).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_randomized_wait: Option<bool>,
    /// Spread of the randomized wait, in `[0, 1)` (default 0.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub randomized_wait_factor: Option<f64>,
}

/// Every key of [`BreakerSettings`], as written in TOML.
pub(crate) const FIELDS: &[&str] = &[
    "base_config",
    "failure_rate_threshold",
    "slow_call_rate_threshold",
    "slow_call_duration_threshold",
    "permitted_number_of_calls_in_half_open_state",
    "max_wait_duration_in_half_open_state",
    "transition_to_state_after_wait_duration",
    "sliding_window_type",
    "sliding_window_size",
    "minimum_number_of_calls",
    "wait_duration_in_open_state",
    "automatic_transition_from_open_to_half_open_enabled",
    "initial_state",
    "timeout",
    "enable_exponential_backoff",
    "exponential_backoff_multiplier",
    "exponential_max_wait_duration_in_open_state",
    "enable_randomized_wait",
    "randomized_wait_factor",
];

impl BreakerSettings {
    /// Sets the field named `field` (one of [`FIELDS`]) from `node`; the error is the rule the
    /// value breaks.
    pub(crate) fn set(&mut self, field: &str, node: &Node, typing: Typing) -> Result<(), String> {
        match field {
            "base_config" => self.base_config = Some(node.to_text(typing)?),
            "failure_rate_threshold" => {
                self.failure_rate_threshold = Some(node.to_f64(typing)? as f32)
            }
            "slow_call_rate_threshold" => {
                self.slow_call_rate_threshold = Some(node.to_f64(typing)? as f32)
            }
            "slow_call_duration_threshold" => {
                self.slow_call_duration_threshold = Some(node.to_duration()?)
            }
            "permitted_number_of_calls_in_half_open_state" => {
                self.permitted_number_of_calls_in_half_open_state = Some(node.to_u32(typing)?)
            }
            "max_wait_duration_in_half_open_state" => {
                self.max_wait_duration_in_half_open_state = Some(node.to_duration()?)
            }
            "transition_to_state_after_wait_duration" => {
                self.transition_to_state_after_wait_duration = Some(node.to_state()?)
            }
            "sliding_window_type" => self.sliding_window_type = Some(node.to_window_type()?),
            "sliding_window_size" => self.sliding_window_size = Some(node.to_u32(typing)?),
            "minimum_number_of_calls" => self.minimum_number_of_calls = Some(node.to_u32(typing)?),
            "wait_duration_in_open_state" => {
                self.wait_duration_in_open_state = Some(node.to_duration()?)
            }
            "automatic_transition_from_open_to_half_open_enabled" => {
                self.automatic_transition_from_open_to_half_open_enabled =
                    Some(node.to_bool(typing)?)
            }
            "initial_state" => self.initial_state = Some(node.to_state()?),
            "timeout" => self.timeout = Some(node.to_timeout()?),
            "enable_exponential_backoff" => {
                self.enable_exponential_backoff = Some(node.to_bool(typing)?)
            }
            "exponential_backoff_multiplier" => {
                self.exponential_backoff_multiplier = Some(node.to_f64(typing)?)
            }
            "exponential_max_wait_duration_in_open_state" => {
                self.exponential_max_wait_duration_in_open_state = Some(node.to_duration()?)
            }
            "enable_randomized_wait" => self.enable_randomized_wait = Some(node.to_bool(typing)?),
            "randomized_wait_factor" => self.randomized_wait_factor = Some(node.to_f64(typing)?),
            other => return Err(format!("`{other}` is not a breaker property")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::node::{Pos, Value};

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
                f if f.starts_with("enable") || f.starts_with("automatic") => {
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
}
