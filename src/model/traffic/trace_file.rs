//! Reading a request trace file into a compact [`TraceData`]: the Azure LLM inference trace
//! (2023), the Mooncake JSONL trace, or any CSV/JSONL file through a column mapping.
//!
//! The whole file is read once into arrays (times as `u64` ns from the first record, tokens as
//! `u32`): memory is bounded by the file (about 16 bytes a record without user or class
//! columns), never by the run, and the runs share it behind an `Arc`. Errors are values (a
//! [`TraceError`] naming the file, the line and what was expected); nothing here panics on bad
//! input.
//! It knows nothing of scenarios or the event loop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::time::SimDuration;

/// How a trace file is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceFormat {
    /// The Azure LLM inference trace 2023 (Patel et al., "Splitwise", ISCA 2024): a CSV with
    /// `TIMESTAMP` (`YYYY-MM-DD HH:MM:SS.fffffff`), `ContextTokens`, `GeneratedTokens`.
    AzureLlm,
    /// The Mooncake trace (FAST '25): JSON lines with `timestamp` [ms from the start],
    /// `input_length`, `output_length` and `hash_ids`, the hashes of the prompt's blocks
    /// (kept for an engine's prefix cache; a line without them has none).
    Mooncake,
    /// A CSV file with a header row, read through a [`ColumnMap`].
    Csv(ColumnMap),
    /// JSON lines (one object a line), read through a [`ColumnMap`] of keys.
    Jsonl(ColumnMap),
}

/// Which columns (CSV) or keys (JSONL) hold what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    /// The arrival time.
    pub time_column: String,
    /// The unit of the time column.
    pub time_unit: TimeUnit,
    /// Context (prompt) tokens, if any.
    pub input_tokens_column: Option<String>,
    /// Generated (output) tokens, if any.
    pub output_tokens_column: Option<String>,
    /// The user id (an integer, or any string: distinct strings become distinct users).
    pub user_column: Option<String>,
    /// The request class, by name.
    pub class_column: Option<String>,
}

/// The unit of a time column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds (decimals allowed).
    Seconds,
    /// Milliseconds (decimals allowed).
    Millis,
    /// Microseconds (decimals allowed).
    Micros,
    /// A date and time, `YYYY-MM-DD HH:MM:SS[.fffffffff]` (or with a `T`, and an optional `Z`).
    Iso,
}

impl TimeUnit {
    /// The names a scenario file uses.
    pub const NAMES: &'static [&'static str] = &["s", "ms", "us", "iso"];

    /// The unit named `name` (one of [`TimeUnit::NAMES`]).
    pub fn from_name(name: &str) -> Option<TimeUnit> {
        match name {
            "s" => Some(TimeUnit::Seconds),
            "ms" => Some(TimeUnit::Millis),
            "us" => Some(TimeUnit::Micros),
            "iso" => Some(TimeUnit::Iso),
            _ => None,
        }
    }

    /// Decimal digits between this unit and a nanosecond.
    fn nano_digits(self) -> u32 {
        match self {
            TimeUnit::Seconds => 9,
            TimeUnit::Millis => 6,
            TimeUnit::Micros => 3,
            TimeUnit::Iso => 9,
        }
    }
}

/// A trace in memory: one record per request, in file order, which is time order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceData {
    /// Arrival times \[ns\] from the first record, non-decreasing.
    pub times: Vec<u64>,
    /// Context tokens per record; empty if the trace has none.
    pub input_tokens: Vec<u32>,
    /// Generated tokens per record; empty if the trace has none.
    pub output_tokens: Vec<u32>,
    /// User id per record; empty if the trace has none.
    pub users: Vec<u64>,
    /// Class per record, an index into [`TraceData::class_names`]; empty if the trace has none.
    pub classes: Vec<u32>,
    /// The class names the trace uses, in order of first appearance.
    pub class_names: Vec<String>,
    /// Every record's prompt block hashes (Mooncake's `hash_ids`), one after the other;
    /// record `i`'s are `prefix_hashes[hash_starts[i]..hash_starts[i + 1]]`. Both empty if
    /// the trace has none.
    pub prefix_hashes: Vec<u64>,
    /// Where each record's hashes start in [`TraceData::prefix_hashes`] (one more entry than
    /// records); empty if the trace has none.
    pub hash_starts: Vec<u32>,
    /// The first record's time as written, in ns of its unit (since 1970-01-01 for `iso`):
    /// what a scenario's `start` is measured against.
    pub origin: i128,
}

