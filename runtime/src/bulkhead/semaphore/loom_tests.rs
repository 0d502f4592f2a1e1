//! Model checks of the semaphore's fast path against its slow path with loom: every
//! interleaving of a release, an acquirer joining the queue, and a waiter dropped while a
//! permit is handed to it. A lost wake-up shows as a deadlock (loom fails the model), a lost or
//! duplicated permit in the final counts.
//!
//! ```text
//! RUSTFLAGS="--cfg fusebox_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p fusebox-runtime --no-default-features --lib bulkhead::semaphore --release
//! ```

use super::*;
use loom::sync::Arc;
use loom::thread;

fn held(fair: bool) -> Arc<Semaphore> {
    let s = Arc::new(Semaphore::new(1, fair));
    assert!(s.try_acquire());
    s
}

/// The permit's release (one `fetch_add`) races a second caller that finds no permit and joins
/// the queue: whatever the order, the caller gets the permit (no lost wake-up) and gives it
/// back, and the semaphore ends with one free permit and nobody waiting.
#[test]
fn a_release_racing_an_acquirer_joining_the_queue_is_never_lost() {
    for fair in [true, false] {
        loom::model(move || {
            let s = held(fair);
            let acquirer = {
                let s = s.clone();
                thread::spawn(move || {
                    loom::future::block_on(s.acquire(1));
                    s.release(1);
                })
            };
            s.release(1);
            acquirer.join().unwrap();
            assert_eq!(s.available(), 1);
            assert_eq!(s.state.load(Relaxed) & WAITERS, 0);
            assert_eq!(s.waiting(), 0);
        });
    }
}

/// A waiter that joined the queue is dropped while the release hands it the permit (or after,
/// or before): the permit is passed on, never lost nor doubled.
#[test]
fn a_waiter_dropped_while_its_permit_is_handed_over_passes_it_on() {
    for fair in [true, false] {
        loom::model(move || {
            let s = held(fair);
            let mut waiting = s.acquire(1);
            let noop = Waker::noop();
            assert_eq!(
                Pin::new(&mut waiting).poll(&mut Context::from_waker(noop)),
                Poll::Pending
            );
            let releaser = {
                let s = s.clone();
                thread::spawn(move || s.release(1))
            };
            drop(waiting);
            releaser.join().unwrap();
            assert_eq!(s.available(), 1);
            assert_eq!(
                s.state.load(Relaxed),
                ONE,
                "one free permit, no waiters bit"
            );
            assert_eq!(s.waiting(), 0);
        });
    }
}

/// Two waiters, the first dropped while the release runs: the second always ends up with the
/// permit (handed on by the drop, or directly), and gives it back.
#[test]
fn a_dropped_first_waiter_hands_on_to_the_second() {
    for fair in [true, false] {
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(3);
        model.check(move || {
            let s = held(fair);
            let noop = Waker::noop();
            let mut first = s.acquire(1);
            assert_eq!(
                Pin::new(&mut first).poll(&mut Context::from_waker(noop)),
                Poll::Pending
            );
            let second = {
                let s = s.clone();
                thread::spawn(move || {
                    loom::future::block_on(s.acquire(1));
                    s.release(1);
                })
            };
            let releaser = {
                let s = s.clone();
                thread::spawn(move || s.release(1))
            };
            drop(first);
            releaser.join().unwrap();
            second.join().unwrap();
            assert_eq!(s.available(), 1);
            assert_eq!(s.state.load(Relaxed), ONE);
            assert_eq!(s.waiting(), 0);
        });
    }
}

/// Fast-path acquirers race a waiter and a release: never more holders than permits, every
/// permit back at the end.
#[test]
fn fast_path_acquirers_and_a_waiter_never_exceed_the_permit() {
    for fair in [true, false] {
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(3);
        model.check(move || {
            let s = held(fair);
            let holders = Arc::new(loom::sync::atomic::AtomicU32::new(1));
            let take = |s: &Semaphore, holders: &loom::sync::atomic::AtomicU32| {
                let now = holders.fetch_add(1, AcqRel) + 1;
                assert!(now <= 1, "{now} holders of one permit");
                holders.fetch_sub(1, AcqRel);
                s.release(1);
            };
            let trier = {
                let (s, holders) = (s.clone(), holders.clone());
                thread::spawn(move || {
                    if s.try_acquire() {
                        take(&s, &holders);
                    }
                })
            };
            let waiter = {
                let (s, holders) = (s.clone(), holders.clone());
                thread::spawn(move || {
                    loom::future::block_on(s.acquire(1));
                    take(&s, &holders);
                })
            };
            holders.fetch_sub(1, AcqRel);
            s.release(1);
            trier.join().unwrap();
            waiter.join().unwrap();
            assert_eq!(s.available(), 1);
            assert_eq!(s.state.load(Relaxed), ONE);
        });
    }
}
