//! `breaker_properties!`: what follows from the property table in [`super::properties`].
//!
//! From one declaration per property it writes:
//! - [`CircuitBreakerConfig`](super::CircuitBreakerConfig): its fields, [`Default`], [`Debug`]
//!   and [`PartialEq`] (which decides whether `Registry::reload_from_file` reconfigures a
//!   breaker, so it compares every field: with `PartialEq::eq` unless the entry says
//!   `eq by f`), `behaves_like` (the same, ignoring the entries marked `reload in_place`), and
//!   the getters of entries with a `get` section;
//! - the [`CircuitBreakerConfigBuilder`](super::CircuitBreakerConfigBuilder) setters of entries
//!   with a `set` section, which record a [`ConfigError`](super::ConfigError) through the
//!   entry's rule if it has one;
//! - [`BreakerSettings`](super::file::BreakerSettings) (one optional field per file key, in table
//!   order, after `base_config`), its serde layout, the list of keys (`FIELDS`), reading a key
//!   from a config document (`set`), and applying a section to a builder (`apply_to`), through
//!   the entry's setter or its `applied by` function;
//! - `FILE_KEYS`, the rows of the docs' property table;
//! - under `cfg(test)`, `samples()`: one non-default sample per entry, for the tests that walk
//!   every property through the builder, the file formats and reload.
//!
//! Entries whose property is not plain data say so in the table: no `get`/`set` section means
//! the getter/setter is written by hand in `config/mod.rs`; a file key whose value differs from
//! the property (`wait_duration_in_open_state` for the wait interval, `timeout`'s `"off"`)
//! states its type, default, sample and the function that applies it.