impl TraceFormat {
    /// The unit of the format's time column.
    pub fn time_unit(&self) -> TimeUnit {
        match self {
            TraceFormat::AzureLlm => TimeUnit::Iso,
            TraceFormat::Mooncake => TimeUnit::Millis,
            TraceFormat::Csv(m) | TraceFormat::Jsonl(m) => m.time_unit,
        }
    }
}

impl TraceData {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether the trace has no record.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Bytes its arrays take (their capacity), for the memory budget.
    pub fn bytes(&self) -> u64 {
        (self.times.capacity() * 8
            + self.input_tokens.capacity() * 4
            + self.output_tokens.capacity() * 4
            + self.users.capacity() * 8
            + self.classes.capacity() * 4
            + self.prefix_hashes.capacity() * 8
            + self.hash_starts.capacity() * 4
            + self
                .class_names
                .iter()
                .map(|n| n.capacity() + 24)
                .sum::<usize>()) as u64
    }

    /// Record `i`'s prompt block hashes (empty where the trace has none).
    #[inline]
    pub fn hashes(&self, i: usize) -> &[u64] {
        match (self.hash_starts.get(i), self.hash_starts.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.prefix_hashes[a as usize..b as usize],
            _ => &[],
        }
    }

    /// `(input, output)` tokens of record `i` (0 where the trace has no token column).
    #[inline]
    pub fn tokens(&self, i: usize) -> (u32, u32) {
        (
            self.input_tokens.get(i).copied().unwrap_or(0),
            self.output_tokens.get(i).copied().unwrap_or(0),
        )
    }

    /// Bytes a record takes in memory, with every column.
    pub const BYTES_PER_RECORD: u64 = 8 + 4 + 4 + 8 + 4;

    /// Reads the trace file at `path` laid out as `format`, within the memory budget: a file
    /// larger than [`crate::limits::MemoryBudget::max_file_bytes`], or with more records than
    /// [`crate::limits::MemoryBudget::max_records`] allows, is an error.
    pub fn load(path: &Path, format: &TraceFormat) -> Result<TraceData, TraceError> {
        let max_records =
            crate::limits::MemoryBudget::current().max_records(Self::BYTES_PER_RECORD);
        TraceData::load_within(path, format, max_records)
    }

    /// As [`TraceData::load`], with at most `max_records` records.
    pub fn load_within(
        path: &Path,
        format: &TraceFormat,
        max_records: u64,
    ) -> Result<TraceData, TraceError> {
        let text = crate::limits::read_capped_to_string(path).map_err(|reason| {
            TraceError::Unreadable {
                path: path.to_path_buf(),
                reason,
            }
        })?;
        let name = path.display().to_string();
        let max_records = usize::try_from(max_records).unwrap_or(usize::MAX);
        match format {
            TraceFormat::AzureLlm => parse_csv(
                &text,
                &name,
                max_records,
                &ColumnMap {
                    time_column: "TIMESTAMP".into(),
                    time_unit: TimeUnit::Iso,
                    input_tokens_column: Some("ContextTokens".into()),
                    output_tokens_column: Some("GeneratedTokens".into()),
                    user_column: None,
                    class_column: None,
                },
            ),
            TraceFormat::Mooncake => parse_jsonl(
                &text,
                &name,
                max_records,
                Some("hash_ids"),
                &ColumnMap {
                    time_column: "timestamp".into(),
                    time_unit: TimeUnit::Millis,
                    input_tokens_column: Some("input_length".into()),
                    output_tokens_column: Some("output_length".into()),
                    user_column: None,
                    class_column: None,
                },
            ),
            TraceFormat::Csv(map) => parse_csv(&text, &name, max_records, map),
            TraceFormat::Jsonl(map) => parse_jsonl(&text, &name, max_records, None, map),
        }
    }
}

