//! Sliding windows over recorded calls: count-based (the last N calls) and time-based (the last
//! N epoch seconds in one-second buckets), exactly as Resilience4j's
//! `FixedSizeSlidingWindowMetrics` and `SlidingTimeWindowMetrics` count.
//!
//! Windows are plain data: the breaker serialises access to them.

/// Counts of the calls in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) calls: u32,
    pub(crate) failed: u32,
    pub(crate) slow: u32,
    pub(crate) slow_failed: u32,
}

impl Totals {
    #[inline]
    pub(crate) fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failed += u32::from(failed);
        self.slow += u32::from(slow);
        self.slow_failed += u32::from(failed && slow);
    }

    #[inline]
    fn remove(&mut self, other: &Totals) {
        self.calls -= other.calls;
        self.failed -= other.failed;
        self.slow -= other.slow;
        self.slow_failed -= other.slow_failed;
    }

    /// Failure rate in percent, computed in `f32` as Resilience4j computes it.
    pub(crate) fn failure_rate(&self) -> f32 {
        if self.calls == 0 {
            0.0
        } else {
            self.failed as f32 * 100.0 / self.calls as f32
        }
    }

    /// Slow-call rate in percent, computed in `f32`.
    pub(crate) fn slow_call_rate(&self) -> f32 {
        if self.calls == 0 {
            0.0
        } else {
            self.slow as f32 * 100.0 / self.calls as f32
        }
    }
}

const RECORDED: u8 = 1;
const FAILED: u8 = 2;
const SLOW: u8 = 4;

/// Four 32-bit counters in one `u128` (calls, failed, slow, slow failed), so that recording a
/// call is one subtraction and one addition of precomputed deltas.
type Packed = u128;

const fn delta(slot: u8) -> Packed {
    if slot & RECORDED == 0 {
        return 0;
    }
    let failed = (slot & FAILED != 0) as u128;
    let slow = (slot & SLOW != 0) as u128;
    1 | failed << 32 | slow << 64 | (failed & slow) << 96
}

/// The counter deltas of each slot value (bit 0 recorded, bit 1 failed, bit 2 slow).
const DELTAS: [Packed; 8] = [
    delta(0),
    delta(1),
    delta(2),
    delta(3),
    delta(4),
    delta(5),
    delta(6),
    delta(7),
];

/// Whether packed counters hold no failed and no slow call: such a window cannot reach a
/// threshold (thresholds are above 0).
#[inline]
pub(crate) fn quiet(p: u128) -> bool {
    p >> 32 == 0
}

/// Whether packed counters describe a full window of `size` calls, none failed and none slow.
/// Recording one more fast success into such a window changes nothing: it evicts a fast
/// success and adds one, so the breaker may skip it (see `CLEAN` in `breaker/tag.rs`).
#[inline]
pub(crate) fn clean(p: Packed, size: usize) -> bool {
    quiet(p) && p as u32 as usize == size
}

#[inline]
pub(crate) fn unpack(p: Packed) -> Totals {
    Totals {
        calls: p as u32,
        failed: (p >> 32) as u32,
        slow: (p >> 64) as u32,
        slow_failed: (p >> 96) as u32,
    }
}

/// The packed counters of `calls` calls of which `failed` failed, `slow` were slow and
/// `slow_failed` both.
#[inline]
fn pack(calls: u32, failed: u32, slow: u32, slow_failed: u32) -> Packed {
    Packed::from(calls)
        | Packed::from(failed) << 32
        | Packed::from(slow) << 64
        | Packed::from(slow_failed) << 96
}

/// The last `size` calls, in a ring of two bits per call: one word of failure bits and one of
/// slow bits per 64 calls. The ring fills in order from empty and only evicts once full, so a
/// slot holds a recorded call exactly when the window is full (or the slot was written since
/// it was created): no "recorded" bit is needed.
#[derive(Clone, Debug)]
pub(crate) struct CountWindow {
    /// `[failed, slow]` bits of slots `64 * i ..`.
    bits: Box<[[u64; 2]]>,
    size: usize,
    head: usize,
    totals: Packed,
}

impl CountWindow {
    pub(crate) fn new(size: u32) -> Self {
        assert!(
            size > 0,
            "a count window holds at least 1 call: the config builder rejects 0"
        );
        let size = size as usize;
        Self {
            bits: vec![[0; 2]; size.div_ceil(64)].into_boxed_slice(),
            size,
            head: 0,
            totals: 0,
        }
    }

