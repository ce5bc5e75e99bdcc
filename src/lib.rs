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
pub mod metrics;
pub mod model;
pub mod report;
pub mod scenario;
pub mod sweep;
pub mod world;

use std::path::Path;

pub use metrics::{RunResult, Summary};
pub use scenario::{Scenario, ScenarioError, ScenarioSet};
pub use world::RunError;

/// Reads and validates the scenario file at `path`.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    Scenario::load(path)
}

/// Simulates `scenario` with master seed `seed`, sending each closed timeline window to
/// `timeline`. Deterministic: the same scenario and seed give the same result and rows. A run
/// the input drives where it cannot go on (a loop at one instant) stops with a [`RunError`].
pub fn run<S: metrics::TimelineSink>(
    scenario: &Scenario,
    seed: u64,
    timeline: &mut S,
) -> Result<RunResult, RunError> {
    world::World::build(scenario, seed).run(timeline)
}

/// [`run`], calling `progress` now and then with the fraction of the duration simulated (0
/// to 1; see [`world::PROGRESS_EVERY`]). It has no effect on the results.
pub fn run_observed<S: metrics::TimelineSink>(
    scenario: &Scenario,
    seed: u64,
    timeline: &mut S,
    progress: &dyn Fn(f64),
) -> Result<RunResult, RunError> {
    world::World::build(scenario, seed).run_observed(timeline, progress)
}
