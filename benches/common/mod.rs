//! Shared by `benches/peers.rs` (criterion) and `benches/callgrind/main.rs` (instruction
//! counts): the trivial op every breaker wraps, and each breaker set up closed or open the same
//! way in both binaries. See BENCHMARKS.md for the method.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use fusebox::{BreakerError, CircuitBreaker, CircuitBreakerConfig, Registry};

/// The error type of the trivial op (never produced).
#[derive(Debug)]
pub struct MyErr;

impl std::fmt::Display for MyErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

impl std::error::Error for MyErr {}

/// What `#[circuit_breaker]` without a fallback needs from the error type.
impl From<BreakerError> for MyErr {
    fn from(_: BreakerError) -> Self {
        MyErr
    }
}

/// The trivial op that every breaker wraps (as in peers.md).
#[inline(never)]
pub fn op(x: u64) -> Result<u64, MyErr> {
    Ok(black_box(x) + 1)
}

/// The trivial op as an immediately ready `async fn`.
#[inline(never)]
pub async fn op_async(x: u64) -> Result<u64, MyErr> {
    Ok(black_box(x) + 1)
}

pub const HOUR: Duration = Duration::from_secs(3600);

/// A tokio current-thread runtime, built once and reused (one `block_on` per sample).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime")
}

// ---------------------------------------------------------------- fusebox

/// A fusebox breaker with Resilience4j's default config (count window of 100, slow-call
/// detection at 60 s), from its own registry.
pub fn fusebox_closed(name: &str) -> CircuitBreaker {
    Registry::new().circuit_breaker_with_config(name, CircuitBreakerConfig::default())
}

/// OPEN for an hour (a real OPEN state: the wait is checked on every call).
pub fn fusebox_open(name: &str) -> CircuitBreaker {
    let b = fusebox_closed(name);
    b.transition_to_open_state_for(HOUR).expect("to OPEN");
    assert!(!b.try_acquire_permission(), "fusebox OPEN must reject");
    b
}

/// FORCED_OPEN (rejects without looking at any time).
pub fn fusebox_forced_open(name: &str) -> CircuitBreaker {
    let b = fusebox_closed(name);
    b.transition_to_forced_open_state().expect("to FORCED_OPEN");
    assert!(
        !b.try_acquire_permission(),
        "fusebox FORCED_OPEN must reject"
    );
    b
}

/// CLOSED with a time-based window (10 one-second buckets): every record takes the lock,
/// since a success changes the window's counts.
pub fn fusebox_closed_time_window(name: &str) -> CircuitBreaker {
    Registry::new().circuit_breaker_with_config(
        name,
        CircuitBreakerConfig::builder()
            .sliding_window_type(fusebox::SlidingWindowType::TimeBased)
            .sliding_window_size(10)
            .build()
            .expect("a valid config"),
    )
}

/// [`fusebox_closed`] with call stats off (they are on by default: the `observe` monitor reads
/// them). The healthy path is then the write-free `CLEAN` one; with them on it does one
/// uncontended atomic add per call on its thread's shard. The pair of rows is issue 12's
/// "metrics on costs at most 5 ns more" comparison.
pub fn fusebox_closed_stats_off(name: &str) -> CircuitBreaker {
    Registry::new().circuit_breaker_with_config(
        name,
        CircuitBreakerConfig::builder()
            .call_stats_enabled(false)
            .build()
            .expect("a valid config"),
    )
}

/// CLOSED and healthy again (call stats on): its window held a failure, since evicted by
/// fast successes, and a metrics read (as a scrape does) merged them.
pub fn fusebox_recovered(name: &str) -> CircuitBreaker {
    let b = fusebox_closed(name);
    assert!(b.try_acquire_permission());
    b.on_error(Duration::from_micros(20));
    for _ in 0..250 {
        assert!(b.try_acquire_permission());
        b.on_success(Duration::from_micros(20));
    }
    assert_eq!(b.metrics().number_of_failed_calls(), 0);
    b
}

/// A failure storm: half the calls fail, so the breaker (window of 10) trips, waits 1 ms in
/// OPEN, half-opens with 4 probes, and trips again, over and over.
pub fn fusebox_storm(name: &str) -> CircuitBreaker {
    Registry::new().circuit_breaker_with_config(
        name,
        CircuitBreakerConfig::builder()
            .sliding_window_size(10)
            .minimum_number_of_calls(10)
            .permitted_number_of_calls_in_half_open_state(4)
            .wait_duration_in_open_state(Duration::from_millis(1))
            .build()
            .expect("a valid config"),
    )
}

