//! Spot instances, mixed instances policies, capacity shortages and random faults, in
//! micro-scenarios worked out by hand (arrivals periodic, service times constant, so every event
//! time is exact) and one statistical check of the interruption hazard.

use crate::common::{run, scenario};
use fleetsim::metrics::PoolMarket;
use fleetsim::Summary;

/// One instance of type `box` (1 slot, $3.60/h on demand, $1.20/h spot) in pool `p`, one
/// arrival a minute at t = 0, 60, ..., 540 s (10 in the 10-minute run), each needing 90 s.
/// Without faults the server falls behind by 30 s a minute:
///
/// ```text
/// job      0    1    2    3    4    5    6 ...
/// arrives  0   60  120  180  240  300  360
/// serves 0-90 90-180 180-270 270-360 ...
/// ```
fn one_spot_box(pool_keys: &str, extra: &str) -> String {
    format!(
        r#"
name = "micro_spot"
duration = "10m"
[traffic]
rate = "1/m"
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 1
price = "$3.6/h"
spot_price = "$1.2/h"
[[pool]]
name = "p"
instances = 1
{pool_keys}
{extra}
[[class]]
name = "job"
service = {{ distribution = "constant", value = "90s" }}
"#
    )
}

const NOTICE_AT_200S: &str = r#"
[[fault]]
pool = "p"
kind = "spot_interruption"
at = "200s"
"#;

const MIXED_REBALANCING: &str = r#"
[pool.mixed_instances]
types = ["box"]
on_demand_percentage_above_base = 0
capacity_rebalance = true
"#;

fn market(s: &Summary) -> &PoolMarket {
    s.instances.by_pool["p"]
        .market
        .as_ref()
        .expect("a spot pool reports its market")
}

#[test]
fn an_interruption_notice_drains_the_instance_and_nothing_vanishes() {
    // The notice comes at 200 s: the instance serves job 2 (180-270) and holds job 3 (arrived
    // 180) in its queue. It is deregistered at once, so jobs 4 (240) and 5 (300) find no
    // target: without capacity rebalancing the group replaces it only once the cloud has
    // reclaimed it, at 200 + 120 = 320 s. Job 2 ends at 270, inside the notice; job 3 starts at
    // 270, would end at 360, and is cut at 320: interrupted, lost to the spot interruption.
    // The replacement (instant start-up) serves job 6 (360-450) and job 7 (420 → 450-540);
    // job 8 (480 → 540-630) is in service and job 9 (540) waits at the end.
    let (s, _) = run(
        &scenario(&one_spot_box(
            "instance_type = \"box\"\npurchase = \"spot\"",
            NOTICE_AT_200S,
        )),
        1,
    );
    let r = &s.requests;
    assert_eq!(r.arrived, 10);
    assert_eq!(r.completed, 5, "jobs 0, 1, 2, 6, 7");
    assert_eq!(
        r.interrupted, 1,
        "job 3, cut when the cloud reclaims the host"
    );
    assert_eq!(
        r.no_healthy_target, 2,
        "jobs 4 and 5, while no instance is registered"
    );
    assert_eq!(r.in_flight_at_end, 2, "jobs 8 and 9");
    assert!(r.is_conserved());
    assert_eq!(s.lost_by_cause.requests.spot_interruption, 1);
    assert_eq!(s.lost_by_cause.requests.total(), 1);
    // Latencies 90, 120, 150 (jobs 0-2), 90, 120 (jobs 6, 7): mean 570 / 5 = 114 s.
    assert_eq!(s.latency_seconds.mean, Some(114.0));
    let m = market(&s);
    assert_eq!((m.spot_interruptions, m.spot_reclaimed), (1, 1));
    assert_eq!((m.on_demand_at_end, m.spot_at_end), (0, 1));
    // One instance at every moment, 600 s at the $1.20/h spot price: $0.20.
    assert!(
        (s.cost_usd.total - 0.2).abs() < 1e-12,
        "{}",
        s.cost_usd.total
    );
}

