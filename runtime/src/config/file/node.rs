//! A format-neutral document tree with positions, built from TOML or YAML, and the value
//! conversions both formats share.

use super::duration;
use super::enums;
use crate::config::{ConfigError, Location, SlidingWindowType};
use crate::state::State;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Pos {
    /// This position in `file`.
    pub(crate) fn location(self, file: Option<&Path>) -> Location {
        Location {
            file: file.map(Path::to_path_buf),
            line: (self.line > 0).then_some(self.line),
            column: (self.column > 0).then_some(self.column),
        }
    }
}

/// A value in a config document.
#[cfg_attr(
    not(feature = "yaml"),
    allow(dead_code, reason = "`Null` comes from YAML only")
)]
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A value and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) pos: Pos,
}

/// A mapping key and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) pos: Pos,
}

/// The value as it would be written back (strings quoted), for error messages.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Seq(items) => write!(f, "[...{} items]", items.len()),
            Value::Map(_) => f.write_str("{...}"),
        }
    }
}

/// How strictly scalars convert: TOML is typed; Spring converts strings (`'100'`, `'true'`).
#[cfg_attr(
    not(feature = "yaml"),
    allow(dead_code, reason = "`Lenient` is for YAML only")
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Typing {
    Strict,
    Lenient,
}

impl Node {
    /// The mapping's entries, if this is a mapping (`null` counts as an empty one).
    pub(crate) fn entries(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            Value::Null => Some(&[]),
            _ => None,
        }
    }

    /// The scalar's text, for a string, number or boolean.
    pub(crate) fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(x) => Some(x.to_string()),
            _ => None,
        }
    }

    fn lenient_str(&self, typing: Typing) -> Option<&str> {
        match (&self.value, typing) {
            (Value::Str(s), Typing::Lenient) => Some(s.trim()),
            _ => None,
        }
    }

    /// A number (integers widen).
    pub(crate) fn to_f64(&self, typing: Typing) -> Result<f64, String> {
        let rule = || "expected a number".to_owned();
        match &self.value {
            Value::Int(i) => Ok(*i as f64),
            Value::Float(x) if x.is_finite() => Ok(*x),
            _ => self
                .lenient_str(typing)
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .ok_or_else(rule),
        }
    }

    /// A non-negative whole number that fits `u32`.
    pub(crate) fn to_u32(&self, typing: Typing) -> Result<u32, String> {
        let int = match &self.value {
            Value::Int(i) => Some(*i),
            _ => self.lenient_str(typing).and_then(|s| s.parse::<i64>().ok()),
        };
        match int {
            Some(i) if i < 0 => Err("must not be negative".to_owned()),
            Some(i) => u32::try_from(i).map_err(|_| format!("must be at most {}", u32::MAX)),
            None => Err("expected a whole number".to_owned()),
        }
    }

    /// A boolean (leniently also `on`/`off`, `yes`/`no`, `1`/`0`, as Spring converts them).
    pub(crate) fn to_bool(&self, typing: Typing) -> Result<bool, String> {
        if let Value::Bool(b) = self.value {
            return Ok(b);
        }
        let text = self
            .lenient_str(typing)
            .map(str::to_ascii_lowercase)
            .or_else(|| match (&self.value, typing) {
                (Value::Int(i), Typing::Lenient) => Some(i.to_string()),
                _ => None,
            });
        match text.as_deref() {
            Some("true" | "on" | "yes" | "1") => Ok(true),
            Some("false" | "off" | "no" | "0") => Ok(false),
            _ => Err("expected true or false".to_owned()),
        }
    }

    /// A duration: an integer is milliseconds, text is parsed (`10s`, `PT10S`, ...).
    pub(crate) fn to_duration(&self) -> Result<Duration, String> {
        let parsed = match &self.value {
            Value::Int(ms) => duration::from_millis(*ms),
            Value::Str(s) => duration::parse(s),
            _ => Err(duration::DurationError::Unparsable),
        };
        parsed.map_err(|e| e.rule())
    }

    /// A `timeout`: a duration of at least 1 ms, or `"off"` (kept as `Duration::ZERO`). YAML
    /// reads an unquoted `off` as `false`, so `false` means off too.
    pub(crate) fn to_timeout(&self) -> Result<Duration, String> {
        match &self.value {
            Value::Str(s) => duration::parse_timeout(s),
            Value::Bool(false) => Ok(Duration::ZERO),
            Value::Int(_) => duration::timeout(self.to_duration()?),
            _ => Err(duration::timeout_forms()),
        }
    }

    /// Text (a scalar of any type in lenient mode).
    pub(crate) fn to_text(&self, typing: Typing) -> Result<String, String> {
        match (&self.value, typing) {
            (Value::Str(s), _) => Ok(s.clone()),
            (_, Typing::Lenient) => self
                .scalar_text()
                .ok_or_else(|| "expected a name".to_owned()),
            _ => Err("expected a string".to_owned()),
        }
    }

    /// A breaker state name.
    pub(crate) fn to_state(&self) -> Result<State, String> {
        match &self.value {
            Value::Str(s) => enums::state(s).ok_or_else(enums::state_rule),
            _ => Err(enums::state_rule()),
        }
    }

    /// A sliding window type name.
    pub(crate) fn to_window_type(&self) -> Result<SlidingWindowType, String> {
        match &self.value {
            Value::Str(s) => {
                enums::window_type(s).ok_or_else(|| enums::WINDOW_TYPE_RULE.to_owned())
            }
            _ => Err(enums::WINDOW_TYPE_RULE.to_owned()),
        }
    }
}

/// An invalid-value error for `node` at `path`, located in `file`.
pub(crate) fn invalid(path: &str, node: &Node, rule: String, file: Option<&Path>) -> ConfigError {
    ConfigError::invalid(path, node, rule).at(node.pos.location(file))
}
