//! The fleet: every instance slot, the pools that own them and the target groups that balance
//! over them, with their health, spot market and faults.
//!
//! It owns the instances ([`Instance`]: lifecycle state, busy slots, its own wait queue, its
//! LLM batch), the pools ([`Pool`]: slots, shared queue, desired capacity and counts, spot and
//! fault state) and the groups ([`Group`]: members, balancer, health, retries). Its own methods
//! read and change only that; the flows that also move requests or bills ([`lifecycle`],
//! [`health`], [`spot`], [`faults`]) run on [`Ctx`](super::Ctx).
//!
//! Pool `p`'s instances are the slots `pools[p].slots`, used or not (an unused slot is an
//! instance in state `Terminated`); in group `g` holding pool `p`, slot `k` of the pool is
//! target `first + k` of the group's balancer, with `(g, first)` in the pool's
//! `PoolFleet::targets`.

pub(super) mod engines;
pub(super) mod faults;
pub(super) mod health;
pub(super) mod lifecycle;
pub(super) mod pool_fleet;
pub(super) mod spot;
pub(super) mod waiting;

use super::ids::{GroupId, Id, IdRange, IdVec, InstanceId, InstanceTypeId, PoolId, TargetId};
use crate::engine::RandomStreams;
use crate::metrics::{LatencyHistogram, LossCause};
use crate::model::autoscale::capacity::CapacityLimits;
use crate::model::autoscale::spec::MetricKind;
use crate::model::balancer::routing::RetryPolicy;
use crate::model::balancer::{slow_start, Algorithm, Balancer};
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::llm_server::LlmWork;
use crate::model::fleet::Dispatch;
use crate::model::market::PurchaseOption;
use crate::scenario::spec::PoolSpec;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use health::GroupHealth;
use pool_fleet::{PoolFleet, STATES};
use waiting::WaitQueue;

/// How an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Condition {
    /// Serving.
    Up,
    /// The host does not answer.
    Crashed,
    /// Alive, but answers every request with an error.
    Broken,
}

/// Which queue a timer is for.
#[derive(Debug, Clone, Copy)]
pub(super) enum QueueId {
    /// A pool's shared queue.
    Pool(PoolId),
    /// An instance's own queue.
    Instance(InstanceId),
}

/// One server, or an unused slot of its pool (state `Terminated`).
pub(super) struct Instance {
    pub pool: PoolId,
    /// Its instance type: a pool of several types (a mixed instances policy) launches each
    /// instance as one of them.
    pub itype: InstanceTypeId,
    /// How it was bought.
    pub purchase: PurchaseOption,
    /// Bumped at every launch: a spot or fault timer of an earlier life is stale.
    pub life: u32,
    /// It got its spot interruption notice: the cloud reclaims it two minutes later.
    pub interrupted: bool,
    /// Interrupted and draining, it still counts toward the desired capacity until the cloud
    /// reclaims it (no capacity rebalancing: the group replaces it after termination).
    pub held: bool,
    /// A rebalance recommendation made it at risk and capacity rebalancing is replacing it: it
    /// no longer counts toward the desired capacity.
    pub at_risk: bool,
    pub slots: u32,
    pub busy: u32,
    pub queue: WaitQueue,
    pub condition: Condition,
    /// What made it crashed or broken (for `lost_by_cause`).
    pub fault_cause: LossCause,
    pub error_latency: SimDuration,
    pub state: InstanceState,
    /// Bumped at every state change: a timer carrying an older epoch is stale.
    pub epoch: u32,
    /// When it was launched (for termination policies).
    pub launched_at: SimTime,
    /// When it last entered service (for instance warm-up and Kubernetes' ranking).
    pub in_service_at: SimTime,
    /// In service since before the run: its warm-up is long over.
    pub preexisting: bool,
    /// Its AWS instance warm-up, from entering service: stamped at launch with the warm-up of
    /// the activity that launched it (`PoolFleet::launch_warmup`).
    pub warmup: SimDuration,
    /// It is being prepared for the warm pool, not for service.
    pub bound_for_warm_pool: bool,
    /// Busy slot-nanoseconds up to `busy_since` (per-instance utilization).
    pub busy_area: u64,
    pub busy_since: SimTime,
    /// Its continuously batched token-based work (created on its first LLM request).
    pub llm: Option<Box<LlmWork>>,
    /// `busy_area` and the time at the last metrics mark (the start of the period measured).
    pub mark_area: u64,
    pub mark_at: SimTime,
}

