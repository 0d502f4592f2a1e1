//! Walks every entry of the property table (`config/properties.rs`) through the builder, the
//! TOML and Spring YAML layouts, serde and `Registry::reload_from_file`, and checks that the
//! README's property table is the table's.
//!
//! The samples come from the table itself, so a property added to it is walked without a
//! change here; one that cannot show its sample somewhere (a setter or file key that does not
//! reach the config, a field `PartialEq` or `Debug` ignores) fails.

#[cfg(feature = "yaml")]
use super::file::KeyStyle;
use super::file::{BreakerSettings, Format as FileFormat, RegistryConfig, load_str};
use super::properties::{FIELDS, FILE_KEYS, samples};
use super::{CircuitBreakerConfig, ConfigError};
use crate::Registry;
use crate::state::State;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// One table entry's sample: a config that differs from the default in that entry only, and
/// the ways to reach it.
#[derive(Debug)]
pub(crate) struct Sample {
    /// The property, or the file-only key.
    pub(crate) name: &'static str,
    /// Whether `name` is a property (a config field) rather than a file-only key.
    pub(crate) property: bool,
    /// Whether reload applies a change to it in place (`reload in_place`: the breaker keeps
    /// its state and window).
    pub(crate) in_place: bool,
    /// The default config with the sample.
    pub(crate) expected: CircuitBreakerConfig,
    /// The builder's setter applied to the sample, if the entry has one.
    pub(crate) built: Option<Result<CircuitBreakerConfig, ConfigError>>,
    /// The getter that shows the sample, if there is one (its value, `Debug`-formatted).
    pub(crate) getter: Option<fn(&CircuitBreakerConfig) -> String>,
    /// The entry's file key, if it has one.
    pub(crate) file: Option<FileSample>,
}

/// A file key's sample, as [`BreakerSettings`].
#[derive(Debug)]
pub(crate) struct FileSample {
    /// The key.
    pub(crate) key: &'static str,
    /// The other keys the sample needs (the wait, for a backoff key).
    pub(crate) base: BreakerSettings,
    /// `base` and the key set to the sample: resolves to [`Sample::expected`].
    pub(crate) with_sample: BreakerSettings,
    /// `base` and the key set to its default, if it has one: resolves like `base`.
    pub(crate) with_default: Option<BreakerSettings>,
}

/// `settings` as the only instance, `x`, resolved.
fn resolve(settings: &BreakerSettings) -> CircuitBreakerConfig {
    let config = RegistryConfig {
        instances: [("x".to_owned(), settings.clone())].into(),
        ..RegistryConfig::default()
    };
    let mut resolved = config.resolve().expect("resolves");
    resolved.instances.remove("x").expect("instance x")
}

/// `settings` as the body of a TOML section, through serde.
fn toml_body(settings: &BreakerSettings) -> String {
    toml::to_string(settings).expect("serializes")
}

/// `settings` as a Spring YAML instance `x`, keys spelled by `spell`.
#[cfg(feature = "yaml")]
fn yaml(settings: &BreakerSettings, spell: impl Fn(&str) -> String) -> String {
    let table: toml::Table = toml::from_str(&toml_body(settings)).expect("parses");
    let mut text = String::from("resilience4j.circuitbreaker.instances.x:\n");
    for (key, value) in &table {
        text.push_str(&format!("  {}: {value}\n", spell(key)));
    }
    text
}

fn loaded(text: &str, format: FileFormat) -> CircuitBreakerConfig {
    let mut loaded = load_str(text, format, None).unwrap_or_else(|e| panic!("{e}\n{text}"));
    loaded.resolved.instances.remove("x").expect("instance x")
}

/// Properties whose setters are written by hand in `config/mod.rs` (tested there), because they
/// are not one value in, one value stored.
const SET_BY_HAND: &[&str] = &["wait_interval", "timeout", "clock"];

/// Properties that config files cannot set (and that have no getter).
const NOT_IN_FILES: &[&str] = &["clock"];

#[test]
fn every_entry_has_a_sample_that_changes_the_config() {
    let default = CircuitBreakerConfig::default();
    let samples = samples();
    let names: BTreeSet<&str> = samples.iter().map(|s| s.name).collect();
    assert_eq!(names.len(), samples.len(), "one sample per entry");
    for sample in &samples {
        let name = sample.name;
        assert_ne!(
            sample.expected, default,
            "{name}: PartialEq must see the property"
        );
        assert_ne!(
            format!("{:?}", sample.expected),
            format!("{default:?}"),
            "{name}: Debug must show the property"
        );
        assert_eq!(
            sample.expected.behaves_like(&default),
            sample.in_place,
            "{name}: behaves_like must see every property but those applied in place"
        );
        if let Some(built) = &sample.built {
            assert_eq!(built.as_ref(), Ok(&sample.expected), "{name}: the setter");
        }
        if let Some(getter) = sample.getter {
            assert_ne!(
                getter(&sample.expected),
                getter(&default),
                "{name}: the getter must show the sample"
            );
        }
        if !sample.property {
            assert!(
                sample.file.is_some(),
                "{name}: a file-only key without a file sample"
            );
            continue;
        }
        assert!(
            sample.built.is_some() || SET_BY_HAND.contains(&name),
            "{name}: no setter in the table and none written by hand"
        );
        assert!(
            sample.file.is_some() || NOT_IN_FILES.contains(&name),
            "{name}: no file key"
        );
        assert!(
            sample.getter.is_some() || NOT_IN_FILES.contains(&name),
            "{name}: no getter"
        );
    }
}

