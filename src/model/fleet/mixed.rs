//! A mixed instances policy: one pool launching several instance types, bought on demand or on
//! the spot market, with the semantics of an EC2 Auto Scaling group's `MixedInstancesPolicy`
//! (EC2 Auto Scaling user guide, "Auto Scaling groups with multiple instance types and purchase
//! options", sections "Instances distribution" and "Allocation strategies").
//!
//! Pure decisions: how many of the desired capacity are on-demand ([`MixedInstances::split`]),
//! which purchase option the next launch is ([`MixedInstances::next_purchase`]), in which order
//! to try instance types for it ([`MixedInstances::on_demand_order`],
//! [`MixedInstances::spot_order`]). The world applies them and tries the types in that order
//! until one has capacity.
//!
//! Left out: per-type `WeightedCapacity` (every instance counts one unit of capacity), and
//! `capacity-optimized-prioritized`.

use crate::model::market::PurchaseOption;

/// How on-demand capacity picks among the types (`on_demand_allocation_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDemandStrategy {
    /// The types in the order listed (AWS `prioritized`, the default).
    Prioritized,
    /// The cheapest type first (AWS `lowest-price`).
    LowestPrice,
}

/// How spot capacity picks among spot pools (`spot_allocation_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpotStrategy {
    /// AWS `price-capacity-optimized` (the default): among the pools whose interruption risk is
    /// within [`PRICE_CAPACITY_TOLERANCE`] of the lowest, the cheapest.
    PriceCapacityOptimized,
    /// AWS `capacity-optimized`: the pool with the lowest interruption risk.
    CapacityOptimized,
    /// AWS `lowest-price`: spread evenly across the cheapest `spot_instance_pools` pools.
    LowestPrice,
}

/// `price-capacity-optimized` treats pools whose interruption risk is at most this factor of the
/// lowest risk as equally available, and takes the cheapest of them. AWS ("Allocation strategies
/// for Spot Instances") says only that it "identifies the pools with the highest capacity
/// availability for the number of instances that are launching ... then requests Spot Instances
/// from the lowest priced of these pools"; the factor 1.5 is our assumption.
pub const PRICE_CAPACITY_TOLERANCE: f64 = 1.5;

/// AWS's default `SpotInstancePools` for `lowest-price`.
pub const DEFAULT_SPOT_INSTANCE_POOLS: u32 = 2;

/// A pool's mixed instances policy (`[pool.mixed_instances]`), or a plain spot pool
/// (`purchase = "spot"`: one type, 0 % on-demand).
#[derive(Debug, Clone, PartialEq)]
pub struct MixedInstances {
    /// Instance types (indices into the scenario's types), in priority order (the launch
    /// template overrides).
    pub types: Vec<usize>,
    /// `OnDemandBaseCapacity`: the first instances are on-demand. Default 0.
    pub on_demand_base: u32,
    /// `OnDemandPercentageAboveBaseCapacity` \[%\]. Default 100.
    pub on_demand_percent: u32,
    /// `OnDemandAllocationStrategy`.
    pub on_demand_strategy: OnDemandStrategy,
    /// `SpotAllocationStrategy`.
    pub spot_strategy: SpotStrategy,
    /// `SpotInstancePools` (for `lowest-price` only).
    pub spot_instance_pools: u32,
    /// `CapacityRebalance`: replace a spot instance when it receives a rebalance
    /// recommendation, and launch the replacement of an interrupted one at its notice.
    pub capacity_rebalance: bool,
}

/// What the spot allocation strategy knows of one spot pool (an instance type in the pool's
/// single zone).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpotPoolView {
    /// The instance type.
    pub itype: usize,
    /// Its spot price now [USD/h].
    pub price: f64,
    /// Its interruption risk: expected interruptions per instance-hour (0 without a hazard).
    pub risk: f64,
    /// Our spot instances running in it now.
    pub running: u32,
}

impl MixedInstances {
    /// The on-demand and spot counts for desired capacity `desired` (AWS "Instances
    /// distribution"): on-demand = min(D, base) + ceil(pct/100 × max(0, D − base)), rounding
    /// "up to the next integer in favor of On-Demand"; spot = the rest.
    pub fn split(&self, desired: u32) -> (u32, u32) {
        let base = desired.min(self.on_demand_base);
        let above = u64::from(desired - base);
        let pct = u64::from(self.on_demand_percent);
        // Integer ceiling: no float rounding at exact multiples.
        let od_above = (above * pct).div_ceil(100) as u32;
        let on_demand = base + od_above;
        (on_demand, desired - on_demand)
    }

