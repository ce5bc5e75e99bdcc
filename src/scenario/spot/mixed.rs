//! `[pool.mixed_instances]` (an EC2 Auto Scaling mixed instances policy, with the defaults of
//! AWS `InstancesDistribution`) and `purchase`, read into raw shapes: the type names are
//! resolved by the pool.

use crate::model::fleet::mixed::{OnDemandStrategy, SpotStrategy, DEFAULT_SPOT_INSTANCE_POOLS};
use crate::model::market::PurchaseOption;
use crate::scenario::lifecycle::MAX_INSTANCES;
use crate::scenario::reader::keys::{Flag, Key, Kind, OneOf, Whole};
use crate::scenario::reader::{Located, Node, Reader};

/// `[pool.mixed_instances]` before its type names are resolved.
pub struct RawMixed {
    pub types: Vec<Located<String>>,
    pub types_at: Located<()>,
    pub on_demand_base: u32,
    pub on_demand_percent: u32,
    pub on_demand_strategy: OnDemandStrategy,
    pub spot_strategy: SpotStrategy,
    pub spot_instance_pools: Option<Located<u64>>,
    pub capacity_rebalance: bool,
}

/// `purchase = "on_demand" | "spot"`.
#[derive(Debug, Clone, Copy)]
pub struct Purchase;

impl Kind for Purchase {
    type Value = PurchaseOption;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<PurchaseOption>> {
        r.one_of(&node, &["on_demand", "spot"]).map(|p| {
            p.to(match p.value {
                "spot" => PurchaseOption::Spot,
                _ => PurchaseOption::OnDemand,
            })
        })
    }
}

const TYPES: &str = "types";
const TYPES_HINT: &str = "list the instance types the pool may launch, in priority order, such as types = [\"g5.xlarge\", \"g6.xlarge\"]";
const ON_DEMAND_BASE: Key<Whole> =
    Key::optional("on_demand_base_capacity", Whole(0, MAX_INSTANCES));
const ON_DEMAND_PERCENT: Key<Whole> =
    Key::optional("on_demand_percentage_above_base", Whole(0, 100));
const ON_DEMAND_STRATEGY: Key<OneOf> = Key::optional(
    "on_demand_allocation_strategy",
    OneOf(&["prioritized", "lowest_price"]),
);
const SPOT_STRATEGY: Key<OneOf> = Key::optional(
    "spot_allocation_strategy",
    OneOf(&[
        "price_capacity_optimized",
        "capacity_optimized",
        "lowest_price",
    ]),
);
const SPOT_INSTANCE_POOLS: Key<Whole> = Key::optional("spot_instance_pools", Whole(1, 20));
const CAPACITY_REBALANCE: Key<Flag> = Key::optional("capacity_rebalance", Flag);

/// `[pool.mixed_instances]`, with the defaults of AWS `InstancesDistribution`.
pub fn read_mixed(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawMixed> {
    let at = node.at();
    let mut f = r.table(
        node,
        "a mixed instances table such as [pool.mixed_instances] types = [\"g5.xlarge\", \"g6.xlarge\"] on_demand_percentage_above_base = 20",
    )?;
    let types_node = f.required(r, TYPES, TYPES_HINT);
    let types_at = types_node.as_ref().map_or(at, Node::at);
    let mut ok = true;
    let mut types = Vec::new();
    match types_node.and_then(|n| r.array(&n, "an array of instance type names")) {
        Some(items) => {
            for n in items {
                match r.string(&n) {
                    Some(s) => types.push(s),
                    None => ok = false,
                }
            }
        }
        None => ok = false,
    }
    let mut spec = RawMixed {
        types,
        types_at,
        on_demand_base: 0,
        on_demand_percent: 100,
        on_demand_strategy: OnDemandStrategy::Prioritized,
        spot_strategy: SpotStrategy::PriceCapacityOptimized,
        spot_instance_pools: None,
        capacity_rebalance: false,
    };
    ok &= f.read_into(r, &ON_DEMAND_BASE, &mut spec.on_demand_base, |v| v as u32);
    ok &= f.read_into(r, &ON_DEMAND_PERCENT, &mut spec.on_demand_percent, |v| {
        v as u32
    });
    ok &= f.read_into(
        r,
        &ON_DEMAND_STRATEGY,
        &mut spec.on_demand_strategy,
        |s| match s {
            "lowest_price" => OnDemandStrategy::LowestPrice,
            _ => OnDemandStrategy::Prioritized,
        },
    );
    ok &= f.read_into(r, &SPOT_STRATEGY, &mut spec.spot_strategy, |s| match s {
        "capacity_optimized" => SpotStrategy::CapacityOptimized,
        "lowest_price" => SpotStrategy::LowestPrice,
        _ => SpotStrategy::PriceCapacityOptimized,
    });
    match f.read_given(r, &SPOT_INSTANCE_POOLS) {
        Some(Some(v)) => spec.spot_instance_pools = Some(v),
        Some(None) => ok = false,
        None => {}
    }
    ok &= f.read_into(r, &CAPACITY_REBALANCE, &mut spec.capacity_rebalance, |v| v);
    f.finish(r);
    ok.then_some(spec)
}

/// The `spot_instance_pools` of a policy: only `lowest_price` reads it (AWS rejects it with the
/// other strategies).
pub fn spot_instance_pools(r: &mut Reader<'_>, m: &RawMixed) -> Option<u32> {
    match (&m.spot_instance_pools, m.spot_strategy) {
        (None, _) => Some(DEFAULT_SPOT_INSTANCE_POOLS),
        (Some(p), SpotStrategy::LowestPrice) => Some(p.value as u32),
        (Some(p), _) => {
            r.error(
                p,
                "spot_instance_pools applies only to spot_allocation_strategy = \"lowest_price\"",
                Some("remove spot_instance_pools, or use the lowest_price strategy".into()),
            );
            None
        }
    }
}
