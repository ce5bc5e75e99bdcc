//! The statistics a run is judged by: TTFT, TPOT and end-to-end latency, each's mean, p50, p90
//! and p99, computed the same way for the measured and the simulated run.
//!
//! Per request: TTFT = first token − arrival; TPOT = (last token − first token) / (output − 1),
//! only for requests with output > 1 (vLLM's `benchmark_serving` `calculate_metrics` does the
//! same); E2E = last token − arrival. All in seconds.
//!
//! Percentiles are **interpolated** between the closest ranks (numpy's default `linear`
//! method, which `benchmark_serving` and the prototype `stepfit.py` use): for n sorted values
//! v₀ ≤ … ≤ vₙ₋₁ and a quantile q, x = (n − 1)·q, and the percentile is v⌊x⌋ + (v⌊x⌋₊₁ −
//! v⌊x⌋)·(x − ⌊x⌋).

use super::RequestTimes;

/// Mean, p50, p90 and p99 of one metric \[s\].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The arithmetic mean.
    pub mean: f64,
    /// The median.
    pub p50: f64,
    /// The 90th percentile.
    pub p90: f64,
    /// The 99th percentile.
    pub p99: f64,
}

/// The statistic of a [`Summary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// The mean.
    Mean,
    /// The median.
    P50,
    /// The 90th percentile.
    P90,
    /// The 99th percentile.
    P99,
}

impl Stat {
    /// Every statistic, in the table's order.
    pub const ALL: [Stat; 4] = [Stat::Mean, Stat::P50, Stat::P90, Stat::P99];

    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::P50 => "p50",
            Stat::P90 => "p90",
            Stat::P99 => "p99",
        }
    }
}

impl Summary {
    /// The summary of `values` (sorted in place); `None` if there are none.
    pub fn of(values: &mut [f64]) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        Some(Summary {
            mean,
            p50: percentile(values, 0.5),
            p90: percentile(values, 0.9),
            p99: percentile(values, 0.99),
        })
    }

    /// One statistic.
    pub fn get(&self, stat: Stat) -> f64 {
        match stat {
            Stat::Mean => self.mean,
            Stat::P50 => self.p50,
            Stat::P90 => self.p90,
            Stat::P99 => self.p99,
        }
    }
}

/// The interpolated `q`-quantile (0 ≤ q ≤ 1) of `sorted`, which is sorted and not empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let x = (sorted.len() - 1) as f64 * q;
    let lo = x.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo as f64)
}

/// The metrics of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Time to first token.
    Ttft,
    /// Time per output token after the first.
    Tpot,
    /// End-to-end latency.
    E2e,
}

impl Metric {
    /// Every metric, in the table's order.
    pub const ALL: [Metric; 3] = [Metric::Ttft, Metric::Tpot, Metric::E2e];

    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Ttft => "ttft",
            Metric::Tpot => "tpot",
            Metric::E2e => "e2e",
        }
    }
}

/// A run's statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunStats {
    /// Time to first token.
    pub ttft: Summary,
    /// Time per output token, over the requests with more than one.
    pub tpot: Summary,
    /// End-to-end latency.
    pub e2e: Summary,
}

impl RunStats {
    /// The statistics of `times`; `None` if it is empty or no request generated more than one
    /// token.
    pub fn of(times: &[RequestTimes]) -> Option<RunStats> {
        let secs =
            |a: crate::time::SimTime, b: crate::time::SimTime| b.saturating_since(a).as_secs_f64();
        let mut ttft: Vec<f64> = times
            .iter()
            .map(|t| secs(t.arrival, t.first_token))
            .collect();
        let mut e2e: Vec<f64> = times
            .iter()
            .map(|t| secs(t.arrival, t.last_token))
            .collect();
        let mut tpot: Vec<f64> = times
            .iter()
            .filter(|t| t.output > 1)
            .map(|t| secs(t.first_token, t.last_token) / f64::from(t.output - 1))
            .collect();
        Some(RunStats {
            ttft: Summary::of(&mut ttft)?,
            tpot: Summary::of(&mut tpot)?,
            e2e: Summary::of(&mut e2e)?,
        })
    }

    /// One metric's summary.
    pub fn get(&self, metric: Metric) -> &Summary {
        match metric {
            Metric::Ttft => &self.ttft,
            Metric::Tpot => &self.tpot,
            Metric::E2e => &self.e2e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{SimDuration, SimTime};

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        // x = 4 × 0.9 = 3.6: 4 + (10 − 4) × 0.6.
        assert!((percentile(&v, 0.9) - 7.6).abs() < 1e-12);
        assert_eq!(percentile(&v, 1.0), 10.0);
        assert_eq!(percentile(&[5.0], 0.99), 5.0);
        // Even count: the median halfway between the middle two.
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
    }

    #[test]
    fn ttft_tpot_and_e2e_follow_their_definitions() {
        let ms = |m: u64| SimTime::ZERO + SimDuration::from_millis(m);
        let times = [
            // TTFT 100 ms, 11 tokens over 1 s after the first: TPOT 100 ms, E2E 1.1 s.
            RequestTimes {
                arrival: ms(0),
                first_token: ms(100),
                last_token: ms(1100),
                output: 11,
            },
            // One token: no TPOT; TTFT = E2E = 300 ms.
            RequestTimes {
                arrival: ms(1000),
                first_token: ms(1300),
                last_token: ms(1300),
                output: 1,
            },
        ];
        let s = RunStats::of(&times).unwrap();
        assert!((s.ttft.mean - 0.2).abs() < 1e-12);
        assert_eq!(s.tpot.mean, 0.1);
        assert_eq!(s.tpot.p99, 0.1);
        assert!((s.e2e.mean - 0.7).abs() < 1e-12);
        assert!((s.e2e.p50 - 0.7).abs() < 1e-12);
        assert!(
            RunStats::of(&times[1..]).is_none(),
            "no TPOT without a request of 2+ tokens"
        );
        assert!(RunStats::of(&[]).is_none());
    }
}
