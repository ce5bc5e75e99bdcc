//! Billing micro-cases computed by hand (issue 6): the 60-second minimum, per-second rounding,
//! a partial hour under per-hour billing, a stopped warm-pool instance paying its storage only,
//! the cost summary adding up, the catalog resolving instance types, and requests that met
//! their latency target.
//!
//! Prices are chosen so that the arithmetic is easy: $36/h is $0.01 per second.

use crate::common::{run, scenario};
use fleetsim::Summary;

/// One pool of one $36/h instance type, empty at the start; scheduled actions bring it to 1
/// at `up` and back to 0 at `down`. No traffic reaches it (a rate of 0), so it drains at once.
fn one_instance(up: &str, down: &str, duration: &str, billing: &str) -> String {
    format!(
        r#"name = "bill"
duration = "{duration}"
{billing}
[traffic]
rate = "0/s"
[[instance_type]]
name = "gpu"
concurrency = 1
price = "$36/h"
[[pool]]
name = "p"
instance_type = "gpu"
instances = 0
[pool.autoscaling]
min = 0
max = 1
[[pool.autoscaling.scheduled.action]]
at = "{up}"
desired = 1
[[pool.autoscaling.scheduled.action]]
at = "{down}"
desired = 0
[[class]]
name = "a"
pool = "p"
service = {{ distribution = "constant", value = "1s" }}
"#
    )
}

