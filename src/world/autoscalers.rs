//! Autoscalers in the world: when each controller wakes, what it sees, and how its actions
//! reach the pool. The controllers are `crate::model::autoscale`'s, behind one interface
//! ([`Autoscaler::on_tick`]); this file is their clock and their eyes: it measures the pool as
//! the controller's [`Reads`] ask and applies the [`ScalingAction`]s, in order.
//!
//! A controller that watches a scaling activity (a simple policy waiting for its cooldown)
//! learns when the fleet settled from its next observation; settling while the world applies
//! the controller's own actions does not count (the activity it watches starts after them).

use super::fleet::{Fleet, QueueId};
use super::ids::{Id, IdVec, PoolId};
use super::requests::{Phase, RequestSlab};
use super::{Ctx, Event};
use crate::metrics::LatencyHistogram;
use crate::model::autoscale::autoscaler::Autoscaler;
use crate::model::autoscale::controller::{
    InstanceReading, Reads, ScalingAction, ScalingObservation, SlotState, Tick,
};
use crate::model::autoscale::metrics_pipeline::Statistic;
use crate::model::fleet::lifecycle::InstanceState;
use crate::scenario::Scenario;
use crate::time::SimTime;

/// Every pool's autoscaler, and the buffers its observations and actions reuse.
pub(super) struct Autoscalers {
    controllers: IdVec<PoolId, Option<Autoscaler>>,
    readings: Vec<InstanceReading>,
    latency: Vec<Option<f64>>,
    actions: Vec<ScalingAction>,
}

/// The lifecycle of an instance in `state` as a controller can tell it.
fn slot_state(state: InstanceState) -> SlotState {
    match state {
        InstanceState::Pending => SlotState::Pending,
        InstanceState::Loading | InstanceState::Warming => SlotState::Starting,
        InstanceState::InService => SlotState::InService,
        InstanceState::Draining => SlotState::Draining,
        _ => SlotState::Empty,
    }
}

/// `statistic` of the response times in `h` \[s\], as CloudWatch computes it over a period's
/// requests; `None` without any (missing data).
fn latency_statistic(h: &LatencyHistogram, statistic: Statistic) -> Option<f64> {
    let mean = h.mean_secs()?;
    Some(match statistic {
        Statistic::Maximum => h.max_secs()?,
        Statistic::Minimum => h.quantile_secs(0.0)?,
        Statistic::Sum => mean * h.count() as f64,
        Statistic::SampleCount => h.count() as f64,
        Statistic::Percentile { hundredths } => h.quantile_secs(f64::from(hundredths) / 1e4)?,
        Statistic::Average | Statistic::Last | Statistic::Rate => mean,
    })
}

/// How long the oldest request waiting for `pool` has waited at `now` \[s\] (0 with none
/// waiting): the first live entry of each of its queues is the oldest of that queue (FIFO).
fn queue_oldest_age(fleet: &Fleet, slab: &RequestSlab, now: SimTime, pool: PoolId) -> f64 {
    let queues = std::iter::once(QueueId::Pool(pool))
        .chain(fleet.slots_of(pool).iter().map(QueueId::Instance));
    let mut oldest = now;
    for q in queues {
        let queue = match q {
            QueueId::Pool(p) => &fleet.pools[p].shared,
            QueueId::Instance(i) => &fleet.instances[i].queue,
        };
        // Tombstones are skipped.
        if let Some(sent) = queue
            .ids()
            .map(|id| slab.get(id))
            .find(|r| r.phase != Phase::Expired)
            .map(|r| r.sent)
        {
            oldest = oldest.min(sent);
        }
    }
    (now - oldest).as_secs_f64()
}

