//! Target health as the balancers see it: active checks (AWS ALB), passive checks (nginx
//! `max_fails`/`fail_timeout`) and sticky sessions, applied to each group's balancer.
//!
//! A target may be picked when its active checks say healthy (or the group fails open: ALB
//! routes to every target when all are unhealthy) and nginx's passive accounting has not put it
//! out. The models decide; this file turns their decisions into `set_eligible` calls and timers.

use super::{Condition, Fleet, Group};
use crate::engine::EventQueue;
use crate::metrics::{Failure, Recorder};
use crate::model::balancer::health_check::{
    ActiveHealth, CheckDepth, HealthCheckSpec, HealthTransition,
};
use crate::model::balancer::passive_health::{AttemptResult, PassiveHealth};
use crate::model::balancer::routing::BalancerSpec;
use crate::model::balancer::slow_start::{self, SlowStart};
use crate::model::balancer::sticky::StickyTable;
use crate::model::fleet::lifecycle::InstanceState;
use crate::time::{SimDuration, SimTime};
use crate::world::ids::{GroupId, Id, InstanceId, TargetId};
use crate::world::{Ctx, Event};

/// How often slow-start weights move up: every simulated second (Envoy recomputes host weights
/// on its own schedule; a second is finer than any 30 s to 15 min ramp needs).
const SLOW_START_STEP: SimDuration = SimDuration::from_secs(1);

/// A group's health-check, slow-start and stickiness state.
pub(in crate::world) struct GroupHealth {
    check: Option<(HealthCheckSpec, ActiveHealth)>,
    passive: Option<PassiveHealth>,
    passive_down: Vec<bool>,
    pub sticky: Option<StickyTable>,
    failing_open: bool,
    /// The target's instance is in service and registered with the group.
    registered: Vec<bool>,
    slow_start: Option<SlowStart>,
    /// Each target's weight out of slow start (scaled, see `Fleet::new`).
    full_weight: Vec<u32>,
    /// When each target in slow start (re)joined.
    ramp_since: Vec<Option<SimTime>>,
    ramping: u32,
    tick_armed: bool,
}

impl GroupHealth {
    /// The state for a group of targets of these (balancer) weights, all healthy, under `spec`.
    pub fn new(weights: &[u32], spec: &BalancerSpec) -> Self {
        let n = weights.len();
        GroupHealth {
            slow_start: spec.slow_start,
            full_weight: weights.to_vec(),
            ramp_since: vec![None; n],
            ramping: 0,
            tick_armed: false,
            check: spec
                .health_check
                .map(|c| (c, ActiveHealth::new(n, true, &c))),
            // nginx ignores max_fails in an upstream of one server (ngx_http_upstream_round_robin.c
            // sets `peers->single` and never marks it failed); 0 turns the accounting off.
            passive: spec
                .passive
                .filter(|p| n > 1 && p.max_fails > 0)
                .map(|p| PassiveHealth::new(n, p)),
            passive_down: vec![false; n],
            sticky: spec.stickiness.map(|d| StickyTable::new(n, d)),
            failing_open: false,
            registered: vec![true; n],
        }
    }

    /// `target` registers with the group (its instance entered service) or leaves it. A
    /// registered target under active checks starts `initial` and takes traffic after its
    /// first passing check (ALB); the caller refreshes its eligibility.
    pub fn set_registered(&mut self, target: TargetId, registered: bool) {
        let t = target.index();
        self.registered[t] = registered;
        if let Some((_, active)) = &mut self.check {
            if registered {
                active.register(t);
            } else {
                active.deregister(t);
            }
        }
    }

    /// `target`'s weight out of slow start becomes `weight` (already scaled): an instance of a
    /// mixed pool takes its type's weight at launch, before it registers.
    pub fn set_full_weight(&mut self, target: TargetId, weight: u32) {
        self.full_weight[target.index()] = weight;
    }

    /// How often its targets are checked, if they are.
    pub fn check_interval(&self) -> Option<SimDuration> {
        self.check.as_ref().map(|(spec, _)| spec.interval)
    }

    fn may_pick(&self, target: usize) -> bool {
        if !self.registered[target] {
            return false;
        }
        let active = self.failing_open
            || self
                .check
                .as_ref()
                .is_none_or(|(_, h)| h.is_healthy(target));
        active && !self.passive_down[target]
    }
}

