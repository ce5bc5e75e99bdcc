//! Trace replay through the whole simulator (issue 7, item 1) and `fleetsim trace-stats`
//! (item 4). The replay's arithmetic (window, speed-up, loop, thinning, superposition) is
//! unit-tested in `src/model/traffic/trace.rs`; here the world must replay what the file says.

use assert_cmd::Command;
use fleetsim::model::traffic::{TraceData, TraceFormat};
use fleetsim::{Scenario, ScenarioSet};

use crate::common::{repo, run};

/// Parses scenario text as if it were a file in `tests/data/` (its trace paths are relative).
fn scenario_in_data(text: &str) -> Scenario {
    Scenario::parse(text, &repo().join("tests/data/inline.toml")).unwrap_or_else(|e| panic!("{e}"))
}

/// One server of one slot, constant 1 s service, FIFO: latencies follow from arrival times.
fn one_server(traffic: &str, duration: &str) -> String {
    format!(
        r#"
name = "trace_micro"
duration = "{duration}"
[timeline]
window = "60s"
[traffic]
{traffic}
[[instance_type]]
name = "box"
concurrency = 1
price = "$3.6/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 1
queue_capacity = 1000
[[class]]
name = "a"
share = 0.5
service = {{ distribution = "constant", value = "1s" }}
[[class]]
name = "b"
share = 0.5
service = {{ distribution = "constant", value = "1s" }}
"#
    )
}

const MICRO: &str = r#"trace = { file = "trace_micro.csv", format = "csv", time_column = "t_ms", time_unit = "ms", class_column = "class", user_column = "user", input_tokens_column = "prompt", output_tokens_column = "gen" }"#;

#[test]
fn replay_keeps_times_ties_in_file_order_and_classes() {
    // tests/data/trace_micro.csv: arrivals at 0 (a), 0 (b), 0.5 s (a), 3 s (b), 3.25 s (a).
    // One slot, 1 s each, FIFO:
    //   req    arrives  starts  ends  latency  class
    //   0      0        0       1     1        a
    //   1      0        1       2     2        b     (the tie: served second, as in the file)
    //   2      0.5      2       3     2.5      a
    //   3      3        3       4     1        b
    //   4      3.25     4       5     1.75     a
    // Class a: (1 + 2.5 + 1.75)/3 = 1.75 s; b: (2 + 1)/2 = 1.5 s. Had the tie been reversed,
    // a would average (2 + 2.5 + 1.75)/3 and b 1.
    let s = scenario_in_data(&one_server(MICRO, "10s"));
    let (summary, _) = run(&s, 1);
    assert_eq!(summary.requests.arrived, 5);
    assert_eq!(summary.requests.completed, 5);
    assert_eq!(summary.latency_seconds.max, Some(2.5));
    let a = &summary.by_class["a"];
    let b = &summary.by_class["b"];
    assert_eq!((a.requests.arrived, b.requests.arrived), (3, 2));
    assert!((a.latency_seconds.mean.unwrap() - 1.75).abs() < 1e-12);
    assert!((b.latency_seconds.mean.unwrap() - 1.5).abs() < 1e-12);
}

#[test]
fn window_speed_up_and_loop_in_the_world() {
    // Window [0.4 s, 3.1 s) keeps the records at 0.5 and 3 s, re-based to 0.1 and 2.6 s.
    let traffic = MICRO.replace(
        "format = \"csv\"",
        "format = \"csv\", window = { from = \"400ms\", to = \"3100ms\" }",
    );
    let (summary, _) = run(&scenario_in_data(&one_server(&traffic, "10s")), 1);
    assert_eq!(summary.requests.arrived, 2);
    // Both served at once on arrival: latency 1 s each.
    assert_eq!(summary.latency_seconds.max, Some(1.0));

    // Loop: span 3.25 s over 4 gaps, period 3.25 + 0.8125 = 4.0625 s. In 10 s: laps start at
    // 0, 4.0625 and 8.125 s; the third lap's records at 8.125, 8.125, 8.625 s fall before
    // 10 s, the one at 8.125 + 3 = 11.125 s does not: 5 + 5 + 3 = 13 arrivals.
    let traffic = MICRO.replace("format = \"csv\"", "format = \"csv\", loop = true");
    let (summary, _) = run(&scenario_in_data(&one_server(&traffic, "10s")), 1);
    assert_eq!(summary.requests.arrived, 13);

    // Speed-up 2 and rate scale 3 (three whole copies): 15 arrivals, in 10 s.
    let traffic = MICRO.replace(
        "format = \"csv\"",
        "format = \"csv\", speed_up = 2.0, rate_scale = 3",
    );
    let (summary, _) = run(&scenario_in_data(&one_server(&traffic, "10s")), 1);
    assert_eq!(summary.requests.arrived, 15);
}

