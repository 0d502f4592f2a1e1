//! [`BulkheadPermit`] and [`OwnedBulkheadPermit`]: a slot in a bulkhead, given back when dropped.

use super::Shared;
use std::mem::ManuallyDrop;
use std::sync::Arc;

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

    /// The same slot, held by a permit that owns `shared` (the bulkhead this permit borrows).
    pub(super) fn into_owned(self, shared: Arc<Shared>) -> OwnedBulkheadPermit {
        debug_assert!(std::ptr::eq(self.shared, &*shared));
        // The slot moves to the owned permit: this one must not give it back.
        let this = ManuallyDrop::new(self);
        OwnedBulkheadPermit {
            shared,
            finish: this.finish,
        }
    }
}

/// A slot in a [`Bulkhead`](super::Bulkhead) that owns a handle of the bulkhead, so it can be
/// moved into a spawned task or a response future (`'static`, `Send`). From
/// [`Bulkhead::try_acquire_owned`](super::Bulkhead::try_acquire_owned) or
/// [`Bulkhead::acquire_owned`](super::Bulkhead::acquire_owned). Dropping it gives the slot
/// back and publishes CALL_FINISHED, as [`BulkheadPermit`] does, however the holder ended.
#[must_use = "the slot is given back as soon as the permit is dropped"]
pub struct OwnedBulkheadPermit {
    shared: Arc<Shared>,
    /// Whether dropping publishes CALL_FINISHED.
    finish: bool,
}

impl OwnedBulkheadPermit {
    /// Gives the slot back without publishing CALL_FINISHED, for a permit that was not used
    /// (Resilience4j's `releasePermission`).
    pub fn release_unused(mut self) {
        self.finish = false;
    }

    /// The name of the bulkhead the slot belongs to.
    pub fn bulkhead_name(&self) -> &str {
        &self.shared.name
    }
}

impl std::fmt::Debug for OwnedBulkheadPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedBulkheadPermit")
            .field("bulkhead", &self.shared.name)
            .finish()
    }
}

impl Drop for OwnedBulkheadPermit {
    #[inline]
    fn drop(&mut self) {
        self.shared.release(self.finish);
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