    /// The purchase option of the next launch, for a group at desired capacity `desired` with
    /// `on_demand` and `spot` instances now: whichever is below its share of `desired`
    /// (on-demand first, as the base is filled first); at or above both (a replacement of an
    /// at-risk instance), the option the next instance above `desired` would have.
    pub fn next_purchase(&self, desired: u32, on_demand: u32, spot: u32) -> PurchaseOption {
        let (od_target, spot_target) = self.split(desired);
        if on_demand < od_target {
            PurchaseOption::OnDemand
        } else if spot < spot_target {
            PurchaseOption::Spot
        } else {
            let (od_next, _) = self.split(on_demand + spot + 1);
            if od_next > on_demand {
                PurchaseOption::OnDemand
            } else {
                PurchaseOption::Spot
            }
        }
    }

    /// The purchase option scale-in removes first, for a group going to desired capacity
    /// `desired` from `on_demand` and `spot` instances: the option above its share of
    /// `desired` (AWS: "terminates instances in a way that maintains the distribution"); spot
    /// first when both are (or neither is).
    pub fn over_target(&self, desired: u32, on_demand: u32, spot: u32) -> PurchaseOption {
        let (od_target, spot_target) = self.split(desired);
        if spot > spot_target || on_demand <= od_target {
            PurchaseOption::Spot
        } else {
            PurchaseOption::OnDemand
        }
    }

    /// The types to try for an on-demand launch, best first; `price(t)` is type `t`'s
    /// on-demand price.
    pub fn on_demand_order(&self, price: impl Fn(usize) -> f64) -> Vec<usize> {
        let mut order = self.types.clone();
        if self.on_demand_strategy == OnDemandStrategy::LowestPrice {
            // Stable: equal prices keep their priority order.
            order.sort_by(|&a, &b| price(a).total_cmp(&price(b)));
        }
        order
    }

