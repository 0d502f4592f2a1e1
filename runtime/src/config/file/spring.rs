//! Spring Boot's `application.yml` layout: `resilience4j.circuitbreaker`,
//! `resilience4j.timelimiter`, `resilience4j.retry` and `resilience4j.bulkhead` (and
//! `resilience4j.thread-pool-bulkhead`, reported as not provided), with relaxed binding, dotted
//! keys and profile documents.

use super::enums::canonical;
use super::inherit::{Group, Inheritance, Layer};
use super::module::{self, ModuleOrigins, ModuleSettings};
use super::node::{Node, Pos, Typing, Value, invalid};
use super::resolve::{self, FieldOrigin, KeyStyle, Origins, SectionOrigin};
use super::settings::{BreakerSettings, FIELDS, RegistryConfig};
use super::time_limiter::{
    CAMEL_KEYS, ResolvedTimeLimiters, TimeLimiterSection, TimeLimiterSections,
};
use super::{
    ConfigWarning, LoadedConfig, ResolvedConfig, java_keys, profiles, suggest, tags, yaml,
};
use crate::bulkhead::BulkheadSettings;
use crate::config::{ConfigError, ConfigErrorKind, Location};
use crate::rate_limiter::RateLimiterSettings;
use crate::retry::RetrySettings;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const BREAKER_PREFIX: &str = "resilience4j.circuitbreaker";
const TIME_LIMITER_PREFIX: &str = "resilience4j.timelimiter";
const THREAD_POOL_BULKHEAD_PREFIX: &str = "resilience4j.thread-pool-bulkhead";
/// Resilience4j's time limiter default timeout.
const TIME_LIMITER_DEFAULT: Duration = Duration::from_secs(1);

/// Parses, selects documents by profile, resolves and validates Spring YAML. `env_active` is
/// the `SPRING_PROFILES_ACTIVE` environment variable: when set and not blank it replaces the
/// file's `spring.profiles.active`, as in Spring Boot.
pub(crate) fn load(
    text: &str,
    file: Option<&Path>,
    env_active: Option<&str>,
) -> Result<LoadedConfig, ConfigError> {
    let trees = yaml::parse(text, file)?;
    let docs: Vec<Vec<Entry<'_>>> = trees.iter().map(flatten).collect();
    let from_env: Vec<String> = env_active.map(profile_list).unwrap_or_default();
    let active = if from_env.is_empty() {
        active_profiles(&docs)
    } else {
        from_env
    };
    let mut layout = Layout::default();
    for doc in &docs {
        if applies(doc, &active, file)? {
            layout.add(doc, file)?;
        }
    }
    layout.build(file)
}

/// One segment of a key path (a dotted key gives several, sharing its position).
#[derive(Clone, Debug)]
struct Segment {
    written: String,
    canonical: String,
    pos: Pos,
}

/// A leaf of a document: its full key path and value.
#[derive(Debug)]
struct Entry<'a> {
    path: Vec<Segment>,
    node: &'a Node,
}

impl Entry<'_> {
    fn is(&self, canonical_path: &[&str]) -> bool {
        self.path.len() == canonical_path.len()
            && self
                .path
                .iter()
                .zip(canonical_path)
                .all(|(s, c)| s.canonical == *c)
    }
}

/// Spring's view of a document: nested and dotted keys alike become paths of segments.
fn flatten(doc: &Node) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    walk(doc, &mut Vec::new(), &mut out);
    out
}

fn walk<'a>(node: &'a Node, path: &mut Vec<Segment>, out: &mut Vec<Entry<'a>>) {
    match &node.value {
        Value::Map(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                let depth = path.len();
                path.extend(key.name.split('.').map(|part| Segment {
                    written: part.to_owned(),
                    canonical: canonical(part),
                    pos: key.pos,
                }));
                walk(value, path, out);
                path.truncate(depth);
            }
        }
        _ if path.is_empty() => {}
        _ => out.push(Entry {
            path: path.clone(),
            node,
        }),
    }
}

/// A profile list: a comma-separated string or a YAML sequence.
fn names(node: &Node) -> Vec<String> {
    match &node.value {
        Value::Seq(items) => items.iter().filter_map(Node::scalar_text).collect(),
        _ => node
            .scalar_text()
            .map(|s| profile_list(&s))
            .unwrap_or_default(),
    }
}

