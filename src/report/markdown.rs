//! `summary.md`: the headline numbers of a result folder in a few lines of Markdown, for a
//! pull-request comment or a CI job summary (GitHub's `$GITHUB_STEP_SUMMARY`).
//!
//! Formatting only. The table is `comparison.md`'s digest columns
//! (`crate::metrics::columns::ComparisonColumn::digest`: requests, errors, latency, fleet,
//! cost), rounded and compared with the base by the same code (`super::comparison`), so the two
//! files never disagree.

use std::fmt::Write as _;

use super::comparison::{caption, table};
use super::RunSummary;

/// What `summary.md` says.
pub struct MarkdownSummary<'a> {
    /// The runs, base first.
    pub rows: &'a [RunSummary<'a>],
    /// The table's rows: single runs, or means ± half-widths across replications.
    pub table_rows: &'a [super::ComparisonRow<'a>],
    /// A note on replications, if the folder has any.
    pub replication_note: Option<&'a str>,
}

/// `summary.md`.
pub fn summary_markdown(input: &MarkdownSummary<'_>) -> String {
    let rows = input.rows;
    let mut out = String::new();
    let Some(&(_, base)) = rows.first() else {
        return "No runs.\n".into();
    };
    let _ = writeln!(out, "### fleetsim: `{}`\n", base.scenario);
    let variants = rows.len() > 1;
    if variants {
        let _ = writeln!(out, "{}\n", caption(&input.table_rows[0], input.table_rows));
    } else {
        let _ = writeln!(
            out,
            "Scenario `{}`, seed {}, {} simulated. Latency of completed requests; errors: failed / arrived.\n",
            base.scenario,
            base.seed,
            super::charts::style::duration(base.simulated_seconds)
        );
    }
    if let Some(note) = input.replication_note {
        let _ = writeln!(out, "{note}\n");
    }
    // The change against the base only when there is more than the base.
    let t = table(input.table_rows, |c| c.digest, variants);
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut header = t.header;
    header[0] = "run".into();
    out.push_str(&line(&header));
    let rule: Vec<String> = (0..header.len())
        .map(|i| if i == 0 { ":---" } else { "---:" }.to_string())
        .collect();
    out.push_str(&line(&rule));
    for row in &t.rows {
        // Names are letters, digits, '_', '-' and '.' (the scenario reader checks): no escaping.
        out.push_str(&line(row));
    }
    if variants {
        let _ = writeln!(out, "\n{}", best(rows));
    } else if base.requests.failed() > 0 {
        let reasons: Vec<String> = crate::metrics::Failure::ALL
            .iter()
            .filter(|&&f| base.requests.failure(f) > 0)
            .map(|&f| {
                format!(
                    "{} {}",
                    f.name().replace('_', " "),
                    base.requests.failure(f)
                )
            })
            .collect();
        let _ = writeln!(out, "\nFailures: {}.", reasons.join(", "));
    }
    out.push_str(&engines(rows));
    out.push_str("\nCharts and every number: `report.html` beside this file.\n");
    out
}

