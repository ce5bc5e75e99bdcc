//! The `fleetsim` command line: arguments, exit codes and messages. Simulation lives in the
//! library; this file only connects it to the terminal and the file system.
//!
//! Exit codes, the one place they are decided ([`exit_code`]; README, "Exit codes"):
//! - `0` success;
//! - `1` a gate failed: `check` (an objective does not hold), `compare` (a regression beyond a
//!   threshold);
//! - `2` bad input or usage: a broken scenario or data file, bad arguments, a folder that is not
//!   a result folder, an output folder fleetsim refuses to replace (not one it wrote), shards
//!   that do not fit together, and a run stopped by a resource limit the input drove it into;
//! - `3` an I/O or environment failure not caused by the input's content: the output folder
//!   cannot be created or written (permissions, a full disk, a path under a file), or another
//!   run is writing it;
//! - `130` interrupted (SIGINT, SIGTERM or SIGHUP): the result folder being written is removed
//!   and the previous one, if any, stays as it was.
//!
//! Every command that writes a result folder writes it into a staging folder and moves it into
//! place when complete (`fleetsim::report::staging`): an error or an interrupt leaves `--out` as
//! it was.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use fleetsim::calibrate;
use fleetsim::gates::{self, ResultFolder, ResultsError, Thresholds};
use fleetsim::inspect::{self, CatalogQuery, TraceQuery, TraceStatsError, UnknownCloud};
use fleetsim::layout;
use fleetsim::limits::{self, MemoryBudget, MAX_JOBS, MAX_REPLICATIONS, MAX_THREADS};
use fleetsim::report::staging::{OutputError, Staging};
use fleetsim::report::{self, ReportError};
use fleetsim::scenario::spec::SloSpec;
use fleetsim::scenario::Grid;
use fleetsim::sweep::{self, MergeError, Shard, ShardError};
use fleetsim::{Scenario, ScenarioError, ScenarioSet, Summary};

/// The exit codes, for `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    a gate failed (check: an objective does not hold; compare: a regression)
  2    bad input or usage: the scenario, its data files, the arguments, a folder that is not
       fleetsim's, shards that do not fit together, a run stopped by a limit the input reached
  3    an I/O or environment failure: the output folder cannot be created or written
       (permissions, full disk), or another run is writing it
  130  interrupted (SIGINT, SIGTERM, SIGHUP): the unfinished result folder is removed

A result folder appears whole or not at all: it is written beside --out and moved into place
when complete, replacing the previous one (only if that one is empty or fleetsim's).";

/// Simulate the traffic, balancers, GPU servers and costs of an AI inference service.
/// `print!` to stdout, except that a reader that has gone away (`fleetsim run ... | head`) is
/// not an error: the rest of the output is dropped and the command still finishes its work and
/// exits with its own code (`check`'s verdict must survive a pipe).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($arg)*) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                panic!("failed printing to stdout: {e}");
            }
        }
    }};
}

/// `println!` as [`out!`] does `print!`.
macro_rules! outln {
    () => { out!("\n") };
    ($($arg:tt)*) => {{ out!($($arg)*); out!("\n") }};
}

