//! Writing results: `summary.json`, `timeline.csv` and the human summary on the terminal.
//!
//! Formatting only (`serialize`-style functions return bytes or text); the one place that
//! touches the file system is [`atomic`], which never leaves a half-written file behind.
//! It must not know how the numbers were produced.

pub mod atomic;
mod json;
mod text;
mod timeline_csv;

pub use json::summary_json;
pub use text::human_summary;
pub use timeline_csv::{CsvTimeline, TIMELINE_COLUMNS};

use std::io;
use std::path::Path;

use crate::metrics::Summary;

/// Writes `summary.json` into `dir` atomically.
pub fn write_summary(dir: &Path, summary: &Summary) -> io::Result<()> {
    atomic::write(&dir.join("summary.json"), &summary_json(summary))
}
