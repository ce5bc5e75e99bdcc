//! The names of everything a result folder holds, in one place: the writers take their file
//! names from here, and the scenario reader refuses a run name that one of them would be
//! mistaken for ([`clash`]), so that the list cannot drift from what is written (a test walks a
//! whole result folder and checks every name it finds against [`WRITTEN`]).
//!
//! Layout (`docs/metrics.md`, "Result folders"): one run of one replication writes its data files
//! flat into the folder; otherwise each run has its folder `<run>/`, with `rep-<k>/` folders and
//! `aggregate.json` when replicated, and the folder's own files beside them.
//!
//! It sits below the layers that name these files (the scenario reader checks run names
//! against them, `report` writes them, `sweep` and `gates` read them back; `docs/architecture.md`,
//! "Layout") and knows nothing of the crate. It must not know what the files contain.

/// A run's summary.
pub const SUMMARY_JSON: &str = "summary.json";
/// A run's timeline, one row per window.
pub const TIMELINE_CSV: &str = "timeline.csv";
/// A run's scaling events.
pub const SCALING_EVENTS_CSV: &str = "scaling_events.csv";
/// A run's requests per region and window (runs with regions).
pub const REGIONS_CSV: &str = "regions.csv";
/// A replicated run's means and confidence intervals.
pub const AGGREGATE_JSON: &str = "aggregate.json";
/// The runs side by side, exact values.
pub const COMPARISON_CSV: &str = "comparison.csv";
/// The runs side by side, for a review.
pub const COMPARISON_MD: &str = "comparison.md";
/// `fleetsim check`'s verdict.
pub const SLO_MD: &str = "slo.md";
/// The review page.
pub const REPORT_HTML: &str = "report.html";
/// The headline numbers per run.
pub const SUMMARY_MD: &str = "summary.md";
/// The scenario text the folder was made from.
pub const SCENARIO_TOML: &str = "scenario.toml";
/// The charts' folder, in the result folder and in each run's.
pub const CHARTS_DIR: &str = "charts";
/// A shard's manifest (`fleetsim run --shard`).
pub const MANIFEST_JSON: &str = "shard.json";
/// The marker that says a folder is fleetsim's, so that a later run may replace it whole
/// (`report::staging`). Hidden, and no run can be named so (names do not start with `.`).
pub const MARKER: &str = ".fleetsim-results";

/// Every file and folder name fleetsim writes into a result folder or a run's folder, but the
/// runs' and replications' folders themselves.
pub const WRITTEN: &[&str] = &[
    SUMMARY_JSON,
    TIMELINE_CSV,
    SCALING_EVENTS_CSV,
    REGIONS_CSV,
    AGGREGATE_JSON,
    COMPARISON_CSV,
    COMPARISON_MD,
    SLO_MD,
    REPORT_HTML,
    SUMMARY_MD,
    SCENARIO_TOML,
    CHARTS_DIR,
    MANIFEST_JSON,
    MARKER,
];

/// The folder of replication `k` (from 1) inside a run's folder.
pub fn replication_dir(k: u32) -> String {
    format!("rep-{k}")
}

/// Whether `name` is, or on a case-insensitive file system would be taken for, a replication's
/// folder: `rep-` and digits, in any case.
pub fn is_replication_dir(name: &str) -> bool {
    name.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("rep-"))
        && name.len() > 4
        && name[4..].bytes().all(|b| b.is_ascii_digit())
}

/// The longest name a run can have: most file systems take 255 bytes a name.
pub const MAX_RUN_NAME: usize = 255;

/// Why `name` cannot name a run's folder: the file or folder of a result folder it would be
/// taken for (ignoring case, as case-insensitive file systems do), or `None` if it can.
pub fn clash(name: &str) -> Option<String> {
    if let Some(w) = WRITTEN.iter().find(|w| w.eq_ignore_ascii_case(name)) {
        return Some(format!("the result folder's \"{w}\""));
    }
    is_replication_dir(name).then(|| format!("a replication's folder \"{name}\""))
}

/// Why `name` is not a usable file or folder name (empty, too long, a path, control characters),
/// or `None`. Names read from a file that fleetsim did not write (a shard's manifest) go through
/// this before they name anything on disk.
pub fn unusable(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_RUN_NAME {
        Some("it is longer than 255 bytes")
    } else if name == "." || name == ".." || name.starts_with('.') {
        Some("it starts with '.'")
    } else if name.contains(['/', '\\']) {
        Some("it holds a path separator")
    } else if name.chars().any(char::is_control) {
        Some("it holds a control character")
    } else if name.contains(':') {
        // A drive or stream on Windows.
        Some("it holds ':'")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashes_ignore_case_and_cover_replication_folders() {
        assert!(clash("report.html").is_some());
        assert!(clash("Report.HTML").is_some());
        assert!(clash("CHARTS").is_some());
        assert!(clash("rep-1").is_some());
        assert!(clash("REP-12").is_some());
        assert_eq!(clash("rep-"), None);
        assert_eq!(clash("rep-1a"), None);
        assert_eq!(clash("fast"), None);
        assert_eq!(clash("report"), None);
    }

    #[test]
    fn unusable_names_are_paths_or_empty_or_hidden() {
        for bad in ["", ".", "..", "a/b", "..\\x", ".hidden", "a\u{7}b", "c:x"] {
            assert!(unusable(bad).is_some(), "{bad:?}");
        }
        assert!(unusable(&"x".repeat(256)).is_some());
        for good in ["base", "p2c", "base+algorithm=random", "a..b", "-x"] {
            assert_eq!(unusable(good), None, "{good:?}");
        }
    }
}
