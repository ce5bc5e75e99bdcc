//! `comparison.csv` and `comparison.md`: the base and its variants side by side, one row each,
//! and the compact table printed on the terminal after a run of variants.
//!
//! Formatting only (as hyperfine's `src/export/`): the functions return bytes or text, and
//! [`super::write_comparison`] writes them. The columns, their order, titles, rounding and
//! where each is shown are [`COMPARISON`]'s (`crate::metrics::columns`): a new column is one line
//! there. It must not know how the numbers were produced.
//!
//! The CSV holds the numbers exactly (shortest representation that reads back to the same
//! `f64`; an empty cell where a value is undefined); the Markdown rounds them for people and adds
//! the change of p99 latency and cost against the base (the first row). A run of several
//! replications shows the mean of each column and, after it, the half-width of its 95 %
//! confidence interval (`<column>_ci95` in the CSV, `± h` for people).

use std::fmt::Write as _;

use crate::metrics::columns::{ComparisonColumn, Value, COMPARISON};
use crate::metrics::{Aggregate, Summary};

/// A run's name and its summary (one replication), as the report's charts and pages take them.
pub type RunSummary<'a> = (&'a str, &'a Summary);

/// One row: a run's name and its values. The first row given is the base.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow<'a> {
    name: &'a str,
    scenario: &'a str,
    seeds: Vec<u64>,
    /// Each column's value and, across replications, its 95 % half-width.
    cells: Vec<(Value, Option<f64>)>,
    replicated: bool,
    /// The run has an LLM engine (and so values in the engine-only columns).
    engine: bool,
}

impl<'a> ComparisonRow<'a> {
    /// A run of one replication.
    pub fn single(name: &'a str, s: &'a Summary) -> Self {
        ComparisonRow {
            name,
            scenario: &s.scenario,
            seeds: vec![s.seed],
            cells: COMPARISON.iter().map(|c| ((c.value)(s), None)).collect(),
            replicated: false,
            engine: s.engines.is_some(),
        }
    }

    /// A run of several replications of scenario `scenario`: means and half-widths.
    pub fn replicated(name: &'a str, scenario: &'a str, a: &Aggregate) -> Self {
        ComparisonRow {
            name,
            scenario,
            seeds: a.seeds.clone(),
            cells: COMPARISON
                .iter()
                .map(|c| {
                    let m = a.metric(c.name);
                    (
                        Value::Number(m.and_then(|m| m.mean)),
                        m.and_then(|m| m.half_width),
                    )
                })
                .collect(),
            replicated: true,
            // Its aggregate has the engine-only metrics if its runs had an engine.
            engine: COMPARISON
                .iter()
                .any(|c| c.engine_only && a.metric(c.name).is_some()),
        }
    }
}

/// The columns shown for `rows`, by index in [`COMPARISON`]: all, but the engine-only ones
/// only when some run has an LLM engine.
fn shown_columns(rows: &[ComparisonRow<'_>]) -> Vec<usize> {
    let engines = rows.iter().any(|r| r.engine);
    (0..COMPARISON.len())
        .filter(|&i| COMPARISON[i].shown_with(engines))
        .collect()
}

/// The comparison rows of single runs.
pub(crate) fn single_rows<'a>(runs: &[RunSummary<'a>]) -> Vec<ComparisonRow<'a>> {
    runs.iter()
        .map(|(n, s)| ComparisonRow::single(n, s))
        .collect()
}

/// The CSV header of runs without an LLM engine, in column order (runs with one have the
/// engine-only columns too, in their places).
pub fn comparison_columns() -> Vec<&'static str> {
    std::iter::once("variant")
        .chain(
            COMPARISON
                .iter()
                .filter(|c| c.shown_with(false))
                .map(|c| c.name),
        )
        .collect()
}