/// `prod, eu` → `["prod", "eu"]`.
fn profile_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

fn activation<'a>(doc: &'a [Entry<'a>]) -> Option<&'a Entry<'a>> {
    doc.iter().rev().find(|e| {
        e.is(&["spring", "config", "activate", "onprofile"]) || e.is(&["spring", "profiles"])
    })
}

/// `spring.profiles.active` from the documents that always apply (the last one wins), else
/// `spring.profiles.default`, else `default`.
fn active_profiles(docs: &[Vec<Entry<'_>>]) -> Vec<String> {
    let unconditional = || docs.iter().filter(|d| activation(d).is_none());
    let last = |path: &[&str]| {
        unconditional()
            .flat_map(|d| d.iter())
            .rfind(|e| e.is(path))
            .map(|e| names(e.node))
    };
    last(&["spring", "profiles", "active"])
        .filter(|p| !p.is_empty())
        .or_else(|| last(&["spring", "profiles", "default"]))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| vec!["default".to_owned()])
}

fn applies(doc: &[Entry<'_>], active: &[String], file: Option<&Path>) -> Result<bool, ConfigError> {
    let Some(entry) = activation(doc) else {
        return Ok(true);
    };
    for expression in names(entry.node) {
        let matched = profiles::matches(&expression, active)
            .map_err(|rule| invalid(&written_path(&entry.path), entry.node, rule, file))?;
        if matched {
            return Ok(true);
        }
    }
    Ok(false)
}

fn written_path(path: &[Segment]) -> String {
    path.iter()
        .map(|s| s.written.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// Which resilience4j module a section belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Module {
    Breaker,
    TimeLimiter,
    Retry,
    RateLimiter,
    Bulkhead,
    ThreadPoolBulkhead,
}

impl Module {
    fn prefix(self) -> &'static str {
        match self {
            Module::Breaker => BREAKER_PREFIX,
            Module::TimeLimiter => TIME_LIMITER_PREFIX,
            Module::Retry => RetrySettings::SPRING_PREFIX,
            Module::RateLimiter => RateLimiterSettings::SPRING_PREFIX,
            Module::Bulkhead => BulkheadSettings::SPRING_PREFIX,
            Module::ThreadPoolBulkhead => THREAD_POOL_BULKHEAD_PREFIX,
        }
    }
}

/// A property as last written (later documents override earlier ones).
#[derive(Debug)]
struct Property<'a> {
    canonical: String,
    written: String,
    pos: Pos,
    node: &'a Node,
}

/// A `configs.<name>` or `instances.<name>` section.
#[derive(Debug, Default)]
struct Section<'a> {
    pos: Pos,
    properties: Vec<Property<'a>>,
}

#[derive(Debug, Default)]
struct Sections<'a> {
    configs: BTreeMap<String, Section<'a>>,
    instances: BTreeMap<String, Section<'a>>,
}

/// The `resilience4j.*` part of the applicable documents, merged.
#[derive(Debug, Default)]
struct Layout<'a> {
    breakers: Sections<'a>,
    time_limiters: Sections<'a>,
    retries: Sections<'a>,
    rate_limiters: Sections<'a>,
    bulkheads: Sections<'a>,
    /// `resilience4j.thread-pool-bulkhead`: read to be reported, not applied.
    thread_pool_bulkheads: Sections<'a>,
    /// Java-only keys directly under a module, first occurrence each.
    module_keys: BTreeMap<(Module, String), ConfigWarning>,
    /// `management.metrics.tags.<k>` (Spring Boot's common tags), last written each.
    common_tags: BTreeMap<String, Tag>,
    /// `resilience4j.circuitbreaker.tags.<k>`, last written each; they win over common tags.
    breaker_tags: BTreeMap<String, Tag>,
}

/// A registry-wide tag as last written.
#[derive(Debug)]
struct Tag {
    value: String,
    origin: FieldOrigin,
}

