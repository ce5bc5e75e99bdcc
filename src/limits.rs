//! The memory budget: how much memory this process may use, found once from the limits it lives
//! under, and how it is shared between the runs of a sweep and the files a scenario loads whole.
//!
//! The budget is the smallest of
//! - the address-space limit (`RLIMIT_AS`, `ulimit -v`) and the data-segment limit
//!   (`RLIMIT_DATA`, `ulimit -d`): above them an allocation fails and Rust aborts;
//! - the cgroup's memory limit (v2 `memory.max`, v1 `memory.limit_in_bytes`, of this process's
//!   cgroup and its ancestors): above it the kernel kills the process;
//! - the machine's physical memory: above it the machine swaps;
//!
//! or, given, `--max-memory` (which may lower the budget, or raise it above the physical
//! memory, but never above a limit the process would be killed or aborted at).
//!
//! Nothing in a result depends on the budget: a scenario that fits gives the same bytes
//! whatever it is. The budget only decides where a run that does not fit stops, with an error
//! that says so (`crate::world::memory_guard`), and how large a file may be loaded whole. It must not
//! know about the simulation's types: the world turns a run's share into caps on what it holds.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where a memory limit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetSource {
    /// `--max-memory`.
    Flag,
    /// `RLIMIT_AS` (`ulimit -v`).
    AddressSpace,
    /// `RLIMIT_DATA` (`ulimit -d`).
    DataSegment,
    /// The cgroup's memory limit.
    Cgroup,
    /// The machine's physical memory.
    PhysicalMemory,
    /// Nothing could be read: [`FALLBACK_BUDGET`].
    Fallback,
}

impl BudgetSource {
    /// How messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            BudgetSource::Flag => "--max-memory",
            BudgetSource::AddressSpace => "the address-space limit, ulimit -v",
            BudgetSource::DataSegment => "the data-segment limit, ulimit -d",
            BudgetSource::Cgroup => "the cgroup's memory limit",
            BudgetSource::PhysicalMemory => "the machine's physical memory",
            BudgetSource::Fallback => "a default: no limit could be read",
        }
    }
}

/// One limit found: its bytes and what sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Bytes.
    pub bytes: u64,
    /// What sets it.
    pub source: BudgetSource,
}

/// The budget when no limit can be read (no `libc`-visible limit, no `/proc`, no cgroup).
pub const FALLBACK_BUDGET: u64 = 4 << 30;

/// The smallest budget accepted: below it even the program's own code and a small run do not fit.
pub const MIN_BUDGET: u64 = 64 << 20;

/// What the process itself takes before any run: its code, libraries, the main thread's stack,
/// the scenario's small tables, the output buffers.
pub const BASE_RESERVE: u64 = 48 << 20;

/// What each worker thread takes beside its run's data: its stack and, where address space is
/// what is limited, the heap arena glibc reserves for it (64 MiB of address space on 64-bit
/// Linux, `HEAP_MAX_SIZE` in glibc's `malloc/arena.c`), mapped even if little of it is used.
pub fn thread_reserve(source: BudgetSource) -> u64 {
    match source {
        BudgetSource::AddressSpace => 72 << 20,
        _ => 8 << 20,
    }
}

/// The least memory a run may be given: a share below it means too many runs at once.
pub const MIN_RUN_SHARE: u64 = 8 << 20;

/// Of the budget, the fraction a file loaded whole may take (its text and its arrays): one
/// eighth, so that the runs keep most of it.
pub const FILE_SHARE_DIVISOR: u64 = 8;

/// The most replications of each run (`--replications`): the confidence interval's half-width
/// shrinks as 1/√n, so a thousand already give it to about 3 % of one run's spread, and every
/// replication keeps its summary in memory and writes its own folder.
pub const MAX_REPLICATIONS: u32 = 1000;

/// The most worker threads (`--threads`): each takes its share of the memory budget, and more
/// than the machine's cores only divide that share without running faster.
pub const MAX_THREADS: u32 = 256;

