//! Health checks, worked out by hand: a broken-but-alive server, and a crashed one.
//!
//! Two instances behind round robin; one arrival every 100 ms (periodic: request k arrives at
//! k × 0.1 s), each served in 10 ms, so nobody waits and round robin alternates: even k to
//! instance 0, odd k to instance 1. Instance 1 fails at 10.05 s (between two arrivals). The run
//! lasts 30 s: 300 requests. Health checks run every 5 s from t = 0 (at 0, 5, 10, 15, ...).

use crate::common::{self, run, scenario, BROKEN};
use fleetsim::metrics::Failure;

fn two_servers(balancer: &str, fault: &str) -> String {
    common::two_servers("", balancer, fault)
}

const CHECKS: &str = r#"health_check = { depth = "DEPTH", interval = "5s", timeout = "2s", unhealthy_threshold = 2, healthy_threshold = 2 }"#;

#[test]
fn a_shallow_check_keeps_sending_traffic_to_a_broken_but_alive_server() {
    // The process is alive, so every shallow check passes: every odd request from k = 101
    // (10.1 s) to k = 299 (29.9 s, its error back at 29.905 s) fails: 100 server errors.
    let (s, rows) = run(
        &scenario(&two_servers(&CHECKS.replace("DEPTH", "shallow"), BROKEN)),
        1,
    );
    assert_eq!(s.requests.arrived, 300);
    assert_eq!(s.requests.server_error, 100);
    assert_eq!(s.requests.completed, 200);
    assert!(s.requests.is_conserved());
    assert_eq!(
        rows[2].healthy_targets, 2.0,
        "shallow checks never remove it"
    );
}

#[test]
fn a_deep_check_removes_a_broken_server_after_the_unhealthy_threshold() {
    // Deep checks fail from the one at 15 s (error after 5 ms: 15.005 s) and 20 s (20.005 s):
    // the second consecutive failure removes instance 1 at 20.005 s. Lost meanwhile: odd k from
    // 101 to 199 (19.9 s): 50 requests. After that every request goes to instance 0.
    let (s, rows) = run(
        &scenario(&two_servers(&CHECKS.replace("DEPTH", "deep"), BROKEN)),
        1,
    );
    assert_eq!(s.requests.arrived, 300);
    assert_eq!(s.requests.server_error, 50);
    assert_eq!(s.requests.completed, 250);
    // Window [20 s, 30 s): two healthy targets for 5 ms, then one.
    let expected = (2.0 * 0.005 + 1.0 * 9.995) / 10.0;
    assert!(
        (rows[2].healthy_targets - expected).abs() < 1e-12,
        "{}",
        rows[2].healthy_targets
    );
    // All 50 fall in the window [10 s, 20 s).
    assert_eq!(rows[1].failed(Failure::ServerError), 50);
}

#[test]
fn nginx_passive_checks_ignore_500s_by_default_and_count_them_when_told() {
    // nginx's default proxy_next_upstream (error timeout) does not count a 500: the broken
    // server keeps its traffic, as with a shallow check: 100 server errors.
    let (s, _) = run(&scenario(&two_servers("passive = {}", BROKEN)), 1);
    assert_eq!(s.requests.server_error, 100);
    // Counting 500s, max_fails 1 and fail_timeout 10 s: the first error (k = 101, back at
    // 10.105 s, in nginx's second 10) takes it out through second 20, until 21.0 s; then
    // exactly one trial request goes through (the next pick of it, at 21.0 or 21.1 s), fails,
    // and takes it out past the end: 2.
    let (s, _) = run(
        &scenario(&two_servers(
            "passive = { count_server_errors = true }",
            BROKEN,
        )),
        1,
    );
    assert_eq!(s.requests.server_error, 2);
    assert_eq!(s.requests.completed, 298);
}