fn cost(text: &str) -> Summary {
    run(&scenario(text), 1).0
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

#[test]
fn an_instance_living_30_seconds_pays_60() {
    // Launched at 10 s, scaled in at 40 s: 30 s used, 60 s billed × $0.01/s = $0.60.
    let s = cost(&one_instance("10s", "40s", "10m", ""));
    assert!(close(s.cost_usd.total, 0.60), "{}", s.cost_usd.total);
    // Its 30 s are in the instance-hours; all of it was idle (no traffic), and so is the
    // 30 s of padding (time paid for, not used).
    assert!(close(s.instances.instance_hours, 30.0 / 3600.0));
    assert!(close(s.cost_usd.by_state.idle, 0.60));
}

#[test]
fn an_instance_living_61_seconds_pays_61_and_a_started_second_is_a_whole_one() {
    // 10 s → 71 s: 61 s × $0.01 = $0.61.
    let s = cost(&one_instance("10s", "71s", "10m", ""));
    assert!(close(s.cost_usd.total, 0.61), "{}", s.cost_usd.total);
    // 10 s → 71.5 s: 61.5 s rounds up to 62 s = $0.62.
    let s = cost(&one_instance("10s", "71500ms", "10m", ""));
    assert!(close(s.cost_usd.total, 0.62), "{}", s.cost_usd.total);
}

#[test]
fn an_instance_present_at_the_start_pays_no_minimum() {
    // In service at t = 0 (started before the run, so its minimum was paid then), scaled in at
    // 30 s: 30 s × $0.01 = $0.30.
    let text = one_instance("1h", "30s", "10m", "").replace("instances = 0", "instances = 1");
    let s = cost(&text);
    assert!(close(s.cost_usd.total, 0.30), "{}", s.cost_usd.total);
}

#[test]
fn per_hour_billing_charges_61_minutes_as_two_hours() {
    // 0 → 61 min under per-hour billing: 2 h × $36 = $72.
    let s = cost(&one_instance(
        "0s",
        "61m",
        "3h",
        "[billing]\ngranularity = \"per_hour\"",
    ));
    assert!(close(s.cost_usd.total, 72.0), "{}", s.cost_usd.total);
}

#[test]
fn an_instance_still_running_at_the_end_pays_its_actual_time() {
    // Launched at 10 s in a 40 s run: the run's end is not a stop, 30 s = $0.30, no minimum.
    let s = cost(&one_instance("10s", "1h", "40s", ""));
    assert!(close(s.cost_usd.total, 0.30), "{}", s.cost_usd.total);
}

#[test]
fn a_stopped_warm_pool_instance_pays_its_storage_only() {
    // One stopped warm instance for the whole hour at $0.011/h storage, none in service:
    // $0.011, all of it warm-pool storage.
    let text = r#"name = "warm"
duration = "1h"
[traffic]
rate = "0/s"
[[instance_type]]
name = "gpu"
concurrency = 1
price = "$36/h"
[[pool]]
name = "p"
instance_type = "gpu"
instances = 0
[pool.warm_pool]
min_size = 1
storage_price = "$0.011/h"
[pool.autoscaling]
min = 0
max = 1
[[pool.autoscaling.scheduled.action]]
at = "2h"
desired = 0
[[class]]
name = "a"
pool = "p"
service = { distribution = "constant", value = "1s" }
"#;
    let s = cost(text);
    assert!(close(s.cost_usd.total, 0.011), "{}", s.cost_usd.total);
    assert!(close(s.cost_usd.by_state.warm_pool, 0.011));
    assert_eq!(s.cost_usd.by_purchase_option.spot, 0.0);
}

/// A fleet with traffic, autoscaling, a warm pool and a billed balancer.
const BUSY: &str = r#"name = "busy"
duration = "2h"
[billing]
load_balancer = "alb"
[traffic]
profile = { kind = "steps", steps = [{ at = "0s", rate = "5/s" }, { at = "30m", rate = "40/s" }, { at = "90m", rate = "5/s" }] }
[[instance_type]]
name = "g5.xlarge"
[[pool]]
name = "gpu"
instance_type = "g5.xlarge"
instances = 2
[pool.startup]
boot = "90s"
model_load = "30s"
[pool.warm_pool]
min_size = 1
storage_price = "$0.011/h"
reuse_on_scale_in = true
[pool.autoscaling]
min = 1
max = 20
[[pool.autoscaling.target_tracking]]
metric = "utilization"
target = 60
[[class]]
name = "a"
pool = "gpu"
service = { distribution = "exponential", mean = "500ms" }
[slo]
latency_target = "2s"
"#;

#[test]
fn the_cost_summary_adds_up() {
    let s = cost(BUSY);
    let c = &s.cost_usd;
    let pools: f64 = c.by_pool.values().sum();
    let options = c.by_purchase_option.on_demand + c.by_purchase_option.spot;
    let b = &c.by_state;
    let states = b.startup + b.serving + b.idle + b.draining + b.warm_pool;
    let extra = c.load_balancers + c.data_transfer;
    for (what, sum) in [
        ("pools", pools),
        ("purchase options", options),
        ("states", states),
    ] {
        assert!(
            close(sum + extra, c.total),
            "{what}: {} + {extra} vs {}",
            sum,
            c.total
        );
    }
    // Something of every kind happened: startup, serving, idle, warm-pool storage.
    assert!(b.startup > 0.0 && b.serving > 0.0 && b.idle > 0.0 && b.warm_pool > 0.0);
    // The ALB: at least its hours, $0.0225 × 2 h, plus LCUs (40/s is 1.6 LCU by new
    // connections for an hour: about $0.0128 more).
    assert!(
        c.load_balancers > 0.045 && c.load_balancers < 0.045 + 0.03,
        "{}",
        c.load_balancers
    );
    // Monthly: 720 h / 2 h = 360 times the run's cost.
    assert!(close(c.monthly, c.total * 360.0));
    let done = s.requests.completed as f64;
    assert!(close(c.per_1000_requests.unwrap(), c.total * 1000.0 / done));
    let met = s.met_slo.expect("a latency target is set");
    assert!(met.met > 0 && met.met <= s.requests.completed);
    assert!(close(c.per_good_request.unwrap(), c.total / met.met as f64));
    assert_eq!(met.latency_target_seconds, 2.0);
}

#[test]
fn the_timeline_cost_rate_integrates_to_the_unrounded_cost() {
    // Without a warm pool, every billing period starts at t = 0 (2 instances) or at a launch,
    // and pays at most 61 s more than it ran (the 60 s minimum, or < 1 s of rounding). Σ rate
    // × window length is the running cost without them: at most the billed total, and within
    // that padding of it.
    let no_warm_pool = BUSY.replace(
        "[pool.warm_pool]\nmin_size = 1\nstorage_price = \"$0.011/h\"\nreuse_on_scale_in = true\n",
        "",
    );
    assert_ne!(no_warm_pool, BUSY);
    let (s, rows) = run(&scenario(&no_warm_pool), 1);
    let metered: f64 = rows
        .iter()
        .map(|r| r.cost_rate_usd_per_hour * (r.end_s - r.start_s) / 3600.0)
        .sum();
    let billed = s.cost_usd.total;
    let periods = s.instances.by_pool["gpu"].scaling.launches as f64 + 2.0;
    // One g5.xlarge second is 1.006 / 3600 USD.
    let padding = periods * 61.0 * 1.006 / 3600.0;
    assert!(metered <= billed + 1e-9, "{metered} > {billed}");
    assert!(
        billed - metered <= padding,
        "{billed} - {metered} > {padding}"
    );
    assert!(s.instances.by_pool["gpu"].scaling.launches > 0, "it scaled");
    // With the warm pool: two instances of $1.006/h in service at the start, the warm pool's
    // stopped instances (AWS's default prepared capacity is the group's max: 20 − 2 = 18) at
    // $0.011/h each, and the ALB's hourly price make the first window's rate.
    let (_, rows) = run(&scenario(BUSY), 1);
    let first = rows[0].cost_rate_usd_per_hour;
    assert!(close(first, 2.0 * 1.006 + 18.0 * 0.011 + 0.0225), "{first}");
}

#[test]
fn a_catalog_type_takes_its_price_and_concurrency_and_the_file_overrides_them() {
    let text = |extra: &str| {
        format!(
            r#"name = "cat"
duration = "1h"
[traffic]
rate = "0/s"
[[instance_type]]
name = "g2-standard-4"
{extra}
[[pool]]
name = "p"
instance_type = "g2-standard-4"
instances = 1
[[class]]
name = "a"
pool = "p"
service = {{ distribution = "constant", value = "1s" }}
"#
        )
    };
    // GCP us-central1 g2-standard-4: $0.706832255/h on demand, $0.397336 spot (2026-08-03),
    // one L4: 4 slots, speed 121/125.
    let s = scenario(&text(""));
    let t = &s.instance_types[0];
    assert_eq!(t.price_per_hour, 0.706832255);
    assert_eq!((t.concurrency, t.gpu_model.as_deref()), (4, Some("L4")));
    assert_eq!(t.speed, 0.968);
    assert_eq!(t.region.as_deref(), Some("us-central1"));
    assert!(matches!(
        t.spot_price,
        Some(fleetsim::model::market::spot_price::SpotPriceSpec::Constant { usd_per_hour })
            if usd_per_hour == 0.397336
    ));
    let (summary, _) = run(&s, 1);
    assert!(close(summary.cost_usd.total, 0.706832255));
    // Another region, and overrides.
    let s = scenario(&text(
        "region = \"europe-west4\"\nconcurrency = 8\nspeed = 1.5\nspot_price = \"$0.30/h\"",
    ));
    let t = &s.instance_types[0];
    assert_eq!(t.price_per_hour, 0.742916046);
    assert_eq!((t.concurrency, t.speed), (8, 1.5));
    assert!(matches!(
        t.spot_price,
        Some(fleetsim::model::market::spot_price::SpotPriceSpec::Constant { usd_per_hour })
            if usd_per_hour == 0.3
    ));
}

#[test]
fn an_alb_pays_its_hours_and_the_lcus_of_its_busiest_dimension_each_hour() {
    // Evenly spaced requests: 50/s in the first hour, 100/s in the second. New connections
    // are the largest dimension (2 and 4 LCUs; 0.5 or 1 request in flight is 1/3000 of one):
    // 6 LCU-hours × $0.008 + 2 ALB-hours × $0.0225 = $0.093. A request more or less in an hour
    // (where the rate steps) moves it by 1/(3600·25) LCU-hour, $9e-8: 1e-6 allows ±10.
    let text = r#"name = "alb"
duration = "2h"
[billing]
load_balancer = "alb"
[traffic]
profile = { kind = "steps", steps = [{ at = "0s", rate = "50/s" }, { at = "1h", rate = "100/s" }] }
process = "periodic"
[[instance_type]]
name = "gpu"
concurrency = 4
price = "$1/h"
[[pool]]
name = "p"
instance_type = "gpu"
instances = 1
[[class]]
name = "a"
pool = "p"
service = { distribution = "constant", value = "10ms" }
"#;
    let s = cost(text);
    let lb = s.cost_usd.load_balancers;
    assert!((lb - 0.093).abs() < 1e-6, "{lb}");
    // The instance: 2 h × $1.
    assert!(close(s.cost_usd.total, 2.0 + lb));
}
