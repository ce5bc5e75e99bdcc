//! `fleetsim trace-stats`: which layout the command line names ([`trace_format`]), the trace
//! read in it, and the text of its statistics with a `[traffic]` block to paste.

use std::fmt::Write as _;
use std::path::Path;

use crate::model::traffic::trace_file::{ColumnMap, TimeUnit};
use crate::model::traffic::trace_stats::{TokenStats, TraceStats};
use crate::model::traffic::{TraceData, TraceFormat};

/// What `fleetsim trace-stats` was told of the trace's layout, as given on the command line
/// (`--format`, `--time-column`, `--time-unit`, `--input-tokens-column`,
/// `--output-tokens-column`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceQuery {
    /// `azure_llm`, `mooncake`, `csv` or `jsonl`; `None`: `mooncake` for a `.jsonl` file, else
    /// `azure_llm`.
    pub format: Option<String>,
    /// csv/jsonl: the column (key) of arrival times; required for them.
    pub time_column: Option<String>,
    /// csv/jsonl: the unit of the times, `s`, `ms`, `us` or `iso`; required for them.
    pub time_unit: Option<String>,
    /// csv/jsonl: the column of input (context) tokens.
    pub input_tokens_column: Option<String>,
    /// csv/jsonl: the column of output (generated) tokens.
    pub output_tokens_column: Option<String>,
}

/// Why `fleetsim trace-stats` has no statistics to show.
#[derive(Debug, thiserror::Error)]
pub enum TraceStatsError {
    /// `--format` names no layout.
    #[error("unknown trace format \"{0}\": choose azure_llm, mooncake, csv or jsonl")]
    UnknownFormat(String),
    /// A csv or jsonl layout without its time column.
    #[error("--format csv and jsonl need --time-column (the column of arrival times)")]
    NoTimeColumn,
    /// A csv or jsonl layout without its time unit.
    #[error("--format csv and jsonl need --time-unit (s, ms, us or iso)")]
    NoTimeUnit,
    /// `--time-unit` names no unit.
    #[error("unknown --time-unit \"{0}\": choose s, ms, us or iso")]
    UnknownTimeUnit(String),
    /// The file cannot be read in that layout (the trace reader's error: the file, the line,
    /// what was expected).
    #[error(transparent)]
    Load(Box<dyn std::error::Error + Send + Sync>),
}

/// The layout `query` names for the trace file `trace`, and the inline table that replays it
/// in a scenario (`{ file = "...", format = "...", ... }`).
pub fn trace_format(
    trace: &Path,
    query: &TraceQuery,
) -> Result<(TraceFormat, String), TraceStatsError> {
    let format =
        query
            .format
            .as_deref()
            .unwrap_or(match trace.extension().and_then(|e| e.to_str()) {
                Some("jsonl") => "mooncake",
                _ => "azure_llm",
            });
    let mut toml = format!("{{ file = \"{}\", format = \"{format}\"", trace.display());
    let parsed = match format {
        "azure_llm" => TraceFormat::AzureLlm,
        "mooncake" => TraceFormat::Mooncake,
        "csv" | "jsonl" => {
            let time_column = query
                .time_column
                .clone()
                .ok_or(TraceStatsError::NoTimeColumn)?;
            let unit_name = query
                .time_unit
                .as_deref()
                .ok_or(TraceStatsError::NoTimeUnit)?;
            let time_unit = TimeUnit::from_name(unit_name)
                .ok_or_else(|| TraceStatsError::UnknownTimeUnit(unit_name.to_string()))?;
            toml += &format!(", time_column = \"{time_column}\", time_unit = \"{unit_name}\"");
            for (key, value) in [
                ("input_tokens_column", &query.input_tokens_column),
                ("output_tokens_column", &query.output_tokens_column),
            ] {
                if let Some(v) = value {
                    toml += &format!(", {key} = \"{v}\"");
                }
            }
            let map = ColumnMap {
                time_column,
                time_unit,
                input_tokens_column: query.input_tokens_column.clone(),
                output_tokens_column: query.output_tokens_column.clone(),
                user_column: None,
                class_column: None,
            };
            if format == "csv" {
                TraceFormat::Csv(map)
            } else {
                TraceFormat::Jsonl(map)
            }
        }
        other => return Err(TraceStatsError::UnknownFormat(other.to_string())),
    };
    toml += " }";
    Ok((parsed, toml))
}

/// `fleetsim trace-stats`: reads the trace file `trace` in the layout `query` names (within the
/// memory budget) and returns the text of its statistics.
pub fn trace_stats(trace: &Path, query: &TraceQuery) -> Result<String, TraceStatsError> {
    let (format, toml) = trace_format(trace, query)?;
    let data = TraceData::load(trace, &format).map_err(|e| TraceStatsError::Load(e.into()))?;
    Ok(trace_stats_text(
        &trace.display().to_string(),
        &TraceStats::of(&data),
        &toml,
    ))
}

