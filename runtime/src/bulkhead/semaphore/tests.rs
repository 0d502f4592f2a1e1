//! The semaphore's own tests: fast path, FIFO handover, fairness and barging, cancellation
//! with and without a handed permit, timeouts, and many tasks at once.

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::task::Wake;
use std::time::Duration;

/// A waker that counts its wakes.
#[derive(Default)]
struct Count(AtomicU32);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting() -> (Arc<Count>, Waker) {
    let c = Arc::new(Count::default());
    (c.clone(), Waker::from(c))
}

fn poll(f: &mut Acquire<'_>, w: &Waker) -> Poll<()> {
    Pin::new(f).poll(&mut Context::from_waker(w))
}

#[test]
fn the_fast_path_takes_and_gives_back_without_the_queue() {
    let s = Semaphore::new(2, true);
    assert!(s.try_acquire() && s.try_acquire());
    assert!(!s.try_acquire());
    assert_eq!(s.available(), 0);
    s.release(1);
    assert_eq!(s.available(), 1);
    assert_eq!(s.state.load(SeqCst) & WAITERS, 0);
    s.release(1);
    assert_eq!(s.available(), 2);
    // An acquire that finds a free permit completes on its first poll, never queued.
    let (_, w) = counting();
    let mut a = s.acquire(1);
    assert_eq!(poll(&mut a, &w), Poll::Ready(()));
    assert_eq!(s.waiting(), 0);
    assert_eq!(s.available(), 1);
    let empty = Semaphore::new(0, true);
    let mut zero = empty.acquire(0);
    assert_eq!(poll(&mut zero, &w), Poll::Ready(()));
}

#[test]
fn a_release_hands_the_permit_to_the_first_waiter_in_order() {
    let s = Semaphore::new(1, true);
    assert!(s.try_acquire());
    let wakers: Vec<_> = (0..3).map(|_| counting()).collect();
    let mut waits: Vec<_> = (0..3).map(|_| s.acquire(1)).collect();
    for (a, (_, w)) in waits.iter_mut().zip(&wakers) {
        assert_eq!(poll(a, w), Poll::Pending);
    }
    assert_eq!(s.waiting(), 3);
    assert_ne!(s.state.load(SeqCst) & WAITERS, 0);
    for i in 0..3 {
        s.release(1);
        // Handed over: not free, the waiter woken and out of the queue.
        assert_eq!(s.available(), 0);
        assert_eq!(wakers[i].0.0.load(SeqCst), 1, "waiter {i} woken");
        for later in &wakers[i + 1..] {
            assert_eq!(later.0.0.load(SeqCst), 0);
        }
        assert_eq!(poll(&mut waits[i], &wakers[i].1), Poll::Ready(()));
        assert_eq!(s.waiting(), 2 - i);
    }
    assert_eq!(
        s.state.load(SeqCst) & WAITERS,
        0,
        "the bit goes with the last waiter"
    );
    s.release(1);
    assert_eq!(s.available(), 1);
}

#[test]
fn fair_a_new_acquire_never_overtakes_a_waiter() {
    let s = Semaphore::new(2, true);
    assert!(s.try_acquire() && s.try_acquire());
    // A waiter for two (the bulkhead's shrink) is handed one permit and keeps it.
    let (_, w) = counting();
    let mut two = s.acquire(2);
    assert_eq!(poll(&mut two, &w), Poll::Pending);
    s.release(1);
    assert_eq!(s.available(), 0);
    assert!(!s.try_acquire());
    let mut one = s.acquire(1);
    assert_eq!(poll(&mut one, &w), Poll::Pending, "queued behind");
    s.release(1);
    assert_eq!(poll(&mut two, &w), Poll::Ready(()));
    assert_eq!(poll(&mut one, &w), Poll::Pending);
    s.release(1);
    assert_eq!(poll(&mut one, &w), Poll::Ready(()));
    // Even a permit free for an instant (a release about to hand it over) is not taken while
    // the bit is set.
    let s = Semaphore::new(0, true);
    let mut waiting = s.acquire(1);
    assert_eq!(poll(&mut waiting, &w), Poll::Pending);
    s.state.fetch_add(ONE, SeqCst);
    assert!(!s.try_acquire());
}

