//! fusebox's TOML layout: `[configs.<name>]` and `[instances.<name>]` with snake_case keys.

use super::module::{self, ModuleOrigins, ModuleSettings};
use super::node::{Key, Node, Pos, Typing, Value, invalid};
use super::resolve::{self, FieldOrigin, Origins, SectionOrigin};
use super::settings::{BreakerSettings, FIELDS, RegistryConfig};
use super::suggest;
use super::tags;
use super::time_limiter::{SNAKE_KEYS, TimeLimiterSection, TimeLimiterSections};
use super::{ConfigWarning, LoadedConfig};
use crate::config::{ConfigError, ConfigErrorKind};
use ::toml::Spanned;
use ::toml::de::{DeTable, DeValue};
use std::collections::BTreeMap;
use std::path::Path;

/// The top-level tables.
const SECTIONS: &[&str] = &[
    "configs",
    "instances",
    "tags",
    "retry",
    "bulkhead",
    "time_limiter",
    "rate_limiter",
];

/// Parses, resolves and validates TOML text.
pub(crate) fn load(text: &str, file: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
    let root = parse(text, file)?;
    let mut warnings = Vec::new();
    let (config, origins) = read(&root, file, &mut warnings)?;
    let limiters = read_time_limiters(&root, file)?;
    let (mut resolved, resolve_warnings) = resolve::resolve(&config, &origins)?;
    warnings.extend(resolve_warnings);
    resolved.time_limiter = limiters.resolve("time_limiter", "base_config", file)?;
    Ok(LoadedConfig { resolved, warnings })
}

/// TOML text as a [`Node`] tree with positions.
pub(crate) fn parse(text: &str, file: Option<&Path>) -> Result<Node, ConfigError> {
    let lines = LineIndex::new(text);
    match DeTable::parse(text) {
        Ok(table) => Ok(Node {
            pos: lines.pos(table.span().start),
            value: table_value(table.get_ref(), &lines),
        }),
        Err(e) => {
            let pos = e.span().map_or_else(Pos::default, |s| lines.pos(s.start));
            Err(ConfigError::new(
                "",
                ConfigErrorKind::Syntax {
                    message: format!("invalid TOML: {}", e.message().trim_end()),
                },
            )
            .at(pos.location(file)))
        }
    }
}

fn table_value(table: &DeTable<'_>, lines: &LineIndex<'_>) -> Value {
    Value::Map(
        table
            .iter()
            .map(|(k, v)| {
                let key = Key {
                    name: k.get_ref().to_string(),
                    pos: lines.pos(k.span().start),
                };
                (key, node(v, lines))
            })
            .collect(),
    )
}

fn node(v: &Spanned<DeValue<'_>>, lines: &LineIndex<'_>) -> Node {
    let value = match v.get_ref() {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Int(n),
            // Beyond i64 (the toml parser leaves the range to us): a number too large for any
            // property, which validation then rejects with the key and position. Decimal
            // digits keep their magnitude; a hex/octal/binary one is at least 2^63.
            Err(_) => Value::Float(i.as_str().parse().unwrap_or(f64::INFINITY)),
        },
        DeValue::Float(x) => Value::Float(
            x.as_str()
                .parse()
                .expect("toml hands over a float it has checked, in Rust's float syntax"),
        ),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Str(d.to_string()),
        DeValue::Array(items) => Value::Seq(items.iter().map(|i| node(i, lines)).collect()),
        DeValue::Table(t) => table_value(t, lines),
    };
    Node {
        value,
        pos: lines.pos(v.span().start),
    }
}

