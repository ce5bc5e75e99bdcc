//! `[[variant]]` tables: common random numbers across variants, the comparison files read back
//! against each variant's summary, and byte-identical outputs at 1 and 2 threads.
//! (The merge rules are unit-tested in `src/scenario/variants.rs`; broken variants are in the
//! `tests/bad_scenarios/` corpus.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crate::common::{files_under, run};
use fleetsim::{Scenario, ScenarioSet, Summary};

/// Eight single-slot servers at load ρ = 6.4 / 8 = 0.8, behind a balancer; the base picks at
/// random, the variants with Envoy's P2C, nginx's least_conn, and a bigger fleet.
const SHOOTOUT: &str = r#"
name = "shootout"
duration = "30m"
seed = 7

[traffic]
rate = "6.4/s"

[[instance_type]]
name = "gpu"
concurrency = 1
price = "$1/h"

[[pool]]
name = "p"
instance_type = "gpu"
instances = 8

[balancer]
algorithm = "random"

[[class]]
name = "a"
share = 0.5
service = { distribution = "exponential", mean = "1s" }

[[class]]
name = "b"
share = 0.5
service = { distribution = "exponential", mean = "1s" }

[[variant]]
name = "p2c"
balancer.algorithm = "power_of_two_choices"

[[variant]]
name = "least_conn"
balancer.algorithm = "least_connections"

[[variant]]
name = "bigger_fleet"
pool = [{ name = "p", instances = 12 }]
"#;