#[test]
fn non_fair_a_new_acquire_takes_a_permit_the_woken_waiter_has_not_taken_yet() {
    let s = Semaphore::new(1, false);
    assert!(s.try_acquire());
    let (woken, w) = counting();
    let mut waiting = s.acquire(1);
    assert_eq!(poll(&mut waiting, &w), Poll::Pending);
    // Released: free, and the first waiter woken to take it; a new caller barges in first
    // (Java's non-fair `tryAcquire`).
    s.release(1);
    assert_eq!(s.available(), 1);
    assert_eq!(woken.0.load(SeqCst), 1);
    assert!(s.try_acquire());
    // The woken waiter finds nothing and waits on, still first.
    assert_eq!(poll(&mut waiting, &w), Poll::Pending);
    let (later_woken, lw) = counting();
    let mut later = s.acquire(1);
    assert_eq!(poll(&mut later, &lw), Poll::Pending);
    s.release(1);
    assert_eq!(woken.0.load(SeqCst), 2);
    assert_eq!(later_woken.0.load(SeqCst), 0);
    // The later waiter is polled first but is not the head: it does not take the permit.
    assert_eq!(poll(&mut later, &lw), Poll::Pending);
    assert_eq!(poll(&mut waiting, &w), Poll::Ready(()));
    assert_eq!(s.available(), 0);
    s.release(1);
    assert_eq!(later_woken.0.load(SeqCst), 1);
    assert_eq!(poll(&mut later, &lw), Poll::Ready(()));
    assert_eq!(s.state.load(SeqCst), 0, "no permit free, nobody waits");
}

#[test]
fn non_fair_a_woken_waiter_dropped_wakes_the_next() {
    let s = Semaphore::new(1, false);
    assert!(s.try_acquire());
    let (_, w) = counting();
    let (next_woken, nw) = counting();
    let mut first = s.acquire(1);
    let mut next = s.acquire(1);
    assert_eq!(poll(&mut first, &w), Poll::Pending);
    assert_eq!(poll(&mut next, &nw), Poll::Pending);
    s.release(1);
    assert_eq!(next_woken.0.load(SeqCst), 0);
    drop(first);
    assert_eq!(next_woken.0.load(SeqCst), 1, "the wake-up is passed on");
    assert_eq!(poll(&mut next, &nw), Poll::Ready(()));
    assert_eq!(s.state.load(SeqCst), 0);
}

#[test]
fn a_dropped_waiter_leaves_the_queue_and_takes_nothing() {
    for fair in [true, false] {
        let s = Semaphore::new(1, fair);
        assert!(s.try_acquire());
        let (_, w) = counting();
        let mut gone = s.acquire(1);
        let mut stays = s.acquire(1);
        assert_eq!(poll(&mut gone, &w), Poll::Pending);
        assert_eq!(poll(&mut stays, &w), Poll::Pending);
        drop(gone);
        assert_eq!(s.waiting(), 1);
        s.release(1);
        assert_eq!(poll(&mut stays, &w), Poll::Ready(()), "fair: {fair}");
        s.release(1);
        assert_eq!((s.available(), s.waiting()), (1, 0));
        assert_eq!(s.state.load(SeqCst) & WAITERS, 0);
    }
}

