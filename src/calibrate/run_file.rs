//! Reading a measured run: the file's format found from its content, the JSON-lines format of
//! `scenarios/data/vllm_runs/*/requests.jsonl` read here (vLLM's `benchmark_serving` result in
//! [`super::bench_json`]), the `meta.json` beside it, and the one error type of both readers.
//!
//! The JSON-lines format: one object per request, in the order the engine queued them, with
//! - `input_toks`, `output_toks`: prompt and generated tokens (non-negative integers; output at
//!   least 1);
//! - `queued_ts`, `first_token_ts`, `last_token_ts`: the engine's monotonic clock \[s\].
//!
//! Other keys (`request_id`, `arrival_time` on the client's clock, `scheduled_ts`) are allowed
//! and not used. Times are aligned on the first request's `queued_ts`: the replay's arrival of
//! a request is its `queued_ts` minus the first one's, and TTFT = first − queued, E2E = last −
//! queued (`scenarios/data/vllm_runs/README.md`). Blank lines are skipped.
//!
//! Every bad input is a [`RunFileError`] naming the file, the line and the field: an empty
//! file, a line that is not a JSON object, a missing or non-numeric field, a count that is not
//! a non-negative integer, NaN or infinity (Python's `json` writes them), zero output tokens, a
//! first token before the request was queued or a last token before the first, requests not in
//! queued order, and a file larger than the memory budget lets a file read whole take
//! ([`crate::limits::read_capped_to_string`]).

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{RequestTimes, RunRequest};
use crate::time::{SimDuration, SimTime};

/// A measured run, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredRun {
    /// The file it was read from.
    pub file: PathBuf,
    /// Its format.
    pub format: RunFormat,
    /// What the replay is given, one per request, by arrival.
    pub requests: Vec<RunRequest>,
    /// What was measured, in the same order.
    pub measured: Vec<RequestTimes>,
    /// The engine's settings the file (or its `meta.json`) gives.
    pub settings: RunSettings,
    /// Requests the file marks as failed, left out of both.
    pub failed: usize,
}

/// The formats a measured run can have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunFormat {
    /// One JSON object per request (`scenarios/data/vllm_runs/`).
    JsonLines,
    /// vLLM's `benchmark_serving.py --save-result` (or `vllm bench serve`) result JSON, whose
    /// arrivals were derived from the request rate ([`super::bench_json::Arrivals`]).
    BenchmarkServing(super::bench_json::Arrivals),
}

/// The engine's settings a run's files give; `None` where they say nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSettings {
    /// `tensor_parallel_size`.
    pub tp: Option<u32>,
    /// `max_num_seqs`.
    pub max_num_seqs: Option<u32>,
    /// `max_num_batched_tokens`.
    pub max_num_batched_tokens: Option<u32>,
}

/// A measured run (or its `meta.json`) that cannot be used: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {problem}\nhelp: {}", self.location(), self.problem.help())]
pub struct RunFileError {
    /// The file.
    pub file: PathBuf,
    /// The line (1-based), in a JSON-lines file.
    pub line: Option<usize>,
    /// The field, such as `output_toks` or `ttfts[3]`.
    pub field: Option<String>,
    /// What is wrong.
    pub problem: Problem,
}

impl RunFileError {
    /// `file:line: field `f``, as much as is known.
    fn location(&self) -> String {
        let mut at = self.file.display().to_string();
        if let Some(line) = self.line {
            at.push_str(&format!(":{line}"));
        }
        if let Some(field) = &self.field {
            at.push_str(&format!(": field `{field}`"));
        }
        at
    }
}