impl Instance {
    /// A slot of `pool` holding an instance of `itype` with `slots` slots in `state`, at the
    /// start of the run (in service since before it if `preexisting`).
    fn new(
        pool: PoolId,
        itype: InstanceTypeId,
        slots: u32,
        state: InstanceState,
        preexisting: bool,
    ) -> Self {
        Instance {
            pool,
            itype,
            purchase: PurchaseOption::OnDemand,
            slots,
            busy: 0,
            queue: WaitQueue::default(),
            condition: Condition::Up,
            fault_cause: LossCause::Crash,
            life: 0,
            interrupted: false,
            held: false,
            at_risk: false,
            error_latency: SimDuration::ZERO,
            state,
            epoch: 0,
            launched_at: SimTime::ZERO,
            in_service_at: SimTime::ZERO,
            preexisting,
            warmup: SimDuration::ZERO,
            bound_for_warm_pool: false,
            busy_area: 0,
            busy_since: SimTime::ZERO,
            llm: None,
            mark_area: 0,
            mark_at: SimTime::ZERO,
        }
    }

    /// In service and past its AWS instance warm-up at `now` (it then counts toward the
    /// group's metrics and capacity).
    pub fn warmed(&self, now: SimTime) -> bool {
        self.state == InstanceState::InService
            && (self.preexisting || self.in_service_at.saturating_add(self.warmup) <= now)
    }

    /// The number of busy slots becomes `busy` at `now`, integrated for utilization metrics.
    #[inline]
    pub fn set_busy(&mut self, now: SimTime, busy: u32) {
        self.busy_area += u64::from(self.busy) * (now - self.busy_since).as_nanos();
        self.busy_since = now;
        self.busy = busy;
    }

    /// Busy slot-nanoseconds up to `now`.
    pub fn busy_slot_ns(&self, now: SimTime) -> u64 {
        self.busy_area + u64::from(self.busy) * (now - self.busy_since).as_nanos()
    }

    /// Counts toward its pool's desired capacity now: launched toward service and not at risk
    /// (being replaced), or interrupted but not yet replaced.
    pub fn counted(&self) -> bool {
        (self.state.counts_toward_desired() && !self.bound_for_warm_pool && !self.at_risk)
            || self.held
    }

    /// A spot instance of `itype` the cloud has not interrupted: what the type's spot
    /// availability bounds.
    pub fn runs_spot_of(&self, itype: InstanceTypeId) -> bool {
        self.purchase == PurchaseOption::Spot
            && self.itype == itype
            && !self.interrupted
            && (self.state.counts_toward_desired() || self.state.serves())
    }
}

/// A group of identical instances with its slots.
pub(super) struct Pool {
    /// Its instance slots, used or not.
    pub slots: IdRange<InstanceId>,
    /// Each slot's instance state, by its place in `slots`, kept by `set_state`: an autoscaler's
    /// observation finds the live slots here without touching every instance (most of a
    /// pool's slots are empty most of the time).
    pub slot_states: Vec<InstanceState>,
    pub dispatch: Dispatch,
    pub queue_capacity: Option<u32>,
    /// The shared queue (shared-queue dispatch).
    pub shared: WaitQueue,
    /// Instances with at least one free slot (shared-queue dispatch), used as a stack.
    pub with_free_slot: Vec<InstanceId>,
    /// Desired capacity, lifecycle counts, launches and billing.
    pub fleet: PoolFleet,
    /// Requests sent to the pool (for request-count metrics).
    pub routed: u64,
    /// Response times of the pool's answered tries since the last metric period, when a
    /// policy reads `latency`.
    pub latency: Option<LatencyHistogram>,
    /// Spot interruptions and capacity (pools with a mixed instances policy).
    pub spot: Option<spot::PoolSpot>,
    /// Random crashes and GPU faults (pools with `[pool.failures]`).
    pub faults: Option<faults::PoolFaults>,
}

