//! The spot market in the world: which instance type and purchase option a launch gets (a
//! pool's mixed instances policy, over capacity shortages), spot interruptions with their
//! two-minute notice, rebalance recommendations and capacity rebalancing.
//!
//! The decisions are the models' ([`MixedInstances`], [`SpotInterruptions`]); this file applies
//! them with EC2 Auto Scaling's semantics:
//!
//! - **Launch.** The option below its share of the desired capacity is launched; its types are
//!   tried in the allocation strategy's order, skipping those in a capacity shortage
//!   (EC2 `InsufficientInstanceCapacity`): "If Amazon EC2 Auto Scaling can't launch an instance
//!   in one Spot pool, it tries the next" (user guide, "Allocation strategies"). A spot launch
//!   never falls back to on-demand. If no type can launch, the launch fails and is retried.
//! - **Interruption.** At the notice (EC2, "Spot Instance interruption notices": two minutes
//!   before) the instance is deregistered from its balancers and drains, as a scale-in drain
//!   does; two minutes later the cloud reclaims it ([`World::interrupted_by_cloud`]): what it
//!   still holds fails as `interrupted`, counted under `spot_interruption`. An instance not yet
//!   in service holds nothing and is terminated at the notice. Without capacity rebalancing the
//!   group replaces the instance once it is terminated (it still counts toward the desired
//!   capacity until then); with it, "Amazon EC2 Auto Scaling launches a replacement instance
//!   when the Spot Instance receives an interruption notice" if none was launched before
//!   (user guide, "Capacity Rebalancing").
//! - **Rebalance recommendation.** With capacity rebalancing, the at-risk instance stops counting
//!   toward the desired capacity, so a replacement is launched; once a replacement is in
//!   service, the at-risk instance is drained and terminated ("After the new instances are
//!   launched and InService, ... terminates the old instances").

use std::collections::BTreeMap;

use super::{Fleet, Instance};
use crate::engine::{open_unit, EventQueue, StreamRng};
use crate::metrics::{Failure, LossCause, PoolMarket};
use crate::model::balancer::routing::BalancerSpec;
use crate::model::balancer::{slow_start, Algorithm};
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::mixed::SpotPoolView;
use crate::model::market::billing::EndedBy;
use crate::model::market::interruptions::NOTICE;
use crate::model::market::PurchaseOption;
use crate::scenario::Scenario;
use crate::time::SimTime;
use crate::world::billing::Billing;
use crate::world::ids::{Id, InstanceId, InstanceTypeId, PoolId, TargetId};
use crate::world::{Ctx, Event};

/// What a pool's spot instances and launches went through.
#[derive(Debug, Clone, Copy, Default)]
pub(in crate::world) struct SpotStats {
    /// Interruption notices received.
    pub interruptions: u64,
    /// Instances reclaimed by the cloud two minutes after their notice.
    pub reclaimed: u64,
    /// Rebalance recommendations received.
    pub rebalance_recommendations: u64,
    /// At-risk instances replaced by capacity rebalancing.
    pub rebalance_replacements: u64,
    /// Launch attempts of a type refused for insufficient capacity.
    pub insufficient_capacity: u64,
}

/// A pool's counted instances, as the allocation strategies read them.
struct LaunchCounts {
    on_demand: u32,
    /// Spot instances per type, in the order of the policy's types.
    spot_by_type: Vec<u32>,
}

/// A pool's spot state: its own random stream (`spot/<pool>`) and counts.
pub(in crate::world) struct PoolSpot {
    rng: StreamRng,
    pub stats: SpotStats,
}

impl PoolSpot {
    /// The spot state of a pool drawing from `rng`.
    pub fn new(rng: StreamRng) -> Self {
        PoolSpot {
            rng,
            stats: SpotStats::default(),
        }
    }
}

impl Fleet {
    /// `pool`'s counted instances: on-demand, and spot per type of its policy.
    fn launch_counts(&self, scenario: &Scenario, pool: PoolId) -> LaunchCounts {
        let types = scenario.pools[pool.index()]
            .mixed
            .as_ref()
            .map_or(&[][..], |m| &m.types[..]);
        let mut c = LaunchCounts {
            on_demand: 0,
            spot_by_type: vec![0; types.len()],
        };
        for inst in self.instances.range(self.slots_of(pool)) {
            if !inst.counted() {
                continue;
            }
            match inst.purchase {
                PurchaseOption::OnDemand => c.on_demand += 1,
                PurchaseOption::Spot => {
                    if let Some(k) = types.iter().position(|&t| t == inst.itype.index()) {
                        c.spot_by_type[k] += 1;
                    }
                }
            }
        }
        c
    }

