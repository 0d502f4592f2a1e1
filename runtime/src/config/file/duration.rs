//! Durations as Spring Boot reads them: `10s`, `500ms`, `1m 30s`, ISO-8601 `PT10S` (any case),
//! or a bare number of milliseconds.

use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// The accepted forms, quoted in every duration error.
pub(crate) const DURATION_FORMS: &str = "expected a duration such as \"10s\", \"500ms\", \
     \"1m 30s\", ISO-8601 \"PT10S\", or a whole number of milliseconds";

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DurationError {
    /// The text is not a duration in any accepted form.
    Unparsable,
    /// The duration is below zero.
    Negative,
}

impl DurationError {
    /// The rule to show in an error message.
    pub(crate) fn rule(&self) -> String {
        match self {
            DurationError::Unparsable => DURATION_FORMS.to_owned(),
            DurationError::Negative => "must not be negative".to_owned(),
        }
    }
}

/// A whole number of milliseconds (Spring's default unit for a bare number).
pub(crate) fn from_millis(ms: i64) -> Result<Duration, DurationError> {
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| DurationError::Negative)
}

/// Parses a duration written as text.
///
/// Forms, tried in order: Spring's simple style (`[+-]<integer>[ns|us|ms|s|m|h|d]`, unit
/// case-insensitive, milliseconds when omitted); jiff's friendly (`1m 30s`, `1.5s`) and ISO-8601
/// (`PT10S`, `pt5s`) formats; ISO-8601 with days (`P1D`, a day being 24 hours, as in
/// `java.time.Duration`).
pub(crate) fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Unparsable);
    }
    if let Some(d) = parse_simple(text) {
        return d;
    }
    if let Ok(d) = text.parse::<jiff::SignedDuration>() {
        return signed(d);
    }
    if let Ok(span) = text.parse::<jiff::Span>()
        && let Ok(d) = span.to_duration(jiff::SpanRelativeTo::days_are_24_hours())
    {
        return signed(d);
    }
    Err(DurationError::Unparsable)
}

fn signed(d: jiff::SignedDuration) -> Result<Duration, DurationError> {
    if d.is_negative() {
        Err(DurationError::Negative)
    } else {
        Ok(d.unsigned_abs())
    }
}

/// Spring's `DurationStyle.SIMPLE`: an optionally signed integer and an optional unit.
fn parse_simple(text: &str) -> Option<Result<Duration, DurationError>> {
    let digits_end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '+' || c == '-'))))
        .map_or(text.len(), |(i, _)| i);
    let (number, unit) = text.split_at(digits_end);
    if !number.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos_per_unit: u128 = match unit.to_ascii_lowercase().as_str() {
        "" | "ms" => 1_000_000,
        "ns" => 1,
        "us" => 1_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return None,
    };
    let value: i128 = match number.parse() {
        Ok(v) => v,
        Err(_) => return Some(Err(DurationError::Unparsable)),
    };
    if value < 0 {
        return Some(Err(DurationError::Negative));
    }
    let nanos = value.unsigned_abs().checked_mul(nanos_per_unit);
    Some(
        nanos
            .and_then(|n| {
                let secs = u64::try_from(n / 1_000_000_000).ok()?;
                let sub = u32::try_from(n % 1_000_000_000).ok()?;
                Some(Duration::new(secs, sub))
            })
            .ok_or(DurationError::Unparsable),
    )
}

/// Writes a duration in the shortest exact simple form (`10s`, `1500ms`, `7ns`).
pub(crate) fn format(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos.is_multiple_of(1_000_000_000) {
        format!("{}s", nanos / 1_000_000_000)
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}ms", nanos / 1_000_000)
    } else {
        format!("{nanos}ns")
    }
}

/// The `Option` around a duration visitor `V`, for both serde modules below.
struct OptionVisitor<V>(V);

impl<'de, V: Visitor<'de, Value = Duration>> Visitor<'de> for OptionVisitor<V> {
    type Value = Option<Duration>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0).map(Some)
    }
}

