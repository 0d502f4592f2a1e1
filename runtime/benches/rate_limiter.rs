//! The uncontended rate-limiter acquire against `governor`'s `check()`, on 1 and 2 threads, in
//! one criterion run (issue 14's speed target: no more than governor's check).
//!
//! ```text
//! cargo bench -p fusebox-runtime --no-default-features --features fast-clock --bench rate_limiter
//! RL_CALLGRIND=fusebox_reserve_precise:1000000 valgrind --tool=callgrind \
//!     --collect-atstart=no --toggle-collect='rate_limiter::calls' \
//!     target/release/deps/rate_limiter-<hash>     # instructions of n calls of one case
//! ```
//!
//! Without `fast-clock` the `_precise` rows read the OS monotonic clock (the limiter's clock
//! without that feature). Callgrind counts only the calls (`calls`), not the quanta
//! calibration, which the driver runs first (as governor's constructor does) so that the
//! limiter reads the counter from its first call.
//!
//! Limits are high enough that no call in the run is refused or waits: the rows measure the
//! permitted path (the clock read, the state word's compare-and-swap, the event check). The
//! limiters have a 1 s period, so their default clock is the 1 ms tick (`_tick` rows, what a
//! default-configured limiter does); `_precise` rows set `PreciseClock` (what periods under
//! 100 ms read). `fusebox_reserve_r4j_default` is Resilience4j's default config (50 permits per
//! 500 ns) with timeout 0: the precise clock, and a new cycle every dozen calls. governor uses its default clock (quanta). `clock_std` and `clock_quanta` are
//! the two precise clocks on their own: `Instant::elapsed` and quanta's raw counter read and
//! scaling (what the limiter's counter reads).

#![allow(missing_docs)]

use criterion::Criterion;
use fusebox_runtime::rate_limiter::{RateLimiter, RateLimiterConfig};
use fusebox_runtime::{PreciseClock, SystemClock};
use governor::{Quota, RateLimiter as Governor};
use std::future::Future;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A limiter that never refuses within a run: 2^31 - 1 permits per second.
fn fusebox(tick: bool) -> RateLimiter {
    let builder = RateLimiterConfig::builder()
        .limit_for_period(i32::MAX as u32)
        .limit_refresh_period(Duration::from_secs(1))
        .timeout_duration(Duration::ZERO);
    let builder = if tick {
        builder.clock(SystemClock)
    } else {
        builder.clock(PreciseClock)
    };
    RateLimiter::new("bench", builder.build().unwrap())
}

/// Resilience4j's defaults (50 permits per 500 ns cycle), timeout 0: the clock the period picks
/// (the precise one), a new cycle every dozen calls or so, never refused (a call takes longer
/// than 500 / 50 ns).
fn fusebox_r4j_default() -> RateLimiter {
    let config = RateLimiterConfig::builder()
        .limit_for_period(50)
        .limit_refresh_period(Duration::from_nanos(500))
        .timeout_duration(Duration::ZERO)
        .build()
        .unwrap();
    RateLimiter::new("bench", config)
}

type DirectGovernor = governor::DefaultDirectRateLimiter;

fn governor() -> DirectGovernor {
    Governor::direct(Quota::per_second(NonZeroU32::MAX))
}

/// Polls the acquire once: a permitted acquire is ready at the first poll.
fn acquire_now(l: &RateLimiter) -> bool {
    let fut = pin!(l.acquire_permission(1));
    let mut cx = Context::from_waker(Waker::noop());
    matches!(fut.poll(&mut cx), Poll::Ready(Ok(())))
}

/// One case: a shared limiter and the call each thread makes.
#[derive(Clone)]
enum Case {
    Reserve(RateLimiter),
    Acquire(RateLimiter),
    Governor(Arc<DirectGovernor>),
    /// The OS monotonic clock (`PreciseClock`'s read).
    ClockStd(Instant),
    /// quanta's counter read and scaling (the limiter's `fast-clock` read).
    ClockQuanta(quanta::Clock, u64),
}

