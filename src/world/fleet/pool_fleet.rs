//! A pool's capacity bookkeeping: its desired capacity and limits, how many instances are in
//! each lifecycle state, its free slots, the launch rate limit, what it has billed and done.
//!
//! [`InstanceState`] says what a state means (billed, counted toward desired capacity); this
//! counts them so that every question ("how many are active?") is a sum, not a scan.

use std::collections::VecDeque;

use crate::engine::StreamRng;
use crate::model::autoscale::capacity::CapacityLimits;
use crate::model::fleet::lifecycle::{Billing, InstanceState};
use crate::time::{SimDuration, SimTime};
use crate::world::ids::{GroupId, Id, IdRange, InstanceId};

/// The number of lifecycle states, for per-state counters.
pub(in crate::world) const STATES: usize = InstanceState::ALL.len();

const HOUR_NANOS: u64 = 3_600_000_000_000;

/// What a pool's instances have done over the run.
#[derive(Debug, Clone, Copy, Default)]
pub(in crate::world) struct FleetStats {
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
pub(in crate::world) struct PoolFleet {
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
    pub preparing: u32,
    /// Instances in a counted state that capacity rebalancing is replacing (not counted).
    pub at_risk: u32,
    /// Interrupted instances draining that still count until the cloud reclaims them.
    pub held: u32,
    /// Unused slots, the lowest id on top.
    pub free: Vec<InstanceId>,
    pub launch_rng: StreamRng,
    pub phase_rng: StreamRng,
    /// Start times of the launches in the last minute (for the rate limit).
    pub recent_launches: VecDeque<SimTime>,
    /// A `Reconcile` is scheduled.
    pub retry_armed: bool,
    billed_since: SimTime,
    /// Instance-nanoseconds billed in full, and for storage only.
    full_ns: u128,
    storage_ns: u128,
    /// Most instances billed in full at once.
    pub peak: u32,
    /// Totals.
    pub stats: FleetStats,
    /// `(group, first target)` of each target group holding this pool: slot `k` of the pool is
    /// target `first + k` there.
    pub targets: Vec<(GroupId, u32)>,
    /// Its controller watches the scaling activity under way (see `Ctx::after_activity`).
    pub watching: bool,
    /// When the watched activity settled, until the controller's next observation.
    pub settled_at: Option<SimTime>,
}

impl PoolFleet {
    /// A pool of `slots` whose first `running` are in service, wanting `running`.
    pub fn new(
        slots: IdRange<InstanceId>,
        running: u32,
        limits: CapacityLimits,
        launch_rng: StreamRng,
        phase_rng: StreamRng,
    ) -> Self {
        let mut counts = [0; STATES];
        counts[InstanceState::InService as usize] = running;
        counts[InstanceState::Terminated as usize] = slots.len() as u32 - running;
        PoolFleet {
            desired: running,
            limits,
            launch_warmup: SimDuration::ZERO,
            counts,
            preparing: 0,
            at_risk: 0,
            held: 0,
            free: slots.iter().skip(running as usize).rev().collect(),
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
    pub fn add_warm(&mut self, from: InstanceId, n: u32, state: Option<InstanceState>) {
        let Some(state) = state.filter(|_| n > 0) else {
            return;
        };
        self.counts[InstanceState::Terminated as usize] -= n;
        self.counts[state as usize] += n;
        let warm = IdRange::<InstanceId>::new(from.index(), n as usize);
        self.free.retain(|&i| !warm.indexes().contains(&i.index()));
        self.peak = self.billed_full();
    }

    /// Instances in `state`.
    pub fn count(&self, state: InstanceState) -> u32 {
        self.counts[state as usize]
    }

    /// `id` moves `from` → `to` at `now` (billing integrated up to now first).
    pub fn moved(&mut self, now: SimTime, from: InstanceState, to: InstanceState) {
        self.bill(now);
        self.counts[from as usize] -= 1;
        self.counts[to as usize] += 1;
        self.peak = self.peak.max(self.billed_full());
    }

    /// Instances billed in full (every state but terminated and stopped/hibernated).
    pub fn billed_full(&self) -> u32 {
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
    pub fn bill(&mut self, now: SimTime) {
        let dt = (now - self.billed_since).as_nanos() as u128;
        self.full_ns += u128::from(self.billed_full()) * dt;
        self.storage_ns += u128::from(self.billed_storage()) * dt;
        self.billed_since = now;
    }

    /// Hours billed in full and for storage only, up to the last [`PoolFleet::bill`].
    pub fn billed_hours(&self) -> (f64, f64) {
        let h = HOUR_NANOS as f64;
        (self.full_ns as f64 / h, self.storage_ns as f64 / h)
    }

    /// Instances launched toward service and not yet gone: what counts toward the desired
    /// capacity (AWS: Pending and InService; warm-pool instances being prepared do not).
    pub fn active(&self) -> u32 {
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
    pub fn starting(&self) -> u32 {
        self.count(InstanceState::Pending)
            + self.count(InstanceState::Loading)
            + self.count(InstanceState::Warming)
            - self.preparing
    }

    /// Instances in the warm pool.
    pub fn warm(&self) -> u32 {
        self.count(InstanceState::WarmStopped)
            + self.count(InstanceState::WarmHibernated)
            + self.count(InstanceState::WarmRunning)
    }

    /// Nothing launching or draining and the desired capacity reached: a scaling activity has
    /// finished. If the controller watches it, it learns when.
    pub fn settle(&mut self, now: SimTime) {
        let settled = self.starting() == 0
            && self.count(InstanceState::Draining) == 0
            && self.active() == self.desired;
        if settled && self.watching {
            self.watching = false;
            self.settled_at = Some(now);
        }
    }
}
