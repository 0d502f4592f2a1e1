//! What the file sections of the modules besides the breaker (retry, rate limiter, bulkhead)
//! share: where a module's sections were written ([`ModuleOrigins`]), reading one section's keys
//! ([`read_section`]), putting a builder's error on the key that caused it
//! ([`ModuleOrigins::locate`]), Resilience4j's rule that a section without `baseConfig` starts
//! from `configs.default` ([`with_implicit_default`]), which the retry, the rate limiter and the
//! bulkhead share (`CommonRetryConfigurationProperties.createRetryConfig`,
//! `CommonRateLimiterConfigurationProperties.createRateLimiterConfig`,
//! `CommonBulkheadConfigurationProperties.createBulkheadConfig`), and resolving a module's
//! sections with it ([`resolve`], [`resolve_with`]).

use super::inherit::{Group, Inheritance, Layer};
use super::node::{Node, Pos, Typing, invalid};
use super::resolve::{FieldOrigin, KeyStyle, SectionOrigin};
use super::{ConfigWarning, suggest};
use crate::config::{ConfigError, ConfigErrorKind, Location};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// One module's part of a config file in fusebox's layout (`[<module>.configs.<name>]`,
/// `[<module>.instances.<name>]`), each section an `S` (for example
/// [`RetrySettings`](crate::retry::RetrySettings)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[serde(bound(serialize = "S: Serialize", deserialize = "S: Deserialize<'de>"))]
pub struct ModuleSections<S> {
    /// Shared configs by name; `default` is the registry's default config of the module.
    pub configs: BTreeMap<String, S>,
    /// Instances by name.
    pub instances: BTreeMap<String, S>,
}

impl<S> Default for ModuleSections<S> {
    fn default() -> Self {
        Self {
            configs: BTreeMap::new(),
            instances: BTreeMap::new(),
        }
    }
}

impl<S> ModuleSections<S> {
    /// Whether the file has no section of this module.
    pub fn is_empty(&self) -> bool {
        self.configs.is_empty() && self.instances.is_empty()
    }
}

/// One module's configs of a file, resolved and validated; `C` is its config type (for
/// example [`RetryConfig`](crate::retry::RetryConfig)).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedModule<C> {
    /// The registry's default config of the module: its `configs.default` if present, else
    /// Resilience4j's defaults.
    pub default: C,
    /// Every shared config by name, `default` included.
    pub configs: BTreeMap<String, C>,
    /// Every configured instance by name.
    pub instances: BTreeMap<String, C>,
}

/// A module's settings type (one section), as its property table writes it.
pub(crate) trait ModuleSettings: Clone + Default {
    /// The module's key in TOML (`retry`, `rate_limiter`).
    const TOML_PREFIX: &'static str;
    /// The module's block in Spring (`resilience4j.retry`, `resilience4j.ratelimiter`).
    #[cfg(feature = "yaml")]
    const SPRING_PREFIX: &'static str;
    /// Every key of a section, `base_config` first.
    const FIELDS: &'static [&'static str];

    /// Sets `field` (one of [`Self::FIELDS`]) from `node`; the error is the rule it breaks.
    fn set(&mut self, field: &str, node: &Node, typing: Typing) -> Result<(), String>;

    /// A rule the value just set for `field` breaks beyond the builder's (Spring's setters are
    /// sometimes stricter than Resilience4j's builders, and files follow Spring).
    fn file_rule(&self, field: &str) -> Option<&'static str> {
        let _ = field;
        None
    }

    /// The section's base, if it names one.
    fn base_config(&self) -> Option<&str>;

    /// Names `base` as the section's base.
    fn set_base_config(&mut self, base: String);

    /// The module's validated config.
    type Config: Clone + Default;

    /// The section's keys on top of `base`, through the module's builder (its errors keyed by
    /// the bare property name, as [`ModuleOrigins::locate`] expects).
    fn build_on(&self, base: &Self::Config) -> Result<Self::Config, ConfigError>;
}

/// Where one module's sections were written.
#[derive(Clone, Debug)]
pub(crate) struct ModuleOrigins<S> {
    pub(crate) file: Option<PathBuf>,
    /// `retry` (TOML) or `resilience4j.retry` (Spring), and so on.
    pub(crate) prefix: String,
    pub(crate) style: KeyStyle,
    pub(crate) configs: BTreeMap<String, SectionOrigin>,
    pub(crate) instances: BTreeMap<String, SectionOrigin>,
    settings: PhantomData<fn() -> S>,
}

impl<S: ModuleSettings> Default for ModuleOrigins<S> {
    fn default() -> Self {
        Self {
            file: None,
            prefix: S::TOML_PREFIX.to_owned(),
            style: KeyStyle::Snake,
            configs: BTreeMap::new(),
            instances: BTreeMap::new(),
            settings: PhantomData,
        }
    }
}

impl<S> ModuleOrigins<S> {
    /// Where section `name` of `group` was written (its would-be path if it was not).
    pub(crate) fn section(&self, group: Group, name: &str) -> SectionOrigin {
        let known = match group {
            Group::Configs => self.configs.get(name),
            Group::Instances => self.instances.get(name),
        };
        known.cloned().unwrap_or_else(|| SectionOrigin {
            path: format!("{}.{}.{name}", self.prefix, group.name()),
            ..SectionOrigin::default()
        })
    }