impl Fleet {
    /// Makes `target` of `group` eligible exactly when its health allows. A target that
    /// (re)joins starts its slow start; one that leaves ends it.
    pub(in crate::world) fn refresh(
        &mut self,
        queue: &mut EventQueue<Event>,
        recorder: &mut Recorder,
        now: SimTime,
        group: GroupId,
        target: TargetId,
    ) {
        let g: &mut Group = &mut self.groups[group];
        let t = target.index();
        let eligible = g.health.may_pick(t);
        if g.balancer.is_eligible(t) == eligible {
            return;
        }
        let h = &mut g.health;
        if let Some(ramp) = h.slow_start {
            if eligible {
                // ALB: "the load balancer doesn't put a target in slow start mode if there are
                // no other healthy targets": at least one must be out of slow start.
                let steady = (0..g.members.len())
                    .any(|u| u != t && g.balancer.is_eligible(u) && h.ramp_since[u].is_none());
                if steady {
                    h.ramp_since[t] = Some(now);
                    h.ramping += 1;
                    let w = slow_start::effective_weight(
                        h.full_weight[t],
                        ramp.factor(SimDuration::ZERO),
                        1,
                    );
                    g.balancer.set_weight(t, w);
                    if !h.tick_armed {
                        h.tick_armed = true;
                        queue.schedule_in(SLOW_START_STEP, Event::SlowStartTick { group });
                    }
                }
            } else if h.ramp_since[t].take().is_some() {
                // Leaving ends its slow start; it ramps afresh when it is back.
                h.ramping -= 1;
                g.balancer.set_weight(t, h.full_weight[t]);
            }
        }
        g.balancer.set_eligible(t, eligible);
        recorder.target_health_changed(eligible);
    }

    /// Raises the weight of every target of `group` in slow start to its factor now.
    pub(in crate::world) fn on_slow_start_tick(
        &mut self,
        queue: &mut EventQueue<Event>,
        now: SimTime,
        group: GroupId,
    ) {
        let g: &mut Group = &mut self.groups[group];
        let h = &mut g.health;
        let Some(ramp) = h.slow_start else {
            return;
        };
        for t in 0..g.members.len() {
            let Some(since) = h.ramp_since[t] else {
                continue;
            };
            let factor = ramp.factor(now - since);
            g.balancer
                .set_weight(t, slow_start::effective_weight(h.full_weight[t], factor, 1));
            if factor >= 1.0 {
                h.ramp_since[t] = None;
                h.ramping -= 1;
            }
        }
        h.tick_armed = h.ramping > 0;
        if h.tick_armed {
            queue.schedule_in(SLOW_START_STEP, Event::SlowStartTick { group });
        }
    }

    /// nginx lets a request through to a target whose fail window passed; it is out again
    /// until the trial's outcome (or `fail_timeout`) says otherwise.
    #[inline]
    pub(in crate::world) fn passive_picked(
        &mut self,
        queue: &mut EventQueue<Event>,
        recorder: &mut Recorder,
        now: SimTime,
        group: GroupId,
        target: TargetId,
    ) {
        if !self.any_passive {
            return;
        }
        let h = &mut self.groups[group].health;
        if let Some(until) = h
            .passive
            .as_mut()
            .and_then(|p| p.picked(target.index(), now))
        {
            self.put_out(queue, recorder, now, group, target, until);
        }
    }

    /// The try at `target` of `group` ended with `result`: nginx's passive accounting.
    pub(in crate::world) fn passive_outcome(
        &mut self,
        queue: &mut EventQueue<Event>,
        recorder: &mut Recorder,
        now: SimTime,
        group: GroupId,
        target: TargetId,
        result: AttemptResult,
    ) {
        let h = &mut self.groups[group].health;
        let Some(p) = h.passive.as_mut() else {
            return;
        };
        let t = target.index();
        if p.spec().counts_as_failure(result) {
            if let Some(until) = p.failed(t, now) {
                self.put_out(queue, recorder, now, group, target, until);
            }
        } else if p.succeeded(t, now) {
            h.passive_down[t] = false;
            self.refresh(queue, recorder, now, group, target);
        }
    }

