//! Failures and retries: every failed try passes through [`Ctx::after_failure`], which lets the
//! balancer's passive checks learn of it, then sends it again (a balancer retry, or a client
//! retry after a backoff) or ends the request there with its reason, counted once.

use super::{Phase, Request};
use crate::metrics::{Failure, LossCause};
use crate::model::balancer::passive_health::AttemptResult;
use crate::model::retry::RetryCondition;
use crate::time::{SimDuration, SimTime};
use crate::world::fleet::Fleet;
use crate::world::ids::{GroupId, Id, RequestId};
use crate::world::{Ctx, Event};

/// How the balancer sees a try that failed for `why` (`None`: it has nothing to count).
fn seen_by_balancer(req: &Request, why: Failure) -> Option<AttemptResult> {
    match why {
        // The balancer's own read timeout fired (not the client's): nginx counts it.
        Failure::TimedOut if req.deadline < req.client_deadline => Some(AttemptResult::TimedOut),
        // The client gave up, or no target was tried: nothing for the balancer to count.
        Failure::TimedOut | Failure::NoHealthyTarget => None,
        // A full queue answers 503; a broken server 500.
        Failure::Rejected | Failure::ServerError => Some(AttemptResult::ServerError),
        // A try that never reached a balancer (its region was down) has none to tell.
        Failure::ConnectFailed | Failure::Interrupted if req.target.is_none() => None,
        Failure::ConnectFailed | Failure::Interrupted => Some(AttemptResult::Error),
    }
}

/// The retry condition a failure for `why` matches.
fn retry_condition(why: Failure) -> RetryCondition {
    match why {
        Failure::TimedOut => RetryCondition::Timeout,
        Failure::Rejected | Failure::NoHealthyTarget => RetryCondition::Http503,
        Failure::ServerError => RetryCondition::Http500,
        Failure::ConnectFailed | Failure::Interrupted => RetryCondition::Error,
    }
}

impl Fleet {
    /// True when `group`'s balancer sends the failed try of `req` to another pick: the failure
    /// is one it retries, tries remain (nginx `proxy_next_upstream_tries`; 0 is every target
    /// once), the client still waits, and the retry budget (Envoy) has room.
    fn balancer_retries(
        &self,
        now: SimTime,
        group: GroupId,
        req: &Request,
        condition: RetryCondition,
    ) -> bool {
        let g = &self.groups[group];
        let Some(policy) = g.retry.filter(|p| p.on.contains(condition)) else {
            return false;
        };
        let max_tries = match policy.attempts {
            0 => g.members.len() as u64,
            n => u64::from(n),
        };
        u64::from(req.tries) < max_tries
            && req.client_deadline > now
            && policy.budget.is_none_or(|b| {
                // Envoy's active requests: every try in flight, retries included (a retry is
                // counted by the balancer from its dispatch).
                b.allows(g.balancer.total_active(), g.retries_active)
            })
    }
}

