//! Bad input: every broken scenario under `tests/bad_scenarios/` must exit with code 2 and name
//! the file, the field path, the line:column, what was expected and how to fix it, reporting
//! every problem in the file at once; and no input may make fleetsim panic.
//!
//! Each broken file states what it must produce in its header: `# errors: N` (how many problems
//! it holds) and `# expect: TEXT` lines, substrings the error output must contain. The line
//! numbers in those expectations were derived from the files themselves, not from fleetsim.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use rand::{Rng, SeedableRng};

use crate::common::{repo, shipped_scenarios};
use fleetsim::Scenario;

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/bad_scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn header(file: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut errors = 0;
    let mut expects = Vec::new();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(n) = line.strip_prefix("# errors:") {
            errors = n.trim().parse().unwrap();
        } else if let Some(e) = line.strip_prefix("# expect:") {
            expects.push(e.trim().to_string());
        }
    }
    (errors, expects)
}

fn fleetsim(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("fleetsim")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_broken_scenario_exits_2_and_says_where_what_and_how() {
    let files = corpus();
    assert!(files.len() >= 25, "only {} broken scenarios", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let (errors, expects) = header(file);
        let name = file
            .strip_prefix(repo())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(errors > 0 && !expects.is_empty(), "{name} lacks its header");
        let out_dir = tempfile::tempdir().unwrap();
        let out_arg = out_dir.path().join("out");
        for args in [
            vec!["validate", &name],
            vec!["run", &name, "--out", out_arg.to_str().unwrap()],
        ] {
            let out = Command::cargo_bin("fleetsim")
                .unwrap()
                .current_dir(repo())
                .args(&args)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let mut problems = Vec::new();
            if out.status.code() != Some(2) {
                problems.push(format!("exit code {:?}, not 2", out.status.code()));
            }
            if stderr.contains("panicked") {
                problems.push("panicked".into());
            }
            let error_lines: Vec<&str> = stderr
                .lines()
                .filter(|l| l.starts_with("error: "))
                .collect();
            if error_lines.len() != errors {
                problems.push(format!(
                    "{} error lines, the file holds {errors} problems",
                    error_lines.len()
                ));
            }
            if !error_lines
                .iter()
                .all(|l| l.starts_with(&format!("error: {name}")))
            {
                problems.push("an error line does not start with the file name".into());
            }
            // Every error is followed by a hint on how to fix it.
            let lines: Vec<&str> = stderr.lines().collect();
            for (i, l) in lines.iter().enumerate() {
                if l.starts_with("error: ")
                    && !lines.get(i + 1).is_some_and(|n| n.starts_with("  help: "))
                {
                    problems.push(format!("no help after `{l}`"));
                }
            }
            for e in &expects {
                if !stderr.contains(e.as_str()) {
                    problems.push(format!("missing `{e}`"));
                }
            }
            if out_arg.exists() {
                problems.push("run wrote output for a broken scenario".into());
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{name} ({}): {}\n{stderr}",
                    args[0],
                    problems.join("; ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_missing_file_and_a_usage_error_exit_2() {
    let out = fleetsim(&["validate", "no/such/scenario.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no/such/scenario.toml") && stderr.contains("cannot read"),
        "{stderr}"
    );
    assert_eq!(fleetsim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(fleetsim(&["run"]).status.code(), Some(2));
}

/// Deterministic mutation fuzzing: thousands of damaged variants of every shipped and broken
/// scenario are parsed in-process; none may panic. (Valid mutants are not run: they may be
/// long simulations.)
#[test]
fn no_input_panics() {
    const TOKENS: &[&str] = &[
        "-1",
        "0",
        "1e308",
        "nan",
        "inf",
        "-inf",
        "18446744073709551616",
        "\"x\"",
        "\"\"",
        "\"-0s\"",
        "\"1e999h\"",
        "\"0/s\"",
        "\"$-1/h\"",
        "[]",
        "{}",
        "true",
        "\"9999999999999999999s\"",
    ];
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2024);
    let mut seeds: Vec<(PathBuf, String)> = shipped_scenarios()
        .into_iter()
        .chain(corpus())
        .map(|p| {
            let t = std::fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .collect();
    seeds.sort();
    let number = regex_lite_numbers;
    let mut tried = 0;
    for (path, text) in &seeds {
        for _ in 0..60 {
            let mut t = text.clone();
            for _ in 0..rng.random_range(1..4) {
                t = mutate(&mut rng, &t, TOKENS, number);
            }
            tried += 1;
            let result = std::panic::catch_unwind(|| Scenario::parse(&t, path).map(|_| ()));
            assert!(
                result.is_ok(),
                "panic on input derived from {}:\n{t}",
                path.display()
            );
        }
    }
    assert!(tried >= 2000, "only {tried} mutants");
}

/// Byte ranges of number-like tokens in `text`.
fn regex_lite_numbers(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

fn mutate(
    rng: &mut rand_pcg::Pcg64Mcg,
    text: &str,
    tokens: &[&str],
    numbers: fn(&str) -> Vec<(usize, usize)>,
) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match rng.random_range(0..6) {
        0 => {
            // Replace a number with a hostile token.
            let spans = numbers(text);
            if spans.is_empty() {
                return text.to_string();
            }
            let (s, e) = spans[rng.random_range(0..spans.len())];
            format!(
                "{}{}{}",
                &text[..s],
                tokens[rng.random_range(0..tokens.len())],
                &text[e..]
            )
        }
        1 if !lines.is_empty() => {
            // Delete a line.
            let k = rng.random_range(0..lines.len());
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n")
        }
        2 if !lines.is_empty() => {
            // Duplicate a line.
            let k = rng.random_range(0..lines.len());
            let mut v = lines.clone();
            v.insert(k, lines[k]);
            v.join("\n")
        }
        3 if lines.len() > 1 => {
            // Swap two lines.
            let (a, b) = (
                rng.random_range(0..lines.len()),
                rng.random_range(0..lines.len()),
            );
            let mut v = lines.clone();
            v.swap(a, b);
            v.join("\n")
        }
        4 => {
            // Truncate at a character boundary.
            let mut cut = rng.random_range(0..=text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        }
        _ => {
            // Insert random printable characters.
            let mut cut = rng.random_range(0..=text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let junk: String = (0..rng.random_range(1..6))
                .map(|_| rng.random_range(b' '..=b'~') as char)
                .collect();
            format!("{}{}{}", &text[..cut], junk, &text[cut..])
        }
    }
}
