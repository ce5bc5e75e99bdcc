//! Closed-loop load (`[traffic] closed_loop`): N users, each sending its next request when the
//! previous one has ended and a think time has passed.
//!
//! Checked three ways: a timeline worked out by hand; the exact mean value analysis (MVA) of a
//! single-station closed network; and the interactive response time law `N = X·(R + Z)`.

use crate::common::{confidence_interval, on_two_threads, run, scenario};

/// One pool of `servers` instances of one slot each, one class of `service`, and a closed loop.
fn closed(duration: &str, top: &str, closed_loop: &str, servers: u32, service: &str) -> String {
    format!(
        r#"
name = "closed"
duration = "{duration}"
{top}
[timeline]
window = "1s"
[traffic]
closed_loop = {closed_loop}
[[instance_type]]
name = "box"
concurrency = 1
price = "$3.6/h"
[[pool]]
name = "p"
instance_type = "box"
instances = {servers}
[[class]]
name = "job"
service = {service}
"#
    )
}

#[test]
fn two_users_one_server_by_hand() {
    // Constant service 1 s, constant think 2 s, no ramp-up: each user starts after an initial
    // think of 2 s, so both send at 2 (user 0 first: its send was scheduled first).
    //
    //   t   event                                  server
    //   2   u0 sends, starts; u1 sends, queues     u0 2–3
    //   3   u0 ends (R 1), thinks to 5; u1 starts   u1 3–4
    //   4   u1 ends (R 2), thinks to 6
    //   5   u0 sends, starts                       u0 5–6
    //   6   u1 sends (its send was scheduled at 4, before u0's end at 5: it queues);
    //       u0 ends (R 1), thinks to 8; u1 starts   u1 6–7
    //   7   u1 ends (R 1), thinks to 9
    //   8   u0 sends → ends 9;  9 u1 sends (queues behind u0's end at 9) → ends 10; …
    //
    // From t = 5 on each user cycles every 3 s without waiting. Over 12 s: sends at
    // 2, 2, 5, 6, 8, 9, 11 (and 12, past the end); ends at 3, 4, 6, 7, 9, 10 (the one at 12 is
    // past the end; u0's send at 11 is in flight at the end).
    let s = scenario(&closed(
        "12s",
        "",
        r#"{ users = 2, think_time = { distribution = "constant", value = "2s" } }"#,
        1,
        r#"{ distribution = "constant", value = "1s" }"#,
    ));
    let (summary, rows) = run(&s, 1);
    let per_second = |f: fn(&fleetsim::metrics::TimelineRow) -> u64| -> Vec<u64> {
        rows.iter().map(f).collect()
    };
    //                         0  1  2  3  4  5  6  7  8  9 10 11
    assert_eq!(
        per_second(|r| r.arrivals),
        [0, 0, 2, 0, 0, 1, 1, 0, 1, 1, 0, 1]
    );
    assert_eq!(
        per_second(|r| r.completed),
        [0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0]
    );
    assert_eq!(summary.requests.arrived, 7);
    assert_eq!(summary.requests.completed, 6);
    assert_eq!(summary.requests.in_flight_at_end, 1);
    // Response times 1, 2, 1, 1, 1, 1: mean 7/6 s, max 2 s.
    assert!((summary.latency_seconds.mean.unwrap() - 7.0 / 6.0).abs() < 1e-9);
    assert_eq!(summary.latency_seconds.max, Some(2.0));
    let c = summary.closed_loop.expect("a closed-loop summary");
    assert_eq!(c.users, 2);
    // Six ends in 12 s, each followed by a 2 s think.
    assert_eq!(c.ended_per_second, 0.5);
    assert_eq!(c.throughput_per_second, 0.5);
    assert_eq!(c.think_time_mean_seconds, Some(2.0));
    assert!((c.response_time_mean_seconds.unwrap() - 7.0 / 6.0).abs() < 1e-12);
    // N/X − Z = 2/0.5 − 2 = 2 s against R = 7/6 s: over only 12 s the two edges (the 2 s
    // initial thinks, the send in flight at the end) weigh heavily — 2·12 = 24 user-seconds
    // against 6·(7/6 + 2) = 19 in whole cycles; the law holds over long runs (below).
    assert_eq!(c.law_response_time_seconds, Some(2.0));
}

