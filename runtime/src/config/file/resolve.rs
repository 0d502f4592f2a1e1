//! Resilience4j's `baseConfig` resolution, applied to a [`RegistryConfig`].
//!
//! Rules (Resilience4j 2.4, `CommonCircuitBreakerConfigurationProperties`):
//! - an instance with `base_config = "X"` starts from config `X`, which must exist; naming a
//!   config with the instance's own name is rejected, as Resilience4j rejects it;
//! - an instance without `base_config` whose name is also a config's name starts from that config;
//! - otherwise from `configs.default` if present, otherwise from the library defaults;
//! - a config starts from its own `base_config` (chains of any length), otherwise from the library
//!   defaults: a named config does **not** implicitly inherit `configs.default`;
//! - each section's properties override its base; a base's wait-interval function (backoff) is
//!   inherited unless the section sets `wait_duration_in_open_state` itself, which is the only
//!   place backoff settings take effect;
//! - a `base_config` cycle is an error. Resilience4j only detects a config naming itself (a longer
//!   cycle overflows its stack); fusebox reports every cycle with its chain.

use super::node::Pos;
use super::settings::{BreakerSettings, RegistryConfig};
use super::{ConfigWarning, ResolvedConfig};
use crate::config::{CircuitBreakerConfig, ConfigError, ConfigErrorKind, Location, WaitInterval};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Resilience4j's default exponential backoff multiplier.
const DEFAULT_MULTIPLIER: f64 = 1.5;
/// Resilience4j's default randomization factor.
const DEFAULT_RANDOM_FACTOR: f64 = 0.5;

/// Which map a section lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    Configs,
    Instances,
}

impl Group {
    fn name(self) -> &'static str {
        match self {
            Group::Configs => "configs",
            Group::Instances => "instances",
        }
    }
}

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
    let mut resolver = Resolver {
        config,
        origins,
        built: BTreeMap::new(),
        warnings: Vec::new(),
    };
    for name in config.configs.keys() {
        resolver.config(name, &mut Vec::new())?;
    }
    let mut instances = BTreeMap::new();
    for (name, settings) in &config.instances {
        instances.insert(name.clone(), resolver.instance(name, settings)?);
    }
    let default = resolver.built.get("default").cloned().unwrap_or_default();
    let resolved = ResolvedConfig {
        default,
        configs: resolver.built,
        instances,
    };
    Ok((resolved, resolver.warnings))
}

struct Resolver<'a> {
    config: &'a RegistryConfig,
    origins: &'a Origins,
    built: BTreeMap<String, CircuitBreakerConfig>,
    warnings: Vec<ConfigWarning>,
}

