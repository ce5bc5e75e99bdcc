//! The review report (`report.html`, `summary.md`, `charts/`): written by `fleetsim run`,
//! remade byte for byte by `fleetsim report`, safe with hostile scenario text, readable from
//! replication folders, and rendered by a real browser (ignored by default: it needs Chromium,
//! which `.ci/run` installs).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use assert_cmd::Command;

use crate::common::files_under;

/// A small fleet and two variants. Names are restricted to `[A-Za-z0-9_.-]` by the scenario
/// reader, so the hostile text is in a comment: the page echoes the file, which must not run.
const SCENARIO: &str = r#"
# Reviewer note: <b>x</b> <script>alert("pwned")</script> & 'quotes'
name = "report_check"
duration = "3m"
seed = 5

[traffic]
rate = "6/s"

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
service = { distribution = "exponential", mean = "1s" }

[[variant]]
name = "p2c"
balancer.algorithm = "power_of_two_choices"

[[variant]]
name = "smaller"
pool = [{ name = "p", instances = 5 }]
"#;

const RUNS: [&str; 3] = ["base", "p2c", "smaller"];

fn fleetsim(args: &[&str]) -> std::process::Output {
    let out = Command::cargo_bin("fleetsim")
        .unwrap()
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

/// Writes `text` as a scenario file in `dir` and runs it into `dir/out`.
fn run(dir: &Path, text: &str) -> PathBuf {
    let file = dir.join("in.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let stdout = fleetsim(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .stdout;
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(
        stdout.contains(&format!("report in {}", out.join("report.html").display())),
        "{stdout}"
    );
    out
}

fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

#[test]
fn run_writes_charts_a_page_and_a_markdown_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), SCENARIO);
    let files = files_under(&out);

    let mut charts: Vec<String> = ["latency", "cost", "p99_vs_cost"]
        .iter()
        .map(|c| format!("charts/{c}"))
        .collect();
    for r in RUNS {
        charts.push(format!("{r}/charts/timeline"));
        charts.push(format!("{r}/charts/instances"));
    }
    for c in &charts {
        let svg = std::str::from_utf8(&files[&format!("{c}.svg")]).unwrap();
        assert!(
            svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"),
            "{c}.svg"
        );
        assert!(is_png(&files[&format!("{c}.png")]), "{c}.png is not a PNG");
    }

    // The page: every chart inline, no script, the hostile text shown as text.
    let html = std::str::from_utf8(&files["report.html"]).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<svg ").count(),
        charts.len(),
        "one inline SVG per chart"
    );
    assert!(!html.contains("<script"), "a script element got through");
    assert!(!html.contains("<b>x</b>"));
    assert!(html.contains(
        "# Reviewer note: &lt;b&gt;x&lt;/b&gt; &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;"
    ));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "an external resource"
    );
    for r in RUNS {
        assert!(
            html.contains(&format!("<h2 id=\"run-{r}\">Run {r}</h2>")),
            "{r}"
        );
    }
    // The folder keeps the scenario, so that `fleetsim report` can echo it again.
    assert_eq!(files["scenario.toml"], SCENARIO.as_bytes());

    // summary.md: one table row per run, numbers as comparison.md rounds them.
    let md = std::str::from_utf8(&files["summary.md"]).unwrap();
    let comparison = std::str::from_utf8(&files["comparison.md"]).unwrap();
    for r in RUNS {
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {r} |")))
            .unwrap_or_else(|| panic!("{md}"));
        let full = comparison
            .lines()
            .find(|l| l.starts_with(&format!("| {r} |")))
            .unwrap();
        // Its arrived count and its cost are the comparison's.
        let cells: Vec<&str> = row.split(" | ").collect();
        let full_cells: Vec<&str> = full.split(" | ").collect();
        assert_eq!(cells[1], full_cells[1], "arrived");
        assert!(
            full.contains(&format!("| {} |", cells[6])),
            "cost {} in {full}",
            cells[6]
        );
    }
}

#[test]
fn report_remakes_the_same_bytes_and_runs_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), SCENARIO);
    let first = files_under(&out);
    // Remove what the report wrote, then make it again from the folder alone.
    std::fs::remove_file(out.join("report.html")).unwrap();
    std::fs::remove_file(out.join("summary.md")).unwrap();
    std::fs::remove_dir_all(out.join("charts")).unwrap();
    for r in RUNS {
        std::fs::remove_dir_all(out.join(r).join("charts")).unwrap();
    }
    fleetsim(&["report", out.to_str().unwrap()]);
    let again = files_under(&out);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        again.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &first {
        assert!(*bytes == again[name], "{name} differs when remade");
    }
    // And a second run of the scenario gives the same bytes (PNG included).
    let other = tempfile::tempdir().unwrap();
    let out2 = run(other.path(), SCENARIO);
    for (name, bytes) in files_under(&out2) {
        assert!(bytes == first[&name], "{name} differs between two runs");
    }
}

