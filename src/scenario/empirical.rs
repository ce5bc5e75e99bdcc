//! Loading observed service times from a CSV column, for the empirical distribution.

use std::path::Path;

use super::csv_file::{cell, CsvFile};

/// Reads column `column` of the CSV file at `path` as non-negative numbers, multiplied by
/// `to_nanos`; returns them sorted. Errors say which row and what was found.
pub fn load_column(path: &Path, column: &str, to_nanos: f64) -> Result<Vec<f64>, String> {
    let mut file = CsvFile::open(path)?;
    let index = file.column(column)?;
    let mut values = Vec::new();
    for row in file.rows() {
        let (row, record) = row?;
        let cell = cell(&record, index);
        let value: f64 = cell.parse().map_err(|_| {
            format!(
                "{} row {row}: \"{cell}\" in column \"{column}\" is not a number",
                path.display()
            )
        })?;
        if !value.is_finite() || value < 0.0 {
            return Err(format!(
                "{} row {row}: {value} in column \"{column}\" is not a finite, non-negative time",
                path.display()
            ));
        }
        values.push(value * to_nanos);
    }
    if values.is_empty() {
        return Err(format!("{} has no data rows", path.display()));
    }
    values.sort_by(f64::total_cmp);
    Ok(values)
}
