//! `property_table!`: what follows from a property table (the breaker's in
//! [`super::properties`], the retry's and the bulkhead's in their modules).
//!
//! The head of a table names what it writes (`config`, `builder`, `settings` and its serde
//! twin, the key list, the docs' rows, the word its errors use) and may ask for the breaker-only
//! parts (`behaves_like`, `samples`). From one declaration per property it writes:
//! - the config struct: its fields (plus `extra` fields that are not properties, such as the
//!   retry's predicates), [`Default`], [`Debug`] and [`PartialEq`] (which decides whether
//!   `Registry::reload_from_file` reconfigures an instance, so it compares every field: with
//!   `PartialEq::eq` unless the entry says `eq by f`), and the getters of entries with a `get`
//!   section;
//! - with `behaves_like`: that method (the same equality, ignoring the entries marked
//!   `reload in_place`);
//! - the builder setters of entries with a `set` section, which record a
//!   [`ConfigError`](super::ConfigError) through the entry's rule if it has one;
//! - the settings struct (one optional field per file key, in table order, after
//!   `base_config`), its serde layout, the list of keys, reading a key from a config document
//!   (`set`), and applying a section to a builder (`apply_to`), through the entry's setter or
//!   its `applied by` function;
//! - under `cfg(test)`, the rows of the docs' property table (`FileKey`s) and, with `samples`,
//!   one non-default sample per entry, for the tests that walk every property through the
//!   builder, the file formats and reload.
//!
//! Entries whose property is not plain data say so in the table: no `get`/`set` section means
//! the getter/setter is written by hand; a file key whose value differs from the property
//! (`wait_duration_in_open_state` for the wait interval, `timeout`'s `"off"`) states its type,
//! its [`Format`](super::file::format::Format) if not the type's own, its default, its sample
//! (with `samples`) and the function that applies it.

