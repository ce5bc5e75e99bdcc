//! Autoscaling and the instance lifecycle, worked out by hand: warm pools skip exactly their
//! phases, simple scaling waits out its cooldown, instance warm-up holds step scaling back, the
//! HPA's stabilization window delays scale-down, draining finishes admitted work, launches are
//! rate-limited. Arrivals are periodic and times constant, so every instant is exact.

use crate::common::{scenario, shipped_scenarios, HEAVY_SHIPPED};
use fleetsim::metrics::{CollectTimeline, Failure, ScalingEvent, TimelineRow};
use fleetsim::model::fleet::lifecycle::InstanceState;
use fleetsim::{ScenarioSet, Summary};

fn run(text: &str) -> (Summary, Vec<TimelineRow>, Vec<ScalingEvent>) {
    let s = scenario(text);
    let mut sink = CollectTimeline::default();
    let result = fleetsim::run(&s, s.seed, &mut sink).expect("the run ends");
    (result.summary, sink.rows, sink.scaling)
}

fn in_service(row: &TimelineRow) -> f64 {
    row.instances[InstanceState::InService as usize]
}

/// Start of the first window whose every instant has `n` instances in service.
fn first_full(rows: &[TimelineRow], n: f64) -> Option<f64> {
    rows.iter().find(|r| in_service(r) == n).map(|r| r.start_s)
}

fn times(events: &[ScalingEvent]) -> Vec<f64> {
    events.iter().map(|e| e.time_s).collect()
}

/// One pool of one-slot boxes; a request per second; `pool` and `autoscaling` are appended to
/// the pool and to its `[pool.autoscaling]` table.
fn fleet(duration: &str, rate: &str, service: &str, pool: &str, autoscaling: &str) -> String {
    format!(
        r#"
name = "fleet"
duration = "{duration}"
[timeline]
window = "10s"
[traffic]
rate = "{rate}"
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 1
price = "$3.6/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 1
{pool}
[pool.autoscaling]
{autoscaling}
[[class]]
name = "job"
service = {{ distribution = "constant", value = "{service}" }}
"#
    )
}

#[test]
fn a_warm_pool_skips_exactly_the_phases_its_state_has_done() {
    // Desired 1 -> 3 at 60 s. A new instance boots 40 s, loads 30 s and warms up 10 s: in
    // service at 140 s. A stopped or hibernated one skips the boot (100 s), a running one the
    // boot and the load (70 s). Windows are 10 s, so each arrival time is a window start.
    let startup = r#"
[pool.startup]
boot = "40s"
model_load = "30s"
warm_up = "10s""#;
    let scaling = r#"min = 1
max = 3
scheduled = { action = [{ at = "60s", desired = 3 }] }"#;
    let ready_at = |warm: &str| {
        let pool = format!("{startup}\n{warm}");
        let (s, rows, events) = run(&fleet("300s", "1/s", "0.5s", &pool, scaling));
        assert_eq!(times(&events), vec![60.0]);
        assert_eq!(s.requests.completed, 300);
        (first_full(&rows, 3.0), s)
    };
    let (cold, cold_summary) = ready_at("");
    assert_eq!(cold, Some(140.0));
    for (state, expected) in [("stopped", 100.0), ("hibernated", 100.0), ("running", 70.0)] {
        let warm = format!("[pool.warm_pool]\nmax_prepared_capacity = 3\nstate = \"{state}\"");
        let (at, s) = ready_at(&warm);
        assert_eq!(at, Some(expected), "{state}");
        // Phases skipped: boot (40 s), or boot and load (70 s).
        assert_eq!(cold.unwrap() - at.unwrap(), 140.0 - expected, "{state}");
        let p = &s.instances.by_pool["p"].scaling;
        assert_eq!((p.launches, p.from_warm_pool), (2, 2), "{state}");
        if state == "running" {
            // A running warm instance is billed in full: 3 instances for 300 s.
            assert!((s.instances.instance_hours - 0.25).abs() < 1e-12);
        } else {
            // Stopped: billed for storage only until 60 s.
            assert!((p.warm_pool_storage_hours - 2.0 * 60.0 / 3600.0).abs() < 1e-12);
        }
    }
    // Cold: 1 instance for 300 s and 2 for the 240 s after their launch at 60 s (booting is
    // billed).
    let hours = (300.0 + 2.0 * 240.0) / 3600.0;
    assert!((cold_summary.instances.instance_hours - hours).abs() < 1e-12);
}

/// Ten requests a second of 1 s each on one-slot boxes: every instance is always busy, so
/// every datapoint breaches a 50 % utilization alarm. Boxes boot in 30 s; datapoints are
/// published at once (lag 0) so the alarms fire at each minute.
fn overloaded(duration: &str, policy: &str) -> String {
    fleet(
        duration,
        "10/s",
        "1s",
        "[pool.startup]\nboot = \"30s\"",
        &format!("min = 1\nmax = 20\nmetric_lag = \"0s\"\n{policy}"),
    )
}

const ALARM: &str = r#"metric = "utilization"
comparison = ">="
threshold = 50"#;

#[test]
fn simple_scaling_waits_for_the_activity_and_its_cooldown() {
    // 60 s: the alarm fires, 1 -> 2; the instance is in service at 90 s, the 120 s cooldown
    // runs to 210 s, so the alarms at 120 and 180 s are ignored; 240 s: 2 -> 3, in service
    // at 270 s, cooldown to 390 s; 420 s: 3 -> 4.
    let policy =
        format!("[[pool.autoscaling.simple]]\n{ALARM}\nadjustment = 1\ncooldown = \"120s\"");
    let (_, _, events) = run(&overloaded("450s", &policy));
    assert_eq!(times(&events), vec![60.0, 240.0, 420.0]);
    assert_eq!(
        events.iter().map(|e| (e.from, e.to)).collect::<Vec<_>>(),
        vec![(1, 2), (2, 3), (3, 4)]
    );
    assert!(events.iter().all(|e| e.policy == "simple"));
}

