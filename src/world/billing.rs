//! What the fleet costs, instance by instance: billing periods with their minimums and
//! rounding ([`BillingSpec::billed`]), storage of stopped warm-pool instances, spot instances at
//! their price path, split by pool, purchase option and lifecycle state.
//!
//! [`InstanceState::billing`] says which states are billed (in full, storage only, or not):
//! every state change passes through `Ctx::set_state`, which calls
//! [`Billing::state_changed`]. A full period opens when an instance enters a state billed in
//! full and closes when it leaves them; within it, each stretch in one state (a *segment*) is
//! charged to that state. The minimum or rounding of a period is idle time (paid for, not
//! used); a refund (a spot interruption under per-hour billing) is taken from the period's states
//! in proportion to their share of it.
//!
//! A period open when the run starts (an instance already in service) began before it: no
//! minimum applies to it when it ends (its rounding still does, counted from t = 0).
//!
//! On-demand time is kept in integer nanoseconds per pool and instance type and priced once at
//! the end: a fleet that never pays a minimum costs exactly `instance-hours × price`.

use std::sync::Arc;

use super::fleet::Instance;
use super::ids::{Id, IdVec, InstanceId, PoolId};
use super::Ctx;
use crate::engine::RandomStreams;
use crate::metrics::{CostLine, CostMeter, PurchaseCost, Recorder, StateCost};
use crate::model::fleet::lifecycle::{Billing as Billed, InstanceState};
use crate::model::market::billing::{BillingSpec, EndedBy};
use crate::model::market::spot_price::SpotPricePath;
use crate::model::market::PurchaseOption;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

const HOUR_NANOS: f64 = 3.6e12;

/// What an instance's time is spent on, for `cost_usd.by_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CostState {
    Startup,
    Serving,
    Idle,
    Draining,
    WarmPool,
}

const COST_STATES: usize = 5;

fn cost_state(s: InstanceState) -> CostState {
    match s {
        InstanceState::Pending | InstanceState::Loading | InstanceState::Warming => {
            CostState::Startup
        }
        // In service is split between serving and idle by the busy fraction.
        InstanceState::InService => CostState::Serving,
        InstanceState::Draining => CostState::Draining,
        _ => CostState::WarmPool,
    }
}

/// One instance's billing.
#[derive(Debug, Clone, Copy, Default)]
struct InstanceBill {
    /// Start of its open full-billing period (`None`: none open, or ended by
    /// [`Billing::end_now`]).
    period_start: Option<SimTime>,
    /// Start of its current segment (full or storage).
    segment_start: SimTime,
    /// Its busy slot-nanoseconds at the segment's start.
    busy_mark: u64,
    /// The open period's cost so far, per [`CostState`] \[USD\].
    period_cost: [f64; COST_STATES],
    /// The open period began before the run (an instance present at t = 0): it was not
    /// started during the run, so no minimum applies to it.
    before_run: bool,
}

/// One pool's charges.
#[derive(Debug, Clone, Default)]
struct PoolBill {
    /// Nanoseconds billed in full at the on-demand price, per instance type.
    on_demand_ns: Vec<u128>,
    /// Nanoseconds billed for storage.
    storage_ns: u128,
    /// Spot charges \[USD\].
    spot_usd: f64,
    /// Nanoseconds actually used (billed in full, without minimums or rounding) per instance
    /// type and purchase option, at `itype * 2 + purchase`.
    used_ns: Vec<u128>,
}

/// The fleet's bill.
pub(super) struct Billing {
    spec: BillingSpec,
    /// Each instance type's spot price path, if it has one.
    paths: Vec<Option<Arc<SpotPricePath>>>,
    instances: IdVec<InstanceId, InstanceBill>,
    pools: IdVec<PoolId, PoolBill>,
    by_state: [f64; COST_STATES],
    /// Instance types, for the cost meter's lines: type `t` on demand is line `t`, on the spot
    /// market line `types + t`; pool `p`'s storage is line `2 × types + p`.
    types: usize,
}

/// A pool's bill at the end.
pub(super) struct PoolCost {
    pub on_demand: f64,
    pub storage: f64,
    pub spot: f64,
}

