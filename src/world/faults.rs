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

use super::{Condition, Event, Phase, World};
use crate::engine::{open_unit, SimDuration, SimTime, StreamRng};
use crate::metrics::{Failure, LossCause};
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::FaultKind;
use crate::model::market::PurchaseOption;

/// A pool's random failures: its stream and counts.
pub(super) struct PoolFaults {
    rng: StreamRng,
    /// Random crashes that occurred.
    pub crashes: u64,
    /// Random GPU faults that occurred.
    pub gpu_faults: u64,
}

impl PoolFaults {
    pub(super) fn new(rng: StreamRng) -> Self {
        PoolFaults {
            rng,
            crashes: 0,
            gpu_faults: 0,
        }
    }
}

impl World<'_> {
    /// Arms the random failures of every instance in service at the start.
    pub(super) fn init_failures(&mut self) {
        for id in 0..self.instances.len() as u32 {
            if self.instances[id as usize].state == InstanceState::InService {
                self.arm_failures(SimTime::ZERO, id);
            }
        }
    }

    /// `id` entered service: each random failure process of its pool draws its time to failure.
    pub(super) fn arm_failures(&mut self, now: SimTime, id: u32) {
        for crash in [true, false] {
            self.arm_failure(now, id, crash);
        }
    }

    fn arm_failure(&mut self, now: SimTime, id: u32, crash: bool) {
        let inst = &self.instances[id as usize];
        let (pool, life) = (inst.pool as usize, inst.life);
        let Some(spec) = &self.scenario.pools[pool].failures else {
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
        if now.saturating_add(after) >= self.end {
            return; // after the run: nothing to schedule
        }
        self.queue.schedule_in(
            after,
            Event::RandomFault {
                instance: id,
                life,
                crash,
                repair: false,
            },
        );
    }

    /// A random failure of `id` occurs, or (`repair`) ends; stale unless `life` is its life.
    pub(super) fn on_random_fault(
        &mut self,
        now: SimTime,
        id: u32,
        life: u32,
        crash: bool,
        repair: bool,
    ) {
        let inst = &self.instances[id as usize];
        if inst.life != life || !inst.state.serves() {
            return; // it left service: a new life arms its own
        }
        let pool = inst.pool as usize;
        let down = if crash {
            Condition::Crashed
        } else {
            Condition::Broken
        };
        if repair {
            if inst.condition == down {
                self.instances[id as usize].condition = Condition::Up;
            }
            self.arm_failure(now, id, crash);
            return;
        }
        if inst.condition != Condition::Up {
            self.arm_failure(now, id, crash);
            return;
        }
        let spec = self.scenario.pools[pool]
            .failures
            .as_ref()
            .expect("a random fault has its spec");
        let process = if crash { &spec.crash } else { &spec.gpu_fault };
        let process = process.as_ref().expect("armed processes exist");
        let f = self.pools[pool].faults.as_mut().expect("armed");
        let repair_after = process.repair.quantile(open_unit(&mut f.rng));
        let (why, cause) = if crash {
            f.crashes += 1;
            (Failure::Interrupted, LossCause::Crash)
        } else {
            f.gpu_faults += 1;
            (Failure::ServerError, LossCause::GpuFault)
        };
        let inst = &mut self.instances[id as usize];
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

    pub(super) fn on_fault(&mut self, now: SimTime, fault: u32, begins: bool) {
        let spec = &self.scenario.faults[fault as usize];
        let first = self.pools[spec.pool].first as u32 + spec.first;
        let (kind, error_latency) = (spec.kind, spec.error_latency);
        if kind == FaultKind::SpotInterruption {
            for instance in first..first + spec.instances {
                let inst = &self.instances[instance as usize];
                if inst.purchase == PurchaseOption::Spot {
                    if begins {
                        self.notice(now, instance);
                    } else {
                        // `begins = false` is its rebalance recommendation, ahead of it.
                        self.recommend_rebalance(now, instance);
                    }
                }
            }
            return;
        }
        for instance in first..first + spec.instances {
            let inst = &mut self.instances[instance as usize];
            if !begins {
                inst.condition = Condition::Up;
                continue;
            }
            let (lost_as, cause) = match kind {
                FaultKind::SpotInterruption => unreachable!("handled above"),
                FaultKind::Crash => {
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

    /// Everything `instance` holds fails for `why`, because of `cause`: its queue, and the work
    /// on its slots (whose pending service ends will find them killed). The instance is left
    /// idle. Returns the number of requests that failed.
    pub(super) fn drop_work(
        &mut self,
        now: SimTime,
        instance: u32,
        why: Failure,
        cause: LossCause,
    ) -> u64 {
        let mut failed = 0;
        for id in self.instances[instance as usize].queue.drain() {
            let req = *self.requests.get(id);
            if req.phase != Phase::Expired {
                self.recorder.dequeued();
                self.release(&req, None);
                self.after_failure_by(now, id, why, Some(cause));
                failed += 1;
            }
            self.requests.remove(id);
        }
        for id in self.requests.held_by(instance, Phase::Serving) {
            failed += 1;
            let req = self.requests.get_mut(id);
            req.phase = Phase::Killed;
            let req = *req;
            self.release(&req, None);
            self.after_failure_by(now, id, why, Some(cause));
        }
        for id in self.requests.held_by(instance, Phase::Abandoned) {
            self.requests.get_mut(id).phase = Phase::Killed;
        }
        // An LLM batch has no pending service end per request: its entries go now.
        self.clear_llm(instance);
        let inst = &mut self.instances[instance as usize];
        for _ in 0..inst.busy {
            self.recorder.slot_freed();
        }
        inst.set_busy(now, 0);
        failed
    }
}
