//! Result folders read back: the metrics of each run, with their confidence intervals when the
//! run was replicated.
//!
//! Both layouts of `fleetsim run` (the issue 5 layout, `docs/ci-gates.md`):
//! - one run, one replication: `DIR/summary.json`, a run named `base`;
//! - otherwise `DIR/comparison.csv` lists the runs (first column, in order) and each has a folder
//!   `DIR/<run>/` holding `summary.json` (one replication) or `aggregate.json` (several: the mean,
//!   standard deviation and 95 % Student-t interval of every metric over the replications).
//!
//! A folder holding both `summary.json` and `comparison.csv` (a folder reused by runs of
//! different shapes) is read by its newer file. Runs are taken from `comparison.csv`, not from
//! the subfolders, so the stale folder of a variant removed since is not read as a run.
//!
//! The gates judge a closed list of metrics, [`Metric`]: some of the comparison's columns
//! (`crate::metrics::columns::COMPARISON`), named as `comparison.csv` and `aggregate.json` name
//! them, with their unit and value read from that one list (a test checks them against
//! `comparison.csv`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::metrics::columns::ComparisonColumn;
use crate::metrics::Summary;

/// A metric the gates judge: a column of `comparison.csv`, a key of `aggregate.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// Requests answered before their deadline.
    Completed,
    /// Failed requests (every reason) per arrived request \[%\].
    ErrorRatePct,
    /// Mean latency of completed requests \[ms\].
    LatencyMeanMs,
    /// Median latency \[ms\].
    LatencyP50Ms,
    /// 90th percentile latency \[ms\].
    LatencyP90Ms,
    /// 99th percentile latency \[ms\].
    LatencyP99Ms,
    /// 99.9th percentile latency \[ms\].
    LatencyP999Ms,
    /// Time-average number of instances, all pools.
    MeanInstances,
    /// What the fleet cost over the run \[USD\].
    CostUsd,
    /// Median time to first token of token-based requests \[ms\].
    TtftP50Ms,
    /// 99th percentile time to first token \[ms\].
    TtftP99Ms,
}

impl Metric {
    /// Every metric, in `comparison.csv`'s column order.
    pub const ALL: [Metric; 11] = [
        Metric::Completed,
        Metric::ErrorRatePct,
        Metric::LatencyMeanMs,
        Metric::LatencyP50Ms,
        Metric::LatencyP90Ms,
        Metric::LatencyP99Ms,
        Metric::LatencyP999Ms,
        Metric::MeanInstances,
        Metric::CostUsd,
        Metric::TtftP50Ms,
        Metric::TtftP99Ms,
    ];

    /// Its column of the comparison: name, unit and value ([`Metric::column`] names it).
    pub fn comparison_column(self) -> &'static ComparisonColumn {
        ComparisonColumn::named(self.column())
            .expect("every metric is a column of the comparison (tested)")
    }

    /// Its column in `comparison.csv` and key in `aggregate.json`.
    pub fn column(self) -> &'static str {
        match self {
            Metric::Completed => "completed",
            Metric::ErrorRatePct => "error_rate_pct",
            Metric::LatencyMeanMs => "latency_mean_ms",
            Metric::LatencyP50Ms => "latency_p50_ms",
            Metric::LatencyP90Ms => "latency_p90_ms",
            Metric::LatencyP99Ms => "latency_p99_ms",
            Metric::LatencyP999Ms => "latency_p999_ms",
            Metric::MeanInstances => "mean_instances",
            Metric::CostUsd => "cost_usd",
            Metric::TtftP50Ms => "ttft_p50_ms",
            Metric::TtftP99Ms => "ttft_p99_ms",
        }
    }

    /// How tables name it.
    pub fn title(self) -> &'static str {
        match self {
            Metric::Completed => "completed",
            Metric::ErrorRatePct => "error rate",
            Metric::LatencyMeanMs => "mean latency",
            Metric::LatencyP50Ms => "p50 latency",
            Metric::LatencyP90Ms => "p90 latency",
            Metric::LatencyP99Ms => "p99 latency",
            Metric::LatencyP999Ms => "p99.9 latency",
            Metric::MeanInstances => "mean instances",
            Metric::CostUsd => "cost",
            Metric::TtftP50Ms => "TTFT p50",
            Metric::TtftP99Ms => "TTFT p99",
        }
    }

    /// Its unit, as shown after a value (`""` for counts): its column's.
    pub fn unit(self) -> &'static str {
        self.comparison_column().unit.symbol()
    }

    /// Decimals shown to people.
    pub fn decimals(self) -> usize {
        match self {
            Metric::Completed => 0,
            Metric::ErrorRatePct => 3,
            Metric::CostUsd | Metric::MeanInstances => 2,
            _ => 1,
        }
    }

    /// True if a larger value is worse (latency, errors, cost, instances); false for
    /// `completed`, where a drop is the regression.
    pub fn higher_is_worse(self) -> bool {
        self != Metric::Completed
    }

    /// Its value in a run's summary; `None` where undefined (no completed request for latency,
    /// no arrival for the error rate).
    pub fn of(self, s: &Summary) -> Option<f64> {
        // One definition of every metric: the comparison's column of the same name.
        (self.comparison_column().value)(s).as_f64()
    }

    /// `value` rounded for people, with its unit.
    pub fn show(self, value: f64) -> String {
        let unit = self.unit();
        let sep = if unit.is_empty() { "" } else { " " };
        format!("{value:.*}{sep}{unit}", self.decimals())
    }
}

