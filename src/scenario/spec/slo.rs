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
    /// At least this many requests completed.
    MinCompleted {
        /// The floor.
        at_least: u64,
    },
}

impl Objective {
    /// Every `[slo]` key, in the order objectives are listed and judged.
    pub const KEYS: [&'static str; 9] = [
        "mean",
        "p50",
        "p90",
        "p99",
        "p999",
        "error_rate",
        "cost",
        "monthly_cost",
        "min_completed",
    ];

    /// Its `[slo]` key.
    pub fn key(&self) -> &'static str {
        match self {
            Objective::Latency { statistic, .. } => statistic.key(),
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
