//! Reading a result folder back (what `fleetsim run` wrote): which runs it holds, in what order,
//! their summaries and first scaling events, and the scenario text kept beside them.
//!
//! Layouts understood (`README.md`, "What a run gives"):
//! - one run: `DIR/summary.json`, `DIR/timeline.csv`, `DIR/scaling_events.csv`;
//! - variants: one such folder per run, `DIR/<run>/` (the base's is `DIR/base/`), and
//!   `DIR/comparison.csv`, whose first column gives the order of the runs;
//! - replications: a run folder holding `rep-1/`, `rep-2/`, … instead of the three files, and
//!   `aggregate.json`. The first replication's files stand for the run's timeline and own
//!   numbers; `aggregate.json` gives the comparison its means and intervals.
//!
//! It must not know how the files were produced, nor draw anything.

use std::io;
use std::path::{Path, PathBuf};

use super::csv_cell;
use crate::layout;
use crate::metrics::Summary;

/// The scenario text `fleetsim run` keeps in a result folder, echoed by `report.html`.
pub const SCENARIO_FILE: &str = layout::SCENARIO_TOML;

/// At most this many scaling events are kept per run for the report's table.
pub const MAX_SCALING_EVENTS: usize = 12;

/// One run of a result folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The run's name: `base` or a variant's; for a folder of one run, the scenario's name.
    pub name: String,
    /// The run's folder (its charts go to `charts/` inside).
    pub dir: PathBuf,
    /// Where its `summary.json`, `timeline.csv` and `scaling_events.csv` are: `dir`, or
    /// `dir/rep-1` for replications.
    pub data: PathBuf,
    /// Replication folders found (`rep-1`, `rep-2`, …); 0 when the run has none.
    pub replications: usize,
    /// `aggregate.json`, when there and readable.
    pub aggregate: Option<crate::metrics::Aggregate>,
    /// Its summary (of the first replication, for replications).
    pub summary: Summary,
    /// Its scaling events, the first [`MAX_SCALING_EVENTS`].
    pub scaling_events: Vec<ScalingEventRow>,
    /// How many scaling events the run had.
    pub scaling_event_count: usize,
}

/// `dir/aggregate.json`, if it is there and reads as one. One that does not read (another
/// tool's, a newer format) only costs the report its intervals.
fn read_aggregate(dir: &Path) -> io::Result<Option<crate::metrics::Aggregate>> {
    let path = dir.join("aggregate.json");
    if !path.is_file() {
        return Ok(None);
    }
    Ok(serde_json::from_slice(&std::fs::read(&path)?).ok())
}

/// A row of `scaling_events.csv`, as text.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ScalingEventRow {
    /// When \[s\].
    pub time_s: f64,
    /// The pool.
    pub pool: String,
    /// The policy that decided.
    pub policy: String,
    /// Desired capacity before.
    pub from: u32,
    /// Desired capacity after.
    pub to: u32,
    /// The controller's reason.
    pub reason: String,
}

/// A result folder: its runs, base first.
#[derive(Debug, Clone)]
pub struct ResultsDir {
    /// The folder.
    pub root: PathBuf,
    /// Whether the runs are variants in subfolders (then comparison charts go to `root/charts`).
    pub has_variants: bool,
    /// The runs, in the comparison's order (the base first).
    pub runs: Vec<RunDir>,
    /// The scenario text, if the folder keeps it ([`SCENARIO_FILE`]).
    pub scenario_text: Option<String>,
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what}", path.display()),
    )
}

/// Where a run folder's data files are: itself, or its first replication; and how many
/// replications it holds. `None` if neither has a `summary.json`.
fn data_dir(run: &Path) -> Option<(PathBuf, usize)> {
    if run.join("summary.json").is_file() {
        return Some((run.to_path_buf(), 0));
    }
    let first = run.join("rep-1");
    if !first.join("summary.json").is_file() {
        return None;
    }
    let replications = (1..)
        .take_while(|i| run.join(format!("rep-{i}")).is_dir())
        .count();
    Some((first, replications))
}