/// What is wrong with a measured run.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The file cannot be read (missing, a directory, larger than the budget allows).
    Unreadable(String),
    /// No requests in it.
    Empty,
    /// Not JSON.
    NotJson(String),
    /// JSON, but not an object.
    NotAnObject,
    /// A field is missing.
    Missing,
    /// A field is not a number (it is the JSON type named).
    NotANumber(&'static str),
    /// A field is not a list (it is the JSON type named).
    NotAList(&'static str),
    /// NaN or infinity.
    NotFinite,
    /// A count that is not a non-negative integer of at most 2^32 - 1.
    NotACount(String),
    /// A time span that is negative.
    Negative(f64),
    /// A rate that is not above zero.
    NotPositive(f64),
    /// A request that generated no token.
    OutputZero,
    /// The first token before the request was queued.
    FirstBeforeQueued,
    /// The last token before the first.
    LastBeforeFirst,
    /// A request queued before the one on an earlier line.
    Unsorted {
        /// The earlier line.
        previous_line: usize,
    },
    /// A time more than [`SimDuration::LONGEST_INPUT`] after the first request.
    TooLate,
    /// Per-request arrays of different lengths.
    LengthMismatch {
        /// The array the others are compared with (`input_lens`).
        reference: &'static str,
        /// Its length.
        expected: usize,
        /// This one's length.
        found: usize,
    },
    /// Several results appended to one file (`--append-result`).
    Appended,
    /// A `benchmark_serving` result without its per-request arrays.
    NotDetailed,
    /// A `benchmark_serving` result without a request rate, and none given.
    NoRate,
    /// The client capped its concurrency (`--max-concurrency`), which the replay cannot model.
    ClientConcurrency(u64),
    /// A value that is not one of the known ones.
    Unknown {
        /// What was found.
        found: String,
        /// What is known.
        expected: &'static str,
    },
    /// Every request failed.
    AllFailed,
    /// No request generated more than one token, so the run has no TPOT.
    NoTpot,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreadable(why) => write!(f, "cannot be read: {why}"),
            Problem::Empty => write!(f, "holds no requests"),
            Problem::NotJson(why) => write!(f, "is not JSON: {why}"),
            Problem::NotAnObject => write!(f, "is not a JSON object"),
            Problem::Missing => write!(f, "is missing"),
            Problem::NotANumber(found) => write!(f, "is {found}, not a number"),
            Problem::NotAList(found) => write!(f, "is {found}, not a list"),
            Problem::NotFinite => write!(f, "is NaN or infinite, not a number"),
            Problem::NotACount(found) => {
                write!(f, "is {found}, not a whole number of tokens (0 to 4294967295)")
            }
            Problem::Negative(v) => write!(f, "is {v}, a negative time"),
            Problem::NotPositive(v) => write!(f, "is {v}: a rate must be above 0"),
            Problem::OutputZero => write!(f, "is 0: a request generates at least one token"),
            Problem::FirstBeforeQueued => {
                write!(f, "is earlier than `queued_ts`: the first token before the request was queued")
            }
            Problem::LastBeforeFirst => write!(f, "is earlier than `first_token_ts`"),
            Problem::Unsorted { previous_line } => write!(
                f,
                "is earlier than the `queued_ts` of line {previous_line}: the requests are not in queued order"
            ),
            Problem::TooLate => write!(
                f,
                "is more than 1e9 s (about 32 years) after the first request's queued time"
            ),
            Problem::LengthMismatch {
                reference,
                expected,
                found,
            } => write!(
                f,
                "has {found} entries, but `{reference}` has {expected}: one per request in each"
            ),
            Problem::Appended => write!(f, "holds several results appended one after another"),
            Problem::NotDetailed => write!(f, "is missing: the result has no per-request arrays"),
            Problem::NoRate => write!(
                f,
                "is missing: the request rate the arrivals follow from is not in the file"
            ),
            Problem::ClientConcurrency(n) => write!(
                f,
                "is {n}: the client held at most {n} requests in flight, and the replay sends every request at its arrival"
            ),
            Problem::Unknown { found, expected } => {
                write!(f, "is {found:?}, not one of {expected}")
            }
            Problem::AllFailed => write!(f, "marks every request as failed"),
            Problem::NoTpot => write!(
                f,
                "no request generated more than one token, so the run has no time per output token"
            ),
        }
    }
}

