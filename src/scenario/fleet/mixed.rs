//! Stage two of a pool's `[pool.mixed_instances]`: its types resolved, a spot price for each
//! type it may buy on the spot market, and no keys of a single-type pool beside it.

use super::pool::RawPool;
use crate::model::fleet::mixed::MixedInstances;
use crate::model::fleet::InstanceType;
use crate::scenario::reader::{find, unknown_reference, Located, Names, Reader};
use crate::scenario::spot::mixed::{spot_instance_pools, RawMixed};

/// A pool's `[pool.mixed_instances]`: known, distinct types, a spot price for each type it may
/// buy on the spot market, and no keys of a single-type pool beside it. `Ok(None)` without one.
pub fn validate_mixed(
    r: &mut Reader<'_>,
    p: &RawPool,
    type_names: &Names<'_>,
    types: Option<&[InstanceType]>,
) -> Result<Option<MixedInstances>, ()> {
    let Some(at) = &p.mixed else {
        return Ok(None);
    };
    let Some(m) = &at.value else {
        return Err(()); // reported by stage one
    };
    let mut ok = no_single_type_keys(r, p);
    let (resolved, resolved_ok) = resolve_types(r, m, type_names);
    ok &= resolved_ok;
    ok &= spot_prices_given(r, m, &resolved, types);
    let pools = spot_instance_pools(r, m);
    match (ok, pools) {
        (true, Some(spot_instance_pools)) => Ok(Some(MixedInstances {
            types: resolved,
            on_demand_base: m.on_demand_base,
            on_demand_percent: m.on_demand_percent,
            on_demand_strategy: m.on_demand_strategy,
            spot_strategy: m.spot_strategy,
            spot_instance_pools,
            capacity_rebalance: m.capacity_rebalance,
        })),
        _ => Err(()),
    }
}

/// False if the pool has a key of a single-type pool beside its policy (each reported).
fn no_single_type_keys(r: &mut Reader<'_>, p: &RawPool) -> bool {
    let clashes = [
        (
            p.instance_type.as_ref().map(Located::at),
            "instance_type",
            "the types are listed in [pool.mixed_instances] types",
        ),
        (
            p.purchase.as_ref().map(Located::at),
            "purchase",
            "the purchase options are set by on_demand_base_capacity and on_demand_percentage_above_base",
        ),
        (
            p.weight.as_ref().map(Located::at),
            "weight",
            "each instance takes its type's weight",
        ),
        // AWS, "Warm pools for Amazon EC2 Auto Scaling": a warm pool cannot be added to a
        // group with a mixed instances policy or that launches Spot Instances.
        (
            p.warm_pool.as_ref().map(Located::at),
            "warm_pool",
            "EC2 Auto Scaling does not allow a warm pool with a mixed instances policy",
        ),
    ];
    let mut ok = true;
    for (key_at, key, why) in clashes {
        if let Some(key_at) = key_at {
            r.error(
                &key_at,
                format!("a pool with [pool.mixed_instances] has no {key}: {why}"),
                Some(format!("remove {key}")),
            );
            ok = false;
        }
    }
    ok
}

/// The policy's types among `type_names`, in its order, and false if there is none, or one is
/// unknown or listed twice (each reported).
fn resolve_types(r: &mut Reader<'_>, m: &RawMixed, type_names: &Names<'_>) -> (Vec<usize>, bool) {
    let mut ok = true;
    if m.types.is_empty() {
        r.error(
            &m.types_at,
            "a mixed instances policy needs at least one instance type",
            Some("such as types = [\"g5.xlarge\", \"g6.xlarge\"]".into()),
        );
        ok = false;
    }
    let mut resolved = Vec::new();
    for t in &m.types {
        match find(type_names, &t.value) {
            Some(i) if resolved.contains(&i) => {
                r.error(
                    t,
                    format!("instance type \"{}\" is listed twice", t.value),
                    Some("list each type once, in priority order".into()),
                );
                ok = false;
            }
            Some(i) => resolved.push(i),
            None => {
                unknown_reference(r, t, "instance type", type_names);
                ok = false;
            }
        }
    }
    (resolved, ok)
}

/// False if the policy buys spot and one of its `resolved` types has no spot price (each
/// reported).
fn spot_prices_given(
    r: &mut Reader<'_>,
    m: &RawMixed,
    resolved: &[usize],
    types: Option<&[InstanceType]>,
) -> bool {
    let buys_spot = m.on_demand_percent < 100;
    let (true, Some(types)) = (buys_spot, types) else {
        return true;
    };
    let mut ok = true;
    for (&i, t) in resolved.iter().zip(&m.types) {
        if types[i].spot_price.is_none() {
            r.error(
                t,
                format!(
                    "instance type \"{}\" has no spot_price, and this policy buys spot (on_demand_percentage_above_base = {})",
                    t.value, m.on_demand_percent
                ),
                Some("add spot_price = \"$0.40/h\" to its [[instance_type]], or set on_demand_percentage_above_base = 100".into()),
            );
            ok = false;
        }
    }
    ok
}
