//! Time sources for breakers: the [`Clock`] trait, the [`SystemClock`] default and the
//! [`ManualClock`] for tests.
//!
//! A clock answers one question: how many nanoseconds have passed since the Unix epoch. The
//! breaker uses it for the OPEN-state wait, the time-based window's one-second buckets (which are
//! aligned to whole epoch seconds, as Resilience4j aligns them) and the duration of guarded calls.
//!
//! # The default clock's tick, and why an idle process pays nothing for it
//!
//! Reading the monotonic clock costs more than the rest of a permitted call, so [`SystemClock`]
//! reads a tick instead: one static `AtomicU64` that a background thread (`fusebox-clock`) stores
//! the time into every millisecond. A ticker that never stops costs an idle process about a
//! thousand wakeups a second, so the ticker works on a **lease**:
//!
//! * **Awake.** After it is woken the ticker stores a fresh reading at once, then one every
//!   millisecond, for one lease (`LEASE`, one second).
//! * **Asleep.** At the end of the lease it clears its `awake` flag, stores an "asleep" sentinel
//!   into the tick and parks. A parked thread costs no CPU and no wakeups. A sentinel is a value
//!   with the top bit set (no reading has it before the year 2262) plus the number of the sleep,
//!   so that each sleep has its own; `0` means "not started yet".
//! * **Reading.** The fast path is one load of the tick and one sign test: a positive value is
//!   the time. A reader that finds a sentinel (or `0`) takes the cold path: it reads the
//!   monotonic clock itself, so the first call after an idle period is timed exactly, and wakes
//!   the ticker. Only the reader that flips `awake` from false to true unparks (or, the first
//!   time, spawns) the thread; a burst of readers finds the flag set and just reads the clock.
//!   The reader that woke the thread then reads the clock once more and publishes that reading
//!   with a compare-exchange *from the sentinel it saw*, so the others are back on the fast path
//!   without waiting for the thread to be scheduled. Under steady traffic all this happens once
//!   per lease.
//!
//! Orderings and what a reader can see:
//!
//! * The ticker clears `awake` *before* it stores the sentinel (release), so a reader that loads
//!   the sentinel (acquire) also sees `awake == false` (or a later wake) and cannot miss waking it.
//! * No reading from before a sleep is ever served as current: the ticker's first store after a
//!   wake is read from the clock after the wake, and a reader publishes only a reading taken after
//!   it woke the thread, only over the sentinel of the sleep it ended (a reader delayed past that
//!   sleep finds a newer value and publishes nothing), and only if a thread exists to take over.
//! * The ticker never stores a reading below the current one (a reader may have published a
//!   later one), so the tick never goes back.
//! * A tick is up to one period old, like every tick (also the last one before a sentinel).
//! * A precise reading from the cold path can be a little newer than a tick read just after it
//!   (by the time between a clock read and its store, normally well under a microsecond).
//!   Durations saturate at zero and the time window ignores a step back, so at worst a call that
//!   short is measured as shorter than it was.
//!
//! If the thread cannot be spawned, the tick stays `0` and every read takes the precise path.

use std::fmt;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time for circuit breakers.
///
/// Implementations must be monotonic: `now_nanos` never goes backwards. The value is nanoseconds
/// since the Unix epoch, so that time-based sliding windows bucket calls by whole epoch seconds.
/// `now_nanos` must not panic: a guarded call reads the clock that ends it after its permit has
/// been handed to the recording path, so a panic there leaves the call unrecorded (and, in
/// HALF_OPEN, its probe permit taken).
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
/// a **1 ms tick** while calls are flowing.
///
/// Reading the monotonic clock costs 20-50 ns on a typical cloud VM (more than the whole rest of
/// a permitted breaker call), and a breaker reads it twice per call to measure the duration. So
/// the default clock is a tick: a background thread (`fusebox-clock`, started on first use)
/// stores the time every millisecond for about a second after it was last woken, and reading it
/// is one atomic load. Then the thread parks, and the next read finds the tick asleep, reads the
/// monotonic clock itself (so the first call after an idle period is timed exactly) and wakes the
/// thread. An idle process therefore pays nothing for the clock (the module documentation has the
/// details).
///
/// Durations have a resolution of about 1 ms, which is plenty for slow-call thresholds of tens of
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

