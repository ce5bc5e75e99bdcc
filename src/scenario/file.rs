//! The scenario file itself: read whole, within the memory budget, with a located error for a
//! path that is missing or a folder, an empty file, a file too large, and a file that is not
//! UTF-8.

use std::path::Path;

use super::diagnostics::{self, Diagnostic, ScenarioError};
use super::reader::closest;

/// The largest scenario file read \[bytes\]. A scenario is a description (a few kilobytes; its
/// data go in trace and CSV files); validation holds the parsed tree, several times the text,
/// so a guard keeps `fleetsim validate /dev/zero` from filling the memory.
pub const MAX_SCENARIO_BYTES: u64 = 64 * 1024 * 1024;

const EXAMPLE: &str = "scenario files are TOML, such as scenarios/viral_spike_100x.toml";

/// The error of the file at `path`: one diagnostic, at `position` if known.
fn fail(
    path: &Path,
    position: Option<(usize, usize)>,
    message: String,
    help: String,
) -> ScenarioError {
    ScenarioError {
        file: path.to_path_buf(),
        diagnostics: vec![Diagnostic {
            path: String::new(),
            position,
            message,
            help: Some(help),
        }],
    }
}

/// The text of the scenario file at `path`: a specific, located error for a path that is
/// missing or a folder, an empty file, a file too large, and a file that is not UTF-8 (at the
/// line and column of the first bad byte).
pub fn read_file(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, e))?;
    if meta.is_dir() {
        let inside = toml_files_in(path);
        return Err(fail(
            path,
            None,
            "this is a folder, not a scenario file".into(),
            match inside {
                Some(files) => format!("name one of the scenario files in it: {files}"),
                None => format!("name a scenario file; {EXAMPLE}"),
            },
        ));
    }
    // The smaller of the format's bound and the memory budget's share for a file read whole
    // (a device or a pipe given as the scenario is cut off, not read until memory runs out).
    let budget = crate::limits::MemoryBudget::current();
    let max = MAX_SCENARIO_BYTES.min(budget.max_file_bytes());
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| cannot_read(path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_large(path, max, budget));
    }
    if bytes.is_empty() {
        return Err(fail(
            path,
            Some((1, 1)),
            "the file is empty (0 bytes)".into(),
            format!("a scenario needs at least name, duration, [traffic], [[instance_type]], [[pool]] and [[class]]: start from an example; {EXAMPLE}"),
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(fail(
            path,
            Some((1, 1)),
            "the file is UTF-16 text (it starts with a UTF-16 byte-order mark), and TOML files are UTF-8".into(),
            "save it again as UTF-8 (in most editors: Save As, Encoding: UTF-8)".into(),
        ));
    }
    String::from_utf8(bytes).map_err(|e| not_utf8(path, &e))
}

/// Why the file at `path` cannot be read: missing (with a likely typo's fix), not permitted,
/// or another I/O error.
fn cannot_read(path: &Path, e: std::io::Error) -> ScenarioError {
    match e.kind() {
        std::io::ErrorKind::NotFound => fail(
            path,
            None,
            "cannot read the scenario file: there is no such file".into(),
            match similar_file(path) {
                Some(near) => format!(
                    "did you mean \"{}\"?",
                    diagnostics::shorten(&near, diagnostics::FIELD_CHARS / 2)
                ),
                None => format!(
                    "check the path (relative paths start from the current folder); {EXAMPLE}"
                ),
            },
        ),
        std::io::ErrorKind::PermissionDenied => fail(
            path,
            None,
            "cannot read the scenario file: permission denied".into(),
            "check the file's permissions (fleetsim only reads it)".into(),
        ),
        _ => fail(
            path,
            None,
            format!("cannot read the scenario file: {e}"),
            format!("check the path; {EXAMPLE}"),
        ),
    }
}

/// A file larger than `max` bytes, the format's bound or the memory `budget`'s share.
fn too_large(path: &Path, max: u64, budget: &crate::limits::MemoryBudget) -> ScenarioError {
    fail(
        path,
        None,
        if max < MAX_SCENARIO_BYTES {
            format!(
                "the file is larger than {}, the most a file read whole may take (an eighth of {})",
                crate::limits::format_bytes(max),
                budget.describe()
            )
        } else {
            format!(
                "the file is larger than {} MiB, more than any scenario",
                MAX_SCENARIO_BYTES >> 20
            )
        },
        "check the path: a scenario describes a fleet in a few kilobytes, and large data go in the files it names, such as [traffic] trace = { file = ... }".into(),
    )
}

/// A file that is not UTF-8, located at its first bad byte.
fn not_utf8(path: &Path, e: &std::string::FromUtf8Error) -> ScenarioError {
    let bytes = e.as_bytes();
    let err = e.utf8_error();
    let at = err.valid_up_to();
    // The text before the bad byte is valid: it gives the line and column.
    let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
    let position = diagnostics::LineIndex::new(before).position(at);
    let message = match err.error_len() {
        Some(n) => {
            let shown: Vec<String> = bytes[at..at + n]
                .iter()
                .map(|b| format!("0x{b:02X}"))
                .collect();
            format!(
                "the file is not UTF-8 text: byte {} at offset {at} (line {}, column {}) is not valid UTF-8",
                shown.join(" "),
                position.0,
                position.1
            )
        }
        None => format!(
            "the file is not UTF-8 text: it ends at offset {} in the middle of a character",
            bytes.len()
        ),
    };
    fail(
        path,
        Some(position),
        message,
        "TOML files are UTF-8: save the file as UTF-8 (a lone byte such as 0xE9 is usually Latin-1 or Windows-1252 text, é here)".into(),
    )
}

/// A file beside the missing `path` whose name is a likely typo of its name (as a "did you
/// mean" for keys), as a path written like `path`.
fn similar_file(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let names: Vec<String> = std::fs::read_dir(parent.unwrap_or(Path::new(".")))
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
    let near = closest(name, &candidates)?;
    Some(match parent {
        Some(p) => p.join(near).display().to_string(),
        None => near.to_string(),
    })
}

/// The `.toml` files in folder `dir`, sorted, listed as messages list names; `None` if there
/// are none or the folder cannot be read.
fn toml_files_in(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    if names.is_empty() {
        return None;
    }
    names.sort();
    Some(diagnostics::list(&names))
}
