//! The fleet's lifecycle in the world: launching instances through their start-up phases,
//! registering them with their balancers once ready, draining and terminating them on scale-in,
//! the warm pool, and what every state costs.
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

use std::collections::VecDeque;

use super::{Event, World};
use crate::engine::{open_unit, SimDuration, SimTime, StreamRng};
use crate::metrics::{Failure, LossCause};
use crate::model::autoscale::capacity::CapacityLimits;
use crate::model::fleet::lifecycle::{Billing, InstanceState, Phase};
use crate::model::fleet::{Dispatch, TerminationPolicy};
use crate::model::market::PurchaseOption;

/// The number of lifecycle states, for per-state counters.
pub(super) const STATES: usize = InstanceState::ALL.len();

const HOUR_NANOS: u64 = 3_600_000_000_000;

/// What a pool's instances have done over the run.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FleetStats {
    /// Instances started toward service (new or from the warm pool).
    pub launches: u64,
    /// Of those, started from the warm pool.
    pub from_warm_pool: u64,
    /// Launch attempts that failed.
    pub launch_failures: u64,
    /// Instances terminated.
    pub terminations: u64,
    /// Requests cut off when a draining instance's deregistration delay ran out.
    pub cut_by_drain: u64,
    /// Instances replaced because a health check found them unhealthy.
    pub replaced_unhealthy: u64,
}

/// A pool's capacity bookkeeping: desired capacity, instances per state, launches, billing.
pub(super) struct PoolFleet {
    /// The desired capacity the pool is brought to.
    pub desired: u32,
    /// Its min and max (scheduled actions may change them).
    pub limits: CapacityLimits,
    /// The AWS instance warm-up given to the instances launched from now on: that of the last
    /// activity that raised the desired capacity (its autoscaler sets it; 0 otherwise).
    pub launch_warmup: SimDuration,
    /// Instances per state, indexed by `InstanceState as usize` (unused slots are Terminated).
    pub counts: [u32; STATES],
    /// Instances on their way to the warm pool (booting or loading).
    preparing: u32,
    /// Instances in a counted state that capacity rebalancing is replacing (not counted).
    pub at_risk: u32,
    /// Interrupted instances draining that still count until the cloud reclaims them.
    pub held: u32,
    /// Unused slots, the lowest id on top.
    free: Vec<u32>,
    launch_rng: StreamRng,
    phase_rng: StreamRng,
    /// Start times of the launches in the last minute (for the rate limit).
    recent_launches: VecDeque<SimTime>,
    retry_armed: bool,
    billed_since: SimTime,
    /// Instance-nanoseconds billed in full, and for storage only.
    full_ns: u128,
    storage_ns: u128,
    /// Most instances billed in full at once.
    pub peak: u32,
    /// Totals.
    pub stats: FleetStats,
    /// `(group, first target)` of each target group holding this pool: slot `i` of the pool is
    /// target `first + i` there.
    pub targets: Vec<(u32, u32)>,
    /// Its controller watches the scaling activity under way (see `World::after_activity`).
    pub watching: bool,
    /// When the watched activity settled, until the controller's next observation.
    pub settled_at: Option<SimTime>,
}

impl PoolFleet {
    /// A pool of `len` slots whose first `running` are in service, wanting `desired`.
    pub(super) fn new(
        first: u32,
        len: u32,
        running: u32,
        limits: CapacityLimits,
        launch_rng: StreamRng,
        phase_rng: StreamRng,
    ) -> Self {
        let mut counts = [0; STATES];
        counts[InstanceState::InService as usize] = running;
        counts[InstanceState::Terminated as usize] = len - running;
        PoolFleet {
            desired: running,
            limits,
            launch_warmup: SimDuration::ZERO,
            counts,
            preparing: 0,
            at_risk: 0,
            held: 0,
            free: (first + running..first + len).rev().collect(),
            launch_rng,
            phase_rng,
            recent_launches: VecDeque::new(),
            retry_armed: false,
            billed_since: SimTime::ZERO,
            full_ns: 0,
            storage_ns: 0,
            peak: running,
            stats: FleetStats::default(),
            targets: Vec::new(),
            watching: false,
            settled_at: None,
        }
    }

    /// Slots `from..from + n` start in the warm pool, in `state`.
    pub(super) fn add_warm(&mut self, from: u32, n: u32, state: Option<InstanceState>) {
        let Some(state) = state.filter(|_| n > 0) else {
            return;
        };
        self.counts[InstanceState::Terminated as usize] -= n;
        self.counts[state as usize] += n;
        self.free.retain(|&i| i < from || i >= from + n);
        self.peak = self.billed_full();
    }