impl Problem {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            Problem::Unreadable(_) => "check the path and that the file can be read; a run larger than an eighth of the memory budget is not read whole: cut it into parts",
            Problem::Empty => "give a run with at least one request: one JSON object per line (scenarios/data/vllm_runs/README.md) or a benchmark_serving result",
            Problem::NotJson(_) | Problem::NotAnObject => "each line of a run holds one JSON object: {\"input_toks\": ..., \"output_toks\": ..., \"queued_ts\": ..., \"first_token_ts\": ..., \"last_token_ts\": ...}",
            Problem::Missing => "every request needs input_toks, output_toks, queued_ts, first_token_ts and last_token_ts (scenarios/data/vllm_runs/README.md)",
            Problem::NotANumber(_) | Problem::NotFinite => "write the value as a JSON number: times in seconds, token counts as whole numbers",
            Problem::NotAList(_) => "give the result of one benchmark_serving run, unedited: its per-request fields are lists",
            Problem::NotACount(_) => "token counts are whole numbers such as 512",
            Problem::Negative(_) => "times are spans in seconds from the request's start, never negative",
            Problem::NotPositive(_) => "give the rate in requests per second, above 0 (or \"inf\")",
            Problem::OutputZero => "leave out requests that failed or were cancelled before their first token",
            Problem::FirstBeforeQueued | Problem::LastBeforeFirst => "the engine's timestamps of one request are queued <= first token <= last token; check that the columns are not swapped",
            Problem::Unsorted { .. } => "sort the lines by queued_ts (the order the engine queued the requests)",
            Problem::TooLate => "check the unit: the engine's timestamps are seconds",
            Problem::LengthMismatch { .. } => "give the result of one benchmark_serving run, unedited",
            Problem::Appended => "give one result per file: --append-result puts several in one; split them",
            Problem::NotDetailed => "save the per-request arrays: benchmark_serving.py --save-result (vLLM before 0.9) or vllm bench serve --save-result --save-detailed",
            Problem::NoRate => "give the rate the benchmark sent requests at with --request-rate (requests per second, or inf)",
            Problem::ClientConcurrency(_) => "calibrate on a run without --max-concurrency: with it, when each request reached the server is not known",
            Problem::Unknown { .. } => "give a result of vLLM's benchmark_serving.py or vllm bench serve, unedited",
            Problem::AllFailed => "give a run in which requests succeeded",
            Problem::NoTpot => "give a run whose requests generate more than one token",
        }
    }
}

/// A [`RunFileError`] at `file`, `line` and `field`.
pub(super) fn error(
    file: &Path,
    line: Option<usize>,
    field: Option<&str>,
    problem: Problem,
) -> RunFileError {
    RunFileError {
        file: file.to_path_buf(),
        line,
        field: field.map(str::to_string),
        problem,
    }
}

/// Reads the measured run at `path`, in either format (found from the content), with
/// `request_rate` \[requests/s\] for a `benchmark_serving` result (overriding the file's; see
/// [`super::bench_json`]). A JSON-lines run takes its settings from the `meta.json` beside it,
/// if there is one.
pub fn read_run(path: &Path, request_rate: Option<f64>) -> Result<MeasuredRun, RunFileError> {
    let text = crate::limits::read_capped_to_string(path)
        .map_err(|why| error(path, None, None, Problem::Unreadable(why)))?;
    if text.trim().is_empty() {
        return Err(error(path, None, None, Problem::Empty));
    }
    if let Some(result) = super::bench_json::detect(&text) {
        let result = result.map_err(|problem| error(path, None, None, problem))?;
        return super::bench_json::read(path, &result, request_rate);
    }
    let mut run = read_json_lines(path, &text)?;
    let meta = path.with_file_name("meta.json");
    if meta.is_file() {
        run.settings = read_meta(&meta)?;
    }
    Ok(run)
}

