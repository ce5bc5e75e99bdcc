//! Service and waiting: a try's service ends, a slot takes the next waiting request, queue
//! timers expire what waited too long, a client gives up, a doomed try fails, and a server
//! that dies or leaves loses what it holds.

use super::{Phase, Request};
use crate::metrics::{Failure, LossCause};
use crate::model::balancer::passive_health::AttemptResult;
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::Dispatch;
use crate::time::{SimDuration, SimTime};
use crate::world::fleet::QueueId;
use crate::world::ids::{Id, InstanceId, RequestId};
use crate::world::{Ctx, Event};

/// When a token-based request's first token was out, and when an engine first scheduled it
/// (`None` for a token profile).
#[derive(Debug, Clone, Copy)]
pub(in crate::world) struct TokenTimes {
    /// Its first token was out.
    pub first_token: SimTime,
    /// An engine first scheduled it.
    pub scheduled: Option<SimTime>,
}

impl Ctx<'_> {
    /// `instance` finishes the work of request `id`.
    pub(in crate::world) fn on_service_end(
        &mut self,
        now: SimTime,
        instance: InstanceId,
        id: RequestId,
    ) {
        self.end_service(now, instance, id, None);
    }

    /// Request `id` is done on `instance` at `now`; `first_token` is when a token-based
    /// request's first token was out (for its time to first token and per output token), and
    /// when an engine first scheduled it (for its queueing delay).
    pub(in crate::world) fn end_service(
        &mut self,
        now: SimTime,
        instance: InstanceId,
        id: RequestId,
        first_token: Option<TokenTimes>,
    ) {
        let req = *self.requests.slab.get(id);
        match req.phase {
            // Its server died meanwhile: counted then, and the instance was reset.
            Phase::Killed => {
                self.requests.slab.remove(id);
                return;
            }
            // Counted when its client gave up; the server has now finished the work.
            Phase::Abandoned => {}
            _ if req.cut_at_deadline => {
                self.release(&req, None);
                self.after_failure(now, id, Failure::TimedOut);
            }
            _ => self.completed(now, instance, &req, first_token),
        }
        self.requests.slab.remove(id);
        let inst = &mut self.fleet.instances[instance];
        inst.set_busy(now, inst.busy - 1);
        self.recorder.slot_freed();
        self.serve_next(now, instance);
    }

    /// `req`'s try on `instance` was answered at `now`: the balancer, the pool's latency
    /// metric and the recorder learn of it; with regions, the answer travels back to the
    /// client's place first.
    #[inline]
    fn completed(
        &mut self,
        now: SimTime,
        instance: InstanceId,
        req: &Request,
        first_token: Option<TokenTimes>,
    ) {
        let pool = &mut self.fleet.pools[self.fleet.instances[instance].pool];
        if let Some(h) = &mut pool.latency {
            h.record(now - req.sent);
        }
        self.release(req, Some((now - req.sent, now)));
        self.passive_outcome(now, req, AttemptResult::Answered);
        if req.is_retry {
            let group = self.requests.group_of(req, self.topology.as_ref());
            self.fleet.groups[group].retries_active -= 1;
        }
        let class = req.class.index();
        let mut end = now;
        if let Some(t) = self.topology.as_mut() {
            // The answer travels back to the client's place.
            let rtt = t.rtt(req.user, req.region);
            let group = self.requests.group_of(req, Some(t));
            end = now.saturating_add(rtt);
            if let Some(first) = first_token {
                self.recorder.tokens_done(
                    class,
                    req.arrival,
                    first.scheduled,
                    first.first_token.saturating_add(rtt),
                    end,
                    req.output_tokens,
                );
            }
            let pool = self.fleet.instances[instance].pool;
            t.completed(
                &mut self.recorder,
                now,
                class,
                group,
                pool,
                req.arrival,
                end - req.arrival,
            );
        } else if let Some(first) = first_token {
            self.recorder.tokens_done(
                class,
                req.arrival,
                first.scheduled,
                first.first_token,
                now,
                req.output_tokens,
            );
        }
        self.recorder.completed(class, req.arrival, end);
        self.user_ended(end, req.user, req.arrival, true);
    }

    /// A slot of `instance` is free: start the next waiting request, if any. A draining
    /// instance serves what its own queue holds but takes nothing more from a shared queue, and
    /// leaves once it holds nothing.
    pub(in crate::world) fn serve_next(&mut self, now: SimTime, instance: InstanceId) {
        let pool = self.fleet.instances[instance].pool;
        let shared = self.fleet.pools[pool].dispatch == Dispatch::SharedQueue;
        let serving = self.fleet.instances[instance].state == InstanceState::InService;
        if shared && !serving {
            self.check_drained(now, instance);
            return;
        }
        let queue = if shared {
            QueueId::Pool(pool)
        } else {
            QueueId::Instance(instance)
        };
        loop {
            let Some(id) = self.pop_live(queue) else {
                // The slot stays free. An instance that was full becomes available again.
                let inst = &self.fleet.instances[instance];
                if shared && inst.busy + 1 == inst.slots {
                    self.fleet.pools[pool].with_free_slot.push(instance);
                }
                if !serving {
                    self.check_drained(now, instance);
                }
                return;
            };
            if self.requests.slab.get(id).deadline <= now {
                self.time_out_queued(now, id);
                continue;
            }
            self.start(now, instance, id);
            return;
        }
    }

    /// A shared-queue worker with free slots takes waiting work, and is listed as having free
    /// slots if some remain.
    pub(in crate::world) fn pull_shared(&mut self, now: SimTime, id: InstanceId) {
        let pool = self.fleet.instances[id].pool;
        while self.fleet.instances[id].busy < self.fleet.instances[id].slots {
            let Some(next) = self.pop_live(QueueId::Pool(pool)) else {
                break;
            };
            if self.requests.slab.get(next).deadline <= now {
                self.time_out_queued(now, next);
            } else {
                self.start(now, id, next);
            }
        }
        let inst = &self.fleet.instances[id];
        if inst.busy < inst.slots {
            self.fleet.pools[pool].with_free_slot.push(id);
        }
    }

    /// Removes and returns the first live request of `queue`, freeing the tombstones before it.
    #[inline]
    fn pop_live(&mut self, queue: QueueId) -> Option<RequestId> {
        loop {
            let id = self.fleet.wait_queue(queue).front()?;
            let live = self.requests.slab.get(id).phase != Phase::Expired;
            self.fleet.wait_queue(queue).pop_front(live);
            if live {
                self.recorder.dequeued();
                return Some(id);
            }
            self.requests.slab.remove(id);
        }
    }

    /// Request `id`, just taken off its queue at or after its deadline, fails as timed out.
    fn time_out_queued(&mut self, now: SimTime, id: RequestId) {
        let req = *self.requests.slab.get(id);
        self.release(&req, None);
        self.after_failure(now, id, Failure::TimedOut);
        self.requests.slab.remove(id);
    }

    /// The client of request `id`, being served, gives up (the server keeps working).
    pub(in crate::world) fn on_client_deadline(&mut self, now: SimTime, id: RequestId) {
        let req = self.requests.slab.get_mut(id);
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
    pub(in crate::world) fn release(
        &mut self,
        req: &Request,
        response: Option<(SimDuration, SimTime)>,
    ) {
        let Some(target) = req.target else {
            return;
        };
        let group = self.requests.group_of(req, self.topology.as_ref());
        self.fleet.groups[group]
            .balancer
            .finished(target.index(), response);
    }

    /// The head of `queue` may have passed its deadline: expire every due head, then arm the
    /// timer for the next.
    pub(in crate::world) fn on_queue_timer(&mut self, now: SimTime, queue: QueueId) {
        let next_deadline = loop {
            let Some(id) = self.fleet.wait_queue(queue).front() else {
                break None;
            };
            let req = self.requests.slab.get(id);
            if req.phase == Phase::Expired {
                self.fleet.wait_queue(queue).pop_front(false);
                self.requests.slab.remove(id);
            } else if req.deadline <= now {
                self.fleet.wait_queue(queue).pop_front(true);
                self.recorder.dequeued();
                self.time_out_queued(now, id);
            } else {
                break Some(req.deadline).filter(|&d| d != SimTime::NEVER);
            }
        };
        let q = self.fleet.wait_queue(queue);
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
    pub(in crate::world) fn on_request_deadline(
        &mut self,
        now: SimTime,
        id: RequestId,
        generation: u32,
    ) {
        if self.requests.slab.generation(id) != generation {
            return;
        }
        let req = self.requests.slab.get_mut(id);
        if req.phase != Phase::Queued || req.deadline > now {
            return;
        }
        req.phase = Phase::Expired;
        let req = *req;
        let queue = match req.instance {
            Some(i) => QueueId::Instance(i),
            None => {
                let group = self.requests.group_of(&req, self.topology.as_ref());
                let Some(pool) = self.fleet.groups[group].shared_pool else {
                    return; // queued without an instance: only in a pool's shared queue
                };
                QueueId::Pool(pool)
            }
        };
        self.fleet.wait_queue(queue).expired_inside();
        self.recorder.dequeued();
        self.release(&req, None);
        self.after_failure(now, id, Failure::TimedOut);
        if let QueueId::Instance(i) = queue {
            self.check_drained(now, i);
        }
    }

    /// A try sent to a crashed or broken target fails (or its client's deadline came first).
    pub(in crate::world) fn on_doomed_end(&mut self, now: SimTime, id: RequestId) {
        let req = *self.requests.slab.get(id);
        let why = if now >= req.deadline {
            Failure::TimedOut
        } else {
            req.doomed_by
        };
        // A broken server did answer (with an error): the balancer sees a response time.
        let response = (why == Failure::ServerError).then(|| (now - req.sent, now));
        self.release(&req, response);
        self.after_failure_by(now, id, why, req.doomed_cause);
        self.requests.slab.remove(id);
    }

    /// Everything `instance` holds fails for `why`, because of `cause`: its queue, and the work
    /// on its slots (whose pending service ends will find them killed). The instance is left
    /// idle. Returns the number of requests that failed.
    pub(in crate::world) fn drop_work(
        &mut self,
        now: SimTime,
        instance: InstanceId,
        why: Failure,
        cause: LossCause,
    ) -> u64 {
        let mut failed = 0;
        for id in self.fleet.instances[instance].queue.drain() {
            let req = *self.requests.slab.get(id);
            if req.phase != Phase::Expired {
                self.recorder.dequeued();
                self.release(&req, None);
                self.after_failure_by(now, id, why, Some(cause));
                failed += 1;
            }
            self.requests.slab.remove(id);
        }
        for id in self.requests.slab.held_by(instance, Phase::Serving) {
            failed += 1;
            let req = self.requests.slab.get_mut(id);
            req.phase = Phase::Killed;
            let req = *req;
            self.release(&req, None);
            self.after_failure_by(now, id, why, Some(cause));
        }
        for id in self.requests.slab.held_by(instance, Phase::Abandoned) {
            self.requests.slab.get_mut(id).phase = Phase::Killed;
        }
        // An LLM batch has no pending service end per request: its entries go now.
        self.clear_llm(instance);
        let inst = &mut self.fleet.instances[instance];
        for _ in 0..inst.busy {
            self.recorder.slot_freed();
        }
        inst.set_busy(now, 0);
        failed
    }
}
