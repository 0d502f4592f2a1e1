//! The synchronisation primitives the breaker's state machine uses: std atomics and a small
//! spin lock normally, loom's atomics and mutex under `--cfg fusebox_loom` so that a model
//! checker can explore every interleaving of permits, records and transitions
//! (`runtime/tests/loom.rs`).
//!
//! Why a spin lock of our own rather than `parking_lot::Mutex`: recording a call holds the lock
//! for a few dozen instructions and never runs user code, and on that path the lock's cost is
//! its atomic read-modify-writes. `parking_lot` unlocks with a second read-modify-write; this
//! lock takes with one swap and releases with a plain store, which halves the atomic work of a
//! permitted call. Under contention it spins briefly, then yields the thread.

#[cfg(not(fusebox_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64};

#[cfg(fusebox_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64};

#[cfg(fusebox_loom)]
pub(crate) use loom_mutex::{Mutex, MutexGuard};
#[cfg(not(fusebox_loom))]
pub(crate) use spin::{Mutex, MutexGuard};

#[cfg(not(fusebox_loom))]
mod spin {
    use std::cell::UnsafeCell;
    use std::fmt;
    use std::ops::{Deref, DerefMut};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A spin lock for short critical sections that never panic or block.
    #[derive(Default)]
    pub(crate) struct Mutex<T> {
        locked: AtomicBool,
        value: UnsafeCell<T>,
    }

    // SAFETY: the lock hands out access to `value` to one thread at a time (acquire on lock,
    // release on unlock), so sharing the lock is sound whenever moving a `T` across threads is.
    unsafe impl<T: Send> Sync for Mutex<T> {}
    // SAFETY: the mutex owns its value.
    unsafe impl<T: Send> Send for Mutex<T> {}

    impl<T> fmt::Debug for Mutex<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Mutex")
                .field("locked", &self.locked.load(Ordering::Relaxed))
                .finish_non_exhaustive()
        }
    }

    /// Exclusive access to the value until dropped.
    pub(crate) struct MutexGuard<'a, T> {
        lock: &'a Mutex<T>,
    }

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }

        #[inline]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            if self.locked.swap(true, Ordering::Acquire) {
                self.lock_contended();
            }
            MutexGuard { lock: self }
        }

        #[cold]
        fn lock_contended(&self) {
            let mut spins = 0u32;
            loop {
                while self.locked.load(Ordering::Relaxed) {
                    if spins < 64 {
                        spins += 1;
                        std::hint::spin_loop();
                    } else {
                        // The holder was preempted: let it run.
                        std::thread::yield_now();
                    }
                }
                if !self.locked.swap(true, Ordering::Acquire) {
                    return;
                }
            }
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        #[inline]
        fn deref(&self) -> &T {
            // SAFETY: the guard exists only while this thread holds the lock.
            unsafe { &*self.lock.value.get() }
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        #[inline]
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: the guard exists only while this thread holds the lock, and `&mut self`
            // makes this the only reference through it.
            unsafe { &mut *self.lock.value.get() }
        }
    }

    impl<T> Drop for MutexGuard<'_, T> {
        #[inline]
        fn drop(&mut self) {
            self.lock.locked.store(false, Ordering::Release);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Mutex;

        #[test]
        fn counts_exactly_under_contention() {
            let m = Mutex::new(0u64);
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        for _ in 0..100_000 {
                            *m.lock() += 1;
                        }
                    });
                }
            });
            assert_eq!(*m.lock(), 400_000);
        }
    }
}

#[cfg(fusebox_loom)]
mod loom_mutex {
    /// loom's mutex behind the same interface.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }
}
