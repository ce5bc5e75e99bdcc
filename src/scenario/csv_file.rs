//! A data file a scenario points to (observed service times, a spot price history, a spot
//! availability trace): a CSV with a header row, read column by name, every error naming the
//! file, the row and what was found.

use std::fs::File;
use std::path::{Path, PathBuf};

use csv::StringRecord;

/// An open CSV file with a header row.
pub struct CsvFile {
    path: PathBuf,
    reader: csv::Reader<File>,
    headers: StringRecord,
}

impl CsvFile {
    /// Opens the CSV file at `path` and reads its header row.
    pub fn open(path: &Path) -> Result<CsvFile, String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(path)
            .map_err(|e| format!("cannot read the CSV file {}: {e}", path.display()))?;
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

    /// The data rows, each with its 1-based line number in the file (the header is line 1).
    pub fn rows(&mut self) -> impl Iterator<Item = Result<(usize, StringRecord), String>> + '_ {
        let path = &self.path;
        self.reader.records().enumerate().map(move |(i, record)| {
            let row = i + 2;
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