    fn put_out(
        &mut self,
        queue: &mut EventQueue<Event>,
        recorder: &mut Recorder,
        now: SimTime,
        group: GroupId,
        target: TargetId,
        until: SimTime,
    ) {
        self.groups[group].health.passive_down[target.index()] = true;
        self.refresh(queue, recorder, now, group, target);
        // `until` is the first instant nginx may pick it again.
        queue.schedule_in(until - now, Event::PassiveRecheck { group, target });
    }

    /// A passive fail window may have passed.
    pub(in crate::world) fn on_passive_recheck(
        &mut self,
        queue: &mut EventQueue<Event>,
        recorder: &mut Recorder,
        now: SimTime,
        group: GroupId,
        target: TargetId,
    ) {
        let t = target.index();
        let h = &mut self.groups[group].health;
        if h.passive_down[t] && h.passive.as_ref().is_some_and(|p| p.available(t, now)) {
            h.passive_down[t] = false;
            self.refresh(queue, recorder, now, group, target);
        }
    }
}

impl Ctx<'_> {
    /// Checks every target of `group` now, and schedules the next round.
    pub(in crate::world) fn on_health_tick(&mut self, now: SimTime, group: GroupId) {
        let Some((spec, _)) = self.fleet.groups[group].health.check else {
            return;
        };
        for target in self.fleet.groups[group].members.ids() {
            let member = self.fleet.groups[group].members[target];
            let inst = &self.fleet.instances[member];
            // A crashed host does not answer; a broken one answers a deep check with an error
            // after its error latency and passes a shallow one (the process is alive).
            let answer = match (inst.condition, spec.depth) {
                (Condition::Crashed, _) => None,
                (Condition::Broken, CheckDepth::Deep) => Some((inst.error_latency, false)),
                _ => Some((SimDuration::ZERO, true)),
            };
            let verdict = spec.verdict(answer);
            if verdict.after.is_zero() {
                self.on_probe_result(now, group, target, verdict.passed);
            } else {
                self.queue.schedule_in(
                    verdict.after,
                    Event::ProbeResult {
                        group,
                        target,
                        passed: verdict.passed,
                    },
                );
            }
        }
        self.queue
            .schedule_in(spec.interval, Event::HealthTick { group });
    }

    /// A health check of `target` in `group` passed or failed.
    pub(in crate::world) fn on_probe_result(
        &mut self,
        now: SimTime,
        group: GroupId,
        target: TargetId,
        passed: bool,
    ) {
        let h = &mut self.fleet.groups[group].health;
        let Some((_, active)) = &mut h.check else {
            return;
        };
        let Some(transition) = active.record(target.index(), passed) else {
            return;
        };
        let open = active.fails_open();
        if open != h.failing_open {
            h.failing_open = open;
            for t in self.fleet.groups[group].members.ids() {
                self.fleet
                    .refresh(&mut self.queue, &mut self.recorder, now, group, t);
            }
        } else {
            self.fleet
                .refresh(&mut self.queue, &mut self.recorder, now, group, target);
        }
        if transition == HealthTransition::BecameUnhealthy {
            let member = self.fleet.groups[group].members[target];
            self.replace_unhealthy(now, member);
        }
    }

    /// The balancer found `id` unhealthy: a pool with `replace_unhealthy` terminates it and
    /// launches a replacement (EC2 Auto Scaling with ELB health checks: "Amazon EC2 Auto
    /// Scaling ... terminates the unhealthy instance and launches a replacement", "Health
    /// checks for instances in an Auto Scaling group"). What it still holds fails with the
    /// fault that made it unhealthy.
    fn replace_unhealthy(&mut self, now: SimTime, id: InstanceId) {
        let inst = &self.fleet.instances[id];
        let pool = inst.pool;
        if !self.scenario.pools[pool.index()].replace_unhealthy
            || inst.state != InstanceState::InService
        {
            return;
        }
        let cause = inst.fault_cause;
        self.set_registered(now, id, false);
        self.drop_work(now, id, Failure::Interrupted, cause);
        self.fleet.pools[pool].fleet.stats.replaced_unhealthy += 1;
        self.terminate(now, id);
        self.reconcile(now, pool);
    }
}
