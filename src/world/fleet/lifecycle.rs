//! The fleet's lifecycle: launching instances through their start-up phases, registering them
//! with their balancers once ready, draining and terminating them on scale-in, the warm pool.
//!
//! The decisions are the models': [`InstanceState`] says what a state means (billed, counted
//! toward desired capacity, taking traffic), the autoscaler says how many instances a pool
//! wants. This file turns a desired capacity into launches and drains, as the Auto Scaling
//! group (or Kubernetes' ReplicaSet controller) does:
//!
//! - **Launch.** An instance from the warm pool if one is ready (AWS, "Warm pools for Amazon EC2
//!   Auto Scaling": "When a scale-out event occurs, instances in the warm pool are moved to the
//!   Auto Scaling group"), else a new one. Each phase (boot, model load, warm-up) draws its
//!   duration once; a warm instance skips what its state has done
//!   ([`InstanceState::start`]). A launch may fail at once (insufficient capacity) or wait
//!   for the pool's launch rate limit; the group retries.
//! - **Ready.** On entering service it registers with every target group of its pool; a group
//!   with active health checks then waits for its first passing check (ALB: a new target is
//!   `initial` until it passes). A shared-queue worker starts pulling work.
//! - **Scale-in.** Victims are chosen by the pool's termination policy. One that has not
//!   reached service is terminated at once (it holds no work). One in service drains: it is
//!   deregistered (no new requests), finishes what it holds, and leaves when it holds nothing
//!   or when the deregistration delay runs out, cutting off what is left (ELB, "Deregistration
//!   delay": "If a deregistering target has no in-flight requests and no active connections,
//!   Elastic Load Balancing immediately completes the deregistration process"). With a warm
//!   pool that reuses instances on scale-in, it returns to the pool instead.
//! - **Warm pool.** The pool is kept at `max(min_size, max_prepared_capacity − desired)`
//!   instances (AWS: "the maximum prepared capacity ... minus the desired capacity"); a new
//!   warm instance boots and loads the model, then enters its pool state.
//!
//! Every state change passes through [`Ctx::set_state`]: the pool's counts, the bill and the
//! recorder follow it there.

use super::{Condition, Fleet};
use crate::engine::open_unit;
use crate::metrics::{Failure, LossCause};
use crate::model::fleet::lifecycle::{InstanceState, Phase};
use crate::model::fleet::{Dispatch, TerminationPolicy};
use crate::model::market::PurchaseOption;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use crate::world::billing::Billing;
use crate::world::ids::{Id, InstanceId, PoolId, TargetId};
use crate::world::{Ctx, Event};

const HOUR_NANOS: u64 = 3_600_000_000_000;

/// Where a new instance is headed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Destination {
    Service,
    WarmPool,
}

