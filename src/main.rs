//! The `fleetsim` command line: arguments, exit codes and messages. Simulation lives in the
//! library; this file only connects it to the terminal and the file system.
//!
//! Exit codes: 0 success, 2 bad input or usage (a broken scenario, an unwritable output folder).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use fleetsim::report::{self, atomic::AtomicFile, CsvTimeline};
use fleetsim::{Scenario, ScenarioError};

/// Simulate the traffic, balancers, GPU servers and costs of an AI inference service.
#[derive(Parser)]
#[command(name = "fleetsim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write summary.json and timeline.csv.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Master seed; overrides the scenario's `seed` (default: the scenario's, or 1).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: output/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a scenario file without running it.
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
            let s = Scenario::load(&scenario)?;
            println!(
                "{}: ok ({} classes, {} pools, {} slots, {} s)",
                scenario.display(),
                s.classes.len(),
                s.pools.len(),
                s.total_slots(),
                s.duration.as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            scenario,
            seed,
            out,
        } => {
            let s = Scenario::load(&scenario)?;
            let out = out.unwrap_or_else(|| Path::new("output").join(&s.name));
            run_one(&s, seed.unwrap_or(s.seed), &out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_one(scenario: &Scenario, seed: u64, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let timeline_path = out.join("timeline.csv");
    let mut file = AtomicFile::create(&timeline_path)
        .with_context(|| format!("cannot write {}", timeline_path.display()))?;
    let mut sink = CsvTimeline::new(file.writer());
    let result = fleetsim::run(scenario, seed, &mut sink);
    let written = sink.finish().map(|_| ());
    written
        .and_then(|()| file.commit())
        .with_context(|| format!("cannot write {}", timeline_path.display()))?;
    report::write_summary(out, &result.summary)
        .with_context(|| format!("cannot write {}", out.join("summary.json").display()))?;
    print!("{}", report::human_summary(&result.summary));
    println!("results in {}", out.display());
    Ok(())
}
