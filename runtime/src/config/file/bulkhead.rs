//! Bulkhead sections of config files: TOML `[bulkhead.configs.<name>]` /
//! `[bulkhead.instances.<name>]` and Spring's `resilience4j.bulkhead` block, resolved into
//! [`BulkheadConfig`]s with Resilience4j's bulkhead rules
//! (`CommonBulkheadConfigurationProperties.createBulkheadConfig`):
//! - a section without `base_config` starts from `configs.default` when there is one, configs
//!   included (as the retry's; the breaker's named configs do not inherit `default`);
//! - a section on top of a base takes every property it does not set from the base (the only
//!   key Spring merges besides, `eventConsumerBufferSize`, is a property here, so it is
//!   inherited the same way);
//! - `max_concurrent_calls` must be at least 1 in files, as Spring's setter requires (the
//!   builder accepts 0, as Resilience4j's does).
//!
//! Deviations: an instance without `base_config` and without `configs.default` starts from a
//! config of its own name if there is one (Resilience4j starts from the library default).
//!
//! `resilience4j.thread-pool-bulkhead` (Resilience4j's `ThreadPoolBulkhead`, which runs
//! `CompletableFuture` suppliers on its own thread pool with a bounded queue) is not provided:
//! an async call already runs on the caller's runtime without holding a thread, and the
//! semaphore bulkhead bounds it. A file with that block loads with one warning per section
//! naming the block and pointing at `resilience4j.bulkhead`; it is never silently ignored.

#[cfg(feature = "yaml")]
use super::ConfigWarning;
use super::module::{ModuleOrigins, ModuleSections, ModuleSettings, ResolvedModule};
use super::node::{Node, Typing};
use crate::bulkhead::{BULKHEAD_FIELDS, BulkheadConfig, BulkheadSettings};
use crate::config::ConfigError;
#[cfg(feature = "yaml")]
use crate::config::Location;

/// The bulkhead part of a config file in fusebox's layout (`[bulkhead.configs.<name>]`,
/// `[bulkhead.instances.<name>]`); `configs.default` is the registry's default bulkhead config.
pub type BulkheadFileConfig = ModuleSections<BulkheadSettings>;

/// Every bulkhead config of a file, resolved and validated.
pub type ResolvedBulkheads = ResolvedModule<BulkheadConfig>;

/// Where the bulkhead sections were written.
pub(crate) type BulkheadOrigins = ModuleOrigins<BulkheadSettings>;

impl ModuleSettings for BulkheadSettings {
    const TOML_PREFIX: &'static str = "bulkhead";
    #[cfg(feature = "yaml")]
    const SPRING_PREFIX: &'static str = "resilience4j.bulkhead";
    const FIELDS: &'static [&'static str] = BULKHEAD_FIELDS;

    fn set(&mut self, field: &str, node: &Node, typing: Typing) -> Result<(), String> {
        BulkheadSettings::set(self, field, node, typing)
    }

    fn file_rule(&self, field: &str) -> Option<&'static str> {
        // Spring's `InstanceProperties.setMaxConcurrentCalls`: at least 1.
        (field == "max_concurrent_calls" && self.max_concurrent_calls == Some(0)).then_some(
            "must be at least 1 (Spring's rule; build a bulkhead that rejects every call in code)",
        )
    }

    fn base_config(&self) -> Option<&str> {
        self.base_config.as_deref()
    }

    fn set_base_config(&mut self, base: String) {
        self.base_config = Some(base);
    }

    type Config = BulkheadConfig;

    fn build_on(&self, base: &BulkheadConfig) -> Result<BulkheadConfig, ConfigError> {
        self.apply_to(base.to_builder()).build()
    }
}

/// Resolves every bulkhead config and instance with Resilience4j's bulkhead rules.
pub(crate) fn resolve(
    config: &BulkheadFileConfig,
    origins: &BulkheadOrigins,
) -> Result<ResolvedBulkheads, ConfigError> {
    super::module::resolve(config, origins)
}

/// The warning for a `resilience4j.thread-pool-bulkhead` block (`key`) with `sections`
/// (`configs.<name>`, `instances.<name>`), which fusebox reads but does not apply.
#[cfg(feature = "yaml")]
pub(crate) fn thread_pool_warning(
    key: &str,
    sections: &[&str],
    location: Location,
) -> ConfigWarning {
    ConfigWarning {
        key: key.to_owned(),
        location,
        message: format!(
            "not provided, so {} not applied: Resilience4j's thread-pool bulkhead runs \
             CompletableFuture suppliers on a thread pool of its own, while an async call holds \
             no thread while it waits; bound it with the semaphore bulkhead \
             (`resilience4j.bulkhead`, `maxConcurrentCalls`) instead",
            sections.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_default_and_chains_resolve_like_resilience4j() {
        let config: BulkheadFileConfig = toml::from_str(
            r#"
            [configs.default]
            max_concurrent_calls = 5
            [configs.slow]
            max_wait_duration = "20ms"
            [instances.a]
            base_config = "slow"
            event_consumer_buffer_size = 7
            [instances.b]
            "#,
        )
        .unwrap();
        let r = resolve(&config, &BulkheadOrigins::default()).unwrap();
        // `slow` names no base: it starts from `default`.
        assert_eq!(r.configs["slow"].max_concurrent_calls(), 5);
        let a = &r.instances["a"];
        assert_eq!(a.max_concurrent_calls(), 5);
        assert_eq!(a.max_wait_duration(), std::time::Duration::from_millis(20));
        assert_eq!(a.event_consumer_buffer_size(), 7);
        assert_eq!(r.instances["b"], r.default);
        assert_eq!(r.default.max_concurrent_calls(), 5);
    }
}