impl Ctx<'_> {
    /// Moves `id` to state `to` at `now`, keeping every count, integral and timer epoch right.
    pub(in crate::world) fn set_state(&mut self, now: SimTime, id: InstanceId, to: InstanceState) {
        let inst = &mut self.fleet.instances[id];
        let from = inst.state;
        if from == to {
            return;
        }
        inst.state = to;
        inst.epoch = inst.epoch.wrapping_add(1);
        let slots = inst.slots;
        let left_count = inst.at_risk && !to.counts_toward_desired();
        if left_count {
            inst.at_risk = false;
        }
        let busy = inst.busy_slot_ns(now);
        let inst = &self.fleet.instances[id];
        self.billing.state_changed(
            &mut self.recorder,
            self.scenario,
            now,
            id,
            inst,
            busy,
            from,
            to,
        );
        let p = &mut self.fleet.pools[inst.pool];
        let slot = p.slots.offset(id);
        p.slot_states[slot] = to;
        let f = &mut p.fleet;
        if left_count {
            f.at_risk -= 1;
        }
        f.moved(now, from, to);
        self.recorder.instance_moved(from, to);
        match (from.serves(), to.serves()) {
            (false, true) => self.recorder.slots_changed(i64::from(slots)),
            (true, false) => self.recorder.slots_changed(-i64::from(slots)),
            _ => {}
        }
    }

    /// Sets `pool`'s desired capacity (within its limits) and brings the fleet to it. `policy`
    /// and `reason` go to the scaling events when it changes.
    pub(in crate::world) fn set_desired(
        &mut self,
        now: SimTime,
        pool: PoolId,
        desired: u32,
        policy: &'static str,
        reason: String,
    ) {
        let f = &mut self.fleet.pools[pool].fleet;
        let desired = f.limits.clamp(i64::from(desired));
        let from = f.desired;
        if desired != from {
            f.desired = desired;
            self.recorder
                .desired_changed(i64::from(desired) - i64::from(from));
            self.recorder.scaling_event(
                now,
                &self.scenario.pools[pool.index()].name,
                policy,
                from,
                desired,
                reason,
            );
        }
        self.reconcile(now, pool);
    }

    /// Launches or removes instances until `pool` has its desired capacity, and sizes its warm
    /// pool.
    pub(in crate::world) fn reconcile(&mut self, now: SimTime, pool: PoolId) {
        let (active, desired) = {
            let f = &self.fleet.pools[pool].fleet;
            (f.active(), f.desired)
        };
        if active < desired {
            for _ in active..desired {
                if !self.launch(now, pool, Destination::Service) {
                    break;
                }
            }
        } else if active > desired {
            let victims =
                self.fleet
                    .victims(self.scenario, &self.billing, now, pool, active - desired);
            for victim in victims {
                if self.fleet.instances[victim].state == InstanceState::InService {
                    self.drain(now, victim);
                } else {
                    // Not yet serving: it holds no work and leaves at once.
                    self.terminate(now, victim);
                }
            }
        }
        self.size_warm_pool(now, pool);
    }

    /// Keeps the warm pool at its AWS size: launches instances to prepare, or terminates warm
    /// ones beyond it.
    fn size_warm_pool(&mut self, now: SimTime, pool: PoolId) {
        let Some(spec) = self.scenario.pools[pool.index()].warm_pool else {
            return;
        };
        let f = &self.fleet.pools[pool].fleet;
        let wanted = spec.size(f.limits.max, f.desired);
        let have = f.warm() + f.preparing;
        if have < wanted {
            for _ in have..wanted {
                if !self.launch(now, pool, Destination::WarmPool) {
                    break;
                }
            }
        } else if have > wanted {
            // Stopped instances leave first; AWS does not say which, and any order is as good.
            let extra = (have - wanted) as usize;
            let gone: Vec<InstanceId> = self
                .fleet
                .slots_of(pool)
                .iter()
                .filter(|&i| self.fleet.instances[i].state.is_warm_pool())
                .take(extra)
                .collect();
            for id in gone {
                self.terminate(now, id);
            }
        }
    }

    /// Starts one instance toward `to`; false if the pool cannot launch now (the launch failed,
    /// the rate limit is reached, or every slot is taken) and a retry is arranged.
    fn launch(&mut self, now: SimTime, pool: PoolId, to: Destination) -> bool {
        let launch = self.scenario.pools[pool.index()].launch;
        if self.topology.as_ref().is_some_and(|t| t.pool_down(pool)) {
            // Its zone, region or cloud is down: the launch fails (the group retries).
            self.fleet.pools[pool].fleet.stats.launch_failures += 1;
            self.retry_launches(pool, launch.retry_after);
            return false;
        }
        if to == Destination::Service && self.start_warm(now, pool) {
            return true;
        }
        let f = &mut self.fleet.pools[pool].fleet;
        if let Some(per_minute) = launch.per_minute {
            let minute = SimDuration::from_secs(60);
            while f
                .recent_launches
                .front()
                .is_some_and(|&t| t.saturating_add(minute) <= now)
            {
                f.recent_launches.pop_front();
            }
            if f.recent_launches.len() >= per_minute as usize {
                let next = f.recent_launches[0].saturating_add(minute);
                self.retry_launches(pool, next - now);
                return false;
            }
        }
        let Some(&id) = f.free.last() else {
            // Every slot is in use (draining instances hold theirs): try again when one frees.
            self.retry_launches(pool, launch.retry_after);
            return false;
        };
        let choice = self
            .fleet
            .choose_launch(self.scenario, &self.billing, now, pool);
        let Some((itype, purchase)) = choice else {
            // Every type it may launch is short of capacity: EC2 Auto Scaling retries.
            self.fleet.pools[pool].fleet.stats.launch_failures += 1;
            self.retry_launches(pool, launch.retry_after);
            return false;
        };
        let f = &mut self.fleet.pools[pool].fleet;
        if launch.failure_probability > 0.0
            && open_unit(&mut f.launch_rng) < launch.failure_probability
        {
            f.stats.launch_failures += 1;
            self.retry_launches(pool, launch.retry_after);
            return false;
        }
        f.free.pop();
        if launch.per_minute.is_some() {
            f.recent_launches.push_back(now);
        }
        if to == Destination::WarmPool {
            f.preparing += 1;
        } else {
            f.stats.launches += 1;
        }
        // Its type first: billing by kind reads it when it leaves Terminated.
        self.launched_as(now, id, itype, purchase);
        let warmup = self.fleet.pools[pool].fleet.launch_warmup;
        let inst = &mut self.fleet.instances[id];
        inst.bound_for_warm_pool = to == Destination::WarmPool;
        inst.launched_at = now;
        inst.warmup = warmup;
        inst.condition = Condition::Up;
        self.set_state(now, id, InstanceState::Pending);
        self.begin_phase(now, id);
        true
    }

    /// Starts a ready warm-pool instance of `pool` toward service, if it has one: no launch
    /// attempt, no rate limit.
    fn start_warm(&mut self, now: SimTime, pool: PoolId) -> bool {
        let warm = self.fleet.slots_of(pool).iter().find_map(|i| {
            let state = self.fleet.instances[i].state;
            let start = InstanceState::start(Some(state));
            start.filter(|_| state.is_warm_pool()).map(|s| (i, s))
        });
        let Some((id, start)) = warm else {
            return false;
        };
        let stats = &mut self.fleet.pools[pool].fleet.stats;
        stats.launches += 1;
        stats.from_warm_pool += 1;
        let inst = &self.fleet.instances[id];
        let (itype, purchase) = (inst.itype, inst.purchase);
        self.launched_as(now, id, itype, purchase);
        self.set_state(now, id, start);
        let warmup = self.fleet.pools[pool].fleet.launch_warmup;
        let inst = &mut self.fleet.instances[id];
        inst.launched_at = now;
        inst.warmup = warmup;
        self.begin_phase(now, id);
        true
    }

    /// Instance `id` of the initial fleet could not be supplied at t = 0 (its spot type had
    /// no capacity): it is absent from the start, its slot free, and the pool launches what it
    /// lacks at t = 0. Called while the world is built, before billing starts (so it is
    /// billed nothing) and before any event.
    pub(in crate::world) fn absent_at_start(&mut self, id: InstanceId) {
        let now = SimTime::ZERO;
        self.set_registered(now, id, false);
        self.set_state(now, id, InstanceState::Terminated);
        let inst = &mut self.fleet.instances[id];
        inst.preexisting = false;
        let pool = inst.pool;
        let p = &mut self.fleet.pools[pool];
        p.with_free_slot.retain(|&i| i != id);
        let f = &mut p.fleet;
        f.free.push(id);
        f.peak = f.billed_full();
        if !f.retry_armed {
            f.retry_armed = true;
            self.queue
                .schedule_in(SimDuration::ZERO, Event::Reconcile { pool });
        }
    }

    fn retry_launches(&mut self, pool: PoolId, after: SimDuration) {
        let f = &mut self.fleet.pools[pool].fleet;
        if !f.retry_armed {
            f.retry_armed = true;
            self.queue.schedule_in(
                after.max(SimDuration::from_nanos(1)),
                Event::Reconcile { pool },
            );
        }
    }

    /// A launch retry is due.
    pub(in crate::world) fn on_reconcile(&mut self, now: SimTime, pool: PoolId) {
        self.fleet.pools[pool].fleet.retry_armed = false;
        self.reconcile(now, pool);
    }

    /// Draws the duration of `id`'s current phase and schedules its end; zero-length phases
    /// pass at once.
    fn begin_phase(&mut self, now: SimTime, id: InstanceId) {
        let inst = &self.fleet.instances[id];
        let Some(phase) = inst.state.phase() else {
            return;
        };
        let pool = inst.pool;
        let startup = &self.scenario.pools[pool.index()].startup;
        let dist = match phase {
            Phase::Boot => &startup.boot,
            Phase::Load => &startup.model_load,
            Phase::WarmUp => &startup.warm_up,
        };
        let u = open_unit(&mut self.fleet.pools[pool].fleet.phase_rng);
        let took = dist.quantile(u);
        if took.is_zero() {
            self.phase_done(now, id);
        } else {
            let epoch = self.fleet.instances[id].epoch;
            self.queue.schedule_in(
                took,
                Event::PhaseEnd {
                    instance: id,
                    epoch,
                },
            );
        }
    }

    /// A start-up phase timer fired.
    pub(in crate::world) fn on_phase_end(&mut self, now: SimTime, id: InstanceId, epoch: u32) {
        if self.fleet.instances[id].epoch == epoch {
            self.phase_done(now, id);
        }
    }

    fn phase_done(&mut self, now: SimTime, id: InstanceId) {
        let inst = &self.fleet.instances[id];
        let Some(next) = inst.state.after_phase() else {
            return; // no phase was running
        };
        if inst.bound_for_warm_pool && next == InstanceState::Warming {
            // Booted and loaded: it stops (or hibernates, or keeps running) in the pool.
            let pool = inst.pool;
            let state = self.scenario.pools[pool.index()]
                .warm_pool
                .map_or(InstanceState::WarmStopped, |w| w.state);
            self.fleet.instances[id].bound_for_warm_pool = false;
            self.fleet.pools[pool].fleet.preparing -= 1;
            self.set_state(now, id, state);
            return;
        }
        if next == InstanceState::InService {
            self.enter_service(now, id);
        } else {
            self.set_state(now, id, next);
            self.begin_phase(now, id);
        }
    }

    /// `id` is ready: it registers with its balancers, or starts pulling its pool's queue.
    fn enter_service(&mut self, now: SimTime, id: InstanceId) {
        self.set_state(now, id, InstanceState::InService);
        let inst = &mut self.fleet.instances[id];
        inst.in_service_at = now;
        inst.preexisting = false;
        inst.busy_since = now;
        inst.mark_area = inst.busy_area;
        inst.mark_at = now;
        let pool = inst.pool;
        self.set_registered(now, id, true);
        if self.fleet.pools[pool].dispatch == Dispatch::SharedQueue {
            self.pull_shared(now, id);
        }
        self.arm_failures(now, id);
        self.retire_at_risk(now, pool, id);
        self.after_activity(now, pool);
    }

    /// Registers `id` with (or deregisters it from) every target group of its pool.
    pub(in crate::world) fn set_registered(
        &mut self,
        now: SimTime,
        id: InstanceId,
        registered: bool,
    ) {
        let pool = self.fleet.instances[id].pool;
        let offset = self.fleet.slots_of(pool).offset(id) as u32;
        for i in 0..self.fleet.pools[pool].fleet.targets.len() {
            let (group, first) = self.fleet.pools[pool].fleet.targets[i];
            if self.fleet.groups[group].shared_pool.is_some() {
                // A shared queue's workers pull their work: no balancer to register with.
                continue;
            }
            let target = TargetId::from_raw(first + offset);
            self.fleet.groups[group]
                .health
                .set_registered(target, registered);
            self.fleet
                .refresh(&mut self.queue, &mut self.recorder, now, group, target);
        }
    }

    /// `id` leaves service: no new requests; it finishes what it holds within the
    /// deregistration delay.
    pub(in crate::world) fn drain(&mut self, now: SimTime, id: InstanceId) {
        self.set_state(now, id, InstanceState::Draining);
        self.set_registered(now, id, false);
        let pool = self.fleet.instances[id].pool;
        if self.fleet.pools[pool].dispatch == Dispatch::SharedQueue {
            self.fleet.pools[pool].with_free_slot.retain(|&i| i != id);
        }
        if self.fleet.holds_nothing(id) {
            self.drained(now, id);
            return;
        }
        let delay = self.scenario.pools[pool.index()].deregistration_delay;
        let epoch = self.fleet.instances[id].epoch;
        self.queue.schedule_in(
            delay,
            Event::DrainDeadline {
                instance: id,
                epoch,
            },
        );
    }

    /// Called when a draining instance may have finished its last request.
    #[inline]
    pub(in crate::world) fn check_drained(&mut self, now: SimTime, id: InstanceId) {
        let inst = &self.fleet.instances[id];
        if inst.state == InstanceState::Draining && self.fleet.holds_nothing(id) {
            self.drained(now, id);
        }
    }

    /// The deregistration delay of `id` ran out: what it still holds is cut off.
    pub(in crate::world) fn on_drain_deadline(&mut self, now: SimTime, id: InstanceId, epoch: u32) {
        let inst = &self.fleet.instances[id];
        if inst.epoch != epoch || inst.state != InstanceState::Draining {
            return;
        }
        let cut = self.drop_work(now, id, Failure::Interrupted, LossCause::DrainTimeout);
        let pool = self.fleet.instances[id].pool;
        self.fleet.pools[pool].fleet.stats.cut_by_drain += cut;
        self.drained(now, id);
    }

    /// A drained instance leaves: back to the warm pool if it reuses instances on scale-in and
    /// has room, else terminated.
    fn drained(&mut self, now: SimTime, id: InstanceId) {
        if self.fleet.instances[id].interrupted {
            // The cloud reclaims it at the end of its notice, not before.
            return;
        }
        let pool = self.fleet.instances[id].pool;
        if let Some(spec) = self.scenario.pools[pool.index()].warm_pool {
            let f = &self.fleet.pools[pool].fleet;
            let room = f.warm() + f.preparing < spec.size(f.limits.max, f.desired);
            if spec.reuse_on_scale_in && room {
                self.set_state(now, id, spec.state);
                self.after_activity(now, pool);
                return;
            }
        }
        self.terminate(now, id);
    }

    /// `id` is gone; its slot is free for a later launch.
    pub(in crate::world) fn terminate(&mut self, now: SimTime, id: InstanceId) {
        let inst = &mut self.fleet.instances[id];
        let pool = inst.pool;
        if inst.bound_for_warm_pool {
            inst.bound_for_warm_pool = false;
            self.fleet.pools[pool].fleet.preparing -= 1;
        }
        if inst.held {
            // An interrupted instance the group counted until now: its replacement is due.
            inst.held = false;
            self.fleet.pools[pool].fleet.held -= 1;
        }
        self.set_state(now, id, InstanceState::Terminated);
        let f = &mut self.fleet.pools[pool].fleet;
        f.stats.terminations += 1;
        f.free.push(id);
        self.after_activity(now, pool);
    }

    /// A scaling activity of `pool` may have finished (see `PoolFleet::settle`).
    #[inline]
    pub(in crate::world) fn after_activity(&mut self, now: SimTime, pool: PoolId) {
        self.fleet.pools[pool].fleet.settle(now);
    }
}

