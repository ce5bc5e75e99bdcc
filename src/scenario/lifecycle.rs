//! A pool's instance lifecycle keys: `[pool.startup]` (how long a launched instance takes to
//! serve), `[pool.warm_pool]` (AWS warm pools), `[pool.launch]` (failed and throttled
//! launches), and the draining and termination keys of `[[pool]]` itself.
//!
//! It must not know the autoscaler: whether a warm pool has a group to feed, and which
//! termination policy a controller implies, are checked in `validate.rs`.

use std::path::Path;

use super::raw::{read_service, store};
use super::reader::{Located, Node, Reader};
use crate::engine::SimDuration;
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::{LaunchSpec, ServiceTime, StartupSpec, TerminationPolicy, WarmPoolSpec};

/// The most instances a pool (or a group's bound, or a warm pool) may count: a guard against
/// typos, as for `instances`.
pub(super) const MAX_INSTANCES: i64 = 1_000_000;

/// ALB's range for a target group's `deregistration_delay.timeout_seconds`: 0 to 3600 s
/// (Elastic Load Balancing user guide, "Target group attributes", "Deregistration delay").
const MAX_DEREGISTRATION_DELAY: SimDuration = SimDuration::from_secs(3600);

/// `termination_policy` names, in the order of [`termination_policy`].
pub(super) const TERMINATION_POLICIES: &[&str] = &[
    "default",
    "oldest_instance",
    "newest_instance",
    "kubernetes",
    "allocation_strategy",
];

/// The policy named `name` (one of [`TERMINATION_POLICIES`]).
pub(super) fn termination_policy(name: &str) -> TerminationPolicy {
    match name {
        "oldest_instance" => TerminationPolicy::OldestInstance,
        "newest_instance" => TerminationPolicy::NewestInstance,
        "kubernetes" => TerminationPolicy::Kubernetes,
        "allocation_strategy" => TerminationPolicy::AllocationStrategy,
        _ => TerminationPolicy::AwsDefault,
    }
}

/// `deregistration_delay = "300s"`: 0 to 3600 s, as ALB allows.
pub(super) fn read_deregistration_delay(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
) -> Option<Located<SimDuration>> {
    let d = r.duration(&node)?;
    if d.value > MAX_DEREGISTRATION_DELAY {
        r.error(
            &d,
            format!(
                "an ALB deregistration delay is from 0s to 3600s, found {}",
                d.value
            ),
            Some("such as deregistration_delay = \"300s\" (ELB's default)".into()),
        );
        return None;
    }
    // deregistration_delay.timeout_seconds is an integer.
    super::raw::whole_seconds(r, &d, "an ALB target group", "deregistration_delay").then_some(d)
}

