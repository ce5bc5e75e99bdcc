//! The fitted profile: the coefficients as a TOML table a scenario can include, written
//! atomically, and read back.
//!
//! ```toml
//! # fleetsim calibrate scenarios/data/vllm_runs/RTXPRO6000_Llama-3.1-8B/requests.jsonl --model llama-3.1-8b --gpu rtx-pro-6000
//! [coefficients]
//! compute_efficiency = 0.468
//! memory_efficiency = 0.823
//! overhead_per_step = "0us"
//! overhead_per_layer = "38.4us"
//! allreduce_latency = "140us"
//! allreduce_efficiency = 0.7
//! ```
//!
//! Deterministic text: efficiencies with at most four decimals, durations in microseconds with
//! at most three (the scenario format's duration syntax, `docs/scenario-format.md`: a number
//! then `us`), trailing zeros dropped. Reading a profile back and writing it again gives the
//! same bytes.
//!
//! The file is written to a temporary file beside the target, then renamed over it: a reader
//! sees the old profile or the whole new one. (`report::atomic` does the same for result
//! files, but `calibrate` may not use `report`; the dozen lines are repeated here rather than
//! moved down a layer that owns something else.)

use std::io::Write as _;
use std::path::Path;

use crate::model::llm::config::Coefficients;

/// The profile's text: `comments` (each line gets `# `), then the `[coefficients]` table.
pub fn profile_toml(co: &Coefficients, comments: &[String]) -> String {
    let mut out = String::new();
    for c in comments {
        for line in c.lines() {
            out.push_str(&format!("# {line}\n"));
        }
    }
    out.push_str("[coefficients]\n");
    out.push_str(&format!(
        "compute_efficiency = {}\n",
        decimals(co.compute_efficiency, 4)
    ));
    out.push_str(&format!(
        "memory_efficiency = {}\n",
        decimals(co.memory_efficiency, 4)
    ));
    out.push_str(&format!(
        "overhead_per_step = \"{}us\"\n",
        trimmed(co.overhead_per_step * 1e6, 3)
    ));
    out.push_str(&format!(
        "overhead_per_layer = \"{}us\"\n",
        trimmed(co.overhead_per_layer * 1e6, 3)
    ));
    out.push_str(&format!(
        "allreduce_latency = \"{}us\"\n",
        trimmed(co.allreduce_latency * 1e6, 3)
    ));
    out.push_str(&format!(
        "allreduce_efficiency = {}\n",
        decimals(co.allreduce_efficiency, 4)
    ));
    out
}

/// `v` with at most `places` decimals, trailing zeros dropped but one decimal kept (a TOML
/// float: `0.7`, `1.0`).
fn decimals(v: f64, places: usize) -> String {
    let t = trimmed(v, places);
    if t.contains('.') {
        t
    } else {
        format!("{t}.0")
    }
}

/// `v` with at most `places` decimals, trailing zeros and a trailing point dropped (`140`,
/// `38.4`); never `-0`.
fn trimmed(v: f64, places: usize) -> String {
    let s = format!("{v:.places$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

pub use crate::model::llm::profile::{read_profile, ProfileError};

/// Writes `bytes` to `target` atomically: a temporary file beside it, synced, then renamed
/// over it. Nothing is left behind on an error.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = target.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path has no file name",
        )
    })?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = target.with_file_name(temp_name);
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::llm::gpu::InterconnectKind;

    #[test]
    fn the_default_profile_reads_as_the_brief_shows_it() {
        let text = profile_toml(
            &Coefficients::defaults(InterconnectKind::Pcie),
            &["fleetsim calibrate run.jsonl --model llama-3.1-8b --gpu rtx-pro-6000".into()],
        );
        assert_eq!(
            text,
            "# fleetsim calibrate run.jsonl --model llama-3.1-8b --gpu rtx-pro-6000\n\
             [coefficients]\n\
             compute_efficiency = 0.468\n\
             memory_efficiency = 0.823\n\
             overhead_per_step = \"0us\"\n\
             overhead_per_layer = \"38.4us\"\n\
             allreduce_latency = \"140us\"\n\
             allreduce_efficiency = 0.7\n"
        );
    }

    #[test]
    fn a_profile_round_trips_through_its_text() {
        let fitted = Coefficients {
            compute_efficiency: 0.512_345_678,
            memory_efficiency: 1.0,
            overhead_per_step: 1.5e-3,
            overhead_per_layer: 27.123_456e-6,
            allreduce_latency: 10e-6,
            allreduce_efficiency: 0.7,
        };
        let text = profile_toml(&fitted, &[]);
        let read = read_profile(&text).unwrap();
        // Rounded to the written places, no further.
        assert!((read.compute_efficiency - 0.5123).abs() < 1e-12);
        assert_eq!(read.memory_efficiency, 1.0);
        assert!((read.overhead_per_step - 1.5e-3).abs() < 1e-15);
        assert!((read.overhead_per_layer - 27.123e-6).abs() < 1e-15);
        assert!((read.allreduce_latency - 10e-6).abs() < 1e-15);
        // Written again: the same bytes.
        assert_eq!(profile_toml(&read, &[]), text);
    }

    #[test]
    fn a_broken_profile_names_the_key() {
        assert_eq!(
            read_profile("[coefficients]\ncompute_efficiency = 0.5\n"),
            Err(ProfileError::Missing("memory_efficiency"))
        );
        let text = profile_toml(&Coefficients::defaults(InterconnectKind::Pcie), &[])
            .replace("\"38.4us\"", "\"38.4\"");
        assert!(matches!(
            read_profile(&text),
            Err(ProfileError::Bad {
                key: "overhead_per_layer",
                ..
            })
        ));
    }

    #[test]
    fn the_profile_is_written_whole_and_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("profile.toml");
        write_atomic(&target, b"old").unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        assert!(write_atomic(&dir.path().join("missing/profile.toml"), b"x").is_err());
    }
}
