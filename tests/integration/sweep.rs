//! Sweeps: replications with confidence intervals, byte-identical files at 1 and 2 threads,
//! and a sharded sweep merged into exactly what one unsharded run writes.

use std::path::Path;

use assert_cmd::Command;

use crate::common::files_under;
use fleetsim::Summary;

/// Four single-slot servers at ρ = 0.8 behind random dispatch, and a least-connections variant.
const SCENARIO: &str = r#"
name = "sweep"
duration = "10m"
seed = 100
[traffic]
rate = "3.2/s"
[[instance_type]]
name = "gpu"
concurrency = 1
price = "$1/h"
[[pool]]
name = "p"
instance_type = "gpu"
instances = 4
[balancer]
algorithm = "random"
[[class]]
name = "a"
service = { distribution = "exponential", mean = "1s" }
[[variant]]
name = "least_conn"
balancer.algorithm = "least_connections"
"#;

fn fleetsim(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("fleetsim")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) {
    let out = fleetsim(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How many of `files` are results rather than the report (`report.html`, `summary.md`, charts
/// and the scenario's copy) or the result folder's marker.
fn results(files: &std::collections::BTreeMap<String, Vec<u8>>) -> usize {
    files
        .keys()
        .filter(|f| {
            !f.contains("charts/")
                && ![
                    "report.html",
                    "summary.md",
                    "scenario.toml",
                    fleetsim::layout::MARKER,
                ]
                .contains(&f.as_str())
        })
        .count()
}

fn scenario_file(dir: &Path) -> String {
    let file = dir.join("sweep.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    file.to_str().unwrap().to_string()
}

#[test]
fn replications_give_means_and_intervals_the_same_at_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_file(tmp.path());
    let out = |threads: &str| {
        let dir = tmp.path().join(format!("t{threads}"));
        ok(&[
            "run",
            &file,
            "--replications",
            "5",
            "--threads",
            threads,
            "--out",
            dir.to_str().unwrap(),
        ]);
        files_under(&dir)
    };
    let (one, two) = (out("1"), out("2"));
    // Not a terminal: no progress bar, nothing on stderr.
    let quiet = fleetsim(&[
        "run",
        &file,
        "--replications",
        "2",
        "--out",
        tmp.path().join("quiet").to_str().unwrap(),
    ]);
    assert!(
        quiet.status.success() && quiet.stderr.is_empty(),
        "{quiet:?}"
    );
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &one {
        assert!(
            two[name] == *bytes,
            "{name} differs between 1 and 2 threads"
        );
    }
    // Two runs × 5 replications × 3 files, an aggregate per run, and the comparison (the
    // report's files aside).
    assert_eq!(results(&one), 2 * 5 * 3 + 2 + 2, "{:?}", one.keys());
    // Replication k has seed 100 + k − 1; the aggregate's mean is the replications' mean.
    let summaries: Vec<Summary> = (1..=5)
        .map(|k| serde_json::from_slice(&one[&format!("base/rep-{k}/summary.json")]).unwrap())
        .collect();
    assert_eq!(
        summaries.iter().map(|s| s.seed).collect::<Vec<_>>(),
        vec![100, 101, 102, 103, 104]
    );
    let aggregate: serde_json::Value = serde_json::from_slice(&one["base/aggregate.json"]).unwrap();
    let p99 = &aggregate["metrics"]["latency_p99_ms"];
    let values: Vec<f64> = summaries
        .iter()
        .map(|s| s.latency_seconds.p99.unwrap() * 1e3)
        .collect();
    let (mean, half_width) = crate::common::confidence_interval(&values, 0.95);
    assert!((p99["mean"].as_f64().unwrap() - mean).abs() < 1e-9 * mean);
    assert!((p99["half_width"].as_f64().unwrap() - half_width).abs() < 1e-9 * mean);
    assert_eq!(p99["n"], 5);
    // The comparison holds each mean and, after it, its half-width.
    let csv = String::from_utf8(one["comparison.csv"].clone()).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "latency_p99_ms").unwrap();
    assert_eq!(header[at + 1], "latency_p99_ms_ci95");
    let base: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        base[at].parse::<f64>().unwrap(),
        p99["mean"].as_f64().unwrap()
    );
    // The report's trade-off chart plots the means with their intervals.
    let chart = String::from_utf8_lossy(&one["charts/p99_vs_cost.svg"]).into_owned();
    assert!(
        chart.contains("bars the 95 % confidence intervals"),
        "{chart}"
    );
    // Least connections beats random dispatch by far more than the noise.
    let lc: serde_json::Value = serde_json::from_slice(&one["least_conn/aggregate.json"]).unwrap();
    let lc_p99 = &lc["metrics"]["latency_p99_ms"];
    assert!(lc_p99["high"].as_f64().unwrap() < p99["low"].as_f64().unwrap());
}

#[test]
fn a_sharded_sweep_merges_into_the_unsharded_files() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_file(tmp.path());
    let dir = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    ok(&["run", &file, "--replications", "3", "--out", &dir("all")]);
    for i in 0..4 {
        let shard = format!("{i}/4");
        ok(&[
            "run",
            &file,
            "--replications",
            "3",
            "--shard",
            &shard,
            "--out",
            &dir(&format!("s{i}")),
        ]);
    }
    // Any order of the shard folders.
    ok(&[
        "merge",
        "--out",
        &dir("merged"),
        &dir("s2"),
        &dir("s0"),
        &dir("s3"),
        &dir("s1"),
    ]);
    let (all, merged) = (
        files_under(Path::new(&dir("all"))),
        files_under(Path::new(&dir("merged"))),
    );
    assert_eq!(
        all.keys().collect::<Vec<_>>(),
        merged.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &all {
        assert!(merged[name] == *bytes, "{name} differs after merging");
    }
    // A missing shard, or one given twice, is refused (exit 2), naming the problem.
    let missing = fleetsim(&[
        "merge",
        "--out",
        &dir("m2"),
        &dir("s0"),
        &dir("s1"),
        &dir("s2"),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("3/4"));
    let twice = fleetsim(&["merge", "--out", &dir("m3"), &dir("s0"), &dir("s0")]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("twice"));
    // A bad shard is a usage error.
    let bad = fleetsim(&["run", &file, "--shard", "4/4", "--out", &dir("bad")]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("below the shard count"));
}

#[test]
fn a_grid_multiplies_every_run_and_applies_its_overrides() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_file(tmp.path());
    let dir = tmp.path().join("grid");
    ok(&[
        "run",
        &file,
        "--set",
        "balancer.algorithm=random,least_connections",
        "--set",
        "pool.p.instances=4,5",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let files = files_under(&dir);
    // Two runs × 2 × 2 points, three files each, and the comparison (the report's aside).
    assert_eq!(results(&files), 8 * 3 + 2, "{:?}", files.keys());
    let summary = |run: &str| files[&format!("{run}/summary.json")].clone();
    // The base at algorithm=least_connections is the least_conn variant at the same point:
    // the same requests on the same fleet, to the byte.
    for n in [4, 5] {
        assert!(
            summary(&format!("base+algorithm=least_connections+instances={n}"))
                == summary(&format!(
                    "least_conn+algorithm=least_connections+instances={n}"
                ))
        );
    }
    // And the override is applied: 5 servers cost 5/4 of 4.
    let cost = |run: &str| {
        serde_json::from_slice::<Summary>(&summary(run))
            .unwrap()
            .cost_usd
            .total
    };
    let (four, five) = (
        cost("base+algorithm=random+instances=4"),
        cost("base+algorithm=random+instances=5"),
    );
    assert!((five / four - 1.25).abs() < 1e-12);
    // A path that does not fit the file is a usage error naming the --set.
    let bad = fleetsim(&[
        "run",
        &file,
        "--set",
        "pool.q.instances=3",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("--set pool.q.instances=3") && stderr.contains("there are: p"),
        "{stderr}"
    );
}

/// No result depends on `--threads`: a grid of two points times the base and a variant, each
/// with three replications (twelve jobs, run in whichever order the threads take them), writes
/// the same bytes on one thread and on two.
#[test]
fn a_grid_with_replications_is_the_same_at_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_file(tmp.path());
    let out = |threads: &str| {
        let dir = tmp.path().join(format!("t{threads}"));
        ok(&[
            "run",
            &file,
            "--set",
            "pool.p.instances=4,5",
            "--set",
            "duration=2m",
            "--replications",
            "3",
            "--threads",
            threads,
            "--out",
            dir.to_str().unwrap(),
        ]);
        files_under(&dir)
    };
    let (one, two) = (out("1"), out("2"));
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &one {
        assert!(
            two[name] == *bytes,
            "{name} differs between 1 and 2 threads"
        );
    }
    // Four runs × 3 replications × 3 files, an aggregate per run, and the comparison.
    assert_eq!(results(&one), 4 * 3 * 3 + 4 + 2, "{:?}", one.keys());
    assert!(one.contains_key("least_conn+instances=5+duration=2m/rep-3/summary.json"));
}

/// Regression (issue 14, item 12): a value given twice in a `--set` (or one path in two) made
/// two runs of one name, which the sweep averaged as if they were replications. Refused now,
/// naming the `--set`, before anything runs.
#[test]
fn a_repeated_set_value_is_refused_not_averaged() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_file(tmp.path());
    for sets in [
        vec!["--set", "pool.p.instances=4,4"],
        vec!["--set", "pool.p.instances=4", "--set", "pool.p.instances=5"],
    ] {
        let dir = tmp.path().join("out");
        let mut args = vec!["run", &file, "--out", dir.to_str().unwrap()];
        args.extend(&sets);
        let out = fleetsim(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sets:?}: {stderr}");
        assert!(
            stderr.contains("error: --set pool.p.instances="),
            "{stderr}"
        );
        assert!(stderr.contains("help: "), "{stderr}");
        assert!(!dir.exists(), "{sets:?} wrote results");
    }
    // --replications and --threads are bounded alike in run and check.
    for command in ["run", "check"] {
        for (flag, value) in [
            ("--replications", "0"),
            ("--replications", "1001"),
            ("--threads", "0"),
            ("--threads", "257"),
        ] {
            let out = fleetsim(&[command, &file, flag, value]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{command} {flag} {value}: {stderr}"
            );
            assert!(
                stderr.contains(&format!("invalid value '{value}' for '{flag}")),
                "{stderr}"
            );
        }
    }
}