/// The most jobs (runs × grid points × replications) one sweep may plan: each keeps its summary
/// in memory until the sweep is summed up.
pub const MAX_JOBS: u64 = 20_000;

/// The memory this process may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryBudget {
    /// Bytes.
    pub bytes: u64,
    /// What sets it.
    pub source: BudgetSource,
    /// The highest `--max-memory` may go: the smallest limit the process would be killed or
    /// aborted at (`None`: only the physical memory bounds it).
    pub ceiling: Option<Limit>,
}

/// A budget that cannot be used: `--max-memory` above a hard limit or below the minimum, or too
/// many runs at once for their share.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}\nhelp: {help}")]
pub struct BudgetError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

static CURRENT: OnceLock<MemoryBudget> = OnceLock::new();

impl MemoryBudget {
    /// The budget from `limits` (as [`detect`] finds them) and `flag` (`--max-memory`, bytes).
    pub fn from_limits(limits: &[Limit], flag: Option<u64>) -> Result<MemoryBudget, BudgetError> {
        let hard = limits
            .iter()
            .filter(|l| l.source != BudgetSource::PhysicalMemory)
            .min_by_key(|l| l.bytes)
            .copied();
        let any = limits.iter().min_by_key(|l| l.bytes).copied();
        let budget = match flag {
            Some(bytes) => {
                if let Some(h) = hard.filter(|h| bytes > h.bytes) {
                    return Err(BudgetError {
                        message: format!(
                            "--max-memory {} is above the {} this process lives under ({})",
                            format_bytes(bytes),
                            format_bytes(h.bytes),
                            h.source.describe()
                        ),
                        help: format!(
                            "give at most --max-memory {}, or raise that limit first",
                            format_bytes(h.bytes)
                        ),
                    });
                }
                MemoryBudget {
                    bytes,
                    source: BudgetSource::Flag,
                    ceiling: hard,
                }
            }
            None => match any {
                Some(l) => MemoryBudget {
                    bytes: l.bytes,
                    source: l.source,
                    ceiling: hard,
                },
                None => MemoryBudget {
                    bytes: FALLBACK_BUDGET,
                    source: BudgetSource::Fallback,
                    ceiling: None,
                },
            },
        };
        if budget.bytes < MIN_BUDGET {
            return Err(BudgetError {
                message: format!(
                    "the memory budget is {} ({}), below the {} fleetsim needs",
                    format_bytes(budget.bytes),
                    budget.source.describe(),
                    format_bytes(MIN_BUDGET)
                ),
                help: format!(
                    "give fleetsim at least {} (--max-memory, ulimit -v, the container's memory limit)",
                    format_bytes(MIN_BUDGET)
                ),
            });
        }
        Ok(budget)
    }