impl Billing {
    /// The bill of a world with `instances` instances, and the recorder's cost meter lines.
    pub(super) fn new(
        scenario: &Scenario,
        streams: &RandomStreams,
        instances: usize,
    ) -> (Self, CostMeter) {
        let types = scenario.instance_types.len();
        let paths: Vec<Option<Arc<SpotPricePath>>> = scenario
            .instance_types
            .iter()
            .map(|t| {
                t.spot_price.as_ref().map(|spec| {
                    let mut rng = streams.stream(&format!("spot_price/{}", t.name));
                    Arc::new(SpotPricePath::build(spec, scenario.duration, &mut rng))
                })
            })
            .collect();
        let mut lines: Vec<CostLine> = scenario
            .instance_types
            .iter()
            .map(|t| CostLine::Fixed(t.price_per_hour))
            .collect();
        lines.extend(paths.iter().map(|p| match p {
            Some(p) => CostLine::Spot(Arc::clone(p)),
            None => CostLine::Fixed(0.0),
        }));
        lines.extend(
            scenario
                .pools
                .iter()
                .map(|p| CostLine::Fixed(p.warm_pool.map_or(0.0, |w| w.storage_price_per_hour))),
        );
        let fixed = scenario.billing.load_balancer.map_or(0.0, |lb| lb.per_hour);
        let billing = Billing {
            spec: scenario.billing,
            paths,
            instances: IdVec::from_vec(vec![InstanceBill::default(); instances]),
            pools: IdVec::from_vec(vec![
                PoolBill {
                    on_demand_ns: vec![0; types],
                    used_ns: vec![0; 2 * types],
                    ..PoolBill::default()
                };
                scenario.pools.len()
            ]),
            by_state: [0.0; COST_STATES],
            types,
        };
        (billing, CostMeter::new(lines, fixed))
    }

    /// The meter line `inst` is on while billed in full, or in storage.
    fn line(&self, inst: &Instance, full: bool) -> usize {
        match (full, inst.purchase) {
            (true, PurchaseOption::OnDemand) => inst.itype.index(),
            (true, PurchaseOption::Spot) => self.types + inst.itype.index(),
            (false, _) => 2 * self.types + inst.pool.index(),
        }
    }