/// The requests of a JSON-lines run (`text` read from `file`).
pub fn read_json_lines(file: &Path, text: &str) -> Result<MeasuredRun, RunFileError> {
    let mut rows: Vec<(usize, Row)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row = read_row(line)
            .map_err(|(field, problem)| error(file, Some(number), field.as_deref(), problem))?;
        if let Some((previous_line, previous)) = rows.last() {
            if row.queued < previous.queued {
                return Err(error(
                    file,
                    Some(number),
                    Some("queued_ts"),
                    Problem::Unsorted {
                        previous_line: *previous_line,
                    },
                ));
            }
        }
        rows.push((number, row));
    }
    let Some((_, first)) = rows.first() else {
        return Err(error(file, None, None, Problem::Empty));
    };
    let t0 = first.queued;
    let at = |line: usize, field: &str, ts: f64| -> Result<SimTime, RunFileError> {
        let since = ts - t0;
        if since > SimDuration::LONGEST_INPUT.as_secs_f64() {
            return Err(error(file, Some(line), Some(field), Problem::TooLate));
        }
        Ok(SimTime::ZERO + SimDuration::from_secs_f64(since))
    };
    let mut requests = Vec::with_capacity(rows.len());
    let mut measured = Vec::with_capacity(rows.len());
    for (line, row) in &rows {
        let arrival = at(*line, "queued_ts", row.queued)?;
        requests.push(RunRequest {
            arrival,
            input: row.input,
            output: row.output,
        });
        measured.push(RequestTimes {
            arrival,
            first_token: at(*line, "first_token_ts", row.first)?,
            last_token: at(*line, "last_token_ts", row.last)?,
            output: row.output,
        });
    }
    if measured.iter().all(|m| m.output < 2) {
        return Err(error(file, None, Some("output_toks"), Problem::NoTpot));
    }
    Ok(MeasuredRun {
        file: file.to_path_buf(),
        format: RunFormat::JsonLines,
        requests,
        measured,
        settings: RunSettings::default(),
        failed: 0,
    })
}

/// One request of a JSON-lines run.
struct Row {
    input: u32,
    output: u32,
    queued: f64,
    first: f64,
    last: f64,
}

/// A line's request, or the field and what is wrong with it.
fn read_row(line: &str) -> Result<Row, (Option<String>, Problem)> {
    let value: Value = serde_json::from_str(line).map_err(|e| {
        // Python's `json` writes NaN and Infinity, which are not JSON: name the field.
        match non_finite_key(line) {
            Some(key) => (Some(key), Problem::NotFinite),
            None => (None, Problem::NotJson(e.to_string())),
        }
    })?;
    let Value::Object(object) = value else {
        return Err((None, Problem::NotAnObject));
    };
    let field = |name: &'static str| move |p: Problem| (Some(name.to_string()), p);
    let input = count(&object, "input_toks").map_err(field("input_toks"))?;
    let output = count(&object, "output_toks").map_err(field("output_toks"))?;
    if output == 0 {
        return Err((Some("output_toks".into()), Problem::OutputZero));
    }
    let queued = number(&object, "queued_ts").map_err(field("queued_ts"))?;
    let first = number(&object, "first_token_ts").map_err(field("first_token_ts"))?;
    let last = number(&object, "last_token_ts").map_err(field("last_token_ts"))?;
    if first < queued {
        return Err((Some("first_token_ts".into()), Problem::FirstBeforeQueued));
    }
    if last < first {
        return Err((Some("last_token_ts".into()), Problem::LastBeforeFirst));
    }
    Ok(Row {
        input,
        output,
        queued,
        first,
        last,
    })
}

/// The key whose value is a bare `NaN`, `Infinity` or `-Infinity` in a line that did not
/// parse, if any.
fn non_finite_key(line: &str) -> Option<String> {
    let at = ["NaN", "-Infinity", "Infinity"]
        .iter()
        .filter_map(|w| {
            line.find(&format!(": {w}"))
                .or_else(|| line.find(&format!(":{w}")))
        })
        .min()?;
    let before = line[..at].trim_end();
    let before = before.strip_suffix('"')?;
    let start = before.rfind('"')?;
    Some(before[start + 1..].to_string())
}

