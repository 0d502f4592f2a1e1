//! [`RetryConfigBuilder`] and the predicates a [`RetryConfig`] holds.

use super::RetryConfig;
use super::interval::RetryInterval;
use super::sleep::{Sleeper, SleeperSource};
use crate::config::ConfigError;
use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A predicate on a value of some type, erased: it answers `false` for other types (as a Java
/// exception class list matches only its classes).
type Erased = Arc<dyn Fn(&dyn Any) -> bool + Send + Sync>;

fn erase<V: 'static>(p: impl Fn(&V) -> bool + Send + Sync + 'static) -> Erased {
    Arc::new(move |v: &dyn Any| v.downcast_ref::<V>().is_some_and(&p))
}

/// The error and result predicates of a config (Resilience4j's `retryOnException` /
/// `retryExceptions`, `ignoreExceptions` and `retryOnResult`).
#[derive(Clone, Default)]
pub(crate) struct Predicates {
    retry_on_error: Vec<Erased>,
    ignore_error: Vec<Erased>,
    retry_on_result: Vec<Erased>,
}

impl Predicates {
    /// Whether `error` is retried: any retry predicate matches (every error when there is none)
    /// and no ignore predicate matches (ignoring wins, as in Resilience4j).
    pub(crate) fn retries_error(&self, error: &dyn Any) -> bool {
        (self.retry_on_error.is_empty() || self.retry_on_error.iter().any(|p| p(error)))
            && !self.ignore_error.iter().any(|p| p(error))
    }

    /// Whether `result` is retried: a result predicate matches.
    pub(crate) fn retries_result(&self, result: &dyn Any) -> bool {
        self.retry_on_result.iter().any(|p| p(result))
    }

    /// Whether there is a result predicate at all (skips the check on the fast path).
    pub(crate) fn has_result_predicate(&self) -> bool {
        !self.retry_on_result.is_empty()
    }
}

impl fmt::Debug for Predicates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Predicates")
            .field("retry_on_error", &self.retry_on_error.len())
            .field("ignore_error", &self.ignore_error.len())
            .field("retry_on_result", &self.retry_on_result.len())
            .finish()
    }
}

/// Predicates compare by identity.
impl PartialEq for Predicates {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: &[Erased], b: &[Erased]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| Arc::ptr_eq(x, y))
        };
        same(&self.retry_on_error, &other.retry_on_error)
            && same(&self.ignore_error, &other.ignore_error)
            && same(&self.retry_on_result, &other.retry_on_result)
    }
}

/// Builds a [`RetryConfig`], checking each value as Resilience4j's `RetryConfig.Builder` does;
/// the first broken rule is the error of [`build`](Self::build).
#[derive(Clone, Debug, Default)]
pub struct RetryConfigBuilder {
    pub(crate) config: RetryConfig,
    error: Option<ConfigError>,
}

impl RetryConfig {
    /// A builder starting from Resilience4j's defaults.
    pub fn builder() -> RetryConfigBuilder {
        RetryConfigBuilder::default()
    }

    /// A builder starting from this config (Resilience4j's `RetryConfig.from`).
    pub fn to_builder(&self) -> RetryConfigBuilder {
        RetryConfigBuilder {
            config: self.clone(),
            error: None,
        }
    }

    pub(crate) fn predicates(&self) -> &Predicates {
        &self.predicates
    }

    pub(crate) fn sleeper(&self) -> &SleeperSource {
        &self.sleeper
    }
}

impl RetryConfigBuilder {
    pub(crate) fn fail(&mut self, e: Option<ConfigError>) {
        if self.error.is_none() {
            self.error = e;
        }
    }

    /// A fixed wait before each retry (Resilience4j's `waitDuration`; zero is allowed).
    pub fn wait_duration(mut self, wait: Duration) -> Self {
        self.config.interval = RetryInterval::Fixed(wait);
        self
    }

    /// The wait before each retry as a function of the attempt (exponential, randomized or your
    /// own); replaces [`wait_duration`](Self::wait_duration). Checked by
    /// [`RetryInterval::validate`].
    pub fn interval_function(mut self, interval: RetryInterval) -> Self {
        self.fail(interval.validate().err());
        self.config.interval = interval;
        self
    }

