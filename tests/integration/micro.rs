//! Micro-scenarios worked out by hand (as dslab-faas's `test_simulation.rs`). Arrivals are
//! periodic and service times constant, so every event time is an exact integer number of
//! nanoseconds and results are asserted with `==`.
//!
//! The base case: one server, one arrival per second at t = 0, 1, ..., 9, each needing 1.5 s,
//! for 10 s. The server falls behind by 0.5 s per request:
//!
//! ```text
//! job    0    1    2    3    4    5    6    7    8    9
//! start  0   1.5   3   4.5   6   7.5   9   (queue...)
//! end   1.5   3   4.5   6   7.5   9  10.5
//! ```

use crate::common::{run, scenario};
use fleetsim::metrics::Failure;

fn one_server(extra_top: &str, pool_extra: &str) -> String {
    format!(
        r#"
name = "micro"
duration = "10s"
{extra_top}
[timeline]
window = "5s"
[traffic]
rate = "1/s"
process = "periodic"
[[instance_type]]
name = "box"
concurrency = 1
price = "$3.6/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 1
{pool_extra}
[[class]]
name = "job"
service = {{ distribution = "constant", value = "1.5s" }}
"#
    )
}

#[test]
fn single_server_falls_behind_exactly() {
    let (s, rows) = run(&scenario(&one_server("", "")), 1);
    // Completions at 1.5, 3, 4.5, 6, 7.5, 9; job 6 is in service at the end; 7, 8, 9 wait.
    assert_eq!(s.requests.arrived, 10);
    assert_eq!(s.requests.completed, 6);
    assert_eq!(s.requests.in_flight_at_end, 4);
    // Latencies 1.5, 2, 2.5, 3, 3.5, 4: mean 2.75, max 4.
    assert_eq!(s.latency_seconds.mean, Some(2.75));
    assert_eq!(s.latency_seconds.max, Some(4.0));
    // 10 arrivals + 6 service ends (the one at 10.5 s is past the end).
    assert_eq!(s.events, 16);
    // The server is never idle: utilization exactly 1. Cost: 10 s at $3.6/h = $0.01.
    assert_eq!(s.utilization, 1.0);
    assert!((s.cost_usd.total - 0.01).abs() < 1e-15);

    // First window [0, 5): in the system job 0 for 1.5 s, job 1 for 2, job 2 for 2.5, job 3 for
    // 2 (from 3 s), job 4 for 1 (from 4 s): 9 request-seconds, 1.8 on average. Waiting: job 1
    // 0.5 s, job 2 1 s, job 3 1.5 s, job 4 1 s: 0.8 on average. Completed: jobs 0, 1, 2.
    let w = &rows[0];
    assert_eq!((w.start_s, w.end_s), (0.0, 5.0));
    assert_eq!((w.arrivals, w.completed), (5, 3));
    assert!((w.in_flight - 1.8).abs() < 1e-12);
    assert!((w.queue_length - 0.8).abs() < 1e-12);
    assert_eq!(w.busy_slots, 1.0);
    assert_eq!(w.latency_mean_s, Some(2.0));
    assert_eq!(rows.len(), 2);
}

#[test]
fn timeouts_while_queued_and_while_served_keep_the_server_busy() {
    // Deadlines are arrival + 3 s. Jobs 0-3 finish by theirs (job 3 exactly at its deadline,
    // which counts as completed). Job 4 starts at 6 s, due at 7 s: its client gives up at 7 s
    // but the server works on until 7.5 s. Job 5 starts at 7.5 s and times out at 8 s, served
    // until 9 s. Job 6 is still queued at its deadline, 9 s. Job 7 starts at 9 s; 8 and 9 wait.
    let (s, _) = run(&scenario(&one_server("timeout = \"3s\"", "")), 1);
    assert_eq!(s.requests.arrived, 10);
    assert_eq!(s.requests.completed, 4);
    assert_eq!(s.requests.timed_out, 3);
    assert_eq!(s.requests.in_flight_at_end, 3);
    assert_eq!(s.latency_seconds.mean, Some(2.25)); // (1.5 + 2 + 2.5 + 3) / 4
    assert_eq!(s.latency_seconds.max, Some(3.0));
}

#[test]
fn cancelled_work_frees_the_server_at_the_deadline() {
    // As above, but the server aborts at the deadline: job 4 is cut at 7 s, job 5 runs 7-8 s and
    // is cut, job 6 runs 8-9 s and is cut, job 7 starts at 9 s. Same counts, earlier starts:
    // nobody is timed out in the queue.
    let (s, rows) = run(
        &scenario(&one_server("timeout = \"3s\"\non_timeout = \"cancel\"", "")),
        1,
    );
    assert_eq!(s.requests.completed, 4);
    assert_eq!(s.requests.timed_out, 3);
    assert_eq!(s.requests.in_flight_at_end, 3);
    // Second window [5, 10): timeouts at 7, 8 and 9 s; job 3 completes at 6 s.
    assert_eq!(rows[1].failed(Failure::TimedOut), 3);
    assert_eq!(rows[1].completed, 1);
}

