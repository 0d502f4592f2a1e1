//! Micrometer's decaying maximum (`TimeWindowMax`), behind `..._calls_seconds_max`.

/// A maximum that forgets: a ring of buckets, each holding the largest sample recorded since it
/// was last cleared; every `step` the current bucket is cleared and the next becomes current.
/// A sample therefore stays visible for between `(len - 1) * step` and `len * step`.
///
/// Micrometer's Prometheus registry uses `step` = 1 minute (`management.prometheus.metrics.
/// export.step`) and 3 buckets: a slow call shows in `_max` for two to three minutes.
#[derive(Clone, Debug)]
pub(crate) struct TimeWindowMax {
    step_millis: u64,
    buckets: Vec<u64>,
    current: usize,
    last_rotate_millis: u64,
}

impl TimeWindowMax {
    pub(crate) fn new(now_millis: u64, step_millis: u64, len: usize) -> Self {
        TimeWindowMax {
            step_millis: step_millis.max(1),
            buckets: vec![0; len.max(1)],
            current: 0,
            last_rotate_millis: now_millis,
        }
    }

    /// Records a sample (nanoseconds) at `now_millis`.
    pub(crate) fn record(&mut self, now_millis: u64, sample: u64) {
        self.rotate(now_millis);
        for max in &mut self.buckets {
            *max = (*max).max(sample);
        }
    }

    /// The current maximum (nanoseconds) at `now_millis`.
    pub(crate) fn poll(&mut self, now_millis: u64) -> u64 {
        self.rotate(now_millis);
        self.buckets[self.current]
    }

    /// Micrometer's rotation: after a whole turn of idleness everything is cleared and the
    /// rotation instant realigns to `now`; otherwise the ring advances step by step.
    fn rotate(&mut self, now_millis: u64) {
        let mut since = now_millis.saturating_sub(self.last_rotate_millis);
        if since < self.step_millis {
            return;
        }
        let len = self.buckets.len() as u64;
        if since >= self.step_millis.saturating_mul(len) {
            self.buckets.fill(0);
            self.current = 0;
            self.last_rotate_millis = now_millis - since % self.step_millis;
            return;
        }
        let mut iterations = 0;
        loop {
            self.buckets[self.current] = 0;
            self.current = (self.current + 1) % self.buckets.len();
            since -= self.step_millis;
            self.last_rotate_millis += self.step_millis;
            iterations += 1;
            if since < self.step_millis || iterations >= self.buckets.len() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_stays_two_to_three_steps() {
        let mut max = TimeWindowMax::new(0, 60_000, 3);
        max.record(10_000, 7);
        assert_eq!(max.poll(10_000), 7);
        assert_eq!(max.poll(59_999), 7);
        assert_eq!(max.poll(60_000), 7); // first rotation: bucket 1 still has it
        assert_eq!(max.poll(119_999), 7);
        assert_eq!(max.poll(120_000), 7); // second rotation: bucket 2
        assert_eq!(max.poll(180_000), 0); // third: back to bucket 0, cleared at the first
    }

    #[test]
    fn larger_samples_win_and_long_idle_clears_everything() {
        let mut max = TimeWindowMax::new(0, 1_000, 3);
        max.record(0, 5);
        max.record(500, 9);
        max.record(600, 3);
        assert_eq!(max.poll(700), 9);
        assert_eq!(max.poll(1_000_000), 0);
        max.record(1_000_001, 4);
        assert_eq!(max.poll(1_000_001), 4);
    }
}
