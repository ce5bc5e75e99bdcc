//! The run summary: what `summary.json` holds. `docs/metrics.md` defines every field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Failure, LossSummary};

/// How many requests ended each way: `arrived = completed + (every failure) + in_flight_at_end`.
/// A request retried ends once, with the outcome of its last attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// Requests that arrived during the run.
    pub arrived: u64,
    /// Requests answered before their deadline.
    pub completed: u64,
    /// Requests not answered by their deadline (in a queue or in service).
    pub timed_out: u64,
    /// Requests turned away by a full queue.
    pub rejected: u64,
    /// Requests whose target group had no healthy target.
    pub no_healthy_target: u64,
    /// Requests answered with an error by a broken server.
    pub server_error: u64,
    /// Requests whose target did not accept the connection in time.
    pub connect_failed: u64,
    /// Requests lost when their server died.
    pub interrupted: u64,
    /// Requests still queued or in service when the run ended.
    pub in_flight_at_end: u64,
}

impl RequestCounts {
    /// Failed requests (every failure reason).
    pub fn failed(&self) -> u64 {
        Failure::ALL.iter().map(|&f| self.failure(f)).sum()
    }

    /// Requests that failed for `why`.
    pub fn failure(&self, why: Failure) -> u64 {
        match why {
            Failure::TimedOut => self.timed_out,
            Failure::Rejected => self.rejected,
            Failure::NoHealthyTarget => self.no_healthy_target,
            Failure::ServerError => self.server_error,
            Failure::ConnectFailed => self.connect_failed,
            Failure::Interrupted => self.interrupted,
        }
    }

    /// The counter of failures for `why`.
    pub fn failure_mut(&mut self, why: Failure) -> &mut u64 {
        match why {
            Failure::TimedOut => &mut self.timed_out,
            Failure::Rejected => &mut self.rejected,
            Failure::NoHealthyTarget => &mut self.no_healthy_target,
            Failure::ServerError => &mut self.server_error,
            Failure::ConnectFailed => &mut self.connect_failed,
            Failure::Interrupted => &mut self.interrupted,
        }
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &RequestCounts) {
        self.arrived += other.arrived;
        self.completed += other.completed;
        for f in Failure::ALL {
            *self.failure_mut(f) += other.failure(f);
        }
        self.in_flight_at_end += other.in_flight_at_end;
    }

    /// True if every arrival is accounted for exactly once.
    pub fn is_conserved(&self) -> bool {
        self.arrived == self.completed + self.failed() + self.in_flight_at_end
    }
}

/// Latency of completed requests [s]; `null` when none completed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Completed requests counted (those that arrived after the warm-up).
    pub count: u64,
    /// Mean, exact.
    pub mean: Option<f64>,
    /// Median, within 0.4 %.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p999: Option<f64>,
    /// Maximum, exact.
    pub max: Option<f64>,
}

/// One request class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassSummary {
    /// How its requests ended.
    pub requests: RequestCounts,
    /// Its latency.
    pub latency_seconds: LatencySummary,
}

/// One route: the classes it carries, together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteSummary {
    /// The target group it sends to.
    pub target_group: String,
    /// How its requests ended.
    pub requests: RequestCounts,
    /// Its latency.
    pub latency_seconds: LatencySummary,
}

/// Retries sent (attempts of requests already counted as arrived).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySummary {
    /// Tries the balancer sent to a target again after one failed.
    pub balancer: u64,
    /// Attempts clients sent again after one failed.
    pub client: u64,
}

/// Instances of one pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolInstances {
    /// Instance type name.
    pub instance_type: String,
    /// Time-average number of instances.
    pub mean: f64,
    /// Largest number at any time.
    pub max: u64,
    /// Instance-hours billed in full (every state but stopped or hibernated in the warm pool).
    pub instance_hours: f64,
    /// What its autoscaling did (zeros for a fixed pool).
    #[serde(default)]
    pub scaling: PoolScaling,
    /// Its purchase options, types and spot events (pools with a mixed instances policy or
    /// bought spot only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<PoolMarket>,
    /// Its random failures (pools with `[pool.failures]` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<PoolFailures>,
}

