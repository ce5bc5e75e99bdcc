//! Retries, worked out by hand: the two-server fleet of `health.rs` (round robin, request k at
//! k × 0.1 s, 10 ms of work, instance 1 broken from 10.05 s: it answers 500 after 5 ms).
//! Without retries the odd requests 101 ... 299 fail: 100 server errors.

use crate::common::{self, run, scenario, BROKEN};

fn broken_fleet(balancer: &str, top: &str) -> String {
    common::two_servers(top, balancer, BROKEN)
}

#[test]
fn a_balancer_retry_sends_a_failed_try_to_the_next_pick() {
    // Retrying 500s (nginx proxy_next_upstream http_500), 2 tries: request 101's failed try
    // is sent at once (10.105 s) to round robin's next pick, instance 0, and completes there.
    // That retry took instance 0's turn, so request 102 goes to instance 1, fails, and is
    // retried on instance 0; and so on: from 101 on every request fails once and completes on
    // its retry. 199 retries, no errors; the retried requests take 5 + 10 ms.
    let (s, _) = run(
        &scenario(&broken_fleet(
            r#"retry = { attempts = 2, on = ["http_500"] }"#,
            "",
        )),
        1,
    );
    assert_eq!(s.requests.server_error, 0);
    assert_eq!(s.requests.completed, 300);
    assert_eq!(s.retries.balancer, 199);
    let mean = (101.0 * 0.010 + 199.0 * 0.015) / 300.0;
    assert!((s.latency_seconds.mean.unwrap() - mean).abs() < 1e-12);
    // nginx's default conditions (error timeout) do not include a 500: no retry.
    let (s, _) = run(&scenario(&broken_fleet("retry = { attempts = 2 }", "")), 1);
    assert_eq!((s.requests.server_error, s.retries.balancer), (100, 0));
}

#[test]
fn envoys_retry_budget_counts_active_requests() {
    // Envoy allows retries while those in flight are fewer than max(budget_percent × active,
    // min_retry_concurrency). When a try fails nothing else is active (the fleet is idle
    // between arrivals), so 20 % of 0 rounds to 0: with min_retry_concurrency 0 no retry is
    // allowed (100 errors, as without retries); with 1, every one is (199, as above).
    let budget = |min: u32| {
        format!(
            r#"retry = {{ attempts = 2, on = ["http_500"], budget_percent = 20, min_retry_concurrency = {min} }}"#
        )
    };
    let (s, _) = run(&scenario(&broken_fleet(&budget(0), "")), 1);
    assert_eq!((s.requests.server_error, s.retries.balancer), (100, 0));
    let (s, _) = run(&scenario(&broken_fleet(&budget(1), "")), 1);
    assert_eq!((s.requests.server_error, s.retries.balancer), (0, 199));
}

#[test]
fn client_retries_wait_their_backoff_and_shift_round_robin() {
    // Clients retry after min(cap, base × 2^1) = 50 ms (no jitter). Request 101 fails at
    // 10.105 s and is sent again at 10.155 s: round robin's next pick is instance 0, where it
    // completes. That retry took instance 0's turn, so request 102 goes to instance 1 and fails,
    // and so on: from 101 on every request fails once and completes on its retry, 199 retries.
    // The last (299, at 29.9 s) completes at 29.965 s. Latency: 10 ms, or 5 + 50 + 10 ms.
    let client = r#"
[client]
retry = { attempts = 2, base = "25ms", jitter = "none" }"#;
    let (s, rows) = run(&scenario(&broken_fleet("", client)), 1);
    assert_eq!(s.requests.completed, 300);
    assert_eq!(s.requests.server_error, 0);
    assert_eq!(s.retries.client, 199);
    let mean = (101.0 * 0.010 + 199.0 * 0.065) / 300.0;
    assert!((s.latency_seconds.mean.unwrap() - mean).abs() < 1e-12);
    let in_windows: u64 = rows.iter().map(|w| w.retries).sum();
    assert_eq!(in_windows, 199);
    // One attempt only: no retry, the odd requests fail as before.
    let (s, _) = run(
        &scenario(&broken_fleet(
            "",
            &client.replace("attempts = 2", "attempts = 1"),
        )),
        1,
    );
    assert_eq!((s.requests.server_error, s.retries.client), (100, 0));
}

#[test]
fn client_retries_turn_a_short_spike_into_a_lasting_failure() {
    // scenarios/retry_storm.toml: 52 req/s on 64 req/s of capacity, doubled from 5 to 7 min.
    // Without retries the backlog is gone within a minute or two of the spike's end (the
    // timed-out work left behind is at most the queue); with retries the retried and abandoned
    // work keep the fleet saturated to the end of the run.
    let set =
        fleetsim::ScenarioSet::load(&crate::common::repo().join("scenarios/retry_storm.toml"))
            .unwrap();
    let runs = set.runs();
    let last_failing = |rows: &[fleetsim::metrics::TimelineRow]| {
        rows.iter()
            .filter(|w| w.failed(fleetsim::metrics::Failure::TimedOut) > 0)
            .map(|w| w.end_s)
            .fold(0.0, f64::max)
    };
    let (base, base_rows) = run(runs[0].1, runs[0].1.seed);
    assert_eq!(runs[0].0, "base");
    assert_eq!(base.retries.client, 0);
    assert!(
        last_failing(&base_rows) <= 600.0,
        "{}",
        last_failing(&base_rows)
    );
    let (retried, rows) = run(runs[1].1, runs[1].1.seed);
    assert_eq!(runs[1].0, "client_retries");
    assert_eq!(
        retried.requests.arrived, base.requests.arrived,
        "the same requests"
    );
    assert_eq!(last_failing(&rows), 1200.0, "still failing at the end");
    assert!(retried.requests.completed < base.requests.completed / 2);
    assert!(
        rows.last().unwrap().retries > 1000,
        "a storm of retries to the end"
    );
}