    /// The path, location and written value of `field` in `section` (the section's own
    /// location if the field was not written there).
    pub(crate) fn field(
        &self,
        section: &SectionOrigin,
        field: &str,
    ) -> (String, Location, Option<String>) {
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

    /// The path and location of `base_config` in section `name` of `group`, for inheritance
    /// errors.
    pub(crate) fn base_key(&self, group: Group, name: &str) -> (String, Location) {
        let section = self.section(group, name);
        let (path, location, _) = self.field(&section, "base_config");
        (path, location)
    }

    /// Re-homes a builder error (keyed by a bare property name) onto the key of `section` it
    /// came from, showing the value as written.
    pub(crate) fn locate(&self, section: &SectionOrigin, err: ConfigError) -> ConfigError {
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

/// Reads one section's entries (`(written key, position, value)`), where a key is one of
/// `S::FIELDS` compared by `canonical`. Keys that `java_only` knows become warnings; others
/// are errors naming the nearest key.
#[allow(
    clippy::too_many_arguments,
    reason = "one call per layout; a struct would only rename them"
)]
pub(crate) fn read_section<'a, S: ModuleSettings>(
    path: &str,
    pos: Pos,
    entries: impl IntoIterator<Item = (&'a str, Pos, &'a Node)>,
    canonical: fn(&str) -> String,
    java_only: fn(&str) -> Option<&'static str>,
    typing: Typing,
    file: Option<&Path>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(S, SectionOrigin), ConfigError> {
    let mut settings = S::default();
    let mut fields = BTreeMap::new();
    for (written, key_pos, node) in entries {
        let key = format!("{path}.{written}");
        let wanted = canonical(written);
        if let Some(&field) = S::FIELDS.iter().find(|f| canonical(f) == wanted) {
            settings
                .set(field, node, typing)
                .map_err(|rule| invalid(&key, node, rule, file))?;
            if let Some(rule) = settings.file_rule(field) {
                return Err(invalid(&key, node, rule.into(), file));
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
            let suggestion =
                suggest::nearest(written, S::FIELDS.iter().copied(), canonical).map(str::to_owned);
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

/// `section` (named `name`) with `default` as its base when it names none, `configs.default`
/// exists and it is not that config itself, as Resilience4j resolves retry and bulkhead
/// sections (the breaker's named configs do not inherit `default`).
pub(crate) fn with_implicit_default<S: ModuleSettings>(
    name: &str,
    section: &S,
    has_default: bool,
) -> S {
    let mut section = section.clone();
    if section.base_config().is_none() && has_default && name != "default" {
        section.set_base_config("default".to_owned());
    }
    section
}

/// Resolves every config and instance of a module whose sections apply through its builder
/// ([`ModuleSettings::build_on`]), with the implicit `configs.default` base.
pub(crate) fn resolve<S: ModuleSettings>(
    config: &ModuleSections<S>,
    origins: &ModuleOrigins<S>,
) -> Result<ResolvedModule<S::Config>, ConfigError> {
    let (resolved, _) = resolve_with(config, Sections { origins }, Clone::clone)?;
    Ok(resolved)
}

/// Resolves every config and instance of `config` through `layer`, each section without a base
/// starting from `configs.default` ([`with_implicit_default`]); `config_of` picks the config out
/// of a resolved section. Gives the layer back (with whatever it collected).
pub(crate) fn resolve_with<S, L, C>(
    config: &ModuleSections<S>,
    layer: L,
    config_of: fn(&L::Built) -> C,
) -> Result<(ResolvedModule<C>, L), ConfigError>
where
    S: ModuleSettings,
    L: Layer<Section = S>,
    C: Clone + Default,
{
    let has_default = config.configs.contains_key("default");
    let configs: BTreeMap<String, S> = config
        .configs
        .iter()
        .map(|(n, s)| (n.clone(), with_implicit_default(n, s, has_default)))
        .collect();
    let mut inheritance = Inheritance::new(&configs, layer);
    for name in configs.keys() {
        inheritance.config(name)?;
    }
    let mut instances = BTreeMap::new();
    for (name, settings) in &config.instances {
        let settings = with_implicit_default(name, settings, has_default);
        let built = inheritance.instance(name, &settings)?;
        instances.insert(name.clone(), config_of(&built));
    }
    let (built, layer) = inheritance.finish();
    let configs: BTreeMap<String, C> = built
        .iter()
        .map(|(n, b)| (n.clone(), config_of(b)))
        .collect();
    let default = configs.get("default").cloned().unwrap_or_default();
    let resolved = ResolvedModule {
        default,
        configs,
        instances,
    };
    Ok((resolved, layer))
}

/// A module's sections as an inheritance [`Layer`]: a resolved section is its config, built on
/// its base's.
struct Sections<'a, S> {
    origins: &'a ModuleOrigins<S>,
}

impl<S: ModuleSettings> Layer for Sections<'_, S> {
    type Section = S;
    type Built = S::Config;
    const OWN_NAME_ADVICE: &'static str = "";

    fn base_of(section: &S) -> Option<&str> {
        section.base_config()
    }

    fn root(&self) -> S::Config {
        S::Config::default()
    }

    fn base_key(&self, group: Group, name: &str) -> (String, Location) {
        self.origins.base_key(group, name)
    }

    fn apply(
        &mut self,
        group: Group,
        name: &str,
        base: &S::Config,
        section: &S,
    ) -> Result<S::Config, ConfigError> {
        section
            .build_on(base)
            .map_err(|e| self.origins.locate(&self.origins.section(group, name), e))
    }
}
