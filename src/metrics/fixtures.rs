//! Test fixtures of the summary types: summaries with chosen numbers, for the tests of the
//! layers that read them (`report`, `gates`).

use super::{CostSummary, InstanceSummary, LatencySummary, RequestCounts, Summary};

/// A one-hour run of 1000 arrivals: `completed` of them answered, 3 rejected, the rest timed
/// out; latency statistics fractions of `p99` \[s\]; 2.5 instances on average; `cost` \[USD\].
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
        engines: None,
    }
}
