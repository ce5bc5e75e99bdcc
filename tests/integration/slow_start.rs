//! Slow start (AWS ALB: a linear ramp of a rejoining target's share), measured per window.
//!
//! Four targets behind round robin: three of pool "old" (100 ms per request) and one of pool
//! "new" (twice as fast: 50 ms). Nobody waits (100 slots each), so a window's mean latency says
//! what share `s` of its requests the new target served: mean = 0.1 − 0.05 s.
//!
//! The new target breaks at 0.5 s and is healed at 20.5 s. Deep checks every 5 s (2 s timeout,
//! thresholds 2) fail at 5 and 10 s: out at 10.005 s; pass at 25 and 30 s: back at 30 s, where
//! its 100 s ramp starts. Weights are scaled by 1000; the ramp moves each second, so during
//! second k of the ramp the new target's weight is 1000 · k/100 against 3 × 1000, and round robin
//! (run as nginx's smooth weighted round robin while weights differ) gives it k / (300 + k) of
//! the picks. A 10 s window j of the ramp averages that over k = 10j ... 10j + 9.

use crate::common::{run, scenario};

const TEXT: &str = r#"
name = "slow_start"
duration = "160s"
[timeline]
window = "10s"
[traffic]
rate = "100/s"
process = "periodic"
[[instance_type]]
name = "old"
concurrency = 100
price = "$1/h"
[[instance_type]]
name = "new"
concurrency = 100
speed = 2.0
price = "$1/h"
[[pool]]
name = "old"
instance_type = "old"
instances = 3
[[pool]]
name = "new"
instance_type = "new"
instances = 1
[balancer]
algorithm = "round_robin"
health_check = { depth = "deep", interval = "5s", timeout = "2s", unhealthy_threshold = 2, healthy_threshold = 2 }
slow_start = { duration = "100s" }
[[target_group]]
name = "all"
pools = ["old", "new"]
[[route]]
path = "/"
target_group = "all"
[[fault]]
pool = "new"
kind = "broken"
at = "0.5s"
duration = "20s"
[[class]]
name = "job"
path = "/infer"
service = { distribution = "constant", value = "100ms" }
"#;

fn new_share(mean_latency: f64) -> f64 {
    (0.1 - mean_latency) / 0.05
}

#[test]
fn a_rejoining_target_ramps_its_share_linearly() {
    let (s, rows) = run(&scenario(TEXT), 1);
    assert!(s.requests.server_error > 0, "the fault must bite");
    // Out of the group from 10.005 s until 30 s: windows [10, 20) and [20, 30) are all "old".
    assert!(new_share(rows[2].latency_mean_s.unwrap()).abs() < 1e-9);
    let mut last = 0.0;
    for j in 0..10 {
        let row = &rows[3 + j];
        assert_eq!(row.start_s, 30.0 + 10.0 * j as f64);
        let expected: f64 = (10 * j..10 * j + 10)
            .map(|k| k as f64 / (300.0 + k as f64))
            .sum::<f64>()
            / 10.0;
        let measured = new_share(row.latency_mean_s.unwrap());
        // About 1,000 picks a window: a deterministic schedule is within a few picks of its
        // weights each second, and requests completing just after a window's start arrived in
        // the window before (at most 10 of them); 0.005 bounds both.
        assert!(
            (measured - expected).abs() < 0.005,
            "window {j}: measured {measured:.4}, expected {expected:.4}"
        );
        assert!(measured > last, "the share rises window by window");
        last = measured;
    }
    // After the ramp (130 s) the new target is one of four equals.
    let after = new_share(rows[14].latency_mean_s.unwrap());
    assert!((after - 0.25).abs() < 0.005, "{after}");
}

#[test]
fn without_slow_start_a_rejoining_target_takes_its_full_share_at_once() {
    let (_, rows) = run(
        &scenario(&TEXT.replace("slow_start = { duration = \"100s\" }", "")),
        1,
    );
    let first = new_share(rows[3].latency_mean_s.unwrap());
    assert!((first - 0.25).abs() < 0.005, "{first}");
}