/// A metric's value in one run: over `n` replications, or one value (`n` = 1, no interval).
/// The fields are an `aggregate.json` metric's, which this reads back.
pub use crate::metrics::MetricStats as Estimate;

impl Estimate {
    /// One value, from one run: no interval.
    pub fn single(value: Option<f64>) -> Estimate {
        Estimate {
            n: u64::from(value.is_some()),
            mean: value,
            ..Estimate::default()
        }
    }

    /// Every value multiplied by `factor > 0` (an interval scales with its values).
    pub fn scaled(self, factor: f64) -> Estimate {
        let s = |v: Option<f64>| v.map(|v| v * factor);
        Estimate {
            n: self.n,
            mean: s(self.mean),
            std: s(self.std),
            half_width: s(self.half_width),
            low: s(self.low),
            high: s(self.high),
        }
    }

    /// The mean, with `± half-width` when there is an interval, rounded for `metric`.
    pub fn show(&self, metric: Metric) -> String {
        match (self.mean, self.half_width) {
            (None, _) => "undefined".into(),
            (Some(m), None) => metric.show(m),
            (Some(m), Some(h)) => {
                let d = metric.decimals().max(1);
                let unit = metric.unit();
                let sep = if unit.is_empty() { "" } else { " " };
                format!("{m:.d$} ± {h:.d$}{sep}{unit}")
            }
        }
    }
}

/// One run's results.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResults {
    /// The run's name: `base`, a variant's, or a grid point's.
    pub name: String,
    /// Replications behind the numbers: 1 for a `summary.json`.
    pub replications: u64,
    /// Confidence level of the intervals (0.95), for replicated runs.
    pub confidence: Option<f64>,
    /// Simulated time of one replication \[s\], when known (from `summary.json`, or from
    /// `rep-1/summary.json` beside `aggregate.json`).
    pub simulated_seconds: Option<f64>,
    estimates: BTreeMap<Metric, Estimate>,
}

impl RunResults {
    /// The results of one run's summary.
    pub fn from_summary(name: &str, summary: &Summary) -> RunResults {
        RunResults {
            name: name.to_string(),
            replications: 1,
            confidence: None,
            simulated_seconds: Some(summary.simulated_seconds),
            estimates: Metric::ALL
                .iter()
                .map(|&m| (m, Estimate::single(m.of(summary))))
                .collect(),
        }
    }

    /// The results of a replicated run: `estimates` of every metric (a metric left out reads as
    /// undefined), at `confidence`.
    pub fn replicated(
        name: &str,
        replications: u64,
        confidence: f64,
        simulated_seconds: Option<f64>,
        estimates: impl IntoIterator<Item = (Metric, Estimate)>,
    ) -> RunResults {
        RunResults {
            name: name.to_string(),
            replications,
            confidence: Some(confidence),
            simulated_seconds,
            estimates: estimates.into_iter().collect(),
        }
    }

    /// The estimate of `metric`.
    pub fn estimate(&self, metric: Metric) -> Estimate {
        self.estimates.get(&metric).copied().unwrap_or_default()
    }

    /// True if the numbers are means over replications, with intervals.
    pub fn is_replicated(&self) -> bool {
        self.confidence.is_some()
    }
}

/// A result folder that cannot be read, and why.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// There is no folder there.
    #[error("{}: no such folder: give a result folder of `fleetsim run --out DIR`", .path.display())]
    NoFolder {
        /// The path given.
        path: PathBuf,
    },
    /// The folder holds neither layout of `fleetsim run`.
    #[error(
        "{}: holds no fleetsim results: neither summary.json (one run) nor comparison.csv \
         (several runs or replications)",
        .path.display()
    )]
    NoResults {
        /// The folder.
        path: PathBuf,
    },
    /// A file of the folder cannot be read.
    #[error("{}: cannot read: {error}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (named in the message, not a cause of its own: the message says it all).
        error: std::io::Error,
    },
    /// A file is not what `fleetsim run` writes (another tool's, an edited one, another
    /// version's).
    #[error("{}: {message}", .path.display())]
    NotFleetsims {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong, and what was expected.
        message: String,
    },
    /// The folder lacks a run it was asked for.
    #[error(
        "{}: holds no results of the run `{run}` (runs here: {})",
        .path.display(),
        .present.join(", ")
    )]
    NoRun {
        /// The folder.
        path: PathBuf,
        /// The run asked for.
        run: String,
        /// The runs it holds.
        present: Vec<String>,
    },
}

