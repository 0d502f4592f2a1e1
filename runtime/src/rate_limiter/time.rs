//! The time a rate limiter counts its cycles on: the config's clock, except that the precise
//! clock is read through the CPU's time-stamp counter (feature `fast-clock`, on by default).
//!
//! A limiter with a short refresh period (Resilience4j's default is 500 ns) reads the time on
//! every acquire, as Resilience4j reads `System.nanoTime()`. The OS monotonic clock costs about
//! 30 ns a read on a cloud VM (the vDSO's fenced `rdtsc`, its sequence lock and `Instant`'s
//! arithmetic), more than the rest of the acquire; `quanta`'s counter read (`rdtsc`, or
//! `cntvct_el0` on aarch64, scaled by a multiply and a shift) costs about half, and is what
//! `governor` reads. fusebox reads that register inline and scales it with quanta's calibration
//! (quanta's own read is a call that first matches on the kind of clock), and uses the counter
//! only where quanta does (an invariant TSC on x86_64, aarch64's virtual counter). quanta must first calibrate the counter against the monotonic clock, which
//! takes 0.5 ms to 200 ms of busy-waiting; governor pays it in the constructor of its first
//! limiter. Here the first limiter that needs the precise clock starts the calibration on a
//! thread of its own (`fusebox-tsc`, which ends when it is done), and every limiter reads the
//! monotonic clock until the calibration is published, then the counter. So no constructor and
//! no acquire ever waits for it.
//!
//! The two readings share a base: the calibration pairs a counter reading with a monotonic one
//! (the latter taken just after, so the counter's time starts a few nanoseconds ahead, never
//! behind), and the counter's time is that monotonic reading plus the scaled counter ticks
//! since. quanta's scale is accurate to a few parts per million (0.2–3.4 ppm measured over 1–5 s
//! on a cloud VM), so the counter's time drifts from the monotonic clock by a few microseconds
//! per second at most; a rate limiter only compares its
//! own readings, and cycles of the counter's time are then as long as the TSC says.
//!
//! No reading may step back below the start of the cycle the state word holds (that would
//! count cycles backwards and take permissions away): the counters of two cores can differ by a
//! few ticks, and the switch from the monotonic clock to the counter can step back by the
//! calibration's error. [`next_state`](super::state::next_state) therefore treats a reading
//! before the stored cycle's start as that start, which no monotonic clock ever triggers (the
//! parity suite's manual clock included).

use crate::clock::ClockSource;

/// A limiter's time source.
#[derive(Clone, Debug)]
pub(super) enum LimiterTime {
    /// The precise clock, read through the calibrated counter once it is ready.
    #[cfg(feature = "fast-clock")]
    Counter,
    /// The config's clock (the tick, a manual or custom clock, or the precise clock when the
    /// counter is not built in).
    Clock(ClockSource),
}

impl LimiterTime {
    /// The time source for a limiter whose config resolved to `source`; the precise clock
    /// starts the counter's calibration (once per process).
    pub(super) fn new(source: ClockSource) -> Self {
        match source {
            #[cfg(feature = "fast-clock")]
            ClockSource::Precise => {
                counter::calibrate_in_background();
                LimiterTime::Counter
            }
            other => LimiterTime::Clock(other),
        }
    }

    /// Nanoseconds since the Unix epoch (for the counter: as
    /// [`PreciseClock`](crate::PreciseClock) anchors them).
    #[inline]
    pub(super) fn now_nanos(&self) -> u64 {
        match self {
            #[cfg(feature = "fast-clock")]
            LimiterTime::Counter => counter::now_nanos(),
            LimiterTime::Clock(source) => source.now_nanos(),
        }
    }

    /// Whether this limiter reads the counter (once calibrated).
    #[cfg(test)]
    pub(super) fn is_counter(&self) -> bool {
        #[cfg(feature = "fast-clock")]
        {
            matches!(self, LimiterTime::Counter)
        }
        #[cfg(not(feature = "fast-clock"))]
        {
            false
        }
    }
}

#[cfg(feature = "fast-clock")]
pub(super) mod counter {
    //! The calibrated counter and its switch-over (see the module above).

