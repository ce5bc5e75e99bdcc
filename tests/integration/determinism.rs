//! Determinism and common random numbers (every shipped scenario's determinism across threads,
//! golden outputs and conservation: `shipped.rs`).

use crate::common::{run, scenario};
use fleetsim::Scenario;

#[test]
fn a_different_seed_gives_different_results() {
    let s = Scenario::load(&crate::common::repo().join("scenarios/mmc_validation.toml")).unwrap();
    let (a, _) = run(&s, 1);
    let (b, _) = run(&s, 2);
    assert_ne!(a.requests.arrived, b.requests.arrived);
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