#[test]
fn a_full_queue_rejects() {
    // Room for one waiting request. Job 4 arrives at 4 s while job 2 is served and job 3 waits:
    // rejected. Likewise job 7 at 7 s. Completions at 1.5, 3, 4.5, 6, 7.5, 9 (jobs 0, 1, 2, 3, 5,
    // 6); job 8 is served at the end and job 9 waits.
    let (s, rows) = run(&scenario(&one_server("", "queue_capacity = 1")), 1);
    assert_eq!(s.requests.completed, 6);
    assert_eq!(s.requests.rejected, 2);
    assert_eq!(s.requests.in_flight_at_end, 2);
    assert_eq!(
        (
            rows[0].failed(Failure::Rejected),
            rows[1].failed(Failure::Rejected)
        ),
        (1, 1)
    );
    // Latencies 1.5, 2, 2.5, 3 (jobs 0-3), 2.5 (job 5: 5 → 7.5), 3 (job 6: 6 → 9).
    assert_eq!(s.latency_seconds.mean, Some(14.5 / 6.0));
}

#[test]
fn zero_queue_capacity_rejects_whenever_all_slots_are_busy() {
    // No waiting room: jobs arriving while the server is busy (1, 3, 5, 7, 9) are rejected;
    // jobs 0, 2, 4, 6, 8 are served, each starting on arrival (job 8 ends at 9.5 s).
    let (s, _) = run(&scenario(&one_server("", "queue_capacity = 0")), 1);
    assert_eq!(s.requests.rejected, 5);
    assert_eq!(s.requests.completed, 5);
    assert_eq!(s.requests.in_flight_at_end, 0);
    assert_eq!(s.latency_seconds.mean, Some(1.5));
}

#[test]
fn two_servers_behind_a_shared_queue_never_queue() {
    // Two servers, 1.5 s each, one arrival per second: each request starts on arrival.
    // Busy slot-seconds: 9 × 1.5 (jobs 0-8) + 1 (job 9 from 9 s) = 14.5 of 20: 0.725.
    let text =
        one_server("", "dispatch = \"shared_queue\"").replace("instances = 1", "instances = 2");
    let (s, _) = run(&scenario(&text), 1);
    assert_eq!(s.requests.completed, 9);
    assert_eq!(s.latency_seconds.max, Some(1.5));
    assert!((s.utilization - 0.725).abs() < 1e-12);
}

#[test]
fn round_robin_alternates() {
    // Two instances, one slot each, 2.5 s per request, one arrival per second.
    // Round robin sends jobs 0, 2, 4 ... to instance A and 1, 3, 5 ... to B: each instance gets
    // a request every 2 s but needs 2.5 s, so queues build (job 2 waits 0.5 s, job 4 waits 1 s).
    // A serves jobs 0 (0-2.5), 2 (2.5-5), 4 (5-7.5); B serves 1 (1-3.5), 3 (3.5-6), 5 (6-8.5):
    // 6 complete by 10 s, latencies 2.5, 2.5, 3, 3, 3.5, 3.5.
    let text = format!(
        "{}\n[balancer]\nalgorithm = \"round_robin\"\n",
        two_slow_servers()
    );
    let (s, _) = run(&scenario(&text), 1);
    assert_eq!(s.requests.completed, 6);
    assert_eq!(s.latency_seconds.mean, Some(18.0 / 6.0));
}

#[test]
fn least_connections_breaks_ties_by_nginx_weighted_round_robin() {
    // The same load under nginx least_conn. Active counts (A, B) at each arrival, and the
    // current weights of the smooth-WRR tie-break, which change only when peers tie:
    //   0 s (0,0) tie, cw (1,1) → A, A cw -1     1 s (1,0) → B
    //   2 s (1,1) tie, cw (0,1) → B, B cw -1     2.5 s A ends job 0
    //   3 s (0,2) → A (job 3, 3-5.5)             3.5 s B ends job 1, starts job 2 (3.5-6)
    //   4 s (1,1) tie, cw (1,0) → A, A cw -1 (job 4 waits, 5.5-8)
    //   5 s (2,1) → B (job 5 waits, 6-8.5)       5.5 s, 6 s: A, B end jobs 3, 2
    //   6 s (1,1) tie, cw (0,0) → A (lower index), A cw -2 (job 6: 8-10.5)
    //   7 s (2,1) → B (8.5-11)   8 s A ends job 4; (1,2) → A   9 s (2,1) → B
    // Completed by 10 s: jobs 0, 1, 3 (2.5 s each), 2 (4 s), 4 (4 s), 5 (3.5 s).
    // (At 6 s and 8 s the service end was scheduled before the arrival, so it comes first.)
    let text = format!(
        "{}\n[balancer]\nalgorithm = \"least_connections\"\n",
        two_slow_servers()
    );
    let (s, _) = run(&scenario(&text), 1);
    assert_eq!(s.requests.completed, 6);
    assert_eq!(s.latency_seconds.mean, Some(19.0 / 6.0));
}

fn two_slow_servers() -> String {
    one_server("", "")
        .replace("instances = 1", "instances = 2")
        .replace("1.5s", "2.5s")
}
