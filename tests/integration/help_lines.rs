//! Every error the command line prints says what to do (issue 15, item 6): library errors are
//! typed, and `main` alone turns each into its message, one `help:` line and its exit code. The
//! messages keep their text; the cases are the errors that printed no hint before (an unknown
//! `--cloud`, trace-stats' layout and loading, a bad `--shard`, result folders, the report),
//! and errors that had one keep exactly one.

use std::path::Path;
use std::process::{Command, Output};

fn fleetsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `args`, which must fail with `code`, printing `message` on its `error:` line, and
/// exactly one `help:` line after it. Returns stderr.
fn fails_with_help(args: &[&str], code: i32, message: &str) -> String {
    let out = fleetsim(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: ") && stderr.contains(message),
        "{args:?}: expected an error with {message:?}, got:\n{stderr}"
    );
    let helps: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("help: "))
        .collect();
    assert_eq!(helps.len(), 1, "{args:?}: one help line, got:\n{stderr}");
    assert!(helps[0].len() > "help: ".len() + 10, "{stderr}");
    let error_at = stderr.find("error: ").unwrap();
    assert!(stderr.find(helps[0]).unwrap() > error_at, "{stderr}");
    stderr
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const TINY: &str = r#"
name = "tiny"
duration = "1m"
[traffic]
rate = "2/s"
[[instance_type]]
name = "gpu"
concurrency = 1
price = "$1/h"
[[pool]]
name = "p"
instance_type = "gpu"
instances = 2
[[class]]
name = "a"
service = { distribution = "exponential", mean = "200ms" }
"#;

#[test]
fn catalog_and_trace_stats_errors_say_what_to_give() {
    let help = fails_with_help(
        &["catalog", "--cloud", "ibm"],
        2,
        "unknown cloud \"ibm\": choose aws, azure or gcp",
    );
    assert!(help.contains("help: leave out --cloud"), "{help}");
    fails_with_help(
        &["trace-stats", "t.csv", "--format", "alibaba"],
        2,
        "unknown trace format \"alibaba\": choose azure_llm, mooncake, csv or jsonl",
    );
    let help = fails_with_help(
        &["trace-stats", "t.csv", "--format", "csv"],
        2,
        "--format csv and jsonl need --time-column (the column of arrival times)",
    );
    assert!(help.contains("--time-column timestamp"), "{help}");
    fails_with_help(
        &[
            "trace-stats",
            "t.csv",
            "--format",
            "jsonl",
            "--time-column",
            "t",
        ],
        2,
        "--format csv and jsonl need --time-unit (s, ms, us or iso)",
    );
    fails_with_help(
        &[
            "trace-stats",
            "t.csv",
            "--format",
            "csv",
            "--time-column",
            "t",
            "--time-unit",
            "parsec",
        ],
        2,
        "unknown --time-unit \"parsec\": choose s, ms, us or iso",
    );
    fails_with_help(
        &["trace-stats", "/nonexistent/trace.csv"],
        2,
        "cannot read the trace file /nonexistent/trace.csv",
    );
}

#[test]
fn a_bad_shard_is_refused_with_how_to_write_one() {
    for (shard, message) in [
        ("3", "--shard 3: expected i/n, such as 0/4"),
        ("a/4", "--shard a/4: \"a\" is not a whole number"),
        (
            "3/2",
            "--shard 3/2: the shard index must be below the shard count (0/2 to 1/2)",
        ),
    ] {
        let help = fails_with_help(&["run", "scenario.toml", "--shard", shard], 2, message);
        assert!(help.contains("help: --shard i/n"), "{help}");
    }
}

#[test]
fn result_folder_and_report_errors_say_what_to_give() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let help = fails_with_help(
        &["compare", s(&missing), s(&empty)],
        2,
        "missing: no such folder: give a result folder of `fleetsim run --out DIR`",
    );
    assert!(help.contains("help: give the --out folder"), "{help}");
    fails_with_help(
        &["compare", s(&empty), s(&empty)],
        2,
        "holds no fleetsim results: neither summary.json",
    );
    let edited = tmp.path().join("edited");
    std::fs::create_dir(&edited).unwrap();
    std::fs::write(edited.join("summary.json"), "{\"scenario\": 1}").unwrap();
    let help = fails_with_help(
        &["compare", s(&edited), s(&edited)],
        2,
        "not a fleetsim summary.json",
    );
    assert!(help.contains("run it again"), "{help}");
    // `report` of a folder that is not there, and of one with a scenario file that is not.
    fails_with_help(&["report", s(&missing)], 2, "missing");
    let file = tmp.path().join("tiny.toml");
    std::fs::write(&file, TINY).unwrap();
    let out = tmp.path().join("out");
    let run = fleetsim(&["run", s(&file), "--out", s(&out)]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let help = fails_with_help(
        &[
            "report",
            s(&out),
            "--scenario",
            s(&tmp.path().join("gone.toml")),
        ],
        2,
        "cannot write the report: ",
    );
    assert!(help.contains("help: give --scenario an existing"), "{help}");
    // `merge` errors carry their own hint: still exactly one.
    fails_with_help(
        &["merge", "--out", s(&tmp.path().join("m")), s(&empty)],
        2,
        "has no shard.json: it is not a shard's folder",
    );
}
