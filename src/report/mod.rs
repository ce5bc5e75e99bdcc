//! Writing results: `summary.json`, `aggregate.json`, `timeline.csv`, `comparison.csv`/`.md`,
//! the human summaries on the terminal, and the review report (charts, `report.html`,
//! `summary.md`) made from a result folder read back ([`write_report`]).
//!
//! Formatting only: the columns of the comparison and the timeline, their order and how each is
//! shown are `crate::metrics::columns`' (one list), written here as it says. `serialize`-style
//! functions return bytes or text; files are written by [`atomic`], which never leaves a
//! half-written file behind, into a result folder that [`staging`] puts in place only when it is
//! complete, under the names of [`crate::layout`]; text cells of every CSV go through
//! [`csv_cell`]. Folders are read back for the report by [`results_dir`] and
//! [`timeline_points`]. It must not know how the numbers were produced.

pub mod atomic;
pub mod charts;
mod comparison;
pub mod csv_cell;
mod error;
pub mod finite;
pub mod html;
mod json;
pub mod markdown;
mod regions_csv;
pub mod results_dir;
mod review;
pub mod staging;
mod text;
mod timeline_csv;
pub mod timeline_points;

pub use comparison::{
    comparison_columns, comparison_csv, comparison_markdown, comparison_text, ComparisonRow,
    RunSummary,
};
pub use error::ReportError;
pub use json::{aggregate_json, summary_json};
pub use regions_csv::{regions_csv, REGIONS_COLUMNS};
pub use review::{keep_scenario, read_results, write_report, CHARTS_DIR};
pub use text::human_summary;
pub use timeline_csv::{CsvTimeline, TIMELINE_COLUMNS};

use std::io;
use std::path::Path;

use crate::layout;
use crate::metrics::Summary;

/// Writes `summary.json` into `dir` atomically. A number that is not finite is an error naming
/// its field (serde_json would write it as `null`; see [`finite`]), and nothing is written.
pub fn write_summary(dir: &Path, summary: &Summary) -> io::Result<()> {
    if let Some((field, value)) = finite::first_non_finite(summary) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "summary.json: {field} is {value}, not a finite number; this is a fleetsim bug (validation bounds every input), please report it with the scenario"
            ),
        ));
    }
    atomic::write(&dir.join(layout::SUMMARY_JSON), &summary_json(summary))
}

/// Writes `comparison.csv` and `comparison.md` into `dir` atomically; the first row is the base.
pub fn write_comparison(dir: &Path, rows: &[ComparisonRow<'_>]) -> io::Result<()> {
    atomic::write(&dir.join(layout::COMPARISON_CSV), &comparison_csv(rows))?;
    atomic::write(&dir.join(layout::COMPARISON_MD), &comparison_markdown(rows))
}