/// How long the ticker keeps ticking after a read woke it.
const LEASE: Duration = Duration::from_secs(1);
/// How often the ticker stores the time while it is awake.
const TICK_PERIOD: Duration = Duration::from_millis(1);
/// The top bit: set in the "asleep" sentinels, clear in every reading.
const ASLEEP: u64 = 1 << 63;

/// The ticker behind [`SystemClock`] (see the module documentation).
static TICKER: Ticker = Ticker::new(LEASE);

/// Whether a tick value is a reading, rather than `0` (not started) or an asleep sentinel: one
/// sign test.
#[inline(always)]
fn is_reading(tick: u64) -> bool {
    tick as i64 > 0
}

/// A tick that a background thread keeps current while it is read, and stops when it is not.
struct Ticker {
    /// The latest reading, `0` before the thread's start, or the sentinel of its current sleep.
    tick: AtomicU64,
    /// Set by the reader that wakes the thread; cleared by the thread before it sleeps.
    awake: AtomicBool,
    /// How long the thread ticks after a wake.
    lease: Duration,
    /// The thread, once spawned; `None` if it could not be.
    thread: OnceLock<Option<Thread>>,
    /// Readings the thread stored so far, so that tests can see it stop.
    #[cfg(test)]
    readings: AtomicU64,
}

impl Ticker {
    const fn new(lease: Duration) -> Self {
        Self {
            tick: AtomicU64::new(0),
            awake: AtomicBool::new(false),
            lease,
            thread: OnceLock::new(),
            #[cfg(test)]
            readings: AtomicU64::new(0),
        }
    }

    /// The time now: the tick, or a precise reading (and a wake-up) while the ticker sleeps.
    #[inline]
    fn now(&'static self) -> u64 {
        let t = self.tick.load(Ordering::Acquire);
        if is_reading(t) { t } else { self.now_asleep(t) }
    }

    /// The cold path of [`now`](Self::now), for a reader that saw `seen` (not a reading): read
    /// the monotonic clock and wake the ticker.
    #[cold]
    #[inline(never)]
    fn now_asleep(&'static self, seen: u64) -> u64 {
        let now = precise_now();
        if self.wake() {
            // Serve the others until the thread runs: a reading taken after the wake, published
            // only over the sentinel of the sleep this read ended (never over a reading or a
            // later sleep).
            let fresh = precise_now();
            let _ = self
                .tick
                .compare_exchange(seen, fresh, Ordering::Release, Ordering::Relaxed);
        }
        now
    }

    /// Wakes the thread (spawning it the first time) unless another reader already did; true
    /// when this reader woke a thread.
    fn wake(&'static self) -> bool {
        // Test before the compare-exchange: a burst of readers leaves the flag's line shared.
        if self.awake.load(Ordering::Relaxed)
            || self
                .awake
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        match self.thread.get_or_init(|| self.spawn()) {
            Some(thread) => {
                // Synchronises with the thread's `park`, which then sees `awake == true`.
                thread.unpark();
                true
            }
            None => false,
        }
    }

    #[cold]
    fn spawn(&'static self) -> Option<Thread> {
        let spawned = std::thread::Builder::new()
            .name("fusebox-clock".into())
            .spawn(move || self.run());
        match spawned {
            Ok(handle) => Some(handle.thread().clone()),
            Err(e) => {
                // `awake` stays set, so nobody tries again: every read takes the precise path.
                tracing::warn!(error = %e, "fusebox: cannot start the clock thread; reading the monotonic clock per call instead");
                None
            }
        }
    }

