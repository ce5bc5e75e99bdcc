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
//! The folder layout (`docs/metrics.md`, "Result folders"): one run of one replication writes
//! flat into the output folder; otherwise each run has its folder, and with replications each
//! replication its `rep-<k>` folder inside it, beside the run's `aggregate.json`.

use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::limits::{BudgetError, MemoryBudget, RunShare};
use crate::metrics::Summary;
use crate::report::{self, atomic, Aggregate, ComparisonRow, CsvTimeline};
use crate::world::guard::GuardStop;
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
    /// The memory guard stopped a run: the input drove it beyond its share (bad input).
    #[error(transparent)]
    Stopped(#[from] Box<GuardStop>),
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
                dir.push(format!("rep-{k}"));
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

impl Shard {
    /// Reads `i/n` (0 ≤ i < n).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("--shard {text}: expected i/n, such as 0/4"))?;
        let parse = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("--shard {text}: {s:?} is not a whole number"))
        };
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index >= count {
            return Err(format!(
                "--shard {text}: the shard index must be below the shard count (0/{count} to {}/{count})",
                count.saturating_sub(1)
            ));
        }
        Ok(Shard { index, count })
    }

    fn takes(&self, job: usize) -> bool {
        job % self.count as usize == self.index as usize
    }
}

/// What a shard leaves beside its job folders: which jobs it ran, so that [`merge`] can check
/// that the shards together cover every job exactly once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
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
    /// Its folder, relative to the output folder.
    pub dir: String,
}

/// The manifest's file name in a shard's output folder.
pub const MANIFEST: &str = "shard.json";

/// Runs `jobs` (those of `shard`, or all) on `threads` threads (0: every core), each into
/// `out/<job dir>`; calls `done` after each job (for a progress bar). Returns each job's
/// summary, `None` for jobs of other shards, in job order.
///
/// The runs at once share the process's memory budget ([`MemoryBudget::current`]); the budget
/// is checked before any run starts, and a run that would hold more than its share stops the
/// sweep with the memory guard's error (the first such job's, in job order).
pub fn execute(
    jobs: &[Job<'_>],
    out: &Path,
    threads: usize,
    shard: Option<Shard>,
    done: &(dyn Fn() + Sync),
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
        crate::world::guard::loaded_bytes(&scenarios),
    )?;
    let replications = jobs.iter().map(|j| j.replication).max().unwrap_or(1);
    // A run whose scenario alone does not fit is known before any runs: refuse the sweep then,
    // rather than after the runs before it.
    let mut checked: Vec<*const Scenario> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let ptr = job.scenario as *const Scenario;
        if shard.is_some_and(|s| !s.takes(i)) || checked.last() == Some(&ptr) {
            continue;
        }
        checked.push(ptr);
        crate::world::guard::caps(job.scenario, &share)
            .map_err(|stop| stop.in_run(&job.run, job.replication, replications))?;
    }
    let results: Vec<Result<Option<Summary>, SweepError>> = pool.install(|| {
        jobs.par_iter()
            .enumerate()
            .map(|(i, job)| {
                if shard.is_some_and(|s| !s.takes(i)) {
                    return Ok(None);
                }
                let summary = simulate_within(job.scenario, job.seed, &out.join(&job.dir), &share)
                    .map_err(|e| match e {
                        SweepError::Stopped(stop) => SweepError::Stopped(stop.in_run(
                            &job.run,
                            job.replication,
                            replications,
                        )),
                        e => e,
                    })?;
                done();
                Ok(Some(summary))
            })
            .collect()
    });
    results.into_iter().collect()
}

/// Simulates `scenario` with `seed`, writing `timeline.csv`, `scaling_events.csv`,
/// `summary.json` and, with regions, `regions.csv` into `dir` (each atomically). The run may
/// use the whole process's memory budget; one that does not fit is an error of kind
/// [`io::ErrorKind::OutOfMemory`] whose inner error is the memory guard's [`GuardStop`].
pub fn simulate_into(scenario: &Scenario, seed: u64, dir: &Path) -> io::Result<Summary> {
    simulate_within(scenario, seed, dir, &RunShare::whole_process()).map_err(|e| match e {
        SweepError::Io(e) => e,
        e => io::Error::new(io::ErrorKind::OutOfMemory, e),
    })
}