    /// The purchase option of `pool`'s next launch and its types, best first, for a pool
    /// whose counted instances are `counts`.
    fn launch_candidates(
        &self,
        scenario: &Scenario,
        billing: &Billing,
        now: SimTime,
        pool: PoolId,
        counts: &LaunchCounts,
    ) -> (PurchaseOption, Vec<usize>) {
        let spec = &scenario.pools[pool.index()];
        let Some(m) = &spec.mixed else {
            return (PurchaseOption::OnDemand, vec![spec.instance_type]);
        };
        let spot: u32 = counts.spot_by_type.iter().sum();
        let purchase = m.next_purchase(self.pools[pool].fleet.desired, counts.on_demand, spot);
        let order = match purchase {
            PurchaseOption::OnDemand => {
                m.on_demand_order(|t| billing.price_at(scenario, t, purchase, now))
            }
            PurchaseOption::Spot => {
                let views: Vec<SpotPoolView> = m
                    .types
                    .iter()
                    .zip(&counts.spot_by_type)
                    .map(|(&t, &running)| SpotPoolView {
                        itype: t,
                        price: billing.spot_price_at(scenario, t, now),
                        risk: scenario.instance_types[t]
                            .spot_interruptions
                            .as_ref()
                            .map_or(0.0, |s| s.risk_per_hour()),
                        running,
                    })
                    .collect();
                m.spot_order(&views)
            }
        };
        (purchase, order)
    }

    /// True if spot type `itype` has no instance left for us at `now` by its availability
    /// trace (every available one already runs).
    fn spot_exhausted(&self, scenario: &Scenario, itype: usize, now: SimTime) -> bool {
        scenario.instance_types[itype]
            .spot_availability
            .as_ref()
            .is_some_and(|a| self.spot_running(InstanceTypeId::new(itype)) >= a.at(now))
    }

    /// The type and purchase option `pool`'s next launch at `now` gets: the first candidate
    /// without a capacity shortage. `None` if every candidate is short (each refusal counted).
    pub(in crate::world) fn choose_launch(
        &mut self,
        scenario: &Scenario,
        billing: &Billing,
        now: SimTime,
        pool: PoolId,
    ) -> Option<(InstanceTypeId, PurchaseOption)> {
        let counts = self.launch_counts(scenario, pool);
        let (purchase, order) = self.launch_candidates(scenario, billing, now, pool, &counts);
        let shortages = &scenario.capacity_shortages;
        let mut refused = 0;
        let mut chosen = None;
        for t in order {
            let exhausted =
                purchase == PurchaseOption::Spot && self.spot_exhausted(scenario, t, now);
            if exhausted || shortages.iter().any(|s| s.blocks(t, purchase, now)) {
                refused += 1;
            } else {
                chosen = Some((InstanceTypeId::new(t), purchase));
                break;
            }
        }
        if refused > 0 {
            if let Some(s) = self.pools[pool].spot.as_mut() {
                s.stats.insufficient_capacity += refused;
            }
        }
        chosen
    }

    /// Draws when spot instance `id` gets its interruption notice, and whether and when a
    /// rebalance recommendation precedes it: three draws from the pool's stream, always.
    fn arm_interruption(
        &mut self,
        scenario: &Scenario,
        queue: &mut EventQueue<Event>,
        now: SimTime,
        id: InstanceId,
    ) {
        let inst = &self.instances[id];
        let (pool, life) = (inst.pool, inst.life);
        let Some(spec) = &scenario.instance_types[inst.itype.index()].spot_interruptions else {
            return;
        };
        let Some(s) = self.pools[pool].spot.as_mut() else {
            return;
        };
        let (u_notice, u_rebalance, u_lead) = (
            open_unit(&mut s.rng),
            open_unit(&mut s.rng),
            open_unit(&mut s.rng),
        );
        let notice = now.saturating_add(spec.time_to_notice(u_notice));
        queue.schedule_in(notice - now, Event::SpotNotice { instance: id, life });
        if u_rebalance < spec.rebalance_fraction {
            let lead = spec.rebalance_lead.quantile(u_lead);
            let at =
                SimTime::from_nanos(notice.as_nanos().saturating_sub(lead.as_nanos())).max(now);
            queue.schedule_in(at - now, Event::Rebalance { instance: id, life });
        }
    }

