//! Model checks of the rate limiter's lock-free state ([`AtomicState`]) with loom: every
//! interleaving of two threads taking permits in one cycle (the shortcut), moving the state to
//! the next cycle (raising `latest`, then swapping the word), reading it, draining it and
//! changing the limit. Each model compares what the threads got and the final state with the
//! results of the two sequential orders, computed with [`next_state`] on a plain [`State`]: a
//! lost update, an update computed from a mixed state (a new cycle with old permissions, a
//! cycle off by 2^32) or a take counted in the wrong cycle matches neither.
//!
//! Time is fixed (each thread's `now` is a constant) and a cycle is [`PERIOD`] nanoseconds.
//! Every model runs without a preemption bound, and twice ([`race`]): once with the first
//! operation on the spawned thread, once with it on the model's main thread. Loom's DPOR keeps
//! only the last access to each atomic, so a thread's own load just before its write (every
//! update here loads the word, then swaps it) hides another thread's earlier load of that
//! atomic, and that race is not explored from that side (tokio-rs/loom#166, #392). Run the other
//! way round, the loads come after the writes in the first schedule and loom lets them read
//! every value the memory model allows. Each arrangement alone misses some of the broken
//! variants of `state.rs` that the pair catches (loading `latest` before the word in `load`
//! is caught only with the reader spawned; raising `latest` after the swap, in the drain
//! model, only with the drain on the main thread); a preemption bound (2, 3 or 5) changes
//! nothing.
//!
//! ```text
//! RUSTFLAGS="--cfg fusebox_loom" CARGO_TARGET_DIR=target/loom cargo test -j 2 \
//!     -p fusebox-runtime --no-default-features --lib rate_limiter::state::loom_tests
//! ```

use super::*;
use loom::sync::Arc;
use loom::thread;
use std::fmt::Debug;

/// The cycle length, in nanoseconds.
const PERIOD: i64 = 1_000;
/// A time in cycle 0.
const IN_CYCLE_0: i64 = 500;
/// A time in cycle 1.
const IN_CYCLE_1: i64 = 1_500;

fn state(cycle: i64, permissions: i32, limit: i32) -> State {
    State {
        cycle,
        permissions,
        limit,
    }
}

/// An atomic state standing for `start`, as a run of non-overlapping updates leaves it
/// (`latest` at the word's cycle).
fn atomic(start: State) -> Arc<AtomicState> {
    Arc::new(AtomicState {
        word: AtomicU64::new(pack(start.cycle, start.permissions)),
        latest: AtomicI64::new(start.cycle),
        limit: AtomicI32::new(start.limit),
    })
}

/// `reserve` on a plain state: updates it, returns the wait `reserve` returns.
fn take(s: &mut State, permits: i32, timeout: i64, now: i64) -> i64 {
    let next = next_state(permits, timeout, *s, PERIOD, now);
    *s = next.state;
    next.nanos_to_wait
}

/// The drain (`drainPermissions`) `update` runs.
fn drain_update(s: State, now: i64) -> State {
    next_state(s.permissions, 0, s, PERIOD, now).state
}

/// A drain on a plain state: updates it, returns the state it replaced (what `update` returns).
fn drain(s: &mut State, now: i64) -> State {
    let prev = *s;
    *s = drain_update(prev, now);
    prev
}

/// Asserts that a concurrent run's outcome is one of the sequential orders' outcomes.
#[track_caller]
fn assert_one_of<T: PartialEq + Debug>(got: T, orders: &[T]) {
    assert!(
        orders.contains(&got),
        "outcome {got:?} matches no sequential order: {orders:?}"
    );
}

/// Runs `a` and `b` on two threads of a loom model, from an atomic state standing for `start`,
/// then `check(state, a's result, b's result)`: once with `a` spawned and `b` on the main
/// thread, once the other way round (see the module doc).
fn race<A, B>(
    start: State,
    a: impl Fn(&AtomicState) -> A + Copy + Send + Sync + 'static,
    b: impl Fn(&AtomicState) -> B + Copy + Send + Sync + 'static,
    check: impl Fn(&AtomicState, A, B) + Copy + Send + Sync + 'static,
) where
    A: Send + 'static,
    B: Send + 'static,
{
    for a_spawned in [true, false] {
        loom::model(move || {
            let s = atomic(start);
            let (from_a, from_b) = if a_spawned {
                let other = {
                    let s = s.clone();
                    thread::spawn(move || a(&s))
                };
                let from_b = b(&s);
                (other.join().unwrap(), from_b)
            } else {
                let other = {
                    let s = s.clone();
                    thread::spawn(move || b(&s))
                };
                let from_a = a(&s);
                (from_a, other.join().unwrap())
            };
            check(&s, from_a, from_b);
        });
    }
}

