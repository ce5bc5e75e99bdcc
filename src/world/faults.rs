//! Faults applied to instances: a crash loses the work the instance holds and leaves it
//! unreachable; a broken server errors out its work and answers every new request with an
//! error; both end when the fault's duration does.

use super::{Condition, Phase, World};
use crate::engine::SimTime;
use crate::metrics::{Failure, LossCause};
use crate::model::fleet::FaultKind;

impl World<'_> {
    pub(super) fn on_fault(&mut self, now: SimTime, fault: u32, begins: bool) {
        let spec = &self.scenario.faults[fault as usize];
        let first = self.pools[spec.pool].first as u32 + spec.first;
        let (kind, error_latency) = (spec.kind, spec.error_latency);
        for instance in first..first + spec.instances {
            let inst = &mut self.instances[instance as usize];
            if !begins {
                inst.condition = Condition::Up;
                continue;
            }
            let (lost_as, cause) = match kind {
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
        let inst = &mut self.instances[instance as usize];
        for _ in 0..inst.busy {
            self.recorder.slot_freed();
        }
        inst.set_busy(now, 0);
        failed
    }
}