    /// The process's budget: the one [`MemoryBudget::set_current`] set, else the one the
    /// limits found now give (read once).
    pub fn current() -> &'static MemoryBudget {
        CURRENT.get_or_init(|| {
            let limits = detect();
            MemoryBudget::from_limits(&limits, None).unwrap_or_else(|_| {
                // Limits below the minimum: use them as they are (a run then stops early, with
                // its error, rather than never starting).
                let smallest = limits.iter().min_by_key(|l| l.bytes).copied();
                MemoryBudget {
                    bytes: smallest.map_or(FALLBACK_BUDGET, |l| l.bytes),
                    source: smallest.map_or(BudgetSource::Fallback, |l| l.source),
                    ceiling: smallest,
                }
            })
        })
    }

    /// Makes `budget` the process's (the command line's `--max-memory`); false if a budget was
    /// already in use, which then stays.
    pub fn set_current(budget: MemoryBudget) -> bool {
        CURRENT.set(budget).is_ok()
    }

    /// "1.0 GiB (--max-memory)".
    pub fn describe(&self) -> String {
        format!("{} ({})", format_bytes(self.bytes), self.source.describe())
    }

    /// Each run's share when `concurrent` runs go at once (one per worker thread), after the
    /// process's own reserve and `loaded` bytes already taken by the scenario's files.
    pub fn run_share(&self, concurrent: usize, loaded: u64) -> Result<RunShare, BudgetError> {
        let concurrent = concurrent.max(1) as u64;
        let reserve = BASE_RESERVE
            .saturating_add(concurrent.saturating_mul(thread_reserve(self.source)))
            .saturating_add(loaded);
        let share = self.bytes.saturating_sub(reserve) / concurrent;
        if share < MIN_RUN_SHARE {
            let fit = (self.bytes.saturating_sub(BASE_RESERVE + loaded)
                / (MIN_RUN_SHARE + thread_reserve(self.source)))
            .max(1);
            return Err(BudgetError {
                message: format!(
                    "{} at once {} not fit in the memory budget of {}: each would have {} (at least {} is needed){}",
                    if concurrent == 1 { "one run".to_string() } else { format!("{concurrent} runs") },
                    if concurrent == 1 { "does" } else { "do" },
                    self.describe(),
                    format_bytes(share),
                    format_bytes(MIN_RUN_SHARE),
                    if loaded > 0 {
                        format!("; the scenario's files take {}", format_bytes(loaded))
                    } else {
                        String::new()
                    }
                ),
                help: if fit > 1 && fit < concurrent {
                    format!("run at most {fit} at once (--threads {fit}), or raise the budget with --max-memory")
                } else {
                    "raise the budget (--max-memory, ulimit -v, the container's memory limit), or run one at a time (--threads 1)".into()
                },
            });
        }
        Ok(RunShare {
            bytes: share,
            origin: format!(
                "{} of the memory budget of {}{}",
                format_bytes(share),
                self.describe(),
                if concurrent > 1 {
                    format!(", shared by {concurrent} runs at once")
                } else {
                    String::new()
                }
            ),
            raise: self.raise_hint(),
        })
    }

    /// How the budget could be raised, for a `help:` line.
    fn raise_hint(&self) -> String {
        match (self.source, self.ceiling) {
            (BudgetSource::Flag, Some(c)) if c.bytes > self.bytes => format!(
                "raise --max-memory (up to {}, the {})",
                format_bytes(c.bytes),
                c.source.describe()
            ),
            (BudgetSource::Flag, _) => "raise --max-memory".into(),
            (BudgetSource::PhysicalMemory, _) | (BudgetSource::Fallback, _) => {
                "raise the budget with --max-memory (beyond the physical memory, the machine swaps)"
                    .into()
            }
            (s, _) => format!("raise {} (or lower --threads)", s.describe()),
        }
    }

    /// The most bytes a file loaded whole (a trace, a CSV data file) may have.
    pub fn max_file_bytes(&self) -> u64 {
        self.bytes / FILE_SHARE_DIVISOR
    }

    /// The most records of `bytes_per_record` bytes (in memory) a file loaded whole may hold:
    /// its arrays then take at most [`MemoryBudget::max_file_bytes`], doubling included.
    pub fn max_records(&self, bytes_per_record: u64) -> u64 {
        self.max_file_bytes() / (2 * bytes_per_record.max(1))
    }
}

/// A reader that fails, instead of going on, once more than `max` bytes have been read: for
/// files read whole, whose size a device or a pipe does not tell beforehand.
pub struct CappedReader<R> {
    inner: R,
    left: u64,
    max: u64,
}

impl<R: std::io::Read> CappedReader<R> {
    /// Reads `inner`, at most `max` bytes.
    pub fn new(inner: R, max: u64) -> Self {
        CappedReader {
            inner,
            left: max,
            max,
        }
    }
}

impl<R: std::io::Read> std::io::Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // One byte past the cap tells a file of exactly `max` bytes from a longer one.
        let room = usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX);
        let n = buf.len().min(room);
        let read = self.inner.read(&mut buf[..n])?;
        if read as u64 > self.left {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                too_large(None, self.max),
            ));
        }
        self.left -= read as u64;
        Ok(read)
    }
}

