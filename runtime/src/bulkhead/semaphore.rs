//! [`Semaphore`]: the bulkhead's slots, a counting semaphore written for it.
//!
//! Why not `tokio::sync::Semaphore`: tokio's semaphore takes its waiter-list mutex on every
//! release, even when nobody waits, so the uncontended acquire + release of a bulkhead cost a
//! lock round trip; and it is always fair, with no way to have Java's non-fair
//! `Semaphore.tryAcquire(timeout)`, which Resilience4j uses when
//! `fairCallHandlingStrategyEnabled` is false. This one:
//!
//! - keeps the free permits and a "waiters present" bit in one atomic word. When nobody waits,
//!   [`try_acquire`](Semaphore::try_acquire) is one compare-and-swap and
//!   [`release`](Semaphore::release) one `fetch_add`: no lock;
//! - queues waiting acquires (their wakers) first in, first out behind a mutex, entered only
//!   when no permit is free or someone already waits. The bit is set while the queue is not
//!   empty (both change under the mutex), so a release that finds it set takes the slow path;
//! - **fair** (Java's fair semaphore): a new acquire never takes a permit while anyone waits,
//!   and a release hands its permit directly to the first waiter (partly, for a waiter that
//!   needs several: it keeps what it got at the head of the queue);
//! - **non-fair** (Java's non-fair semaphore): a new acquire takes a free permit even when others
//!   wait (barging); a release puts the permit back and wakes the first waiter, which takes it if
//!   it is still free when it runs, or waits on at the head of the queue;
//! - is cancellation-safe: dropping a waiting [`Acquire`] removes its queue entry and gives back
//!   what was handed to it, which the next waiter gets; a permit is never lost.
//!
//! Permits live in the word's upper 63 bits (the bulkhead's `u32` limit fits with room to
//! spare).

use crate::sync::{AtomicU64, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire as Acq, Relaxed};
use std::task::{Context, Poll, Waker};

/// The "waiters present" bit of the state word; the permits are the bits above it.
const WAITERS: u64 = 1;
/// One permit in the state word.
const ONE: u64 = 2;

/// A counting semaphore with a lock-free fast path and a FIFO queue of waiters, fair or not
/// (see the module doc).
pub(crate) struct Semaphore {
    /// `free permits << 1 | WAITERS`.
    state: AtomicU64,
    /// The bits of `state` that forbid a new acquire to take a free permit: [`WAITERS`] when
    /// fair (nobody overtakes a waiter), 0 when not.
    barrier: u64,
    queue: Mutex<Queue>,
}

/// The waiting acquires, oldest first, and the id the next one gets.
#[derive(Default)]
struct Queue {
    waiters: VecDeque<Waiter>,
    next_id: u64,
}

/// One waiting acquire.
struct Waiter {
    /// Increasing in queue order (the queue is sorted by it).
    id: u64,
    /// Permits it waits for, and how many of them it was handed already.
    needed: u64,
    handed: u64,
    /// Woken when it is handed all it needs (fair) or a permit is released (non-fair, head).
    waker: Option<Waker>,
}

impl Queue {
    fn position(&self, id: u64) -> Option<usize> {
        self.waiters.binary_search_by_key(&id, |w| w.id).ok()
    }
}

/// Wakers collected under the lock and woken after it is released (a few at a time).
struct Wakeups {
    wakers: [Option<Waker>; 4],
    len: usize,
}

impl Wakeups {
    fn new() -> Self {
        Self {
            wakers: [None, None, None, None],
            len: 0,
        }
    }

    fn is_full(&self) -> bool {
        self.len == self.wakers.len()
    }

    fn push(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            self.wakers[self.len] = Some(w);
            self.len += 1;
        }
    }

    fn wake_all(&mut self) {
        for w in &mut self.wakers[..self.len] {
            if let Some(w) = w.take() {
                w.wake();
            }
        }
        self.len = 0;
    }
}

impl Semaphore {
    /// `permits` free permits; `fair` as Java's `new Semaphore(permits, fair)`.
    pub(crate) fn new(permits: u32, fair: bool) -> Self {
        Self {
            state: AtomicU64::new(u64::from(permits) * ONE),
            barrier: if fair { WAITERS } else { 0 },
            queue: Mutex::new(Queue::default()),
        }
    }

