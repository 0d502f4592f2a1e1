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

use super::ConfigWarning;
use super::inherit::{Group, Layer};
use super::module::{self, ModuleOrigins, ModuleSections, ModuleSettings, ResolvedModule};
use super::node::{Node, Typing};
use super::resolve::SectionOrigin;
use crate::config::{ConfigError, Location};
use crate::retry::{RETRY_FIELDS, RetryConfig, RetrySettings};

/// The retry part of a config file in fusebox's layout (`[retry.configs.<name>]`,
/// `[retry.instances.<name>]`); `configs.default` is the registry's default retry config.
pub type RetryFileConfig = ModuleSections<RetrySettings>;

/// Every retry config of a file, resolved and validated.
pub type ResolvedRetries = ResolvedModule<RetryConfig>;

/// Where the retry sections were written.
pub(crate) type RetryOrigins = ModuleOrigins<RetrySettings>;

impl ModuleSettings for RetrySettings {
    const TOML_PREFIX: &'static str = "retry";
    #[cfg(feature = "yaml")]
    const SPRING_PREFIX: &'static str = "resilience4j.retry";
    const FIELDS: &'static [&'static str] = RETRY_FIELDS;

    fn set(&mut self, field: &str, node: &Node, typing: Typing) -> Result<(), String> {
        RetrySettings::set(self, field, node, typing)
    }

    fn file_rule(&self, field: &str) -> Option<&'static str> {
        // Spring's setter: [0, 1) (the core accepts 1).
        (field == "randomized_wait_factor"
            && self
                .randomized_wait_factor
                .is_some_and(|f| !(0.0..1.0).contains(&f)))
        .then_some("must be in [0, 1)")
    }

    fn base_config(&self) -> Option<&str> {
        self.base_config.as_deref()
    }

    fn set_base_config(&mut self, base: String) {
        self.base_config = Some(base);
    }

    type Config = RetryConfig;

    fn build_on(&self, base: &RetryConfig) -> Result<RetryConfig, ConfigError> {
        self.apply_to(base.to_builder()).build()
    }
}

/// Resolves every retry config and instance with Resilience4j's retry rules.
pub(crate) fn resolve(
    config: &RetryFileConfig,
    origins: &RetryOrigins,
) -> Result<(ResolvedRetries, Vec<ConfigWarning>), ConfigError> {
    let layer = Retries {
        origins,
        warnings: Vec::new(),
    };
    let (resolved, layer) = module::resolve_with(config, layer, |(c, _)| c.clone())?;
    Ok((resolved, layer.warnings))
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
        self.origins.base_key(group, name)
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
        let config = s
            .build_on(base)
            .map_err(|e| self.origins.locate(&origin, e))?;
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
