//! The `fleetsim` command line: arguments, exit codes and messages. Simulation lives in the
//! library; this file only connects it to the terminal and the file system.
//!
//! Exit codes: 0 success, 2 bad input or usage (a broken scenario, an unwritable output folder).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rayon::prelude::*;

use fleetsim::report::{self, atomic::AtomicFile, CsvTimeline};
use fleetsim::{Scenario, ScenarioError, ScenarioSet, Summary};

/// Simulate the traffic, balancers, GPU servers and costs of an AI inference service.
#[derive(Parser)]
#[command(name = "fleetsim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write summary.json and timeline.csv. A scenario with [[variant]]
    /// tables runs the base and every variant in parallel on the same requests, writing each
    /// one's files to <out>/<variant>/ and comparison.csv and comparison.md to <out>/.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Master seed; overrides the scenario's `seed`, and every variant's (default: the
        /// scenario's, or 1).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: output/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Remake the charts, report.html and summary.md of a result folder (the --out folder of
    /// `run`, which also makes them).
    Report {
        /// The result folder.
        dir: PathBuf,
        /// Scenario file to echo in report.html, kept in the folder as scenario.toml (default:
        /// the folder's scenario.toml, kept by `run`).
        #[arg(long)]
        scenario: Option<PathBuf>,
    },
    /// Check a scenario file, and each of its variants, without running it.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(scenario_error) = e.downcast_ref::<ScenarioError>() {
                eprint!("{scenario_error}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate { scenario } => {
            let set = ScenarioSet::load(&scenario)?;
            println!("{}: ok ({})", scenario.display(), outline(&set.base));
            for v in &set.variants {
                println!("  variant {}: ok ({})", v.name, outline(&v.scenario));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            scenario,
            seed,
            out,
        } => {
            let set = ScenarioSet::load(&scenario)?;
            let out = out.unwrap_or_else(|| Path::new("output").join(&set.base.name));
            if set.variants.is_empty() {
                run_one(&set.base, seed.unwrap_or(set.base.seed), &out)?;
            } else {
                run_variants(&set, seed, &out)?;
            }
            write_report(&out, Some(&scenario))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { dir, scenario } => {
            write_report(&dir, scenario.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes the charts, report.html and summary.md of the result folder `dir`.
fn write_report(dir: &Path, scenario: Option<&Path>) -> anyhow::Result<()> {
    let html = report::write_report(dir, scenario)
        .with_context(|| format!("cannot write the report of {}", dir.display()))?;
    println!("report in {}", html.display());
    Ok(())
}

fn outline(s: &Scenario) -> String {
    format!(
        "{} classes, {} pools, {} slots, {} s",
        s.classes.len(),
        s.pools.len(),
        s.total_slots(),
        s.duration.as_secs_f64()
    )
}

fn run_one(scenario: &Scenario, seed: u64, out: &Path) -> anyhow::Result<()> {
    let summary = simulate_into(scenario, seed, out)?;
    print!("{}", report::human_summary(&summary));
    println!("results in {}", out.display());
    Ok(())
}

/// Runs the base and every variant in parallel, each into `<out>/<name>/`, then writes the
/// comparison. Every run is independent and seeded alone, and results are gathered in file
/// order, so the files are the same bytes whatever the number of threads.
fn run_variants(set: &ScenarioSet, seed: Option<u64>, out: &Path) -> anyhow::Result<()> {
    let runs = set.runs();
    let summaries = runs
        .par_iter()
        .map(|(name, s)| simulate_into(s, seed.unwrap_or(s.seed), &out.join(name)))
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<anyhow::Result<Vec<Summary>>>()?;
    let rows: Vec<(&str, &Summary)> = runs.iter().map(|(n, _)| *n).zip(&summaries).collect();
    report::write_comparison(out, &rows).with_context(|| {
        format!(
            "cannot write {} and comparison.md",
            out.join("comparison.csv").display()
        )
    })?;
    print!("{}", report::comparison_text(&rows));
    println!("results in {}", out.display());
    Ok(())
}

/// Simulates `scenario`, writing `timeline.csv`, `scaling_events.csv` and `summary.json` into
/// `out`.
fn simulate_into(scenario: &Scenario, seed: u64, out: &Path) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let timeline_path = out.join("timeline.csv");
    let events_path = out.join("scaling_events.csv");
    let mut file = AtomicFile::create(&timeline_path)
        .with_context(|| format!("cannot write {}", timeline_path.display()))?;
    let mut events = AtomicFile::create(&events_path)
        .with_context(|| format!("cannot write {}", events_path.display()))?;
    let mut sink = CsvTimeline::with_scaling_events(file.writer(), events.writer());
    let result = fleetsim::run(scenario, seed, &mut sink);
    let written = sink.finish().map(|_| ());
    written
        .and_then(|()| file.commit())
        .with_context(|| format!("cannot write {}", timeline_path.display()))?;
    events
        .commit()
        .with_context(|| format!("cannot write {}", events_path.display()))?;
    report::write_summary(out, &result.summary)
        .with_context(|| format!("cannot write {}", out.join("summary.json").display()))?;
    Ok(result.summary)
}
