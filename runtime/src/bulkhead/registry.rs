//! The registry's bulkheads: [`Registry::bulkhead`] and its siblings, configured like the
//! registry's retries (a shared config of the bulkhead's name, else the default).

use super::{Bulkhead, BulkheadConfig};
use crate::Registry;
use crate::config::file::ResolvedBulkheads;
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A registry's bulkhead configs and instances.
#[derive(Default)]
pub(crate) struct Bulkheads {
    default: RwLock<BulkheadConfig>,
    configs: RwLock<BTreeMap<String, BulkheadConfig>>,
    instances: RwLock<HashMap<Arc<str>, Bulkhead>>,
}

impl Bulkheads {
    /// Replaces the configs with a file's: default, shared configs, and instances not created
    /// yet (existing bulkheads keep their config). Returns the names of the bulkheads created.
    pub(crate) fn set(&self, registry: &Registry, resolved: ResolvedBulkheads) -> Vec<String> {
        *self.default.write() = resolved.default;
        {
            let mut configs = self.configs.write();
            configs.clear();
            configs.extend(resolved.configs.into_iter().filter(|(n, _)| n != "default"));
        }
        let mut created = Vec::new();
        for (name, config) in resolved.instances {
            if !self.instances.read().contains_key(name.as_str()) {
                self.get_or_create(registry, &name, config);
                created.push(name);
            }
        }
        created
    }

    /// The bulkhead named `name`, created with `config` if absent; a new one is announced to
    /// `registry`'s entry hooks (under the lock of the map, as the registry's other kinds do, so
    /// that a monitor started meanwhile sees it exactly once).
    fn get_or_create(&self, registry: &Registry, name: &str, config: BulkheadConfig) -> Bulkhead {
        let mut instances = self.instances.write();
        if let Some(b) = instances.get(name) {
            return b.clone();
        }
        let bulkhead = Bulkhead::new(name, config);
        instances.insert(name.into(), bulkhead.clone());
        registry.notify_entry_added(&bulkhead);
        bulkhead
    }
}

impl Registry {
    /// The bulkhead named `name`, created on first use with the shared bulkhead config of the
    /// same name (`bulkhead.configs.<name>`), else the registry's default bulkhead config
    /// (`bulkhead.configs.default`, else Resilience4j's defaults).
    pub fn bulkhead(&self, name: &str) -> Bulkhead {
        let bulkheads = self.bulkheads();
        if let Some(b) = bulkheads.instances.read().get(name) {
            return b.clone();
        }
        let config = bulkheads
            .configs
            .read()
            .get(name)
            .cloned()
            .unwrap_or_else(|| bulkheads.default.read().clone());
        bulkheads.get_or_create(self, name, config)
    }

    /// The bulkhead named `name`, created with `config` if it does not exist yet (an existing
    /// bulkhead keeps its own config, as in Resilience4j).
    pub fn bulkhead_with_config(&self, name: &str, config: BulkheadConfig) -> Bulkhead {
        self.bulkheads().get_or_create(self, name, config)
    }

    /// The shared bulkhead config named `name` (`default` is the registry's default bulkhead
    /// config).
    pub fn bulkhead_configuration(&self, name: &str) -> Option<BulkheadConfig> {
        let bulkheads = self.bulkheads();
        if name == "default" {
            return Some(bulkheads.default.read().clone());
        }
        bulkheads.configs.read().get(name).cloned()
    }

    /// All bulkheads, sorted by name.
    pub fn all_bulkheads(&self) -> Vec<Bulkhead> {
        let mut all: Vec<Bulkhead> = self
            .bulkheads()
            .instances
            .read()
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }
}