/// `comparison.csv`: a header, then one row per run, every value exact; with replications, a
/// `<column>_ci95` half-width after each column.
pub fn comparison_csv(rows: &[ComparisonRow<'_>]) -> Vec<u8> {
    let replicated = rows.iter().any(|r| r.replicated);
    let columns = shown_columns(rows);
    let mut out = String::from("variant");
    for c in columns.iter().map(|&i| &COMPARISON[i]) {
        let _ = write!(out, ",{}", c.name);
        if replicated {
            let _ = write!(out, ",{}_ci95", c.name);
        }
    }
    out.push('\n');
    for row in rows {
        // Names are letters, digits and `_-.+=` (the scenario reader and the grid check): no
        // quoting; but one may start with `-`, so it is neutralised as every text cell is.
        out.push_str(&super::csv_cell::text(row.name));
        for (cell, half_width) in columns.iter().map(|&i| &row.cells[i]) {
            out.push(',');
            super::csv_cell::push_value(&mut out, *cell);
            if replicated {
                out.push(',');
                super::csv_cell::push_value(&mut out, Value::Number(*half_width));
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// `comparison.md`: a caption and a Markdown table a reviewer can paste, numbers rounded, with
/// the change of p99 latency and cost against the base (the first row).
pub fn comparison_markdown(rows: &[ComparisonRow<'_>]) -> Vec<u8> {
    let table = table(rows, |_| true, true);
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

/// A compact side-by-side table for the terminal: the main columns (those marked `compact`),
/// aligned.
pub fn comparison_text(rows: &[ComparisonRow<'_>]) -> String {
    let table = table(rows, |c| c.compact, true);
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

/// The cells, rounded for people (also used by the report's HTML and Markdown): the columns
/// `show` picks, then, with `versus_base`, the change against the first row of each column
/// that has one ([`ComparisonColumn::versus_base`]).
pub(crate) fn table(
    rows: &[ComparisonRow<'_>],
    show: impl Fn(&ComparisonColumn) -> bool,
    versus_base: bool,
) -> Table {
    let columns: Vec<usize> = shown_columns(rows)
        .into_iter()
        .filter(|&i| show(&COMPARISON[i]))
        .collect();
    let versus: Vec<(usize, &str)> = COMPARISON
        .iter()
        .enumerate()
        .filter(|_| versus_base)
        .filter_map(|(i, c)| c.versus_base.map(|title| (i, title)))
        .collect();
    let header = std::iter::once("variant")
        .chain(columns.iter().map(|&i| COMPARISON[i].title))
        .chain(versus.iter().map(|(_, t)| *t))
        .map(String::from)
        .collect();
    let base = rows.first();
    let rows = rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let mut cells = vec![row.name.to_string()];
            cells.extend(columns.iter().map(|&i| shown(&COMPARISON[i], row.cells[i])));
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

/// A value for people: scaled and rounded as its column says, `—` where undefined.
fn shown(column: &ComparisonColumn, (cell, half_width): (Value, Option<f64>)) -> String {
    let (scale, decimals) = (column.scale, column.decimals);
    let value = match cell {
        Value::Count(n) => n.to_string(),
        Value::Number(Some(v)) => format!("{:.*}", decimals, v * scale),
        Value::Number(None) => "—".into(),
    };
    match half_width {
        Some(h) => format!("{value} ± {:.*}", decimals, h * scale),
        None => value,
    }
}

/// `(value / base − 1) × 100`; undefined if either is undefined or the base is 0.
fn relative_change(value: Value, base: Value) -> Option<f64> {
    let (v, b) = (value.as_f64()?, base.as_f64()?);
    (b != 0.0).then(|| (v / b - 1.0) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::InstanceSummary;

    /// The gates' fixture as a one-minute run: 5 rejected, one instance, a 720th of a month per
    /// run's cost, a quarter of it spot.
    fn summary(completed: u64, p99: Option<f64>, cost: f64) -> Summary {
        let mut s = crate::metrics::fixtures::summary(completed, p99, cost);
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
        let versus = COMPARISON
            .iter()
            .filter(|c| c.versus_base.is_some())
            .count();
        assert_eq!(header.len(), comparison_columns().len() + versus);
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

    /// Runs with an LLM engine add the engine-only columns, single or replicated; a
    /// comparison without one keeps the columns it always had.
    #[test]
    fn engine_runs_add_the_engine_columns() {
        let plain = summary(990, Some(0.2), 2.0);
        let mut engine = plain.clone();
        let mut e = crate::metrics::EngineSummary {
            preemptions: 7,
            ..Default::default()
        };
        for (name, rate) in [("a", 100.0), ("b", 25.5)] {
            e.by_instance_type.insert(
                name.into(),
                crate::metrics::EngineTypeSummary {
                    generated_tokens_per_second: rate,
                    ..Default::default()
                },
            );
        }
        engine.engines = Some(e);
        engine.tokens = Some(crate::metrics::TokenSummary {
            queueing_seconds: Some(crate::metrics::LatencySummary {
                p50: Some(0.25),
                p99: Some(1.5),
                ..Default::default()
            }),
            ..Default::default()
        });
        let csv = |rows: &[ComparisonRow<'_>]| String::from_utf8(comparison_csv(rows)).unwrap();
        let text = csv(&[ComparisonRow::single("p", &plain)]);
        assert_eq!(text.lines().next().unwrap(), comparison_columns().join(","));
        let text = csv(&[
            ComparisonRow::single("p", &plain),
            ComparisonRow::single("e", &engine),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        let tail = ",queueing_p50_ms,queueing_p99_ms,generated_tokens_per_second,preemptions";
        assert!(lines[0].ends_with(tail), "{}", lines[0]);
        assert!(lines[1].ends_with(",,,,0"), "{}", lines[1]);
        assert!(lines[2].ends_with(",250,1500,125.5,7"), "{}", lines[2]);
        // Replicated: the aggregate has the engine's metrics, the comparison their columns.
        let a = Aggregate::of("e", &[engine.clone(), engine]);
        assert_eq!(a.metric("preemptions").and_then(|m| m.mean), Some(7.0));
        let text = csv(&[ComparisonRow::replicated("e", "s", &a)]);
        assert!(text
            .lines()
            .next()
            .unwrap()
            .ends_with(",preemptions,preemptions_ci95"));
        let a = Aggregate::of("p", std::slice::from_ref(&plain));
        assert!(a.metric("preemptions").is_none());
        let md = String::from_utf8(comparison_markdown(&[ComparisonRow::single("p", &plain)]));
        assert!(!md.unwrap().contains("preemptions"));
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
        // No engine: the engine-only columns are left out.
        assert_eq!(header.len(), 1 + 2 * (comparison_columns().len() - 1));
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