/// `[pool.startup]`: `boot`, `model_load`, `warm_up`, each a duration (a constant) or a
/// service-time table; an absent phase takes no time.
pub(super) fn read_startup(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<StartupSpec> {
    let mut f = r.table(
        node,
        "a startup table such as [pool.startup] boot = \"90s\" model_load = \"60s\"",
    )?;
    let mut spec = StartupSpec::instant();
    let mut ok = true;
    for (key, slot) in [
        ("boot", &mut spec.boot),
        ("model_load", &mut spec.model_load),
        ("warm_up", &mut spec.warm_up),
    ] {
        let read = f.get(key).map(|n| read_phase(r, n, base_dir));
        ok &= store(slot, read);
    }
    f.finish(r);
    ok.then_some(spec)
}

/// One startup phase: `"90s"` (always that long) or a service-time table.
pub(super) fn read_phase(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<ServiceTime> {
    if node.is_table() {
        return read_service(r, node, base_dir);
    }
    r.duration(&node).map(|d| ServiceTime::Constant {
        nanos: d.value.as_nanos() as f64,
    })
}

/// `[pool.warm_pool]`, with the defaults of AWS `PutWarmPool`.
pub(super) fn read_warm_pool(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<WarmPoolSpec> {
    let mut f = r.table(
        node,
        "a warm pool table such as [pool.warm_pool] min_size = 2 state = \"stopped\"",
    )?;
    let mut spec = WarmPoolSpec {
        min_size: 0,
        max_prepared_capacity: None,
        state: InstanceState::WarmStopped,
        reuse_on_scale_in: false,
        storage_price_per_hour: 0.0,
    };
    let mut ok = true;
    let min_size = f.get("min_size").map(|n| r.integer(&n, 0, MAX_INSTANCES));
    ok &= store(
        &mut spec.min_size,
        min_size.map(|v| v.map(|v| v.value as u32)),
    );
    let prepared = f
        .get("max_prepared_capacity")
        .map(|n| r.integer(&n, 0, MAX_INSTANCES));
    ok &= store(
        &mut spec.max_prepared_capacity,
        prepared.map(|v| v.map(|v| Some(v.value as u32))),
    );
    let state = f
        .get("state")
        .map(|n| r.one_of(&n, &["stopped", "hibernated", "running"]));
    ok &= store(
        &mut spec.state,
        state.map(|s| {
            s.map(|s| match s.value {
                "hibernated" => InstanceState::WarmHibernated,
                "running" => InstanceState::WarmRunning,
                _ => InstanceState::WarmStopped,
            })
        }),
    );
    let reuse = f.get("reuse_on_scale_in").map(|n| r.boolean(&n));
    ok &= store(
        &mut spec.reuse_on_scale_in,
        reuse.map(|v| v.map(|v| v.value)),
    );
    let price = f.get("storage_price").map(|n| r.price_per_hour(&n));
    ok &= store(
        &mut spec.storage_price_per_hour,
        price.map(|v| v.map(|v| v.value)),
    );
    f.finish(r);
    ok.then_some(spec)
}

/// The shortest `[pool.launch] retry_after`.
const MIN_RETRY_AFTER: SimDuration = SimDuration::from_secs(1);

/// `[pool.launch]`: failure probability, retry delay and launch rate limit.
pub(super) fn read_launch(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<LaunchSpec> {
    let mut f = r.table(
        node,
        "a launch table such as [pool.launch] failure_probability = 0.1 retry_after = \"10s\"",
    )?;
    let mut spec = LaunchSpec::default();
    let mut ok = true;
    let p = f.get("failure_probability").map(|n| read_probability(r, n));
    ok &= store(&mut spec.failure_probability, p);
    let retry = f.get("retry_after").map(|n| {
        let d = r.duration(&n)?;
        if d.value.is_zero() {
            r.error(
                &d,
                "retry_after must be longer than 0s",
                Some("such as retry_after = \"10s\" (the default)".into()),
            );
            return None;
        }
        // A launch refused every nanosecond through a shortage or an outage would never let
        // the run end (issue 14, item 8); EC2 Auto Scaling retries in seconds.
        if d.value < MIN_RETRY_AFTER {
            r.error(
                &d,
                format!("retry_after is at least 1s, found {}", d.value),
                Some("such as retry_after = \"10s\" (the default)".into()),
            );
            return None;
        }
        Some(d.value)
    });
    ok &= store(&mut spec.retry_after, retry);
    let per_minute = f.get("per_minute").map(|n| r.integer(&n, 1, MAX_INSTANCES));
    ok &= store(
        &mut spec.per_minute,
        per_minute.map(|v| v.map(|v| Some(v.value as u32))),
    );
    f.finish(r);
    ok.then_some(spec)
}

/// A launch failure probability: `0 <= p < 1` (at 1 no launch would ever succeed).
fn read_probability(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<f64> {
    let p = r.number(&node)?;
    if !(0.0..1.0).contains(&p.value) {
        r.error(
            &p,
            format!(
                "failure_probability is from 0 up to (not including) 1, found {}",
                p.value
            ),
            Some("such as failure_probability = 0.1; at 1 no instance would ever start".into()),
        );
        return None;
    }
    Some(p.value)
}