#[test]
fn start_delays_the_trace_by_its_gap_to_the_first_record() {
    // Records at 18:17:03.97996 and 18:17:04.03196; start 0.5 s before the first: arrivals at
    // 0.5 and 0.552 s, both in the second 500 ms window. Without start both are in the first.
    let traffic = r#"trace = { file = "trace_azure_micro.csv", format = "azure_llm", start = "2023-11-16 18:17:03.4799600" }"#;
    let text = one_server(traffic, "2s").replace("window = \"60s\"", "window = \"500ms\"");
    let (_, rows) = run(&scenario_in_data(&text), 1);
    assert_eq!((rows[0].arrivals, rows[1].arrivals), (0, 2));
    let text = text.replace(", start = \"2023-11-16 18:17:03.4799600\"", "");
    let (_, rows) = run(&scenario_in_data(&text), 1);
    assert_eq!((rows[0].arrivals, rows[1].arrivals), (2, 0));
}

#[test]
fn mooncake_trace_replays() {
    let traffic = r#"trace = { file = "trace_mooncake.jsonl", format = "mooncake" }"#;
    let (summary, _) = run(&scenario_in_data(&one_server(traffic, "10s")), 1);
    assert_eq!(summary.requests.arrived, 4);
    // Arrivals at 0, 0, 0.25, 1.5 s, 1 s each on one slot: ends 1, 2, 3, 4; latencies
    // 1, 2, 2.75, 2.5.
    assert_eq!(summary.latency_seconds.max, Some(2.75));
}

#[test]
fn count_trace_drives_a_poisson_process_per_interval() {
    // 600, 0 and 1200 requests in three minutes: rates 10/s, 0 and 20/s. Each minute's count
    // is Poisson: within mean ± 4.42·√mean with probability 1 − 1e-5.
    let traffic = r#"counts = { file = "per_minute_counts.csv", time_column = "minute", count_column = "requests", interval = "1m" }"#;
    let text = one_server(traffic, "3m").replace("concurrency = 1", "concurrency = 1000");
    let (_, rows) = run(&scenario_in_data(&text), 5);
    assert_eq!(rows.len(), 3);
    for (row, mean) in rows.iter().zip([600.0, 0.0, 1200.0]) {
        let tol = 4.42 * f64::sqrt(mean);
        assert!(
            (row.arrivals as f64 - mean).abs() <= tol,
            "minute at {} s: {} arrivals, expected {mean} ± {tol}",
            row.start_s,
            row.arrivals
        );
    }
    assert_eq!(rows[1].arrivals, 0);
}

#[test]
fn the_shipped_azure_trace_parses_whole() {
    let data = TraceData::load(
        &repo().join("scenarios/data/azure_llm_2023_code.csv"),
        &TraceFormat::AzureLlm,
    )
    .unwrap();
    assert_eq!(data.len(), 8819);
    // First 2023-11-16 18:17:03.9799600, last 19:14:19.9280160: 57 min 15.948056 s.
    assert_eq!(*data.times.last().unwrap(), 3_435_948_056_000);
    assert_eq!(data.tokens(0), (4808, 10));
    assert_eq!(data.tokens(8818), (549, 173));
}

#[test]
fn the_shipped_replay_scenario_sees_every_request_and_poisson_the_same_mean() {
    let set = ScenarioSet::load(&repo().join("scenarios/azure_llm_replay.toml")).unwrap();
    let (base, _) = run(&set.base, set.base.seed);
    // 58 minutes hold the whole 57.3-minute trace.
    assert_eq!(base.requests.arrived, 8819);
    let poisson = set.variants.iter().find(|v| v.name == "poisson").unwrap();
    let (p, _) = run(&poisson.scenario, poisson.scenario.seed);
    // 2.5664/s for 58 min: mean 8931, Poisson sd 94.5; within 4.42 sd.
    let mean = 2.5664 * 58.0 * 60.0;
    assert!((p.requests.arrived as f64 - mean).abs() <= 4.42 * mean.sqrt());
}

