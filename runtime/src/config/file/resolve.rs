//! Breaker sections on top of their bases: a [`RegistryConfig`] resolved into
//! [`CircuitBreakerConfig`]s with [`super::inherit`]'s `base_config` rules, and where every
//! property was written, to locate errors and warnings.
//!
//! Each section's properties override its base; a base's wait-interval function (backoff) is
//! inherited unless the section sets `wait_duration_in_open_state` itself, which is the only
//! place backoff settings take effect.

use super::inherit::{Group, Inheritance, Layer};
use super::node::Pos;
use super::settings::{BreakerSettings, RegistryConfig};
use super::tags;
use super::{ConfigWarning, ResolvedConfig};
use crate::config::{CircuitBreakerConfig, ConfigError, ConfigErrorKind, Location};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where a property was written.
#[derive(Clone, Debug, Default)]
pub(crate) struct FieldOrigin {
    /// The full key path as written (`resilience4j.circuitbreaker.instances.a.slidingWindowSize`).
    pub(crate) path: String,
    /// The value as written.
    pub(crate) written: String,
    /// Where the value starts.
    pub(crate) pos: Pos,
}

/// Where a section and its properties were written.
#[derive(Clone, Debug, Default)]
pub(crate) struct SectionOrigin {
    /// The section's key path (`instances.orders`).
    pub(crate) path: String,
    /// Where the section's name is written.
    pub(crate) pos: Pos,
    /// Its properties, by [`BreakerSettings`] field name.
    pub(crate) fields: BTreeMap<&'static str, FieldOrigin>,
}

/// How keys are spelled in messages: TOML's snake_case or Spring's camelCase.
#[cfg_attr(
    not(feature = "yaml"),
    allow(dead_code, reason = "`Camel` is for YAML only")
)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum KeyStyle {
    #[default]
    Snake,
    Camel,
}

impl KeyStyle {
    /// `field` (snake_case) in this style.
    pub(crate) fn spell(self, field: &str) -> String {
        match self {
            KeyStyle::Snake => field.to_owned(),
            KeyStyle::Camel => {
                let mut out = String::with_capacity(field.len());
                let mut upper = false;
                for c in field.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        out.push(c.to_ascii_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }
}

/// Where every section of a [`RegistryConfig`] came from, to locate errors and warnings.
#[derive(Clone, Debug, Default)]
pub(crate) struct Origins {
    pub(crate) file: Option<PathBuf>,
    /// Prefix of section paths (`resilience4j.circuitbreaker` for Spring, empty for TOML).
    pub(crate) prefix: String,
    pub(crate) style: KeyStyle,
    pub(crate) configs: BTreeMap<String, SectionOrigin>,
    pub(crate) instances: BTreeMap<String, SectionOrigin>,
    /// Where each registry-wide tag was written.
    pub(crate) tags: BTreeMap<String, FieldOrigin>,
    /// Where the retry sections were written.
    pub(crate) retry: super::retry::RetryOrigins,
    /// Where the rate limiter sections were written.
    pub(crate) rate_limiter: super::rate_limiter::RateLimiterOrigins,
    /// Where the bulkhead sections were written.
    pub(crate) bulkhead: super::bulkhead::BulkheadOrigins,
}

impl Origins {
    fn section(&self, group: Group, name: &str) -> SectionOrigin {
        let known = match group {
            Group::Configs => self.configs.get(name),
            Group::Instances => self.instances.get(name),
        };
        known.cloned().unwrap_or_else(|| {
            let path = format!("{}.{name}", group.name());
            SectionOrigin {
                path: if self.prefix.is_empty() {
                    path
                } else {
                    format!("{}.{path}", self.prefix)
                },
                ..SectionOrigin::default()
            }
        })
    }

    fn location(&self, pos: Pos) -> Location {
        pos.location(self.file.as_deref())
    }

    /// The path and location of `field` in a section (the section's own if not written there).
    fn field(&self, section: &SectionOrigin, field: &str) -> (String, Location, Option<String>) {
        match section.fields.get(field) {
            Some(f) => (
                f.path.clone(),
                self.location(f.pos),
                Some(f.written.clone()),
            ),
            None => (
                format!("{}.{}", section.path, self.style.spell(field)),
                self.location(section.pos),
                None,
            ),
        }
    }

    /// Re-homes a builder error (keyed by a bare field name) onto the section it came from,
    /// showing the value as written.
    fn locate(&self, section: &SectionOrigin, err: ConfigError) -> ConfigError {
        let (path, location, written) = self.field(section, err.key());
        let kind = match (err.kind().clone(), written) {
            (ConfigErrorKind::InvalidValue { rule, .. }, Some(value)) => {
                ConfigErrorKind::InvalidValue { value, rule }
            }
            (kind, _) => kind,
        };
        ConfigError::new(path, kind).at(location)
    }
}

/// Resolves every config and instance, collecting warnings.
pub(crate) fn resolve(
    config: &RegistryConfig,
    origins: &Origins,
) -> Result<(ResolvedConfig, Vec<ConfigWarning>), ConfigError> {
    let layer = Breakers {
        origins,
        warnings: Vec::new(),
    };
    let mut inheritance = Inheritance::new(&config.configs, layer);
    for name in config.configs.keys() {
        inheritance.config(name)?;
    }
    let mut instances = BTreeMap::new();
    for (name, settings) in &config.instances {
        instances.insert(name.clone(), inheritance.instance(name, settings)?);
    }
    let (configs, layer) = inheritance.finish();
    let default = configs.get("default").cloned().unwrap_or_default();
    let mut warnings = layer.warnings;
    let (retry, retry_warnings) = super::retry::resolve(&config.retry, &origins.retry)?;
    warnings.extend(retry_warnings);
    let rate_limiter = super::rate_limiter::resolve(&config.rate_limiter, &origins.rate_limiter)?;
    let bulkhead = super::bulkhead::resolve(&config.bulkhead, &origins.bulkhead)?;
    for (name, value) in &config.tags {
        if let Some(rule) = tags::tag_name_problem(name) {
            let (path, location, written) = match origins.tags.get(name) {
                Some(origin) => (
                    origin.path.clone(),
                    origins.location(origin.pos),
                    origin.written.clone(),
                ),
                None => (
                    format!("tags.{name}"),
                    Location::default(),
                    format!("{value:?}"),
                ),
            };
            return Err(ConfigError::invalid(path, written, rule).at(location));
        }
    }
    let resolved = ResolvedConfig {
        default,
        configs,
        instances,
        tags: config.tags.clone(),
        retry,
        time_limiter: config.time_limiter.resolve()?,
        rate_limiter,
        bulkhead,
    };
    Ok((resolved, warnings))
}

/// Breaker sections as an inheritance [`Layer`]: settings applied through the builder.
struct Breakers<'a> {
    origins: &'a Origins,
    warnings: Vec<ConfigWarning>,
}

impl Layer for Breakers<'_> {
    type Section = BreakerSettings;
    type Built = CircuitBreakerConfig;
    const OWN_NAME_ADVICE: &'static str =
        ": an instance whose name matches a config already starts from that config";

    fn base_of(section: &BreakerSettings) -> Option<&str> {
        section.base_config.as_deref()
    }

    fn root(&self) -> CircuitBreakerConfig {
        CircuitBreakerConfig::default()
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
        base: &CircuitBreakerConfig,
        settings: &BreakerSettings,
    ) -> Result<CircuitBreakerConfig, ConfigError> {
        self.apply_settings(group, name, base, settings)
    }
}

impl Breakers<'_> {
    /// `settings` on top of `base`, validated by the builder.
    fn apply_settings(
        &mut self,
        group: Group,
        name: &str,
        base: &CircuitBreakerConfig,
        s: &BreakerSettings,
    ) -> Result<CircuitBreakerConfig, ConfigError> {
        let section = self.origins.section(group, name);
        let exponential = s.enable_exponential_backoff == Some(true);
        let randomized = s.enable_randomized_wait == Some(true);
        if exponential && randomized {
            let (path, location, _) = self.origins.field(&section, "enable_randomized_wait");
            let style = self.origins.style;
            return Err(ConfigError::new(
                path,
                ConfigErrorKind::Conflict {
                    message: format!(
                        "`{}` and `{}` cannot both be true (Resilience4j throws \
                         IllegalStateException); enable only one of them",
                        style.spell("enable_exponential_backoff"),
                        style.spell("enable_randomized_wait"),
                    ),
                },
            )
            .at(location));
        }
        self.warn_ineffective_backoff(&section, s);

        s.apply_to(base.to_builder())
            .build()
            .map_err(|e| self.origins.locate(&section, e))
    }