/// Reads the layout into settings, recording where everything was written.
fn read(
    root: &Node,
    file: Option<&Path>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(RegistryConfig, Origins), ConfigError> {
    let mut config = RegistryConfig::default();
    let mut origins = Origins {
        file: file.map(Path::to_path_buf),
        ..Origins::default()
    };
    origins.retry.file = origins.file.clone();
    origins.rate_limiter.file = origins.file.clone();
    origins.bulkhead.file = origins.file.clone();
    for (key, value) in root.entries().unwrap_or_default() {
        if key.name == "tags" {
            read_tags(value, &mut config, &mut origins, file)?;
            continue;
        }
        if key.name == "retry" {
            let (sections, origins) = (&mut config.retry, &mut origins.retry);
            let maps = [&mut sections.configs, &mut sections.instances];
            read_module(value, maps, origins, file, warnings)?;
            continue;
        }
        if key.name == "bulkhead" {
            let (sections, origins) = (&mut config.bulkhead, &mut origins.bulkhead);
            let maps = [&mut sections.configs, &mut sections.instances];
            read_module(value, maps, origins, file, warnings)?;
            continue;
        }
        if key.name == "time_limiter" {
            // Read by `read_time_limiters`.
            continue;
        }
        if key.name == "rate_limiter" {
            let (sections, origins) = (&mut config.rate_limiter, &mut origins.rate_limiter);
            let maps = [&mut sections.configs, &mut sections.instances];
            read_module(value, maps, origins, file, warnings)?;
            continue;
        }
        let (settings, section_origins) = match key.name.as_str() {
            "configs" => (&mut config.configs, &mut origins.configs),
            "instances" => (&mut config.instances, &mut origins.instances),
            other => {
                let suggestion = suggest::nearest(other, SECTIONS.iter().copied(), str::to_owned);
                return Err(unknown(other, suggestion, key.pos, file));
            }
        };
        let Some(sections) = value.entries() else {
            return Err(invalid(
                &key.name,
                value,
                "expected a table of named sections".into(),
                file,
            ));
        };
        for (name, body) in sections {
            let path = format!("{}.{}", key.name, name.name);
            let (s, origin) = read_section(&path, name.pos, body, file)?;
            settings.insert(name.name.clone(), s);
            section_origins.insert(name.name.clone(), origin);
        }
    }
    Ok((config, origins))
}

/// `[tags]`: registry-wide metric tags, each a string.
fn read_tags(
    body: &Node,
    config: &mut RegistryConfig,
    origins: &mut Origins,
    file: Option<&Path>,
) -> Result<(), ConfigError> {
    let Some(entries) = body.entries() else {
        return Err(invalid(
            "tags",
            body,
            "expected a table of tag names and values".into(),
            file,
        ));
    };
    for (key, value) in entries {
        let path = format!("tags.{}", key.name);
        let text = value
            .to_text(Typing::Strict)
            .map_err(|rule| invalid(&path, value, rule, file))?;
        if let Some(rule) = tags::tag_name_problem(&key.name) {
            return Err(invalid(&path, value, rule, file));
        }
        config.tags.insert(key.name.clone(), text);
        origins.tags.insert(
            key.name.clone(),
            FieldOrigin {
                path,
                written: value.to_string(),
                pos: value.pos,
            },
        );
    }
    Ok(())
}

/// `[time_limiter.configs.<name>]` and `[time_limiter.instances.<name>]`.
fn read_time_limiters(
    root: &Node,
    file: Option<&Path>,
) -> Result<TimeLimiterSections, ConfigError> {
    let mut sections = TimeLimiterSections::default();
    let Some(body) = root
        .entries()
        .unwrap_or_default()
        .iter()
        .find(|(k, _)| k.name == "time_limiter")
        .map(|(_, v)| v)
    else {
        return Ok(sections);
    };
    let Some(groups) = body.entries() else {
        return Err(invalid(
            "time_limiter",
            body,
            "expected a table with `configs` and `instances`".into(),
            file,
        ));
    };
    for (group, named) in groups {
        let map = match group.name.as_str() {
            "configs" => &mut sections.configs,
            "instances" => &mut sections.instances,
            other => {
                let path = format!("time_limiter.{other}");
                let suggestion = suggest::nearest(other, ["configs", "instances"], str::to_owned);
                return Err(unknown(&path, suggestion, group.pos, file));
            }
        };
        let group_path = format!("time_limiter.{}", group.name);
        let Some(named) = named.entries() else {
            return Err(invalid(
                &group_path,
                named,
                "expected a table of named sections".into(),
                file,
            ));
        };
        for (name, body) in named {
            let path = format!("{group_path}.{}", name.name);
            let Some(entries) = body.entries() else {
                return Err(invalid(
                    &path,
                    body,
                    "expected a table of time limiter properties".into(),
                    file,
                ));
            };
            let mut section = TimeLimiterSection::default();
            for (key, value) in entries {
                let key_path = format!("{path}.{}", key.name);
                let canonical = key.name.replace('_', "");
                let known = SNAKE_KEYS.contains(&key.name.as_str())
                    && section.read(&canonical, &key_path, value, Typing::Strict, file)?;
                if !known {
                    let suggestion =
                        suggest::nearest(&key.name, SNAKE_KEYS.iter().copied(), str::to_owned);
                    return Err(unknown(&key_path, suggestion, key.pos, file));
                }
            }
            map.insert(name.name.clone(), section);
        }
    }
    Ok(sections)
}

/// A module's `[<module>.configs.<name>]` and `[<module>.instances.<name>]` (`retry`,
/// `rate_limiter`, `bulkhead`): `maps` are its configs and instances.
fn read_module<S: ModuleSettings>(
    body: &Node,
    [configs, instances]: [&mut BTreeMap<String, S>; 2],
    origins: &mut ModuleOrigins<S>,
    file: Option<&Path>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(), ConfigError> {
    let module = S::TOML_PREFIX;
    let Some(groups) = body.entries() else {
        return Err(invalid(
            module,
            body,
            "expected a table with `configs` and `instances`".into(),
            file,
        ));
    };
    for (group, sections) in groups {
        let (settings, section_origins) = match group.name.as_str() {
            "configs" => (&mut *configs, &mut origins.configs),
            "instances" => (&mut *instances, &mut origins.instances),
            other => {
                let path = format!("{module}.{other}");
                let suggestion = suggest::nearest(other, ["configs", "instances"], str::to_owned);
                return Err(unknown(&path, suggestion, group.pos, file));
            }
        };
        let group_path = format!("{module}.{}", group.name);
        let Some(sections) = sections.entries() else {
            return Err(invalid(
                &group_path,
                sections,
                "expected a table of named sections".into(),
                file,
            ));
        };
        for (name, body) in sections {
            let path = format!("{group_path}.{}", name.name);
            let Some(entries) = body.entries() else {
                return Err(invalid(
                    &path,
                    body,
                    format!(
                        "expected a table of {} properties",
                        module.replace('_', " ")
                    ),
                    file,
                ));
            };
            let (s, origin) = module::read_section::<S>(
                &path,
                name.pos,
                entries.iter().map(|(k, v)| (k.name.as_str(), k.pos, v)),
                str::to_owned,
                |_| None,
                Typing::Strict,
                file,
                warnings,
            )?;
            settings.insert(name.name.clone(), s);
            section_origins.insert(name.name.clone(), origin);
        }
    }
    Ok(())
}

fn read_section(
    path: &str,
    pos: Pos,
    body: &Node,
    file: Option<&Path>,
) -> Result<(BreakerSettings, SectionOrigin), ConfigError> {
    let Some(entries) = body.entries() else {
        return Err(invalid(
            path,
            body,
            "expected a table of breaker properties".into(),
            file,
        ));
    };
    let mut settings = BreakerSettings::default();
    let mut fields = BTreeMap::new();
    for (key, value) in entries {
        let field_path = format!("{path}.{}", key.name);
        let Some(&field) = FIELDS.iter().find(|f| **f == key.name) else {
            let suggestion = suggest::nearest(&key.name, FIELDS.iter().copied(), str::to_owned);
            return Err(unknown(&field_path, suggestion, key.pos, file));
        };
        settings
            .set(field, value, Typing::Strict)
            .map_err(|rule| invalid(&field_path, value, rule, file))?;
        fields.insert(
            field,
            FieldOrigin {
                path: field_path,
                written: value.to_string(),
                pos: value.pos,
            },
        );
    }
    let origin = SectionOrigin {
        path: path.to_owned(),
        pos,
        fields,
    };
    Ok((settings, origin))
}

fn unknown(path: &str, suggestion: Option<&str>, pos: Pos, file: Option<&Path>) -> ConfigError {
    ConfigError::new(
        path,
        ConfigErrorKind::UnknownKey {
            suggestion: suggestion.map(str::to_owned),
        },
    )
    .at(pos.location(file))
}

/// Byte offset to 1-based line and column (in characters).
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    fn pos(&self, offset: usize) -> Pos {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset.min(self.text.len()))
            .map_or(1, |s| s.chars().count() + 1);
        Pos { line, column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index() {
        let lines = LineIndex::new("ab\ncdé\nf");
        assert_eq!(lines.pos(0), Pos { line: 1, column: 1 });
        assert_eq!(lines.pos(4), Pos { line: 2, column: 2 });
        assert_eq!(lines.pos(7), Pos { line: 2, column: 4 });
        assert_eq!(lines.pos(8), Pos { line: 3, column: 1 });
    }

    #[test]
    fn walker_agrees_with_serde() {
        let text = r#"
            [configs.default]
            sliding_window_size = 10
            wait_duration_in_open_state = "PT5S"
            sliding_window_type = "TIME_BASED"
            [instances.a]
            base_config = "default"
            failure_rate_threshold = 25
            timeout = 1500
            initial_state = "half_open"
        "#;
        let root = parse(text, None).expect("parses");
        let (walked, _) = read(&root, None, &mut Vec::new()).expect("reads");
        let via_serde: RegistryConfig = ::toml::from_str(text).expect("deserializes");
        assert_eq!(walked, via_serde);
    }
}
