//! `retry_properties!`: what follows from the retry property table in [`super::properties`],
//! the sibling of the breaker's `breaker_properties!` (same table grammar, minus the
//! breaker-only sections: `eq by`, `reload`, samples).
//!
//! From one declaration per property it writes:
//! - [`RetryConfig`](super::RetryConfig): its fields (plus the `extra` fields that are not
//!   properties: predicates, the sleeper), [`Default`], [`Debug`], [`PartialEq`] and the getters
//!   of entries with a `get` section;
//! - the [`RetryConfigBuilder`](super::RetryConfigBuilder) setters of entries with a `set`
//!   section, each checked by the entry's rule;
//! - [`RetrySettings`](super::RetrySettings) (one optional field per file key, after
//!   `base_config`), its serde form, the list of keys (`RETRY_FIELDS`), reading a key from a
//!   config document (`set`) and applying a section to a builder (`apply_to`);
//! - `RETRY_FILE_KEYS`, the rows of the docs' property table.

macro_rules! retry_properties {
    (
        properties {
            $(
                $name:ident: $ty:ty {
                    default $default:expr;
                    $(get($how:ident) { $(#[doc = $get_doc:literal])* })?
                    $(set($param:ident) $(checked by $rule:path)? {
                        $(#[doc = $set_doc:literal])*
                    })?
                    $(file $key:ident $(: $file_ty:ty, applied by $apply:path)?
                        { $(#[doc = $file_doc:literal])* })?
                }
            )*
        }
        file_only {
            $(
                $only_key:ident: $only_ty:ty {
                    $(#[doc = $only_doc:literal])*
                    $(default $only_default:expr;)?
                }
            )*
        }
        extra {
            $($extra:ident: $extra_ty:ty = $extra_default:expr;)*
        }
    ) => {
        /// A validated retry configuration (Resilience4j's `RetryConfig`). Build one with
        /// [`RetryConfig::builder`]; [`Default`] gives Resilience4j's defaults: 3 attempts, a
        /// fixed 500 ms wait, every error retried, no result predicate.
        ///
        /// ```
        /// use fusebox_runtime::retry::{RetryConfig, RetryInterval};
        /// use std::time::Duration;
        ///
        /// let config = RetryConfig::builder()
        ///     .max_attempts(5)
        ///     .interval_function(RetryInterval::Exponential {
        ///         initial: Duration::from_millis(100),
        ///         multiplier: 2.0,
        ///         max: Some(Duration::from_secs(1)),
        ///     })
        ///     .ignore_error(|e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound)
        ///     .build()?;
        /// assert_eq!(config.max_attempts(), 5);
        /// # Ok::<(), fusebox_runtime::ConfigError>(())
        /// ```
        #[derive(Clone)]
        pub struct RetryConfig {
            $(pub(crate) $name: $ty,)*
            $(pub(crate) $extra: $extra_ty,)*
        }

        impl Default for RetryConfig {
            fn default() -> Self {
                Self {
                    $($name: $default,)*
                    $($extra: $extra_default,)*
                }
            }
        }

        impl ::std::fmt::Debug for RetryConfig {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("RetryConfig")
                    $(.field(stringify!($name), &self.$name))*
                    $(.field(stringify!($extra), &self.$extra))*
                    .finish()
            }
        }

        /// Two configs are equal when every property is; predicates and custom interval
        /// functions compare by identity, sleepers by kind.
        impl PartialEq for RetryConfig {
            fn eq(&self, other: &Self) -> bool {
                true $(&& self.$name == other.$name)* $(&& self.$extra == other.$extra)*
            }
        }

        impl RetryConfig {
            $($(retry_properties!(@get $how $name: $ty [$($get_doc)*]);)?)*
        }

        impl RetryConfigBuilder {
            $($(
                $(#[doc = $set_doc])*
                pub fn $name(mut self, $param: $ty) -> Self {
                    $(self.fail($rule(stringify!($name), $param));)?
                    self.config.$name = $param;
                    self
                }
            )?)*
        }

        /// One `[retry.configs.<name>]` or `[retry.instances.<name>]` section: every property
        /// optional, keys in snake_case (Spring's camelCase and kebab-case forms in YAML).
        ///
        /// ```
        /// use fusebox_runtime::retry::RetrySettings;
        /// use std::time::Duration;
        ///
        /// let s: RetrySettings = toml::from_str(r#"
        ///     base_config = "shared"
        ///     max_attempts = 5
        ///     wait_duration = "PT0.2S"
        /// "#)?;
        /// assert_eq!(s.wait_duration, Some(Duration::from_millis(200)));
        /// # Ok::<(), toml::de::Error>(())
        /// ```
        #[derive(Clone, Debug, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(from = "RetrySettingsSerde", into = "RetrySettingsSerde")]
        pub struct RetrySettings {
            /// The shared config (under `retry.configs`) this one starts from.
            pub base_config: Option<String>,
            $($(
                $(#[doc = $file_doc])*
                pub $key: Option<retry_properties!(@ty [$($file_ty)?] $ty)>,
            )?)*
            $(
                $(#[doc = $only_doc])*
                pub $only_key: Option<$only_ty>,
            )*
        }

        /// [`RetrySettings`] as serde sees it.
        #[derive(Default, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(
            rename = "RetrySettings",
            expecting = "struct RetrySettings",
            default,
            deny_unknown_fields
        )]
        struct RetrySettingsSerde {
            #[serde(skip_serializing_if = "Option::is_none")]
            base_config: Option<String>,
            $($(
                #[serde(skip_serializing_if = "Field::is_none")]
                $key: Field<retry_properties!(@ty [$($file_ty)?] $ty)>,
            )?)*
            $(
                #[serde(skip_serializing_if = "Field::is_none")]
                $only_key: Field<$only_ty>,
            )*
        }

        impl From<RetrySettingsSerde> for RetrySettings {
            fn from(s: RetrySettingsSerde) -> Self {
                Self {
                    base_config: s.base_config,
                    $($($key: s.$key.0,)?)*
                    $($only_key: s.$only_key.0,)*
                }
            }
        }

        impl From<RetrySettings> for RetrySettingsSerde {
            fn from(s: RetrySettings) -> Self {
                Self {
                    base_config: s.base_config,
                    $($($key: Field::new(s.$key),)?)*
                    $($only_key: Field::new(s.$only_key),)*
                }
            }
        }

        /// Every key of [`RetrySettings`], as written in TOML.
        pub(crate) const RETRY_FIELDS: &[&str] = &[
            "base_config",
            $($(stringify!($key),)?)*
            $(stringify!($only_key),)*
        ];

        impl RetrySettings {
            /// Sets the field named `field` (one of [`RETRY_FIELDS`]) from `node`; the error is
            /// the rule the value breaks.
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
                            self.$key = Some(<retry_properties!(@ty [$($file_ty)?] $ty)
                                as Format>::read(node, typing)?);
                        }
                    )?)*
                    $(
                        stringify!($only_key) => {
                            self.$only_key = Some(<$only_ty as Format>::read(node, typing)?);
                        }
                    )*
                    other => return Err(format!("`{other}` is not a retry property")),
                }
                Ok(())
            }

            /// This section's properties on top of `builder`, in table order. File-only keys
            /// take effect through the property they shape.
            pub(crate) fn apply_to(&self, mut builder: RetryConfigBuilder) -> RetryConfigBuilder {
                $($(
                    if let Some(value) = self.$key {
                        builder = retry_properties!(@apply [$($apply)?] $name(builder, value, self));
                    }
                )?)*
                builder
            }
        }

        /// One row of the docs' retry property table.
        #[cfg(test)]
        #[derive(Debug)]
        pub(crate) struct RetryFileKey {
            /// The key in TOML.
            pub(crate) key: &'static str,
            /// What it means.
            pub(crate) doc: &'static str,
            /// What a value looks like.
            pub(crate) forms: &'static str,
            /// The default, as written in TOML, if there is one.
            pub(crate) default: fn() -> Option<String>,
        }

        /// Every key of [`RetrySettings`] but `base_config`, in table order.
        #[cfg(test)]
        pub(crate) const RETRY_FILE_KEYS: &[RetryFileKey] = &[
            $($(RetryFileKey {
                key: stringify!($key),
                doc: concat!($($file_doc, "\n",)*),
                forms: <retry_properties!(@ty [$($file_ty)?] $ty) as Format>::FORMS,
                default: || retry_properties!(@default [$($file_ty)?] $name: $ty),
            },)?)*
            $(RetryFileKey {
                key: stringify!($only_key),
                doc: concat!($($only_doc, "\n",)*),
                forms: <$only_ty as Format>::FORMS,
                default: || retry_properties!(@option $(<$only_ty as Format>::write($only_default))?),
            },)*
        ];
    };

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
    (@apply [$apply:path] $name:ident($builder:ident, $value:ident, $settings:ident)) => {
        $apply($builder, $value, $settings)
    };
    (@apply [] $name:ident($builder:ident, $value:ident, $settings:ident)) => {
        $builder.$name($value)
    };
    (@ty [$first:ty] $last:ty) => {
        $first
    };
    (@ty [] $last:ty) => {
        $last
    };
    // The default of a plain key is the property's own; a shaped key documents its own.
    (@default [$file_ty:ty] $name:ident: $ty:ty) => {
        file_default::$name()
    };
    (@default [] $name:ident: $ty:ty) => {
        Some(<$ty as Format>::write(RetryConfig::default().$name))
    };
    (@option) => {
        None
    };
    (@option $($given:tt)+) => {
        Some($($given)+)
    };
}