#[derive(Parser)]
#[command(name = "fleetsim", version, about, after_help = EXIT_CODES)]
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
        /// Independent replications of every run (seeds seed, seed + 1, ...), 1 to 1000.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=MAX_REPLICATIONS as i64))]
        replications: u32,
        /// Worker threads, 1 to 256 (default: every core). Results are the same bytes whatever
        /// the count; the runs at once share the memory budget.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_THREADS as i64))]
        threads: Option<u32>,
        /// The memory fleetsim may use, such as 512M or 4G (powers of 1024). Default: the
        /// smallest of the address-space and data limits (ulimit -v, -d), the cgroup's memory
        /// limit and the physical memory. A run that would hold more stops with an error
        /// (exit 2); a run that fits gives the same results whatever the budget.
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
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
        /// Replications of each run, 1 to 1000; with more than one, objectives are judged on
        /// the pessimistic end of the 95 % confidence interval.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=MAX_REPLICATIONS as i64))]
        replications: u32,
        /// Worker threads, 1 to 256 (default: every core), as for `run`.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_THREADS as i64))]
        threads: Option<u32>,
        /// The memory fleetsim may use, as for `run`.
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
        /// A grid axis, as for `run` (repeatable): judge the scenario with these overrides,
        /// such as --set 'traffic.spikes=[]' to judge normal days without a spike.
        #[arg(long = "set", value_name = "PATH=VALUES")]
        sets: Vec<String>,
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
    /// Summarise a request trace: span, rate over time, burstiness, token distributions, and
    /// a [traffic] block that replays it. Exit 2 if the file cannot be read.
    TraceStats {
        /// The trace file.
        trace: PathBuf,
        /// Its layout: azure_llm, mooncake, csv or jsonl (default: mooncake for .jsonl, else
        /// azure_llm). csv and jsonl need --time-column and --time-unit.
        #[arg(long)]
        format: Option<String>,
        /// csv/jsonl: the column (key) holding arrival times.
        #[arg(long)]
        time_column: Option<String>,
        /// csv/jsonl: the unit of the times: s, ms, us or iso.
        #[arg(long)]
        time_unit: Option<String>,
        /// csv/jsonl: the column of input (context) tokens.
        #[arg(long)]
        input_tokens_column: Option<String>,
        /// csv/jsonl: the column of output (generated) tokens.
        #[arg(long)]
        output_tokens_column: Option<String>,
    },
    /// Fit an LLM engine's efficiency coefficients to a measured vLLM run: replay its arrivals
    /// and token counts, print the error table (TTFT, TPOT, end-to-end latency: mean, p50, p90,
    /// p99, simulated against measured) with the default and the fitted coefficients, and
    /// write the fitted profile as TOML (docs/calibrate.md).
    Calibrate {
        /// The measured run: JSON lines, one request per line (scenarios/data/vllm_runs/), or
        /// the result JSON of vLLM's benchmark_serving (--save-result, with --save-detailed on
        /// `vllm bench serve`). Told apart by their content.
        run: PathBuf,
        /// The model, by its catalog name (such as llama-3.1-8b).
        #[arg(long)]
        model: String,
        /// The GPU, by its catalog name (such as rtx-pro-6000).
        #[arg(long)]
        gpu: String,
        /// Tensor-parallel GPUs (default: the run's meta.json, else 1).
        #[arg(long)]
        tp: Option<u32>,
        /// vLLM's max_num_seqs (default: the run's meta.json, else vLLM's default for the GPU).
        #[arg(long)]
        max_num_seqs: Option<u32>,
        /// vLLM's max_num_batched_tokens (default: the run's meta.json, else vLLM's default
        /// for the GPU).
        #[arg(long)]
        max_num_batched_tokens: Option<u32>,
        /// A benchmark_serving result's request rate, requests per second or inf (default: the
        /// file's request_rate): its arrivals are derived from it.
        #[arg(long)]
        request_rate: Option<f64>,
        /// Write the fitted profile to this file (default: print it after the table).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the instance catalog (GPU and CPU types of AWS, Azure and GCP with list prices):
    /// the names an [[instance_type]] can take its price, concurrency and speed from. With
    /// --models or --gpus, the model or GPU catalog instead.
    Catalog {
        /// List the built-in LLMs (architecture from each config.json) instead of instance
        /// types.
        #[arg(long, conflicts_with_all = ["gpus", "cloud", "gpu", "region"])]
        models: bool,
        /// List the built-in GPUs (datasheet figures) instead of instance types.
        #[arg(long, conflicts_with_all = ["cloud", "gpu", "region"])]
        gpus: bool,
        /// Only this cloud: aws, azure or gcp.
        #[arg(long)]
        cloud: Option<String>,
        /// Only types whose GPU model contains this (case-insensitive), such as A100 or h100.
        #[arg(long)]
        gpu: Option<String>,
        /// Only this region, such as us-east-1 or europe-west4.
        #[arg(long)]
        region: Option<String>,
    },
}

