//! [`BulkheadFull`]: a call the bulkhead did not let in.

use std::fmt;
use std::sync::Arc;

/// The bulkhead was full and stayed full for its `max_wait_duration` (Resilience4j's
/// `BulkheadFullException`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkheadFull {
    /// The bulkhead's name.
    pub bulkhead: Arc<str>,
}

impl fmt::Display for BulkheadFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Resilience4j's message.
        write!(
            f,
            "Bulkhead '{}' is full and does not permit further calls",
            self.bulkhead
        )
    }
}

impl std::error::Error for BulkheadFull {}
