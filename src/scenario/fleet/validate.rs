//! Stage two of the `[[pool]]` tables: each pool's instance type (or mixed instances policy)
//! resolved, its size within its autoscaling bounds, its queue, and the defaults its controller
//! implies; the typed [`PoolSpec`]s.

use super::mixed::validate_mixed;
use super::pool::RawPool;
use super::queues::{Queues, RawQueue};
use crate::model::autoscale::spec::Controller;
use crate::model::distribution::ServiceTime;
use crate::model::fleet::mixed::{
    MixedInstances, OnDemandStrategy, SpotStrategy, DEFAULT_SPOT_INSTANCE_POOLS,
};
use crate::model::fleet::{
    Dispatch, InstanceType, StartupSpec, TerminationPolicy, DEFAULT_DEREGISTRATION_DELAY,
    DEFAULT_TERMINATION_GRACE_PERIOD,
};
use crate::model::market::PurchaseOption;
use crate::scenario::lifecycle::termination_policy;
use crate::scenario::reader::{check_unique, find, unknown_reference, Located, Names, Reader};
use crate::scenario::spec::PoolSpec;

/// The pools, each resolved against the instance types (`type_names`, and `types` if they are
/// valid) and the `queues`; `None` if any is wrong (every problem reported).
pub fn validate_pools(
    r: &mut Reader<'_>,
    pools: &[RawPool],
    queues: &[RawQueue],
    type_names: &Names<'_>,
    types: Option<&[InstanceType]>,
) -> Option<Vec<PoolSpec>> {
    if pools.is_empty() {
        r.error_at(
            "pool",
            None,
            "no server pools",
            Some("add one: [[pool]] name = \"gpu\" instance_type = \"a100\" instances = 4".into()),
        );
        return None;
    }
    let names: Vec<&Located<String>> = pools.iter().filter_map(|p| p.name.as_ref()).collect();
    let mut ok = check_unique(r, &names, "pool", "give each pool its own name");
    let mut queues = Queues::new(queues, pools);
    let mut out = Vec::new();
    for (index, p) in pools.iter().enumerate() {
        match validate_pool(r, p, index, &mut queues, type_names, types) {
            Some(pool) => out.push(pool),
            None => ok = false,
        }
    }
    ok &= queues.finish(r);
    (ok && types.is_some()).then_some(out)
}

/// Pool `p`, the `index`th; `None` if anything in it is wrong.
fn validate_pool(
    r: &mut Reader<'_>,
    p: &RawPool,
    index: usize,
    queues: &mut Queues<'_>,
    type_names: &Names<'_>,
    types: Option<&[InstanceType]>,
) -> Option<PoolSpec> {
    let (instance_type, mixed, mut ok) = instance_types(r, p, type_names, types);
    let scaling = p.autoscaling.as_ref();
    let instances = initial_instances(r, p);
    ok &= warm_pool_fits(r, p);
    let controller = scaling
        .and_then(|a| a.value.as_ref())
        .map(|s| &s.controller);
    let termination_policy = match (&p.termination_policy, controller) {
        (Some(t), _) => termination_policy(t.value),
        (None, Some(Controller::Hpa(_) | Controller::Keda(_))) => TerminationPolicy::Kubernetes,
        (None, _) => TerminationPolicy::AwsDefault,
    };
    let (dispatch, queue_capacity) = match &p.queue {
        Some(q) => match queues.pulled_by(r, p, q, index) {
            Some(capacity) => (Dispatch::SharedQueue, capacity),
            None => {
                ok = false;
                (Dispatch::SharedQueue, None)
            }
        },
        None => (
            match p.dispatch.as_ref().map(|d| d.value) {
                Some("shared_queue") => Dispatch::SharedQueue,
                _ => Dispatch::Balancer,
            },
            p.queue_capacity.as_ref().map(|q| q.value as u32),
        ),
    };
    ok &= failures_fit(r, p, dispatch);
    ok &= spot_warm_pool(r, p);
    let startup = startup(
        r,
        p,
        instance_type.and_then(|t| types.map(|types| &types[t])),
    );
    ok &= startup.is_some();
    let (Some(name), Some(instance_type), Some(instances), true) =
        (&p.name, instance_type, instances, ok)
    else {
        return None;
    };
    Some(PoolSpec {
        name: name.value.clone(),
        instance_type,
        instances,
        dispatch,
        queue_capacity,
        weight: p.weight.as_ref().map_or_else(
            || types.map_or(1, |t| t[instance_type].weight),
            |w| w.value as u32,
        ),
        startup: startup?,
        deregistration_delay: p.deregistration_delay.as_ref().map_or(
            match controller {
                // A pod gets its terminationGracePeriodSeconds, not ELB's delay.
                Some(Controller::Hpa(_) | Controller::Keda(_)) => DEFAULT_TERMINATION_GRACE_PERIOD,
                _ => DEFAULT_DEREGISTRATION_DELAY,
            },
            |d| d.value,
        ),
        termination_policy,
        warm_pool: p.warm_pool.as_ref().and_then(|w| w.value),
        launch: p.launch.unwrap_or_default(),
        autoscaling: scaling.and_then(|a| a.value.clone()),
        queue: p.queue.as_ref().map(|q| q.value.clone()),
        mixed,
        failures: p.failures.as_ref().and_then(|f| f.value.clone()),
        replace_unhealthy: p.replace_unhealthy.as_ref().is_some_and(|x| x.value),
    })
}

