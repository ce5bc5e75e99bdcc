//! The scenario file format: reading, units, defaults and validation into a typed [`Scenario`].
//!
//! Two stages, as ripgrep's low-level and high-level arguments: [`raw`] reads the TOML into
//! `Raw*` shapes (types checked, units parsed, unknown keys rejected, every position kept),
//! then [`validate`] checks what spans several fields (references, shares, bounds) and builds
//! the typed scenario. Both stages collect every problem; nothing stops at the first.
//!
//! It must not know about the event loop: a scenario is a description, not a simulation.

mod autoscaling;
mod aws_policies;
mod closed_loop;
mod csv_file;
mod diagnostics;
mod empirical;
mod grid;
mod kubernetes;
mod lifecycle;
mod llm;
mod market;
mod rates;
mod raw;
mod reader;
mod slo;
pub mod spec;
mod spot;
#[cfg(test)]
mod tests;
mod topology;
mod trace;
mod units;
mod validate;
mod variants;

use std::path::{Path, PathBuf};

pub use diagnostics::{terminal_safe, Diagnostic, ScenarioError};
pub use grid::{Grid, GridError};
pub use trace::TraceSpec;
pub use variants::{ScenarioSet, Variant, BASE_NAME};

use crate::engine::SimDuration;
use crate::gates::SloSpec;
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec};
use crate::model::fleet::{FaultSpec, InstanceType, OnTimeout, PoolSpec, ServiceTime};
use crate::model::traffic::backoff::ClientRetry;
use crate::model::traffic::{ArrivalProcess, Population, RateProfile};

/// A validated scenario: every reference resolved, every default filled, every unit converted.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Name, used for the output folder.
    pub name: String,
    /// The file it was read from (for messages; relative paths inside it resolve from its folder).
    pub file: PathBuf,
    /// How long to simulate.
    pub duration: SimDuration,
    /// Requests arriving before this are left out of latency statistics (they are still counted).
    pub warmup: SimDuration,
    /// Master seed of the random streams. Default 1.
    pub seed: u64,
    /// A request not answered this long after it arrived fails as timed out. `None`: no timeout.
    pub timeout: Option<SimDuration>,
    /// What a server does with work whose client timed out. Default: keep serving.
    pub on_timeout: OnTimeout,
    /// Width of a timeline window. Default 10 s.
    pub window: SimDuration,
    /// The arrival rate over time.
    pub traffic: RateProfile,
    /// `[traffic] trace`: arrivals replayed from a trace file instead of drawn from `traffic`
    /// (which then holds the replay's mean rate).
    pub trace: Option<TraceSpec>,
    /// How arrivals are spaced. Default: Poisson.
    pub arrival_process: ArrivalProcess,
    /// Request classes; shares sum to 1.
    pub classes: Vec<RequestClass>,
    /// Instance types.
    pub instance_types: Vec<InstanceType>,
    /// Server pools.
    pub pools: Vec<PoolSpec>,
    /// Target groups: pools behind one balancer each. Classes that name a pool directly get a
    /// group of that pool alone, named after it.
    pub target_groups: Vec<TargetGroupSpec>,
    /// Routes, each to a target group; every class is served through one.
    pub routes: Vec<RouteSpec>,
    /// Instances that fail during the run.
    pub faults: Vec<FaultSpec>,
    /// Windows in which launches of a type fail with insufficient capacity.
    pub capacity_shortages: Vec<crate::model::market::interruptions::CapacityShortage>,
    /// Clients' retries (`[client] retry`); `None`: clients do not retry.
    pub client_retry: Option<ClientRetry>,
    /// Who sends the requests (`[traffic] users`, `networks`; with a closed loop, its users).
    pub population: Population,
    /// `[traffic] closed_loop`: N concurrent users, each sending its next request when the
    /// previous one ends and a think time has passed; `None`: open-loop arrivals by `traffic`.
    pub closed_loop: Option<crate::model::traffic::sessions::ClosedLoop>,
    /// The service-level objectives `fleetsim check` judges the run against (`[slo]`); `None`:
    /// none. The run reads only its `latency_target` (which requests count as good).
    pub slo: Option<SloSpec>,
    /// How instances and balancers are billed (`[billing]`; default per second, 60 s minimum,
    /// no balancer cost).
    pub billing: crate::model::market::billing::BillingSpec,
    /// Regions, places, global DNS and outages (`[[region]]` and the tables that need it);
    /// `None`: one anonymous region, as before regions existed.
    pub topology: Option<crate::model::topology::Topology>,
}

