//! The review report of a result folder: charts (SVG and PNG), `report.html` and `summary.md`,
//! made from the files a run wrote, so that `fleetsim report DIR` remakes them at any time.
//!
//! What goes where (`docs/metrics.md`, "Charts and report"):
//! - per run, in its folder's `charts/`: `timeline` and `instances`;
//! - for the folder, in `DIR/charts/`: `latency`, `cost` and, with two runs or more,
//!   `p99_vs_cost`;
//! - `DIR/report.html`, `DIR/summary.md`.
//!
//! Every file is written atomically. Charts are drawn in parallel and gathered in run order, so
//! the bytes do not depend on the number of threads. Memory stays bounded: a timeline is read as
//! a stream into at most [`MAX_POINTS`] points.

use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::charts::cost::CostChart;
use super::charts::instances::InstancesChart;
use super::charts::latency::LatencyChart;
use super::charts::timeline::TimelineChart;
use super::charts::tradeoff::TradeoffChart;
use super::charts::{render, Rendered};
use super::error::ReportError;
use super::html::{report_html, InlineChart, Page, RunSection};
use super::markdown::{summary_markdown, MarkdownSummary};
use super::results_dir::{ResultsDir, RunDir, SCENARIO_FILE};
use super::timeline_points::{read_timeline, MAX_POINTS};
use super::{atomic, ComparisonRow, RunSummary};
use crate::metrics::Aggregate;

/// The folder charts go to, inside a result folder and inside each run's folder.
pub const CHARTS_DIR: &str = crate::layout::CHARTS_DIR;

/// A chart ready to write: its file stem, its drawings and its caption.
struct Drawn {
    stem: &'static str,
    rendered: Rendered,
    caption: String,
}

/// Copies the scenario file's text into `dir` as `scenario.toml`, where the report (and a later
/// `fleetsim report DIR`, or `fleetsim merge` of shards) finds it.
pub fn keep_scenario(dir: &Path, scenario_file: &Path) -> Result<(), ReportError> {
    let text = std::fs::read(scenario_file).map_err(|error| ReportError::Scenario {
        path: scenario_file.to_path_buf(),
        error,
    })?;
    Ok(atomic::write(&dir.join(SCENARIO_FILE), &text)?)
}

/// Writes the charts, `report.html` and `summary.md` of the result folder `dir`, and returns the
/// path of `report.html`. With `scenario_file`, its text is first kept in the folder as
/// `scenario.toml` (the page echoes it; `fleetsim report DIR` finds it there later).
pub fn write_report(dir: &Path, scenario_file: Option<&Path>) -> Result<PathBuf, ReportError> {
    if let Some(file) = scenario_file {
        keep_scenario(dir, file)?;
    }
    let results = read_results(dir)?;
    let rows: Vec<RunSummary<'_>> = results
        .runs
        .iter()
        .map(|r| (r.name.as_str(), &r.summary))
        .collect();
    let (per_run, comparison) = rayon::join(
        || {
            results
                .runs
                .par_iter()
                .map(|run| run_charts(run, &results))
                .collect::<Vec<_>>()
        },
        || comparison_charts(&rows, &results),
    );
    let per_run = per_run
        .into_iter()
        .collect::<io::Result<Vec<Vec<Drawn>>>>()?;
    let comparison = comparison?;

    write_charts(&dir.join(CHARTS_DIR), &comparison)?;
    for (run, drawn) in results.runs.iter().zip(&per_run) {
        write_charts(&run.dir.join(CHARTS_DIR), drawn)?;
    }

    let note = replication_note(&results);
    let inline = |drawn: &[Drawn]| -> Vec<InlineChart> {
        drawn
            .iter()
            .map(|d| InlineChart {
                svg: d.rendered.svg.clone(),
                caption: d.caption.clone(),
            })
            .collect()
    };
    // The tables: with every run replicated, means ± half-widths from `aggregate.json`.
    let table_rows: Vec<ComparisonRow<'_>> = if results.runs.iter().all(|r| r.aggregate.is_some()) {
        results
            .runs
            .iter()
            .map(|r| {
                let a = r.aggregate.as_ref().expect("checked");
                ComparisonRow::replicated(&r.name, &r.summary.scenario, a)
            })
            .collect()
    } else {
        super::comparison::single_rows(&rows)
    };
    let page = Page {
        scenario: &rows[0].1.scenario,
        comparison: &rows,
        table_rows: &table_rows,
        has_variants: results.has_variants,
        comparison_charts: inline(&comparison),
        runs: results
            .runs
            .iter()
            .zip(&per_run)
            .map(|(run, drawn)| RunSection {
                name: &run.name,
                summary: &run.summary,
                charts: inline(drawn),
                scaling_events: &run.scaling_events,
                scaling_event_count: run.scaling_event_count,
                data_path: relative_data_path(&results.root, run),
            })
            .collect(),
        replication_note: note.clone(),
        scenario_text: results.scenario_text.as_deref(),
    };
    let html_path = dir.join(crate::layout::REPORT_HTML);
    atomic::write(&html_path, report_html(&page).as_bytes())?;
    let md = summary_markdown(&MarkdownSummary {
        rows: &rows,
        table_rows: &table_rows,
        replication_note: note.as_deref(),
    });
    atomic::write(&dir.join(crate::layout::SUMMARY_MD), md.as_bytes())?;
    Ok(html_path)
}