fn fleetsim(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("fleetsim")
        .unwrap()
        .current_dir(repo())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn trace_stats_summarises_a_trace_and_prints_a_traffic_block() {
    let out = fleetsim(&[
        "trace-stats",
        "tests/data/trace_micro.csv",
        "--format",
        "csv",
        "--time-column",
        "t_ms",
        "--time-unit",
        "ms",
        "--input-tokens-column",
        "prompt",
        "--output-tokens-column",
        "gen",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    // 5 requests over 3.25 s: mean rate 4 gaps / 3.25 s = 1.2308/s.
    for expected in [
        "requests      5",
        "span          3.250 s",
        "mean rate     1.2308/s",
        // Input tokens 100..500: mean 300, nearest-rank p50 300, p90 and p99 500.
        "input             300.0     300     500     500     500",
        "output             30.0      30      50      50      50",
        "trace = { file = \"tests/data/trace_micro.csv\", format = \"csv\", time_column = \"t_ms\", time_unit = \"ms\", input_tokens_column = \"prompt\", output_tokens_column = \"gen\" }",
        "# rate = \"1.2308/s\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn trace_stats_of_the_shipped_trace() {
    let out = fleetsim(&["trace-stats", "scenarios/data/azure_llm_2023_code.csv"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    // 8818 gaps over 3435.948056 s: 2.5664/s.
    assert!(text.contains("requests      8819"), "{text}");
    assert!(text.contains("mean rate     2.5664/s"), "{text}");
    assert!(text.contains("format = \"azure_llm\""), "{text}");
}

#[test]
fn trace_stats_rejects_bad_files_with_exit_2() {
    for (args, message) in [
        (
            vec!["trace-stats", "tests/bad_scenarios/data/trace_unsorted.csv"],
            "line 4, column \"TIMESTAMP\"",
        ),
        (
            vec!["trace-stats", "no/such/file.csv"],
            "cannot read the trace file",
        ),
        (
            vec![
                "trace-stats",
                "tests/data/trace_micro.csv",
                "--format",
                "alibaba",
            ],
            "unknown trace format \"alibaba\"",
        ),
        (
            vec![
                "trace-stats",
                "tests/data/trace_micro.csv",
                "--format",
                "csv",
            ],
            "--time-column",
        ),
        (
            vec![
                "trace-stats",
                "tests/data/trace_mooncake.jsonl",
                "--format",
                "azure_llm",
            ],
            "has no column \"TIMESTAMP\"",
        ),
    ] {
        let out = fleetsim(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn the_trace_user_feeds_stickiness() {
    // Two targets behind round robin with a 1 h ALB cookie: target 0 serves in 50 ms, target 1
    // in 100 ms, nobody waits. The trace sends alice at 0, 1, 2 s and bob at 3 s. From the
    // trace's users, alice's three requests stick to her first target (round robin's first,
    // target 0): at least three at 50 ms, a mean of at most (3·0.05 + 0.1)/4 = 0.0625 s. Were
    // users drawn instead (100,000 of them, four distinct), round robin would alternate:
    // 0.075 s.
    let text = r#"
name = "trace_users"
duration = "10s"
[traffic]
trace = { file = "trace_users.csv", format = "csv", time_column = "t", time_unit = "s", user_column = "user" }
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
stickiness = { duration = "1h" }
[[target_group]]
name = "both"
pools = ["fast", "slow"]
[[route]]
path = "/"
target_group = "both"
[[class]]
name = "chat"
path = "/chat"
service = { distribution = "constant", value = "100ms" }
"#;
    let (s, _) = run(&scenario_in_data(text), 1);
    assert_eq!(s.requests.completed, 4);
    assert!(
        s.latency_seconds.mean.unwrap() <= 0.0625 + 1e-12,
        "{:?}",
        s.latency_seconds
    );
    // Without the user column, the same file gives four users and alternation.
    let (s, _) = run(
        &scenario_in_data(&text.replace(", user_column = \"user\"", "")),
        1,
    );
    assert!(
        (s.latency_seconds.mean.unwrap() - 0.075).abs() < 1e-12,
        "{:?}",
        s.latency_seconds
    );
}
