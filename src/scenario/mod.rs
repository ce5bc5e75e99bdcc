//! The scenario file format: reading, units, defaults and validation into a typed [`Scenario`].
//!
//! Two stages, as ripgrep's low-level and high-level arguments: `raw` reads the TOML into
//! `Raw*` shapes (types checked, units parsed, unknown keys rejected, every position kept),
//! then `validate` checks what spans several fields (references, shares, bounds) and builds
//! the typed scenario. Both stages collect every problem; nothing stops at the first.
//!
//! The two stages are short orchestrators over the topics, each of which owns the read and the
//! validation of its tables: `run`, `traffic` (with `trace` and `closed_loop`),
//! `service`, `classes`, `fleet` (with `lifecycle`, `failures`, `spot` and
//! `autoscaling`), `balancer`, `faults`, `market`, `llm`, `slo` and `topology`.
//! Under them all sit the field readers (`reader`, with `diagnostics`, `units` and
//! `csv_file`); over them, `variants` and `grid` merge `[[variant]]` tables and `--set`
//! values onto the document before it is read. A topic never imports the orchestrators, and
//! the imports between files form no cycle.
//!
//! It must not know about the event loop: a scenario is a description, not a simulation.

mod autoscaling;
mod balancer;
mod classes;
mod closed_loop;
mod csv_file;
mod diagnostics;
mod empirical;
mod failures;
mod faults;
mod file;
mod fleet;
mod grid;
mod lifecycle;
mod llm;
mod llm_engine;
mod market;
mod raw;
mod reader;
mod run;
mod service;
mod slo;
pub mod spec;
mod spot;
#[cfg(test)]
mod tests;
mod topology;
mod trace;
mod traffic;
mod typed;
mod units;
mod validate;
mod variants;

use std::path::Path;

pub use classes::validate::RequestClass;
pub use diagnostics::{terminal_safe, Diagnostic, ScenarioError};
pub use file::MAX_SCENARIO_BYTES;
pub use grid::{Grid, GridError};
pub use trace::TraceSpec;
pub use typed::Scenario;
pub use variants::{ScenarioSet, Variant, BASE_NAME};

impl Scenario {
    /// Reads and validates the scenario file at `path`. A file with `[[variant]]` tables is an
    /// error here (read it with [`ScenarioSet::load`]): running only its base would silently
    /// drop the variants.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::parse(&file::read_file(path)?, path)
    }

    /// Validates scenario text; `path` names it in messages and anchors relative data paths.
    /// Text with `[[variant]]` tables is an error, as in [`Scenario::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        ScenarioSet::parse(text, path)?.into_single(path)
    }
}