/// Builds a [`TraceData`] record by record, checking time order.
struct Builder<'a> {
    name: &'a str,
    map: &'a ColumnMap,
    /// The most records the trace may hold (the memory budget's).
    max_records: usize,
    data: TraceData,
    /// The first record's absolute time [ns in the file's unit origin].
    first: Option<i128>,
    users_by_name: BTreeMap<String, u64>,
    classes_by_name: BTreeMap<String, u32>,
}

impl<'a> Builder<'a> {
    fn new(name: &'a str, map: &'a ColumnMap, max_records: usize) -> Self {
        Builder {
            name,
            map,
            max_records,
            data: TraceData::default(),
            first: None,
            users_by_name: BTreeMap::new(),
            classes_by_name: BTreeMap::new(),
        }
    }

    fn push(&mut self, line: usize, fields: &Record<'_>) -> Result<(), TraceError> {
        if self.data.times.len() >= self.max_records {
            return Err(TraceError::TooManyRecords {
                name: self.name.to_string(),
                line,
                max: self.max_records,
                budget: crate::limits::MemoryBudget::current().describe(),
            });
        }
        let at = |column: &str, problem: CellProblem| TraceError::Cell {
            name: self.name.to_string(),
            line,
            column: column.to_string(),
            problem,
        };
        let time_column = &self.map.time_column;
        let time_cell = fields
            .get(time_column)
            .ok_or_else(|| at(time_column, CellProblem::NoTime))?;
        let cell = || time_cell.to_string();
        let abs = parse_time(time_cell, self.map.time_unit).map_err(|error| {
            at(
                time_column,
                CellProblem::BadTime {
                    cell: cell(),
                    error,
                },
            )
        })?;
        let first = *self.first.get_or_insert(abs);
        let rel = abs - first;
        if rel > SimDuration::LONGEST_INPUT.as_nanos() as i128 {
            let secs = rel as f64 / 1e9;
            return Err(at(
                time_column,
                CellProblem::FarAfterFirst { cell: cell(), secs },
            ));
        }
        if rel < 0 {
            return Err(at(time_column, CellProblem::BeforeFirst { cell: cell() }));
        }
        let rel = rel as u64;
        if let Some(&last) = self.data.times.last() {
            if rel < last {
                return Err(at(
                    time_column,
                    CellProblem::BeforePrevious { cell: cell() },
                ));
            }
        }
        self.data.times.push(rel);
        for (column, out) in [
            (&self.map.input_tokens_column, &mut self.data.input_tokens),
            (&self.map.output_tokens_column, &mut self.data.output_tokens),
        ] {
            if let Some(column) = column {
                let cell = fields.get(column).unwrap_or("");
                let tokens: u32 = cell.parse().map_err(|_| {
                    at(
                        column,
                        CellProblem::NotTokens {
                            cell: cell.to_string(),
                        },
                    )
                })?;
                out.push(tokens);
            }
        }
        if let Some(column) = &self.map.user_column {
            let cell = fields.get(column).unwrap_or("");
            if cell.is_empty() {
                return Err(at(column, CellProblem::NoUser));
            }
            let user = match cell.parse::<u64>() {
                Ok(u) => u,
                Err(_) => {
                    let next = self.users_by_name.len() as u64;
                    *self.users_by_name.entry(cell.to_string()).or_insert(next)
                }
            };
            self.data.users.push(user);
        }
        if let Some(column) = &self.map.class_column {
            let cell = fields.get(column).unwrap_or("");
            if cell.is_empty() {
                return Err(at(column, CellProblem::NoClass));
            }
            let next = self.classes_by_name.len() as u32;
            let class = *self
                .classes_by_name
                .entry(cell.to_string())
                .or_insert_with(|| {
                    self.data.class_names.push(cell.to_string());
                    next
                });
            self.data.classes.push(class);
        }
        Ok(())
    }

