//! `spot_availability = { file }` on an `[[instance_type]]`: how many spot instances of the
//! type the market offers over time, from a CSV with columns `time_s` and `available`, or a
//! SkyPilot spot-traces JSON file.

use std::path::{Path, PathBuf};

use crate::model::market::interruptions::SpotAvailability;
use crate::model::traffic::trace_file::far_after_first;
use crate::scenario::csv_file::{cell, CsvError, CsvFile};
use crate::scenario::diagnostics::quoted;
use crate::scenario::reader::keys::{Key, Text};
use crate::scenario::reader::{Node, Reader};
use crate::time::{SimDuration, SimTime};

const FILE: Key<Text> = Key::required(
    "file",
    Text,
    "give the trace, relative to the scenario: a CSV with columns time_s and available, or a SkyPilot JSON trace",
);

/// Why a spot availability trace cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AvailabilityError {
    /// The CSV file cannot be read or lacks a column.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// A `time_s` cell that is not a time.
    #[error("{} row {row}: time_s \"{cell}\" is not a non-negative number of seconds", .path.display())]
    BadTime {
        path: PathBuf,
        row: usize,
        cell: String,
    },
    /// An `available` cell that is not a count.
    #[error("{} row {row}: available \"{cell}\" is not a whole number of instances", .path.display())]
    BadCount {
        path: PathBuf,
        row: usize,
        cell: String,
    },
    /// A time far in the future.
    #[error("{} row {row}: time_s {} {}", .path.display(), quoted(.cell), far_after_first(*.secs).replace("the first record's time", "the start"))]
    FarFuture {
        path: PathBuf,
        row: usize,
        cell: String,
        secs: f64,
    },
    /// A time not after the row before's.
    #[error("{} row {row}: time_s {secs} is not after the row before", .path.display())]
    NotIncreasing {
        path: PathBuf,
        row: usize,
        secs: f64,
    },
    /// The JSON trace cannot be read.
    #[error("cannot read the trace {}: {reason}", .path.display())]
    Unreadable { path: PathBuf, reason: String },
    /// The JSON trace is not JSON.
    #[error("{} is not JSON: {source}", .path.display())]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// The JSON trace lacks its time step.
    #[error("{} has no positive metadata.gap_seconds", .path.display())]
    NoGap { path: PathBuf },
    /// The JSON trace lacks its counts.
    #[error("{} has no data array", .path.display())]
    NoDataArray { path: PathBuf },
    /// A JSON count that is not a whole number.
    #[error("{} data[{index}]: {value} is not a whole number", .path.display())]
    NotWhole {
        path: PathBuf,
        index: usize,
        value: serde_json::Value,
    },
    /// A JSON count far in the future.
    #[error("{} data[{index}] {}", .path.display(), far_after_first(*.secs).replace("the first record's time", "the start (its index times metadata.gap_seconds)"))]
    FarFutureIndex {
        path: PathBuf,
        index: usize,
        secs: f64,
    },
    /// A trace without rows.
    #[error("{} has no data", .path.display())]
    NoData { path: PathBuf },
}

/// `spot_availability = { file = "data/avail.csv" }` on an `[[instance_type]]`: a CSV with
/// columns `time_s` (seconds from the start, increasing) and `available` (whole instances), or
/// a JSON trace in the SkyPilot spot-traces format, `{"metadata": {"gap_seconds": N}, "data":
/// [...]}`, `data[i]` instances available from `i × N` seconds.
pub fn read_spot_availability(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<SpotAvailability> {
    let mut f = r.table(
        node,
        "a table such as spot_availability = { file = \"data/spot_availability.csv\" }",
    )?;
    let file = f.read(r, &FILE);
    f.finish(r);
    let file = file?;
    let path = base_dir.join(&file.value);
    let rows = if file.value.ends_with(".json") {
        load_skypilot(&path)
    } else {
        load_availability_csv(&path)
    };
    match rows.and_then(|rows| {
        SpotAvailability::from_rows(&rows)
            .ok_or_else(|| AvailabilityError::NoData { path: path.clone() })
    }) {
        Ok(a) => Some(a),
        Err(e) => {
            r.error(
                &file,
                e.to_string(),
                Some("see \"Spot\" in docs/scenario-format.md for the trace formats".into()),
            );
            None
        }
    }
}

fn load_availability_csv(path: &Path) -> Result<Vec<(SimTime, u32)>, AvailabilityError> {
    let mut file = CsvFile::open(path)?;
    let (time, available) = (file.column("time_s")?, file.column("available")?);
    let mut rows: Vec<(SimTime, u32)> = Vec::new();
    for row in file.rows() {
        let (row, record) = row?;
        let cell = |k: usize| cell(&record, k).to_string();
        let t: f64 = cell(time)
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| AvailabilityError::BadTime {
                path: path.to_path_buf(),
                row,
                cell: cell(time),
            })?;
        let n: u32 = cell(available)
            .parse()
            .map_err(|_| AvailabilityError::BadCount {
                path: path.to_path_buf(),
                row,
                cell: cell(available),
            })?;
        if t > SimDuration::LONGEST_INPUT.as_secs_f64() {
            return Err(AvailabilityError::FarFuture {
                path: path.to_path_buf(),
                row,
                cell: cell(time),
                secs: t,
            });
        }
        let at = SimTime::ZERO + SimDuration::from_secs_f64(t);
        if rows.last().is_some_and(|&(prev, _)| at <= prev) {
            return Err(AvailabilityError::NotIncreasing {
                path: path.to_path_buf(),
                row,
                secs: t,
            });
        }
        rows.push((at, n));
    }
    Ok(rows)
}

/// The SkyPilot spot-traces JSON: `metadata.gap_seconds` and `data`.
fn load_skypilot(path: &Path) -> Result<Vec<(SimTime, u32)>, AvailabilityError> {
    let path_buf = || path.to_path_buf();
    let text = crate::limits::read_capped_to_string(path).map_err(|reason| {
        AvailabilityError::Unreadable {
            path: path_buf(),
            reason,
        }
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| AvailabilityError::NotJson {
            path: path_buf(),
            source,
        })?;
    let gap = v["metadata"]["gap_seconds"]
        .as_f64()
        .filter(|g| *g > 0.0)
        .ok_or_else(|| AvailabilityError::NoGap { path: path_buf() })?;
    let data = v["data"]
        .as_array()
        .ok_or_else(|| AvailabilityError::NoDataArray { path: path_buf() })?;
    data.iter()
        .enumerate()
        .map(|(index, x)| {
            let n = x.as_u64().ok_or_else(|| AvailabilityError::NotWhole {
                path: path_buf(),
                index,
                value: x.clone(),
            })?;
            let secs = index as f64 * gap;
            if secs > SimDuration::LONGEST_INPUT.as_secs_f64() {
                return Err(AvailabilityError::FarFutureIndex {
                    path: path_buf(),
                    index,
                    secs,
                });
            }
            let at = SimTime::ZERO + SimDuration::from_secs_f64(secs);
            Ok((at, n.min(u64::from(u32::MAX)) as u32))
        })
        .collect()
}
