//! [`Registry`]: named breakers, shared configs, and the process-wide global registry.

use crate::breaker::CircuitBreaker;
use crate::config::file::{self, LoadedConfig, RegistryConfig, ResolvedConfig};
use crate::config::{CircuitBreakerConfig, ConfigError, ConfigErrorKind};
use crate::rate_limiter::{RateLimiter, RateLimiterConfig};
use crate::retry::{Retry, RetryConfig};
use crate::state::State;
use crate::time_limiter::{TimeLimiter, TimeLimiterConfig};
use parking_lot::RwLock;
use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};

/// Told of every breaker a registry creates or replaces, while the registry's lock is held (so
/// it sees the breaker before any caller can use it). Registered weakly: dropping the last
/// strong handle unregisters it.
pub(crate) type BreakerAddedHook = dyn Fn(&CircuitBreaker) + Send + Sync;

/// Told of every other entry (a [`Retry`], a [`TimeLimiter`], ...) a registry creates, while the
/// registry's lock for that kind is held; the hook downcasts to the kinds it knows. Registered
/// weakly, as [`BreakerAddedHook`].
pub(crate) type EntryAddedHook = dyn Fn(&dyn Any) + Send + Sync;

/// A set of named breakers and named shared configs, as Resilience4j's
/// `CircuitBreakerRegistry`.
///
/// `circuit_breaker(name)` gets or creates: an existing breaker is returned as is; a new one
/// takes the shared config named like it if there is one, else the registry's default config.
/// Handles are cheap to clone; cache them rather than looking names up per call.
///
/// ```
/// use fusebox_runtime::{CircuitBreakerConfig, Registry};
///
/// let registry = Registry::new();
/// registry.add_configuration(
///     "slow-backends",
///     CircuitBreakerConfig::builder().failure_rate_threshold(25.0).build()?,
/// )?;
/// let orders = registry.circuit_breaker_with_config_name("orders", "slow-backends")?;
/// assert_eq!(orders.config().failure_rate_threshold(), 25.0);
/// assert!(registry.circuit_breaker("orders").ptr_eq(&orders));
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<RegistryInner>,
}

#[derive(Default)]
struct RegistryInner {
    default: RwLock<CircuitBreakerConfig>,
    configs: RwLock<BTreeMap<String, CircuitBreakerConfig>>,
    breakers: RwLock<HashMap<Arc<str>, CircuitBreaker>>,
    added_hooks: RwLock<Vec<Weak<BreakerAddedHook>>>,
    /// Registry-wide metric tags from the config file.
    tags: RwLock<BTreeMap<String, String>>,
    /// Retries: the default config, shared configs and instances.
    retry_default: RwLock<RetryConfig>,
    retry_configs: RwLock<BTreeMap<String, RetryConfig>>,
    retries: RwLock<HashMap<Arc<str>, Retry>>,
    /// Time limiters: the default config, shared configs and instances.
    time_limiter_default: RwLock<TimeLimiterConfig>,
    time_limiter_configs: RwLock<BTreeMap<String, TimeLimiterConfig>>,
    time_limiters: RwLock<HashMap<Arc<str>, TimeLimiter>>,
    /// Hooks told of entries other than breakers.
    entry_hooks: RwLock<Vec<Weak<EntryAddedHook>>>,
    /// Rate limiters: the default config, shared configs and instances.
    rate_limiter_default: RwLock<RateLimiterConfig>,
    rate_limiter_configs: RwLock<BTreeMap<String, RateLimiterConfig>>,
    rate_limiters: RwLock<HashMap<Arc<str>, RateLimiter>>,
    /// Bulkheads: the default config, shared configs and instances.
    bulkheads: crate::bulkhead::registry::Bulkheads,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field(
                "configs",
                &self.inner.configs.read().keys().collect::<Vec<_>>(),
            )
            .field("breakers", &self.states())
            .finish()
    }
}