/// Sparkline levels, lowest to highest.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The report of `stats` for the trace `file`; `trace_toml` is the inline table that replays it
/// (`{ file = "...", format = "..." }`).
pub fn trace_stats_text(file: &str, stats: &TraceStats, trace_toml: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "trace {file}");
    let _ = writeln!(s, "  requests      {}", stats.count);
    let _ = writeln!(
        s,
        "  span          {:.3} s ({:.1} min)",
        stats.span_secs,
        stats.span_secs / 60.0
    );
    let _ = writeln!(
        s,
        "  mean rate     {:.4}/s (one over the mean inter-arrival time)",
        stats.mean_rate
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "burstiness (Poisson: 1)");
    let _ = writeln!(
        s,
        "  inter-arrival coefficient of variation  {:.3}",
        stats.cv_interarrival
    );
    for (w, d) in &stats.dispersion {
        match d {
            Some(d) => {
                let _ = writeln!(s, "  index of dispersion of counts per {w:>2} s   {d:.3}");
            }
            None => {
                let _ = writeln!(
                    s,
                    "  index of dispersion of counts per {w:>2} s   - (span under two windows)"
                );
            }
        }
    }
    let _ = writeln!(s);
    let max = stats.per_bin.iter().copied().max().unwrap_or(0).max(1);
    let spark: String = stats
        .per_bin
        .iter()
        .map(|&c| BARS[(c * (BARS.len() as u64 - 1)).div_ceil(max) as usize])
        .collect();
    let bin_minutes = stats.bin_secs / 60;
    let (bin, unit, per_row) = match bin_minutes {
        1 => ("minute".to_string(), "m", 10),
        m if m % 1440 == 0 => (format!("{} days", m / 1440), "d", 10 * m / 1440),
        m if m % 60 == 0 => (format!("{} hours", m / 60), "h", 10 * m / 60),
        m => (format!("{m} minutes"), "m", 10 * m),
    };
    let bin = if bin == "1 days" {
        "day".into()
    } else if bin == "1 hours" {
        "hour".into()
    } else {
        bin
    };
    let _ = writeln!(
        s,
        "requests per {bin} (max {max}; the last {bin} may be partial)"
    );
    let _ = writeln!(s, "  {spark}");
    for (row, chunk) in stats.per_bin.chunks(10).enumerate() {
        let cells: Vec<String> = chunk.iter().map(|c| format!("{c:>6}")).collect();
        let _ = writeln!(s, "  {:>4}{unit} {}", row as u64 * per_row, cells.join(""));
    }
    let _ = writeln!(s);
    if stats.input_tokens.is_some() || stats.output_tokens.is_some() {
        let _ = writeln!(
            s,
            "tokens          {:>9} {:>7} {:>7} {:>7} {:>7}",
            "mean", "p50", "p90", "p99", "max"
        );
        for (name, t) in [
            ("input", &stats.input_tokens),
            ("output", &stats.output_tokens),
        ] {
            if let Some(TokenStats {
                mean,
                p50,
                p90,
                p99,
                max,
            }) = t
            {
                let _ = writeln!(
                    s,
                    "  {name:<13} {mean:>9.1} {p50:>7} {p90:>7} {p99:>7} {max:>7}"
                );
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "# Paste into a scenario (the file path is relative to the scenario):"
    );
    let _ = writeln!(s, "[traffic]");
    let _ = writeln!(s, "trace = {trace_toml}");
    let _ = writeln!(
        s,
        "# A Poisson process with the same mean rate, for comparison:"
    );
    let _ = writeln!(s, "# rate = \"{:.4}/s\"", stats.mean_rate);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(format: &str) -> TraceQuery {
        TraceQuery {
            format: Some(format.into()),
            ..TraceQuery::default()
        }
    }

    #[test]
    fn the_format_defaults_by_extension_and_is_echoed_as_a_traffic_table() {
        let (f, toml) = trace_format(Path::new("t.csv"), &TraceQuery::default()).unwrap();
        assert_eq!(f, TraceFormat::AzureLlm);
        assert_eq!(toml, "{ file = \"t.csv\", format = \"azure_llm\" }");
        let (f, _) = trace_format(Path::new("t.jsonl"), &TraceQuery::default()).unwrap();
        assert_eq!(f, TraceFormat::Mooncake);
        let q = TraceQuery {
            time_column: Some("ts".into()),
            time_unit: Some("ms".into()),
            output_tokens_column: Some("out".into()),
            ..query("jsonl")
        };
        let (f, toml) = trace_format(Path::new("t.jsonl"), &q).unwrap();
        assert_eq!(
            f,
            TraceFormat::Jsonl(ColumnMap {
                time_column: "ts".into(),
                time_unit: TimeUnit::Millis,
                input_tokens_column: None,
                output_tokens_column: Some("out".into()),
                user_column: None,
                class_column: None,
            })
        );
        assert_eq!(
            toml,
            "{ file = \"t.jsonl\", format = \"jsonl\", time_column = \"ts\", time_unit = \"ms\", output_tokens_column = \"out\" }"
        );
    }

    #[test]
    fn a_layout_the_command_line_does_not_complete_is_a_typed_error() {
        let at = Path::new("t.csv");
        let e = |q: &TraceQuery| trace_format(at, q).unwrap_err();
        assert!(
            matches!(e(&query("alibaba")), TraceStatsError::UnknownFormat(f) if f == "alibaba")
        );
        assert!(matches!(e(&query("csv")), TraceStatsError::NoTimeColumn));
        let with_column = TraceQuery {
            time_column: Some("t".into()),
            ..query("csv")
        };
        assert!(matches!(e(&with_column), TraceStatsError::NoTimeUnit));
        let bad_unit = TraceQuery {
            time_unit: Some("parsec".into()),
            ..with_column
        };
        let err = e(&bad_unit);
        assert!(matches!(&err, TraceStatsError::UnknownTimeUnit(u) if u == "parsec"));
        assert_eq!(
            err.to_string(),
            "unknown --time-unit \"parsec\": choose s, ms, us or iso"
        );
    }

    #[test]
    fn a_file_that_does_not_read_is_a_load_error_naming_it() {
        let e = trace_stats(Path::new("/nonexistent/t.csv"), &TraceQuery::default()).unwrap_err();
        assert!(matches!(e, TraceStatsError::Load(_)));
        assert!(e.to_string().contains("/nonexistent/t.csv"), "{e}");
    }
}