    /// `inst` (id `id`) moved `from` → `to` at `now`; `busy` is its busy slot-nanoseconds now.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn state_changed(
        &mut self,
        recorder: &mut Recorder,
        scenario: &Scenario,
        now: SimTime,
        id: InstanceId,
        inst: &Instance,
        busy: u64,
        from: InstanceState,
        to: InstanceState,
    ) {
        let (fb, tb) = (from.billing(), to.billing());
        match fb {
            Billed::Full => self.close_full_segment(scenario, now, id, inst, busy, from),
            Billed::StorageOnly => self.close_storage_segment(scenario, now, id, inst),
            Billed::None => {}
        }
        if fb == Billed::Full && tb != Billed::Full {
            self.end_period(recorder, scenario, now, id, inst, EndedBy::User);
        }
        if fb == Billed::StorageOnly && tb != Billed::StorageOnly {
            recorder.cost_line_changed(self.line(inst, false), -1);
        }
        if tb == Billed::Full && fb != Billed::Full {
            self.open_period(recorder, now, id, inst);
        }
        if tb == Billed::StorageOnly && fb != Billed::StorageOnly {
            recorder.cost_line_changed(self.line(inst, false), 1);
        }
        let b = &mut self.instances[id];
        b.segment_start = now;
        b.busy_mark = busy;
    }

    /// Instances in a billed state when the run starts (at time 0).
    pub(super) fn start(&mut self, recorder: &mut Recorder, id: InstanceId, inst: &Instance) {
        match inst.state.billing() {
            Billed::Full => {
                self.open_period(recorder, SimTime::ZERO, id, inst);
                self.instances[id].before_run = true;
            }
            Billed::StorageOnly => recorder.cost_line_changed(self.line(inst, false), 1),
            Billed::None => {}
        }
    }

    fn open_period(
        &mut self,
        recorder: &mut Recorder,
        now: SimTime,
        id: InstanceId,
        inst: &Instance,
    ) {
        let b = &mut self.instances[id];
        b.period_start = Some(now);
        b.period_cost = [0.0; COST_STATES];
        b.before_run = false;
        recorder.cost_line_changed(self.line(inst, true), 1);
    }

    /// Charges `inst`'s segment in state `state` up to `now`.
    fn close_full_segment(
        &mut self,
        scenario: &Scenario,
        now: SimTime,
        id: InstanceId,
        inst: &Instance,
        busy: u64,
        state: InstanceState,
    ) {
        let b = self.instances[id];
        if b.period_start.is_none() {
            // Its billing was ended early (by the cloud): nothing more to charge.
            return;
        }
        let ns = (now - b.segment_start).as_nanos();
        let pool = &mut self.pools[inst.pool];
        let itype = inst.itype.index();
        pool.used_ns[itype * 2 + inst.purchase as usize] += u128::from(ns);
        let usd = match (inst.purchase, &self.paths[itype]) {
            (PurchaseOption::OnDemand, _) => {
                pool.on_demand_ns[itype] += u128::from(ns);
                scenario.instance_types[itype].price_per_hour * ns as f64 / HOUR_NANOS
            }
            (PurchaseOption::Spot, path) => {
                // Validation gives every type a pool buys on the spot market a price path.
                let c = path.as_ref().map_or(0.0, |p| p.cost(b.segment_start, now));
                pool.spot_usd += c;
                c
            }
        };
        let mut split = [0.0; COST_STATES];
        match cost_state(state) {
            CostState::Serving if ns > 0 => {
                // The busy fraction of its slots over the segment.
                let busy_ns = (busy - b.busy_mark) as f64 / f64::from(inst.slots.max(1));
                let f = (busy_ns / ns as f64).clamp(0.0, 1.0);
                split[CostState::Serving as usize] = usd * f;
                split[CostState::Idle as usize] = usd - usd * f;
            }
            CostState::Serving => {}
            c => split[c as usize] = usd,
        }
        let b = &mut self.instances[id];
        for ((period, total), usd) in b.period_cost.iter_mut().zip(&mut self.by_state).zip(split) {
            *period += usd;
            *total += usd;
        }
    }

    fn close_storage_segment(
        &mut self,
        scenario: &Scenario,
        now: SimTime,
        id: InstanceId,
        inst: &Instance,
    ) {
        let b = self.instances[id];
        let ns = (now - b.segment_start).as_nanos();
        self.pools[inst.pool].storage_ns += u128::from(ns);
        let price = scenario.pools[inst.pool.index()]
            .warm_pool
            .map_or(0.0, |w| w.storage_price_per_hour);
        self.by_state[CostState::WarmPool as usize] += price * ns as f64 / HOUR_NANOS;
    }

    /// Ends `id`'s open period at `now` (its last segment already charged): the minimum or
    /// rounding of `by`, charged as idle (or a refund, taken from the period's states).
    #[allow(clippy::too_many_arguments)]
    fn end_period(
        &mut self,
        recorder: &mut Recorder,
        scenario: &Scenario,
        now: SimTime,
        id: InstanceId,
        inst: &Instance,
        by: EndedBy,
    ) {
        let b = &mut self.instances[id];
        let Some(start) = b.period_start.take() else {
            return;
        };
        let mut spec = self.spec;
        if b.before_run {
            // Started before the run: its minimum was paid then.
            spec.minimum = SimDuration::ZERO;
        }
        recorder.cost_line_changed(self.line(inst, true), -1);
        let used = (now - start).as_nanos();
        let billed = spec.billed(SimDuration::from_nanos(used), by).as_nanos();
        if billed == used {
            return;
        }
        let pool = &mut self.pools[inst.pool];
        let b = &mut self.instances[id];
        let itype = inst.itype.index();
        if billed > used {
            let extra = billed - used;
            let price = match (inst.purchase, &self.paths[itype]) {
                (PurchaseOption::OnDemand, _) => {
                    pool.on_demand_ns[itype] += u128::from(extra);
                    scenario.instance_types[itype].price_per_hour
                }
                (PurchaseOption::Spot, path) => path.as_ref().map_or(0.0, |p| p.price_at(now)),
            };
            let usd = price * extra as f64 / HOUR_NANOS;
            if inst.purchase == PurchaseOption::Spot {
                pool.spot_usd += usd;
            }
            // Time paid for and not used is idle, whatever state the period ended in.
            self.by_state[CostState::Idle as usize] += usd;
        } else {
            let refund = used - billed;
            let share = refund as f64 / used as f64;
            let period_usd: f64 = b.period_cost.iter().sum();
            match inst.purchase {
                PurchaseOption::OnDemand => pool.on_demand_ns[itype] -= u128::from(refund),
                PurchaseOption::Spot => pool.spot_usd -= period_usd * share,
            }
            for (total, period) in self.by_state.iter_mut().zip(b.period_cost) {
                *total -= period * share;
            }
        }
    }

    /// Ends `id`'s billing period now, ended `by` (the spot helper calls it with
    /// [`EndedBy::Cloud`] when EC2 reclaims an instance); later state changes charge nothing
    /// until it enters a billed state again.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn end_now(
        &mut self,
        recorder: &mut Recorder,
        scenario: &Scenario,
        now: SimTime,
        id: InstanceId,
        inst: &Instance,
        busy: u64,
        by: EndedBy,
    ) {
        if inst.state.billing() != Billed::Full || self.instances[id].period_start.is_none() {
            return;
        }
        self.close_full_segment(scenario, now, id, inst, busy, inst.state);
        self.end_period(recorder, scenario, now, id, inst, by);
        let b = &mut self.instances[id];
        b.segment_start = now;
        b.busy_mark = busy;
    }

    /// Closes every open period at the run's end (actual time, no minimum) and every storage
    /// segment.
    pub(super) fn finish_instance(
        &mut self,
        recorder: &mut Recorder,
        scenario: &Scenario,
        end: SimTime,
        id: InstanceId,
        inst: &Instance,
        busy: u64,
    ) {
        match inst.state.billing() {
            Billed::Full => self.end_now(recorder, scenario, end, id, inst, busy, EndedBy::RunEnd),
            Billed::StorageOnly => self.close_storage_segment(scenario, end, id, inst),
            Billed::None => {}
        }
    }

    /// Pool `p`'s charges, priced.
    pub(super) fn pool_cost(&self, scenario: &Scenario, p: PoolId) -> PoolCost {
        let pool = &self.pools[p];
        let on_demand = pool
            .on_demand_ns
            .iter()
            .zip(&scenario.instance_types)
            .map(|(&ns, t)| ns as f64 / HOUR_NANOS * t.price_per_hour)
            .sum();
        let storage_price = scenario.pools[p.index()]
            .warm_pool
            .map_or(0.0, |w| w.storage_price_per_hour);
        PoolCost {
            on_demand,
            storage: pool.storage_ns as f64 / HOUR_NANOS * storage_price,
            spot: pool.spot_usd,
        }
    }

    /// Pool `p`'s hours used in full per (instance type, purchase option) with any, in type
    /// then option order (after the run's open periods are closed).
    pub(super) fn used_hours(
        &self,
        p: PoolId,
    ) -> impl Iterator<Item = (usize, PurchaseOption, f64)> + '_ {
        self.pools[p]
            .used_ns
            .iter()
            .enumerate()
            .filter(|(_, &ns)| ns > 0)
            .map(|(k, &ns)| (k / 2, PurchaseOption::ALL[k % 2], ns as f64 / HOUR_NANOS))
    }

    /// The spot price of type `itype` at `now` [USD/h]: its spot price path (validation gives
    /// every type a pool may buy spot one); the on-demand price for a type without one.
    pub(super) fn spot_price_at(&self, scenario: &Scenario, itype: usize, now: SimTime) -> f64 {
        self.paths[itype]
            .as_ref()
            .map_or(scenario.instance_types[itype].price_per_hour, |p| {
                p.price_at(now)
            })
    }

    /// What an instance of `itype` bought as `purchase` costs at `now` [USD/h].
    pub(super) fn price_at(
        &self,
        scenario: &Scenario,
        itype: usize,
        purchase: PurchaseOption,
        now: SimTime,
    ) -> f64 {
        match purchase {
            PurchaseOption::OnDemand => scenario.instance_types[itype].price_per_hour,
            PurchaseOption::Spot => self.spot_price_at(scenario, itype, now),
        }
    }

    /// Instance cost by lifecycle state.
    pub(super) fn by_state(&self) -> StateCost {
        let s = &self.by_state;
        StateCost {
            startup: s[CostState::Startup as usize],
            serving: s[CostState::Serving as usize],
            idle: s[CostState::Idle as usize],
            draining: s[CostState::Draining as usize],
            warm_pool: s[CostState::WarmPool as usize],
        }
    }

    /// Instance cost by purchase option.
    pub(super) fn by_purchase_option(&self, scenario: &Scenario) -> PurchaseCost {
        let mut out = PurchaseCost::default();
        for p in self.pools.ids() {
            let c = self.pool_cost(scenario, p);
            out.on_demand += c.on_demand + c.storage;
            out.spot += c.spot;
        }
        out
    }
}

