//! Many runs at once: a scenario's runs (the base and its variants) times their replications
//! become jobs, run in parallel on a rayon pool, each writing its own folder; then every run's
//! replications are summed up (`aggregate.json`) and the runs compared (`comparison.csv`).
//!
//! Jobs can be split across machines: shard `i` of `n` runs every job whose index is `i`
//! modulo `n` and writes a manifest; [`merge`] gathers shard folders and writes the aggregates
//! and the comparison from the summaries read back, so a sharded-then-merged sweep writes the
//! same bytes as one run on one machine (the summaries round-trip exactly through JSON).
//!
//! Determinism: a job depends only on its scenario and seed, results are placed by job index,
//! and aggregates are computed in job order after every job has finished — whatever the number
//! of threads or shards.
//!
//! The folder layout (`docs/metrics.md`, "Result folders"; names in [`crate::layout`]): one run
//! of one replication writes flat into the output folder; otherwise each run has its folder, and
//! with replications each replication its `rep-<k>` folder inside it, beside the run's
//! `aggregate.json`. The output folder given here is a staging folder
//! ([`report::staging`]): nothing here creates it, only folders below it.
//!
//! [`merge`] reads folders that come from other machines and trusts nothing in them: a
//! manifest's names and folders must be what [`plan`] would have made of them (so no path can
//! leave the output folder), the shards must agree on the sweep (scenario, seeds, shard count)
//! and cover each job once, no file is read through a symbolic link, and every summary must be
//! of the job its manifest says.

use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::layout;
use crate::limits::{BudgetError, MemoryBudget, RunShare};
use crate::metrics::Aggregate;
use crate::metrics::Summary;
use crate::report::staging::{create_dirs, OutputError};
use crate::report::{self, atomic, ComparisonRow, CsvTimeline};
use crate::world::memory_guard;
use crate::RunError;
use crate::{Scenario, ScenarioSet};

/// Why a sweep did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Writing a result failed (an I/O or environment failure).
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The runs at once do not fit in the memory budget (bad usage: `--threads`,
    /// `--max-memory`).
    #[error(transparent)]
    Budget(#[from] BudgetError),
    /// A run stopped before its end: the input drove it where it cannot go on (bad input: a
    /// loop at one instant, more held than its share of the memory budget).
    #[error(transparent)]
    Run(#[from] RunError),
}

/// One simulation to run.
#[derive(Debug, Clone)]
pub struct Job<'s> {
    /// The run it belongs to (`base`, a variant's name).
    pub run: String,
    /// The scenario of that run.
    pub scenario: &'s Scenario,
    /// Its replication, from 1.
    pub replication: u32,
    /// Its master seed: the run's seed plus the replication's index from 0.
    pub seed: u64,
    /// Its folder, relative to the output folder (empty for a flat layout).
    pub dir: PathBuf,
}

/// The jobs of `set`: every run times `replications` (at least 1), in run order then
/// replication order. `seed` overrides every run's own seed.
pub fn plan<'s>(set: &'s ScenarioSet, seed: Option<u64>, replications: u32) -> Vec<Job<'s>> {
    let replications = replications.max(1);
    let runs = set.runs();
    let flat = runs.len() == 1 && replications == 1;
    let mut jobs = Vec::new();
    for (name, scenario) in runs {
        let base_seed = seed.unwrap_or(scenario.seed);
        for k in 1..=replications {
            let mut dir = PathBuf::new();
            if !flat {
                dir.push(name);
            }
            if replications > 1 {
                dir.push(layout::replication_dir(k));
            }
            jobs.push(Job {
                run: name.to_string(),
                scenario,
                replication: k,
                seed: base_seed.wrapping_add(u64::from(k - 1)),
                dir,
            });
        }
    }
    jobs
}

/// Which jobs this process runs: shard `index` of `count` (from 0) takes every job whose index
/// is `index` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

/// A `--shard` that is not `i/n` with 0 ≤ i < n.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not two numbers around a `/`.
    #[error("--shard {text}: expected i/n, such as 0/4")]
    Form {
        /// The text given.
        text: String,
    },
    /// One side is not a whole number.
    #[error("--shard {text}: {part:?} is not a whole number")]
    NotANumber {
        /// The text given.
        text: String,
        /// The side that is not.
        part: String,
    },
    /// The index is not below the count (or the count is 0).
    #[error("--shard {text}: the shard index must be below the shard count (0/{count} to {}/{count})", .count.saturating_sub(1))]
    OutOfRange {
        /// The text given.
        text: String,
        /// The shard count it gives.
        count: u32,
    },
}