    /// Retry errors of type `E` that match `predicate` (Resilience4j's `retryOnException` and
    /// `retryExceptions`). With one or more of these, only matching errors are retried; without
    /// any, every error is. Errors of other types never match.
    pub fn retry_on_error<E: 'static>(
        mut self,
        predicate: impl Fn(&E) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.config.predicates.retry_on_error.push(erase(predicate));
        self
    }

    /// Never retry errors of type `E` that match `predicate` (Resilience4j's
    /// `ignoreExceptions`): they are returned at once with an IGNORED_ERROR event. Wins over
    /// [`retry_on_error`](Self::retry_on_error).
    pub fn ignore_error<E: 'static>(
        mut self,
        predicate: impl Fn(&E) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.config.predicates.ignore_error.push(erase(predicate));
        self
    }

    /// Retry `Ok` results of type `T` that match `predicate` (Resilience4j's `retryOnResult`);
    /// each counts as an attempt.
    pub fn retry_on_result<T: 'static>(
        mut self,
        predicate: impl Fn(&T) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.config
            .predicates
            .retry_on_result
            .push(erase(predicate));
        self
    }

    /// How the retry waits (default [`TokioSleeper`](super::TokioSleeper)); a
    /// [`ManualClock`](crate::ManualClock) makes tests instant.
    pub fn sleeper(mut self, sleeper: impl Sleeper) -> Self {
        self.config.sleeper = SleeperSource::Custom(Arc::new(sleeper));
        self
    }

    /// The config, or the first rule a value broke.
    pub fn build(self) -> Result<RetryConfig, ConfigError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.config),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn defaults_are_resilience4j_s() {
        let c = RetryConfig::default();
        assert_eq!(c.max_attempts(), 3);
        assert_eq!(
            c.interval(),
            &RetryInterval::Fixed(Duration::from_millis(500))
        );
        assert!(!c.fail_after_max_attempts());
        assert_eq!(c.event_consumer_buffer_size(), 100);
        assert!(c.predicates().retries_error(&"anything"));
        assert!(!c.predicates().has_result_predicate());
    }

    #[test]
    fn invalid_values_are_rejected_with_their_key() {
        let e = RetryConfig::builder().max_attempts(0).build().unwrap_err();
        assert_eq!(e.key(), "max_attempts");
        assert!(e.to_string().contains("must be at least 1"), "{e}");
        let e = RetryConfig::builder()
            .event_consumer_buffer_size(0)
            .build()
            .unwrap_err();
        assert_eq!(e.key(), "event_consumer_buffer_size");
        let e = RetryConfig::builder()
            .interval_function(RetryInterval::Randomized {
                interval: Duration::from_millis(10),
                factor: -0.1,
            })
            .build()
            .unwrap_err();
        assert_eq!(e.key(), "randomized_wait_factor");
        assert!(
            RetryConfig::builder()
                .wait_duration(Duration::ZERO)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn ignoring_wins_and_types_must_match() {
        let c = RetryConfig::builder()
            .retry_on_error(|e: &io::Error| e.kind() != io::ErrorKind::InvalidInput)
            .ignore_error(|e: &io::Error| e.kind() == io::ErrorKind::NotFound)
            .retry_on_result(|v: &u32| *v == 0)
            .build()
            .unwrap();
        let p = c.predicates();
        assert!(p.retries_error(&io::Error::from(io::ErrorKind::TimedOut)));
        assert!(!p.retries_error(&io::Error::from(io::ErrorKind::InvalidInput)));
        assert!(!p.retries_error(&io::Error::from(io::ErrorKind::NotFound)));
        assert!(
            !p.retries_error(&"a string error"),
            "only io::Error is retried"
        );
        assert!(p.retries_result(&0u32));
        assert!(!p.retries_result(&1u32));
        assert!(!p.retries_result(&0u64));
        assert_eq!(c, c.clone());
        assert_ne!(c, RetryConfig::default());
    }
}
