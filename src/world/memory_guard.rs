//! The memory guard of one run (issue 14, item 7): what it may hold, and the error that stops it when it would hold
//! more.
//!
//! What a run holds grows two ways. With the scenario's size: instance slots, balancer targets,
//! closed-loop users, per-window region counts, LLM batches, the timers every one of them keeps
//! pending. That is its *footprint*, computed from the scenario before the run (from `size_of`
//! of the real types): a footprint above the run's share of the memory budget stops it before
//! it starts. And with load: requests held (in flight, queued, waiting to retry) in the request
//! slab, with their wait-queue entries, and events pending in the event queue (a held request's
//! timers, deadlines that outlive their request). Those get caps from what the footprint leaves
//! of the share: two thirds for requests, one third for events. The slab and the queue never
//! grow past their caps, and grow by `try_reserve`; a run that would is stopped with a
//! [`GuardStop`] naming the cap, what reached it, where the requests were, when, and what to
//! change.
//!
//! The caps cost nothing per event: the slab and the queue check them only when they would
//! reallocate. Nothing here changes what a run that fits does: its outputs are the same bytes
//! whatever the budget.

use std::fmt;

use super::fleet::{pool_slots, Fleet, Instance};
use super::ids::MAX_IDS;
use super::requests::slab::SlabFull;
use super::requests::{Phase, RequestSlab};
use super::Event;
use crate::engine::{EventQueue, Halt};
use crate::limits::{format_bytes, format_count, RunShare};
use crate::time::{SimDuration, SimTime};
use crate::Scenario;

/// Bytes a held request may take: its slab slot and its wait-queue entry, twice over for what
/// growth by doubling (and a reallocation's two copies) may take.
pub const BYTES_PER_REQUEST: u64 = 2 * (RequestSlab::BYTES_PER_SLOT as u64 + 4);

/// Bytes a pending event may take: its heap entry, twice over (as for requests).
pub const BYTES_PER_EVENT: u64 = 2 * EventQueue::<Event>::BYTES_PER_EVENT as u64;

/// What a balancer, its health checks (active and passive), slow start and stickiness keep per
/// target: the largest algorithm's per-target arrays (least response time: cost, stamp, key,
/// active, weight, eligibility, about 50 bytes) and the health state's (about 50), rounded up.
const BYTES_PER_TARGET: u64 = 128;

/// The recorder's histograms and windows, the world's small tables: a fixed allowance.
const BYTES_FIXED: u64 = 4 << 20;

/// A run's caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Requests held at once (slab slots).
    pub requests: u32,
    /// Events pending at once.
    pub events: usize,
}

impl Caps {
    /// No cap beyond what ids can address.
    pub const UNLIMITED: Caps = Caps {
        requests: MAX_IDS,
        events: usize::MAX,
    };
}

/// What grows with the scenario's size, in bytes, and the events it keeps pending.
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    /// Bytes of each part, by name, largest first.
    pub parts: Vec<(&'static str, u64)>,
    /// Events the scenario's own timers keep pending (beside requests').
    pub events: u64,
}

impl Footprint {
    /// The footprint of a run of `scenario`.
    pub fn of(scenario: &Scenario) -> Footprint {
        let mut slots = 0u64;
        let mut llm = 0u64;
        for spec in &scenario.pools {
            let n = u64::from(pool_slots(spec));
            slots += n;
            let t = &scenario.instance_types[spec.instance_type];
            if let Some(server) = &t.llm {
                llm = llm.saturating_add(n.saturating_mul(server.bytes_per_instance()));
            }
        }
        let targets: u64 = scenario
            .target_groups
            .iter()
            .flat_map(|g| &g.pools)
            .map(|&p| u64::from(pool_slots(&scenario.pools[p])))
            .sum();
        let users = scenario
            .closed_loop
            .as_ref()
            .map_or(0, |c| u64::from(c.users));
        // Timers pending: each instance slot at most two at once (a start-up phase or a drain,
        // and a spot or fault timer), each closed-loop user its next send; each group its
        // health checks and slow start, each pool its autoscaler, each fault its two ends.
        let fixed_events = 4 * scenario.target_groups.len() as u64
            + 4 * scenario.pools.len() as u64
            + 2 * scenario.faults.len() as u64
            + 64;
        let events = users + 2 * slots + fixed_events;
        let mut parts = vec![
            (
                "instance slots",
                slots.saturating_mul(std::mem::size_of::<Instance>() as u64 + 2 * BYTES_PER_EVENT),
            ),
            ("balancer targets", targets.saturating_mul(BYTES_PER_TARGET)),
            ("LLM batches", llm),
            (
                "closed-loop users",
                users.saturating_mul(
                    crate::model::traffic::sessions::Users::BYTES_PER_USER + BYTES_PER_EVENT,
                ),
            ),
            (
                "regions' DNS caches and per-window counts",
                scenario
                    .topology
                    .as_ref()
                    .map_or(0, |t| super::topology::footprint(scenario, t)),
            ),
            (
                "tables, statistics and timers",
                BYTES_FIXED.saturating_add(fixed_events.saturating_mul(BYTES_PER_EVENT)),
            ),
        ];
        parts.retain(|(_, b)| *b > 0);
        parts.sort_by_key(|&(_, b)| std::cmp::Reverse(b));
        Footprint { parts, events }
    }