impl Shard {
    /// Reads `i/n` (0 ≤ i < n).
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let (i, n) = text.split_once('/').ok_or_else(|| ShardError::Form {
            text: text.to_string(),
        })?;
        let parse = |s: &str| {
            s.trim().parse::<u32>().map_err(|_| ShardError::NotANumber {
                text: text.to_string(),
                part: s.to_string(),
            })
        };
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index >= count {
            return Err(ShardError::OutOfRange {
                text: text.to_string(),
                count,
            });
        }
        Ok(Shard { index, count })
    }

    fn takes(&self, job: usize) -> bool {
        job % self.count as usize == self.index as usize
    }
}

/// What a shard leaves beside its job folders: which jobs it ran, so that [`merge`] can check
/// that the shards together cover every job exactly once and are of one sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// The scenario's name.
    pub scenario: String,
    /// The shard.
    pub index: u32,
    /// Of how many.
    pub count: u32,
    /// Every job of the sweep, in order: its run, replication and folder.
    pub jobs: Vec<ManifestJob>,
}

/// One job as a manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestJob {
    /// Its run.
    pub run: String,
    /// Its replication, from 1.
    pub replication: u32,
    /// Its master seed.
    pub seed: u64,
    /// Its folder, relative to the output folder.
    pub dir: String,
}

/// The manifest's file name in a shard's output folder.
pub const MANIFEST: &str = layout::MANIFEST_JSON;

/// Runs `jobs` (those of `shard`, or all) on `threads` threads (0: every core), each into
/// `out/<job dir>` (`out` must exist: it is the staging folder); calls `done` after each job
/// and `progress` now and then with the fraction of a job's duration simulated (for progress
/// bars; see [`crate::run_with`]). Returns each job's summary, `None` for jobs of other
/// shards, in job order.
///
/// The runs at once share the process's memory budget ([`MemoryBudget::current`]); the budget
/// is checked before any run starts, and a run that stops (a [`RunError`], named with its run
/// and replication: the memory guard, a loop at one instant) stops the sweep with its error
/// (the first such job's, in job order).
pub fn execute(
    jobs: &[Job<'_>],
    out: &Path,
    threads: usize,
    shard: Option<Shard>,
    done: &(dyn Fn() + Sync),
    progress: &(dyn Fn(f64) + Sync),
) -> Result<Vec<Option<Summary>>, SweepError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(io::Error::other)?;
    let mine = (0..jobs.len())
        .filter(|&i| shard.is_none_or(|s| s.takes(i)))
        .count();
    let scenarios: Vec<&Scenario> = jobs.iter().map(|j| j.scenario).collect();
    let share = MemoryBudget::current().run_share(
        pool.current_num_threads().min(mine),
        memory_guard::loaded_bytes(&scenarios),
    )?;
    // A run whose scenario alone does not fit is known before any runs: refuse the sweep then,
    // rather than after the runs before it.
    let mut checked: Vec<*const Scenario> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let ptr = job.scenario as *const Scenario;
        if shard.is_some_and(|s| !s.takes(i)) || checked.last() == Some(&ptr) {
            continue;
        }
        checked.push(ptr);
        memory_guard::caps(job.scenario, &share)
            .map_err(|stop| RunError::from(stop).in_run(job_name(job)))?;
    }
    let results: Vec<Result<Option<Summary>, SweepError>> = pool.install(|| {
        jobs.par_iter()
            .enumerate()
            .map(|(i, job)| {
                if shard.is_some_and(|s| !s.takes(i)) {
                    return Ok(None);
                }
                create_dirs(out, &job.dir)?;
                let summary = simulate_within(
                    job.scenario,
                    job.seed,
                    &out.join(&job.dir),
                    &share,
                    progress,
                )
                .map_err(|e| match e {
                    SweepError::Run(stop) => SweepError::Run(stop.in_run(job_name(job))),
                    e => e,
                })?;
                done();
                Ok(Some(summary))
            })
            .collect()
    });
    results.into_iter().collect()
}

/// How errors name `job`'s run.
fn job_name(job: &Job<'_>) -> String {
    format!(
        "run {} (replication {}, seed {})",
        job.run, job.replication, job.seed
    )
}

