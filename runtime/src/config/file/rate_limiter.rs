//! Rate limiter sections of config files: TOML `[rate_limiter.configs.<name>]` /
//! `[rate_limiter.instances.<name>]` and Spring's `resilience4j.ratelimiter` block, resolved into
//! [`RateLimiterConfig`]s with Resilience4j's rate limiter rules
//! (`CommonRateLimiterConfigurationProperties.createRateLimiterConfig`), the retry's rules:
//! - a section without `base_config` starts from `configs.default` when there is one, configs
//!   included;
//! - `base_config` names a config, which must exist;
//! - the base's health, event and buffer keys reach the section where it does not set them
//!   (Spring's `ConfigUtils.mergePropertiesIfAny`; in fusebox every key is inherited that way).
//!
//! `writableStackTraceEnabled` loads with a warning (there are no stack traces to trim).
//! Deviations: as for the retry, `base_config` chains are resolved in order and an instance
//! without `base_config` and without `configs.default` starts from a config of its own name if
//! there is one (Resilience4j starts from the library default).

use super::inherit::{Group, Inheritance, Layer};
use super::node::{Node, Pos, Typing, invalid};
use super::resolve::{FieldOrigin, KeyStyle, SectionOrigin};
use super::{ConfigWarning, suggest};
use crate::config::{ConfigError, ConfigErrorKind, Location};
use crate::rate_limiter::{RATE_LIMITER_FIELDS, RateLimiterConfig, RateLimiterSettings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rate limiter part of a config file in fusebox's layout
/// (`[rate_limiter.configs.<name>]`, `[rate_limiter.instances.<name>]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimiterFileConfig {
    /// Shared rate limiter configs by name; `default` is the registry's default.
    pub configs: BTreeMap<String, RateLimiterSettings>,
    /// Rate limiter instances by name.
    pub instances: BTreeMap<String, RateLimiterSettings>,
}

impl RateLimiterFileConfig {
    /// Whether the file has no rate limiter section.
    pub fn is_empty(&self) -> bool {
        self.configs.is_empty() && self.instances.is_empty()
    }
}

/// Every rate limiter config of a file, resolved and validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedRateLimiters {
    /// The registry's default rate limiter config: `rate_limiter.configs.default` if present,
    /// else Resilience4j's defaults.
    pub default: RateLimiterConfig,
    /// Every shared rate limiter config by name, `default` included.
    pub configs: BTreeMap<String, RateLimiterConfig>,
    /// Every configured rate limiter by name.
    pub instances: BTreeMap<String, RateLimiterConfig>,
}

/// Where the rate limiter sections were written.
#[derive(Clone, Debug)]
pub(crate) struct RateLimiterOrigins {
    pub(crate) file: Option<PathBuf>,
    /// `rate_limiter` (TOML) or `resilience4j.ratelimiter` (Spring).
    pub(crate) prefix: String,
    pub(crate) style: KeyStyle,
    pub(crate) configs: BTreeMap<String, SectionOrigin>,
    pub(crate) instances: BTreeMap<String, SectionOrigin>,
}

impl Default for RateLimiterOrigins {
    fn default() -> Self {
        Self {
            file: None,
            prefix: "rate_limiter".to_owned(),
            style: KeyStyle::Snake,
            configs: BTreeMap::new(),
            instances: BTreeMap::new(),
        }
    }
}

impl RateLimiterOrigins {
    fn section(&self, group: Group, name: &str) -> SectionOrigin {
        let known = match group {
            Group::Configs => self.configs.get(name),
            Group::Instances => self.instances.get(name),
        };
        known.cloned().unwrap_or_else(|| SectionOrigin {
            path: format!("{}.{}.{name}", self.prefix, group.name()),
            ..SectionOrigin::default()
        })
    }

    fn field(&self, section: &SectionOrigin, field: &str) -> (String, Location, Option<String>) {
        match section.fields.get(field) {
            Some(f) => (
                f.path.clone(),
                f.pos.location(self.file.as_deref()),
                Some(f.written.clone()),
            ),
            None => (
                format!("{}.{}", section.path, self.style.spell(field)),
                section.pos.location(self.file.as_deref()),
                None,
            ),
        }
    }
}

/// The message for a Java-only property of a Spring rate limiter section (`canonical`: the key
/// lowercased without separators).
#[cfg(feature = "yaml")]
pub(crate) fn java_only(canonical: &str) -> Option<&'static str> {
    (canonical == "writablestacktraceenabled").then_some(
        "not applied: Rust errors carry no stack trace to trim; `RequestNotPermitted` is a small \
         value either way",
    )
}

