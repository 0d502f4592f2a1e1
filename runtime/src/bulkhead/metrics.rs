//! [`BulkheadMetrics`]: Resilience4j's two bulkhead gauges.

/// A snapshot of a bulkhead's gauges (Resilience4j's `Bulkhead.Metrics`, exported as
/// `resilience4j.bulkhead.available.concurrent.calls` and
/// `resilience4j.bulkhead.max.allowed.concurrent.calls`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkheadMetrics {
    /// Free slots now (`getAvailableConcurrentCalls`).
    pub available_concurrent_calls: u32,
    /// Slots in all: the config's `max_concurrent_calls` (`getMaxAllowedConcurrentCalls`).
    pub max_allowed_concurrent_calls: u32,
}
