//! Enum values as Spring binds them: case-insensitive, `-`/`_` ignored
//! (`COUNT_BASED`, `count-based`, `countBased`; `OPEN`, `half_open`).

use crate::config::SlidingWindowType;
use crate::state::State;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// Lower-case letters and digits only: Spring's lenient enum (and property name) comparison.
pub(crate) fn canonical(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Reads a state name.
pub(crate) fn state(text: &str) -> Option<State> {
    let c = canonical(text);
    State::ALL.into_iter().find(|s| canonical(s.as_str()) == c)
}

/// The accepted state names, for error messages.
pub(crate) fn state_rule() -> String {
    let names: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
    format!("expected one of {}", names.join(", "))
}

/// Reads a window type name.
pub(crate) fn window_type(text: &str) -> Option<SlidingWindowType> {
    match canonical(text).as_str() {
        "countbased" => Some(SlidingWindowType::CountBased),
        "timebased" => Some(SlidingWindowType::TimeBased),
        _ => None,
    }
}

/// The accepted window type names, for error messages.
pub(crate) const WINDOW_TYPE_RULE: &str = "expected COUNT_BASED or TIME_BASED";

/// Resilience4j's name of a window type.
pub(crate) fn window_type_name(kind: SlidingWindowType) -> &'static str {
    match kind {
        SlidingWindowType::CountBased => "COUNT_BASED",
        SlidingWindowType::TimeBased => "TIME_BASED",
    }
}

/// Serde glue for `Option<State>`.
pub(crate) mod state_option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<State>, s: S) -> Result<S::Ok, S::Error> {
        v.map(State::as_str).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<State>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                state(&text)
                    .ok_or_else(|| de::Error::custom(format!("state {text:?}: {}", state_rule())))
            })
            .transpose()
    }
}

/// Serde glue for `Option<SlidingWindowType>`.
pub(crate) mod window_type_option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        v: &Option<SlidingWindowType>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.map(window_type_name).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SlidingWindowType>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                window_type(&text).ok_or_else(|| {
                    de::Error::custom(format!("sliding window type {text:?}: {WINDOW_TYPE_RULE}"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_names() {
        assert_eq!(state("HALF_OPEN"), Some(State::HalfOpen));
        assert_eq!(state("metrics-only"), Some(State::MetricsOnly));
        assert_eq!(state("forcedOpen"), Some(State::ForcedOpen));
        assert_eq!(state("ajar"), None);
        assert_eq!(
            window_type("COUNT_BASED"),
            Some(SlidingWindowType::CountBased)
        );
        assert_eq!(
            window_type("time-based"),
            Some(SlidingWindowType::TimeBased)
        );
        assert_eq!(window_type("sliding"), None);
    }
}
