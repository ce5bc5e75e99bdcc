//! `[traffic] trace = {...}` and `[traffic] counts = {...}`: arrivals from a request trace, or
//! a non-homogeneous Poisson process from a per-interval count trace. The files are read here,
//! once for a scenario and all its variants, into the shared arrays of
//! [`crate::model::traffic::TraceData`]; every error names the key, and the file's line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::csv_file::{cell, CsvError, CsvFile};
use super::diagnostics::quoted;
use super::reader::{Fields, Located, Node, Reader};
use super::units::MAX_RATE_PER_SECOND;
use crate::engine::{SimDuration, SimTime};
use crate::model::traffic::trace::{count_steps, MAX_RATE_SCALE};
use crate::model::traffic::trace_file::{
    far_after_first, parse_time, ColumnMap, TimeError, TimeUnit, TraceError,
};
use crate::model::traffic::{RateProfile, TraceData, TraceFormat, TraceOptions, TraceView};

/// The trace formats a scenario names.
pub const FORMATS: &[&str] = &["azure_llm", "mooncake", "csv", "jsonl"];

/// A replayed trace as read (its class names are matched to `[[class]]`es in validation).
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSpec {
    /// The records, shared by every run.
    pub data: Arc<TraceData>,
    /// Window, speed-up, rate scale, loop.
    pub options: TraceOptions,
    /// Scenario class index of each of the trace's class names (`data.class_names`); filled by
    /// validation, empty if the trace has no class column.
    pub class_of: Vec<u32>,
}

impl TraceSpec {
    /// The mean arrival rate of the replay [requests/s]: the selected records times the rate
    /// scale over the loop period (or the span, for a trace of one time).
    pub fn mean_rate(&self) -> f64 {
        let view = TraceView::new(self.data.clone(), &self.options);
        let period = view.period().max(1) as f64 / 1e9;
        view.len() as f64 * self.options.rate_scale / period
    }
}

