//! Config files: fusebox's TOML layout and Spring's `application.yml` layout, read into
//! [`CircuitBreakerConfig`]s with Resilience4j's resolution rules.
//!
//! # TOML (fusebox's layout)
//!
//! ```toml
//! [configs.default]            # the registry default; instances without base start here
//! sliding_window_size = 10
//! wait_duration_in_open_state = "5s"
//!
//! [configs.slow]               # a shared config; does NOT inherit `default` implicitly
//! base_config = "default"      # ... unless it says so
//! slow_call_duration_threshold = "2s"
//!
//! [instances.orders]           # one breaker
//! base_config = "slow"
//! failure_rate_threshold = 4
//! timeout = "4s"
//!
//! [tags]                       # registry-wide metric tags (labels on every breaker series)
//! application = "orders-service"
//! ```
//!
//! Keys are the builder's setter names in snake_case, plus `base_config`, `timeout` (the time
//! limiter) and Spring's backoff keys (`enable_exponential_backoff`,
//! `exponential_backoff_multiplier`, `exponential_max_wait_duration_in_open_state`,
//! `enable_randomized_wait`, `randomized_wait_factor`); the README's property table lists them
//! all. An unknown key is an error naming the nearest valid one.
//!
//! # Spring `application.yml`
//!
//! `resilience4j.circuitbreaker.configs|instances.<name>.<property>` with camelCase, kebab-case or
//! snake_case property names, dotted or nested keys, several documents. Documents apply as Spring
//! applies them: those without `spring.config.activate.on-profile` (or the legacy
//! `spring.profiles`) always, the others when their profile expression (`prod`, `!dev`,
//! `a & b`, `a | b`, lists) matches an active profile; later documents override earlier ones,
//! key by key. The active profiles are those of the `SPRING_PROFILES_ACTIVE` environment
//! variable when it is set and not blank (comma-separated, as Spring Boot reads it), else
//! `spring.profiles.active` in the file, else `spring.profiles.default`, else `default`.
//! `spring.profiles.include`/`group` are not consulted.
//!
//! `resilience4j.timelimiter.configs|instances.<name>.timeoutDuration` becomes the
//! [`timeout`](CircuitBreakerConfig::timeout) of the breaker (or config) with the same name,
//! resolved like the breaker (`baseConfig`, then a config of the same name, then
//! `configs.default`, then Resilience4j's time limiter default of 1 s). Because fusebox's timeout
//! is off by default while Resilience4j's time limiter always has one, a timeout is applied only
//! where the file configures a time limiter: for an instance, a time limiter instance of its name
//! or `timelimiter.configs.default`; for a config, a time limiter config of its name. A time
//! limiter instance without a breaker instance of its name adds a breaker instance with the
//! registry default config and that timeout.
//!
//! Registry-wide metric tags come from `management.metrics.tags.<k>` (Spring Boot's common
//! tags, e.g. the `application` tag the official Grafana dashboard selects on) and
//! `resilience4j.circuitbreaker.tags.<k>`, which wins for a key given in both (as a meter's own
//! tags win over common tags in Micrometer). Tag names must be Prometheus label names.
//!
//! A breaker section may also set fusebox's own `timeout` key directly; a time limiter of the
//! same name overrides it. Placeholders (`${...}`) are not expanded.
//!
//! In either format, `timeout = "off"` (or `false`, which is what YAML makes of an unquoted
//! `off`) switches off a time limit inherited through `base_config`; a limit is otherwise at
//! least 1 ms, and `"0s"` is an error that says so.
//!
//! The same `resilience4j.timelimiter` sections (and TOML's
//! `[time_limiter.configs|instances.<name>]`, keys `timeout_duration`, `cancel_running_future`,
//! `event_consumer_buffer_size`, `base_config`) also configure the registry's
//! [`TimeLimiter`](crate::time_limiter::TimeLimiter)s, resolved with the same `baseConfig` rules
//! (see `time_limiter.rs`). TOML's time limiter sections do not set breaker timeouts (a TOML
//! breaker has its own `timeout` key).
//!
//! `resilience4j.retry` (and TOML's `[retry.configs|instances.<name>]`) configures
//! [`Retry`](crate::retry::Retry)s with Resilience4j's retry rules (see [`crate::retry`]).
//! `resilience4j.ratelimiter` (and TOML's `[rate_limiter.configs|instances.<name>]`) configures
//! [`RateLimiter`](crate::rate_limiter::RateLimiter)s with the same rules (a section without
//! `base_config` starts from `configs.default`), and `resilience4j.bulkhead` (TOML's
//! `[bulkhead.configs|instances.<name>]`) [`Bulkhead`](crate::bulkhead::Bulkhead)s (see
//! `bulkhead.rs` here). `resilience4j.thread-pool-bulkhead` is read and reported with one
//! [`ConfigWarning`]: its thread-pool bulkhead is not provided, because an async call holds no
//! thread while it waits and the semaphore bulkhead bounds it. Other sections (management,
//! server, ...) are ignored. Java-only
//! properties (`recordExceptions`, `writableStackTraceEnabled`, ...) load with one
//! [`ConfigWarning`] each, saying how to get the effect in Rust.
//!
//! # Values
//!
//! Durations: `"10s"`, `"500ms"`, `"1m 30s"`, ISO `"PT10S"`/`"PT5s"`, or an integer number of
//! milliseconds. States and window types: Resilience4j's names in any case (`OPEN`,
//! `COUNT_BASED`). Every value is validated by [`CircuitBreakerConfig::builder`]; every error is a
//! [`ConfigError`] naming file, line, column, key path, value and rule.
//!
//! # Differences from Resilience4j
//!
//! - every `base_config` cycle is reported (Resilience4j detects only a config naming itself);
//! - an instance whose name matches a config starts from that config fully resolved (Resilience4j
//!   skips that config's own `baseConfig` on this path);
//! - `exponential_max_wait_duration_in_open_state` applies even without an explicit multiplier
//!   (Resilience4j then ignores the maximum);
//! - percentages follow the builder's rule (0, 100] (Spring's property setters demand [1, 100]);
//! - unknown properties in a breaker or time limiter section are errors (Spring ignores them).

