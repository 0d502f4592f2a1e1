//! YAML text (one or more documents) as [`Node`] trees with positions, via `serde-saphyr`.

use super::node::{Key, Node, Pos, Value};
use crate::config::{ConfigError, ConfigErrorKind};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;
use std::path::Path;

/// Every non-empty document of `text`, in order.
pub(crate) fn parse(text: &str, file: Option<&Path>) -> Result<Vec<Node>, ConfigError> {
    let docs: Vec<Spanned<Raw>> = serde_saphyr::from_str_multiple(text).map_err(|e| {
        let pos = e.location().map_or_else(Pos::default, |l| Pos {
            line: l.line() as usize,
            column: l.column() as usize,
        });
        let message = e.without_snippet().to_string();
        // The position is reported separately; drop the parser's own " at line L, column C".
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_owned(),
            None => message,
        };
        ConfigError::new(
            "",
            ConfigErrorKind::Syntax {
                message: format!("invalid YAML: {message}"),
            },
        )
        .at(pos.location(file))
    })?;
    Ok(docs.into_iter().map(convert).collect())
}

fn pos_of<T>(s: &Spanned<T>) -> Pos {
    Pos {
        line: s.referenced.line() as usize,
        column: s.referenced.column() as usize,
    }
}

fn convert(raw: Spanned<Raw>) -> Node {
    let pos = pos_of(&raw);
    let value = match raw.value {
        Raw::Null => Value::Null,
        Raw::Bool(b) => Value::Bool(b),
        Raw::Int(i) => Value::Int(i),
        Raw::Float(x) => Value::Float(x),
        Raw::Str(s) => Value::Str(s),
        Raw::Seq(items) => Value::Seq(items.into_iter().map(convert).collect()),
        Raw::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key_pos = pos_of(&k);
                    let name = convert(k).scalar_text().unwrap_or_default();
                    (Key { name, pos: key_pos }, convert(v))
                })
                .collect(),
        ),
    };
    Node { value, pos }
}

/// Any YAML value, children spanned.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Raw::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let docs = parse("a:\n  b: 5\n---\nc: [x]\n", None).expect("parses");
        assert_eq!(docs.len(), 2);
        let a = &docs[0].entries().expect("map")[0];
        assert_eq!(
            (a.0.name.as_str(), a.0.pos),
            ("a", Pos { line: 1, column: 1 })
        );
        let b = &a.1.entries().expect("map")[0];
        assert_eq!(b.0.pos, Pos { line: 2, column: 3 });
        assert_eq!(b.1.pos, Pos { line: 2, column: 6 });
        assert_eq!(b.1.value, Value::Int(5));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("a: [1, 2\nb: 3\n", Some(Path::new("x.yml"))).unwrap_err();
        assert!(
            matches!(err.kind(), ConfigErrorKind::Syntax { .. }),
            "{err}"
        );
        assert!(err.location().line.is_some(), "{err}");
        assert!(err.to_string().starts_with("x.yml:"), "{err}");
        assert!(err.to_string().contains("invalid YAML"), "{err}");
    }
}
