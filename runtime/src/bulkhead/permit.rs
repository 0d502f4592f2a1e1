//! [`BulkheadPermit`]: a slot in a bulkhead, given back when dropped.

use super::Shared;

/// A slot in a [`Bulkhead`](super::Bulkhead), held for one call. Dropping it gives the slot back
/// and publishes CALL_FINISHED (Resilience4j's `onComplete`), whether the call returned, failed,
/// panicked (the permit drops while unwinding) or was cancelled (the future holding it was
/// dropped): a slot cannot leak.
#[must_use = "the slot is given back as soon as the permit is dropped"]
pub struct BulkheadPermit<'a> {
    shared: &'a Shared,
    /// Whether dropping publishes CALL_FINISHED.
    finish: bool,
}

impl<'a> BulkheadPermit<'a> {
    /// A permit for a slot already taken from `shared`'s semaphore (and forgotten there).
    pub(super) fn new(shared: &'a Shared) -> Self {
        Self {
            shared,
            finish: true,
        }
    }

    /// Gives the slot back without publishing CALL_FINISHED, for a permit that was not used
    /// (Resilience4j's `releasePermission`).
    pub fn release_unused(mut self) {
        self.finish = false;
    }
}

impl std::fmt::Debug for BulkheadPermit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkheadPermit")
            .field("bulkhead", &self.shared.name)
            .finish()
    }
}

impl Drop for BulkheadPermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.shared.release(self.finish);
    }
}