/// Instances behind one balancer: target `t` is instance `members[t]`.
pub(super) struct Group {
    pub members: IdVec<TargetId, InstanceId>,
    pub balancer: Balancer,
    /// The pool whose shared queue takes this group's requests, instead of a balancer.
    pub shared_pool: Option<PoolId>,
    /// Health checks, slow start and stickiness.
    pub health: GroupHealth,
    /// Retries of failed tries on another pick.
    pub retry: Option<RetryPolicy>,
    /// Retries in flight (Envoy's retry budget counts them).
    pub retries_active: u64,
}

impl Group {
    /// The most tries of one attempt its retry policy allows (nginx's
    /// `proxy_next_upstream_tries` 0: every target once); `None` without retries.
    pub fn max_tries(&self) -> Option<u64> {
        self.retry.map(|r| match r.attempts {
            0 => self.members.len() as u64,
            n => u64::from(n),
        })
    }
}

/// Instance slots a pool needs: with autoscaling, room for its maximum twice over (instances
/// draining while their replacements start) plus its warm pool; else its fixed size. A pool
/// that buys spot also needs room for the replacements of interrupted instances (launched while
/// they drain their notice), and with capacity rebalancing for those of at-risk ones: once and
/// twice more its size.
pub(super) fn pool_slots(spec: &PoolSpec) -> u32 {
    let spot = spec
        .mixed
        .as_ref()
        .filter(|m| m.on_demand_percent < 100)
        .map_or(0, |m| if m.capacity_rebalance { 2 } else { 1 });
    let Some(a) = &spec.autoscaling else {
        return spec.instances * (1 + spot);
    };
    let max = a.max.max(spec.instances);
    // The warm pool is largest at desired capacity 0.
    let warm = spec.warm_pool.map_or(0, |w| w.size(max, 0));
    (2 + spot) * max + warm
}

/// What the recorder must know of the fleet a run starts with.
pub(super) struct FleetStart {
    /// Instances per lifecycle state.
    pub states: [u64; STATES],
    /// The pools' desired capacities, added.
    pub desired: u64,
    /// Targets registered with a balancer.
    pub balanced_targets: u64,
}

impl Fleet {
    /// The fleet of `scenario` at the start of a run, its streams keyed from `streams`.
    pub fn new(scenario: &Scenario, streams: &RandomStreams) -> (Self, FleetStart) {
        let mut fleet = Fleet {
            instances: IdVec::new(),
            pools: IdVec::new(),
            groups: IdVec::new(),
            any_passive: scenario
                .target_groups
                .iter()
                .any(|g| g.balancer.passive.is_some()),
            retired_engines: vec![
                crate::metrics::EngineCounts::default();
                scenario.instance_types.len()
            ],
        };
        let mut start = FleetStart {
            states: [0; STATES],
            desired: 0,
            balanced_targets: 0,
        };
        for spec in &scenario.pools {
            let pool = fleet.add_pool(scenario, spec, streams);
            for (total, &n) in start.states.iter_mut().zip(&fleet.pools[pool].fleet.counts) {
                *total += u64::from(n);
            }
            start.desired += u64::from(spec.instances);
        }
        for g in &scenario.target_groups {
            let group = fleet.group(scenario, g, streams);
            start.balanced_targets += group.balanced_targets();
            let id = fleet.groups.push(group);
            let mut first_target = 0;
            for &p in &g.pools {
                let pool = &mut fleet.pools[PoolId::new(p)];
                pool.fleet.targets.push((id, first_target));
                first_target += pool.slots.len() as u32;
            }
        }
        (fleet, start)
    }