fn set(text: &str) -> ScenarioSet {
    ScenarioSet::parse(text, Path::new("inline.toml")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn variants_see_the_same_requests_and_differ_where_the_algorithm_does() {
    let set = set(SHOOTOUT);
    let names: Vec<&str> = set.runs().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["base", "p2c", "least_conn", "bigger_fleet"]);
    // The by-name merge changed only the pool's size.
    let big = &set.variants[2].scenario;
    assert_eq!(big.pools[0].instances, 12);
    assert_eq!(big.pools[0].instance_type, set.base.pools[0].instance_type);

    let results: BTreeMap<&str, Summary> = set
        .runs()
        .into_iter()
        .map(|(name, s)| {
            assert_eq!(s.seed, 7);
            (name, run(s, s.seed).0)
        })
        .collect();
    let base = &results["base"];
    // Common random numbers: every variant gets the same arrivals of each class.
    for (name, r) in &results {
        for (class, c) in &base.by_class {
            assert_eq!(
                r.by_class[class].requests.arrived, c.requests.arrived,
                "{name} {class}"
            );
        }
        assert!(r.requests.is_conserved(), "{name}");
    }
    let mean = |name: &str| results[name].latency_seconds.mean.unwrap();
    // Theory, with mean service S = 1 s: random splitting makes 8 M/M/1 queues at ρ = 0.8,
    // W = S / (1 − ρ) = 5 s. Two choices (Mitzenmacher's supermarket model, n → ∞) give
    // L = Σ_i ρ^(2^i − 1) ≈ 0.8 + 0.512 + 0.210 + 0.035 + 0.001 ≈ 1.56 per server,
    // W = L / ρ ≈ 1.95 s; least connections is join-the-shortest-queue, close to M/M/8
    // (Erlang C ≈ 0.45, W ≈ 1 + 0.45 / 1.6 ≈ 1.3 s). The run starts empty, which lowers the
    // random base most (its relaxation time is the longest), so the bounds leave room:
    // P2C below 0.6 × random (theory 0.39), least_conn below P2C, 12 servers below random.
    assert!(
        mean("p2c") < 0.6 * mean("base"),
        "{} vs {}",
        mean("p2c"),
        mean("base")
    );
    assert!(mean("least_conn") < mean("p2c"));
    assert!(mean("bigger_fleet") < mean("base"));
    // The same fleet costs the same; 12 instances cost 12/8 as much (30 min × $1/h each).
    assert_eq!(results["p2c"].cost_usd.total, base.cost_usd.total);
    assert!((base.cost_usd.total - 8.0 * 0.5).abs() < 1e-9);
    assert!((results["bigger_fleet"].cost_usd.total - 12.0 * 0.5).abs() < 1e-9);
}

fn write_scenario(dir: &Path, text: &str) -> PathBuf {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn fleetsim(args: &[&str], threads: &str) -> std::process::Output {
    let out = Command::cargo_bin("fleetsim")
        .unwrap()
        .env("RAYON_NUM_THREADS", threads)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn outputs_are_byte_identical_at_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_scenario(tmp.path(), SHOOTOUT);
    let outs: Vec<BTreeMap<String, Vec<u8>>> = ["1", "2"]
        .iter()
        .map(|threads| {
            let out = tmp.path().join(format!("out{threads}"));
            fleetsim(
                &[
                    "run",
                    file.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                ],
                threads,
            );
            files_under(&out)
        })
        .collect();
    let names: Vec<&String> = outs[0].keys().collect();
    let mut expected: Vec<String> = [
        // The marker of a fleetsim result folder (`docs/metrics.md`, "Result folders").
        ".fleetsim-results",
        "comparison.csv",
        "comparison.md",
        "report.html",
        "scenario.toml",
        "summary.md",
    ]
    .map(String::from)
    .into();
    for c in ["cost", "latency", "p99_vs_cost"] {
        expected.extend([format!("charts/{c}.png"), format!("charts/{c}.svg")]);
    }
    for v in ["base", "bigger_fleet", "least_conn", "p2c"] {
        for f in ["scaling_events.csv", "summary.json", "timeline.csv"] {
            expected.push(format!("{v}/{f}"));
        }
        for c in ["instances", "timeline"] {
            expected.extend([format!("{v}/charts/{c}.png"), format!("{v}/charts/{c}.svg")]);
        }
    }
    expected.sort_unstable();
    assert_eq!(names, expected.iter().collect::<Vec<_>>());
    for (name, bytes) in &outs[0] {
        assert!(!bytes.is_empty(), "{name}");
        assert!(
            outs[1][name] == *bytes,
            "{name} differs between 1 and 2 threads"
        );
    }
}

#[test]
fn comparison_csv_agrees_with_each_variants_summary() {
    let tmp = tempfile::tempdir().unwrap();
    // A timeout and small queues make every failure column non-zero somewhere.
    let text = SHOOTOUT
        .replace("seed = 7", "seed = 7\ntimeout = \"8s\"")
        .replace("instances = 8", "instances = 8\nqueue_capacity = 3");
    let file = write_scenario(tmp.path(), &text);
    let out = tmp.path().join("out");
    let stdout = fleetsim(
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "2",
    )
    .stdout;
    let stdout = String::from_utf8(stdout).unwrap();

    let mut csv = csv::Reader::from_path(out.join("comparison.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, fleetsim::report::comparison_columns());
    let mut rows = Vec::new();
    for record in csv.records() {
        let record = record.unwrap();
        let cell: BTreeMap<&str, &str> = header
            .iter()
            .map(String::as_str)
            .zip(record.iter())
            .collect();
        let name = cell["variant"].to_string();
        let s: Summary =
            serde_json::from_slice(&std::fs::read(out.join(&name).join("summary.json")).unwrap())
                .unwrap();
        assert_eq!((s.scenario.as_str(), s.seed), ("shootout", 7));
        let count = |k: &str| cell[k].parse::<u64>().unwrap();
        let number = |k: &str| cell[k].parse::<f64>().unwrap();
        let r = s.requests;
        assert_eq!(count("arrived"), r.arrived, "{name}");
        assert_eq!(count("completed"), r.completed, "{name}");
        assert_eq!(count("timed_out"), r.timed_out, "{name}");
        assert_eq!(count("rejected"), r.rejected, "{name}");
        assert_eq!(count("in_flight_at_end"), r.in_flight_at_end, "{name}");
        // The CSV writes the shortest text that reads back to the same f64: equality is exact.
        let failed = r.failed() as f64;
        assert_eq!(
            number("error_rate_pct"),
            failed * 100.0 / r.arrived as f64,
            "{name}"
        );
        let l = s.latency_seconds;
        for (k, v) in [
            ("latency_mean_ms", l.mean),
            ("latency_p50_ms", l.p50),
            ("latency_p90_ms", l.p90),
            ("latency_p99_ms", l.p99),
            ("latency_p999_ms", l.p999),
        ] {
            assert_eq!(number(k), v.unwrap() * 1e3, "{name} {k}");
        }
        assert_eq!(number("utilization"), s.utilization, "{name}");
        assert_eq!(number("cost_usd"), s.cost_usd.total, "{name}");
        assert_eq!(
            number("cost_per_1k_completed_usd"),
            s.cost_usd.total * 1000.0 / r.completed as f64,
            "{name}"
        );
        rows.push((name, r, l.p99.unwrap(), s.cost_usd.total));
    }
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["base", "p2c", "least_conn", "bigger_fleet"]);
    // Random routing into 3-slot queues both times out and rejects; the other columns are
    // checked against the summaries above, so it is enough that they are exercised.
    assert!(
        rows[0].1.timed_out > 0 && rows[0].1.rejected > 0,
        "{:?}",
        rows[0].1
    );

    // The Markdown: one row per run, and the change of p99 and cost against the base.
    let md = std::fs::read_to_string(out.join("comparison.md")).unwrap();
    let (base_p99, base_cost) = (rows[0].2, rows[0].3);
    for (name, _, p99, cost) in &rows[1..] {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name} in\n{md}"));
        let dp99 = format!("{:+.1}", (p99 / base_p99 - 1.0) * 100.0);
        let dcost = format!("{:+.1}", (cost / base_cost - 1.0) * 100.0);
        assert!(
            line.ends_with(&format!("| {dp99} | {dcost} |")),
            "{line} (expected {dp99} {dcost})"
        );
        // The terminal table has the same row.
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(name.as_str()) && l.ends_with(&dcost)),
            "{stdout}"
        );
    }
    assert!(md
        .lines()
        .any(|l| l.starts_with("| base |") && l.ends_with("| — | — |")));
}