    #[inline]
    pub(crate) fn record(&mut self, failed: bool, slow: bool) -> Totals {
        unpack(self.record_packed(failed, slow))
    }

    /// Records a call; returns the packed counters (see [`quiet`]).
    #[inline]
    pub(crate) fn record_packed(&mut self, failed: bool, slow: bool) -> u128 {
        self.head += 1;
        if self.head >= self.size {
            self.head = 0;
        }
        let full = self.is_full();
        let bit = self.head % 64;
        // `head / 64` is in bounds: `head` is below `size`, and there are `size / 64` words
        // rounded up.
        let word = &mut self.bits[self.head / 64];
        let old_failed = (word[0] >> bit) & 1 != 0;
        let old_slow = (word[1] >> bit) & 1 != 0;
        word[0] = word[0] & !(1 << bit) | u64::from(failed) << bit;
        word[1] = word[1] & !(1 << bit) | u64::from(slow) << bit;
        let old = if full {
            DELTAS[usize::from(RECORDED | u8::from(old_failed) << 1 | u8::from(old_slow) << 2)]
        } else {
            0
        };
        let new = RECORDED | (u8::from(failed) << 1) | (u8::from(slow) << 2);
        self.totals = self.totals - old + DELTAS[usize::from(new)];
        self.totals
    }

    pub(crate) fn totals(&self) -> Totals {
        unpack(self.totals)
    }

    /// The totals [`record`](Self::record) would return for this call, without recording it.
    pub(crate) fn totals_after(&self, failed: bool, slow: bool) -> Totals {
        let head = if self.head + 1 >= self.size {
            0
        } else {
            self.head + 1
        };
        let bit = head % 64;
        let word = &self.bits[head / 64];
        let old = if self.is_full() {
            let old_failed = (word[0] >> bit) & 1 != 0;
            let old_slow = (word[1] >> bit) & 1 != 0;
            DELTAS[usize::from(RECORDED | u8::from(old_failed) << 1 | u8::from(old_slow) << 2)]
        } else {
            0
        };
        let new = RECORDED | (u8::from(failed) << 1) | (u8::from(slow) << 2);
        unpack(self.totals - old + DELTAS[usize::from(new)])
    }

    /// Records `n` fast successes, as `n` calls of [`record`](Self::record) would: the bits of
    /// the `n` slots after the head (at most two runs of the ring) are counted out and cleared
    /// a word of 64 slots at a time, a word with no failed and no slow call among them being
    /// one test. From `size` on, the ring holds nothing else.
    pub(crate) fn add_successes(&mut self, n: u64) {
        let size = self.size;
        match usize::try_from(n) {
            Ok(0) => {}
            Ok(n) if n < size => {
                let start = if self.head + 1 == size {
                    0
                } else {
                    self.head + 1
                };
                let first = n.min(size - start);
                let (f1, s1, b1) = self.clear(start, start + first);
                let (f2, s2, b2) = self.clear(0, n - first);
                let calls = self.totals as u32 as usize;
                // Sequential from empty: the overwritten slots that held calls are the first
                // `calls + n - size` of them.
                let evicted = (calls + n).saturating_sub(size) as u32;
                self.totals = self.totals - pack(evicted, f1 + f2, s1 + s2, b1 + b2)
                    + DELTAS[usize::from(RECORDED)] * n as Packed;
                let last = start + n - 1;
                self.head = if last >= size { last - size } else { last };
            }
            _ => {
                self.bits.fill([0; 2]);
                self.totals = DELTAS[usize::from(RECORDED)] * size as Packed;
                self.head = (self.head + (n % size as u64) as usize) % size;
            }
        }
    }

    /// Clears the failed and slow bits of slots `from..to`; returns how many were failed, slow,
    /// and both.
    fn clear(&mut self, from: usize, to: usize) -> (u32, u32, u32) {
        let (mut failed, mut slow, mut both) = (0, 0, 0);
        let mut i = from;
        while i < to {
            let first_bit = i % 64;
            let bits = (to - i).min(64 - first_bit);
            let mask = (u64::MAX >> (64 - bits)) << first_bit;
            // `i / 64` is in bounds: `i < to <= size`.
            let word = &mut self.bits[i / 64];
            let [f, s] = [word[0] & mask, word[1] & mask];
            if f | s != 0 {
                failed += f.count_ones();
                slow += s.count_ones();
                both += (f & s).count_ones();
                word[0] &= !mask;
                word[1] &= !mask;
            }
            i += bits;
        }
        (failed, slow, both)
    }

