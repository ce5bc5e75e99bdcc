//! CI gates through the command line: `fleetsim check` (each run's `[slo]` against its results)
//! and `fleetsim compare` (two result folders), their exit codes, tables and Markdown; and the
//! result-folder reader on hand-made folders in the issue 5 layout, `aggregate.json` included.
//!
//! The scenario is computed by hand: one single-slot server, one arrival per second exactly
//! (`process = "periodic"`) and a constant service time shorter than a second, so no request
//! ever waits: every latency is the service time, and all 600 arrivals of 10 minutes complete.
//! The server costs $6/h, so the run costs $1 and a 30-day month $1 × 30 d / 10 min = $4320.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use statrs::distribution::{ContinuousCDF, StudentsT};

use fleetsim::gates::{self, Metric, ResultFolder};
use fleetsim::ScenarioSet;

/// The scenario, served in `service` (a duration below 1 s), with `tail` appended.
fn scenario(service: &str, tail: &str) -> String {
    format!(
        r#"name = "gate"
duration = "10m"
seed = 3

[traffic]
rate = "1/s"
process = "periodic"

[[instance_type]]
name = "gpu"
concurrency = 1
price = "$6/h"

[[pool]]
name = "p"
instance_type = "gpu"
instances = 1

[[class]]
name = "a"
service = {{ distribution = "constant", value = "{service}" }}
{tail}"#
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

/// Runs fleetsim with `args`: exit code, stdout, stderr.
fn fleetsim(args: &[&Path]) -> (i32, String, String) {
    let out = Command::cargo_bin("fleetsim")
        .unwrap()
        .env("RAYON_NUM_THREADS", "2")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The row of the table printed by `check` or `compare` starting with `run` and `what`, split
/// on runs of two spaces or more.
fn row(stdout: &str, run: &str, what: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{run} ")) && l.contains(&format!("  {what}  ")))
        .unwrap_or_else(|| panic!("no row {run} {what} in\n{stdout}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

const HOLDING: &str = r#"
[slo]
p99 = "250ms"
error_rate = "0.1%"
monthly_cost = "$4,400"
cost = "$1"
min_completed = 600
"#;

#[test]
fn check_passes_when_every_objective_holds_and_writes_slo_md() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "s.toml", &scenario("200ms", HOLDING));
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = fleetsim(&["check".as_ref(), &file, "--out".as_ref(), &out]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Limits are inclusive: $1 ≤ $1, 600 ≥ 600.
    assert_eq!(
        row(&stdout, "base", "p99 latency"),
        [
            "base",
            "p99 latency",
            "≤ 250.0 ms",
            "200.0 ms",
            "value",
            "pass"
        ]
    );
    assert_eq!(
        row(&stdout, "base", "monthly cost"),
        [
            "base",
            "monthly cost",
            "≤ 4400.00 USD",
            "4320.00 USD",
            "value",
            "pass"
        ]
    );
    assert_eq!(row(&stdout, "base", "cost")[3], "1.00 USD");
    assert_eq!(
        row(&stdout, "base", "completed")[2..],
        ["≥ 600", "600", "value", "pass"]
    );
    assert!(
        stdout.contains("5 objectives in 1 run: all hold"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(out.join("slo.md")).unwrap();
    assert!(md.starts_with("## SLO check of `gate`: pass\n"), "{md}");
    assert!(
        md.contains("| base | error rate | ≤ 0.100 % | 0.000 % | value | pass |"),
        "{md}"
    );
    // The run's own files are there too, as `run` writes them.
    assert!(out.join("summary.json").is_file());
}

#[test]
fn check_fails_with_exit_1_on_a_broken_objective() {
    let tmp = tempfile::tempdir().unwrap();
    let tight = HOLDING.replace("$4,400", "$4,000");
    let file = write(tmp.path(), "s.toml", &scenario("200ms", &tight));
    let out = tmp.path().join("out");
    let (code, stdout, _) = fleetsim(&["check".as_ref(), &file, "--out".as_ref(), &out]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        row(&stdout, "base", "monthly cost")[2..],
        ["≤ 4000.00 USD", "4320.00 USD", "value", "FAIL"]
    );
    assert!(stdout.contains("5 objectives in 1 run: 1 fails (base monthly_cost)"));
    let md = std::fs::read_to_string(out.join("slo.md")).unwrap();
    assert!(md.starts_with("## SLO check of `gate`: FAIL\n"), "{md}");
}

#[test]
fn check_with_set_judges_the_scenario_with_the_override() {
    // At $6/h a month costs 720 h × $6 = $4,320 > $4,000 (the previous test); at $5/h, $3,600.
    let tmp = tempfile::tempdir().unwrap();
    let tight = HOLDING.replace("$4,400", "$4,000");
    let file = write(tmp.path(), "s.toml", &scenario("200ms", &tight));
    let out = tmp.path().join("out");
    let set = "instance_type.gpu.price=$5/h";
    let (code, stdout, stderr) = fleetsim(&[
        "check".as_ref(),
        &file,
        "--set".as_ref(),
        set.as_ref(),
        "--out".as_ref(),
        &out,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // One run: written flat and judged as the base.
    assert_eq!(
        row(&stdout, "base", "monthly cost")[2..],
        ["≤ 4000.00 USD", "3600.00 USD", "value", "pass"]
    );
    // A broken override is bad input.
    let (code, _, stderr) = fleetsim(&[
        "check".as_ref(),
        &file,
        "--set".as_ref(),
        "pool.nowhere.instances=2".as_ref(),
        "--out".as_ref(),
        &out,
    ]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn each_variant_is_judged_against_its_own_slo() {
    let tmp = tempfile::tempdir().unwrap();
    // The base holds p99 ≤ 250 ms; `slow` (300 ms) breaks it; `relaxed` is as slow but
    // overrides the limit; `fast` inherits the base's [slo] and holds it.
    let tail = r#"
[slo]
p99 = "250ms"

[[variant]]
name = "slow"
class = [{ name = "a", service = { distribution = "constant", value = "300ms" } }]

[[variant]]
name = "relaxed"
class = [{ name = "a", service = { distribution = "constant", value = "300ms" } }]
slo.p99 = "300ms"

[[variant]]
name = "fast"
class = [{ name = "a", service = { distribution = "constant", value = "100ms" } }]
"#;
    let file = write(tmp.path(), "s.toml", &scenario("200ms", tail));
    let out = tmp.path().join("out");
    let (code, stdout, _) = fleetsim(&["check".as_ref(), &file, "--out".as_ref(), &out]);
    assert_eq!(code, 1, "{stdout}");
    let verdict = |run| row(&stdout, run, "p99 latency")[2..].join(" | ");
    assert_eq!(verdict("base"), "≤ 250.0 ms | 200.0 ms | value | pass");
    assert_eq!(verdict("slow"), "≤ 250.0 ms | 300.0 ms | value | FAIL");
    assert_eq!(verdict("relaxed"), "≤ 300.0 ms | 300.0 ms | value | pass");
    assert_eq!(verdict("fast"), "≤ 250.0 ms | 100.0 ms | value | pass");
    assert!(
        stdout.contains("4 objectives in 4 runs: 1 fails (slow p99)"),
        "{stdout}"
    );
    for run in ["base", "slow", "relaxed", "fast"] {
        assert!(out.join(run).join("summary.json").is_file(), "{run}");
    }

    // A base without [slo] is "no SLO", not a failure; a variant may add one.
    let tail = r#"
[[variant]]
name = "gated"
slo.p99 = "250ms"
"#;
    let file = write(tmp.path(), "t.toml", &scenario("200ms", tail));
    let out = tmp.path().join("out2");
    let (code, stdout, _) = fleetsim(&["check".as_ref(), &file, "--out".as_ref(), &out]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("base ") && l.ends_with("no SLO")),
        "{stdout}"
    );
    assert_eq!(row(&stdout, "gated", "p99 latency")[5], "pass");
    assert!(stdout.contains("1 objective in 2 runs (1 without [slo]): all hold"));
}

#[test]
fn check_without_any_slo_passes_with_a_warning_and_bad_input_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "s.toml", &scenario("200ms", ""));
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = fleetsim(&["check".as_ref(), &file, "--out".as_ref(), &out]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stderr.contains("has no [slo]: nothing was checked"),
        "{stderr}"
    );

    let broken = write(
        tmp.path(),
        "b.toml",
        &scenario("200ms", "\n[slo]\np99 = \"fast\"\n"),
    );
    let out = tmp.path().join("out-broken");
    let (code, _, stderr) = fleetsim(&["check".as_ref(), &broken, "--out".as_ref(), &out]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("b.toml:24:8: slo.p99: expected a duration"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing runs for a broken scenario");
}

/// Runs `text` into `<tmp>/<name>` with `fleetsim run`.
fn run_into(tmp: &Path, name: &str, text: &str) -> PathBuf {
    let file = write(tmp, &format!("{name}.toml"), text);
    let out = tmp.join(name);
    let (code, _, stderr) = fleetsim(&["run".as_ref(), &file, "--out".as_ref(), &out]);
    assert_eq!(code, 0, "{stderr}");
    out
}

#[test]
fn compare_exit_codes_for_a_regression_within_and_beyond_its_threshold_and_an_improvement() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    // 200 ms → 220 ms: p99 +10 %, cost unchanged.
    let base = run_into(tmp, "base", &scenario("200ms", ""));
    let slower = run_into(tmp, "slower", &scenario("220ms", ""));
    let compare = |a: &Path, b: &Path, thresholds: &str| {
        fleetsim(&[
            "compare".as_ref(),
            a,
            b,
            "--max-regression".as_ref(),
            thresholds.as_ref(),
        ])
    };
    let (code, stdout, _) = compare(&base, &slower, "p99=5%,cost=1%");
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        row(&stdout, "base", "p99 latency")[2..],
        [
            "200.0 ms",
            "220.0 ms",
            "+20.0 ms (+10.0 %)",
            "no noise estimate",
            "+5.0 %",
            "REGRESSION"
        ]
    );
    assert_eq!(row(&stdout, "base", "cost")[7], "ok");
    assert!(stdout.contains("1 run compared: 1 regression beyond a threshold (base p99 latency)"));
    // Within: 10 % ≤ 15 %, and 20 ms ≤ 25 ms.
    assert_eq!(compare(&base, &slower, "p99=15%").0, 0);
    assert_eq!(compare(&base, &slower, "p99=25").0, 0);
    assert_eq!(compare(&base, &slower, "p99=19.9").0, 1);
    // An improvement is never a regression.
    let (code, stdout, _) = compare(&slower, &base, "p99=1%,p50=1%");
    assert_eq!(code, 0, "{stdout}");
    assert!(row(&stdout, "base", "p99 latency")[4].starts_with("-20.0 ms (-9.1 %)"));
    // Without thresholds: a report, exit 0.
    assert_eq!(fleetsim(&["compare".as_ref(), &base, &slower]).0, 0);

    // --out writes Markdown, and nothing is written without it.
    let md = tmp.join("compare.md");
    let (code, _, _) = fleetsim(&[
        "compare".as_ref(),
        &base,
        &slower,
        "--max-regression".as_ref(),
        "p99=5%".as_ref(),
        "--out".as_ref(),
        &md,
    ]);
    assert_eq!(code, 1);
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains(": REGRESSION\n"), "{md}");
    assert!(
        md.contains("| base | p99 latency | 200.0 ms | 220.0 ms | +20.0 ms (+10.0 %) |"),
        "{md}"
    );
}

#[test]
fn compare_matches_runs_by_name_and_rejects_bad_input_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let variant = |name: &str, service: &str| {
        format!(
            "\n[[variant]]\nname = \"{name}\"\nclass = [{{ name = \"a\", service = {{ distribution = \"constant\", value = \"{service}\" }} }}]\n"
        )
    };
    let a = run_into(tmp, "a", &scenario("200ms", &variant("v", "300ms")));
    let b = run_into(
        tmp,
        "b",
        &scenario("200ms", &(variant("v", "400ms") + &variant("w", "100ms"))),
    );
    let flat = run_into(tmp, "flat", &scenario("200ms", ""));
    let (code, stdout, _) = fleetsim(&[
        "compare".as_ref(),
        &a,
        &b,
        "--max-regression".as_ref(),
        "p99=10%".as_ref(),
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(row(&stdout, "base", "p99 latency")[7], "ok");
    assert_eq!(row(&stdout, "v", "p99 latency")[7], "REGRESSION");
    assert!(
        stdout.contains(
            "2 runs compared: 1 regression beyond a threshold (v p99 latency); only in new: w"
        ),
        "{stdout}"
    );
    // A flat folder (one run) is the run `base`.
    let (code, stdout, _) = fleetsim(&["compare".as_ref(), &flat, &b]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("1 run compared: no regression beyond a threshold; only in new: v, w"),
        "{stdout}"
    );

    for (args, message) in [
        (
            vec!["--max-regression", "p98=5%"],
            "unknown metric \"p98\": use one of mean, p50, p90, p99",
        ),
        (
            vec!["--max-regression", "p99=fast"],
            "\"fast\" (for p99) is not a limit",
        ),
        (vec!["--max-regression", "p99"], "is not METRIC=LIMIT"),
    ] {
        let mut all: Vec<&Path> = vec!["compare".as_ref(), &a, &b];
        all.extend(args.iter().map(Path::new));
        let (code, _, stderr) = fleetsim(&all);
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains(message), "{stderr}");
    }
    let (code, _, stderr) = fleetsim(&["compare".as_ref(), &a, &tmp.join("missing")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing: no such folder"), "{stderr}");
    let (code, _, stderr) = fleetsim(&["compare".as_ref(), &a, tmp]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds no fleetsim results"), "{stderr}");
}

/// The columns of `aggregate.json`'s `metrics`, in order (issue 5 layout).
fn aggregate_columns() -> Vec<&'static str> {
    fleetsim::report::comparison_columns()[1..].to_vec()
}

/// Writes `<dir>/<run>/aggregate.json` for `replications` replications with the given mean and
/// sample standard deviation of some metrics (every other metric: 1 with std 0), intervals
/// computed as documented: half-width t(0.975, n − 1) · std / √n. A metric given a `None` mean
/// is undefined in every replication (all nulls). Also writes `rep-1/summary.json`.
fn write_aggregate(dir: &Path, run: &str, replications: u64, given: &[(&str, Option<(f64, f64)>)]) {
    let n = replications as f64;
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .unwrap()
        .inverse_cdf(0.975);
    let metrics: Vec<String> = aggregate_columns()
        .iter()
        .map(|c| {
            let value = given.iter().find(|(g, _)| g == c).map_or(Some((1.0, 0.0)), |(_, v)| *v);
            let body = match value {
                None => "{ \"n\": 0, \"mean\": null, \"std\": null, \"half_width\": null, \"low\": null, \"high\": null }".to_string(),
                Some((mean, std)) => {
                    let h = t * std / n.sqrt();
                    format!(
                        "{{ \"n\": {replications}, \"mean\": {mean:?}, \"std\": {std:?}, \"half_width\": {h:?}, \"low\": {:?}, \"high\": {:?} }}",
                        mean - h,
                        mean + h
                    )
                }
            };
            format!("    \"{c}\": {body}")
        })
        .collect();
    let seeds: Vec<String> = (0..replications).map(|k| (42 + k).to_string()).collect();
    let json = format!(
        "{{\n  \"run\": \"{run}\",\n  \"replications\": {replications},\n  \"seeds\": [{}],\n  \"confidence\": 0.95,\n  \"metrics\": {{\n{}\n  }}\n}}\n",
        seeds.join(", "),
        metrics.join(",\n")
    );
    let run_dir = dir.join(run);
    std::fs::create_dir_all(run_dir.join("rep-1")).unwrap();
    std::fs::write(run_dir.join("aggregate.json"), json).unwrap();
    // One replication's summary: a real one, from the hand-computed scenario (600 s).
    let s = fleetsim::Scenario::parse(&scenario("200ms", ""), Path::new("s.toml")).unwrap();
    let mut sink = fleetsim::metrics::CollectTimeline::default();
    let summary = fleetsim::run(&s, 42, &mut sink)
        .expect("the run ends")
        .summary;
    fleetsim::report::write_summary(&run_dir.join("rep-1"), &summary).unwrap();
}

/// `comparison.csv` of replicated runs: each column followed by its `_ci95` (values are not
/// read by the gates; the names and the `_ci95` columns are).
fn write_comparison_csv(dir: &Path, runs: &[&str]) {
    let mut header = vec!["variant".to_string()];
    for c in aggregate_columns() {
        header.push(c.to_string());
        header.push(format!("{c}_ci95"));
    }
    let mut text = header.join(",") + "\n";
    for run in runs {
        text.push_str(run);
        text.push_str(&",1".repeat(header.len() - 1));
        text.push('\n');
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("comparison.csv"), text).unwrap();
}

#[test]
fn replicated_folders_are_read_and_judged_on_their_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, new) = (tmp.path().join("base"), tmp.path().join("new"));
    // p99 of 5 replications: 200 ms (std 20) → 230 ms (std 20): Welch t = 30 / √160 = 2.372,
    // ν = 8 > t(0.975, 8) = 2.306: significant (+15 %). Cost $10 (std 1) → $11 (std 1):
    // t = 1.58, within the noise (+10 %). p999 undefined (nothing completed) in `new`.
    write_comparison_csv(&base, &["base"]);
    write_aggregate(
        &base,
        "base",
        5,
        &[
            ("latency_p99_ms", Some((200.0, 20.0))),
            ("cost_usd", Some((10.0, 1.0))),
        ],
    );
    write_comparison_csv(&new, &["base"]);
    write_aggregate(
        &new,
        "base",
        5,
        &[
            ("latency_p99_ms", Some((230.0, 20.0))),
            ("cost_usd", Some((11.0, 1.0))),
            ("latency_p999_ms", None),
        ],
    );

    let folder = ResultFolder::read(&new).unwrap();
    let run = &folder.runs[0];
    assert_eq!(
        (run.name.as_str(), run.replications, run.confidence),
        ("base", 5, Some(0.95))
    );
    assert_eq!(run.simulated_seconds, Some(600.0));
    let p99 = run.estimate(Metric::LatencyP99Ms);
    assert_eq!((p99.n, p99.mean, p99.std), (5, Some(230.0), Some(20.0)));
    assert_eq!(run.estimate(Metric::LatencyP999Ms).mean, None);

    let compare = |thresholds: &str| {
        fleetsim(&[
            "compare".as_ref(),
            &base,
            &new,
            "--max-regression".as_ref(),
            thresholds.as_ref(),
        ])
    };
    let (code, stdout, _) = compare("p99=10%");
    assert_eq!(code, 1, "{stdout}");
    let p99 = row(&stdout, "base", "p99 latency");
    assert_eq!(
        p99[2..5],
        ["200.0 ± 24.8 ms", "230.0 ± 24.8 ms", "+30.0 ms (+15.0 %)"]
    );
    assert!(p99[5].starts_with("significant (p = 0.04"), "{stdout}");
    // Cost +10 % is beyond 5 % at face value, but within the noise: no regression.
    let (code, stdout, _) = compare("cost=5%");
    assert_eq!(code, 0, "{stdout}");
    let cost = row(&stdout, "base", "cost");
    assert!(cost[5].starts_with("within noise (p = 0.15"), "{stdout}");
    assert_eq!(cost[7], "ok (within noise)");
    // A p99.9 lost in every replication is a regression when thresholded.
    assert_eq!(compare("p999=50%").0, 1);

    // The SLO check judges the upper 95 % bound: p99 230 + 24.83 ms = 254.83 ms ≤ 255 ms; the
    // monthly cost scales the cost and its interval by 30 d / 600 s (the replication's) = 4320:
    // (11 ± t(0.975, 4) · 1 / √5) × 4320 = 47 520 ± 5364 USD, upper bound 52 884 ≤ $53,000.
    let set = ScenarioSet::parse(
        &scenario(
            "200ms",
            "\n[slo]\np99 = \"255ms\"\nmonthly_cost = \"$53,000\"\np999 = \"1s\"\n",
        ),
        Path::new("s.toml"),
    )
    .unwrap();
    let report = gates::check(&folder, &[("base", set.base.slo.as_ref())]).unwrap();
    let text = report.text();
    assert_eq!(
        row(&text, "base", "p99 latency")[2..],
        [
            "≤ 255.0 ms",
            "230.0 ± 24.8 ms",
            "upper 95 % bound 254.8 ms",
            "pass"
        ]
    );
    let monthly = row(&text, "base", "monthly cost");
    let t = StudentsT::new(0.0, 1.0, 4.0).unwrap().inverse_cdf(0.975);
    assert_eq!(
        monthly[3],
        format!("47520.00 ± {:.2} USD", t / 5f64.sqrt() * 4320.0)
    );
    assert_eq!(monthly[5], "pass");
    assert_eq!(
        row(&text, "base", "p99.9 latency")[4..],
        ["undefined in 5 of 5 replications", "FAIL"]
    );
    assert!(!report.passed());
    // A limit above the mean but below the upper bound fails: $52,000 < 52 884.
    let set = ScenarioSet::parse(
        &scenario("200ms", "\n[slo]\nmonthly_cost = \"$52,000\"\n"),
        Path::new("s.toml"),
    )
    .unwrap();
    let report = gates::check(&folder, &[("base", set.base.slo.as_ref())]).unwrap();
    assert!(!report.passed(), "{}", report.text());
}

#[test]
fn check_with_replications_judges_the_pessimistic_end_of_the_interval() {
    // Exponential service, so replications differ; a p99 limit between the replications' mean
    // and the upper end of its interval passes on the mean but must fail on the bound.
    let tmp = tempfile::tempdir().unwrap();
    let noisy = |tail: &str| {
        scenario("200ms", tail)
            .replace("process = \"periodic\"", "")
            .replace(
                "{ distribution = \"constant\", value = \"200ms\" }",
                "{ distribution = \"exponential\", mean = \"200ms\" }",
            )
    };
    let probe = write(tmp.path(), "probe.toml", &noisy(""));
    let probe_out = tmp.path().join("probe");
    let (code, _, stderr) = fleetsim(&[
        "check".as_ref(),
        &probe,
        "--replications".as_ref(),
        "4".as_ref(),
        "--out".as_ref(),
        &probe_out,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let aggregate: serde_json::Value =
        serde_json::from_slice(&std::fs::read(probe_out.join("base/aggregate.json")).unwrap())
            .unwrap();
    let p99 = &aggregate["metrics"]["latency_p99_ms"];
    let (mean, high) = (p99["mean"].as_f64().unwrap(), p99["high"].as_f64().unwrap());
    assert!(high > mean, "{p99}");
    let limit = (mean + high) / 2.0;
    let slo = format!("[slo]\np99 = \"{limit}ms\"\n");
    let file = write(tmp.path(), "s.toml", &noisy(&slo));
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = fleetsim(&[
        "check".as_ref(),
        &file,
        "--replications".as_ref(),
        "4".as_ref(),
        "--out".as_ref(),
        &out,
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(row(&stdout, "base", "p99 latency").last().unwrap(), "FAIL");
}
