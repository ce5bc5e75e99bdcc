//! Faults applied to instances: a crash loses the work the instance holds and leaves it
//! unreachable; a broken server errors out its work and answers every new request with an
//! error; both end when the fault's duration does.
//!
//! Scheduled faults (`[[fault]]`) hit given instances at given times. Random ones
//! (`[pool.failures]`) hit every instance of a pool: from the moment it enters service, each
//! process (crash, GPU fault) draws a time to failure from the pool's own stream
//! (`faults/<pool>`); the fault lasts a drawn repair time, after which the instance is up and
//! draws again. A process whose time comes while the instance is already down (from the other
//! process or a scheduled fault) draws a new time from then: exact for exponential times to
//! failure (memoryless), an approximation otherwise. A repair is the instance coming back by
//! itself (a host reboot, a GPU reset): the Auto Scaling group's health-check replacement is
//! not modelled.

use super::{Condition, Fleet};
use crate::engine::{open_unit, EventQueue, StreamRng};
use crate::metrics::{Failure, LossCause};
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::FaultKind;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use crate::world::ids::{FaultId, Id, IdRange, InstanceId, PoolId};
use crate::world::{Ctx, Event};

/// A pool's random failures: its stream and counts.
pub(in crate::world) struct PoolFaults {
    rng: StreamRng,
    /// Random crashes that occurred.
    pub crashes: u64,
    /// Random GPU faults that occurred.
    pub gpu_faults: u64,
}

impl PoolFaults {
    /// The random failures of a pool drawing from `rng`.
    pub fn new(rng: StreamRng) -> Self {
        PoolFaults {
            rng,
            crashes: 0,
            gpu_faults: 0,
        }
    }
}

/// Schedules every scheduled fault's start and its end (for a spot interruption, its rebalance
/// recommendation ahead of it).
pub(in crate::world) fn schedule_faults(scenario: &Scenario, queue: &mut EventQueue<Event>) {
    for (f, fault) in scenario.faults.iter().enumerate() {
        let fault_id = FaultId::new(f);
        queue.schedule_in(
            fault.at - SimTime::ZERO,
            Event::Fault {
                fault: fault_id,
                begins: true,
            },
        );
        let other = fault.until.or_else(|| {
            fault
                .rebalance_lead
                .map(|lead| SimTime::from_nanos(fault.at.as_nanos() - lead.as_nanos()))
        });
        if let Some(until) = other {
            queue.schedule_in(
                until - SimTime::ZERO,
                Event::Fault {
                    fault: fault_id,
                    begins: false,
                },
            );
        }
    }
}

impl Fleet {
    /// Arms the random failures of every instance in service at the start.
    pub(in crate::world) fn init_failures(
        &mut self,
        scenario: &Scenario,
        queue: &mut EventQueue<Event>,
        end: SimTime,
    ) {
        for id in self.instances.ids() {
            if self.instances[id].state == InstanceState::InService {
                self.arm_failures(scenario, queue, end, SimTime::ZERO, id);
            }
        }
    }

    /// `id` entered service: each random failure process of its pool draws its time to failure.
    pub(in crate::world) fn arm_failures(
        &mut self,
        scenario: &Scenario,
        queue: &mut EventQueue<Event>,
        end: SimTime,
        now: SimTime,
        id: InstanceId,
    ) {
        for crash in [true, false] {
            self.arm_failure(scenario, queue, end, now, id, crash);
        }
    }

    fn arm_failure(
        &mut self,
        scenario: &Scenario,
        queue: &mut EventQueue<Event>,
        end: SimTime,
        now: SimTime,
        id: InstanceId,
        crash: bool,
    ) {
        let inst = &self.instances[id];
        let (pool, life) = (inst.pool, inst.life);
        let Some(spec) = &scenario.pools[pool.index()].failures else {
            return;
        };
        let Some(process) = (if crash { &spec.crash } else { &spec.gpu_fault }) else {
            return;
        };
        let Some(f) = self.pools[pool].faults.as_mut() else {
            return;
        };
        // At least 1 ns: a failure at the instant of a repair would loop without time passing.
        let after = process
            .time_to_failure
            .quantile(open_unit(&mut f.rng))
            .max(SimDuration::from_nanos(1));
        if now.saturating_add(after) >= end {
            return; // after the run: nothing to schedule
        }
        queue.schedule_in(
            after,
            Event::RandomFault {
                instance: id,
                life,
                crash,
                repair: false,
            },
        );
    }

