//! Issue 14, item 13: every money input is bounded at validation, so that the largest
//! accepted values still give finite costs in every result file (the bounds themselves are
//! refused one step above in `tests/bad_scenarios/money_*.toml`).

use crate::common::scenario;

/// Every money input at its largest accepted value: prices of $1,000,000/h (on demand, spot
/// mean and cap, warm-pool storage, the balancer and its LCU), the spot path's largest
/// volatility, $1,000/GB of data transfer for 1 GB requests and responses, a one-hour billing
/// minimum, a trillion-dollar SLO.
const AT_THE_BOUNDS: &str = r#"
name = "money_at_the_bounds"
duration = "1h"
[traffic]
rate = "10/s"
process = "periodic"
[[region]]
name = "r"
cloud = "aws"
[[instance_type]]
name = "box"
concurrency = 100
price = "$1000000/h"
spot_price = { kind = "mean_reverting", mean = "$1000000/h", volatility = 10, reversion = "1m", step = "1m", cap = "$1000000/h" }
[[pool]]
name = "od"
instance_type = "box"
instances = 50
[pool.autoscaling]
min = 50
max = 100
scheduled = { action = [{ at = "30m", desired = 100 }, { at = "40m", desired = 60 }] }
[pool.warm_pool]
storage_price = "$1000000/h"
[[pool]]
name = "spot"
instance_type = "box"
purchase = "spot"
instances = 50
[[class]]
name = "a"
share = 0.5
pool = "od"
service = { distribution = "constant", value = "1s" }
request_size = "1GB"
response_size = "1GB"
[[class]]
name = "b"
share = 0.5
pool = "spot"
service = { distribution = "constant", value = "1s" }
request_size = "1GB"
response_size = "1GB"
[billing]
minimum = "1h"
load_balancer = "$1000000/h"
lcu = "$1000000/h"
[data_transfer]
internet_egress = { aws = 1000 }
inter_region = { aws = 1000 }
[slo]
cost = "$1,000,000,000,000"
monthly_cost = 1000000000000
"#;

/// Every number in `v`, with its path.
fn numbers(v: &serde_json::Value, path: &str, out: &mut Vec<(String, serde_json::Value)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                numbers(x, &format!("{path}.{k}"), out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                numbers(x, &format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Number(_) => out.push((path.to_string(), v.clone())),
        _ => {}
    }
}

#[test]
fn the_largest_accepted_money_inputs_give_finite_costs_in_every_file() {
    let s = scenario(AT_THE_BOUNDS);
    let dir = tempfile::tempdir().unwrap();
    let summary = fleetsim::sweep::simulate_into(&s, 1, dir.path())
        .expect("a run at the bounds writes its summary (no non-finite number)");
    let cost = &summary.cost_usd;
    // Each part is large and finite: the instances alone cost at least 100 instance-hours at
    // $1,000,000/h; 36,000 requests carry 2 GB each through the balancer and 1 GB out.
    assert!(cost.total.is_finite() && cost.total > 1e8, "{}", cost.total);
    assert!(cost.load_balancers.is_finite() && cost.load_balancers > 1e6);
    assert!(cost.data_transfer.is_finite() && cost.data_transfer > 1e6);
    assert!(cost.monthly.is_finite());
    // summary.json: every number finite, and the costs are numbers (serde_json would have
    // written an infinity as null).
    let text = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut all = Vec::new();
    numbers(&json, "", &mut all);
    assert!(all.len() > 50);
    for (path, n) in &all {
        assert!(n.as_f64().is_some_and(f64::is_finite), "{path} = {n}");
    }
    for key in ["total", "load_balancers", "data_transfer", "monthly"] {
        assert!(
            json["cost_usd"][key].is_f64(),
            "cost_usd.{key}: {}",
            json["cost_usd"][key]
        );
    }
    // timeline.csv: no cell reads as NaN or an infinity.
    let timeline = std::fs::read_to_string(dir.path().join("timeline.csv")).unwrap();
    let mut cells = 0;
    for line in timeline.lines().skip(1) {
        for cell in line.split(',') {
            if let Ok(v) = cell.parse::<f64>() {
                assert!(v.is_finite(), "timeline cell {cell}");
                cells += 1;
            }
        }
    }
    assert!(cells > 1000);
}
