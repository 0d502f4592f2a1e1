//! Callgrind driver: `callgrind <case> <N>` sets one breaker up and makes N calls. A case
//! ending in `_2t` makes them from two threads on the same breaker (N/2 each; callgrind
//! serialises threads, so this counts what sharing costs in instructions, not in time).
//!
//! Instructions per call = (Ir at N = 1 000 000 − Ir at N = 0) / 1 000 000, which subtracts the
//! setup and the runtime construction (scripts/bench-callgrind.sh does the arithmetic). Without
//! a case (as `cargo bench` runs it) it lists the cases and exits.

#![allow(missing_docs)]

#[path = "../common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use common::*;

const CASES: &[&str] = &[
    "op",
    "op_async",
    "op_1pct_failing",
    "atomic_rmw_pair",
    "parking_lot_mutex",
    "std_mutex",
    "instant_now",
    "fusebox_guard",
    "fusebox_lowlevel",
    "fusebox_guard_stats_off",
    "fusebox_guard_recovered",
    "fusebox_guard_1pct_failing",
    "fusebox_guard_time_window",
    "fusebox_guard_time_window_1pct_failing",
    "fusebox_call_fast",
    "fusebox_call_1pct_slow",
    "fusebox_guard_storm",
    "fusebox_guard_2t",
    "fusebox_guard_stats_off_2t",
    "fusebox_guard_recovered_2t",
    "fusebox_guard_1pct_failing_2t",
    "fusebox_guard_time_window_2t",
    "fusebox_guard_time_window_1pct_failing_2t",
    "fusebox_call_1pct_slow_2t",
    "fusebox_guard_storm_2t",
    "fusebox_guard_async",
    "fusebox_call_async",
    "fusebox_macro",
    "fusebox_open_guard",
    "fusebox_forced_open_guard",
    "recloser_sync",
    "recloser_async",
    "recloser_open",
    "failsafe_default_sync",
    "failsafe_consecutive_sync",
    "failsafe_default_async",
    "failsafe_open",
    "tower_resilience_async",
    "tower_resilience_open",
    "bulkhead_try",
    "tokio_semaphore_try",
    "bulkhead_async",
    "tokio_semaphore_async",
    // bulkhead semaphore (sem): a waiting acquire handed the slot
    "bulkhead_handoff",
    "tokio_semaphore_handoff",
    // --- macrospeed: a retry whose first attempt succeeds, against the bare `op_async` ---
    "retry_call_first_attempt",
    "retry_macro_first_attempt",
];

/// bulkhead semaphore (sem): polls `wait` (it must wait), runs `release`, polls it again (it
/// must complete with a permit, dropped at once). Outside tokio's cooperative budget, which
/// would make tokio's semaphore answer `Pending` every 128th poll of this one task.
async fn handoff<T, E>(
    wait: impl std::future::Future<Output = Result<T, E>>,
    release: impl FnOnce(),
) {
    tokio::task::unconstrained(async {
        let mut wait = std::pin::pin!(wait);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(wait.as_mut().poll(&mut cx).is_pending(), "the slot is held");
        release();
        let done = wait.as_mut().poll(&mut cx);
        assert!(matches!(done, std::task::Poll::Ready(Ok(_))), "handed over");
        drop(black_box(done));
    })
    .await
}

#[inline(never)]
fn sync_loop(n: u64, mut f: impl FnMut(u64) -> u64) {
    for i in 0..n {
        black_box(f(black_box(i)));
    }
}

/// `n` calls of `f` on `threads` threads sharing one breaker (`make` clones it per thread).
fn shared_loop<F>(n: u64, threads: u64, b: fusebox::CircuitBreaker, f: F)
where
    F: Fn(&fusebox::CircuitBreaker, u64) -> u64 + Copy + Send,
{
    if threads == 1 {
        return sync_loop(n, |i| f(&b, i));
    }
    let b = &b;
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || sync_loop(n / threads, |i| f(b, i * threads + t)));
        }
    });
}

macro_rules! async_loop {
    ($rt:expr, $n:expr, |$i:ident| $call:expr) => {{
        let n = $n;
        $rt.block_on(async {
            for $i in 0..n {
                let $i = black_box($i);
                black_box($call);
            }
        })
    }};
}

mod macro_case {
    use super::*;

    #[fusebox::circuit_breaker(name = "cg.macro")]
    async fn guarded(x: u64) -> Result<u64, MyErr> {
        op_async(x).await
    }