impl Registry {
    /// An empty registry with Resilience4j's default config.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry whose default config is `default`.
    pub fn with_default_config(default: CircuitBreakerConfig) -> Self {
        let registry = Self::new();
        *registry.inner.default.write() = default;
        registry
    }

    /// The config new breakers get when no shared config matches their name.
    pub fn default_config(&self) -> CircuitBreakerConfig {
        self.inner.default.read().clone()
    }

    /// Adds (or replaces) a shared config. `default` is reserved: use
    /// [`with_default_config`](Self::with_default_config) or a config file's `configs.default`.
    pub fn add_configuration(
        &self,
        name: impl Into<String>,
        config: CircuitBreakerConfig,
    ) -> Result<(), ConfigError> {
        let name = name.into();
        if name == "default" {
            return Err(ConfigError::new(
                "configs.default",
                ConfigErrorKind::Conflict {
                    message: "the default config cannot be added as a shared config; use Registry::with_default_config".into(),
                },
            ));
        }
        self.inner.configs.write().insert(name, config);
        Ok(())
    }

    /// The registry-wide metric tags of the config file it was built from or last reloaded
    /// (TOML `[tags]`; Spring's `management.metrics.tags` and `resilience4j.circuitbreaker.tags`):
    /// labels on every series of an [`observe::Monitor`](crate::observe::Monitor) of this
    /// registry. Empty for a registry built in code.
    pub fn tags(&self) -> BTreeMap<String, String> {
        self.inner.tags.read().clone()
    }

    /// The shared config named `name`, if any (`default` is the registry's default).
    pub fn configuration(&self, name: &str) -> Option<CircuitBreakerConfig> {
        if name == "default" {
            return Some(self.default_config());
        }
        self.inner.configs.read().get(name).cloned()
    }