/// The guard around an op failing every other call (the storm).
#[inline]
pub fn fusebox_guard_call_storm(b: &CircuitBreaker, x: u64) -> u64 {
    guard_call(b, x, |x| op_failing_every(x, 2))
}

/// A fast call's duration, and a slow one's (above the default 60 s threshold).
pub const FAST: Duration = Duration::from_micros(20);
pub const SLOW: Duration = Duration::from_secs(61);

/// The low-level API with a given duration: `try_acquire_permission` → op → `on_success`,
/// one call in 100 reported as slow (the guard measures real time, which a bench cannot make
/// slow once in 100 calls without sleeping).
#[inline]
pub fn fusebox_call_1pct_slow(b: &CircuitBreaker, x: u64) -> u64 {
    if !b.try_acquire_permission() {
        return 0;
    }
    let v = op(x).unwrap_or(0);
    b.on_success(if black_box(x).is_multiple_of(100) {
        SLOW
    } else {
        FAST
    });
    v
}

/// The same, every call fast: the baseline of [`fusebox_call_1pct_slow`].
#[inline]
pub fn fusebox_call_fast(b: &CircuitBreaker, x: u64) -> u64 {
    if !b.try_acquire_permission() {
        return 0;
    }
    let v = op(x).unwrap_or(0);
    b.on_success(FAST);
    v
}

/// The trivial op failing once every `period` calls (never enough to trip the default
/// threshold of 50 %): the window always holds a failure, so every record takes the lock.
#[inline(never)]
pub fn op_failing_every(x: u64, period: u64) -> Result<u64, MyErr> {
    if black_box(x).is_multiple_of(period) {
        Err(MyErr)
    } else {
        Ok(x + 1)
    }
}

/// The guard around [`op_failing_every`] with a period of 100 (1 % failures).
#[inline]
pub fn fusebox_guard_call_1pct_failing(b: &CircuitBreaker, x: u64) -> u64 {
    guard_call(b, x, |x| op_failing_every(x, 100))
}

/// Guard API: `try_acquire` → op → `on_success` / `on_error` (the permit measures the time).
#[inline]
pub fn fusebox_guard_call(b: &CircuitBreaker, x: u64) -> u64 {
    guard_call(b, x, op)
}

/// The guard API around `op`, as a user writes it.
#[inline(always)]
fn guard_call(b: &CircuitBreaker, x: u64, op: impl FnOnce(u64) -> Result<u64, MyErr>) -> u64 {
    match b.try_acquire() {
        Ok(permit) => match op(x) {
            Ok(v) => {
                permit.on_success();
                v
            }
            Err(_) => {
                permit.on_error();
                0
            }
        },
        Err(_) => 0,
    }
}

/// Low-level API: `try_acquire_permission` → op timed with `Instant` → `on_success(elapsed)`.
#[inline]
pub fn fusebox_lowlevel_call(b: &CircuitBreaker, x: u64) -> u64 {
    if !b.try_acquire_permission() {
        return 0;
    }
    let start = std::time::Instant::now();
    let r = op(x);
    let elapsed = start.elapsed();
    match r {
        Ok(v) => {
            b.on_success(elapsed);
            v
        }
        Err(_) => {
            b.on_error(elapsed);
            0
        }
    }
}

/// The guard API written by hand in an `async fn`: the baseline a `#[circuit_breaker]`
/// function is held to.
pub async fn fusebox_guard_async(b: &CircuitBreaker, x: u64) -> u64 {
    match b.try_acquire() {
        Ok(permit) => match op_async(x).await {
            Ok(v) => {
                permit.on_success();
                v
            }
            Err(_) => {
                permit.on_error();
                0
            }
        },
        Err(_) => 0,
    }
}

/// `CircuitBreaker::call` around the async op.
#[inline]
pub async fn fusebox_call_async(b: &CircuitBreaker, x: u64) -> u64 {
    b.call(op_async(x)).await.unwrap_or(0)
}

// ---------------------------------------------------------------- recloser

/// recloser with its defaults (closed ring of 100, error rate 0.5, open wait 30 s).
pub fn recloser_closed() -> recloser::Recloser {
    recloser::Recloser::custom().build()
}

/// recloser OPEN: ring of 1, one failure, open wait of an hour.
pub fn recloser_open() -> recloser::Recloser {
    let r = recloser::Recloser::custom()
        .closed_len(1)
        .open_wait(HOUR)
        .build();
    for _ in 0..3 {
        let _ = r.call(|| Err::<(), MyErr>(MyErr));
    }
    assert!(
        matches!(r.call(|| op(1)), Err(recloser::Error::Rejected)),
        "recloser must reject"
    );
    r
}