/// The LLM engines' throughput per run and instance type (`summary.json`'s
/// `engines.by_instance_type`), after the warm-up; empty when no run has an engine.
fn engines(rows: &[RunSummary<'_>]) -> String {
    let mut out = String::new();
    for (run, s) in rows {
        let Some(e) = &s.engines else { continue };
        if out.is_empty() {
            out.push_str(
                "\nLLM engines, after the warm-up (tokens per second of all the type's instances together):\n\n\
                 | run | instance type | generated tokens/s | prompt tokens/s | preemptions |\n\
                 | :--- | :--- | ---: | ---: | ---: |\n",
            );
        }
        for (itype, t) in &e.by_instance_type {
            let _ = writeln!(
                out,
                "| {run} | {itype} | {:.1} | {:.1} | {} |",
                t.generated_tokens_per_second, t.prompt_tokens_per_second, t.preemptions
            );
        }
    }
    out
}

/// One line naming the run with the fewest errors, the lowest p99 and the lowest cost.
fn best(rows: &[RunSummary<'_>]) -> String {
    let pick = |key: &dyn Fn(&crate::metrics::Summary) -> Option<f64>| {
        rows.iter()
            .filter_map(|(n, s)| key(s).map(|k| (*n, k)))
            // The first of equals wins: deterministic, and the base when it ties.
            .fold(None::<(&str, f64)>, |best, (n, k)| match best {
                Some((_, b)) if b <= k => best,
                _ => Some((n, k)),
            })
            .map_or_else(|| "—".to_string(), |(n, _)| format!("`{n}`"))
    };
    let errors = |s: &crate::metrics::Summary| {
        (s.requests.arrived > 0).then(|| s.requests.failed() as f64 / s.requests.arrived as f64)
    };
    format!(
        "Fewest errors: {}; lowest p99: {} (of completed requests only); cheapest: {}.",
        pick(&errors),
        pick(&|s| s.latency_seconds.p99),
        pick(&|s| Some(s.cost_usd.total)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Summary;

    fn summary(failed: u64, p99: f64, cost: f64) -> Summary {
        let mut s: Summary = serde_json::from_str(crate::report::html::tests::SUMMARY).unwrap();
        s.requests.completed = 100 - failed;
        s.requests.timed_out = failed;
        s.requests.rejected = 0;
        s.latency_seconds.p99 = Some(p99);
        s.cost_usd.total = cost;
        s
    }

    #[test]
    fn variants_give_a_compact_table_against_the_base() {
        let (a, b, c) = (
            summary(10, 2.0, 4.0),
            summary(0, 3.0, 5.0),
            summary(50, 1.0, 2.0),
        );
        let rows = [("base", &a), ("bigger", &b), ("smaller", &c)];
        let table_rows = crate::report::comparison::single_rows(&rows);
        let md = summary_markdown(&MarkdownSummary {
            rows: &rows,
            table_rows: &table_rows,
            replication_note: None,
        });
        let expected = "\
### fleetsim: `s`

Scenario `s`: 3 runs, seed 7 for every run. Latency of completed requests; errors: failed / arrived; util.: busy / all slots, time-averaged; Δ: change against `base`.

| run | arrived | errors [%] | p50 [ms] | p99 [ms] | mean inst. | cost [USD] | Δ p99 [%] | Δ cost [%] |
| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| base | 100 | 10.00 | 250.0 | 2000.0 | 2.0 | 4.00 | — | — |
| bigger | 100 | 0.00 | 250.0 | 3000.0 | 2.0 | 5.00 | +50.0 | +25.0 |
| smaller | 100 | 50.00 | 250.0 | 1000.0 | 2.0 | 2.00 | -50.0 | -50.0 |

Fewest errors: `bigger`; lowest p99: `smaller` (of completed requests only); cheapest: `smaller`.

Charts and every number: `report.html` beside this file.
";
        assert_eq!(md, expected);
    }

    #[test]
    fn a_single_run_lists_its_failures_and_no_comparison() {
        let a = summary(10, 2.0, 4.0);
        let rows = [("s", &a)];
        let note = "Replications: 3; numbers are from `rep-1`.";
        let table_rows = crate::report::comparison::single_rows(&rows);
        let md = summary_markdown(&MarkdownSummary {
            rows: &rows,
            table_rows: &table_rows,
            replication_note: Some(note),
        });
        let expected = "\
### fleetsim: `s`

Scenario `s`, seed 7, 60 s simulated. Latency of completed requests; errors: failed / arrived.

Replications: 3; numbers are from `rep-1`.

| run | arrived | errors [%] | p50 [ms] | p99 [ms] | mean inst. | cost [USD] |
| :--- | ---: | ---: | ---: | ---: | ---: | ---: |
| s | 100 | 10.00 | 250.0 | 2000.0 | 2.0 | 4.00 |

Failures: timed out 10.

Charts and every number: `report.html` beside this file.
";
        assert_eq!(md, expected);
    }

    #[test]
    fn runs_with_engines_show_their_tokens_per_second() {
        let mut a = summary(0, 2.0, 4.0);
        let mut e = crate::metrics::EngineSummary::default();
        e.by_instance_type.insert(
            "g6e.xlarge".into(),
            crate::metrics::EngineTypeSummary {
                generated_tokens_per_second: 1234.56,
                prompt_tokens_per_second: 5000.0,
                preemptions: 3,
                ..Default::default()
            },
        );
        a.engines = Some(e);
        let b = summary(0, 2.0, 4.0);
        let rows = [("base", &a), ("no_engine", &b)];
        let table_rows = crate::report::comparison::single_rows(&rows);
        let md = summary_markdown(&MarkdownSummary {
            rows: &rows,
            table_rows: &table_rows,
            replication_note: None,
        });
        assert!(
            md.contains(
                "| run | instance type | generated tokens/s | prompt tokens/s | preemptions |\n\
                 | :--- | :--- | ---: | ---: | ---: |\n\
                 | base | g6e.xlarge | 1234.6 | 5000.0 | 3 |\n\nCharts"
            ),
            "{md}"
        );
        // Without an engine, nothing of it.
        let rows = [("no_engine", &b)];
        let table_rows = crate::report::comparison::single_rows(&rows);
        let md = summary_markdown(&MarkdownSummary {
            rows: &rows,
            table_rows: &table_rows,
            replication_note: None,
        });
        assert!(!md.contains("LLM engines"), "{md}");
    }
}