#[test]
fn a_simple_policy_that_loses_to_a_larger_one_starts_no_cooldown() {
    // Issue 14, item 2's class: a simple policy (+1, cooldown 600 s) and a step policy (exact
    // capacity 5) on one alarm. At 60 s both fire; AWS applies the larger capacity, 5 (User
    // Guide, "Multiple dynamic scaling policies"), so no simple scaling activity starts and
    // no cooldown follows. The new boxes serve from 90 s (no warm-up): at 120 s the simple
    // policy adds one (5 + 1 = 6; the step wants 5, no change); that box serves at 150 s and
    // the cooldown runs to 750 s. At 180 s the step policy sets its exact 5 again (nothing is
    // warming: it may scale in); the next +1 comes at 780 s. Had the lost decision at 60 s
    // started a cooldown (to 90 + 600 = 690 s), the simple policy would first act at 720 s.
    let policies = format!(
        "instance_warmup = \"0s\"\n[[pool.autoscaling.simple]]\n{ALARM}\nadjustment = 1\n\
         cooldown = \"600s\"\n[[pool.autoscaling.step]]\n{ALARM}\n\
         adjustment_type = \"exact_capacity\"\nsteps = [{{ lower = 0, adjustment = 5 }}]"
    );
    let (_, _, events) = run(&overloaded("800s", &policies));
    assert_eq!(
        events
            .iter()
            .map(|e| (e.time_s, e.policy, e.from, e.to))
            .collect::<Vec<_>>(),
        vec![
            (60.0, "step", 1, 5),
            (120.0, "simple", 5, 6),
            (180.0, "step", 6, 5),
            (780.0, "simple", 5, 6)
        ]
    );
}

#[test]
fn a_long_metric_lag_delays_the_alarms_but_loses_no_datapoint() {
    // Datapoints published ten minutes late: the first, of [0, 60), at 660 s, when the step
    // policy (exact capacity 5) acts. A pipeline that kept only four datapoints dropped it
    // (and every later one) before it was published, and no alarm ever fired.
    let policy = format!(
        "min = 1\nmax = 20\nmetric_lag = \"600s\"\n[[pool.autoscaling.step]]\n{ALARM}\n\
         adjustment_type = \"exact_capacity\"\nsteps = [{{ lower = 0, adjustment = 5 }}]"
    );
    let text = fleet(
        "900s",
        "10/s",
        "1s",
        "[pool.startup]\nboot = \"30s\"",
        &policy,
    );
    let (_, _, events) = run(&text);
    assert_eq!(steps(&events), vec![(660.0, 1, 5)]);
}

#[test]
fn step_scaling_acts_every_minute_but_warming_instances_hold_it_back() {
    let policy =
        format!("[[pool.autoscaling.step]]\n{ALARM}\nsteps = [{{ lower = 0, adjustment = 1 }}]");
    // A default instance warm-up of 0 s: the new instance is in service 30 s after each
    // decision, so the next minute's +1 counts it: one more every minute.
    let none = overloaded("450s", &format!("instance_warmup = \"0s\"\n{policy}"));
    let (_, _, events) = run(&none);
    assert_eq!(
        times(&events),
        vec![60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 420.0]
    );
    // Nothing set: the policy's warm-up falls back to the default cooldown, 300 s
    // (PutScalingPolicy, EstimatedInstanceWarmup). In service at 90 s, warm until 390 s: the
    // alarms at 120-360 s compute 1 + 1 = 2, already desired; at 420 s it counts: 3.
    let (_, _, events) = run(&overloaded("600s", &policy));
    assert_eq!(times(&events), vec![60.0, 420.0]);
    // Instance warm-up 200 s: "while scaling out, we do not consider instances that are
    // warming up as part of the current capacity". The instance launched at 60 s is in
    // service at 90 s but warming until 290 s, so at 120-240 s the adjustment is 1 + 1 = 2,
    // already desired; at 300 s it counts: 3. Likewise 300 -> 330 -> 530: next at 540 s.
    let warm = overloaded("600s", &format!("instance_warmup = \"200s\"\n{policy}"));
    let (_, _, events) = run(&warm);
    assert_eq!(times(&events), vec![60.0, 300.0, 540.0]);
}

/// Two one-slot boxes behind round robin, each holding one request in service and one queued;
/// a request every 100 ms that takes 330 ms: 3.3 busy boxes' worth of work. Target tracking at
/// 50 % utilization with CloudWatch's defaults (one-minute datapoints, one minute late, three
/// above the target to scale out). `extra` goes into `[pool.autoscaling]`, `policy` into the
/// target tracking table.
fn warming_up(extra: &str, policy: &str) -> String {
    format!(
        r#"
name = "warmup"
duration = "900s"
[timeline]
window = "10s"
[traffic]
rate = "10/s"
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 1
price = "$3.6/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 2
queue_capacity = 1
[pool.startup]
boot = "30s"
[pool.autoscaling]
min = 2
max = 20
{extra}
[[pool.autoscaling.target_tracking]]
metric = "utilization"
target = 50
{policy}
[balancer]
algorithm = "round_robin"
[[class]]
name = "job"
service = {{ distribution = "constant", value = "330ms" }}
"#
    )
}

