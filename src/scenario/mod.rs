//! The scenario file format: reading, units, defaults and validation into a typed [`Scenario`].
//!
//! Two stages, as ripgrep's low-level and high-level arguments: [`raw`] reads the TOML into
//! `Raw*` shapes (types checked, units parsed, unknown keys rejected, every position kept),
//! then [`validate`] checks what spans several fields (references, shares, bounds) and builds
//! the typed scenario. Both stages collect every problem; nothing stops at the first.
//!
//! It must not know about the event loop: a scenario is a description, not a simulation.

mod autoscaling;
mod aws_policies;
mod closed_loop;
mod csv_file;
mod diagnostics;
mod empirical;
mod grid;
mod kubernetes;
mod lifecycle;
mod llm;
mod market;
mod rates;
mod raw;
mod reader;
mod slo;
mod spot;
#[cfg(test)]
mod tests;
mod topology;
mod trace;
mod units;
mod validate;
mod variants;

use std::path::{Path, PathBuf};

pub use diagnostics::{Diagnostic, ScenarioError};
pub use grid::Grid;
pub use trace::TraceSpec;
pub use variants::{ScenarioSet, Variant, BASE_NAME};

use crate::engine::SimDuration;
use crate::gates::SloSpec;
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec};
use crate::model::fleet::{FaultSpec, InstanceType, OnTimeout, PoolSpec, ServiceTime};
use crate::model::traffic::backoff::ClientRetry;
use crate::model::traffic::{ArrivalProcess, Population, RateProfile};

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

/// A kind of request: its share of traffic, where it goes and how long it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestClass {
    /// Name used in results.
    pub name: String,
    /// Fraction of arrivals of this class.
    pub share: f64,
    /// Index of the route that carries it (and so of its target group).
    pub route: usize,
    /// Service time on each instance type (indexed like `Scenario::instance_types`), with the
    /// type's speed already applied (unused for a token-based class).
    pub service_by_type: Vec<ServiceTime>,
    /// Its input and output token distributions: a token-based (LLM) class, served by the LLM
    /// profiles of its instance types; `None`: served by `service_by_type`.
    pub tokens: Option<crate::model::fleet::llm::TokenSpec>,
}

impl Scenario {
    /// Reads and validates the scenario file at `path`. A file with `[[variant]]` tables is an
    /// error here (read it with [`ScenarioSet::load`]): running only its base would silently
    /// drop the variants.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::parse(&read_file(path)?, path)
    }

    /// Validates scenario text; `path` names it in messages and anchors relative data paths.
    /// Text with `[[variant]]` tables is an error, as in [`Scenario::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        ScenarioSet::parse(text, path)?.into_single(path)
    }

    /// The number of server slots in all pools.
    pub fn total_slots(&self) -> u64 {
        self.pools
            .iter()
            .map(|p| p.instances as u64 * self.instance_types[p.instance_type].concurrency as u64)
            .sum()
    }
}

/// The text of the scenario file at `path`.
fn read_file(path: &Path) -> Result<String, ScenarioError> {
    // Within the memory budget: a device or a pipe given as the scenario is cut off, not read
    // until memory runs out.
    crate::limits::read_capped_to_string(path).map_err(|e| {
        ScenarioError::whole_file(
            path,
            format!("cannot read the scenario file: {e}"),
            Some(
                "check the path; scenario files are TOML, such as scenarios/viral_spike_100x.toml"
                    .into(),
            ),
        )
    })
}

/// Stages one and two over one parsed document: the base, or a variant merged onto it. `None`
/// if the reader recorded any problem.
fn from_document(
    reader: &mut reader::Reader<'_>,
    doc: &toml_span::Value<'_>,
    path: &Path,
) -> Option<Scenario> {
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let scenario =
        raw::read(reader, doc, base_dir).and_then(|raw| validate::validate(reader, raw, path));
    scenario.filter(|_| !reader.has_errors())
}