    /// The instances scheduled fault `fault` hits.
    fn fault_targets(&self, scenario: &Scenario, fault: FaultId) -> IdRange<InstanceId> {
        let spec = &scenario.faults[fault.index()];
        let first = self
            .slots_of(PoolId::new(spec.pool))
            .nth(spec.first as usize);
        IdRange::new(first.index(), spec.instances as usize)
    }
}

impl Ctx<'_> {
    /// `id` entered service: its random failures are armed.
    pub(in crate::world) fn arm_failures(&mut self, now: SimTime, id: InstanceId) {
        self.fleet
            .arm_failures(self.scenario, &mut self.queue, self.end, now, id);
    }

    /// A random failure of `id` occurs, or (`repair`) ends; stale unless `life` is its life.
    pub(in crate::world) fn on_random_fault(
        &mut self,
        now: SimTime,
        id: InstanceId,
        life: u32,
        crash: bool,
        repair: bool,
    ) {
        let scenario = self.scenario;
        let inst = &self.fleet.instances[id];
        if inst.life != life || !inst.state.serves() {
            return; // it left service: a new life arms its own
        }
        let pool = inst.pool;
        let down = if crash {
            Condition::Crashed
        } else {
            Condition::Broken
        };
        if repair || inst.condition != Condition::Up {
            if repair && inst.condition == down {
                self.fleet.instances[id].condition = Condition::Up;
            }
            self.fleet
                .arm_failure(scenario, &mut self.queue, self.end, now, id, crash);
            return;
        }
        let Some(spec) = &scenario.pools[pool.index()].failures else {
            return;
        };
        let process = if crash { &spec.crash } else { &spec.gpu_fault };
        let (Some(process), Some(f)) = (process, self.fleet.pools[pool].faults.as_mut()) else {
            return; // only armed processes fire
        };
        let repair_after = process.repair.quantile(open_unit(&mut f.rng));
        let (why, cause) = if crash {
            f.crashes += 1;
            (Failure::Interrupted, LossCause::Crash)
        } else {
            f.gpu_faults += 1;
            (Failure::ServerError, LossCause::GpuFault)
        };
        let inst = &mut self.fleet.instances[id];
        inst.condition = down;
        inst.fault_cause = cause;
        if !crash {
            inst.error_latency = spec.error_latency;
        }
        self.drop_work(now, id, why, cause);
        self.queue.schedule_in(
            repair_after,
            Event::RandomFault {
                instance: id,
                life,
                crash,
                repair: true,
            },
        );
    }

    /// Scheduled fault `fault` begins, or ends (for a spot interruption: its rebalance
    /// recommendation arrives).
    pub(in crate::world) fn on_fault(&mut self, now: SimTime, fault: FaultId, begins: bool) {
        let spec = &self.scenario.faults[fault.index()];
        let (kind, error_latency) = (spec.kind, spec.error_latency);
        let targets = self.fleet.fault_targets(self.scenario, fault);
        if kind == FaultKind::SpotInterruption {
            self.spot_fault(now, targets.iter(), begins);
            return;
        }
        for instance in targets.iter() {
            let inst = &mut self.fleet.instances[instance];
            if !begins {
                inst.condition = Condition::Up;
                continue;
            }
            let (lost_as, cause) = match kind {
                FaultKind::Crash | FaultKind::SpotInterruption => {
                    inst.condition = Condition::Crashed;
                    (Failure::Interrupted, LossCause::Crash)
                }
                FaultKind::Broken => {
                    inst.condition = Condition::Broken;
                    inst.error_latency = error_latency;
                    (Failure::ServerError, LossCause::GpuFault)
                }
            };
            inst.fault_cause = cause;
            self.drop_work(now, instance, lost_as, cause);
        }
    }
}
