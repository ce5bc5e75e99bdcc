//! A data file a scenario points to (observed service times, a spot price history, a spot
//! availability trace, a count trace): a CSV with a header row, read column by name, every
//! error naming the file, the row and what was found.
//!
//! What is read is kept whole, so a file is read within the memory budget: at most
//! [`crate::limits::MemoryBudget::max_file_bytes`] bytes (a device or a pipe is cut off there
//! with an error) and [`CsvFile::max_rows`] rows. Errors are [`CsvError`]s; the loaders of each
//! kind of file add their own for what the cells hold.

use std::fs::File;
use std::path::{Path, PathBuf};

use csv::StringRecord;

use crate::limits::{CappedReader, MemoryBudget};

/// Bytes a row of a data file may take in memory once read (a time and a value, or a sample,
/// with room for growth).
const BYTES_PER_ROW: u64 = 16;

/// Why a data file cannot be read as a CSV with the columns asked for: every variant names the
/// file, and the row where there is one.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The file cannot be opened (missing, unreadable, or larger than the memory budget
    /// allows), with the reason.
    #[error("cannot read the CSV file {}: {reason}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The header row cannot be read.
    #[error("cannot read the header row of {}: {source}", .path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// What the CSV reader met.
        source: csv::Error,
    },
    /// A column asked for is not in the header row.
    #[error("{} has no column \"{name}\" (its columns: {columns})", .path.display())]
    NoColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        name: String,
        /// The columns the file has, listed, or `none`.
        columns: String,
    },
    /// More rows than a data file may have within the memory budget.
    #[error("{} row {row}: more than {} rows, the most a data file may have within the memory budget of {budget}", .path.display(), crate::limits::format_count(*.max as u64))]
    TooManyRows {
        /// The file.
        path: PathBuf,
        /// The first row too many (the header is row 1).
        row: usize,
        /// The most rows allowed.
        max: usize,
        /// The budget, described.
        budget: String,
    },
    /// A row the CSV reader cannot read.
    #[error("{} row {row}: {source}", .path.display())]
    Row {
        /// The file.
        path: PathBuf,
        /// The row (the header is row 1).
        row: usize,
        /// What the CSV reader met.
        source: csv::Error,
    },
    /// A file with a header row and nothing under it.
    #[error("{} has no data rows", .path.display())]
    NoRows {
        /// The file.
        path: PathBuf,
    },
}

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
    pub fn open(path: &Path) -> Result<CsvFile, CsvError> {
        let file = crate::limits::open_capped(path).map_err(|reason| CsvError::Unreadable {
            path: path.to_path_buf(),
            reason,
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(file);
        let headers = reader
            .headers()
            .map_err(|source| CsvError::Header {
                path: path.to_path_buf(),
                source,
            })?
            .clone();
        Ok(CsvFile {
            path: path.to_path_buf(),
            reader,
            headers,
        })
    }

    /// The index of column `name` (headers compared trimmed); the error lists the columns
    /// the file has.
    pub fn column(&self, name: &str) -> Result<usize, CsvError> {
        self.headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                let found: Vec<&str> = self.headers.iter().collect();
                CsvError::NoColumn {
                    path: self.path.clone(),
                    name: name.to_string(),
                    columns: if found.is_empty() {
                        "none".to_string()
                    } else {
                        found.join(", ")
                    },
                }
            })
    }

    /// The data rows, each with its 1-based line number in the file (the header is line 1);
    /// an error after [`CsvFile::max_rows`] rows.
    pub fn rows(&mut self) -> impl Iterator<Item = Result<(usize, StringRecord), CsvError>> + '_ {
        let path = &self.path;
        let max = usize::try_from(Self::max_rows()).unwrap_or(usize::MAX);
        self.reader.records().enumerate().map(move |(i, record)| {
            let row = i + 2;
            if i >= max {
                return Err(CsvError::TooManyRows {
                    path: path.clone(),
                    row,
                    max,
                    budget: MemoryBudget::current().describe(),
                });
            }
            record.map(|r| (row, r)).map_err(|source| CsvError::Row {
                path: path.clone(),
                row,
                source,
            })
        })
    }
}

/// Cell `k` of `record`, trimmed (empty if the row is short).
pub fn cell(record: &StringRecord, k: usize) -> &str {
    record.get(k).unwrap_or("").trim()
}