impl Autoscalers {
    /// The autoscaler of every pool of `scenario` that has one.
    pub fn new(scenario: &Scenario, fleet: &Fleet) -> Self {
        Autoscalers {
            controllers: fleet
                .pools
                .iter_enumerated()
                .map(|(p, pool)| {
                    scenario.pools[p.index()]
                        .autoscaling
                        .as_ref()
                        .map(|a| Autoscaler::new(a, pool.slots.len()))
                })
                .collect(),
            readings: Vec::new(),
            latency: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// Schedules every autoscaler's first wake-ups, and gives AWS groups the warm-up of the
    /// launches no policy makes.
    pub fn start(&self, cx: &mut Ctx<'_>) {
        for (pool, c) in self.controllers.iter_enumerated() {
            let Some(c) = c else {
                continue;
            };
            if let Some(warmup) = c.launch_warmup() {
                cx.fleet.pools[pool].fleet.launch_warmup = warmup;
            }
            for (delay, tick) in c.first_ticks() {
                cx.queue.schedule_in(delay, Event::Autoscale { pool, tick });
            }
        }
    }

    /// `pool`'s autoscaler wakes up for `tick`: the world measures what it reads, it decides,
    /// the world applies its actions and schedules its next wake-up.
    pub fn on_tick(&mut self, cx: &mut Ctx<'_>, now: SimTime, pool: PoolId, tick: Tick) {
        let Some(c) = self.controllers[pool].as_mut() else {
            return;
        };
        // Activity that settles while this tick's actions are applied is not the watched one.
        let watching = std::mem::take(&mut cx.fleet.pools[pool].fleet.watching);
        let obs = observe(
            cx,
            now,
            pool,
            c.reads(tick),
            &mut self.readings,
            &mut self.latency,
        );
        let next = c.on_tick(tick, &obs, &mut self.actions);
        let mut watch = watching;
        for action in self.actions.drain(..) {
            watch |= apply(cx, now, pool, action);
        }
        cx.fleet.pools[pool].fleet.watching = watch;
        if let Some(after) = next {
            cx.queue.schedule_in(after, Event::Autoscale { pool, tick });
        }
    }
}

/// `pool` as its controller sees it now, reading what `reads` asks (utilization periods
/// restarted, response times cleared).
fn observe<'a>(
    cx: &mut Ctx<'_>,
    now: SimTime,
    pool: PoolId,
    reads: Reads<'_>,
    readings: &'a mut Vec<InstanceReading>,
    latency: &'a mut Vec<Option<f64>>,
) -> ScalingObservation<'a> {
    let fleet = &mut cx.fleet;
    readings.clear();
    // The gauges' sums come from the same pass over the slots as the readings.
    let (mut serving_requests, mut queued_on_instances) = (0u32, 0u32);
    // Every slot starts empty (no instance, or a warm one: it holds nothing), written at
    // once; only the live ones are read further. Most of a pool's slots are empty most of the
    // time, and reading each in full cost a week-long autoscaled run 10 % of its time.
    let slots = fleet.slots_of(pool);
    readings.resize(
        slots.len(),
        InstanceReading {
            state: SlotState::Empty,
            warmed: false,
            utilization: None,
            held: 0.0,
        },
    );
    // Lent out while the instances are read (a utilization reading restarts its period).
    let states = std::mem::take(&mut fleet.pools[pool].slot_states);
    for ((reading, id), &state) in readings.iter_mut().zip(slots.iter()).zip(&states) {
        debug_assert_eq!(state, fleet.instances[id].state);
        let state = slot_state(state);
        if state == SlotState::Empty {
            debug_assert!(fleet.holds_nothing(id));
            continue;
        }
        let utilization = if state == SlotState::InService && reads.utilization {
            fleet.take_utilization(now, id)
        } else {
            None
        };
        let inst = &fleet.instances[id];
        serving_requests += inst.busy;
        queued_on_instances += inst.queue.live();
        *reading = InstanceReading {
            state,
            warmed: inst.warmed(now),
            utilization,
            held: fleet.held(id),
        };
    }
    fleet.pools[pool].slot_states = states;
    latency.clear();
    if !reads.latency.is_empty() {
        let h = fleet.pools[pool].latency.as_mut();
        latency.extend(
            reads
                .latency
                .iter()
                .map(|&s| h.as_ref().and_then(|h| latency_statistic(h, s))),
        );
        if let Some(h) = h {
            h.clear();
        }
    }
    let gauges = if reads.gauges {
        (
            // Its shared (or named) queue and its instances' own queues.
            f64::from(fleet.pools[pool].shared.live() + queued_on_instances),
            queue_oldest_age(fleet, &cx.requests.slab, now, pool),
            // In service or draining: a queue's messages in flight, received by a worker
            // and not yet deleted.
            f64::from(serving_requests),
        )
    } else {
        (0.0, 0.0, 0.0)
    };
    let p = &mut fleet.pools[pool];
    let f = &mut p.fleet;
    ScalingObservation {
        now,
        desired: f.desired,
        limits: f.limits,
        starting: f.starting(),
        in_service: f.count(InstanceState::InService),
        draining: f.count(InstanceState::Draining),
        instances: readings,
        routed: p.routed,
        queue_depth: gauges.0,
        queue_oldest_age: gauges.1,
        in_service_requests: gauges.2,
        latency,
        activity_settled_at: f.settled_at.take(),
    }
}

/// Applies `action` to `pool`; true if it asks to watch the activity.
fn apply(cx: &mut Ctx<'_>, now: SimTime, pool: PoolId, action: ScalingAction) -> bool {
    let f = &mut cx.fleet.pools[pool].fleet;
    match action {
        ScalingAction::LaunchWarmup(w) => f.launch_warmup = w,
        ScalingAction::Limits(l) => f.limits = l,
        ScalingAction::SetDesired {
            desired,
            policy,
            reason,
        } => cx.set_desired(now, pool, desired, policy, reason),
        ScalingAction::Report {
            policy,
            from,
            to,
            reason,
        } => cx.recorder.scaling_event(
            now,
            &cx.scenario.pools[pool.index()].name,
            policy,
            from,
            to,
            reason,
        ),
        ScalingAction::WatchActivity => return true,
    }
    false
}