    fn count(&self, state: InstanceState) -> u32 {
        self.counts[state as usize]
    }

    /// Instances billed in full (every state but terminated and stopped/hibernated).
    pub(super) fn billed_full(&self) -> u32 {
        InstanceState::ALL
            .iter()
            .filter(|s| s.billing() == Billing::Full)
            .map(|&s| self.count(s))
            .sum()
    }

    fn billed_storage(&self) -> u32 {
        InstanceState::ALL
            .iter()
            .filter(|s| s.billing() == Billing::StorageOnly)
            .map(|&s| self.count(s))
            .sum()
    }

    /// Integrates billing up to `now`.
    pub(super) fn bill(&mut self, now: SimTime) {
        let dt = (now - self.billed_since).as_nanos() as u128;
        self.full_ns += u128::from(self.billed_full()) * dt;
        self.storage_ns += u128::from(self.billed_storage()) * dt;
        self.billed_since = now;
    }

    /// Hours billed in full and for storage only, up to the last [`PoolFleet::bill`].
    pub(super) fn billed_hours(&self) -> (f64, f64) {
        let h = HOUR_NANOS as f64;
        (self.full_ns as f64 / h, self.storage_ns as f64 / h)
    }

    /// Instances launched toward service and not yet gone: what counts toward the desired
    /// capacity (AWS: Pending and InService; warm-pool instances being prepared do not).
    pub(super) fn active(&self) -> u32 {
        InstanceState::ALL
            .iter()
            .filter(|s| s.counts_toward_desired())
            .map(|&s| self.count(s))
            .sum::<u32>()
            - self.preparing
            - self.at_risk
            + self.held
    }

    /// Instances still on their way to service (excluding warm-pool preparation).
    pub(super) fn starting(&self) -> u32 {
        self.count(InstanceState::Pending)
            + self.count(InstanceState::Loading)
            + self.count(InstanceState::Warming)
            - self.preparing
    }

    fn warm(&self) -> u32 {
        self.count(InstanceState::WarmStopped)
            + self.count(InstanceState::WarmHibernated)
            + self.count(InstanceState::WarmRunning)
    }
}

/// Where a new instance is headed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Destination {
    Service,
    WarmPool,
}