    use crate::PreciseClock;
    use crate::clock::Clock;
    use std::sync::{Once, OnceLock};

    /// The precise clock (epoch-anchored monotonic nanoseconds), read per call.
    #[inline]
    pub(crate) fn precise_now() -> u64 {
        PreciseClock.now_nanos()
    }

    /// A calibrated counter and the pair of readings that anchors it.
    #[derive(Debug)]
    pub(crate) struct Calibrated {
        /// Nanoseconds per 2^32 ticks of the counter (from quanta's calibration).
        scale: u64,
        /// A counter reading ...
        raw: u64,
        /// ... and the precise clock just after it.
        base: u64,
    }

    impl Calibrated {
        /// Calibrates the counter (busy-waits up to 200 ms) and anchors it to the precise clock;
        /// `None` where quanta does not read the counter (no invariant TSC, or another
        /// architecture: quanta then reads the OS clock, which the limiters read anyway).
        pub(super) fn new() -> Option<Self> {
            let clock = quanta::Clock::new();
            if !reads_counter(&clock) {
                return None;
            }
            let raw = read_counter();
            let base = precise_now();
            Some(Self {
                scale: clock.delta_as_nanos(0, 1 << 32),
                raw,
                base,
            })
        }

        /// The precise clock's time, from the counter: the anchor plus the scaled ticks since.
        /// A counter behind the anchor's reading (another core's) gives the anchor.
        #[inline]
        pub(crate) fn now_nanos(&self) -> u64 {
            let ticks = read_counter().saturating_sub(self.raw);
            let nanos = (u128::from(ticks) * u128::from(self.scale)) >> 32;
            self.base.wrapping_add(nanos as u64)
        }
    }

    /// Whether quanta's clock reads the counter [`read_counter`] reads. Its scale is not the
    /// identity (quanta's fallback, the OS clock, already counts nanoseconds; a counter at
    /// exactly 1 GHz is taken for it, which only costs speed), and a direct reading falls
    /// between two of quanta's (three tries, in case the thread moves to another core between
    /// them). quanta's reading comes first, so this never reads a counter quanta does not.
    pub(super) fn reads_counter(clock: &quanta::Clock) -> bool {
        cfg!(any(target_arch = "x86_64", target_arch = "aarch64"))
            && clock.delta_as_nanos(0, 1 << 32) != 1 << 32
            && (0..3).any(|_| {
                let before = clock.raw();
                let direct = read_counter();
                let after = clock.raw();
                before <= direct && direct <= after && after - before < 1 << 20
            })
    }

