//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use fleetsim::metrics::{CollectTimeline, TimelineRow};
use fleetsim::{Scenario, Summary};

/// The repository root (tests run from anywhere).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Parses scenario text, panicking with the full diagnostic if it is invalid (test helper).
pub fn scenario(text: &str) -> Scenario {
    Scenario::parse(text, Path::new("inline.toml")).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a scenario with `seed`, keeping the timeline in memory.
pub fn run(s: &Scenario, seed: u64) -> (Summary, Vec<TimelineRow>) {
    let mut sink = CollectTimeline::default();
    let result = fleetsim::run(s, seed, &mut sink);
    (result.summary, sink.rows)
}

/// Every shipped scenario file.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}