    /// Bytes in all.
    pub fn bytes(&self) -> u64 {
        self.parts
            .iter()
            .fold(0u64, |sum, (_, b)| sum.saturating_add(*b))
    }
}

/// Bytes the scenarios' files take in memory before any run: each distinct replayed trace once
/// (runs share it), each count trace's steps once per scenario.
pub fn loaded_bytes(scenarios: &[&Scenario]) -> u64 {
    let mut seen = std::collections::BTreeSet::new();
    let mut bytes = 0u64;
    for s in scenarios {
        if !seen.insert(*s as *const Scenario as usize) {
            continue;
        }
        if let Some(t) = &s.trace {
            if seen.insert(std::sync::Arc::as_ptr(&t.data) as usize) {
                bytes = bytes.saturating_add(t.data.bytes());
            }
        }
        bytes = bytes.saturating_add(s.traffic.bytes());
    }
    bytes
}

/// The caps of a run of `scenario` given `share`; an error if its footprint alone does not fit.
pub fn caps(scenario: &Scenario, share: &RunShare) -> Result<Caps, Box<GuardStop>> {
    let footprint = Footprint::of(scenario);
    let fixed = footprint.bytes();
    // What is left for requests and events; the footprint must leave room for a few thousand
    // requests, else the run could not even start serving.
    let min_dynamic = 4096 * (BYTES_PER_REQUEST + BYTES_PER_EVENT);
    if fixed.saturating_add(min_dynamic) > share.bytes {
        let (part, bytes) = footprint.parts[0];
        return Err(Box::new(GuardStop {
            run: None,
            kind: StopKind::BeforeRun {
                footprint: fixed,
                largest: (part, bytes),
            },
            at: None,
            duration: scenario.duration,
            requests_held: 0,
            events_pending: 0,
            caps: Caps::UNLIMITED,
            share: share.origin.clone(),
            detail: footprint
                .parts
                .iter()
                .map(|(name, b)| format!("{name}: {}", format_bytes(*b)))
                .collect(),
            help: format!(
                "{}; or {}",
                match part {
                    "instance slots" | "balancer targets" | "LLM batches" =>
                        "lower the pools' instances or autoscaling maximums (a pool keeps slots for twice its maximum)",
                    "closed-loop users" => "lower closed_loop.users",
                    "regions' DNS caches and per-window counts" =>
                        "shorten the run, widen [timeline] window or lower [traffic] users",
                    _ => "make the scenario smaller",
                },
                share.raise
            ),
        }));
    }
    let dynamic = share.bytes - fixed;
    let requests = (dynamic / 3 * 2 / BYTES_PER_REQUEST).clamp(1, u64::from(MAX_IDS)) as u32;
    let events = footprint
        .events
        .saturating_add(dynamic / 3 / BYTES_PER_EVENT)
        .min(usize::MAX as u64) as usize;
    Ok(Caps { requests, events })
}

