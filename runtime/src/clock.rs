//! Time sources for breakers: the [`Clock`] trait, the [`SystemClock`] default and the
//! [`ManualClock`] for tests.
//!
//! A clock answers one question: how many nanoseconds have passed since the Unix epoch. The
//! breaker uses it for the OPEN-state wait, the time-based window's one-second buckets (which are
//! aligned to whole epoch seconds, as Resilience4j aligns them) and the duration of guarded calls.

use std::fmt;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time for circuit breakers.
///
/// Implementations must be monotonic: `now_nanos` never goes backwards. The value is nanoseconds
/// since the Unix epoch, so that time-based sliding windows bucket calls by whole epoch seconds.
///
/// ```
/// use fusebox_runtime::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.now_nanos(), 1_500_000_000);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Nanoseconds since the Unix epoch; never decreases.
    fn now_nanos(&self) -> u64;
}

/// The default clock: wall-clock time at first use, advanced by the monotonic clock, read from
/// a **1 ms tick**.
///
/// Reading the monotonic clock costs 20-50 ns on a typical cloud VM (more than the whole rest of
/// a permitted breaker call), and a breaker reads it twice per call to measure the duration. So
/// the default clock is a tick: a background thread (`fusebox-clock`, started on first use)
/// stores the time every millisecond, and reading it is one atomic load. Durations therefore
/// have a resolution of about 1 ms, which is plenty for slow-call thresholds of tens of
/// milliseconds and more (Resilience4j's default is 60 s). For sub-millisecond thresholds use
/// [`PreciseClock`].
///
/// Durations are monotonic: a wall-clock step does not make a call look slow. The epoch
/// anchoring only decides where time-window buckets start.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

/// A clock that reads the monotonic clock on every call (anchored to the wall clock at first
/// use, like [`SystemClock`]): exact durations, at the price of a clock read.
///
/// ```
/// use fusebox_runtime::{CircuitBreakerConfig, PreciseClock};
/// use std::time::Duration;
/// // Sub-millisecond slow-call thresholds need exact durations.
/// let config = CircuitBreakerConfig::builder()
///     .slow_call_duration_threshold(Duration::from_micros(300))
///     .clock(PreciseClock)
///     .build()?;
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PreciseClock;

struct Anchor {
    instant: Instant,
    epoch_nanos: u64,
}

fn anchor() -> &'static Anchor {
    static ANCHOR: OnceLock<Anchor> = OnceLock::new();
    ANCHOR.get_or_init(|| Anchor {
        instant: Instant::now(),
        epoch_nanos: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
    })
}

#[inline]
fn precise_now() -> u64 {
    let a = anchor();
    // u64 nanoseconds overflow in the year 2554.
    a.epoch_nanos
        .saturating_add(a.instant.elapsed().as_nanos() as u64)
}

impl Clock for PreciseClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        precise_now()
    }
}

/// The tick: 0 until the ticker thread has stored its first reading.
static TICK: AtomicU64 = AtomicU64::new(0);
const TICK_PERIOD: Duration = Duration::from_millis(1);

#[cold]
fn start_ticker() -> u64 {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        TICK.store(precise_now(), Ordering::Release);
        let spawned = std::thread::Builder::new()
            .name("fusebox-clock".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(TICK_PERIOD);
                    TICK.store(precise_now(), Ordering::Release);
                }
            });
        if let Err(e) = spawned {
            // No thread, no tick: every read falls back to the precise clock.
            TICK.store(0, Ordering::Release);
            tracing::warn!(error = %e, "fusebox: cannot start the clock thread; reading the monotonic clock per call instead");
        }
    });
    match TICK.load(Ordering::Acquire) {
        0 => precise_now(),
        t => t,
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        match TICK.load(Ordering::Acquire) {
            0 => start_ticker(),
            t => t,
        }
    }
}