    /// `id`'s balancer weight becomes its type's `weight` in every target group of its pool
    /// (scaled as at build when the group has slow start).
    fn set_instance_weight(&mut self, scenario: &Scenario, id: InstanceId, weight: u32) {
        let pool = self.instances[id].pool;
        let offset = self.slots_of(pool).offset(id) as u32;
        for i in 0..self.pools[pool].fleet.targets.len() {
            let (group, first) = self.pools[pool].fleet.targets[i];
            let spec = &scenario.target_groups[group.index()].balancer;
            let g = &mut self.groups[group];
            if g.shared_pool.is_some() {
                continue;
            }
            let target = TargetId::from_raw(first + offset);
            let w = scaled_weight(spec, weight);
            g.health.set_full_weight(target, w);
            g.balancer.set_weight(target.index(), w);
        }
    }

    /// A mixed pool's results at the end of the run (its instance-hours are the bill's, so
    /// call it once the bill is closed); `None` for other pools.
    pub(in crate::world) fn pool_market(
        &self,
        scenario: &Scenario,
        billing: &Billing,
        pool: PoolId,
    ) -> Option<PoolMarket> {
        let spot = self.pools[pool].spot.as_ref()?.stats;
        let (on_demand_at_end, spot_at_end) = self.purchase_counts(pool);
        let mut instance_hours = BTreeMap::new();
        for (itype, purchase, hours) in billing.used_hours(pool) {
            let name = &scenario.instance_types[itype].name;
            instance_hours.insert(format!("{name}/{}", purchase.as_str()), hours);
        }
        Some(PoolMarket {
            on_demand_at_end,
            spot_at_end,
            instance_hours,
            spot_interruptions: spot.interruptions,
            spot_reclaimed: spot.reclaimed,
            rebalance_recommendations: spot.rebalance_recommendations,
            rebalance_replacements: spot.rebalance_replacements,
            insufficient_capacity: spot.insufficient_capacity,
        })
    }
}

/// Schedules the first point of every spot availability trace, at t = 0 (a trace's first
/// value holds from the start): each point schedules the next when it is applied.
pub(in crate::world) fn init_availability(scenario: &Scenario, queue: &mut EventQueue<Event>) {
    for (t, spec) in scenario.instance_types.iter().enumerate() {
        if let Some(&(at, _)) = spec
            .spot_availability
            .as_ref()
            .and_then(|a| a.points.first())
        {
            queue.schedule_in(
                at - SimTime::ZERO,
                Event::SpotAvailability {
                    itype: InstanceTypeId::new(t),
                    point: 0,
                },
            );
        }
    }
}

/// A target's balancer weight for an instance weight `weight`, scaled as `Fleet::new` scales
/// them when the group has slow start (ALB round robin has no weights: every target is 1).
fn scaled_weight(spec: &BalancerSpec, weight: u32) -> u32 {
    if spec.slow_start.is_some() {
        let w = if spec.algorithm == Algorithm::RoundRobin {
            1
        } else {
            weight
        };
        w * slow_start::DEFAULT_SCALE
    } else {
        weight
    }
}

