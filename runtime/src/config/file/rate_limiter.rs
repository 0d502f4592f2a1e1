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
//!
//! Reading and resolving go through the modules' shared code ([`super::module`]).

use super::module::{ModuleOrigins, ModuleSections, ModuleSettings, ResolvedModule};
use super::node::{Node, Typing};
use crate::config::ConfigError;
use crate::rate_limiter::{RATE_LIMITER_FIELDS, RateLimiterConfig, RateLimiterSettings};

/// The rate limiter part of a config file in fusebox's layout
/// (`[rate_limiter.configs.<name>]`, `[rate_limiter.instances.<name>]`); `configs.default` is the
/// registry's default rate limiter config.
pub type RateLimiterFileConfig = ModuleSections<RateLimiterSettings>;

/// Every rate limiter config of a file, resolved and validated.
pub type ResolvedRateLimiters = ResolvedModule<RateLimiterConfig>;

/// Where the rate limiter sections were written.
pub(crate) type RateLimiterOrigins = ModuleOrigins<RateLimiterSettings>;

impl ModuleSettings for RateLimiterSettings {
    const TOML_PREFIX: &'static str = "rate_limiter";
    #[cfg(feature = "yaml")]
    const SPRING_PREFIX: &'static str = "resilience4j.ratelimiter";
    const FIELDS: &'static [&'static str] = RATE_LIMITER_FIELDS;

    fn set(&mut self, field: &str, node: &Node, typing: Typing) -> Result<(), String> {
        RateLimiterSettings::set(self, field, node, typing)
    }

    fn base_config(&self) -> Option<&str> {
        self.base_config.as_deref()
    }

    fn set_base_config(&mut self, base: String) {
        self.base_config = Some(base);
    }

    type Config = RateLimiterConfig;

    fn build_on(&self, base: &RateLimiterConfig) -> Result<RateLimiterConfig, ConfigError> {
        self.apply_to(base.to_builder()).build()
    }
}

/// Resolves every rate limiter config and instance with Resilience4j's rules.
pub(crate) fn resolve(
    config: &RateLimiterFileConfig,
    origins: &RateLimiterOrigins,
) -> Result<ResolvedRateLimiters, ConfigError> {
    super::module::resolve(config, origins)
}