/// `trace = { file, format, ... }`; `None` (reported) if broken.
pub fn read_trace(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<Located<TraceSpec>> {
    let at = super::raw::locate_node(&node);
    let mut f = r.table(
        node,
        "a trace table such as { file = \"data/azure_llm_2023_code.csv\", format = \"azure_llm\" }",
    )?;
    let file = f
        .required(
            r,
            "file",
            "give the trace file, relative to the scenario, such as file = \"data/azure_llm_2023_code.csv\"",
        )
        .and_then(|n| r.string(&n));
    let format = f
        .required(
            r,
            "format",
            &format!("choose one of: {}", FORMATS.join(", ")),
        )
        .and_then(|n| r.one_of(&n, FORMATS));
    let generic = matches!(format.as_ref().map(|f| f.value), Some("csv" | "jsonl"));
    let map = if generic {
        read_column_map(r, &mut f)
    } else {
        None
    };
    let options = read_options(r, &mut f);
    let start = f.get("start").map(|n| r.string(&n));
    f.finish(r);
    let start = match start {
        Some(s) => Some(s?),
        None => None,
    };
    let (file, format, mut options) = (file?, format?, options?);
    let format = match format.value {
        "azure_llm" => TraceFormat::AzureLlm,
        "mooncake" => TraceFormat::Mooncake,
        "csv" => TraceFormat::Csv(map?),
        _ => TraceFormat::Jsonl(map?),
    };
    let data = match load_shared(&base_dir.join(&file.value), &format) {
        Ok(d) => d,
        Err(e) => {
            r.error(
                &file,
                e.to_string(),
                Some("the path is relative to the scenario file's folder; `fleetsim trace-stats FILE` checks a trace".into()),
            );
            return None;
        }
    };
    if let Some(start) = &start {
        match parse_time(&start.value, format.time_unit()) {
            Ok(at) if data.origin - at > SimDuration::LONGEST_INPUT.as_nanos() as i128 => {
                r.error(
                    start,
                    format!(
                        "the trace's first record {}",
                        far_after_first((data.origin - at) as f64 / 1e9).replacen("the first record's time", "start", 1)
                    ),
                    Some("start at most a few days before the first record's time, or drop `start` to begin at it".into()),
                );
                return None;
            }
            Ok(at) if at <= data.origin => {
                let lead = (data.origin - at).min(u64::MAX as i128) as u64;
                options.value.lead = SimDuration::from_nanos(lead);
            }
            Ok(_) => {
                r.error(
                    start,
                    "start is after the trace's first record",
                    Some("start at or before the first record's time, or drop `start` to begin at it".into()),
                );
                return None;
            }
            Err(e) => {
                r.error(
                    start,
                    format!("{} {e}", quoted(&start.value)),
                    Some("write it as the trace's times are written, such as start = \"2023-11-16 18:00:00\" for azure_llm, or start = \"0\" for times in ms".into()),
                );
                return None;
            }
        }
    }
    let view = TraceView::new(data.clone(), &options.value);
    let window_at = Located {
        value: (),
        path: options.path.clone(),
        span: options.span,
    };
    let at_window = if options.path.is_empty() {
        &at
    } else {
        &window_at
    };
    if view.is_empty() {
        r.error(
            at_window,
            format!(
                "the window selects none of the trace's {} records",
                data.len()
            ),
            Some("widen the window; `fleetsim trace-stats FILE` shows the trace's span".into()),
        );
        return None;
    }
    if view.period() == 0 && (options.value.looped || options.value.rate_scale > 1.0) {
        r.error(
            &at,
            "loop and rate_scale above 1 need at least two distinct arrival times in the trace (or its window)",
            Some("widen the window, or drop loop and rate_scale".into()),
        );
        return None;
    }
    // The replay's mean rate: what a looped trace keeps up for the whole run. (A trace of one
    // time has no rate: its records arrive at once, and only once.)
    let o = &options.value;
    let period_secs = view.period() as f64 / 1e9;
    let rate = view.len() as f64 * o.rate_scale / period_secs;
    if view.period() > 0 && rate > MAX_RATE_PER_SECOND {
        r.error(
            &at,
            format!(
                "the replay's mean rate is {}: {} records × rate_scale {} over a loop period of {} s (the trace's times divided by speed_up {}), above {MAX_RATE_PER_SECOND:e} requests per second",
                super::rates::rate_text(rate),
                view.len(),
                o.rate_scale,
                period_secs,
                o.speed_up
            ),
            Some("lower rate_scale or speed_up".into()),
        );
        return None;
    }
    Some(Located {
        value: TraceSpec {
            data,
            options: options.value,
            class_of: Vec::new(),
        },
        path: at.path,
        span: at.span,
    })
}

/// The column keys of the generic `csv` and `jsonl` formats.
fn read_column_map(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<ColumnMap> {
    let time_column = f
        .required(
            r,
            "time_column",
            "name the column holding arrival times, such as time_column = \"timestamp\"",
        )
        .and_then(|n| r.string(&n));
    let time_unit = f
        .required(
            r,
            "time_unit",
            "say the unit of the times: one of s, ms, us, iso",
        )
        .and_then(|n| r.one_of(&n, TimeUnit::NAMES));
    let mut optional = |r: &mut Reader<'_>, key: &'static str| match f.get(key) {
        Some(n) => r.string(&n).map(|s| Some(s.value)).ok_or(()),
        None => Ok(None),
    };
    let input = optional(r, "input_tokens_column");
    let output = optional(r, "output_tokens_column");
    let user = optional(r, "user_column");
    let class = optional(r, "class_column");
    Some(ColumnMap {
        time_column: time_column?.value,
        time_unit: TimeUnit::from_name(time_unit?.value)?,
        input_tokens_column: input.ok()?,
        output_tokens_column: output.ok()?,
        user_column: user.ok()?,
        class_column: class.ok()?,
    })
}

/// `window`, `speed_up`, `rate_scale`, `loop`, located at the window (or the table).
fn read_options(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<Located<TraceOptions>> {
    let mut ok = true;
    let mut options = TraceOptions::default();
    let mut at = None;
    if let Some(n) = f.get("window") {
        at = Some(super::raw::locate_node(&n));
        match read_window(r, n) {
            Some(w) => options.window = Some(w),
            None => ok = false,
        }
    }
    if let Some(n) = f.get("speed_up") {
        match r.positive(&n, true) {
            Some(s) => options.speed_up = s.value,
            None => ok = false,
        }
    }
    if let Some(n) = f.get("rate_scale") {
        match r.positive(&n, true) {
            Some(s) if s.value <= MAX_RATE_SCALE => options.rate_scale = s.value,
            Some(s) => {
                r.error(
                    &s,
                    format!("rate_scale is at most {MAX_RATE_SCALE}, found {}", s.value),
                    Some(
                        "a larger scale superposes too many copies; speed the trace up instead"
                            .into(),
                    ),
                );
                ok = false;
            }
            None => ok = false,
        }
    }
    if let Some(n) = f.get("loop") {
        match r.boolean(&n) {
            Some(b) => options.looped = b.value,
            None => ok = false,
        }
    }
    let at = at.unwrap_or(Located {
        value: (),
        path: String::new(),
        span: (0, 0),
    });
    ok.then_some(Located {
        value: options,
        path: at.path,
        span: at.span,
    })
}

/// `window = { from = "10m", to = "40m" }` in trace time.
fn read_window(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<(SimDuration, SimDuration)> {
    let mut w = r.table(node, "a window such as { from = \"10m\", to = \"40m\" }")?;
    let from = w.get("from").map(|n| r.duration(&n));
    let to = w
        .required(r, "to", "end the window, such as to = \"40m\"")
        .and_then(|n| r.duration(&n));
    w.finish(r);
    let from = match from {
        Some(f) => f?.value,
        None => SimDuration::ZERO,
    };
    let to = to?;
    if to.value <= from {
        r.error(
            &to,
            "the window ends before it starts",
            Some("make `to` later than `from`".into()),
        );
        return None;
    }
    Some((from, to.value))
}

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
    let file = f
        .required(r, "file", "give the CSV file, relative to the scenario")
        .and_then(|n| r.string(&n));
    let time_column = f
        .required(
            r,
            "time_column",
            "name the column holding each interval's start",
        )
        .and_then(|n| r.string(&n));
    let time_unit = match f.get("time_unit") {
        Some(n) => r.one_of(&n, TimeUnit::NAMES).map(|u| u.value),
        None => Some("s"),
    };
    let count_column = f
        .required(
            r,
            "count_column",
            "name the column holding each interval's request count",
        )
        .and_then(|n| r.string(&n));
    let interval = f
        .required(
            r,
            "interval",
            "give the interval length, such as interval = \"1m\"",
        )
        .and_then(|n| r.duration(&n));
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
    let o = options.value;
    // Each interval's rate, after rate_scale and speed_up, within the cap (spikes on top are
    // checked with the whole profile).
    let per_request = o.rate_scale * o.speed_up / interval.value.as_secs_f64();
    if let Some((k, &(at, count))) = rows
        .iter()
        .enumerate()
        .find(|(_, (_, c))| c * per_request > MAX_RATE_PER_SECOND)
    {
        r.error(
            &file,
            format!(
                "row {} (the interval starting {} s after the first): {count} requests in {} s × rate_scale {} × speed_up {} is {}, above {MAX_RATE_PER_SECOND:e} requests per second",
                k + 2,
                at as f64 / 1e9,
                interval.value.as_secs_f64(),
                o.rate_scale,
                o.speed_up,
                super::rates::rate_text(count * per_request)
            ),
            Some("lower rate_scale or speed_up, or check the count column and the interval".into()),
        );
        return None;
    }
    let end = SimTime::ZERO + duration.unwrap_or(SimDuration::from_secs(1));
    // A looped trace is laid out as steps for the whole run: rows × laps of them, kept in
    // memory by every run of the scenario.
    let lap = ((rows.last().map_or(0, |r| r.0) as f64 + interval.value.as_nanos() as f64)
        / o.speed_up)
        .max(1.0);
    let laps = if o.looped {
        (end.as_nanos() as f64 / lap).ceil().max(1.0)
    } else {
        1.0
    };
    let steps = rows.len() as f64 * laps;
    let max_steps = crate::limits::MemoryBudget::current()
        .max_records(std::mem::size_of::<(SimTime, f64)>() as u64);
    if steps > max_steps as f64 {
        r.error(
            &file,
            format!(
                "looped over the run, the count trace makes {} steps ({} row{} × {} laps), more than the {} a rate profile may hold within the memory budget of {}",
                crate::limits::format_count(steps.min(u64::MAX as f64) as u64),
                rows.len(),
                if rows.len() == 1 { "" } else { "s" },
                laps,
                crate::limits::format_count(max_steps),
                crate::limits::MemoryBudget::current().describe()
            ),
            Some("a shorter duration, fewer rows, or a longer interval".into()),
        );
        return None;
    }
    let (times, counts): (Vec<u64>, Vec<f64>) = rows.into_iter().unzip();
    Some(RateProfile::Steps {
        steps: count_steps(
            &times,
            &counts,
            interval.value,
            o.rate_scale,
            o.speed_up,
            o.looped,
            end,
        ),
    })
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

thread_local! {
    /// Traces already in memory on this thread, by file, format, size and modification time:
    /// the base and every variant of a scenario set (validated one after another) share one
    /// copy. Weak: a trace no scenario holds any more is freed.
    static LOADED: std::cell::RefCell<Vec<(LoadKey, std::sync::Weak<TraceData>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// What identifies a loaded trace: its path, format, and the file's size and modification time
/// (a file rewritten in between is read again).
type LoadKey = (
    std::path::PathBuf,
    TraceFormat,
    u64,
    Option<std::time::SystemTime>,
);

/// The trace at `path`, read once per thread while a scenario holds it.
fn load_shared(path: &Path, format: &TraceFormat) -> Result<Arc<TraceData>, TraceError> {
    let meta = std::fs::metadata(path).ok();
    let key: LoadKey = (
        path.to_path_buf(),
        format.clone(),
        meta.as_ref().map_or(0, |m| m.len()),
        meta.and_then(|m| m.modified().ok()),
    );
    if let Some(found) = LOADED.with(|l| {
        l.borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, w)| w.upgrade())
    }) {
        return Ok(found);
    }
    let data = Arc::new(TraceData::load(path, format)?);
    LOADED.with(|l| {
        let mut l = l.borrow_mut();
        l.retain(|(_, w)| w.strong_count() > 0);
        l.push((key, Arc::downgrade(&data)));
    });
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_is_read_once_while_held() {
        let dir = std::env::temp_dir().join(format!("fleetsim-trace-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        std::fs::write(
            &path,
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,1,2",
        )
        .unwrap();
        let a = load_shared(&path, &TraceFormat::AzureLlm).unwrap();
        let b = load_shared(&path, &TraceFormat::AzureLlm).unwrap();
        // The same arrays, not a second copy.
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        // Rewritten (another size): read again.
        std::fs::write(
            &path,
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,10,20",
        )
        .unwrap();
        let c = load_shared(&path, &TraceFormat::AzureLlm).unwrap();
        assert_eq!(c.tokens(0), (10, 20));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
