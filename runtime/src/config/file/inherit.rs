//! Resilience4j's `baseConfig` inheritance, for any kind of section that may name a base:
//! breaker sections ([`super::resolve`]) and Spring's time limiter sections
//! ([`super::spring`]) go through the same rules and report the same errors.
//!
//! Rules (Resilience4j 2.4, `CommonCircuitBreakerConfigurationProperties` and
//! `CommonTimeLimiterConfigurationProperties`):
//! - a config starts from its own base (chains of any length), otherwise from the library
//!   default ([`Layer::root`]): a named config does **not** implicitly inherit `default`;
//! - an instance that names a base starts from that config, which must exist; naming the config
//!   of its own name is rejected, as Resilience4j rejects it;
//! - an instance without a base whose name is also a config's name starts from that config;
//!   otherwise from `configs.default` if present, otherwise from the library default;
//! - a base cycle is an error. Resilience4j only detects a config naming itself (a longer cycle
//!   overflows its stack); fusebox reports every cycle with its chain.

use crate::config::{ConfigError, ConfigErrorKind, Location};
use std::collections::BTreeMap;

/// Which map a section lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    Configs,
    Instances,
}

impl Group {
    /// The map's name in both layouts.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Group::Configs => "configs",
            Group::Instances => "instances",
        }
    }
}

/// One kind of section that may name a base config, and how a section applies on top of its
/// base.
pub(crate) trait Layer {
    /// A section as written.
    type Section;
    /// A section resolved on top of its base.
    type Built: Clone;

    /// What an instance that names the config of its own name is told, after Resilience4j's
    /// reason.
    const OWN_NAME_ADVICE: &'static str;

    /// The base the section names, if any.
    fn base_of(section: &Self::Section) -> Option<&str>;

    /// What a section without a base starts from: the library default.
    fn root(&self) -> Self::Built;

    /// The key path and location of the base in section `name` of `group`, for errors.
    fn base_key(&self, group: Group, name: &str) -> (String, Location);

    /// `section` (named `name`, in `group`) on top of `base`.
    fn apply(
        &mut self,
        group: Group,
        name: &str,
        base: &Self::Built,
        section: &Self::Section,
    ) -> Result<Self::Built, ConfigError>;
}

/// Resolves the sections of one [`Layer`], each config once.
pub(crate) struct Inheritance<'a, L: Layer> {
    configs: &'a BTreeMap<String, L::Section>,
    layer: L,
    built: BTreeMap<String, L::Built>,
}

impl<'a, L: Layer> Inheritance<'a, L> {
    /// Inheritance among `configs`, applied by `layer`.
    pub(crate) fn new(configs: &'a BTreeMap<String, L::Section>, layer: L) -> Self {
        Self {
            configs,
            layer,
            built: BTreeMap::new(),
        }
    }

    /// Config `name` on top of its base chain; a name that is not a config gives the root.
    pub(crate) fn config(&mut self, name: &str) -> Result<L::Built, ConfigError> {
        self.config_within(name, &mut Vec::new())
    }

    /// Whether `name` is a config.
    pub(crate) fn has_config(&self, name: &str) -> bool {
        self.configs.contains_key(name)
    }

    /// `stack` holds the configs whose bases are being resolved, to detect cycles.
    fn config_within(
        &mut self,
        name: &str,
        stack: &mut Vec<String>,
    ) -> Result<L::Built, ConfigError> {
        if let Some(done) = self.built.get(name) {
            return Ok(done.clone());
        }
        if let Some(start) = stack.iter().position(|n| n == name) {
            let mut chain = stack[start..].to_vec();
            chain.push(name.to_owned());
            let referrer = stack.last().map_or(name, String::as_str);
            let (path, location) = self.layer.base_key(Group::Configs, referrer);
            return Err(
                ConfigError::new(path, ConfigErrorKind::BaseConfigCycle { chain }).at(location),
            );
        }
        let configs = self.configs;
        let Some(section) = configs.get(name) else {
            return Ok(self.layer.root());
        };
        let base = match L::base_of(section) {
            Some(base) => {
                self.check_exists(Group::Configs, name, base)?;
                stack.push(name.to_owned());
                let built = self.config_within(base, stack);
                stack.pop();
                built?
            }
            None => self.layer.root(),
        };
        let built = self.layer.apply(Group::Configs, name, &base, section)?;
        self.built.insert(name.to_owned(), built.clone());
        Ok(built)
    }