/// A kind of request: its share of traffic, where it goes and how long it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestClass {
    /// Name used in results.
    pub name: String,
    /// Fraction of arrivals of this class.
    pub share: f64,
    /// Index of the route that carries it (and so of its target group).
    pub route: usize,
    /// Service time on each instance type (indexed like `Scenario::instance_types`), with the
    /// type's speed already applied (unused for a token-based class).
    pub service_by_type: Vec<ServiceTime>,
    /// Its input and output token distributions: a token-based (LLM) class, served by the LLM
    /// profiles of its instance types; `None`: served by `service_by_type`.
    pub tokens: Option<crate::model::fleet::llm::TokenSpec>,
}

impl Scenario {
    /// Reads and validates the scenario file at `path`. A file with `[[variant]]` tables is an
    /// error here (read it with [`ScenarioSet::load`]): running only its base would silently
    /// drop the variants.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::parse(&read_file(path)?, path)
    }

    /// Validates scenario text; `path` names it in messages and anchors relative data paths.
    /// Text with `[[variant]]` tables is an error, as in [`Scenario::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        ScenarioSet::parse(text, path)?.into_single(path)
    }

    /// The number of server slots in all pools.
    pub fn total_slots(&self) -> u64 {
        self.pools
            .iter()
            .map(|p| p.instances as u64 * self.instance_types[p.instance_type].concurrency as u64)
            .sum()
    }
}

/// The largest scenario file read [bytes]. A scenario is a description (a few kilobytes; its
/// data go in trace and CSV files); validation holds the parsed tree, several times the text,
/// so a guard keeps `fleetsim validate /dev/zero` from filling the memory.
pub const MAX_SCENARIO_BYTES: u64 = 64 * 1024 * 1024;

/// The text of the scenario file at `path`: a specific, located error for a path that is
/// missing or a folder, an empty file, a file too large, and a file that is not UTF-8 (at the
/// line and column of the first bad byte).
fn read_file(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let fail = |position: Option<(usize, usize)>, message: String, help: String| ScenarioError {
        file: path.to_path_buf(),
        diagnostics: vec![Diagnostic {
            path: String::new(),
            position,
            message,
            help: Some(help),
        }],
    };
    const EXAMPLE: &str = "scenario files are TOML, such as scenarios/viral_spike_100x.toml";
    let cannot = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => fail(
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
            None,
            "cannot read the scenario file: permission denied".into(),
            "check the file's permissions (fleetsim only reads it)".into(),
        ),
        _ => fail(
            None,
            format!("cannot read the scenario file: {e}"),
            format!("check the path; {EXAMPLE}"),
        ),
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        let inside = toml_files_in(path);
        return Err(fail(
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
        .map_err(cannot)?;
    if bytes.len() as u64 > max {
        return Err(fail(
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
        ));
    }
    if bytes.is_empty() {
        return Err(fail(
            Some((1, 1)),
            "the file is empty (0 bytes)".into(),
            format!("a scenario needs at least name, duration, [traffic], [[instance_type]], [[pool]] and [[class]]: start from an example; {EXAMPLE}"),
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(fail(
            Some((1, 1)),
            "the file is UTF-16 text (it starts with a UTF-16 byte-order mark), and TOML files are UTF-8".into(),
            "save it again as UTF-8 (in most editors: Save As, Encoding: UTF-8)".into(),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let err = e.utf8_error();
        let at = err.valid_up_to();
        // The text before the bad byte is valid: it gives the line and column.
        let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let position = diagnostics::LineIndex::new(before).position(at);
        let message = match err.error_len() {
            Some(n) => {
                let shown: Vec<String> =
                    bytes[at..at + n].iter().map(|b| format!("0x{b:02X}")).collect();
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
            Some(position),
            message,
            "TOML files are UTF-8: save the file as UTF-8 (a lone byte such as 0xE9 is usually Latin-1 or Windows-1252 text, é here)".into(),
        )
    })
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
    let near = reader::closest(name, &candidates)?;
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

/// Stages one and two over one parsed document: the base, or a variant merged onto it. `None`
/// if the reader recorded any problem.
fn from_document(
    reader: &mut reader::Reader<'_>,
    doc: &toml_span::Value<'_>,
    path: &Path,
) -> Option<Scenario> {
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let scenario =
        raw::read(reader, doc, base_dir).and_then(|raw| validate::validate(reader, raw, path));
    scenario.filter(|_| !reader.has_errors())
}
