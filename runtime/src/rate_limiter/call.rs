//! Guarding a call: [`RateLimiter::call`], Resilience4j's `RateLimiter.decorateCompletionStage`
//! (acquire, run, then drain if the result says so).

use super::RateLimiter;
use super::error::RateLimiterError;
use std::any::Any;
use std::future::Future;

impl RateLimiter {
    /// Runs `call` once a permit is acquired ([`acquire_permission`](Self::acquire_permission)
    /// with 1 permit); refused, it does not run and the error is
    /// [`RateLimiterError::NotPermitted`]. After the call, a result that the config's
    /// `drain_permissions_on_result` predicate matches drains the limiter. The permitted path
    /// allocates nothing.
    pub async fn call<T, E, F, Fut>(&self, call: F) -> Result<T, RateLimiterError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        T: 'static,
        E: 'static,
    {
        self.call_with_permits(1, call).await
    }

    /// [`call`](Self::call) taking `permits` permits (Resilience4j's `decorate*(rateLimiter,
    /// permits, ...)`).
    pub async fn call_with_permits<T, E, F, Fut>(
        &self,
        permits: u32,
        call: F,
    ) -> Result<T, RateLimiterError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        T: 'static,
        E: 'static,
    {
        self.acquire_permission(permits)
            .await
            .map_err(RateLimiterError::NotPermitted)?;
        let result = call().await;
        let drain = self.inner.config.drain();
        if drain.is_set() && drain.drains(&result) {
            self.drain_permissions();
        }
        result.map_err(RateLimiterError::Failed)
    }

    /// Drains the limiter if the config's `drain_permissions_on_result` predicate matches
    /// `result` (a `&Result<T, E>`; a predicate of other types does not match). What
    /// `#[rate_limiter]`'s expansion calls after the call, as [`call`](Self::call) does.
    #[inline]
    pub(crate) fn drain_if(&self, result: &dyn Any) {
        let drain = self.inner.config.drain();
        if drain.is_set() && drain.drains(result) {
            self.drain_permissions();
        }
    }
}