impl ResultsError {
    fn new(path: &Path, message: impl Into<String>) -> Self {
        ResultsError::NotFleetsims {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// The file or folder it is about.
    pub fn path(&self) -> &Path {
        match self {
            ResultsError::NoFolder { path }
            | ResultsError::NoResults { path }
            | ResultsError::Read { path, .. }
            | ResultsError::NotFleetsims { path, .. }
            | ResultsError::NoRun { path, .. } => path,
        }
    }
}

/// A result folder of `fleetsim run`, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultFolder {
    /// Where it is.
    pub dir: PathBuf,
    /// Its runs, in the order `comparison.csv` lists them (the base first).
    pub runs: Vec<RunResults>,
}

/// `aggregate.json`, as far as the gates read it (other keys are ignored, so a later version
/// that adds some is still read).
#[derive(Deserialize)]
struct RawAggregate {
    replications: u64,
    confidence: f64,
    metrics: BTreeMap<String, Estimate>,
}

impl ResultFolder {
    /// Reads the result folder `dir`.
    pub fn read(dir: &Path) -> Result<ResultFolder, ResultsError> {
        if !dir.is_dir() {
            return Err(ResultsError::NoFolder {
                path: dir.to_path_buf(),
            });
        }
        let summary = dir.join("summary.json");
        let comparison = dir.join("comparison.csv");
        let flat = match (summary.is_file(), comparison.is_file()) {
            (false, false) => {
                return Err(ResultsError::NoResults {
                    path: dir.to_path_buf(),
                })
            }
            (true, false) => true,
            (false, true) => false,
            (true, true) => modified(&summary) > modified(&comparison),
        };
        let runs = if flat {
            let s = read_summary(&summary)?;
            vec![RunResults::from_summary(crate::scenario::BASE_NAME, &s)]
        } else {
            let (names, replicated) = read_run_names(&comparison)?;
            names
                .iter()
                .map(|name| read_run(&dir.join(name), name, replicated))
                .collect::<Result<_, _>>()?
        };
        Ok(ResultFolder {
            dir: dir.to_path_buf(),
            runs,
        })
    }

    /// The run named `name`.
    pub fn run(&self, name: &str) -> Option<&RunResults> {
        self.runs.iter().find(|r| r.name == name)
    }
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_text(path: &Path) -> Result<String, ResultsError> {
    fs::read_to_string(path).map_err(|error| ResultsError::Read {
        path: path.to_path_buf(),
        error,
    })
}

fn read_summary(path: &Path) -> Result<Summary, ResultsError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| {
        ResultsError::new(
            path,
            format!("not a fleetsim summary.json ({e}); rerun `fleetsim run` to write it again"),
        )
    })
}

/// The run names of `comparison.csv` (its first column), and whether it holds confidence
/// intervals (`<column>_ci95` columns: the runs were replicated).
fn read_run_names(path: &Path) -> Result<(Vec<String>, bool), ResultsError> {
    let text = read_text(path)?;
    let bad =
        |why: String| ResultsError::new(path, format!("not a fleetsim comparison.csv: {why}"));
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let header = csv.headers().map_err(|e| bad(e.to_string()))?.clone();
    if header.get(0) != Some("variant") {
        return Err(bad("its first column is not `variant`".into()));
    }
    let replicated = header.iter().any(|c| c.ends_with("_ci95"));
    let mut names = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        // Text cells were neutralised against formulas when written.
        let name = crate::report::csv_cell::restore(record.get(0).unwrap_or_default());
        // Names become folder names: one that climbs out of the folder is not fleetsim's.
        if let Some(why) = crate::layout::unusable(name) {
            return Err(bad(format!("{name:?} is not a run name: {why}")));
        }
        names.push(name.to_string());
    }
    if names.is_empty() {
        return Err(bad("it lists no run".into()));
    }
    Ok((names, replicated))
}

