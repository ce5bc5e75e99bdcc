//! The validated scenario: the typed values the run reads, every reference resolved, every
//! default filled, every unit converted.

use std::path::PathBuf;

use super::classes::validate::RequestClass;
use super::trace::TraceSpec;
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec};
use crate::model::fleet::{FaultSpec, InstanceType, OnTimeout};
use crate::model::traffic::backoff::ClientRetry;
use crate::model::traffic::{ArrivalProcess, Population, RateProfile};
use crate::scenario::spec::PoolSpec;
use crate::scenario::spec::SloSpec;
use crate::time::SimDuration;

/// A validated scenario: every reference resolved, every default filled, every unit converted.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Name, used for the output folder.
    pub name: String,
    /// The file it was read from (for messages; relative paths inside it resolve from its folder).
    pub file: PathBuf,
    /// How long to simulate.
    pub duration: SimDuration,
    /// Requests arriving before this are left out of latency statistics (they are still counted).
    pub warmup: SimDuration,
    /// Master seed of the random streams. Default 1.
    pub seed: u64,
    /// A request not answered this long after it arrived fails as timed out. `None`: no timeout.
    pub timeout: Option<SimDuration>,
    /// What a server does with work whose client timed out. Default: keep serving.
    pub on_timeout: OnTimeout,
    /// Width of a timeline window. Default 10 s.
    pub window: SimDuration,
    /// The arrival rate over time.
    pub traffic: RateProfile,
    /// `[traffic] trace`: arrivals replayed from a trace file instead of drawn from `traffic`
    /// (which then holds the replay's mean rate).
    pub trace: Option<TraceSpec>,
    /// How arrivals are spaced. Default: Poisson.
    pub arrival_process: ArrivalProcess,
    /// Request classes; shares sum to 1.
    pub classes: Vec<RequestClass>,
    /// Instance types.
    pub instance_types: Vec<InstanceType>,
    /// Server pools.
    pub pools: Vec<PoolSpec>,
    /// Target groups: pools behind one balancer each. Classes that name a pool directly get a
    /// group of that pool alone, named after it.
    pub target_groups: Vec<TargetGroupSpec>,
    /// Routes, each to a target group; every class is served through one.
    pub routes: Vec<RouteSpec>,
    /// Instances that fail during the run.
    pub faults: Vec<FaultSpec>,
    /// Windows in which launches of a type fail with insufficient capacity.
    pub capacity_shortages: Vec<crate::model::market::interruptions::CapacityShortage>,
    /// Clients' retries (`[client] retry`); `None`: clients do not retry.
    pub client_retry: Option<ClientRetry>,
    /// Who sends the requests (`[traffic] users`, `networks`; with a closed loop, its users).
    pub population: Population,
    /// `[traffic] closed_loop`: N concurrent users, each sending its next request when the
    /// previous one ends and a think time has passed; `None`: open-loop arrivals by `traffic`.
    pub closed_loop: Option<crate::model::traffic::sessions::ClosedLoop>,
    /// The service-level objectives `fleetsim check` judges the run against (`[slo]`); `None`:
    /// none. The run reads only its `latency_target` (which requests count as good).
    pub slo: Option<SloSpec>,
    /// How instances and balancers are billed (`[billing]`; default per second, 60 s minimum,
    /// no balancer cost).
    pub billing: crate::model::market::billing::BillingSpec,
    /// Regions, places, global DNS and outages (`[[region]]` and the tables that need it);
    /// `None`: one anonymous region, as before regions existed.
    pub topology: Option<crate::model::topology::Topology>,
}

impl Scenario {
    /// The number of server slots in all pools.
    pub fn total_slots(&self) -> u64 {
        self.pools
            .iter()
            .map(|p| p.instances as u64 * self.instance_types[p.instance_type].concurrency as u64)
            .sum()
    }
}