impl Resolver<'_> {
    fn config(
        &mut self,
        name: &str,
        stack: &mut Vec<String>,
    ) -> Result<CircuitBreakerConfig, ConfigError> {
        if let Some(done) = self.built.get(name) {
            return Ok(done.clone());
        }
        if let Some(start) = stack.iter().position(|n| n == name) {
            let mut chain = stack[start..].to_vec();
            chain.push(name.to_owned());
            let referrer = stack.last().map_or(name, String::as_str);
            let section = self.origins.section(Group::Configs, referrer);
            let (path, location, _) = self.origins.field(&section, "base_config");
            return Err(
                ConfigError::new(path, ConfigErrorKind::BaseConfigCycle { chain }).at(location),
            );
        }
        let Some(settings) = self.config.configs.get(name) else {
            return Ok(CircuitBreakerConfig::default());
        };
        let base = match &settings.base_config {
            Some(base) => {
                self.check_exists(Group::Configs, name, base)?;
                stack.push(name.to_owned());
                let built = self.config(base, stack);
                stack.pop();
                built?
            }
            None => CircuitBreakerConfig::default(),
        };
        let built = self.apply(Group::Configs, name, &base, settings)?;
        self.built.insert(name.to_owned(), built.clone());
        Ok(built)
    }

    fn instance(
        &mut self,
        name: &str,
        settings: &BreakerSettings,
    ) -> Result<CircuitBreakerConfig, ConfigError> {
        let base = match &settings.base_config {
            Some(base) if base == name => {
                let section = self.origins.section(Group::Instances, name);
                let (path, location, _) = self.origins.field(&section, "base_config");
                return Err(ConfigError::new(
                    path,
                    ConfigErrorKind::Conflict {
                        message: format!(
                            "an instance cannot name the config of its own name `{name}` as its base \
                             (Resilience4j rejects this as a circular reference); remove it: an \
                             instance whose name matches a config already starts from that config"
                        ),
                    },
                )
                .at(location));
            }
            Some(base) => {
                self.check_exists(Group::Instances, name, base)?;
                self.config(base, &mut Vec::new())?
            }
            None if self.config.configs.contains_key(name) => self.config(name, &mut Vec::new())?,
            None if self.config.configs.contains_key("default") => {
                self.config("default", &mut Vec::new())?
            }
            None => CircuitBreakerConfig::default(),
        };
        self.apply(Group::Instances, name, &base, settings)
    }

    fn check_exists(&self, group: Group, name: &str, base: &str) -> Result<(), ConfigError> {
        if self.config.configs.contains_key(base) {
            return Ok(());
        }
        let section = self.origins.section(group, name);
        let (path, location, _) = self.origins.field(&section, "base_config");
        Err(ConfigError::new(
            path,
            ConfigErrorKind::MissingBaseConfig {
                base: base.to_owned(),
            },
        )
        .at(location))
    }

    /// `settings` on top of `base`, validated by the builder.
    fn apply(
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

        let mut b = base.to_builder();
        if let Some(wait) = s.wait_duration_in_open_state {
            let interval = if exponential {
                WaitInterval::ExponentialBackoff {
                    initial: wait,
                    multiplier: s
                        .exponential_backoff_multiplier
                        .unwrap_or(DEFAULT_MULTIPLIER),
                    max: s.exponential_max_wait_duration_in_open_state,
                }
            } else if randomized {
                WaitInterval::Randomized {
                    interval: wait,
                    factor: s.randomized_wait_factor.unwrap_or(DEFAULT_RANDOM_FACTOR),
                }
            } else {
                WaitInterval::Constant(wait)
            };
            b = b.wait_interval_in_open_state(interval);
        }
        if let Some(v) = s.failure_rate_threshold {
            b = b.failure_rate_threshold(v);
        }
        if let Some(v) = s.slow_call_rate_threshold {
            b = b.slow_call_rate_threshold(v);
        }
        if let Some(v) = s.slow_call_duration_threshold {
            b = b.slow_call_duration_threshold(v);
        }
        if let Some(v) = s.max_wait_duration_in_half_open_state {
            b = b.max_wait_duration_in_half_open_state(v);
        }
        if let Some(v) = s.transition_to_state_after_wait_duration {
            b = b.transition_to_state_after_wait_duration(v);
        }
        if let Some(v) = s.sliding_window_size {
            b = b.sliding_window_size(v);
        }
        if let Some(v) = s.minimum_number_of_calls {
            b = b.minimum_number_of_calls(v);
        }
        if let Some(v) = s.sliding_window_type {
            b = b.sliding_window_type(v);
        }
        if let Some(v) = s.permitted_number_of_calls_in_half_open_state {
            b = b.permitted_number_of_calls_in_half_open_state(v);
        }
        if let Some(v) = s.automatic_transition_from_open_to_half_open_enabled {
            b = b.automatic_transition_from_open_to_half_open_enabled(v);
        }
        if let Some(v) = s.initial_state {
            b = b.initial_state(v);
        }
        if let Some(v) = s.timeout {
            // Zero is `"off"`: no limit, whatever `base_config` said.
            b = if v.is_zero() {
                b.no_timeout()
            } else {
                b.timeout(v)
            };
        }
        b.build().map_err(|e| self.origins.locate(&section, e))
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
