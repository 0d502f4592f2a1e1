//! The synchronisation primitives the breaker's state machine uses: std atomics and a
//! `parking_lot` mutex normally, loom's under `--cfg fusebox_loom` so that a model checker can
//! explore every interleaving of permits, records and transitions (`runtime/tests/loom.rs`).

#[cfg(not(fusebox_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64};

#[cfg(fusebox_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64};

/// A mutex whose lock cannot fail: the breaker never panics while holding it.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(
    #[cfg(not(fusebox_loom))] parking_lot::Mutex<T>,
    #[cfg(fusebox_loom)] loom::sync::Mutex<T>,
);

#[cfg(not(fusebox_loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;
#[cfg(fusebox_loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        #[cfg(not(fusebox_loom))]
        return Self(parking_lot::Mutex::new(value));
        #[cfg(fusebox_loom)]
        return Self(loom::sync::Mutex::new(value));
    }

    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(fusebox_loom))]
        return self.0.lock();
        #[cfg(fusebox_loom)]
        return self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
}