fn steps(events: &[ScalingEvent]) -> Vec<(f64, u32, u32)> {
    events.iter().map(|e| (e.time_s, e.from, e.to)).collect()
}

/// Issue 14, item 1: with no warm-up set, AWS warms new instances for the default cooldown
/// (300 s), so a datapoint measured before they served is not applied to the larger group.
#[test]
fn without_a_warmup_target_tracking_waits_the_default_cooldown_and_does_not_overshoot() {
    // Two boxes are always busy (each has a request queued): 100 %. Datapoints for [0, 60),
    // [60, 120), [120, 180) are published at 120, 180, 240: the third breach, at 240 s, asks
    // for ceil(2 × 100 / 50) = 4. The two new boxes serve from 270 s; round robin then gives
    // each box every fourth request, 330 ms of every 400 ms: 82.5 %.
    //
    // AWS, nothing set: the new boxes warm until 570 s (EstimatedInstanceWarmup falls back to
    // DefaultCooldown, 300 s). Until then they are neither in the metric nor in the capacity:
    // ceil(2 × m / 50) <= 4 for any m <= 100, already desired. The datapoint of [480, 540)
    // (published at 600 s, when the new boxes count) is the old boxes' 82.5 %:
    // ceil(4 × 82.5 / 50) = ceil(6.6) = 7. Seven boxes then run at 3.3 / 7 = 47.1 %: below
    // the target and above the scale-in alarm's 35: 2 -> 4 -> 7 and nothing more.
    let (_, _, events) = run(&warming_up("", ""));
    assert_eq!(steps(&events), vec![(240.0, 2, 4), (600.0, 4, 7)]);
    // The group's own DefaultInstanceWarmup of 300 s does the same.
    let (_, _, events) = run(&warming_up("instance_warmup = \"300s\"", ""));
    assert_eq!(steps(&events), vec![(240.0, 2, 4), (600.0, 4, 7)]);

    // A warm-up of 0 s (what fleetsim assumed before): at 300 s the datapoint of [180, 240),
    // when only the two old boxes served at 100 %, meets four boxes in service:
    // ceil(4 × 100 / 50) = 8; a minute later the next stale datapoint meets eight: the
    // overshoot 2 -> 4 -> 8 -> 14 the issue reports.
    let overshoot = |extra: &str, policy: &str| {
        let (_, _, events) = run(&warming_up(extra, policy));
        let s = steps(&events);
        assert_eq!(s[..2], [(240.0, 2, 4), (300.0, 4, 8)], "{extra} {policy}");
        assert_eq!(s[2].2, 14, "{extra} {policy}");
    };
    overshoot("instance_warmup = \"0s\"", "");
    // The policy's own EstimatedInstanceWarmup overrides the group's default instance warm-up.
    overshoot(
        "instance_warmup = \"300s\"",
        "estimated_instance_warmup = \"0s\"",
    );
}

/// Issue 14, item 2: with several target tracking policies, AWS scales in only when every one
/// of them (scale-in enabled) is ready to.
#[test]
fn one_target_tracking_policy_cannot_scale_in_alone() {
    // Ten one-slot boxes, a 100 ms request every second: each box is 1 % busy and receives
    // 6 requests a minute. Utilization at target 50: its low alarm (< 35) fires on the 15th
    // datapoint, wanting ceil(10 × 1 / 50) = 1. Request count per target at target 7: 6 is
    // between its low threshold 4.9 and 7, so it is not ready to scale in.
    let policies = |both: bool| {
        let second = if both {
            "[[pool.autoscaling.target_tracking]]\nmetric = \"request_count_per_target\"\n\
             target = 7\n"
        } else {
            ""
        };
        format!(
            "min = 1\nmax = 10\n[[pool.autoscaling.target_tracking]]\n\
             metric = \"utilization\"\ntarget = 50\n{second}"
        )
    };
    let scenario = |both| {
        fleet("1800s", "1/s", "100ms", "", &policies(both))
            .replace("instances = 1", "instances = 10")
    };
    // Alone, the utilization policy scales in when its 15th low datapoint (for [840, 900)) is
    // published, a minute later.
    let (_, _, events) = run(&scenario(false));
    assert_eq!(steps(&events)[0], (960.0, 10, 1));
    // Beside a policy that is not ready to scale in, it never does.
    let (_, _, events) = run(&scenario(true));
    assert!(events.is_empty(), "{events:?}");
}

/// Ten requests a second until 120 s, then two; the HPA scales on the request rate, 1.1 per
/// pod (the rate is counted between scrapes, so a count can be one off: 1.1 keeps every
/// `ceil` unambiguous).
fn rate_driven(behavior: &str) -> String {
    format!(
        r#"
name = "hpa"
duration = "500s"
[timeline]
window = "10s"
[traffic]
profile = {{ kind = "steps", steps = [{{ at = "0s", rate = "10/s" }}, {{ at = "120s", rate = "2/s" }}] }}
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 4
price = "$1/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 10
[pool.autoscaling]
min = 1
max = 20
[pool.autoscaling.hpa]
metrics = [{{ type = "external", metric = "request_rate", average_value = 1.1 }}]
{behavior}
[[class]]
name = "job"
service = {{ distribution = "constant", value = "100ms" }}
"#
    )
}

