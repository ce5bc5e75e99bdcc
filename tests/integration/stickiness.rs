//! ALB duration-based stickiness (lb_cookie), worked out by hand. One user sends a request
//! every `gap`; two targets behind round robin: target 0 (pool "fast", 50 ms per request) and
//! target 1 (pool "slow", 100 ms). Nobody ever waits, so a request's latency says which target
//! served it.

use crate::common::{run, scenario};

fn sticky(gap_rate: &str, balancer: &str, extra: &str) -> String {
    format!(
        r#"
name = "sticky"
duration = "60s"
[traffic]
rate = "{gap_rate}"
process = "periodic"
users = 1
[[instance_type]]
name = "fast"
concurrency = 1
speed = 2.0
price = "$1/h"
[[instance_type]]
name = "slow"
concurrency = 1
price = "$1/h"
[[pool]]
name = "fast"
instance_type = "fast"
instances = 1
[[pool]]
name = "slow"
instance_type = "slow"
instances = 1
[balancer]
algorithm = "round_robin"
{balancer}
[[target_group]]
name = "both"
pools = ["fast", "slow"]
[[route]]
path = "/"
target_group = "both"
[[class]]
name = "chat"
path = "/chat"
service = {{ distribution = "constant", value = "100ms" }}
{extra}
"#
    )
}

#[test]
fn a_session_stays_on_its_target_while_its_cookie_lives() {
    // Without stickiness round robin alternates: 30 requests at 50 ms and 30 at 100 ms.
    let (s, _) = run(&scenario(&sticky("1/s", "", "")), 1);
    assert_eq!(s.requests.completed, 60);
    assert!((s.latency_seconds.mean.unwrap() - 0.075).abs() < 1e-12);
    // With a 1 h cookie every request follows the first one to target 0: all at 50 ms.
    let (s, _) = run(
        &scenario(&sticky("1/s", "stickiness = { duration = \"1h\" }", "")),
        1,
    );
    assert_eq!(s.requests.completed, 60);
    assert_eq!(s.latency_seconds.max, Some(0.05));
    // A 1 s cookie, refreshed by each request, is still valid 1 s later (it expires only
    // after last request + duration): sticky again.
    let (s, _) = run(
        &scenario(&sticky("1/s", "stickiness = { duration = \"1s\" }", "")),
        1,
    );
    assert_eq!(s.latency_seconds.max, Some(0.05));
    // Requests 2 s apart outlive a 1 s cookie: each is routed afresh, alternating again.
    let (s, _) = run(
        &scenario(&sticky("0.5/s", "stickiness = { duration = \"1s\" }", "")),
        1,
    );
    assert_eq!(s.requests.completed, 30);
    assert!((s.latency_seconds.mean.unwrap() - 0.075).abs() < 1e-12);
}

#[test]
fn a_session_moves_when_its_target_leaves_and_stays_moved() {
    // Sticky to target 0 from t = 0. Target 0 breaks at 10.5 s and recovers at 20.5 s. Deep
    // checks every 5 s fail at 15.005 s and 20.005 s: it leaves at 20.005 s. The requests at
    // 11 ... 20 s follow the cookie into the broken server: 10 server errors. The request at
    // 21 s finds its target gone: round robin's next pick is target 1, and the session stays
    // there even after target 0 is healthy again (checks pass at 25 and 30 s): requests 21 ...
    // 59 at 100 ms. Completed: 11 at 50 ms (0 ... 10 s) and 39 at 100 ms.
    let balancer = r#"stickiness = { duration = "1h" }
health_check = { depth = "deep", interval = "5s", timeout = "2s", unhealthy_threshold = 2, healthy_threshold = 2 }"#;
    let fault = r#"
[[fault]]
pool = "fast"
kind = "broken"
at = "10.5s"
duration = "10s""#;
    let (s, _) = run(&scenario(&sticky("1/s", balancer, fault)), 1);
    assert_eq!(s.requests.server_error, 10);
    assert_eq!(s.requests.completed, 50);
    let mean = (11.0 * 0.05 + 39.0 * 0.1) / 50.0;
    assert!((s.latency_seconds.mean.unwrap() - mean).abs() < 1e-12);
    assert_eq!(s.latency_seconds.max, Some(0.1));
}
