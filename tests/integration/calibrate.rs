//! `fleetsim calibrate` on the command line (issue 16, item 6): a measured run that does not
//! read is named by file, line and field with a `help:` line and exit 2, before anything is
//! looked up; a good run reads, and reaches the model lookup.

use std::path::Path;
use std::process::{Command, Output};

fn fleetsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `args`, which must fail with exit 2, `message` in stderr's `error:` line and one
/// `help:` line after it.
fn fails_with(args: &[&str], message: &str) -> String {
    let out = fleetsim(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(message),
        "{args:?}: expected {message:?} in:\n{stderr}"
    );
    let helps = stderr.lines().filter(|l| l.starts_with("help: ")).count();
    assert_eq!(helps, 1, "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout after an error");
    stderr
}

#[test]
fn a_bad_run_is_named_by_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("requests.jsonl");
    std::fs::write(
        &run,
        "{\"input_toks\": 5, \"output_toks\": 3, \"queued_ts\": 1.0, \"first_token_ts\": 2.0, \"last_token_ts\": 3.0}\n\
         {\"input_toks\": 5, \"output_toks\": 3, \"queued_ts\": 1.5, \"first_token_ts\": 2.0, \"last_token_ts\": 1.0}\n",
    )
    .unwrap();
    let path = run.to_str().unwrap();
    fails_with(
        &[
            "calibrate",
            path,
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "h100",
        ],
        &format!("{path}:2: field `last_token_ts`: is earlier than `first_token_ts`"),
    );
    fails_with(
        &[
            "calibrate",
            "/nonexistent/run.jsonl",
            "--model",
            "m",
            "--gpu",
            "g",
        ],
        "/nonexistent/run.jsonl: cannot be read",
    );
    std::fs::write(&run, "").unwrap();
    fails_with(
        &["calibrate", path, "--model", "m", "--gpu", "g"],
        "holds no requests",
    );
}

#[test]
fn bad_flags_are_refused_before_the_run_is_read() {
    fails_with(
        &[
            "calibrate",
            "/nonexistent/run.jsonl",
            "--model",
            "m",
            "--gpu",
            "g",
            "--tp",
            "0",
        ],
        "--tp 0 is out of range",
    );
    fails_with(
        &[
            "calibrate",
            "/nonexistent/run.jsonl",
            "--model",
            "m",
            "--gpu",
            "g",
            "--request-rate",
            "0",
        ],
        "--request-rate 0 is out of range",
    );
}

/// The shipped run reads; the model catalog is the next step. LEAD: once `lookup_model`,
/// `lookup_gpu` and `replayer` are bound, replace this with the fit of the shipped run (exit 0,
/// both tables on stdout, the profile written to --out).
#[test]
fn a_good_run_reads_and_reaches_the_model_lookup() {
    let run = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/data/vllm_runs/RTXPRO6000_Llama-3.1-8B/requests.jsonl");
    fails_with(
        &[
            "calibrate",
            run.to_str().unwrap(),
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "rtx-pro-6000",
        ],
        "the model catalog (--model) is not available in this build yet",
    );
}
