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

    /// Whether some thread holds the lock now (a hint: it may change at once). Under loom, a
    /// `try_lock` that releases at once, so that the model explores both answers.
    #[inline]
    pub(crate) fn is_locked(&self) -> bool {
        #[cfg(not(fusebox_loom))]
        return self.0.is_locked();
        #[cfg(fusebox_loom)]
        return matches!(self.0.try_lock(), Err(std::sync::TryLockError::WouldBlock));
    }
}

/// One step of a bounded wait for another thread: a CPU spin hint normally, a yield under loom
/// (which must be told that the thread waits for another).
#[inline]
pub(crate) fn spin_wait() {
    #[cfg(not(fusebox_loom))]
    std::hint::spin_loop();
    #[cfg(fusebox_loom)]
    loom::thread::yield_now();
}

/// How many [`spin_wait`] steps a stray batched success waits for the lock holder that closed
/// its line to reopen it (`breaker/hot_path.rs`). Two under loom, enough to explore a wait
/// that succeeds and one that gives up.
#[cfg(not(fusebox_loom))]
pub(crate) const STRAY_SPINS: u32 = 128;
#[cfg(fusebox_loom)]
pub(crate) const STRAY_SPINS: u32 = 2;

/// The most shards a breaker splits its per-thread counters into (see `breaker/shards.rs`).
#[cfg_attr(fusebox_loom, allow(dead_code))]
pub(crate) const MAX_SHARDS: usize = 16;

#[cfg(not(fusebox_loom))]
mod shard_index {
    use std::cell::Cell;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The next index handed to a thread (round robin, so that the first threads of a process
    /// get distinct shards).
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static COUNT: OnceLock<usize> = OnceLock::new();

    std::thread_local! {
        /// This thread's shard, already reduced modulo the shard count; `usize::MAX` until
        /// first used.
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }

    /// How many shards every breaker of this process has: the number of CPUs rounded up to a
    /// power of two, from 2 to [`MAX_SHARDS`](super::MAX_SHARDS).
    pub(crate) fn shard_count() -> usize {
        *COUNT.get_or_init(|| {
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .next_power_of_two()
                .clamp(2, super::MAX_SHARDS)
        })
    }

    /// This thread's shard index, below [`shard_count`]: one thread-local load once assigned.
    #[inline(always)]
    pub(crate) fn shard_index() -> usize {
        let i = INDEX.get();
        if i != usize::MAX { i } else { assign() }
    }

    #[cold]
    fn assign() -> usize {
        let i = NEXT.fetch_add(1, Ordering::Relaxed) & (shard_count() - 1);
        INDEX.set(i);
        i
    }
}

#[cfg(fusebox_loom)]
mod shard_index {
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use std::cell::Cell;

    loom::lazy_static! {
        /// Reset for every execution of a model, so that executions stay deterministic.
        static ref NEXT: AtomicUsize = AtomicUsize::new(0);
    }
    loom::thread_local! {
        static INDEX: Cell<usize> = Cell::new(usize::MAX);
    }

    /// Two shards under loom: three threads share them, so both a shared and an own shard
    /// are explored.
    pub(crate) fn shard_count() -> usize {
        2
    }

    pub(crate) fn shard_index() -> usize {
        INDEX.with(|index| {
            let i = index.get();
            if i != usize::MAX {
                return i;
            }
            let i = NEXT.fetch_add(1, Ordering::Relaxed) & 1;
            index.set(i);
            i
        })
    }
}

pub(crate) use shard_index::{shard_count, shard_index};
