//! Service-level objectives: the limits a run's results must respect, as a scenario's `[slo]`
//! table writes them (`docs/scenario-format.md`, "SLOs"). A description only: the scenario reader
//! builds it, `crate::gates::check` judges it, the world counts the requests that met
//! `latency_target`. It belongs to the file format, below the gates and the world, so that
//! neither the reader nor the world has to know the gates.

use crate::time::SimDuration;

/// A latency statistic of completed requests, as `summary.json` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyStatistic {
    /// The mean.
    Mean,
    /// The median.
    P50,
    /// The 90th percentile.
    P90,
    /// The 99th percentile.
    P99,
    /// The 99.9th percentile.
    P999,
}

impl LatencyStatistic {
    /// Every statistic, in the order of the `[slo]` keys.
    pub const ALL: [LatencyStatistic; 5] = [
        LatencyStatistic::Mean,
        LatencyStatistic::P50,
        LatencyStatistic::P90,
        LatencyStatistic::P99,
        LatencyStatistic::P999,
    ];

    /// Its `[slo]` key.
    pub fn key(self) -> &'static str {
        match self {
            LatencyStatistic::Mean => "mean",
            LatencyStatistic::P50 => "p50",
            LatencyStatistic::P90 => "p90",
            LatencyStatistic::P99 => "p99",
            LatencyStatistic::P999 => "p999",
        }
    }

    /// The percentiles of the time to first token an `[slo]` may limit, in key order.
    pub const TTFT: [LatencyStatistic; 2] = [LatencyStatistic::P50, LatencyStatistic::P99];

    /// Its `[slo]` key as a limit on the time to first token (`ttft_p50`, `ttft_p99`); only
    /// [`LatencyStatistic::TTFT`] are keys.
    pub fn ttft_key(self) -> &'static str {
        match self {
            LatencyStatistic::P50 => "ttft_p50",
            LatencyStatistic::P99 => "ttft_p99",
            LatencyStatistic::Mean => "ttft_mean",
            LatencyStatistic::P90 => "ttft_p90",
            LatencyStatistic::P999 => "ttft_p999",
        }
    }
}

/// One objective of an `[slo]` table. Limits are inclusive: a run exactly at its limit holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// The latency statistic of completed requests is at most this.
    Latency {
        /// Which statistic.
        statistic: LatencyStatistic,
        /// Its limit.
        at_most: SimDuration,
    },
    /// Failed requests (every reason) per arrived request, a fraction from 0 to 1, is at most
    /// this.
    ErrorRate {
        /// The limit, a fraction (0.001 = 0.1 %).
        at_most: f64,
    },
    /// The run's own cost is at most this \[USD\].
    Cost {
        /// The limit \[USD\].
        at_most_usd: f64,
    },
    /// The run's cost scaled to a 30-day month, `cost × 30 d / simulated duration`
    /// ([`crate::metrics::monthly`]), is at most this \[USD\].
    MonthlyCost {
        /// The limit [USD per 30 days].
        at_most_usd: f64,
    },
    /// A percentile of the time to first token of token-based requests (`summary.json`'s
    /// `tokens.ttft_seconds`) is at most this.
    TimeToFirstToken {
        /// Which percentile: [`LatencyStatistic::P50`] or [`LatencyStatistic::P99`], the two
        /// the comparison reports.
        statistic: LatencyStatistic,
        /// Its limit.
        at_most: SimDuration,
    },
    /// At least this many requests completed.
    MinCompleted {
        /// The floor.
        at_least: u64,
    },
}

impl Objective {
    /// Every `[slo]` key, in the order objectives are listed and judged.
    pub const KEYS: [&'static str; 11] = [
        "mean",
        "p50",
        "p90",
        "p99",
        "p999",
        "ttft_p50",
        "ttft_p99",
        "error_rate",
        "cost",
        "monthly_cost",
        "min_completed",
    ];

    /// Its `[slo]` key.
    pub fn key(&self) -> &'static str {
        match self {
            Objective::Latency { statistic, .. } => statistic.key(),
            Objective::TimeToFirstToken { statistic, .. } => statistic.ttft_key(),
            Objective::ErrorRate { .. } => "error_rate",
            Objective::Cost { .. } => "cost",
            Objective::MonthlyCost { .. } => "monthly_cost",
            Objective::MinCompleted { .. } => "min_completed",
        }
    }
}

/// A scenario's `[slo]` table: at least one objective, in the order of [`Objective::KEYS`].
#[derive(Debug, Clone, PartialEq)]
pub struct SloSpec {
    /// The objectives; every one must hold.
    pub objectives: Vec<Objective>,
    /// `latency_target`: a request *met its SLO* if it completed within this (the run counts
    /// them, for `met_slo` and the cost per good request). Not an objective: nothing is judged.
    pub latency_target: Option<SimDuration>,
}
