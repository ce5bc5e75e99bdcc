//! Token-based requests on LLM instances: the world's side of
//! [`crate::model::fleet::llm_server`] (a token profile's batch, or an engine from physics).
//!
//! A token-based request that gets a slot on an instance type with an `llm` server joins the
//! instance's work instead of drawing a service time. The work says when its next prefill,
//! iteration or last token is due; one event per instance (`LlmNext`, stale unless its epoch
//! is the work's) stands for it and is scheduled again whenever the work changes. A finished
//! request ends through the same path as any service end; its slot then takes the next waiting
//! request, which joins. An engine refuses a request longer than its whole KV cache (vLLM
//! answers such a prompt with an error): it fails as rejected.
//!
//! Prefix caching: a trace with prompt block hashes (Mooncake's `hash_ids`, one per 512
//! tokens, the block size of the Mooncake traces' README, kvcache-ai/Mooncake
//! `FAST25-release/traces`) hands the engine one hash per block of its `block_size` tokens
//! ([`expand_block_hashes`]).

use super::serve::TokenTimes;
use super::{Phase, Request};
use crate::metrics::Failure;
use crate::model::fleet::llm_server::{LlmServer, LlmWork};
use crate::model::fleet::OnTimeout;
use crate::model::llm::kv::expand_block_hashes;
use crate::scenario::Scenario;
use crate::time::SimTime;
use crate::world::fleet::Instance;
use crate::world::ids::{Id, InstanceId, RequestId};
use crate::world::{Ctx, Event};

/// The LLM server of `inst`'s type, if it has one.
fn server<'s>(scenario: &'s Scenario, inst: &Instance) -> Option<&'s LlmServer> {
    scenario.instance_types[inst.itype.index()].llm.as_ref()
}

/// Tokens per block of the Mooncake traces' `hash_ids`.
const TRACE_BLOCK_TOKENS: u32 = 512;