    /// Adds the slots and the pool `spec` describes.
    fn add_pool(
        &mut self,
        scenario: &Scenario,
        spec: &PoolSpec,
        streams: &RandomStreams,
    ) -> PoolId {
        let pool = PoolId::new(self.pools.len());
        let itype = InstanceTypeId::new(spec.instance_type);
        let slots = scenario.instance_types[spec.instance_type].concurrency;
        let first = self.instances.len();
        let len = pool_slots(spec) as usize;
        let running = spec.instances as usize;
        // The warm pool starts full: a planner asks what it buys once it is in place.
        let warm = spec.warm_pool.map_or(0, |w| {
            let max = spec.autoscaling.as_ref().map_or(spec.instances, |a| a.max);
            w.size(max, spec.instances) as usize
        });
        let mut slot_states = Vec::with_capacity(len);
        for i in 0..len {
            let state = if i < running {
                InstanceState::InService
            } else if i < running + warm {
                spec.warm_pool
                    .map_or(InstanceState::Terminated, |w| w.state)
            } else {
                InstanceState::Terminated
            };
            slot_states.push(state);
            self.instances
                .push(Instance::new(pool, itype, slots, state, i < running));
        }
        let range = IdRange::new(first, len);
        // A stack: the first instance is on top, so it is filled first.
        let with_free_slot = if spec.dispatch == Dispatch::SharedQueue {
            range.iter().take(running).rev().collect()
        } else {
            Vec::new()
        };
        let limits = spec.autoscaling.as_ref().map_or(
            CapacityLimits::new(spec.instances, spec.instances),
            // KEDA's idle count lies below min: the group must be able to sit there.
            |a| CapacityLimits::new(a.floor(), a.max),
        );
        let mut fleet = PoolFleet::new(
            range,
            running as u32,
            limits,
            streams.stream(&format!("launches/{}", spec.name)),
            streams.stream(&format!("startup/{}", spec.name)),
        );
        fleet.add_warm(
            range.nth(running),
            warm as u32,
            spec.warm_pool.map(|w| w.state),
        );
        self.pools.push(Pool {
            slots: range,
            slot_states,
            dispatch: spec.dispatch,
            queue_capacity: spec.queue_capacity,
            shared: WaitQueue::default(),
            with_free_slot,
            fleet,
            routed: 0,
            latency: spec
                .autoscaling
                .as_ref()
                .is_some_and(|a| a.reads(MetricKind::Latency))
                .then(LatencyHistogram::new),
            spot: spec
                .mixed
                .as_ref()
                .map(|_| spot::PoolSpot::new(streams.stream(&format!("spot/{}", spec.name)))),
            faults: spec
                .failures
                .as_ref()
                .map(|_| faults::PoolFaults::new(streams.stream(&format!("faults/{}", spec.name)))),
        })
    }

    /// The target group `g` describes, over the pools already added.
    fn group(
        &self,
        scenario: &Scenario,
        g: &crate::model::balancer::routing::TargetGroupSpec,
        streams: &RandomStreams,
    ) -> Group {
        let shared_pool = g
            .pools
            .iter()
            .find(|&&p| scenario.pools[p].dispatch == Dispatch::SharedQueue)
            .map(|&p| PoolId::new(p));
        let mut members = IdVec::new();
        let mut weights = Vec::new();
        for &p in &g.pools {
            let slots = self.pools[PoolId::new(p)].slots;
            for id in slots.iter() {
                members.push(id);
            }
            weights.extend(std::iter::repeat_n(scenario.pools[p].weight, slots.len()));
        }
        if g.balancer.slow_start.is_some() {
            // Slow start ramps integer weights: scale them so a step is fine-grained.
            // ALB round robin has no weights: every target ramps to the same full weight.
            let round_robin = g.balancer.algorithm == Algorithm::RoundRobin;
            for w in &mut weights {
                *w = if round_robin { 1 } else { *w } * slow_start::DEFAULT_SCALE;
            }
        }
        let mut health = GroupHealth::new(&weights, &g.balancer);
        let mut balancer = Balancer::new(
            g.balancer.algorithm,
            weights,
            streams.stream(&format!("balancer/{}", g.name)),
        );
        // Slots without an instance in service are not registered (yet).
        for (t, &m) in members.iter_enumerated() {
            if self.instances[m].state != InstanceState::InService {
                health.set_registered(t, false);
                balancer.set_eligible(t.index(), false);
            }
        }
        Group {
            health,
            retry: g.balancer.retry,
            retries_active: 0,
            members,
            balancer,
            shared_pool,
        }
    }
}