/// Simulates `scenario` with `seed`, writing `timeline.csv`, `scaling_events.csv`,
/// `summary.json` and, with regions, `regions.csv` into the existing folder `dir` (each
/// atomically). The run may use the whole process's memory budget.
pub fn simulate_into(scenario: &Scenario, seed: u64, dir: &Path) -> Result<Summary, SweepError> {
    simulate_within(scenario, seed, dir, &RunShare::whole_process(), &|_| {})
}

/// [`simulate_into`] within `share` of the memory budget, reporting its progress to `progress`
/// (see [`crate::run_with`]). A run that stops early commits none of its files (the caller's
/// staging folder then goes whole).
pub fn simulate_within(
    scenario: &Scenario,
    seed: u64,
    dir: &Path,
    share: &RunShare,
    progress: &dyn Fn(f64),
) -> Result<Summary, SweepError> {
    let mut timeline = atomic::AtomicFile::create(&dir.join(layout::TIMELINE_CSV))?;
    let mut events = atomic::AtomicFile::create(&dir.join(layout::SCALING_EVENTS_CSV))?;
    let mut sink = CsvTimeline::with_scaling_events(timeline.writer(), events.writer());
    let result = crate::run_with(scenario, seed, &mut sink, share, progress)?;
    sink.finish()?;
    timeline.commit()?;
    events.commit()?;
    if let Some(regions) = &result.regions {
        atomic::write(
            &dir.join(layout::REGIONS_CSV),
            &report::regions_csv(regions),
        )?;
    }
    report::write_summary(dir, &result.summary)?;
    Ok(result.summary)
}

/// Writes what sums up a finished sweep into `out`: each run's `aggregate.json` (with
/// replications) and the comparison (unless the layout is flat). `summaries` are every job's,
/// in job order. Returns the comparison's terminal table, if one was written.
pub fn summarize(
    jobs: &[Job<'_>],
    summaries: &[Summary],
    out: &Path,
) -> io::Result<Option<String>> {
    let manifest: Vec<ManifestJob> = jobs.iter().map(manifest_job).collect();
    summarize_runs(&manifest, summaries, out)
}

fn manifest_job(job: &Job<'_>) -> ManifestJob {
    ManifestJob {
        run: job.run.clone(),
        replication: job.replication,
        seed: job.seed,
        dir: job.dir.to_string_lossy().into_owned(),
    }
}

fn summarize_runs(
    jobs: &[ManifestJob],
    summaries: &[Summary],
    out: &Path,
) -> io::Result<Option<String>> {
    let flat = jobs.len() == 1 && jobs[0].dir.is_empty();
    if flat {
        return Ok(None);
    }
    // Runs in job order, each with the range of its jobs.
    let mut runs: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        match runs.last_mut() {
            Some((name, range)) if *name == job.run => range.end = i + 1,
            _ => runs.push((&job.run, i..i + 1)),
        }
    }
    let replicated = runs.iter().any(|(_, r)| r.len() > 1);
    let aggregates: Vec<Aggregate> = runs
        .iter()
        .map(|(name, range)| Aggregate::of(name, &summaries[range.clone()]))
        .collect();
    if replicated {
        for a in &aggregates {
            atomic::write(
                &out.join(&a.run).join(layout::AGGREGATE_JSON),
                &report::aggregate_json(a),
            )?;
        }
    }
    let rows: Vec<ComparisonRow<'_>> = runs
        .iter()
        .zip(&aggregates)
        .map(|((name, range), a)| {
            let first = &summaries[range.start];
            if replicated {
                ComparisonRow::replicated(name, &first.scenario, a)
            } else {
                ComparisonRow::single(name, first)
            }
        })
        .collect();
    report::write_comparison(out, &rows)?;
    Ok(Some(report::comparison_text(&rows)))
}

