//! The text of `fleetsim trace-stats`: a trace's statistics and a `[traffic]` block to paste.

use std::fmt::Write as _;

use crate::model::traffic::trace_stats::{TokenStats, TraceStats};

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