/// Reads a tag entry: `path[at..]` is its name (dotted keys joined back, so that an invalid
/// name is reported whole).
fn read_tag(
    path: &[Segment],
    at: usize,
    node: &Node,
    file: Option<&Path>,
) -> Result<(String, Tag), ConfigError> {
    let key = written_path(path);
    let Some(name_segments) = path.get(at..).filter(|s| !s.is_empty()) else {
        return Err(invalid(
            &key,
            node,
            "expected a mapping of tag names and values".into(),
            file,
        ));
    };
    let name = written_path(name_segments);
    let value = node
        .to_text(Typing::Lenient)
        .map_err(|_| invalid(&key, node, "expected a tag value (a string)".into(), file))?;
    if let Some(rule) = tags::tag_name_problem(&name) {
        return Err(invalid(&key, node, rule, file));
    }
    let origin = FieldOrigin {
        path: key,
        written: node.to_string(),
        pos: node.pos,
    };
    Ok((name, Tag { value, origin }))
}

impl<'a> Layout<'a> {
    fn add(&mut self, doc: &[Entry<'a>], file: Option<&Path>) -> Result<(), ConfigError> {
        for entry in doc {
            let path = &entry.path;
            if path.len() >= 3
                && path[0].canonical == "management"
                && path[1].canonical == "metrics"
                && path[2].canonical == "tags"
            {
                if path.len() == 3 && is_empty(entry.node) {
                    continue;
                }
                let (name, tag) = read_tag(path, 3, entry.node, file)?;
                self.common_tags.insert(name, tag);
                continue;
            }
            if path.len() < 3 || path[0].canonical != "resilience4j" {
                continue;
            }
            let (module, sections) = match path[1].canonical.as_str() {
                "circuitbreaker" => (Module::Breaker, &mut self.breakers),
                "timelimiter" => (Module::TimeLimiter, &mut self.time_limiters),
                "retry" => (Module::Retry, &mut self.retries),
                "ratelimiter" => (Module::RateLimiter, &mut self.rate_limiters),
                "bulkhead" => (Module::Bulkhead, &mut self.bulkheads),
                "threadpoolbulkhead" => {
                    (Module::ThreadPoolBulkhead, &mut self.thread_pool_bulkheads)
                }
                _ => continue,
            };
            let group = &path[2];
            if module == Module::Breaker && group.canonical == "tags" {
                if path.len() == 3 && is_empty(entry.node) {
                    continue;
                }
                let (name, tag) = read_tag(path, 3, entry.node, file)?;
                self.breaker_tags.insert(name, tag);
                continue;
            }
            let map = match group.canonical.as_str() {
                "configs" => &mut sections.configs,
                "instances" | "backends" => &mut sections.instances,
                key => {
                    let key_path = format!("{}.{}", module.prefix(), group.written);
                    if let Some(message) = java_keys::section_key(key) {
                        self.module_keys
                            .entry((module, key.to_owned()))
                            .or_insert_with(|| ConfigWarning {
                                key: key_path,
                                location: group.pos.location(file),
                                message: message.to_owned(),
                            });
                        continue;
                    }
                    let candidates = ["configs", "instances"]
                        .into_iter()
                        .chain(java_keys::SECTION_NAMES.iter().copied());
                    return Err(unknown(
                        &key_path,
                        &group.written,
                        candidates,
                        group.pos,
                        file,
                    ));
                }
            };
            let Some(name) = path.get(3) else {
                if is_empty(entry.node) {
                    continue;
                }
                let at = format!("{}.{}", module.prefix(), group.written);
                return Err(invalid(
                    &at,
                    entry.node,
                    "expected named sections".into(),
                    file,
                ));
            };
            let section = map.entry(name.written.clone()).or_insert_with(|| Section {
                pos: name.pos,
                properties: Vec::new(),
            });
            if path.len() == 4 {
                if is_empty(entry.node) {
                    continue;
                }
                let at = format!("{}.{}.{}", module.prefix(), group.canonical, name.written);
                return Err(invalid(
                    &at,
                    entry.node,
                    "expected a mapping of properties".into(),
                    file,
                ));
            }
            let property = Property {
                canonical: path[4..]
                    .iter()
                    .map(|s| s.canonical.as_str())
                    .collect::<Vec<_>>()
                    .join("."),
                written: written_path(&path[4..]),
                pos: path[path.len() - 1].pos,
                node: entry.node,
            };
            match section
                .properties
                .iter_mut()
                .find(|p| p.canonical == property.canonical)
            {
                Some(existing) => *existing = property,
                None => section.properties.push(property),
            }
        }
        Ok(())
    }

    fn build(self, file: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
        let mut warnings: Vec<ConfigWarning> = self.module_keys.into_values().collect();
        let (mut registry, mut origins) = breakers(&self.breakers, file, &mut warnings)?;
        for (name, tag) in self.common_tags.into_iter().chain(self.breaker_tags) {
            registry.tags.insert(name.clone(), tag.value);
            origins.tags.insert(name, tag.origin);
        }
        let limiters = TimeLimiters::read(&self.time_limiters, file)?;
        let retry = (&mut registry.retry, &mut origins.retry);
        module_sections(
            &self.retries,
            [&mut retry.0.configs, &mut retry.0.instances],
            retry.1,
            java_keys::retry_property,
            file,
            &mut warnings,
        )?;
        let rate_limiter = (&mut registry.rate_limiter, &mut origins.rate_limiter);
        module_sections(
            &self.rate_limiters,
            [&mut rate_limiter.0.configs, &mut rate_limiter.0.instances],
            rate_limiter.1,
            java_keys::rate_limiter_property,
            file,
            &mut warnings,
        )?;
        let bulkhead = (&mut registry.bulkhead, &mut origins.bulkhead);
        module_sections(
            &self.bulkheads,
            [&mut bulkhead.0.configs, &mut bulkhead.0.instances],
            bulkhead.1,
            java_keys::bulkhead_property,
            file,
            &mut warnings,
        )?;
        let thread_pool = &self.thread_pool_bulkheads;
        let thread_pool_sections: Vec<(String, Pos)> = (thread_pool.configs.iter())
            .map(|(name, s)| (format!("configs.{name}"), s.pos))
            .chain(
                (thread_pool.instances.iter())
                    .map(|(name, s)| (format!("instances.{name}"), s.pos)),
            )
            .collect();
        if let Some(first) =
            (thread_pool_sections.iter().map(|(_, pos)| *pos)).min_by_key(|p| (p.line, p.column))
        {
            let names: Vec<&str> = thread_pool_sections
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            warnings.push(super::bulkhead::thread_pool_warning(
                THREAD_POOL_BULKHEAD_PREFIX,
                &names,
                first.location(file),
            ));
        }
        let (resolved, resolve_warnings) = resolve::resolve(&registry, &origins)?;
        warnings.extend(resolve_warnings);
        warnings.sort_by_key(|w| (w.location.line, w.location.column));
        let mut resolved = limiters.apply(resolved, file)?;
        resolved.time_limiter = limiters.resolve(file)?;
        Ok(LoadedConfig { resolved, warnings })
    }
}

fn is_empty(node: &Node) -> bool {
    match &node.value {
        Value::Null => true,
        Value::Map(entries) => entries.is_empty(),
        Value::Str(s) => s.is_empty(),
        _ => false,
    }
}

/// An unknown-key error whose suggestion is spelled like the key the user wrote
/// (kebab-case, snake_case or camelCase).
fn unknown<'c>(
    path: &str,
    written: &str,
    candidates: impl IntoIterator<Item = &'c str>,
    pos: Pos,
    file: Option<&Path>,
) -> ConfigError {
    let suggestion = suggest::nearest(written, candidates, canonical).map(|c| restyle(c, written));
    ConfigError::new(path, ConfigErrorKind::UnknownKey { suggestion }).at(pos.location(file))
}