macro_rules! property_table {
    // ---- the table ---------------------------------------------------------------------------
    (
        $(#[$config_attr:meta])*
        config $config:ident, builder $builder:ident {
            eq_doc: $eq_doc:literal,
            $(behaves_like: $behaves_like:ident,)?
            $(samples: $samples:ident,)?
        }
        $(#[$settings_attr:meta])*
        settings $settings:ident {
            serde: $serde_name:literal expecting $expecting:literal,
            fields: $fields:ident,
            file_keys: $file_keys:ident,
            what: $what:literal,
            base_config_doc: $base_doc:literal,
        }
        properties {
            $(
                $name:ident: $ty:ty {
                    default $default:expr;
                    $(sample $sample:expr;)?
                    $(eq by $eq:path;)?
                    $(reload $reload:ident;)?
                    $(get($how:ident) { $(#[doc = $get_doc:literal])* })?
                    $(set($param:ident) $(checked by $rule:path)? {
                        $(#[doc = $set_doc:literal])*
                    })?
                    $(file $key:ident
                        $(: $file_ty:ty $(as $file_format:ty)? = $file_default:expr,
                            $(sample $file_sample:expr,)? applied by $apply:path)?
                        { $(#[doc = $file_doc:literal])* })?
                }
            )*
        }
        file_only {
            $(
                $only_key:ident: $only_ty:ty {
                    $(#[doc = $only_doc:literal])*
                    $(default $only_default:expr;)?
                    $(sample $only_sample:expr,
                        with { $($with_key:ident: $with_value:expr),* },
                        gives $gives:ident = $gives_value:expr;)?
                }
            )*
        }
        $(extra {
            $($extra:ident: $extra_ty:ty = $extra_default:expr;)*
        })?
    ) => {
        // ---- the config ----------------------------------------------------------------------

        $(#[$config_attr])*
        #[derive(Clone)]
        pub struct $config {
            $(pub(crate) $name: $ty,)*
            $($(pub(crate) $extra: $extra_ty,)*)?
        }

        impl Default for $config {
            fn default() -> Self {
                Self {
                    $($name: $default,)*
                    $($($extra: $extra_default,)*)?
                }
            }
        }

        impl ::std::fmt::Debug for $config {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($config))
                    $(.field(stringify!($name), &self.$name))*
                    $($(.field(stringify!($extra), &self.$extra))*)?
                    .finish()
            }
        }

        #[doc = $eq_doc]
        impl PartialEq for $config {
            fn eq(&self, other: &Self) -> bool {
                $(
                    if !$crate::config::property_table!(@eq [$($eq)?] &self.$name, &other.$name) {
                        return false;
                    }
                )*
                $($(
                    if self.$extra != other.$extra {
                        return false;
                    }
                )*)?
                true
            }
        }

        impl $config {
            $($($crate::config::property_table!(@get $how $name: $ty [$($get_doc)*]);)?)*
        }

        $crate::config::property_table!(
            @behaves_like [$($behaves_like)?] $config [$($name [$($reload)?] [$($eq)?])*]
        );

        impl $builder {
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

        $(#[$settings_attr])*
        #[derive(Clone, Debug, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(from = "SettingsSerde", into = "SettingsSerde")]
        pub struct $settings {
            #[doc = $base_doc]
            pub base_config: Option<String>,
            $($(
                $(#[doc = $file_doc])*
                pub $key: Option<$crate::config::property_table!(@ty [$($file_ty)?] $ty)>,
            )?)*
            $(
                $(#[doc = $only_doc])*
                pub $only_key: Option<$only_ty>,
            )*
        }

        #[doc = concat!("[`", stringify!($settings), "`] as serde sees it: each field (de)serialized in its key's format.")]
        #[derive(Default, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(
            rename = $serde_name,
            expecting = $expecting,
            default,
            deny_unknown_fields
        )]
        struct SettingsSerde {
            #[serde(skip_serializing_if = "Option::is_none")]
            base_config: Option<String>,
            $($(
                #[serde(skip_serializing_if = "Field::is_none")]
                $key: $crate::config::file::format::Field<
                    $crate::config::property_table!(@ty [$($($file_format)?)?] [$($file_ty)?] $ty)
                >,
            )?)*
            $(
                #[serde(skip_serializing_if = "Field::is_none")]
                $only_key: $crate::config::file::format::Field<$only_ty>,
            )*
        }

        impl From<SettingsSerde> for $settings {
            fn from(s: SettingsSerde) -> Self {
                Self {
                    base_config: s.base_config,
                    $($($key: s.$key.0,)?)*
                    $($only_key: s.$only_key.0,)*
                }
            }
        }

        impl From<$settings> for SettingsSerde {
            fn from(s: $settings) -> Self {
                Self {
                    base_config: s.base_config,
                    $($($key: Field::new(s.$key),)?)*
                    $($only_key: Field::new(s.$only_key),)*
                }
            }
        }

        #[doc = concat!("Every key of [`", stringify!($settings), "`], as written in TOML.")]
        pub(crate) const $fields: &[&str] = &[
            "base_config",
            $($(stringify!($key),)?)*
            $(stringify!($only_key),)*
        ];

        impl $settings {
            #[doc = concat!(
                "Sets the field named `field` (one of [`", stringify!($fields), "`]) from `node`; ",
                "the error is the rule the value breaks."
            )]
            pub(crate) fn set(
                &mut self,
                field: &str,
                node: &$crate::config::file::node::Node,
                typing: $crate::config::file::node::Typing,
            ) -> Result<(), String> {
                use $crate::config::file::format::Format;
                match field {
                    "base_config" => self.base_config = Some(node.to_text(typing)?),
                    $($(
                        stringify!($key) => {
                            self.$key = Some(<$crate::config::property_table!(
                                @ty [$($($file_format)?)?] [$($file_ty)?] $ty
                            ) as Format>::read(node, typing)?);
                        }
                    )?)*
                    $(
                        stringify!($only_key) => {
                            self.$only_key = Some(<$only_ty as Format>::read(node, typing)?);
                        }
                    )*
                    other => {
                        return Err(format!(concat!("`{}` is not a ", $what, " property"), other));
                    }
                }
                Ok(())
            }

            /// This section's properties on top of `builder`, in table order. File-only keys
            /// take effect through the property they modify.
            pub(crate) fn apply_to(&self, mut builder: $builder) -> $builder {
                $($(
                    if let Some(value) = self.$key {
                        builder = $crate::config::property_table!(
                            @apply [$($apply)?] $name(builder, value, self)
                        );
                    }
                )?)*
                builder
            }
        }

        #[doc = concat!("Every key of [`", stringify!($settings), "`] but `base_config`, in table order.")]
        #[cfg(test)]
        pub(crate) const $file_keys: &[$crate::config::FileKey] = &[
            $($($crate::config::FileKey {
                key: stringify!($key),
                doc: concat!($($file_doc, "\n",)*),
                forms: <$crate::config::property_table!(
                    @ty [$($($file_format)?)?] [$($file_ty)?] $ty
                ) as $crate::config::file::format::Format>::FORMS,
                default: || Some(<$crate::config::property_table!(
                    @ty [$($($file_format)?)?] [$($file_ty)?] $ty
                ) as $crate::config::file::format::Format>::write(
                    $crate::config::property_table!(@expr [$($file_default)?] $default)
                )),
            },)?)*
            $($crate::config::FileKey {
                key: stringify!($only_key),
                doc: concat!($($only_doc, "\n",)*),
                forms: <$only_ty as $crate::config::file::format::Format>::FORMS,
                default: || {
                    $crate::config::property_table!(@option $(
                        <$only_ty as $crate::config::file::format::Format>::write($only_default)
                    )?)
                },
            },)*
        ];

        // ---- samples for the tests -----------------------------------------------------------

        $crate::config::property_table!(@samples [$($samples)?] [
            $($crate::config::property_table!(
                @sample $config $settings $name [$($sample)?] [$($reload)?] [$($param)?]
                [$($how)?] [$($key [$($($file_sample)?)?] [$($file_default)?])?] $default
            ),)*
            $($crate::config::property_table!(
                @file_only_sample $config $settings $only_key [$($only_default)?]
                [$($only_sample, [$($with_key: $with_value),*], $gives = $gives_value)?]
            ),)*
        ]);
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

    // `behaves_like`, if the table asks for it.
    (@behaves_like [] $config:ident [$($entries:tt)*]) => {};
    (
        @behaves_like [$behaves_like:ident] $config:ident
        [$($name:ident [$($reload:ident)?] [$($eq:path)?])*]
    ) => {
        impl $config {
            /// Whether an instance on `other` behaves exactly as on `self`: every property
            /// compares equal except those marked `reload in_place` (how the instance is
            /// observed: its health indicator and event buffer), which
            /// `Registry::reload_from_file` applies without starting it over.
            pub(crate) fn $behaves_like(&self, other: &Self) -> bool {
                $(
                    if !$crate::config::property_table!(
                        @behaves [$($reload)?] [$($eq)?] &self.$name, &other.$name
                    ) {
                        return false;
                    }
                )*
                true
            }
        }
    };

    // Behaviour equality: properties applied in place never change behaviour.
    (@behaves [in_place] [$($eq:path)?] $a:expr, $b:expr) => {
        true
    };
    (@behaves [] [$($eq:path)?] $a:expr, $b:expr) => {
        $crate::config::property_table!(@eq [$($eq)?] $a, $b)
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
        $crate::config::property_table!(@ty $($rest)*)
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

    // The samples function, if the table asks for one.
    (@samples [] [$($entries:tt)*]) => {};
    (@samples [$samples:ident] [$($entries:tt)*]) => {
        /// One non-default sample per table entry.
        #[cfg(test)]
        pub(crate) fn $samples() -> Vec<Sample> {
            vec![$($entries)*]
        }
    };

    // A property's sample (a table with `samples` gives one for every entry).
    (
        @sample $config:ident $settings:ident $name:ident [$sample:expr] [$($reload:ident)?]
        [$($param:ident)?] [$($how:ident)?]
        [$($key:ident [$($file_sample:expr)?] [$($file_default:expr)?])?] $default:expr
    ) => {
        Sample {
            name: stringify!($name),
            property: true,
            in_place: $crate::config::property_table!(@in_place $($reload)?),
            expected: {
                let mut config = $config::default();
                config.$name = $sample;
                config
            },
            built: $crate::config::property_table!(@option $({
                let $param = $sample;
                $config::builder().$name($param).build()
            })?),
            getter: $crate::config::property_table!(@option $(
                $crate::config::property_table!(@observe $config $how $name)
            )?),
            file: $crate::config::property_table!(@option $(FileSample {
                key: stringify!($key),
                base: $settings::default(),
                with_sample: $settings {
                    $key: Some($crate::config::property_table!(
                        @expr [$($file_sample)?] $sample
                    )),
                    ..$settings::default()
                },
                with_default: Some($settings {
                    $key: Some($crate::config::property_table!(
                        @expr [$($file_default)?] $default
                    )),
                    ..$settings::default()
                }),
            })?),
        }
    };

    // A file-only key's sample.
    (
        @file_only_sample $config:ident $settings:ident $only_key:ident
        [$($only_default:expr)?]
        [$only_sample:expr, [$($with_key:ident: $with_value:expr),*], $gives:ident = $gives_value:expr]
    ) => {
        Sample {
            name: stringify!($only_key),
            property: false,
            in_place: false,
            expected: {
                let mut config = $config::default();
                config.$gives = $gives_value;
                config
            },
            built: None,
            getter: Some($crate::config::property_table!(@observe $config any $gives)),
            file: Some({
                let base = $settings {
                    $($with_key: Some($with_value),)*
                    ..$settings::default()
                };
                FileSample {
                    key: stringify!($only_key),
                    with_sample: $settings {
                        $only_key: Some($only_sample),
                        ..base.clone()
                    },
                    with_default: $crate::config::property_table!(@option $($settings {
                        $only_key: Some($only_default),
                        ..base.clone()
                    })?),
                    base,
                }
            }),
        }
    };

    // Whether an entry is applied in place on reload.
    (@in_place in_place) => {
        true
    };
    (@in_place) => {
        false
    };

    // A getter's value, for the tests.
    (@observe $config:ident $how:ident $name:ident) => {
        |config: &$config| format!("{:?}", config.$name())
    };
}

pub(crate) use property_table;

/// One row of the docs' property table: a key of a settings struct (`BreakerSettings`,
/// `RetrySettings`, ...).
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

/// The README's property table for `keys`: a header, the `base_config` row (`base_doc` its
/// meaning) and one row per key, with its Spring spelling, forms, default and meaning.
#[cfg(test)]
pub(crate) fn markdown_table(keys: &[FileKey], base_doc: &str) -> String {
    use super::file::KeyStyle;
    let mut rows = vec![
        "| key (TOML) | key (Spring) | value | default | meaning |".to_owned(),
        "|---|---|---|---|---|".to_owned(),
        format!("| `base_config` | `baseConfig` | name | none | {base_doc} |"),
    ];
    for key in keys {
        let default = (key.default)().map_or_else(|| "none".to_owned(), |d| format!("`{d}`"));
        let meaning: Vec<&str> = key.doc.lines().map(str::trim).collect();
        rows.push(format!(
            "| `{}` | `{}` | {} | {default} | {} |",
            key.key,
            KeyStyle::Camel.spell(key.key),
            key.forms,
            meaning.join(" ").trim()
        ));
    }
    rows.join("\n")
}

/// Checks that the README holds `expected` between the markers `start` and `end`, and says
/// what to paste when it does not.
#[cfg(test)]
pub(crate) fn assert_readme_table(start: &str, end: &str, expected: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let from = readme
        .find(start)
        .expect("the README marks its property table")
        + start.len();
    let to = readme[from..].find(end).expect("the table's end marker") + from;
    assert_eq!(
        readme[from..to].trim(),
        expected,
        "README.md's table after `{start}` differs from the declaration; replace it with:\n\n\
         {expected}\n"
    );
}
