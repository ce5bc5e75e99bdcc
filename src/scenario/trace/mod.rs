//! `[traffic] trace = {...}` and `[traffic] counts = {...}`: arrivals from a request trace, or
//! a non-homogeneous Poisson process from a per-interval count trace ([`counts`]). The files are
//! read here, once for a scenario and all its variants ([`cache`]), into the shared arrays of
//! [`crate::model::traffic::TraceData`]; every error names the key, and the file's line.

pub mod cache;
pub mod counts;
pub mod options;

use std::path::Path;
use std::sync::Arc;

use crate::model::traffic::trace_file::{far_after_first, parse_time, ColumnMap, TimeUnit};
use crate::model::traffic::{TraceData, TraceFormat, TraceOptions, TraceView};
use crate::scenario::diagnostics::quoted;
use crate::scenario::reader::keys::{Key, OneOf, Text};
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::scenario::units::{rate_text, MAX_RATE_PER_SECOND};
use crate::time::SimDuration;
use cache::load_shared;
use options::read_options;

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

const FILE: Key<Text> = Key::required(
    "file",
    Text,
    "give the trace file, relative to the scenario, such as file = \"data/azure_llm_2023_code.csv\"",
);
const FORMAT: Key<OneOf> = Key::choice("format", FORMATS);
const START: Key<Text> = Key::optional("start", Text);
const TIME_COLUMN: Key<Text> = Key::required(
    "time_column",
    Text,
    "name the column holding arrival times, such as time_column = \"timestamp\"",
);
const TIME_UNIT: Key<OneOf> = Key::required(
    "time_unit",
    OneOf(TimeUnit::NAMES),
    "say the unit of the times: one of s, ms, us, iso",
);
/// The optional columns of a generic format.
const COLUMNS: [Key<Text>; 4] = [
    Key::optional("input_tokens_column", Text),
    Key::optional("output_tokens_column", Text),
    Key::optional("user_column", Text),
    Key::optional("class_column", Text),
];

/// `trace = { file, format, ... }`; `None` (reported) if broken.
pub fn read_trace(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<Located<TraceSpec>> {
    let at = node.at();
    let mut f = r.table(
        node,
        "a trace table such as { file = \"data/azure_llm_2023_code.csv\", format = \"azure_llm\" }",
    )?;
    let file = f.read(r, &FILE);
    let format = f.read(r, &FORMAT);
    let generic = matches!(format.as_ref().map(|f| f.value), Some("csv" | "jsonl"));
    let map = if generic {
        read_column_map(r, &mut f)
    } else {
        None
    };
    let options = read_options(r, &mut f);
    let start = f.read_given(r, &START);
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
        options.value.lead = lead_of(r, start, &data, &format)?;
    }
    check_replay(r, &data, &options, &at)?;
    Some(at.to(TraceSpec {
        data,
        options: options.value,
        class_of: Vec::new(),
    }))
}

/// How long before the trace's first record the replay starts: `start`, written as the
/// trace's times are; `None` if it is not before the first record (reported).
fn lead_of(
    r: &mut Reader<'_>,
    start: &Located<String>,
    data: &TraceData,
    format: &TraceFormat,
) -> Option<SimDuration> {
    match parse_time(&start.value, format.time_unit()) {
        Ok(at) if data.origin - at > SimDuration::LONGEST_INPUT.as_nanos() as i128 => {
            r.error(
                start,
                format!(
                    "the trace's first record {}",
                    far_after_first((data.origin - at) as f64 / 1e9).replacen(
                        "the first record's time",
                        "start",
                        1
                    )
                ),
                Some("start at most a few days before the first record's time, or drop `start` to begin at it".into()),
            );
            None
        }
        Ok(at) if at <= data.origin => {
            let lead = (data.origin - at).min(u64::MAX as i128) as u64;
            Some(SimDuration::from_nanos(lead))
        }
        Ok(_) => {
            r.error(
                start,
                "start is after the trace's first record",
                Some(
                    "start at or before the first record's time, or drop `start` to begin at it"
                        .into(),
                ),
            );
            None
        }
        Err(e) => {
            r.error(
                start,
                format!("{} {e}", quoted(&start.value)),
                Some("write it as the trace's times are written, such as start = \"2023-11-16 18:00:00\" for azure_llm, or start = \"0\" for times in ms".into()),
            );
            None
        }
    }
}

/// `Some` if the replay of `data` with `options` selects records, has a period for a loop or
/// a rate scale, and a mean rate within the cap; else reported at the window (or the trace).
fn check_replay(
    r: &mut Reader<'_>,
    data: &Arc<TraceData>,
    options: &Located<TraceOptions>,
    at: &Located<()>,
) -> Option<()> {
    let view = TraceView::new(data.clone(), &options.value);
    let window_at = options.at();
    let at_window = if options.path.is_empty() {
        at
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
    let o = &options.value;
    if view.period() == 0 && (o.looped || o.rate_scale > 1.0) {
        r.error(
            at,
            "loop and rate_scale above 1 need at least two distinct arrival times in the trace (or its window)",
            Some("widen the window, or drop loop and rate_scale".into()),
        );
        return None;
    }
    // The replay's mean rate: what a looped trace keeps up for the whole run. (A trace of one
    // time has no rate: its records arrive at once, and only once.)
    let period_secs = view.period() as f64 / 1e9;
    let rate = view.len() as f64 * o.rate_scale / period_secs;
    if view.period() > 0 && rate > MAX_RATE_PER_SECOND {
        r.error(
            at,
            format!(
                "the replay's mean rate is {}: {} records × rate_scale {} over a loop period of {} s (the trace's times divided by speed_up {}), above {MAX_RATE_PER_SECOND:e} requests per second",
                rate_text(rate),
                view.len(),
                o.rate_scale,
                period_secs,
                o.speed_up
            ),
            Some("lower rate_scale or speed_up".into()),
        );
        return None;
    }
    Some(())
}

/// The column keys of the generic `csv` and `jsonl` formats.
fn read_column_map(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<ColumnMap> {
    let time_column = f.read(r, &TIME_COLUMN);
    let time_unit = f.read(r, &TIME_UNIT);
    let [input, output, user, class] = COLUMNS.map(|key| match f.read_given(r, &key) {
        Some(column) => column.map(|c| Some(c.value)).ok_or(()),
        None => Ok(None),
    });
    Some(ColumnMap {
        time_column: time_column?.value,
        time_unit: TimeUnit::from_name(time_unit?.value)?,
        input_tokens_column: input.ok()?,
        output_tokens_column: output.ok()?,
        user_column: user.ok()?,
        class_column: class.ok()?,
    })
}

/// The replayed `trace` with its class names matched to the classes (`class_names`, if they
/// are valid) by name; `None` if one matches no class (reported). A trace without a class
/// column keeps drawing classes by share.
pub fn validate_classes(
    r: &mut Reader<'_>,
    trace: Option<&Located<TraceSpec>>,
    class_names: Option<&[&str]>,
) -> Option<Option<TraceSpec>> {
    let Some(trace) = trace else {
        return Some(None);
    };
    let mut spec = trace.value.clone();
    let Some(classes) = class_names else {
        return Some(Some(spec));
    };
    let mut ok = true;
    for name in &spec.data.class_names {
        match classes.iter().position(|c| c == name) {
            Some(k) => spec.class_of.push(k as u32),
            None => {
                r.error(
                    trace,
                    format!("the trace's class column names \"{name}\", which is no [[class]]"),
                    Some(format!("the classes are: {}", classes.join(", "))),
                );
                ok = false;
            }
        }
    }
    ok.then_some(Some(spec))
}