/// `name` (camelCase or snake_case) in the style of `like`.
fn restyle(name: &str, like: &str) -> String {
    let camel = KeyStyle::Camel.spell(name);
    let separator = if like.contains('-') {
        '-'
    } else if like.contains('_') {
        '_'
    } else {
        return camel;
    };
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push(separator);
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The breaker sections as fusebox settings, with their origins.
fn breakers(
    sections: &Sections<'_>,
    file: Option<&Path>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(RegistryConfig, Origins), ConfigError> {
    let mut config = RegistryConfig::default();
    let mut origins = Origins {
        file: file.map(Path::to_path_buf),
        prefix: BREAKER_PREFIX.to_owned(),
        style: KeyStyle::Camel,
        ..Origins::default()
    };
    let groups = [
        (
            "configs",
            &sections.configs,
            &mut config.configs,
            &mut origins.configs,
        ),
        (
            "instances",
            &sections.instances,
            &mut config.instances,
            &mut origins.instances,
        ),
    ];
    for (group, sections, settings_map, origin_map) in groups {
        for (name, section) in sections {
            let path = format!("{BREAKER_PREFIX}.{group}.{name}");
            let mut settings = BreakerSettings::default();
            let mut fields = BTreeMap::new();
            for p in &section.properties {
                let key = format!("{path}.{}", p.written);
                if let Some(&field) = FIELDS.iter().find(|f| canonical(f) == p.canonical) {
                    settings
                        .set(field, p.node, Typing::Lenient)
                        .map_err(|rule| invalid(&key, p.node, rule, file))?;
                    let origin = FieldOrigin {
                        path: key,
                        written: p.node.to_string(),
                        pos: p.node.pos,
                    };
                    fields.insert(field, origin);
                } else if let Some(message) = java_keys::breaker_property(&p.canonical) {
                    warnings.push(ConfigWarning {
                        key,
                        location: p.pos.location(file),
                        message: message.to_owned(),
                    });
                } else {
                    let candidates = FIELDS.iter().chain(java_keys::BREAKER_NAMES).copied();
                    return Err(unknown(&key, &p.written, candidates, p.pos, file));
                }
            }
            settings_map.insert(name.clone(), settings);
            origin_map.insert(
                name.clone(),
                SectionOrigin {
                    path,
                    pos: section.pos,
                    fields,
                },
            );
        }
    }
    Ok((config, origins))
}

/// One module's `resilience4j.<module>` sections (`retry`, `ratelimiter`, `bulkhead`) as its
/// settings, with their origins: `maps` are its configs and instances.
fn module_sections<S: ModuleSettings>(
    sections: &Sections<'_>,
    [configs, instances]: [&mut BTreeMap<String, S>; 2],
    origins: &mut ModuleOrigins<S>,
    java_only: fn(&str) -> Option<&'static str>,
    file: Option<&Path>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(), ConfigError> {
    let prefix = S::SPRING_PREFIX;
    origins.file = file.map(Path::to_path_buf);
    origins.style = KeyStyle::Camel;
    let groups = [
        ("configs", &sections.configs, configs, &mut origins.configs),
        (
            "instances",
            &sections.instances,
            instances,
            &mut origins.instances,
        ),
    ];
    for (group, sections, settings_map, origin_map) in groups {
        for (name, section) in sections {
            let path = format!("{prefix}.{group}.{name}");
            let (settings, origin) = module::read_section::<S>(
                &path,
                section.pos,
                section
                    .properties
                    .iter()
                    .map(|p| (p.written.as_str(), p.pos, p.node)),
                canonical,
                java_only,
                Typing::Lenient,
                file,
                warnings,
            )
            .map_err(|e| restyle_suggestion(e, section))?;
            settings_map.insert(name.clone(), settings);
            origin_map.insert(name.clone(), origin);
        }
    }
    origins.prefix = prefix.to_owned();
    Ok(())
}

/// An unknown-key error's suggestion spelled like the key the user wrote.
fn restyle_suggestion(err: ConfigError, section: &Section<'_>) -> ConfigError {
    let ConfigErrorKind::UnknownKey {
        suggestion: Some(suggestion),
    } = err.kind()
    else {
        return err;
    };
    let written = section
        .properties
        .iter()
        .find(|p| err.key().ends_with(&format!(".{}", p.written)))
        .map_or("", |p| p.written.as_str());
    let restyled = restyle(suggestion, written);
    ConfigError::new(
        err.key(),
        ConfigErrorKind::UnknownKey {
            suggestion: Some(restyled),
        },
    )
    .at(err.location().clone())
}

/// A time limiter section (shared with the TOML layout, see [`super::time_limiter`]).
type TimeLimiter = TimeLimiterSection;

/// The time limiter sections: applied as breaker timeouts, and resolved into the registry's
/// time limiter configs.
#[derive(Debug)]
struct TimeLimiters {
    configs: BTreeMap<String, TimeLimiter>,
    instances: BTreeMap<String, TimeLimiter>,
}

impl TimeLimiters {
    fn read(sections: &Sections<'_>, file: Option<&Path>) -> Result<Self, ConfigError> {
        let read_group = |group: &str, map: &BTreeMap<String, Section<'_>>| {
            let mut out = BTreeMap::new();
            for (name, section) in map {
                let path = format!("{TIME_LIMITER_PREFIX}.{group}.{name}");
                let mut limiter = TimeLimiter::default();
                for p in &section.properties {
                    let key = format!("{path}.{}", p.written);
                    if !limiter.read(&p.canonical, &key, p.node, Typing::Lenient, file)? {
                        return Err(unknown(&key, &p.written, CAMEL_KEYS, p.pos, file));
                    }
                }
                out.insert(name.clone(), limiter);
            }
            Ok::<_, ConfigError>(out)
        };
        Ok(Self {
            configs: read_group("configs", &sections.configs)?,
            instances: read_group("instances", &sections.instances)?,
        })
    }

    /// The registry's time limiter configs, resolved from the same sections.
    fn resolve(self, file: Option<&Path>) -> Result<ResolvedTimeLimiters, ConfigError> {
        TimeLimiterSections {
            configs: self.configs,
            instances: self.instances,
        }
        .resolve(TIME_LIMITER_PREFIX, "baseConfig", file)
    }

    /// Sets the breakers' timeouts from the time limiters of the same names, each resolved like
    /// a breaker: its `baseConfig`, else a config of its name, else `configs.default`, else
    /// Resilience4j's default. A breaker instance without a time limiter instance takes
    /// `configs.default`'s timeout if there is one, else keeps its own.
    fn apply(
        &self,
        mut resolved: ResolvedConfig,
        file: Option<&Path>,
    ) -> Result<ResolvedConfig, ConfigError> {
        let layer = Limiters {
            sections: self,
            file,
        };
        let mut inheritance = Inheritance::new(&self.configs, layer);
        for name in self.configs.keys() {
            let timeout = inheritance.config(name)?;
            if let Some(config) = resolved.configs.get_mut(name) {
                config.timeout = Some(timeout);
            }
            if name == "default" {
                resolved.default.timeout = Some(timeout);
            }
        }
        let names: Vec<String> = resolved
            .instances
            .keys()
            .chain(self.instances.keys())
            .cloned()
            .collect();
        for name in names {
            let timeout = match self.instances.get(&name) {
                Some(limiter) => Some(inheritance.instance(&name, limiter)?),
                None if inheritance.has_config("default") => Some(inheritance.config("default")?),
                None => None,
            };
            let config = resolved
                .instances
                .entry(name)
                .or_insert_with(|| resolved.default.clone());
            if let Some(timeout) = timeout {
                config.timeout = Some(timeout);
            }
        }
        Ok(resolved)
    }
}

/// Time limiter sections as an inheritance [`Layer`]: a section's timeout overrides its base's.
struct Limiters<'a> {
    sections: &'a TimeLimiters,
    file: Option<&'a Path>,
}

impl Layer for Limiters<'_> {
    type Section = TimeLimiter;
    type Built = Duration;
    const OWN_NAME_ADVICE: &'static str = "";

    fn base_of(section: &TimeLimiter) -> Option<&str> {
        section.base.as_ref().map(|(base, _)| base.as_str())
    }

    fn root(&self) -> Duration {
        TIME_LIMITER_DEFAULT
    }

    fn base_key(&self, group: Group, name: &str) -> (String, Location) {
        let sections = match group {
            Group::Configs => &self.sections.configs,
            Group::Instances => &self.sections.instances,
        };
        match sections.get(name).and_then(|s| s.base.as_ref()) {
            Some((_, origin)) => (origin.path.clone(), origin.pos.location(self.file)),
            None => (
                format!("{TIME_LIMITER_PREFIX}.{}.{name}.baseConfig", group.name()),
                Pos::default().location(self.file),
            ),
        }
    }

    fn apply(
        &mut self,
        _: Group,
        _: &str,
        base: &Duration,
        section: &TimeLimiter,
    ) -> Result<Duration, ConfigError> {
        Ok(section.timeout.unwrap_or(*base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spring_profiles_active_variable_replaces_the_files_profiles() {
        let text = include_str!("../../../tests/data/profiles.yml");
        let orders = |env: Option<&str>| {
            load(text, None, env)
                .expect("loads")
                .resolved
                .instances
                .remove("orders")
                .expect("orders")
        };
        // The file says `prod`.
        assert_eq!(orders(None).failure_rate_threshold(), 25.0);
        // `dev` from the environment: the dev and `!prod` documents, not the prod ones.
        let dev = orders(Some("dev"));
        assert_eq!(dev.failure_rate_threshold(), 50.0);
        assert_eq!(dev.sliding_window_size(), 3);
        assert_eq!(dev.minimum_number_of_calls(), 1);
        // A list, as Spring reads it: `prod & eu` holds.
        assert_eq!(orders(Some(" prod , eu ")).minimum_number_of_calls(), 7);
        // Blank: the file decides.
        assert_eq!(orders(Some(" , ")).failure_rate_threshold(), 25.0);
    }

    /// Time limiter `baseConfig`s follow the breakers' rules and errors.
    #[test]
    fn time_limiter_inheritance_errors() {
        let error = |text: &str| load(text, None, None).expect_err(text).to_string();
        let cycle =
            "resilience4j.timelimiter.configs:\n  a:\n    baseConfig: b\n  b:\n    baseConfig: a\n";
        assert_eq!(
            error(cycle),
            "<config>:5:17: resilience4j.timelimiter.configs.b.baseConfig: base_config cycle: \
             a -> b -> a"
        );
        let missing = "resilience4j.timelimiter.instances.orders.baseConfig: shraed\n";
        assert_eq!(
            error(missing),
            "<config>:1:55: resilience4j.timelimiter.instances.orders.baseConfig: base config \
             `shraed` does not exist (define it under `configs.shraed`)"
        );
        let own = "resilience4j.timelimiter:\n  configs.orders.timeoutDuration: 2s\n  \
                   instances.orders.baseConfig: orders\n";
        assert_eq!(
            error(own),
            "<config>:3:32: resilience4j.timelimiter.instances.orders.baseConfig: an instance \
             cannot name the config of its own name `orders` as its base (Resilience4j rejects \
             this as a circular reference); remove it"
        );
    }

    #[test]
    fn time_limiters_inherit_like_breakers() {
        let text = "resilience4j.timelimiter:\n  configs:\n    default.timeoutDuration: 3s\n    \
                    slow:\n      baseConfig: default\n    other.baseConfig: slow\n  \
                    instances:\n    a.baseConfig: other\n    slow: {}\n\
                    resilience4j.circuitbreaker.instances.b.slidingWindowSize: 5\n";
        let resolved = load(text, None, None).expect("loads").resolved;
        let timeout = |name: &str| resolved.instances[name].timeout();
        assert_eq!(
            timeout("a"),
            Some(Duration::from_secs(3)),
            "a -> other -> slow -> default"
        );
        assert_eq!(
            timeout("slow"),
            Some(Duration::from_secs(3)),
            "the config of its name"
        );
        assert_eq!(
            timeout("b"),
            Some(Duration::from_secs(3)),
            "configs.default"
        );
        assert_eq!(
            resolved.configs.get("other"),
            None,
            "no breaker config `other`"
        );
        assert_eq!(resolved.default.timeout(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn restyles_suggestions() {
        assert_eq!(
            restyle("sliding_window_size", "slidingWindowSise"),
            "slidingWindowSize"
        );
        assert_eq!(
            restyle("sliding_window_size", "sliding-window-sise"),
            "sliding-window-size"
        );
        assert_eq!(
            restyle("recordExceptions", "record_exception"),
            "record_exceptions"
        );
    }

    #[test]
    fn dotted_and_nested_keys_flatten_alike() {
        let a = yaml::parse("a.b:\n  c: 1\n", None).expect("yaml");
        let b = yaml::parse("a:\n  b.c: 1\n", None).expect("yaml");
        let paths = |docs: &[Node]| -> Vec<String> {
            flatten(&docs[0])
                .iter()
                .map(|e| written_path(&e.path))
                .collect()
        };
        assert_eq!(paths(&a), ["a.b.c"]);
        assert_eq!(paths(&b), ["a.b.c"]);
    }
}
