//! fleetsim: a deterministic discrete-event simulator of the traffic, load balancers, GPU servers
//! and autoscalers behind an AI inference service, and of what they cost.
//!
//! The public API is a pipeline: [`Scenario::load`] (or [`load_scenario`]) reads and validates a
//! scenario file, [`run`] simulates it with a seed, streaming timeline rows into a sink, and
//! returns a [`RunResult`] whose summary [`report`] writes out. A file with `[[variant]]` tables
//! is read with [`ScenarioSet::load`]: the base and every variant, each a whole [`Scenario`].
//! [`gates`] reads result folders back and judges them against a scenario's `[slo]` or against
//! another folder (`fleetsim check`, `fleetsim compare`).
#![deny(missing_docs)]

pub mod engine;
pub mod gates;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod report;
pub mod scenario;
pub mod sweep;
pub mod world;

use std::path::Path;

pub use metrics::{RunResult, Summary};
pub use scenario::{Scenario, ScenarioError, ScenarioSet};

/// Reads and validates the scenario file at `path`.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    Scenario::load(path)
}

/// Simulates `scenario` with master seed `seed`, sending each closed timeline window to
/// `timeline`. Deterministic: the same scenario and seed give the same result and rows.
///
/// The run may use the whole process's memory budget ([`limits::MemoryBudget::current`]).
///
/// # Panics
/// If the memory guard stops it (it would hold more than the budget allows): use [`try_run`]
/// to get that error as a value.
pub fn run<S: metrics::TimelineSink>(
    scenario: &Scenario,
    seed: u64,
    timeline: &mut S,
) -> RunResult {
    try_run(scenario, seed, timeline, &limits::RunShare::whole_process())
        .unwrap_or_else(|stop| panic!("{stop}"))
}

/// As [`run`], within `share` of the memory budget: a run that would hold more (requests,
/// pending events, or a scenario too large to start) stops with the memory guard's error
/// ([`world::guard`]). A run that fits gives the same result whatever its share.
pub fn try_run<S: metrics::TimelineSink>(
    scenario: &Scenario,
    seed: u64,
    timeline: &mut S,
    share: &limits::RunShare,
) -> Result<RunResult, Box<world::guard::GuardStop>> {
    let caps = world::guard::caps(scenario, share)?;
    let mut world = world::World::build(scenario, seed);
    world.limit(caps, share);
    world.run(timeline)
}
