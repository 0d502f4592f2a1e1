//! Time limiter sections of config files: TOML `[time_limiter.configs.<name>]` /
//! `[time_limiter.instances.<name>]` and Spring's `resilience4j.timelimiter` block, resolved into
//! [`TimeLimiterConfig`]s for the registry's [`TimeLimiter`](crate::time_limiter::TimeLimiter)s
//! with Resilience4j's rules (`CommonTimeLimiterConfigurationProperties`: the breaker's
//! `baseConfig` rules, see [`super::inherit`]).
//!
//! Keys: `timeout_duration` (Spring `timeoutDuration`), `cancel_running_future`,
//! `event_consumer_buffer_size`, `base_config`. A timeout of zero is an error in a file, as
//! for the breaker's `timeout` (Spring's block sets both); the builder accepts zero.
//!
//! The same Spring sections still set the `timeout` of the breakers of the same names (see
//! [`super`]); that mapping is unchanged.

use super::inherit::{Group, Inheritance, Layer};
use super::node::{Node, Pos, Typing, invalid};
use super::resolve::FieldOrigin;
use crate::config::{CircuitBreakerConfig, ConfigError, ConfigErrorKind, Location};
use crate::time_limiter::TimeLimiterConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The time limiter part of a config file in fusebox's layout
/// (`[time_limiter.configs.<name>]`, `[time_limiter.instances.<name>]`), as a plain serde type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeLimiterFileConfig {
    /// Shared time limiter configs by name; `default` is the registry's default.
    pub configs: BTreeMap<String, TimeLimiterSettings>,
    /// Time limiter instances by name.
    pub instances: BTreeMap<String, TimeLimiterSettings>,
}

impl TimeLimiterFileConfig {
    /// Whether the file has no time limiter section.
    pub fn is_empty(&self) -> bool {
        self.configs.is_empty() && self.instances.is_empty()
    }

    /// Resolves and validates every section (no positions: see [`super::load_file`] for them).
    pub(crate) fn resolve(&self) -> Result<ResolvedTimeLimiters, ConfigError> {
        let convert = |group: &str, map: &BTreeMap<String, TimeLimiterSettings>| {
            map.iter()
                .map(|(name, settings)| {
                    settings
                        .to_section(&format!("time_limiter.{group}.{name}"))
                        .map(|s| (name.clone(), s))
                })
                .collect::<Result<BTreeMap<_, _>, ConfigError>>()
        };
        TimeLimiterSections {
            configs: convert("configs", &self.configs)?,
            instances: convert("instances", &self.instances)?,
        }
        .resolve("time_limiter", "base_config", None)
    }
}

/// One time limiter section: only the keys that are set override the base.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeLimiterSettings {
    /// The config this one starts from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_config: Option<String>,
    /// How long a call may take (`"2s"`, `"500ms"`, or milliseconds).
    #[serde(
        with = "super::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout_duration: Option<Duration>,
    /// Whether a spawned call is cancelled when it times out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_running_future: Option<bool>,
    /// Events kept for the events endpoint; at least 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_consumer_buffer_size: Option<u32>,
}

impl TimeLimiterSettings {
    /// The section, its values checked; `path` names the section in errors.
    fn to_section(&self, path: &str) -> Result<TimeLimiterSection, ConfigError> {
        let origin = |key: &str, written: String| FieldOrigin {
            path: format!("{path}.{key}"),
            written,
            pos: Pos::default(),
        };
        if let Some(timeout) = self.timeout_duration {
            check_timeout(timeout).map_err(|rule| {
                ConfigError::invalid(
                    format!("{path}.timeout_duration"),
                    format!("{timeout:?}"),
                    rule,
                )
            })?;
        }
        let event_consumer_buffer_size = match self.event_consumer_buffer_size {
            Some(0) => {
                return Err(ConfigError::invalid(
                    format!("{path}.event_consumer_buffer_size"),
                    0,
                    "must be at least 1",
                ));
            }
            Some(size) => Some((size, origin("event_consumer_buffer_size", size.to_string()))),
            None => None,
        };
        Ok(TimeLimiterSection {
            timeout: self.timeout_duration,
            cancel_running_future: self.cancel_running_future,
            event_consumer_buffer_size,
            base: self
                .base_config
                .as_ref()
                .map(|b| (b.clone(), origin("base_config", format!("{b:?}")))),
        })
    }
}

/// A file's time limit follows the breaker's `timeout` rule (Spring's block sets both).
fn check_timeout(timeout: Duration) -> Result<(), String> {
    CircuitBreakerConfig::builder()
        .timeout(timeout)
        .build()
        .map(|_| ())
        .map_err(|e| match e.kind() {
            ConfigErrorKind::InvalidValue { rule, .. } => rule.clone(),
            _ => e.to_string(),
        })
}

/// Every time limiter config of a file, resolved and validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedTimeLimiters {
    /// The registry's default time limiter config: `configs.default` if present, else
    /// Resilience4j's defaults.
    pub default: TimeLimiterConfig,
    /// Every shared time limiter config by name, `default` included.
    pub configs: BTreeMap<String, TimeLimiterConfig>,
    /// Every configured time limiter by name.
    pub instances: BTreeMap<String, TimeLimiterConfig>,
}

/// One time limiter section as written.
#[derive(Debug, Default)]
pub(crate) struct TimeLimiterSection {
    pub(crate) timeout: Option<Duration>,
    pub(crate) cancel_running_future: Option<bool>,
    pub(crate) event_consumer_buffer_size: Option<(u32, FieldOrigin)>,
    pub(crate) base: Option<(String, FieldOrigin)>,
}