impl Ctx<'_> {
    /// Request `id` (already counted on a slot of `instance`) joins its batch.
    pub(in crate::world) fn start_llm(
        &mut self,
        now: SimTime,
        instance: InstanceId,
        id: RequestId,
    ) {
        let scenario = self.scenario;
        let inst = &mut self.fleet.instances[instance];
        let Some(server) = server(scenario, inst) else {
            return; // `start` sends only token-based requests on LLM types here
        };
        let record = self.requests.hashed_record(id);
        let req = self.requests.slab.get_mut(id);
        req.instance = Some(instance);
        req.phase = Phase::Serving;
        let hashes = &mut self.requests.hash_scratch;
        hashes.clear();
        if let (LlmServer::Engine(spec), Some(record), Some(trace)) =
            (server, record, &scenario.trace)
        {
            expand_block_hashes(
                trace.data.hashes(record.index()),
                TRACE_BLOCK_TOKENS,
                spec.config.block_size,
                req.input_tokens,
                hashes,
            );
        }
        let work = inst
            .llm
            .get_or_insert_with(|| Box::new(LlmWork::new(server)));
        let tokens = (req.input_tokens, req.output_tokens);
        if work.admit(now, server, id.raw(), tokens, hashes).is_err() {
            // Longer than the engine's whole KV cache: refused at once.
            let req = *req;
            self.fail_off_slot(now, instance, (id, &req), Failure::Rejected);
            self.serve_next(now, instance);
            return;
        }
        let req = self.requests.slab.get(id);
        if req.deadline != SimTime::NEVER {
            let at = req.deadline.max(now);
            let generation = self.requests.slab.generation(id);
            self.queue.schedule_in(
                at - now,
                Event::LlmDeadline {
                    request: id,
                    generation,
                },
            );
        }
        self.schedule_llm(now, instance);
    }

    /// Schedules `instance`'s LLM event for its work's next change.
    fn schedule_llm(&mut self, now: SimTime, instance: InstanceId) {
        let inst = &self.fleet.instances[instance];
        let (Some(work), Some(server)) = (inst.llm.as_deref(), server(self.scenario, inst)) else {
            return;
        };
        if let Some(at) = work.next_event(server) {
            let epoch = work.epoch();
            self.queue
                .schedule_in(at.max(now) - now, Event::LlmNext { instance, epoch });
        }
    }

    /// The epoch of `instance`'s LLM work if it has a change due at `now`.
    fn due_llm_epoch(&self, now: SimTime, instance: InstanceId) -> Option<u32> {
        let inst = self.fleet.instances.get(instance)?;
        let work = inst.llm.as_deref()?;
        work.next_event(server(self.scenario, inst)?)
            .filter(|&at| at <= now)
            .map(|_| work.epoch())
    }

    /// `instance`'s batch reaches its next prefill end or last token.
    pub(in crate::world) fn on_llm_next(&mut self, now: SimTime, instance: InstanceId, epoch: u32) {
        let scenario = self.scenario;
        let inst = &mut self.fleet.instances[instance];
        let Some(server) = server(scenario, inst) else {
            return;
        };
        let Some(work) = inst.llm.as_deref_mut().filter(|w| w.epoch() == epoch) else {
            return;
        };
        let mut done = std::mem::take(&mut self.requests.llm_done);
        work.advance(now, server, &mut done);
        // Scheduled first: a finished request's slot may admit another, which reschedules.
        self.schedule_llm(now, instance);
        for f in done.drain(..) {
            let id = RequestId::from_raw(f.id);
            debug_assert!(
                matches!(
                    self.requests.slab.get(id).phase,
                    Phase::Serving | Phase::Abandoned
                ),
                "request {id:?} finished in phase {:?} at {now:?}",
                self.requests.slab.get(id).phase
            );
            let times = TokenTimes {
                first_token: f.first_token,
                scheduled: f.scheduled,
            };
            self.end_service(now, instance, id, Some(times));
        }
        self.requests.llm_done = done;
    }

    /// The deadline of request `id` passes while it is in a batch: its client gives up. The
    /// server keeps generating for it (`keep_serving`), or drops it from the batch (`cancel`).
    pub(in crate::world) fn on_llm_deadline(
        &mut self,
        now: SimTime,
        id: RequestId,
        generation: u32,
    ) {
        if self.requests.slab.generation(id) != generation {
            return;
        }
        // A request whose last token is due now as well completes (as a service end at its
        // deadline does): the batch's due work is done first.
        let Some(instance) = self.requests.slab.get(id).instance else {
            return;
        };
        if let Some(due) = self.due_llm_epoch(now, instance) {
            self.on_llm_next(now, instance, due);
        }
        let req = *self.requests.slab.get(id);
        // A freed entry keeps its generation until reused: the batch says if it is still in.
        let in_batch = req.phase == Phase::Serving
            && req.instance.is_some_and(|i| {
                self.fleet.instances[i]
                    .llm
                    .as_deref()
                    .is_some_and(|w| w.contains(id.raw()))
            });
        let Some(instance) = req.instance.filter(|_| in_batch) else {
            // Finished, killed, or already abandoned.
            return;
        };
        match self.requests.on_timeout {
            OnTimeout::KeepServing => self.on_client_deadline(now, id),
            OnTimeout::Cancel => {
                let inst = &mut self.fleet.instances[instance];
                if let (Some(server), Some(work)) =
                    (server(self.scenario, inst), inst.llm.as_deref_mut())
                {
                    work.remove(now, server, id.raw());
                }
                self.fail_off_slot(now, instance, (id, &req), Failure::TimedOut);
                self.schedule_llm(now, instance);
                self.serve_next(now, instance);
            }
        }
    }

    /// Request `id` (`req`, counted on a slot of `instance`, not in its LLM work) fails for
    /// `why` and its slot is freed; the caller then serves the next waiting request.
    fn fail_off_slot(
        &mut self,
        now: SimTime,
        instance: InstanceId,
        (id, req): (RequestId, &Request),
        why: Failure,
    ) {
        self.release(req, None);
        self.after_failure(now, id, why);
        self.requests.slab.remove(id);
        let inst = &mut self.fleet.instances[instance];
        inst.set_busy(now, inst.busy - 1);
        self.recorder.slot_freed();
    }

    /// `instance` died: its batch's requests (already counted as failed, now `Killed`) are
    /// freed, and its batch emptied.
    pub(in crate::world) fn clear_llm(&mut self, instance: InstanceId) {
        let Some(work) = self.fleet.instances[instance].llm.as_deref_mut() else {
            return;
        };
        let mut ids = Vec::new();
        work.clear(&mut ids);
        for id in ids {
            let id = RequestId::from_raw(id);
            debug_assert_eq!(self.requests.slab.get(id).phase, Phase::Killed);
            self.requests.slab.remove(id);
        }
    }
}