/// The pool's instance type (its policy's first, with a mixed instances policy) and its
/// policy, and false if either is wrong (reported). A plain pool bought on the spot market is a
/// one-type policy with no on-demand.
fn instance_types(
    r: &mut Reader<'_>,
    p: &RawPool,
    type_names: &Names<'_>,
    types: Option<&[InstanceType]>,
) -> (Option<usize>, Option<MixedInstances>, bool) {
    let mixed = validate_mixed(r, p, type_names, types);
    let instance_type = match &mixed {
        Ok(Some(m)) if p.mixed.is_some() => Some(m.types[0]),
        Err(()) if p.mixed.is_some() => None,
        _ => p.instance_type.as_ref().and_then(|t| {
            let found = find(type_names, &t.value);
            if found.is_none() {
                unknown_reference(r, t, "instance type", type_names);
            }
            found
        }),
    };
    let mut ok = true;
    let mixed = match (mixed, &p.purchase, instance_type) {
        (Ok(None), Some(purchase), Some(t)) if purchase.value == PurchaseOption::Spot => {
            if types.is_some_and(|ts| ts[t].spot_price.is_none()) {
                r.error(
                    purchase,
                    format!(
                        "instance type \"{}\" has no spot_price, so it cannot be bought on the spot market",
                        type_names[t]
                    ),
                    Some("add spot_price = \"$0.40/h\" to its [[instance_type]]".into()),
                );
                ok = false;
            }
            Some(MixedInstances {
                types: vec![t],
                on_demand_base: 0,
                on_demand_percent: 0,
                on_demand_strategy: OnDemandStrategy::Prioritized,
                spot_strategy: SpotStrategy::PriceCapacityOptimized,
                spot_instance_pools: DEFAULT_SPOT_INSTANCE_POOLS,
                capacity_rebalance: false,
            })
        }
        (Ok(m), _, _) => m,
        (Err(()), _, _) => {
            ok = false;
            None
        }
    };
    (instance_type, mixed, ok)
}

/// The pool's instances at the start: its `instances`, within its autoscaling bounds (else
/// reported), or its autoscaling's min; `None` when missing or broken (reported by stage one).
fn initial_instances(r: &mut Reader<'_>, p: &RawPool) -> Option<u32> {
    match (&p.instances, p.autoscaling.as_ref()) {
        (
            Some(i),
            Some(Located {
                value: Some(spec), ..
            }),
        ) if i.value < u64::from(spec.floor()) || i.value > u64::from(spec.max) => {
            r.error(
                i,
                format!(
                    "instances = {} is outside the autoscaling bounds, min {} to max {}",
                    i.value, spec.min, spec.max
                ),
                Some(format!(
                    "the group starts at this desired capacity, which stays within its min and max: set instances from {} to {}, or leave it out to start at min",
                    spec.min, spec.max
                )),
            );
            None
        }
        (Some(i), _) => Some(i.value as u32),
        (None, Some(a)) => a.value.as_ref().map(|s| s.min),
        (None, None) => None,
    }
}

/// False (reported) for a warm pool without an autoscaler to feed.
fn warm_pool_fits(r: &mut Reader<'_>, p: &RawPool) -> bool {
    let Some(w) = p.warm_pool.as_ref().filter(|_| p.autoscaling.is_none()) else {
        return true;
    };
    r.error(
        w,
        "a warm pool feeds the instances an autoscaler launches, and this pool has no [pool.autoscaling]",
        Some("add [pool.autoscaling] with min, max and a policy, or remove [pool.warm_pool]".into()),
    );
    false
}

/// False for random failures that are broken (reported by stage one), or on a pool behind a
/// shared queue (reported).
fn failures_fit(r: &mut Reader<'_>, p: &RawPool, dispatch: Dispatch) -> bool {
    let Some(f) = &p.failures else {
        return true;
    };
    if f.value.is_none() {
        return false;
    }
    if dispatch == Dispatch::SharedQueue {
        r.error(
            f,
            "random failures are modelled for pools behind a balancer, not shared-queue pools",
            Some("use dispatch = \"balancer\" for this pool, or remove [pool.failures]".into()),
        );
        return false;
    }
    true
}

/// False (reported) for a warm pool in a pool bought on the spot market: AWS, "Warm pools for
/// Amazon EC2 Auto Scaling": no warm pool for a group that launches Spot Instances.
fn spot_warm_pool(r: &mut Reader<'_>, p: &RawPool) -> bool {
    let (Some(w), Some(purchase)) = (&p.warm_pool, &p.purchase) else {
        return true;
    };
    if purchase.value != PurchaseOption::Spot {
        return true;
    }
    r.error(
        w,
        "EC2 Auto Scaling does not allow a warm pool in a group that launches spot instances",
        Some("remove [pool.warm_pool], or buy on demand".into()),
    );
    false
}

/// The pool's startup phases, its model load computed from its engine's weights when it says
/// where they are read from (`model_load = { from = ... }`); `None` if it cannot be (reported).
fn startup(r: &mut Reader<'_>, p: &RawPool, itype: Option<&InstanceType>) -> Option<StartupSpec> {
    let mut spec = p.startup.clone().unwrap_or_else(StartupSpec::instant);
    let Some(from) = spec.model_load_from else {
        return Some(spec);
    };
    // An unresolved type was reported already.
    let itype = itype?;
    let Some(engine) = itype.llm.as_ref().and_then(|l| l.engine()) else {
        if let Some(name) = &p.name {
            r.error(
                name,
                format!(
                    "pool {:?}: model_load = {{ from = ... }} needs its instance type {:?} to serve a model (llm = {{ model = ... }})",
                    name.value, itype.name
                ),
                Some("give the model load as a duration, such as model_load = \"60s\", or name the model".into()),
            );
        }
        return None;
    };
    let load =
        crate::model::llm::load::load_time(engine.model.weight_bytes(), from, engine.config.tp);
    spec.model_load = ServiceTime::Constant {
        nanos: load.as_nanos() as f64,
    };
    Some(spec)
}