/// Serde glue for `Option<Duration>` fields: integers are milliseconds, strings are parsed by
/// [`parse`]; serialized in the simple form (`"10s"`).
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => format(*d).serialize(s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        d.deserialize_option(OptionVisitor(ValueVisitor))
    }

    /// One duration, in any accepted form.
    struct ValueVisitor;

    impl Visitor<'_> for ValueVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(DURATION_FORMS)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            from_millis(v).map_err(|e| E::custom(format!("duration {v}: {}", e.rule())))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Duration::from_millis(v))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse(v).map_err(|e| E::custom(format!("duration {v:?}: {}", e.rule())))
        }
    }
}

/// The value of `timeout` that switches off a time limit inherited through `base_config`.
pub(crate) const OFF: &str = "off";

/// What a `timeout` of zero is told: the limit must be real, or `"off"`.
const TIMEOUT_RULE: &str =
    "must be at least 1ms, or \"off\" to switch off a time limit inherited from `base_config`";

/// What a `timeout` may be.
pub(crate) fn timeout_forms() -> String {
    format!("{DURATION_FORMS}, or \"{OFF}\"")
}

/// A duration read for `timeout`: zero is refused, since a real limit is at least 1 ms and
/// `Duration::ZERO` stands for [`OFF`].
pub(crate) fn timeout(d: Duration) -> Result<Duration, String> {
    if d.is_zero() {
        Err(TIMEOUT_RULE.to_owned())
    } else {
        Ok(d)
    }
}

/// `timeout` as text, in files and in serde: a duration, or [`OFF`] (kept as `Duration::ZERO`).
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    if text.trim().eq_ignore_ascii_case(OFF) {
        return Ok(Duration::ZERO);
    }
    match parse(text) {
        Ok(d) => timeout(d),
        Err(DurationError::Unparsable) => Err(timeout_forms()),
        Err(e) => Err(e.rule()),
    }
}

/// Serde for `BreakerSettings::timeout`: [`option`] plus [`OFF`] (and `false`, which is what
/// YAML makes of an unquoted `off`).
pub(crate) mod timeout_option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) if d.is_zero() => OFF.serialize(s),
            _ => option::serialize(d, s),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        d.deserialize_option(OptionVisitor(ValueVisitor))
    }

    struct ValueVisitor;

    impl Visitor<'_> for ValueVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&timeout_forms())
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            if v {
                Err(E::custom(format!("timeout true: {}", timeout_forms())))
            } else {
                Ok(Duration::ZERO)
            }
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            from_millis(v)
                .map_err(|e| e.rule())
                .and_then(timeout)
                .map_err(|rule| E::custom(format!("timeout {v}: {rule}")))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_timeout(v).map_err(|rule| E::custom(format!("timeout {v:?}: {rule}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn spring_and_iso_forms() {
        let cases = [
            ("10s", ms(10_000)),
            ("500ms", ms(500)),
            ("1m 30s", ms(90_000)),
            ("PT10S", ms(10_000)),
            ("PT5s", ms(5_000)),
            ("pt1m", ms(60_000)),
            ("PT0.01S", ms(10)),
            ("10000", ms(10_000)),
            ("0s", ms(0)),
            ("10S", ms(10_000)),
            ("2d", ms(2 * 86_400_000)),
            ("P1D", ms(86_400_000)),
            ("1.5s", ms(1_500)),
            ("250us", Duration::from_micros(250)),
            ("+3h", ms(3 * 3_600_000)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_negative_and_garbage() {
        assert_eq!(parse("-5s"), Err(DurationError::Negative));
        assert_eq!(parse("-PT5S"), Err(DurationError::Negative));
        assert_eq!(parse("ten seconds"), Err(DurationError::Unparsable));
        assert_eq!(parse(""), Err(DurationError::Unparsable));
        assert_eq!(parse("5 parsecs"), Err(DurationError::Unparsable));
        assert_eq!(from_millis(-1), Err(DurationError::Negative));
    }

    #[test]
    fn format_round_trips() {
        for d in [
            ms(10_000),
            ms(1_500),
            Duration::from_nanos(7),
            Duration::ZERO,
        ] {
            assert_eq!(parse(&format(d)), Ok(d));
        }
        assert_eq!(format(ms(4_000)), "4s");
    }
}
