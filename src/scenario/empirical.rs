//! Loading observed service times from a CSV column, for the empirical distribution.

use std::path::{Path, PathBuf};

use super::csv_file::{cell, CsvError, CsvFile};

/// Why a column of observed times cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EmpiricalError {
    /// The file cannot be read, lacks the column or has no rows.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// A cell that is not a number.
    #[error("{} row {row}: \"{cell}\" in column \"{column}\" is not a number", .path.display())]
    NotANumber {
        path: PathBuf,
        row: usize,
        cell: String,
        column: String,
    },
    /// A number that is not a time (negative or infinite).
    #[error("{} row {row}: {value} in column \"{column}\" is not a finite, non-negative time", .path.display())]
    NotATime {
        path: PathBuf,
        row: usize,
        value: f64,
        column: String,
    },
}

/// Reads column `column` of the CSV file at `path` as non-negative numbers, multiplied by
/// `to_nanos`; returns them sorted. Errors say which row and what was found.
pub fn load_column(path: &Path, column: &str, to_nanos: f64) -> Result<Vec<f64>, EmpiricalError> {
    let mut file = CsvFile::open(path)?;
    let index = file.column(column)?;
    let mut values = Vec::new();
    for row in file.rows() {
        let (row, record) = row?;
        let cell = cell(&record, index);
        let value: f64 = cell.parse().map_err(|_| EmpiricalError::NotANumber {
            path: path.to_path_buf(),
            row,
            cell: cell.to_string(),
            column: column.to_string(),
        })?;
        if !value.is_finite() || value < 0.0 {
            return Err(EmpiricalError::NotATime {
                path: path.to_path_buf(),
                row,
                value,
                column: column.to_string(),
            });
        }
        values.push(value * to_nanos);
    }
    if values.is_empty() {
        return Err(CsvError::NoRows {
            path: path.to_path_buf(),
        }
        .into());
    }
    values.sort_by(f64::total_cmp);
    Ok(values)
}