/// "is larger than 256.0 MiB, the most a file read whole may take (an eighth of the memory
/// budget …)".
fn too_large(size: Option<u64>, max: u64) -> String {
    let budget = MemoryBudget::current();
    format!(
        "{}, more than the {} a file read whole may take (an eighth of the memory budget of {})",
        match size {
            Some(s) => format!("is {}", format_bytes(s)),
            None => format!("is larger than {}", format_bytes(max)),
        },
        format_bytes(max),
        budget.describe()
    )
}

/// Opens the file at `path` for reading whole, refusing it if it is larger than the budget's
/// [`MemoryBudget::max_file_bytes`] (by its size first; a device or a pipe while it is read).
/// The error is a sentence about the file, without its name.
pub fn open_capped(path: &Path) -> Result<CappedReader<std::fs::File>, String> {
    let max = MemoryBudget::current().max_file_bytes();
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if let Ok(meta) = file.metadata() {
        if meta.is_file() && meta.len() > max {
            return Err(too_large(Some(meta.len()), max));
        }
    }
    Ok(CappedReader::new(file, max))
}

/// The text of the file at `path`, read whole within the budget (see [`open_capped`]).
pub fn read_capped_to_string(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let mut text = String::new();
    open_capped(path)?
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    Ok(text)
}

/// A run's share of the budget, and where it comes from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunShare {
    /// Bytes the run may hold.
    pub bytes: u64,
    /// "680 MiB of the memory budget of 1.0 GiB (--max-memory)".
    pub origin: String,
    /// How to raise it, for a `help:` line.
    pub raise: String,
}

impl RunShare {
    /// The share of one run alone in the process's budget (what `fleetsim::run` uses).
    pub fn whole_process() -> RunShare {
        let budget = MemoryBudget::current();
        budget.run_share(1, 0).unwrap_or_else(|_| RunShare {
            bytes: budget.bytes,
            origin: budget.describe(),
            raise: budget.raise_hint(),
        })
    }
}

/// Every limit this process lives under that can be read (see the module doc).
pub fn detect() -> Vec<Limit> {
    let mut limits = Vec::new();
    #[cfg(unix)]
    {
        for (resource, source) in [
            (libc::RLIMIT_AS, BudgetSource::AddressSpace),
            (libc::RLIMIT_DATA, BudgetSource::DataSegment),
        ] {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit writes one `rlimit` through a valid pointer and reads nothing
            // else. (Called here rather than in a helper: the resource's integer type differs
            // between libcs.)
            let ok = unsafe { libc::getrlimit(resource, &mut lim) } == 0;
            if ok && lim.rlim_cur != libc::RLIM_INFINITY {
                // `rlim_t` is u64 on 64-bit Linux, narrower elsewhere.
                #[allow(clippy::useless_conversion)]
                limits.push(Limit {
                    bytes: u64::from(lim.rlim_cur),
                    source,
                });
            }
        }
        if let Some(bytes) = physical_memory() {
            limits.push(Limit {
                bytes,
                source: BudgetSource::PhysicalMemory,
            });
        }
    }
    if let Some(bytes) = cgroup_limit(Path::new("/proc/self/cgroup"), Path::new("/sys/fs/cgroup")) {
        limits.push(Limit {
            bytes,
            source: BudgetSource::Cgroup,
        });
    }
    limits
}

/// Physical memory: pages × page size.
#[cfg(unix)]
fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf only reads a system value.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages > 0 && size > 0).then(|| (pages as u64).saturating_mul(size as u64))
}

/// Values at or above this in a cgroup v1 limit mean "no limit" (the kernel writes
/// `PAGE_COUNTER_MAX` pages, about 2^63).
const CGROUP_V1_UNLIMITED: u64 = 1 << 62;