#[test]
fn capacity_rebalancing_replaces_at_the_notice_and_earlier_on_a_recommendation() {
    // With capacity rebalancing the replacement launches at the notice (200 s) and serves job 4
    // (240-330), job 5 (300 → 330-420) and job 6 (360 → 420-510); jobs 7-9 are in flight at
    // the end. The interrupted host still finishes job 2 and loses job 3 at 320 s.
    let at_notice = format!("{MIXED_REBALANCING}{NOTICE_AT_200S}");
    let (s, _) = run(&scenario(&one_spot_box("", &at_notice)), 1);
    let r = &s.requests;
    assert_eq!(
        (
            r.completed,
            r.interrupted,
            r.no_healthy_target,
            r.in_flight_at_end
        ),
        (6, 1, 0, 3)
    );
    assert!(r.is_conserved());
    assert_eq!(s.lost_by_cause.requests.spot_interruption, 1);
    // Latencies 90, 120, 150, 90, 120, 150: mean 120 s. Instance-hours: the old host 0-320 s
    // and the new one 200-600 s, 720 s = 0.2 h.
    assert_eq!(s.latency_seconds.mean, Some(120.0));
    assert!((s.instances.instance_hours - 0.2).abs() < 1e-12);

    // A rebalance recommendation 150 s ahead (at 50 s): the replacement is in service at 50 s
    // and the at-risk host drains: it finishes job 0 at 90 s and is terminated before its
    // notice. Nothing is lost: the new host serves jobs 1-5 (60-150, 150-240, 240-330,
    // 330-420, 420-510); jobs 6-9 are in flight at the end.
    let ahead = at_notice.replace("at = \"200s\"", "at = \"200s\"\nrebalance_lead = \"150s\"");
    let (s, _) = run(&scenario(&one_spot_box("", &ahead)), 1);
    let r = &s.requests;
    assert_eq!(
        (r.completed, r.failed(), r.in_flight_at_end),
        (6, 0, 4),
        "{r:?}"
    );
    assert!(s.lost_by_cause.is_empty());
    // Latencies 90, 90, 120, 150, 180, 210: mean 140 s.
    assert_eq!(s.latency_seconds.mean, Some(140.0));
    let m = market(&s);
    assert_eq!(
        (m.rebalance_recommendations, m.rebalance_replacements),
        (1, 1)
    );
    assert_eq!(
        m.spot_interruptions, 0,
        "the host was gone before its notice"
    );
}

/// A pool of `types` in priority order (each one slot, prices below) under the mixed
/// instances policy `policy`, scaled by scheduled actions setting desired capacity `path[k]`
/// at minute k + 1; the run ends 30 s after the last.
fn mixed_scaled(policy: &str, path: &[u32], extra: &str) -> String {
    let actions: Vec<String> = path
        .iter()
        .enumerate()
        .map(|(k, d)| format!("{{ at = \"{}m\", desired = {d} }}", k + 1))
        .collect();
    format!(
        r#"
name = "mixed"
duration = "{duration}s"
[traffic]
rate = "1/m"
process = "periodic"
[[instance_type]]
name = "a"
concurrency = 1
price = "$1.0/h"
spot_price = "$0.40/h"
[[instance_type]]
name = "b"
concurrency = 2
price = "$1.2/h"
spot_price = "$0.30/h"
[[instance_type]]
name = "c"
concurrency = 1
price = "$0.9/h"
spot_price = "$0.35/h"
[[pool]]
name = "p"
instances = 0
[pool.mixed_instances]
types = ["a", "b", "c"]
{policy}
[pool.autoscaling]
min = 0
max = 12
[pool.autoscaling.scheduled]
action = [{actions}]
{extra}
[[class]]
name = "job"
service = {{ distribution = "constant", value = "1s" }}
"#,
        duration = path.len() * 60 + 30,
        actions = actions.join(", "),
    )
}

/// The Auto Scaling rule: on-demand = min(D, base) + ceil(pct × max(0, D − base) / 100).
fn split(d: u32, base: u32, pct: u32) -> (u32, u32) {
    let od = d.min(base) + (d.saturating_sub(base) * pct).div_ceil(100);
    (od, d - od)
}

#[test]
fn the_on_demand_and_spot_split_follows_the_formula_at_every_size_up_and_down() {
    // Base 2, 20 % above it (the issue's example), up from 0 to 12 one at a time and down again:
    // after each step the fleet's on-demand and spot counts equal the formula at that size.
    let policy = "on_demand_base_capacity = 2\non_demand_percentage_above_base = 20";
    let up: Vec<u32> = (1..=12).collect();
    let down: Vec<u32> = (0..12).rev().collect();
    for n in 1..=up.len() {
        let (s, _) = run(&scenario(&mixed_scaled(policy, &up[..n], "")), 1);
        let m = market(&s);
        assert_eq!(
            (m.on_demand_at_end, m.spot_at_end),
            split(up[n - 1], 2, 20),
            "scaling out to {}",
            up[n - 1]
        );
    }
    for n in 1..=down.len() {
        let path: Vec<u32> = up.iter().chain(&down[..n]).copied().collect();
        let (s, _) = run(&scenario(&mixed_scaled(policy, &path, "")), 1);
        let m = market(&s);
        assert_eq!(
            (m.on_demand_at_end, m.spot_at_end),
            split(down[n - 1], 2, 20),
            "scaling in to {}",
            down[n - 1]
        );
    }
}