#[test]
fn every_file_key_round_trips_through_toml_yaml_and_serde() {
    for sample in samples() {
        let Some(file) = &sample.file else { continue };
        let (name, key) = (sample.name, file.key);
        assert!(FIELDS.contains(&key), "{key} is not a BreakerSettings key");
        let observe = |config: &CircuitBreakerConfig, route: &str| {
            assert_eq!(config, &sample.expected, "{name} through {route}");
            if let Some(getter) = sample.getter {
                assert_eq!(
                    getter(config),
                    getter(&sample.expected),
                    "{name} through {route}"
                );
            }
        };

        observe(&resolve(&file.with_sample), "RegistryConfig::resolve");

        let body = toml_body(&file.with_sample);
        assert!(
            body.contains(&format!("{key} = ")),
            "{key} serializes:\n{body}"
        );
        let back: BreakerSettings = toml::from_str(&body).expect("deserializes");
        assert_eq!(back, file.with_sample, "{key}: serde round trip");

        let toml = format!("[instances.x]\n{body}");
        observe(&loaded(&toml, FileFormat::Toml), "TOML");
        #[cfg(feature = "yaml")]
        {
            let camel = yaml(&file.with_sample, |k| KeyStyle::Camel.spell(k));
            observe(&loaded(&camel, FileFormat::SpringYaml), "camelCase YAML");
            let kebab = yaml(&file.with_sample, |k| k.replace('_', "-"));
            observe(&loaded(&kebab, FileFormat::SpringYaml), "kebab-case YAML");
        }

        if let Some(with_default) = &file.with_default {
            assert_eq!(
                resolve(with_default),
                resolve(&file.base),
                "{key}: its documented default is what applies when it is not set"
            );
        }
    }
}

/// A file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "fusebox-property-{}-{name}.toml",
            std::process::id()
        ));
        Self(path)
    }

    fn write(&self, settings: &BreakerSettings) {
        let text = format!("[instances.x]\n{}", toml_body(settings));
        std::fs::write(&self.0, text).expect("writes the config file");
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn reload_reconfigures_a_breaker_when_any_one_file_key_changes() {
    for sample in samples() {
        let Some(file) = &sample.file else { continue };
        let key = file.key;
        let path = TempFile::new(key);
        path.write(&file.base);
        let registry = Registry::from_file(&path.0).expect("loads");
        let breaker = registry.circuit_breaker("x");
        let before = breaker.config();
        assert_eq!(before, resolve(&file.base), "{key}");
        // One failed call in the window: a reconfigured breaker starts over, one whose change
        // only concerns how it is observed keeps it.
        assert!(breaker.try_acquire_permission(), "{key}");
        breaker.on_error(Duration::from_millis(1));
        assert_eq!(breaker.metrics().number_of_failed_calls(), 1, "{key}");

        path.write(&file.with_sample);
        let changed = registry.reload_from_file(&path.0).expect("reloads");
        assert_eq!(
            changed,
            ["x"],
            "{key}: changing it reconfigures the breaker"
        );
        assert_eq!(breaker.config(), sample.expected, "{key}");
        let (kept, state) = if sample.in_place {
            (1, State::Closed)
        } else {
            (0, sample.expected.initial_state())
        };
        assert_eq!(
            breaker.metrics().number_of_failed_calls(),
            kept,
            "{key}: in place {}",
            sample.in_place
        );
        assert_eq!(breaker.state(), state, "{key}");

        let unchanged = registry.reload_from_file(&path.0).expect("reloads");
        assert!(
            unchanged.is_empty(),
            "{key}: an unchanged file reconfigures nothing"
        );

        path.write(&file.base);
        let changed = registry.reload_from_file(&path.0).expect("reloads");
        assert_eq!(
            changed,
            ["x"],
            "{key}: removing it reconfigures the breaker"
        );
        assert_eq!(breaker.config(), before, "{key}");
    }
}

#[test]
fn the_readme_property_table_is_the_declaration() {
    crate::config::assert_readme_table(
        "<!-- property table: generated from runtime/src/config/properties.rs -->",
        "<!-- end of property table -->",
        &crate::config::markdown_table(
            FILE_KEYS,
            "The shared config (under `configs`) this one starts from.",
        ),
    );
}
