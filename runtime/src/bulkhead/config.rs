//! [`BulkheadConfigBuilder`]: builds a [`BulkheadConfig`], checking each value.

use super::BulkheadConfig;
use crate::config::ConfigError;

/// Builds a [`BulkheadConfig`], checking each value as Resilience4j's `BulkheadConfig.Builder`
/// does; the first broken rule is the error of [`build`](Self::build).
#[derive(Clone, Debug, Default)]
pub struct BulkheadConfigBuilder {
    pub(crate) config: BulkheadConfig,
    error: Option<ConfigError>,
}

impl BulkheadConfig {
    /// A builder starting from Resilience4j's defaults.
    pub fn builder() -> BulkheadConfigBuilder {
        BulkheadConfigBuilder::default()
    }

    /// A builder starting from this config (Resilience4j's `BulkheadConfig.from`).
    pub fn to_builder(&self) -> BulkheadConfigBuilder {
        BulkheadConfigBuilder {
            config: self.clone(),
            error: None,
        }
    }
}

impl BulkheadConfigBuilder {
    pub(crate) fn fail(&mut self, e: Option<ConfigError>) {
        if self.error.is_none() {
            self.error = e;
        }
    }

    /// The config, or the first rule a setter's value broke.
    pub fn build(self) -> Result<BulkheadConfig, ConfigError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.config),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn defaults_are_resilience4j_s() {
        let c = BulkheadConfig::default();
        assert_eq!(c.max_concurrent_calls(), 25);
        assert_eq!(c.max_wait_duration(), Duration::ZERO);
        assert!(c.fair_call_handling());
        assert_eq!(c.event_consumer_buffer_size(), 100);
    }

    #[test]
    fn zero_calls_is_allowed_in_code_and_invalid_values_name_their_key() {
        // Resilience4j's core accepts 0 (every call rejected).
        let zero = BulkheadConfig::builder().max_concurrent_calls(0).build();
        assert_eq!(zero.map(|c| c.max_concurrent_calls()), Ok(0));
        let e = BulkheadConfig::builder()
            .event_consumer_buffer_size(0)
            .max_concurrent_calls(3)
            .build()
            .unwrap_err();
        assert_eq!(e.key(), "event_consumer_buffer_size");
        assert!(e.to_string().contains("must be at least 1"), "{e}");
    }

    #[test]
    fn every_setter_reaches_the_config() {
        let c = BulkheadConfig::builder()
            .max_concurrent_calls(3)
            .max_wait_duration(Duration::from_millis(7))
            .fair_call_handling(false)
            .event_consumer_buffer_size(9)
            .build()
            .unwrap();
        assert_eq!(c.max_concurrent_calls(), 3);
        assert_eq!(c.max_wait_duration(), Duration::from_millis(7));
        assert!(!c.fair_call_handling());
        assert_eq!(c.event_consumer_buffer_size(), 9);
        assert_ne!(c, BulkheadConfig::default());
        assert_eq!(c.to_builder().build().unwrap(), c);
        let debug = format!("{c:?}");
        assert!(debug.contains("fair_call_handling: false"), "{debug}");
    }
}
