//! The synchronisation primitives the breaker's state machine and the rate limiter's state use:
//! std atomics and a `parking_lot` mutex normally, loom's under `--cfg fusebox_loom` so that a
//! model checker can explore every interleaving of permits, records and transitions
//! (`runtime/tests/loom.rs`, `rate_limiter/state/loom_tests.rs`).

#[cfg(not(fusebox_loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicU8, AtomicU32, AtomicU64,
};

#[cfg(fusebox_loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicU8, AtomicU32, AtomicU64,
};

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
// Owned shards are one bit each in a `u32` (and open lines in `breaker/batch.rs`).
const _: () = assert!(MAX_SHARDS < 32);

/// [`thread_slot`] of a thread that shares its shard: this bit plus the shard index.
const SHARED: usize = 1 << (usize::BITS - 2);
/// [`thread_slot`] of a thread that has not asked yet.
const UNASSIGNED: usize = usize::MAX;

/// This thread's shard index, below [`shard_count`]: the same for every breaker, for the
/// thread's whole life. One thread-local load once assigned.
#[inline(always)]
pub(crate) fn shard_index() -> usize {
    let slot = thread_slot();
    let slot = if slot != UNASSIGNED { slot } else { assign() };
    slot & !SHARED
}

/// This thread's shard index once assigned, [`UNASSIGNED`] before ([`shard_index`] assigns):
/// one thread-local load, no test, so that a caller's bounds check covers both (a line index
/// past the end: not assigned yet).
#[inline(always)]
pub(crate) fn line_index() -> usize {
    thread_index()
}

/// This thread's shard index if the thread *owns* that shard (no other live thread of the
/// process uses it, so counters in it have one writer and need no atomic read-modify-write);
/// otherwise a value at or above [`MAX_SHARDS`] (the thread shares its shard, or has not been
/// assigned one yet: [`shard_index`] assigns). One thread-local load.
#[inline(always)]
pub(crate) fn owned_shard() -> usize {
    thread_slot()
}

#[cfg(not(fusebox_loom))]
mod slots {
    use super::{SHARED, UNASSIGNED};
    use std::cell::Cell;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

    /// The shards owned by live threads, one bit each.
    static OWNED: AtomicU32 = AtomicU32::new(0);
    /// The next shard handed to a thread that finds every shard owned (round robin).
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static COUNT: OnceLock<usize> = OnceLock::new();

    std::thread_local! {
        /// This thread's slot: its shard index (owned), `SHARED | index` (shared), or
        /// `UNASSIGNED`. No destructor, so it can be read while the thread exits.
        static SLOT: Cell<usize> = const { Cell::new(UNASSIGNED) };
        /// This thread's shard index (owned or shared), or `UNASSIGNED`.
        static INDEX: Cell<usize> = const { Cell::new(UNASSIGNED) };
        /// The shard this thread owns, given back when the thread exits.
        static OWNER: Owner = const { Owner(Cell::new(UNASSIGNED)) };
    }

    struct Owner(Cell<usize>);

    impl Drop for Owner {
        fn drop(&mut self) {
            let i = self.0.get();
            if i == UNASSIGNED {
                return;
            }
            // Whatever this thread still records while it exits (other thread-locals'
            // destructors) shares the shard from now on.
            SLOT.set(SHARED | i);
            // Release: the next owner's claim (Acquire) sees every write this thread made to
            // the shard's single-writer counters.
            OWNED.fetch_and(!(1 << i), Ordering::Release);
        }
    }

    /// How many shards every breaker of this process has: the number of CPUs rounded up to a
    /// power of two, from 4 to [`MAX_SHARDS`](super::MAX_SHARDS) (at least 4, so that the main
    /// thread and a runtime's workers each own one on a small machine).
    pub(crate) fn shard_count() -> usize {
        *COUNT.get_or_init(|| {
            std::thread::available_parallelism()
                .map_or(4, |n| n.get())
                .next_power_of_two()
                .clamp(4, super::MAX_SHARDS)
        })
    }

    #[inline(always)]
    pub(super) fn thread_slot() -> usize {
        SLOT.get()
    }

    #[inline(always)]
    pub(super) fn thread_index() -> usize {
        INDEX.get()
    }

    /// Claims the lowest shard no live thread owns, or shares one (round robin) when all are
    /// owned or the thread is exiting.
    #[cold]
    pub(super) fn assign() -> usize {
        let count = shard_count();
        let all = (1u32 << count) - 1;
        let owned = OWNER
            .try_with(|owner| {
                let mut bits = OWNED.load(Ordering::Relaxed);
                loop {
                    let free = !bits & all;
                    if free == 0 {
                        return None;
                    }
                    let i = free.trailing_zeros() as usize;
                    // Acquire: pairs with the previous owner's release of the shard.
                    match OWNED.compare_exchange_weak(
                        bits,
                        bits | 1 << i,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => {
                            owner.0.set(i);
                            return Some(i);
                        }
                        Err(now) => bits = now,
                    }
                }
            })
            .ok()
            .flatten();
        let slot =
            owned.unwrap_or_else(|| SHARED | (NEXT.fetch_add(1, Ordering::Relaxed) & (count - 1)));
        SLOT.set(slot);
        INDEX.set(slot & !SHARED);
        slot
    }
}

#[cfg(fusebox_loom)]
mod slots {
    use super::{SHARED, UNASSIGNED};
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use std::cell::Cell;

    loom::lazy_static! {
        /// Reset for every execution of a model, so that executions stay deterministic.
        static ref NEXT: AtomicUsize = AtomicUsize::new(0);
    }
    loom::thread_local! {
        static SLOT: Cell<usize> = Cell::new(UNASSIGNED);
        static INDEX: Cell<usize> = Cell::new(UNASSIGNED);
    }

    /// Two shards under loom: the first two threads that record own one each, a third shares
    /// one, so that owned and shared shards are both explored. (A model's threads never give
    /// their shard back.)
    pub(crate) fn shard_count() -> usize {
        2
    }

    pub(super) fn thread_slot() -> usize {
        SLOT.with(Cell::get)
    }

    pub(super) fn thread_index() -> usize {
        INDEX.with(Cell::get)
    }

    pub(super) fn assign() -> usize {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let slot = if n < 2 { n } else { SHARED | (n & 1) };
        SLOT.with(|s| s.set(slot));
        INDEX.with(|s| s.set(slot & !SHARED));
        slot
    }
}

pub(crate) use slots::shard_count;
use slots::{assign, thread_index, thread_slot};