    /// The thread: tick for a lease, sleep until a reader wakes it, and again.
    fn run(&'static self) {
        let lease = u64::try_from(self.lease.as_nanos()).unwrap_or(u64::MAX);
        let mut sleeps: u64 = 0;
        loop {
            let mut now = precise_now();
            let until = now.saturating_add(lease);
            while now < until {
                // Fresh after every wake; never below a reading a waking reader published.
                let _ = self
                    .tick
                    .fetch_update(Ordering::Release, Ordering::Relaxed, |t| {
                        (!is_reading(t) || t < now).then_some(now)
                    });
                #[cfg(test)]
                self.readings.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(TICK_PERIOD);
                now = precise_now();
            }
            // `awake` before the sentinel: a reader that loads the sentinel sees `awake == false`
            // (or a later wake) and so wakes the thread.
            sleeps = sleeps.wrapping_add(1);
            self.awake.store(false, Ordering::Release);
            self.tick.store(ASLEEP | sleeps, Ordering::Release);
            while !self.awake.load(Ordering::Acquire) {
                std::thread::park();
            }
        }
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        TICKER.now()
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
            let t = TICKER.tick.load(Ordering::Acquire);
            if is_reading(t) {
                return t;
            }
        }
        self.now_nanos_other()
    }

    /// The cell that holds the time whenever its value is a reading: the ticker's for the
    /// default clock, one that never does for every other clock. A breaker keeps it next to
    /// its clock and reads the time with [`now_from`](Self::now_from): one load and one sign
    /// test for the default clock, with no match on the source.
    pub(crate) fn tick_cell(&self) -> &'static AtomicU64 {
        /// Never holds a reading: every clock but the default one reads through the source.
        static NO_TICK: AtomicU64 = AtomicU64::new(0);
        match self {
            ClockSource::System => &TICKER.tick,
            _ => &NO_TICK,
        }
    }

    /// The time now, `tick` being this source's [`tick_cell`](Self::tick_cell): the same
    /// reading as [`now_nanos`](Self::now_nanos).
    #[inline]
    pub(crate) fn now_from(&self, tick: &AtomicU64) -> u64 {
        let t = tick.load(Ordering::Acquire);
        if is_reading(t) {
            return t;
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

    /// Polls `done` every millisecond for up to 10 s (generous: the machine may be loaded).
    fn eventually(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn the_ticker_sleeps_after_its_lease_and_a_read_wakes_it() {
        // A ticker of its own with a short lease: other tests read the global one.
        let ticker: &'static Ticker = Box::leak(Box::new(Ticker::new(Duration::from_millis(100))));
        let tick = || ticker.tick.load(Ordering::Acquire);
        assert_eq!(tick(), 0, "not started");
        let first = ticker.now();
        assert!(
            is_reading(first),
            "a read before the first tick is a precise reading"
        );
        eventually("the ticker ticks", || {
            ticker.readings.load(Ordering::Relaxed) > 0
        });
        eventually("the lease ends", || !is_reading(tick()));

        // Asleep: no readings are stored, the tick stays at the sentinel.
        let asleep = tick();
        assert_ne!(asleep, 0);
        let readings = ticker.readings.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(ticker.readings.load(Ordering::Relaxed), readings);
        assert_eq!(tick(), asleep);

        // A read is precise and wakes it; the tick moves on from that sleep's sentinel at once
        // (to a reading the waking read published, or one of the thread's; a later sentinel if
        // the machine is so loaded that a whole lease passed), and a reading is never stale.
        let woke_at = ticker.now();
        assert!(woke_at >= first);
        let after = tick();
        assert_ne!(after, asleep);
        assert!(
            !is_reading(after) || after >= woke_at,
            "{after} < {woke_at}"
        );
        eventually("the woken thread ticks", || {
            ticker.readings.load(Ordering::Relaxed) > readings
        });
        // Reads while it is awake are readings, and never go back.
        let mut last = woke_at;
        for _ in 0..1_000 {
            let now = ticker.now();
            assert!(now >= last);
            last = now;
        }
        eventually("it sleeps again after one more lease", || {
            let t = tick();
            !is_reading(t) && t != asleep && !ticker.awake.load(Ordering::Acquire)
        });
    }

    #[test]
    fn sentinels_and_zero_are_not_readings() {
        assert!(!is_reading(0));
        assert!(!is_reading(ASLEEP));
        assert!(!is_reading(ASLEEP | 7));
        assert!(is_reading(1));
        assert!(is_reading(precise_now()));
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