    /// Whether the window holds `size` calls.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.totals as u32 as usize == self.size
    }

    /// The window's size, in calls.
    #[inline]
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    epoch_second: u64,
    totals: Totals,
}

/// The calls of the current epoch second and the `size - 1` seconds before it.
#[derive(Clone, Debug)]
pub(crate) struct TimeWindow {
    buckets: Box<[Bucket]>,
    head: usize,
    totals: Totals,
}

impl TimeWindow {
    pub(crate) fn new(size: u32, now_nanos: u64) -> Self {
        assert!(
            size > 0,
            "a time window holds at least 1 second: the config builder rejects 0"
        );
        let epoch_second = now_nanos / 1_000_000_000;
        Self {
            buckets: vec![
                Bucket {
                    epoch_second,
                    totals: Totals::default()
                };
                size as usize
            ]
            .into_boxed_slice(),
            head: 0,
            totals: Totals::default(),
        }
    }

    /// Moves the head to the current second, evicting the buckets that fell out of the window.
    fn rotate(&mut self, now_nanos: u64) {
        let now = now_nanos / 1_000_000_000;
        let head_second = self.buckets[self.head].epoch_second;
        if now <= head_second {
            return;
        }
        let mut to_move = (now - head_second).min(self.buckets.len() as u64);
        while to_move > 0 {
            to_move -= 1;
            self.head = (self.head + 1) % self.buckets.len();
            let bucket = &mut self.buckets[self.head];
            self.totals.remove(&bucket.totals);
            *bucket = Bucket {
                epoch_second: now - to_move,
                totals: Totals::default(),
            };
        }
    }

    // Inline, so that the breaker's record path does not depend on which codegen unit each
    // module falls into. Instructions per time-window guard call under callgrind: 166 with
    // `breaker.rs` in one file, 168 once split (this call then stayed out of line), 158 inlined.
    #[inline]
    pub(crate) fn record(&mut self, now_nanos: u64, failed: bool, slow: bool) -> Totals {
        self.rotate(now_nanos);
        self.buckets[self.head].totals.add(failed, slow);
        self.totals.add(failed, slow);
        self.totals
    }

    pub(crate) fn totals(&mut self, now_nanos: u64) -> Totals {
        self.rotate(now_nanos);
        self.totals
    }

    /// Records `n` fast successes in the newest bucket, as [`record`](Self::record) would at
    /// any instant of that bucket's second.
    pub(crate) fn add_successes_to_newest(&mut self, n: u64) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let bucket = &mut self.buckets[self.head].totals;
        bucket.calls = bucket.calls.saturating_add(n);
        self.totals.calls = self.totals.calls.saturating_add(n);
    }

    /// The window's totals as of its last rotation (no clock reading, nothing evicted).
    pub(crate) fn rotated_totals(&self) -> Totals {
        self.totals
    }

    /// The clock instant (nanoseconds) at which the newest bucket's second ends: a call
    /// recorded before it goes into that bucket without evicting anything.
    pub(crate) fn newest_second_end(&self) -> u64 {
        self.buckets[self.head]
            .epoch_second
            .saturating_add(1)
            .saturating_mul(1_000_000_000)
    }
}

/// The metrics window a breaker state carries.
#[derive(Clone, Debug)]
pub(crate) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
    /// DISABLED and FORCED_OPEN record nothing (Resilience4j gives them a size-0 window).
    Empty,
}

impl Window {
    #[inline]
    pub(crate) fn record(&mut self, now_nanos: u64, failed: bool, slow: bool) -> Totals {
        match self {
            Window::Count(w) => w.record(failed, slow),
            Window::Time(w) => w.record(now_nanos, failed, slow),
            Window::Empty => Totals::default(),
        }
    }