    /// The breaker named `name`, created on first use with the shared config of the same name
    /// or the default config.
    pub fn circuit_breaker(&self, name: &str) -> CircuitBreaker {
        if let Some(b) = self.find(name) {
            return b;
        }
        let config = self
            .inner
            .configs
            .read()
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.default_config());
        self.get_or_insert(name, config)
    }

    /// The breaker named `name`, created with `config` if it does not exist yet. An existing
    /// breaker keeps its own config (Resilience4j does the same).
    pub fn circuit_breaker_with_config(
        &self,
        name: &str,
        config: CircuitBreakerConfig,
    ) -> CircuitBreaker {
        if let Some(b) = self.find(name) {
            return b;
        }
        self.get_or_insert(name, config)
    }

    /// The breaker named `name`, created with the shared config `config_name` if it does not
    /// exist yet; an unknown config name is an error.
    pub fn circuit_breaker_with_config_name(
        &self,
        name: &str,
        config_name: &str,
    ) -> Result<CircuitBreaker, ConfigError> {
        let config = self.configuration(config_name).ok_or_else(|| {
            ConfigError::new(
                format!("instances.{name}.base_config"),
                ConfigErrorKind::MissingBaseConfig {
                    base: config_name.to_owned(),
                },
            )
        })?;
        Ok(self.circuit_breaker_with_config(name, config))
    }

    fn get_or_insert(&self, name: &str, config: CircuitBreakerConfig) -> CircuitBreaker {
        let mut breakers = self.inner.breakers.write();
        if let Some(b) = breakers.get(name) {
            return b.clone();
        }
        let breaker = CircuitBreaker::new(name, config);
        breakers.insert(breaker.inner.name.clone(), breaker.clone());
        self.notify_added(&breaker);
        breaker
    }

    /// The retry named `name`, created on first use with the shared retry config of the same
    /// name (`retry.configs.<name>`), else the registry's default retry config
    /// (`retry.configs.default`, else Resilience4j's defaults).
    pub fn retry(&self, name: &str) -> Retry {
        if let Some(r) = self.inner.retries.read().get(name) {
            return r.clone();
        }
        let config = self
            .inner
            .retry_configs
            .read()
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.inner.retry_default.read().clone());
        self.retry_with_config(name, config)
    }

    /// The retry named `name`, created with `config` if it does not exist yet (an existing
    /// retry keeps its own config, as in Resilience4j).
    pub fn retry_with_config(&self, name: &str, config: RetryConfig) -> Retry {
        let mut retries = self.inner.retries.write();
        if let Some(r) = retries.get(name) {
            return r.clone();
        }
        let retry = Retry::new(name, config);
        retries.insert(name.into(), retry.clone());
        self.notify_entry_added(&retry);
        retry
    }

    /// The shared retry config named `name` (`default` is the registry's default retry config).
    pub fn retry_configuration(&self, name: &str) -> Option<RetryConfig> {
        if name == "default" {
            return Some(self.inner.retry_default.read().clone());
        }
        self.inner.retry_configs.read().get(name).cloned()
    }

    /// All retries, sorted by name.
    pub fn all_retries(&self) -> Vec<Retry> {
        let mut all: Vec<Retry> = self.inner.retries.read().values().cloned().collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// The rate limiter named `name`, created on first use with the shared rate limiter config
    /// of the same name (`rate_limiter.configs.<name>`), else the registry's default rate
    /// limiter config (`rate_limiter.configs.default`, else Resilience4j's defaults).
    pub fn rate_limiter(&self, name: &str) -> RateLimiter {
        if let Some(r) = self.inner.rate_limiters.read().get(name) {
            return r.clone();
        }
        let config = self
            .inner
            .rate_limiter_configs
            .read()
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.inner.rate_limiter_default.read().clone());
        self.rate_limiter_with_config(name, config)
    }

    /// The rate limiter named `name`, created with `config` if it does not exist yet (an
    /// existing one keeps its own config, as in Resilience4j).
    pub fn rate_limiter_with_config(&self, name: &str, config: RateLimiterConfig) -> RateLimiter {
        let mut limiters = self.inner.rate_limiters.write();
        if let Some(r) = limiters.get(name) {
            return r.clone();
        }
        let limiter = RateLimiter::new(name, config);
        limiters.insert(name.into(), limiter.clone());
        self.notify_entry_added(&limiter);
        limiter
    }

    /// The shared rate limiter config named `name` (`default` is the registry's default rate
    /// limiter config).
    pub fn rate_limiter_configuration(&self, name: &str) -> Option<RateLimiterConfig> {
        if name == "default" {
            return Some(self.inner.rate_limiter_default.read().clone());
        }
        self.inner.rate_limiter_configs.read().get(name).cloned()
    }

    /// All rate limiters, sorted by name.
    pub fn all_rate_limiters(&self) -> Vec<RateLimiter> {
        let mut all: Vec<RateLimiter> = self.inner.rate_limiters.read().values().cloned().collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// Replaces the retry configs with a file's: default, shared configs, and instances not
    /// created yet (existing retries keep their config).
    fn set_retries(&self, retries: crate::config::file::ResolvedRetries) -> Vec<String> {
        *self.inner.retry_default.write() = retries.default;
        {
            let mut configs = self.inner.retry_configs.write();
            configs.clear();
            configs.extend(retries.configs.into_iter().filter(|(n, _)| n != "default"));
        }
        let mut created = Vec::new();
        for (name, config) in retries.instances {
            if !self.inner.retries.read().contains_key(name.as_str()) {
                self.retry_with_config(&name, config);
                created.push(name);
            }
        }
        created
    }

    /// The time limiter named `name`, created on first use with the shared time limiter config
    /// of the same name (`time_limiter.configs.<name>`), else the registry's default time
    /// limiter config (`time_limiter.configs.default`, else Resilience4j's defaults: 1 s).
    pub fn time_limiter(&self, name: &str) -> TimeLimiter {
        if let Some(t) = self.inner.time_limiters.read().get(name) {
            return t.clone();
        }
        let config = self
            .inner
            .time_limiter_configs
            .read()
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.inner.time_limiter_default.read().clone());
        self.time_limiter_with_config(name, config)
    }

    /// The time limiter named `name`, created with `config` if it does not exist yet (an
    /// existing one keeps its own config, as in Resilience4j).
    pub fn time_limiter_with_config(&self, name: &str, config: TimeLimiterConfig) -> TimeLimiter {
        let mut limiters = self.inner.time_limiters.write();
        if let Some(t) = limiters.get(name) {
            return t.clone();
        }
        let limiter = TimeLimiter::new(name, config);
        limiters.insert(name.into(), limiter.clone());
        self.notify_entry_added(&limiter);
        limiter
    }

    /// The shared time limiter config named `name` (`default` is the registry's default).
    pub fn time_limiter_configuration(&self, name: &str) -> Option<TimeLimiterConfig> {
        if name == "default" {
            return Some(self.inner.time_limiter_default.read().clone());
        }
        self.inner.time_limiter_configs.read().get(name).cloned()
    }

    /// All time limiters, sorted by name.
    pub fn all_time_limiters(&self) -> Vec<TimeLimiter> {
        let mut all: Vec<TimeLimiter> = self.inner.time_limiters.read().values().cloned().collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// Replaces the time limiter configs with a file's: default, shared configs, and instances
    /// not created yet (existing time limiters keep their config).
    fn set_time_limiters(
        &self,
        limiters: crate::config::file::ResolvedTimeLimiters,
    ) -> Vec<String> {
        *self.inner.time_limiter_default.write() = limiters.default;
        {
            let mut configs = self.inner.time_limiter_configs.write();
            configs.clear();
            configs.extend(limiters.configs.into_iter().filter(|(n, _)| n != "default"));
        }
        let mut created = Vec::new();
        for (name, config) in limiters.instances {
            if !self.inner.time_limiters.read().contains_key(name.as_str()) {
                self.time_limiter_with_config(&name, config);
                created.push(name);
            }
        }
        created
    }

    /// Replaces the rate limiter configs with a file's: default, shared configs, and instances
    /// not created yet (existing rate limiters keep their config and state).
    fn set_rate_limiters(
        &self,
        limiters: crate::config::file::ResolvedRateLimiters,
    ) -> Vec<String> {
        *self.inner.rate_limiter_default.write() = limiters.default;
        {
            let mut configs = self.inner.rate_limiter_configs.write();
            configs.clear();
            configs.extend(limiters.configs.into_iter().filter(|(n, _)| n != "default"));
        }
        let mut created = Vec::new();
        for (name, config) in limiters.instances {
            if !self.inner.rate_limiters.read().contains_key(name.as_str()) {
                self.rate_limiter_with_config(&name, config);
                created.push(name);
            }
        }
        created
    }

    /// Registers `hook` to be told of every entry other than a breaker (retries, time limiters,
    /// ...) created from now on.
    pub(crate) fn on_entry_added(&self, hook: &Arc<EntryAddedHook>) {
        let mut hooks = self.inner.entry_hooks.write();
        hooks.retain(|h| h.strong_count() > 0);
        hooks.push(Arc::downgrade(hook));
    }

    /// Runs the entry hooks; called with the lock of the entry's map held.
    pub(crate) fn notify_entry_added(&self, entry: &dyn Any) {
        for hook in self.inner.entry_hooks.read().iter() {
            if let Some(hook) = hook.upgrade() {
                hook(entry);
            }
        }
    }

    /// The registry's bulkheads (their methods are in `bulkhead/registry.rs`).
    pub(crate) fn bulkheads(&self) -> &crate::bulkhead::registry::Bulkheads {
        &self.inner.bulkheads
    }

    /// Registers `hook` to be told of every breaker created or replaced from now on.
    pub(crate) fn on_breaker_added(&self, hook: &Arc<BreakerAddedHook>) {
        let mut hooks = self.inner.added_hooks.write();
        hooks.retain(|h| h.strong_count() > 0);
        hooks.push(Arc::downgrade(hook));
    }

    /// Runs the hooks; called with the `breakers` lock held.
    fn notify_added(&self, breaker: &CircuitBreaker) {
        for hook in self.inner.added_hooks.read().iter() {
            if let Some(hook) = hook.upgrade() {
                hook(breaker);
            }
        }
    }

    /// The breaker named `name` if it exists.
    pub fn find(&self, name: &str) -> Option<CircuitBreaker> {
        self.inner.breakers.read().get(name).cloned()
    }

    /// Replaces the breaker named `name` with a fresh one using `config` (its state and metrics
    /// start over; handles to the old breaker keep working on the old one).
    pub fn replace(&self, name: &str, config: CircuitBreakerConfig) -> CircuitBreaker {
        let breaker = CircuitBreaker::new(name, config);
        let mut breakers = self.inner.breakers.write();
        breakers.insert(breaker.inner.name.clone(), breaker.clone());
        self.notify_added(&breaker);
        drop(breakers);
        breaker
    }

    /// Removes the breaker named `name`, returning it.
    pub fn remove(&self, name: &str) -> Option<CircuitBreaker> {
        self.inner.breakers.write().remove(name)
    }

    /// All breakers, sorted by name.
    pub fn all(&self) -> Vec<CircuitBreaker> {
        let mut all: Vec<CircuitBreaker> = self.inner.breakers.read().values().cloned().collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// Every breaker's name and state, sorted by name.
    pub fn states(&self) -> Vec<(String, State)> {
        self.all()
            .into_iter()
            .map(|b| (b.name().to_owned(), b.state()))
            .collect()
    }

    /// The process-wide registry that `#[circuit_breaker]` uses by default.
    ///
    /// On first use it loads the file named by `FUSEBOX_CONFIG`, else `fusebox.toml` in the
    /// working directory if present, else starts empty with default configs. If that file is
    /// invalid, the error is logged once and the registry starts empty; call
    /// [`try_global`](Self::try_global) at startup to fail fast instead.
    pub fn global() -> &'static Registry {
        &global_state().0
    }

    /// The global registry, or the error its config file had.
    pub fn try_global() -> Result<&'static Registry, ConfigError> {
        let (registry, error) = global_state();
        match error {
            Some(e) => Err(e.clone()),
            None => Ok(registry),
        }
    }

    /// Installs `registry` as the global registry; fails (giving it back) if the global
    /// registry was already used or installed.
    pub fn set_global(registry: Registry) -> Result<(), Registry> {
        let mut slot = Some(registry);
        GLOBAL.get_or_init(|| {
            let registry = slot.take().expect(
                "get_or_init runs its closure at most once, and the slot is full until then",
            );
            (registry, None)
        });
        match slot {
            Some(r) => Err(r),
            None => Ok(()),
        }
    }

    /// A registry configured by a file: `.toml` (fusebox's layout) or `.yml`/`.yaml` (Spring's
    /// `application.yml` layout). Its shared configs are registered and its instances created;
    /// warnings (Java-only Spring keys) are logged.
    ///
    /// ```no_run
    /// let registry = fusebox_runtime::Registry::from_file("fusebox.toml")?;
    /// let orders = registry.circuit_breaker("orders");
    /// # Ok::<(), fusebox_runtime::ConfigError>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Registry, ConfigError> {
        let LoadedConfig { resolved, .. } = file::load_file(path.as_ref())?;
        Ok(Self::from_resolved(resolved))
    }

    /// A registry from configs obtained elsewhere, e.g. extracted from a figment or config-rs
    /// source (`RegistryConfig` is plain `serde::Deserialize`).
    pub fn from_config(config: &RegistryConfig) -> Result<Registry, ConfigError> {
        Ok(Self::from_resolved(config.resolve()?))
    }

    /// A registry from resolved configs.
    pub fn from_resolved(resolved: ResolvedConfig) -> Registry {
        let registry = Self::with_default_config(resolved.default);
        *registry.inner.tags.write() = resolved.tags;
        registry.inner.configs.write().extend(
            resolved
                .configs
                .into_iter()
                .filter(|(name, _)| name != "default"),
        );
        for (name, config) in resolved.instances {
            registry.circuit_breaker_with_config(&name, config);
        }
        registry.set_retries(resolved.retry);
        registry.set_time_limiters(resolved.time_limiter);
        registry.set_rate_limiters(resolved.rate_limiter);
        registry.inner.bulkheads.set(&registry, resolved.bulkhead);
        registry
    }

    /// Re-reads a config file. If it is invalid, nothing changes and the error is returned (the
    /// running configs stay in place). Otherwise the default and shared configs and the tags are
    /// replaced, new instances are created, and every existing breaker whose resolved config
    /// changed is [reconfigured](CircuitBreaker::reconfigure) in place: every handle (including those
    /// cached by `#[circuit_breaker]` call sites) sees the new config, and its state and metrics
    /// start over, unless only how it is observed changed (`register_health_indicator`,
    /// `allow_health_indicator_to_fail`, `event_consumer_buffer_size`): those apply in place and
    /// the breaker keeps its state and window. Retry, bulkhead, time limiter and rate limiter
    /// configs are replaced and new instances of each created (existing ones keep their config
    /// and state). Returns the names of the retries created, then of the time limiters, rate
    /// limiters and bulkheads created, then of the breakers that were created or whose config
    /// changed.
    pub fn reload_from_file(&self, path: impl AsRef<Path>) -> Result<Vec<String>, ConfigError> {
        let LoadedConfig { resolved, .. } = file::load_file(path.as_ref())?;
        *self.inner.default.write() = resolved.default;
        *self.inner.tags.write() = resolved.tags;
        let mut changed = self.set_retries(resolved.retry);
        changed.extend(self.set_time_limiters(resolved.time_limiter));
        changed.extend(self.set_rate_limiters(resolved.rate_limiter));
        changed.extend(self.inner.bulkheads.set(self, resolved.bulkhead));
        {
            let mut configs = self.inner.configs.write();
            configs.clear();
            configs.extend(
                resolved
                    .configs
                    .into_iter()
                    .filter(|(name, _)| name != "default"),
            );
        }
        for (name, config) in resolved.instances {
            match self.find(&name) {
                Some(existing) if existing.config() == config => {}
                Some(existing) if existing.config().behaves_like(&config) => {
                    existing.replace_observation_settings(config);
                    changed.push(name);
                }
                Some(existing) => {
                    existing.reconfigure(config);
                    changed.push(name);
                }
                None => {
                    self.circuit_breaker_with_config(&name, config);
                    changed.push(name);
                }
            }
        }
        Ok(changed)
    }

    /// Watches a config file and [reloads](Self::reload_from_file) it whenever it changes, with
    /// the same rules (an invalid file is logged and counted, and the running configs stay;
    /// unchanged breakers keep their state), debounced by
    /// [`DEFAULT_DEBOUNCE`](crate::DEFAULT_DEBOUNCE). The file is applied once right away; an
    /// unreadable or invalid file is an error. Watching stops when the returned
    /// [`ConfigWatcher`](crate::ConfigWatcher) is dropped; use
    /// [`ConfigWatcher::builder`](crate::ConfigWatcher::builder) for another debounce interval.
    /// Feature `watch`.
    ///
    /// ```no_run
    /// let registry = fusebox_runtime::Registry::from_file("fusebox.toml")?;
    /// let watcher = registry.watch_file("fusebox.toml")?;
    /// // ... serve; `watcher.stats()` counts reloads applied and rejected.
    /// # Ok::<(), fusebox_runtime::ConfigError>(())
    /// ```
    #[cfg(feature = "watch")]
    pub fn watch_file(&self, path: impl AsRef<Path>) -> Result<crate::ConfigWatcher, ConfigError> {
        crate::ConfigWatcher::builder().watch(self, path)
    }
}

