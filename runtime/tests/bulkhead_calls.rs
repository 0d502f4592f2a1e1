//! The bulkhead's call paths: permits and rejections, events and gauges, waiting bounded by
//! `max_wait_duration` on tokio's paused time, arrival order and `fair_call_handling`,
//! cancellation while waiting and
//! while holding a slot, a panicking call, `change_config`, and the registry.

use fusebox_runtime::Registry;
use fusebox_runtime::bulkhead::{
    Bulkhead, BulkheadConfig, BulkheadEvent, BulkheadEventKind, BulkheadFull, BulkheadMetrics,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

use BulkheadEventKind::{CallFinished, CallPermitted, CallRejected};

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn bulkhead(max: u32, wait: Duration) -> Bulkhead {
    let config = BulkheadConfig::builder()
        .max_concurrent_calls(max)
        .max_wait_duration(wait)
        .build()
        .unwrap();
    Bulkhead::new("b", config)
}

fn kinds(events: &[BulkheadEvent]) -> Vec<BulkheadEventKind> {
    events.iter().map(|e| e.kind).collect()
}

fn gauges(b: &Bulkhead) -> (u32, u32) {
    let BulkheadMetrics {
        available_concurrent_calls,
        max_allowed_concurrent_calls,
    } = b.metrics();
    (available_concurrent_calls, max_allowed_concurrent_calls)
}

/// Lets spawned tasks run until they wait.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_rejects_at_once_and_publishes_each_step() {
    let b = bulkhead(2, Duration::ZERO);
    let mut events = b.subscribe(16);
    let first = b.try_acquire_permission().unwrap();
    let second = b.acquire_permission().await.unwrap();
    assert_eq!(gauges(&b), (0, 2));
    let started = Instant::now();
    let rejected = b.call(async { 1 }).await;
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "no wait with max_wait_duration 0"
    );
    let err = rejected.unwrap_err();
    assert_eq!(
        err,
        BulkheadFull {
            bulkhead: "b".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "Bulkhead 'b' is full and does not permit further calls"
    );
    assert!(b.try_acquire_permission().is_err());
    drop(first);
    assert_eq!(gauges(&b), (1, 2));
    // A permit given back unused publishes nothing (Resilience4j's releasePermission).
    second.release_unused();
    assert_eq!(gauges(&b), (2, 2));
    assert_eq!(b.call(async { 7 }).await, Ok(7));
    let got = events.drain();
    assert_eq!(
        kinds(&got),
        [
            CallPermitted,
            CallPermitted,
            CallRejected,
            CallRejected,
            CallFinished,
            CallPermitted,
            CallFinished
        ]
    );
    assert!(got.iter().all(|e| &*e.bulkhead == "b"));
    assert_eq!(got[2].to_string(), "Bulkhead 'b' rejected a call");
    assert_eq!(got[4].kind.as_str(), "CALL_FINISHED");
}

#[tokio::test(start_paused = true)]
async fn zero_slots_reject_every_call() {
    let b = bulkhead(0, ms(10));
    assert_eq!(gauges(&b), (0, 0));
    let started = Instant::now();
    assert!(b.call(async {}).await.is_err());
    assert_eq!(
        started.elapsed(),
        ms(10),
        "waited max_wait_duration in vain"
    );
}

#[tokio::test(start_paused = true)]
async fn a_wait_ends_with_a_slot_or_after_max_wait_duration() {
    let b = bulkhead(1, ms(50));
    let mut events = b.subscribe(16);
    let held = b.try_acquire_permission().unwrap();

    // Given a slot after 30 ms.
    let started = Instant::now();
    let ((), permit) = tokio::join!(
        async move {
            tokio::time::sleep(ms(30)).await;
            drop(held);
        },
        b.acquire_permission()
    );
    let permit = permit.expect("a slot within the wait");
    assert_eq!(started.elapsed(), ms(30));

    // Nobody gives the slot back: rejected after exactly 50 ms.
    let started = Instant::now();
    assert!(b.acquire_permission().await.is_err());
    assert_eq!(started.elapsed(), ms(50));
    drop(permit);
    assert_eq!(
        kinds(&events.drain()),
        [
            CallPermitted,
            CallFinished,
            CallPermitted,
            CallRejected,
            CallFinished
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn waiting_calls_get_slots_in_arrival_order() {
    let b = bulkhead(1, ms(1_000));
    let held = b.try_acquire_permission().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for caller in 0..5 {
        let (b, order) = (b.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            b.call(async {
                order.lock().unwrap().push(caller);
                tokio::time::sleep(ms(1)).await;
            })
            .await
        }));
        settle().await; // caller `n` queues before caller `n + 1`
    }
    drop(held);
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(()));
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(gauges(&b), (1, 1));
}