#[test]
fn seed_flag_sets_every_variants_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!("{SHOOTOUT}seed = 99\n").replace("duration = \"30m\"", "duration = \"1m\"");
    // The line appended goes into the last variant: its own seed.
    let s = set(&text);
    assert_eq!(
        s.runs().iter().map(|(_, s)| s.seed).collect::<Vec<_>>(),
        [7, 7, 7, 99]
    );
    let file = write_scenario(tmp.path(), &text);
    let out = tmp.path().join("out");
    let args = [
        "run",
        file.to_str().unwrap(),
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ];
    fleetsim(&args, "2");
    for v in ["base", "p2c", "least_conn", "bigger_fleet"] {
        let s: Summary =
            serde_json::from_slice(&std::fs::read(out.join(v).join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(s.seed, 3, "{v}");
    }
}

#[test]
fn without_variants_the_outputs_are_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SHOOTOUT[..SHOOTOUT.find("[[variant]]").unwrap()].replace("30m", "1m");
    let file = write_scenario(tmp.path(), &text);
    let out = tmp.path().join("out");
    fleetsim(
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "2",
    );
    // The run's files, then the report's (`tests/integration/report.rs`).
    let names: Vec<String> = files_under(&out)
        .into_keys()
        .filter(|n| !n.starts_with("charts/"))
        .collect();
    assert_eq!(
        names,
        [
            ".fleetsim-results",
            "report.html",
            "scaling_events.csv",
            "scenario.toml",
            "summary.json",
            "summary.md",
            "timeline.csv"
        ]
    );
    // And the library reads such a file as one scenario, as before.
    assert!(Scenario::parse(&text, Path::new("inline.toml")).is_ok());
    let e = Scenario::parse(SHOOTOUT, Path::new("inline.toml")).unwrap_err();
    assert!(e.to_string().contains("ScenarioSet::load"), "{e}");
}

#[test]
fn validate_reports_every_variant() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_scenario(tmp.path(), SHOOTOUT);
    let out = fleetsim(&["validate", file.to_str().unwrap()], "1");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[0].ends_with("ok (2 classes, 1 pools, 8 slots, 1800 s)"),
        "{stdout}"
    );
    assert_eq!(
        lines[1],
        "  variant p2c: ok (2 classes, 1 pools, 8 slots, 1800 s)"
    );
    assert_eq!(
        lines[2],
        "  variant least_conn: ok (2 classes, 1 pools, 8 slots, 1800 s)"
    );
    assert_eq!(
        lines[3],
        "  variant bigger_fleet: ok (2 classes, 1 pools, 12 slots, 1800 s)"
    );
}
