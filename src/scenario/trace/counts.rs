//! `[traffic] counts = { file, time_column, time_unit, count_column, interval, ... }`: a
//! non-homogeneous Poisson process from a per-interval count trace, laid out as rate steps.

use std::path::{Path, PathBuf};

use super::options::read_options;
use crate::model::traffic::trace::{count_steps, TraceOptions};
use crate::model::traffic::trace_file::{far_after_first, parse_time, TimeError, TimeUnit};
use crate::model::traffic::RateProfile;
use crate::scenario::csv_file::{cell, CsvError, CsvFile};
use crate::scenario::diagnostics::quoted;
use crate::scenario::reader::keys::{Duration, Key, OneOf, Text};
use crate::scenario::reader::{Located, Node, Reader};
use crate::scenario::units::{rate_text, MAX_RATE_PER_SECOND};
use crate::time::{SimDuration, SimTime};

const FILE: Key<Text> = Key::required("file", Text, "give the CSV file, relative to the scenario");
const TIME_COLUMN: Key<Text> = Key::required(
    "time_column",
    Text,
    "name the column holding each interval's start",
);
const TIME_UNIT: Key<OneOf> = Key::optional("time_unit", OneOf(TimeUnit::NAMES));
const COUNT_COLUMN: Key<Text> = Key::required(
    "count_column",
    Text,
    "name the column holding each interval's request count",
);
const INTERVAL: Key<Duration> = Key::required(
    "interval",
    Duration,
    "give the interval length, such as interval = \"1m\"",
);

/// `counts = { file, time_column, time_unit, count_column, interval, rate_scale, speed_up,
/// loop }`: a piecewise-constant rate; `duration` (the run's) bounds a looped trace.
pub fn read_counts(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
    duration: Option<SimDuration>,
) -> Option<RateProfile> {
    let mut f = r.table(
        node,
        "a count trace table such as { file = \"data/per_minute.csv\", time_column = \"minute\", count_column = \"requests\", interval = \"1m\" }",
    )?;
    let file = f.read(r, &FILE);
    let time_column = f.read(r, &TIME_COLUMN);
    let time_unit = match f.read_given(r, &TIME_UNIT) {
        Some(u) => u.map(|u| u.value),
        None => Some("s"),
    };
    let count_column = f.read(r, &COUNT_COLUMN);
    let interval = f.read(r, &INTERVAL);
    let options = read_options(r, &mut f);
    if let Some(o) = options.as_ref().filter(|o| o.value.window.is_some()) {
        r.error(
            o,
            "a count trace takes no window",
            Some("cut the file to the rows you want".into()),
        );
    }
    f.finish(r);
    let (file, time_column, time_unit, count_column, interval, options) = (
        file?,
        time_column?,
        time_unit?,
        count_column?,
        interval?,
        options?,
    );
    if interval.value.is_zero() {
        r.error(
            &interval,
            "the interval is 0",
            Some("such as interval = \"1m\"".into()),
        );
        return None;
    }
    let unit = TimeUnit::from_name(time_unit)?;
    let path = base_dir.join(&file.value);
    let rows = match load_counts(&path, &time_column.value, unit, &count_column.value) {
        Ok(rows) => rows,
        Err(e) => {
            r.error(
                &file,
                e.to_string(),
                Some("the path is relative to the scenario file's folder; the file needs a header row".into()),
            );
            return None;
        }
    };
    let counts = Counts {
        file: &file,
        rows,
        interval: interval.value,
        options: &options.value,
    };
    counts.check_rates(r)?;
    counts.into_steps(r, duration)
}

/// A count trace's rows, as (nanoseconds after the first row, count), with what lays them out.
struct Counts<'a> {
    /// The `file` key, where problems of the data are reported.
    file: &'a Located<String>,
    rows: Vec<(u64, f64)>,
    interval: SimDuration,
    options: &'a TraceOptions,
}