/// `fair_call_handling` as Java's fair and non-fair semaphores: a slot given back while a call
/// waits goes to the waiting call when fair; when not, a new call that asks before the woken
/// waiter runs takes it (barging), and the waiter waits on, first in the queue.
#[tokio::test(start_paused = true)]
async fn fair_call_handling_decides_whether_a_new_call_overtakes_a_waiting_one() {
    for fair in [true, false] {
        let config = BulkheadConfig::builder()
            .max_concurrent_calls(1)
            .max_wait_duration(ms(1_000))
            .fair_call_handling(fair)
            .build()
            .unwrap();
        let b = Bulkhead::new("b", config);
        let held = b.try_acquire_permission().unwrap();
        let waiting = {
            let b = b.clone();
            tokio::spawn(async move { b.call(async { "waited" }).await })
        };
        settle().await;
        drop(held);
        // The waiter is woken but has not run yet.
        let newcomer = b.try_acquire_permission();
        assert_eq!(newcomer.is_ok(), !fair, "fair: {fair}");
        assert_eq!(gauges(&b), (0, 1));
        settle().await;
        assert_eq!(waiting.is_finished(), fair, "fair: {fair}");
        drop(newcomer);
        assert_eq!(waiting.await.unwrap(), Ok("waited"));
        assert_eq!(gauges(&b), (1, 1));
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_cancelled_while_waiting_leaves_the_queue_without_a_slot() {
    let b = bulkhead(1, ms(1_000));
    let mut events = b.subscribe(16);
    let held = b.try_acquire_permission().unwrap();
    let waiting = {
        let b = b.clone();
        tokio::spawn(async move { b.call(async { "first" }).await })
    };
    settle().await;
    let next = {
        let b = b.clone();
        tokio::spawn(async move { b.call(async { "second" }).await })
    };
    settle().await;
    waiting.abort();
    assert!(waiting.await.unwrap_err().is_cancelled());
    drop(held);
    // The next caller in the queue gets the slot; the cancelled one took nothing.
    assert_eq!(next.await.unwrap(), Ok("second"));
    assert_eq!(gauges(&b), (1, 1));
    // Resilience4j publishes nothing for an interrupted wait either.
    assert_eq!(
        kinds(&events.drain()),
        [CallPermitted, CallFinished, CallPermitted, CallFinished]
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_cancelled_while_holding_a_slot_gives_it_back() {
    let b = bulkhead(1, Duration::ZERO);
    let mut events = b.subscribe(16);
    let running = {
        let b = b.clone();
        tokio::spawn(async move { b.call(std::future::pending::<()>()).await })
    };
    settle().await;
    assert_eq!(gauges(&b), (0, 1));
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    assert_eq!(gauges(&b), (1, 1));
    // A timed-out call (the future dropped by `timeout`) too.
    let timed_out = tokio::time::timeout(ms(5), b.call(std::future::pending::<()>())).await;
    assert!(timed_out.is_err());
    assert_eq!(gauges(&b), (1, 1));
    assert_eq!(
        kinds(&events.drain()),
        [CallPermitted, CallFinished, CallPermitted, CallFinished]
    );
}

#[tokio::test(start_paused = true)]
async fn a_panicking_call_gives_its_slot_back() {
    let b = bulkhead(1, Duration::ZERO);
    let mut events = b.subscribe(16);
    let panicking = {
        let b = b.clone();
        tokio::spawn(async move {
            b.call(async {
                tokio::task::yield_now().await;
                panic!("the call panics");
            })
            .await
        })
    };
    assert!(panicking.await.unwrap_err().is_panic());
    assert_eq!(gauges(&b), (1, 1));
    assert_eq!(kinds(&events.drain()), [CallPermitted, CallFinished]);
    assert_eq!(b.call(async { 3 }).await, Ok(3));
}

#[tokio::test(start_paused = true)]
async fn events_are_only_built_for_subscribers() {
    let b = bulkhead(1, Duration::ZERO);
    drop(b.call(async {}).await);
    let mut late = b.subscribe(1);
    let p = b.try_acquire_permission().unwrap();
    assert!(b.try_acquire_permission().is_err());
    drop(p);
    // A queue of one keeps the first event and counts the rest as dropped.
    assert_eq!(kinds(&late.drain()), [CallPermitted]);
    assert_eq!(late.dropped(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_subscriber_except_successes_gets_the_rejections_only() {
    let b = bulkhead(1, Duration::ZERO);
    assert!(CallPermitted.is_routine() && CallFinished.is_routine());
    assert!(!CallRejected.is_routine());
    let mut lean = b.subscribe_except_successes(8);
    let mut all = b.subscribe(8);
    let p = b.try_acquire_permission().unwrap();
    assert!(b.try_acquire_permission().is_err());
    drop(p);
    assert_eq!(kinds(&lean.drain()), [CallRejected]);
    assert_eq!(
        kinds(&all.drain()),
        [CallPermitted, CallRejected, CallFinished]
    );
    // The subscriber of every event gone: the lean one still gets its rejections, and the
    // permitted calls in between publish nothing (nor fill its queue).
    drop(all);
    for _ in 0..20 {
        assert_eq!(b.call(async { 1 }).await, Ok(1));
    }
    let p = b.try_acquire_permission().unwrap();
    assert!(b.try_acquire_permission().is_err());
    drop(p);
    assert_eq!(kinds(&lean.drain()), [CallRejected]);
    assert_eq!(lean.dropped(), 0);
}

#[tokio::test(start_paused = true)]
async fn change_config_grows_at_once_and_shrinks_as_calls_end() {
    let b = bulkhead(2, Duration::ZERO);
    let a1 = b.try_acquire_permission().unwrap();
    let a2 = b.try_acquire_permission().unwrap();
    let grown = BulkheadConfig::builder()
        .max_concurrent_calls(3)
        .max_wait_duration(ms(20))
        .build()
        .unwrap();
    b.change_config(grown.clone()).await;
    assert_eq!(b.config(), grown);
    assert_eq!(gauges(&b), (1, 3));
    let a3 = b.try_acquire_permission().unwrap();
    // The new wait applies: a full bulkhead now waits 20 ms.
    let started = Instant::now();
    assert!(b.acquire_permission().await.is_err());
    assert_eq!(started.elapsed(), ms(20));

    // Shrinking to 1 with 3 calls running waits for two of them to end.
    let shrunk = BulkheadConfig::builder()
        .max_concurrent_calls(1)
        .build()
        .unwrap();
    let change = {
        let (b, shrunk) = (b.clone(), shrunk.clone());
        tokio::spawn(async move { b.change_config(shrunk).await })
    };
    settle().await;
    assert!(!change.is_finished());
    drop(a1);
    settle().await;
    assert!(!change.is_finished(), "one slot back is not enough");
    // The change waits ahead of later calls (fair), so they are rejected meanwhile.
    assert!(b.try_acquire_permission().is_err());
    drop(a2);
    change.await.unwrap();
    assert_eq!(b.config(), shrunk);
    assert_eq!(gauges(&b), (0, 1));
    drop(a3);
    assert_eq!(gauges(&b), (1, 1));
    let only = b.try_acquire_permission().unwrap();
    assert!(b.try_acquire_permission().is_err());
    drop(only);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_shrink_changes_nothing() {
    let b = bulkhead(2, Duration::ZERO);
    let held = b.try_acquire_permission().unwrap();
    let shrunk = BulkheadConfig::builder()
        .max_concurrent_calls(0)
        .build()
        .unwrap();
    // Needs both slots; one is held, so it cannot finish within 10 ms.
    assert!(
        tokio::time::timeout(ms(10), b.change_config(shrunk))
            .await
            .is_err()
    );
    assert_eq!(b.config().max_concurrent_calls(), 2);
    drop(held);
    assert_eq!(gauges(&b), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_threads_never_exceed_the_limit_and_leak_nothing() {
    let b = bulkhead(3, ms(1_000));
    let inside = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let most = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (b, inside, most) = (b.clone(), inside.clone(), most.clone());
        tasks.push(tokio::spawn(async move {
            b.call(async {
                use std::sync::atomic::Ordering::SeqCst;
                let now = inside.fetch_add(1, SeqCst) + 1;
                most.fetch_max(now, SeqCst);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, SeqCst);
            })
            .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(()));
    }
    assert!(most.load(std::sync::atomic::Ordering::SeqCst) <= 3);
    assert_eq!(gauges(&b), (3, 3));
}

#[test]
fn the_registry_creates_each_bulkhead_once_from_its_config() {
    let registry = Registry::new();
    let a = registry.bulkhead("a");
    assert_eq!(a.config(), BulkheadConfig::default());
    assert!(registry.bulkhead("a").ptr_eq(&a));
    let custom = BulkheadConfig::builder()
        .max_concurrent_calls(4)
        .build()
        .unwrap();
    // An existing bulkhead keeps its config.
    assert!(
        registry
            .bulkhead_with_config("a", custom.clone())
            .ptr_eq(&a)
    );
    let c = registry.bulkhead_with_config("c", custom.clone());
    assert_eq!(c.config(), custom);
    let names: Vec<String> = registry
        .all_bulkheads()
        .iter()
        .map(|b| b.name().to_owned())
        .collect();
    assert_eq!(names, ["a", "c"]);
    assert_eq!(
        registry.bulkhead_configuration("default"),
        Some(BulkheadConfig::default())
    );
    assert_eq!(registry.bulkhead_configuration("missing"), None);
}

mod owned_permits {
    use super::*;
    use fusebox_runtime::bulkhead::OwnedBulkheadPermit;

    fn is_static_send<T: Send + Sync + 'static>(_: &T) {}

    #[tokio::test(start_paused = true)]
    async fn an_owned_permit_travels_with_a_spawned_task_and_comes_back_when_it_ends() {
        let b = bulkhead(2, Duration::ZERO);
        let mut events = b.subscribe(16);
        let permit = b.try_acquire_owned().unwrap();
        is_static_send(&permit);
        assert_eq!(permit.bulkhead_name(), "b");
        assert_eq!(gauges(&b), (1, 2));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _slot: OwnedBulkheadPermit = permit;
            rx.await.unwrap();
        });
        settle().await;
        // Still held by the task (the handle that took it is free to go on).
        assert_eq!(gauges(&b), (1, 2));
        tx.send(()).unwrap();
        task.await.unwrap();
        assert_eq!(gauges(&b), (2, 2));
        assert_eq!(kinds(&events.drain()), [CallPermitted, CallFinished]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_aborted_or_panicking_task_cannot_keep_its_owned_slot() {
        let b = bulkhead(1, Duration::ZERO);
        let mut events = b.subscribe(16);
        let permit = b.try_acquire_owned().unwrap();
        let aborted = tokio::spawn(async move {
            let _slot = permit;
            std::future::pending::<()>().await;
        });
        settle().await;
        assert_eq!(gauges(&b), (0, 1));
        assert!(b.try_acquire_owned().is_err());
        aborted.abort();
        assert!(aborted.await.unwrap_err().is_cancelled());
        assert_eq!(gauges(&b), (1, 1));

        let permit = b.try_acquire_owned().unwrap();
        let panicked = tokio::spawn(async move {
            let _slot = permit;
            panic!("the task panics while holding its slot");
        });
        assert!(panicked.await.unwrap_err().is_panic());
        assert_eq!(gauges(&b), (1, 1));
        assert_eq!(
            kinds(&events.drain()),
            [
                CallPermitted,
                CallRejected,
                CallFinished,
                CallPermitted,
                CallFinished
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_owned_waits_up_to_max_wait_duration() {
        let b = bulkhead(1, ms(100));
        let held = b.try_acquire_owned().unwrap();
        let start = Instant::now();
        let rejected = b.acquire_owned().await.unwrap_err();
        assert_eq!(start.elapsed(), ms(100));
        assert!(rejected.to_string().contains("'b'"), "{rejected}");
        // A slot freed while a caller waits goes to it.
        let waiter = {
            let b = b.clone();
            tokio::spawn(async move { b.acquire_owned().await })
        };
        settle().await;
        tokio::time::advance(ms(40)).await;
        drop(held);
        let permit = waiter.await.unwrap().unwrap();
        assert_eq!(gauges(&b), (0, 1));
        drop(permit);
        assert_eq!(gauges(&b), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unused_owned_permit_goes_back_without_call_finished() {
        let b = bulkhead(1, Duration::ZERO);
        let mut events = b.subscribe(16);
        b.try_acquire_owned().unwrap().release_unused();
        assert_eq!(gauges(&b), (1, 1));
        assert_eq!(kinds(&events.drain()), [CallPermitted]);
        // An owned permit outlives the handle it came from.
        let permit = {
            let other = b.clone();
            other.try_acquire_owned().unwrap()
        };
        drop(b.clone());
        assert_eq!(
            format!("{permit:?}"),
            "OwnedBulkheadPermit { bulkhead: \"b\" }"
        );
        drop(permit);
        assert_eq!(kinds(&events.drain()), [CallPermitted, CallFinished]);
    }
}