/// One run's folder: `aggregate.json` when replicated, else `summary.json` (each falls back on
/// the other, for a `comparison.csv` written by another version).
fn read_run(dir: &Path, name: &str, replicated: bool) -> Result<RunResults, ResultsError> {
    let aggregate = dir.join("aggregate.json");
    let summary = dir.join("summary.json");
    let use_aggregate = if replicated {
        aggregate.is_file() || !summary.is_file()
    } else {
        !summary.is_file() && aggregate.is_file()
    };
    if !use_aggregate {
        if !summary.is_file() {
            return Err(ResultsError::new(
                dir,
                format!(
                    "comparison.csv lists the run `{name}`, but neither its summary.json nor \
                     its aggregate.json is here"
                ),
            ));
        }
        return Ok(RunResults::from_summary(name, &read_summary(&summary)?));
    }
    let raw: RawAggregate = serde_json::from_str(&read_text(&aggregate)?).map_err(|e| {
        ResultsError::new(&aggregate, format!("not a fleetsim aggregate.json ({e})"))
    })?;
    let mut estimates = BTreeMap::new();
    for metric in Metric::ALL {
        let Some(e) = raw.metrics.get(metric.column()) else {
            return Err(ResultsError::new(
                &aggregate,
                format!("its metrics lack `{}`", metric.column()),
            ));
        };
        estimates.insert(metric, *e);
    }
    // The duration is the scenario's, the same in every replication: the first one's says it.
    let first = dir.join("rep-1").join("summary.json");
    let simulated_seconds = first
        .is_file()
        .then(|| read_summary(&first).map(|s| s.simulated_seconds))
        .transpose()?;
    Ok(RunResults::replicated(
        name,
        raw.replications,
        raw.confidence,
        simulated_seconds,
        estimates,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixtures::summary;
    use crate::report::comparison_csv;

    /// Every metric is a column of the comparison, in its order, with the unit shown before
    /// the list was one.
    #[test]
    fn metrics_are_columns_in_column_order() {
        let at: Vec<usize> = Metric::ALL
            .iter()
            .map(|m| {
                crate::metrics::columns::COMPARISON
                    .iter()
                    .position(|c| c.name == m.column())
                    .unwrap_or_else(|| panic!("{} is no column", m.column()))
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
        let units: Vec<&str> = Metric::ALL.iter().map(|m| m.unit()).collect();
        assert_eq!(
            units,
            ["", "%", "ms", "ms", "ms", "ms", "ms", "", "USD", "ms", "ms"],
            "{:?}",
            Metric::ALL
        );
    }

    /// A contract test: every metric is the value `comparison.csv` writes in its column.
    #[test]
    fn metrics_are_the_comparison_columns() {
        for s in [summary(990, Some(0.25), 2.0), summary(0, None, 3.0)] {
            let text = String::from_utf8(comparison_csv(&[crate::report::ComparisonRow::single(
                "base", &s,
            )]))
            .unwrap();
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            let row: Vec<&str> = lines.next().unwrap().split(',').collect();
            for m in Metric::ALL {
                let i = header.iter().position(|c| *c == m.column()).unwrap();
                let csv: Option<f64> = (!row[i].is_empty()).then(|| row[i].parse().unwrap());
                assert_eq!(m.of(&s), csv, "{}", m.column());
            }
        }
    }

    #[test]
    fn a_folder_without_results_says_what_it_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let e = ResultFolder::read(dir.path()).unwrap_err();
        assert!(matches!(e, ResultsError::NoResults { .. }), "{e}");
        assert!(e.to_string().contains("neither summary.json"), "{e}");
        let e = ResultFolder::read(&dir.path().join("nowhere")).unwrap_err();
        assert!(matches!(e, ResultsError::NoFolder { .. }), "{e}");
        assert!(e.to_string().contains("no such folder"), "{e}");
        std::fs::write(dir.path().join("summary.json"), "{\"scenario\": 1}").unwrap();
        let e = ResultFolder::read(dir.path()).unwrap_err();
        assert!(matches!(e, ResultsError::NotFleetsims { .. }), "{e}");
        assert!(e.to_string().contains("not a fleetsim summary.json"), "{e}");
        assert_eq!(e.path(), dir.path().join("summary.json"));
    }

    #[test]
    fn estimates_scale_with_their_interval_and_show_it() {
        let e = Estimate {
            n: 3,
            mean: Some(10.0),
            std: Some(1.0),
            half_width: Some(2.5),
            low: Some(7.5),
            high: Some(12.5),
        };
        let s = e.scaled(2.0);
        assert_eq!(
            (s.mean, s.high, s.low),
            (Some(20.0), Some(25.0), Some(15.0))
        );
        assert_eq!(s.show(Metric::CostUsd), "20.00 ± 5.00 USD");
        assert_eq!(
            Estimate::single(None).show(Metric::LatencyP99Ms),
            "undefined"
        );
        assert_eq!(Estimate::single(Some(42.0)).show(Metric::Completed), "42");
    }
}