impl Ctx<'_> {
    /// Ends `id`'s billing period at `now`, ended `by` the user or the cloud (AWS "Billing for
    /// interrupted Spot Instances": per-second billing charges the seconds used, per-hour
    /// billing does not charge an interrupted partial hour). Call it before moving the
    /// instance out of its billed state; the move then charges nothing more.
    pub(super) fn end_billing(&mut self, now: SimTime, id: InstanceId, by: EndedBy) {
        let inst = &self.fleet.instances[id];
        let busy = inst.busy_slot_ns(now);
        self.billing
            .end_now(&mut self.recorder, self.scenario, now, id, inst, busy, by);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::metrics::{CollectTimeline, Summary};
    use crate::world::World;

    /// An empty pool of one type at $36/h on demand with `spot` as its spot price, in a run of
    /// `duration`, billed per `granularity`.
    fn scenario(duration: &str, granularity: &str, spot: &str) -> Scenario {
        let text = format!(
            r#"name = "spot"
duration = "{duration}"
[billing]
granularity = "{granularity}"
[traffic]
rate = "0/s"
[[instance_type]]
name = "gpu"
concurrency = 1
price = "$36/h"
spot_price = {spot}
[[pool]]
name = "p"
instance_type = "gpu"
instances = 0
[pool.autoscaling]
min = 0
max = 1
[[pool.autoscaling.scheduled.action]]
at = "100h"
desired = 0
[[class]]
name = "a"
pool = "p"
service = {{ distribution = "constant", value = "1s" }}
"#
        );
        Scenario::parse(&text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Launches one spot instance at 0; at `end_at` (if any) its billing is ended `by` and it
    /// is terminated; the run then finishes.
    fn spot_run(s: &Scenario, end_at: Option<(u64, EndedBy)>) -> Summary {
        let mut world = World::build(s, 1);
        let mut sink = CollectTimeline::default();
        let (cx, _, _) = world.split();
        for inst in cx.fleet.instances.iter_mut() {
            inst.purchase = PurchaseOption::Spot;
        }
        let only = InstanceId::new(0);
        cx.set_desired(SimTime::ZERO, PoolId::new(0), 1, "test", String::new());
        assert_eq!(cx.fleet.instances[only].state, InstanceState::InService);
        if let Some((secs, by)) = end_at {
            let t = SimTime::from_nanos(secs * 1_000_000_000);
            cx.recorder.advance(t, &mut sink);
            cx.end_billing(t, only, by);
            cx.set_state(t, only, InstanceState::Terminated);
        }
        world.finish(&mut sink).summary
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
    }

    #[test]
    fn a_spot_instance_interrupted_in_its_first_hour_under_per_hour_billing_pays_nothing() {
        let s = scenario("3h", "per_hour", "\"$18/h\"");
        // Interrupted by EC2 after 50 min: the partial first hour is not charged.
        let c = spot_run(&s, Some((3000, EndedBy::Cloud))).cost_usd;
        assert_eq!(c.total, 0.0);
        assert_eq!(c.by_state.serving + c.by_state.idle, 0.0);
        // Stopped by the user after 50 min: one full hour at $18.
        let c = spot_run(&s, Some((3000, EndedBy::User))).cost_usd;
        assert!(close(c.total, 18.0) && close(c.by_purchase_option.spot, 18.0));
        // Interrupted after 70 min: one full hour, the partial second one free.
        let c = spot_run(&s, Some((4200, EndedBy::Cloud))).cost_usd;
        assert!(close(c.total, 18.0), "{}", c.total);
        assert!(close(c.by_state.idle, 18.0), "no traffic: all of it idle");
    }

    #[test]
    fn a_spot_instance_interrupted_under_per_second_billing_pays_its_seconds_without_minimum() {
        let s = scenario("1h", "per_second", "\"$18/h\"");
        // 30 s at $18/h = $0.15 (a stop by the user would pay 60 s = $0.30).
        let c = spot_run(&s, Some((30, EndedBy::Cloud))).cost_usd;
        assert!(close(c.total, 0.15), "{}", c.total);
        let c = spot_run(&s, Some((30, EndedBy::User))).cost_usd;
        assert!(close(c.total, 0.30), "{}", c.total);
        assert_eq!(c.by_purchase_option.on_demand, 0.0);
    }

    #[test]
    fn a_spot_instance_pays_its_replayed_price_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("spot.csv");
        std::fs::write(
            &file,
            "timestamp,price\n2022-05-31T20:00:00Z,10\n2022-05-31T20:10:00Z,40\n",
        )
        .unwrap();
        let spot = format!(
            "{{ file = \"{}\", time_column = \"timestamp\", price_column = \"price\" }}",
            file.display()
        );
        let s = scenario("20m", "per_second", &spot);
        // 10 min at $10/h + 10 min at $40/h = 10/6 + 40/6 = $8.3333 (the run ends at 20 min).
        let c = spot_run(&s, None).cost_usd;
        assert!(close(c.total, 50.0 / 6.0), "{}", c.total);
        assert!(close(c.by_purchase_option.spot, 50.0 / 6.0));
    }
}