    /// Instance `name` (whose section is `section`) on top of its base.
    pub(crate) fn instance(
        &mut self,
        name: &str,
        section: &L::Section,
    ) -> Result<L::Built, ConfigError> {
        let base = match L::base_of(section) {
            Some(base) if base == name => {
                let (path, location) = self.layer.base_key(Group::Instances, name);
                return Err(ConfigError::new(
                    path,
                    ConfigErrorKind::Conflict {
                        message: format!(
                            "an instance cannot name the config of its own name `{name}` as its base \
                             (Resilience4j rejects this as a circular reference); remove it{}",
                            L::OWN_NAME_ADVICE
                        ),
                    },
                )
                .at(location));
            }
            Some(base) => {
                self.check_exists(Group::Instances, name, base)?;
                self.config(base)?
            }
            None => self.instance_base(name)?,
        };
        self.layer.apply(Group::Instances, name, &base, section)
    }

    /// What an instance named `name` that names no base starts from: the config of its name,
    /// else `default`, else the root.
    pub(crate) fn instance_base(&mut self, name: &str) -> Result<L::Built, ConfigError> {
        if self.has_config(name) {
            self.config(name)
        } else if self.has_config("default") {
            self.config("default")
        } else {
            Ok(self.layer.root())
        }
    }

    fn check_exists(&self, group: Group, name: &str, base: &str) -> Result<(), ConfigError> {
        if self.has_config(base) {
            return Ok(());
        }
        let (path, location) = self.layer.base_key(group, name);
        Err(ConfigError::new(
            path,
            ConfigErrorKind::MissingBaseConfig {
                base: base.to_owned(),
            },
        )
        .at(location))
    }

    /// Every config resolved so far, by name, and the layer.
    pub(crate) fn finish(self) -> (BTreeMap<String, L::Built>, L) {
        (self.built, self.layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sections as `(base, value)`: a resolved section is the list of values down its chain.
    struct Lists;

    impl Layer for Lists {
        type Section = (Option<&'static str>, u32);
        type Built = Vec<u32>;
        const OWN_NAME_ADVICE: &'static str = "";

        fn base_of(section: &Self::Section) -> Option<&str> {
            section.0
        }
        fn root(&self) -> Vec<u32> {
            Vec::new()
        }
        fn base_key(&self, group: Group, name: &str) -> (String, Location) {
            (format!("{}.{name}.base", group.name()), Location::default())
        }
        fn apply(
            &mut self,
            _: Group,
            _: &str,
            base: &Vec<u32>,
            section: &Self::Section,
        ) -> Result<Vec<u32>, ConfigError> {
            let mut built = base.clone();
            built.push(section.1);
            Ok(built)
        }
    }

    fn configs(
        sections: &[(&str, Option<&'static str>, u32)],
    ) -> BTreeMap<String, (Option<&'static str>, u32)> {
        sections
            .iter()
            .map(|&(name, base, value)| (name.to_owned(), (base, value)))
            .collect()
    }

    #[test]
    fn chains_defaults_and_instances() {
        let configs = configs(&[
            ("default", None, 1),
            ("a", Some("default"), 2),
            ("b", None, 3),
        ]);
        let mut inheritance = Inheritance::new(&configs, Lists);
        assert_eq!(inheritance.config("a").unwrap(), [1, 2]);
        assert_eq!(inheritance.config("b").unwrap(), [3], "no implicit default");
        assert_eq!(inheritance.config("nope").unwrap(), Vec::<u32>::new());
        assert_eq!(inheritance.instance("b", &(None, 9)).unwrap(), [3, 9]);
        assert_eq!(inheritance.instance("x", &(None, 9)).unwrap(), [1, 9]);
        assert_eq!(
            inheritance.instance("x", &(Some("a"), 9)).unwrap(),
            [1, 2, 9]
        );
    }

    #[test]
    fn cycles_missing_bases_and_own_names_are_errors() {
        let configs = configs(&[
            ("a", Some("b"), 1),
            ("b", Some("a"), 2),
            ("c", Some("d"), 3),
        ]);
        let mut inheritance = Inheritance::new(&configs, Lists);
        let cycle = inheritance.config("a").unwrap_err();
        assert_eq!(
            cycle.to_string(),
            "configs.b.base: base_config cycle: a -> b -> a"
        );
        let missing = inheritance.config("c").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "configs.c.base: base config `d` does not exist (define it under `configs.d`)"
        );
        let own = inheritance.instance("b", &(Some("b"), 0)).unwrap_err();
        assert!(
            own.to_string().starts_with(
                "instances.b.base: an instance cannot name the config of its own name"
            ),
            "{own}"
        );
    }
}