    pub(crate) fn run(rt: &tokio::runtime::Runtime, n: u64) -> bool {
        async_loop!(rt, n, |i| guarded(i).await.unwrap_or(0));
        true
    }
}

// --- macrospeed: `#[retry]` around `op_async`, the first attempt succeeding (issue 14 item 9) ---
mod retry_case {
    use super::*;

    #[fusebox::retry(name = "cg.retry")]
    async fn retried(x: u64) -> Result<u64, MyErr> {
        op_async(x).await
    }

    pub(crate) fn run(rt: &tokio::runtime::Runtime, n: u64) {
        async_loop!(rt, n, |i| retried(i).await.unwrap_or(0));
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(case), Some(n)) = (args.first(), args.get(1)) else {
        eprintln!("usage: callgrind <case> <N>; cases: {}", CASES.join(" "));
        return;
    };
    let n: u64 = n.parse().expect("N must be a number");
    let rt = runtime();
    let (base, threads) = match case.strip_suffix("_2t") {
        Some(base) => (base, 2),
        None => (case.as_str(), 1),
    };
    // Each call site names its function, so the guard inlines into the loop as it would at a
    // user's call site.
    macro_rules! shared {
        ($b:expr, $f:expr $(,)?) => {
            shared_loop(n, threads, $b, $f)
        };
    }
    match base {
        "fusebox_guard" => return shared!(fusebox_closed("cg"), fusebox_guard_call),
        "fusebox_guard_stats_off" => {
            return shared!(fusebox_closed_stats_off("cg"), fusebox_guard_call);
        }
        "fusebox_guard_recovered" => return shared!(fusebox_recovered("cg"), fusebox_guard_call),
        "fusebox_guard_1pct_failing" => {
            return shared!(fusebox_closed("cg"), fusebox_guard_call_1pct_failing);
        }
        "fusebox_guard_time_window" => {
            return shared!(fusebox_closed_time_window("cg"), fusebox_guard_call);
        }
        "fusebox_guard_time_window_1pct_failing" => {
            return shared!(
                fusebox_closed_time_window("cg"),
                fusebox_guard_call_1pct_failing,
            );
        }
        "fusebox_call_fast" => return shared!(fusebox_closed("cg"), fusebox_call_fast),
        "fusebox_call_1pct_slow" => return shared!(fusebox_closed("cg"), fusebox_call_1pct_slow),
        "fusebox_guard_storm" => return shared!(fusebox_storm("cg"), fusebox_guard_call_storm),
        _ if threads != 1 => {
            eprintln!("{case}: no two-thread variant");
            std::process::exit(2);
        }
        _ => {}
    }
    match case.as_str() {
        "op" => sync_loop(n, |i| op(i).unwrap_or(0)),
        "op_async" => async_loop!(rt, n, |i| op_async(i).await.unwrap_or(0)),
        // The bare op of the 1 %-failing rows (its `% 100` is most of its cost over `op`).
        "op_1pct_failing" => sync_loop(n, |i| op_failing_every(i, 100).unwrap_or(0)),
        "atomic_rmw_pair" => {
            let a = AtomicU64::new(0);
            sync_loop(n, |i| {
                a.fetch_add(1, Ordering::AcqRel);
                let v = op(i).unwrap_or(0);
                a.fetch_sub(1, Ordering::AcqRel);
                v
            })
        }
        "parking_lot_mutex" => {
            let m = parking_lot::Mutex::new(0u64);
            sync_loop(n, |i| {
                let mut g = m.lock();
                *g = g.wrapping_add(i);
                *g
            })
        }
        "std_mutex" => {
            let m = std::sync::Mutex::new(0u64);
            sync_loop(n, |i| {
                let mut g = m.lock().unwrap();
                *g = g.wrapping_add(i);
                *g
            })
        }
        "instant_now" => sync_loop(n, |_| {
            black_box(std::time::Instant::now());
            0
        }),
        // Bulkhead acquire + release against tokio's semaphore (benches/bulkhead.rs times them).
        "bulkhead_try" => {
            let b = fusebox::bulkhead::Bulkhead::new("cg", Default::default());
            sync_loop(n, |i| {
                drop(black_box(b.try_acquire_permission()));
                i
            })
        }
        "tokio_semaphore_try" => {
            let s = tokio::sync::Semaphore::new(25);
            sync_loop(n, |i| {
                drop(black_box(s.try_acquire()));
                i
            })
        }
        "bulkhead_async" => {
            let b = fusebox::bulkhead::Bulkhead::new("cg", Default::default());
            async_loop!(rt, n, |i| {
                drop(black_box(b.acquire_permission().await));
                i
            })
        }
        "tokio_semaphore_async" => {
            let s = tokio::sync::Semaphore::new(25);
            async_loop!(rt, n, |i| {
                drop(black_box(s.acquire().await));
                i
            })
        }
        // bulkhead semaphore (sem): one slot held, a waiting acquire (under a 1 s timeout) polled
        // into the queue, the slot given back (handed to the waiter), the waiter polled again.
        "bulkhead_handoff" => {
            let config = fusebox::bulkhead::BulkheadConfig::builder()
                .max_concurrent_calls(1)
                .max_wait_duration(std::time::Duration::from_secs(1))
                .build()
                .unwrap();
            let b = fusebox::bulkhead::Bulkhead::new("cg", config);
            async_loop!(rt, n, |i| {
                let held = b.try_acquire_permission();
                handoff(b.acquire_permission(), move || drop(held)).await;
                i
            })
        }
        "tokio_semaphore_handoff" => {
            let s = tokio::sync::Semaphore::new(1);
            async_loop!(rt, n, |i| {
                let held = s.try_acquire();
                let wait = tokio::time::timeout(std::time::Duration::from_secs(1), s.acquire());
                handoff(wait, move || drop(held)).await;
                i
            })
        }
        "fusebox_lowlevel" => {
            let b = fusebox_closed("cg");
            sync_loop(n, |i| fusebox_lowlevel_call(&b, i))
        }
        "fusebox_guard_async" => {
            let b = fusebox_closed("cg");
            async_loop!(rt, n, |i| fusebox_guard_async(&b, i).await)
        }
        "fusebox_call_async" => {
            let b = fusebox_closed("cg");
            async_loop!(rt, n, |i| fusebox_call_async(&b, i).await)
        }
        "fusebox_macro" => {
            if !macro_case::run(&rt, n) {
                eprintln!("fusebox_macro: #[fusebox::circuit_breaker] is not available yet");
                std::process::exit(2);
            }
        }
        "fusebox_open_guard" => {
            let b = fusebox_open("cg");
            sync_loop(n, |i| fusebox_guard_call(&b, i))
        }
        "fusebox_forced_open_guard" => {
            let b = fusebox_forced_open("cg");
            sync_loop(n, |i| fusebox_guard_call(&b, i))
        }
        "recloser_sync" => {
            let r = recloser_closed();
            sync_loop(n, |i| recloser_call(&r, i))
        }
        "recloser_async" => {
            let r: recloser::AsyncRecloser = recloser_closed().into();
            async_loop!(rt, n, |i| recloser_call_async(&r, i).await)
        }
        "recloser_open" => {
            let r = recloser_open();
            sync_loop(n, |i| recloser_call(&r, i))
        }
        "failsafe_default_sync" => {
            let f = failsafe_default();
            sync_loop(n, |i| failsafe_call(&f, i))
        }
        "failsafe_consecutive_sync" => {
            let f = failsafe_consecutive();
            sync_loop(n, |i| failsafe_call(&f, i))
        }
        "failsafe_default_async" => {
            let f = failsafe_default();
            async_loop!(rt, n, |i| failsafe_call_async(&f, i).await)
        }
        "failsafe_open" => {
            let f = failsafe_open();
            sync_loop(n, |i| failsafe_call(&f, i))
        }
        "tower_resilience_async" => {
            let (mut s, _h) = tower_closed();
            async_loop!(rt, n, |i| tower_call(&mut s, i).await)
        }
        "tower_resilience_open" => {
            let mut s = tower_open(&rt);
            async_loop!(rt, n, |i| tower_call(&mut s, i).await)
        }
        // --- macrospeed: a retry whose first attempt succeeds (Resilience4j's default config) ---
        "retry_call_first_attempt" => {
            let r = fusebox::Registry::new()
                .retry_with_config("cg", fusebox::retry::RetryConfig::default());
            async_loop!(rt, n, |i| r.call(|| op_async(i)).await.unwrap_or(0))
        }
        "retry_macro_first_attempt" => retry_case::run(&rt, n),
        other => {
            eprintln!("unknown case {other}; cases: {}", CASES.join(" "));
            std::process::exit(2);
        }
    }
}
