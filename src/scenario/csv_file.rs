//! A data file a scenario points to (observed service times, a spot price history, a spot
//! availability trace, a count trace): a CSV with a header row, read column by name, every
//! error naming the file, the row and what was found.
//!
//! What is read is kept whole, so a file is read within the memory budget: at most
//! [`crate::limits::MemoryBudget::max_file_bytes`] bytes (a device or a pipe is cut off there
//! with an error) and [`CsvFile::max_rows`] rows.

use std::fs::File;
use std::path::{Path, PathBuf};

use csv::StringRecord;

use crate::limits::{CappedReader, MemoryBudget};

/// Bytes a row of a data file may take in memory once read (a time and a value, or a sample,
/// with room for growth).
const BYTES_PER_ROW: u64 = 16;

/// An open CSV file with a header row.
pub struct CsvFile {
    path: PathBuf,
    reader: csv::Reader<CappedReader<File>>,
    headers: StringRecord,
}

impl CsvFile {
    /// The most rows a data file may have within the memory budget.
    pub fn max_rows() -> u64 {
        MemoryBudget::current().max_records(BYTES_PER_ROW)
    }

    /// Opens the CSV file at `path` and reads its header row.
    pub fn open(path: &Path) -> Result<CsvFile, String> {
        let file = crate::limits::open_capped(path)
            .map_err(|e| format!("cannot read the CSV file {}: {e}", path.display()))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(file);
        let headers = reader
            .headers()
            .map_err(|e| format!("cannot read the header row of {}: {e}", path.display()))?
            .clone();
        Ok(CsvFile {
            path: path.to_path_buf(),
            reader,
            headers,
        })
    }

    /// The index of column `name` (headers compared trimmed); the error lists the columns
    /// the file has.
    pub fn column(&self, name: &str) -> Result<usize, String> {
        self.headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                let found: Vec<&str> = self.headers.iter().collect();
                format!(
                    "{} has no column \"{name}\" (its columns: {})",
                    self.path.display(),
                    if found.is_empty() {
                        "none".to_string()
                    } else {
                        found.join(", ")
                    }
                )
            })
    }

    /// The data rows, each with its 1-based line number in the file (the header is line 1);
    /// an error after [`CsvFile::max_rows`] rows.
    pub fn rows(&mut self) -> impl Iterator<Item = Result<(usize, StringRecord), String>> + '_ {
        let path = &self.path;
        let max = usize::try_from(Self::max_rows()).unwrap_or(usize::MAX);
        self.reader.records().enumerate().map(move |(i, record)| {
            let row = i + 2;
            if i >= max {
                return Err(format!(
                    "{} row {row}: more than {} rows, the most a data file may have within the memory budget of {}",
                    path.display(),
                    crate::limits::format_count(max as u64),
                    MemoryBudget::current().describe()
                ));
            }
            record
                .map(|r| (row, r))
                .map_err(|e| format!("{} row {row}: {e}", path.display()))
        })
    }
}

/// Cell `k` of `record`, trimmed (empty if the row is short).
pub fn cell(record: &StringRecord, k: usize) -> &str {
    record.get(k).unwrap_or("").trim()
}
