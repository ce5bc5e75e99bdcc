//! Every shipped scenario, one test each: run through the command line on 1 and on 4 threads,
//! the two result folders must hold the same files byte for byte (determinism whatever
//! `--threads`), every file must have the digest recorded in `tests/golden/shipped.txt` (the
//! outputs of a refactoring are the outputs before it: issue 15), and every request must be
//! accounted for (conservation, by run, class and timeline window).
//!
//! When a change alters outputs on purpose (a semantic fix), regenerate the digests with
//! `FLEETSIM_BLESS=1 cargo test --test integration shipped -- --include-ignored` and say in the
//! commit which outputs changed and why. The heavy scenarios (over 2 s of simulation each) are
//! ignored by the default `cargo test` and run by `.ci/run`.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;

use crate::common::{files_under, repo, run, shipped_scenarios, HEAVY_SHIPPED};
use fleetsim::metrics::Failure;
use fleetsim::ScenarioSet;

/// The recorded digests, `scenario/relative/path digest` per line.
const GOLDEN: &str = "tests/golden/shipped.txt";

/// FNV-1a, 64 bits: a digest to notice any change of a file's bytes (not a security hash).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn run_cli(scenario: &Path, out: &Path, threads: &str) {
    Command::cargo_bin("fleetsim")
        .unwrap()
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--threads",
            threads,
        ])
        .assert()
        .success();
}

/// The digests recorded for `name`, by file.
fn golden(name: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo().join(GOLDEN)).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(path, digest)| {
            let rest = path.strip_prefix(name)?.strip_prefix('/')?;
            Some((rest.to_string(), digest.to_string()))
        })
        .collect()
}

/// Replaces the digests of `name` in the golden file by `digests` (`FLEETSIM_BLESS=1`). Tests
/// run in parallel: the file is rewritten under a lock.
fn bless(name: &str, digests: &BTreeMap<String, String>) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _held = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = repo().join(GOLDEN);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with(&format!("{name}/")))
        .map(str::to_string)
        .collect();
    lines.extend(digests.iter().map(|(f, d)| format!("{name}/{f} {d}")));
    lines.sort();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// The whole check of one shipped scenario (see the module doc).
fn check(name: &str) {
    let file = repo().join("scenarios").join(format!("{name}.toml"));
    let (one, four) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run_cli(&file, one.path(), "1");
    run_cli(&file, four.path(), "4");
    let (x, y) = (files_under(one.path()), files_under(four.path()));
    let names: Vec<&String> = x.keys().collect();
    assert_eq!(names, y.keys().collect::<Vec<_>>(), "{name}");
    // One summary, timeline and scaling-event list per run (the base and each variant), and
    // with variants the comparison files; the report: scenario.toml, report.html, summary.md,
    // two charts per run and the latency and cost charts (SVG and PNG each), and with variants
    // the p99-against-cost chart. A run with regions adds its regions.csv; every result folder
    // has its marker.
    let set = ScenarioSet::load(&file).unwrap();
    let runs = set.runs().len();
    let with_regions = set
        .runs()
        .iter()
        .filter(|(_, s)| s.topology.is_some())
        .count();
    let variants = if runs > 1 { 2 + 2 } else { 0 };
    let expected = 3 * runs + with_regions + 3 + 2 * 2 * runs + 2 * 2 + variants + 1;
    assert_eq!(names.len(), expected, "{name}: {names:?}");
    let mut digests = BTreeMap::new();
    for (file, bytes) in &x {
        // Even a fixed fleet's scaling_events.csv has its header.
        assert!(!bytes.is_empty(), "{name} {file} is empty");
        assert!(
            *bytes == y[file],
            "{name} {file} differs between 1 and 4 threads"
        );
        digests.insert(file.clone(), format!("{:016x}", fnv1a(bytes)));
    }
    if std::env::var_os("FLEETSIM_BLESS").is_some() {
        bless(name, &digests);
    } else {
        let recorded = golden(name);
        let changed: Vec<String> = digests
            .iter()
            .filter(|(f, d)| recorded.get(*f) != Some(d))
            .map(|(f, _)| f.clone())
            .chain(
                recorded
                    .keys()
                    .filter(|f| !digests.contains_key(*f))
                    .cloned(),
            )
            .collect();
        assert!(
            changed.is_empty(),
            "{name}: these outputs differ from {GOLDEN} (if on purpose, see this module's doc): {changed:?}"
        );
    }
    conservation(&set, name);
}