impl Fleet {
    /// The `n` instances of `pool` that scale-in removes, by its termination policy. With a
    /// mixed instances policy, each comes from the purchase option above its share of the
    /// desired capacity first (AWS: "Amazon EC2 Auto Scaling ... terminates instances in a way
    /// that maintains the distribution"), then by the policy within it.
    fn victims(
        &self,
        scenario: &Scenario,
        billing: &Billing,
        now: SimTime,
        pool: PoolId,
        n: u32,
    ) -> Vec<InstanceId> {
        let spec = &scenario.pools[pool.index()];
        let mixed = spec.mixed.as_ref();
        let mut candidates: Vec<InstanceId> = self
            .slots_of(pool)
            .iter()
            .filter(|&i| {
                let inst = &self.instances[i];
                inst.counted() && !inst.interrupted
            })
            .collect();
        let key = |&i: &InstanceId| {
            let inst = &self.instances[i];
            let launched = inst.launched_at.as_nanos();
            // Closest to the next billing hour: the least time left in its current hour.
            let aws_default = || {
                let used = (now.as_nanos() - launched) % HOUR_NANOS;
                HOUR_NANOS - used
            };
            match spec.termination_policy {
                TerminationPolicy::OldestInstance => (0, 0, launched),
                TerminationPolicy::NewestInstance => (0, 0, u64::MAX - launched),
                TerminationPolicy::AwsDefault => (0, 0, aws_default()),
                TerminationPolicy::AllocationStrategy => {
                    let rank = mixed.map_or(0, |m| {
                        m.termination_rank(inst.itype.index(), inst.purchase, |t, p| {
                            billing.price_at(scenario, t, p, now)
                        })
                    });
                    (0, u64::MAX - rank, aws_default())
                }
                // ReplicaSet ranking: not started before starting before ready; then the
                // shortest ready (or the newest).
                TerminationPolicy::Kubernetes => match inst.state {
                    InstanceState::Pending => (0, 0, u64::MAX - launched),
                    InstanceState::InService => (2, 0, u64::MAX - inst.in_service_at.as_nanos()),
                    _ => (1, 0, u64::MAX - launched),
                },
            }
        };
        candidates.sort_by_key(|i| (key(i), *i));
        let Some(m) = mixed else {
            candidates.truncate(n as usize);
            return candidates;
        };
        // One at a time from the option over its target, best first within it.
        let (mut od, mut spot) = self.purchase_counts(pool);
        let mut victims = Vec::with_capacity(n as usize);
        let mut total = od + spot;
        for _ in 0..n {
            if candidates.is_empty() {
                break;
            }
            total -= 1;
            let option = m.over_target(total, od, spot);
            let pick = candidates
                .iter()
                .position(|&i| self.instances[i].purchase == option)
                .unwrap_or(0);
            let id = candidates.remove(pick);
            match self.instances[id].purchase {
                PurchaseOption::OnDemand => od -= 1,
                PurchaseOption::Spot => spot -= 1,
            }
            victims.push(id);
        }
        victims
    }
}