/// A clock that moves only when told to; clones share one time.
///
/// It starts at the Unix epoch (so one-second buckets of time-based windows start at whole
/// seconds), and is what tests use to step through OPEN waits and window expiry without sleeping.
///
/// ```
/// use fusebox_runtime::ManualClock;
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let shared = clock.clone();
/// shared.advance(Duration::from_secs(2));
/// assert_eq!(clock.elapsed(), Duration::from_secs(2));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at the Unix epoch.
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock at `since_epoch` after the Unix epoch.
    pub fn at(since_epoch: Duration) -> Self {
        let clock = Self::new();
        clock.set(since_epoch);
        clock
    }

    /// Moves the clock (and all its clones) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(by))
            })
            .ok();
    }

    /// Sets the time since the Unix epoch. Setting it backwards is ignored (clocks are monotonic).
    pub fn set(&self, since_epoch: Duration) {
        let to = u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_max(to, Ordering::AcqRel);
    }

    /// The time since the Unix epoch.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::Acquire)
    }
}

/// The clock a breaker holds: the two built-in clocks without dynamic dispatch, any other behind
/// an `Arc`.
#[derive(Clone, Debug, Default)]
pub(crate) enum ClockSource {
    #[default]
    System,
    Precise,
    Manual(ManualClock),
    Custom(Arc<dyn Clock>),
}

impl ClockSource {
    pub(crate) fn from_clock<C: Clock>(clock: C) -> Self {
        let any: &dyn std::any::Any = &clock;
        if any.is::<SystemClock>() {
            return ClockSource::System;
        }
        if any.is::<PreciseClock>() {
            return ClockSource::Precise;
        }
        if let Some(manual) = any.downcast_ref::<ManualClock>() {
            return ClockSource::Manual(manual.clone());
        }
        ClockSource::Custom(Arc::new(clock))
    }

    /// The time now. The default clock's read is inlined (one atomic load and two compares);
    /// the others are a call away.
    #[inline]
    pub(crate) fn now_nanos(&self) -> u64 {
        if let ClockSource::System = self {
            let t = TICK.load(Ordering::Acquire);
            if t != 0 {
                return t;
            }
        }
        self.now_nanos_other()
    }

    #[inline(never)]
    fn now_nanos_other(&self) -> u64 {
        match self {
            ClockSource::System => SystemClock.now_nanos(),
            ClockSource::Precise => precise_now(),
            ClockSource::Manual(m) => m.now_nanos(),
            ClockSource::Custom(c) => c.now_nanos(),
        }
    }

    pub(crate) fn is_manual(&self) -> bool {
        !matches!(self, ClockSource::System | ClockSource::Precise)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_clones_share_time_and_never_go_back() {
        let a = ManualClock::new();
        let b = a.clone();
        b.advance(Duration::from_millis(5));
        assert_eq!(a.now_nanos(), 5_000_000);
        a.set(Duration::from_millis(1));
        assert_eq!(b.now_nanos(), 5_000_000);
        a.set(Duration::from_secs(1));
        assert_eq!(b.elapsed(), Duration::from_secs(1));
    }

    #[test]
    fn system_clock_is_monotonic_epoch_anchored_and_ticks() {
        let first = SystemClock.now_nanos();
        let second = SystemClock.now_nanos();
        assert!(second >= first);
        // After 2020-01-01.
        assert!(first > 1_577_836_800_000_000_000);
        std::thread::sleep(Duration::from_millis(20));
        let later = SystemClock.now_nanos();
        assert!(
            later - first >= 10_000_000,
            "the tick advances: {}",
            later - first
        );
        assert!(PreciseClock.now_nanos() >= later);
    }

    #[test]
    fn clock_source_recognises_builtin_clocks() {
        assert!(matches!(
            ClockSource::from_clock(SystemClock),
            ClockSource::System
        ));
        let m = ManualClock::new();
        let src = ClockSource::from_clock(m.clone());
        m.advance(Duration::from_nanos(7));
        assert_eq!(src.now_nanos(), 7);
    }
}