fn read_summary(path: &Path) -> io::Result<Summary> {
    let bytes = std::fs::read(path).map_err(|e| invalid(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| invalid(path, e))
}

/// The first [`MAX_SCALING_EVENTS`] rows of `scaling_events.csv` and the number of rows; none
/// if the file is missing.
fn read_scaling_events(path: &Path) -> io::Result<(Vec<ScalingEventRow>, usize)> {
    if !path.is_file() {
        return Ok((Vec::new(), 0));
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| invalid(path, e))?;
    let mut kept = Vec::new();
    let mut count = 0;
    for row in reader.deserialize::<ScalingEventRow>() {
        let mut row = row.map_err(|e| invalid(path, e))?;
        // Text cells were neutralised against formulas when written.
        for text in [&mut row.pool, &mut row.policy, &mut row.reason] {
            *text = csv_cell::restore(text).to_string();
        }
        if kept.len() < MAX_SCALING_EVENTS {
            kept.push(row);
        }
        count += 1;
    }
    Ok((kept, count))
}

/// The run names in `comparison.csv`'s first column, if the file is there.
fn comparison_order(root: &Path) -> io::Result<Option<Vec<String>>> {
    let path = root.join("comparison.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let mut reader = csv::Reader::from_path(&path).map_err(|e| invalid(&path, e))?;
    let mut names = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| invalid(&path, e))?;
        if let Some(name) = record.get(0) {
            let name = csv_cell::restore(name);
            // Names become folder names: one that leaves the folder is not a run's.
            if let Some(why) = layout::unusable(name) {
                return Err(invalid(&path, format!("{name:?} is not a run name: {why}")));
            }
            names.push(name.to_string());
        }
    }
    Ok(Some(names))
}

/// Whether `root` holds both a single run's `summary.json` and a `comparison.csv`, the latter
/// written later: a folder reused by a run with variants after one without (or the other way
/// round) keeps the files of both, and the newer layout is the one to report.
fn variants_are_newer(root: &Path) -> bool {
    let modified = |name: &str| {
        std::fs::metadata(root.join(name))
            .and_then(|m| m.modified())
            .ok()
    };
    match (modified("comparison.csv"), modified("summary.json")) {
        (Some(comparison), Some(summary)) => comparison >= summary,
        _ => false,
    }
}

/// Run subfolders of `root`, sorted by name with `base` first (when no `comparison.csv` says
/// the order).
fn listed_runs(root: &Path) -> io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(root)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir() && data_dir(&e.path()).is_some())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort_by(|a, b| (a != "base", a).cmp(&(b != "base", b)));
    Ok(names)
}

impl ResultsDir {
    /// Reads the result folder `root`. A folder with no run in it, or a file that does not
    /// parse, is an error naming the file.
    pub fn read(root: &Path) -> io::Result<ResultsDir> {
        let scenario_path = root.join(SCENARIO_FILE);
        let scenario_text = if scenario_path.is_file() {
            Some(std::fs::read_to_string(&scenario_path).map_err(|e| invalid(&scenario_path, e))?)
        } else {
            None
        };
        if let Some((data, replications)) = data_dir(root).filter(|_| !variants_are_newer(root)) {
            let summary = read_summary(&data.join("summary.json"))?;
            let run = RunDir::read(summary.scenario.clone(), root, data, replications, summary)?;
            return Ok(ResultsDir {
                root: root.to_path_buf(),
                has_variants: false,
                runs: vec![run],
                scenario_text,
            });
        }
        let names = match comparison_order(root)? {
            Some(names) => names,
            None => listed_runs(root).map_err(|e| invalid(root, e))?,
        };
        let mut runs = Vec::with_capacity(names.len());
        for name in names {
            let dir = root.join(&name);
            let (data, replications) = data_dir(&dir)
                .ok_or_else(|| invalid(&dir, "no summary.json (nor rep-1/summary.json)"))?;
            let summary = read_summary(&data.join("summary.json"))?;
            runs.push(RunDir::read(name, &dir, data, replications, summary)?);
        }
        if runs.is_empty() {
            return Err(invalid(
                root,
                "no results here: expected summary.json, or run folders with one (is this the --out folder of `fleetsim run`?)",
            ));
        }
        Ok(ResultsDir {
            root: root.to_path_buf(),
            has_variants: true,
            runs,
            scenario_text,
        })
    }

    /// Whether any run has replications.
    pub fn has_replications(&self) -> bool {
        self.runs.iter().any(|r| r.replications > 0)
    }
}

impl RunDir {
    fn read(
        name: String,
        dir: &Path,
        data: PathBuf,
        replications: usize,
        summary: Summary,
    ) -> io::Result<RunDir> {
        let (scaling_events, scaling_event_count) =
            read_scaling_events(&data.join("scaling_events.csv"))?;
        let aggregate = read_aggregate(dir)?;
        Ok(RunDir {
            name,
            dir: dir.to_path_buf(),
            aggregate,
            data,
            replications,
            summary,
            scaling_events,
            scaling_event_count,
        })
    }
}