/// Two takes racing in one cycle, each counting its clock reads: in the schedules where one
/// take's swap loses to the other's and it retries, it still reads the clock once (the retry
/// reuses the reading, as the README's differences table says). A failure is a take that reads
/// the clock again on its retry.
#[test]
fn a_retried_take_reads_the_clock_once() {
    let take_counting_reads = |s: &AtomicState| {
        let reads = std::cell::Cell::new(0);
        let wait = s.reserve(1, 0, PERIOD, || {
            reads.set(reads.get() + 1);
            IN_CYCLE_0
        });
        (wait, reads.get())
    };
    race(
        state(0, 3, 3),
        take_counting_reads,
        take_counting_reads,
        |s, a, b| {
            assert_eq!((a, b), ((0, 1), (0, 1)));
            assert_eq!(s.load(), state(0, 1, 3));
        },
    );
}

/// Two takes in the stored cycle (both the shortcut, `word - permits`): both land, each waits
/// 0, and the permissions drop by 2. A failure is a lost take (a compare-and-swap that
/// overwrote the other thread's word) or a take the shortcut sent down the wrong path.
#[test]
fn two_takes_in_one_cycle_both_land() {
    let take_one = |s: &AtomicState| s.reserve(1, 0, PERIOD, || IN_CYCLE_0);
    race(state(0, 3, 3), take_one, take_one, |s, a, b| {
        assert_eq!((a, b), (0, 0));
        assert_eq!(s.load(), state(0, 1, 3));
        assert_eq!(s.latest.load(Ordering::Relaxed), 0);
    });
}

/// A take in cycle 0 (the shortcut) races a take in cycle 1 that moves the state on (raises
/// `latest`, then swaps the word). Ordered take-then-move, the old cycle's last permission is
/// taken and the move refreshes; ordered move-then-take, the take finds cycle 1 emptied and
/// reserves for cycle 2. A failure is a take that landed in a cycle the other thread had
/// already left (its permission counted twice or lost), or waits that fit neither order.
#[test]
fn a_take_in_the_old_cycle_races_a_move_to_the_next() {
    let start = state(0, 1, 2);
    let (mut old_first, mut move_first) = (start, start);
    let old_first_waits = {
        let old = take(&mut old_first, 1, i64::MAX, IN_CYCLE_0);
        (old, take(&mut old_first, 2, 0, IN_CYCLE_1))
    };
    let move_first_waits = {
        let moved = take(&mut move_first, 2, 0, IN_CYCLE_1);
        (take(&mut move_first, 1, i64::MAX, IN_CYCLE_0), moved)
    };
    // The orders differ both in the final state and in the waits.
    assert_ne!(old_first, move_first);
    assert_ne!(old_first_waits, move_first_waits);
    race(
        start,
        |s| s.reserve(1, i64::MAX, PERIOD, || IN_CYCLE_0),
        |s| s.reserve(2, 0, PERIOD, || IN_CYCLE_1),
        move |s, old, moved| {
            assert_one_of(
                (s.load(), (old, moved)),
                &[(old_first, old_first_waits), (move_first, move_first_waits)],
            );
            assert_eq!(s.latest.load(Ordering::Relaxed), 1);
        },
    );
}

/// Two takes in cycle 1 race to move the state there from cycle 0 (both raise `latest`): the
/// second to swap finds the first's word and takes from cycle 1's fresh permissions, so both
/// orders give the same state. A failure is a lost take, a take counted against cycle 0's
/// permissions after `latest` moved on (which the refresh then wipes out), or `latest` left
/// anywhere but cycle 1.
#[test]
fn two_moves_to_the_next_cycle_lose_nothing() {
    let start = state(0, 2, 2);
    let mut sequential = start;
    let waits = (
        take(&mut sequential, 1, 0, IN_CYCLE_1),
        take(&mut sequential, 1, 0, IN_CYCLE_1),
    );
    assert_eq!(sequential, state(1, 0, 2));
    let move_one = |s: &AtomicState| s.reserve(1, 0, PERIOD, || IN_CYCLE_1);
    race(start, move_one, move_one, move |s, a, b| {
        assert_eq!((a, b), waits);
        assert_eq!(s.load(), sequential);
        assert_eq!(s.latest.load(Ordering::Relaxed), 1);
    });
}