    /// Record `line`'s prompt block hashes, the array at `key` (none if absent). Called before
    /// [`Builder::push`] of the same record.
    fn push_hashes(
        &mut self,
        line: usize,
        key: &str,
        value: Option<&serde_json::Value>,
    ) -> Result<(), TraceError> {
        let wrong = |found: &serde_json::Value| TraceError::WrongJsonType {
            name: self.name.to_string(),
            line,
            key: key.to_string(),
            found: found.clone(),
        };
        let data = &mut self.data;
        if data.hash_starts.is_empty() {
            data.hash_starts.push(0);
        }
        match value {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(items)) => {
                for item in items {
                    let hash = item.as_u64().ok_or_else(|| wrong(item))?;
                    data.prefix_hashes.push(hash);
                }
            }
            Some(other) => return Err(wrong(other)),
        }
        let end =
            u32::try_from(data.prefix_hashes.len()).map_err(|_| TraceError::TooManyRecords {
                name: self.name.to_string(),
                line,
                max: self.max_records,
                budget: crate::limits::MemoryBudget::current().describe(),
            })?;
        data.hash_starts.push(end);
        Ok(())
    }

    fn finish(mut self) -> Result<TraceData, TraceError> {
        if self.data.is_empty() {
            return Err(TraceError::NoRecords {
                name: self.name.to_string(),
            });
        }
        self.data.origin = self.first.unwrap_or(0);
        Ok(self.data)
    }
}

/// One record's fields by column name.
struct Record<'r> {
    headers: &'r BTreeMap<String, usize>,
    record: &'r csv::StringRecord,
}

impl Record<'_> {
    fn get(&self, column: &str) -> Option<&str> {
        self.headers
            .get(column)
            .and_then(|&k| self.record.get(k))
            .map(str::trim)
    }
}

fn parse_csv(
    text: &str,
    name: &str,
    max_records: usize,
    map: &ColumnMap,
) -> Result<TraceData, TraceError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|source| TraceError::Header {
            name: name.to_string(),
            source,
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let index: BTreeMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), i))
        .collect();
    for column in map.columns() {
        if !index.contains_key(column) {
            return Err(TraceError::NoColumn {
                name: name.to_string(),
                column: column.to_string(),
                columns: headers.join(", "),
            });
        }
    }
    let mut builder = Builder::new(name, map, max_records);
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|source| TraceError::Csv {
            name: name.to_string(),
            line,
            source,
        })?;
        builder.push(
            line,
            &Record {
                headers: &index,
                record: &record,
            },
        )?;
    }
    builder.finish()
}

/// JSON lines through `map`; `hashes` names the key of each line's prompt block hashes, if the
/// format has one.
fn parse_jsonl(
    text: &str,
    name: &str,
    max_records: usize,
    hashes: Option<&str>,
    map: &ColumnMap,
) -> Result<TraceData, TraceError> {
    let mut builder = Builder::new(name, map, max_records);
    let columns: Vec<&str> = map.columns().collect();
    let mut headers = BTreeMap::new();
    for (k, c) in columns.iter().enumerate() {
        headers.insert(c.to_string(), k);
    }
    for (i, line_text) in text.lines().enumerate() {
        let line = i + 1;
        if line_text.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line_text).map_err(|source| TraceError::NotJson {
                name: name.to_string(),
                line,
                source,
            })?;
        let object = value.as_object().ok_or_else(|| TraceError::NotAnObject {
            name: name.to_string(),
            line,
        })?;
        let mut cells = Vec::with_capacity(columns.len());
        for column in &columns {
            let cell = match object.get(*column) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(other) => {
                    return Err(TraceError::WrongJsonType {
                        name: name.to_string(),
                        line,
                        key: column.to_string(),
                        found: other.clone(),
                    })
                }
                None => {
                    return Err(TraceError::MissingKey {
                        name: name.to_string(),
                        line,
                        key: column.to_string(),
                    })
                }
            };
            cells.push(cell);
        }
        if let Some(key) = hashes {
            builder.push_hashes(line, key, object.get(key))?;
        }
        let record = csv::StringRecord::from(cells);
        builder.push(
            line,
            &Record {
                headers: &headers,
                record: &record,
            },
        )?;
    }
    builder.finish()
}

