//! `[[fault]]`: instances of a pool that crash, break or get a spot interruption notice at a
//! time. Read in stage one; stage two checks the pool (known, behind a balancer, with the
//! instances asked for, buying spot for an interruption), the time and the keys of each kind.
//!
//! Random failures (`[pool.failures]`) are [`super::failures`].

use crate::model::fleet::{Dispatch, FaultKind, FaultSpec, DEFAULT_ERROR_LATENCY};
use crate::scenario::fleet::refs::{pool_names, PoolRef};
use crate::scenario::reader::keys::{Duration, Key, OneOf, Text, Whole};
use crate::scenario::reader::{
    find, positive_duration, unknown_reference, Located, Names, Node, Reader,
};
use crate::time::{SimDuration, SimTime};

/// A `[[fault]]` table: instances that break at a time.
pub struct RawFault {
    pub pool: Option<Located<String>>,
    pub kind: Option<Located<&'static str>>,
    pub at: Option<Located<SimDuration>>,
    pub instances: Option<Located<u64>>,
    pub first: Option<Located<u64>>,
    pub duration: Option<Located<SimDuration>>,
    pub error_latency: Option<Located<SimDuration>>,
    pub rebalance_lead: Option<Located<SimDuration>>,
}

const POOL: Key<Text> = Key::required(
    "pool",
    Text,
    "name the pool whose instances fail, such as pool = \"gpu\"",
);
const KIND: Key<OneOf> = Key::required(
    "kind",
    OneOf(&["crash", "broken", "spot_interruption"]),
    "choose crash (the host stops answering), broken (alive, but every request fails fast) or spot_interruption (the two-minute notice)",
);
const AT: Key<Duration> = Key::required(
    "at",
    Duration,
    "say when the fault begins, such as at = \"5m\"",
);
const INSTANCES: Key<Whole> = Key::optional("instances", Whole(1, 1_000_000));
const FIRST: Key<Whole> = Key::optional("first", Whole(0, 999_999));
const DURATION: Key<Duration> = Key::optional("duration", Duration);
const ERROR_LATENCY: Key<Duration> = Key::optional("error_latency", Duration);
const REBALANCE_LEAD: Key<Duration> = Key::optional("rebalance_lead", Duration);

/// Reads a `[[fault]]` table.
pub fn read_fault(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawFault> {
    let mut f = r.table(node, "a fault table")?;
    let fault = RawFault {
        pool: f.read(r, &POOL),
        kind: f.read(r, &KIND),
        at: f.read(r, &AT),
        instances: f.read(r, &INSTANCES),
        first: f.read(r, &FIRST),
        duration: f.read(r, &DURATION),
        error_latency: f.read(r, &ERROR_LATENCY),
        rebalance_lead: f.read(r, &REBALANCE_LEAD),
    };
    f.finish(r);
    Some(fault)
}

/// Faults: a known pool behind a balancer, instances that exist, a time inside the run.
pub fn validate_faults(
    r: &mut Reader<'_>,
    faults: &[RawFault],
    pools: &[PoolRef],
    duration: Option<SimDuration>,
) -> Option<Vec<FaultSpec>> {
    if pools.is_empty() {
        // "no server pools" is reported; naming each fault's pool as unknown would add nothing.
        return None;
    }
    let names = pool_names(pools);
    let mut out = Vec::new();
    let mut ok = true;
    for f in faults {
        ok &= validate_fault(r, f, pools, &names, duration)
            .map(|x| out.push(x))
            .is_some();
    }
    ok.then_some(out)
}

/// One fault. Each check stands alone, so that every mistake in the table is reported at once.
fn validate_fault(
    r: &mut Reader<'_>,
    f: &RawFault,
    pools: &[PoolRef],
    names: &Names<'_>,
    duration: Option<SimDuration>,
) -> Option<FaultSpec> {
    let pool = f
        .pool
        .as_ref()
        .and_then(|at| balanced_pool(r, at, pools, names));
    let first = f.first.as_ref().map_or(0, |x| x.value);
    let count = f.instances.as_ref().map_or(1, |x| x.value);
    // The pool's size is unknown if its own `instances` is broken (reported there).
    let size = pool.and_then(|(pool, _)| pools[pool].instances);
    let mut ok = match (pool, size) {
        (Some(pool), Some(size)) => instances_exist(r, f, pools, pool, size),
        _ => true,
    };
    let at = f.at.as_ref().filter(|at| match duration {
        Some(d) if at.value >= d => {
            r.error(
                *at,
                format!(
                    "the fault begins at {}, not before the run ends (duration = {d})",
                    at.value
                ),
                Some(format!("make `at` shorter than {d}")),
            );
            false
        }
        _ => true,
    });
    let lasts = positive_duration(r, f.duration.as_ref(), "duration");
    let kind = f.kind.as_ref().map(|k| match k.value {
        "crash" => FaultKind::Crash,
        "spot_interruption" => FaultKind::SpotInterruption,
        _ => FaultKind::Broken,
    });
    ok &= kind_keys_fit(
        r,
        f,
        kind,
        pool.filter(|(p, _)| !pools[*p].buys_spot),
        pools,
    );
    let (Some((pool, _)), Some(_), Some(at), Some(lasts), Some(kind), true) =
        (pool, size, at, lasts, kind, ok)
    else {
        return None;
    };
    let start = SimTime::ZERO + at.value;
    Some(FaultSpec {
        pool,
        first: first as u32,
        instances: count as u32,
        kind,
        at: start,
        until: lasts.map(|d| start.saturating_add(d)),
        error_latency: f
            .error_latency
            .as_ref()
            .map_or(DEFAULT_ERROR_LATENCY, |e| e.value),
        rebalance_lead: f.rebalance_lead.as_ref().map(|l| l.value),
    })
}

/// The pool named `at`, if it is known and behind a balancer (else reported).
fn balanced_pool<'l>(
    r: &mut Reader<'_>,
    at: &'l Located<String>,
    pools: &[PoolRef],
    names: &Names<'_>,
) -> Option<(usize, &'l Located<String>)> {
    let Some(pool) = find(names, &at.value) else {
        unknown_reference(r, at, "pool", names);
        return None;
    };
    if pools[pool].dispatch == Dispatch::SharedQueue {
        r.error(
            at,
            "faults are modelled for pools behind a balancer, not shared-queue pools",
            Some("use dispatch = \"balancer\" for this pool".into()),
        );
        return None;
    }
    Some((pool, at))
}