#[test]
fn allocation_strategies_choose_the_types_they_document() {
    // 6 instances, none on demand. price_capacity_optimized with no interruption risk anywhere:
    // every pool is equally available, so the cheapest spot pool (b, $0.30/h) takes all 6.
    let path = [6];
    let spot_only = "on_demand_percentage_above_base = 0";
    let (s, _) = run(&scenario(&mixed_scaled(spot_only, &path, "")), 1);
    let hours = &market(&s).instance_hours;
    assert_eq!(hours.keys().collect::<Vec<_>>(), vec!["b/spot"]);
    // lowest_price over 2 pools: spread over the two cheapest, b ($0.30) and c ($0.35), 3 each:
    // 3 × 30 s each = 90 s = 0.025 h.
    let lowest = format!("{spot_only}\nspot_allocation_strategy = \"lowest_price\"");
    let (s, _) = run(&scenario(&mixed_scaled(&lowest, &path, "")), 1);
    let hours = &market(&s).instance_hours;
    assert_eq!(hours.keys().collect::<Vec<_>>(), vec!["b/spot", "c/spot"]);
    assert!((hours["b/spot"] - 0.025).abs() < 1e-12 && (hours["c/spot"] - 0.025).abs() < 1e-12);
    // All on demand, prioritized: the first type, a; lowest_price: the cheapest, c.
    let (s, _) = run(&scenario(&mixed_scaled("", &path, "")), 1);
    assert_eq!(
        market(&s).instance_hours.keys().collect::<Vec<_>>(),
        vec!["a/on_demand"]
    );
    let cheapest = "on_demand_allocation_strategy = \"lowest_price\"";
    let (s, _) = run(&scenario(&mixed_scaled(cheapest, &path, "")), 1);
    assert_eq!(
        market(&s).instance_hours.keys().collect::<Vec<_>>(),
        vec!["c/on_demand"]
    );
    // Type b serves two at once: its instances carry its concurrency.
    let (s, _) = run(&scenario(&mixed_scaled(spot_only, &path, "")), 1);
    assert_eq!(s.instances.by_pool["p"].max, 6);
}

#[test]
fn a_capacity_shortage_falls_back_to_the_next_type_then_waits_it_out() {
    // On demand, prioritized: a is short from 30 s to 5 m, so the 3 launches at 1 m go to b,
    // each after one refusal of a.
    let shortage = r#"
[[capacity_shortage]]
instance_type = "a"
at = "30s"
duration = "270s"
"#;
    let (s, _) = run(&scenario(&mixed_scaled("", &[3], shortage)), 1);
    let m = market(&s);
    assert_eq!(
        m.instance_hours.keys().collect::<Vec<_>>(),
        vec!["b/on_demand"]
    );
    assert_eq!(m.insufficient_capacity, 3);
    assert_eq!(s.instances.by_pool["p"].scaling.launch_failures, 0);
    // Every type short until 70 s: the launch at 60 s fails (3 refusals), is retried after
    // `retry_after` (10 s) at 70 s, when the shortage is over, and gets a. One instance from
    // 70 s to the end at 90 s: 20 s.
    let all_short: String = ["a", "b", "c"]
        .iter()
        .map(|t| {
            format!(
                "[[capacity_shortage]]\ninstance_type = \"{t}\"\nat = \"0s\"\nduration = \"70s\"\n"
            )
        })
        .collect();
    let (s, _) = run(&scenario(&mixed_scaled("", &[1], &all_short)), 1);
    let m = market(&s);
    assert_eq!(s.instances.by_pool["p"].scaling.launch_failures, 1);
    assert_eq!(m.insufficient_capacity, 3);
    assert!((m.instance_hours["a/on_demand"] * 3600.0 - 20.0).abs() < 1e-9);
}

/// One `box` (1 slot) serving one 20 s job a minute at 0, 60, ..., 540 s, failing by `kind`
/// every 95 s of uptime and repaired after 35 s: down 95-130, 225-260, 355-390, 485-520.
fn failing_box(kind: &str) -> String {
    format!(
        r#"
name = "failing"
duration = "10m"
[traffic]
rate = "1/m"
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 1
price = "$1/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 1
[pool.failures]
{kind} = {{ time_to_failure = "95s", repair = "35s" }}
[[class]]
name = "job"
service = {{ distribution = "constant", value = "20s" }}
"#
    )
}