/// What stopped a run.
#[derive(Debug, Clone, PartialEq)]
pub enum StopKind {
    /// Its footprint alone does not fit: it never started.
    BeforeRun {
        /// Its footprint \[bytes\].
        footprint: u64,
        /// Its largest part and its bytes.
        largest: (&'static str, u64),
    },
    /// Requests held reached their cap (`memory`: the allocator refused first).
    Requests {
        /// The allocator refused memory before the cap.
        memory: bool,
    },
    /// Events pending reached their cap (`memory`: the allocator refused first).
    Events {
        /// The allocator refused memory before the cap.
        memory: bool,
    },
}

/// A run stopped by the memory guard (see the module doc): an error of the input (exit 2).
#[derive(Debug, Clone, PartialEq)]
pub struct GuardStop {
    /// The run (`run base (replication 2, seed 7)`), once the sweep has named it.
    pub run: Option<String>,
    /// What stopped it.
    pub kind: StopKind,
    /// The simulated time it stopped at (`None`: before it started).
    pub at: Option<SimTime>,
    /// The run's duration.
    pub duration: SimDuration,
    /// Requests held when it stopped.
    pub requests_held: u64,
    /// Events pending when it stopped.
    pub events_pending: u64,
    /// Its caps.
    pub caps: Caps,
    /// Where its share of memory comes from.
    pub share: String,
    /// Lines saying where the requests or events were (or the footprint's parts).
    pub detail: Vec<String>,
    /// What to change.
    pub help: String,
}

impl GuardStop {
    /// The same stop, naming its run (a sweep's run and replication, as
    /// `run base (replication 2, seed 7)`).
    pub fn in_run(mut self: Box<Self>, run: String) -> Box<Self> {
        self.run = Some(run);
        self
    }
}

impl std::error::Error for GuardStop {}

impl fmt::Display for GuardStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = self.run.as_deref().unwrap_or("the run");
        match &self.kind {
            StopKind::BeforeRun {
                footprint,
                largest: (part, bytes),
            } => writeln!(
                f,
                "{run} does not fit in its memory: before its first request it holds {} (the largest part, {part}, {}), more than its share, {}",
                format_bytes(*footprint),
                format_bytes(*bytes),
                self.share
            )?,
            kind => {
                let at = self.at.unwrap_or(SimTime::ZERO);
                let what = match kind {
                    StopKind::Requests { memory: false } => format!(
                        "the memory guard's cap of {} requests held (in flight, queued or waiting to retry) was reached",
                        format_count(u64::from(self.caps.requests))
                    ),
                    StopKind::Requests { memory: true } => format!(
                        "the system refused memory for more than {} requests held",
                        format_count(self.requests_held)
                    ),
                    StopKind::Events { memory: false } => format!(
                        "the memory guard's cap of {} pending events was reached",
                        format_count(self.caps.events as u64)
                    ),
                    _ => format!(
                        "the system refused memory for more than {} pending events",
                        format_count(self.events_pending)
                    ),
                };
                writeln!(
                    f,
                    "{run} stopped at {} of {} simulated: {what}",
                    clock(at - SimTime::ZERO),
                    clock(self.duration)
                )?;
                writeln!(
                    f,
                    "  requests held: {} (cap {}); pending events: {} (cap {})",
                    format_count(self.requests_held),
                    format_count(u64::from(self.caps.requests)),
                    format_count(self.events_pending),
                    format_count(self.caps.events as u64)
                )?;
                writeln!(
                    f,
                    "  the caps come from {}: {} bytes a request, {} an event",
                    self.share, BYTES_PER_REQUEST, BYTES_PER_EVENT
                )?;
            }
        }
        for line in &self.detail {
            writeln!(f, "  {line}")?;
        }
        write!(f, "help: {}", self.help)
    }
}

/// A duration as `1h02m03.5s`, `4m09.9s`, `1h` or `12.5s` (zero parts left out).
fn clock(d: SimDuration) -> String {
    let tenths = (d.as_nanos() + 50_000_000) / 100_000_000;
    let (h, m, t) = (tenths / 36_000, tenths / 600 % 60, tenths % 600);
    // Seconds, two digits wide after minutes.
    let secs = |width: usize| match t % 10 {
        0 => format!("{:0width$}s", t / 10),
        f => format!("{:0width$}.{f}s", t / 10),
    };
    match (h, m, t) {
        (0, 0, _) => secs(1),
        (0, m, 0) => format!("{m}m"),
        (0, m, _) => format!("{m}m{}", secs(2)),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m:02}m"),
        (h, m, _) => format!("{h}h{m:02}m{}", secs(2)),
    }
}

/// What a run holds now, for the report of a stop: the scenario, the requests in flight, the
/// fleet holding them, the pending events, and the caps with the share they come from.
pub(super) struct Held<'a> {
    pub scenario: &'a Scenario,
    pub requests: &'a RequestSlab,
    pub fleet: &'a Fleet,
    pub queue: &'a EventQueue<Event>,
    pub memory: Option<&'a (Caps, RunShare)>,
}

/// The error of a run whose queue halted for `halt`, holding `held`.
#[cold]
pub(super) fn stop_report(held: &Held<'_>, halt: Halt) -> Box<GuardStop> {
    let (caps, share) = held
        .memory
        .cloned()
        .unwrap_or((Caps::UNLIMITED, RunShare::whole_process()));
    let kind = match halt {
        Halt::EventCap => StopKind::Events { memory: false },
        Halt::EventMemory => StopKind::Events { memory: true },
        Halt::Owner(_) => StopKind::Requests {
            memory: held.requests.full() == SlabFull::Memory,
        },
    };
    let count = held.requests.held() as u64;
    let (mut detail, largest) = where_requests_are(held);
    let backoff = held.requests.iter_held().map_or(0, |h| {
        h.filter(|r| r.phase == Phase::Backoff).count() as u64
    });
    if backoff > 0 {
        detail.push(format!(
            "{} waiting out a client retry's backoff",
            format_count(backoff)
        ));
    }
    let help = match &kind {
        StopKind::Events { .. } => {
            let (name, n) = busiest_event(held.queue);
            detail.push(format!(
                "most pending events are {name}: {}",
                format_count(n)
            ));
            events_help(name, &share)
        }
        _ => requests_help(held.scenario, largest, backoff, count, &share),
    };
    Box::new(GuardStop {
        run: None,
        kind,
        at: Some(held.queue.now()),
        duration: held.scenario.duration,
        requests_held: count,
        events_pending: held.queue.len() as u64,
        caps,
        share: share.origin,
        detail,
        help,
    })
}