/// [`simulate_into`] within `share` of the memory budget.
pub fn simulate_within(
    scenario: &Scenario,
    seed: u64,
    dir: &Path,
    share: &RunShare,
) -> Result<Summary, SweepError> {
    let existed = dir.exists();
    std::fs::create_dir_all(dir)?;
    let mut timeline = atomic::AtomicFile::create(&dir.join("timeline.csv"))?;
    let mut events = atomic::AtomicFile::create(&dir.join("scaling_events.csv"))?;
    let mut sink = CsvTimeline::with_scaling_events(timeline.writer(), events.writer());
    let result = match crate::try_run(scenario, seed, &mut sink, share) {
        Ok(result) => result,
        Err(stop) => {
            // Nothing of the run is kept: its files are dropped uncommitted, and the folder
            // made for it goes too if nothing else is in it.
            drop(sink);
            drop(timeline);
            drop(events);
            if !existed {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(stop.into());
        }
    };
    sink.finish()?;
    timeline.commit()?;
    events.commit()?;
    if let Some(regions) = &result.regions {
        atomic::write(&dir.join("regions.csv"), &report::regions_csv(regions))?;
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
                &out.join(&a.run).join("aggregate.json"),
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
        index: shard.index,
        count: shard.count,
        jobs: jobs.iter().map(manifest_job).collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    bytes.push(b'\n');
    atomic::write(&out.join(MANIFEST), &bytes)
}

/// Gathers shard folders into `out`: copies every job's files, checks that the shards are
/// those of one sweep and cover each job once, then writes the aggregates and the comparison
/// as one unsharded run would. Returns the comparison's terminal table, if any.
pub fn merge(shards: &[PathBuf], out: &Path) -> Result<Option<String>, String> {
    let mut manifests = Vec::new();
    for dir in shards {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {}: {e} (is it a shard's folder?)",
                path.display()
            )
        })?;
        let m: ShardManifest = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a shard manifest: {e}", path.display()))?;
        manifests.push((dir, m));
    }
    let Some((_, first)) = manifests.first() else {
        return Err("give the shard folders to merge".into());
    };
    let (count, jobs) = (first.count, first.jobs.clone());
    let mut owner: Vec<Option<&PathBuf>> = vec![None; jobs.len()];
    for (dir, m) in &manifests {
        if m.count != count || m.jobs != jobs {
            return Err(format!(
                "{} belongs to another sweep (its jobs or shard count differ)",
                dir.display()
            ));
        }
        for (i, slot) in owner.iter_mut().enumerate() {
            if i % count as usize == m.index as usize {
                if let Some(other) = slot {
                    return Err(format!(
                        "shard {}/{count} is given twice ({} and {})",
                        m.index,
                        other.display(),
                        dir.display()
                    ));
                }
                *slot = Some(dir);
            }
        }
    }
    let mut summaries = Vec::with_capacity(jobs.len());
    for (job, dir) in jobs.iter().zip(&owner) {
        let Some(dir) = dir else {
            let missing: Vec<String> = (0..count)
                .filter(|i| !manifests.iter().any(|(_, m)| m.index == *i))
                .map(|i| format!("{i}/{count}"))
                .collect();
            return Err(format!("shards {} are missing", missing.join(", ")));
        };
        let (from, to) = (dir.join(&job.dir), out.join(&job.dir));
        std::fs::create_dir_all(&to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
        for file in [
            "summary.json",
            "timeline.csv",
            "scaling_events.csv",
            "regions.csv",
        ] {
            if file == "regions.csv" && !from.join(file).exists() {
                // Written only by runs with regions.
                continue;
            }
            let bytes = std::fs::read(from.join(file))
                .map_err(|e| format!("cannot read {}: {e}", from.join(file).display()))?;
            atomic::write(&to.join(file), &bytes)
                .map_err(|e| format!("cannot write {}: {e}", to.join(file).display()))?;
        }
        let text = std::fs::read_to_string(from.join("summary.json"))
            .map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        summaries.push(
            serde_json::from_str::<Summary>(&text)
                .map_err(|e| format!("{}: not a summary: {e}", from.display()))?,
        );
    }
    summarize_runs(&jobs, &summaries, out)
        .map_err(|e| format!("cannot write into {}: {e}", out.display()))
}
