//! fleetsim: a deterministic discrete-event simulator of the traffic, load balancers, GPU servers
//! and autoscalers behind an AI inference service, and of what they cost.
//!
//! The public API is a pipeline: [`Scenario::load`] (or [`load_scenario`]) reads and validates a
//! scenario file, [`run`] simulates it with a seed, streaming timeline rows into a sink, and
//! returns a [`RunResult`] whose summary [`report`] writes out. A file with `[[variant]]` tables
//! is read with [`ScenarioSet::load`]: the base and every variant, each a whole [`Scenario`].
//! [`gates`] reads result folders back and judges them against a scenario's `[slo]` or against
//! another folder (`fleetsim check`, `fleetsim compare`).
//!
//! A scenario from text, run, and every request accounted for: two servers overloaded by a
//! traffic step (ρ = 1.5 after the first minute) with a 20 s client timeout, so that some
//! requests complete, some time out and some are still in flight when the run ends.
//!
//! ```
//! use std::path::Path;
//!
//! let text = r#"
//! name = "front_page"
//! duration = "3m"
//! timeout = "20s"
//! [traffic]
//! profile = { kind = "steps", steps = [{ at = "0s", rate = "1/s" }, { at = "1m", rate = "6/s" }] }
//! [[instance_type]]
//! name = "gpu"
//! concurrency = 1
//! price = "$2.50/h"
//! [[pool]]
//! name = "gpus"
//! instance_type = "gpu"
//! instances = 2
//! [[class]]
//! name = "chat"
//! service = { distribution = "exponential", mean = "500ms" }
//! "#;
//! let scenario = fleetsim::Scenario::parse(text, Path::new("front_page.toml"))?;
//! let result = fleetsim::run(&scenario, 7, &mut fleetsim::metrics::DiscardTimeline)?;
//! let r = &result.summary.requests;
//! // Conservation: every request that arrived completed, failed or is still in flight.
//! assert_eq!(r.arrived, r.completed + r.failed() + r.in_flight_at_end);
//! assert!(r.completed > 0 && r.failed() > 0 && r.in_flight_at_end > 0, "{r:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod calibrate;
pub mod engine;
pub mod gates;
pub mod inspect;
pub mod layout;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod report;
pub mod scenario;
pub mod sweep;
pub mod time;
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
/// `timeline`. Deterministic: the same scenario and seed give the same result and rows. The run
/// may use the whole process's memory budget ([`limits::MemoryBudget::current`]); a run the
/// input drives where it cannot go on (a loop at one instant, more held than the budget allows)
/// stops with a [`RunError`].
pub fn run<S: metrics::TimelineSink>(
    scenario: &Scenario,
    seed: u64,
    timeline: &mut S,
) -> Result<RunResult, RunError> {
    run_with(
        scenario,
        seed,
        timeline,
        &limits::RunShare::whole_process(),
        &|_| {},
    )
}

/// [`run`] within `share` of the memory budget (a sweep's runs at once share it), calling
/// `progress` now and then with the fraction of the duration simulated (0 to 1; see
/// [`world::PROGRESS_EVERY`]). Neither changes a run that fits: its result is the same whatever
/// its share, and progress has no effect on it.
pub fn run_with<S: metrics::TimelineSink>(
    scenario: &Scenario,
    seed: u64,
    timeline: &mut S,
    share: &limits::RunShare,
    progress: &dyn Fn(f64),
) -> Result<RunResult, RunError> {
    let caps = world::memory_guard::caps(scenario, share)?;
    let mut world = world::World::build(scenario, seed);
    world.limit(caps, share);
    world.run_observed(timeline, progress)
}
