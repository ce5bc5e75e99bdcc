//! A try: a request sent along its route, picked a target by the balancer (or taken by a
//! pool's shared queue), then started on a free slot, queued, turned away, or doomed.

use super::Phase;
use crate::metrics::{Failure, LossCause};
use crate::model::balancer::RequestKey;
use crate::model::fleet::OnTimeout;
use crate::time::SimTime;
use crate::world::fleet::{Condition, QueueId};
use crate::world::ids::{GroupId, Id, InstanceId, PoolId, RequestId, TargetId};
use crate::world::{Ctx, Event};

fn has_room(live: u32, capacity: Option<u32>) -> bool {
    capacity.is_none_or(|c| live < c)
}

impl Ctx<'_> {
    /// Sends a try of request `id` along its class's route: its deadline is the client's, or
    /// earlier the route's read timeout from now.
    pub(in crate::world) fn send(&mut self, now: SimTime, id: RequestId) {
        let req = self.requests.slab.get_mut(id);
        let route_id = self.requests.class_route[req.class];
        let route = &self.requests.routes[route_id];
        req.sent = now;
        req.tries += 1;
        req.deadline = match route.read_timeout {
            Some(t) => req.client_deadline.min(now.saturating_add(t)),
            None => req.client_deadline,
        };
        let mut group = route.group;
        if let Some(t) = self.topology.as_mut() {
            let (region, connect_timeout) = (req.region, route.connect_timeout);
            if region != 0 {
                group = t.regional_group(route_id, region);
            }
            t.count_try(now, group);
            if t.balancer_down(group) {
                // Its region is down: the connection times out, like a crashed host's.
                req.phase = Phase::Doomed;
                req.doomed_by = Failure::ConnectFailed;
                req.doomed_cause = Some(LossCause::Outage);
                req.target = None;
                req.instance = None;
                let at = now.saturating_add(connect_timeout).min(req.deadline);
                self.queue
                    .schedule_in(at - now, Event::DoomedEnd { request: id });
                return;
            }
        }
        match self.fleet.groups[group].shared_pool {
            Some(pool) => self.dispatch_shared(now, pool, id),
            None => self.dispatch_balanced(now, group, id),
        }
    }

    fn dispatch_shared(&mut self, now: SimTime, pool: PoolId, id: RequestId) {
        let p = &mut self.fleet.pools[pool];
        p.routed += 1;
        if let Some(&instance) = p.with_free_slot.last() {
            let inst = &self.fleet.instances[instance];
            if inst.busy + 1 == inst.slots {
                p.with_free_slot.pop();
            }
            self.start(now, instance, id);
        } else if has_room(p.shared.live(), p.queue_capacity) {
            self.enqueue(now, QueueId::Pool(pool), id);
        } else {
            self.reject(now, id);
        }
    }

    fn dispatch_balanced(&mut self, now: SimTime, group: GroupId, id: RequestId) {
        let user = self.requests.slab.get(id).user;
        let key = RequestKey {
            user,
            client_ip: self.traffic.client_ip(user),
        };
        let g = &mut self.fleet.groups[group];
        // A valid lb_cookie naming a target that may still be picked wins over the algorithm.
        let sticky = g
            .health
            .sticky
            .as_ref()
            .and_then(|s| s.target_for(user, now))
            .filter(|&t| g.balancer.is_eligible(t));
        let Some(t) = sticky.or_else(|| g.balancer.pick(key)) else {
            self.after_failure(now, id, Failure::NoHealthyTarget);
            self.requests.slab.remove(id);
            return;
        };
        if let Some(s) = g.health.sticky.as_mut() {
            s.remember(user, t, now);
        }
        let target = TargetId::new(t);
        self.fleet
            .passive_picked(&mut self.queue, &mut self.recorder, now, group, target);
        self.try_target(now, group, target, id);
    }

    /// The try of `id` reaches `target` of `group`: it fails if the host is down, else starts,
    /// queues or is turned away.
    fn try_target(&mut self, now: SimTime, group: GroupId, target: TargetId, id: RequestId) {
        let g = &mut self.fleet.groups[group];
        let instance = g.members[target];
        let inst = &self.fleet.instances[instance];
        let pool = &mut self.fleet.pools[inst.pool];
        pool.routed += 1;
        let capacity = pool.queue_capacity;
        let req = self.requests.slab.get_mut(id);
        req.target = Some(target);
        req.instance = Some(instance);
        let t = target.index();
        match inst.condition {
            Condition::Crashed | Condition::Broken => {
                // The balancer holds the try open until the connection times out or the error
                // reply comes back; the client's deadline may come first.
                g.balancer.dispatched(t);
                let (delay, why) = if inst.condition == Condition::Crashed {
                    let route = self.requests.class_route[req.class];
                    (
                        self.requests.routes[route].connect_timeout,
                        Failure::ConnectFailed,
                    )
                } else {
                    (inst.error_latency, Failure::ServerError)
                };
                req.phase = Phase::Doomed;
                req.doomed_by = why;
                req.doomed_cause = Some(inst.fault_cause);
                let at = now.saturating_add(delay).min(req.deadline);
                self.queue
                    .schedule_in(at - now, Event::DoomedEnd { request: id });
            }
            Condition::Up if inst.busy < inst.slots => {
                g.balancer.dispatched(t);
                self.start(now, instance, id);
            }
            Condition::Up if has_room(inst.queue.live(), capacity) => {
                g.balancer.dispatched(t);
                self.enqueue(now, QueueId::Instance(instance), id);
            }
            Condition::Up => self.reject(now, id),
        }
    }

    /// Turns request `id` away: the queue it reached is full.
    fn reject(&mut self, now: SimTime, id: RequestId) {
        self.after_failure(now, id, Failure::Rejected);
        self.requests.slab.remove(id);
    }

    /// Request `id` joins the back of `queue`, with a timer that will expire it on time.
    fn enqueue(&mut self, now: SimTime, queue: QueueId, id: RequestId) {
        let req = self.requests.slab.get_mut(id);
        req.phase = Phase::Queued;
        let deadline = req.deadline;
        let q = self.fleet.wait_queue(queue);
        let in_order = q.push(id, deadline);
        self.recorder.enqueued();
        if deadline == SimTime::NEVER {
            return;
        }
        if !in_order {
            let generation = self.requests.slab.generation(id);
            self.queue.schedule_in(
                deadline - now,
                Event::RequestDeadline {
                    request: id,
                    generation,
                },
            );
        } else if !q.timer_armed {
            q.timer_armed = true;
            self.queue
                .schedule_in(deadline - now, Event::QueueTimer { queue });
        }
    }

    /// Starts serving request `id` on a free slot of `instance`.
    pub(in crate::world) fn start(&mut self, now: SimTime, instance: InstanceId, id: RequestId) {
        let inst = &mut self.fleet.instances[instance];
        inst.set_busy(now, inst.busy + 1);
        self.recorder.slot_taken();
        let itype = inst.itype;
        if self.requests.slab.get(id).output_tokens > 0
            && self.scenario.instance_types[itype.index()].llm.is_some()
        {
            self.start_llm(now, instance, id);
            return;
        }
        let service = {
            let req = self.requests.slab.get(id);
            self.requests.service_time(req.class, itype, req.quantile)
        };
        let req = self.requests.slab.get_mut(id);
        req.instance = Some(instance);
        req.phase = Phase::Serving;
        let finish = now.saturating_add(service);
        let end_event = Event::ServiceEnd {
            instance,
            request: id,
        };
        if finish <= req.deadline {
            self.queue.schedule_in(service, end_event);
            return;
        }
        let until_deadline = req.deadline - now;
        match self.requests.on_timeout {
            OnTimeout::KeepServing => {
                self.queue.schedule_in(service, end_event);
                self.queue
                    .schedule_in(until_deadline, Event::ClientDeadline { request: id });
            }
            OnTimeout::Cancel => {
                req.cut_at_deadline = true;
                self.queue.schedule_in(until_deadline, end_event);
            }
        }
    }
}