impl ColumnMap {
    /// Every column the mapping names.
    fn columns(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.time_column.as_str()).chain(
            [
                &self.input_tokens_column,
                &self.output_tokens_column,
                &self.user_column,
                &self.class_column,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str),
        )
    }
}

/// Why a trace file cannot be read: every variant names the file (as the user wrote its path)
/// and, where there is one, the line.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file cannot be read (missing, unreadable, or larger than the memory budget allows).
    #[error("cannot read the trace file {}: {reason}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// More records than the memory budget allows.
    #[error("{name} line {line}: more than {} records, the most a trace may hold within the memory budget of {budget} ({} bytes a record)", crate::limits::format_count(*.max as u64), TraceData::BYTES_PER_RECORD)]
    TooManyRecords {
        /// The file.
        name: String,
        /// The line of the first record too many.
        line: usize,
        /// The most records allowed.
        max: usize,
        /// The budget, described.
        budget: String,
    },
    /// A cell that cannot be read.
    #[error("{name} line {line}, column \"{column}\": {problem}")]
    Cell {
        /// The file.
        name: String,
        /// The line.
        line: usize,
        /// The column (CSV) or key (JSONL).
        column: String,
        /// What is wrong with the cell.
        problem: CellProblem,
    },
    /// A file without records.
    #[error("{name} has no records")]
    NoRecords {
        /// The file.
        name: String,
    },
    /// A CSV header row that cannot be read.
    #[error("cannot read the header row of {name}: {source}")]
    Header {
        /// The file.
        name: String,
        /// What the CSV reader met.
        source: csv::Error,
    },
    /// A CSV file without a column the mapping names.
    #[error("{name} has no column \"{column}\" (its columns: {columns})")]
    NoColumn {
        /// The file.
        name: String,
        /// The column.
        column: String,
        /// The columns the file has.
        columns: String,
    },
    /// A CSV line that cannot be read.
    #[error("{name} line {line}: {source}")]
    Csv {
        /// The file.
        name: String,
        /// The line.
        line: usize,
        /// What the CSV reader met.
        source: csv::Error,
    },
    /// A JSONL line that is not JSON.
    #[error("{name} line {line}: not a JSON object ({source})")]
    NotJson {
        /// The file.
        name: String,
        /// The line.
        line: usize,
        /// What the JSON reader met.
        source: serde_json::Error,
    },
    /// A JSONL line that is JSON but not an object.
    #[error("{name} line {line}: expected a JSON object {{...}}")]
    NotAnObject {
        /// The file.
        name: String,
        /// The line.
        line: usize,
    },
    /// A key holding neither a number nor a string.
    #[error("{name} line {line}: key \"{key}\" holds {found}, expected a number or a string")]
    WrongJsonType {
        /// The file.
        name: String,
        /// The line.
        line: usize,
        /// The key.
        key: String,
        /// What it holds.
        found: serde_json::Value,
    },
    /// A line without a key the mapping names.
    #[error("{name} line {line}: no key \"{key}\" (the trace's mapping needs it)")]
    MissingKey {
        /// The file.
        name: String,
        /// The line.
        line: usize,
        /// The key.
        key: String,
    },
}

/// What is wrong with one cell of a trace; its `Display` follows `line N, column "c": `.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CellProblem {
    /// No time where every record needs one.
    #[error("no value (every record needs a time)")]
    NoTime,
    /// A time cell that cannot be read.
    #[error("\"{cell}\" {error}")]
    BadTime {
        /// The cell.
        cell: String,
        /// Why.
        error: TimeError,
    },
    /// A time far after the first record's.
    #[error("\"{cell}\" {}", far_after_first(*.secs))]
    FarAfterFirst {
        /// The cell.
        cell: String,
        /// Seconds after the first record.
        secs: f64,
    },
    /// A time before the first record's.
    #[error("\"{cell}\" is before the first record's time (traces must be sorted by time)")]
    BeforeFirst {
        /// The cell.
        cell: String,
    },
    /// A time before the previous record's.
    #[error("\"{cell}\" is before the previous record's time (traces must be sorted by time; equal times are kept in file order)")]
    BeforePrevious {
        /// The cell.
        cell: String,
    },
    /// A token count that is not one.
    #[error("\"{cell}\" is not a token count (a whole number from 0 to 4294967295)")]
    NotTokens {
        /// The cell.
        cell: String,
    },
    /// An empty user id.
    #[error("no user id")]
    NoUser,
    /// An empty class name.
    #[error("no class name")]
    NoClass,
}

