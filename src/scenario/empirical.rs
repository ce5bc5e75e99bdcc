//! Loading observed service times from a CSV column, for the empirical distribution.

use std::path::Path;

/// Reads column `column` of the CSV file at `path` as non-negative numbers, multiplied by
/// `to_nanos`; returns them sorted. Errors say which row and what was found.
pub fn load_column(path: &Path, column: &str, to_nanos: f64) -> Result<Vec<f64>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| format!("cannot read the CSV file {}: {e}", path.display()))?;
    let headers = reader
        .headers()
        .map_err(|e| format!("cannot read the header row of {}: {e}", path.display()))?
        .clone();
    let Some(index) = headers.iter().position(|h| h.trim() == column) else {
        let found: Vec<&str> = headers.iter().collect();
        return Err(format!(
            "{} has no column \"{column}\" (its columns: {})",
            path.display(),
            if found.is_empty() {
                "none".to_string()
            } else {
                found.join(", ")
            }
        ));
    };
    let mut values = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2; // 1-based, after the header
        let record = record.map_err(|e| format!("{} row {row}: {e}", path.display()))?;
        let cell = record.get(index).unwrap_or("").trim();
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