/// Reads the result folder `dir` back for its report (`fleetsim report` reads it first, so that
/// a folder without results is named as given).
pub fn read_results(dir: &Path) -> Result<ResultsDir, ReportError> {
    ResultsDir::read(dir).map_err(ReportError::Results)
}

/// Says where numbers come from when runs have replications.
fn replication_note(results: &ResultsDir) -> Option<String> {
    let most = results
        .runs
        .iter()
        .map(|r| r.replications)
        .max()
        .unwrap_or(0);
    results.has_replications().then(|| {
        if results.runs.iter().all(|r| r.aggregate.is_some()) {
            format!(
                "Runs have up to {most} replications: the comparison gives means ± the half-widths of their 95 % confidence intervals (aggregate.json), the p99-against-cost chart the same with bars; timelines and each run's own numbers are of the first replication, rep-1."
            )
        } else {
            format!(
                "Runs have up to {most} replications: the numbers and charts here are of the first, rep-1 (no readable aggregate.json for every run)."
            )
        }
    })
}

/// `run`'s data folder relative to the report, with a trailing `/` (empty for the root).
fn relative_data_path(root: &Path, run: &RunDir) -> String {
    let rel = run.data.strip_prefix(root).unwrap_or(&run.data);
    let mut s: String = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    if !s.is_empty() {
        s.push('/');
    }
    s
}

/// "Scenario `x`, run `base`, seed 1" (the run's name left out for a folder of one run).
fn run_context(run: &RunDir, results: &ResultsDir) -> String {
    let s = &run.summary;
    let rep = if run.replications > 0 {
        format!(", replication 1 of {}", run.replications)
    } else {
        String::new()
    };
    if results.has_variants {
        format!(
            "Scenario {}, run {}, seed {}{rep}",
            s.scenario, run.name, s.seed
        )
    } else {
        format!("Scenario {}, seed {}{rep}", s.scenario, s.seed)
    }
}

fn run_charts(run: &RunDir, results: &ResultsDir) -> io::Result<Vec<Drawn>> {
    let s = &run.summary;
    let timeline = read_timeline(
        &run.data.join("timeline.csv"),
        s.simulated_seconds,
        MAX_POINTS,
    )?;
    let context = run_context(run, results);
    let timeline_chart = TimelineChart {
        title: format!("{}: load, fleet and latency over time", run.name),
        context: context.clone(),
        timeline: &timeline,
        simulated_seconds: s.simulated_seconds,
    };
    let instances_chart = InstancesChart {
        title: format!("{}: instances by lifecycle state", run.name),
        context,
        timeline: &timeline,
        simulated_seconds: s.simulated_seconds,
    };
    Ok(vec![
        Drawn {
            stem: "timeline",
            rendered: render(&timeline_chart)?,
            caption: format!(
                "{}: arrivals and failures per second, instances in service, capacity and desired, latency p50 and p99 per window.",
                run.name
            ),
        },
        Drawn {
            stem: "instances",
            rendered: render(&instances_chart)?,
            caption: format!("{}: instances in each lifecycle state, stacked, and the desired capacity.", run.name),
        },
    ])
}

fn comparison_charts(rows: &[RunSummary<'_>], results: &ResultsDir) -> io::Result<Vec<Drawn>> {
    let base = rows[0].1;
    let context = if results.has_variants {
        format!("Scenario {}, {} runs", base.scenario, rows.len())
    } else {
        format!("Scenario {}, seed {}", base.scenario, base.seed)
    };
    let mut jobs: Vec<(&'static str, String)> = vec![
        (
            "latency",
            "Latency percentiles of completed requests per run.".into(),
        ),
        (
            "cost",
            "Cost per run, one segment per pool (grey: balancers and data transfer); the thin bar under it splits the instances' cost into on demand (grey) and spot (orange).".into(),
        ),
    ];
    if rows.len() > 1 {
        jobs.push((
            "p99_vs_cost",
            "p99 latency against cost, one point per run; labels give the error rate.".into(),
        ));
    }
    let aggregates: Vec<Option<&Aggregate>> =
        results.runs.iter().map(|r| r.aggregate.as_ref()).collect();
    let replicated = aggregates.iter().any(Option::is_some);
    let reps = if replicated {
        "; means across replications, bars the 95 % confidence intervals"
    } else {
        ""
    };
    jobs.into_par_iter()
        .map(|(stem, caption)| {
            let rendered = match stem {
                "latency" => render(&LatencyChart {
                    title: "Latency percentiles per run".into(),
                    context: context.clone(),
                    runs: rows,
                }),
                "cost" => render(&CostChart {
                    title: "Cost per run, by pool".into(),
                    context: context.clone(),
                    runs: rows,
                }),
                _ => render(&TradeoffChart {
                    title: "p99 latency against cost".into(),
                    context: format!("{context}; lower left is better; the base in black{reps}"),
                    runs: rows,
                    aggregates: replicated.then_some(aggregates.as_slice()),
                }),
            }?;
            Ok(Drawn {
                stem,
                rendered,
                caption,
            })
        })
        .collect()
}

fn write_charts(dir: &Path, drawn: &[Drawn]) -> io::Result<()> {
    // The folder above exists (a run's, or the result folder); it is never made again (an
    // interrupt may have moved the staging folder away: `staging::create_dirs`).
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display())))
        }
        _ => {}
    }
    for d in drawn {
        atomic::write(
            &dir.join(format!("{}.svg", d.stem)),
            d.rendered.svg.as_bytes(),
        )?;
        atomic::write(&dir.join(format!("{}.png", d.stem)), &d.rendered.png)?;
    }
    Ok(())
}
