//! Autoscalers in the world: when each controller wakes, what it sees, and how its actions
//! reach the pool. The controllers are `crate::model::autoscale`'s, behind one interface
//! (`Autoscaler::on_tick`); this file is their clock and their eyes: it measures the pool as
//! the controller's [`Reads`] ask ([`World::observe`]) and applies the [`ScalingAction`]s.

use super::World;
use crate::engine::SimTime;
use crate::model::autoscale::controller::{
    InstanceReading, ScalingAction, ScalingObservation, SlotState, Tick,
};
use crate::model::fleet::lifecycle::InstanceState;

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

impl World<'_> {
    /// Schedules every autoscaler's first wake-ups.
    pub(super) fn start_autoscalers(&mut self) {
        for pool in 0..self.autoscalers.len() {
            let Some(c) = &self.autoscalers[pool] else {
                continue;
            };
            if let Some(warmup) = c.launch_warmup() {
                // Until a policy scales out: replacements and other launches.
                self.pools[pool].fleet.launch_warmup = warmup;
            }
            for (delay, tick) in c.first_ticks() {
                self.queue.schedule_in(
                    delay,
                    super::Event::Autoscale {
                        pool: pool as u32,
                        tick,
                    },
                );
            }
        }
    }

    /// `pool`'s autoscaler wakes up for `tick`: the world measures what it reads, it decides,
    /// the world applies its actions and schedules its next wake-up.
    pub(super) fn on_autoscale(&mut self, now: SimTime, pool: u32, tick: Tick) {
        let pool = pool as usize;
        let Some(mut c) = self.autoscalers[pool].take() else {
            return;
        };
        // Activity that settles while this tick's actions are applied is not the watched one.
        let watching = std::mem::take(&mut self.pools[pool].fleet.watching);
        let mut readings = Vec::new();
        let mut latency = Vec::new();
        let mut actions = Vec::new();
        let reads = c.reads(tick);
        let (utilization, statistics) = (reads.utilization, reads.latency.to_vec());
        let obs = self.observe(
            now,
            pool,
            utilization,
            &statistics,
            &mut readings,
            &mut latency,
        );
        let next = c.on_tick(tick, &obs, &mut actions);
        let mut watch = watching;
        for action in actions {
            watch |= self.apply(now, pool, action);
        }
        self.pools[pool].fleet.watching = watch;
        if let Some(after) = next {
            self.queue.schedule_in(
                after,
                super::Event::Autoscale {
                    pool: pool as u32,
                    tick,
                },
            );
        }
        self.autoscalers[pool] = Some(c);
    }

    /// Applies `action` to `pool`; true if it asks to watch the activity.
    fn apply(&mut self, now: SimTime, pool: usize, action: ScalingAction) -> bool {
        let f = &mut self.pools[pool].fleet;
        match action {
            ScalingAction::LaunchWarmup(w) => f.launch_warmup = w,
            ScalingAction::Limits(l) => f.limits = l,
            ScalingAction::SetDesired {
                desired,
                policy,
                reason,
            } => self.set_desired(now, pool, desired, policy, reason),
            ScalingAction::Report {
                policy,
                from,
                to,
                reason,
            } => self.recorder.scaling_event(
                now,
                &self.scenario.pools[pool].name,
                policy,
                from,
                to,
                reason,
            ),
            ScalingAction::WatchActivity => return true,
        }
        false
    }

    /// `pool` as its controller sees it now: utilization read (and its period restarted) if
    /// `utilization`, the response-time `statistics` read (and the times cleared) if any.
    fn observe<'a>(
        &mut self,
        now: SimTime,
        pool: usize,
        utilization: bool,
        statistics: &[crate::model::autoscale::metrics_pipeline::Statistic],
        readings: &'a mut Vec<InstanceReading>,
        latency: &'a mut Vec<Option<f64>>,
    ) -> ScalingObservation<'a> {
        for id in self.slots_of(pool) {
            let serving = self.instances[id as usize].state == InstanceState::InService;
            let u = if serving && utilization {
                self.take_utilization(now, id)
            } else {
                None
            };
            let inst = &self.instances[id as usize];
            readings.push(InstanceReading {
                state: slot_state(inst.state),
                warmed: inst.warmed(now),
                utilization: u,
                held: self.held(id),
            });
        }
        if !statistics.is_empty() {
            let h = self.pools[pool].latency.as_mut();
            latency.extend(statistics.iter().map(|&s| {
                h.as_ref()
                    .and_then(|h| super::metrics_source::latency_statistic(h, s))
            }));
            if let Some(h) = h {
                h.clear();
            }
        }
        let (queue_depth, queue_oldest_age, in_service_requests) = (
            self.queue_depth(pool),
            self.queue_oldest_age(now, pool),
            self.in_service_requests(pool),
        );
        let routed = self.pools[pool].routed;
        let f = &mut self.pools[pool].fleet;
        ScalingObservation {
            now,
            desired: f.desired,
            limits: f.limits,
            starting: f.starting(),
            in_service: f.counts[InstanceState::InService as usize],
            draining: f.counts[InstanceState::Draining as usize],
            activity_settled_at: f.settled_at.take(),
            instances: readings,
            routed,
            queue_depth,
            queue_oldest_age,
            in_service_requests,
            latency,
        }
    }

    /// A scaling activity may have finished: no instance launching or draining and the
    /// desired capacity reached. A controller watching the activity learns when (a simple
    /// policy's cooldown "takes effect starting when the last instance finishes launching or
    /// terminating", Cooldown.md).
    pub(super) fn after_activity(&mut self, now: SimTime, pool: usize) {
        let f = &mut self.pools[pool].fleet;
        let settled = f.starting() == 0
            && f.counts[InstanceState::Draining as usize] == 0
            && f.active() == f.desired;
        if settled && f.watching {
            f.watching = false;
            f.settled_at = Some(now);
        }
    }
}