/// Reads one rate limiter section's entries (`(written key, position, value)`), where a key is a
/// [`RATE_LIMITER_FIELDS`] name compared by `canonical`. Keys that `java_only` knows become
/// warnings; others are errors naming the nearest key.
#[allow(
    clippy::too_many_arguments,
    reason = "one call per layout; a struct would only rename them"
)]
pub(crate) fn read_section<'a>(
    path: &str,
    pos: Pos,
    entries: impl IntoIterator<Item = (&'a str, Pos, &'a Node)>,
    canonical: fn(&str) -> String,
    java_only: fn(&str) -> Option<&'static str>,
    typing: Typing,
    file: Option<&Path>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(RateLimiterSettings, SectionOrigin), ConfigError> {
    let mut settings = RateLimiterSettings::default();
    let mut fields = BTreeMap::new();
    for (written, key_pos, node) in entries {
        let key = format!("{path}.{written}");
        let wanted = canonical(written);
        if let Some(&field) = RATE_LIMITER_FIELDS.iter().find(|f| canonical(f) == wanted) {
            settings
                .set(field, node, typing)
                .map_err(|rule| invalid(&key, node, rule, file))?;
            fields.insert(
                field,
                FieldOrigin {
                    path: key,
                    written: node.to_string(),
                    pos: node.pos,
                },
            );
        } else if let Some(message) = java_only(&wanted) {
            warnings.push(ConfigWarning {
                key,
                location: key_pos.location(file),
                message: message.to_owned(),
            });
        } else {
            let suggestion =
                suggest::nearest(written, RATE_LIMITER_FIELDS.iter().copied(), canonical)
                    .map(str::to_owned);
            return Err(
                ConfigError::new(key, ConfigErrorKind::UnknownKey { suggestion })
                    .at(key_pos.location(file)),
            );
        }
    }
    let origin = SectionOrigin {
        path: path.to_owned(),
        pos,
        fields,
    };
    Ok((settings, origin))
}

/// Resolves every rate limiter config and instance with Resilience4j's rules.
pub(crate) fn resolve(
    config: &RateLimiterFileConfig,
    origins: &RateLimiterOrigins,
) -> Result<ResolvedRateLimiters, ConfigError> {
    let has_default = config.configs.contains_key("default");
    // A section without a base starts from `configs.default`.
    let with_default_base = |name: &str, s: &RateLimiterSettings| {
        let mut s = s.clone();
        if s.base_config.is_none() && has_default && name != "default" {
            s.base_config = Some("default".to_owned());
        }
        s
    };
    let configs: BTreeMap<String, RateLimiterSettings> = config
        .configs
        .iter()
        .map(|(n, s)| (n.clone(), with_default_base(n, s)))
        .collect();
    let mut inheritance = Inheritance::new(&configs, Limiters { origins });
    for name in configs.keys() {
        inheritance.config(name)?;
    }
    let mut instances = BTreeMap::new();
    for (name, settings) in &config.instances {
        let settings = with_default_base(name, settings);
        instances.insert(name.clone(), inheritance.instance(name, &settings)?);
    }
    let (configs, _) = inheritance.finish();
    let default = configs.get("default").cloned().unwrap_or_default();
    Ok(ResolvedRateLimiters {
        default,
        configs,
        instances,
    })
}

/// Rate limiter sections as an inheritance [`Layer`]: a resolved section is its config.
struct Limiters<'a> {
    origins: &'a RateLimiterOrigins,
}

impl Layer for Limiters<'_> {
    type Section = RateLimiterSettings;
    type Built = RateLimiterConfig;
    const OWN_NAME_ADVICE: &'static str = "";

    fn base_of(section: &RateLimiterSettings) -> Option<&str> {
        section.base_config.as_deref()
    }

    fn root(&self) -> RateLimiterConfig {
        RateLimiterConfig::default()
    }

    fn base_key(&self, group: Group, name: &str) -> (String, Location) {
        let section = self.origins.section(group, name);
        let (path, location, _) = self.origins.field(&section, "base_config");
        (path, location)
    }

    fn apply(
        &mut self,
        group: Group,
        name: &str,
        base: &RateLimiterConfig,
        section: &RateLimiterSettings,
    ) -> Result<RateLimiterConfig, ConfigError> {
        section.apply_to(base.to_builder()).build().map_err(|e| {
            let origin = self.origins.section(group, name);
            let (path, location, written) = self.origins.field(&origin, e.key());
            let kind = match (e.kind().clone(), written) {
                (ConfigErrorKind::InvalidValue { rule, .. }, Some(value)) => {
                    ConfigErrorKind::InvalidValue { value, rule }
                }
                (kind, _) => kind,
            };
            ConfigError::new(path, kind).at(location)
        })
    }
}