/// The JSON type of `v`, for messages.
pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `object[key]` as a finite number.
pub(super) fn number(object: &Map<String, Value>, key: &str) -> Result<f64, Problem> {
    as_number(object.get(key).ok_or(Problem::Missing)?)
}

/// `v` as a finite number.
pub(super) fn as_number(v: &Value) -> Result<f64, Problem> {
    let n = v.as_f64().ok_or(Problem::NotANumber(type_name(v)))?;
    if n.is_finite() {
        Ok(n)
    } else {
        Err(Problem::NotFinite)
    }
}

/// `object[key]` as a token count.
fn count(object: &Map<String, Value>, key: &str) -> Result<u32, Problem> {
    as_count(object.get(key).ok_or(Problem::Missing)?)
}

/// `v` as a token count.
pub(super) fn as_count(v: &Value) -> Result<u32, Problem> {
    if !v.is_number() {
        return Err(Problem::NotANumber(type_name(v)));
    }
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Problem::NotACount(v.to_string()))
}

/// The settings in a run's `meta.json` (`engine_kwargs.tensor_parallel_size`, `max_num_seqs`,
/// `max_num_batched_tokens`; null or absent say nothing).
pub fn read_meta(file: &Path) -> Result<RunSettings, RunFileError> {
    let text = crate::limits::read_capped_to_string(file)
        .map_err(|why| error(file, None, None, Problem::Unreadable(why)))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| error(file, Some(e.line()), None, Problem::NotJson(e.to_string())))?;
    let Some(kwargs) = value.get("engine_kwargs") else {
        return Ok(RunSettings::default());
    };
    let Value::Object(kwargs) = kwargs else {
        return Err(error(
            file,
            None,
            Some("engine_kwargs"),
            Problem::NotAnObject,
        ));
    };
    let setting = |key: &str| -> Result<Option<u32>, RunFileError> {
        let path = format!("engine_kwargs.{key}");
        match kwargs.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match as_count(v) {
                Ok(0) => Err(error(
                    file,
                    None,
                    Some(&path),
                    Problem::NotACount("0".into()),
                )),
                Ok(n) => Ok(Some(n)),
                Err(p) => Err(error(file, None, Some(&path), p)),
            },
        }
    };
    Ok(RunSettings {
        tp: setting("tensor_parallel_size")?,
        max_num_seqs: setting("max_num_seqs")?,
        max_num_batched_tokens: setting("max_num_batched_tokens")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::stats::RunStats;

    const GOOD: &str = r#"{"request_id": "a", "input_toks": 100, "output_toks": 11, "arrival_time": 5.0, "queued_ts": 1000.5, "scheduled_ts": 1000.5, "first_token_ts": 1000.75, "last_token_ts": 1001.75}
{"request_id": "b", "input_toks": 7, "output_toks": 1, "queued_ts": 1001.0, "first_token_ts": 1001.5, "last_token_ts": 1001.5}
"#;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The error reading `text` as a run gives.
    fn problem_of(text: &str) -> RunFileError {
        let dir = tempfile::tempdir().unwrap();
        read_run(&write(dir.path(), "requests.jsonl", text), None).unwrap_err()
    }

    /// `GOOD` with the first line's `from` replaced by `to`.
    fn bad(from: &str, to: &str) -> String {
        let (first, rest) = GOOD.split_once('\n').unwrap();
        assert!(first.contains(from), "{from}");
        format!("{}\n{rest}", first.replacen(from, to, 1))
    }

    #[test]
    fn a_json_lines_run_is_aligned_on_the_first_queued_time() {
        let dir = tempfile::tempdir().unwrap();
        let run = read_run(&write(dir.path(), "requests.jsonl", GOOD), None).unwrap();
        let ms = |m: u64| SimTime::ZERO + SimDuration::from_millis(m);
        assert_eq!(run.format, RunFormat::JsonLines);
        assert_eq!(
            run.requests,
            vec![
                RunRequest {
                    arrival: ms(0),
                    input: 100,
                    output: 11
                },
                RunRequest {
                    arrival: ms(500),
                    input: 7,
                    output: 1
                },
            ]
        );
        assert_eq!(
            run.measured[0],
            RequestTimes {
                arrival: ms(0),
                first_token: ms(250),
                last_token: ms(1250),
                output: 11
            }
        );
        assert_eq!(run.measured[1].first_token, ms(1000));
        assert_eq!(run.settings, RunSettings::default(), "no meta.json");
        assert_eq!(run.failed, 0);
    }

    #[test]
    fn meta_json_beside_the_run_gives_its_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "requests.jsonl", GOOD);
        write(
            dir.path(),
            "meta.json",
            r#"{"engine_kwargs": {"tensor_parallel_size": 2, "max_num_seqs": 128, "max_num_batched_tokens": null}}"#,
        );
        let run = read_run(&path, None).unwrap();
        assert_eq!(
            run.settings,
            RunSettings {
                tp: Some(2),
                max_num_seqs: Some(128),
                max_num_batched_tokens: None
            }
        );
        write(
            dir.path(),
            "meta.json",
            r#"{"engine_kwargs": {"max_num_seqs": "many"}}"#,
        );
        let e = read_run(&path, None).unwrap_err();
        assert_eq!(e.file, dir.path().join("meta.json"));
        assert_eq!(e.field.as_deref(), Some("engine_kwargs.max_num_seqs"));
        assert_eq!(e.problem, Problem::NotANumber("a string"));
        write(
            dir.path(),
            "meta.json",
            r#"{"engine_kwargs": {"tensor_parallel_size": 0}}"#,
        );
        assert!(matches!(
            read_run(&path, None).unwrap_err().problem,
            Problem::NotACount(_)
        ));
        write(dir.path(), "meta.json", "{");
        assert!(matches!(
            read_run(&path, None).unwrap_err().problem,
            Problem::NotJson(_)
        ));
    }

    #[test]
    fn every_bad_line_names_its_line_and_field() {
        let cases: Vec<(String, Option<usize>, Option<&str>, Problem)> = vec![
            (
                bad(r#""input_toks": 100, "#, ""),
                Some(1),
                Some("input_toks"),
                Problem::Missing,
            ),
            (
                bad("100", "\"100\""),
                Some(1),
                Some("input_toks"),
                Problem::NotANumber("a string"),
            ),
            (
                bad("100", "-3"),
                Some(1),
                Some("input_toks"),
                Problem::NotACount("-3".into()),
            ),
            (
                bad("100", "2.5"),
                Some(1),
                Some("input_toks"),
                Problem::NotACount("2.5".into()),
            ),
            (
                bad("100", "99999999999"),
                Some(1),
                Some("input_toks"),
                Problem::NotACount("99999999999".into()),
            ),
            (
                bad(r#""output_toks": 11"#, r#""output_toks": 0"#),
                Some(1),
                Some("output_toks"),
                Problem::OutputZero,
            ),
            (
                bad("1000.75", "NaN"),
                Some(1),
                Some("first_token_ts"),
                Problem::NotFinite,
            ),
            (
                bad("1001.75", "Infinity"),
                Some(1),
                Some("last_token_ts"),
                Problem::NotFinite,
            ),
            (
                bad("1000.75", "null"),
                Some(1),
                Some("first_token_ts"),
                Problem::NotANumber("null"),
            ),
            (
                bad("1000.75", "1000.25"),
                Some(1),
                Some("first_token_ts"),
                Problem::FirstBeforeQueued,
            ),
            (
                bad("1001.75", "1000.7"),
                Some(1),
                Some("last_token_ts"),
                Problem::LastBeforeFirst,
            ),
            (
                GOOD.lines().rev().collect::<Vec<_>>().join("\n"),
                Some(2),
                Some("queued_ts"),
                Problem::Unsorted { previous_line: 1 },
            ),
            (
                bad("1001.75", "2000000000"),
                Some(1),
                Some("last_token_ts"),
                Problem::TooLate,
            ),
            ("[1, 2]\n".into(), Some(1), None, Problem::NotAnObject),
        ];
        for (text, line, field, problem) in cases {
            let e = problem_of(&text);
            assert_eq!(
                (e.line, e.field.as_deref(), &e.problem),
                (line, field, &problem),
                "{text}"
            );
            let message = e.to_string();
            assert!(message.contains("requests.jsonl"), "{message}");
            assert!(message.contains("\nhelp: "), "{message}");
        }
        // A line that is not JSON: line 2, after a blank line that is skipped.
        let e = problem_of(&format!(
            "{}\n\n{{\"input_toks\": \n",
            GOOD.lines().next().unwrap()
        ));
        assert_eq!(e.line, Some(3));
        assert!(matches!(e.problem, Problem::NotJson(_)), "{e:?}");
    }

    #[test]
    fn empty_missing_and_oversized_files_are_errors() {
        assert_eq!(problem_of("").problem, Problem::Empty);
        assert_eq!(problem_of("\n  \n").problem, Problem::Empty);
        let one_token = GOOD.lines().nth(1).unwrap();
        assert_eq!(problem_of(one_token).problem, Problem::NoTpot);
        let e = read_run(Path::new("/nonexistent/requests.jsonl"), None).unwrap_err();
        assert!(matches!(e.problem, Problem::Unreadable(_)));
        assert!(
            e.to_string()
                .starts_with("/nonexistent/requests.jsonl: cannot be read"),
            "{e}"
        );
        // Larger than a file read whole may take: refused by its size, not read.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.jsonl");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(crate::limits::MemoryBudget::current().max_file_bytes() + 1)
            .unwrap();
        let e = read_run(&path, None).unwrap_err();
        assert!(
            matches!(&e.problem, Problem::Unreadable(why) if why.contains("more than")),
            "{e}"
        );
    }

    #[test]
    fn the_message_says_where_what_and_how_to_fix_it() {
        let e = problem_of(&bad(r#""output_toks": 11"#, r#""output_toks": 0"#));
        let text = e.to_string();
        assert!(text.contains("requests.jsonl:1: field `output_toks`: is 0: a request generates at least one token\nhelp: "), "{text}");
    }

    /// The shipped runs read whole, with their meta.json, and their measured statistics are the
    /// prototype's (`default_table.txt`, measured column, four decimals): the same alignment,
    /// definitions and percentile rule.
    #[test]
    fn the_shipped_runs_read_with_the_prototypes_statistics() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/data/vllm_runs");
        let cases = [
            (
                "RTXPRO6000_Llama-3.1-8B",
                1,
                [7.0972, 9.4427, 16.8527, 19.7553],
                [0.0325, 0.0334, 0.0365, 0.0373],
                [28.2007, 29.6156, 35.4507, 37.6388],
            ),
            (
                "RTXPRO6000_Qwen3-32B",
                2,
                [36.9052, 40.7018, 84.3187, 93.3471],
                [0.0803, 0.0843, 0.0945, 0.0971],
                [90.4081, 98.6489, 118.2563, 126.3370],
            ),
        ];
        for (folder, tp, ttft, tpot, e2e) in cases {
            let run = read_run(&root.join(folder).join("requests.jsonl"), None).unwrap();
            assert_eq!(run.requests.len(), 300);
            assert_eq!(
                run.settings,
                RunSettings {
                    tp: Some(tp),
                    max_num_seqs: Some(128),
                    max_num_batched_tokens: Some(2048)
                }
            );
            let s = RunStats::of(&run.measured).unwrap();
            for (summary, want) in [(s.ttft, ttft), (s.tpot, tpot), (s.e2e, e2e)] {
                let got = [summary.mean, summary.p50, summary.p90, summary.p99];
                for (g, w) in got.iter().zip(want) {
                    assert!(
                        (g - w).abs() < 0.5e-4 + 1e-9,
                        "{folder}: {got:?} vs {want:?}"
                    );
                }
            }
        }
    }
}