fn main() -> ExitCode {
    on_interrupt_remove_staging();
    let cli = Cli::parse();
    let result = run(cli);
    // Interrupted meanwhile: the signal handler removed the staging folder under the command's
    // feet (an error met since is the interrupt's, not the command's) and is about to exit
    // 130. Asking waits for it to have finished removing.
    if report::staging::interrupted() {
        return ExitCode::from(130);
    }
    match result {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Prints `e` on stderr: a scenario's problems as the scenario reader lays them out; anything
/// else as `error:` and its whole cause chain, then a `help:` line (the error's own when its
/// message has one, else [`help`]'s).
fn print_error(e: &anyhow::Error) {
    if let Some(scenario_error) = e.downcast_ref::<ScenarioError>() {
        eprint!("{scenario_error}");
        return;
    }
    // Messages may repeat input (a --set argument, a trace's cell): escaped.
    let text = fleetsim::scenario::terminal_safe(&format!("{e:#}"));
    eprintln!("error: {text}");
    if !text.lines().any(|l| l.trim_start().starts_with("help: ")) {
        eprintln!("help: {}", help(e));
    }
}

/// What to do about an error whose message has no `help:` line of its own: the one place the
/// command line's hints are decided, by the error's type (its first cause that has one).
fn help(e: &anyhow::Error) -> String {
    const FOLDER: &str = "give the --out folder of `fleetsim run`, `check` or `merge`";
    const WRITABLE: &str =
        "check that the folder is writable and the disk is not full, or give another --out";
    const FORMATS: &str = "--format azure_llm (the Azure LLM trace, CSV), mooncake (the Mooncake trace, JSON lines), or csv and jsonl (any file, with --time-column and --time-unit)";
    const TIME_UNIT: &str = "give the unit of the times: --time-unit s, ms or us (numbers, decimals allowed) or iso (dates such as 2023-11-16 18:00:00)";
    for cause in e.chain() {
        if cause.is::<ShardError>() {
            return "--shard i/n runs shard i of n (0 <= i < n): every n-th job, such as --shard 0/4 to --shard 3/4 on four machines".into();
        }
        if let Some(r) = cause.downcast_ref::<ResultsError>() {
            return match r {
                ResultsError::NoFolder { .. } | ResultsError::NoResults { .. } => FOLDER.into(),
                ResultsError::Read { .. } => {
                    "check that the folder and its files can be read".into()
                }
                ResultsError::NotFleetsims { .. } => "a result folder holds the files `fleetsim run` wrote: run it again to write them anew rather than editing them".into(),
                ResultsError::NoRun { .. } => "the folder holds other runs than the scenario's: run the scenario again into a fresh --out".into(),
            };
        }
        if let Some(r) = cause.downcast_ref::<ReportError>() {
            return match r {
                ReportError::Results(_) => format!("{FOLDER}; a folder whose files were edited or cut short: run it again"),
                ReportError::Scenario { .. } => "give --scenario an existing scenario file, or leave it out to show the folder's own scenario.toml".into(),
                ReportError::Io(e) if is_environment(e) => WRITABLE.into(),
                ReportError::Io(_) => "the folder's files are not what `fleetsim run` writes: run it again to write them anew".into(),
            };
        }
        if cause.is::<UnknownCloud>() {
            return "leave out --cloud to list every cloud's types".into();
        }
        if let Some(t) = cause.downcast_ref::<TraceStatsError>() {
            return match t {
                TraceStatsError::UnknownFormat(_) => FORMATS.into(),
                TraceStatsError::Load(_) => format!("check the path, and that the layout is the file's: {FORMATS}"),
                TraceStatsError::NoTimeColumn => "name the column (csv) or key (jsonl) that holds the arrival times, such as --time-column timestamp".into(),
                TraceStatsError::NoTimeUnit | TraceStatsError::UnknownTimeUnit(_) => TIME_UNIT.into(),
            };
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return if is_environment(io) {
                WRITABLE.into()
            } else {
                "check the paths given and the files there".into()
            };
        }
    }
    "`fleetsim --help` lists the commands, `fleetsim <command> --help` their arguments".into()
}

/// On SIGINT, SIGTERM or SIGHUP: removes the staging folder being written (and its lock), then
/// exits 130. If the handler cannot be installed, the signal keeps its default action and the
/// next run into the same `--out` removes what this one left.
fn on_interrupt_remove_staging() {
    let _ = ctrlc::set_handler(|| {
        if report::staging::remove_after_interrupt() {
            eprintln!("interrupted: the unfinished result folder was removed, --out is as it was");
        } else {
            eprintln!("interrupted");
        }
        std::process::exit(130);
    });
}

/// The exit code of an error (the contract in this file's doc): 2 for the input's fault, 3 for
/// the machine's (an output folder that cannot be written, or is busy), 2 for anything not
/// known to be the machine's.
fn exit_code(e: &anyhow::Error) -> u8 {
    const INPUT: u8 = 2;
    const ENVIRONMENT: u8 = 3;
    let mut code = INPUT;
    for cause in e.chain() {
        // A run the input stopped (a loop at one instant, the memory guard) and runs that do
        // not fit the memory budget are the input's, as a broken scenario is.
        if cause.is::<ScenarioError>()
            || cause.is::<fleetsim::RunError>()
            || cause.is::<fleetsim::limits::BudgetError>()
        {
            return INPUT;
        }
        // Arguments, result folders and inputs that do not read: the input's, whatever the
        // I/O error named in their message.
        if cause.is::<ShardError>()
            || cause.is::<ResultsError>()
            || cause.is::<UnknownCloud>()
            || cause.is::<TraceStatsError>()
        {
            return INPUT;
        }
        // A profile that cannot be written is the machine's; anything else calibrate says
        // is the input's (the run, the flags, a model or GPU this build cannot look up).
        if let Some(c) = cause.downcast_ref::<calibrate::CalibrateError>() {
            return match c {
                calibrate::CalibrateError::Write { source, .. } if is_environment(source) => {
                    ENVIRONMENT
                }
                _ => INPUT,
            };
        }
        // The report: the machine's when its I/O error is.
        if let Some(r) = cause.downcast_ref::<ReportError>() {
            return if is_environment(r.io()) {
                ENVIRONMENT
            } else {
                INPUT
            };
        }
        if let Some(e) = cause.downcast_ref::<sweep::SweepError>() {
            return match e {
                sweep::SweepError::Io(e) if is_environment(e) => ENVIRONMENT,
                _ => INPUT,
            };
        }
        if let Some(m) = cause.downcast_ref::<MergeError>() {
            return match m {
                MergeError::Output(o) if o.is_environment() => ENVIRONMENT,
                _ => INPUT,
            };
        }
        if let Some(o) = cause.downcast_ref::<OutputError>() {
            return if o.is_environment() {
                ENVIRONMENT
            } else {
                INPUT
            };
        }
        if cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(is_environment)
        {
            code = ENVIRONMENT;
        }
    }
    code
}

/// Whether an I/O error is the machine's: permissions, a full disk or quota, a read-only file
/// system, a path through a file. A missing or malformed file is not (it is the input's).
fn is_environment(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::PermissionDenied
            | K::ReadOnlyFilesystem
            | K::StorageFull
            | K::QuotaExceeded
            | K::NotADirectory
            | K::IsADirectory
            | K::FileTooLarge
            | K::WriteZero
            | K::TooManyLinks
            | K::ResourceBusy
            | K::OutOfMemory
    )
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate { scenario } => {
            let set = ScenarioSet::load(&scenario)?;
            outln!("{}: ok ({})", scenario.display(), outline(&set.base));
            for v in &set.variants {
                outln!("  variant {}: ok ({})", v.name, outline(&v.scenario));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            scenario,
            seed,
            out,
            replications,
            threads,
            max_memory,
            shard,
            sets,
        } => {
            set_budget(max_memory)?;
            let shard = shard.map(|s| Shard::parse(&s)).transpose()?;
            let grid = Grid::parse(&sets)?;
            let set = ScenarioSet::load_with(&scenario, &grid)?;
            let out = out.unwrap_or_else(|| Path::new("output").join(&set.base.name));
            let staging = Staging::begin(&out)?;
            let done = run_sweep(
                &set,
                seed,
                replications,
                threads,
                shard,
                staging.dir(),
                &out,
            )?;
            if shard.is_none() {
                write_report(staging.dir(), Some(&scenario))?;
            } else {
                // The merge writes the report; the scenario's text goes with the shard.
                report::keep_scenario(staging.dir(), &scenario)
                    .with_context(|| format!("cannot write into {}", out.display()))?;
            }
            staging.commit()?;
            outln!("{done}");
            if shard.is_none() {
                outln!("report in {}", out.join(layout::REPORT_HTML).display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { dir, scenario } => {
            // Read first, so that a folder without results is named as given.
            report::read_results(&dir)?;
            let staging = Staging::begin_update(
                &dir,
                &[layout::REPORT_HTML, layout::SUMMARY_MD, layout::CHARTS_DIR],
            )?;
            write_report(staging.dir(), scenario.as_deref())?;
            staging.commit()?;
            outln!("report in {}", dir.join(layout::REPORT_HTML).display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge { out, shards } => {
            let staging = Staging::begin(&out)?;
            refuse_shards_inside(&shards, &staging, &out)?;
            let table = sweep::merge(&shards, staging.dir())?;
            if let Some(table) = table {
                out!("{table}");
            }
            // The report echoes the scenario's text, which `merge` kept from the shards.
            write_report(staging.dir(), None)?;
            staging.commit()?;
            outln!("merged {} shards into {}", shards.len(), out.display());
            outln!("report in {}", out.join(layout::REPORT_HTML).display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            scenario,
            seed,
            out,
            replications,
            threads,
            max_memory,
            sets,
        } => {
            set_budget(max_memory)?;
            let grid = Grid::parse(&sets)?;
            check(&scenario, &grid, seed, out, replications, threads)
        }
        Command::TraceStats {
            trace,
            format,
            time_column,
            time_unit,
            input_tokens_column,
            output_tokens_column,
        } => {
            let query = TraceQuery {
                format,
                time_column,
                time_unit,
                input_tokens_column,
                output_tokens_column,
            };
            out!("{}", inspect::trace_stats(&trace, &query)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Calibrate {
            run,
            model,
            gpu,
            tp,
            max_num_seqs,
            max_num_batched_tokens,
            request_rate,
            out,
        } => {
            let args = calibrate::CalibrateArgs {
                run,
                model,
                gpu,
                tp,
                max_num_seqs,
                max_num_batched_tokens,
                request_rate,
            };
            let calibration = calibrate::calibrate(&args)?;
            out!("{}", calibration.table);
            match out {
                Some(path) => {
                    calibrate::profile::write_atomic(&path, calibration.profile.as_bytes())
                        .map_err(|source| calibrate::CalibrateError::Write {
                            path: path.clone(),
                            source,
                        })?;
                    outln!();
                    outln!("profile in {}", path.display());
                }
                None => {
                    outln!();
                    out!("{}", calibration.profile);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Catalog {
            models,
            gpus,
            cloud,
            gpu,
            region,
        } => {
            if models {
                out!("{}", inspect::models_text());
            } else if gpus {
                out!("{}", inspect::gpus_text());
            } else {
                out!(
                    "{}",
                    inspect::catalog_text(&CatalogQuery { cloud, gpu, region })?
                );
            }
            Ok(ExitCode::SUCCESS)
        }
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

/// Makes `--max-memory` (or, without it, the limits the process lives under) the budget of
/// every run.
fn set_budget(max_memory: Option<u64>) -> anyhow::Result<()> {
    MemoryBudget::set_current(MemoryBudget::from_limits(&limits::detect(), max_memory)?);
    Ok(())
}

/// `--max-memory`'s value.
fn parse_size(text: &str) -> Result<u64, limits::SizeError> {
    limits::parse_size(text)
}

/// Runs every job of the scenario (its runs times `replications`, or one shard of them) on
/// `threads` threads (default: every core) into the staging folder `dir`, then writes the
/// aggregates and the comparison there. `out` is the output folder it will become, for
/// messages. Returns the line to print once the folder is in place.
fn run_sweep(
    set: &ScenarioSet,
    seed: Option<u64>,
    replications: u32,
    threads: Option<u32>,
    shard: Option<Shard>,
    dir: &Path,
    out: &Path,
) -> anyhow::Result<String> {
    let runs = set.runs().len() as u64;
    if runs * u64::from(replications) > MAX_JOBS {
        anyhow::bail!(
            "{runs} runs × {replications} replications make {} jobs, more than the {MAX_JOBS} one sweep may plan\nhelp: fewer --set values, variants or --replications; or split the sweep into several",
            runs * u64::from(replications)
        );
    }
    let threads = threads.map_or(0, |t| t as usize);
    let jobs = sweep::plan(set, seed, replications);
    let mine = jobs
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| *i % s.count as usize == s.index as usize))
        .count();
    // A bar of runs for a sweep, of simulated time (in thousandths of the duration) for one
    // run; indicatif hides it when stderr is not a terminal, and nothing it shows reaches a
    // result file.
    let (bar, one_run) = if mine > 1 {
        let bar = ProgressBar::new(mine as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} ({eta} left)")
                .expect("a valid template"),
        );
        (bar, false)
    } else {
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {percent}% of the simulated time, {elapsed} ({eta} left)",
            )
            .expect("a valid template"),
        );
        (bar, true)
    };
    let progress = |fraction: f64| {
        if one_run {
            bar.set_position((fraction * 1000.0) as u64);
        }
    };
    let summaries = match sweep::execute(&jobs, dir, threads, shard, &|| bar.inc(1), &progress) {
        Ok(summaries) => summaries,
        Err(sweep::SweepError::Io(e)) => {
            bar.finish_and_clear();
            return Err(e).with_context(|| format!("cannot write results into {}", out.display()));
        }
        // A run the input stopped, or a budget the runs do not fit: their own message says
        // what and where (exit 2), not a failure to write.
        Err(e) => {
            bar.finish_and_clear();
            return Err(e.into());
        }
    };
    bar.finish_and_clear();
    if let Some(shard) = shard {
        sweep::write_manifest(&jobs, shard, dir)
            .with_context(|| format!("cannot write {}", out.join(sweep::MANIFEST).display()))?;
        return Ok(format!(
            "shard {}/{}: {mine} of {} runs in {}; gather the shards with `fleetsim merge`",
            shard.index,
            shard.count,
            jobs.len(),
            out.display()
        ));
    }
    let summaries: Vec<Summary> = summaries.into_iter().flatten().collect();
    match sweep::summarize(&jobs, &summaries, dir)
        .with_context(|| format!("cannot write the comparison into {}", out.display()))?
    {
        Some(table) => out!("{table}"),
        None => out!("{}", report::human_summary(&summaries[0])),
    }
    Ok(format!("results in {}", out.display()))
}

/// Refuses a merge whose output folder holds one of its shards: the merged folder replaces it
/// whole, and the shard would go with it.
fn refuse_shards_inside(shards: &[PathBuf], staging: &Staging, out: &Path) -> anyhow::Result<()> {
    for shard in shards {
        let Ok(resolved) = std::fs::canonicalize(shard) else {
            // Named as missing by the merge itself.
            continue;
        };
        if resolved.starts_with(staging.out()) {
            return Err(OutputError::Refused {
                out: out.to_path_buf(),
                why: format!(
                    "holds the shard {}, and the merged folder replaces it whole",
                    shard.display()
                ),
                help: "give --out a folder outside the shards' folders".into(),
            }
            .into());
        }
    }
    Ok(())
}

/// `fleetsim check`: runs the scenario into its output folder as `run` does, then judges that
/// folder against each run's `[slo]`.
fn check(
    scenario: &Path,
    grid: &Grid,
    seed: Option<u64>,
    out: Option<PathBuf>,
    replications: u32,
    threads: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let set = ScenarioSet::load_with(scenario, grid)?;
    let out = out.unwrap_or_else(|| Path::new("output").join(&set.base.name));
    let staging = Staging::begin(&out)?;
    let done = run_sweep(&set, seed, replications, threads, None, staging.dir(), &out)?;
    let mut runs: Vec<(&str, Option<&SloSpec>)> = set
        .runs()
        .into_iter()
        .map(|(name, s)| (name, s.slo.as_ref()))
        .collect();
    if let ([only], 1) = (runs.as_mut_slice(), replications) {
        // One run is written flat into the folder, which reads it back as the base (whatever
        // a --set point named it).
        only.0 = fleetsim::scenario::BASE_NAME;
    }
    let report = gates::check(&ResultFolder::read(staging.dir())?, &runs)?;
    let slo_md = staging.dir().join(layout::SLO_MD);
    report::atomic::write(&slo_md, report.markdown(&set.base.name).as_bytes())
        .map_err(|e| OutputError::io(&out.join(layout::SLO_MD), e))?;
    staging.commit()?;
    outln!("{done}");
    outln!();
    out!("{}", report.text());
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
    out!("{}", comparison.text());
    if let Some(out) = out {
        let md = comparison.markdown(&base.display().to_string(), &new.display().to_string());
        report::atomic::write(out, md.as_bytes()).map_err(|e| OutputError::io(out, e))?;
    }
    Ok(if comparison.regressed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes the charts, report.html and summary.md of the result folder `dir` (a staging
/// folder).
fn write_report(dir: &Path, scenario: Option<&Path>) -> anyhow::Result<()> {
    report::write_report(dir, scenario).context("cannot write the report")?;
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
