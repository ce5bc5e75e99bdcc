//! Tries: sending a request to a target, serving it, waiting in queues, and timing out.

use super::{Condition, Event, Phase, QueueId, World};
use crate::engine::{SimDuration, SimTime};
use crate::metrics::{Failure, LossCause};
use crate::model::balancer::passive_health::AttemptResult;
use crate::model::balancer::RequestKey;
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::OnTimeout;

fn has_room(live: u32, capacity: Option<u32>) -> bool {
    capacity.is_none_or(|c| live < c)
}

impl World<'_> {
    /// Sends a try of request `id` along its class's route: its deadline is the client's, or
    /// earlier the route's read timeout from now.
    pub(super) fn send(&mut self, now: SimTime, id: u32) {
        let req = self.requests.get_mut(id);
        let route_id = self.class_route[req.class as usize] as usize;
        let route = &self.routes[route_id];
        req.sent = now;
        req.tries += 1;
        req.deadline = match route.read_timeout {
            Some(t) => req.client_deadline.min(now.saturating_add(t)),
            None => req.client_deadline,
        };
        let mut group = route.group as usize;
        if self.topology.is_some() {
            let (region, connect_timeout) = (req.region, route.connect_timeout);
            if region != 0 {
                group = self.regional_group(route_id, region);
            }
            self.topology_try(now, group);
            if self.balancer_down(group) {
                // Its region is down: the connection times out, like a crashed host's.
                let req = self.requests.get_mut(id);
                req.phase = Phase::Doomed;
                req.doomed_by = Failure::ConnectFailed;
                req.doomed_cause = Some(LossCause::Outage);
                req.target = u32::MAX;
                req.instance = u32::MAX;
                let at = now.saturating_add(connect_timeout).min(req.deadline);
                self.queue
                    .schedule_in(at - now, Event::DoomedEnd { request: id });
                return;
            }
        }
        match self.groups[group].shared_pool {
            Some(pool) => self.dispatch_shared(now, pool as usize, id),
            None => self.dispatch_balanced(now, group, id),
        }
    }

    fn dispatch_shared(&mut self, now: SimTime, pool: usize, id: u32) {
        let p = &mut self.pools[pool];
        p.routed += 1;
        if let Some(&instance) = p.with_free_slot.last() {
            let inst = &self.instances[instance as usize];
            if inst.busy + 1 == inst.slots {
                p.with_free_slot.pop();
            }
            self.start(now, instance, id);
        } else if has_room(p.shared.live(), p.queue_capacity) {
            self.enqueue(now, QueueId::Pool(pool as u32), id);
        } else {
            self.reject(now, id);
        }
    }

    fn dispatch_balanced(&mut self, now: SimTime, group: usize, id: u32) {
        let user = self.requests.get(id).user;
        let key = RequestKey {
            user,
            client_ip: self.population.client_ip(user),
        };
        let g = &mut self.groups[group];
        // A valid lb_cookie naming a target that may still be picked wins over the algorithm.
        let sticky = g
            .health
            .sticky
            .as_ref()
            .and_then(|s| s.target_for(user, now))
            .filter(|&t| g.balancer.is_eligible(t));
        let Some(target) = sticky.or_else(|| g.balancer.pick(key)) else {
            self.after_failure(now, id, Failure::NoHealthyTarget);
            self.requests.remove(id);
            return;
        };
        if let Some(s) = g.health.sticky.as_mut() {
            s.remember(user, target, now);
        }
        self.passive_picked(now, group, target);
        let g = &mut self.groups[group];
        let instance = g.members[target];
        let inst = &self.instances[instance as usize];
        let pool = &mut self.pools[inst.pool as usize];
        pool.routed += 1;
        let capacity = pool.queue_capacity;
        let req = self.requests.get_mut(id);
        req.target = target as u32;
        req.instance = instance;
        match inst.condition {
            Condition::Crashed | Condition::Broken => {
                // The balancer holds the try open until the connection times out or the error
                // reply comes back; the client's deadline may come first.
                g.balancer.dispatched(target);
                let (delay, why) = if inst.condition == Condition::Crashed {
                    let route = self.class_route[req.class as usize] as usize;
                    (self.routes[route].connect_timeout, Failure::ConnectFailed)
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
                g.balancer.dispatched(target);
                self.start(now, instance, id);
            }
            Condition::Up if has_room(inst.queue.live(), capacity) => {
                g.balancer.dispatched(target);
                self.enqueue(now, QueueId::Instance(instance), id);
            }
            Condition::Up => self.reject(now, id),
        }
    }

    /// Turns request `id` away: the queue it reached is full.
    fn reject(&mut self, now: SimTime, id: u32) {
        self.after_failure(now, id, Failure::Rejected);
        self.requests.remove(id);
    }

    /// Request `id` joins the back of `queue`, with a timer that will expire it on time.
    fn enqueue(&mut self, now: SimTime, queue: QueueId, id: u32) {
        let req = self.requests.get_mut(id);
        req.phase = Phase::Queued;
        let deadline = req.deadline;
        let q = match queue {
            QueueId::Pool(p) => &mut self.pools[p as usize].shared,
            QueueId::Instance(i) => &mut self.instances[i as usize].queue,
        };
        let in_order = q.push(id, deadline);
        self.recorder.enqueued();
        if deadline == SimTime::NEVER {
            return;
        }
        if !in_order {
            let generation = self.requests.generation(id);
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
    pub(super) fn start(&mut self, now: SimTime, instance: u32, id: u32) {
        let inst = &mut self.instances[instance as usize];
        inst.set_busy(now, inst.busy + 1);
        self.recorder.slot_taken();
        let types = self.scenario.instance_types.len();
        let itype = inst.itype as usize;
        if self.requests.get(id).output_tokens > 0
            && self.scenario.instance_types[itype].llm.is_some()
        {
            self.start_llm(now, instance, id);
            return;
        }
        let req = self.requests.get_mut(id);
        req.instance = instance;
        req.phase = Phase::Serving;
        let service =
            self.service[req.class as usize * types + inst.itype as usize].quantile(req.quantile);
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
        match self.on_timeout {
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

    pub(super) fn on_service_end(&mut self, now: SimTime, instance: u32, id: u32) {
        self.end_service(now, instance, id, None);
    }

    /// Request `id` is done on `instance` at `now`; `first_token` is when a token-based
    /// request's first token was out (for its time to first token and per output token).
    pub(super) fn end_service(
        &mut self,
        now: SimTime,
        instance: u32,
        id: u32,
        first_token: Option<SimTime>,
    ) {
        let req = *self.requests.get(id);
        match req.phase {
            // Its server died meanwhile: counted then, and the instance was reset.
            Phase::Killed => {
                self.requests.remove(id);
                return;
            }
            // Counted when its client gave up; the server has now finished the work.
            Phase::Abandoned => {}
            _ if req.cut_at_deadline => {
                self.release(&req, None);
                self.after_failure(now, id, Failure::TimedOut);
            }
            _ => {
                let pool = &mut self.pools[self.instances[instance as usize].pool as usize];
                if let Some(h) = &mut pool.latency {
                    h.record(now - req.sent);
                }
                self.release(&req, Some((now - req.sent, now)));
                self.passive_outcome(now, &req, AttemptResult::Answered);
                if req.is_retry {
                    let group = self.group_of(&req);
                    self.groups[group].retries_active -= 1;
                }
                if let Some(state) = &self.topology {
                    // The answer travels back to the client's place.
                    let rtt = state.rtt(req.user, req.region);
                    let group = self.group_of(&req);
                    let end = now.saturating_add(rtt);
                    if let Some(first) = first_token {
                        self.recorder.tokens_done(
                            req.class as usize,
                            req.arrival,
                            first.saturating_add(rtt),
                            end,
                            req.output_tokens,
                        );
                    }
                    self.topology_completed(
                        req.class as usize,
                        group,
                        instance,
                        req.arrival,
                        end - req.arrival,
                    );
                    self.recorder
                        .completed(req.class as usize, req.arrival, end);
                    self.user_ended(end, req.user, req.arrival, true);
                } else {
                    if let Some(first) = first_token {
                        self.recorder.tokens_done(
                            req.class as usize,
                            req.arrival,
                            first,
                            now,
                            req.output_tokens,
                        );
                    }
                    self.recorder
                        .completed(req.class as usize, req.arrival, now);
                    self.user_ended(now, req.user, req.arrival, true);
                }
            }
        }
        self.requests.remove(id);
        let inst = &mut self.instances[instance as usize];
        inst.set_busy(now, inst.busy - 1);
        self.recorder.slot_freed();
        self.serve_next(now, instance);
    }

    /// A slot of `instance` is free: start the next waiting request, if any. A draining
    /// instance serves what its own queue holds but takes nothing more from a shared queue, and
    /// leaves once it holds nothing.
    pub(super) fn serve_next(&mut self, now: SimTime, instance: u32) {
        let pool = self.instances[instance as usize].pool as usize;
        let shared = self.pools[pool].dispatch == crate::model::fleet::Dispatch::SharedQueue;
        let serving = self.instances[instance as usize].state == InstanceState::InService;
        if shared && !serving {
            self.check_drained(now, instance);
            return;
        }
        let queue = if shared {
            QueueId::Pool(pool as u32)
        } else {
            QueueId::Instance(instance)
        };
        loop {
            let Some(id) = self.pop_live(queue) else {
                // The slot stays free. An instance that was full becomes available again.
                let inst = &self.instances[instance as usize];
                if shared && inst.busy + 1 == inst.slots {
                    self.pools[pool].with_free_slot.push(instance);
                }
                if !serving {
                    self.check_drained(now, instance);
                }
                return;
            };
            if self.requests.get(id).deadline <= now {
                self.time_out_queued(now, id);
                continue;
            }
            self.start(now, instance, id);
            return;
        }
    }

    fn wait_queue(&mut self, queue: QueueId) -> &mut super::WaitQueue {
        match queue {
            QueueId::Pool(p) => &mut self.pools[p as usize].shared,
            QueueId::Instance(i) => &mut self.instances[i as usize].queue,
        }
    }

    /// Removes and returns the first live request of `queue`, freeing the tombstones before it.
    pub(super) fn pop_live(&mut self, queue: QueueId) -> Option<u32> {
        loop {
            let id = self.wait_queue(queue).front()?;
            let live = self.requests.get(id).phase != Phase::Expired;
            self.wait_queue(queue).pop_front(live);
            if live {
                self.recorder.dequeued();
                return Some(id);
            }
            self.requests.remove(id);
        }
    }

    /// Request `id`, just taken off its queue at or after its deadline, fails as timed out.
    pub(super) fn time_out_queued(&mut self, now: SimTime, id: u32) {
        let req = *self.requests.get(id);
        self.release(&req, None);
        self.after_failure(now, id, Failure::TimedOut);
        self.requests.remove(id);
    }

    pub(super) fn on_client_deadline(&mut self, now: SimTime, id: u32) {
        let req = self.requests.get_mut(id);
        if req.phase != Phase::Serving {
            // Its server died first; the failure is already counted.
            return;
        }
        req.phase = Phase::Abandoned;
        let req = *req;
        self.release(&req, None);
        self.after_failure(now, id, Failure::TimedOut);
    }

    /// The balancer that sent `req` to its target learns that the try ended; `response` is the
    /// round-trip time and end when the target answered. Shared-queue groups have no balancer.
    pub(super) fn release(
        &mut self,
        req: &super::Request,
        response: Option<(SimDuration, SimTime)>,
    ) {
        if req.target == u32::MAX {
            return;
        }
        let group = self.group_of(req);
        self.groups[group]
            .balancer
            .finished(req.target as usize, response);
    }

    pub(super) fn on_queue_timer(&mut self, now: SimTime, queue: QueueId) {
        let next_deadline = loop {
            let Some(id) = self.wait_queue(queue).front() else {
                break None;
            };
            let req = self.requests.get(id);
            if req.phase == Phase::Expired {
                self.wait_queue(queue).pop_front(false);
                self.requests.remove(id);
            } else if req.deadline <= now {
                self.wait_queue(queue).pop_front(true);
                self.recorder.dequeued();
                self.time_out_queued(now, id);
            } else {
                break Some(req.deadline).filter(|&d| d != SimTime::NEVER);
            }
        };
        let q = self.wait_queue(queue);
        q.timer_armed = next_deadline.is_some();
        if let Some(deadline) = next_deadline {
            self.queue
                .schedule_in(deadline - now, Event::QueueTimer { queue });
        }
        if let QueueId::Instance(i) = queue {
            self.check_drained(now, i);
        }
    }

    /// An out-of-order queued request may be due: if it still waits, it expires where it is.
    pub(super) fn on_request_deadline(&mut self, now: SimTime, id: u32, generation: u32) {
        if self.requests.generation(id) != generation {
            return;
        }
        let req = self.requests.get_mut(id);
        if req.phase != Phase::Queued || req.deadline > now {
            return;
        }
        req.phase = Phase::Expired;
        let req = *req;
        let queue = if req.instance == u32::MAX {
            QueueId::Pool(
                self.groups[self.group_of(&req)]
                    .shared_pool
                    .expect("queued in a pool"),
            )
        } else {
            QueueId::Instance(req.instance)
        };
        self.wait_queue(queue).expired_inside();
        self.recorder.dequeued();
        self.release(&req, None);
        self.after_failure(now, id, Failure::TimedOut);
        if let QueueId::Instance(i) = queue {
            self.check_drained(now, i);
        }
    }

    /// A try sent to a crashed or broken target fails (or its client's deadline came first).
    pub(super) fn on_doomed_end(&mut self, now: SimTime, id: u32) {
        let req = *self.requests.get(id);
        let why = if now >= req.deadline {
            Failure::TimedOut
        } else {
            req.doomed_by
        };
        // A broken server did answer (with an error): the balancer sees a response time.
        let response = (why == Failure::ServerError).then(|| (now - req.sent, now));
        self.release(&req, response);
        self.after_failure_by(now, id, why, req.doomed_cause);
        self.requests.remove(id);
    }
}