impl Case {
    fn of(name: &str) -> Case {
        match name {
            "fusebox_reserve_precise" => Case::Reserve(fusebox(false)),
            "fusebox_reserve_tick" => Case::Reserve(fusebox(true)),
            "fusebox_acquire_precise" => Case::Acquire(fusebox(false)),
            "fusebox_acquire_tick" => Case::Acquire(fusebox(true)),
            "fusebox_reserve_r4j_default" => Case::Reserve(fusebox_r4j_default()),
            "governor_check" => Case::Governor(Arc::new(governor())),
            // Callgrind only: the acquire of a limiter the `observe` monitor watches (a
            // subscription without SUCCESSFUL_ACQUIRE, its default), and of one whose
            // subscriber takes every event (queue full after 16: each call still builds one).
            "fusebox_acquire_tick_watched" => {
                let l = fusebox(true);
                std::mem::forget(l.subscribe_except_successes(16));
                Case::Acquire(l)
            }
            "fusebox_acquire_tick_all_events" => {
                let l = fusebox(true);
                std::mem::forget(l.subscribe(16));
                Case::Acquire(l)
            }
            "clock_std" => Case::ClockStd(Instant::now()),
            "clock_quanta" => {
                let c = quanta::Clock::new();
                let r = c.raw();
                Case::ClockQuanta(c, r)
            }
            other => panic!("unknown case {other}"),
        }
    }

    #[inline]
    fn call(&self) -> bool {
        match self {
            Case::Reserve(l) => l.reserve_permission(1).is_ok(),
            Case::Acquire(l) => acquire_now(l),
            Case::Governor(g) => g.check().is_ok(),
            Case::ClockStd(i) => black_box(i.elapsed().as_nanos() as u64) != u64::MAX,
            Case::ClockQuanta(c, r) => black_box(c.delta_as_nanos(*r, c.raw())) != u64::MAX,
        }
    }
}

const CASES: &[&str] = &[
    "clock_std",
    "clock_quanta",
    "governor_check",
    "fusebox_reserve_precise",
    "fusebox_acquire_precise",
    "fusebox_reserve_tick",
    "fusebox_acquire_tick",
    "fusebox_reserve_r4j_default",
];

/// `threads` threads released together, `iters` calls each; wall time / threads.
fn threaded(case: &Case, threads: usize, iters: u64) -> Duration {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let case = case.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..iters {
                    assert!(black_box(case.call()));
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    handles.into_iter().for_each(|h| h.join().unwrap());
    start.elapsed() / threads as u32
}

/// The calls callgrind counts (`--toggle-collect='rate_limiter::calls'`).
#[inline(never)]
fn calls(case: &Case, n: u64) {
    for _ in 0..n {
        black_box(case.call());
    }
}

fn main() {
    if let Ok(spec) = std::env::var("RL_CALLGRIND") {
        let (name, n) = spec.split_once(':').expect("RL_CALLGRIND=<case>:<n>");
        let n: u64 = n.parse().expect("a call count");
        // quanta's calibration first, as governor's constructor runs it, so the limiter's
        // calibration thread finds it done and publishes the counter at once.
        drop(quanta::Clock::new());
        let case = Case::of(name);
        std::thread::sleep(Duration::from_millis(100));
        calls(&case, n);
        return;
    }
    let mut c = Criterion::default()
        .without_plots()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
        .configure_from_args();
    let mut g = c.benchmark_group("rate_limiter");
    // Interleaved: for each thread count, every case in turn.
    for threads in [1, 2] {
        for name in CASES {
            let case = Case::of(name);
            g.bench_function(format!("{name}/{threads}t"), |b| {
                if threads == 1 {
                    b.iter(|| assert!(case.call()))
                } else {
                    b.iter_custom(|n| threaded(&case, threads, n))
                }
            });
        }
    }
    g.finish();
    c.final_summary();
}