    fn fair(&self) -> bool {
        self.barrier != 0
    }

    /// Free permits now (Resilience4j's `availablePermits`).
    pub(crate) fn available(&self) -> u64 {
        self.state.load(Relaxed) / ONE
    }

    /// Takes a permit if one is free and (when fair) nobody waits; never waits. One CAS.
    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        let mut s = self.state.load(Relaxed);
        loop {
            if s < ONE || s & self.barrier != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(s, s - ONE, Acq, Relaxed) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// Gives back `n` permits. One `fetch_add` when nobody waits; otherwise they go to the first
    /// waiters (fair) or the first waiter is woken to take them (non-fair).
    #[inline]
    pub(crate) fn release(&self, n: u64) {
        if n == 0 {
            return;
        }
        let before = self.state.fetch_add(n * ONE, AcqRel);
        if before & WAITERS != 0 {
            self.release_to_waiters();
        }
    }

    /// A wait for `n` permits, in the queue from its first poll (when they are not free at
    /// once). Dropping it before it completes gives back whatever it was handed.
    pub(crate) fn acquire(&self, n: u64) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            needed: n,
            state: AcquireState::Start,
        }
    }

    #[cold]
    #[inline(never)]
    fn release_to_waiters(&self) {
        let mut wakeups = Wakeups::new();
        loop {
            let mut queue = self.queue.lock();
            let more = if self.fair() {
                self.hand_over(&mut queue, &mut wakeups)
            } else {
                self.wake_head(&queue, &mut wakeups);
                false
            };
            drop(queue);
            wakeups.wake_all();
            if !more {
                return;
            }
        }
    }

    /// Fair: moves free permits to the waiters, first first; a waiter handed all it needs leaves
    /// the queue and is woken. Returns true if it stopped because `wakeups` is full (call again
    /// after waking them).
    fn hand_over(&self, queue: &mut MutexGuard<'_, Queue>, wakeups: &mut Wakeups) -> bool {
        while let Some(head) = queue.waiters.front_mut() {
            if wakeups.is_full() {
                return true;
            }
            let taken = self.take_up_to(head.needed - head.handed);
            if taken == 0 {
                return false;
            }
            head.handed += taken;
            if head.handed < head.needed {
                return false;
            }
            let waker = head.waker.take();
            queue.waiters.pop_front();
            if queue.waiters.is_empty() {
                self.state.fetch_and(!WAITERS, Relaxed);
            }
            wakeups.push(waker);
        }
        false
    }

    /// Non-fair: wakes the first waiter to try for the free permits, if there are any.
    fn wake_head(&self, queue: &Queue, wakeups: &mut Wakeups) {
        if self.available() > 0
            && let Some(head) = queue.waiters.front()
            && let Some(w) = &head.waker
        {
            wakeups.push(Some(w.clone()));
        }
    }

    /// Takes up to `want` free permits (ignoring the waiters bit, which is kept); how many.
    fn take_up_to(&self, want: u64) -> u64 {
        let mut s = self.state.load(Relaxed);
        loop {
            let taken = (s / ONE).min(want);
            if taken == 0 {
                return 0;
            }
            match self
                .state
                .compare_exchange_weak(s, s - taken * ONE, Acq, Relaxed)
            {
                Ok(_) => return taken,
                Err(now) => s = now,
            }
        }
    }

    /// The first poll of a wait: takes the permits if the rules allow, else joins the queue.
    /// `Some(id)` when queued.
    fn enqueue(&self, needed: u64, waker: &Waker) -> Option<u64> {
        let mut queue = self.queue.lock();
        let empty = queue.waiters.is_empty();
        let mut s = self.state.load(Relaxed);
        let handed = loop {
            let free = s / ONE;
            // When the queue is empty, the bit is clear: the fast path's rules apply.
            if (empty || !self.fair()) && free >= needed {
                match self
                    .state
                    .compare_exchange_weak(s, s - needed * ONE, Acq, Relaxed)
                {
                    Ok(_) => return None,
                    Err(now) => s = now,
                }
                continue;
            }
            if !empty {
                // The bit is set already; a later release finds it.
                break 0;
            }
            // First in the queue: take what is free (less than needed) and set the bit in one
            // step, so that a release from now on takes the slow path (and waits for this
            // lock, so it finds this waiter queued).
            match self.state.compare_exchange_weak(s, WAITERS, Acq, Relaxed) {
                Ok(_) => break free,
                Err(now) => s = now,
            }
        };
        let id = queue.next_id;
        queue.next_id += 1;
        queue.waiters.push_back(Waiter {
            id,
            needed,
            handed,
            waker: Some(waker.clone()),
        });
        Some(id)
    }

    /// A later poll of the queued wait `id`: true once it has all it needs (and left the queue).
    fn poll_queued(&self, id: u64, waker: &Waker) -> bool {
        let mut queue = self.queue.lock();
        let Some(at) = queue.position(id) else {
            // Only a full handover (or its own drop) takes a waiter out of the queue.
            return true;
        };
        if !self.fair() && at == 0 {
            let head = &mut queue.waiters[0];
            head.handed += self.take_up_to(head.needed - head.handed);
            if head.handed == head.needed {
                queue.waiters.pop_front();
                let mut wakeups = Wakeups::new();
                self.after_leaving(&mut queue, &mut wakeups);
                drop(queue);
                wakeups.wake_all();
                return true;
            }
        }
        let entry = &mut queue.waiters[at];
        match &mut entry.waker {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        false
    }

    /// The queued wait `id` is dropped: out of the queue, and what it was handed goes on.
    fn cancel(&self, id: u64, needed: u64) {
        let mut queue = self.queue.lock();
        let Some(at) = queue.position(id) else {
            // Handed everything it needed, and dropped before it saw so: pass it on.
            drop(queue);
            self.release(needed);
            return;
        };
        if let Some(gone) = queue.waiters.remove(at)
            && gone.handed > 0
        {
            self.state.fetch_add(gone.handed * ONE, AcqRel);
        }
        let mut wakeups = Wakeups::new();
        let mut more = self.after_leaving(&mut queue, &mut wakeups);
        drop(queue);
        wakeups.wake_all();
        while more {
            let mut queue = self.queue.lock();
            more = self.hand_over(&mut queue, &mut wakeups);
            drop(queue);
            wakeups.wake_all();
        }
    }

    /// A waiter left the queue: clear the bit if it is empty, else let the next ones have what is
    /// free (fair: hand over; non-fair: wake the head). True if `wakeups` filled up first.
    fn after_leaving(&self, queue: &mut MutexGuard<'_, Queue>, wakeups: &mut Wakeups) -> bool {
        if queue.waiters.is_empty() {
            self.state.fetch_and(!WAITERS, Relaxed);
            false
        } else if self.fair() {
            self.hand_over(queue, wakeups)
        } else {
            self.wake_head(queue, wakeups);
            false
        }
    }

    /// How many acquires wait now.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.queue.lock().waiters.len()
    }
}

