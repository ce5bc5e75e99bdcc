//! `comparison.csv` and `comparison.md`: the base and its variants side by side, one row each,
//! and the compact table printed on the terminal after a run of variants.
//!
//! Formatting only (as hyperfine's `src/export/`): the functions return bytes or text, and
//! [`super::write_comparison`] writes them. Every column is defined once, in `COLUMNS`: a new
//! way for a request to end is one line there. It must not know how the numbers were produced.
//!
//! The CSV holds the numbers exactly (shortest representation that reads back to the same
//! `f64`; an empty cell where a value is undefined); the Markdown rounds them for people and adds
//! the change of p99 latency and cost against the base (the first row). A run of several
//! replications shows the mean of each column and, after it, the half-width of its 95 %
//! confidence interval (`<column>_ci95` in the CSV, `± h` for people).

use std::fmt::Write as _;

use super::aggregate::Aggregate;
use crate::metrics::Summary;

/// A run's name and its summary (one replication), as the report's charts and pages take them.
pub type RunSummary<'a> = (&'a str, &'a Summary);

/// One row: a run's name and its values. The first row given is the base.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow<'a> {
    name: &'a str,
    scenario: &'a str,
    seeds: Vec<u64>,
    /// Each column's value and, across replications, its 95 % half-width.
    cells: Vec<(Cell, Option<f64>)>,
    replicated: bool,
}

impl<'a> ComparisonRow<'a> {
    /// A run of one replication.
    pub fn single(name: &'a str, s: &'a Summary) -> Self {
        ComparisonRow {
            name,
            scenario: &s.scenario,
            seeds: vec![s.seed],
            cells: COLUMNS.iter().map(|c| ((c.value)(s), None)).collect(),
            replicated: false,
        }
    }

    /// A run of several replications of scenario `scenario`: means and half-widths.
    pub fn replicated(name: &'a str, scenario: &'a str, a: &Aggregate) -> Self {
        ComparisonRow {
            name,
            scenario,
            seeds: a.seeds.clone(),
            cells: COLUMNS
                .iter()
                .map(|c| {
                    let m = a.metric(c.csv);
                    (
                        Cell::Number(m.and_then(|m| m.mean)),
                        m.and_then(|m| m.half_width),
                    )
                })
                .collect(),
            replicated: true,
        }
    }
}

/// The comparison rows of single runs.
pub(crate) fn single_rows<'a>(runs: &[RunSummary<'a>]) -> Vec<ComparisonRow<'a>> {
    runs.iter()
        .map(|(n, s)| ComparisonRow::single(n, s))
        .collect()
}

/// The value for `s` of the column named `csv` (`None` when undefined or no such column).
pub fn column_value(s: &Summary, csv: &str) -> Option<f64> {
    COLUMNS
        .iter()
        .find(|c| c.csv == csv)
        .and_then(|c| as_f64((c.value)(s)))
}

/// Each column's CSV name and value for `s` (undefined values `None`), in column order.
pub fn column_values(s: &Summary) -> Vec<(&'static str, Option<f64>)> {
    COLUMNS
        .iter()
        .map(|c| (c.csv, as_f64((c.value)(s))))
        .collect()
}

/// A cell's value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    /// A count.
    Count(u64),
    /// A number; `None` when undefined (no completed request, nothing arrived).
    Number(Option<f64>),
}

/// One column of the comparison.
struct Column {
    /// CSV header: snake_case, its unit at the end.
    csv: &'static str,
    /// Markdown and terminal header.
    title: &'static str,
    /// The value, exact (as in the CSV).
    value: fn(&Summary) -> Cell,
    /// For people: the value is multiplied by this and shown with this many decimals.
    shown: (f64, usize),
    /// Shown in the compact terminal table too.
    compact: bool,
}

const COUNT: (f64, usize) = (1.0, 0);

/// `part / whole`, undefined when `whole` is 0.
fn ratio(part: f64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part / whole as f64)
}

fn ms(seconds: Option<f64>) -> Cell {
    Cell::Number(seconds.map(|s| s * 1e3))
}