/// A mixed or spot pool's purchase options and spot events. `docs/metrics.md` defines each.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PoolMarket {
    /// On-demand instances counted toward the desired capacity when the run ended.
    pub on_demand_at_end: u32,
    /// Spot instances counted toward the desired capacity when the run ended.
    pub spot_at_end: u32,
    /// Instance-hours billed in full per instance type and purchase option
    /// (`"g5.xlarge/spot"`).
    pub instance_hours: BTreeMap<String, f64>,
    /// Spot interruption notices received.
    pub spot_interruptions: u64,
    /// Interrupted instances reclaimed by the cloud (at the end of the notice, or at the
    /// notice if not yet in service).
    pub spot_reclaimed: u64,
    /// Rebalance recommendations received.
    pub rebalance_recommendations: u64,
    /// At-risk instances replaced early by capacity rebalancing.
    pub rebalance_replacements: u64,
    /// Launch attempts of a type refused for insufficient capacity (each type tried counts).
    pub insufficient_capacity: u64,
}

/// A pool's random failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PoolFailures {
    /// Random host crashes.
    pub crashes: u64,
    /// Random GPU faults.
    pub gpu_faults: u64,
}

/// What a pool's instances went through. `docs/metrics.md` defines each.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PoolScaling {
    /// Desired capacity when the run ended.
    pub desired_at_end: u32,
    /// Instances started toward service (new, or from the warm pool).
    pub launches: u64,
    /// Of those, started from the warm pool.
    pub from_warm_pool: u64,
    /// Launch attempts that failed (each retried later).
    pub launch_failures: u64,
    /// Instances terminated.
    pub terminations: u64,
    /// Requests cut off by scale-in: still held when a draining instance's deregistration
    /// delay ran out.
    pub cut_by_drain: u64,
    /// Hours instances spent stopped or hibernated in the warm pool (billed for storage only).
    pub warm_pool_storage_hours: f64,
    /// Instances terminated and replaced because their balancer's health check found them
    /// unhealthy (`replace_unhealthy`); left out when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replaced_unhealthy: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The fleet's size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceSummary {
    /// Time-average number of instances, all pools.
    pub mean: f64,
    /// Largest number at any time, all pools.
    pub max: u64,
    /// Instance-hours, all pools.
    pub instance_hours: f64,
    /// Per pool.
    pub by_pool: BTreeMap<String, PoolInstances>,
}

/// What the fleet cost [USD]. `docs/metrics.md` defines each field; they add up:
/// `total = Σ by_pool + load_balancers + data_transfer = on_demand + spot + load_balancers +
/// data_transfer = Σ by_state + load_balancers + data_transfer`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CostSummary {
    /// Everything.
    pub total: f64,
    /// Per pool: its instances (on-demand and spot) and its warm pool's storage.
    pub by_pool: BTreeMap<String, f64>,
    /// Instances by how they were bought (warm-pool storage is on-demand's).
    #[serde(default)]
    pub by_purchase_option: PurchaseCost,
    /// Instances by what they were doing.
    #[serde(default)]
    pub by_state: StateCost,
    /// Load balancer hours and LCUs (`[billing] load_balancer`; 0 when not billed).
    #[serde(default)]
    pub load_balancers: f64,
    /// Data transfer between regions and clouds (0 until the scenario has regions).
    #[serde(default)]
    pub data_transfer: f64,
    /// `total` per 1,000 completed requests; `null` when none completed.
    #[serde(default)]
    pub per_1000_requests: Option<f64>,
    /// `total` per completed request that met `[slo] latency_target`; `null` without a target
    /// or when none met it.
    #[serde(default)]
    pub per_good_request: Option<f64>,
    /// `total` scaled to a 30-day month (720 h): `total × 720 h / simulated hours`, the
    /// definition `[slo] monthly_cost` judges.
    #[serde(default)]
    pub monthly: f64,
}

