//! The memory guard (issue 14, item 7): a run that would hold more than its share of the
//! memory budget stops with an error that says what, where and how to fix it (exit 2), never
//! with an abort; a run that fits gives the same bytes whatever the budget.

use std::path::Path;

use assert_cmd::Command;

use crate::common::files_under;

/// A 100x spike into a pool with an unbounded queue, held for an hour: the requests it cannot
/// serve pile up (about 9,800 a second), without end.
const OVERLOAD: &str = r#"
name = "overload"
duration = "2h"
[traffic]
profile = { kind = "spike", baseline = "100/s", multiplier = 100, start = "1m", hold = "1h" }
[[instance_type]]
name = "gpu"
concurrency = 4
price = "$1/h"
[[pool]]
name = "gpu"
instance_type = "gpu"
instances = 4
[[class]]
name = "a"
service = { distribution = "exponential", mean = "100ms" }
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file.to_str().unwrap().to_string()
}

fn assert_guard_error(stderr: &str) {
    for expected in [
        "error: run base (replication 1, seed 1) stopped at ",
        "the memory guard's cap of ",
        "requests held",
        "pool \"gpu\": ",
        "(no queue_capacity)",
        "help: pool \"gpu\" cannot keep up and queues without bound: give it a queue_capacity",
    ] {
        assert!(
            stderr.contains(expected),
            "missing `{expected}` in:\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Regression: under `ulimit -v` the overload used to abort ("memory allocation of … bytes
/// failed", SIGABRT) after eating the address space. Now the budget comes from that limit and
/// the run stops at its cap, in a second, with exit 2 and nothing written.
#[cfg(target_os = "linux")]
#[test]
fn an_overload_under_a_small_address_space_limit_stops_with_a_clear_error() {
    use std::os::unix::process::CommandExt;
    // 320 MiB of address space: the program, one worker thread's arena and its run's share.
    const LIMIT: u64 = 320 << 20;
    let tmp = tempfile::tempdir().unwrap();
    let run = |scenario: &str, out: &Path| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("fleetsim"));
        cmd.args([
            "run",
            scenario,
            "--threads",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        // SAFETY: only async-signal-safe work between fork and exec: one setrlimit call.
        unsafe {
            cmd.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: LIMIT,
                    rlim_max: LIMIT,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let started = std::time::Instant::now();
        let output = cmd.output().unwrap();
        (output, started.elapsed())
    };
    let out = tmp.path().join("out");
    let (output, took) = run(&write(tmp.path(), "overload.toml", OVERLOAD), &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A code, not a signal: no abort, no kill.
    assert_eq!(
        output.status.code(),
        Some(2),
        "{:?}\n{stderr}",
        output.status
    );
    assert_guard_error(&stderr);
    assert!(
        stderr.contains("the address-space limit, ulimit -v"),
        "the budget names its source:\n{stderr}"
    );
    assert!(!out.exists(), "a stopped run leaves no result folder");
    assert!(took.as_secs() < 30, "took {took:?}");
    // The same limit is no obstacle to a scenario that fits: with a queue capacity the excess
    // is rejected, nothing piles up, and the run completes.
    let bounded = OVERLOAD.replace("instances = 4", "instances = 4\nqueue_capacity = 8");
    let ok_out = tmp.path().join("ok");
    let (output, _) = run(&write(tmp.path(), "bounded.toml", &bounded), &ok_out);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(ok_out.join("summary.json").is_file());
}

/// `--max-memory` sets the budget: the overload stops at the cap it gives, naming the flag.
#[test]
fn max_memory_sets_the_budget_and_the_error_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "overload.toml", OVERLOAD);
    let out = tmp.path().join("out");
    let output = Command::cargo_bin("fleetsim")
        .unwrap()
        .args([
            "run",
            &file,
            "--max-memory",
            "128M",
            "--threads",
            "1",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_guard_error(&stderr);
    // The share: 128 MiB less the process's reserve (48 MiB) and one thread's (8 MiB).
    assert!(
        stderr.contains(
            "the caps come from 72.0 MiB of the memory budget of 128.0 MiB (--max-memory)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("or raise --max-memory"), "{stderr}");
    assert!(!out.exists());
    // A budget below what fleetsim needs, or above a limit it lives under, is a usage error.
    let small = Command::cargo_bin("fleetsim")
        .unwrap()
        .args(["run", &file, "--max-memory", "1M"])
        .output()
        .unwrap();
    assert_eq!(small.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&small.stderr).contains("below the 64.0 MiB fleetsim needs"),
        "{}",
        String::from_utf8_lossy(&small.stderr)
    );
    let garbled = Command::cargo_bin("fleetsim")
        .unwrap()
        .args(["run", &file, "--max-memory", "lots"])
        .output()
        .unwrap();
    assert_eq!(garbled.status.code(), Some(2));
}

/// A scenario that fits writes the same bytes whatever the budget (the caps only decide where
/// a run that does not fit stops). Two runs with retries, so that the slab reuses and grows.
#[test]
fn a_run_that_fits_is_the_same_whatever_the_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let text = OVERLOAD
        .replace("duration = \"2h\"", "duration = \"3m\"\ntimeout = \"5s\"")
        .replace("hold = \"1h\"", "hold = \"30s\"")
        .replace("instances = 4", "instances = 4\nqueue_capacity = 50")
        + "[client]\nretry = { attempts = 3, base = \"100ms\", cap = \"2s\" }\n";
    let file = write(tmp.path(), "fits.toml", &text);
    let run = |budget: &str| {
        let out = tmp.path().join(format!("out-{budget}"));
        let output = Command::cargo_bin("fleetsim")
            .unwrap()
            .args([
                "run",
                &file,
                "--max-memory",
                budget,
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{budget}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        files_under(&out)
    };
    let (small, large) = (run("100M"), run("1G"));
    assert_eq!(
        small.keys().collect::<Vec<_>>(),
        large.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &small {
        assert!(*bytes == large[name], "{name} differs between budgets");
    }
}

/// Files read whole are read within the budget: an endless device (or a pipe) given as a trace
/// is cut off at an eighth of the budget with an error, not read until memory runs out.
#[cfg(unix)]
#[test]
fn an_endless_trace_file_is_cut_off_at_its_share_of_the_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let text = OVERLOAD.replace(
        "profile = { kind = \"spike\", baseline = \"100/s\", multiplier = 100, start = \"1m\", hold = \"1h\" }",
        "trace = { file = \"/dev/zero\", format = \"csv\", time_column = \"t\", time_unit = \"s\" }",
    );
    assert!(text.contains("/dev/zero"));
    let file = write(tmp.path(), "zero.toml", &text);
    let output = Command::cargo_bin("fleetsim")
        .unwrap()
        .args(["run", &file, "--max-memory", "128M"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read the trace file /dev/zero: is larger than 16.0 MiB, more than the 16.0 MiB a file read whole may take (an eighth of the memory budget of 128.0 MiB (--max-memory))"),
        "{stderr}"
    );
    // The scenario file itself, too.
    let output = Command::cargo_bin("fleetsim")
        .unwrap()
        .args(["run", "/dev/zero", "--max-memory", "128M"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/dev/zero: the file is larger than 16.0 MiB, the most a file read whole may take (an eighth of 128.0 MiB (--max-memory))"),
        "{stderr}"
    );
}

/// Regression (issue 14, item 7): `trace-stats` of two records a billion seconds apart used to
/// allocate a billion one-second windows (8 GB) and print 16.7 million minutes. Now it bins the
/// span in two-day bins and counts the windows that hold records, in a blink.
#[test]
fn trace_stats_of_a_long_sparse_span_is_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "sparse.csv", "t\n0\n1000000000\n");
    let started = std::time::Instant::now();
    let out = Command::cargo_bin("fleetsim")
        .unwrap()
        .args([
            "trace-stats",
            &file,
            "--format",
            "csv",
            "--time-column",
            "t",
            "--time-unit",
            "s",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "requests      2",
        "span          1000000000.000 s",
        "requests per 2 days (max 1; the last 2 days may be partial)",
        "index of dispersion of counts per  1 s   1.000",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // 5,788 bins, ten to a row.
    assert!(text.lines().count() < 700, "{} lines", text.lines().count());
}

/// What grows with the scenario's size is known before the run: a fleet whose instance slots
/// alone do not fit in the run's share is refused before anything runs, naming the part.
#[test]
fn a_scenario_too_large_for_its_share_is_refused_before_it_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let text = OVERLOAD.replace("instances = 4", "instances = 1000000");
    let file = write(tmp.path(), "huge.toml", &text);
    let out = tmp.path().join("out");
    let output = Command::cargo_bin("fleetsim")
        .unwrap()
        .args([
            "run",
            &file,
            "--max-memory",
            "128M",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for expected in [
        "error: run base (replication 1, seed 1) does not fit in its memory: before its first request it holds ",
        "(the largest part, instance slots, ",
        "help: lower the pools' instances or autoscaling maximums",
    ] {
        assert!(
            stderr.contains(expected),
            "missing `{expected}` in:\n{stderr}"
        );
    }
    assert!(!out.exists());
}
