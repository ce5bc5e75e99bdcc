//! A pool's instance lifecycle keys: `[pool.startup]` (how long a launched instance takes to
//! serve), `[pool.warm_pool]` (AWS warm pools), `[pool.launch]` (failed and throttled
//! launches), and the draining and termination keys of `[[pool]]` itself.
//!
//! It must not know the autoscaler: whether a warm pool has a group to feed, and which
//! termination policy a controller implies, are checked in `validate.rs`.

use std::path::Path;

use super::reader::keys::{Duration, Flag, Key, Kind, Nested, OneOf, Positive, Price, Whole};
use super::reader::{store, whole_seconds, Located, Node, Reader};
use super::service::read_phase;
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::{LaunchSpec, StartupSpec, TerminationPolicy, WarmPoolSpec};
use crate::model::llm::load::{SourceKind, WeightSource};
use crate::time::SimDuration;

/// The most instances a pool (or a group's bound, or a warm pool) may count: a guard against
/// typos, as for `instances`.
pub const MAX_INSTANCES: i64 = 1_000_000;

/// ALB's range for a target group's `deregistration_delay.timeout_seconds`: 0 to 3600 s
/// (Elastic Load Balancing user guide, "Target group attributes", "Deregistration delay").
const MAX_DEREGISTRATION_DELAY: SimDuration = SimDuration::from_secs(3600);

/// `termination_policy` names, in the order of [`termination_policy`].
pub const TERMINATION_POLICIES: &[&str] = &[
    "default",
    "oldest_instance",
    "newest_instance",
    "kubernetes",
    "allocation_strategy",
];

/// The policy named `name` (one of [`TERMINATION_POLICIES`]).
pub fn termination_policy(name: &str) -> TerminationPolicy {
    match name {
        "oldest_instance" => TerminationPolicy::OldestInstance,
        "newest_instance" => TerminationPolicy::NewestInstance,
        "kubernetes" => TerminationPolicy::Kubernetes,
        "allocation_strategy" => TerminationPolicy::AllocationStrategy,
        _ => TerminationPolicy::AwsDefault,
    }
}

/// `deregistration_delay = "300s"`: 0 to 3600 s, in whole seconds, as ALB allows.
#[derive(Debug, Clone, Copy)]
pub struct DeregistrationDelay;

impl Kind for DeregistrationDelay {
    type Value = SimDuration;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SimDuration>> {
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
        whole_seconds(r, &d, "an ALB target group", "deregistration_delay").then_some(d)
    }
}

/// The startup phases, each a duration or a service-time table.
const STARTUP_PHASES: [Key<Nested>; 3] = [
    Key::optional("boot", Nested),
    Key::optional("model_load", Nested),
    Key::optional("warm_up", Nested),
];

/// `[pool.startup]`: `boot`, `model_load`, `warm_up`, each a duration (a constant) or a
/// service-time table; an absent phase takes no time.
pub fn read_startup(
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
    let mut from = None;
    let slots = [&mut spec.boot, &mut spec.model_load, &mut spec.warm_up];
    for (key, slot) in STARTUP_PHASES.iter().zip(slots) {
        let node = f.node(r, key);
        if let Some(n) = node.as_ref().filter(|n| n.has_key("from")) {
            let read = read_weight_source(r, n.clone());
            ok &= read.is_some();
            from = read;
            continue;
        }
        let read = node.map(|n| read_phase(r, n, base_dir));
        ok &= store(slot, read);
    }
    f.finish(r);
    spec.model_load_from = from;
    ok.then_some(spec)
}

const FROM: Key<OneOf> = Key::choice("from", &SourceKind::NAMES);
const BANDWIDTH_MB_S: Key<Positive> = Key::optional("bandwidth_mb_s", Positive);

/// `model_load = { from = "s3", bandwidth_mb_s = 500 }`: the load time follows from the
/// weights' size (the pool's LLM engine) and where they are read from; the bandwidth defaults
/// to the source's ([`SourceKind::default_bandwidth`]).
fn read_weight_source(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<WeightSource> {
    let mut f = r.table(
        node,
        "a weight source such as model_load = { from = \"s3\", bandwidth_mb_s = 1440 }",
    )?;
    let from = f.read(r, &FROM);
    let bandwidth = f.read_given(r, &BANDWIDTH_MB_S);
    f.finish(r);
    let kind = SourceKind::parse(from?.value)?;
    match bandwidth {
        None => Some(WeightSource::new(kind)),
        Some(b) => WeightSource::with_bandwidth(kind, b?.value * 1e6).ok(),
    }
}

const MIN_SIZE: Key<Whole> = Key::optional("min_size", Whole(0, MAX_INSTANCES));
const MAX_PREPARED_CAPACITY: Key<Whole> =
    Key::optional("max_prepared_capacity", Whole(0, MAX_INSTANCES));
const STATE: Key<OneOf> = Key::optional("state", OneOf(&["stopped", "hibernated", "running"]));
const REUSE_ON_SCALE_IN: Key<Flag> = Key::optional("reuse_on_scale_in", Flag);
const STORAGE_PRICE: Key<Price> = Key::optional("storage_price", Price);

/// `[pool.warm_pool]`, with the defaults of AWS `PutWarmPool`.
pub fn read_warm_pool(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<WarmPoolSpec> {
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
    let mut ok = f.read_into(r, &MIN_SIZE, &mut spec.min_size, |v| v as u32);
    ok &= f.read_into(
        r,
        &MAX_PREPARED_CAPACITY,
        &mut spec.max_prepared_capacity,
        |v| Some(v as u32),
    );
    ok &= f.read_into(r, &STATE, &mut spec.state, |s| match s {
        "hibernated" => InstanceState::WarmHibernated,
        "running" => InstanceState::WarmRunning,
        _ => InstanceState::WarmStopped,
    });
    ok &= f.read_into(r, &REUSE_ON_SCALE_IN, &mut spec.reuse_on_scale_in, |v| v);
    ok &= f.read_into(r, &STORAGE_PRICE, &mut spec.storage_price_per_hour, |v| v);
    f.finish(r);
    ok.then_some(spec)
}

/// The shortest `[pool.launch] retry_after`.
const MIN_RETRY_AFTER: SimDuration = SimDuration::from_secs(1);

const FAILURE_PROBABILITY: Key<Nested> = Key::optional("failure_probability", Nested);
const RETRY_AFTER: Key<Duration> = Key::optional("retry_after", Duration);
const PER_MINUTE: Key<Whole> = Key::optional("per_minute", Whole(1, MAX_INSTANCES));

/// `[pool.launch]`: failure probability, retry delay and launch rate limit.
pub fn read_launch(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<LaunchSpec> {
    let mut f = r.table(
        node,
        "a launch table such as [pool.launch] failure_probability = 0.1 retry_after = \"10s\"",
    )?;
    let mut spec = LaunchSpec::default();
    let mut ok = true;
    let p = f
        .node(r, &FAILURE_PROBABILITY)
        .map(|n| read_probability(r, n));
    ok &= store(&mut spec.failure_probability, p);
    let retry = f
        .read_given(r, &RETRY_AFTER)
        .map(|d| d.and_then(|d| check_retry_after(r, d)));
    ok &= store(&mut spec.retry_after, retry);
    ok &= f.read_into(r, &PER_MINUTE, &mut spec.per_minute, |v| Some(v as u32));
    f.finish(r);
    ok.then_some(spec)
}

/// A `retry_after` longer than 0, and at least [`MIN_RETRY_AFTER`].
fn check_retry_after(r: &mut Reader<'_>, d: Located<SimDuration>) -> Option<SimDuration> {
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
