//! [`RateLimiterMetrics`]: Resilience4j's `AtomicRateLimiterMetrics` as one snapshot.

/// A rate limiter's state as Resilience4j's `AtomicRateLimiter.getDetailedMetrics()` estimates
/// it for one more permit at the moment of the snapshot (the Micrometer gauges
/// `resilience4j.ratelimiter.available.permissions` and `resilience4j.ratelimiter.waiting_threads`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimiterMetrics {
    /// Permissions left in the current cycle; negative while reservations are pending
    /// (`getAvailablePermissions`).
    pub available_permissions: i32,
    /// Callers waiting for a reserved permission (`getNumberOfWaitingThreads`; tasks here).
    pub number_of_waiting_threads: i32,
    /// Nanoseconds until one more permit would be available (`getNanosToWait`): 0 when one is
    /// available now.
    pub nanos_to_wait: i64,
    /// The current cycle since the limiter was created (`getCycle`).
    pub cycle: i64,
}