/// Why a time cell cannot be read; its `Display` completes a sentence that starts with the
/// cell (`"1e300" is far in the future ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not a time in the column's unit; what was expected.
    #[error("is not a time ({0})")]
    Malformed(Malformation),
    /// A time past the latest one read, [`LATEST_TIME`] of the unit (a date past the year 9999).
    #[error("is far in the future: past the latest time read ({LATEST_TIME:e} of the column's unit, or the year 9999)")]
    FarFuture,
}

/// How a time cell departs from its unit's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformation {
    /// A number with an exponent that does not parse.
    #[error("not a number")]
    NotANumber,
    /// NaN or a negative number.
    #[error("not a finite, non-negative number")]
    NotFiniteNonNegative,
    /// Nothing.
    #[error("empty")]
    Empty,
    /// Characters other than digits and one point.
    #[error("expected a non-negative decimal number")]
    NotDecimal,
    /// Digits that do not fit.
    #[error("too large")]
    TooLarge,
    /// Not of the date-time form.
    #[error("expected YYYY-MM-DD HH:MM:SS.fffffff")]
    NotIso,
    /// A date or time field outside its range.
    #[error("{value} is outside {lo}..={hi}")]
    OutOfRange {
        /// The field.
        value: i64,
        /// Its least value.
        lo: i64,
        /// Its greatest value.
        hi: i64,
    },
}

/// The latest time a cell may hold, in its unit (`1e20 s` is 3e12 years; in ns it still fits an
/// `i128` with room to spare).
pub const LATEST_TIME: f64 = 1e20;

/// The end of a message about a record `secs` seconds after its file's first record, beyond
/// [`SimDuration::LONGEST_INPUT`]: `is 7976 years after the first record's time: ...`.
pub fn far_after_first(secs: f64) -> String {
    const YEAR: f64 = 365.25 * 86_400.0;
    let span = if secs / YEAR < 1e6 {
        format!("{:.0} years", secs / YEAR)
    } else {
        format!("{secs:.1e} s")
    };
    format!(
        "is {span} after the first record's time: a record far in the future (a data file's records span at most {:e} s, about {:.0} years; check the time and its unit)",
        SimDuration::LONGEST_INPUT.as_secs_f64(),
        SimDuration::LONGEST_INPUT.as_secs_f64() / YEAR
    )
}

/// A time cell as nanoseconds (since the Unix epoch for [`TimeUnit::Iso`], else from the
/// unit's zero). Decimals are read exactly, digit by digit; digits below a nanosecond are
/// dropped (truncated).
pub fn parse_time(cell: &str, unit: TimeUnit) -> Result<i128, TimeError> {
    match unit {
        TimeUnit::Iso => parse_iso(cell),
        _ => parse_decimal(cell, unit.nano_digits()),
    }
}

/// `digits.fraction` scaled by 10^`scale` exactly, truncated to an integer.
fn parse_decimal(cell: &str, scale: u32) -> Result<i128, TimeError> {
    use Malformation::*;
    let bad = TimeError::Malformed;
    let s = cell.trim();
    if s.contains(['e', 'E']) {
        let v: f64 = s.parse().map_err(|_| bad(NotANumber))?;
        if v.is_nan() || v < 0.0 {
            return Err(bad(NotFiniteNonNegative));
        }
        if v >= LATEST_TIME {
            // Not "not a number": 1e300 is a number, a time no trace can mean.
            return Err(TimeError::FarFuture);
        }
        return Ok((v * 10f64.powi(scale as i32)).round() as i128);
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return Err(bad(Empty));
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(NotDecimal));
    }
    if int.trim_start_matches('0').len() > 20 {
        return Err(TimeError::FarFuture);
    }
    let mut value: i128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad(TooLarge))?
    };
    value *= 10i128.pow(scale);
    let mut place = 10i128.pow(scale);
    for b in frac.bytes() {
        place /= 10;
        if place == 0 {
            break;
        }
        value += (b - b'0') as i128 * place;
    }
    Ok(value)
}