#[test]
fn replication_folders_are_charted_from_their_first_replication() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SCENARIO[..SCENARIO.find("[[variant]]").unwrap()].to_string();
    let out = run(tmp.path(), &text);
    // Lay the single run out as replications would be: rep-1/, rep-2/ and aggregate.json.
    for rep in ["rep-1", "rep-2"] {
        std::fs::create_dir(out.join(rep)).unwrap();
        for f in ["summary.json", "timeline.csv", "scaling_events.csv"] {
            std::fs::copy(out.join(f), out.join(rep).join(f)).unwrap();
        }
    }
    for f in [
        "summary.json",
        "timeline.csv",
        "scaling_events.csv",
        "report.html",
    ] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    std::fs::remove_dir_all(out.join("charts")).unwrap();
    std::fs::write(out.join("aggregate.json"), "{\"format\": \"not read\"}").unwrap();
    fleetsim(&["report", out.to_str().unwrap()]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("up to 2 replications"), "no replication note");
    assert!(html.contains("<code>rep-1/</code>"));
    for c in ["timeline", "instances", "latency", "cost"] {
        assert!(out.join("charts").join(format!("{c}.png")).is_file(), "{c}");
    }
    // One run: no p99-against-cost chart.
    assert!(!out.join("charts/p99_vs_cost.svg").exists());
}

#[test]
fn a_folder_reused_by_a_run_with_variants_reports_the_variants() {
    let tmp = tempfile::tempdir().unwrap();
    // First without variants, then with them, into the same folder: the new run replaces the
    // folder whole, and the single run's files are gone (issue 14, item 9).
    run(
        tmp.path(),
        &SCENARIO[..SCENARIO.find("[[variant]]").unwrap()],
    );
    let out = run(tmp.path(), SCENARIO);
    assert!(!out.join("summary.json").exists());
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for r in RUNS {
        assert!(md.contains(&format!("| {r} |")), "{r} missing from\n{md}");
    }
}

#[test]
fn report_of_a_folder_without_results_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("fleetsim")
        .unwrap()
        .args(["report", tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no results here"), "{stderr}");
}

/// The first of the usual names of Chromium on PATH.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
}

/// How long the browser may take to load and dump the page before the test fails (it takes
/// about a second; a hung browser must not hang the suite).
const BROWSER_DEADLINE: Duration = Duration::from_secs(120);

/// Ignored by default, so that a machine without a browser shows it as ignored rather than
/// passed; `.ci/run` installs Debian's `chromium` and runs it. Run explicitly without a browser,
/// it fails.
#[test]
#[ignore = "needs headless Chromium (Debian's chromium package): .ci/run installs it and runs this"]
fn a_headless_browser_renders_the_page_with_its_charts() {
    let browser = chromium().expect(
        "no chromium, chromium-browser or google-chrome on PATH: install Debian's chromium \
         package (apt-get install chromium), or leave this test ignored",
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), SCENARIO);
    let page = out.join("report.html");
    let profile = tmp.path().join("profile");
    // Headless, as root in CI (no sandbox), with a fresh profile and nothing that reaches for
    // the network: the CI machine has none, and without the background-networking flags
    // Chromium's connections are refused at every start.
    let mut child = Process::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            &format!("file://{}", page.display()),
        ])
        // Into files, not pipes: the page is larger than a pipe holds, and nothing reads a
        // pipe while the deadline is watched.
        .stdout(File::create(tmp.path().join("dom.html")).unwrap())
        .stderr(File::create(tmp.path().join("stderr.txt")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", browser.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_DEADLINE {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "{} did not dump the page within {BROWSER_DEADLINE:?}",
                browser.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(tmp.path().join("stderr.txt")).unwrap_or_default()
    );
    let dom = std::fs::read_to_string(tmp.path().join("dom.html")).unwrap();
    // The parsed document holds every chart as SVG with its drawing, and the escaped note as
    // text (a script would have been parsed into an element).
    assert_eq!(
        dom.matches("<svg ").count(),
        3 + 2 * RUNS.len(),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(dom.matches("<polyline").count() + dom.matches("<path").count() > 10);
    assert!(!dom.contains("<script"));
    assert!(dom.contains("&lt;script&gt;alert(\"pwned\")&lt;/script&gt;"));
}