/// The smallest memory limit of this process's cgroup and its ancestors, v2 (`memory.max`) or v1
/// (`memory.limit_in_bytes`), read from `proc_cgroup` (`/proc/self/cgroup`) under `root`
/// (`/sys/fs/cgroup`). `None` without a readable finite one.
pub fn cgroup_limit(proc_cgroup: &Path, root: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(proc_cgroup).ok()?;
    let mut found: Option<u64> = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let (dir, file) = if controllers.is_empty() {
            (root.to_path_buf(), "memory.max")
        } else if controllers.split(',').any(|c| c == "memory") {
            (root.join("memory"), "memory.limit_in_bytes")
        } else {
            continue;
        };
        let mut at: PathBuf = dir.join(path.trim_start_matches('/'));
        loop {
            if let Some(v) = read_limit(&at.join(file)) {
                found = Some(found.map_or(v, |f| f.min(v)));
            }
            if at == dir || !at.pop() {
                break;
            }
        }
    }
    found
}

fn read_limit(file: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let v: u64 = text.trim().parse().ok()?;
    (v < CGROUP_V1_UNLIMITED).then_some(v)
}

/// A size (`--max-memory`) that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// No number where one was expected.
    #[error("\"{text}\" is not a size: write it such as 512M, 4G or 1.5GiB")]
    NotASize {
        /// The text given.
        text: String,
    },
    /// A unit that is not one of K, M, G, T (with or without `B`, `iB`).
    #[error("unknown unit \"{unit}\" in \"{text}\": use K, M, G or T (powers of 1024)")]
    UnknownUnit {
        /// The unit, lowercased.
        unit: String,
        /// The text given.
        text: String,
    },
    /// More bytes than a `u64` holds.
    #[error("\"{text}\" is too large")]
    TooLarge {
        /// The text given.
        text: String,
    },
}

/// Reads a size such as `512M`, `4G`, `1.5GiB` or `2000000000` (bytes). K, M, G and T are
/// powers of 1024 (`KiB`, `MB` and `MiB` alike).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let s = text.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number.parse().map_err(|_| SizeError::NotASize {
        text: text.to_string(),
    })?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(SizeError::UnknownUnit {
                unit: other.to_string(),
                text: text.to_string(),
            })
        }
    };
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(SizeError::TooLarge {
            text: text.to_string(),
        });
    }
    Ok(bytes as u64)
}