pub(crate) mod bulkhead;
mod duration;
mod enums;
pub(crate) mod format;
mod inherit;
#[cfg(feature = "yaml")]
mod java_keys;
mod module;
pub(crate) mod node;
#[cfg(feature = "yaml")]
mod profiles;
pub(crate) mod rate_limiter;
mod resolve;
pub(crate) mod retry;
mod settings;
#[cfg(feature = "yaml")]
mod spring;
mod suggest;
pub(crate) mod tags;
pub(crate) mod time_limiter;
mod toml;
#[cfg(feature = "yaml")]
mod yaml;

pub use bulkhead::{BulkheadFileConfig, ResolvedBulkheads};
pub use module::{ModuleSections, ResolvedModule};
pub use rate_limiter::{RateLimiterFileConfig, ResolvedRateLimiters};
#[cfg(test)]
pub(crate) use resolve::KeyStyle;
pub use retry::{ResolvedRetries, RetryFileConfig};
pub use settings::{BreakerSettings, RegistryConfig};
pub use time_limiter::{ResolvedTimeLimiters, TimeLimiterFileConfig, TimeLimiterSettings};

use super::{CircuitBreakerConfig, ConfigError, ConfigErrorKind, Location};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Every config of a file, resolved and validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedConfig {
    /// The registry default: `configs.default` if present, else Resilience4j's defaults. Breakers
    /// created on demand use it.
    pub default: CircuitBreakerConfig,
    /// Every shared config by name, `default` included.
    pub configs: BTreeMap<String, CircuitBreakerConfig>,
    /// Every configured breaker by name.
    pub instances: BTreeMap<String, CircuitBreakerConfig>,
    /// Registry-wide metric tags, written as labels on every series of
    /// [`observe::Monitor`](crate::observe::Monitor) (TOML `[tags]`; Spring's
    /// `management.metrics.tags.<k>` overridden by `resilience4j.circuitbreaker.tags.<k>`).
    pub tags: BTreeMap<String, String>,
    /// The retry configs (TOML `[retry.configs|instances.<name>]`, Spring's
    /// `resilience4j.retry`).
    pub retry: ResolvedRetries,
    /// The time limiter configs (TOML `[time_limiter.configs|instances.<name>]`, Spring's
    /// `resilience4j.timelimiter`), for the registry's
    /// [`TimeLimiter`](crate::time_limiter::TimeLimiter)s.
    pub time_limiter: ResolvedTimeLimiters,
    /// The rate limiter configs (TOML `[rate_limiter.configs|instances.<name>]`, Spring's
    /// `resilience4j.ratelimiter`).
    pub rate_limiter: ResolvedRateLimiters,
    /// The bulkhead configs (TOML `[bulkhead.configs|instances.<name>]`, Spring's
    /// `resilience4j.bulkhead`).
    pub bulkhead: ResolvedBulkheads,
}

/// A loaded file: its configs and the warnings it produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadedConfig {
    /// The configs.
    pub resolved: ResolvedConfig,
    /// Settings that were accepted but have no effect (Java-only Spring properties, backoff keys
    /// Resilience4j ignores), one per key.
    pub warnings: Vec<ConfigWarning>,
}

