//! Issue 14, item 8: no accepted input makes a run hang. Periods of a nanosecond and zero-time
//! loops are refused at validation (`tests/bad_scenarios/`); what slips through stops at the
//! run loop's cap on events at one instant, with a clear error and exit code 2; and a long
//! run reports its progress without changing its results.

use assert_cmd::Command;

use crate::common::{repo, scenario};
use fleetsim::metrics::CollectTimeline;
use fleetsim::RunError;

/// 20,000 closed-loop users whose think time is 0 ms 999 times in 1,000 (10 ms on average, so
/// validation accepts it) in front of a pool with no instance: every request fails at once
/// (no healthy target), and its user sends again at the same instant, a thousand times on
/// average before time moves: about 2e7 events at t = 0, past the cap of 10,000,000 + 64 ×
/// (slots + users).
const LOOPING: &str = r#"
name = "looping"
duration = "10m"
[traffic]
closed_loop = { users = 20000, think_time = { distribution = "empirical", file = "think_mostly_zero.csv", column = "think_ms", unit = "ms" } }
[[instance_type]]
name = "box"
concurrency = 1
price = "$1/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 0
[pool.autoscaling]
min = 0
max = 1
scheduled = { action = [{ at = "9m", desired = 1 }] }
[[class]]
name = "a"
service = { distribution = "constant", value = "1s" }
"#;

#[test]
fn a_loop_at_one_instant_stops_the_run_with_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("tests/data/think_mostly_zero.csv"),
        dir.path().join("think_mostly_zero.csv"),
    )
    .unwrap();
    let file = dir.path().join("looping.toml");
    std::fs::write(&file, LOOPING).unwrap();
    // The library: a typed error naming the instant and the event.
    let s = fleetsim::Scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
    match fleetsim::run(&s, 1, &mut CollectTimeline::default()) {
        Err(RunError::StuckAtInstant {
            at, limit, last, ..
        }) => {
            assert_eq!(at.as_nanos(), 0);
            assert_eq!(limit, 10_000_000 + 64 * (2 + 20_000));
            assert!(last.starts_with("UserSend"), "{last}");
        }
        other => panic!("the loop was not stopped: {:?}", other.err()),
    }
    // The command: exit 2, the message with its help, no result file.
    let out_dir = dir.path().join("out");
    let out = Command::cargo_bin("fleetsim")
        .unwrap()
        .args([
            "run",
            file.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("stopped at 0s of simulated time") && stderr.contains("UserSend"),
        "{stderr}"
    );
    assert!(stderr.contains("help: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out_dir.join("summary.json").exists());
}

#[test]
fn progress_comes_in_simulated_time_and_changes_nothing() {
    // 1,000 arrivals a second for 30 minutes: 1.8 million arrivals, several million events,
    // so a few reports of progress (one every 2^20 events).
    let text = r#"
name = "progress"
duration = "30m"
[traffic]
rate = "1000/s"
[[instance_type]]
name = "box"
concurrency = 100
price = "$1/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 10
[[class]]
name = "a"
service = { distribution = "exponential", mean = "500ms" }
"#;
    let s = scenario(text);
    let seen = std::cell::RefCell::new(Vec::new());
    let mut observed = CollectTimeline::default();
    let with = fleetsim::run_with(
        &s,
        3,
        &mut observed,
        &fleetsim::limits::RunShare::whole_process(),
        &|f| seen.borrow_mut().push(f),
    )
    .expect("the run ends");
    let mut plain = CollectTimeline::default();
    let without = fleetsim::run(&s, 3, &mut plain).expect("the run ends");
    assert_eq!(with.summary, without.summary);
    assert_eq!(observed.rows, plain.rows);
    let seen = seen.into_inner();
    let expected = without.summary.events / fleetsim::world::PROGRESS_EVERY;
    assert_eq!(seen.len() as u64, expected, "one report per 2^20 events");
    assert!(seen.len() >= 3);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(seen.iter().all(|&f| f > 0.0 && f < 1.0), "{seen:?}");
}

#[test]
fn a_long_run_without_a_window_gets_one_that_keeps_the_timeline_to_a_million_rows() {
    // 10 s up to 115 days; a year at 10 s would be 3.15 million rows: its default window is
    // ⌈31,536,000 s / 1,000,000⌉ = 32 s.
    let base = "[traffic]\nrate = \"1/s\"\n[[instance_type]]\nname = \"box\"\nconcurrency = 1\nprice = \"$1/h\"\n[[pool]]\nname = \"p\"\ninstance_type = \"box\"\ninstances = 1\n[[class]]\nname = \"a\"\nservice = { distribution = \"constant\", value = \"1s\" }";
    let window = |duration: &str| {
        scenario(&format!("name = \"w\"\nduration = \"{duration}\"\n{base}"))
            .window
            .as_nanos()
            / 1_000_000_000
    };
    assert_eq!(window("30m"), 10);
    assert_eq!(window("115d"), 10);
    assert_eq!(window("365d"), 32);
}