/// Every column after the variant's name, in order.
#[rustfmt::skip] // one line per column, so that a new one is one line
const COLUMNS: &[Column] = &[
    // Request counts: one line per way a request ends (`RequestCounts`).
    Column { csv: "arrived", title: "arrived", value: |s| Cell::Count(s.requests.arrived), shown: COUNT, compact: false },
    Column { csv: "completed", title: "completed", value: |s| Cell::Count(s.requests.completed), shown: COUNT, compact: true },
    Column { csv: "timed_out", title: "timed out", value: |s| Cell::Count(s.requests.timed_out), shown: COUNT, compact: false },
    Column { csv: "rejected", title: "rejected", value: |s| Cell::Count(s.requests.rejected), shown: COUNT, compact: false },
    Column { csv: "no_healthy_target", title: "no healthy target", value: |s| Cell::Count(s.requests.no_healthy_target), shown: COUNT, compact: false },
    Column { csv: "server_error", title: "server error", value: |s| Cell::Count(s.requests.server_error), shown: COUNT, compact: false },
    Column { csv: "connect_failed", title: "connect failed", value: |s| Cell::Count(s.requests.connect_failed), shown: COUNT, compact: false },
    Column { csv: "interrupted", title: "interrupted", value: |s| Cell::Count(s.requests.interrupted), shown: COUNT, compact: false },
    Column { csv: "in_flight_at_end", title: "in flight at end", value: |s| Cell::Count(s.requests.in_flight_at_end), shown: COUNT, compact: false },
    // Tries sent again (by balancers and clients): a retry storm shows here.
    Column { csv: "retries", title: "retries", value: |s| Cell::Count(s.retries.balancer + s.retries.client), shown: COUNT, compact: false },
    // Failed requests (every reason) per arrived request.
    Column {
        csv: "error_rate_pct",
        title: "errors [%]",
        value: |s| Cell::Number(ratio(s.requests.failed() as f64 * 100.0, s.requests.arrived)),
        shown: (1.0, 2),
        compact: true,
    },
    Column { csv: "latency_mean_ms", title: "mean [ms]", value: |s| ms(s.latency_seconds.mean), shown: (1.0, 1), compact: false },
    Column { csv: "latency_p50_ms", title: "p50 [ms]", value: |s| ms(s.latency_seconds.p50), shown: (1.0, 1), compact: true },
    Column { csv: "latency_p90_ms", title: "p90 [ms]", value: |s| ms(s.latency_seconds.p90), shown: (1.0, 1), compact: false },
    Column { csv: "latency_p99_ms", title: "p99 [ms]", value: |s| ms(s.latency_seconds.p99), shown: (1.0, 1), compact: true },
    Column { csv: "latency_p999_ms", title: "p99.9 [ms]", value: |s| ms(s.latency_seconds.p999), shown: (1.0, 1), compact: true },
    // A fraction in the CSV (as in summary.json), a percentage for people.
    Column { csv: "utilization", title: "util. [%]", value: |s| Cell::Number(Some(s.utilization)), shown: (100.0, 1), compact: true },
    Column { csv: "mean_instances", title: "mean inst.", value: |s| Cell::Number(Some(s.instances.mean)), shown: (1.0, 1), compact: true },
    Column { csv: "peak_instances", title: "peak inst.", value: |s| Cell::Count(s.instances.max), shown: COUNT, compact: false },
    Column { csv: "cost_usd", title: "cost [USD]", value: |s| Cell::Number(Some(s.cost_usd.total)), shown: (1.0, 2), compact: true },
    Column {
        csv: "cost_per_1k_completed_usd",
        title: "USD per 1k completed",
        value: |s| Cell::Number(ratio(s.cost_usd.total * 1000.0, s.requests.completed)),
        shown: (1.0, 4),
        compact: false,
    },
    // The run's cost projected to a 30-day month (`cost_usd.monthly`).
    Column { csv: "monthly_cost_usd", title: "USD / month", value: |s| Cell::Number(Some(s.cost_usd.monthly)), shown: (1.0, 0), compact: false },
    // Spot's share of the instance cost (not of balancers or transfer).
    Column {
        csv: "spot_share_pct",
        title: "spot [%]",
        value: |s| {
            let p = s.cost_usd.by_purchase_option;
            let instances = p.on_demand + p.spot;
            Cell::Number((instances > 0.0).then(|| p.spot * 100.0 / instances))
        },
        shown: (1.0, 1),
        compact: false,
    },
    Column { csv: "cost_per_good_request_usd", title: "USD per good req.", value: |s| Cell::Number(s.cost_usd.per_good_request), shown: (1.0, 6), compact: false },
    // Token-based runs only (empty otherwise): time to first token and per output token.
    Column { csv: "ttft_p50_ms", title: "TTFT p50 [ms]", value: |s| ms(s.tokens.as_ref().and_then(|t| t.ttft_seconds.p50)), shown: (1.0, 1), compact: false },
    Column { csv: "ttft_p99_ms", title: "TTFT p99 [ms]", value: |s| ms(s.tokens.as_ref().and_then(|t| t.ttft_seconds.p99)), shown: (1.0, 1), compact: false },
    Column { csv: "tpot_p50_ms", title: "TPOT p50 [ms]", value: |s| ms(s.tokens.as_ref().and_then(|t| t.tpot_seconds.p50)), shown: (1.0, 1), compact: false },
];

