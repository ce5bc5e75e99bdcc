//! Test fixtures of the gates: summaries and replicated runs with chosen numbers.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::results::{Estimate, Metric, RunResults};
use crate::metrics::{CostSummary, InstanceSummary, LatencySummary, RequestCounts, Summary};

/// A one-hour run of 1000 arrivals: `completed` of them answered, 3 rejected, the rest timed
/// out; latency statistics fractions of `p99` [s]; 2.5 instances on average; `cost` [USD].
pub fn summary(completed: u64, p99: Option<f64>, cost: f64) -> Summary {
    Summary {
        scenario: "s".into(),
        seed: 7,
        simulated_seconds: 3600.0,
        warmup_seconds: 0.0,
        events: 0,
        requests: RequestCounts {
            arrived: 1000,
            completed,
            timed_out: 1000 - completed - 3,
            rejected: 3,
            ..RequestCounts::default()
        },
        lost_by_cause: Default::default(),
        latency_seconds: LatencySummary {
            count: completed,
            mean: p99.map(|p| p / 2.0),
            p50: p99.map(|p| p / 4.0),
            p90: p99.map(|p| p / 1.5),
            p99,
            p999: p99.map(|p| p * 2.0),
            max: p99.map(|p| p * 3.0),
        },
        by_class: Default::default(),
        by_route: Default::default(),
        retries: Default::default(),
        utilization: 0.5,
        tokens: None,
        instances: InstanceSummary {
            mean: 2.5,
            max: 3,
            instance_hours: 2.5,
            by_pool: Default::default(),
        },
        cost_usd: CostSummary {
            total: cost,
            by_pool: Default::default(),
            ..CostSummary::default()
        },
        met_slo: None,
        topology: None,
        data_transfer: None,
        closed_loop: None,
    }
}

/// The estimate of `n` replications with this mean and sample standard deviation, its 95 %
/// interval computed as `aggregate.json` documents it: `t(0.975, n − 1) · std / √n`.
pub fn estimate(n: u64, mean: f64, std: f64) -> Estimate {
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .unwrap()
        .inverse_cdf(0.975);
    let half_width = t * std / (n as f64).sqrt();
    Estimate {
        n,
        mean: Some(mean),
        std: Some(std),
        half_width: Some(half_width),
        low: Some(mean - half_width),
        high: Some(mean + half_width),
    }
}

/// A run of `replications` (one hour each) whose listed metrics have these means and
/// half-widths; every other metric is 1 ± 0.
pub fn aggregate_run(name: &str, replications: u64, given: &[(&str, f64, f64)]) -> RunResults {
    let estimates = Metric::ALL.map(|m| {
        let (mean, half) = given
            .iter()
            .find(|(c, _, _)| *c == m.column())
            .map_or((1.0, 0.0), |(_, mean, half)| (*mean, *half));
        let e = Estimate {
            n: replications,
            mean: Some(mean),
            std: Some(0.0),
            half_width: Some(half),
            low: Some(mean - half),
            high: Some(mean + half),
        };
        (m, e)
    });
    RunResults::replicated(name, replications, 0.95, Some(3600.0), estimates)
}