/// Where the requests are, pool by pool (queued and in service), and the pool with the most
/// queued.
fn where_requests_are(held: &Held<'_>) -> (Vec<String>, Option<(usize, u64)>) {
    let mut detail = Vec::new();
    let mut largest: Option<(usize, u64)> = None;
    for (p, pool) in held.fleet.pools.iter().enumerate() {
        let mut queued = u64::from(pool.shared.live());
        let mut serving = 0u64;
        for inst in held.fleet.instances.range(pool.slots) {
            queued += u64::from(inst.queue.live());
            serving += u64::from(inst.busy);
        }
        if queued + serving > 0 {
            let spec = &held.scenario.pools[p];
            detail.push(format!(
                "pool \"{}\": {} queued{}, {} in service",
                spec.name,
                format_count(queued),
                if spec.queue_capacity.is_none() {
                    " (no queue_capacity)"
                } else {
                    ""
                },
                format_count(serving)
            ));
            if largest.is_none_or(|(_, q)| queued > q) {
                largest = Some((p, queued));
            }
        }
    }
    (detail, largest)
}

/// What to change when the events named `name` filled their cap.
fn events_help(name: &str, share: &RunShare) -> String {
    format!(
        "{}; or {}",
        match name {
            "client deadlines" | "request deadlines" | "LLM deadlines" =>
                "every request keeps its deadline pending until its timeout: a shorter timeout, or fewer requests held (see below)",
            "client retries" => "retries wait out their backoff: fewer attempts or shorter backoffs",
            "closed-loop sends" => "lower closed_loop.users",
            _ => "lower the load",
        },
        share.raise
    )
}

/// What to change when `held` requests filled their cap; `largest` is the pool with the most
/// queued, `backoff` the requests waiting to retry.
fn requests_help(
    scenario: &Scenario,
    largest: Option<(usize, u64)>,
    backoff: u64,
    held: u64,
    share: &RunShare,
) -> String {
    match largest {
        Some((p, queued)) if queued * 2 >= held => {
            let spec = &scenario.pools[p];
            format!(
                "pool \"{}\" cannot keep up and queues {}: {}more instances or autoscaling, or less traffic; or {}",
                spec.name,
                if spec.queue_capacity.is_none() {
                    "without bound"
                } else {
                    "more than fits"
                },
                if spec.queue_capacity.is_none() {
                    "give it a queue_capacity (requests beyond it are rejected at once), a timeout (waiting requests then time out), "
                } else {
                    "a smaller queue_capacity, a timeout, "
                },
                share.raise
            )
        }
        _ if backoff * 2 >= held => format!(
            "clients retry faster than the fleet answers: fewer [client] retry attempts or longer backoffs; or {}",
            share.raise
        ),
        _ => format!(
            "the fleet holds more requests than fit: less traffic, more instances, queue capacities or a timeout; or {}",
            share.raise
        ),
    }
}

/// The kind of event most pending, by name, and how many.
fn busiest_event(queue: &EventQueue<Event>) -> (&'static str, u64) {
    let mut counts: Vec<(&'static str, u64)> = Vec::new();
    for e in queue.pending() {
        let name = e.kind_name();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(_, c)| c)
        .unwrap_or(("none", 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_as_hours_minutes_seconds() {
        assert_eq!(clock(SimDuration::from_secs(3723)), "1h02m03s");
        assert_eq!(clock(SimDuration::from_secs_f64(63.5)), "1m03.5s");
        assert_eq!(clock(SimDuration::from_secs_f64(249.94)), "4m09.9s");
        assert_eq!(clock(SimDuration::from_secs_f64(2.3)), "2.3s");
        assert_eq!(clock(SimDuration::from_secs(3600)), "1h");
        assert_eq!(clock(SimDuration::from_secs(600)), "10m");
        assert_eq!(clock(SimDuration::ZERO), "0s");
    }

    #[test]
    fn the_per_item_sizes_come_from_the_real_types() {
        // 88-byte requests + generation + free-list entry + wait-queue entry, doubled.
        assert_eq!(BYTES_PER_REQUEST, 2 * (88 + 4 + 4 + 4));
        assert_eq!(
            BYTES_PER_EVENT,
            2 * std::mem::size_of::<(u128, Event)>() as u64
        );
    }
}