/// Instance cost by purchase option [USD].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PurchaseCost {
    /// Bought on demand (and warm-pool storage).
    pub on_demand: f64,
    /// Bought on the spot market.
    pub spot: f64,
}

/// Instance cost by lifecycle state [USD]; time billed beyond use (minimums, rounding) is idle.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StateCost {
    /// Pending, loading and warming (including instances being prepared for the warm pool).
    pub startup: f64,
    /// In service, times the fraction of its slots busy.
    pub serving: f64,
    /// In service, times the fraction of its slots idle; and time billed beyond use (the
    /// 60-second minimum, rounding up).
    pub idle: f64,
    /// Draining.
    pub draining: f64,
    /// In the warm pool: running instances in full, stopped or hibernated ones' storage.
    pub warm_pool: f64,
}

/// Requests that met the latency target (`[slo] latency_target`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SloCount {
    /// The target [s].
    pub latency_target_seconds: f64,
    /// Completed requests whose latency was at most the target.
    pub met: u64,
    /// `met / arrived` (every request that arrived counts: a failed one did not meet it);
    /// `null` when none arrived.
    pub fraction: Option<f64>,
}

/// Everything a run reports, as written to `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed used.
    pub seed: u64,
    /// Simulated time covered [s].
    pub simulated_seconds: f64,
    /// Arrivals before this time are left out of latency statistics [s].
    pub warmup_seconds: f64,
    /// Events the engine processed.
    pub events: u64,
    /// How requests ended.
    pub requests: RequestCounts,
    /// Requests lost to faults, by cause; left out when none were.
    #[serde(default, skip_serializing_if = "LossSummary::is_empty")]
    pub lost_by_cause: LossSummary,
    /// Latency of completed requests.
    pub latency_seconds: LatencySummary,
    /// Per request class.
    pub by_class: BTreeMap<String, ClassSummary>,
    /// Per route (path prefix, or pool name for classes that name their pool).
    pub by_route: BTreeMap<String, RouteSummary>,
    /// Retries sent.
    pub retries: RetrySummary,
    /// Time-average busy slots / slots.
    pub utilization: f64,
    /// Fleet size.
    pub instances: InstanceSummary,
    /// Fleet cost (with data transfer, when the scenario has regions).
    pub cost_usd: CostSummary,
    /// Requests that met the latency target; absent without `[slo] latency_target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_slo: Option<SloCount>,
    /// Regions, DNS and outages; absent for a scenario without `[[region]]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<super::TopologySummary>,
    /// Data transferred and its cost; absent for a scenario without `[[region]]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_transfer: Option<super::DataTransferSummary>,
    /// The closed loop's users and the interactive response time law; absent for open-loop
    /// traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_loop: Option<ClosedLoopSummary>,
}

/// A closed-loop run measured against the interactive response time law `R = N/X − Z`
/// (Jain, *The Art of Computer Systems Performance Analysis*, §33.4). Everything is measured
/// after the warm-up: requests that end in `[warmup, end)`, waits that begin there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClosedLoopSummary {
    /// `N`: concurrent users.
    pub users: u64,
    /// `Z`: the mean wait between the end of a request and its user's next send (think times
    /// and session gaps) [s]; `null` if no wait began.
    pub think_time_mean_seconds: Option<f64>,
    /// Requests completed per second.
    pub throughput_per_second: f64,
    /// `X`: requests that ended (completed, or failed for good after the client's retries)
    /// per second: each user's cycle is one ended request and one wait.
    pub ended_per_second: f64,
    /// `R`: the mean time from a request's first send to its end, failed ones included [s];
    /// `null` if none ended.
    pub response_time_mean_seconds: Option<f64>,
    /// `N/X − Z`: the mean response time the law implies [s]; it differs from
    /// `response_time_mean_seconds` only by the cycles cut by the window's two ends (at most
    /// one a user at each end). `null` if nothing ended or no wait began.
    pub law_response_time_seconds: Option<f64>,
}

/// The outcome of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// The summary.
    pub summary: Summary,
    /// Requests per region and window (`regions.csv`); `None` without `[[region]]`.
    pub regions: Option<super::RegionWindows>,
}
