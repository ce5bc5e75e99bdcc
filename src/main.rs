//! The `fleetsim` command line: arguments, exit codes and messages. Simulation lives in the
//! library; this file only connects it to the terminal and the file system.
//!
//! Exit codes: 0 success, 2 bad input or usage (a broken scenario, an unwritable output folder).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use fleetsim::report;
use fleetsim::scenario::Grid;
use fleetsim::sweep::{self, Shard};
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
    /// Run a scenario and write summary.json, timeline.csv and scaling_events.csv. A scenario
    /// with [[variant]] tables runs the base and every variant on the same requests, writing
    /// each one's files to <out>/<variant>/ and comparison.csv and comparison.md to <out>/.
    /// With --replications each run is repeated on independent seeds, each replication in
    /// <run>/rep-<k>/, and aggregate.json gives every metric's mean and 95 % confidence interval.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Master seed; overrides the scenario's `seed`, and every variant's (default: the
        /// scenario's, or 1). Replication k runs with seed + k - 1.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: output/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Independent replications of every run (seeds seed, seed + 1, ...).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        replications: u32,
        /// Worker threads (default: every core). Results are the same bytes whatever the count.
        #[arg(long)]
        threads: Option<usize>,
        /// Run only shard i of n (0 <= i < n): every n-th job, for a sweep spread over
        /// machines; `fleetsim merge` gathers the shards' folders.
        #[arg(long)]
        shard: Option<String>,
        /// A grid axis, path=value[,value...] (repeatable): every run is multiplied by every
        /// combination, such as --set balancer.algorithm=round_robin,least_connections --set
        /// pool.gpu.autoscaling.max=10,20. Inside a list of tables the path names the
        /// element: pool.<name>.<key>.
        #[arg(long = "set", value_name = "PATH=VALUES")]
        sets: Vec<String>,
    },
    /// Gather the output folders of a sharded run (`run --shard i/n`) into one, with the
    /// aggregates and comparison an unsharded run writes.
    Merge {
        /// The merged output folder.
        #[arg(long)]
        out: PathBuf,
        /// The shards' output folders.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
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
            replications,
            threads,
            shard,
            sets,
        } => {
            let shard = shard
                .map(|s| Shard::parse(&s))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let grid = Grid::parse(&sets).map_err(anyhow::Error::msg)?;
            let set = ScenarioSet::load_with(&scenario, &grid)?;
            let out = out.unwrap_or_else(|| Path::new("output").join(&set.base.name));
            run_sweep(&set, seed, replications, threads.unwrap_or(0), shard, &out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge { out, shards } => {
            let table = sweep::merge(&shards, &out).map_err(anyhow::Error::msg)?;
            if let Some(table) = table {
                print!("{table}");
            }
            println!("merged {} shards into {}", shards.len(), out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs every job of the scenario (its runs times `replications`, or one shard of them) on
/// `threads` threads, then writes the aggregates and the comparison.
fn run_sweep(
    set: &ScenarioSet,
    seed: Option<u64>,
    replications: u32,
    threads: usize,
    shard: Option<Shard>,
    out: &Path,
) -> anyhow::Result<()> {
    let jobs = sweep::plan(set, seed, replications);
    let mine = jobs
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| *i % s.count as usize == s.index as usize))
        .count();
    // A bar only for work worth watching; indicatif hides it when stderr is not a terminal.
    let bar = if mine > 1 {
        ProgressBar::new(mine as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} ({eta} left)")
            .expect("a valid template"),
    );
    let summaries = sweep::execute(&jobs, out, threads, shard, &|| bar.inc(1))
        .with_context(|| format!("cannot write results into {}", out.display()))?;
    bar.finish_and_clear();
    if let Some(shard) = shard {
        sweep::write_manifest(&jobs, shard, out)
            .with_context(|| format!("cannot write {}", out.join(sweep::MANIFEST).display()))?;
        println!(
            "shard {}/{}: {mine} of {} runs in {}; gather the shards with `fleetsim merge`",
            shard.index,
            shard.count,
            jobs.len(),
            out.display()
        );
        return Ok(());
    }
    let summaries: Vec<Summary> = summaries.into_iter().flatten().collect();
    match sweep::summarize(&jobs, &summaries, out)
        .with_context(|| format!("cannot write the comparison into {}", out.display()))?
    {
        Some(table) => print!("{table}"),
        None => print!("{}", report::human_summary(&summaries[0])),
    }
    println!("results in {}", out.display());
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