    pub(crate) fn totals(&mut self, now_nanos: u64) -> Totals {
        match self {
            Window::Count(w) => w.totals(),
            Window::Time(w) => w.totals(now_nanos),
            Window::Empty => Totals::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn count_window_evicts_oldest() {
        let mut w = CountWindow::new(3);
        w.record(true, false);
        w.record(false, true);
        let t = w.record(true, true);
        assert_eq!(
            t,
            Totals {
                calls: 3,
                failed: 2,
                slow: 2,
                slow_failed: 1
            }
        );
        let t = w.record(false, false);
        assert_eq!(
            t,
            Totals {
                calls: 3,
                failed: 1,
                slow: 2,
                slow_failed: 1
            }
        );
    }

    #[test]
    fn time_window_drops_a_call_when_its_second_leaves() {
        // Resilience4j: recorded at 0.999 s with N = 2, gone at 2.000 s.
        let mut w = TimeWindow::new(2, 0);
        w.record(999_000_000, true, false);
        assert_eq!(w.totals(SEC).calls, 1);
        assert_eq!(w.totals(2 * SEC - 1).calls, 1);
        assert_eq!(w.totals(2 * SEC).calls, 0);
    }

    #[test]
    fn time_window_long_gap_clears_everything() {
        let mut w = TimeWindow::new(3, 0);
        w.record(0, true, true);
        w.record(SEC, false, false);
        assert_eq!(w.totals(100 * SEC), Totals::default());
        let t = w.record(100 * SEC, true, false);
        assert_eq!(t.calls, 1);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Record { failed: bool, slow: bool },
        Advance(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any::<bool>(), any::<bool>()).prop_map(|(failed, slow)| Op::Record { failed, slow }),
            (0u64..3_500_000_000).prop_map(Op::Advance),
        ]
    }

    fn totals_of<'a>(calls: impl Iterator<Item = &'a (u64, bool, bool)>) -> Totals {
        let mut t = Totals::default();
        for &(_, f, s) in calls {
            t.add(f, s);
        }
        t
    }

    proptest! {
        #[test]
        fn bulk_successes_match_one_by_one(size in 1u32..200, pre in proptest::collection::vec((any::<bool>(), any::<bool>()), 0..400), n in 0u64..300, after in proptest::collection::vec((any::<bool>(), any::<bool>()), 0..30)) {
            let mut bulk = CountWindow::new(size);
            let mut one = CountWindow::new(size);
            for &(f, s) in &pre {
                bulk.record(f, s);
                one.record(f, s);
            }
            bulk.add_successes(n);
            for _ in 0..n {
                one.record(false, false);
            }
            prop_assert_eq!(bulk.totals(), one.totals());
            prop_assert_eq!(bulk.is_full(), one.totals().calls == size);
            // The rings agree from here on: same evictions.
            for &(f, s) in &after {
                prop_assert_eq!(bulk.record(f, s), one.record(f, s));
            }
        }

        #[test]
        fn count_window_matches_reference(size in prop_oneof![1u32..12, 60u32..140], ops in proptest::collection::vec(op(), 0..400)) {
            let mut w = CountWindow::new(size);
            let mut all: Vec<(u64, bool, bool)> = Vec::new();
            for op in ops {
                if let Op::Record { failed, slow } = op {
                    all.push((0, failed, slow));
                    let peeked = w.totals_after(failed, slow);
                    let got = w.record(failed, slow);
                    prop_assert_eq!(peeked, got);
                    let start = all.len().saturating_sub(size as usize);
                    prop_assert_eq!(got, totals_of(all[start..].iter()));
                }
            }
        }

        #[test]
        fn time_window_matches_reference(size in 1u32..6, start in 0u64..5_000_000_000, ops in proptest::collection::vec(op(), 0..200)) {
            let mut now = start;
            let mut w = TimeWindow::new(size, now);
            let mut all: Vec<(u64, bool, bool)> = Vec::new();
            for op in ops {
                match op {
                    Op::Record { failed, slow } => { w.record(now, failed, slow); all.push((now, failed, slow)); }
                    Op::Advance(by) => now += by,
                }
                // Reference: calls whose epoch second is within the last `size` seconds.
                let cur = now / SEC;
                let expected = totals_of(all.iter().filter(|(t, _, _)| t / SEC + u64::from(size) > cur));
                prop_assert_eq!(w.totals(now), expected);
            }
        }
    }
}