macro_rules! breaker_properties {
    // ---- the table ---------------------------------------------------------------------------
    (
        properties {
            $(
                $name:ident: $ty:ty {
                    default $default:expr;
                    sample $sample:expr;
                    $(eq by $eq:path;)?
                    $(reload $reload:ident;)?
                    $(get($how:ident) { $(#[doc = $get_doc:literal])* })?
                    $(set($param:ident) $(checked by $rule:path)? {
                        $(#[doc = $set_doc:literal])*
                    })?
                    $(file $key:ident
                        $(: $file_ty:ty $(as $file_format:ty)? = $file_default:expr,
                            sample $file_sample:expr, applied by $apply:path)?
                        { $(#[doc = $file_doc:literal])* })?
                }
            )*
        }
        file_only {
            $(
                $only_key:ident: $only_ty:ty {
                    $(#[doc = $only_doc:literal])*
                    $(default $only_default:expr;)?
                    sample $only_sample:expr,
                        with { $($with_key:ident: $with_value:expr),* },
                        gives $gives:ident = $gives_value:expr;
                }
            )*
        }
    ) => {
        // ---- the config ----------------------------------------------------------------------

        /// A validated circuit-breaker configuration. Build one with
        /// [`CircuitBreakerConfig::builder`]; [`Default`] gives Resilience4j's defaults.
        ///
        /// ```
        /// use fusebox_runtime::{CircuitBreakerConfig, SlidingWindowType};
        /// use std::time::Duration;
        ///
        /// // The course's breaker: 4 % failures over the last 2 calls, 1 s open, 4 s time limit.
        /// let config = CircuitBreakerConfig::builder()
        ///     .failure_rate_threshold(4.0)
        ///     .wait_duration_in_open_state(Duration::from_secs(1))
        ///     .sliding_window_type(SlidingWindowType::CountBased)
        ///     .sliding_window_size(2)
        ///     .timeout(Duration::from_secs(4))
        ///     .build()?;
        /// assert_eq!(config.sliding_window_size(), 2);
        /// # Ok::<(), fusebox_runtime::ConfigError>(())
        /// ```
        #[derive(Clone)]
        pub struct CircuitBreakerConfig {
            $(pub(crate) $name: $ty,)*
        }

        impl Default for CircuitBreakerConfig {
            fn default() -> Self {
                Self {
                    $($name: $default,)*
                }
            }
        }

        impl ::std::fmt::Debug for CircuitBreakerConfig {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("CircuitBreakerConfig")
                    $(.field(stringify!($name), &self.$name))*
                    .finish()
            }
        }

        /// Two configs are equal when every property is; clocks compare by kind only (system or
        /// not).
        impl PartialEq for CircuitBreakerConfig {
            fn eq(&self, other: &Self) -> bool {
                $(
                    if !breaker_properties!(@eq [$($eq)?] &self.$name, &other.$name) {
                        return false;
                    }
                )*
                true
            }
        }

        impl CircuitBreakerConfig {
            $($(breaker_properties!(@get $how $name: $ty [$($get_doc)*]);)?)*

            /// Whether a breaker on `other` behaves exactly as on `self`: every property
            /// compares equal except those marked `reload in_place` (how the breaker is
            /// observed: its health indicator and event buffer), which
            /// `Registry::reload_from_file` applies without starting the breaker over.
            pub(crate) fn behaves_like(&self, other: &Self) -> bool {
                $(
                    if !breaker_properties!(
                        @behaves [$($reload)?] [$($eq)?] &self.$name, &other.$name
                    ) {
                        return false;
                    }
                )*
                true
            }
        }

        impl CircuitBreakerConfigBuilder {
            $($(
                $(#[doc = $set_doc])*
                pub fn $name(mut self, $param: $ty) -> Self {
                    $(self.fail($rule(stringify!($name), $param));)?
                    self.config.$name = $param;
                    self
                }
            )?)*
        }

        // ---- the file layout -----------------------------------------------------------------

        /// One `[configs.<name>]` or `[instances.<name>]` section: every property optional, keys
        /// in snake_case named after the builder's setters.
        ///
        /// Durations accept `"10s"`, `"500ms"`, `"1m 30s"`, ISO `"PT10S"` or an integer number of
        /// milliseconds; states and window types accept Resilience4j's names (`"OPEN"`,
        /// `"COUNT_BASED"`) in any case.
        ///
        /// ```
        /// use fusebox_runtime::config::file::BreakerSettings;
        /// use std::time::Duration;
        ///
        /// let s: BreakerSettings = toml::from_str(r#"
        ///     base_config = "shared"
        ///     wait_duration_in_open_state = "PT10S"
        ///     slow_call_duration_threshold = 2500
        /// "#)?;
        /// assert_eq!(s.wait_duration_in_open_state, Some(Duration::from_secs(10)));
        /// assert_eq!(s.slow_call_duration_threshold, Some(Duration::from_millis(2500)));
        /// # Ok::<(), toml::de::Error>(())
        /// ```
        #[derive(Clone, Debug, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(from = "SettingsSerde", into = "SettingsSerde")]
        pub struct BreakerSettings {
            /// The shared config (under `configs`) this one starts from.
            pub base_config: Option<String>,
            $($(
                $(#[doc = $file_doc])*
                pub $key: Option<breaker_properties!(@ty [$($file_ty)?] $ty)>,
            )?)*
            $(
                $(#[doc = $only_doc])*
                pub $only_key: Option<$only_ty>,
            )*
        }

        /// [`BreakerSettings`] as serde sees it: each field (de)serialized in its key's format.
        #[derive(Default, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(
            rename = "BreakerSettings",
            expecting = "struct BreakerSettings",
            default,
            deny_unknown_fields
        )]
        struct SettingsSerde {
            #[serde(skip_serializing_if = "Option::is_none")]
            base_config: Option<String>,
            $($(
                #[serde(skip_serializing_if = "Field::is_none")]
                $key: Field<breaker_properties!(@ty [$($($file_format)?)?] [$($file_ty)?] $ty)>,
            )?)*
            $(
                #[serde(skip_serializing_if = "Field::is_none")]
                $only_key: Field<$only_ty>,
            )*
        }

        impl From<SettingsSerde> for BreakerSettings {
            fn from(s: SettingsSerde) -> Self {
                Self {
                    base_config: s.base_config,
                    $($($key: s.$key.0,)?)*
                    $($only_key: s.$only_key.0,)*
                }
            }
        }

        impl From<BreakerSettings> for SettingsSerde {
            fn from(s: BreakerSettings) -> Self {
                Self {
                    base_config: s.base_config,
                    $($($key: Field::new(s.$key),)?)*
                    $($only_key: Field::new(s.$only_key),)*
                }
            }
        }

        /// Every key of [`BreakerSettings`], as written in TOML.
        pub(crate) const FIELDS: &[&str] = &[
            "base_config",
            $($(stringify!($key),)?)*
            $(stringify!($only_key),)*
        ];

        impl BreakerSettings {
            /// Sets the field named `field` (one of [`FIELDS`]) from `node`; the error is the rule
            /// the value breaks.
            pub(crate) fn set(
                &mut self,
                field: &str,
                node: &Node,
                typing: Typing,
            ) -> Result<(), String> {
                match field {
                    "base_config" => self.base_config = Some(node.to_text(typing)?),
                    $($(
                        stringify!($key) => {
                            self.$key = Some(<breaker_properties!(
                                @ty [$($($file_format)?)?] [$($file_ty)?] $ty
                            ) as Format>::read(node, typing)?);
                        }
                    )?)*
                    $(
                        stringify!($only_key) => {
                            self.$only_key = Some(<$only_ty as Format>::read(node, typing)?);
                        }
                    )*
                    other => return Err(format!("`{other}` is not a breaker property")),
                }
                Ok(())
            }

            /// This section's properties on top of `builder`, in table order. File-only keys
            /// take effect through the property they modify.
            pub(crate) fn apply_to(
                &self,
                mut builder: CircuitBreakerConfigBuilder,
            ) -> CircuitBreakerConfigBuilder {
                $($(
                    if let Some(value) = self.$key {
                        builder = breaker_properties!(
                            @apply [$($apply)?] $name(builder, value, self)
                        );
                    }
                )?)*
                builder
            }
        }

        /// One row of the docs' property table: a key of [`BreakerSettings`].
        #[cfg(test)]
        #[derive(Debug)]
        pub(crate) struct FileKey {
            /// The key in TOML (Spring's is its camelCase or kebab-case form).
            pub(crate) key: &'static str,
            /// What it means (its doc comment).
            pub(crate) doc: &'static str,
            /// What a value looks like.
            pub(crate) forms: &'static str,
            /// The value that applies when the key is not set, as written in TOML.
            pub(crate) default: fn() -> Option<String>,
        }

        /// Every key of [`BreakerSettings`] but `base_config`, in table order.
        #[cfg(test)]
        pub(crate) const FILE_KEYS: &[FileKey] = &[
            $($(FileKey {
                key: stringify!($key),
                doc: concat!($($file_doc, "\n",)*),
                forms: <breaker_properties!(
                    @ty [$($($file_format)?)?] [$($file_ty)?] $ty
                ) as Format>::FORMS,
                default: || Some(<breaker_properties!(
                    @ty [$($($file_format)?)?] [$($file_ty)?] $ty
                ) as Format>::write(breaker_properties!(@expr [$($file_default)?] $default))),
            },)?)*
            $(FileKey {
                key: stringify!($only_key),
                doc: concat!($($only_doc, "\n",)*),
                forms: <$only_ty as Format>::FORMS,
                default: || {
                    breaker_properties!(@option $(<$only_ty as Format>::write($only_default))?)
                },
            },)*
        ];

        // ---- samples for the tests -----------------------------------------------------------

        /// One non-default sample per table entry.
        #[cfg(test)]
        pub(crate) fn samples() -> Vec<Sample> {
            vec![
                $(Sample {
                    name: stringify!($name),
                    property: true,
                    in_place: breaker_properties!(@in_place $($reload)?),
                    expected: {
                        let mut config = CircuitBreakerConfig::default();
                        config.$name = $sample;
                        config
                    },
                    built: breaker_properties!(@option $({
                        let $param = $sample;
                        CircuitBreakerConfig::builder().$name($param).build()
                    })?),
                    getter: breaker_properties!(@option $(
                        breaker_properties!(@observe $how $name)
                    )?),
                    file: breaker_properties!(@option $(FileSample {
                        key: stringify!($key),
                        base: BreakerSettings::default(),
                        with_sample: BreakerSettings {
                            $key: Some(breaker_properties!(@expr [$($file_sample)?] $sample)),
                            ..BreakerSettings::default()
                        },
                        with_default: Some(BreakerSettings {
                            $key: Some(breaker_properties!(@expr [$($file_default)?] $default)),
                            ..BreakerSettings::default()
                        }),
                    })?),
                },)*
                $(Sample {
                    name: stringify!($only_key),
                    property: false,
                    in_place: false,
                    expected: {
                        let mut config = CircuitBreakerConfig::default();
                        config.$gives = $gives_value;
                        config
                    },
                    built: None,
                    getter: Some(breaker_properties!(@observe any $gives)),
                    file: Some({
                        let base = BreakerSettings {
                            $($with_key: Some($with_value),)*
                            ..BreakerSettings::default()
                        };
                        FileSample {
                            key: stringify!($only_key),
                            with_sample: BreakerSettings {
                                $only_key: Some($only_sample),
                                ..base.clone()
                            },
                            with_default: breaker_properties!(@option $(BreakerSettings {
                                $only_key: Some($only_default),
                                ..base.clone()
                            })?),
                            base,
                        }
                    }),
                },)*
            ]
        }
    };

    // ---- helpers -----------------------------------------------------------------------------

    // A getter: by value (`copy`) or by reference (`borrow`).
    (@get copy $name:ident: $ty:ty [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        pub fn $name(&self) -> $ty {
            self.$name
        }
    };
    (@get borrow $name:ident: $ty:ty [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        pub fn $name(&self) -> &$ty {
            &self.$name
        }
    };

    // Field equality: the entry's `eq by` function, else `PartialEq`.
    (@eq [$eq:path] $a:expr, $b:expr) => {
        $eq($a, $b)
    };
    (@eq [] $a:expr, $b:expr) => {
        PartialEq::eq($a, $b)
    };

    // Behaviour equality: properties applied in place never change behaviour.
    (@behaves [in_place] [$($eq:path)?] $a:expr, $b:expr) => {
        true
    };
    (@behaves [] [$($eq:path)?] $a:expr, $b:expr) => {
        breaker_properties!(@eq [$($eq)?] $a, $b)
    };

    // Whether an entry is applied in place on reload.
    (@in_place in_place) => {
        true
    };
    (@in_place) => {
        false
    };

    // How a file value applies to a builder: the entry's function, else its setter.
    (@apply [$apply:path] $name:ident($builder:ident, $value:ident, $settings:ident)) => {
        $apply($builder, $value, $settings)
    };
    (@apply [] $name:ident($builder:ident, $value:ident, $settings:ident)) => {
        $builder.$name($value)
    };

    // The first type given: `[]` is none, the last one is always given.
    (@ty [$first:ty] $($rest:tt)*) => {
        $first
    };
    (@ty [] $($rest:tt)*) => {
        breaker_properties!(@ty $($rest)*)
    };
    (@ty $last:ty) => {
        $last
    };

    // The expression in brackets if given, else the other one.
    (@expr [$given:expr] $otherwise:expr) => {
        $given
    };
    (@expr [] $otherwise:expr) => {
        $otherwise
    };

    // `Some(expr)` if given, else `None`.
    (@option) => {
        None
    };
    (@option $($given:tt)+) => {
        Some($($given)+)
    };

    // A getter's value, for the tests.
    (@observe $how:ident $name:ident) => {
        |config: &CircuitBreakerConfig| format!("{:?}", config.$name())
    };
}