/// A wait for permits ([`Semaphore::acquire`]): completes when it holds them (the caller then
/// owns them and gives them back with [`Semaphore::release`]). Dropped before that, it leaves the
/// queue and passes on whatever it was handed.
#[must_use = "a wait does nothing unless polled"]
pub(crate) struct Acquire<'a> {
    semaphore: &'a Semaphore,
    needed: u64,
    state: AcquireState,
}

enum AcquireState {
    Start,
    Queued(u64),
    Done,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let done = match this.state {
            AcquireState::Start => {
                if this.needed == 0 || this.needed == 1 && this.semaphore.try_acquire() {
                    true
                } else {
                    match this.semaphore.enqueue(this.needed, cx.waker()) {
                        None => true,
                        Some(id) => {
                            this.state = AcquireState::Queued(id);
                            false
                        }
                    }
                }
            }
            AcquireState::Queued(id) => this.semaphore.poll_queued(id, cx.waker()),
            AcquireState::Done => true,
        };
        if done {
            this.state = AcquireState::Done;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let AcquireState::Queued(id) = self.state {
            self.semaphore.cancel(id, self.needed);
        }
    }
}

#[cfg(all(test, not(fusebox_loom)))]
mod tests;

#[cfg(all(test, fusebox_loom))]
mod loom_tests;