impl World<'_> {
    /// Moves `id` to state `to` at `now`, keeping every count, integral and timer epoch right.
    pub(super) fn set_state(&mut self, now: SimTime, id: u32, to: InstanceState) {
        let inst = &mut self.instances[id as usize];
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
        let busy = self.busy_slot_ns(now, id);
        self.billing.state_changed(
            &mut self.recorder,
            self.scenario,
            now,
            id,
            &self.instances[id as usize],
            busy,
            from,
            to,
        );
        let inst = &self.instances[id as usize];
        let f = &mut self.pools[inst.pool as usize].fleet;
        f.bill(now);
        if left_count {
            f.at_risk -= 1;
        }
        f.counts[from as usize] -= 1;
        f.counts[to as usize] += 1;
        f.peak = f.peak.max(f.billed_full());
        self.recorder.instance_moved(from, to);
        match (from.serves(), to.serves()) {
            (false, true) => self.recorder.slots_changed(i64::from(slots)),
            (true, false) => self.recorder.slots_changed(-i64::from(slots)),
            _ => {}
        }
    }

    /// Sets `pool`'s desired capacity (within its limits) and brings the fleet to it. `policy`
    /// and `reason` go to the scaling events when it changes.
    pub(super) fn set_desired(
        &mut self,
        now: SimTime,
        pool: usize,
        desired: u32,
        policy: &'static str,
        reason: String,
    ) {
        let f = &mut self.pools[pool].fleet;
        let desired = f.limits.clamp(i64::from(desired));
        let from = f.desired;
        if desired != from {
            f.desired = desired;
            self.recorder
                .desired_changed(i64::from(desired) - i64::from(from));
            self.recorder.scaling_event(
                now,
                &self.scenario.pools[pool].name,
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
    pub(super) fn reconcile(&mut self, now: SimTime, pool: usize) {
        let (active, desired) = {
            let f = &self.pools[pool].fleet;
            (f.active(), f.desired)
        };
        if active < desired {
            for _ in active..desired {
                if !self.launch(now, pool, Destination::Service) {
                    break;
                }
            }
        } else if active > desired {
            for victim in self.victims(now, pool, active - desired) {
                if self.instances[victim as usize].state == InstanceState::InService {
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
    fn size_warm_pool(&mut self, now: SimTime, pool: usize) {
        let Some(spec) = self.scenario.pools[pool].warm_pool else {
            return;
        };
        let f = &self.pools[pool].fleet;
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
            let range = self.slots_of(pool);
            let gone: Vec<u32> = range
                .filter(|&i| self.instances[i as usize].state.is_warm_pool())
                .take(extra)
                .collect();
            for id in gone {
                self.terminate(now, id);
            }
        }
    }

    /// The instance ids of `pool`'s slots.
    pub(super) fn slots_of(&self, pool: usize) -> std::ops::Range<u32> {
        let p = &self.pools[pool];
        p.first as u32..(p.first + p.len) as u32
    }

    /// Starts one instance toward `to`; false if the pool cannot launch now (the launch failed,
    /// the rate limit is reached, or every slot is taken) and a retry is arranged.
    fn launch(&mut self, now: SimTime, pool: usize, to: Destination) -> bool {
        let spec = &self.scenario.pools[pool];
        if self.topology.is_some() && self.pool_in_outage(pool) {
            // Its zone, region or cloud is down: the launch fails (the group retries).
            self.pools[pool].fleet.stats.launch_failures += 1;
            self.retry_launches(pool, spec.launch.retry_after);
            return false;
        }
        if to == Destination::Service {
            // A ready warm instance first: no launch attempt, no rate limit.
            let warm = self
                .slots_of(pool)
                .find(|&i| self.instances[i as usize].state.is_warm_pool());
            if let Some(id) = warm {
                let from = self.instances[id as usize].state;
                let start = InstanceState::start(Some(from)).expect("a warm state starts");
                self.pools[pool].fleet.stats.launches += 1;
                self.pools[pool].fleet.stats.from_warm_pool += 1;
                let inst = &self.instances[id as usize];
                let (itype, purchase) = (inst.itype as usize, inst.purchase);
                self.launched_as(now, id, itype, purchase);
                self.set_state(now, id, start);
                self.instances[id as usize].launched_at = now;
                self.instances[id as usize].warmup = self.pools[pool].fleet.launch_warmup;
                self.begin_phase(now, id);
                return true;
            }
        }
        let launch = spec.launch;
        let f = &mut self.pools[pool].fleet;
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
        let Some((itype, purchase)) = self.choose_launch(now, pool) else {
            // Every type it may launch is short of capacity: EC2 Auto Scaling retries.
            self.pools[pool].fleet.stats.launch_failures += 1;
            self.retry_launches(pool, launch.retry_after);
            return false;
        };
        let f = &mut self.pools[pool].fleet;
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
        let warmup = self.pools[pool].fleet.launch_warmup;
        let inst = &mut self.instances[id as usize];
        inst.bound_for_warm_pool = to == Destination::WarmPool;
        inst.launched_at = now;
        inst.warmup = warmup;
        inst.condition = super::Condition::Up;
        self.set_state(now, id, InstanceState::Pending);
        self.begin_phase(now, id);
        true
    }

    /// Instance `id` of the initial fleet could not be supplied at t = 0 (its spot type had
    /// no capacity): it is absent from the start, its slot free, and the pool launches what it
    /// lacks at t = 0. Called while the world is built, before billing starts (so it is
    /// billed nothing) and before any event.
    pub(super) fn absent_at_start(&mut self, id: u32) {
        let now = SimTime::ZERO;
        self.set_registered(now, id, false);
        self.set_state(now, id, InstanceState::Terminated);
        let inst = &mut self.instances[id as usize];
        inst.preexisting = false;
        let pool = inst.pool as usize;
        let p = &mut self.pools[pool];
        p.with_free_slot.retain(|&i| i != id);
        let f = &mut p.fleet;
        f.free.push(id);
        f.peak = f.billed_full();
        if !f.retry_armed {
            f.retry_armed = true;
            self.queue
                .schedule_in(SimDuration::ZERO, Event::Reconcile { pool: pool as u32 });
        }
    }

    fn retry_launches(&mut self, pool: usize, after: SimDuration) {
        let f = &mut self.pools[pool].fleet;
        if !f.retry_armed {
            f.retry_armed = true;
            self.queue.schedule_in(
                after.max(SimDuration::from_nanos(1)),
                Event::Reconcile { pool: pool as u32 },
            );
        }
    }

    /// A launch retry is due.
    pub(super) fn on_reconcile(&mut self, now: SimTime, pool: u32) {
        self.pools[pool as usize].fleet.retry_armed = false;
        self.reconcile(now, pool as usize);
    }

    /// Draws the duration of `id`'s current phase and schedules its end; zero-length phases
    /// pass at once.
    fn begin_phase(&mut self, now: SimTime, id: u32) {
        let inst = &self.instances[id as usize];
        let Some(phase) = inst.state.phase() else {
            return;
        };
        let pool = inst.pool as usize;
        let startup = &self.scenario.pools[pool].startup;
        let dist = match phase {
            Phase::Boot => &startup.boot,
            Phase::Load => &startup.model_load,
            Phase::WarmUp => &startup.warm_up,
        };
        let u = open_unit(&mut self.pools[pool].fleet.phase_rng);
        let took = dist.quantile(u);
        if took.is_zero() {
            self.phase_done(now, id);
        } else {
            let epoch = self.instances[id as usize].epoch;
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
    pub(super) fn on_phase_end(&mut self, now: SimTime, id: u32, epoch: u32) {
        if self.instances[id as usize].epoch == epoch {
            self.phase_done(now, id);
        }
    }

    fn phase_done(&mut self, now: SimTime, id: u32) {
        let inst = &self.instances[id as usize];
        let next = inst.state.after_phase().expect("a phase was running");
        if inst.bound_for_warm_pool && next == InstanceState::Warming {
            // Booted and loaded: it stops (or hibernates, or keeps running) in the pool.
            let pool = inst.pool as usize;
            let state = self.scenario.pools[pool]
                .warm_pool
                .map_or(InstanceState::WarmStopped, |w| w.state);
            self.instances[id as usize].bound_for_warm_pool = false;
            self.pools[pool].fleet.preparing -= 1;
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
    fn enter_service(&mut self, now: SimTime, id: u32) {
        self.set_state(now, id, InstanceState::InService);
        let inst = &mut self.instances[id as usize];
        inst.in_service_at = now;
        inst.preexisting = false;
        inst.busy_since = now;
        inst.mark_area = inst.busy_area;
        inst.mark_at = now;
        let pool = inst.pool as usize;
        self.set_registered(now, id, true);
        if self.pools[pool].dispatch == Dispatch::SharedQueue {
            self.pull_shared(now, id);
        }
        self.arm_failures(now, id);
        self.retire_at_risk(now, pool, id);
        self.after_activity(now, pool);
    }

    /// A shared-queue worker with free slots takes waiting work, and is listed as having free
    /// slots if some remain.
    fn pull_shared(&mut self, now: SimTime, id: u32) {
        let pool = self.instances[id as usize].pool as usize;
        while self.instances[id as usize].busy < self.instances[id as usize].slots {
            let Some(next) = self.pop_live(super::QueueId::Pool(pool as u32)) else {
                break;
            };
            if self.requests.get(next).deadline <= now {
                self.time_out_queued(now, next);
            } else {
                self.start(now, id, next);
            }
        }
        let inst = &self.instances[id as usize];
        if inst.busy < inst.slots {
            self.pools[pool].with_free_slot.push(id);
        }
    }

    /// Registers `id` with (or deregisters it from) every target group of its pool.
    pub(super) fn set_registered(&mut self, now: SimTime, id: u32, registered: bool) {
        let pool = self.instances[id as usize].pool as usize;
        let offset = id - self.pools[pool].first as u32;
        for i in 0..self.pools[pool].fleet.targets.len() {
            let (group, first) = self.pools[pool].fleet.targets[i];
            if self.groups[group as usize].shared_pool.is_some() {
                // A shared queue's workers pull their work: no balancer to register with.
                continue;
            }
            let target = (first + offset) as usize;
            self.groups[group as usize]
                .health
                .set_registered(target, registered);
            self.refresh(now, group as usize, target);
        }
    }

    /// `id` leaves service: no new requests; it finishes what it holds within the
    /// deregistration delay.
    pub(super) fn drain(&mut self, now: SimTime, id: u32) {
        self.set_state(now, id, InstanceState::Draining);
        self.set_registered(now, id, false);
        let pool = self.instances[id as usize].pool as usize;
        if self.pools[pool].dispatch == Dispatch::SharedQueue {
            self.pools[pool].with_free_slot.retain(|&i| i != id);
        }
        if self.holds_nothing(id) {
            self.drained(now, id);
            return;
        }
        let delay = self.scenario.pools[pool].deregistration_delay;
        let epoch = self.instances[id as usize].epoch;
        self.queue.schedule_in(
            delay,
            Event::DrainDeadline {
                instance: id,
                epoch,
            },
        );
    }

    fn holds_nothing(&self, id: u32) -> bool {
        let inst = &self.instances[id as usize];
        inst.busy == 0 && inst.queue.live() == 0
    }

    /// Called when a draining instance may have finished its last request.
    #[inline]
    pub(super) fn check_drained(&mut self, now: SimTime, id: u32) {
        let inst = &self.instances[id as usize];
        if inst.state == InstanceState::Draining && self.holds_nothing(id) {
            self.drained(now, id);
        }
    }

    /// The deregistration delay of `id` ran out: what it still holds is cut off.
    pub(super) fn on_drain_deadline(&mut self, now: SimTime, id: u32, epoch: u32) {
        let inst = &self.instances[id as usize];
        if inst.epoch != epoch || inst.state != InstanceState::Draining {
            return;
        }
        let cut = self.drop_work(now, id, Failure::Interrupted, LossCause::DrainTimeout);
        let pool = self.instances[id as usize].pool as usize;
        self.pools[pool].fleet.stats.cut_by_drain += cut;
        self.drained(now, id);
    }

    /// A drained instance leaves: back to the warm pool if it reuses instances on scale-in and
    /// has room, else terminated.
    fn drained(&mut self, now: SimTime, id: u32) {
        if self.instances[id as usize].interrupted {
            // The cloud reclaims it at the end of its notice, not before.
            return;
        }
        let pool = self.instances[id as usize].pool as usize;
        if let Some(spec) = self.scenario.pools[pool].warm_pool {
            let f = &self.pools[pool].fleet;
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
    pub(super) fn terminate(&mut self, now: SimTime, id: u32) {
        let inst = &mut self.instances[id as usize];
        let pool = inst.pool as usize;
        if inst.bound_for_warm_pool {
            inst.bound_for_warm_pool = false;
            self.pools[pool].fleet.preparing -= 1;
        }
        if inst.held {
            // An interrupted instance the group counted until now: its replacement is due.
            inst.held = false;
            self.pools[pool].fleet.held -= 1;
        }
        self.set_state(now, id, InstanceState::Terminated);
        let f = &mut self.pools[pool].fleet;
        f.stats.terminations += 1;
        f.free.push(id);
        self.after_activity(now, pool);
    }

    /// The `n` instances of `pool` that scale-in removes, by its termination policy. With a
    /// mixed instances policy, each comes from the purchase option above its share of the
    /// desired capacity first (AWS: "Amazon EC2 Auto Scaling ... terminates instances in a way
    /// that maintains the distribution"), then by the policy within it.
    fn victims(&self, now: SimTime, pool: usize, n: u32) -> Vec<u32> {
        let policy = self.scenario.pools[pool].termination_policy;
        let mixed = self.scenario.pools[pool].mixed.as_ref();
        let mut candidates: Vec<u32> = self
            .slots_of(pool)
            .filter(|&i| {
                let inst = &self.instances[i as usize];
                self.counted(i) && !inst.interrupted
            })
            .collect();
        let key = |i: &u32| {
            let inst = &self.instances[*i as usize];
            let launched = inst.launched_at.as_nanos();
            // Closest to the next billing hour: the least time left in its current hour.
            let aws_default = || {
                let used = (now.as_nanos() - launched) % HOUR_NANOS;
                HOUR_NANOS - used
            };
            match policy {
                TerminationPolicy::OldestInstance => (0, 0, launched),
                TerminationPolicy::NewestInstance => (0, 0, u64::MAX - launched),
                TerminationPolicy::AwsDefault => (0, 0, aws_default()),
                TerminationPolicy::AllocationStrategy => {
                    let rank = mixed.map_or(0, |m| {
                        m.termination_rank(inst.itype as usize, inst.purchase, |t, p| {
                            self.price_at(t, p, now)
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
                .position(|&i| self.instances[i as usize].purchase == option)
                .unwrap_or(0);
            let id = candidates.remove(pick);
            match self.instances[id as usize].purchase {
                PurchaseOption::OnDemand => od -= 1,
                PurchaseOption::Spot => spot -= 1,
            }
            victims.push(id);
        }
        victims
    }
}