/// The file the global registry loads: `FUSEBOX_CONFIG` if set, else `fusebox.toml` in the
/// working directory if it exists.
pub fn global_config_path() -> Option<PathBuf> {
    match std::env::var_os("FUSEBOX_CONFIG") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => {
            let default = PathBuf::from("fusebox.toml");
            default.is_file().then_some(default)
        }
    }
}

static GLOBAL: OnceLock<(Registry, Option<ConfigError>)> = OnceLock::new();

fn global_state() -> &'static (Registry, Option<ConfigError>) {
    GLOBAL.get_or_init(|| match global_config_path() {
        None => (Registry::new(), None),
        Some(path) => match Registry::from_file(&path) {
            Ok(registry) => (registry, None),
            Err(e) => {
                tracing::error!(error = %e, "fusebox: the global registry's config file is invalid; starting with default configs");
                (Registry::new(), Some(e))
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_or_create_keeps_the_first_config() {
        let r = Registry::new();
        let a = r.circuit_breaker_with_config(
            "a",
            CircuitBreakerConfig::builder()
                .sliding_window_size(3)
                .build()
                .unwrap(),
        );
        let again = r.circuit_breaker_with_config("a", CircuitBreakerConfig::default());
        assert!(a.ptr_eq(&again));
        assert_eq!(again.config().sliding_window_size(), 3);
    }

    #[test]
    fn shared_config_named_like_the_breaker_applies() {
        let r = Registry::new();
        r.add_configuration(
            "orders",
            CircuitBreakerConfig::builder()
                .sliding_window_size(7)
                .build()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            r.circuit_breaker("orders").config().sliding_window_size(),
            7
        );
        assert_eq!(
            r.circuit_breaker("users").config().sliding_window_size(),
            100
        );
        assert!(
            r.add_configuration("default", CircuitBreakerConfig::default())
                .is_err()
        );
        assert!(r.circuit_breaker_with_config_name("x", "missing").is_err());
    }

    #[test]
    fn lists_breakers_sorted() {
        let r = Registry::new();
        r.circuit_breaker("b");
        r.circuit_breaker("a");
        assert_eq!(
            r.states(),
            vec![
                ("a".to_owned(), State::Closed),
                ("b".to_owned(), State::Closed)
            ]
        );
        assert!(r.remove("a").is_some());
        assert_eq!(r.all().len(), 1);
    }

    #[test]
    fn rate_limiters_take_the_config_named_like_them_or_the_default() {
        let r = Registry::new();
        let custom = RateLimiterConfig::builder()
            .limit_for_period(7)
            .build()
            .unwrap();
        let a = r.rate_limiter_with_config("a", custom.clone());
        assert!(a.ptr_eq(&r.rate_limiter("a")));
        assert!(
            r.rate_limiter_with_config("a", RateLimiterConfig::default())
                .ptr_eq(&a)
        );
        assert_eq!(r.rate_limiter("a").config().limit_for_period(), 7);
        assert_eq!(r.rate_limiter("b").config().limit_for_period(), 50);
        r.inner
            .rate_limiter_configs
            .write()
            .insert("c".into(), custom);
        assert_eq!(r.rate_limiter("c").config().limit_for_period(), 7);
        assert!(r.rate_limiter_configuration("c").is_some());
        assert!(r.rate_limiter_configuration("default").is_some());
        assert!(r.rate_limiter_configuration("x").is_none());
        let names: Vec<String> = r
            .all_rate_limiters()
            .iter()
            .map(|l| l.name().to_owned())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
    }
}