    /// The CPU's counter, read inline: quanta's `Clock::raw` reads the same register, but it is
    /// a call (not `#[inline]`, so not inlined across crates) that first matches on the kind of
    /// clock; reading it here took the precise acquire from 115 to 95 instructions (session 7,
    /// BENCHMARKS.md Run 14).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn read_counter() -> u64 {
        // SAFETY: `rdtsc` only reads the time-stamp counter: no memory access, no precondition.
        // (An OS that forbids it in user mode would fault quanta's own read first: this runs
        // only after `reads_counter` saw quanta read the counter.)
        #[allow(unsafe_code)]
        unsafe {
            core::arch::x86_64::_rdtsc()
        }
    }

    /// The CPU's counter (the virtual count, as quanta reads it), read inline.
    #[cfg(target_arch = "aarch64")]
    #[inline(always)]
    fn read_counter() -> u64 {
        let count: u64;
        // SAFETY: reads the virtual counter register, readable from user mode; no memory
        // access.
        #[allow(unsafe_code)]
        unsafe {
            core::arch::asm!("mrs {}, cntvct_el0", out(reg) count, options(nomem, nostack, preserves_flags));
        }
        count
    }

    /// No counter here: `reads_counter` is false, so this is never read.
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    fn read_counter() -> u64 {
        0
    }

    /// The counter, once the calibration thread has published it.
    pub(crate) static CALIBRATED: OnceLock<Calibrated> = OnceLock::new();

    /// Starts the calibration on its own thread, the first time only. If the thread cannot be
    /// spawned, limiters keep reading the monotonic clock.
    pub(crate) fn calibrate_in_background() {
        static STARTED: Once = Once::new();
        STARTED.call_once(|| {
            let spawned = std::thread::Builder::new()
                .name("fusebox-tsc".into())
                .spawn(|| match Calibrated::new() {
                    Some(calibrated) => {
                        let _ = CALIBRATED.set(calibrated);
                    }
                    None => tracing::debug!(
                        "fusebox: no invariant CPU counter; rate limiters read the monotonic clock"
                    ),
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "fusebox: cannot start the counter's calibration; rate limiters read the monotonic clock");
            }
        });
    }

    /// The precise time: the counter once calibrated, the monotonic clock until then.
    #[inline]
    pub(crate) fn now_nanos() -> u64 {
        match CALIBRATED.get() {
            Some(c) => c.now_nanos(),
            None => precise_now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    #[cfg(feature = "fast-clock")]
    use std::time::Instant;

    #[test]
    fn only_the_precise_clock_reads_the_counter() {
        let precise = LimiterTime::new(ClockSource::Precise);
        assert_eq!(precise.is_counter(), cfg!(feature = "fast-clock"));
        assert!(!LimiterTime::new(ClockSource::System).is_counter());
        let manual = crate::ManualClock::new();
        let time = LimiterTime::new(ClockSource::from_clock(manual.clone()));
        assert!(!time.is_counter());
        manual.advance(Duration::from_nanos(42));
        assert_eq!(time.now_nanos(), 42);
    }

    #[cfg(feature = "fast-clock")]
    use counter::precise_now;

    #[cfg(feature = "fast-clock")]
    #[test]
    fn the_counter_follows_the_monotonic_clock_after_calibration() {
        counter::calibrate_in_background();
        let deadline = Instant::now() + Duration::from_secs(30);
        while counter::CALIBRATED.get().is_none() {
            assert!(Instant::now() < deadline, "the calibration never finished");
            std::thread::sleep(Duration::from_millis(1));
        }
        let time = LimiterTime::new(ClockSource::Precise);
        // Never back in a run of reads on one thread, and in step with the monotonic clock: over
        // 20 ms, the two agree within 1 % (quanta's scale is far better; the margin is for a
        // loaded machine descheduling the test between reads).
        let (c0, p0) = (time.now_nanos(), precise_now());
        let mut last = c0;
        let until = Instant::now() + Duration::from_millis(20);
        while Instant::now() < until {
            let now = time.now_nanos();
            assert!(now >= last, "{now} < {last}");
            last = now;
        }
        let (c1, p1) = (time.now_nanos(), precise_now());
        let (counted, measured) = ((c1 - c0) as f64, (p1 - p0) as f64);
        assert!(
            (counted - measured).abs() < measured / 100.0,
            "counter {counted} ns, monotonic clock {measured} ns"
        );
        // Anchored where the precise clock is: within a millisecond (same margin).
        assert!(c1.abs_diff(precise_now()) < 1_000_000, "{c1}");
    }

    #[cfg(feature = "fast-clock")]
    #[test]
    fn the_inline_counter_read_scales_as_quanta_does() {
        let clock = quanta::Clock::new();
        if !counter::reads_counter(&clock) {
            eprintln!("skipped: quanta does not read a CPU counter on this machine");
            return;
        }
        let calibrated = counter::Calibrated::new().expect("quanta reads the counter");
        // The same interval, timed by the inline read and by quanta's own read and scale: the
        // two agree to within the time between the paired reads (far under 50 µs) plus the
        // scale's rounding (under a nanosecond per second).
        let (quanta0, ours0) = (clock.raw(), calibrated.now_nanos());
        std::thread::sleep(Duration::from_millis(20));
        let (quanta1, ours1) = (clock.raw(), calibrated.now_nanos());
        let by_quanta = clock.delta_as_nanos(quanta0, quanta1);
        let by_us = ours1 - ours0;
        assert!(by_quanta >= 20_000_000, "{by_quanta}");
        assert!(
            by_us.abs_diff(by_quanta) < 50_000,
            "inline {by_us} ns, quanta {by_quanta} ns"
        );
    }
}