#[test]
fn the_hpa_scales_down_only_after_its_stabilization_window() {
    // Until 120 s the rate is 10/s: 10 / (1.1 × 10) = 0.91, within the 0.1 tolerance, so each
    // sync recommends the current 10. From the scrape at 135 s the rate is 2/s and each sync
    // recommends ceil(2 / 1.1) = 2. A scale-down takes the largest recommendation of the
    // window. With behavior, the window holds recommendations strictly after now − window
    // (`stabilizeRecommendationWithBehaviors`: `rec.timestamp.After(downCutoff)`): with 60 s,
    // the 120 s one (10) drops out at 180 s. Without behavior the legacy path drops only
    // those strictly before the cutoff (`stabilizeRecommendation`: `rec.timestamp.Before(
    // cutoff)`), so with its default 300 s the 120 s one still counts at 420 s: 435 s.
    let with_window = "[pool.autoscaling.hpa.behavior.scale_down]\nstabilization_window = \"60s\"";
    let (_, _, events) = run(&rate_driven(with_window));
    assert_eq!(times(&events), vec![180.0]);
    assert_eq!((events[0].from, events[0].to), (10, 2));
    let (_, _, events) = run(&rate_driven(""));
    assert_eq!(times(&events), vec![435.0]);
    assert_eq!((events[0].from, events[0].to), (10, 2));
}

/// Two one-slot instances, two 50 s requests (at 0 and 1 s, one each by round robin); at 10 s
/// a scheduled action lowers the desired capacity to 1.
fn drain(delay: &str) -> String {
    format!(
        r#"
name = "drain"
duration = "100s"
[timeline]
window = "10s"
[traffic]
profile = {{ kind = "steps", steps = [{{ at = "0s", rate = "1/s" }}, {{ at = "2s", rate = "0/s" }}] }}
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 1
price = "$3.6/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 2
deregistration_delay = "{delay}"
[pool.autoscaling]
min = 1
max = 2
scheduled = {{ action = [{{ at = "10s", desired = 1 }}] }}
[balancer]
algorithm = "round_robin"
[[class]]
name = "job"
service = {{ distribution = "constant", value = "50s" }}
"#
    )
}

