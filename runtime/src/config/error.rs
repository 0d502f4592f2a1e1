//! [`ConfigError`]: every way a breaker configuration can be wrong, with where it was found.

use std::fmt;
use std::path::PathBuf;

/// Where in a config file a problem was found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The file, when the config came from one.
    pub file: Option<PathBuf>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}", file.display())?,
            None => f.write_str("<config>")?,
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// What kind of problem a [`ConfigError`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A value breaks a rule (out of range, wrong type, not allowed here).
    InvalidValue {
        /// The value as written.
        value: String,
        /// The rule it breaks, e.g. "must be in (0, 100]".
        rule: String,
    },
    /// A key that fusebox does not know.
    UnknownKey {
        /// The nearest valid key, if one is close.
        suggestion: Option<String>,
    },
    /// `base_config` names a shared config that does not exist.
    MissingBaseConfig {
        /// The missing config's name.
        base: String,
    },
    /// `base_config` chains loop back on themselves.
    BaseConfigCycle {
        /// The configs on the cycle, in order.
        chain: Vec<String>,
    },
    /// Two settings that cannot be combined.
    Conflict {
        /// What conflicts with what.
        message: String,
    },
    /// The file could not be read.
    Io {
        /// The operating system's message.
        message: String,
    },
    /// The file is not valid TOML or YAML.
    Syntax {
        /// The parser's message.
        message: String,
    },
    /// The file's extension is neither TOML nor YAML (or YAML support is compiled out).
    UnsupportedFormat {
        /// Why.
        message: String,
    },
}

/// A configuration problem: what is wrong, at which key, and where in which file.
///
/// Its `Display` reads like a compiler diagnostic:
/// `fusebox.toml:4:29: instances.orders.failure_rate_threshold = 150: must be in (0, 100]`.
///
/// ```
/// use fusebox_runtime::CircuitBreakerConfig;
/// let err = CircuitBreakerConfig::builder().failure_rate_threshold(150.0).build().unwrap_err();
/// assert_eq!(err.key(), "failure_rate_threshold");
/// assert!(err.to_string().contains("must be in (0, 100]"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(Box<Inner>);

/// Boxed so that `Result<_, ConfigError>` stays one pointer wide on the success path.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    key: String,
    kind: ConfigErrorKind,
    location: Location,
}

impl ConfigError {
    /// A new error about `key` (a dotted path such as `instances.orders.sliding_window_size`).
    pub fn new(key: impl Into<String>, kind: ConfigErrorKind) -> Self {
        Self(Box::new(Inner {
            key: key.into(),
            kind,
            location: Location::default(),
        }))
    }

    /// An invalid value for `key`.
    pub fn invalid(
        key: impl Into<String>,
        value: impl fmt::Display,
        rule: impl Into<String>,
    ) -> Self {
        Self::new(
            key,
            ConfigErrorKind::InvalidValue {
                value: value.to_string(),
                rule: rule.into(),
            },
        )
    }

    /// Attaches (or completes) the location.
    pub fn at(mut self, location: Location) -> Self {
        if self.0.location.file.is_none() {
            self.0.location.file = location.file;
        }
        if self.0.location.line.is_none() {
            self.0.location.line = location.line;
            self.0.location.column = location.column;
        }
        self
    }

    /// Sets the file the error was found in.
    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.0.location.file = Some(file.into());
        self
    }

    /// Prefixes the key path, e.g. `instances.orders` + `failure_rate_threshold`.
    pub fn under(mut self, prefix: &str) -> Self {
        if prefix.is_empty() {
            return self;
        }
        self.0.key = if self.0.key.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.0.key)
        };
        self
    }

    /// The dotted key path the error is about (empty for whole-file errors).
    pub fn key(&self) -> &str {
        &self.0.key
    }

    /// What is wrong.
    pub fn kind(&self) -> &ConfigErrorKind {
        &self.0.kind
    }

    /// Where it was found.
    pub fn location(&self) -> &Location {
        &self.0.location
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.location != Location::default() {
            write!(f, "{}: ", self.0.location)?;
        }
        let key = if self.0.key.is_empty() {
            "<root>"
        } else {
            &self.0.key
        };
        match &self.0.kind {
            ConfigErrorKind::InvalidValue { value, rule } => write!(f, "{key} = {value}: {rule}"),
            ConfigErrorKind::UnknownKey { suggestion } => {
                write!(f, "unknown key `{key}`")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
                Ok(())
            }
            ConfigErrorKind::MissingBaseConfig { base } => {
                // Retry and bulkhead sections live under `retry.` / `bulkhead.` (TOML) or
                // `resilience4j.retry.` / `resilience4j.bulkhead.` (Spring).
                let section = [
                    "retry.",
                    "resilience4j.retry.",
                    "bulkhead.",
                    "resilience4j.bulkhead.",
                ]
                .into_iter()
                .find(|prefix| key.starts_with(prefix))
                .unwrap_or("");
                write!(
                    f,
                    "{key}: base config `{base}` does not exist (define it under `{section}configs.{base}`)"
                )
            }
            ConfigErrorKind::BaseConfigCycle { chain } => {
                write!(f, "{key}: base_config cycle: {}", chain.join(" -> "))
            }
            ConfigErrorKind::Conflict { message } => write!(f, "{key}: {message}"),
            ConfigErrorKind::Io { message } => write!(f, "cannot read config: {message}"),
            ConfigErrorKind::Syntax { message } => write!(f, "{message}"),
            ConfigErrorKind::UnsupportedFormat { message } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for ConfigError {}