#[test]
fn a_waiter_dropped_after_its_permit_was_handed_passes_it_on() {
    let s = Semaphore::new(1, true);
    assert!(s.try_acquire());
    let (_, w) = counting();
    let (next_woken, nw) = counting();
    let mut handed = s.acquire(1);
    let mut next = s.acquire(1);
    assert_eq!(poll(&mut handed, &w), Poll::Pending);
    assert_eq!(poll(&mut next, &nw), Poll::Pending);
    s.release(1);
    // Handed to the first, which is dropped before it sees so: the next gets it.
    drop(handed);
    assert_eq!(next_woken.0.load(SeqCst), 1);
    assert_eq!(poll(&mut next, &nw), Poll::Ready(()));
    // And with nobody behind, it goes back to the free permits.
    let mut last = s.acquire(1);
    assert_eq!(poll(&mut last, &w), Poll::Pending);
    s.release(1);
    drop(last);
    assert_eq!((s.available(), s.waiting()), (1, 0));
    assert_eq!(s.state.load(SeqCst) & WAITERS, 0);
}

#[test]
fn a_multi_permit_waiter_dropped_gives_back_what_it_was_handed() {
    let s = Semaphore::new(3, true);
    for _ in 0..3 {
        assert!(s.try_acquire());
    }
    let (_, w) = counting();
    let mut three = s.acquire(3);
    let mut one = s.acquire(1);
    assert_eq!(poll(&mut three, &w), Poll::Pending);
    assert_eq!(poll(&mut one, &w), Poll::Pending);
    s.release(2);
    assert_eq!(s.available(), 0, "both handed to the first waiter");
    drop(three);
    // One goes on to the waiter behind, one is free.
    assert_eq!(poll(&mut one, &w), Poll::Ready(()));
    assert_eq!((s.available(), s.waiting()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_wait_under_a_timeout_ends_with_a_permit_or_leaves_the_queue() {
    let s = Arc::new(Semaphore::new(1, true));
    assert!(s.try_acquire());
    let started = tokio::time::Instant::now();
    let timed_out = tokio::time::timeout(Duration::from_millis(50), s.acquire(1)).await;
    assert!(timed_out.is_err());
    assert_eq!(started.elapsed(), Duration::from_millis(50));
    assert_eq!(s.waiting(), 0);
    let released = {
        let s = s.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.release(1);
        })
    };
    let got = tokio::time::timeout(Duration::from_millis(50), s.acquire(1)).await;
    assert!(got.is_ok());
    assert_eq!(started.elapsed(), Duration::from_millis(70));
    released.await.unwrap();
    assert_eq!(s.available(), 0);
    s.release(1);
    assert_eq!(s.available(), 1);
}

/// Many tasks on two threads take and give back permits through every path (fast, queued,
/// timed out, cancelled): never more holders than permits, and all permits back at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_never_exceed_the_permits_and_lose_none() {
    for fair in [true, false] {
        const PERMITS: u32 = 3;
        let s = Arc::new(Semaphore::new(PERMITS, fair));
        let inside = Arc::new(AtomicU32::new(0));
        let most = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for t in 0..48u32 {
            let (s, inside, most) = (s.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..200u32 {
                    let got = match (t + i) % 4 {
                        0 => s.try_acquire(),
                        1 => tokio::time::timeout(Duration::from_micros(50), s.acquire(1))
                            .await
                            .is_ok(),
                        _ => {
                            s.acquire(1).await;
                            true
                        }
                    };
                    if got {
                        let now = inside.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        tokio::task::yield_now().await;
                        inside.fetch_sub(1, SeqCst);
                        s.release(1);
                    }
                }
            }));
        }
        // Some waits cancelled mid-queue.
        for _ in 0..32 {
            let cancelled = {
                let s = s.clone();
                tokio::spawn(async move { s.acquire(1).await })
            };
            tokio::task::yield_now().await;
            cancelled.abort();
            if cancelled.await.is_ok() {
                // It got its permit before the abort: give it back.
                s.release(1);
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(most.load(SeqCst) <= PERMITS, "fair: {fair}");
        assert!(most.load(SeqCst) >= 1);
        assert_eq!(s.available(), u64::from(PERMITS), "fair: {fair}");
        assert_eq!(s.waiting(), 0);
        assert_eq!(s.state.load(SeqCst) & WAITERS, 0);
    }
}