/// A setting that loaded but does nothing in fusebox, and what to do instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The key path as written, e.g. `resilience4j.circuitbreaker.configs.default.recordExceptions`.
    pub key: String,
    /// Where the key is written.
    pub location: Location,
    /// Why it has no effect and the Rust way to get the same effect.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location != Location::default() {
            write!(f, "{}: ", self.location)?;
        }
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The layout of a config file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// fusebox's TOML layout (`[configs.<name>]`, `[instances.<name>]`).
    Toml,
    /// Spring Boot's `application.yml` layout (`resilience4j.circuitbreaker...`); needs the
    /// `yaml` feature.
    SpringYaml,
}

impl Format {
    /// The format for a file name: `.toml`, or `.yml`/`.yaml`.
    ///
    /// ```
    /// use fusebox_runtime::config::file::Format;
    /// use std::path::Path;
    /// assert_eq!(Format::from_path(Path::new("fusebox.toml"))?, Format::Toml);
    /// assert_eq!(Format::from_path(Path::new("application.yml"))?, Format::SpringYaml);
    /// assert!(Format::from_path(Path::new("config.json")).is_err());
    /// # Ok::<(), fusebox_runtime::ConfigError>(())
    /// ```
    pub fn from_path(path: &Path) -> Result<Format, ConfigError> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("toml") => Ok(Format::Toml),
            Some("yml" | "yaml") => Ok(Format::SpringYaml),
            other => Err(ConfigError::new(
                "",
                ConfigErrorKind::UnsupportedFormat {
                    message: format!(
                        "unsupported config file {}: use `.toml` (fusebox layout) or `.yml`/`.yaml` \
                         (Spring layout)",
                        other.map_or_else(|| "without extension".to_owned(), |e| format!("extension `.{e}`"))
                    ),
                },
            )
            .in_file(path)),
        }
    }
}

/// Reads, resolves and validates a config file, choosing the layout by extension (see
/// [`Format::from_path`]). Warnings are returned and also logged once each with `tracing`.
///
/// ```no_run
/// use fusebox_runtime::config::file::load_file;
/// let loaded = load_file("fusebox.toml".as_ref())?;
/// let orders = &loaded.resolved.instances["orders"];
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
pub fn load_file(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let format = Format::from_path(path)?;
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            "",
            ConfigErrorKind::Io {
                message: e.to_string(),
            },
        )
        .in_file(path)
    })?;
    load_str(&text, format, Some(path))
}

/// Resolves and validates config text in `format`; `path`, if given, is named in errors and
/// warnings. Warnings are returned and also logged once each with `tracing`.
///
/// ```
/// use fusebox_runtime::config::file::{Format, load_str};
/// let yaml = "resilience4j.circuitbreaker.instances.orders.slidingWindowSize: 2\n";
/// # #[cfg(feature = "yaml")] {
/// let loaded = load_str(yaml, Format::SpringYaml, None)?;
/// assert_eq!(loaded.resolved.instances["orders"].sliding_window_size(), 2);
/// # }
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
pub fn load_str(
    text: &str,
    format: Format,
    path: Option<&Path>,
) -> Result<LoadedConfig, ConfigError> {
    let loaded = match format {
        Format::Toml => toml::load(text, path)?,
        Format::SpringYaml => load_yaml(text, path)?,
    };
    for warning in &loaded.warnings {
        tracing::warn!(target: "fusebox::config", key = %warning.key, "{warning}");
    }
    Ok(loaded)
}

#[cfg(feature = "yaml")]
fn load_yaml(text: &str, path: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
    let env_active = std::env::var("SPRING_PROFILES_ACTIVE").ok();
    spring::load(text, path, env_active.as_deref())
}

#[cfg(not(feature = "yaml"))]
fn load_yaml(_text: &str, path: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
    let err = ConfigError::new(
        "",
        ConfigErrorKind::UnsupportedFormat {
            message: "YAML config files need the `yaml` feature of fusebox (or fusebox-runtime)"
                .to_owned(),
        },
    );
    Err(match path {
        Some(p) => err.in_file(p),
        None => err,
    })
}

impl RegistryConfig {
    /// Applies Resilience4j's `base_config` rules and validates every value. Errors name the key
    /// path (`instances.orders.failure_rate_threshold`) but no file; use [`load_file`] for
    /// positions. Warnings (ineffective backoff keys) are logged with `tracing`.
    ///
    /// ```
    /// use fusebox_runtime::config::file::{BreakerSettings, RegistryConfig};
    /// let mut config = RegistryConfig::default();
    /// config.instances.insert(
    ///     "orders".into(),
    ///     BreakerSettings { base_config: Some("missing".into()), ..Default::default() },
    /// );
    /// let err = config.resolve().unwrap_err();
    /// assert_eq!(err.key(), "instances.orders.base_config");
    /// ```
    pub fn resolve(&self) -> Result<ResolvedConfig, ConfigError> {
        let (resolved, warnings) = resolve::resolve(self, &resolve::Origins::default())?;
        for warning in &warnings {
            tracing::warn!(target: "fusebox::config", key = %warning.key, "{warning}");
        }
        Ok(resolved)
    }
}
