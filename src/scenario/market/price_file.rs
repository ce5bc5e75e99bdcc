//! A replayed spot price history: a CSV of times (seconds from the start, or ISO-8601 UTC
//! timestamps) and prices in USD/h.

use std::path::{Path, PathBuf};

use crate::model::market::spot_price::MAX_STEPS;
use crate::model::market::{show_amount, MAX_USD_PER_HOUR};
use crate::scenario::csv_file::{cell, CsvError, CsvFile};
use crate::scenario::diagnostics::quoted;
use crate::time::SimDuration;

/// Why a spot price history cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PriceFileError {
    /// The file cannot be read, lacks a column or has no rows.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// A time that is neither seconds nor a timestamp.
    #[error("{} row {row}: \"{cell}\" in column \"{column}\" is neither seconds from the start nor an ISO timestamp such as 2022-05-31T20:43:19Z", .path.display())]
    BadTime {
        path: PathBuf,
        row: usize,
        cell: String,
        column: String,
    },
    /// A timestamp among seconds, or seconds among timestamps.
    #[error("{} row {row}: \"{cell}\" mixes {} with the {} of the first row", .path.display(), if *.iso { "a timestamp" } else { "seconds" }, if *.iso { "seconds" } else { "timestamps" })]
    MixedTimes {
        path: PathBuf,
        row: usize,
        cell: String,
        /// This row's time is a timestamp (and the first row's is seconds).
        iso: bool,
    },
    /// A time far in the future: `secs` after the first row's, or `None` past the year 9999.
    #[error("{} row {row}: {} in column \"{column}\" {}", .path.display(), quoted(.cell), far_future(.secs))]
    FarFuture {
        path: PathBuf,
        row: usize,
        cell: String,
        column: String,
        secs: Option<f64>,
    },
    /// A price above [`MAX_USD_PER_HOUR`].
    #[error("{} row {row}: ${}/h in column \"{column}\" is above the ${}/h fleetsim accepts (a bound that keeps every cost finite)", .path.display(), show_amount(*.price), show_amount(MAX_USD_PER_HOUR))]
    AboveBound {
        path: PathBuf,
        row: usize,
        price: f64,
        column: String,
    },
    /// A cell that is not a price.
    #[error("{} row {row}: \"{cell}\" in column \"{column}\" is not a price (USD per hour, 0 or more)", .path.display())]
    NotAPrice {
        path: PathBuf,
        row: usize,
        cell: String,
        column: String,
    },
    /// A time before the previous row's.
    #[error("{} row {row}: times must not decrease", .path.display())]
    Decreasing { path: PathBuf, row: usize },
    /// More prices than a path may hold.
    #[error("{} has more than {MAX_STEPS} rows", .path.display())]
    TooManyRows { path: PathBuf },
}

/// The end of a message about a time far in the future, `secs` after the first row's (`None`:
/// past the year 9999).
fn far_future(secs: &Option<f64>) -> String {
    use crate::model::traffic::trace_file::{far_after_first, TimeError};
    match secs {
        Some(secs) => far_after_first(*secs),
        None => TimeError::FarFuture.to_string(),
    }
}