#[test]
fn a_crashed_host_fails_connections_until_shallow_checks_remove_it() {
    // The host stops answering at 10.05 s. Each try to it fails after the 1 s connect
    // timeout. Checks at 15 s and 20 s get no answer and fail at their 2 s timeout (17 s, 22 s):
    // removed at 22 s. Sent to it meanwhile: odd k from 101 to 219 (21.9 s): 60 connect
    // failures, the last one at 22.9 s.
    let routes = r#"
[[route]]
path = "/"
pool = "p"
connect_timeout = "1s"
"#;
    let text = two_servers(&CHECKS.replace("DEPTH", "shallow"), "kind = \"crash\"")
        .replace("[[class]]", &format!("{routes}\n[[class]]"))
        .replace("name = \"job\"", "name = \"job\"\npath = \"/predict\"");
    let (s, _) = run(&scenario(&text), 1);
    assert_eq!(s.requests.connect_failed, 60);
    assert_eq!(s.requests.completed, 240);
    assert_eq!(s.by_route["/"].requests.connect_failed, 60);
}

#[test]
fn with_no_healthy_target_requests_fail_with_a_reason_of_their_own() {
    // Both instances broken at 10.05 s, nginx passive checks counting 500s: each is taken out by
    // its first error (k = 100 at 10.0 s is before the fault; k = 101 → instance 1 and k = 102 →
    // instance 0 fail, both in nginx's second 10), and with no live upstream the later
    // requests fail at once until both windows pass at 21.0 s, when one trial each (k = 210,
    // 211) fails again (taking them out past the end): 4 server errors.
    let text = two_servers("passive = { count_server_errors = true }", BROKEN)
        .replace("first = 1", "first = 0\ninstances = 2");
    let (s, _) = run(&scenario(&text), 1);
    assert_eq!(s.requests.server_error, 4);
    assert_eq!(s.requests.completed, 101);
    assert_eq!(s.requests.no_healthy_target, 300 - 101 - 4);
}

#[test]
fn a_target_group_naming_its_own_algorithm_keeps_the_default_health_checks_and_stickiness() {
    // A group's own algorithm replaces the [balancer] algorithm and its settings (choice_count,
    // decay, table_size), not the health checks and stickiness: those come from the group's own
    // table, else from [balancer]; so do slow start and retries. Group "own" names an algorithm and nothing else; group
    // "mine" has its own health check (20 s) and so keeps only passive and stickiness.
    let s = scenario(
        r#"
name = "groups"
duration = "1m"
[traffic]
rate = "10/s"
[[instance_type]]
name = "gpu"
concurrency = 1
price = "$1/h"
[[pool]]
name = "a"
instance_type = "gpu"
instances = 2
[[pool]]
name = "b"
instance_type = "gpu"
instances = 2
[balancer]
algorithm = "round_robin"
health_check = { interval = "10s" }
passive = { max_fails = 2 }
stickiness = { duration = "1h" }
slow_start = { duration = "60s" }
retry = { attempts = 3 }
[[target_group]]
name = "own"
pools = ["a"]
algorithm = "least_connections"
[[target_group]]
name = "mine"
pools = ["b"]
health_check = { interval = "20s" }
[[route]]
path = "/a"
target_group = "own"
[[route]]
path = "/b"
target_group = "mine"
[[class]]
name = "x"
path = "/a"
share = 0.5
service = { distribution = "constant", value = "10ms" }
[[class]]
name = "y"
path = "/b"
share = 0.5
service = { distribution = "constant", value = "10ms" }
"#,
    );
    let own = &s.target_groups[0].balancer;
    let mine = &s.target_groups[1].balancer;
    assert_eq!(
        own.algorithm,
        fleetsim::model::balancer::Algorithm::LeastConnections
    );
    assert_eq!(
        own.health_check.map(|h| h.interval.as_secs_f64()),
        Some(10.0)
    );
    assert_eq!(own.passive.map(|p| p.max_fails), Some(2));
    assert_eq!(own.stickiness.map(|d| d.as_secs_f64()), Some(3600.0));
    assert_eq!(
        own.slow_start,
        Some(fleetsim::model::balancer::slow_start::SlowStart::Linear {
            duration: fleetsim::time::SimDuration::from_secs(60)
        })
    );
    assert_eq!(own.retry.map(|r| r.attempts), Some(3));
    assert_eq!(
        mine.health_check.map(|h| h.interval.as_secs_f64()),
        Some(20.0)
    );
    assert_eq!(mine.passive.map(|p| p.max_fails), Some(2));
    assert_eq!(mine.stickiness.map(|d| d.as_secs_f64()), Some(3600.0));
}
