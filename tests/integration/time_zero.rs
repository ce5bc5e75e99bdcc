//! Issue 14, item 5: every timed input whose first point is at (or before) t = 0 is in force
//! from t = 0, and a run that starts with fewer spot instances available than its group wants
//! launches what it can from the start. Micro-scenarios worked out by hand: one arrival a
//! minute at t = 0, 60, ..., 540 s (periodic, so the first arrives at exactly 0 s), constant
//! service times.

use crate::common::{repo, run, scenario};
use fleetsim::Summary;

/// Parses `text` as a file in `tests/` (so `data/...` paths resolve to `tests/data`).
fn in_tests(text: &str) -> fleetsim::Scenario {
    fleetsim::Scenario::parse(text, &repo().join("tests/inline.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Type `box` (1 slot, $3.60/h on demand, $1.20/h spot) with `type_keys`; pool `p` with
/// `pool_keys`; one 90 s job a minute for 10 minutes.
fn micro(type_keys: &str, pool_keys: &str, extra: &str) -> String {
    format!(
        r#"
name = "time_zero"
duration = "10m"
[traffic]
rate = "1/m"
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 1
price = "$3.6/h"
spot_price = "$1.2/h"
{type_keys}
[[pool]]
name = "p"
{pool_keys}
{extra}
[[class]]
name = "job"
service = {{ distribution = "constant", value = "90s" }}
"#
    )
}

fn spot_hours(s: &Summary, key: &str) -> f64 {
    s.instances.by_pool["p"]
        .market
        .as_ref()
        .expect("a spot pool reports its market")
        .instance_hours
        .get(key)
        .copied()
        .unwrap_or(0.0)
}

#[test]
fn an_availability_trace_whose_first_value_is_zero_keeps_spot_out_from_the_start() {
    // None available until 200 s, then one. The pool wants one spot instance: it has none at
    // 0 s; its launch is refused at 0 s and at every retry 10 s apart up to 190 s (20
    // refusals), and succeeds at 200 s (no start-up phases: in service at once). Jobs 0-3 (0,
    // 60, 120, 180 s) find no target; jobs 4, 5, 6 (240, 300, 360 s) are served 240-330,
    // 330-420, 420-510; job 7 (420 s) is in service at the end, jobs 8 and 9 wait.
    // Before the fix the trace's first value was never applied: the instance ran from 0 s and
    // served 7 jobs.
    for file in [
        "spot_availability_none_at_start.csv",
        "spot_availability_none_at_start_skypilot.json",
    ] {
        let text = micro(
            &format!("spot_availability = {{ file = \"data/{file}\" }}"),
            "instance_type = \"box\"\npurchase = \"spot\"\ninstances = 1",
            "",
        );
        let (s, _) = run(&in_tests(&text), 1);
        let r = &s.requests;
        assert_eq!(
            (r.completed, r.no_healthy_target, r.in_flight_at_end),
            (3, 4, 3),
            "{file}: {r:?}"
        );
        let p = &s.instances.by_pool["p"];
        assert_eq!(p.scaling.launch_failures, 20, "{file}");
        assert_eq!(p.scaling.launches, 1, "{file}");
        assert_eq!(p.market.as_ref().unwrap().insufficient_capacity, 20);
        assert_eq!(p.market.as_ref().unwrap().spot_interruptions, 0);
        // Billed from 200 s to the end only.
        assert!(
            (spot_hours(&s, "box/spot") * 3600.0 - 400.0).abs() < 1e-9,
            "{file}"
        );
    }
}

#[test]
fn a_group_starting_with_fewer_spot_instances_than_it_wants_launches_what_it_can() {
    // Two available until 300 s, then three; the pool wants three. Two run from 0 s; the third
    // is refused at 0 s and at every retry up to 290 s (30 refusals) and runs from 300 s.
    // Before the fix all three ran from 0 s (1800 instance-seconds, no refusal).
    let text = micro(
        "spot_availability = { file = \"data/spot_availability_two_then_three.csv\" }",
        "instance_type = \"box\"\npurchase = \"spot\"\ninstances = 3",
        "",
    );
    let (s, _) = run(&in_tests(&text), 1);
    let p = &s.instances.by_pool["p"];
    assert_eq!(p.scaling.launch_failures, 30);
    assert_eq!(p.scaling.launches, 1);
    assert_eq!(p.market.as_ref().unwrap().spot_at_end, 3);
    assert!((spot_hours(&s, "box/spot") * 3600.0 - (2.0 * 600.0 + 300.0)).abs() < 1e-9);
    // The peak is what ran, not what was wanted before the market said no.
    assert_eq!(p.max, 3);
    assert!(s.requests.is_conserved());
}

#[test]
fn a_mixed_group_takes_its_next_spot_type_when_the_first_has_none_at_the_start() {
    // Spot only over `box` (cheaper) and `box2`; `box` has none available until 200 s. Both
    // initial instances are `box2` from 0 s, nothing is refused, and nothing is interrupted at
    // 200 s. Before the fix both were `box` from 0 s, and one got its notice at 200 s when the
    // trace's second point (1 available) was applied.
    let text = micro(
        "spot_availability = { file = \"data/spot_availability_none_at_start.csv\" }",
        "instances = 2\n[pool.mixed_instances]\ntypes = [\"box\", \"box2\"]\non_demand_percentage_above_base = 0",
        "[[instance_type]]\nname = \"box2\"\nconcurrency = 1\nprice = \"$3.6/h\"\nspot_price = \"$1.5/h\"",
    );
    let (s, _) = run(&in_tests(&text), 1);
    let m = s.instances.by_pool["p"].market.as_ref().unwrap();
    assert_eq!((m.spot_interruptions, m.insufficient_capacity), (0, 0));
    assert_eq!(spot_hours(&s, "box/spot"), 0.0);
    assert!((spot_hours(&s, "box2/spot") * 3600.0 - 1200.0).abs() < 1e-9);
}

/// An autoscaled pool with no instance at the start and a scheduled action at 0 s that wants
/// one; `extra` adds tables.
fn scheduled_at_zero(extra: &str) -> String {
    micro(
        "",
        "instance_type = \"box\"\ninstances = 0\n[pool.autoscaling]\nmin = 0\nmax = 2\nscheduled = { action = [{ at = \"0s\", desired = 1 }] }",
        extra,
    )
}

#[test]
fn a_scheduled_action_at_zero_is_in_force_for_the_arrival_at_zero() {
    // The action launches the instance at 0 s (in service at once); job 0 at 0 s is served.
    // Before the fix the arrival at 0 s came first in event order and found no target.
    let (s, _) = run(&scenario(&scheduled_at_zero("")), 1);
    let r = &s.requests;
    assert_eq!(r.no_healthy_target, 0, "{r:?}");
    // Served back to back from 0 s: jobs 0-5 complete by 540 s, job 6 ends at 630 s.
    assert_eq!(r.completed, 6);
    assert!(r.is_conserved());
}

#[test]
fn a_capacity_shortage_from_zero_refuses_the_launches_at_zero() {
    // Already right before issue 14 (pinned here with the rest of the class): the shortage from
    // 0 s to 100 s refuses the launch at 0 s and the retries to 90 s (10 failures); the
    // instance runs from 100 s. Jobs 0 and 1 find no target.
    let shortage =
        "[[capacity_shortage]]\ninstance_type = \"box\"\nat = \"0s\"\nduration = \"100s\"";
    let (s, _) = run(&scenario(&scheduled_at_zero(shortage)), 1);
    let p = &s.instances.by_pool["p"].scaling;
    assert_eq!((p.launch_failures, p.launches), (10, 1));
    assert_eq!(s.requests.no_healthy_target, 2);
}

#[test]
fn a_crash_fault_at_zero_is_in_force_for_the_arrival_at_zero() {
    // Already right before issue 14 (faults are scheduled while the world is built, before
    // any arrival): the only host crashes at 0 s for 5 minutes, so job 0 is not lost in service
    // but fails to connect (after the 60 s default connect timeout), as do jobs 1-4.
    let fault = "[[fault]]\npool = \"p\"\nkind = \"crash\"\nat = \"0s\"\nduration = \"5m\"";
    let (s, _) = run(
        &scenario(&micro("", "instance_type = \"box\"\ninstances = 1", fault)),
        1,
    );
    assert_eq!(s.requests.interrupted, 0);
    assert_eq!(s.requests.connect_failed, 5);
}

#[test]
fn a_replayed_spot_price_in_seconds_is_not_moved_to_its_first_row() {
    // Rows at 60 s ($1/h) and 360 s ($2/h): the first price also holds before 60 s, so one
    // spot instance for 600 s costs 360 s × $1/h + 240 s × $2/h = $840/3600. Before the fix
    // the rows were taken relative to the first (the $2/h from 300 s): $900/3600.
    let text = micro(
        "",
        "instance_type = \"box\"\npurchase = \"spot\"\ninstances = 1",
        "",
    )
    .replace(
        "spot_price = \"$1.2/h\"",
        "spot_price = { file = \"data/spot_price_from_60s.csv\" }",
    );
    let (s, _) = run(&in_tests(&text), 1);
    assert!(
        (s.cost_usd.total - 840.0 / 3600.0).abs() < 1e-12,
        "{}",
        s.cost_usd.total
    );
}