/// The keys of a time limiter section, snake_case (TOML) and camelCase (Spring).
pub(crate) const SNAKE_KEYS: [&str; 4] = [
    "timeout_duration",
    "cancel_running_future",
    "event_consumer_buffer_size",
    "base_config",
];
#[cfg(feature = "yaml")]
pub(crate) const CAMEL_KEYS: [&str; 4] = [
    "timeoutDuration",
    "cancelRunningFuture",
    "eventConsumerBufferSize",
    "baseConfig",
];

impl TimeLimiterSection {
    /// Reads one property; `canonical` is the key lower-cased without separators, `key` its
    /// full path as written. `Ok(false)` for a key that is not a time limiter property.
    pub(crate) fn read(
        &mut self,
        canonical: &str,
        key: &str,
        node: &Node,
        typing: Typing,
        file: Option<&Path>,
    ) -> Result<bool, ConfigError> {
        let origin = || FieldOrigin {
            path: key.to_owned(),
            written: node.to_string(),
            pos: node.pos,
        };
        match canonical {
            "timeoutduration" => {
                let timeout = node
                    .to_duration()
                    .and_then(|d| check_timeout(d).map(|()| d))
                    .map_err(|rule| invalid(key, node, rule, file))?;
                self.timeout = Some(timeout);
            }
            "cancelrunningfuture" => {
                let cancel = node
                    .to_bool(typing)
                    .map_err(|rule| invalid(key, node, rule, file))?;
                self.cancel_running_future = Some(cancel);
            }
            "eventconsumerbuffersize" => {
                let size = node
                    .to_u32(typing)
                    .map_err(|rule| invalid(key, node, rule, file))?;
                if size == 0 {
                    return Err(invalid(key, node, "must be at least 1".into(), file));
                }
                self.event_consumer_buffer_size = Some((size, origin()));
            }
            "baseconfig" => {
                let base = node
                    .to_text(typing)
                    .map_err(|rule| invalid(key, node, rule, file))?;
                self.base = Some((base, origin()));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The time limiter sections of a file.
#[derive(Debug, Default)]
pub(crate) struct TimeLimiterSections {
    pub(crate) configs: BTreeMap<String, TimeLimiterSection>,
    pub(crate) instances: BTreeMap<String, TimeLimiterSection>,
}

impl TimeLimiterSections {
    /// Resolves every section; `prefix` (`time_limiter` or `resilience4j.timelimiter`) and
    /// `base_key` (`base_config` or `baseConfig`) name keys in errors.
    pub(crate) fn resolve(
        &self,
        prefix: &str,
        base_key: &str,
        file: Option<&Path>,
    ) -> Result<ResolvedTimeLimiters, ConfigError> {
        let layer = Configs {
            sections: self,
            prefix,
            base_key,
            file,
        };
        let mut inheritance = Inheritance::new(&self.configs, layer);
        for name in self.configs.keys() {
            inheritance.config(name)?;
        }
        let mut instances = BTreeMap::new();
        for (name, section) in &self.instances {
            instances.insert(name.clone(), inheritance.instance(name, section)?);
        }
        let (configs, _) = inheritance.finish();
        Ok(ResolvedTimeLimiters {
            default: configs.get("default").cloned().unwrap_or_default(),
            configs,
            instances,
        })
    }
}

/// Time limiter sections as an inheritance [`Layer`]: a section's keys override its base's.
struct Configs<'a> {
    sections: &'a TimeLimiterSections,
    prefix: &'a str,
    base_key: &'a str,
    file: Option<&'a Path>,
}

impl Layer for Configs<'_> {
    type Section = TimeLimiterSection;
    type Built = TimeLimiterConfig;
    const OWN_NAME_ADVICE: &'static str = "";

    fn base_of(section: &TimeLimiterSection) -> Option<&str> {
        section.base.as_ref().map(|(base, _)| base.as_str())
    }

    fn root(&self) -> TimeLimiterConfig {
        TimeLimiterConfig::default()
    }

    fn base_key(&self, group: Group, name: &str) -> (String, Location) {
        let sections = match group {
            Group::Configs => &self.sections.configs,
            Group::Instances => &self.sections.instances,
        };
        match sections.get(name).and_then(|s| s.base.as_ref()) {
            Some((_, origin)) => (origin.path.clone(), origin.pos.location(self.file)),
            None => (
                format!("{}.{}.{name}.{}", self.prefix, group.name(), self.base_key),
                Pos::default().location(self.file),
            ),
        }
    }

    fn apply(
        &mut self,
        _: Group,
        _: &str,
        base: &TimeLimiterConfig,
        section: &TimeLimiterSection,
    ) -> Result<TimeLimiterConfig, ConfigError> {
        let mut builder = TimeLimiterConfig::builder()
            .timeout_duration(section.timeout.unwrap_or(base.timeout_duration()))
            .cancel_running_future(
                section
                    .cancel_running_future
                    .unwrap_or(base.cancel_running_future()),
            )
            .event_consumer_buffer_size(base.event_consumer_buffer_size());
        if let Some((size, _)) = &section.event_consumer_buffer_size {
            builder = builder.event_consumer_buffer_size(*size);
        }
        builder
            .build()
            .map_err(|e| match &section.event_consumer_buffer_size {
                Some((_, origin)) => e.at(origin.pos.location(self.file)),
                None => e,
            })
    }
}