    /// The spot pools to try for a spot launch, best first, from `pools` (in priority order).
    pub fn spot_order(&self, pools: &[SpotPoolView]) -> Vec<usize> {
        let rank = |i: usize| -> (u8, f64, f64, u32, usize) {
            let p = &pools[i];
            match self.spot_strategy {
                SpotStrategy::CapacityOptimized => (0, p.risk, 0.0, 0, i),
                SpotStrategy::PriceCapacityOptimized => {
                    let best = pools.iter().map(|p| p.risk).fold(f64::INFINITY, f64::min);
                    let tier = u8::from(p.risk > best * PRICE_CAPACITY_TOLERANCE);
                    (tier, p.price, p.risk, 0, i)
                }
                SpotStrategy::LowestPrice => {
                    // The cheapest N pools; within them the one with the fewest of ours.
                    let cheaper = pools
                        .iter()
                        .enumerate()
                        .filter(|&(j, q)| q.price < p.price || (q.price == p.price && j < i))
                        .count() as u32;
                    let tier = u8::from(cheaper >= self.spot_instance_pools.max(1));
                    (tier, f64::from(p.running), p.price, 0, i)
                }
            }
        };
        let mut order: Vec<usize> = (0..pools.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (rank(a), rank(b));
            x.0.cmp(&y.0)
                .then(x.1.total_cmp(&y.1))
                .then(x.2.total_cmp(&y.2))
                .then(x.3.cmp(&y.3))
                .then(x.4.cmp(&y.4))
        });
        order.into_iter().map(|i| pools[i].itype).collect()
    }

    /// Under the `allocation_strategy` termination policy, how much an instance of type `itype`
    /// bought as `purchase` should go first (higher goes first): for on-demand `prioritized`
    /// the lowest priority type, for `lowest_price` the dearest; for spot the dearest (the
    /// pool the strategy would fill last). `price(t, p)` is type `t`'s price as `p`.
    pub fn termination_rank(
        &self,
        itype: usize,
        purchase: PurchaseOption,
        price: impl Fn(usize, PurchaseOption) -> f64,
    ) -> u64 {
        let priority = self.types.iter().position(|&t| t == itype).unwrap_or(0) as u64;
        match (purchase, self.on_demand_strategy) {
            (PurchaseOption::OnDemand, OnDemandStrategy::Prioritized) => priority,
            // Prices as micro-dollars per hour: an integer key, ordered as the price.
            _ => (price(itype, purchase) * 1e6) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base: u32, pct: u32) -> MixedInstances {
        MixedInstances {
            types: vec![0, 1, 2],
            on_demand_base: base,
            on_demand_percent: pct,
            on_demand_strategy: OnDemandStrategy::Prioritized,
            spot_strategy: SpotStrategy::PriceCapacityOptimized,
            spot_instance_pools: DEFAULT_SPOT_INSTANCE_POOLS,
            capacity_rebalance: false,
        }
    }

    #[test]
    fn the_split_follows_the_instances_distribution_formula_at_every_size() {
        // AWS's worked example ("Instances distribution"): base 10, 50 % above; desired 15 gives
        // 10 + ceil(0.5 × 5) = 13 on-demand (rounded up in favour of On-Demand) and 2 spot.
        assert_eq!(policy(10, 50).split(15), (13, 2));
        for (base, pct) in [(0, 0), (0, 100), (2, 20), (2, 80), (3, 33), (5, 50), (1, 1)] {
            let p = policy(base, pct);
            for d in 0..=40u32 {
                let above = d.saturating_sub(base);
                let want = d.min(base) + (f64::from(above) * f64::from(pct) / 100.0).ceil() as u32;
                assert_eq!(p.split(d), (want, d - want), "base {base} pct {pct} D {d}");
            }
        }
        // Hand-computed: base 2, 20 %: D = 3 → 2 + ceil(0.2) = 3 on-demand; D = 7 → 2 + 1 = 3;
        // D = 8 → 2 + ceil(1.2) = 4.
        let p = policy(2, 20);
        assert_eq!(p.split(3), (3, 0));
        assert_eq!(p.split(7), (3, 4));
        assert_eq!(p.split(8), (4, 4));
    }

    #[test]
    fn launching_one_at_a_time_by_next_purchase_reaches_the_split_at_every_size() {
        for (base, pct) in [(2, 20), (0, 0), (0, 100), (3, 50)] {
            let p = policy(base, pct);
            let (mut od, mut spot) = (0, 0);
            for d in 1..=30 {
                match p.next_purchase(d, od, spot) {
                    PurchaseOption::OnDemand => od += 1,
                    PurchaseOption::Spot => spot += 1,
                }
                assert_eq!((od, spot), p.split(d), "base {base} pct {pct} D {d}");
            }
            // And back down, removing the option over its target each time.
            for d in (0..30).rev() {
                match p.over_target(d, od, spot) {
                    PurchaseOption::OnDemand => od -= 1,
                    PurchaseOption::Spot => spot -= 1,
                }
                assert_eq!((od, spot), p.split(d), "down: base {base} pct {pct} D {d}");
            }
        }
    }

    fn view(itype: usize, price: f64, risk: f64, running: u32) -> SpotPoolView {
        SpotPoolView {
            itype,
            price,
            risk,
            running,
        }
    }

    #[test]
    fn spot_strategies_order_pools_by_price_risk_or_spread() {
        let pools = [
            view(0, 0.50, 0.02, 0),
            view(1, 0.30, 0.10, 0),
            view(2, 0.40, 0.025, 0),
        ];
        let mut p = policy(0, 0);
        p.spot_strategy = SpotStrategy::CapacityOptimized;
        assert_eq!(p.spot_order(&pools), vec![0, 2, 1]);
        // Risks within 1.5 × 0.02 = 0.03: types 0 and 2; the cheaper of them (2) first.
        p.spot_strategy = SpotStrategy::PriceCapacityOptimized;
        assert_eq!(p.spot_order(&pools), vec![2, 0, 1]);
        // The two cheapest (1 at 0.30, 2 at 0.40), the one with fewer of ours first.
        p.spot_strategy = SpotStrategy::LowestPrice;
        assert_eq!(p.spot_order(&pools), vec![1, 2, 0]);
        let spread = [
            view(0, 0.50, 0.0, 0),
            view(1, 0.30, 0.0, 3),
            view(2, 0.40, 0.0, 2),
        ];
        assert_eq!(p.spot_order(&spread), vec![2, 1, 0]);
    }

    #[test]
    fn on_demand_order_is_priority_or_price() {
        let prices = [1.0, 0.5, 0.8];
        let mut p = policy(0, 100);
        assert_eq!(p.on_demand_order(|t| prices[t]), vec![0, 1, 2]);
        p.on_demand_strategy = OnDemandStrategy::LowestPrice;
        assert_eq!(p.on_demand_order(|t| prices[t]), vec![1, 2, 0]);
    }
}