/// `YYYY-MM-DD HH:MM:SS[.f…]` (or `T` between date and time, optional trailing `Z`) as
/// nanoseconds since 1970-01-01 00:00:00, the proleptic Gregorian calendar, no leap seconds.
fn parse_iso(cell: &str) -> Result<i128, TimeError> {
    let expected = TimeError::Malformed(Malformation::NotIso);
    let s = cell.trim().trim_end_matches('Z');
    let (date, time) = s.split_once([' ', 'T']).ok_or(expected.clone())?;
    let mut d = date.split('-');
    let (Some(y), Some(m), Some(day), None) = (d.next(), d.next(), d.next(), d.next()) else {
        return Err(expected);
    };
    let mut t = time.split(':');
    let (Some(hh), Some(mm), Some(ss), None) = (t.next(), t.next(), t.next(), t.next()) else {
        return Err(expected);
    };
    let num = |x: &str, lo: i64, hi: i64| -> Result<i64, TimeError> {
        let v: i64 = x
            .parse()
            .ok()
            .filter(|_| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(expected.clone())?;
        if v < lo || v > hi {
            return Err(TimeError::Malformed(Malformation::OutOfRange {
                value: v,
                lo,
                hi,
            }));
        }
        Ok(v)
    };
    if y.len() > 4 && y.bytes().all(|b| b.is_ascii_digit()) && y.trim_start_matches('0').len() > 4 {
        // A year past 9999: far in the future, not malformed.
        return Err(TimeError::FarFuture);
    }
    let (y, m, day) = (num(y, 0, 9999)?, num(m, 1, 12)?, num(day, 1, 31)?);
    let (hh, mm) = (num(hh, 0, 23)?, num(mm, 0, 59)?);
    let (sec_int, _) = ss.split_once('.').unwrap_or((ss, ""));
    num(sec_int, 0, 60)?;
    let secs = parse_decimal(ss, 9).map_err(|_| expected.clone())?;
    let days = days_from_civil(y, m, day) as i128;
    Ok(((days * 24 + hh as i128) * 60 + mm as i128) * 60 * 1_000_000_000 + secs)
}

/// Days from 1970-01-01 to year-month-day (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_map() -> ColumnMap {
        ColumnMap {
            time_column: "t".into(),
            time_unit: TimeUnit::Millis,
            input_tokens_column: Some("in".into()),
            output_tokens_column: None,
            user_column: Some("user".into()),
            class_column: Some("class".into()),
        }
    }

    #[test]
    fn iso_times_are_exact_to_the_100_ns_of_the_azure_trace() {
        // 1970-01-02 00:00:01.0000001 = 86 401 s + 100 ns.
        assert_eq!(
            parse_iso("1970-01-02 00:00:01.0000001").unwrap(),
            86_401_000_000_100
        );
        // The Azure trace's first record: 2023-11-16 is day 19 677 since 1970-01-01.
        let t = parse_iso("2023-11-16 18:17:03.9799600").unwrap();
        assert_eq!(
            t,
            ((19_677 * 24 + 18) * 60 + 17) * 60 * 1_000_000_000 + 3_979_960_000
        );
        assert!(parse_iso("2023-13-16 18:17:03").is_err());
        assert!(parse_iso("yesterday").is_err());
    }

    #[test]
    fn decimals_are_read_digit_by_digit() {
        // 0.1 s is not exact in binary; digit by digit it is 100 000 000 ns.
        assert_eq!(parse_decimal("0.1", 9).unwrap(), 100_000_000);
        assert_eq!(parse_decimal("12.345", 6).unwrap(), 12_345_000);
        assert_eq!(parse_decimal("1.0000000019", 9).unwrap(), 1_000_000_001);
        assert!(parse_decimal("-1", 9).is_err());
        assert!(parse_decimal("", 9).is_err());
    }

    #[test]
    fn a_trace_beyond_its_record_cap_is_refused_at_the_first_record_too_many() {
        let text = "t,in,user,class\n1,5,a,b\n2,6,a,b\n3,7,a,b";
        assert_eq!(parse_csv(text, "x.csv", 3, &csv_map()).unwrap().len(), 3);
        let e = parse_csv(text, "x.csv", 2, &csv_map())
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.csv line 4: more than 2 records"), "{e}");
    }

    #[test]
    fn csv_with_ties_users_and_classes() {
        let text = "t,in,user,class\n1000,5,alice,chat\n1000,6,7,code\n1500.5,7,alice,chat";
        let d = parse_csv(text, "x.csv", usize::MAX, &csv_map()).unwrap();
        // Times from the first record: 0, 0 (a tie, kept in file order), 500.5 ms.
        assert_eq!(d.times, vec![0, 0, 500_500_000]);
        assert_eq!(d.input_tokens, vec![5, 6, 7]);
        assert!(d.output_tokens.is_empty());
        assert_eq!(d.tokens(1), (6, 0));
        // "alice" is the first named user (0); "7" is the integer user 7.
        assert_eq!(d.users, vec![0, 7, 0]);
        assert_eq!(d.class_names, vec!["chat", "code"]);
        assert_eq!(d.classes, vec![0, 1, 0]);
    }

    #[test]
    fn unsorted_times_missing_columns_and_bad_cells_are_errors() {
        let e = parse_csv(
            "t,in,user,class\n10,1,a,b\n5,1,a,b",
            "x.csv",
            usize::MAX,
            &csv_map(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("sorted"), "{e}");
        let e = parse_csv("t,in\n10,1", "x.csv", usize::MAX, &csv_map())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no column \"user\""), "{e}");
        let e = parse_csv(
            "t,in,user,class\n10,-1,a,b",
            "x.csv",
            usize::MAX,
            &csv_map(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 2") && e.contains("token count"), "{e}");
        let e = parse_csv("t,in,user,class\n", "x.csv", usize::MAX, &csv_map())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no records"), "{e}");
    }

    #[test]
    fn mooncake_lines() {
        let map = ColumnMap {
            time_column: "timestamp".into(),
            time_unit: TimeUnit::Millis,
            input_tokens_column: Some("input_length".into()),
            output_tokens_column: Some("output_length".into()),
            user_column: None,
            class_column: None,
        };
        let text = "{\"timestamp\": 0, \"input_length\": 6955, \"output_length\": 52, \"hash_ids\": [1, 2]}\n\
                    {\"timestamp\": 27, \"input_length\": 12, \"output_length\": 3, \"hash_ids\": []}\n";
        let d = parse_jsonl(text, "m.jsonl", usize::MAX, Some("hash_ids"), &map).unwrap();
        assert_eq!(d.times, vec![0, 27_000_000]);
        assert_eq!(d.input_tokens, vec![6955, 12]);
        assert_eq!(d.output_tokens, vec![52, 3]);
        assert_eq!(d.hashes(0), &[1, 2]);
        assert_eq!(d.hashes(1), &[] as &[u64]);
        assert_eq!(d.hashes(2), &[] as &[u64]);
        let e = parse_jsonl(
            "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1, -2]}",
            "m.jsonl",
            usize::MAX,
            Some("hash_ids"),
            &map,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 1") && e.contains("hash_ids"), "{e}");
        let e = parse_jsonl("{\"timestamp\": 0}", "m.jsonl", usize::MAX, None, &map)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1") && e.contains("input_length"), "{e}");
        let e = parse_jsonl("[1]", "m.jsonl", usize::MAX, None, &map)
            .unwrap_err()
            .to_string();
        assert!(e.contains("JSON object"), "{e}");
    }
}
