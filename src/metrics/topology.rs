//! What a run with regions reports about them: traffic and latency per region, DNS health
//! changes, requests lost to outages, and data transferred. `docs/metrics.md` defines each.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::LatencySummary;

/// Regions, DNS and outages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologySummary {
    /// Per region (by name).
    pub by_region: BTreeMap<String, RegionSummary>,
    /// DNS health-status changes, anycast withdrawals and outage windows, in time order.
    pub dns_events: Vec<DnsEvent>,
    /// Requests whose final failure an outage caused: work lost when its host went down, or a
    /// try sent to a balancer or host that was down (they are also counted under their
    /// failure reason, `interrupted` or `connect_failed`).
    pub lost_to_outage: u64,
}

/// One region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionSummary {
    /// Cloud it is in.
    pub cloud: String,
    /// Tries sent to its balancers (first tries, balancer retries and client retries).
    pub tries: u64,
    /// Requests that completed there.
    pub completed: u64,
    /// Requests whose final failure happened there.
    pub failed: u64,
    /// Client-observed latency of requests completed there (round trip from the user's place
    /// included), for arrivals after the warm-up.
    pub latency_seconds: LatencySummary,
    /// When the first try was sent to it \[s\]; `null` if none.
    pub first_try_seconds: Option<f64>,
    /// When the last try was sent to it \[s\]; `null` if none.
    pub last_try_seconds: Option<f64>,
}

/// A change the DNS or the network saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsEvent {
    /// When \[s\].
    pub seconds: f64,
    /// The region.
    pub region: String,
    /// `unhealthy`/`healthy` (a DNS health-check status flip), `withdrawn`/`announced`
    /// (anycast), `outage_begins`/`outage_ends`.
    pub event: String,
}

/// Requests per region in fixed windows (`regions.csv`): counts only, one entry per window
/// and region, so memory is bounded like the timeline's.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionWindows {
    /// Window width \[s\] (the timeline's).
    pub window_seconds: f64,
    /// The run's length \[s\] (the last window may be shorter).
    pub duration_seconds: f64,
    /// Region names, in scenario order.
    pub regions: Vec<String>,
    /// `[tries, completed, failed]` of window `w` and region `r` at `w * regions.len() + r`.
    pub counts: Vec<[u64; 3]>,
}

/// Bytes moved between places that clouds charge for, in GB (10^9 bytes), and their price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataTransferSummary {
    /// Responses sent to users, by the cloud whose balancer sent them.
    pub internet_egress_gb: BTreeMap<String, f64>,
    /// Requests and responses between a balancer and a pool in another region of the same
    /// cloud, by cloud.
    pub inter_region_gb: BTreeMap<String, f64>,
    /// Requests and responses between a balancer and a pool in another cloud, by the cloud
    /// that sent them (priced as that cloud's internet egress).
    pub inter_cloud_gb: BTreeMap<String, f64>,
    /// What it all cost \[USD\] (included in `cost_usd.total`).
    pub usd: f64,
}