#[test]
fn a_draining_instance_finishes_its_requests_within_the_deregistration_delay() {
    // Default 300 s: the victim (both launched at 0, the lowest id on a tie) drains from 10 s,
    // finishes its request at 50 s and terminates then: nothing lost.
    let (s, rows, _) = run(&drain("300s"));
    assert_eq!((s.requests.completed, s.requests.interrupted), (2, 0));
    let p = s.instances.by_pool["p"].scaling;
    assert_eq!((p.cut_by_drain, p.terminations), (0, 1));
    let draining = |r: &TimelineRow| r.instances[InstanceState::Draining as usize];
    assert_eq!(
        rows.iter().map(draining).collect::<Vec<_>>()[..6],
        [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    );
    // Billed: one instance 100 s, the other until 50 s.
    assert!((s.cost_usd.total - 0.15).abs() < 1e-12);
    // A 20 s delay cuts its request off at 30 s.
    let (s, _, _) = run(&drain("20s"));
    assert_eq!((s.requests.completed, s.requests.interrupted), (1, 1));
    assert_eq!(s.by_class["job"].requests.failure(Failure::Interrupted), 1);
    assert_eq!(s.instances.by_pool["p"].scaling.cut_by_drain, 1);
    // ... and it is the one request lost to a drain timeout.
    assert_eq!(s.lost_by_cause.requests.drain_timeout, 1);
    assert_eq!(s.lost_by_cause.requests.total(), 1);
}

#[test]
fn launches_wait_for_the_rate_limit() {
    // Desired 1 -> 6 at 0 s, two launches a minute, ready at once: 3 in service from 0 s, 5
    // from 60 s, 6 from 120 s.
    let launch = "[pool.launch]\nper_minute = 2";
    let scaling = "min = 1\nmax = 6\nscheduled = { action = [{ at = \"0s\", desired = 6 }] }";
    let (s, rows, _) = run(&fleet("200s", "1/s", "0.5s", launch, scaling));
    assert_eq!(in_service(&rows[0]), 3.0);
    assert_eq!(in_service(&rows[5]), 3.0);
    assert_eq!(in_service(&rows[6]), 5.0);
    assert_eq!(in_service(&rows[11]), 5.0);
    assert_eq!(in_service(&rows[12]), 6.0);
    assert_eq!(s.instances.by_pool["p"].scaling.launches, 5);
    // Half the attempts fail, each retried 10 s later: the fleet still gets there.
    let flaky = "[pool.launch]\nfailure_probability = 0.5\nretry_after = \"10s\"";
    let (s, rows, _) = run(&fleet("200s", "1/s", "0.5s", flaky, scaling));
    let p = s.instances.by_pool["p"].scaling;
    assert!(p.launch_failures > 0, "{p:?}");
    assert_eq!(p.launches, 5);
    assert_eq!(in_service(rows.last().unwrap()), 6.0);
}

/// Runs every run (base and variants) of the shipped scenarios `pick` selects and asserts that
/// scale-in cut off no admitted request; returns how many instances they scaled in.
fn scale_in_cuts_nothing(pick: impl Fn(&str) -> bool) -> u64 {
    let mut scaled_in = 0;
    for file in shipped_scenarios() {
        if !pick(file.file_stem().unwrap().to_str().unwrap()) {
            continue;
        }
        let set = ScenarioSet::load(&file).unwrap();
        for (variant, s) in set.runs() {
            let summary = fleetsim::run(s, s.seed, &mut fleetsim::metrics::DiscardTimeline)
                .expect("the run ends")
                .summary;
            for (pool, p) in &summary.instances.by_pool {
                assert_eq!(
                    p.scaling.cut_by_drain,
                    0,
                    "{} ({variant}) pool {pool}",
                    file.display()
                );
                scaled_in += p.scaling.terminations;
            }
        }
    }
    scaled_in
}

/// The light shipped scenarios here; the heavy ones in the test below.
#[test]
fn no_admitted_request_is_lost_to_scale_in_in_any_shipped_scenario() {
    let scaled_in = scale_in_cuts_nothing(|name| !HEAVY_SHIPPED.contains(&name));
    // Not vacuous: the shipped scenarios do scale in.
    assert!(scaled_in > 0);
}

#[test]
#[ignore = "slow: no admitted request lost to scale-in in the four heavy shipped scenarios (23 s of simulation), run by .ci/run"]
fn no_admitted_request_is_lost_to_scale_in_in_the_heavy_shipped_scenarios() {
    let scaled_in = scale_in_cuts_nothing(|name| HEAVY_SHIPPED.contains(&name));
    assert!(scaled_in > 0);
}

/// One-slot boxes started at 0 s; the first holds a 200 s request (the only request). At 60 s
/// a scheduled action adds one instance (booting `boot`); at 120 s another takes it away.
fn victims(policy: &str, boot: &str) -> String {
    format!(
        r#"
name = "victims"
duration = "300s"
[timeline]
window = "10s"
[traffic]
profile = {{ kind = "steps", steps = [{{ at = "0s", rate = "1/s" }}, {{ at = "1s", rate = "0/s" }}] }}
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 1
price = "$1/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 1
termination_policy = "{policy}"
[pool.startup]
boot = "{boot}"
[pool.autoscaling]
min = 1
max = 2
scheduled = {{ action = [{{ at = "60s", desired = 2 }}, {{ at = "120s", desired = 1 }}] }}
[[class]]
name = "job"
service = {{ distribution = "constant", value = "200s" }}
"#
    )
}

#[test]
fn scale_in_chooses_its_victims_by_the_termination_policy() {
    let draining_windows = |policy: &str, boot: &str| {
        let (s, rows, _) = run(&victims(policy, boot));
        assert_eq!(s.requests.completed, 1, "{policy}");
        assert_eq!(s.instances.by_pool["p"].scaling.cut_by_drain, 0);
        rows.iter()
            .filter(|r| r.instances[InstanceState::Draining as usize] > 0.0)
            .count()
    };
    // The oldest instance holds the request: it drains from 120 s until the request ends at
    // 200 s (8 windows); the newest leaves at once.
    assert_eq!(draining_windows("oldest_instance", "0s"), 8);
    assert_eq!(draining_windows("newest_instance", "0s"), 0);
    // AWS's default: the instance closest to its next billing hour, the older one here
    // (3480 s left against 3540 s).
    assert_eq!(draining_windows("default", "0s"), 8);
    // Kubernetes removes a pod that is not ready before any ready one: the new pod is still
    // booting at 120 s.
    assert_eq!(draining_windows("kubernetes", "100s"), 0);
    assert_eq!(draining_windows("default", "100s"), 8);
}

#[test]
fn a_new_target_takes_traffic_after_its_first_passing_health_check() {
    // Checks every 25 s (0, 25, 50, 75 s...). The instance added at 60 s registers at once but
    // stays `initial` until the check at 75 s passes.
    let checks = "[balancer.health_check]\ninterval = \"25s\"";
    let scaling = "min = 1\nmax = 2\nscheduled = { action = [{ at = \"60s\", desired = 2 }] }";
    let text = format!("{}\n{checks}", fleet("120s", "1/s", "0.5s", "", scaling));
    let (_, rows, _) = run(&text);
    let healthy: Vec<f64> = rows.iter().map(|r| r.healthy_targets).collect();
    assert_eq!(healthy[5..9], [1.0, 1.0, 1.5, 2.0]);
    // In service from 60 s all the same.
    assert_eq!(in_service(&rows[6]), 2.0);
}

/// Every run of a shipped scenario, with its scaling events.
fn shipped(name: &str) -> Vec<(String, Summary, Vec<TimelineRow>, Vec<ScalingEvent>)> {
    let set = ScenarioSet::load(&crate::common::repo().join("scenarios").join(name)).unwrap();
    set.runs()
        .into_iter()
        .map(|(variant, s)| {
            let mut sink = CollectTimeline::default();
            let summary = fleetsim::run(s, s.seed, &mut sink)
                .expect("the run ends")
                .summary;
            (variant.to_string(), summary, sink.rows, sink.scaling)
        })
        .collect()
}

#[test]
fn hpa_behavior_never_breaks_its_rules() {
    let runs = shipped("hpa_behavior.toml");
    let (_, s, _, events) = &runs[0];
    assert!(events.len() > 10, "{events:?}");
    // Scale-up at most 4 pods and scale-down at most 2 pods per period (60 s and 120 s): the
    // change over the events of any period, counted as Kubernetes does (events strictly
    // after now − period), stays within the policy; and within min 2 and max 30.
    for e in events {
        assert!((2..=30).contains(&e.to), "{e:?}");
        let since = |period: f64| {
            events
                .iter()
                .filter(move |x| x.time_s > e.time_s - period && x.time_s <= e.time_s)
        };
        let up: i64 = since(60.0)
            .map(|x| (i64::from(x.to) - i64::from(x.from)).max(0))
            .sum();
        let down: i64 = since(120.0)
            .map(|x| (i64::from(x.from) - i64::from(x.to)).max(0))
            .sum();
        assert!(up <= 4, "more than 4 pods added within 60 s up to {e:?}");
        assert!(
            down <= 2,
            "more than 2 pods removed within 120 s up to {e:?}"
        );
    }
    // Both limits bind during the run, and the fleet reaches its maximum in the surge.
    assert!(events.iter().any(|e| e.reason.contains("ScaleUpLimit")));
    assert!(events.iter().any(|e| e.reason.contains("ScaleDownLimit")));
    assert!(events.iter().any(|e| e.to == 30));
    // The first scale-down waits for the 300 s stabilization window: none before 300 s.
    let first_down = events.iter().find(|e| e.to < e.from).unwrap();
    assert!(first_down.time_s >= 300.0, "{first_down:?}");
    assert!(s.requests.is_conserved());
}

#[test]
fn keda_sleeps_at_zero_between_batches_and_loses_nothing() {
    let runs = shipped("keda_scale_to_zero.toml");
    let (_, s, rows, events) = &runs[0];
    // Three bursts: KEDA activates (0 -> 1) and deactivates (-> 0) three times each.
    let keda: Vec<&ScalingEvent> = events.iter().filter(|e| e.policy == "keda").collect();
    assert_eq!(keda.iter().filter(|e| e.from == 0).count(), 3, "{keda:?}");
    assert_eq!(keda.iter().filter(|e| e.to == 0).count(), 3, "{keda:?}");
    // The first poll after jobs arrive (from 600 s; polls every 30 s) activates.
    assert_eq!(keda[0].time_s, 630.0);
    // Nothing runs (nor costs) before the first burst, and nothing fails: jobs wait in the
    // queue while workers start.
    assert!(rows[..10]
        .iter()
        .all(|r| r.desired == 0.0 && r.instances[3] == 0.0));
    assert_eq!(s.requests.failed(), 0);
    assert_eq!(
        s.requests.completed + s.requests.in_flight_at_end,
        s.requests.arrived
    );
    // Asleep most of the time: far cheaper than 20 workers for 3 h ($60.36).
    assert!(s.cost_usd.total < 20.0, "{}", s.cost_usd.total);
}

/// A queue of 2 s jobs (one a second from 600 s to 900 s) for workers of 4 slots that boot
/// in 60 s, under KEDA (polls every 30 s, 300 s cooldown) at 10 jobs per replica. `keda` is
/// appended to `[pool.autoscaling.keda]`, `autoscaling` to `[pool.autoscaling]`.
fn keda_workers(autoscaling: &str, keda: &str) -> String {
    format!(
        r#"
name = "idle"
duration = "1800s"
[timeline]
window = "10s"
[traffic]
profile = {{ kind = "steps", steps = [{{ at = "0s", rate = "0/s" }}, {{ at = "600s", rate = "1/s" }}, {{ at = "900s", rate = "0/s" }}] }}
process = "periodic"
[[queue]]
name = "jobs"
[[instance_type]]
name = "box"
concurrency = 4
price = "$1/h"
[[pool]]
name = "workers"
instance_type = "box"
queue = "jobs"
[pool.startup]
boot = "60s"
[pool.autoscaling]
{autoscaling}
[pool.autoscaling.keda]
triggers = [{{ metric = "queue_depth", target = 10 }}]
{keda}
[[class]]
name = "job"
queue = "jobs"
service = {{ distribution = "constant", value = "2s" }}
"#
    )
}

/// Issue 14, item 3: KEDA's `idleReplicaCount` works end to end.
#[test]
fn keda_idles_at_its_idle_replica_count_and_activates_to_min() {
    let (s, rows, events) = run(&keda_workers("min = 2\nmax = 10", "idle_replica_count = 0"));
    let keda: Vec<(f64, u32, u32)> = events
        .iter()
        .filter(|e| e.policy == "keda")
        .map(|e| (e.time_s, e.from, e.to))
        .collect();
    // The pool starts at min (2). Never active, it is scaled to idle once its initial
    // cooldown (0 s) is strictly past: not at the poll at 0 s, at the one at 30 s
    // (`scaleToZeroOrIdle`: `CreationTimestamp.Add(initialCooldownPeriod).Before(now)`).
    // The first job (600 s) activates it to minReplicaCount, not 1 (`scaleFromZeroOrIdle`).
    // The last job (899 s) is still running at the poll at 900 s: the last active poll;
    // 900 + 300 is not before 1200, so the poll at 1230 s scales back to idle.
    assert_eq!(keda, vec![(30.0, 2, 0), (600.0, 0, 2), (1230.0, 2, 0)]);
    // Nothing runs while idle.
    for r in rows.iter().filter(|r| (30.0..600.0).contains(&r.start_s)) {
        assert_eq!(
            (
                r.desired,
                in_service(r),
                r.instances[InstanceState::Pending as usize]
            ),
            (0.0, 0.0, 0.0),
            "{}",
            r.start_s
        );
    }
    // Once active, the HPA KEDA created scales past min on the queue.
    assert!(events
        .iter()
        .any(|e| e.policy == "keda_hpa" && e.to > 2 && (600.0..900.0).contains(&e.time_s)));
    assert_eq!(s.requests.completed, s.requests.arrived);
    assert_eq!(s.requests.failed(), 0);
    // Without an idle count, min is a floor KEDA never goes below.
    let (_, _, events) = run(&keda_workers("min = 2\nmax = 10", ""));
    assert!(events.iter().all(|e| e.to >= 2), "{events:?}");
}

/// Jobs of 20 minutes, four of them at the start, for one-slot workers under KEDA (no
/// start-up time) at one job per replica; `trigger` is appended to the trigger's table.
fn long_jobs(trigger: &str) -> String {
    format!(
        r#"
name = "long_jobs"
duration = "2000s"
[traffic]
profile = {{ kind = "steps", steps = [{{ at = "0s", rate = "1/s" }}, {{ at = "4s", rate = "0/s" }}] }}
process = "periodic"
[[queue]]
name = "jobs"
[[instance_type]]
name = "box"
concurrency = 1
price = "$1/h"
[[pool]]
name = "workers"
instance_type = "box"
instances = 0
queue = "jobs"
[pool.autoscaling]
min = 0
max = 4
[pool.autoscaling.keda]
triggers = [{{ metric = "queue_depth", target = 1{trigger} }}]
[[class]]
name = "job"
queue = "jobs"
service = {{ distribution = "constant", value = "1200s" }}
"#
    )
}

/// Issue 14, item 4: a queue trigger counts the messages in flight, as KEDA's SQS scaler does
/// by default, so scaling to zero (or down) never cuts a job that is still running.
#[test]
fn keda_counts_jobs_in_flight_and_never_scales_away_a_running_job() {
    // Jobs arrive at 0, 1, 2, 3 s. The poll at 0 s activates one worker, which takes the
    // first job; the HPA's sync at 15 s sees 3 waiting + 1 in flight = 4 messages: 4 workers,
    // which take the other three at once (no start-up). They run to 1200 s and 1215 s: the
    // queue is empty but 4, then 3, messages are in flight, so every poll up to 1200 s is
    // active. The poll at 1230 s is the first inactive one; 1200 + 300 is not before 1500,
    // so the poll at 1530 s deactivates, long after the last job ended.
    let (s, _, events) = run(&long_jobs(""));
    let last = events.iter().rfind(|e| e.policy == "keda").unwrap();
    assert_eq!((last.time_s, last.to), (1530.0, 0));
    assert!(
        events.iter().all(|e| e.time_s >= 1215.0 || e.to >= e.from),
        "{events:?}"
    );
    assert_eq!((s.requests.arrived, s.requests.completed), (4, 4));
    assert_eq!(s.requests.failed(), 0);
    assert_eq!(s.instances.by_pool["workers"].scaling.cut_by_drain, 0);
    // The SQS scaler's own option turned off counts the waiting messages only (what fleetsim
    // did before): the HPA then scales busy workers in, and a 20-minute job outlives the 300 s
    // the leaving worker has to finish it.
    let (s, _, _) = run(&long_jobs(", scale_on_in_flight = false"));
    assert!(s.instances.by_pool["workers"].scaling.cut_by_drain > 0);
    assert!(s.requests.failed() > 0);
}

#[test]
#[ignore = "slow: runs the heavy shipped viral_spike_100x (5 runs, 6 s of simulation), run by .ci/run"]
fn under_the_viral_spike_every_autoscaler_beats_a_fixed_fleet() {
    let runs = shipped("viral_spike_100x.toml");
    let get = |name: &str| runs.iter().find(|r| r.0 == name).unwrap();
    let failed = |name: &str| get(name).1.requests.failed();
    for v in ["base", "queue_depth", "hpa", "warm_pool"] {
        assert!(failed(v) < failed("fixed"), "{v}");
    }
    // The HPA (15 s syncs on the requests each pod holds) reacts before target tracking
    // (three one-minute datapoints, published a minute late); both after the spike starts.
    let first = |name: &str| {
        get(name)
            .3
            .iter()
            .find(|e| e.pool == "gpu" && e.to > e.from)
            .unwrap()
            .time_s
    };
    assert!(first("hpa") < first("base"));
    assert!(first("base") > 600.0);
    // A warm pool serves the same decisions sooner: every launch comes from it, and fewer
    // requests fail than in the base.
    let warm = get("warm_pool").1.instances.by_pool["gpu"].scaling;
    assert_eq!(warm.launches, warm.from_warm_pool);
    assert!(failed("warm_pool") < failed("base"));
}

#[test]
#[ignore = "slow: runs the heavy shipped scheduled_and_predictive (3 runs of 72 h, 10 s of simulation), run by .ci/run"]
fn scheduled_actions_fire_on_time_and_predictive_scaling_needs_a_day_of_history() {
    let runs = shipped("scheduled_and_predictive.toml");
    let get = |name: &str| runs.iter().find(|r| r.0 == name).unwrap();
    // The run starts Monday 00:00 UTC: "45 7 * * 1-5" fires at 07:45 each day, "30 18 * * 1-5"
    // at 18:30.
    let scheduled: Vec<f64> = get("schedule")
        .3
        .iter()
        .filter(|e| e.policy == "scheduled")
        .map(|e| e.time_s)
        .collect();
    let day = 86400.0;
    for d in 0..3 {
        let morning = d as f64 * day + 7.0 * 3600.0 + 45.0 * 60.0;
        assert!(scheduled.contains(&morning), "{scheduled:?}");
    }
    // Predictive scaling acts only once 24 hours of history exist.
    let predictive: Vec<&ScalingEvent> = get("predictive")
        .3
        .iter()
        .filter(|e| e.policy == "predictive")
        .collect();
    assert!(!predictive.is_empty());
    assert!(predictive.iter().all(|e| e.time_s >= day), "{predictive:?}");
    // Capacity bought ahead of the 08:00 ramp pays: both fail fewer requests than the
    // reactive base.
    let failed = |name: &str| get(name).1.requests.failed();
    assert!(failed("schedule") < failed("base"));
    assert!(failed("predictive") < failed("base"));
}

#[test]
fn a_queue_worker_pool_wakes_when_its_oldest_message_is_old_enough() {
    // Jobs enter the named queue from 0 s, one a second; no worker runs. KEDA polls at 0, 30,
    // 60 s... and activates when the oldest message's age is strictly above 30 s: at 30 s it
    // is exactly 30 (the job sent at 0 s), so the first activation is at 60 s.
    let text = r#"
name = "oldest"
duration = "200s"
[traffic]
rate = "1/s"
process = "periodic"
[[queue]]
name = "jobs"
[[instance_type]]
name = "box"
concurrency = 1
price = "$1/h"
[[pool]]
name = "workers"
instance_type = "box"
instances = 0
queue = "jobs"
[pool.autoscaling]
min = 0
max = 4
[pool.autoscaling.keda]
triggers = [{ metric = "queue_oldest_age", target = 60, activation = 30 }]
[[class]]
name = "job"
queue = "jobs"
service = { distribution = "constant", value = "100ms" }
"#;
    let (s, _, events) = run(text);
    let first = events.iter().find(|e| e.policy == "keda").unwrap();
    assert_eq!((first.time_s, first.from, first.to), (60.0, 0, 1));
    // Once a worker is up (at once) the queue drains and every job completes.
    assert_eq!(s.requests.failed(), 0);
    assert_eq!(s.requests.in_flight_at_end, 0);
}

#[test]
fn a_latency_percentile_drives_a_step_policy() {
    // Every request takes 2 s (one every 4 s, never waiting): p99 of TargetResponseTime is 2 s
    // in every minute. Above a 1.5 s threshold the alarm fires each minute (lag 0, no instance
    // warm-up) until max; below a 2.5 s one, never.
    let policy = |threshold: f64| {
        format!(
            "min = 1\nmax = 3\nmetric_lag = \"0s\"\ninstance_warmup = \"0s\"\n[[pool.autoscaling.step]]\nmetric = \"latency\"\n\
             statistic = \"p99\"\ncomparison = \">\"\nthreshold = {threshold}\n\
             steps = [{{ lower = 0, adjustment = 1 }}]"
        )
    };
    let (_, _, events) = run(&fleet("300s", "0.25/s", "2s", "", &policy(1.5)));
    assert_eq!(times(&events), vec![60.0, 120.0]);
    let (_, _, events) = run(&fleet("300s", "0.25/s", "2s", "", &policy(2.5)));
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn reuse_on_scale_in_returns_instances_to_the_warm_pool() {
    // Three running instances, a warm pool of up to 3 prepared (running state), and at 60 s
    // the desired capacity drops to 1: the pool now wants 3 − 1 = 2 warm instances. With
    // reuse the two leaving instances (idle: they drain at once) become them; without, they
    // are terminated and two new ones boot (40 s) and load (30 s) to fill the pool at 130 s.
    let pool = |reuse: bool| {
        format!(
            "[pool.startup]\nboot = \"40s\"\nmodel_load = \"30s\"\n[pool.warm_pool]\n\
             max_prepared_capacity = 3\nstate = \"running\"\nreuse_on_scale_in = {reuse}"
        )
    };
    let scaling = "min = 1\nmax = 3\nscheduled = { action = [{ at = \"60s\", desired = 1 }] }";
    let text = |reuse| {
        fleet("200s", "0.1/s", "1s", &pool(reuse), scaling)
            .replace("instances = 1\n", "instances = 3\n")
    };
    let warm = |r: &TimelineRow| r.instances[InstanceState::WarmRunning as usize];
    let (s, rows, _) = run(&text(true));
    assert_eq!(s.instances.by_pool["p"].scaling.terminations, 0);
    assert_eq!((warm(&rows[5]), warm(&rows[6])), (0.0, 2.0));
    let (s, rows, _) = run(&text(false));
    assert_eq!(s.instances.by_pool["p"].scaling.terminations, 2);
    assert_eq!((warm(&rows[12]), warm(&rows[13])), (0.0, 2.0));
    // Booting, loading and running warm instances are all billed in full: three instances
    // for 200 s either way. What reuse saves is the 70 s before the pool is warm again.
    let (reused, _, _) = run(&text(true));
    assert!((reused.cost_usd.total - s.cost_usd.total).abs() < 1e-12);
    assert!((s.cost_usd.total - 3.0 * 200.0 / 1000.0).abs() < 1e-12);
}

#[test]
fn forecast_only_predictive_scaling_reports_without_acting() {
    // One request a second for 26 h; 0.5 requests/s per instance: the forecast (from the first
    // day, available once 24 hours are recorded) needs 2 instances.
    let text = |mode: &str| {
        fleet(
            "26h",
            "1/s",
            "100ms",
            "",
            &format!("min = 1\nmax = 5\npredictive = {{ target = 0.5, mode = \"{mode}\" }}"),
        )
    };
    let (s, _, events) = run(&text("forecast_only"));
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!((e.policy, e.from, e.to), ("predictive", 1, 2));
    assert!((86400.0..=86460.0).contains(&e.time_s), "{e:?}");
    assert!(e.reason.contains("forecast only"));
    assert_eq!(s.instances.by_pool["p"].scaling.desired_at_end, 1);
    let (s, _, events) = run(&text("forecast_and_scale"));
    assert_eq!(events[0].to, 2);
    assert_eq!(s.instances.by_pool["p"].scaling.desired_at_end, 2);
}