/// Writes shard `shard`'s manifest of `jobs` into `out`.
pub fn write_manifest(jobs: &[Job<'_>], shard: Shard, out: &Path) -> io::Result<()> {
    let manifest = ShardManifest {
        scenario: jobs
            .first()
            .map(|j| j.scenario.name.clone())
            .unwrap_or_default(),
        index: shard.index,
        count: shard.count,
        jobs: jobs.iter().map(manifest_job).collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    bytes.push(b'\n');
    atomic::write(&out.join(MANIFEST), &bytes)
}

/// Why shard folders could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// The shard folders are not what `fleetsim run --shard` writes, or are not the shards of
    /// one sweep: bad input (exit code 2).
    #[error("{message}\nhelp: {help}")]
    Shards {
        /// What is wrong.
        message: String,
        /// What to do.
        help: String,
    },
    /// The merged folder could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

fn refuse(message: impl Into<String>, help: impl Into<String>) -> MergeError {
    MergeError::Shards {
        message: message.into(),
        help: help.into(),
    }
}

const RERUN: &str = "shard folders are written by `fleetsim run --shard i/n`: run the shard again rather than editing its files";

/// The largest manifest or summary `merge` reads, in bytes: far above what a sweep writes,
/// far below what would exhaust memory.
const MAX_JSON_BYTES: u64 = 64 << 20;

/// At most this many characters of a name read from a shard are echoed in a message.
const SHOWN_CHARS: usize = 60;

/// `text` for a message: escaped (`{:?}`) and cut to [`SHOWN_CHARS`] characters.
fn shown(text: &str) -> String {
    let cut: String = text.chars().take(SHOWN_CHARS).collect();
    if cut.len() < text.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// Why `name` cannot be a run's name in a manifest: it must be one the scenario reader and
/// `--set` can make (letters, digits and `_-.=+`), a usable folder name, and not a name of a
/// result folder's own files.
fn run_name_problem(name: &str) -> Option<String> {
    if let Some(why) = layout::unusable(name) {
        return Some(why.into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.=+".contains(c))
    {
        return Some("it holds a character other than letters, digits and _-.=+".into());
    }
    layout::clash(name).map(|c| format!("it would be taken for {c}"))
}

/// Checks that a manifest is one [`write_manifest`] writes: the shard within the count, every
/// name usable, the jobs in [`plan`]'s order with its seeds, and each job's folder exactly the
/// one [`plan`] gives it (so that no folder can be outside the output folder).
fn check_manifest(m: &ShardManifest, path: &Path) -> Result<(), MergeError> {
    let bad = |what: String| refuse(format!("{}: {what}", path.display()), RERUN);
    if m.count == 0 || m.index >= m.count {
        return Err(bad(format!(
            "shard {}/{} is not a shard (the index must be below the count)",
            m.index, m.count
        )));
    }
    if let Some(why) = layout::unusable(&m.scenario) {
        return Err(bad(format!(
            "the scenario name {} is not usable: {why}",
            shown(&m.scenario)
        )));
    }
    if m.jobs.is_empty() {
        return Err(bad("it lists no job".into()));
    }
    // Runs in order, each with its replications 1..=R and seeds seed, seed + 1, ...
    let mut runs: Vec<(&str, u32)> = Vec::new();
    for (i, job) in m.jobs.iter().enumerate() {
        if let Some(why) = run_name_problem(&job.run) {
            return Err(bad(format!(
                "job {i}: the run name {} is not usable: {why}",
                shown(&job.run)
            )));
        }
        let previous = i.checked_sub(1).map(|p| &m.jobs[p]);
        match previous {
            Some(p) if p.run == job.run => {
                if job.replication != p.replication.wrapping_add(1)
                    || job.seed != p.seed.wrapping_add(1)
                {
                    return Err(bad(format!(
                        "job {i}: replication {} of run {} (seed {}) does not follow replication {} (seed {})",
                        job.replication,
                        shown(&job.run),
                        job.seed,
                        p.replication,
                        p.seed
                    )));
                }
                runs.last_mut().expect("a run was pushed").1 = job.replication;
            }
            _ => {
                if job.replication != 1 {
                    return Err(bad(format!(
                        "job {i}: run {} starts at replication {}, not 1",
                        shown(&job.run),
                        job.replication
                    )));
                }
                if let Some((other, _)) =
                    runs.iter().find(|(r, _)| r.eq_ignore_ascii_case(&job.run))
                {
                    return Err(bad(format!(
                        "job {i}: the run {} is listed twice (as {}; names differing only in case name one folder on some file systems)",
                        shown(&job.run),
                        shown(other)
                    )));
                }
                runs.push((&job.run, 1));
            }
        }
    }
    let replications = runs[0].1;
    if let Some((run, r)) = runs.iter().find(|(_, r)| *r != replications) {
        return Err(bad(format!(
            "run {} has {r} replications and run {} {replications}: a sweep gives every run the same number",
            shown(run),
            shown(runs[0].0)
        )));
    }
    let flat = runs.len() == 1 && replications == 1;
    for (i, job) in m.jobs.iter().enumerate() {
        let mut expected = PathBuf::new();
        if !flat {
            expected.push(&job.run);
        }
        if replications > 1 {
            expected.push(layout::replication_dir(job.replication));
        }
        if Path::new(&job.dir) != expected {
            return Err(bad(format!(
                "job {i}: its folder is {}, where run {} replication {} is written to {}",
                shown(&job.dir),
                shown(&job.run),
                job.replication,
                shown(&expected.to_string_lossy())
            )));
        }
    }
    Ok(())
}

/// `root/rel/file` if it is a regular file reached through real folders only (no symbolic
/// link anywhere below `root`); `None` if the file is absent.
fn shard_file(root: &Path, rel: &Path, file: &str) -> Result<Option<PathBuf>, MergeError> {
    let mut path = root.to_path_buf();
    for c in rel.components() {
        // `check_manifest` admits only the folders `plan` makes: names going down.
        let std::path::Component::Normal(part) = c else {
            return Err(refuse(
                format!("{}: not a folder below the shard", rel.display()),
                RERUN,
            ));
        };
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(refuse(
                    format!(
                        "{} is not a folder (a symbolic link is not followed)",
                        path.display()
                    ),
                    RERUN,
                ))
            }
            Err(e) => {
                return Err(refuse(
                    format!("cannot read {}: {e}", path.display()),
                    "give every shard's whole folder, as `fleetsim run --shard` wrote it",
                ))
            }
        }
    }
    path.push(file);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => Ok(Some(path)),
        Ok(_) => Err(refuse(
            format!(
                "{} is not a file (a symbolic link is not followed)",
                path.display()
            ),
            RERUN,
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(refuse(
            format!("cannot read {}: {e}", path.display()),
            RERUN,
        )),
    }
}

/// The text of the JSON file `path`, refused above [`MAX_JSON_BYTES`].
fn read_json_text(path: &Path) -> Result<String, MergeError> {
    let cannot = |e: io::Error| refuse(format!("cannot read {}: {e}", path.display()), RERUN);
    let len = std::fs::metadata(path).map_err(cannot)?.len();
    if len > MAX_JSON_BYTES {
        return Err(refuse(
            format!(
                "{} is {len} bytes, more than fleetsim writes ({MAX_JSON_BYTES} at most are read)",
                path.display()
            ),
            RERUN,
        ));
    }
    std::fs::read_to_string(path).map_err(cannot)
}

/// Refuses a CSV with a cell that a spreadsheet would take for a formula (fleetsim's writers
/// neutralise every text cell: `report::csv_cell`).
fn check_csv(path: &Path) -> Result<(), MergeError> {
    let cannot = |e: csv::Error| refuse(format!("cannot read {}: {e}", path.display()), RERUN);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(cannot)?;
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(cannot)? {
        for (column, field) in record.iter().enumerate() {
            let cell = String::from_utf8_lossy(field);
            if report::csv_cell::is_formula(&cell) {
                let line = record.position().map_or(0, |p| p.line());
                return Err(refuse(
                    format!(
                        "{}: line {line}, column {}: the cell {} would run as a formula in a spreadsheet, and fleetsim writes none",
                        path.display(),
                        column + 1,
                        shown(&cell)
                    ),
                    RERUN,
                ));
            }
        }
    }
    Ok(())
}

/// Reads and checks the manifest of the shard folder `dir`.
fn read_manifest(dir: &Path) -> Result<ShardManifest, MergeError> {
    let path = dir.join(MANIFEST);
    let Some(file) = shard_file(dir, Path::new(""), MANIFEST)? else {
        return Err(refuse(
            format!(
                "{} has no {MANIFEST}: it is not a shard's folder",
                dir.display()
            ),
            "give the --out folders of `fleetsim run --shard i/n`",
        ));
    };
    let m: ShardManifest = serde_json::from_str(&read_json_text(&file)?).map_err(|e| {
        refuse(
            format!("{} is not a shard manifest: {e}", path.display()),
            "shards written by an earlier version of fleetsim lack the scenario and seeds: run them again",
        )
    })?;
    check_manifest(&m, &path)?;
    Ok(m)
}

/// Checks that every manifest is of the sweep of the first one: the same scenario, shard count
/// and jobs (runs, replications, seeds, folders), and the same scenario text where shards kept
/// it; returns that text.
fn check_one_sweep(manifests: &[(&PathBuf, ShardManifest)]) -> Result<Option<Vec<u8>>, MergeError> {
    let (first_dir, first) = &manifests[0];
    let help = "merge the shards of one `fleetsim run --shard i/n` sweep: the same scenario file, seed, --replications, --set and shard count n";
    for (dir, m) in &manifests[1..] {
        let (a, b) = (first_dir.display(), dir.display());
        if m.scenario != first.scenario {
            return Err(refuse(
                format!(
                    "{b} is a shard of scenario {}, and {a} of scenario {}",
                    shown(&m.scenario),
                    shown(&first.scenario)
                ),
                help,
            ));
        }
        if m.count != first.count {
            return Err(refuse(
                format!(
                    "{b} is shard {}/{}, and {a} shard {}/{}: the shard counts differ",
                    m.index, m.count, first.index, first.count
                ),
                help,
            ));
        }
        if m.jobs != first.jobs {
            let differ = m.jobs.iter().zip(&first.jobs).find(|(x, y)| x != y);
            let what = match differ {
                Some((x, y)) if x.run == y.run && x.replication == y.replication => format!(
                    "run {} replication {} has seed {} in {b} and {} in {a}",
                    shown(&x.run),
                    x.replication,
                    x.seed,
                    y.seed
                ),
                Some((x, y)) => format!(
                    "{b} lists run {} replication {} where {a} lists run {} replication {}",
                    shown(&x.run),
                    x.replication,
                    shown(&y.run),
                    y.replication
                ),
                None => format!(
                    "{b} lists {} jobs and {a} {}",
                    m.jobs.len(),
                    first.jobs.len()
                ),
            };
            return Err(refuse(
                format!("the shards are not of one sweep: {what}"),
                help,
            ));
        }
    }
    // The scenario text each shard kept must be the same file.
    let mut kept: Option<(&PathBuf, Vec<u8>)> = None;
    for (dir, _) in manifests {
        let Some(path) = shard_file(dir, Path::new(""), layout::SCENARIO_TOML)? else {
            continue;
        };
        let text = std::fs::read(&path)
            .map_err(|e| refuse(format!("cannot read {}: {e}", path.display()), RERUN))?;
        match &kept {
            Some((other, t)) if *t != text => {
                return Err(refuse(
                    format!(
                        "{} and {} were run from different scenario files ({} differs)",
                        other.display(),
                        dir.display(),
                        layout::SCENARIO_TOML
                    ),
                    help,
                ))
            }
            Some(_) => {}
            None => kept = Some((dir, text)),
        }
    }
    Ok(kept.map(|(_, text)| text))
}

/// Gathers shard folders into `out` (an existing, empty staging folder): checks that the
/// shards are those of one sweep and cover each job once, copies every job's files (checking
/// that each summary is of its job and that no CSV cell could run as a formula) and the
/// scenario's text, then writes the aggregates and the comparison as one unsharded run would. Returns the comparison's
/// terminal table, if any.
pub fn merge(shards: &[PathBuf], out: &Path) -> Result<Option<String>, MergeError> {
    if shards.is_empty() {
        return Err(refuse(
            "no shard folder given",
            "give the shard folders to merge",
        ));
    }
    let mut manifests = Vec::with_capacity(shards.len());
    for dir in shards {
        manifests.push((dir, read_manifest(dir)?));
    }
    let scenario_text = check_one_sweep(&manifests)?;
    let (count, jobs) = (manifests[0].1.count, manifests[0].1.jobs.clone());
    let scenario = manifests[0].1.scenario.clone();
    let mut owner: Vec<Option<&PathBuf>> = vec![None; jobs.len()];
    for (dir, m) in &manifests {
        for (i, slot) in owner.iter_mut().enumerate() {
            if i % count as usize == m.index as usize {
                if let Some(other) = slot {
                    return Err(refuse(
                        format!(
                            "shard {}/{count} is given twice ({} and {})",
                            m.index,
                            other.display(),
                            dir.display()
                        ),
                        "give each shard's folder once",
                    ));
                }
                *slot = Some(*dir);
            }
        }
    }
    if owner.iter().any(Option::is_none) {
        let missing: Vec<String> = (0..count)
            .filter(|i| !manifests.iter().any(|(_, m)| m.index == *i))
            .map(|i| format!("{i}/{count}"))
            .collect();
        return Err(refuse(
            format!("shards {} are missing", missing.join(", ")),
            "give every shard's folder: each one holds an n-th of the jobs",
        ));
    }
    let mut summaries = Vec::with_capacity(jobs.len());
    for (job, dir) in jobs.iter().zip(&owner) {
        let dir = dir.expect("every job has its shard: checked above");
        let rel = Path::new(&job.dir);
        let to = out.join(rel);
        create_dirs(out, rel).map_err(|e| OutputError::io(&to, e))?;
        let summary_path = shard_file(dir, rel, layout::SUMMARY_JSON)?;
        let Some(summary_path) = summary_path else {
            return Err(refuse(
                format!(
                    "{} has no {} for run {} replication {}",
                    dir.join(rel).display(),
                    layout::SUMMARY_JSON,
                    shown(&job.run),
                    job.replication
                ),
                RERUN,
            ));
        };
        let summary: Summary =
            serde_json::from_str(&read_json_text(&summary_path)?).map_err(|e| {
                refuse(
                    format!("{}: not a summary: {e}", summary_path.display()),
                    RERUN,
                )
            })?;
        if summary.scenario != scenario || summary.seed != job.seed {
            return Err(refuse(
                format!(
                    "{} is of scenario {} seed {}, where the manifest says scenario {} seed {}",
                    summary_path.display(),
                    shown(&summary.scenario),
                    summary.seed,
                    shown(&scenario),
                    job.seed
                ),
                RERUN,
            ));
        }
        for file in [
            layout::SUMMARY_JSON,
            layout::TIMELINE_CSV,
            layout::SCALING_EVENTS_CSV,
            layout::REGIONS_CSV,
        ] {
            let Some(from) = shard_file(dir, rel, file)? else {
                if file == layout::REGIONS_CSV {
                    // Written only by runs with regions.
                    continue;
                }
                return Err(refuse(
                    format!("{} has no {file}", dir.join(rel).display()),
                    RERUN,
                ));
            };
            if file.ends_with(".csv") {
                check_csv(&from)?;
            }
            copy_file(&from, &to.join(file))?;
        }
        summaries.push(summary);
    }
    if let Some(text) = scenario_text {
        // Every shard kept the scenario's text: it goes with the merge, for the report.
        let path = out.join(layout::SCENARIO_TOML);
        atomic::write(&path, &text).map_err(|e| OutputError::io(&path, e))?;
    }
    summarize_runs(&jobs, &summaries, out).map_err(|e| OutputError::io(out, e).into())
}

/// Copies `from` (a shard's file) to `to` (in the staging folder), streaming.
fn copy_file(from: &Path, to: &Path) -> Result<(), MergeError> {
    let mut source = std::fs::File::open(from)
        .map_err(|e| refuse(format!("cannot read {}: {e}", from.display()), RERUN))?;
    let mut target = std::fs::File::create(to).map_err(|e| OutputError::io(to, e))?;
    io::copy(&mut source, &mut target).map_err(|e| OutputError::io(to, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_i_of_n_and_anything_else_is_a_typed_error() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert_eq!(Shard::parse(" 0 / 1 "), Ok(Shard { index: 0, count: 1 }));
        let e = |text: &str| Shard::parse(text).unwrap_err();
        assert!(matches!(e("3"), ShardError::Form { .. }));
        assert_eq!(e("3").to_string(), "--shard 3: expected i/n, such as 0/4");
        assert_eq!(
            e("a/4"),
            ShardError::NotANumber {
                text: "a/4".into(),
                part: "a".into()
            }
        );
        assert_eq!(
            e("1/-2").to_string(),
            "--shard 1/-2: \"-2\" is not a whole number"
        );
        assert_eq!(
            e("3/2").to_string(),
            "--shard 3/2: the shard index must be below the shard count (0/2 to 1/2)"
        );
        assert!(matches!(e("0/0"), ShardError::OutOfRange { count: 0, .. }));
        assert_eq!(
            e("0/0").to_string(),
            "--shard 0/0: the shard index must be below the shard count (0/0 to 0/0)"
        );
    }
}