#[test]
fn random_crashes_and_gpu_faults_fail_what_they_hit_and_are_counted_by_cause() {
    // Jobs at 120, 240 and 360 s reach the host while it is down; job 480 is in service
    // (480-500) when it fails at 485 s. The other six complete.
    let (s, _) = run(&scenario(&failing_box("crash")), 1);
    let r = &s.requests;
    // A crashed host: the connection times out (60 s) or the work is lost.
    assert_eq!(
        (
            r.completed,
            r.connect_failed,
            r.interrupted,
            r.in_flight_at_end
        ),
        (6, 3, 1, 0)
    );
    assert_eq!(s.lost_by_cause.requests.crash, 4);
    assert_eq!(s.lost_by_cause.requests.total(), 4);
    let f = s.instances.by_pool["p"].failures.expect("reported");
    assert_eq!((f.crashes, f.gpu_faults), (4, 0));

    // A GPU fault: alive, answering every request with an error.
    let (s, _) = run(&scenario(&failing_box("gpu_fault")), 1);
    let r = &s.requests;
    assert_eq!((r.completed, r.server_error, r.in_flight_at_end), (6, 4, 0));
    assert_eq!(s.lost_by_cause.requests.gpu_fault, 4);
    let f = s.instances.by_pool["p"].failures.expect("reported");
    assert_eq!((f.crashes, f.gpu_faults), (0, 4));
    assert_eq!(s.lost_by_cause.retried_tries.total(), 0);

    // Clients retry once, 2 s later (no jitter: min(cap, 1 s × 2¹)): each failed try's retry
    // reaches the host still broken (at 122, 242, 362 and 487 s), so the same 4 requests are
    // lost, and 4 tries were retried.
    let text = failing_box("gpu_fault").replace(
        "[[class]]",
        "[client.retry]\nattempts = 2\nbase = \"1s\"\njitter = \"none\"\n[[class]]",
    );
    let (s, _) = run(&scenario(&text), 1);
    assert_eq!((s.requests.completed, s.requests.server_error), (6, 4));
    assert_eq!(s.retries.client, 4);
    assert_eq!(s.lost_by_cause.requests.gpu_fault, 4);
    assert_eq!(s.lost_by_cause.retried_tries.gpu_fault, 4);
}

#[test]
fn interruptions_arrive_at_the_hazard_rate() {
    // 20 spot instances with a mean time to interruption of 1 h, for 10 h, each interrupted one
    // replaced at once (capacity rebalancing, instant start-up; no recommendations). An
    // instance is exposed from launch to notice: about 20 × 10 = 200 instance-hours, so the
    // notices are Poisson with mean ≈ 200 (each replacement is exposed while its predecessor
    // drains, so exposure is exactly 20 instances at every moment). 4 standard deviations
    // (√200 ≈ 14.1): |count − 200| < 57, false alarm p ≈ 6e-5.
    let text = r#"
name = "hazard"
duration = "10h"
[traffic]
rate = "1/h"
[[instance_type]]
name = "box"
concurrency = 1
price = "$1/h"
spot_price = "$0.3/h"
spot_interruptions = { mean_time_between = "1h", rebalance_fraction = 0 }
[[pool]]
name = "p"
instances = 20
[pool.mixed_instances]
types = ["box"]
on_demand_percentage_above_base = 0
capacity_rebalance = true
[[class]]
name = "job"
service = { distribution = "constant", value = "1s" }
"#;
    let (s, _) = run(&scenario(text), 3);
    let m = market(&s);
    let n = m.spot_interruptions as f64;
    assert!((n - 200.0).abs() < 57.0, "{n} interruptions");
    assert_eq!(m.rebalance_recommendations, 0);
    assert_eq!(m.spot_at_end, 20);
}