impl Counts<'_> {
    /// Each interval's rate, after rate_scale and speed_up, within the cap (spikes on top are
    /// checked with the whole profile); `None` if one is above (reported).
    fn check_rates(&self, r: &mut Reader<'_>) -> Option<()> {
        let o = self.options;
        let per_request = o.rate_scale * o.speed_up / self.interval.as_secs_f64();
        let Some((k, &(at, count))) = self
            .rows
            .iter()
            .enumerate()
            .find(|(_, (_, c))| c * per_request > MAX_RATE_PER_SECOND)
        else {
            return Some(());
        };
        r.error(
            self.file,
            format!(
                "row {} (the interval starting {} s after the first): {count} requests in {} s × rate_scale {} × speed_up {} is {}, above {MAX_RATE_PER_SECOND:e} requests per second",
                k + 2,
                at as f64 / 1e9,
                self.interval.as_secs_f64(),
                o.rate_scale,
                o.speed_up,
                rate_text(count * per_request)
            ),
            Some("lower rate_scale or speed_up, or check the count column and the interval".into()),
        );
        None
    }

    /// The rate steps for a run of `duration`; `None` if a looped trace would make more steps
    /// than the memory budget allows (reported).
    fn into_steps(self, r: &mut Reader<'_>, duration: Option<SimDuration>) -> Option<RateProfile> {
        let o = self.options;
        let end = SimTime::ZERO + duration.unwrap_or(SimDuration::from_secs(1));
        // A looped trace is laid out as steps for the whole run: rows × laps of them, kept in
        // memory by every run of the scenario.
        let lap = ((self.rows.last().map_or(0, |r| r.0) as f64 + self.interval.as_nanos() as f64)
            / o.speed_up)
            .max(1.0);
        let laps = if o.looped {
            (end.as_nanos() as f64 / lap).ceil().max(1.0)
        } else {
            1.0
        };
        let rows = self.rows.len();
        let steps = rows as f64 * laps;
        let max_steps = crate::limits::MemoryBudget::current()
            .max_records(std::mem::size_of::<(SimTime, f64)>() as u64);
        if steps > max_steps as f64 {
            r.error(
                self.file,
                format!(
                    "looped over the run, the count trace makes {} steps ({} row{} × {} laps), more than the {} a rate profile may hold within the memory budget of {}",
                    crate::limits::format_count(steps.min(u64::MAX as f64) as u64),
                    rows,
                    if rows == 1 { "" } else { "s" },
                    laps,
                    crate::limits::format_count(max_steps),
                    crate::limits::MemoryBudget::current().describe()
                ),
                Some("a shorter duration, fewer rows, or a longer interval".into()),
            );
            return None;
        }
        let (times, counts): (Vec<u64>, Vec<f64>) = self.rows.into_iter().unzip();
        Some(RateProfile::Steps {
            steps: count_steps(
                &times,
                &counts,
                self.interval,
                o.rate_scale,
                o.speed_up,
                o.looped,
                end,
            ),
        })
    }
}

/// Why a count trace cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CountsError {
    /// The file cannot be read, lacks a column or has no rows.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// A time cell that cannot be read.
    #[error("{} row {row}, column \"{column}\": {} {error}", .path.display(), quoted(.cell))]
    BadTime {
        path: PathBuf,
        row: usize,
        column: String,
        cell: String,
        error: TimeError,
    },
    /// A time far after the first row's.
    #[error("{} row {row}, column \"{column}\": {} {}", .path.display(), quoted(.cell), far_after_first(*.secs))]
    FarAfterFirst {
        path: PathBuf,
        row: usize,
        column: String,
        cell: String,
        secs: f64,
    },
    /// A time not after the previous row's.
    #[error("{} row {row}: \"{cell}\" is not after the previous row's time (intervals must be in increasing time order)", .path.display())]
    NotIncreasing {
        path: PathBuf,
        row: usize,
        cell: String,
    },
    /// A count cell that is not a count.
    #[error("{} row {row}: \"{cell}\" in column \"{column}\" is not a count (a number 0 or more)", .path.display())]
    NotACount {
        path: PathBuf,
        row: usize,
        cell: String,
        column: String,
    },
}

/// `(start [ns from the first row], count)` of each row, strictly increasing in time.
fn load_counts(
    path: &Path,
    time_column: &str,
    unit: TimeUnit,
    count_column: &str,
) -> Result<Vec<(u64, f64)>, CountsError> {
    let mut file = CsvFile::open(path)?;
    let (t, c) = (file.column(time_column)?, file.column(count_column)?);
    let mut rows: Vec<(u64, f64)> = Vec::new();
    let mut first = None;
    for row in file.rows() {
        let (row, record) = row?;
        let (time, count) = (cell(&record, t), cell(&record, c));
        let abs = parse_time(time, unit).map_err(|error| CountsError::BadTime {
            path: path.to_path_buf(),
            row,
            column: time_column.to_string(),
            cell: time.to_string(),
            error,
        })?;
        let rel = abs - *first.get_or_insert(abs);
        if rel > SimDuration::LONGEST_INPUT.as_nanos() as i128 {
            return Err(CountsError::FarAfterFirst {
                path: path.to_path_buf(),
                row,
                column: time_column.to_string(),
                cell: time.to_string(),
                secs: rel as f64 / 1e9,
            });
        }
        if rel < 0 || rows.last().is_some_and(|&(last, _)| rel as u64 <= last) {
            return Err(CountsError::NotIncreasing {
                path: path.to_path_buf(),
                row,
                cell: time.to_string(),
            });
        }
        let n: f64 = count
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| CountsError::NotACount {
                path: path.to_path_buf(),
                row,
                cell: count.to_string(),
                column: count_column.to_string(),
            })?;
        rows.push((rel as u64, n));
    }
    if rows.is_empty() {
        return Err(CsvError::NoRows {
            path: path.to_path_buf(),
        }
        .into());
    }
    Ok(rows)
}
