//! Retry sections of config files: TOML `[retry.configs.<name>]` / `[retry.instances.<name>]`
//! and Spring's `resilience4j.retry` block, resolved into [`RetryConfig`]s with Resilience4j's
//! retry rules (`CommonRetryConfigurationProperties.createRetryConfig`), which differ from the
//! breaker's:
//! - a section without `base_config` starts from `configs.default` when there is one, configs
//!   included (the breaker's named configs do not inherit `default` implicitly);
//! - a section on top of a base takes the base's backoff keys it does not set itself
//!   (`enable_exponential_backoff`, `enable_randomized_wait`, `exponential_backoff_multiplier`,
//!   `exponential_max_wait_duration`; Spring's `ConfigUtils.mergePropertiesIfAny`), but they
//!   shape the wait only where `wait_duration` is set in the section itself: elsewhere the
//!   base's interval function is inherited unchanged (Spring's quirk, reproduced, with a warning
//!   for keys that have no effect).
//!
//! Deviations: an instance without `base_config` and without `configs.default` starts from a
//! config of its own name if there is one (Resilience4j starts from the library default);
//! `base_config` chains are resolved in order, so merged backoff keys reach every level
//! (Resilience4j's result depends on hash-map order for chains of configs).

use super::inherit::{Group, Inheritance, Layer};
use super::node::{Node, Pos, Typing, invalid};
use super::resolve::{FieldOrigin, KeyStyle, SectionOrigin};
use super::{ConfigWarning, suggest};
use crate::config::{ConfigError, ConfigErrorKind, Location};
use crate::retry::{RETRY_FIELDS, RetryConfig, RetrySettings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The retry part of a config file in fusebox's layout (`[retry.configs.<name>]`,
/// `[retry.instances.<name>]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryFileConfig {
    /// Shared retry configs by name; `default` is the registry's default retry config.
    pub configs: BTreeMap<String, RetrySettings>,
    /// Retry instances by name.
    pub instances: BTreeMap<String, RetrySettings>,
}

impl RetryFileConfig {
    /// Whether the file has no retry section.
    pub fn is_empty(&self) -> bool {
        self.configs.is_empty() && self.instances.is_empty()
    }
}

/// Every retry config of a file, resolved and validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedRetries {
    /// The registry's default retry config: `retry.configs.default` if present, else
    /// Resilience4j's defaults.
    pub default: RetryConfig,
    /// Every shared retry config by name, `default` included.
    pub configs: BTreeMap<String, RetryConfig>,
    /// Every configured retry by name.
    pub instances: BTreeMap<String, RetryConfig>,
}

/// Where the retry sections were written.
#[derive(Clone, Debug)]
pub(crate) struct RetryOrigins {
    pub(crate) file: Option<PathBuf>,
    /// `retry` (TOML) or `resilience4j.retry` (Spring).
    pub(crate) prefix: String,
    pub(crate) style: KeyStyle,
    pub(crate) configs: BTreeMap<String, SectionOrigin>,
    pub(crate) instances: BTreeMap<String, SectionOrigin>,
}

impl Default for RetryOrigins {
    fn default() -> Self {
        Self {
            file: None,
            prefix: "retry".to_owned(),
            style: KeyStyle::Snake,
            configs: BTreeMap::new(),
            instances: BTreeMap::new(),
        }
    }
}

