//! The end of a run: the bill closed, and every subsystem's part of the [`RunResult`]
//! gathered — pools and their instance-hours, classes and routes, cost, SLO, topology, closed
//! loop.

use std::collections::BTreeMap;

use super::billing::Billing;
use super::fleet::Fleet;
use super::ids::{Id, PoolId};
use crate::metrics::{
    ClassSummary, CostSummary, InstanceSummary, PoolFailures, PoolInstances, PoolMarket,
    PoolScaling, RecordedTotals, RouteSummary, SloCount,
};
use crate::scenario::Scenario;
use crate::time::SimTime;

/// The pools' part of the summary.
pub(super) struct Pools {
    /// Instances and cost per pool.
    pub instances: InstanceSummary,
    /// Cost per pool \[USD\], by name.
    pub cost_by_pool: BTreeMap<String, f64>,
    /// Every pool's instance cost added \[USD\].
    pub cost: f64,
}

/// Closes every instance's bill at `end`; returns each pool's spot market results (read off
/// the closed bill).
pub(super) fn close_bills(
    scenario: &Scenario,
    fleet: &Fleet,
    billing: &mut Billing,
    recorder: &mut crate::metrics::Recorder,
    end: SimTime,
) -> Vec<Option<PoolMarket>> {
    for (id, inst) in fleet.instances.iter_enumerated() {
        let busy = inst.busy_slot_ns(end);
        billing.finish_instance(recorder, scenario, end, id, inst, busy);
    }
    fleet
        .pools
        .ids()
        .map(|p| fleet.pool_market(scenario, billing, p))
        .collect()
}

/// Every pool's instances, instance-hours and cost at `end`, with its spot `markets`.
pub(super) fn pools(
    scenario: &Scenario,
    fleet: &mut Fleet,
    billing: &Billing,
    mut markets: Vec<Option<PoolMarket>>,
    end: SimTime,
) -> Pools {
    let hours = scenario.duration.as_secs_f64() / 3600.0;
    let mut by_pool = BTreeMap::new();
    let mut cost_by_pool = BTreeMap::new();
    let (mut instance_hours, mut peak, mut cost) = (0.0, 0u64, 0.0);
    for (p, spec) in scenario.pools.iter().enumerate() {
        let id = PoolId::new(p);
        let pool = &mut fleet.pools[id];
        let f = &mut pool.fleet;
        f.bill(end);
        let (full, storage) = f.billed_hours();
        let billed = billing.pool_cost(scenario, id);
        // Added in this order, a fleet that never pays a minimum costs exactly what the
        // instance-hours say.
        let pool_cost = billed.on_demand + billed.storage + billed.spot;
        instance_hours += full;
        peak += u64::from(f.peak);
        cost += pool_cost;
        cost_by_pool.insert(spec.name.clone(), pool_cost);
        let instance_type = match &spec.mixed {
            Some(m) => m
                .types
                .iter()
                .map(|&t| scenario.instance_types[t].name.as_str())
                .collect::<Vec<_>>()
                .join(","),
            None => scenario.instance_types[spec.instance_type].name.clone(),
        };
        by_pool.insert(
            spec.name.clone(),
            PoolInstances {
                instance_type,
                mean: full / hours,
                max: u64::from(f.peak),
                instance_hours: full,
                scaling: PoolScaling {
                    desired_at_end: f.desired,
                    launches: f.stats.launches,
                    from_warm_pool: f.stats.from_warm_pool,
                    launch_failures: f.stats.launch_failures,
                    terminations: f.stats.terminations,
                    cut_by_drain: f.stats.cut_by_drain,
                    warm_pool_storage_hours: storage,
                    replaced_unhealthy: f.stats.replaced_unhealthy,
                },
                market: markets[p].take(),
                failures: pool.faults.as_ref().map(|f| PoolFailures {
                    crashes: f.crashes,
                    gpu_faults: f.gpu_faults,
                }),
            },
        );
    }
    Pools {
        instances: InstanceSummary {
            mean: instance_hours / hours,
            // The pools' peaks added: an upper bound when they peak at different times.
            max: peak,
            instance_hours,
            by_pool,
        },
        cost_by_pool,
        cost,
    }
}

/// Requests and latency per class and per route, by name.
pub(super) fn by_class_and_route(
    scenario: &Scenario,
    totals: &mut RecordedTotals,
) -> (
    BTreeMap<String, ClassSummary>,
    BTreeMap<String, RouteSummary>,
) {
    let by_class = scenario
        .classes
        .iter()
        .zip(std::mem::take(&mut totals.classes))
        .zip(std::mem::take(&mut totals.tokens.classes))
        .map(|((c, (requests, latency_seconds)), tokens)| {
            (
                c.name.clone(),
                ClassSummary {
                    requests,
                    latency_seconds,
                    tokens,
                },
            )
        })
        .collect();
    let by_route = scenario
        .routes
        .iter()
        .zip(std::mem::take(&mut totals.routes))
        .zip(std::mem::take(&mut totals.tokens.routes))
        .map(|((r, (requests, latency_seconds)), tokens)| {
            (
                r.name.clone(),
                RouteSummary {
                    target_group: scenario.target_groups[r.target_group].name.clone(),
                    requests,
                    latency_seconds,
                    tokens,
                },
            )
        })
        .collect();
    (by_class, by_route)
}

/// The run's cost: the pools', the balancers' and the data transfer's (`transfer_usd`), with
/// the good requests' share when an SLO says which are good.
pub(super) fn cost(
    scenario: &Scenario,
    billing: &Billing,
    totals: &RecordedTotals,
    pools: &mut Pools,
    transfer_usd: f64,
) -> (CostSummary, Option<SloCount>) {
    let hours = scenario.duration.as_secs_f64() / 3600.0;
    let load_balancers = scenario.billing.load_balancer.map_or(0.0, |lb| {
        lb.per_hour * hours + lb.per_lcu_hour * totals.lcu_hours
    });
    // Internet egress, cross-region and cross-cloud transfer: counted with regions only.
    let data_transfer = transfer_usd;
    let total = pools.cost + load_balancers + data_transfer;
    let completed = totals.counts.completed;
    let met_slo = totals.met_slo.map(|met| SloCount {
        latency_target_seconds: scenario
            .slo
            .as_ref()
            .and_then(|s| s.latency_target)
            .map_or(0.0, |t| t.as_secs_f64()),
        met,
        fraction: (totals.counts.arrived > 0).then(|| met as f64 / totals.counts.arrived as f64),
    });
    let summary = CostSummary {
        total,
        by_pool: std::mem::take(&mut pools.cost_by_pool),
        by_purchase_option: billing.by_purchase_option(scenario),
        by_state: billing.by_state(),
        load_balancers,
        data_transfer,
        per_1000_requests: (completed > 0).then(|| total * 1000.0 / completed as f64),
        per_good_request: met_slo.filter(|m| m.met > 0).map(|m| total / m.met as f64),
        monthly: crate::metrics::monthly(total, scenario.duration.as_secs_f64()),
    };
    (summary, met_slo)
}
