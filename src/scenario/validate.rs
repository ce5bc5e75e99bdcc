//! Stage two: what spans several fields — references between tables, shares, bounds — and the
//! typed [`Scenario`] with every default filled in; and [`from_document`], both stages over one
//! parsed document.
//!
//! This file only calls the topics, in an order where each gets what it needs from those
//! before it: the run, the traffic's rates, instance types, pools, routing, classes, faults,
//! shortages, the population, the trace's classes, the topology, and the LLM classes' types.

use std::path::Path;

use toml_span::value::Value;

use super::balancer::routing::Routing;
use super::classes::route::Destinations;
use super::classes::tokens::check_token_types;
use super::classes::validate::{validate_classes, Context as ClassContext, RequestClass};
use super::faults::validate_faults;
use super::fleet::refs::{pool_names, pool_refs, PoolRef};
use super::fleet::validate::validate_pools;
use super::market::instance_type::{type_names, validate_instance_types};
use super::raw::{self, RawScenario};
use super::reader::{Names, Reader};
use super::run;
use super::spot::interruptions::validate_shortages;
use super::topology::validate::{validate as validate_topology, Context as TopologyContext};
use super::trace::{self, TraceSpec};
use super::traffic::rates;
use super::traffic::validate::{arrival_process, validate_population};
use super::typed::Scenario;
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec};
use crate::model::fleet::InstanceType;
use crate::model::topology::Topology;
use crate::scenario::spec::PoolSpec;
use crate::time::SimDuration;

/// Stages one and two over one parsed document: the base, or a variant merged onto it. `None`
/// if the reader recorded any problem.
pub fn from_document(reader: &mut Reader<'_>, doc: &Value<'_>, path: &Path) -> Option<Scenario> {
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let scenario = raw::read(reader, doc, base_dir).and_then(|raw| validate(reader, raw, path));
    scenario.filter(|_| !reader.has_errors())
}

/// Builds the scenario, recording every problem; `None` if anything is missing or wrong.
pub fn validate(r: &mut Reader<'_>, raw: RawScenario, file: &Path) -> Option<Scenario> {
    let run = run::validate(r, &raw.run);
    let duration = run.duration;
    // Rates above the cap that only a combination makes (spikes, a diurnal peak, users).
    rates::check(r, &raw.traffic, duration);
    let instance_types = validate_instance_types(r, &raw.instance_types, duration);
    let type_names = type_names(&raw.instance_types);
    let pools = validate_pools(
        r,
        &raw.pools,
        &raw.queues,
        &type_names,
        instance_types.as_deref(),
    );
    // References to pools are checked against every [[pool]], even when one of them has a broken
    // field, so that a mistake in a pool does not hide the mistakes in the tables naming it.
    let refs = pool_refs(&raw.pools);
    let mut routing = validate_routing(r, &raw, &refs);
    let classes = validate_all_classes(
        r,
        &raw,
        &type_names,
        instance_types.as_deref(),
        pools.as_deref(),
        &refs,
        routing.as_mut(),
    );
    let faults = validate_faults(r, &raw.faults, &refs, duration);
    let capacity_shortages = validate_shortages(r, &raw.capacity_shortages, &type_names, duration);
    let population = validate_population(r, &raw.traffic);
    let trace = validate_trace(r, &raw, classes.as_deref());
    let (target_groups, routes) = routing.map(|x| (x.groups, x.routes))?;
    let topology = validate_regions(
        r,
        &raw,
        &target_groups,
        &routes,
        classes.as_ref().map_or(0, Vec::len),
        population.map_or(0, |p| p.users),
        duration,
    );
    check_token_types(
        r,
        &raw.classes,
        classes.as_deref(),
        instance_types.as_deref(),
        pools.as_deref(),
        &target_groups,
        &routes,
        topology.as_ref(),
    );
    Some(Scenario {
        name: raw.run.name?.value,
        file: file.to_path_buf(),
        duration: duration?,
        warmup: run.warmup?,
        seed: raw.run.seed.map_or(1, |s| s.value),
        timeout: run.timeout?,
        on_timeout: run.on_timeout,
        window: run.window?,
        arrival_process: arrival_process(&raw.traffic),
        traffic: raw.traffic.profile?.value,
        trace: trace?,
        classes: classes?,
        instance_types: instance_types?,
        pools: pools?,
        target_groups,
        routes,
        client_retry: raw.client_retry.map(|c| c.value),
        closed_loop: raw.traffic.closed_loop.map(|c| c.value),
        faults: faults?,
        capacity_shortages: capacity_shortages?,
        population: population?,
        slo: raw.slo.map(|s| s.value),
        billing: raw.billing.map(|b| b.value).unwrap_or_default(),
        topology: topology?,
    })
}

/// The classes, with their destinations: pools (`refs`, by name), queues and routes.
fn validate_all_classes(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    type_names: &Names<'_>,
    types: Option<&[InstanceType]>,
    pools: Option<&[PoolSpec]>,
    refs: &[PoolRef],
    routing: Option<&mut Routing<'_>>,
) -> Option<Vec<RequestClass>> {
    let pool_names = pool_names(refs);
    let queue_names: Names<'_> = raw
        .queues
        .iter()
        .map(|q| q.name.as_ref().map_or("", |n| n.value.as_str()))
        .collect();
    validate_classes(
        r,
        &raw.classes,
        &ClassContext {
            at: &raw.classes_at,
            types,
            type_names,
            pools,
        },
        Destinations {
            refs,
            pool_names: &pool_names,
            queue_names: &queue_names,
            only_pool: raw.pools.len() == 1 && raw.routes.is_empty(),
            routing,
        },
    )
}

/// The target groups and routes, with the balancer's defaults; `None` without pools (reported
/// by the pools).
fn validate_routing<'a>(
    r: &mut Reader<'_>,
    raw: &'a RawScenario,
    refs: &[PoolRef],
) -> Option<Routing<'a>> {
    (!refs.is_empty())
        .then(|| {
            Routing::validate(
                r,
                raw.balancer.as_ref(),
                &raw.target_groups,
                &raw.routes,
                refs,
            )
        })
        .flatten()
}

/// The regions and what they place: pools, target groups, routes, classes and users.
fn validate_regions(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    groups: &[TargetGroupSpec],
    routes: &[RouteSpec],
    classes: usize,
    users: u64,
    duration: Option<SimDuration>,
) -> Option<Option<Topology>> {
    validate_topology(
        r,
        &raw.topology,
        &TopologyContext {
            pools: &raw.pools,
            raw_groups: &raw.target_groups,
            raw_routes: &raw.routes,
            raw_classes: &raw.classes,
            users_at: raw.traffic.users.as_ref(),
            groups,
            routes,
            classes,
            users,
            duration,
        },
    )
}

/// The classes a replayed trace names, checked against the scenario's `classes`.
fn validate_trace(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    classes: Option<&[RequestClass]>,
) -> Option<Option<TraceSpec>> {
    let class_names: Option<Vec<&str>> =
        classes.map(|c| c.iter().map(|c| c.name.as_str()).collect());
    trace::validate_classes(r, raw.traffic.trace.as_ref(), class_names.as_deref())
}