impl Ctx<'_> {
    /// Gives the instances a mixed pool starts with their types and purchase options, as if
    /// launched one by one into its initial desired capacity. A spot type whose availability
    /// trace has no instance left at t = 0 is skipped for the next in the strategy's order, as
    /// a launch would be; an instance no type can supply is absent from the start, and the
    /// pool launches what it lacks at t = 0 (issue 14, item 5: the trace's first value is in
    /// force from time 0). Capacity shortages do not touch the initial fleet: it was running
    /// before the run, and a shortage refuses launches only (those at t = 0 included).
    pub(in crate::world) fn init_mixed(&mut self) {
        let scenario = self.scenario;
        for pool in self.fleet.pools.ids() {
            let Some(m) = &scenario.pools[pool.index()].mixed else {
                continue;
            };
            let mut counts = LaunchCounts {
                on_demand: 0,
                spot_by_type: vec![0; m.types.len()],
            };
            let running: Vec<InstanceId> = self
                .fleet
                .slots_of(pool)
                .iter()
                .filter(|&i| self.fleet.instances[i].state == InstanceState::InService)
                .collect();
            let mut absent = Vec::new();
            for id in running {
                let (purchase, order) = self.fleet.launch_candidates(
                    scenario,
                    &self.billing,
                    SimTime::ZERO,
                    pool,
                    &counts,
                );
                let supplied = order.into_iter().find(|&t| {
                    purchase == PurchaseOption::OnDemand
                        || !self.fleet.spot_exhausted(scenario, t, SimTime::ZERO)
                });
                let Some(itype) = supplied else {
                    absent.push(id);
                    continue;
                };
                match purchase {
                    PurchaseOption::OnDemand => counts.on_demand += 1,
                    PurchaseOption::Spot => {
                        let k = m.types.iter().position(|&t| t == itype).unwrap_or(0);
                        counts.spot_by_type[k] += 1;
                    }
                }
                let before = self.fleet.instances[id].slots;
                self.launched_as(SimTime::ZERO, id, InstanceTypeId::new(itype), purchase);
                let after = self.fleet.instances[id].slots;
                self.recorder
                    .slots_changed(i64::from(after) - i64::from(before));
            }
            // Highest first, so that the lowest free slot ends on top of the free list.
            for &id in absent.iter().rev() {
                self.absent_at_start(id);
            }
        }
    }

    /// Instance `id` is launched (or started from the warm pool) as `itype` bought as
    /// `purchase`: a new life, its type's slots and weight, and its spot interruption drawn.
    pub(in crate::world) fn launched_as(
        &mut self,
        now: SimTime,
        id: InstanceId,
        itype: InstanceTypeId,
        purchase: PurchaseOption,
    ) {
        let t = &self.scenario.instance_types[itype.index()];
        let inst: &mut Instance = &mut self.fleet.instances[id];
        inst.life = inst.life.wrapping_add(1);
        inst.interrupted = false;
        inst.held = false;
        inst.at_risk = false;
        let pool = inst.pool;
        if self.scenario.pools[pool.index()].mixed.is_some() {
            if inst.itype != itype {
                Fleet::retire_llm(&mut self.fleet.retired_engines, inst);
            }
            inst.itype = itype;
            inst.purchase = purchase;
            inst.slots = t.concurrency;
            self.fleet.set_instance_weight(self.scenario, id, t.weight);
        }
        if purchase == PurchaseOption::Spot {
            self.fleet
                .arm_interruption(self.scenario, &mut self.queue, now, id);
        }
    }

    /// The interruption notice of `id` arrives (stale unless `life` is its life).
    pub(in crate::world) fn on_spot_notice(&mut self, now: SimTime, id: InstanceId, life: u32) {
        if self.fleet.instances[id].life == life {
            self.notice(now, id);
        }
    }

    /// `id` gets its two-minute interruption notice, if it is running and not already
    /// interrupted.
    fn notice(&mut self, now: SimTime, id: InstanceId) {
        let inst = &self.fleet.instances[id];
        let running = inst.state.serves() || inst.state.counts_toward_desired();
        if inst.interrupted || !running {
            return;
        }
        let life = inst.life;
        let pool = inst.pool;
        let state = inst.state;
        let rebalance = self.scenario.pools[pool.index()]
            .mixed
            .as_ref()
            .is_some_and(|m| m.capacity_rebalance);
        if let Some(s) = self.fleet.pools[pool].spot.as_mut() {
            s.stats.interruptions += 1;
        }
        let inst = &mut self.fleet.instances[id];
        inst.interrupted = true;
        match state {
            InstanceState::InService | InstanceState::Draining => {
                // Without capacity rebalancing the group sees the loss only when the instance
                // is terminated; an at-risk instance is already replaced.
                if !rebalance && !inst.at_risk && state == InstanceState::InService {
                    inst.held = true;
                    self.fleet.pools[pool].fleet.held += 1;
                }
                if state == InstanceState::InService {
                    self.drain(now, id);
                }
                self.queue
                    .schedule_in(NOTICE, Event::SpotReclaim { instance: id, life });
            }
            // Not yet serving: it holds nothing, and goes now.
            _ => {
                if let Some(s) = self.fleet.pools[pool].spot.as_mut() {
                    s.stats.reclaimed += 1;
                }
                self.terminate(now, id);
            }
        }
        self.reconcile(now, pool);
    }

    /// Two minutes after its notice, the cloud reclaims `id` (stale unless `life` matches).
    pub(in crate::world) fn on_spot_reclaim(&mut self, now: SimTime, id: InstanceId, life: u32) {
        let inst = &self.fleet.instances[id];
        if inst.life == life && inst.interrupted && inst.state == InstanceState::Draining {
            self.interrupted_by_cloud(id, now);
        }
    }

    /// The cloud takes spot instance `id` back at `now`: whatever it still holds fails as
    /// `interrupted` (cause `spot_interruption`), and it is terminated; the group launches its
    /// replacement if it had not already. Its bill ends as one the cloud ended (AWS does not
    /// charge a partial hour it interrupts, under per-hour billing).
    fn interrupted_by_cloud(&mut self, id: InstanceId, now: SimTime) {
        self.drop_work(now, id, Failure::Interrupted, LossCause::SpotInterruption);
        self.end_billing(now, id, EndedBy::Cloud);
        let pool = self.fleet.instances[id].pool;
        if let Some(s) = self.fleet.pools[pool].spot.as_mut() {
            s.stats.reclaimed += 1;
        }
        self.terminate(now, id);
        self.reconcile(now, pool);
    }

    /// A rebalance recommendation for `id` arrives (stale unless `life` matches). With capacity
    /// rebalancing it stops counting toward the desired capacity, so a replacement launches.
    pub(in crate::world) fn on_rebalance(&mut self, now: SimTime, id: InstanceId, life: u32) {
        if self.fleet.instances[id].life == life {
            self.recommend_rebalance(now, id);
        }
    }

    /// `id` gets a rebalance recommendation, if it is running and not already interrupted.
    fn recommend_rebalance(&mut self, now: SimTime, id: InstanceId) {
        let inst = &self.fleet.instances[id];
        if inst.interrupted || inst.at_risk || !inst.state.counts_toward_desired() {
            return;
        }
        let pool = inst.pool;
        let rebalance = self.scenario.pools[pool.index()]
            .mixed
            .as_ref()
            .is_some_and(|m| m.capacity_rebalance);
        let Some(s) = self.fleet.pools[pool].spot.as_mut() else {
            return;
        };
        s.stats.rebalance_recommendations += 1;
        if !rebalance {
            return;
        }
        s.stats.rebalance_replacements += 1;
        self.fleet.instances[id].at_risk = true;
        self.fleet.pools[pool].fleet.at_risk += 1;
        self.reconcile(now, pool);
    }

    /// Instance `entered` of `pool` entered service: if another, at-risk instance waits for a
    /// replacement, it is retired now (drained, or terminated if not yet serving).
    pub(in crate::world) fn retire_at_risk(
        &mut self,
        now: SimTime,
        pool: PoolId,
        entered: InstanceId,
    ) {
        if self.fleet.pools[pool].fleet.at_risk == 0 {
            return;
        }
        let victim = self.fleet.slots_of(pool).iter().find(|&i| {
            let inst = &self.fleet.instances[i];
            i != entered && inst.at_risk && inst.state.counts_toward_desired()
        });
        if let Some(id) = victim {
            if self.fleet.instances[id].state == InstanceState::InService {
                self.drain(now, id);
            } else {
                self.terminate(now, id);
            }
        }
    }

    /// A scheduled fault hits `first..first + n` of spot instances: each running spot one
    /// gets its interruption notice (`begins`), or its rebalance recommendation ahead of it.
    pub(in crate::world) fn spot_fault(
        &mut self,
        now: SimTime,
        instances: impl Iterator<Item = InstanceId>,
        begins: bool,
    ) {
        for instance in instances {
            if self.fleet.instances[instance].purchase == PurchaseOption::Spot {
                if begins {
                    self.notice(now, instance);
                } else {
                    // `begins = false` is its rebalance recommendation, ahead of it.
                    self.recommend_rebalance(now, instance);
                }
            }
        }
    }

    /// Type `itype`'s spot availability moves to its point `point`: if fewer instances are
    /// available than we run, the excess gets its interruption notice, most recently launched
    /// first (the trace says how many, not which; the newest have the least work invested).
    pub(in crate::world) fn on_spot_availability(
        &mut self,
        now: SimTime,
        itype: InstanceTypeId,
        point: u32,
    ) {
        let scenario = self.scenario;
        let Some(a) = &scenario.instance_types[itype.index()].spot_availability else {
            return;
        };
        let point = point as usize;
        if let Some(&(next, _)) = a.points.get(point + 1) {
            self.queue.schedule_in(
                next - now,
                Event::SpotAvailability {
                    itype,
                    point: point as u32 + 1,
                },
            );
        }
        let available = a.points[point].1;
        let running = self.fleet.spot_running(itype);
        if running <= available {
            return;
        }
        let mut victims: Vec<InstanceId> = self
            .fleet
            .instances
            .ids()
            .filter(|&i| self.fleet.instances[i].runs_spot_of(itype))
            .collect();
        victims.sort_by_key(|&i| (std::cmp::Reverse(self.fleet.instances[i].launched_at), i));
        for id in victims.into_iter().take((running - available) as usize) {
            self.notice(now, id);
        }
    }
}