    /// Backoff keys that Resilience4j silently ignores get a warning each.
    fn warn_ineffective_backoff(&mut self, section: &SectionOrigin, s: &BreakerSettings) {
        let style = self.origins.style;
        let wait = style.spell("wait_duration_in_open_state");
        let mut ineffective: Vec<(&str, String)> = Vec::new();
        let exponential_keys = [
            (
                "enable_exponential_backoff",
                s.enable_exponential_backoff == Some(true),
            ),
            (
                "exponential_backoff_multiplier",
                s.exponential_backoff_multiplier.is_some(),
            ),
            (
                "exponential_max_wait_duration_in_open_state",
                s.exponential_max_wait_duration_in_open_state.is_some(),
            ),
        ];
        let randomized_keys = [
            (
                "enable_randomized_wait",
                s.enable_randomized_wait == Some(true),
            ),
            ("randomized_wait_factor", s.randomized_wait_factor.is_some()),
        ];
        let groups = [
            (
                &exponential_keys[..],
                s.enable_exponential_backoff,
                "enable_exponential_backoff",
            ),
            (
                &randomized_keys[..],
                s.enable_randomized_wait,
                "enable_randomized_wait",
            ),
        ];
        for (keys, enabled, switch) in groups {
            for &(key, set) in keys {
                if !set {
                    continue;
                }
                if s.wait_duration_in_open_state.is_none() {
                    ineffective.push((
                        key,
                        format!(
                            "has no effect without `{wait}` in the same section (Resilience4j applies \
                             backoff only where the wait is set)"
                        ),
                    ));
                } else if enabled != Some(true) {
                    ineffective.push((
                        key,
                        format!("has no effect unless `{}` is true", style.spell(switch)),
                    ));
                }
            }
        }
        for (key, message) in ineffective {
            let (path, location, _) = self.origins.field(section, key);
            self.warnings.push(ConfigWarning {
                key: path,
                location,
                message,
            });
        }
    }
}
