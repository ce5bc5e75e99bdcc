//! Determinism, conservation and common random numbers, for every shipped scenario.

use std::path::Path;

use assert_cmd::Command;

use crate::common::{files_under, run, scenario, shipped_scenarios};
use fleetsim::metrics::Failure;
use fleetsim::{Scenario, ScenarioSet};

fn run_cli(scenario: &Path, out: &Path) {
    Command::cargo_bin("fleetsim")
        .unwrap()
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
}

#[test]
fn same_scenario_and_seed_give_byte_identical_files() {
    let scenarios = shipped_scenarios();
    assert!(
        scenarios.len() >= 2,
        "scenarios/ should ship at least two scenarios"
    );
    for file in scenarios {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        run_cli(&file, a.path());
        run_cli(&file, b.path());
        let (x, y) = (files_under(a.path()), files_under(b.path()));
        let names: Vec<&String> = x.keys().collect();
        assert_eq!(names, y.keys().collect::<Vec<_>>(), "{}", file.display());
        // One summary, timeline and scaling-event list per run (the base and each variant),
        // and with variants the comparison files; the report: scenario.toml, report.html,
        // summary.md, two charts per run and the latency and cost charts (SVG and PNG each),
        // and with variants the p99-against-cost chart.
        // A run with regions adds its regions.csv; every result folder has its marker.
        let set = ScenarioSet::load(&file).unwrap();
        let runs = set.runs().len();
        let with_regions = set
            .runs()
            .iter()
            .filter(|(_, s)| s.topology.is_some())
            .count();
        let variants = if runs > 1 { 2 + 2 } else { 0 };
        let expected = 3 * runs + with_regions + 3 + 2 * 2 * runs + 2 * 2 + variants + 1;
        assert_eq!(names.len(), expected, "{}: {names:?}", file.display());
        for (name, bytes) in &x {
            // Even a fixed fleet's scaling_events.csv has its header.
            assert!(!bytes.is_empty(), "{} {name} is empty", file.display());
            assert!(
                *bytes == y[name],
                "{} {name} differs between two runs",
                file.display()
            );
        }
    }
}

#[test]
fn a_different_seed_gives_different_results() {
    let s = Scenario::load(&crate::common::repo().join("scenarios/mmc_validation.toml")).unwrap();
    let (a, _) = run(&s, 1);
    let (b, _) = run(&s, 2);
    assert_ne!(a.requests.arrived, b.requests.arrived);
}

#[test]
fn every_request_is_accounted_for_in_every_shipped_scenario() {
    for file in shipped_scenarios() {
        let set = ScenarioSet::load(&file).unwrap();
        for (variant, s) in set.runs() {
            let (summary, rows) = run(s, s.seed);
            let r = summary.requests;
            let name = format!("{} ({variant})", file.display());
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
            // The timeline's windows add up to the totals.
            let sum =
                |f: fn(&fleetsim::metrics::TimelineRow) -> u64| rows.iter().map(f).sum::<u64>();
            assert_eq!(sum(|w| w.arrivals), r.arrived, "{name}");
            assert_eq!(sum(|w| w.completed), r.completed, "{name}");
            for why in Failure::ALL {
                let in_windows: u64 = rows.iter().map(|w| w.failed(why)).sum();
                assert_eq!(in_windows, r.failure(why), "{name} {}", why.name());
            }
            // Windows tile the run.
            assert_eq!(rows.first().unwrap().start_s, 0.0);
            assert_eq!(rows.last().unwrap().end_s, summary.simulated_seconds);
            assert!(
                rows.windows(2).all(|p| p[0].end_s == p[1].start_s),
                "{name}"
            );
        }
    }
}

const CRN_BASE: &str = r#"
name = "crn"
duration = "10m"
[traffic]
profile = { kind = "steps", steps = [{ at = "0s", rate = "50/s" }, { at = "8m", rate = "0/s" }] }
[[instance_type]]
name = "slow"
concurrency = 1
price = "$1/h"
[[instance_type]]
name = "fast"
concurrency = 1
speed = 2.0
price = "$2/h"
[[pool]]
name = "p"
instance_type = "slow"
instances = 4000
dispatch = "shared_queue"
[[class]]
name = "a"
share = 0.6
service = { distribution = "lognormal", mean = "1s", cv = 1.5 }
[[class]]
name = "b"
share = 0.4
service = { distribution = "gamma", mean = "3s", cv = 0.5 }
"#;

#[test]
fn variants_see_the_same_requests() {
    // Common random numbers: the arrival times, classes and work of requests do not depend on
    // how they are served. With enough servers that nobody waits, latency = service time, so two
    // fleets of different size serve exactly the same latencies, and a fleet twice as fast serves
    // every request in exactly half the time (up to nanosecond rounding). Arrivals stop 2 minutes
    // before the end so that every request completes in every variant: no censoring.
    let base = scenario(CRN_BASE);
    let bigger = scenario(&CRN_BASE.replace("instances = 4000", "instances = 5000"));
    let balanced =
        scenario(&CRN_BASE.replace("dispatch = \"shared_queue\"", "dispatch = \"balancer\""));
    let faster =
        scenario(&CRN_BASE.replace("instance_type = \"slow\"", "instance_type = \"fast\""));
    let (a, rows_a) = run(&base, 7);
    let (b, rows_b) = run(&bigger, 7);
    let (c, _) = run(&balanced, 7);
    let (f, _) = run(&faster, 7);
    assert_eq!(a.requests, b.requests);
    assert_eq!(a.latency_seconds, b.latency_seconds);
    assert_eq!(a.by_class, b.by_class);
    assert_eq!(a.latency_seconds, c.latency_seconds);
    let arrivals = |rows: &[fleetsim::metrics::TimelineRow]| {
        rows.iter().map(|r| r.arrivals).collect::<Vec<_>>()
    };
    assert_eq!(arrivals(&rows_a), arrivals(&rows_b));
    let (slow_mean, fast_mean) = (
        a.latency_seconds.mean.unwrap(),
        f.latency_seconds.mean.unwrap(),
    );
    assert!(
        (slow_mean / fast_mean - 2.0).abs() < 1e-6,
        "{slow_mean} vs {fast_mean}"
    );
    assert_eq!(a.requests.arrived, f.requests.arrived);
    assert_eq!(a.requests.completed, a.requests.arrived);
    assert_eq!(f.requests.completed, f.requests.arrived);
}
