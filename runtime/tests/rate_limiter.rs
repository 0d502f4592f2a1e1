//! The rate limiter's paths on a manual clock: immediate, waiting, refused, refresh, several
//! permits, reservations, drain, run-time changes, cancellation, events, guarded calls.

use fusebox_runtime::ManualClock;
use fusebox_runtime::rate_limiter::{
    RateLimiter, RateLimiterConfig, RateLimiterError, RateLimiterEventKind, RateLimiterMetrics,
};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

/// A limiter of `limit` permits per second on `clock`, which is also how callers wait (a wait
/// advances the clock by its length).
fn limiter(clock: &ManualClock, limit: u32, timeout: Duration) -> RateLimiter {
    RateLimiter::new(
        "backend",
        RateLimiterConfig::builder()
            .limit_for_period(limit)
            .limit_refresh_period(SEC)
            .timeout_duration(timeout)
            .clock(clock.clone())
            .sleeper(clock.clone())
            .build()
            .unwrap(),
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn kinds(
    rx: &mut fusebox_runtime::rate_limiter::RateLimiterEventReceiver,
) -> Vec<RateLimiterEventKind> {
    rx.drain().into_iter().map(|e| e.kind).collect()
}

#[test]
fn immediate_permits_until_the_cycle_is_used_up() {
    let clock = ManualClock::new();
    let l = limiter(&clock, 2, Duration::ZERO);
    let mut rx = l.subscribe(16);
    rt().block_on(async {
        assert_eq!(l.acquire_permission(1).await, Ok(()));
        assert_eq!(l.acquire_permission(1).await, Ok(()));
        let refused = l.acquire_permission(1).await.unwrap_err();
        assert_eq!(
            refused.to_string(),
            "RateLimiter 'backend' does not permit further calls"
        );
    });
    assert_eq!(clock.elapsed(), Duration::ZERO, "timeout 0: nobody waited");
    assert_eq!(
        l.metrics(),
        RateLimiterMetrics {
            available_permissions: 0,
            number_of_waiting_threads: 0,
            nanos_to_wait: 1_000_000_000,
            cycle: 0,
        }
    );
    assert_eq!(
        kinds(&mut rx),
        vec![
            RateLimiterEventKind::SuccessfulAcquire { permits: 1 },
            RateLimiterEventKind::SuccessfulAcquire { permits: 1 },
            RateLimiterEventKind::FailedAcquire { permits: 1 },
        ]
    );
}

#[test]
fn a_caller_waits_for_its_reservation_in_the_next_cycle() {
    let clock = ManualClock::new();
    let l = limiter(&clock, 1, Duration::from_secs(5));
    clock.advance(Duration::from_millis(300));
    rt().block_on(async {
        assert_eq!(l.acquire_permission(1).await, Ok(()));
        assert_eq!(clock.elapsed(), Duration::from_millis(300));
        // The next permit comes with the refresh at 1 s: a 700 ms wait.
        assert_eq!(l.acquire_permission(1).await, Ok(()));
        assert_eq!(clock.elapsed(), SEC);
    });
    let m = l.metrics();
    assert_eq!((m.cycle, m.available_permissions), (1, 0));
}

#[test]
fn a_wait_beyond_the_timeout_reserves_nothing_and_is_refused_after_the_timeout() {
    let clock = ManualClock::new();
    let l = limiter(&clock, 1, Duration::from_millis(400));
    let mut rx = l.subscribe(16);
    rt().block_on(async {
        l.acquire_permission(1).await.unwrap();
        // 1 s to wait > 400 ms: refused, after waiting out the timeout as Resilience4j does.
        assert!(l.acquire_permission(1).await.is_err());
    });
    assert_eq!(clock.elapsed(), Duration::from_millis(400));
    assert_eq!(l.metrics().available_permissions, 0, "nothing was reserved");
    assert_eq!(
        kinds(&mut rx),
        vec![
            RateLimiterEventKind::SuccessfulAcquire { permits: 1 },
            RateLimiterEventKind::FailedAcquire { permits: 1 },
        ]
    );
}

#[test]
fn reserve_permission_answers_at_once() {
    let clock = ManualClock::new();
    let l = limiter(&clock, 2, Duration::from_millis(1500));
    assert_eq!(l.reserve_permission(2), Ok(Duration::ZERO));
    // Reserved in the next cycle: wait 1 s; the count goes negative.
    assert_eq!(l.reserve_permission(1), Ok(SEC));
    assert_eq!(l.metrics().available_permissions, -1);
    // 2 more need the cycle after next (2 s > 1.5 s): refused at once, nothing reserved.
    assert!(l.reserve_permission(2).is_err());
    assert_eq!(l.metrics().available_permissions, -1);
    assert_eq!(clock.elapsed(), Duration::ZERO);
    // One more fits in the next cycle (-1 + 2 = 1 left then).
    assert_eq!(l.reserve_permission(1), Ok(SEC));
    assert_eq!(l.metrics().available_permissions, -2);
    clock.advance(SEC);
    assert_eq!(l.metrics().available_permissions, 0);
}

#[test]
fn cycles_refresh_to_the_limit_without_carrying_unused_permits_over() {
    let clock = ManualClock::new();
    let l = limiter(&clock, 3, Duration::ZERO);
    assert!(l.reserve_permission(1).is_ok());
    assert_eq!(l.metrics().available_permissions, 2);
    clock.advance(5 * SEC);
    let m = l.metrics();
    assert_eq!((m.cycle, m.available_permissions), (5, 3));
    for _ in 0..3 {
        assert!(l.reserve_permission(1).is_ok());
    }
    assert!(l.reserve_permission(1).is_err());
    // Cycles are counted from the limiter's creation, not from the epoch.
    let later = ManualClock::at(Duration::from_millis(700));
    let l = limiter(&later, 1, Duration::ZERO);
    assert!(l.reserve_permission(1).is_ok());
    later.advance(Duration::from_millis(999));
    assert!(l.reserve_permission(1).is_err());
    later.advance(Duration::from_millis(1));
    assert!(l.reserve_permission(1).is_ok());
}

#[test]
fn several_permits_wait_for_several_cycles() {
    let clock = ManualClock::new();
    let l = limiter(&clock, 2, Duration::from_secs(10));
    clock.advance(Duration::from_millis(250));
    rt().block_on(async {
        // 2 left, 7 wanted: the other 5 come with the refreshes at 1, 2 and 3 s.
        l.acquire_permission(7).await.unwrap();
    });
    assert_eq!(clock.elapsed(), 3 * SEC);
    assert_eq!(l.metrics().available_permissions, 1);
    // More permits than Java's int can count are refused at once.
    assert!(l.reserve_permission(u32::MAX).is_err());
}

#[test]
fn drain_empties_the_cycle_with_resilience4j_s_quirks() {
    let clock = ManualClock::new();
    let l = limiter(&clock, 5, Duration::from_secs(5));
    let mut rx = l.subscribe(16);
    assert!(l.reserve_permission(2).is_ok());
    l.drain_permissions();
    assert_eq!(l.metrics().available_permissions, 0);
    // Pending reservations: the count goes from -3 to 0 (Resilience4j's drain erases them).
    assert_eq!(l.reserve_permission(3), Ok(SEC));
    assert_eq!(l.metrics().available_permissions, -3);
    l.drain_permissions();
    assert_eq!(l.metrics().available_permissions, 0);
    // After an idle cycle boundary, drain removes only the stale count of the last update
    // (here 2 of the fresh 5).
    let clock = ManualClock::new();
    let l2 = limiter(&clock, 5, Duration::ZERO);
    assert!(l2.reserve_permission(3).is_ok());
    clock.advance(SEC);
    l2.drain_permissions();
    assert_eq!(l2.metrics().available_permissions, 3);
    assert_eq!(
        kinds(&mut rx),
        vec![
            RateLimiterEventKind::SuccessfulAcquire { permits: 2 },
            RateLimiterEventKind::Drained { permits: 0 },
            RateLimiterEventKind::SuccessfulAcquire { permits: 3 },
            RateLimiterEventKind::Drained { permits: -3 },
        ]
    );
}

#[test]
fn the_limit_and_timeout_change_at_run_time() {
    let clock = ManualClock::new();
    let l = limiter(&clock, 2, Duration::ZERO);
    assert!(l.reserve_permission(1).is_ok());
    l.change_limit_for_period(5).unwrap();
    assert_eq!(l.config().limit_for_period(), 5);
    // The current cycle keeps its count.
    assert_eq!(l.metrics().available_permissions, 1);
    assert!(l.reserve_permission(1).is_ok());
    assert!(l.reserve_permission(1).is_err());
    clock.advance(SEC);
    assert_eq!(l.metrics().available_permissions, 5);
    // A longer timeout lets the next caller reserve.
    for _ in 0..5 {
        l.reserve_permission(1).unwrap();
    }
    assert!(l.reserve_permission(1).is_err());
    l.change_timeout_duration(SEC).unwrap();
    assert_eq!(l.config().timeout_duration(), SEC);
    assert_eq!(l.reserve_permission(1), Ok(SEC));
    // Invalid values are refused with the builder's errors and change nothing.
    let e = l.change_limit_for_period(0).unwrap_err();
    assert_eq!(e.key(), "limit_for_period");
    let e = l
        .change_timeout_duration(Duration::from_secs(u64::MAX))
        .unwrap_err();
    assert_eq!(e.key(), "timeout_duration");
    assert_eq!(l.config().limit_for_period(), 5);
    assert_eq!(l.config().timeout_duration(), SEC);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_waiter_keeps_its_reservation_and_fails() {
    // Waits on tokio's (paused) timer; the cycles on a manual clock.
    let clock = ManualClock::new();
    let l = RateLimiter::new(
        "backend",
        RateLimiterConfig::builder()
            .limit_for_period(1)
            .limit_refresh_period(SEC)
            .timeout_duration(Duration::from_secs(5))
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let mut rx = l.subscribe(16);
    l.acquire_permission(1).await.unwrap();
    let waiter = {
        let l = l.clone();
        tokio::spawn(async move { l.acquire_permission(1).await })
    };
    tokio::task::yield_now().await;
    assert_eq!(l.metrics().number_of_waiting_threads, 1);
    assert_eq!(l.metrics().available_permissions, -1);
    waiter.abort();
    assert!(waiter.await.unwrap_err().is_cancelled());
    assert_eq!(l.metrics().number_of_waiting_threads, 0);
    assert_eq!(
        l.metrics().available_permissions,
        -1,
        "the reservation stays taken"
    );
    assert_eq!(
        kinds(&mut rx),
        vec![
            RateLimiterEventKind::SuccessfulAcquire { permits: 1 },
            RateLimiterEventKind::FailedAcquire { permits: 1 },
        ]
    );
    // The next caller queues behind the cancelled reservation: two cycles away.
    clock.advance(Duration::from_millis(100));
    assert_eq!(l.reserve_permission(1), Ok(Duration::from_millis(1900)));
}

#[tokio::test(start_paused = true)]
async fn a_waiter_on_tokio_s_timer_wakes_after_its_wait() {
    let clock = ManualClock::new();
    let l = RateLimiter::new(
        "backend",
        RateLimiterConfig::builder()
            .limit_for_period(1)
            .limit_refresh_period(SEC)
            .timeout_duration(Duration::from_secs(5))
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    l.acquire_permission(1).await.unwrap();
    let started = tokio::time::Instant::now();
    l.acquire_permission(1).await.unwrap();
    assert_eq!(started.elapsed(), SEC);
    assert_eq!(l.metrics().number_of_waiting_threads, 0);
}

#[test]
fn a_guarded_call_runs_only_when_permitted_and_may_drain() {
    let clock = ManualClock::new();
    let l = RateLimiter::new(
        "backend",
        RateLimiterConfig::builder()
            .limit_for_period(3)
            .limit_refresh_period(SEC)
            .timeout_duration(Duration::ZERO)
            .drain_permissions_on_result(|r: &Result<u16, String>| matches!(r, Ok(429)))
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let mut rx = l.subscribe(16);
    rt().block_on(async {
        assert_eq!(l.call(|| async { Ok::<u16, String>(200) }).await, Ok(200));
        assert_eq!(
            l.call(|| async { Err::<u16, String>("boom".into()) }).await,
            Err(RateLimiterError::Failed("boom".to_owned()))
        );
        assert_eq!(l.metrics().available_permissions, 1);
        // The service says 429: the rest of the cycle is drained.
        assert_eq!(l.call(|| async { Ok::<u16, String>(429) }).await, Ok(429));
        assert_eq!(l.metrics().available_permissions, 0);
        let mut ran = false;
        let refused = l
            .call(|| {
                ran = true;
                async { Ok::<u16, String>(200) }
            })
            .await;
        assert!(matches!(refused, Err(RateLimiterError::NotPermitted(_))));
        assert!(!ran, "a refused call does not run");
    });
    let kinds = kinds(&mut rx);
    assert_eq!(kinds.len(), 5);
    assert_eq!(kinds[3], RateLimiterEventKind::Drained { permits: 0 });
    assert_eq!(kinds[4].as_str(), "FAILED_ACQUIRE");
}

#[test]
fn concurrent_callers_never_get_more_than_the_limit() {
    let clock = ManualClock::new();
    let l = limiter(&clock, 1000, Duration::ZERO);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let l = l.clone();
            std::thread::spawn(move || (0..600).filter(|_| l.reserve_permission(1).is_ok()).count())
        })
        .collect();
    let granted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(granted, 1000);
    assert_eq!(l.metrics().available_permissions, 0);
}