/// `1536` → "1.5 KiB"; whole bytes below 1 KiB.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A count with thousands separators: `2796202` → "2,796,202".
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn limit(bytes: u64, source: BudgetSource) -> Limit {
        Limit { bytes, source }
    }

    #[test]
    fn the_budget_is_the_smallest_limit() {
        let limits = [
            limit(16 * GIB, BudgetSource::PhysicalMemory),
            limit(2 * GIB, BudgetSource::AddressSpace),
            limit(3 * GIB, BudgetSource::Cgroup),
        ];
        let b = MemoryBudget::from_limits(&limits, None).unwrap();
        assert_eq!((b.bytes, b.source), (2 * GIB, BudgetSource::AddressSpace));
        assert_eq!(b.ceiling, Some(limits[1]));
        let none = MemoryBudget::from_limits(&[], None).unwrap();
        assert_eq!(
            (none.bytes, none.source),
            (FALLBACK_BUDGET, BudgetSource::Fallback)
        );
    }

    #[test]
    fn the_flag_may_exceed_physical_memory_but_not_a_hard_limit() {
        let limits = [
            limit(16 * GIB, BudgetSource::PhysicalMemory),
            limit(3 * GIB, BudgetSource::Cgroup),
        ];
        let b = MemoryBudget::from_limits(&limits, Some(GIB)).unwrap();
        assert_eq!((b.bytes, b.source), (GIB, BudgetSource::Flag));
        let err = MemoryBudget::from_limits(&limits, Some(4 * GIB)).unwrap_err();
        assert!(err.message.contains("cgroup"), "{err}");
        assert!(err.help.contains("3.0 GiB"), "{err}");
        let physical = [limit(16 * GIB, BudgetSource::PhysicalMemory)];
        assert_eq!(
            MemoryBudget::from_limits(&physical, Some(32 * GIB))
                .unwrap()
                .bytes,
            32 * GIB
        );
        assert!(MemoryBudget::from_limits(&physical, Some(1 << 20)).is_err());
    }

    #[test]
    fn runs_at_once_share_what_the_reserve_leaves() {
        let b = MemoryBudget::from_limits(&[], Some(GIB)).unwrap();
        let one = b.run_share(1, 0).unwrap();
        assert_eq!(
            one.bytes,
            GIB - BASE_RESERVE - thread_reserve(BudgetSource::Flag)
        );
        let two = b.run_share(2, 100 << 20).unwrap();
        assert_eq!(
            two.bytes,
            (GIB - BASE_RESERVE - 2 * thread_reserve(BudgetSource::Flag) - (100 << 20)) / 2
        );
        assert!(two.origin.contains("shared by 2 runs"), "{}", two.origin);
        let err = b.run_share(1000, 0).unwrap_err();
        assert!(err.help.contains("--threads"), "{err}");
    }

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2000"), Ok(2000));
        assert_eq!(parse_size("4 g"), Ok(4 << 30));
        assert!(matches!(
            parse_size("lots"),
            Err(SizeError::NotASize { .. })
        ));
        assert!(parse_size("4X")
            .unwrap_err()
            .to_string()
            .contains("unknown unit"));
        assert!(matches!(
            parse_size("1e30T"),
            Err(SizeError::UnknownUnit { .. })
        ));
        assert_eq!(
            parse_size("99999999999T").unwrap_err().to_string(),
            "\"99999999999T\" is too large"
        );
        assert_eq!(format_bytes(3 << 29), "1.5 GiB");
        assert_eq!(format_bytes(12), "12 B");
        assert_eq!(format_count(2_796_202), "2,796,202");
        assert_eq!(format_count(999), "999");
    }

    #[test]
    fn a_capped_reader_refuses_what_is_longer_than_its_cap() {
        use std::io::Read as _;
        let mut exact = String::new();
        CappedReader::new(&b"0123456789"[..], 10)
            .read_to_string(&mut exact)
            .unwrap();
        assert_eq!(exact, "0123456789");
        // An endless source (as /dev/zero) stops at the cap.
        let err = CappedReader::new(std::io::repeat(0), 1000)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("larger than 1000 B"), "{err}");
    }

    #[test]
    fn cgroup_limits_are_the_smallest_of_the_hierarchy() {
        let dir = std::env::temp_dir().join(format!("fleetsim-cgroup-{}", std::process::id()));
        let v2 = dir.join("unified");
        std::fs::create_dir_all(v2.join("a/b")).unwrap();
        std::fs::write(v2.join("a/memory.max"), "1073741824\n").unwrap();
        std::fs::write(v2.join("a/b/memory.max"), "max\n").unwrap();
        let proc_file = dir.join("cgroup");
        std::fs::write(&proc_file, "0::/a/b\n").unwrap();
        assert_eq!(cgroup_limit(&proc_file, &v2), Some(GIB));
        // v1: the memory controller's hierarchy; the kernel's "unlimited" is ignored.
        let v1 = dir.join("v1");
        std::fs::create_dir_all(v1.join("memory/x")).unwrap();
        std::fs::write(
            v1.join("memory/x/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        std::fs::write(v1.join("memory/memory.limit_in_bytes"), "536870912\n").unwrap();
        std::fs::write(&proc_file, "4:memory:/x\n3:cpu:/\n").unwrap();
        assert_eq!(cgroup_limit(&proc_file, &v1), Some(512 << 20));
        std::fs::write(&proc_file, "3:cpu:/\n").unwrap();
        assert_eq!(cgroup_limit(&proc_file, &v1), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
