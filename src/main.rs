//! The `fleetsim` command line: arguments, exit codes and messages. Simulation lives in the
//! library; this file only connects it to the terminal and the file system.
//!
//! Exit codes: 0 success, 1 a gate failed (`check`: an objective does not hold; `compare`: a
//! regression beyond a threshold), 2 bad input or usage (a broken scenario, an unwritable output
//! folder, an unreadable result folder).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rayon::prelude::*;

use fleetsim::gates::{self, ResultFolder, SloSpec, Thresholds};
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
    /// Check a scenario file, and each of its variants, without running it.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Run a scenario as `run` does, then judge each run (base and variants) against its [slo]:
    /// print a table, write <out>/slo.md, and exit 1 if an objective does not hold.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Master seed, as for `run`.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: output/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replications of each run; with more than one, objectives are judged on the
        /// pessimistic end of the 95 % confidence interval.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        replications: u64,
        /// Worker threads (default: one per core).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        threads: Option<u64>,
    },
    /// Compare two result folders of `run` or `check` run by run; exit 1 if a metric regressed
    /// beyond its --max-regression threshold.
    Compare {
        /// The result folder to compare against (such as the main branch's).
        base: PathBuf,
        /// The result folder under test (such as the pull request's).
        new: PathBuf,
        /// Thresholds, such as p99=10%,cost=5%,error_rate=0.5: N% relative to the base, a bare
        /// number in the metric's unit (ms, USD, percentage points for error_rate). Metrics:
        /// mean, p50, p90, p99, p999, error_rate, cost, instances, completed (a drop). Default:
        /// none (report only).
        #[arg(long, value_parser = clap::value_parser!(Thresholds))]
        max_regression: Option<Thresholds>,
        /// Also write the comparison as Markdown to this file.
        #[arg(long)]
        out: Option<PathBuf>,
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
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            scenario,
            seed,
            out,
            replications,
            threads,
        } => check(&scenario, seed, out, replications, threads),
        Command::Compare {
            base,
            new,
            max_regression,
            out,
        } => compare(
            &base,
            &new,
            &max_regression.unwrap_or_default(),
            out.as_deref(),
        ),
    }
}

/// `fleetsim check`: runs the scenario into its output folder as `run` does, then judges that
/// folder against each run's `[slo]`.
fn check(
    scenario: &Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    replications: u64,
    threads: Option<u64>,
) -> anyhow::Result<ExitCode> {
    let set = ScenarioSet::load(scenario)?;
    // Replications come with the issue 5 run path; until it is merged here, say so.
    anyhow::ensure!(
        replications == 1,
        "--replications {replications}: this build runs one replication per run"
    );
    let out = out.unwrap_or_else(|| Path::new("output").join(&set.base.name));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0) as usize)
        .build()?;
    pool.install(|| {
        if set.variants.is_empty() {
            run_one(&set.base, seed.unwrap_or(set.base.seed), &out)
        } else {
            run_variants(&set, seed, &out)
        }
    })?;
    let runs: Vec<(&str, Option<&SloSpec>)> = set
        .runs()
        .into_iter()
        .map(|(name, s)| (name, s.slo.as_ref()))
        .collect();
    let report = gates::check(&ResultFolder::read(&out)?, &runs)?;
    println!();
    print!("{}", report.text());
    let slo_md = out.join("slo.md");
    report::atomic::write(&slo_md, report.markdown(&set.base.name).as_bytes())
        .with_context(|| format!("cannot write {}", slo_md.display()))?;
    if report.is_empty() {
        eprintln!(
            "warning: {} has no [slo]: nothing was checked",
            scenario.display()
        );
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `fleetsim compare`: the runs of two result folders side by side.
fn compare(
    base: &Path,
    new: &Path,
    thresholds: &Thresholds,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let comparison = gates::compare(
        &ResultFolder::read(base)?,
        &ResultFolder::read(new)?,
        thresholds,
    );
    print!("{}", comparison.text());
    if let Some(out) = out {
        let md = comparison.markdown(&base.display().to_string(), &new.display().to_string());
        report::atomic::write(out, md.as_bytes())
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(if comparison.regressed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