/// The columns whose change against the base the Markdown and terminal tables show.
const VERSUS_BASE: &[(&str, &str)] = &[("latency_p99_ms", "Δ p99 [%]"), ("cost_usd", "Δ cost [%]")];

/// The CSV header, in column order.
pub fn comparison_columns() -> Vec<&'static str> {
    std::iter::once("variant")
        .chain(COLUMNS.iter().map(|c| c.csv))
        .collect()
}

/// `comparison.csv`: a header, then one row per run, every value exact; with replications, a
/// `<column>_ci95` half-width after each column.
pub fn comparison_csv(rows: &[ComparisonRow<'_>]) -> Vec<u8> {
    let replicated = rows.iter().any(|r| r.replicated);
    let mut out = String::from("variant");
    for c in COLUMNS {
        let _ = write!(out, ",{}", c.csv);
        if replicated {
            let _ = write!(out, ",{}_ci95", c.csv);
        }
    }
    out.push('\n');
    // Shortest representation that reads back exactly: deterministic and lossless.
    let number = |out: &mut String, v: Option<f64>| {
        if let Some(v) = v {
            let _ = write!(out, "{v}");
        }
    };
    for row in rows {
        // Names are letters, digits and `_-.+=` (the scenario reader and the grid check): no
        // quoting; but one may start with `-`, so it is neutralised as every text cell is.
        out.push_str(&super::csv_cell::text(row.name));
        for (cell, half_width) in &row.cells {
            out.push(',');
            match cell {
                Cell::Count(n) => {
                    let _ = write!(out, "{n}");
                }
                Cell::Number(v) => number(&mut out, *v),
            }
            if replicated {
                out.push(',');
                number(&mut out, *half_width);
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// `comparison.md`: a caption and a Markdown table a reviewer can paste, numbers rounded, with
/// the change of p99 latency and cost against the base (the first row).
pub fn comparison_markdown(rows: &[ComparisonRow<'_>]) -> Vec<u8> {
    let table = table(rows, false);
    let mut out = String::new();
    if let Some(base) = rows.first() {
        let _ = writeln!(out, "{}\n", caption(base, rows));
    }
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    out.push_str(&line(&table.header));
    let rule: Vec<String> = (0..table.header.len())
        .map(|i| if i == 0 { ":---" } else { "---:" }.to_string())
        .collect();
    out.push_str(&line(&rule));
    for row in &table.rows {
        out.push_str(&line(row));
    }
    out.into_bytes()
}

/// A compact side-by-side table for the terminal: the main columns, aligned.
pub fn comparison_text(rows: &[ComparisonRow<'_>]) -> String {
    let table = table(rows, true);
    let widths: Vec<usize> = (0..table.header.len())
        .map(|i| {
            std::iter::once(&table.header)
                .chain(&table.rows)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&table.header).chain(&table.rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(width - cell.chars().count());
            if i == 0 {
                let _ = write!(line, "{cell}{pad}");
            } else {
                let _ = write!(line, "  {pad}{cell}");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Says what the rows share: the scenario, and the seeds when they are common (then every run
/// saw the same requests, unless a variant changed the traffic).
pub(crate) fn caption(base: &ComparisonRow<'_>, rows: &[ComparisonRow<'_>]) -> String {
    let same_seeds = rows.iter().all(|r| r.seeds == base.seeds);
    let list = |seeds: &[u64]| match seeds {
        [one] => one.to_string(),
        [first, .., last] => format!("{first}..{last}"),
        [] => String::new(),
    };
    let seed = match (same_seeds, base.seeds.len()) {
        (true, 1) => format!("seed {} for every run", list(&base.seeds)),
        (true, r) => format!(
            "{r} replications per run, seeds {} for every run; mean ± half-width of the 95 % \
             confidence interval",
            list(&base.seeds)
        ),
        (false, _) => {
            let seeds: Vec<String> = rows
                .iter()
                .map(|r| format!("{} {}", r.name, list(&r.seeds)))
                .collect();
            format!("seeds {}", seeds.join(", "))
        }
    };
    format!(
        "Scenario `{}`: {} runs, {seed}. Latency of completed requests; errors: failed / arrived; \
         util.: busy / all slots, time-averaged; Δ: change against `{}`.",
        base.scenario,
        rows.len(),
        base.name
    )
}

/// Header and cells, rounded for people.
pub(crate) struct Table {
    /// Column titles, the run's name first.
    pub(crate) header: Vec<String>,
    /// One row of cells per run.
    pub(crate) rows: Vec<Vec<String>>,
}

/// The cells, rounded for people (also used by the report's HTML and Markdown).
pub(crate) fn table(rows: &[ComparisonRow<'_>], compact: bool) -> Table {
    let columns: Vec<usize> = (0..COLUMNS.len())
        .filter(|&i| !compact || COLUMNS[i].compact)
        .collect();
    let versus: Vec<(usize, &str)> = VERSUS_BASE
        .iter()
        .filter_map(|(csv, title)| {
            COLUMNS
                .iter()
                .position(|c| c.csv == *csv)
                .map(|i| (i, *title))
        })
        .collect();
    let header = std::iter::once("variant")
        .chain(columns.iter().map(|&i| COLUMNS[i].title))
        .chain(versus.iter().map(|(_, t)| *t))
        .map(String::from)
        .collect();
    let base = rows.first();
    let rows = rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let mut cells = vec![row.name.to_string()];
            cells.extend(columns.iter().map(|&i| shown(&COLUMNS[i], row.cells[i])));
            for &(i, _) in &versus {
                let change = match (base, r) {
                    (Some(b), 1..) => relative_change(row.cells[i].0, b.cells[i].0),
                    _ => None,
                };
                cells.push(change.map_or_else(|| "—".into(), |p| format!("{p:+.1}")));
            }
            cells
        })
        .collect();
    Table { header, rows }
}

fn shown(column: &Column, (cell, half_width): (Cell, Option<f64>)) -> String {
    let (scale, decimals) = column.shown;
    let value = match cell {
        Cell::Count(n) => n.to_string(),
        Cell::Number(Some(v)) => format!("{:.*}", decimals, v * scale),
        Cell::Number(None) => "—".into(),
    };
    match half_width {
        Some(h) => format!("{value} ± {:.*}", decimals, h * scale),
        None => value,
    }
}

fn as_f64(c: Cell) -> Option<f64> {
    match c {
        Cell::Count(n) => Some(n as f64),
        Cell::Number(v) => v,
    }
}

/// `(value / base − 1) × 100`; undefined if either is undefined or the base is 0.
fn relative_change(value: Cell, base: Cell) -> Option<f64> {
    let (v, b) = (as_f64(value)?, as_f64(base)?);
    (b != 0.0).then(|| (v / b - 1.0) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::InstanceSummary;

    /// The gates' fixture as a one-minute run: 5 rejected, one instance, a 720th of a month per
    /// run's cost, a quarter of it spot.
    fn summary(completed: u64, p99: Option<f64>, cost: f64) -> Summary {
        let mut s = crate::gates::fixtures::summary(completed, p99, cost);
        s.simulated_seconds = 60.0;
        s.requests.timed_out = 1000 - completed - 5;
        s.requests.rejected = 5;
        s.instances = InstanceSummary {
            mean: 1.0,
            max: 1,
            instance_hours: 1.0,
            by_pool: Default::default(),
        };
        s.cost_usd.monthly = cost * 720.0;
        s.cost_usd.by_purchase_option = crate::metrics::PurchaseCost {
            on_demand: cost * 0.75,
            spot: cost * 0.25,
        };
        s
    }

    #[test]
    fn csv_holds_exact_values_and_empty_cells_for_undefined_ones() {
        let (a, b) = (summary(990, Some(0.25), 2.0), summary(0, None, 3.0));
        let text = String::from_utf8(comparison_csv(&[
            ComparisonRow::single("base", &a),
            ComparisonRow::single("none", &b),
        ]))
        .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "variant,arrived,completed,timed_out,rejected,no_healthy_target,server_error,\
             connect_failed,interrupted,in_flight_at_end,retries,error_rate_pct,latency_mean_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_p999_ms,\
             utilization,mean_instances,peak_instances,cost_usd,cost_per_1k_completed_usd,\
             monthly_cost_usd,spot_share_pct,cost_per_good_request_usd,ttft_p50_ms,ttft_p99_ms,tpot_p50_ms"
        );
        // 990 completed of 1000: 5 timed out + 5 rejected = 1 % errors; p99 0.25 s = 250 ms,
        // mean 125, p50 62.5, p90 0.25 / 1.5 s, p99.9 500; $2 per 990 completed = 2000/990 per 1k.
        let p90 = 0.25 / 1.5 * 1e3;
        let per_1k = 2.0 * 1000.0 / 990.0;
        assert_eq!(
            lines[1],
            format!(
                "base,1000,990,5,5,0,0,0,0,0,0,1,125,62.5,{p90},250,500,0.5,1,1,2,{per_1k},1440,25,,,,"
            )
        );
        // Nothing completed: no latency, no cost per completed request; 100 % errors.
        assert_eq!(
            lines[2],
            "none,1000,0,995,5,0,0,0,0,0,0,100,,,,,,0.5,1,1,3,,2160,25,,,,"
        );
        assert_eq!(lines.len(), 3);
        // A token-based run fills the last three: TTFT p50 and p99, TPOT p50, in ms.
        let mut t = a.clone();
        t.tokens = Some(crate::metrics::TokenSummary {
            ttft_seconds: crate::metrics::LatencySummary {
                p50: Some(0.125),
                p99: Some(0.5),
                ..Default::default()
            },
            tpot_seconds: crate::metrics::LatencySummary {
                p50: Some(0.03125),
                ..Default::default()
            },
            ..Default::default()
        });
        let text = String::from_utf8(comparison_csv(&[ComparisonRow::single("t", &t)])).unwrap();
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with(",1440,25,,125,500,31.25"),
            "{text}"
        );
    }

    #[test]
    fn markdown_compares_p99_and_cost_with_the_first_row() {
        let (a, b) = (summary(990, Some(0.2), 2.0), summary(990, Some(0.3), 1.5));
        let text = String::from_utf8(comparison_markdown(&[
            ComparisonRow::single("base", &a),
            ComparisonRow::single("v", &b),
        ]))
        .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("Scenario `s`: 2 runs, seed 7 for every run."));
        let header: Vec<&str> = lines[2].split(" | ").collect();
        assert_eq!(header.len(), comparison_columns().len() + VERSUS_BASE.len());
        assert_eq!(lines[3].matches("---:").count(), header.len() - 1);
        // p99 300 ms vs 200 ms: +50 %; cost $1.5 vs $2: −25 %. The base compares with nothing.
        assert!(lines[4].ends_with("| — | — |"), "{}", lines[4]);
        assert!(lines[5].ends_with("| +50.0 | -25.0 |"), "{}", lines[5]);
        assert!(lines[5].contains("| 300.0 |"), "{}", lines[5]);
        assert!(
            lines[5].contains("| 50.0 |"),
            "utilization as %: {}",
            lines[5]
        );
    }

    #[test]
    fn replicated_rows_show_means_and_half_widths() {
        // p99 of 0.2 s and 0.4 s: mean 300 ms, std 141.42 ms, half-width
        // t(0.975, 1) × 141.42 / √2 = 12.7062 × 100 = 1270.6 ms.
        let runs = [summary(990, Some(0.2), 2.0), summary(990, Some(0.4), 2.0)];
        let a = Aggregate::of("base", &runs);
        let text = String::from_utf8(comparison_csv(&[ComparisonRow::replicated(
            "base", "s", &a,
        )]))
        .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let header: Vec<&str> = lines[0].split(',').collect();
        let cells: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(header.len(), 1 + 2 * COLUMNS.len());
        let at = header.iter().position(|h| *h == "latency_p99_ms").unwrap();
        assert_eq!(header[at + 1], "latency_p99_ms_ci95");
        assert_eq!(cells[at].parse::<f64>().unwrap(), 300.0);
        let hw: f64 = cells[at + 1].parse().unwrap();
        assert!((hw - 1_270.620_473_6).abs() < 1e-3, "{hw}");
        // Equal costs: a zero half-width, written as such.
        let cost = header.iter().position(|h| *h == "cost_usd").unwrap();
        assert_eq!((cells[cost], cells[cost + 1]), ("2", "0"));
        let md = String::from_utf8(comparison_markdown(&[ComparisonRow::replicated(
            "base", "s", &a,
        )]))
        .unwrap();
        assert!(md.contains("2 replications per run, seeds 7..7"), "{md}");
        assert!(md.contains("| 300.0 ± 1270.6 |"), "{md}");
    }

    #[test]
    fn terminal_table_is_aligned() {
        let (a, b) = (summary(990, Some(0.2), 2.0), summary(990, None, 1.5));
        let text = comparison_text(&[
            ComparisonRow::single("base", &a),
            ComparisonRow::single("longer_name", &b),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        // Right-aligned columns end at the same character position on every line.
        let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{text}");
        assert!(lines[0].starts_with("variant    "), "{text}");
    }
}
