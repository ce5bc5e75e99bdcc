//! The one closed list of metric columns: every column of `comparison.csv` (and so of
//! `aggregate.json`, the comparison tables and the gates' metrics) and every column of
//! `timeline.csv`, each declared once with its name, unit, how its value is read, how it is
//! shown to people and its one-line definition.
//!
//! As vidur's `docs/metrics.md` (every metric defined with a formula, names from one closed
//! list): `report/` only formats what these tables say, in their order, and the column tables of
//! `docs/metrics.md` are generated from them (a test in `columns/docs.rs` fails when the two
//! differ). A new column is one line in [`COMPARISON`] or [`TIMELINE`] (or [`TIMELINE_ENGINE`],
//! the columns only runs with an LLM engine have), plus where its value is measured (the recorder, a field of [`super::Summary`] or [`super::TimelineRow`]).
//!
//! Only data here: no file is written and no text formatted (that is `crate::report`).

mod comparison;
#[cfg(test)]
mod docs;
mod timeline;

pub use comparison::{comparison_value, comparison_values, ComparisonColumn, COMPARISON};
pub use timeline::{TimelineColumn, TIMELINE, TIMELINE_ENGINE, TIMELINE_NAMES};

/// A column's value in one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count: an integer.
    Count(u64),
    /// A number; `None` where it is undefined (an empty cell: no request completed, nothing
    /// arrived, no token-based class).
    Number(Option<f64>),
}

impl Value {
    /// The value as a number (`None` where undefined).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Value::Count(n) => Some(n as f64),
            Value::Number(v) => v,
        }
    }
}

/// What a column is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Requests, tries or instances counted.
    Count,
    /// A number of things (requests, slots, instances) on average: no unit.
    Number,
    /// A fraction of 1.
    Fraction,
    /// A percentage (0–100).
    Percent,
    /// Seconds of simulated time.
    Seconds,
    /// Milliseconds.
    Milliseconds,
    /// US dollars.
    Usd,
    /// US dollars per hour.
    UsdPerHour,
}

impl Unit {
    /// The unit as written after a value: `""` for counts, numbers and fractions.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Count | Unit::Number | Unit::Fraction => "",
            Unit::Percent => "%",
            Unit::Seconds => "s",
            Unit::Milliseconds => "ms",
            Unit::Usd => "USD",
            Unit::UsdPerHour => "USD/h",
        }
    }
}
