//! Fuzz target: the scenario reader (issue 14). Any bytes are a scenario file, or, when the
//! first line is `--set ARG`, a `--set` argument and the file after it. Nothing may panic, and
//! every problem found must be reported as the contract says: each with a `help:` hint, and
//! the printed text bounded and free of control characters (echoed input is escaped).
//!
//! Run with `benches/fuzz/run.sh` (not in CI).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

use fleetsim::scenario::{terminal_safe, Grid};
use fleetsim::ScenarioSet;

fuzz_target!(|data: &[u8]| {
    // Bytes that are not UTF-8 are the file reader's to refuse (tested in
    // tests/integration/bad_input.rs); the parser takes text.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (sets, text) = match text.strip_prefix("--set ") {
        Some(rest) => {
            let (set, text) = rest.split_once('\n').unwrap_or((rest, ""));
            (vec![set.to_string()], text)
        }
        None => (Vec::new(), text),
    };
    let grid = match Grid::parse(&sets) {
        Ok(grid) => grid,
        Err(e) => {
            let shown = terminal_safe(&e.to_string());
            assert!(shown.contains("\n  help: "), "no help: {shown}");
            assert!(!shown.chars().any(|c| c.is_control() && c != '\n'));
            return;
        }
    };
    // The file's folder anchors data paths: a folder of its own, so that a fuzzed `file = "..."`
    // finds nothing but what is named absolutely.
    let path = Path::new("/nonexistent-fleetsim-fuzz/scenario.toml");
    if let Err(e) = ScenarioSet::parse_with(text, path, &grid) {
        for d in &e.diagnostics {
            assert!(d.help.is_some(), "no help for {}: {}", d.path, d.message);
        }
        let shown = e.to_string();
        assert!(
            !shown.chars().any(|c| c.is_control() && c != '\n'),
            "a control character printed: {shown:?}"
        );
        // Each line bounded: a path, a message or a help of at most FIELD_CHARS characters
        // and the file name.
        for line in shown.lines() {
            assert!(line.chars().count() < 3_000, "a line of {} characters", line.chars().count());
        }
    }
});