#[test]
fn a_timed_out_request_is_followed_by_a_send_after_the_think() {
    // One user, service 5 s, client timeout 2 s, think 1 s (the server keeps serving work whose
    // client gave up). Each request fails as timed out 2 s after its send and the user sends
    // again 1 s later: a cycle of 3 s from the first send at 1 (the initial think).
    //   send 1: served 1–6, times out at 3;     send 4: queued behind it, times out at 6;
    //   send 7: served 7–12, times out at 9;    send 10: queued, times out at 12; …
    // Sends at 1, 4, 7, 10, 13, 16, 19; ends at 3, 6, …, 18 (six); the send at 19 would time
    // out at 21, after the end. Conservation: 7 arrived = 0 completed + 6 failed + 1 in flight.
    let s = scenario(&closed(
        "20s",
        "timeout = \"2s\"",
        r#"{ users = 1, think_time = { distribution = "constant", value = "1s" } }"#,
        1,
        r#"{ distribution = "constant", value = "5s" }"#,
    ));
    let (summary, rows) = run(&s, 1);
    let sends: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.arrivals > 0)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(sends, [1, 4, 7, 10, 13, 16, 19]);
    let r = &summary.requests;
    assert_eq!(r.arrived, 7);
    assert_eq!(r.completed, 0);
    assert_eq!(r.timed_out, 6);
    assert_eq!(r.in_flight_at_end, 1);
    assert_eq!(r.arrived, r.completed + r.failed() + r.in_flight_at_end);
    let c = summary.closed_loop.unwrap();
    assert_eq!(c.throughput_per_second, 0.0);
    assert_eq!(c.ended_per_second, 6.0 / 20.0);
    assert_eq!(c.response_time_mean_seconds, Some(2.0));
}

#[test]
fn a_client_retry_happens_before_the_user_thinks() {
    // As above with `[client] retry` of 2 attempts and no-jitter backoff of base 0.5 s (the
    // first retry waits 2 × 0.5 = 1 s): a request times out at send + 2, is sent again at
    // send + 3 and times out at send + 5; only then does the user think (1 s). Cycle 6 s:
    // first sends at 1, 7, 13, 19 (the 3 retries at 4, 10, 16 are the same requests); ends at
    // 6, 12, 18. Each ended request took 5 s from its first send.
    let s = scenario(&closed(
        "20s",
        "timeout = \"2s\"\n[client]\nretry = { attempts = 2, base = \"500ms\", cap = \"10s\", jitter = \"none\" }",
        r#"{ users = 1, think_time = { distribution = "constant", value = "1s" } }"#,
        1,
        r#"{ distribution = "constant", value = "5s" }"#,
    ));
    let (summary, _) = run(&s, 1);
    assert_eq!(summary.requests.arrived, 4);
    assert_eq!(summary.requests.timed_out, 3);
    assert_eq!(summary.retries.client, 3);
    let c = summary.closed_loop.unwrap();
    assert_eq!(c.response_time_mean_seconds, Some(5.0));
    assert_eq!(c.ended_per_second, 3.0 / 20.0);
}

/// X(N) of a closed network of one FCFS single-server station with exponential service of
/// mean `s` and an infinite-server think station of mean `z`: the exact MVA recursion
/// (Reiser & Lavenberg, 1980; Lazowska et al., *Quantitative System Performance*, §6.4):
/// `R(n) = s·(1 + Q(n−1))`, `X(n) = n / (R(n) + z)`, `Q(n) = X(n)·R(n)`, from `Q(0) = 0`.
fn mva(users: u32, s: f64, z: f64) -> (f64, f64) {
    let (mut q, mut x, mut r) = (0.0, 0.0, 0.0);
    for n in 1..=users {
        r = s * (1.0 + q);
        x = f64::from(n) / (r + z);
        q = x * r;
    }
    (x, r)
}