impl Group {
    /// Targets registered with its balancer (none for a shared queue's group).
    fn balanced_targets(&self) -> u64 {
        if self.shared_pool.is_some() {
            return 0;
        }
        (0..self.members.len())
            .filter(|&t| self.balancer.is_eligible(t))
            .count() as u64
    }
}

/// Every instance slot, pool and target group of a run.
pub(super) struct Fleet {
    /// The instance slots of every pool, pool after pool.
    pub instances: IdVec<InstanceId, Instance>,
    /// The pools, in scenario order.
    pub pools: IdVec<PoolId, Pool>,
    /// The target groups, in scenario order.
    pub groups: IdVec<GroupId, Group>,
    /// Some group has passive health checks (a fast path for the many fleets without).
    pub any_passive: bool,
    /// Per instance type, the totals of engines dropped when their slot was relaunched as
    /// another type ([`engines`]).
    pub retired_engines: Vec<crate::metrics::EngineCounts>,
}

impl Fleet {
    /// The instance ids of `pool`'s slots.
    #[inline]
    pub fn slots_of(&self, pool: PoolId) -> IdRange<InstanceId> {
        self.pools[pool].slots
    }

    /// The wait queue `queue`.
    #[inline]
    pub fn wait_queue(&mut self, queue: QueueId) -> &mut WaitQueue {
        match queue {
            QueueId::Pool(p) => &mut self.pools[p].shared,
            QueueId::Instance(i) => &mut self.instances[i].queue,
        }
    }

    /// `id`'s busy slots as a percentage of its slots, averaged since its last mark, and the
    /// mark moved to `now`. `None` if no time has passed since the mark.
    pub fn take_utilization(&mut self, now: SimTime, id: InstanceId) -> Option<f64> {
        let inst = &mut self.instances[id];
        inst.set_busy(now, inst.busy);
        let span = (now - inst.mark_at).as_nanos();
        let area = inst.busy_area - inst.mark_area;
        inst.mark_area = inst.busy_area;
        inst.mark_at = now;
        (span > 0).then(|| 100.0 * area as f64 / (span as f64 * f64::from(inst.slots)))
    }

    /// Requests `id` holds now: serving, and waiting in its own queue.
    pub fn held(&self, id: InstanceId) -> f64 {
        let inst = &self.instances[id];
        f64::from(inst.busy + inst.queue.live())
    }

    /// `id` holds no request: none served, none waiting in its own queue.
    pub fn holds_nothing(&self, id: InstanceId) -> bool {
        let inst = &self.instances[id];
        inst.busy == 0 && inst.queue.live() == 0
    }

    /// `pool`'s instances counted toward its desired capacity: on-demand, spot.
    pub fn purchase_counts(&self, pool: PoolId) -> (u32, u32) {
        let (mut od, mut spot) = (0, 0);
        for inst in self.instances.range(self.slots_of(pool)) {
            if inst.counted() {
                match inst.purchase {
                    PurchaseOption::OnDemand => od += 1,
                    PurchaseOption::Spot => spot += 1,
                }
            }
        }
        (od, spot)
    }

    /// Spot instances of type `itype`, in every pool, that the cloud has not yet interrupted:
    /// what its spot availability bounds.
    pub fn spot_running(&self, itype: InstanceTypeId) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.runs_spot_of(itype))
            .count() as u32
    }
}