/// Every request is accounted for, in every run of the scenario, in the totals, per class and
/// in the timeline's windows, which tile the run.
fn conservation(set: &ScenarioSet, name: &str) {
    for (variant, s) in set.runs() {
        let (summary, rows) = run(s, s.seed);
        let r = summary.requests;
        let name = format!("{name} ({variant})");
        assert!(r.is_conserved(), "{name}: {r:?}");
        assert_eq!(
            r.arrived,
            r.completed
                + Failure::ALL.iter().map(|&f| r.failure(f)).sum::<u64>()
                + r.in_flight_at_end,
            "{name}"
        );
        let mut classes = fleetsim::metrics::RequestCounts::default();
        for c in summary.by_class.values() {
            assert!(c.requests.is_conserved(), "{name}: {c:?}");
            classes.arrived += c.requests.arrived;
            classes.completed += c.requests.completed;
            classes.in_flight_at_end += c.requests.in_flight_at_end;
            assert_eq!(
                Failure::ALL
                    .iter()
                    .map(|&f| c.requests.failure(f))
                    .sum::<u64>(),
                c.requests.failed()
            );
        }
        assert_eq!(
            (classes.arrived, classes.completed, classes.in_flight_at_end),
            (r.arrived, r.completed, r.in_flight_at_end),
            "{name}"
        );
        let sum = |f: fn(&fleetsim::metrics::TimelineRow) -> u64| rows.iter().map(f).sum::<u64>();
        assert_eq!(sum(|w| w.arrivals), r.arrived, "{name}");
        assert_eq!(sum(|w| w.completed), r.completed, "{name}");
        for why in Failure::ALL {
            let in_windows: u64 = rows.iter().map(|w| w.failed(why)).sum();
            assert_eq!(in_windows, r.failure(why), "{name} {}", why.name());
        }
        assert_eq!(rows.first().unwrap().start_s, 0.0);
        assert_eq!(rows.last().unwrap().end_s, summary.simulated_seconds);
        assert!(
            rows.windows(2).all(|p| p[0].end_s == p[1].start_s),
            "{name}"
        );
    }
}

/// One test per shipped scenario; `slow` ones are left to `.ci/run` (`--include-ignored`).
macro_rules! shipped {
    ($($name:ident $(, $slow:literal)?;)*) => {
        $(
            #[test]
            $(#[ignore = $slow])?
            fn $name() {
                check(stringify!($name));
            }
        )*

        /// Every scenario in `scenarios/` has its test above, and the golden file knows no
        /// other scenario.
        #[test]
        fn every_shipped_scenario_has_its_test() {
            let tested = [$(stringify!($name)),*];
            for file in shipped_scenarios() {
                let stem = file.file_stem().unwrap().to_str().unwrap().to_string();
                assert!(tested.contains(&stem.as_str()), "add {stem} to shipped!");
            }
            // The ignored ones are the heavy ones other tests leave to `.ci/run` too.
            let slow: &[&str] = &[$($({
                let _reason: &str = $slow;
                stringify!($name)
            },)?)*];
            assert_eq!(slow, HEAVY_SHIPPED);
            let text = std::fs::read_to_string(repo().join(GOLDEN)).unwrap();
            for line in text.lines() {
                let scenario = line.split('/').next().unwrap();
                assert!(tested.contains(&scenario), "{GOLDEN} names {scenario}");
            }
        }
    };
}

shipped! {
    azure_llm_replay;
    chat_closed_loop, "slow: 3 s of simulation, run by .ci/run";
    health_checks;
    hpa_behavior;
    keda_scale_to_zero;
    lb_algorithms;
    llm_batching;
    llm_fleet_sizing;
    mmc_validation;
    multi_cloud_failover;
    retry_storm;
    scheduled_and_predictive, "slow: 10 s of simulation, run by .ci/run";
    spot_mix;
    stable_diffusion_5000_users, "slow: 4 s of simulation, run by .ci/run";
    viral_spike_100x, "slow: 6 s of simulation, run by .ci/run";
}