#[test]
fn an_availability_trace_interrupts_and_blocks_spot_launches_until_capacity_returns() {
    // Our own fixtures (tests/data): one instance available, none from 200 s, one again from
    // 405 s; as a CSV and as a SkyPilot-format JSON trace (5 s ticks) that say the same.
    // At 200 s the running instance gets its notice (as in the interruption test above): job 2
    // completes at 270, job 3 is cut at 320. The replacement is refused at 320 and at every
    // retry 10 s apart up to 400 (9 failures); at 410 it launches and serves job 7 (420-510);
    // job 8 (480 → 510-600) is still in service at the end and job 9 waits. Jobs 4, 5, 6 (240,
    // 300, 360) find no target.
    for file in ["spot_availability.csv", "spot_availability_skypilot.json"] {
        let text = one_spot_box("instance_type = \"box\"\npurchase = \"spot\"", "").replace(
            "spot_price = \"$1.2/h\"",
            &format!("spot_price = \"$1.2/h\"\nspot_availability = {{ file = \"data/{file}\" }}"),
        );
        let s = fleetsim::Scenario::parse(&text, &crate::common::repo().join("tests/inline.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let (s, _) = run(&s, 1);
        let r = &s.requests;
        assert_eq!(
            (
                r.completed,
                r.interrupted,
                r.no_healthy_target,
                r.in_flight_at_end
            ),
            (4, 1, 3, 2),
            "{file}: {r:?}"
        );
        assert_eq!(s.lost_by_cause.requests.spot_interruption, 1);
        let m = market(&s);
        assert_eq!(
            (m.spot_interruptions, m.insufficient_capacity),
            (1, 9),
            "{file}"
        );
        assert_eq!(s.instances.by_pool["p"].scaling.launch_failures, 9);
        // Billed 0-320 s and 410-600 s: 510 s.
        assert!((s.instances.instance_hours * 3600.0 - 510.0).abs() < 1e-9);
    }
}

#[test]
fn the_allocation_strategy_termination_policy_removes_the_lowest_priority_type() {
    // On demand, prioritized a, b, c. Desired 1 at 60 s launches a; a is short from 90 s to
    // 150 s, so desired 2 at 120 s launches b; desired 1 at 180 s removes one (idle: at once).
    // allocation_strategy removes b (the lower priority): a bills 60-210 s, b 120-180 s.
    // oldest_instance removes a instead: a bills 60-180 s, b 120-210 s.
    let shortage = r#"
[[capacity_shortage]]
instance_type = "a"
at = "90s"
duration = "60s"
"#;
    let hours = |policy: &str| {
        let text = mixed_scaled("", &[1, 2, 1], shortage)
            .replace("rate = \"1/m\"", "rate = \"1/h\"")
            .replace(
                "instances = 0",
                &format!("instances = 0\ntermination_policy = \"{policy}\""),
            );
        let (s, _) = run(&scenario(&text), 1);
        let h = &market(&s).instance_hours;
        (
            (h["a/on_demand"] * 3600.0).round(),
            (h["b/on_demand"] * 3600.0).round(),
        )
    };
    assert_eq!(hours("allocation_strategy"), (150.0, 60.0));
    assert_eq!(hours("oldest_instance"), (120.0, 90.0));
}

#[test]
fn replace_unhealthy_terminates_what_the_health_check_fails_and_launches_a_replacement() {
    // Two instances behind round robin with ALB's default checks (every 30 s from 0 s, 5 s
    // timeout, unhealthy after 2 failures). Instance 0 crashes at 100 s for good: the checks
    // at 120 and 150 s time out at 125 and 155 s, so it is unhealthy from 155 s. With
    // replace_unhealthy the group terminates it then and launches a replacement (instant
    // start-up), which passes its first check at 180 s: two healthy targets again. Without,
    // the dead host stays, billed, and one target is healthy to the end. Requests lost to the
    // crash (sent to it before 155 s) are the same in both.
    let text = |replace: bool| {
        format!(
            r#"
name = "replace"
duration = "5m"
[timeline]
window = "60s"
[traffic]
rate = "1/s"
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 4
price = "$3.6/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 2
replace_unhealthy = {replace}
[balancer]
algorithm = "round_robin"
health_check = {{ depth = "deep" }}
[[fault]]
pool = "p"
kind = "crash"
at = "100s"
[[class]]
name = "job"
service = {{ distribution = "constant", value = "100ms" }}
"#
        )
    };
    let (with, with_rows) = run(&scenario(&text(true)), 1);
    let (without, without_rows) = run(&scenario(&text(false)), 1);
    let p = &with.instances.by_pool["p"].scaling;
    assert_eq!(
        (p.replaced_unhealthy, p.launches, p.terminations),
        (1, 1, 1)
    );
    assert_eq!(without.instances.by_pool["p"].scaling.replaced_unhealthy, 0);
    // Last window [240, 300): both healthy with the replacement, one without.
    assert_eq!(with_rows.last().unwrap().healthy_targets, 2.0);
    assert_eq!(without_rows.last().unwrap().healthy_targets, 1.0);
    let lost = with.lost_by_cause.requests.crash;
    assert!(lost > 0);
    assert_eq!(lost, without.lost_by_cause.requests.crash);
    assert_eq!(
        with.requests.connect_failed,
        without.requests.connect_failed
    );
    assert!(with.requests.is_conserved() && without.requests.is_conserved());
    // Billing: without, two instances for 300 s; with, the dead one leaves at 155 s and the
    // replacement runs from 155 s: the same 600 instance-seconds.
    assert!((with.instances.instance_hours * 3600.0 - 600.0).abs() < 1e-9);
}