impl Ctx<'_> {
    /// The try of `req` at its target ended with `result`: nginx's passive accounting.
    #[inline]
    pub(in crate::world) fn passive_outcome(
        &mut self,
        now: SimTime,
        req: &Request,
        result: AttemptResult,
    ) {
        // Checked first: the common fleet has no passive checks, and this runs for every try.
        if !self.fleet.any_passive {
            return;
        }
        let Some(target) = req.target else {
            return;
        };
        let group = self.requests.group_of(req, self.topology.as_ref());
        self.fleet.passive_outcome(
            &mut self.queue,
            &mut self.recorder,
            now,
            group,
            target,
            result,
        );
    }

    /// Request `id` ends failed for `why`: counted once, by the recorder (and by cause, per
    /// region, and for its closed-loop user). Reads the fields it needs from the entry, which
    /// stays the caller's.
    #[inline]
    fn final_failure(
        &mut self,
        now: SimTime,
        id: RequestId,
        why: Failure,
        cause: Option<LossCause>,
    ) {
        let req = self.requests.slab.get(id);
        self.recorder.failed(req.class.index(), why);
        if let Some(c) = cause {
            *self.requests.losses.requests.get_mut(c) += 1;
        }
        if let Some(t) = self.topology.as_mut() {
            let group = self.requests.group_of(req, Some(t));
            t.failed(now, group, cause == Some(LossCause::Outage));
        }
        if self.traffic.is_closed_loop() {
            // Its user learns of the failure now, and thinks before sending again.
            let (user, arrival) = (req.user, req.arrival);
            self.user_ended(now, user, arrival, false);
        }
    }

    /// A try of request `id` failed for `why` at `now`. The balancer's passive checks learn of
    /// it as nginx would; then the balancer may send it to another pick, or else its client may
    /// try again after a backoff (each as a new entry), or else the request ends here with that
    /// reason. The entry `id` is still the caller's, to free or keep (a tombstone) afterwards.
    #[inline]
    pub(in crate::world) fn after_failure(&mut self, now: SimTime, id: RequestId, why: Failure) {
        self.after_failure_by(now, id, why, None);
    }

    /// [`Ctx::after_failure`] for a try that failed because of `cause` (a fault of the fleet,
    /// counted in `lost_by_cause`).
    pub(in crate::world) fn after_failure_by(
        &mut self,
        now: SimTime,
        id: RequestId,
        why: Failure,
        cause: Option<LossCause>,
    ) {
        if self.requests.failures_are_final {
            // Nothing can act on it: copy nothing (in a spike most requests end here, and
            // copying an entry just written stalls the CPU on store forwarding).
            self.final_failure(now, id, why, cause);
            return;
        }
        let req = *self.requests.slab.get(id);
        let seen = seen_by_balancer(&req, why);
        if let Some(result) = seen {
            self.passive_outcome(now, &req, result);
        }
        let group = self.requests.group_of(&req, self.topology.as_ref());
        if req.is_retry {
            self.fleet.groups[group].retries_active -= 1;
        }
        let condition = retry_condition(why);
        // The flag first: most fleets have no balancer retries, and every failure passes here.
        if self.requests.any_balancer_retry
            && seen.is_some()
            && self.fleet.balancer_retries(now, group, &req, condition)
        {
            self.retry_at_balancer(now, group, req, cause);
        } else if let Some(wait) = self.client_backoff(&req, condition) {
            self.retry_at_client(req, wait, cause);
        } else {
            self.final_failure(now, id, why, cause);
        }
    }

    /// The balancer of `group` sends `req` to another pick now, as a new entry.
    fn retry_at_balancer(
        &mut self,
        now: SimTime,
        group: GroupId,
        req: Request,
        cause: Option<LossCause>,
    ) {
        let Some(id) = self.requests.slab.insert(Request {
            is_retry: true,
            target: None,
            instance: None,
            cut_at_deadline: false,
            ..req
        }) else {
            return self.requests_full();
        };
        self.fleet.groups[group].retries_active += 1;
        self.recorder.retried(false);
        if let Some(c) = cause {
            *self.requests.losses.retried_tries.get_mut(c) += 1;
        }
        self.send(now, id);
    }

    /// The client's wait before sending `req` again after a failure matching `condition`, if
    /// it retries it (its retry policy covers it and attempts remain); drawn from the retry
    /// stream.
    fn client_backoff(&mut self, req: &Request, condition: RetryCondition) -> Option<SimDuration> {
        let c = self
            .requests
            .client_retry
            .filter(|c| c.on.contains(condition) && u32::from(req.attempts) < c.attempts)?;
        let previous = SimDuration::from_nanos(req.last_backoff);
        Some(c.backoff.delay(
            u32::from(req.attempts),
            previous,
            &mut self.requests.retry_rng,
        ))
    }

    /// The client of `req` sends it again after `wait`, as a new entry.
    fn retry_at_client(&mut self, req: Request, wait: SimDuration, cause: Option<LossCause>) {
        let Some(id) = self.requests.slab.insert(Request {
            phase: Phase::Backoff,
            is_retry: false,
            target: None,
            instance: None,
            cut_at_deadline: false,
            last_backoff: wait.as_nanos(),
            ..req
        }) else {
            return self.requests_full();
        };
        self.recorder.retried(true);
        if let Some(c) = cause {
            *self.requests.losses.retried_tries.get_mut(c) += 1;
        }
        self.queue
            .schedule_in(wait, Event::ClientRetry { request: id });
    }

    /// A client sends request `id` again, as a new attempt with a new timeout.
    pub(in crate::world) fn on_client_retry(&mut self, now: SimTime, id: RequestId) {
        let client_deadline = self.requests.client_deadline(now);
        let timeout = self.requests.timeout;
        let req = self.requests.slab.get_mut(id);
        req.attempts += 1;
        req.tries = 0;
        req.client_deadline = client_deadline;
        if let Some(t) = self.topology.as_mut() {
            // The client asks its resolver again: its cached answer while the TTL lasts.
            (req.region, req.client_deadline) = t.arrive(timeout, now, req.user);
        }
        self.send(now, id);
    }
}