/// A reader (`load`, twice) races a take that moves the state to cycle 1: every state read is
/// the state before or after the move, never a mix (cycle 1 with cycle 0's permissions, or a
/// cycle 2^32 off because the word was resolved with a `latest` behind it), and once the
/// reader saw the move it never sees the state before it again.
#[test]
fn a_reader_sees_the_state_before_or_after_a_move_never_a_mix() {
    let before = state(0, 2, 2);
    let mut after = before;
    assert_eq!(take(&mut after, 1, 0, IN_CYCLE_1), 0);
    assert_eq!(after, state(1, 1, 2));
    race(
        before,
        |s| (s.load(), s.load()),
        |s| s.reserve(1, 0, PERIOD, || IN_CYCLE_1),
        move |s, (first, second), wait| {
            assert_eq!(wait, 0);
            assert_one_of(first, &[before, after]);
            assert_one_of(second, &[before, after]);
            assert!(
                !(first == after && second == before),
                "the reader went back in time"
            );
            assert_eq!(s.load(), after);
        },
    );
}

/// A drain (`update`, as `drainPermissions` runs it) in cycle 0 or cycle 1 races a take in
/// cycle 0 (the shortcut): the drain's previous state, the take's wait and the final state
/// are those of one sequential order. A failure is a take that survived a drain ordered before
/// it, or a drain that returned a state the take had already changed.
#[test]
fn a_drain_races_a_take() {
    let start = state(0, 2, 2);
    for drain_now in [IN_CYCLE_0, IN_CYCLE_1] {
        let (mut take_first, mut drain_first) = (start, start);
        let take_first_results = {
            let wait = take(&mut take_first, 1, 0, IN_CYCLE_0);
            (drain(&mut take_first, drain_now), wait)
        };
        let drain_first_results = {
            let drained = drain(&mut drain_first, drain_now);
            (drained, take(&mut drain_first, 1, 0, IN_CYCLE_0))
        };
        assert_ne!(take_first_results, drain_first_results);
        race(
            start,
            move |s| s.update(|prev| (drain_update(prev, drain_now), ())).0,
            |s| s.reserve(1, 0, PERIOD, || IN_CYCLE_0),
            move |s, drained, wait| {
                assert_one_of(
                    (s.load(), (drained, wait)),
                    &[
                        (take_first, take_first_results),
                        (drain_first, drain_first_results),
                    ],
                );
            },
        );
    }
}

/// `set_limit` (which keeps the cycle and permissions) races a take in cycle 1 that refreshes
/// the permissions from the limit: the take is ordered where it read the limit, so its wait
/// and the final state are the sequential result with the old limit or with the new one (the
/// final limit is the new one either way). A failure is a refresh from a limit that was never
/// set, or a change of limit that lost the take's update.
#[test]
fn a_limit_change_races_a_take_that_refreshes_the_cycle() {
    // Lowered (the take then has to reserve into the next cycle) and raised.
    for (old, new) in [(3, 1), (2, 5)] {
        let start = state(0, 0, old);
        let with_limit = |limit| {
            let mut plain = State { limit, ..start };
            let wait = take(&mut plain, 2, i64::MAX, IN_CYCLE_1);
            (
                State {
                    limit: new,
                    ..plain
                },
                wait,
            )
        };
        let (with_old, with_new) = (with_limit(old), with_limit(new));
        assert_ne!(with_old, with_new);
        race(
            start,
            move |s| s.set_limit(new),
            |s| s.reserve(2, i64::MAX, PERIOD, || IN_CYCLE_1),
            move |s, (), wait| {
                assert_one_of((s.load(), wait), &[with_old, with_new]);
                assert_eq!(s.latest.load(Ordering::Relaxed), 1);
            },
        );
    }
}
