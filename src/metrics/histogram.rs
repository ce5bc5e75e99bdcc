//! Latency histograms with bounded relative error.
//!
//! An HdrHistogram with 2 significant digits: 128 linear sub-buckets per power of two, so a
//! recorded value is known to within 1/128 of itself. Quantiles are reported at the middle of
//! their bucket, which halves that: the relative error of every reported quantile is at most
//! 1/256 ≈ 0.4 %, well inside the 1 % the product promises. Values are nanoseconds; the counts
//! array grows only to the largest latency seen, so an idle histogram is small.

use hdrhistogram::Histogram;

use crate::engine::SimDuration;

/// A histogram of durations.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    sum_nanos: u128,
    max_nanos: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        let mut hist = Histogram::new(2).expect("2 significant digits is a valid precision");
        hist.auto(true);
        LatencyHistogram {
            hist,
            sum_nanos: 0,
            max_nanos: 0,
        }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, d: SimDuration) {
        let v = d.as_nanos().max(1);
        // `record` grows the counts array as needed (auto-resize); it fails only past the
        // largest trackable value, where clamping is the honest fallback.
        if self.hist.record(v).is_err() {
            self.hist.saturating_record(v);
        }
        self.sum_nanos += v as u128;
        self.max_nanos = self.max_nanos.max(v);
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The exact mean [s], if any value was recorded.
    pub fn mean_secs(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.sum_nanos as f64 / self.count() as f64 / 1e9)
    }

    /// The exact maximum [s], if any value was recorded.
    pub fn max_secs(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.max_nanos as f64 / 1e9)
    }

    /// The value at quantile `q` in [0, 1] [s], within 0.4 %, if any value was recorded.
    pub fn quantile_secs(&self, q: f64) -> Option<f64> {
        if self.count() == 0 {
            return None;
        }
        let v = self.hist.value_at_quantile(q);
        let mid = self.hist.median_equivalent(v).min(self.max_nanos);
        Some(mid as f64 / 1e9)
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.hist
            .add(&other.hist)
            .expect("auto-resizing histograms of the same precision always merge");
        self.sum_nanos += other.sum_nanos;
        self.max_nanos = self.max_nanos.max(other.max_nanos);
    }

    /// Empties the histogram, keeping its memory.
    pub fn clear(&mut self) {
        if self.count() > 0 {
            self.hist.reset();
        }
        self.sum_nanos = 0;
        self.max_nanos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn quantiles_are_within_one_percent_of_exact_ones() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let mut h = LatencyHistogram::new();
        let mut values: Vec<u64> = (0..100_000)
            .map(|_| {
                // Log-uniform from 1 µs to 100 s: every magnitude the product sees.
                let e: f64 = rng.random_range(3.0..11.0);
                10f64.powf(e) as u64
            })
            .collect();
        for &v in &values {
            h.record(SimDuration::from_nanos(v));
        }
        values.sort_unstable();
        for q in [0.01, 0.1, 0.5, 0.9, 0.99, 0.999] {
            let exact = values[((q * values.len() as f64).ceil() as usize).max(1) - 1] as f64 / 1e9;
            let got = h.quantile_secs(q).unwrap();
            assert!(
                (got - exact).abs() / exact <= 0.01,
                "q {q}: {got} vs exact {exact}"
            );
        }
        let exact_mean = values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64 / 1e9;
        assert!((h.mean_secs().unwrap() - exact_mean).abs() / exact_mean < 1e-12);
        assert_eq!(h.max_secs().unwrap(), *values.last().unwrap() as f64 / 1e9);
    }

    #[test]
    fn empty_histogram_has_no_statistics() {
        let h = LatencyHistogram::new();
        assert_eq!(h.count(), 0);
        assert_eq!(h.quantile_secs(0.5), None);
        assert_eq!(h.mean_secs(), None);
    }

    #[test]
    fn clear_and_merge() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        a.record(SimDuration::from_secs(1));
        b.record(SimDuration::from_secs(3));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.mean_secs(), Some(2.0));
        a.clear();
        assert_eq!(a.count(), 0);
        assert_eq!(a.max_secs(), None);
    }
}