/// True if the instances the fault takes (`first`, `instances`) are among the `size` the pool
/// starts with; else reported.
fn instances_exist(
    r: &mut Reader<'_>,
    f: &RawFault,
    pools: &[PoolRef],
    (pool, pool_at): (usize, &Located<String>),
    size: u32,
) -> bool {
    let first = f.first.as_ref().map_or(0, |x| x.value);
    let count = f.instances.as_ref().map_or(1, |x| x.value);
    if first + count <= u64::from(size) {
        return true;
    }
    let at = f
        .instances
        .as_ref()
        .map(Located::at)
        .or_else(|| f.first.as_ref().map(Located::at))
        .unwrap_or_else(|| pool_at.at());
    let asked = if count == 1 {
        format!("instance {first}")
    } else {
        format!("instances {first} to {}", first + count - 1)
    };
    let name = &pools[pool].name;
    let (has, help) = match size.checked_sub(1) {
        Some(last) => (
            format!("has {size}, numbered 0 to {last}"),
            format!("lower first or instances: first ({first}) + instances ({count}) must be at most {size}"),
        ),
        // An autoscaled group may start empty.
        None => (
            "starts with none".to_string(),
            "give the pool instances at the start (instances, or autoscaling min), or remove the fault".to_string(),
        ),
    };
    r.error(
        &at,
        format!("the fault takes {asked}, but pool \"{name}\" {has}"),
        Some(help),
    );
    false
}

/// True if the keys of the fault fit its `kind`: a spot interruption on a pool that buys spot
/// (`no_spot` is the fault's pool if it does not), without a duration, its rebalance lead
/// within the run; a rebalance lead only on a spot interruption; an error latency only on a
/// broken server. Each misfit is reported.
fn kind_keys_fit(
    r: &mut Reader<'_>,
    f: &RawFault,
    kind: Option<FaultKind>,
    no_spot: Option<(usize, &Located<String>)>,
    pools: &[PoolRef],
) -> bool {
    let mut ok = true;
    if kind == Some(FaultKind::SpotInterruption) {
        if let Some((pool, pool_at)) = no_spot {
            r.error(
                pool_at,
                format!(
                    "pool \"{}\" buys no spot instances, so the cloud cannot interrupt them",
                    pools[pool].name
                ),
                Some("give the pool purchase = \"spot\" or a [pool.mixed_instances] with on_demand_percentage_above_base below 100".into()),
            );
            ok = false;
        }
        if let Some(d) = &f.duration {
            r.error(
                d,
                "an interrupted spot instance does not come back: a spot_interruption has no duration",
                Some("remove duration (the group launches a replacement)".into()),
            );
            ok = false;
        }
        if let (Some(lead), Some(at)) = (&f.rebalance_lead, &f.at) {
            if lead.value > at.value {
                r.error(
                    lead,
                    format!(
                        "the rebalance recommendation would come {} before the run starts",
                        SimDuration::from_nanos(lead.value.as_nanos() - at.value.as_nanos())
                    ),
                    Some(format!(
                        "use a rebalance_lead of at most {} (the notice's `at`)",
                        at.value
                    )),
                );
                ok = false;
            }
        }
    } else if let Some(lead) = &f.rebalance_lead {
        r.error(
            lead,
            "rebalance_lead applies only to kind = \"spot_interruption\"",
            Some("remove rebalance_lead".into()),
        );
        ok = false;
    }
    if let (Some(k @ (FaultKind::Crash | FaultKind::SpotInterruption)), Some(e)) =
        (kind, &f.error_latency)
    {
        let why = if k == FaultKind::Crash {
            "a crashed host does not answer"
        } else {
            "an interrupted spot instance drains, it does not answer with errors"
        };
        r.error(
            e,
            format!("{why}, so error_latency applies only to kind = \"broken\""),
            Some("remove error_latency, or use kind = \"broken\"".into()),
        );
        ok = false;
    }
    ok
}