#[inline]
pub fn recloser_call(r: &recloser::Recloser, x: u64) -> u64 {
    r.call(|| op(x)).unwrap_or(0)
}

#[inline]
pub async fn recloser_call_async(r: &recloser::AsyncRecloser, x: u64) -> u64 {
    r.call(op_async(x)).await.unwrap_or(0)
}

// ---------------------------------------------------------------- failsafe

pub trait Failsafe:
    failsafe::CircuitBreaker + failsafe::futures::CircuitBreaker + Clone + Send + Sync + 'static
{
}
impl<T> Failsafe for T where
    T: failsafe::CircuitBreaker + failsafe::futures::CircuitBreaker + Clone + Send + Sync + 'static
{
}

/// failsafe's default policy: success rate over a time window, or else consecutive failures.
pub fn failsafe_default() -> impl Failsafe {
    failsafe::Config::new().build()
}

/// failsafe with the consecutive-failures policy only (5 failures, 1 h backoff).
pub fn failsafe_consecutive() -> impl Failsafe {
    failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(
            5,
            failsafe::backoff::constant(HOUR),
        ))
        .build()
}

/// failsafe OPEN: consecutive_failures(1, 1 h) and one failure.
pub fn failsafe_open() -> impl Failsafe {
    let f = failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(
            1,
            failsafe::backoff::constant(HOUR),
        ))
        .build();
    let _ = failsafe::CircuitBreaker::call(&f, || Err::<(), MyErr>(MyErr));
    assert!(
        matches!(
            failsafe::CircuitBreaker::call(&f, || op(1)),
            Err(failsafe::Error::Rejected)
        ),
        "failsafe must reject"
    );
    f
}

#[inline]
pub fn failsafe_call(f: &impl failsafe::CircuitBreaker, x: u64) -> u64 {
    f.call(|| op(x)).unwrap_or(0)
}

#[inline]
pub async fn failsafe_call_async(f: &impl failsafe::futures::CircuitBreaker, x: u64) -> u64 {
    f.call(op_async(x)).await.unwrap_or(0)
}

// ---------------------------------------------------------------- tower-resilience

pub use tower_resilience::circuitbreaker as trcb;

/// tower-resilience's circuit breaker with its defaults around the async op, and its handle.
pub fn tower_closed() -> (
    impl tower::Service<
        u64,
        Response = u64,
        Error = trcb::CircuitBreakerError<MyErr>,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static,
    trcb::CircuitBreakerHandle,
) {
    let (layer, handle) = trcb::CircuitBreakerLayer::builder()
        .build_with_handle()
        .expect("tower-resilience config");
    let svc = layer.layer_fn(tower::service_fn(op_async));
    (svc, handle)
}

/// tower-resilience forced open (`handle.force_open()`), as in peers.md.
pub fn tower_open(
    rt: &tokio::runtime::Runtime,
) -> impl tower::Service<
    u64,
    Response = u64,
    Error = trcb::CircuitBreakerError<MyErr>,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    let (mut svc, handle) = tower_closed();
    rt.block_on(async {
        handle.force_open().await;
        let r = tower_call(&mut svc, 1).await;
        assert_eq!(r, u64::MAX, "tower-resilience must reject");
    });
    svc
}

/// `svc.ready().await?.call(x).await`; a rejection (or any error) gives `u64::MAX`.
#[inline]
pub async fn tower_call<S>(svc: &mut S, x: u64) -> u64
where
    S: tower::Service<u64, Response = u64>,
{
    use tower::ServiceExt;
    match svc.ready().await {
        Ok(ready) => ready.call(x).await.unwrap_or(u64::MAX),
        Err(_) => u64::MAX,
    }
}

// ---------------------------------------------------------------- harness

/// Criterion as the small benches (bulkhead, retry, tower layers) run it: no plots, 0.3 s
/// warm-up, 30 samples over `measurement`; the command line may override each.
pub fn short_criterion(measurement: Duration) -> criterion::Criterion {
    criterion::Criterion::default()
        .without_plots()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(measurement)
        .sample_size(30)
        .configure_from_args()
}

/// `$iters` calls of `$call` in one `block_on` (one per sample), timed inside it: the figure is
/// the cost of polling the call's future, not of entering the runtime.
#[allow(unused_macros)]
macro_rules! timed_async_loop {
    ($rt:expr, $iters:expr, |$i:ident| $call:expr) => {{
        let iters = $iters;
        $rt.block_on(async {
            let start = std::time::Instant::now();
            for $i in 0..iters {
                let $i = std::hint::black_box($i);
                std::hint::black_box($call);
            }
            start.elapsed()
        })
    }};
}
#[allow(unused_imports)]
pub(crate) use timed_async_loop;