/// Reads a spot price history: `time_column` in seconds from the start (the first price also
/// holds before its time), or ISO-8601 UTC timestamps (`2022-05-31T20:43:19Z`, `+00:00` or a
/// space instead of `T` accepted) with the first row as t = 0; one kind in a file; rows in
/// increasing time; `price_column` in USD/h.
pub fn load_price_file(
    path: &Path,
    time_column: &str,
    price_column: &str,
) -> Result<(Vec<SimDuration>, Vec<f64>), PriceFileError> {
    let mut file = CsvFile::open(path)?;
    let (ti, pi) = (file.column(time_column)?, file.column(price_column)?);
    let (mut times, mut prices) = (Vec::new(), Vec::new());
    // The time 0 stands for: 0 s for seconds from the start, the first row for timestamps.
    // (Issue 14, item 5: seconds were once taken from the first row too, which moved every
    // price earlier by the first row's time.)
    let mut origin: Option<(f64, bool)> = None;
    let path_buf = || path.to_path_buf();
    for row in file.rows() {
        let (row, record) = row?;
        let (t_cell, p_cell) = (cell(&record, ti), cell(&record, pi));
        let (t, iso) = time_of(path, row, t_cell, time_column)?;
        let (origin, first_iso) = *origin.get_or_insert((if iso { t } else { 0.0 }, iso));
        if iso != first_iso {
            return Err(PriceFileError::MixedTimes {
                path: path_buf(),
                row,
                cell: t_cell.to_string(),
                iso,
            });
        }
        if t.is_infinite() || t - origin > SimDuration::LONGEST_INPUT.as_secs_f64() {
            return Err(PriceFileError::FarFuture {
                path: path_buf(),
                row,
                cell: t_cell.to_string(),
                column: time_column.to_string(),
                secs: (!t.is_infinite()).then_some(t - origin),
            });
        }
        let price = price_of(path, row, p_cell, price_column)?;
        let at = SimDuration::from_secs_f64(t - origin);
        if times.last().is_some_and(|&last| at < last) || t < origin {
            return Err(PriceFileError::Decreasing {
                path: path_buf(),
                row,
            });
        }
        if times.last() == Some(&at) {
            // Two changes at once: the later row wins.
            *prices.last_mut().unwrap() = price;
            continue;
        }
        if times.is_empty() && !at.is_zero() {
            // The first price also holds before its time: a path starts at t = 0.
            times.push(SimDuration::ZERO);
            prices.push(price);
        }
        times.push(at);
        prices.push(price);
        if times.len() as u64 > MAX_STEPS {
            return Err(PriceFileError::TooManyRows { path: path_buf() });
        }
    }
    if times.is_empty() {
        return Err(CsvError::NoRows { path: path_buf() }.into());
    }
    Ok((times, prices))
}

/// A time cell: seconds (false) or an ISO-8601 timestamp in seconds since 1970 (true).
fn time_of(
    path: &Path,
    row: usize,
    t_cell: &str,
    time_column: &str,
) -> Result<(f64, bool), PriceFileError> {
    Ok(match t_cell.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => (v, false),
        _ => (
            iso_seconds(t_cell).ok_or_else(|| PriceFileError::BadTime {
                path: path.to_path_buf(),
                row,
                cell: t_cell.to_string(),
                column: time_column.to_string(),
            })?,
            true,
        ),
    })
}

/// A price cell in USD/h: a number from 0 to [`MAX_USD_PER_HOUR`].
fn price_of(
    path: &Path,
    row: usize,
    p_cell: &str,
    price_column: &str,
) -> Result<f64, PriceFileError> {
    match p_cell.parse::<f64>() {
        Ok(v) if v > MAX_USD_PER_HOUR => Err(PriceFileError::AboveBound {
            path: path.to_path_buf(),
            row,
            price: v,
            column: price_column.to_string(),
        }),
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(PriceFileError::NotAPrice {
            path: path.to_path_buf(),
            row,
            cell: p_cell.to_string(),
            column: price_column.to_string(),
        }),
    }
}

/// Seconds since 1970 of an ISO-8601 UTC timestamp (`YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+00:00]`).
fn iso_seconds(text: &str) -> Option<f64> {
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))
        .unwrap_or(text);
    let (date, time) = text.split_once(['T', ' '])?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.splitn(3, ':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec: f64 = t.next()?.parse().ok()?;
    if y > 9999 {
        // Far in the future (and past what the day count below holds): the caller's range
        // check says so.
        return Some(f64::INFINITY);
    }
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec >= 61.0 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + min * 60) as f64 + sec)
}

#[cfg(test)]
mod tests {
    use super::iso_seconds;

    #[test]
    fn iso_timestamps_are_seconds_since_1970() {
        assert_eq!(iso_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        // 2022-05-31T20:43:19Z = 1654029799 (date -u -d ... +%s).
        assert_eq!(
            iso_seconds("2022-05-31T20:43:19+00:00"),
            Some(1_654_029_799.0)
        );
        assert_eq!(iso_seconds("2022-05-31 20:43:19.5"), Some(1_654_029_799.5));
        assert_eq!(iso_seconds("yesterday"), None);
    }
}