#[test]
fn throughput_matches_exact_mva_and_the_response_time_law() {
    // N = 10 users, exponential think Z = 8 s, one server with exponential service S = 1 s:
    // MVA gives X = 0.8783/s, R = 3.385 s (the server is 88 % busy: queueing matters, and the
    // closed loop throttles itself — an open loop at 10/9 per second would be unstable).
    // 10 independent replications (seeds 1..=10) of 20,000 s after a 500 s warm-up; each
    // estimates X from about 17,600 ends. The 99.9 % Student-t interval over the 10
    // replications (9 degrees of freedom, t = 4.78) must hold the exact value.
    let (x_exact, r_exact) = mva(10, 1.0, 8.0);
    assert!((x_exact - 0.8783).abs() < 1e-4 && (r_exact - 3.385).abs() < 1e-3);
    let s = scenario(&closed(
        "20500s",
        "warmup = \"500s\"",
        r#"{ users = 10, think_time = { distribution = "exponential", mean = "8s" } }"#,
        1,
        r#"{ distribution = "exponential", mean = "1s" }"#,
    ));
    let seeds: Vec<u64> = (1..=10).collect();
    let summaries = on_two_threads(&seeds, |&seed| run(&s, seed).0);
    let get = |f: fn(&fleetsim::metrics::ClosedLoopSummary) -> f64| -> Vec<f64> {
        summaries
            .iter()
            .map(|s| f(s.closed_loop.as_ref().unwrap()))
            .collect()
    };
    let (x, hx) = confidence_interval(&get(|c| c.ended_per_second), 0.999);
    assert!((x - x_exact).abs() <= hx, "X {x} ± {hx}, MVA {x_exact}");
    let (r, hr) = confidence_interval(&get(|c| c.response_time_mean_seconds.unwrap()), 0.999);
    assert!((r - r_exact).abs() <= hr, "R {r} ± {hr}, MVA {r_exact}");
    // The law, per replication: N/X − Z and the measured R differ only by the cycles cut at
    // the window's two ends, at most one a user at each: |N − X·(R + Z)| ≤ 2·N·C/T with C a
    // cycle (≈ R + Z = 11.4 s), T = 20,000 s: 0.0114 users, so N/X − Z is within
    // 0.0114/X ≈ 0.013 s of R. Cycles are exponential-tailed, so allow 5 mean cycles an edge:
    // 0.065 s.
    for c in summaries.iter().map(|s| s.closed_loop.unwrap()) {
        let (law, r) = (
            c.law_response_time_seconds.unwrap(),
            c.response_time_mean_seconds.unwrap(),
        );
        assert!((law - r).abs() < 0.065, "N/X − Z = {law}, R = {r}");
    }
}

#[test]
fn the_law_holds_on_a_multi_server_fleet_with_sessions() {
    // An M/M/c-like closed network: 200 users on 4 servers of 8 slots, lognormal service
    // (mean 2 s, cv 1), think uniform 5–15 s, sessions of geometric length (mean 5) with
    // exponential 60 s gaps, ramp-up 60 s. No closed form; the law must still hold: N/X − Z
    // and the measured R differ by the user-seconds of the cycles cut at the window's two
    // ends, divided by T·X (T = 5,000 s, X ≈ 9/s). Each user has one cut cycle at each end;
    // in a stationary run the two have the same distribution, so their difference has mean 0
    // and a standard deviation of at most √(2N) times that of a cut cycle's length (≤ 62 s:
    // a session gap and a response) = 1,240 user-seconds, i.e. 0.028 s of R; 5 sd: 0.14 s.
    // (Measured: 0.005 s.)
    let s = scenario(
        &closed(
            "5300s",
            "warmup = \"300s\"",
            r#"{ users = 200, think_time = { distribution = "uniform", min = "5s", max = "15s" },
             session_length = { distribution = "geometric", mean = 5 },
             session_gap = { distribution = "exponential", mean = "60s" }, ramp_up = "60s" }"#,
            4,
            r#"{ distribution = "lognormal", mean = "2s", cv = 1.0 }"#,
        )
        .replace("concurrency = 1", "concurrency = 8"),
    );
    let (summary, _) = run(&s, 3);
    let c = summary.closed_loop.unwrap();
    let bound = 0.14;
    let (law, r) = (
        c.law_response_time_seconds.unwrap(),
        c.response_time_mean_seconds.unwrap(),
    );
    assert!(
        (law - r).abs() < bound,
        "N/X − Z = {law}, R = {r}, bound {bound}"
    );
    // Z: sessions of mean 5 have 4 thinks (mean 10 s) and 1 gap (mean 60 s): 20 s a wait.
    // Over ~40,000 waits (sd of one wait ≈ 25 s, SE ≈ 0.13 s): within 1 s.
    let z = c.think_time_mean_seconds.unwrap();
    assert!((z - 20.0).abs() < 1.0, "Z {z}");
    // Conservation.
    let q = &summary.requests;
    assert_eq!(q.arrived, q.completed + q.failed() + q.in_flight_at_end);
}

#[test]
fn open_loop_runs_have_no_closed_loop_summary() {
    let text = closed(
        "10s",
        "",
        r#"{ users = 1, think_time = { distribution = "constant", value = "1s" } }"#,
        1,
        r#"{ distribution = "constant", value = "1s" }"#,
    )
    .replace(
        "closed_loop = { users = 1, think_time = { distribution = \"constant\", value = \"1s\" } }",
        "rate = \"1/s\"",
    );
    let (summary, _) = run(&scenario(&text), 1);
    assert!(summary.closed_loop.is_none());
    let json = serde_json::to_string(&summary).unwrap();
    assert!(!json.contains("closed_loop"));
}
