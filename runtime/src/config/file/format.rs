//! How each kind of property value is written in config files: read from a document node,
//! written back as TOML, and (de)serialized by serde in
//! [`BreakerSettings`](super::BreakerSettings).
//!
//! A property's format is the [`Format`] of its value type (`f32`, `u32`, `bool`, `Duration`,
//! `State`, `SlidingWindowType`, `String`), unless the property table names another one, as
//! `timeout` names [`Timeout`].

use super::duration;
use super::enums::{self, state_option, window_type_option};
use super::node::{Node, Typing};
use crate::config::SlidingWindowType;
use crate::state::State;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

/// A way of writing one kind of value in config files.
pub(crate) trait Format {
    /// The value read.
    type Value: Copy + fmt::Debug;
    /// What a value looks like, for the docs' property table.
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "for the docs' property table test")
    )]
    const FORMS: &'static str;
    /// Reads a value from a document node; the error is the rule the value breaks.
    fn read(node: &Node, typing: Typing) -> Result<Self::Value, String>;
    /// The value as written in TOML (which YAML reads the same way).
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "for the docs' property table test")
    )]
    fn write(value: Self::Value) -> String;
    /// Serializes the optional value of a settings field.
    fn serialize<S: Serializer>(value: &Option<Self::Value>, s: S) -> Result<S::Ok, S::Error>;
    /// Deserializes the optional value of a settings field.
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self::Value>, D::Error>;
}

/// `Format` for a plain value type: read by `$read`, written with `Display`, serialized as
/// itself.
macro_rules! plain_format {
    ($ty:ty, $forms:literal, $read:expr) => {
        impl Format for $ty {
            type Value = $ty;
            const FORMS: &'static str = $forms;
            fn read(node: &Node, typing: Typing) -> Result<$ty, String> {
                ($read)(node, typing)
            }
            fn write(value: $ty) -> String {
                value.to_string()
            }
            fn serialize<S: Serializer>(value: &Option<$ty>, s: S) -> Result<S::Ok, S::Error> {
                value.serialize(s)
            }
            fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
                Option::deserialize(d)
            }
        }
    };
}

plain_format!(f32, "number", |n: &Node, t| n.to_f64(t).map(|v| v as f32));
plain_format!(f64, "number", |n: &Node, t| n.to_f64(t));
plain_format!(u32, "whole number", |n: &Node, t| n.to_u32(t));
plain_format!(bool, "`true` or `false`", |n: &Node, t| n.to_bool(t));

impl Format for Duration {
    type Value = Duration;
    const FORMS: &'static str = "duration";
    fn read(node: &Node, _: Typing) -> Result<Duration, String> {
        node.to_duration()
    }
    fn write(value: Duration) -> String {
        format!("{:?}", duration::format(value))
    }
    fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        duration::option::serialize(value, s)
    }
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        duration::option::deserialize(d)
    }
}

/// `timeout`: a duration of at least 1 ms, or `"off"` (read as `Duration::ZERO`), which switches
/// off a limit inherited through `base_config`.
#[derive(Debug)]
pub(crate) struct Timeout;

impl Format for Timeout {
    type Value = Duration;
    const FORMS: &'static str = "duration or `\"off\"`";
    fn read(node: &Node, _: Typing) -> Result<Duration, String> {
        node.to_timeout()
    }
    fn write(value: Duration) -> String {
        if value.is_zero() {
            format!("{:?}", duration::OFF)
        } else {
            Duration::write(value)
        }
    }
    fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        duration::timeout_option::serialize(value, s)
    }
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        duration::timeout_option::deserialize(d)
    }
}

impl Format for State {
    type Value = State;
    const FORMS: &'static str = "state name";
    fn read(node: &Node, _: Typing) -> Result<State, String> {
        node.to_state()
    }
    fn write(value: State) -> String {
        format!("{:?}", value.as_str())
    }
    fn serialize<S: Serializer>(value: &Option<State>, s: S) -> Result<S::Ok, S::Error> {
        state_option::serialize(value, s)
    }
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<State>, D::Error> {
        state_option::deserialize(d)
    }
}

impl Format for SlidingWindowType {
    type Value = SlidingWindowType;
    const FORMS: &'static str = "window type";
    fn read(node: &Node, _: Typing) -> Result<SlidingWindowType, String> {
        node.to_window_type()
    }
    fn write(value: SlidingWindowType) -> String {
        format!("{:?}", enums::window_type_name(value))
    }
    fn serialize<S: Serializer>(
        value: &Option<SlidingWindowType>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        window_type_option::serialize(value, s)
    }
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SlidingWindowType>, D::Error> {
        window_type_option::deserialize(d)
    }
}

/// One optional value of a settings section, (de)serialized in format `F`: the field type of
/// the serde twin of [`BreakerSettings`](super::BreakerSettings).
pub(crate) struct Field<F: Format>(pub(crate) Option<F::Value>, PhantomData<F>);

impl<F: Format> Field<F> {
    /// The field holding `value`.
    pub(crate) fn new(value: Option<F::Value>) -> Self {
        Self(value, PhantomData)
    }

    /// Whether the field is unset (serde skips it then).
    pub(crate) fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl<F: Format> Default for Field<F> {
    fn default() -> Self {
        Self::new(None)
    }
}

impl<F: Format> Serialize for Field<F> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        F::serialize(&self.0, s)
    }
}

impl<'de, F: Format> Deserialize<'de> for Field<F> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        F::deserialize(d).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::node::{Pos, Value};

    fn node(value: Value) -> Node {
        Node {
            value,
            pos: Pos::default(),
        }
    }

    /// What `write` produces, `read` reads back (TOML strings are quoted like Rust's).
    #[test]
    fn written_values_read_back() {
        let text = |written: String| node(Value::Str(written.trim_matches('"').to_owned()));
        let ms = Duration::from_millis(2500);
        assert_eq!(
            Duration::read(&text(Duration::write(ms)), Typing::Strict),
            Ok(ms)
        );
        assert_eq!(Timeout::write(Duration::ZERO), "\"off\"");
        assert_eq!(
            Timeout::read(&text(Timeout::write(Duration::ZERO)), Typing::Strict),
            Ok(Duration::ZERO)
        );
        assert_eq!(
            State::read(&text(State::write(State::HalfOpen)), Typing::Strict),
            Ok(State::HalfOpen)
        );
        assert_eq!(
            SlidingWindowType::read(
                &text(SlidingWindowType::write(SlidingWindowType::TimeBased)),
                Typing::Strict
            ),
            Ok(SlidingWindowType::TimeBased)
        );
        assert_eq!(f32::write(50.0), "50");
        assert_eq!(f64::write(1.5), "1.5");
    }
}