impl RetryOrigins {
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

/// Reads one retry section's entries (`(written key, canonical key, position, value)`), where a
/// key is a [`RETRY_FIELDS`] name compared by `canonical`. Keys that `java_only` knows become
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
) -> Result<(RetrySettings, SectionOrigin), ConfigError> {
    let mut settings = RetrySettings::default();
    let mut fields = BTreeMap::new();
    for (written, key_pos, node) in entries {
        let key = format!("{path}.{written}");
        let wanted = canonical(written);
        if let Some(&field) = RETRY_FIELDS.iter().find(|f| canonical(f) == wanted) {
            settings
                .set(field, node, typing)
                .map_err(|rule| invalid(&key, node, rule, file))?;
            if field == "randomized_wait_factor"
                && let Some(f) = settings.randomized_wait_factor
                && !(0.0..1.0).contains(&f)
            {
                // Spring's setter: [0, 1) (the core accepts 1).
                return Err(invalid(&key, node, "must be in [0, 1)".into(), file));
            }
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
            let suggestion = suggest::nearest(written, RETRY_FIELDS.iter().copied(), canonical)
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

/// Resolves every retry config and instance with Resilience4j's retry rules.
pub(crate) fn resolve(
    config: &RetryFileConfig,
    origins: &RetryOrigins,
) -> Result<(ResolvedRetries, Vec<ConfigWarning>), ConfigError> {
    let has_default = config.configs.contains_key("default");
    // Resilience4j's retry: a section without a base starts from `configs.default`.
    let with_default_base = |name: &str, s: &RetrySettings| {
        let mut s = s.clone();
        if s.base_config.is_none() && has_default && name != "default" {
            s.base_config = Some("default".to_owned());
        }
        s
    };
    let configs: BTreeMap<String, RetrySettings> = config
        .configs
        .iter()
        .map(|(n, s)| (n.clone(), with_default_base(n, s)))
        .collect();
    let layer = Retries {
        origins,
        warnings: Vec::new(),
    };
    let mut inheritance = Inheritance::new(&configs, layer);
    for name in configs.keys() {
        inheritance.config(name)?;
    }
    let mut instances = BTreeMap::new();
    for (name, settings) in &config.instances {
        let settings = with_default_base(name, settings);
        let (built, _) = inheritance.instance(name, &settings)?;
        instances.insert(name.clone(), built);
    }
    let (built, layer) = inheritance.finish();
    let configs: BTreeMap<String, RetryConfig> =
        built.into_iter().map(|(n, (c, _))| (n, c)).collect();
    let default = configs.get("default").cloned().unwrap_or_default();
    Ok((
        ResolvedRetries {
            default,
            configs,
            instances,
        },
        layer.warnings,
    ))
}

/// Retry sections as an inheritance [`Layer`]: a resolved section is its config and its
/// settings after taking the base's backoff keys (which its own sections merge in turn).
struct Retries<'a> {
    origins: &'a RetryOrigins,
    warnings: Vec<ConfigWarning>,
}

impl Layer for Retries<'_> {
    type Section = RetrySettings;
    type Built = (RetryConfig, RetrySettings);
    const OWN_NAME_ADVICE: &'static str = "";

    fn base_of(section: &RetrySettings) -> Option<&str> {
        section.base_config.as_deref()
    }

    fn root(&self) -> (RetryConfig, RetrySettings) {
        (RetryConfig::default(), RetrySettings::default())
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
        (base, base_settings): &(RetryConfig, RetrySettings),
        section: &RetrySettings,
    ) -> Result<(RetryConfig, RetrySettings), ConfigError> {
        let origin = self.origins.section(group, name);
        let mut s = section.clone();
        // ConfigUtils.mergePropertiesIfAny: the base's backoff keys, where unset.
        s.enable_exponential_backoff = s
            .enable_exponential_backoff
            .or(base_settings.enable_exponential_backoff);
        s.enable_randomized_wait = s
            .enable_randomized_wait
            .or(base_settings.enable_randomized_wait);
        s.exponential_backoff_multiplier = s
            .exponential_backoff_multiplier
            .or(base_settings.exponential_backoff_multiplier);
        s.exponential_max_wait_duration = s
            .exponential_max_wait_duration
            .or(base_settings.exponential_max_wait_duration);
        if s.wait_duration.is_none() {
            self.warn_ineffective(&origin, section);
        }
        let config = s.apply_to(base.to_builder()).build().map_err(|e| {
            let (path, location, written) = self.origins.field(&origin, e.key());
            let kind = match (e.kind().clone(), written) {
                (ConfigErrorKind::InvalidValue { rule, .. }, Some(value)) => {
                    ConfigErrorKind::InvalidValue { value, rule }
                }
                (kind, _) => kind,
            };
            ConfigError::new(path, kind).at(location)
        })?;
        Ok((config, s))
    }
}

impl Retries<'_> {
    /// Backoff keys written in a section without `wait_duration` do not shape its wait.
    fn warn_ineffective(&mut self, origin: &SectionOrigin, written: &RetrySettings) {
        let style = self.origins.style;
        let keys = [
            (
                "enable_exponential_backoff",
                written.enable_exponential_backoff.is_some(),
            ),
            (
                "enable_randomized_wait",
                written.enable_randomized_wait.is_some(),
            ),
            (
                "exponential_backoff_multiplier",
                written.exponential_backoff_multiplier.is_some(),
            ),
            (
                "exponential_max_wait_duration",
                written.exponential_max_wait_duration.is_some(),
            ),
            (
                "randomized_wait_factor",
                written.randomized_wait_factor.is_some(),
            ),
        ];
        for (key, set) in keys {
            if set {
                let (path, location, _) = self.origins.field(origin, key);
                self.warnings.push(ConfigWarning {
                    key: path,
                    location,
                    message: format!(
                        "does not shape this section's wait without `{}` in the same section \
                         (Resilience4j applies backoff only where the wait is set); sections \
                         based on this one still take it",
                        style.spell("wait_duration")
                    ),
                });
            }
        }
    }
}
